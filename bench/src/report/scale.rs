//! The scale phase (`BENCH_MODE=scale`): the ingest role on an empty database against one
//! holding millions of events, and while retention purges the oldest of them; the tables'
//! sizes before and after, and over repeated retention cycles.

use std::path::Path;

use serde::Deserialize;

use super::results::{read, read_rounds};
use crate::load::LoadReport;
use crate::scale::{PurgeReport, Sizes};

/// The large database's ingest rate as a percentage of the empty one's, at least.
pub const LARGE_MIN_PCT: f64 = 90.0;
/// The large database's CPU per event as a percentage of the empty one's, at most.
pub const LARGE_MAX_CPU_PCT: f64 = 110.0;
/// Ingest while retention purges as a percentage of ingest without, at least.
pub const PURGING_MIN_PCT: f64 = 90.0;

/// How the large database was built.
#[derive(Debug, Clone, Deserialize)]
pub struct Build {
    pub events: u64,
    pub days: u32,
    pub secs: u64,
}

/// Ingest runs taken together: accepted/s, and hookgate's and Postgres's CPU per event (µs).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Ingest {
    pub per_sec: f64,
    pub hookgate_us: f64,
    pub postgres_us: f64,
}

impl Ingest {
    /// `None` without an accepted event or a CPU reading.
    pub fn of(runs: &[LoadReport]) -> Option<Ingest> {
        let accepted: u64 = runs.iter().map(LoadReport::accepted).sum();
        let secs: f64 = runs.iter().map(|run| run.duration_s).sum();
        let hookgate: f64 = runs
            .iter()
            .map(|run| run.server_cpu_secs)
            .sum::<Option<f64>>()?;
        let postgres: f64 = runs
            .iter()
            .map(|run| run.postgres_cpu_secs)
            .sum::<Option<f64>>()?;
        (accepted > 0 && secs > 0.0).then(|| Ingest {
            per_sec: accepted as f64 / secs,
            hookgate_us: 1e6 * hookgate / accepted as f64,
            postgres_us: 1e6 * postgres / accepted as f64,
        })
    }

    pub fn cpu_us(&self) -> f64 {
        self.hookgate_us + self.postgres_us
    }

    /// This rate and CPU per event as percentages of `base`'s.
    pub fn against(&self, base: &Ingest) -> (f64, f64) {
        (
            100.0 * self.per_sec / base.per_sec,
            100.0 * self.cpu_us() / base.cpu_us(),
        )
    }

    fn line(&self, name: &str) -> String {
        format!(
            "   {name:<28} {:>8.0}/s, CPU {:.1} µs per event (hookgate {:.1} + Postgres {:.1})",
            self.per_sec,
            self.cpu_us(),
            self.hookgate_us,
            self.postgres_us
        )
    }
}

/// Every result of the scale phase.
#[derive(Default)]
pub struct Scale {
    pub build: Option<Build>,
    pub empty: Vec<LoadReport>,
    pub large: Vec<LoadReport>,
    /// Ingest on the large database while retention purges, a run per round.
    pub purging: Vec<LoadReport>,
    /// What retention purged during each of those runs.
    pub purge_during: Vec<PurgeReport>,
    pub purge_rest: Option<PurgeReport>,
    pub sizes_before: Option<Sizes>,
    pub sizes_after: Option<Sizes>,
    /// Each retention cycle: the day's ingest, the purge, the sizes after.
    pub cycles: Vec<Cycle>,
}

/// One day of a live gateway: a day's events in, the oldest day purged.
pub struct Cycle {
    pub load: Option<LoadReport>,
    pub purge: Option<PurgeReport>,
    pub sizes: Sizes,
}

impl Cycle {
    fn read_all(dir: &Path) -> anyhow::Result<Vec<Cycle>> {
        let sizes: Vec<Sizes> = read_rounds(dir, "scale-cycle-sizes-")?;
        sizes
            .into_iter()
            .enumerate()
            .map(|(i, sizes)| {
                let n = i + 1;
                Ok(Cycle {
                    load: read(dir, &format!("scale-cycle-load-{n}.json"))?,
                    purge: read(dir, &format!("scale-cycle-purge-{n}.json"))?,
                    sizes,
                })
            })
            .collect()
    }

    /// One line: what came in, what went, and the space the big tables take afterwards.
    fn line(&self, n: usize) -> String {
        let gib = |bytes: i64| bytes as f64 / (1u64 << 30) as f64;
        let added = self.load.as_ref().map_or(0, LoadReport::accepted);
        let purged = self.purge.as_ref().map_or(0, |purge| purge.purged);
        let dead: i64 = self.sizes.tables.iter().map(|t| t.dead_rows).sum();
        format!(
            "   cycle {n:>2}: +{added} events, -{purged} purged -> {:.3} GiB in all ({dead} dead rows awaiting vacuum)",
            gib(self.sizes.total_bytes())
        )
    }
}

impl Scale {
    pub fn read(dir: &Path) -> anyhow::Result<Scale> {
        Ok(Scale {
            build: read(dir, "scale-build.json")?,
            empty: read_rounds(dir, "scale-empty-")?,
            large: read_rounds(dir, "scale-full-")?,
            purging: read_rounds(dir, "scale-retention-")?,
            purge_during: read_rounds(dir, "scale-purge-during-")?,
            purge_rest: read(dir, "scale-purge-rest.json")?,
            sizes_before: read(dir, "scale-sizes-before.json")?,
            sizes_after: read(dir, "scale-sizes-after.json")?,
            cycles: Cycle::read_all(dir)?,
        })
    }

    /// Ingest on the empty and on the large database, each pooled over its rounds.
    pub fn empty_and_large(&self) -> Option<(Ingest, Ingest)> {
        Some((Ingest::of(&self.empty)?, Ingest::of(&self.large)?))
    }

    /// Ingest while retention purged, as a percentage of ingest on the large database
    /// without it, each pooled over its rounds (rate, CPU per event).
    pub fn purging_against_large(&self) -> Option<(f64, f64)> {
        Some(Ingest::of(&self.purging)?.against(&Ingest::of(&self.large)?))
    }
}

/// Prints the phase's section, when it ran.
pub fn print(scale: &Scale) {
    let Some((empty, large)) = scale.empty_and_large() else {
        return;
    };
    let held = scale
        .sizes_before
        .as_ref()
        .and_then(|sizes| sizes.tables.first())
        .map_or(String::new(), |events| {
            format!(" (~{} events)", events.rows)
        });
    println!(
        "== Scale: the ingest role on an empty database against a large one{held}, {} rounds alternating",
        scale.empty.len()
    );
    if let Some(build) = &scale.build {
        println!(
            "   built by SQL: {} events over {} days in {} s",
            build.events, build.days, build.secs
        );
    }
    println!("{}", empty.line("empty database"));
    println!("{}", large.line("large database"));
    let (rate, cpu) = large.against(&empty);
    println!("   large / empty: rate {rate:.1}%, CPU per event {cpu:.1}%");
    if let Some(purging) = Ingest::of(&scale.purging) {
        println!("{}", purging.line("large, while retention purges"));
    }
    if let Some((rate, cpu)) = scale.purging_against_large() {
        println!("   while purging / without: rate {rate:.1}%, CPU per event {cpu:.1}%");
    }
    for purge in scale.purge_during.iter().chain(&scale.purge_rest) {
        purge.print();
    }
    for (label, sizes) in [
        ("before retention", &scale.sizes_before),
        ("after retention", &scale.sizes_after),
    ] {
        if let Some(sizes) = sizes {
            sizes.print(label);
        }
    }
    if !scale.cycles.is_empty() {
        println!("== Retention cycles: a day's events in, the oldest day purged, sizes after each");
        for (i, cycle) in scale.cycles.iter().enumerate() {
            println!("{}", cycle.line(i + 1));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::BTreeMap;

    fn run(accepted: u64, secs: f64, hookgate: f64, postgres: f64) -> LoadReport {
        LoadReport {
            statuses: BTreeMap::from([(202, accepted)]),
            duration_s: secs,
            server_cpu_secs: Some(hookgate),
            postgres_cpu_secs: Some(postgres),
            ..LoadReport::default()
        }
    }

    #[test]
    fn runs_pool_by_events_and_compare_as_percentages() {
        let empty = Ingest::of(&[run(100_000, 10.0, 3.0, 2.0), run(100_000, 10.0, 3.0, 2.0)]);
        let empty = empty.unwrap();
        assert_eq!(empty.per_sec, 10_000.0);
        assert_eq!((empty.hookgate_us, empty.postgres_us), (30.0, 20.0));
        let large = Ingest::of(&[run(90_000, 10.0, 2.7, 2.7)]).unwrap();
        let (rate, cpu) = large.against(&empty);
        assert!((rate - 90.0).abs() < 1e-9);
        assert!((cpu - 120.0).abs() < 1e-9);
    }

    #[test]
    fn a_run_without_a_cpu_reading_gives_no_figure() {
        let mut unwatched = run(1_000, 1.0, 0.0, 0.0);
        unwatched.server_cpu_secs = None;
        assert_eq!(Ingest::of(&[unwatched]), None);
        assert_eq!(Ingest::of(&[]), None);
    }
}
