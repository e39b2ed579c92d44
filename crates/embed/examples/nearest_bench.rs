//! What the vector candidate stage costs as the register grows, and what
//! the sketch's shortlist gives up: `VectorCache::nearest` (the sketch
//! from `SKETCH_FROM` passages) against the exact scan, both in one run,
//! with the recall of the 40 nearest records. No model needed.
//!
//!     cargo run --release -p concord-embed --example nearest_bench -- \
//!         [--records N] [--per P] [--queries Q] [--vectors FILE] [--query-vectors FILE]
//!
//! Without `--vectors`: N records of P random unit vectors each (the
//! scan's cost does not depend on what the vectors mean; random vectors
//! are the sketch's worst case: no structure to find). With `--vectors` (a
//! `concord.vectors` file of real passages): the real records, then, up to
//! N, copies of them with noise (cosine about 0.7-0.9 to their original),
//! so the register has the real vectors' shape at any size. Queries are
//! the vectors of `--query-vectors` (JSON lines `{"v": [...]}`, as the
//! `embed_lines` example writes) or, without it, random unit vectors.

use std::time::Instant;

use concord_embed::DIM;
use concord_embed::cache::{SKETCH_FROM, VectorCache};

struct Rng(u64);

impl Rng {
    /// Uniform in [-0.5, 0.5) (xorshift: no dependency).
    fn next(&mut self) -> f32 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        (self.0 >> 40) as f32 / (1u64 << 24) as f32 - 0.5
    }
    fn unit(&mut self, k: usize) -> Vec<f32> {
        let mut v: Vec<f32> = (0..k * DIM).map(|_| self.next()).collect();
        normalise(&mut v);
        v
    }
}

fn normalise(v: &mut [f32]) {
    for c in v.chunks_mut(DIM) {
        let norm = c.iter().map(|x| x * x).sum::<f32>().sqrt();
        c.iter_mut().for_each(|x| *x /= norm);
    }
}

fn arg<T: std::str::FromStr>(args: &[String], name: &str) -> Option<T> {
    args.iter()
        .position(|a| a == name)
        .and_then(|i| args.get(i + 1))
        .map(|v| {
            v.parse().unwrap_or_else(|_| {
                eprintln!("{name}: cannot read {v:?}");
                std::process::exit(2);
            })
        })
}

fn pct(v: &mut [f64], p: f64) -> f64 {
    v.sort_by(f64::total_cmp);
    v[((p / 100.0) * (v.len() - 1) as f64).round() as usize]
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let n: usize = arg(&args, "--records").unwrap_or(1_000_000);
    let per: f64 = arg(&args, "--per").unwrap_or(1.5);
    let queries: usize = arg(&args, "--queries").unwrap_or(30);
    let real: Option<String> = arg(&args, "--vectors");
    let query_file: Option<String> = arg(&args, "--query-vectors");
    let mut rng = Rng(0x9e37_79b9_7f4a_7c15);

    let t = Instant::now();
    let mut cache = VectorCache::new();
    if let Some(path) = &real {
        let base = VectorCache::load(std::path::Path::new(path));
        if base.is_empty() {
            eprintln!("{path}: no vectors (missing, damaged or another model)");
            std::process::exit(2);
        }
        let originals: Vec<(String, Vec<f32>)> = base
            .iter()
            .map(|(i, v)| (i.to_string(), v.to_vec()))
            .collect();
        for (id, v) in &originals {
            cache.insert(id, 0, v.clone());
        }
        let mut copy = 0usize;
        while cache.len() < n {
            let (id, v) = &originals[copy % originals.len()];
            // Noise of norm s on a unit vector: cosine 1/sqrt(1+s^2).
            let s = 0.5 + 0.7 * (rng.next() + 0.5);
            let mut w: Vec<f32> = v.iter().map(|x| x + s * rng.next() * 0.177).collect();
            normalise(&mut w);
            cache.insert(&format!("{id}~{copy}"), 0, w);
            copy += 1;
        }
    } else {
        for i in 0..n {
            // P vectors a record on average, spread evenly (1.5: every
            // other record has two).
            let extra = ((i + 1) as f64 * (per - 1.0)).floor() - (i as f64 * (per - 1.0)).floor();
            let v = rng.unit(1 + extra as usize);
            cache.insert(&format!("PFD-{i:07}"), i as u64, v);
        }
    }
    println!(
        "{} records, {} vectors ({:.0} MiB of floats), built in {:.1} s; sketch used: {}",
        cache.len(),
        cache.passages(),
        (cache.passages() * DIM * 4) as f64 / (1 << 20) as f64,
        t.elapsed().as_secs_f64(),
        cache.passages() >= SKETCH_FROM
    );

    let query_vectors: Vec<Vec<f32>> = match &query_file {
        Some(path) => std::fs::read_to_string(path)
            .unwrap_or_else(|e| {
                eprintln!("{path}: {e}");
                std::process::exit(2);
            })
            .lines()
            .filter(|l| !l.trim().is_empty())
            .take(queries)
            .map(|l| {
                let v: serde_json::Value = serde_json::from_str(l).expect("a JSON line");
                v["v"]
                    .as_array()
                    .expect("a vector")
                    .iter()
                    .map(|x| x.as_f64().expect("a number") as f32)
                    .collect()
            })
            .collect(),
        None => (0..queries).map(|_| rng.unit(1)).collect(),
    };

    let (mut sketch_ms, mut exact_ms, mut best_ms) = (Vec::new(), Vec::new(), Vec::new());
    let (mut recall40, mut recall10, mut first) = (0.0, 0.0, 0usize);
    for (q, qv) in query_vectors.iter().enumerate() {
        let t = Instant::now();
        let got = cache.nearest(qv, 40);
        sketch_ms.push(t.elapsed().as_secs_f64() * 1000.0);
        let t = Instant::now();
        let exact = cache.nearest_exact(qv, 40);
        exact_ms.push(t.elapsed().as_secs_f64() * 1000.0);
        let found = |k: usize| {
            exact[..k.min(exact.len())]
                .iter()
                .filter(|(id, _)| got.iter().any(|(g, _)| g == id))
                .count() as f64
                / k.min(exact.len()).max(1) as f64
        };
        recall40 += found(40);
        recall10 += found(10);
        if got.first().map(|g| &g.0) == exact.first().map(|e| &e.0) {
            first += 1;
        }
        let t = Instant::now();
        let ids: Vec<&str> = exact.iter().map(|(i, _)| i.as_str()).collect();
        let s: f32 = (0..50)
            .filter_map(|h| cache.best(ids[(h * 7 + q) % ids.len()], qv))
            .sum();
        best_ms.push(t.elapsed().as_secs_f64() * 1000.0);
        std::hint::black_box(s);
    }
    let nq = query_vectors.len() as f64;
    println!(
        "nearest 40, as served: p50 {:.1} ms, p99 {:.1} ms | exact scan: p50 {:.1} ms, p99 {:.1} ms",
        pct(&mut sketch_ms, 50.0),
        pct(&mut sketch_ms, 99.0),
        pct(&mut exact_ms, 50.0),
        pct(&mut exact_ms, 99.0)
    );
    println!(
        "recall against the exact scan over {} queries: top-40 {:.1}%, top-10 {:.1}%, same first {:.1}%",
        query_vectors.len(),
        100.0 * recall40 / nq,
        100.0 * recall10 / nq,
        100.0 * first as f64 / nq
    );
    println!(
        "closeness of 50 hits (the search fusion): p50 {:.3} ms, p99 {:.3} ms",
        pct(&mut best_ms, 50.0),
        pct(&mut best_ms, 99.0)
    );
}
