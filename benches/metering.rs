//! Pulse accounting: the interrupt-side `on_pulse`, and draining plus exact accounting in the
//! main loop, per pulse.
//!
//! Run with `cargo bench --bench metering`.

use divan::{Bencher, black_box, counter::ItemsCount};
use prepaid_meter::metering::{
    EnergyAccumulator, EnergyRegisters, Flow, GlitchFilter, MeterConstant, PulseCounter,
};
use prepaid_meter::time::{Duration, Instant};

fn main() {
    divan::main();
}

fn setup() -> (MeterConstant, GlitchFilter) {
    let c = MeterConstant::new(1600).unwrap_or_else(|e| unreachable!("{e}"));
    let f = GlitchFilter::from_min_interval(Duration::from_millis(100))
        .unwrap_or_else(|e| unreachable!("{e}"));
    (c, f)
}

/// One pulse through the interrupt path (critical section, glitch check, count).
#[divan::bench]
fn on_pulse(bencher: Bencher) {
    let (_, f) = setup();
    let counter = PulseCounter::new();
    let mut t = 0u64;
    bencher.counter(ItemsCount::new(1usize)).bench_local(|| {
        t += 200_000;
        counter.on_pulse(black_box(Instant::from_micros(t)), f);
    });
}

/// Pulses recorded, then drained and accounted in batches of `N` (the main loop's cadence),
/// measured per pulse.
#[divan::bench(consts = [1, 16, 256])]
fn pulse_drain_account<const N: usize>(bencher: Bencher) {
    let (c, f) = setup();
    let counter = PulseCounter::new();
    let mut acc = EnergyAccumulator::new(c);
    let mut regs = EnergyRegisters::<4>::new_sized();
    let mut t = 0u64;
    bencher.counter(ItemsCount::new(N)).bench_local(|| {
        for _ in 0..N {
            t += 200_000;
            counter.on_pulse(Instant::from_micros(t), f);
        }
        let batch = counter.drain();
        let wh = acc.add_pulses(u64::from(batch.accepted));
        let _ = regs.add(Flow::Import, 2, black_box(wh));
    });
}

/// The exact pulse-to-Wh conversion and register update alone, per drained batch.
#[divan::bench]
fn account_batch(bencher: Bencher) {
    let (c, _) = setup();
    let mut acc = EnergyAccumulator::new(c);
    let mut regs = EnergyRegisters::<4>::new_sized();
    bencher.counter(ItemsCount::new(1usize)).bench_local(|| {
        let wh = acc.add_pulses(black_box(37));
        let _ = regs.add(Flow::Import, 3, wh);
    });
}
