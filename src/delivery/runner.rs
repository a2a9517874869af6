//! Starts and wires the delivery side: one worker per destination, the finisher, the lease
//! reclaimer and the cross-process wake-up listener.

use super::circuit::{CircuitBreaker, CircuitSettings};
use super::clients::Clients;
use super::finisher::Finisher;
use super::inline::InlineDispatch;
use super::policy::RetryPolicy;
use super::rate_limit::RateLimiter;
use super::signing::SigningKey;
use super::worker::{DestinationWorker, inline_lease};
use crate::activity::Activity;
use crate::config::Config;
use crate::redis_link::RedisLink;
use crate::store::Store;
use anyhow::Context;
use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::Notify;
use tokio::task::JoinSet;
use tokio_util::sync::CancellationToken;

/// How often leases are checked for workers that died mid-attempt.
const RECLAIM_INTERVAL: Duration = Duration::from_secs(5);

/// Wakes the local destination workers when new deliveries are committed.
#[derive(Clone, Default)]
pub struct Wakers {
    all: Arc<Vec<Arc<Notify>>>,
}

impl Wakers {
    /// Wakes every local worker (each keeps the wake-up if it is busy right now).
    pub fn wake_all(&self) {
        for wake in self.all.iter() {
            wake.notify_one();
        }
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

/// Starts the workers for every destination of `config`. They stop when `shutdown` is
/// cancelled; await `tasks` for the drain to finish.
pub fn start(
    config: &Config,
    store: &Store,
    redis: Option<&RedisLink>,
    activity: &Activity,
    shutdown: &CancellationToken,
) -> anyhow::Result<Delivery> {
    let mut circuits = HashMap::new();
    let mut clients = Clients::default();
    let (finisher, finisher_task) = Finisher::spawn(store.clone());
    let mut tasks = JoinSet::new();
    let mut wakers = Vec::new();
    let mut inline = InlineDispatch::default();
    for destination in &config.destinations {
        let signing_key = destination
            .signing_secret
            .as_deref()
            .map(SigningKey::parse)
            .transpose()
            .with_context(|| format!("destinations {:?}: signing_secret", destination.id))?;
        let wake = Arc::new(Notify::new());
        wakers.push(wake.clone());
        // Room for the attempts that can run and three times as many again, whose events are
        // still being committed or that wait for a slot; one that waits too long for its
        // lease goes back to the table instead.
        let lane = inline.add_lane(
            &destination.id,
            4 * destination.concurrency as usize,
            inline_lease(destination),
        );
        let circuit = Arc::new(CircuitBreaker::new(CircuitSettings::from(
            &destination.circuit,
        )));
        circuits.insert(destination.id.clone(), circuit.clone());
        let worker = DestinationWorker {
            limiter: RateLimiter::for_destination(destination, redis.cloned()),
            retry: RetryPolicy::for_destination(destination),
            destination: Arc::new(destination.clone()),
            signing_key,
            store: store.clone(),
            client: clients.for_destination(destination)?,
            circuit,
            activity: activity.clone(),
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
    };
    tasks.spawn(reclaim_expired_leases(
        store.clone(),
        wakers.clone(),
        shutdown.clone(),
    ));
    tasks.spawn(listen_for_work(
        store.clone(),
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

async fn reclaim_expired_leases(store: Store, wakers: Wakers, shutdown: CancellationToken) {
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
        tokio::select! {
            () = tokio::time::sleep(RECLAIM_INTERVAL) => {}
            () = shutdown.cancelled() => return,
        }
    }
}

/// Wakes local workers when an ingest process elsewhere commits deliveries.
async fn listen_for_work(store: Store, wakers: Wakers, shutdown: CancellationToken) {
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
