//! Where each part of a record came from, and how a second source for the
//! same report is merged into the first (pure: the store calls [`enrich`]
//! inside its import transaction).
//!
//! Precedence, part by part (documented in `crates/ingest/FORMATS.md`):
//! - a genuine value always beats a stand-in (a placeholder text, a title
//!   made up from the category, no value at all);
//! - text: the longer genuine text wins; a text that is only the start of
//!   the other (a cut copy) adds nothing, any other loser is kept as a variant;
//! - title: goes with the text it was taken from;
//! - every other part: the higher-ranked source wins ([`DataSource::rank`]:
//!   Concord's own edits, then the judiciary's file, then the toolkit's
//!   derived copy), and the loser is kept as a variant;
//! - addressees that already carry answers or lifecycle state are never
//!   replaced by a file (the other list becomes a variant);
//! - evidence references are united; source details fill gaps only.
//!
//! The rule is symmetric in the order the sources arrive, so importing two
//! files in either order gives the same record (ids aside, see FORMATS.md).

use chrono::{DateTime, Utc};

use crate::model::{Addressee, AddresseeStatus, RecommendationData};
use crate::organisation::names::{body_key, written_body};
use crate::text::normalise_name;

pub(crate) mod records;

pub use records::{DataSource, PartOrigin, Provenance, RecordPart, Variant};

impl Provenance {
    /// Every part `data` holds, supplied by one source; `stand_ins` are the
    /// parts whose value is a placeholder.
    pub fn of_source(
        data: &RecommendationData,
        from: DataSource,
        file: Option<&str>,
        stand_ins: &[RecordPart],
    ) -> Provenance {
        let mut parts = Vec::new();
        for part in RecordPart::ALL.iter().copied() {
            if !has_part(data, part) {
                continue;
            }
            parts.push(PartOrigin {
                part,
                from,
                file: file.map(str::to_string),
                at: None,
                stand_in: stand_ins.contains(&part),
            });
        }
        Provenance {
            parts,
            variants: Vec::new(),
        }
    }

    pub fn origin(&self, part: RecordPart) -> Option<&PartOrigin> {
        self.parts.iter().find(|p| p.part == part)
    }

    /// Whether `origin` outranks the source the part comes from now (a
    /// part with no origin is outranked by anything).
    fn outranked_by(&self, origin: &PartOrigin) -> bool {
        self.origin(origin.part)
            .is_none_or(|s| origin.from.rank() > s.from.rank())
    }

    /// Stamps every part and variant that has no time yet.
    pub fn stamp(&mut self, now: DateTime<Utc>) {
        for p in &mut self.parts {
            p.at.get_or_insert(now);
        }
        for v in &mut self.variants {
            v.at.get_or_insert(now);
        }
    }

    /// Says that a part's value now comes from `origin`.
    pub fn set_origin(&mut self, origin: PartOrigin) {
        match self.parts.iter_mut().find(|p| p.part == origin.part) {
            Some(p) => *p = origin,
            None => {
                self.parts.push(origin);
                self.parts.sort_by_key(|p| p.part);
            }
        }
    }

    fn add_variant(&mut self, v: Variant) -> bool {
        let known = self
            .variants
            .iter()
            .any(|x| x.part == v.part && same_text(&x.value, &v.value));
        if !known {
            self.variants.push(v);
        }
        !known
    }

    /// Marks the parts that differ between `before` and `after` as entered
    /// in Concord (an edit through the API or the pages).
    pub fn edited(&mut self, before: &RecommendationData, after: &RecommendationData) {
        if self.parts.is_empty() {
            return;
        }
        for part in RecordPart::ALL.iter().copied() {
            if part == RecordPart::Responses {
                continue;
            }
            if value_of(before, part) != value_of(after, part) {
                self.set_origin(PartOrigin {
                    part,
                    from: DataSource::Concord,
                    file: None,
                    at: None,
                    stand_in: false,
                });
            }
        }
    }
}

/// What merging a second source into a record did.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Enrichment {
    /// Parts that were empty or a stand-in and now hold the source's value.
    pub filled: Vec<RecordPart>,
    /// Parts whose genuine value gave way to a better one (kept as a variant).
    pub replaced: Vec<RecordPart>,
    /// Values the source gave that the record does not use, newly kept.
    pub variants: Vec<Variant>,
    /// Parts whose value the source confirms and, outranking the one that
    /// gave it first, is now named as their source.
    pub credited: Vec<RecordPart>,
}

impl Enrichment {
    pub fn changed(&self) -> bool {
        !self.filled.is_empty()
            || !self.replaced.is_empty()
            || !self.variants.is_empty()
            || !self.credited.is_empty()
    }
}

fn has_part(d: &RecommendationData, part: RecordPart) -> bool {
    !value_of(d, part).is_empty()
}

fn same_text(a: &str, b: &str) -> bool {
    flat(a) == flat(b)
}

fn flat(s: &str) -> String {
    s.split_whitespace().collect::<Vec<_>>().join(" ")
}

/// The bodies a list names, so that two spellings of one body ("The Rt Hon
/// A Minister MP, Department for Transport") are the same list.
fn addressee_names(list: &[Addressee]) -> Vec<String> {
    let mut names: Vec<String> = list
        .iter()
        .map(|a| {
            // From the name alone (never the directory, which changes
            // between imports), so that merging again changes nothing.
            let body = written_body(&a.name).unwrap_or_else(|| a.name.clone());
            body_key(&body)
        })
        .collect();
    names.sort();
    names.dedup();
    names
}

/// A part's value as one line of text: what is compared, and what a variant keeps.
pub fn value_of(d: &RecommendationData, part: RecordPart) -> String {
    match part {
        RecordPart::Reference => d.local_ref.clone().unwrap_or_default(),
        RecordPart::Published => d.published.map(|p| p.to_string()).unwrap_or_default(),
        RecordPart::Title => d.title.clone(),
        RecordPart::Text => d.text.clone(),
        RecordPart::Addressees => d
            .addressees
            .iter()
            .map(|a| a.name.as_str())
            .collect::<Vec<_>>()
            .join(" | "),
        RecordPart::Themes => d.themes.join(" | "),
        RecordPart::Source => d
            .source
            .as_ref()
            .map(|s| {
                [s.title.clone(), s.url.clone(), s.local_ref.clone()]
                    .into_iter()
                    .flatten()
                    .collect::<Vec<_>>()
                    .join(" | ")
            })
            .unwrap_or_default(),
        RecordPart::Evidence => d
            .evidence
            .as_ref()
            .map(|e| e.references.join(" | "))
            .unwrap_or_default(),
        RecordPart::Responses => d
            .addressees
            .iter()
            .flat_map(|a| a.responses.iter())
            .filter_map(|r| r.url.clone().or_else(|| r.text.clone()))
            .collect::<Vec<_>>()
            .join(" | "),
    }
}

fn carries_state(a: &Addressee) -> bool {
    !matches!(
        a.status,
        AddresseeStatus::AwaitingResponse | AddresseeStatus::NotRequired
    ) || !a.responses.is_empty()
        || a.acceptance.is_some()
        || a.implementation.is_some()
        || a.assessment.is_some()
        || a.closure.is_some()
}

/// Merges what a second source says about a known report into the stored
/// record (see the module's precedence rules). `stored_prov` is updated to
/// say where each part now comes from; the return value says what changed.
pub fn enrich(
    stored: &mut RecommendationData,
    stored_prov: &mut Provenance,
    incoming: &RecommendationData,
    incoming_prov: &Provenance,
) -> Enrichment {
    let mut out = Enrichment::default();
    // A record without provenance was entered in Concord.
    let stored_origin = |prov: &Provenance, part: RecordPart| -> PartOrigin {
        prov.origin(part).cloned().unwrap_or(PartOrigin {
            part,
            from: DataSource::Concord,
            file: None,
            at: None,
            stand_in: false,
        })
    };
    for part in [
        RecordPart::Text,
        RecordPart::Reference,
        RecordPart::Published,
        RecordPart::Addressees,
        RecordPart::Themes,
    ] {
        let Some(i_origin) = incoming_prov.origin(part).cloned() else {
            continue;
        };
        let i_val = value_of(incoming, part);
        let s_origin = stored_origin(stored_prov, part);
        let s_val = value_of(stored, part);
        // A stand-in is better than nothing (it may hold replies), never
        // better than a value.
        if i_origin.stand_in && s_val.trim().is_empty() && !i_val.trim().is_empty() {
            apply(stored, incoming, part);
            stored_prov.set_origin(i_origin.clone());
            out.filled.push(part);
            continue;
        }
        if i_val.trim().is_empty() || i_origin.stand_in {
            continue;
        }
        let s_empty = s_val.trim().is_empty() || s_origin.stand_in;
        let equal = match part {
            RecordPart::Addressees => {
                addressee_names(&stored.addressees) == addressee_names(&incoming.addressees)
            }
            _ => same_text(&s_val, &i_val),
        };
        // The same value from a higher-ranked source: it is credited, so
        // that the order of the files does not decide who is named.
        if !s_empty && equal && i_origin.from.rank() > s_origin.from.rank() {
            // Equal lists of addressees may still be written differently
            // and carry different replies: the higher-ranked list is used,
            // unless answers were already recorded against the other.
            if part == RecordPart::Addressees && !stored.addressees.iter().any(carries_state) {
                stored.addressees = incoming.addressees.clone();
                keep_own_dues(stored, incoming);
            }
            stored_prov.set_origin(i_origin.clone());
            out.credited.push(part);
            continue;
        }
        // Equal, or the same source again (a re-import, or answers added
        // to the list it gave): nothing new.
        if !s_empty && (equal || s_origin.from == i_origin.from) {
            continue;
        }
        let variant = |value: String, o: &PartOrigin, why: &str| Variant {
            part,
            value,
            from: o.from,
            file: o.file.clone(),
            at: o.at,
            why: why.to_string(),
        };
        // Does the incoming value take the part's place?
        let (take, why_loser): (bool, &str) = if s_empty {
            (true, "")
        } else {
            match part {
                RecordPart::Text => {
                    let (s, i) = (flat(&s_val), flat(&i_val));
                    if i.starts_with(&s) {
                        (true, "")
                    } else if s.starts_with(&i) {
                        (false, "")
                    } else if i.chars().count() != s.chars().count() {
                        (
                            i.chars().count() > s.chars().count(),
                            "the longer genuine text is kept",
                        )
                    } else {
                        (
                            i_origin.from.rank() > s_origin.from.rank(),
                            "texts of equal length: the higher-ranked source is kept",
                        )
                    }
                }
                RecordPart::Addressees if stored.addressees.iter().any(carries_state) => (
                    false,
                    "the addressees already carry answers, which a file never replaces",
                ),
                _ => (
                    i_origin.from.rank() > s_origin.from.rank(),
                    "the higher-ranked source is kept",
                ),
            }
        };
        if take {
            if s_empty {
                out.filled.push(part);
            } else {
                out.replaced.push(part);
                if !why_loser.is_empty() {
                    let v = variant(s_val.clone(), &s_origin, why_loser);
                    if stored_prov.add_variant(v.clone()) {
                        out.variants.push(v);
                    }
                }
            }
            let kept: Vec<Addressee> = if part == RecordPart::Addressees {
                stored
                    .addressees
                    .iter()
                    .filter(|a| carries_state(a))
                    .cloned()
                    .collect()
            } else {
                Vec::new()
            };
            apply(stored, incoming, part);
            // The source's due dates follow its own date of the report; the
            // record's date may be another source's.
            if part == RecordPart::Addressees {
                keep_own_dues(stored, incoming);
            }
            // Answers already recorded stay with the record whatever list wins.
            for a in kept {
                let n = normalise_name(&a.name);
                match stored
                    .addressees
                    .iter_mut()
                    .find(|x| normalise_name(&x.name) == n)
                {
                    Some(x) => *x = a,
                    None => stored.addressees.push(a),
                }
            }
            stored_prov.set_origin(i_origin.clone());
            if part == RecordPart::Text
                && let Some(t) = incoming_prov.origin(RecordPart::Title)
                && !t.stand_in
            {
                stored.title = incoming.title.clone();
                stored_prov.set_origin(t.clone());
            }
            if part == RecordPart::Published {
                redate(stored, incoming);
            }
        } else if !why_loser.is_empty() {
            let v = variant(i_val, &i_origin, why_loser);
            if stored_prov.add_variant(v.clone()) {
                out.variants.push(v);
            }
        }
    }
    // Replies that came with an adopted list of addressees are that source's.
    if (out.filled.contains(&RecordPart::Addressees)
        || out.replaced.contains(&RecordPart::Addressees)
        || out.credited.contains(&RecordPart::Addressees))
        && stored_prov.origin(RecordPart::Addressees)
            == incoming_prov.origin(RecordPart::Addressees)
        && let Some(o) = incoming_prov.origin(RecordPart::Responses)
        && incoming.addressees.iter().any(|a| !a.responses.is_empty())
    {
        stored_prov.set_origin(o.clone());
    }
    add_responses(stored, stored_prov, incoming, incoming_prov, &mut out);
    fill_source(stored, stored_prov, incoming, incoming_prov, &mut out);
    unite_evidence(stored, stored_prov, incoming, incoming_prov, &mut out);
    out
}

fn apply(stored: &mut RecommendationData, incoming: &RecommendationData, part: RecordPart) {
    match part {
        RecordPart::Reference => stored.local_ref = incoming.local_ref.clone(),
        RecordPart::Published => stored.published = incoming.published,
        RecordPart::Text => stored.text = incoming.text.clone(),
        RecordPart::Addressees => stored.addressees = incoming.addressees.clone(),
        RecordPart::Themes => stored.themes = incoming.themes.clone(),
        RecordPart::Title | RecordPart::Source | RecordPart::Evidence | RecordPart::Responses => {}
    }
}

/// Addressees adopted from a source whose date of the report differs keep
/// the record's deadline, not the one the source derived from its date.
fn keep_own_dues(stored: &mut RecommendationData, incoming: &RecommendationData) {
    if stored.published == incoming.published {
        return;
    }
    for a in &mut stored.addressees {
        if a.due == incoming.response_deadline {
            a.due = stored.response_deadline;
        }
    }
}

/// A new date moves the deadlines that were derived from the old one, and
/// any that would now fall before it.
fn redate(stored: &mut RecommendationData, incoming: &RecommendationData) {
    let old = stored.response_deadline;
    let published = stored.published;
    let stale = |d: Option<chrono::NaiveDate>| {
        d.is_none() || d == old || published.is_some_and(|p| d.is_some_and(|d| d < p))
    };
    if incoming.response_deadline.is_some() && stale(stored.response_deadline) {
        stored.response_deadline = incoming.response_deadline;
    }
    for a in &mut stored.addressees {
        if stale(a.due) {
            a.due = stored.response_deadline;
        }
    }
}

/// Replies the source knows of and the record does not: to the addressee of
/// the same name, else with the source's addressee added to the record.
fn add_responses(
    stored: &mut RecommendationData,
    stored_prov: &mut Provenance,
    incoming: &RecommendationData,
    incoming_prov: &Provenance,
    out: &mut Enrichment,
) {
    let Some(origin) = incoming_prov.origin(RecordPart::Responses) else {
        return;
    };
    let known = |d: &RecommendationData, r: &crate::model::Response| {
        d.addressees
            .iter()
            .flat_map(|a| a.responses.iter())
            .any(|x| (r.url.is_some() && x.url == r.url) || (r.url.is_none() && x.text == r.text))
    };
    let mut added = false;
    for ia in &incoming.addressees {
        let new: Vec<_> = ia
            .responses
            .iter()
            .filter(|r| !known(stored, r))
            .cloned()
            .collect();
        if new.is_empty() {
            continue;
        }
        added = true;
        let n = normalise_name(&ia.name);
        match stored
            .addressees
            .iter_mut()
            .find(|x| normalise_name(&x.name) == n)
        {
            Some(x) => {
                x.responses.extend(new);
                if x.status == AddresseeStatus::AwaitingResponse {
                    x.status = AddresseeStatus::ResponseReceived;
                }
            }
            None => {
                let mut a = ia.clone();
                a.responses = new;
                stored.addressees.push(a);
                if stored_prov.origin(RecordPart::Addressees).is_none()
                    && let Some(o) = incoming_prov.origin(RecordPart::Addressees)
                {
                    stored_prov.set_origin(o.clone());
                }
            }
        }
    }
    if added {
        out.filled.push(RecordPart::Responses);
        stored_prov.set_origin(origin.clone());
    }
}

fn fill_source(
    stored: &mut RecommendationData,
    stored_prov: &mut Provenance,
    incoming: &RecommendationData,
    incoming_prov: &Provenance,
    out: &mut Enrichment,
) {
    let (Some(i), Some(origin)) = (
        incoming.source.as_ref(),
        incoming_prov.origin(RecordPart::Source),
    ) else {
        return;
    };
    let outranks = stored_prov.outranked_by(origin);
    let s = stored.source.get_or_insert_with(Default::default);
    let before = s.clone();
    // Each detail: the higher-ranked source's where it has one, else the
    // other's, so that the order of the files does not matter.
    fn pick<T: Clone>(mine: &mut Option<T>, theirs: &Option<T>, outranks: bool) {
        if theirs.is_some() && (outranks || mine.is_none()) {
            *mine = theirs.clone();
        }
    }
    pick(&mut s.title, &i.title, outranks);
    pick(&mut s.url, &i.url, outranks);
    pick(&mut s.local_ref, &i.local_ref, outranks);
    pick(&mut s.date, &i.date, outranks);
    if *s != before {
        out.filled.push(RecordPart::Source);
    }
    if outranks {
        stored_prov.set_origin(origin.clone());
    }
}

fn unite_evidence(
    stored: &mut RecommendationData,
    stored_prov: &mut Provenance,
    incoming: &RecommendationData,
    incoming_prov: &Provenance,
    out: &mut Enrichment,
) {
    let (Some(i), Some(origin)) = (
        incoming.evidence.as_ref(),
        incoming_prov.origin(RecordPart::Evidence),
    ) else {
        return;
    };
    let e = stored.evidence.get_or_insert_with(Default::default);
    let was_empty = e.references.is_empty() && e.kind.is_none();
    let mut added = false;
    for r in &i.references {
        if !e.references.iter().any(|x| same_text(x, r)) {
            e.references.push(r.clone());
            added = true;
        }
    }
    if e.kind.is_none() && i.kind.is_some() {
        e.kind = i.kind;
        added = true;
    }
    if added {
        // One order whichever file came first.
        e.references.sort();
        out.filled.push(RecordPart::Evidence);
        if was_empty || stored_prov.outranked_by(origin) {
            stored_prov.set_origin(origin.clone());
        }
    }
}

#[cfg(test)]
mod tests;
