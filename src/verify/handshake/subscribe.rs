//! Unsigned subscription checks that echo a value from the query: Meta's `hub.challenge` (after
//! comparing `hub.verify_token` with the source's `verify_token`), Dropbox's `challenge` and
//! Microsoft Graph's `validationToken`.

use subtle::ConstantTimeEq;

use super::{Answer, Handshake, Refused, query_param, url_query};
use crate::verify::{Rejection, Request, SecretKey, SourceOptions};

/// Meta (Facebook, WhatsApp, Instagram): `GET ?hub.mode=subscribe&hub.verify_token=…&
/// hub.challenge=…`, answered with the challenge when the token matches the source's
/// `verify_token` (compared in constant time).
#[derive(Debug)]
pub(super) struct MetaSubscribe;

const SUBSCRIBE: &str = "subscribe";

impl Handshake for MetaSubscribe {
    fn get(
        &self,
        query: &str,
        options: &SourceOptions,
        _keys: &[SecretKey],
    ) -> Option<Result<Answer, Refused>> {
        let refused = |rejection| {
            Some(Err(Refused {
                kind: SUBSCRIBE,
                rejection,
            }))
        };
        let param = |name| query_param(query, name);
        if param("hub.mode").as_deref() != Some(SUBSCRIBE) {
            return refused(Rejection::MalformedSignature);
        }
        let (Some(sent), Some(challenge)) = (param("hub.verify_token"), param("hub.challenge"))
        else {
            return refused(Rejection::MissingSignature);
        };
        let expected = options.verify_token.as_deref().unwrap_or_default();
        if expected.is_empty() || !bool::from(sent.as_bytes().ct_eq(expected.as_bytes())) {
            return refused(Rejection::TokenMismatch);
        }
        Some(Ok(Answer::text(SUBSCRIBE, challenge)))
    }

    fn option_keys(&self) -> &'static [&'static str] {
        &["verify_token"]
    }
}

/// Dropbox: `GET ?challenge=…`, echoed as text with `X-Content-Type-Options: nosniff`, as its
/// documentation asks (so a browser cannot be made to render the echoed value).
#[derive(Debug)]
pub(super) struct DropboxChallenge;

impl Handshake for DropboxChallenge {
    fn get(
        &self,
        query: &str,
        _options: &SourceOptions,
        _keys: &[SecretKey],
    ) -> Option<Result<Answer, Refused>> {
        let Some(challenge) = query_param(query, "challenge") else {
            return Some(Err(Refused {
                kind: "challenge",
                rejection: Rejection::MissingSignature,
            }));
        };
        let mut answer = Answer::text("challenge", challenge);
        answer.headers.push(("X-Content-Type-Options", "nosniff"));
        Some(Ok(answer))
    }
}

/// Microsoft Graph: a subscription is validated by a `POST ?validationToken=…`, answered within
/// ten seconds with the decoded token as plain text. Graph does not sign it; notifications
/// prove themselves with `clientState`.
#[derive(Debug)]
pub(super) struct GraphValidation;

impl Handshake for GraphValidation {
    fn unsigned(&self, req: &Request<'_>) -> Option<Answer> {
        let token = query_param(url_query(req.url), "validationToken")?;
        Some(Answer::text("validationToken", token))
    }
}
