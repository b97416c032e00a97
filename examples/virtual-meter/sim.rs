//! The simulated meter behind the `virtual-meter` example, and the loop that serves it over any
//! byte stream (TCP connection, serial device).
//!
//! The meter is built from the crate's pieces: the [`Server`] answers DL/T 645 frames;
//! energy comes from a simulated constant load turned into meter pulses, counted exactly by
//! [`EnergyAccumulator`] into [`EnergyRegisters`]; a small prepaid account debits the energy at
//! the price of a fixed time-of-use schedule, carrying the sub-unit remainder, and trips the
//! relay when the overdraft limit is reached. (The tariff and account engines of the crate
//! will replace the fixed schedule and this account once they land.)
//!
//! Included by `tests/dlt645_virtual_meter.rs`.
#![allow(dead_code)]

use std::collections::VecDeque;
use std::sync::{Arc, Mutex};

use prepaid_meter::address::Address;
use prepaid_meter::dlt645::{
    Measurement, MeterData, PriceNow, PurchaseRecord, Refusal, RelayEvent, RelayEventRecord,
    Server, ServerConfig,
};
use prepaid_meter::io::{FrameReader, FrameWriter, ReadError};
use prepaid_meter::metering::{Direction, EnergyAccumulator, EnergyRegisters, MeterConstant};
use prepaid_meter::time::{Date, DateTime, Time, Timestamp, UtcOffset};
use prepaid_meter::units::{Energy, Money, Price};
use prepaid_meter::wire::dlt645::registry::{EnergyKind, FreezeKind, Limit};
use prepaid_meter::wire::dlt645::{
    Data, Di, FreezeTime, OperatorCode, RelayCommand, SecurityErrorWord,
};

/// What the simulated meter starts with.
#[derive(Clone, Debug)]
pub struct Config {
    /// Communication address.
    pub address: Address,
    /// The simulated load, in watts.
    pub load_watts: u32,
    /// Starting balance.
    pub balance: Money,
    /// Prices of tariffs 1..=4 (sharp, peak, flat, valley).
    pub prices: [Price; 4],
    /// Meter constant, imp/kWh.
    pub constant: u32,
}

impl Default for Config {
    fn default() -> Config {
        Config {
            address: Address::from_number(1).unwrap_or(Address::WILDCARD),
            load_watts: 2_000,
            balance: Money::from_minor(1_000_000), // 100.0000 yuan
            prices: [8_000, 6_500, 5_283, 3_500].map(Price::from_minor_per_kwh),
            constant: 1_600,
        }
    }
}

/// The fixed time-of-use schedule: tariff 1..=4 for a local hour.
pub fn tariff_at(hour: u8) -> u8 {
    match hour {
        19..=20 => 1,           // sharp
        8..=11 | 17..=18 => 2,  // peak
        12..=16 | 21..=22 => 3, // flat
        _ => 4,                 // valley
    }
}

/// Purchase-record and event-ring depth.
const RECORDS: usize = 10;
/// W·s·imp/kWh per pulse: 3 600 000 W·s in a kWh.
const WS_PER_KWH: u64 = 3_600_000;

/// A simulated single-phase prepaid meter.
#[derive(Debug)]
pub struct SimMeter {
    address: Address,
    offset: UtcOffset,
    load_watts: u32,
    accumulator: EnergyAccumulator,
    registers: EnergyRegisters,
    /// W·s·(imp/kWh) below one pulse, carried.
    pulse_remainder: u64,
    /// The host time of the last `advance`.
    host_last: Option<Timestamp>,
    /// Seconds between the meter's clock and the host's (set by time commands).
    clock_offset: i64,
    prices: [Price; 4],
    /// Thousandths of a minor money unit not yet debited.
    cost_remainder: i64,
    /// Balance; below zero the meter is in overdraft.
    balance: Money,
    limits: [Money; 5],
    relay_closed: bool,
    keep_power: bool,
    alarm: bool,
    opened: bool,
    customer: [u8; 6],
    purchase_count: u16,
    cumulative: Money,
    purchases: VecDeque<PurchaseRecord>,
    trips: VecDeque<RelayEventRecord>,
    closes: VecDeque<RelayEventRecord>,
    trip_count: u32,
    close_count: u32,
    daily: VecDeque<(DateTime, Energy, [Energy; 4])>,
}

impl SimMeter {
    /// A meter with the relay closed and an open account.
    pub fn new(config: &Config) -> SimMeter {
        let constant = MeterConstant::new(config.constant.max(1))
            .unwrap_or_else(|_| unreachable!("a non-zero constant"));
        SimMeter {
            address: config.address,
            offset: UtcOffset::CHINA,
            load_watts: config.load_watts,
            accumulator: EnergyAccumulator::new(constant),
            registers: EnergyRegisters::new(),
            pulse_remainder: 0,
            host_last: None,
            clock_offset: 0,
            prices: config.prices,
            cost_remainder: 0,
            balance: config.balance,
            limits: [20, 10, 50, 10_000, 0].map(|y| Money::from_minor(y * Money::MINOR_PER_UNIT)),
            relay_closed: true,
            keep_power: false,
            alarm: false,
            opened: true,
            customer: [0x01, 0, 0, 0, 0, 0],
            purchase_count: 1,
            cumulative: config.balance,
            purchases: VecDeque::new(),
            trips: VecDeque::new(),
            closes: VecDeque::new(),
            trip_count: 0,
            close_count: 0,
            daily: VecDeque::new(),
        }
    }

    /// The meter's clock for a host time.
    pub fn meter_time(&self, host: Timestamp) -> Timestamp {
        host.checked_add_secs(self.clock_offset).unwrap_or(host)
    }

    fn local(&self, host: Timestamp) -> Option<DateTime> {
        DateTime::from_timestamp(self.meter_time(host), self.offset).ok()
    }

    /// Runs the load from the last call to `host`: pulses, energy, debit, relay.
    pub fn advance(&mut self, host: Timestamp) {
        let last = self.host_last.replace(host);
        let Some(last) = last else { return };
        let Some(secs) = host.checked_secs_since(last).filter(|s| *s > 0) else {
            return;
        };
        if !self.relay_closed {
            return;
        }
        let ws = u64::from(self.load_watts)
            .saturating_mul(secs as u64)
            .saturating_mul(u64::from(self.accumulator.constant().imp_per_kwh()));
        let total = self.pulse_remainder.saturating_add(ws);
        let pulses = total / WS_PER_KWH;
        self.pulse_remainder = total % WS_PER_KWH;
        let energy = self.accumulator.add_pulses(pulses);
        let tariff = self.local(host).map_or(4, |t| tariff_at(t.time.hour()));
        let _ = self.registers.add(Direction::Import, tariff, energy);
        let price = self.prices[usize::from(tariff - 1)];
        if let Some(cost) = price.cost(energy) {
            self.cost_remainder += i64::from(cost.remainder);
            let carried = self.cost_remainder / 1000;
            self.cost_remainder %= 1000;
            let debit = cost
                .money
                .checked_add(Money::from_minor(carried))
                .unwrap_or(Money::MAX);
            self.balance = self.balance.saturating_sub(debit);
        }
        self.alarm = self.balance < self.limits[Limit::Alarm1 as usize];
        let overdraft_limit = self.limits[Limit::Overdraft as usize];
        if self
            .balance
            .checked_neg()
            .is_some_and(|o| o >= overdraft_limit)
            && !self.keep_power
        {
            self.open_relay(OperatorCode([0xFF; 4]), host);
        }
    }

    fn event(&self, operator: OperatorCode, host: Timestamp) -> RelayEventRecord {
        RelayEventRecord {
            time: self
                .local(host)
                .unwrap_or(DateTime::new(Date::MIN, Time::MIDNIGHT)),
            operator,
            forward: self.registers.total(Direction::Import),
            reverse: self.registers.total(Direction::Export),
        }
    }

    fn open_relay(&mut self, operator: OperatorCode, host: Timestamp) {
        if self.relay_closed {
            self.relay_closed = false;
            self.trip_count += 1;
            let e = self.event(operator, host);
            push_ring(&mut self.trips, e);
        }
    }

    fn close_relay(&mut self, operator: OperatorCode, host: Timestamp) {
        if !self.relay_closed {
            self.relay_closed = true;
            self.close_count += 1;
            let e = self.event(operator, host);
            push_ring(&mut self.closes, e);
        }
    }

    /// `true` while the relay is closed.
    pub fn relay_closed(&self) -> bool {
        self.relay_closed
    }

    /// The signed balance (negative in overdraft).
    pub fn signed_balance(&self) -> Money {
        self.balance
    }

    /// Forward active energy, total.
    pub fn forward_total(&self) -> Energy {
        self.registers.total(Direction::Import)
    }

    fn recharge(
        &mut self,
        payload: Data<'_>,
        open: bool,
        host: Timestamp,
    ) -> Result<(), SecurityErrorWord> {
        // 22 bytes: amount (fen) 4, purchase count 4, MAC1 4, customer number 6, MAC2 4; binary,
        // low byte first. The MACs are not checked here (no security layer in the simulation).
        let mut b = [0u8; 22];
        if payload.len() != 22 || payload.copy_to(&mut b).is_none() {
            return Err(SecurityErrorWord::OTHER);
        }
        let amount = u32::from_le_bytes([b[0], b[1], b[2], b[3]]);
        let count = u32::from_le_bytes([b[4], b[5], b[6], b[7]]);
        let customer = [b[12], b[13], b[14], b[15], b[16], b[17]];
        if open == self.opened {
            return Err(SecurityErrorWord::OTHER);
        }
        if !open && customer != self.customer {
            return Err(SecurityErrorWord::CUSTOMER_MISMATCH);
        }
        let current = u32::from(self.purchase_count);
        if count == current {
            return Err(SecurityErrorWord::REPEATED_RECHARGE);
        }
        if count != current + 1 {
            return Err(SecurityErrorWord::PURCHASE_COUNT);
        }
        let money = Money::from_cents(i64::from(amount)).ok_or(SecurityErrorWord::OTHER)?;
        let after = self
            .balance
            .checked_add(money)
            .ok_or(SecurityErrorWord::OTHER)?;
        if after > self.limits[Limit::Hoarding as usize] {
            return Err(SecurityErrorWord::HOARDING_LIMIT);
        }
        let before = self.balance;
        self.balance = after;
        self.opened = true;
        self.customer = customer;
        self.purchase_count = u16::try_from(count).map_err(|_| SecurityErrorWord::OTHER)?;
        self.cumulative = self.cumulative.saturating_add(money);
        let time = self.local(host).ok_or(SecurityErrorWord::OTHER)?;
        push_ring(
            &mut self.purchases,
            PurchaseRecord {
                time,
                count: self.purchase_count,
                amount: money,
                balance_before: before.max(Money::ZERO),
                balance_after: after.max(Money::ZERO),
                cumulative: self.cumulative,
            },
        );
        Ok(())
    }
}

fn push_ring<T>(ring: &mut VecDeque<T>, item: T) {
    ring.push_front(item);
    ring.truncate(RECORDS);
}

fn nth<T: Copy>(ring: &VecDeque<T>, n: u8) -> Option<T> {
    ring.get(usize::from(n).checked_sub(1)?).copied()
}

impl MeterData for SimMeter {
    fn address(&self) -> Address {
        self.address
    }
    fn set_address(&mut self, address: Address) -> Result<(), Refusal> {
        self.address = address;
        Ok(())
    }
    fn energy(&self, kind: EnergyKind, tariff: u8, period: u8) -> Option<Energy> {
        if period != 0 {
            return None;
        }
        let dir = match kind {
            EnergyKind::ForwardActive | EnergyKind::CombinedActive => Direction::Import,
            EnergyKind::ReverseActive => Direction::Export,
            _ => return None,
        };
        match tariff {
            0 => Some(self.registers.total(dir)),
            t => self.registers.tariff(dir, t).ok(),
        }
    }
    fn balance(&self) -> Option<Money> {
        Some(self.balance.max(Money::ZERO))
    }
    fn overdraft(&self) -> Option<Money> {
        Some(self.balance.checked_neg()?.max(Money::ZERO))
    }
    fn measurement(&self, m: Measurement) -> Option<i64> {
        let watts = if self.relay_closed {
            i64::from(self.load_watts)
        } else {
            0
        };
        match m {
            Measurement::Voltage(1) => Some(2_200),
            Measurement::Current(1) => Some(watts * 1000 / 220),
            Measurement::ActivePower(0 | 1) => Some(watts * 10),
            Measurement::PowerFactor(0 | 1) => Some(1_000),
            Measurement::Frequency => Some(5_000),
            _ => None,
        }
    }
    fn price_now(&self, which: PriceNow) -> Option<Price> {
        let hour = self.local(self.host_last?)?.time.hour();
        let p = self.prices[usize::from(tariff_at(hour) - 1)];
        match which {
            PriceNow::Tier => Some(Price::ZERO),
            PriceNow::Total | PriceNow::Tariff => Some(p),
        }
    }
    fn purchase(&self, n: u8) -> Option<PurchaseRecord> {
        nth(&self.purchases, n)
    }
    fn relay_event_count(&self, kind: RelayEvent) -> Option<u32> {
        Some(match kind {
            RelayEvent::Trip => self.trip_count,
            RelayEvent::Close => self.close_count,
        })
    }
    fn relay_event(&self, kind: RelayEvent, n: u8) -> Option<RelayEventRecord> {
        nth(
            match kind {
                RelayEvent::Trip => &self.trips,
                RelayEvent::Close => &self.closes,
            },
            n,
        )
    }
    fn customer_number(&self) -> Option<[u8; 6]> {
        Some(self.customer)
    }
    fn meter_number(&self) -> Option<[u8; 6]> {
        Some(self.address.to_wire())
    }
    fn status_word(&self, n: u8) -> Option<u16> {
        // Word 3: bit 4 relay open, bit 6 keep-power, bit 7 alarm (the simulation's own layout;
        // the standard's bit assignment is unverified).
        (n == 3)
            .then_some(
                u16::from(!self.relay_closed) << 4
                    | u16::from(self.keep_power) << 6
                    | u16::from(self.alarm) << 7,
            )
            .or((1..=7).contains(&n).then_some(0))
    }
    fn limit(&self, which: Limit) -> Option<Money> {
        Some(self.limits[which as usize])
    }
    fn set_limit(&mut self, which: Limit, value: Money) -> Result<(), Refusal> {
        if value.is_negative() {
            return Err(Refusal::Invalid);
        }
        self.limits[which as usize] = value;
        Ok(())
    }
    fn price(&self, set: u8, index: u8) -> Option<Price> {
        (set == 1).then_some(())?;
        self.prices.get(usize::from(index).checked_sub(1)?).copied()
    }
    fn set_price(&mut self, set: u8, index: u8, price: Price) -> Result<(), Refusal> {
        if set != 1 {
            return Err(Refusal::Unsupported);
        }
        let slot = usize::from(index)
            .checked_sub(1)
            .and_then(|i| self.prices.get_mut(i))
            .ok_or(Refusal::Invalid)?;
        *slot = price;
        Ok(())
    }
    fn freeze_time(&self, kind: FreezeKind, n: u8) -> Option<DateTime> {
        (kind == FreezeKind::Daily).then_some(())?;
        nth(&self.daily, n).map(|d| d.0)
    }
    fn frozen_energy(
        &self,
        kind: FreezeKind,
        n: u8,
        register: EnergyKind,
        tariff: u8,
    ) -> Option<Energy> {
        (kind == FreezeKind::Daily && register == EnergyKind::ForwardActive).then_some(())?;
        let (_, total, tariffs) = nth(&self.daily, n)?;
        match tariff {
            0 => Some(total),
            t => tariffs.get(usize::from(t) - 1).copied(),
        }
    }
    fn set_clock(&mut self, local: DateTime) -> Result<(), Refusal> {
        let host = self.host_last.ok_or(Refusal::Invalid)?;
        let target = local.to_timestamp(self.offset);
        self.clock_offset = target.checked_secs_since(host).ok_or(Refusal::Invalid)?;
        Ok(())
    }
    fn freeze(&mut self, time: FreezeTime) -> Result<(), Refusal> {
        if !time.is_now() {
            return Err(Refusal::Unsupported);
        }
        let at = self
            .local(self.host_last.ok_or(Refusal::Invalid)?)
            .ok_or(Refusal::Invalid)?;
        let e = (
            at,
            self.registers.total(Direction::Import),
            self.registers.tariffs(Direction::Import),
        );
        push_ring(&mut self.daily, e);
        Ok(())
    }
    fn relay(
        &mut self,
        command: RelayCommand,
        _: u8,
        operator: OperatorCode,
        now: Timestamp,
    ) -> Result<(), Refusal> {
        // `now` is the meter's clock; events are stamped with it through the host time.
        let host = self.host_last.unwrap_or(now);
        match command {
            RelayCommand::Trip
            | RelayCommand::TripRestoreAllowed
            | RelayCommand::TripRestoreClose => {
                if self.keep_power {
                    return Err(Refusal::KeepPower);
                }
                self.open_relay(operator, host);
            }
            RelayCommand::ReconnectAllowed | RelayCommand::DirectClose => {
                // "Reconnect allowed" waits for the customer's button; the simulated customer
                // presses it at once. Either way credit is needed unless it is a direct close.
                let exhausted = self
                    .balance
                    .checked_neg()
                    .is_some_and(|o| o >= self.limits[Limit::Overdraft as usize]);
                if exhausted && command == RelayCommand::ReconnectAllowed {
                    return Err(Refusal::Invalid);
                }
                self.close_relay(operator, host);
            }
            RelayCommand::AlarmOn => self.alarm = true,
            RelayCommand::AlarmOff => self.alarm = false,
            RelayCommand::KeepPowerOn => self.keep_power = true,
            RelayCommand::KeepPowerOff => self.keep_power = false,
            _ => return Err(Refusal::Unsupported),
        }
        Ok(())
    }
    fn security(
        &mut self,
        di: Di,
        _: OperatorCode,
        payload: Data<'_>,
        _: Timestamp,
        _: &mut [u8],
    ) -> Result<usize, SecurityErrorWord> {
        let host = self.host_last.ok_or(SecurityErrorWord::OTHER)?;
        match di.0 {
            0x0701_01FF => self.recharge(payload, true, host).map(|()| 0),
            0x0701_02FF => self.recharge(payload, false, host).map(|()| 0),
            _ => Err(SecurityErrorWord::OTHER),
        }
    }
}

/// The shared meter: one server, many connections.
pub type Shared = Arc<Mutex<Server<SimMeter>>>;

/// A simulated meter behind a DL/T 645 server answering with 4 preamble bytes.
pub fn shared(config: &Config) -> Shared {
    let server = Server::new(
        SimMeter::new(config),
        ServerConfig {
            preamble: 4,
            ..ServerConfig::default()
        },
    )
    .unwrap_or_else(|e| unreachable!("a valid configuration: {e}"));
    Arc::new(Mutex::new(server))
}

/// Answers one request frame received at host time `host`.
pub fn answer(meter: &Shared, frame: &[u8], host: Timestamp, out: &mut [u8]) -> Option<usize> {
    let mut server = meter.lock().unwrap_or_else(|p| p.into_inner());
    server.meter_mut().advance(host);
    let now = server.meter().meter_time(host);
    server.handle(frame, now, out)
}

/// `std::io` streams seen through embedded-io.
pub struct StdIo<T>(pub T);

impl<T> embedded_io::ErrorType for StdIo<T> {
    type Error = std::io::Error;
}

impl<T: std::io::Read> embedded_io::Read for StdIo<T> {
    fn read(&mut self, buf: &mut [u8]) -> Result<usize, std::io::Error> {
        self.0.read(buf)
    }
}

impl<T: std::io::Write> embedded_io::Write for StdIo<T> {
    fn write(&mut self, buf: &[u8]) -> Result<usize, std::io::Error> {
        self.0.write(buf)
    }
    fn flush(&mut self) -> Result<(), std::io::Error> {
        self.0.flush()
    }
}

/// Serves frames from `input`, answering on `output`, until the stream ends or fails.
pub fn serve<R: std::io::Read, W: std::io::Write>(
    meter: &Shared,
    input: R,
    output: W,
    clock: impl Fn() -> Timestamp,
) -> std::io::Result<()> {
    let mut reader: FrameReader<StdIo<R>> = FrameReader::new(StdIo(input));
    let mut writer: FrameWriter<StdIo<W>> = FrameWriter::new(StdIo(output));
    let mut out = [0u8; 300];
    loop {
        let frame = match reader.read_frame() {
            Ok(f) => f,
            Err(ReadError::Eof) => return Ok(()),
            Err(ReadError::Io(e)) => return Err(e),
        };
        if let Some(n) = answer(meter, frame.as_bytes(), clock(), &mut out) {
            writer
                .send_raw(&out[..n])
                .map_err(|e| std::io::Error::other(e.to_string()))?;
        }
    }
}
