//! The claim rule in the database against its model: random interleavings of ingest, claims,
//! successes, failures (due again or backing off), deaths, hand-backs, replays and skips on a
//! real queue; after every claim, what Postgres claimed is exactly what the in-memory rule
//! (`hookgate::store::ordering::rule`) says is claimable.

use crate::helpers::*;
use hookgate::store::ordering::rule::{Queued, Standing, claimable};
use hookgate::store::{AttemptRecord, NewEvent, NextState, Store};
use std::collections::{BTreeMap, BTreeSet};
use std::time::Duration;
use time::OffsetDateTime;
use uuid::Uuid;

const STEPS: usize = 300;
const KEYS: [&str; 3] = ["a", "b", "c"];

/// One delivery as the model knows it.
struct Known {
    key: Option<&'static str>,
    event: Uuid,
    queued: Queued,
}

/// A random number below `n`, from a UUIDv7's random low bits.
fn below(n: usize) -> usize {
    (Uuid::now_v7().as_u128() % n as u128) as usize
}

fn event(key: Option<&str>) -> NewEvent {
    queued_event(bytes::Bytes::from_static(b"{}"), key)
}

struct Run {
    store: Store,
    db: sqlx::PgPool,
    dead_blocks: bool,
    deliveries: BTreeMap<Uuid, Known>,
    /// Places in creation order (UUIDv7 order within this process).
    next_place: u64,
    event_places: BTreeMap<Uuid, u64>,
}

impl Run {
    fn add(&mut self, id: Uuid, event: Uuid, key: Option<&'static str>) {
        self.next_place += 1;
        let event_place = *self.event_places.entry(event).or_insert(self.next_place);
        let queued = Queued {
            place: (event_place, self.next_place),
            standing: Standing::Pending { due: true },
        };
        self.deliveries.insert(id, Known { key, event, queued });
    }

    fn pick(&self, standing: impl Fn(Standing) -> bool) -> Option<Uuid> {
        let ids: Vec<Uuid> = self
            .deliveries
            .iter()
            .filter(|(_, d)| standing(d.queued.standing))
            .map(|(id, _)| *id)
            .collect();
        (!ids.is_empty()).then(|| ids[below(ids.len())])
    }

    /// What the model says may be claimed now.
    fn claimable(&self) -> BTreeSet<Uuid> {
        self.deliveries
            .iter()
            .filter(|(_, d)| match d.key {
                None => d.queued.standing == Standing::Pending { due: true },
                Some(key) => {
                    let queue: Vec<Queued> = self
                        .deliveries
                        .values()
                        .filter(|o| o.key == Some(key))
                        .map(|o| o.queued)
                        .collect();
                    claimable(&queue, &d.queued, self.dead_blocks)
                }
            })
            .map(|(id, _)| *id)
            .collect()
    }

    async fn finish(&mut self, id: Uuid, next: NextState, standing: Standing) {
        let record = AttemptRecord {
            delivery_id: id,
            attempt: self.attempts(id).await,
            started_at: OffsetDateTime::now_utc(),
            duration: Duration::from_millis(1),
            status: Some(200),
            error: None,
            response_excerpt: None,
            next,
        };
        self.store
            .attempt_writer()
            .finish_deliveries(&[record])
            .await
            .unwrap();
        self.deliveries.get_mut(&id).unwrap().queued.standing = standing;
    }

    async fn attempts(&self, id: Uuid) -> i32 {
        sqlx::query_scalar::<_, i32>("SELECT attempts FROM deliveries WHERE id = $1")
            .bind(id)
            .fetch_one(&self.db)
            .await
            .unwrap()
    }

    async fn step(&mut self) {
        let now = OffsetDateTime::now_utc();
        let hour = time::Duration::hours(1);
        let in_flight = |s| s == Standing::InFlight;
        match below(9) {
            0 | 1 => {
                let key = [None, Some(KEYS[0]), Some(KEYS[1]), Some(KEYS[2])][below(4)];
                let event = event(key);
                self.store
                    .insert_events(std::slice::from_ref(&event))
                    .await
                    .unwrap();
                self.add(event.deliveries[0].id, event.id, key);
            }
            2 => {
                let expected = self.claimable();
                let claimed = self
                    .store
                    .claim_deliveries(
                        "billing",
                        1000,
                        Duration::from_secs(600),
                        self.dead_blocks,
                        false,
                    )
                    .await
                    .unwrap();
                let claimed: BTreeSet<Uuid> = claimed.iter().map(|c| c.id).collect();
                assert_eq!(claimed, expected, "the claim against the rule");
                for id in claimed {
                    self.deliveries.get_mut(&id).unwrap().queued.standing = Standing::InFlight;
                }
            }
            3 => {
                if let Some(id) = self.pick(in_flight) {
                    self.finish(id, NextState::Delivered, Standing::Done).await;
                }
            }
            4 => {
                if let Some(id) = self.pick(in_flight) {
                    let (next, due) = match below(2) {
                        0 => (NextState::RetryAt(now - hour), true),
                        _ => (NextState::RetryAt(now + hour), false),
                    };
                    self.finish(id, next, Standing::Pending { due }).await;
                }
            }
            5 => {
                if let Some(id) = self.pick(in_flight) {
                    let dead = Standing::Dead { released: false };
                    self.finish(id, NextState::Dead, dead).await;
                }
            }
            6 => {
                // A worker hands back what it claimed (or its lease ran out): due again.
                if let Some(id) = self.pick(in_flight) {
                    self.store.release_deliveries(&[id]).await.unwrap();
                    self.deliveries.get_mut(&id).unwrap().queued.standing =
                        Standing::Pending { due: true };
                }
            }
            7 => {
                if let Some(id) = self.pick(|s| s == Standing::Dead { released: false }) {
                    let known = &self.deliveries[&id];
                    let (event, key) = (known.event, known.key);
                    let replayed = self.store.redeliver(event, &["billing"]).await.unwrap();
                    self.deliveries.get_mut(&id).unwrap().queued.standing =
                        Standing::Dead { released: true };
                    self.add(replayed[0].id, event, key);
                }
            }
            _ => {
                let key = KEYS[below(KEYS.len())];
                self.store.skip_blocked_key("billing", key).await.unwrap();
                for known in self.deliveries.values_mut().filter(|d| d.key == Some(key)) {
                    if known.queued.standing == (Standing::Dead { released: false }) {
                        known.queued.standing = Standing::Dead { released: true };
                    }
                }
            }
        }
    }
}

async fn run(dead_blocks: bool) {
    let database = create_database(&server_url()).await;
    let store = Store::connect_lazy(&database.url, 2).unwrap();
    store.migrate().await.unwrap();
    let mut run = Run {
        store,
        db: sqlx::PgPool::connect(&database.url).await.unwrap(),
        dead_blocks,
        deliveries: BTreeMap::new(),
        next_place: 0,
        event_places: BTreeMap::new(),
    };
    for _ in 0..STEPS {
        run.step().await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_database_claims_exactly_what_the_rule_allows_when_dead_heads_block() {
    run(true).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_database_claims_exactly_what_the_rule_allows_when_dead_heads_skip() {
    run(false).await;
}
