//! The public pages on the search service, end to end: a real server, the
//! demo data in SQLite and its search index, plain HTTP as a browser
//! without JavaScript would ask.

use crate::common;

use common::*;
use reqwest::StatusCode;

impl TestApp {
    async fn page(&self, path: &str) -> (StatusCode, String) {
        let res = self
            .client
            .get(self.url(path))
            .send()
            .await
            .expect("request");
        let status = res.status();
        (status, res.text().await.unwrap())
    }

    async fn api_total(&self, query: &str) -> u64 {
        let res = self
            .client
            .get(self.url(&format!("/api/v1/search?{query}")))
            .send()
            .await
            .unwrap();
        let v: serde_json::Value = res.json().await.unwrap();
        v["total"].as_u64().unwrap()
    }
}

/// The `href`s of the links in `html` that start with `prefix`.
fn links<'a>(html: &'a str, prefix: &str) -> Vec<&'a str> {
    html.split("href=\"")
        .skip(1)
        .map(|rest| &rest[..rest.find('"').unwrap()])
        .filter(|h| h.starts_with(prefix))
        .collect()
}

fn unescape(href: &str) -> String {
    href.replace("&#38;", "&").replace("&amp;", "&")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn search_page_agrees_with_the_api_and_facets_narrow() {
    let app = demo_app().await;
    let total = app.api_total("q=sepsis").await;
    assert!(total > 1, "the demo has several sepsis records");
    let (status, html) = app.page("/search?q=sepsis").await;
    assert_eq!(status, StatusCode::OK);
    assert!(
        html.contains(&format!("{total} recommendations found")),
        "{html}"
    );
    assert!(html.contains("<mark>"), "highlighted snippets");
    assert!(only_our_scripts(&html));
    assert!(
        html.contains("value=\"sepsis\""),
        "the query stays in the box"
    );

    // An issuer facet link narrows to what the API finds with that filter.
    let facet = links(&html, "/search?q=sepsis&#38;issuer=")
        .first()
        .map(|h| unescape(h))
        .expect("an issuer facet");
    let issuer = facet.rsplit('=').next().unwrap().to_string();
    let narrowed = app.api_total(&format!("q=sepsis&issuer={issuer}")).await;
    assert!(narrowed < total && narrowed > 0);
    let (status, html) = app.page(&facet).await;
    assert_eq!(status, StatusCode::OK);
    assert!(
        html.contains(&format!(
            "recommendation{} found",
            if narrowed == 1 { "" } else { "s" }
        )),
        "{html}"
    );
    assert!(
        html.contains(&format!("{narrowed} recommendation")),
        "{html}"
    );
    assert!(html.contains("Remove every filter"));
    // The form carries the filter, so new words keep it.
    assert!(
        html.contains(&format!(
            "<input type=\"hidden\" name=\"issuer\" value=\"{issuer}\">"
        )),
        "{html}"
    );

    // Newest first, and paging past the first page.
    let (_, all) = app
        .page("/search?theme=sepsis&sort=newest&per_page=2")
        .await;
    assert!(all.contains("<strong>newest first</strong>"), "{all}");
    let next = links(&all, "/search?")
        .into_iter()
        .map(unescape)
        .find(|h| h.contains("&page=2"))
        .expect("a next page link");
    let (status, page2) = app.page(&next).await;
    assert_eq!(status, StatusCode::OK);
    assert!(page2.contains("Showing 3 to 4"), "{page2}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn search_page_explains_nothing_found_and_bad_input() {
    let app = demo_app().await;
    let (status, html) = app.page("/search?q=zzqxvbnotaword").await;
    assert_eq!(status, StatusCode::OK);
    assert!(html.contains("No recommendations found"), "{html}");

    // A query far past the limit: refused by name, page still usable,
    // nothing echoed as markup.
    let long = format!("<script>{}", "a".repeat(10_000));
    let (status, html) = app.page(&format!("/search?q={}", urlencode(&long))).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert!(html.contains("There is a problem"), "{html}");
    assert!(
        html.contains("1,000 characters") || html.contains("1000"),
        "{html}"
    );
    assert!(only_our_scripts(&html));
    assert!(
        html.contains("<title>Error: "),
        "the title says it is an error"
    );

    for (query, named) in [
        ("status=maybe", "parameter status"),
        (
            "from=yesterday",
            "<a href=\"#from\">Enter the earliest date as year-month-day, for example 2024-01-31</a>",
        ),
        (
            "to=2024-99-01",
            "<a href=\"#to\">Enter the latest date as year-month-day, for example 2024-12-31</a>",
        ),
        ("issuer=NOSUCHBODY", "issuer"),
        ("colour=blue", "unknown query parameter"),
        ("q=a&q=b", "more than once"),
        (
            "from=2024-02-01&to=2024-01-01",
            "The earliest date must be the same as or before the latest date",
        ),
    ] {
        let (status, html) = app.page(&format!("/search?{query}")).await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{query}");
        assert!(html.contains(named), "{query}: {html}");
    }
    // An unknown facet value narrows to nothing rather than failing.
    let (status, html) = app.page("/search?theme=%3Cb%3Enope%3C%2Fb%3E").await;
    assert_eq!(status, StatusCode::OK);
    assert!(html.contains("No recommendations found"));
    assert!(!html.contains("<b>nope"), "{html}");
    assert!(html.contains("&#60;b&#62;nope"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn downloads_hold_the_result_set_in_each_format() {
    let app = demo_app().await;
    let total = app.api_total("q=sepsis").await;
    let res = app
        .client
        .get(app.url("/search.json?q=sepsis"))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::OK);
    assert!(
        res.headers()["content-disposition"]
            .to_str()
            .unwrap()
            .contains("attachment")
    );
    assert_eq!(
        res.headers()["concord-result-set"].to_str().unwrap(),
        format!("all {total} results")
    );
    let records: Vec<serde_json::Value> = res.json().await.unwrap();
    assert_eq!(records.len() as u64, total);
    assert!(records.iter().all(|r| r["id"].is_string()));

    let csv = app
        .client
        .get(app.url("/search.csv?q=sepsis"))
        .send()
        .await
        .unwrap();
    assert!(
        csv.headers()["content-type"]
            .to_str()
            .unwrap()
            .starts_with("text/csv")
    );
    let text = csv.text().await.unwrap();
    for r in &records {
        assert!(text.contains(r["id"].as_str().unwrap()));
    }

    let xlsx = app
        .client
        .get(app.url("/search.xlsx?q=sepsis"))
        .send()
        .await
        .unwrap();
    assert_eq!(xlsx.status(), StatusCode::OK);
    let bytes = xlsx.bytes().await.unwrap();
    assert_eq!(&bytes[..2], b"PK", "an XLSX file is a zip");

    // Past the cap: the first MAX_DOWNLOAD, and the header says so.
    // (The demo is smaller than the cap, so the whole register fits.)
    let everything = app
        .client
        .get(app.url("/search.json"))
        .send()
        .await
        .unwrap();
    let summary = everything.headers()["concord-result-set"]
        .to_str()
        .unwrap()
        .to_string();
    assert!(summary.starts_with("all "), "{summary}");

    // Bad input is refused by name; odd paths are not files.
    let bad = app
        .client
        .get(app.url("/search.csv?sort=sideways"))
        .send()
        .await
        .unwrap();
    assert_eq!(bad.status(), StatusCode::BAD_REQUEST);
    assert!(bad.text().await.unwrap().contains("parameter sort"));
    for path in [
        "/search.csv/../../etc/passwd",
        "/search.csv%2F..%2F..%2Fetc%2Fpasswd",
        "/search.exe",
    ] {
        let res = app.client.get(app.url(path)).send().await.unwrap();
        assert_eq!(res.status(), StatusCode::NOT_FOUND, "{path}");
        let body = res.text().await.unwrap();
        assert!(!body.contains("root:"), "{path}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn organisation_and_theme_pages_count_and_link() {
    let app = demo_app().await;
    let issued = app.api_total("issuer=HSSIB").await;
    let (status, html) = app.page("/organisations/HSSIB").await;
    assert_eq!(status, StatusCode::OK, "{html}");
    assert!(html.contains("What it issued"));
    assert!(
        html.contains(&format!(
            "Search all {issued} recommendations issued by HSSIB"
        )),
        "{html}"
    );
    assert!(!links(&html, "/recommendations/HSSIB-").is_empty());

    let sent = app.api_total("addressee=NHSE").await;
    let (status, html) = app.page("/organisations/nhse").await;
    assert_eq!(status, StatusCode::OK);
    assert!(
        html.contains(&format!("Search all {sent} recommendations sent to NHSE")),
        "{html}"
    );
    assert!(html.contains("Still open"), "the answers table: {html}");
    // Its overdue count leads to its overdue answers, the longest first, as
    // the API lists them (issue #18, 5).
    let late: serde_json::Value = app
        .client
        .get(app.url("/api/v1/overdue?addressee=NHSE"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let late: Vec<&serde_json::Value> = late["items"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|i| i["org"] == "NHSE")
        .collect();
    assert!(!late.is_empty(), "the demo has answers NHSE owes");
    assert!(html.contains("<a href=\"#overdue\">"), "{html}");
    assert!(
        html.contains("<h3 id=\"overdue\">Overdue answers</h3>"),
        "{html}"
    );
    let first = format!("/recommendations/{}", late[0]["id"].as_str().unwrap());
    let listed = html.split("id=\"overdue\"").nth(1).unwrap();
    assert!(
        listed
            .find(&first)
            .is_some_and(|at| at < listed.find("Overdue by").unwrap() + 200),
        "the longest overdue first: {listed}"
    );
    assert_eq!(
        listed
            .split("</ul>")
            .next()
            .unwrap()
            .matches("<li>")
            .count(),
        late.len().min(20)
    );

    for bad in [
        "/organisations/NOSUCH",
        "/organisations/%3Cscript%3E",
        "/organisations/..%2F..%2Fetc",
    ] {
        let (status, html) = app.page(bad).await;
        assert_eq!(status, StatusCode::NOT_FOUND, "{bad}");
        assert!(only_our_scripts(&html));
    }

    let on_theme = app.api_total("theme=sepsis").await;
    let (status, html) = app.page("/themes/sepsis").await;
    assert_eq!(status, StatusCode::OK);
    assert!(
        html.contains(&format!(
            "{on_theme} published recommendations carry this theme"
        )),
        "{html}"
    );
    let (status, _) = app.page("/themes/no%20such%20theme").await;
    assert_eq!(status, StatusCode::NOT_FOUND);

    // The record page links its issuer and themes to these pages.
    let id = links(&html, "/recommendations/")[0].to_string();
    let (_, record) = app.page(&id).await;
    assert!(!links(&record, "/organisations/").is_empty(), "{record}");
    assert!(!links(&record, "/themes/").is_empty(), "{record}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn assets_are_served_only_from_the_embedded_table() {
    let app = demo_app().await;
    let (_, home) = app.page("/").await;
    let scripts: Vec<&str> = home
        .split(" src=\"")
        .skip(1)
        .map(|rest| &rest[..rest.find('"').unwrap()])
        .collect();
    assert_eq!(scripts.len(), 2, "htmx and our module: {home}");
    for src in scripts {
        let res = app.client.get(app.url(src)).send().await.unwrap();
        assert_eq!(res.status(), StatusCode::OK, "{src}");
        assert!(
            res.headers()["content-type"]
                .to_str()
                .unwrap()
                .starts_with("text/javascript")
        );
        assert!(
            res.headers()["cache-control"]
                .to_str()
                .unwrap()
                .contains("max-age=31536000")
        );
    }
    let sheet = links(&home, "/assets/")
        .into_iter()
        .find(|h| h.ends_with("nhsuk-frontend.min.css"))
        .unwrap()
        .to_string();
    let css = app
        .client
        .get(app.url(&sheet))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(!css.contains("https://"), "no outside fonts or images");
    let version = sheet.split('/').nth(2).unwrap().to_string();
    assert!(css.contains(&format!("/assets/{version}/images/")));
    for path in [
        format!("/assets/{version}/../../Cargo.toml"),
        format!("/assets/{version}/..%2F..%2FCargo.toml"),
        format!("/assets/{version}/%2E%2E/build.rs"),
        format!("/assets/{version}/images/../../../etc/passwd"),
        format!("/assets/{version}/nosuch.js"),
        "/assets/site.css/../../etc/passwd".to_string(),
    ] {
        let res = app.client.get(app.url(&path)).send().await.unwrap();
        assert_eq!(res.status(), StatusCode::NOT_FOUND, "{path}");
    }
}

fn urlencode(s: &str) -> String {
    form_urlencoded::byte_serialize(s.as_bytes()).collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_result_set_past_its_cap_says_so() {
    let app = demo_app().await;
    let query = concord_app::SearchQuery {
        text: String::new(),
        filter: Default::default(),
        page: concord_app::Page {
            offset: 40,
            limit: 5,
        },
        sort: concord_app::Sort::Newest,
    };
    let set = app
        .services
        .as_principal(concord_app::Principal::Anonymous)
        .search_result_set(query, 3)
        .await
        .unwrap();
    assert_eq!(set.records.len(), 3, "the cap, from the first result");
    assert!(set.total > 3 && set.capped());
    let newest = app.api_total("").await;
    assert_eq!(set.total, newest);
    // The page says where the downloads stop only past the real cap.
    let (_, html) = app.page("/search?status=published").await;
    assert!(html.contains("recommendations found"), "{html}");
    assert!(!html.contains("Downloads hold the first"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn home_counts_and_lists_through_the_index_as_the_database_would() {
    let app = demo_app().await;
    let listed: serde_json::Value = app
        .client
        .get(app.url("/api/v1/recommendations?status=published&per_page=20"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let total = listed["total"].as_u64().unwrap();
    let (status, html) = app.page("/").await;
    assert_eq!(status, StatusCode::OK);
    assert!(
        html.contains(&format!(
            "<strong>{total}</strong> published recommendations"
        )),
        "{html}"
    );
    let shown = links(&html, "/recommendations/").len();
    assert_eq!(shown, listed["items"].as_array().unwrap().len());
}

/// Issue #18, 6: `/organisations` lists every organisation A to Z, and
/// finds one by part of its name or its code.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn organisations_are_listed_a_to_z_and_found() {
    let app = demo_app().await;
    let (s, html) = app.page("/organisations").await;
    assert_eq!(s, StatusCode::OK);
    assert!(html.contains("<h1>Organisations</h1>"), "{html}");
    assert!(html.contains("href=\"#letter-H\""), "{html}");
    assert!(html.contains("href=\"/organisations/HSSIB\""), "{html}");
    assert!(html.contains("href=\"/organisations/NHSE\""), "{html}");
    let h = html.find("id=\"letter-H\"").unwrap();
    let n = html.find("id=\"letter-N\"").unwrap();
    assert!(h < n, "A to Z");
    let (_, found) = app
        .page("/organisations?q=health%20services%20safety")
        .await;
    assert!(found.contains("href=\"/organisations/HSSIB\""), "{found}");
    assert!(!found.contains("href=\"/organisations/NHSE\""), "{found}");
    assert!(found.contains("1 organisation match"), "{found}");
    let (_, by_code) = app.page("/organisations?q=nhse").await;
    assert!(
        by_code.contains("href=\"/organisations/NHSE\""),
        "{by_code}"
    );
    let (_, none) = app.page("/organisations?q=%3Cscript%3E").await;
    assert!(none.contains("0 organisations match"), "{none}");
    assert!(!none.contains("<script>"), "{none}");
    let (_, home) = app.page("/").await;
    assert!(home.contains("href=\"/organisations\""));
}

/// Issue #18, 10: the search box sent empty lists every published
/// recommendation, newest first, as its hint promises; the bare page asks
/// for nothing and lists nothing.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_empty_search_lists_everything_newest_first() {
    let app = demo_app().await;
    let total = app.api_total("").await;
    assert!(total > 0);
    let (s, html) = app.page("/search?q=").await;
    assert_eq!(s, StatusCode::OK);
    assert!(
        html.contains(&format!("{total} recommendations found")),
        "{total}: {html}"
    );
    assert!(html.contains("<strong>newest first</strong>"), "{html}");
    // The first result is the newest published (the demo's dates differ).
    let newest: serde_json::Value = app
        .client
        .get(app.url("/api/v1/search?sort=newest&per_page=1"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let first = newest["hits"][0]["id"].as_str().unwrap();
    let at = html.find("class=\"concord-hit\"").unwrap();
    assert!(
        html[at..].contains(&format!("href=\"/recommendations/{first}\"")),
        "{first}"
    );
    let first_link = html[at..].find("href=\"/recommendations/").unwrap();
    assert!(html[at + first_link..].starts_with(&format!("href=\"/recommendations/{first}\"")));
    let (_, bare) = app.page("/search").await;
    assert!(!bare.contains("recommendations found"), "{bare}");
    // Each result says who issued it, when and where it stands; the
    // filters name organisations; years run in order.
    assert!(
        html.contains("class=\"nhsuk-body-s concord-hit-about\""),
        "{html}"
    );
    assert!(html.contains("published <time datetime="), "{html}");
    assert!(
        html.contains("Health Services Safety Investigations Body (HSSIB)"),
        "{html}"
    );
    let years: Vec<u32> = html
        .split("from=")
        .skip(1)
        .filter_map(|rest| rest.get(..4)?.parse().ok())
        .collect();
    assert!(years.len() > 1, "{html}");
    assert!(years.windows(2).all(|w| w[0] >= w[1]), "{years:?}");
}

/// Issue #18, 11: a spreadsheet people can filter, one row per
/// recommendation and addressee, the answer in columns; files named by the
/// search and the day; the count beside the links.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_addressee_spreadsheet_has_a_row_per_addressee() {
    let app = demo_app().await;
    let total = app.api_total("q=sepsis").await;
    let records: Vec<serde_json::Value> = app
        .client
        .get(app.url("/search.json?q=sepsis"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let expected_rows: usize = records
        .iter()
        .map(|r| r["addressees"].as_array().map_or(0, Vec::len).max(1))
        .sum();
    let res = app
        .client
        .get(app.url("/search.addressees.csv?q=sepsis%20screening"))
        .send()
        .await
        .unwrap();
    let name = res.headers()["content-disposition"]
        .to_str()
        .unwrap()
        .to_string();
    assert!(
        name.contains("filename=\"concord-sepsis-screening-")
            && name.ends_with(".addressees.csv\""),
        "{name}"
    );
    let res = app
        .client
        .get(app.url("/search.addressees.csv?q=sepsis"))
        .send()
        .await
        .unwrap();
    assert!(
        res.headers()["content-type"]
            .to_str()
            .unwrap()
            .starts_with("text/csv")
    );
    let text = res.text().await.unwrap();
    let mut lines = text.split("\r\n").filter(|l| !l.is_empty());
    assert_eq!(
        lines.next().unwrap(),
        "id,title,issuer,published,status,addressee,addressee_code,addressee_status,response_due,acceptance,implementation,assessment"
    );
    // Titles hold no line breaks in the demo: one line per row.
    assert_eq!(lines.count(), expected_rows, "{text}");
    for r in &records {
        for a in r["addressees"].as_array().unwrap() {
            let name = a["name"].as_str().unwrap();
            assert!(text.contains(name), "{name}");
        }
    }
    let (_, page) = app.page("/search?q=sepsis").await;
    assert!(
        page.contains(&format!("Download these {total} results")),
        "{page}"
    );
    assert!(page.contains("/search.addressees.csv?q=sepsis"), "{page}");
    let all = app.client.get(app.url("/search.csv")).send().await.unwrap();
    let name = all.headers()["content-disposition"]
        .to_str()
        .unwrap()
        .to_string();
    assert!(name.contains("filename=\"concord-all-"), "{name}");
}
