//! Tariff engine throughput.
//!
//! - `batch_year_1000_meters`: one year (2025) of 15-minute readings for 1,000 meters rated
//!   against a realistic tariff (4 TOU rates, 8 switch points a day, 4 seasons, weekend and
//!   holiday tables, 6 tier thresholds with monthly settlement); the counter is intervals.
//! - `plain_sum_year_1000_meters`: the same bytes summed (each reading widened to `u64` and
//!   added), nothing else: the memory-bound reference for the line above, in the same run.
//! - `batch_year_1000_meters_threads` (with the `rayon` feature): the same year through
//!   `BatchPlan::rate_meters` in a pool of 1 and of 2 threads.
//! - `batch_year_one_meter_in_cache`: one meter's year again and again (compute-bound).
//! - `plan_build_year`: building the shared plan for that year.
//! - `incremental_rate`: one `Rater::rate` call (a meter's few-second increment).
//!
//! Run: `cargo bench --bench tariff --features std` (and `--features std,rayon` for the
//! threaded run).
#![allow(clippy::unwrap_used)] // test helpers outside #[test] functions

use std::sync::LazyLock;

use divan::Bencher;
use divan::counter::ItemsCount;
use prepaid_meter::tariff::*;
use prepaid_meter::time::{Date, DateTime, Time, Timestamp, UtcOffset};
use prepaid_meter::units::{Energy, Price};

fn main() {
    divan::main();
}

const METERS: usize = 1_000;
const SLOTS: usize = 365 * 96;

fn ts(y: u16, m: u8, d: u8, h: u8) -> Timestamp {
    DateTime::new(Date::new(y, m, d).unwrap(), Time::new(h, 0, 0).unwrap())
        .to_timestamp(UtcOffset::CHINA)
}

fn p(minor: u32) -> Price {
    Price::from_minor_per_kwh(minor)
}

/// 4 rates (1 sharp, 2 peak, 3 flat, 4 valley), 8 switch points a day.
fn realistic_tariff() -> Tariff {
    let sp = SwitchPoint::new;
    let summer = DayTable::new(&[
        sp(0, 0, 4),
        sp(8, 0, 3),
        sp(10, 0, 2),
        sp(11, 0, 1),
        sp(13, 0, 2),
        sp(17, 0, 3),
        sp(19, 0, 1),
        sp(21, 0, 2),
    ])
    .unwrap();
    let winter = DayTable::new(&[
        sp(0, 0, 4),
        sp(7, 0, 3),
        sp(9, 0, 2),
        sp(11, 30, 3),
        sp(16, 0, 2),
        sp(18, 0, 1),
        sp(20, 0, 2),
        sp(22, 0, 4),
    ])
    .unwrap();
    let shoulder = DayTable::new(&[
        sp(0, 0, 4),
        sp(8, 0, 3),
        sp(9, 0, 2),
        sp(12, 0, 3),
        sp(17, 0, 2),
        sp(19, 0, 1),
        sp(21, 0, 3),
        sp(23, 0, 4),
    ])
    .unwrap();
    let rest = DayTable::new(&[sp(0, 0, 4), sp(8, 0, 3), sp(22, 0, 4)]).unwrap();
    let weekend = [
        prepaid_meter::time::Weekday::Saturday,
        prepaid_meter::time::Weekday::Sunday,
    ];
    let season = |m, d, t| Season {
        start: MonthDay::new(m, d),
        week: WeekRule::with_rest_days(t, 4, &weekend),
    };
    let cal = Calendar::new(
        &[
            season(1, 1, 2),
            season(4, 1, 3),
            season(7, 1, 1),
            season(10, 1, 3),
            season(12, 1, 2),
        ],
        &[summer, winter, shoulder, rest],
    )
    .unwrap();
    let kwh = Energy::from_kwh;
    let tiers = Tiers::new(
        &[kwh(180), kwh(280), kwh(400), kwh(600), kwh(800), kwh(1000)],
        &[
            p(0),
            p(500),
            p(1_000),
            p(3_000),
            p(5_000),
            p(7_000),
            p(9_000),
        ],
        Settlement::Monthly(SettlementDay::FIRST_OF_MONTH),
    )
    .unwrap();
    let set = TariffSet::new(cal, &[p(11_000), p(8_500), p(5_500), p(2_800)], tiers).unwrap();
    let holidays: Vec<SpecialDay> = [
        (1, 1),
        (1, 28),
        (1, 29),
        (1, 30),
        (4, 4),
        (5, 1),
        (5, 2),
        (5, 5),
        (5, 31),
        (10, 1),
        (10, 2),
        (10, 3),
        (10, 6),
    ]
    .iter()
    .map(|&(m, d)| SpecialDay {
        date: SpecialDate::every_year(m, d),
        day_table: 4,
    })
    .collect();
    Tariff::new(UtcOffset::CHINA, &holidays, set).unwrap()
}

static TARIFF: LazyLock<Tariff> = LazyLock::new(realistic_tariff);
static PLAN: LazyLock<BatchPlan> = LazyLock::new(|| {
    BatchPlan::new(
        &TARIFF,
        ts(2025, 1, 1, 0),
        IntervalLength::FifteenMinutes,
        SLOTS,
    )
    .unwrap()
});
/// 1,000 meters × 35,040 readings, meter-major (each meter's year is contiguous).
static READINGS: LazyLock<Vec<u32>> = LazyLock::new(|| {
    let mut x = 0x2545_F491_4F6C_DD1Du64;
    (0..METERS * SLOTS)
        .map(|_| {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            (x % 1_200) as u32
        })
        .collect()
});

#[divan::bench(sample_count = 10, sample_size = 1)]
fn batch_year_1000_meters(bencher: Bencher) {
    let plan = &*PLAN;
    let readings = &*READINGS;
    bencher.counter(ItemsCount::new(METERS * SLOTS)).bench(|| {
        let mut money = 0i64;
        for meter in readings.chunks_exact(SLOTS) {
            let mut rater = Rater::new();
            let totals = plan.rate(&mut rater, divan::black_box(meter)).unwrap();
            money = money.wrapping_add(totals.money.minor());
        }
        money
    });
}

/// The same year through `rate_meters`, in a pool of `threads` threads.
#[cfg(feature = "rayon")]
#[divan::bench(sample_count = 10, sample_size = 1, args = [1, 2])]
fn batch_year_1000_meters_threads(bencher: Bencher, threads: usize) {
    let plan = &*PLAN;
    let readings = &*READINGS;
    let pool = rayon::ThreadPoolBuilder::new()
        .num_threads(threads)
        .build()
        .unwrap();
    bencher.counter(ItemsCount::new(METERS * SLOTS)).bench(|| {
        pool.install(|| {
            let mut raters = vec![Rater::new(); METERS];
            let totals = plan
                .rate_meters(&mut raters, SLOTS, divan::black_box(readings))
                .unwrap();
            totals
                .iter()
                .map(|t| t.as_ref().map_or(0, |t| t.money.minor()))
                .fold(0i64, i64::wrapping_add)
        })
    });
}

/// The plain sum of the same readings, meter by meter: what reading the bytes from memory
/// costs, the bound for the batch rating above.
#[divan::bench(sample_count = 10, sample_size = 1)]
fn plain_sum_year_1000_meters(bencher: Bencher) {
    let readings = &*READINGS;
    bencher.counter(ItemsCount::new(METERS * SLOTS)).bench(|| {
        let mut total = 0u64;
        for meter in readings.chunks_exact(SLOTS) {
            let meter = divan::black_box(meter);
            total = total.wrapping_add(meter.iter().map(|&x| u64::from(x)).sum::<u64>());
        }
        total
    });
}

/// One meter's year, rated again and again: the data stays in cache, so this is the
/// compute-bound rate of the hot loop.
#[divan::bench(sample_count = 50)]
fn batch_year_one_meter_in_cache(bencher: Bencher) {
    let plan = &*PLAN;
    let meter = &READINGS[..SLOTS];
    bencher.counter(ItemsCount::new(SLOTS)).bench(|| {
        let mut rater = Rater::new();
        plan.rate(&mut rater, divan::black_box(meter)).unwrap()
    });
}

#[divan::bench(sample_count = 10)]
fn plan_build_year(bencher: Bencher) {
    let tariff = &*TARIFF;
    bencher.counter(ItemsCount::new(SLOTS)).bench(|| {
        BatchPlan::new(
            tariff,
            ts(2025, 1, 1, 0),
            IntervalLength::FifteenMinutes,
            SLOTS,
        )
        .unwrap()
    });
}

#[divan::bench]
fn incremental_rate(bencher: Bencher) {
    let tariff = &*TARIFF;
    let mut rater = Rater::new();
    let mut t = ts(2025, 3, 3, 0).unix();
    bencher.counter(ItemsCount::new(1usize)).bench_local(|| {
        t += 5;
        rater
            .rate(
                tariff,
                divan::black_box(Energy::from_wh(3)),
                Timestamp::from_unix(t),
            )
            .unwrap()
    });
}
