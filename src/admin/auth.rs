//! The bearer token every admin route requires.

use super::AdminState;
use super::error::AdminError;
use actix_web::body::{EitherBody, MessageBody};
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::http::header::{AUTHORIZATION, HeaderMap};
use actix_web::middleware::Next;
use actix_web::{ResponseError, web};
use sha2::{Digest, Sha256};
use subtle::ConstantTimeEq;

/// The configured admin token, kept as a digest so comparisons take the same time whatever
/// the length or content of what a caller sends.
pub struct AdminToken {
    digest: Option<[u8; 32]>,
}

impl AdminToken {
    /// Accepts `token`; with none configured every request is refused.
    pub fn new(token: Option<&str>) -> AdminToken {
        AdminToken {
            digest: token.filter(|t| !t.is_empty()).map(digest),
        }
    }

    /// Whether the request carries `Authorization: Bearer <the token>`.
    fn accepts(&self, headers: &HeaderMap) -> bool {
        let Some(expected) = &self.digest else {
            return false;
        };
        let presented = bearer_token(headers).map(digest);
        presented.is_some_and(|presented| bool::from(presented.ct_eq(expected)))
    }
}

/// The token of an `Authorization: Bearer <token>` header; the scheme's name is
/// case-insensitive, as for every HTTP authentication scheme (RFC 9110 §11.1).
pub fn bearer_token(headers: &HeaderMap) -> Option<&str> {
    let value = headers.get(AUTHORIZATION)?.to_str().ok()?;
    let (scheme, token) = value.split_once(' ')?;
    scheme
        .eq_ignore_ascii_case("bearer")
        .then_some(token.trim())
}

/// The SHA-256 of a token: what token comparisons compare, in constant time.
pub(crate) fn digest(token: &str) -> [u8; 32] {
    Sha256::digest(token.as_bytes()).into()
}

/// Middleware: lets a request through only with the admin token, else answers 401.
pub async fn require_token(
    req: ServiceRequest,
    next: Next<impl MessageBody>,
) -> Result<ServiceResponse<EitherBody<impl MessageBody>>, actix_web::Error> {
    let authorized = req
        .app_data::<web::Data<AdminState>>()
        .is_some_and(|state| state.token.accepts(req.headers()));
    if !authorized {
        let response = AdminError::Unauthorized.error_response();
        return Ok(req.into_response(response).map_into_right_body());
    }
    Ok(next.call(req).await?.map_into_left_body())
}

#[cfg(test)]
mod tests {
    use super::*;
    use actix_web::http::header::HeaderValue;

    fn with_authorization(value: &str) -> HeaderMap {
        let mut headers = HeaderMap::new();
        headers.insert(AUTHORIZATION, HeaderValue::from_str(value).unwrap());
        headers
    }

    #[test]
    fn only_the_exact_bearer_token_is_accepted() {
        let token = AdminToken::new(Some("s3cret"));
        assert!(token.accepts(&with_authorization("Bearer s3cret")));
        assert!(token.accepts(&with_authorization("bearer s3cret")));
        assert!(token.accepts(&with_authorization("BEARER  s3cret")));
        assert!(!token.accepts(&with_authorization("Bearer s3cre")));
        assert!(!token.accepts(&with_authorization("Bearer s3crett")));
        assert!(!token.accepts(&with_authorization("Basic s3cret")));
        assert!(!token.accepts(&with_authorization("s3cret")));
        assert!(!token.accepts(&HeaderMap::new()));
    }

    #[test]
    fn without_a_configured_token_nothing_is_accepted() {
        for configured in [None, Some("")] {
            let token = AdminToken::new(configured);
            assert!(!token.accepts(&with_authorization("Bearer ")));
            assert!(!token.accepts(&with_authorization("Bearer x")));
        }
    }
}
