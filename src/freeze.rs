//! Frozen registers: when to freeze (hourly, daily at 00:00, on the monthly settlement day) and
//! the rings that keep the frozen records, read back as "last 1, last 2, ..." (DL/T 645 `0504xxxx`
//! hourly, `0506xxxx` daily, and `DI0 = 01..0C` settlement-day data).
//!
//! The module is sans-IO and owns no registers: the caller asks a [`Schedule`] which freezes fell
//! due between the previous and the current timestamp ([`Schedule::due`]), then hands the current
//! energy registers (`[Energy; T]`, one per tariff, owned by the metering module) and the balance
//! to [`Freezes::record`].
//!
//! # Boundaries and catching up after a power cut
//!
//! A freeze is due at each boundary `b` with `prev < b <= now`, in the meter's local time
//! ([`UtcOffset`]): every hour on the hour, every day at 00:00, and every month on the settlement
//! day and hour (DL/T 645 `04000B01`, `DDhh`, day 1 to 28). When several boundaries of one kind
//! were crossed at once (the meter was off, or its clock was set forward), only the most recent
//! ones are generated, at most [`CatchUp`] of each kind: by default 24 hourly, 7 daily and 12
//! settlement freezes. Each generated record is stamped with its boundary time and carries the
//! registers as they are now, which is also what they were at the boundary while the meter was
//! off. The bound keeps the work of one call small and fixed; [`Boundaries::crossed`] still
//! reports how many boundaries were crossed in all. If `now <= prev` (a clock set back), nothing
//! is due: the caller keeps the later of the two as its next `prev` if it does not want a
//! boundary frozen twice.
//!
//! ```
//! use prepaid_meter::freeze::{CatchUp, Freezes, Schedule, SettlementDay};
//! use prepaid_meter::time::{Date, DateTime, Time, UtcOffset};
//! use prepaid_meter::units::{Energy, Money};
//!
//! let cst = UtcOffset::CHINA;
//! let at = |d, h, m| DateTime::new(Date::new(2024, 5, d).unwrap(), Time::new(h, m, 0).unwrap())
//!     .to_timestamp(cst);
//! let schedule = Schedule::new(cst, SettlementDay::new(1, 0).unwrap(), CatchUp::default());
//!
//! // 23:59:00 to 00:01:00: one hourly and one daily freeze, stamped 00:00.
//! let due = schedule.due(at(6, 23, 59), at(7, 0, 1));
//! assert_eq!(due.hourly().collect::<Vec<_>>(), [at(7, 0, 0)]);
//! assert_eq!(due.daily().collect::<Vec<_>>(), [at(7, 0, 0)]);
//! assert_eq!(due.settlement().count(), 0);
//!
//! let mut freezes: Freezes<Money, 2> = Freezes::new();
//! let energy = [Energy::from_wh(12_340), Energy::from_wh(5_000)];
//! freezes.record(&due, energy, Money::from_minor(250_000));
//! let last = freezes.daily().last(1).unwrap();
//! assert_eq!(last.time(), at(7, 0, 0));
//! assert_eq!(last.energy(), &energy[..]);
//! assert_eq!(last.balance(), Money::from_minor(250_000));
//! ```

use core::fmt;

use heapless::Vec;

use crate::ring::Ring;
use crate::time::{Date, DateTime, Time, Timestamp, UtcOffset};
use crate::units::Energy;

/// Seconds in an hour.
const HOUR: i64 = 3600;
/// Seconds in a day.
const DAY: i64 = 86_400;

/// Why a freeze setting was refused.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
#[non_exhaustive]
pub enum FreezeError {
    /// The settlement day is not 1..=28 (DL/T 645 allows no later day, so every month has it).
    InvalidSettlementDay,
    /// The settlement hour is not 0..=23.
    InvalidSettlementHour,
}

impl fmt::Display for FreezeError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            FreezeError::InvalidSettlementDay => "settlement day must be 1..=28",
            FreezeError::InvalidSettlementHour => "settlement hour must be 0..=23",
        })
    }
}

impl core::error::Error for FreezeError {}

/// The monthly settlement day and hour (DL/T 645 `04000B01`, `DDhh`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
#[cfg_attr(feature = "serde", serde(try_from = "SettlementDayFields"))]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub struct SettlementDay {
    day: u8,
    hour: u8,
}

/// A settlement day as stored, before [`SettlementDay::new`] checks it.
#[cfg(feature = "serde")]
#[derive(serde::Deserialize)]
struct SettlementDayFields {
    day: u8,
    hour: u8,
}

#[cfg(feature = "serde")]
impl TryFrom<SettlementDayFields> for SettlementDay {
    type Error = FreezeError;
    fn try_from(f: SettlementDayFields) -> Result<Self, FreezeError> {
        SettlementDay::new(f.day, f.hour)
    }
}

impl SettlementDay {
    /// The first of the month at 00:00, the usual default.
    pub const FIRST_OF_MONTH: SettlementDay = SettlementDay { day: 1, hour: 0 };

    /// A settlement day `day` (1..=28) at `hour` (0..=23) local time.
    pub const fn new(day: u8, hour: u8) -> Result<SettlementDay, FreezeError> {
        if day < 1 || day > 28 {
            return Err(FreezeError::InvalidSettlementDay);
        }
        if hour > 23 {
            return Err(FreezeError::InvalidSettlementHour);
        }
        Ok(SettlementDay { day, hour })
    }

    /// The day of the month, 1..=28.
    pub const fn day(self) -> u8 {
        self.day
    }

    /// The hour, 0..=23.
    pub const fn hour(self) -> u8 {
        self.hour
    }
}

impl Default for SettlementDay {
    fn default() -> Self {
        SettlementDay::FIRST_OF_MONTH
    }
}

/// The most freezes of each kind generated by one [`Schedule::due`] call (the most recent ones).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub struct CatchUp {
    /// Hourly freezes (default 24: a day of hours).
    pub hourly: u16,
    /// Daily freezes (default 7: a week).
    pub daily: u16,
    /// Settlement-day freezes (default 12: a year, all that DL/T 645 addresses).
    pub settlement: u16,
}

impl Default for CatchUp {
    fn default() -> Self {
        CatchUp {
            hourly: 24,
            daily: 7,
            settlement: 12,
        }
    }
}

/// When freezes fall due: local offset, settlement day and catch-up bounds.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub struct Schedule {
    offset: UtcOffset,
    settlement: SettlementDay,
    catch_up: CatchUp,
}

impl Schedule {
    /// A schedule in local time at `offset`.
    pub const fn new(offset: UtcOffset, settlement: SettlementDay, catch_up: CatchUp) -> Schedule {
        Schedule {
            offset,
            settlement,
            catch_up,
        }
    }

    /// The local offset.
    pub const fn offset(&self) -> UtcOffset {
        self.offset
    }

    /// The settlement day.
    pub const fn settlement_day(&self) -> SettlementDay {
        self.settlement
    }

    /// The catch-up bounds.
    pub const fn catch_up(&self) -> CatchUp {
        self.catch_up
    }

    /// The freezes due for the boundaries in `(prev, now]`; see the module docs for the bounds.
    ///
    /// Constant time: the boundaries are produced lazily by the returned iterators.
    pub fn due(&self, prev: Timestamp, now: Timestamp) -> Due {
        let off = i64::from(self.offset.seconds());
        let fixed = |period: i64, cap: u16| {
            let idx = |t: Timestamp| t.unix().saturating_add(off).div_euclid(period);
            Boundaries::new(
                Step::Fixed {
                    period,
                    offset: off,
                },
                idx(prev),
                idx(now),
                prev < now,
                cap,
            )
        };
        let settlement = match (month_index(now, self.offset, self.settlement), prev < now) {
            (Some(last), true) => {
                let first = month_index(prev, self.offset, self.settlement).unwrap_or(i64::MIN);
                Boundaries::new(
                    Step::Monthly {
                        day: self.settlement,
                        offset: self.offset,
                    },
                    first,
                    last,
                    true,
                    self.catch_up.settlement,
                )
            }
            _ => Boundaries::empty(),
        };
        Due {
            hourly: fixed(HOUR, self.catch_up.hourly),
            daily: fixed(DAY, self.catch_up.daily),
            settlement,
        }
    }
}

/// The settlement boundary of month `m` (months since year 0, January = 0), if in range.
fn settlement_time(m: i64, day: SettlementDay, offset: UtcOffset) -> Option<Timestamp> {
    let year = u16::try_from(m.div_euclid(12)).ok()?;
    let month = u8::try_from(m.rem_euclid(12) + 1).ok()?;
    let date = Date::new(year, month, day.day).ok()?;
    let time = Time::new(day.hour, 0, 0).ok()?;
    Some(DateTime::new(date, time).to_timestamp(offset))
}

/// The month index of the latest settlement boundary at or before `t`.
fn month_index(t: Timestamp, offset: UtcOffset, day: SettlementDay) -> Option<i64> {
    let local = DateTime::from_timestamp(t, offset).ok()?;
    let m = i64::from(local.date.year()) * 12 + i64::from(local.date.month()) - 1;
    match settlement_time(m, day, offset) {
        Some(b) if b <= t => Some(m),
        _ => Some(m - 1),
    }
}

/// The freezes due between two timestamps, one iterator per kind; see [`Schedule::due`].
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Due {
    hourly: Boundaries,
    daily: Boundaries,
    settlement: Boundaries,
}

impl Due {
    /// Hourly boundaries due, oldest first.
    pub fn hourly(&self) -> Boundaries {
        self.hourly.clone()
    }

    /// Daily (00:00) boundaries due, oldest first.
    pub fn daily(&self) -> Boundaries {
        self.daily.clone()
    }

    /// Settlement-day boundaries due, oldest first.
    pub fn settlement(&self) -> Boundaries {
        self.settlement.clone()
    }

    /// `true` if no freeze of any kind is due.
    pub fn is_empty(&self) -> bool {
        self.hourly.len() == 0 && self.daily.len() == 0 && self.settlement.len() == 0
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Step {
    /// Every `period` seconds of local time (local = UTC + `offset` seconds).
    Fixed { period: i64, offset: i64 },
    /// Every month on the settlement day.
    Monthly {
        day: SettlementDay,
        offset: UtcOffset,
    },
}

/// The boundary timestamps of one freeze kind that are due, oldest first.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Boundaries {
    step: Step,
    /// Next boundary index to yield; indices `next..=last` remain.
    next: i64,
    last: i64,
    crossed: u64,
}

impl Boundaries {
    fn new(step: Step, prev_idx: i64, now_idx: i64, forward: bool, cap: u16) -> Boundaries {
        if !forward || now_idx <= prev_idx {
            return Boundaries {
                step,
                ..Boundaries::empty()
            };
        }
        let crossed = now_idx.abs_diff(prev_idx);
        let keep = crossed.min(u64::from(cap));
        // `keep <= crossed = now_idx - prev_idx`, so this cannot pass below `prev_idx + 1`.
        let next = now_idx.saturating_sub_unsigned(keep).saturating_add(1);
        Boundaries {
            step,
            next,
            last: now_idx,
            crossed,
        }
    }

    const fn empty() -> Boundaries {
        Boundaries {
            step: Step::Fixed {
                period: DAY,
                offset: 0,
            },
            next: 1,
            last: 0,
            crossed: 0,
        }
    }

    /// How many boundaries of this kind lie in `(prev, now]`, including those not generated
    /// because of the catch-up bound.
    pub fn crossed(&self) -> u64 {
        self.crossed
    }

    fn at(&self, idx: i64) -> Option<Timestamp> {
        match self.step {
            Step::Fixed { period, offset } => idx
                .checked_mul(period)
                .and_then(|local| local.checked_sub(offset))
                .map(Timestamp::from_unix),
            Step::Monthly { day, offset } => settlement_time(idx, day, offset),
        }
    }
}

impl Iterator for Boundaries {
    type Item = Timestamp;

    fn next(&mut self) -> Option<Timestamp> {
        if self.next > self.last {
            return None;
        }
        let t = self.at(self.next);
        self.next += 1;
        if t.is_none() {
            // Out of the calendar range: nothing further is representable either.
            self.next = self.last.saturating_add(1);
        }
        t
    }

    fn size_hint(&self) -> (usize, Option<usize>) {
        // Fewer may come if the calendar range ends first.
        (0, usize::try_from(self.len()).ok())
    }
}

impl Boundaries {
    /// How many boundaries remain to be yielded (at most the catch-up bound).
    pub fn len(&self) -> u64 {
        if self.next > self.last {
            0
        } else {
            self.last.abs_diff(self.next) + 1
        }
    }

    /// `true` if no boundary remains.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

/// One frozen record: when, the energy registers (one per tariff, as the caller keeps them) and
/// the balance (`B` is [`Money`](crate::units::Money) or [`Energy`] for a prepaid meter, `()`
/// for one that keeps no balance).
#[derive(Clone, Debug, PartialEq, Eq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub struct Frozen<B, const T: usize> {
    time: Timestamp,
    energy: Vec<Energy, T>,
    balance: B,
}

impl<B: Copy, const T: usize> Frozen<B, T> {
    /// A record of `energy` and `balance` frozen at `time`.
    pub fn new(time: Timestamp, energy: [Energy; T], balance: B) -> Self {
        Frozen {
            time,
            energy: Vec::from_array(energy),
            balance,
        }
    }

    /// The freeze time (the boundary, not the moment it was taken).
    pub fn time(&self) -> Timestamp {
        self.time
    }

    /// The energy registers, one per tariff, in the caller's order.
    pub fn energy(&self) -> &[Energy] {
        &self.energy
    }

    /// The balance at the freeze.
    pub fn balance(&self) -> B {
        self.balance
    }
}

/// Default number of energy registers per record: the total and the four DL/T 645 tariffs
/// (sharp, peak, flat, valley).
pub const DEFAULT_REGISTERS: usize = 5;
/// Default hourly depth: a day.
pub const DEFAULT_HOURLY: usize = 24;
/// Default daily depth: 62, as DL/T 645 addresses daily freezes `05060x01..3E`.
pub const DEFAULT_DAILY: usize = 62;
/// Default settlement depth: 12, DL/T 645 `DI0 = 01..0C`.
pub const DEFAULT_SETTLEMENT: usize = 12;

/// The frozen-record rings: hourly (`HN` deep), daily (`DN`) and settlement-day (`SN`), each
/// record holding `T` energy registers and a balance `B`.
#[derive(Clone, Debug, PartialEq, Eq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub struct Freezes<
    B,
    const T: usize = DEFAULT_REGISTERS,
    const HN: usize = DEFAULT_HOURLY,
    const DN: usize = DEFAULT_DAILY,
    const SN: usize = DEFAULT_SETTLEMENT,
> {
    hourly: Ring<Frozen<B, T>, HN>,
    daily: Ring<Frozen<B, T>, DN>,
    settlement: Ring<Frozen<B, T>, SN>,
}

impl<B: Copy, const T: usize, const HN: usize, const DN: usize, const SN: usize> Default
    for Freezes<B, T, HN, DN, SN>
{
    fn default() -> Self {
        Freezes::new()
    }
}

impl<B: Copy, const T: usize, const HN: usize, const DN: usize, const SN: usize>
    Freezes<B, T, HN, DN, SN>
{
    /// Empty rings.
    pub const fn new() -> Self {
        Freezes {
            hourly: Ring::new(),
            daily: Ring::new(),
            settlement: Ring::new(),
        }
    }

    /// Freezes `energy` and `balance` at every boundary in `due`, oldest first, so the latest
    /// boundary of each kind becomes "last 1". Returns how many records were written.
    pub fn record(&mut self, due: &Due, energy: [Energy; T], balance: B) -> u32 {
        let mut written = 0u32;
        for t in due.hourly() {
            self.hourly.push(Frozen::new(t, energy, balance));
            written = written.saturating_add(1);
        }
        for t in due.daily() {
            self.daily.push(Frozen::new(t, energy, balance));
            written = written.saturating_add(1);
        }
        for t in due.settlement() {
            self.settlement.push(Frozen::new(t, energy, balance));
            written = written.saturating_add(1);
        }
        written
    }

    /// Hourly freezes (DL/T 645 `0504xxxx`).
    pub fn hourly(&self) -> &Ring<Frozen<B, T>, HN> {
        &self.hourly
    }

    /// Daily freezes at 00:00 (DL/T 645 `0506xxxx`).
    pub fn daily(&self) -> &Ring<Frozen<B, T>, DN> {
        &self.daily
    }

    /// Settlement-day freezes (DL/T 645 previous settlement periods, `DI0 = 01..0C`).
    pub fn settlement(&self) -> &Ring<Frozen<B, T>, SN> {
        &self.settlement
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(y: u16, mo: u8, d: u8, h: u8, mi: u8, s: u8) -> Timestamp {
        DateTime::new(Date::new(y, mo, d).unwrap(), Time::new(h, mi, s).unwrap())
            .to_timestamp(UtcOffset::CHINA)
    }

    fn sched(day: u8, hour: u8) -> Schedule {
        Schedule::new(
            UtcOffset::CHINA,
            SettlementDay::new(day, hour).unwrap(),
            CatchUp::default(),
        )
    }

    #[test]
    fn exact_boundary_belongs_to_the_interval_end() {
        let s = sched(1, 0);
        let b = at(2024, 3, 1, 0, 0, 0);
        let due = s.due(b.checked_add_secs(-1).unwrap(), b);
        assert_eq!(due.hourly().collect::<std::vec::Vec<_>>(), [b]);
        assert_eq!(due.daily().collect::<std::vec::Vec<_>>(), [b]);
        assert_eq!(due.settlement().collect::<std::vec::Vec<_>>(), [b]);
        // Starting exactly on the boundary: it was already due at `prev`.
        let due = s.due(b, b.checked_add_secs(1).unwrap());
        assert!(due.is_empty());
    }

    #[test]
    fn nothing_due_backwards_or_standing_still() {
        let s = sched(1, 0);
        let t = at(2024, 3, 1, 0, 0, 0);
        assert!(s.due(t, t).is_empty());
        assert!(
            s.due(t.checked_add_secs(10 * 86_400).unwrap(), t)
                .is_empty()
        );
    }

    #[test]
    fn settlement_hour_and_day() {
        let s = sched(15, 12);
        let due = s.due(at(2024, 1, 15, 11, 59, 59), at(2024, 1, 15, 12, 0, 0));
        assert_eq!(
            due.settlement().collect::<std::vec::Vec<_>>(),
            [at(2024, 1, 15, 12, 0, 0)]
        );
        let due = s.due(at(2024, 1, 15, 12, 0, 0), at(2024, 2, 15, 11, 0, 0));
        assert_eq!(due.settlement().count(), 0);
    }

    #[test]
    fn outage_catch_up_is_bounded_and_most_recent() {
        let s = Schedule::new(
            UtcOffset::CHINA,
            SettlementDay::FIRST_OF_MONTH,
            CatchUp {
                hourly: 3,
                daily: 2,
                settlement: 12,
            },
        );
        // Off from 2023-12-31 22:30 to 2024-03-04 05:10.
        let due = s.due(at(2023, 12, 31, 22, 30, 0), at(2024, 3, 4, 5, 10, 0));
        let hours: std::vec::Vec<_> = due.hourly().collect();
        assert_eq!(
            hours,
            [
                at(2024, 3, 4, 3, 0, 0),
                at(2024, 3, 4, 4, 0, 0),
                at(2024, 3, 4, 5, 0, 0)
            ]
        );
        // 1 + 31 + 29 + 3 = 64 days crossed; hours: 1.5 h to midnight -> 1 + 63*24 + 6.
        assert_eq!(due.daily().crossed(), 64);
        assert_eq!(due.hourly().crossed(), 1 + 63 * 24 + 6);
        assert_eq!(
            due.daily().collect::<std::vec::Vec<_>>(),
            [at(2024, 3, 3, 0, 0, 0), at(2024, 3, 4, 0, 0, 0)]
        );
        assert_eq!(
            due.settlement().collect::<std::vec::Vec<_>>(),
            [
                at(2024, 1, 1, 0, 0, 0),
                at(2024, 2, 1, 0, 0, 0),
                at(2024, 3, 1, 0, 0, 0)
            ]
        );
        assert_eq!(due.settlement().len(), 3);
    }

    #[test]
    fn extreme_timestamps_do_not_panic() {
        let s = sched(28, 23);
        for (a, b) in [
            (i64::MIN, i64::MAX),
            (i64::MIN, 0),
            (0, i64::MAX),
            (-86_400 * 400, 86_400),
            (253_402_300_000, 253_402_400_000),
        ] {
            let due = s.due(Timestamp::from_unix(a), Timestamp::from_unix(b));
            assert!(due.hourly().count() <= 24);
            assert!(due.daily().count() <= 7);
            assert!(due.settlement().count() <= 12);
        }
    }

    #[test]
    fn record_writes_all_due_newest_last() {
        let s = sched(1, 0);
        let mut f: Freezes<i32, 1, 4, 4, 4> = Freezes::new();
        let due = s.due(at(2024, 1, 31, 21, 0, 0), at(2024, 2, 1, 1, 0, 0));
        let n = f.record(&due, [Energy::from_wh(7)], -3);
        assert_eq!(n, 4 + 1 + 1);
        assert_eq!(f.hourly().last(1).unwrap().time(), at(2024, 2, 1, 1, 0, 0));
        assert_eq!(
            f.hourly().last(4).unwrap().time(),
            at(2024, 1, 31, 22, 0, 0)
        );
        assert_eq!(f.daily().last(1).unwrap().time(), at(2024, 2, 1, 0, 0, 0));
        assert_eq!(f.settlement().last(1).unwrap().balance(), -3);
    }

    #[test]
    fn settlement_day_validation() {
        assert_eq!(
            SettlementDay::new(0, 0),
            Err(FreezeError::InvalidSettlementDay)
        );
        assert_eq!(
            SettlementDay::new(29, 0),
            Err(FreezeError::InvalidSettlementDay)
        );
        assert_eq!(
            SettlementDay::new(1, 24),
            Err(FreezeError::InvalidSettlementHour)
        );
        assert!(FreezeError::InvalidSettlementDay.to_string().contains("28"));
    }
}
