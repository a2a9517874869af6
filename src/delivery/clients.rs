//! The HTTP clients deliveries go out on: one per distinct destination `tls` setting, so
//! destinations that trust the same CAs and present the same certificate (most often: none
//! configured) share one pool of kept-alive connections, and a destination with a private CA
//! or a client certificate gets a client of its own.

use anyhow::Context;

use super::http_client::HttpClient;
use crate::config::{ClientTlsConfig, DestinationConfig};

/// The clients built so far, by TLS setting.
#[derive(Default)]
pub struct Clients {
    built: Vec<(ClientTlsConfig, HttpClient)>,
}

impl Clients {
    /// The client for `destination`'s TLS setting, built the first time that setting is seen.
    /// The error names the destination and the file at fault.
    pub fn for_destination(
        &mut self,
        destination: &DestinationConfig,
    ) -> anyhow::Result<HttpClient> {
        if let Some((_, client)) = self.built.iter().find(|(tls, _)| *tls == destination.tls) {
            return Ok(client.clone());
        }
        let client = HttpClient::new(&destination.tls)
            .with_context(|| format!("destinations {:?}: tls", destination.id))?;
        self.built.push((destination.tls.clone(), client.clone()));
        Ok(client)
    }

    /// How many distinct clients were built.
    #[cfg(test)]
    fn len(&self) -> usize {
        self.built.len()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::path::PathBuf;

    #[test]
    fn destinations_with_the_same_tls_share_one_client() {
        let ca = std::env::temp_dir().join(format!("hookgate-ca-{}.pem", uuid::Uuid::now_v7()));
        let minted = rcgen::generate_simple_self_signed(vec!["private.internal".into()]).unwrap();
        std::fs::write(&ca, minted.cert.pem()).unwrap();
        let plain = super::super::test_destination("https://billing.internal/");
        let private = DestinationConfig {
            tls: ClientTlsConfig {
                ca_file: Some(ca.clone()),
                ..ClientTlsConfig::default()
            },
            ..plain.clone()
        };
        let mut clients = Clients::default();
        for destination in [&plain, &private, &plain, &private] {
            clients.for_destination(destination).unwrap();
        }
        assert_eq!(clients.len(), 2);
        std::fs::remove_file(ca).unwrap();
    }

    #[test]
    fn a_missing_ca_file_names_the_destination_and_the_file() {
        let destination = DestinationConfig {
            tls: ClientTlsConfig {
                ca_file: Some(PathBuf::from("/nonexistent/ca.pem")),
                ..ClientTlsConfig::default()
            },
            ..super::super::test_destination("https://billing.internal/")
        };
        let err = Clients::default()
            .for_destination(&destination)
            .unwrap_err();
        let message = format!("{err:#}");
        assert!(
            message.starts_with("destinations \"billing\": tls: cannot read /nonexistent/ca.pem"),
            "{message}"
        );
    }
}
