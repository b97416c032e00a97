//! The one fake meter of the DL/T 645 server tests (and of the server benchmark and fuzz
//! target): a [`MeterData`] with a value for every register, which records what is done to it
//! and never panics.
#![allow(dead_code)]

use core::ops::{Deref, DerefMut};
use prepaid_meter::address::Address;

use prepaid_meter::endpoint::dlt645::{
    ClockSetEntry, Measurement, MeterData, PriceNow, PurchaseLogEntry, Refusal, RelayLogEntry,
    RelayLogKind, Server, ServerConfig, ServerConfigError, ServerState, TableEntry,
};
use prepaid_meter::relay::RelayCode;
use prepaid_meter::time::{Date, DateTime, Time, Timestamp};
use prepaid_meter::units::{Energy, Money, Price};
use prepaid_meter::wire::dlt645::registry::{CountParam, EnergyKind, FreezeKind, Limit, Switch};
use prepaid_meter::wire::dlt645::{
    BaudRate, Data, Di, FreezeTime, Function, OperatorCode, RelayOrder, Request, SecurityErrorWord,
};

fn dt(y: u16, mo: u8, d: u8, h: u8, mi: u8, s: u8) -> DateTime {
    DateTime::new(
        Date::new(y, mo, d).unwrap_or(Date::MIN),
        Time::new(h, mi, s).unwrap_or(Time::MIDNIGHT),
    )
}

/// A meter with a value for every register, recording the commands it executes: the relay
/// commands, the clears, the sealed commands that verified (their function codes) and the
/// number of security (03H) calls.
#[derive(Clone, Debug, PartialEq)]
pub struct FakeMeter {
    pub address: Address,
    pub balance: Money,
    pub limits: [Money; 5],
    pub prices: [[Price; 8]; 2],
    pub tier_thresholds: [[Energy; 6]; 2],
    pub tier_prices: [[Price; 7]; 2],
    pub seasons: [Vec<TableEntry>; 2],
    pub day_tables: [[Vec<TableEntry>; 8]; 2],
    pub switch_times: [DateTime; 4],
    pub counts: [u16; 6],
    pub meter_number: [u8; 6],
    pub customer_number: [u8; 6],
    pub settlement: [(u8, u8); 3],
    pub trip_delay: u16,
    pub clock: Option<DateTime>,
    pub freezes: Vec<FreezeTime>,
    pub relay: Vec<(RelayCode, u8)>,
    pub cleared: Vec<&'static str>,
    pub baud: Option<BaudRate>,
    /// Sealed commands executed (function codes).
    pub sealed: Vec<Function>,
    /// Security (03H) commands run.
    pub security: usize,
}

impl FakeMeter {
    pub fn new(address: &str) -> FakeMeter {
        let day: Vec<TableEntry> = vec![(0, 0, 4), (8, 0, 2), (18, 0, 1), (22, 0, 3)];
        FakeMeter {
            address: address.parse().unwrap(),
            balance: Money::from_cents(19_856).unwrap(),
            limits: [20, 10, 50, 9_999, 5].map(|y| Money::from_units(y).unwrap()),
            prices: [
                [5_283, 6_283, 4_283, 3_283, 0, 0, 0, 0].map(Price::from_minor_per_kwh),
                [5_000; 8].map(Price::from_minor_per_kwh),
            ],
            tier_thresholds: [[1, 2, 3, 4, 5, 6].map(|k| Energy::from_kwh(k * 100)); 2],
            tier_prices: [[0, 500, 1_000, 1_500, 2_000, 2_500, 3_000]
                .map(Price::from_minor_per_kwh); 2],
            seasons: [vec![(1, 1, 1), (6, 1, 2)], vec![(1, 1, 1)]],
            day_tables: [
                std::array::from_fn(|_| day.clone()),
                std::array::from_fn(|_| day.clone()),
            ],
            switch_times: [dt(2030, 1, 1, 0, 0, 0); 4],
            counts: [2, 2, 4, 4, 0, 6],
            meter_number: [0x12, 0, 0, 0, 0x10, 0x20],
            customer_number: [0x01, 0x02, 0x03, 0x04, 0x05, 0x06],
            settlement: [(1, 0), (99, 99), (99, 99)],
            trip_delay: 30,
            clock: None,
            freezes: Vec::new(),
            relay: Vec::new(),
            cleared: Vec::new(),
            baud: None,
            sealed: Vec::new(),
            security: 0,
        }
    }
}

fn set_index(set: u8) -> Option<usize> {
    match set {
        1 => Some(0),
        2 => Some(1),
        _ => None,
    }
}

impl MeterData for FakeMeter {
    fn address(&self) -> Address {
        self.address
    }
    fn set_address(&mut self, address: Address) -> Result<(), Refusal> {
        self.address = address;
        Ok(())
    }
    fn energy(&self, kind: EnergyKind, tariff: u8, period: u8) -> Option<Energy> {
        if tariff > 4 || period > 12 {
            return None;
        }
        // E12b for the current forward register: total 1.29, tariffs 0.62/0.60/0.03/0.02.
        let base = [129, 62, 60, 3, 2][usize::from(tariff)];
        let k = match kind {
            EnergyKind::CombinedActive => 1,
            EnergyKind::ForwardActive => 1,
            EnergyKind::ReverseActive => 0,
            EnergyKind::CombinedReactive1 => -1,
            EnergyKind::CombinedReactive2 => 2,
        };
        Energy::from_centi_kwh(k * (base + 1000 * i64::from(period)))
    }
    fn remaining_energy(&self) -> Option<Energy> {
        Some(Energy::from_kwh(12))
    }
    fn overdrawn_energy(&self) -> Option<Energy> {
        Some(Energy::ZERO)
    }
    fn balance(&self) -> Option<Money> {
        Some(self.balance)
    }
    fn overdraft(&self) -> Option<Money> {
        Some(Money::ZERO)
    }
    fn measurement(&self, m: Measurement) -> Option<i64> {
        match m {
            Measurement::Voltage(p @ 1..=3) => Some(2_200 + i64::from(p)),
            Measurement::Current(p @ 1..=3) => Some(-1_000 * i64::from(p)),
            Measurement::ActivePower(p @ 0..=3) => Some(2_200 * i64::from(p + 1)),
            Measurement::PowerFactor(p @ 0..=3) => Some(-990 + i64::from(p)),
            Measurement::Frequency => Some(5_000),
            _ => None,
        }
    }
    fn price_now(&self, which: PriceNow) -> Option<Price> {
        Some(Price::from_minor_per_kwh(match which {
            PriceNow::Tier => 500,
            PriceNow::Total => 5_783,
            PriceNow::Tariff => 5_283,
        }))
    }
    fn auth_remaining(&self) -> Option<u16> {
        Some(5)
    }
    fn purchase(&self, n: u8) -> Option<PurchaseLogEntry> {
        (1..=10).contains(&n).then(|| PurchaseLogEntry {
            time: dt(2024, 3, n, 10, 30, 0),
            count: 11 - u16::from(n),
            amount: Money::from_units(100).unwrap(),
            balance_before: Money::from_units(5).unwrap(),
            balance_after: Money::from_units(105).unwrap(),
            cumulative: Money::from_units(1000 - 100 * i64::from(n)).unwrap(),
        })
    }
    fn relay_event_count(&self, kind: RelayLogKind) -> Option<u32> {
        Some(match kind {
            RelayLogKind::Trip => 3,
            RelayLogKind::Close => 2,
        })
    }
    fn clock_set_count(&self) -> Option<u32> {
        Some(2)
    }
    fn clock_set(&self, n: u8) -> Option<ClockSetEntry> {
        (1..=2).contains(&n).then(|| ClockSetEntry {
            operator: OperatorCode([1, 2, 3, 4]),
            before: dt(2024, 2, n, 1, 2, 3),
            after: dt(2024, 2, n, 1, 7, 3),
        })
    }
    fn relay_event(&self, _kind: RelayLogKind, n: u8) -> Option<RelayLogEntry> {
        (1..=2).contains(&n).then(|| RelayLogEntry {
            time: dt(2024, 2, n, 1, 2, 3),
            operator: OperatorCode([1, 2, 3, 4]),
            forward: Energy::from_centi_kwh(129).unwrap(),
            reverse: Energy::ZERO,
        })
    }
    fn switch_time(&self, which: Switch) -> Option<DateTime> {
        Some(self.switch_times[which as usize])
    }
    fn set_switch_time(&mut self, which: Switch, time: DateTime) -> Result<(), Refusal> {
        self.switch_times[which as usize] = time;
        Ok(())
    }
    fn count(&self, which: CountParam) -> Option<u16> {
        Some(self.counts[which as usize])
    }
    fn set_count(&mut self, which: CountParam, value: u16) -> Result<(), Refusal> {
        self.counts[which as usize] = value;
        Ok(())
    }
    fn meter_number(&self) -> Option<[u8; 6]> {
        Some(self.meter_number)
    }
    fn set_meter_number(&mut self, bcd: [u8; 6]) -> Result<(), Refusal> {
        self.meter_number = bcd;
        Ok(())
    }
    fn customer_number(&self) -> Option<[u8; 6]> {
        Some(self.customer_number)
    }
    fn set_customer_number(&mut self, bcd: [u8; 6]) -> Result<(), Refusal> {
        self.customer_number = bcd;
        Ok(())
    }
    fn status_word(&self, n: u8) -> Option<u16> {
        (1..=7).contains(&n).then_some(u16::from(n) << 8)
    }
    fn settlement_day(&self, n: u8) -> Option<(u8, u8)> {
        self.settlement.get(usize::from(n).checked_sub(1)?).copied()
    }
    fn set_settlement_day(&mut self, n: u8, day: u8, hour: u8) -> Result<(), Refusal> {
        let slot = self
            .settlement
            .get_mut(usize::from(n).wrapping_sub(1))
            .ok_or(Refusal::Invalid)?;
        *slot = (day, hour);
        Ok(())
    }
    fn limit(&self, which: Limit) -> Option<Money> {
        Some(self.limits[which as usize])
    }
    fn set_limit(&mut self, which: Limit, value: Money) -> Result<(), Refusal> {
        if which == Limit::Hoarding && value < self.limits[Limit::Alarm1 as usize] {
            return Err(Refusal::Invalid);
        }
        self.limits[which as usize] = value;
        Ok(())
    }
    fn trip_delay(&self) -> Option<u16> {
        Some(self.trip_delay)
    }
    fn set_trip_delay(&mut self, minutes: u16) -> Result<(), Refusal> {
        self.trip_delay = minutes;
        Ok(())
    }
    fn season(&self, set: u8, index: u8) -> Option<TableEntry> {
        self.seasons[set_index(set)?]
            .get(usize::from(index))
            .copied()
    }
    fn set_seasons(&mut self, set: u8, entries: &[TableEntry]) -> Result<(), Refusal> {
        self.seasons[set_index(set).ok_or(Refusal::Invalid)?] = entries.to_vec();
        Ok(())
    }
    fn day_period(&self, set: u8, table: u8, index: u8) -> Option<TableEntry> {
        self.day_tables[set_index(set)?]
            .get(usize::from(table).checked_sub(1)?)?
            .get(usize::from(index))
            .copied()
    }
    fn set_day_table(&mut self, set: u8, table: u8, entries: &[TableEntry]) -> Result<(), Refusal> {
        let t = self.day_tables[set_index(set).ok_or(Refusal::Invalid)?]
            .get_mut(usize::from(table).wrapping_sub(1))
            .ok_or(Refusal::Invalid)?;
        *t = entries.to_vec();
        Ok(())
    }
    fn price(&self, set: u8, index: u8) -> Option<Price> {
        self.prices[set_index(set)?]
            .get(usize::from(index).checked_sub(1)?)
            .copied()
    }
    fn set_price(&mut self, set: u8, index: u8, price: Price) -> Result<(), Refusal> {
        *self.prices[set_index(set).ok_or(Refusal::Invalid)?]
            .get_mut(usize::from(index).wrapping_sub(1))
            .ok_or(Refusal::Invalid)? = price;
        Ok(())
    }
    fn tier_threshold(&self, set: u8, index: u8) -> Option<Energy> {
        self.tier_thresholds[set_index(set)?]
            .get(usize::from(index).checked_sub(1)?)
            .copied()
    }
    fn set_tier_threshold(&mut self, set: u8, index: u8, value: Energy) -> Result<(), Refusal> {
        *self.tier_thresholds[set_index(set).ok_or(Refusal::Invalid)?]
            .get_mut(usize::from(index).wrapping_sub(1))
            .ok_or(Refusal::Invalid)? = value;
        Ok(())
    }
    fn tier_price(&self, set: u8, index: u8) -> Option<Price> {
        self.tier_prices[set_index(set)?]
            .get(usize::from(index).checked_sub(1)?)
            .copied()
    }
    fn set_tier_price(&mut self, set: u8, index: u8, price: Price) -> Result<(), Refusal> {
        *self.tier_prices[set_index(set).ok_or(Refusal::Invalid)?]
            .get_mut(usize::from(index).wrapping_sub(1))
            .ok_or(Refusal::Invalid)? = price;
        Ok(())
    }
    fn freeze_time(&self, kind: FreezeKind, n: u8) -> Option<DateTime> {
        (n >= 1).then(|| match kind {
            FreezeKind::Hourly => dt(2024, 3, 1, 24 - n.min(24), 0, 0),
            FreezeKind::Daily => dt(2024, 3, 31 - n.min(30), 0, 0, 0),
        })
    }
    fn frozen_energy(
        &self,
        _: FreezeKind,
        n: u8,
        register: EnergyKind,
        tariff: u8,
    ) -> Option<Energy> {
        if n == 0 {
            return None;
        }
        self.energy(register, tariff, 0)
    }
    fn set_clock(&mut self, local: DateTime) -> Result<(), Refusal> {
        self.clock = Some(local);
        Ok(())
    }
    fn freeze(&mut self, time: FreezeTime) -> Result<(), Refusal> {
        self.freezes.push(time);
        Ok(())
    }
    fn change_baud(&mut self, rate: BaudRate) -> Result<(), Refusal> {
        if rate == BaudRate::B19200 {
            return Err(Refusal::BaudRate);
        }
        self.baud = Some(rate);
        Ok(())
    }
    fn clear_max_demand(&mut self, _: OperatorCode) -> Result<(), Refusal> {
        self.cleared.push("demand");
        Ok(())
    }
    fn meter_clear(&mut self, _: OperatorCode) -> Result<(), Refusal> {
        self.cleared.push("meter");
        Ok(())
    }
    fn event_clear(&mut self, _: Di, _: OperatorCode) -> Result<(), Refusal> {
        self.cleared.push("events");
        Ok(())
    }
    fn relay(
        &mut self,
        command: RelayCode,
        n2: u8,
        _: OperatorCode,
        _: Timestamp,
    ) -> Result<(), Refusal> {
        if command == RelayCode::KeepPowerOff && self.relay.is_empty() {
            return Err(Refusal::KeepPower);
        }
        self.relay.push((command, n2));
        Ok(())
    }
    /// Stands in for a security layer: a sealed command whose data start with 0x5A verifies.
    fn sealed(&mut self, request: &Request<'_>, _: Timestamp) -> Result<(), Refusal> {
        let (function, data) = match request {
            Request::Write { value, .. } => (Function::Write, *value),
            Request::RelayControl {
                order: RelayOrder::Sealed(d),
                ..
            } => (Function::RelayControl, *d),
            Request::MeterClear { sealed, .. } => (Function::MeterClear, *sealed),
            Request::ClearMaxDemand { .. } => (Function::ClearMaxDemand, Data::EMPTY),
            Request::EventClear { .. } => (Function::EventClear, Data::EMPTY),
            _ => return Err(Refusal::Unsupported),
        };
        if data.iter().next() != Some(0x5A) {
            return Err(Refusal::Unauthorized);
        }
        self.sealed.push(function);
        Ok(())
    }
    fn security(
        &mut self,
        di: Di,
        _: OperatorCode,
        payload: Data<'_>,
        _: Timestamp,
        out: &mut [u8],
    ) -> Result<usize, SecurityErrorWord> {
        self.security += 1;
        if di != Di(0x0700_00FF) {
            return Err(SecurityErrorWord::AUTH_FAILED);
        }
        // Echo the payload reversed: a stand-in for the security layer.
        let n = payload.len();
        let out = out.get_mut(..n).ok_or(SecurityErrorWord::OTHER)?;
        for (o, b) in out.iter_mut().rev().zip(payload.iter()) {
            *o = b;
        }
        Ok(n)
    }
}

/// A fake meter and the server that answers for it: [`Served::handle`] hands the meter to the
/// server with each request; the rest of [`Server`] is reached through `Deref`.
#[derive(Clone, Debug)]
pub struct Served {
    pub server: Server,
    pub meter: FakeMeter,
}

impl Served {
    pub fn new(meter: FakeMeter, config: ServerConfig) -> Result<Served, ServerConfigError> {
        Ok(Served {
            server: Server::new(config)?,
            meter,
        })
    }

    pub fn restore(
        meter: FakeMeter,
        config: ServerConfig,
        state: ServerState,
    ) -> Result<Served, ServerConfigError> {
        Ok(Served {
            server: Server::restore(config, state)?,
            meter,
        })
    }

    pub fn meter(&self) -> &FakeMeter {
        &self.meter
    }

    pub fn handle(&mut self, request: &[u8], now: Timestamp, out: &mut [u8]) -> Option<usize> {
        self.server.handle(&mut self.meter, request, now, out)
    }
}

impl Deref for Served {
    type Target = Server;
    fn deref(&self) -> &Server {
        &self.server
    }
}

impl DerefMut for Served {
    fn deref_mut(&mut self) -> &mut Server {
        &mut self.server
    }
}
