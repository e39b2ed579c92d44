//! Benchmark of the similarity engine on a generated corpus (`concord gen`,
//! JSON lines or a JSON array): index build time, latency of one draft
//! (p50/p99 over QUERIES drafts), corpus-wide duplicate grouping, and the
//! candidate stage's recall against a brute-force exact comparison of
//! every record on a sample of drafts. Not part of the test suite; run by
//! benches/similar.sh:
//!
//!   cargo run --release -p concord-similar --example similar_bench -- \
//!       CORPUS [QUERIES=200] [BRUTE=1000]
//!
//! A draft is an existing record's text rewritten as an author might: every
//! fifth word dropped and the sentences' order turned around, so each draft
//! has a near-duplicate in the corpus (the record it came from) and shares
//! the generator's vocabulary with many others.

use std::io::BufRead;
use std::time::{Duration, Instant};

use concord_similar::index::Budget;
use concord_similar::{Doc, Index, Match, QueryOptions, Viewer};
use serde_json::Value;

struct Rec {
    id: String,
    title: String,
    text: String,
    addressees: Vec<String>,
    settings: Vec<String>,
    themes: Vec<String>,
    draft_of: Option<String>,
}

fn strings(v: &Value) -> Vec<String> {
    v.as_array()
        .map(|a| {
            a.iter()
                .filter_map(|s| s.as_str().map(str::to_string))
                .collect()
        })
        .unwrap_or_default()
}

fn rec(v: &Value) -> Option<Rec> {
    let s = |k: &str| v[k].as_str().map(str::to_string);
    Some(Rec {
        id: s("id")?,
        title: s("title").unwrap_or_default(),
        text: s("text").unwrap_or_default(),
        addressees: v["addressees"]
            .as_array()
            .map(|a| {
                a.iter()
                    .filter_map(|x| x["org"].as_str().or(x["name"].as_str()))
                    .map(str::to_string)
                    .collect()
            })
            .unwrap_or_default(),
        settings: strings(&v["settings"]),
        themes: strings(&v["themes"]),
        draft_of: (v["status"] == "draft").then(|| s("issuer").unwrap_or_default()),
    })
}

fn read(path: &str) -> Vec<Rec> {
    let f = std::fs::File::open(path).unwrap_or_else(|e| panic!("{path}: {e}"));
    let mut r = std::io::BufReader::new(f);
    let peek = r.fill_buf().map(|b| b.first().copied()).unwrap_or(None);
    if peek == Some(b'[') {
        let all: Vec<Value> = serde_json::from_reader(r).expect("a JSON array");
        return all.iter().filter_map(rec).collect();
    }
    r.lines()
        .map_while(Result::ok)
        .filter(|l| !l.trim().is_empty())
        .filter_map(|l| serde_json::from_str::<Value>(&l).ok())
        .filter_map(|v| rec(&v))
        .collect()
}

fn doc(r: &Rec) -> Doc<'_> {
    Doc {
        id: &r.id,
        title: &r.title,
        text: &r.text,
        addressees: r.addressees.clone(),
        settings: r.settings.clone(),
        themes: r.themes.clone(),
        draft_of: r.draft_of.clone(),
    }
}

/// An author's rewording of a record: sentences in reverse order, every
/// fifth word dropped.
fn reword(text: &str) -> String {
    let mut sentences: Vec<&str> = text.split_inclusive(". ").collect();
    sentences.reverse();
    sentences
        .join(" ")
        .split_whitespace()
        .enumerate()
        .filter(|(i, _)| i % 5 != 4)
        .map(|(_, w)| w)
        .collect::<Vec<_>>()
        .join(" ")
}

/// The brute-force answers (time, top 10) of the sampled drafts.
type ExactCache = std::cell::RefCell<Vec<(Duration, Option<Vec<Match>>)>>;

fn pct(sorted: &[Duration], p: f64) -> f64 {
    let i = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted[i].as_secs_f64() * 1000.0
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let path = args
        .get(1)
        .expect("usage: similar_bench CORPUS [QUERIES] [BRUTE]");
    let queries: usize = args.get(2).and_then(|s| s.parse().ok()).unwrap_or(200);
    let brute: usize = args.get(3).and_then(|s| s.parse().ok()).unwrap_or(1000);

    let t = Instant::now();
    let recs = read(path);
    let read_s = t.elapsed().as_secs_f64();
    let n = recs.len();
    assert!(n > 0, "no records in {path}");

    let t = Instant::now();
    let mut ix = Index::new();
    for r in &recs {
        ix.upsert(&doc(r));
    }
    let build_s = t.elapsed().as_secs_f64();

    // Drafts from records spread evenly over the corpus.
    let step = (n / queries.max(brute).max(1)).max(1);
    let sources: Vec<&Rec> = recs.iter().step_by(step).collect();
    let draft = |r: &Rec| Rec {
        id: format!("DRAFT-{}", r.id),
        title: r.title.clone(),
        text: reword(&r.text),
        addressees: r.addressees.clone(),
        settings: r.settings.clone(),
        themes: r.themes.clone(),
        draft_of: None,
    };
    let opts = QueryOptions {
        limit: 10,
        viewer: Viewer::Public,
        exclude: None,
    };

    let budget = ix.budget();
    println!("records                 {n}");
    println!("read corpus (s)         {read_s:.1}");
    println!("index build (s)         {build_s:.1}");
    println!(
        "budgets for this size   {} postings, {} + {} candidates",
        budget.postings, budget.term_pool, budget.lsh_pool
    );
    // The same index, with the budgets grown for its size, then with the
    // fixed budgets of before (the same candidate set as before), so that
    // before and after share one build and one machine load.
    let exact_cache = std::cell::RefCell::new(Vec::new());
    // SIMILAR_BUDGET=POSTINGS,TERM_POOL adds a third run with those budgets.
    let extra = std::env::var("SIMILAR_BUDGET").ok().and_then(|v| {
        let (p, t) = v.split_once(',')?;
        Some(Budget {
            postings: p.trim().parse().ok()?,
            term_pool: t.trim().parse().ok()?,
            lsh_pool: Budget::FIXED.lsh_pool,
        })
    });
    let mut configs = vec![
        ("budgets for this size", None),
        ("fixed budgets (before)", Some(Budget::FIXED)),
    ];
    if extra.is_some() {
        configs.push(("SIMILAR_BUDGET", extra));
    }
    for (label, b) in configs {
        ix.set_budget(b);
        println!("-- {label}");
        run(&ix, &sources, queries, brute, &draft, &opts, &exact_cache);
    }
    ix.set_budget(None);

    if std::env::var_os("SIMILAR_SKIP_GROUPS").is_some() {
        return;
    }
    // Corpus-wide groups, as `concord duplicates` runs them at this size.
    let thorough = n <= 50_000;
    let t = Instant::now();
    let groups = ix.duplicate_groups(&Viewer::Public, thorough);
    let group_s = t.elapsed().as_secs_f64();
    let grouped: usize = groups.iter().map(|g| g.ids.len()).sum();

    println!(
        "duplicate groups (s, thorough={thorough})    {group_s:.1}  ({} groups, {grouped} records)",
        groups.len()
    );
}

fn run(
    ix: &Index,
    sources: &[&Rec],
    queries: usize,
    brute: usize,
    draft: &dyn Fn(&Rec) -> Rec,
    opts: &QueryOptions,
    exact_cache: &ExactCache,
) {
    let opts = opts.clone();
    // Latency of one draft, as `similar --text` asks it (limit 10).
    let mut times = Vec::with_capacity(queries);
    let mut found_source = 0usize;
    let mut errors = 0usize;
    for r in sources.iter().take(queries) {
        let d = draft(r);
        let t = Instant::now();
        let res = ix.similar_to(&doc(&d), &opts);
        times.push(t.elapsed());
        match res {
            Ok(m) => found_source += usize::from(m.iter().any(|m| m.id == r.id)),
            Err(_) => errors += 1,
        }
    }
    times.sort();
    let q = times.len();

    // Recall of the candidate stage: the top 10 of the brute-force exact
    // comparison (every record scored) against the indexed answer.
    // The exact answers are computed once (the first time) and kept.
    let mut cache = exact_cache.borrow_mut();
    if cache.is_empty() {
        for r in sources.iter().take(brute) {
            let d = draft(r);
            let t = Instant::now();
            let exact = ix.brute_force(&doc(&d), &opts).ok();
            cache.push((t.elapsed(), exact));
        }
    }
    let mut bf_times: Vec<Duration> = cache.iter().map(|x| x.0).collect();
    let (mut relevant, mut kept, mut top1_same) = (0usize, 0usize, 0usize);
    let (mut dup_relevant, mut dup_kept) = (0usize, 0usize);
    for (r, (_, exact)) in sources.iter().zip(cache.iter()) {
        let Some(exact) = exact else {
            continue;
        };
        let d = draft(r);
        let Ok(fast) = ix.similar_to(&doc(&d), &opts) else {
            continue;
        };
        let ids: std::collections::HashSet<&str> = fast.iter().map(|m| m.id.as_str()).collect();
        relevant += exact.len();
        kept += exact.iter().filter(|m| ids.contains(m.id.as_str())).count();
        for m in exact.iter().filter(|m| m.relation == "duplicate") {
            dup_relevant += 1;
            dup_kept += usize::from(ids.contains(m.id.as_str()));
        }
        top1_same += usize::from(exact.first().map(|m| &m.id) == fast.first().map(|m| &m.id));
    }
    bf_times.sort();
    let b = bf_times.len();

    println!(
        "query p50 / p99 / max (ms, {q} drafts)  {:.2} / {:.2} / {:.2}",
        pct(&times, 0.5),
        pct(&times, 0.99),
        pct(&times, 1.0)
    );
    println!(
        "drafts whose source record is in the top 10  {found_source} of {q} ({errors} refused)"
    );
    if b > 0 {
        println!(
            "brute force p50 / p99 (ms, {b} drafts)  {:.1} / {:.1}",
            pct(&bf_times, 0.5),
            pct(&bf_times, 0.99)
        );
        println!(
            "candidate-stage recall of the exact top 10  {:.4} ({kept} of {relevant} matches)",
            kept as f64 / relevant.max(1) as f64
        );
        println!(
            "recall of exact duplicates                  {:.4} ({dup_kept} of {dup_relevant})",
            dup_kept as f64 / dup_relevant.max(1) as f64
        );
        println!("same best match as brute force              {top1_same} of {b}");
    }
}
