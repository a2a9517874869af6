//! What the console's list pages share in reading their query: fields a form left empty are
//! no filter (and leave the URL), typed times are read with [`time_input`], and a view's URL
//! is rebuilt from its fields, so every filter can be shared as a link.

use super::error::ConsoleError;
use super::time_input;
use actix_web::HttpRequest;
use serde::Serialize;
use serde::de::DeserializeOwned;
use time::OffsetDateTime;

/// Whether a field is absent or left empty (for `skip_serializing_if`).
pub fn blank(field: &Option<String>) -> bool {
    given(field).is_none()
}

/// A field's value, unless the form left it empty.
pub fn given(field: &Option<String>) -> Option<&str> {
    field.as_deref().map(str::trim).filter(|v| !v.is_empty())
}

/// A field's value as an owned filter, unless the form left it empty.
pub fn owned(field: &Option<String>) -> Option<String> {
    given(field).map(str::to_owned)
}

/// The page's query parameters; a query that does not fit is a bad request.
pub fn read<T: DeserializeOwned>(req: &HttpRequest) -> Result<T, ConsoleError> {
    serde_urlencoded::from_str(req.query_string())
        .map_err(|err| ConsoleError::BadRequest(format!("query: {err}")))
}

/// The time field `name` at `now`; when it cannot be read, a message saying what it takes is
/// added to `problems`.
pub fn time(
    name: &str,
    field: &Option<String>,
    now: OffsetDateTime,
    problems: &mut Vec<String>,
) -> Option<OffsetDateTime> {
    let text = given(field)?;
    let parsed = time_input::parse(text, now);
    if parsed.is_none() {
        problems.push(format!("{name}: {text:?} is not {}", time_input::HINT));
    }
    parsed
}

/// `path` with `params` as its query (none when every field is blank).
pub fn url<T: Serialize>(path: &str, params: &T) -> String {
    match serde_urlencoded::to_string(params).unwrap_or_default() {
        query if query.is_empty() => path.to_owned(),
        query => format!("{path}?{query}"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use time::macros::datetime;

    #[test]
    fn blank_fields_are_no_value_and_times_say_what_they_take() {
        assert_eq!(given(&Some("  ".into())), None);
        assert_eq!(given(&Some(" x ".into())), Some("x"));
        assert!(blank(&None));
        let now = datetime!(2025-06-15 12:00 UTC);
        let mut problems = Vec::new();
        assert_eq!(
            time("since", &Some("1h".into()), now, &mut problems),
            Some(datetime!(2025-06-15 11:00 UTC))
        );
        assert_eq!(
            time("until", &Some("soon".into()), now, &mut problems),
            None
        );
        assert_eq!(problems.len(), 1);
        assert!(problems[0].starts_with(r#"until: "soon" is not a time"#));
    }
}
