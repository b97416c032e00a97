//! One simulated day of a prepaid household meter, from metering-chip pulses to a remote
//! recharge: the crate's [`meter::Meter`](prepaid_meter::meter::Meter) run as a firmware runs
//! it, and a head-end that sells it credit.
//!
//! Run with `cargo run --example meter_day`.
//!
//! A 1600 imp/kWh meter sees a typical daily load. Every pulse takes the firmware's path: the
//! pulse interrupt ([`PulseCounter::on_pulse`], whose glitch filter rejects contact bounce), and
//! the main loop, which drains the counter and hands the pulses to [`Meter::tick`] once a
//! second (a firmware ticks every 0.5 s, [`meter::TICK`](prepaid_meter::meter::TICK)). The
//! meter does the rest: the exact pulse-to-Wh accumulator, the time-of-use and tiered tariff,
//! the energy register of the tariff in force, the prepaid account (it debits the charge,
//! raises the low-credit alarms and trips the relay when the overdraft limit is reached), the
//! demand and the freezes. Whatever the meter asks to save ([`Actions::save`]) is committed
//! (here to memory, standing in for the flash) and confirmed with [`Meter::saved`].
//!
//! The head-end opens the account at midnight and sells credit in the evening: it seals each
//! command for this meter alone and the concentrator delivers it as a DL/T 645 03H frame; the
//! meter opens it, credits the account, commits, and only then gives its sealed answer, which
//! the head-end opens. The customer then presses the button to reconnect. At the end of the
//! day the head-end reads the registers through the meter's DL/T 645 server.

use prepaid_meter::account::{AlarmFlags, Config, Contacts, Limits};
use prepaid_meter::address::Address;
use prepaid_meter::endpoint::dlt645::Client;
use prepaid_meter::meter::{
    Actions, Area, AreaSet, KeyRecord, Meter, MeterConfig, OPEN_ACCOUNT, PURCHASE_ANSWER_LEN,
    RECHARGE, Started, Stored,
};
use prepaid_meter::metering::{Flow, GlitchFilter, MeterConstant, PulseCounter};
use prepaid_meter::purchase::{CustomerNumber, Purchase};
use prepaid_meter::security::{Command, CommandCounter, MasterKey, MeterSealer, SecurityConfig};
use prepaid_meter::tariff::{
    Calendar, DayTable, MonthDay, Season, Settlement, SwitchPoint, Tariff, TariffSet, Tiers,
    WeekRule,
};
use prepaid_meter::time::{Date, DateTime, Instant, Time, Timestamp, UtcOffset};
use prepaid_meter::units::{Energy, Money, Price};
use prepaid_meter::wire::dlt645::{Di, Response};

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
    let day = DayTable::new(&points.map(|(h, t)| SwitchPoint::new(h, 0, t)))?;
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

/// A deterministic random source (SplitMix64) for [`Meter::receive`], so that the demo prints
/// the same every run. **Not for production**: it is predictable. A meter draws on its
/// hardware random generator (the meter only reads it for identity authentication, which this
/// demo does not use).
struct DemoRng(u64);

impl rand_core::TryRng for DemoRng {
    type Error = core::convert::Infallible;
    fn try_next_u32(&mut self) -> Result<u32, Self::Error> {
        Ok((self.try_next_u64()? >> 32) as u32)
    }
    fn try_next_u64(&mut self) -> Result<u64, Self::Error> {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        Ok(z ^ (z >> 31))
    }
    fn try_fill_bytes(&mut self, dst: &mut [u8]) -> Result<(), Self::Error> {
        for chunk in dst.chunks_mut(8) {
            let n = chunk.len();
            chunk.copy_from_slice(&self.try_next_u64()?.to_le_bytes()[..n]);
        }
        Ok(())
    }
}

impl rand_core::TryCryptoRng for DemoRng {}

/// Stands in for the meter's flash: the stored form of each area as last committed.
#[derive(Default)]
struct Flash {
    areas: [Vec<u8>; 5],
    commits: u32,
}

impl Flash {
    /// Commits `areas` with the hot state and tells the meter.
    fn commit(&mut self, meter: &mut Meter, areas: AreaSet) -> Result<(), Error> {
        if areas.is_empty() {
            return Ok(());
        }
        for area in areas.with(Area::Hot).iter() {
            let mut form = vec![0u8; meter.stored_len(area)];
            meter.stored_form(area, &mut form)?;
            if let Some(slot) = self.areas.get_mut(area.index()) {
                *slot = form;
            }
        }
        self.commits += 1;
        meter.saved(areas);
        Ok(())
    }

    fn bytes(&self) -> usize {
        self.areas.iter().map(Vec::len).sum()
    }
}

/// The head-end's side: the master key, this meter's sealer and its command counter.
struct HeadEnd {
    sealer: MeterSealer,
    counter: CommandCounter,
    client: Client,
}

impl HeadEnd {
    /// Seals `command` (valid for an hour) and sends it to the meter in a 03H frame; the meter
    /// commits what it changed before it answers. Returns the opened answer: balance after and
    /// purchase count.
    fn purchase(
        &mut self,
        meter: &mut Meter,
        flash: &mut Flash,
        rng: &mut DemoRng,
        di: Di,
        command: &Command<'_>,
        now: Timestamp,
    ) -> Result<(Money, u32), Error> {
        let when = clock(now, UtcOffset::CHINA)?;
        let valid_until = now.checked_add_secs(3600).ok_or("time out of range")?;
        let mut sealed = [0u8; 128];
        let sent = self
            .sealer
            .seal(&mut self.counter, command, valid_until, &mut sealed)?;
        let mut frame = [0u8; 256];
        let n = self.client.security(
            di,
            sealed.get(..sent.len).ok_or("frame length")?,
            &mut frame,
        )?;
        println!(
            "  {when} head-end seals it ({} bytes, counter {}); a DL/T 645 03H {di} frame of {n} bytes carries it",
            sent.len, sent.header.counter
        );
        let actions = meter.receive(now, frame.get(..n).ok_or("frame length")?, rng);
        let areas: Vec<String> = actions.save.iter().map(|a| format!("{a:?}")).collect();
        flash.commit(meter, actions.save)?;
        drive(meter, &actions, now)?;
        println!(
            "  {when} meter opens it, applies it, commits {} and only then answers",
            areas.join(", ")
        );
        let mut answer = meter.transmit().ok_or("the meter did not answer")?.to_vec();
        let data = match self.client.parse_answer(&answer)? {
            Response::Security { data, .. } => {
                let mut bytes = vec![0u8; data.len()];
                data.copy_to(&mut bytes).ok_or("answer length")?;
                bytes
            }
            other => return Err(format!("unexpected answer {other:?}").into()),
        };
        answer = data;
        let reply = self.sealer.open_response(&mut answer, &sent)?;
        let d = reply.data;
        if d.len() != PURCHASE_ANSWER_LEN {
            return Err("unexpected answer data".into());
        }
        let balance = Money::from_minor(i64::from_be_bytes(d[..8].try_into()?));
        let count = u32::from_be_bytes(d[8..12].try_into()?);
        Ok((balance, count))
    }

    /// Reads `di` through the meter's DL/T 645 server at `now`: the answer frame.
    fn read(
        &self,
        meter: &mut Meter,
        rng: &mut DemoRng,
        di: Di,
        now: Timestamp,
    ) -> Result<Vec<u8>, Error> {
        let mut frame = [0u8; 64];
        let n = self.client.read(di, &mut frame)?;
        let actions = meter.receive(now, frame.get(..n).ok_or("frame length")?, rng);
        if !actions.save.is_empty() {
            return Err("a read changed the meter".into());
        }
        Ok(meter.transmit().ok_or("no answer")?.to_vec())
    }
}

/// Prints a relay drive the meter asks for (the demo's relay follows it).
fn drive(meter: &Meter, actions: &Actions, now: Timestamp) -> Result<(), Error> {
    if let Some(contacts) = actions.drive {
        println!(
            "  {} relay driven {contacts:?}: {:?}",
            clock(now, UtcOffset::CHINA)?,
            meter.account().relay()
        );
        if let Some(event) = meter.logs().relay().last(1) {
            println!("         relay event: {:?} -> {:?}", event.from, event.to);
        }
    }
    Ok(())
}

/// One simulated day of a 1600 imp/kWh prepaid household meter, from metering-chip pulses to a
/// remote recharge (it takes no options).
#[derive(clap::Parser, Debug)]
#[command(name = "meter_day", version)]
struct Cli {}

fn main() -> Result<(), Error> {
    <Cli as clap::Parser>::parse();
    let offset = UtcOffset::CHINA;
    let day = DateTime::new(Date::new(2026, 11, 25)?, Time::MIDNIGHT);
    let start = day.to_timestamp(offset);
    let at = |hour: usize, secs: u64| -> Result<Timestamp, Error> {
        let secs = i64::try_from(hour as u64 * 3600 + secs)?;
        start
            .checked_add_secs(secs)
            .ok_or_else(|| "time out of range".into())
    };

    // The metering chip's pulse line and the interrupt's counter.
    let c = MeterConstant::new(1600)?;
    let filter = GlitchFilter::from_max_power(c, 13_200)?; // 60 A at 220 V
    let counter = PulseCounter::new();
    // The meter, provisioned with its own keys; the head-end holds the master key.
    let address: Address = "201000000012".parse()?;
    let limits = Limits {
        alarm1: yuan(800)?,
        alarm2: yuan(400)?,
        overdraft: yuan(100)?,
        hoarding: yuan(500_000)?,
        reconnect: yuan(100)?,
    };
    let master = MasterKey::new(&[0x42; 16], SecurityConfig::DEFAULT.tag_len());
    let keys = KeyRecord::new(1, &master.meter_keys(address, 1));
    let config = MeterConfig::new(address, c, Config::local(limits));
    let (mut meter, started) = Meter::start(config, keys, tariff()?, Stored::NONE, start)?;
    if started != Started::Fresh {
        return Err(format!("a new meter started as {started:?}").into());
    }
    let mut flash = Flash::default();
    let mut rng = DemoRng(0x5EED);
    let mut head_end = HeadEnd {
        sealer: master.meter(address, 1),
        counter: CommandCounter::new(1),
        client: Client::new(address),
    };
    let customer = CustomerNumber::new([0, 0, 0x20, 0x26, 0x11, 0x25]);

    println!(
        "Meter {address}, {} imp/kWh, {} (UTC+8)",
        c.imp_per_kwh(),
        day.date
    );
    println!("  00:00 head-end opens the account: 13.00 yuan, purchase 1");
    let (balance, _) = head_end.purchase(
        &mut meter,
        &mut flash,
        &mut rng,
        OPEN_ACCOUNT,
        &Command::OpenAccount(Purchase {
            customer,
            count: 1,
            amount: yuan(1_300)?,
        }),
        start,
    )?;
    println!(
        "account opened with {} yuan; alarms at {} and {}, overdraft down to -{}",
        cents(balance),
        cents(limits.alarm1),
        cents(limits.alarm2),
        cents(limits.overdraft)
    );
    println!("\nhour   tariff  load W  pulses  glitches  kWh     charged  balance    relay");

    let (mut pulses_total, mut glitches_total) = (0u64, 0u64);
    let mut next_pulse_us: u64 = 0;
    let mut alarms = meter.account().alarms();
    for (hour, &load) in LOAD_W.iter().enumerate() {
        let interval = 3_600_000_000_000 / (u64::from(c.imp_per_kwh()) * load);
        let (mut hour_pulses, mut hour_glitches) = (0u64, 0u64);
        let energy_before = meter.registers().total(Flow::Import);
        let consumed_before = meter.account().totals().consumed;
        let mut tariff_no = 0;
        for second in 0..3600u64 {
            let second_end_us = ((hour as u64) * 3600 + second + 1) * 1_000_000;
            let supply_on = meter.contacts() == Contacts::Closed;
            while next_pulse_us < second_end_us {
                if supply_on {
                    counter.on_pulse(Instant::from_micros(next_pulse_us), filter);
                    // Every 97th pulse bounces: a second edge 2 ms later, rejected by the filter.
                    if (next_pulse_us / interval).is_multiple_of(97) {
                        counter.on_pulse(Instant::from_micros(next_pulse_us + 2_000), filter);
                    }
                }
                next_pulse_us += interval;
            }
            // The main loop: drain the interrupt's counter, tick the meter, act on what it says.
            let now = at(hour, second + 1)?;
            let batch = counter.drain();
            let actions = meter.tick(now, batch.accepted);
            flash.commit(&mut meter, actions.save)?;
            drive(&meter, &actions, now)?;
            if second == 0 {
                // The tariff in force in the hour (the plan switches on the hour).
                tariff_no = meter.display().tariff;
            }
            hour_pulses += u64::from(batch.accepted);
            hour_glitches += u64::from(batch.rejected);
            if meter.account().alarms() != alarms {
                alarms = meter.account().alarms();
                alarm_line(&meter, alarms, now)?;
            }
            // Once a minute has passed, what happened in it.
            let minute = ((second + 1) % 60 == 0).then_some(second / 60);
            if minute.map(|m| (hour, m)) == Some(RECHARGE_AT) {
                println!(
                    "  {} head-end sells 50.00 yuan, purchase 2",
                    clock(now, offset)?
                );
                let before = meter.account().balance();
                let (balance, count) = head_end.purchase(
                    &mut meter,
                    &mut flash,
                    &mut rng,
                    RECHARGE,
                    &Command::Recharge(Purchase {
                        customer,
                        count: 2,
                        amount: yuan(5_000)?,
                    }),
                    now,
                )?;
                println!(
                    "  {} head-end opens the meter's sealed answer: OK, balance {} -> {}, purchase count {count}; relay {:?}",
                    clock(now, offset)?,
                    cents(before),
                    cents(balance),
                    meter.account().relay(),
                );
                if meter.account().alarms() != alarms {
                    alarms = meter.account().alarms();
                    alarm_line(&meter, alarms, now)?;
                }
            }
            if minute.map(|m| (hour, m)) == Some(BUTTON_AT) {
                let actions = meter.button(now);
                flash.commit(&mut meter, actions.save)?;
                let drive = actions
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
        let hour_wh = meter
            .registers()
            .total(Flow::Import)
            .checked_sub(energy_before)
            .unwrap_or(Energy::ZERO);
        let hour_money = meter
            .account()
            .totals()
            .consumed
            .checked_sub(consumed_before)
            .unwrap_or(Money::ZERO);
        println!(
            "{hour:02}:00  {:<6} {load:>7} {hour_pulses:>7} {hour_glitches:>9} {:>7} {:>8} {:>9}  {:?}",
            TARIFF_NAMES
                .get(usize::from(tariff_no).saturating_sub(1))
                .unwrap_or(&"?"),
            kwh(hour_wh),
            cents(hour_money),
            cents(meter.account().balance()),
            meter.account().relay(),
        );
    }

    let total = meter.registers().total(Flow::Import);
    println!(
        "\n{pulses_total} pulses ({glitches_total} glitches rejected) = {total} exactly \
         ({pulses_total} x 1000 / {} Wh; {}/{} Wh carried)",
        c.imp_per_kwh(),
        meter.hot_state().accumulator.remainder,
        c.imp_per_kwh()
    );
    for (i, name) in TARIFF_NAMES.iter().enumerate() {
        println!(
            "  {name:<6} {}",
            meter
                .registers()
                .tariff(Flow::Import, u8::try_from(i + 1)?)?
        );
    }
    if let Some(max) = meter.demand().max_demand() {
        let when = max.window_end.to_datetime(offset)?;
        println!(
            "maximum 15-minute demand: {} W, window ending {}",
            max.demand.whole_watts(),
            when
        );
    }
    if let Some(frozen) = meter.freezes().daily().last(1) {
        println!(
            "daily freeze {}: import total {}, balance {}",
            frozen.time().to_datetime(offset)?,
            frozen.energy().first().copied().unwrap_or(Energy::ZERO),
            cents(frozen.balance())
        );
    }
    println!(
        "{} commits of the meter's state ({} bytes stored at the end of the day)",
        flash.commits,
        flash.bytes()
    );
    // The head-end reads the registers through the meter's DL/T 645 server.
    let (import, balance) = (Di(0x0001_0000), Di(0x0090_0200));
    let end = at(24, 0)?;
    let answer = head_end.read(&mut meter, &mut rng, import, end)?;
    let energy = Client::energy(&head_end.client.parse_answer(&answer)?, import)?;
    let answer = head_end.read(&mut meter, &mut rng, balance, end)?;
    let money = Client::money(&head_end.client.parse_answer(&answer)?, balance)?;
    println!(
        "DL/T 645 00010000 (import total) reads {:06}.{:02} kWh; 00900200 (balance) reads {}",
        energy.wh() / 1000,
        energy.wh() % 1000 / 10,
        cents(money)
    );
    Ok(())
}

fn alarm_line(meter: &Meter, alarms: AlarmFlags, now: Timestamp) -> Result<(), Error> {
    let lights = meter.indicators();
    println!(
        "  {} alarms {}: balance {} (alarm LED {}, buzzer {})",
        clock(now, UtcOffset::CHINA)?,
        alarm_text(alarms),
        cents(meter.account().balance()),
        on_off(lights.alarm_led),
        on_off(lights.buzzer),
    );
    Ok(())
}

fn on_off(b: bool) -> &'static str {
    if b { "on" } else { "off" }
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
