//! Organisations: who issues recommendations and who receives them.

use std::collections::HashMap;

use serde::{Deserialize, Serialize};

use crate::ids::OrgCode;
use crate::string_enum;
use crate::text::{core_name, normalise_name};

string_enum!(
    OrgKind {
        Investigator => "investigator",
        Regulator => "regulator",
        NationalBody => "national_body",
        Icb => "icb",
        Provider => "provider",
        ProfessionalBody => "professional_body",
        Coroner => "coroner",
        Ombudsman => "ombudsman",
        Government => "government",
        Oversight => "oversight",
        MembershipBody => "membership_body",
        LocalAuthority => "local_authority",
        Police => "police",
        Prison => "prison",
        Other => "other",
    }
);

string_enum!(
    OrgLevel {
        National => "national",
        Regional => "regional",
        System => "system",
        Provider => "provider",
    }
);

string_enum!(
    /// What kind of provider an organisation is, for the priority lists to come.
    ProviderKind {
        AcuteTrust => "acute_trust",
        MentalHealthTrust => "mental_health_trust",
        AmbulanceService => "ambulance_service",
        CommunityTrust => "community_trust",
        CareHome => "care_home",
        GpPractice => "gp_practice",
        Hospice => "hospice",
        IndependentProvider => "independent_provider",
    }
);

string_enum!(
    /// Whether the organisation was registered or confirmed by a person, or
    /// made by an import from an addressee name nobody had registered.
    OrgStatus {
        Verified => "verified",
        Unverified => "unverified",
        /// Merged into another organisation by an operator; kept so that the
        /// merge can be undone, and no longer recognised in names.
        Merged => "merged",
    }
);

// The macro derives its own traits, so Default is written out.
#[allow(clippy::derivable_impls)]
impl Default for OrgStatus {
    fn default() -> Self {
        OrgStatus::Verified
    }
}

impl OrgStatus {
    pub fn is_verified(&self) -> bool {
        *self == OrgStatus::Verified
    }
}

pub mod names;

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Organisation {
    pub code: OrgCode,
    pub name: String,
    pub kind: OrgKind,
    pub level: OrgLevel,
    #[serde(default)]
    pub provider_kind: Option<ProviderKind>,
    #[serde(default)]
    pub region: Option<String>,
    /// Other names the body goes by, for recognising it in addressee lists.
    #[serde(default)]
    pub aliases: Vec<String>,
    #[serde(default, skip_serializing_if = "OrgStatus::is_verified")]
    pub status: OrgStatus,
}

/// The bodies the register starts with (PRODUCT.md's table).
pub fn seed_organisations() -> Vec<Organisation> {
    use OrgKind::*;
    let rows: &[(&str, &str, OrgKind, &[&str])] = &[
        (
            "HSSIB",
            "Health Services Safety Investigations Body",
            Investigator,
            &["HSIB", "Healthcare Safety Investigation Branch"],
        ),
        (
            "MNSI",
            "Maternity and Newborn Safety Investigations",
            Investigator,
            &[],
        ),
        (
            "PHSO",
            "Parliamentary and Health Service Ombudsman",
            Ombudsman,
            &["Health Service Ombudsman"],
        ),
        ("CQC", "Care Quality Commission", Regulator, &[]),
        (
            "MHRA",
            "Medicines and Healthcare products Regulatory Agency",
            Regulator,
            &["Medicines and Healthcare Products Regulatory Authority"],
        ),
        (
            "HFEA",
            "Human Fertilisation and Embryology Authority",
            Regulator,
            &[],
        ),
        ("HTA", "Human Tissue Authority", Regulator, &[]),
        ("HRA", "Health Research Authority", NationalBody, &[]),
        (
            "NICE",
            "National Institute for Health and Care Excellence",
            NationalBody,
            &["National Institute for Health and Clinical Excellence"],
        ),
        (
            "NHSE",
            "NHS England",
            NationalBody,
            &[
                "NHS England and NHS Improvement",
                "NHS England and Improvement",
                "NHSE/I",
                "NHSEI",
                "NHS Improvement",
                "NHS England & Improvement",
            ],
        ),
        (
            "DHSC",
            "Department of Health and Social Care",
            Government,
            &[
                "Department of Health",
                "Department for Health and Social Care",
                "Secretary of State for Health and Social Care",
                "Secretary of State for Health",
                "The Rt Hon Secretary of State for Health and Social Care",
                "Minister of State for Health",
            ],
        ),
        (
            "UKHSA",
            "UK Health Security Agency",
            NationalBody,
            &["United Kingdom Health Security Agency"],
        ),
        ("NHSBT", "NHS Blood and Transplant", NationalBody, &[]),
        ("NHSR", "NHS Resolution", NationalBody, &[]),
        (
            "NGO",
            "National Guardian's Office",
            NationalBody,
            &["National Guardian for the NHS"],
        ),
        ("NQB", "National Quality Board", Oversight, &[]),
        (
            "PSC",
            "The Patient Safety Commissioner",
            Oversight,
            &["Patient Safety Commissioner"],
        ),
        (
            "AOMRC",
            "Academy of Medical Royal Colleges",
            ProfessionalBody,
            &[],
        ),
        ("NHSCONFED", "NHS Confederation", MembershipBody, &[]),
        ("NHSPROV", "NHS Providers", MembershipBody, &[]),
        (
            "HIN",
            "The Health Innovation Network",
            NationalBody,
            &["Health Innovation Network"],
        ),
        (
            "PFD",
            "Coroners of England and Wales (Prevention of Future Deaths reports)",
            Coroner,
            &[],
        ),
    ];
    rows.iter()
        .map(|(code, name, kind, aliases)| Organisation {
            code: OrgCode::parse(code).expect("seed codes are valid"),
            name: (*name).to_string(),
            kind: *kind,
            level: OrgLevel::National,
            provider_kind: None,
            region: None,
            aliases: aliases.iter().map(|a| a.to_string()).collect(),
            status: OrgStatus::Verified,
        })
        .collect()
}

/// Recognises organisations in names as people write them.
#[derive(Debug, Default, Clone)]
pub struct OrganisationDirectory {
    by_name: HashMap<String, OrgCode>,
    /// Names without corporate suffixes; None where two bodies share one.
    by_core: HashMap<String, Option<OrgCode>>,
}

impl OrganisationDirectory {
    pub fn new<'a>(orgs: impl IntoIterator<Item = &'a Organisation>) -> Self {
        let mut dir = OrganisationDirectory::default();
        for o in orgs {
            dir.add(o);
        }
        dir
    }

    pub fn add(&mut self, o: &Organisation) {
        // A merged body's names became its successor's aliases.
        if o.status == OrgStatus::Merged {
            return;
        }
        let names = std::iter::once(o.name.as_str())
            .chain(o.aliases.iter().map(String::as_str))
            .chain(std::iter::once(o.code.as_str()));
        for n in names {
            let key = normalise_name(n);
            if key.is_empty() {
                continue;
            }
            self.by_name.entry(key).or_insert_with(|| o.code.clone());
            for core in [core_name(n), names::body_key(n)] {
                match self.by_core.get(&core) {
                    Some(Some(c)) if *c != o.code => {
                        self.by_core.insert(core, None);
                    }
                    Some(_) => {}
                    None => {
                        self.by_core.insert(core, Some(o.code.clone()));
                    }
                }
            }
        }
    }

    /// Every registered organisation whose name, alias or code is written
    /// somewhere in a running text, in order of first appearance. Names of
    /// two words or more are matched on word boundaries, case-insensitively;
    /// a code only when written in capitals ("CQC", not "cqc").
    pub fn mentioned_in(&self, text: &str) -> Vec<OrgCode> {
        let mut found: Vec<OrgCode> = Vec::new();
        let mut push = |c: &OrgCode| {
            if !found.contains(c) {
                found.push(c.clone());
            }
        };
        let norm = normalise_name(text);
        let words: Vec<&str> = norm.split_whitespace().collect();
        let raw: Vec<&str> = text
            .split(|c: char| !c.is_alphanumeric())
            .filter(|w| !w.is_empty())
            .collect();
        let codes: std::collections::HashSet<String> = raw
            .iter()
            .filter(|w| {
                w.len() >= 2
                    && w.chars()
                        .all(|c| c.is_ascii_uppercase() || c.is_ascii_digit())
            })
            .map(|w| w.to_ascii_lowercase())
            .collect();
        for i in 0..words.len() {
            if codes.contains(words[i])
                && let Some(c) = self.by_name.get(words[i])
            {
                push(c);
            }
            for n in (2..=10).rev() {
                if i + n > words.len() {
                    continue;
                }
                let gram = words[i..i + n].join(" ");
                if let Some(c) = self.by_name.get(&gram) {
                    push(c);
                    break;
                }
                if let Some(Some(c)) = self.by_core.get(&gram) {
                    push(c);
                    break;
                }
            }
        }
        found
    }

    /// The organisation a written name refers to, if we can tell. Tries the
    /// whole name, then the name without suffixes, then each comma- or
    /// "of"-separated part, since coroners write "Chief Executive, NHS England"
    /// or "Chief Executive of the Care Quality Commission".
    pub fn resolve(&self, written: &str) -> Option<OrgCode> {
        let direct = |s: &str| -> Option<OrgCode> {
            let n = normalise_name(s);
            if n.is_empty() {
                return None;
            }
            if let Some(c) = self.by_name.get(&n) {
                return Some(c.clone());
            }
            self.by_core.get(&core_name(s)).cloned().flatten()
        };
        if let Some(c) = direct(written) {
            return Some(c);
        }
        // Role titles, people and appended abbreviations removed: the body
        // the name means is recognised, or nothing is (never a part of the
        // name that happens to be another body's, such as "Highways
        // Department, Sandwell Metropolitan Borough Council").
        match names::written_body(written) {
            None => return None,
            Some(body) if body.trim() != written.trim() => {
                if let Some(c) = direct(&body) {
                    return Some(c);
                }
                return self.by_core.get(&names::body_key(&body)).cloned().flatten();
            }
            Some(_) => {}
        }
        for part in written
            .split([',', '(', ')', ';'])
            .map(str::trim)
            .filter(|p| !p.is_empty())
        {
            if let Some(c) = direct(part) {
                return Some(c);
            }
            // Found in the original (not a lower-cased copy, whose byte
            // offsets can differ), so that the slice is on a char boundary.
            if let Some(pos) = part
                .as_bytes()
                .windows(4)
                .position(|w| w.eq_ignore_ascii_case(b" of "))
                && let Some(c) = direct(&part[pos + 4..])
            {
                return Some(c);
            }
        }
        None
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn recognises_bodies_as_written() {
        let seeds = seed_organisations();
        let dir = OrganisationDirectory::new(&seeds);
        let code = |s: &str| dir.resolve(s).map(|c| c.to_string());
        assert_eq!(code("NHS England").as_deref(), Some("NHSE"));
        assert_eq!(code("nhse").as_deref(), Some("NHSE"));
        assert_eq!(
            code("NHS England & NHS Improvement").as_deref(),
            Some("NHSE")
        );
        assert_eq!(
            code("Chief Executive, Care Quality Commission").as_deref(),
            Some("CQC")
        );
        assert_eq!(
            code("Chief Executive of the Care Quality Commission").as_deref(),
            Some("CQC")
        );
        assert_eq!(
            code("The Secretary of State for Health and Social Care").as_deref(),
            Some("DHSC")
        );
        assert_eq!(code("Doncaster Royal Infirmary"), None);
        // Lower-casing "İ" makes it longer: must not slice off a char boundary.
        assert_eq!(
            code("İİİİ Chief Executive OF NHS England").as_deref(),
            Some("NHSE")
        );
        assert_eq!(code(""), None);
    }

    #[test]
    fn trust_suffixes_do_not_matter_unless_ambiguous() {
        let mk = |code: &str, name: &str| Organisation {
            status: Default::default(),
            code: OrgCode::parse(code).unwrap(),
            name: name.into(),
            kind: OrgKind::Provider,
            level: OrgLevel::Provider,
            provider_kind: Some(ProviderKind::AcuteTrust),
            region: None,
            aliases: vec![],
        };
        let orgs = [
            mk("NMH", "Northmoor Hospitals NHS Foundation Trust"),
            mk("AB", "Avon Bay NHS Trust"),
            mk("AB2", "Avon Bay Foundation Trust"),
        ];
        let dir = OrganisationDirectory::new(&orgs);
        assert_eq!(
            dir.resolve("Northmoor Hospitals NHS Trust")
                .unwrap()
                .as_str(),
            "NMH"
        );
        assert_eq!(dir.resolve("Avon Bay NHS Trust").unwrap().as_str(), "AB");
        assert_eq!(dir.resolve("Avon Bay"), None);
    }

    #[test]
    fn seeds_have_unique_codes() {
        let seeds = seed_organisations();
        let mut codes: Vec<_> = seeds.iter().map(|o| o.code.clone()).collect();
        codes.sort();
        codes.dedup();
        assert_eq!(codes.len(), seeds.len());
        assert_eq!(seeds.len(), 22);
    }
}
