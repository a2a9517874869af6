//! `hookgate replay …`: calls the admin API over HTTP and prints its JSON answer.

use crate::admin_client::{AdminClient, AdminTarget};
use serde_json::{Map, Value};

/// The admin replay operations, against a running hookgate's admin API.
#[derive(Debug, clap::Args)]
pub struct ReplayArgs {
    #[command(flatten)]
    target: AdminTarget,
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
    let client = AdminClient::new(&args.target)?;
    let answer: Value = match args.command {
        ReplayCommand::Event { id, destinations } => {
            client.replay_event(&id, &destinations).await?
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
            client.start_replay(&filter).await?
        }
        ReplayCommand::Status { id } => client.replay_progress(&id).await?,
    };
    println!("{}", serde_json::to_string_pretty(&answer)?);
    Ok(())
}
