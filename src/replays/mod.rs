//! Bulk replay: `POST /admin/replays` records a replay by filter, `GET /admin/replays/{id}`
//! reports its progress, a background runner re-queues the matching deliveries batch by
//! batch, and `hookgate replay …` drives the admin API from the command line.

mod api;
mod auth;
pub mod cli;
mod runner;

pub use api::{ReplayApi, routes};
pub use runner::ReplayRunner;
