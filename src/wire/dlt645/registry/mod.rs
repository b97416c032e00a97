//! The data identifiers a meter exposes: formats, lengths, units and access, table-driven.
//!
//! [`REGISTRY`] is a `const` array of [`DiEntry`]s. An entry covers a family of identifiers:
//! `DI3 DI2` are fixed, `DI1` and `DI0` range over the entry's ranges (tariff, phase, settlement
//! period, record number). Where the entry allows it, `DI1` or `DI0` = FFH reads a block of all of
//! them (`0001FF00`: forward active energy, total and every tariff).
//!
//! Values are BCD, low byte first, in the formats of [`crate::bcd`]; tables repeat 3-byte
//! entries, records concatenate fields, status words are binary. [`Format::decode`] turns the
//! plain data bytes (after -33H) into a [`Value`]; a block answer holds several values of the
//! entry's format back to back ([`Format::decode_block`]).
//!
//! Every entry says who may write it ([`Access`]). A writable identifier whose value changes
//! what a customer pays or the purchase rules is [`Access::Protected`]: a meter-side server
//! takes it only through the sealed path (password level 98H/99H), or with a plain password
//! under an explicit plaintext-compatibility setting. Protected are the rate prices
//! (`0405xxxx`), the tier thresholds and prices (`0406xxxx`), the money limits
//! (`04001001..05`), the customer number (`0400040E`, checked by purchases), the time-zone
//! and day tables (`0401xxxx`, `0402xxxx`) and their sizes (`040002xx`), the switch times
//! (`04000106..09`), the date and time (`04000101`, `04000102`: they select the tariff
//! period), the settlement days (`04000B01..03`: tiers settle on them) and the trip delay
//! (`04001401`: how long supply continues after the credit is gone). The meter number
//! (`04000402`) is the only parameter left [`Access::ReadWrite`] with a plain password.
//!
//! ```
//! use prepaid_meter::wire::dlt645::{Di, registry::{self, Access, Item, Unit}};
//! let e = registry::lookup(Di(0x0090_0200)).unwrap();
//! assert_eq!(e.name, "remaining balance");
//! assert_eq!(e.unit, Unit::Yuan);
//! assert_eq!(e.item, Item::Balance);
//! let v = e.format.decode(&[0x56, 0x98, 0x01, 0x00]).unwrap();
//! assert_eq!(v.to_string(), "198.56");
//! assert!(registry::lookup(Di(0x0001_FF00)).is_some()); // block read
//! assert!(registry::lookup(Di(0x3332_3433)).is_none());
//! // Money limits change what a customer pays: sealed writes only (plaintext level 2 on opt-in).
//! assert_eq!(registry::lookup(Di(0x0400_1001)).unwrap().access, Access::Protected { level: 2 });
//! assert_eq!(registry::lookup(Di(0x0400_0402)).unwrap().access, Access::ReadWrite { level: 2 });
//! ```
//!
//! Identifiers and formats come from public firmware and tools (see the crate's reference
//! notes). Marked *unverified* in an entry's name documentation: the tiered-price layout
//! (`0406xxxx`, 2009 supplement), the event-record layout (`1D0001xx`, `1E0001xx`) and the
//! status-word bits.

#![deny(clippy::indexing_slicing)]

use super::{Di, Di97};
use crate::bcd::{DateTimeFormat, NumberFormat};

mod format;

pub use format::{Format, RecordField, TableKind, Value, decode_table_entry, encode_table_entry};

/// The unit of a value.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
#[non_exhaustive]
pub enum Unit {
    /// No unit (counts, codes).
    None,
    /// kWh.
    Kwh,
    /// kvarh.
    Kvarh,
    /// yuan (the currency unit).
    Yuan,
    /// yuan per kWh.
    YuanPerKwh,
    /// V.
    Volt,
    /// A.
    Ampere,
    /// kW.
    Kilowatt,
    /// Hz.
    Hertz,
    /// minutes.
    Minute,
}

impl Unit {
    /// A short symbol (`"kWh"`, `"yuan"`, `""` for none).
    pub const fn symbol(self) -> &'static str {
        match self {
            Unit::None => "",
            Unit::Kwh => "kWh",
            Unit::Kvarh => "kvarh",
            Unit::Yuan => "yuan",
            Unit::YuanPerKwh => "yuan/kWh",
            Unit::Volt => "V",
            Unit::Ampere => "A",
            Unit::Kilowatt => "kW",
            Unit::Hertz => "Hz",
            Unit::Minute => "min",
        }
    }
}

/// Who may read and write an identifier.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub enum Access {
    /// Read (11H) only.
    Read,
    /// Read, and write (14H) with a password of `level` or a higher one (a lower number).
    ReadWrite {
        /// The least privileged password level allowed to write.
        level: u8,
    },
    /// Read, and write (14H) only through the sealed path (password level 98H/99H: the
    /// security layer verifies a MAC and a counter), because the value changes what a customer
    /// pays or the purchase rules. A server may accept a plain password of `level` or higher
    /// for DL/T 645 plaintext compatibility, if configured to
    /// ([`PlaintextPolicy::parameters`](crate::endpoint::dlt645::PlaintextPolicy::parameters)).
    Protected {
        /// The least privileged plain password level allowed to write under plaintext
        /// compatibility.
        level: u8,
    },
    /// Never read; changed by a dedicated command (the passwords, through 18H).
    WriteOnly,
}

/// What an identifier means to a meter: the key by which a server finds the register. The
/// `DI1`/`DI0` bytes carry the index (tariff, phase, period, record number, table, set).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
#[non_exhaustive]
pub enum Item {
    /// Energy of a kind; `DI1` tariff (0 = total), `DI0` settlement period (0 = current,
    /// 1..=12 = previous settlement days).
    Energy(EnergyKind),
    /// Precise energy of a kind (`XXXXXX.XXXX` kWh); `DI1` tariff (0 = total), current only.
    PreciseEnergy(EnergyKind),
    /// Remaining energy (energy-credit meters).
    RemainingEnergy,
    /// Overdrawn energy (energy-credit meters).
    OverdrawnEnergy,
    /// Remaining balance.
    Balance,
    /// Overdraft amount.
    Overdraft,
    /// Phase voltage; `DI1` phase 1..=3.
    Voltage,
    /// Phase current; `DI1` phase 1..=3.
    Current,
    /// Active power; `DI1` 0 total, 1..=3 phases.
    ActivePower,
    /// Power factor; `DI1` 0 total, 1..=3 phases.
    PowerFactor,
    /// Grid frequency.
    Frequency,
    /// Current tier (ladder) price.
    CurrentTierPrice,
    /// Current total price.
    CurrentPrice,
    /// Current tariff (TOU) price.
    CurrentTariffPrice,
    /// Remaining validity of the identity authentication.
    AuthRemaining,
    /// A field of the `DI0`-th most recent purchase record.
    Purchase(PurchaseField),
    /// Number of relay trips.
    TripCount,
    /// The `DI0`-th most recent trip record.
    TripRecord,
    /// Number of relay closings.
    CloseCount,
    /// The `DI0`-th most recent close record.
    CloseRecord,
    /// Number of clock settings (校时总次数).
    ClockSetCount,
    /// The `DI0`-th most recent clock setting (上 n 次校时记录).
    ClockSetRecord,
    /// Date (with weekday).
    Date,
    /// Time of day.
    Time,
    /// A scheduled switch time.
    SwitchTime(Switch),
    /// A table-size parameter.
    Count(CountParam),
    /// The communication address (written with 15H).
    Address,
    /// The meter number.
    MeterNumber,
    /// The customer number.
    CustomerNumber,
    /// Meter status word `DI0` (1..=7).
    StatusWord,
    /// Settlement day `DI0` (1..=3).
    SettlementDay,
    /// The password of level `DI0 - 1` (write-only, changed with 18H).
    Password,
    /// A money limit; `DI0` selects it ([`Limit`]).
    Limit,
    /// Trip delay.
    TripDelay,
    /// Yearly time-zone table; `DI2` set 1 or 2.
    Seasons,
    /// Day table `DI0` (1..=8) of set `DI2` (1 or 2).
    DayTable,
    /// Rate price `DI0` (1..) of set `DI1` (1 or 2).
    Price,
    /// Tier threshold `DI0` (1..=6) of set 1 (`DI1` = 0) or 2 (`DI1` = 2).
    TierThreshold,
    /// Tier price `DI0` (1..=7) of set 1 (`DI1` = 1) or 2 (`DI1` = 3).
    TierPrice,
    /// Time of the `DI0`-th most recent freeze.
    FreezeTime(FreezeKind),
    /// Forward active energy at the `DI0`-th most recent freeze (hourly: total; daily: total
    /// and tariffs).
    FrozenForward(FreezeKind),
    /// Reverse active energy at the `DI0`-th most recent freeze.
    FrozenReverse(FreezeKind),
}

/// Energy register kinds (`DI2` of `00xxxxxx`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub enum EnergyKind {
    /// Combined active (signed).
    CombinedActive,
    /// Forward active.
    ForwardActive,
    /// Reverse active.
    ReverseActive,
    /// Combined reactive 1 (signed).
    CombinedReactive1,
    /// Combined reactive 2 (signed).
    CombinedReactive2,
}

/// Purchase-record fields (`DI1` of `0333xxxx`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub enum PurchaseField {
    /// When.
    Time,
    /// Purchase count after it.
    Count,
    /// Amount bought.
    Amount,
    /// Balance before.
    BalanceBefore,
    /// Balance after.
    BalanceAfter,
    /// Cumulative amount bought.
    Cumulative,
}

/// Scheduled switch times (`040001xx`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub enum Switch {
    /// 04000106: between the two time-zone tables.
    Seasons,
    /// 04000107: between the two day-table sets.
    DayTables,
    /// 04000108: between the two price sets.
    Prices,
    /// 04000109: between the two tier sets.
    Tiers,
}

/// Table-size parameters (`040002xx`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub enum CountParam {
    /// 04000201: yearly time zones.
    Zones,
    /// 04000202: day tables.
    DayTables,
    /// 04000203: periods per day.
    Periods,
    /// 04000204: tariffs.
    Tariffs,
    /// 04000205: public holidays.
    Holidays,
    /// 04000207: tiers.
    Tiers,
}

/// Money limits (`040010xx`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub enum Limit {
    /// 04001001: alarm amount 1.
    Alarm1,
    /// 04001002: alarm amount 2.
    Alarm2,
    /// 04001003: overdraft limit.
    Overdraft,
    /// 04001004: hoarding limit (most credit the meter may hold).
    Hoarding,
    /// 04001005: balance needed before reconnection is allowed.
    Reconnect,
}

impl Limit {
    /// The limit `DI0` selects.
    pub const fn from_di0(di0: u8) -> Option<Limit> {
        match di0 {
            1 => Some(Limit::Alarm1),
            2 => Some(Limit::Alarm2),
            3 => Some(Limit::Overdraft),
            4 => Some(Limit::Hoarding),
            5 => Some(Limit::Reconnect),
            _ => None,
        }
    }
}

/// Freeze kinds (`DI2` of `05xxxxxx`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub enum FreezeKind {
    /// 0504xxxx: on the hour.
    Hourly,
    /// 0506xxxx: daily.
    Daily,
}

/// One family of identifiers.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub struct DiEntry {
    /// `DI3 DI2` and the lowest `DI1 DI0`.
    pub di: Di,
    /// Highest `DI1` (the lowest is `di.di1()`).
    pub di1_max: u8,
    /// Highest `DI0` (the lowest is `di.di0()`).
    pub di0_max: u8,
    /// `DI1` = FFH reads a block of every `DI1`.
    pub block_di1: bool,
    /// `DI0` = FFH reads a block of every `DI0`.
    pub block_di0: bool,
    /// A short English name.
    pub name: &'static str,
    /// The format of one value.
    pub format: Format,
    /// The unit.
    pub unit: Unit,
    /// Who may read and write.
    pub access: Access,
    /// What it means to a meter.
    pub item: Item,
}

impl DiEntry {
    /// `true` if `di` belongs to this family (a block identifier included).
    pub const fn matches(&self, di: Di) -> bool {
        let (base, d) = (self.di, di);
        if base.di3() != d.di3() || base.di2() != d.di2() {
            return false;
        }
        let in1 = (d.di1() >= base.di1() && d.di1() <= self.di1_max)
            || (self.block_di1 && d.di1() == 0xFF);
        let in0 = (d.di0() >= base.di0() && d.di0() <= self.di0_max)
            || (self.block_di0 && d.di0() == 0xFF);
        in1 && in0
    }

    /// `true` if `di` reads a block (a `DI1` or `DI0` of FFH this entry expands).
    pub const fn is_block(&self, di: Di) -> bool {
        (self.block_di1 && di.di1() == 0xFF && self.di1_max != 0xFF)
            || (self.block_di0 && di.di0() == 0xFF && self.di0_max != 0xFF)
    }
}

/// The entry for `di`, if the meter exposes it.
pub fn lookup(di: Di) -> Option<&'static DiEntry> {
    REGISTRY.iter().find(|e| e.matches(di))
}

const XXXXXX_XX_SIGNED: NumberFormat = NumberFormat {
    len: 4,
    decimals: 2,
    signed: true,
};
const NN: NumberFormat = NumberFormat {
    len: 1,
    decimals: 0,
    signed: false,
};

const CLOCK_SET_RECORD: &[RecordField] = &[
    RecordField {
        name: "operator",
        format: Format::Hex(4),
        unit: Unit::None,
    },
    RecordField {
        name: "before",
        format: Format::DateTime(DateTimeFormat::YYMMDDhhmmss),
        unit: Unit::None,
    },
    RecordField {
        name: "after",
        format: Format::DateTime(DateTimeFormat::YYMMDDhhmmss),
        unit: Unit::None,
    },
];

const EVENT_RECORD: &[RecordField] = &[
    RecordField {
        name: "time",
        format: Format::DateTime(DateTimeFormat::YYMMDDhhmmss),
        unit: Unit::None,
    },
    RecordField {
        name: "operator",
        format: Format::Hex(4),
        unit: Unit::None,
    },
    RecordField {
        name: "forward_active",
        format: Format::Number(NumberFormat::XXXXXX_XX),
        unit: Unit::Kwh,
    },
    RecordField {
        name: "reverse_active",
        format: Format::Number(NumberFormat::XXXXXX_XX),
        unit: Unit::Kwh,
    },
];

#[allow(clippy::too_many_arguments)]
const fn e(
    di: u32,
    di1_max: u8,
    di0_max: u8,
    block: (bool, bool),
    name: &'static str,
    format: Format,
    unit: Unit,
    access: Access,
    item: Item,
) -> DiEntry {
    DiEntry {
        di: Di(di),
        di1_max,
        di0_max,
        block_di1: block.0,
        block_di0: block.1,
        name,
        format,
        unit,
        access,
        item,
    }
}

const NO_BLOCK: (bool, bool) = (false, false);
const R: Access = Access::Read;
const RW: Access = Access::ReadWrite { level: 2 };
/// Changes what a customer pays or the purchase rules: sealed writes (plain level 2 on opt-in).
const PW: Access = Access::Protected { level: 2 };
const fn num(f: NumberFormat) -> Format {
    Format::Number(f)
}

/// Every identifier the codec knows, for the meter-side server and for decoding.
///
/// For an entry, `DI1` runs from `di.di1()` to `di1_max` and `DI0` from `di.di0()` to `di0_max`.
#[rustfmt::skip]
pub const REGISTRY: &[DiEntry] = &[
    // Energy: DI1 tariff 0..=63 (0 = total), DI0 settlement period 0..=12.
    e(0x0000_0000, 0x3F, 0x0C, (true, true), "combined active energy", num(XXXXXX_XX_SIGNED), Unit::Kwh, R, Item::Energy(EnergyKind::CombinedActive)),
    e(0x0001_0000, 0x3F, 0x0C, (true, true), "forward active energy", num(NumberFormat::XXXXXX_XX), Unit::Kwh, R, Item::Energy(EnergyKind::ForwardActive)),
    e(0x0002_0000, 0x3F, 0x0C, (true, true), "reverse active energy", num(NumberFormat::XXXXXX_XX), Unit::Kwh, R, Item::Energy(EnergyKind::ReverseActive)),
    e(0x0003_0000, 0x3F, 0x0C, (true, true), "combined reactive energy 1", num(XXXXXX_XX_SIGNED), Unit::Kvarh, R, Item::Energy(EnergyKind::CombinedReactive1)),
    e(0x0004_0000, 0x3F, 0x0C, (true, true), "combined reactive energy 2", num(XXXXXX_XX_SIGNED), Unit::Kvarh, R, Item::Energy(EnergyKind::CombinedReactive2)),
    // Prepaid registers.
    // Precise energy (精确电能, SGCC supplement to DL/T 645-2007): DI1 tariff 0..=63, DI0 00.
    e(0x0060_0000, 0x3F, 0x00, (true, false), "precise forward active energy", num(NumberFormat::XXXXXX_XXXX), Unit::Kwh, R, Item::PreciseEnergy(EnergyKind::ForwardActive)),
    e(0x0090_0100, 0x01, 0x00, NO_BLOCK, "remaining energy", num(NumberFormat::XXXXXX_XX), Unit::Kwh, R, Item::RemainingEnergy),
    e(0x0090_0101, 0x01, 0x01, NO_BLOCK, "overdrawn energy", num(NumberFormat::XXXXXX_XX), Unit::Kwh, R, Item::OverdrawnEnergy),
    e(0x0090_0200, 0x02, 0x00, NO_BLOCK, "remaining balance", num(NumberFormat::XXXXXX_XX), Unit::Yuan, R, Item::Balance),
    e(0x0090_0201, 0x02, 0x01, NO_BLOCK, "overdraft amount", num(NumberFormat::XXXXXX_XX), Unit::Yuan, R, Item::Overdraft),
    // Instantaneous values.
    e(0x0201_0100, 0x03, 0x00, (true, false), "phase voltage", num(NumberFormat::XXX_X), Unit::Volt, R, Item::Voltage),
    e(0x0202_0100, 0x03, 0x00, (true, false), "phase current", num(NumberFormat::XXX_XXX), Unit::Ampere, R, Item::Current),
    e(0x0203_0000, 0x03, 0x00, (true, false), "active power", num(NumberFormat::XX_XXXX), Unit::Kilowatt, R, Item::ActivePower),
    e(0x0206_0000, 0x03, 0x00, (true, false), "power factor", num(NumberFormat::X_XXX), Unit::None, R, Item::PowerFactor),
    e(0x0280_0002, 0x00, 0x02, NO_BLOCK, "grid frequency", num(NumberFormat::XX_XX), Unit::Hertz, R, Item::Frequency),
    e(0x0280_000B, 0x00, 0x0B, NO_BLOCK, "current tier price", num(NumberFormat::XXXX_XXXX), Unit::YuanPerKwh, R, Item::CurrentTierPrice),
    e(0x0280_0020, 0x00, 0x20, NO_BLOCK, "current price", num(NumberFormat::XXXX_XXXX), Unit::YuanPerKwh, R, Item::CurrentPrice),
    e(0x0280_0021, 0x00, 0x21, NO_BLOCK, "current tariff price", num(NumberFormat::XXXX_XXXX), Unit::YuanPerKwh, R, Item::CurrentTariffPrice),
    e(0x0280_0022, 0x00, 0x22, NO_BLOCK, "identity authentication time left", num(NumberFormat::NNNN), Unit::Minute, R, Item::AuthRemaining),
    // Purchase records: DI0 = n-th most recent, 1..=10.
    e(0x0333_0101, 0x01, 0x0A, NO_BLOCK, "purchase time", Format::DateTime(DateTimeFormat::YYMMDDhhmm), Unit::None, R, Item::Purchase(PurchaseField::Time)),
    e(0x0333_0201, 0x02, 0x0A, NO_BLOCK, "purchase count", num(NumberFormat::NNNN), Unit::None, R, Item::Purchase(PurchaseField::Count)),
    e(0x0333_0301, 0x03, 0x0A, NO_BLOCK, "purchase amount", num(NumberFormat::XXXXXX_XX), Unit::Yuan, R, Item::Purchase(PurchaseField::Amount)),
    e(0x0333_0401, 0x04, 0x0A, NO_BLOCK, "balance before purchase", num(NumberFormat::XXXXXX_XX), Unit::Yuan, R, Item::Purchase(PurchaseField::BalanceBefore)),
    e(0x0333_0501, 0x05, 0x0A, NO_BLOCK, "balance after purchase", num(NumberFormat::XXXXXX_XX), Unit::Yuan, R, Item::Purchase(PurchaseField::BalanceAfter)),
    e(0x0333_0601, 0x06, 0x0A, NO_BLOCK, "cumulative purchased amount", num(NumberFormat::XXXXXX_XX), Unit::Yuan, R, Item::Purchase(PurchaseField::Cumulative)),
    // Clock settings (校时记录): the count, and operator, time before and time after of the
    // last ten, as public meter firmware lays them out.
    e(0x0330_0400, 0x04, 0x00, NO_BLOCK, "clock-set count", num(NumberFormat::NNNNNN), Unit::None, R, Item::ClockSetCount),
    e(0x0330_0401, 0x04, 0x0A, NO_BLOCK, "clock-set record", Format::Record(CLOCK_SET_RECORD), Unit::None, R, Item::ClockSetRecord),
    // Relay events (record layout unverified).
    e(0x1D00_0001, 0x00, 0x01, NO_BLOCK, "trip count", num(NumberFormat::NNNNNN), Unit::None, R, Item::TripCount),
    e(0x1D00_0101, 0x01, 0x0A, NO_BLOCK, "trip record", Format::Record(EVENT_RECORD), Unit::None, R, Item::TripRecord),
    e(0x1E00_0001, 0x00, 0x01, NO_BLOCK, "close count", num(NumberFormat::NNNNNN), Unit::None, R, Item::CloseCount),
    e(0x1E00_0101, 0x01, 0x0A, NO_BLOCK, "close record", Format::Record(EVENT_RECORD), Unit::None, R, Item::CloseRecord),
    // Parameters.
    e(0x0400_0101, 0x01, 0x01, NO_BLOCK, "date", Format::DateWeekday, Unit::None, PW, Item::Date),
    e(0x0400_0102, 0x01, 0x02, NO_BLOCK, "time", Format::Time, Unit::None, PW, Item::Time),
    e(0x0400_0106, 0x01, 0x06, NO_BLOCK, "time-zone table switch time", Format::DateTime(DateTimeFormat::YYMMDDhhmm), Unit::None, PW, Item::SwitchTime(Switch::Seasons)),
    e(0x0400_0107, 0x01, 0x07, NO_BLOCK, "day-table set switch time", Format::DateTime(DateTimeFormat::YYMMDDhhmm), Unit::None, PW, Item::SwitchTime(Switch::DayTables)),
    e(0x0400_0108, 0x01, 0x08, NO_BLOCK, "price set switch time", Format::DateTime(DateTimeFormat::YYMMDDhhmm), Unit::None, PW, Item::SwitchTime(Switch::Prices)),
    e(0x0400_0109, 0x01, 0x09, NO_BLOCK, "tier set switch time", Format::DateTime(DateTimeFormat::YYMMDDhhmm), Unit::None, PW, Item::SwitchTime(Switch::Tiers)),
    e(0x0400_0201, 0x02, 0x01, NO_BLOCK, "yearly time zones", num(NN), Unit::None, PW, Item::Count(CountParam::Zones)),
    e(0x0400_0202, 0x02, 0x02, NO_BLOCK, "day tables", num(NN), Unit::None, PW, Item::Count(CountParam::DayTables)),
    e(0x0400_0203, 0x02, 0x03, NO_BLOCK, "periods per day", num(NN), Unit::None, PW, Item::Count(CountParam::Periods)),
    e(0x0400_0204, 0x02, 0x04, NO_BLOCK, "tariffs", num(NN), Unit::None, PW, Item::Count(CountParam::Tariffs)),
    e(0x0400_0205, 0x02, 0x05, NO_BLOCK, "public holidays", num(NumberFormat::NNNN), Unit::None, PW, Item::Count(CountParam::Holidays)),
    e(0x0400_0207, 0x02, 0x07, NO_BLOCK, "tiers", num(NN), Unit::None, PW, Item::Count(CountParam::Tiers)),
    e(0x0400_0401, 0x04, 0x01, NO_BLOCK, "communication address", Format::Digits(6), Unit::None, R, Item::Address),
    e(0x0400_0402, 0x04, 0x02, NO_BLOCK, "meter number", Format::Digits(6), Unit::None, RW, Item::MeterNumber),
    e(0x0400_040E, 0x04, 0x0E, NO_BLOCK, "customer number", Format::Digits(6), Unit::None, PW, Item::CustomerNumber),
    e(0x0400_0501, 0x05, 0x07, NO_BLOCK, "meter status word", Format::Hex(2), Unit::None, R, Item::StatusWord),
    e(0x0400_0B01, 0x0B, 0x03, NO_BLOCK, "settlement day", Format::DayHour, Unit::None, PW, Item::SettlementDay),
    e(0x0400_0C01, 0x0C, 0x0A, NO_BLOCK, "password", Format::Password, Unit::None, Access::WriteOnly, Item::Password),
    e(0x0400_1001, 0x10, 0x05, NO_BLOCK, "money limit", num(NumberFormat::XXXXXX_XX), Unit::Yuan, PW, Item::Limit),
    e(0x0400_1401, 0x14, 0x01, NO_BLOCK, "trip delay", num(NumberFormat::NNNN), Unit::Minute, PW, Item::TripDelay),
    e(0x0401_0000, 0x00, 0x00, NO_BLOCK, "time-zone table, set 1", Format::Table { kind: TableKind::Seasons, max: 14 }, Unit::None, PW, Item::Seasons),
    e(0x0401_0001, 0x00, 0x08, NO_BLOCK, "day table, set 1", Format::Table { kind: TableKind::DayPeriods, max: 14 }, Unit::None, PW, Item::DayTable),
    e(0x0402_0000, 0x00, 0x00, NO_BLOCK, "time-zone table, set 2", Format::Table { kind: TableKind::Seasons, max: 14 }, Unit::None, PW, Item::Seasons),
    e(0x0402_0001, 0x00, 0x08, NO_BLOCK, "day table, set 2", Format::Table { kind: TableKind::DayPeriods, max: 14 }, Unit::None, PW, Item::DayTable),
    e(0x0405_0101, 0x02, 0x3F, (false, true), "rate price", num(NumberFormat::XXXX_XXXX), Unit::YuanPerKwh, PW, Item::Price),
    // Tiered prices, 2009 layout (unverified): 040600xx/040602xx thresholds, 040601xx/040603xx prices.
    e(0x0406_0001, 0x00, 0x06, NO_BLOCK, "tier threshold, set 1", num(NumberFormat::XXXXXX_XX), Unit::Kwh, PW, Item::TierThreshold),
    e(0x0406_0101, 0x01, 0x07, NO_BLOCK, "tier price, set 1", num(NumberFormat::XXXX_XXXX), Unit::YuanPerKwh, PW, Item::TierPrice),
    e(0x0406_0201, 0x02, 0x06, NO_BLOCK, "tier threshold, set 2", num(NumberFormat::XXXXXX_XX), Unit::Kwh, PW, Item::TierThreshold),
    e(0x0406_0301, 0x03, 0x07, NO_BLOCK, "tier price, set 2", num(NumberFormat::XXXX_XXXX), Unit::YuanPerKwh, PW, Item::TierPrice),
    // Frozen records: DI0 = n-th most recent.
    e(0x0504_0001, 0x00, 0xFE, NO_BLOCK, "hourly freeze time", Format::DateTime(DateTimeFormat::YYMMDDhhmm), Unit::None, R, Item::FreezeTime(FreezeKind::Hourly)),
    e(0x0504_0101, 0x01, 0xFE, NO_BLOCK, "hourly frozen forward active energy", num(NumberFormat::XXXXXX_XX), Unit::Kwh, R, Item::FrozenForward(FreezeKind::Hourly)),
    e(0x0504_0201, 0x02, 0xFE, NO_BLOCK, "hourly frozen reverse active energy", num(NumberFormat::XXXXXX_XX), Unit::Kwh, R, Item::FrozenReverse(FreezeKind::Hourly)),
    e(0x0506_0001, 0x00, 0x3E, NO_BLOCK, "daily freeze time", Format::DateTime(DateTimeFormat::YYMMDDhhmm), Unit::None, R, Item::FreezeTime(FreezeKind::Daily)),
    e(0x0506_0101, 0x01, 0x3E, NO_BLOCK, "daily frozen forward active energy", num(NumberFormat::XXXXXX_XX), Unit::Kwh, R, Item::FrozenForward(FreezeKind::Daily)),
    e(0x0506_0201, 0x02, 0x3E, NO_BLOCK, "daily frozen reverse active energy", num(NumberFormat::XXXXXX_XX), Unit::Kwh, R, Item::FrozenReverse(FreezeKind::Daily)),
];

/// A DL/T 645-1997 identifier's name, format and unit (decoding only).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub struct Entry1997 {
    /// The identifier.
    pub di: Di97,
    /// The DL/T 645-2007 identifier with the same meaning.
    pub di2007: Di,
    /// A short English name.
    pub name: &'static str,
    /// The format (DL/T 645-1997 formats differ from 2007 ones: voltage is `XXX`).
    pub format: Format,
    /// The unit.
    pub unit: Unit,
}

const fn e97(di: u16, di2007: u32, name: &'static str, format: Format, unit: Unit) -> Entry1997 {
    Entry1997 {
        di: Di97(di),
        di2007: Di(di2007),
        name,
        format,
        unit,
    }
}

/// The DL/T 645-1997 identifiers the codec decodes.
#[rustfmt::skip]
pub const REGISTRY_1997: &[Entry1997] = &[
    e97(0x9010, 0x0001_0000, "forward active energy", num(NumberFormat::XXXXXX_XX), Unit::Kwh),
    e97(0x901F, 0x0001_FF00, "forward active energy block", num(NumberFormat::XXXXXX_XX), Unit::Kwh),
    e97(0x9020, 0x0002_0000, "reverse active energy", num(NumberFormat::XXXXXX_XX), Unit::Kwh),
    e97(0xB611, 0x0201_0100, "phase A voltage", num(NumberFormat::NNNN), Unit::Volt),
    e97(0xB612, 0x0201_0200, "phase B voltage", num(NumberFormat::NNNN), Unit::Volt),
    e97(0xB613, 0x0201_0300, "phase C voltage", num(NumberFormat::NNNN), Unit::Volt),
    e97(0xB621, 0x0202_0100, "phase A current", num(NumberFormat::XX_XX), Unit::Ampere),
    e97(0xB622, 0x0202_0200, "phase B current", num(NumberFormat::XX_XX), Unit::Ampere),
    e97(0xB623, 0x0202_0300, "phase C current", num(NumberFormat::XX_XX), Unit::Ampere),
    e97(0xC010, 0x0400_0101, "date", Format::DateWeekday, Unit::None),
    e97(0xC011, 0x0400_0102, "time", Format::Time, Unit::None),
];

/// The DL/T 645-1997 entry for `di`.
pub fn lookup_1997(di: Di97) -> Option<&'static Entry1997> {
    REGISTRY_1997.iter().find(|e| e.di == di)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::wire::dlt645::Error;

    #[test]
    fn entries_are_consistent() {
        for (i, a) in REGISTRY.iter().enumerate() {
            assert!(
                a.di.di1() <= a.di1_max && a.di.di0() <= a.di0_max,
                "{}",
                a.name
            );
            // No two entries claim the same identifier.
            for b in REGISTRY.iter().skip(i + 1) {
                for di1 in [a.di.di1(), a.di1_max] {
                    for di0 in [a.di.di0(), a.di0_max] {
                        let di = Di::new(a.di.di3(), a.di.di2(), di1, di0);
                        assert!(!b.matches(di), "{} and {} overlap at {di}", a.name, b.name);
                    }
                }
            }
            assert!(a.format.fixed_len() != Some(0));
        }
    }

    #[test]
    fn money_parameters_are_protected() {
        for entry in REGISTRY {
            let money = matches!(
                entry.item,
                Item::Price
                    | Item::TierPrice
                    | Item::TierThreshold
                    | Item::Limit
                    | Item::CustomerNumber
                    | Item::Seasons
                    | Item::DayTable
                    | Item::SwitchTime(_)
                    | Item::Count(_)
                    | Item::Date
                    | Item::Time
                    | Item::SettlementDay
                    | Item::TripDelay
            );
            if money {
                assert_eq!(
                    entry.access,
                    Access::Protected { level: 2 },
                    "{}",
                    entry.name
                );
            } else {
                assert!(
                    !matches!(entry.access, Access::Protected { .. }),
                    "{}",
                    entry.name
                );
            }
        }
        for di in [0x0405_0101, 0x0406_0303, 0x0400_1005, 0x0400_040E] {
            assert!(matches!(
                lookup(Di(di)).map(|e| e.access),
                Some(Access::Protected { .. })
            ));
        }
        assert_eq!(
            lookup(Di(0x0400_0402)).map(|e| e.access),
            Some(Access::ReadWrite { level: 2 })
        );
    }

    #[test]
    fn families_and_blocks() {
        let f = lookup(Di(0x0001_0400)).unwrap();
        assert_eq!(f.item, Item::Energy(EnergyKind::ForwardActive));
        assert!(!f.is_block(Di(0x0001_0400)));
        assert!(f.is_block(Di(0x0001_FF00)));
        assert!(f.is_block(Di(0x0001_00FF)));
        assert!(lookup(Di(0x0001_000D)).is_none());
        assert!(lookup(Di(0x0201_0000)).is_none());
        assert!(lookup(Di(0x0201_FF00)).is_some());
        assert_eq!(lookup(Di(0x0405_01FF)).unwrap().item, Item::Price);
        assert_eq!(lookup(Di(0x0405_0203)).unwrap().item, Item::Price);
        assert!(lookup(Di(0x0405_0303)).is_none());
        assert_eq!(lookup(Di(0x0400_1005)).unwrap().item, Item::Limit);
        assert!(lookup(Di(0x0400_1006)).is_none());
        assert_eq!(lookup_1997(Di97(0xB611)).unwrap().di2007, Di(0x0201_0100));
    }

    #[test]
    fn value_formats() {
        let rec = lookup(Di(0x1D00_0101)).unwrap().format;
        assert_eq!(rec.fixed_len(), Some(18));
        let bytes = [
            0x24, 0x41, 0x15, 0x12, 0x05, 0x18, 1, 2, 3, 4, 0x29, 0x01, 0, 0, 0, 0, 0, 0,
        ];
        let v = rec.decode(&bytes).unwrap();
        assert_eq!(
            v.to_string(),
            "time=2018-05-12 15:41:24 operator=04030201 forward_active=1.29 reverse_active=0.00"
        );
        let table = Format::Table {
            kind: TableKind::Seasons,
            max: 2,
        };
        let v = table.decode(&[0x01, 0x01, 0x01, 0x02, 0x01, 0x06]).unwrap();
        assert_eq!(v.to_string(), "01-01:1 06-01:2");
        assert_eq!(table.decode(&[0x01, 0x01]), Err(Error::Length));
        assert_eq!(table.decode(&[0; 9]), Err(Error::Length));
        assert_eq!(table.decode(&[0x01, 0x01, 0x13]), Err(Error::Value));
        assert_eq!(encode_table_entry((6, 1, 2)), Ok([0x02, 0x01, 0x06]));
        let mut n = 0;
        let count = num(NumberFormat::XXXXXX_XX)
            .decode_block(&[0x29, 0x01, 0, 0, 0x62, 0, 0, 0], |_| n += 1)
            .unwrap();
        assert_eq!((count, n), (2, 2));
        assert_eq!(
            num(NumberFormat::XXXXXX_XX).decode_block(&[0; 5], |_| ()),
            Err(Error::Length)
        );
        assert_eq!(
            Format::DayHour.decode(&[0x00, 0x01]).unwrap().to_string(),
            "day 01 00h"
        );
        assert_eq!(Format::DayHour.decode(&[0x24, 0x01]), Err(Error::Value));
        assert_eq!(
            Format::Digits(6)
                .decode(&[0x12, 0, 0, 0, 0x10, 0x20])
                .unwrap()
                .to_string(),
            "201000000012"
        );
    }
}
