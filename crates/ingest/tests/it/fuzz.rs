//! Every importer, fed arbitrary bytes and mangled versions of good files
//! (issue #14): never a panic; a refusal names the file. (That nothing is
//! stored when a file is refused is checked through the services, in
//! concord-app's tests/fuzz_import.rs.)

use std::path::Path;

use concord_domain::OrganisationDirectory;
use concord_ingest::{Format, parse};
use proptest::prelude::*;

const CSV: &str = "issuer,title,text,published,status,addressees\n\
HSSIB,Sepsis,\"Screen adults for sepsis at triage within 1 hour.\",2024-01-04,published,NHS England\n";
const JSON: &str = r#"[{"issuer":"HSSIB","title":"Sepsis","text":"Screen adults for sepsis.","published":"2024-01-04","status":"published","addressees":[{"name":"NHS England","org":"NHSE"}]}]"#;
const JUDICIARY: &str = "ref,date_of_report,coroner_name,coroner_area,category,this_report_is_being_sent_to,report_url,pdf_url,reply_urls,concerns\n\
2024-0079,04/01/2024,A Coroner,Area,Hospital Death,NHS England,https://example.org/r,https://example.org/a.pdf,,Concern about triage.\n";
const TOOLKIT: &str = ",url,id,date,coroner,area,receiver,investigation,circumstances,concerns\n\
0,https://example.org/r,2024-0079,2024-01-04,A Coroner,Area,NHS England,Inquest,Died,Concern\n";
const RESPONSES: &str = ",parent_id,parent_url,response_url,respondent,response\n\
0,2024-0079,https://example.org/r,https://example.org/x.pdf,NHS England,We accept.\n";

fn check(format: Format, bytes: &[u8]) {
    let dir = OrganisationDirectory::new(&concord_domain::seed_organisations());
    let today = chrono::NaiveDate::from_ymd_opt(2026, 12, 6).unwrap();
    let path = Path::new("fuzzed-input.dat");
    if let Err(e) = parse(path, bytes, format, &dir, today) {
        let m = e.to_string();
        assert!(m.contains("fuzzed-input.dat"), "{format}: {m}");
    }
}

/// A good file with a few bytes changed, removed or repeated.
fn mangled(good: &'static str) -> impl Strategy<Value = Vec<u8>> {
    let len = good.len();
    prop::collection::vec((0..len, any::<u8>(), 0u8..3), 1..12).prop_map(move |edits| {
        let mut b = good.as_bytes().to_vec();
        for (at, byte, how) in edits {
            let at = at.min(b.len().saturating_sub(1));
            match how {
                0 if !b.is_empty() => b[at] = byte,
                1 if !b.is_empty() => {
                    b.remove(at);
                }
                _ => {
                    let piece: Vec<u8> = b[at..].iter().take(8).copied().collect();
                    b.splice(at..at, piece);
                }
            }
        }
        b
    })
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 300, ..ProptestConfig::default() })]

    #[test]
    fn arbitrary_bytes_never_panic(bytes in prop::collection::vec(any::<u8>(), 0..600)) {
        for &f in Format::ALL {
            check(f, &bytes);
        }
        // What a zip file starts with reaches the XLSX reader's insides.
        let mut zip = b"PK\x03\x04".to_vec();
        zip.extend_from_slice(&bytes);
        check(Format::Xlsx, &zip);
    }

    #[test]
    fn mangled_files_never_panic(
        csv in mangled(CSV),
        json in mangled(JSON),
        judiciary in mangled(JUDICIARY),
        toolkit in mangled(TOOLKIT),
        responses in mangled(RESPONSES),
    ) {
        check(Format::Csv, &csv);
        check(Format::Json, &json);
        check(Format::PfdJudiciary, &judiciary);
        check(Format::PfdToolkit, &toolkit);
        check(Format::PfdToolkitResponses, &responses);
    }

    #[test]
    fn detection_never_panics(name in "[a-zA-Z0-9._-]{0,20}", head in prop::collection::vec(any::<u8>(), 0..200)) {
        let _ = concord_ingest::detect(Path::new(&name), &head);
    }
}

/// The good files themselves parse (so the mangled ones start from
/// something every reader understands).
#[test]
fn the_seeds_are_good() {
    let dir = OrganisationDirectory::new(&concord_domain::seed_organisations());
    let today = chrono::NaiveDate::from_ymd_opt(2026, 12, 6).unwrap();
    for (f, text) in [
        (Format::Csv, CSV),
        (Format::Json, JSON),
        (Format::PfdJudiciary, JUDICIARY),
        (Format::PfdToolkit, TOOLKIT),
        (Format::PfdToolkitResponses, RESPONSES),
    ] {
        let p = parse(Path::new("seed"), text.as_bytes(), f, &dir, today);
        assert!(p.is_ok(), "{f}: {:?}", p.err());
    }
}
