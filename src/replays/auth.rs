//! The admin bearer-token check for the replay routes, in constant time.
//!
//! Interim: the admin API's shared auth will replace this.

use actix_web::HttpRequest;
use actix_web::http::header::AUTHORIZATION;
use subtle::ConstantTimeEq;

/// Whether `req` carries `Authorization: Bearer <token>`. With no token configured, nobody
/// is let in.
pub(super) fn is_authorized(req: &HttpRequest, token: Option<&str>) -> bool {
    let Some(expected) = token.filter(|t| !t.is_empty()) else {
        return false;
    };
    let presented = req
        .headers()
        .get(AUTHORIZATION)
        .and_then(|value| value.to_str().ok())
        .and_then(|value| value.strip_prefix("Bearer "))
        .unwrap_or("");
    presented.as_bytes().ct_eq(expected.as_bytes()).into()
}

#[cfg(test)]
mod tests {
    use super::*;
    use actix_web::test::TestRequest;

    fn with_header(value: &str) -> HttpRequest {
        TestRequest::default()
            .insert_header((AUTHORIZATION, value))
            .to_http_request()
    }

    #[test]
    fn only_the_exact_bearer_token_is_accepted() {
        assert!(is_authorized(&with_header("Bearer s3cret"), Some("s3cret")));
        for wrong in [
            "Bearer s3cre",
            "Bearer s3cret2",
            "s3cret",
            "Basic s3cret",
            "Bearer ",
        ] {
            assert!(
                !is_authorized(&with_header(wrong), Some("s3cret")),
                "{wrong}"
            );
        }
        assert!(!is_authorized(
            &TestRequest::default().to_http_request(),
            Some("s3cret")
        ));
    }

    #[test]
    fn without_a_configured_token_nobody_is_let_in() {
        assert!(!is_authorized(&with_header("Bearer "), None));
        assert!(!is_authorized(&with_header("Bearer "), Some("")));
    }
}
