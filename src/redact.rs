//! `Debug` output without secrets. A type that holds a secret (a config section, command-line
//! arguments, a key) implements `Debug` by hand and shows each secret through these helpers,
//! so a `{:?}` in a log line, an error or a panic message can never print one.

use std::fmt;

/// Stands in for a secret.
pub struct Redacted;

impl fmt::Debug for Redacted {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("<redacted>")
    }
}

/// Whether an optional secret is set, never what it is.
pub fn option<T>(secret: &Option<T>) -> Option<Redacted> {
    secret.as_ref().map(|_| Redacted)
}

/// How many secrets there are, never which.
pub fn list<T>(secrets: &[T]) -> Vec<Redacted> {
    secrets.iter().map(|_| Redacted).collect()
}

/// A URL with its password and the values of query parameters that name a password, secret or
/// token (libpq's `password` and `sslpassword`) replaced. Text that is not a URL with a host
/// is shown as it is unless it has an `@` or a `?`, where credentials would be: then wholly
/// redacted.
pub fn url(text: &str) -> String {
    const HIDDEN: &str = "redacted";
    let Some(mut url) = url::Url::parse(text).ok().filter(url::Url::has_host) else {
        return match text.contains(['@', '?']) {
            true => format!("{Redacted:?}"),
            false => text.to_owned(),
        };
    };
    if url.password().is_some() && url.set_password(Some(HIDDEN)).is_err() {
        return format!("{Redacted:?}");
    }
    if url.query().is_some() {
        let pairs: Vec<(String, String)> = url
            .query_pairs()
            .map(|(name, value)| {
                let lower = name.to_ascii_lowercase();
                let secret = ["password", "secret", "token"]
                    .iter()
                    .any(|word| lower.contains(word));
                let value = if secret { HIDDEN.into() } else { value.into() };
                (name.into_owned(), value)
            })
            .collect();
        url.query_pairs_mut().clear().extend_pairs(pairs);
    }
    url.to_string()
}

#[cfg(test)]
mod tests;
