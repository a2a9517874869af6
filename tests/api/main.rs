//! Integration tests: a real hookgate against real Postgres and Redis.

mod admin;
mod admin_lookup;
mod catalogue;
mod certs;
mod cli;
mod cli_providers;
mod delivery;
mod durability;
mod events_cli;
mod helpers;
mod independent_sign;
mod ingest;
mod observability;
mod operator_log;
mod overload;
mod private_pg;
mod process;
mod providers;
mod readme;
mod replays;
mod secrets;
mod sink;
mod storage_tls;
mod tls_files;
mod tls_listeners;
