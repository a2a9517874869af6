//! Commit answers go back to the ingest worker thread that asked as one message per commit
//! and thread, instead of one cross-thread wake-up per request.
//!
//! Why: the commit writer runs on the main runtime while each ingest request waits on an
//! actix worker thread, a runtime of its own. Waking a task on another runtime writes to that
//! runtime's eventfd: a syscall, and for a parked thread a return from `epoll_wait` and a
//! context switch. The ingest role made 0.85 such writes per accepted event. A relay task on
//! each worker thread takes all of a commit's answers for its thread in one message (one
//! wake-up) and completes them there, where waking a request's task is a push onto the
//! thread's own queue.

use super::writer::CommitResult;
use tokio::sync::{mpsc, oneshot};

/// One request's answer, on its way to the request's thread.
type Answer = (oneshot::Sender<CommitResult>, CommitResult);

/// The relay of one ingest worker thread: started on that thread, given to its requests.
#[derive(Clone)]
pub struct AnswerRelay {
    sender: mpsc::UnboundedSender<Vec<Answer>>,
}

impl AnswerRelay {
    /// Starts the relay task on the current thread's local task set (an actix worker's: the
    /// ingest routes are configured once on each). It ends once the thread's runtime stops or
    /// the last handle to it is gone. Unbounded, because every message answers events the
    /// bounded commit queue already admitted.
    ///
    /// # Panics
    /// Outside a local task set.
    pub fn start_on_this_thread() -> AnswerRelay {
        let (sender, mut receiver) = mpsc::unbounded_channel::<Vec<Answer>>();
        actix_web::rt::spawn(async move {
            while let Some(answers) = receiver.recv().await {
                answer_all(answers);
            }
        });
        AnswerRelay { sender }
    }

    /// A reply for one request on this relay's thread, and where that request awaits it.
    pub(super) fn reply(&self) -> (Reply, oneshot::Receiver<CommitResult>) {
        let (waiter, answer) = oneshot::channel();
        let reply = Reply {
            waiter,
            relay: self.clone(),
        };
        (reply, answer)
    }
}

/// Where the answer to one queued event goes: its waiting request and that request's relay.
pub(super) struct Reply {
    waiter: oneshot::Sender<CommitResult>,
    relay: AnswerRelay,
}

/// Answers gathered from one commit, grouped by relay so that each thread is woken once.
#[derive(Default)]
pub(super) struct Outbox {
    by_relay: Vec<(AnswerRelay, Vec<Answer>)>,
}

impl Outbox {
    /// Adds the answer to one event. A linear search: there is one relay per worker thread.
    pub(super) fn put(&mut self, reply: Reply, result: CommitResult) {
        let answer = (reply.waiter, result);
        let same_thread = self
            .by_relay
            .iter_mut()
            .find(|(relay, _)| relay.sender.same_channel(&reply.relay.sender));
        match same_thread {
            Some((_, answers)) => answers.push(answer),
            None => self.by_relay.push((reply.relay, vec![answer])),
        }
    }

    /// Sends each thread its answers. Those of a thread whose runtime has stopped are
    /// completed here: their requests are gone or will notice at once.
    pub(super) fn send(self) {
        for (relay, answers) in self.by_relay {
            if let Err(mpsc::error::SendError(answers)) = relay.sender.send(answers) {
                answer_all(answers);
            }
        }
    }
}

fn answer_all(answers: Vec<Answer>) {
    for (waiter, result) in answers {
        // A request that stopped waiting (its client hung up) needs no answer.
        let _ = waiter.send(result);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ingest::writer::CommitError;
    use crate::store::InsertOutcome;
    use uuid::Uuid;

    /// A relay whose messages the test reads itself, instead of a task on a worker thread.
    fn relay() -> (AnswerRelay, mpsc::UnboundedReceiver<Vec<Answer>>) {
        let (sender, receiver) = mpsc::unbounded_channel();
        (AnswerRelay { sender }, receiver)
    }

    fn accepted() -> CommitResult {
        Ok(InsertOutcome::Accepted(Uuid::now_v7()))
    }

    #[test]
    fn a_commit_sends_each_thread_one_message_with_all_of_its_answers() {
        let (first, mut first_messages) = relay();
        let (second, mut second_messages) = relay();
        let mut outbox = Outbox::default();
        let mut waiting = Vec::new();
        for relay in [&first, &second, &first, &first] {
            let (reply, answer) = relay.reply();
            outbox.put(reply, accepted());
            waiting.push(answer);
        }
        outbox.send();

        let to_first = first_messages
            .try_recv()
            .expect("one message for the first thread");
        assert_eq!(to_first.len(), 3);
        assert!(first_messages.try_recv().is_err(), "only one message");
        let to_second = second_messages.try_recv().expect("one for the second");
        assert_eq!(to_second.len(), 1);
        answer_all(to_first);
        answer_all(to_second);
        for mut answer in waiting {
            assert!(matches!(
                answer.try_recv(),
                Ok(Ok(InsertOutcome::Accepted(_)))
            ));
        }
    }

    #[test]
    fn each_request_gets_its_own_answer() {
        let (relay, mut messages) = relay();
        let (stored, mut stored_answer) = relay.reply();
        let (refused, mut refused_answer) = relay.reply();
        let mut outbox = Outbox::default();
        outbox.put(stored, accepted());
        outbox.put(refused, Err(CommitError::Overloaded));
        outbox.send();
        answer_all(messages.try_recv().unwrap());
        assert!(matches!(stored_answer.try_recv(), Ok(Ok(_))));
        assert!(matches!(
            refused_answer.try_recv(),
            Ok(Err(CommitError::Overloaded))
        ));
    }

    #[test]
    fn answers_for_a_stopped_thread_are_completed_by_the_sender() {
        let (relay, messages) = relay();
        drop(messages);
        let (reply, mut answer) = relay.reply();
        let mut outbox = Outbox::default();
        outbox.put(reply, accepted());
        outbox.send();
        assert!(matches!(answer.try_recv(), Ok(Ok(_))));
    }

    #[actix_web::test]
    async fn a_started_relay_completes_answers_on_its_thread() {
        let relay = AnswerRelay::start_on_this_thread();
        let (reply, answer) = relay.reply();
        let mut outbox = Outbox::default();
        outbox.put(reply, accepted());
        outbox.send();
        assert!(matches!(answer.await, Ok(Ok(InsertOutcome::Accepted(_)))));
    }
}
