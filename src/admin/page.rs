//! Query parameters every listing shares: the page size and the opaque cursor, and how the
//! OpenAPI document states their bounds (from the same constants the checks use).

use super::error::AdminError;
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use serde::Serialize;
use serde::de::DeserializeOwned;
use utoipa::Modify;
use utoipa::openapi::path::ParameterIn;
use utoipa::openapi::{RefOr, Schema};

/// Page size when `limit` is not given.
pub const DEFAULT_LIMIT: u32 = 50;
/// The largest page a caller may ask for.
pub const MAX_LIMIT: u32 = 500;

/// The page size asked for, checked.
pub fn limit(requested: Option<u32>) -> Result<u32, AdminError> {
    match requested.unwrap_or(DEFAULT_LIMIT) {
        limit @ 1..=MAX_LIMIT => Ok(limit),
        other => Err(AdminError::BadRequest(format!(
            "limit must be between 1 and {MAX_LIMIT}, not {other}"
        ))),
    }
}

/// What a cursor is made of (base64url without padding, the alphabet of [`encode`]); empty
/// stands for the first page.
const CURSOR_PATTERN: &str = "^[A-Za-z0-9_-]*$";

/// The position the `cursor` parameter stands for: none for the first page, which an absent
/// or empty cursor asks for (a client that echoes a null `next_cursor` back sends it empty).
pub fn position<T: DeserializeOwned>(cursor: Option<&str>) -> Result<Option<T>, AdminError> {
    cursor
        .filter(|cursor| !cursor.is_empty())
        .map(decode)
        .transpose()
}

/// The position a cursor stands for; a cursor not made by [`encode`] is a bad request.
fn decode<T: DeserializeOwned>(cursor: &str) -> Result<T, AdminError> {
    URL_SAFE_NO_PAD
        .decode(cursor)
        .ok()
        .and_then(|bytes| serde_json::from_slice(&bytes).ok())
        .ok_or_else(|| AdminError::BadRequest("invalid cursor".into()))
}

/// An opaque cursor for `position`.
fn encode<T: Serialize>(position: &T) -> String {
    URL_SAFE_NO_PAD.encode(serde_json::to_vec(position).unwrap_or_default())
}

/// Turns up to `limit + 1` rows into a page of at most `limit` and the cursor of the next
/// page, if there is one.
pub fn paginate<R, P: Serialize>(
    mut rows: Vec<R>,
    limit: u32,
    position: impl Fn(&R) -> P,
) -> (Vec<R>, Option<String>) {
    let limit = limit as usize;
    if rows.len() <= limit {
        return (rows, None);
    }
    rows.truncate(limit);
    let next = rows.last().map(|row| encode(&position(row)));
    (rows, next)
}

/// Writes into the OpenAPI document what [`limit`] and [`position`] accept, for every query
/// parameter named `limit` or `cursor`: the bounds come from the constants the checks use, so
/// the document cannot drift from them.
pub struct PageParameters;

impl Modify for PageParameters {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        let operations = openapi
            .paths
            .paths
            .values_mut()
            .flat_map(|item| [&mut item.get, &mut item.post])
            .flatten();
        let parameters = operations
            .flat_map(|operation| operation.parameters.iter_mut().flatten())
            .filter_map(|parameter| match parameter {
                RefOr::T(parameter) if parameter.parameter_in == ParameterIn::Query => {
                    Some(parameter)
                }
                _ => None,
            });
        for parameter in parameters {
            let Some(RefOr::T(Schema::Object(schema))) = &mut parameter.schema else {
                continue;
            };
            match parameter.name.as_str() {
                "limit" => {
                    schema.minimum = Some(1.into());
                    schema.maximum = Some(MAX_LIMIT.into());
                    schema.default = Some(DEFAULT_LIMIT.into());
                }
                "cursor" => schema.pattern = Some(CURSOR_PATTERN.into()),
                _ => {}
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_cursor_decodes_to_what_it_encodes_and_garbage_is_refused() {
        let id = uuid::Uuid::now_v7();
        assert_eq!(decode::<uuid::Uuid>(&encode(&id)).unwrap(), id);
        assert!(decode::<uuid::Uuid>("not a cursor").is_err());
        assert!(decode::<uuid::Uuid>(&encode(&"nope")).is_err());
    }

    #[test]
    fn an_absent_or_empty_cursor_is_the_first_page_and_every_cursor_fits_the_pattern() {
        assert_eq!(position::<uuid::Uuid>(None).unwrap(), None);
        assert_eq!(position::<uuid::Uuid>(Some("")).unwrap(), None);
        let id = uuid::Uuid::now_v7();
        let cursor = encode(&id);
        assert_eq!(position::<uuid::Uuid>(Some(&cursor)).unwrap(), Some(id));
        let pattern = regex::Regex::new(CURSOR_PATTERN).unwrap();
        assert!(pattern.is_match(&cursor), "{cursor}");
        assert!(!pattern.is_match("not a cursor"));
    }

    #[test]
    fn limits_outside_the_range_are_refused() {
        assert_eq!(limit(None).unwrap(), DEFAULT_LIMIT);
        assert_eq!(limit(Some(MAX_LIMIT)).unwrap(), MAX_LIMIT);
        assert!(limit(Some(0)).is_err());
        assert!(limit(Some(MAX_LIMIT + 1)).is_err());
    }

    #[test]
    fn a_full_page_points_to_the_next_and_a_short_one_ends() {
        let (rows, next) = paginate(vec![1, 2, 3, 4], 3, |n| *n);
        assert_eq!(rows, [1, 2, 3]);
        assert_eq!(decode::<i32>(&next.unwrap()).unwrap(), 3);
        assert_eq!(paginate(vec![1, 2, 3], 3, |n| *n), (vec![1, 2, 3], None));
    }
}
