//! Snapshots of state round-trip through serde, and invalid snapshots are refused or normalised.
#![cfg(feature = "serde")]

use prepaid_meter::metering::{Direction, EnergyAccumulator, EnergyRegisters, MeterConstant};
use prepaid_meter::time::{Date, DateTime, Time, Timestamp};
use prepaid_meter::units::{Energy, Money, Price};

#[test]
fn registers_round_trip_and_recompute_totals() {
    let mut regs: EnergyRegisters<4> = EnergyRegisters::new();
    regs.add(Direction::Import, 1, Energy::from_wh(999_999_999))
        .unwrap();
    regs.add(Direction::Import, 4, Energy::from_wh(12)).unwrap();
    regs.add(Direction::Export, 2, Energy::from_wh(5)).unwrap();
    let json = serde_json::to_string(&regs).unwrap();
    assert_eq!(json, r#"{"import":[999999999,0,0,12],"export":[0,5,0,0]}"#);
    let back: EnergyRegisters<4> = serde_json::from_str(&json).unwrap();
    assert_eq!(back, regs);
    assert_eq!(back.total(Direction::Import), Energy::from_wh(11));
    // Out-of-range readings are reduced modulo the rollover, so totals stay consistent.
    let odd: EnergyRegisters<2> =
        serde_json::from_str(r#"{"import":[1000000001,-1],"export":[0,0]}"#).unwrap();
    assert_eq!(
        odd.tariffs(Direction::Import),
        [Energy::from_wh(1), Energy::from_wh(999_999_999)]
    );
    assert_eq!(odd.total(Direction::Import), Energy::ZERO);
    assert!(
        serde_json::from_str::<EnergyRegisters<2>>(r#"{"import":[1,2,3],"export":[0,0]}"#).is_err()
    );
    assert!(serde_json::from_str::<EnergyRegisters<2>>(r#"{"import":[1,2]}"#).is_err());
}

#[test]
fn value_types_round_trip() {
    let acc = {
        let mut a = EnergyAccumulator::new(MeterConstant::new(1600).unwrap());
        a.add_pulses(3);
        a
    };
    let back: EnergyAccumulator =
        serde_json::from_str(&serde_json::to_string(&acc).unwrap()).unwrap();
    assert_eq!(back, acc);
    assert!(serde_json::from_str::<MeterConstant>("0").is_err());
    let dt = DateTime::new(Date::new(2024, 2, 29).unwrap(), Time::new(1, 2, 3).unwrap());
    let back: DateTime = serde_json::from_str(&serde_json::to_string(&dt).unwrap()).unwrap();
    assert_eq!(back, dt);
    assert_eq!(serde_json::to_string(&Money::from_minor(-5)).unwrap(), "-5");
    assert_eq!(
        serde_json::to_string(&Price::from_minor_per_kwh(5283)).unwrap(),
        "5283"
    );
    assert_eq!(
        serde_json::to_string(&Timestamp::from_unix(7)).unwrap(),
        "7"
    );
}

#[test]
fn invalid_snapshots_are_refused() {
    use prepaid_meter::address::Address;
    use prepaid_meter::metering::GlitchFilter;
    use prepaid_meter::time::UtcOffset;
    assert!(serde_json::from_str::<Date>(r#"{"year":2023,"month":2,"day":29}"#).is_err());
    assert!(serde_json::from_str::<Date>(r#"{"year":2024,"month":2,"day":29}"#).is_ok());
    assert!(serde_json::from_str::<Time>(r#"{"hour":24,"minute":0,"second":0}"#).is_err());
    assert!(serde_json::from_str::<UtcOffset>("86400").is_err());
    assert_eq!(
        serde_json::from_str::<UtcOffset>("28800").unwrap(),
        UtcOffset::CHINA
    );
    assert!(serde_json::from_str::<MeterConstant>("1000001").is_err());
    assert!(serde_json::from_str::<GlitchFilter>(r#"{"min_interval":0}"#).is_err());
    assert!(
        serde_json::from_str::<EnergyAccumulator>(r#"{"constant":1600,"remainder":1600}"#).is_err()
    );
    let a: Address = serde_json::from_str(r#""AAAA12345678""#).unwrap();
    assert_eq!(serde_json::to_string(&a).unwrap(), r#""AAAA12345678""#);
    assert!(serde_json::from_str::<Address>(r#""00000000016B""#).is_err());
}
