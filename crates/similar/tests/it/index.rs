//! The index end to end: bad input, drafts, updates, groups.

use concord_similar::{Doc, Index, QueryOptions, TextProblem, Viewer};

fn doc<'a>(id: &'a str, text: &'a str) -> Doc<'a> {
    Doc {
        id,
        text,
        ..Default::default()
    }
}

fn sample() -> Index {
    let mut ix = Index::new();
    ix.upsert(&doc("A-2024-0001", "Hospitals should screen adults for sepsis at emergency department triage and give antibiotics within one hour."));
    ix.upsert(&doc(
        "A-2024-0002",
        "Care homes should limit staff moving between homes during an infection outbreak.",
    ));
    ix.upsert(&doc("A-2024-0003", "Patients taking anticoagulants who fall and hit their head should have a CT head scan within one hour of arrival."));
    ix.upsert(&doc(
        "A-2024-0004",
        "Railway operators should fence off stretches of line near public footpaths.",
    ));
    ix
}

#[test]
fn finds_a_paraphrase_and_explains_it() {
    let ix = sample();
    let m = ix
        .similar_to(&doc("", "Adults arriving in A&E should be screened for sepsis at triage, with antibiotics given within 60 minutes."), &QueryOptions::default())
        .unwrap();
    assert_eq!(m[0].id, "A-2024-0001", "{m:?}");
    assert!(m[0].reason.contains("antibiotics"), "{m:?}");
    assert!(m.iter().all(|x| x.id != "A-2024-0004"), "{m:?}");
}

#[test]
fn flags_a_conflicting_timescale() {
    let ix = sample();
    // Deferring the act that the other asks within an hour is a conflict.
    let m = ix
        .similar_to(&doc("", "Adults on anticoagulants with a head injury should not have a CT head scan until eight hours after arrival."), &QueryOptions::default())
        .unwrap();
    let top = &m[0];
    assert_eq!(top.id, "A-2024-0003");
    assert_eq!(top.relation, "contradicts", "{top:?}");
    assert!(
        top.reason.contains("until") && top.reason.contains("within"),
        "{top:?}"
    );
    // A draft allowing longer than the record's limit for the same act
    // goes against it; a stricter draft meets it (the held-out sets'
    // "stricter but consistent" pairs).
    let m = ix
        .similar_to(&doc("", "Adults on anticoagulants with a head injury should have a CT head scan within eight hours."), &QueryOptions::default())
        .unwrap();
    assert_eq!(m[0].id, "A-2024-0003");
    assert_eq!(m[0].relation, "contradicts", "{:?}", m[0]);
    assert!(m[0].reason.contains("longer time limit"), "{:?}", m[0]);
    let m = ix
        .similar_to(&doc("", "Adults on anticoagulants with a head injury should have a CT head scan within thirty minutes."), &QueryOptions::default())
        .unwrap();
    assert_eq!(m[0].id, "A-2024-0003");
    assert_ne!(m[0].relation, "contradicts", "{:?}", m[0]);
    // Nor are time limits for different acts (sepsis screening against a
    // CT scan), whatever their figures.
    let m = ix
        .similar_to(
            &doc(
                "",
                "Hospitals should screen adults for sepsis at triage within 15 minutes of arrival.",
            ),
            &QueryOptions::default(),
        )
        .unwrap();
    assert!(m.iter().all(|x| x.relation != "contradicts"), "{m:?}");
}

#[test]
fn bad_input_gets_a_clear_answer() {
    let ix = sample();
    let q = |t: &str| ix.similar_to(&doc("", t), &QueryOptions::default());
    assert_eq!(q(""), Err(TextProblem::Empty));
    assert_eq!(q("  \n\t "), Err(TextProblem::Empty));
    assert_eq!(q("2024 15 60 1.5 999"), Err(TextProblem::NoWords));
    assert_eq!(q("the and of to"), Err(TextProblem::NoWords));
    assert_eq!(
        q("Пациенты должны получать антибиотики в течение часа"),
        Err(TextProblem::NotLatin)
    );
    // 1 MB of real words is read (no panic), and still finds the subject.
    let mut big = String::new();
    while big.len() < 1_000_000 {
        big.push_str("Screen adults for sepsis at triage and give antibiotics within one hour. ");
    }
    let m = q(&big).expect("a 1 MB text is read");
    assert_eq!(m[0].id, "A-2024-0001");
    let too_big = "word ".repeat(300_000);
    assert!(matches!(q(&too_big), Err(TextProblem::TooLong { .. })));
}

#[test]
fn drafts_are_seen_only_by_their_issuer() {
    let mut ix = sample();
    ix.upsert(&Doc {
        id: "B-2024-0001",
        text: "Railway operators should fence off the line near footpaths and add warning signs.",
        draft_of: Some("B".into()),
        ..Default::default()
    });
    let q = doc("", "Fence off railway lines next to public footpaths.");
    let ids = |v: Viewer| -> Vec<String> {
        ix.similar_to(
            &q,
            &QueryOptions {
                viewer: v,
                ..Default::default()
            },
        )
        .unwrap()
        .into_iter()
        .map(|m| m.id)
        .collect()
    };
    assert!(!ids(Viewer::Public).contains(&"B-2024-0001".to_string()));
    assert!(!ids(Viewer::Org("C".into())).contains(&"B-2024-0001".to_string()));
    assert!(ids(Viewer::Org("B".into())).contains(&"B-2024-0001".to_string()));
}

#[test]
fn updates_and_removals_keep_in_step() {
    let mut ix = sample();
    let q = doc("", "Fence off railway lines next to public footpaths.");
    assert!(
        ix.similar_to(&q, &QueryOptions::default())
            .unwrap()
            .iter()
            .any(|m| m.id == "A-2024-0004")
    );
    ix.upsert(&doc(
        "A-2024-0004",
        "Manufacturers should add clear warnings to button battery packaging.",
    ));
    assert!(
        !ix.similar_to(&q, &QueryOptions::default())
            .unwrap()
            .iter()
            .any(|m| m.id == "A-2024-0004")
    );
    ix.remove("A-2024-0004");
    assert_eq!(ix.len(), 3);
    ix.remove("A-2024-0004");
    assert_eq!(ix.len(), 3);
}

#[test]
fn groups_near_identical_records() {
    let mut ix = sample();
    ix.upsert(&doc("C-2024-0001", "Hospitals should screen adults for sepsis at emergency department triage and give antibiotics within one hour of arrival."));
    ix.upsert(&doc("D-2024-0001", "Hospitals must screen adults for sepsis at emergency department triage and give antibiotics within one hour."));
    let g = ix.duplicate_groups(&Viewer::Public, false);
    assert_eq!(g.len(), 1, "{g:?}");
    assert_eq!(g[0].ids, vec!["A-2024-0001", "C-2024-0001", "D-2024-0001"]);
    assert!(g[0].score > 0.8);
}

/// Complete linkage: a record that duplicates members of two different
/// groups (it says both things) joins at most one of them, and the two
/// groups are never chained into one through it.
#[test]
fn one_bridging_record_cannot_chain_two_groups() {
    let sepsis_1 = "Hospitals should screen adults for sepsis at emergency department triage and give intravenous antibiotics within one hour of recognition.";
    let sepsis_2 = "Emergency departments should screen adults for sepsis at triage and give intravenous antibiotics within one hour of recognition.";
    let falls_1 = "Wards should assess every older inpatient for falls risk on admission, check bed rails and lower beds, and review sedative medication after a fall.";
    let falls_2 = "Hospital wards should assess older inpatients for falls risk at admission, check bed rails and lower beds, and review sedative medicines after any fall.";
    let bridge = "Hospitals should screen adults for sepsis at emergency department triage and give intravenous antibiotics within one hour of recognition. Wards should assess every older inpatient for falls risk on admission, check bed rails and lower beds, and review sedative medication after a fall.";
    let mut ix = Index::new();
    for (id, text) in [
        ("S-2024-0001", sepsis_1),
        ("S-2024-0002", sepsis_2),
        ("F-2024-0001", falls_1),
        ("F-2024-0002", falls_2),
        ("X-2024-0001", bridge),
    ] {
        ix.upsert(&doc(id, text));
    }
    let dup = |a: &str, b: &str| {
        matches!(
            ix.relation(a, b),
            Some(Some((_, concord_similar::Relation::Duplicate, _)))
        )
    };
    // The premise: each pair within a topic is a duplicate; the bridge is a
    // duplicate of a record in each topic; the topics are not duplicates.
    assert!(dup("S-2024-0001", "S-2024-0002"));
    assert!(dup("F-2024-0001", "F-2024-0002"));
    assert!(
        dup("X-2024-0001", "S-2024-0001"),
        "{:?}",
        ix.relation("X-2024-0001", "S-2024-0001")
    );
    assert!(
        dup("X-2024-0001", "F-2024-0001"),
        "{:?}",
        ix.relation("X-2024-0001", "F-2024-0001")
    );
    for s in ["S-2024-0001", "S-2024-0002"] {
        for f in ["F-2024-0001", "F-2024-0002"] {
            assert!(!dup(s, f), "{s} {f}");
        }
    }
    for thorough in [false, true] {
        let groups = ix.duplicate_groups(&Viewer::Public, thorough);
        for g in &groups {
            let sepsis = g.ids.iter().any(|i| i.starts_with('S'));
            let falls = g.ids.iter().any(|i| i.starts_with('F'));
            assert!(!(sepsis && falls), "chained through the bridge: {groups:?}");
            // Every member of a group is a duplicate of every other.
            for (i, a) in g.ids.iter().enumerate() {
                for b in &g.ids[i + 1..] {
                    assert!(dup(a, b), "{a} {b} in {groups:?}");
                }
            }
        }
        // Both topics still come out as groups of their own.
        let has = |a: &str, b: &str| {
            groups
                .iter()
                .any(|g| g.ids.iter().any(|i| i == a) && g.ids.iter().any(|i| i == b))
        };
        assert!(has("S-2024-0001", "S-2024-0002"), "{groups:?}");
        assert!(has("F-2024-0001", "F-2024-0002"), "{groups:?}");
        // The bridge is in at most one group.
        let bridge_in = groups
            .iter()
            .filter(|g| g.ids.iter().any(|i| i == "X-2024-0001"))
            .count();
        assert!(bridge_in <= 1, "{groups:?}");
    }
}

#[test]
fn a_draft_that_relaxes_a_duty_contradicts_it_and_a_restatement_does_not() {
    let mut ix = Index::new();
    ix.upsert(&doc(
        "PFD-2023-0396",
        "Tissue viability nurses are not available at weekends, so patients admitted with pressure \
         ulcers on a Friday were not reviewed by a tissue viability nurse until Monday. Trusts \
         should ensure a tissue viability review of pressure ulcers within 24 hours every day.",
    ));
    ix.upsert(&doc(
        "PFD-2023-0147",
        "Guidance for sertraline says prescribers need not warn patients of suicidal thoughts. \
         The BNF entry for sertraline should list suicidal ideation as a side effect.",
    ));
    let relaxed = ix
        .similar_to(
            &doc(
                "",
                "Tissue viability nurses need not be available at weekends; a review of patients \
                 with pressure ulcers on the next working day is enough.",
            ),
            &QueryOptions::default(),
        )
        .unwrap();
    let m = relaxed
        .iter()
        .find(|m| m.id == "PFD-2023-0396")
        .expect("found");
    assert_eq!(m.relation, "contradicts", "{relaxed:?}");
    assert!(
        m.reason.contains("relaxes") && m.reason.contains("need not"),
        "{m:?}"
    );
    // "There is no need to" relaxes as "need not" does.
    assert_contradicts(
        &ix,
        "There is no need to make tissue viability nurses available at weekends for patients \
         with pressure ulcers; the next working day will do.",
        "PFD-2023-0396",
        "no need to",
    );
    // The concern quotes the relaxed rule it worries about: a draft asking
    // for what the coroner asks is not against it.
    let restated = ix
        .similar_to(
            &doc(
                "",
                "The BNF entry for sertraline should be reviewed to add suicidal ideation as a \
                 possible side effect for prescribers to monitor.",
            ),
            &QueryOptions::default(),
        )
        .unwrap();
    let m = restated
        .iter()
        .find(|m| m.id == "PFD-2023-0147")
        .expect("found");
    assert_ne!(m.relation, "contradicts", "{restated:?}");
}

#[test]
fn a_concern_telling_what_is_done_is_not_opposed_by_a_draft_asking_otherwise() {
    let mut ix = Index::new();
    ix.upsert(&doc(
        "PFD-2024-0117",
        "Families are not routinely involved when the mental health team assesses a \
         patient's suicide risk or writes the safety plan, and the team does not ask them \
         what they have seen.",
    ));
    ix.upsert(&doc(
        "HSSIB-2024-0001",
        "Mental health teams should not routinely involve families in writing a patient's \
         safety plan.",
    ));
    let got = ix
        .similar_to(
            &doc(
                "",
                "Mental health teams should routinely involve families when they assess a \
                 patient's suicide risk and write the safety plan.",
            ),
            &QueryOptions::default(),
        )
        .unwrap();
    let concern = got.iter().find(|m| m.id == "PFD-2024-0117").expect("found");
    assert_ne!(concern.relation, "contradicts", "{got:?}");
    // What another recommendation asks is still opposed.
    let ask = got
        .iter()
        .find(|m| m.id == "HSSIB-2024-0001")
        .expect("found");
    assert_eq!(ask.relation, "contradicts", "{got:?}");
}

/// The verdict of the first match on `id` for a draft.
fn verdict(ix: &Index, draft: &str, id: &str) -> (String, String) {
    let got = ix
        .similar_to(&doc("", draft), &QueryOptions::default())
        .unwrap();
    let m = got
        .iter()
        .find(|m| m.id == id)
        .unwrap_or_else(|| panic!("{id} not found for {draft:?}: {got:?}"));
    (m.relation.to_string(), m.reason.clone())
}

/// Asserts the draft contradicts record `id`, for a reason that says `because`.
fn assert_contradicts(ix: &Index, draft: &str, id: &str, because: &str) {
    let (rel, why) = verdict(ix, draft, id);
    assert_eq!(rel, "contradicts", "{why}");
    assert!(why.contains(because), "{why}");
}

/// Asserts the draft, whatever else it is, does not contradict record `id`.
fn assert_no_contradiction(ix: &Index, draft: &str, id: &str) {
    let (rel, why) = verdict(ix, draft, id);
    assert_ne!(rel, "contradicts", "{why}");
}

/// Asserts the draft is a duplicate of record `id`.
fn assert_duplicate(ix: &Index, draft: &str, id: &str) {
    let (rel, why) = verdict(ix, draft, id);
    assert_eq!(rel, "duplicate", "{why}");
}

/// Asserts the draft neither repeats nor supports record `id`: whether or
/// not a conflict is read, it is another ask.
fn assert_another_ask(ix: &Index, draft: &str, id: &str) {
    let (rel, why) = verdict(ix, draft, id);
    assert!(rel == "related" || rel == "contradicts", "{rel}: {why}");
}

#[test]
fn less_than_a_minimum_contradicts_it_and_more_does_not() {
    let mut ix = Index::new();
    ix.upsert(&doc(
        "HSSIB-2025-0101",
        "Open-water swimming clubs should post at least two qualified lifeguards at every \
         club swimming session on the lake.",
    ));
    ix.upsert(&doc(
        "HSSIB-2025-0102",
        "Home care agencies should make visits to people who need meals prepared and help \
         with washing last at least 30 minutes.",
    ));
    ix.upsert(&doc(
        "HSSIB-2025-0103",
        "Wards should reposition patients at high risk of pressure damage at intervals of \
         no more than four hours, day and night.",
    ));
    // Fewer of the same thing than the minimum.
    assert_contradicts(
        &ix,
        "A single qualified lifeguard may cover a club swimming session on the lake of up \
         to twelve swimmers.",
        "HSSIB-2025-0101",
        "fewer than the minimum",
    );
    assert_no_contradiction(
        &ix,
        "Open-water swimming clubs should post at least three qualified lifeguards at every \
         club swimming session on the lake.",
        "HSSIB-2025-0101",
    );
    // Time is compared in minutes: a quarter of an hour is short of 30
    // minutes, an hour is not.
    assert_contradicts(
        &ix,
        "Home care agencies should book visits to people who need meals prepared and help \
         with washing as 15 minute calls.",
        "HSSIB-2025-0102",
        "",
    );
    assert_no_contradiction(
        &ix,
        "Home care agencies should book visits to people who need meals prepared and help \
         with washing as 1 hour calls.",
        "HSSIB-2025-0102",
    );
    // "Intervals of no more than four hours" is a minimum frequency:
    // twelve-hourly falls short of it, two-hourly meets it.
    assert_contradicts(
        &ix,
        "Patients at high risk of pressure damage on wards should be repositioned every \
         twelve hours, day and night.",
        "HSSIB-2025-0103",
        "less often",
    );
    assert_no_contradiction(
        &ix,
        "Patients at high risk of pressure damage on wards should be repositioned at least \
         every two hours, day and night.",
        "HSSIB-2025-0103",
    );
}

#[test]
fn keeping_what_the_other_withdraws_contradicts_it() {
    let mut ix = Index::new();
    ix.upsert(&doc(
        "HSSIB-2025-0104",
        "Maternity units should withdraw the vacuum extractor model VX2 from use on labour wards.",
    ));
    assert_contradicts(
        &ix,
        "Maternity units should retain the vacuum extractor model VX2 on labour wards and \
         train midwives to use it.",
        "HSSIB-2025-0104",
        "",
    );
}

#[test]
fn a_draft_that_allows_more_or_later_contradicts_and_a_stricter_one_does_not() {
    let mut ix = Index::new();
    ix.upsert(&doc(
        "HSSIB-2025-0111",
        "Crisis teams should offer every person seen in the emergency department a follow-up \
         contact within 72 hours of the attendance.",
    ));
    ix.upsert(&doc(
        "HSSIB-2025-0112",
        "Acute wards should make sure every inpatient is reviewed by a doctor at least once a \
         day, bank holidays included.",
    ));
    ix.upsert(&doc(
        "HSSIB-2025-0113",
        "Co-ordinators should hold a caseload of no more than 30 patients each in the \
         community mental health team.",
    ));
    // The same act put later than the limit allows.
    assert_contradicts(
        &ix,
        "Crisis teams should make the follow-up contact for people seen in the emergency \
         department at the routine review after the first 14 days.",
        "HSSIB-2025-0111",
        "later than the time limit",
    );
    // A longer limit for the same act; a shorter one meets it.
    assert_contradicts(
        &ix,
        "Crisis teams should offer every person seen in the emergency department a follow-up \
         contact within 7 days of the attendance.",
        "HSSIB-2025-0111",
        "longer time limit",
    );
    assert_no_contradiction(
        &ix,
        "Crisis teams should offer every person seen in the emergency department a follow-up \
         contact within 24 hours of the attendance.",
        "HSSIB-2025-0111",
    );
    // "Every third day" is less often than "at least once a day".
    assert_contradicts(
        &ix,
        "Over bank holidays stable inpatients on acute wards should be reviewed by a doctor \
         every third day.",
        "HSSIB-2025-0112",
        "less often",
    );
    // A higher cap on the same measure; a lower one meets it.
    assert_contradicts(
        &ix,
        "Co-ordinators in the community mental health team should be allowed a caseload of no more \
         than 60 patients each.",
        "HSSIB-2025-0113",
        "higher limit",
    );
    assert_no_contradiction(
        &ix,
        "Co-ordinators in the community mental health team should hold a caseload of no more \
         than 20 patients each.",
        "HSSIB-2025-0113",
    );
}

#[test]
fn the_act_told_after_advise_or_encourage_and_what_is_ruled_out_are_opposed() {
    let mut ix = Index::new();
    ix.upsert(&doc(
        "HSSIB-2025-0121",
        "Health visitors should advise parents not to use bath seats for babies, because they \
         are not safety devices.",
    ));
    ix.upsert(&doc(
        "HSSIB-2025-0122",
        "Riders of hired e-scooters should be required to wear a helmet.",
    ));
    ix.upsert(&doc(
        "HSSIB-2025-0123",
        "Drivers' eyesight should be tested against the legal standard at least every ten years.",
    ));
    assert_contradicts(
        &ix,
        "Parents of babies who can sit up should be encouraged to use a bath seat.",
        "HSSIB-2025-0121",
        "",
    );
    // The same advice in other words is no conflict.
    assert_no_contradiction(
        &ix,
        "Parents should be told not to put babies in bath seats, which are not safety devices.",
        "HSSIB-2025-0121",
    );
    assert_contradicts(
        &ix,
        "Compulsory helmets should be ruled out for hired e-scooters.",
        "HSSIB-2025-0122",
        "",
    );
    assert_contradicts(
        &ix,
        "Eyesight should be tested at the driving test and not routinely again against the \
         legal standard.",
        "HSSIB-2025-0123",
        "recurring duty",
    );
}

#[test]
fn forbidding_what_the_other_requires_contradicts_it() {
    let mut ix = Index::new();
    ix.upsert(&doc(
        "HSSIB-2025-0121",
        "Bus operators must make sure that, on every single-deck bus, an audible warning \
         sounds automatically whenever the bus reverses out of a depot bay.",
    ));
    // "X should be banned" forbids its subject: it was read as an ask.
    assert_contradicts(
        &ix,
        "Audible reversing warnings on single-deck buses should be banned in depots because \
         of the noise at night, with mirrors used instead.",
        "HSSIB-2025-0121",
        "forbids",
    );
    assert_no_contradiction(
        &ix,
        "Bus operators should make sure the audible warning on every single-deck bus sounds \
         whenever it reverses out of a depot bay, and test it each morning.",
        "HSSIB-2025-0121",
    );
}

#[test]
fn another_figure_for_the_same_act_is_never_a_duplicate() {
    let mut ix = Index::new();
    ix.upsert(&doc(
        "HSSIB-2025-0122",
        "Community mental health teams should contact every patient discharged from a \
         psychiatric ward within 72 hours of discharge, by telephone or in person.",
    ));
    // The same words with the same figure: a duplicate.
    assert_duplicate(
        &ix,
        "Community mental health teams should contact every patient discharged from a \
         psychiatric ward within 72 hours of discharge, in person or by telephone.",
        "HSSIB-2025-0122",
    );
    // A stricter limit meets the record (no contradiction) but is not the
    // same ask: the figures are named.
    let (rel, why) = verdict(
        &ix,
        "Community mental health teams should contact every patient discharged from a \
         psychiatric ward within 24 hours of discharge, by telephone or in person.",
        "HSSIB-2025-0122",
    );
    assert_eq!(rel, "related", "{why}");
    assert!(why.contains("different time limit"), "{why}");
}

#[test]
fn a_draft_that_limits_what_a_record_asks_is_not_the_same_ask() {
    let mut ix = Index::new();
    ix.upsert(&doc(
        "HSSIB-2025-0201",
        "Ward teams should share each patient's written discharge plan with the staff of \
         the care home that will receive them.",
    ));
    // The same ask in other words: a duplicate.
    assert_duplicate(
        &ix,
        "Ward teams should share the written discharge plan of each patient with the \
         staff of the care home receiving them.",
        "HSSIB-2025-0201",
    );
    // Forbidding the disclosure is not the same ask, whatever the words in
    // common (before session 20: a duplicate).
    assert_another_ask(
        &ix,
        "Discharge plans are records for the ward team's own use and must not be \
         disclosed to care home staff; the home should receive a verbal handover only.",
        "HSSIB-2025-0201",
    );
}

#[test]
fn another_number_of_the_same_thing_is_not_the_same_ask() {
    let mut ix = Index::new();
    ix.upsert(&doc(
        "HSSIB-2025-0202",
        "The county council should make the temporary 40 mph speed limit on the B1234 \
         through Little Marsden permanent.",
    ));
    assert_duplicate(
        &ix,
        "The county council should make the temporary 40 mph speed limit through Little \
         Marsden on the B1234 permanent.",
        "HSSIB-2025-0202",
    );
    // 50 is not 40, though the two are close: not the same limit.
    assert_another_ask(
        &ix,
        "The county council should make the temporary 50 mph speed limit on the B1234 \
         through Little Marsden permanent.",
        "HSSIB-2025-0202",
    );
}

#[test]
fn a_recommendation_worded_as_recommends_that_is_an_ask() {
    let mut ix = Index::new();
    ix.upsert(&doc(
        "HSSIB-2025-0203",
        "It is recommended that NHS England requires every emergency department to screen \
         adults for sepsis at triage using a nationally agreed tool.",
    ));
    // Before session 20 the record asked nothing (no modal), and a draft
    // forbidding what it asks was its duplicate.
    let (rel, why) = verdict(
        &ix,
        "Sepsis screening must not be done at emergency department triage; adults should \
         be screened only once they reach a ward.",
        "HSSIB-2025-0203",
    );
    assert_eq!(rel, "contradicts", "{why}");
    assert!(why.contains("nhs england requires"), "{why}");
}
