//! The `{id}` of `/admin/events/{id}…`: hookgate's own event id, a UUID.
//!
//! Callers often hold the provider's id instead (`evt_0001`, a GitHub delivery GUID is a UUID
//! already and needs no help); rather than a UUID parse error they are told where that id
//! is searched.

use super::error::AdminError;
use serde::Deserialize;
use uuid::Uuid;

/// The path of the routes about one event; kept as text so that a provider's id gets the
/// helpful answer of [`parse`] rather than a generic path error.
#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Path)]
pub struct EventPath {
    /// hookgate event id (to find an event by the provider's id, search with
    /// `provider_event_id`).
    #[param(value_type = Uuid)]
    id: String,
}

impl EventPath {
    /// The hookgate event id, or a `400` pointing to the search by provider id.
    pub fn event_id(&self) -> Result<Uuid, AdminError> {
        parse(&self.id)
    }
}

fn parse(segment: &str) -> Result<Uuid, AdminError> {
    Uuid::parse_str(segment).map_err(|_| {
        let query: String = url::form_urlencoded::byte_serialize(segment.as_bytes()).collect();
        AdminError::NotAnEventId(format!(
            "{segment:?} is not a hookgate event id (a UUID such as the \"id\" the ingest \
             answer and searches give); to find an event by the provider's event id, use \
             GET /admin/events?provider_event_id={query}"
        ))
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_uuid_is_an_event_id() {
        let id = Uuid::now_v7();
        assert_eq!(parse(&id.to_string()).unwrap(), id);
    }

    #[test]
    fn anything_else_points_to_the_provider_id_search_with_the_value_encoded() {
        let Err(AdminError::NotAnEventId(detail)) = parse("evt 1&x") else {
            panic!("a provider id was taken for an event id");
        };
        assert!(
            detail.starts_with(r#""evt 1&x" is not a hookgate event id"#),
            "{detail}"
        );
        assert!(
            detail.ends_with("GET /admin/events?provider_event_id=evt+1%26x"),
            "{detail}"
        );
    }
}
