//! Bulk import: idempotent, all or nothing (even when killed), responses
//! attached, a second source enriching a known report; and its throughput.

use std::io::Write as _;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use concord_store::StoreError;
use concord_testkit::pg_admin_url;

use super::*;

suite!(
    import_is_idempotent,
    import_is_all_or_nothing,
    import_refuses_a_different_record_under_a_taken_id,
    import_survives_sigkill,
    import_attaches_responses,
    a_second_source_enriches_a_known_report,
    batches_never_give_a_row_a_number_a_later_row_asks_for,
    the_same_report_in_two_batches_is_one_record,
    a_feed_that_fails_writes_nothing,
);

async fn import_is_idempotent(db: &Db) {
    let s = &db.store;
    const N: usize = 1234;
    let calls = Arc::new(AtomicU64::new(0));
    let last = Arc::new(AtomicU64::new(0));
    let (c, l) = (calls.clone(), last.clone());
    let progress = move |n: u64| {
        c.fetch_add(1, Ordering::SeqCst);
        l.store(n, Ordering::SeqCst);
    };
    let orgs = vec![org("NMH", "Northmoor Hospitals NHS Foundation Trust")];
    let first = s
        .import(&actor(), &orgs, pfd_batch(N), vec![], now(), &progress)
        .await
        .unwrap();
    assert_eq!((first.imported, first.skipped), (N as u64, 0));
    assert_eq!(last.load(Ordering::SeqCst), N as u64);
    assert_eq!(
        calls.load(Ordering::SeqCst),
        2,
        "every 1000 records, and at the end"
    );
    assert_eq!(s.count().await.unwrap(), N as u64);
    assert!(s.organisation(&code("NMH")).await.unwrap().is_some());
    let dump = db.dump().await;

    let again = s
        .import(&actor(), &orgs, pfd_batch(N), vec![], now(), &no_progress)
        .await
        .unwrap();
    assert_eq!((again.imported, again.skipped), (0, N as u64));
    assert_eq!(
        db.dump().await,
        dump,
        "the second import changes nothing at all"
    );

    // Preferred ids were used when free, shared references fell back to 9000+.
    let r1 = s
        .get_by_import_key("https://judiciary.example/report-1")
        .await
        .unwrap()
        .unwrap();
    assert_eq!(r1.id.to_string(), "PFD-2024-0002");
    let r10 = s
        .get_by_import_key("https://judiciary.example/report-10")
        .await
        .unwrap()
        .unwrap();
    assert!(
        r10.id.seq >= PFD_FALLBACK_FLOOR && r10.id.year == 2024,
        "{}",
        r10.id
    );
    let r0 = s
        .get_by_import_key("https://judiciary.example/report-0")
        .await
        .unwrap()
        .unwrap();
    assert_eq!(r0.id.to_string(), "PFD-2023-9000");
    // One audit row per record (after = NULL) and one summary row.
    assert_eq!(db.scalar("SELECT COUNT(*) FROM audit_events WHERE action = 'import' AND entity = 'recommendation' AND after_json IS NULL").await, N as i64);
    assert_eq!(
        db.scalar("SELECT COUNT(*) FROM audit_events WHERE entity = 'import'")
            .await,
        1
    );
    assert_eq!(db.scalar("SELECT COUNT(*) FROM outbox").await, N as i64);
    // The sequences moved past every number used by the import.
    let next = s
        .create(&actor(), alloc("PFD", 2023, data("PFD", "after")), now())
        .await
        .unwrap();
    assert_eq!(next.id.seq as usize, 9000 + N.div_ceil(3));
    // Exact ids already present are skipped too; within one batch as well.
    let exported = s.get(&id("PFD-2024-0002")).await.unwrap().unwrap();
    let mut copy = exported.clone();
    copy.import_key = Some("another key".into());
    let mut fresh = exported.clone();
    fresh.id = id("PFD-2024-7777");
    fresh.import_key = None;
    let batch = vec![
        NewRecommendation::from_export(copy),
        NewRecommendation::from_export(fresh.clone()),
        NewRecommendation::from_export(fresh.clone()),
    ];
    let sum = s
        .import(&actor(), &[], batch, vec![], now(), &no_progress)
        .await
        .unwrap();
    assert_eq!((sum.imported, sum.skipped), (1, 2));
    assert_eq!(
        s.get(&fresh.id).await.unwrap().unwrap(),
        fresh,
        "an exported record comes back exactly"
    );
}

async fn import_refuses_a_different_record_under_a_taken_id(db: &Db) {
    let s = &db.store;
    let first = vec![exact("HSSIB-2024-0012", data("HSSIB", "Sepsis screening"))];
    let done = s
        .import(&actor(), &[], first.clone(), vec![], now(), &no_progress)
        .await
        .unwrap();
    assert_eq!((done.imported, done.skipped), (1, 0));
    let dump = db.dump().await;
    // The same record again: skipped.
    let again = s
        .import(&actor(), &[], first, vec![], now(), &no_progress)
        .await
        .unwrap();
    assert_eq!((again.imported, again.skipped), (0, 1));
    // Another record under the same id, behind a good one: refused, whole.
    let batch = vec![
        alloc("CQC", 2024, data("CQC", "Fine")),
        exact("HSSIB-2024-0012", data("HSSIB", "Something else entirely")),
    ];
    match s
        .import(&actor(), &[], batch, vec![], now(), &no_progress)
        .await
    {
        Err(StoreError::ImportRecord { index, message }) => {
            assert_eq!(index, 1);
            assert!(
                message.contains("HSSIB-2024-0012") && message.contains("different content"),
                "{message}"
            );
        }
        other => panic!("expected a refusal, got {other:?}"),
    }
    assert_eq!(db.dump().await, dump, "nothing was written");
}

async fn import_is_all_or_nothing(db: &Db) {
    let s = &db.store;
    s.create(&actor(), alloc("PFD", 2024, data("PFD", "Before")), now())
        .await
        .unwrap();
    s.add_organisation(&actor(), &org("OLD", "Old Trust"))
        .await
        .unwrap();
    let before = db.dump().await;

    let mut batch = pfd_batch(1500);
    batch[1100].data.title = "   ".into();
    let orgs = vec![org("NEWT", "New Trust"), org("OLD", "Renamed")];
    match s
        .import(&actor(), &orgs, batch, vec![], now(), &no_progress)
        .await
    {
        Err(StoreError::ImportRecord { index, message }) => {
            assert_eq!(index, 1100);
            assert!(message.contains("field title"), "{message}");
        }
        other => panic!("expected invalid, got {other:?}"),
    }
    // Two chunks were written before the bad record; all rolled back.
    assert_eq!(
        db.dump().await,
        before,
        "records, organisations, id_sequences, audit and outbox unchanged"
    );
    assert!(s.organisation(&code("NEWT")).await.unwrap().is_none());
}

/// Run by `import_survives_sigkill` in a child process, never on its own:
/// starts a long import and reports progress on stdout until it is killed.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore]
async fn sigkill_child() {
    let Ok(url) = std::env::var("CONCORD_SIGKILL_URL") else {
        return;
    };
    let store = SqlStore::open(&url).await.unwrap();
    let progress = |n: u64| {
        let mut out = std::io::stdout();
        let _ = writeln!(out, "progress {n}");
        let _ = out.flush();
    };
    let orgs = [org("KILL", "Killed Trust")];
    let r = store
        .import(
            &actor(),
            &orgs,
            pfd_batch(300_000),
            vec![],
            now(),
            &progress,
        )
        .await;
    println!("finished {:?}", r.map(|s| s.imported));
}

async fn import_survives_sigkill(db: &Db) {
    use std::io::BufRead as _;
    db.store
        .create(&actor(), alloc("PFD", 2024, data("PFD", "Before")), now())
        .await
        .unwrap();
    let before = db.dump().await;
    let mut child = std::process::Command::new(std::env::current_exe().unwrap())
        .args([
            "suite::import::sigkill_child",
            "--exact",
            "--ignored",
            "--nocapture",
            "--test-threads=1",
        ])
        .env("CONCORD_SIGKILL_URL", &db.url)
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap();
    let stdout = child.stdout.take().unwrap();
    // Wait until several chunks of the import have been written.
    let under_way = tokio::task::spawn_blocking(move || {
        for line in std::io::BufReader::new(stdout).lines() {
            let line = line.ok()?;
            if let Some(n) = line.strip_prefix("progress ") {
                if n.trim().parse::<u64>().ok()? >= 3000 {
                    return Some(line);
                }
            } else if line.starts_with("finished") {
                return None;
            }
        }
        None
    })
    .await
    .unwrap();
    child.kill().unwrap(); // SIGKILL on Unix
    child.wait().unwrap();
    assert!(under_way.is_some(), "the child's import never got going");
    assert_eq!(
        db.dump().await,
        before,
        "a killed import leaves the database as it was"
    );
    // And the database is fine to use afterwards.
    let sum = db
        .store
        .import(&actor(), &[], pfd_batch(10), vec![], now(), &no_progress)
        .await
        .unwrap();
    assert_eq!(sum.imported, 10);
}

async fn import_attaches_responses(db: &Db) {
    let s = &db.store;
    let report = |key: &str, addressees: Vec<(&str, Option<&str>)>| {
        let mut dt = data("PFD", key);
        dt.addressees = addressees
            .into_iter()
            .map(|(n, o)| Addressee {
                name: n.into(),
                org: o.map(code),
                status: AddresseeStatus::AwaitingResponse,
                due: d("2024-05-01"),
                responses: vec![],
                ..Default::default()
            })
            .collect();
        NewRecommendation {
            import_key: Some(key.into()),
            ..alloc("PFD", 2024, dt)
        }
    };
    let resp = |row: usize,
                key: &str,
                who: Option<&str>,
                org: Option<&str>,
                url: Option<&str>,
                text: Option<&str>| {
        ResponseAttachment {
            row,
            parent_key: key.into(),
            respondent: who.map(String::from),
            respondent_org: org.map(code),
            response: Response {
                received: d("2024-04-20"),
                respondent: None,
                url: url.map(String::from),
                text: text.map(String::from),
                ..Default::default()
            },
        }
    };
    // First: the reports, and a response whose report is in the same batch.
    let sum = s
        .import(
            &actor(),
            &[],
            vec![
                report(
                    "k1",
                    vec![
                        ("Chief Executive, NHS England", Some("NHSE")),
                        ("Northmoor Hospitals NHS Trust", None),
                    ],
                ),
                report("k2", vec![("Care Quality Commission", Some("CQC"))]),
            ],
            vec![resp(1, "k2", Some("CQC"), Some("CQC"), Some("u-cqc"), None)],
            now(),
            &no_progress,
        )
        .await
        .unwrap();
    assert_eq!((sum.imported, sum.responses_attached), (2, 1));
    let k2 = s.get_by_import_key("k2").await.unwrap().unwrap();
    assert_eq!(k2.version, 1, "attached while importing the report");
    assert_eq!(
        k2.data.addressees[0].status,
        AddresseeStatus::ResponseReceived
    );
    assert_eq!(
        k2.data.addressees[0].responses[0].url.as_deref(),
        Some("u-cqc")
    );

    // Then a responses file for reports already stored.
    let later = t("2024-10-01T00:00:00Z");
    let responses = vec![
        resp(
            1,
            "k1",
            Some("NHS England"),
            Some("NHSE"),
            Some("u1"),
            Some("by org"),
        ),
        resp(
            2,
            "k1",
            Some("Northmoor Hospitals"),
            None,
            Some("u2"),
            Some("by name"),
        ),
        resp(
            3,
            "k1",
            Some("Royal College of Nursing"),
            None,
            Some("u3"),
            Some("new addressee"),
        ),
        resp(
            4,
            "k1",
            Some("NHS England"),
            Some("NHSE"),
            Some("u1"),
            Some("same url again"),
        ),
        resp(5, "k1", Some("Someone"), None, None, Some("no url")),
        resp(6, "k1", Some("Someone"), None, None, Some("no url")),
        resp(7, "missing", Some("Nobody"), None, Some("u7"), None),
        resp(8, "k2", Some("CQC"), Some("CQC"), Some("u-cqc"), None),
        resp(9, "also missing", None, None, None, None),
    ];
    let sum = s
        .import(
            &actor(),
            &[],
            vec![],
            responses.clone(),
            later,
            &no_progress,
        )
        .await
        .unwrap();
    assert_eq!(sum.imported, 0);
    assert_eq!(sum.responses_attached, 4);
    assert_eq!(sum.responses_skipped, 3);
    assert_eq!(sum.responses_unmatched, vec![7, 9]);
    let k1 = s.get_by_import_key("k1").await.unwrap().unwrap();
    assert_eq!(k1.version, 2, "a stored report's version goes up");
    assert_eq!(k1.updated_at, later);
    let a = &k1.data.addressees;
    assert_eq!(a.len(), 4);
    assert_eq!(
        a[0].responses
            .iter()
            .map(|r| r.text.clone().unwrap())
            .collect::<Vec<_>>(),
        ["by org"]
    );
    assert_eq!(a[1].responses[0].text.as_deref(), Some("by name"));
    assert_eq!(
        (a[2].name.as_str(), a[2].org.clone()),
        ("Royal College of Nursing", None)
    );
    assert_eq!(a[3].name, "Someone");
    assert!(
        a.iter()
            .all(|x| x.status == AddresseeStatus::ResponseReceived)
    );
    assert_eq!(a[0].responses[0].respondent.as_deref(), Some("NHS England"));
    let k2_after = s.get_by_import_key("k2").await.unwrap().unwrap();
    assert_eq!(k2_after, k2, "nothing new for k2: untouched");
    let h = s.history(&k1.id.to_string()).await.unwrap();
    assert_eq!(
        h.iter().map(|e| e.action.as_str()).collect::<Vec<_>>(),
        ["import", "attach_responses"]
    );
    assert_eq!(h[1].after.as_ref().unwrap()["version"], 2);

    // The same file again adds nothing.
    let dump = db.dump().await;
    let sum = s
        .import(&actor(), &[], vec![], responses, later, &no_progress)
        .await
        .unwrap();
    assert_eq!((sum.responses_attached, sum.responses_skipped), (0, 7));
    assert_eq!(db.dump().await, dump);
}

/// `cargo test -p concord-store --release --test it -- suite:: --ignored --nocapture import_throughput`
/// (set CONCORD_IMPORT_N to change the size; default 100,000).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore]
async fn import_throughput() {
    let n: usize = std::env::var("CONCORD_IMPORT_N")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(100_000);
    let mut backends = vec![Backend::Sqlite];
    if std::env::var("CONCORD_TEST_PG_URL").is_ok() {
        backends.push(Backend::Postgres);
    }
    for backend in backends {
        let db = Db::new(backend, "throughput").await.unwrap();
        let batch = pfd_batch(n);
        let started = std::time::Instant::now();
        let sum = db
            .store
            .import(&actor(), &[], batch, vec![], now(), &no_progress)
            .await
            .unwrap();
        let secs = started.elapsed().as_secs_f64();
        assert_eq!(sum.imported as usize, n);
        let _ = writeln!(
            std::io::stderr(),
            "{backend:?}: imported {n} records in {secs:.2} s = {:.0} records/s",
            n as f64 / secs
        );
        let started = std::time::Instant::now();
        let mut seen = 0;
        db.store
            .scan(1000, &mut |recs| {
                seen += recs.len();
                Ok(())
            })
            .await
            .unwrap();
        let _ = writeln!(
            std::io::stderr(),
            "{backend:?}: scanned {seen} records in {:.2} s",
            started.elapsed().as_secs_f64()
        );
        db.finish().await;
    }
}

/// A PFD-like report as a source gives it: `text` None means the source
/// published no concerns (a stand-in).
fn sourced(
    key: &str,
    reference: &str,
    published: &str,
    text: Option<&str>,
    from: DataSource,
) -> NewRecommendation {
    let mut data = data("PFD", "A report");
    data.kind = RecKind::Concern;
    data.local_ref = Some(reference.into());
    data.published = d(published);
    data.response_deadline = None;
    data.links.clear();
    data.source = Some(Source {
        title: Some("Regulation 28 report: A Coroner, Area".into()),
        date: d(published),
        url: Some(format!("https://example.org/{key}")),
        local_ref: Some(reference.into()),
    });
    data.text = text
        .unwrap_or("(No concerns text was published with this report.)")
        .into();
    data.title = text
        .map(|t| t.chars().take(30).collect())
        .unwrap_or_else(|| "Road: report".into());
    for a in &mut data.addressees {
        a.due = None;
        a.responses.clear();
        a.status = AddresseeStatus::AwaitingResponse;
        a.acceptance = None;
        a.implementation = None;
        a.assessment = None;
        a.closure = None;
        a.actions.clear();
        a.updates.clear();
        a.escalations.clear();
        a.reassess_on = None;
        a.verified_on = None;
    }
    let stand_ins: Vec<RecordPart> = if text.is_none() {
        vec![RecordPart::Text, RecordPart::Title]
    } else {
        vec![]
    };
    let provenance = Provenance::of_source(&data, from, Some("file.csv"), &stand_ins);
    let (y, n) = reference.split_once('-').unwrap();
    NewRecommendation {
        id: IdRequest::Preferred {
            id: RecommendationId::new(code("PFD"), y.parse().unwrap(), n.parse().unwrap()).unwrap(),
            fallback_floor: 9000,
        },
        data,
        import_key: Some(format!("pfd:https://example.org/{key}")),
        version: None,
        created_at: None,
        updated_at: None,
        provenance,
    }
}

async fn a_second_source_enriches_a_known_report(db: &Db) {
    let s = &db.store;
    let import = |recs: Vec<NewRecommendation>| async move {
        s.import(&actor(), &[], recs, vec![], now(), &no_progress)
            .await
    };
    let first = import(vec![sourced(
        "r1",
        "2023-0101",
        "2023-03-01",
        None,
        DataSource::PfdJudiciary,
    )])
    .await
    .unwrap();
    assert_eq!((first.imported, first.enriched), (1, 0));
    let text = "The junction has no warning signs before the bend.";
    let second = import(vec![sourced(
        "r1",
        "2023-0110",
        "2023-03-09",
        Some(text),
        DataSource::PfdToolkit,
    )])
    .await
    .unwrap();
    assert_eq!(
        (second.imported, second.enriched, second.skipped),
        (0, 1, 0)
    );
    let parts: Vec<RecordPart> = second.variants.iter().map(|v| v.part).collect();
    assert_eq!(parts, vec![RecordPart::Reference, RecordPart::Published]);
    let rec = s.get(&id("PFD-2023-0101")).await.unwrap().unwrap();
    assert_eq!(
        rec.data.text, text,
        "the placeholder gave way to the genuine text"
    );
    assert_eq!(
        rec.data.local_ref.as_deref(),
        Some("2023-0101"),
        "the judiciary's reference"
    );
    assert_eq!(rec.data.published, d("2023-03-01"));
    assert_eq!(rec.version, 2);
    assert_eq!(
        rec.provenance.origin(RecordPart::Text).unwrap().from,
        DataSource::PfdToolkit
    );
    assert_eq!(
        rec.provenance.origin(RecordPart::Text).unwrap().at,
        Some(now())
    );
    assert_eq!(rec.provenance.variants.len(), 2);
    let h = s.history("PFD-2023-0101").await.unwrap();
    assert_eq!(
        h.iter().map(|e| e.action.as_str()).collect::<Vec<_>>(),
        vec!["import", "enrich"]
    );
    // Again: nothing new, nothing written.
    let again = import(vec![sourced(
        "r1",
        "2023-0110",
        "2023-03-09",
        Some(text),
        DataSource::PfdToolkit,
    )])
    .await
    .unwrap();
    assert_eq!((again.imported, again.enriched, again.skipped), (0, 0, 1));
    assert_eq!(
        s.get(&id("PFD-2023-0101")).await.unwrap().unwrap().version,
        2
    );
    // Our own export of the enriched record comes back unchanged (provenance too).
    let exported = s.get(&id("PFD-2023-0101")).await.unwrap().unwrap();
    let json = serde_json::to_string(&exported).unwrap();
    let back: Recommendation = serde_json::from_str(&json).unwrap();
    assert_eq!(back, exported);

    // A report known by reference only (another address), same date and
    // coroner: enriched. Two stored reports with that reference and date:
    // refused, naming both, and nothing written.
    import(vec![sourced(
        "r2",
        "2023-0200",
        "2023-05-01",
        None,
        DataSource::PfdJudiciary,
    )])
    .await
    .unwrap();
    let by_ref = import(vec![sourced(
        "r2-moved",
        "2023-0200",
        "2023-05-01",
        Some(text),
        DataSource::PfdToolkit,
    )])
    .await
    .unwrap();
    assert_eq!((by_ref.imported, by_ref.enriched), (0, 1));
    import(vec![
        sourced(
            "r3",
            "2023-0300",
            "2023-06-01",
            None,
            DataSource::PfdJudiciary,
        ),
        sourced(
            "r3-twin",
            "2023-0300",
            "2023-06-01",
            None,
            DataSource::PfdJudiciary,
        ),
    ])
    .await
    .unwrap();
    let before = s.get(&id("PFD-2023-0300")).await.unwrap().unwrap();
    let err = import(vec![
        sourced(
            "r1",
            "2023-0101",
            "2023-03-01",
            Some("A longer genuine text than the one kept, about the bend and the signs."),
            DataSource::PfdToolkit,
        ),
        sourced(
            "r3-elsewhere",
            "2023-0300",
            "2023-06-01",
            Some(text),
            DataSource::PfdToolkit,
        ),
    ])
    .await
    .unwrap_err();
    match err {
        StoreError::ImportRecord { index, message } => {
            assert_eq!(index, 1);
            assert!(
                message.contains("PFD-2023-0300") && message.contains("PFD-2023-9000"),
                "{message}"
            );
        }
        e => panic!("expected an import error, got {e}"),
    }
    assert_eq!(s.get(&id("PFD-2023-0300")).await.unwrap().unwrap(), before);
    assert_eq!(
        s.get(&id("PFD-2023-0101")).await.unwrap().unwrap().version,
        2,
        "all or nothing"
    );

    // Provenance survives a backup restored into the other backend.
    let other = match (db.backend, pg_admin_url().is_some()) {
        (Backend::Sqlite, true) => Backend::Postgres,
        _ => Backend::Sqlite,
    };
    let target = db.sibling(other, "provenance_restore").await;
    let dump = db.dump().await;
    target
        .store
        .restore(&mut std::io::Cursor::new(dump.clone().into_bytes()))
        .await
        .unwrap();
    let restored = target
        .store
        .get(&id("PFD-2023-0101"))
        .await
        .unwrap()
        .unwrap();
    assert_eq!(
        restored,
        s.get(&id("PFD-2023-0101")).await.unwrap().unwrap()
    );
    assert_eq!(restored.provenance.variants.len(), 2);
    assert_eq!(target.dump().await, dump);
}

/// Records arrive a batch at a time (1,000): a number the 1,501st row asks
/// for is not handed to one of the first thousand, which asked for none.
async fn batches_never_give_a_row_a_number_a_later_row_asks_for(db: &Db) {
    let s = &db.store;
    let mut batch: Vec<NewRecommendation> = (0..1500)
        .map(|i| alloc("CQC", 2026, data("CQC", &format!("Allocated {i}"))))
        .collect();
    batch.push(exact("CQC-2026-0005", data("CQC", "Asked for number 5")));
    let sum = s
        .import(&actor(), &[], batch, vec![], now(), &no_progress)
        .await
        .unwrap();
    assert_eq!((sum.imported, sum.skipped), (1501, 0));
    assert_eq!(s.count().await.unwrap(), 1501);
    let five = s.get(&id("CQC-2026-0005")).await.unwrap().unwrap();
    assert_eq!(five.data.title, "Asked for number 5");
    let next = s
        .create(&actor(), alloc("CQC", 2026, data("CQC", "after")), now())
        .await
        .unwrap();
    assert_eq!(
        next.id.seq, 1502,
        "1-1501 were used, 5 by the row that asked"
    );
}

/// Two rows of one import with one address are one report from two
/// sources, even when a thousand rows lie between them.
async fn the_same_report_in_two_batches_is_one_record(db: &Db) {
    let s = &db.store;
    let mut batch = pfd_batch(1500);
    batch[1200].import_key = batch[0].import_key.clone();
    let key = batch[0].import_key.clone().unwrap();
    let sum = s
        .import(&actor(), &[], batch, vec![], now(), &no_progress)
        .await
        .unwrap();
    assert_eq!(sum.imported, 1499);
    assert_eq!(sum.skipped + sum.enriched_in_import, 1);
    assert_eq!(s.count().await.unwrap(), 1499);
    let kept = s.get_by_import_key(&key).await.unwrap().unwrap();
    assert_eq!(kept.data.title, "Report 0", "the first row's record");
}

/// The caller could not read its files to the end: the batches already
/// written are rolled back with everything else.
async fn a_feed_that_fails_writes_nothing(db: &Db) {
    let s = &db.store;
    let before = db.dump().await;
    let mut plan = concord_store::ImportPlan::default();
    let rows: Vec<NewRecommendation> = pfd_batch(1200);
    for r in &rows {
        plan.note(r);
    }
    let (tx, mut feed) = tokio::sync::mpsc::channel(4);
    let mut rows = rows.into_iter().enumerate();
    tx.send(Ok(rows.by_ref().take(1000).collect()))
        .await
        .unwrap();
    tx.send(Err(
        "reports.json: cannot be read after line 1001".to_string()
    ))
    .await
    .unwrap();
    drop(tx);
    match s
        .import_feed(
            &actor(),
            &[org("NEWT", "New Trust")],
            &plan,
            &mut feed,
            vec![],
            now(),
            &no_progress,
        )
        .await
    {
        Err(StoreError::ImportSource(m)) => assert!(m.contains("line 1001"), "{m}"),
        other => panic!("expected the reader's error, got {other:?}"),
    }
    assert_eq!(db.dump().await, before, "nothing was written");
}
