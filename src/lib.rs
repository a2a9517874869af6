//! hookgate: a self-hosted inbound webhook gateway. Verifies webhooks, stores them durably in
//! Postgres, and delivers them to internal APIs.

pub mod activity;
pub mod admin;
pub mod admin_client;
pub mod app;
pub mod cli;
pub mod config;
pub mod console;
pub mod consume;
pub mod delivery;
pub mod demo_sink;
pub mod events_cli;
pub mod health;
pub mod ingest;
pub mod log_throttle;
pub mod metrics;
pub mod partitions;
pub mod problem;
pub mod redact;
pub mod redis_link;
pub mod reload;
pub mod replays;
pub mod retention;
pub mod routes;
pub mod sources;
pub mod startup;
pub mod store;
pub mod telemetry;
pub mod tls;
pub mod transform;
pub mod verify;
