//! A provider's priority list as a use case: its profile (stored, or made
//! from what the register knows of it), the recommendations that reach it,
//! duplicates collapsed by the similarity engine and by confirmed links,
//! ranked by the domain's documented function
//! ([`concord_domain::priority::rank`]).

use std::collections::{BTreeMap, HashMap};

use chrono::NaiveDate;
use concord_domain::priority::{self, Context, PriorityItem, PriorityRules, ProviderProfile};
use concord_domain::{Lifecycle, LinkKind, LinkState, OrgCode, Recommendation};
use concord_store::{Page, RecommendationFilter};
use serde::Serialize;

use crate::access::Authorized;
use crate::error::{AppError, AppResult};

/// How many records each route into the list reads (newest first).
const PER_ROUTE: u64 = 2_000;
/// How many of the best-placed records are checked pairwise for duplicates.
const GROUPED: usize = 150;
/// The longest list a caller may ask for.
pub const MAX_PRIORITIES: usize = 500;

#[derive(Debug, Clone, Serialize)]
pub struct PriorityList {
    pub org: String,
    pub name: String,
    pub profile: ProviderProfile,
    /// Whether the profile was set by the organisation (else made from its kind).
    pub profile_stored: bool,
    pub as_of: NaiveDate,
    /// Applicable recommendations found (before duplicates are collapsed and
    /// the list is cut to `limit`).
    pub considered: usize,
    /// Items in the whole list (duplicates collapsed), before it is cut to
    /// `limit`: what a page of the list counts its pages by.
    pub ranked: usize,
    pub items: Vec<PriorityItem>,
}

impl Authorized<'_> {
    /// The provider's profile: as set, else made from the organisation's kind.
    pub async fn provider_profile(&self, org: &OrgCode) -> AppResult<(ProviderProfile, bool)> {
        let known = self.organisation(org).await?;
        if let Some(p) = self.services().store().provider_profile(org).await? {
            return Ok((p, true));
        }
        match known.provider_kind {
            Some(kind) => Ok((
                ProviderProfile {
                    org: org.clone(),
                    kind,
                    settings: Vec::new(),
                    region: known.region.clone(),
                },
                false,
            )),
            None => Err(AppError::invalid_field(
                "org",
                format!(
                    "{org} ({}) has no provider profile and is not known as a kind of provider; \
                 set one with `concord profile set {org} --kind KIND` or PUT /api/v1/organisations/{org}/profile",
                    known.name
                ),
            )),
        }
    }

    /// Sets a provider's profile: the organisation itself, or an operator.
    pub async fn set_provider_profile(
        &self,
        profile: ProviderProfile,
    ) -> AppResult<ProviderProfile> {
        self.permit(crate::access::Action::DescribeProvider, None)?;
        if let Some(own) = self.principal().org()
            && *own != profile.org
        {
            return Err(AppError::Forbidden(format!(
                "{own} cannot set the provider profile of {}: only the organisation itself can",
                profile.org
            )));
        }
        self.organisation(&profile.org).await?;
        let profile = profile.validate()?;
        let svc = self.services();
        svc.store()
            .set_provider_profile(&self.principal().actor(), &profile, svc.clock().now())
            .await?;
        Ok(profile)
    }

    /// The ranked, de-duplicated list of what applies to the organisation.
    pub async fn priorities(&self, org: &OrgCode, limit: usize) -> AppResult<PriorityList> {
        let (profile, stored) = self.provider_profile(org).await?;
        let known = self.organisation(org).await?;
        let svc = self.services();
        let rules = PriorityRules::builtin();
        let deadlines = svc.rules_book().await?;
        let orgs = svc.store().organisations().await?;
        let provider_kinds: BTreeMap<OrgCode, _> = orgs
            .iter()
            .filter_map(|o| o.provider_kind.map(|k| (o.code.clone(), k)))
            .collect();
        let mut names = vec![known.name.clone()];
        names.extend(known.aliases.iter().cloned());
        let vocab = rules.vocabulary(profile.kind);

        // Every route by which a recommendation can reach this provider.
        let settings = if profile.settings.is_empty() {
            vocab.settings.clone()
        } else {
            profile.settings.clone()
        };
        let mut routes: Vec<RecommendationFilter> = Vec::new();
        let published = RecommendationFilter {
            status: Some(Lifecycle::Published),
            ..Default::default()
        };
        for a in std::iter::once(org.to_string())
            .chain(names.iter().cloned())
            .chain(vocab.name_words.iter().cloned())
        {
            routes.push(RecommendationFilter {
                addressee: Some(a),
                ..published.clone()
            });
        }
        for s in &settings {
            routes.push(RecommendationFilter {
                setting: Some(s.clone()),
                ..published.clone()
            });
        }
        for t in &vocab.themes {
            routes.push(RecommendationFilter {
                theme: Some(t.clone()),
                ..published.clone()
            });
        }
        let mut recs: Vec<Recommendation> = Vec::new();
        let mut seen: HashMap<String, ()> = HashMap::new();
        for f in &routes {
            let page = svc
                .list(
                    f,
                    Page {
                        offset: 0,
                        limit: PER_ROUTE,
                    },
                )
                .await?;
            for r in page.items {
                if seen.insert(r.id.to_string(), ()).is_none() {
                    recs.push(r);
                }
            }
        }

        let today = svc.clock().today();
        let ctx = Context {
            profile: &profile,
            names,
            provider_kinds: &provider_kinds,
            rules: &rules,
            deadlines: &deadlines,
            today,
            endorsers: BTreeMap::new(),
        };
        // Keep what applies, best first, and group the head of the list.
        let mut scored: Vec<(f64, Recommendation)> = recs
            .into_iter()
            .filter_map(|r| {
                let reach = priority::applies(&r, &ctx)?;
                let s = priority::total(&priority::parts(&r, &reach, &ctx), 1, &rules);
                Some((s, r))
            })
            .collect();
        let considered = scored.len();
        scored.sort_by(|a, b| b.0.total_cmp(&a.0).then_with(|| a.1.id.cmp(&b.1.id)));
        let recs: Vec<Recommendation> = scored.into_iter().map(|(_, r)| r).collect();
        // A report published without its text (many PFD reports) says
        // nothing the engine can compare: it is never grouped by text.
        let head: Vec<String> = recs
            .iter()
            .take(GROUPED)
            .map(|r| {
                if r.data.text.trim() == concord_ingest::NO_CONCERNS_TEXT {
                    String::new()
                } else {
                    r.id.to_string()
                }
            })
            .collect();
        let mut pairs = svc.duplicate_pairs(&head).await?;
        // People's decisions count too: confirmed duplicates join, dismissed
        // ones never do.
        let pos: HashMap<String, usize> = recs
            .iter()
            .enumerate()
            .map(|(i, r)| (r.id.to_string(), i))
            .collect();
        let mut dismissed = Vec::new();
        for (i, r) in recs.iter().enumerate() {
            for l in r
                .data
                .links
                .iter()
                .filter(|l| l.kind == LinkKind::Duplicates)
            {
                if let Some(&j) = pos.get(&l.target) {
                    match l.state {
                        LinkState::Confirmed => pairs.push((i.min(j), i.max(j))),
                        LinkState::Dismissed => dismissed.push((i.min(j), i.max(j))),
                        LinkState::Suggested => {}
                    }
                }
            }
        }
        pairs.retain(|p| !dismissed.contains(p));
        let groups = union(recs.len(), &pairs);
        // Bodies that endorse what applies count as support too.
        let ids: Vec<String> = recs.iter().map(|r| r.id.to_string()).collect();
        let mut endorsers: BTreeMap<String, Vec<String>> = BTreeMap::new();
        for (id, org) in svc.store().endorsers_of(&ids).await? {
            endorsers.entry(id).or_default().push(org);
        }
        let ctx = Context { endorsers, ..ctx };
        let mut items = priority::rank(&recs, &groups, &ctx);
        let ranked = items.len();
        items.truncate(limit.clamp(1, MAX_PRIORITIES));
        Ok(PriorityList {
            org: org.to_string(),
            name: known.name,
            profile,
            profile_stored: stored,
            as_of: today,
            considered,
            ranked,
            items,
        })
    }
}

const PLAN_HEADERS: [&str; 10] = [
    "rank", "score", "ids", "title", "issuers", "reach", "why", "owner", "due", "status",
];

impl PriorityList {
    /// The list as an action plan spreadsheet (XLSX): the CSV's columns,
    /// with empty owner, due and status columns for the provider to fill in.
    pub fn to_xlsx(&self) -> AppResult<Vec<u8>> {
        let err = |e: rust_xlsxwriter::XlsxError| AppError::Internal(format!("xlsx: {e}"));
        let mut book = rust_xlsxwriter::Workbook::new();
        let sheet = book.add_worksheet();
        sheet.set_name("Action plan").map_err(err)?;
        for (c, h) in PLAN_HEADERS.iter().enumerate() {
            sheet.write_string(0, c as u16, *h).map_err(err)?;
        }
        for (i, it) in self.items.iter().enumerate() {
            let r = (i + 1) as u32;
            sheet.write_number(r, 0, (i + 1) as f64).map_err(err)?;
            sheet.write_number(r, 1, it.score).map_err(err)?;
            // Strings, never formulas: a title starting with = stays text.
            sheet.write_string(r, 2, it.ids.join(" ")).map_err(err)?;
            sheet.write_string(r, 3, &it.title).map_err(err)?;
            sheet
                .write_string(r, 4, it.issuers.join(" "))
                .map_err(err)?;
            sheet.write_string(r, 5, &it.reach).map_err(err)?;
            sheet.write_string(r, 6, it.why.join("; ")).map_err(err)?;
        }
        book.save_to_buffer().map_err(err)
    }

    /// The list as an action plan (CSV): one row per item, best first.
    pub fn to_csv(&self) -> String {
        let cell = |s: &str| {
            // Quoted always; a leading = + - @ (or tab, CR, apostrophe) is
            // defused so that a spreadsheet never runs a cell as a formula.
            let t = concord_domain::text::spreadsheet_safe(s);
            format!("\"{}\"", t.replace('"', "\"\""))
        };
        let mut out = PLAN_HEADERS.join(",");
        out.push('\n');
        for (i, it) in self.items.iter().enumerate() {
            let row = [
                (i + 1).to_string(),
                format!("{:.3}", it.score),
                it.ids.join(" "),
                it.title.clone(),
                it.issuers.join(" "),
                it.reach.clone(),
                it.why.join("; "),
                String::new(),
                String::new(),
                String::new(),
            ];
            let cells: Vec<String> = row.iter().map(|c| cell(c)).collect();
            out.push_str(&cells.join(","));
            out.push('\n');
        }
        out
    }
}

/// Groups from pairs, by complete linkage: a record joins a group only if
/// it duplicates every member (so that two different recommendations are
/// never joined through a third). Records are taken in list order (best
/// first); singletons are left out.
fn union(n: usize, pairs: &[(usize, usize)]) -> Vec<Vec<usize>> {
    let set: std::collections::HashSet<(usize, usize)> =
        pairs.iter().map(|&(a, b)| (a.min(b), a.max(b))).collect();
    let dup = |a: usize, b: usize| set.contains(&(a.min(b), a.max(b)));
    let mut involved: Vec<usize> = pairs
        .iter()
        .flat_map(|&(a, b)| [a, b])
        .filter(|&i| i < n)
        .collect();
    involved.sort_unstable();
    involved.dedup();
    let mut groups: Vec<Vec<usize>> = Vec::new();
    for i in involved {
        match groups.iter_mut().find(|g| g.iter().all(|&m| dup(m, i))) {
            Some(g) => g.push(i),
            None => groups.push(vec![i]),
        }
    }
    groups.retain(|g| g.len() > 1);
    groups
}

#[cfg(test)]
mod tests {
    #[test]
    fn the_action_plan_quotes_and_defuses_cells() {
        use concord_domain::OrgCode;
        use concord_domain::organisation::ProviderKind;
        use concord_domain::priority::{PriorityItem, ProviderProfile};
        let list = super::PriorityList {
            org: "NMTH".into(),
            name: "Northmoor".into(),
            profile: ProviderProfile {
                org: OrgCode::parse("NMTH").unwrap(),
                kind: ProviderKind::AcuteTrust,
                settings: vec![],
                region: None,
            },
            profile_stored: false,
            as_of: "2026-11-27".parse().unwrap(),
            considered: 1,
            ranked: 1,
            items: vec![PriorityItem {
                ids: vec!["HSSIB-2026-0001".into(), "CQC-2026-0002".into()],
                score: 0.8766,
                why: vec!["addressed to you directly".into(), "risk: high".into()],
                title: "=HYPERLINK(\"x\"), \"quoted\"".into(),
                issuers: vec!["CQC".into(), "HSSIB".into()],
                endorsed_by: vec![],
                reach: "direct".into(),
                overdue_since: None,
                published: None,
                changed: chrono::DateTime::UNIX_EPOCH,
            }],
        };
        let csv = list.to_csv();
        let mut lines = csv.lines();
        assert_eq!(
            lines.next().unwrap(),
            "rank,score,ids,title,issuers,reach,why,owner,due,status"
        );
        assert_eq!(
            lines.next().unwrap(),
            "\"1\",\"0.877\",\"HSSIB-2026-0001 CQC-2026-0002\",\"'=HYPERLINK(\"\"x\"\"), \"\"quoted\"\"\",\"CQC HSSIB\",\"direct\",\"addressed to you directly; risk: high\",\"\",\"\",\"\""
        );
    }

    #[test]
    fn pairs_become_groups() {
        // 0-2-4 all alike; 1-5 alike; 3 is like 5 but not like 1.
        let g = super::union(6, &[(0, 2), (2, 4), (0, 4), (1, 5), (3, 5)]);
        assert_eq!(g, vec![vec![0, 2, 4], vec![1, 5]]);
        // A chain is not a group: 0~1 and 1~2 but not 0~2.
        assert_eq!(super::union(3, &[(0, 1), (1, 2)]), vec![vec![0, 1]]);
        assert!(super::union(3, &[]).is_empty());
    }
}
