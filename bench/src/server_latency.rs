//! hookgate's own measure of its ingest answers: the `hookgate_ingest_response_seconds`
//! histogram of `/metrics`, scraped before and after a phase. It times each request from its
//! arrival at the handler to its answer, so it shows what the server did, apart from the time a
//! request waited in the driver, the kernel's queues or for a connection.

use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::io::{Read, Write};
use std::net::TcpStream;
use std::time::Duration;

const METRIC: &str = "hookgate_ingest_response_seconds_bucket{";

/// The answers of one phase as hookgate timed them. Quantiles are bucket upper bounds, in
/// seconds (`inf` past the largest bucket).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct ServerLatency {
    /// Answers timed, by status code.
    pub answers: BTreeMap<String, u64>,
    pub p50_le_s: f64,
    pub p99_le_s: f64,
}

impl ServerLatency {
    /// `N answers (202: a, 503: b), p50 ≤ x ms, p99 ≤ y ms`.
    pub fn line(&self) -> String {
        let total: u64 = self.answers.values().sum();
        let by_status: Vec<String> = self
            .answers
            .iter()
            .map(|(status, count)| format!("{status}: {count}"))
            .collect();
        format!(
            "{total} answers ({}), p50 <= {} ms, p99 <= {} ms",
            by_status.join(", "),
            self.p50_le_s * 1000.0,
            self.p99_le_s * 1000.0
        )
    }
}

/// `GET url` (plain HTTP on loopback, e.g. `http://127.0.0.1:18081/metrics`): the body.
pub fn scrape(url: &str) -> anyhow::Result<String> {
    let rest = url
        .strip_prefix("http://")
        .ok_or_else(|| anyhow::anyhow!("{url}: only http:// URLs are scraped"))?;
    let (authority, path) = rest.split_once('/').unwrap_or((rest, ""));
    let mut stream = TcpStream::connect(authority)?;
    stream.set_read_timeout(Some(Duration::from_secs(10)))?;
    write!(stream, "GET /{path} HTTP/1.0\r\nHost: {authority}\r\n\r\n")?;
    let mut answer = String::new();
    stream.read_to_string(&mut answer)?;
    let (_, body) = answer
        .split_once("\r\n\r\n")
        .ok_or_else(|| anyhow::anyhow!("{url}: no HTTP answer"))?;
    Ok(body.to_owned())
}

/// Cumulative bucket counts by (status, upper bound) in a Prometheus text exposition.
fn buckets(text: &str) -> BTreeMap<(String, u64), f64> {
    text.lines()
        .filter_map(|line| line.strip_prefix(METRIC))
        .filter_map(|line| {
            let (labels, value) = line.split_once("} ")?;
            let label = |name: &str| {
                let start = labels.find(&format!("{name}=\""))? + name.len() + 2;
                let end = start + labels[start..].find('"')?;
                Some(labels[start..end].to_owned())
            };
            let le: f64 = match label("le")?.as_str() {
                "+Inf" => f64::INFINITY,
                bound => bound.parse().ok()?,
            };
            Some(((label("status")?, le.to_bits()), value.trim().parse().ok()?))
        })
        .collect()
}

/// What was answered between the scrapes `before` and `after`; `None` when nothing was.
pub fn between(before: &str, after: &str) -> Option<ServerLatency> {
    let before = buckets(before);
    let mut by_bound: BTreeMap<u64, f64> = BTreeMap::new();
    let mut answers: BTreeMap<String, u64> = BTreeMap::new();
    for ((status, bound), count) in buckets(after) {
        let grown = count - before.get(&(status.clone(), bound)).copied().unwrap_or(0.0);
        *by_bound.entry(bound).or_default() += grown;
        if bound == f64::INFINITY.to_bits() {
            answers.insert(status, grown as u64);
        }
    }
    // Non-negative floats (infinity too) order like their bit patterns: by bound already.
    let cumulative: Vec<(f64, f64)> = by_bound
        .into_iter()
        .map(|(bound, count)| (f64::from_bits(bound), count))
        .collect();
    let total = cumulative.last()?.1;
    let quantile = |q: f64| {
        cumulative
            .iter()
            .find(|(_, count)| *count >= q * total)
            .map_or(f64::INFINITY, |(bound, _)| *bound)
    };
    (total > 0.0).then(|| ServerLatency {
        answers,
        p50_le_s: quantile(0.5),
        p99_le_s: quantile(0.99),
    })
}

#[cfg(test)]
mod tests {
    use super::between;

    fn exposition(rows: &[(&str, &str, u64)]) -> String {
        let mut text = String::from("# TYPE hookgate_ingest_response_seconds histogram\n");
        for (status, le, count) in rows {
            text.push_str(&format!(
                "hookgate_ingest_response_seconds_bucket{{status=\"{status}\",le=\"{le}\"}} {count}\n"
            ));
        }
        text.push_str("hookgate_ingest_ack_seconds_bucket{source=\"gh\",le=\"0.1\"} 7\n");
        text
    }

    #[test]
    fn quantiles_are_the_bounds_of_the_buckets_the_answers_of_the_phase_fell_in() {
        let before = exposition(&[
            ("202", "0.01", 50),
            ("202", "0.25", 50),
            ("202", "+Inf", 50),
        ]);
        // The phase: 100 more 2xx, 90 within 10 ms and 10 within 250 ms; 100 503s within 10 ms.
        let after = exposition(&[
            ("202", "0.01", 140),
            ("202", "0.25", 150),
            ("202", "+Inf", 150),
            ("503", "0.01", 100),
            ("503", "0.25", 100),
            ("503", "+Inf", 100),
        ]);
        let latency = between(&before, &after).unwrap();
        assert_eq!(latency.answers["202"], 100);
        assert_eq!(latency.answers["503"], 100);
        assert_eq!(latency.p50_le_s, 0.01);
        assert_eq!(latency.p99_le_s, 0.25);
    }

    #[test]
    fn a_phase_that_answered_nothing_has_no_latency() {
        let same = exposition(&[("202", "0.01", 5), ("202", "+Inf", 5)]);
        assert_eq!(between(&same, &same), None);
        assert_eq!(between("", ""), None);
    }

    #[test]
    fn answers_past_the_largest_bucket_give_an_infinite_bound() {
        let after = exposition(&[("202", "30", 0), ("202", "+Inf", 4)]);
        assert!(between("", &after).unwrap().p99_le_s.is_infinite());
    }
}
