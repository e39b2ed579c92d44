//! Coroners' Prevention of Future Deaths (PFD) reports: the judiciary's
//! reports as scraped (`judiciary-reports.csv`) and the PFD-Toolkit's
//! reports and replies. `FORMATS.md` says how each column is mapped.

use std::collections::HashMap;
use std::path::Path;
use std::sync::LazyLock;

use chrono::{Datelike, Duration, NaiveDate};
use concord_domain::ids::{PFD_CODE, parse_pfd_ref};
use concord_domain::organisation::names::unverified_organisation;
use concord_domain::text::normalise_name;
use concord_domain::{
    Addressee, AddresseeStatus, DataSource, Evidence, EvidenceKind, IdRequest, Lifecycle,
    NewRecommendation, OrgCode, Organisation, OrganisationDirectory, PFD_FALLBACK_FLOOR,
    Provenance, RecKind, RecommendationData, RecommendationId, RecordPart, Reference, Response,
    ResponseAttachment, Source,
};
use regex::Regex;

use crate::cells::{clip, long_date, parse_date, pfd_key};
use crate::csv_format::open;
use crate::{IngestError, Parsed, ParsedRecord, Rejection};

/// Coroners' reports must be answered within 56 days.
pub const PFD_RESPONSE_DAYS: i64 = 56;

/// The text given to a report published without its concerns.
pub const NO_CONCERNS_TEXT: &str = "(No concerns text was published with this report.)";

/// The addressee that holds replies to a report whose addressees were not
/// published.
pub const UNPUBLISHED_ADDRESSEE: &str = "(addressee not published)";

static PDF_REF: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r"(?:^|[^0-9])((?:19|20)\d{2})-(\d{4})(?:[^0-9]|$)").unwrap());
static UPLOAD_YEAR: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r"/wp-content/uploads/((?:19|20)\d{2})/").unwrap());
static LEADING_YEAR: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r"^\s*((?:19|20)\d{2})").unwrap());
static PREAMBLE_END: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(
        r"(?is)matters? of concern (?:is|are) as follows\W*|statutory duty to report to you\W*",
    )
    .unwrap()
});
static LIST_MARKER: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"(?i)^(?:\(?[0-9a-zA-Z]{1,3}[.)]|[•\-–*]|concern\s*\d+\s*[:.\-–])\s+").unwrap()
});

/// Sentences every report carries whatever its concerns ("During the course
/// of the inquest the evidence revealed matters giving rise to concern", "In
/// my opinion there is a risk that future deaths will occur unless action is
/// taken"): a text of nothing else is a stand-in, not the report's concerns.
static BOILERPLATE: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(
        r"(?is)during the (?:course of the )?(?:inquest|investigation|evidence)[^.:]*?(?:revealed|identified)[^.:]*?(?:concern|that)[^.:]*[.:]?|in my opinion[^.]*?(?:risk|action)[^.]*[.]?|the matters? of concern (?:is|are)[^.:]*[.:]?|matter one",
    )
    .unwrap()
});

/// Whether a report's concerns say nothing past the standard wording.
pub(crate) fn is_stand_in_concerns(concerns: &str) -> bool {
    let body = concern_body(concerns);
    let rest = BOILERPLATE.replace_all(body, " ");
    rest.chars().filter(|c| c.is_alphanumeric()).count() < 40
}

fn pfd_code() -> OrgCode {
    OrgCode::parse(PFD_CODE).expect("PFD is a valid code")
}

/// A PFD report in the shape both layouts share.
#[derive(Debug, Default)]
struct Report {
    raw_ref: String,
    date: Option<NaiveDate>,
    coroner: String,
    area: String,
    categories: Vec<String>,
    addressees: Vec<String>,
    report_url: String,
    pdf_url: String,
    replies: Vec<String>,
    concerns: String,
    /// Further evidence kept beside the PDF (the toolkit's investigation and
    /// circumstances).
    more_evidence: Vec<String>,
}

/// `2024-0079`, `2016 – 0301`, `2016-026`, `2019-0135A` (letter dropped).
pub(crate) fn ref_number(raw: &str) -> Option<(u16, u32)> {
    let t = raw.trim();
    let parsed = parse_pfd_ref(t).or_else(|| {
        let stripped = t.trim_end_matches(|c: char| c.is_ascii_alphabetic());
        (stripped.len() < t.len())
            .then(|| parse_pfd_ref(stripped))
            .flatten()
    });
    match parsed {
        Some(Reference::Pfd { year, number }) => Some((year, number)),
        _ => None,
    }
}

/// A reference written in the PDF's file name (`...-2018-0383_Redacted.pdf`).
fn ref_in_pdf(pdf_url: &str) -> Option<(u16, u32)> {
    let name = pdf_url.rsplit('/').next()?;
    let c = PDF_REF.captures(name)?;
    let number: u32 = c[2].parse().ok()?;
    (number > 0).then_some(())?;
    Some((c[1].parse().ok()?, number))
}

/// The concerns without the standard preamble ("During the course of the
/// inquest ... The MATTERS OF CONCERN are as follows.").
pub(crate) fn concern_body(concerns: &str) -> &str {
    let mut body = concerns;
    while let Some(m) = PREAMBLE_END.find(body) {
        body = &body[m.end()..];
    }
    body.trim_matches(|c: char| c.is_whitespace() || c == ':' || c == '.')
}

/// The first sentence of the concern, for a title a reader can scan.
fn title_from_concern(body: &str) -> Option<String> {
    let flat = body.split_whitespace().collect::<Vec<_>>().join(" ");
    let flat = LIST_MARKER.replace(&flat, "").to_string();
    let end = flat
        .match_indices(". ")
        .map(|(i, _)| i + 1)
        .find(|&i| i >= 25)
        .unwrap_or(flat.len());
    let sentence = flat[..end].trim();
    if sentence.chars().count() < 12 {
        return None;
    }
    const MAX: usize = 120;
    if sentence.chars().count() <= MAX {
        return Some(sentence.to_string());
    }
    let cut: String = sentence.chars().take(MAX - 1).collect();
    let cut = match cut.rfind(' ') {
        Some(i) if i > 60 => &cut[..i],
        _ => &cut[..],
    };
    Some(format!(
        "{}…",
        cut.trim_end_matches(|c: char| c == ',' || c == ';' || c.is_whitespace())
    ))
}

static PARENTHESES: LazyLock<Regex> = LazyLock::new(|| Regex::new(r"\s*\([^)]*\)").unwrap());

/// A judiciary category as a short topic for a title: `Hospital Death
/// (Clinical Procedures ...) related deaths` -> `Hospital Death`; None for
/// the categories that say nothing (`Other`, `Prevention of Future Deaths`).
fn short_category(c: &str) -> Option<String> {
    let s = PARENTHESES.replace_all(c.trim(), "");
    let s = s.trim();
    let s = s
        .strip_suffix(" related deaths")
        .or_else(|| s.strip_suffix(" related deaths"))
        .unwrap_or(s)
        .trim();
    let lower = s.to_lowercase();
    if s.is_empty()
        || lower == "other"
        || lower.starts_with("prevention of future")
        || lower.starts_with("wales prevention")
    {
        return None;
    }
    Some(s.to_string())
}

fn title_for(r: &Report, addressees: &[Addressee]) -> String {
    if let Some(t) = title_from_concern(concern_body(&r.concerns)) {
        return t;
    }
    let mut t = match r.categories.iter().find_map(|c| short_category(c)) {
        Some(c) => format!("{c}: prevention of future deaths report"),
        None => "Prevention of future deaths report".to_string(),
    };
    if let Some(a) = addressees
        .first()
        .filter(|a| a.name != UNPUBLISHED_ADDRESSEE)
    {
        t.push_str(" to ");
        t.push_str(&clip(&a.name, 100));
    }
    let place: Vec<String> = [
        (!r.area.trim().is_empty()).then(|| r.area.trim().to_string()),
        r.date.map(long_date),
    ]
    .into_iter()
    .flatten()
    .collect();
    if !place.is_empty() {
        t.push_str(&format!(" ({})", place.join(", ")));
    } else if !r.raw_ref.trim().is_empty() {
        t.push_str(&format!(" ({})", r.raw_ref.trim()));
    }
    t
}

const STOP: &[&str] = &[
    "the",
    "and",
    "for",
    "nhs",
    "trust",
    "foundation",
    "chief",
    "executive",
    "officer",
    "director",
    "limited",
    "ltd",
    "plc",
    "group",
];

fn name_tokens(name: &str) -> Vec<String> {
    normalise_name(name)
        .split_whitespace()
        .filter(|w| w.len() >= 3 && !STOP.contains(w))
        .map(str::to_string)
        .collect()
}

fn file_tokens(url: &str) -> Vec<String> {
    let name = url.trim_end_matches('/').rsplit('/').next().unwrap_or("");
    let name = name.rsplit_once('.').map_or(name, |(stem, _)| stem);
    name.to_lowercase()
        .split(|c: char| !c.is_alphanumeric())
        .filter(|w| !w.is_empty())
        .map(str::to_string)
        .collect()
}

/// Gives each reply to the addressee it came from: the one whose name words
/// appear in the reply's file name; else the only addressee; else the first
/// addressee still without a reply. Replies to a report whose addressees
/// were not published go to a placeholder addressee.
fn attach_replies(addressees: &mut Vec<Addressee>, replies: &[String], due: Option<NaiveDate>) {
    if replies.is_empty() {
        return;
    }
    if addressees.is_empty() {
        addressees.push(Addressee {
            name: UNPUBLISHED_ADDRESSEE.to_string(),
            org: None,
            status: AddresseeStatus::AwaitingResponse,
            due,
            responses: Vec::new(),
            ..Default::default()
        });
    }
    let tokens: Vec<Vec<String>> = addressees.iter().map(|a| name_tokens(&a.name)).collect();
    let mut target: Vec<Option<usize>> = replies
        .iter()
        .map(|url| {
            let words = file_tokens(url);
            let mut best: Option<(usize, usize)> = None;
            for (i, t) in tokens.iter().enumerate() {
                let score = t.iter().filter(|w| words.contains(w)).count();
                if score > 0 && best.is_none_or(|(_, s)| score > s) {
                    best = Some((i, score));
                }
            }
            best.map(|(i, _)| i)
        })
        .collect();
    let mut answered: Vec<bool> = vec![false; addressees.len()];
    for i in target.iter().flatten() {
        answered[*i] = true;
    }
    for t in target.iter_mut().filter(|t| t.is_none()) {
        let i = if addressees.len() == 1 {
            0
        } else {
            answered.iter().position(|a| !a).unwrap_or(0)
        };
        answered[i] = true;
        *t = Some(i);
    }
    for (url, t) in replies.iter().zip(target) {
        let a = &mut addressees[t.unwrap_or(0)];
        a.responses.push(Response {
            received: None,
            respondent: None,
            url: Some(url.clone()),
            text: None,
            ..Default::default()
        });
        a.status = AddresseeStatus::ResponseReceived;
    }
}

fn is_redacted(name: &str) -> bool {
    let n = normalise_name(name);
    n.is_empty() || n == "redacted"
}

/// Builds the record for one report, or says why there cannot be one.
fn build(
    r: Report,
    dir: &OrganisationDirectory,
    today: NaiveDate,
    from: (DataSource, Option<&str>),
    parsed: &mut Parsed,
) -> Result<NewRecommendation, (Option<&'static str>, String)> {
    let import_key = if !r.report_url.trim().is_empty() {
        pfd_key(&r.report_url)
    } else if !r.pdf_url.trim().is_empty() {
        pfd_key(&r.pdf_url)
    } else {
        return Err((
            Some("report_url"),
            "is empty, and so is pdf_url: nothing identifies this report".into(),
        ));
    };
    let raw_ref = r.raw_ref.trim();
    let number = ref_number(raw_ref).or_else(|| ref_in_pdf(&r.pdf_url));
    let id = match number {
        Some((year, number)) => {
            let id = RecommendationId::new(pfd_code(), year, number)
                .map_err(|e| (Some("ref"), e.to_string()))?;
            IdRequest::Preferred {
                id,
                fallback_floor: PFD_FALLBACK_FLOOR,
            }
        }
        None => {
            let year = r
                .date
                .map(|d| d.year() as u16)
                .or_else(|| {
                    UPLOAD_YEAR
                        .captures(&r.pdf_url)
                        .and_then(|c| c[1].parse().ok())
                })
                .or_else(|| {
                    LEADING_YEAR
                        .captures(raw_ref)
                        .and_then(|c| c[1].parse().ok())
                });
            // Nothing in the row dates it (the judiciary's category pages
            // are like this): number it in the year it is registered, so
            // that the row survives and can be put right by hand.
            let year = year.unwrap_or(today.year() as u16);
            IdRequest::Allocate {
                issuer: pfd_code(),
                year,
                floor: PFD_FALLBACK_FLOOR,
            }
        }
    };
    let due = r.date.map(|d| d + Duration::days(PFD_RESPONSE_DAYS));
    let mut seen = std::collections::HashSet::new();
    let mut addressees: Vec<Addressee> = r
        .addressees
        .iter()
        .map(|a| a.trim())
        .filter(|a| !is_redacted(a) && seen.insert(a.to_lowercase()))
        .map(|name| Addressee {
            name: name.to_string(),
            org: resolve_or_propose(dir, name, &mut parsed.organisations),
            status: AddresseeStatus::AwaitingResponse,
            due,
            responses: Vec::new(),
            ..Default::default()
        })
        .collect();
    attach_replies(&mut addressees, &r.replies, due);
    let title = title_for(&r, &addressees);
    let text = if r.concerns.trim().is_empty() {
        NO_CONCERNS_TEXT.to_string()
    } else {
        r.concerns.clone()
    };
    let local_ref = if raw_ref.is_empty() {
        number.map(|(y, n)| format!("{y:04}-{n:04}"))
    } else {
        Some(raw_ref.to_string())
    };
    let source_title = {
        let who: Vec<&str> = [r.coroner.trim(), r.area.trim()]
            .into_iter()
            .filter(|s| !s.is_empty())
            .collect();
        if who.is_empty() {
            "Regulation 28 report to prevent future deaths".to_string()
        } else {
            format!(
                "Regulation 28 report to prevent future deaths: {}",
                who.join(", ")
            )
        }
    };
    let mut themes: Vec<String> = r
        .categories
        .iter()
        .map(|c| c.trim().to_lowercase())
        .filter(|c| !c.is_empty())
        .collect();
    themes.dedup();
    let mut references = Vec::new();
    if !r.pdf_url.trim().is_empty() {
        references.push(r.pdf_url.trim().to_string());
    }
    references.extend(r.more_evidence.iter().cloned());
    let data = RecommendationData {
        local_ref,
        kind: RecKind::Concern,
        issuer: pfd_code(),
        source: Some(Source {
            title: Some(source_title),
            date: r.date,
            url: Some(r.report_url.trim().to_string()).filter(|u| !u.is_empty()),
            local_ref: Some(raw_ref.to_string()).filter(|s| !s.is_empty()),
        }),
        title,
        text,
        published: r.date,
        status: Lifecycle::Published,
        level: None,
        addressees,
        themes,
        settings: Vec::new(),
        evidence: Some(Evidence {
            kind: Some(EvidenceKind::Inquest),
            references,
            strength: None,
        }),
        patient_impact: None,
        cost: None,
        equality: None,
        risk: None,
        response_deadline: due,
        links: Vec::new(),
    };
    let data = data.validate().map_err(|e| (None, e.to_string()))?;
    let mut stand_ins = Vec::new();
    if is_stand_in_concerns(&r.concerns) {
        stand_ins.push(RecordPart::Text);
    }
    if title_from_concern(concern_body(&r.concerns)).is_none()
        || stand_ins.contains(&RecordPart::Text)
    {
        stand_ins.push(RecordPart::Title);
    }
    if data
        .addressees
        .iter()
        .all(|a| a.name == UNPUBLISHED_ADDRESSEE)
    {
        stand_ins.push(RecordPart::Addressees);
    }
    let provenance = Provenance::of_source(&data, from.0, from.1, &stand_ins);
    Ok(NewRecommendation {
        id,
        data,
        import_key: Some(import_key),
        version: None,
        created_at: None,
        updated_at: None,
        provenance,
    })
}

/// The registered organisation a name is, else an unverified one made from
/// it (kept in `proposed` for the store to add), else none when the name is
/// only a post or a person ("Chief Executive").
fn resolve_or_propose(
    dir: &OrganisationDirectory,
    name: &str,
    proposed: &mut Vec<Organisation>,
) -> Option<OrgCode> {
    if let Some(code) = dir.resolve(name) {
        return Some(code);
    }
    if name == UNPUBLISHED_ADDRESSEE {
        return None;
    }
    let org = unverified_organisation(name)?;
    let code = org.code.clone();
    match proposed.iter_mut().find(|o| o.code == code) {
        Some(known) => {
            if known.name != name && !known.aliases.iter().any(|a| a == name) {
                known.aliases.push(name.to_string());
            }
        }
        None => proposed.push(org),
    }
    Some(code)
}

fn file_name(path: &Path) -> Option<String> {
    path.file_name().map(|f| f.to_string_lossy().into_owned())
}

/// Finds the named columns in a PFD header, or says which are missing.
fn columns(
    path: &Path,
    header: &[String],
    want: &[&'static str],
    layout: &str,
) -> Result<HashMap<&'static str, usize>, IngestError> {
    let mut map = HashMap::new();
    for (i, h) in header.iter().enumerate() {
        let h = h.trim().trim_start_matches('\u{feff}').to_ascii_lowercase();
        if let Some(w) = want.iter().find(|w| **w == h) {
            map.entry(*w).or_insert(i);
        }
    }
    let missing: Vec<&str> = want
        .iter()
        .copied()
        .filter(|w| !map.contains_key(w))
        .collect();
    if !missing.is_empty() {
        return Err(IngestError::file(
            path,
            format!(
                "is not in the {layout} layout: the header lacks {} (expected columns: {}; found: {})",
                missing.join(", "),
                want.join(", "),
                clip(&header.join(","), 200)
            ),
        ));
    }
    Ok(map)
}

fn split(s: &str, sep: &str) -> Vec<String> {
    s.split(sep)
        .map(str::trim)
        .filter(|x| !x.is_empty())
        .map(str::to_string)
        .collect()
}

/// Reads rows of a PFD layout, handing each to `build_row`.
fn read_rows(
    path: &Path,
    bytes: &[u8],
    want: &[&'static str],
    layout: &str,
    mut build_row: impl FnMut(
        usize,
        &dyn Fn(&str) -> String,
        &mut Parsed,
    ) -> Result<(), (Option<&'static str>, String)>,
) -> Result<Parsed, IngestError> {
    let file = open(path, bytes)?;
    let map = columns(path, &file.header, want, layout)?;
    let mut parsed = Parsed::default();
    let mut rejected = Vec::new();
    let header = file.header.clone();
    file.for_each_row(path, &mut rejected, |row, cells| {
        let get = |c: &str| {
            map.get(c)
                .and_then(|i| cells.get(*i))
                .cloned()
                .unwrap_or_default()
        };
        let result = if cells.iter().all(|c| c.trim().is_empty()) {
            // Nothing to keep, so nothing is lost: counted, not rejected.
            parsed.blank_rows.push(row);
            Ok(())
        } else if let Some((col, len)) = cells
            .iter()
            .enumerate()
            .find(|(_, c)| c.len() > concord_domain::MAX_TEXT_BYTES)
            .map(|(i, c)| (header.get(i).cloned().unwrap_or_default(), c.len()))
        {
            Err((
                None,
                format!(
                    "column {col}: {len} bytes is longer than the limit of {} bytes for one cell",
                    concord_domain::MAX_TEXT_BYTES
                ),
            ))
        } else {
            build_row(row, &get, &mut parsed)
        };
        result
            .err()
            .map(|(field, reason)| Rejection::new(row, field, reason))
    })?;
    parsed.rejected = rejected;
    Ok(parsed)
}

fn date_field(
    value: &str,
    field: &'static str,
) -> Result<Option<NaiveDate>, (Option<&'static str>, String)> {
    if value.trim().is_empty() {
        return Ok(None);
    }
    parse_date(value).map(Some).map_err(|e| (Some(field), e))
}

const JUDICIARY_COLUMNS: &[&str] = &[
    "ref",
    "date_of_report",
    "coroner_name",
    "coroner_area",
    "category",
    "this_report_is_being_sent_to",
    "report_url",
    "pdf_url",
    "reply_urls",
    "concerns",
];

pub(crate) fn parse_judiciary(
    path: &Path,
    bytes: &[u8],
    dir: &OrganisationDirectory,
    today: NaiveDate,
) -> Result<Parsed, IngestError> {
    read_rows(
        path,
        bytes,
        JUDICIARY_COLUMNS,
        "judiciary PFD",
        |row, get, parsed| {
            let report = Report {
                raw_ref: get("ref"),
                date: date_field(&get("date_of_report"), "date_of_report")?,
                coroner: get("coroner_name"),
                area: get("coroner_area"),
                categories: split(&get("category"), " | "),
                addressees: split(&get("this_report_is_being_sent_to"), " | "),
                report_url: get("report_url"),
                pdf_url: get("pdf_url"),
                replies: split(&get("reply_urls"), " | "),
                concerns: get("concerns"),
                more_evidence: Vec::new(),
            };
            let file = file_name(path);
            let new = build(
                report,
                dir,
                today,
                (DataSource::PfdJudiciary, file.as_deref()),
                parsed,
            )?;
            parsed.records.push(ParsedRecord { row, new });
            Ok(())
        },
    )
}

const TOOLKIT_COLUMNS: &[&str] = &[
    "url",
    "id",
    "date",
    "coroner",
    "area",
    "receiver",
    "investigation",
    "circumstances",
    "concerns",
];

pub(crate) fn parse_toolkit(
    path: &Path,
    bytes: &[u8],
    dir: &OrganisationDirectory,
    today: NaiveDate,
) -> Result<Parsed, IngestError> {
    read_rows(
        path,
        bytes,
        TOOLKIT_COLUMNS,
        "PFD-Toolkit reports",
        |row, get, parsed| {
            let mut more = Vec::new();
            for (col, label) in [
                ("investigation", "Investigation and inquest"),
                ("circumstances", "Circumstances of the death"),
            ] {
                let v = get(col);
                if !v.trim().is_empty() {
                    more.push(format!("{label}: {}", v.trim()));
                }
            }
            let report = Report {
                raw_ref: get("id"),
                date: date_field(&get("date"), "date")?,
                coroner: get("coroner"),
                area: get("area"),
                categories: Vec::new(),
                addressees: split(&get("receiver"), ";"),
                report_url: get("url"),
                pdf_url: String::new(),
                replies: Vec::new(),
                concerns: get("concerns"),
                more_evidence: more,
            };
            let file = file_name(path);
            let new = build(
                report,
                dir,
                today,
                (DataSource::PfdToolkit, file.as_deref()),
                parsed,
            )?;
            parsed.records.push(ParsedRecord { row, new });
            Ok(())
        },
    )
}

const TOOLKIT_RESPONSE_COLUMNS: &[&str] = &[
    "parent_id",
    "parent_url",
    "response_url",
    "respondent",
    "response",
];

pub(crate) fn parse_toolkit_responses(
    path: &Path,
    bytes: &[u8],
    dir: &OrganisationDirectory,
) -> Result<Parsed, IngestError> {
    read_rows(
        path,
        bytes,
        TOOLKIT_RESPONSE_COLUMNS,
        "PFD-Toolkit responses",
        |row, get, parsed| {
            let parent = get("parent_url");
            if parent.trim().is_empty() {
                return Err((
                    Some("parent_url"),
                    "is empty: the report this reply answers cannot be found".into(),
                ));
            }
            let opt = |s: String| Some(s.trim().to_string()).filter(|s| !s.is_empty());
            let respondent = opt(get("respondent"));
            let response = Response {
                received: None,
                respondent: respondent.clone(),
                url: opt(get("response_url")),
                text: opt(get("response")),
                ..Default::default()
            };
            if response.url.is_none() && response.text.is_none() {
                return Err((
                    None,
                    "has neither a response_url nor a response text".into(),
                ));
            }
            parsed.responses.push(ResponseAttachment {
                row,
                parent_key: pfd_key(&parent),
                respondent_org: respondent.as_deref().and_then(|r| dir.resolve(r)),
                respondent,
                response,
            });
            Ok(())
        },
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::Format;

    fn dir() -> OrganisationDirectory {
        OrganisationDirectory::new(&concord_domain::seed_organisations())
    }

    const HEAD: &str = "ref,date_of_report,coroner_name,coroner_area,category,this_report_is_being_sent_to,report_url,pdf_url,reply_urls,concerns,action,response\n";

    fn judiciary(rows: &str) -> Parsed {
        crate::parse(
            Path::new("j.csv"),
            format!("{HEAD}{rows}").as_bytes(),
            Format::PfdJudiciary,
            &dir(),
            chrono::NaiveDate::from_ymd_opt(2026, 11, 27).unwrap(),
        )
        .unwrap()
    }

    #[test]
    fn refs() {
        assert_eq!(ref_number("2024-0079"), Some((2024, 79)));
        assert_eq!(ref_number("2016 – 0301"), Some((2016, 301)));
        assert_eq!(ref_number("2019-0135A"), Some((2019, 135)));
        assert_eq!(ref_number("2016-026"), Some((2016, 26)));
        assert_eq!(ref_number("20140-0147"), None);
        assert_eq!(ref_number(""), None);
        assert_eq!(
            ref_in_pdf("https://x/wp-content/uploads/2014/07/Bandtock-2014-0147.pdf"),
            Some((2014, 147))
        );
        assert_eq!(
            ref_in_pdf("https://x/Wellbelove+2013-0324.pdf"),
            Some((2013, 324))
        );
        assert_eq!(ref_in_pdf("https://x/Rio-Andrew-2016._Redacted.pdf"), None);
    }

    #[test]
    fn a_full_report() {
        let p = judiciary(
            "2024-0179,02/04/2024,Mrs A CORONER,Yorkshire South East,Hospital Death (Clinical Procedures and medical management) related deaths | Suicide (from 2015) ,NHS England | Doncaster and Bassetlaw Teaching Hospitals | REDACTED,https://www.judiciary.uk/prevention-of-future-death-reports/x-prevention-of-future-deaths-report/,https://www.judiciary.uk/wp-content/uploads/2024/04/X-2024-0179_Published.pdf,https://www.judiciary.uk/wp-content/uploads/2024/05/2024-0179-Response-from-Doncaster-and-Bassetlaw.pdf | https://www.judiciary.uk/wp-content/uploads/2024/05/2024-0179-Response-GMC.pdf,\"During the course of the inquest the evidence revealed matters giving rise to concern. In my opinion there is a risk that future deaths will occur unless action is taken. In the circumstances it is my statutory duty to report to you.\n\u{a0}\nThe MATTERS OF CONCERN are as follows. \u{a0}\n1. There was evidence of poor record keeping on the ward. This included charts.\",a,b\n",
        );
        assert!(p.rejected.is_empty(), "{:?}", p.rejected);
        let n = &p.records[0].new;
        assert_eq!(
            n.id,
            IdRequest::Preferred {
                id: RecommendationId::parse("PFD-2024-0179").unwrap(),
                fallback_floor: PFD_FALLBACK_FLOOR
            }
        );
        let d = &n.data;
        assert_eq!(
            d.title,
            "There was evidence of poor record keeping on the ward."
        );
        assert!(d.text.starts_with("During the course"));
        assert_eq!(d.published.unwrap().to_string(), "2024-04-02");
        assert_eq!(d.response_deadline.unwrap().to_string(), "2024-05-28");
        assert_eq!(
            d.themes,
            vec![
                "hospital death (clinical procedures and medical management) related deaths",
                "suicide (from 2015)"
            ]
        );
        assert_eq!(d.addressees.len(), 2);
        assert_eq!(d.addressees[0].org.as_ref().unwrap().as_str(), "NHSE");
        // The Doncaster reply by name; the GMC reply to the one left without.
        assert_eq!(d.addressees[1].responses.len(), 1);
        assert!(
            d.addressees[1].responses[0]
                .url
                .as_ref()
                .unwrap()
                .contains("Doncaster")
        );
        assert_eq!(d.addressees[0].responses.len(), 1);
        assert!(
            d.addressees
                .iter()
                .all(|a| a.status == AddresseeStatus::ResponseReceived)
        );
        assert_eq!(d.addressees[0].due.unwrap().to_string(), "2024-05-28");
        assert_eq!(
            n.import_key.as_deref(),
            Some(
                "pfd:https://www.judiciary.uk/prevention-of-future-death-reports/x-prevention-of-future-deaths-report"
            )
        );
        let src = d.source.as_ref().unwrap();
        assert_eq!(
            src.title.as_deref(),
            Some(
                "Regulation 28 report to prevent future deaths: Mrs A CORONER, Yorkshire South East"
            )
        );
        assert_eq!(src.local_ref.as_deref(), Some("2024-0179"));
        assert_eq!(d.local_ref.as_deref(), Some("2024-0179"));
        let ev = d.evidence.as_ref().unwrap();
        assert_eq!(ev.kind, Some(EvidenceKind::Inquest));
        assert!(ev.references[0].ends_with("X-2024-0179_Published.pdf"));
    }

    #[test]
    fn sparse_reports_survive() {
        let p = judiciary(concat!(
            // No ref, no concerns, replies but only REDACTED addressees.
            ",05/12/2018,C,Area,,REDACTED,https://www.judiciary.uk/r/a/,https://www.judiciary.uk/wp-content/uploads/2018/12/A-B.pdf,https://www.judiciary.uk/wp-content/uploads/2019/01/A-Response.pdf,,,\n",
            // No ref and no date: year from the upload folder.
            ",,C,Area,,X Trust,https://www.judiciary.uk/r/b/,https://www.judiciary.uk/wp-content/uploads/2017/03/B.pdf,,,,\n",
            // Ref only in the PDF's name.
            ",21/12/2018,,,,,https://www.judiciary.uk/r/c/,https://www.judiciary.uk/wp-content/uploads/2018/12/Paul-2018-0399_Redacted.pdf,,,,\n",
            // A category page: nothing to give it a year.
            ",,,,Prevention of Future Deaths,,https://www.judiciary.uk/prevention-of-future-death-reports/product/,,,,,\n",
            ",,,,,,,,,,,\n",
            "2019-0135A,01/01/2019,,,,,https://www.judiciary.uk/r/d/,,,\"During the course of the inquest the evidence revealed matters giving rise to concern. In my opinion there is a risk that future deaths will occur unless action is taken. In the circumstances it is my statutory duty to report to you.\",,\n",
            "2019-0135,31/02/2019,,,,,https://www.judiciary.uk/r/e/,,,,,\n",
        ));
        assert_eq!(p.records.len(), 5);
        let a = &p.records[0].new;
        assert_eq!(
            a.id,
            IdRequest::Allocate {
                issuer: pfd_code(),
                year: 2018,
                floor: PFD_FALLBACK_FLOOR
            }
        );
        assert_eq!(a.data.text, NO_CONCERNS_TEXT);
        assert_eq!(
            a.data.title,
            "Prevention of future deaths report (Area, 5 December 2018)"
        );
        assert_eq!(a.data.addressees.len(), 1);
        assert_eq!(a.data.addressees[0].name, UNPUBLISHED_ADDRESSEE);
        assert_eq!(a.data.addressees[0].responses.len(), 1);
        let b = &p.records[1].new;
        assert!(matches!(b.id, IdRequest::Allocate { year: 2017, .. }));
        assert_eq!(
            b.data.title,
            "Prevention of future deaths report to X Trust (Area)"
        );
        assert_eq!(b.data.response_deadline, None);
        let c = &p.records[2].new;
        assert!(
            matches!(&c.id, IdRequest::Preferred { id, .. } if id.to_string() == "PFD-2018-0399")
        );
        assert_eq!(c.data.local_ref.as_deref(), Some("2018-0399"));
        // The category page survives, numbered in the year it is registered.
        let page = &p.records[3];
        assert_eq!(page.row, 4);
        assert!(matches!(
            page.new.id,
            IdRequest::Allocate { year: 2026, .. }
        ));
        assert_eq!(page.new.data.text, NO_CONCERNS_TEXT);
        let d = &p.records[4].new;
        assert!(
            matches!(&d.id, IdRequest::Preferred { id, .. } if id.to_string() == "PFD-2019-0135")
        );
        assert_eq!(d.data.local_ref.as_deref(), Some("2019-0135A"));
        assert!(
            d.data
                .title
                .starts_with("Prevention of future deaths report"),
            "{}",
            d.data.title
        );
        let msgs: Vec<String> = p.rejected.iter().map(|r| r.to_string()).collect();
        assert_eq!(msgs.len(), 1, "{msgs:?}");
        assert_eq!(p.blank_rows, vec![5]);
        assert_eq!(
            msgs[0],
            "row 7 (line 8), field date_of_report: \"31/02/2019\" is not a real date: February 2019 has no day 31"
        );
    }

    #[test]
    fn wrong_layout_is_a_file_error() {
        let e = crate::parse(
            Path::new("j.csv"),
            b"id,issuer,title,text\nx,y,z,w\n",
            Format::PfdJudiciary,
            &dir(),
            chrono::NaiveDate::from_ymd_opt(2026, 11, 27).unwrap(),
        )
        .unwrap_err()
        .to_string();
        assert!(
            e.starts_with(
                "j.csv: is not in the judiciary PFD layout: the header lacks ref, date_of_report"
            ),
            "{e}"
        );
    }

    #[test]
    fn titles() {
        assert_eq!(
            short_category(
                "Hospital Death (Clinical Procedures and medical management) related deaths"
            )
            .as_deref(),
            Some("Hospital Death")
        );
        assert_eq!(
            short_category("Suicide (from 2015)").as_deref(),
            Some("Suicide")
        );
        assert_eq!(short_category("Other related deaths"), None);
        assert_eq!(short_category("Prevention of Future Deaths"), None);
        assert_eq!(
            short_category("Wales prevention of future deaths reports (2019 onwards)"),
            None
        );
        assert_eq!(concern_body("  "), "");
        assert_eq!(
            title_from_concern(
                "Concern 1: Contacting specialist centres\nNon-specialist staff may vary. More."
            )
            .unwrap(),
            "Contacting specialist centres Non-specialist staff may vary."
        );
        let long = "word ".repeat(60);
        let t = title_from_concern(&long).unwrap();
        assert!(t.ends_with('…') && t.chars().count() <= 120, "{t}");
    }

    #[test]
    fn toolkit_rows() {
        let p = crate::parse(
            Path::new("t.csv"),
            ",url,id,date,coroner,area,receiver,investigation,circumstances,concerns\n0,https://www.judiciary.uk/prevention-of-future-death-reports/x/,2024-0621,2024-11-13,J. A,Area,Chief Executive Officer NHS England; Care Quality Commission,\"On 4 October I commenced an investigation into the death of J.\",He died.,\"The Court heard that the call was not reviewed within 40 minutes. More.\"\n".as_bytes(),
            Format::PfdToolkit,
            &dir(),
            chrono::NaiveDate::from_ymd_opt(2026, 11, 27).unwrap(),
        )
        .unwrap();
        let n = &p.records[0].new;
        assert_eq!(
            n.import_key.as_deref(),
            Some("pfd:https://www.judiciary.uk/prevention-of-future-death-reports/x")
        );
        assert_eq!(
            n.data.title,
            "The Court heard that the call was not reviewed within 40 minutes."
        );
        assert!(!n.data.text.contains("investigation into the death"));
        assert_eq!(n.data.addressees.len(), 2);
        assert_eq!(n.data.addressees[1].org.as_ref().unwrap().as_str(), "CQC");
        let refs = &n.data.evidence.as_ref().unwrap().references;
        assert_eq!(
            refs[0],
            "Investigation and inquest: On 4 October I commenced an investigation into the death of J."
        );
        assert_eq!(refs[1], "Circumstances of the death: He died.");
    }

    #[test]
    fn toolkit_response_rows() {
        let p = crate::parse(
            Path::new("r.csv"),
            ",parent_id,parent_url,response_url,respondent,response\n0,2024-0620,https://www.judiciary.uk/prevention-of-future-death-reports/x/,https://www.judiciary.uk/r.pdf,National Institute for Health & Care Excellence (NICE),We reply.\n1,2024-0620,,,,\n2,2024-0620,https://www.judiciary.uk/y,,,\n".as_bytes(),
            Format::PfdToolkitResponses,
            &dir(),
            chrono::NaiveDate::from_ymd_opt(2026, 11, 27).unwrap(),
        )
        .unwrap();
        let r = &p.responses[0];
        assert_eq!(r.row, 1);
        assert_eq!(
            r.parent_key,
            "pfd:https://www.judiciary.uk/prevention-of-future-death-reports/x"
        );
        assert_eq!(r.respondent_org.as_ref().unwrap().as_str(), "NICE");
        assert_eq!(r.response.text.as_deref(), Some("We reply."));
        assert_eq!(r.response.respondent, r.respondent);
        let msgs: Vec<String> = p.rejected.iter().map(|r| r.to_string()).collect();
        assert_eq!(
            msgs,
            vec![
                "row 2 (line 3), field parent_url: is empty: the report this reply answers cannot be found",
                "row 3 (line 4): has neither a response_url nor a response text",
            ]
        );
    }
}
