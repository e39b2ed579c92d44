//! Search latency, side by side: our tantivy index (with all seven facet
//! counts) against SQLite FTS5 (bm25) and PostgreSQL full-text search
//! (tsvector + GIN, ts_rank), each over the same documents, returning the
//! same top 20 with issuer/year/status counts. Run by benches/search.sh.
//!
//! cargo run --release -p concord-search --example search_bench -- \
//!     --db sqlite://DIR/concord.db --index DIR/concord.index --work DIR [--pg URL] [--rounds 5]
//!
//! `--only-ours` skips FTS5 and PostgreSQL (for trying a change to our
//! search quickly; the results file always comes from the full run).
//! `--forget-counts` clears our remembered per-segment counts before every
//! search, so each one counts its matches as a query never seen would.

use std::path::PathBuf;
use std::time::Instant;

use chrono::Datelike;
use concord_search::{DraftVisibility, RecommendationFilter, SearchIndex, SearchRequest, Sort};
use sqlx::Row;

/// One document as the other engines get it: id, title, text, other
/// fields, issuer, year, status.
type Row7 = (String, String, String, String, String, String, String);

struct Q {
    kind: &'static str,
    text: &'static str,
    issuer: Option<&'static str>,
}

/// The fixed mix: one-word, two-word, phrase and filtered queries, in words
/// that run through the generated corpus (its vocabulary comes from the PFD
/// reports). Every two-word query has records with both words (an earlier
/// mix had `medication error` and `record keeping`, which never co-occur in
/// the generated corpus: FTS5 and PostgreSQL returned nothing while ours fell
/// back to records with either word, an unfair comparison).
const MIX: &[Q] = &[
    Q {
        kind: "one word",
        text: "medication",
        issuer: None,
    },
    Q {
        kind: "one word",
        text: "ambulance",
        issuer: None,
    },
    Q {
        kind: "one word",
        text: "sepsis",
        issuer: None,
    },
    Q {
        kind: "one word",
        text: "discharge",
        issuer: None,
    },
    Q {
        kind: "one word",
        text: "training",
        issuer: None,
    },
    Q {
        kind: "one word",
        text: "prison",
        issuer: None,
    },
    Q {
        kind: "two words",
        text: "mental health",
        issuer: None,
    },
    Q {
        kind: "two words",
        text: "risk assessment",
        issuer: None,
    },
    Q {
        kind: "two words",
        text: "ambulance delay",
        issuer: None,
    },
    Q {
        kind: "two words",
        text: "care home",
        issuer: None,
    },
    Q {
        kind: "two words",
        text: "medication review",
        issuer: None,
    },
    Q {
        kind: "two words",
        text: "sepsis antibiotics",
        issuer: None,
    },
    Q {
        kind: "phrase",
        text: "\"mental health\"",
        issuer: None,
    },
    Q {
        kind: "phrase",
        text: "\"risk assessment\"",
        issuer: None,
    },
    Q {
        kind: "phrase",
        text: "\"care home\"",
        issuer: None,
    },
    Q {
        kind: "phrase",
        text: "\"emergency department\"",
        issuer: None,
    },
    Q {
        kind: "filtered",
        text: "medication",
        issuer: Some("CQC"),
    },
    Q {
        kind: "filtered",
        text: "training",
        issuer: Some("HSSIB"),
    },
    Q {
        kind: "filtered",
        text: "mental health",
        issuer: Some("PFD"),
    },
    Q {
        kind: "filtered",
        text: "discharge",
        issuer: Some("NHSE"),
    },
];

fn arg(name: &str) -> Option<String> {
    let args: Vec<String> = std::env::args().collect();
    args.iter()
        .position(|a| a == name)
        .and_then(|i| args.get(i + 1).cloned())
}

fn pct(v: &mut [f64], p: f64) -> f64 {
    v.sort_by(|a, b| a.partial_cmp(b).unwrap());
    let i = ((v.len() as f64 - 1.0) * p).round() as usize;
    v[i]
}

fn dir_size(p: &std::path::Path) -> u64 {
    let mut n = 0;
    if let Ok(rd) = std::fs::read_dir(p) {
        for e in rd.flatten() {
            let m = e.metadata().unwrap();
            n += if m.is_dir() {
                dir_size(&e.path())
            } else {
                m.len()
            };
        }
    }
    n
}

/// FTS5 query text for our query: words ANDed, phrases kept.
fn fts5_query(q: &str) -> String {
    if q.starts_with('"') {
        q.to_string()
    } else {
        q.split_whitespace().collect::<Vec<_>>().join(" AND ")
    }
}

#[derive(Default)]
struct Lat {
    by_kind: std::collections::BTreeMap<&'static str, Vec<f64>>,
}

impl Lat {
    fn add(&mut self, kind: &'static str, ms: f64) {
        self.by_kind.entry(kind).or_default().push(ms);
    }
    fn report(&mut self, engine: &str, out: &mut String) {
        let mut all = Vec::new();
        for (k, v) in self.by_kind.iter_mut() {
            all.extend(v.iter().copied());
            out.push_str(&format!(
                "| {engine} | {k} | {:.2} | {:.2} |\n",
                pct(v, 0.5),
                pct(v, 0.99)
            ));
        }
        out.push_str(&format!(
            "| {engine} | **all** | **{:.2}** | **{:.2}** |\n",
            pct(&mut all, 0.5),
            pct(&mut all, 0.99)
        ));
    }
}

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let db = arg("--db").expect("--db sqlite://...");
    let index_dir = PathBuf::from(arg("--index").expect("--index DIR"));
    let work = PathBuf::from(arg("--work").expect("--work DIR"));
    let rounds: usize = arg("--rounds").and_then(|r| r.parse().ok()).unwrap_or(5);
    let only_ours = std::env::args().any(|a| a == "--only-ours");
    // Count every search's matches afresh, as if each query were new.
    let forget = std::env::args().any(|a| a == "--forget-counts");
    let pg = arg("--pg").filter(|_| !only_ours);
    let store = concord_store::open(&db).await?;
    let index = SearchIndex::open(&index_dir)?;
    let n_docs = index.doc_count();
    let mut report = format!("documents: {n_docs}\n\n");
    let mut builds = String::from("| engine | build (s) | size (MiB) |\n|---|---|---|\n");
    builds.push_str(&format!(
        "| tantivy (ours) | see `concord reindex` below | {:.0} |\n",
        dir_size(&index_dir) as f64 / 1048576.0
    ));

    // --- SQLite FTS5 over the same documents ---
    let fts_path = work.join("fts5.db");
    let _ = std::fs::remove_file(&fts_path);
    let fts = sqlx::sqlite::SqlitePoolOptions::new()
        .max_connections(1)
        .connect_with(
            sqlx::sqlite::SqliteConnectOptions::new()
                .filename(&fts_path)
                .create_if_missing(true)
                .journal_mode(sqlx::sqlite::SqliteJournalMode::Off)
                .synchronous(sqlx::sqlite::SqliteSynchronous::Off),
        )
        .await?;
    // One table: the filter and facet columns live in the FTS5 table itself
    // (UNINDEXED), so SQLite filters the matches rather than choosing a join
    // plan that probes the full-text index row by row.
    sqlx::query("CREATE VIRTUAL TABLE fts USING fts5(title, text, other, id UNINDEXED, issuer UNINDEXED, year UNINDEXED, status UNINDEXED, tokenize = 'porter unicode61 remove_diacritics 2')")
        .execute(&fts)
        .await?;
    let t = Instant::now();
    let mut docs: Vec<Row7> = Vec::new();
    // Only ours: the store is not read at all (FTS5 and PostgreSQL need it).
    if !only_ours {
        store
            .scan(5_000, &mut |batch| {
                for r in batch.into_iter() {
                    let d = &r.data;
                    let mut other: Vec<String> =
                        d.addressees.iter().map(|a| a.name.clone()).collect();
                    other.extend(d.themes.iter().cloned());
                    other.extend(d.settings.iter().cloned());
                    if let Some(t) = d.source.as_ref().and_then(|s| s.title.clone()) {
                        other.push(t);
                    }
                    docs.push((
                        r.id.to_string(),
                        d.title.clone(),
                        d.text.clone(),
                        other.join(" ; "),
                        d.issuer.to_string(),
                        d.published
                            .map(|p| p.year().to_string())
                            .unwrap_or_default(),
                        d.status.to_string(),
                    ));
                }
                Ok(())
            })
            .await?;
    }
    let read_secs = t.elapsed().as_secs_f64();
    let t = Instant::now();
    for chunk in docs.chunks(2_000) {
        let mut tx = fts.begin().await?;
        for d in chunk {
            sqlx::query("INSERT INTO fts (title, text, other, id, issuer, year, status) VALUES (?, ?, ?, ?, ?, ?, ?)")
                .bind(&d.1)
                .bind(&d.2)
                .bind(&d.3)
                .bind(&d.0)
                .bind(&d.4)
                .bind(&d.5)
                .bind(&d.6)
                .execute(&mut *tx)
                .await?;
        }
        tx.commit().await?;
    }
    sqlx::query("INSERT INTO fts(fts) VALUES ('optimize')")
        .execute(&fts)
        .await?;
    builds.push_str(&format!(
        "| SQLite FTS5 | {:.1} (+{read_secs:.1} reading the store) | {:.0} |\n",
        t.elapsed().as_secs_f64(),
        std::fs::metadata(&fts_path)?.len() as f64 / 1048576.0
    ));

    // --- PostgreSQL ---
    let pg_pool = match &pg {
        Some(url) => {
            let pool = sqlx::postgres::PgPoolOptions::new()
                .max_connections(1)
                .connect(url)
                .await?;
            sqlx::query("DROP TABLE IF EXISTS docs")
                .execute(&pool)
                .await?;
            sqlx::query("CREATE TABLE docs (id TEXT PRIMARY KEY, title TEXT, text TEXT, other TEXT, issuer TEXT, year TEXT, status TEXT, tsv tsvector)")
                .execute(&pool)
                .await?;
            let t = Instant::now();
            for chunk in docs.chunks(5_000) {
                let col =
                    |f: &dyn Fn(&Row7) -> String| -> Vec<String> { chunk.iter().map(f).collect() };
                sqlx::query(
                    "INSERT INTO docs (id, title, text, other, issuer, year, status, tsv) \
                     SELECT id, title, text, other, issuer, year, status, \
                       setweight(to_tsvector('english', title), 'A') || setweight(to_tsvector('english', text), 'B') || setweight(to_tsvector('english', other), 'C') \
                     FROM UNNEST($1::text[], $2::text[], $3::text[], $4::text[], $5::text[], $6::text[], $7::text[]) AS u(id, title, text, other, issuer, year, status)",
                )
                .bind(col(&|d| d.0.clone()))
                .bind(col(&|d| d.1.clone()))
                .bind(col(&|d| d.2.clone()))
                .bind(col(&|d| d.3.clone()))
                .bind(col(&|d| d.4.clone()))
                .bind(col(&|d| d.5.clone()))
                .bind(col(&|d| d.6.clone()))
                .execute(&pool)
                .await?;
            }
            sqlx::query("CREATE INDEX docs_tsv ON docs USING GIN (tsv)")
                .execute(&pool)
                .await?;
            sqlx::query("CREATE INDEX docs_issuer ON docs (issuer)")
                .execute(&pool)
                .await?;
            sqlx::query("VACUUM ANALYZE docs").execute(&pool).await?;
            let size: i64 = sqlx::query("SELECT pg_total_relation_size('docs')")
                .fetch_one(&pool)
                .await?
                .get(0);
            builds.push_str(&format!(
                "| PostgreSQL tsvector + GIN | {:.1} | {:.0} |\n",
                t.elapsed().as_secs_f64(),
                size as f64 / 1048576.0
            ));
            Some(pool)
        }
        None => None,
    };
    drop(docs);

    // --- queries ---
    let mut ours = Lat::default();
    let mut f5 = Lat::default();
    let mut pgl = Lat::default();
    let mut totals = String::from(
        "| query | tantivy total | FTS5 total | PostgreSQL total |\n|---|---|---|---|\n",
    );
    for round in 0..=rounds {
        for q in MIX {
            // tantivy: top 20 + seven facets + snippets.
            let req = SearchRequest {
                query: q.text.to_string(),
                filter: RecommendationFilter {
                    issuer: q.issuer.map(|i| concord_domain::OrgCode::parse(i).unwrap()),
                    drafts: DraftVisibility::None,
                    ..Default::default()
                },
                offset: 0,
                limit: 20,
                sort: Sort::Relevance,
            };
            if forget {
                index.forget_counts();
            }
            let t = Instant::now();
            let r = index.search(&req)?;
            let ms = t.elapsed().as_secs_f64() * 1000.0;
            if only_ours {
                if round > 0 {
                    ours.add(q.kind, ms);
                }
                continue;
            }
            // FTS5: top 20 by bm25 + issuer/year/status counts.
            let m = fts5_query(q.text);
            let filt = if q.issuer.is_some() {
                " AND issuer = ?2"
            } else {
                ""
            };
            let t = Instant::now();
            let mut qy = sqlx::query(sqlx::AssertSqlSafe(format!(
                "SELECT id, bm25(fts, 3.0, 1.0, 0.8) AS s FROM fts \
                 WHERE fts MATCH ?1 AND status <> 'draft'{filt} ORDER BY s LIMIT 20"
            )))
            .bind(&m);
            if let Some(i) = q.issuer {
                qy = qy.bind(i);
            }
            let _top = qy.fetch_all(&fts).await?;
            let mut f5_total = 0i64;
            for col in ["issuer", "year", "status"] {
                let mut qy = sqlx::query(sqlx::AssertSqlSafe(format!(
                    "SELECT {col}, count(*) FROM fts \
                     WHERE fts MATCH ?1 AND status <> 'draft'{filt} GROUP BY 1"
                )))
                .bind(&m);
                if let Some(i) = q.issuer {
                    qy = qy.bind(i);
                }
                let rows = qy.fetch_all(&fts).await?;
                if col == "issuer" {
                    f5_total = rows.iter().map(|r| r.get::<i64, _>(1)).sum();
                }
            }
            let f5ms = t.elapsed().as_secs_f64() * 1000.0;
            // PostgreSQL: the same.
            let mut pg_total = -1i64;
            let mut pgms = 0.0;
            if let Some(pool) = &pg_pool {
                let pfilt = if q.issuer.is_some() {
                    " AND issuer = $2"
                } else {
                    ""
                };
                let t = Instant::now();
                let mut qy = sqlx::query(sqlx::AssertSqlSafe(format!(
                    "SELECT id, ts_rank(tsv, q) AS r FROM docs, websearch_to_tsquery('english', $1) q \
                     WHERE tsv @@ q AND status <> 'draft'{pfilt} ORDER BY r DESC LIMIT 20"
                )))
                .bind(q.text);
                if let Some(i) = q.issuer {
                    qy = qy.bind(i);
                }
                let _top = qy.fetch_all(pool).await?;
                for col in ["issuer", "year", "status"] {
                    let mut qy = sqlx::query(sqlx::AssertSqlSafe(format!(
                        "SELECT {col}, count(*) FROM docs, websearch_to_tsquery('english', $1) q \
                         WHERE tsv @@ q AND status <> 'draft'{pfilt} GROUP BY 1"
                    )))
                    .bind(q.text);
                    if let Some(i) = q.issuer {
                        qy = qy.bind(i);
                    }
                    let rows = qy.fetch_all(pool).await?;
                    if col == "issuer" {
                        pg_total = rows.iter().map(|r| r.get::<i64, _>(1)).sum();
                    }
                }
                pgms = t.elapsed().as_secs_f64() * 1000.0;
            }
            if round == 0 {
                // warm-up round: not timed; record the match counts once.
                totals.push_str(&format!(
                    "| `{}`{} | {} | {} | {} |\n",
                    q.text,
                    q.issuer.map(|i| format!(" issuer={i}")).unwrap_or_default(),
                    r.total,
                    f5_total,
                    pg_total
                ));
                continue;
            }
            ours.add(q.kind, ms);
            f5.add(q.kind, f5ms);
            if pg_pool.is_some() {
                pgl.add(q.kind, pgms);
            }
        }
    }
    let mut lat = String::from("| engine | queries | p50 (ms) | p99 (ms) |\n|---|---|---|---|\n");
    ours.report("tantivy (ours, 7 facets + snippets)", &mut lat);
    if !only_ours {
        f5.report("SQLite FTS5 (3 facets)", &mut lat);
    }
    if pg_pool.is_some() {
        pgl.report("PostgreSQL FTS (3 facets)", &mut lat);
    }
    report.push_str(&format!(
        "### Latency ({rounds} timed rounds of {} queries, after one warm-up round)\n\n{lat}\n### Build and size\n\n{builds}\n### Matches per query (a check that the engines answer alike)\n\n{totals}",
        MIX.len()
    ));
    println!("{report}");
    Ok(())
}
