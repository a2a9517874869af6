//! `GET /sources`: each configured source — provider, signature scheme, timestamp tolerance,
//! event type filter, destinations, how many secrets (never the secrets), its newest event
//! and the last hour's requests with the share rejected. The overview's source table too.

use super::error::ConsoleError;
use super::layout;
use super::overview::{Readings, percent};
use super::session::Session;
use super::{chart, events};
use crate::admin::AdminState;
use crate::replays::ReplayApi;
use crate::routes::ContentFilter;
use crate::sources::Source;
use actix_web::http::StatusCode;
use actix_web::{HttpResponse, web};
use maud::{Markup, html};

pub const PATH: &str = "/sources";

/// The sources page.
pub async fn list(
    admin: web::Data<AdminState>,
    api: web::Data<ReplayApi>,
    session: Session,
) -> Result<HttpResponse, ConsoleError> {
    let readings = Readings::take(&admin, &api).await?;
    let configured = admin.sources.sorted();
    let ids: Vec<String> = configured.iter().map(|s| s.id.to_string()).collect();
    let last = admin.store.last_events(&ids).await?;
    let body = html! {
        h1 { "Sources" }
        p.hint { "Where providers post webhooks: " code { "/webhooks/<source>" }
            " on the ingest listener. Secrets are never shown, only how many are configured." }
        @if configured.is_empty() {
            div.empty {
                p { strong { "No source is configured." } }
                p { "Add a " code { "[[sources]]" } " entry (provider, secrets, destinations) to \
                    the configuration and restart hookgate; " code { "hookgate providers" }
                    " lists the providers it knows." }
            }
        }
        @for source in &configured {
            @let activity = readings.summary.sources.get(&*source.id).cloned().unwrap_or_default();
            @let received = readings.stats.sources.iter().find(|s| *s.source == *source.id);
            @let newest = last.iter().find(|l| *l.source == *source.id);
            section.panel aria-labelledby={ "s-" (source.id) } {
                h2 #{ "s-" (source.id) } { (source.id) }
                dl.meta.plain {
                    div { dt { "Provider" } dd { (source.provider.name()) " ("
                        span.mono { (source.provider.scheme_name()) } " scheme)" } }
                    div { dt { "Tolerance" } dd { (tolerance(source)) } }
                    div { dt { "Secrets" } dd { (source.keys.len()) " configured" } }
                    div { dt { "Filter" } dd { (rules(source.routes.filter.as_ref())) } }
                    div { dt { "Destinations" } dd {
                        @if source.routes.connections.is_empty() { span.muted { "none" } }
                        @for connection in &source.routes.connections {
                            div { (connection.destination)
                                @if let Some(filter) = &connection.filter {
                                    " " span.subtle { "(" (rules(Some(filter))) ")" }
                                }
                            }
                        }
                    } }
                    div { dt { "Newest event" } dd {
                        @match newest {
                            Some(newest) => a href={ (events::PATH) "/" (newest.event) } {
                                (layout::time(newest.received_at)) },
                            None => span.muted { "none yet" },
                        }
                    } }
                    div { dt { "Received, all time" } dd { (received.map_or(0, |r| r.received)) } }
                    div { dt { "Last hour" } dd {
                        (activity.accepted) " accepted · " (activity.duplicate) " duplicate · "
                        (activity.rejected) " rejected"
                    } }
                    div { dt { "Rejected, last hour" } dd { (percent(activity.rejected_share())) } }
                }
                (chart::minutes(&format!("Webhooks from {} per minute", source.id),
                    &activity.series, None, readings.first))
                p { a href={ (events::PATH) "?source=" (source.id) } { "Events from " (source.id) " →" } }
            }
        }
    };
    let markup = layout::page_in("Sources", Some(&session), Some(PATH), body);
    Ok(layout::respond(StatusCode::OK, markup))
}

/// The overview's table: the last hour per source.
pub fn activity_table(admin: &AdminState, readings: &Readings) -> Markup {
    html! {
        section aria-labelledby="o-sources" {
            h2 #o-sources { a href=(PATH) { "Sources" } ", last hour" }
            table.list {
                thead { tr {
                    th scope="col" { "Source" }
                    th scope="col" .num { "Accepted" }
                    th scope="col" .num { "Duplicate" }
                    th scope="col" .num { "Rejected" }
                    th scope="col" { "Per minute" }
                } }
                tbody {
                    @for source in admin.sources.sorted() {
                        @let activity = readings.summary.sources.get(&*source.id).cloned().unwrap_or_default();
                        tr {
                            td data-label="Source" { a href={ (events::PATH) "?source=" (source.id) } { (source.id) } }
                            td.num data-label="Accepted" { (activity.accepted) }
                            td.num data-label="Duplicate" { (activity.duplicate) }
                            td.num data-label="Rejected" { (activity.rejected) }
                            td.spark data-label="Per minute" {
                                (chart::minutes(&format!("Webhooks from {}", source.id),
                                    &activity.series, None, readings.first))
                            }
                        }
                    }
                }
            }
        }
    }
}

fn tolerance(source: &Source) -> String {
    match source
        .tolerance_secs
        .or_else(|| source.provider.default_tolerance_secs())
    {
        Some(secs) => format!("{secs} s"),
        None => "no signed timestamp".to_owned(),
    }
}

/// A filter's rules, or "all" without one.
fn rules(filter: Option<&ContentFilter>) -> String {
    match filter {
        Some(filter) => filter.rules().collect::<Vec<_>>().join("; "),
        None => "all".to_owned(),
    }
}
