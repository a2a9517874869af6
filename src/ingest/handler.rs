//! The ingest handler: source → size → signature → identity → duplicate check → commit.

use super::answer_relay::AnswerRelay;
use super::body_budget::{BodyBudget, Exhausted, Reservation};
use super::dedup_cache::DedupCache;
use super::error::IngestError;
use super::handshake;
use super::headers::{ActixHeaders, to_stored_json};
use super::log;
use super::shedding::Shed;
use super::writer::{CommitError, CommitWriter};
use crate::activity::{Activity, IngestOutcome};
use crate::delivery::inline::InlineDispatch;
use crate::metrics;
use crate::routes::RouteInput;
use crate::sources::{Source, Sources};
use crate::store::{InsertOutcome, NewDelivery, NewEvent, Store, delivery_id_for};
use crate::verify::{AcceptedResponse, Answer, EventIdentity, Request};
use actix_web::http::StatusCode;
use actix_web::http::header::{CONTENT_LENGTH, CONTENT_TYPE, HOST};
use actix_web::{HttpRequest, HttpResponse, ResponseError, web};
use bytes::{Bytes, BytesMut};
use futures_util::StreamExt;
use serde::Serialize;
use std::borrow::Cow;
use std::sync::Arc;
use std::time::{Duration, Instant};
use time::OffsetDateTime;
use uuid::Uuid;

/// What the ingest route needs, shared by every worker thread.
pub struct IngestState {
    pub sources: Arc<Sources>,
    /// For recording handshakes; events go through `writer`.
    pub store: Store,
    pub writer: CommitWriter,
    pub dedup: Option<DedupCache>,
    pub max_body_bytes: usize,
    /// Bytes of request bodies held in memory at once, across requests.
    pub body_budget: BodyBudget,
    /// Present when this process also delivers: fresh deliveries go straight to its workers.
    pub inline: Option<InlineDispatch>,
    /// `[server] trust_forwarded_headers`: signed URLs may come from forwarding headers.
    pub trust_forwarded_headers: bool,
    /// `[server] request_timeout_ms`: how long a body may take to arrive.
    pub request_timeout: Duration,
    /// Counts requests per source and outcome for the console's overview.
    pub activity: Activity,
}

#[derive(Serialize)]
struct Acknowledgement<'a> {
    status: &'static str,
    id: Uuid,
    event_id: &'a str,
}

/// What became of a request that passed verification.
enum Handled {
    /// Stored (or found stored): whether it was new, and the provider's event id.
    Stored(InsertOutcome, String),
    /// A handshake, answered by hookgate and not stored.
    Handshake(Answer),
}

pub(super) async fn receive(
    req: HttpRequest,
    source_id: web::Path<String>,
    payload: web::Payload,
    state: web::Data<IngestState>,
    relay: web::Data<AnswerRelay>,
) -> Result<HttpResponse, IngestError> {
    let started = Instant::now();
    let source = state.sources.get(&source_id);
    let result = match source {
        Some(source) => store_webhook(&req, payload, &state, &relay, source).await,
        None => Err(IngestError::UnknownSource),
    };
    let outcome = metric_outcome(&result);
    if let (Some(source), Some(counted)) = (source, IngestOutcome::of_label(&outcome)) {
        state.activity.ingest(&source.id, counted);
    }
    match (source, &result) {
        (Some(source), Ok(Handled::Stored(stored, _))) => {
            source.metrics.stored(*stored, started.elapsed());
        }
        _ => metrics::ingest_request(source.map_or(metrics::UNKNOWN_SOURCE, |s| &s.id), outcome),
    }
    if let Err(err) = &result {
        log::refused(source.map(|s| &**s), &source_id, err);
    }
    let answer = match (result, source) {
        (Ok(Handled::Stored(outcome, event_id)), Some(source)) => Ok(acknowledge(
            outcome,
            &event_id,
            source.provider.accepted_response(),
        )),
        (Ok(Handled::Handshake(answer)), Some(source)) => {
            Ok(handshake::respond(&state, source, answer).await)
        }
        (Err(err), _) => Err(err),
        (Ok(_), None) => Err(IngestError::UnknownSource),
    };
    let status = match &answer {
        Ok(response) => response.status(),
        Err(err) => err.status_code(),
    };
    metrics::ingest_response(status, started.elapsed());
    answer
}

/// Verifies, identifies and stores one webhook, or answers it when it is a handshake. The
/// commit's answer comes back through `relay`, this worker thread's.
async fn store_webhook(
    req: &HttpRequest,
    payload: web::Payload,
    state: &IngestState,
    relay: &AnswerRelay,
    source: &Source,
) -> Result<Handled, IngestError> {
    let received_at = OffsetDateTime::now_utc();
    // Held until the commit is answered: the body stays in memory that long.
    let (body, _reservation) = tokio::time::timeout(
        state.request_timeout,
        read_body(req, payload, state.max_body_bytes, &state.body_budget),
    )
    .await
    .map_err(|_| IngestError::RequestTimeout {
        limit: state.request_timeout,
    })??;
    // Under overload most requests are refused: refusing before verifying and building the
    // event leaves the CPU to the admitted ones, whether the connection is one too many (its
    // refusal waits for its turn, see `shedding`) or the commits cannot keep up. The commit
    // decides again for those let through. (Not before reading the body: a request answered
    // with its body unread leaves the connection to discard it, and the client, still
    // sending, may not read the answer.)
    if let Some(shed) = req.conn_data::<Shed>() {
        shed.turn().await;
        return Err(IngestError::ConnectionShed {
            served: shed.served,
        });
    }
    if !state.writer.admits() {
        return Err(CommitError::Overloaded.into());
    }

    let url = signed_url(req, source, state.trust_forwarded_headers);
    let mut request = Request {
        headers: &ActixHeaders(req.headers()),
        body: &body,
        url: &url,
        now_unix: received_at.unix_timestamp(),
        options: &source.options,
        certificate: None,
    };
    let provider = &source.provider;
    if let Some(answer) = provider.handshake_unsigned(&request) {
        return Ok(Handled::Handshake(answer));
    }
    // The signing certificate the request names (AWS SNS, PayPal): fetched from an allowed URL
    // or cached, the one step of verification that waits on the network.
    let certificate = provider
        .fetch_certificate(&request)
        .await
        .map_err(IngestError::Rejected)?;
    request.certificate = certificate.as_deref();
    let key = provider
        .verify(&request, &source.keys, source.tolerance_secs)
        .map_err(IngestError::Rejected)?;
    if let Some(answer) = provider.handshake_verified(&request, source.keys.get(key)) {
        return Ok(Handled::Handshake(answer));
    }
    let identity = provider.identify(&request);

    if let Some(dedup) = &state.dedup
        && let Some(id) = dedup.lookup(&source.id, &identity.event_id).await
    {
        let outcome = InsertOutcome::Duplicate(id);
        log::stored(source, &log::Stored::new(outcome, &identity, 0));
        return Ok(Handled::Stored(outcome, identity.event_id));
    }
    let headers = ActixHeaders(req.headers());
    // The body is parsed at most once, for the filters and the ordering keys together.
    let route_input = RouteInput::new(identity.event_type.as_deref(), &headers, &body);
    let fanout = source.routes.fan_out(&route_input);
    let id = Uuid::now_v7();
    let new_deliveries = fanout
        .destinations
        .into_iter()
        .enumerate()
        .map(|(nth, destination)| NewDelivery {
            id: delivery_id_for(id, u16::try_from(nth).unwrap_or(u16::MAX)),
            ordering_key: source
                .routes
                .ordering_key(&destination, &source.id, &route_input),
            destination_id: destination,
            lease: None,
        })
        .collect();
    let mut event = NewEvent {
        id,
        source_id: source.id.clone(),
        deliveries: new_deliveries,
        filtered: fanout.filtered,
        event_id: identity.event_id,
        event_type: identity.event_type,
        received_at,
        content_type: req
            .headers()
            .get(CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .map(str::to_owned),
        headers_json: to_stored_json(req.headers()),
        body,
    };
    let identity = EventIdentity {
        event_id: event.event_id.clone(),
        event_type: event.event_type.clone(),
    };
    let deliveries = event.deliveries.len();
    let handover = state
        .inline
        .as_ref()
        .map(|inline| inline.reserve(&mut event));
    let outcome = state.writer.commit(event, handover, relay).await?;
    log::stored(source, &log::Stored::new(outcome, &identity, deliveries));
    let event_id = identity.event_id;
    if let (InsertOutcome::Accepted(id), Some(dedup)) = (outcome, &state.dedup) {
        let (dedup, source_id, event_id) = (dedup.clone(), source.id.clone(), event_id.clone());
        actix_web::rt::spawn(async move { dedup.remember(&source_id, &event_id, id).await });
    }
    Ok(Handled::Stored(outcome, event_id))
}

/// The `outcome` label of an ingest request.
fn metric_outcome(result: &Result<Handled, IngestError>) -> Cow<'static, str> {
    match result {
        Ok(Handled::Stored(InsertOutcome::Accepted(_), _)) => metrics::ACCEPTED.into(),
        Ok(Handled::Stored(InsertOutcome::Duplicate(_), _)) => metrics::DUPLICATE.into(),
        Ok(Handled::Handshake(_)) => "handshake".into(),
        Err(err) => err.metric_outcome(),
    }
}

/// The acknowledgement: the provider's required answer where it demands one, else `202`
/// (`200` for a duplicate) with the JSON acknowledgement.
fn acknowledge(
    outcome: InsertOutcome,
    event_id: &str,
    required: Option<&AcceptedResponse>,
) -> HttpResponse {
    if let Some(required) = required {
        let status = StatusCode::from_u16(required.status).unwrap_or(StatusCode::OK);
        return match required.body.as_str() {
            "" => HttpResponse::build(status).finish(),
            body => HttpResponse::build(status)
                .content_type("text/plain; charset=utf-8")
                .body(body.to_string()),
        };
    }
    let (mut response, status, id) = match outcome {
        InsertOutcome::Accepted(id) => (HttpResponse::Accepted(), "accepted", id),
        InsertOutcome::Duplicate(id) => (HttpResponse::Ok(), "duplicate", id),
    };
    response.json(Acknowledgement {
        status,
        id,
        event_id,
    })
}

/// Reads the body, refusing with 413 as soon as it is known to exceed `limit`: at once from
/// `Content-Length`, else while streaming, without reading the rest.
async fn read_body(
    req: &HttpRequest,
    mut payload: web::Payload,
    limit: usize,
    budget: &BodyBudget,
) -> Result<(Bytes, Reservation), IngestError> {
    let declared = req
        .headers()
        .get(CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<u64>().ok());
    if declared.is_some_and(|length| length > limit as u64) {
        return Err(IngestError::TooLarge { limit });
    }
    let refused = |exhausted: Exhausted| IngestError::BodiesInFlight {
        budget: exhausted.total,
    };
    let mut reservation = budget.empty();
    let declared = declared.map_or(0, |length| length as usize);
    budget.grow(&mut reservation, declared).map_err(refused)?;
    let mut body = BytesMut::with_capacity(declared);
    while let Some(chunk) = payload.next().await {
        let chunk = chunk.map_err(|err| IngestError::UnreadableBody(err.to_string()))?;
        if body.len() + chunk.len() > limit {
            return Err(IngestError::TooLarge { limit });
        }
        // Only what goes beyond the declared length (all of a chunked body) is reserved now.
        let unreserved = (body.len() + chunk.len()).saturating_sub(declared.max(body.len()));
        budget.grow(&mut reservation, unreserved).map_err(refused)?;
        body.extend_from_slice(&chunk);
    }
    Ok((body.freeze(), reservation))
}

/// The URL the provider signed: the configured public URL, else this request's own, with the
/// query received either way. The request's scheme and host come from forwarding headers only
/// when the operator trusts them.
fn signed_url(req: &HttpRequest, source: &Source, trust_forwarded_headers: bool) -> String {
    let query = req.uri().query().map(|query| format!("?{query}"));
    let query = query.as_deref().unwrap_or_default();
    if let Some(url) = &source.public_url {
        return format!("{url}{query}");
    }
    let path = req.uri().path();
    if trust_forwarded_headers {
        let info = req.connection_info();
        return format!("{}://{}{path}{query}", info.scheme(), info.host());
    }
    let scheme = if req.app_config().secure() {
        "https"
    } else {
        "http"
    };
    let host = req
        .headers()
        .get(HOST)
        .and_then(|host| host.to_str().ok())
        .or_else(|| req.uri().authority().map(|authority| authority.as_str()))
        .unwrap_or_else(|| req.app_config().host());
    format!("{scheme}://{host}{path}{query}")
}
