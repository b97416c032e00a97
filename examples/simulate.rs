//! One simulated day of a prepaid household meter, from metering-chip pulses to a remote
//! recharge: the crate's pieces working together as they do in firmware and at the head-end.
//!
//! Run with `cargo run --example simulate`.
//!
//! A 1600 imp/kWh meter sees a typical daily load. Every pulse takes the firmware's path: the
//! pulse interrupt ([`PulseCounter::on_pulse`], whose glitch filter rejects contact bounce), the
//! main loop draining the counter once a minute, the exact pulse-to-Wh accumulator, the
//! time-of-use and tiered tariff ([`Rater`]), the energy register of the tariff in force, and
//! the prepaid account, which debits the charge, raises the low-credit alarms and trips the
//! relay when the overdraft limit is reached. In the evening the head-end sells credit: it seals
//! a recharge command for this meter alone, the meter opens it, stores its counter, credits the
//! account and seals its answer; the customer then presses the button to reconnect.

use prepaid_meter::account::{AlarmFlags, Config, Limits, MoneyAccount, RelayState};
use prepaid_meter::address::Address;
use prepaid_meter::metering::{
    DemandMeter, EnergyAccumulator, EnergyRegisters, Flow, GlitchFilter, MeterConstant,
    PulseCounter,
};
use prepaid_meter::purchase::{CustomerNumber, Purchase};
use prepaid_meter::security::{
    Command, CommandCounter, MasterKey, MeterSecurity, Reply, SecurityConfig, SoftwareModule,
    Status,
};
use prepaid_meter::tariff::{
    Calendar, DayTable, MonthDay, Rater, Season, Settlement, SwitchPoint, Tariff, TariffSet, Tiers,
    WeekRule,
};
use prepaid_meter::time::{Date, DateTime, Instant, Time, Timestamp, UtcOffset};
use prepaid_meter::units::{Energy, Money, Price};

/// Household load in watts for each hour of the day.
const LOAD_W: [u64; 24] = [
    300, 250, 220, 220, 230, 300, 900, 1800, 1200, 700, 650, 800, //
    1500, 900, 600, 600, 700, 1400, 2600, 3100, 2800, 2100, 1200, 500,
];
const TARIFF_NAMES: [&str; 4] = ["sharp", "peak", "flat", "valley"];
/// When the head-end's recharge reaches the meter, and when the customer presses the button.
const RECHARGE_AT: (usize, u64) = (21, 40);
const BUTTON_AT: (usize, u64) = (21, 55);

type Error = Box<dyn std::error::Error>;

fn yuan(cents: i64) -> Result<Money, Error> {
    Money::from_cents(cents).ok_or_else(|| "amount out of range".into())
}

/// A Chinese residential plan: sharp 19-21, peak 8-11 and 17-19 and 21-23, flat 7-8 and 11-17,
/// valley 23-7; 0.05 more per kWh above 200 kWh a month.
fn tariff() -> Result<Tariff, Error> {
    let points = [
        (0, 4),
        (7, 3),
        (8, 2),
        (11, 3),
        (17, 2),
        (19, 1),
        (21, 2),
        (23, 4),
    ];
    let day: DayTable = DayTable::new(&points.map(|(h, t)| SwitchPoint::new(h, 0, t)))?;
    let calendar = Calendar::new(
        &[Season {
            start: MonthDay::new(1, 1),
            week: WeekRule::uniform(1),
        }],
        &[day],
    )?;
    let tiers = Tiers::new(
        &[Energy::from_kwh(200)],
        &[Price::ZERO, Price::from_minor_per_kwh(500)],
        Settlement::monthly(1, 0)?,
    )?;
    let prices = [8_000, 6_500, 5_283, 3_500].map(Price::from_minor_per_kwh);
    Ok(Tariff::new(
        UtcOffset::CHINA,
        &[],
        TariffSet::new(calendar, &prices, tiers)?,
    )?)
}

/// One simulated day of a 1600 imp/kWh prepaid household meter, from metering-chip pulses to a
/// remote recharge (it takes no options).
#[derive(clap::Parser, Debug)]
#[command(name = "simulate", version)]
struct Cli {}

fn main() -> Result<(), Error> {
    <Cli as clap::Parser>::parse();
    let offset = UtcOffset::CHINA;
    let day = DateTime::new(Date::new(2026, 11, 25)?, Time::MIDNIGHT);
    let start = day.to_timestamp(offset);
    let at = |hour: usize, minute: u64| -> Result<Timestamp, Error> {
        let secs = i64::try_from(hour as u64 * 3600 + minute * 60)?;
        start
            .checked_add_secs(secs)
            .ok_or_else(|| "time out of range".into())
    };

    // Metering.
    let c = MeterConstant::new(1600)?;
    let filter = GlitchFilter::from_max_power(c, 13_200)?; // 60 A at 220 V
    let counter = PulseCounter::new();
    let mut acc = EnergyAccumulator::new(c);
    let mut regs: EnergyRegisters<4> = EnergyRegisters::new();
    let mut demand: DemandMeter<1> = DemandMeter::new(c, 900)?;
    // Rating and the account.
    let tariff = tariff()?;
    let mut rater = Rater::new();
    let limits = Limits {
        alarm1: yuan(800)?,
        alarm2: yuan(400)?,
        overdraft: yuan(100)?,
        hoarding: yuan(500_000)?,
        reconnect: yuan(100)?,
    };
    let mut account = MoneyAccount::new(Config::local(limits), Money::ZERO)?;
    let customer = CustomerNumber::new([0, 0, 0x20, 0x26, 0x11, 0x25]);
    let _ = account.open(
        start,
        Purchase {
            customer,
            count: 1,
            amount: yuan(1_300)?,
        },
    )?;
    // Security: the head-end holds the master key; the meter was provisioned with its own keys.
    let address: Address = "201000000012".parse()?;
    let head_end = MasterKey::new(&[0x42; 16], SecurityConfig::DEFAULT.tag_len());
    let keys = head_end.meter_keys(address, 1);
    let mut meter_security = MeterSecurity::new(
        address,
        SoftwareModule::new(1, &keys),
        SecurityConfig::DEFAULT,
    )?;
    let mut head_end_counter = CommandCounter::new(1);

    println!(
        "Meter {address}, {} imp/kWh, {} (UTC+8)",
        c.imp_per_kwh(),
        day.date
    );
    println!(
        "account opened with {} yuan; alarms at {} and {}, overdraft down to -{}",
        cents(account.balance()),
        cents(limits.alarm1),
        cents(limits.alarm2),
        cents(limits.overdraft)
    );
    println!("\nhour   tariff  load W  pulses  glitches  kWh     charged  balance    relay");

    let (mut pulses_total, mut glitches_total) = (0u64, 0u64);
    let mut next_pulse_us: u64 = 0;
    let mut alarms = account.alarms();
    for (hour, &load) in LOAD_W.iter().enumerate() {
        let interval = 3_600_000_000_000 / (u64::from(c.imp_per_kwh()) * load);
        let (mut hour_pulses, mut hour_glitches) = (0u64, 0u64);
        let (mut hour_wh, mut hour_money) = (Energy::ZERO, Money::ZERO);
        let mut tariff_no = 0;
        for minute in 0..60u64 {
            let minute_end_us = ((hour as u64) * 60 + minute + 1) * 60_000_000;
            let supply_on = matches!(account.relay(), RelayState::Closed);
            while next_pulse_us < minute_end_us {
                if supply_on {
                    counter.on_pulse(Instant::from_micros(next_pulse_us), filter);
                    // Every 97th pulse bounces: a second edge 2 ms later, rejected by the filter.
                    if (next_pulse_us / interval).is_multiple_of(97) {
                        counter.on_pulse(Instant::from_micros(next_pulse_us + 2_000), filter);
                    }
                }
                next_pulse_us += interval;
            }
            // The main loop, once a minute: drain, convert, rate, register, debit.
            // The minute's energy is rated at the tariff in force when the minute began.
            let now = at(hour, minute + 1)?;
            let batch = counter.drain();
            let wh = acc.add_pulses(u64::from(batch.accepted));
            let rated = rater.rate(&tariff, wh, at(hour, minute)?)?;
            regs.add(Flow::Import, rated.slot.tariff, wh)?;
            let effects = account.debit(now, rated.money)?;
            demand.add(now, batch.accepted);
            tariff_no = rated.slot.tariff;
            hour_pulses += u64::from(batch.accepted);
            hour_glitches += u64::from(batch.rejected);
            hour_wh = hour_wh.saturating_add(wh);
            hour_money = hour_money.saturating_add(rated.money);
            if let Some(drive) = effects.drive {
                println!(
                    "  {} relay driven {drive:?}: {:?}",
                    clock(now, offset)?,
                    account.relay()
                );
                if let Some(event) = effects.relay {
                    println!("         relay event: {:?} -> {:?}", event.from, event.to);
                }
            }
            if effects.alarms != alarms {
                alarms = effects.alarms;
                println!(
                    "  {} alarms {}: balance {}",
                    clock(now, offset)?,
                    alarm_text(alarms),
                    cents(account.balance())
                );
            }
            if (hour, minute) == RECHARGE_AT {
                recharge(
                    &head_end,
                    &mut head_end_counter,
                    &mut meter_security,
                    &mut account,
                    address,
                    customer,
                    now,
                )?;
            }
            if (hour, minute) == BUTTON_AT {
                let fx = account.press_button(now);
                let drive = fx
                    .drive
                    .map_or("stays".to_string(), |d| format!("driven {d:?}"));
                println!(
                    "  {} customer presses the button: relay {drive}",
                    clock(now, offset)?
                );
            }
        }
        pulses_total += hour_pulses;
        glitches_total += hour_glitches;
        println!(
            "{hour:02}:00  {:<6} {load:>7} {hour_pulses:>7} {hour_glitches:>9} {:>7} {:>8} {:>9}  {:?}",
            TARIFF_NAMES
                .get(usize::from(tariff_no).saturating_sub(1))
                .unwrap_or(&"?"),
            kwh(hour_wh),
            cents(hour_money),
            cents(account.balance()),
            account.relay(),
        );
    }

    let total = regs.total(Flow::Import);
    println!(
        "\n{pulses_total} pulses ({glitches_total} glitches rejected) = {total} exactly \
         ({pulses_total} x 1000 / {} Wh; {}/{} Wh carried)",
        c.imp_per_kwh(),
        acc.remainder(),
        c.imp_per_kwh()
    );
    for (i, name) in TARIFF_NAMES.iter().enumerate() {
        println!(
            "  {name:<6} {}",
            regs.tariff(Flow::Import, u8::try_from(i + 1)?)?
        );
    }
    if let Some(max) = demand.max_demand() {
        let when = max.window_end.to_datetime(offset)?;
        println!(
            "maximum 15-minute demand: {} W, window ending {}",
            max.demand.whole_watts(),
            when
        );
    }
    println!(
        "DL/T 645 00010000 (import total) reads {:06}.{:02} kWh; 00900200 (balance) reads {}",
        regs.total_centi_kwh(Flow::Import) / 100,
        regs.total_centi_kwh(Flow::Import) % 100,
        cents(account.remaining())
    );
    Ok(())
}

/// The head-end sells 50.00 yuan: a sealed recharge, opened and answered by the meter.
fn recharge(
    head_end: &MasterKey,
    counter: &mut CommandCounter,
    meter: &mut MeterSecurity<SoftwareModule>,
    account: &mut MoneyAccount,
    address: Address,
    customer: CustomerNumber,
    now: Timestamp,
) -> Result<(), Error> {
    let command = Command::Recharge(Purchase {
        customer,
        count: 2,
        amount: yuan(5_000)?,
    });
    let valid_until = now.checked_add_secs(3600).ok_or("time out of range")?;
    let mut frame = [0u8; 128];
    let sent = head_end
        .meter(address, 1)
        .seal(counter, &command, valid_until, &mut frame)?;
    let when = clock(now, UtcOffset::CHINA)?;
    println!(
        "  {when} head-end seals a recharge of 50.00 ({} bytes, counter {})",
        sent.len, sent.header.counter
    );

    let frame = frame.get_mut(..sent.len).ok_or("frame length")?;
    let pending = meter.open(frame, now)?;
    let Command::Recharge(purchase) = *pending.command() else {
        return Err("not a recharge".into());
    };
    // Firmware stores the counter (and the account) durably here, before acknowledging.
    let _durable = pending.counter_state();
    let mut done = pending.commit();
    let receipt = account.recharge(now, purchase)?;
    let mut reply = [0u8; 64];
    let n = done.seal_response(
        &Reply {
            status: Status::OK,
            data: &[],
        },
        &mut reply,
    )?;
    let answer = head_end
        .meter(address, 1)
        .open_response(reply.get_mut(..n).ok_or("reply length")?, &sent)?;
    println!(
        "  {when} meter stores its counter, credits the account: balance {} -> {}, relay {:?}",
        cents(receipt.record.balance_before),
        cents(receipt.record.balance_after),
        account.relay(),
    );
    let ok = if answer.status == Status::OK {
        "OK"
    } else {
        "refused"
    };
    println!("  {when} head-end opens the meter's sealed answer: {ok}");
    Ok(())
}

fn clock(t: Timestamp, offset: UtcOffset) -> Result<String, Error> {
    let dt = t.to_datetime(offset)?;
    Ok(format!("{:02}:{:02}", dt.time.hour(), dt.time.minute()))
}

fn alarm_text(a: AlarmFlags) -> String {
    let names = [
        (AlarmFlags::LOW_CREDIT_1, "low credit 1"),
        (AlarmFlags::LOW_CREDIT_2, "low credit 2"),
        (AlarmFlags::OVERDRAFT, "overdraft"),
        (AlarmFlags::EXHAUSTED, "credit exhausted"),
    ];
    let on: Vec<&str> = names
        .iter()
        .filter(|(f, _)| a.contains(*f))
        .map(|(_, n)| *n)
        .collect();
    if on.is_empty() {
        "cleared".to_string()
    } else {
        format!("on: {}", on.join(", "))
    }
}

fn kwh(e: Energy) -> String {
    e.to_string().trim_end_matches(" kWh").to_string()
}

/// Money as DL/T 645 shows it: whole cents, `XXXXXX.XX`.
fn cents(m: Money) -> String {
    let (c, _) = m.to_cents();
    let sign = if c < 0 { "-" } else { "" };
    format!(
        "{sign}{}.{:02}",
        c.unsigned_abs() / 100,
        c.unsigned_abs() % 100
    )
}
