//! Hand-computed scenarios. Every expected figure is worked out in the comments.
//!
//! The reference tariff (local time UTC+8), prices in minor units (1/10 000 yuan) per kWh:
//!
//! | tariff | name | price |
//! |---|---|---|
//! | 1 | sharp 尖 | 10 000 (1.0000) |
//! | 2 | peak 峰 | 8 000 (0.8000) |
//! | 3 | flat 平 | 5 000 (0.5000) |
//! | 4 | valley 谷 | 3 000 (0.3000) |
//!
//! Day table 1 (workday), 9 switch points: 00:00 valley, 08:00 flat, 10:00 peak, 11:00 sharp,
//! 12:00 flat, 17:00 peak, 19:00 sharp, 21:00 flat, 23:00 valley.
//! Day table 2 (rest day): 00:00 valley, 08:00 flat, 22:00 valley.
//! Day table 3 (winter workday): 00:00 valley, 06:00 flat, 18:00 peak, 22:00 valley.

use crate::tariff_support;

use prepaid_meter::tariff::*;
use prepaid_meter::time::{Date, Timestamp, UtcOffset, Weekday};
use prepaid_meter::units::{Energy, Money};
use tariff_support::{cst, price, wh};

const SHARP: u8 = 1;
const PEAK: u8 = 2;
const FLAT: u8 = 3;
const VALLEY: u8 = 4;
const PRICES: [u32; 4] = [10_000, 8_000, 5_000, 3_000];

fn workday() -> DayTable {
    let sp = SwitchPoint::new;
    DayTable::new(&[
        sp(0, 0, VALLEY),
        sp(8, 0, FLAT),
        sp(10, 0, PEAK),
        sp(11, 0, SHARP),
        sp(12, 0, FLAT),
        sp(17, 0, PEAK),
        sp(19, 0, SHARP),
        sp(21, 0, FLAT),
        sp(23, 0, VALLEY),
    ])
    .unwrap()
}

fn rest_day() -> DayTable {
    let sp = SwitchPoint::new;
    DayTable::new(&[sp(0, 0, VALLEY), sp(8, 0, FLAT), sp(22, 0, VALLEY)]).unwrap()
}

fn winter_day() -> DayTable {
    let sp = SwitchPoint::new;
    DayTable::new(&[
        sp(0, 0, VALLEY),
        sp(6, 0, FLAT),
        sp(18, 0, PEAK),
        sp(22, 0, VALLEY),
    ])
    .unwrap()
}

const WEEKEND: [Weekday; 2] = [Weekday::Saturday, Weekday::Sunday];

fn season(month: u8, day: u8, workday_table: u8) -> Season {
    Season {
        start: MonthDay::new(month, day),
        week: WeekRule::with_rest_days(workday_table, 2, &WEEKEND),
    }
}

fn prices() -> [prepaid_meter::units::Price; 4] {
    PRICES.map(price)
}

/// A tariff at UTC+8 with no special days: `cal`, [`prices`] and `tiers`.
fn china(cal: Calendar, tiers: Tiers) -> Tariff {
    Tariff::new(
        UtcOffset::CHINA,
        &[],
        TariffSet::new(cal, &prices(), tiers).unwrap(),
    )
    .unwrap()
}

/// One season, workdays on table 1, weekends on table 2, no tiers.
fn simple_set() -> TariffSet {
    let cal = Calendar::new(&[season(1, 1, 1)], &[workday(), rest_day(), winter_day()]).unwrap();
    TariffSet::new(cal, &prices(), Tiers::none()).unwrap()
}

fn simple_tariff(special: &[SpecialDay]) -> Tariff {
    Tariff::new(UtcOffset::CHINA, special, simple_set()).unwrap()
}

/// Rates `wh_per_hour` for each of the 24 hours of a local day with `rate_interval`.
fn rate_day(tariff: &Tariff, rater: &mut Rater, y: u16, m: u8, d: u8, wh_per_hour: i64) -> Totals {
    let mut totals = Totals::new();
    let day = cst(y, m, d, 0, 0, 0).unix();
    for h in 0..24 {
        let from = Timestamp::from_unix(day + h * 3600);
        let to = Timestamp::from_unix(day + (h + 1) * 3600);
        let t = rater
            .rate_interval(tariff, wh(wh_per_hour), from, to)
            .unwrap();
        totals.merge(&t).unwrap();
    }
    totals
}

fn kwh(k: i64) -> Energy {
    Energy::from_kwh(k)
}

/// A workday (Monday 2024-03-04) across every switch point, 1 kWh every hour.
///
/// Hours per index: valley 00-08 (8) + 23-24 (1) = 9; flat 08-10 (2) + 12-17 (5) + 21-23 (2)
/// = 9; peak 10-11 (1) + 17-19 (2) = 3; sharp 11-12 (1) + 19-21 (2) = 3. Total 24 kWh.
/// Money: 9 × 3 000 + 9 × 5 000 + 3 × 8 000 + 3 × 10 000 = 27 000 + 45 000 + 24 000 + 30 000
/// = 126 000 minor units = 12.6000 yuan.
#[test]
fn a_day_across_every_switch_point() {
    let tariff = simple_tariff(&[]);
    assert_eq!(Date::new(2024, 3, 4).unwrap().weekday(), Weekday::Monday);

    // The slots of the day follow the switch points, and valid_until chains through them.
    let expected = [
        (0, VALLEY, 8),
        (8, FLAT, 10),
        (10, PEAK, 11),
        (11, SHARP, 12),
        (12, FLAT, 17),
        (17, PEAK, 19),
        (19, SHARP, 21),
        (21, FLAT, 23),
        (23, VALLEY, 24),
    ];
    let mut t = cst(2024, 3, 4, 0, 0, 0);
    for (start_h, index, until_h) in expected {
        assert_eq!(
            t,
            Timestamp::from_unix(cst(2024, 3, 4, 0, 0, 0).unix() + start_h * 3600)
        );
        let slot = tariff.slot_at(t).unwrap();
        assert_eq!(
            (slot.set, slot.day_table, slot.tariff),
            (SetId::Active, 1, index)
        );
        assert_eq!(slot.price, price(PRICES[usize::from(index) - 1]));
        // One second before the switch the old index still holds.
        let before = Timestamp::from_unix(slot.valid_until.unix() - 1);
        assert_eq!(tariff.slot_at(before).unwrap().tariff, index);
        assert_eq!(
            slot.valid_until.unix(),
            cst(2024, 3, 4, 0, 0, 0).unix() + until_h * 3600
        );
        t = slot.valid_until;
    }

    let mut rater = Rater::new();
    let totals = rate_day(&tariff, &mut rater, 2024, 3, 4, 1_000);
    assert_eq!(totals.energy_by_tariff, [kwh(3), kwh(3), kwh(9), kwh(9)]);
    assert_eq!(
        totals.energy_by_tier,
        [kwh(24), wh(0), wh(0), wh(0), wh(0), wh(0), wh(0)]
    );
    assert_eq!(totals.money, Money::from_minor(126_000));
    assert_eq!(rater.carry(), 0);

    // The same day as 96 quarter-hour increments through `rate` (250 Wh at each quarter's
    // start) and through a batch plan: the same 126 000.
    let mut rater = Rater::new();
    let mut money = Money::ZERO;
    for q in 0..96 {
        let at = Timestamp::from_unix(cst(2024, 3, 4, 0, 0, 0).unix() + q * 900);
        money = money
            .checked_add(rater.rate(&tariff, wh(250), at).unwrap().money)
            .unwrap();
    }
    assert_eq!(money, Money::from_minor(126_000));
    #[cfg(feature = "alloc")]
    {
        let plan = BatchPlan::new(
            &tariff,
            cst(2024, 3, 4, 0, 0, 0),
            IntervalLength::FifteenMinutes,
            96,
        )
        .unwrap();
        let batch = plan.rate(&mut Rater::new(), &[250; 96]).unwrap();
        assert_eq!(batch, totals);
    }
}

/// A switch point off the hour splits an hourly interval pro rata.
///
/// Table: 00:00 valley, 07:20 flat. Interval 07:00-08:00 with 900 Wh: the part before 07:20
/// is floor(900 × 1200 / 3600) = 300 Wh at 3 000, the rest 600 Wh at 5 000:
/// 300 × 3 000 + 600 × 5 000 = 900 000 + 3 000 000 = 3 900 000 thousandths = 3 900 minor units.
#[test]
fn a_switch_point_inside_an_interval_splits_it() {
    let table = DayTable::new(&[
        SwitchPoint::new(0, 0, VALLEY),
        SwitchPoint::new(7, 20, FLAT),
    ])
    .unwrap();
    let cal = Calendar::new(&[season(1, 1, 1)], &[table.clone(), table]).unwrap();
    let set = TariffSet::new(cal, &prices(), Tiers::none()).unwrap();
    let tariff = Tariff::new(UtcOffset::CHINA, &[], set).unwrap();
    let mut rater = Rater::new();
    let t = rater
        .rate_interval(
            &tariff,
            wh(900),
            cst(2024, 3, 4, 7, 0, 0),
            cst(2024, 3, 4, 8, 0, 0),
        )
        .unwrap();
    assert_eq!(t.energy_by_tariff, [wh(0), wh(0), wh(600), wh(300)]);
    assert_eq!(t.money, Money::from_minor(3_900));
    assert_eq!(rater.latest(), Some(cst(2024, 3, 4, 7, 59, 59)));
}

/// Thresholds 50, 100, 150, 200, 250, 300 kWh; tier prices 0, 100, 200, 300, 400, 500, 600;
/// flat TOU price 5 000 all day; monthly settlement on the 1st at 00:00.
fn tiered_tariff() -> Tariff {
    let flat = DayTable::new(&[SwitchPoint::new(0, 0, FLAT)]).unwrap();
    let cal = Calendar::new(&[season(1, 1, 1)], &[flat.clone(), flat]).unwrap();
    let tiers = Tiers::new(
        &[kwh(50), kwh(100), kwh(150), kwh(200), kwh(250), kwh(300)],
        &[0, 100, 200, 300, 400, 500, 600].map(price),
        Settlement::monthly(1, 0).unwrap(),
    )
    .unwrap();
    Tariff::new(
        UtcOffset::CHINA,
        &[],
        TariffSet::new(cal, &prices(), tiers).unwrap(),
    )
    .unwrap()
}

/// March 2024, 12 kWh a day rated at noon: 31 × 12 = 372 kWh, crossing every threshold.
///
/// Tier energy: 50 kWh in each of tiers 0..=5 and 372 - 300 = 72 kWh in tier 6.
/// TOU money 372 × 5 000 = 1 860 000; tier money 50 × (0 + 100 + 200 + 300 + 400 + 500)
/// + 72 × 600 = 75 000 + 43 200 = 118 200; total 1 978 200 = 197.8200 yuan.
///
/// Crossing days (cumulative before → after, split):
/// - day 5: 48 → 60: 2 kWh tier 0 at 5 000, 10 kWh tier 1 at 5 100 = 10 000 + 51 000 = 61 000
/// - day 9: 96 → 108: 4 kWh tier 1, 8 kWh tier 2 = 20 400 + 41 600 = 62 000
/// - day 25: 288 → 300: 12 kWh tier 5 = 12 × 5 500 = 66 000; the next kWh is tier 6
/// - day 26: 300 → 312: 12 kWh tier 6 = 12 × 5 600 = 67 200
#[test]
fn a_month_crossing_every_tier() {
    let tariff = tiered_tariff();
    let mut rater = Rater::new();
    let mut totals = Totals::new();
    for day in 1..=31u8 {
        let r = rater
            .rate(&tariff, kwh(12), cst(2024, 3, day, 12, 0, 0))
            .unwrap();
        totals.add(&r).unwrap();
        let mut by_tier = [Energy::ZERO; MAX_TIERS];
        let (money, tier) = match day {
            5 => {
                by_tier[0] = kwh(2);
                by_tier[1] = kwh(10);
                (61_000, 1)
            }
            9 => {
                by_tier[1] = kwh(4);
                by_tier[2] = kwh(8);
                (62_000, 2)
            }
            25 => {
                by_tier[5] = kwh(12);
                (66_000, 6)
            }
            26 => {
                by_tier[6] = kwh(12);
                (67_200, 6)
            }
            _ => continue,
        };
        assert_eq!(r.energy_by_tier, by_tier, "day {day}");
        assert_eq!(r.money, Money::from_minor(money), "day {day}");
        assert_eq!(r.tier, tier, "day {day}");
        assert_eq!(r.price(), price(5_000 + 100 * u32::from(tier)));
    }
    assert_eq!(
        totals.energy_by_tier,
        [
            kwh(50),
            kwh(50),
            kwh(50),
            kwh(50),
            kwh(50),
            kwh(50),
            kwh(72)
        ]
    );
    assert_eq!(totals.money, Money::from_minor(1_978_200));
    assert_eq!(rater.tier_energy(), kwh(372));

    // April 1st: the settlement at 00:00 resets the tiers before the first increment.
    let r = rater
        .rate(&tariff, kwh(12), cst(2024, 4, 1, 12, 0, 0))
        .unwrap();
    assert!(r.settled);
    assert_eq!((r.tier, r.money), (0, Money::from_minor(60_000)));
    assert_eq!(rater.tier_energy(), kwh(12));
}

/// Active: flat 0.5000 all day. Passive: flat 0.6000 all day (same calendar, one more price).
fn switching_tariff(switch_at: Timestamp) -> Tariff {
    let flat = DayTable::new(&[SwitchPoint::new(0, 0, FLAT)]).unwrap();
    let cal = Calendar::new(&[season(1, 1, 1)], &[flat.clone(), flat]).unwrap();
    let active = TariffSet::new(cal.clone(), &prices(), Tiers::none()).unwrap();
    let passive = TariffSet::new(
        cal,
        &[10_000, 8_000, 6_000, 3_000].map(price),
        Tiers::none(),
    )
    .unwrap();
    let mut t = Tariff::new(UtcOffset::CHINA, &[], active).unwrap();
    t.set_passive(passive, switch_at).unwrap();
    t
}

/// Switch at midnight 2024-06-01 00:00.
///
/// - `rate` at 23:59:59 is active (5 000), at 00:00:00 passive (6 000).
/// - `rate_interval` of 2 000 Wh over 23:00-01:00 splits at midnight: 1 000 Wh × 5 000
///   + 1 000 Wh × 6 000 = 5 000 + 6 000 = 11 000 minor units.
#[test]
fn passive_to_active_switch_at_midnight() {
    let switch = cst(2024, 6, 1, 0, 0, 0);
    let mut tariff = switching_tariff(switch);
    let slot = tariff.slot_at(cst(2024, 5, 31, 23, 0, 0)).unwrap();
    assert_eq!((slot.set, slot.valid_until), (SetId::Active, switch));

    let mut rater = Rater::new();
    let r = rater
        .rate(&tariff, kwh(1), cst(2024, 5, 31, 23, 59, 59))
        .unwrap();
    assert_eq!(
        (r.slot.set, r.money),
        (SetId::Active, Money::from_minor(5_000))
    );
    let r = rater.rate(&tariff, kwh(1), switch).unwrap();
    assert_eq!(
        (r.slot.set, r.money),
        (SetId::Passive, Money::from_minor(6_000))
    );

    let t = Rater::new()
        .rate_interval(
            &tariff,
            wh(2_000),
            cst(2024, 5, 31, 23, 0, 0),
            cst(2024, 6, 1, 1, 0, 0),
        )
        .unwrap();
    assert_eq!(t.money, Money::from_minor(11_000));
    assert_eq!(t.energy_by_tariff[usize::from(FLAT) - 1], wh(2_000));

    // The meter promotes the passive set at the switch; rating from then on is unchanged.
    assert!(!tariff.activate_due(Timestamp::from_unix(switch.unix() - 1)));
    assert!(tariff.activate_due(switch));
    assert!(tariff.passive().is_none());
    let r = Rater::new().rate(&tariff, kwh(1), switch).unwrap();
    assert_eq!(
        (r.slot.set, r.money),
        (SetId::Active, Money::from_minor(6_000))
    );
}

/// Switch at midday 2024-06-15 12:00, and one off the grid at 12:20.
///
/// - 3 000 Wh over 11:00-14:00: 1 000 Wh before at 5 000 and 2 000 Wh after at 6 000
///   = 5 000 + 12 000 = 17 000.
/// - Switch at 12:20, 900 Wh over 12:00-12:30: before = floor(900 × 1 200 / 1 800) = 600 Wh at
///   5 000, after 300 Wh at 6 000: 3 000 + 1 800 = 4 800. The batch path over quarter hours
///   (450 Wh in 12:00-12:15 active, 450 Wh in 12:15-12:30 split 5 min / 10 min:
///   150 Wh active, 300 Wh passive) gives 600 × 5 000 + 300 × 6 000 → 4 800 as well.
#[test]
fn passive_to_active_switch_at_midday() {
    let tariff = switching_tariff(cst(2024, 6, 15, 12, 0, 0));
    let t = Rater::new()
        .rate_interval(
            &tariff,
            wh(3_000),
            cst(2024, 6, 15, 11, 0, 0),
            cst(2024, 6, 15, 14, 0, 0),
        )
        .unwrap();
    assert_eq!(t.money, Money::from_minor(17_000));
    let slot = tariff.slot_at(cst(2024, 6, 15, 11, 59, 0)).unwrap();
    assert_eq!(slot.valid_until, cst(2024, 6, 15, 12, 0, 0));

    let tariff = switching_tariff(cst(2024, 6, 15, 12, 20, 0));
    let t = Rater::new()
        .rate_interval(
            &tariff,
            wh(900),
            cst(2024, 6, 15, 12, 0, 0),
            cst(2024, 6, 15, 12, 30, 0),
        )
        .unwrap();
    assert_eq!(t.money, Money::from_minor(4_800));
    #[cfg(feature = "alloc")]
    {
        let plan = BatchPlan::new(
            &tariff,
            cst(2024, 6, 15, 12, 0, 0),
            IntervalLength::FifteenMinutes,
            2,
        )
        .unwrap();
        let b = plan.rate(&mut Rater::new(), &[450, 450]).unwrap();
        assert_eq!(b.money, Money::from_minor(4_800));
    }
}

/// National Day, Tuesday 2024-10-01, is a holiday every year on day table 2: valley 00-08 and
/// 22-24 (10 h), flat 08-22 (14 h). At 1 kWh an hour: 10 × 3 000 + 14 × 5 000 = 100 000
/// (the workday table would give 126 000).
///
/// 2024-10-12 (a Saturday) is a one-date working day (调休) on table 1, overriding the weekend.
#[test]
fn a_holiday() {
    let special = [
        SpecialDay {
            date: SpecialDate::every_year(10, 1),
            day_table: 2,
        },
        SpecialDay {
            date: SpecialDate::every_year(10, 12),
            day_table: 2,
        },
        SpecialDay {
            date: SpecialDate::once(Date::new(2024, 10, 12).unwrap()),
            day_table: 1,
        },
    ];
    let tariff = simple_tariff(&special);
    assert_eq!(Date::new(2024, 10, 1).unwrap().weekday(), Weekday::Tuesday);
    let totals = rate_day(&tariff, &mut Rater::new(), 2024, 10, 1, 1_000);
    assert_eq!(totals.energy_by_tariff, [wh(0), wh(0), kwh(14), kwh(10)]);
    assert_eq!(totals.money, Money::from_minor(100_000));
    let workday = rate_day(&tariff, &mut Rater::new(), 2024, 10, 8, 1_000);
    assert_eq!(workday.money, Money::from_minor(126_000));

    // The one-date entry wins over the every-year entry; in 2025 the every-year one applies.
    assert_eq!(
        Date::new(2024, 10, 12).unwrap().weekday(),
        Weekday::Saturday
    );
    assert_eq!(
        tariff
            .slot_at(cst(2024, 10, 12, 10, 0, 0))
            .unwrap()
            .day_table,
        1
    );
    assert_eq!(
        tariff
            .slot_at(cst(2025, 10, 12, 10, 0, 0))
            .unwrap()
            .day_table,
        2
    );
    assert_eq!(
        tariff
            .slot_at(cst(2024, 10, 13, 10, 0, 0))
            .unwrap()
            .day_table,
        2
    );
}

/// Seasons 03-01 (workday table 1) and 11-15 (winter, table 3); New Year's Day is still winter
/// (seasons wrap). Yearly settlement on 01-01 00:00 and 07-01 00:00; one threshold at 1 kWh,
/// tier prices 0 and 1 000.
///
/// From 2024-12-31 22:00 to 2025-01-01 02:00 at 2 kWh an hour, all valley (3 000), the rater
/// starting with 5 kWh since settlement (tier 1):
/// - 22-23 and 23-24: 2 kWh × (3 000 + 1 000) = 8 000 each
/// - 00-01, after the settlement: 1 kWh × 3 000 + 1 kWh × 4 000 = 7 000
/// - 01-02: 2 kWh × 4 000 = 8 000
///
/// Total 31 000; tier energy afterwards 4 kWh.
#[test]
fn the_year_boundary() {
    let sd = |month, day| SettlementDate {
        month,
        day,
        hour: 0,
    };
    let tiers = Tiers::new(
        &[kwh(1)],
        &[price(0), price(1_000)],
        Settlement::yearly(&[sd(1, 1), sd(7, 1)]).unwrap(),
    )
    .unwrap();
    let cal = Calendar::new(
        &[season(3, 1, 1), season(11, 15, 3)],
        &[workday(), rest_day(), winter_day()],
    )
    .unwrap();
    let tariff = china(cal, tiers);

    assert_eq!(
        tariff.slot_at(cst(2025, 1, 1, 10, 0, 0)).unwrap().day_table,
        3
    );
    assert_eq!(
        tariff.slot_at(cst(2025, 3, 3, 10, 0, 0)).unwrap().day_table,
        1
    );
    assert_eq!(
        tariff.next_settlement_after(cst(2024, 12, 31, 22, 0, 0)),
        Some(cst(2025, 1, 1, 0, 0, 0))
    );
    assert_eq!(
        tariff.next_settlement_after(cst(2025, 1, 1, 0, 0, 0)),
        Some(cst(2025, 7, 1, 0, 0, 0))
    );

    let mut rater = Rater::from_parts(0, kwh(5), Some(cst(2024, 12, 31, 21, 59, 59))).unwrap();
    let mut money = [0i64; 4];
    for (h, m) in money.iter_mut().enumerate() {
        let from = Timestamp::from_unix(cst(2024, 12, 31, 22, 0, 0).unix() + h as i64 * 3600);
        let to = Timestamp::from_unix(from.unix() + 3600);
        *m = rater
            .rate_interval(&tariff, kwh(2), from, to)
            .unwrap()
            .money
            .minor();
    }
    assert_eq!(money, [8_000, 8_000, 7_000, 8_000]);
    assert_eq!(rater.tier_energy(), kwh(4));
}

/// A leap day. A season starting on 02-29 (table 2) begins on Feb 29 in leap years and on
/// Mar 1 in common years. At 1 kWh an hour, Thursday 2024-02-29 uses table 2: 100 000 (see
/// `a_holiday`), Wednesday 2024-02-28 table 1: 126 000. Monthly settlement on the 28th at
/// 00:00: the leap day belongs to the period that started on Feb 28; the next starts Mar 28.
/// A leap day has 96 quarter hours like any other day: the batch over Feb 28 - Mar 1 2024
/// (3 × 96 intervals of 250 Wh) gives 126 000 + 100 000 + 100 000 = 326 000.
#[test]
fn a_leap_day() {
    let cal = Calendar::new(
        &[
            Season {
                start: MonthDay::new(1, 1),
                week: WeekRule::uniform(1),
            },
            Season {
                start: MonthDay::new(2, 29),
                week: WeekRule::uniform(2),
            },
        ],
        &[workday(), rest_day()],
    )
    .unwrap();
    let tiers = Tiers::new(
        &[kwh(100)],
        &[price(0), price(100)],
        Settlement::monthly(28, 0).unwrap(),
    )
    .unwrap();
    let tariff = china(cal, tiers);
    let table = |y, m, d| tariff.slot_at(cst(y, m, d, 12, 0, 0)).unwrap().day_table;
    assert_eq!(
        (table(2024, 2, 28), table(2024, 2, 29), table(2024, 3, 1)),
        (1, 2, 2)
    );
    assert_eq!((table(2025, 2, 28), table(2025, 3, 1)), (1, 2));

    let mut rater = Rater::new();
    assert_eq!(
        rate_day(&tariff, &mut rater, 2024, 2, 28, 1_000).money,
        Money::from_minor(126_000)
    );
    assert_eq!(
        rate_day(&tariff, &mut rater, 2024, 2, 29, 1_000).money,
        Money::from_minor(100_000)
    );
    assert_eq!(rater.tier_energy(), kwh(48));
    assert_eq!(
        tariff.next_settlement_after(cst(2024, 2, 29, 12, 0, 0)),
        Some(cst(2024, 3, 28, 0, 0, 0))
    );

    #[cfg(feature = "alloc")]
    {
        let plan = BatchPlan::new(
            &tariff,
            cst(2024, 2, 28, 0, 0, 0),
            IntervalLength::FifteenMinutes,
            3 * 96,
        )
        .unwrap();
        let b = plan.rate(&mut Rater::new(), &[250; 3 * 96]).unwrap();
        assert_eq!(b.money, Money::from_minor(326_000));
    }
}

/// Monthly settlement on the 15th at 12:00 (DL/T 645 `DDhh` = 1512); threshold 100 kWh with
/// tier prices 0 and 1 000; flat 5 000 all day.
///
/// - `rate` at 2024-05-15 11:59:59 is not settled; at 12:00:00 it is, and the tier resets.
/// - `valid_until` at 11:00 on the 15th is 12:00, the settlement.
/// - From 99.5 kWh, 2 kWh over 11:30-12:30 splits at 12:00: 1 kWh before (0.5 kWh tier 0 at
///   5 000 + 0.5 kWh tier 1 at 6 000 = 2 500 + 3 000), 1 kWh after in the new period, tier 0
///   at 5 000: total 10 500; tier energy afterwards 1 kWh.
#[test]
fn settlement_on_the_configured_day() {
    let flat = DayTable::new(&[SwitchPoint::new(0, 0, FLAT)]).unwrap();
    let cal = Calendar::new(&[season(1, 1, 1)], &[flat.clone(), flat]).unwrap();
    let tiers = Tiers::new(
        &[kwh(100)],
        &[price(0), price(1_000)],
        Settlement::monthly(15, 12).unwrap(),
    )
    .unwrap();
    let tariff = china(cal, tiers);

    assert_eq!(
        tariff
            .slot_at(cst(2024, 5, 15, 11, 0, 0))
            .unwrap()
            .valid_until,
        cst(2024, 5, 15, 12, 0, 0)
    );
    assert_eq!(
        tariff
            .slot_at(cst(2024, 5, 14, 11, 0, 0))
            .unwrap()
            .valid_until,
        cst(2024, 5, 15, 0, 0, 0)
    );

    let mut rater = Rater::from_parts(0, kwh(150), Some(cst(2024, 5, 15, 11, 0, 0))).unwrap();
    let r = rater
        .rate(&tariff, kwh(1), cst(2024, 5, 15, 11, 59, 59))
        .unwrap();
    assert!(!r.settled);
    assert_eq!((r.tier, r.money), (1, Money::from_minor(6_000)));
    let r = rater
        .rate(&tariff, kwh(1), cst(2024, 5, 15, 12, 0, 0))
        .unwrap();
    assert!(r.settled);
    assert_eq!((r.tier, r.money), (0, Money::from_minor(5_000)));
    assert_eq!(rater.tier_energy(), kwh(1));
    // Settled once: later increments in the same period do not reset again.
    let r = rater
        .rate(&tariff, kwh(1), cst(2024, 5, 20, 0, 0, 0))
        .unwrap();
    assert!(!r.settled);
    assert_eq!(rater.tier_energy(), kwh(2));

    let mut rater = Rater::from_parts(0, wh(99_500), Some(cst(2024, 5, 15, 11, 29, 59))).unwrap();
    let t = rater
        .rate_interval(
            &tariff,
            kwh(2),
            cst(2024, 5, 15, 11, 30, 0),
            cst(2024, 5, 15, 12, 30, 0),
        )
        .unwrap();
    assert_eq!(t.energy_by_tier[..2], [wh(1_500), wh(500)]);
    assert_eq!(t.money, Money::from_minor(10_500));
    assert_eq!(rater.tier_energy(), kwh(1));
}

/// The remainder is carried, never dropped: 0.5283 per kWh, 1 000 increments of 1 Wh cost
/// exactly 5 283 minor units (each charge is 5 or 6), and 1 Wh alone costs 5 with 283/1000
/// carried.
#[test]
fn remainders_are_carried() {
    let flat = DayTable::new(&[SwitchPoint::new(0, 0, 1)]).unwrap();
    let cal = Calendar::new(&[season(1, 1, 1)], &[flat.clone(), flat]).unwrap();
    let tariff = Tariff::new(
        UtcOffset::CHINA,
        &[],
        TariffSet::new(cal, &[price(5_283)], Tiers::none()).unwrap(),
    )
    .unwrap();
    let mut rater = Rater::new();
    let at = cst(2024, 1, 1, 0, 0, 0);
    let mut sum = 0;
    for _ in 0..1_000 {
        let m = rater.rate(&tariff, wh(1), at).unwrap().money.minor();
        assert!(m == 5 || m == 6);
        sum += m;
    }
    assert_eq!((sum, rater.carry()), (5_283, 0));
}
