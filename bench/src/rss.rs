//! Memory of a watched process: its resident set sampled while a phase runs, and the kernel's
//! high-water mark (`VmHWM` in `/proc/PID/status`).

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use serde::{Deserialize, Serialize};

/// How often the resident set is sampled.
const SAMPLE_EVERY: Duration = Duration::from_millis(100);

/// Memory figures of the watched process, in MiB.
#[derive(Debug, Clone, Copy, Default, Serialize, Deserialize)]
pub struct Memory {
    /// Largest `VmRSS` seen while sampling.
    pub max_rss_mib: f64,
    /// `VmRSS` when the phase ended.
    pub end_rss_mib: f64,
    /// `VmHWM`: the peak resident set over the process's whole life.
    pub peak_hwm_mib: f64,
}

impl Memory {
    /// `max … MiB, at end … MiB, VmHWM … MiB`.
    pub fn line(&self) -> String {
        format!(
            "max {:.1} MiB, at end {:.1} MiB, VmHWM {:.1} MiB",
            self.max_rss_mib, self.end_rss_mib, self.peak_hwm_mib
        )
    }
}

/// Samples a process's resident set in the background until [`RssWatch::finish`].
pub struct RssWatch {
    pid: u32,
    max_kib: Arc<AtomicU64>,
    task: tokio::task::JoinHandle<()>,
}

impl RssWatch {
    /// Starts sampling `pid`.
    pub fn start(pid: u32) -> RssWatch {
        let max_kib = Arc::new(AtomicU64::new(0));
        let max = Arc::clone(&max_kib);
        let task = tokio::spawn(async move {
            let mut tick = tokio::time::interval(SAMPLE_EVERY);
            loop {
                tick.tick().await;
                match status_kib(pid, "VmRSS:") {
                    Some(kib) => {
                        max.fetch_max(kib, Ordering::Relaxed);
                    }
                    None => return,
                }
            }
        });
        RssWatch { pid, max_kib, task }
    }

    /// Stops sampling and reads the final figures.
    pub fn finish(self) -> Memory {
        self.task.abort();
        let end = status_kib(self.pid, "VmRSS:").unwrap_or(0);
        let max = self.max_kib.load(Ordering::Relaxed).max(end);
        let mib = |kib: u64| kib as f64 / 1024.0;
        Memory {
            max_rss_mib: mib(max),
            end_rss_mib: mib(end),
            peak_hwm_mib: mib(status_kib(self.pid, "VmHWM:").unwrap_or(0)),
        }
    }
}

/// One `kB` field of `/proc/PID/status`; `None` when the process is gone.
fn status_kib(pid: u32, field: &str) -> Option<u64> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    let line = status.lines().find(|line| line.starts_with(field))?;
    line[field.len()..].split_whitespace().next()?.parse().ok()
}
