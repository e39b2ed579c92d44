//! The candidate stage: budgets grow with the corpus, the bounded ranking
//! answers exactly what scoring every record answers on a corpus small
//! enough to be all candidates, and corpus-wide contradictions are found.

use concord_similar::index::Budget;
use concord_similar::{Doc, Index, QueryOptions, Viewer};

fn doc<'a>(id: &'a str, text: &'a str) -> Doc<'a> {
    Doc {
        id,
        text,
        ..Default::default()
    }
}

#[test]
fn budgets_grow_with_the_corpus() {
    assert_eq!(Budget::for_size(10), Budget::for_size(0));
    let (small, big) = (Budget::for_size(100_000), Budget::for_size(1_000_000));
    assert!(big.postings > small.postings && big.term_pool >= small.term_pool);
    assert!(small.postings >= Budget::FIXED.postings);
    assert!(small.term_pool >= Budget::FIXED.term_pool);
}

#[test]
fn bounded_ranking_equals_brute_force_and_finds_contradictions() {
    let wards = [
        "surgical",
        "medical",
        "maternity",
        "paediatric",
        "older people's",
    ];
    let acts = ["review", "audit", "check", "record", "escalate"];
    let mut texts = Vec::new();
    for (i, w) in wards.iter().enumerate() {
        for (j, a) in acts.iter().enumerate() {
            texts.push((
                format!("T-2024-{:04}", i * 10 + j),
                format!(
                    "Staff on {w} wards should {a} the early warning score of every patient \
                     within {} hours of admission and record the result.",
                    1 + (i + j) % 3
                ),
            ));
        }
    }
    texts.push((
        "X-2024-0001".into(),
        "Patients taking anticoagulants with a head injury should have a CT head scan within 1 hour of arrival.".into(),
    ));
    texts.push((
        "X-2024-0002".into(),
        // Two time limits for one act are not a conflict (the stricter
        // meets both); a deferral against a time limit is.
        "Patients taking anticoagulants with a head injury should wait for a CT head scan until 8 hours after arrival.".into(),
    ));
    let mut ix = Index::new();
    for (id, t) in &texts {
        ix.upsert(&doc(id, t));
    }
    let opts = QueryOptions {
        limit: 5,
        viewer: Viewer::Public,
        exclude: None,
    };
    for budget in [None, Some(Budget::FIXED)] {
        ix.set_budget(budget);
        for (_, t) in &texts {
            let draft = doc("", t);
            assert_eq!(
                ix.similar_to(&draft, &opts).unwrap(),
                ix.brute_force(&draft, &opts).unwrap(),
                "{t}"
            );
        }
    }
    let c = ix.contradictions(&Viewer::Public);
    let ct = c
        .iter()
        .find(|p| p.ids == ["X-2024-0001".to_string(), "X-2024-0002".to_string()])
        .unwrap_or_else(|| panic!("{c:?}"));
    assert!(ct.reason.contains("hour"), "{}", ct.reason);
    // Each pair once, strongest first.
    let mut seen = std::collections::HashSet::new();
    assert!(c.iter().all(|p| seen.insert(p.ids.clone())));
    assert!(c.windows(2).all(|w| w[0].score >= w[1].score));

    // The sweep a server runs in the background, a few records at a time
    // (with a record changed half way), finds the same pairs as the
    // one-pass lists.
    ix.set_budget(None);
    ix.upsert(&doc(
        "D-2024-0001",
        "Staff on surgical wards should review the early warning score of every patient \
         within 1 hours of admission and record the result.",
    ));
    let mut sweep = concord_similar::Sweep::default();
    let mut steps = 0;
    while !ix.sweep_step(&mut sweep, 3) {
        steps += 1;
        if steps == 4 {
            ix.upsert(&doc(&texts[0].0, &texts[0].1));
        }
    }
    assert!(steps > 5, "swept in {steps} steps");
    assert_eq!(sweep.contradictions, ix.contradictions(&Viewer::All));
    let groups = concord_similar::groups_of(&sweep.duplicates, |_| true);
    assert!(!groups.is_empty());
    assert_eq!(groups, ix.duplicate_groups(&Viewer::All, true));
    // What a viewer may not see is left out of the groups.
    let without = concord_similar::groups_of(&sweep.duplicates, |id| id != "D-2024-0001");
    assert!(
        without
            .iter()
            .all(|g| !g.ids.iter().any(|i| i == "D-2024-0001"))
    );
}
