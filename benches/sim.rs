//! Simulated meter-days a second: one meter alone (the crate's `Meter` fed by a household
//! load of 1 000 pulses an hour), stepped by its horizon, by pulses and every second; and the
//! whole system (head-end, concentrator, meters, frames) on the built-in month.
//!
//! Run with `cargo bench --bench sim`. Each benchmark counts meter-days, so divan's
//! throughput column is meter-days a second (see benches/README.md).
#![allow(clippy::unwrap_used)] // set-up outside the timed code

use divan::counter::ItemsCount;
use divan::{Bencher, black_box};
use prepaid_meter::account::{Config, Limits};
use prepaid_meter::address::Address;
use prepaid_meter::headend::{Alerts, HeadEnd, HeadEndConfig, MemoryLedger, MeterRecord};
use prepaid_meter::meter::{KeyRecord, Meter, MeterConfig, Stored};
use prepaid_meter::metering::{Flow, MeterConstant};
use prepaid_meter::purchase::CustomerNumber;
use prepaid_meter::security::{MasterKey, SecurityConfig};
use prepaid_meter::sim::{LoadedMeter, Scenario, Simulation, Stepping};
use prepaid_meter::time::Timestamp;
use prepaid_meter::units::Money;

#[path = "../tests/support/rng.rs"]
mod rng_support;

use rng_support::TestRng;

fn main() {
    divan::main();
}

/// 2027-03-01T00:00:00+08:00.
const START: i64 = 1_803_830_400;
/// A household's watts in each local hour: 625 W on average, 1 000 pulses an hour at
/// 1 600 imp/kWh.
const LOAD: [u32; 24] = [
    350, 350, 350, 350, 350, 350, 700, 1100, 700, 450, 450, 450, //
    550, 450, 450, 450, 600, 1000, 1400, 1400, 1000, 800, 600, 350,
];

/// A meter on the built-in scenario's tariff (TOU and tiers) with 5 000.00 of credit, bought
/// through a sealed open-account command from a head-end.
fn meter() -> LoadedMeter {
    let scenario = Scenario::builtin().unwrap();
    let now = Timestamp::from_unix(START);
    let address = Address::from_number(202_700_000_001).unwrap();
    let master = MasterKey::new(&[7; 16], SecurityConfig::DEFAULT.tag_len());
    let money = |units| Money::from_units(units).unwrap();
    let limits = Limits {
        alarm1: money(20),
        alarm2: money(10),
        overdraft: money(5),
        hoarding: money(10_000),
        reconnect: Money::ZERO,
    };
    let config = MeterConfig::new(
        address,
        MeterConstant::new(1600).unwrap(),
        Config::local(limits),
    );
    let keys = KeyRecord::new(1, &master.meter_keys(address, 1));
    let (mut meter, _) =
        Meter::start(config, keys, scenario.tariff.clone(), Stored::NONE, now).unwrap();
    let mut head = HeadEnd::new(HeadEndConfig::default(), MemoryLedger::new(), Vec::new()).unwrap();
    head.add_meter(MeterRecord {
        address,
        customer: CustomerNumber::new([0, 0, 0, 0, 0, 1]),
        sealer: master.meter(address, 1),
        tariff: scenario.tariff.clone(),
        account: Config::local(limits),
        alerts: Alerts {
            alarm1: limits.alarm1,
            alarm2: limits.alarm2,
            overdraft: limits.overdraft,
        },
    })
    .unwrap();
    head.pay(address, money(5_000), now).unwrap();
    for o in head.outgoing(now).unwrap() {
        let a = meter.receive(now, &o.frame, &mut TestRng(0x9E37_79B9));
        meter.saved(a.save);
    }
    assert_eq!(meter.account().balance(), money(5_000));
    LoadedMeter::new(meter, LOAD, scenario.offset, now)
}

/// Runs `m` for `days` days under `stepping`; the energy metered.
fn run(m: &mut LoadedMeter, stepping: Stepping, days: i64) -> i64 {
    let end = m.metered_to().checked_add_secs(days * 86_400).unwrap();
    while let Some(t) = m.next_tick(stepping).filter(|t| *t <= end) {
        let a = m.tick(t);
        m.meter_mut().saved(a.save);
    }
    let a = m.tick(end);
    m.meter_mut().saved(a.save);
    m.meter().registers().total(Flow::Import).wh()
}

/// The meter alone, a month (30 meter-days) a run, stepped by its horizon.
#[divan::bench(sample_count = 20)]
fn meter_alone_horizon(bencher: Bencher) {
    bencher
        .counter(ItemsCount::new(30usize))
        .with_inputs(meter)
        .bench_local_refs(|m| black_box(run(m, Stepping::Horizon, 30)));
}

/// The meter alone, a day a run, ticked in each second a pulse completes.
#[divan::bench(sample_count = 20)]
fn meter_alone_pulses(bencher: Bencher) {
    bencher
        .counter(ItemsCount::new(1usize))
        .with_inputs(meter)
        .bench_local_refs(|m| black_box(run(m, Stepping::Pulses, 1)));
}

/// The meter alone, a day a run, ticked every second (half the ticks of a firmware's 0.5 s).
#[divan::bench(sample_count = 10)]
fn meter_alone_every_second(bencher: Bencher) {
    bencher
        .counter(ItemsCount::new(1usize))
        .with_inputs(meter)
        .bench_local_refs(|m| black_box(run(m, Stepping::EverySecond, 1)));
}

/// The whole system on the built-in scenario: four meters through March (124 meter-days),
/// every poll, recharge and campaign a real DL/T 645 frame through the concentrator.
#[divan::bench(sample_count = 20)]
fn system_builtin_month(bencher: Bencher) {
    let s = Scenario::builtin().unwrap();
    bencher.counter(ItemsCount::new(124usize)).bench(|| {
        let mut sim = Simulation::new(&s).unwrap();
        sim.run().unwrap();
        black_box(sim.outcome().meters.len())
    });
}

/// The same month with the meters ticked in each second a pulse completes.
#[divan::bench(sample_count = 10)]
fn system_builtin_month_pulses(bencher: Bencher) {
    let s = Scenario::builtin().unwrap();
    bencher.counter(ItemsCount::new(124usize)).bench(|| {
        let mut sim = Simulation::with_stepping(&s, Stepping::Pulses).unwrap();
        sim.run().unwrap();
        black_box(sim.outcome().meters.len())
    });
}
