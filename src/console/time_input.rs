//! The time filters a person types: an RFC 3339 time, a UTC date and time without zone
//! (`2025-06-01 10:00`, what a `datetime-local` field sends), a date, or a span back from now
//! (`15m`, `1h`, `7d`). The text stays in the URL as typed, so a shared link means the same
//! thing to everyone ("the last hour" stays relative).

use time::format_description::well_known::Rfc3339;
use time::macros::format_description;
use time::{Date, Duration, OffsetDateTime, PrimitiveDateTime};

/// What a time field accepts, for the message when it cannot be read.
pub const HINT: &str = "a time such as 2025-06-01T10:00:00Z, 2025-06-01 10:00 (UTC), \
     2025-06-01, or a span back from now such as 30m, 1h or 7d";

/// The instant `text` names at `now`; `None` when it is none of the accepted forms.
pub fn parse(text: &str, now: OffsetDateTime) -> Option<OffsetDateTime> {
    let text = text.trim();
    if let Some(span) = span(text) {
        return Some(now - span);
    }
    if let Ok(at) = OffsetDateTime::parse(text, &Rfc3339) {
        return Some(at);
    }
    let text = text.replacen('T', " ", 1);
    let with_seconds = format_description!("[year]-[month]-[day] [hour]:[minute]:[second]");
    let without_seconds = format_description!("[year]-[month]-[day] [hour]:[minute]");
    if let Ok(at) = PrimitiveDateTime::parse(&text, with_seconds)
        .or_else(|_| PrimitiveDateTime::parse(&text, without_seconds))
    {
        return Some(at.assume_utc());
    }
    Date::parse(&text, format_description!("[year]-[month]-[day]"))
        .ok()
        .map(|date| date.midnight().assume_utc())
}

/// `30m`, `6h`, `7d`: a number of minutes, hours or days.
fn span(text: &str) -> Option<Duration> {
    let unit = text.chars().last()?;
    let count: i64 = text[..text.len() - unit.len_utf8()].parse().ok()?;
    if count < 0 {
        return None;
    }
    match unit {
        'm' => Some(Duration::minutes(count)),
        'h' => Some(Duration::hours(count)),
        'd' => Some(Duration::days(count)),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use time::macros::datetime;

    const NOW: OffsetDateTime = datetime!(2025-06-15 12:00:00 UTC);

    #[test]
    fn every_accepted_form_reads_as_its_instant() {
        let cases = [
            ("2025-06-01T10:00:00Z", datetime!(2025-06-01 10:00:00 UTC)),
            (
                "2025-06-01T12:00:00+02:00",
                datetime!(2025-06-01 10:00:00 UTC),
            ),
            ("2025-06-01 10:00", datetime!(2025-06-01 10:00:00 UTC)),
            ("2025-06-01T10:00", datetime!(2025-06-01 10:00:00 UTC)),
            ("2025-06-01 10:00:30", datetime!(2025-06-01 10:00:30 UTC)),
            (" 2025-06-01 ", datetime!(2025-06-01 00:00:00 UTC)),
            ("30m", datetime!(2025-06-15 11:30:00 UTC)),
            ("1h", datetime!(2025-06-15 11:00:00 UTC)),
            ("7d", datetime!(2025-06-08 12:00:00 UTC)),
        ];
        for (text, expected) in cases {
            assert_eq!(parse(text, NOW), Some(expected), "{text}");
        }
    }

    #[test]
    fn anything_else_is_refused() {
        for text in [
            "",
            "yesterday",
            "1w",
            "-1h",
            "h",
            "2025-13-01",
            "10:00",
            "1.5h",
        ] {
            assert_eq!(parse(text, NOW), None, "{text}");
        }
    }
}
