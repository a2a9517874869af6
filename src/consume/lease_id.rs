//! Lease ids as consumers see them: `<delivery id>.<attempt>.<token>`, the token being the
//! random one the lease was given. An id names exactly one attempt of one delivery and cannot
//! be guessed from the delivery id, so an ack of an old lease or a made-up one never applies.

use crate::store::LeaseRef;
use uuid::Uuid;

/// The id a consumer acks or nacks `lease` by.
pub fn format(lease: &LeaseRef) -> String {
    format!(
        "{}.{}.{}",
        lease.delivery_id.simple(),
        lease.attempt,
        lease.token.simple()
    )
}

/// The lease `id` names, if it is one of ours in form (whether it is held is the store's to
/// say).
pub fn parse(id: &str) -> Option<LeaseRef> {
    let mut parts = id.split('.');
    let (delivery, attempt, token) = (parts.next()?, parts.next()?, parts.next()?);
    if parts.next().is_some() {
        return None;
    }
    let attempt: i32 = attempt.parse().ok().filter(|attempt| *attempt >= 1)?;
    Some(LeaseRef {
        delivery_id: Uuid::try_parse(delivery).ok()?,
        attempt,
        token: Uuid::try_parse(token).ok()?,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_id_reads_back_as_the_lease_it_was_made_from() {
        let lease = LeaseRef {
            delivery_id: Uuid::now_v7(),
            attempt: 3,
            token: Uuid::now_v7(),
        };
        let id = format(&lease);
        assert_eq!(id.len(), 32 + 1 + 1 + 1 + 32);
        assert_eq!(parse(&id), Some(lease));
    }

    #[test]
    fn anything_else_is_not_a_lease_id() {
        let (delivery, token) = (Uuid::now_v7().simple(), Uuid::now_v7().simple());
        for id in [
            String::new(),
            "x".into(),
            format!("{delivery}.1"),
            format!("{delivery}.0.{token}"),
            format!("{delivery}.-1.{token}"),
            format!("{delivery}.one.{token}"),
            format!("{delivery}.1.{token}.1"),
            format!("{delivery}.1.not-a-token"),
            format!("nope.1.{token}"),
        ] {
            assert_eq!(parse(&id), None, "{id}");
        }
    }
}
