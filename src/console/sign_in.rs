//! `GET|POST /sign-in` and `POST /sign-out`: the admin token in, a session cookie out.

use super::error::ConsoleError;
use super::form::Form;
use super::guard::{local_path, secure_cookies, session_cookie};
use super::layout::{self, Tone};
use super::session::{Session, SessionKey};
use super::{Console, overview};
use crate::admin::AdminState;
use actix_web::cookie::{Cookie, SameSite, time::Duration as CookieDuration};
use actix_web::http::StatusCode;
use actix_web::{HttpRequest, HttpResponse, web};
use maud::html;
use serde::Deserialize;
use std::time::Duration;
use time::OffsetDateTime;

pub const PATH: &str = "/sign-in";
pub const SIGN_OUT_PATH: &str = "/sign-out";

/// The cookie that pairs a sign-in form with the browser it was sent to (double submit).
const FORM_COOKIE: &str = "hookgate_sign_in";
/// How long a sign-in form stays usable.
const FORM_LIFETIME: CookieDuration = CookieDuration::hours(1);
/// How long a wrong token waits for its answer: guessing costs a second a try.
const WRONG_TOKEN_DELAY: Duration = Duration::from_secs(1);

/// The query of `GET /sign-in`.
#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct SignInQuery {
    /// The page to go to once signed in.
    next: Option<String>,
    /// Set after signing out, to say so.
    signed_out: Option<String>,
}

/// The sign-in form.
pub async fn form(
    req: HttpRequest,
    console: web::Data<Console>,
    query: web::Query<SignInQuery>,
) -> HttpResponse {
    let query = query.into_inner();
    let notice = query
        .signed_out
        .is_some()
        .then_some((Tone::Success, "You signed out."));
    render(
        &req,
        &console,
        query.next.as_deref(),
        notice,
        StatusCode::OK,
    )
}

/// Checks the token; right: a session and on to the page asked for; wrong: the form again
/// with a message, a second later.
pub async fn submit(req: HttpRequest, console: web::Data<Console>, form: Form) -> HttpResponse {
    let next = form.get("next").and_then(local_path).map(str::to_owned);
    let Some(key) = &console.key else {
        return render(&req, &console, next.as_deref(), None, StatusCode::FORBIDDEN);
    };
    let form_nonce = req.cookie(FORM_COOKIE);
    let form_genuine = form_nonce.is_some_and(|nonce| {
        key.accepts_sign_in_form(nonce.value(), form.get("csrf").unwrap_or_default())
    });
    if !form_genuine {
        let notice = (
            Tone::Error,
            "This sign-in form expired or did not come from this console; try again.",
        );
        return render(
            &req,
            &console,
            next.as_deref(),
            Some(notice),
            StatusCode::FORBIDDEN,
        );
    }
    if !key.is_of_token(form.get("token").unwrap_or_default().trim()) {
        tokio::time::sleep(WRONG_TOKEN_DELAY).await;
        let notice = (Tone::Error, "That is not the admin token.");
        return render(
            &req,
            &console,
            next.as_deref(),
            Some(notice),
            StatusCode::UNAUTHORIZED,
        );
    }
    let (cookie, _) = key.issue(OffsetDateTime::now_utc());
    let mut response = layout::see_other(next.as_deref().unwrap_or(overview::PATH));
    let secure = secure_cookies(&req, &console);
    let _ = response.add_cookie(&session_cookie(cookie, secure));
    let _ = response.add_removal_cookie(&form_cookie(String::new(), secure));
    tracing::info!("console: signed in");
    response
}

/// Ends the session: this cookie, and any copy of it, is refused from now on.
pub async fn sign_out(
    req: HttpRequest,
    console: web::Data<Console>,
    admin: web::Data<AdminState>,
    session: Session,
    form: Form,
) -> Result<HttpResponse, ConsoleError> {
    session.check_csrf(form.get("csrf"))?;
    admin
        .store
        .sign_out_console_session(&session.nonce, session.expires_at)
        .await?;
    let mut response = layout::see_other(&format!("{PATH}?signed_out=1"));
    let secure = secure_cookies(&req, &console);
    let _ = response.add_removal_cookie(&session_cookie(String::new(), secure));
    tracing::info!("console: signed out");
    Ok(response)
}

/// The form, with a fresh form cookie and token, `notice` above it, answered with `status`.
fn render(
    req: &HttpRequest,
    console: &Console,
    next: Option<&str>,
    notice: Option<(Tone, &str)>,
    status: StatusCode,
) -> HttpResponse {
    let form_token = console.key.as_ref().map(SessionKey::sign_in_form);
    let body = html! {
        div.sign-in {
            h1 { "Sign in to hookgate" }
            @if let Some((tone, text)) = notice {
                (layout::message(tone, text))
            }
            @match &form_token {
                None => {
                    (layout::message(Tone::Error, "No admin token is configured ([admin] token, \
                        or HOOKGATE_ADMIN_TOKEN): the console and the admin API stay closed \
                        until one is."))
                }
                Some((_, token)) => {
                    form method="post" action=(PATH) {
                        input type="hidden" name="csrf" value=(token);
                        @if let Some(next) = next.and_then(local_path) {
                            input type="hidden" name="next" value=(next);
                        }
                        label for="token" { "Admin token" }
                        input #token type="password" name="token" required autofocus
                            autocomplete="current-password";
                        p.hint { "The " code { "[admin] token" } " of hookgate's configuration, \
                            the same one the admin API takes as a bearer token." }
                        button type="submit" { "Sign in" }
                    }
                }
            }
        }
    };
    let mut response = layout::respond(status, layout::page("Sign in", None, body));
    if let Some((nonce, _)) = form_token {
        let _ = response.add_cookie(&form_cookie(nonce, secure_cookies(req, console)));
    }
    response
}

fn form_cookie(nonce: String, secure: bool) -> Cookie<'static> {
    Cookie::build(FORM_COOKIE, nonce)
        .path(PATH)
        .http_only(true)
        .same_site(SameSite::Strict)
        .secure(secure)
        .max_age(FORM_LIFETIME)
        .finish()
}
