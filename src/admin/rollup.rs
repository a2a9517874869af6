//! Keeps the stats rollup close behind the newest rows, so `/admin/stats` counts few live.

use crate::store::{Store, stats_cutoff};
use std::time::Duration;
use time::OffsetDateTime;
use tokio_util::sync::CancellationToken;

/// How often the rollup absorbs what arrived.
const INTERVAL: Duration = Duration::from_secs(10);
/// Rows younger than this are counted live, never folded: a row whose id was made earlier
/// but commits later than this would be missed by the rollup.
const LAG: time::Duration = time::Duration::minutes(1);

/// Folds rows older than [`LAG`] into the rollup every [`INTERVAL`] until `shutdown`.
pub async fn keep_stats_rollup(store: Store, shutdown: CancellationToken) {
    loop {
        let cutoff = stats_cutoff(OffsetDateTime::now_utc(), LAG);
        if let Err(err) = store.fold_stats(cutoff).await {
            tracing::debug!(error = %err, "stats rollup not advanced; retrying later");
        }
        tokio::select! {
            () = tokio::time::sleep(INTERVAL) => {}
            () = shutdown.cancelled() => return,
        }
    }
}
