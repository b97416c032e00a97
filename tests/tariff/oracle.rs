//! The calendar lookup, the settlement instants and the tier split against independent,
//! deliberately naive re-implementations (chrono for the civil calendar, linear scans,
//! watt-hour by watt-hour pricing).

use crate::tariff_support;

use chrono::{Datelike, Timelike};
use prepaid_meter::tariff::*;
use prepaid_meter::time::Timestamp;
use prepaid_meter::units::Energy;
use proptest::prelude::*;
use tariff_support::*;

struct Local {
    year: u16,
    month: u8,
    day: u8,
    weekday_from_monday: usize,
    minute_of_day: u16,
}

fn local(tariff: &Tariff, at: Timestamp) -> Local {
    let dt = chrono::DateTime::from_timestamp(at.unix() + i64::from(tariff.offset().seconds()), 0)
        .unwrap()
        .naive_utc();
    Local {
        year: dt.year() as u16,
        month: dt.month() as u8,
        day: dt.day() as u8,
        weekday_from_monday: dt.weekday().num_days_from_monday() as usize,
        minute_of_day: (dt.hour() * 60 + dt.minute()) as u16,
    }
}

/// (set, day-table number, tariff number) by linear scans.
fn naive_slot(tariff: &Tariff, at: Timestamp) -> (SetId, u8, u8) {
    let l = local(tariff, at);
    let (set_id, set) = match tariff.passive() {
        Some(p) if at >= p.switch_at => (SetId::Passive, &p.set),
        _ => (SetId::Active, tariff.active()),
    };
    let special = |year: Option<u16>| {
        tariff
            .special_days()
            .iter()
            .find(|d| d.date.month == l.month && d.date.day == l.day && d.date.year == year)
            .map(|d| d.day_table)
    };
    let table = special(Some(l.year))
        .or_else(|| special(None))
        .unwrap_or_else(|| {
            let seasons = set.calendar().seasons();
            let season = seasons
                .iter()
                .rev()
                .find(|s| (s.start.month, s.start.day) <= (l.month, l.day))
                .unwrap_or(seasons.last().unwrap());
            season.week.0[l.weekday_from_monday]
        });
    let points = set.calendar().day_tables()[usize::from(table) - 1].points();
    let point = points
        .iter()
        .rev()
        .find(|p| p.minute_of_day() <= l.minute_of_day)
        .unwrap_or(points.last().unwrap());
    (set_id, table, point.tariff)
}

/// The first whole local hour after `after` at which the settlement rule of the set in effect
/// then says "settle", by stepping hour by hour (at most two years).
fn naive_next_settlement(tariff: &Tariff, after: Timestamp) -> Option<Timestamp> {
    let off = i64::from(tariff.offset().seconds());
    let first = (after.unix() + off).div_euclid(3600) + 1;
    for hour in first..first + 2 * 366 * 24 {
        let t = Timestamp::from_unix(hour * 3600 - off);
        let set = match tariff.passive() {
            Some(p) if t >= p.switch_at => &p.set,
            _ => tariff.active(),
        };
        let dt = chrono::DateTime::from_timestamp(hour * 3600, 0)
            .unwrap()
            .naive_utc();
        let (m, d, h) = (dt.month() as u8, dt.day() as u8, dt.hour() as u8);
        let settles = match set.tiers().settlement() {
            Settlement::Monthly(s) => d == s.day() && h == s.hour(),
            Settlement::Yearly(dates) => {
                dates.iter().any(|s| (s.month, s.day, s.hour) == (m, d, h))
            }
        };
        if settles {
            return Some(t);
        }
    }
    None
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(300))]

    #[test]
    fn slot_lookup_matches_naive_calendar(seed in any::<u64>(), offsets in proptest::collection::vec(0i64..3 * 366 * 86_400, 50)) {
        let mut rng = Xs::new(seed);
        let lo = Timestamp::from_unix(1_704_067_200 - 366 * 86_400);
        let hi = Timestamp::from_unix(lo.unix() + 3 * 366 * 86_400);
        let tariff = tariff(&mut rng, lo, hi);
        for off in offsets {
            let at = Timestamp::from_unix(lo.unix() + off);
            let slot = tariff.slot_at(at).unwrap();
            prop_assert_eq!((slot.set, slot.day_table, slot.tariff), naive_slot(&tariff, at));
            prop_assert_eq!(slot.price, tariff.set(slot.set).prices()[usize::from(slot.tariff) - 1]);
            // Nothing changes before valid_until.
            prop_assert!(slot.valid_until > at);
            let last = Timestamp::from_unix(slot.valid_until.unix() - 1);
            let s = tariff.slot_at(last).unwrap();
            prop_assert_eq!((s.set, s.tariff, s.valid_until), (slot.set, slot.tariff, slot.valid_until));
            // No settlement strictly inside (at, valid_until).
            if let Some(n) = tariff.next_settlement_after(at) {
                prop_assert!(n >= slot.valid_until);
            }
        }
    }

    #[test]
    fn settlement_instants_match_naive_stepping(seed in any::<u64>(), off in 0i64..366 * 86_400) {
        let mut rng = Xs::new(seed);
        let lo = Timestamp::from_unix(1_704_067_200);
        let hi = Timestamp::from_unix(lo.unix() + 366 * 86_400);
        let tariff = tariff(&mut rng, lo, hi);
        let at = Timestamp::from_unix(lo.unix() + off);
        prop_assert_eq!(tariff.next_settlement_after(at), naive_next_settlement(&tariff, at));
    }

    /// Money and tier split of one increment equal pricing it watt-hour by watt-hour.
    #[test]
    fn tier_split_matches_watt_hour_pricing(seed in any::<u64>(), e in 0i64..120_000, c0 in 0i64..130_000, carry in 0u16..1000) {
        let mut rng = Xs::new(seed);
        let at = Timestamp::from_unix(1_704_067_200 + rng.below(366 * 86_400) as i64);
        let tariff = tariff(&mut rng, at, Timestamp::from_unix(at.unix() + 1));
        let mut rater = Rater::from_parts(carry, Energy::from_wh(c0), None).unwrap();
        let rated = rater.rate(&tariff, Energy::from_wh(e), at).unwrap();
        let set = tariff.set(rated.slot.set);
        let tiers = set.tiers();
        let tou = i128::from(rated.slot.price.minor_per_kwh());
        let mut thousandths = i128::from(carry);
        let mut by_tier = [0i64; MAX_TIERS];
        for w in c0..c0 + e {
            let tier = tiers.thresholds().iter().filter(|t| t.wh() <= w).count();
            by_tier[tier] += 1;
            thousandths += tou + i128::from(tiers.prices()[tier].minor_per_kwh());
        }
        prop_assert_eq!(i128::from(rated.money.minor()), thousandths / 1000);
        prop_assert_eq!(i128::from(rater.carry()), thousandths % 1000);
        prop_assert_eq!(rated.energy_by_tier.map(|e| e.wh()), by_tier);
        prop_assert_eq!(rater.tier_energy(), Energy::from_wh(c0 + e));
    }
}
