//! The operator's view of ingest in the log: one line per outcome an operator acts on
//! (accepted, duplicate, rejected, unknown source, not stored), each kind throttled per source
//! so that a busy gateway writes about one line a second per kind instead of one per webhook.
//! The metrics count every request exactly.

use super::error::IngestError;
use super::writer::CommitError;
use crate::log_throttle::{DEFAULT_INTERVAL, LogThrottle};
use crate::sources::Source;
use crate::store::InsertOutcome;
use crate::verify::EventIdentity;

/// The throttles of one source's log lines.
#[derive(Debug, Default)]
pub struct SourceLog {
    accepted: LogThrottle,
    duplicate: LogThrottle,
    rejected: LogThrottle,
    not_stored: LogThrottle,
}

/// Requests for unconfigured paths share one throttle: their ids are the caller's choice.
static UNKNOWN_SOURCE: LogThrottle = LogThrottle::new(DEFAULT_INTERVAL);

/// What was stored (or found stored) for an accepted request.
pub struct Stored<'a> {
    pub outcome: InsertOutcome,
    pub event_id: &'a str,
    pub event_type: Option<&'a str>,
    pub deliveries: usize,
}

impl<'a> Stored<'a> {
    pub fn new(outcome: InsertOutcome, identity: &'a EventIdentity, deliveries: usize) -> Self {
        Stored {
            outcome,
            event_id: &identity.event_id,
            event_type: identity.event_type.as_deref(),
            deliveries,
        }
    }
}

/// Logs a stored webhook: new ones with the deliveries they start, duplicates as such.
pub fn stored(source: &Source, stored: &Stored<'_>) {
    match stored.outcome {
        InsertOutcome::Accepted(id) => {
            if let Some(line) = source.log.accepted.admit() {
                tracing::info!(
                    source = %source.id,
                    id = %id,
                    event_id = ?stored.event_id,
                    event_type = ?stored.event_type.unwrap_or("-"),
                    deliveries = stored.deliveries,
                    suppressed = line.suppressed,
                    "webhook accepted"
                );
            }
        }
        InsertOutcome::Duplicate(id) => {
            if let Some(line) = source.log.duplicate.admit() {
                tracing::info!(
                    source = %source.id,
                    id = %id,
                    event_id = ?stored.event_id,
                    suppressed = line.suppressed,
                    "duplicate webhook: already stored, not delivered again"
                );
            }
        }
    }
}

/// Logs a refused request. Overload refusals are left to the metrics: under overload a line
/// each would add to the load being shed.
pub fn refused(source: Option<&Source>, path_id: &str, err: &IngestError) {
    let Some(source) = source else {
        if let Some(line) = UNKNOWN_SOURCE.admit() {
            tracing::warn!(
                source = ?truncated(path_id),
                suppressed = line.suppressed,
                "webhook for an unknown source: no [[sources]] entry has this id (answered 404)"
            );
        }
        return;
    };
    match err {
        // Overload is counted (`outcome="overloaded"`), not logged per webhook.
        IngestError::NotStored(CommitError::Overloaded) | IngestError::ConnectionShed { .. } => {}
        IngestError::NotStored(err) => {
            if let Some(line) = source.log.not_stored.admit() {
                tracing::warn!(source = %source.id, error = %err, suppressed = line.suppressed, "webhook not stored; answered 503 (the provider will retry)");
            }
        }
        _ => {
            if let Some(line) = source.log.rejected.admit() {
                tracing::warn!(source = %source.id, reason = %err, suppressed = line.suppressed, "webhook refused");
            }
        }
    }
}

/// At most 64 characters of a caller-chosen id, so a long path cannot flood the log.
fn truncated(id: &str) -> &str {
    match id.char_indices().nth(64) {
        Some((end, _)) => &id[..end],
        None => id,
    }
}

#[cfg(test)]
mod tests {
    use super::truncated;

    #[test]
    fn caller_chosen_ids_are_cut_at_64_characters() {
        assert_eq!(truncated("stripe"), "stripe");
        let long = "é".repeat(100);
        assert_eq!(truncated(&long).chars().count(), 64);
    }
}
