//! `concord overdue` through the real binary on SQLite and PostgreSQL: its
//! answer equals the domain's definition (`overdue_as_of`) applied to every
//! record, on hand-built edge cases and on a generated corpus; bad input
//! exits 1 naming the flag; and on the real coroners' reports it agrees with
//! a count made straight from the source file (run by real_data.rs, on the
//! register it imports).

use crate::common;

use std::collections::{BTreeMap, BTreeSet};

use chrono::{Duration, NaiveDate};
use common::*;
use concord_domain::Recommendation;
use concord_domain::lifecycle::{RulesBook, overdue_as_of};
use serde_json::{Value, json};

fn date(s: &str) -> NaiveDate {
    NaiveDate::parse_from_str(s, "%Y-%m-%d").unwrap()
}

/// (id, addressee position from 0, addressee, due, days overdue)
type Line = (String, usize, String, String, i64);

/// What the domain says, record by record.
fn expected(
    recs: &[Recommendation],
    as_of: NaiveDate,
    issuer: Option<&str>,
    addressee: Option<&str>,
) -> Vec<Line> {
    let rules = RulesBook::builtin();
    let mut out: Vec<(i64, &Recommendation, usize, Line)> = Vec::new();
    for r in recs {
        if issuer.is_some_and(|i| r.data.issuer.as_str() != i) {
            continue;
        }
        for (i, a) in r.data.addressees.iter().enumerate() {
            if let Some(want) = addressee {
                let code = a
                    .org
                    .as_ref()
                    .is_some_and(|o| o.as_str() == want.to_uppercase());
                if !code && !a.name.to_lowercase().contains(&want.to_lowercase()) {
                    continue;
                }
            }
            if let Some((due, days)) =
                overdue_as_of(&r.data, a, rules.for_issuer(&r.data.issuer), as_of)
            {
                out.push((
                    days,
                    r,
                    i,
                    (r.id.to_string(), i, a.name.clone(), due.to_string(), days),
                ));
            }
        }
    }
    out.sort_by(|a, b| b.0.cmp(&a.0).then(a.1.id.cmp(&b.1.id)).then(a.2.cmp(&b.2)));
    out.into_iter().map(|x| x.3).collect()
}

fn overdue_json(db: &Db, args: &[&str]) -> Value {
    let mut all = vec!["overdue", "--json"];
    all.extend_from_slice(args);
    serde_json::from_str(&ok(db, &all)).expect("overdue --json prints JSON")
}

fn lines(v: &Value) -> Vec<Line> {
    v["items"]
        .as_array()
        .expect("items")
        .iter()
        .map(|i| {
            (
                i["id"].as_str().unwrap().to_string(),
                i["addressee_number"].as_u64().unwrap() as usize - 1,
                i["addressee"].as_str().unwrap().to_string(),
                i["due"].as_str().unwrap().to_string(),
                i["days_overdue"].as_i64().unwrap(),
            )
        })
        .collect()
}

fn export(db: &Db) -> Vec<Recommendation> {
    let path = db.dir.path().join("export.json");
    ok(db, &["export", "--out", path.to_str().unwrap()]);
    serde_json::from_slice(&std::fs::read(&path).unwrap()).expect("export parses")
}

/// Runs SQL on the database directly (to make records as an older Concord
/// left them: published without any due date).
fn sql(db: &Db, statements: &[&str]) {
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    rt.block_on(async {
        sqlx::any::install_default_drivers();
        let pool = sqlx::any::AnyPoolOptions::new()
            .max_connections(1)
            .connect(&db.url)
            .await
            .expect("connect");
        for s in statements {
            sqlx::raw_sql(sqlx::AssertSqlSafe(s.to_string()))
                .execute(&pool)
                .await
                .expect(s);
        }
        pool.close().await;
    });
}

fn addressee(
    name: &str,
    org: Option<&str>,
    status: &str,
    due: Option<&str>,
    replies: &[Option<&str>],
) -> Value {
    json!({
        "name": name, "org": org, "status": status, "due": due,
        "responses": replies.iter().map(|r| json!({
            "received": r, "respondent": null, "url": null, "text": "We reply."
        })).collect::<Vec<_>>(),
    })
}

fn record(
    id: &str,
    status: &str,
    published: Option<&str>,
    deadline: Option<&str>,
    addressees: Vec<Value>,
) -> Value {
    let issuer = id.split('-').next().unwrap();
    json!({
        "id": id, "kind": "recommendation", "issuer": issuer,
        "title": format!("Case {id}"), "text": format!("The text of {id}."),
        "published": published, "status": status, "addressees": addressees,
        "themes": [], "settings": [], "links": [],
        "response_deadline": deadline,
        "version": 1,
        "created_at": "2024-01-01T09:00:00Z", "updated_at": "2024-01-01T09:00:00Z",
    })
}

/// Every edge of the definition, as of 2024-04-07.
fn edge_cases() -> Value {
    let open = "awaiting_response";
    json!([
        // Due today: not yet late. Due yesterday: one day late.
        record(
            "PFD-2024-0001",
            "published",
            Some("2024-01-01"),
            Some("2024-04-07"),
            vec![addressee(
                "Due Today Trust",
                None,
                open,
                Some("2024-04-07"),
                &[]
            )]
        ),
        record(
            "PFD-2024-0002",
            "published",
            Some("2024-01-01"),
            Some("2024-04-06"),
            vec![addressee(
                "Due Yesterday Trust",
                None,
                open,
                Some("2024-04-06"),
                &[]
            )]
        ),
        // A reply dated after as_of had not arrived; one dated on it had.
        record(
            "PFD-2024-0003",
            "published",
            Some("2024-01-01"),
            Some("2024-03-01"),
            vec![
                addressee(
                    "Late Reply Trust",
                    None,
                    "response_received",
                    Some("2024-03-01"),
                    &[Some("2024-04-10")]
                ),
                addressee(
                    "On The Day Trust",
                    None,
                    "response_received",
                    Some("2024-03-01"),
                    &[Some("2024-04-07")]
                ),
            ]
        ),
        // An undated reply counts as received.
        record(
            "PFD-2024-0004",
            "published",
            Some("2024-01-01"),
            Some("2024-03-01"),
            vec![addressee(
                "Undated Reply Trust",
                None,
                "response_received",
                Some("2024-03-01"),
                &[None]
            )]
        ),
        // Not expected to answer any more.
        record(
            "HSSIB-2023-0001",
            "published",
            Some("2023-01-01"),
            Some("2023-04-01"),
            vec![
                addressee("NHS England", Some("NHSE"), "dormant", None, &[]),
                addressee("Care Quality Commission", Some("CQC"), "closed", None, &[]),
                addressee("Not Required Trust", None, "not_required", None, &[]),
                addressee("Still Waiting Trust", None, open, None, &[]),
            ]
        ),
        // Drafts and closed recommendations never wait.
        record(
            "HSSIB-2023-0002",
            "draft",
            Some("2023-01-01"),
            Some("2023-04-01"),
            vec![addressee("Draft Trust", None, open, None, &[])]
        ),
        record(
            "HSSIB-2023-0003",
            "closed",
            Some("2023-01-01"),
            Some("2023-04-01"),
            vec![addressee("Closed Record Trust", None, open, None, &[])]
        ),
        // The addressee's own due date wins over the recommendation's.
        record(
            "CQC-2024-0001",
            "published",
            Some("2024-01-01"),
            Some("2024-05-01"),
            vec![
                addressee("NHS England", Some("NHSE"), open, Some("2024-03-01"), &[]),
                addressee("Later Trust", None, open, None, &[]),
            ]
        ),
        // No deadline: published + the issuer's period (set at import; the
        // test also clears it to check the query's own fallback).
        record(
            "HSSIB-2024-0001",
            "published",
            Some("2024-01-01"),
            None,
            vec![addressee("Ninety Days Trust", None, open, None, &[])]
        ),
        record(
            "PFD-2024-0005",
            "published",
            Some("2024-02-11"),
            None,
            vec![addressee("Due Today By Rule Trust", None, open, None, &[])]
        ),
        record(
            "PFD-2024-0006",
            "published",
            Some("2024-02-10"),
            None,
            vec![addressee(
                "Due Yesterday By Rule Trust",
                None,
                open,
                None,
                &[]
            )]
        ),
        record(
            "NHSE-2024-0001",
            "published",
            Some("2023-06-01"),
            None,
            vec![addressee("Default Period Trust", None, open, None, &[])]
        ),
        // Not published at all: nothing is due.
        record(
            "CQC-2024-0002",
            "published",
            None,
            None,
            vec![addressee("Undated Record Trust", None, open, None, &[])]
        ),
    ])
}

#[test]
fn overdue_equals_the_domain_rule_on_the_edge_cases() {
    for db in backends() {
        let file = db.dir.path().join("edge.json");
        std::fs::write(&file, serde_json::to_vec(&edge_cases()).unwrap()).unwrap();
        let out = ok(&db, &["import", file.to_str().unwrap()]);
        assert!(
            out.contains("imported 13, enriched 0, skipped 0, rejected 0"),
            "{}: {out}",
            db.name
        );

        // Published records without a deadline got the issuer's period at import.
        let recs = export(&db);
        let deadline = |id: &str| {
            recs.iter()
                .find(|r| r.id.to_string() == id)
                .unwrap()
                .data
                .response_deadline
                .map(|d| d.to_string())
        };
        assert_eq!(
            deadline("HSSIB-2024-0001").as_deref(),
            Some("2024-03-31"),
            "{}",
            db.name
        );
        assert_eq!(deadline("PFD-2024-0005").as_deref(), Some("2024-04-07"));
        assert_eq!(deadline("NHSE-2024-0001").as_deref(), Some("2023-08-30"));
        assert_eq!(deadline("CQC-2024-0002"), None);

        let v = overdue_json(&db, &["--as-of", "2024-04-07"]);
        assert_eq!(v["as_of"], "2024-04-07");
        let got = lines(&v);
        assert_eq!(
            got,
            expected(&recs, date("2024-04-07"), None, None),
            "{}",
            db.name
        );
        let late: BTreeSet<&str> = got.iter().map(|l| l.2.as_str()).collect();
        assert_eq!(
            late,
            BTreeSet::from([
                "Default Period Trust",
                "Due Yesterday By Rule Trust",
                "Due Yesterday Trust",
                "Late Reply Trust",
                "NHS England",
                "Ninety Days Trust",
                "Still Waiting Trust",
            ]),
            "{}",
            db.name
        );
        let day = |name: &str| got.iter().find(|l| l.2 == name).unwrap().4;
        assert_eq!(day("Due Yesterday Trust"), 1);
        assert_eq!(day("Late Reply Trust"), 37);
        assert_eq!(day("Ninety Days Trust"), 7);

        // Now as an older Concord left them: no due date anywhere, so the
        // query falls back on publication plus the issuer's period.
        sql(
            &db,
            &[
                "UPDATE recommendations SET response_deadline = NULL WHERE id IN \
                 ('HSSIB-2024-0001', 'PFD-2024-0005', 'PFD-2024-0006', 'NHSE-2024-0001', 'CQC-2024-0001')",
                "UPDATE addressees SET due = NULL WHERE rec_id IN \
                 ('HSSIB-2024-0001', 'PFD-2024-0005', 'PFD-2024-0006', 'NHSE-2024-0001')",
            ],
        );
        let recs = export(&db);
        assert_eq!(
            recs.iter()
                .filter(|r| r.data.response_deadline.is_none())
                .count(),
            6,
            "{}",
            db.name
        );
        for as_of in [
            "2024-02-01",
            "2024-03-31",
            "2024-04-01",
            "2024-04-06",
            "2024-04-07",
            "2024-04-08",
            "2024-04-10",
            "2025-01-01",
        ] {
            let got = lines(&overdue_json(&db, &["--as-of", as_of]));
            assert_eq!(
                got,
                expected(&recs, date(as_of), None, None),
                "{} as of {as_of}",
                db.name
            );
        }
        // Filters: issuer, addressee by code (any case) and by words of its name.
        for (flags, issuer, who) in [
            (vec!["--issuer", "pfd"], Some("PFD"), None),
            (vec!["--addressee", "nhse"], None, Some("nhse")),
            (vec!["--addressee", "WAITING"], None, Some("WAITING")),
            (
                vec!["--issuer", "CQC", "--addressee", "NHSE"],
                Some("CQC"),
                Some("NHSE"),
            ),
        ] {
            let mut args = vec!["--as-of", "2024-04-08"];
            args.extend(flags.iter().copied());
            let got = lines(&overdue_json(&db, &args));
            assert!(!got.is_empty(), "{flags:?}");
            assert_eq!(
                got,
                expected(&recs, date("2024-04-08"), issuer, who),
                "{} {flags:?}",
                db.name
            );
        }
        // The readable table.
        let table = ok(&db, &["overdue", "--as-of", "2024-04-07"]);
        assert!(table.contains("PFD-2024-0003"), "{table}");
        assert!(
            table.contains("8 addressee(s) overdue on 7 recommendation(s) as of 2024-04-07"),
            "{table}"
        );
        let none = ok(&db, &["overdue", "--as-of", "2020-01-01"]);
        assert_eq!(none.trim(), "nothing overdue as of 2020-01-01");
    }
}

#[test]
fn overdue_equals_the_domain_rule_on_a_generated_corpus() {
    for db in backends() {
        let file = db.dir.path().join("gen.jsonl");
        ok(
            &db,
            &[
                "gen",
                "--count",
                "1500",
                "--seed",
                "11",
                "--out",
                file.to_str().unwrap(),
            ],
        );
        ok(&db, &["import", "--format", "json", file.to_str().unwrap()]);
        // Some records as an older Concord left them (no due dates at all).
        sql(
            &db,
            &[
                "UPDATE recommendations SET response_deadline = NULL WHERE seq % 5 = 0",
                "UPDATE addressees SET due = NULL WHERE rec_id IN \
                 (SELECT id FROM recommendations WHERE seq % 5 = 0)",
            ],
        );
        let recs = export(&db);
        let issuer = recs[recs.len() / 2].data.issuer.to_string();
        for as_of in ["2015-06-30", "2020-01-01", "2024-04-07", "2030-01-01"] {
            let got = lines(&overdue_json(&db, &["--as-of", as_of]));
            let want = expected(&recs, date(as_of), None, None);
            assert_eq!(got.len(), want.len(), "{} as of {as_of}", db.name);
            assert_eq!(got, want, "{} as of {as_of}", db.name);
            let got = lines(&overdue_json(&db, &["--as-of", as_of, "--issuer", &issuer]));
            assert_eq!(
                got,
                expected(&recs, date(as_of), Some(&issuer), None),
                "{} {issuer}",
                db.name
            );
        }
        let late = lines(&overdue_json(&db, &["--as-of", "2024-04-07"]));
        assert!(
            late.len() > 100,
            "the corpus has late answers: {}",
            late.len()
        );
    }
}

#[test]
fn bad_input_exits_1_naming_the_flag() {
    let db = sqlite();
    for (args, says) in [
        (
            vec!["--as-of", "07/04/2024"],
            "--as-of: \"07/04/2024\" is not a date in the form YYYY-MM-DD",
        ),
        (
            vec!["--as-of", "2024-02-30"],
            "--as-of: \"2024-02-30\" is not a date",
        ),
        (
            vec!["--issuer", "no-such!"],
            "--issuer: \"no-such!\" is not an organisation code",
        ),
        (
            vec!["--issuer", "ZZZ"],
            "--issuer: ZZZ is not a registered organisation",
        ),
    ] {
        let mut all = vec!["overdue"];
        all.extend(args.iter().copied());
        let out = concord(&db, &all);
        let err = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(1), "{args:?}: {err}");
        assert!(err.contains(says), "{args:?}: {err}");
        assert_eq!(err.trim().lines().count(), 1, "one line: {err}");
    }
    let out = concord(&db, &["overdue", "--as-off", "2024-01-01"]);
    assert_eq!(out.status.code(), Some(2), "wrong usage is clap's 2");
}

// ------------------------------------------------------------ real data

/// The judiciary CSV's rows as maps from column to value (RFC 4180, fields
/// spanning lines), read here independently of Concord's importer.
fn read_csv(path: &std::path::Path) -> Vec<BTreeMap<String, String>> {
    let text = std::fs::read_to_string(path).unwrap();
    let mut rows: Vec<Vec<String>> = Vec::new();
    let (mut field, mut row, mut quoted) = (String::new(), Vec::new(), false);
    let mut chars = text.chars().peekable();
    while let Some(c) = chars.next() {
        match (quoted, c) {
            (true, '"') if chars.peek() == Some(&'"') => {
                chars.next();
                field.push('"');
            }
            (true, '"') => quoted = false,
            (false, '"') => quoted = true,
            (false, ',') => row.push(std::mem::take(&mut field)),
            (false, '\n') => {
                row.push(std::mem::take(&mut field));
                rows.push(std::mem::take(&mut row));
            }
            (false, '\r') => {}
            (_, c) => field.push(c),
        }
    }
    if !field.is_empty() || !row.is_empty() {
        row.push(field);
        rows.push(row);
    }
    let header = rows.remove(0);
    rows.into_iter()
        .map(|r| header.iter().cloned().zip(r).collect())
        .collect()
}

fn dmy(s: &str) -> Option<NaiveDate> {
    NaiveDate::parse_from_str(s.trim(), "%d/%m/%Y").ok()
}

/// The addressees a report names: split on ` | `, without empty or REDACTED
/// entries, each name once (case aside).
fn named(row: &BTreeMap<String, String>) -> Vec<String> {
    let mut seen = BTreeSet::new();
    row["this_report_is_being_sent_to"]
        .split(" | ")
        .map(str::trim)
        .filter(|a| !a.is_empty() && !a.eq_ignore_ascii_case("redacted"))
        .filter(|a| seen.insert(a.to_lowercase()))
        .map(str::to_string)
        .collect()
}

/// On a register holding the judiciary file alone (just imported), what
/// `concord overdue` lists as of the file's last report date agrees with a
/// count made straight from the file. Called by real_data.rs, whose test
/// imports the file once per backend for every check on it.
pub(crate) fn real_pfd_reports_overdue_as_of_the_last_report_date(db: &Db, csv: &std::path::Path) {
    let rows = read_csv(csv);
    let as_of = rows
        .iter()
        .filter_map(|r| dmy(&r["date_of_report"]))
        .max()
        .expect("dated reports");
    let by_url: BTreeMap<String, &BTreeMap<String, String>> = rows
        .iter()
        .filter(|r| !r["report_url"].trim().is_empty())
        .map(|r| (r["report_url"].trim().trim_end_matches('/').to_string(), r))
        .collect();
    let late = |r: &BTreeMap<String, String>| {
        dmy(&r["date_of_report"]).is_some_and(|d| d + Duration::days(56) < as_of)
    };
    let no_reply = |r: &BTreeMap<String, String>| r["reply_urls"].trim().is_empty();
    // Independently: every late report with no published reply and named
    // addressees, and how many it names.
    let silent: BTreeMap<&str, usize> = by_url
        .iter()
        .filter(|(_, r)| late(r) && no_reply(r) && !named(r).is_empty())
        .map(|(u, r)| (u.as_str(), named(r).len()))
        .collect();
    assert!(silent.len() > 1000, "{}", silent.len());

    let v = overdue_json(db, &["--as-of", &as_of.to_string()]);
    let url_of: BTreeMap<String, String> = export(db)
        .into_iter()
        .map(|r| {
            let url = r.data.source.and_then(|s| s.url).unwrap_or_default();
            (r.id.to_string(), url.trim_end_matches('/').to_string())
        })
        .collect();
    let mut listed: BTreeMap<&str, usize> = BTreeMap::new();
    for item in v["items"].as_array().unwrap() {
        let url = &url_of[item["id"].as_str().unwrap()];
        let row = by_url[url.as_str()];
        // Every item: the report's date plus 56 days, before as_of.
        let reported = dmy(&row["date_of_report"]).expect("a late report is dated");
        let due = reported + Duration::days(56);
        assert_eq!(item["due"], due.to_string(), "{url}");
        assert_eq!(item["days_overdue"], (as_of - due).num_days(), "{url}");
        assert!(
            named(row)
                .iter()
                .any(|n| n == item["addressee"].as_str().unwrap()),
            "{url}: {} is not among {:?}",
            item["addressee"],
            named(row)
        );
        *listed.entry(url.as_str()).or_default() += 1;
    }
    let (silent_listed, answered_listed): (BTreeMap<&str, usize>, BTreeMap<&str, usize>) =
        listed.iter().partition(|(u, _)| no_reply(by_url[**u]));
    // Reports without any reply: exactly those, each with every addressee.
    assert_eq!(silent_listed, silent, "{}", db.name);
    // Reports with some reply: at least one addressee answered, and no
    // more are late than the addressees left without a reply can be.
    for (u, n) in &answered_listed {
        let row = by_url[*u];
        let names = named(row).len();
        let replies = row["reply_urls"]
            .split(" | ")
            .filter(|s| !s.trim().is_empty())
            .count();
        assert!(*n < names, "{u}: {n} late of {names}");
        assert!(
            *n >= names.saturating_sub(replies),
            "{u}: {n} late of {names}, {replies} replies"
        );
    }
    eprintln!(
        "{}: as of {as_of}: {} addressees of {} reports overdue; {} reports ({} addressees) without any reply",
        db.name,
        listed.values().sum::<usize>(),
        listed.len(),
        silent.len(),
        silent.values().sum::<usize>()
    );
}
