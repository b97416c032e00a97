//! The TOU calendar: seasons, weekly rules, day tables of switch points, special days.

use heapless::Vec;

use super::{DEFAULT_DAY_TABLES, DEFAULT_SEASONS, DEFAULT_SWITCH_POINTS, TariffError};
use crate::time::{Date, Weekday};

/// A switch point of a day table: from `hour:minute` (local time) on, tariff number `tariff`
/// applies, until the next switch point.
///
/// This is one `hhmmNN` entry of a DL/T 645 day-period table (0401000x) and one `start_time` /
/// action of a DLMS day profile. Resolution is one minute. Validated when a [`DayTable`] is
/// built (the time) and when a [`super::TariffSet`] is built (the tariff number).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub struct SwitchPoint {
    /// Hour, 0..=23.
    pub hour: u8,
    /// Minute, 0..=59.
    pub minute: u8,
    /// The tariff number, from 1 as in DL/T 645 and [`crate::metering::EnergyRegisters`]
    /// (1 = 尖 sharp, 2 = 峰 peak, 3 = 平 flat, 4 = 谷 valley in the usual four-rate scheme).
    pub tariff: u8,
}

impl SwitchPoint {
    /// A switch point at `hour:minute` selecting tariff number `tariff`.
    pub const fn new(hour: u8, minute: u8, tariff: u8) -> SwitchPoint {
        SwitchPoint {
            hour,
            minute,
            tariff,
        }
    }

    /// Minutes since local midnight.
    pub const fn minute_of_day(self) -> u16 {
        self.hour as u16 * 60 + self.minute as u16
    }
}

/// A day table (DL/T 645 日时段表, DLMS day profile): switch points in increasing time order.
///
/// The tariff in effect at a time of day is the one of the last switch point at or before it;
/// before the first switch point of the day, the **last** switch point of the same table
/// applies (the periods wrap around midnight, as in DL/T 645 tables that do not start at 00:00).
///
/// ```
/// use prepaid_meter::tariff::{DayTable, SwitchPoint};
/// let t = DayTable::new(&[SwitchPoint::new(8, 0, 2), SwitchPoint::new(22, 0, 4)]).unwrap();
/// assert_eq!(t.tariff_at_minute(7 * 60 + 59), 4); // wraps from 22:00 the day before
/// assert_eq!(t.tariff_at_minute(8 * 60), 2);
/// ```
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
#[cfg_attr(feature = "serde", serde(try_from = "serde_raw::DayTableRaw<P>"))]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub struct DayTable<const P: usize = DEFAULT_SWITCH_POINTS> {
    points: Vec<SwitchPoint, P>,
}

impl DayTable {
    /// [`DayTable::new_sized`] at the default capacities, so that a call needs no type
    /// annotations; see it for the details and the errors.
    pub fn new(points: &[SwitchPoint]) -> Result<Self, TariffError> {
        Self::new_sized(points)
    }
}

impl<const P: usize> DayTable<P> {
    /// A validated day table.
    ///
    /// Errors: [`TariffError::EmptyDayTable`], [`TariffError::CapacityExceeded`] (more than `P`
    /// points), [`TariffError::InvalidTimeOfDay`], [`TariffError::UnsortedSwitchPoints`],
    /// [`TariffError::DuplicateSwitchPoint`]. Tariff indices are checked against the prices by
    /// [`super::TariffSet::new`].
    ///
    /// Generic over the capacities (name them, `DayTable::<..>::new_sized`, or let them be
    /// inferred from where the result goes); [`DayTable::new`] is this at the default ones.
    pub fn new_sized(points: &[SwitchPoint]) -> Result<Self, TariffError> {
        if points.is_empty() {
            return Err(TariffError::EmptyDayTable);
        }
        let points = Vec::from_slice(points).map_err(|_| TariffError::CapacityExceeded)?;
        let mut prev: Option<u16> = None;
        for p in &points {
            if p.hour > 23 || p.minute > 59 {
                return Err(TariffError::InvalidTimeOfDay);
            }
            let m = p.minute_of_day();
            if let Some(prev) = prev {
                if m == prev {
                    return Err(TariffError::DuplicateSwitchPoint);
                }
                if m < prev {
                    return Err(TariffError::UnsortedSwitchPoints);
                }
            }
            prev = Some(m);
        }
        Ok(DayTable { points })
    }

    /// The switch points, in increasing time order (never empty).
    pub fn points(&self) -> &[SwitchPoint] {
        &self.points
    }

    /// The tariff number in effect `minute` minutes after local midnight (`0..1440`; larger values
    /// behave as the last minute of the day).
    pub fn tariff_at_minute(&self, minute: u16) -> u8 {
        self.lookup(u32::from(minute.min(1439)) * 60).0
    }

    /// The tariff number at `secs` seconds after midnight and the next second of the day at
    /// which a switch point starts (`86_400` if none is left today).
    pub(crate) fn lookup(&self, secs: u32) -> (u8, u32) {
        let minute = (secs / 60) as u16;
        // `after` is the number of points at or before `minute`; none means the table wraps.
        let after = self.points.partition_point(|p| p.minute_of_day() <= minute);
        let idx = if after == 0 { self.points.len() } else { after };
        let tariff = self
            .points
            .get(idx.wrapping_sub(1))
            .map_or(0, |p: &SwitchPoint| p.tariff);
        let next = self
            .points
            .get(after)
            .map_or(86_400, |p| u32::from(p.minute_of_day()) * 60);
        (tariff, next)
    }

    /// `true` if every switch point selects a tariff number in `1..=tariffs`.
    pub(crate) fn tariffs_within(&self, tariffs: usize) -> bool {
        self.points
            .iter()
            .all(|p| p.tariff >= 1 && usize::from(p.tariff) <= tariffs)
    }
}

/// A month and day of the year, without a year (a season start).
///
/// Ordered by month, then day. February 29 is allowed; in a common year nothing falls on it,
/// so a season starting on February 29 starts on March 1 in common years.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub struct MonthDay {
    /// Month, 1..=12.
    pub month: u8,
    /// Day of the month, 1..=31 (up to the longest length of that month).
    pub day: u8,
}

impl MonthDay {
    /// A month and day (validated when the calendar is built).
    pub const fn new(month: u8, day: u8) -> MonthDay {
        MonthDay { month, day }
    }

    /// `true` if the pair exists in some year (February 29 included).
    pub const fn is_valid(self) -> bool {
        // 2000 is a leap year: every month at its longest.
        self.day >= 1 && self.day <= crate::time::days_in_month(2000, self.month)
    }

    pub(crate) const fn of(date: Date) -> MonthDay {
        MonthDay {
            month: date.month(),
            day: date.day(),
        }
    }
}

/// Which day table each day of the week uses (a DLMS week profile), Monday first, by day-table
/// number (from 1, as the `NN` of DL/T 645 `MMDDNN` zone entries).
///
/// DL/T 645 meters express this as a weekend status word plus a weekend day table: see
/// [`WeekRule::with_rest_days`].
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub struct WeekRule(pub [u8; 7]);

impl WeekRule {
    /// Every day of the week uses day table number `table`.
    pub const fn uniform(table: u8) -> WeekRule {
        WeekRule([table; 7])
    }

    /// `workday_table` on every day except `rest_days`, which use `rest_table`.
    pub fn with_rest_days(workday_table: u8, rest_table: u8, rest_days: &[Weekday]) -> WeekRule {
        let mut days = [workday_table; 7];
        for d in rest_days {
            if let Some(slot) = days.get_mut(usize::from(d.days_from_monday())) {
                *slot = rest_table;
            }
        }
        WeekRule(days)
    }

    /// The day-table number for `day`.
    pub const fn table_for(self, day: Weekday) -> u8 {
        self.0[day.days_from_monday() as usize]
    }
}

/// A season (DL/T 645 year time zone `MMDDNN`, DLMS season profile): from `start` on, every
/// year, the days follow `week`, until the next season starts.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub struct Season {
    /// The first day of the season.
    pub start: MonthDay,
    /// The day tables of the week during the season.
    pub week: WeekRule,
}

/// The date of a special day: a month and day every year, or one particular date.
///
/// Ordered by month, day, then year with "every year" first: special days must be given to
/// [`super::Tariff::new`] in this order. When a date matches both an every-year entry and a
/// one-date entry, the one-date entry wins.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub struct SpecialDate {
    /// Month, 1..=12.
    pub month: u8,
    /// Day of the month.
    pub day: u8,
    /// The year, or `None` for every year (a DLMS date with a wildcard year).
    pub year: Option<u16>,
}

impl SpecialDate {
    /// The same month and day every year (February 29 matches leap years only).
    pub const fn every_year(month: u8, day: u8) -> SpecialDate {
        SpecialDate {
            month,
            day,
            year: None,
        }
    }

    /// One particular date.
    pub const fn once(date: Date) -> SpecialDate {
        SpecialDate {
            month: date.month(),
            day: date.day(),
            year: Some(date.year()),
        }
    }

    /// `true` if the date exists.
    pub fn is_valid(self) -> bool {
        match self.year {
            None => MonthDay::new(self.month, self.day).is_valid(),
            Some(y) => Date::new(y, self.month, self.day).is_ok(),
        }
    }
}

/// A special day (public holiday, DL/T 645 公共假日 `YYMMDDNN`, DLMS special-days entry): on
/// that date, day table number `day_table` applies instead of the weekly rule.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub struct SpecialDay {
    /// The date.
    pub date: SpecialDate,
    /// The day-table number (from 1) used on that date.
    pub day_table: u8,
}

/// Seasons and day tables: the calendar part of a tariff set.
///
/// The season in effect on a date is the last one whose start is at or before the date's
/// month and day; before the first start of the year, the last season of the year goes on
/// (seasons wrap around New Year).
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
#[cfg_attr(feature = "serde", serde(try_from = "serde_raw::CalendarRaw<S, D, P>"))]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub struct Calendar<
    const S: usize = DEFAULT_SEASONS,
    const D: usize = DEFAULT_DAY_TABLES,
    const P: usize = DEFAULT_SWITCH_POINTS,
> {
    seasons: Vec<Season, S>,
    day_tables: Vec<DayTable<P>, D>,
}

impl Calendar {
    /// [`Calendar::new_sized`] at the default capacities, so that a call needs no type
    /// annotations; see it for the details and the errors.
    pub fn new(seasons: &[Season], day_tables: &[DayTable]) -> Result<Self, TariffError> {
        Self::new_sized(seasons, day_tables)
    }
}

impl<const S: usize, const D: usize, const P: usize> Calendar<S, D, P> {
    /// A validated calendar.
    ///
    /// Errors: [`TariffError::NoSeasons`], [`TariffError::NoDayTables`],
    /// [`TariffError::CapacityExceeded`], [`TariffError::InvalidDate`],
    /// [`TariffError::UnsortedSeasons`], [`TariffError::DuplicateSeason`],
    /// [`TariffError::DayTableOutOfRange`].
    ///
    /// Generic over the capacities (name them, `Calendar::<..>::new_sized`, or let them be
    /// inferred from where the result goes); [`Calendar::new`] is this at the default ones.
    pub fn new_sized(seasons: &[Season], day_tables: &[DayTable<P>]) -> Result<Self, TariffError> {
        if seasons.is_empty() {
            return Err(TariffError::NoSeasons);
        }
        if day_tables.is_empty() {
            return Err(TariffError::NoDayTables);
        }
        let seasons: Vec<Season, S> =
            Vec::from_slice(seasons).map_err(|_| TariffError::CapacityExceeded)?;
        let day_tables: Vec<DayTable<P>, D> =
            Vec::from_slice(day_tables).map_err(|_| TariffError::CapacityExceeded)?;
        let mut prev: Option<MonthDay> = None;
        for s in &seasons {
            if !s.start.is_valid() {
                return Err(TariffError::InvalidDate);
            }
            if let Some(prev) = prev {
                if s.start == prev {
                    return Err(TariffError::DuplicateSeason);
                }
                if s.start < prev {
                    return Err(TariffError::UnsortedSeasons);
                }
            }
            prev = Some(s.start);
            if s.week
                .0
                .iter()
                .any(|&t| t == 0 || usize::from(t) > day_tables.len())
            {
                return Err(TariffError::DayTableOutOfRange);
            }
        }
        Ok(Calendar {
            seasons,
            day_tables,
        })
    }

    /// The seasons, in increasing order of start date (never empty).
    pub fn seasons(&self) -> &[Season] {
        &self.seasons
    }

    /// The day tables (never empty).
    pub fn day_tables(&self) -> &[DayTable<P>] {
        &self.day_tables
    }

    /// The season in effect on `date`.
    pub fn season_on(&self, date: Date) -> &Season {
        let md = MonthDay::of(date);
        let after = self.seasons.partition_point(|s| s.start <= md);
        let idx = if after == 0 {
            self.seasons.len()
        } else {
            after
        };
        // Never empty, so `idx - 1` is in range; the fallback is unreachable.
        const FALLBACK: Season = Season {
            start: MonthDay::new(1, 1),
            week: WeekRule::uniform(1),
        };
        self.seasons.get(idx.wrapping_sub(1)).unwrap_or(&FALLBACK)
    }

    /// The day-table number the weekly rule gives for `date` (special days not considered).
    pub fn weekly_table_on(&self, date: Date) -> u8 {
        self.season_on(date).week.table_for(date.weekday())
    }

    /// The day table with number `number` (from 1).
    pub(crate) fn table(&self, number: u8) -> Option<&DayTable<P>> {
        self.day_tables.get(usize::from(number.checked_sub(1)?))
    }
}

#[cfg(feature = "serde")]
pub(crate) mod serde_raw {
    use super::*;

    #[derive(serde::Deserialize)]
    pub struct DayTableRaw<const P: usize> {
        points: Vec<SwitchPoint, P>,
    }

    impl<const P: usize> TryFrom<DayTableRaw<P>> for DayTable<P> {
        type Error = TariffError;
        fn try_from(r: DayTableRaw<P>) -> Result<Self, TariffError> {
            DayTable::new_sized(&r.points)
        }
    }

    #[derive(serde::Deserialize)]
    pub struct CalendarRaw<const S: usize, const D: usize, const P: usize> {
        seasons: Vec<Season, S>,
        day_tables: Vec<DayTable<P>, D>,
    }

    impl<const S: usize, const D: usize, const P: usize> TryFrom<CalendarRaw<S, D, P>>
        for Calendar<S, D, P>
    {
        type Error = TariffError;
        fn try_from(r: CalendarRaw<S, D, P>) -> Result<Self, TariffError> {
            Calendar::new_sized(&r.seasons, &r.day_tables)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn table(points: &[(u8, u8, u8)]) -> Result<DayTable, TariffError> {
        let v: std::vec::Vec<SwitchPoint> = points
            .iter()
            .map(|&(h, m, t)| SwitchPoint::new(h, m, t))
            .collect();
        DayTable::new(&v)
    }

    #[test]
    fn day_table_validation() {
        assert_eq!(table(&[]), Err(TariffError::EmptyDayTable));
        assert_eq!(table(&[(24, 0, 0)]), Err(TariffError::InvalidTimeOfDay));
        assert_eq!(table(&[(1, 60, 0)]), Err(TariffError::InvalidTimeOfDay));
        assert_eq!(
            table(&[(8, 0, 0), (8, 0, 1)]),
            Err(TariffError::DuplicateSwitchPoint)
        );
        assert_eq!(
            table(&[(8, 0, 0), (7, 59, 1)]),
            Err(TariffError::UnsortedSwitchPoints)
        );
        let many = [(0u8, 0u8, 0u8); 15];
        let many: std::vec::Vec<_> = many
            .iter()
            .enumerate()
            .map(|(i, _)| (i as u8, 0, 0))
            .collect();
        assert_eq!(table(&many), Err(TariffError::CapacityExceeded));
    }

    #[test]
    fn day_table_lookup_wraps_and_reports_next_switch() {
        let t = table(&[(6, 30, 1), (12, 0, 2), (23, 0, 3)]).unwrap();
        assert_eq!(t.lookup(0), (3, 6 * 3600 + 1800));
        assert_eq!(t.lookup(6 * 3600 + 1799), (3, 6 * 3600 + 1800));
        assert_eq!(t.lookup(6 * 3600 + 1800), (1, 12 * 3600));
        assert_eq!(t.lookup(23 * 3600), (3, 86_400));
        assert_eq!(t.lookup(86_399), (3, 86_400));
        assert!(t.tariffs_within(3));
        assert!(!t.tariffs_within(2));
        assert!(!table(&[(0, 0, 0)]).unwrap().tariffs_within(4));
    }

    #[test]
    fn seasons_wrap_around_new_year() {
        let w = |t| WeekRule::uniform(t);
        let tables = [table(&[(0, 0, 1)]).unwrap(), table(&[(0, 0, 2)]).unwrap()];
        let cal = Calendar::new(
            &[
                Season {
                    start: MonthDay::new(3, 1),
                    week: w(1),
                },
                Season {
                    start: MonthDay::new(11, 15),
                    week: w(2),
                },
            ],
            &tables,
        )
        .unwrap();
        let d = |y, m, dd| Date::new(y, m, dd).unwrap();
        assert_eq!(cal.weekly_table_on(d(2024, 1, 1)), 2);
        assert_eq!(cal.weekly_table_on(d(2024, 2, 29)), 2);
        assert_eq!(cal.weekly_table_on(d(2024, 3, 1)), 1);
        assert_eq!(cal.weekly_table_on(d(2024, 11, 14)), 1);
        assert_eq!(cal.weekly_table_on(d(2024, 11, 15)), 2);
        assert_eq!(cal.table(0), None);
        assert!(cal.table(2).is_some());
        assert_eq!(cal.table(3), None);
    }

    #[test]
    fn calendar_validation() {
        let tables = [table(&[(0, 0, 1)]).unwrap()];
        let s = |m, d, t| Season {
            start: MonthDay::new(m, d),
            week: WeekRule::uniform(t),
        };
        let c = |seasons: &[Season]| Calendar::new(seasons, &tables).map(|_| ());
        assert_eq!(c(&[]), Err(TariffError::NoSeasons));
        assert_eq!(c(&[s(2, 30, 1)]), Err(TariffError::InvalidDate));
        assert_eq!(c(&[s(13, 1, 1)]), Err(TariffError::InvalidDate));
        assert_eq!(c(&[s(2, 29, 1)]), Ok(()));
        assert_eq!(
            c(&[s(3, 1, 1), s(3, 1, 1)]),
            Err(TariffError::DuplicateSeason)
        );
        assert_eq!(
            c(&[s(3, 1, 1), s(1, 1, 1)]),
            Err(TariffError::UnsortedSeasons)
        );
        assert_eq!(c(&[s(3, 1, 2)]), Err(TariffError::DayTableOutOfRange));
        assert_eq!(c(&[s(3, 1, 0)]), Err(TariffError::DayTableOutOfRange));
        assert_eq!(
            Calendar::new(&[s(1, 1, 1)], &[]).map(|_| ()),
            Err(TariffError::NoDayTables)
        );
    }

    #[test]
    fn week_rule_rest_days() {
        let w = WeekRule::with_rest_days(1, 2, &[Weekday::Saturday, Weekday::Sunday]);
        assert_eq!(w.0, [1, 1, 1, 1, 1, 2, 2]);
        assert_eq!(w.table_for(Weekday::Sunday), 2);
    }

    #[test]
    fn special_date_order_and_validity() {
        let every = SpecialDate::every_year(5, 1);
        let once = SpecialDate::once(Date::new(2024, 5, 1).unwrap());
        assert!(every < once);
        assert!(once < SpecialDate::every_year(5, 2));
        assert!(SpecialDate::every_year(2, 29).is_valid());
        assert!(
            !SpecialDate {
                month: 2,
                day: 29,
                year: Some(2023)
            }
            .is_valid()
        );
        assert!(!SpecialDate::every_year(4, 31).is_valid());
    }
}
