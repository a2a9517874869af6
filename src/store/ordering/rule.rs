//! The claim rule of ordered delivery, over one key's deliveries in memory: what
//! `deliveries::CLAIM` decides in SQL, kept here in plain Rust so that a model can drive it
//! through any interleaving of ingest, claims, outcomes, lease expiry, replays and skips (see
//! the property tests below).

/// Where one delivery of a key stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Standing {
    /// Waiting: `due` once its `run_at` has passed (false while it backs off).
    Pending {
        due: bool,
    },
    InFlight,
    /// Delivered or filtered: it holds nothing back.
    Done,
    /// Dead; `released` once its event was replayed since or the key was skipped past it.
    Dead {
        released: bool,
    },
}

/// One delivery of a key, at its place in the key's queue: (event, delivery), both in the
/// order they were created, so a replay shares its event's place.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Queued {
    pub place: (u64, u64),
    pub standing: Standing,
}

/// Whether `candidate` may be claimed now among `key_queue` (every delivery of its key to the
/// destination, in any order); `dead_blocks`: the destination's `on_dead` is "block".
pub fn claimable(key_queue: &[Queued], candidate: &Queued, dead_blocks: bool) -> bool {
    candidate.standing == Standing::Pending { due: true }
        && !key_queue
            .iter()
            .filter(|other| other.place != candidate.place)
            .any(|other| holds_back(other, candidate, dead_blocks))
}

/// Whether `other` keeps `candidate` waiting.
fn holds_back(other: &Queued, candidate: &Queued, dead_blocks: bool) -> bool {
    let before = other.place < candidate.place;
    match other.standing {
        Standing::InFlight => true,
        Standing::Pending { .. } => before,
        Standing::Dead { released: false } => before && dead_blocks,
        Standing::Dead { released: true } | Standing::Done => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;
    use std::collections::BTreeMap;

    const KEYS: u8 = 3;

    /// One step of the world around the queue.
    #[derive(Debug, Clone)]
    enum Step {
        Ingest(u8),
        /// A claim of up to this many deliveries, over every key.
        Claim(usize),
        /// The in-flight delivery with this index (modulo) ends so.
        Succeed(usize),
        Fail(usize),
        Die(usize),
        /// A lease runs out or a worker dies: the attempt ends, due again at once.
        Expire(usize),
        /// Backoffs end.
        Tick,
        /// The dead delivery with this index (modulo) is replayed.
        Replay(usize),
        Skip(u8),
    }

    fn step() -> impl Strategy<Value = Step> {
        prop_oneof![
            3 => (0..KEYS).prop_map(Step::Ingest),
            3 => (1usize..5).prop_map(Step::Claim),
            3 => any::<usize>().prop_map(Step::Succeed),
            1 => any::<usize>().prop_map(Step::Fail),
            1 => any::<usize>().prop_map(Step::Die),
            1 => any::<usize>().prop_map(Step::Expire),
            1 => Just(Step::Tick),
            1 => any::<usize>().prop_map(Step::Replay),
            1 => (0..KEYS).prop_map(Step::Skip),
        ]
    }

    /// Every delivery of every key, and what was delivered, in delivery order.
    #[derive(Default)]
    struct Model {
        queues: BTreeMap<u8, Vec<Queued>>,
        next_id: u64,
        delivered: BTreeMap<u8, Vec<(u64, u64)>>,
    }

    impl Model {
        /// Every delivery `pick` chooses, given its key's queue, as (key, index).
        fn positions(&self, pick: impl Fn(&[Queued], &Queued) -> bool) -> Vec<(u8, usize)> {
            self.queues
                .iter()
                .flat_map(|(key, queue)| {
                    queue
                        .iter()
                        .enumerate()
                        .filter(|(_, q)| pick(queue, q))
                        .map(move |(i, _)| (*key, i))
                        .collect::<Vec<_>>()
                })
                .collect()
        }

        /// One of the deliveries standing as `pick` says, chosen by `index` (modulo).
        fn find(&self, pick: impl Fn(Standing) -> bool, index: usize) -> Option<(u8, usize)> {
            let all = self.positions(|_, q| pick(q.standing));
            (!all.is_empty()).then(|| all[index % all.len()])
        }

        fn set(&mut self, (key, i): (u8, usize), standing: Standing) {
            self.queues.get_mut(&key).unwrap()[i].standing = standing;
        }

        fn end_in_flight(&mut self, index: usize, standing: Standing) -> Option<(u8, usize)> {
            let found = self.find(|s| s == Standing::InFlight, index)?;
            self.set(found, standing);
            Some(found)
        }

        fn apply(&mut self, step: &Step, dead_blocks: bool) {
            match *step {
                Step::Ingest(key) => {
                    self.next_id += 1;
                    let place = (self.next_id, self.next_id);
                    let standing = Standing::Pending { due: true };
                    self.queues
                        .entry(key)
                        .or_default()
                        .push(Queued { place, standing });
                }
                Step::Claim(limit) => {
                    // One claim sees one state: it decides every pick before it takes any.
                    let mut picks = self.positions(|queue, q| claimable(queue, q, dead_blocks));
                    picks.truncate(limit);
                    for (key, i) in picks {
                        let place = self.queues[&key][i].place;
                        self.assert_all_before_are_settled(key, place, dead_blocks);
                        self.set((key, i), Standing::InFlight);
                    }
                }
                Step::Succeed(index) => {
                    if let Some((key, i)) = self.end_in_flight(index, Standing::Done) {
                        let place = self.queues[&key][i].place;
                        self.delivered.entry(key).or_default().push(place);
                    }
                }
                Step::Fail(index) => {
                    self.end_in_flight(index, Standing::Pending { due: false });
                }
                Step::Die(index) => {
                    self.end_in_flight(index, Standing::Dead { released: false });
                }
                Step::Expire(index) => {
                    self.end_in_flight(index, Standing::Pending { due: true });
                }
                Step::Tick => {
                    for queue in self.queues.values_mut() {
                        for q in queue.iter_mut() {
                            if let Standing::Pending { .. } = q.standing {
                                q.standing = Standing::Pending { due: true };
                            }
                        }
                    }
                }
                Step::Replay(index) => {
                    let dead = |s| matches!(s, Standing::Dead { released: false });
                    if let Some((key, i)) = self.find(dead, index) {
                        self.set((key, i), Standing::Dead { released: true });
                        self.next_id += 1;
                        let event = self.queues[&key][i].place.0;
                        let standing = Standing::Pending { due: true };
                        let place = (event, self.next_id);
                        self.queues
                            .get_mut(&key)
                            .unwrap()
                            .push(Queued { place, standing });
                    }
                }
                Step::Skip(key) => {
                    for q in self.queues.entry(key).or_default().iter_mut() {
                        if q.standing == (Standing::Dead { released: false }) {
                            q.standing = Standing::Dead { released: true };
                        }
                    }
                }
            }
            self.assert_one_in_flight_per_key();
        }

        fn assert_one_in_flight_per_key(&self) {
            for (key, queue) in &self.queues {
                let in_flight = queue.iter().filter(|q| q.standing == Standing::InFlight);
                assert!(
                    in_flight.count() <= 1,
                    "key {key}: two deliveries in flight"
                );
            }
        }

        /// When a delivery is claimed, everything before it in its key is delivered, or dead
        /// and let go (skipped, replayed, or `on_dead = "skip"`). (A replay may take a place
        /// before a delivery already in flight: that one goes on, the replay comes next.)
        fn assert_all_before_are_settled(&self, key: u8, place: (u64, u64), dead_blocks: bool) {
            for q in self.queues[&key].iter().filter(|q| q.place < place) {
                let settled = match q.standing {
                    Standing::Done => true,
                    Standing::Dead { released } => released || !dead_blocks,
                    Standing::Pending { .. } | Standing::InFlight => false,
                };
                assert!(settled, "key {key}: {place:?} delivered before {q:?}");
            }
        }
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(512))]

        #[test]
        fn any_interleaving_keeps_each_key_in_order_one_at_a_time(
            steps in proptest::collection::vec(step(), 1..120),
            dead_blocks in any::<bool>(),
        ) {
            let mut model = Model::default();
            for step in &steps {
                model.apply(step, dead_blocks);
            }
            for (key, delivered) in &model.delivered {
                let events: Vec<u64> = delivered.iter().map(|place| place.0).collect();
                let mut sorted = events.clone();
                sorted.sort_unstable();
                // Replays aside (they take an earlier event's place again), deliveries of a
                // key happen in ingest order.
                if !steps.iter().any(|s| matches!(s, Step::Replay(_))) {
                    prop_assert_eq!(&events, &sorted, "key {}", key);
                }
            }
        }

        #[test]
        fn a_key_with_a_due_head_and_nothing_in_flight_is_never_stuck(
            steps in proptest::collection::vec(step(), 1..80),
        ) {
            let mut model = Model::default();
            for step in &steps {
                model.apply(step, false);
            }
            model.apply(&Step::Tick, false);
            model.apply(&Step::Claim(usize::MAX), false);
            for (key, queue) in &model.queues {
                let pending = queue.iter().any(|q| matches!(q.standing, Standing::Pending { .. }));
                let in_flight = queue.iter().any(|q| q.standing == Standing::InFlight);
                prop_assert!(!pending || in_flight, "key {} has work but nothing claimable", key);
            }
        }
    }

    #[test]
    fn only_the_head_of_a_key_is_claimable() {
        let pending = |n| Queued {
            place: (n, n),
            standing: Standing::Pending { due: true },
        };
        let queue = [pending(1), pending(2)];
        assert!(claimable(&queue, &queue[0], true));
        assert!(!claimable(&queue, &queue[1], true));
    }

    #[test]
    fn a_dead_head_blocks_only_when_the_destination_says_so() {
        let dead = Queued {
            place: (1, 1),
            standing: Standing::Dead { released: false },
        };
        let next = Queued {
            place: (2, 2),
            standing: Standing::Pending { due: true },
        };
        let queue = [dead, next];
        assert!(!claimable(&queue, &next, true));
        assert!(claimable(&queue, &next, false));
    }
}
