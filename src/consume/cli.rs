//! `hookgate consume DESTINATION --url ADMIN_URL (--exec CMD | --forward URL)`: a consumer of
//! a pull destination, for shell jobs and for a developer's laptop. It leases messages,
//! handles them one at a time, acks what was handled and nacks the rest (retried after the
//! destination's backoff), and prints one line per message. On Ctrl-C or SIGTERM it stops
//! handling and hands back every lease it still holds (nack, delay 0): due again at once.

use super::api::{LeaseRequest, LeaseStatus, Message};
use super::client::ConsumerClient;
use super::handler::{Handler, TOKEN_VARIABLE};
use crate::admin_client::AdminClientError;
use anyhow::{Context, bail};
use std::io::Write;
use std::time::{Duration, Instant};
use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;
use tokio::signal::unix::{SignalKind, signal};
use tokio_util::sync::CancellationToken;

/// How long one lease request waits for a message. Short, because a stop waits for the
/// request in flight (whatever it leased is handed back), not for the wait to run out alone.
const LONG_POLL_MS: u64 = 2_000;
/// The pause after a failed lease request before the next.
const RETRY_PAUSE: Duration = Duration::from_secs(1);
/// Why a lease handed back at a stop was not handled.
const STOPPED: &str = "consumer stopped";

/// The consumer's arguments. `Debug` hides the token.
#[derive(clap::Args)]
pub struct ConsumeArgs {
    /// The pull destination (`kind = "pull"`) to consume.
    destination: String,
    /// Base URL of the hookgate admin listener that serves it.
    #[arg(long, env = "HOOKGATE_ADMIN_URL")]
    url: String,
    /// One of the destination's consumer tokens; prefer the environment variable, which `ps`
    /// does not show.
    #[arg(long, env = TOKEN_VARIABLE, hide_env_values = true)]
    token: Option<String>,
    #[command(flatten)]
    handler: HandlerArgs,
    /// Messages leased at once (1 to 500).
    #[arg(long, default_value_t = 10)]
    batch: u32,
    /// How long each lease lasts, in ms: a message still unhandled by then goes to the next
    /// consumer as a new attempt.
    #[arg(long, default_value_t = 300_000)]
    visibility_ms: u64,
}

#[derive(Debug, clap::Args)]
#[group(required = true, multiple = false)]
struct HandlerArgs {
    /// Run this shell command per message, the body on its standard input and the metadata in
    /// HOOKGATE_* variables; exit 0 acks, anything else nacks.
    #[arg(long)]
    exec: Option<String>,
    /// POST each message to this URL as hookgate would push it (original body and
    /// Content-Type, Idempotency-Key and X-Hookgate-* headers); 2xx acks.
    #[arg(long)]
    forward: Option<String>,
}

impl std::fmt::Debug for ConsumeArgs {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ConsumeArgs")
            .field("destination", &self.destination)
            .field("url", &crate::redact::url(&self.url))
            .field("token", &crate::redact::option(&self.token))
            .field("handler", &self.handler)
            .field("batch", &self.batch)
            .field("visibility_ms", &self.visibility_ms)
            .finish()
    }
}

/// Consumes until stopped by a signal, or until the API refuses the consumer.
pub async fn run(args: ConsumeArgs) -> anyhow::Result<()> {
    let token = args
        .token
        .clone()
        .filter(|token| !token.is_empty())
        .with_context(|| format!("no consumer token: set {TOKEN_VARIABLE} (or pass --token)"))?;
    let client = ConsumerClient::new(&args.url, token, &args.destination)?;
    let handler = match (args.handler.exec, args.handler.forward) {
        (Some(command), _) => Handler::Exec(command),
        (None, Some(url)) => Handler::forward(url)?,
        (None, None) => bail!("give --exec or --forward"),
    };
    let stop = stop_on_signals()?;
    let request = LeaseRequest {
        max: Some(args.batch),
        visibility_ms: Some(args.visibility_ms),
        wait_ms: Some(LONG_POLL_MS),
    };
    eprintln!(
        "consuming {} from {}; Ctrl-C to stop",
        args.destination,
        crate::redact::url(&args.url)
    );
    while !stop.is_cancelled() {
        let messages = match client.lease(&request).await {
            Ok(leased) => leased.messages,
            Err(err) if refuses_the_consumer(&err) => return Err(err.into()),
            Err(err) => {
                eprintln!("lease failed: {err}; retrying");
                tokio::select! {
                    () = tokio::time::sleep(RETRY_PAUSE) => {}
                    () = stop.cancelled() => {}
                }
                continue;
            }
        };
        handle_batch(&client, &handler, messages, &stop).await;
    }
    eprintln!("stopped");
    Ok(())
}

/// A refusal that retrying cannot fix: wrong token, unknown destination, a bad request.
fn refuses_the_consumer(err: &AdminClientError) -> bool {
    matches!(err, AdminClientError::Problem { status, .. } if status.is_client_error())
}

/// Cancelled on the first SIGINT or SIGTERM.
fn stop_on_signals() -> anyhow::Result<CancellationToken> {
    let stop = CancellationToken::new();
    let mut interrupt = signal(SignalKind::interrupt()).context("listening for SIGINT")?;
    let mut terminate = signal(SignalKind::terminate()).context("listening for SIGTERM")?;
    let cancel = stop.clone();
    tokio::spawn(async move {
        tokio::select! {
            _ = interrupt.recv() => {}
            _ = terminate.recv() => {}
        }
        cancel.cancel();
    });
    Ok(stop)
}

/// Handles `messages` in order, acking or nacking each; at a stop, hands back the one being
/// handled and every one not yet started.
async fn handle_batch(
    client: &ConsumerClient,
    handler: &Handler,
    messages: Vec<Message>,
    stop: &CancellationToken,
) {
    let mut messages = messages.into_iter();
    while let Some(message) = messages.next() {
        let started = Instant::now();
        let handled = tokio::select! {
            handled = handler.handle(&message) => handled,
            () = stop.cancelled() => {
                let unfinished = std::iter::once(message).chain(messages).collect();
                hand_back(client, unfinished).await;
                return;
            }
        };
        let lease_id = message.lease_id.clone();
        let outcome = match &handled {
            Ok(()) => client.ack(vec![lease_id]).await,
            Err(reason) => client.nack(vec![lease_id], None, reason.clone()).await,
        };
        let shown = match (&outcome, &handled) {
            (Err(err), _) => format!("not recorded ({err}); the lease will expire"),
            (Ok(results), Ok(())) => status_word(results.results.first().map(|r| r.status)),
            (Ok(results), Err(reason)) => format!(
                "{} ({reason})",
                status_word(results.results.first().map(|r| r.status))
            ),
        };
        print_line(&message, &shown, started.elapsed());
    }
}

/// Nacks `messages` with no delay, so that they are due again at once.
async fn hand_back(client: &ConsumerClient, messages: Vec<Message>) {
    let ids = messages.iter().map(|m| m.lease_id.clone()).collect();
    let outcome = client.nack(ids, Some(0), STOPPED.to_owned()).await;
    let shown = match &outcome {
        Ok(_) => "handed back".to_owned(),
        Err(err) => format!("not handed back ({err}); the lease will expire"),
    };
    for message in &messages {
        print_line(message, &shown, Duration::ZERO);
    }
}

fn status_word(status: Option<LeaseStatus>) -> String {
    match status {
        Some(LeaseStatus::Acked) => "acked",
        Some(LeaseStatus::Nacked) => "nacked",
        Some(LeaseStatus::Dead) => "dead",
        Some(LeaseStatus::Expired) => "expired before its ack",
        Some(LeaseStatus::Unknown) | None => "unknown lease",
    }
    .to_owned()
}

/// `TIME EVENT_TYPE EVENT_ID OUTCOME LATENCY`, one line per message.
fn print_line(message: &Message, outcome: &str, latency: Duration) {
    let now = OffsetDateTime::now_utc()
        .replace_nanosecond(0)
        .unwrap_or_else(|_| OffsetDateTime::now_utc());
    let line = format!(
        "{} {} {} attempt {} {} {}ms",
        now.format(&Rfc3339).unwrap_or_default(),
        message.event_type.as_deref().unwrap_or("-"),
        message.event_id,
        message.attempt,
        outcome,
        latency.as_millis()
    );
    // Not println!, which panics when standard output is gone.
    let mut stdout = std::io::stdout().lock();
    let _ = writeln!(stdout, "{line}");
    let _ = stdout.flush();
}
