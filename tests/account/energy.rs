//! Credit in energy (kWh credit) and the tariff change that re-expresses it at a new price.

use crate::account_support;

use account_support::{CUSTOMER, t0};
use prepaid_meter::account::{
    AccountError, AlarmFlags, Config, EmergencyCredit, EnergyAccount, Limits, RelayState,
    TripReason,
};
use prepaid_meter::purchase::Purchase;
use prepaid_meter::time::Timestamp;
use prepaid_meter::units::{Energy, Price};
use proptest::prelude::*;

fn kwh(k: i64) -> Energy {
    Energy::from_kwh(k)
}

fn wh(w: i64) -> Energy {
    Energy::from_wh(w)
}

fn price(minor: u32) -> Price {
    Price::from_minor_per_kwh(minor)
}

fn config() -> Config<Energy> {
    Config::local(Limits {
        alarm1: kwh(20),
        alarm2: kwh(10),
        overdraft: kwh(5),
        hoarding: kwh(9_999),
        reconnect: kwh(1),
    })
}

fn opened(balance_wh: i64) -> EnergyAccount {
    let mut a = EnergyAccount::new(config(), Energy::ZERO).unwrap();
    let _ = a
        .open(
            t0(),
            Purchase {
                customer: CUSTOMER,
                count: 1,
                amount: wh(balance_wh),
            },
        )
        .unwrap();
    let _ = a.tick(t0());
    a
}

/// Holds `a`'s credit at `p` (its first price: nothing is converted).
fn priced(a: &mut EnergyAccount, p: u32) -> &mut EnergyAccount {
    let c = a.change_price(t0(), price(p)).unwrap();
    assert_eq!(c.record.balance_after, c.record.balance_before);
    a
}

#[test]
fn energy_credit_is_debited_by_energy() {
    let mut a = opened(30_000);
    let fx = a.debit(t0(), wh(10_000)).unwrap();
    assert!(fx.alarms.contains(AlarmFlags::LOW_CREDIT_1));
    let _ = a.debit(t0(), wh(25_000)).unwrap(); // -5 kWh: exhausted
    assert_eq!(a.relay(), RelayState::Open(TripReason::Credit));
    assert_eq!(a.overdrawn(), kwh(5));
}

#[test]
fn conversion_hand_computed() {
    // 100 kWh bought at 0.5000/kWh is worth 50.0000; at 0.6000/kWh that is 83.333... kWh,
    // rounded up to 83.334 kWh. The customer gains 0.004 kWh x 0.6 = 0.0024 -> value
    // 83 334 x 6 000 - 100 000 x 5 000 = 4 000 thousandths of a minor unit (0.0004).
    let mut a = opened(100_000);
    let c = priced(&mut a, 5_000)
        .change_price(t0(), price(6_000))
        .unwrap();
    assert_eq!(c.record.balance_before, wh(100_000));
    assert_eq!(c.record.balance_after, wh(83_334));
    assert_eq!(c.record.residue, 4_000);
    assert_eq!(a.balance(), wh(83_334));
    assert_eq!(a.conversion_residue(), 4_000);
    assert_eq!(a.totals().converted, wh(-16_666));
    assert_eq!(a.totals().expected_balance(), Some(a.balance()));
}

#[test]
fn conversion_exact_when_it_divides() {
    let mut a = opened(60_000);
    let c = priced(&mut a, 5_000)
        .change_price(t0(), price(6_000))
        .unwrap();
    assert_eq!((c.record.balance_after, c.record.residue), (wh(50_000), 0));
}

#[test]
fn negative_balance_rounds_toward_less_debt() {
    let mut a = opened(10_000);
    let _ = a.debit(t0(), wh(20_001)).unwrap(); // -10.001 kWh
    let c = priced(&mut a, 5_000)
        .change_price(t0(), price(6_000))
        .unwrap();
    // -10 001 x 5 000 / 6 000 = -8 334.17 -> -8 334 (less owed).
    assert_eq!(c.record.balance_after, wh(-8_334));
    assert_eq!(c.record.residue, -8_334 * 6_000 + 10_001 * 5_000);
    assert!(c.record.residue >= 0);
}

#[test]
fn emergency_credit_and_debt_round_down() {
    let mut cfg = config();
    cfg.emergency = Some(EmergencyCredit {
        amount: wh(1_001),
        threshold: kwh(3),
    });
    let mut a = EnergyAccount::new(cfg, Energy::ZERO).unwrap();
    let _ = a
        .open(
            t0(),
            Purchase {
                customer: CUSTOMER,
                count: 1,
                amount: kwh(2),
            },
        )
        .unwrap();
    let _ = a.activate_emergency_credit(t0()).unwrap(); // 3.001 kWh, owing 1.001
    let _ = a.set_debt(t0(), wh(777)).unwrap();
    let c = priced(&mut a, 7_000)
        .change_price(t0(), price(3_000))
        .unwrap()
        .record;
    // 3 001 x 7/3 = 7 002.33 -> 7 003 up; 1 001 x 7/3 = 2 335.67 -> 2 335 down;
    // 777 x 7/3 = 1 813 exactly.
    assert_eq!(c.balance_after, wh(7_003));
    assert_eq!(c.emergency_after, wh(2_335));
    assert_eq!(c.debt_after, wh(1_813));
    assert_eq!(a.emergency_outstanding(), wh(2_335));
    assert_eq!(a.debt(), wh(1_813));
    let value = |e: Energy, p: u32| i128::from(e.wh()) * i128::from(p);
    let residue = (value(c.balance_after, 3_000) - value(c.balance_before, 7_000))
        - (value(c.emergency_after, 3_000) - value(c.emergency_before, 7_000))
        - (value(c.debt_after, 3_000) - value(c.debt_before, 7_000));
    assert_eq!(i128::from(c.residue), residue);
}

#[test]
fn conversion_moves_alarms() {
    let mut a = opened(25_000);
    let c = priced(&mut a, 5_000)
        .change_price(t0(), price(7_000))
        .unwrap();
    assert_eq!(c.record.balance_after, wh(17_858)); // 17 857.14 up
    assert_eq!(c.effects.alarm.unwrap().raised(), AlarmFlags::LOW_CREDIT_1);
}

#[test]
fn bad_prices_and_overflow_are_refused_unchanged() {
    let mut a = opened(100_000);
    let before = a.clone();
    assert_eq!(
        a.change_price(t0(), Price::ZERO).unwrap_err(),
        AccountError::InvalidPrice
    );
    assert_eq!(a, before);
    let _ = priced(&mut a, 1);
    let before = a.clone();
    assert_eq!(
        a.change_price(t0(), Price::ZERO).unwrap_err(),
        AccountError::InvalidPrice
    );
    assert_eq!(a, before);
    // A huge balance whose value at the new price does not fit in i64 Wh.
    let mut cfg = config();
    cfg.limits.hoarding = Energy::MAX;
    let mut big = EnergyAccount::new(cfg, Energy::from_wh(i64::MAX / 2)).unwrap();
    let _ = priced(&mut big, u32::MAX);
    let before = big.clone();
    assert_eq!(
        big.change_price(t0(), price(1)).unwrap_err(),
        AccountError::Overflow
    );
    assert_eq!(big, before);
}

#[test]
fn the_first_price_sets_the_price_and_converts_nothing() {
    let mut a = opened(100_000);
    assert_eq!(a.price(), None);
    let c = a.change_price(t0(), price(5_000)).unwrap();
    assert_eq!((c.record.old, c.record.new), (price(5_000), price(5_000)));
    assert_eq!(c.record.balance_after, wh(100_000));
    assert_eq!(c.record.residue, 0);
    assert_eq!(a.price(), Some(price(5_000)));
    assert_eq!(a.balance(), wh(100_000));
    // The next change converts from the price the account holds, and keeps the new one.
    let c = a.change_price(t0(), price(6_000)).unwrap();
    assert_eq!(c.record.old, price(5_000));
    assert_eq!(a.price(), Some(price(6_000)));
    // The price survives a store and restore.
    let back = EnergyAccount::restore(a.config().clone(), a.state()).unwrap();
    assert_eq!(back.price(), Some(price(6_000)));
}

proptest! {
    /// Value is conserved exactly: the residue is what the customer gained, zero or more, and
    /// less than one Wh of each register at the new price.
    #[test]
    fn conversion_conserves_value(
        balance in -10_000_000_000i64..10_000_000_000,
        debt in 0i64..1_000_000_000,
        old in 1u32..=99_999_999,
        new in 1u32..=99_999_999,
    ) {
        let mut cfg = config();
        cfg.limits.hoarding = Energy::MAX;
        let mut a = EnergyAccount::new(cfg, wh(balance)).unwrap();
        let _ = a.set_debt(Timestamp::from_unix(0), wh(debt)).unwrap();
        let _ = priced(&mut a, old);
        let before = a.clone();
        match a.change_price(t0(), price(new)) {
            Ok(c) => {
                let c = c.record;
                let (o, n) = (i128::from(old), i128::from(new));
                let db = i128::from(c.balance_after.wh()) * n - i128::from(c.balance_before.wh()) * o;
                let dd = i128::from(c.debt_after.wh()) * n - i128::from(c.debt_before.wh()) * o;
                prop_assert!(db >= 0 && db < n, "balance rounded up by less than 1 Wh");
                prop_assert!(dd <= 0 && -dd < n, "debt rounded down by less than 1 Wh");
                prop_assert_eq!(i128::from(c.residue), db - dd);
                prop_assert_eq!(a.totals().expected_balance(), Some(a.balance()));
            }
            Err(e) => {
                prop_assert_eq!(e, AccountError::Overflow);
                prop_assert_eq!(a, before);
            }
        }
    }

    /// Converting there and back never leaves the customer with less energy.
    #[test]
    fn round_trip_favours_the_customer(
        balance in -1_000_000_000i64..1_000_000_000,
        p1 in 1u32..=99_999_999,
        p2 in 1u32..=99_999_999,
    ) {
        let mut cfg = config();
        cfg.limits.hoarding = Energy::MAX;
        let mut a = EnergyAccount::new(cfg, wh(balance)).unwrap();
        if priced(&mut a, p1).change_price(t0(), price(p2)).is_ok()
            && a.change_price(t0(), price(p1)).is_ok()
        {
            prop_assert!(a.balance() >= wh(balance));
        }
    }
}
