//! # prepaid-meter
//!
//! The portable core of a remote prepaid electricity metering system: the same code runs in
//! meter firmware (`no_std`, no allocator, Cortex-M0 and up), in concentrators and in head-end
//! servers (`std`), so that a head-end's shadow account reproduces a meter's balance bit for bit.
//!
//! ## Layers
//!
//! | layer | modules |
//! |---|---|
//! | endpoints | [`endpoint::dlt645`] (meter-side server, master-side client) |
//! | domain core | [`metering`] (pulses to energy, power, demand), [`tariff`] (TOU calendar, tiers, rating), [`account`] (credit, alarms, overdraft, relay decisions, recharge rules), [`freeze`] (hourly, daily and settlement-day frozen records) |
//! | wire and security | [`wire::dlt645`] (DL/T 645-2007 frames), [`security`] (key derivation, sealed commands, anti-replay) |
//! | foundations | [`units`] (energy, money, price, power), [`time`] (timestamps, civil calendar), [`bcd`], [`address`], [`purchase`] (customer number, purchase), [`relay`] (DL/T 645 relay codes), [`ring`] (record rings read back as "last n"), [`snapshot`] (stored forms of state) |
//! | adapters (features) | `hal` (embedded-hal 1.0 pulse input), `io` (DL/T 645 frames over embedded-io), `storage` (power-fail-safe meter store on NOR flash or EEPROM), `mock` (simulated flash for tests, internal) |
//!
//! Dependencies point downward only: the domain core never sees bytes or wire codes (the
//! endpoints map its errors to DL/T 645 error words), and the wire layer holds no state.
//!
//! The core is sans-IO: nothing in it reads a clock, touches a pin or does I/O. Callers pass the
//! current time, pulses and received bytes in and get decisions back. A value that carries a
//! decision the caller must act on (effects of an account operation, a pending sealed command,
//! the freezes due, a server's answer) is `#[must_use]`.
//!
//! ## Conventions
//!
//! - **Binary forms** (frames, payloads, stored state) have the same three operations
//!   everywhere: `buffer_len`, `emit` into a caller's buffer, and `parse` from bytes, which
//!   validates everything and never panics. `encode`/`decode` name value encodings inside a
//!   form (BCD digits, register formats).
//! - **State**: every stateful engine has a plain-data state type (`XState`), `state(&self)`
//!   and a validating `restore(config, state)` that refuses, with the module's typed error, a
//!   state the engine could not have reached. Its stored form is a [`snapshot::Snapshot`]:
//!   versioned and CRC-checked, without serde, so firmware built without serde persists
//!   everything; serde is an optional extra on the same types.
//! - **Capacities** are const generics with named defaults (`tariff::DEFAULT_TARIFFS`,
//!   `freeze::DEFAULT_DAILY`, ...), never cargo features.
//!
//! ## Numbers
//!
//! There are no floats anywhere in the crate. Energy is an integer count of watt-hours, money an
//! integer count of 1/10 000 of the currency unit ([`units::Money`]), prices an integer count of
//! 1/10 000 of the currency unit per kWh. Conversions that do not divide evenly return or carry
//! their remainder. Physical estimates (instantaneous power, demand) use the `fixed` crate.
//!
//! ## Panic contract
//!
//! No function reachable from the public API panics, on any input. Every fallible operation
//! returns a small `Copy` error enum, and an operation that returns an error leaves the state it
//! was called on unchanged. The crate denies `unwrap`, `expect` and `panic!` through clippy, and
//! its decoders are fuzzed (see `fuzz/`).
//!
//! ## Features
//!
//! | feature | what it adds |
//! |---|---|
//! | *(none)* | the whole core: `no_std`, no allocator |
//! | `alloc` | `tariff::BatchPlan`: batch rating of interval series for servers |
//! | `std` | implies `alloc`; the `std` critical-section implementation and `std` support in serde and embedded-io |
//! | `serde` | `Serialize`/`Deserialize` for the value types; works without `std` |
//! | `defmt` | `defmt::Format` for the value and error types |
//! | `hal` | [`hal`]: an embedded-hal 1.0 pulse input that feeds [`metering::PulseCounter`] |
//! | `io` | [`io`]: DL/T 645 frame reader and writer over embedded-io 0.7 |
//! | `storage` | [`storage`]: a power-fail-safe store of a meter's state on embedded-storage NOR flash or EEPROM |
//! | `_test` | internal, semver exempt: `mock`, a simulated NOR flash and EEPROM with power cuts and bit flips for tests |
#![cfg_attr(not(any(test, feature = "std")), no_std)]
#![cfg_attr(docsrs, feature(doc_cfg))]

#[cfg(feature = "alloc")]
extern crate alloc;

pub mod account;
pub mod address;
pub mod bcd;
pub mod endpoint;
pub mod freeze;
pub mod metering;
pub mod purchase;
pub mod relay;
pub mod ring;
pub mod security;
pub mod snapshot;
pub mod tariff;
pub mod time;
pub mod units;
pub mod wire;

#[cfg(feature = "hal")]
#[cfg_attr(docsrs, doc(cfg(feature = "hal")))]
pub mod hal;

#[cfg(feature = "io")]
#[cfg_attr(docsrs, doc(cfg(feature = "io")))]
pub mod io;

#[cfg(feature = "storage")]
#[cfg_attr(docsrs, doc(cfg(feature = "storage")))]
pub mod storage;

#[cfg(feature = "_test")]
pub mod mock;
