//! `hookgate replay …`: calls the admin API over HTTP and prints its JSON answer.

use crate::config::{self, Config};
use anyhow::{Context, bail};
use serde_json::{Map, Value, json};
use std::path::PathBuf;
use std::time::Duration;

/// How long the CLI waits for the admin API.
const TIMEOUT: Duration = Duration::from_secs(30);

/// The admin replay operations. The token comes from `HOOKGATE_ADMIN_TOKEN`, else the config.
#[derive(Debug, clap::Args)]
pub struct ReplayArgs {
    /// Config file giving `server.admin_listen` and `admin.token` (default: $HOOKGATE_CONFIG,
    /// else hookgate.toml).
    #[arg(long, global = true)]
    config: Option<PathBuf>,
    /// Base URL of the admin API (default: http://<server.admin_listen>).
    #[arg(long, global = true)]
    admin_url: Option<String>,
    #[command(subcommand)]
    command: ReplayCommand,
}

#[derive(Debug, clap::Subcommand)]
enum ReplayCommand {
    /// Re-deliver one event, to all its destinations or the ones given.
    Event {
        /// The hookgate event id.
        id: String,
        /// Only to this destination (repeatable).
        #[arg(long = "destination")]
        destinations: Vec<String>,
    },
    /// Start a bulk replay of the deliveries matching a filter.
    Bulk {
        #[arg(long)]
        source: Option<String>,
        #[arg(long)]
        destination: Option<String>,
        /// `dead` (the dead-letter redrive) or `delivered`.
        #[arg(long)]
        status: Option<String>,
        /// Events received at or after this RFC 3339 time.
        #[arg(long)]
        since: Option<String>,
        /// Events received before this RFC 3339 time.
        #[arg(long)]
        until: Option<String>,
    },
    /// Show the progress of a bulk replay.
    Status {
        /// The id `bulk` printed.
        id: String,
    },
}

/// Runs one replay command and prints the answer.
pub async fn run(args: ReplayArgs) -> anyhow::Result<()> {
    let (base, token) = admin_target(&args)?;
    let client = reqwest::Client::builder()
        .timeout(TIMEOUT)
        .build()
        .context("building the HTTP client")?;
    let request = match args.command {
        ReplayCommand::Event { id, destinations } => {
            let request = client.post(format!("{base}/admin/events/{id}/replay"));
            if destinations.is_empty() {
                request
            } else {
                request.json(&json!({ "destinations": destinations }))
            }
        }
        ReplayCommand::Bulk {
            source,
            destination,
            status,
            since,
            until,
        } => {
            let filter: Map<String, Value> = [
                ("source", source),
                ("destination", destination),
                ("status", status),
                ("since", since),
                ("until", until),
            ]
            .into_iter()
            .filter_map(|(key, value)| value.map(|v| (key.to_owned(), Value::String(v))))
            .collect();
            client.post(format!("{base}/admin/replays")).json(&filter)
        }
        ReplayCommand::Status { id } => client.get(format!("{base}/admin/replays/{id}")),
    };
    let response = request
        .bearer_auth(token)
        .send()
        .await
        .with_context(|| format!("cannot reach the admin API at {base}"))?;
    let status = response.status();
    let body = response
        .text()
        .await
        .context("reading the admin API's answer")?;
    let parsed: Option<Value> = serde_json::from_str(&body).ok();
    if !status.is_success() {
        let reason = parsed
            .as_ref()
            .and_then(|p| p.get("detail").or_else(|| p.get("title")))
            .and_then(Value::as_str)
            .unwrap_or(body.trim());
        bail!("admin API answered {status}: {reason}");
    }
    match parsed {
        Some(value) => println!("{}", serde_json::to_string_pretty(&value)?),
        None => println!("{body}"),
    }
    Ok(())
}

/// The admin base URL and token: flags and `HOOKGATE_ADMIN_TOKEN` first, the config for
/// whatever they leave open.
fn admin_target(args: &ReplayArgs) -> anyhow::Result<(String, String)> {
    let env_token = std::env::var("HOOKGATE_ADMIN_TOKEN")
        .ok()
        .filter(|t| !t.is_empty());
    if let (Some(url), Some(token)) = (&args.admin_url, env_token) {
        return Ok((url.trim_end_matches('/').to_owned(), token));
    }
    let path = config::resolve_path(args.config.clone());
    let config = Config::load(&path).context(
        "the admin URL and token come from the config (or pass --admin-url and set HOOKGATE_ADMIN_TOKEN)",
    )?;
    let url = args
        .admin_url
        .clone()
        .unwrap_or_else(|| url_of_listener(&config.server.admin_listen));
    let token = config
        .admin
        .token
        .context("no admin token: set HOOKGATE_ADMIN_TOKEN or admin.token")?;
    Ok((url.trim_end_matches('/').to_owned(), token))
}

/// `http://` + the listen address, with a wildcard host replaced by loopback.
fn url_of_listener(listen: &str) -> String {
    let address = match listen.rsplit_once(':') {
        Some(("0.0.0.0", port)) => format!("127.0.0.1:{port}"),
        Some(("[::]", port)) => format!("[::1]:{port}"),
        _ => listen.to_owned(),
    };
    format!("http://{address}")
}

#[cfg(test)]
mod tests {
    use super::url_of_listener;

    #[test]
    fn wildcard_listeners_are_reached_on_loopback() {
        assert_eq!(url_of_listener("0.0.0.0:8081"), "http://127.0.0.1:8081");
        assert_eq!(url_of_listener("[::]:8081"), "http://[::1]:8081");
        assert_eq!(url_of_listener("127.0.0.1:9000"), "http://127.0.0.1:9000");
    }
}
