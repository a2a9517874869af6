//! `GET /`: the overview. Ingest and delivery rates with charts of the last hour, the backlog,
//! the oldest pending delivery, the dead letters; per source what came in the last hour, per
//! destination how its deliveries fare (success rate, latency, circuit, rate limit). Refreshed
//! in place every few seconds.

use super::activity_summary::{self, Summary, rate_per_minute};
use super::error::ConsoleError;
use super::layout;
use super::session::Session;
use super::{Console, chart, dead_letters, destinations, events, sources};
use crate::admin::AdminState;
use crate::replays::ReplayApi;
use crate::store::{FinishedState, ReplayFilter, Stats};
use actix_web::http::StatusCode;
use actix_web::{HttpResponse, web};
use maud::{Markup, html};
use std::collections::HashMap;
use time::OffsetDateTime;

pub const PATH: &str = "/";

/// How often the overview refreshes, in milliseconds.
const LIVE_INTERVAL_MS: u32 = 5000;
/// The rates are averages over this many minutes.
const RATE_MINUTES: usize = 5;

/// What the overview, the sources and the destinations pages read: the totals, the last
/// hour's activity and the dead letters per destination (three queries).
pub struct Readings {
    pub stats: Stats,
    pub summary: Summary,
    pub dead: HashMap<String, i64>,
    /// The first minute of the summary.
    pub first: OffsetDateTime,
}

impl Readings {
    pub async fn take(admin: &AdminState, api: &ReplayApi) -> Result<Readings, ConsoleError> {
        let now = OffsetDateTime::now_utc();
        let first = activity_summary::start(now);
        let stats = admin.store.stats().await?;
        let rows = admin.store.activity_since(first).await?;
        let filter = ReplayFilter {
            status: Some(FinishedState::Dead),
            ..ReplayFilter::default()
        };
        let dead = api
            .store
            .dead_letter_groups(&filter, &api.destinations)
            .await?
            .into_iter()
            .filter_map(|group| Some((group.destination?, group.count)))
            .collect();
        Ok(Readings {
            stats,
            summary: Summary::of(&rows, now),
            dead,
            first,
        })
    }
}

/// The overview page.
pub async fn show(
    admin: web::Data<AdminState>,
    api: web::Data<ReplayApi>,
    console: web::Data<Console>,
    session: Session,
) -> Result<HttpResponse, ConsoleError> {
    let readings = Readings::take(&admin, &api).await?;
    let body = html! {
        h1 { "Overview" }
        div #overview data-live=(LIVE_INTERVAL_MS) {
            (tiles(&readings))
            @if admin.sources.sorted().is_empty() {
                (layout::message(layout::Tone::Info, "No source is configured: add a \
                    [[sources]] entry to the configuration and restart hookgate."))
            } @else if readings.summary.sources.is_empty() && readings.summary.destinations.is_empty() {
                div.empty {
                    p { strong { "Nothing came in during the last hour." } }
                    p { "Send a test webhook with " code { "hookgate sign --provider … --send" }
                        " (see the " a href=(events::PATH) { "events page" } " for the exact \
                        command); its request and delivery show up here within seconds." }
                }
            }
            (sources::activity_table(&admin, &readings))
            (destinations::activity_table(&console, &readings))
        }
    };
    let markup = layout::page_in("Overview", Some(&session), Some(PATH), body);
    Ok(layout::respond(StatusCode::OK, markup))
}

fn tiles(readings: &Readings) -> Markup {
    let summary = &readings.summary;
    let backlog: i64 = readings.stats.destinations.iter().map(|d| d.pending).sum();
    let oldest = readings
        .stats
        .destinations
        .iter()
        .filter_map(|d| d.oldest_pending_age_secs)
        .fold(None, |oldest: Option<f64>, age| {
            Some(oldest.map_or(age, |o| o.max(age)))
        });
    let dead: i64 = readings.dead.values().sum();
    html! {
        div.tiles {
            section.tile.wide aria-labelledby="t-ingest" {
                h2 #t-ingest { "Webhooks stored" }
                p.figure { (summary.ingested.iter().sum::<i64>()) span.unit { " in the last hour · "
                    (format!("{:.1}", rate_per_minute(&summary.ingested, RATE_MINUTES)))
                    "/min over " (RATE_MINUTES) " min" } }
                (chart::minutes("Webhooks stored per minute", &summary.ingested, None, readings.first))
            }
            section.tile.wide aria-labelledby="t-delivery" {
                h2 #t-delivery { "Delivery attempts" }
                p.figure { (summary.attempted.iter().sum::<i64>()) span.unit { " in the last hour · "
                    (format!("{:.1}", rate_per_minute(&summary.attempted, RATE_MINUTES)))
                    "/min over " (RATE_MINUTES) " min · " (summary.failed.iter().sum::<i64>())
                    " failed" } }
                (chart::minutes("Delivery attempts per minute, failures in red",
                    &summary.attempted, Some(&summary.failed), readings.first))
            }
            section.tile aria-labelledby="t-backlog" {
                h2 #t-backlog { "Backlog" }
                p.figure { (backlog) }
                p.hint { "pending or in flight" }
            }
            section.tile aria-labelledby="t-oldest" {
                h2 #t-oldest { "Oldest pending" }
                p.figure { (oldest.map_or_else(|| "—".to_owned(), age)) }
                p.hint { "waiting for delivery" }
            }
            section.tile aria-labelledby="t-dead" {
                h2 #t-dead { "Dead letters" }
                p.figure { a href=(dead_letters::PATH) { (dead) } }
                p.hint { "waiting for a redrive" }
            }
        }
    }
}

/// A duration in seconds for people: `42 s`, `3 min`, `2 h 5 min`.
pub fn age(secs: f64) -> String {
    let secs = secs.max(0.0).round() as u64;
    match secs {
        0..60 => format!("{secs} s"),
        60..3600 => format!("{} min", secs / 60),
        _ => format!("{} h {} min", secs / 3600, secs % 3600 / 60),
    }
}

/// A share as a percentage with one decimal, or a dash when there is nothing to share.
pub fn percent(share: Option<f64>) -> String {
    share.map_or_else(|| "—".to_owned(), |share| format!("{:.1} %", share * 100.0))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ages_and_shares_read_for_people() {
        assert_eq!(age(42.4), "42 s");
        assert_eq!(age(180.0), "3 min");
        assert_eq!(age(7500.0), "2 h 5 min");
        assert_eq!(age(-1.0), "0 s");
        assert_eq!(percent(Some(0.9876)), "98.8 %");
        assert_eq!(percent(None), "—");
    }
}
