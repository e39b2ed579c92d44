//! The state machine, move by move: what each role may do, from which state,
//! and what is refused (with a message that says why).

use chrono::{Duration, NaiveDate};

use super::*;
use crate::ids::OrgCode;
use crate::model::{
    Addressee, AddresseeStatus, Lifecycle, RecKind, RecommendationData, Response, SystemLevel,
};

fn d(s: &str) -> NaiveDate {
    s.parse().unwrap()
}

fn org(s: &str) -> OrgCode {
    OrgCode::parse(s).unwrap()
}

fn rec() -> RecommendationData {
    RecommendationData {
        local_ref: None,
        kind: RecKind::Recommendation,
        issuer: org("HSSIB"),
        source: None,
        title: "Sepsis screening".into(),
        text: "Screen for sepsis within one hour.".into(),
        published: Some(d("2024-01-04")),
        status: Lifecycle::Published,
        level: Some(SystemLevel::National),
        addressees: vec![
            Addressee {
                name: "NHS England".into(),
                org: Some(org("NHSE")),
                ..Default::default()
            },
            Addressee {
                name: "Care Quality Commission".into(),
                org: Some(org("CQC")),
                ..Default::default()
            },
        ],
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

fn rules() -> ResponseRules {
    RulesBook::builtin().for_issuer(&org("HSSIB")).clone()
}

fn who(o: &str, r: &RecommendationData, i: usize) -> Standing {
    Standing::of(Some(&org(o)), false, r, &r.addressees[i])
}

fn addressee() -> Standing {
    who("NHSE", &rec(), 0)
}
fn issuer() -> Standing {
    who("HSSIB", &rec(), 0)
}

const TODAY: &str = "2024-03-01";

fn run(r: &RecommendationData, w: &Standing, mv: Move) -> Result<RecommendationData, MoveError> {
    apply(r, 0, w, &mv, d(TODAY), &rules())
}

fn respond(acceptance: Acceptance) -> Move {
    Move::Respond {
        received: Some(d("2024-02-20")),
        acceptance,
        text: "We will screen every adult within one hour.".into(),
        reasons: None,
        url: None,
        respondent: None,
    }
}

fn responded() -> RecommendationData {
    run(&rec(), &addressee(), respond(Acceptance::Accepted)).unwrap()
}

fn update(i: Implementation, note: Option<&str>) -> Move {
    Move::Update {
        implementation: i,
        note: note.map(String::from),
        evidence: vec![],
        action: None,
    }
}

fn close(reason: ClosureReason, note: Option<&str>) -> Move {
    Move::Close {
        reason,
        note: note.map(String::from),
    }
}

fn refused(r: Result<RecommendationData, MoveError>) -> String {
    match r {
        Err(MoveError::Refused(m)) => m,
        other => panic!("expected a refusal, got {other:?}"),
    }
}

fn forbidden(r: Result<RecommendationData, MoveError>) -> String {
    match r {
        Err(MoveError::Forbidden(m)) => m,
        other => panic!("expected forbidden, got {other:?}"),
    }
}

fn invalid_field(r: Result<RecommendationData, MoveError>) -> (String, String) {
    match r {
        Err(MoveError::Invalid { field, message }) => (field, message),
        other => panic!("expected an invalid field, got {other:?}"),
    }
}

// --- respond ---------------------------------------------------------------

#[test]
fn addressee_responds_and_acceptance_is_kept_apart_from_implementation() {
    let r = responded();
    let a = &r.addressees[0];
    assert_eq!(a.status, AddresseeStatus::ResponseReceived);
    assert_eq!(a.acceptance, Some(Acceptance::Accepted));
    assert_eq!(a.implementation, Some(Implementation::NotStarted));
    assert_eq!(a.responses.len(), 1);
    assert_eq!(a.responses[0].respondent.as_deref(), Some("NHSE"));
    assert_eq!(r.addressees[1].status, AddresseeStatus::AwaitingResponse);
}

#[test]
fn every_acceptance_is_a_possible_response() {
    for acc in Acceptance::ALL {
        let mut mv = respond(*acc);
        if let Move::Respond { reasons, .. } = &mut mv {
            *reasons = Some("Already covered by NICE NG51.".into());
        }
        let r = run(&rec(), &addressee(), mv).unwrap();
        assert_eq!(r.addressees[0].acceptance, Some(*acc));
        assert_eq!(
            r.addressees[0].implementation.is_some(),
            acc.commits_to_action(),
            "{acc}"
        );
    }
}

#[test]
fn not_accepted_and_support_instead_need_reasons() {
    for acc in [Acceptance::NotAccepted, Acceptance::SupportInstead] {
        let (field, msg) = invalid_field(run(&rec(), &addressee(), respond(acc)));
        assert_eq!(field, "reasons");
        assert!(msg.starts_with("Enter your reasons"), "{msg}");
    }
}

#[test]
fn a_second_response_is_refused_as_a_duplicate() {
    let msg = refused(run(
        &responded(),
        &addressee(),
        respond(Acceptance::Accepted),
    ));
    assert!(msg.contains("already answered on 2024-02-20"), "{msg}");
}

#[test]
fn a_new_response_is_taken_after_an_unsatisfactory_assessment() {
    let r = run(
        &responded(),
        &issuer(),
        Move::Assess {
            verdict: Assessment::Unsatisfactory,
            comment: Some("No timescale given.".into()),
        },
    )
    .unwrap();
    let r = run(&r, &addressee(), respond(Acceptance::Accepted)).unwrap();
    assert_eq!(r.addressees[0].responses.len(), 2);
    assert_eq!(r.addressees[0].status, AddresseeStatus::ResponseReceived);
    assert_eq!(r.addressees[0].assessment, None);
}

#[test]
fn response_dates_must_fall_between_publication_and_today() {
    for (when, word) in [("2023-12-31", "before"), ("2024-03-02", "future")] {
        let mut mv = respond(Acceptance::Accepted);
        if let Move::Respond { received, .. } = &mut mv {
            *received = Some(d(when));
        }
        let (field, msg) = invalid_field(run(&rec(), &addressee(), mv));
        assert_eq!(field, "received");
        assert!(msg.contains(word), "{msg}");
    }
}

#[test]
fn empty_response_text_is_refused() {
    let mut mv = respond(Acceptance::Accepted);
    if let Move::Respond { text, .. } = &mut mv {
        *text = "   ".into();
    }
    assert_eq!(invalid_field(run(&rec(), &addressee(), mv)).0, "text");
}

#[test]
fn only_the_addressee_answers_what_is_addressed_to_it() {
    for o in ["CQC", "HSSIB", "NICE"] {
        let msg = forbidden(run(
            &rec(),
            &who(o, &rec(), 0),
            respond(Acceptance::Accepted),
        ));
        assert!(msg.contains("only the addressee"), "{msg}");
    }
    let anon = Standing::of(None, false, &rec(), &rec().addressees[0]);
    assert!(forbidden(run(&rec(), &anon, respond(Acceptance::Accepted))).contains("anonymous"));
    // An operator at the command line may act for anyone.
    let op = Standing {
        issuer: false,
        addressee: false,
        operator: true,
        label: None,
    };
    run(&rec(), &op, respond(Acceptance::Accepted)).unwrap();
}

#[test]
fn drafts_and_withdrawn_recommendations_take_no_moves() {
    for status in [
        Lifecycle::Draft,
        Lifecycle::Withdrawn,
        Lifecycle::Superseded,
    ] {
        let mut r = rec();
        r.status = status;
        let msg = refused(run(&r, &addressee(), respond(Acceptance::Accepted)));
        assert!(msg.contains(status.as_str()), "{msg}");
    }
}

#[test]
fn an_unknown_addressee_number_is_refused() {
    let err = apply(
        &rec(),
        5,
        &addressee(),
        &respond(Acceptance::Accepted),
        d(TODAY),
        &rules(),
    );
    assert_eq!(invalid_field(err).0, "addressee");
}

// --- action plan and progress -----------------------------------------------

#[test]
fn actions_and_progress_are_recorded_with_dates() {
    let r = run(
        &responded(),
        &addressee(),
        Move::AddAction {
            title: "Roll out the screening tool".into(),
            owner: Some("Medical director".into()),
            due: Some(d("2024-06-30")),
            evidence: vec![" https://example.org/plan ".into(), "".into()],
        },
    )
    .unwrap();
    let a = &r.addressees[0];
    assert_eq!(a.actions.len(), 1);
    assert_eq!(a.actions[0].evidence, vec!["https://example.org/plan"]);
    let r = run(
        &r,
        &addressee(),
        Move::Update {
            implementation: Implementation::InProgress,
            note: None,
            evidence: vec![],
            action: Some(1),
        },
    )
    .unwrap();
    assert_eq!(
        r.addressees[0].actions[0].progress,
        Implementation::InProgress
    );
    // The overall figure moves only when no action is named.
    assert_eq!(
        r.addressees[0].implementation,
        Some(Implementation::NotStarted)
    );
    let r = run(&r, &addressee(), update(Implementation::Implemented, None)).unwrap();
    assert_eq!(
        r.addressees[0].implementation,
        Some(Implementation::Implemented)
    );
    assert_eq!(r.addressees[0].updates.len(), 2);
    assert_eq!(r.addressees[0].updates[1].on, d(TODAY));
}

#[test]
fn an_action_due_before_publication_is_refused() {
    let (field, msg) = invalid_field(run(
        &responded(),
        &addressee(),
        Move::AddAction {
            title: "x".into(),
            owner: None,
            due: Some(d("2023-01-01")),
            evidence: vec![],
        },
    ));
    assert_eq!(field, "due");
    assert!(msg.contains("before the recommendation was published"));
}

#[test]
fn progress_before_a_response_is_refused() {
    let msg = refused(run(
        &rec(),
        &addressee(),
        update(Implementation::InProgress, None),
    ));
    assert!(msg.contains("respond first"), "{msg}");
}

#[test]
fn implementing_what_was_not_accepted_needs_a_reason() {
    let mut mv = respond(Acceptance::NotAccepted);
    if let Move::Respond { reasons, .. } = &mut mv {
        *reasons = Some("The cost is not justified.".into());
    }
    let r = run(&rec(), &addressee(), mv).unwrap();
    let (field, msg) = invalid_field(run(
        &r,
        &addressee(),
        update(Implementation::Implemented, None),
    ));
    assert_eq!(field, "note");
    assert!(msg.contains("not accepted"), "{msg}");
    let r = run(
        &r,
        &addressee(),
        update(
            Implementation::Implemented,
            Some("Done after the board changed its view."),
        ),
    )
    .unwrap();
    assert_eq!(
        r.addressees[0].implementation,
        Some(Implementation::Implemented)
    );
    // And a not-accepted response has no action plan.
    assert!(
        refused(run(
            &r,
            &addressee(),
            Move::AddAction {
                title: "x".into(),
                owner: None,
                due: None,
                evidence: vec![]
            }
        ))
        .contains("did not accept")
    );
}

#[test]
fn going_backwards_needs_a_note_and_verified_is_the_issuers() {
    let r = run(
        &responded(),
        &addressee(),
        update(Implementation::Implemented, None),
    )
    .unwrap();
    assert_eq!(
        invalid_field(run(
            &r,
            &addressee(),
            update(Implementation::InProgress, None)
        ))
        .0,
        "note"
    );
    run(
        &r,
        &addressee(),
        update(Implementation::InProgress, Some("The pilot was stopped.")),
    )
    .unwrap();
    assert_eq!(
        invalid_field(run(
            &r,
            &addressee(),
            update(Implementation::Verified, None)
        ))
        .0,
        "implementation"
    );
}

#[test]
fn an_unknown_action_number_is_refused() {
    let err = run(
        &responded(),
        &addressee(),
        Move::Update {
            implementation: Implementation::InProgress,
            note: None,
            evidence: vec![],
            action: Some(3),
        },
    );
    assert_eq!(invalid_field(err).0, "action");
}

#[test]
fn the_issuer_does_not_report_the_addressees_progress() {
    assert!(
        forbidden(run(
            &responded(),
            &issuer(),
            update(Implementation::InProgress, None)
        ))
        .contains("only the addressee")
    );
}

// --- assessment ---------------------------------------------------------------

#[test]
fn the_issuer_assesses_a_response() {
    for v in Assessment::ALL {
        let r = run(
            &responded(),
            &issuer(),
            Move::Assess {
                verdict: *v,
                comment: Some("Reasoned.".into()),
            },
        )
        .unwrap();
        let a = &r.addressees[0];
        assert_eq!(a.status, AddresseeStatus::Assessed);
        assert_eq!(a.assessment.as_ref().unwrap().verdict, *v);
        assert_eq!(a.assessment.as_ref().unwrap().by.as_deref(), Some("HSSIB"));
    }
}

#[test]
fn an_addressee_cannot_assess_its_own_response_even_as_issuer() {
    let mut r = responded();
    r.issuer = org("NHSE"); // NHS England writing to itself
    let w = who("NHSE", &r, 0);
    assert!(w.issuer && w.addressee);
    let msg = forbidden(run(
        &r,
        &w,
        Move::Assess {
            verdict: Assessment::FullySatisfactory,
            comment: None,
        },
    ));
    assert!(msg.contains("cannot assess its own response"), "{msg}");
    // Nor can another addressee assess.
    assert!(
        forbidden(run(
            &responded(),
            &who("CQC", &rec(), 0),
            Move::Assess {
                verdict: Assessment::FullySatisfactory,
                comment: None
            }
        ))
        .contains("only its issuer")
    );
}

#[test]
fn nothing_to_assess_without_a_response_and_verdicts_short_of_full_need_a_comment() {
    let msg = refused(run(
        &rec(),
        &issuer(),
        Move::Assess {
            verdict: Assessment::FullySatisfactory,
            comment: None,
        },
    ));
    assert!(msg.contains("nothing to assess"), "{msg}");
    assert_eq!(
        invalid_field(run(
            &responded(),
            &issuer(),
            Move::Assess {
                verdict: Assessment::Unsatisfactory,
                comment: None
            }
        ))
        .0,
        "comment"
    );
}

// --- closure, dormancy, reopening, verification ---------------------------------

#[test]
fn closing_every_addressee_closes_the_recommendation_and_reopening_publishes_it() {
    let r = run(
        &responded(),
        &issuer(),
        close(ClosureReason::NotImplemented, None),
    )
    .unwrap();
    assert_eq!(r.addressees[0].status, AddresseeStatus::Closed);
    assert_eq!(r.status, Lifecycle::Published, "CQC is still open");
    let r = apply(
        &r,
        1,
        &who("HSSIB", &r, 1),
        &close(ClosureReason::NoLongerApplicable, None),
        d(TODAY),
        &rules(),
    )
    .unwrap();
    assert_eq!(r.status, Lifecycle::Closed);
    let r = run(
        &r,
        &issuer(),
        Move::Reopen {
            note: Some("New evidence.".into()),
        },
    )
    .unwrap();
    assert_eq!(r.status, Lifecycle::Published);
    assert_eq!(r.addressees[0].status, AddresseeStatus::ResponseReceived);
    assert_eq!(r.addressees[0].closure, None);
}

#[test]
fn every_closure_reason_is_accepted_with_evidence() {
    for reason in ClosureReason::ALL {
        let r = run(
            &responded(),
            &issuer(),
            close(*reason, Some("Evidence seen.")),
        )
        .unwrap();
        assert_eq!(r.addressees[0].closure.as_ref().unwrap().reason, *reason);
    }
}

#[test]
fn closing_as_implemented_without_reported_implementation_needs_a_note() {
    let (field, msg) = invalid_field(run(
        &responded(),
        &issuer(),
        close(ClosureReason::Implemented, None),
    ));
    assert_eq!(field, "note");
    assert!(msg.contains("not started"), "{msg}");
    let r = run(
        &responded(),
        &addressee(),
        update(Implementation::Implemented, None),
    )
    .unwrap();
    run(&r, &issuer(), close(ClosureReason::Implemented, None)).unwrap();
}

#[test]
fn closing_twice_and_addressees_closing_are_refused() {
    let r = run(
        &responded(),
        &issuer(),
        close(ClosureReason::Withdrawn, None),
    )
    .unwrap();
    assert!(
        refused(run(&r, &issuer(), close(ClosureReason::Withdrawn, None)))
            .contains("nothing to close")
    );
    assert!(
        forbidden(run(
            &responded(),
            &addressee(),
            close(ClosureReason::Withdrawn, None)
        ))
        .contains("only its issuer")
    );
}

#[test]
fn dormant_items_can_be_reopened_but_not_answered() {
    let r = run(&rec(), &issuer(), Move::Dormant { note: None }).unwrap();
    assert_eq!(r.addressees[0].status, AddresseeStatus::Dormant);
    assert!(refused(run(&r, &addressee(), respond(Acceptance::Accepted))).contains("dormant"));
    assert!(refused(run(&r, &issuer(), Move::Dormant { note: None })).contains("only an open"));
    let r = run(&r, &issuer(), Move::Reopen { note: None }).unwrap();
    assert_eq!(r.addressees[0].status, AddresseeStatus::AwaitingResponse);
    assert!(refused(run(&r, &issuer(), Move::Reopen { note: None })).contains("only a dormant"));
}

#[test]
fn reopening_a_closed_item_needs_a_note() {
    let r = run(
        &responded(),
        &issuer(),
        close(ClosureReason::Withdrawn, None),
    )
    .unwrap();
    assert_eq!(
        invalid_field(run(&r, &issuer(), Move::Reopen { note: None })).0,
        "note"
    );
}

#[test]
fn verification_follows_closure_as_implemented_once() {
    let r = run(
        &responded(),
        &addressee(),
        update(Implementation::Implemented, None),
    )
    .unwrap();
    assert!(
        refused(run(&r, &issuer(), Move::Verify { note: None })).contains("only an item closed")
    );
    let r = run(&r, &issuer(), close(ClosureReason::Implemented, None)).unwrap();
    let r = run(&r, &issuer(), Move::Verify { note: None }).unwrap();
    assert_eq!(
        r.addressees[0].implementation,
        Some(Implementation::Verified)
    );
    assert_eq!(r.addressees[0].verified_on, Some(d(TODAY)));
    assert!(refused(run(&r, &issuer(), Move::Verify { note: None })).contains("already verified"));
    let r2 = run(
        &responded(),
        &issuer(),
        close(ClosureReason::NotImplemented, None),
    )
    .unwrap();
    assert!(
        refused(run(&r2, &issuer(), Move::Verify { note: None })).contains("only an item closed")
    );
}

#[test]
fn reassessment_must_be_in_the_future() {
    let r = run(
        &responded(),
        &issuer(),
        Move::Reassess {
            on: d("2025-03-01"),
        },
    )
    .unwrap();
    assert_eq!(r.addressees[0].reassess_on, Some(d("2025-03-01")));
    assert_eq!(
        invalid_field(run(
            &responded(),
            &issuer(),
            Move::Reassess { on: d(TODAY) }
        ))
        .0,
        "on"
    );
}

// --- deadlines and escalation -----------------------------------------------------

#[test]
fn deadlines_count_calendar_days_through_leap_days() {
    let pfd = RulesBook::builtin().for_issuer(&org("PFD")).clone();
    assert_eq!(pfd.days_to_respond, 56);
    assert_eq!(due_from(d("2024-01-04"), &pfd), d("2024-02-29"));
    assert_eq!(due_from(d("2023-01-04"), &pfd), d("2023-03-01"));
    assert_eq!(due_from(d("2024-01-04"), &rules()), d("2024-04-03"));
    let other = RulesBook::builtin().for_issuer(&org("CQC")).clone();
    assert_eq!(other, RulesBook::builtin().default);
}

#[test]
fn the_addressees_own_date_wins_then_the_recommendations_then_the_rule() {
    let mut r = rec();
    assert_eq!(
        due_for(&r, &r.addressees[0], &rules()),
        Some(d("2024-04-03"))
    );
    r.response_deadline = Some(d("2024-03-01"));
    assert_eq!(
        due_for(&r, &r.addressees[0], &rules()),
        Some(d("2024-03-01"))
    );
    r.addressees[0].due = Some(d("2024-02-01"));
    assert_eq!(
        due_for(&r, &r.addressees[0], &rules()),
        Some(d("2024-02-01"))
    );
    r.published = None;
    r.response_deadline = None;
    r.addressees[0].due = None;
    assert_eq!(due_for(&r, &r.addressees[0], &rules()), None);
}

#[test]
fn overdue_starts_the_day_after_the_due_date_and_ends_with_a_response() {
    let mut r = rec();
    r.response_deadline = Some(d("2024-02-29"));
    let a = r.addressees[0].clone();
    assert_eq!(overdue_as_of(&r, &a, &rules(), d("2024-02-29")), None);
    assert_eq!(
        overdue_as_of(&r, &a, &rules(), d("2024-03-01")),
        Some((d("2024-02-29"), 1))
    );
    assert_eq!(
        overdue_as_of(&r, &a, &rules(), d("2025-02-28")),
        Some((d("2024-02-29"), 365))
    );
    // A reply dated after the as-of date had not arrived yet.
    let mut late = a.clone();
    late.responses.push(Response {
        received: Some(d("2024-03-10")),
        ..Default::default()
    });
    assert!(overdue_as_of(&r, &late, &rules(), d("2024-03-05")).is_some());
    assert_eq!(overdue_as_of(&r, &late, &rules(), d("2024-03-10")), None);
    // An undated reply counts as received.
    let mut undated = a.clone();
    undated.responses.push(Response::default());
    assert_eq!(overdue_as_of(&r, &undated, &rules(), d("2024-12-01")), None);
    // Dormant and closed items, and drafts, are never overdue.
    let mut dormant = a.clone();
    dormant.status = AddresseeStatus::Dormant;
    assert_eq!(overdue_as_of(&r, &dormant, &rules(), d("2024-12-01")), None);
    r.status = Lifecycle::Draft;
    assert_eq!(overdue_as_of(&r, &a, &rules(), d("2024-12-01")), None);
}

#[test]
fn the_escalation_ladder_is_climbed_in_order_on_its_dates() {
    let mut r = rec();
    r.response_deadline = Some(d("2024-02-29"));
    let esc = Move::Escalate { note: None };
    let at = |r: &RecommendationData, day: &str| apply(r, 0, &issuer(), &esc, d(day), &rules());
    assert!(refused(at(&r, "2024-02-29")).contains("not late"));
    let r = at(&r, "2024-03-01").unwrap();
    assert_eq!(
        r.addressees[0].escalations[0].step,
        EscalationStep::Reminder
    );
    assert_eq!(r.addressees[0].escalations[0].on, d("2024-03-01"));
    // The second letter waits 30 days after the due date.
    let msg = refused(at(&r, "2024-03-29"));
    assert!(
        msg.contains("second letter") && msg.contains("2024-03-30"),
        "{msg}"
    );
    let r = at(&r, "2024-03-30").unwrap();
    assert_eq!(
        next_escalation(&r, &r.addressees[0], &rules(), d("2024-04-28")),
        None
    );
    assert_eq!(
        next_escalation(&r, &r.addressees[0], &rules(), d("2024-04-29")),
        Some((EscalationStep::PublicStatement, d("2024-04-29")))
    );
    let r = at(&r, "2024-04-29").unwrap();
    assert_eq!(r.addressees[0].escalations.len(), 3);
    assert!(refused(at(&r, "2024-06-01")).contains("every step"));
    // Once answered, nothing to escalate; and the addressee cannot escalate.
    let answered = run(&rec(), &addressee(), respond(Acceptance::Accepted)).unwrap();
    assert!(refused(at(&answered, "2024-12-01")).contains("only a late answer"));
    assert!(
        forbidden(apply(
            &rec(),
            0,
            &addressee(),
            &esc,
            d("2024-12-01"),
            &rules()
        ))
        .contains("only its issuer")
    );
}

#[test]
fn rules_as_data_are_checked() {
    RulesBook::builtin();
    assert!(
        RulesBook::parse(r#"{"default":{"days_to_respond":0,"ladder":[]}}"#)
            .unwrap_err()
            .contains("days_to_respond")
    );
    let backwards = r#"{"default":{"days_to_respond":56,"ladder":[
        {"step":"second_letter","days_after_due":10},{"step":"reminder","days_after_due":20}]}}"#;
    assert!(
        RulesBook::parse(backwards)
            .unwrap_err()
            .contains("must go up")
    );
    let bad_issuer = r#"{"default":{"days_to_respond":56,"ladder":[]},"issuers":{"not a code":{"days_to_respond":5,"ladder":[]}}}"#;
    assert!(
        RulesBook::parse(bad_issuer)
            .unwrap_err()
            .contains("issuers.not a code")
    );
    assert!(
        RulesBook::parse(r#"{"default":{"days_to_respond":5,"ladder":[],"extra":1}}"#).is_err()
    );
}

#[test]
fn a_published_record_without_a_deadline_gets_the_issuers() {
    let mut r = rec();
    r.issuer = org("PFD");
    settle_deadline(&mut r, &RulesBook::builtin());
    assert_eq!(r.response_deadline, Some(d("2024-02-29")));
    let mut draft = rec();
    draft.status = Lifecycle::Draft;
    settle_deadline(&mut draft, &RulesBook::builtin());
    assert_eq!(draft.response_deadline, None);
}

#[test]
fn moves_travel_as_tagged_json() {
    let mv: Move = serde_json::from_str(
        r#"{"move":"respond","acceptance":"accepted in principle","text":"Yes","received":"2024-02-01"}"#,
    )
    .unwrap();
    assert_eq!(mv.name(), "respond");
    assert!(
        serde_json::from_str::<Move>(r#"{"move":"respond","acceptance":"maybe","text":"x"}"#)
            .unwrap_err()
            .to_string()
            .contains("accepted, accepted_in_principle")
    );
    assert!(serde_json::from_str::<Move>(r#"{"move":"close","reason":"done","bogus":1}"#).is_err());
}

#[test]
fn an_installations_rules_are_checked_field_by_field() {
    let rules = |days, ladder: &str| ResponseRules {
        days_to_respond: days,
        ladder: LadderStep::parse_ladder(ladder).unwrap(),
        source: None,
    };
    let field = |r: ResponseRules| r.check().unwrap_err().fields()[0].field.clone();
    rules(56, "reminder:14,second_letter:28,public_statement:56")
        .check()
        .unwrap();
    rules(1, "").check().unwrap();
    rules(3650, "public_statement:3650").check().unwrap();
    assert_eq!(field(rules(0, "")), "days_to_respond");
    assert_eq!(field(rules(5000, "")), "days_to_respond");
    // Out of order: by kind, by days, and the same day twice.
    assert_eq!(
        field(rules(56, "second_letter:14,reminder:28")),
        "ladder[1].step"
    );
    assert_eq!(
        field(rules(56, "reminder:28,second_letter:14")),
        "ladder[1].days_after_due"
    );
    assert_eq!(
        field(rules(56, "reminder:14,second_letter:14")),
        "ladder[1].days_after_due"
    );
    assert_eq!(field(rules(56, "reminder:1,reminder:2")), "ladder[1].step");
    // What the command line or a body may get wrong.
    let bad = |t: &str| LadderStep::parse_ladder(t).unwrap_err().fields()[0].clone();
    let e = bad("reminder:14,telegram:20");
    assert_eq!(e.field, "ladder[1].step");
    assert!(e.message.contains("telegram") && e.message.contains("second_letter"));
    assert_eq!(bad("reminder").field, "ladder[0]");
    assert_eq!(bad("reminder:soon").field, "ladder[0].days_after_due");
    assert_eq!(bad("reminder:-3").field, "ladder[0].days_after_due");
    assert_eq!(bad("reminder:99999").field, "ladder[0].days_after_due");
    // Written as people write it.
    assert_eq!(
        LadderStep::from_parts("ladder[2]", "Second letter ", 3)
            .unwrap()
            .step,
        EscalationStep::SecondLetter
    );
}

#[test]
fn an_installations_rules_replace_the_issuers_and_nothing_else() {
    let book = RulesBook::builtin();
    let mine = ResponseRules {
        days_to_respond: 28,
        ladder: LadderStep::parse_ladder("reminder:7").unwrap(),
        source: Some("board decision".into()),
    };
    let nhse = org("NHSE");
    let merged = book.with_overrides([(&org("HSSIB"), &mine), (&nhse, &mine)]);
    assert_eq!(merged.for_issuer(&org("HSSIB")), &mine);
    assert_eq!(merged.for_issuer(&nhse), &mine);
    assert_eq!(merged.for_issuer(&org("PFD")).days_to_respond, 56);
    assert_eq!(merged.for_issuer(&org("CQC")), &book.default);
    // A record published under the new rule is due 28 days later.
    let mut r = rec();
    settle_deadline(&mut r, &merged);
    assert_eq!(
        r.response_deadline,
        Some(r.published.unwrap() + Duration::days(28))
    );
}
