//! The meaning signal in the similarity service: with the cargo feature
//! `embeddings` and the real all-MiniLM-L6-v2 weights (scripts/fetch-minilm.sh
//! installs them; `scripts/test.sh` runs
//! `cargo test -p concord-app --features embeddings --test it embeddings::`),
//! a paraphrase sharing no word with a record is found only with it, the
//! vector cache follows an edit, and a caller never sees by meaning a draft
//! it may not see. Without the weights (or without the feature) the service
//! answers lexically and says why.
//!
//! When the weights are missing under the feature: with CI=true the tests
//! fail loudly; elsewhere they print that they did not run.

use std::path::Path;

use concord_app::{Principal, Services, SimilarMethod};
use serde_json::json;

fn operator() -> Principal {
    Principal::Operator {
        label: "test".into(),
    }
}

async fn services(dir: &Path) -> Services {
    let url = format!("sqlite://{}/t.db", dir.display());
    Services::open(&url).await.unwrap()
}

/// A published record; its id.
async fn publish(svc: &Services, issuer: &str, title: &str, text: &str) -> String {
    svc.as_principal(operator())
        .create_draft(
            concord_app::NewRecord::from_json(
                json!({"issuer": issuer, "status": "published", "published": "2024-01-10",
            "title": title, "text": text, "override_gate": "test data"}),
            )
            .unwrap(),
        )
        .await
        .unwrap()
        .id
        .to_string()
}

#[test]
fn without_weights_the_answer_is_lexical_and_says_why() {
    let rt = tokio::runtime::Runtime::new().unwrap();
    rt.block_on(async {
        let dir = tempfile::tempdir().unwrap();
        let empty = tempfile::tempdir().unwrap();
        let svc = services(dir.path()).await;
        let cache = dir.path().join("t.vectors");
        let status = svc.enable_embeddings(Some(empty.path()), &cache);
        assert_eq!(status.method, SimilarMethod::Lexical);
        if cfg!(feature = "embeddings") {
            assert!(
                status.note.contains("config.json") && status.note.contains("fetch-minilm.sh"),
                "{}",
                status.note
            );
        } else {
            assert!(
                status.note.contains("no `embeddings` feature"),
                "{}",
                status.note
            );
        }
        assert_eq!(svc.similar_method(), SimilarMethod::Lexical);
        let id = publish(
            &svc,
            "NICE",
            "Sepsis",
            "Hospitals should screen adults for sepsis at triage and give antibiotics within one hour.",
        )
        .await;
        assert_eq!(svc.catch_up_vectors(&|_, _| {}).await.unwrap(), 0);
        let answer = svc
            .as_principal(Principal::Anonymous)
            .similar_answer_for_text("Screen adults for sepsis at triage.", 10)
            .await
            .unwrap();
        assert_eq!(answer.method, SimilarMethod::Lexical);
        assert_eq!(answer.matches[0].id, id);
        assert!(!cache.exists(), "no vector file without embeddings");
        // Bad text is refused as before.
        assert!(
            svc.as_principal(Principal::Anonymous)
                .similar_answer_for_text("", 10)
                .await
                .is_err()
        );
    });
}

#[cfg(feature = "embeddings")]
mod with_model {
    use super::*;
    use std::path::PathBuf;

    use concord_embed::cache::{VectorCache, text_hash};

    fn model_folder() -> Option<PathBuf> {
        let dir = match std::env::var_os(concord_embed::MODEL_DIR_ENV) {
            Some(v) if !v.is_empty() => PathBuf::from(v),
            _ => PathBuf::from(concat!(env!("CARGO_MANIFEST_DIR"), "/../.."))
                .join(concord_embed::DEFAULT_MODEL_DIR),
        };
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
        Some(dir)
    }

    const SEPSIS: &str = "Give antibiotics within one hour to adults with suspected sepsis.";
    const FALLS: &str = "Assess bed rails before use on older inpatients at risk of falls.";
    /// Shares no word with SEPSIS (nor with FALLS).
    const PARAPHRASE: &str =
        "People who might be septic need quick medicine against bacterial infection.";

    #[test]
    fn a_paraphrase_sharing_no_word_is_found_only_with_embeddings() {
        let Some(model) = model_folder() else { return };
        let rt = tokio::runtime::Runtime::new().unwrap();
        rt.block_on(async {
            let dir = tempfile::tempdir().unwrap();
            let lexical = services(dir.path()).await;
            let sepsis = publish(&lexical, "NICE", "Antibiotics", SEPSIS).await;
            let falls = publish(&lexical, "MHRA", "Bed rails", FALLS).await;
            // Another body's draft saying the same: only its issuer (and
            // operators) may see it, by meaning as by words.
            let draft = lexical
                .as_principal(operator())
                .create_draft(
                    concord_app::NewRecord::from_json(
                        json!({"issuer": "HSSIB", "title": "Septic shock",
                    "text": "Septic patients must receive prompt antimicrobial treatment."}),
                    )
                    .unwrap(),
                )
                .await
                .unwrap()
                .id
                .to_string();

            let anon = lexical.as_principal(Principal::Anonymous);
            let without = anon.similar_answer_for_text(PARAPHRASE, 10).await.unwrap();
            assert_eq!(without.method, SimilarMethod::Lexical);
            assert!(
                !without.matches.iter().any(|m| m.id == sepsis),
                "the lexical engine alone should not find it: {:?}",
                without.matches
            );

            // The same register, with the model.
            let meaning = services(dir.path()).await;
            let cache = dir.path().join("t.vectors");
            let status = meaning.enable_embeddings(Some(&model), &cache);
            assert_eq!(
                status.method,
                SimilarMethod::LexicalEmbeddings,
                "{}",
                status.note
            );
            let n = meaning.catch_up_vectors(&|_, _| {}).await.unwrap();
            assert_eq!(n, 3);
            assert!(cache.is_file());
            let with = meaning
                .as_principal(Principal::Anonymous)
                .similar_answer_for_text(PARAPHRASE, 10)
                .await
                .unwrap();
            assert_eq!(with.method, SimilarMethod::LexicalEmbeddings);
            let found = with
                .matches
                .iter()
                .find(|m| m.id == sepsis)
                .unwrap_or_else(|| panic!("not found by meaning: {:?}", with.matches));
            assert!(
                found.reason.contains("close in meaning"),
                "{}",
                found.reason
            );
            assert!(
                !with.matches.iter().any(|m| m.id == falls),
                "{:?}",
                with.matches
            );
            assert!(
                !with.matches.iter().any(|m| m.id == draft),
                "an anonymous caller saw HSSIB's draft: {:?}",
                with.matches
            );
            // HSSIB itself sees its draft (through a token of its own).
            let hssib = concord_domain::OrgCode::parse("HSSIB").unwrap();
            let token = meaning
                .as_principal(operator())
                .create_token(&hssib, "t")
                .await
                .unwrap();
            let hssib = meaning
                .as_principal(meaning.authenticate_token(&token.secret).await.unwrap())
                .similar_answer_for_text(PARAPHRASE, 10)
                .await
                .unwrap();
            assert!(
                hssib.matches.iter().any(|m| m.id == draft),
                "{:?}",
                hssib.matches
            );

            // The same for a record in the register, never itself.
            let by_record = meaning
                .as_principal(operator())
                .similar_answer_for_record(
                    &concord_domain::RecommendationId::parse(&draft).unwrap(),
                    10,
                )
                .await
                .unwrap();
            assert_eq!(by_record.method, SimilarMethod::LexicalEmbeddings);
            assert!(
                by_record.matches.iter().any(|m| m.id == sepsis),
                "{:?}",
                by_record.matches
            );
            assert!(!by_record.matches.iter().any(|m| m.id == draft));
        });
    }

    #[test]
    fn the_vector_cache_follows_an_edit() {
        let Some(model) = model_folder() else { return };
        let rt = tokio::runtime::Runtime::new().unwrap();
        rt.block_on(async {
            let dir = tempfile::tempdir().unwrap();
            let svc = services(dir.path()).await;
            let cache_path = dir.path().join("t.vectors");
            let status = svc.enable_embeddings(Some(&model), &cache_path);
            assert_eq!(
                status.method,
                SimilarMethod::LexicalEmbeddings,
                "{}",
                status.note
            );
            let id = publish(&svc, "NICE", "Antibiotics", SEPSIS).await;
            publish(&svc, "MHRA", "Bed rails", FALLS).await;
            assert_eq!(svc.catch_up_vectors(&|_, _| {}).await.unwrap(), 2);
            let text = |t: &str| concord_embed::record_text("Antibiotics", t);
            let before = VectorCache::load(&cache_path);
            assert_eq!(before.len(), 2);
            let old = before.get(&id, text_hash(&text(SEPSIS))).unwrap().to_vec();
            // Nothing to do when nothing changed.
            assert_eq!(svc.catch_up_vectors(&|_, _| {}).await.unwrap(), 0);

            let rid = concord_domain::RecommendationId::parse(&id).unwrap();
            let op = svc.as_principal(operator());
            let version = op.recommendation(&rid).await.unwrap().version;
            let edited = "Review every inpatient's falls risk and lower the bed at night.";
            op.edit(
                &rid,
                concord_app::RecordEdit::from_json(json!({"version": version, "text": edited}))
                    .unwrap(),
            )
            .await
            .unwrap();
            // The next answer no longer blends the old meaning: the stale
            // vector is dropped as soon as the engine sees the edit.
            let answer = op.similar_answer_for_text(FALLS, 10).await.unwrap();
            assert_eq!(answer.method, SimilarMethod::LexicalEmbeddings);
            assert_eq!(svc.vectors_cached(), 1);
            // Then recomputed from the outbox, and saved.
            assert_eq!(svc.catch_up_vectors(&|_, _| {}).await.unwrap(), 1);
            let after = VectorCache::load(&cache_path);
            assert_eq!(after.len(), 2);
            assert!(after.get(&id, text_hash(&text(SEPSIS))).is_none());
            let new = after
                .get(&id, text_hash(&text(edited)))
                .expect("new vector");
            assert!(concord_embed::cosine(&old, new) < 0.9);

            // A fresh process reads the file and has nothing to compute.
            let again = services(dir.path()).await;
            again.enable_embeddings(Some(&model), &cache_path);
            assert_eq!(again.vectors_cached(), 2);
            assert_eq!(again.catch_up_vectors(&|_, _| {}).await.unwrap(), 0);
        });
    }
}
