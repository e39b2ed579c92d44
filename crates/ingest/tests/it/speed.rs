//! Rough speed figures, ignored by default (they mean something only in a
//! release build):
//!
//! `cargo test --release -p concord-ingest --test it -- speed:: --ignored --nocapture`

use std::io::{BufWriter, Write};
use std::time::Instant;

use concord_ingest::{JsonLinesWriter, Vocabulary, generate};

#[test]
#[ignore]
fn generator_writes_100k_records_quickly() {
    let vocab = Vocabulary::built_in();
    let t = Instant::now();
    let mut out = BufWriter::new(CountingSink::default());
    let mut w = JsonLinesWriter::begin(&mut out);
    for rec in generate(100_000, 1, &vocab) {
        w.write(&rec).unwrap();
    }
    w.end().unwrap();
    out.flush().unwrap();
    let bytes = out.get_ref().0;
    let took = t.elapsed();
    println!(
        "generated and wrote 100,000 records as JSON lines ({} MB) in {took:?}",
        bytes / 1_000_000
    );
    assert!(took.as_secs() < 30, "{took:?}");
}

#[derive(Default)]
struct CountingSink(usize);

impl Write for CountingSink {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0 += buf.len();
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

#[test]
#[ignore]
fn generator_with_a_pfd_vocabulary() {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../../shared/data/pfd/judiciary-reports.csv");
    if !path.exists() {
        println!("real-data speed test did not run: ../shared/data not found");
        return;
    }
    let t = Instant::now();
    let vocab = Vocabulary::from_pfd_csv(&path).unwrap();
    println!("PFD vocabulary built in {:?}", t.elapsed());
    let t = Instant::now();
    let mut out = BufWriter::new(CountingSink::default());
    let mut w = JsonLinesWriter::begin(&mut out);
    for rec in generate(100_000, 1, &vocab) {
        w.write(&rec).unwrap();
    }
    w.end().unwrap();
    out.flush().unwrap();
    println!(
        "generated and wrote 100,000 records from the PFD vocabulary ({} MB) in {:?}",
        out.get_ref().0 / 1_000_000,
        t.elapsed()
    );
}
