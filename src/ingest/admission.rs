//! Admission by expected queue wait: an event is refused at once when the events already queued
//! for the commit writer would take longer than half of `max_queue_wait` to drain; one that
//! still waited four times `max_queue_wait` (at least 1 s) is refused unwritten when a writer
//! comes for it.
//!
//! Why half: under sustained overload the queue stands at the admission threshold, so nearly
//! every admitted event waits about that long. Admitting up to the whole budget would put the
//! typical wait at the budget, with the estimate's errors above it; half leaves the other half
//! for those, so waits stay within the budget. Half the default 250 ms is still more than one
//! full batch of the writer at the rates measured here (1,100 events at 9,000/s), so batches
//! stay as large, and as cheap per event, as a longer queue's. The hard deadline is far longer
//! on purpose: it is for a Postgres that stopped answering, and a deadline of the budget itself
//! refused events at light load whenever one commit took longer than that (a busy machine's
//! fsync), which no provider should see.
//!
//! Pure logic, driven by explicit instants and durations so it is tested without a clock:
//! [`CapacityEstimator`] learns how many events per second the writers commit while they are
//! busy, and [`Admission`] turns that and the queue length into a yes or no.
//!
//! - **Burst after idle**: the estimate does not decay while the writers are idle (idle time
//!   says nothing about capacity), and a queue of up to [`QUEUE_FLOOR`] events is always
//!   admitted, so a sudden burst is never refused for lack of a measurement.
//! - **Stalled Postgres**: while batches are in flight and none has finished for longer than
//!   the stall grace, capacity is bounded by what could at best have been committed in that
//!   time (the events in flight over the time since the last progress), so admission
//!   tightens down to the floor while Postgres does not answer.
//! - **Before the first measurement**, only the stall bound and the queue's hard capacity
//!   limit admission.

use std::time::{Duration, Instant};

/// A queue this short is always admitted, whatever the estimate says.
pub const QUEUE_FLOOR: usize = 256;

/// The share of `max_queue_wait` the expected wait of an admitted event may reach.
const ADMITTED_SHARE_OF_WAIT: f64 = 0.5;

/// The shortest hard deadline: a queued event older than this is never written.
const MIN_DEADLINE: Duration = Duration::from_secs(1);

/// The hard deadline is this multiple of `max_queue_wait` (or [`MIN_DEADLINE`]).
const DEADLINE_FACTOR: u32 = 4;

/// Weight of the newest batch in the moving averages.
const SAMPLE_WEIGHT: f64 = 0.1;

/// A stall is declared only after this many usual batch durations without progress.
const STALL_BATCHES: f64 = 2.0;

/// Learns the commit capacity of the writers: events per second when they are busy.
///
/// Each writer reports the batches it writes. Batches written while the writer was
/// *backlogged* (it found events already waiting when it came for more) measure what a busy
/// writer achieves; the estimate is the ratio of exponentially weighted averages of batch
/// size and batch duration (so large batches weigh in proportion to their events), times the
/// number of writers. Batches written at light load are not samples: a lone event says how
/// fast one event commits, not how many a busy writer commits.
#[derive(Debug, Clone)]
pub struct CapacityEstimator {
    writers: f64,
    /// Minimum time without progress before batches in flight count as stalled.
    stall_grace: Duration,
    /// Weighted average events per sampled batch; `None` before the first sample.
    average: Option<Average>,
    in_flight_batches: usize,
    in_flight_events: usize,
    /// Last time a batch finished, or the writers went from idle to busy.
    last_progress: Option<Instant>,
}

#[derive(Debug, Clone, Copy)]
struct Average {
    events: f64,
    secs: f64,
}

impl CapacityEstimator {
    /// An estimator for `writers` writer tasks; batches count as stalled after `stall_grace`
    /// (or twice the usual batch duration, if longer) without progress.
    pub fn new(writers: usize, stall_grace: Duration) -> CapacityEstimator {
        CapacityEstimator {
            writers: writers.max(1) as f64,
            stall_grace,
            average: None,
            in_flight_batches: 0,
            in_flight_events: 0,
            last_progress: None,
        }
    }

    /// A writer started writing a batch of `events` at `now`.
    pub fn batch_started(&mut self, events: usize, now: Instant) {
        if self.in_flight_batches == 0 {
            // The stall clock starts when the writers get busy, not at the last batch
            // before an idle spell.
            self.last_progress = Some(now);
        }
        self.in_flight_batches += 1;
        self.in_flight_events += events;
    }

    /// A batch of `events` started earlier finished at `now` (committed or failed).
    /// `sample` is its duration when it committed and its writer was backlogged; other
    /// batches count as progress only.
    pub fn batch_finished(&mut self, events: usize, now: Instant, sample: Option<Duration>) {
        self.in_flight_batches = self.in_flight_batches.saturating_sub(1);
        self.in_flight_events = self.in_flight_events.saturating_sub(events);
        self.last_progress = Some(now);
        if let Some(duration) = sample {
            self.record(events, duration);
        }
    }

    fn record(&mut self, events: usize, duration: Duration) {
        let (events, secs) = (events as f64, duration.as_secs_f64());
        self.average = Some(match self.average {
            None => Average { events, secs },
            Some(avg) => Average {
                events: avg.events + SAMPLE_WEIGHT * (events - avg.events),
                secs: avg.secs + SAMPLE_WEIGHT * (secs - avg.secs),
            },
        });
    }

    /// Events per second the busy writers commit, as measured; `None` before the first
    /// sample. Ignores stalls: see [`CapacityEstimator::capacity`].
    pub fn measured(&self) -> Option<f64> {
        let avg = self.average?;
        let secs = avg.secs.max(1e-6);
        Some(avg.events / secs * self.writers)
    }

    /// The capacity to plan with at `now`: the measured one, bounded while the batches in
    /// flight are stalled by what they could at best commit over the time since the last
    /// progress. `None` when there is neither a measurement nor a stall.
    pub fn capacity(&self, now: Instant) -> Option<f64> {
        let measured = self.measured();
        match self.stalled_for(now) {
            Some(stalled) => {
                let bound = self.in_flight_events as f64 / stalled.as_secs_f64().max(1e-6);
                Some(measured.map_or(bound, |m| m.min(bound)))
            }
            None => measured,
        }
    }

    /// How long batches have been in flight without any finishing, when that is longer than
    /// the stall grace.
    fn stalled_for(&self, now: Instant) -> Option<Duration> {
        if self.in_flight_batches == 0 {
            return None;
        }
        let since = now.saturating_duration_since(self.last_progress?);
        let usual = self.average.map_or(Duration::ZERO, |avg| {
            Duration::from_secs_f64(avg.secs * STALL_BATCHES)
        });
        (since > self.stall_grace.max(usual)).then_some(since)
    }
}

/// The admission decision: the configured wait, the floor, the hard deadline, and the
/// capacity estimate they are applied to.
#[derive(Debug, Clone)]
pub struct Admission {
    max_wait: Duration,
    capacity: CapacityEstimator,
}

impl Admission {
    /// Admission for `writers` writer tasks that refuses when the expected queue wait exceeds
    /// `max_wait`.
    pub fn new(max_wait: Duration, writers: usize) -> Admission {
        Admission {
            max_wait,
            capacity: CapacityEstimator::new(writers, max_wait),
        }
    }

    /// Whether an event may join a queue that already holds `queued` events: yes while
    /// `queued <= max(QUEUE_FLOOR, capacity × max_wait / 2)`, and always without an estimate.
    pub fn admits(&self, queued: usize, now: Instant) -> bool {
        if queued <= QUEUE_FLOOR {
            return true;
        }
        match self.capacity.capacity(now) {
            Some(capacity) => {
                let admitted_wait = self.max_wait.as_secs_f64() * ADMITTED_SHARE_OF_WAIT;
                queued as f64 <= capacity * admitted_wait
            }
            None => true,
        }
    }

    /// How long an event may have waited in the queue and still be written:
    /// `DEADLINE_FACTOR × max_wait`, at least [`MIN_DEADLINE`]. An event that waited longer
    /// is answered "overloaded" without being written.
    pub fn deadline(&self) -> Duration {
        (self.max_wait * DEADLINE_FACTOR).max(MIN_DEADLINE)
    }

    /// The capacity estimate, for the writers to report their batches to.
    pub fn estimator(&mut self) -> &mut CapacityEstimator {
        &mut self.capacity
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const MS: Duration = Duration::from_millis(1);

    /// One backlogged batch of `events` taking `duration`, starting at `at`; returns its end.
    fn busy_batch(
        admission: &mut Admission,
        at: Instant,
        events: usize,
        duration: Duration,
    ) -> Instant {
        let end = at + duration;
        admission.estimator().batch_started(events, at);
        admission
            .estimator()
            .batch_finished(events, end, Some(duration));
        end
    }

    fn admission_at(rate_per_writer_batch: (usize, Duration)) -> (Admission, Instant) {
        let mut admission = Admission::new(250 * MS, 4);
        let mut now = Instant::now();
        for _ in 0..50 {
            now = busy_batch(
                &mut admission,
                now,
                rate_per_writer_batch.0,
                rate_per_writer_batch.1,
            );
        }
        (admission, now)
    }

    #[test]
    fn without_a_measurement_everything_up_to_the_hard_capacity_is_admitted() {
        let admission = Admission::new(250 * MS, 4);
        assert!(admission.admits(8191, Instant::now()));
    }

    #[test]
    fn capacity_is_events_per_busy_second_times_the_writers() {
        // 500 events in 50 ms per writer: 10,000/s each, 40,000/s for four.
        let (admission, now) = admission_at((500, 50 * MS));
        let capacity = admission.capacity.capacity(now).unwrap();
        assert!((capacity - 40_000.0).abs() < 1.0, "{capacity}");
    }

    #[test]
    fn the_expected_wait_of_an_admitted_event_is_at_most_half_the_budget() {
        // 40,000/s: half of the 250 ms budget is 5,000 events.
        let (admission, now) = admission_at((500, 50 * MS));
        assert!(admission.admits(4_990, now));
        assert!(!admission.admits(5_010, now));
    }

    #[test]
    fn a_queue_up_to_the_floor_is_always_admitted() {
        // 1 event per second per writer: 4/s, so 125 ms would be half an event.
        let (admission, now) = admission_at((1, 1000 * MS));
        assert!(admission.admits(QUEUE_FLOOR, now));
        assert!(!admission.admits(QUEUE_FLOOR + 1, now));
    }

    #[test]
    fn batches_at_light_load_do_not_lower_the_estimate() {
        let (mut admission, mut now) = admission_at((500, 50 * MS));
        let before = admission.capacity.measured().unwrap();
        for _ in 0..100 {
            now += 100 * MS;
            admission.estimator().batch_started(1, now);
            now += 2 * MS;
            admission.estimator().batch_finished(1, now, None);
        }
        assert_eq!(admission.capacity.measured().unwrap(), before);
    }

    #[test]
    fn an_idle_spell_does_not_shrink_what_a_burst_after_it_may_queue() {
        let (admission, now) = admission_at((500, 50 * MS));
        let much_later = now + Duration::from_secs(3600);
        assert!(admission.admits(4_990, much_later));
    }

    #[test]
    fn the_first_batch_after_idle_is_not_taken_for_a_stall() {
        let (mut admission, now) = admission_at((500, 50 * MS));
        let burst = now + Duration::from_secs(3600);
        admission.estimator().batch_started(1, burst);
        assert!(admission.admits(4_990, burst + 10 * MS));
    }

    #[test]
    fn large_batches_weigh_in_proportion_to_their_events() {
        let mut admission = Admission::new(250 * MS, 1);
        let mut now = Instant::now();
        for _ in 0..50 {
            now = busy_batch(&mut admission, now, 512, 32 * MS);
            now = busy_batch(&mut admission, now, 1, 2 * MS);
        }
        let capacity = admission.capacity.measured().unwrap();
        // Busy time shared out: (512 + 1) events per 34 ms ≈ 15,088/s, not the mean of
        // 16,000/s and 500/s.
        assert!((14_000.0..16_000.0).contains(&capacity), "{capacity}");
    }

    #[test]
    fn the_estimate_follows_a_change_in_capacity() {
        let (mut admission, mut now) = admission_at((500, 50 * MS));
        for _ in 0..100 {
            now = busy_batch(&mut admission, now, 500, 500 * MS);
        }
        let capacity = admission.capacity.measured().unwrap();
        assert!((3_900.0..4_100.0).contains(&capacity), "{capacity}");
    }

    #[test]
    fn a_stall_tightens_admission_down_to_the_floor() {
        let (mut admission, now) = admission_at((500, 50 * MS));
        for _ in 0..4 {
            admission.estimator().batch_started(512, now);
        }
        // Within the grace: the measurement stands.
        assert!(admission.admits(4_990, now + 200 * MS));
        // After a second without progress at most 2,048 events/s were committed: 256 in
        // 125 ms, and just over it after a little less than a second.
        let later = now + Duration::from_secs(1);
        assert!(admission.admits(256, later));
        assert!(!admission.admits(257, later));
        let earlier = now + 800 * MS;
        assert!(admission.admits(320, earlier));
        assert!(!admission.admits(321, earlier));
        // After a minute, only the floor.
        let stuck = now + Duration::from_secs(60);
        assert!(admission.admits(QUEUE_FLOOR, stuck));
        assert!(!admission.admits(QUEUE_FLOOR + 1, stuck));
        // Progress lifts the bound again.
        admission.estimator().batch_finished(512, stuck, None);
        assert!(admission.admits(4_990, stuck + MS));
    }

    #[test]
    fn a_stall_before_any_measurement_also_sheds() {
        let mut admission = Admission::new(250 * MS, 4);
        let now = Instant::now();
        admission.estimator().batch_started(100, now);
        assert!(admission.admits(8000, now + 100 * MS));
        assert!(!admission.admits(QUEUE_FLOOR + 1, now + Duration::from_secs(10)));
    }

    #[test]
    fn a_stall_needs_longer_than_twice_the_usual_batch() {
        // Batches usually take 400 ms, longer than the 250 ms wait: 600 ms is no stall (4,000
        // events/s: 500 in 125 ms), 900 ms is.
        let (mut admission, now) = admission_at((400, 400 * MS));
        admission.estimator().batch_started(400, now);
        assert!(admission.admits(500, now + 600 * MS));
        assert!(!admission.admits(500, now + 900 * MS));
    }

    #[test]
    fn the_deadline_is_four_waits_and_at_least_a_second() {
        assert_eq!(
            Admission::new(250 * MS, 4).deadline(),
            Duration::from_secs(1)
        );
        assert_eq!(Admission::new(MS, 4).deadline(), Duration::from_secs(1));
        assert_eq!(
            Admission::new(500 * MS, 4).deadline(),
            Duration::from_secs(2)
        );
    }
}
