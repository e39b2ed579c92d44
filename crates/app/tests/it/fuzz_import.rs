//! Importing mangled files through the services (issue #14): a file that is
//! refused leaves every table as it was, and nothing panics.

use std::sync::Arc;

use concord_app::{ImportOptions, Principal, Services};
use proptest::prelude::*;

const CSV: &str = "issuer,title,text,published,status,addressees\n\
HSSIB,Sepsis,\"Screen adults for sepsis at triage within 1 hour.\",2024-01-04,published,NHS England\n\
HSSIB,Falls,\"Assess older inpatients for falls risk on admission.\",2024-02-01,published,NHS England; CQC\n\
NHSE,Handover,\"Ambulance handover should take no longer than 15 minutes.\",2024-03-09,published,Care Quality Commission\n";

fn operator() -> Principal {
    Principal::Operator {
        label: "fuzz".into(),
    }
}

async fn tables(svc: &Services) -> Vec<String> {
    let mut out = Vec::new();
    svc.as_principal(operator())
        .operator()
        .unwrap()
        .backup(&mut out)
        .await
        .unwrap();
    String::from_utf8(out)
        .unwrap()
        .lines()
        .filter(|l| {
            !l.contains("\"table\":\"audit_events\"") && !l.contains("\"table\":\"outbox\"")
        })
        .map(str::to_string)
        .collect()
}

fn mangle(edits: &[(usize, u8, u8)]) -> Vec<u8> {
    let mut b = CSV.as_bytes().to_vec();
    for &(at, byte, how) in edits {
        let at = at % b.len().max(1);
        match how {
            0 => b[at] = byte,
            1 => {
                b.remove(at);
            }
            _ => b.insert(at, byte),
        }
    }
    b
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 24, ..ProptestConfig::default() })]

    #[test]
    fn a_refused_file_changes_nothing(edits in prop::collection::vec((0usize..400, any::<u8>(), 0u8..3), 1..6)) {
        let rt = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
        rt.block_on(async {
            let dir = tempfile::tempdir().unwrap();
            let url = format!("sqlite://{}/t.db", dir.path().display());
            let svc = Arc::new(Services::open(&url).await.unwrap());
            let file = dir.path().join("mangled.csv");
            std::fs::write(&file, mangle(&edits)).unwrap();
            let before = tables(&svc).await;
            let result = svc
                .as_principal(operator())
                .operator()
                .unwrap()
                .import(&[file], &ImportOptions::default(), &|_| {})
                .await;
            match result {
                Ok(report) => assert!(report.imported + report.enriched + report.skipped + report.blank_rows <= report.read),
                Err(e) => {
                    let m = e.to_string();
                    assert!(m.contains("mangled.csv"), "{m}");
                    assert_eq!(tables(&svc).await, before, "a refused import stored something: {m}");
                }
            }
        });
    }
}
