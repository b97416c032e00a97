//! Exact quantities: energy, money, price, and physical estimates of power.
//!
//! - [`Energy`] is a signed count of watt-hours (`i64`). DL/T 645 registers hold 0.01 kWh
//!   (10 Wh); [`Energy::to_centi_kwh`] converts and returns the remainder, never drops it.
//! - [`Money`] is a signed count of 1/10 000 of the currency unit (`i64`), fine enough for DL/T
//!   645 prices (`XXXX.XXXX` per kWh). Balances are shown as `XXXXXX.XX`.
//! - [`Price`] is an unsigned count of 1/10 000 of the currency unit per kWh (`u32`).
//! - [`Power`] is an estimate in watts, a `fixed` number: never used for money or registers.
//!
//! ```
//! use prepaid_meter::units::{Energy, Money, Price};
//!
//! // 1 Wh at 0.5283 yuan/kWh is 0.0005283 yuan: 5 minor units and 283 thousandths carried.
//! let cost = Price::from_minor_per_kwh(5_283).cost(Energy::from_wh(1)).unwrap();
//! assert_eq!((cost.money, cost.remainder), (Money::from_minor(5), 283));
//! // DL/T 645 registers hold 0.01 kWh; the remainder is returned, not dropped.
//! assert_eq!(Energy::from_wh(12_345).to_centi_kwh(), (1_234, Energy::from_wh(5)));
//! assert_eq!(Money::from_cents(19_856).unwrap().to_string(), "198.5600");
//! ```
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
