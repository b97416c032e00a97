//! One simulated day of a household meter: metering-chip pulses become exact kWh.
//!
//! Run with `cargo run --example simulate`.
//!
//! A 1600 imp/kWh meter sees a typical daily load profile. Every pulse goes through the same
//! path as in firmware: the pulse interrupt ([`PulseCounter::on_pulse`], with a glitch filter
//! that rejects contact bounce), the main loop draining the counter once a minute, the exact
//! pulse-to-Wh accumulator, the per-tariff energy registers, and the power and demand estimates.

use prepaid_meter::metering::{
    DemandMeter, Direction, EnergyAccumulator, EnergyRegisters, GlitchFilter, MeterConstant,
    PowerEstimator, PulseCounter,
};
use prepaid_meter::time::{Date, DateTime, Instant, Time, UtcOffset};
use prepaid_meter::units::Energy;

/// Household load in watts for each hour of the day.
const LOAD_W: [u64; 24] = [
    300, 250, 220, 220, 230, 300, 900, 1800, 1200, 700, 650, 800, //
    1500, 900, 600, 600, 700, 1400, 2600, 3100, 2800, 2100, 1200, 500,
];

/// The tariff (1 sharp, 2 peak, 3 flat, 4 valley) of each hour: a fixed day plan for this demo.
const TARIFF: [u8; 24] = [
    4, 4, 4, 4, 4, 4, 4, 3, 2, 2, 2, 3, 3, 3, 3, 3, 3, 2, 2, 1, 1, 2, 2, 4,
];
const TARIFF_NAMES: [&str; 4] = ["sharp", "peak", "flat", "valley"];

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let c = MeterConstant::new(1600)?;
    let filter = GlitchFilter::from_max_power(c, 13_200)?; // 60 A at 220 V
    let offset = UtcOffset::CHINA;
    let day = DateTime::new(Date::new(2026, 11, 25)?, Time::MIDNIGHT);
    let start = day.to_timestamp(offset);

    let counter = PulseCounter::new();
    let mut acc = EnergyAccumulator::new(c);
    let mut regs: EnergyRegisters<4> = EnergyRegisters::new();
    let mut power = PowerEstimator::new(c);
    let mut demand: DemandMeter<1> = DemandMeter::new(c, 900)?;

    println!(
        "One day on a {} imp/kWh meter, {} (UTC+8)",
        c.imp_per_kwh(),
        day.date
    );
    println!(
        "glitch filter: pulses closer than {} ms are rejected\n",
        filter.min_interval().micros() / 1000
    );
    println!("hour   tariff  load W  pulses  glitches  hour kWh   total kWh   power W  demand W");

    let (mut pulses_total, mut glitches_total) = (0u64, 0u64);
    let mut next_pulse_us: u64 = 0;
    for hour in 0..24usize {
        let load = LOAD_W[hour];
        let tariff = TARIFF[hour];
        // One pulse every 3.6e12 / (C × P) µs at this load.
        let interval = 3_600_000_000_000 / (u64::from(c.imp_per_kwh()) * load);
        let (mut hour_pulses, mut hour_glitches, mut hour_wh) = (0u64, 0u64, 0i64);
        let mut last_reading = None;
        for minute in 0..60u64 {
            let minute_end = ((hour as u64) * 60 + minute + 1) * 60_000_000;
            while next_pulse_us < minute_end {
                counter.on_pulse(Instant::from_micros(next_pulse_us), filter);
                // Every 97th pulse bounces: a second edge 2 ms later, which the filter rejects.
                if (next_pulse_us / interval).is_multiple_of(97) {
                    counter.on_pulse(Instant::from_micros(next_pulse_us + 2_000), filter);
                }
                next_pulse_us += interval;
            }
            // The main loop, once a minute.
            let batch = counter.drain();
            let wh = acc.add_pulses(u64::from(batch.accepted));
            regs.add(Direction::Import, tariff, wh)?;
            power.update(&batch);
            let now = start
                .checked_add_secs((minute_end / 1_000_000) as i64)
                .ok_or("time overflow")?;
            if let Some(r) = demand.add(now, batch.accepted) {
                last_reading = Some(r);
            }
            hour_pulses += u64::from(batch.accepted);
            hour_glitches += u64::from(batch.rejected);
            hour_wh += wh.wh();
        }
        pulses_total += hour_pulses;
        glitches_total += hour_glitches;
        let now = Instant::from_micros((hour as u64 + 1) * 3_600_000_000);
        println!(
            "{hour:02}:00  {:<6} {load:>7} {hour_pulses:>7} {hour_glitches:>9} {:>9} {:>11} {:>9} {:>9}",
            TARIFF_NAMES[usize::from(tariff - 1)],
            kwh(Energy::from_wh(hour_wh)),
            kwh(regs.total(Direction::Import)),
            power.power(now).whole_watts(),
            last_reading.map_or(0, |r| r.demand.whole_watts()),
        );
    }

    let total = regs.total(Direction::Import);
    println!(
        "\n{pulses_total} pulses ({glitches_total} glitches rejected) = {} exactly: {pulses_total} x 1000 / {} Wh, {} / {} Wh carried",
        total,
        c.imp_per_kwh(),
        acc.remainder(),
        c.imp_per_kwh()
    );
    for (i, name) in TARIFF_NAMES.iter().enumerate() {
        println!(
            "  {name:<6} {}",
            regs.tariff(Direction::Import, i as u8 + 1)?
        );
    }
    if let Some(max) = demand.max_demand() {
        let at = max.window_end.to_datetime(offset)?;
        println!(
            "maximum 15-minute demand: {} W, window ending {}",
            max.demand.whole_watts(),
            at
        );
    }
    println!(
        "DL/T 645 register 00010000 reads {:06}.{:02} kWh",
        regs.total_centi_kwh(Direction::Import) / 100,
        regs.total_centi_kwh(Direction::Import) % 100
    );
    Ok(())
}

fn kwh(e: Energy) -> String {
    format!("{:.3}", e).trim_end_matches(" kWh").to_string()
}
