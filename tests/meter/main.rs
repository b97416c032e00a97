//! The meter application tests: `Meter` driven as a firmware drives it, through a day, power
//! cuts, the sealed flows and the stored forms. One test target, a module per group.
#![cfg(feature = "storage")]
#![allow(clippy::unwrap_used, clippy::unwrap_in_result, clippy::expect_used)]
#![allow(clippy::panic, clippy::indexing_slicing)] // test code: a failed expectation fails

mod flows;
mod power_cut;
mod rig;
mod scenario;
