//! Cost of the embedding model: load time, time per document, peak memory,
//! and the vector cache's write/read. Texts: the real PFD concerns
//! (../shared/data/pfd/judiciary-reports.csv) when present, else the demo
//! records.
//!
//! Usage (release): cargo run --release -p concord-embed --features embeddings
//!   --example embed_bench -- [DOCS] [demo]   (default 300; `demo`: the
//!   demo records even when the PFD data is there)

use std::time::Instant;

use concord_embed::cache::{VectorCache, refresh};
use concord_embed::{Embedder, model_dir, record_text};

fn peak_rss_mib() -> u64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("VmHWM:"))
                .and_then(|l| l.split_whitespace().nth(1))
                .and_then(|k| k.parse::<u64>().ok())
        })
        .map(|k| k / 1024)
        .unwrap_or(0)
}

fn texts(root: &std::path::Path, demo_only: bool) -> (String, Vec<(String, String)>) {
    let csv_path = root.join("../shared/data/pfd/judiciary-reports.csv");
    if let Some(bytes) = std::fs::read(&csv_path).ok().filter(|_| !demo_only) {
        let mut rdr = csv::Reader::from_reader(&bytes[..]);
        let headers = rdr.headers().unwrap().clone();
        let c = headers.iter().position(|h| h == "concerns").unwrap();
        let r = headers.iter().position(|h| h == "ref").unwrap();
        let rows = rdr
            .records()
            .enumerate()
            .filter_map(|(i, rec)| {
                let rec = rec.ok()?;
                let t = rec[c].trim().to_string();
                (!t.is_empty()).then(|| (format!("{}#{i}", &rec[r]), t))
            })
            .collect();
        return ("real PFD concerns".into(), rows);
    }
    let demo: Vec<serde_json::Value> = serde_json::from_str(
        &std::fs::read_to_string(root.join("crates/app/demo/recommendations.json")).unwrap(),
    )
    .unwrap();
    let rows = demo
        .iter()
        .map(|r| {
            (
                r["id"].as_str().unwrap().to_string(),
                record_text(
                    r["title"].as_str().unwrap_or(""),
                    r["text"].as_str().unwrap_or(""),
                ),
            )
        })
        .collect();
    ("demo records".into(), rows)
}

fn main() {
    let n: usize = std::env::args()
        .nth(1)
        .and_then(|s| s.parse().ok())
        .unwrap_or(300);
    let root = std::path::PathBuf::from(concat!(env!("CARGO_MANIFEST_DIR"), "/../.."));
    let dir = std::env::var_os(concord_embed::MODEL_DIR_ENV)
        .map(std::path::PathBuf::from)
        .unwrap_or_else(|| root.join(model_dir(None)));
    let rss0 = peak_rss_mib();
    let t = Instant::now();
    let e = Embedder::load(&dir).unwrap_or_else(|e| panic!("{e}"));
    let load = t.elapsed();
    let rss_loaded = peak_rss_mib();
    let demo_only = std::env::args().nth(2).as_deref() == Some("demo");
    let (what, mut rows) = texts(&root, demo_only);
    rows.truncate(n);
    let bytes: usize = rows.iter().map(|r| r.1.len()).sum();
    // One warm-up call (first-call allocations).
    e.embed("warm up").unwrap();
    let mut times = Vec::with_capacity(rows.len());
    let mut cache = VectorCache::new();
    let t_all = Instant::now();
    let mut last = Instant::now();
    refresh(
        &mut cache,
        &e,
        rows.iter().map(|(i, t)| (i.as_str(), t.as_str())),
        true,
        |_, _| {
            times.push(last.elapsed().as_secs_f64() * 1000.0);
            last = Instant::now();
            true
        },
    )
    .unwrap();
    let total = t_all.elapsed();
    times.sort_by(f64::total_cmp);
    let pct = |p: f64| times[((times.len() as f64 - 1.0) * p).round() as usize];
    let path = std::env::temp_dir().join(format!("embed-bench-{}.vectors", std::process::id()));
    let t = Instant::now();
    cache.save(&path).unwrap();
    let save = t.elapsed();
    let t = Instant::now();
    let back = VectorCache::load(&path);
    let read = t.elapsed();
    let size = std::fs::metadata(&path).map(|m| m.len()).unwrap_or(0);
    std::fs::remove_file(&path).ok();
    assert_eq!(back.len(), cache.len());
    let again = refresh(
        &mut cache,
        &e,
        rows.iter().map(|(i, t)| (i.as_str(), t.as_str())),
        true,
        |_, _| true,
    )
    .unwrap();
    println!(
        "model load: {:.0} ms (peak RSS {rss0} -> {rss_loaded} MiB)",
        load.as_secs_f64() * 1000.0
    );
    println!(
        "{} {what} ({} KiB of text, mean {} bytes): {:.1} s, mean {:.1} ms/doc, p50 {:.1} ms, p99 {:.1} ms, max {:.1} ms",
        times.len(),
        bytes / 1024,
        bytes / rows.len().max(1),
        total.as_secs_f64(),
        total.as_secs_f64() * 1000.0 / times.len().max(1) as f64,
        pct(0.5),
        pct(0.99),
        pct(1.0)
    );
    println!(
        "cache: {} vectors, {} KiB, save {:.1} ms, read {:.1} ms; second refresh computed {again}",
        cache.len(),
        size / 1024,
        save.as_secs_f64() * 1000.0,
        read.as_secs_f64() * 1000.0
    );
    println!("peak RSS: {} MiB", peak_rss_mib());
}
