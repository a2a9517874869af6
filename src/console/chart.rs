//! Small time-series charts of the last hour, drawn on the server as SVG: one bar per minute,
//! failures (when given) over the total in the alarm colour. Colours come from the stylesheet
//! (the CSP allows no inline style); each bar's title tells its minute and count.

use super::activity_summary::{MINUTES, Series};
use maud::{Markup, html};
use time::OffsetDateTime;
use time::macros::format_description;

/// The drawing's size in SVG units; it is stretched to the width of its box.
const WIDTH: f64 = 240.0;
const HEIGHT: f64 = 48.0;
/// The gap between bars, in SVG units.
const GAP: f64 = 0.8;

/// A chart of `series` (per minute, the first starting at `first`), labelled `label` for
/// screen readers; `failed`, when given, is drawn over it. A quiet hour is said in words.
pub fn minutes(
    label: &str,
    series: &Series,
    failed: Option<&Series>,
    first: OffsetDateTime,
) -> Markup {
    let top = series.iter().copied().max().unwrap_or(0);
    let total: i64 = series.iter().sum();
    if total == 0 {
        return html! { p.chart-empty { "Nothing in the last hour." } };
    }
    let description = format!("{label}: {total} in the last hour, at most {top} in a minute");
    html! {
        figure.chart {
            svg viewBox={ "0 0 " (WIDTH) " " (HEIGHT) } preserveAspectRatio="none"
                role="img" aria-label=(description) {
                line.baseline x1="0" y1=(HEIGHT) x2=(WIDTH) y2=(HEIGHT) {}
                (bars(series, top, first, "bar", ""))
                @if let Some(failed) = failed {
                    (bars(failed, top, first, "bar failed", " failed"))
                }
            }
            figcaption {
                span { "−60 min" }
                span { "peak " (top) "/min" }
                span { "now" }
            }
        }
    }
}

/// A bar per minute with a count, scaled to `top`, of class `class`; its title says the
/// minute, the count and `what`.
fn bars(series: &Series, top: i64, first: OffsetDateTime, class: &str, what: &str) -> Markup {
    let step = WIDTH / MINUTES as f64;
    let number = |value: f64| format!("{value:.2}");
    html! {
        @for (index, count) in series.iter().enumerate() {
            @if *count > 0 {
                rect class=(class) x=(number(index as f64 * step))
                    y=(number(HEIGHT - height(*count, top))) width=(number(step - GAP))
                    height=(number(height(*count, top))) {
                    title { (minute_label(first, index)) ": " (count) (what) }
                }
            }
        }
    }
}

/// A bar's height for `count` when the tallest is `top`: at least a sliver when not zero.
fn height(count: i64, top: i64) -> f64 {
    if top <= 0 || count <= 0 {
        return 0.0;
    }
    (count as f64 / top as f64 * HEIGHT).max(1.0)
}

fn minute_label(first: OffsetDateTime, index: usize) -> String {
    (first + time::Duration::minutes(index as i64))
        .format(format_description!("[hour]:[minute] UTC"))
        .unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;
    use time::macros::datetime;

    #[test]
    fn bars_scale_to_the_tallest_and_never_vanish() {
        assert_eq!(height(10, 10), HEIGHT);
        assert_eq!(height(5, 10), HEIGHT / 2.0);
        assert_eq!(height(1, 1000), 1.0);
        assert_eq!(height(0, 10), 0.0);
        assert_eq!(height(3, 0), 0.0);
    }

    #[test]
    fn a_chart_draws_a_bar_per_busy_minute_and_describes_itself() {
        let mut series = Series::default();
        series[0] = 2;
        series[MINUTES - 1] = 4;
        let mut failed = Series::default();
        failed[0] = 1;
        let svg = minutes(
            "Attempts",
            &series,
            Some(&failed),
            datetime!(2025-06-15 11:31 UTC),
        )
        .into_string();
        assert_eq!(svg.matches("<rect").count(), 3);
        assert!(
            svg.contains(r#"aria-label="Attempts: 6 in the last hour, at most 4 in a minute""#)
        );
        assert!(svg.contains("<title>11:31 UTC: 1 failed</title>"));
        assert!(svg.contains("<title>12:30 UTC: 4</title>"));
        let quiet = minutes(
            "Attempts",
            &Series::default(),
            None,
            datetime!(2025-06-15 11:31 UTC),
        );
        assert!(quiet.into_string().contains("Nothing in the last hour."));
    }
}
