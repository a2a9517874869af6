//! One configured source per shipped provider, as an operator would set it up: decoded test
//! secrets, the source keys the provider needs, and the certificate AWS SNS and PayPal requests
//! are checked with (the test certificate of `tests/fixtures/x509/`, standing in for the fetch).

use std::collections::BTreeMap;
use std::sync::{Arc, OnceLock};

use hookgate::verify::fuzzing;
use hookgate::verify::{
    Provider, ProviderRegistry, Request, SecretKey, SigningCertificate, SigningInput, SourceOptions,
};

/// The certificate every SNS and PayPal request is checked with, whatever URL it names.
pub const CERTIFICATE_PEM: &[u8] = include_bytes!("../../tests/fixtures/x509/cert.pem");

/// Secrets tried in turn for providers signed with a shared secret; a source gets the first two
/// its provider decodes (two, so that key rotation is exercised): raw text, a `whsec_` base64
/// secret, hex, a Braintree or basic-auth `user:password` pair.
const SHARED_SECRETS: &[&str] = &[
    "fuzz-user:fuzz-password",
    "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw",
    "00112233445566778899aabbccddeeff00112233445566778899aabbccddeeff",
    "second-fuzz-secret",
    "c2Vjb25kLWZ1enotc2VjcmV0LWtleQ==",
];

/// Public keys (as configured) with their private keys (as `hookgate sign` takes them), tried in
/// turn for providers that sign asymmetrically. The test keys of
/// `src/verify/provider_tests/asymmetric.rs`: Ed25519 as hex and base64, P-256 as SPKI.
const KEY_PAIRS: &[(&str, &str)] = &[
    (
        "3cc3a37cf9609610cd8737c612f754645d5c278ffa22b232a9fdf7518257e7eb",
        ED25519_PEM,
    ),
    ("PMOjfPlglhDNhzfGEvdUZF1cJ4/6IrIyqf33UYJX5+s=", ED25519_PEM),
    (
        "MFkwEwYHKoZIzj0CAQYIKoZIzj0DAQcDQgAEe59OI7ueNXJ/RkKMJpseZjqEGqT3djlD5zMtswekUKCf/ID89VComelB8mZ2yMjQS8IHx4xSV/UVTP00M/m9Ww==",
        P256_PEM,
    ),
];

const ED25519_PEM: &str = "-----BEGIN PRIVATE KEY-----
MC4CAQAwBQYDK2VwBCIEIGPMmNBimc5VJaGiuZ5XTVfUS/sw8jz8b00PXdAUdqrq
-----END PRIVATE KEY-----
";

const P256_PEM: &str = "-----BEGIN PRIVATE KEY-----
MIGHAgEAMBMGByqGSM49AgEGCCqGSM49AwEHBG0wawIBAQQgCcU4cUbtrmjAg0gj
qZbwXdp+dT3ljBUF0eFJd8PzHH+hRANCAAR7n04ju541cn9GQowmmx5mOoQapPd2
OUPnMy2zB6RQoJ/8gPz1UKiZ6UHyZnbIyNBLwgfHjFJX9RVM/TQz+b1b
-----END PRIVATE KEY-----
";

/// The PayPal webhook id of the fixture request, which PayPal signs.
pub const PAYPAL_WEBHOOK_ID: &str = "1JE4291016473214C";

/// A source of one provider.
pub struct Source {
    pub provider: Arc<Provider>,
    pub keys: Vec<SecretKey>,
    pub options: SourceOptions,
    /// What signs a seed for this source: the first key's secret, or its private key. `None`
    /// where requests are signed with the certificate instead.
    pub signing_secret: Option<&'static str>,
}

/// Every shipped provider's source, by provider name; built once.
pub fn sources() -> &'static BTreeMap<String, Source> {
    static SOURCES: OnceLock<BTreeMap<String, Source>> = OnceLock::new();
    SOURCES.get_or_init(|| {
        let registry = ProviderRegistry::built_in().expect("the shipped providers load");
        registry
            .entries()
            .map(|(name, entry)| (name.to_string(), Source::new(entry.provider.clone())))
            .collect()
    })
}

impl Source {
    fn new(provider: Arc<Provider>) -> Source {
        let candidates: Vec<(&'static str, &'static str)> = match provider.signing_input() {
            SigningInput::Secret => SHARED_SECRETS.iter().map(|s| (*s, *s)).collect(),
            SigningInput::PrivateKey => KEY_PAIRS.to_vec(),
        };
        let decoded: Vec<(SecretKey, &'static str)> = candidates
            .into_iter()
            .filter_map(|(secret, signing)| Some((provider.secret_key(secret).ok()?, signing)))
            .take(2)
            .collect();
        assert!(
            !decoded.is_empty() || !provider.requires_secrets(),
            "no test secret suits provider {}",
            provider.name()
        );
        let options = options_for(&provider);
        if let Err((key, why)) = provider.check_options(&options) {
            panic!("test source of {}: {key} {why}", provider.name());
        }
        Source {
            signing_secret: decoded.first().map(|(_, signing)| *signing),
            keys: decoded.into_iter().map(|(key, _)| key).collect(),
            options,
            provider,
        }
    }

    /// The certificate `req` names, as the fetch would answer with the test certificate;
    /// `Err` when the request names none or a URL its source refuses.
    pub fn certificate(&self, req: &Request<'_>) -> Result<Option<SigningCertificate>, ()> {
        match fuzzing::certificate_url(&self.provider, req) {
            Ok(Some(url)) => Ok(Some(
                fuzzing::parse_certificate(&url, CERTIFICATE_PEM)
                    .expect("the test certificate parses"),
            )),
            Ok(None) => Ok(None),
            Err(_) => Err(()),
        }
    }
}

/// The source keys a provider reads, set as an operator would.
fn options_for(provider: &Provider) -> SourceOptions {
    let mut options = SourceOptions::default();
    match provider.name() {
        "paypal" => options.webhook_id = Some(PAYPAL_WEBHOOK_ID.to_string()),
        "meta" => options.verify_token = Some("fuzz-verify-token".to_string()),
        _ => {}
    }
    options
}
