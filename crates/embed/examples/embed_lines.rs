//! Embeds texts for the evaluation's "MiniLM alone" baseline: reads JSON
//! lines `{"id": "...", "text": "..."}` on standard input and writes
//! `{"id": "...", "v": [...]}` (all-MiniLM-L6-v2, normalised) on standard
//! output. The weights come from `CONCORD_MINILM_DIR` or `models/`.
//!
//!     cargo run --release -p concord-embed --features embeddings --example embed_lines < texts.jsonl

use std::io::{BufRead, Write};

use concord_embed::{Embedder, model_dir};

fn main() {
    let root = std::path::PathBuf::from(concat!(env!("CARGO_MANIFEST_DIR"), "/../.."));
    let dir = std::env::var_os(concord_embed::MODEL_DIR_ENV)
        .map(std::path::PathBuf::from)
        .unwrap_or_else(|| root.join(model_dir(None)));
    let e = Embedder::load(&dir).unwrap_or_else(|err| {
        eprintln!("cannot load the model from {}: {err}", dir.display());
        std::process::exit(1);
    });
    let out = std::io::stdout();
    let mut out = std::io::BufWriter::new(out.lock());
    for (n, line) in std::io::stdin().lock().lines().enumerate() {
        let line = line.unwrap_or_else(|err| {
            eprintln!("line {}: cannot read: {err}", n + 1);
            std::process::exit(1);
        });
        if line.trim().is_empty() {
            continue;
        }
        let v: serde_json::Value = serde_json::from_str(&line).unwrap_or_else(|err| {
            eprintln!("line {}: not JSON: {err}", n + 1);
            std::process::exit(1);
        });
        let text = v["text"].as_str().unwrap_or_default();
        let vector = e.embed(text).unwrap_or_else(|err| {
            eprintln!("line {}: cannot embed: {err}", n + 1);
            std::process::exit(1);
        });
        let row = serde_json::json!({"id": v["id"], "v": vector});
        writeln!(out, "{row}").expect("stdout");
    }
}
