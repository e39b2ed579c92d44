//! Small text helpers shared by the rules (no I/O).

/// Folds an organisation name for matching: lower case, `&` as "and",
/// typographic quotes and dashes folded, punctuation dropped, spaces collapsed,
/// a leading "the" removed.
pub fn normalise_name(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        let c = match c {
            '&' => {
                out.push_str(" and ");
                continue;
            }
            '\u{2018}' | '\u{2019}' | '\'' => continue,
            c if c.is_alphanumeric() => c.to_lowercase().next().unwrap_or(c),
            _ => ' ',
        };
        out.push(c);
    }
    let words: Vec<&str> = out.split_whitespace().collect();
    let words = match words.first() {
        Some(&"the") => &words[1..],
        _ => &words[..],
    };
    words.join(" ")
}

/// Like [`normalise_name`], then without the corporate suffixes trusts are
/// written with or without ("NHS Foundation Trust", "NHS Trust"...), so that
/// "Northmoor Hospitals NHS Foundation Trust" and "Northmoor Hospitals" meet.
pub fn core_name(s: &str) -> String {
    let n = normalise_name(s);
    const SUFFIXES: &[&str] = &[
        " nhs foundation trust",
        " nhs trust",
        " foundation trust",
        " nhs ft",
        " nhsft",
        " university health board",
        " ltd",
        " limited",
        " plc",
    ];
    for suf in SUFFIXES {
        if let Some(stripped) = n.strip_suffix(suf) {
            return stripped.to_string();
        }
    }
    n
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn folds_names() {
        assert_eq!(
            normalise_name("The Royal College of Nursing"),
            "royal college of nursing"
        );
        assert_eq!(normalise_name("  NHS   England. "), "nhs england");
        assert_eq!(
            normalise_name("Medicines & Healthcare products Regulatory Agency"),
            "medicines and healthcare products regulatory agency"
        );
        assert_eq!(normalise_name("St George’s"), "st georges");
        assert_eq!(
            core_name("Northmoor Hospitals NHS Foundation Trust"),
            "northmoor hospitals"
        );
    }
}

/// Characters that make a spreadsheet read a cell as a formula (`= + - @`,
/// and a tab or carriage return before them), and the apostrophe that
/// marks a guarded cell.
pub const SPREADSHEET_GUARDED: &[char] = &['=', '+', '-', '@', '\t', '\r', '\''];

/// Makes a value safe to open in a spreadsheet: one that starts with a
/// guarded character gets one leading apostrophe, so that no cell a
/// stranger wrote is ever run as a formula.
pub fn spreadsheet_safe(value: &str) -> std::borrow::Cow<'_, str> {
    if value.starts_with(SPREADSHEET_GUARDED) {
        format!("'{value}").into()
    } else {
        value.into()
    }
}

/// One CSV line (RFC 4180, CRLF end) of cells made [`spreadsheet_safe`],
/// quoted when they hold a comma, a quote or a line break.
pub fn csv_row<'a>(cells: impl IntoIterator<Item = &'a str>) -> String {
    let mut out = String::new();
    for (i, c) in cells.into_iter().enumerate() {
        if i > 0 {
            out.push(',');
        }
        let guarded = spreadsheet_safe(c);
        let c = guarded.as_ref();
        if c.contains([',', '"', '\n', '\r']) {
            out.push('"');
            out.push_str(&c.replace('"', "\"\""));
            out.push('"');
        } else {
            out.push_str(c);
        }
    }
    out.push_str("\r\n");
    out
}

#[cfg(test)]
mod spreadsheet_tests {
    use super::*;

    #[test]
    fn csv_rows_quote_and_guard() {
        assert_eq!(csv_row(["a", "b c", ""]), "a,b c,\r\n");
        assert_eq!(
            csv_row(["x,y", "say \"hi\"", "l1\nl2"]),
            "\"x,y\",\"say \"\"hi\"\"\",\"l1\nl2\"\r\n"
        );
        assert_eq!(csv_row(["=1+1", "-2"]), "'=1+1,'-2\r\n");
    }

    #[test]
    fn formulas_never_reach_a_spreadsheet() {
        for bad in ["=1+1", "+SUM(A1)", "-2", "@cmd", "\t=1", "\r=1", "'=1"] {
            assert!(spreadsheet_safe(bad).starts_with('\''), "{bad:?}");
        }
        assert_eq!(spreadsheet_safe("Sepsis"), "Sepsis");
        assert_eq!(spreadsheet_safe(""), "");
    }
}
