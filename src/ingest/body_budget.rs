//! A byte budget for request bodies held in memory at once (`[server] max_inflight_body_bytes`).
//! With bodies of up to 25 MiB, 64 concurrent uploads would otherwise hold 1.6 GiB before any
//! of them is stored. A body reserves its declared `Content-Length` before a byte of it is read
//! (a chunked body reserves as its chunks arrive) and keeps the reservation until its commit is
//! answered; a request that does not fit is refused at once with 503, never queued, so memory
//! stays bounded however many clients upload.

use std::sync::Arc;
use tokio::sync::{OwnedSemaphorePermit, Semaphore};

/// The largest budget: a semaphore counts permits in `u32` per acquisition.
pub const MAX_BUDGET: usize = u32::MAX as usize;

/// The budget shared by every ingest request of a process.
#[derive(Clone)]
pub struct BodyBudget {
    bytes: Arc<Semaphore>,
    total: usize,
}

/// Bytes held by one request's body; returned to the budget when dropped.
pub struct Reservation {
    permit: Option<OwnedSemaphorePermit>,
}

/// The budget has fewer free bytes than a body needs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Exhausted {
    /// The whole budget, for the error message.
    pub total: usize,
}

impl BodyBudget {
    pub fn new(total: usize) -> BodyBudget {
        let total = total.min(MAX_BUDGET);
        BodyBudget {
            bytes: Arc::new(Semaphore::new(total)),
            total,
        }
    }

    /// An empty reservation, to grow as a body of unknown length arrives.
    pub fn empty(&self) -> Reservation {
        Reservation { permit: None }
    }

    /// Reserves `bytes` more for `reservation`, without waiting.
    pub fn grow(&self, reservation: &mut Reservation, bytes: usize) -> Result<(), Exhausted> {
        if bytes == 0 {
            return Ok(());
        }
        let exhausted = Exhausted { total: self.total };
        let wanted = u32::try_from(bytes).map_err(|_| exhausted)?;
        let more = self
            .bytes
            .clone()
            .try_acquire_many_owned(wanted)
            .map_err(|_| exhausted)?;
        match &mut reservation.permit {
            Some(permit) => permit.merge(more),
            None => reservation.permit = Some(more),
        }
        Ok(())
    }

    /// Free bytes now.
    #[cfg(test)]
    fn available(&self) -> usize {
        self.bytes.available_permits()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reservations_add_up_to_the_budget_and_return_when_dropped() {
        let budget = BodyBudget::new(100);
        let mut first = budget.empty();
        budget.grow(&mut first, 60).unwrap();
        budget.grow(&mut first, 0).unwrap();
        let mut second = budget.empty();
        assert_eq!(budget.grow(&mut second, 41), Err(Exhausted { total: 100 }));
        budget.grow(&mut second, 30).unwrap();
        budget.grow(&mut second, 10).unwrap();
        assert_eq!(budget.available(), 0);
        drop(first);
        assert_eq!(budget.available(), 60);
        drop(second);
        assert_eq!(budget.available(), 100);
    }

    #[test]
    fn a_body_larger_than_the_whole_budget_never_fits() {
        let budget = BodyBudget::new(10);
        let mut reservation = budget.empty();
        assert!(budget.grow(&mut reservation, 11).is_err());
        assert!(budget.grow(&mut reservation, usize::MAX).is_err());
        assert_eq!(budget.available(), 10);
    }
}
