//! One `match` condition of a filter: where a value is read (a JSON pointer into the body or a
//! header) and the test it must pass. Compiled once from the config, so a bad pointer or a value
//! of the wrong type is refused at start, and evaluating one costs no allocation.

use super::RouteInput;
use crate::config::MatchConfig;
use serde_json::Value;
use std::fmt;

/// Where a condition reads its value.
#[derive(Debug, Clone, PartialEq)]
enum Subject {
    /// A JSON pointer (RFC 6901) into the body; absent when the body is not JSON.
    Pointer(String),
    /// A request header, by lower-case name; repeated headers joined with ", ".
    Header(String),
}

/// What the value must satisfy.
#[derive(Debug, Clone, PartialEq)]
enum Test {
    Equals(Value),
    In(Vec<Value>),
    Prefix(String),
    Compare(Comparison, f64),
    Exists(bool),
}

#[derive(Debug, Clone, Copy, PartialEq)]
enum Comparison {
    Gt,
    Gte,
    Lt,
    Lte,
}

impl Comparison {
    fn holds(self, value: f64, bound: f64) -> bool {
        match self {
            Comparison::Gt => value > bound,
            Comparison::Gte => value >= bound,
            Comparison::Lt => value < bound,
            Comparison::Lte => value <= bound,
        }
    }

    fn name(self) -> &'static str {
        match self {
            Comparison::Gt => "gt",
            Comparison::Gte => "gte",
            Comparison::Lt => "lt",
            Comparison::Lte => "lte",
        }
    }
}

/// A compiled condition.
#[derive(Debug, Clone, PartialEq)]
pub struct Condition {
    subject: Subject,
    test: Test,
}

impl Condition {
    /// Compiles a `match` entry; the error says what is wrong with it, for `check-config`.
    pub fn compile(config: &MatchConfig) -> Result<Condition, String> {
        let subject = match (&config.pointer, &config.header) {
            (Some(pointer), None) => Subject::Pointer(check_pointer(pointer)?.to_owned()),
            (None, Some(header)) => Subject::Header(check_header_name(header)?),
            (Some(_), Some(_)) => return Err("set either `pointer` or `header`, not both".into()),
            (None, None) => return Err("needs `pointer` or `header`: what to test".into()),
        };
        let mut tests = Vec::new();
        if let Some(value) = &config.equals {
            tests.push(Test::Equals(value.clone()));
        }
        if let Some(values) = &config.one_of {
            tests.push(Test::In(in_list(values)?));
        }
        if let Some(prefix) = &config.prefix {
            let Value::String(prefix) = prefix else {
                return Err(format!("`prefix` must be a string, not {}", kind(prefix)));
            };
            tests.push(Test::Prefix(prefix.clone()));
        }
        for (comparison, bound) in [
            (Comparison::Gt, &config.gt),
            (Comparison::Gte, &config.gte),
            (Comparison::Lt, &config.lt),
            (Comparison::Lte, &config.lte),
        ] {
            if let Some(bound) = bound {
                let number = bound.as_f64().ok_or_else(|| {
                    format!(
                        "`{}` must be a number, not {}",
                        comparison.name(),
                        kind(bound)
                    )
                })?;
                tests.push(Test::Compare(comparison, number));
            }
        }
        if let Some(exists) = &config.exists {
            let Value::Bool(exists) = exists else {
                return Err(format!(
                    "`exists` must be true or false, not {}",
                    kind(exists)
                ));
            };
            tests.push(Test::Exists(*exists));
        }
        match tests.len() {
            1 => Ok(Condition {
                subject,
                test: tests.remove(0),
            }),
            0 => Err("needs one test: equals, in, prefix, gt, gte, lt, lte or exists".into()),
            _ => {
                Err("has more than one test: write one condition per test (they are ANDed)".into())
            }
        }
    }

    /// Whether the event satisfies this condition.
    pub fn holds(&self, input: &RouteInput) -> bool {
        match &self.subject {
            Subject::Pointer(pointer) => {
                let value = input.json().and_then(|body| body.pointer(pointer));
                test_json(&self.test, value)
            }
            Subject::Header(name) => test_header(&self.test, input.header(name).as_deref()),
        }
    }
}

fn test_json(test: &Test, value: Option<&Value>) -> bool {
    match (test, value) {
        (Test::Exists(expected), value) => value.is_some() == *expected,
        (_, None) => false,
        (Test::Equals(expected), Some(value)) => json_equal(value, expected),
        (Test::In(options), Some(value)) => options.iter().any(|o| json_equal(value, o)),
        (Test::Prefix(prefix), Some(value)) => value
            .as_str()
            .is_some_and(|text| text.starts_with(prefix.as_str())),
        (Test::Compare(comparison, bound), Some(value)) => {
            value.as_f64().is_some_and(|n| comparison.holds(n, *bound))
        }
    }
}

/// A header's value is text: it equals a string, and it compares as a number when it is one.
fn test_header(test: &Test, value: Option<&str>) -> bool {
    match (test, value) {
        (Test::Exists(expected), value) => value.is_some() == *expected,
        (_, None) => false,
        (Test::Equals(expected), Some(value)) => expected.as_str() == Some(value),
        (Test::In(options), Some(value)) => options.iter().any(|o| o.as_str() == Some(value)),
        (Test::Prefix(prefix), Some(value)) => value.starts_with(prefix.as_str()),
        (Test::Compare(comparison, bound), Some(value)) => value
            .trim()
            .parse::<f64>()
            .is_ok_and(|n| n.is_finite() && comparison.holds(n, *bound)),
    }
}

/// JSON equality in which numbers compare by value (`4200` equals `4200.0`), never equal to
/// a string, and arrays and objects compare element by element.
pub fn json_equal(a: &Value, b: &Value) -> bool {
    match (a, b) {
        (Value::Number(x), Value::Number(y)) => {
            match (x.as_i64(), y.as_i64(), x.as_u64(), y.as_u64()) {
                (Some(x), Some(y), _, _) => x == y,
                (_, _, Some(x), Some(y)) => x == y,
                _ => x.as_f64() == y.as_f64(),
            }
        }
        (Value::Array(x), Value::Array(y)) => {
            x.len() == y.len() && x.iter().zip(y).all(|(x, y)| json_equal(x, y))
        }
        (Value::Object(x), Value::Object(y)) => {
            x.len() == y.len()
                && x.iter()
                    .all(|(key, value)| y.get(key).is_some_and(|other| json_equal(value, other)))
        }
        _ => a == b,
    }
}

fn in_list(values: &Value) -> Result<Vec<Value>, String> {
    match values {
        Value::Array(values) if !values.is_empty() => Ok(values.clone()),
        Value::Array(_) => Err("`in` is empty: list at least one value".into()),
        other => Err(format!("`in` must be a list, not {}", kind(other))),
    }
}

/// An RFC 6901 pointer: empty (the whole body) or `/`-separated tokens in which `~` only
/// starts `~0` or `~1`.
pub(super) fn check_pointer(pointer: &str) -> Result<&str, String> {
    if !pointer.is_empty() && !pointer.starts_with('/') {
        return Err(format!(
            "pointer {pointer:?} must start with `/` (a JSON pointer, e.g. \"/data/object/id\")"
        ));
    }
    let mut chars = pointer.chars();
    while let Some(c) = chars.next() {
        if c == '~' && !matches!(chars.next(), Some('0' | '1')) {
            return Err(format!(
                "pointer {pointer:?}: `~` must be followed by 0 (for ~) or 1 (for /)"
            ));
        }
    }
    Ok(pointer)
}

fn check_header_name(name: &str) -> Result<String, String> {
    let valid = !name.is_empty()
        && name
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"!#$%&'*+-.^_`|~".contains(&b));
    if !valid {
        return Err(format!("header {name:?} is not a header name"));
    }
    Ok(name.to_ascii_lowercase())
}

fn kind(value: &Value) -> &'static str {
    match value {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "a list",
        Value::Object(_) => "a table",
    }
}

/// How the condition reads in a `filtered` entry: `pointer "/data/object/currency" equals
/// "eur"`.
impl fmt::Display for Condition {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.subject {
            Subject::Pointer(pointer) => write!(f, "pointer {pointer:?} ")?,
            Subject::Header(name) => write!(f, "header {name:?} ")?,
        }
        match &self.test {
            Test::Equals(value) => write!(f, "equals {value}"),
            Test::In(values) => write!(f, "in {}", Value::Array(values.clone())),
            Test::Prefix(prefix) => write!(f, "prefix {prefix:?}"),
            Test::Compare(comparison, bound) => write!(f, "{} {bound}", comparison.name()),
            Test::Exists(exists) => write!(f, "exists {exists}"),
        }
    }
}
