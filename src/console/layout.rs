//! The frame every console page shares (head, navigation, sign-out) and the small pieces the
//! pages reuse: times, state badges, messages, and the headers of an HTML answer.

use super::assets;
use super::session::Session;
use actix_web::HttpResponse;
use actix_web::http::StatusCode;
use actix_web::http::header::{self, HeaderValue};
use maud::{DOCTYPE, Markup, html};
use time::OffsetDateTime;
use time::macros::format_description;

/// The pages in the navigation, in order: (path, label).
const NAVIGATION: &[(&str, &str)] = &[
    (super::overview::PATH, "Overview"),
    (super::events::PATH, "Events"),
    (super::dead_letters::PATH, "Dead letters"),
    (super::replay_jobs::PATH, "Replay jobs"),
    (super::sources::PATH, "Sources"),
    (super::destinations::PATH, "Destinations"),
];

/// Scripts and styles only from the console itself, no framing, forms only to it: what is
/// rendered from a webhook (headers, payloads) can never run as code.
const CONTENT_SECURITY_POLICY: &str = "default-src 'none'; script-src 'self'; \
     style-src 'self'; img-src 'self' data:; connect-src 'self'; form-action 'self'; \
     frame-ancestors 'none'; base-uri 'none'";

/// A whole page: `title`, the navigation (`current` marked), the sign-out button when signed
/// in, and `body`.
pub fn page(title: &str, session: Option<&Session>, body: Markup) -> Markup {
    page_in(title, session, None, body)
}

/// [`page`] with the navigation entry `current` marked as the current page.
pub fn page_in(
    title: &str,
    session: Option<&Session>,
    current: Option<&str>,
    body: Markup,
) -> Markup {
    html! {
        (DOCTYPE)
        html lang="en" {
            head {
                meta charset="utf-8";
                meta name="viewport" content="width=device-width, initial-scale=1";
                title { (title) " · hookgate" }
                link rel="stylesheet" href=(assets::STYLESHEET);
                script type="module" src=(assets::SCRIPT) {}
            }
            body {
                a.skip href="#main" { "Skip to content" }
                header.top {
                    a.brand href="/" { "hookgate" }
                    @if session.is_some() {
                        nav aria-label="Console" {
                            @for (path, label) in NAVIGATION {
                                @if current == Some(*path) {
                                    a href=(path) aria-current="page" { (label) }
                                } @else {
                                    a href=(path) { (label) }
                                }
                            }
                        }
                    }
                    @if let Some(session) = session {
                        form.sign-out method="post" action=(super::sign_in::SIGN_OUT_PATH) {
                            (csrf_field(session))
                            button type="submit" { "Sign out" }
                        }
                    }
                }
                main #main { (body) }
            }
        }
    }
}

/// The hidden field that carries the session's CSRF token in a form.
pub fn csrf_field(session: &Session) -> Markup {
    html! { input type="hidden" name="csrf" value=(session.csrf); }
}

/// An HTML answer with `status` and the headers every console page gets: never cached (it
/// shows live data behind a session), never sniffed, never framed.
pub fn respond(status: StatusCode, markup: Markup) -> HttpResponse {
    let mut response = HttpResponse::build(status)
        .content_type("text/html; charset=utf-8")
        .body(markup.into_string());
    protect(&mut response);
    response
}

/// Adds the console's security headers to `response`.
pub fn protect(response: &mut HttpResponse) {
    let headers = response.headers_mut();
    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    headers.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    headers.insert(
        header::REFERRER_POLICY,
        HeaderValue::from_static("same-origin"),
    );
    headers.insert(
        header::CONTENT_SECURITY_POLICY,
        HeaderValue::from_static(CONTENT_SECURITY_POLICY),
    );
}

/// `303 See Other` to `location` (after a form, and to sign in).
pub fn see_other(location: &str) -> HttpResponse {
    HttpResponse::SeeOther()
        .insert_header((header::LOCATION, location))
        .finish()
}

/// A point in time: UTC on the server; the page's script shows it in the browser's time zone
/// and keeps the UTC time as the hover title.
pub fn time(at: OffsetDateTime) -> Markup {
    let rfc3339 = at
        .format(&time::format_description::well_known::Rfc3339)
        .unwrap_or_default();
    let utc = at
        .format(format_description!(
            "[year]-[month]-[day] [hour]:[minute]:[second] UTC"
        ))
        .unwrap_or_default();
    html! { time datetime=(rfc3339) title=(utc) { (utc) } }
}

/// A delivery state as a coloured label (`in_flight` reads "in flight").
pub fn state_badge(state: &str) -> Markup {
    html! { span class={ "badge state-" (state) } { (state.replace('_', " ")) } }
}

/// A byte count for people.
pub fn size(bytes: i64) -> String {
    match bytes {
        ..1024 => format!("{bytes} B"),
        1024..1_048_576 => format!("{:.1} KiB", bytes as f64 / 1024.0),
        _ => format!("{:.1} MiB", bytes as f64 / 1_048_576.0),
    }
}

/// What kind of message a [`message`] is.
#[derive(Debug, Clone, Copy)]
pub enum Tone {
    Info,
    Success,
    Error,
}

/// A message box; errors are announced to screen readers at once.
pub fn message(tone: Tone, text: &str) -> Markup {
    match tone {
        Tone::Error => html! { p.message.error role="alert" { (text) } },
        Tone::Success => html! { p.message.success role="status" { (text) } },
        Tone::Info => html! { p.message.info { (text) } },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sizes_read_in_the_largest_fitting_unit() {
        assert_eq!(size(90), "90 B");
        assert_eq!(size(2048), "2.0 KiB");
        assert_eq!(size(3 * 1_048_576), "3.0 MiB");
    }

    #[test]
    fn a_time_carries_its_instant_and_utc_text() {
        let at = OffsetDateTime::from_unix_timestamp(1_750_000_000).unwrap();
        assert_eq!(
            time(at).into_string(),
            r#"<time datetime="2025-06-15T15:06:40Z" title="2025-06-15 15:06:40 UTC">2025-06-15 15:06:40 UTC</time>"#
        );
    }
}
