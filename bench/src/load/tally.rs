//! What the driver counts of a run's answers, in one tally shared by all its connections.

use std::collections::BTreeMap;
use std::sync::{Mutex, PoisonError};

use hdrhistogram::Histogram;
use tokio::time::Instant;

use crate::latency;

/// Why a request got no answer.
#[derive(Debug, Clone, Copy)]
pub(super) enum Failure {
    /// The connect failed or timed out; the request was not sent.
    Connect,
    /// No answer within [`super::REQUEST_TIMEOUT`].
    Timeout,
    /// The connection broke before the answer (reset, closed).
    Broken,
}

/// The run's tallies, one shared by every worker: four histograms of ~180 KiB each per
/// worker, at 10,000 connections, spent the driver's CPU on page faults and a merge of
/// gigabytes at the end instead of on requests (14,000 requests/s against a trivial server, 6 s of it
/// in the kernel).
pub(super) struct Tally {
    /// When the run's clock started, for `accepted_by_second`.
    pub(super) start: Instant,
    pub(super) statuses: BTreeMap<u16, u64>,
    pub(super) accepted_by_second: Vec<u64>,
    pub(super) connect_errors: u64,
    pub(super) timeouts: u64,
    /// Connections that broke mid-request (reset, closed before the answer).
    pub(super) broken: u64,
    pub(super) first_error: Option<String>,
    pub(super) latency: Histogram<u64>,
    pub(super) accepted: Histogram<u64>,
    pub(super) rejected: Histogram<u64>,
    pub(super) send_lag: Histogram<u64>,
}

impl Tally {
    pub(super) fn new() -> Tally {
        Tally {
            start: Instant::now(),
            statuses: BTreeMap::new(),
            accepted_by_second: Vec::new(),
            connect_errors: 0,
            timeouts: 0,
            broken: 0,
            first_error: None,
            latency: latency::new_histogram(),
            accepted: latency::new_histogram(),
            rejected: latency::new_histogram(),
            send_lag: latency::new_histogram(),
        }
    }

    /// Records an answer with `status` to a request due at `due` (open loop), sent at `sent`
    /// and answered at `done`.
    pub(super) fn record(
        &mut self,
        status: u16,
        due: Option<Instant>,
        sent: Instant,
        done: Instant,
    ) {
        *self.statuses.entry(status).or_default() += 1;
        let micros = |from: Instant, to: Instant| to.duration_since(from).as_micros() as u64;
        // From the intended time, or from the send when the driver woke before it.
        let start = due.map_or(sent, |due| due.min(sent));
        latency::record(&mut self.latency, micros(start, done));
        if let Some(due) = due {
            latency::record(&mut self.send_lag, micros(due, sent));
        }
        if (200..300).contains(&status) {
            latency::record(&mut self.accepted, micros(sent, done));
            let second = done.saturating_duration_since(self.start).as_secs() as usize;
            if self.accepted_by_second.len() <= second {
                self.accepted_by_second.resize(second + 1, 0);
            }
            self.accepted_by_second[second] += 1;
        } else if status == 503 {
            latency::record(&mut self.rejected, micros(sent, done));
        }
    }

    /// Counts one failure, keeping the first error's message.
    pub(super) fn fail(&mut self, failure: Failure, error: impl std::fmt::Display) {
        let counter = match failure {
            Failure::Connect => &mut self.connect_errors,
            Failure::Timeout => &mut self.timeouts,
            Failure::Broken => &mut self.broken,
        };
        *counter += 1;
        self.first_error
            .get_or_insert_with(|| format!("{failure:?}: {error:#}"));
    }

    pub(super) fn errors(&self) -> u64 {
        self.connect_errors + self.timeouts + self.broken
    }

    /// Runs `change` on the shared tally (a worker that panicked mid-record leaves it usable).
    pub(super) fn update(shared: &Mutex<Tally>, change: impl FnOnce(&mut Tally)) {
        change(&mut shared.lock().unwrap_or_else(PoisonError::into_inner));
    }
}
