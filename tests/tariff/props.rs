//! Property tests: exactness under any split, and batch == incremental.

use crate::tariff_support;

use prepaid_meter::tariff::*;
use prepaid_meter::time::Timestamp;
use prepaid_meter::units::{Energy, Money};
use proptest::prelude::*;
use tariff_support::*;

#[cfg(feature = "alloc")]
const INTERVALS: [IntervalLength; 4] = [
    IntervalLength::FiveMinutes,
    IntervalLength::FifteenMinutes,
    IntervalLength::ThirtyMinutes,
    IntervalLength::Hour,
];

#[cfg(feature = "alloc")]
/// Readings: mostly small, some zero, a few huge.
fn readings(rng: &mut Xs, n: usize) -> Vec<u32> {
    let kind = rng.below(4);
    (0..n)
        .map(|_| match kind {
            0 => rng.below(3) as u32,
            1 => rng.below(2_000) as u32,
            2 if rng.chance(5) => u32::MAX - rng.below(10) as u32,
            _ => rng.below(60_000) as u32,
        })
        .collect()
}

fn start_rater(rng: &mut Xs, start: Timestamp) -> Rater {
    let latest = match rng.below(3) {
        0 => None,
        1 => Some(Timestamp::from_unix(start.unix() - 1)),
        _ => Some(Timestamp::from_unix(
            start.unix() - 1 - rng.below(90 * 86_400) as i64,
        )),
    };
    Rater::from_parts(
        rng.below(1000) as u16,
        Energy::from_wh(rng.below(100_000) as i64),
        latest,
    )
    .unwrap()
}

#[cfg(feature = "alloc")]
fn check_batch_equals_incremental(seed: u64) {
    let mut rng = Xs::new(seed);
    // Start anywhere in 2024-2025, on the grid or off it.
    let mut start = 1_704_067_200 + rng.below(2 * 365 * 86_400) as i64;
    if rng.chance(70) {
        start -= start.rem_euclid(900);
    }
    let start = Timestamp::from_unix(start);
    let interval = INTERVALS[rng.below(4) as usize];
    let n = 1 + rng.below(3 * 24 * 12 * 3) as usize; // up to ~9 days of 5-min slots
    let n = n.min(40 * interval.per_day());
    let end = Timestamp::from_unix(start.unix() + n as i64 * interval.secs());
    let tariff = tariff(&mut rng, start, end);
    let plan = BatchPlan::new(&tariff, start, interval, n + rng.below(5) as usize).unwrap();
    let data = readings(&mut rng, n);
    let rater0 = start_rater(&mut rng, start);

    let mut batch_rater = rater0;
    let batch = plan.rate(&mut batch_rater, &data).unwrap();

    let mut inc_rater = rater0;
    let mut inc = Totals::new();
    for (i, &r) in data.iter().enumerate() {
        let from = Timestamp::from_unix(start.unix() + i as i64 * interval.secs());
        let to = Timestamp::from_unix(from.unix() + interval.secs());
        let t = inc_rater
            .rate_interval(&tariff, Energy::from_wh(i64::from(r)), from, to)
            .unwrap();
        inc.merge(&t).unwrap();
    }
    assert_eq!(batch, inc, "seed {seed}");
    assert_eq!(batch_rater, inc_rater, "seed {seed}");
    let total: i64 = data.iter().map(|&r| i64::from(r)).sum();
    let by_tariff: i64 = batch.energy_by_tariff.iter().map(|e| e.wh()).sum();
    let by_tier: i64 = batch.energy_by_tier.iter().map(|e| e.wh()).sum();
    assert_eq!((by_tariff, by_tier), (total, total), "seed {seed}");
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(400))]

    #[cfg(feature = "alloc")]
    #[test]
    fn batch_equals_incremental(seed in any::<u64>()) {
        check_batch_equals_incremental(seed);
    }

    /// Splitting the consumption at one instant into any parts costs exactly the whole.
    #[test]
    fn any_split_at_one_instant_costs_the_whole(
        seed in any::<u64>(),
        parts in proptest::collection::vec(0i64..50_000, 1..20),
    ) {
        let mut rng = Xs::new(seed);
        let at = Timestamp::from_unix(1_704_067_200 + rng.below(365 * 86_400) as i64);
        let tariff = tariff(&mut rng, at, Timestamp::from_unix(at.unix() + 1));
        let rater0 = start_rater(&mut rng, at);
        let whole: i64 = parts.iter().sum();
        let mut r = rater0;
        let one = r.rate(&tariff, Energy::from_wh(whole), at).unwrap();
        let mut s = rater0;
        let mut sum = Money::ZERO;
        let mut by_tier = [Energy::ZERO; MAX_TIERS];
        for &p in &parts {
            let rated = s.rate(&tariff, Energy::from_wh(p), at).unwrap();
            sum = sum.checked_add(rated.money).unwrap();
            for (a, b) in by_tier.iter_mut().zip(rated.energy_by_tier) {
                *a = a.checked_add(b).unwrap();
            }
        }
        prop_assert_eq!(sum, one.money);
        prop_assert_eq!(by_tier, one.energy_by_tier);
        prop_assert_eq!(s, r);
    }

    /// Splitting consumption over instants within one slot costs exactly the whole rated at
    /// the slot's first instant.
    #[test]
    fn any_split_within_a_slot_costs_the_whole(
        seed in any::<u64>(),
        parts in proptest::collection::vec((0i64..50_000, 0u32..1_000_000), 1..20),
    ) {
        let mut rng = Xs::new(seed);
        let at = Timestamp::from_unix(1_704_067_200 + rng.below(365 * 86_400) as i64);
        let tariff = tariff(&mut rng, at, Timestamp::from_unix(at.unix() + 86_400));
        let slot = tariff.slot_at(at).unwrap();
        let span = (slot.valid_until.unix() - at.unix()) as u32;
        let mut rater0 = Rater::from_parts(rng.below(1000) as u16, Energy::from_wh(rng.below(100_000) as i64), None).unwrap();
        let _ = rater0.rate(&tariff, Energy::ZERO, at).unwrap();
        let whole: i64 = parts.iter().map(|p| p.0).sum();
        let mut r = rater0;
        let one = r.rate(&tariff, Energy::from_wh(whole), at).unwrap();
        let mut s = rater0;
        let mut sum = Money::ZERO;
        let mut offsets: Vec<u32> = parts.iter().map(|p| p.1 % span).collect();
        offsets.sort_unstable();
        for (&(e, _), &off) in parts.iter().zip(&offsets) {
            let t = Timestamp::from_unix(at.unix() + i64::from(off));
            let rated = s.rate(&tariff, Energy::from_wh(e), t).unwrap();
            prop_assert_eq!(rated.slot.tariff, one.slot.tariff);
            sum = sum.checked_add(rated.money).unwrap();
        }
        prop_assert_eq!(sum, one.money);
        prop_assert_eq!(s.carry(), r.carry());
        prop_assert_eq!(s.tier_energy(), r.tier_energy());
    }

    /// A refused call leaves the rater exactly as it was.
    #[test]
    fn refused_calls_change_nothing(seed in any::<u64>()) {
        let mut rng = Xs::new(seed);
        let at = Timestamp::from_unix(1_704_067_200 + rng.below(365 * 86_400) as i64);
        let tariff = tariff(&mut rng, at, Timestamp::from_unix(at.unix() + 86_400));
        let mut r = start_rater(&mut rng, at);
        let before = r;
        prop_assert_eq!(r.rate(&tariff, Energy::from_wh(-1), at), Err(RateError::NegativeEnergy));
        prop_assert_eq!(
            r.rate(&tariff, MAX_ENERGY_PER_YEAR.checked_add(Energy::from_wh(1)).unwrap(), at),
            Err(RateError::EnergyTooLarge)
        );
        prop_assert_eq!(r.rate(&tariff, Energy::from_wh(1), Timestamp::from_unix(i64::MAX)), Err(RateError::TimeOutOfRange));
        prop_assert_eq!(r.rate_interval(&tariff, Energy::from_wh(1), at, at), Err(RateError::EmptyInterval));
        prop_assert_eq!(
            r.rate_interval(&tariff, Energy::from_wh(1), Timestamp::from_unix(253_402_500_000), Timestamp::from_unix(253_402_503_600)),
            Err(RateError::TimeOutOfRange)
        );
        prop_assert_eq!(r, before);
    }
}

#[cfg(feature = "alloc")]
#[test]
fn batch_equals_incremental_fixed_seeds() {
    for seed in 0..200 {
        check_batch_equals_incremental(seed);
    }
}

/// Many meters at once (`rate_meters`, threaded with the `rayon` feature) give what rating
/// them one by one gives, raters included; a batch whose readings are not one series per
/// meter is refused with nothing rated.
#[cfg(feature = "alloc")]
#[test]
fn many_meters_at_once_equal_one_by_one() {
    for seed in 0..40u64 {
        let mut rng = Xs::new(seed);
        let mut start = 1_704_067_200 + rng.below(365 * 86_400) as i64;
        start -= start.rem_euclid(900);
        let start = Timestamp::from_unix(start);
        let interval = INTERVALS[rng.below(4) as usize];
        let len = 1 + rng.below(10 * interval.per_day() as u64) as usize;
        let end = Timestamp::from_unix(start.unix() + len as i64 * interval.secs());
        let tariff = tariff(&mut rng, start, end);
        let plan = BatchPlan::new(&tariff, start, interval, len).unwrap();
        let meters = 1 + rng.below(12) as usize;
        let readings: Vec<u32> = (0..meters).flat_map(|_| readings(&mut rng, len)).collect();
        let raters0: Vec<Rater> = (0..meters).map(|_| start_rater(&mut rng, start)).collect();
        let mut one_by_one = raters0.clone();
        let want: Vec<_> = one_by_one
            .iter_mut()
            .zip(readings.chunks_exact(len))
            .map(|(r, s)| plan.rate(r, s))
            .collect();
        let mut at_once = raters0.clone();
        let got = plan.rate_meters(&mut at_once, len, &readings).unwrap();
        assert_eq!(got, want, "seed {seed}");
        assert_eq!(at_once, one_by_one, "seed {seed}");
        let mut untouched = raters0.clone();
        assert_eq!(
            plan.rate_meters(&mut untouched, len, &readings[1..]),
            Err(RateError::SeriesLength)
        );
        assert_eq!(untouched, raters0);
    }
}
