//! The account's hot paths: the 0.5 s tick, a debit, a recharge, and the freeze check.
//!
//! Run with `cargo bench --bench account`.

use divan::{Bencher, black_box};
use prepaid_meter::account::{
    Config, DebtRecovery, EmergencyCredit, FriendlyCalendar, Limits, MoneyAccount, RecoveryPeriod,
};
use prepaid_meter::freeze::{CatchUp, Freezes, Schedule};
use prepaid_meter::purchase::{CustomerNumber, Purchase};
use prepaid_meter::tariff::SettlementDay;
use prepaid_meter::time::{Date, Timestamp, UtcOffset};
use prepaid_meter::units::{Energy, Money};

fn main() {
    divan::main();
}

const CUSTOMER: CustomerNumber = CustomerNumber::new([1, 0, 0, 0, 0x12, 0x34]);
/// 2025-03-03 10:00 at UTC+8.
const T0: i64 = 1_740_967_200;

fn config() -> Config<Money> {
    let m = Money::from_minor;
    let mut c = Config::local(Limits {
        alarm1: m(200_000),
        alarm2: m(100_000),
        overdraft: m(50_000),
        hoarding: m(i64::MAX / 2),
        reconnect: m(10_000),
    });
    c.low_credit_trip = true;
    c.standing_charge = m(5_000);
    c.emergency = Some(EmergencyCredit {
        amount: m(100_000),
        threshold: m(30_000),
    });
    c.debt_recovery = Some(DebtRecovery {
        percent: 10,
        cap: m(50_000),
        period: RecoveryPeriod::Week,
    });
    c
}

fn opened(config: Config<Money>, balance: i64) -> MoneyAccount {
    let mut a = MoneyAccount::new(config, Money::ZERO).unwrap_or_else(|e| unreachable!("{e}"));
    let p = Purchase {
        customer: CUSTOMER,
        count: 1,
        amount: Money::from_minor(balance),
    };
    let _ = a
        .open(Timestamp::from_unix(T0), p)
        .unwrap_or_else(|e| unreachable!("{e}"));
    let _ = a.tick(Timestamp::from_unix(T0));
    a
}

/// The periodic evaluation with credit in order (the common case), every 0.5 s.
#[divan::bench]
fn tick(bencher: Bencher) {
    let mut a = opened(config(), 1_000_000);
    let mut t = T0;
    let mut half = false;
    bencher.bench_local(|| {
        half = !half;
        if half {
            t += 1;
        }
        black_box(a.tick(black_box(Timestamp::from_unix(t))))
    });
}

/// The slowest tick: credit exhausted, the trip held back by a holiday found by binary search
/// in a full 16-entry list.
#[divan::bench]
fn tick_friendly_holiday(bencher: Bencher) {
    let mut c = config();
    let today = Date::new(2025, 3, 3).unwrap_or_else(|e| unreachable!("{e}"));
    let mut holidays = [today; 16];
    for (i, h) in holidays.iter_mut().enumerate() {
        *h = Date::new(2025, 3, 3 + i as u8).unwrap_or_else(|e| unreachable!("{e}"));
    }
    c.friendly = FriendlyCalendar::new(0, 0, &holidays).unwrap_or_else(|e| unreachable!("{e}"));
    let mut a = opened(c, 0);
    let _ = a
        .debit(Timestamp::from_unix(T0), Money::from_minor(100_000))
        .unwrap_or_else(|e| unreachable!("{e}"));
    bencher.bench_local(|| black_box(a.tick(black_box(Timestamp::from_unix(T0 + 1)))));
}

/// Charging one rated increment of consumption.
#[divan::bench]
fn debit(bencher: Bencher) {
    let mut a = opened(config(), i64::MAX / 4);
    bencher.bench_local(|| {
        black_box(
            a.debit(Timestamp::from_unix(T0), black_box(Money::from_minor(53)))
                .is_ok(),
        )
    });
}

/// A recharge with debt recovery and every rule checked.
#[divan::bench]
fn recharge(bencher: Bencher) {
    let mut a = opened(config(), 1_000_000);
    let _ = a
        .set_debt(Timestamp::from_unix(T0), Money::from_minor(i64::MAX / 8))
        .unwrap_or_else(|e| unreachable!("{e}"));
    let mut count = 1u32;
    bencher.bench_local(|| {
        count += 1;
        let p = Purchase {
            customer: CUSTOMER,
            count,
            amount: Money::from_minor(1_000_000),
        };
        black_box(a.recharge(Timestamp::from_unix(T0), black_box(p)).is_ok())
    });
}

/// Asking which freezes are due for one 0.5 s step and recording them (none due, mostly).
#[divan::bench]
fn freeze_check(bencher: Bencher) {
    let s = Schedule::new(
        UtcOffset::CHINA,
        SettlementDay::FIRST_OF_MONTH,
        CatchUp::default(),
    );
    let mut f = Freezes::new();
    let mut t = T0;
    bencher.bench_local(|| {
        let prev = Timestamp::from_unix(t);
        t += 1;
        let due = s.due(prev, Timestamp::from_unix(t));
        black_box(f.record(&due, [Energy::from_wh(t); 5], Money::from_minor(t)))
    });
}
