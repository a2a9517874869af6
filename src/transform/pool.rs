//! Threads that each own a [`Sandbox`]: QuickJS runtimes cannot move between threads while
//! in use, and a script may compute for up to its time limit, which must not hold up the async
//! workers. A call waits for a free thread; a full queue is refused rather than waited on.

use super::sandbox::{Failure, Sandbox, Script};
use std::sync::mpsc::{Receiver, SyncSender, sync_channel};
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tokio::sync::oneshot;

/// Calls waiting for a thread beyond which a call fails at once (and is retried later).
const QUEUE: usize = 1024;

struct Call {
    script: Arc<Script>,
    input: String,
    reply: oneshot::Sender<Result<String, Failure>>,
}

/// The sandbox threads.
pub struct Pool {
    calls: SyncSender<Call>,
    limit: Duration,
}

impl Pool {
    /// Starts `threads` sandboxes of `memory_mb` each; a call may run for `limit`.
    pub fn start(threads: usize, memory_mb: usize, limit: Duration) -> Pool {
        let (calls, queue) = sync_channel::<Call>(QUEUE);
        let queue = Arc::new(Mutex::new(queue));
        for index in 0..threads.max(1) {
            let queue = queue.clone();
            std::thread::Builder::new()
                .name(format!("transform-{index}"))
                .spawn(move || serve(&queue, memory_mb, limit))
                .expect("spawning a transform thread");
        }
        Pool { calls, limit }
    }

    /// Runs `script` on `input` (the event as JSON): the handler's answer as JSON.
    pub async fn run(&self, script: Arc<Script>, input: String) -> Result<String, Failure> {
        let (reply, answer) = oneshot::channel();
        self.calls
            .try_send(Call {
                script,
                input,
                reply,
            })
            .map_err(|_| Failure::Busy)?;
        answer.await.unwrap_or(Err(Failure::TimedOut(self.limit)))
    }
}

/// One thread's loop: a sandbox of its own, calls in arrival order, until the pool is dropped.
fn serve(queue: &Mutex<Receiver<Call>>, memory_mb: usize, limit: Duration) {
    let mut sandbox = match Sandbox::new(memory_mb) {
        Ok(sandbox) => sandbox,
        Err(err) => {
            tracing::error!(error = %err, "a transform thread could not start its sandbox");
            return;
        }
    };
    loop {
        let next = queue.lock().unwrap_or_else(|p| p.into_inner()).recv();
        let Ok(call) = next else { return };
        let answer = sandbox.call(&call.script, &call.input, limit);
        let _ = call.reply.send(answer);
    }
}
