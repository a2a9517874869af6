//! Signed unix-second timestamps: strict parsing and the tolerance window.

use super::Rejection;

/// More digits than this could overflow an `i64`; no real timestamp comes close.
const MAX_DIGITS: usize = 18;

/// Parses unix seconds written as 1 to 18 ASCII digits; anything else is malformed.
pub(super) fn parse(raw: &[u8]) -> Result<i64, Rejection> {
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
