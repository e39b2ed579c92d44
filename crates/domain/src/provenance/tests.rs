use chrono::NaiveDate;

use super::*;
use crate::model::{Evidence, Response, Source};
use crate::{Lifecycle, OrgCode, RecKind};

const STAND_IN_TEXT: &str = "(No concerns text was published with this report.)";

fn d(y: i32, m: u32, day: u32) -> NaiveDate {
    NaiveDate::from_ymd_opt(y, m, day).unwrap()
}

fn report(text: &str, reference: &str, published: NaiveDate, to: &[&str]) -> RecommendationData {
    let due = published + chrono::Duration::days(56);
    RecommendationData {
        local_ref: Some(reference.into()),
        kind: RecKind::Concern,
        issuer: OrgCode::parse("PFD").unwrap(),
        source: Some(Source {
            title: Some("Regulation 28 report".into()),
            date: Some(published),
            url: Some("https://example.org/r1".into()),
            local_ref: Some(reference.into()),
        }),
        title: format!("Title of {}", &text[..text.len().min(20)]),
        text: text.into(),
        published: Some(published),
        status: Lifecycle::Published,
        level: None,
        addressees: to
            .iter()
            .map(|n| Addressee {
                name: n.to_string(),
                due: Some(due),
                ..Default::default()
            })
            .collect(),
        themes: vec![],
        settings: vec![],
        evidence: Some(Evidence {
            kind: None,
            references: vec![format!("https://example.org/{reference}.pdf")],
            strength: None,
        }),
        patient_impact: None,
        cost: None,
        equality: None,
        risk: None,
        response_deadline: Some(due),
        links: vec![],
    }
}

fn judiciary(
    text: &str,
    reference: &str,
    published: NaiveDate,
    to: &[&str],
) -> (RecommendationData, Provenance) {
    let data = report(text, reference, published, to);
    let stand_ins: Vec<RecordPart> = if text == STAND_IN_TEXT {
        vec![RecordPart::Text, RecordPart::Title]
    } else {
        vec![]
    };
    let prov = Provenance::of_source(
        &data,
        DataSource::PfdJudiciary,
        Some("judiciary.csv"),
        &stand_ins,
    );
    (data, prov)
}

fn toolkit(
    text: &str,
    reference: &str,
    published: NaiveDate,
    to: &[&str],
) -> (RecommendationData, Provenance) {
    let mut data = report(text, reference, published, to);
    data.evidence = Some(Evidence {
        kind: None,
        references: vec!["Investigation and inquest: held in 2023".into()],
        strength: None,
    });
    let prov = Provenance::of_source(&data, DataSource::PfdToolkit, Some("toolkit.csv"), &[]);
    (data, prov)
}

fn merge(
    first: (RecommendationData, Provenance),
    second: &(RecommendationData, Provenance),
) -> (RecommendationData, Provenance, Enrichment) {
    let (mut data, mut prov) = first;
    let e = enrich(&mut data, &mut prov, &second.0, &second.1);
    (data, prov, e)
}

#[test]
fn a_genuine_text_fills_a_placeholder_and_the_title_follows() {
    let j = judiciary(
        STAND_IN_TEXT,
        "2023-0101",
        d(2023, 3, 1),
        &["Highways Agency"],
    );
    let t = toolkit(
        "The junction has no warning signs before the bend.",
        "2023-0101",
        d(2023, 3, 1),
        &["Highways Agency"],
    );
    let (data, prov, e) = merge(j, &t);
    assert_eq!(data.text, t.0.text);
    assert_eq!(data.title, t.0.title);
    assert_eq!(e.filled.first(), Some(&RecordPart::Text));
    assert!(e.replaced.is_empty());
    assert!(
        e.variants.is_empty(),
        "a placeholder is not kept as a variant"
    );
    assert_eq!(
        prov.origin(RecordPart::Text).unwrap().from,
        DataSource::PfdToolkit
    );
    assert_eq!(
        prov.origin(RecordPart::Title).unwrap().from,
        DataSource::PfdToolkit
    );
    assert_eq!(
        prov.origin(RecordPart::Reference).unwrap().from,
        DataSource::PfdJudiciary
    );
    // The evidence of both sources is kept.
    assert_eq!(data.evidence.as_ref().unwrap().references.len(), 2);
}

#[test]
fn a_stand_in_never_replaces_a_genuine_text() {
    let t = toolkit(
        "The junction has no warning signs before the bend.",
        "2023-0101",
        d(2023, 3, 1),
        &["Highways Agency"],
    );
    let j = judiciary(
        STAND_IN_TEXT,
        "2023-0101",
        d(2023, 3, 1),
        &["Highways Agency"],
    );
    let (data, _, e) = merge(t.clone(), &j);
    assert_eq!(data.text, t.0.text);
    assert!(!e.filled.contains(&RecordPart::Text));
}

#[test]
fn disagreeing_reference_and_date_keep_the_judiciarys_and_a_variant() {
    let j = judiciary(
        "Concern about the bend.",
        "2023-0101",
        d(2023, 3, 1),
        &["Highways Agency"],
    );
    let t = toolkit(
        "Concern about the bend.",
        "2023-0110",
        d(2023, 3, 9),
        &["Highways Agency"],
    );
    for (data, prov, e) in [merge(j.clone(), &t), merge(t.clone(), &j)] {
        assert_eq!(data.local_ref.as_deref(), Some("2023-0101"));
        assert_eq!(data.published, Some(d(2023, 3, 1)));
        assert_eq!(data.response_deadline, Some(d(2023, 4, 26)));
        assert_eq!(data.addressees[0].due, Some(d(2023, 4, 26)));
        let v: Vec<(RecordPart, &str)> = prov
            .variants
            .iter()
            .map(|v| (v.part, v.value.as_str()))
            .collect();
        assert!(v.contains(&(RecordPart::Reference, "2023-0110")), "{v:?}");
        assert!(v.contains(&(RecordPart::Published, "2023-03-09")), "{v:?}");
        assert!(
            prov.variants
                .iter()
                .all(|v| v.from == DataSource::PfdToolkit)
        );
        assert!(e.changed());
    }
}

#[test]
fn the_longer_genuine_text_wins_and_a_cut_copy_adds_nothing() {
    let full = "First concern about the ward. Second concern about the night staffing levels.";
    let cut = "First concern about the ward.";
    let (data, prov, e) = merge(
        judiciary(cut, "2023-0101", d(2023, 3, 1), &[]),
        &toolkit(full, "2023-0101", d(2023, 3, 1), &[]),
    );
    assert_eq!(data.text, full);
    assert_eq!(e.replaced, vec![RecordPart::Text]);
    assert!(
        prov.variants.is_empty(),
        "a cut copy is the start of the kept text"
    );
    let (data, _, e) = merge(
        toolkit(full, "2023-0101", d(2023, 3, 1), &[]),
        &judiciary(cut, "2023-0101", d(2023, 3, 1), &[]),
    );
    assert_eq!(data.text, full);
    assert!(!e.changed() || e.variants.is_empty());
    // Two different genuine texts: the longer is used, the other is a variant.
    let other = "A different account of the concerns.";
    let (data, prov, _) = merge(
        judiciary(other, "2023-0101", d(2023, 3, 1), &[]),
        &toolkit(full, "2023-0101", d(2023, 3, 1), &[]),
    );
    assert_eq!(data.text, full);
    assert_eq!(prov.variants.len(), 1);
    assert_eq!(prov.variants[0].value, other);
    assert_eq!(prov.variants[0].from, DataSource::PfdJudiciary);
}

#[test]
fn merging_again_changes_nothing() {
    let j = judiciary(
        STAND_IN_TEXT,
        "2023-0101",
        d(2023, 3, 1),
        &["Highways Agency"],
    );
    let t = toolkit(
        "Concern about the bend.",
        "2023-0110",
        d(2023, 3, 9),
        &["Highways Agency", "Kent Police"],
    );
    let (mut data, mut prov, first) = merge(j.clone(), &t);
    assert!(first.changed());
    let again = enrich(&mut data, &mut prov, &t.0, &t.1);
    assert!(!again.changed(), "{again:?}");
    let again = enrich(&mut data, &mut prov, &j.0, &j.1);
    assert!(!again.changed(), "{again:?}");
}

#[test]
fn either_order_gives_the_same_record() {
    let j = judiciary(
        STAND_IN_TEXT,
        "2023-0101",
        d(2023, 3, 1),
        &["Highways Agency"],
    );
    let t = toolkit(
        "Concern about the bend.",
        "2023-0110",
        d(2023, 3, 9),
        &["Highways Agency", "Kent Police"],
    );
    let (a, pa, _) = merge(j.clone(), &t);
    let (b, pb, _) = merge(t, &j);
    assert_eq!(a, b);
    let parts = |p: &Provenance| p.parts.iter().map(|o| (o.part, o.from)).collect::<Vec<_>>();
    assert_eq!(parts(&pa), parts(&pb));
    let vars = |p: &Provenance| {
        let mut v = p
            .variants
            .iter()
            .map(|o| (o.part, o.value.clone(), o.from))
            .collect::<Vec<_>>();
        v.sort();
        v
    };
    assert_eq!(vars(&pa), vars(&pb));
}

#[test]
fn addressees_with_answers_are_never_replaced_and_replies_are_kept() {
    let (mut jd, _) = judiciary(
        "Concern.",
        "2023-0101",
        d(2023, 3, 1),
        &["Kent County Council"],
    );
    jd.addressees[0].status = AddresseeStatus::ResponseReceived;
    jd.addressees[0].responses.push(Response {
        url: Some("https://example.org/reply.pdf".into()),
        ..Default::default()
    });
    let jp = Provenance::of_source(&jd, DataSource::PfdJudiciary, None, &[]);
    let t = toolkit("Concern.", "2023-0101", d(2023, 3, 1), &["Kent Police"]);
    let (data, prov, _) = merge((jd.clone(), jp.clone()), &t);
    assert_eq!(data.addressees.len(), 1);
    assert_eq!(data.addressees[0].responses.len(), 1);
    assert!(
        prov.variants
            .iter()
            .any(|v| v.part == RecordPart::Addressees && v.value == "Kent Police")
    );
    // The other order: the judiciary's list wins on rank, the reply comes with it.
    let (data, _, _) = merge(t, &(jd, jp));
    assert_eq!(data.addressees.len(), 1);
    assert_eq!(data.addressees[0].name, "Kent County Council");
    assert_eq!(data.addressees[0].responses.len(), 1);
}

#[test]
fn an_edit_in_concord_outranks_every_file() {
    let (mut data, mut prov) = toolkit("Concern about the bend.", "2023-0101", d(2023, 3, 1), &[]);
    let before = data.clone();
    data.local_ref = Some("2023-0999".into());
    prov.edited(&before, &data);
    assert_eq!(
        prov.origin(RecordPart::Reference).unwrap().from,
        DataSource::Concord
    );
    let j = judiciary("Concern about the bend.", "2023-0101", d(2023, 3, 1), &[]);
    let e = enrich(&mut data, &mut prov, &j.0, &j.1);
    assert_eq!(data.local_ref.as_deref(), Some("2023-0999"));
    assert_eq!(e.variants.len(), 1);
}
