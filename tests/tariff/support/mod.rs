//! Shared helpers for the tariff tests: a deterministic generator of random valid tariffs.
#![allow(dead_code, clippy::unwrap_used)]

use prepaid_meter::tariff::*;
use prepaid_meter::time::{Date, DateTime, Time, Timestamp, UtcOffset};
use prepaid_meter::units::{Energy, Price};

/// Local date-time at UTC+8 to a timestamp.
pub fn cst(y: u16, mo: u8, d: u8, h: u8, mi: u8, s: u8) -> Timestamp {
    DateTime::new(Date::new(y, mo, d).unwrap(), Time::new(h, mi, s).unwrap())
        .to_timestamp(UtcOffset::CHINA)
}

pub fn price(minor: u32) -> Price {
    Price::from_minor_per_kwh(minor)
}

pub fn wh(wh: i64) -> Energy {
    Energy::from_wh(wh)
}

/// xorshift64*: deterministic, good enough to spread test cases.
pub struct Xs(pub u64);

impl Xs {
    pub fn new(seed: u64) -> Xs {
        Xs(seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1)
    }
    pub fn next(&mut self) -> u64 {
        let mut x = self.0;
        x ^= x >> 12;
        x ^= x << 25;
        x ^= x >> 27;
        self.0 = x;
        x.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }
    /// Uniform in `0..n` (n > 0).
    pub fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }
    pub fn chance(&mut self, percent: u64) -> bool {
        self.below(100) < percent
    }
}

fn day_table(rng: &mut Xs, n_prices: u8) -> DayTable {
    let n = 1 + rng.below(6) as usize;
    let aligned = rng.chance(50);
    let mut minutes: Vec<u16> = (0..n)
        .map(|_| {
            if aligned {
                (rng.below(96) * 15) as u16
            } else {
                rng.below(1440) as u16
            }
        })
        .collect();
    minutes.sort_unstable();
    minutes.dedup();
    let points: Vec<SwitchPoint> = minutes
        .iter()
        .map(|&m| {
            SwitchPoint::new(
                (m / 60) as u8,
                (m % 60) as u8,
                1 + rng.below(n_prices as u64) as u8,
            )
        })
        .collect();
    DayTable::new(&points).unwrap()
}

fn tiers(rng: &mut Xs) -> Tiers {
    let n = rng.below(4) as usize;
    let mut th = Vec::new();
    let mut t = 0i64;
    for _ in 0..n {
        t += 1 + rng.below(40_000) as i64;
        th.push(Energy::from_wh(t));
    }
    let prices: Vec<Price> = (0..=n).map(|_| price(rng.below(20_000) as u32)).collect();
    let settlement = if rng.chance(60) {
        Settlement::monthly(1 + rng.below(28) as u8, rng.below(24) as u8).unwrap()
    } else {
        let mut dates: Vec<SettlementDate> = (0..1 + rng.below(6))
            .map(|_| SettlementDate {
                month: 1 + rng.below(12) as u8,
                day: 1 + rng.below(28) as u8,
                hour: rng.below(24) as u8,
            })
            .collect();
        dates.sort();
        dates.dedup();
        Settlement::yearly(&dates).unwrap()
    };
    Tiers::new(&th, &prices, settlement).unwrap()
}

/// A random valid tariff set with `n_tables` day tables.
pub fn tariff_set(rng: &mut Xs, n_tables: u8) -> TariffSet {
    let n_prices = 1 + rng.below(4) as u8;
    let tables: Vec<DayTable> = (0..n_tables).map(|_| day_table(rng, n_prices)).collect();
    let mut starts: Vec<MonthDay> = (0..1 + rng.below(4))
        .map(|_| MonthDay::new(1 + rng.below(12) as u8, 1 + rng.below(28) as u8))
        .collect();
    starts.sort();
    starts.dedup();
    let seasons: Vec<Season> = starts
        .iter()
        .map(|&start| {
            let mut w = [0u8; 7];
            for d in &mut w {
                *d = 1 + rng.below(n_tables as u64) as u8;
            }
            Season {
                start,
                week: WeekRule(w),
            }
        })
        .collect();
    let cal = Calendar::new(&seasons, &tables).unwrap();
    let prices: Vec<Price> = (0..n_prices)
        .map(|_| price(rng.below(100_000) as u32))
        .collect();
    TariffSet::new(cal, &prices, tiers(rng)).unwrap()
}

/// A random valid tariff, with a passive set switching somewhere in `[lo, hi)` half the time.
pub fn tariff(rng: &mut Xs, lo: Timestamp, hi: Timestamp) -> Tariff {
    let offset = [0, 8 * 3600, 5 * 3600 + 1800, -3 * 3600][rng.below(4) as usize];
    let offset = UtcOffset::from_seconds(offset).unwrap();
    let n_tables = 1 + rng.below(3) as u8;
    let mut days: Vec<SpecialDay> = (0..rng.below(6))
        .map(|_| {
            let month = 1 + rng.below(12) as u8;
            let day = 1 + rng.below(28) as u8;
            let date = if rng.chance(50) {
                SpecialDate::every_year(month, day)
            } else {
                SpecialDate::once(Date::new(2024 + rng.below(2) as u16, month, day).unwrap())
            };
            SpecialDay {
                date,
                day_table: 1 + rng.below(n_tables as u64) as u8,
            }
        })
        .collect();
    days.sort_by_key(|d| d.date);
    days.dedup_by_key(|d| d.date);
    let active = tariff_set(rng, n_tables);
    let mut t = Tariff::new(offset, &days, active).unwrap();
    if rng.chance(50) {
        let span = (hi.unix() - lo.unix()).max(1) as u64;
        let mut at = lo.unix() + rng.below(span) as i64;
        if rng.chance(50) {
            at -= at.rem_euclid(3600); // on a whole hour
        }
        t.set_passive(tariff_set(rng, n_tables), Timestamp::from_unix(at))
            .unwrap();
    }
    t
}
