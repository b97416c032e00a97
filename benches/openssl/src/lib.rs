//! Nothing: the benchmark in `benches/sealing.rs` is this crate.
