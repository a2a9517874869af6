//! The TLS files a configuration names: a destination's `tls = { … }`, a listener's
//! `[server] tls` / `admin_tls`, and `[redis] ca_file`.

use std::path::{Path, PathBuf};

use serde::{Deserialize, Deserializer};

use super::env_value;

/// A destination's `tls = { ca_file, client_cert_file, client_key_file }`: a private CA to
/// trust and a client certificate for mutual TLS. Verification itself cannot be turned off.
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ClientTlsConfig {
    /// Extra CA certificates (PEM) trusted besides the platform's and the bundled roots.
    #[serde(deserialize_with = "optional_path", default)]
    pub ca_file: Option<PathBuf>,
    /// The client certificate chain (PEM, leaf first) presented when the server asks.
    #[serde(deserialize_with = "optional_path", default)]
    pub client_cert_file: Option<PathBuf>,
    /// The private key (PEM) of `client_cert_file`.
    #[serde(deserialize_with = "optional_path", default)]
    pub client_key_file: Option<PathBuf>,
}

/// `[server] tls` / `admin_tls = { cert_file, key_file }`: the certificate a listener serves,
/// read again on `SIGHUP`.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ListenerTlsConfig {
    /// The certificate chain (PEM, leaf first).
    #[serde(deserialize_with = "path")]
    pub cert_file: PathBuf,
    /// Its private key (PEM).
    #[serde(deserialize_with = "path")]
    pub key_file: PathBuf,
}

impl ClientTlsConfig {
    pub(super) fn resolve_paths(&mut self, base: Option<&Path>) {
        for file in [
            &mut self.ca_file,
            &mut self.client_cert_file,
            &mut self.client_key_file,
        ]
        .into_iter()
        .flatten()
        {
            *file = beside_config(base, file);
        }
    }
}

impl ListenerTlsConfig {
    pub(super) fn resolve_paths(&mut self, base: Option<&Path>) {
        self.cert_file = beside_config(base, &self.cert_file);
        self.key_file = beside_config(base, &self.key_file);
    }
}

/// A relative `path` beside the config file (whose directory is `base`) when something is
/// there, else as given (relative to the working directory).
pub(super) fn beside_config(base: Option<&Path>, path: &Path) -> PathBuf {
    match base {
        Some(base) if path.is_relative() && base.join(path).exists() => base.join(path),
        _ => path.to_owned(),
    }
}

fn path<'de, D: Deserializer<'de>>(d: D) -> Result<PathBuf, D::Error> {
    env_value::string(d).map(PathBuf::from)
}

pub(super) fn optional_path<'de, D: Deserializer<'de>>(d: D) -> Result<Option<PathBuf>, D::Error> {
    env_value::optional_string(d).map(|value| value.map(PathBuf::from))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_relative_file_beside_the_config_is_taken_from_there() {
        let dir = std::env::temp_dir().join(format!("hookgate-tls-{}", uuid::Uuid::now_v7()));
        std::fs::create_dir_all(&dir).unwrap();
        std::fs::write(dir.join("ca.pem"), "x").unwrap();
        assert_eq!(
            beside_config(Some(&dir), Path::new("ca.pem")),
            dir.join("ca.pem")
        );
        assert_eq!(
            beside_config(Some(&dir), Path::new("other.pem")),
            PathBuf::from("other.pem")
        );
        assert_eq!(
            beside_config(Some(&dir), Path::new("/etc/ca.pem")),
            PathBuf::from("/etc/ca.pem")
        );
    }
}
