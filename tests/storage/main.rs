//! The storage tests: one test target, a module per group.
#![cfg(feature = "storage")]
#![allow(clippy::unwrap_used, clippy::unwrap_in_result, clippy::expect_used)]
#![allow(clippy::panic, clippy::indexing_slicing)] // test code: a failed expectation fails

mod image;
mod meter_state;
mod power_cut;
mod wear;
