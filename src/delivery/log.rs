//! The operator's view of delivery in the log: failed attempts, dead letters and the circuit
//! opening or closing, one line per change an operator acts on. Failures and dead letters are
//! throttled per destination (a destination that is down fails every attempt); circuit changes
//! are rare by construction and always logged. Successes are left to the metrics.

use super::circuit::Transition;
use super::policy::{Outcome, Step};
use crate::log_throttle::LogThrottle;
use crate::store::ClaimedDelivery;

/// The throttles of one destination's log lines.
#[derive(Debug, Default)]
pub struct DestinationLog {
    failed: LogThrottle,
    dead: LogThrottle,
}

impl DestinationLog {
    /// Logs what one attempt changed: a retry scheduled, a dead letter, the circuit.
    pub fn attempt(
        &self,
        destination: &str,
        delivery: &ClaimedDelivery,
        outcome: &Outcome,
        step: &Step,
        circuit: Transition,
    ) {
        match step {
            Step::Delivered => {}
            Step::Retry { after } => {
                if let Some(line) = self.failed.admit() {
                    tracing::warn!(
                        destination = %destination,
                        id = %delivery.event_id,
                        delivery = %delivery.id,
                        attempt = delivery.attempt,
                        outcome = %outcome,
                        retry_in_ms = after.as_millis() as u64,
                        suppressed = line.suppressed,
                        "delivery attempt failed; retrying"
                    );
                }
            }
            Step::Dead { reason } => {
                if let Some(line) = self.dead.admit() {
                    tracing::error!(
                        destination = %destination,
                        id = %delivery.event_id,
                        delivery = %delivery.id,
                        attempt = delivery.attempt,
                        reason = %reason,
                        suppressed = line.suppressed,
                        "delivery dead: no more attempts (replay it from the admin API)"
                    );
                }
            }
        }
        match circuit {
            Transition::Unchanged => {}
            Transition::Opened(cool_down) => tracing::warn!(
                destination = %destination,
                pause_secs = cool_down.as_secs(),
                "circuit opened: the destination keeps failing; its deliveries wait"
            ),
            Transition::Closed => tracing::info!(
                destination = %destination,
                "circuit closed: the destination answers again; deliveries resume"
            ),
        }
    }
}
