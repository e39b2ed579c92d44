//! The lifecycle use cases: an addressee responds and reports progress, the
//! issuer assesses, closes, escalates. The rules are the domain's
//! ([`concord_domain::lifecycle`]); here we load, check who is asking, apply,
//! and store with an audit event named for the move.

use concord_domain::lifecycle::{self, Move, MoveError, MoveKind, Standing};
use concord_domain::{
    Addressee, AddresseeStatus, Recommendation, RecommendationData, RecommendationId,
};

use crate::access::{Action, Authorized};
use crate::error::{AppError, AppResult};

/// How often a move is retried when someone else changed the record between
/// our read and our write (the move is re-applied to the new version).
const RETRIES: usize = 3;

impl From<MoveError> for AppError {
    fn from(e: MoveError) -> Self {
        match e {
            MoveError::Forbidden(m) => AppError::Forbidden(m),
            MoveError::Invalid { field, message } => AppError::invalid_field(field, message),
            MoveError::Refused(m) => AppError::Refused(m),
        }
    }
}

/// Finds an addressee by its number (1-based, as shown), its organisation
/// code, or its name (whole, any case; or a part that matches only one).
pub fn find_addressee(rec: &RecommendationData, which: &str) -> AppResult<usize> {
    let which = which.trim();
    let list = || {
        rec.addressees
            .iter()
            .enumerate()
            .map(|(i, a)| match &a.org {
                Some(o) => format!("{} {} ({o})", i + 1, a.name),
                None => format!("{} {}", i + 1, a.name),
            })
            .collect::<Vec<_>>()
            .join("; ")
    };
    if which.is_empty() {
        return Err(AppError::invalid_field(
            "addressee",
            format!("is empty; name one of: {}", list()),
        ));
    }
    if let Ok(n) = which.parse::<usize>() {
        return match n.checked_sub(1).filter(|i| *i < rec.addressees.len()) {
            Some(i) => Ok(i),
            None => Err(AppError::invalid_field(
                "addressee",
                format!("there is no addressee {n}; the addressees are: {}", list()),
            )),
        };
    }
    let lower = which.to_lowercase();
    let by = |f: &dyn Fn(&Addressee) -> bool| -> Vec<usize> {
        rec.addressees
            .iter()
            .enumerate()
            .filter(|(_, a)| f(a))
            .map(|(i, _)| i)
            .collect()
    };
    for found in [
        by(&|a| {
            a.org
                .as_ref()
                .is_some_and(|o| o.as_str().eq_ignore_ascii_case(which))
        }),
        by(&|a| a.name.to_lowercase() == lower),
        by(&|a| a.name.to_lowercase().contains(&lower)),
    ] {
        match found.len() {
            0 => continue,
            1 => return Ok(found[0]),
            _ => {
                return Err(AppError::invalid_field(
                    "addressee",
                    format!(
                        "{which:?} matches more than one addressee; give the number: {}",
                        list()
                    ),
                ));
            }
        }
    }
    Err(AppError::invalid_field(
        "addressee",
        format!(
            "{which:?} is not an addressee of this recommendation; the addressees are: {}",
            list()
        ),
    ))
}

impl Authorized<'_> {
    /// Refuses anonymous callers (401) before anything else is looked at.
    pub fn require_signed_in(&self) -> AppResult<()> {
        self.permit(Action::Change, None)
    }

    /// Answering is the respondent's; judging the answer the assessor's.
    fn require_move_role(&self, kind: MoveKind) -> AppResult<()> {
        let action = if kind.is_addressees() {
            Action::Answer
        } else {
            Action::Judge
        };
        self.permit(action, None).map_err(|e| match e {
            AppError::Forbidden(m) => AppError::Forbidden(format!("the move {kind}: {m}")),
            e => e,
        })
    }

    /// Whether the caller may make the move of this name on the addressee
    /// at `index` (role and standing; the record's state aside), without
    /// making it: what a page asks before offering the move's form.
    pub fn may_move(
        &self,
        rec: &RecommendationData,
        index: usize,
        kind: MoveKind,
    ) -> AppResult<()> {
        self.require_move_role(kind)?;
        let Some(a) = rec.addressees.get(index) else {
            return Err(AppError::NotFound(format!(
                "there is no addressee number {}",
                index + 1
            )));
        };
        let who = Standing::of(
            self.principal().org(),
            self.principal().is_operator(),
            rec,
            a,
        );
        lifecycle::may_make(&who, kind, a).map_err(AppError::from)
    }

    /// Applies one lifecycle move to one addressee of a recommendation.
    pub async fn apply_move(
        &self,
        id: &RecommendationId,
        addressee: &str,
        mv: &Move,
    ) -> AppResult<Recommendation> {
        self.require_move_role(mv.kind())?;
        let svc = self.services();
        let book = svc.rules_book().await?;
        let mut attempt = 0;
        loop {
            attempt += 1;
            let (rec, next) = self.moved(id, addressee, mv, &book).await?;
            match svc
                .store()
                .update_as(
                    &self.principal().actor(),
                    id,
                    rec.version,
                    next,
                    svc.clock().now(),
                    mv.name(),
                )
                .await
            {
                Ok(saved) => {
                    svc.search_changed();
                    return Ok(saved);
                }
                Err(concord_store::StoreError::Conflict { .. }) if attempt < RETRIES => continue,
                Err(e) => return Err(e.into()),
            }
        }
    }

    /// Whether [`Self::apply_move`] would be accepted now, with the same
    /// refusals, storing nothing (a page shows the move to be checked
    /// before it is made).
    pub async fn check_move(
        &self,
        id: &RecommendationId,
        addressee: &str,
        mv: &Move,
    ) -> AppResult<()> {
        self.require_move_role(mv.kind())?;
        let book = self.services().rules_book().await?;
        self.moved(id, addressee, mv, &book).await.map(|_| ())
    }

    /// The record as it stands and what the move makes of it.
    async fn moved(
        &self,
        id: &RecommendationId,
        addressee: &str,
        mv: &Move,
        book: &lifecycle::RulesBook,
    ) -> AppResult<(Recommendation, concord_domain::RecommendationData)> {
        let rec = self.recommendation(id).await?;
        let index = find_addressee(&rec.data, addressee)?;
        let who = Standing::of(
            self.principal().org(),
            self.principal().is_operator(),
            &rec.data,
            &rec.data.addressees[index],
        );
        let today = self.services().clock().today();
        let rules = book.for_issuer(&rec.data.issuer);
        let next = lifecycle::apply(&rec.data, index, &who, mv, today, rules)?;
        Ok((rec, next))
    }
}

/// Whether an addressee has said or been judged anything.
fn has_history(a: &Addressee) -> bool {
    !a.responses.is_empty()
        || a.acceptance.is_some()
        || a.assessment.is_some()
        || a.closure.is_some()
        || !a.escalations.is_empty()
}

/// A new addressee (on a new record, or added by an edit) starts awaiting
/// its response, or not required, with nothing said for it: what a body
/// says and does is recorded only through its own moves.
fn starts_fresh(i: usize, a: &Addressee) -> AppResult<()> {
    let fresh = Addressee {
        name: a.name.clone(),
        org: a.org.clone(),
        due: a.due,
        status: a.status,
        ..Default::default()
    };
    let simple = matches!(
        a.status,
        AddresseeStatus::AwaitingResponse | AddresseeStatus::NotRequired
    );
    if !simple || *a != fresh {
        return Err(AppError::invalid_field(
            format!("addressees[{i}]"),
            "a new addressee starts awaiting its response; \
             responses, assessments and closures are recorded through the lifecycle moves",
        ));
    }
    Ok(())
}

/// What a caller creates: every addressee starts fresh (the same rule an
/// edit keeps for addressees it adds).
pub(crate) fn fresh_addressees(data: &RecommendationData) -> AppResult<()> {
    data.addressees
        .iter()
        .enumerate()
        .try_for_each(|(i, a)| starts_fresh(i, a))
}

/// An edit by the issuer may rename addressees, set their due dates, add
/// new ones or mark one as not required; what an addressee said and did,
/// and the issuer's own judgements, change only through the moves. This
/// carries that state over from the stored record and refuses edits that
/// would rewrite or drop it.
pub(crate) fn keep_lifecycle(
    current: &RecommendationData,
    edited: &mut RecommendationData,
) -> AppResult<()> {
    let same = |a: &Addressee, b: &Addressee| match (&a.org, &b.org) {
        (Some(x), Some(y)) => x == y,
        _ => a.name.trim().eq_ignore_ascii_case(b.name.trim()),
    };
    let mut used = vec![false; current.addressees.len()];
    for (i, new) in edited.addressees.iter_mut().enumerate() {
        let found = current
            .addressees
            .iter()
            .enumerate()
            .find(|(j, old)| !used[*j] && same(old, new));
        let simple = |s: AddresseeStatus| {
            matches!(
                s,
                AddresseeStatus::AwaitingResponse | AddresseeStatus::NotRequired
            )
        };
        match found {
            Some((j, old)) => {
                used[j] = true;
                // Awaiting (the default when a client leaves it out) keeps
                // whatever the moves have made of it.
                let status = if simple(old.status) && simple(new.status) {
                    new.status
                } else if new.status == old.status
                    || new.status == AddresseeStatus::AwaitingResponse
                {
                    old.status
                } else {
                    return Err(AppError::invalid_field(
                        format!("addressees[{i}].status"),
                        format!(
                            "{} cannot be changed from {} to {} by an edit; \
                             use the lifecycle moves (respond, assess, close, dormant, reopen)",
                            old.name, old.status, new.status
                        ),
                    ));
                };
                // Another body's answers stay that body's: an addressee that
                // has said or been judged anything keeps its organisation (an
                // edit to none and then to a third body would hand them over).
                if has_history(old) && new.org != old.org {
                    return Err(AppError::invalid_field(
                        format!("addressees[{i}].org"),
                        format!(
                            "{} has a response or lifecycle history, so its \
                             organisation cannot be changed by an edit (an operator merges \
                             organisations that are the same body)",
                            old.name
                        ),
                    ));
                }
                let (name, org, due) = (new.name.clone(), new.org.clone(), new.due);
                *new = old.clone();
                new.name = name;
                new.org = org;
                new.due = due;
                new.status = status;
            }
            None => starts_fresh(i, new)?,
        }
    }
    for (j, old) in current.addressees.iter().enumerate() {
        if !used[j] && has_history(old) {
            return Err(AppError::invalid_field(
                "addressees",
                format!(
                    "{} has a response or lifecycle history and cannot be removed; \
                 close its part instead (reason no_longer_applicable or withdrawn)",
                    old.name
                ),
            ));
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use concord_domain::OrgCode;

    fn rec() -> RecommendationData {
        let mut r: RecommendationData = serde_json::from_value(serde_json::json!({
            "kind": "recommendation", "issuer": "HSSIB", "title": "T", "text": "Do it.",
            "published": "2024-01-04", "status": "published",
            "addressees": [
                {"name": "NHS England", "org": "NHSE", "status": "awaiting_response", "due": null},
                {"name": "Northmoor Hospitals NHS Trust", "org": null, "status": "awaiting_response", "due": null},
                {"name": "Northmoor Community Trust", "org": null, "status": "awaiting_response", "due": null}
            ]
        }))
        .unwrap();
        r.addressees[0].org = Some(OrgCode::parse("NHSE").unwrap());
        r
    }

    #[test]
    fn addressees_are_found_by_number_code_or_name() {
        let r = rec();
        assert_eq!(find_addressee(&r, "1").unwrap(), 0);
        assert_eq!(find_addressee(&r, "nhse").unwrap(), 0);
        assert_eq!(
            find_addressee(&r, "northmoor hospitals nhs trust").unwrap(),
            1
        );
        assert_eq!(find_addressee(&r, "Community").unwrap(), 2);
        let e = find_addressee(&r, "Northmoor").unwrap_err().to_string();
        assert!(e.contains("more than one"), "{e}");
        let e = find_addressee(&r, "4").unwrap_err().to_string();
        assert!(
            e.contains("no addressee 4") && e.contains("1 NHS England (NHSE)"),
            "{e}"
        );
        assert!(
            find_addressee(&r, "CQC")
                .unwrap_err()
                .to_string()
                .contains("not an addressee")
        );
        assert!(find_addressee(&r, " ").is_err());
    }

    #[test]
    fn edits_keep_what_addressees_said() {
        let mut current = rec();
        current.addressees[0].status = AddresseeStatus::ResponseReceived;
        current.addressees[0].responses.push(Default::default());
        current.addressees[0].acceptance = Some(lifecycle::Acceptance::Accepted);
        // The issuer renames and re-dates; the response stays.
        let mut edited = rec();
        edited.addressees[0].name = "NHS England (national)".into();
        edited.addressees[0].due = "2024-05-01".parse().ok();
        edited.addressees[0].status = AddresseeStatus::ResponseReceived;
        edited.addressees[2].status = AddresseeStatus::NotRequired;
        keep_lifecycle(&current, &mut edited).unwrap();
        assert_eq!(edited.addressees[0].responses.len(), 1);
        assert_eq!(
            edited.addressees[0].status,
            AddresseeStatus::ResponseReceived
        );
        assert_eq!(edited.addressees[0].name, "NHS England (national)");
        assert_eq!(edited.addressees[2].status, AddresseeStatus::NotRequired);

        // Leaving the status out (awaiting) keeps it; closing by edit is refused.
        let mut silent = rec();
        silent.addressees[0].name = "NHS England".into();
        keep_lifecycle(&current, &mut silent).unwrap();
        assert_eq!(
            silent.addressees[0].status,
            AddresseeStatus::ResponseReceived
        );
        let mut closing = rec();
        closing.addressees[0].status = AddresseeStatus::Closed;
        let e = keep_lifecycle(&current, &mut closing)
            .unwrap_err()
            .to_string();
        assert!(
            e.contains("addressees[0].status") && e.contains("lifecycle moves"),
            "{e}"
        );

        // Dropping an addressee that answered is refused.
        let mut dropping = rec();
        dropping.addressees.remove(0);
        let e = keep_lifecycle(&current, &mut dropping)
            .unwrap_err()
            .to_string();
        assert!(e.contains("cannot be removed"), "{e}");

        // A new addressee cannot arrive with a response already in hand.
        let mut adding = rec();
        adding.addressees.push(Addressee {
            name: "CQC".into(),
            responses: vec![Default::default()],
            ..Default::default()
        });
        let e = keep_lifecycle(&current, &mut adding)
            .unwrap_err()
            .to_string();
        assert!(e.contains("addressees[3]"), "{e}");
    }
}
