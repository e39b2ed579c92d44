//! What the vector candidate stage costs as the register grows: the
//! brute-force `VectorCache::nearest` (and `best` for 50 search hits) over
//! N records of P passage vectors each, random unit vectors (the scan's
//! cost does not depend on what the vectors mean). No model needed.
//!
//!     cargo run --release -p concord-embed --example nearest_bench -- [N=1000000] [P=1.5] [QUERIES=30]

use std::time::Instant;

use concord_embed::DIM;
use concord_embed::cache::VectorCache;

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let n: usize = args
        .get(1)
        .and_then(|a| a.parse().ok())
        .unwrap_or(1_000_000);
    let per: f64 = args.get(2).and_then(|a| a.parse().ok()).unwrap_or(1.5);
    let queries: usize = args.get(3).and_then(|a| a.parse().ok()).unwrap_or(30);
    // A small deterministic generator (xorshift): no dependency.
    let mut state = 0x9e37_79b9_7f4a_7c15u64;
    let mut next = move || {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        (state >> 40) as f32 / (1u64 << 24) as f32 - 0.5
    };
    let mut unit = |k: usize| {
        let mut v: Vec<f32> = (0..k * DIM).map(|_| next()).collect();
        for c in v.chunks_mut(DIM) {
            let norm = c.iter().map(|x| x * x).sum::<f32>().sqrt();
            c.iter_mut().for_each(|x| *x /= norm);
        }
        v
    };
    let t = Instant::now();
    let mut cache = VectorCache::new();
    let mut passages = 0usize;
    for i in 0..n {
        // P vectors a record on average, spread evenly (1.5: every other
        // record has two).
        let extra = ((i + 1) as f64 * (per - 1.0)).floor() - (i as f64 * (per - 1.0)).floor();
        let k = 1 + extra as usize;
        passages += k;
        cache.insert(&format!("PFD-{i:07}"), i as u64, unit(k));
    }
    println!(
        "{n} records, {passages} vectors ({:.0} MiB of floats), built in {:.1} s",
        (passages * DIM * 4) as f64 / (1 << 20) as f64,
        t.elapsed().as_secs_f64()
    );
    let mut nearest_ms = Vec::new();
    let mut best_ms = Vec::new();
    for q in 0..queries {
        let qv = unit(1);
        let t = Instant::now();
        let got = cache.nearest(&qv, 40);
        nearest_ms.push(t.elapsed().as_secs_f64() * 1000.0);
        assert_eq!(got.len(), 40.min(n));
        let t = Instant::now();
        let s: f32 = (0..50)
            .filter_map(|h| cache.best(&format!("PFD-{:07}", (h * 7919 + q) % n), &qv))
            .sum();
        best_ms.push(t.elapsed().as_secs_f64() * 1000.0);
        std::hint::black_box(s);
    }
    let pct = |v: &mut Vec<f64>, p: f64| {
        v.sort_by(f64::total_cmp);
        v[((p / 100.0) * (v.len() - 1) as f64).round() as usize]
    };
    println!(
        "nearest 40 (the /similar candidate stage): p50 {:.1} ms, p99 {:.1} ms",
        pct(&mut nearest_ms, 50.0),
        pct(&mut nearest_ms, 99.0)
    );
    println!(
        "closeness of 50 hits (the search fusion): p50 {:.3} ms, p99 {:.3} ms",
        pct(&mut best_ms, 50.0),
        pct(&mut best_ms, 99.0)
    );
}
