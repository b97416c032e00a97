//! Tariff sets (calendar, TOU prices, tiers) and the tariff: active set, passive set with its
//! switch instant, special days, UTC offset.

use heapless::Vec;

use super::{
    Calendar, MAX_EFFECTIVE_PRICE, MAX_TARIFFS, RateError, SpecialDate, SpecialDay, TariffError,
    Tiers,
};
use super::{
    DEFAULT_DAY_TABLES, DEFAULT_SEASONS, DEFAULT_SPECIAL_DAYS, DEFAULT_SWITCH_POINTS,
    DEFAULT_TARIFFS,
};
use crate::time::{Date, DateTime, Timestamp, UtcOffset};
use crate::units::Price;

/// One tariff set: a TOU calendar, a price per tariff, and a tier table.
///
/// Capacities: `S` seasons, `D` day tables, `P` switch points per day table, `T` tariffs
/// (at most [`MAX_TARIFFS`] are used). The defaults meet DL/T 645: [`DEFAULT_SEASONS`],
/// [`DEFAULT_DAY_TABLES`], [`DEFAULT_SWITCH_POINTS`], [`DEFAULT_TARIFFS`].
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
#[cfg_attr(
    feature = "serde",
    serde(try_from = "serde_raw::TariffSetRaw<S, D, P, T>")
)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub struct TariffSet<
    const S: usize = DEFAULT_SEASONS,
    const D: usize = DEFAULT_DAY_TABLES,
    const P: usize = DEFAULT_SWITCH_POINTS,
    const T: usize = DEFAULT_TARIFFS,
> {
    calendar: Calendar<S, D, P>,
    prices: Vec<Price, T>,
    tiers: Tiers,
}

impl TariffSet {
    /// [`TariffSet::new_sized`] at the default capacities, so that a call needs no type
    /// annotations; see it for the details and the errors.
    pub fn new(calendar: Calendar, prices: &[Price], tiers: Tiers) -> Result<Self, TariffError> {
        Self::new_sized(calendar, prices, tiers)
    }
}

impl<const S: usize, const D: usize, const P: usize, const T: usize> TariffSet<S, D, P, T> {
    /// A validated tariff set; `prices[n - 1]` is the TOU price of tariff number `n`.
    ///
    /// Errors: [`TariffError::NoPrices`], [`TariffError::TooManyTariffs`],
    /// [`TariffError::CapacityExceeded`], [`TariffError::TariffNumberOutOfRange`] (a switch point
    /// selects tariff 0 or a number without a price), [`TariffError::PriceOverflow`] (highest TOU price
    /// plus highest tier price above [`MAX_EFFECTIVE_PRICE`]).
    ///
    /// Generic over the capacities (name them, `TariffSet::<..>::new_sized`, or let them be
    /// inferred from where the result goes); [`TariffSet::new`] is this at the default ones.
    pub fn new_sized(
        calendar: Calendar<S, D, P>,
        prices: &[Price],
        tiers: Tiers,
    ) -> Result<Self, TariffError> {
        if prices.is_empty() {
            return Err(TariffError::NoPrices);
        }
        if prices.len() > MAX_TARIFFS {
            return Err(TariffError::TooManyTariffs);
        }
        let prices: Vec<Price, T> =
            Vec::from_slice(prices).map_err(|_| TariffError::CapacityExceeded)?;
        for table in calendar.day_tables() {
            if !table.tariffs_within(prices.len()) {
                return Err(TariffError::TariffNumberOutOfRange);
            }
        }
        let max_tou = prices.iter().copied().max().unwrap_or(Price::ZERO);
        match max_tou.checked_add(tiers.max_price()) {
            Some(p) if p <= MAX_EFFECTIVE_PRICE => {}
            _ => return Err(TariffError::PriceOverflow),
        }
        Ok(TariffSet {
            calendar,
            prices,
            tiers,
        })
    }

    /// The calendar.
    pub fn calendar(&self) -> &Calendar<S, D, P> {
        &self.calendar
    }

    /// The TOU price per tariff number, tariff 1 first (never empty).
    pub fn prices(&self) -> &[Price] {
        &self.prices
    }

    /// The tier table.
    pub fn tiers(&self) -> &Tiers {
        &self.tiers
    }

    /// The TOU price of tariff number `tariff` (zero for a number without a price, which a
    /// validated calendar never selects).
    pub fn price(&self, tariff: u8) -> Price {
        tariff
            .checked_sub(1)
            .and_then(|i| self.prices.get(usize::from(i)))
            .copied()
            .unwrap_or(Price::ZERO)
    }
}

/// Which of the two tariff sets applies.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub enum SetId {
    /// The active set (DL/T 645 当前套).
    Active,
    /// The passive set (DL/T 645 备用套), in effect from its switch instant on.
    Passive,
}

/// A passive tariff set and the instant it takes effect.
///
/// The switch takes effect exactly at `switch_at` for the calendar, the TOU prices and the
/// tiers alike. The consumption since the last settlement carries over the switch (it is not
/// reset); from the switch on, the passive set's thresholds, tier prices and settlement rule
/// apply to it.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub struct Passive<
    const S: usize = DEFAULT_SEASONS,
    const D: usize = DEFAULT_DAY_TABLES,
    const P: usize = DEFAULT_SWITCH_POINTS,
    const T: usize = DEFAULT_TARIFFS,
> {
    /// The set.
    pub set: TariffSet<S, D, P, T>,
    /// From this instant on (inclusive) the passive set applies instead of the active one.
    pub switch_at: Timestamp,
}

/// What applies at one instant: the result of [`Tariff::slot_at`].
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub struct Slot {
    /// The tariff set in effect.
    pub set: SetId,
    /// The number (from 1) of the day table in effect.
    pub day_table: u8,
    /// The tariff number (from 1) in effect.
    pub tariff: u8,
    /// The TOU price of that tariff (without the tier price).
    pub price: Price,
    /// The next instant at which rating may change for a reason other than consumption: a
    /// switch point, local midnight, the passive switch or a tier settlement. Until then (not
    /// inclusive) the set, the tariff number and the tier period stay as they are.
    pub valid_until: Timestamp,
}

/// A complete tariff: the active set, an optional passive set with its switch instant, the
/// special days (shared by both sets, as in DL/T 645 and DLMS), and the UTC offset of the
/// local time the calendar is written in.
///
/// Special days must be given in increasing [`SpecialDate`] order without duplicates, and
/// their day tables must exist in both sets. `H` is the special-day capacity (default
/// [`DEFAULT_SPECIAL_DAYS`], the DL/T 645 maximum).
///
/// ```
/// use prepaid_meter::tariff::*;
/// use prepaid_meter::time::{Timestamp, UtcOffset};
/// use prepaid_meter::units::{Energy, Price};
/// let day = DayTable::new(&[SwitchPoint::new(8, 0, 1), SwitchPoint::new(22, 0, 2)]).unwrap();
/// let calendar = Calendar::new(
///     &[Season { start: MonthDay::new(1, 1), week: WeekRule::uniform(1) }],
///     &[day],
/// ).unwrap();
/// let prices = [Price::from_minor_per_kwh(6_000), Price::from_minor_per_kwh(3_000)];
/// let set = TariffSet::new(calendar, &prices, Tiers::none()).unwrap();
/// let tariff = Tariff::new(UtcOffset::CHINA, &[], set).unwrap();
/// // 2024-01-01 09:00 at UTC+8
/// let slot = tariff.slot_at(Timestamp::from_unix(1_704_070_800)).unwrap();
/// assert_eq!((slot.tariff, slot.price), (1, Price::from_minor_per_kwh(6_000)));
/// assert_eq!(slot.valid_until, Timestamp::from_unix(1_704_070_800 + 13 * 3600)); // 22:00
/// ```
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
#[cfg_attr(
    feature = "serde",
    serde(try_from = "serde_raw::TariffRaw<S, D, P, T, H>")
)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub struct Tariff<
    const S: usize = DEFAULT_SEASONS,
    const D: usize = DEFAULT_DAY_TABLES,
    const P: usize = DEFAULT_SWITCH_POINTS,
    const T: usize = DEFAULT_TARIFFS,
    const H: usize = DEFAULT_SPECIAL_DAYS,
> {
    offset: UtcOffset,
    special_days: Vec<SpecialDay, H>,
    active: TariffSet<S, D, P, T>,
    passive: Option<Passive<S, D, P, T>>,
}

impl Tariff {
    /// [`Tariff::new_sized`] at the default capacities, so that a call needs no type
    /// annotations; see it for the details and the errors.
    pub fn new(
        offset: UtcOffset,
        special_days: &[SpecialDay],
        active: TariffSet,
    ) -> Result<Self, TariffError> {
        Self::new_sized(offset, special_days, active)
    }
}

impl<const S: usize, const D: usize, const P: usize, const T: usize, const H: usize>
    Tariff<S, D, P, T, H>
{
    /// A validated tariff with only an active set.
    ///
    /// Errors: [`TariffError::CapacityExceeded`], [`TariffError::InvalidDate`],
    /// [`TariffError::UnsortedSpecialDays`], [`TariffError::DuplicateSpecialDay`],
    /// [`TariffError::DayTableOutOfRange`].
    ///
    /// Generic over the capacities (name them, `Tariff::<..>::new_sized`, or let them be
    /// inferred from where the result goes); [`Tariff::new`] is this at the default ones.
    pub fn new_sized(
        offset: UtcOffset,
        special_days: &[SpecialDay],
        active: TariffSet<S, D, P, T>,
    ) -> Result<Self, TariffError> {
        let special_days: Vec<SpecialDay, H> =
            Vec::from_slice(special_days).map_err(|_| TariffError::CapacityExceeded)?;
        let mut prev: Option<SpecialDate> = None;
        for d in &special_days {
            if !d.date.is_valid() {
                return Err(TariffError::InvalidDate);
            }
            if let Some(p) = prev {
                if d.date == p {
                    return Err(TariffError::DuplicateSpecialDay);
                }
                if d.date < p {
                    return Err(TariffError::UnsortedSpecialDays);
                }
            }
            prev = Some(d.date);
        }
        check_special_tables(&special_days, &active)?;
        Ok(Tariff {
            offset,
            special_days,
            active,
            passive: None,
        })
    }

    /// Sets (or replaces) the passive set, effective from `switch_at` on.
    ///
    /// Error: [`TariffError::DayTableOutOfRange`] if a special day selects a day table the set
    /// does not have; the tariff is then unchanged.
    pub fn set_passive(
        &mut self,
        set: TariffSet<S, D, P, T>,
        switch_at: Timestamp,
    ) -> Result<(), TariffError> {
        check_special_tables(&self.special_days, &set)?;
        self.passive = Some(Passive { set, switch_at });
        Ok(())
    }

    /// Replaces the active set (a price or a table rewritten by a parameter write), checked
    /// against the special days as [`Tariff::new_sized`] checks it; the passive set, if any, is
    /// kept. Error: [`TariffError::DayTableOutOfRange`] if a special day selects a day table
    /// the set does not have; the tariff is then unchanged.
    pub(crate) fn replace_active(&mut self, set: TariffSet<S, D, P, T>) -> Result<(), TariffError> {
        check_special_tables(&self.special_days, &set)?;
        self.active = set;
        Ok(())
    }

    /// Removes the passive set, if any, and returns it.
    pub fn clear_passive(&mut self) -> Option<Passive<S, D, P, T>> {
        self.passive.take()
    }

    /// Makes the passive set active if its switch instant is at or before `now`, freeing the
    /// passive slot for the next tariff (what a meter does at the switch). Returns `true` if
    /// it did. Rating at instants from `now` on is the same before and after.
    pub fn activate_due(&mut self, now: Timestamp) -> bool {
        match self.passive.take() {
            Some(p) if p.switch_at <= now => {
                self.active = p.set;
                true
            }
            other => {
                self.passive = other;
                false
            }
        }
    }

    /// The UTC offset of the calendar's local time.
    pub fn offset(&self) -> UtcOffset {
        self.offset
    }

    /// The special days, in increasing date order.
    pub fn special_days(&self) -> &[SpecialDay] {
        &self.special_days
    }

    /// The active set.
    pub fn active(&self) -> &TariffSet<S, D, P, T> {
        &self.active
    }

    /// The passive set and its switch instant, if any.
    pub fn passive(&self) -> Option<&Passive<S, D, P, T>> {
        self.passive.as_ref()
    }

    /// The set in effect at `at`.
    pub fn set_at(&self, at: Timestamp) -> (SetId, &TariffSet<S, D, P, T>) {
        match &self.passive {
            Some(p) if at >= p.switch_at => (SetId::Passive, &p.set),
            _ => (SetId::Active, &self.active),
        }
    }

    /// The set called `id` (the active set if there is no passive one).
    pub fn set(&self, id: SetId) -> &TariffSet<S, D, P, T> {
        match (&self.passive, id) {
            (Some(p), SetId::Passive) => &p.set,
            _ => &self.active,
        }
    }

    /// The day-table number the special days select for `date`, if any.
    pub fn special_table_on(&self, date: Date) -> Option<u8> {
        let find = |year: Option<u16>| {
            let key = SpecialDate {
                month: date.month(),
                day: date.day(),
                year,
            };
            self.special_days
                .binary_search_by(|d| d.date.cmp(&key))
                .ok()
                .and_then(|i| self.special_days.get(i))
                .map(|d| d.day_table)
        };
        find(Some(date.year())).or_else(|| find(None))
    }

    /// What applies at `at`: set, day table, tariff number, TOU price, and how long it lasts.
    ///
    /// Error: [`RateError::TimeOutOfRange`] if the local date is outside 1970..=9999.
    pub fn slot_at(&self, at: Timestamp) -> Result<Slot, RateError> {
        let local =
            DateTime::from_timestamp(at, self.offset).map_err(|_| RateError::TimeOutOfRange)?;
        let (set_id, set) = self.set_at(at);
        let date = local.date;
        let secs = local.time.seconds_since_midnight();
        let day_table = self
            .special_table_on(date)
            .unwrap_or_else(|| set.calendar.weekly_table_on(date));
        let (tariff, mut next) = set
            .calendar
            .table(day_table)
            .map_or((0, 86_400), |t| t.lookup(secs));
        if let Some(s) = set.tiers.settlement().later_today(date, secs) {
            next = next.min(s);
        }
        let mut valid_until = at
            .checked_add_secs(i64::from(next - secs))
            .ok_or(RateError::TimeOutOfRange)?;
        if let Some(p) = &self.passive
            && at < p.switch_at
            && p.switch_at < valid_until
        {
            valid_until = p.switch_at;
        }
        Ok(Slot {
            set: set_id,
            day_table,
            tariff,
            price: set.price(tariff),
            valid_until,
        })
    }

    /// The first tier settlement instant strictly after `after`, under the settlement rule of
    /// the set in effect at each instant; `None` if there is none in the supported calendar.
    pub fn next_settlement_after(&self, after: Timestamp) -> Option<Timestamp> {
        let next_by = |set: &TariffSet<S, D, P, T>, t: Timestamp| {
            let local = DateTime::from_timestamp(t, self.offset).ok()?;
            let next = set.tiers.settlement().next_after(local)?;
            Some(next.to_timestamp(self.offset))
        };
        match &self.passive {
            Some(p) if after < p.switch_at => {
                if let Some(s) = next_by(&self.active, after)
                    && s < p.switch_at
                {
                    return Some(s);
                }
                // The passive rule's first settlement at or after the switch.
                next_by(&p.set, p.switch_at.checked_add_secs(-1)?)
            }
            _ => next_by(self.set_at(after).1, after),
        }
    }

    /// `true` if a tier settlement instant lies in `(after, upto]`.
    pub(crate) fn settles_between(&self, after: Timestamp, upto: Timestamp) -> bool {
        if upto <= after {
            return false;
        }
        // Settlements fall on whole local hours: none strictly inside one local hour.
        let hour = |t: Timestamp| {
            t.unix()
                .checked_add(i64::from(self.offset.seconds()))
                .map(|l| l.div_euclid(3600))
        };
        if let (Some(a), Some(b)) = (hour(after), hour(upto))
            && a == b
        {
            return false;
        }
        self.next_settlement_after(after).is_some_and(|s| s <= upto)
    }
}

fn check_special_tables<const S: usize, const D: usize, const P: usize, const T: usize>(
    days: &[SpecialDay],
    set: &TariffSet<S, D, P, T>,
) -> Result<(), TariffError> {
    let n = set.calendar.day_tables().len();
    if days
        .iter()
        .any(|d| d.day_table == 0 || usize::from(d.day_table) > n)
    {
        return Err(TariffError::DayTableOutOfRange);
    }
    Ok(())
}

#[cfg(feature = "serde")]
mod serde_raw {
    use super::*;

    #[derive(serde::Deserialize)]
    pub struct TariffSetRaw<const S: usize, const D: usize, const P: usize, const T: usize> {
        calendar: Calendar<S, D, P>,
        prices: Vec<Price, T>,
        tiers: Tiers,
    }

    impl<const S: usize, const D: usize, const P: usize, const T: usize>
        TryFrom<TariffSetRaw<S, D, P, T>> for TariffSet<S, D, P, T>
    {
        type Error = TariffError;
        fn try_from(r: TariffSetRaw<S, D, P, T>) -> Result<Self, TariffError> {
            TariffSet::new_sized(r.calendar, &r.prices, r.tiers)
        }
    }

    #[derive(serde::Deserialize)]
    pub struct TariffRaw<
        const S: usize,
        const D: usize,
        const P: usize,
        const T: usize,
        const H: usize,
    > {
        offset: UtcOffset,
        special_days: Vec<SpecialDay, H>,
        active: TariffSet<S, D, P, T>,
        passive: Option<Passive<S, D, P, T>>,
    }

    impl<const S: usize, const D: usize, const P: usize, const T: usize, const H: usize>
        TryFrom<TariffRaw<S, D, P, T, H>> for Tariff<S, D, P, T, H>
    {
        type Error = TariffError;
        fn try_from(r: TariffRaw<S, D, P, T, H>) -> Result<Self, TariffError> {
            let mut t = Tariff::new_sized(r.offset, &r.special_days, r.active)?;
            if let Some(p) = r.passive {
                t.set_passive(p.set, p.switch_at)?;
            }
            Ok(t)
        }
    }
}
