//! The state of every metering, tariff and freeze engine survives its stored form without
//! serde: round trips continue exactly like an engine that never stopped, damaged forms are
//! refused by the frame, and states that parse but break an invariant are refused by `restore`
//! with the module's typed error.

use prepaid_meter::freeze::{CatchUp, FreezeError, Freezes, FreezesState, Schedule};
use prepaid_meter::metering::{
    DemandMeter, DemandMeterState, EnergyAccumulator, EnergyAccumulatorState, EnergyRegisters,
    EnergyRegistersState, Flow, MeterConstant, MeteringError, ROLLOVER,
};
use prepaid_meter::snapshot::{Snapshot, SnapshotError};
use prepaid_meter::tariff::{
    Calendar, DEFAULT_TARIFFS, DayTable, MonthDay, RateError, Rater, RaterState, Season,
    Settlement, SettlementDay, SwitchPoint, Tariff, TariffSet, Tiers, WeekRule,
};
use prepaid_meter::time::{Date, DateTime, Time, Timestamp, UtcOffset};
use prepaid_meter::units::{Energy, Money, Price};

/// Emits `state`, checks the frame refuses a flipped bit anywhere, a wrong version and a wrong
/// magic, and returns what parses back.
fn through_storage<S: Snapshot + core::fmt::Debug + PartialEq>(state: &S) -> S {
    let mut buf = vec![0u8; state.buffer_len()];
    assert_eq!(state.emit(&mut buf), Ok(buf.len()));
    assert_eq!(&buf[..2], &S::MAGIC);
    assert_eq!(buf[2], 1);
    // Every single-bit flip of the fields or the CRC is caught by the CRC.
    for i in 5..buf.len() {
        for bit in 0..8 {
            let mut b = buf.clone();
            b[i] ^= 1 << bit;
            assert_eq!(S::parse(&b), Err(SnapshotError::BadChecksum), "byte {i}");
        }
    }
    let mut b = buf.clone();
    b[2] = 2;
    assert_eq!(S::parse(&b), Err(SnapshotError::UnsupportedVersion(2)));
    let mut b = buf.clone();
    b[1] ^= 0x20;
    assert_eq!(S::parse(&b), Err(SnapshotError::BadMagic));
    assert_eq!(
        S::parse(&buf[..buf.len() - 1]),
        Err(SnapshotError::Truncated)
    );
    S::parse(&buf).unwrap()
}

fn c1600() -> MeterConstant {
    MeterConstant::new(1600).unwrap()
}

#[test]
fn accumulator() {
    let c = c1600();
    let mut acc = EnergyAccumulator::new(c);
    let _ = acc.add_pulses(3_333);
    let state = through_storage(&acc.state());
    assert_eq!(state.buffer_len(), 13);
    let mut back = EnergyAccumulator::restore(c, state).unwrap();
    for pulses in [1u64, 7, 1599, 1 << 40] {
        assert_eq!(back.add_pulses(pulses), acc.add_pulses(pulses));
        assert_eq!(back, acc);
    }
    for remainder in [1600, u32::MAX] {
        assert_eq!(
            EnergyAccumulator::restore(c, EnergyAccumulatorState { remainder }),
            Err(MeteringError::RemainderOutOfRange)
        );
    }
}

#[test]
fn registers() {
    let mut regs = EnergyRegisters::new();
    regs.add(Flow::Import, 1, Energy::from_wh(999_999_990))
        .unwrap();
    regs.add(Flow::Import, 4, Energy::from_wh(12)).unwrap();
    regs.add(Flow::Export, 2, Energy::from_wh(5)).unwrap();
    let state = through_storage(&regs.state());
    assert_eq!(state.buffer_len(), 5 + 2 * DEFAULT_TARIFFS * 8 + 4);
    let mut back = EnergyRegisters::restore(state).unwrap();
    assert_eq!(back.total(Flow::Import), regs.total(Flow::Import));
    for (flow, tariff, wh) in [
        (Flow::Import, 1, 20),
        (Flow::Export, 3, 7),
        (Flow::Import, 2, 1),
    ] {
        regs.add(flow, tariff, Energy::from_wh(wh)).unwrap();
        back.add(flow, tariff, Energy::from_wh(wh)).unwrap();
        assert_eq!(back, regs);
    }
    let mut bad = regs.state();
    bad.import[3] = ROLLOVER;
    assert_eq!(
        EnergyRegisters::restore(bad),
        Err(MeteringError::RegisterOutOfRange)
    );
    let bad = EnergyRegistersState::<4> {
        import: [Energy::ZERO; 4],
        export: [
            Energy::from_wh(-1),
            Energy::ZERO,
            Energy::ZERO,
            Energy::ZERO,
        ],
    };
    assert_eq!(
        EnergyRegisters::restore(bad),
        Err(MeteringError::RegisterOutOfRange)
    );
}

#[test]
fn demand_meter() {
    let c = c1600();
    let mut d = DemandMeter::<15>::new_sized(c, 60).unwrap();
    let mut t = 1_700_000_000i64;
    for i in 0..40u32 {
        let _ = d.add(Timestamp::from_unix(t), (i * 37) % 50);
        t += 23;
    }
    let state = through_storage(&d.state());
    let mut back = DemandMeter::restore(c, 60, state.clone()).unwrap();
    assert_eq!(back, d);
    for i in 0..200u32 {
        let now = Timestamp::from_unix(t);
        assert_eq!(back.add(now, i % 9), d.add(now, i % 9));
        t += 17;
    }
    assert_eq!(back.max_demand(), d.max_demand());
    // Pulses before any subperiod began, and a maximum off the subperiod grid.
    let bad = DemandMeterState::<15> {
        current: None,
        window: heapless::Vec::new(),
        pulses_now: 5,
        max: None,
    };
    assert_eq!(
        DemandMeter::restore(c, 60, bad),
        Err(MeteringError::InvalidDemandState)
    );
    let mut bad = d.state();
    let max = bad.max.as_mut().unwrap();
    max.window_end = Timestamp::from_unix(max.window_end.unix() - 30);
    assert_eq!(
        DemandMeter::restore(c, 60, bad),
        Err(MeteringError::InvalidDemandState)
    );
    assert_eq!(
        DemandMeter::<15>::restore(c, 0, state),
        Err(MeteringError::InvalidDemandPeriod)
    );
}

fn cst(y: u16, m: u8, d: u8, h: u8) -> Timestamp {
    DateTime::new(Date::new(y, m, d).unwrap(), Time::new(h, 0, 0).unwrap())
        .to_timestamp(UtcOffset::CHINA)
}

fn tariff() -> Tariff {
    let day = DayTable::new(&[
        SwitchPoint::new(8, 0, 1),
        SwitchPoint::new(12, 0, 2),
        SwitchPoint::new(22, 0, 3),
    ])
    .unwrap();
    let cal = Calendar::new(
        &[Season {
            start: MonthDay::new(1, 1),
            week: WeekRule::uniform(1),
        }],
        &[day],
    )
    .unwrap();
    let tiers = Tiers::new(
        &[Energy::from_kwh(5)],
        &[Price::ZERO, Price::from_minor_per_kwh(500)],
        Settlement::Monthly(SettlementDay::new(15, 12).unwrap()),
    )
    .unwrap();
    let prices = [6_283, 5_117, 3_001].map(Price::from_minor_per_kwh);
    Tariff::new(
        UtcOffset::CHINA,
        &[],
        TariffSet::new(cal, &prices, tiers).unwrap(),
    )
    .unwrap()
}

#[test]
fn rater() {
    let tariff = tariff();
    let mut rater = Rater::new();
    let mut t = cst(2024, 5, 14, 20);
    let mut wh = 123i64;
    let step = |t: &mut Timestamp, wh: &mut i64| {
        *t = t.checked_add_secs(1_777).unwrap();
        *wh = (*wh * 7 + 11) % 901;
        (*t, Energy::from_wh(*wh))
    };
    for _ in 0..40 {
        let (at, e) = step(&mut t, &mut wh);
        let _ = rater.rate(&tariff, e, at).unwrap();
    }
    let state = through_storage(&rater.state());
    assert_eq!(state.buffer_len(), 28);
    let mut back = Rater::restore(&tariff, state).unwrap();
    // Across the settlement of 2024-05-15 12:00 and beyond, both rate alike.
    for _ in 0..200 {
        let (at, e) = step(&mut t, &mut wh);
        assert_eq!(back.rate(&tariff, e, at), rater.rate(&tariff, e, at));
        let to = at.checked_add_secs(900).unwrap();
        assert_eq!(
            back.rate_interval(&tariff, e, at, to),
            rater.rate_interval(&tariff, e, at, to)
        );
        assert_eq!(back, rater);
    }
    assert!(rater.latest().unwrap() > cst(2024, 5, 15, 12));
    for bad in [
        RaterState {
            carry: 1000,
            ..rater.state()
        },
        RaterState {
            tier_energy: Energy::from_wh(-1),
            ..rater.state()
        },
        // A latest instant no rater of this tariff can have rated: outside its calendar.
        RaterState {
            latest: Some(Timestamp::from_unix(i64::MAX)),
            ..rater.state()
        },
    ] {
        assert_eq!(Rater::restore(&tariff, bad), Err(RateError::InvalidState));
    }
}

#[test]
fn freezes() {
    let schedule = Schedule::new(
        UtcOffset::CHINA,
        SettlementDay::FIRST_OF_MONTH,
        CatchUp::default(),
    );
    let mut f = Freezes::new();
    let mut prev = cst(2024, 1, 30, 0);
    let step = |f: &mut Freezes<Money>, prev: &mut Timestamp, k: i64| {
        let now = prev.checked_add_secs(5_400).unwrap();
        let due = schedule.due(*prev, now);
        let energy = [
            Energy::from_wh(k),
            Energy::from_wh(k / 2),
            Energy::ZERO,
            Energy::from_wh(1),
            Energy::from_wh(k % 7),
        ];
        let n = f.record(&due, energy, Money::from_minor(-k));
        *prev = now;
        n
    };
    for k in 0..60 {
        let _ = step(&mut f, &mut prev, k);
    }
    let state = through_storage(&f.state());
    let mut back = Freezes::restore(state).unwrap();
    assert_eq!(back, f);
    let mut prev2 = prev;
    for k in 60..400 {
        assert_eq!(step(&mut back, &mut prev2, k), step(&mut f, &mut prev, k));
        assert_eq!(back, f);
    }
    assert_eq!(f.settlement().len(), 1);
    assert_eq!(f.daily().last(1), back.daily().last(1));

    let mut bad: FreezesState<Money> = f.state();
    bad.daily.pushed = 1;
    assert_eq!(Freezes::restore(bad), Err(FreezeError::InvalidState));
    let mut bad: FreezesState<Money> = f.state();
    bad.hourly.oldest = 40;
    assert_eq!(Freezes::restore(bad), Err(FreezeError::InvalidState));
}
