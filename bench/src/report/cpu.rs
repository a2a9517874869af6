//! CPU per event against this machine's floor, all measured in the same run from `/proc`.
//!
//! The floor is what the least a webhook gateway could spend: a bare actix-web handler
//! answering the same signed request (its server threads' CPU per request) plus Postgres
//! inserting one such row in 50-row transactions (every Postgres process's CPU per row).
//! hookgate's figures add hookgate's CPU and every Postgres process's: per accepted event for
//! the ingest role (the load alone), per delivered event for full serve (from the start of the
//! load until the backlog drained, so every delivery's cost is in).

use super::results::Results;

/// The floor and what hookgate spends, per event, in microseconds.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct CpuPerEvent {
    /// The bare handler's CPU per request.
    pub floor_http_us: f64,
    /// Postgres's CPU per row of 50-row transactions.
    pub floor_postgres_us: f64,
    /// Ingest role: (hookgate, Postgres) per accepted event.
    pub ingest: Option<(f64, f64)>,
    /// Full serve: (hookgate, Postgres) per delivered event, load start to drained.
    pub serve: Option<(f64, f64)>,
    /// Full serve's sustained delivery rate (load + drain) over the ingest role's rate, in %.
    pub serve_to_ingest_pct: Option<f64>,
    /// Postgres's CPU per event of hookgate's own write (event, key and delivery in 50-event
    /// commits, no HTTP): what hookgate's data model costs beside the floor's row.
    pub write_postgres_us: Option<f64>,
}

impl CpuPerEvent {
    /// The figures of `results`; `None` unless both halves of the floor were measured.
    pub fn of(results: &Results) -> Option<CpuPerEvent> {
        let http = results.http_ceiling.as_ref()?;
        let floor_http_us = http.cpu_us_per_accepted()?;
        let pg_ceiling = results.pg_ceiling.as_ref()?;
        let floor_postgres_us = pg_ceiling.batched_postgres_us_per_row?;
        let ingest = results
            .ingest
            .as_ref()
            .and_then(|run| Some((run.cpu_us_per_accepted()?, run.postgres_us_per_accepted()?)));
        let serve = results
            .drain
            .as_ref()
            .and_then(|drain| drain.cpu_split_us_per_delivered());
        let serve_to_ingest_pct = match (&results.drain, &results.ingest) {
            (Some(drain), Some(ingest))
                if drain.drain_secs.is_some() && ingest.accepted_per_sec > 0.0 =>
            {
                Some(100.0 * drain.sustained_per_sec / ingest.accepted_per_sec)
            }
            _ => None,
        };
        Some(CpuPerEvent {
            floor_http_us,
            floor_postgres_us,
            ingest,
            serve,
            serve_to_ingest_pct,
            write_postgres_us: pg_ceiling.hookgate_schema_postgres_us_per_event,
        })
    }

    pub fn floor_us(&self) -> f64 {
        self.floor_http_us + self.floor_postgres_us
    }

    /// The ingest role's CPU per accepted event as a multiple of the floor.
    pub fn ingest_ratio(&self) -> Option<f64> {
        self.ingest.map(|(h, p)| (h + p) / self.floor_us())
    }

    /// Full serve's CPU per delivered event as a multiple of the floor.
    pub fn serve_ratio(&self) -> Option<f64> {
        self.serve.map(|(h, p)| (h + p) / self.floor_us())
    }

    /// Postgres's CPU on hookgate's write as a multiple of its CPU on the floor's row.
    pub fn write_to_floor_row(&self) -> Option<f64> {
        self.write_postgres_us.map(|us| us / self.floor_postgres_us)
    }
}

/// Prints the section, when the floor was measured.
pub fn print(results: &Results) {
    let Some(cpu) = CpuPerEvent::of(results) else {
        return;
    };
    println!("== CPU per event (hookgate + every Postgres process, from /proc) against the floor");
    println!(
        "   floor        {:>6.1} µs = bare actix-web {:.1} µs per request + Postgres {:.1} µs per row in 50-row transactions",
        cpu.floor_us(),
        cpu.floor_http_us,
        cpu.floor_postgres_us
    );
    for (name, split, ratio, per) in [
        ("ingest role", cpu.ingest, cpu.ingest_ratio(), "accepted"),
        ("full serve ", cpu.serve, cpu.serve_ratio(), "delivered"),
    ] {
        if let (Some((hookgate, postgres)), Some(ratio)) = (split, ratio) {
            println!(
                "   {name}  {:>6.1} µs = hookgate {hookgate:.1} µs + Postgres {postgres:.1} µs per {per} event = {ratio:.2}× the floor",
                hookgate + postgres
            );
        }
    }
    if let Some(pct) = cpu.serve_to_ingest_pct {
        println!(
            "   full serve delivered {pct:.1}% of the ingest role's rate (sustained, load + drain)"
        );
    }
    if let (Some(us), Some(ratio)) = (cpu.write_postgres_us, cpu.write_to_floor_row()) {
        println!(
            "   hookgate's write alone (event + key + delivery, 50 per commit, no HTTP): Postgres {us:.1} µs per event = {ratio:.2}× the floor's row"
        );
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ceiling_pg::PgCeiling;
    use crate::cpu::CpuSpent;
    use crate::drain::DrainReport;
    use crate::load::LoadReport;
    use std::collections::BTreeMap;

    fn run(accepted: u64, server_secs: f64, postgres_secs: f64) -> LoadReport {
        LoadReport {
            statuses: BTreeMap::from([(202, accepted)]),
            accepted_per_sec: accepted as f64 / 10.0,
            server_cpu_secs: Some(server_secs),
            postgres_cpu_secs: Some(postgres_secs),
            ..LoadReport::default()
        }
    }

    fn measured() -> Results {
        Results {
            // 20 µs per request.
            http_ceiling: Some(run(100_000, 2.0, 0.0)),
            pg_ceiling: Some(PgCeiling {
                batched_postgres_us_per_row: Some(10.0),
                hookgate_schema_postgres_us_per_event: Some(25.0),
                ..PgCeiling::default()
            }),
            // 40 + 20 µs per accepted event, 10,000/s.
            ingest: Some(run(100_000, 4.0, 2.0)),
            drain: Some(DrainReport {
                delivered: 50_000,
                drain_secs: Some(1.0),
                sustained_per_sec: 8_000.0,
                cpu: Some(CpuSpent {
                    hookgate_secs: 3.0,
                    postgres_secs: 2.0,
                }),
                ..DrainReport::default()
            }),
            ..Results::default()
        }
    }

    #[test]
    fn each_role_is_a_multiple_of_the_floor_of_the_same_run() {
        let cpu = CpuPerEvent::of(&measured()).unwrap();
        assert_eq!(cpu.floor_us(), 30.0);
        assert_eq!(cpu.ingest, Some((40.0, 20.0)));
        assert_eq!(cpu.ingest_ratio(), Some(2.0));
        assert_eq!(cpu.serve, Some((60.0, 40.0)));
        assert!((cpu.serve_ratio().unwrap() - 100.0 / 30.0).abs() < 1e-9);
        assert_eq!(cpu.serve_to_ingest_pct, Some(80.0));
        assert_eq!(cpu.write_to_floor_row(), Some(2.5));
    }

    #[test]
    fn without_the_floor_there_is_no_comparison() {
        let mut results = measured();
        results.pg_ceiling = Some(PgCeiling::default());
        assert_eq!(CpuPerEvent::of(&results), None);
    }

    #[test]
    fn a_backlog_that_never_drained_gives_no_rate_ratio() {
        let mut results = measured();
        if let Some(drain) = &mut results.drain {
            drain.drain_secs = None;
        }
        assert_eq!(CpuPerEvent::of(&results).unwrap().serve_to_ingest_pct, None);
    }
}
