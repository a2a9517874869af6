//! `GET /replays`: every bulk replay, newest first, with its progress, state, who asked and
//! when; `GET /replays/{id}`: one replay, its progress bar refreshed while it runs (where a
//! redrive from the dead letters page lands).

use super::error::ConsoleError;
use super::layout::{self, Tone};
use super::params::{self, blank, given};
use super::session::Session;
use crate::admin::AdminState;
use crate::replays::api::{ReplayPage, list_page};
use crate::store::{FinishedState, ReplayFilter, ReplayProgress};
use actix_web::http::StatusCode;
use actix_web::{HttpRequest, HttpResponse, web};
use maud::{Markup, html};
use serde::{Deserialize, Serialize};
use time::macros::format_description;
use uuid::Uuid;

pub const PATH: &str = "/replays";

/// How often a running replay's progress refreshes, in milliseconds.
const LIVE_INTERVAL_MS: u32 = 1000;

/// The list's query: only the page.
#[derive(Debug, Default, Deserialize, Serialize)]
#[serde(default)]
struct JobsParams {
    #[serde(skip_serializing_if = "blank")]
    cursor: Option<String>,
}

/// The replay jobs page.
pub async fn list(
    req: HttpRequest,
    admin: web::Data<AdminState>,
    session: Session,
) -> Result<HttpResponse, ConsoleError> {
    let params: JobsParams = params::read(&req)?;
    let cursor = given(&params.cursor);
    let ReplayPage {
        replays: jobs,
        next_cursor,
    } = list_page(&admin.store, cursor, None).await?;
    // The first page follows running replays until they finish.
    let running = cursor.is_none() && jobs.iter().any(|job| job.state == "running");
    let body = html! {
        h1 { "Replay jobs" }
        p.hint { "Bulk replays, newest first: started from the dead letters page or with "
            code { "hookgate replay bulk" } "." }
        table.list {
            caption.visually-hidden { "Replay jobs, newest first" }
            thead { tr {
                th scope="col" { "Started" }
                th scope="col" { "State" }
                th scope="col" { "Progress" }
                th scope="col" { "What" }
                th scope="col" { "Requested by" }
            } }
            tbody #replay-rows data-live=[running.then_some(LIVE_INTERVAL_MS)] {
                @for job in &jobs { (row(job)) }
                @if jobs.is_empty() {
                    tr.empty { td colspan="5" {
                        p { strong { "No replay jobs yet." } }
                        p { "Open the " a href=(super::dead_letters::PATH) { "dead letters" }
                            " and redrive them, or run " code { "hookgate replay bulk" }
                            "; the job shows up here with its progress." }
                    } }
                }
            }
        }
        nav.pages aria-label="Pages" {
            @if cursor.is_some() { a href=(PATH) { "← Newest" } }
            @if let Some(cursor) = &next_cursor {
                a href=(params::url(PATH, &JobsParams { cursor: Some(cursor.clone()) }))
                    rel="next" { "Older jobs →" }
            }
        }
    };
    let markup = layout::page_in("Replay jobs", Some(&session), Some(PATH), body);
    Ok(layout::respond(StatusCode::OK, markup))
}

fn row(job: &ReplayProgress) -> Markup {
    html! {
        tr data-id=(job.id) {
            td data-label="Started" {
                a href=(job_path(job.id)) { (layout::time(job.created_at)) }
            }
            td data-label="State" { (layout::state_badge(&job.state)) }
            td data-label="Progress" { (progress_bar(job)) }
            td data-label="What" { (describe(&job.filter)) }
            td data-label="Requested by" { (job.requested_by.as_deref().unwrap_or("—")) }
        }
    }
}

/// One replay job's page.
pub async fn show(
    admin: web::Data<AdminState>,
    session: Session,
    path: web::Path<String>,
) -> Result<HttpResponse, ConsoleError> {
    let not_found = || ConsoleError::NotFound("No replay job has this id.");
    let id = Uuid::parse_str(&path).map_err(|_| not_found())?;
    let job = admin
        .store
        .replay_progress(id)
        .await?
        .ok_or_else(not_found)?;
    let running = job.state == "running";
    let title = format!("Replay job {}", short_id(job.id));
    let body = html! {
        p.crumbs { a href=(PATH) { "← Replay jobs" } }
        h1 { (title) }
        section #replay-progress .panel aria-labelledby="progress-title"
            data-live=[running.then_some(LIVE_INTERVAL_MS)] {
            h2 #progress-title { "Progress " (layout::state_badge(&job.state)) }
            (progress_bar(&job))
            @match job.state.as_str() {
                "running" => p.hint { "New deliveries are queued in batches; this page \
                    follows them." },
                "completed" => (layout::message(Tone::Success, &completed_message(&job))),
                _ => (layout::message(Tone::Error, job.error.as_deref()
                    .unwrap_or("The replay failed; the server log has the details."))),
            }
        }
        dl.meta {
            div.full { dt { "What" } dd { (describe(&job.filter)) } }
            div { dt { "Started" } dd { (layout::time(job.created_at)) } }
            div { dt { "Finished" } dd {
                @match job.completed_at { Some(at) => (layout::time(at)), None => "not yet" }
            } }
            div { dt { "Requested by" } dd { (job.requested_by.as_deref().unwrap_or("—")) } }
            div.full { dt { "Job id" } dd.mono { (job.id) } }
        }
        p { a href=(super::dead_letters::PATH) { "Dead letters" } " · "
            a href={ (super::events::PATH) "?status=pending" } { "Deliveries still pending" } }
    };
    let markup = layout::page_in(&title, Some(&session), Some(PATH), body);
    Ok(layout::respond(StatusCode::OK, markup))
}

fn completed_message(job: &ReplayProgress) -> String {
    match job.replayed {
        0 => "Nothing to replay: no delivery matched.".to_owned(),
        1 => "1 delivery queued again; it is delivered like any other.".to_owned(),
        n => format!("{n} deliveries queued again; they are delivered like any other."),
    }
}

/// The page of replay job `id`.
pub fn job_path(id: Uuid) -> String {
    format!("{PATH}/{id}")
}

/// The end of an id (its random part; the start is the time): enough to tell jobs apart.
fn short_id(id: Uuid) -> String {
    id.simple().to_string()[24..].to_owned()
}

/// How far a job has come: a bar and its numbers.
fn progress_bar(job: &ReplayProgress) -> Markup {
    let percent = percent(job.replayed, job.matched);
    html! {
        div.progress {
            progress max=(job.matched.max(1)) value=(job.replayed.min(job.matched))
                aria-label={ "Replayed " (job.replayed) " of " (job.matched) } {}
            span.muted { (job.replayed) " / " (job.matched) " (" (percent) " %)" }
        }
    }
}

/// `done` of `total` in whole percent; nothing to do counts as done.
fn percent(done: i64, total: i64) -> i64 {
    if total <= 0 {
        100
    } else {
        (done.clamp(0, total) * 100) / total
    }
}

/// A filter in words: "dead deliveries to billing from stripe, received since …".
pub fn describe(filter: &ReplayFilter) -> String {
    let state = match filter.status {
        Some(FinishedState::Dead) => "dead deliveries",
        Some(FinishedState::Delivered) => "delivered deliveries",
        None => "delivered and dead deliveries",
    };
    let mut text = state.to_owned();
    if let Some(destination) = &filter.destination {
        text += &format!(" to {destination}");
    }
    if let Some(source) = &filter.source {
        text += &format!(" from {source}");
    }
    let at = |instant: time::OffsetDateTime| {
        instant
            .format(format_description!(
                "[year]-[month]-[day] [hour]:[minute]:[second] UTC"
            ))
            .unwrap_or_default()
    };
    match (filter.since, filter.until) {
        (Some(since), Some(until)) => {
            text += &format!(", received from {} until {}", at(since), at(until))
        }
        (Some(since), None) => text += &format!(", received since {}", at(since)),
        (None, Some(until)) => text += &format!(", received before {}", at(until)),
        (None, None) => {}
    }
    text
}

#[cfg(test)]
mod tests {
    use super::*;
    use time::macros::datetime;

    #[test]
    fn a_filter_reads_as_a_sentence() {
        assert_eq!(
            describe(&ReplayFilter::default()),
            "delivered and dead deliveries"
        );
        let filter = ReplayFilter {
            source: Some("stripe".into()),
            destination: Some("billing".into()),
            status: Some(FinishedState::Dead),
            since: Some(datetime!(2025-06-15 11:00 UTC)),
            until: None,
        };
        assert_eq!(
            describe(&filter),
            "dead deliveries to billing from stripe, received since 2025-06-15 11:00:00 UTC"
        );
    }

    #[test]
    fn progress_is_a_whole_percentage_and_nothing_to_do_is_done() {
        assert_eq!(percent(0, 0), 100);
        assert_eq!(percent(1, 3), 33);
        assert_eq!(percent(5, 3), 100);
        assert_eq!(percent(500, 1000), 50);
    }
}
