//! Account configuration, validated once when an [`Account`](super::Account) is built or
//! reconfigured.

use core::fmt;

use heapless::Vec;

use super::credit::{self, Credit};
use crate::time::{Date, Timestamp, UtcOffset, Weekday};

/// Why a configuration was refused.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
#[non_exhaustive]
pub enum AccountConfigError {
    /// Alarm threshold 2 is below zero.
    NegativeAlarm,
    /// Alarm threshold 2 is above alarm threshold 1.
    AlarmsOutOfOrder,
    /// Alarm threshold 1 is at or above the hoarding limit, so it could never clear.
    AlarmAboveHoarding,
    /// The overdraft limit (a magnitude) is below zero.
    NegativeOverdraftLimit,
    /// The hoarding limit is zero or below.
    HoardingLimitNotPositive,
    /// The reconnect threshold is below zero.
    NegativeReconnectThreshold,
    /// The reconnect threshold is at or above the hoarding limit, so no recharge could allow
    /// reconnection.
    ReconnectAboveHoarding,
    /// The emergency credit amount is zero or below.
    EmergencyAmountNotPositive,
    /// The emergency credit threshold is below zero.
    NegativeEmergencyThreshold,
    /// Emergency credit taken at its threshold would exceed the hoarding limit.
    EmergencyAboveHoarding,
    /// The daily standing charge is below zero.
    NegativeStandingCharge,
    /// The daily standing charge is above [`MAX_STANDING_CHARGE`] (in the smallest unit).
    StandingChargeTooLarge,
    /// The debt recovery share is not 1..=100 percent.
    InvalidRecoveryShare,
    /// The debt recovery cap per period is zero or below.
    RecoveryCapNotPositive,
    /// The friendly hours mask has bits above hour 23.
    InvalidFriendlyHours,
    /// The friendly weekdays mask has bits above Sunday (bit 6).
    InvalidFriendlyWeekdays,
    /// More holidays than the calendar's capacity.
    TooManyHolidays,
    /// A reconfiguration whose hoarding limit lies below the balance (see
    /// [`Account::reconfigure`](super::Account::reconfigure)).
    HoardingBelowBalance,
}

impl fmt::Display for AccountConfigError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            AccountConfigError::NegativeAlarm => "alarm threshold 2 must not be negative",
            AccountConfigError::AlarmsOutOfOrder => {
                "alarm threshold 2 must not exceed alarm threshold 1"
            }
            AccountConfigError::AlarmAboveHoarding => {
                "alarm threshold 1 must be below the hoarding limit"
            }
            AccountConfigError::NegativeOverdraftLimit => {
                "the overdraft limit must not be negative"
            }
            AccountConfigError::HoardingLimitNotPositive => "the hoarding limit must be above zero",
            AccountConfigError::NegativeReconnectThreshold => {
                "the reconnect threshold must not be negative"
            }
            AccountConfigError::ReconnectAboveHoarding => {
                "the reconnect threshold must be below the hoarding limit"
            }
            AccountConfigError::EmergencyAmountNotPositive => {
                "the emergency credit amount must be above zero"
            }
            AccountConfigError::NegativeEmergencyThreshold => {
                "the emergency credit threshold must not be negative"
            }
            AccountConfigError::EmergencyAboveHoarding => {
                "emergency credit threshold plus amount must not exceed the hoarding limit"
            }
            AccountConfigError::NegativeStandingCharge => {
                "the standing charge must not be negative"
            }
            AccountConfigError::StandingChargeTooLarge => "the standing charge is too large",
            AccountConfigError::InvalidRecoveryShare => {
                "the debt recovery share must be 1..=100 percent"
            }
            AccountConfigError::RecoveryCapNotPositive => {
                "the debt recovery cap must be above zero"
            }
            AccountConfigError::InvalidFriendlyHours => "friendly hours use bits 0..=23 only",
            AccountConfigError::InvalidFriendlyWeekdays => "friendly weekdays use bits 0..=6 only",
            AccountConfigError::TooManyHolidays => "more holidays than the calendar holds",
            AccountConfigError::HoardingBelowBalance => {
                "the hoarding limit must not be below the balance"
            }
        })
    }
}

impl core::error::Error for AccountConfigError {}

/// The largest daily standing charge, in the smallest unit: `i64::MAX / 2^22`. With it, the
/// charge for every day of the supported calendar (fewer than 2^22 days) fits in an `i64`, so
/// catching up after any power cut cannot overflow.
pub const MAX_STANDING_CHARGE: i64 = i64::MAX >> 22;

/// The credit thresholds, as DL/T 645 parameters `04001001..05` (money) or `04000F01..04`
/// (energy) set them. All are amounts of the account's unit; the overdraft limit is a magnitude.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub struct Limits<U> {
    /// Alarm 1 (`04001001`): at or below it, the low-credit alarm 1 is on.
    pub alarm1: U,
    /// Alarm 2 (`04001002`): at or below it, alarm 2 is on and, if
    /// [`Config::low_credit_trip`] is set, the relay trips until the customer presses the button.
    pub alarm2: U,
    /// Overdraft limit (`04001003`), a magnitude: the balance may fall to `-overdraft`; at or
    /// below it credit is exhausted and the relay trips. Zero means trip at zero.
    pub overdraft: U,
    /// Hoarding limit (`04001004`): a recharge that would leave more credit is refused.
    pub hoarding: U,
    /// Reconnect threshold (`04001005`): after credit was exhausted, the relay may close again
    /// only once the balance is above it.
    pub reconnect: U,
}

impl<U: Credit> Limits<U> {
    /// Checks the ordering rules: `0 <= alarm2 <= alarm1 < hoarding`, `overdraft >= 0`,
    /// `0 <= reconnect < hoarding`.
    pub fn validate(&self) -> Result<(), AccountConfigError> {
        if credit::is_negative(self.alarm2) {
            return Err(AccountConfigError::NegativeAlarm);
        }
        if self.alarm2 > self.alarm1 {
            return Err(AccountConfigError::AlarmsOutOfOrder);
        }
        if credit::is_negative(self.overdraft) {
            return Err(AccountConfigError::NegativeOverdraftLimit);
        }
        if !credit::is_positive(self.hoarding) {
            return Err(AccountConfigError::HoardingLimitNotPositive);
        }
        if self.alarm1 >= self.hoarding {
            return Err(AccountConfigError::AlarmAboveHoarding);
        }
        if credit::is_negative(self.reconnect) {
            return Err(AccountConfigError::NegativeReconnectThreshold);
        }
        if self.reconnect >= self.hoarding {
            return Err(AccountConfigError::ReconnectAboveHoarding);
        }
        Ok(())
    }
}

/// Emergency credit: a preset amount the customer may take, once the balance is at or below the
/// threshold, and repays from the next recharges (DLMS Credit type 2 with the confirmation bit).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub struct EmergencyCredit<U> {
    /// The amount added to the balance when the customer confirms.
    pub amount: U,
    /// The balance at or below which emergency credit becomes available.
    pub threshold: U,
}

/// The period over which debt recovery is capped, in local time.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub enum RecoveryPeriod {
    /// A calendar day, from 00:00.
    Day,
    /// A week, from Monday 00:00.
    Week,
    /// A calendar month, from the 1st at 00:00.
    Month,
}

/// Debt recovery from recharges: a share of each recharge, at most `cap` per period (DLMS Charge
/// of type payment-event with `proportion`, capped by the Account's `max_provision` per
/// `max_provision_period`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub struct DebtRecovery<U> {
    /// The share of each recharge taken, in percent (1..=100), rounded down (the customer keeps
    /// the fraction).
    pub percent: u8,
    /// The most recovered in one period.
    pub cap: U,
    /// The period the cap applies to.
    pub period: RecoveryPeriod,
}

/// How the relay closes when the account itself lifts a trip (credit restored by a recharge or
/// emergency credit, keep-power switched on). Remote commands choose for themselves.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub enum ReconnectMode {
    /// Reconnection allowed: the relay stays open, ready, until the customer presses the button
    /// (DL/T 645 合闸允许, DLMS `ready_for_reconnection`). The usual and safer choice.
    Button,
    /// The relay closes at once (DL/T 645 直接合闸).
    Direct,
}

/// Who keeps the money (DL/T 645 §"本地费控" and "远程费控").
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub enum CostControl {
    /// Local cost control: the meter keeps the balance, raises the alarms and trips the relay.
    Local,
    /// Remote cost control: the head-end keeps the money; the account only executes relay,
    /// alarm and keep-power commands. Money operations are refused.
    Remote,
}

/// Default capacity of the friendly-period holiday list.
pub const DEFAULT_HOLIDAYS: usize = 16;

/// The non-disconnect ("friendly") calendar: hours of every day, whole weekdays and holiday
/// dates during which the relay is not tripped for lack of credit. Consumption is still charged
/// and the overdraft recorded; the trip happens when the period ends, if credit is still short.
///
/// ```
/// use prepaid_meter::account::FriendlyCalendar;
/// use prepaid_meter::time::{Date, DateTime, Time, UtcOffset};
///
/// // 20:00 to 08:00 every day, all of Saturday and Sunday, and New Year's Day.
/// let night = FriendlyCalendar::hours_from_to(20, 8);
/// let weekend = (1 << 5) | (1 << 6);
/// let cal = FriendlyCalendar::new(night, weekend, &[Date::new(2025, 1, 1).unwrap()]).unwrap();
/// let at = |d, h| DateTime::new(Date::new(2025, 1, d).unwrap(), Time::new(h, 0, 0).unwrap())
///     .to_timestamp(UtcOffset::CHINA);
/// assert!(cal.contains(at(1, 12), UtcOffset::CHINA)); // holiday
/// assert!(!cal.contains(at(2, 12), UtcOffset::CHINA)); // Thursday noon
/// assert!(cal.contains(at(2, 21), UtcOffset::CHINA)); // evening
/// assert!(cal.contains(at(4, 12), UtcOffset::CHINA)); // Saturday
/// ```
#[derive(Clone, Debug, PartialEq, Eq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub struct FriendlyCalendar<const H: usize = DEFAULT_HOLIDAYS> {
    hours: u32,
    weekdays: u8,
    /// Sorted, without duplicates.
    holidays: Vec<Date, H>,
}

impl<const H: usize> Default for FriendlyCalendar<H> {
    fn default() -> Self {
        FriendlyCalendar::NONE
    }
}

impl FriendlyCalendar {
    /// [`FriendlyCalendar::new_sized`] at the default capacities, so that a call needs no type
    /// annotations; see it for the details and the errors.
    pub fn new(hours: u32, weekdays: u8, holidays: &[Date]) -> Result<Self, AccountConfigError> {
        Self::new_sized(hours, weekdays, holidays)
    }

    /// The hours mask for the daily window from `start` o'clock up to (not including) `end`
    /// o'clock, wrapping past midnight when `end <= start` (`20, 8` is 20:00 to 08:00). Hours
    /// above 23 are taken modulo 24.
    pub const fn hours_from_to(start: u8, end: u8) -> u32 {
        let start = start % 24;
        let end = end % 24;
        let mut mask = 0u32;
        let mut h = start;
        loop {
            mask |= 1 << h;
            h = (h + 1) % 24;
            if h == end {
                break;
            }
        }
        mask
    }
}

impl<const H: usize> FriendlyCalendar<H> {
    /// No friendly periods at all.
    pub const NONE: FriendlyCalendar<H> = FriendlyCalendar {
        hours: 0,
        weekdays: 0,
        holidays: Vec::new(),
    };

    /// A calendar from an hours mask (bit `h` set: the hour `h:00..h:59` is friendly every day),
    /// a weekdays mask (bit 0 Monday .. bit 6 Sunday: the whole day is friendly) and holiday dates
    /// (whole days, in any order; duplicates are merged).
    ///
    /// Generic over the capacities (name them, `FriendlyCalendar::<..>::new_sized`, or let them be
    /// inferred from where the result goes); [`FriendlyCalendar::new`] is this at the default ones.
    pub fn new_sized(
        hours: u32,
        weekdays: u8,
        holidays: &[Date],
    ) -> Result<Self, AccountConfigError> {
        if hours >> 24 != 0 {
            return Err(AccountConfigError::InvalidFriendlyHours);
        }
        if weekdays >> 7 != 0 {
            return Err(AccountConfigError::InvalidFriendlyWeekdays);
        }
        let mut sorted: Vec<Date, H> =
            Vec::from_slice(holidays).map_err(|_| AccountConfigError::TooManyHolidays)?;
        sorted.sort_unstable();
        let mut list: Vec<Date, H> = Vec::new();
        for d in sorted {
            if list.last() != Some(&d) {
                // Never more than `sorted` held.
                list.push(d)
                    .map_err(|_| AccountConfigError::TooManyHolidays)?;
            }
        }
        Ok(FriendlyCalendar {
            hours,
            weekdays,
            holidays: list,
        })
    }

    /// The hours mask.
    pub const fn hours(&self) -> u32 {
        self.hours
    }

    /// The weekdays mask (bit 0 Monday .. bit 6 Sunday).
    pub const fn weekdays(&self) -> u8 {
        self.weekdays
    }

    /// The holidays, sorted.
    pub fn holidays(&self) -> &[Date] {
        &self.holidays
    }

    /// `true` if `now` (in local time at `offset`) falls in a friendly period. Takes at most
    /// `log2(H)` date comparisons; timestamps outside the calendar range match no holiday.
    pub fn contains(&self, now: Timestamp, offset: UtcOffset) -> bool {
        let days = now.local_day(offset);
        let hour = now.local_seconds_of_day(offset) / 3600;
        if self.hours & (1 << hour) != 0 {
            return true;
        }
        let weekday = Weekday::from_days_since_epoch(days).days_from_monday();
        if self.weekdays & (1 << weekday) != 0 {
            return true;
        }
        if self.holidays.is_empty() {
            return false;
        }
        match Date::from_days_since_epoch(days) {
            Ok(date) => self.holidays.binary_search(&date).is_ok(),
            Err(_) => false,
        }
    }
}

/// Everything an account is configured with; checked by [`Config::validate`] when an
/// [`Account`](super::Account) is built or reconfigured, never again after.
///
/// Build one with [`Config::local`] or [`Config::remote`] and adjust the public fields.
#[derive(Clone, Debug, PartialEq, Eq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub struct Config<U, const H: usize = DEFAULT_HOLIDAYS> {
    /// Local or remote cost control.
    pub cost_control: CostControl,
    /// Credit thresholds.
    pub limits: Limits<U>,
    /// How the relay closes when the account lifts a credit trip.
    pub reconnect: ReconnectMode,
    /// Trip at alarm 2 (the customer undoes it with the button), as many Chinese meters do.
    pub low_credit_trip: bool,
    /// Emergency credit, if offered.
    pub emergency: Option<EmergencyCredit<U>>,
    /// Standing charge per local day (zero for none), taken from the day after the account is
    /// opened.
    pub standing_charge: U,
    /// Debt recovery from recharges, if any.
    pub debt_recovery: Option<DebtRecovery<U>>,
    /// The meter's local time offset (days, friendly hours, recovery periods).
    pub offset: UtcOffset,
    /// The non-disconnect calendar.
    pub friendly: FriendlyCalendar<H>,
}

impl<U: Credit> Config<U> {
    /// [`Config::local_sized`] at the default capacities, so that a call needs no type
    /// annotations; see it for the details.
    pub fn local(limits: Limits<U>) -> Self {
        Self::local_sized(limits)
    }

    /// [`Config::remote_sized`] at the default capacities, so that a call needs no type
    /// annotations; see it for the details.
    pub fn remote() -> Self {
        Self::remote_sized()
    }
}

impl<U: Credit, const H: usize> Config<U, H> {
    /// A local cost-control configuration with `limits`, button reconnection, no low-credit
    /// trip, no emergency credit, standing charge or debt recovery, no friendly periods, UTC+8.
    ///
    /// Generic over the capacities (name them, `Config::<..>::local_sized`, or let them be
    /// inferred from where the result goes); [`Config::local`] is this at the default ones.
    pub fn local_sized(limits: Limits<U>) -> Self {
        Config {
            cost_control: CostControl::Local,
            limits,
            reconnect: ReconnectMode::Button,
            low_credit_trip: false,
            emergency: None,
            standing_charge: U::ZERO,
            debt_recovery: None,
            offset: UtcOffset::CHINA,
            friendly: FriendlyCalendar::NONE,
        }
    }

    /// A remote cost-control configuration: the account keeps no money. The limits are
    /// placeholders that pass validation (hoarding 1, everything else 0).
    ///
    /// Generic over the capacities (name them, `Config::<..>::remote_sized`, or let them be
    /// inferred from where the result goes); [`Config::remote`] is this at the default ones.
    pub fn remote_sized() -> Self {
        let mut c = Config::local_sized(Limits {
            alarm1: U::ZERO,
            alarm2: U::ZERO,
            overdraft: U::ZERO,
            hoarding: U::from_raw(1),
            reconnect: U::ZERO,
        });
        c.cost_control = CostControl::Remote;
        c
    }

    /// Checks every rule (see [`AccountConfigError`]). The friendly calendar is already valid by
    /// construction.
    pub fn validate(&self) -> Result<(), AccountConfigError> {
        self.limits.validate()?;
        if let Some(ec) = self.emergency {
            if !credit::is_positive(ec.amount) {
                return Err(AccountConfigError::EmergencyAmountNotPositive);
            }
            if credit::is_negative(ec.threshold) {
                return Err(AccountConfigError::NegativeEmergencyThreshold);
            }
            match credit::add(ec.threshold, ec.amount) {
                Some(top) if top <= self.limits.hoarding => {}
                _ => return Err(AccountConfigError::EmergencyAboveHoarding),
            }
        }
        if credit::is_negative(self.standing_charge) {
            return Err(AccountConfigError::NegativeStandingCharge);
        }
        if self.standing_charge.to_raw() > MAX_STANDING_CHARGE {
            return Err(AccountConfigError::StandingChargeTooLarge);
        }
        if let Some(d) = self.debt_recovery {
            if d.percent == 0 || d.percent > 100 {
                return Err(AccountConfigError::InvalidRecoveryShare);
            }
            if !credit::is_positive(d.cap) {
                return Err(AccountConfigError::RecoveryCapNotPositive);
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::units::Money;

    fn m(x: i64) -> Money {
        Money::from_minor(x)
    }

    fn limits() -> Limits<Money> {
        Limits {
            alarm1: m(20),
            alarm2: m(10),
            overdraft: m(5),
            hoarding: m(1000),
            reconnect: m(0),
        }
    }

    type Case<T> = (fn(&mut T), AccountConfigError);

    #[test]
    fn limits_rules() {
        assert_eq!(limits().validate(), Ok(()));
        let cases: [Case<Limits<Money>>; 7] = [
            (|l| l.alarm2 = m(-1), AccountConfigError::NegativeAlarm),
            (|l| l.alarm2 = m(21), AccountConfigError::AlarmsOutOfOrder),
            (
                |l| l.overdraft = m(-1),
                AccountConfigError::NegativeOverdraftLimit,
            ),
            (
                |l| l.hoarding = m(0),
                AccountConfigError::HoardingLimitNotPositive,
            ),
            (
                |l| l.alarm1 = m(1000),
                AccountConfigError::AlarmAboveHoarding,
            ),
            (
                |l| l.reconnect = m(-1),
                AccountConfigError::NegativeReconnectThreshold,
            ),
            (
                |l| l.reconnect = m(1000),
                AccountConfigError::ReconnectAboveHoarding,
            ),
        ];
        for (f, e) in cases {
            let mut l = limits();
            f(&mut l);
            assert_eq!(l.validate(), Err(e));
            assert!(!e.to_string().is_empty());
        }
    }

    #[test]
    fn config_rules() {
        let ok = Config::<Money, 2>::local_sized(limits());
        assert_eq!(ok.validate(), Ok(()));
        assert_eq!(Config::<Money, 2>::remote_sized().validate(), Ok(()));
        let cases: [Case<Config<Money, 2>>; 7] = [
            (
                |c| {
                    c.emergency = Some(EmergencyCredit {
                        amount: m(0),
                        threshold: m(1),
                    })
                },
                AccountConfigError::EmergencyAmountNotPositive,
            ),
            (
                |c| {
                    c.emergency = Some(EmergencyCredit {
                        amount: m(1),
                        threshold: m(-1),
                    })
                },
                AccountConfigError::NegativeEmergencyThreshold,
            ),
            (
                |c| {
                    c.emergency = Some(EmergencyCredit {
                        amount: m(991),
                        threshold: m(10),
                    })
                },
                AccountConfigError::EmergencyAboveHoarding,
            ),
            (
                |c| c.standing_charge = m(-1),
                AccountConfigError::NegativeStandingCharge,
            ),
            (
                |c| c.standing_charge = m(MAX_STANDING_CHARGE + 1),
                AccountConfigError::StandingChargeTooLarge,
            ),
            (
                |c| {
                    c.debt_recovery = Some(DebtRecovery {
                        percent: 101,
                        cap: m(1),
                        period: RecoveryPeriod::Week,
                    })
                },
                AccountConfigError::InvalidRecoveryShare,
            ),
            (
                |c| {
                    c.debt_recovery = Some(DebtRecovery {
                        percent: 10,
                        cap: m(0),
                        period: RecoveryPeriod::Week,
                    })
                },
                AccountConfigError::RecoveryCapNotPositive,
            ),
        ];
        for (f, e) in cases {
            let mut c = ok.clone();
            f(&mut c);
            assert_eq!(c.validate(), Err(e));
        }
        let mut c = ok.clone();
        c.emergency = Some(EmergencyCredit {
            amount: m(i64::MAX),
            threshold: m(10),
        });
        assert_eq!(
            c.validate(),
            Err(AccountConfigError::EmergencyAboveHoarding)
        );
    }

    #[test]
    fn friendly_calendar_rules() {
        assert_eq!(
            FriendlyCalendar::<2>::new_sized(1 << 24, 0, &[]),
            Err(AccountConfigError::InvalidFriendlyHours)
        );
        assert_eq!(
            FriendlyCalendar::<2>::new_sized(0, 1 << 7, &[]),
            Err(AccountConfigError::InvalidFriendlyWeekdays)
        );
        let d = |day| Date::new(2025, 5, day).unwrap();
        assert_eq!(
            FriendlyCalendar::<2>::new_sized(0, 0, &[d(1), d(2), d(3)]),
            Err(AccountConfigError::TooManyHolidays)
        );
        let cal = FriendlyCalendar::<3>::new_sized(0, 0, &[d(3), d(1), d(3)]).unwrap();
        assert_eq!(cal.holidays(), &[d(1), d(3)]);
        assert_eq!(FriendlyCalendar::hours_from_to(20, 8), 0x00F0_00FF);
        assert_eq!(FriendlyCalendar::hours_from_to(8, 8), 0x00FF_FFFF);
        assert_eq!(FriendlyCalendar::hours_from_to(0, 1), 1);
        // Extreme timestamps neither panic nor match holidays.
        let cal = FriendlyCalendar::<3>::new_sized(0, 0, &[d(1)]).unwrap();
        assert!(!cal.contains(Timestamp::from_unix(i64::MIN), UtcOffset::CHINA));
        assert!(!cal.contains(Timestamp::from_unix(i64::MAX), UtcOffset::CHINA));
    }
}
