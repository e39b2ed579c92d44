//! A recommendation's addressees on its page: where each answer stands
//! (overdue, answered, assessed, closed) and the whole story beneath —
//! responses, action plan, progress, the issuer's assessment, escalations.

use std::fmt::Write as _;

use chrono::NaiveDate;
use concord_domain::lifecycle::{self, RulesBook};
use concord_domain::{Addressee, RecommendationData};

use crate::pages::{date, esc, opt_date, paragraphs, url_link, words};

fn opt_words<T: std::fmt::Display>(v: Option<T>) -> String {
    v.map(|x| esc(&words(&x.to_string())).to_string())
        .unwrap_or_else(|| "—".into())
}

fn who(a: &Addressee) -> String {
    match &a.org {
        Some(o) => format!("{} ({})", esc(&a.name), esc(o.as_str())),
        None => esc(&a.name).to_string(),
    }
}

/// The table of addressees and a section for each with any history.
pub fn addressees_html(d: &RecommendationData, today: NaiveDate) -> String {
    let mut m = String::new();
    if d.addressees.is_empty() {
        m.push_str("<p>No addressee is recorded.</p>\n");
        return m;
    }
    let book = RulesBook::builtin();
    let rules = book.for_issuer(&d.issuer);
    m.push_str(
        "<table>\n<thead><tr><th scope=\"col\">Addressee</th><th scope=\"col\">Status</th>\
         <th scope=\"col\">Response due</th><th scope=\"col\">Acceptance</th>\
         <th scope=\"col\">Implementation</th><th scope=\"col\">Issuer's assessment</th></tr></thead>\n<tbody>\n",
    );
    for a in &d.addressees {
        let mut status = esc(&words(a.status.as_str())).to_string();
        if let Some((_, days)) = lifecycle::overdue_as_of(d, a, rules, today) {
            let _ = write!(
                status,
                " — <strong>overdue by {days} day{}</strong>",
                if days == 1 { "" } else { "s" }
            );
        }
        if let Some(e) = a.escalations.last() {
            let _ = write!(
                status,
                "; {} sent {}",
                esc(&words(e.step.as_str())),
                date(e.on)
            );
        }
        let _ = writeln!(
            m,
            "<tr><td>{}</td><td>{status}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td></tr>",
            who(a),
            opt_date(lifecycle::due_for(d, a, rules)),
            opt_words(a.acceptance),
            opt_words(a.implementation),
            opt_words(a.assessment.as_ref().map(|x| x.verdict)),
        );
    }
    m.push_str("</tbody>\n</table>\n");

    let mut any = false;
    for a in &d.addressees {
        let story = addressee_story(a);
        if story.is_empty() {
            continue;
        }
        if !any {
            m.push_str("<h2>Responses and progress</h2>\n");
            any = true;
        }
        let _ = writeln!(m, "<section class=\"response\">\n<h3>{}</h3>", who(a));
        m.push_str(&story);
        m.push_str("</section>\n");
    }
    if !any {
        m.push_str("<h2>Responses and progress</h2>\n<p>No response is recorded.</p>\n");
    }
    m
}

fn addressee_story(a: &Addressee) -> String {
    let mut m = String::new();
    for r in &a.responses {
        let by = r
            .respondent
            .as_deref()
            .map(|x| format!(" from {}", esc(x)))
            .unwrap_or_default();
        let _ = writeln!(
            m,
            "<h4>Response{by}, received {}</h4>",
            opt_date(r.received)
        );
        if let Some(x) = r.acceptance {
            let _ = writeln!(m, "<p>Position: {}</p>", esc(&words(x.as_str())));
        }
        if let Some(text) = &r.text {
            m.push_str(&paragraphs(text));
        }
        if let Some(reasons) = &r.reasons {
            let _ = writeln!(m, "<p>Reasons: {}</p>", esc(reasons));
        }
        if let Some(url) = &r.url {
            let _ = writeln!(m, "<p>{}</p>", url_link(url, url));
        }
    }
    if !a.actions.is_empty() {
        m.push_str(
            "<h4>Action plan</h4>\n<table>\n<thead><tr><th scope=\"col\">Action</th>\
             <th scope=\"col\">Owner</th><th scope=\"col\">Due</th><th scope=\"col\">Progress</th>\
             <th scope=\"col\">Evidence</th></tr></thead>\n<tbody>\n",
        );
        for (i, x) in a.actions.iter().enumerate() {
            let evidence: Vec<String> = x.evidence.iter().map(|u| url_link(u, u)).collect();
            let _ = writeln!(
                m,
                "<tr><td>{}. {}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td></tr>",
                i + 1,
                esc(&x.title),
                x.owner
                    .as_deref()
                    .map(|o| esc(o).to_string())
                    .unwrap_or_default(),
                opt_date(x.due),
                esc(&words(x.progress.as_str())),
                evidence.join(", ")
            );
        }
        m.push_str("</tbody>\n</table>\n");
    }
    if !a.updates.is_empty() {
        m.push_str("<h4>Progress reported</h4>\n<ul>\n");
        for u in &a.updates {
            let about = u
                .action
                .map(|n| format!(" (action {n})"))
                .unwrap_or_default();
            let note = u
                .note
                .as_deref()
                .map(|n| format!(": {}", esc(n)))
                .unwrap_or_default();
            let _ = writeln!(
                m,
                "<li>{} — {}{about}{note}</li>",
                date(u.on),
                esc(&words(u.implementation.as_str()))
            );
        }
        m.push_str("</ul>\n");
    }
    if let Some(x) = &a.assessment {
        let comment = x
            .comment
            .as_deref()
            .map(|c| format!(": {}", esc(c)))
            .unwrap_or_default();
        let _ = writeln!(
            m,
            "<h4>Issuer's assessment</h4>\n<p>{} on {}{comment}</p>",
            esc(&words(x.verdict.as_str())),
            date(x.on)
        );
    }
    if !a.escalations.is_empty() {
        m.push_str("<h4>Chased</h4>\n<ul>\n");
        for e in &a.escalations {
            let _ = writeln!(
                m,
                "<li>{} — {}</li>",
                date(e.on),
                esc(&words(e.step.as_str()))
            );
        }
        m.push_str("</ul>\n");
    }
    if let Some(c) = &a.closure {
        let note = c
            .note
            .as_deref()
            .map(|n| format!(": {}", esc(n)))
            .unwrap_or_default();
        let _ = writeln!(
            m,
            "<h4>Closed</h4>\n<p>{} on {}{note}</p>",
            esc(&words(c.reason.as_str())),
            date(c.on)
        );
        if let Some(v) = a.verified_on {
            let _ = writeln!(
                m,
                "<p>Implementation verified by the issuer on {}</p>",
                date(v)
            );
        }
    }
    if let Some(r) = a.reassess_on {
        let _ = writeln!(m, "<p>To be reassessed on {}</p>", date(r));
    }
    m
}
