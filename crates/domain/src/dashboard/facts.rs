//! The fact table: a compact copy of what the figures need, kept in step by
//! the service layer, and every figure computed from it in one pass.

use std::collections::{BinaryHeap, HashMap};

use chrono::{Datelike, NaiveDate};
use serde::{Deserialize, Serialize};

use super::figures::{
    Counts, Dashboard, DashboardQuery, Filters, Landing, LandingRow, OLDEST_OVERDUE, OverdueItem,
    ResponseTime, Row, UNCOSTED_LISTED, UncostedItem,
};
use crate::lifecycle::{ClosureReason, Implementation, RulesBook, due_for};
use crate::model::{AddresseeStatus, Lifecycle, RecommendationData};
use crate::organisation::Organisation;

/// What the figures need of one addressee.
#[derive(Debug, Clone, PartialEq)]
pub struct AddresseeFacts {
    pub name: String,
    pub org: Option<String>,
    pub status: AddresseeStatus,
    /// When its answer falls due ([`due_for`]).
    pub due: Option<NaiveDate>,
    /// Whether any response carries no date (counts as received).
    pub undated_response: bool,
    /// The earliest dated response.
    pub first_response: Option<NaiveDate>,
    pub implementation: Option<Implementation>,
    pub closure: Option<ClosureReason>,
}

/// What the figures need of one recommendation.
#[derive(Debug, Clone, PartialEq)]
pub struct RecFacts {
    pub id: String,
    pub issuer: String,
    pub status: Lifecycle,
    pub published: Option<NaiveDate>,
    pub themes: Vec<String>,
    pub settings: Vec<String>,
    /// One-off and recurring cost, and the currency.
    pub cost: Option<(Option<f64>, Option<f64>, String)>,
    pub addressees: Vec<AddresseeFacts>,
}

impl RecFacts {
    /// From a full record (the service layer's catch-up, and tests).
    pub fn of(id: &str, rec: &RecommendationData, rules: &RulesBook) -> RecFacts {
        let r = rules.for_issuer(&rec.issuer);
        RecFacts {
            id: id.to_string(),
            issuer: rec.issuer.to_string(),
            status: rec.status,
            published: rec.published,
            themes: rec.themes.clone(),
            settings: rec.settings.clone(),
            cost: rec
                .cost
                .as_ref()
                .map(|c| (c.one_off, c.recurring, c.currency.clone())),
            addressees: rec
                .addressees
                .iter()
                .map(|a| AddresseeFacts {
                    name: a.name.clone(),
                    org: a.org.as_ref().map(|o| o.to_string()),
                    status: a.status,
                    due: due_for(rec, a, r),
                    undated_response: a.responses.iter().any(|x| x.received.is_none()),
                    first_response: a.responses.iter().filter_map(|x| x.received).min(),
                    implementation: a.implementation,
                    closure: a.closure.as_ref().map(|c| c.reason),
                })
                .collect(),
        }
    }
}

/// The due date as the store holds it: the addressee's own, else the
/// recommendation's deadline, else publication plus the issuer's period
/// (the same rule as [`due_for`], from columns).
pub fn due_from_columns(
    addressee_due: Option<NaiveDate>,
    deadline: Option<NaiveDate>,
    published: Option<NaiveDate>,
    issuer: &str,
    rules: &RulesBook,
) -> Option<NaiveDate> {
    addressee_due.or(deadline).or_else(|| {
        published.map(|p| {
            let r = rules.issuers.get(issuer).unwrap_or(&rules.default);
            crate::lifecycle::due_from(p, r)
        })
    })
}

/// Response times longer than this count as this (ten years).
const MAX_RESPONSE_DAYS: usize = 3650;

const NONE_DAY: i32 = i32::MIN;
const NEVER: i32 = i32::MAX;

fn day(d: Option<NaiveDate>) -> i32 {
    d.map(|d| d.num_days_from_ce()).unwrap_or(NONE_DAY)
}

fn undo_day(d: i32) -> NaiveDate {
    NaiveDate::from_num_days_from_ce_opt(d).unwrap_or_default()
}

/// Strings seen once, numbered.
#[derive(Debug, Default, Clone, Serialize, Deserialize)]
struct Interner {
    ids: HashMap<String, u32>,
    /// The first form seen of each (its key is the lower-cased form).
    labels: Vec<String>,
}

impl Interner {
    fn id(&mut self, s: &str, fold: bool) -> u32 {
        let key = if fold {
            s.to_lowercase()
        } else {
            s.to_string()
        };
        if let Some(&i) = self.ids.get(&key) {
            return i;
        }
        let i = self.labels.len() as u32;
        self.ids.insert(key, i);
        self.labels.push(s.to_string());
        i
    }

    fn find(&self, s: &str, fold: bool) -> Option<u32> {
        if fold {
            self.ids.get(&s.to_lowercase()).copied()
        } else {
            self.ids.get(s).copied()
        }
    }
}

const CLOSED_DONE: u8 = 1;
const IMPL_DONE: u8 = 2;

#[derive(Debug, Clone, Copy, Serialize, Deserialize)]
struct Item {
    rec: u32,
    addressee: u32,
    status: AddresseeStatus,
    flags: u8,
    due: i32,
    /// Earliest response (NONE_DAY when one is undated, NEVER when none).
    answered_on: i32,
    /// Earliest dated response (NEVER when none).
    first_dated: i32,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
struct RecRow {
    id: Box<str>,
    issuer: u32,
    status: Lifecycle,
    published: i32,
    year: i32,
    /// Theme ids, then setting ids.
    tags: Box<[u32]>,
    n_themes: u8,
    one_off: f64,
    recurring: f64,
    /// 0 none, 1 GBP, 2 another currency.
    cost: u8,
    items: std::ops::Range<u32>,
    live: bool,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
struct AddresseeKey {
    org: Option<String>,
    landing: Landing,
}

/// The compact fact table: a copy of what the figures need, kept in step by
/// the service layer. Drafts are never added.
#[derive(Debug, Default, Clone, Serialize, Deserialize)]
pub struct FactTable {
    recs: Vec<RecRow>,
    items: Vec<Item>,
    by_id: HashMap<Box<str>, u32>,
    free: Vec<u32>,
    dead_items: usize,
    issuers: Interner,
    tags: Interner,
    addressees: Interner,
    addressee_keys: Vec<AddresseeKey>,
    /// Not kept with the table: the service gives the organisations again
    /// after loading a kept table (and `Organisation` skips empty fields
    /// when serialized, which a compact binary form cannot read back).
    #[serde(skip)]
    orgs: HashMap<String, Organisation>,
}

impl FactTable {
    pub fn new() -> Self {
        Self::default()
    }

    /// Recommendations held (drafts are not).
    pub fn len(&self) -> usize {
        self.by_id.len()
    }

    pub fn is_empty(&self) -> bool {
        self.by_id.is_empty()
    }

    /// Items held.
    pub fn items(&self) -> usize {
        self.items.len() - self.dead_items
    }

    /// Approximate bytes held (for the benchmark's report).
    pub fn approx_bytes(&self) -> usize {
        use std::mem::size_of;
        self.recs.capacity() * size_of::<RecRow>()
            + self
                .recs
                .iter()
                .map(|r| r.id.len() + r.tags.len() * 4)
                .sum::<usize>()
            + self.items.capacity() * size_of::<Item>()
            + self.by_id.capacity() * (size_of::<Box<str>>() + 4 + 16)
    }

    /// The registered organisations, for the kind of each addressee.
    /// Returns whether anything changed.
    pub fn set_organisations(&mut self, orgs: &[Organisation]) -> bool {
        let same = orgs.len() == self.orgs.len()
            && orgs
                .iter()
                .all(|o| self.orgs.get(o.code.as_str()) == Some(o));
        if same {
            return false;
        }
        self.orgs = orgs
            .iter()
            .map(|o| (o.code.to_string(), o.clone()))
            .collect();
        for (i, k) in self.addressee_keys.iter_mut().enumerate() {
            k.landing = landing(&self.orgs, k.org.as_deref(), &self.addressees.labels[i]);
        }
        true
    }

    /// Adds or replaces a recommendation (a draft is removed instead).
    pub fn upsert(&mut self, f: &RecFacts) {
        self.remove(&f.id);
        if f.status == Lifecycle::Draft {
            return;
        }
        let start = self.items.len() as u32;
        let idx = match self.free.pop() {
            Some(i) => i,
            None => {
                self.recs.push(RecRow {
                    id: "".into(),
                    issuer: 0,
                    status: Lifecycle::Draft,
                    published: NONE_DAY,
                    year: 0,
                    tags: Box::new([]),
                    n_themes: 0,
                    one_off: 0.0,
                    recurring: 0.0,
                    cost: 0,
                    items: 0..0,
                    live: false,
                });
                (self.recs.len() - 1) as u32
            }
        };
        for a in &f.addressees {
            // Registered addressees are grouped by code, others by name.
            let key = match &a.org {
                Some(o) => self.addressees.id(o, false),
                None => self.addressees.id(&a.name, true),
            };
            if key as usize == self.addressee_keys.len() {
                self.addressee_keys.push(AddresseeKey {
                    org: a.org.clone(),
                    landing: landing(&self.orgs, a.org.as_deref(), &a.name),
                });
            }
            let done = matches!(
                a.implementation,
                Some(Implementation::Implemented | Implementation::Verified)
            );
            let closed_done = matches!(
                a.closure,
                Some(ClosureReason::Implemented | ClosureReason::ImplementedAlternative)
            );
            let first_dated = a
                .first_response
                .map(|d| d.num_days_from_ce())
                .unwrap_or(NEVER);
            self.items.push(Item {
                rec: idx,
                addressee: key,
                status: a.status,
                flags: (if done { IMPL_DONE } else { 0 })
                    | (if closed_done { CLOSED_DONE } else { 0 }),
                due: day(a.due),
                answered_on: if a.undated_response {
                    NONE_DAY
                } else {
                    first_dated
                },
                first_dated,
            });
        }
        let mut tags: Vec<u32> = f.themes.iter().map(|t| self.tags.id(t, true)).collect();
        let n_themes = tags.len().min(255) as u8;
        tags.truncate(n_themes as usize);
        tags.extend(f.settings.iter().map(|s| self.tags.id(s, true)));
        let (one_off, recurring, cost) = match &f.cost {
            Some((o, r, cur)) if o.is_some() || r.is_some() => {
                let gbp = cur.eq_ignore_ascii_case("GBP");
                (o.unwrap_or(0.0), r.unwrap_or(0.0), if gbp { 1 } else { 2 })
            }
            _ => (0.0, 0.0, 0),
        };
        let id: Box<str> = f.id.as_str().into();
        self.recs[idx as usize] = RecRow {
            id: id.clone(),
            issuer: self.issuers.id(&f.issuer, true),
            status: f.status,
            published: day(f.published),
            year: f.published.map(|p| p.year()).unwrap_or(0),
            tags: tags.into_boxed_slice(),
            n_themes,
            one_off,
            recurring,
            cost,
            items: start..self.items.len() as u32,
            live: true,
        };
        self.by_id.insert(id, idx);
    }

    /// Forgets a recommendation (deleted, or become a draft).
    pub fn remove(&mut self, id: &str) {
        let Some(idx) = self.by_id.remove(id) else {
            return;
        };
        let r = &mut self.recs[idx as usize];
        r.live = false;
        r.tags = Box::new([]);
        r.id = "".into();
        let range = r.items.clone();
        self.dead_items += range.len();
        for it in &mut self.items[range.start as usize..range.end as usize] {
            it.rec = u32::MAX;
        }
        self.free.push(idx);
        if self.dead_items > 4096 && self.dead_items * 4 > self.items.len() {
            self.compact();
        }
    }

    fn compact(&mut self) {
        let mut items = Vec::with_capacity(self.items.len() - self.dead_items);
        for r in self.recs.iter_mut().filter(|r| r.live) {
            let start = items.len() as u32;
            items.extend_from_slice(&self.items[r.items.start as usize..r.items.end as usize]);
            r.items = start..items.len() as u32;
        }
        self.items = items;
        self.dead_items = 0;
    }

    /// Every figure for a query.
    pub fn figures(&self, q: &DashboardQuery) -> Dashboard {
        let as_of = q.as_of.num_days_from_ce();
        // Filters: an unknown value matches nothing (the rows are empty).
        let want_issuer = q.issuer.as_ref().map(|s| self.issuers.find(s, true));
        let want_theme = q.theme.as_ref().map(|s| self.tags.find(s, true));
        let want_setting = q.setting.as_ref().map(|s| self.tags.find(s, true));
        let nothing = matches!(want_issuer, Some(None))
            || matches!(want_theme, Some(None))
            || matches!(want_setting, Some(None));

        let mut totals = Counts::default();
        let mut issuer_rows = vec![Counts::default(); self.issuers.labels.len()];
        let mut tag_rows_theme = vec![Counts::default(); self.tags.labels.len()];
        let mut tag_rows_setting = vec![Counts::default(); self.tags.labels.len()];
        let mut addr_rows = vec![Counts::default(); self.addressees.labels.len()];
        let mut year_rows: std::collections::BTreeMap<i32, Counts> = Default::default();
        let n_land = Landing::ALL.len();
        let mut land = vec![(0u64, 0u64, 0u64, 0.0f64, 0.0f64, 0u64); n_land];
        let mut hist_all = vec![0u64; MAX_RESPONSE_DAYS + 1];
        let mut hist_issuer: Vec<Vec<u64>> = vec![Vec::new(); self.issuers.labels.len()];
        // The worst kept on top: latest due, then greatest id.
        let mut oldest: BinaryHeap<(i32, &str, u32, u32)> = BinaryHeap::new();
        // Uncosted and open: the oldest kept on top, so the newest stay.
        let mut uncosted: BinaryHeap<std::cmp::Reverse<(i32, &str, u32, u32)>> = BinaryHeap::new();
        let mut uncosted_total = 0u64;

        if !nothing {
            for (ri, r) in self.recs.iter().enumerate() {
                if !r.live {
                    continue;
                }
                if let Some(Some(i)) = want_issuer
                    && r.issuer != i
                {
                    continue;
                }
                if let Some(y) = q.year
                    && r.year != y
                {
                    continue;
                }
                let (themes, settings) = r.tags.split_at(r.n_themes as usize);
                if let Some(Some(t)) = want_theme
                    && !themes.contains(&t)
                {
                    continue;
                }
                if let Some(Some(s)) = want_setting
                    && !settings.contains(&s)
                {
                    continue;
                }
                let items = &self.items[r.items.start as usize..r.items.end as usize];
                let mut rec_counts = Counts {
                    recommendations: 1,
                    ..Default::default()
                };
                let mut land_open: u64 = 0;
                let mut land_items = [0u64; 16];
                for (k, it) in items.iter().enumerate() {
                    let published = r.status == Lifecycle::Published;
                    let open = published && it.status.is_open();
                    let answered = it.answered_on <= as_of;
                    // overdue_as_of: published, still expected, not answered
                    // by the date, and due before it.
                    let overdue = open && !answered && it.due != NONE_DAY && it.due < as_of;
                    let implemented = it.flags != 0;
                    let c = Counts {
                        recommendations: 0,
                        items: 1,
                        open: open as u64,
                        overdue: overdue as u64,
                        answered: answered as u64,
                        implemented: implemented as u64,
                    };
                    add(&mut rec_counts, &c);
                    // An addressee named twice on one record is one recommendation.
                    let first_time = !items[..k].iter().any(|o| o.addressee == it.addressee);
                    let row = &mut addr_rows[it.addressee as usize];
                    add(row, &c);
                    row.recommendations += first_time as u64;
                    if open {
                        let l = self.addressee_keys[it.addressee as usize].landing as usize;
                        land_open |= 1 << l;
                        land_items[l] += 1;
                    }
                    if overdue {
                        let entry = (it.due, &*r.id, ri as u32, k as u32);
                        if oldest.len() < OLDEST_OVERDUE {
                            oldest.push(entry);
                        } else if let Some(top) = oldest.peek()
                            && entry < *top
                        {
                            oldest.pop();
                            oldest.push(entry);
                        }
                    }
                    if it.first_dated <= as_of && r.published != NONE_DAY {
                        let d = it.first_dated - r.published;
                        if d >= 0 {
                            let d = (d as usize).min(MAX_RESPONSE_DAYS);
                            hist_all[d] += 1;
                            let h = &mut hist_issuer[r.issuer as usize];
                            if h.is_empty() {
                                h.resize(MAX_RESPONSE_DAYS + 1, 0);
                            }
                            h[d] += 1;
                        }
                    }
                }
                add(&mut totals, &rec_counts);
                add(&mut issuer_rows[r.issuer as usize], &rec_counts);
                add(year_rows.entry(r.year).or_default(), &rec_counts);
                for t in themes {
                    add(&mut tag_rows_theme[*t as usize], &rec_counts);
                }
                for s in settings {
                    add(&mut tag_rows_setting[*s as usize], &rec_counts);
                }
                if land_open != 0 && r.cost == 0 {
                    uncosted_total += 1;
                    let entry =
                        std::cmp::Reverse((r.published, &*r.id, ri as u32, land_open as u32));
                    if uncosted.len() < UNCOSTED_LISTED {
                        uncosted.push(entry);
                    } else if let Some(top) = uncosted.peek()
                        && entry < *top
                    {
                        uncosted.pop();
                        uncosted.push(entry);
                    }
                }
                if land_open != 0 {
                    for (l, row) in land.iter_mut().enumerate() {
                        if land_open & (1 << l) == 0 {
                            continue;
                        }
                        row.0 += 1;
                        row.1 += land_items[l];
                        match r.cost {
                            1 => {
                                row.2 += 1;
                                row.3 += r.one_off;
                                row.4 += r.recurring;
                            }
                            2 => row.5 += 1,
                            _ => {}
                        }
                    }
                }
            }
        }

        let rows = |counts: &[Counts], labels: &dyn Fn(usize) -> (String, String)| {
            let mut v: Vec<Row> = counts
                .iter()
                .enumerate()
                .filter(|(_, c)| c.items > 0)
                .map(|(i, c)| {
                    let (key, label) = labels(i);
                    Row {
                        key,
                        label,
                        counts: *c,
                    }
                })
                .collect();
            v.sort_by(|a, b| {
                b.counts
                    .open
                    .cmp(&a.counts.open)
                    .then(b.counts.items.cmp(&a.counts.items))
                    .then_with(|| a.label.cmp(&b.label))
            });
            v
        };
        let same = |l: &Vec<String>| {
            let l = l.clone();
            move |i: usize| (l[i].clone(), l[i].clone())
        };
        let by_issuer = rows(&issuer_rows, &same(&self.issuers.labels));
        let by_theme = rows(&tag_rows_theme, &same(&self.tags.labels));
        let by_setting = rows(&tag_rows_setting, &same(&self.tags.labels));
        let mut by_addressee = rows(&addr_rows, &|i| {
            let label = self.addressees.labels[i].clone();
            match &self.addressee_keys[i].org {
                Some(o) => (
                    o.clone(),
                    self.orgs.get(o).map(|x| x.name.clone()).unwrap_or(label),
                ),
                None => (label.clone(), label),
            }
        });
        let addressees_total = by_addressee.len() as u64;
        if let Some(n) = q.addressee_limit {
            by_addressee.truncate(n);
        }
        let by_year = year_rows
            .into_iter()
            .map(|(y, c)| {
                let k = if y == 0 {
                    "unknown".to_string()
                } else {
                    y.to_string()
                };
                Row {
                    key: k.clone(),
                    label: k,
                    counts: c,
                }
            })
            .collect();

        let mut response_times = vec![percentiles("all", &hist_all)];
        let mut per: Vec<ResponseTime> = hist_issuer
            .iter()
            .enumerate()
            .filter(|(_, h)| !h.is_empty())
            .map(|(i, h)| percentiles(&self.issuers.labels[i], h))
            .collect();
        per.sort_by(|a, b| a.key.cmp(&b.key));
        response_times.extend(per);

        let oldest_overdue = oldest
            .into_sorted_vec()
            .into_iter()
            .map(|(due, _, ri, k)| {
                let r = &self.recs[ri as usize];
                let it = &self.items[(r.items.start + k) as usize];
                let key = &self.addressee_keys[it.addressee as usize];
                OverdueItem {
                    id: r.id.to_string(),
                    issuer: self.issuers.labels[r.issuer as usize].clone(),
                    addressee: match &key.org {
                        Some(o) => self.orgs.get(o).map(|x| x.name.clone()).unwrap_or_else(|| {
                            self.addressees.labels[it.addressee as usize].clone()
                        }),
                        None => self.addressees.labels[it.addressee as usize].clone(),
                    },
                    org: key.org.clone(),
                    due: undo_day(due),
                    days_overdue: i64::from(as_of - due),
                }
            })
            .collect();

        let by_provider_kind = Landing::ALL
            .iter()
            .zip(land)
            .filter(|(_, l)| l.0 > 0)
            .map(|(k, l)| LandingRow {
                kind: k.as_str().to_string(),
                label: k.label().to_string(),
                open_recommendations: l.0,
                open_items: l.1,
                costed: l.2,
                one_off_gbp: l.3,
                recurring_gbp: l.4,
                other_currency: l.5,
            })
            .collect();

        let uncosted = uncosted
            .into_sorted_vec()
            .into_iter()
            .map(|std::cmp::Reverse((published, id, ri, mask))| {
                let r = &self.recs[ri as usize];
                UncostedItem {
                    id: id.to_string(),
                    issuer: self.issuers.labels[r.issuer as usize].clone(),
                    published: (published != NONE_DAY).then(|| undo_day(published)),
                    lands_on: Landing::ALL
                        .iter()
                        .enumerate()
                        .filter(|(l, _)| mask & (1 << l) != 0)
                        .map(|(_, k)| k.label().to_string())
                        .collect(),
                }
            })
            .collect();

        Dashboard {
            as_of: q.as_of,
            filters: Filters {
                issuer: q.issuer.clone(),
                theme: q.theme.clone(),
                setting: q.setting.clone(),
                year: q.year,
            },
            totals,
            by_issuer,
            by_addressee,
            addressees_total,
            by_theme,
            by_setting,
            by_year,
            response_times,
            oldest_overdue,
            by_provider_kind,
            uncosted_total,
            uncosted,
        }
    }
}

fn add(a: &mut Counts, b: &Counts) {
    a.recommendations += b.recommendations;
    a.items += b.items;
    a.open += b.open;
    a.overdue += b.overdue;
    a.answered += b.answered;
    a.implemented += b.implemented;
}

fn landing(orgs: &HashMap<String, Organisation>, org: Option<&str>, name: &str) -> Landing {
    match org.and_then(|o| orgs.get(o)) {
        Some(o) => Landing::of_organisation(o, name),
        None => Landing::from_name(name),
    }
}

/// Median and 90th percentile (nearest rank) from a histogram of days.
fn percentiles(key: &str, hist: &[u64]) -> ResponseTime {
    let n: u64 = hist.iter().sum();
    let rank = |p: f64| -> Option<u32> {
        if n == 0 {
            return None;
        }
        let want = ((p * n as f64).ceil() as u64).max(1);
        let mut seen = 0;
        for (d, c) in hist.iter().enumerate() {
            seen += c;
            if seen >= want {
                return Some(d as u32);
            }
        }
        None
    };
    ResponseTime {
        key: key.to_string(),
        answers: n,
        median_days: rank(0.5),
        p90_days: rank(0.9),
    }
}
