//! When the certificates of a file stop being valid, read from their `notAfter`: a renewal
//! that did not happen is a warning weeks ahead instead of an outage on the day.

use rustls::pki_types::CertificateDer;
use time::{Duration, OffsetDateTime};

/// A certificate ending within this long is reported: two weeks leave time to renew one by
/// hand after a missed automatic renewal.
pub const WARN_BEFORE: Duration = Duration::days(14);

/// Where the first of a file's certificates to end stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Expiry {
    /// Valid for longer than [`WARN_BEFORE`].
    Valid,
    /// Ends within [`WARN_BEFORE`].
    Soon { not_after: OffsetDateTime },
    /// Already ended.
    Expired { not_after: OffsetDateTime },
}

/// The state at `now` of the certificate of `certificates` that ends first (a chain ends
/// with its first link to end); an error when one is not an X.509 certificate.
pub fn expiry(certificates: &[CertificateDer<'_>], now: OffsetDateTime) -> Result<Expiry, String> {
    let mut earliest: Option<OffsetDateTime> = None;
    for (index, certificate) in certificates.iter().enumerate() {
        let (_, parsed) = x509_parser::parse_x509_certificate(certificate).map_err(|err| {
            format!(
                "certificate {} is not an X.509 certificate: {err}",
                index + 1
            )
        })?;
        let not_after = parsed.validity().not_after.to_datetime();
        earliest = Some(earliest.map_or(not_after, |so_far| so_far.min(not_after)));
    }
    Ok(match earliest {
        Some(not_after) if not_after <= now => Expiry::Expired { not_after },
        Some(not_after) if not_after - now <= WARN_BEFORE => Expiry::Soon { not_after },
        _ => Expiry::Valid,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::tls::testing::self_signed_ending;

    fn at(days: i64) -> Expiry {
        let now = OffsetDateTime::now_utc();
        let minted = self_signed_ending(now + Duration::days(days));
        expiry(&[minted.der], now).unwrap()
    }

    #[test]
    fn a_certificate_is_reported_two_weeks_before_it_ends_and_after() {
        assert_eq!(at(30), Expiry::Valid);
        assert!(matches!(at(13), Expiry::Soon { .. }));
        assert!(matches!(at(-1), Expiry::Expired { .. }));
    }

    #[test]
    fn a_chain_ends_with_its_first_certificate_to_end() {
        let now = OffsetDateTime::now_utc();
        let long = self_signed_ending(now + Duration::days(300));
        let short = self_signed_ending(now + Duration::days(3));
        let state = expiry(&[long.der, short.der], now).unwrap();
        assert!(matches!(state, Expiry::Soon { .. }), "{state:?}");
    }

    #[test]
    fn bytes_that_are_no_certificate_are_an_error() {
        let garbage = CertificateDer::from(vec![0x30, 0x03, 0x01, 0x01, 0xff]);
        let err = expiry(&[garbage], OffsetDateTime::now_utc()).unwrap_err();
        assert!(
            err.starts_with("certificate 1 is not an X.509 certificate"),
            "{err}"
        );
    }
}
