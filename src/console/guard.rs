//! The door of every console page: a signed, unexpired, not signed-out session cookie, else
//! the sign-in form; and the CSRF check of every state-changing request.

use super::error::ConsoleError;
use super::layout;
use super::session::Session;
use super::{Console, sign_in};
use crate::admin::AdminState;
use actix_web::cookie::{Cookie, SameSite, time::Duration as CookieDuration};
use actix_web::dev::Payload;
use actix_web::http::Method;
use actix_web::{FromRequest, HttpRequest, HttpResponse, web};
use futures_util::future::LocalBoxFuture;
use time::OffsetDateTime;

/// The session cookie.
pub const SESSION_COOKIE: &str = "hookgate_session";

impl FromRequest for Session {
    type Error = ConsoleError;
    type Future = LocalBoxFuture<'static, Result<Session, ConsoleError>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        let console = req.app_data::<web::Data<Console>>().cloned();
        let admin = req.app_data::<web::Data<AdminState>>().cloned();
        let cookie = req.cookie(SESSION_COOKIE);
        // After signing in, come back to the page asked for (a form post has no page to
        // come back to).
        let next = (req.method() == Method::GET).then(|| req.uri().to_string());
        Box::pin(async move {
            let refused = || ConsoleError::SignInRequired { next: next.clone() };
            let (Some(console), Some(admin), Some(cookie)) = (console, admin, cookie) else {
                return Err(refused());
            };
            let session = console
                .key
                .as_ref()
                .and_then(|key| key.verify(cookie.value(), OffsetDateTime::now_utc()))
                .ok_or_else(refused)?;
            if admin
                .store
                .console_session_signed_out(&session.nonce)
                .await?
            {
                return Err(refused());
            }
            Ok(session)
        })
    }
}

impl Session {
    /// Refuses a state-changing request whose `csrf` field is not this session's token.
    pub fn check_csrf(&self, presented: Option<&str>) -> Result<(), ConsoleError> {
        match presented {
            Some(token) if self.accepts_csrf(token) => Ok(()),
            _ => Err(ConsoleError::Csrf),
        }
    }
}

/// The answer to a request without a valid session: the sign-in form (which comes back to
/// `next`), and the end of any session cookie the browser still holds.
pub fn to_sign_in(next: &Option<String>) -> HttpResponse {
    let location = match next.as_deref().and_then(local_path) {
        Some(next) => {
            let query: String = url::form_urlencoded::Serializer::new(String::new())
                .append_pair("next", next)
                .finish();
            format!("{}?{query}", sign_in::PATH)
        }
        None => sign_in::PATH.to_owned(),
    };
    let mut response = layout::see_other(&location);
    let _ = response.add_removal_cookie(&session_cookie(String::new(), false));
    response
}

/// `path` when it is a path of this site (not `//host/…` or a URL elsewhere): where sign-in may
/// send the browser next.
pub fn local_path(path: &str) -> Option<&str> {
    let local = path.starts_with('/')
        && !path.starts_with("//")
        && !path.contains('\\')
        && !path.chars().any(char::is_control);
    local.then_some(path)
}

/// The session cookie holding `value`: only for this site's requests, never to scripts,
/// `Secure` when the console is reached over TLS (or configured to be).
pub fn session_cookie(value: String, secure: bool) -> Cookie<'static> {
    Cookie::build(SESSION_COOKIE, value)
        .path("/")
        .http_only(true)
        .same_site(SameSite::Strict)
        .secure(secure)
        .max_age(CookieDuration::seconds(
            super::SESSION_LIFETIME.whole_seconds(),
        ))
        .finish()
}

/// Whether cookies set in answer to `req` must be `Secure`.
pub fn secure_cookies(req: &HttpRequest, console: &Console) -> bool {
    console.secure_cookies || req.app_config().secure()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_paths_of_this_site_are_followed_after_sign_in() {
        assert_eq!(
            local_path("/events?source=stripe"),
            Some("/events?source=stripe")
        );
        for elsewhere in [
            "//evil.example/",
            "https://evil.example/",
            "/\\evil.example",
            "events",
            "/x\ny",
        ] {
            assert_eq!(local_path(elsewhere), None, "{elsewhere}");
        }
    }
}
