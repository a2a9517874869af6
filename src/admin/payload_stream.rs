//! An event's body as a response stream: a body of up to 25 MiB is sent in 1 MiB slices read
//! one after another, so a download holds one slice in memory, not the whole body.

use super::error::AdminError;
use crate::store::{PayloadStart, Store};
use actix_web::HttpResponse;
use actix_web::http::header::CONTENT_TYPE;
use actix_web::http::header::HeaderValue;
use actix_web::mime;
use bytes::Bytes;
use futures_util::{Stream, stream};
use uuid::Uuid;

/// Bodies up to this size come back whole with the first query; larger ones in slices of it.
pub const SLICE_BYTES: usize = 1024 * 1024;

/// The response for the payload of event `id`, whose first read answered `start`.
pub fn respond(store: Store, id: Uuid, start: PayloadStart) -> HttpResponse {
    let content_type = start
        .content_type
        .as_deref()
        .filter(|value| value.parse::<mime::Mime>().is_ok())
        .and_then(|value| HeaderValue::from_str(value).ok())
        .unwrap_or(HeaderValue::from_static("application/octet-stream"));
    let mut response = HttpResponse::Ok();
    response.insert_header((CONTENT_TYPE, content_type));
    match start.body {
        Some(body) => response.body(body),
        None => {
            let size = usize::try_from(start.size).unwrap_or_default();
            response
                .no_chunking(size as u64)
                .streaming(slices(store, id, size))
        }
    }
}

/// The body's slices in order. Should the event be purged between two slices, the stream
/// fails and the connection is cut short of its Content-Length, which a client notices.
fn slices(store: Store, id: Uuid, size: usize) -> impl Stream<Item = Result<Bytes, AdminError>> {
    stream::try_unfold(0usize, move |offset| {
        let store = store.clone();
        async move {
            if offset >= size {
                return Ok(None);
            }
            let len = SLICE_BYTES.min(size - offset);
            let slice = store
                .event_payload_slice(id, offset, len)
                .await?
                .ok_or(AdminError::EventNotFound)?;
            Ok(Some((Bytes::from(slice), offset + len)))
        }
    })
}
