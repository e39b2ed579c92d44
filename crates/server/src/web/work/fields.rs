//! One field of a form as `templates/form_fields.html` shows it, and
//! what the forms of these pages (and the priorities form) do with fields:
//! fill them from a post, put the services' errors on them, read a
//! textarea's lines.

use concord_app::AppError;

use crate::web::error::field_messages;
use crate::web::extract::Form;
use crate::web::filters::{sentence, words};

/// One field of a form, as `templates/form_fields.html` shows it.
pub(crate) struct FormField {
    pub name: &'static str,
    pub label: &'static str,
    pub hint: String,
    /// text, textarea, date, number, url, select or radios.
    pub kind: &'static str,
    pub value: String,
    pub error: Option<String>,
    /// (value, label) of a select or of radios.
    pub options: Vec<(String, String)>,
    pub rows: u8,
    /// What to say when nothing is chosen, for a question that must be
    /// answered ("Select ...", in the service manual's words).
    pub required: Option<&'static str>,
}

impl FormField {
    pub(crate) fn new(
        name: &'static str,
        label: &'static str,
        kind: &'static str,
        hint: &str,
    ) -> Self {
        FormField {
            name,
            label,
            hint: hint.to_string(),
            kind,
            value: String::new(),
            error: None,
            options: Vec::new(),
            rows: if name == "text" { 8 } else { 4 },
            required: None,
        }
    }

    /// Radios of a vocabulary, none chosen until the person chooses: for
    /// questions whose answer must not lean on a default (an addressee's
    /// position, an assessment). `required` is what to say when none is.
    pub(crate) fn radios(
        name: &'static str,
        label: &'static str,
        hint: &str,
        values: impl IntoIterator<Item = &'static str>,
        required: &'static str,
    ) -> Self {
        let mut f = FormField::choice(name, label, hint, values, None);
        f.kind = "radios";
        f.required = Some(required);
        f
    }

    /// A select of a vocabulary; `blank` is the label of "none chosen".
    pub(crate) fn choice(
        name: &'static str,
        label: &'static str,
        hint: &str,
        values: impl IntoIterator<Item = &'static str>,
        blank: Option<&str>,
    ) -> Self {
        let mut f = FormField::new(name, label, "select", hint);
        if let Some(b) = blank {
            f.options.push((String::new(), b.to_string()));
        }
        f.options.extend(
            values
                .into_iter()
                .map(|v| (v.to_string(), sentence(&words(v)))),
        );
        f
    }

    /// The ids of the hint and the error, if any (for `aria-describedby`).
    pub fn described_by(&self) -> String {
        let mut ids = Vec::new();
        if !self.hint.is_empty() {
            ids.push(format!("{}-hint", self.name));
        }
        if self.error.is_some() {
            ids.push(format!("{}-error", self.name));
        }
        ids.join(" ")
    }
}

/// Fills the fields from a posted form and attaches each error to its
/// field; returns the error summary (anchor, message).
pub(crate) fn fill(
    fields: &mut [FormField],
    form: Option<&Form>,
    errors: &[(String, String)],
) -> Vec<(String, String)> {
    if let Some(form) = form {
        for f in fields.iter_mut() {
            f.value = form.text(f.name);
        }
    }
    let mut summary = Vec::new();
    for (name, message) in errors {
        let field = fields.iter_mut().find(|f| f.name == name);
        let (anchor, shown) = match field {
            Some(f) => {
                f.error = Some(match &f.error {
                    Some(e) => format!("{e}; {message}"),
                    None => message.clone(),
                });
                (f.name.to_string(), format!("{}: {message}", f.label))
            }
            // Not a field of this form: the summary points at the first one.
            None => (
                fields.first().map(|f| f.name).unwrap_or("").to_string(),
                message.clone(),
            ),
        };
        summary.push((anchor, shown));
    }
    summary
}

/// A refusal's field errors as (form field, message) pairs, through
/// `rename` (a JSON path to a form field).
pub(super) fn field_errors(
    e: &AppError,
    rename: fn(&str) -> &'static str,
) -> Vec<(String, String)> {
    field_messages(e)
        .into_iter()
        .map(|(path, m)| match (path.as_str(), rename(&path)) {
            ("", _) => (String::new(), sentence(&m)),
            (path, "") => (String::new(), format!("{}: {m}", words(path))),
            (_, field) => (field.to_string(), sentence(&m)),
        })
        .collect()
}

/// Lines of a textarea, trimmed, blanks dropped.
pub(super) fn lines(text: &str) -> Vec<String> {
    text.lines()
        .map(str::trim)
        .filter(|l| !l.is_empty())
        .map(String::from)
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fields_describe_their_hint_and_error() {
        let mut f = FormField::new("text", "Text", "textarea", "hint");
        assert_eq!(f.described_by(), "text-hint");
        f.error = Some("bad".into());
        assert_eq!(f.described_by(), "text-hint text-error");
        f.hint = String::new();
        f.error = None;
        assert_eq!(f.described_by(), "");
        assert_eq!(sentence("accepted in principle"), "Accepted in principle");
    }
}
