//! `hookgate sign`: the headers (and a curl line) a provider would send for a body, or the signed
//! request posted directly with `--send`: the local-development aid.

use super::providers::ProvidersDir;
use crate::config::ClientTlsConfig;
use crate::tls::client::http_client_builder;
use crate::verify::{Provider, SigningInput};
use anyhow::Context;
use clap::Args;
use std::path::{Path, PathBuf};

// `Debug` is implemented below, without the secret.
#[derive(Args)]
pub struct SignArgs {
    /// Provider name: a built-in provider, or a file NAME.toml of --providers-dir.
    #[arg(long)]
    provider: String,
    /// The signing secret, as the provider shows it.
    #[arg(
        long,
        required_unless_present = "private_key",
        conflicts_with = "private_key"
    )]
    secret: Option<String>,
    /// For providers that sign with a private key (Ed25519, ECDSA): its PKCS#8 PEM file. The
    /// source's secret is then the matching public key.
    #[arg(long, value_name = "FILE")]
    private_key: Option<PathBuf>,
    /// File holding the body to sign ("-" for standard input); default: a sample event.
    #[arg(long)]
    body: Option<PathBuf>,
    /// Where the webhook will be sent (some providers sign it); default: the --send URL, else
    /// http://127.0.0.1:8080/webhooks/PROVIDER.
    #[arg(long)]
    url: Option<String>,
    /// Sign as of this time instead of now, e.g. to try a timestamp outside the tolerance.
    #[arg(long, value_name = "UNIX_SECONDS", value_parser = clap::value_parser!(i64).range(0..))]
    timestamp: Option<i64>,
    /// Post the signed request (to URL, else to --url) and print the response's status and body
    /// instead of a curl line; fails unless the answer is a success.
    #[arg(long, value_name = "URL")]
    send: Option<Option<String>>,
    #[command(flatten)]
    providers_dir: ProvidersDir,
}

impl std::fmt::Debug for SignArgs {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SignArgs")
            .field("provider", &self.provider)
            .field("secret", &crate::redact::option(&self.secret))
            .field("private_key", &self.private_key)
            .field("body", &self.body)
            .field("url", &self.url)
            .field("timestamp", &self.timestamp)
            .field("send", &self.send)
            .field("providers_dir", &self.providers_dir)
            .finish()
    }
}

/// Signs the body and prints the headers, then a curl line or the answer to posting it.
pub async fn run(args: SignArgs) -> anyhow::Result<()> {
    let registry = args.providers_dir.load()?;
    let provider = registry.require(&args.provider)?.provider.clone();
    let body = read_body(args.body.as_deref())?;
    let send_to = args.send.map(|url| url.or_else(|| args.url.clone()));
    let url = args
        .url
        .or_else(|| send_to.clone().flatten())
        .unwrap_or_else(|| format!("http://127.0.0.1:8080/webhooks/{}", args.provider));
    let now = args
        .timestamp
        .unwrap_or_else(|| time::OffsetDateTime::now_utc().unix_timestamp());
    let secret = signing_secret(&provider, args.secret, args.private_key.as_deref())?;
    let signed = provider.sign(&body, &secret, &url, now)?;
    for (name, value) in &signed.headers {
        println!("{name}: {value}");
    }
    println!();
    // A scheme that signs inside the body sends a different body than the file's.
    let body_file = args.body.as_deref().filter(|_| signed.body == body);
    match send_to {
        Some(target) => {
            let target = target.unwrap_or_else(|| signed.url.clone());
            send(&target, &signed.headers, signed.body).await
        }
        None => {
            let curl = curl_line(&signed.url, &signed.headers, body_file, &signed.body);
            println!("{curl}");
            Ok(())
        }
    }
}

/// The `--secret`, or the `--private-key` file's text, whichever the provider signs with.
fn signing_secret(
    provider: &Provider,
    secret: Option<String>,
    private_key: Option<&Path>,
) -> anyhow::Result<String> {
    let name = provider.name();
    match (provider.signing_input(), secret, private_key) {
        (SigningInput::Secret, Some(secret), _) => Ok(secret),
        (SigningInput::Secret, None, _) => anyhow::bail!(
            "provider `{name}` signs with a shared secret: pass --secret, not --private-key"
        ),
        (SigningInput::PrivateKey, _, Some(path)) => std::fs::read_to_string(path)
            .with_context(|| format!("reading the private key {}", path.display())),
        (SigningInput::PrivateKey, _, None) => anyhow::bail!(
            "provider `{name}` signs with a private key: pass --private-key FILE (PKCS#8 PEM); \
             the source's secret is its public key"
        ),
    }
}

fn read_body(file: Option<&Path>) -> anyhow::Result<Vec<u8>> {
    match file {
        Some(path) if path == Path::new("-") => {
            let mut body = Vec::new();
            std::io::Read::read_to_end(&mut std::io::stdin(), &mut body)
                .context("reading the body from standard input")?;
            Ok(body)
        }
        Some(path) => std::fs::read(path).with_context(|| format!("reading {}", path.display())),
        None => Ok(sample_body()),
    }
}

/// A small event with a fresh id, so repeated `sign` runs are not duplicates.
fn sample_body() -> Vec<u8> {
    let id = uuid::Uuid::now_v7().simple().to_string();
    serde_json::json!({"id": format!("evt_{id}"), "type": "hookgate.test", "data": {"hello": "world"}})
        .to_string()
        .into_bytes()
}

/// Posts the signed request and prints the answer's status line and body.
async fn send(url: &str, headers: &[(String, String)], body: Vec<u8>) -> anyhow::Result<()> {
    let client = http_client_builder(&ClientTlsConfig::default())?
        .build()
        .context("building the HTTP client")?;
    let mut request = client.post(url).body(body);
    for (name, value) in headers {
        request = request.header(name, value);
    }
    let response = request.send().await.context("posting the signed request")?;
    let status = response.status();
    let text = response
        .text()
        .await
        .with_context(|| format!("reading the answer from {url}"))?;
    println!("{status}");
    println!("{text}");
    anyhow::ensure!(status.is_success(), "{url} answered {status}");
    Ok(())
}

/// A `curl` command that sends the same request: the body by file name when it came from one.
fn curl_line(
    url: &str,
    headers: &[(String, String)],
    body_file: Option<&Path>,
    body: &[u8],
) -> String {
    let mut curl = format!("curl -i -X POST {}", shell_quote(url));
    for (name, value) in headers {
        curl.push_str(&format!(" -H {}", shell_quote(&format!("{name}: {value}"))));
    }
    match body_file {
        Some(path) if path != Path::new("-") => curl.push_str(&format!(
            " --data-binary @{}",
            shell_quote(&path.to_string_lossy())
        )),
        _ => curl.push_str(&format!(
            " --data-binary {}",
            shell_quote(&String::from_utf8_lossy(body))
        )),
    }
    curl
}

fn shell_quote(value: &str) -> String {
    format!("'{}'", value.replace('\'', r"'\''"))
}
