//! The dlt645 tests: one test target, a module per group.
#![allow(clippy::unwrap_used, clippy::unwrap_in_result, clippy::expect_used)]
#![allow(clippy::panic, clippy::indexing_slicing)] // test code: a failed expectation fails

#[path = "../support/examples.rs"]
mod example_support;
#[path = "../support/fake_meter.rs"]
mod fake_meter;
#[path = "../support/rng.rs"]
mod rng_support;

mod attacks;
mod decode;
mod forward;
mod props;
mod server;
mod server_security;
mod vectors;
