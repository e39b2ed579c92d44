//! The ranking follows its documented rules.

use super::*;
use crate::ids::RecommendationId;
use crate::model::{Addressee, Cost, Evidence, RecKind, RecommendationData, Response};

fn d(s: &str) -> NaiveDate {
    s.parse().unwrap()
}

fn org(s: &str) -> OrgCode {
    OrgCode::parse(s).unwrap()
}

fn rec(id: &str, title: &str) -> Recommendation {
    let id = RecommendationId::parse(id).unwrap();
    Recommendation {
        provenance: Default::default(),
        data: RecommendationData {
            local_ref: None,
            kind: RecKind::Recommendation,
            issuer: id.issuer.clone(),
            source: None,
            title: title.into(),
            text: title.into(),
            published: Some(d("2026-06-01")),
            status: Lifecycle::Published,
            level: None,
            addressees: vec![],
            themes: vec![],
            settings: vec![],
            evidence: None,
            patient_impact: None,
            cost: None,
            equality: None,
            risk: None,
            response_deadline: None,
            links: vec![],
        },
        id,
        version: 1,
        created_at: chrono::Utc::now(),
        updated_at: chrono::Utc::now(),
        import_key: None,
    }
}

fn to(name: &str, code: Option<&str>) -> Addressee {
    Addressee {
        name: name.into(),
        org: code.map(org),
        ..Default::default()
    }
}

struct Fixture {
    profile: ProviderProfile,
    kinds: BTreeMap<OrgCode, ProviderKind>,
    rules: PriorityRules,
    deadlines: RulesBook,
}

fn fixture() -> Fixture {
    let mut kinds = BTreeMap::new();
    kinds.insert(org("NMTH"), ProviderKind::AcuteTrust);
    kinds.insert(org("HVH"), ProviderKind::AcuteTrust);
    kinds.insert(org("GREYMH"), ProviderKind::MentalHealthTrust);
    Fixture {
        profile: ProviderProfile {
            org: org("NMTH"),
            kind: ProviderKind::AcuteTrust,
            settings: vec![],
            region: None,
        },
        kinds,
        rules: PriorityRules::builtin(),
        deadlines: RulesBook::builtin(),
    }
}

impl Fixture {
    fn ctx(&self) -> Context<'_> {
        Context {
            profile: &self.profile,
            names: vec!["Northmoor Teaching Hospitals NHS Foundation Trust".into()],
            provider_kinds: &self.kinds,
            rules: &self.rules,
            deadlines: &self.deadlines,
            today: d("2026-11-27"),
            endorsers: Default::default(),
        }
    }
}

/// Directly addressed, overdue, high risk.
fn urgent() -> Recommendation {
    let mut r = rec("HSSIB-2026-0001", "Escalate deteriorating patients");
    r.data.addressees = vec![to("Northmoor Teaching Hospitals", Some("NMTH"))];
    r.data.risk = Some(Risk::High);
    r.data.published = Some(d("2026-01-10"));
    r
}

/// About acute hospitals in general, low risk, older.
fn generic() -> Recommendation {
    let mut r = rec("NICE-2024-0001", "Signage in hospital corridors");
    r.data.addressees = vec![to("NHS England", Some("NHSE"))];
    r.data.settings = vec!["Acute hospital".into()];
    r.data.risk = Some(Risk::Low);
    r.data.published = Some(d("2024-02-01"));
    r
}

#[test]
fn the_built_in_rules_are_valid_and_weights_add_to_one() {
    let r = PriorityRules::builtin();
    assert!(r.kinds.contains_key("care_home"));
    let bad = BUILTIN_PRIORITY_RULES.replace("\"risk\": 0.25", "\"risk\": 0.5");
    assert!(
        PriorityRules::parse(&bad)
            .unwrap_err()
            .contains("add up to")
    );
    let bad_kind = BUILTIN_PRIORITY_RULES.replace("\"hospice\": {", "\"spaceship\": {");
    assert!(
        PriorityRules::parse(&bad_kind)
            .unwrap_err()
            .contains("spaceship")
    );
}

#[test]
fn a_direct_overdue_high_risk_recommendation_outranks_a_generic_low_risk_one() {
    let f = fixture();
    let items = rank(&[generic(), urgent()], &[], &f.ctx());
    assert_eq!(items.len(), 2);
    assert_eq!(items[0].ids, vec!["HSSIB-2026-0001"]);
    assert_eq!(items[0].reach, "direct");
    assert!(
        items[0].why[0] == "addressed to you directly",
        "{:?}",
        items[0].why
    );
    assert!(
        items[0]
            .why
            .iter()
            .any(|w| w.starts_with("your response is overdue by")),
        "{:?}",
        items[0].why
    );
    assert!(items[0].why.contains(&"risk: high".to_string()));
    assert_eq!(items[1].reach, "setting");
    assert!(
        items[1].why[0].contains("acute hospital"),
        "{:?}",
        items[1].why
    );
    assert!(items[0].score > items[1].score);
    assert!(items.iter().all(|i| (0.0..=1.0).contains(&i.score)));
}

#[test]
fn each_part_moves_the_score_the_documented_way() {
    let f = fixture();
    let ctx = f.ctx();
    let score = |r: &Recommendation| {
        let reach = applies(r, &ctx).unwrap();
        total(&parts(r, &reach, &ctx), 1, &f.rules)
    };
    let base = {
        let mut r = generic();
        r.data.risk = Some(Risk::Medium);
        r
    };
    // Higher risk ranks higher.
    let mut riskier = base.clone();
    riskier.data.risk = Some(Risk::Critical);
    assert!(score(&riskier) > score(&base));
    // Sent to another acute trust beats a setting match.
    let mut same_kind = base.clone();
    same_kind.data.addressees = vec![to("Harrowdale Valley Hospitals", Some("HVH"))];
    assert!(score(&same_kind) > score(&base));
    // Newer beats older.
    let mut newer = base.clone();
    newer.data.published = Some(d("2026-10-01"));
    assert!(score(&newer) > score(&base));
    // Stated impact, stronger evidence and a cheap change each help.
    let mut impact = base.clone();
    impact.data.patient_impact = Some("Fewer deaths from sepsis".into());
    assert!(score(&impact) > score(&base));
    let mut strong = base.clone();
    strong.data.evidence = Some(Evidence {
        kind: None,
        references: vec![],
        strength: Some(EvidenceStrength::Strong),
    });
    assert!(score(&strong) > score(&base));
    let cost = |amount: f64| Cost {
        one_off: Some(amount),
        recurring: None,
        currency: "GBP".into(),
        confidence: None,
        cost_effectiveness: None,
    };
    let mut cheap = base.clone();
    cheap.data.cost = Some(cost(5_000.0));
    let mut dear = base.clone();
    dear.data.cost = Some(cost(50_000_000.0));
    assert!(score(&cheap) > score(&base) && score(&base) > score(&dear));
}

#[test]
fn a_group_of_duplicates_counts_once_and_lists_every_body() {
    let f = fixture();
    let mut a = generic();
    a.data.risk = Some(Risk::Medium);
    let mut b = a.clone();
    b.id = RecommendationId::parse("CQC-2025-0003").unwrap();
    b.data.issuer = org("CQC");
    let mut c = a.clone();
    c.id = RecommendationId::parse("HSSIB-2025-0009").unwrap();
    c.data.issuer = org("HSSIB");
    let other = urgent();
    let recs = vec![a, b, c, other];
    let alone = rank(&recs, &[], &f.ctx());
    assert_eq!(alone.len(), 4);
    let grouped = rank(&recs, &[vec![0, 1, 2]], &f.ctx());
    assert_eq!(grouped.len(), 2, "three duplicates are one item");
    let g = grouped.iter().find(|i| i.ids.len() == 3).unwrap();
    assert_eq!(g.issuers, vec!["CQC", "HSSIB", "NICE"]);
    assert!(
        g.why
            .iter()
            .any(|w| w == "said by 3 bodies: CQC, HSSIB, NICE"),
        "{:?}",
        g.why
    );
    // Support from three bodies lifts the group above any one of them alone.
    let single = alone
        .iter()
        .find(|i| i.ids == vec!["NICE-2024-0001"])
        .unwrap();
    assert!(g.score > single.score);
    // An index twice, or out of range, is harmless.
    let odd = rank(&recs, &[vec![0, 1], vec![1, 2, 99]], &f.ctx());
    assert_eq!(odd.iter().map(|i| i.ids.len()).sum::<usize>(), 4);
}

#[test]
fn endorsements_count_as_support_once_per_body() {
    let f = fixture();
    let recs = vec![generic(), urgent()];
    let plain = rank(&recs, &[], &f.ctx());
    let mut ctx = f.ctx();
    ctx.endorsers.insert(
        "NICE-2024-0001".into(),
        // NICE issued it: its own "endorsement" adds nothing.
        vec!["CQC".into(), "HSSIB".into(), "NICE".into()],
    );
    let endorsed = rank(&recs, &[], &ctx);
    let find = |items: &[PriorityItem]| {
        items
            .iter()
            .find(|i| i.ids == vec!["NICE-2024-0001"])
            .cloned()
            .unwrap()
    };
    let (before, after) = (find(&plain), find(&endorsed));
    assert_eq!(after.endorsed_by, vec!["CQC", "HSSIB"]);
    assert!(
        after.why.iter().any(|w| w == "endorsed by CQC, HSSIB"),
        "{:?}",
        after.why
    );
    assert!(after.score > before.score);
    // Two further bodies, as for a group issued by three: the same lift.
    let rules = &f.rules;
    assert!(
        (after.score
            - before.score
            - rules.weights.support * (rules.support.per_extra_body * 2.0).min(1.0))
        .abs()
            < 1e-9
    );
    assert!(before.endorsed_by.is_empty());
}

#[test]
fn what_does_not_apply_is_left_out() {
    let f = fixture();
    let ctx = f.ctx();
    // A mental health trust's recommendation, nothing acute about it.
    let mut mh = rec("PFD-2026-0001", "Observation levels on wards");
    mh.data.addressees = vec![to("Greywell Mental Health", Some("GREYMH"))];
    mh.data.settings = vec!["mental health inpatient".into()];
    assert_eq!(applies(&mh, &ctx), None);
    // Drafts and closed recommendations.
    let mut draft = urgent();
    draft.data.status = Lifecycle::Draft;
    assert_eq!(applies(&draft, &ctx), None);
    let mut closed = urgent();
    closed.data.status = Lifecycle::Closed;
    assert_eq!(applies(&closed, &ctx), None);
    // Our own part closed: nothing left to do.
    let mut done = urgent();
    done.data.addressees[0].status = AddresseeStatus::Closed;
    assert_eq!(applies(&done, &ctx), None);
    // Written without a code but with our exact name: direct.
    let mut named = generic();
    named.data.addressees = vec![to(
        "northmoor teaching hospitals nhs foundation trust",
        None,
    )];
    assert_eq!(applies(&named, &ctx), Some(Reach::Direct(0)));
    // A trust of our kind by name words only.
    let mut words = generic();
    words.data.settings.clear();
    words.data.addressees = vec![to("Leeds Teaching Hospitals NHS Trust", None)];
    assert!(matches!(applies(&words, &ctx), Some(Reach::SameKind(_))));
    // Whole words: "hospitality" is not "hospital".
    words.data.addressees = vec![to("Hospitality Board", None)];
    assert_eq!(applies(&words, &ctx), None);
}

#[test]
fn answered_recommendations_drop_below_unanswered_ones() {
    let f = fixture();
    let mut answered = urgent();
    answered.id = RecommendationId::parse("HSSIB-2026-0002").unwrap();
    answered.data.addressees[0]
        .responses
        .push(Response::default());
    answered.data.addressees[0].status = AddresseeStatus::ResponseReceived;
    let items = rank(&[answered, urgent()], &[], &f.ctx());
    assert_eq!(items[0].ids, vec!["HSSIB-2026-0001"]);
    assert!(
        items[1]
            .why
            .iter()
            .any(|w| w.contains("you have responded"))
    );
}

#[test]
fn profiles_are_tidied_and_checked() {
    let p = ProviderProfile {
        org: org("NMTH"),
        kind: ProviderKind::CareHome,
        settings: vec![" Care Home ".into(), "care home".into(), "".into()],
        region: None,
    }
    .validate()
    .unwrap();
    assert_eq!(p.settings, vec!["care home"]);
    let err = serde_json::from_str::<ProviderProfile>(r#"{"org":"X1","kind":"spaceship"}"#)
        .unwrap_err()
        .to_string();
    assert!(err.contains("acute_trust"), "{err}");
}

#[test]
fn the_providers_own_overdue_answer_comes_first_whatever_its_score() {
    let f = fixture();
    // Overdue for years, low risk, old: a low score.
    let mut owed = rec("HSSIB-2019-0001", "Label the oxygen cylinders");
    owed.data.addressees = vec![to("Northmoor Teaching Hospitals", Some("NMTH"))];
    owed.data.risk = Some(Risk::Low);
    owed.data.published = Some(d("2019-03-01"));
    // Sent to another trust of its kind, critical, recent, strong evidence
    // and stated patient impact: a high score, and nothing owed.
    let mut other = rec("HSSIB-2026-0002", "Check the defibrillators daily");
    other.data.addressees = vec![to("Hillview Hospital", Some("HVH"))];
    other.data.risk = Some(Risk::Critical);
    other.data.published = Some(d("2026-11-01"));
    other.data.patient_impact = Some("fewer deaths after cardiac arrest".into());
    let ctx = f.ctx();
    let score = |r: &Recommendation| {
        let reach = applies(r, &ctx).expect("applies");
        total(&parts(r, &reach, &ctx), 1, &f.rules)
    };
    assert!(
        score(&other) > score(&owed),
        "the fixture must put the other first by score alone"
    );
    let items = rank(&[other, owed], &[], &ctx);
    assert_eq!(items[0].ids, vec!["HSSIB-2019-0001"]);
    let due = items[0].overdue_since.expect("its own answer is overdue");
    assert!(due > d("2019-03-01") && due < d("2026-11-27"), "{due}");
    assert_eq!(items[1].overdue_since, None);
}
