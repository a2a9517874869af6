//! `hookgate events show`: one event as text, its deliveries' attempts as a timeline.

use super::table::{Columns, render, time_millis};
use crate::store::{AttemptDetail, DeliveryDetail, EventDetail};

/// How much of a response body an attempt line shows.
const EXCERPT_CHARS: usize = 60;

/// The whole event: metadata, headers, then each delivery with its attempts.
pub fn render_event(event: &EventDetail) -> String {
    let metadata = [
        ["hookgate id", &event.id.to_string()],
        ["source", &event.source],
        ["provider event id", &event.event_id],
        ["type", event.event_type.as_deref().unwrap_or("-")],
        ["received", &time_millis(event.received_at)],
        [
            "body",
            &format!(
                "{} bytes, {}",
                event.size,
                event.content_type.as_deref().unwrap_or("no content type")
            ),
        ],
    ];
    let mut columns = Columns::default();
    metadata.iter().for_each(|row| columns.fit(row));
    let mut text: Vec<String> = metadata.iter().map(|row| columns.line(row)).collect();

    text.push(String::new());
    text.push("headers".to_owned());
    for (name, value) in &event.headers {
        let value = value
            .as_str()
            .map_or_else(|| value.to_string(), str::to_owned);
        text.push(format!("  {name}: {value}"));
    }

    text.push(String::new());
    if event.deliveries.is_empty() {
        text.push("no deliveries".to_owned());
    }
    for dropped in &event.filtered {
        let connection = match &dropped.destination {
            Some(destination) => format!("not delivered to {destination}"),
            None => "not delivered (source filter)".to_owned(),
        };
        text.push(format!("{connection}: filtered by {}", dropped.rule));
    }
    for delivery in &event.deliveries {
        text.push(delivery_heading(delivery));
        if delivery.attempt_history.is_empty() {
            text.push("  no attempt yet".to_owned());
            continue;
        }
        let rows: Vec<Vec<String>> = delivery.attempt_history.iter().map(attempt_row).collect();
        let timeline = render(
            &["TIME", "ATTEMPT", "OUTCOME", "LATENCY", "RESPONSE"],
            &rows,
        );
        text.extend(timeline.lines().map(|line| format!("  {line}")));
    }
    text.join("\n")
}

/// `delivery to billing: dead after 5 attempts (delivery <id>)`, with when the next attempt
/// is due while it is pending.
fn delivery_heading(delivery: &DeliveryDetail) -> String {
    let plural = if delivery.attempts == 1 { "" } else { "s" };
    let next = if delivery.state == "pending" {
        format!(", next attempt at {}", time_millis(delivery.run_at))
    } else {
        String::new()
    };
    format!(
        "delivery to {}: {} after {} attempt{plural}{next} (delivery {})",
        delivery.destination, delivery.state, delivery.attempts, delivery.id
    )
}

/// The cells of one attempt: when, which, what came back, how long it took, the response.
fn attempt_row(attempt: &AttemptDetail) -> Vec<String> {
    let outcome = match (attempt.status, attempt.error.as_deref()) {
        (Some(status), _) => format!("HTTP {status}"),
        (None, Some(error)) => format!("error: {error}"),
        (None, None) => "-".to_owned(),
    };
    let excerpt = attempt
        .response_excerpt
        .as_deref()
        .map(|text| {
            let flat: String = text.split_whitespace().collect::<Vec<_>>().join(" ");
            match flat.char_indices().nth(EXCERPT_CHARS) {
                Some((cut, _)) => format!("{}…", &flat[..cut]),
                None => flat,
            }
        })
        .unwrap_or_default();
    vec![
        time_millis(attempt.started_at),
        format!("#{}", attempt.attempt),
        outcome,
        format!("{} ms", attempt.duration_ms),
        excerpt,
    ]
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::routes::Filtered;
    use time::macros::datetime;
    use uuid::Uuid;

    fn attempt(n: i32, status: Option<i32>, error: Option<&str>, excerpt: &str) -> AttemptDetail {
        AttemptDetail {
            delivery_id: Uuid::nil(),
            attempt: n,
            started_at: datetime!(2025-06-01 12:00:00 UTC) + time::Duration::seconds(n.into()),
            duration_ms: 10 * n,
            status,
            error: error.map(str::to_owned),
            response_excerpt: Some(excerpt.to_owned()),
        }
    }

    fn event() -> EventDetail {
        let at = datetime!(2025-06-01 12:00:00 UTC);
        EventDetail {
            id: Uuid::nil(),
            source: "stripe".into(),
            event_id: "evt_0001".into(),
            event_type: Some("charge.succeeded".into()),
            received_at: at,
            content_type: Some("application/json".into()),
            size: 84,
            headers: serde_json::from_str(r#"{"content-type":"application/json"}"#).unwrap(),
            filtered: vec![Filtered {
                destination: Some("ledger".into()),
                rule: r#"match[0]: pointer "/data/object/currency" equals "eur""#.into(),
            }],
            deliveries: vec![DeliveryDetail {
                id: Uuid::nil(),
                destination: "billing".into(),
                state: "delivered".into(),
                attempts: 2,
                run_at: at,
                last_status: Some(200),
                last_error: None,
                created_at: at,
                updated_at: at,
                attempt_history: vec![
                    attempt(1, None, Some("connect"), ""),
                    attempt(2, Some(200), None, "{\"ok\":\n true}"),
                ],
            }],
        }
    }

    #[test]
    fn an_event_shows_its_metadata_headers_and_attempt_timeline() {
        let text = render_event(&event());
        let expected = [
            "provider event id  evt_0001",
            "body               84 bytes, application/json",
            "  content-type: application/json",
            r#"not delivered to ledger: filtered by match[0]: pointer "/data/object/currency" equals "eur""#,
            "delivery to billing: delivered after 2 attempts (delivery 00000000-0000-0000-0000-000000000000)",
            "  TIME                      ATTEMPT  OUTCOME         LATENCY  RESPONSE",
            "  2025-06-01T12:00:01.000Z  #1       error: connect  10 ms",
            "  2025-06-01T12:00:02.000Z  #2       HTTP 200        20 ms    {\"ok\": true}",
        ];
        for line in expected {
            assert!(text.lines().any(|l| l == line), "{line:?} not in\n{text}");
        }
    }

    #[test]
    fn a_pending_delivery_says_when_it_is_next_attempted_and_long_responses_are_cut() {
        let mut event = event();
        let delivery = &mut event.deliveries[0];
        delivery.state = "pending".into();
        delivery.attempt_history[1].response_excerpt = Some("x".repeat(100));
        let text = render_event(&event);
        assert!(
            text.contains("pending after 2 attempts, next attempt at 2025-06-01T12:00:00.000Z")
        );
        assert!(
            text.contains(&format!("{}…", "x".repeat(EXCERPT_CHARS))),
            "{text}"
        );
    }
}
