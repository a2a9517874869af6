//! Handshakes on the webhook path: answered by hookgate itself, recorded for the operator
//! (`GET /admin/handshakes`), never stored as events or delivered.

use super::error::IngestError;
use super::handler::IngestState;
use crate::config::ClientTlsConfig;
use crate::metrics;
use crate::sources::Source;
use crate::store::HandshakeRow;
use crate::tls::client::http_client_builder;
use crate::verify::{Answer, HandshakeRecord};
use actix_web::http::StatusCode;
use actix_web::{HttpRequest, HttpResponse, web};
use std::time::Duration;
use time::OffsetDateTime;
use uuid::Uuid;

/// `GET /webhooks/{source_id}`: a subscription check (Meta, Dropbox, X), or `405` for a
/// provider that has none.
pub(super) async fn get(
    req: HttpRequest,
    source_id: web::Path<String>,
    state: web::Data<IngestState>,
) -> Result<HttpResponse, IngestError> {
    let source = configured_source(&state, &source_id)?;
    let provider = &source.provider;
    let answer = provider
        .handshake_get(req.query_string(), &source.options, &source.keys)
        .ok_or(IngestError::MethodNotAllowed { allow: "POST" })?;
    match answer {
        Ok(answer) => {
            metrics::ingest_request(&source.id, "handshake".into());
            Ok(respond(&state, source, answer).await)
        }
        Err(refused) => {
            let record_of_refusal = HandshakeRecord {
                kind: refused.kind,
                outcome: "refused",
                action: None,
            };
            let reason = refused.rejection.code();
            record(&state, source, record_of_refusal, Some(reason)).await;
            let refusal = IngestError::Rejected(refused.rejection);
            metrics::ingest_request(&source.id, refusal.metric_outcome());
            Err(refusal)
        }
    }
}

/// Any other method on the webhook path: `404` for an unknown source, else `405` with the
/// methods the source takes (`GET` only where its provider sends subscription checks).
pub(super) async fn other_method(
    source_id: web::Path<String>,
    state: web::Data<IngestState>,
) -> Result<HttpResponse, IngestError> {
    let source = configured_source(&state, &source_id)?;
    let answers_get = source
        .provider
        .handshake_get("", &source.options, &source.keys)
        .is_some();
    Err(IngestError::MethodNotAllowed {
        allow: if answers_get { "GET, POST" } else { "POST" },
    })
}

fn configured_source<'s>(state: &'s IngestState, id: &str) -> Result<&'s Source, IngestError> {
    state
        .sources
        .get(id)
        .map(AsRef::as_ref)
        .ok_or(IngestError::UnknownSource)
}

/// Completes an answered handshake (an SNS subscription to confirm), records it and builds its
/// response.
pub(super) async fn respond(
    state: &IngestState,
    source: &Source,
    mut answer: Answer,
) -> HttpResponse {
    if let Some(url) = answer.confirm_url.take() {
        match confirm(&url).await {
            Ok(()) => answer.record.outcome = "confirmed",
            Err(why) => {
                answer.record.action = Some(format!(
                    "automatic confirmation failed ({why}): confirm the subscription by opening \
                     its SubscribeURL: {url}"
                ));
            }
        }
    }
    record(state, source, answer.record, None).await;
    let status = StatusCode::from_u16(answer.status).unwrap_or(StatusCode::OK);
    let mut response = HttpResponse::build(status);
    for (name, value) in answer.headers {
        response.insert_header((name, value));
    }
    match answer.content_type {
        Some(content_type) => response.content_type(content_type).body(answer.body),
        None => response.finish(),
    }
}

/// How long confirming a subscription may take; SNS waits 15 s for its answer.
const CONFIRM_TIMEOUT: Duration = Duration::from_secs(5);

/// GETs an SNS `SubscribeURL` (already checked against the allowed hosts): verified TLS, no
/// redirects (they could leave those hosts), a short timeout.
async fn confirm(url: &str) -> Result<(), String> {
    let client = http_client_builder(&ClientTlsConfig::default())
        .map_err(|err| err.to_string())?
        .redirect(reqwest::redirect::Policy::none())
        .timeout(CONFIRM_TIMEOUT)
        .pool_max_idle_per_host(0)
        .build()
        .map_err(|err| err.to_string())?;
    let response = client
        .get(url)
        .send()
        .await
        .map_err(|err| err.to_string())?;
    match response.status() {
        status if status.is_success() => Ok(()),
        status => Err(format!("SNS answered {status}")),
    }
}

/// Keeps the handshake for the operator. A store failure is logged, not answered: the
/// provider's check must still succeed. The log line leaves the action out: it may hold a
/// token that is about to become a secret.
async fn record(
    state: &IngestState,
    source: &Source,
    record: HandshakeRecord,
    reason: Option<&'static str>,
) {
    tracing::info!(
        source = %source.id,
        kind = record.kind,
        outcome = record.outcome,
        reason = reason.unwrap_or("-"),
        needs_action = record.action.is_some(),
        "handshake"
    );
    let row = HandshakeRow {
        id: Uuid::now_v7(),
        source: source.id.to_string(),
        provider: source.provider.name().to_string(),
        kind: record.kind.to_string(),
        outcome: record.outcome.to_string(),
        reason: reason.map(str::to_string),
        action: record.action,
        received_at: OffsetDateTime::now_utc(),
    };
    if let Err(err) = state.store.record_handshake(&row).await {
        tracing::warn!(source = %source.id, kind = %row.kind, "handshake not recorded: {err}");
    }
}
