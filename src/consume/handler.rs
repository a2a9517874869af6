//! What `hookgate consume` does with each message: run a command (`--exec`) or POST it to a
//! local URL (`--forward`) as a push delivery would be sent. Either way the answer is whether
//! the message was handled, or why not.

use super::api::Message;
use super::body;
use crate::config::ClientTlsConfig;
use crate::delivery::{Attempt, Endpoint, HttpClient, send};
use anyhow::Context;
use bytes::Bytes;
use std::process::Stdio;
use std::time::Duration;
use time::format_description::well_known::Rfc3339;
use tokio::io::AsyncWriteExt;

/// How long a forwarded request may take.
const FORWARD_TIMEOUT: Duration = Duration::from_secs(30);

/// The consumer's own token, which a command it runs never needs to see.
pub const TOKEN_VARIABLE: &str = "HOOKGATE_CONSUMER_TOKEN";

/// Where messages go.
pub enum Handler {
    /// `sh -c COMMAND` with the body on standard input and the metadata in `HOOKGATE_*`
    /// variables; handled when it exits 0.
    Exec(String),
    /// POSTed to a URL with the original body and content type and the headers of a push
    /// delivery; handled on 2xx.
    Forward {
        endpoint: Endpoint,
        client: HttpClient,
    },
}

impl Handler {
    /// A forwarding handler to `url`.
    pub fn forward(url: String) -> anyhow::Result<Handler> {
        let client =
            HttpClient::new(&ClientTlsConfig::default()).context("building the HTTP client")?;
        let endpoint = client.endpoint(&url).context("--forward: not a URL")?;
        Ok(Handler::Forward { endpoint, client })
    }

    /// Handles one message: `Ok` when handled, else why not.
    pub async fn handle(&self, message: &Message) -> Result<(), String> {
        let body = body::decode(&message.body, message.body_encoding)?;
        match self {
            Handler::Exec(command) => exec(command, message, body).await,
            Handler::Forward { endpoint, client } => forward(client, endpoint, message, body).await,
        }
    }
}

/// The metadata of `message` as `--exec` passes it: every variable is set, empty when unknown.
fn environment(message: &Message) -> Vec<(&'static str, String)> {
    let received_at = message.received_at.format(&Rfc3339).unwrap_or_default();
    vec![
        ("HOOKGATE_EVENT_ID", message.event_id.to_string()),
        (
            "HOOKGATE_PROVIDER_EVENT_ID",
            message.provider_event_id.clone(),
        ),
        ("HOOKGATE_SOURCE", message.source.clone()),
        (
            "HOOKGATE_EVENT_TYPE",
            message.event_type.clone().unwrap_or_default(),
        ),
        ("HOOKGATE_ATTEMPT", message.attempt.to_string()),
        ("HOOKGATE_RECEIVED_AT", received_at),
        (
            "HOOKGATE_CONTENT_TYPE",
            message.content_type.clone().unwrap_or_default(),
        ),
        ("HOOKGATE_LEASE_ID", message.lease_id.clone()),
        ("HOOKGATE_DELIVERY_ID", message.delivery_id.to_string()),
    ]
}

async fn exec(command: &str, message: &Message, body: Vec<u8>) -> Result<(), String> {
    let mut child = tokio::process::Command::new("sh")
        .arg("-c")
        .arg(command)
        .envs(environment(message))
        .env_remove(TOKEN_VARIABLE)
        .stdin(Stdio::piped())
        .kill_on_drop(true)
        .spawn()
        .map_err(|err| format!("cannot run sh: {err}"))?;
    let mut stdin = child
        .stdin
        .take()
        .ok_or("the command has no standard input")?;
    // A command that does not read its input is fine: a broken pipe is not its failure.
    let feed = async move {
        let _ = stdin.write_all(&body).await;
    };
    let (status, ()) = tokio::join!(child.wait(), feed);
    let status = status.map_err(|err| format!("waiting for the command: {err}"))?;
    if status.success() {
        return Ok(());
    }
    Err(match status.code() {
        Some(code) => format!("exit status {code}"),
        None => "killed by a signal".to_owned(),
    })
}

async fn forward(
    client: &HttpClient,
    endpoint: &Endpoint,
    message: &Message,
    body: Vec<u8>,
) -> Result<(), String> {
    let body = Bytes::from(body);
    let attempt = Attempt {
        path: None,
        body: &body,
        content_type: message.content_type.as_deref(),
        headers: &[],
        event_id: message.event_id,
        source_id: &message.source,
        provider_event_id: &message.provider_event_id,
        event_type: message.event_type.as_deref(),
        attempt: message.attempt,
        delivery_id: message.delivery_id,
        signing_key: None,
        timeout: FORWARD_TIMEOUT,
    };
    let now = time::OffsetDateTime::now_utc().unix_timestamp();
    let result = send(client, endpoint, &attempt, now).await;
    if result.outcome.is_success() {
        Ok(())
    } else {
        Err(result.outcome.to_string())
    }
}
