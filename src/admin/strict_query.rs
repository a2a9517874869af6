//! Query strings that must hold only the parameters a route documents.
//!
//! A misspelled filter (`?evnt_type=x`) or a parameter of another API (`?event_id=`) would
//! otherwise be ignored silently and the route would answer as if it were absent: a search
//! returning everything looks like an answer. Every admin route therefore takes its query
//! through [`StrictQuery`], and a route without parameters takes [`NoQuery`].

use super::error::AdminError;
use actix_web::dev::Payload;
use actix_web::{FromRequest, HttpRequest};
use serde::Deserialize;
use serde::de::DeserializeOwned;
use std::future::{Ready, ready};
use utoipa::IntoParams;
use utoipa::openapi::path::ParameterIn;

/// How alike an unknown name and an accepted one must be (Jaro-Winkler) to suggest it.
const SUGGESTION_SIMILARITY: f64 = 0.8;

/// The query parameters of a route, deserialized from the query string; any parameter the
/// route does not declare (in `T`, whose `IntoParams` also documents them) is a `400`.
#[derive(Debug)]
pub struct StrictQuery<T>(pub T);

impl<T> StrictQuery<T> {
    pub fn into_inner(self) -> T {
        self.0
    }
}

impl<T: DeserializeOwned + IntoParams> FromRequest for StrictQuery<T> {
    type Error = AdminError;
    type Future = Ready<Result<Self, AdminError>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        ready(parse(req.query_string()).map(StrictQuery))
    }
}

/// The parameters of a route that takes none.
#[derive(Debug, Deserialize, IntoParams)]
pub struct NoQuery {}

/// Parses `query` into `T`, refusing every parameter `T` does not declare.
fn parse<T: DeserializeOwned + IntoParams>(query: &str) -> Result<T, AdminError> {
    let mut unknown = Vec::new();
    let deserializer =
        serde_urlencoded::Deserializer::new(url::form_urlencoded::parse(query.as_bytes()));
    let parsed = serde_ignored::deserialize(deserializer, |path| {
        if let serde_ignored::Path::Map { key, .. } = path
            && !unknown.contains(&key)
        {
            unknown.push(key);
        }
    });
    if !unknown.is_empty() {
        return Err(AdminError::UnknownParameters(describe_unknown(
            &unknown,
            &accepted::<T>(),
        )));
    }
    let parsed = parsed.map_err(|err| AdminError::BadRequest(format!("invalid query: {err}")))?;
    refuse_nul(query)?;
    Ok(parsed)
}

/// Postgres text cannot hold NUL, so no stored value has one: a parameter that does would
/// only fail in the database, so it is refused here, by name.
fn refuse_nul(query: &str) -> Result<(), AdminError> {
    match url::form_urlencoded::parse(query.as_bytes()).find(|(_, value)| value.contains('\0')) {
        Some((name, _)) => Err(AdminError::BadRequest(format!(
            "invalid query: {name} contains a NUL character"
        ))),
        None => Ok(()),
    }
}

/// The names `T` declares, in declaration order.
fn accepted<T: IntoParams>() -> Vec<String> {
    T::into_params(|| Some(ParameterIn::Query))
        .into_iter()
        .map(|parameter| parameter.name)
        .collect()
}

/// The problem detail: every unknown name (with the accepted name it most resembles, if
/// any) and what the route accepts instead.
fn describe_unknown(unknown: &[String], accepted: &[String]) -> String {
    let names: Vec<String> = unknown
        .iter()
        .map(|name| match closest(name, accepted) {
            Some(suggestion) => format!("{name:?} (did you mean {suggestion:?}?)"),
            None => format!("{name:?}"),
        })
        .collect();
    let noun = if unknown.len() == 1 {
        "unknown query parameter"
    } else {
        "unknown query parameters"
    };
    let known = if accepted.is_empty() {
        "this route takes no query parameters".to_owned()
    } else {
        format!("this route accepts: {}", accepted.join(", "))
    };
    format!("{noun} {}; {known}", names.join(", "))
}

/// The accepted name most like `name`, if one is alike enough to be what was meant: one that
/// contains it (`event_id` → `provider_event_id`), else the most similar spelling.
fn closest<'a>(name: &str, accepted: &'a [String]) -> Option<&'a str> {
    if let Some(containing) = accepted.iter().find(|candidate| candidate.contains(name)) {
        return Some(containing);
    }
    accepted
        .iter()
        .map(|candidate| (strsim::jaro_winkler(name, candidate), candidate))
        .filter(|(similarity, _)| *similarity >= SUGGESTION_SIMILARITY)
        .max_by(|a, b| a.0.total_cmp(&b.0))
        .map(|(_, candidate)| candidate.as_str())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Debug, Deserialize, IntoParams)]
    struct Search {
        event_type: Option<String>,
        provider_event_id: Option<String>,
        limit: Option<u32>,
    }

    fn refusal<T: DeserializeOwned + IntoParams + std::fmt::Debug>(query: &str) -> String {
        match parse::<T>(query) {
            Err(AdminError::UnknownParameters(detail)) => detail,
            other => panic!("{query}: expected unknown parameters, got {other:?}"),
        }
    }

    #[test]
    fn declared_parameters_parse_and_an_empty_query_is_fine() {
        let search: Search = parse("event_type=a.b&provider_event_id=evt%201&limit=5").unwrap();
        assert_eq!(search.event_type.as_deref(), Some("a.b"));
        assert_eq!(search.provider_event_id.as_deref(), Some("evt 1"));
        assert_eq!(search.limit, Some(5));
        assert!(parse::<Search>("").unwrap().limit.is_none());
        parse::<NoQuery>("").unwrap();
    }

    #[test]
    fn every_unknown_parameter_is_named_once_with_what_is_accepted() {
        let detail = refusal::<Search>("evnt_type=x&limit=5&foo=1&foo=2&bar&event_id=e");
        assert_eq!(
            detail,
            r#"unknown query parameters "evnt_type" (did you mean "event_type"?), "foo", "bar", "event_id" (did you mean "provider_event_id"?); this route accepts: event_type, provider_event_id, limit"#
        );
    }

    #[test]
    fn a_route_without_parameters_refuses_any() {
        assert_eq!(
            refusal::<NoQuery>("pretty=1"),
            r#"unknown query parameter "pretty"; this route takes no query parameters"#
        );
    }

    #[test]
    fn a_value_with_a_nul_character_is_a_bad_request_naming_it() {
        assert!(matches!(
            parse::<Search>("limit=5&event_type=a%00b"),
            Err(AdminError::BadRequest(detail)) if detail == "invalid query: event_type contains a NUL character"
        ));
    }

    #[test]
    fn a_bad_value_is_a_bad_request_naming_it() {
        assert!(matches!(
            parse::<Search>("limit=many"),
            Err(AdminError::BadRequest(detail)) if detail.starts_with("invalid query")
        ));
    }
}
