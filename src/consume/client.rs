//! The consumer routes as `hookgate consume` calls them: the admin API's typed client, with a
//! consumer token instead of the admin token.

use super::api::{AckRequest, LeaseRequest, LeaseResponse, LeaseResults, NackRequest};
use crate::admin_client::{AdminClient, AdminClientError, path_segment};

/// A client of one pull destination's routes.
pub struct ConsumerClient {
    api: AdminClient,
    /// `/consume/{destination}`, the destination escaped.
    base: String,
}

impl ConsumerClient {
    /// A client of `destination` on the admin listener at `url`, presenting `token`.
    pub fn new(
        url: &str,
        token: String,
        destination: &str,
    ) -> Result<ConsumerClient, AdminClientError> {
        Ok(ConsumerClient {
            api: AdminClient::with_token(url, token)?,
            base: format!("/consume/{}", path_segment(destination)),
        })
    }

    pub async fn lease(&self, request: &LeaseRequest) -> Result<LeaseResponse, AdminClientError> {
        self.api
            .post_json(&format!("{}/lease", self.base), request)
            .await
    }

    pub async fn ack(&self, lease_ids: Vec<String>) -> Result<LeaseResults, AdminClientError> {
        self.api
            .post_json(&format!("{}/ack", self.base), &AckRequest { lease_ids })
            .await
    }

    /// Nacks `lease_ids`, due again after `delay_ms` (the destination's backoff when `None`).
    pub async fn nack(
        &self,
        lease_ids: Vec<String>,
        delay_ms: Option<u64>,
        reason: String,
    ) -> Result<LeaseResults, AdminClientError> {
        let request = NackRequest {
            lease_ids,
            delay_ms,
            reason: Some(reason),
        };
        self.api
            .post_json(&format!("{}/nack", self.base), &request)
            .await
    }
}
