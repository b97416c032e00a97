//! A head-end's monthly bill run: one tariff, one precomputed plan for January 2025 in
//! 15-minute intervals, three meters' load profiles rated into energy per tariff, energy per
//! tier and money; printed as JSON lines (by hand, no serde_json).
//!
//! Run: `cargo run --example tariff_batch --features alloc`

use prepaid_meter::tariff::{
    BatchPlan, Calendar, DayTable, IntervalLength, MonthDay, Rater, Season, Settlement,
    SpecialDate, SpecialDay, SwitchPoint, Tariff, TariffError, TariffSet, Tiers, WeekRule,
};
use prepaid_meter::time::{Date, DateTime, Time, UtcOffset, Weekday};
use prepaid_meter::units::{Energy, Price};
use std::io::{self, Write};

fn tariff() -> Result<Tariff, TariffError> {
    let sp = SwitchPoint::new;
    // Tariffs: 1 sharp, 2 peak, 3 flat, 4 valley.
    let workday = DayTable::new(&[
        sp(0, 0, 4),
        sp(8, 0, 3),
        sp(10, 0, 2),
        sp(11, 0, 1),
        sp(13, 0, 2),
        sp(17, 0, 3),
        sp(19, 0, 1),
        sp(21, 0, 2),
    ])?;
    let rest = DayTable::new(&[sp(0, 0, 4), sp(8, 0, 3), sp(22, 0, 4)])?;
    let week = WeekRule::with_rest_days(1, 2, &[Weekday::Saturday, Weekday::Sunday]);
    let calendar = Calendar::new(
        &[Season {
            start: MonthDay::new(1, 1),
            week,
        }],
        &[workday, rest],
    )?;
    let p = Price::from_minor_per_kwh;
    let tiers = Tiers::new(
        &[Energy::from_kwh(180), Energy::from_kwh(280)],
        &[p(0), p(500), p(3_000)],
        Settlement::monthly(1, 0)?,
    )?;
    let set = TariffSet::new(calendar, &[p(11_000), p(8_500), p(5_500), p(2_800)], tiers)?;
    let new_year = SpecialDay {
        date: SpecialDate::every_year(1, 1),
        day_table: 2,
    };
    Tariff::new(UtcOffset::CHINA, &[new_year], set)
}

/// A synthetic load profile: a base load, an evening bump, and some noise.
fn profile(seed: u64, base_wh: u32, slots: usize) -> Vec<u32> {
    let mut x = seed | 1;
    (0..slots)
        .map(|i| {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            let quarter = i % 96;
            let evening = if (72..88).contains(&quarter) {
                3 * base_wh
            } else {
                0
            };
            base_wh + evening + (x % 50) as u32
        })
        .collect()
}

/// A head-end's monthly bill run over three meters' 15-minute load profiles, printed as JSON
/// lines (it takes no options).
#[derive(clap::Parser, Debug)]
#[command(name = "tariff_batch", version)]
struct Cli {}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    <Cli as clap::Parser>::parse();
    match run(&mut io::stdout().lock()) {
        // The reader went away (`tariff_batch | head -1`): stop quietly, as CLI tools do.
        Err(e)
            if e.downcast_ref::<io::Error>()
                .is_some_and(|e| e.kind() == io::ErrorKind::BrokenPipe) =>
        {
            Ok(())
        }
        other => other,
    }
}

/// The bill run, one JSON line per meter on `out`.
fn run(out: &mut impl Write) -> Result<(), Box<dyn std::error::Error>> {
    let tariff = tariff()?;
    let start =
        DateTime::new(Date::new(2025, 1, 1)?, Time::MIDNIGHT).to_timestamp(UtcOffset::CHINA);
    let slots = 31 * IntervalLength::FifteenMinutes.per_day();
    let plan = BatchPlan::new(&tariff, start, IntervalLength::FifteenMinutes, slots)?;
    for (meter, base) in [
        ("000000000001", 60),
        ("000000000002", 120),
        ("000000000003", 250),
    ] {
        let readings = profile(base as u64, base, slots);
        let mut rater = Rater::new();
        let totals = plan.rate(&mut rater, &readings)?;
        let list = |es: &[Energy]| {
            es.iter()
                .map(|e| e.wh().to_string())
                .collect::<Vec<_>>()
                .join(",")
        };
        writeln!(
            out,
            "{{\"meter\":\"{meter}\",\"wh_by_tariff\":[{}],\"wh_by_tier\":[{}],\"money\":\"{}\",\"carry_thousandths\":{}}}",
            list(&totals.energy_by_tariff),
            list(&totals.energy_by_tier),
            totals.money,
            rater.carry(),
        )?;
    }
    out.flush()?;
    Ok(())
}
