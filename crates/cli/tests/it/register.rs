//! The register end to end through the real binary, on SQLite and PostgreSQL.

use crate::common;

use std::io::{BufRead, BufReader, Read, Write};
use std::process::{Command, Stdio};

use common::*;

fn export(db: &Db, format: &str) -> Vec<u8> {
    let path = db.dir.path().join(format!("export.{format}"));
    ok(
        db,
        &[
            "export",
            "--format",
            format,
            "--out",
            path.to_str().unwrap(),
        ],
    );
    std::fs::read(&path).expect("export written")
}

/// Loads a source into a fresh database of the backend: the demo set (rich:
/// responses, links, costs, drafts) or a generated corpus.
fn load(db: &Db, source: &str) {
    if source == "demo" {
        ok(db, &["demo", "--load"]);
    } else {
        let corpus = db.dir.path().join("gen.json");
        ok(
            db,
            &[
                "gen",
                "--count",
                "300",
                "--seed",
                "7",
                "--format",
                "json",
                "--out",
                corpus.to_str().unwrap(),
            ],
        );
        let out = ok(db, &["import", corpus.to_str().unwrap()]);
        assert!(
            out.contains("imported 300, enriched 0, skipped 0, rejected 0"),
            "{out}"
        );
    }
}

fn fresh_like(db: &Db) -> Db {
    if db.name == "sqlite" {
        sqlite()
    } else {
        postgres().expect("server")
    }
}

#[test]
fn export_import_export_is_identical_on_every_backend() {
    for source in ["demo", "generated"] {
        for db in backends() {
            load(&db, source);
            for format in ["json", "csv"] {
                let first = export(&db, format);
                let file = db.dir.path().join(format!("first.{format}"));
                std::fs::write(&file, &first).unwrap();
                let fresh = fresh_like(&db);
                let out = ok(
                    &fresh,
                    &["import", "--format", format, file.to_str().unwrap()],
                );
                assert!(out.contains("rejected 0"), "{} {source}: {out}", db.name);
                let second = export(&fresh, format);
                assert!(
                    first == second,
                    "{} {source} {format}: export -> import -> export differs",
                    db.name
                );
                if format == "json" {
                    let n = serde_json::from_slice::<serde_json::Value>(&second)
                        .unwrap()
                        .as_array()
                        .unwrap()
                        .len();
                    assert!(n >= 180, "{source}: only {n} records");
                }
            }
        }
    }
}

#[test]
fn a_different_record_under_a_taken_id_is_refused() {
    for db in backends() {
        ok(&db, &["demo", "--load"]);
        let before = export(&db, "json");
        let mut all: Vec<serde_json::Value> = serde_json::from_slice(&before).unwrap();
        all.truncate(3);
        all[2]["title"] = serde_json::Value::from("A different recommendation");
        let file = db.dir.path().join("clash.json");
        std::fs::write(&file, serde_json::to_vec(&all).unwrap()).unwrap();
        let out = concord(&db, &["import", file.to_str().unwrap()]);
        let err = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(1), "{err}");
        assert!(
            err.contains("clash.json: row 3") && err.contains("different content"),
            "{err}"
        );
        assert_eq!(export(&db, "json"), before);
    }
}

#[test]
fn reimporting_a_file_adds_nothing() {
    for db in backends() {
        let corpus = db.dir.path().join("gen.jsonl");
        ok(
            &db,
            &[
                "gen",
                "--count",
                "50",
                "--seed",
                "3",
                "--out",
                corpus.to_str().unwrap(),
            ],
        );
        let first = ok(
            &db,
            &["import", "--format", "json", corpus.to_str().unwrap()],
        );
        assert!(
            first.contains("imported 50, enriched 0, skipped 0"),
            "{first}"
        );
        let second = ok(
            &db,
            &["import", "--format", "json", corpus.to_str().unwrap()],
        );
        assert!(
            second.contains("imported 0, enriched 0, skipped 50"),
            "{second}"
        );
    }
}

/// Each bad file is refused with a message naming the file (and row and
/// field where there is one), exit status 1, and the register unchanged.
#[test]
fn bad_input_is_refused_and_changes_nothing() {
    for db in backends() {
        ok(&db, &["demo", "--load"]);
        let before = export(&db, "json");
        let dir = db.dir.path();
        let write = |name: &str, bytes: &[u8]| {
            let p = dir.join(name);
            std::fs::write(&p, bytes).unwrap();
            p
        };
        let header = "issuer,title,text,published\n";
        let big = format!(
            "{header}HSSIB,Big,\"{}\",2024-01-01\n",
            "x".repeat(10 * 1024 * 1024)
        );
        let corpus = dir.join("ok.json");
        ok(
            &db,
            &[
                "gen",
                "--count",
                "20",
                "--format",
                "json",
                "--out",
                corpus.to_str().unwrap(),
            ],
        );
        let good_xlsx = dir.join("ok.xlsx");
        {
            let fresh = sqlite();
            ok(&fresh, &["import", corpus.to_str().unwrap()]);
            ok(
                &fresh,
                &[
                    "export",
                    "--format",
                    "xlsx",
                    "--out",
                    good_xlsx.to_str().unwrap(),
                ],
            );
        }
        let xlsx = std::fs::read(&good_xlsx).unwrap();
        let cases: Vec<(&str, std::path::PathBuf, Vec<&str>)> = vec![
            (
                "unbalanced quote",
                write(
                    "quote.csv",
                    format!("{header}HSSIB,\"Open,text,2024-01-01\nCQC,t,x,2024-01-02\n")
                        .as_bytes(),
                ),
                vec!["quote.csv"],
            ),
            (
                "wrong column count",
                write(
                    "cols.csv",
                    format!("{header}HSSIB,Title,Text,2024-01-01,extra\n").as_bytes(),
                ),
                vec!["cols.csv", "row"],
            ),
            (
                "invalid UTF-8",
                write(
                    "utf8.csv",
                    b"issuer,title,text,published\nHSSIB,T\xff\xfe,x,2024-01-01\n",
                ),
                vec!["utf8.csv", "UTF-8"],
            ),
            (
                "empty file",
                write("empty.csv", b""),
                vec!["empty.csv", "empty"],
            ),
            (
                "wrong date",
                write(
                    "date.csv",
                    format!("{header}HSSIB,Title,Text,31/02/2024\n").as_bytes(),
                ),
                vec!["date.csv", "row 1", "published"],
            ),
            (
                "10 MB field",
                write("big.csv", big.as_bytes()),
                vec!["big.csv", "row 1", "text"],
            ),
            (
                "JSON of the wrong shape",
                write("shape.json", br#"{"hello": "world"}"#),
                vec!["shape.json"],
            ),
            (
                "truncated XLSX",
                write("cut.xlsx", &xlsx[..xlsx.len() / 2]),
                vec!["cut.xlsx"],
            ),
        ];
        for (what, path, expect) in cases {
            let out = concord(&db, &["import", path.to_str().unwrap()]);
            let err = String::from_utf8_lossy(&out.stderr);
            assert_eq!(out.status.code(), Some(1), "{what} on {}: {err}", db.name);
            for e in expect {
                assert!(
                    err.contains(e),
                    "{what} on {}: stderr should mention {e:?}: {err}",
                    db.name
                );
            }
            assert!(!err.contains("panicked"), "{what}: {err}");
            assert_eq!(
                export(&db, "json"),
                before,
                "{what} changed the register on {}",
                db.name
            );
        }
        // An unknown format is a usage error.
        let out = concord(
            &db,
            &["import", "--format", "yaml", corpus.to_str().unwrap()],
        );
        assert_eq!(out.status.code(), Some(2));
        assert_eq!(export(&db, "json"), before);
    }
}

#[test]
fn partial_import_keeps_good_rows_and_reports_the_rest() {
    let db = sqlite();
    let file = db.dir.path().join("mixed.csv");
    std::fs::write(&file, "issuer,title,text,published\nHSSIB,Good one,Do this.,2024-01-01\nHSSIB,,No title,2024-01-01\nCQC,Another,Do that.,2024-02-01\n").unwrap();
    let refused = concord(&db, &["import", file.to_str().unwrap()]);
    assert_eq!(refused.status.code(), Some(1));
    assert!(
        String::from_utf8_lossy(&refused.stderr).contains("row 2"),
        "{}",
        String::from_utf8_lossy(&refused.stderr)
    );
    let out = ok(&db, &["import", "--partial", file.to_str().unwrap()]);
    assert!(
        out.contains("imported 2, enriched 0, skipped 0, rejected 1"),
        "{out}"
    );
    let report = std::fs::read_to_string(db.dir.path().join("mixed.csv.rejected.csv")).unwrap();
    assert!(
        report.contains(",2,") && report.contains("title"),
        "{report}"
    );
    let list = ok(&db, &["list", "--json"]);
    let v: serde_json::Value = serde_json::from_str(&list).unwrap();
    assert_eq!(v["total"], 2);
}

#[test]
fn show_list_and_exit_codes() {
    let db = sqlite();
    ok(&db, &["demo", "--load"]);
    let list: serde_json::Value = serde_json::from_str(&ok(
        &db,
        &["list", "--json", "--issuer", "HSSIB", "--limit", "5"],
    ))
    .unwrap();
    let items = list["items"].as_array().unwrap();
    assert!(!items.is_empty() && items.len() <= 5);
    assert!(items.iter().all(|r| r["issuer"] == "HSSIB"));
    let id = items[0]["id"].as_str().unwrap();
    let shown: serde_json::Value = serde_json::from_str(&ok(&db, &["show", id, "--json"])).unwrap();
    assert_eq!(shown["id"], id);
    assert!(ok(&db, &["show", id]).contains(id));

    let missing = concord(&db, &["show", "HSSIB-1999-0001"]);
    assert_eq!(missing.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&missing.stderr).contains("not found"));
    let bad = concord(&db, &["show", "not-an-id"]);
    assert_eq!(bad.status.code(), Some(1));
    assert_eq!(concord(&db, &["no-such-command"]).status.code(), Some(2));
    let bad_filter = concord(&db, &["list", "--status", "sideways"]);
    assert_eq!(bad_filter.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&bad_filter.stderr).contains("--status"));
}

#[test]
fn serve_prints_its_address_and_answers() {
    // `serve_and_get` reads the first line ("listening on http://...") to
    // find the port, and fails if it is anything else.
    let resp = serve_and_get(&["--addr", "127.0.0.1:0"], "/healthz");
    assert!(resp.starts_with("HTTP/1.1 200"), "{resp}");
}

/// Starts `concord serve` with these arguments; the response to one GET of
/// `path`, as raw text.
fn serve_and_get(args: &[&str], path: &str) -> String {
    let db = sqlite();
    let mut child = Command::new(bin())
        .arg("serve")
        .args(args)
        .env("CONCORD_DB", &db.url)
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let mut first = String::new();
    BufReader::new(child.stdout.take().unwrap())
        .read_line(&mut first)
        .unwrap();
    let listening: std::net::SocketAddr = first
        .trim()
        .strip_prefix("listening on http://")
        .unwrap_or_else(|| panic!("first line: {first:?}"))
        .parse()
        .unwrap();
    let addr = std::net::SocketAddr::from(([127, 0, 0, 1], listening.port()));
    let mut s = std::net::TcpStream::connect(addr).unwrap();
    write!(
        s,
        "GET {path} HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\n\r\n"
    )
    .unwrap();
    let mut resp = String::new();
    s.read_to_string(&mut resp).unwrap();
    child.kill().ok();
    child.wait().ok();
    resp
}

/// A server others can reach marks its cookies Secure and sends HSTS
/// unless told otherwise; a local copy on loopback does not.
#[test]
fn cookies_are_secure_by_default_beyond_loopback() {
    let head = |r: &str| {
        r.split("\r\n\r\n")
            .next()
            .unwrap_or("")
            .to_ascii_lowercase()
    };
    let local = head(&serve_and_get(&["--addr", "127.0.0.1:0"], "/sign-in"));
    assert!(local.contains("set-cookie:"), "{local}");
    assert!(!local.contains("; secure"), "{local}");
    assert!(!local.contains("strict-transport-security"), "{local}");
    let open = head(&serve_and_get(&["--addr", "0.0.0.0:0"], "/sign-in"));
    assert!(open.contains("; secure"), "{open}");
    assert!(open.contains("strict-transport-security"), "{open}");
    let told = head(&serve_and_get(
        &["--addr", "0.0.0.0:0", "--insecure-cookies"],
        "/sign-in",
    ));
    assert!(
        told.contains("set-cookie:") && !told.contains("; secure"),
        "{told}"
    );
    let proxied = head(&serve_and_get(
        &["--addr", "127.0.0.1:0", "--trusted-proxy", "127.0.0.1"],
        "/sign-in",
    ));
    assert!(proxied.contains("; secure"), "{proxied}");
}

#[test]
fn backup_and_restore_across_backends() {
    for db in backends() {
        ok(&db, &["demo", "--load"]);
        let token = ok(&db, &["token", "create", "--org", "HSSIB"]);
        assert!(token.trim().starts_with("concord_"));
        let before = export(&db, "json");
        let file = db.dir.path().join("backup.jsonl");
        ok(&db, &["backup", file.to_str().unwrap()]);
        for target in backends() {
            ok(&target, &["restore", file.to_str().unwrap()]);
            assert!(
                export(&target, "json") == before,
                "{} -> {}: restore differs",
                db.name,
                target.name
            );
            // A restore never lands on top of existing records.
            let again = concord(&target, &["restore", file.to_str().unwrap()]);
            assert_eq!(again.status.code(), Some(1));
        }
    }
}

/// Two sources of the same coroners' reports, written by us in the two
/// PFD layouts; the names of the addressees as coroners write them.
const JUDICIARY: &str = "ref,date_of_report,coroner_name,coroner_area,category,this_report_is_being_sent_to,report_url,pdf_url,reply_urls,concerns,action,response
2023-0101,01/03/2023,A Coroner,Northshire,Road (Highways Safety) related deaths,Chief Executive | Chief Executive of Northmoor Hospitals NHS Trust,https://www.judiciary.uk/prevention-of-future-death-reports/report-one/,https://www.judiciary.uk/wp-content/uploads/2023/03/2023-0101.pdf,,,,
2023-0102,02/03/2023,A Coroner,Northshire,Hospital Death (Clinical Procedures and medical management) related deaths,Northmoor Hospitals NHS Foundation Trust | The Secretary of State for Health and Social Care,https://www.judiciary.uk/prevention-of-future-death-reports/report-two/,https://www.judiciary.uk/wp-content/uploads/2023/03/2023-0102.pdf,,,,
";
const TOOLKIT: &str = "url,id,date,coroner,area,receiver,investigation,circumstances,concerns
https://www.judiciary.uk/prevention-of-future-death-reports/report-one/,2023-0101,2023-03-09,A Coroner,Northshire,Chief Executive; Chief Executive of Northmoor Hospitals NHS Trust,,,\"The bend on the B1234 has no warning signs, and the verge hides the junction from drivers.\"
";

#[test]
fn a_second_source_and_addressee_names_as_written() {
    for db in backends() {
        let dir = db.dir.path();
        std::fs::write(dir.join("judiciary.csv"), JUDICIARY).unwrap();
        std::fs::write(dir.join("toolkit.csv"), TOOLKIT).unwrap();
        let out = ok(&db, &["import", "judiciary.csv"]);
        assert!(
            out.contains("imported 2, enriched 0, skipped 0, rejected 0"),
            "{}: {out}",
            db.name
        );
        // Two spellings of the trust are one unverified organisation; the
        // Secretary of State is DHSC; a bare post is linked to nobody.
        let unverified = ok(&db, &["org", "list", "--unverified"]);
        let northmoor: Vec<&str> = unverified
            .lines()
            .filter(|l| l.contains("Northmoor"))
            .collect();
        assert_eq!(northmoor.len(), 1, "{}: {unverified}", db.name);
        assert!(northmoor[0].contains("(unverified)"), "{}", northmoor[0]);
        let code = northmoor[0].split_whitespace().next().unwrap().to_string();
        let two = ok(&db, &["show", "PFD-2023-0102", "--json"]);
        let two: serde_json::Value = serde_json::from_str(&two).unwrap();
        assert_eq!(two["addressees"][0]["org"], code.as_str());
        assert_eq!(two["addressees"][1]["org"], "DHSC");
        let unresolved = ok(&db, &["org", "unresolved"]);
        assert!(
            unresolved.contains("Chief Executive"),
            "{}: {unresolved}",
            db.name
        );
        assert!(
            !unresolved.contains("Northmoor"),
            "{}: {unresolved}",
            db.name
        );

        // The toolkit's copy fills the text; its other date is kept as a
        // variant and said, not taken.
        let run = common::concord(&db, &["import", "toolkit.csv"]);
        let (stdout, stderr) = (
            String::from_utf8_lossy(&run.stdout),
            String::from_utf8_lossy(&run.stderr),
        );
        assert!(run.status.success(), "{}: {stderr}", db.name);
        assert!(
            stdout.contains("imported 0, enriched 1, skipped 0, rejected 0"),
            "{}: {stdout}",
            db.name
        );
        assert!(
            stderr.contains("toolkit.csv: row 1: PFD-2023-0101: date of the report from pfd_toolkit is \"2023-03-09\"; the record keeps \"2023-03-01\""),
            "{}: {stderr}",
            db.name
        );
        let one: serde_json::Value =
            serde_json::from_str(&ok(&db, &["show", "PFD-2023-0101", "--json"])).unwrap();
        assert!(one["text"].as_str().unwrap().contains("no warning signs"));
        assert_eq!(one["published"], "2023-03-01");
        assert_eq!(one["provenance"]["variants"][0]["value"], "2023-03-09");
        let again = ok(&db, &["import", "toolkit.csv"]);
        assert!(
            again.contains("imported 0, enriched 0, skipped 1"),
            "{}: {again}",
            db.name
        );

        // An operator merges the trust into a registered body and undoes it.
        ok(
            &db,
            &[
                "org",
                "add",
                "--code",
                "NMH",
                "--name",
                "Northmoor Hospitals",
                "--kind",
                "provider",
            ],
        );
        let merged = ok(&db, &["org", "merge", &code, "--into", "NMH"]);
        assert!(
            merged.contains("2 addressee entries of 2 recommendations moved"),
            "{}: {merged}",
            db.name
        );
        let two: serde_json::Value =
            serde_json::from_str(&ok(&db, &["show", "PFD-2023-0102", "--json"])).unwrap();
        assert_eq!(two["addressees"][0]["org"], "NMH");
        let refused = common::concord(&db, &["org", "merge", "NMH", "--into", "NMH"]);
        assert_eq!(refused.status.code(), Some(1), "{}", db.name);
        ok(&db, &["org", "unmerge", &code]);
        let two: serde_json::Value =
            serde_json::from_str(&ok(&db, &["show", "PFD-2023-0102", "--json"])).unwrap();
        assert_eq!(two["addressees"][0]["org"], code.as_str());
        let confirmed = ok(
            &db,
            &[
                "org",
                "confirm",
                &code,
                "--name",
                "Northmoor Hospitals NHS Foundation Trust",
            ],
        );
        assert!(confirmed.contains("confirmed"), "{confirmed}");
        assert!(
            ok(&db, &["org", "list", "--unverified"])
                .lines()
                .all(|l| !l.contains(&code))
        );
        // Records with provenance and variants: export -> import -> export
        // is exact in both formats.
        for format in ["json", "csv"] {
            let first = export(&db, format);
            let file = db.dir.path().join(format!("sourced.{format}"));
            std::fs::write(&file, &first).unwrap();
            let fresh = fresh_like(&db);
            let out = ok(
                &fresh,
                &["import", "--format", format, file.to_str().unwrap()],
            );
            assert!(
                out.contains("imported 2, enriched 0"),
                "{} {format}: {out}",
                db.name
            );
            assert!(
                first == export(&fresh, format),
                "{} {format}: export -> import -> export differs",
                db.name
            );
        }
    }
}
