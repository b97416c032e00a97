//! The [`Account`] state machine.

use core::fmt;

use super::config::{
    AccountConfigError, Config, CostControl, DEFAULT_HOLIDAYS, ReconnectMode, RecoveryPeriod,
};
use super::credit::{self, Credit};
use super::event::{
    AlarmEvent, AlarmFlags, ChargeRecord, ClockJump, Effects, EmergencyEvent, EmergencyState,
    OverdraftRecord, RelayEvent, STANDING_CATCH_UP_DAYS, Trigger,
};
use super::purchase::{PurchaseRecord, Receipt, RechargeError};
use super::relay::{CommandError, RelayCommand, RelayState, RemoteTrip, TripReason};
use crate::purchase::{CustomerNumber, Purchase};
use crate::time::{Date, Timestamp, UtcOffset};
use crate::units::{Energy, Price};

/// Why a money operation other than a purchase was refused. The account is left exactly as it
/// was.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
#[non_exhaustive]
pub enum AccountError {
    /// The account is under remote cost control and holds no money.
    RemoteCostControl,
    /// A negative amount.
    InvalidAmount,
    /// A balance or running total would overflow.
    Overflow,
    /// Emergency credit is not available now (none configured, balance above the threshold,
    /// or the last one not yet repaid).
    EmergencyUnavailable,
    /// A price of zero in a tariff change.
    InvalidPrice,
    /// A tariff change would raise energy credit above the hoarding limit (and above the
    /// balance before it).
    HoardingLimit,
}

impl fmt::Display for AccountError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            AccountError::RemoteCostControl => "the account is under remote cost control",
            AccountError::InvalidAmount => "the amount must not be negative",
            AccountError::Overflow => "the balance or a running total would overflow",
            AccountError::EmergencyUnavailable => "emergency credit is not available",
            AccountError::InvalidPrice => "a price must be above zero",
            AccountError::HoardingLimit => "the conversion would exceed the hoarding limit",
        })
    }
}

impl core::error::Error for AccountError {}

/// Why a stored [`AccountState`] was refused by [`Account::restore`]: it is not a state the
/// configuration could have produced. Nothing is built.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
#[non_exhaustive]
pub enum AccountStateError {
    /// The configuration is invalid.
    Config(AccountConfigError),
    /// The running totals do not add up to the balance, or a total that only grows is
    /// negative, or more emergency credit was repaid than granted.
    Totals,
    /// Emergency credit outstanding, debt, the debt recovered in the period or the conversion
    /// residue is negative.
    NegativeAmount,
    /// The balance is above the hoarding limit.
    AboveHoarding,
    /// The customer, purchase count, recharges and standing charges disagree (an account is
    /// open exactly when its purchase count is above zero).
    Purchases,
    /// The alarm flags, credit marks, emergency credit state or overdraft episode disagree
    /// with the balance and the thresholds.
    Flags,
    /// The relay state disagrees with the trips in force and keep-power.
    Relay,
    /// A log ring is not in a state a ring can be in (see [`crate::ring::Ring::restore`]).
    Log,
    /// A price is held for money credit, or a price of zero for energy credit.
    Price,
}

impl fmt::Display for AccountStateError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            AccountStateError::Config(e) => write!(f, "invalid account configuration: {e}"),
            other => f.write_str(match other {
                AccountStateError::Totals => "the running totals do not add up to the balance",
                AccountStateError::NegativeAmount => "an amount owed or recovered is negative",
                AccountStateError::AboveHoarding => "the balance is above the hoarding limit",
                AccountStateError::Purchases => {
                    "the customer, purchase count and recharges disagree"
                }
                AccountStateError::Flags => "the alarm and credit flags disagree with the balance",
                AccountStateError::Relay => "the relay state disagrees with the trips in force",
                AccountStateError::Log => "a log ring is not in a possible state",
                AccountStateError::Price => "the price held does not fit the unit of credit",
                _ => "invalid account state",
            }),
        }
    }
}

impl core::error::Error for AccountStateError {}

/// The checks of [`Account::restore`] (the configuration is already valid).
fn check_state<U: Credit, const H: usize>(
    cfg: &Config<U, H>,
    st: &AccountState<U>,
) -> Result<(), AccountStateError> {
    let t = &st.totals;
    let b = st.balance;
    let neg = credit::is_negative::<U>;
    // A tariff-change conversion re-expresses the balance, emergency credit and debt (energy
    // credit only); the hoarding limit does not bind it.
    let converted = t.converted != U::ZERO || st.residue != 0;
    if t.expected_balance() != Some(b)
        || [
            t.recharged,
            t.emergency_repaid,
            t.debt_recovered,
            t.emergency_granted,
            t.consumed,
            t.standing,
        ]
        .into_iter()
        .any(neg)
        || (!converted && t.emergency_repaid > t.emergency_granted)
        || st.recovered_in_period > t.debt_recovered
    {
        return Err(AccountStateError::Totals);
    }
    if [st.emergency_debt, st.debt, st.recovered_in_period]
        .into_iter()
        .any(neg)
        || st.residue < 0
    {
        return Err(AccountStateError::NegativeAmount);
    }
    let price_ok = match st.price {
        None => true,
        Some(p) => U::HELD_AT_PRICE && p.minor_per_kwh() > 0,
    };
    if !price_ok {
        return Err(AccountStateError::Price);
    }
    let local = cfg.cost_control == CostControl::Local;
    let limits = &cfg.limits;
    if local && !converted && b > limits.hoarding.max(t.opening) {
        return Err(AccountStateError::AboveHoarding);
    }
    let open = st.customer.is_some();
    let standing_ok = match st.standing_day {
        Some(day) => open && (0..=LAST_DAY).contains(&day),
        None => !open,
    };
    if open != (st.purchases > 0)
        || (!open && (t.recharged != U::ZERO || t.standing != U::ZERO))
        || !standing_ok
    {
        return Err(AccountStateError::Purchases);
    }
    // Flags are derived at the end of every call, so each one set must still hold (a fresh
    // account, not yet evaluated, has none set).
    let floor = credit::neg(limits.overdraft).unwrap_or(limits.overdraft);
    let derivable = AlarmFlags::NONE
        .set_if(AlarmFlags::LOW_CREDIT_1, local && b <= limits.alarm1)
        .set_if(AlarmFlags::LOW_CREDIT_2, local && b <= limits.alarm2)
        .set_if(AlarmFlags::OVERDRAFT, local && neg(b))
        .set_if(AlarmFlags::EXHAUSTED, st.exhausted)
        .set_if(AlarmFlags::REMOTE, st.remote_alarm);
    let emergency_ok = match st.emergency {
        EmergencyState::InUse => credit::is_positive(st.emergency_debt),
        EmergencyState::Available => {
            st.emergency_debt == U::ZERO
                && local
                && cfg.emergency.is_some_and(|ec| b <= ec.threshold)
        }
        EmergencyState::Unavailable => st.emergency_debt == U::ZERO,
    };
    let overdraft_ok = st.overdraft.is_none_or(|ep| neg(b) && ep.deepest <= b);
    if !st.alarms.difference(derivable).is_empty()
        || st.alarms.contains(AlarmFlags::EXHAUSTED) != st.exhausted
        || st.alarms.contains(AlarmFlags::REMOTE) != st.remote_alarm
        || (st.exhausted && !(local && b <= limits.reconnect))
        || (st.low_credit_ack && !(local && b <= limits.alarm2))
        || (b <= floor && st.alarms.contains(AlarmFlags::LOW_CREDIT_1) && !st.exhausted)
        || !emergency_ok
        || !overdraft_ok
    {
        return Err(AccountStateError::Flags);
    }
    let remote_trip = st.remote != RemoteTrip::None;
    let demanded = !st.keep_power && (remote_trip || st.exhausted);
    let relay_ok = match st.relay {
        RelayState::Closed => st.keep_power || !remote_trip,
        RelayState::Open(TripReason::Remote) => demanded && remote_trip,
        RelayState::Open(TripReason::Credit) => demanded && !remote_trip,
        RelayState::Open(TripReason::LowCredit) => false,
        RelayState::Ready(_) => !demanded,
    };
    if (st.keep_power && remote_trip) || !relay_ok {
        return Err(AccountStateError::Relay);
    }
    Ok(())
}

/// Running totals since the account was created, in the account's unit. They account for
/// every change of the balance, so that (see [`AccountTotals::expected_balance`])
///
/// `balance == opening + recharged - emergency_repaid - debt_recovered + emergency_granted
///            - consumed - standing + converted`
///
/// holds exactly after every call.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub struct AccountTotals<U> {
    /// The balance the account was created with.
    pub opening: U,
    /// Every purchase amount accepted (gross).
    pub recharged: U,
    /// Emergency credit repaid out of purchases.
    pub emergency_repaid: U,
    /// Debt recovered out of purchases.
    pub debt_recovered: U,
    /// Emergency credit granted.
    pub emergency_granted: U,
    /// Consumption debited.
    pub consumed: U,
    /// Standing charges taken.
    pub standing: U,
    /// Net change of the balance by tariff-change conversions (energy credit only).
    pub converted: U,
}

impl<U: Credit> AccountTotals<U> {
    /// The balance the totals account for, or `None` if the sum overflows `i64`.
    pub fn expected_balance(&self) -> Option<U> {
        let plus = [
            self.opening,
            self.recharged,
            self.emergency_granted,
            self.converted,
        ];
        let minus = [
            self.emergency_repaid,
            self.debt_recovered,
            self.consumed,
            self.standing,
        ];
        let mut sum: i128 = 0;
        for p in plus {
            sum += i128::from(p.to_raw());
        }
        for m in minus {
            sum -= i128::from(m.to_raw());
        }
        i64::try_from(sum).ok().map(U::from_raw)
    }
}

/// A tariff change applied to energy credit: see [`Account::change_price`].
///
/// Energy is in Wh and prices in minor units per kWh, so a value `energy x price` is in
/// thousandths of a minor unit. With balance `b`, emergency credit outstanding `e` and debt `d`,
/// each before (`bb`, `eb`, `db`) and after (`ba`, `ea`, `da`), exactly:
///
/// `residue == (ba*new - bb*old) - (ea*new - eb*old) - (da*new - db*old)`
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub struct ConversionRecord {
    /// When.
    pub time: Timestamp,
    /// The price the credit was bought at.
    pub old: Price,
    /// The price it is re-expressed at.
    pub new: Price,
    /// Balance before.
    pub balance_before: Energy,
    /// Balance after: the value at the old price divided by the new price, rounded up (in the
    /// customer's favour, also when negative).
    pub balance_after: Energy,
    /// Emergency credit outstanding before.
    pub emergency_before: Energy,
    /// Emergency credit outstanding after, rounded down (in the customer's favour).
    pub emergency_after: Energy,
    /// Debt before.
    pub debt_before: Energy,
    /// Debt after, rounded down (in the customer's favour).
    pub debt_after: Energy,
    /// The value the rounding gave the customer, in thousandths of a minor unit: zero or more,
    /// and less than three times the new price (one Wh of each of the three registers).
    pub residue: i64,
}

/// The result of an accepted tariff change.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
#[must_use = "a conversion holds the record to log and the effects to carry out"]
pub struct Conversion {
    /// What changed.
    pub record: ConversionRecord,
    /// What else the call decided.
    pub effects: Effects<Energy>,
}

/// An overdraft under way: when the balance went below zero and the lowest balance since.
///
/// Binary form ([`Field`](crate::snapshot::Field)(crate::snapshot::Field)): `started` (`i64` Unix seconds), `deepest`
/// (`i64`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub struct OverdraftEpisode<U> {
    /// When the balance went below zero.
    pub started: Timestamp,
    /// The lowest balance so far.
    pub deepest: U,
}

/// The state of an [`Account`] as plain data: everything that changes, for
/// [`Account::state`] and [`Account::restore`]. Stored on its own as a
/// [`Snapshot`](crate::snapshot::Snapshot) (magic `AM` for money credit, version 1; `AE` for
/// energy, version 2).
///
/// # Binary form (`AM` version 1, `AE` version 2)
///
/// In this order; amounts of the account's unit as `i64`, times as `i64` Unix seconds, flags as
/// one byte 0 or 1, `Option` as a tag byte 0 or 1 then the value:
///
/// | field | bytes |
/// |---|---|
/// | `customer`: `Option` of the six bytes | 1 or 7 |
/// | `purchases` (`u32`) | 4 |
/// | `balance` | 8 |
/// | `totals`: opening, recharged, emergency repaid, debt recovered, emergency granted, consumed, standing, converted | 64 |
/// | `relay`: 0 closed; 1 open, 2 ready, each followed by the reason (0 remote, 1 credit, 2 low credit) | 1 or 2 |
/// | `remote`: 0 none, 1 tripped, 2 until (then the restore time and 0 button / 1 direct) | 1 or 10 |
/// | `keep_power`, `remote_alarm`, `exhausted`, `low_credit_ack` | 4 |
/// | `alarms` (the [`AlarmFlags`] bits) | 1 |
/// | `emergency`: 0 unavailable, 1 available, 2 in use | 1 |
/// | `emergency_debt`, `debt`, `recovered_in_period` | 24 |
/// | `recovery_period` (`i64`) | 8 |
/// | `standing_day`: `Option<i64>` | 1 or 9 |
/// | `overdraft`: `Option` of started, deepest | 1 or 17 |
/// | `residue` (`i64`) | 8 |
/// | `price`, energy credit only (`AE` version 2): `Option<Price>`, the price as `u32` | 1 or 5 |
///
/// `AE` version 1 (written before the account kept its price) has no `price` field and is read
/// with `price: None`: such an account's first [`Account::change_price`] sets the price without
/// re-expressing the credit, so give it the price the credit was bought at first.
///
/// A typical open money account (a customer, no remote trip, no overdraft under way) takes
/// 141 bytes of fields, 150 bytes framed.
#[derive(Clone, Debug, PartialEq, Eq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub struct AccountState<U> {
    /// The customer the account was opened for; `None` before it is opened.
    pub customer: Option<CustomerNumber>,
    /// The purchase count (0 before the account is opened).
    pub purchases: u32,
    /// The balance.
    pub balance: U,
    /// The running totals; they add up to the balance.
    pub totals: AccountTotals<U>,
    /// The relay state.
    pub relay: RelayState,
    /// The remote trip in force.
    pub remote: RemoteTrip,
    /// Keep-power is on.
    pub keep_power: bool,
    /// The remote alarm (`2A`) is on.
    pub remote_alarm: bool,
    /// Credit exhausted and not yet restored above the reconnect threshold.
    pub exhausted: bool,
    /// The customer undid the low-credit trip; cleared when the balance rises above alarm 2.
    pub low_credit_ack: bool,
    /// The alarm flags as of the last call.
    pub alarms: AlarmFlags,
    /// The emergency credit state as of the last call.
    pub emergency: EmergencyState,
    /// Emergency credit taken and not yet repaid.
    pub emergency_debt: U,
    /// Debt still to recover from recharges.
    pub debt: U,
    /// Debt recovered in the current recovery period.
    pub recovered_in_period: U,
    /// The index of the current recovery period (`i64::MIN` before the first recovery).
    pub recovery_period: i64,
    /// The last local day whose standing charge was taken; `None` until the account opens.
    pub standing_day: Option<i64>,
    /// The overdraft under way.
    pub overdraft: Option<OverdraftEpisode<U>>,
    /// Sum of conversion residues, thousandths of a minor unit.
    pub residue: i64,
    /// Energy credit only: the price the credit is held at, the price of the tariff the
    /// account is rated against, as the last [`Account::change_price`] set it (`None` until
    /// then, and always for money credit).
    #[cfg_attr(feature = "serde", serde(default))]
    pub price: Option<Price>,
}

/// The state a call's events are measured against.
struct Mark {
    relay: RelayState,
    alarms: AlarmFlags,
    emergency: EmergencyState,
}

/// The last day of the supported calendar, counted from 1970-01-01.
const LAST_DAY: i64 = Date::MAX.days_since_epoch();

/// The local day of `now`, clamped to the supported calendar (1970-01-01 to 9999-12-31).
fn local_day(now: Timestamp, offset: UtcOffset) -> i64 {
    now.local_day(offset).clamp(0, LAST_DAY)
}

/// The index of the recovery period containing `now`.
fn period_index(now: Timestamp, offset: UtcOffset, period: RecoveryPeriod) -> i64 {
    let day = local_day(now, offset);
    match period {
        RecoveryPeriod::Day => day,
        // Weeks from Monday: 1970-01-01 was a Thursday.
        RecoveryPeriod::Week => (day + 3).div_euclid(7),
        RecoveryPeriod::Month => match Date::from_days_since_epoch(day) {
            Ok(d) => i64::from(d.year()) * 12 + i64::from(d.month()),
            Err(_) => 0,
        },
    }
}

impl<U: Credit> AccountState<U> {
    fn new(opening: U) -> AccountState<U> {
        AccountState {
            customer: None,
            purchases: 0,
            balance: opening,
            totals: AccountTotals {
                opening,
                recharged: U::ZERO,
                emergency_repaid: U::ZERO,
                debt_recovered: U::ZERO,
                emergency_granted: U::ZERO,
                consumed: U::ZERO,
                standing: U::ZERO,
                converted: U::ZERO,
            },
            relay: RelayState::Closed,
            remote: RemoteTrip::None,
            keep_power: false,
            remote_alarm: false,
            exhausted: false,
            low_credit_ack: false,
            alarms: AlarmFlags::NONE,
            emergency: EmergencyState::Unavailable,
            emergency_debt: U::ZERO,
            debt: U::ZERO,
            recovered_in_period: U::ZERO,
            recovery_period: i64::MIN,
            standing_day: None,
            overdraft: None,
            residue: 0,
            price: None,
        }
    }

    fn mark(&self) -> Mark {
        Mark {
            relay: self.relay,
            alarms: self.alarms,
            emergency: self.emergency,
        }
    }

    /// Takes the standing charge for every local day that began since the last one charged,
    /// at most [`STANDING_CATCH_UP_DAYS`] at once (a longer step forward is recorded in
    /// [`Effects::clock`]). One multiplication whatever the number of days; skipped (and
    /// retried later) only if a total would overflow `i64`. A clock set back is recorded and
    /// changes nothing: the standing day never moves back, so no day is charged twice.
    fn advance<const H: usize>(&mut self, now: Timestamp, cfg: &Config<U, H>, fx: &mut Effects<U>) {
        let Some(last) = self.standing_day else {
            return;
        };
        let today = local_day(now, cfg.offset);
        if today < last {
            fx.clock = Some(ClockJump {
                time: now,
                from_day: last,
                to_day: today,
                uncharged_days: 0,
            });
            return;
        }
        if today == last {
            return;
        }
        if cfg.cost_control == CostControl::Remote || !credit::is_positive(cfg.standing_charge) {
            self.standing_day = Some(today);
            return;
        }
        let elapsed = today - last;
        let days = elapsed.min(i64::from(STANDING_CATCH_UP_DAYS));
        let uncharged = u32::try_from(elapsed - days).unwrap_or(u32::MAX);
        let Ok(days32) = u32::try_from(days) else {
            return;
        };
        let Some(amount) = credit::mul(cfg.standing_charge, days) else {
            return;
        };
        let (Some(balance), Some(total)) = (
            credit::sub(self.balance, amount),
            credit::add(self.totals.standing, amount),
        ) else {
            return;
        };
        self.balance = balance;
        self.totals.standing = total;
        self.standing_day = Some(today);
        self.note_balance(now);
        if uncharged > 0 {
            fx.clock = Some(ClockJump {
                time: now,
                from_day: last,
                to_day: today,
                uncharged_days: uncharged,
            });
        }
        fx.standing_charge = Some(ChargeRecord {
            time: now,
            days: days32,
            amount,
        });
    }

    /// Tracks the overdraft episode after the balance went down.
    fn note_balance(&mut self, now: Timestamp) {
        if !credit::is_negative(self.balance) {
            return;
        }
        match &mut self.overdraft {
            Some(ep) => {
                if self.balance < ep.deepest {
                    ep.deepest = self.balance;
                }
            }
            None => {
                self.overdraft = Some(OverdraftEpisode {
                    started: now,
                    deepest: self.balance,
                })
            }
        }
    }

    /// Derives flags, emergency credit state and the relay from the balance and the commands in
    /// force. Constant time; no allocation.
    fn evaluate<const H: usize>(
        &mut self,
        now: Timestamp,
        cfg: &Config<U, H>,
        fx: &mut Effects<U>,
    ) {
        self.note_balance(now);
        if !credit::is_negative(self.balance)
            && let Some(ep) = self.overdraft.take()
        {
            fx.overdraft = Some(OverdraftRecord {
                started: ep.started,
                // Never before it started, even when the clock was set back meanwhile.
                ended: now.max(ep.started),
                deepest: ep.deepest,
            });
        }

        let local = cfg.cost_control == CostControl::Local;
        let b = self.balance;
        let limits = &cfg.limits;
        if local {
            // `overdraft >= 0` (validated), so its negation exists.
            let floor = credit::neg(limits.overdraft).unwrap_or(limits.overdraft);
            if b <= floor {
                self.exhausted = true;
            } else if b > limits.reconnect {
                self.exhausted = false;
            }
            if b > limits.alarm2 {
                self.low_credit_ack = false;
            }
        } else {
            self.exhausted = false;
            self.low_credit_ack = false;
        }
        let low2 = local && b <= limits.alarm2;

        self.emergency = if credit::is_positive(self.emergency_debt) {
            EmergencyState::InUse
        } else {
            match cfg.emergency {
                Some(ec) if local && b <= ec.threshold => EmergencyState::Available,
                _ => EmergencyState::Unavailable,
            }
        };

        if let RemoteTrip::Until { at, then } = self.remote
            && now >= at
        {
            self.remote = RemoteTrip::None;
            if self.relay == RelayState::Open(TripReason::Remote) {
                self.relay = match then {
                    ReconnectMode::Direct => RelayState::Closed,
                    ReconnectMode::Button => RelayState::Ready(TripReason::Remote),
                };
            }
        }

        self.alarms = AlarmFlags::NONE
            .set_if(AlarmFlags::LOW_CREDIT_1, local && b <= limits.alarm1)
            .set_if(AlarmFlags::LOW_CREDIT_2, low2)
            .set_if(AlarmFlags::OVERDRAFT, local && credit::is_negative(b))
            .set_if(AlarmFlags::EXHAUSTED, self.exhausted)
            .set_if(AlarmFlags::REMOTE, self.remote_alarm);

        let demand = if self.keep_power {
            None
        } else if self.remote != RemoteTrip::None {
            Some(TripReason::Remote)
        } else if self.exhausted {
            Some(TripReason::Credit)
        } else if cfg.low_credit_trip && low2 && !self.low_credit_ack {
            Some(TripReason::LowCredit)
        } else {
            None
        };
        self.relay = match (self.relay, demand) {
            (RelayState::Closed, None) => RelayState::Closed,
            (RelayState::Closed, Some(TripReason::Remote)) => RelayState::Open(TripReason::Remote),
            (RelayState::Closed, Some(reason)) => {
                if cfg.friendly.contains(now, cfg.offset) {
                    RelayState::Closed
                } else if reason == TripReason::LowCredit {
                    RelayState::Ready(TripReason::LowCredit)
                } else {
                    RelayState::Open(reason)
                }
            }
            (_, Some(TripReason::LowCredit)) => RelayState::Ready(TripReason::LowCredit),
            (_, Some(reason)) => RelayState::Open(reason),
            (RelayState::Open(reason), None) => match cfg.reconnect {
                ReconnectMode::Direct => RelayState::Closed,
                ReconnectMode::Button => RelayState::Ready(reason),
            },
            (RelayState::Ready(reason), None) => RelayState::Ready(reason),
        };
    }

    /// Fills the events by comparing with the state at the start of the call.
    fn finish(&self, mark: &Mark, now: Timestamp, trigger: Trigger, fx: &mut Effects<U>) {
        if self.relay != mark.relay {
            fx.relay = Some(RelayEvent {
                time: now,
                from: mark.relay,
                to: self.relay,
                trigger,
                balance: self.balance,
            });
            if self.relay.contacts() != mark.relay.contacts() {
                fx.drive = Some(self.relay.contacts());
            }
        }
        if self.alarms != mark.alarms {
            fx.alarm = Some(AlarmEvent {
                time: now,
                from: mark.alarms,
                to: self.alarms,
                balance: self.balance,
            });
        }
        if self.emergency != mark.emergency {
            fx.emergency = Some(EmergencyEvent {
                time: now,
                from: mark.emergency,
                to: self.emergency,
                outstanding: self.emergency_debt,
            });
        }
        fx.alarms = self.alarms;
    }

    /// Takes the debt recovery share out of a purchase of `amount`, of which `available` is
    /// left after emergency credit was repaid.
    fn recover_debt<const H: usize>(
        &mut self,
        now: Timestamp,
        cfg: &Config<U, H>,
        amount: U,
        available: U,
    ) -> Result<U, RechargeError> {
        let Some(rule) = cfg.debt_recovery else {
            return Ok(U::ZERO);
        };
        if !credit::is_positive(self.debt) {
            return Ok(U::ZERO);
        }
        let period = period_index(now, cfg.offset, rule.period);
        if period > self.recovery_period {
            self.recovery_period = period;
            self.recovered_in_period = U::ZERO;
        }
        // Rounded down: the customer keeps the fraction. `percent <= 100`, so it fits.
        let share = i128::from(amount.to_raw()) * i128::from(rule.percent) / 100;
        let share = U::from_raw(i64::try_from(share).map_err(|_| RechargeError::Overflow)?);
        let cap_left = credit::sub(rule.cap, self.recovered_in_period)
            .unwrap_or(U::ZERO)
            .max(U::ZERO);
        let take = share.min(cap_left).min(self.debt).min(available);
        self.recovered_in_period =
            credit::add(self.recovered_in_period, take).ok_or(RechargeError::Overflow)?;
        self.debt = credit::sub(self.debt, take).ok_or(RechargeError::Overflow)?;
        self.totals.debt_recovered =
            credit::add(self.totals.debt_recovered, take).ok_or(RechargeError::Overflow)?;
        Ok(take)
    }
}

/// A prepaid account: balance, alarms, overdraft, emergency credit, charges, relay decisions and
/// recharge rules. See the [module docs](super) for the states and transitions.
///
/// `U` is the unit of credit ([`Money`](crate::units::Money) or [`Energy`]); `H` the capacity of
/// the friendly-period holiday list. Plain data: `Clone`, comparable, serialisable behind the
/// `serde` feature, so a snapshot is a copy and a restore is an assignment.
///
/// Deserializing a snapshot checks it as [`Account::restore`] does.
#[derive(Clone, Debug, PartialEq, Eq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
#[cfg_attr(
    feature = "serde",
    serde(
        try_from = "AccountFields<U, H>",
        bound(deserialize = "U: Credit + serde::Deserialize<'de>")
    )
)]
pub struct Account<U, const H: usize = DEFAULT_HOLIDAYS> {
    config: Config<U, H>,
    state: AccountState<U>,
}

/// An account snapshot as stored, before it is checked.
#[cfg(feature = "serde")]
#[derive(serde::Deserialize)]
struct AccountFields<U, const H: usize> {
    config: Config<U, H>,
    state: AccountState<U>,
}

#[cfg(feature = "serde")]
impl<U: Credit, const H: usize> TryFrom<AccountFields<U, H>> for Account<U, H> {
    type Error = AccountStateError;
    fn try_from(f: AccountFields<U, H>) -> Result<Self, AccountStateError> {
        Account::restore(f.config, f.state)
    }
}

impl<U: Credit, const H: usize> Account<U, H> {
    /// An account with a validated `config` and an opening balance (the credit preset at
    /// manufacture, often zero). It is not yet open: credit control runs, recharges are refused
    /// until [`Account::open`]. Call [`Account::tick`] once to evaluate it.
    pub fn new(config: Config<U, H>, opening: U) -> Result<Self, AccountConfigError> {
        config.validate()?;
        Ok(Account {
            config,
            state: AccountState::new(opening),
        })
    }

    /// The account's state as plain data, to store (see [`AccountState`]) and give back to
    /// [`Account::restore`].
    pub fn state(&self) -> AccountState<U> {
        self.state.clone()
    }

    /// An account from a validated `config` and a stored `state`, checked against each other
    /// and against the account's invariants, so that only a state this configuration could have
    /// produced is accepted:
    ///
    /// - the configuration is valid ([`AccountStateError::Config`]);
    /// - the running totals add up to the balance, and those that only grow are not negative
    ///   ([`AccountStateError::Totals`]); emergency credit outstanding, debt, the debt recovered
    ///   in the period and the conversion residue are not negative
    ///   ([`AccountStateError::NegativeAmount`]);
    /// - under local cost control and without tariff-change conversions, the balance is not above
    ///   the hoarding limit (or the opening balance, if that was higher)
    ///   ([`AccountStateError::AboveHoarding`]);
    /// - an account is open exactly when its purchase count is above zero, and only an open
    ///   account has recharges and standing charges ([`AccountStateError::Purchases`]);
    /// - the alarm flags, the exhausted and acknowledged marks, the emergency credit state and
    ///   the overdraft episode agree with the balance and the thresholds
    ///   ([`AccountStateError::Flags`]);
    /// - the relay state agrees with the trips in force and keep-power
    ///   ([`AccountStateError::Relay`]);
    /// - a price is held only for energy credit, and is above zero
    ///   ([`AccountStateError::Price`]).
    ///
    /// Every state [`Account::state`] returns passes. Restore with the configuration in force
    /// when the state was taken.
    pub fn restore(
        config: Config<U, H>,
        state: AccountState<U>,
    ) -> Result<Self, AccountStateError> {
        config.validate().map_err(AccountStateError::Config)?;
        check_state(&config, &state)?;
        Ok(Account { config, state })
    }

    /// Checks `state` as [`Account::restore`] would under this account's (validated)
    /// configuration, without building an account: the first half of a restore in place
    /// ([`Account::set_checked_state`]).
    pub(crate) fn check_restore(&self, state: &AccountState<U>) -> Result<(), AccountStateError> {
        check_state(&self.config, state)
    }

    /// Replaces the state by one that [`Account::check_restore`] accepted.
    pub(crate) fn set_checked_state(&mut self, state: AccountState<U>) {
        self.state = state;
    }

    /// The configuration.
    pub fn config(&self) -> &Config<U, H> {
        &self.config
    }

    /// The balance: the credit available, negative in overdraft.
    pub fn balance(&self) -> U {
        self.state.balance
    }

    /// The balance if positive, else zero (DL/T 645 remaining amount `00900200`).
    pub fn remaining(&self) -> U {
        self.state.balance.max(U::ZERO)
    }

    /// The overdraft in use as a magnitude, else zero (DL/T 645 overdraft amount `00900201`).
    pub fn overdrawn(&self) -> U {
        credit::neg(self.state.balance)
            .unwrap_or(U::from_raw(i64::MAX))
            .max(U::ZERO)
    }

    /// The customer the account was opened for; `None` before it is opened.
    pub fn customer(&self) -> Option<CustomerNumber> {
        self.state.customer
    }

    /// `true` once opened.
    pub fn is_open(&self) -> bool {
        self.state.customer.is_some()
    }

    /// The purchase count (DL/T 645 `03330201`).
    pub fn purchase_count(&self) -> u32 {
        self.state.purchases
    }

    /// The relay state.
    pub fn relay(&self) -> RelayState {
        self.state.relay
    }

    /// The remote trip in force.
    pub fn remote_trip(&self) -> RemoteTrip {
        self.state.remote
    }

    /// `true` while keep-power is on.
    pub fn keep_power(&self) -> bool {
        self.state.keep_power
    }

    /// The alarm flags as of the last call.
    pub fn alarms(&self) -> AlarmFlags {
        self.state.alarms
    }

    /// The emergency credit state as of the last call.
    pub fn emergency(&self) -> EmergencyState {
        self.state.emergency
    }

    /// Emergency credit taken and not yet repaid.
    pub fn emergency_outstanding(&self) -> U {
        self.state.emergency_debt
    }

    /// Debt still to recover from recharges.
    pub fn debt(&self) -> U {
        self.state.debt
    }

    /// The running totals.
    pub fn totals(&self) -> AccountTotals<U> {
        self.state.totals
    }

    /// The overdraft under way: when it started and the lowest balance so far.
    pub fn overdraft(&self) -> Option<(Timestamp, U)> {
        self.state.overdraft.map(|e| (e.started, e.deepest))
    }

    /// The sum of all tariff-change rounding residues, in thousandths of a minor unit.
    pub fn conversion_residue(&self) -> i64 {
        self.state.residue
    }

    /// `true` if `now` falls in a friendly (non-disconnect) period.
    pub fn is_friendly(&self, now: Timestamp) -> bool {
        self.config.friendly.contains(now, self.config.offset)
    }

    /// Runs an infallible operation in place.
    fn apply(
        &mut self,
        now: Timestamp,
        trigger: Trigger,
        op: impl FnOnce(&mut AccountState<U>, &Config<U, H>),
    ) -> Effects<U> {
        let mark = self.state.mark();
        let mut fx = Effects::new(self.state.alarms);
        self.state.advance(now, &self.config, &mut fx);
        op(&mut self.state, &self.config);
        self.state.evaluate(now, &self.config, &mut fx);
        self.state.finish(&mark, now, trigger, &mut fx);
        fx
    }

    /// Runs a fallible operation on a copy, kept only if it succeeds.
    fn transact<R, E>(
        &mut self,
        now: Timestamp,
        trigger: Trigger,
        op: impl FnOnce(&mut AccountState<U>, &Config<U, H>, &Effects<U>) -> Result<R, E>,
    ) -> Result<(R, Effects<U>), E> {
        let mut next = self.state.clone();
        let mark = next.mark();
        let mut fx = Effects::new(next.alarms);
        next.advance(now, &self.config, &mut fx);
        let r = op(&mut next, &self.config, &fx)?;
        next.evaluate(now, &self.config, &mut fx);
        next.finish(&mark, now, trigger, &mut fx);
        self.state = next;
        Ok((r, fx))
    }

    /// The periodic evaluation (every 0.5 s on a meter): takes standing charges that fell due,
    /// applies restore times, and derives alarms and relay decisions from the balance.
    /// Constant time, no allocation.
    pub fn tick(&mut self, now: Timestamp) -> Effects<U> {
        self.apply(now, Trigger::Tick, |_, _| {})
    }

    /// Charges consumption already rated by the caller: money for a money account, energy for
    /// an energy-credit account. The balance may go below the overdraft limit (the relay then
    /// trips, unless keep-power or a friendly period holds it); every unit is charged.
    pub fn debit(&mut self, now: Timestamp, amount: U) -> Result<Effects<U>, AccountError> {
        if self.config.cost_control == CostControl::Remote {
            return Err(AccountError::RemoteCostControl);
        }
        if credit::is_negative(amount) {
            return Err(AccountError::InvalidAmount);
        }
        self.transact(now, Trigger::Debit, |st, _, _| {
            let balance = credit::sub(st.balance, amount).ok_or(AccountError::Overflow)?;
            let consumed = credit::add(st.totals.consumed, amount).ok_or(AccountError::Overflow)?;
            st.balance = balance;
            st.totals.consumed = consumed;
            st.note_balance(now);
            Ok(())
        })
        .map(|((), fx)| fx)
    }

    /// Opens the account for `purchase.customer` (DL/T 645 `070101FF`), applying its amount as
    /// the first purchase. The amount may be zero; the count must be the current count plus
    /// one. Standing charges start the next local day.
    pub fn open(
        &mut self,
        now: Timestamp,
        purchase: Purchase<U>,
    ) -> Result<Receipt<U>, RechargeError> {
        self.purchase(now, purchase, true)
    }

    /// Applies a recharge (DL/T 645 `070102FF`). Checked in this order, the first failure
    /// reported: remote cost control, account open, customer number, amount above zero,
    /// purchase count (equal: repeated; not the next: count error), then overflow and the
    /// hoarding limit on the resulting balance. The amount repays emergency credit first, then
    /// gives the debt recovery share; the rest is credited (filling any overdraft).
    pub fn recharge(
        &mut self,
        now: Timestamp,
        purchase: Purchase<U>,
    ) -> Result<Receipt<U>, RechargeError> {
        self.purchase(now, purchase, false)
    }

    fn purchase(
        &mut self,
        now: Timestamp,
        p: Purchase<U>,
        open: bool,
    ) -> Result<Receipt<U>, RechargeError> {
        if self.config.cost_control == CostControl::Remote {
            return Err(RechargeError::RemoteCostControl);
        }
        match (open, self.state.customer) {
            (true, Some(_)) => return Err(RechargeError::AlreadyOpen),
            (false, None) => return Err(RechargeError::NotOpen),
            (false, Some(c)) if c != p.customer => return Err(RechargeError::CustomerMismatch),
            _ => {}
        }
        if credit::is_negative(p.amount) || (!open && !credit::is_positive(p.amount)) {
            return Err(RechargeError::InvalidAmount);
        }
        if p.count == self.state.purchases {
            return Err(RechargeError::RepeatedRecharge);
        }
        if self.state.purchases.checked_add(1) != Some(p.count) {
            return Err(RechargeError::CountError);
        }
        let trigger = if open {
            Trigger::Open
        } else {
            Trigger::Recharge
        };
        let (record, effects) = self.transact(now, trigger, |st, cfg, fx| {
            let overflow = RechargeError::Overflow;
            let standing = fx.standing_charge.map_or(U::ZERO, |c| c.amount);
            let before = st.balance;
            let emergency_repaid = p.amount.min(st.emergency_debt).max(U::ZERO);
            let rest = credit::sub(p.amount, emergency_repaid).ok_or(overflow)?;
            let debt_recovered = st.recover_debt(now, cfg, p.amount, rest)?;
            let credited = credit::sub(rest, debt_recovered).ok_or(overflow)?;
            let after = credit::add(before, credited).ok_or(overflow)?;
            if after > cfg.limits.hoarding {
                return Err(RechargeError::HoardingLimit);
            }
            st.totals.recharged = credit::add(st.totals.recharged, p.amount).ok_or(overflow)?;
            st.totals.emergency_repaid =
                credit::add(st.totals.emergency_repaid, emergency_repaid).ok_or(overflow)?;
            st.emergency_debt = credit::sub(st.emergency_debt, emergency_repaid).ok_or(overflow)?;
            st.balance = after;
            st.purchases = p.count;
            if open {
                st.customer = Some(p.customer);
                st.standing_day = Some(local_day(now, cfg.offset));
            }
            let overdraft_repaid = if credit::is_negative(before) {
                credit::neg(before).ok_or(overflow)?.min(credited)
            } else {
                U::ZERO
            };
            Ok(PurchaseRecord {
                time: now,
                count: p.count,
                amount: p.amount,
                balance_before: before,
                balance_after: after,
                emergency_repaid,
                debt_recovered,
                overdraft_repaid,
                standing_charge: standing,
            })
        })?;
        Ok(Receipt { record, effects })
    }

    /// Executes a remote relay command; see the module docs for how each combines with the
    /// credit state. Refused commands (keep-power, restore rules) leave the account unchanged.
    pub fn command(
        &mut self,
        now: Timestamp,
        command: RelayCommand,
    ) -> Result<Effects<U>, CommandError> {
        let st = &self.state;
        let restore_at = match command {
            RelayCommand::Trip if st.keep_power => return Err(CommandError::KeepPower),
            RelayCommand::TripRestore { delay_secs, .. } => {
                if st.keep_power {
                    return Err(CommandError::RestoreKeepPower);
                }
                if st.relay != RelayState::Closed {
                    return Err(CommandError::AlreadyTripped);
                }
                if delay_secs == 0 {
                    return Err(CommandError::InvalidRestoreTime);
                }
                now.checked_add_secs(i64::from(delay_secs))
                    .ok_or(CommandError::InvalidRestoreTime)?
            }
            _ => now,
        };
        Ok(
            self.apply(now, Trigger::Command(command), |st, _| match command {
                RelayCommand::Trip => st.remote = RemoteTrip::Tripped,
                RelayCommand::ReconnectAllowed => {
                    st.remote = RemoteTrip::None;
                    if let RelayState::Open(reason) = st.relay {
                        st.relay = RelayState::Ready(reason);
                    }
                }
                RelayCommand::DirectClose => {
                    st.remote = RemoteTrip::None;
                    st.low_credit_ack = true;
                    st.relay = RelayState::Closed;
                }
                RelayCommand::TripRestore { then, .. } => {
                    st.remote = RemoteTrip::Until {
                        at: restore_at,
                        then,
                    }
                }
                RelayCommand::AlarmOn => st.remote_alarm = true,
                RelayCommand::AlarmOff => st.remote_alarm = false,
                RelayCommand::KeepPowerOn => {
                    st.keep_power = true;
                    st.remote = RemoteTrip::None;
                }
                RelayCommand::KeepPowerOff => st.keep_power = false,
            }),
        )
    }

    /// The customer pressed the button: a relay ready for reconnection closes (and a low-credit
    /// trip is acknowledged until the balance next rises above alarm 2). Otherwise nothing.
    pub fn press_button(&mut self, now: Timestamp) -> Effects<U> {
        self.apply(now, Trigger::Button, |st, _| {
            if let RelayState::Ready(reason) = st.relay {
                if reason == TripReason::LowCredit {
                    st.low_credit_ack = true;
                }
                st.relay = RelayState::Closed;
            }
        })
    }

    /// The customer confirmed emergency credit: its amount is added to the balance and owed
    /// until repaid from recharges. Available only when configured, with the balance at or
    /// below its threshold and the previous emergency credit repaid.
    pub fn activate_emergency_credit(
        &mut self,
        now: Timestamp,
    ) -> Result<Effects<U>, AccountError> {
        if self.config.cost_control == CostControl::Remote {
            return Err(AccountError::RemoteCostControl);
        }
        let Some(ec) = self.config.emergency else {
            return Err(AccountError::EmergencyUnavailable);
        };
        self.transact(now, Trigger::EmergencyCredit, |st, _, _| {
            if credit::is_positive(st.emergency_debt) || st.balance > ec.threshold {
                return Err(AccountError::EmergencyUnavailable);
            }
            st.balance = credit::add(st.balance, ec.amount).ok_or(AccountError::Overflow)?;
            st.totals.emergency_granted = credit::add(st.totals.emergency_granted, ec.amount)
                .ok_or(AccountError::Overflow)?;
            st.emergency_debt = ec.amount;
            Ok(())
        })
        .map(|((), fx)| fx)
    }

    /// Sets the debt to recover from future recharges (DLMS Charge `set_total_amount_remaining`),
    /// replacing any debt outstanding. Recovery needs [`Config::debt_recovery`].
    pub fn set_debt(&mut self, now: Timestamp, debt: U) -> Result<Effects<U>, AccountError> {
        if self.config.cost_control == CostControl::Remote {
            return Err(AccountError::RemoteCostControl);
        }
        if credit::is_negative(debt) {
            return Err(AccountError::InvalidAmount);
        }
        Ok(self.apply(now, Trigger::Debt, |st, _| st.debt = debt))
    }

    /// Replaces the configuration (a remote parameter write, for example of `04001001..05`).
    /// Standing charges due up to `now` are taken at the old rate first. A refused
    /// configuration leaves the account unchanged. Besides the rules of [`Config::validate`],
    /// a local configuration whose hoarding limit lies below the balance (and below the opening
    /// balance) is refused ([`AccountConfigError::HoardingBelowBalance`]): no state could then
    /// be restored under it.
    pub fn reconfigure(
        &mut self,
        now: Timestamp,
        config: Config<U, H>,
    ) -> Result<Effects<U>, AccountConfigError> {
        config.validate()?;
        let t = &self.state.totals;
        let converted = t.converted != U::ZERO || self.state.residue != 0;
        if config.cost_control == CostControl::Local
            && !converted
            && self.state.balance > config.limits.hoarding.max(t.opening)
        {
            return Err(AccountConfigError::HoardingBelowBalance);
        }
        let mark = self.state.mark();
        let mut fx = Effects::new(self.state.alarms);
        self.state.advance(now, &self.config, &mut fx);
        self.config = config;
        self.state.evaluate(now, &self.config, &mut fx);
        self.state.finish(&mark, now, Trigger::Reconfigure, &mut fx);
        Ok(fx)
    }
}

impl<const H: usize> Account<Energy, H> {
    /// The price the energy credit is held at ([`AccountState::price`]): `None` until the
    /// first [`Account::change_price`].
    pub fn price(&self) -> Option<Price> {
        self.state.price
    }

    /// The tariff the account is rated against now charges `new` per kWh: re-expresses the
    /// energy credit, held at the price the account keeps ([`Account::price`]), at `new`, so
    /// that neither side loses. The balance becomes `balance x old / new` rounded up, and
    /// emergency credit owed and debt become theirs rounded down (all in the customer's
    /// favour). The value the rounding gave away is recorded ([`ConversionRecord::residue`],
    /// [`Account::conversion_residue`]), so value is conserved exactly in thousandths of a
    /// minor unit. Thresholds stay as configured. The account then holds its credit at `new`.
    ///
    /// The old price is the account's own, never the caller's: a request that carries a new
    /// price cannot also say what the credit was bought at. The first call on an account that
    /// holds no price yet (a new account, or one stored before the account kept its price)
    /// sets it and converts nothing (the record has `old == new`): make it with the price the
    /// credit was bought at, when the account is set up.
    ///
    /// The hoarding limit applies too: a conversion that would raise the balance above both
    /// the limit and the balance before it is refused ([`AccountError::HoardingLimit`]).
    /// Errors leave the account unchanged: [`AccountError::RemoteCostControl`],
    /// [`AccountError::InvalidPrice`] for a price of zero, [`AccountError::HoardingLimit`],
    /// [`AccountError::Overflow`].
    pub fn change_price(&mut self, now: Timestamp, new: Price) -> Result<Conversion, AccountError> {
        if self.config.cost_control == CostControl::Remote {
            return Err(AccountError::RemoteCostControl);
        }
        if new.minor_per_kwh() == 0 {
            return Err(AccountError::InvalidPrice);
        }
        let old = self.state.price.unwrap_or(new);
        let o = i128::from(old.minor_per_kwh());
        let n = i128::from(new.minor_per_kwh());
        let hoarding = self.config.limits.hoarding;
        let (record, effects) = self.transact(now, Trigger::PriceChange, |st, _, _| {
            let to_energy = |v: i128| {
                i64::try_from(v)
                    .map(Energy::from_wh)
                    .map_err(|_| AccountError::Overflow)
            };
            // Values in thousandths of a minor unit (Wh x minor/kWh).
            let vb = i128::from(st.balance.wh()) * o;
            let q = vb.div_euclid(n);
            let b_after = if vb.rem_euclid(n) == 0 { q } else { q + 1 };
            let ve = i128::from(st.emergency_debt.wh()) * o;
            let e_after = ve.div_euclid(n);
            let vd = i128::from(st.debt.wh()) * o;
            let d_after = vd.div_euclid(n);
            let residue = (b_after * n - vb) + (ve - e_after * n) + (vd - d_after * n);
            let residue = i64::try_from(residue).map_err(|_| AccountError::Overflow)?;
            let record = ConversionRecord {
                time: now,
                old,
                new,
                balance_before: st.balance,
                balance_after: to_energy(b_after)?,
                emergency_before: st.emergency_debt,
                emergency_after: to_energy(e_after)?,
                debt_before: st.debt,
                debt_after: to_energy(d_after)?,
                residue,
            };
            if record.balance_after > hoarding.max(st.balance) {
                return Err(AccountError::HoardingLimit);
            }
            let delta = record
                .balance_after
                .checked_sub(record.balance_before)
                .ok_or(AccountError::Overflow)?;
            st.totals.converted = st
                .totals
                .converted
                .checked_add(delta)
                .ok_or(AccountError::Overflow)?;
            st.residue = st
                .residue
                .checked_add(residue)
                .ok_or(AccountError::Overflow)?;
            st.balance = record.balance_after;
            st.emergency_debt = record.emergency_after;
            st.debt = record.debt_after;
            st.price = Some(new);
            Ok(record)
        })?;
        Ok(Conversion { record, effects })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::account::Limits;
    use crate::units::Money;

    fn m(x: i64) -> Money {
        Money::from_minor(x)
    }

    fn account() -> Account<Money, 2> {
        let cfg = Config::local_sized(Limits {
            alarm1: m(2000),
            alarm2: m(1000),
            overdraft: m(500),
            hoarding: m(1_000_000),
            reconnect: m(100),
        });
        Account::new(cfg, m(5000)).unwrap()
    }

    #[test]
    fn period_indices() {
        let t = |d: u8| {
            crate::time::DateTime::new(
                Date::new(2025, 1, d).unwrap(),
                crate::time::Time::new(0, 0, 0).unwrap(),
            )
            .to_timestamp(UtcOffset::CHINA)
        };
        let w = |d| period_index(t(d), UtcOffset::CHINA, RecoveryPeriod::Week);
        // 2025-01-05 is a Sunday, 2025-01-06 a Monday.
        assert_eq!(w(5), w(1));
        assert_eq!(w(6), w(5) + 1);
        assert_eq!(w(12), w(6));
        let mo = |d| period_index(t(d), UtcOffset::CHINA, RecoveryPeriod::Month);
        assert_eq!(mo(1), mo(31));
        let day = |d| period_index(t(d), UtcOffset::CHINA, RecoveryPeriod::Day);
        assert_eq!(day(2), day(1) + 1);
        assert_eq!(local_day(Timestamp::from_unix(i64::MIN), UtcOffset::UTC), 0);
        assert_eq!(
            local_day(Timestamp::from_unix(i64::MAX), UtcOffset::CHINA),
            LAST_DAY
        );
    }

    /// Snapshots: the account, its logs and frozen records are plain serialisable data.
    #[cfg(feature = "serde")]
    #[test]
    fn snapshot_types_are_serde() {
        fn check<T: serde::Serialize + serde::de::DeserializeOwned>() {}
        check::<Account<Money>>();
        check::<Account<Energy, 4>>();
        check::<crate::account::Logs<Money>>();
        check::<crate::freeze::Freezes<Money>>();
        check::<crate::account::Effects<Energy>>();
    }

    #[test]
    fn totals_overflow_is_none() {
        let mut t = account().totals();
        t.recharged = Money::MAX;
        t.opening = Money::MAX;
        assert_eq!(t.expected_balance(), None);
    }

    #[test]
    fn remaining_and_overdrawn() {
        let mut a = account();
        let now = Timestamp::from_unix(1_700_000_000);
        assert_eq!(a.remaining(), m(5000));
        assert_eq!(a.overdrawn(), m(0));
        let _ = a.debit(now, m(5200)).unwrap();
        assert_eq!(a.remaining(), m(0));
        assert_eq!(a.overdrawn(), m(200));
        assert!(!AccountError::Overflow.to_string().is_empty());
    }
}
