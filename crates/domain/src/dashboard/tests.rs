//! The figures on small records worked out by hand, and the overdue rule
//! checked against the lifecycle's own definition.

use chrono::NaiveDate;

use super::*;
use crate::ids::OrgCode;
use crate::lifecycle::{
    Acceptance, Closure, ClosureReason, Implementation, RulesBook, due_for, overdue_as_of,
};
use crate::model::{
    Addressee, AddresseeStatus, Cost, Lifecycle, RecKind, RecommendationData, Response,
};
use crate::organisation::{OrgKind, OrgLevel, Organisation, ProviderKind, seed_organisations};

fn d(s: &str) -> NaiveDate {
    s.parse().unwrap()
}

fn rec(issuer: &str, published: &str, addressees: Vec<Addressee>) -> RecommendationData {
    RecommendationData {
        local_ref: None,
        kind: RecKind::Recommendation,
        issuer: OrgCode::parse(issuer).unwrap(),
        source: None,
        title: "t".into(),
        text: "x".into(),
        published: Some(d(published)),
        status: Lifecycle::Published,
        level: None,
        addressees,
        themes: vec![],
        settings: vec![],
        evidence: None,
        patient_impact: None,
        cost: None,
        equality: None,
        risk: None,
        response_deadline: None,
        links: vec![],
    }
}

fn to(name: &str) -> Addressee {
    Addressee {
        name: name.into(),
        ..Default::default()
    }
}

fn answered(mut a: Addressee, on: Option<&str>) -> Addressee {
    a.responses.push(Response {
        received: on.map(d),
        ..Default::default()
    });
    a.status = AddresseeStatus::ResponseReceived;
    a.acceptance = Some(Acceptance::Accepted);
    a
}

fn provider(code: &str, name: &str, kind: Option<ProviderKind>) -> Organisation {
    Organisation {
        status: Default::default(),
        code: OrgCode::parse(code).unwrap(),
        name: name.into(),
        kind: OrgKind::Provider,
        level: OrgLevel::Provider,
        provider_kind: kind,
        region: None,
        aliases: vec![],
    }
}

fn table(recs: &[(&str, RecommendationData)]) -> FactTable {
    let rules = RulesBook::builtin();
    let mut t = FactTable::new();
    let mut orgs = seed_organisations();
    orgs.push(provider(
        "RXX",
        "Northmoor Hospitals",
        Some(ProviderKind::AcuteTrust),
    ));
    orgs.push(provider("RYY", "Redcliffe Care", None));
    t.set_organisations(&orgs);
    for (id, r) in recs {
        t.upsert(&RecFacts::of(id, r, &rules));
    }
    t
}

#[test]
fn overdue_is_the_lifecycle_definition() {
    // Every combination of record status, addressee status, response date
    // and due date: the fact table agrees with overdue_as_of.
    let rules = RulesBook::builtin();
    let as_of = d("2024-06-01");
    let mut n = 0;
    let mut overdue_seen = 0;
    for status in Lifecycle::ALL {
        for a_status in AddresseeStatus::ALL {
            for resp in [
                None,
                Some(None),
                Some(Some("2024-05-31")),
                Some(Some("2024-06-01")),
                Some(Some("2024-06-02")),
            ] {
                for due in [
                    None,
                    Some("2024-05-31"),
                    Some("2024-06-01"),
                    Some("2024-06-02"),
                ] {
                    for deadline in [None, Some("2024-04-01")] {
                        let mut a = to("Northmoor Hospitals NHS Trust");
                        a.status = *a_status;
                        a.due = due.map(d);
                        if let Some(r) = resp {
                            a.responses.push(Response {
                                received: r.map(d),
                                ..Default::default()
                            });
                        }
                        let mut r = rec("PFD", "2024-01-10", vec![a]);
                        r.status = *status;
                        r.response_deadline = deadline.map(d);
                        let expected =
                            overdue_as_of(&r, &r.addressees[0], rules.for_issuer(&r.issuer), as_of);
                        let mut t = FactTable::new();
                        t.upsert(&RecFacts::of("PFD-2024-0001", &r, &rules));
                        let f = t.figures(&DashboardQuery::new(as_of));
                        assert_eq!(
                            f.totals.overdue,
                            expected.is_some() as u64,
                            "{status} {a_status} {resp:?} {due:?} {deadline:?}"
                        );
                        if let Some((due, days)) = expected {
                            assert_eq!(f.oldest_overdue[0].due, due);
                            assert_eq!(f.oldest_overdue[0].days_overdue, days);
                            overdue_seen += 1;
                        }
                        n += 1;
                    }
                }
            }
        }
    }
    assert!(n > 1000 && overdue_seen > 10, "{n} {overdue_seen}");
}

#[test]
fn the_due_date_from_columns_is_due_for() {
    let rules = RulesBook::builtin();
    for (own, deadline) in [
        (None, None),
        (Some("2024-03-01"), None),
        (None, Some("2024-04-01")),
        (Some("2024-03-01"), Some("2024-04-01")),
    ] {
        for issuer in ["PFD", "HSSIB", "NICE"] {
            let mut a = to("x");
            a.due = own.map(d);
            let mut r = rec(issuer, "2024-01-04", vec![a]);
            r.response_deadline = deadline.map(d);
            assert_eq!(
                due_from_columns(own.map(d), deadline.map(d), r.published, issuer, &rules),
                due_for(&r, &r.addressees[0], rules.for_issuer(&r.issuer)),
            );
        }
    }
}

/// Four records worked by hand (as of 2024-06-01):
/// - PFD-2024-0001 (PFD, 2024-01-10, due 56 days later: 2024-03-06), themes
///   sepsis, to Northmoor Hospitals (RXX, acute) answered 2024-02-09 (30
///   days) and implemented, and to "Eastwold Ambulance Service NHS Trust"
///   (not registered) with no answer: overdue 87 days. Cost £1,000 one-off.
/// - PFD-2023-0002 (PFD, 2023-11-01, due 2023-12-27), themes sepsis and
///   falls, setting care home, to Redcliffe Care (RYY, provider of unknown
///   kind, name gives nothing) no answer: overdue 157 days; to the second
///   acute trust "Kingsbridge Teaching Hospitals" answered undated.
///   Cost £500 one-off + £200 recurring.
/// - HSSIB-2024-0001 (HSSIB, 2024-03-01, due 2024-05-30), to NHSE answered
///   2024-04-30 (60 days), closed as implemented; to CQC, not required.
/// - HSSIB-2024-0002 is a draft: never counted.
fn hand_set() -> Vec<(&'static str, RecommendationData)> {
    let mut r1 = rec(
        "PFD",
        "2024-01-10",
        vec![
            {
                let mut a = answered(to("Northmoor Hospitals"), Some("2024-02-09"));
                a.org = Some(OrgCode::parse("RXX").unwrap());
                a.implementation = Some(Implementation::Implemented);
                a
            },
            to("Eastwold Ambulance Service NHS Trust"),
        ],
    );
    r1.themes = vec!["Sepsis".into()];
    r1.cost = Some(Cost {
        one_off: Some(1000.0),
        recurring: None,
        currency: "GBP".into(),
        confidence: None,
        cost_effectiveness: None,
    });
    let mut r2 = rec(
        "PFD",
        "2023-11-01",
        vec![
            {
                let mut a = to("Redcliffe Care");
                a.org = Some(OrgCode::parse("RYY").unwrap());
                a
            },
            answered(to("Kingsbridge Teaching Hospitals"), None),
        ],
    );
    r2.themes = vec!["sepsis".into(), "falls".into()];
    r2.settings = vec!["care home".into()];
    r2.cost = Some(Cost {
        one_off: Some(500.0),
        recurring: Some(200.0),
        currency: "GBP".into(),
        confidence: None,
        cost_effectiveness: None,
    });
    let mut r3 = rec(
        "HSSIB",
        "2024-03-01",
        vec![
            {
                let mut a = answered(to("NHS England"), Some("2024-04-30"));
                a.org = Some(OrgCode::parse("NHSE").unwrap());
                a.status = AddresseeStatus::Closed;
                a.closure = Some(Closure {
                    reason: ClosureReason::Implemented,
                    note: None,
                    on: d("2024-05-15"),
                    by: None,
                });
                a
            },
            {
                let mut a = to("Care Quality Commission");
                a.org = Some(OrgCode::parse("CQC").unwrap());
                a.status = AddresseeStatus::NotRequired;
                a
            },
        ],
    );
    r3.themes = vec!["medication safety".into()];
    let mut r4 = rec("HSSIB", "2024-03-02", vec![to("Northmoor Hospitals")]);
    r4.status = Lifecycle::Draft;
    vec![
        ("PFD-2024-0001", r1),
        ("PFD-2023-0002", r2),
        ("HSSIB-2024-0001", r3),
        ("HSSIB-2024-0002", r4),
    ]
}

fn row<'a>(rows: &'a [Row], key: &str) -> &'a Counts {
    &rows
        .iter()
        .find(|r| r.key == key)
        .unwrap_or_else(|| panic!("no row {key} in {rows:?}"))
        .counts
}

fn c(
    recommendations: u64,
    items: u64,
    open: u64,
    overdue: u64,
    answered: u64,
    implemented: u64,
) -> Counts {
    Counts {
        recommendations,
        items,
        open,
        overdue,
        answered,
        implemented,
    }
}

#[test]
fn figures_of_a_small_set_worked_by_hand() {
    let t = table(&hand_set());
    assert_eq!((t.len(), t.items()), (3, 6), "the draft is not held");
    let f = t.figures(&DashboardQuery::new(d("2024-06-01")));
    // open: r1 both, r2 both, r3 none (closed, not required) = 4.
    // answered: r1 Northmoor, r2 Kingsbridge (undated), r3 NHSE = 3.
    // implemented: Northmoor (reported), NHSE (closed as implemented) = 2.
    assert_eq!(f.totals, c(3, 6, 4, 2, 3, 2));
    assert_eq!(*row(&f.by_issuer, "PFD"), c(2, 4, 4, 2, 2, 1));
    assert_eq!(*row(&f.by_issuer, "HSSIB"), c(1, 2, 0, 0, 1, 1));
    // Themes match whatever the case; the first form seen is the key.
    assert_eq!(*row(&f.by_theme, "Sepsis"), c(2, 4, 4, 2, 2, 1));
    assert_eq!(*row(&f.by_theme, "falls"), c(1, 2, 2, 1, 1, 0));
    assert_eq!(*row(&f.by_setting, "care home"), c(1, 2, 2, 1, 1, 0));
    assert_eq!(*row(&f.by_year, "2023"), c(1, 2, 2, 1, 1, 0));
    assert_eq!(*row(&f.by_year, "2024"), c(2, 4, 2, 1, 2, 2));
    // Registered addressees by code, labelled with the register's name.
    let nhse = f.by_addressee.iter().find(|r| r.key == "NHSE").unwrap();
    assert_eq!(nhse.label, "NHS England");
    assert_eq!(nhse.counts, c(1, 1, 0, 0, 1, 1));
    assert_eq!(
        *row(&f.by_addressee, "Eastwold Ambulance Service NHS Trust"),
        c(1, 1, 1, 1, 0, 0)
    );
    assert_eq!(f.addressees_total, 6);
    // Busiest first: the open ones lead.
    assert_eq!(f.by_addressee[0].counts.open, 1);

    // Response times: 30 days (r1), 60 days (r3); the undated reply has none.
    assert_eq!(
        f.response_times[0],
        ResponseTime {
            key: "all".into(),
            answers: 2,
            median_days: Some(30),
            p90_days: Some(60),
        }
    );
    let pfd = f.response_times.iter().find(|r| r.key == "PFD").unwrap();
    assert_eq!((pfd.answers, pfd.median_days), (1, Some(30)));

    // Oldest overdue first: Redcliffe (due 2023-12-27), then Eastwold.
    let o: Vec<(&str, &str, i64)> = f
        .oldest_overdue
        .iter()
        .map(|x| (x.id.as_str(), x.addressee.as_str(), x.days_overdue))
        .collect();
    assert_eq!(
        o,
        vec![
            ("PFD-2023-0002", "Redcliffe Care", 157),
            ("PFD-2024-0001", "Eastwold Ambulance Service NHS Trust", 87),
        ]
    );
    assert_eq!(f.oldest_overdue[0].due, d("2023-12-27"));

    // Landing: r1 on acute (RXX) and ambulance (by name); r2 on "other
    // provider" (RYY, no kind) and acute (by name). Each recommendation is
    // counted, and its cost summed, once per kind.
    let land = |k: &str| {
        f.by_provider_kind
            .iter()
            .find(|r| r.kind == k)
            .unwrap()
            .clone()
    };
    let acute = land("acute_trust");
    assert_eq!(
        (acute.open_recommendations, acute.open_items, acute.costed),
        (2, 2, 2)
    );
    assert_eq!((acute.one_off_gbp, acute.recurring_gbp), (1500.0, 200.0));
    let amb = land("ambulance_service");
    assert_eq!((amb.open_recommendations, amb.one_off_gbp), (1, 1000.0));
    assert_eq!(land("other_provider").one_off_gbp, 500.0);
    assert!(
        f.by_provider_kind.iter().all(|r| r.kind != "national_body"),
        "r3 is not open"
    );
}

#[test]
fn filters_narrow_every_figure() {
    let t = table(&hand_set());
    let as_of = d("2024-06-01");
    let q = |f: &dyn Fn(&mut DashboardQuery)| {
        let mut q = DashboardQuery::new(as_of);
        f(&mut q);
        t.figures(&q)
    };
    assert_eq!(
        q(&|q| q.issuer = Some("hssib".into())).totals,
        c(1, 2, 0, 0, 1, 1)
    );
    assert_eq!(
        q(&|q| q.theme = Some("SEPSIS".into())).totals,
        c(2, 4, 4, 2, 2, 1)
    );
    assert_eq!(
        q(&|q| q.setting = Some("care home".into())).totals,
        c(1, 2, 2, 1, 1, 0)
    );
    assert_eq!(q(&|q| q.year = Some(2023)).totals, c(1, 2, 2, 1, 1, 0));
    let f = q(&|q| {
        q.issuer = Some("PFD".into());
        q.year = Some(2024);
    });
    assert_eq!(f.totals, c(1, 2, 2, 1, 1, 1));
    assert_eq!(f.oldest_overdue.len(), 1);
    // Unknown values match nothing, without an error here.
    for f in [
        q(&|q| q.issuer = Some("NOPE".into())),
        q(&|q| q.theme = Some("<script>".into())),
        q(&|q| q.year = Some(1900)),
    ] {
        assert_eq!(f.totals, Counts::default());
        assert!(f.by_issuer.is_empty() && f.oldest_overdue.is_empty());
        assert_eq!(f.response_times[0].median_days, None);
    }
    // An earlier date: nothing answered yet, fewer overdue.
    let f = q(&|q| q.as_of = d("2024-01-01"));
    assert_eq!(f.totals.answered, 1, "the undated reply counts as received");
    assert_eq!(f.totals.overdue, 1);
    let f = q(&|q| q.addressee_limit = Some(2));
    assert_eq!((f.by_addressee.len(), f.addressees_total), (2, 6));
}

#[test]
fn updates_and_removals_keep_the_figures_as_a_fresh_build() {
    let rules = RulesBook::builtin();
    let set = hand_set();
    let mut t = table(&set);
    // Publish the draft, change a record, remove one; many times over so
    // that the table compacts.
    let mut r4 = set[3].1.clone();
    r4.status = Lifecycle::Published;
    for i in 0..3000 {
        t.upsert(&RecFacts::of("HSSIB-2024-0002", &r4, &rules));
        let mut r1 = set[0].1.clone();
        r1.addressees.truncate(1 + i % 2);
        t.upsert(&RecFacts::of("PFD-2024-0001", &r1, &rules));
    }
    t.remove("PFD-2023-0002");
    t.remove("PFD-2023-0002");
    let mut r1 = set[0].1.clone();
    r1.addressees.truncate(2);
    let fresh = table(&[
        ("PFD-2024-0001", r1),
        set[2].clone(),
        ("HSSIB-2024-0002", r4),
    ]);
    let q = DashboardQuery::new(d("2024-06-01"));
    let (a, b) = (t.figures(&q), fresh.figures(&q));
    assert_eq!(a.totals, b.totals);
    assert_eq!(a.by_issuer, b.by_issuer);
    assert_eq!(a.by_provider_kind, b.by_provider_kind);
    assert_eq!(a.oldest_overdue, b.oldest_overdue);
    assert_eq!((t.len(), t.items()), (3, 5));
    // Becoming a draft again takes it out.
    let mut back = set[3].1.clone();
    back.status = Lifecycle::Draft;
    t.upsert(&RecFacts::of("HSSIB-2024-0002", &back, &rules));
    assert_eq!(t.len(), 2);
}

#[test]
fn organisations_decide_the_landing_and_can_change() {
    let mut t = table(&hand_set());
    let q = DashboardQuery::new(d("2024-06-01"));
    assert!(
        t.figures(&q)
            .by_provider_kind
            .iter()
            .any(|r| r.kind == "other_provider")
    );
    let mut orgs = seed_organisations();
    orgs.push(provider(
        "RXX",
        "Northmoor Hospitals",
        Some(ProviderKind::AcuteTrust),
    ));
    orgs.push(provider(
        "RYY",
        "Redcliffe Care",
        Some(ProviderKind::CareHome),
    ));
    assert!(t.set_organisations(&orgs));
    assert!(!t.set_organisations(&orgs), "no change the second time");
    let f = t.figures(&q);
    assert!(
        f.by_provider_kind
            .iter()
            .all(|r| r.kind != "other_provider")
    );
    assert_eq!(
        f.by_provider_kind
            .iter()
            .find(|r| r.kind == "care_home")
            .unwrap()
            .recurring_gbp,
        200.0
    );
}

#[test]
fn landing_from_names() {
    for (name, want) in [
        (
            "North West Ambulance Service NHS Trust",
            Landing::AmbulanceService,
        ),
        (
            "Avon Bay Mental Health NHS Foundation Trust",
            Landing::MentalHealthTrust,
        ),
        (
            "Fenwick Community Health Services NHS Trust",
            Landing::CommunityTrust,
        ),
        ("Westerby Care Home Group", Landing::CareHome),
        ("St Mary's Hospice", Landing::Hospice),
        ("Highcombe Surgery", Landing::GpPractice),
        ("Ashdown Integrated Care Board", Landing::Icb),
        ("Marshfield Council", Landing::LocalAuthority),
        (
            "Southvale Teaching Hospitals NHS Trust",
            Landing::AcuteTrust,
        ),
        ("Thornbury Vale NHS Trust", Landing::OtherProvider),
        ("Royal College of Nursing", Landing::Unknown),
        ("", Landing::Unknown),
    ] {
        assert_eq!(Landing::from_name(name), want, "{name}");
    }
    let seeded = seed_organisations();
    let nhse = seeded.iter().find(|o| o.code.as_str() == "NHSE").unwrap();
    assert_eq!(
        Landing::of_organisation(nhse, "NHS England"),
        Landing::NationalBody
    );
    let acute = provider("RXX", "Somewhere", Some(ProviderKind::AcuteTrust));
    assert_eq!(
        Landing::of_organisation(&acute, "Somewhere Ambulance"),
        Landing::AcuteTrust
    );
}

#[test]
fn costs_in_other_currencies_are_counted_not_summed() {
    let mut set = hand_set();
    if let Some(c) = &mut set[0].1.cost {
        c.currency = "EUR".into();
    }
    let f = table(&set).figures(&DashboardQuery::new(d("2024-06-01")));
    let amb = f
        .by_provider_kind
        .iter()
        .find(|r| r.kind == "ambulance_service")
        .unwrap();
    assert_eq!(
        (amb.costed, amb.other_currency, amb.one_off_gbp),
        (0, 1, 0.0)
    );
}

#[test]
fn the_oldest_overdue_are_the_twenty_longest_late() {
    let rules = RulesBook::builtin();
    let mut t = FactTable::new();
    // 60 records published a day apart, in a shuffled order; all unanswered.
    for i in 0..60u32 {
        let k = (i * 37) % 60;
        let published = d("2020-01-01") + chrono::Duration::days(i64::from(k));
        let r = rec("PFD", &published.to_string(), vec![to("Somewhere")]);
        t.upsert(&RecFacts::of(&format!("PFD-2020-{:04}", k + 1), &r, &rules));
    }
    let f = t.figures(&DashboardQuery::new(d("2024-01-01")));
    assert_eq!(f.totals.overdue, 60);
    let ids: Vec<String> = f.oldest_overdue.iter().map(|o| o.id.clone()).collect();
    let want: Vec<String> = (1..=20).map(|k| format!("PFD-2020-{k:04}")).collect();
    assert_eq!(ids, want);
    assert!(
        f.oldest_overdue
            .windows(2)
            .all(|w| w[0].days_overdue > w[1].days_overdue)
    );
}

#[test]
fn tables_as_csv_quote_and_guard_cells() {
    let mut set = hand_set();
    set[0].1.addressees[1].name = "=HYPERLINK(\"x\"), \"quoted\"\nline".into();
    let f = table(&set).figures(&DashboardQuery::new(d("2024-06-01")));
    let csv = f.csv(Table::OldestOverdue);
    let mut lines = csv.split("\r\n");
    assert_eq!(
        lines.next(),
        Some("id,issuer,addressee,org,due,days_overdue")
    );
    assert!(
        csv.contains(
            "PFD-2024-0001,PFD,\"'=HYPERLINK(\"\"x\"\"), \"\"quoted\"\"\nline\",,2024-03-06,87\r\n"
        ),
        "{csv}"
    );
    let issuers = f.csv(Table::Issuer);
    assert!(issuers.starts_with("key,label,recommendations,items,open,overdue,answered,implemented\r\nPFD,PFD,2,4,4,2,2,1\r\n"), "{issuers}");
    for t in Table::ALL {
        let (h, rows) = f.table(*t);
        assert!(rows.iter().all(|r| r.len() == h.len()), "{t}");
    }
}

#[test]
fn open_recommendations_without_a_cost_are_listed_newest_first() {
    use crate::model::Cost;
    let costed = {
        let mut r = rec("HSSIB", "2024-03-01", vec![to("Northmoor Hospitals")]);
        r.cost = Some(Cost {
            one_off: Some(5000.0),
            recurring: None,
            currency: "GBP".into(),
            confidence: None,
            cost_effectiveness: None,
        });
        r
    };
    let mut closed = rec("HSSIB", "2024-04-01", vec![to("Northmoor Hospitals")]);
    closed.addressees[0].status = AddresseeStatus::Closed;
    let set = vec![
        ("HSSIB-2024-0001", costed),
        (
            "HSSIB-2024-0002",
            rec("HSSIB", "2024-02-01", vec![to("Northmoor Hospitals")]),
        ),
        (
            "CQC-2024-0001",
            rec("CQC", "2024-05-01", vec![to("Redcliffe Ambulance Service")]),
        ),
        ("HSSIB-2024-0003", closed),
    ];
    let f = table(&set).figures(&DashboardQuery::new(d("2024-06-01")));
    assert_eq!(
        f.uncosted_total, 2,
        "costed and closed ones are not counted"
    );
    let ids: Vec<&str> = f.uncosted.iter().map(|u| u.id.as_str()).collect();
    assert_eq!(ids, ["CQC-2024-0001", "HSSIB-2024-0002"]);
    assert_eq!(f.uncosted[0].lands_on, vec!["Ambulance services"]);
    assert_eq!(f.uncosted[1].lands_on, vec!["Acute trusts"]);
    assert_eq!(f.uncosted[1].published, Some(d("2024-02-01")));
    // Many: the newest fifty are named, all are counted.
    let many: Vec<(String, RecommendationData)> = (1..=60)
        .map(|i| {
            (
                format!("NICE-2023-{i:04}"),
                rec(
                    "NICE",
                    &format!("2023-{:02}-{:02}", 1 + (i - 1) / 28, 1 + (i - 1) % 28),
                    vec![to("Northmoor Hospitals")],
                ),
            )
        })
        .collect();
    let refs: Vec<(&str, RecommendationData)> =
        many.iter().map(|(i, r)| (i.as_str(), r.clone())).collect();
    let f = table(&refs).figures(&DashboardQuery::new(d("2024-06-01")));
    assert_eq!(f.uncosted_total, 60);
    assert_eq!(f.uncosted.len(), UNCOSTED_LISTED);
    assert_eq!(f.uncosted[0].id, "NICE-2023-0060");
    assert_eq!(f.uncosted[49].id, "NICE-2023-0011");
}
