//! A pull consumer as fast as the API allows: leases batches (of 100 in `bench/run`) from a
//! pull destination and acks each batch at once, until the queue is empty. Run beside
//! `watch-queue`, which measures the drain exactly as it does for a push worker's.

use hookgate::consume::{ConsumerClient, LeaseRequest, LeaseStatus};
use std::time::{Duration, Instant};

/// How long one lease waits when nothing is due: the end of the queue.
const LAST_WAIT_MS: u64 = 1_000;

/// Leases `batch` at a time and acks them until a lease comes back empty after the first
/// message; prints what it consumed.
pub async fn consume(
    admin_url: &str,
    token: &str,
    destination: &str,
    batch: u32,
    timeout: Duration,
) -> anyhow::Result<()> {
    hookgate::tls::install_default_provider();
    let client = ConsumerClient::new(admin_url, token.to_owned(), destination)?;
    let request = LeaseRequest {
        max: Some(batch),
        visibility_ms: Some(60_000),
        wait_ms: Some(LAST_WAIT_MS),
    };
    let deadline = Instant::now() + timeout;
    let (mut acked, mut leases, mut started) = (0usize, 0usize, None);
    while Instant::now() < deadline {
        let messages = client.lease(&request).await?.messages;
        leases += 1;
        if messages.is_empty() {
            if started.is_some() {
                break;
            }
            continue;
        }
        started.get_or_insert_with(Instant::now);
        let ids: Vec<String> = messages.into_iter().map(|m| m.lease_id).collect();
        let results = client.ack(ids).await?.results;
        acked += results
            .iter()
            .filter(|r| r.status == LeaseStatus::Acked)
            .count();
    }
    let secs = started.map_or(0.0, |started| started.elapsed().as_secs_f64());
    println!(
        "== Pull consumer: {acked} acked in {leases} leases of up to {batch} in {secs:.2} s (the last {LAST_WAIT_MS} ms waiting on an empty queue)"
    );
    Ok(())
}
