//! Helpers shared by the account tests (not a test target itself).
#![allow(dead_code)]
#![allow(clippy::unwrap_used, clippy::panic)] // test helpers outside #[test] functions

pub mod model;

use prepaid_meter::account::{Config, Limits, MoneyAccount};
use prepaid_meter::purchase::{CustomerNumber, Purchase};
use prepaid_meter::time::{Date, DateTime, Time, Timestamp, UtcOffset};
use prepaid_meter::units::Money;

/// Local time in China (UTC+8).
pub fn at(y: u16, mo: u8, d: u8, h: u8, mi: u8) -> Timestamp {
    DateTime::new(Date::new(y, mo, d).unwrap(), Time::new(h, mi, 0).unwrap())
        .to_timestamp(UtcOffset::CHINA)
}

/// `secs` after `t`.
pub fn after(t: Timestamp, secs: i64) -> Timestamp {
    t.checked_add_secs(secs).unwrap()
}

/// Whole yuan.
pub fn yuan(y: i64) -> Money {
    Money::from_units(y).unwrap()
}

/// Fen (cents).
pub fn fen(c: i64) -> Money {
    Money::from_cents(c).unwrap()
}

pub const CUSTOMER: CustomerNumber = CustomerNumber::new([0x01, 0x00, 0x00, 0x00, 0x12, 0x34]);
pub const OTHER: CustomerNumber = CustomerNumber::new([0x02, 0x00, 0x00, 0x00, 0x12, 0x34]);

/// alarm1 20, alarm2 10, overdraft 5, hoarding 5000, reconnect 1 (yuan).
pub fn limits() -> Limits<Money> {
    Limits {
        alarm1: yuan(20),
        alarm2: yuan(10),
        overdraft: yuan(5),
        hoarding: yuan(5000),
        reconnect: yuan(1),
    }
}

pub fn config() -> Config<Money> {
    Config::local(limits())
}

pub fn purchase(count: u32, amount: Money) -> Purchase<Money> {
    Purchase {
        customer: CUSTOMER,
        count,
        amount,
    }
}

/// 2025-03-03 (a Monday) 10:00 local.
pub fn t0() -> Timestamp {
    at(2025, 3, 3, 10, 0)
}

/// An account with `config`, opened at [`t0`] with `balance` yuan (count 1), ticked once.
pub fn opened(config: Config<Money>, balance: i64) -> MoneyAccount {
    let mut a = MoneyAccount::new(config, Money::ZERO).unwrap();
    let _ = a.open(t0(), purchase(1, yuan(balance))).unwrap();
    let _ = a.tick(t0());
    a
}
