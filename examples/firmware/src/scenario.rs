//! The scripted scenario: a prepaid household meter's day and a half, as a list of actions
//! and the values expected after each ([`SCRIPT`]).
//!
//! The meter is assembled from the crate's engines (the steps of the crate's getting-started
//! example): the pulse line is sampled by `hal::PulseInput` into a `metering::PulseCounter`;
//! every 0.5 s the main loop turns the pulses into exact watt-hours
//! (`metering::EnergyAccumulator`), rates them (`tariff::Rater`), adds them to the registers
//! and debits the `account::MoneyAccount`, whose `Effects` drive the relay. Purchases arrive
//! as DL/T 645 03H frames carrying a command sealed by the head-end (`security::MasterKey`),
//! which the meter decodes with the wire layer and opens with its `security::MeterSecurity`.
//! The hot state is saved in a `storage::MeterStore` on the emulated NOR flash (`Nor`) after
//! every purchase and relay change, every 0.01 kWh or 15 minutes, and when the power fails;
//! a restart restores every engine from it.
//!
//! The script is data: each step is an [`Action`] and an [`Expect`]ation, checked after the
//! action. Only [`Meter`] knows the engines, so it can be replaced by the application layer's
//! `meter::Meter` without touching the script or the harness.

use prepaid_meter::account::{
    AccountState, AlarmFlags, Config, Contacts, Effects, Limits, MoneyAccount, RelayState,
    TripReason,
};
use prepaid_meter::address::Address;
use prepaid_meter::endpoint::dlt645::Client;
use prepaid_meter::hal::{ActiveLevel, PulseInput};
use prepaid_meter::metering::{
    EnergyAccumulator, EnergyAccumulatorState, EnergyRegisters, EnergyRegistersState, Flow,
    GlitchFilter, MeterConstant, PulseCounter,
};
use prepaid_meter::purchase::{CustomerNumber, Purchase};
use prepaid_meter::security::{
    Command, CommandCounter, MasterKey, MeterSecurity, SecurityConfig, SecurityState,
    SoftwareModule,
};
use prepaid_meter::snapshot::Snapshot;
use prepaid_meter::storage::{AreaLayout, Found, MeterStore, Nor, SavePolicy};
use prepaid_meter::tariff::{
    Calendar, DayTable, MonthDay, Rater, RaterState, Season, SwitchPoint, Tariff, TariffSet, Tiers,
    WeekRule,
};
use prepaid_meter::time::{Instant, Timestamp, UtcOffset};
use prepaid_meter::units::{Energy, Money, Price};
use prepaid_meter::wire::dlt645::{Di, Frame, FrameRepr, Request, skip_preamble};

use crate::pins::PulsePin;
use crate::{Board, Flash, say};

/// The meter constant, imp/kWh.
pub const METER_CONSTANT: u32 = 1600;
/// The flat tariff's price: 0.5283 yuan/kWh.
const PRICE: u32 = 5_283;
/// The meter's address.
const ADDRESS: u64 = 201_000_000_012;
/// The test master key (never for real meters).
const MASTER: [u8; 16] = [0x42; 16];
const KEY_VERSION: u16 = 1;
const CUSTOMER: CustomerNumber = CustomerNumber::new([0x01, 0, 0, 0, 0, 0]);
/// 2025-12-01 08:00 at UTC+8.
const T0: i64 = 1_764_547_200;
/// The main loop's period.
const TICK_US: u64 = 500_000;
/// 03H open account and recharge.
const OPEN_ACCOUNT: Di = Di(0x0701_01FF);
const RECHARGE: Di = Di(0x0701_02FF);
/// One area, the root: the hot state (about 330 bytes) in 4 sectors of 1 KiB, one slot each.
const LAYOUT: [AreaLayout; 1] = [AreaLayout {
    base: 0,
    len: 4096,
    max_payload: 448,
}];
const HOT_MAX: usize = 420;

/// The tariff capacities this meter supports: 4 seasons, 2 day tables of 8 switch points, 4
/// tariffs (sharp, peak, flat, valley) and 16 special days. (The crate's defaults are
/// DL/T 645's full 14 seasons, 8 day tables of 14 points and 254 special days: 3.3 KiB.)
type MeterTariff = Tariff<4, 2, 8, 4, 16>;

const fn yuan(units: i64) -> i64 {
    units * Money::MINOR_PER_UNIT
}

/// What the scenario does at a step.
#[derive(Clone, Copy, Debug)]
pub enum Action {
    /// Power on: the meter starts from what the flash holds.
    Boot(Start),
    /// The head-end sells `yuan` as purchase `count` (1 opens the account): a sealed command
    /// in a DL/T 645 03H frame on the RS485 line.
    Purchase { count: u32, yuan: i64 },
    /// A constant load of `watts` for `minutes` (drawn only while the relay is closed).
    Load { watts: u32, minutes: u32 },
    /// The supply fails: the power-fail signal saves the hot state, then the MCU stops.
    PowerCut,
    /// The customer presses the reconnect button.
    Button,
}

/// What a boot is expected to find in the flash.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Start {
    /// Nothing: a new meter.
    Fresh,
    /// The state saved before the power cut, intact.
    Restored,
}

/// The meter's state after a step.
#[derive(Clone, Copy, Debug)]
pub struct Expect {
    /// Forward active energy, total, in Wh.
    pub energy_wh: i64,
    /// The balance, in 1/10 000 yuan (negative in overdraft).
    pub balance: i64,
    /// The alarm flags.
    pub alarms: AlarmFlags,
    /// The account's relay state (the contacts must agree with it).
    pub relay: RelayState,
    /// Purchases applied.
    pub purchases: u32,
}

const NONE: AlarmFlags = AlarmFlags::NONE;
const LOW1: AlarmFlags = AlarmFlags::LOW_CREDIT_1;
const LOW12: AlarmFlags = LOW1.union(AlarmFlags::LOW_CREDIT_2);
const LOW12_OVER: AlarmFlags = LOW12.union(AlarmFlags::OVERDRAFT);
const CUT_OFF: AlarmFlags = LOW12_OVER.union(AlarmFlags::EXHAUSTED);

const fn expect(
    energy_wh: i64,
    balance: i64,
    alarms: AlarmFlags,
    relay: RelayState,
    purchases: u32,
) -> Expect {
    Expect {
        energy_wh,
        balance,
        alarms,
        relay,
        purchases,
    }
}

/// The script. Limits: alarm 1 at 20 yuan, alarm 2 at 10, overdraft down to -5 yuan,
/// reconnection above 1 yuan. Energy from the pulses: floor(pulses × 1000 / 1600) Wh; money:
/// floor(Wh × 5283 / 1000) in total (the rater carries the remainders); the main loop debits
/// every 0.5 s, and the relay opens at the first debit that takes the balance to -5.0000 or
/// below. The expected values were worked out apart from the crate, by a model of just these
/// rules.
pub const SCRIPT: [(Action, Expect); 12] = {
    use Action::*;
    use RelayState::{Closed, Open, Ready};
    [
        // A new meter: no account yet; the alarm flags are derived at the first operation.
        (Boot(Start::Fresh), expect(0, 0, NONE, Closed, 0)),
        // Open the account with 30 yuan.
        (
            Purchase { count: 1, yuan: 30 },
            expect(0, yuan(30), NONE, Closed, 1),
        ),
        // 3 kW for 2 h: 9 600 pulses, 6.000 kWh, 3.1698 yuan.
        (
            Load {
                watts: 3000,
                minutes: 120,
            },
            expect(6_000, 268_302, NONE, Closed, 1),
        ),
        // 6 kW for 2.5 h: 15.000 kWh more; 18.9057 left, below alarm 1.
        (
            Load {
                watts: 6000,
                minutes: 150,
            },
            expect(21_000, 189_057, LOW1, Closed, 1),
        ),
        // 6 kW for 3 h: 18.000 kWh more; 9.3963 left, below alarm 2.
        (
            Load {
                watts: 6000,
                minutes: 180,
            },
            expect(39_000, 93_963, LOW12, Closed, 1),
        ),
        // 6 kW for 3 h: 18.000 kWh more; -0.1131, in overdraft.
        (
            Load {
                watts: 6000,
                minutes: 180,
            },
            expect(57_000, -1_131, LOW12_OVER, Closed, 1),
        ),
        // 6 kW for up to 4 h: the relay opens at the first debit to -5.0000 or below, after
        // 9.251 kWh more (14 802 pulses); no current, no pulses after that.
        (
            Load {
                watts: 6000,
                minutes: 240,
            },
            expect(66_251, -50_004, CUT_OFF, Open(TripReason::Credit), 1),
        ),
        // The power fails; at the restart the meter is where it was.
        (
            PowerCut,
            expect(66_251, -50_004, CUT_OFF, Open(TripReason::Credit), 1),
        ),
        (
            Boot(Start::Restored),
            expect(66_251, -50_004, CUT_OFF, Open(TripReason::Credit), 1),
        ),
        // 20 yuan repay the overdraft; 14.9996 left: reconnection allowed, alarm 1.
        (
            Purchase { count: 2, yuan: 20 },
            expect(66_251, 149_996, LOW1, Ready(TripReason::Credit), 2),
        ),
        // The customer presses the button: the supply is back.
        (Button, expect(66_251, 149_996, LOW1, Closed, 2)),
        // 2 kW for 30 min: 1.000 kWh, 0.5283 yuan.
        (
            Load {
                watts: 2000,
                minutes: 30,
            },
            expect(67_251, 144_713, LOW1, Closed, 2),
        ),
    ]
};

/// How the scenario went.
pub struct Outcome {
    /// Values checked.
    pub checks: u32,
    /// Values that differed from the script's.
    pub failed: u32,
}

/// The pulse counter shared with the (here: simulated) timer interrupt that samples the line.
static PULSES: PulseCounter = PulseCounter::new();

type Store = MeterStore<Nor<&'static mut Flash>>;
type Res<T> = Result<T, &'static str>;

/// The application: the crate's engines, joined as a firmware joins them.
struct Meter {
    store: Store,
    tariff: MeterTariff,
    rater: Rater,
    accumulator: EnergyAccumulator,
    registers: EnergyRegisters,
    account: MoneyAccount,
    security: MeterSecurity<SoftwareModule>,
    input: PulseInput<PulsePin>,
    /// Energy and time of the last save.
    saved: (Energy, Timestamp),
    commits: u32,
}

fn address() -> Res<Address> {
    Address::from_number(ADDRESS).map_err(|_| "address")
}

fn money(minor: i64) -> Money {
    Money::from_minor(minor)
}

fn account_config() -> Config<Money> {
    Config::local(Limits {
        alarm1: money(yuan(20)),
        alarm2: money(yuan(10)),
        overdraft: money(yuan(5)),
        hoarding: money(yuan(500)),
        reconnect: money(yuan(1)),
    })
}

fn flat_tariff() -> Res<MeterTariff> {
    let day: DayTable<8> = DayTable::new(&[SwitchPoint::new(0, 0, 1)]).map_err(|_| "day table")?;
    let season = Season {
        start: MonthDay::new(1, 1),
        week: WeekRule::uniform(1),
    };
    let calendar: Calendar<4, 2, 8> = Calendar::new(&[season], &[day]).map_err(|_| "calendar")?;
    let prices = [Price::from_minor_per_kwh(PRICE)];
    let set = TariffSet::new(calendar, &prices, Tiers::none()).map_err(|_| "tariff set")?;
    Tariff::new(UtcOffset::CHINA, &[], set).map_err(|_| "tariff")
}

fn security_module() -> SoftwareModule {
    // Provisioning: a real meter is given its derived keys at the factory; here the head-end's
    // test master key derives them at boot.
    let keys = MasterKey::new(&MASTER, SecurityConfig::DEFAULT.tag_len()).meter_keys(
        Address::from_number(ADDRESS).unwrap_or(Address::WILDCARD),
        KEY_VERSION,
    );
    SoftwareModule::new(KEY_VERSION, &keys)
}

/// The hot state: the stored forms of the engines' states, one after another.
fn encode_hot(
    account: &AccountState<Money>,
    security: &SecurityState,
    registers: &EnergyRegisters,
    accumulator: &EnergyAccumulator,
    rater: &Rater,
    out: &mut [u8; HOT_MAX],
) -> Res<usize> {
    let mut at = 0;
    put(account, out, &mut at)?;
    put(security, out, &mut at)?;
    put(&registers.state(), out, &mut at)?;
    put(&accumulator.state(), out, &mut at)?;
    put(&rater.state(), out, &mut at)?;
    Ok(at)
}

fn put<S: Snapshot>(state: &S, out: &mut [u8], at: &mut usize) -> Res<()> {
    let dst = out.get_mut(*at..).ok_or("hot state too long")?;
    let n = state.emit(dst).map_err(|_| "hot state too long")?;
    *at = at.saturating_add(n);
    Ok(())
}

/// The next stored form of a hot state: each says its own length (bytes 3 and 4).
fn take<'a>(hot: &mut &'a [u8]) -> Res<&'a [u8]> {
    let len = match hot.get(3..5) {
        Some(&[lo, hi]) => usize::from(u16::from_le_bytes([lo, hi])),
        _ => return Err("hot state truncated"),
    };
    let part = hot.get(..len).ok_or("hot state truncated")?;
    *hot = hot.get(len..).unwrap_or(&[]);
    Ok(part)
}

impl Meter {
    /// Starts the meter into `slot`, with the engines of a new meter, on the store in the
    /// flash; [`Meter::restore`] then restores them from what the store holds. (Two steps, so
    /// that neither needs the other's temporaries on the stack.)
    #[inline(never)]
    fn boot(slot: &mut Option<Meter>, flash: &'static mut Flash) -> Res<Found> {
        let (store, found) = MeterStore::open(Nor(flash), &LAYOUT).map_err(|_| "store open")?;
        let constant = MeterConstant::new(METER_CONSTANT).map_err(|_| "meter constant")?;
        let filter = GlitchFilter::from_max_power(constant, 13_200).map_err(|_| "filter")?;
        let tariff = flat_tariff()?;
        let account =
            MoneyAccount::new(account_config(), Money::ZERO).map_err(|_| "account config")?;
        let security = MeterSecurity::new(address()?, security_module(), SecurityConfig::DEFAULT)
            .map_err(|_| "security config")?;
        let m = slot.insert(Meter {
            store,
            tariff,
            rater: Rater::new(),
            accumulator: EnergyAccumulator::new(constant),
            registers: EnergyRegisters::new(),
            account,
            security,
            input: PulseInput::new(PulsePin, ActiveLevel::Low, filter),
            saved: (Energy::ZERO, Timestamp::from_unix(T0)),
            commits: 0,
        });
        // The first sample learns the idle level of the line, so the first pulse counts.
        let Ok(_) = m.input.poll(Instant::from_micros(0), &PULSES);
        Ok(found)
    }

    /// Restores every engine from its stored form in the store's hot state (each parsed and
    /// validated); `false` if the store holds none (a new meter).
    #[inline(never)]
    fn restore(&mut self) -> Res<bool> {
        let mut buf = [0u8; HOT_MAX];
        let stored = self.store.read(0, &mut buf).map_err(|_| "store read")?;
        let Some(mut hot) = stored.and_then(|n| buf.get(..n)) else {
            return Ok(false);
        };
        let account = AccountState::parse(take(&mut hot)?).map_err(|_| "account form")?;
        let security = SecurityState::parse(take(&mut hot)?).map_err(|_| "security form")?;
        let registers =
            EnergyRegistersState::parse(take(&mut hot)?).map_err(|_| "registers form")?;
        let accumulator =
            EnergyAccumulatorState::parse(take(&mut hot)?).map_err(|_| "accumulator form")?;
        let rater = RaterState::parse(take(&mut hot)?).map_err(|_| "rater form")?;
        self.account = MoneyAccount::restore(account_config(), account).map_err(|_| "account")?;
        self.security = MeterSecurity::restore(
            address()?,
            security_module(),
            SecurityConfig::DEFAULT,
            security,
        )
        .map_err(|_| "security")?;
        self.registers = EnergyRegisters::restore(registers).map_err(|_| "registers")?;
        self.accumulator = EnergyAccumulator::restore(self.accumulator.constant(), accumulator)
            .map_err(|_| "accumulator")?;
        self.rater = Rater::restore(&self.tariff, rater).map_err(|_| "rater")?;
        self.saved.0 = self.registers.total(Flow::Import);
        Ok(true)
    }

    /// Commits the hot state as it is now.
    #[inline(never)]
    fn save(&mut self, now: Timestamp) -> Res<()> {
        let mut hot = [0u8; HOT_MAX];
        let n = encode_hot(
            &self.account.state(),
            &self.security.state(),
            &self.registers,
            &self.accumulator,
            &self.rater,
            &mut hot,
        )?;
        let bytes = hot.get(..n).ok_or("hot state")?;
        let guard = u64::from(self.security.state().last_counter);
        let _durable = self
            .store
            .commit(&[], bytes, guard)
            .map_err(|_| "store commit")?;
        // In idle time: make the next slot writable, so the power-fail save only writes.
        self.store.ready().map_err(|_| "store ready")?;
        self.saved = (self.registers.total(Flow::Import), now);
        self.commits = self.commits.saturating_add(1);
        Ok(())
    }

    /// One pass of the main loop: the pulses since the last pass become energy, money and a
    /// debit; the state is saved when the policy says so or the relay changed.
    #[inline(never)]
    fn tick(&mut self, now: Timestamp) -> Res<Effects<Money>> {
        let pulses = PULSES.drain();
        let wh = self.accumulator.add_pulses(u64::from(pulses.accepted));
        let effects = if wh == Energy::ZERO {
            self.account.tick(now)
        } else {
            let rated = self
                .rater
                .rate(&self.tariff, wh, now)
                .map_err(|_| "rating")?;
            self.registers
                .add(Flow::Import, rated.slot.tariff, wh)
                .map_err(|_| "registers")?;
            self.account.debit(now, rated.money).map_err(|_| "debit")?
        };
        let since = Energy::from_wh(
            self.registers
                .total(Flow::Import)
                .wh()
                .saturating_sub(self.saved.0.wh()),
        );
        let secs = now.checked_secs_since(self.saved.1).unwrap_or(0);
        let secs = u32::try_from(secs).unwrap_or(u32::MAX);
        if effects.relay.is_some() || SavePolicy::TYPICAL.due(since, secs) {
            self.save(now)?;
        }
        Ok(effects)
    }

    /// A DL/T 645 frame from the RS485 line: a 03H purchase is decoded, opened, applied to a
    /// copy of the account, made durable together with the new security counter, and only
    /// then committed.
    #[inline(never)]
    fn receive(&mut self, bytes: &[u8], now: Timestamp) -> Res<Effects<Money>> {
        let frame = Frame::new_checked(skip_preamble(bytes)).map_err(|_| "frame")?;
        let repr = FrameRepr::parse(&frame).map_err(|_| "frame")?;
        if repr.control.is_response() || !repr.address.matches(self.security.address()) {
            return Err("not a request for this meter");
        }
        let Ok(Request::Security { di, payload, .. }) = Request::parse(&repr) else {
            return Err("not a 03H request");
        };
        let mut sealed = [0u8; 200];
        let n = payload.len();
        payload
            .copy_to(&mut sealed)
            .ok_or("sealed command too long")?;
        let sealed = sealed.get_mut(..n).ok_or("sealed command too long")?;
        let pending = self
            .security
            .open(sealed, now)
            .map_err(|_| "sealed command refused")?;
        let mut account = self.account.clone();
        let receipt = match (di, *pending.command()) {
            (OPEN_ACCOUNT, Command::OpenAccount(p)) => account.open(now, p),
            (RECHARGE, Command::Recharge(p)) => account.recharge(now, p),
            _ => return Err("not a purchase"),
        }
        .map_err(|_| "purchase refused")?;
        let security = pending.counter_state();
        let mut hot = [0u8; HOT_MAX];
        let n = encode_hot(
            &account.state(),
            &security,
            &self.registers,
            &self.accumulator,
            &self.rater,
            &mut hot,
        )?;
        let bytes = hot.get(..n).ok_or("hot state")?;
        let guard = u64::from(security.last_counter);
        let _durable = self
            .store
            .commit(&[], bytes, guard)
            .map_err(|_| "store commit")?;
        // Durable: now the command may take effect and be acknowledged.
        let _acknowledge = pending.commit();
        self.account = account;
        self.commits = self.commits.saturating_add(1);
        self.store.ready().map_err(|_| "store ready")?;
        Ok(receipt.effects)
    }
}

/// The head-end: it holds the master key and its own command counter for the meter.
struct HeadEnd {
    master: MasterKey,
    counter: CommandCounter,
}

impl HeadEnd {
    /// A purchase sealed for the meter, in a DL/T 645 03H frame; returns the frame's length.
    #[inline(never)]
    fn sell(&mut self, count: u32, yuan: i64, now: Timestamp, frame: &mut [u8]) -> Res<usize> {
        let purchase = Purchase {
            customer: CUSTOMER,
            count,
            amount: money(yuan.saturating_mul(Money::MINOR_PER_UNIT)),
        };
        let (di, command) = if count == 1 {
            (OPEN_ACCOUNT, Command::OpenAccount(purchase))
        } else {
            (RECHARGE, Command::Recharge(purchase))
        };
        let mut sealed = [0u8; 128];
        let valid_until = now.checked_add_secs(3_600).ok_or("time")?;
        let s = self
            .master
            .meter(address()?, KEY_VERSION)
            .seal(&mut self.counter, &command, valid_until, &mut sealed)
            .map_err(|_| "seal")?;
        let sealed = sealed.get(..s.len).ok_or("seal")?;
        Client::new(address()?)
            .security(di, sealed, frame)
            .map_err(|_| "03H frame")
    }
}

/// Acts on the account's decisions: the relay coil, and the timeline.
#[inline(never)]
fn apply(board: &mut Board, effects: &Effects<Money>, clock: u64) {
    if let Some(contacts) = effects.drive {
        board.relay.drive(contacts == Contacts::Closed);
    }
    if let Some(alarm) = &effects.alarm {
        say!(
            board.console,
            "  {} alarms: {} (raised: {})",
            Clock(clock),
            effects.alarms,
            alarm.raised()
        );
    }
    if let Some(relay) = &effects.relay {
        say!(board.console, "  {} relay {:?}", Clock(clock), relay.to);
    }
}

/// Time since the start, as `+hh:mm:ss`.
struct Clock(u64);

impl core::fmt::Display for Clock {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        let s = self.0 / 1_000_000;
        write!(f, "+{:02}:{:02}:{:02}", s / 3600, s / 60 % 60, s % 60)
    }
}

fn timestamp(clock: u64) -> Timestamp {
    let secs = i64::try_from(clock / 1_000_000).unwrap_or(i64::MAX);
    Timestamp::from_unix(T0.saturating_add(secs))
}

/// Runs the script on `board`.
pub fn run(board: &mut Board) -> Outcome {
    let mut outcome = Outcome {
        checks: 0,
        failed: 0,
    };
    let mut head_end = HeadEnd {
        master: MasterKey::new(&MASTER, SecurityConfig::DEFAULT.tag_len()),
        counter: CommandCounter::new(KEY_VERSION),
    };
    let mut meter: Option<Meter> = None;
    // The real-time clock, battery-backed: µs since T0.
    let mut clock: u64 = 0;
    for (k, (action, expect)) in SCRIPT.iter().enumerate() {
        say!(board.console, "{} step {}: {:?}", Clock(clock), k, action);
        let result = step(board, &mut meter, &mut head_end, &mut clock, *action);
        match result {
            Ok(()) => {}
            Err(e) => {
                say!(board.console, "  FAILED: {}", e);
                outcome.checks = outcome.checks.saturating_add(1);
                outcome.failed = outcome.failed.saturating_add(1);
                return outcome;
            }
        }
        check(board, meter.as_ref(), expect, &mut outcome);
    }
    outcome
}

#[inline(never)]
fn step(
    board: &mut Board,
    meter: &mut Option<Meter>,
    head_end: &mut HeadEnd,
    clock: &mut u64,
    action: Action,
) -> Res<()> {
    match action {
        Action::Boot(start) => boot(board, meter, start),
        Action::Purchase { count, yuan } => {
            let m = meter.as_mut().ok_or("the meter is off")?;
            purchase(board, m, head_end, *clock, count, yuan)
        }
        Action::Load { watts, minutes } => {
            let m = meter.as_mut().ok_or("the meter is off")?;
            load(board, m, clock, watts, minutes)
        }
        Action::PowerCut => power_cut(board, meter, clock),
        Action::Button => {
            let m = meter.as_mut().ok_or("the meter is off")?;
            let effects = m.account.press_button(timestamp(*clock));
            apply(board, &effects, *clock);
            m.save(timestamp(*clock))
        }
    }
}

#[inline(never)]
fn power_cut(board: &mut Board, meter: &mut Option<Meter>, clock: &mut u64) -> Res<()> {
    let m = meter.as_mut().ok_or("the meter is off")?;
    // The power-fail interrupt: one root record, written into a ready slot.
    m.save(timestamp(*clock))?;
    // Everything in RAM is lost; the flash is given back to the board.
    board.flash = meter.take().map(|m| m.store.release().0);
    *clock = clock.saturating_add(10 * 60 * 1_000_000); // 10 minutes off
    say!(board.console, "  power off for 10 minutes");
    Ok(())
}

#[inline(never)]
fn boot(board: &mut Board, meter: &mut Option<Meter>, start: Start) -> Res<()> {
    let flash = board.flash.take().ok_or("the flash is in use")?;
    let found = Meter::boot(meter, flash)?;
    let m = meter.as_mut().ok_or("boot")?;
    let restored = m.restore()?;
    say!(
        board.console,
        "  engines restored from the store: {}",
        restored
    );
    let found = match found {
        Found::Fresh => Start::Fresh,
        Found::Restored => Start::Restored,
        Found::FellBack(_) => return Err("the store fell back"),
    };
    say!(board.console, "  store: {:?}", found);
    if found != start {
        return Err("the store did not find what the script expects");
    }
    // The relay is latching: it stayed where it was. A meter drives it to where the account
    // says it must be.
    let closed = meter
        .as_ref()
        .is_some_and(|m| m.account.relay().contacts() == Contacts::Closed);
    if board.relay.closed() != closed {
        board.relay.drive(closed);
    }
    Ok(())
}

#[inline(never)]
fn purchase(
    board: &mut Board,
    m: &mut Meter,
    head_end: &mut HeadEnd,
    clock: u64,
    count: u32,
    yuan: i64,
) -> Res<()> {
    let now = timestamp(clock);
    let mut frame = [0u8; 220];
    let n = head_end.sell(count, yuan, now, &mut frame)?;
    let frame = frame.get(..n).ok_or("03H frame")?;
    say!(board.console, "  03H frame of {} bytes on the line", n);
    let effects = m.receive(frame, now)?;
    apply(board, &effects, clock);
    Ok(())
}

#[inline(never)]
fn load(board: &mut Board, m: &mut Meter, clock: &mut u64, watts: u32, minutes: u32) -> Res<()> {
    let ticks = u64::from(minutes).saturating_mul(60_000_000) / TICK_US;
    for _ in 0..ticks {
        let start = *clock;
        let input = &mut m.input;
        board
            .chip
            .draw(watts, board.relay.closed(), start, TICK_US, |at| {
                let Ok(_) = input.poll(Instant::from_micros(at), &PULSES);
            });
        *clock = clock.saturating_add(TICK_US);
        let effects = m.tick(timestamp(*clock))?;
        apply(board, &effects, *clock);
    }
    say!(
        board.console,
        "  {} {} saves, {} sector erases",
        Clock(*clock),
        m.commits,
        board_erases(m)
    );
    Ok(())
}

fn board_erases(m: &Meter) -> u32 {
    m.store.medium().0.erases
}

/// Compares the meter with the script; every mismatch is printed and counted.
#[inline(never)]
fn check(board: &mut Board, meter: Option<&Meter>, expect: &Expect, outcome: &mut Outcome) {
    let got = meter.map(|m| {
        (
            m.registers.total(Flow::Import).wh(),
            m.account.balance().minor(),
            m.account.alarms(),
            m.account.relay(),
            m.account.purchase_count(),
        )
    });
    let relay_closed = board.relay.closed();
    let Some((energy, balance, alarms, relay, purchases)) = got else {
        // Powered off: the state is checked at the next boot.
        say!(
            board.console,
            "  (off) relay contacts closed: {}",
            relay_closed
        );
        return;
    };
    say!(
        board.console,
        "  energy {}, balance {}, alarms: {}, relay {:?}",
        Energy::from_wh(energy),
        Money::from_minor(balance),
        alarms,
        relay
    );
    let checks = [
        ("energy (Wh)", energy == expect.energy_wh),
        ("balance", balance == expect.balance),
        ("alarms", alarms == expect.alarms),
        ("relay state", relay == expect.relay),
        ("purchases", purchases == expect.purchases),
        (
            "relay contacts",
            relay_closed == (expect.relay.contacts() == Contacts::Closed),
        ),
    ];
    for (name, ok) in checks {
        outcome.checks = outcome.checks.saturating_add(1);
        if !ok {
            outcome.failed = outcome.failed.saturating_add(1);
            say!(board.console, "  MISMATCH {}: expected {:?}", name, expect);
        }
    }
}
