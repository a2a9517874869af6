//! What one transform call costs, in process: hookgate's own QuickJS sandbox (what its delivery
//! workers call) running the bench's script on the event the transform phase seeds, passed as
//! hookgate passes it. The routes phase measures the same from outside (hookgate's CPU per
//! delivery with and without the transform); this is the engine alone, without the queue, the
//! thread hand-off or the HTTP request. [`time`] times the other in-process figures too.

use std::sync::Arc;
use std::time::Instant;

use bytes::Bytes;
use hookgate::config::ServerConfig;
use hookgate::transform::{EventView, Sandbox, Script, Verdict, input_json, parse_output};
use serde::{Deserialize, Serialize};

use crate::ceiling_pg::event_like_hookgates;
use crate::payload;

/// The script, as `bench/run` names it in the routes phase's config (`transform = "reshape"`).
pub const SCRIPT: &str = include_str!("../transforms/reshape.js");
const SCRIPT_NAME: &str = "reshape";
const SCRIPT_FILE: &str = "bench/transforms/reshape.js";

/// Calls made before timing, so compilation and first-call costs stay out of the figure.
const WARM_UP_CALLS: u64 = 200;

/// Calls of one piece of work (a transform engine, a filter) on one input.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct CallCost {
    /// What was called.
    pub what: String,
    pub calls: u64,
    pub secs: f64,
    /// Length of what each call reads: the event as JSON for a transform, the body for a
    /// filter.
    pub input_bytes: usize,
}

impl CallCost {
    pub fn us_per_call(&self) -> f64 {
        1e6 * self.secs / self.calls.max(1) as f64
    }

    pub fn print(&self) {
        println!(
            "== {}: {:.2} µs per call ({} calls in {:.2} s, {} bytes in)",
            self.what,
            self.us_per_call(),
            self.calls,
            self.secs,
            self.input_bytes
        );
    }
}

/// Times `calls` calls of `call` after a warm-up.
pub fn time(
    what: &str,
    input_bytes: usize,
    calls: u64,
    mut call: impl FnMut() -> anyhow::Result<()>,
) -> anyhow::Result<CallCost> {
    for _ in 0..WARM_UP_CALLS {
        call()?;
    }
    let started = Instant::now();
    for _ in 0..calls {
        call()?;
    }
    Ok(CallCost {
        what: what.to_owned(),
        calls,
        secs: started.elapsed().as_secs_f64(),
        input_bytes,
    })
}

/// The seeded event (a GitHub push of about `body_bytes`, its stored headers) as hookgate
/// hands it to `handler(event)`.
pub fn event_input(body_bytes: usize) -> anyhow::Result<String> {
    let body = Bytes::from(payload::push_event(body_bytes));
    let event = event_like_hookgates(&Arc::from("gh"), &Arc::from("sink"), &body);
    let headers: &serde_json::value::RawValue = serde_json::from_str(&event.headers_json)?;
    Ok(input_json(&EventView {
        body: &event.body,
        headers,
        source: &event.source_id,
        event_type: event.event_type.as_deref(),
        event_id: event.id,
        provider_event_id: &event.event_id,
        received_at: event.received_at,
    }))
}

/// Times `calls` calls of the transform `call` on `input`; the first answer must be a
/// delivery hookgate accepts, so that a broken script cannot pass for a fast one.
pub fn time_calls(
    engine: &str,
    input: &str,
    calls: u64,
    mut call: impl FnMut(&str) -> anyhow::Result<String>,
) -> anyhow::Result<CallCost> {
    let answer = call(input)?;
    match parse_output(&answer) {
        Ok(Verdict::Deliver(_)) => {}
        other => anyhow::bail!("{engine}: the script's answer {answer} reads as {other:?}"),
    }
    time(engine, input.len(), calls, || call(input).map(drop))
}

/// QuickJS as hookgate runs it: its sandbox, memory limit and deadline.
pub fn quickjs(input: &str, calls: u64) -> anyhow::Result<CallCost> {
    time_calls(
        "Transform, QuickJS (rquickjs, hookgate's sandbox)",
        input,
        calls,
        quickjs_caller()?,
    )
}

/// A function calling the script's handler in a fresh hookgate sandbox.
pub(crate) fn quickjs_caller() -> anyhow::Result<impl FnMut(&str) -> anyhow::Result<String>> {
    let server = ServerConfig::default();
    let limit = std::time::Duration::from_millis(server.transform_timeout_ms);
    let script = Script {
        name: SCRIPT_NAME.to_owned(),
        file: SCRIPT_FILE.to_owned(),
        source: SCRIPT.to_owned(),
        version: 1,
    };
    let mut sandbox = Sandbox::new(server.transform_memory_mb).map_err(anyhow::Error::msg)?;
    Ok(move |input: &str| Ok(sandbox.call(&script, input, limit)?))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_script_reshapes_the_seeded_event_in_hookgates_sandbox() {
        let input = event_input(1024).unwrap();
        let answer: serde_json::Value =
            serde_json::from_str(&quickjs_caller().unwrap()(&input).unwrap()).unwrap();
        assert_eq!(answer["body"]["repository"], "acme/widgets");
        assert_eq!(answer["body"]["event"], "push");
        assert_eq!(answer["body"]["commits"][0]["author"], "octocat");
        assert_eq!(
            answer["headers"][crate::servers::RESHAPED_HEADER],
            "reshape"
        );
        assert_eq!(answer["path"], "/widgets");
        assert_eq!(quickjs(&input, 3).unwrap().calls, 3);
    }

    #[test]
    fn a_script_answer_hookgate_would_refuse_is_an_error() {
        let refused = time_calls("test", "{}", 1, |_| Ok("42".into()));
        assert!(refused.is_err());
        let skipped = time_calls("test", "{}", 1, |_| Ok("null".into()));
        assert!(skipped.is_err());
    }
}
