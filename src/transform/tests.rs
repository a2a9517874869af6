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
        "function handler(e) { const a = []; while (true) { a.push('x'.repeat(1024) + a.length); } }",
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
