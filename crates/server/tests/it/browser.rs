//! A browser for the tests: keeps cookies by hand (no cookie jar in the
//! test client), follows no redirects, reads the CSRF field of pages.

use std::collections::BTreeMap;

use reqwest::{Client, RequestBuilder, Response, StatusCode};

use crate::common::TestApp;

#[derive(Clone)]
pub struct Browser {
    pub client: Client,
    pub cookies: BTreeMap<String, String>,
}

/// The value of the hidden `csrf` field of a page.
pub fn csrf_field(html: &str) -> Option<String> {
    let at = html.find("name=\"csrf\" value=\"")? + "name=\"csrf\" value=\"".len();
    let end = html[at..].find('"')?;
    Some(html[at..at + end].to_string())
}

impl Browser {
    pub fn new() -> Browser {
        Browser {
            client: Client::builder()
                .redirect(reqwest::redirect::Policy::none())
                .build()
                .unwrap(),
            cookies: BTreeMap::new(),
        }
    }

    /// Keeps what `Set-Cookie` headers say (max-age 0 removes).
    pub fn absorb(&mut self, res: &Response) {
        for v in res.headers().get_all("set-cookie") {
            let v = v.to_str().unwrap();
            let first = v.split(';').next().unwrap();
            let (k, val) = first.split_once('=').unwrap();
            if v.contains("Max-Age=0") {
                self.cookies.remove(k);
            } else {
                self.cookies.insert(k.to_string(), val.to_string());
            }
        }
    }

    pub fn cookie_header(&self) -> String {
        self.cookies
            .iter()
            .map(|(k, v)| format!("{k}={v}"))
            .collect::<Vec<_>>()
            .join("; ")
    }

    /// Adds the session cookie and the session's CSRF header (as the
    /// browser's own script would) to an API request.
    pub fn with_session(&self, rb: RequestBuilder) -> RequestBuilder {
        rb.header("cookie", self.cookie_header()).header(
            "x-csrf-token",
            self.cookies
                .get("csrf-for-tests")
                .cloned()
                .unwrap_or_default(),
        )
    }

    pub async fn get(&mut self, app: &TestApp, path: &str) -> (StatusCode, String) {
        let res = self
            .client
            .get(app.url(path))
            .header("cookie", self.cookie_header())
            .send()
            .await
            .unwrap();
        self.absorb(&res);
        let s = res.status();
        (s, res.text().await.unwrap())
    }

    /// Posts a form; `csrf` adds the hidden field.
    pub async fn post_form(
        &mut self,
        app: &TestApp,
        path: &str,
        fields: &[(&str, String)],
        csrf: Option<&str>,
    ) -> Response {
        let mut body = form_urlencoded::Serializer::new(String::new());
        for (k, v) in fields {
            body.append_pair(k, v);
        }
        if let Some(c) = csrf {
            body.append_pair("csrf", c);
        }
        let res = self
            .client
            .post(app.url(path))
            .header("cookie", self.cookie_header())
            .header("content-type", "application/x-www-form-urlencoded")
            .body(body.finish())
            .send()
            .await
            .unwrap();
        self.absorb(&res);
        res
    }

    /// The session's CSRF token, as the account page carries it.
    pub async fn csrf(&mut self, app: &TestApp) -> String {
        let (s, html) = self.get(app, "/account").await;
        assert_eq!(s, StatusCode::OK, "{html}");
        csrf_field(&html).expect("the account page has a csrf field")
    }

    /// Signs in through the form and keeps the session cookie.
    pub async fn sign_in(app: &TestApp, email: &str, password: &str) -> Browser {
        let mut b = Browser::new();
        let res = b.try_sign_in(app, email, password).await;
        assert_eq!(res.status(), StatusCode::SEE_OTHER, "sign in as {email}");
        let csrf = b.csrf(app).await;
        // Kept beside the cookies for `with_session` (never sent as a cookie
        // that matters: the server ignores unknown cookies).
        b.cookies.insert("csrf-for-tests".into(), csrf);
        b
    }

    /// Loads the form, then posts it with `X-Forwarded-For: forwarded`, as
    /// a reverse proxy would (or a client pretending to be one).
    #[allow(dead_code)] // not every test binary signs in through a proxy
    pub async fn try_sign_in_from(
        &mut self,
        app: &TestApp,
        email: &str,
        password: &str,
        forwarded: &str,
    ) -> Response {
        let (s, html) = self.get(app, "/sign-in").await;
        assert_eq!(s, StatusCode::OK);
        let form = &html[html.find("action=\"/sign-in\"").expect("the sign-in form")..];
        let csrf = csrf_field(form).expect("the sign-in form has a csrf field");
        let mut body = form_urlencoded::Serializer::new(String::new());
        body.append_pair("email", email);
        body.append_pair("password", password);
        body.append_pair("csrf", &csrf);
        let res = self
            .client
            .post(app.url("/sign-in"))
            .header("cookie", self.cookie_header())
            .header("x-forwarded-for", forwarded)
            .header("content-type", "application/x-www-form-urlencoded")
            .body(body.finish())
            .send()
            .await
            .unwrap();
        self.absorb(&res);
        res
    }

    /// Loads the form, then posts it.
    pub async fn try_sign_in(&mut self, app: &TestApp, email: &str, password: &str) -> Response {
        let (s, html) = self.get(app, "/sign-in").await;
        assert_eq!(s, StatusCode::OK);
        // The sign-in form's own field (a signed-in browser's header also
        // has one, in its sign-out form).
        let form = &html[html.find("action=\"/sign-in\"").expect("the sign-in form")..];
        let csrf = csrf_field(form).expect("the sign-in form has a csrf field");
        self.post_form(
            app,
            "/sign-in",
            &[
                ("email", email.to_string()),
                ("password", password.to_string()),
            ],
            Some(&csrf),
        )
        .await
    }
}
