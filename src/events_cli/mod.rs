//! `hookgate events …`: look at what a running hookgate received, through its admin API.

mod show;
mod table;
mod tail;

use crate::admin::{EventPage, EventQuery, MAX_LIMIT};
use crate::admin_client::{AdminClient, AdminTarget};
use crate::store::{DeliveryState, EventDetail, EventSummary};
use anyhow::{Context, bail};
use serde_json::Value;
use std::time::Duration;
use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;
use uuid::Uuid;

/// The event commands, against a running hookgate's admin API.
#[derive(Debug, clap::Args)]
pub struct EventsArgs {
    #[command(flatten)]
    target: AdminTarget,
    /// Print the admin API's JSON instead of text (`tail`: one event per line).
    #[arg(long, global = true)]
    json: bool,
    #[command(subcommand)]
    command: EventsCommand,
}

#[derive(Debug, clap::Subcommand)]
enum EventsCommand {
    /// The newest events matching the filters, as a table.
    List {
        #[command(flatten)]
        filters: Filters,
        /// How many events, 1 to 500.
        #[arg(long, default_value_t = 50)]
        limit: u32,
    },
    /// One event: metadata, headers, and each delivery's attempts as a timeline.
    Show {
        /// The hookgate event id, or the provider's event id (e.g. evt_0001).
        id: String,
        /// The source, when a provider event id was received from several.
        #[arg(long)]
        source: Option<String>,
    },
    /// Print events matching the filters as they arrive, until interrupted.
    Tail {
        #[command(flatten)]
        filters: Filters,
        /// Seconds between two polls.
        #[arg(long, default_value_t = 1.0)]
        interval: f64,
    },
}

/// The search filters `list` and `tail` share.
#[derive(Debug, clap::Args)]
struct Filters {
    /// Only events from this source.
    #[arg(long)]
    source: Option<String>,
    /// Only events of this type.
    #[arg(long = "type")]
    event_type: Option<String>,
    /// Only events with a delivery in this state.
    #[arg(long, value_parser = parse_state)]
    status: Option<DeliveryState>,
    /// Only events received at or after this RFC 3339 time.
    #[arg(long, value_parser = parse_time)]
    since: Option<OffsetDateTime>,
    /// Only the event(s) with this provider event id.
    #[arg(long)]
    provider_id: Option<String>,
}

impl Filters {
    fn query(self, limit: u32) -> EventQuery {
        EventQuery {
            source: self.source,
            event_type: self.event_type,
            provider_event_id: self.provider_id,
            status: self.status,
            since: self.since,
            limit: Some(limit),
            ..EventQuery::default()
        }
    }
}

fn parse_time(value: &str) -> Result<OffsetDateTime, String> {
    OffsetDateTime::parse(value, &Rfc3339)
        .map_err(|err| format!("not an RFC 3339 time like 2025-06-01T00:00:00Z: {err}"))
}

fn parse_state(value: &str) -> Result<DeliveryState, String> {
    serde_json::from_value(Value::String(value.to_owned()))
        .map_err(|_| "one of pending, in_flight, delivered, dead".to_owned())
}

/// Runs one events command.
pub async fn run(args: EventsArgs) -> anyhow::Result<()> {
    let client = AdminClient::new(&args.target)?;
    match args.command {
        EventsCommand::List { filters, limit } => {
            list(&client, filters.query(limit), args.json).await
        }
        EventsCommand::Show { id, source } => {
            show(&client, &id, source.as_deref(), args.json).await
        }
        EventsCommand::Tail { filters, interval } => {
            let interval = Duration::try_from_secs_f64(interval)
                .ok()
                .filter(|interval| !interval.is_zero())
                .context("--interval must be a positive number of seconds")?;
            tail(&client, filters.query(MAX_LIMIT), interval, args.json).await
        }
    }
}

async fn list(client: &AdminClient, query: EventQuery, json: bool) -> anyhow::Result<()> {
    if json {
        let page: Value = client.events(&query).await?;
        println!("{}", serde_json::to_string_pretty(&page)?);
        return Ok(());
    }
    let page: EventPage = client.events(&query).await?;
    let rows: Vec<Vec<String>> = page.events.iter().map(table::event_row).collect();
    println!("{}", table::render(&table::EVENT_HEADER, &rows));
    if page.next_cursor.is_some() {
        eprintln!("(more events: narrow the filters or raise --limit)");
    }
    Ok(())
}

async fn show(
    client: &AdminClient,
    id: &str,
    source: Option<&str>,
    json: bool,
) -> anyhow::Result<()> {
    let id = match Uuid::parse_str(id) {
        Ok(id) => id,
        Err(_) => find_by_provider_id(client, id, source).await?,
    };
    if json {
        let event: Value = client.event(id).await?;
        println!("{}", serde_json::to_string_pretty(&event)?);
    } else {
        let event: EventDetail = client.event(id).await?;
        println!("{}", show::render_event(&event));
    }
    Ok(())
}

/// The hookgate id of the one event with this provider event id (in `source`, if given).
async fn find_by_provider_id(
    client: &AdminClient,
    provider_event_id: &str,
    source: Option<&str>,
) -> anyhow::Result<Uuid> {
    let page = client
        .events_by_provider_id(provider_event_id, source)
        .await?;
    match page.events.as_slice() {
        [] => match source {
            Some(source) => bail!("no event {provider_event_id:?} from source {source:?}"),
            None => bail!("no event with hookgate id or provider event id {provider_event_id:?}"),
        },
        [event] => Ok(event.id),
        several => {
            let sources: Vec<String> = several
                .iter()
                .map(|event| format!("{} ({})", event.source, event.id))
                .collect();
            bail!(
                "{provider_event_id:?} was received from several sources: {}; pass --source",
                sources.join(", ")
            )
        }
    }
}

/// Polls until interrupted, printing each new event once.
async fn tail(
    client: &AdminClient,
    filters: EventQuery,
    interval: Duration,
    json: bool,
) -> anyhow::Result<()> {
    let newest_query = EventQuery {
        limit: Some(1),
        ..filters.clone()
    };
    let newest: EventPage = client.events(&newest_query).await?;
    let mut new_events = tail::NewEvents::after(newest.events.first().map(|e| e.received_at));
    let already_there = new_events.absorb(every_page(client, new_events.query(&filters)).await?);
    let mut columns = table::Columns::with_widths(&table::EVENT_WIDTHS);
    columns.fit(&table::EVENT_HEADER);
    for event in &already_there {
        columns.fit(&table::event_row(event));
    }
    if !json {
        println!("{}", columns.line(&table::EVENT_HEADER));
    }
    loop {
        tokio::time::sleep(interval).await;
        let events = every_page(client, new_events.query(&filters)).await?;
        for event in new_events.absorb(events) {
            if json {
                println!("{}", serde_json::to_string(&event)?);
            } else {
                let row = table::event_row(&event);
                columns.fit(&row);
                println!("{}", columns.line(&row));
            }
        }
    }
}

/// Every event `query` matches, following the cursor to the last page.
async fn every_page(
    client: &AdminClient,
    mut query: EventQuery,
) -> anyhow::Result<Vec<EventSummary>> {
    let mut events = Vec::new();
    loop {
        let page: EventPage = client.events(&query).await?;
        events.extend(page.events);
        match page.next_cursor {
            Some(cursor) => query.cursor = Some(cursor),
            None => return Ok(events),
        }
    }
}
