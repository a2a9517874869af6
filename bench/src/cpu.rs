//! CPU time from `/proc`: of one process (hookgate), of Postgres as a whole, and of this
//! process's own threads by name (the bare actix-web server of the HTTP floor runs inside the
//! driver's process, on threads whose names actix begins with `actix-`).
//!
//! Postgres is every process named `postgres`: the postmaster, its background processes and
//! every backend, plus what the backends that exited meanwhile spent (the kernel adds a reaped
//! child's times to its parent's `cutime`/`cstime`, and backends are the postmaster's children).
//! On a machine where the benchmark's Postgres is the only one running, that is the server's
//! whole cost, including WAL writing and checkpoints triggered by the load.

use serde::{Deserialize, Serialize};

/// The kernel's unit for a process's CPU times in `/proc/PID/stat` (`USER_HZ`, 100 on Linux).
const CLOCK_TICKS_PER_SEC: f64 = 100.0;

/// The command name of every Postgres server process.
const POSTGRES_COMM: &str = "postgres";

/// The prefix of the names actix gives a server's threads: its workers
/// (`actix-rt|system:0|arbiter:N`) and its acceptor (`actix-server acceptor`).
pub const ACTIX_SERVER_THREADS: &str = "actix-";

/// User + system CPU seconds of process `pid`, all its threads, from `/proc/PID/stat`.
pub fn cpu_secs(pid: u32) -> anyhow::Result<f64> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat"))?;
    Stat::parse(&stat)
        .map(|stat| stat.own_secs())
        .ok_or_else(|| anyhow::anyhow!("unexpected /proc/{pid}/stat: {stat}"))
}

/// CPU seconds of every Postgres process alive now, and of the exited backends their parents
/// reaped. Processes that vanish while being read are skipped.
pub fn postgres_cpu_secs() -> anyhow::Result<f64> {
    let mut total = 0.0;
    for entry in std::fs::read_dir("/proc")? {
        let Some(pid) = entry?
            .file_name()
            .to_str()
            .and_then(|n| n.parse::<u32>().ok())
        else {
            continue;
        };
        let Ok(text) = std::fs::read_to_string(format!("/proc/{pid}/stat")) else {
            continue;
        };
        if let Some(stat) = Stat::parse(&text).filter(|stat| stat.comm == POSTGRES_COMM) {
            total += stat.own_secs() + stat.reaped_children_secs();
        }
    }
    Ok(total)
}

/// CPU seconds of this process's threads whose name starts with `prefix`.
pub fn own_threads_cpu_secs(prefix: &str) -> anyhow::Result<f64> {
    let mut total = 0.0;
    for entry in std::fs::read_dir("/proc/self/task")? {
        let path = entry?.path().join("stat");
        let Ok(text) = std::fs::read_to_string(&path) else {
            continue;
        };
        if let Some(stat) = Stat::parse(&text).filter(|stat| stat.comm.starts_with(prefix)) {
            total += stat.own_secs();
        }
    }
    Ok(total)
}

/// CPU seconds spent between two readings, by hookgate and by Postgres.
#[derive(Debug, Clone, Copy, Default, PartialEq, Serialize, Deserialize)]
pub struct CpuSpent {
    pub hookgate_secs: f64,
    pub postgres_secs: f64,
}

impl CpuSpent {
    /// hookgate's and Postgres's, in microseconds per `events` (0 events count as 1).
    pub fn split_us_per(&self, events: u64) -> (f64, f64) {
        let per = |secs: f64| 1e6 * secs / events.max(1) as f64;
        (per(self.hookgate_secs), per(self.postgres_secs))
    }
}

/// A reading of hookgate's (process `pid`) and Postgres's CPU clocks. The measuring tool's own
/// Postgres backend (`observer`), whose queries are not hookgate's cost, is left out.
pub struct CpuReading {
    pid: u32,
    observer: Option<u32>,
    hookgate: f64,
    postgres: f64,
}

impl CpuReading {
    /// Reads the clocks now; `observer` is the Postgres backend of the tool watching.
    pub fn now(pid: u32, observer: Option<u32>) -> anyhow::Result<CpuReading> {
        Ok(CpuReading {
            pid,
            observer,
            hookgate: cpu_secs(pid)?,
            postgres: Self::postgres_without(observer)?,
        })
    }

    /// What was spent since this reading.
    pub fn spent(&self) -> anyhow::Result<CpuSpent> {
        Ok(CpuSpent {
            hookgate_secs: cpu_secs(self.pid)? - self.hookgate,
            postgres_secs: Self::postgres_without(self.observer)? - self.postgres,
        })
    }

    fn postgres_without(observer: Option<u32>) -> anyhow::Result<f64> {
        let own = observer.map_or(Ok(0.0), cpu_secs)?;
        Ok(postgres_cpu_secs()? - own)
    }
}

/// The fields of a `/proc/PID/stat` line this module needs.
struct Stat<'a> {
    comm: &'a str,
    /// utime + stime, in clock ticks.
    own_ticks: u64,
    /// cutime + cstime: the reaped children's, in clock ticks.
    children_ticks: u64,
}

impl<'a> Stat<'a> {
    /// The command name (field 2) is in parentheses and may hold spaces, so the other fields
    /// are counted after its closing one: utime and stime are fields 14 and 15, cutime and
    /// cstime 16 and 17.
    fn parse(stat: &'a str) -> Option<Stat<'a>> {
        let open = stat.find('(')?;
        let close = stat.rfind(')')?;
        let comm = stat.get(open + 1..close)?;
        let mut fields = stat[close + 1..].split_whitespace().skip(11);
        let mut next = || fields.next()?.parse::<u64>().ok();
        let (utime, stime, cutime, cstime) = (next()?, next()?, next()?, next()?);
        Some(Stat {
            comm,
            own_ticks: utime + stime,
            children_ticks: cutime + cstime,
        })
    }

    fn own_secs(&self) -> f64 {
        self.own_ticks as f64 / CLOCK_TICKS_PER_SEC
    }

    fn reaped_children_secs(&self) -> f64 {
        self.children_ticks as f64 / CLOCK_TICKS_PER_SEC
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn times_are_read_after_the_command_name() {
        let line = "4242 (hook gate) S 1 4242 4242 0 -1 4194560 900 0 0 0 150 25 7 3 20 0 \
                    9 0 1234 5678 90 18446744073709551615";
        let stat = Stat::parse(line).unwrap();
        assert_eq!(stat.comm, "hook gate");
        assert_eq!(stat.own_secs(), 1.75);
        assert_eq!(stat.reaped_children_secs(), 0.1);
        assert!(Stat::parse("garbage").is_none());
    }

    #[test]
    fn this_process_and_its_threads_have_a_clock() {
        let pid = std::process::id();
        assert!(cpu_secs(pid).unwrap() >= 0.0);
        assert!(postgres_cpu_secs().unwrap() >= 0.0);
        assert_eq!(own_threads_cpu_secs("no thread is named so").unwrap(), 0.0);
    }

    #[test]
    fn cpu_per_event_is_split_between_both_parties() {
        let spent = CpuSpent {
            hookgate_secs: 0.5,
            postgres_secs: 0.25,
        };
        assert_eq!(spent.split_us_per(10_000), (50.0, 25.0));
        assert_eq!(spent.split_us_per(0), (500_000.0, 250_000.0));
    }
}
