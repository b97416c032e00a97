//! The simulated system: a head-end, a concentrator and the scenario's meters on an in-memory
//! bus, stepped through simulated time.

use alloc::boxed::Box;
use alloc::vec::Vec;
use core::convert::Infallible;
use core::fmt;

use alloc::string::{String, ToString};

use super::load::{LoadedMeter, Stepping};
use super::scenario::{HOARDING, MeterSpec, Scenario, format_rfc3339};
use crate::account::{Config, Contacts, Limits};
use crate::address::Address;
use crate::concentrator::{
    Concentrator, ConcentratorConfig, ConcentratorError, Event as ConcEvent, MAX_FORWARD_LEN,
    MeterEntry, Poll,
};
use crate::headend::{
    self, Alerts, CampaignId, HeadEnd, HeadEndConfig, HeadEndError, MemoryLedger, MeterRecord,
    Notification, NotificationKind, PaymentId, Reading,
};
use crate::meter::{KeyRecord, Meter, MeterConfig, StartError, Stored};
use crate::metering::Flow;
use crate::purchase::CustomerNumber;
use crate::security::{MasterKey, SecurityConfig};
use crate::time::{Duration, Instant, Timestamp, UtcOffset};
use crate::units::{Energy, Money, Price};

/// The channels (RS485 buses) of the simulated concentrator; meter `i` is on `i % CHANNELS`.
pub const CHANNELS: usize = 4;
/// The concentrator's poll interval.
pub const POLL_MINUTES: i64 = 15;
/// The system (head-end, concentrator, buttons) runs at each poll and each scheduled instant.
const SYSTEM_SECS: i64 = POLL_MINUTES * 60;

type SimConcentrator = Concentrator<{ super::scenario::MAX_METERS }, CHANNELS, 8>;
type SimHeadEnd = HeadEnd<MemoryLedger, Vec<Notification>>;

/// Why a simulation could not be built or run. Each is a defect of the system, not of the
/// scenario (a checked [`Scenario`] always builds).
#[derive(Debug)]
#[non_exhaustive]
pub enum SimError {
    /// A meter refused its configuration.
    Meter(Address, StartError),
    /// The head-end refused an operation.
    HeadEnd(HeadEndError<<MemoryLedger as headend::Ledger>::Error>),
    /// The concentrator refused an operation.
    Concentrator(ConcentratorError),
    /// The account limits were refused.
    Limits(Address),
}

impl fmt::Display for SimError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            SimError::Meter(a, e) => write!(f, "meter {a}: {e}"),
            SimError::HeadEnd(e) => write!(f, "head-end: {e}"),
            SimError::Concentrator(e) => write!(f, "concentrator: {e}"),
            SimError::Limits(a) => write!(f, "meter {a}: the account limits were refused"),
        }
    }
}

impl core::error::Error for SimError {}

impl From<HeadEndError<<MemoryLedger as headend::Ledger>::Error>> for SimError {
    fn from(e: HeadEndError<<MemoryLedger as headend::Ledger>::Error>) -> Self {
        SimError::HeadEnd(e)
    }
}

/// Something that happened, for the timeline.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Happening {
    /// When.
    pub at: Timestamp,
    /// The meter it concerns, if one.
    pub meter: Option<Address>,
    /// What.
    pub what: What,
}

/// What happened.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum What {
    /// The customer paid at the head-end.
    Paid {
        /// The ledger's payment.
        payment: PaymentId,
        /// The amount.
        amount: Money,
    },
    /// The head-end notified the customer (the SMS).
    Notified(NotificationKind),
    /// The meter tripped its relay: the supply is cut off.
    RelayOpened,
    /// The relay closed again (the customer's button after a recharge).
    RelayClosed,
    /// The head-end started a price campaign.
    Campaign {
        /// The campaign.
        campaign: CampaignId,
        /// The new TOU prices.
        prices: Vec<Price>,
    },
    /// The meter confirmed every price of a campaign.
    CampaignConfirmed(CampaignId),
    /// The concentrator confirmed a change of the meter's credit level over repeated
    /// readings and reported it upstream.
    AlarmReported(crate::concentrator::CreditLevel),
    /// A reading did not agree with the shadow account.
    Discrepancy {
        /// The meter's balance.
        meter: Money,
        /// The shadow account's.
        shadow: Money,
    },
}

/// A meter's balance and energy at an instant (each hour, at every relay movement and
/// after every notification).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Sample {
    /// When.
    pub at: Timestamp,
    /// The meter's balance.
    pub balance: Money,
    /// Its forward active energy register.
    pub energy: Energy,
}

/// The closing state of one meter.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct MeterOutcome {
    /// The meter.
    pub address: Address,
    /// Forward active energy, total.
    pub energy: Energy,
    /// Forward active energy of tariffs 1..4.
    pub energy_by_tariff: [Energy; 4],
    /// The money its consumption was debited (and any standing charge).
    pub spent: Money,
    /// The credit bought: the opening credit and every purchase the meter applied.
    pub purchased: Money,
    /// The meter's balance.
    pub balance: Money,
    /// The head-end's shadow account's balance (as of its last reading).
    pub shadow_balance: Money,
    /// The relay.
    pub relay: Contacts,
    /// Low-credit notifications sent (alarm 1 and alarm 2 crossings).
    pub low_credit_alerts: u32,
    /// When the supply was last cut off.
    pub cut_off_at: Option<Timestamp>,
}

/// The closing state of a run: every meter's, in the scenario's order.
///
/// Serialized (feature `serde`, which `sim` enables) as the `simulate` example's `--json`
/// prints it, a documented interface: `{"meters": [{"address", "energy_kwh",
/// "energy_by_tariff_kwh" (tariffs 1..4), "spent", "purchased", "balance", "shadow_balance",
/// "relay" ("closed" or "open"), "low_credit_alerts", "cut_off_at" (local RFC 3339, or
/// null)}]}`, energy in kWh with three decimals and money with four, as strings.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Outcome {
    /// The local time of `cut_off_at`.
    pub offset: UtcOffset,
    /// Each meter's closing state.
    pub meters: Vec<MeterOutcome>,
}

impl serde::Serialize for Outcome {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        #[derive(serde::Serialize)]
        struct Json {
            meters: Vec<JsonMeter>,
        }
        #[derive(serde::Serialize)]
        struct JsonMeter {
            address: String,
            energy_kwh: String,
            energy_by_tariff_kwh: [String; 4],
            spent: String,
            purchased: String,
            balance: String,
            shadow_balance: String,
            relay: &'static str,
            low_credit_alerts: u32,
            cut_off_at: Option<String>,
        }
        let kwh = |e: Energy| e.to_string().trim_end_matches(" kWh").to_string();
        Json {
            meters: self
                .meters
                .iter()
                .map(|m| JsonMeter {
                    address: m.address.to_string(),
                    energy_kwh: kwh(m.energy),
                    energy_by_tariff_kwh: m.energy_by_tariff.map(kwh),
                    spent: m.spent.to_string(),
                    purchased: m.purchased.to_string(),
                    balance: m.balance.to_string(),
                    shadow_balance: m.shadow_balance.to_string(),
                    relay: match m.relay {
                        Contacts::Closed => "closed",
                        Contacts::Open => "open",
                    },
                    low_credit_alerts: m.low_credit_alerts,
                    cut_off_at: m.cut_off_at.map(|t| format_rfc3339(t, self.offset)),
                })
                .collect(),
        }
        .serialize(serializer)
    }
}

/// One meter of the system: the meter with its load, and what the simulation notes of it.
struct SimMeter {
    m: LoadedMeter,
    address: Address,
    channel: u8,
    /// When it is ticked next (between the system's instants).
    next_tick: Option<Timestamp>,
    cut_off_at: Option<Timestamp>,
    low_credit_alerts: u32,
    samples: Vec<Sample>,
}

impl SimMeter {
    fn sample(&mut self, at: Timestamp) {
        let meter = self.m.meter();
        self.samples.push(Sample {
            at,
            balance: meter.account().balance(),
            energy: meter.registers().total(Flow::Import),
        });
    }
}

/// A deterministic random source for the meters' challenges: predictable, for simulation
/// only.
struct SimRng(u64);

impl rand_core::TryRng for SimRng {
    type Error = Infallible;
    fn try_next_u32(&mut self) -> Result<u32, Infallible> {
        Ok((self.try_next_u64()? >> 32) as u32)
    }
    fn try_next_u64(&mut self) -> Result<u64, Infallible> {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        Ok(z ^ (z >> 31))
    }
    fn try_fill_bytes(&mut self, dst: &mut [u8]) -> Result<(), Infallible> {
        for chunk in dst.chunks_mut(8) {
            let bytes = self.try_next_u64()?.to_le_bytes();
            for (d, s) in chunk.iter_mut().zip(bytes) {
                *d = s;
            }
        }
        Ok(())
    }
}

impl rand_core::TryCryptoRng for SimRng {}

/// A scenario being run: the head-end, the concentrator and the meters, and what happened so
/// far.
///
/// ```
/// use prepaid_meter::sim::{Scenario, Simulation};
/// let scenario = Scenario::parse(r#"
///     format = 1
///     start = "2027-03-01T00:00:00+08:00"
///     days = 1
///     [tariff]
///     prices = ["1.2000", "0.9000", "0.6000", "0.3000"]
///     day = [["00:00", 4], ["08:00", 3]]
///     [[meter]]
///     address = "202700000001"
///     constant = 1000
///     opening_credit = "10.00"
///     alarm1 = "5.00"
///     alarm2 = "2.00"
///     overdraft = "1.00"
///     load = 500
/// "#)?;
/// let mut sim = Simulation::new(&scenario)?;
/// sim.run()?;
/// let m = &sim.outcome().meters[0];
/// // 8 h at 0.30 and 16 h at 0.60 per kWh, 500 W: 1.20 + 4.80.
/// assert_eq!(m.energy.wh(), 12_000);
/// assert_eq!(m.spent.minor(), 60_000);
/// assert_eq!(m.balance, m.shadow_balance);
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub struct Simulation {
    scenario: Scenario,
    stepping: Stepping,
    head: SimHeadEnd,
    conc: Box<SimConcentrator>,
    meters: Vec<SimMeter>,
    rng: SimRng,
    now: Timestamp,
    end: Timestamp,
    next_system: Timestamp,
    next_purchase: usize,
    next_change: usize,
    notified: usize,
    timeline: Vec<Happening>,
    started: bool,
}

impl Simulation {
    /// The system of `scenario` at its start, stepped by events.
    pub fn new(scenario: &Scenario) -> Result<Simulation, SimError> {
        Simulation::with_stepping(scenario, Stepping::Horizon)
    }

    /// The system of `scenario` at its start, stepped as `stepping` says.
    pub fn with_stepping(scenario: &Scenario, stepping: Stepping) -> Result<Simulation, SimError> {
        let master = MasterKey::new(&[0x5A; 16], SecurityConfig::DEFAULT.tag_len());
        let start = scenario.start;
        let head = HeadEnd::new(HeadEndConfig::default(), MemoryLedger::new(), Vec::new())?;
        let conc = Box::new(
            SimConcentrator::new(ConcentratorConfig {
                confirm: 2,
                poll_interval: Duration::from_secs(POLL_MINUTES as u64 * 60),
                timeout: Duration::from_millis(2_000),
                retries: 2,
            })
            .map_err(SimError::Concentrator)?,
        );
        let mut sim = Simulation {
            scenario: scenario.clone(),
            stepping,
            head,
            conc,
            meters: Vec::new(),
            rng: SimRng(0x2027_0301),
            now: start,
            end: scenario.end(),
            next_system: start,
            next_purchase: 0,
            next_change: 0,
            notified: 0,
            timeline: Vec::new(),
            started: false,
        };
        for (i, spec) in scenario.meters.iter().enumerate() {
            sim.add(&master, spec, i)?;
        }
        Ok(sim)
    }

    fn add(&mut self, master: &MasterKey, spec: &MeterSpec, i: usize) -> Result<(), SimError> {
        let address = spec.address;
        let limits = Limits {
            alarm1: spec.alarm1,
            alarm2: spec.alarm2,
            overdraft: spec.overdraft,
            hoarding: HOARDING,
            reconnect: Money::ZERO,
        };
        limits.validate().map_err(|_| SimError::Limits(address))?;
        let mut account = Config::local(limits);
        account.offset = self.scenario.offset;
        let keys = KeyRecord::new(1, &master.meter_keys(address, 1));
        let config = MeterConfig::new(address, spec.constant, account.clone());
        let (meter, _) = Meter::start(
            config,
            keys,
            self.scenario.tariff.clone(),
            Stored::NONE,
            self.now,
        )
        .map_err(|e| SimError::Meter(address, e))?;
        self.head.add_meter(MeterRecord {
            address,
            customer: customer_of(address),
            sealer: master.meter(address, 1),
            tariff: self.scenario.tariff.clone(),
            account,
            alerts: Alerts {
                alarm1: spec.alarm1,
                alarm2: spec.alarm2,
                overdraft: spec.overdraft,
            },
        })?;
        let channel = u8::try_from(i % CHANNELS).unwrap_or(0);
        self.conc
            .add_meter(MeterEntry {
                address,
                channel,
                low_credit: spec.alarm1,
            })
            .map_err(SimError::Concentrator)?;
        let mut m = SimMeter {
            m: LoadedMeter::new(meter, spec.load, self.scenario.offset, self.now),
            address,
            channel,
            next_tick: None,
            cut_off_at: None,
            low_credit_alerts: 0,
            samples: Vec::new(),
        };
        m.sample(self.now);
        self.meters.push(m);
        Ok(())
    }

    /// The scenario.
    pub fn scenario(&self) -> &Scenario {
        &self.scenario
    }

    /// The simulated time.
    pub fn now(&self) -> Timestamp {
        self.now
    }

    /// Whether the run has reached its end.
    pub fn is_done(&self) -> bool {
        self.started && self.now >= self.end
    }

    /// The head-end (its ledger, shadow accounts, campaigns and notifications).
    pub fn head_end(&self) -> &HeadEnd<MemoryLedger, Vec<Notification>> {
        &self.head
    }

    /// The meter `address`, as its firmware would hold it.
    pub fn meter(&self, address: Address) -> Option<&Meter> {
        self.meters
            .iter()
            .find(|m| m.address == address)
            .map(|m| m.m.meter())
    }

    /// What happened so far, in time order.
    pub fn timeline(&self) -> &[Happening] {
        &self.timeline
    }

    /// The balance and energy of meter `address`, in time order: each hour, at every relay
    /// movement and after every notification.
    pub fn samples(&self, address: Address) -> &[Sample] {
        self.meters
            .iter()
            .find(|m| m.address == address)
            .map_or(&[], |m| &m.samples)
    }

    /// Runs to the end.
    pub fn run(&mut self) -> Result<(), SimError> {
        while self.step()? {}
        Ok(())
    }

    /// Runs until `until` (or the end); `false` once the end is reached.
    pub fn run_until(&mut self, until: Timestamp) -> Result<bool, SimError> {
        while self.now < until {
            if !self.step()? {
                return Ok(false);
            }
        }
        Ok(!self.is_done())
    }

    /// Advances to the next instant at which anything happens; `false` once the end is
    /// reached (nothing was done).
    pub fn step(&mut self) -> Result<bool, SimError> {
        if !self.started {
            self.started = true;
            self.next_system = self.now.checked_add_secs(SYSTEM_SECS).unwrap_or(self.end);
            self.open_accounts()?;
            self.system_instant()?;
            return Ok(true);
        }
        if self.now >= self.end {
            return Ok(false);
        }
        let soonest = self.now.checked_add_secs(1).unwrap_or(self.end);
        let scheduled = [
            self.scenario
                .purchases
                .get(self.next_purchase)
                .map(|p| p.at),
            self.scenario
                .price_changes
                .get(self.next_change)
                .map(|c| c.at),
        ];
        let mut system = self.next_system.min(self.end);
        for t in scheduled.into_iter().flatten() {
            system = system.min(t.max(soonest));
        }
        let meter = self.meters.iter().filter_map(|m| m.next_tick).min();
        let next = meter.map_or(system, |t| t.max(soonest).min(system));
        self.now = next;
        if next == self.next_system {
            self.next_system = next.checked_add_secs(SYSTEM_SECS).unwrap_or(self.end);
        }
        if next == system {
            self.system_instant()?;
            return Ok(true);
        }
        let stepping = self.stepping;
        for i in 0..self.meters.len() {
            if self
                .meters
                .get(i)
                .and_then(|m| m.next_tick)
                .is_some_and(|t| t <= next)
            {
                self.tick(i);
                if let Some(m) = self.meters.get_mut(i) {
                    m.next_tick = m.m.next_tick(stepping);
                }
            }
        }
        Ok(true)
    }

    /// Pays every meter's opening credit (at the start).
    fn open_accounts(&mut self) -> Result<(), SimError> {
        let now = self.now;
        for (m, spec) in self.meters.iter().zip(&self.scenario.meters) {
            if spec.opening_credit.is_positive() {
                let payment = self.head.pay(m.address, spec.opening_credit, now)?;
                self.timeline.push(Happening {
                    at: now,
                    meter: Some(m.address),
                    what: What::Paid {
                        payment,
                        amount: spec.opening_credit,
                    },
                });
            }
        }
        Ok(())
    }

    /// Ticks meter `i` at `now` with the pulses of its load since its last tick.
    fn tick(&mut self, i: usize) {
        let now = self.now;
        let Some(m) = self.meters.get_mut(i) else {
            return;
        };
        let a = m.m.tick(now);
        m.m.meter_mut().saved(a.save);
        if let Some(drive) = a.drive {
            self.relay_moved(i, drive);
        }
    }

    fn relay_moved(&mut self, i: usize, drive: Contacts) {
        let now = self.now;
        let Some(m) = self.meters.get_mut(i) else {
            return;
        };
        let what = match drive {
            Contacts::Open => {
                m.cut_off_at = Some(now);
                What::RelayOpened
            }
            Contacts::Closed => What::RelayClosed,
        };
        m.sample(now);
        let meter = Some(m.address);
        self.timeline.push(Happening {
            at: now,
            meter,
            what,
        });
    }

    /// Every meter ticked, then the scheduled payments and campaigns, the head-end's and the
    /// concentrator's traffic, and the customers' buttons.
    fn system_instant(&mut self) -> Result<(), SimError> {
        let now = self.now;
        // (At the start the meters have just been started at this instant.)
        if now > self.scenario.start {
            for i in 0..self.meters.len() {
                self.tick(i);
            }
        }
        while let Some(p) = self.scenario.purchases.get(self.next_purchase).copied() {
            if p.at > now {
                break;
            }
            self.next_purchase += 1;
            let payment = self.head.pay(p.meter, p.amount, now)?;
            self.timeline.push(Happening {
                at: now,
                meter: Some(p.meter),
                what: What::Paid {
                    payment,
                    amount: p.amount,
                },
            });
        }
        while let Some(c) = self.scenario.price_changes.get(self.next_change).cloned() {
            if c.at > now {
                break;
            }
            self.next_change += 1;
            let addresses: Vec<Address> = self.meters.iter().map(|m| m.address).collect();
            let campaign = self.head.campaign(now, &c.prices, &addresses)?;
            self.timeline.push(Happening {
                at: now,
                meter: None,
                what: What::Campaign {
                    campaign,
                    prices: c.prices.to_vec(),
                },
            });
        }
        self.exchange()?;
        self.take_notifications();
        // The customer presses the button whenever the supply is off; the meter decides.
        for i in 0..self.meters.len() {
            let Some(m) = self.meters.get_mut(i) else {
                continue;
            };
            if m.m.meter().contacts() == Contacts::Open {
                let meter = m.m.meter_mut();
                let a = meter.button(now);
                meter.saved(a.save);
                if let Some(drive) = a.drive {
                    self.relay_moved(i, drive);
                }
            }
        }
        let hourly = now
            .local_seconds_of_day(self.scenario.offset)
            .is_multiple_of(3600);
        let stepping = self.stepping;
        for m in &mut self.meters {
            if hourly || now >= self.end {
                m.sample(now);
            }
            m.next_tick = m.m.next_tick(stepping);
        }
        Ok(())
    }

    fn take_notifications(&mut self) {
        let notes = self.head.notifier();
        for n in notes.get(self.notified..).unwrap_or(&[]) {
            if let NotificationKind::LowCredit { .. } = n.kind
                && let Some(m) = self.meters.iter_mut().find(|m| m.address == n.meter)
            {
                m.low_credit_alerts = m.low_credit_alerts.saturating_add(1);
            }
            if let Some(m) = self.meters.iter_mut().find(|m| m.address == n.meter) {
                m.sample(self.now);
            }
            self.timeline.push(Happening {
                at: n.at,
                meter: Some(n.meter),
                what: What::Notified(n.kind),
            });
        }
        self.notified = notes.len();
    }

    fn instant(&self) -> Instant {
        let secs = self.now.unix().saturating_sub(self.scenario.start.unix());
        Instant::from_millis(u64::try_from(secs).unwrap_or(0).saturating_mul(1_000))
    }

    /// The head-end's frames and the concentrator's traffic at this instant, until the
    /// head-end has nothing more to send now (a command answered at once lets the next go).
    fn exchange(&mut self) -> Result<(), SimError> {
        for _ in 0..64 {
            let outgoing = self.head.outgoing(self.now)?;
            let more = !outgoing.is_empty();
            for o in outgoing {
                if self.conc.forward(o.meter, &o.frame, o.tag).is_err() {
                    // The queue is full: the head-end sends it again later.
                    self.head.forward_failed(o.tag);
                }
            }
            self.traffic()?;
            if !more {
                break;
            }
        }
        Ok(())
    }

    /// The concentrator's traffic until it is idle: each frame goes to the meters on its
    /// channel, and the one addressed answers.
    fn traffic(&mut self) -> Result<(), SimError> {
        let now = self.now;
        let instant = self.instant();
        let mut out = [0u8; MAX_FORWARD_LEN];
        for _ in 0..10_000 {
            match self.conc.poll(instant, &mut out) {
                Poll::Send { channel, len } => {
                    let sent = out.get(..len).unwrap_or(&[]);
                    let mut answer: Option<Vec<u8>> = None;
                    for m in self.meters.iter_mut().filter(|m| m.channel == channel) {
                        let meter = m.m.meter_mut();
                        let a = meter.receive(now, sent, &mut self.rng);
                        meter.saved(a.save);
                        if let Some(t) = meter.transmit() {
                            answer = Some(t.to_vec());
                        }
                    }
                    let Some(answer) = answer else { continue };
                    let event = self
                        .conc
                        .receive(instant, channel, &answer)
                        .and_then(|e| owned(&e));
                    self.take(event)?;
                }
                Poll::Event(e) => {
                    let e = owned(&e);
                    self.take(e)?;
                }
                Poll::Idle { .. } => break,
            }
        }
        Ok(())
    }

    fn take(&mut self, event: Option<Owned>) -> Result<(), SimError> {
        let now = self.now;
        let events = match event {
            Some(Owned::Read(address, r, alarm)) => {
                if let Some(level) = alarm {
                    self.timeline.push(Happening {
                        at: now,
                        meter: Some(address),
                        what: What::AlarmReported(level),
                    });
                }
                self.head
                    .reading(address, Reading::from_concentrator(&r, now))?
            }
            Some(Owned::Forwarded(tag, answer)) => self.head.answer(tag, &answer, now)?,
            Some(Owned::Failed(tag)) => {
                self.head.forward_failed(tag);
                Vec::new()
            }
            None => Vec::new(),
        };
        for e in events {
            match e {
                headend::Event::CampaignConfirmed { campaign, meter } => {
                    self.timeline.push(Happening {
                        at: now,
                        meter: Some(meter),
                        what: What::CampaignConfirmed(campaign),
                    });
                }
                headend::Event::Discrepancy {
                    meter,
                    reconciliation,
                } => self.timeline.push(Happening {
                    at: now,
                    meter: Some(meter),
                    what: What::Discrepancy {
                        meter: reconciliation.meter,
                        shadow: reconciliation.shadow,
                    },
                }),
                _ => {}
            }
        }
        Ok(())
    }

    /// The closing state of every meter (as of now), in the scenario's order.
    pub fn outcome(&self) -> Outcome {
        let meters = self
            .meters
            .iter()
            .map(|m| {
                let meter = m.m.meter();
                let totals = meter.account().totals();
                let registers = meter.registers().tariffs(Flow::Import);
                let mut energy_by_tariff = [Energy::ZERO; 4];
                for (e, r) in energy_by_tariff.iter_mut().zip(registers.iter()) {
                    *e = *r;
                }
                MeterOutcome {
                    address: m.address,
                    energy: meter.registers().total(Flow::Import),
                    energy_by_tariff,
                    spent: totals.consumed.saturating_add(totals.standing),
                    purchased: totals.opening.saturating_add(totals.recharged),
                    balance: meter.account().balance(),
                    shadow_balance: self
                        .head
                        .shadow(m.address)
                        .map_or(Money::ZERO, |s| s.balance()),
                    relay: meter.contacts(),
                    low_credit_alerts: m.low_credit_alerts,
                    cut_off_at: m.cut_off_at,
                }
            })
            .collect();
        Outcome {
            offset: self.scenario.offset,
            meters,
        }
    }
}

/// Each simulated customer's number: the meter's address.
fn customer_of(address: Address) -> CustomerNumber {
    CustomerNumber::new(address.to_be_bytes())
}

enum Owned {
    Read(
        Address,
        crate::concentrator::Readings,
        Option<crate::concentrator::CreditLevel>,
    ),
    Forwarded(u32, Vec<u8>),
    Failed(u32),
}

fn owned(e: &ConcEvent<'_>) -> Option<Owned> {
    match e {
        ConcEvent::Read {
            address,
            readings,
            alarm,
            ..
        } => Some(Owned::Read(*address, *readings, alarm.map(|a| a.to))),
        ConcEvent::Forwarded { tag, answer, .. } => Some(Owned::Forwarded(*tag, answer.to_vec())),
        ConcEvent::ForwardFailed { tag, .. } => Some(Owned::Failed(*tag)),
        _ => None,
    }
}
