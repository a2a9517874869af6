//! Query parameters every listing shares: the page size and the opaque cursor.

use super::error::AdminError;
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use serde::Serialize;
use serde::de::DeserializeOwned;

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

/// The position a cursor stands for; a cursor not made by [`encode`] is a bad request.
pub fn decode<T: DeserializeOwned>(cursor: &str) -> Result<T, AdminError> {
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
