//! The simulated meter behind the `virtual-meter` example, and the loop that serves it over any
//! byte stream (TCP connection, serial device).
//!
//! The meter is assembled from the crate's engines; the simulation itself only turns a constant
//! load into meter pulses and routes calls:
//!
//! - **energy**: pulses counted exactly by [`EnergyAccumulator`] into [`EnergyRegisters`];
//! - **rating**: a [`Tariff`] (a 4-rate Chinese TOU day plan and optional monthly tiers,
//!   [`tariff_plan`]) and a [`Rater`]. Consumption is rated in segments that never straddle a
//!   switch point ([`Slot::valid_until`](prepaid_meter::tariff::Slot)); the slot's tariff number
//!   picks the energy register and the rated money is debited;
//! - **account**: a [`MoneyAccount`] with its [`Logs`]: balance, overdraft, limits, purchases,
//!   relay decisions and alarms ([`Effects`]) all come from it. The simulated customer presses
//!   the reconnect button as soon as the account allows it;
//! - **security**: a [`MeterSecurity`] provisioned from the master key and the address opens
//!   the sealed commands of 03H (open account, recharge, identity authentication) and of 1CH
//!   with password level 98H, in two phases.
//!
//! # DL/T 645 03H layout
//!
//! ```text
//! request data   DI (070000FF | 070101FF | 070102FF) || operator code C0..C3 || sealed bytes
//! answer 83H     DI || sealed response bytes
//! error C3H      SERR (2 bytes)
//! ```
//!
//! - `070101FF` open account, `070102FF` recharge: the sealed bytes are one
//!   [`prepaid_meter::security::seal`] frame (counter or session mode) carrying
//!   `Command::OpenAccount` or `Command::Recharge` (the identifier and the command type must
//!   agree). The answer is the sealed response: status `0000` and [`PURCHASE_ANSWER_LEN`] bytes,
//!   the balance after the purchase (i64, minor units, big-endian) and the purchase count (u32,
//!   big-endian).
//! - `070000FF` identity authentication: the sealed bytes are an `AuthRequest`, the answer an
//!   `AuthResponse` ([`prepaid_meter::security::session`]); later commands may then be sealed
//!   in session mode.
//! - Refusals are error answers: a frame that does not open gets the `SERR` bits of its
//!   [`OpenError`] (a replayed counter: `0002` repeated; a bad tag: `0004`); an authentic
//!   purchase the account refuses gets those of its `RechargeError` and is still committed, so
//!   the same frame stays refused.
//!
//! 1CH with password level 98H carries a sealed `Command::RelayControl` after the operator code;
//! the answer is the plain 1CH acknowledgement (DL/T 645 has no data there, so the response seal
//! is not sent) or the execution status word.
//!
//! # Durability
//!
//! Between opening a sealed command and committing it, a real meter writes the new security
//! counter ([`PendingCommand::counter_state`](prepaid_meter::security::PendingCommand)) and the
//! account to non-volatile memory. The simulation keeps them in memory
//! ([`SimMeter::stored_security`]); [`SimMeter::restart`] rebuilds the security engine from
//! that record, as a power cycle would.
//!
//! A module of the `virtual-meter` example (its tests are in `tests.rs` beside it).
#![allow(dead_code)]

use std::sync::{Arc, Mutex};

use embedded_io_adapters::std::FromStd;

use prepaid_meter::account::{
    self, Config as AccountConfig, Contacts, Effects, Limits, Logs, MoneyAccount, RelayState,
};
use prepaid_meter::address::Address;
use prepaid_meter::endpoint::dlt645::{
    Measurement, MeterData, PlaintextPolicy, PriceNow, PurchaseLogEntry, Refusal, RelayLogEntry,
    RelayLogKind, Server, ServerConfig, TableEntry,
};
use prepaid_meter::io::{FrameReader, FrameWriter, ReadError};
use prepaid_meter::metering::{EnergyAccumulator, EnergyRegisters, Flow, MeterConstant};
use prepaid_meter::relay::RelayCode;
use prepaid_meter::ring::Ring;
use prepaid_meter::security::{
    Command, MasterKey, MeterKeys, MeterSecurity, OpenError, Reply, SecurityConfig,
    SecurityConfigError, SecurityState, SoftwareModule, Status,
};
use prepaid_meter::tariff::{
    Calendar, DayTable, MonthDay, Rater, Season, Settlement, SwitchPoint, Tariff, TariffSet, Tiers,
    WeekRule,
};
use prepaid_meter::time::{Date, DateTime, Time, Timestamp, UtcOffset};
use prepaid_meter::units::{Energy, Money, Price};
use prepaid_meter::wire::dlt645::registry::{CountParam, EnergyKind, FreezeKind, Limit, Switch};
use prepaid_meter::wire::dlt645::{
    Data, Di, Frame, FrameRepr, FreezeTime, Function, OperatorCode, RelayOrder, Request,
    Response as WireResponse, SecurityErrorWord, skip_preamble,
};

/// The test master key the example uses unless `--master` gives another (never use it for
/// real meters).
pub const TEST_MASTER: [u8; 16] = [
    0x00, 0x01, 0x02, 0x03, 0x04, 0x05, 0x06, 0x07, 0x08, 0x09, 0x0A, 0x0B, 0x0C, 0x0D, 0x0E, 0x0F,
];
/// The meter key version provisioned.
pub const KEY_VERSION: u16 = 1;
/// 03H identity authentication.
pub const AUTHENTICATE: Di = Di(0x0700_00FF);
/// 03H open account.
pub const OPEN_ACCOUNT: Di = Di(0x0701_01FF);
/// 03H recharge.
pub const RECHARGE: Di = Di(0x0701_02FF);
/// Length of the data in a purchase's sealed response.
pub const PURCHASE_ANSWER_LEN: usize = 12;
/// The operator code of the meter's own actions (credit trips, the customer's button).
pub const METER_OPERATOR: OperatorCode = OperatorCode([0xFF; 4]);

/// What the simulated meter starts with.
#[derive(Clone, Debug)]
pub struct Config {
    /// Communication address.
    pub address: Address,
    /// The simulated load, in watts.
    pub load_watts: u32,
    /// The first purchase, made when the account is opened at start-up (count 1).
    pub balance: Money,
    /// The customer the account is opened for (wire order, as `040004xx` shows it).
    pub customer: [u8; 6],
    /// Prices of tariffs 1..=4 (sharp, peak, flat, valley).
    pub prices: [Price; 4],
    /// Monthly tiers on top of the TOU prices ([`tariff_plan`]).
    pub tiers: bool,
    /// Meter constant, imp/kWh.
    pub constant: u32,
    /// The master key the meter's keys are derived from (provisioning).
    pub master: [u8; 16],
    /// DL/T 645 plaintext compatibility: plain-password writes of protected parameters (prices,
    /// limits, tables, ...) and plain relay control ([`PlaintextPolicy::ALL`]). On by default:
    /// the virtual meter is a test bench for head-end software, much of which only speaks
    /// plaintext. Off, only sealed commands change them.
    pub plaintext: bool,
}

impl Default for Config {
    fn default() -> Config {
        Config {
            address: Address::from_number(1).unwrap_or(Address::WILDCARD),
            load_watts: 2_000,
            balance: Money::from_minor(1_000_000), // 100.0000 yuan
            customer: [0x01, 0, 0, 0, 0, 0],       // 000000000001
            prices: [8_000, 6_500, 5_283, 3_500].map(Price::from_minor_per_kwh),
            tiers: true,
            constant: 1_600,
            master: TEST_MASTER,
            plaintext: true,
        }
    }
}

/// The tariff: a 4-rate TOU day plan, the same every day of the year, at `prices` (tariff 1
/// sharp, 2 peak, 3 flat, 4 valley):
///
/// ```text
/// 00:00 valley  08:00 peak  12:00 flat  17:00 peak  19:00 sharp  21:00 flat  23:00 valley
/// ```
///
/// With `tiers`, monthly tiers settled on the 1st at 00:00 add 0.05 yuan/kWh above 230 kWh and
/// 0.30 above 400 kWh (the residential ladder of many Chinese provinces).
pub fn tariff_plan(prices: &[Price; 4], tiers: bool) -> Result<Tariff, String> {
    let day: DayTable = DayTable::new(&[
        SwitchPoint::new(0, 0, 4),
        SwitchPoint::new(8, 0, 2),
        SwitchPoint::new(12, 0, 3),
        SwitchPoint::new(17, 0, 2),
        SwitchPoint::new(19, 0, 1),
        SwitchPoint::new(21, 0, 3),
        SwitchPoint::new(23, 0, 4),
    ])
    .map_err(|e| e.to_string())?;
    let all_year = Season {
        start: MonthDay::new(1, 1),
        week: WeekRule::uniform(1),
    };
    let calendar = Calendar::new(&[all_year], &[day]).map_err(|e| e.to_string())?;
    let tiers = if tiers {
        Tiers::new(
            &[Energy::from_kwh(230), Energy::from_kwh(400)],
            &[0, 500, 3_000].map(Price::from_minor_per_kwh),
            Settlement::monthly(1, 0).map_err(|e| e.to_string())?,
        )
        .map_err(|e| e.to_string())?
    } else {
        Tiers::none()
    };
    let set = TariffSet::new(calendar, prices, tiers).map_err(|e| e.to_string())?;
    Tariff::new(UtcOffset::CHINA, &[], set).map_err(|e| e.to_string())
}

/// The DL/T 645 depth of purchase, relay and freeze records.
const RECORDS: usize = 10;
/// W·s·imp/kWh per pulse: 3 600 000 W·s in a kWh.
const WS_PER_KWH: u64 = 3_600_000;

/// Reads the system's random source (identity authentication challenges and session ids).
#[derive(Debug)]
pub struct OsRandom;

impl rand_core::TryRng for OsRandom {
    type Error = std::io::Error;
    fn try_next_u32(&mut self) -> Result<u32, std::io::Error> {
        let mut b = [0u8; 4];
        self.try_fill_bytes(&mut b)?;
        Ok(u32::from_le_bytes(b))
    }
    fn try_next_u64(&mut self) -> Result<u64, std::io::Error> {
        let mut b = [0u8; 8];
        self.try_fill_bytes(&mut b)?;
        Ok(u64::from_le_bytes(b))
    }
    fn try_fill_bytes(&mut self, dst: &mut [u8]) -> Result<(), std::io::Error> {
        use std::io::Read;
        std::fs::File::open("/dev/urandom")?.read_exact(dst)
    }
}

impl rand_core::TryCryptoRng for OsRandom {}

/// A simulated single-phase prepaid meter.
#[derive(Debug)]
pub struct SimMeter {
    address: Address,
    load_watts: u32,
    accumulator: EnergyAccumulator,
    registers: EnergyRegisters,
    /// W·s·(imp/kWh) below one pulse, carried.
    pulse_remainder: u64,
    /// The host time of the last `advance`.
    host_last: Option<Timestamp>,
    /// Seconds between the meter's clock and the host's (set by time commands).
    clock_offset: i64,
    tariff: Tariff,
    rater: Rater,
    account: MoneyAccount,
    logs: Logs<Money>,
    /// Where the relay contacts are (driven by the account's [`Effects::drive`]).
    contacts: Contacts,
    /// The alarm output.
    alarm: bool,
    /// DL/T 645 trip and close records: the account's relay events, with the operator and the
    /// energy registers at the time (which only the meter knows).
    trips: Ring<RelayLogEntry, RECORDS>,
    closes: Ring<RelayLogEntry, RECORDS>,
    daily: Ring<(DateTime, Energy, [Energy; 4]), RECORDS>,
    keys: MeterKeys,
    security: MeterSecurity<SoftwareModule>,
    /// The security state as last "written to non-volatile memory" (here: kept in memory).
    stored_security: SecurityState,
}

impl SimMeter {
    /// A meter started at host time `now` (the load runs from then on), with the relay closed
    /// and the account opened at `now` for `config.customer` with `config.balance` as
    /// purchase 1.
    pub fn new(config: &Config, now: Timestamp) -> Result<SimMeter, String> {
        let constant = MeterConstant::new(config.constant).map_err(|e| e.to_string())?;
        let yuan = |y: i64| Money::from_minor(y * Money::MINOR_PER_UNIT);
        let limits = Limits {
            alarm1: yuan(20),       // 04001001
            alarm2: yuan(10),       // 04001002
            overdraft: yuan(50),    // 04001003: may go down to -50.00
            hoarding: yuan(10_000), // 04001004
            reconnect: yuan(0),     // 04001005
        };
        let mut account = MoneyAccount::new(AccountConfig::local(limits), Money::ZERO)
            .map_err(|e| e.to_string())?;
        let receipt = account
            .open(
                now,
                prepaid_meter::purchase::Purchase {
                    customer: prepaid_meter::purchase::CustomerNumber::new(config.customer),
                    count: 1,
                    amount: config.balance,
                },
            )
            .map_err(|e| e.to_string())?;
        let keys = MasterKey::new(&config.master, SecurityConfig::DEFAULT.tag_len())
            .meter_keys(config.address, KEY_VERSION);
        let security = MeterSecurity::new(
            config.address,
            SoftwareModule::new(KEY_VERSION, &keys),
            SecurityConfig::DEFAULT,
        )
        .map_err(|e| e.to_string())?;
        let mut meter = SimMeter {
            address: config.address,
            load_watts: config.load_watts,
            accumulator: EnergyAccumulator::new(constant),
            registers: EnergyRegisters::new(),
            pulse_remainder: 0,
            host_last: Some(now),
            clock_offset: 0,
            tariff: tariff_plan(&config.prices, config.tiers)?,
            rater: Rater::new(),
            account,
            logs: Logs::new(),
            contacts: Contacts::Closed,
            alarm: false,
            trips: Ring::new(),
            closes: Ring::new(),
            daily: Ring::new(),
            keys,
            stored_security: security.state(),
            security,
        };
        meter.logs.record_purchase(&receipt.record);
        meter.apply(&receipt.effects, METER_OPERATOR, now);
        Ok(meter)
    }

    /// The meter's clock for a host time.
    pub fn meter_time(&self, host: Timestamp) -> Timestamp {
        host.checked_add_secs(self.clock_offset).unwrap_or(host)
    }

    /// The meter's clock at the last `advance`.
    fn now(&self) -> Option<Timestamp> {
        Some(self.meter_time(self.host_last?))
    }

    fn local(&self, at: Timestamp) -> DateTime {
        DateTime::from_timestamp(at, self.tariff.offset())
            .unwrap_or(DateTime::new(Date::MIN, Time::MIDNIGHT))
    }

    /// Acts on what the account decided: logs it, drives the relay and the alarm output, and
    /// writes the DL/T 645 trip or close record.
    fn apply(&mut self, fx: &Effects<Money>, operator: OperatorCode, at: Timestamp) {
        self.logs.record(fx);
        self.alarm = fx.alarms.output();
        if let Some(contacts) = fx.drive {
            self.contacts = contacts;
            let record = RelayLogEntry {
                time: self.local(at),
                operator,
                forward: self.registers.total(Flow::Import),
                reverse: self.registers.total(Flow::Export),
            };
            match contacts {
                Contacts::Open => self.trips.push(record),
                Contacts::Closed => self.closes.push(record),
            };
        }
    }

    /// Runs the load from the last call to `host`: pulses, energy registers, rating, debit,
    /// relay.
    pub fn advance(&mut self, host: Timestamp) {
        let Some(last) = self.host_last.replace(host) else {
            return;
        };
        let end = self.meter_time(host);
        let Some(secs) = host.checked_secs_since(last).filter(|s| *s > 0) else {
            return;
        };
        let mut t = end.checked_add_secs(-secs).unwrap_or(end);
        while t < end && self.contacts == Contacts::Closed {
            // A segment never straddles a switch point, so one slot prices all of it.
            let Ok(slot) = self.tariff.slot_at(t) else {
                break;
            };
            let seg_end = slot.valid_until.min(end);
            let seg = seg_end.checked_secs_since(t).unwrap_or(0).unsigned_abs();
            let ws = u64::from(self.load_watts)
                .saturating_mul(seg)
                .saturating_mul(u64::from(self.accumulator.constant().imp_per_kwh()));
            let total = self.pulse_remainder.saturating_add(ws);
            self.pulse_remainder = total % WS_PER_KWH;
            let energy = self.accumulator.add_pulses(total / WS_PER_KWH);
            let Ok(rated) = self.rater.rate(&self.tariff, energy, t) else {
                break;
            };
            let _ = self.registers.add(Flow::Import, rated.slot.tariff, energy);
            if let Ok(fx) = self.account.debit(seg_end, rated.money) {
                self.apply(&fx, METER_OPERATOR, seg_end);
            }
            t = seg_end;
        }
        // Restore times of 1D/1E commands; then the simulated customer presses the button.
        let fx = self.account.tick(end);
        self.apply(&fx, METER_OPERATOR, end);
        if matches!(self.account.relay(), RelayState::Ready(_)) {
            let fx = self.account.press_button(end);
            self.apply(&fx, METER_OPERATOR, end);
        }
        self.tariff.activate_due(end);
    }

    /// `true` while the relay is closed.
    pub fn relay_closed(&self) -> bool {
        self.contacts == Contacts::Closed
    }

    /// The account.
    pub fn account(&self) -> &MoneyAccount {
        &self.account
    }

    /// The tariff.
    pub fn tariff(&self) -> &Tariff {
        &self.tariff
    }

    /// Forward active energy, total.
    pub fn forward_total(&self) -> Energy {
        self.registers.total(Flow::Import)
    }

    /// The security state as last stored (what a restart comes back with).
    pub fn stored_security(&self) -> SecurityState {
        self.stored_security
    }

    /// Simulates a power cycle of the security engine: it is rebuilt from the provisioned keys
    /// and `stored` (normally [`SimMeter::stored_security`]); any session ends. The account and
    /// registers are kept, as a meter keeps them in non-volatile memory.
    pub fn restart(&mut self, stored: SecurityState) -> Result<(), SecurityConfigError> {
        self.security = MeterSecurity::restore(
            self.address,
            SoftwareModule::new(stored.key_version, &self.keys),
            SecurityConfig::DEFAULT,
            stored,
        )?;
        self.stored_security = stored;
        Ok(())
    }

    /// 070101FF / 070102FF: open, apply to a copy of the account, store, commit, answer.
    fn purchase(
        &mut self,
        di: Di,
        operator: OperatorCode,
        payload: Data<'_>,
        now: Timestamp,
        out: &mut [u8],
    ) -> Result<usize, SecurityErrorWord> {
        let mut buf = [0u8; 255];
        let frame = copy_frame(payload, &mut buf).ok_or(SecurityErrorWord::OTHER)?;
        let mut account = self.account.clone();
        let stored = &mut self.stored_security;
        let opened = self.security.open(frame, now).map(|pending| {
            let result = match (di, pending.command()) {
                (OPEN_ACCOUNT, Command::OpenAccount(p)) => account.open(now, *p),
                (RECHARGE, Command::Recharge(p)) => account.recharge(now, *p),
                _ => Err(account::RechargeError::InvalidAmount),
            };
            // Here a real meter writes the counter state and the account to non-volatile
            // memory; the simulation keeps both in memory. The command is committed even when
            // the account refuses it, so that the same frame can never be applied later.
            *stored = pending.counter_state();
            let mut done = pending.commit();
            result.map(|receipt| {
                let mut answer = [0u8; PURCHASE_ANSWER_LEN];
                answer[..8].copy_from_slice(&receipt.record.balance_after.minor().to_be_bytes());
                answer[8..].copy_from_slice(&receipt.record.count.to_be_bytes());
                let response = Reply {
                    status: Status::OK,
                    data: &answer,
                };
                (receipt, done.seal_response(&response, out))
            })
        });
        // A refused frame changes at most the failure record (a bad tag): store it too.
        self.stored_security = self.security.state();
        let (receipt, sealed) = opened
            .map_err(SecurityErrorWord::from)?
            .map_err(SecurityErrorWord::from)?;
        self.account = account;
        self.logs.record_purchase(&receipt.record);
        self.apply(&receipt.effects, operator, now);
        sealed.map_err(|_| SecurityErrorWord::OTHER)
    }

    /// 1CH at level 98H: a sealed relay command.
    fn sealed_relay(
        &mut self,
        operator: OperatorCode,
        sealed: Data<'_>,
        now: Timestamp,
    ) -> Result<(), Refusal> {
        let mut buf = [0u8; 255];
        let frame = copy_frame(sealed, &mut buf).ok_or(Refusal::Unauthorized)?;
        let mut account = self.account.clone();
        let stored = &mut self.stored_security;
        let opened = self.security.open(frame, now).map(|pending| {
            let result = match pending.command() {
                Command::RelayControl(rc) => account::RelayCommand::from_code(rc.action, rc.delay)
                    .ok_or(Refusal::Unsupported)
                    .and_then(|c| account.command(now, c).map_err(command_refusal)),
                _ => Err(Refusal::Unsupported),
            };
            // Store, then commit (see `purchase`). The 1CH answer carries no data, so the
            // response seal is not used.
            *stored = pending.counter_state();
            let _response_seal_unused = pending.commit();
            result
        });
        self.stored_security = self.security.state();
        let fx = opened.map_err(|e| match e {
            OpenError::Suspended | OpenError::Locked => Refusal::Suspended,
            OpenError::Expired => Refusal::Expired,
            _ => Refusal::Unauthorized,
        })??;
        self.account = account;
        self.apply(&fx, operator, now);
        Ok(())
    }

    /// The purchase record `n` (1 = last) in DL/T 645 form.
    fn purchase_record(&self, n: u8) -> Option<PurchaseLogEntry> {
        let purchases = self.logs.purchases();
        let r = purchases.last(usize::from(n))?;
        // Cumulative at record n: everything bought so far less the purchases after it.
        let later = purchases
            .iter()
            .take(usize::from(n) - 1)
            .try_fold(Money::ZERO, |sum, p| sum.checked_add(p.amount))?;
        Some(PurchaseLogEntry {
            time: self.local(r.time),
            count: u16::try_from(r.count).ok()?,
            amount: r.amount,
            balance_before: r.balance_before.max(Money::ZERO),
            balance_after: r.balance_after.max(Money::ZERO),
            cumulative: self.account.totals().recharged.checked_sub(later)?,
        })
    }

    /// Replaces price set 1 (the active set), rebuilding the tariff through its validating
    /// constructors; a refused change leaves the tariff as it was.
    fn rebuild_active(
        &mut self,
        change: impl FnOnce(&mut Vec<Season>, &mut Vec<DayTable>, &mut Vec<Price>),
    ) -> Result<(), Refusal> {
        let active = self.tariff.active();
        let mut seasons = active.calendar().seasons().to_vec();
        let mut tables = active.calendar().day_tables().to_vec();
        let mut prices = active.prices().to_vec();
        change(&mut seasons, &mut tables, &mut prices);
        let calendar = Calendar::new(&seasons, &tables).map_err(|_| Refusal::Invalid)?;
        let set = TariffSet::new(calendar, &prices, active.tiers().clone())
            .map_err(|_| Refusal::Invalid)?;
        let mut tariff = Tariff::new(self.tariff.offset(), self.tariff.special_days(), set)
            .map_err(|_| Refusal::Invalid)?;
        if let Some(p) = self.tariff.passive() {
            tariff
                .set_passive(p.set.clone(), p.switch_at)
                .map_err(|_| Refusal::Invalid)?;
        }
        self.tariff = tariff;
        Ok(())
    }

    /// Price set 1 = the active set, 2 = the passive one (if any).
    fn price_set(&self, set: u8) -> Option<&TariffSet> {
        match set {
            1 => Some(self.tariff.active()),
            2 => self.tariff.passive().map(|p| &p.set),
            _ => None,
        }
    }
}

fn copy_frame<'b>(data: Data<'_>, buf: &'b mut [u8; 255]) -> Option<&'b mut [u8]> {
    let n = data.len();
    data.copy_to(buf)?;
    buf.get_mut(..n)
}

fn command_refusal(e: account::CommandError) -> Refusal {
    match e {
        account::CommandError::KeepPower | account::CommandError::RestoreKeepPower => {
            Refusal::KeepPower
        }
        _ => Refusal::Invalid,
    }
}

fn nth<T: Copy, const N: usize>(ring: &Ring<T, N>, n: u8) -> Option<T> {
    ring.last(usize::from(n)).copied()
}

impl MeterData for SimMeter {
    fn address(&self) -> Address {
        self.address
    }
    fn tariff_count(&self) -> u8 {
        u8::try_from(self.tariff.active().prices().len()).unwrap_or(4)
    }
    fn energy(&self, kind: EnergyKind, tariff: u8, period: u8) -> Option<Energy> {
        let dir = match kind {
            EnergyKind::CombinedActive | EnergyKind::ForwardActive => Flow::Import,
            EnergyKind::ReverseActive => Flow::Export,
            _ => return None,
        };
        (period == 0).then_some(())?;
        match tariff {
            0 => Some(self.registers.total(dir)),
            t => self.registers.tariff(dir, t).ok(),
        }
    }
    fn balance(&self) -> Option<Money> {
        Some(self.account.remaining())
    }
    fn overdraft(&self) -> Option<Money> {
        Some(self.account.overdrawn())
    }
    fn measurement(&self, m: Measurement) -> Option<i64> {
        let watts = if self.relay_closed() {
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
        let now = self.now()?;
        let slot = self.tariff.slot_at(now).ok()?;
        let tiers = self.tariff.set(slot.set).tiers();
        let tier = tiers.price(tiers.tier_of(self.rater.tier_energy()));
        match which {
            PriceNow::Tier => Some(tier),
            PriceNow::Tariff => Some(slot.price),
            PriceNow::Total => slot.price.checked_add(tier),
        }
    }
    fn auth_remaining(&self) -> Option<u16> {
        let now = self.now()?;
        let s = self.security.session().filter(|s| s.is_valid_at(now))?;
        let end = s.started.checked_add_secs(i64::from(s.validity_secs))?;
        u16::try_from(end.checked_secs_since(now)? / 60).ok()
    }
    fn purchase(&self, n: u8) -> Option<PurchaseLogEntry> {
        self.purchase_record(n)
    }
    fn relay_event_count(&self, kind: RelayLogKind) -> Option<u32> {
        Some(match kind {
            RelayLogKind::Trip => self.trips.pushed(),
            RelayLogKind::Close => self.closes.pushed(),
        })
    }
    fn relay_event(&self, kind: RelayLogKind, n: u8) -> Option<RelayLogEntry> {
        match kind {
            RelayLogKind::Trip => nth(&self.trips, n),
            RelayLogKind::Close => nth(&self.closes, n),
        }
    }
    fn customer_number(&self) -> Option<[u8; 6]> {
        self.account
            .customer()
            .map(prepaid_meter::purchase::CustomerNumber::to_bytes)
    }
    fn meter_number(&self) -> Option<[u8; 6]> {
        Some(self.address.to_wire())
    }
    fn status_word(&self, n: u8) -> Option<u16> {
        // Word 3: bit 4 relay open, bit 6 keep-power, bit 7 alarm (the simulation's own layout;
        // the standard's bit assignment is unverified).
        (n == 3)
            .then_some(
                u16::from(!self.relay_closed()) << 4
                    | u16::from(self.account.keep_power()) << 6
                    | u16::from(self.alarm) << 7,
            )
            .or((1..=7).contains(&n).then_some(0))
    }
    fn limit(&self, which: Limit) -> Option<Money> {
        let l = &self.account.config().limits;
        Some(match which {
            Limit::Alarm1 => l.alarm1,
            Limit::Alarm2 => l.alarm2,
            Limit::Overdraft => l.overdraft,
            Limit::Hoarding => l.hoarding,
            Limit::Reconnect => l.reconnect,
        })
    }
    fn set_limit(&mut self, which: Limit, value: Money) -> Result<(), Refusal> {
        let now = self.now().ok_or(Refusal::Invalid)?;
        let mut config = self.account.config().clone();
        let l = &mut config.limits;
        *match which {
            Limit::Alarm1 => &mut l.alarm1,
            Limit::Alarm2 => &mut l.alarm2,
            Limit::Overdraft => &mut l.overdraft,
            Limit::Hoarding => &mut l.hoarding,
            Limit::Reconnect => &mut l.reconnect,
        } = value;
        let fx = self
            .account
            .reconfigure(now, config)
            .map_err(|_| Refusal::Invalid)?;
        self.apply(&fx, METER_OPERATOR, now);
        Ok(())
    }
    fn count(&self, which: CountParam) -> Option<u16> {
        let set = self.tariff.active();
        let cal = set.calendar();
        let n = match which {
            CountParam::Zones => cal.seasons().len(),
            CountParam::DayTables => cal.day_tables().len(),
            CountParam::Periods => cal
                .day_tables()
                .iter()
                .map(|t| t.points().len())
                .max()
                .unwrap_or(0),
            CountParam::Tariffs => set.prices().len(),
            CountParam::Holidays => self.tariff.special_days().len(),
            CountParam::Tiers => set.tiers().thresholds().len(),
        };
        u16::try_from(n).ok()
    }
    fn switch_time(&self, _: Switch) -> Option<DateTime> {
        // The engine switches whole sets: every switch time is the passive set's.
        self.tariff.passive().map(|p| self.local(p.switch_at))
    }
    fn season(&self, set: u8, index: u8) -> Option<TableEntry> {
        // DL/T 645 time zones name one day table; the plan's week rules are uniform.
        let s = self
            .price_set(set)?
            .calendar()
            .seasons()
            .get(usize::from(index))?;
        Some((s.start.month, s.start.day, s.week.0[0]))
    }
    fn set_seasons(&mut self, set: u8, entries: &[TableEntry]) -> Result<(), Refusal> {
        if set != 1 {
            return Err(Refusal::Unsupported);
        }
        self.rebuild_active(|seasons, _, _| {
            *seasons = entries
                .iter()
                .map(|&(month, day, table)| Season {
                    start: MonthDay::new(month, day),
                    week: WeekRule::uniform(table),
                })
                .collect();
        })
    }
    fn day_period(&self, set: u8, table: u8, index: u8) -> Option<TableEntry> {
        let t = self
            .price_set(set)?
            .calendar()
            .day_tables()
            .get(usize::from(table).checked_sub(1)?)?;
        let p = t.points().get(usize::from(index))?;
        Some((p.hour, p.minute, p.tariff))
    }
    fn set_day_table(&mut self, set: u8, table: u8, entries: &[TableEntry]) -> Result<(), Refusal> {
        if set != 1 {
            return Err(Refusal::Unsupported);
        }
        let points: Vec<SwitchPoint> = entries
            .iter()
            .map(|&(h, m, t)| SwitchPoint::new(h, m, t))
            .collect();
        let new = DayTable::new(&points).map_err(|_| Refusal::Invalid)?;
        let index = usize::from(table).checked_sub(1).ok_or(Refusal::Invalid)?;
        let mut found = false;
        self.rebuild_active(|_, tables, _| {
            if let Some(t) = tables.get_mut(index) {
                *t = new;
                found = true;
            }
        })?;
        if found { Ok(()) } else { Err(Refusal::Invalid) }
    }
    fn price(&self, set: u8, index: u8) -> Option<Price> {
        let prices = self.price_set(set)?.prices();
        prices.get(usize::from(index).checked_sub(1)?).copied()
    }
    fn set_price(&mut self, set: u8, index: u8, price: Price) -> Result<(), Refusal> {
        if set != 1 {
            return Err(Refusal::Unsupported);
        }
        let i = usize::from(index).checked_sub(1).ok_or(Refusal::Invalid)?;
        if i >= self.tariff.active().prices().len() {
            return Err(Refusal::Invalid);
        }
        self.rebuild_active(|_, _, prices| {
            if let Some(p) = prices.get_mut(i) {
                *p = price;
            }
        })
    }
    fn tier_threshold(&self, set: u8, index: u8) -> Option<Energy> {
        let tiers = self.price_set(set)?.tiers();
        tiers
            .thresholds()
            .get(usize::from(index).checked_sub(1)?)
            .copied()
    }
    fn tier_price(&self, set: u8, index: u8) -> Option<Price> {
        let tiers = self.price_set(set)?.tiers();
        tiers
            .prices()
            .get(usize::from(index).checked_sub(1)?)
            .copied()
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
            t => tariffs.get(usize::from(t).checked_sub(1)?).copied(),
        }
    }
    fn set_clock(&mut self, local: DateTime) -> Result<(), Refusal> {
        let host = self.host_last.ok_or(Refusal::Invalid)?;
        let target = local.to_timestamp(self.tariff.offset());
        self.clock_offset = target.checked_secs_since(host).ok_or(Refusal::Invalid)?;
        Ok(())
    }
    fn freeze(&mut self, time: FreezeTime) -> Result<(), Refusal> {
        if !time.is_now() {
            return Err(Refusal::Unsupported);
        }
        let at = self.local(self.now().ok_or(Refusal::Invalid)?);
        let e = (
            at,
            self.registers.total(Flow::Import),
            self.registers.tariffs(Flow::Import),
        );
        self.daily.push(e);
        Ok(())
    }
    fn relay(
        &mut self,
        command: RelayCode,
        n2: u8,
        operator: OperatorCode,
        now: Timestamp,
    ) -> Result<(), Refusal> {
        // The server has checked the password and the valid-until time.
        let command = account::RelayCommand::from_code(command, n2).ok_or(Refusal::Unsupported)?;
        let fx = self
            .account
            .command(now, command)
            .map_err(command_refusal)?;
        self.apply(&fx, operator, now);
        Ok(())
    }
    fn sealed(&mut self, request: &Request<'_>, now: Timestamp) -> Result<(), Refusal> {
        match request {
            Request::RelayControl {
                operator,
                order: RelayOrder::Sealed(sealed),
                ..
            } => self.sealed_relay(*operator, *sealed, now),
            // Sealed writes (98H/99H) and meter clear are not wired in the simulation.
            _ => Err(Refusal::Unsupported),
        }
    }
    fn security(
        &mut self,
        di: Di,
        operator: OperatorCode,
        payload: Data<'_>,
        now: Timestamp,
        out: &mut [u8],
    ) -> Result<usize, SecurityErrorWord> {
        match di {
            OPEN_ACCOUNT | RECHARGE => self.purchase(di, operator, payload, now, out),
            AUTHENTICATE => {
                let mut buf = [0u8; 255];
                let request = copy_frame(payload, &mut buf).ok_or(SecurityErrorWord::OTHER)?;
                let r = self.security.authenticate(request, now, &mut OsRandom, out);
                // A failed proof counts toward the lock-out: store the state either way.
                self.stored_security = self.security.state();
                r.map_err(SecurityErrorWord::from)
            }
            _ => Err(SecurityErrorWord::OTHER),
        }
    }
}

/// The simulated meter and the DL/T 645 server that answers for it.
#[derive(Debug)]
pub struct Node {
    /// The meter.
    pub meter: SimMeter,
    /// The server: passwords and the wrong-password record.
    pub server: Server,
}

/// The node shared by every connection (TCP clients, the serial device): one lock over the
/// meter and its server, so each request is answered whole.
pub type Shared = Arc<Mutex<Node>>;

/// A simulated meter, started at host time `now`, behind a DL/T 645 server answering with 4
/// preamble bytes, with plaintext compatibility as `config.plaintext` says.
pub fn shared(config: &Config, now: Timestamp) -> Result<Shared, String> {
    let meter = SimMeter::new(config, now)?;
    let server = Server::new(ServerConfig {
        preamble: 4,
        plaintext: if config.plaintext {
            PlaintextPolicy::ALL
        } else {
            PlaintextPolicy::NONE
        },
        ..ServerConfig::default()
    })
    .map_err(|e| e.to_string())?;
    Ok(Arc::new(Mutex::new(Node { meter, server })))
}

/// Answers one request frame received at host time `host`.
pub fn answer(meter: &Shared, frame: &[u8], host: Timestamp, out: &mut [u8]) -> Option<usize> {
    let mut node = meter.lock().unwrap_or_else(|p| p.into_inner());
    let Node { meter, server } = &mut *node;
    meter.advance(host);
    let now = meter.meter_time(host);
    let answer = server.handle(meter, frame, now, out);
    if log::log_enabled!(log::Level::Info) {
        let outcome = answer.and_then(|n| out.get(..n));
        log::info!("{}", describe(frame, outcome));
    }
    answer
}

/// One line for the request log: the address, function and identifier of a request and what
/// became of it.
pub fn describe(request: &[u8], answer: Option<&[u8]>) -> String {
    let Ok(repr) = Frame::new_checked(skip_preamble(request))
        .and_then(|f| FrameRepr::parse(&f).map(|r| (r.address, r.control, r.data)))
    else {
        return "unreadable frame, no answer".into();
    };
    let (address, control, data) = repr;
    // The functions whose data starts with a data identifier.
    let di = match control.function {
        Function::Read | Function::ReadFollowUp | Function::Write | Function::Security => {
            data.array::<4>().map(|b| format!(" {}", Di::from_wire(b)))
        }
        _ => None,
    }
    .unwrap_or_default();
    let outcome = match answer {
        None => "no answer".to_string(),
        Some(bytes) => match Frame::new_checked(skip_preamble(bytes))
            .and_then(|f| FrameRepr::parse(&f).and_then(|r| WireResponse::parse(&r)))
        {
            Ok(WireResponse::Error { code, .. }) => format!("refused: ERR {code}"),
            Ok(WireResponse::SecurityError { word }) => format!("refused: SERR {word}"),
            Ok(WireResponse::RelayError { word }) => format!("refused: status {word}"),
            Ok(_) => "answered".to_string(),
            Err(e) => format!("answer unreadable: {e}"),
        },
    };
    format!("{address} {:?}{di}: {outcome}", control.function)
}

/// Serves frames from `input`, answering on `output`, until the stream ends or fails.
pub fn serve<R: std::io::Read, W: std::io::Write>(
    meter: &Shared,
    input: R,
    output: W,
    clock: impl Fn() -> Timestamp,
) -> std::io::Result<()> {
    let mut reader: FrameReader<FromStd<R>> = FrameReader::new(FromStd::new(input));
    let mut writer: FrameWriter<FromStd<W>> = FrameWriter::new(FromStd::new(output));
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
