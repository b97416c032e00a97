//! The foundations tests: one test target, a module per group.
#![allow(clippy::unwrap_used, clippy::unwrap_in_result, clippy::expect_used)]
#![allow(clippy::panic, clippy::indexing_slicing)] // test code: a failed expectation fails

mod bad_input;
mod calendar_props;
mod inference;
