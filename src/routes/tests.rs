use super::condition::json_equal;
use super::*;
use crate::config::FilterConfig;
use serde_json::json;

/// A filter from its TOML text, as a user writes it.
fn filter(toml_text: &str) -> ContentFilter {
    try_filter(toml_text).unwrap()
}

fn try_filter(toml_text: &str) -> Result<ContentFilter, (String, String)> {
    let config: FilterConfig = toml::from_str(toml_text).expect("filter TOML");
    ContentFilter::compile(&config)
}

/// The rule an event fails, for a filter with one condition.
fn check(toml_text: &str, event_type: Option<&str>, headers: &[(&str, &str)], body: &str) -> bool {
    let headers: Vec<(String, String)> = headers
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect();
    let input = RouteInput::new(event_type, &headers, body.as_bytes());
    filter(toml_text).failed_rule(&input).is_none()
}

const INVOICE: &str = r#"{"data":{"object":{"currency":"eur","amount":4200,"tags":["a","b"],
    "customer":{"id":"cus_1"},"note":null}}}"#;

fn on_body(condition: &str) -> bool {
    check(
        &format!("match = [{condition}]"),
        Some("invoice.paid"),
        &[],
        INVOICE,
    )
}

#[test]
fn equals_compares_json_values_with_numbers_by_value() {
    assert!(on_body(
        r#"{ pointer = "/data/object/currency", equals = "eur" }"#
    ));
    assert!(!on_body(
        r#"{ pointer = "/data/object/currency", equals = "usd" }"#
    ));
    assert!(on_body(
        r#"{ pointer = "/data/object/amount", equals = 4200 }"#
    ));
    assert!(on_body(
        r#"{ pointer = "/data/object/amount", equals = 4200.0 }"#
    ));
    assert!(!on_body(
        r#"{ pointer = "/data/object/amount", equals = "4200" }"#
    ));
    assert!(on_body(
        r#"{ pointer = "/data/object/tags", equals = ["a", "b"] }"#
    ));
    assert!(on_body(
        r#"{ pointer = "/data/object/customer", equals = { id = "cus_1" } }"#
    ));
    assert!(!on_body(
        r#"{ pointer = "/data/object/missing", equals = "eur" }"#
    ));
}

#[test]
fn in_prefix_and_comparisons() {
    assert!(on_body(
        r#"{ pointer = "/data/object/currency", in = ["usd", "eur"] }"#
    ));
    assert!(!on_body(
        r#"{ pointer = "/data/object/currency", in = ["usd", "gbp"] }"#
    ));
    assert!(on_body(
        r#"{ pointer = "/data/object/amount", in = [1, 4200.0] }"#
    ));
    assert!(on_body(
        r#"{ pointer = "/data/object/customer/id", prefix = "cus_" }"#
    ));
    assert!(!on_body(
        r#"{ pointer = "/data/object/amount", prefix = "42" }"#
    ));
    assert!(on_body(r#"{ pointer = "/data/object/amount", gt = 4199 }"#));
    assert!(!on_body(
        r#"{ pointer = "/data/object/amount", gt = 4200 }"#
    ));
    assert!(on_body(
        r#"{ pointer = "/data/object/amount", gte = 4200 }"#
    ));
    assert!(on_body(
        r#"{ pointer = "/data/object/amount", lt = 4200.5 }"#
    ));
    assert!(!on_body(
        r#"{ pointer = "/data/object/amount", lt = 4200 }"#
    ));
    assert!(on_body(
        r#"{ pointer = "/data/object/amount", lte = 4200 }"#
    ));
    // A comparison on something that is not a number is false, whichever way it points.
    assert!(!on_body(r#"{ pointer = "/data/object/currency", gt = 0 }"#));
    assert!(!on_body(r#"{ pointer = "/data/object/currency", lt = 0 }"#));
}

#[test]
fn exists_tells_present_from_absent_and_null_is_present() {
    assert!(on_body(
        r#"{ pointer = "/data/object/note", exists = true }"#
    ));
    assert!(on_body(
        r#"{ pointer = "/data/object/nothing", exists = false }"#
    ));
    assert!(!on_body(
        r#"{ pointer = "/data/object/currency", exists = false }"#
    ));
    assert!(on_body(
        r#"{ pointer = "/data/object/tags/1", equals = "b" }"#
    ));
}

#[test]
fn a_pointer_into_a_body_that_is_not_json_is_absent() {
    let form = "amount=4200&currency=eur";
    let on_form = |condition: &str| check(&format!("match = [{condition}]"), None, &[], form);
    assert!(on_form(r#"{ pointer = "/currency", exists = false }"#));
    assert!(!on_form(r#"{ pointer = "/currency", exists = true }"#));
    assert!(!on_form(r#"{ pointer = "/currency", equals = "eur" }"#));
    assert!(!on_form(r#"{ pointer = "/amount", lt = 1e9 }"#));
    // Header conditions work whatever the body is.
    let headers = [("X-GitHub-Event", "push")];
    let header_rule = r#"match = [{ header = "x-github-event", equals = "push" }]"#;
    assert!(check(header_rule, None, &headers, form));
}

#[test]
fn headers_are_matched_by_name_in_any_case_and_compare_as_text_or_numbers() {
    let headers = [
        ("X-GitHub-Event", "pull_request"),
        ("X-Retry-Count", "3"),
        ("X-Tag", "one"),
        ("x-tag", "two"),
    ];
    let on_headers =
        |condition: &str| check(&format!("match = [{condition}]"), None, &headers, "{}");
    assert!(on_headers(
        r#"{ header = "X-GITHUB-EVENT", equals = "pull_request" }"#
    ));
    assert!(on_headers(
        r#"{ header = "x-github-event", in = ["push", "pull_request"] }"#
    ));
    assert!(on_headers(
        r#"{ header = "X-GitHub-Event", prefix = "pull_" }"#
    ));
    assert!(on_headers(r#"{ header = "X-Retry-Count", gte = 3 }"#));
    assert!(!on_headers(r#"{ header = "X-Retry-Count", gt = 3 }"#));
    assert!(!on_headers(r#"{ header = "X-GitHub-Event", gt = 0 }"#));
    assert!(on_headers(r#"{ header = "X-Tag", equals = "one, two" }"#));
    assert!(on_headers(r#"{ header = "X-Absent", exists = false }"#));
    assert!(!on_headers(r#"{ header = "X-Absent", equals = "" }"#));
    // A header's text never equals a number: `equals = 3` is not `"3"`.
    assert!(!on_headers(r#"{ header = "X-Retry-Count", equals = 3 }"#));
}

#[test]
fn every_condition_must_hold_and_the_first_failing_one_is_named() {
    let filter = filter(
        r#"event_types = ["invoice.*"]
        match = [
            { pointer = "/data/object/currency", equals = "eur" },
            { pointer = "/data/object/amount", gte = 10000 },
        ]"#,
    );
    let no_headers = &Vec::new();
    let rule = |event_type| {
        filter
            .failed_rule(&RouteInput::new(event_type, no_headers, INVOICE.as_bytes()))
            .map(|rule| rule.to_string())
    };
    assert_eq!(
        rule(Some("invoice.paid")).as_deref(),
        Some(r#"match[1]: pointer "/data/object/amount" gte 10000"#)
    );
    assert_eq!(
        rule(Some("charge.paid")).as_deref(),
        Some(r#"event_types ["invoice.*"]"#)
    );
    assert_eq!(rule(None).as_deref(), Some(r#"event_types ["invoice.*"]"#));
}

#[test]
fn the_body_is_parsed_once_and_only_when_a_pointer_is_read() {
    let no_headers = &Vec::new();
    let input = RouteInput::new(Some("push"), no_headers, INVOICE.as_bytes());
    filter(r#"event_types = ["push"]"#).failed_rule(&input);
    assert!(
        input.json.get().is_none(),
        "an event type filter parsed the body"
    );
    let first = filter(r#"match = [{ pointer = "/data", exists = true }]"#);
    first.failed_rule(&input);
    let parsed = input.json.get().expect("parsed") as *const _;
    first.failed_rule(&input);
    assert_eq!(input.json.get().unwrap() as *const _, parsed);
}

#[test]
fn fan_out_applies_the_source_filter_first_then_each_connection() {
    let connection = |destination: &str, filter_text: Option<&str>| Connection {
        destination: destination.into(),
        filter: filter_text.map(filter),
        ordering: None,
    };
    let routes = Routes {
        filter: Some(filter(r#"event_types = ["invoice.*"]"#)),
        connections: vec![
            connection("billing", None),
            connection(
                "ledger",
                Some(r#"match = [{ pointer = "/data/object/currency", equals = "usd" }]"#),
            ),
        ],
    };
    let no_headers = &Vec::new();
    let fanout = routes.fan_out(&RouteInput::new(
        Some("invoice.paid"),
        no_headers,
        INVOICE.as_bytes(),
    ));
    assert_eq!(fanout.destinations, vec![Arc::<str>::from("billing")]);
    assert_eq!(
        fanout.filtered,
        vec![Filtered {
            destination: Some("ledger".into()),
            rule: r#"match[0]: pointer "/data/object/currency" equals "usd""#.into(),
        }]
    );
    let dropped = routes.fan_out(&RouteInput::new(Some("charge.paid"), no_headers, b"{}"));
    assert!(dropped.destinations.is_empty());
    assert_eq!(
        dropped.filtered,
        vec![Filtered {
            destination: None,
            rule: r#"event_types ["invoice.*"]"#.into(),
        }]
    );
}

#[test]
fn compiling_names_what_is_wrong() {
    let error = |text: &str| try_filter(text).unwrap_err();
    assert_eq!(
        error("").1,
        "is empty: give `event_types` or `match` conditions, or remove the filter"
    );
    let cases = [
        (
            r#"{ pointer = "data/x", equals = 1 }"#,
            "must start with `/`",
        ),
        (
            r#"{ pointer = "/a~2", equals = 1 }"#,
            "`~` must be followed by 0",
        ),
        (r#"{ equals = 1 }"#, "needs `pointer` or `header`"),
        (
            r#"{ pointer = "/a", header = "x", equals = 1 }"#,
            "not both",
        ),
        (r#"{ pointer = "/a" }"#, "needs one test"),
        (
            r#"{ pointer = "/a", equals = 1, gt = 0 }"#,
            "more than one test",
        ),
        (
            r#"{ pointer = "/a", gt = "10" }"#,
            "`gt` must be a number, not a string",
        ),
        (r#"{ pointer = "/a", in = "eur" }"#, "`in` must be a list"),
        (r#"{ pointer = "/a", in = [] }"#, "`in` is empty"),
        (
            r#"{ pointer = "/a", prefix = 1 }"#,
            "`prefix` must be a string",
        ),
        (
            r#"{ pointer = "/a", exists = "yes" }"#,
            "`exists` must be true or false",
        ),
        (
            r#"{ header = "X Bad", equals = "x" }"#,
            "is not a header name",
        ),
    ];
    for (condition, expected) in cases {
        let (key, why) = error(&format!(
            "match = [{{ pointer = \"/ok\", exists = true }}, {condition}]"
        ));
        assert_eq!(key, "match[1]", "{condition}");
        assert!(why.contains(expected), "{condition}: {why}");
    }
    let unknown = toml::from_str::<FilterConfig>(r#"match = [{ pointer = "/a", matches = "x" }]"#);
    assert!(
        unknown
            .unwrap_err()
            .to_string()
            .contains("unknown field `matches`")
    );
}

#[test]
fn json_equality_is_by_value_for_numbers_only() {
    assert!(json_equal(&json!(1), &json!(1.0)));
    assert!(json_equal(&json!(u64::MAX), &json!(u64::MAX)));
    assert!(!json_equal(&json!(u64::MAX), &json!(u64::MAX - 1)));
    assert!(!json_equal(&json!(1), &json!("1")));
    assert!(!json_equal(&json!(null), &json!(false)));
    assert!(json_equal(&json!({"a": [1, 2.0]}), &json!({"a": [1.0, 2]})));
    assert!(!json_equal(&json!({"a": 1}), &json!({"a": 1, "b": 2})));
}
