//! The tariff tests: one test target, a module per group.
#![allow(clippy::unwrap_used, clippy::unwrap_in_result, clippy::expect_used)]
#![allow(clippy::panic, clippy::indexing_slicing)] // test code: a failed expectation fails

#[cfg(feature = "alloc")]
#[path = "../support/examples.rs"]
mod example_support;
#[path = "support/mod.rs"]
mod tariff_support;

#[cfg(feature = "alloc")] // the example needs it
mod batch_cli;
mod oracle;
mod props;
mod scenarios;
mod validation;
