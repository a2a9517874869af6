//! `GET /events`: search events by source, type, delivery status, time range and provider
//! event id, newest first, a page at a time; the first page takes in new events as they
//! arrive. Every filter is in the URL, so a view can be shared.

use super::error::ConsoleError;
use super::fields;
use super::layout::{self, Tone};
use super::params::{self, blank, given, owned};
use super::session::Session;
use crate::admin::AdminState;
use crate::admin::EventQuery;
use crate::admin::error::AdminError;
use crate::admin::events::{EventPage, search};
use crate::store::{DeliveryState, EventSummary};
use actix_web::http::StatusCode;
use actix_web::{HttpRequest, HttpResponse, web};
use maud::{Markup, html};
use serde::de::IntoDeserializer;
use serde::{Deserialize, Serialize};
use time::OffsetDateTime;

pub const PATH: &str = "/events";

/// How often the first page looks for new events, in milliseconds.
const LIVE_INTERVAL_MS: u32 = 3000;

/// Delivery states in the order a person scans for trouble.
const STATES: [DeliveryState; 4] = [
    DeliveryState::Dead,
    DeliveryState::Pending,
    DeliveryState::InFlight,
    DeliveryState::Delivered,
];

/// The page's query: the filters as typed (kept verbatim for the form and shared links) and
/// the cursor of the page shown.
#[derive(Debug, Default, Clone, Deserialize, Serialize)]
#[serde(default)]
pub struct EventsParams {
    #[serde(skip_serializing_if = "blank")]
    provider_event_id: Option<String>,
    #[serde(skip_serializing_if = "blank")]
    source: Option<String>,
    #[serde(skip_serializing_if = "blank")]
    event_type: Option<String>,
    #[serde(skip_serializing_if = "blank")]
    status: Option<String>,
    #[serde(skip_serializing_if = "blank")]
    since: Option<String>,
    #[serde(skip_serializing_if = "blank")]
    until: Option<String>,
    #[serde(skip_serializing_if = "blank")]
    cursor: Option<String>,
}

impl EventsParams {
    /// The admin API query these filters stand for at `now`; else a message for each field
    /// that cannot be read, saying what it takes.
    fn to_query(&self, now: OffsetDateTime) -> Result<EventQuery, Vec<String>> {
        let mut problems = Vec::new();
        let since = params::time("since", &self.since, now, &mut problems);
        let until = params::time("until", &self.until, now, &mut problems);
        let status = given(&self.status).and_then(|text| {
            let parsed: Result<DeliveryState, serde::de::value::Error> =
                DeliveryState::deserialize(text.into_deserializer());
            if parsed.is_err() {
                problems.push(format!(
                    "status: {text:?} is not pending, in_flight, delivered or dead"
                ));
            }
            parsed.ok()
        });
        if !problems.is_empty() {
            return Err(problems);
        }
        Ok(EventQuery {
            source: owned(&self.source),
            event_type: owned(&self.event_type),
            provider_event_id: owned(&self.provider_event_id),
            status,
            since,
            until,
            limit: None,
            cursor: owned(&self.cursor),
        })
    }

    fn is_filtered(&self) -> bool {
        [
            &self.provider_event_id,
            &self.source,
            &self.event_type,
            &self.status,
            &self.since,
            &self.until,
        ]
        .into_iter()
        .any(|field| given(field).is_some())
    }

    /// This view's URL at page `cursor` (the first page without one).
    fn url(&self, cursor: Option<&str>) -> String {
        let page = EventsParams {
            cursor: cursor.map(str::to_owned),
            ..self.clone()
        };
        params::url(PATH, &page)
    }
}

/// The events page: the search form, one page of results, links to the next.
pub async fn list(
    req: HttpRequest,
    admin: web::Data<AdminState>,
    session: Session,
) -> Result<HttpResponse, ConsoleError> {
    let params: EventsParams = params::read(&req)?;
    let result = match params.to_query(OffsetDateTime::now_utc()) {
        Err(message) => Err(message),
        Ok(query) => match search(&admin.store, query).await {
            Ok(page) => Ok(page),
            Err(AdminError::BadRequest(message)) => Err(vec![message]),
            Err(err) => return Err(err.into()),
        },
    };
    let status = match result {
        Ok(_) => StatusCode::OK,
        Err(_) => StatusCode::BAD_REQUEST,
    };
    let body = html! {
        h1 { "Events" }
        (filter_form(&params, &admin))
        @match &result {
            Err(problems) => @for problem in problems { (layout::message(Tone::Error, problem)) },
            Ok(page) => (results(&params, page, &admin)),
        }
    };
    let markup = layout::page_in("Events", Some(&session), Some(PATH), body);
    Ok(layout::respond(status, markup))
}

fn filter_form(params: &EventsParams, admin: &AdminState) -> Markup {
    let value = |field: &Option<String>| field.clone().unwrap_or_default();
    let status = given(&params.status);
    let source = given(&params.source);
    html! {
        form.filters method="get" action=(PATH) role="search" data-drop-empty {
            div.field.wide {
                label for="f-provider-event-id" { "Provider event id" }
                input #f-provider-event-id type="search" name="provider_event_id"
                    value=(value(&params.provider_event_id)) placeholder="evt_1Nx…"
                    autocomplete="off" spellcheck="false";
            }
            (fields::source_choice("f-source", &admin.sources, source))
            div.field {
                label for="f-event-type" { "Event type" }
                input #f-event-type type="text" name="event_type"
                    value=(value(&params.event_type)) placeholder="invoice.paid"
                    autocomplete="off" spellcheck="false";
            }
            div.field {
                label for="f-status" { "Delivery status" }
                select #f-status name="status" {
                    option value="" { "Any status" }
                    @for state in STATES {
                        option value=(state.as_str()) selected[status == Some(state.as_str())] {
                            (state.as_str().replace('_', " "))
                        }
                    }
                }
            }
            (fields::time_range("f", "", &params.since, &params.until))
            div.actions {
                button type="submit" { "Search" }
                @if params.is_filtered() {
                    a href=(PATH) { "Clear filters" }
                }
            }
        }
    }
}

fn results(params: &EventsParams, page: &EventPage, admin: &AdminState) -> Markup {
    // Only the first page takes in new events: later pages stay as they were when opened.
    let live = given(&params.cursor).is_none().then_some(LIVE_INTERVAL_MS);
    html! {
        table.list.events {
            caption.visually-hidden { "Events, newest first" }
            thead {
                tr {
                    th scope="col" { "Received" }
                    th scope="col" { "Provider event id" }
                    th scope="col" { "Source" }
                    th scope="col" { "Type" }
                    th scope="col" { "Deliveries" }
                    th scope="col" { "Size" }
                }
            }
            tbody #event-rows data-live=[live] {
                @for event in &page.events {
                    (row(event))
                }
                @if page.events.is_empty() {
                    tr.empty { td colspan="6" { (empty_state(params, admin)) } }
                }
            }
        }
        nav.pages aria-label="Pages" {
            @if given(&params.cursor).is_some() {
                a href=(params.url(None)) { "← Newest" }
            }
            @if let Some(cursor) = &page.next_cursor {
                a href=(params.url(Some(cursor))) rel="next" { "Older events →" }
            }
        }
    }
}

fn row(event: &EventSummary) -> Markup {
    let href = format!("{PATH}/{}", event.id);
    html! {
        tr data-id=(event.id) {
            td data-label="Received" { (layout::time(event.received_at)) }
            td data-label="Provider event id" {
                a.mono href=(href) { (event.event_id) }
            }
            td data-label="Source" { (event.source) }
            td data-label="Type" {
                @match &event.event_type {
                    Some(event_type) => span.mono { (event_type) },
                    None => span.muted { "—" },
                }
            }
            td data-label="Deliveries" { (delivery_counts(event)) }
            td data-label="Size" { (layout::size(event.size)) }
        }
    }
}

fn delivery_counts(event: &EventSummary) -> Markup {
    html! {
        @if event.deliveries.is_empty() {
            span.muted { "none" }
        }
        @for state in STATES {
            @if let Some(count) = event.deliveries.get(state.as_str()) {
                span class={ "badge state-" (state.as_str()) } {
                    (count) " " (state.as_str().replace('_', " "))
                }
                " "
            }
        }
    }
}

/// What to do next when there is nothing to show.
fn empty_state(params: &EventsParams, admin: &AdminState) -> Markup {
    if params.is_filtered() {
        return html! {
            p { strong { "No event matches these filters." } }
            p { "Widen the time range or " a href=(PATH) { "clear the filters" } "." }
        };
    }
    let example = admin.sources.sorted().first().map(|source| {
        format!(
            "hookgate sign --provider {} --secret $SECRET --body event.json \
             --url http://127.0.0.1:8080/webhooks/{} --send",
            source.provider.name(),
            source.id
        )
    });
    html! {
        p { strong { "No events yet." } }
        @match example {
            Some(command) => {
                p { "Send a test webhook (with the source's secret and your ingest address), \
                    and it shows up here within seconds:" }
                pre { code { (command) } }
            }
            None => p { "Add a " code { "[[sources]]" } " entry to the configuration, then send \
                a test webhook with " code { "hookgate sign" } "." },
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use time::macros::datetime;

    fn params(query: &str) -> EventsParams {
        web::Query::<EventsParams>::from_query(query)
            .unwrap()
            .into_inner()
    }

    #[test]
    fn empty_fields_are_no_filter_and_leave_the_url() {
        let filtered = params("source=&event_type=+&provider_event_id=evt_1&status=");
        let query = filtered.to_query(datetime!(2025-06-15 12:00 UTC)).unwrap();
        assert_eq!(query.source, None);
        assert_eq!(query.event_type, None);
        assert_eq!(query.provider_event_id.as_deref(), Some("evt_1"));
        assert!(filtered.is_filtered());
        assert_eq!(filtered.url(None), "/events?provider_event_id=evt_1");
        assert_eq!(
            filtered.url(Some("abc")),
            "/events?provider_event_id=evt_1&cursor=abc"
        );
        assert_eq!(params("").url(None), "/events");
        assert!(!params("cursor=abc").is_filtered());
    }

    #[test]
    fn times_and_states_are_read_or_refused_with_what_they_take() {
        let now = datetime!(2025-06-15 12:00 UTC);
        let query = params("since=1h&until=2025-06-15+11:30&status=in_flight")
            .to_query(now)
            .unwrap();
        assert_eq!(query.since, Some(datetime!(2025-06-15 11:00 UTC)));
        assert_eq!(query.until, Some(datetime!(2025-06-15 11:30 UTC)));
        assert_eq!(query.status, Some(DeliveryState::InFlight));
        let problems = params("since=yesterday&until=1h&status=lost")
            .to_query(now)
            .unwrap_err();
        assert_eq!(problems.len(), 2, "{problems:?}");
        assert!(
            problems[0].starts_with(r#"since: "yesterday" is not a time"#),
            "{problems:?}"
        );
        assert!(problems[1].starts_with(r#"status: "lost""#), "{problems:?}");
    }
}
