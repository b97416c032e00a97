//! The tariff engine: TOU calendar, tiered prices, scheduled tariff switching, and exact rating
//! that gives the same money on a meter and on a server, bit for bit.
//!
//! # Model
//!
//! A [`Tariff`] holds:
//!
//! - an **active** [`TariffSet`] and optionally a **passive** one with its switch instant
//!   ([`Passive`], the DL/T 645 备用套 / DLMS passive calendar). The passive set applies from
//!   its switch instant on, exactly;
//! - **special days** ([`SpecialDay`], holidays) that select a day table instead of the
//!   weekly rule, on a month and day every year or on one date; shared by both sets;
//! - the **UTC offset** of the local time the calendar is written in.
//!
//! A [`TariffSet`] holds a [`Calendar`] (seasons, each with a [`WeekRule`] naming the
//! [`DayTable`] of each weekday; day tables of [`SwitchPoint`]s that select a tariff), a
//! TOU price per tariff, and [`Tiers`]: up to 6 thresholds and 7 prices on the
//! consumption since the last settlement ([`Settlement`]: monthly on a [`SettlementDay`] or on
//! up to 6 dates a year).
//! The effective price of a watt-hour is its TOU price plus its tier price.
//!
//! | DL/T 645 (0401xxxx, 0405xxxx, 0406xxxx) | DLMS activity calendar | here |
//! |---|---|---|
//! | year time zone `MMDDNN` | season profile | [`Season`] |
//! | weekend status word + weekend day table | week profile | [`WeekRule`] |
//! | day period `hhmmNN` | day profile action | [`SwitchPoint`] |
//! | public holiday | special days table | [`SpecialDay`] |
//! | tariff prices | charge table | [`TariffSet::prices`] |
//! | tier values, prices, settlement days | — | [`Tiers`] |
//! | backup set + switch time | passive calendar + activation time | [`Passive`] |
//!
//! Tariffs and day tables are numbered from 1, as the `NN` fields of DL/T 645 and the tariff
//! registers of [`crate::metering::EnergyRegisters`] are (tariff 1 = 尖 sharp, 2 = 峰 peak,
//! 3 = 平 flat, 4 = 谷 valley); arrays of per-tariff values hold tariff 1 first. Tiers are
//! counted from 0 (tier 0 lies below the first threshold). Capacities are const generics whose
//! defaults meet DL/T 645 and are named: [`DEFAULT_SEASONS`] (14), [`DEFAULT_DAY_TABLES`] (8),
//! [`DEFAULT_SWITCH_POINTS`] (14 per table), [`DEFAULT_TARIFFS`] (4; up to [`MAX_TARIFFS`] =
//! 63), [`DEFAULT_SPECIAL_DAYS`] (254).
//!
//! Everything is validated at construction, with a [`TariffError`] for each defect; a
//! validated tariff cannot fail while rating (only inputs can: a negative energy, an instant
//! outside the calendar).
//!
//! # Rating
//!
//! - [`Rater`] is the incremental path for a meter or an account: a small plain-data state
//!   (carried remainder, consumption since settlement, latest instant) with
//!   [`Rater::rate`] (energy at an instant → [`Rated`]: money, slot, tier split, and until
//!   when the slot holds) and [`Rater::rate_interval`] (energy over an interval, split pro rata
//!   at every change). Its state, [`RaterState`], has a stored form without serde (magic
//!   `"RT"`, 28 bytes) and is checked against the tariff by [`Rater::restore`].
//! - `BatchPlan` (feature `alloc`) is the batch path for servers: a tariff precomputed
//!   for a run of 5-, 15-, 30- or 60-minute intervals and shared by any number of meters; it
//!   rates a meter's readings into [`Totals`] exactly as a series of
//!   [`Rater::rate_interval`] calls would, at memory speed.
//!
//! Money is exact: energy in Wh times price in 1/10 000 per kWh is counted in thousandths of a
//! minor unit; each charge is the whole minor units and the rest is carried, so any split of
//! the same consumption costs the same to the last unit.
//!
//! # Encoding
//!
//! [`Tariff::emit`] / [`Tariff::parse`] / [`Tariff::buffer_len`] (the crate-wide names, as
//! for every stored form in [`crate::snapshot`]): a compact, versioned binary form with a
//! CRC-32, for storage and for sending tariffs to meters. `emit` fails with a
//! [`SnapshotError`](crate::snapshot::SnapshotError); `parse` with a [`ParseError`], which keeps
//! the [`TariffError`] of a tariff whose fields decode but do not form a valid one. The frame is
//! the crate's stored-form frame.
//! With `serde`, every type serializes, and deserializing validates like construction.
//!
//! ## Binary layout (version 1)
//!
//! All integers are little-endian. Counts are bytes unless noted.
//!
//! | bytes | field |
//! |---|---|
//! | 2 | magic `"TF"` |
//! | 1 | version, `1` |
//! | 2 | total length in bytes, CRC included (`u16`) |
//! | 1 | flags: bit 0 = a passive set follows the active one; other bits zero |
//! | 4 | UTC offset, seconds east (`i32`) |
//! | 2 | special-day count (`u16`), then per day: month, day, year (`u16`, 0 = every year), day table |
//! | … | the active set |
//! | 8 | if passive: switch instant, Unix seconds (`i64`), then the passive set |
//! | 4 | CRC-32/ISO-HDLC of every byte before it (`u32`) |
//!
//! A set is: price count, prices (`u32` minor units per kWh each); day-table count, and per
//! table a switch-point count and per point hour, minute, tariff number; season count, and per
//! season month, day and the seven day tables Monday first; tier-threshold count, thresholds
//! (`i64` Wh each), tier prices (`u32`, one more than thresholds); settlement kind (0 =
//! monthly, then day and hour; 1 = yearly, then a count and per date month, day, hour).
//!
//! Parsing checks the magic, version, length and CRC, then builds the tariff through the same
//! constructors as code does, so a parsed tariff is validated exactly like a constructed one.
//! The form is canonical: whatever parses, emits back to the same bytes.
//!
//! # Example
//!
//! ```
//! use prepaid_meter::tariff::*;
//! use prepaid_meter::time::{Date, DateTime, Time, UtcOffset};
//! use prepaid_meter::units::{Energy, Money, Price};
//!
//! // Peak 08:00-22:00 at 0.60, valley otherwise at 0.30; tier 2 above 200 kWh a month (+0.05).
//! let day = DayTable::new(&[SwitchPoint::new(8, 0, 1), SwitchPoint::new(22, 0, 2)])?;
//! let cal = Calendar::new(&[Season { start: MonthDay::new(1, 1), week: WeekRule::uniform(1) }], &[day])?;
//! let tiers = Tiers::new(
//!     &[Energy::from_kwh(200)],
//!     &[Price::ZERO, Price::from_minor_per_kwh(500)],
//!     Settlement::monthly(1, 0)?,
//! )?;
//! let set = TariffSet::new(cal, &[Price::from_minor_per_kwh(6_000), Price::from_minor_per_kwh(3_000)], tiers)?;
//! let tariff = Tariff::new(UtcOffset::CHINA, &[], set)?;
//!
//! let noon = DateTime::new(Date::new(2024, 5, 6)?, Time::new(12, 0, 0)?).to_timestamp(UtcOffset::CHINA);
//! let mut rater = Rater::new();
//! let r = rater.rate(&tariff, Energy::from_kwh(199), noon)?;
//! assert_eq!(r.money, Money::from_minor(199 * 6_000));
//! // 2 kWh more: 1 kWh at 0.60, 1 kWh at 0.60 + 0.05.
//! let r = rater.rate(&tariff, Energy::from_kwh(2), noon)?;
//! assert_eq!(r.money, Money::from_minor(6_000 + 6_500));
//! assert_eq!((r.tier, r.price()), (1, Price::from_minor_per_kwh(6_500)));
//! # Ok::<(), Box<dyn core::error::Error>>(())
//! ```

#[cfg(feature = "alloc")]
mod batch;
mod calendar;
mod encoding;
mod error;
mod rater;
mod set;
mod settlement;
mod tiers;

#[cfg(feature = "alloc")]
pub use batch::{BatchPlan, IntervalLength, MAX_PLAN_SLOTS};
pub use calendar::{
    Calendar, DayTable, MonthDay, Season, SpecialDate, SpecialDay, SwitchPoint, WeekRule,
};
pub use encoding::ParseError;
pub use error::{RateError, TariffError};
pub use rater::{Rated, Rater, RaterState, Totals};
pub use set::{Passive, SetId, Slot, Tariff, TariffSet};
pub use settlement::{MAX_SETTLEMENT_DATES, Settlement, SettlementDate, SettlementDay};
pub use tiers::{MAX_THRESHOLDS, MAX_TIERS, Tiers};

use crate::units::{Energy, Price};

/// The most tariffs a set may price (DL/T 645: 63).
pub const MAX_TARIFFS: usize = 63;

/// Default season capacity of a calendar (`S`): DL/T 645's 14 year time zones.
pub const DEFAULT_SEASONS: usize = 14;
/// Default day-table capacity of a calendar (`D`): DL/T 645's 8 day tables.
pub const DEFAULT_DAY_TABLES: usize = 8;
/// Default switch-point capacity of a day table (`P`): DL/T 645's 14 periods a day.
pub const DEFAULT_SWITCH_POINTS: usize = 14;
/// Default tariff capacity of a set (`T`), and of the energy registers and rating totals: the 4
/// tariffs of Chinese meters (1 sharp, 2 peak, 3 flat, 4 valley).
pub const DEFAULT_TARIFFS: usize = 4;
/// Default special-day capacity of a tariff (`H`): DL/T 645's 254 public holidays.
pub const DEFAULT_SPECIAL_DAYS: usize = 254;

/// The most energy one meter is assumed to consume in a year, 10 TWh (a 1 GW load running all
/// year); also the most one rating call accepts. Prices are validated against it.
pub const MAX_ENERGY_PER_YEAR: Energy = Energy::from_wh(10_000_000_000_000);

/// The highest effective price (TOU plus tier) a tariff may have: a year of
/// [`MAX_ENERGY_PER_YEAR`] at this price still fits [`crate::units::Money`]
/// (922 337 203 minor units, about 92 233.72 per kWh; DL/T 645 prices stop at 9 999.9999).
pub const MAX_EFFECTIVE_PRICE: Price = Price::from_minor_per_kwh(
    (i64::MAX / (10_000_000_000_000 / crate::units::Price::REMAINDER_DIVISOR)) as u32,
);
