//! Bulk replay: `POST /admin/replays` records a replay by filter, `GET /admin/replays/{id}`
//! reports its progress, a background runner re-queues the matching deliveries batch by
//! batch, and `hookgate replay …` drives the admin API from the command line.

pub mod api;
pub mod cli;
mod runner;

pub use api::ReplayApi;
pub use runner::ReplayRunner;
