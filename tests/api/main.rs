//! Integration tests: a real hookgate against real Postgres and Redis.

mod admin;
mod cli;
mod delivery;
mod durability;
mod helpers;
mod independent_sign;
mod ingest;
mod private_pg;
mod providers;
mod sink;
