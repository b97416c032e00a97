//! Snapshots of state round-trip through serde, and invalid snapshots are refused or normalised.
#![cfg(feature = "serde")]

use prepaid_meter::metering::{EnergyAccumulator, EnergyRegisters, Flow, MeterConstant};
use prepaid_meter::time::{Date, DateTime, Time, Timestamp};
use prepaid_meter::units::{Energy, Money, Price};

#[test]
fn registers_round_trip_and_recompute_totals() {
    let mut regs = EnergyRegisters::<4>::new_sized();
    regs.add(Flow::Import, 1, Energy::from_wh(999_999_999))
        .unwrap();
    regs.add(Flow::Import, 4, Energy::from_wh(12)).unwrap();
    regs.add(Flow::Export, 2, Energy::from_wh(5)).unwrap();
    let json = serde_json::to_string(&regs).unwrap();
    assert_eq!(json, r#"{"import":[999999999,0,0,12],"export":[0,5,0,0]}"#);
    let back: EnergyRegisters<4> = serde_json::from_str(&json).unwrap();
    assert_eq!(back, regs);
    assert_eq!(back.total(Flow::Import), Energy::from_wh(11));
    // Out-of-range readings are reduced modulo the rollover, so totals stay consistent.
    let odd: EnergyRegisters<2> =
        serde_json::from_str(r#"{"import":[1000000001,-1],"export":[0,0]}"#).unwrap();
    assert_eq!(
        odd.tariffs(Flow::Import),
        [Energy::from_wh(1), Energy::from_wh(999_999_999)]
    );
    assert_eq!(odd.total(Flow::Import), Energy::ZERO);
    assert!(
        serde_json::from_str::<EnergyRegisters<2>>(r#"{"import":[1,2,3],"export":[0,0]}"#).is_err()
    );
    assert!(serde_json::from_str::<EnergyRegisters<2>>(r#"{"import":[1,2]}"#).is_err());
}

#[test]
fn value_types_round_trip() {
    let acc = {
        let mut a = EnergyAccumulator::new(MeterConstant::new(1600).unwrap());
        let _ = a.add_pulses(3);
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

#[test]
fn account_snapshot_round_trips_and_validates_its_config() {
    use prepaid_meter::account::{Config, Limits, MoneyAccount};
    use prepaid_meter::purchase::{CustomerNumber, Purchase};
    let yuan = |y| Money::from_units(y).unwrap();
    let limits = Limits {
        alarm1: yuan(20),
        alarm2: yuan(10),
        overdraft: yuan(5),
        hoarding: yuan(5000),
        reconnect: yuan(1),
    };
    let mut account = MoneyAccount::new(Config::local(limits), yuan(0)).unwrap();
    let t = Timestamp::from_unix(1_735_689_600);
    let customer = CustomerNumber::new([0, 0, 0, 0, 0x12, 0x34]);
    let _ = account
        .open(
            t,
            Purchase {
                customer,
                count: 1,
                amount: yuan(30),
            },
        )
        .unwrap();
    let _ = account.debit(t, yuan(12)).unwrap();
    let json = serde_json::to_string(&account).unwrap();
    let back: MoneyAccount = serde_json::from_str(&json).unwrap();
    assert_eq!(back, account);
    assert_eq!(back.balance(), yuan(18));
    // A snapshot whose alarm 2 lies above alarm 1 is refused, as Account::new refuses it.
    let mut value: serde_json::Value = serde_json::from_str(&json).unwrap();
    value["config"]["limits"]["alarm2"] = serde_json::json!(300_000);
    assert!(serde_json::from_value::<MoneyAccount>(value).is_err());
}

#[test]
fn rings_and_schedules_refuse_impossible_snapshots() {
    use prepaid_meter::ring::Ring;
    use prepaid_meter::tariff::SettlementDay;
    let mut ring: Ring<u32, 3> = Ring::new();
    for n in 1..=5 {
        ring.push(n);
    }
    let json = serde_json::to_string(&ring).unwrap();
    let back: Ring<u32, 3> = serde_json::from_str(&json).unwrap();
    assert_eq!(back, ring);
    assert_eq!(back.last(1), Some(&5));
    // `oldest` outside the ring, or moved before the ring filled, or fewer pushes than records.
    for bad in [
        r#"{"items":[1,2,3],"oldest":18446744073709551615,"pushed":9}"#,
        r#"{"items":[1,2,3],"oldest":3,"pushed":9}"#,
        r#"{"items":[1,2],"oldest":1,"pushed":2}"#,
        r#"{"items":[1,2],"oldest":0,"pushed":1}"#,
    ] {
        assert!(serde_json::from_str::<Ring<u32, 3>>(bad).is_err(), "{bad}");
    }
    assert!(serde_json::from_str::<SettlementDay>(r#"{"day":31,"hour":0}"#).is_err());
    assert!(serde_json::from_str::<SettlementDay>(r#"{"day":1,"hour":99}"#).is_err());
    let day: SettlementDay = serde_json::from_str(r#"{"day":28,"hour":23}"#).unwrap();
    assert_eq!((day.day(), day.hour()), (28, 23));
}
