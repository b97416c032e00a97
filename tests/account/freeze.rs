//! Freeze scheduling against a brute-force oracle built on chrono, frozen-record rings read back
//! as "last n", and the account logs fed from a day of operation.

use crate::account_support;

use account_support::{at, config, opened, purchase, t0, yuan};
use chrono::{Datelike, Duration, FixedOffset, TimeZone, Timelike};
use prepaid_meter::account::{Contacts, Logs, RelayCommand, RelayState, TripReason};
use prepaid_meter::freeze::{CatchUp, Freezes, Schedule};
use prepaid_meter::tariff::SettlementDay;
use prepaid_meter::time::{Timestamp, UtcOffset};
use prepaid_meter::units::{Energy, Money};
use proptest::prelude::*;

/// Every hourly, daily and settlement boundary in `(prev, now]`, found by stepping through the
/// local hours (UTC+8) with chrono from the first whole hour after `prev`.
fn oracle(prev: i64, now: i64, day: u8, hour: u8) -> (Vec<i64>, Vec<i64>, Vec<i64>) {
    let tz = FixedOffset::east_opt(8 * 3600).unwrap();
    let mut t = tz.timestamp_opt(prev, 0).unwrap();
    // First whole local hour strictly after prev.
    t = t.with_minute(0).unwrap().with_second(0).unwrap() + Duration::hours(1);
    let (mut h, mut d, mut s) = (vec![], vec![], vec![]);
    while t.timestamp() <= now {
        h.push(t.timestamp());
        if t.hour() == 0 {
            d.push(t.timestamp());
        }
        if t.day() == u32::from(day) && t.hour() == u32::from(hour) {
            s.push(t.timestamp());
        }
        t += Duration::hours(1);
    }
    (h, d, s)
}

fn tail(v: Vec<i64>, n: u16) -> Vec<i64> {
    let n = usize::from(n).min(v.len());
    v[v.len() - n..].to_vec()
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 300, ..ProptestConfig::default() })]

    #[test]
    fn due_matches_brute_force(
        prev in 946_684_800i64..4_102_444_800, // 2000..2100
        span in prop_oneof![0i64..7_200, 0i64..200_000, 0i64..40_000_000],
        day in 1u8..=28,
        hour in 0u8..=23,
        caps in (0u16..30, 0u16..10, 0u16..14),
    ) {
        let now = prev + span;
        let catch_up = CatchUp { hourly: caps.0, daily: caps.1, settlement: caps.2 };
        let s = Schedule::new(UtcOffset::CHINA, SettlementDay::new(day, hour).unwrap(), catch_up);
        let due = s.due(Timestamp::from_unix(prev), Timestamp::from_unix(now));
        let (h, d, m) = oracle(prev, now, day, hour);
        let got = |b: prepaid_meter::freeze::Boundaries| b.map(|t| t.unix()).collect::<Vec<_>>();
        prop_assert_eq!(due.hourly().crossed(), h.len() as u64);
        prop_assert_eq!(due.daily().crossed(), d.len() as u64);
        prop_assert_eq!(due.settlement().crossed(), m.len() as u64);
        prop_assert_eq!(got(due.hourly()), tail(h, caps.0));
        prop_assert_eq!(got(due.daily()), tail(d, caps.1));
        prop_assert_eq!(got(due.settlement()), tail(m, caps.2));
    }

    /// Consecutive calls over a split interval generate exactly the boundaries of one call
    /// over the whole interval (when no bound is hit).
    #[test]
    fn splitting_the_interval_changes_nothing(
        start in 946_684_800i64..4_102_444_800,
        a in 0i64..2_000_000,
        b in 0i64..2_000_000,
    ) {
        let big = CatchUp { hourly: u16::MAX, daily: u16::MAX, settlement: u16::MAX };
        let s = Schedule::new(UtcOffset::CHINA, SettlementDay::FIRST_OF_MONTH, big);
        let ts = Timestamp::from_unix;
        let whole = s.due(ts(start), ts(start + a + b));
        let first = s.due(ts(start), ts(start + a));
        let second = s.due(ts(start + a), ts(start + a + b));
        let joined: Vec<_> = first.daily().chain(second.daily()).collect();
        prop_assert_eq!(joined, whole.daily().collect::<Vec<_>>());
        let joined: Vec<_> = first.hourly().chain(second.hourly()).collect();
        prop_assert_eq!(joined, whole.hourly().collect::<Vec<_>>());
    }
}

#[test]
fn power_cut_catch_up_into_rings() {
    let s = Schedule::new(
        UtcOffset::CHINA,
        SettlementDay::new(1, 0).unwrap(),
        CatchUp::default(),
    );
    let mut f = Freezes::<Money, 2, 24, 62, 12>::new_sized();
    let regs = |kwh: i64| [Energy::from_kwh(kwh), Energy::from_kwh(kwh / 2)];
    // Running normally through 2025-01-31 23:00 .. 2025-02-01 01:00.
    let mut prev = at(2025, 1, 31, 22, 30);
    for (now, kwh) in [
        (at(2025, 1, 31, 23, 0), 100),
        (at(2025, 2, 1, 0, 0), 101),
        (at(2025, 2, 1, 1, 0), 102),
    ] {
        f.record(&s.due(prev, now), regs(kwh), yuan(kwh));
        prev = now;
    }
    assert_eq!(f.settlement().last(1).unwrap().time(), at(2025, 2, 1, 0, 0));
    assert_eq!(
        f.settlement().last(1).unwrap().energy()[0],
        Energy::from_kwh(101)
    );
    // Off for 10 days: 7 daily freezes (the most recent), 24 hourly, no settlement.
    let back = at(2025, 2, 11, 9, 30);
    let due = s.due(prev, back);
    assert_eq!(due.daily().crossed(), 10);
    let written = f.record(&due, regs(102), yuan(102));
    assert_eq!(written, 24 + 7);
    assert_eq!(f.daily().last(1).unwrap().time(), at(2025, 2, 11, 0, 0));
    assert_eq!(f.daily().last(7).unwrap().time(), at(2025, 2, 5, 0, 0));
    // Before the gap: the 2025-02-01 freeze is next in line.
    assert_eq!(f.daily().last(8).unwrap().time(), at(2025, 2, 1, 0, 0));
    assert_eq!(f.hourly().last(1).unwrap().time(), at(2025, 2, 11, 9, 0));
    assert_eq!(f.hourly().len(), 24);
    assert_eq!(f.daily().pushed(), 8);
}

#[test]
fn logs_of_a_day() {
    let mut a = opened(config(), 30);
    let mut logs = Logs::<Money, 4>::new_sized();
    let mut now = t0();
    // Consume 1 yuan an hour until the relay trips at -5.00 (35 hours).
    for _ in 0..35 {
        now = now.checked_add_secs(3600).unwrap();
        logs.record(&a.debit(now, yuan(1)).unwrap());
    }
    assert_eq!(a.relay(), RelayState::Open(TripReason::Credit));
    let r = a.recharge(now, purchase(2, yuan(100))).unwrap();
    logs.record_purchase(&r.record);
    logs.record(&r.effects);
    let fx = a.press_button(now);
    assert_eq!(fx.drive, Some(Contacts::Closed));
    logs.record(&fx);
    let fx = a.command(now, RelayCommand::Trip).unwrap();
    logs.record(&fx);

    // Relay: tripped (credit), ready, closed by the button, tripped (remote). "Last 1" first.
    let relay: Vec<_> = logs.relay().iter().map(|e| e.to).collect();
    assert_eq!(
        relay,
        [
            RelayState::Open(TripReason::Remote),
            RelayState::Closed,
            RelayState::Ready(TripReason::Credit),
            RelayState::Open(TripReason::Credit),
        ]
    );
    assert_eq!(logs.relay().pushed(), 4);
    let p = logs.purchases().last(1).unwrap();
    assert_eq!(
        (p.count, p.balance_before, p.balance_after),
        (2, yuan(-5), yuan(95))
    );
    assert_eq!(logs.overdrafts().last(1).unwrap().deepest, yuan(-5));
    // Alarm changes: LOW1 at 20, LOW2 at 10, OVERDRAFT below 0, EXHAUSTED at -5, all cleared:
    // five events, the ring keeps the last four.
    assert_eq!(logs.alarms().pushed(), 5);
    assert_eq!(logs.alarms().len(), 4);
    assert!(logs.alarms().last(1).unwrap().to.is_empty());
    assert!(logs.charges().is_empty());
    assert!(logs.emergency().is_empty());
}
