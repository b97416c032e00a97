//! Exact quantities: energy, money, price, and physical estimates of power.
//!
//! - [`Energy`] is a signed count of watt-hours (`i64`). DL/T 645 registers hold 0.01 kWh
//!   (10 Wh); [`Energy::to_centi_kwh`] converts and returns the remainder, never drops it.
//! - [`Money`] is a signed count of 1/10 000 of the currency unit (`i64`), fine enough for DL/T
//!   645 prices (`XXXX.XXXX` per kWh). Balances are shown as `XXXXXX.XX`.
//! - [`Price`] is an unsigned count of 1/10 000 of the currency unit per kWh (`u32`).
//! - [`Power`] is an estimate in watts, a `fixed` number: never used for money or registers.
//!
//! # Overflow
//!
//! Every arithmetic operation that can overflow exists in a `checked_` form, which returns
//! `None` on overflow. `saturating_` forms exist where clamping is the documented meaning (for
//! example display values). No operator (`+`, `-`, `*`) is implemented on these types, so no
//! overflow can go unnoticed.

mod energy;
mod money;
mod power;
mod price;

pub use energy::Energy;
pub use money::Money;
pub use power::Power;
pub use price::{Cost, Price};
