//! The fuzz targets' code ([`targets`]), with what they and the seed writer share: the text form
//! a fuzzed webhook request takes ([`wire`]) and one configured source per shipped provider to
//! verify it with ([`sources`]). The test suite compiles these files too, to replay the corpus;
//! they refer to each other with `super::` paths so that they build in either crate.

pub mod sources;
pub mod targets;
pub mod wire;

/// The instant every fuzzed request is verified at (and every seed is signed at): inside the
/// validity of the test certificate under `tests/fixtures/x509/`, three seconds before the
/// PayPal fixture's transmission time.
pub const NOW: i64 = 1_740_830_400;
