//! Integration tests: a real hookgate against real Postgres and Redis.

mod abandoned_requests;
mod admin;
mod admin_lookup;
mod asymmetric_sources;
mod body_sources;
mod catalogue;
mod certs;
mod cli;
mod cli_providers;
mod crash_loop;
mod delivery;
mod durability;
mod egress_proxy;
mod events_cli;
mod form_and_manifest_sources;
mod fuzz_corpus;
mod fuzz_seeds;
mod handshakes;
mod helpers;
/// The fuzz crate's code (fuzz/ is not a workspace member), compiled in to replay its corpus
/// through its targets and to write its seeds.
#[path = "../../fuzz/src/lib.rs"]
mod hookgate_fuzz;
mod hostile_input;
mod https_delivery;
mod independent_sign;
mod ingest;
mod log_sink;
mod observability;
mod operator_log;
mod overload;
mod private_pg;
mod private_redis;
mod process;
mod providers;
mod read_only_database;
mod readme;
mod redis_outage;
mod replays;
mod secrets;
mod signed_urls;
mod sink;
mod slow_clients;
mod sns_subscriptions;
mod stalled_database;
mod storage_tls;
mod tls_files;
mod tls_listeners;
mod two_instances;
mod verify_properties;
mod x509_sources;
