//! Account-level attacks that ride on a clock moved by someone without keys, or on a caller's
//! stale input. Each test names its attack and shows it refused or bounded.

use crate::account_support;

use account_support::{CUSTOMER, t0};
use prepaid_meter::account::{
    AccountError, AccountStateError, Config, EnergyAccount, Limits, MoneyAccount,
    STANDING_CATCH_UP_DAYS,
};
use prepaid_meter::purchase::Purchase;
use prepaid_meter::units::{Energy, Money, Price};

fn yuan(y: i64) -> Money {
    Money::from_units(y).unwrap()
}

fn money_account() -> MoneyAccount {
    let mut config = Config::local(Limits {
        alarm1: yuan(20),
        alarm2: yuan(10),
        overdraft: yuan(5),
        hoarding: yuan(5000),
        reconnect: yuan(1),
    });
    config.standing_charge = yuan(1);
    let mut a = MoneyAccount::new(config, yuan(0)).unwrap();
    let purchase = Purchase {
        customer: CUSTOMER,
        count: 1,
        amount: yuan(1000),
    };
    let _ = a.open(t0(), purchase).unwrap();
    a
}

/// Attack: a forward clock jump of twenty years charged 7300 days of standing charges at once,
/// and a jump back refunded nothing (and was not recorded).
#[test]
fn clock_jumps_bound_standing_charges_and_are_recorded() {
    let mut a = money_account();
    let twenty_years = t0().checked_add_secs(7300 * 86_400).unwrap();
    let fx = a.tick(twenty_years);
    let charge = fx.standing_charge.unwrap();
    assert_eq!(charge.days, STANDING_CATCH_UP_DAYS);
    assert_eq!(a.balance(), yuan(1000 - 31));
    let jump = fx.clock.unwrap();
    assert_eq!(jump.uncharged_days, 7300 - 31);
    // Back to the start: recorded, nothing charged or refunded, and the days between are not
    // charged a second time when the clock runs forward again.
    let fx = a.tick(t0());
    let back = fx.clock.unwrap();
    assert!(back.to_day < back.from_day);
    assert_eq!(back.uncharged_days, 0);
    assert_eq!(fx.standing_charge, None);
    assert_eq!(a.balance(), yuan(1000 - 31));
    let fx = a.tick(t0().checked_add_secs(10 * 86_400).unwrap());
    assert_eq!(fx.standing_charge, None);
    assert_eq!(a.balance(), yuan(1000 - 31));
}

/// Attack: `change_price` trusted the caller's old price and applied no hoarding limit: a
/// stale old price re-expressed 50 kWh as 214 GWh. Now the old price is the one the account
/// holds (the caller gives only the new one), a replayed price change converts nothing, and
/// the hoarding limit bounds a price cut.
#[test]
fn a_stale_old_price_cannot_inflate_energy_credit() {
    let config = Config::local(Limits {
        alarm1: Energy::from_kwh(20),
        alarm2: Energy::from_kwh(10),
        overdraft: Energy::from_kwh(5),
        hoarding: Energy::from_kwh(9_999),
        reconnect: Energy::from_kwh(1),
    });
    let mut a = EnergyAccount::new(config, Energy::ZERO).unwrap();
    let purchase = Purchase {
        customer: CUSTOMER,
        count: 1,
        amount: Energy::from_kwh(50),
    };
    let _ = a.open(t0(), purchase).unwrap();
    // The credit was bought at 0.6000 a kWh.
    let _ = a
        .change_price(t0(), Price::from_minor_per_kwh(6_000))
        .unwrap();
    // A price cut to 0.0001 would make 50 kWh into 300 000 kWh: above the hoarding limit.
    let before = a.clone();
    let err = a
        .change_price(t0(), Price::from_minor_per_kwh(1))
        .unwrap_err();
    assert_eq!(err, AccountError::HoardingLimit);
    assert_eq!(a, before);
    // A real price change within the limit goes through, from the price the account holds.
    let c = a
        .change_price(t0(), Price::from_minor_per_kwh(5_000))
        .unwrap();
    assert_eq!(c.record.old, Price::from_minor_per_kwh(6_000));
    assert_eq!(c.record.balance_after, Energy::from_kwh(60));
    // The same change again (a replayed request) converts nothing more.
    let c = a
        .change_price(t0(), Price::from_minor_per_kwh(5_000))
        .unwrap();
    assert_eq!(c.record.balance_after, Energy::from_kwh(60));
    assert_eq!(a.balance(), Energy::from_kwh(60));
}

/// A stored state that claims a price for money credit, or a price of zero, is refused.
#[test]
fn a_restored_price_must_fit_the_unit() {
    let a = money_account();
    let mut state = a.state();
    state.price = Some(Price::from_minor_per_kwh(5_000));
    assert_eq!(
        MoneyAccount::restore(a.config().clone(), state).unwrap_err(),
        AccountStateError::Price
    );
    let config = Config::local(Limits {
        alarm1: Energy::from_kwh(20),
        alarm2: Energy::from_kwh(10),
        overdraft: Energy::from_kwh(5),
        hoarding: Energy::from_kwh(9_999),
        reconnect: Energy::from_kwh(1),
    });
    let e = EnergyAccount::new(config, Energy::ZERO).unwrap();
    let mut state = e.state();
    state.price = Some(Price::ZERO);
    assert_eq!(
        EnergyAccount::restore(e.config().clone(), state).unwrap_err(),
        AccountStateError::Price
    );
}

/// Attack: a deserialised account validated its configuration but not its state (fixed
/// before this work: verified here).
#[test]
fn an_impossible_restored_state_is_refused() {
    let a = money_account();
    let mut state = a.state();
    // A balance the running totals do not add up to.
    state.balance = yuan(1_000_000);
    assert_eq!(
        MoneyAccount::restore(a.config().clone(), state).unwrap_err(),
        AccountStateError::Totals
    );
}
