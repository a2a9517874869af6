//! `hookgate transform test NAME`: runs a transform on a local body (`--event FILE`, with
//! `--header`s) or on a stored event (`--event-id`, read through the admin API) and prints what
//! it returns (as JSON; `null` for a skip), so a script can be written and fixed without
//! sending webhooks. An answer hookgate would refuse is an error, as it would be on delivery.

use super::{EventView, Sandbox, input_json, parse_output, read};
use crate::admin_client::{AdminClient, AdminTarget};
use crate::config::{self, Config, UnsetEnv};
use crate::store::EventDetail;
use anyhow::Context;
use clap::{Args, Subcommand};
use serde_json::value::RawValue;
use serde_json::{Map, Value};
use std::path::{Path, PathBuf};
use std::time::Duration;
use time::OffsetDateTime;
use uuid::Uuid;

#[derive(Debug, Args)]
pub struct TransformArgs {
    #[command(subcommand)]
    command: TransformCommand,
}

#[derive(Debug, Subcommand)]
enum TransformCommand {
    /// Run a transform on an event and print what it returns.
    Test(TestArgs),
}

#[derive(Debug, Args)]
struct TestArgs {
    /// The script: `NAME.js` in the config's `transforms_dir`.
    name: String,
    /// Config file, for `transforms_dir` and the limits (default: $HOOKGATE_CONFIG, else
    /// hookgate.toml; without one, `transforms/` and the default limits).
    #[arg(long)]
    config: Option<PathBuf>,
    /// A file holding the event's body.
    #[arg(
        long,
        required_unless_present = "event_id",
        conflicts_with = "event_id"
    )]
    event: Option<PathBuf>,
    /// A header of the local event, `Name: value` (repeatable).
    #[arg(long = "header", value_name = "NAME:VALUE")]
    headers: Vec<String>,
    /// The local event's source.
    #[arg(long, default_value = "local")]
    source: String,
    /// The local event's type.
    #[arg(long)]
    event_type: Option<String>,
    /// A stored event (hookgate's id), read through the admin API.
    #[arg(long)]
    event_id: Option<Uuid>,
    #[command(flatten)]
    admin: AdminTarget,
}

/// Runs the subcommand; a script that fails is an error (exit 1) saying why.
pub async fn run(args: TransformArgs) -> anyhow::Result<()> {
    let TransformCommand::Test(args) = args.command;
    let (dir, memory_mb, limit) = settings(args.config.clone())?;
    let event = match args.event_id {
        Some(id) => stored_event(&args.admin, id).await?,
        None => local_event(&args)?,
    };
    let script = read(&dir, &args.name, 1).map_err(anyhow::Error::msg)?;
    // One call of a one-shot command: run on this thread, as the sandbox cannot move.
    let mut sandbox = Sandbox::new(memory_mb).map_err(anyhow::Error::msg)?;
    let answer = sandbox
        .call(&script, &input_json(&event.view()), limit)
        .map_err(|failure| anyhow::anyhow!("transform_error: {failure}"))?;
    // What it returns, as it returned it, once it is known to be a valid answer.
    parse_output(&answer).map_err(|why| anyhow::anyhow!("transform_error: {why}"))?;
    let returned: Value = serde_json::from_str(&answer).context("the handler's answer")?;
    println!("{}", serde_json::to_string_pretty(&returned)?);
    Ok(())
}

/// `transforms_dir` and the limits of the config, or the defaults without one.
fn settings(flag: Option<PathBuf>) -> anyhow::Result<(PathBuf, usize, Duration)> {
    let path = config::resolve_path(flag);
    let server = if path.exists() {
        Config::load_with(&path, UnsetEnv::Allow)?.server
    } else {
        crate::config::ServerConfig::default()
    };
    Ok((
        PathBuf::from(server.transforms_dir),
        server.transform_memory_mb,
        Duration::from_millis(server.transform_timeout_ms),
    ))
}

/// An event as the handler will see it, owned.
struct Event {
    body: Vec<u8>,
    headers: Box<RawValue>,
    source: String,
    event_type: Option<String>,
    event_id: Uuid,
    provider_event_id: String,
    received_at: OffsetDateTime,
}

impl Event {
    fn view(&self) -> EventView<'_> {
        EventView {
            body: &self.body,
            headers: &self.headers,
            source: &self.source,
            event_type: self.event_type.as_deref(),
            event_id: self.event_id,
            provider_event_id: &self.provider_event_id,
            received_at: self.received_at,
        }
    }
}

fn local_event(args: &TestArgs) -> anyhow::Result<Event> {
    let file = args.event.as_deref().unwrap_or(Path::new("-"));
    let body = std::fs::read(file).with_context(|| format!("reading {}", file.display()))?;
    let mut headers = Map::new();
    for header in &args.headers {
        let (name, value) = header
            .split_once(':')
            .with_context(|| format!("--header {header:?}: write it as Name: value"))?;
        let name = name.trim().to_ascii_lowercase();
        let value = value.trim();
        match headers.get_mut(&name) {
            Some(Value::String(joined)) => *joined = format!("{joined}, {value}"),
            _ => {
                headers.insert(name, Value::String(value.to_owned()));
            }
        }
    }
    Ok(Event {
        body,
        headers: serde_json::value::to_raw_value(&headers)?,
        source: args.source.clone(),
        event_type: args.event_type.clone(),
        event_id: Uuid::now_v7(),
        provider_event_id: String::new(),
        received_at: OffsetDateTime::now_utc(),
    })
}

async fn stored_event(target: &AdminTarget, id: Uuid) -> anyhow::Result<Event> {
    let client = AdminClient::new(target)?;
    let detail: EventDetail = client.event(id).await?;
    let body = client.payload(id).await?;
    Ok(Event {
        body,
        headers: serde_json::value::to_raw_value(&detail.headers)?,
        source: detail.source,
        event_type: detail.event_type,
        event_id: detail.id,
        provider_event_id: detail.event_id,
        received_at: detail.received_at,
    })
}
