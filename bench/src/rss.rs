//! Memory and CPU of a watched process: its resident set sampled while a phase runs, the
//! kernel's high-water mark (`VmHWM` in `/proc/PID/status`), and its CPU time.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use serde::{Deserialize, Serialize};

/// The kernel's unit for a process's CPU times in `/proc/PID/stat` (`USER_HZ`, 100 on Linux).
const CLOCK_TICKS_PER_SEC: f64 = 100.0;
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

/// User + system CPU seconds of process `pid`, all its threads, from `/proc/PID/stat`.
pub fn cpu_secs(pid: u32) -> anyhow::Result<f64> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat"))?;
    parse_cpu_secs(&stat).ok_or_else(|| anyhow::anyhow!("unexpected /proc/{pid}/stat: {stat}"))
}

/// Fields 14 and 15 (utime, stime) of a `/proc/PID/stat` line. The command name (field 2) is
/// in parentheses and may hold spaces, so fields are counted after its closing one.
fn parse_cpu_secs(stat: &str) -> Option<f64> {
    let after_name = &stat[stat.rfind(')')? + 1..];
    let mut fields = after_name.split_whitespace().skip(11);
    let utime: u64 = fields.next()?.parse().ok()?;
    let stime: u64 = fields.next()?.parse().ok()?;
    Some((utime + stime) as f64 / CLOCK_TICKS_PER_SEC)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cpu_times_are_read_after_the_command_name() {
        let stat = "4242 (hook gate) S 1 4242 4242 0 -1 4194560 900 0 0 0 150 25 0 0 20 0 \
                    9 0 1234 5678 90 18446744073709551615";
        assert_eq!(parse_cpu_secs(stat), Some(1.75));
        assert_eq!(parse_cpu_secs("garbage"), None);
    }
}
