//! The real all-MiniLM-L6-v2 weights (scripts/fetch-minilm.sh installs
//! them): a paraphrase scores far above an unrelated pair, and the
//! evaluation set (crates/similar/tests/pairs.json) with and without the
//! embedding signal, with a floor on the combined figures.
//!
//! When the model folder is missing: under CI (CI=true) the tests fail
//! loudly; elsewhere they print that they did not run.
#![cfg(feature = "embeddings")]

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::sync::OnceLock;

use concord_embed::cache::VectorCache;
use concord_embed::{Embedder, cosine, record_text};
use concord_similar::semantic::{THRESHOLDS, combine};
use concord_similar::{Doc, Index, QueryOptions, Viewer};
use serde_json::Value;

fn model_folder() -> PathBuf {
    match std::env::var_os(concord_embed::MODEL_DIR_ENV) {
        Some(v) if !v.is_empty() => PathBuf::from(v),
        _ => PathBuf::from(concat!(env!("CARGO_MANIFEST_DIR"), "/../.."))
            .join(concord_embed::DEFAULT_MODEL_DIR),
    }
}

/// The model, or None (after saying so) when its folder is missing outside CI.
fn embedder() -> Option<&'static Embedder> {
    static E: OnceLock<Option<Embedder>> = OnceLock::new();
    E.get_or_init(|| {
        let dir = model_folder();
        if let Some(missing) = concord_embed::missing_file(&dir) {
            if std::env::var("CI").as_deref() == Ok("true") {
                panic!(
                    "CI=true but the MiniLM weights are missing ({}): scripts/test.sh runs scripts/fetch-minilm.sh first",
                    missing.display()
                );
            }
            println!(
                "NOT RUN: the MiniLM weights are missing ({}); run scripts/fetch-minilm.sh",
                missing.display()
            );
            return None;
        }
        Some(Embedder::load(&dir).unwrap_or_else(|e| panic!("loading {}: {e}", dir.display())))
    })
    .as_ref()
}

#[test]
fn a_paraphrase_scores_far_above_an_unrelated_pair() {
    let Some(e) = embedder() else { return };
    let a = e
        .embed("Patients with suspected sepsis should receive antibiotics within one hour of arriving at the emergency department.")
        .unwrap();
    let b = e
        .embed("Give antibiotics inside the first hour to anyone who comes to A&E and may have sepsis.")
        .unwrap();
    let c = e
        .embed("Bed rails must be assessed before use on older inpatients at risk of falls.")
        .unwrap();
    assert_eq!(a.len(), concord_embed::DIM);
    let norm: f32 = a.iter().map(|x| x * x).sum::<f32>().sqrt();
    assert!((norm - 1.0).abs() < 1e-4, "unit length, got {norm}");
    let (para, unrel) = (cosine(&a, &b), cosine(&a, &c));
    println!("paraphrase {para:.3}, unrelated {unrel:.3}");
    assert!(para > 0.6, "paraphrase cosine {para}");
    assert!(unrel < 0.35, "unrelated cosine {unrel}");
    assert!(
        para - unrel > 0.35,
        "paraphrase {para} vs unrelated {unrel}"
    );
    // The same text gives the same vector; a long text is read in windows
    // and still gives a unit vector close to its opening.
    assert_eq!(e.embed("same text").unwrap(), e.embed("same text").unwrap());
    let long = "Patients with suspected sepsis should receive antibiotics promptly. ".repeat(200);
    let l = e.embed(&long).unwrap();
    assert!(cosine(&l, &a) > 0.6);
    let empty = e.embed("").unwrap();
    assert_eq!(empty.len(), concord_embed::DIM);
}

#[test]
fn a_background_refresh_fills_the_cache_file_once() {
    let Some(e) = embedder() else { return };
    let dir = tempfile::tempdir().unwrap();
    let path = concord_embed::cache::cache_path_beside(&dir.path().join("concord.index"));
    let records: Vec<(String, String)> = [
        (
            "NICE-2024-0001",
            "Give antibiotics within one hour for suspected sepsis.",
        ),
        (
            "MHRA-2019-0001",
            "Assess bed rails for each patient before use.",
        ),
        (
            "CQC-2023-0003",
            "Use acoustic monitoring at night instead of waking people.",
        ),
    ]
    .iter()
    .map(|(i, t)| (i.to_string(), t.to_string()))
    .collect();
    let model = std::sync::Arc::new(Embedder::load(&model_folder()).unwrap());
    let n = concord_embed::cache::spawn_refresh(model.clone(), path.clone(), records.clone(), 2)
        .join()
        .unwrap()
        .unwrap();
    assert_eq!(n, 3);
    let cache = VectorCache::load(&path);
    assert_eq!(cache.len(), 3);
    for (id, text) in &records {
        let stored = cache
            .get(id, concord_embed::cache::text_hash(text))
            .unwrap();
        let fresh = e.embed_passages(text).unwrap();
        assert!(cosine(stored, &fresh) > 0.9999, "{id}");
    }
    // Nothing to do the second time; a record gone from the register drops out.
    let fewer = records[..2].to_vec();
    let n = concord_embed::cache::spawn_refresh(model, path.clone(), fewer, 2)
        .join()
        .unwrap()
        .unwrap();
    assert_eq!(n, 0);
    assert_eq!(VectorCache::load(&path).len(), 2);
}

fn strs(v: &Value, key: &str) -> Vec<String> {
    v[key]
        .as_array()
        .map(|a| {
            a.iter()
                .filter_map(|x| x.as_str().or_else(|| x["name"].as_str()).map(String::from))
                .collect()
        })
        .unwrap_or_default()
}

struct Outcome {
    gold: String,
    lexical: String,
    combined: String,
    cos: f32,
    note: String,
}

fn pr(out: &[(&str, &str)], label: &str) -> (f64, f64) {
    let tp = out.iter().filter(|o| o.0 == label && o.1 == label).count() as f64;
    let fp = out.iter().filter(|o| o.0 != label && o.1 == label).count() as f64;
    let fnn = out.iter().filter(|o| o.0 == label && o.1 != label).count() as f64;
    let p = if tp + fp == 0.0 { 0.0 } else { tp / (tp + fp) };
    let r = if tp + fnn == 0.0 {
        0.0
    } else {
        tp / (tp + fnn)
    };
    (p, r)
}

#[test]
fn evaluation_with_and_without_embeddings() {
    let Some(e) = embedder() else { return };
    let demo: Vec<Value> =
        serde_json::from_str(include_str!("../../app/demo/recommendations.json"))
            .expect("demo JSON");
    let set: Value =
        serde_json::from_str(include_str!("../../similar/tests/pairs.json")).expect("pairs.json");
    let mut index = Index::new();
    let mut texts: BTreeMap<String, String> = BTreeMap::new();
    let mut docs: BTreeMap<String, Doc<'_>> = BTreeMap::new();
    for r in &demo {
        let (id, title, text) = (
            r["id"].as_str().unwrap(),
            r["title"].as_str().unwrap_or(""),
            r["text"].as_str().unwrap_or(""),
        );
        let doc = Doc {
            id,
            title,
            text,
            addressees: strs(r, "addressees"),
            settings: strs(r, "settings"),
            themes: strs(r, "themes"),
            draft_of: None,
        };
        index.upsert(&doc);
        docs.insert(id.to_string(), doc);
        texts.insert(id.to_string(), record_text(title, text));
    }
    let pairs = set["pairs"].as_array().unwrap();
    let mut ids = Vec::new();
    for (i, p) in pairs.iter().enumerate() {
        if let (Some(a), Some(b)) = (p["a"].as_str(), p["b"].as_str()) {
            let (ia, ib) = (format!("E-{i}-a"), format!("E-{i}-b"));
            for (id, t) in [(&ia, a), (&ib, b)] {
                index.upsert(&Doc {
                    id,
                    text: t,
                    ..Default::default()
                });
                texts.insert(id.clone(), t.to_string());
            }
            ids.push((ia, ib));
        } else {
            ids.push((
                p["a_id"].as_str().unwrap().to_string(),
                p["b_id"].as_str().unwrap().to_string(),
            ));
        }
    }
    // Every indexed record's vector, through the cache as the register
    // would keep it.
    let mut cache = VectorCache::new();
    concord_embed::cache::refresh(
        &mut cache,
        e,
        texts.iter().map(|(i, t)| (i.as_str(), t.as_str())),
        true,
        |_, _| true,
    )
    .unwrap();
    assert_eq!(cache.len(), texts.len());
    let vectors: BTreeMap<&str, Vec<f32>> = texts
        .keys()
        .map(|id| (id.as_str(), cache.vector(id).unwrap().to_vec()))
        .collect();
    let out: Vec<Outcome> = pairs
        .iter()
        .zip(&ids)
        .map(|(p, (a, b))| {
            let lexical = index.relation(a, b).expect("both ids indexed");
            let cos = cosine(&vectors[a.as_str()], &vectors[b.as_str()]);
            let name = |v: &Option<(f64, concord_similar::Relation, String)>| {
                v.as_ref()
                    .map(|x| x.1.as_str().to_string())
                    .unwrap_or_else(|| "unrelated".into())
            };
            let combined = combine(lexical.clone(), cos, &THRESHOLDS);
            Outcome {
                gold: p["label"].as_str().unwrap().to_string(),
                lexical: name(&lexical),
                combined: name(&combined),
                cos,
                note: format!(
                    "{a} / {b}: {} (lexical {:.3})",
                    p["note"].as_str().unwrap_or(""),
                    lexical.as_ref().map(|x| x.0).unwrap_or(0.0)
                ),
            }
        })
        .collect();
    for o in &out {
        println!(
            "PAIR gold={} lexical={} combined={} cos={:.3} {}",
            o.gold, o.lexical, o.combined, o.cos, o.note
        );
    }
    let mut by_label: BTreeMap<&str, Vec<f32>> = BTreeMap::new();
    for o in &out {
        by_label.entry(&o.gold).or_default().push(o.cos);
    }
    for (l, v) in &by_label {
        let mean = v.iter().sum::<f32>() / v.len() as f32;
        let min = v.iter().copied().fold(f32::MAX, f32::min);
        let max = v.iter().copied().fold(f32::MIN, f32::max);
        println!(
            "cosine {l}: n {} mean {mean:.3} min {min:.3} max {max:.3}",
            v.len()
        );
    }
    let without: Vec<(&str, &str)> = out.iter().map(|o| (&*o.gold, &*o.lexical)).collect();
    let with: Vec<(&str, &str)> = out.iter().map(|o| (&*o.gold, &*o.combined)).collect();
    let mut figures = Vec::new();
    for (name, v) in [("without", &without), ("with", &with)] {
        let (dp, dr) = pr(v, "duplicate");
        let (cp, cr) = pr(v, "contradicts");
        let (sp, sr) = pr(v, "supports");
        let (rp, rr) = pr(v, "related");
        println!(
            "{name} embeddings: duplicate P {dp:.2} R {dr:.2}; contradicts P {cp:.2} R {cr:.2}; supports P {sp:.2} R {sr:.2}; related P {rp:.2} R {rr:.2}"
        );
        figures.push((dp, dr, cp, cr));
    }
    // As a candidate source: is the labelled partner among the answers to
    // its pair's first text (duplicates, supporting pairs, contradictions)?
    // Lexical top 3 and top 6, meaning's 3 nearest, and the union of the
    // lexical top 3 with meaning's 3 nearest.
    let (mut asked, mut lex3, mut lex6, mut near3, mut union) = (0, 0, 0, 0, 0);
    for (p, (a, b)) in pairs.iter().zip(&ids) {
        if !matches!(
            p["label"].as_str(),
            Some("duplicate" | "supports" | "contradicts")
        ) {
            continue;
        }
        let owned;
        let query = match docs.get(a) {
            Some(d) => d,
            None => {
                owned = Doc {
                    id: a,
                    text: &texts[a],
                    ..Default::default()
                };
                &owned
            }
        };
        let opts = QueryOptions {
            limit: 6,
            viewer: Viewer::All,
            exclude: Some(a.clone()),
        };
        let lexical = index.similar_to(query, &opts).unwrap();
        let nearest: Vec<(String, f32)> = cache
            .nearest(&vectors[a.as_str()], 4)
            .into_iter()
            .filter(|(id, _)| id != a)
            .take(3)
            .collect();
        let in_lex = |k: usize| lexical.iter().take(k).any(|m| &m.id == b);
        let in_near = nearest.iter().any(|(id, _)| id == b);
        asked += 1;
        lex3 += usize::from(in_lex(3));
        lex6 += usize::from(in_lex(6));
        near3 += usize::from(in_near);
        union += usize::from(in_lex(3) || in_near);
    }
    println!(
        "candidates ({asked} pairs): partner in lexical top 3 {lex3}, lexical top 6 {lex6}, meaning's nearest 3 {near3}, lexical top 3 + nearest 3 {union}"
    );
    assert!(union >= lex3);
    assert!(
        near3 * 10 >= asked * 7,
        "meaning alone finds the partner in its nearest 3 for only {near3} of {asked}"
    );
    let (dp, dr, cp, cr) = figures[1];
    // Floors: a little under what the combination reaches today (docs/similarity.md).
    assert!(
        dp >= 0.95 && dr >= 0.90,
        "with embeddings: duplicate P {dp:.2} R {dr:.2}"
    );
    // Contradiction recall a little under the lexical floor (tests/eval.rs
    // in concord-similar): two of the set's pairs are two time limits for
    // one act, consistent by the held-out guide, and a contradiction far in
    // meaning is only related (semantic::THRESHOLDS.contradicts_min, chosen
    // on the dev sets): "no overnight discharge of over-75s without a carer"
    // against "discharge at any time" sits at 0.47.
    assert!(
        cp >= 0.95 && cr >= 0.75,
        "with embeddings: contradicts P {cp:.2} R {cr:.2}"
    );
}
