//! Boa, the JavaScript engine hookgate did not choose, on the transform QuickJS runs: the same
//! script, the same event, wrapped the way hookgate wraps it (JSON text in, `JSON.parse`,
//! `handler`, `JSON.stringify`, JSON text out), so the two figures differ only by the engine.
//! Built with the `engines` feature only: Boa's compile is long.

use boa_engine::{Context, JsString, JsValue, Source};

use crate::transform_cost::{CallCost, SCRIPT, time_calls};

/// Boa per call on `input` (see [`crate::transform_cost::event_input`]).
pub fn boa(input: &str, calls: u64) -> anyhow::Result<CallCost> {
    time_calls("Transform, Boa (boa_engine)", input, calls, boa_caller()?)
}

/// A function calling the script's handler in a Boa context of its own.
fn boa_caller() -> anyhow::Result<impl FnMut(&str) -> anyhow::Result<String>> {
    let mut context = Context::default();
    let wrapped = format!(
        "(function () {{ {SCRIPT}\n; return function (input) {{ \
         return JSON.stringify(handler(JSON.parse(input))); }}; }})()"
    );
    let function = context
        .eval(Source::from_bytes(wrapped.as_bytes()))
        .map_err(|err| anyhow::anyhow!("Boa: evaluating the script: {err}"))?
        .as_callable()
        .ok_or_else(|| anyhow::anyhow!("Boa: the wrapped script is not a function"))?;
    Ok(move |input: &str| {
        let argument = JsValue::from(JsString::from(input));
        let answer = function
            .call(&JsValue::undefined(), &[argument], &mut context)
            .map_err(|err| anyhow::anyhow!("Boa: the handler threw: {err}"))?;
        answer
            .as_string()
            .map(|text| text.to_std_string_escaped())
            .ok_or_else(|| anyhow::anyhow!("Boa: the handler's answer is not a string"))
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::transform_cost::{event_input, quickjs_caller};

    #[test]
    fn boa_answers_what_quickjs_answers() {
        let input = event_input(1024).unwrap();
        let answer = |text: String| serde_json::from_str::<serde_json::Value>(&text).unwrap();
        let boa = answer(boa_caller().unwrap()(&input).unwrap());
        assert_eq!(boa, answer(quickjs_caller().unwrap()(&input).unwrap()));
        assert_eq!(boa["body"]["repository"], "acme/widgets");
    }
}
