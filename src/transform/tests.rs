use super::*;
use std::time::{Duration, Instant};

const LIMIT: Duration = Duration::from_millis(50);

fn script(source: &str) -> Script {
    Script {
        name: "t".into(),
        file: "transforms/t.js".into(),
        source: source.into(),
        version: 1,
    }
}

fn run(source: &str, input: &str) -> Result<String, Failure> {
    Sandbox::new(16)
        .unwrap()
        .call(&script(source), input, LIMIT)
}

#[test]
fn a_handler_reshapes_the_event_it_is_given() {
    let source = "function handler(event) {\n  return { body: { total: event.body.amount * 2, kind: event.event_type } };\n}";
    let out = run(
        source,
        r#"{"body":{"amount":21},"event_type":"invoice.paid"}"#,
    )
    .unwrap();
    assert_eq!(out, r#"{"body":{"total":42,"kind":"invoice.paid"}}"#);
    assert_eq!(
        run("function handler(e) { return null; }", "{}").unwrap(),
        "null"
    );
}

#[test]
fn syntax_errors_and_a_missing_handler_name_the_file_and_line() {
    let err = Sandbox::check(&script("function handler(e) {\n  return e +;\n}"), 16).unwrap_err();
    let Failure::Compile(message) = err else {
        panic!("{err:?}")
    };
    assert!(message.contains("transforms/t.js:2"), "{message}");
    let err = Sandbox::check(&script("function other() {}"), 16).unwrap_err();
    assert!(
        err.to_string()
            .contains("defines no function handler(event)"),
        "{err}"
    );
}

#[test]
fn a_throw_is_reported_with_its_message_and_line() {
    let err = run(
        "function handler(e) {\n  throw new Error('no customer');\n}",
        "{}",
    )
    .unwrap_err();
    let Failure::Threw(message) = err else {
        panic!("{err:?}")
    };
    assert!(message.starts_with("no customer"), "{message}");
    assert!(message.contains("transforms/t.js:2"), "{message}");
    let err = run("function handler(e) { }", "{}").unwrap_err();
    assert!(err.to_string().contains("returned nothing"), "{err}");
}

#[test]
fn a_loop_is_stopped_at_the_deadline_and_the_sandbox_keeps_working() {
    let mut sandbox = Sandbox::new(16).unwrap();
    let looping = script("function handler(e) { while (true) {} }");
    let started = Instant::now();
    assert_eq!(
        sandbox.call(&looping, "{}", LIMIT),
        Err(Failure::TimedOut(LIMIT))
    );
    assert!(
        started.elapsed() < Duration::from_secs(2),
        "{:?}",
        started.elapsed()
    );
    let fine = Script {
        name: "u".into(),
        ..script("function handler(e) { return {}; }")
    };
    assert_eq!(sandbox.call(&fine, "{}", LIMIT).unwrap(), "{}");
}

#[test]
fn a_memory_bomb_fails_alone() {
    let mut sandbox = Sandbox::new(16).unwrap();
    let bomb = script(
        "function handler(e) { const a = []; while (true) { a.push('x'.repeat(1048576) + a.length); } }",
    );
    assert_eq!(
        sandbox.call(&bomb, "{}", Duration::from_secs(5)),
        Err(Failure::OutOfMemory(16))
    );
    let fine = Script {
        name: "u".into(),
        ..script("function handler(e) { return e; }")
    };
    assert_eq!(
        sandbox.call(&fine, r#"{"a":1}"#, LIMIT).unwrap(),
        r#"{"a":1}"#
    );
}

#[test]
fn there_is_no_clock_and_scripts_do_not_share_names() {
    assert_eq!(
        run("function handler(e) { return typeof Date; }", "{}").unwrap(),
        r#""undefined""#
    );
    let mut sandbox = Sandbox::new(16).unwrap();
    let a = Script {
        name: "a".into(),
        ..script("const label = 'a'; function handler(e) { return label; }")
    };
    let b = Script {
        name: "b".into(),
        ..script("const label = 'b'; function handler(e) { return label; }")
    };
    assert_eq!(sandbox.call(&a, "{}", LIMIT).unwrap(), r#""a""#);
    assert_eq!(sandbox.call(&b, "{}", LIMIT).unwrap(), r#""b""#);
    assert_eq!(sandbox.call(&a, "{}", LIMIT).unwrap(), r#""a""#);
}

#[test]
fn a_new_version_of_a_script_replaces_the_old_one() {
    let mut sandbox = Sandbox::new(16).unwrap();
    let old = script("function handler(e) { return 1; }");
    assert_eq!(sandbox.call(&old, "{}", LIMIT).unwrap(), "1");
    let new = Script {
        version: 2,
        ..script("function handler(e) { return 2; }")
    };
    assert_eq!(sandbox.call(&new, "{}", LIMIT).unwrap(), "2");
}

#[test]
fn the_handler_sees_the_event_as_documented() {
    let headers: &serde_json::value::RawValue =
        serde_json::from_str(r#"{"x-github-event":"push"}"#).unwrap();
    let id = uuid::Uuid::nil();
    let view = |body: &'static [u8]| EventView {
        body,
        headers,
        source: "github",
        event_type: Some("push"),
        event_id: id,
        provider_event_id: "d-1",
        received_at: time::macros::datetime!(2026-12-05 10:00:00 UTC),
    };
    let input: serde_json::Value = serde_json::from_str(&input_json(&view(br#"{"a":1}"#))).unwrap();
    assert_eq!(
        input,
        serde_json::json!({
            "body": {"a": 1}, "raw_body": "{\"a\":1}", "headers": {"x-github-event": "push"},
            "source": "github", "event_type": "push", "event_id": id,
            "provider_event_id": "d-1", "received_at": "2026-12-05T10:00:00Z"
        })
    );
    let form: serde_json::Value = serde_json::from_str(&input_json(&view(b"a=1"))).unwrap();
    assert_eq!(
        (&form["body"], &form["raw_body"]),
        (&serde_json::Value::Null, &serde_json::json!("a=1"))
    );
    let binary: serde_json::Value = serde_json::from_str(&input_json(&view(b"\xff\xfe"))).unwrap();
    assert_eq!(binary["raw_body"], serde_json::Value::Null);
}

#[test]
fn an_answer_reshapes_skips_or_is_refused_with_a_reason() {
    assert_eq!(parse_output("null"), Ok(Verdict::Skip));
    assert_eq!(
        parse_output("{}"),
        Ok(Verdict::Deliver(Reshaped::default()))
    );
    let Ok(Verdict::Deliver(json_body)) = parse_output(r#"{"body":{"a":1},"path":"/x"}"#) else {
        panic!()
    };
    assert_eq!(json_body.body.as_deref(), Some(&br#"{"a":1}"#[..]));
    assert_eq!(json_body.content_type.as_deref(), Some("application/json"));
    assert_eq!(json_body.path.as_deref(), Some("/x"));
    let Ok(Verdict::Deliver(text)) = parse_output(r#"{"body":"a=1"}"#) else {
        panic!()
    };
    assert_eq!(
        (text.body.as_deref(), text.content_type),
        (Some(&b"a=1"[..]), None)
    );
    let Ok(Verdict::Deliver(headers)) = parse_output(
        r#"{"headers":{"X-Team":"billing","X-Count":3,"Idempotency-Key":"mine","X-Hookgate-Source":"x"}}"#,
    ) else {
        panic!()
    };
    assert_eq!(
        headers.headers,
        // In name order: the answer's object is read as a sorted map.
        vec![
            ("x-count".to_owned(), "3".to_owned()),
            ("x-team".to_owned(), "billing".to_owned())
        ]
    );
    for (answer, reason) in [
        ("42", "return an object"),
        (r#"{"bdy":{}}"#, "unknown key \"bdy\""),
        (r#"{"path":"x"}"#, "must be a string starting with /"),
        (r#"{"path":"/x?y=1"}"#, "no query"),
        (r#"{"headers":{"x":{}}}"#, "must be a string"),
        (r#"{"headers":{"bad name":"v"}}"#, "not a valid header"),
        (r#"{"headers":[]}"#, "headers must be an object"),
    ] {
        let error = parse_output(answer).unwrap_err();
        assert!(error.contains(reason), "{answer}: {error}");
    }
}

#[test]
fn a_sandbox_survives_many_stopped_calls_in_a_row() {
    let mut sandbox = Sandbox::new(16).unwrap();
    let bomb = Script {
        name: "b".into(),
        ..script(
            "function handler(e) { const a = []; while (true) { a.push('x'.repeat(4096) + a.length); } }",
        )
    };
    let looping = Script {
        name: "l".into(),
        ..script("function handler(e) { while (true) {} }")
    };
    let throws = Script {
        name: "t".into(),
        ..script("function handler(e) { throw new Error('x'); }")
    };
    for _ in 0..5 {
        assert_eq!(
            sandbox.call(&bomb, "{}", Duration::from_secs(5)),
            Err(Failure::OutOfMemory(16))
        );
        assert_eq!(
            sandbox.call(&looping, "{}", LIMIT),
            Err(Failure::TimedOut(LIMIT))
        );
        assert!(matches!(
            sandbox.call(&throws, "{}", LIMIT),
            Err(Failure::Threw(_))
        ));
    }
}
