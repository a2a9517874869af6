//! Starts and wires the delivery side: one worker per push destination, the finisher, the
//! lease reclaimer (which also expires pull leases nobody asks for), and the wake-ups: of
//! local workers and pull consumers' long polls, and across processes.

use super::circuit::{CircuitBreaker, CircuitSettings};
use super::clients::Clients;
use super::finisher::Finisher;
use super::inline::{InlineDispatch, LaneRoom};
use super::policy::RetryPolicy;
use super::rate_limit::RateLimiter;
use super::reshape::DestinationTransforms;
use super::signing::SigningKey;
use super::targets::Target;
use super::worker::{DestinationWorker, inline_lease};
use crate::activity::Activity;
use crate::config::Config;
use crate::metrics;
use crate::redis_link::RedisLink;
use crate::store::Store;
use crate::transform::Transforms;
use anyhow::Context;
use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::{Notify, watch};
use tokio::task::JoinSet;
use tokio_util::sync::CancellationToken;

/// How often leases are checked for workers that died mid-attempt.
const RECLAIM_INTERVAL: Duration = Duration::from_secs(5);

/// Wakes what waits in this process for deliveries to become due: the push destinations'
/// workers (none when the process does not deliver) and pull consumers' long polls.
#[derive(Clone, Default)]
pub struct Wakers {
    all: Arc<Vec<Arc<Notify>>>,
    consumers: ConsumerWake,
}

impl Wakers {
    /// Only the long polls of `consumers`: for a process that runs no workers.
    pub fn consumers_only(consumers: ConsumerWake) -> Wakers {
        Wakers {
            all: Arc::default(),
            consumers,
        }
    }

    /// Wakes every local worker (each keeps the wake-up if it is busy right now) and every
    /// waiting long poll.
    pub fn wake_all(&self) {
        for wake in self.all.iter() {
            wake.notify_one();
        }
        self.consumers.wake();
    }
}

/// Wakes pull consumers' long polls: a counter bumped at each wake-up, which every waiting
/// lease request watches. A wake-up between a request's empty lease and its wait is not lost:
/// the request subscribed before it leased.
#[derive(Clone)]
pub struct ConsumerWake {
    counter: Arc<watch::Sender<u64>>,
}

impl Default for ConsumerWake {
    fn default() -> Self {
        ConsumerWake {
            counter: Arc::new(watch::Sender::new(0)),
        }
    }
}

impl ConsumerWake {
    /// Wakes every long poll waiting now.
    pub fn wake(&self) {
        self.counter
            .send_modify(|count| *count = count.wrapping_add(1));
    }

    /// A receiver that sees every wake-up from now on (`changed()`).
    pub fn subscribe(&self) -> watch::Receiver<u64> {
        self.counter.subscribe()
    }
}

/// Each destination's circuit breaker, by destination id: what the console shows.
pub type Circuits = Arc<HashMap<String, Arc<CircuitBreaker>>>;

/// The running delivery side.
pub struct Delivery {
    pub wakers: Wakers,
    pub circuits: Circuits,
    /// For ingest in this same process: hands fresh deliveries straight to these workers.
    pub inline: InlineDispatch,
    pub tasks: JoinSet<()>,
}

/// Starts the workers for every push destination of `config`, whose wakers also wake
/// `consumers`. They stop when `shutdown` is cancelled; await `tasks` for the drain to finish.
/// The cross-process wake-up is the caller's to start (see [`listen_for_work`]): a process
/// that serves pull consumers needs it too.
pub fn start(
    config: &Config,
    store: &Store,
    redis: Option<&RedisLink>,
    activity: &Activity,
    transforms: &Arc<Transforms>,
    shutdown: &CancellationToken,
    consumers: ConsumerWake,
) -> anyhow::Result<Delivery> {
    let mut circuits = HashMap::new();
    let mut clients = Clients::default();
    let (finisher, finisher_task) = Finisher::spawn(store.clone());
    let mut tasks = JoinSet::new();
    let mut wakers = Vec::new();
    let mut inline = InlineDispatch::default();
    for destination in config.destinations.iter().filter(|d| !d.is_pull()) {
        let signing_key = destination
            .signing_secret
            .as_deref()
            .map(SigningKey::parse)
            .transpose()
            .with_context(|| format!("destinations {:?}: signing_secret", destination.id))?;
        let wake = Arc::new(Notify::new());
        wakers.push(wake.clone());
        // Room for the attempts that can run and three times as many waiting for a slot,
        // plus, while their bodies are light, one for each ingest request that can be in
        // flight (a served connection carries one at a time): a delivery that finds the lane
        // full costs a claim and a second update of its row (at 1,000 connections, Postgres
        // 50 µs per delivered event against 37 µs, bench/RESULTS.md). One that waits too long
        // for its lease goes back to the table instead.
        let transforms =
            DestinationTransforms::for_destination(config, &destination.id, transforms);
        let lane = inline.add_lane(
            &destination.id,
            LaneRoom {
                always: 4 * destination.concurrency as usize,
                while_light: config.server.max_connections,
            },
            inline_lease(destination),
            transforms.is_some(),
        );
        let circuit = Arc::new(CircuitBreaker::new(CircuitSettings::from(
            &destination.circuit,
        )));
        circuits.insert(destination.id.clone(), circuit.clone());
        let worker = DestinationWorker {
            limiter: RateLimiter::for_destination(destination, redis.cloned()),
            transforms,
            retry: RetryPolicy::for_destination(destination),
            destination: Arc::new(destination.clone()),
            signing_key,
            store: store.clone(),
            target: Target::for_destination(destination, &mut clients)?,
            circuit,
            activity: activity.clone(),
            metrics: metrics::DestinationMetrics::new(&destination.id),
            log: Default::default(),
            wake,
            finisher: finisher.clone(),
            inline: Some(lane),
            shutdown: shutdown.clone(),
        };
        tasks.spawn(worker.run());
    }
    drop(finisher);
    tasks.spawn(async move {
        let _ = finisher_task.await;
    });
    let wakers = Wakers {
        all: Arc::new(wakers),
        consumers,
    };
    let pull_limits = config
        .destinations
        .iter()
        .filter(|d| d.is_pull())
        .map(|d| (d.id.clone(), d.max_attempts))
        .collect();
    tasks.spawn(reclaim_expired_leases(
        store.clone(),
        pull_limits,
        wakers.clone(),
        shutdown.clone(),
    ));
    Ok(Delivery {
        wakers,
        circuits: Arc::new(circuits),
        inline,
        tasks,
    })
}

/// Every few seconds: makes pushed deliveries whose worker died claimable again, and expires
/// the pull leases of destinations whose consumers stopped asking (`pull_limits`: each pull
/// destination's `max_attempts`), so attempts and dead letters show them without a consumer.
async fn reclaim_expired_leases(
    store: Store,
    pull_limits: Vec<(String, u32)>,
    wakers: Wakers,
    shutdown: CancellationToken,
) {
    let limits: Vec<(&str, u32)> = pull_limits
        .iter()
        .map(|(id, n)| (id.as_str(), *n))
        .collect();
    loop {
        match store.reclaim_expired_leases().await {
            Ok(0) => {}
            Ok(count) => {
                tracing::warn!(
                    count,
                    "reclaimed deliveries whose worker stopped mid-attempt"
                );
                wakers.wake_all();
            }
            Err(err) => tracing::warn!(error = %err, "lease reclaim failed"),
        }
        match store.expire_pull_leases(&limits, None).await {
            Ok(expired) if expired.is_empty() => {}
            Ok(expired) => {
                metrics::expired_leases(&expired);
                wakers.wake_all();
            }
            Err(err) => tracing::warn!(error = %err, "pull lease expiry failed"),
        }
        tokio::select! {
            () = tokio::time::sleep(RECLAIM_INTERVAL) => {}
            () = shutdown.cancelled() => return,
        }
    }
}

/// Wakes local workers and long polls when a process elsewhere commits deliveries.
pub async fn listen_for_work(store: Store, wakers: Wakers, shutdown: CancellationToken) {
    while !shutdown.is_cancelled() {
        let mut listener = match store.listen_for_work().await {
            Ok(listener) => listener,
            Err(err) => {
                tracing::debug!(error = %err, "cannot LISTEN yet; polling meanwhile");
                tokio::select! {
                    () = tokio::time::sleep(Duration::from_secs(2)) => continue,
                    () = shutdown.cancelled() => return,
                }
            }
        };
        loop {
            tokio::select! {
                notification = listener.recv() => match notification {
                    Ok(_) => wakers.wake_all(),
                    Err(_) => break,
                },
                () = shutdown.cancelled() => return,
            }
        }
    }
}

/// Debounces cross-process wake-ups: commits mark work as waiting, and one `NOTIFY` goes
/// out, outside any ingest transaction, at most every few milliseconds.
#[derive(Clone)]
pub struct RemoteWake {
    pending: Arc<Notify>,
}

impl RemoteWake {
    /// Starts the notifier task.
    pub fn start(
        store: Store,
        shutdown: CancellationToken,
    ) -> (RemoteWake, tokio::task::JoinHandle<()>) {
        let pending = Arc::new(Notify::new());
        let task = tokio::spawn(notify_loop(store, pending.clone(), shutdown));
        (RemoteWake { pending }, task)
    }

    /// Marks that new deliveries were committed.
    pub fn mark(&self) {
        self.pending.notify_one();
    }
}

async fn notify_loop(store: Store, pending: Arc<Notify>, shutdown: CancellationToken) {
    const DEBOUNCE: Duration = Duration::from_millis(5);
    loop {
        tokio::select! {
            () = pending.notified() => {}
            () = shutdown.cancelled() => return,
        }
        if let Err(err) = store.notify_workers().await {
            tracing::debug!(error = %err, "NOTIFY failed; workers will poll");
        }
        tokio::time::sleep(DEBOUNCE).await;
    }
}
