//! Standing charges and debt recovery: hand-computed scenarios, including the SMETS2 manual's
//! worked example (10 % of each payment, at most 5 per week, 10 paid every day).

use crate::account_support;

use account_support::{at, config, fen, opened, purchase, t0, yuan};
use prepaid_meter::account::{
    DebtRecovery, EmergencyCredit, FriendlyCalendar, MoneyAccount, RecoveryPeriod, Trigger,
};
use prepaid_meter::units::Money;

fn with_standing(per_day: Money) -> prepaid_meter::account::Config<Money> {
    let mut c = config();
    c.standing_charge = per_day;
    c
}

#[test]
fn standing_charge_daily_from_the_day_after_opening() {
    // Opened Monday 2025-03-03 10:00 with 30.00; 0.50 a day.
    let mut a = opened(with_standing(fen(50)), 30);
    assert!(a.tick(at(2025, 3, 3, 23, 59)).standing_charge.is_none());
    let fx = a.tick(at(2025, 3, 4, 0, 0));
    let c = fx.standing_charge.unwrap();
    assert_eq!((c.days, c.amount), (1, fen(50)));
    assert_eq!(a.balance(), fen(2950));
    // Again the same day: nothing.
    assert!(a.tick(at(2025, 3, 4, 18, 0)).standing_charge.is_none());
    // A power cut until Friday noon: Wednesday, Thursday and Friday, in one step.
    let c = a.tick(at(2025, 3, 7, 12, 0)).standing_charge.unwrap();
    assert_eq!((c.days, c.amount), (3, fen(150)));
    assert_eq!(a.balance(), fen(2800));
    assert_eq!(a.totals().standing, fen(200));
    assert_eq!(a.totals().expected_balance(), Some(a.balance()));
}

#[test]
fn standing_charge_needs_an_open_account() {
    let mut a = MoneyAccount::new(with_standing(fen(50)), yuan(10)).unwrap();
    let _ = a.tick(at(2025, 3, 3, 10, 0));
    assert!(a.tick(at(2025, 3, 9, 10, 0)).standing_charge.is_none());
    assert_eq!(a.balance(), yuan(10));
}

#[test]
fn standing_charge_is_not_taken_twice_when_the_clock_goes_back() {
    let mut a = opened(with_standing(fen(50)), 30);
    let _ = a.tick(at(2025, 3, 5, 1, 0)); // two days
    assert_eq!(a.balance(), yuan(29));
    assert!(a.tick(at(2025, 3, 4, 1, 0)).standing_charge.is_none());
    assert!(a.tick(at(2025, 3, 5, 2, 0)).standing_charge.is_none());
    assert_eq!(
        a.tick(at(2025, 3, 6, 0, 0)).standing_charge.unwrap().days,
        1
    );
}

#[test]
fn standing_charge_continues_when_open_or_friendly_and_drives_overdraft() {
    let mut c = with_standing(yuan(2));
    c.friendly = FriendlyCalendar::new(0, 0b0110_0000, &[]).unwrap(); // Saturday and Sunday
    let mut a = opened(c, 3);
    // Tuesday: 1.00. Wednesday: -1.00 (overdraft). Thursday: -3.00. Friday: -5.00, exhausted.
    let _ = a.tick(at(2025, 3, 4, 0, 0));
    assert_eq!(a.balance(), yuan(1));
    let fx = a.tick(at(2025, 3, 7, 0, 0));
    assert_eq!(fx.standing_charge.unwrap().days, 3);
    assert_eq!(a.balance(), yuan(-5));
    assert_eq!(fx.relay.unwrap().trigger, Trigger::Tick);
    // Over the weekend the relay is already open; charges go on.
    let _ = a.tick(at(2025, 3, 9, 0, 0));
    assert_eq!(a.balance(), yuan(-9));
    // The recharge result shows the standing charge taken by the same call.
    let r = a
        .recharge(at(2025, 3, 10, 9, 0), purchase(2, yuan(20)))
        .unwrap();
    assert_eq!(r.record.standing_charge, yuan(2));
    assert_eq!(r.record.balance_before, yuan(-11));
    assert_eq!(r.record.overdraft_repaid, yuan(11));
    assert_eq!(r.record.balance_after, yuan(9));
    let od = r.effects.overdraft.unwrap();
    assert_eq!(od.deepest, yuan(-11));
    assert_eq!(od.started, at(2025, 3, 7, 0, 0));
}

#[test]
fn reconfigure_takes_due_standing_charges_at_the_old_rate() {
    let mut a = opened(with_standing(fen(50)), 30);
    let fx = a
        .reconfigure(at(2025, 3, 6, 9, 0), with_standing(yuan(1)))
        .unwrap();
    assert_eq!(fx.standing_charge.unwrap().amount, fen(150));
    let _ = a.tick(at(2025, 3, 7, 0, 0));
    assert_eq!(a.balance(), yuan(30).checked_sub(fen(250)).unwrap());
}

fn smets2() -> prepaid_meter::account::Config<Money> {
    let mut c = config();
    c.debt_recovery = Some(DebtRecovery {
        percent: 10,
        cap: yuan(5),
        period: RecoveryPeriod::Week,
    });
    c
}

#[test]
fn smets2_example_ten_percent_capped_weekly() {
    let mut a = opened(smets2(), 100);
    let _ = a.set_debt(t0(), yuan(100)).unwrap();
    // 10.00 paid every day from Monday 2025-03-03 to Monday 2025-03-10.
    let mut taken = Vec::new();
    for (i, d) in (3u8..=10).enumerate() {
        let r = a
            .recharge(at(2025, 3, d, 12, 0), purchase(i as u32 + 2, yuan(10)))
            .unwrap();
        assert_eq!(
            r.record.balance_after,
            r.record
                .balance_before
                .checked_add(yuan(10))
                .unwrap()
                .checked_sub(r.record.debt_recovered)
                .unwrap()
        );
        taken.push(r.record.debt_recovered);
    }
    let one = yuan(1);
    let zero = Money::ZERO;
    // Mon-Fri 1.00 each, Sat and Sun nothing (the 5.00 cap is reached), next Monday 1.00.
    assert_eq!(taken, [one, one, one, one, one, zero, zero, one]);
    assert_eq!(a.debt(), yuan(94));
    assert_eq!(a.totals().debt_recovered, yuan(6));
    assert_eq!(a.totals().expected_balance(), Some(a.balance()));
}

#[test]
fn debt_recovery_rounds_down_and_stops_at_the_debt() {
    let mut a = opened(smets2(), 100);
    let _ = a.set_debt(t0(), fen(30)).unwrap();
    // 10 % of 0.0009 is 0.00009: rounded down to nothing, the customer keeps it.
    let r = a.recharge(t0(), purchase(2, Money::from_minor(9))).unwrap();
    assert_eq!(r.record.debt_recovered, Money::ZERO);
    // 10 % of 10.00 is 1.00, but only 0.30 is owed.
    let r = a.recharge(t0(), purchase(3, yuan(10))).unwrap();
    assert_eq!(r.record.debt_recovered, fen(30));
    assert_eq!(a.debt(), Money::ZERO);
    // 10 % of 12.3457 = 1.23457 -> 1.2345.
    let _ = a.set_debt(t0(), yuan(10)).unwrap();
    let r = a
        .recharge(t0(), purchase(4, Money::from_minor(123_457)))
        .unwrap();
    assert_eq!(r.record.debt_recovered, Money::from_minor(12_345));
}

#[test]
fn debt_recovery_monthly_cap_resets_on_the_first() {
    let mut c = smets2();
    c.debt_recovery = Some(DebtRecovery {
        percent: 50,
        cap: yuan(3),
        period: RecoveryPeriod::Month,
    });
    let mut a = opened(c, 100);
    let _ = a.set_debt(at(2025, 3, 3, 10, 0), yuan(100)).unwrap();
    let r = a
        .recharge(at(2025, 3, 31, 23, 59), purchase(2, yuan(10)))
        .unwrap();
    assert_eq!(r.record.debt_recovered, yuan(3));
    let r = a
        .recharge(at(2025, 3, 31, 23, 59), purchase(3, yuan(10)))
        .unwrap();
    assert_eq!(r.record.debt_recovered, Money::ZERO);
    let r = a
        .recharge(at(2025, 4, 1, 0, 0), purchase(4, yuan(10)))
        .unwrap();
    assert_eq!(r.record.debt_recovered, yuan(3));
}

#[test]
fn emergency_credit_is_repaid_before_debt_recovery() {
    let mut c = smets2();
    c.emergency = Some(EmergencyCredit {
        amount: fen(950),
        threshold: yuan(3),
    });
    let mut a = opened(c, 3);
    let _ = a.set_debt(t0(), yuan(50)).unwrap();
    let _ = a.activate_emergency_credit(t0()).unwrap(); // 12.50, owing 9.50
    let r = a.recharge(t0(), purchase(2, yuan(10))).unwrap();
    assert_eq!(r.record.emergency_repaid, fen(950));
    // The 1.00 share is limited to the 0.50 that remains.
    assert_eq!(r.record.debt_recovered, fen(50));
    assert_eq!(r.record.balance_after, r.record.balance_before);
    assert_eq!(a.totals().expected_balance(), Some(a.balance()));
}

#[test]
fn set_debt_rejects_negative() {
    let mut a = opened(smets2(), 10);
    let before = a.clone();
    assert!(a.set_debt(t0(), fen(-1)).is_err());
    assert_eq!(a, before);
}
