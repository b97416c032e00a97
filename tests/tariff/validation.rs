//! Every defect of a tariff is a typed error at construction, decoding or deserialization, and
//! a refused change leaves the tariff as it was.

use crate::tariff_support;

use prepaid_meter::tariff::*;
use prepaid_meter::time::{Date, Timestamp, UtcOffset};
use prepaid_meter::units::{Energy, Price};
use proptest::prelude::*;
use tariff_support::*;

fn one_table(tariff: u8) -> DayTable {
    DayTable::new(&[SwitchPoint::new(0, 0, tariff)]).unwrap()
}

fn cal(tables: &[DayTable]) -> Calendar {
    Calendar::new(
        &[Season {
            start: MonthDay::new(1, 1),
            week: WeekRule::uniform(1),
        }],
        tables,
    )
    .unwrap()
}

#[test]
fn tariff_set_errors() {
    let p = price(1_000);
    assert_eq!(
        TariffSet::new(cal(&[one_table(1)]), &[], Tiers::none()),
        Err(TariffError::NoPrices)
    );
    assert_eq!(
        TariffSet::new(cal(&[one_table(1)]), &[p; 5], Tiers::none()),
        Err(TariffError::CapacityExceeded)
    );
    assert_eq!(
        TariffSet::<DEFAULT_SEASONS, DEFAULT_DAY_TABLES, DEFAULT_SWITCH_POINTS, 64>::new_sized(
            cal(&[one_table(1)]),
            &[p; 64],
            Tiers::none()
        ),
        Err(TariffError::TooManyTariffs)
    );
    assert!(
        TariffSet::<DEFAULT_SEASONS, DEFAULT_DAY_TABLES, DEFAULT_SWITCH_POINTS, MAX_TARIFFS>::new_sized(
            cal(&[one_table(63)]),
            &[p; 63],
            Tiers::none()
        )
        .is_ok()
    );
    assert_eq!(
        TariffSet::new(cal(&[one_table(1), one_table(3)]), &[p; 2], Tiers::none()),
        Err(TariffError::TariffNumberOutOfRange)
    );
    assert_eq!(
        TariffSet::new(cal(&[one_table(0)]), &[p; 2], Tiers::none()),
        Err(TariffError::TariffNumberOutOfRange)
    );
    // TOU price plus tier price above MAX_EFFECTIVE_PRICE: a year could overflow the money.
    let max = MAX_EFFECTIVE_PRICE.minor_per_kwh();
    let tiers = Tiers::new(
        &[Energy::from_kwh(1)],
        &[Price::ZERO, price(1)],
        Settlement::monthly(1, 0).unwrap(),
    )
    .unwrap();
    assert!(TariffSet::new(cal(&[one_table(1)]), &[price(max - 1)], tiers.clone()).is_ok());
    assert_eq!(
        TariffSet::new(cal(&[one_table(1)]), &[price(max)], tiers.clone()),
        Err(TariffError::PriceOverflow)
    );
    assert_eq!(
        TariffSet::new(cal(&[one_table(1)]), &[price(u32::MAX)], tiers),
        Err(TariffError::PriceOverflow)
    );
}

#[test]
fn special_day_errors_and_unchanged_tariff() {
    let set = || {
        TariffSet::new(
            cal(&[one_table(1), one_table(1)]),
            &[price(1)],
            Tiers::none(),
        )
        .unwrap()
    };
    let day = |m, d, table| SpecialDay {
        date: SpecialDate::every_year(m, d),
        day_table: table,
    };
    let t = |days: &[SpecialDay]| Tariff::new(UtcOffset::CHINA, days, set()).map(|_| ());
    assert_eq!(
        t(&[day(5, 1, 1), day(1, 1, 1)]),
        Err(TariffError::UnsortedSpecialDays)
    );
    assert_eq!(
        t(&[day(5, 1, 1), day(5, 1, 2)]),
        Err(TariffError::DuplicateSpecialDay)
    );
    assert_eq!(t(&[day(4, 31, 1)]), Err(TariffError::InvalidDate));
    assert_eq!(
        t(&[SpecialDay {
            date: SpecialDate {
                month: 2,
                day: 29,
                year: Some(2023)
            },
            day_table: 1
        }]),
        Err(TariffError::InvalidDate)
    );
    assert_eq!(t(&[day(5, 1, 3)]), Err(TariffError::DayTableOutOfRange));
    assert_eq!(t(&[day(5, 1, 0)]), Err(TariffError::DayTableOutOfRange));
    let many: Vec<SpecialDay> = (0..3).map(|i| day(1, 1 + i, 1)).collect();
    assert_eq!(
        Tariff::<DEFAULT_SEASONS, DEFAULT_DAY_TABLES, DEFAULT_SWITCH_POINTS, DEFAULT_TARIFFS, 2>::new_sized(UtcOffset::CHINA, &many, set()).map(|_| ()),
        Err(TariffError::CapacityExceeded)
    );
    assert_eq!(
        Tariff::new(UtcOffset::from_hours(5).unwrap(), &[day(5, 1, 2)], set()).map(|_| ()),
        Ok(())
    );

    // A passive set without the day table a special day needs is refused; nothing changes.
    let mut tariff = Tariff::new(UtcOffset::CHINA, &[day(5, 1, 2)], set()).unwrap();
    let before = tariff.clone();
    let small = TariffSet::new(cal(&[one_table(1)]), &[price(2)], Tiers::none()).unwrap();
    assert_eq!(
        tariff.set_passive(small, Timestamp::from_unix(1_800_000_000)),
        Err(TariffError::DayTableOutOfRange)
    );
    assert_eq!(tariff, before);
    assert!(!tariff.activate_due(Timestamp::from_unix(i64::MAX)));
    assert_eq!(tariff, before);
}

#[test]
fn a_validated_tariff_rates_every_instant_of_its_calendar() {
    // Extreme but valid: max prices and max tiers, rated at the calendar's ends.
    let max = MAX_EFFECTIVE_PRICE.minor_per_kwh();
    let tiers = Tiers::new(
        &[Energy::from_wh(1), Energy::MAX],
        &[Price::ZERO, Price::ZERO, price(max / 2)],
        Settlement::monthly(28, 23).unwrap(),
    )
    .unwrap();
    let set = TariffSet::new(cal(&[one_table(1)]), &[price(max - max / 2)], tiers).unwrap();
    let tariff = Tariff::new(UtcOffset::from_seconds(86_399).unwrap(), &[], set).unwrap();
    let first = Timestamp::from_unix(-86_399);
    let last = Timestamp::from_unix(Date::MAX.days_since_epoch() * 86_400 + 86_399 - 86_399);
    for at in [first, last] {
        let mut r = Rater::from_parts(999, Energy::MAX, Some(first)).unwrap();
        let rated = r.rate(&tariff, MAX_ENERGY_PER_YEAR, at).unwrap();
        assert!(rated.money.is_positive());
        assert_eq!(tariff.slot_at(at).unwrap().set, SetId::Active);
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(300))]

    /// parse(emit(t)) == t for random valid tariffs, and the bytes are canonical.
    #[test]
    fn encoding_round_trips(seed in any::<u64>()) {
        let mut rng = Xs::new(seed);
        let t = tariff(&mut rng, Timestamp::from_unix(1_700_000_000), Timestamp::from_unix(1_800_000_000));
        let mut buf = vec![0u8; t.buffer_len()];
        prop_assert_eq!(t.emit(&mut buf), Ok(buf.len()));
        let back = Tariff::parse(&buf).unwrap();
        prop_assert_eq!(&back, &t);
        let mut again = vec![0u8; back.buffer_len()];
        back.emit(&mut again).unwrap();
        prop_assert_eq!(again, buf.clone());
        // Any single flipped bit is caught (CRC-32 detects every 1-bit error).
        let bit = rng.below(buf.len() as u64 * 8) as usize;
        buf[bit / 8] ^= 1 << (bit % 8);
        prop_assert!(Tariff::parse(&buf).is_err());
    }

    /// Arbitrary bytes are refused (without a panic): they lack the magic, length and CRC.
    #[test]
    fn decoding_garbage_is_an_error(bytes in proptest::collection::vec(any::<u8>(), 0..200)) {
        prop_assert!(Tariff::parse(&bytes).is_err());
    }

    /// Mutated bodies of valid encodings, re-signed with a correct CRC so that they reach the
    /// field parser, never panic; whatever decodes is validated and encodes back to the same
    /// bytes.
    #[test]
    fn re_signed_mutations_reach_the_parser(seed in any::<u64>(), flips in 1usize..6) {
        let mut rng = Xs::new(seed);
        let t = tariff(&mut rng, Timestamp::from_unix(1_700_000_000), Timestamp::from_unix(1_800_000_000));
        let mut buf = vec![0u8; t.buffer_len()];
        t.emit(&mut buf).unwrap();
        // Keep the magic, version and length (6 bytes); mutate the body; re-sign.
        let body_end = buf.len() - 4;
        for _ in 0..flips {
            let i = 6 + rng.below((body_end - 6) as u64) as usize;
            buf[i] = rng.next() as u8;
        }
        let crc = crc::Crc::<u32>::new(&crc::CRC_32_ISO_HDLC).checksum(&buf[..body_end]);
        buf[body_end..].copy_from_slice(&crc.to_le_bytes());
        if let Ok(back) = Tariff::parse(&buf) {
            let mut again = vec![0u8; back.buffer_len()];
            back.emit(&mut again).unwrap();
            prop_assert_eq!(again, buf);
        }
    }
}

#[cfg(feature = "serde")]
mod serde_tests {
    use super::*;

    #[test]
    fn serde_round_trip_and_validation() {
        let mut rng = Xs::new(7);
        let t = tariff(
            &mut rng,
            Timestamp::from_unix(1_700_000_000),
            Timestamp::from_unix(1_800_000_000),
        );
        let json = serde_json::to_string(&t).unwrap();
        let back: Tariff = serde_json::from_str(&json).unwrap();
        assert_eq!(back, t);

        // Deserializing validates like construction.
        let table =
            r#"{"points":[{"hour":8,"minute":0,"tariff":0},{"hour":7,"minute":0,"tariff":1}]}"#;
        let err = serde_json::from_str::<DayTable>(table).unwrap_err();
        assert!(err.to_string().contains("increasing"), "{err}");
        let tiers =
            r#"{"thresholds":[5,5],"prices":[0,1,2],"settlement":{"Monthly":{"day":1,"hour":0}}}"#;
        assert!(serde_json::from_str::<Tiers>(tiers).is_err());
        let tiers =
            r#"{"thresholds":[5],"prices":[0,1],"settlement":{"Monthly":{"day":31,"hour":0}}}"#;
        assert!(serde_json::from_str::<Tiers>(tiers).is_err());
        let bad_offset = json.replacen("\"offset\":", "\"offset\":90000,\"x\":", 1);
        let err = serde_json::from_str::<Tariff>(&bad_offset).unwrap_err();
        assert!(err.to_string().contains("UTC offset"), "{err}");

        let rater =
            Rater::from_parts(12, Energy::from_wh(34), Some(Timestamp::from_unix(56))).unwrap();
        let json = serde_json::to_string(&rater).unwrap();
        assert_eq!(json, r#"{"carry":12,"tier_energy":34,"latest":56}"#);
        assert_eq!(serde_json::from_str::<Rater>(&json).unwrap(), rater);
        assert!(
            serde_json::from_str::<Rater>(r#"{"carry":1000,"tier_energy":0,"latest":null}"#)
                .is_err()
        );
        assert!(
            serde_json::from_str::<Rater>(r#"{"carry":0,"tier_energy":-1,"latest":null}"#).is_err()
        );
    }
}

#[cfg(feature = "alloc")]
#[test]
fn refused_batches_change_nothing() {
    let mut rng = Xs::new(11);
    let start = Timestamp::from_unix(1_704_067_200);
    let t = tariff(&mut rng, start, Timestamp::from_unix(start.unix() + 86_400));
    let plan = BatchPlan::new(&t, start, IntervalLength::Hour, 24).unwrap();
    assert_eq!(plan.len(), 24);
    let mut rater = Rater::from_parts(5, Energy::from_wh(7), Some(start)).unwrap();
    let before = rater;
    assert_eq!(plan.rate(&mut rater, &[1; 24]), Err(RateError::OutOfOrder));
    let mut fresh = Rater::new();
    assert_eq!(
        plan.rate(&mut fresh, &[1; 25]),
        Err(RateError::TooManyReadings)
    );
    assert_eq!((rater, fresh), (before, Rater::new()));
    assert_eq!(plan.rate(&mut fresh, &[]), Ok(Totals::new()));
    assert_eq!(fresh, Rater::new());
    assert_eq!(
        BatchPlan::new(&t, start, IntervalLength::Hour, MAX_PLAN_SLOTS + 1).map(|_| ()),
        Err(RateError::PlanTooLong)
    );
    assert_eq!(
        BatchPlan::new(
            &t,
            Timestamp::from_unix(253_402_200_000),
            IntervalLength::Hour,
            48
        )
        .map(|_| ()),
        Err(RateError::TimeOutOfRange)
    );
}
