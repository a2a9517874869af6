//! `GET /dead-letters`: the dead deliveries a redrive would take, by destination and by
//! failure reason, then one page of them, most recently failed first; the filters are in the
//! URL. The redrive itself (`POST /dead-letters/redrive`) is in [`super::redrive`].

use super::error::ConsoleError;
use super::fields;
use super::layout::{self, Tone};
use super::params::{self, blank, given, owned};
use super::session::Session;
use super::{redrive, replay_jobs};
use crate::admin::AdminState;
use crate::admin::page;
use crate::replays::ReplayApi;
use crate::replays::api::check_filter;
use crate::store::{
    DeadLetterGroup, DeliveryPosition, DeliverySummary, FinishedState, ReplayFilter,
};
use actix_web::http::StatusCode;
use actix_web::{HttpRequest, HttpResponse, web};
use maud::{Markup, html};
use serde::{Deserialize, Serialize};
use time::OffsetDateTime;

pub const PATH: &str = "/dead-letters";

/// The page's query: the filters as typed, and the cursor of the page shown.
#[derive(Debug, Default, Clone, Deserialize, Serialize)]
#[serde(default)]
pub struct DeadLetterParams {
    #[serde(skip_serializing_if = "blank")]
    destination: Option<String>,
    #[serde(skip_serializing_if = "blank")]
    source: Option<String>,
    #[serde(skip_serializing_if = "blank")]
    since: Option<String>,
    #[serde(skip_serializing_if = "blank")]
    until: Option<String>,
    #[serde(skip_serializing_if = "blank")]
    cursor: Option<String>,
}

impl DeadLetterParams {
    /// The bulk replay filter these fields stand for at `now` (dead deliveries only); else
    /// what is wrong with them.
    fn to_filter(
        &self,
        now: OffsetDateTime,
        destinations: &[String],
    ) -> Result<ReplayFilter, Vec<String>> {
        let mut problems = Vec::new();
        let since = params::time("since", &self.since, now, &mut problems);
        let until = params::time("until", &self.until, now, &mut problems);
        let filter = ReplayFilter {
            source: owned(&self.source),
            destination: owned(&self.destination),
            status: Some(FinishedState::Dead),
            since,
            until,
        };
        if problems.is_empty()
            && let Err(problem) = check_filter(&filter, destinations)
        {
            problems.push(problem);
        }
        if problems.is_empty() {
            Ok(filter)
        } else {
            Err(problems)
        }
    }

    fn is_filtered(&self) -> bool {
        [&self.destination, &self.source, &self.since, &self.until]
            .into_iter()
            .any(|field| given(field).is_some())
    }

    /// This view's URL at page `cursor`, or narrowed to `destination`.
    fn url(&self, cursor: Option<&str>, destination: Option<&str>) -> String {
        let view = DeadLetterParams {
            cursor: cursor.map(str::to_owned),
            destination: destination
                .map(str::to_owned)
                .or_else(|| self.destination.clone()),
            ..self.clone()
        };
        params::url(PATH, &view)
    }
}

/// What the page found for a readable filter.
struct Found {
    filter: ReplayFilter,
    groups: Vec<DeadLetterGroup>,
    letters: Vec<DeliverySummary>,
    next_cursor: Option<String>,
}

impl Found {
    /// How many dead deliveries the filter matches: the sum over destinations.
    fn total(&self) -> i64 {
        self.groups
            .iter()
            .filter(|group| group.destination.is_some())
            .map(|group| group.count)
            .sum()
    }
}

/// The dead letters page.
pub async fn list(
    req: HttpRequest,
    admin: web::Data<AdminState>,
    api: web::Data<ReplayApi>,
    session: Session,
) -> Result<HttpResponse, ConsoleError> {
    let params: DeadLetterParams = params::read(&req)?;
    let result = match params.to_filter(OffsetDateTime::now_utc(), &api.destinations) {
        Err(problems) => Err(problems),
        Ok(filter) => Ok(find(&api, &params, filter).await?),
    };
    let status = if result.is_ok() {
        StatusCode::OK
    } else {
        StatusCode::BAD_REQUEST
    };
    let body = html! {
        h1 { "Dead letters" }
        p.hint { "Deliveries that gave up, not yet redriven. Redrive queues them again with \
            the same Idempotency-Key; those that fail again come back here." }
        (filter_form(&params, &admin, &api.destinations))
        @match &result {
            Err(problems) => @for problem in problems { (layout::message(Tone::Error, problem)) },
            Ok(found) if found.groups.is_empty() => (empty_state(&params)),
            Ok(found) => {
                (groups(&params, found))
                (redrive::form(&found.filter, found.total(), &session))
                (letters(&params, found))
            }
        }
    };
    let markup = layout::page_in("Dead letters", Some(&session), Some(PATH), body);
    Ok(layout::respond(status, markup))
}

async fn find(
    api: &ReplayApi,
    params: &DeadLetterParams,
    filter: ReplayFilter,
) -> Result<Found, ConsoleError> {
    let after: Option<DeliveryPosition> = page::position(given(&params.cursor))?;
    let limit = page::DEFAULT_LIMIT;
    let groups = api
        .store
        .dead_letter_groups(&filter, &api.destinations)
        .await?;
    let rows = api
        .store
        .dead_letters(&filter, &api.destinations, after, limit + 1)
        .await?;
    let (letters, next_cursor) = page::paginate(rows, limit, DeliverySummary::position);
    Ok(Found {
        filter,
        groups,
        letters,
        next_cursor,
    })
}

fn filter_form(params: &DeadLetterParams, admin: &AdminState, destinations: &[String]) -> Markup {
    let source = given(&params.source);
    let destination = given(&params.destination);
    html! {
        form.filters.short method="get" action=(PATH) role="search" data-drop-empty {
            (fields::choice("d-destination", "destination", "Destination", "Any destination",
                destinations.iter().map(String::as_str), destination))
            (fields::source_choice("d-source", &admin.sources, source))
            (fields::time_range("d", "Received", &params.since, &params.until))
            div.actions {
                button type="submit" { "Filter" }
                @if params.is_filtered() { a href=(PATH) { "Clear filters" } }
            }
        }
    }
}

/// The two groupings side by side; a destination narrows the view to it.
fn groups(params: &DeadLetterParams, found: &Found) -> Markup {
    let by_destination = found.groups.iter().filter_map(|g| {
        let destination = g.destination.as_deref()?;
        let link = html! { a href=(params.url(None, Some(destination))) { (destination) } };
        Some((link, g))
    });
    let by_reason = found.groups.iter().filter_map(|g| {
        let reason = g.reason.as_deref()?;
        Some((html! { span.mono { (reason) } }, g))
    });
    html! {
        div.groups {
            (group_table("by-destination", "By destination", "Destination", by_destination))
            (group_table("by-reason", "By failure reason", "Reason", by_reason))
        }
    }
}

/// One grouping: each group's name (as `rows` render it), count and latest failure.
fn group_table<'a>(
    id: &str,
    title: &str,
    column: &str,
    rows: impl Iterator<Item = (Markup, &'a DeadLetterGroup)>,
) -> Markup {
    html! {
        section aria-labelledby=(id) {
            h2 #(id) { (title) }
            table.list.compact {
                thead { tr { th scope="col" { (column) } th scope="col" .num { "Dead" }
                    th scope="col" { "Latest" } } }
                tbody {
                    @for (name, group) in rows {
                        tr {
                            th scope="row" { (name) }
                            td.num { (group.count) }
                            td { (layout::time(group.latest)) }
                        }
                    }
                }
            }
        }
    }
}

fn letters(params: &DeadLetterParams, found: &Found) -> Markup {
    html! {
        h2 { "Dead deliveries" }
        table.list {
            caption.visually-hidden { "Dead deliveries, most recently failed first" }
            thead { tr {
                th scope="col" { "Failed" }
                th scope="col" { "Event" }
                th scope="col" { "Destination" }
                th scope="col" { "Source" }
                th scope="col" { "Attempts" }
                th scope="col" { "Last answer" }
            } }
            tbody {
                @for letter in &found.letters {
                    tr data-id=(letter.id) {
                        td data-label="Failed" { (layout::time(letter.updated_at)) }
                        td data-label="Event" {
                            a.mono href={ (super::events::PATH) "/" (letter.event_id) } {
                                (letter.event_id)
                            }
                        }
                        td data-label="Destination" { (letter.destination) }
                        td data-label="Source" { (letter.source) }
                        td data-label="Attempts" { (letter.attempts) }
                        td data-label="Last answer" .mono { (last_answer(letter)) }
                    }
                }
            }
        }
        nav.pages aria-label="Pages" {
            @if given(&params.cursor).is_some() {
                a href=(params.url(None, None)) { "← Most recent" }
            }
            @if let Some(cursor) = &found.next_cursor {
                a href=(params.url(Some(cursor), None)) rel="next" { "Older →" }
            }
        }
    }
}

/// The last attempt's outcome: the transport error, else the status.
fn last_answer(letter: &DeliverySummary) -> String {
    match (&letter.last_error, letter.last_status) {
        (Some(error), _) => error.clone(),
        (None, Some(status)) => format!("HTTP {status}"),
        (None, None) => "—".to_owned(),
    }
}

fn empty_state(params: &DeadLetterParams) -> Markup {
    html! {
        div.empty {
            @if params.is_filtered() {
                p { strong { "No dead delivery matches these filters." } }
                p { "Widen the time range or " a href=(PATH) { "clear the filters" } "." }
            } @else {
                p { strong { "No dead letters: every delivery arrived or is still being tried." } }
                p { "Deliveries that run out of attempts land here. Follow the ones still being \
                    tried on the " a href={ (super::events::PATH) "?status=pending" } { "events page" }
                    ", and past redrives on " a href=(replay_jobs::PATH) { "replay jobs" } "." }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use time::macros::datetime;

    fn params(query: &str) -> DeadLetterParams {
        serde_urlencoded::from_str(query).unwrap()
    }

    #[test]
    fn filters_become_a_dead_only_replay_filter_or_say_what_is_wrong() {
        let now = datetime!(2025-06-15 12:00 UTC);
        let destinations = vec!["billing".to_owned()];
        let filter = params("destination=billing&source=&since=1h")
            .to_filter(now, &destinations)
            .unwrap();
        assert_eq!(filter.status, Some(FinishedState::Dead));
        assert_eq!(filter.destination.as_deref(), Some("billing"));
        assert_eq!(filter.source, None);
        assert_eq!(filter.since, Some(datetime!(2025-06-15 11:00 UTC)));
        let problems = params("destination=nowhere")
            .to_filter(now, &destinations)
            .unwrap_err();
        assert_eq!(problems, [r#"unknown destination "nowhere""#]);
        let problems = params("since=soon&until=later")
            .to_filter(now, &destinations)
            .unwrap_err();
        assert_eq!(problems.len(), 2);
    }

    #[test]
    fn a_destination_link_keeps_the_other_filters_and_drops_the_page() {
        let view = params("source=stripe&cursor=abc");
        assert_eq!(
            view.url(None, Some("billing")),
            "/dead-letters?destination=billing&source=stripe"
        );
        assert_eq!(params("").url(None, None), "/dead-letters");
    }
}
