//! Signed timestamps: strict parsing in the provider's format and the tolerance window.

use serde::Deserialize;
use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;

use super::error::Invalid;
use super::schema::TimestampSpec;
use super::signature_header::Layout;
use super::{Rejection, Request};

/// More digits than this could overflow an `i64`; no real timestamp comes close.
const MAX_DIGITS: usize = 18;

/// How a provider writes its signed timestamp.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum TimestampFormat {
    /// Unix seconds (Stripe, Slack, Standard Webhooks).
    #[default]
    Unix,
    /// Unix milliseconds (Webflow).
    UnixMs,
    /// An RFC 3339 date-time (Twitch, Zendesk).
    Rfc3339,
    /// Unix seconds or milliseconds, told apart by size (Mercado Pago documents seconds but is
    /// seen sending milliseconds): 11 digits or fewer are seconds (until the year 5138), more
    /// are milliseconds (from 1973). Written as milliseconds.
    UnixSOrMs,
}

/// The smallest value read as milliseconds by [`TimestampFormat::UnixSOrMs`].
const FIRST_MILLIS: i64 = 100_000_000_000;

impl TimestampFormat {
    /// The timestamp as unix seconds; anything not strictly in this format is malformed.
    pub(super) fn parse(self, raw: &[u8]) -> Result<i64, Rejection> {
        match self {
            TimestampFormat::Unix => parse(raw),
            TimestampFormat::UnixMs => parse(raw).map(|millis| millis.div_euclid(1000)),
            TimestampFormat::UnixSOrMs => parse(raw).map(|unix| match unix {
                millis if millis >= FIRST_MILLIS => millis.div_euclid(1000),
                seconds => seconds,
            }),
            TimestampFormat::Rfc3339 => std::str::from_utf8(raw)
                .ok()
                .and_then(|text| OffsetDateTime::parse(text, &Rfc3339).ok())
                .map(OffsetDateTime::unix_timestamp)
                .ok_or(Rejection::MalformedTimestamp),
        }
    }

    /// `unix` seconds written as a sender in this format writes them; an error for an instant
    /// this format cannot hold in a form [`TimestampFormat::parse`] reads back (milliseconds
    /// beyond `i64`, a year past 9999, seconds before 1970), which a sender never sends.
    pub(super) fn format(self, unix: i64) -> Result<String, String> {
        let written = match self {
            TimestampFormat::Unix => Some(unix.to_string()),
            TimestampFormat::UnixMs | TimestampFormat::UnixSOrMs => {
                unix.checked_mul(1000).map(|millis| millis.to_string())
            }
            TimestampFormat::Rfc3339 => OffsetDateTime::from_unix_timestamp(unix)
                .ok()
                .and_then(|at| at.format(&Rfc3339).ok()),
        };
        written
            .filter(|text| self.parse(text.as_bytes()) == Ok(unix))
            .ok_or_else(|| {
                format!("the time {unix} cannot be written as this provider's timestamp")
            })
    }
}

/// Where the signed timestamp is sent.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) enum TimestampSource {
    /// Its own header, e.g. `X-Slack-Request-Timestamp`.
    Header(String),
    /// A pair of the signature header, e.g. Stripe's `t`.
    Pair(String),
    /// The first item of a `list` signature header (Recurly).
    ListHead,
}

/// A file's `[timestamp]` table, checked: where the timestamp is, how it is written, and how far
/// from now it may be. Shared by every scheme that signs a timestamp.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) struct TimestampRule {
    pub source: TimestampSource,
    pub format: TimestampFormat,
    pub tolerance_secs: u64,
}

impl TimestampRule {
    /// Checks `spec` against the signature header's `layout` (a pair needs pairs).
    pub(super) fn compile(spec: &TimestampSpec, layout: &Layout) -> Result<TimestampRule, Invalid> {
        Invalid::reject_if(
            spec.pointer.is_some(),
            "timestamp.pointer",
            "with a signature header (only scheme = \"body-signature\" reads it)",
        )?;
        let source = match (&spec.header, &spec.key) {
            (None, None) if layout.is_list() => TimestampSource::ListHead,
            (_, _) if layout.is_list() => {
                return Err(Invalid::new(
                    "timestamp",
                    "with signature.format = \"list\" the timestamp is its first item: set neither `header` nor `key`",
                ));
            }
            (Some(header), None) if !header.is_empty() => TimestampSource::Header(header.clone()),
            (None, Some(key)) if layout.has_pairs() && !key.is_empty() => {
                TimestampSource::Pair(key.clone())
            }
            (None, Some(_)) => {
                return Err(Invalid::new(
                    "timestamp.key",
                    "needs signature.format = \"pairs\" and a non-empty key",
                ));
            }
            _ => {
                return Err(Invalid::new(
                    "timestamp",
                    "set exactly one of `header` (non-empty) or `key`",
                ));
            }
        };
        Ok(TimestampRule {
            source,
            format: spec.format,
            tolerance_secs: spec.tolerance_secs,
        })
    }

    /// The header the timestamp travels in, when it has one of its own.
    pub(super) fn header(&self) -> Option<&str> {
        match &self.source {
            TimestampSource::Header(name) => Some(name),
            TimestampSource::Pair(_) | TimestampSource::ListHead => None,
        }
    }

    /// The raw timestamp of `req`, once it parses and lies within the tolerance (`tolerance_secs`
    /// overrides the file's); `signature_value` is the signature header, read with `layout`.
    pub(super) fn checked<'r>(
        &self,
        req: &Request<'r>,
        layout: &Layout,
        signature_value: &'r [u8],
        tolerance_secs: Option<u64>,
    ) -> Result<&'r [u8], Rejection> {
        let raw = match &self.source {
            TimestampSource::Header(name) => req
                .headers
                .header(name)
                .ok_or(Rejection::MissingTimestamp)?,
            TimestampSource::Pair(key) => layout.pair(signature_value, key.as_bytes())?,
            TimestampSource::ListHead => layout.list_head(signature_value)?,
        };
        let unix = self.format.parse(raw)?;
        check(
            unix,
            req.now_unix,
            tolerance_secs.unwrap_or(self.tolerance_secs),
        )?;
        Ok(raw)
    }
}

/// Parses unix seconds written as 1 to 18 ASCII digits; anything else is malformed.
fn parse(raw: &[u8]) -> Result<i64, Rejection> {
    if raw.is_empty() || raw.len() > MAX_DIGITS || !raw.iter().all(u8::is_ascii_digit) {
        return Err(Rejection::MalformedTimestamp);
    }
    Ok(raw
        .iter()
        .fold(0i64, |acc, digit| acc * 10 + i64::from(digit - b'0')))
}

/// Rejects a timestamp more than `tolerance_secs` away from `now_unix`, in either direction.
pub(super) fn check(timestamp: i64, now_unix: i64, tolerance_secs: u64) -> Result<(), Rejection> {
    if timestamp.abs_diff(now_unix) > tolerance_secs {
        return Err(Rejection::TimestampOutOfTolerance);
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_digits_only() {
        assert_eq!(parse(b"1614265330"), Ok(1_614_265_330));
        assert_eq!(parse(b"0"), Ok(0));
        assert_eq!(parse(b"999999999999999999"), Ok(999_999_999_999_999_999));
        let forty = "9".repeat(40);
        for bad in [
            &b""[..],
            b"-5",
            b"+5",
            b" 5",
            b"5.0",
            b"1e9",
            forty.as_bytes(),
            b"\xff",
        ] {
            assert_eq!(parse(bad), Err(Rejection::MalformedTimestamp), "{bad:?}");
        }
    }

    #[test]
    fn milliseconds_and_rfc3339_are_read_as_unix_seconds() {
        assert_eq!(
            TimestampFormat::UnixMs.parse(b"1663849649733"),
            Ok(1_663_849_649)
        );
        assert_eq!(
            TimestampFormat::Rfc3339.parse(b"2021-07-25T10:00:00Z"),
            Ok(1_627_207_200)
        );
        assert_eq!(
            TimestampFormat::Rfc3339.parse(b"2019-11-16T10:11:12.634234626Z"),
            Ok(1_573_899_072)
        );
        for bad in [&b"2021-07-25 10:00:00"[..], b"1627207200", b"", b"\xff"] {
            assert_eq!(
                TimestampFormat::Rfc3339.parse(bad),
                Err(Rejection::MalformedTimestamp),
                "{bad:?}"
            );
        }
        assert_eq!(
            TimestampFormat::UnixMs.parse(b"16638496.49733"),
            Err(Rejection::MalformedTimestamp)
        );
    }

    #[test]
    fn seconds_or_milliseconds_by_size() {
        let either = TimestampFormat::UnixSOrMs;
        // Mercado Pago's documented example (seconds) and its SDK's fixture (milliseconds).
        assert_eq!(either.parse(b"1704908010"), Ok(1_704_908_010));
        assert_eq!(either.parse(b"1742505638683"), Ok(1_742_505_638));
        assert_eq!(either.parse(b"99999999999"), Ok(99_999_999_999));
        assert_eq!(either.parse(b"100000000000"), Ok(100_000_000));
        for bad in [&b""[..], b"-1", b"1.5", b"9999999999999999999"] {
            assert_eq!(either.parse(bad), Err(Rejection::MalformedTimestamp));
        }
    }

    #[test]
    fn each_format_writes_what_it_reads() {
        for format in [
            TimestampFormat::Unix,
            TimestampFormat::UnixMs,
            TimestampFormat::Rfc3339,
            TimestampFormat::UnixSOrMs,
        ] {
            let written = format.format(1_700_000_000).unwrap();
            assert_eq!(
                format.parse(written.as_bytes()),
                Ok(1_700_000_000),
                "{written}"
            );
        }
        assert_eq!(
            TimestampFormat::Rfc3339.format(1_627_207_200).unwrap(),
            "2021-07-25T10:00:00Z"
        );
    }

    /// Found by the property tests: milliseconds of a late enough instant overflowed `i64` (a
    /// panic in debug builds, a wrapped negative time in release), and an RFC 3339 time past
    /// year 9999 was written as the empty string.
    #[test]
    fn instants_a_format_cannot_hold_are_refused() {
        for (format, unix) in [
            (TimestampFormat::UnixMs, i64::MAX),
            (TimestampFormat::UnixSOrMs, i64::MAX / 999),
            (TimestampFormat::UnixMs, 1_000_000_000_000_000),
            (TimestampFormat::Rfc3339, 253_402_300_800),
            (TimestampFormat::Unix, -1),
        ] {
            assert_eq!(
                format.format(unix),
                Err(format!(
                    "the time {unix} cannot be written as this provider's timestamp"
                )),
                "{format:?}"
            );
        }
        assert_eq!(
            TimestampFormat::Rfc3339.format(253_402_300_799).unwrap(),
            "9999-12-31T23:59:59Z"
        );
    }

    #[test]
    fn tolerance_in_both_directions() {
        assert_eq!(check(1000, 1300, 300), Ok(()));
        assert_eq!(check(1300, 1000, 300), Ok(()));
        assert_eq!(
            check(1000, 1301, 300),
            Err(Rejection::TimestampOutOfTolerance)
        );
        assert_eq!(
            check(1301, 1000, 300),
            Err(Rejection::TimestampOutOfTolerance)
        );
        assert_eq!(
            check(0, i64::MIN, 0),
            Err(Rejection::TimestampOutOfTolerance)
        );
    }
}
