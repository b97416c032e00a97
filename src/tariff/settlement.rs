//! Settlement instants: the monthly settlement day (one definition, used by the tier tables and
//! by the settlement-day freezes) and the yearly settlement dates.

use heapless::Vec;

use super::TariffError;
use crate::snapshot::{Field, Reader, SnapshotError, Writer};
use crate::time::{Date, DateTime, Time, days_in_month};

/// The most yearly settlement dates (DL/T 645: 6 year settlement days).
pub const MAX_SETTLEMENT_DATES: usize = 6;

/// The monthly settlement day and hour (DL/T 645 `04000B01`, `DDhh`, mode byte 0x00): every
/// month on `day` (1..=28) at `hour`:00 local time.
///
/// `day` is limited to 1..=28, as in DL/T 645, so that every month has the day: there is no
/// "31st in a 30-day month" case to define. This one type is the monthly rule of a tier table
/// ([`Settlement::Monthly`]) and the settlement-day freeze rule of
/// [`freeze::Schedule`](crate::freeze::Schedule); [`SettlementDay::next_after`] and
/// [`SettlementDay::latest_at_or_before`] are the one boundary calculation both use.
///
/// A boundary instant belongs to the period it starts.
///
/// Binary form ([`Field`]): day, hour, one byte each (a day or hour out of range is refused).
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
    type Error = TariffError;
    fn try_from(f: SettlementDayFields) -> Result<Self, TariffError> {
        SettlementDay::new(f.day, f.hour)
    }
}

impl Default for SettlementDay {
    fn default() -> Self {
        SettlementDay::FIRST_OF_MONTH
    }
}

impl SettlementDay {
    /// The first of the month at 00:00, the usual default.
    pub const FIRST_OF_MONTH: SettlementDay = SettlementDay { day: 1, hour: 0 };

    /// A settlement day `day` (1..=28) at `hour` (0..=23) local time.
    ///
    /// Error: [`TariffError::InvalidSettlement`] for a day or hour out of range.
    ///
    /// ```
    /// use prepaid_meter::tariff::{SettlementDay, TariffError};
    /// assert_eq!(SettlementDay::new(28, 23).map(|d| (d.day(), d.hour())), Ok((28, 23)));
    /// assert_eq!(SettlementDay::new(29, 0), Err(TariffError::InvalidSettlement));
    /// assert_eq!(SettlementDay::new(1, 24), Err(TariffError::InvalidSettlement));
    /// ```
    pub const fn new(day: u8, hour: u8) -> Result<SettlementDay, TariffError> {
        if day < 1 || day > 28 || hour > 23 {
            return Err(TariffError::InvalidSettlement);
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

    /// The boundary in month `index` (months since January of year 0: `year × 12 + month - 1`),
    /// or `None` outside the supported calendar.
    pub(crate) fn boundary(self, index: i64) -> Option<DateTime> {
        let year = u16::try_from(index.div_euclid(12)).ok()?;
        let month = u8::try_from(index.rem_euclid(12) + 1).ok()?;
        let date = Date::new(year, month, self.day).ok()?;
        let time = Time::new(self.hour, 0, 0).ok()?;
        Some(DateTime::new(date, time))
    }

    /// The month index (see [`SettlementDay::boundary`]) of the latest boundary at or before
    /// `now`.
    pub(crate) fn latest_index(self, now: DateTime) -> i64 {
        let m = i64::from(now.date.year()) * 12 + i64::from(now.date.month()) - 1;
        match self.boundary(m) {
            Some(b) if b <= now => m,
            _ => m - 1,
        }
    }

    /// The latest boundary at or before `now` (local time), or `None` before the calendar.
    pub fn latest_at_or_before(self, now: DateTime) -> Option<DateTime> {
        self.boundary(self.latest_index(now))
    }

    /// The first boundary strictly after `now` (local time), or `None` past 9999.
    pub fn next_after(self, now: DateTime) -> Option<DateTime> {
        self.boundary(self.latest_index(now).checked_add(1)?)
    }

    /// The boundary on `date` strictly after `secs` seconds past midnight, in seconds past
    /// midnight.
    pub(crate) fn later_on(self, date: Date, secs: u32) -> Option<u32> {
        let at = u32::from(self.hour) * 3600;
        (date.day() == self.day && at > secs).then_some(at)
    }
}

impl Field for SettlementDay {
    fn write_to(&self, w: &mut Writer<'_>) -> Result<(), SnapshotError> {
        w.put(&[self.day, self.hour])
    }
    fn read_from(r: &mut Reader<'_>) -> Result<Self, SnapshotError> {
        let [day, hour] = r.array()?;
        SettlementDay::new(day, hour).map_err(|_| SnapshotError::InvalidField)
    }
}

/// A yearly settlement instant: `month`-`day` at `hour`:00 local time.
///
/// Ordered by month, day, hour. The date must exist in every year (so February 29 is refused).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub struct SettlementDate {
    /// Month, 1..=12.
    pub month: u8,
    /// Day of the month; must exist in every year.
    pub day: u8,
    /// Hour, 0..=23.
    pub hour: u8,
}

/// When the cumulative consumption of the tiers is reset to zero (结算).
///
/// A settlement instant belongs to the new period: consumption rated at exactly that instant
/// counts toward the new period's tiers.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub enum Settlement {
    /// Every month on the settlement day (DL/T 645 每月结算日 `DDhh`, mode byte 0x00).
    Monthly(SettlementDay),
    /// On each of up to six dates every year (DL/T 645 year settlement days, mode byte 0x55),
    /// in increasing order.
    Yearly(Vec<SettlementDate, MAX_SETTLEMENT_DATES>),
}

impl Settlement {
    /// A monthly settlement on `day` (1..=28) at `hour` (0..=23).
    ///
    /// Error: [`TariffError::InvalidSettlement`], as [`SettlementDay::new`].
    pub const fn monthly(day: u8, hour: u8) -> Result<Settlement, TariffError> {
        match SettlementDay::new(day, hour) {
            Ok(d) => Ok(Settlement::Monthly(d)),
            Err(e) => Err(e),
        }
    }

    /// A yearly settlement on `dates` (validated by [`Tiers::new`](super::Tiers::new)).
    ///
    /// Error: [`TariffError::CapacityExceeded`] for more than six dates.
    pub fn yearly(dates: &[SettlementDate]) -> Result<Settlement, TariffError> {
        Vec::from_slice(dates)
            .map(Settlement::Yearly)
            .map_err(|_| TariffError::CapacityExceeded)
    }

    pub(crate) fn validate(&self) -> Result<(), TariffError> {
        match self {
            // Validated by its constructor.
            Settlement::Monthly(_) => {}
            Settlement::Yearly(dates) => {
                if dates.is_empty() {
                    return Err(TariffError::NoSettlementDates);
                }
                let mut prev: Option<SettlementDate> = None;
                for d in dates {
                    // 2001 is a common year: the shortest length of every month.
                    if d.day < 1 || d.day > days_in_month(2001, d.month) || d.hour > 23 {
                        return Err(TariffError::InvalidSettlement);
                    }
                    if let Some(p) = prev {
                        if *d == p {
                            return Err(TariffError::DuplicateSettlementDate);
                        }
                        if *d < p {
                            return Err(TariffError::UnsortedSettlementDates);
                        }
                    }
                    prev = Some(*d);
                }
            }
        }
        Ok(())
    }

    /// The first settlement instant strictly after `now` (local time), or `None` past 9999.
    pub fn next_after(&self, now: DateTime) -> Option<DateTime> {
        match self {
            Settlement::Monthly(day) => day.next_after(now),
            Settlement::Yearly(dates) => {
                let at = |y: u16, d: &SettlementDate| -> Option<DateTime> {
                    let date = Date::new(y, d.month, d.day).ok()?;
                    let time = Time::new(d.hour, 0, 0).ok()?;
                    Some(DateTime::new(date, time))
                };
                let y = now.date.year();
                for d in dates {
                    let c = at(y, d)?;
                    if c > now {
                        return Some(c);
                    }
                }
                at(y.checked_add(1)?, dates.first()?)
            }
        }
    }

    /// The first settlement on `date` strictly after `secs` seconds past midnight, in seconds
    /// past midnight.
    pub(crate) fn later_today(&self, date: Date, secs: u32) -> Option<u32> {
        match self {
            Settlement::Monthly(day) => day.later_on(date, secs),
            Settlement::Yearly(dates) => dates
                .iter()
                .find(|d| {
                    d.month == date.month()
                        && date.day() == d.day
                        && u32::from(d.hour) * 3600 > secs
                })
                .map(|d| u32::from(d.hour) * 3600),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn dt(y: u16, m: u8, d: u8, h: u8, mi: u8) -> DateTime {
        DateTime::new(Date::new(y, m, d).unwrap(), Time::new(h, mi, 0).unwrap())
    }

    #[test]
    fn validation() {
        for (day, hour) in [(0, 0), (29, 0), (1, 24)] {
            assert_eq!(
                SettlementDay::new(day, hour),
                Err(TariffError::InvalidSettlement)
            );
            assert_eq!(
                Settlement::monthly(day, hour),
                Err(TariffError::InvalidSettlement)
            );
        }
        assert_eq!(SettlementDay::default(), SettlementDay::FIRST_OF_MONTH);
        assert!(TariffError::InvalidSettlement.to_string().contains("day"));
    }

    #[test]
    fn next_settlement() {
        let m = Settlement::monthly(28, 12).unwrap();
        assert_eq!(
            m.next_after(dt(2024, 2, 28, 11, 59)),
            Some(dt(2024, 2, 28, 12, 0))
        );
        assert_eq!(
            m.next_after(dt(2024, 2, 28, 12, 0)),
            Some(dt(2024, 3, 28, 12, 0))
        );
        assert_eq!(
            m.next_after(dt(2024, 12, 31, 0, 0)),
            Some(dt(2025, 1, 28, 12, 0))
        );
        assert_eq!(m.next_after(dt(9999, 12, 29, 0, 0)), None);
        let y = Settlement::yearly(&[
            SettlementDate {
                month: 1,
                day: 1,
                hour: 0,
            },
            SettlementDate {
                month: 7,
                day: 1,
                hour: 0,
            },
        ])
        .unwrap();
        assert_eq!(
            y.next_after(dt(2024, 1, 1, 0, 0)),
            Some(dt(2024, 7, 1, 0, 0))
        );
        assert_eq!(
            y.next_after(dt(2024, 7, 1, 0, 0)),
            Some(dt(2025, 1, 1, 0, 0))
        );
        let d = Date::new(2024, 3, 28).unwrap();
        assert_eq!(m.later_today(d, 0), Some(12 * 3600));
        assert_eq!(m.later_today(d, 12 * 3600), None);
        assert_eq!(y.later_today(Date::new(2024, 7, 1).unwrap(), 0), None);
    }

    #[test]
    fn latest_and_next_boundary_agree() {
        let day = SettlementDay::new(15, 12).unwrap();
        let b = dt(2024, 5, 15, 12, 0);
        assert_eq!(day.latest_at_or_before(b), Some(b));
        assert_eq!(
            day.latest_at_or_before(dt(2024, 5, 15, 11, 59)),
            Some(dt(2024, 4, 15, 12, 0))
        );
        assert_eq!(day.next_after(b), Some(dt(2024, 6, 15, 12, 0)));
        assert_eq!(day.next_after(dt(2024, 5, 15, 11, 59)), Some(b));
        // Before the first boundary of the calendar there is none.
        assert_eq!(
            SettlementDay::new(1, 1)
                .unwrap()
                .latest_at_or_before(dt(1970, 1, 1, 0, 0)),
            None
        );
    }

    #[test]
    fn binary_form_refuses_out_of_range_days() {
        let mut buf = [0u8; 2];
        let day = SettlementDay::new(28, 23).unwrap();
        day.write_to(&mut Writer::new(&mut buf)).unwrap();
        assert_eq!(buf, [28, 23]);
        assert_eq!(SettlementDay::read_from(&mut Reader::new(&buf, 1)), Ok(day));
        for bad in [[0u8, 0], [29, 0], [1, 24]] {
            assert_eq!(
                SettlementDay::read_from(&mut Reader::new(&bad, 1)),
                Err(SnapshotError::InvalidField)
            );
        }
    }
}
