//! What the server needs from a meter.

use core::fmt;

use crate::address::Address;
use crate::relay::RelayCode;
use crate::time::{DateTime, Timestamp};
use crate::units::{Energy, Money, Price};
use crate::wire::dlt645::registry::{CountParam, EnergyKind, FreezeKind, Limit, Switch};
use crate::wire::dlt645::{
    BaudRate, Data, Di, ErrorCode, FreezeTime, OperatorCode, RelayStatusWord, Request,
    SecurityErrorWord,
};

/// Why a meter refused a write or a command. The server turns it into the error answer.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
#[non_exhaustive]
pub enum Refusal {
    /// The meter does not have this register or cannot do this.
    Unsupported,
    /// The value is out of the range the meter accepts.
    Invalid,
    /// Not authorised (a sealed command that did not verify).
    Unauthorized,
    /// The command's validity time has passed.
    Expired,
    /// Refused because keep-power is on.
    KeepPower,
    /// The meter is suspended after too many authentication failures.
    Suspended,
    /// Too many yearly time zones.
    TooManyZones,
    /// Too many daily periods.
    TooManyPeriods,
    /// Too many tariffs.
    TooManyTariffs,
    /// The baud rate cannot be changed.
    BaudRate,
}

impl Refusal {
    /// The `ERR` byte for this refusal.
    #[must_use]
    pub const fn error_code(self) -> ErrorCode {
        match self {
            Refusal::Unauthorized => ErrorCode::UNAUTHORIZED,
            Refusal::TooManyZones => ErrorCode::TOO_MANY_ZONES,
            Refusal::TooManyPeriods => ErrorCode::TOO_MANY_PERIODS,
            Refusal::TooManyTariffs => ErrorCode::TOO_MANY_TARIFFS,
            Refusal::BaudRate => ErrorCode::BAUD_RATE,
            Refusal::Unsupported
            | Refusal::Invalid
            | Refusal::Expired
            | Refusal::KeepPower
            | Refusal::Suspended => ErrorCode::OTHER,
        }
    }

    /// The relay execution status word for this refusal (sealed relay commands).
    #[must_use]
    pub const fn relay_status(self) -> RelayStatusWord {
        match self {
            Refusal::Unauthorized => RelayStatusWord::MAC,
            Refusal::Expired | Refusal::Invalid => RelayStatusWord::TIME_INVALID,
            Refusal::KeepPower => RelayStatusWord::TRIP_KEEP_POWER,
            Refusal::Suspended => RelayStatusWord::SUSPENDED,
            _ => RelayStatusWord::UNAUTHORIZED,
        }
    }
}

impl fmt::Display for Refusal {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Refusal::Unsupported => "not supported by this meter",
            Refusal::Invalid => "value out of range",
            Refusal::Unauthorized => "not authorised",
            Refusal::Expired => "command validity has expired",
            Refusal::KeepPower => "keep-power is on",
            Refusal::Suspended => "meter suspended",
            Refusal::TooManyZones => "too many time zones",
            Refusal::TooManyPeriods => "too many daily periods",
            Refusal::TooManyTariffs => "too many tariffs",
            Refusal::BaudRate => "baud rate cannot be changed",
        })
    }
}

impl core::error::Error for Refusal {}

/// Instantaneous measurements.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub enum Measurement {
    /// Phase voltage (phase 1..=3), in 0.1 V.
    Voltage(u8),
    /// Phase current (phase 1..=3), in mA, signed.
    Current(u8),
    /// Active power (0 total, 1..=3 phases), in 0.1 W (0.0001 kW), signed.
    ActivePower(u8),
    /// Power factor (0 total, 1..=3 phases), in 0.001, signed.
    PowerFactor(u8),
    /// Grid frequency, in 0.01 Hz.
    Frequency,
}

/// Current prices.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub enum PriceNow {
    /// 0280000B: the current tier (ladder) price.
    Tier,
    /// 02800020: the current total price.
    Total,
    /// 02800021: the current tariff (TOU) price.
    Tariff,
}

/// Relay event kinds.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub enum RelayLogKind {
    /// Trips (1D).
    Trip,
    /// Closings (1E).
    Close,
}

/// A purchase (recharge) record.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub struct PurchaseLogEntry {
    /// When.
    pub time: DateTime,
    /// The purchase count after this purchase.
    pub count: u16,
    /// The amount bought.
    pub amount: Money,
    /// Balance before.
    pub balance_before: Money,
    /// Balance after.
    pub balance_after: Money,
    /// Cumulative amount bought, this one included.
    pub cumulative: Money,
}

/// A relay trip or close record.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub struct RelayLogEntry {
    /// When.
    pub time: DateTime,
    /// Who ordered it.
    pub operator: OperatorCode,
    /// Forward active energy at the time.
    pub forward: Energy,
    /// Reverse active energy at the time.
    pub reverse: Energy,
}

/// A clock setting, as the 校时记录 (03300401..0A) carries it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub struct ClockSetEntry {
    /// Who set it (`FFFFFFFF`: no operator, as for a broadcast correction).
    pub operator: OperatorCode,
    /// The local time before.
    pub before: DateTime,
    /// The local time it was set to.
    pub after: DateTime,
}

/// A table entry in logical order: `(month, day, day table)` in a time-zone table, or
/// `(hour, minute, tariff)` in a day table.
pub type TableEntry = (u8, u8, u8);

/// A meter's registers, account and commands, as the DL/T 645 [`Server`](super::Server) sees
/// them.
///
/// Every method but [`MeterData::address`] has a default: reads return `None` (the server
/// answers "no requested data"), writes and commands return [`Refusal::Unsupported`]. Implement
/// what the meter has.
///
/// Contract: a setter or command that returns `Err` leaves the meter exactly as it was. The
/// server validates formats, passwords and times before calling; the meter checks ranges and
/// its own rules.
///
/// Units: energy registers are shown in 0.01 kWh (truncated toward zero; the exact register is
/// the meter's), money in 0.01 yuan (truncated toward zero), prices to 0.0001 yuan/kWh (exact).
#[allow(unused_variables)]
pub trait MeterData {
    /// The meter's communication address (12 digits, no wildcard).
    fn address(&self) -> Address;

    /// Sets the communication address (15H).
    fn set_address(&mut self, address: Address) -> Result<(), Refusal> {
        Err(Refusal::Unsupported)
    }

    /// Number of tariffs (block reads cover the total and tariffs 1..=this). Default 4.
    fn tariff_count(&self) -> u8 {
        4
    }

    /// An energy register: `tariff` 0 = total, `period` 0 = current, 1..=12 = previous
    /// settlement days.
    fn energy(&self, kind: EnergyKind, tariff: u8, period: u8) -> Option<Energy> {
        None
    }

    /// Remaining energy (energy-credit meters).
    fn remaining_energy(&self) -> Option<Energy> {
        None
    }

    /// Overdrawn energy (energy-credit meters).
    fn overdrawn_energy(&self) -> Option<Energy> {
        None
    }

    /// Remaining balance (not negative; a debt shows as the overdraft).
    fn balance(&self) -> Option<Money> {
        None
    }

    /// Overdraft amount (not negative).
    fn overdraft(&self) -> Option<Money> {
        None
    }

    /// An instantaneous measurement, in the unit [`Measurement`] gives.
    fn measurement(&self, m: Measurement) -> Option<i64> {
        None
    }

    /// A current price.
    fn price_now(&self, which: PriceNow) -> Option<Price> {
        None
    }

    /// Minutes left of the identity authentication.
    fn auth_remaining(&self) -> Option<u16> {
        None
    }

    /// The `n`-th most recent purchase (1 = last).
    fn purchase(&self, n: u8) -> Option<PurchaseLogEntry> {
        None
    }

    /// How many relay events of a kind happened.
    fn relay_event_count(&self, kind: RelayLogKind) -> Option<u32> {
        None
    }

    /// The `n`-th most recent relay event of a kind (1 = last).
    fn relay_event(&self, kind: RelayLogKind, n: u8) -> Option<RelayLogEntry> {
        None
    }

    /// How many times the clock was set (03300400).
    fn clock_set_count(&self) -> Option<u32> {
        None
    }

    /// The `n`-th most recent clock setting (1 = last).
    fn clock_set(&self, n: u8) -> Option<ClockSetEntry> {
        None
    }

    /// A scheduled switch time.
    fn switch_time(&self, which: Switch) -> Option<DateTime> {
        None
    }

    /// Sets a scheduled switch time.
    fn set_switch_time(&mut self, which: Switch, time: DateTime) -> Result<(), Refusal> {
        Err(Refusal::Unsupported)
    }

    /// A table-size parameter.
    fn count(&self, which: CountParam) -> Option<u16> {
        None
    }

    /// Sets a table-size parameter.
    fn set_count(&mut self, which: CountParam, value: u16) -> Result<(), Refusal> {
        Err(Refusal::Unsupported)
    }

    /// The meter number, 12 BCD digits in wire order (low byte first).
    fn meter_number(&self) -> Option<[u8; 6]> {
        None
    }

    /// Sets the meter number.
    fn set_meter_number(&mut self, bcd: [u8; 6]) -> Result<(), Refusal> {
        Err(Refusal::Unsupported)
    }

    /// The customer number, 12 BCD digits in wire order.
    fn customer_number(&self) -> Option<[u8; 6]> {
        None
    }

    /// Sets the customer number.
    fn set_customer_number(&mut self, bcd: [u8; 6]) -> Result<(), Refusal> {
        Err(Refusal::Unsupported)
    }

    /// Meter status word `n` (1..=7).
    fn status_word(&self, n: u8) -> Option<u16> {
        None
    }

    /// Settlement day `n` (1..=3): `(day, hour)`, 99 for unused.
    fn settlement_day(&self, n: u8) -> Option<(u8, u8)> {
        None
    }

    /// Sets settlement day `n`.
    fn set_settlement_day(&mut self, n: u8, day: u8, hour: u8) -> Result<(), Refusal> {
        Err(Refusal::Unsupported)
    }

    /// A money limit.
    fn limit(&self, which: Limit) -> Option<Money> {
        None
    }

    /// Sets a money limit.
    fn set_limit(&mut self, which: Limit, value: Money) -> Result<(), Refusal> {
        Err(Refusal::Unsupported)
    }

    /// Trip delay in minutes.
    fn trip_delay(&self) -> Option<u16> {
        None
    }

    /// Sets the trip delay.
    fn set_trip_delay(&mut self, minutes: u16) -> Result<(), Refusal> {
        Err(Refusal::Unsupported)
    }

    /// Entry `index` (0-based) of time-zone table `set` (1 or 2); `None` past the last.
    fn season(&self, set: u8, index: u8) -> Option<TableEntry> {
        None
    }

    /// Replaces time-zone table `set`.
    fn set_seasons(&mut self, set: u8, entries: &[TableEntry]) -> Result<(), Refusal> {
        Err(Refusal::Unsupported)
    }

    /// Entry `index` (0-based) of day table `table` (1..=8) of `set` (1 or 2).
    fn day_period(&self, set: u8, table: u8, index: u8) -> Option<TableEntry> {
        None
    }

    /// Replaces day table `table` of `set`.
    fn set_day_table(&mut self, set: u8, table: u8, entries: &[TableEntry]) -> Result<(), Refusal> {
        Err(Refusal::Unsupported)
    }

    /// Rate price `index` (1..) of price set `set` (1 or 2).
    fn price(&self, set: u8, index: u8) -> Option<Price> {
        None
    }

    /// Sets a rate price.
    fn set_price(&mut self, set: u8, index: u8, price: Price) -> Result<(), Refusal> {
        Err(Refusal::Unsupported)
    }

    /// Tier threshold `index` (1..=6) of tier set `set` (1 or 2).
    fn tier_threshold(&self, set: u8, index: u8) -> Option<Energy> {
        None
    }

    /// Sets a tier threshold.
    fn set_tier_threshold(&mut self, set: u8, index: u8, value: Energy) -> Result<(), Refusal> {
        Err(Refusal::Unsupported)
    }

    /// Tier price `index` (1..=7) of tier set `set` (1 or 2).
    fn tier_price(&self, set: u8, index: u8) -> Option<Price> {
        None
    }

    /// Sets a tier price.
    fn set_tier_price(&mut self, set: u8, index: u8, price: Price) -> Result<(), Refusal> {
        Err(Refusal::Unsupported)
    }

    /// Time of the `n`-th most recent freeze of a kind.
    fn freeze_time(&self, kind: FreezeKind, n: u8) -> Option<DateTime> {
        None
    }

    /// Energy (forward or reverse active, `tariff` 0 = total) at the `n`-th most recent freeze.
    fn frozen_energy(
        &self,
        kind: FreezeKind,
        n: u8,
        register: EnergyKind,
        tariff: u8,
    ) -> Option<Energy> {
        None
    }

    /// Sets the meter's clock to a local date and time (08H broadcast time, or writes of
    /// 04000101/04000102). A meter may refuse large steps.
    fn set_clock(&mut self, local: DateTime) -> Result<(), Refusal> {
        Err(Refusal::Unsupported)
    }

    /// Freezes now or schedules a freeze (16H).
    fn freeze(&mut self, time: FreezeTime) -> Result<(), Refusal> {
        Err(Refusal::Unsupported)
    }

    /// Changes the baud rate after the answer has been sent (17H).
    fn change_baud(&mut self, rate: BaudRate) -> Result<(), Refusal> {
        Err(Refusal::BaudRate)
    }

    /// Clears maximum demand (19H).
    fn clear_max_demand(&mut self, operator: OperatorCode) -> Result<(), Refusal> {
        Err(Refusal::Unsupported)
    }

    /// Meter clear (1AH): energy, demand, events.
    fn meter_clear(&mut self, operator: OperatorCode) -> Result<(), Refusal> {
        Err(Refusal::Unsupported)
    }

    /// Clears events `di` (FFFFFFFF: all) (1BH).
    fn event_clear(&mut self, di: Di, operator: OperatorCode) -> Result<(), Refusal> {
        Err(Refusal::Unsupported)
    }

    /// Executes a plaintext relay command whose password and validity the server has checked.
    fn relay(
        &mut self,
        command: RelayCode,
        n2: u8,
        operator: OperatorCode,
        now: Timestamp,
    ) -> Result<(), Refusal> {
        Err(Refusal::Unsupported)
    }

    /// Executes a sealed command (password level 98H/99H: a write, relay control or meter
    /// clear whose authorisation is a MAC, not a password). The security layer opens it here.
    fn sealed(&mut self, request: &Request<'_>, now: Timestamp) -> Result<(), Refusal> {
        Err(Refusal::Unauthorized)
    }

    /// Runs a security command (03H): writes the answer data (after the identifier) into `out`
    /// and returns its length, or the `SERR` word.
    fn security(
        &mut self,
        di: Di,
        operator: OperatorCode,
        payload: Data<'_>,
        now: Timestamp,
        out: &mut [u8],
    ) -> Result<usize, SecurityErrorWord> {
        Err(SecurityErrorWord::OTHER)
    }
}
