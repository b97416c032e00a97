//! Bad input: configurations out of order are refused with typed errors; arbitrary amounts,
//! counts, prices, delays and timestamps (including the extremes of `i64`) never panic, and
//! every refusal leaves the account exactly as it was.

use crate::account_support;

use account_support::{CUSTOMER, OTHER, config, yuan};
use prepaid_meter::account::{
    AccountConfigError, Config, DebtRecovery, EmergencyCredit, EnergyAccount, Limits, MoneyAccount,
    ReconnectMode, RecoveryPeriod, RelayCommand,
};
use prepaid_meter::purchase::Purchase;
use prepaid_meter::time::Timestamp;
use prepaid_meter::units::{Energy, Money, Price};
use proptest::prelude::*;

#[test]
fn thresholds_out_of_order_are_typed_errors() {
    let mut c = config();
    c.limits.alarm2 = yuan(21);
    assert_eq!(
        MoneyAccount::<16>::new(c, Money::ZERO).unwrap_err(),
        AccountConfigError::AlarmsOutOfOrder
    );
    let mut c = config();
    c.limits.overdraft = yuan(-1);
    assert_eq!(
        MoneyAccount::<16>::new(c, Money::ZERO).unwrap_err(),
        AccountConfigError::NegativeOverdraftLimit
    );
    let mut c = config();
    c.limits.hoarding = Money::ZERO;
    assert_eq!(
        MoneyAccount::<16>::new(c, Money::ZERO).unwrap_err(),
        AccountConfigError::HoardingLimitNotPositive
    );
}

#[test]
fn a_refused_reconfiguration_changes_nothing() {
    let mut a = MoneyAccount::new(config(), yuan(10)).unwrap();
    let _ = a.tick(Timestamp::from_unix(0));
    let before = a.clone();
    let mut c = config();
    c.limits.alarm2 = Money::from_minor(-1);
    assert_eq!(
        a.reconfigure(Timestamp::from_unix(1), c),
        Err(AccountConfigError::NegativeAlarm)
    );
    assert_eq!(a, before);
}

fn money() -> impl Strategy<Value = Money> {
    prop_oneof![
        Just(Money::MIN),
        Just(Money::MAX),
        Just(Money::ZERO),
        any::<i64>().prop_map(Money::from_minor),
        (-10_000_000i64..10_000_000).prop_map(Money::from_minor),
    ]
}

fn time() -> impl Strategy<Value = Timestamp> {
    prop_oneof![
        Just(Timestamp::from_unix(i64::MIN)),
        Just(Timestamp::from_unix(i64::MAX)),
        any::<i64>().prop_map(Timestamp::from_unix),
        (0i64..300_000_000_000).prop_map(Timestamp::from_unix),
    ]
}

#[derive(Clone, Debug)]
enum Op {
    Tick,
    Debit(Money),
    Open(u32, Money),
    Recharge(bool, u32, Money),
    Emergency,
    Debt(Money),
    Command(RelayCommand),
    Button,
    Reconfigure(Limits<Money>),
}

fn command() -> impl Strategy<Value = RelayCommand> {
    prop_oneof![
        Just(RelayCommand::Trip),
        Just(RelayCommand::ReconnectAllowed),
        Just(RelayCommand::DirectClose),
        (any::<u32>(), any::<bool>()).prop_map(|(d, b)| RelayCommand::TripRestore {
            delay_secs: d,
            then: if b {
                ReconnectMode::Direct
            } else {
                ReconnectMode::Button
            },
        }),
        Just(RelayCommand::AlarmOn),
        Just(RelayCommand::AlarmOff),
        Just(RelayCommand::KeepPowerOn),
        Just(RelayCommand::KeepPowerOff),
    ]
}

fn limits() -> impl Strategy<Value = Limits<Money>> {
    let any_limits =
        (money(), money(), money(), money(), money()).prop_map(|(a1, a2, o, h, r)| Limits {
            alarm1: a1,
            alarm2: a2,
            overdraft: o,
            hoarding: h,
            reconnect: r,
        });
    // Valid orderings, at any magnitude up to the extremes.
    let valid = (
        0..i64::MAX,
        0..i64::MAX,
        0..i64::MAX,
        any::<i64>(),
        any::<u64>(),
    )
        .prop_map(|(a, b, c, o, r)| {
            let mut v = [a, b, c];
            v.sort_unstable();
            let hoarding = v[2].saturating_add(1);
            Limits {
                alarm2: Money::from_minor(v[0]),
                alarm1: Money::from_minor(v[1].min(hoarding - 1)),
                overdraft: Money::from_minor(o.checked_abs().unwrap_or(i64::MAX)),
                hoarding: Money::from_minor(hoarding),
                reconnect: Money::from_minor((r % hoarding as u64) as i64),
            }
        });
    prop_oneof![any_limits, valid]
}

fn op() -> impl Strategy<Value = Op> {
    prop_oneof![
        Just(Op::Tick),
        money().prop_map(Op::Debit),
        (any::<u32>(), money()).prop_map(|(c, m)| Op::Open(c, m)),
        (any::<bool>(), any::<u32>(), money()).prop_map(|(o, c, m)| Op::Recharge(o, c, m)),
        Just(Op::Emergency),
        money().prop_map(Op::Debt),
        command().prop_map(Op::Command),
        Just(Op::Button),
        limits().prop_map(Op::Reconfigure),
    ]
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 300, ..ProptestConfig::default() })]

    /// Any configuration is either valid or refused; valid ones survive any operations.
    #[test]
    fn arbitrary_configs_and_operations_never_panic(
        l in limits(),
        ec in proptest::option::of((money(), money())),
        standing in money(),
        debt in proptest::option::of((any::<u8>(), money())),
        opening in money(),
        ops in prop::collection::vec((time(), op()), 0..60),
    ) {
        let mut c = Config::local(l);
        c.emergency = ec.map(|(amount, threshold)| EmergencyCredit { amount, threshold });
        c.standing_charge = standing;
        c.debt_recovery = debt.map(|(percent, cap)| DebtRecovery { percent, cap, period: RecoveryPeriod::Day });
        let valid = c.validate();
        let account = MoneyAccount::<16>::new(c.clone(), opening);
        prop_assert_eq!(valid.is_ok(), account.is_ok());
        let Ok(mut a) = account else { return Ok(()) };
        for (now, op) in ops {
            let before = a.clone();
            let refused = match op {
                Op::Tick => { let _ = a.tick(now); false }
                Op::Debit(m) => a.debit(now, m).is_err(),
                Op::Open(n, m) => a.open(now, Purchase { customer: CUSTOMER, count: n, amount: m }).is_err(),
                Op::Recharge(o, n, m) => {
                    let customer = if o { OTHER } else { CUSTOMER };
                    a.recharge(now, Purchase { customer, count: n, amount: m }).is_err()
                }
                Op::Emergency => a.activate_emergency_credit(now).is_err(),
                Op::Debt(m) => a.set_debt(now, m).is_err(),
                Op::Command(cmd) => a.command(now, cmd).is_err(),
                Op::Button => { let _ = a.press_button(now); false }
                Op::Reconfigure(l) => {
                    let mut c2 = c.clone();
                    c2.limits = l;
                    a.reconfigure(now, c2).is_err()
                }
            };
            if refused {
                prop_assert_eq!(&a, &before);
            }
            if let Some(expected) = a.totals().expected_balance() {
                prop_assert_eq!(expected, a.balance());
            }
        }
    }

    #[test]
    fn energy_conversion_never_panics(
        opening in any::<i64>(),
        old in any::<u32>(),
        new in any::<u32>(),
        now in time(),
    ) {
        let mut c = Config::local(Limits {
            alarm1: Energy::ZERO,
            alarm2: Energy::ZERO,
            overdraft: Energy::ZERO,
            hoarding: Energy::MAX,
            reconnect: Energy::ZERO,
        });
        c.standing_charge = Energy::ZERO;
        let mut a = EnergyAccount::new(c, Energy::from_wh(opening)).unwrap();
        // The first price sets the price; the second converts from it.
        for p in [old, new] {
            let before = a.clone();
            if a.change_price(now, Price::from_minor_per_kwh(p)).is_err() {
                prop_assert_eq!(&a, &before);
            }
        }
    }
}
