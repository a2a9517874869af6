//! A small typed client of the admin API, for the commands that operate a running hookgate
//! (`hookgate events`, `hookgate replay`). They need its URL and token and nothing else: no
//! config file, no database. Answers are read with the server's own serde types.

use crate::admin::{EventPage, EventQuery};
use crate::config::ClientTlsConfig;
use crate::tls::client::http_client_builder;
use reqwest::StatusCode;
use serde::Serialize;
use serde::de::DeserializeOwned;
use std::time::Duration;
use uuid::Uuid;

/// How long a command waits for one answer of the admin API.
const TIMEOUT: Duration = Duration::from_secs(30);

/// Where the admin API is and how to authenticate: flags, else the environment. `Debug`
/// hides the token.
#[derive(Clone, clap::Args)]
pub struct AdminTarget {
    /// Base URL of a running hookgate's admin listener (its `server.admin_listen`).
    #[arg(
        long,
        env = "HOOKGATE_ADMIN_URL",
        default_value = "http://127.0.0.1:8081",
        global = true
    )]
    admin_url: String,
    /// The admin token (`[admin] token`); prefer the environment variable, which `ps`
    /// does not show.
    #[arg(
        long,
        env = "HOOKGATE_ADMIN_TOKEN",
        hide_env_values = true,
        global = true
    )]
    token: Option<String>,
}

impl std::fmt::Debug for AdminTarget {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AdminTarget")
            .field("admin_url", &crate::redact::url(&self.admin_url))
            .field("token", &crate::redact::option(&self.token))
            .finish()
    }
}

/// Why a call to the admin API failed; each says what to do about it once, without the
/// chain of causes repeating itself.
#[derive(Debug, thiserror::Error)]
pub enum AdminClientError {
    #[error("no admin token: set HOOKGATE_ADMIN_TOKEN (or pass --token)")]
    NoToken,
    #[error(
        "cannot connect to the admin API at {url} ({cause}): is `hookgate serve` running? \
         If it listens elsewhere, pass --admin-url or set HOOKGATE_ADMIN_URL"
    )]
    Unreachable { url: String, cause: String },
    #[error("admin API request {url} failed: {cause}")]
    Transport { url: String, cause: String },
    /// The API answered with an error: its status and the problem's title and detail.
    #[error("admin API answered {status}: {message}")]
    Problem { status: StatusCode, message: String },
    #[error("unexpected answer from the admin API at {url}: {cause}")]
    Unexpected { url: String, cause: String },
}

/// A connection to one admin API.
pub struct AdminClient {
    http: reqwest::Client,
    base: String,
    token: String,
}

impl AdminClient {
    /// A client for `target`; fails without a token, which every admin route requires.
    pub fn new(target: &AdminTarget) -> Result<AdminClient, AdminClientError> {
        let token = target
            .token
            .clone()
            .filter(|token| !token.is_empty())
            .ok_or(AdminClientError::NoToken)?;
        AdminClient::with_token(&target.admin_url, token)
    }

    /// A client of the admin listener at `base_url` that presents `token`: the admin token,
    /// or a pull destination's consumer token for `/consume`.
    pub fn with_token(base_url: &str, token: String) -> Result<AdminClient, AdminClientError> {
        let http = http_client_builder(&ClientTlsConfig::default())
            .map_err(|err| AdminClientError::Transport {
                url: base_url.to_owned(),
                cause: err.to_string(),
            })?
            .timeout(TIMEOUT)
            .build()
            .map_err(|err| AdminClientError::Transport {
                url: base_url.to_owned(),
                cause: root_cause(&err),
            })?;
        Ok(AdminClient {
            http,
            base: base_url.trim_end_matches('/').to_owned(),
            token,
        })
    }

    /// POSTs `body` as JSON to `path` and reads the JSON answer.
    pub async fn post_json<T: DeserializeOwned>(
        &self,
        path: &str,
        body: &impl Serialize,
    ) -> Result<T, AdminClientError> {
        self.send(self.http.post(self.url(path)).json(body)).await
    }

    /// `GET /admin/events`: one page of the search. `T` is [`EventPage`], or
    /// `serde_json::Value` to pass the answer on as it came.
    pub async fn events<T: DeserializeOwned>(
        &self,
        query: &EventQuery,
    ) -> Result<T, AdminClientError> {
        self.send(self.http.get(self.url("/admin/events")).query(query))
            .await
    }

    /// Every event whose provider event id is `provider_event_id` (one per source at most).
    pub async fn events_by_provider_id(
        &self,
        provider_event_id: &str,
        source: Option<&str>,
    ) -> Result<EventPage, AdminClientError> {
        let query = EventQuery {
            provider_event_id: Some(provider_event_id.to_owned()),
            source: source.map(str::to_owned),
            limit: Some(crate::admin::MAX_LIMIT),
            ..EventQuery::default()
        };
        self.events(&query).await
    }

    /// `GET /admin/events/{id}`: the event, its deliveries and their attempts.
    pub async fn event<T: DeserializeOwned>(&self, id: Uuid) -> Result<T, AdminClientError> {
        self.send(self.http.get(self.url(&format!("/admin/events/{id}"))))
            .await
    }

    /// `POST /admin/events/{id}/replay`, to the destinations named (all when none are).
    pub async fn replay_event<T: DeserializeOwned>(
        &self,
        id: &str,
        destinations: &[String],
    ) -> Result<T, AdminClientError> {
        let request = self
            .http
            .post(self.url(&format!("/admin/events/{}/replay", path_segment(id))));
        let request = if destinations.is_empty() {
            request
        } else {
            request.json(&serde_json::json!({ "destinations": destinations }))
        };
        self.send(request).await
    }

    /// `POST /admin/replays`: a bulk replay of what `filter` matches.
    pub async fn start_replay<T: DeserializeOwned>(
        &self,
        filter: &impl Serialize,
    ) -> Result<T, AdminClientError> {
        self.send(self.http.post(self.url("/admin/replays")).json(filter))
            .await
    }

    /// `GET /admin/replays/{id}`: how far a bulk replay got.
    pub async fn replay_progress<T: DeserializeOwned>(
        &self,
        id: &str,
    ) -> Result<T, AdminClientError> {
        let path = format!("/admin/replays/{}", path_segment(id));
        self.send(self.http.get(self.url(&path))).await
    }

    fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base)
    }

    /// `GET /admin/events/{id}/payload`: the body as received.
    pub async fn payload(&self, id: Uuid) -> Result<Vec<u8>, AdminClientError> {
        let path = format!("/admin/events/{id}/payload");
        let body = self.send_raw(self.http.get(self.url(&path))).await?;
        Ok(body.to_vec())
    }

    /// Sends with the token and reads a JSON answer, or the problem an error answer carries.
    async fn send<T: DeserializeOwned>(
        &self,
        request: reqwest::RequestBuilder,
    ) -> Result<T, AdminClientError> {
        let body = self.send_raw(request).await?;
        serde_json::from_slice(&body).map_err(|err| AdminClientError::Unexpected {
            url: self.base.clone(),
            cause: err.to_string(),
        })
    }

    /// Sends with the token: the answer's bytes, or the problem an error answer carries.
    async fn send_raw(
        &self,
        request: reqwest::RequestBuilder,
    ) -> Result<bytes::Bytes, AdminClientError> {
        let response = request
            .bearer_auth(&self.token)
            .send()
            .await
            .map_err(|err| self.transport_error(&err))?;
        let status = response.status();
        let body = response
            .bytes()
            .await
            .map_err(|err| self.transport_error(&err))?;
        if !status.is_success() {
            return Err(AdminClientError::Problem {
                status,
                message: problem_message(&body),
            });
        }
        Ok(body)
    }

    fn transport_error(&self, err: &reqwest::Error) -> AdminClientError {
        let url = err
            .url()
            .map_or_else(|| self.base.clone(), ToString::to_string);
        if err.is_connect() {
            AdminClientError::Unreachable {
                url: self.base.clone(),
                cause: root_cause(err),
            }
        } else {
            AdminClientError::Transport {
                url,
                cause: root_cause(err),
            }
        }
    }
}

/// `id` as one path segment, so that whatever a user types stays inside it.
pub fn path_segment(id: &str) -> String {
    url::form_urlencoded::byte_serialize(id.as_bytes())
        .collect::<String>()
        .replace('+', "%20")
}

/// What an error answer says: the problem's title and detail, else the body as text.
fn problem_message(body: &[u8]) -> String {
    #[derive(serde::Deserialize)]
    struct ProblemText {
        title: String,
        detail: Option<String>,
    }
    match serde_json::from_slice::<ProblemText>(body) {
        Ok(ProblemText {
            title,
            detail: Some(detail),
        }) => format!("{title}: {detail}"),
        Ok(ProblemText { title, .. }) => title,
        Err(_) => String::from_utf8_lossy(body).trim().to_owned(),
    }
}

/// The innermost cause of an error ("Connection refused (os error 111)"): the outer layers
/// of an HTTP client error only repeat the URL already named.
fn root_cause(err: &(dyn std::error::Error + 'static)) -> String {
    let mut cause = err;
    while let Some(source) = cause.source() {
        cause = source;
    }
    cause.to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_problem_answer_is_its_title_and_detail_and_anything_else_its_text() {
        let problem = br#"{"type":"urn:x","title":"Invalid request","status":400,"code":"c","detail":"limit must be between 1 and 500, not 0"}"#;
        assert_eq!(
            problem_message(problem),
            "Invalid request: limit must be between 1 and 500, not 0"
        );
        assert_eq!(
            problem_message(br#"{"title":"No such event","status":404}"#),
            "No such event"
        );
        assert_eq!(problem_message(b" bad gateway \n"), "bad gateway");
    }

    #[test]
    fn the_root_cause_is_the_innermost_error() {
        let io = std::io::Error::new(std::io::ErrorKind::ConnectionRefused, "refused");
        let outer = anyhow::Error::new(io).context("connecting");
        assert_eq!(root_cause(outer.as_ref()), "refused");
    }

    #[test]
    fn an_id_stays_one_path_segment() {
        assert_eq!(path_segment("evt 1/../x"), "evt%201%2F..%2Fx");
    }
}
