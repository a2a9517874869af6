//! The table's vocabulary (a case, what it sends, what it expects) and the runner that checks
//! one case on fresh connections.

use crate::raw_http::{Answer, RawConnection, RawResponse, send_and_read};

/// One answer a case expects, in order.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Expect {
    /// hookgate refuses: this status with its `application/problem+json` body.
    Problem(u16),
    /// The HTTP layer refuses before any hookgate code sees the request: this status.
    Http(u16),
    /// Stored as a new event: this status (`202`, or a provider's own 2xx).
    Stored(u16),
    /// Already stored: `200` with `"status":"duplicate"`.
    Duplicate,
    /// The server closes the connection without (another) response.
    Closed,
}

/// How a case's bytes go out.
pub enum Send {
    /// Everything at once, read concurrently.
    Bytes(Vec<u8>),
    /// Everything at once, then the write side shut (the client is done sending).
    BytesThenEof(Vec<u8>),
    /// The head (with `Expect: 100-continue`), then the body only once `100 Continue` came.
    AfterContinue { head: Vec<u8>, body: Vec<u8> },
}

/// A named hostile (or control) request and what a correct gateway answers, with why.
pub struct Case {
    pub name: &'static str,
    pub why: &'static str,
    pub send: Send,
    pub expect: Vec<Expect>,
}

impl Case {
    pub fn new(name: &'static str, why: &'static str, send: Send, expect: &[Expect]) -> Case {
        Case {
            name,
            why,
            send,
            expect: expect.to_vec(),
        }
    }

    /// How many new events this case stores when hookgate behaves.
    pub fn stores(&self) -> usize {
        self.expect
            .iter()
            .filter(|e| matches!(e, Expect::Stored(_)))
            .count()
    }

    /// Sends the case on a fresh connection and answers what came back.
    pub async fn run(&self, address: &str) -> Vec<Answer> {
        let count = self.expect.len();
        match &self.send {
            Send::Bytes(bytes) => send_and_read(address, bytes.clone(), count, false).await,
            Send::BytesThenEof(bytes) => send_and_read(address, bytes.clone(), count, true).await,
            Send::AfterContinue { head, body } => {
                let mut connection = RawConnection::open(address).await;
                connection.send(head).await;
                match connection.reader.response().await {
                    Some(interim) if interim.status == 100 => {
                        connection.send(body).await;
                        let mut answer = connection.reader.answer().await;
                        if let Answer::Response(response) = &mut answer {
                            response.interim.insert(0, 100);
                        }
                        vec![answer]
                    }
                    Some(early) => vec![Answer::Response(early)],
                    None => vec![Answer::Closed],
                }
            }
        }
    }

    /// What differs between the answers and the expectation; empty when they agree.
    pub fn mismatches(&self, answers: &[Answer]) -> Vec<String> {
        let mut problems = Vec::new();
        for (index, expect) in self.expect.iter().enumerate() {
            let answer = answers.get(index).unwrap_or(&Answer::Closed);
            if let Err(why) = check(*expect, answer) {
                problems.push(format!("answer {}: expected {expect:?}, {why}", index + 1));
            }
        }
        if let Send::AfterContinue { .. } = self.send
            && let Some(Answer::Response(response)) = answers.first()
            && response.interim != [100]
        {
            problems.push(format!("interim answers {:?}, not [100]", response.interim));
        }
        problems
    }
}

fn check(expect: Expect, answer: &Answer) -> Result<(), String> {
    let response = match (expect, answer) {
        (Expect::Closed, Answer::Closed) => return Ok(()),
        (_, Answer::Response(response)) => response,
        (_, other) => return Err(format!("got {other:?}")),
    };
    let status = response.status;
    let agrees = match expect {
        Expect::Closed => false,
        Expect::Http(wanted) => status == wanted,
        // A 405 names the methods that are allowed (RFC 9110 §15.5.6).
        Expect::Problem(wanted) => {
            status == wanted
                && response.is_hookgate_problem()
                && (wanted != 405 || response.header("allow").is_some())
        }
        Expect::Stored(wanted) => status == wanted && acknowledged(response, "accepted", wanted),
        Expect::Duplicate => status == 200 && acknowledged(response, "duplicate", 200),
    };
    match agrees {
        true => Ok(()),
        false => Err(format!(
            "got {status} {}",
            String::from_utf8_lossy(&response.body)
        )),
    }
}

/// hookgate's JSON acknowledgement with this `status`; a provider's own 2xx (Discord's `204`)
/// has no body.
fn acknowledged(response: &RawResponse, status: &str, code: u16) -> bool {
    if code == 204 {
        return response.body.is_empty();
    }
    serde_json::from_slice::<serde_json::Value>(&response.body)
        .is_ok_and(|ack| ack["status"] == status && ack["event_id"].is_string())
}
