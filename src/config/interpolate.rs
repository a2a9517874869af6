//! `${NAME}` and `${NAME:-default}` substitution in configuration values.

use std::fmt;

/// Why a value could not be interpolated.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum InterpolateError {
    /// `${NAME}` names a variable that is not set and has no default.
    Unset(String),
    /// A `${` without its closing `}` or with an invalid name.
    Malformed(String),
}

impl fmt::Display for InterpolateError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Unset(name) => write!(
                f,
                "environment variable {name} is not set (write ${{{name}:-default}} to allow that)"
            ),
            Self::Malformed(reason) => write!(f, "malformed ${{...}} reference: {reason}"),
        }
    }
}

/// Replaces every `${NAME}` / `${NAME:-default}` in `input` using `lookup`.
///
/// `$$` stands for a literal `$`. A variable that is set but empty counts as set for
/// `${NAME}` and as unset for `${NAME:-default}`, as in POSIX shells.
pub fn interpolate(
    input: &str,
    lookup: impl Fn(&str) -> Option<String>,
) -> Result<String, InterpolateError> {
    let mut out = String::with_capacity(input.len());
    let mut rest = input;
    while let Some(pos) = rest.find('$') {
        out.push_str(&rest[..pos]);
        let after = &rest[pos + 1..];
        if let Some(tail) = after.strip_prefix('$') {
            out.push('$');
            rest = tail;
        } else if let Some(tail) = after.strip_prefix('{') {
            let end = tail
                .find('}')
                .ok_or_else(|| InterpolateError::Malformed("missing closing '}'".into()))?;
            out.push_str(&resolve(&tail[..end], &lookup)?);
            rest = &tail[end + 1..];
        } else {
            out.push('$');
            rest = after;
        }
    }
    out.push_str(rest);
    Ok(out)
}

/// The variables `input` references without a default that `lookup` does not know, in order of
/// appearance; empty when there are none or the references are malformed (which reading reports).
pub fn unset_variables(input: &str, lookup: impl Fn(&str) -> Option<String>) -> Vec<String> {
    let mut unset: Vec<String> = Vec::new();
    loop {
        let known = |name: &str| {
            if unset.iter().any(|missing| missing == name) {
                Some(String::new())
            } else {
                lookup(name)
            }
        };
        match interpolate(input, known) {
            Err(InterpolateError::Unset(name)) => unset.push(name),
            _ => return unset,
        }
    }
}

fn resolve(
    reference: &str,
    lookup: &impl Fn(&str) -> Option<String>,
) -> Result<String, InterpolateError> {
    let (name, default) = match reference.split_once(":-") {
        Some((name, default)) => (name, Some(default)),
        None => (reference, None),
    };
    let valid_name = !name.is_empty()
        && !name.starts_with(|c: char| c.is_ascii_digit())
        && name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_');
    if !valid_name {
        return Err(InterpolateError::Malformed(format!(
            "{name:?} is not a variable name"
        )));
    }
    match (lookup(name), default) {
        (Some(value), Some(default)) if value.is_empty() => Ok(default.to_owned()),
        (Some(value), _) => Ok(value),
        (None, Some(default)) => Ok(default.to_owned()),
        (None, None) => Err(InterpolateError::Unset(name.to_owned())),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn env(name: &str) -> Option<String> {
        match name {
            "SET" => Some("value".into()),
            "EMPTY" => Some(String::new()),
            _ => None,
        }
    }

    #[test]
    fn substitutes_set_variables_and_keeps_surrounding_text() {
        assert_eq!(interpolate("a-${SET}-b", env).unwrap(), "a-value-b");
    }

    #[test]
    fn uses_the_default_when_unset_or_empty() {
        assert_eq!(interpolate("${MISSING:-x}", env).unwrap(), "x");
        assert_eq!(interpolate("${EMPTY:-x}", env).unwrap(), "x");
        assert_eq!(interpolate("${MISSING:-}", env).unwrap(), "");
    }

    #[test]
    fn an_unset_variable_without_default_is_an_error_naming_it() {
        assert_eq!(
            interpolate("${MISSING}", env),
            Err(InterpolateError::Unset("MISSING".into()))
        );
    }

    #[test]
    fn unset_variables_lists_each_missing_one_once_in_order() {
        assert_eq!(
            unset_variables("${B}-${SET}-${A}-${B}-${C:-x}", env),
            ["B", "A"]
        );
        assert!(unset_variables("${SET} ${MISSING:-}", env).is_empty());
    }

    #[test]
    fn dollar_escapes_and_lone_dollars_are_literal() {
        assert_eq!(interpolate("$$5 and $x", env).unwrap(), "$5 and $x");
    }

    #[test]
    fn malformed_references_are_errors() {
        assert!(matches!(
            interpolate("${SET", env),
            Err(InterpolateError::Malformed(_))
        ));
        assert!(matches!(
            interpolate("${}", env),
            Err(InterpolateError::Malformed(_))
        ));
        assert!(matches!(
            interpolate("${1X}", env),
            Err(InterpolateError::Malformed(_))
        ));
    }
}
