//! Time without a clock: wall-clock timestamps, a civil calendar, and monotonic instants.
//!
//! The core never reads a clock. Callers pass:
//!
//! - a [`Timestamp`] (seconds since 1970-01-01 00:00:00 UTC, leap seconds ignored, as in Unix
//!   time) wherever calendar rules apply (tariffs, freezes, command validity), and
//! - an [`Instant`] (microseconds of a monotonic counter with an arbitrary origin) wherever
//!   intervals matter (pulse glitch filtering, power, demand). A meter's monotonic counter keeps
//!   running when its wall clock is set by a broadcast time command.
//!
//! The civil calendar is the proleptic Gregorian calendar for the years 1970 to 9999, in a fixed
//! offset from UTC ([`UtcOffset`]; Chinese meters run at UTC+8 without daylight saving).
//!
//! ```
//! use prepaid_meter::time::{Date, DateTime, Time, Timestamp, UtcOffset, Weekday};
//! let cst = UtcOffset::from_hours(8).unwrap();
//! let dt = DateTime::new(Date::new(2024, 2, 29).unwrap(), Time::new(23, 59, 59).unwrap());
//! let ts = dt.to_timestamp(cst);
//! assert_eq!(ts, Timestamp::from_unix(1_709_222_399));
//! assert_eq!(ts.to_datetime(cst).unwrap(), dt);
//! assert_eq!(dt.date.weekday(), Weekday::Thursday);
//! assert_eq!(dt.date.ordinal(), 60);
//! ```

use core::fmt;

/// Why a time value was refused.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
#[non_exhaustive]
pub enum TimeError {
    /// The year is outside 1970..=9999.
    YearOutOfRange,
    /// The month is not 1..=12.
    InvalidMonth,
    /// The day does not exist in that month.
    InvalidDay,
    /// Hour, minute or second out of range.
    InvalidTime,
    /// The UTC offset is not strictly between -24 h and +24 h.
    InvalidOffset,
    /// The timestamp lies outside the supported calendar range.
    TimestampOutOfRange,
}

impl fmt::Display for TimeError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            TimeError::YearOutOfRange => "year outside 1970..=9999",
            TimeError::InvalidMonth => "month outside 1..=12",
            TimeError::InvalidDay => "day does not exist in that month",
            TimeError::InvalidTime => "hour, minute or second out of range",
            TimeError::InvalidOffset => "UTC offset must lie strictly between -24 h and +24 h",
            TimeError::TimestampOutOfRange => "timestamp outside the supported calendar range",
        })
    }
}

impl core::error::Error for TimeError {}

/// Seconds since 1970-01-01 00:00:00 UTC (Unix time, leap seconds not counted).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Hash)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
#[cfg_attr(feature = "serde", serde(transparent))]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub struct Timestamp(i64);

impl Timestamp {
    /// 1970-01-01 00:00:00 UTC.
    pub const UNIX_EPOCH: Timestamp = Timestamp(0);

    /// A timestamp from Unix seconds.
    pub const fn from_unix(secs: i64) -> Timestamp {
        Timestamp(secs)
    }

    /// Unix seconds.
    pub const fn unix(self) -> i64 {
        self.0
    }

    /// `self + secs`, or `None` on overflow.
    pub const fn checked_add_secs(self, secs: i64) -> Option<Timestamp> {
        match self.0.checked_add(secs) {
            Some(v) => Some(Timestamp(v)),
            None => None,
        }
    }

    /// Seconds from `earlier` to `self` (negative if `earlier` is later), or `None` on overflow.
    pub const fn checked_secs_since(self, earlier: Timestamp) -> Option<i64> {
        self.0.checked_sub(earlier.0)
    }

    /// The local civil date and time at `offset`.
    pub fn to_datetime(self, offset: UtcOffset) -> Result<DateTime, TimeError> {
        DateTime::from_timestamp(self, offset)
    }

    /// The local day at `offset`, counted from 1970-01-01 (day 0, negative before), for every
    /// timestamp: days outside the civil calendar's range are numbered too (the local time
    /// saturates at the limits of `i64`). Days of the same number begin at the same local
    /// midnight, so this is the key for "once a day" rules.
    ///
    /// ```
    /// use prepaid_meter::time::{Timestamp, UtcOffset};
    /// // 1970-01-01 20:00 UTC is already 1970-01-02 at UTC+8.
    /// assert_eq!(Timestamp::from_unix(72_000).local_day(UtcOffset::CHINA), 1);
    /// assert_eq!(Timestamp::from_unix(-1).local_day(UtcOffset::UTC), -1);
    /// ```
    pub const fn local_day(self, offset: UtcOffset) -> i64 {
        self.0.saturating_add(offset.0 as i64).div_euclid(86_400)
    }

    /// Seconds since local midnight at `offset`, `0..86_400`.
    pub const fn local_seconds_of_day(self, offset: UtcOffset) -> u32 {
        self.0.saturating_add(offset.0 as i64).rem_euclid(86_400) as u32
    }
}

/// A fixed offset from UTC, in seconds (UTC+8 is `UtcOffset::from_hours(8)`).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
#[cfg_attr(feature = "serde", serde(try_from = "i32", into = "i32"))]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub struct UtcOffset(i32);

impl UtcOffset {
    /// UTC itself.
    pub const UTC: UtcOffset = UtcOffset(0);
    /// China Standard Time, UTC+8.
    pub const CHINA: UtcOffset = UtcOffset(8 * 3600);

    /// An offset in seconds east of UTC; must lie strictly between -86 400 and 86 400.
    pub const fn from_seconds(secs: i32) -> Result<UtcOffset, TimeError> {
        if secs <= -86_400 || secs >= 86_400 {
            Err(TimeError::InvalidOffset)
        } else {
            Ok(UtcOffset(secs))
        }
    }

    /// An offset in whole hours east of UTC.
    pub const fn from_hours(hours: i8) -> Result<UtcOffset, TimeError> {
        Self::from_seconds(hours as i32 * 3600)
    }

    /// Seconds east of UTC.
    pub const fn seconds(self) -> i32 {
        self.0
    }
}

/// A day of the week.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
#[allow(missing_docs)]
pub enum Weekday {
    Monday,
    Tuesday,
    Wednesday,
    Thursday,
    Friday,
    Saturday,
    Sunday,
}

impl Weekday {
    /// All days, Monday first.
    pub const ALL: [Weekday; 7] = [
        Weekday::Monday,
        Weekday::Tuesday,
        Weekday::Wednesday,
        Weekday::Thursday,
        Weekday::Friday,
        Weekday::Saturday,
        Weekday::Sunday,
    ];

    /// 0 for Monday up to 6 for Sunday (ISO 8601 order, from zero).
    pub const fn days_from_monday(self) -> u8 {
        self as u8
    }

    /// The DL/T 645 `WW` code: 0 for Sunday, 1 for Monday up to 6 for Saturday.
    pub const fn dlt645_code(self) -> u8 {
        (self as u8 + 1) % 7
    }

    /// The day of the week of day `days` counted from 1970-01-01 (a Thursday), for any day
    /// number, as [`Timestamp::local_day`] gives it.
    pub const fn from_days_since_epoch(days: i64) -> Weekday {
        // rem_euclid is 0..7, so the sum stays small; Thursday is 3 days after Monday. A match
        // rather than an index into `ALL`, so no bounds check (and no panic path) is compiled.
        match (days.rem_euclid(7) + 3) % 7 {
            0 => Weekday::Monday,
            1 => Weekday::Tuesday,
            2 => Weekday::Wednesday,
            3 => Weekday::Thursday,
            4 => Weekday::Friday,
            5 => Weekday::Saturday,
            _ => Weekday::Sunday,
        }
    }

    /// The day for a DL/T 645 `WW` code (0 = Sunday); `None` above 6.
    pub const fn from_dlt645_code(code: u8) -> Option<Weekday> {
        if code > 6 {
            return None;
        }
        Some(Self::ALL[((code + 6) % 7) as usize])
    }
}

/// A calendar date in the proleptic Gregorian calendar, 1970-01-01 to 9999-12-31.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
#[cfg_attr(feature = "serde", serde(try_from = "serde_fields::Date"))]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub struct Date {
    year: u16,
    month: u8,
    day: u8,
}

/// `true` for Gregorian leap years.
pub const fn is_leap_year(year: u16) -> bool {
    (year.is_multiple_of(4) && !year.is_multiple_of(100)) || year.is_multiple_of(400)
}

/// Days in `month` (1..=12) of `year`; 0 for an invalid month.
pub const fn days_in_month(year: u16, month: u8) -> u8 {
    match month {
        1 | 3 | 5 | 7 | 8 | 10 | 12 => 31,
        4 | 6 | 9 | 11 => 30,
        2 if is_leap_year(year) => 29,
        2 => 28,
        _ => 0,
    }
}

impl Date {
    /// The earliest supported date.
    pub const MIN: Date = Date {
        year: 1970,
        month: 1,
        day: 1,
    };
    /// The latest supported date.
    pub const MAX: Date = Date {
        year: 9999,
        month: 12,
        day: 31,
    };

    /// A validated date.
    pub const fn new(year: u16, month: u8, day: u8) -> Result<Date, TimeError> {
        if year < 1970 || year > 9999 {
            return Err(TimeError::YearOutOfRange);
        }
        if month < 1 || month > 12 {
            return Err(TimeError::InvalidMonth);
        }
        if day < 1 || day > days_in_month(year, month) {
            return Err(TimeError::InvalidDay);
        }
        Ok(Date { year, month, day })
    }

    /// The year.
    pub const fn year(self) -> u16 {
        self.year
    }

    /// The month, 1..=12.
    pub const fn month(self) -> u8 {
        self.month
    }

    /// The day of the month, 1..=31.
    pub const fn day(self) -> u8 {
        self.day
    }

    /// Days since 1970-01-01 (day 0).
    pub const fn days_since_epoch(self) -> i64 {
        // Howard Hinnant's days_from_civil, with March as the first month of the year.
        let y = self.year as i64 - if self.month <= 2 { 1 } else { 0 };
        let era = y.div_euclid(400);
        let yoe = y - era * 400;
        let mp = (self.month as i64 + 9) % 12;
        let doy = (153 * mp + 2) / 5 + self.day as i64 - 1;
        let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
        era * 146_097 + doe - 719_468
    }

    /// The date `days` days after 1970-01-01.
    pub const fn from_days_since_epoch(days: i64) -> Result<Date, TimeError> {
        if days < 0 || days > Date::MAX.days_since_epoch() {
            return Err(TimeError::TimestampOutOfRange);
        }
        let z = days + 719_468;
        let era = z.div_euclid(146_097);
        let doe = z - era * 146_097;
        let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
        let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
        let mp = (5 * doy + 2) / 153;
        let day = doy - (153 * mp + 2) / 5 + 1;
        let month = if mp < 10 { mp + 3 } else { mp - 9 };
        let year = yoe + era * 400 + if month <= 2 { 1 } else { 0 };
        Ok(Date {
            year: year as u16,
            month: month as u8,
            day: day as u8,
        })
    }

    /// The day of the week.
    pub const fn weekday(self) -> Weekday {
        Weekday::from_days_since_epoch(self.days_since_epoch())
    }

    /// The day of the year, 1..=366.
    pub const fn ordinal(self) -> u16 {
        let jan1 = Date {
            year: self.year,
            month: 1,
            day: 1,
        };
        (self.days_since_epoch() - jan1.days_since_epoch() + 1) as u16
    }

    /// The next day, or `None` after [`Date::MAX`].
    pub const fn succ(self) -> Option<Date> {
        match Date::from_days_since_epoch(self.days_since_epoch() + 1) {
            Ok(d) => Some(d),
            Err(_) => None,
        }
    }
}

impl fmt::Display for Date {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:04}-{:02}-{:02}", self.year, self.month, self.day)
    }
}

/// A time of day, 00:00:00 to 23:59:59.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Hash)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
#[cfg_attr(feature = "serde", serde(try_from = "serde_fields::Time"))]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub struct Time {
    hour: u8,
    minute: u8,
    second: u8,
}

impl Time {
    /// 00:00:00.
    pub const MIDNIGHT: Time = Time {
        hour: 0,
        minute: 0,
        second: 0,
    };

    /// A validated time of day.
    pub const fn new(hour: u8, minute: u8, second: u8) -> Result<Time, TimeError> {
        if hour > 23 || minute > 59 || second > 59 {
            return Err(TimeError::InvalidTime);
        }
        Ok(Time {
            hour,
            minute,
            second,
        })
    }

    /// The time `secs` seconds after midnight; `secs` must be below 86 400.
    pub const fn from_seconds_since_midnight(secs: u32) -> Result<Time, TimeError> {
        if secs >= 86_400 {
            return Err(TimeError::InvalidTime);
        }
        Ok(Time {
            hour: (secs / 3600) as u8,
            minute: (secs / 60 % 60) as u8,
            second: (secs % 60) as u8,
        })
    }

    /// The hour, 0..=23.
    pub const fn hour(self) -> u8 {
        self.hour
    }

    /// The minute, 0..=59.
    pub const fn minute(self) -> u8 {
        self.minute
    }

    /// The second, 0..=59.
    pub const fn second(self) -> u8 {
        self.second
    }

    /// Seconds since midnight, 0..86 400.
    pub const fn seconds_since_midnight(self) -> u32 {
        self.hour as u32 * 3600 + self.minute as u32 * 60 + self.second as u32
    }
}

impl fmt::Display for Time {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:02}:{:02}:{:02}", self.hour, self.minute, self.second)
    }
}

/// A local date and time of day.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub struct DateTime {
    /// The date.
    pub date: Date,
    /// The time of day.
    pub time: Time,
}

impl DateTime {
    /// A date and a time of day.
    pub const fn new(date: Date, time: Time) -> DateTime {
        DateTime { date, time }
    }

    /// The local date and time of `ts` at `offset`.
    pub const fn from_timestamp(ts: Timestamp, offset: UtcOffset) -> Result<DateTime, TimeError> {
        let Some(local) = ts.0.checked_add(offset.0 as i64) else {
            return Err(TimeError::TimestampOutOfRange);
        };
        let days = local.div_euclid(86_400);
        let secs = local.rem_euclid(86_400) as u32;
        let date = match Date::from_days_since_epoch(days) {
            Ok(d) => d,
            Err(e) => return Err(e),
        };
        let time = match Time::from_seconds_since_midnight(secs) {
            Ok(t) => t,
            Err(e) => return Err(e),
        };
        Ok(DateTime { date, time })
    }

    /// The timestamp of this local date and time at `offset`.
    ///
    /// Always exact: every supported date at every valid offset fits a [`Timestamp`], and
    /// [`DateTime::from_timestamp`] with the same offset gives `self` back.
    pub const fn to_timestamp(self, offset: UtcOffset) -> Timestamp {
        let local =
            self.date.days_since_epoch() * 86_400 + self.time.seconds_since_midnight() as i64;
        Timestamp(local - offset.0 as i64)
    }
}

impl fmt::Display for DateTime {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} {}", self.date, self.time)
    }
}

/// A point on a monotonic microsecond counter with an arbitrary origin.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Hash)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub struct Instant(u64);

impl Instant {
    /// An instant from microseconds of the caller's monotonic counter.
    pub const fn from_micros(us: u64) -> Instant {
        Instant(us)
    }

    /// An instant from milliseconds of the caller's monotonic counter (saturating).
    pub const fn from_millis(ms: u64) -> Instant {
        Instant(ms.saturating_mul(1000))
    }

    /// Microseconds of the counter.
    pub const fn micros(self) -> u64 {
        self.0
    }

    /// Time from `earlier` to `self`, or `None` if `earlier` is later.
    pub const fn checked_duration_since(self, earlier: Instant) -> Option<Duration> {
        match self.0.checked_sub(earlier.0) {
            Some(d) => Some(Duration(d)),
            None => None,
        }
    }

    /// `self + d`, or `None` on overflow.
    pub const fn checked_add(self, d: Duration) -> Option<Instant> {
        match self.0.checked_add(d.0) {
            Some(v) => Some(Instant(v)),
            None => None,
        }
    }
}

/// A span of monotonic time in microseconds.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Hash)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub struct Duration(u64);

impl Duration {
    /// No time.
    pub const ZERO: Duration = Duration(0);

    /// A duration in microseconds.
    pub const fn from_micros(us: u64) -> Duration {
        Duration(us)
    }

    /// A duration in milliseconds (saturating).
    pub const fn from_millis(ms: u64) -> Duration {
        Duration(ms.saturating_mul(1000))
    }

    /// A duration in seconds (saturating).
    pub const fn from_secs(s: u64) -> Duration {
        Duration(s.saturating_mul(1_000_000))
    }

    /// The duration in microseconds.
    pub const fn micros(self) -> u64 {
        self.0
    }
}

/// Unvalidated field sets that serde deserializes before the validating constructors run.
#[cfg(feature = "serde")]
mod serde_fields {
    #[derive(serde::Deserialize)]
    pub struct Date {
        year: u16,
        month: u8,
        day: u8,
    }

    impl TryFrom<Date> for super::Date {
        type Error = super::TimeError;
        fn try_from(d: Date) -> Result<Self, Self::Error> {
            super::Date::new(d.year, d.month, d.day)
        }
    }

    #[derive(serde::Deserialize)]
    pub struct Time {
        hour: u8,
        minute: u8,
        second: u8,
    }

    impl TryFrom<Time> for super::Time {
        type Error = super::TimeError;
        fn try_from(t: Time) -> Result<Self, Self::Error> {
            super::Time::new(t.hour, t.minute, t.second)
        }
    }
}

impl TryFrom<i32> for UtcOffset {
    type Error = TimeError;
    fn try_from(secs: i32) -> Result<Self, TimeError> {
        UtcOffset::from_seconds(secs)
    }
}

impl From<UtcOffset> for i32 {
    fn from(o: UtcOffset) -> i32 {
        o.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn epoch_and_edges() {
        let utc = UtcOffset::UTC;
        assert_eq!(
            Timestamp::UNIX_EPOCH.to_datetime(utc).unwrap(),
            DateTime::new(Date::MIN, Time::MIDNIGHT)
        );
        assert_eq!(Date::MIN.weekday(), Weekday::Thursday);
        assert_eq!(Date::new(2000, 1, 1).unwrap().weekday(), Weekday::Saturday);
        assert_eq!(Date::new(2099, 12, 31).unwrap().ordinal(), 365);
        assert_eq!(Date::new(2000, 12, 31).unwrap().ordinal(), 366);
        assert_eq!(Date::MAX.succ(), None);
        assert_eq!(
            Timestamp::from_unix(-1).to_datetime(utc),
            Err(TimeError::TimestampOutOfRange)
        );
        // One second before the epoch is still 1970 at UTC+8.
        assert_eq!(
            Timestamp::from_unix(-1)
                .to_datetime(UtcOffset::CHINA)
                .unwrap()
                .date,
            Date::MIN
        );
        assert_eq!(
            Timestamp::from_unix(i64::MAX).to_datetime(UtcOffset::CHINA),
            Err(TimeError::TimestampOutOfRange)
        );
    }

    #[test]
    fn invalid_dates_are_typed_errors() {
        assert_eq!(Date::new(1969, 12, 31), Err(TimeError::YearOutOfRange));
        assert_eq!(Date::new(2023, 2, 29), Err(TimeError::InvalidDay));
        assert_eq!(Date::new(2100, 2, 29), Err(TimeError::InvalidDay));
        assert!(Date::new(2000, 2, 29).is_ok());
        assert_eq!(Date::new(2024, 13, 1), Err(TimeError::InvalidMonth));
        assert_eq!(Date::new(2024, 4, 31), Err(TimeError::InvalidDay));
        assert_eq!(Time::new(24, 0, 0), Err(TimeError::InvalidTime));
        assert_eq!(Time::new(0, 60, 0), Err(TimeError::InvalidTime));
        assert_eq!(UtcOffset::from_hours(24), Err(TimeError::InvalidOffset));
    }

    #[test]
    fn local_days_and_weekdays_at_the_limits() {
        assert_eq!(Weekday::from_days_since_epoch(0), Weekday::Thursday);
        assert_eq!(Weekday::from_days_since_epoch(-1), Weekday::Wednesday);
        assert_eq!(
            Weekday::from_days_since_epoch(i64::MIN),
            Weekday::from_days_since_epoch(i64::MIN % 7 + 7)
        );
        let _ = Weekday::from_days_since_epoch(i64::MAX);
        let max = Timestamp::from_unix(i64::MAX);
        assert_eq!(max.local_day(UtcOffset::CHINA), i64::MAX.div_euclid(86_400));
        assert_eq!(
            Timestamp::from_unix(i64::MIN).local_day(UtcOffset::from_hours(-5).unwrap()),
            i64::MIN.div_euclid(86_400)
        );
        assert_eq!(
            Timestamp::from_unix(3_599).local_seconds_of_day(UtcOffset::CHINA),
            32_399
        );
        assert_eq!(
            Timestamp::from_unix(-1).local_seconds_of_day(UtcOffset::UTC),
            86_399
        );
    }

    #[test]
    fn weekday_codes() {
        for w in Weekday::ALL {
            assert_eq!(Weekday::from_dlt645_code(w.dlt645_code()), Some(w));
        }
        assert_eq!(Weekday::Sunday.dlt645_code(), 0);
        assert_eq!(Weekday::from_dlt645_code(7), None);
    }

    #[test]
    fn instants() {
        let a = Instant::from_millis(5);
        let b = Instant::from_micros(5_250);
        assert_eq!(
            b.checked_duration_since(a),
            Some(Duration::from_micros(250))
        );
        assert_eq!(a.checked_duration_since(b), None);
        assert_eq!(
            Instant::from_micros(u64::MAX).checked_add(Duration::from_secs(1)),
            None
        );
    }
}
