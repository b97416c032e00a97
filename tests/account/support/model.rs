//! A small reference model of the money side of a local money account, written independently
//! of `src/account` (plain `i128` arithmetic, no shared helpers), and a driver that runs one
//! operation on both and checks they agree.
//!
//! Shared by the property test (`tests/account_model.rs`) and the fuzz target
//! (`fuzz/fuzz_targets/account_ops.rs`), which includes this file by path.
#![allow(dead_code)]
#![allow(clippy::unwrap_used, clippy::panic)] // test helpers outside #[test] functions

use prepaid_meter::account::{
    AccountError, AlarmFlags, CommandError, Config, Contacts, DebtRecovery, Effects,
    EmergencyCredit, FriendlyCalendar, Limits, MoneyAccount, RechargeError, ReconnectMode,
    RecoveryPeriod, RelayCommand, RelayState,
};
use prepaid_meter::purchase::{CustomerNumber, Purchase};
use prepaid_meter::time::{Timestamp, UtcOffset};
use prepaid_meter::units::Money;

/// Numbers of the model configuration, in minor units.
#[derive(Clone, Copy, Debug)]
pub struct Params {
    pub alarm1: i64,
    pub alarm2: i64,
    pub overdraft: i64,
    pub hoarding: i64,
    pub reconnect: i64,
    pub ec_amount: i64,
    pub ec_threshold: i64,
    pub standing: i64,
    pub debt_percent: u8,
    pub debt_cap: i64,
    pub low_credit_trip: bool,
    pub direct: bool,
    pub friendly_hours: u32,
}

impl Params {
    /// Clamps arbitrary numbers into a valid configuration.
    pub fn sanitize(self) -> Params {
        let hoarding = self.hoarding.rem_euclid(1_000_000_000) + 2_000;
        let alarm1 = self.alarm1.rem_euclid(hoarding / 2);
        let alarm2 = self.alarm2.rem_euclid(alarm1 + 1);
        let overdraft = self.overdraft.rem_euclid(100_000);
        let reconnect = self.reconnect.rem_euclid(hoarding / 2);
        let ec_threshold = self.ec_threshold.rem_euclid(hoarding / 4);
        let ec_amount = self.ec_amount.rem_euclid(hoarding / 4) + 1;
        Params {
            alarm1,
            alarm2,
            overdraft,
            hoarding,
            reconnect,
            ec_amount,
            ec_threshold,
            standing: self.standing.rem_euclid(10_000),
            debt_percent: self.debt_percent % 100 + 1,
            debt_cap: self.debt_cap.rem_euclid(1_000_000) + 1,
            low_credit_trip: self.low_credit_trip,
            direct: self.direct,
            friendly_hours: self.friendly_hours & 0x00FF_FFFF,
        }
    }

    pub fn config(&self) -> Config<Money> {
        let m = Money::from_minor;
        let mut c = Config::local(Limits {
            alarm1: m(self.alarm1),
            alarm2: m(self.alarm2),
            overdraft: m(self.overdraft),
            hoarding: m(self.hoarding),
            reconnect: m(self.reconnect),
        });
        c.low_credit_trip = self.low_credit_trip;
        c.reconnect = if self.direct {
            ReconnectMode::Direct
        } else {
            ReconnectMode::Button
        };
        c.emergency = Some(EmergencyCredit {
            amount: m(self.ec_amount),
            threshold: m(self.ec_threshold),
        });
        c.standing_charge = m(self.standing);
        c.debt_recovery = Some(DebtRecovery {
            percent: self.debt_percent,
            cap: m(self.debt_cap),
            period: RecoveryPeriod::Week,
        });
        c.offset = UtcOffset::CHINA;
        c.friendly = FriendlyCalendar::new(self.friendly_hours, 0, &[]).unwrap();
        c
    }
}

/// One operation.
#[derive(Clone, Copy, Debug)]
pub enum Op {
    Tick,
    Debit(i64),
    Open {
        other: bool,
        count: u32,
        amount: i64,
    },
    Recharge {
        other: bool,
        count_delta: i8,
        amount: i64,
    },
    Emergency,
    SetDebt(i64),
    Command(u8, u16),
    Button,
}

const OFFSET: i64 = 8 * 3600;
const LAST_DAY: i64 = 2_932_896; // 9999-12-31

fn day(t: Timestamp) -> i64 {
    (t.unix().saturating_add(OFFSET))
        .div_euclid(86_400)
        .clamp(0, LAST_DAY)
}

fn week(t: Timestamp) -> i64 {
    // Days since 1970-01-01 (a Thursday); Monday-based weeks.
    (day(t) + 3).div_euclid(7)
}

/// The model's state.
#[derive(Clone, Debug)]
pub struct Model {
    pub p: Params,
    pub balance: i128,
    pub count: u32,
    pub customer: Option<[u8; 6]>,
    pub ec_debt: i128,
    pub debt: i128,
    pub recovered: i128,
    pub week: i64,
    pub standing_day: Option<i64>,
    /// Contacts as the drive pulses left them.
    pub contacts: Contacts,
    /// An operation succeeded, so the account's flags have been evaluated.
    pub evaluated: bool,
}

const ME: [u8; 6] = [1, 0, 0, 0, 0x12, 0x34];
const THEM: [u8; 6] = [2, 0, 0, 0, 0x12, 0x34];

impl Model {
    pub fn new(p: Params, opening: i64) -> Model {
        Model {
            p,
            balance: i128::from(opening),
            count: 0,
            customer: None,
            ec_debt: 0,
            debt: 0,
            recovered: 0,
            week: i64::MIN,
            standing_day: None,
            contacts: Contacts::Closed,
            evaluated: false,
        }
    }

    /// Standing charge due at `now`: (new day, amount).
    fn standing(&self, now: Timestamp) -> (Option<i64>, i128) {
        match self.standing_day {
            Some(last) if day(now) > last => (
                Some(day(now)),
                // At most STANDING_CATCH_UP_DAYS at once.
                i128::from((day(now) - last).min(31)) * i128::from(self.p.standing),
            ),
            other => (other, 0),
        }
    }

    fn take_standing(&mut self, now: Timestamp) {
        let (d, amount) = self.standing(now);
        self.standing_day = d;
        self.balance -= amount;
    }
}

/// The outcome the model predicts or the account gave.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Outcome {
    Ok,
    Recharge(RechargeError),
    Account(AccountError),
    Command(CommandError),
}

fn command(code: u8, delay: u16) -> RelayCommand {
    match code % 8 {
        0 => RelayCommand::Trip,
        1 => RelayCommand::ReconnectAllowed,
        2 => RelayCommand::DirectClose,
        3 => RelayCommand::TripRestore {
            delay_secs: u32::from(delay % 4000),
            then: if delay.is_multiple_of(2) {
                ReconnectMode::Button
            } else {
                ReconnectMode::Direct
            },
        },
        4 => RelayCommand::AlarmOn,
        5 => RelayCommand::AlarmOff,
        6 => RelayCommand::KeepPowerOn,
        _ => RelayCommand::KeepPowerOff,
    }
}

/// Runs `op` at `now` on the model and the account, and panics if they disagree or an
/// invariant fails.
pub fn step(model: &mut Model, account: &mut MoneyAccount, now: Timestamp, op: Op) {
    let before = account.clone();
    let m = Money::from_minor;
    let (outcome, fx): (Outcome, Option<Effects<Money>>) = match op {
        Op::Tick => (Outcome::Ok, Some(account.tick(now))),
        Op::Debit(x) => match account.debit(now, m(x)) {
            Ok(fx) => (Outcome::Ok, Some(fx)),
            Err(e) => (Outcome::Account(e), None),
        },
        Op::Open {
            other,
            count,
            amount,
        } => {
            let customer = CustomerNumber::new(if other { THEM } else { ME });
            match account.open(
                now,
                Purchase {
                    customer,
                    count,
                    amount: m(amount),
                },
            ) {
                Ok(r) => {
                    check_receipt(&r.record);
                    (Outcome::Ok, Some(r.effects))
                }
                Err(e) => (Outcome::Recharge(e), None),
            }
        }
        Op::Recharge {
            other,
            count_delta,
            amount,
        } => {
            let customer = CustomerNumber::new(if other { THEM } else { ME });
            let count = model.count.wrapping_add_signed(i32::from(count_delta));
            match account.recharge(
                now,
                Purchase {
                    customer,
                    count,
                    amount: m(amount),
                },
            ) {
                Ok(r) => {
                    check_receipt(&r.record);
                    (Outcome::Ok, Some(r.effects))
                }
                Err(e) => (Outcome::Recharge(e), None),
            }
        }
        Op::Emergency => match account.activate_emergency_credit(now) {
            Ok(fx) => (Outcome::Ok, Some(fx)),
            Err(e) => (Outcome::Account(e), None),
        },
        Op::SetDebt(x) => match account.set_debt(now, m(x)) {
            Ok(fx) => (Outcome::Ok, Some(fx)),
            Err(e) => (Outcome::Account(e), None),
        },
        Op::Command(code, delay) => match account.command(now, command(code, delay)) {
            Ok(fx) => (Outcome::Ok, Some(fx)),
            Err(e) => (Outcome::Command(e), None),
        },
        Op::Button => (Outcome::Ok, Some(account.press_button(now))),
    };

    let predicted = predict(model, &before, now, op);
    assert_eq!(outcome, predicted, "op {op:?} at {now:?}");
    let fresh = fx.is_some();
    match fx {
        None => assert_eq!(*account, before, "a refused {op:?} changed the account"),
        Some(fx) => check_effects(model, &before, account, &fx),
    }
    model.evaluated |= fresh;
    check_state(model, account, now, fresh);
}

fn check_receipt(r: &prepaid_meter::account::PurchaseRecord<Money>) {
    let lhs = i128::from(r.balance_after.minor());
    let rhs = i128::from(r.balance_before.minor()) + i128::from(r.amount.minor())
        - i128::from(r.emergency_repaid.minor())
        - i128::from(r.debt_recovered.minor());
    assert_eq!(lhs, rhs, "purchase record does not add up: {r:?}");
}

/// Applies `op` to the model; returns the predicted outcome.
fn predict(model: &mut Model, before: &MoneyAccount, now: Timestamp, op: Op) -> Outcome {
    let p = model.p;
    match op {
        Op::Tick | Op::Button => {
            model.take_standing(now);
            Outcome::Ok
        }
        Op::Debit(x) => {
            if x < 0 {
                return Outcome::Account(AccountError::InvalidAmount);
            }
            model.take_standing(now);
            model.balance -= i128::from(x);
            Outcome::Ok
        }
        Op::SetDebt(x) => {
            if x < 0 {
                return Outcome::Account(AccountError::InvalidAmount);
            }
            model.take_standing(now);
            model.debt = i128::from(x);
            Outcome::Ok
        }
        Op::Emergency => {
            let (d, standing) = model.standing(now);
            let balance = model.balance - standing;
            if model.ec_debt > 0 || balance > i128::from(p.ec_threshold) {
                return Outcome::Account(AccountError::EmergencyUnavailable);
            }
            model.standing_day = d;
            model.balance = balance + i128::from(p.ec_amount);
            model.ec_debt = i128::from(p.ec_amount);
            Outcome::Ok
        }
        Op::Command(code, delay) => {
            let cmd = command(code, delay);
            match cmd {
                RelayCommand::Trip if before.keep_power() => {
                    return Outcome::Command(CommandError::KeepPower);
                }
                RelayCommand::TripRestore { delay_secs, .. } => {
                    if before.keep_power() {
                        return Outcome::Command(CommandError::RestoreKeepPower);
                    }
                    if before.relay() != RelayState::Closed {
                        return Outcome::Command(CommandError::AlreadyTripped);
                    }
                    if delay_secs == 0 {
                        return Outcome::Command(CommandError::InvalidRestoreTime);
                    }
                }
                _ => {}
            }
            model.take_standing(now);
            Outcome::Ok
        }
        Op::Open {
            other,
            count,
            amount,
        } => {
            if model.customer.is_some() {
                return Outcome::Recharge(RechargeError::AlreadyOpen);
            }
            purchase(
                model,
                now,
                if other { THEM } else { ME },
                count,
                amount,
                true,
            )
        }
        Op::Recharge {
            other,
            count_delta,
            amount,
        } => {
            let customer = if other { THEM } else { ME };
            match model.customer {
                None => return Outcome::Recharge(RechargeError::NotOpen),
                Some(c) if c != customer => {
                    return Outcome::Recharge(RechargeError::CustomerMismatch);
                }
                Some(_) => {}
            }
            let count = model.count.wrapping_add_signed(i32::from(count_delta));
            purchase(model, now, customer, count, amount, false)
        }
    }
}

fn purchase(
    model: &mut Model,
    now: Timestamp,
    customer: [u8; 6],
    count: u32,
    amount: i64,
    open: bool,
) -> Outcome {
    let p = model.p;
    if amount < 0 || (!open && amount == 0) {
        return Outcome::Recharge(RechargeError::InvalidAmount);
    }
    if count == model.count {
        return Outcome::Recharge(RechargeError::RepeatedRecharge);
    }
    if Some(count) != model.count.checked_add(1) {
        return Outcome::Recharge(RechargeError::CountError);
    }
    let (d, standing) = model.standing(now);
    let amount = i128::from(amount);
    let ec = amount.min(model.ec_debt);
    let rest = amount - ec;
    let (mut recovered, mut wk) = (model.recovered, model.week);
    let mut take = 0;
    if model.debt > 0 {
        if week(now) > wk {
            wk = week(now);
            recovered = 0;
        }
        let share = amount * i128::from(p.debt_percent) / 100;
        let cap_left = (i128::from(p.debt_cap) - recovered).max(0);
        take = share.min(cap_left).min(model.debt).min(rest);
        recovered += take;
    }
    let after = model.balance - standing + rest - take;
    if after > i128::from(p.hoarding) {
        return Outcome::Recharge(RechargeError::HoardingLimit);
    }
    model.standing_day = d;
    model.balance = after;
    model.ec_debt -= ec;
    model.debt -= take;
    model.recovered = recovered;
    model.week = wk;
    model.count = count;
    if open {
        model.customer = Some(customer);
        model.standing_day = Some(day(now));
    }
    Outcome::Ok
}

fn check_effects(
    model: &mut Model,
    before: &MoneyAccount,
    after: &MoneyAccount,
    fx: &Effects<Money>,
) {
    // The drive pulse moves the contacts exactly when the relay's contacts changed.
    if let Some(c) = fx.drive {
        assert_ne!(c, model.contacts, "a pulse that moves nothing");
        model.contacts = c;
    }
    assert_eq!(model.contacts, after.relay().contacts());
    match fx.relay {
        Some(e) => {
            assert_eq!(e.from, before.relay());
            assert_eq!(e.to, after.relay());
            assert_ne!(e.from, e.to);
        }
        None => assert_eq!(before.relay(), after.relay()),
    }
    match fx.alarm {
        Some(e) => {
            assert_eq!(e.from, before.alarms());
            assert_eq!(e.to, after.alarms());
        }
        None => assert_eq!(before.alarms(), after.alarms()),
    }
    assert_eq!(fx.alarms, after.alarms());
    match fx.emergency {
        Some(e) => assert_eq!((e.from, e.to), (before.emergency(), after.emergency())),
        None => assert_eq!(before.emergency(), after.emergency()),
    }
    if let Some(o) = fx.overdraft {
        assert!(o.started <= o.ended);
        assert!(o.deepest.is_negative());
        assert!(!after.balance().is_negative());
    }
}

/// Checks the account against the model; flags only once evaluated, and time-dependent relay
/// rules only right after an operation that evaluated at `now`.
fn check_state(model: &Model, a: &MoneyAccount, now: Timestamp, fresh: bool) {
    let p = model.p;
    let b = i128::from(a.balance().minor());
    assert_eq!(b, model.balance, "balance");
    assert_eq!(a.purchase_count(), model.count, "count");
    assert_eq!(
        a.customer().map(|c| c.to_bytes()),
        model.customer,
        "customer"
    );
    assert_eq!(i128::from(a.emergency_outstanding().minor()), model.ec_debt);
    assert_eq!(i128::from(a.debt().minor()), model.debt);
    // Conservation: the totals account for the balance exactly.
    assert_eq!(a.totals().expected_balance(), Some(a.balance()));
    if !model.evaluated {
        return;
    }
    // Alarm flags follow the thresholds.
    let f = a.alarms();
    assert_eq!(
        f.contains(AlarmFlags::LOW_CREDIT_1),
        b <= i128::from(p.alarm1)
    );
    assert_eq!(
        f.contains(AlarmFlags::LOW_CREDIT_2),
        b <= i128::from(p.alarm2)
    );
    assert_eq!(f.contains(AlarmFlags::OVERDRAFT), b < 0);
    if b <= -i128::from(p.overdraft) {
        assert!(f.contains(AlarmFlags::EXHAUSTED));
    }
    if b > i128::from(p.reconnect) {
        assert!(!f.contains(AlarmFlags::EXHAUSTED));
    }
    assert_eq!(a.overdraft().is_some(), b < 0);
    if !fresh {
        return;
    }
    // A trip demanded outside a friendly period leaves the relay open.
    let remote = a.remote_trip() != prepaid_meter::account::RemoteTrip::None;
    if !a.keep_power() && (remote || (f.contains(AlarmFlags::EXHAUSTED) && !a.is_friendly(now))) {
        assert_ne!(
            a.relay(),
            RelayState::Closed,
            "a demanded trip was not executed"
        );
    }
    if a.keep_power() {
        assert!(
            !matches!(a.relay(), RelayState::Open(_)),
            "keep-power left the relay open"
        );
    }
}
