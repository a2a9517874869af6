//! The console's door over plain HTTP: no page without a session, sessions only from the
//! admin token (checked against an independent implementation of the cookie format), no
//! state change without the session's CSRF token, sign-out ends every copy of a cookie, and
//! no rendered page ever shows a secret.

use crate::helpers::*;
use crate::independent_sign as sign;
use crate::sink::Sink;
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use hmac::{Hmac, Mac};
use sha2::Sha256;
use std::time::Duration;

/// A client that shows redirects instead of following them, and keeps no cookies.
fn console_client() -> reqwest::Client {
    hookgate::tls::install_default_provider();
    reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap()
}

/// A session cookie minted without hookgate's code, from the format documented in
/// `src/console/session.rs`: `<expiry>.<nonce>.<HMAC(HMAC(token, "hookgate console session"),
/// "session.<expiry>.<nonce>")>`.
fn minted_cookie(token: &str, expiry: i64) -> String {
    let hmac = |key: &[u8], message: &[u8]| {
        let mut mac = Hmac::<Sha256>::new_from_slice(key).unwrap();
        mac.update(message);
        mac.finalize().into_bytes()
    };
    let key = hmac(token.as_bytes(), b"hookgate console session");
    let nonce = URL_SAFE_NO_PAD.encode(uuid::Uuid::now_v7().as_bytes());
    let mac = hmac(&key, format!("session.{expiry}.{nonce}").as_bytes());
    format!("{expiry}.{nonce}.{}", URL_SAFE_NO_PAD.encode(mac))
}

/// A console visitor: the admin listener's address and the session cookie, once signed in.
struct Visitor {
    admin: String,
    http: reqwest::Client,
    session: Option<String>,
}

impl Visitor {
    fn new(app: &TestApp) -> Visitor {
        Visitor {
            admin: app.admin.clone(),
            http: console_client(),
            session: None,
        }
    }

    fn with_session(app: &TestApp, session: String) -> Visitor {
        Visitor {
            session: Some(session),
            ..Visitor::new(app)
        }
    }

    async fn get(&self, path: &str) -> reqwest::Response {
        let mut request = self.http.get(format!("{}{path}", self.admin));
        if let Some(session) = &self.session {
            request = request.header("cookie", format!("hookgate_session={session}"));
        }
        request.send().await.unwrap()
    }

    async fn post(&self, path: &str, form: &[(&str, &str)]) -> reqwest::Response {
        let mut request = self
            .http
            .post(format!("{}{path}", self.admin))
            .header("content-type", "application/x-www-form-urlencoded")
            .body(form_body(form));
        if let Some(session) = &self.session {
            request = request.header("cookie", format!("hookgate_session={session}"));
        }
        request.send().await.unwrap()
    }

    /// Signs in with `token` through the form; the session cookie's `Set-Cookie` line when
    /// it worked, else the refusal.
    async fn sign_in(&mut self, token: &str) -> Result<String, reqwest::Response> {
        let form = self.get("/sign-in").await;
        assert_eq!(form.status(), 200);
        let form_cookie = set_cookie(&form, "hookgate_sign_in").expect("the form sets its cookie");
        let csrf = csrf_of(&form.text().await.unwrap());
        let answer = self
            .http
            .post(format!("{}/sign-in", self.admin))
            .header(
                "cookie",
                format!("hookgate_sign_in={}", cookie_value(&form_cookie)),
            )
            .header("content-type", "application/x-www-form-urlencoded")
            .body(form_body(&[
                ("csrf", csrf.as_str()),
                ("token", token),
                ("next", "/events?source=stripe"),
            ]))
            .send()
            .await
            .unwrap();
        match set_cookie(&answer, "hookgate_session") {
            Some(line) if answer.status() == 303 => {
                assert_eq!(location(&answer), "/events?source=stripe");
                self.session = Some(cookie_value(&line).to_owned());
                Ok(line)
            }
            _ => Err(answer),
        }
    }

    /// The CSRF token of the forms on page `path`.
    async fn csrf(&self, path: &str) -> String {
        let page = self.get(path).await;
        assert_eq!(page.status(), 200, "{path}");
        csrf_of(&page.text().await.unwrap())
    }
}

/// An urlencoded form body, as a browser sends it.
fn form_body(fields: &[(&str, &str)]) -> String {
    url::form_urlencoded::Serializer::new(String::new())
        .extend_pairs(fields)
        .finish()
}

fn set_cookie(response: &reqwest::Response, name: &str) -> Option<String> {
    response
        .headers()
        .get_all("set-cookie")
        .iter()
        .map(|value| value.to_str().unwrap().to_owned())
        .find(|line| line.starts_with(&format!("{name}=")))
}

fn cookie_value(line: &str) -> &str {
    let pair = line.split(';').next().unwrap();
    &pair[pair.find('=').unwrap() + 1..]
}

fn csrf_of(html: &str) -> String {
    let pattern = regex::Regex::new(r#"name="csrf" value="([^"]+)""#).unwrap();
    pattern.captures(html).expect("a form with a CSRF token")[1].to_owned()
}

fn location(response: &reqwest::Response) -> &str {
    response.headers()["location"].to_str().unwrap()
}

/// Posts a signed Stripe event; its hookgate id.
async fn post_stripe(app: &TestApp) -> String {
    let body = unique_body();
    let mut headers = sign::stripe(secrets::STRIPE, body.as_bytes(), now());
    headers.push((
        "Authorization".into(),
        "Bearer caller-credential-xyz".into(),
    ));
    let response = app.post("stripe", &headers, body).await;
    assert_eq!(response.status(), 202);
    json(response).await["id"].as_str().unwrap().to_owned()
}

async fn deliveries_of(app: &TestApp, event: &str) -> i64 {
    app.count(&format!(
        "SELECT count(*) FROM deliveries WHERE event_id = '{event}'"
    ))
    .await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn without_a_session_every_page_leads_to_sign_in_and_nothing_changes() {
    let app = spawn_app().await;
    let event = post_stripe(&app).await;
    let visitor = Visitor::new(&app);
    let pages = [
        "/events".to_owned(),
        "/events?source=stripe&status=dead".to_owned(),
        format!("/events/{event}"),
        format!("/events/{event}/payload"),
        "/".to_owned(),
        "/dead-letters?destination=billing&since=1h".to_owned(),
        "/sources".to_owned(),
        "/destinations".to_owned(),
        "/replays".to_owned(),
        format!("/replays/{event}"),
    ];
    for page in &pages {
        let answer = visitor.get(page).await;
        assert_eq!(answer.status(), 303, "{page}");
        let expected: String = url::form_urlencoded::Serializer::new(String::new())
            .append_pair("next", page)
            .finish();
        assert_eq!(location(&answer), format!("/sign-in?{expected}"), "{page}");
    }
    for action in [
        format!("/events/{event}/replay"),
        "/sign-out".to_owned(),
        "/dead-letters/redrive".to_owned(),
    ] {
        let answer = visitor.post(&action, &[("csrf", "whatever")]).await;
        assert_eq!(answer.status(), 303, "{action}");
        assert_eq!(location(&answer), "/sign-in", "{action}");
    }
    assert_eq!(
        deliveries_of(&app, &event).await,
        2,
        "no replay without a session"
    );
    assert_eq!(app.count("SELECT count(*) FROM replays").await, 0);
    // The API is unchanged: the bearer token, not a cookie.
    assert_eq!(
        app.admin_get(&format!("/admin/events/{event}"))
            .await
            .status(),
        200
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_session_comes_only_from_the_admin_token_and_ends_at_sign_out() {
    let app = spawn_app().await;
    let event = post_stripe(&app).await;
    let mut visitor = Visitor::new(&app);

    let started = std::time::Instant::now();
    let refused = visitor.sign_in("not-the-token").await.unwrap_err();
    assert_eq!(refused.status(), 401);
    assert!(
        started.elapsed() >= Duration::from_secs(1),
        "a wrong token waits"
    );
    assert!(
        refused
            .text()
            .await
            .unwrap()
            .contains("That is not the admin token.")
    );

    // A sign-in form post without its form cookie and token is refused, right token or not.
    let forged = visitor.post("/sign-in", &[("token", ADMIN_TOKEN)]).await;
    assert_eq!(forged.status(), 403);
    assert!(set_cookie(&forged, "hookgate_session").is_none());

    let line = visitor
        .sign_in(ADMIN_TOKEN)
        .await
        .expect("the admin token signs in");
    for attribute in ["HttpOnly", "SameSite=Strict", "Path=/", "Max-Age=43200"] {
        assert!(line.contains(attribute), "{attribute} missing: {line}");
    }
    assert!(
        !line.contains("Secure"),
        "plain HTTP and not configured: {line}"
    );
    let page = visitor.get("/events").await;
    assert_eq!(page.status(), 200);
    assert!(
        page.text().await.unwrap().contains(&event),
        "the event is listed"
    );

    // Errors are pages that say what went wrong, and a provider's id finds its event.
    let unreadable = visitor.get("/events?since=yesterday&status=lost").await;
    assert_eq!(unreadable.status(), 400);
    let text = unreadable.text().await.unwrap();
    assert!(
        text.contains(r#"since: &quot;yesterday&quot; is not a time"#),
        "{text}"
    );
    assert!(
        text.contains(r#"status: &quot;lost&quot; is not pending"#),
        "{text}"
    );
    assert!(
        text.contains(r#"value="yesterday""#),
        "the form keeps what was typed"
    );
    let unknown = visitor
        .get("/events/00000000-0000-0000-0000-000000000000")
        .await;
    assert_eq!(unknown.status(), 404);
    assert!(unknown.text().await.unwrap().contains("No such event"));
    let by_provider_id = visitor.get("/events/evt_1%20x").await;
    assert_eq!(by_provider_id.status(), 303);
    assert_eq!(
        location(&by_provider_id),
        "/events?provider_event_id=evt_1+x"
    );
    let visited = visitor.get("/sign-out").await;
    assert_eq!(visited.status(), 405);
    assert!(visited.text().await.unwrap().contains("takes a form"));

    // Cookies minted independently: the format is what the docs say (accepted), and one that
    // expired or was signed for another token is refused.
    let future = now() + 3600;
    let independent = Visitor::with_session(&app, minted_cookie(ADMIN_TOKEN, future));
    assert_eq!(independent.get("/events").await.status(), 200);
    for cookie in [
        minted_cookie(ADMIN_TOKEN, now() - 1),
        minted_cookie("another-admin-token", future),
        format!("{}x", minted_cookie(ADMIN_TOKEN, future)),
    ] {
        let answer = Visitor::with_session(&app, cookie.clone())
            .get("/events")
            .await;
        assert_eq!(answer.status(), 303, "{cookie}");
        assert!(location(&answer).starts_with("/sign-in?next="));
    }

    // A replay needs this session's CSRF token: none, or another session's, is refused.
    let replay = format!("/events/{event}/replay");
    let other_csrf = independent.csrf("/events").await;
    for form in [
        vec![],
        vec![("csrf", other_csrf.as_str())],
        vec![("csrf", "")],
    ] {
        let answer = visitor.post(&replay, &form).await;
        assert_eq!(answer.status(), 403, "{form:?}");
        assert!(answer.text().await.unwrap().contains("Form refused"));
    }
    assert_eq!(deliveries_of(&app, &event).await, 2);
    let csrf = visitor.csrf(&format!("/events/{event}")).await;
    let answer = visitor
        .post(&replay, &[("csrf", &csrf), ("destination", "ledger")])
        .await;
    assert_eq!(answer.status(), 303);
    assert_eq!(location(&answer), format!("/events/{event}"));
    assert_eq!(deliveries_of(&app, &event).await, 3, "one more, to ledger");

    // So does a redrive of dead letters.
    let filter = r#"{"status":"dead"}"#;
    for form in [
        vec![("filter", filter)],
        vec![("filter", filter), ("csrf", other_csrf.as_str())],
    ] {
        let answer = visitor.post("/dead-letters/redrive", &form).await;
        assert_eq!(answer.status(), 403, "{form:?}");
    }
    assert_eq!(app.count("SELECT count(*) FROM replays").await, 0);
    let answer = visitor
        .post(
            "/dead-letters/redrive",
            &[("csrf", &csrf), ("filter", filter)],
        )
        .await;
    assert_eq!(answer.status(), 303);
    assert!(
        location(&answer).starts_with("/replays/"),
        "{}",
        location(&answer)
    );
    assert_eq!(
        app.count("SELECT count(*) FROM replays WHERE requested_by = 'console'")
            .await,
        1
    );
    let job = visitor.get(location(&answer)).await;
    assert_eq!(job.status(), 200);
    assert!(job.text().await.unwrap().contains("Nothing to replay"));

    // Unknown addresses and methods: pages that say so, inside the console; the API keeps
    // its JSON.
    let missing = visitor.get("/no-such-page").await;
    assert_eq!(missing.status(), 404);
    assert!(
        missing.headers()["content-type"]
            .to_str()
            .unwrap()
            .starts_with("text/html")
    );
    assert!(
        missing.text().await.unwrap().contains("Sign out"),
        "inside the layout"
    );
    assert_eq!(visitor.get("/replays/not-a-job").await.status(), 404);
    let api_missing = app.admin_get("/admin/no-such-route").await;
    assert_eq!(api_missing.status(), 404);
    assert!(
        api_missing.headers()["content-type"]
            .to_str()
            .unwrap()
            .contains("json")
    );
    let head = visitor
        .http
        .head(format!("{}/dead-letters", visitor.admin))
        .send()
        .await
        .unwrap();
    assert_eq!(head.status(), 405);
    let put = visitor
        .http
        .put(format!("{}/replays", visitor.admin))
        .send()
        .await
        .unwrap();
    assert_eq!(put.status(), 405);
    assert!(put.text().await.unwrap().contains("PUT is"));

    // Sign-out needs the token too, then ends this cookie wherever it was copied.
    assert_eq!(visitor.post("/sign-out", &[]).await.status(), 403);
    let out = visitor.post("/sign-out", &[("csrf", &csrf)]).await;
    assert_eq!(out.status(), 303);
    assert_eq!(location(&out), "/sign-in?signed_out=1");
    let removal = set_cookie(&out, "hookgate_session").expect("the cookie is removed");
    assert!(removal.contains("Max-Age=0"), "{removal}");
    let after = visitor.get("/events").await;
    assert_eq!(after.status(), 303, "the signed-out cookie is refused");
    assert!(location(&after).starts_with("/sign-in?next="));
    assert_eq!(
        independent.get("/events").await.status(),
        200,
        "other sessions go on"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn session_cookies_are_secure_when_configured() {
    let app = spawn_app().await;
    // The test config's [admin] table is fixed; a second app with the setting set shows it.
    let text = config_text(&app.database_url, &Dest::default(), &Dest::default(), "").replace(
        "token = \"test-admin-token\"",
        "token = \"test-admin-token\"\nsecure_cookies = true",
    );
    let secure = start(&text, app.database.clone(), hookgate::app::Role::Ingest).await;
    let line = Visitor::new(&secure).sign_in(ADMIN_TOKEN).await.unwrap();
    assert!(line.contains("Secure"), "{line}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn no_console_page_shows_a_secret() {
    const SIGNING_SECRET: &str = "whsec_c29uc29sZS1zaWduaW5nLXNlY3JldA==";
    let sink = Sink::ok();
    // Credentials in the destination's URL, which the destinations page must leave out.
    let url = format!(
        "{}?token=dest-url-token",
        sink.url
            .replace("http://", "http://hookuser:dest-url-password@")
    );
    let billing = Dest::at(&url, &format!("signing_secret = \"{SIGNING_SECRET}\""));
    let app = spawn_app_with(TestOptions {
        billing,
        ..TestOptions::default()
    })
    .await;
    let event = post_stripe(&app).await;
    app.wait_count(
        "SELECT count(*) FROM deliveries WHERE state = 'delivered'",
        1,
        Duration::from_secs(15),
    )
    .await;
    let mut visitor = Visitor::new(&app);
    let mut pages = vec![visitor.get("/sign-in").await.text().await.unwrap()];
    // A guess that holds a source's secret: the refusal must not echo what was typed.
    let refused = visitor
        .sign_in("whsec_test_stripe_secret-guess")
        .await
        .unwrap_err();
    pages.push(refused.text().await.unwrap());
    visitor.sign_in(ADMIN_TOKEN).await.unwrap();
    for path in [
        "/events".to_owned(),
        "/events?provider_event_id=nope".to_owned(),
        format!("/events/{event}"),
        format!("/events/{event}/payload"),
        "/events/00000000-0000-0000-0000-000000000000".to_owned(),
        "/".to_owned(),
        "/dead-letters".to_owned(),
        "/replays".to_owned(),
        "/sources".to_owned(),
        "/destinations".to_owned(),
        "/no-such-page".to_owned(),
    ] {
        pages.push(visitor.get(&path).await.text().await.unwrap());
    }
    let detail = &pages[4];
    assert!(detail.contains("stripe-signature"), "headers are shown");
    assert!(detail.contains("HTTP 200"), "attempts are shown");
    assert!(
        pages.iter().any(|page| page.contains("/hook</dd>")),
        "the destination's URL is shown, without its credentials"
    );
    for secret in secrets::ALL.into_iter().chain([
        SIGNING_SECRET,
        ADMIN_TOKEN,
        "caller-credential-xyz",
        "dest-url-password",
        "dest-url-token",
    ]) {
        for page in &pages {
            assert!(!page.contains(secret), "{secret:?} on a page: {page}");
        }
    }
}
