//! The simulated meter behind the `virtual-meter` example: the crate's [`Meter`] with the
//! desktop around it, and the loop that serves it over any byte stream (TCP connection, serial
//! device).
//!
//! Everything a meter does (metering, tariff rating, the prepaid account and its logs, relay
//! records, freezes, the DL/T 645 server, the sealed 03H, 1CH and 14H flows, the stored forms)
//! is [`prepaid_meter::meter`]'s; see its module docs for the 03H identifiers and answers. This
//! module only supplies what a firmware's hardware would:
//!
//! - **the load**: a constant load in watts, turned into meter pulses from the host clock (the
//!   part of a pulse not yet reached is carried) and fed to [`Meter::tick`], minute by minute
//!   and at every tariff switch; voltage, current, power, power factor and frequency for
//!   DL/T 645 reads through [`Meter::instantaneous`];
//! - **the customer**, who presses the reconnect button as soon as the account allows it;
//! - **the random source** ([`OsRandom`]) for identity authentication;
//! - **the store**: a [`MeterStore`] on the crate's simulated NOR flash
//!   ([`prepaid_meter::mock::MockFlash`], in memory). Every area the meter asks to save is
//!   committed with [`persist::save`] before [`Meter::transmit`] gives the answer;
//!   [`Node::restart`] is a power cycle: the power-fail save, then the meter rebuilt from what
//!   the flash holds ([`persist::start`]);
//! - **commissioning**: at start-up the node plays the head-end once, as a utility does when it
//!   installs a meter: an identity authentication, then a sealed 03H open account (purchase 1,
//!   `config.balance`) in that session, fed through [`Meter::receive`]; then a power cycle,
//!   which ends the session. Session commands leave the command counter untouched, so a
//!   head-end's first counter-mode command may use counter 1.
//!
//! A module of the `virtual-meter` example (its tests are in `tests.rs` beside it).
#![allow(dead_code)]

use std::sync::{Arc, Mutex};

use embedded_io_adapters::std::FromStd;

use prepaid_meter::account::{Config as AccountConfig, Contacts, Limits, RelayState};
use prepaid_meter::address::Address;
use prepaid_meter::endpoint::dlt645::{Client, PlaintextPolicy, ServerConfig};
use prepaid_meter::io::{FrameReader, FrameWriter, ReadError};
use prepaid_meter::meter::{
    AUTHENTICATE, Actions, Area, Instantaneous, KeyRecord, Meter, MeterConfig, MeterState,
    OPEN_ACCOUNT, Started, persist,
};
use prepaid_meter::metering::MeterConstant;
use prepaid_meter::mock::MockFlash;
use prepaid_meter::purchase::{CustomerNumber, Purchase};
use prepaid_meter::security::{Command, MasterKey, SecurityConfig, SecurityState, Status};
use prepaid_meter::snapshot::Snapshot;
use prepaid_meter::storage::{AreaLayout, MeterStore, Nor};
use prepaid_meter::tariff::{
    Calendar, DayTable, MonthDay, Season, Settlement, SwitchPoint, Tariff, TariffSet, Tiers,
    WeekRule,
};
use prepaid_meter::time::{Timestamp, UtcOffset};
use prepaid_meter::units::{Energy, Money, Price};
use prepaid_meter::wire::dlt645::{
    Di, Frame, FrameRepr, Function, Response as WireResponse, skip_preamble,
};

/// The test master key the example uses unless `--master` gives another (never use it for
/// real meters).
pub const TEST_MASTER: [u8; 16] = [
    0x00, 0x01, 0x02, 0x03, 0x04, 0x05, 0x06, 0x07, 0x08, 0x09, 0x0A, 0x0B, 0x0C, 0x0D, 0x0E, 0x0F,
];
/// The meter key version provisioned.
pub const KEY_VERSION: u16 = 1;

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
    let day = DayTable::new(&[
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

/// W·s·imp/kWh per pulse: 3 600 000 W·s in a kWh.
const WS_PER_KWH: u64 = 3_600_000;
/// The longest step of the simulated load: the meter is ticked at least once a minute of its
/// clock (and at every tariff switch), so freezes and credit checks happen on time.
const STEP_SECS: i64 = 60;

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

/// The simulated NOR flash: 48 KiB in 1 KiB erase sectors.
pub type Flash = MockFlash<{ 48 * 1024 }, 1024, 4>;
/// The meter's store on it.
pub type Store = MeterStore<Nor<HeapFlash>>;

/// The simulated flash on the heap, so that opening and restarting the store moves a pointer,
/// not 48 KiB (a debug build's test threads have small stacks).
#[derive(Clone, Debug)]
pub struct HeapFlash(pub Box<Flash>);

impl embedded_storage::nor_flash::ErrorType for HeapFlash {
    type Error = <Flash as embedded_storage::nor_flash::ErrorType>::Error;
}

impl embedded_storage::nor_flash::ReadNorFlash for HeapFlash {
    const READ_SIZE: usize = Flash::READ_SIZE;
    fn read(&mut self, offset: u32, bytes: &mut [u8]) -> Result<(), Self::Error> {
        self.0.read(offset, bytes)
    }
    fn capacity(&self) -> usize {
        self.0.capacity()
    }
}

impl embedded_storage::nor_flash::NorFlash for HeapFlash {
    const WRITE_SIZE: usize = Flash::WRITE_SIZE;
    const ERASE_SIZE: usize = Flash::ERASE_SIZE;
    fn erase(&mut self, from: u32, to: u32) -> Result<(), Self::Error> {
        self.0.erase(from, to)
    }
    fn write(&mut self, offset: u32, bytes: &[u8]) -> Result<(), Self::Error> {
        self.0.write(offset, bytes)
    }
}

/// The largest stored form of each area at the meter's capacities (24 hourly, 62 daily and 12
/// settlement freezes, logs 10 deep), with room to spare: hot state, logs, freezes (5 717
/// bytes full), tariff, keys.
const MAX_PAYLOADS: [u16; 5] = [2_048, 6_144, 6_144, 4_096, 128];

/// The store's layout: the five areas side by side, two records each.
fn layout() -> [AreaLayout; 5] {
    persist::layout(0, 1024, MAX_PAYLOADS)
}

/// A simulated single-phase prepaid meter: the crate's [`Meter`], its store, and the load.
#[derive(Debug)]
pub struct Node {
    /// The meter.
    pub meter: Box<Meter>,
    store: Store,
    /// What the meter was built from, for a restart.
    config: Config,
    /// W·s·(imp/kWh) below one pulse, carried.
    pulse_remainder: u64,
    /// The host time of the last `advance`.
    host_last: Timestamp,
}

impl Node {
    /// A meter commissioned at host time `now` (the load runs from then on): relay closed,
    /// account opened for `config.customer` with `config.balance` as purchase 1.
    pub fn new(config: &Config, now: Timestamp) -> Result<Node, String> {
        let (store, found) = MeterStore::open(Nor(HeapFlash(Box::new(Flash::new()))), &layout())
            .map_err(|e| e.to_string())?;
        let mut store = store;
        let mut buf = vec![0u8; store_buffer_len()];
        let (config_m, keys, tariff) = parts(config)?;
        let mut slot: Option<Meter> = None;
        let started = persist::start(
            &mut slot, &mut store, found, &mut buf, &config_m, keys, &tariff, now,
        )
        .map_err(|e| e.to_string())?;
        let meter = slot.ok_or("no meter after start-up")?;
        if started != Started::Fresh {
            return Err(format!(
                "a new flash should start a fresh meter: {started:?}"
            ));
        }
        let mut node = Node {
            meter: Box::new(meter),
            store,
            config: config.clone(),
            pulse_remainder: 0,
            host_last: now,
        };
        node.commission(now)?;
        // Installed: a power cycle (it also ends the commissioning session).
        match node.restart()? {
            Started::Restored => {}
            other => return Err(format!("commissioning: the meter restarted as {other:?}")),
        }
        node.tick(now, 0);
        node.readings();
        Ok(node)
    }

    /// The head-end's part at commissioning: identity authentication, then the opening
    /// purchase sealed in that session.
    fn commission(&mut self, now: Timestamp) -> Result<(), String> {
        let c = &self.config;
        let mut head_end = MasterKey::new(&c.master, SecurityConfig::DEFAULT.tag_len())
            .meter(c.address, KEY_VERSION);
        let client = Client::new(c.address);
        let open = Command::OpenAccount(Purchase {
            customer: CustomerNumber::new(c.customer),
            count: 1,
            amount: c.balance,
        });
        let mut sealed = [0u8; 128];
        let n = head_end
            .auth_request(&mut OsRandom, &mut sealed)
            .map_err(|e| e.to_string())?;
        let mut answer = self.ask(&client, AUTHENTICATE, &sealed[..n], now)?;
        head_end
            .accept_auth_response(&answer, now)
            .map_err(|e| format!("commissioning: authentication: {e}"))?;
        let until = now.checked_add_secs(60).ok_or("clock out of range")?;
        let sent = head_end
            .seal_in_session(&open, until, now, &mut sealed)
            .map_err(|e| e.to_string())?;
        answer = self.ask(&client, OPEN_ACCOUNT, &sealed[..sent.len], now)?;
        let reply = head_end
            .open_response(&mut answer, &sent)
            .map_err(|e| format!("commissioning: open account: {e}"))?;
        if reply.status != Status::OK {
            return Err(format!(
                "commissioning: open account: status {:?}",
                reply.status
            ));
        }
        Ok(())
    }

    /// A 03H request of the commissioning head-end; the answer's data.
    fn ask(
        &mut self,
        client: &Client,
        di: Di,
        sealed: &[u8],
        now: Timestamp,
    ) -> Result<Vec<u8>, String> {
        let mut request = [0u8; 300];
        let n = client
            .security(di, sealed, &mut request)
            .map_err(|e| e.to_string())?;
        let answer = self
            .handle(&request[..n], now)
            .ok_or(format!("commissioning: no answer to {di}"))?;
        match client.parse_answer(&answer) {
            Ok(WireResponse::Security { data, .. }) => {
                let mut out = vec![0u8; data.len()];
                data.copy_to(&mut out).ok_or("answer too long")?;
                Ok(out)
            }
            Ok(other) => Err(format!("commissioning: unexpected answer {other:?}")),
            Err(e) => Err(format!("commissioning: {di} refused: {e}")),
        }
    }

    /// Commits what the meter has not saved. A failed commit is logged; the meter then drops
    /// an answer that waited for it, and the areas stay to be saved.
    fn persist(&mut self) {
        if self.meter.unsaved().is_empty() {
            return;
        }
        let mut record = vec![0u8; usize::from(MAX_PAYLOADS[2])];
        let mut hot = vec![0u8; usize::from(MAX_PAYLOADS[0])];
        if let Err(e) = persist::save(&mut *self.meter, &mut self.store, &mut record, &mut hot) {
            log::error!("saving the meter's state: {e}");
        }
    }

    /// Acts on what a call to the meter asks: the relay follows every drive (the simulated
    /// relay has no feedback contact), the areas are committed.
    fn act(&mut self, actions: Actions) {
        if !actions.save.is_empty() {
            self.persist();
        }
    }

    fn tick(&mut self, host: Timestamp, pulses: u32) {
        let actions = self.meter.tick(host, pulses);
        self.act(actions);
    }

    /// The metering chip's readings for the load, with the relay where it is.
    fn readings(&mut self) {
        let watts = if self.relay_closed() {
            i64::from(self.config.load_watts)
        } else {
            0
        };
        self.meter.instantaneous(Instantaneous {
            voltage: Some(2_200),
            current: Some(watts * 1000 / 220),
            active_power: Some(watts * 10),
            power_factor: Some(1_000),
            frequency: Some(5_000),
        });
    }

    /// Runs the load from the last call to host time `host`, in steps that end on each whole
    /// minute of the meter's clock and at each tariff switch: the meter is ticked at the end
    /// of each step with the step's pulses (it rates them in the period they were counted in,
    /// and takes the freezes due at the step's end). The customer presses the button as soon
    /// as the account allows it.
    pub fn advance(&mut self, host: Timestamp) {
        let last = std::mem::replace(&mut self.host_last, host);
        let offset = self.meter.time(host).checked_secs_since(host).unwrap_or(0);
        let mut t = last;
        while t < host {
            let meter_t = t.checked_add_secs(offset).unwrap_or(t);
            let mut boundary = Timestamp::from_unix(
                (meter_t.unix().div_euclid(STEP_SECS) + 1).saturating_mul(STEP_SECS),
            );
            if let Ok(slot) = self.meter.tariff().slot_at(meter_t) {
                boundary = boundary.min(slot.valid_until);
            }
            let end = boundary
                .checked_add_secs(-offset)
                .map_or(host, |b| b.min(host));
            let end = if end > t { end } else { host };
            let secs = end.checked_secs_since(t).unwrap_or(0);
            let pulses = if self.relay_closed() {
                let ws = u64::from(self.config.load_watts)
                    .saturating_mul(secs.unsigned_abs())
                    .saturating_mul(u64::from(self.config.constant));
                let total = self.pulse_remainder.saturating_add(ws);
                self.pulse_remainder = total % WS_PER_KWH;
                u32::try_from(total / WS_PER_KWH).unwrap_or(u32::MAX)
            } else {
                0
            };
            self.tick(end, pulses);
            self.customer(end);
            t = end;
        }
        self.readings();
    }

    /// The simulated customer: presses the reconnect button when the account allows it.
    fn customer(&mut self, host: Timestamp) {
        if matches!(self.meter.account().relay(), RelayState::Ready(_)) {
            let actions = self.meter.button(host);
            self.act(actions);
        }
    }

    /// Handles one request frame received at host time `host` (the load must have been
    /// advanced to it): the answer, once what it changed is committed.
    pub fn handle(&mut self, frame: &[u8], host: Timestamp) -> Option<Vec<u8>> {
        let actions = self.meter.receive(host, frame, &mut OsRandom);
        self.act(actions);
        let answer = self.meter.transmit().map(<[u8]>::to_vec);
        self.readings();
        answer
    }

    /// `true` while the relay is closed.
    pub fn relay_closed(&self) -> bool {
        self.meter.contacts() == Contacts::Closed
    }

    /// The security state as the store holds it (what a restart comes back with).
    pub fn stored_security(&mut self) -> Result<SecurityState, String> {
        let mut buf = vec![0u8; usize::from(MAX_PAYLOADS[0])];
        let n = self
            .store
            .read(Area::Hot.index(), &mut buf)
            .map_err(|e| e.to_string())?
            .ok_or("nothing stored")?;
        let hot = MeterState::parse(buf.get(..n).unwrap_or_default()).map_err(|e| e.to_string())?;
        Ok(hot.security)
    }

    /// A power cycle: the power-fail save, then the meter rebuilt from what the flash holds
    /// (the flash read afresh, the provisioned keys and tariff behind any stored ones). Any
    /// session ends. The load resumes from the last call.
    pub fn restart(&mut self) -> Result<Started, String> {
        let actions = self.meter.power_fail(self.host_last);
        self.act(actions);
        if !self.meter.unsaved().is_empty() {
            return Err("the power-fail save did not complete".into());
        }
        let (mut store, found) =
            MeterStore::open(self.store.medium().clone(), &layout()).map_err(|e| e.to_string())?;
        let mut buf = vec![0u8; store_buffer_len()];
        let (config, keys, tariff) = parts(&self.config)?;
        let mut slot: Option<Meter> = None;
        let started = persist::start(
            &mut slot,
            &mut store,
            found,
            &mut buf,
            &config,
            keys,
            &tariff,
            self.host_last,
        )
        .map_err(|e| e.to_string())?;
        let meter = slot.ok_or("no meter after start-up")?;
        if started != Started::Restored {
            log::warn!("restart: {started:?}");
        }
        *self.meter = meter;
        self.store = store;
        self.readings();
        Ok(started)
    }
}

/// Room for the largest area's record, for [`persist::start`] (it reads one area at a time).
fn store_buffer_len() -> usize {
    MAX_PAYLOADS
        .iter()
        .map(|&n| usize::from(n))
        .max()
        .unwrap_or(0)
}

/// The meter's configuration, its provisioned keys and its tariff, from the example's.
fn parts(config: &Config) -> Result<(MeterConfig, KeyRecord, Tariff), String> {
    let constant = MeterConstant::new(config.constant).map_err(|e| e.to_string())?;
    let yuan = |y: i64| Money::from_minor(y * Money::MINOR_PER_UNIT);
    let limits = Limits {
        alarm1: yuan(20),       // 04001001
        alarm2: yuan(10),       // 04001002
        overdraft: yuan(50),    // 04001003: may go down to -50.00
        hoarding: yuan(10_000), // 04001004
        reconnect: yuan(0),     // 04001005
    };
    let mut meter = MeterConfig::new(config.address, constant, AccountConfig::local(limits));
    meter.server = ServerConfig {
        preamble: 4,
        plaintext: if config.plaintext {
            PlaintextPolicy::ALL
        } else {
            PlaintextPolicy::NONE
        },
        ..ServerConfig::default()
    };
    let keys = MasterKey::new(&config.master, SecurityConfig::DEFAULT.tag_len())
        .meter_keys(config.address, KEY_VERSION);
    let tariff = tariff_plan(&config.prices, config.tiers)?;
    Ok((meter, KeyRecord::new(KEY_VERSION, &keys), tariff))
}

/// The node shared by every connection (TCP clients, the serial device): one lock over the
/// meter and its store, so each request is answered whole.
pub type Shared = Arc<Mutex<Node>>;

/// A simulated meter commissioned at host time `now`, behind a DL/T 645 server answering with
/// 4 preamble bytes, with plaintext compatibility as `config.plaintext` says.
pub fn shared(config: &Config, now: Timestamp) -> Result<Shared, String> {
    Ok(Arc::new(Mutex::new(Node::new(config, now)?)))
}

/// Answers one request frame received at host time `host`.
pub fn answer(node: &Shared, frame: &[u8], host: Timestamp) -> Option<Vec<u8>> {
    let mut node = node.lock().unwrap_or_else(|p| p.into_inner());
    node.advance(host);
    let answer = node.handle(frame, host);
    if log::log_enabled!(log::Level::Info) {
        log::info!("{}", describe(frame, answer.as_deref()));
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
    node: &Shared,
    input: R,
    output: W,
    clock: impl Fn() -> Timestamp,
) -> std::io::Result<()> {
    let mut reader = FrameReader::new(FromStd::new(input));
    let mut writer = FrameWriter::new(FromStd::new(output));
    loop {
        let frame = match reader.read_frame() {
            Ok(f) => f,
            Err(ReadError::Eof) => return Ok(()),
            Err(ReadError::Io(e)) => return Err(e),
        };
        if let Some(bytes) = answer(node, frame.as_bytes(), clock()) {
            writer
                .send_raw(&bytes)
                .map_err(|e| std::io::Error::other(e.to_string()))?;
        }
    }
}
