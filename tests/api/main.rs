//! Integration tests: a real hookgate against real Postgres and Redis.

mod cli;
mod private_pg;
mod durability;
mod helpers;
mod independent_sign;
mod ingest;
mod providers;
