//! Consumer tokens: each pull destination's own bearer tokens, which open that destination's
//! `/consume` routes and nothing else. Checked before anything else about a request, so that
//! without a valid token nothing is learnt, not even whether a destination exists.

use super::ConsumeState;
use super::error::ConsumeError;
use crate::admin::auth::{bearer_token, digest};
use actix_web::body::{EitherBody, MessageBody};
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::middleware::Next;
use actix_web::{HttpMessage, ResponseError, web};
use subtle::{Choice, ConstantTimeEq};

/// A destination's consumer tokens, kept as digests so that a comparison takes the same time
/// whatever a caller sends; every token is compared, so rotation lists leak nothing either.
pub struct ConsumerTokens {
    digests: Vec<[u8; 32]>,
}

impl ConsumerTokens {
    pub fn new(tokens: &[String]) -> ConsumerTokens {
        ConsumerTokens {
            digests: tokens
                .iter()
                .filter(|token| !token.is_empty())
                .map(|token| digest(token))
                .collect(),
        }
    }

    /// Whether `presented` is one of the tokens.
    pub fn accepts(&self, presented: &str) -> bool {
        let presented = digest(presented);
        let matched = self.digests.iter().fold(Choice::from(0), |matched, token| {
            matched | token.ct_eq(&presented)
        });
        matched.into()
    }
}

/// Middleware of the `/consume/{destination}` scope: lets a request through only with one of
/// that pull destination's consumer tokens, handing the destination to the handler. A token
/// of another pull destination learns that this one does not exist (`404`) or that it may not
/// have it (`401`); anything else is `401`.
pub async fn require_consumer_token(
    req: ServiceRequest,
    next: Next<impl MessageBody>,
) -> Result<ServiceResponse<EitherBody<impl MessageBody>>, actix_web::Error> {
    let verdict = match req.app_data::<web::Data<ConsumeState>>() {
        Some(state) => {
            let destination = req.match_info().get("destination").unwrap_or_default();
            state.authorize(destination, bearer_token(req.headers()))
        }
        None => Err(ConsumeError::Unauthorized),
    };
    match verdict {
        Ok(destination) => {
            req.extensions_mut().insert(destination);
            Ok(next.call(req).await?.map_into_left_body())
        }
        Err(err) => {
            let response = err.error_response();
            Ok(req.into_response(response).map_into_right_body())
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn any_listed_token_is_accepted_and_nothing_else() {
        let tokens = ConsumerTokens::new(&["current".into(), "previous".into(), String::new()]);
        assert!(tokens.accepts("current"));
        assert!(tokens.accepts("previous"));
        for wrong in ["", "curren", "currentt", "Current", "other"] {
            assert!(!tokens.accepts(wrong), "{wrong:?}");
        }
        assert!(!ConsumerTokens::new(&[]).accepts(""));
    }
}
