//! `GET /destinations`: each configured destination — where it goes (without credentials),
//! retries, rate limit, circuit state and settings, whether deliveries are signed (never the
//! secret), and how its deliveries fare: the last hour's success rate and latency, the backlog,
//! the dead letters. The overview's destination table too.

use super::activity_summary::DestinationActivity;
use super::error::ConsoleError;
use super::layout;
use super::overview::{Readings, age, percent};
use super::session::Session;
use super::{Console, chart, dead_letters};
use crate::activity::SLOWER;
use crate::admin::AdminState;
use crate::config::DestinationConfig;
use crate::replays::ReplayApi;
use actix_web::http::StatusCode;
use actix_web::{HttpResponse, web};
use maud::{Markup, html};

pub const PATH: &str = "/destinations";

/// The destinations page.
pub async fn list(
    admin: web::Data<AdminState>,
    api: web::Data<ReplayApi>,
    console: web::Data<Console>,
    session: Session,
) -> Result<HttpResponse, ConsoleError> {
    let readings = Readings::take(&admin, &api).await?;
    let configured = &console.runtime.destinations;
    let body = html! {
        h1 { "Destinations" }
        p.hint { "Where deliveries go. Signing secrets and credentials in URLs are never shown." }
        @if configured.is_empty() {
            div.empty {
                p { strong { "No destination is configured." } }
                p { "Add a " code { "[[destinations]]" } " entry (id and url) and name it in a \
                    source's " code { "destinations" } ", then restart hookgate." }
            }
        }
        @for destination in configured {
            @let activity = activity_of(&readings, &destination.id);
            @let totals = readings.stats.destinations.iter().find(|d| d.destination == destination.id);
            section.panel aria-labelledby={ "d-" (destination.id) } {
                h2 #{ "d-" (destination.id) } { (destination.id) " "
                    (circuit_badge(&console, &destination.id)) }
                dl.meta.plain {
                    div.full { dt { "URL" } dd.mono { (without_credentials(&destination.url)) } }
                    div { dt { "Attempts" } dd { "up to " (destination.max_attempts) ", "
                        (destination.timeout_ms) " ms each" } }
                    div { dt { "Backoff" } dd { (destination.backoff_base_ms) " ms doubling to "
                        (destination.backoff_max_ms / 1000) " s" } }
                    div { dt { "Rate limit" } dd { (rate_limit(destination)) } }
                    div { dt { "Concurrency" } dd { (destination.concurrency) } }
                    div { dt { "Circuit" } dd { "opens after " (destination.circuit.failure_threshold)
                        " failures, for " (destination.circuit.cool_down_ms / 1000) " s" } }
                    div { dt { "Signing secrets" } dd {
                        (usize::from(destination.signing_secret.is_some())) " configured" } }
                    div { dt { "Success, last hour" } dd { (percent(activity.success_rate())) } }
                    div { dt { "Latency p50 / p99" } dd { (latency(&activity)) } }
                    div { dt { "Backlog" } dd { (totals.map_or(0, |t| t.pending))
                        @if let Some(oldest) = totals.and_then(|t| t.oldest_pending_age_secs) {
                            ", oldest " (age(oldest))
                        } } }
                    div { dt { "Dead letters" } dd {
                        a href={ (dead_letters::PATH) "?destination=" (destination.id) } {
                            (readings.dead.get(&destination.id).copied().unwrap_or(0)) }
                    } }
                    div { dt { "Delivered, all time" } dd { (totals.map_or(0, |t| t.delivered)) } }
                }
                (chart::minutes(&format!("Attempts to {} per minute, failures in red", destination.id),
                    &activity.series, Some(&activity.failures), readings.first))
            }
        }
    };
    let markup = layout::page_in("Destinations", Some(&session), Some(PATH), body);
    Ok(layout::respond(StatusCode::OK, markup))
}

/// The overview's table: how each destination fares.
pub fn activity_table(console: &Console, readings: &Readings) -> Markup {
    html! {
        section aria-labelledby="o-destinations" {
            h2 #o-destinations { a href=(PATH) { "Destinations" } ", last hour" }
            table.list {
                thead { tr {
                    th scope="col" { "Destination" }
                    th scope="col" .num { "Success" }
                    th scope="col" { "p50 / p99" }
                    th scope="col" { "Circuit" }
                    th scope="col" { "Rate limit" }
                    th scope="col" .num { "Backlog" }
                    th scope="col" .num { "Dead" }
                    th scope="col" { "Attempts per minute" }
                } }
                tbody {
                    @for destination in &console.runtime.destinations {
                        @let activity = activity_of(readings, &destination.id);
                        @let backlog = readings.stats.destinations.iter()
                            .find(|d| d.destination == destination.id).map_or(0, |d| d.pending);
                        tr {
                            td data-label="Destination" { a href=(PATH) { (destination.id) } }
                            td.num data-label="Success" { (percent(activity.success_rate())) }
                            td data-label="p50 / p99" { (latency(&activity)) }
                            td data-label="Circuit" { (circuit_badge(console, &destination.id)) }
                            td data-label="Rate limit" { (rate_limit(destination)) }
                            td.num data-label="Backlog" { (backlog) }
                            td.num data-label="Dead" {
                                a href={ (dead_letters::PATH) "?destination=" (destination.id) } {
                                    (readings.dead.get(&destination.id).copied().unwrap_or(0)) }
                            }
                            td.spark data-label="Attempts per minute" {
                                (chart::minutes(&format!("Attempts to {}, failures in red", destination.id),
                                    &activity.series, Some(&activity.failures), readings.first))
                            }
                        }
                    }
                }
            }
        }
    }
}

fn activity_of(readings: &Readings, id: &str) -> DestinationActivity {
    readings
        .summary
        .destinations
        .get(id)
        .cloned()
        .unwrap_or_default()
}

/// The circuit's state in this process; a process that does not deliver has none.
fn circuit_badge(console: &Console, id: &str) -> Markup {
    let state = console
        .runtime
        .circuits
        .as_ref()
        .and_then(|circuits| circuits.get(id))
        .map(|circuit| circuit.state().as_str());
    html! {
        @match state {
            Some(state) => span class={ "badge circuit-" (state) } title="circuit breaker" {
                "circuit " (state.replace('_', "-")) },
            None => span.badge title="this process does not deliver" { "circuit: not here" },
        }
    }
}

fn rate_limit(destination: &DestinationConfig) -> String {
    match destination.rate_limit_per_sec {
        Some(rate) => format!("{rate}/s"),
        None => "none".to_owned(),
    }
}

/// "≤ 50 ms / ≤ 250 ms": the bounds of the latency buckets the median and the 99th
/// percentile fall in.
fn latency(activity: &DestinationActivity) -> String {
    let bound = |quantile| match activity.latency_within_ms(quantile) {
        None => "—".to_owned(),
        Some(SLOWER) => "> 30 s".to_owned(),
        Some(ms) => format!("≤ {ms} ms"),
    };
    format!("{} / {}", bound(0.5), bound(0.99))
}

/// The URL without user, password, query or fragment: where credentials would be.
fn without_credentials(text: &str) -> String {
    match url::Url::parse(text) {
        Ok(url) if url.has_host() => {
            format!(
                "{}://{}{}",
                url.scheme(),
                url.host_str().unwrap_or_default(),
                url.port()
                    .map(|port| format!(":{port}"))
                    .unwrap_or_default()
            ) + url.path()
        }
        _ => "(not shown)".to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn urls_lose_everything_that_could_hold_a_credential() {
        assert_eq!(
            without_credentials("https://user:pw@api.internal:8443/hooks?token=abc#x"),
            "https://api.internal:8443/hooks"
        );
        assert_eq!(
            without_credentials("http://127.0.0.1/"),
            "http://127.0.0.1/"
        );
        assert_eq!(without_credentials("not a url"), "(not shown)");
    }
}
