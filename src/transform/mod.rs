//! Transformations: a connection's `transform = "NAME"` runs `handler(event)` from
//! `transforms/NAME.js` at delivery time, in an embedded QuickJS sandbox, to reshape what the
//! destination receives. The stored event never changes; a replay after a fix uses the new
//! script.

mod sandbox;
#[cfg(test)]
mod tests;

pub use sandbox::{Failure, Sandbox, Script};
