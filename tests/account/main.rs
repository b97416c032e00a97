//! The account tests: one test target, a module per group.
#![allow(clippy::unwrap_used, clippy::unwrap_in_result, clippy::expect_used)]
#![allow(clippy::panic, clippy::indexing_slicing)] // test code: a failed expectation fails

#[path = "support/mod.rs"]
mod account_support;

mod attacks;
mod bad_input;
mod charges;
mod energy;
mod freeze;
mod model;
mod transitions;
