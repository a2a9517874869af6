//! Notion's subscription check: its first request is unsigned and carries the
//! `verification_token` that becomes the source's secret. hookgate answers it `200`, even before
//! the source has a secret, and shows the token to the operator in `GET /admin/handshakes`; it
//! never adopts the token itself (anyone can post such a request).

use super::{Answer, Handshake, json_with_marker};
use crate::verify::Request;

#[derive(Debug)]
pub(super) struct NotionVerification;

/// Present on every request Notion signs; the verification request has none.
const SIGNATURE_HEADER: &str = "X-Notion-Signature";

impl Handshake for NotionVerification {
    fn unsigned(&self, req: &Request<'_>) -> Option<Answer> {
        if req.headers.header(SIGNATURE_HEADER).is_some() {
            return None;
        }
        let body = json_with_marker(req.body, b"verification_token")?;
        let token = body.get("verification_token")?.as_str()?;
        let mut answer = Answer::new("verification_token", 200);
        answer.record.action = Some(format!(
            "configure this verification_token as the source's secret, if you started this \
             subscription in Notion: {token}"
        ));
        Some(answer)
    }

    fn allows_no_secret(&self) -> bool {
        true
    }
}
