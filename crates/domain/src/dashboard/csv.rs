//! The dashboard's tables as text and as CSV downloads.

use super::figures::{Dashboard, Row};
use crate::string_enum;

string_enum!(
    /// The dashboard's tables, each also a CSV download.
    Table {
        Issuer => "issuer",
        Addressee => "addressee",
        Theme => "theme",
        Setting => "setting",
        Year => "year",
        ResponseTimes => "response_times",
        OldestOverdue => "oldest_overdue",
        ProviderKind => "provider_kind",
    }
);

const COUNT_HEADER: [&str; 8] = [
    "key",
    "label",
    "recommendations",
    "items",
    "open",
    "overdue",
    "answered",
    "implemented",
];

fn count_cells(r: &Row) -> Vec<String> {
    let c = &r.counts;
    vec![
        r.key.clone(),
        r.label.clone(),
        c.recommendations.to_string(),
        c.items.to_string(),
        c.open.to_string(),
        c.overdue.to_string(),
        c.answered.to_string(),
        c.implemented.to_string(),
    ]
}

fn opt<T: ToString>(v: &Option<T>) -> String {
    v.as_ref().map(|x| x.to_string()).unwrap_or_default()
}

impl Dashboard {
    /// One table: its header and rows, as text.
    pub fn table(&self, t: Table) -> (Vec<&'static str>, Vec<Vec<String>>) {
        let counts = |rows: &[Row]| {
            (
                COUNT_HEADER.to_vec(),
                rows.iter().map(count_cells).collect(),
            )
        };
        match t {
            Table::Issuer => counts(&self.by_issuer),
            Table::Addressee => counts(&self.by_addressee),
            Table::Theme => counts(&self.by_theme),
            Table::Setting => counts(&self.by_setting),
            Table::Year => counts(&self.by_year),
            Table::ResponseTimes => (
                vec!["issuer", "answers", "median_days", "p90_days"],
                self.response_times
                    .iter()
                    .map(|r| {
                        vec![
                            r.key.clone(),
                            r.answers.to_string(),
                            opt(&r.median_days),
                            opt(&r.p90_days),
                        ]
                    })
                    .collect(),
            ),
            Table::OldestOverdue => (
                vec!["id", "issuer", "addressee", "org", "due", "days_overdue"],
                self.oldest_overdue
                    .iter()
                    .map(|o| {
                        vec![
                            o.id.clone(),
                            o.issuer.clone(),
                            o.addressee.clone(),
                            opt(&o.org),
                            o.due.to_string(),
                            o.days_overdue.to_string(),
                        ]
                    })
                    .collect(),
            ),
            Table::ProviderKind => (
                vec![
                    "kind",
                    "label",
                    "open_recommendations",
                    "open_items",
                    "costed",
                    "one_off_gbp",
                    "recurring_gbp",
                    "other_currency",
                ],
                self.by_provider_kind
                    .iter()
                    .map(|l| {
                        vec![
                            l.kind.clone(),
                            l.label.clone(),
                            l.open_recommendations.to_string(),
                            l.open_items.to_string(),
                            l.costed.to_string(),
                            format!("{:.2}", l.one_off_gbp),
                            format!("{:.2}", l.recurring_gbp),
                            l.other_currency.to_string(),
                        ]
                    })
                    .collect(),
            ),
        }
    }

    /// One table as CSV (RFC 4180, CRLF line ends). A cell that starts with
    /// `=`, `+`, `-` or `@` gets a leading apostrophe so that a spreadsheet
    /// does not run it as a formula (numbers are never negative here).
    pub fn csv(&self, t: Table) -> String {
        let (header, rows) = self.table(t);
        let mut out = crate::text::csv_row(header.iter().copied());
        for r in &rows {
            out.push_str(&crate::text::csv_row(r.iter().map(String::as_str)));
        }
        out
    }
}
