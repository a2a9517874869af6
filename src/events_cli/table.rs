//! Plain-text layout of events: aligned columns, times in RFC 3339 UTC.

use crate::store::EventSummary;
use std::collections::BTreeMap;
use time::format_description::FormatItem;
use time::macros::format_description;
use time::{OffsetDateTime, UtcOffset};

/// Whole seconds: enough to tell events apart in a list, and a fixed width.
const SECONDS: &[FormatItem<'static>] =
    format_description!("[year]-[month]-[day]T[hour]:[minute]:[second]Z");
/// Milliseconds, for attempt timelines where latencies are milliseconds too.
const MILLIS: &[FormatItem<'static>] =
    format_description!("[year]-[month]-[day]T[hour]:[minute]:[second].[subsecond digits:3]Z");

/// The columns of an event list.
pub const EVENT_HEADER: [&str; 6] = [
    "RECEIVED",
    "SOURCE",
    "PROVIDER EVENT ID",
    "TYPE",
    "DELIVERIES",
    "HOOKGATE ID",
];

/// Widths an event row starts with when rows come one at a time (`events tail`): the time and
/// the hookgate id have these exactly, the others usually fit.
pub const EVENT_WIDTHS: [usize; 6] = [20, 12, 24, 20, 12, 36];

/// `at` in UTC, to the second.
pub fn time_seconds(at: OffsetDateTime) -> String {
    format_utc(at, SECONDS)
}

/// `at` in UTC, to the millisecond.
pub fn time_millis(at: OffsetDateTime) -> String {
    format_utc(at, MILLIS)
}

fn format_utc(at: OffsetDateTime, format: &[FormatItem<'static>]) -> String {
    at.to_offset(UtcOffset::UTC)
        .format(format)
        .unwrap_or_else(|_| at.to_string())
}

/// Delivery counts per state, e.g. `delivered:2 dead:1`; `-` without deliveries.
pub fn delivery_states(counts: &BTreeMap<String, i64>) -> String {
    if counts.is_empty() {
        return "-".to_owned();
    }
    counts
        .iter()
        .map(|(state, n)| format!("{state}:{n}"))
        .collect::<Vec<_>>()
        .join(" ")
}

/// The cells of one event's row, in [`EVENT_HEADER`] order.
pub fn event_row(event: &EventSummary) -> Vec<String> {
    vec![
        time_seconds(event.received_at),
        event.source.clone(),
        event.event_id.clone(),
        event.event_type.clone().unwrap_or_else(|| "-".to_owned()),
        delivery_states(&event.deliveries),
        event.id.to_string(),
    ]
}

/// Column widths that only grow, so rows printed one batch at a time (`events tail`) stay
/// aligned with those before them as far as their content allows.
#[derive(Debug, Default)]
pub struct Columns {
    widths: Vec<usize>,
}

impl Columns {
    /// Columns of these widths to begin with.
    pub fn with_widths(widths: &[usize]) -> Columns {
        Columns {
            widths: widths.to_vec(),
        }
    }

    /// Widens the columns to fit `row`.
    pub fn fit<S: AsRef<str>>(&mut self, row: &[S]) {
        if self.widths.len() < row.len() {
            self.widths.resize(row.len(), 0);
        }
        for (width, cell) in self.widths.iter_mut().zip(row) {
            *width = (*width).max(cell.as_ref().chars().count());
        }
    }

    /// `row` padded to the widths, two spaces between columns, no trailing spaces.
    pub fn line<S: AsRef<str>>(&self, row: &[S]) -> String {
        let mut line = String::new();
        for (i, cell) in row.iter().enumerate() {
            let cell = cell.as_ref();
            if i > 0 {
                line.push_str("  ");
            }
            line.push_str(cell);
            let width = self.widths.get(i).copied().unwrap_or(0);
            line.extend(std::iter::repeat_n(
                ' ',
                width.saturating_sub(cell.chars().count()),
            ));
        }
        line.truncate(line.trim_end().len());
        line
    }
}

/// A whole table: the header and every row, aligned.
pub fn render<S: AsRef<str>>(header: &[&str], rows: &[Vec<S>]) -> String {
    let mut columns = Columns::default();
    columns.fit(header);
    for row in rows {
        columns.fit(row);
    }
    let mut text = columns.line(header);
    for row in rows {
        text.push('\n');
        text.push_str(&columns.line(row));
    }
    text
}

#[cfg(test)]
mod tests {
    use super::*;
    use time::macros::datetime;

    #[test]
    fn times_are_utc_rfc3339_of_fixed_width() {
        let at = datetime!(2025-06-01 14:30:05.123456 +02:00);
        assert_eq!(time_seconds(at), "2025-06-01T12:30:05Z");
        assert_eq!(time_millis(at), "2025-06-01T12:30:05.123Z");
        assert_eq!(
            time_millis(datetime!(2025-06-01 12:30:05 UTC)),
            "2025-06-01T12:30:05.000Z"
        );
    }

    #[test]
    fn delivery_states_list_each_count() {
        let counts = BTreeMap::from([("dead".to_owned(), 1), ("delivered".to_owned(), 2)]);
        assert_eq!(delivery_states(&counts), "dead:1 delivered:2");
        assert_eq!(delivery_states(&BTreeMap::new()), "-");
    }

    #[test]
    fn columns_align_to_the_widest_cell_without_trailing_spaces() {
        let rows = vec![vec!["a", "stripe", "x"], vec!["bbb", "gh", "yy"]];
        assert_eq!(
            render(&["N", "SOURCE", "ID"], &rows),
            "N    SOURCE  ID\na    stripe  x\nbbb  gh      yy"
        );
    }

    #[test]
    fn columns_keep_their_width_across_batches() {
        assert_eq!(Columns::with_widths(&[3, 1]).line(&["a", "b"]), "a    b");
        let mut columns = Columns::default();
        columns.fit(&["long name", "b"]);
        columns.fit(&["x", "y"]);
        assert_eq!(columns.line(&["x", "y"]), "x          y");
    }
}
