//! The whole prepaid system in accelerated time: a head-end, a concentrator and four or more
//! meters exchanging real DL/T 645 frames (the crate's `sim` module).
//!
//! ```sh
//! cargo run --example simulate                     # the built-in month
//! cargo run --example simulate -- --scenario FILE  # a scenario file (format 1)
//! cargo run --example simulate -- --json           # the closing state as JSON
//! cargo run --example simulate -- --plot month.svg # balances and energy, charted
//! ```
//!
//! Without `--json` it prints a timeline (payments, recharges confirmed, low-credit and
//! cut-off notifications, the relay's movements, the price campaign) and a closing table per
//! meter. `--json` prints one object and nothing else on stdout:
//! `{"meters": [{"address", "energy_kwh", "energy_by_tariff_kwh", "spent", "purchased",
//! "balance", "shadow_balance", "relay", "low_credit_alerts", "cut_off_at"}]}` (money and
//! energy as decimal strings; `cut_off_at` local RFC 3339 or null). A run longer than a
//! second shows a progress bar on stderr (not with `--quiet`). A scenario that cannot be read
//! is reported with its line and key, with exit status 1; a usage error exits with 2.
// The chart's coordinates are floats; no money is computed with them.
#![allow(clippy::float_arithmetic, clippy::cast_precision_loss)]

use std::path::PathBuf;
use std::process::ExitCode;
use std::time::{Duration, Instant};

use clap::Parser;
use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};
use plotters::prelude::*;
use prepaid_meter::account::Contacts;
use prepaid_meter::headend::NotificationKind;
use prepaid_meter::sim::{Happening, MeterOutcome, Scenario, Simulation, What, format_rfc3339};
use prepaid_meter::time::{Timestamp, UtcOffset};
use prepaid_meter::units::{Energy, Money};

/// Runs a prepaid scenario on the whole system: head-end, concentrator, meters.
#[derive(Parser, Debug)]
#[command(name = "simulate", version)]
struct Cli {
    /// A scenario file (TOML, format 1); without it the built-in month of four meters runs.
    #[arg(long, value_name = "FILE")]
    scenario: Option<PathBuf>,
    /// Print the closing state as one JSON object, and nothing else on stdout.
    #[arg(long)]
    json: bool,
    /// Draw each meter's balance and energy over time, with alarms, cut-offs and recharges
    /// marked, into this SVG file.
    #[arg(long, value_name = "FILE.svg")]
    plot: Option<PathBuf>,
    /// No progress bar.
    #[arg(long)]
    quiet: bool,
}

type Error = Box<dyn std::error::Error>;

fn main() -> ExitCode {
    let cli = Cli::parse();
    match run(&cli) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("simulate: {e}");
            ExitCode::FAILURE
        }
    }
}

fn run(cli: &Cli) -> Result<(), Error> {
    let scenario = match &cli.scenario {
        None => Scenario::builtin()?,
        Some(path) => {
            let text =
                std::fs::read_to_string(path).map_err(|e| format!("{}: {e}", path.display()))?;
            Scenario::parse(&text).map_err(|e| format!("{}: {e}", path.display()))?
        }
    };
    let mut sim = Simulation::new(&scenario)?;
    let began = Instant::now();
    let total = u64::try_from(scenario.end().unix() - scenario.start.unix())?;
    let bar = ProgressBar::with_draw_target(Some(total), ProgressDrawTarget::hidden());
    bar.set_style(
        ProgressStyle::with_template("{bar:40} {percent:>3}% simulated {msg}")?
            .progress_chars("=> "),
    );
    let mut shown = false;
    let mut steps = 0u32;
    while sim.step()? {
        steps = steps.wrapping_add(1);
        if steps.is_multiple_of(4096) {
            if !shown && !cli.quiet && began.elapsed() > Duration::from_secs(1) {
                bar.set_draw_target(ProgressDrawTarget::stderr());
                shown = true;
            }
            let done = u64::try_from(sim.now().unix() - scenario.start.unix()).unwrap_or(0);
            bar.set_position(done);
            bar.set_message(day_of(sim.now(), &scenario));
        }
    }
    bar.finish_and_clear();
    let outcome = sim.outcome();
    if cli.json {
        println!("{}", serde_json::to_string(&outcome)?);
    } else {
        print_timeline(&sim, &scenario);
        print_table(&outcome.meters, scenario.offset);
        println!(
            "\n{} meters, {} days simulated in {:.2} s.",
            outcome.meters.len(),
            scenario.days,
            began.elapsed().as_secs_f64()
        );
    }
    if let Some(path) = &cli.plot {
        plot(&sim, &scenario, path)?;
        if !cli.json {
            println!("Chart written to {}.", path.display());
        }
    }
    Ok(())
}

fn day_of(t: Timestamp, s: &Scenario) -> String {
    let day = (t.unix() - s.start.unix()) / 86_400 + 1;
    format!("day {day} of {}", s.days)
}

fn kwh(e: Energy) -> String {
    e.to_string().trim_end_matches(" kWh").to_string()
}

/// Money to four decimals, exactly.
fn exact(m: Money) -> String {
    m.to_string()
}

/// Money to the cent (the last two of its four decimals cut off).
fn cents(m: Money) -> String {
    let e = exact(m);
    e[..e.len() - 2].to_string()
}

fn local(t: Timestamp, offset: UtcOffset) -> String {
    // "2027-03-01T08:00:00+08:00" -> "03-01 08:00"
    let s = format_rfc3339(t, offset);
    format!("{} {}", &s[5..10], &s[11..16])
}

/// What a timeline line says, or `None` for what the timeline leaves out.
fn describe(h: &Happening) -> Option<String> {
    Some(match &h.what {
        What::Paid { amount, payment } => {
            format!("pays {} at the head-end ({payment})", cents(*amount))
        }
        What::Notified(kind) => match kind {
            NotificationKind::LowCredit { alarm, threshold } => {
                format!(
                    "SMS: credit at or below {} (alarm {alarm})",
                    cents(*threshold)
                )
            }
            NotificationKind::Arrears => {
                "SMS: the balance is below zero, running on the overdraft".into()
            }
            NotificationKind::CutOff => {
                "SMS: the overdraft is used up, the supply is cut off".into()
            }
            NotificationKind::Reconnected => "SMS: the supply is back".into(),
            NotificationKind::RechargeConfirmed { amount, .. } => {
                format!("SMS: recharge of {} credited by the meter", cents(*amount))
            }
            _ => format!("SMS: {kind:?}"),
        },
        What::RelayOpened => "meter trips its relay: supply cut off".into(),
        What::RelayClosed => "customer presses the button: supply restored".into(),
        What::Campaign { prices, .. } => {
            let p: Vec<String> = prices
                .iter()
                .map(|p| exact(Money::from_minor(i64::from(p.minor_per_kwh()))))
                .collect();
            format!(
                "head-end campaigns new prices per kWh {} (sharp / peak / flat / valley)",
                p.join(" / ")
            )
        }
        What::CampaignConfirmed(_) => "meter confirms the new prices".into(),
        What::AlarmReported(level) => {
            format!("concentrator: credit {level:?} in two readings in a row, reported upstream")
        }
        What::Discrepancy { meter, shadow } => format!(
            "DISCREPANCY: meter {} against shadow {}",
            exact(*meter),
            exact(*shadow)
        ),
        _ => return None,
    })
}

fn print_timeline(sim: &Simulation, s: &Scenario) {
    println!(
        "{} meters from {} for {} days; concentrator polls every {} minutes.\n",
        s.meters.len(),
        format_rfc3339(s.start, s.offset),
        s.days,
        prepaid_meter::sim::POLL_MINUTES
    );
    for h in sim.timeline() {
        let Some(text) = describe(h) else { continue };
        let who = h
            .meter
            .map_or_else(|| "all meters".to_string(), |m| m.to_string());
        println!("{}  {who:<12}  {text}", local(h.at, s.offset));
    }
}

fn print_table(outcome: &[MeterOutcome], offset: UtcOffset) {
    println!(
        "\n{:<12} {:>10} {:>31} {:>9} {:>9} {:>9} {:>9} {:>6} {:>6}  last cut-off",
        "meter",
        "kWh",
        "sharp / peak / flat / valley",
        "spent",
        "bought",
        "balance",
        "shadow",
        "relay",
        "alerts",
    );
    for m in outcome {
        let t: Vec<String> = m.energy_by_tariff.iter().map(|e| kwh(*e)).collect();
        println!(
            "{:<12} {:>10} {:>31} {:>9} {:>9} {:>9} {:>9} {:>6} {:>6}  {}",
            m.address.to_string(),
            kwh(m.energy),
            t.join(" / "),
            cents(m.spent),
            cents(m.purchased),
            cents(m.balance),
            cents(m.shadow_balance),
            match m.relay {
                Contacts::Closed => "closed",
                Contacts::Open => "open",
            },
            m.low_credit_alerts,
            m.cut_off_at
                .map_or_else(|| "-".to_string(), |t| local(t, offset)),
        );
    }
    let agree = outcome.iter().all(|m| m.balance == m.shadow_balance);
    println!(
        "\nMeter and shadow account {} for every meter.",
        if agree {
            "agree to the last minor unit"
        } else {
            "DISAGREE"
        }
    );
}

/// Each meter's balance (left axis) and energy (right axis) against days, with markers.
fn plot(sim: &Simulation, s: &Scenario, path: &PathBuf) -> Result<(), Error> {
    let n = s.meters.len();
    let height = u32::try_from(260 * n)?;
    let root = SVGBackend::new(path, (1100, height)).into_drawing_area();
    root.fill(&WHITE)?;
    let days = |t: Timestamp| (t.unix() - s.start.unix()) as f64 / 86_400.0;
    let yuan = |m: Money| m.minor() as f64 / 10_000.0;
    for (k, (area, spec)) in root.split_evenly((n, 1)).iter().zip(&s.meters).enumerate() {
        let samples = sim.samples(spec.address);
        let (lo, hi) = samples.iter().fold((0.0f64, 1.0f64), |(lo, hi), x| {
            (lo.min(yuan(x.balance)), hi.max(yuan(x.balance)))
        });
        let max_kwh = samples
            .last()
            .map_or(1.0, |x| (x.energy.wh() as f64 / 1000.0).max(1.0));
        let mut chart = ChartBuilder::on(area)
            .caption(format!("meter {}", spec.address), ("sans-serif", 18))
            .margin(8)
            .x_label_area_size(28)
            .y_label_area_size(56)
            .right_y_label_area_size(56)
            .build_cartesian_2d(0.0..f64::from(s.days), (lo - 5.0)..(hi * 1.05))?
            .set_secondary_coord(0.0..f64::from(s.days), 0.0..max_kwh * 1.05);
        chart
            .configure_mesh()
            .x_desc("day")
            .y_desc("balance")
            .light_line_style(WHITE.mix(0.0))
            .draw()?;
        chart.configure_secondary_axes().y_desc("kWh").draw()?;
        chart
            .draw_series(LineSeries::new(
                samples.iter().map(|x| (days(x.at), yuan(x.balance))),
                BLUE.stroke_width(2),
            ))?
            .label("balance")
            .legend(|(x, y)| PathElement::new(vec![(x, y), (x + 16, y)], BLUE));
        chart
            .draw_secondary_series(LineSeries::new(
                samples
                    .iter()
                    .map(|x| (days(x.at), x.energy.wh() as f64 / 1000.0)),
                &RGBColor(120, 120, 120),
            ))?
            .label("energy (kWh, right)")
            .legend(|(x, y)| PathElement::new(vec![(x, y), (x + 16, y)], RGBColor(120, 120, 120)));
        let balance_at = |t: Timestamp| {
            samples
                .iter()
                .take_while(|x| x.at <= t)
                .last()
                .map_or(0.0, |x| yuan(x.balance))
        };
        let marks = |pick: &dyn Fn(&What) -> bool| -> Vec<(f64, f64)> {
            sim.timeline()
                .iter()
                .filter(|h| h.meter == Some(spec.address) && pick(&h.what))
                .map(|h| (days(h.at), balance_at(h.at)))
                .collect()
        };
        let alarms = marks(&|w| matches!(w, What::Notified(NotificationKind::LowCredit { .. })));
        let cuts = marks(&|w| matches!(w, What::RelayOpened));
        let recharges = marks(&|w| {
            matches!(
                w,
                What::Notified(NotificationKind::RechargeConfirmed { .. })
            )
        });
        chart
            .draw_series(
                alarms
                    .iter()
                    .map(|&p| TriangleMarker::new(p, 7, RGBColor(230, 140, 0).filled())),
            )?
            .label("low-credit alarm")
            .legend(|(x, y)| TriangleMarker::new((x + 8, y), 6, RGBColor(230, 140, 0).filled()));
        chart
            .draw_series(cuts.iter().map(|&p| Cross::new(p, 7, RED.stroke_width(3))))?
            .label("cut-off")
            .legend(|(x, y)| Cross::new((x + 8, y), 6, RED.stroke_width(3)));
        chart
            .draw_series(recharges.iter().map(|&p| Circle::new(p, 5, GREEN.filled())))?
            .label("recharge")
            .legend(|(x, y)| Circle::new((x + 8, y), 5, GREEN.filled()));
        if k > 0 {
            continue;
        }
        chart
            .configure_series_labels()
            .background_style(WHITE.mix(0.8))
            .border_style(BLACK)
            .position(SeriesLabelPosition::UpperMiddle)
            .draw()?;
    }
    root.present()?;
    Ok(())
}
