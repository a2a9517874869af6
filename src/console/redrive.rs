//! Redriving dead letters: the confirmation on the dead letters page (which says how many
//! deliveries the current filter matches), and `POST /dead-letters/redrive`, which starts the
//! admin API's bulk replay with that filter and goes to the job's page to follow it.
//!
//! The form carries the filter as resolved when the page was rendered (a JSON bulk replay
//! filter), so "the last hour" means the hour whose dead letters were counted.

use super::error::ConsoleError;
use super::form::Form;
use super::layout;
use super::replay_jobs;
use super::session::Session;
use crate::replays::ReplayApi;
use crate::replays::api::{check_filter, start};
use crate::store::{FinishedState, ReplayFilter};
use actix_web::{HttpResponse, web};
use maud::{Markup, html};

pub const PATH: &str = "/dead-letters/redrive";

/// The redrive action for the dead deliveries `filter` matches (`count` of them now).
pub fn form(filter: &ReplayFilter, count: i64, session: &Session) -> Markup {
    let noun = if count == 1 {
        "dead delivery"
    } else {
        "dead deliveries"
    };
    html! {
        details.replay.redrive {
            summary { "Redrive " (count) " " (noun) "…" }
            form method="post" action=(PATH) {
                (layout::csrf_field(session))
                input type="hidden" name="filter" value=(serde_json::to_string(filter).unwrap_or_default());
                p { "This queues " strong { (count) } " " (noun) " again ("
                    (replay_jobs::describe(filter)) "), with the same Idempotency-Key. \
                    Each becomes a new delivery; its progress is shown on the next page." }
                button type="submit" { "Confirm: redrive " (count) }
            }
        }
    }
}

/// Starts the redrive and shows its progress.
pub async fn redrive(
    api: web::Data<ReplayApi>,
    session: Session,
    form: Form,
) -> Result<HttpResponse, ConsoleError> {
    session.check_csrf(form.get("csrf"))?;
    let filter: ReplayFilter = serde_json::from_str(form.get("filter").unwrap_or_default())
        .map_err(|err| ConsoleError::BadRequest(format!("filter: {err}")))?;
    // Only dead letters, whatever the form says.
    let filter = ReplayFilter {
        status: Some(FinishedState::Dead),
        ..filter
    };
    check_filter(&filter, &api.destinations).map_err(ConsoleError::BadRequest)?;
    let (id, _) = start(&api, &filter, "console").await?;
    Ok(layout::see_other(&replay_jobs::job_path(id)))
}
