//! `GET /events/{id}`: one event — metadata, the replay action, every delivery with its
//! attempt timeline (refreshed while any is still running), the headers as the admin API
//! shows them, and the payload pretty-printed and byte-exact; `GET /events/{id}/payload`
//! downloads the payload.

use super::error::ConsoleError;
use super::layout::{self, Tone};
use super::replay;
use super::session::Session;
use crate::admin::AdminState;
use crate::admin::error::AdminError;
use crate::admin::events::find;
use crate::store::{AttemptDetail, DeliveryDetail, EventDetail, Payload};
use actix_web::http::StatusCode;
use actix_web::http::header::{self, ContentDisposition, DispositionParam, DispositionType};
use actix_web::{HttpRequest, HttpResponse, web};
use maud::{Markup, html};
use uuid::Uuid;

/// How often the deliveries refresh while one is pending or in flight, in milliseconds.
const LIVE_INTERVAL_MS: u32 = 2000;
/// A response excerpt this short shows in the attempt's line; a longer one folds away.
const INLINE_EXCERPT_CHARS: usize = 80;
/// The most of a payload the page shows; the download has all of it.
const SHOWN_PAYLOAD_BYTES: usize = 256 * 1024;

/// The event page. A path that is not a hookgate id is taken for a provider's event id and
/// searched for.
pub async fn show(
    req: HttpRequest,
    admin: web::Data<AdminState>,
    session: Session,
    path: web::Path<String>,
) -> Result<HttpResponse, ConsoleError> {
    let Ok(id) = Uuid::parse_str(&path) else {
        let query: String = url::form_urlencoded::Serializer::new(String::new())
            .append_pair("provider_event_id", &path)
            .finish();
        return Ok(layout::see_other(&format!(
            "{}?{query}",
            super::events::PATH
        )));
    };
    let event = find(&admin.store, id).await?;
    let payload = admin
        .store
        .event_payload(id)
        .await?
        .ok_or(AdminError::EventNotFound)?;
    let destinations: Vec<&str> = admin
        .sources
        .get(&event.source)
        .map(|source| source.routes.destination_ids().map(|d| &**d).collect())
        .unwrap_or_default();
    let flash = replay::take_flash(&req);
    let title = event.event_type.clone().unwrap_or_else(|| "Event".into());
    let body = html! {
        p.crumbs { a href=(super::events::PATH) { "← Events" } }
        h1 { (title) " " span.mono.subtle { (event.event_id) } }
        @if let Some(message) = &flash {
            (layout::message(Tone::Success, message))
        }
        (metadata(&event))
        (replay::form(&event, &destinations, &session))
        (deliveries(&event.deliveries))
        (headers(&event))
        (payload_view(&event, &payload))
    };
    let markup = layout::page_in(&title, Some(&session), Some(super::events::PATH), body);
    let mut response = layout::respond(StatusCode::OK, markup);
    if flash.is_some() {
        replay::clear_flash(&mut response, id);
    }
    Ok(response)
}

/// The payload, byte-exact, as a file. Always `application/octet-stream` and an attachment,
/// whatever Content-Type it came with: a webhook's body must never be rendered as a page of
/// the console.
pub async fn download(
    admin: web::Data<AdminState>,
    _: Session,
    path: web::Path<String>,
) -> Result<HttpResponse, ConsoleError> {
    let id = Uuid::parse_str(&path).map_err(|_| AdminError::EventNotFound)?;
    let payload = admin
        .store
        .event_payload(id)
        .await?
        .ok_or(AdminError::EventNotFound)?;
    let extension = if is_json(&payload) { "json" } else { "bin" };
    let mut response = HttpResponse::Ok()
        .content_type("application/octet-stream")
        .insert_header(ContentDisposition {
            disposition: DispositionType::Attachment,
            parameters: vec![DispositionParam::Filename(format!("{id}.{extension}"))],
        })
        .body(payload.body);
    layout::protect(&mut response);
    response.headers_mut().insert(
        header::CONTENT_SECURITY_POLICY,
        header::HeaderValue::from_static("sandbox"),
    );
    Ok(response)
}

fn metadata(event: &EventDetail) -> Markup {
    html! {
        dl.meta {
            div { dt { "Received" } dd { (layout::time(event.received_at)) } }
            div { dt { "Source" } dd {
                a href={ (super::events::PATH) "?source=" (urlencode(&event.source)) } {
                    (event.source)
                }
            } }
            div.full { dt { "Provider event id" } dd.mono { (event.event_id) } }
            div.full { dt { "hookgate id" } dd.mono { (event.id) } }
            div { dt { "Content type" } dd { (event.content_type.as_deref().unwrap_or("—")) } }
            div { dt { "Size" } dd { (layout::size(event.size)) } }
        }
    }
}

fn deliveries(deliveries: &[DeliveryDetail]) -> Markup {
    let running = deliveries
        .iter()
        .any(|d| d.state == "pending" || d.state == "in_flight");
    html! {
        section #deliveries aria-labelledby="deliveries-title"
            data-live=[running.then_some(LIVE_INTERVAL_MS)] {
            h2 #deliveries-title { "Deliveries" }
            @if deliveries.is_empty() {
                p.muted { "No deliveries: no destination took this event (its source's filter \
                    matched none, or it has none). Replay it to a destination to deliver it." }
            }
            @for delivery in deliveries {
                article.delivery data-id=(delivery.id) {
                    header {
                        h3 { (delivery.destination) }
                        (layout::state_badge(&delivery.state))
                        span.muted { (attempt_count(delivery.attempts)) }
                    }
                    p.delivery-meta {
                        "Created " (layout::time(delivery.created_at))
                        @if delivery.state == "pending" {
                            " · next attempt " (layout::time(delivery.run_at))
                        }
                        @if let Some(error) = &delivery.last_error {
                            " · last error: " span.mono { (error) }
                        }
                    }
                    @if !delivery.attempt_history.is_empty() {
                        ol.attempts aria-label={ "Attempts to " (delivery.destination) } {
                            @for attempt in &delivery.attempt_history {
                                (attempt_item(delivery, attempt))
                            }
                        }
                    }
                }
            }
        }
    }
}

fn attempt_count(attempts: i32) -> String {
    match attempts {
        1 => "1 attempt".into(),
        n => format!("{n} attempts"),
    }
}

fn attempt_item(delivery: &DeliveryDetail, attempt: &AttemptDetail) -> Markup {
    let succeeded = attempt.status.is_some_and(|s| (200..300).contains(&s));
    html! {
        li.attempt.ok[succeeded] {
            span.attempt-number { "#" (attempt.attempt) }
            (layout::time(attempt.started_at))
            @match (attempt.status, &attempt.error) {
                (Some(status), _) => span class={ "badge " (if succeeded { "state-delivered" } else { "state-dead" }) } { "HTTP " (status) },
                (None, Some(error)) => span.badge.state-dead { (error) },
                (None, None) => span.badge { "no answer" },
            }
            span.muted { (attempt.duration_ms) " ms" }
            @if let Some(excerpt) = attempt.response_excerpt.as_deref().filter(|e| !e.is_empty()) {
                @if excerpt.chars().count() <= INLINE_EXCERPT_CHARS && !excerpt.contains('\n') {
                    span.excerpt.mono title="Response" { (excerpt) }
                } @else {
                    details.excerpt data-key={ (delivery.id) "-" (attempt.attempt) } {
                        summary { "Response" }
                        pre { (excerpt) }
                    }
                }
            }
        }
    }
}

fn headers(event: &EventDetail) -> Markup {
    html! {
        section aria-labelledby="headers-title" {
            h2 #headers-title { "Headers" }
            p.hint { "As received, without credentials (Authorization, cookies and the like \
                are never stored)." }
            table.headers {
                thead { tr { th scope="col" { "Name" } th scope="col" { "Value" } } }
                tbody {
                    @for (name, value) in &event.headers {
                        tr {
                            th scope="row" .mono { (name) }
                            td.mono { (value.as_str().map_or_else(|| value.to_string(), str::to_owned)) }
                        }
                    }
                }
            }
        }
    }
}

fn payload_view(event: &EventDetail, payload: &Payload) -> Markup {
    let shown = &payload.body[..payload.body.len().min(SHOWN_PAYLOAD_BYTES)];
    let cut = shown.len() < payload.body.len();
    let pretty = is_json(payload)
        .then(|| serde_json::from_slice::<serde_json::Value>(&payload.body).ok())
        .flatten()
        .filter(|_| !cut)
        .and_then(|value| serde_json::to_string_pretty(&value).ok());
    let raw = std::str::from_utf8(shown).ok();
    html! {
        section aria-labelledby="payload-title" {
            h2 #payload-title { "Payload" }
            p {
                a.button href={ (super::events::PATH) "/" (event.id) "/payload" } download {
                    "Download (" (layout::size(event.size)) ")"
                }
            }
            @if cut {
                (layout::message(Tone::Info, "Only the start of this payload is shown; the \
                    download has all of it."))
            }
            @if let Some(pretty) = &pretty {
                details.payload open {
                    summary { "JSON, pretty-printed" }
                    pre #payload-pretty { (pretty) }
                }
            }
            details.payload open[pretty.is_none()] {
                summary { "Raw, byte-exact" }
                @match raw {
                    Some(text) => pre #payload-raw { (text) },
                    None => p.muted { "Not UTF-8 text: download it to see the bytes." },
                }
            }
        }
    }
}

/// Whether the payload is JSON by its Content-Type (`application/json`, `…+json`).
fn is_json(payload: &Payload) -> bool {
    payload.content_type.as_deref().is_some_and(|content_type| {
        let essence = content_type.split(';').next().unwrap_or_default().trim();
        essence.eq_ignore_ascii_case("application/json") || essence.ends_with("+json")
    })
}

fn urlencode(text: &str) -> String {
    url::form_urlencoded::byte_serialize(text.as_bytes()).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn payload(content_type: Option<&str>) -> Payload {
        Payload {
            body: b"{}".to_vec(),
            content_type: content_type.map(str::to_owned),
        }
    }

    #[test]
    fn json_is_recognised_by_its_media_type() {
        assert!(is_json(&payload(Some("application/json"))));
        assert!(is_json(&payload(Some("Application/JSON; charset=utf-8"))));
        assert!(is_json(&payload(Some("application/cloudevents+json"))));
        assert!(!is_json(&payload(Some(
            "application/x-www-form-urlencoded"
        ))));
        assert!(!is_json(&payload(None)));
    }
}
