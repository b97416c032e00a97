//! The civil calendar against chrono, for every day of 2000..=2099 and random seconds.

use chrono::{Datelike, NaiveDate, Timelike};
use prepaid_meter::time::{Date, DateTime, Time, Timestamp, UtcOffset, Weekday};
use proptest::prelude::*;

const START_2000: i64 = 946_684_800; // 2000-01-01T00:00:00Z
const END_2099: i64 = 4_102_444_800; // 2100-01-01T00:00:00Z

fn weekday_of(w: chrono::Weekday) -> Weekday {
    Weekday::ALL[w.num_days_from_monday() as usize]
}

fn check(secs: i64, offset_secs: i32) {
    let offset = UtcOffset::from_seconds(offset_secs).unwrap();
    let ours = Timestamp::from_unix(secs).to_datetime(offset).unwrap();
    let theirs = chrono::DateTime::from_timestamp(secs + i64::from(offset_secs), 0)
        .unwrap()
        .naive_utc();
    assert_eq!(
        i32::from(ours.date.year()),
        theirs.year(),
        "{secs} {offset_secs}"
    );
    assert_eq!(u32::from(ours.date.month()), theirs.month());
    assert_eq!(u32::from(ours.date.day()), theirs.day());
    assert_eq!(u32::from(ours.time.hour()), theirs.hour());
    assert_eq!(u32::from(ours.time.minute()), theirs.minute());
    assert_eq!(u32::from(ours.time.second()), theirs.second());
    assert_eq!(ours.date.weekday(), weekday_of(theirs.weekday()));
    assert_eq!(u32::from(ours.date.ordinal()), theirs.ordinal());
    assert_eq!(ours.to_timestamp(offset), Timestamp::from_unix(secs));
}

#[test]
fn every_day_of_the_century_matches_chrono() {
    let mut day = NaiveDate::from_ymd_opt(2000, 1, 1).unwrap();
    let last = NaiveDate::from_ymd_opt(2099, 12, 31).unwrap();
    let mut count = 0;
    while day <= last {
        let ours = Date::new(day.year() as u16, day.month() as u8, day.day() as u8).unwrap();
        let epoch_days = day
            .signed_duration_since(NaiveDate::from_ymd_opt(1970, 1, 1).unwrap())
            .num_days();
        assert_eq!(ours.days_since_epoch(), epoch_days);
        assert_eq!(Date::from_days_since_epoch(epoch_days), Ok(ours));
        assert_eq!(ours.weekday(), weekday_of(day.weekday()));
        assert_eq!(u32::from(ours.ordinal()), day.ordinal());
        // First and last second of the day, at UTC and UTC+8.
        for offset in [0, 8 * 3600] {
            let midnight = epoch_days * 86_400 - i64::from(offset);
            check(midnight, offset);
            check(midnight + 86_399, offset);
        }
        count += 1;
        day = day.succ_opt().unwrap();
    }
    assert_eq!(count, 36_525);
}

#[test]
fn invalid_dates_match_chrono() {
    for year in 2000..=2099u16 {
        for month in 0..=13u8 {
            for day in 0..=32u8 {
                let ours = Date::new(year, month, day).is_ok();
                let theirs =
                    NaiveDate::from_ymd_opt(i32::from(year), u32::from(month), u32::from(day))
                        .is_some();
                assert_eq!(ours, theirs, "{year}-{month}-{day}");
            }
        }
    }
}

proptest! {
    #[test]
    fn any_second_of_the_century(secs in START_2000..END_2099, hours in -12i32..=14) {
        check(secs, hours * 3600);
    }

    #[test]
    fn any_offset(secs in START_2000..END_2099, offset in -86_399i32..=86_399) {
        check(secs, offset);
    }

    #[test]
    fn local_round_trip(
        y in 2000u16..=2099, mo in 1u8..=12, d in 1u8..=31, h in 0u8..24, mi in 0u8..60, s in 0u8..60,
    ) {
        if let Ok(date) = Date::new(y, mo, d) {
            let dt = DateTime::new(date, Time::new(h, mi, s).unwrap());
            let ts = dt.to_timestamp(UtcOffset::CHINA);
            prop_assert_eq!(ts.to_datetime(UtcOffset::CHINA).unwrap(), dt);
        }
    }
}
