//! The scripted scenario: a prepaid household meter's day and a half, as a list of actions
//! and the values expected after each ([`SCRIPT`]).
//!
//! The meter is the crate's application layer, `meter::Meter` (here `SmallMeter`), called as
//! a firmware's main loop calls it: the pulse line is sampled by `hal::PulseInput` into a
//! `metering::PulseCounter`; every 0.5 s the loop drains the counter into `Meter::tick`;
//! purchases arrive as DL/T 645 03H frames carrying a command sealed by the head-end
//! (`security::MasterKey`), a price write as a 14H write of a sealed `SetPrice`, and both go
//! to `Meter::receive`; the firmware acts on the `Actions`
//! that come back: it pulses the relay's coils, commits the store areas to the
//! `storage::MeterStore` on the board's NOR flash (`meter::persist::save`) and sends the
//! answer only once that is durable. A restart restores everything with `meter::persist::start`,
//! area by area.
//!
//! The script is data: each step is an [`Action`] and an [`Expect`]ation, checked after the
//! action.

use core::mem::MaybeUninit;

use prepaid_meter::account::{AlarmFlags, Config, Contacts, Limits, RelayState, TripReason};
use prepaid_meter::address::Address;
use prepaid_meter::endpoint::dlt645::Client;
use prepaid_meter::hal::{ActiveLevel, PulseInput};
use prepaid_meter::meter::{
    Actions, Answer, KeyRecord, MeterConfig, OPEN_ACCOUNT, RECHARGE, SmallMeter, SmallTariff,
    Started, persist,
};
use prepaid_meter::metering::{Flow, GlitchFilter, MeterConstant, PulseCounter};
use prepaid_meter::purchase::{CustomerNumber, Purchase};
use prepaid_meter::security::{Command, CommandCounter, MasterKey, SecurityConfig};
use prepaid_meter::storage::{AreaLayout, Found, MeterStore, Nor};
use prepaid_meter::tariff::{
    Calendar, DayTable, MonthDay, Season, SwitchPoint, TariffSet, Tiers, WeekRule,
};
use prepaid_meter::time::{Instant, Timestamp, UtcOffset};
use prepaid_meter::units::{Energy, Money, Price};
use prepaid_meter::wire::dlt645::{Data, Di, OperatorCode, Password, Request};

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
/// The store's areas (`meter::Area` order) on the flash's 1 KiB sectors, each large enough
/// for the largest stored form of its area at `SmallMeter`'s capacities.
const LAYOUT: [AreaLayout; 5] = persist_layout();
/// The largest stored form of one area (the freezes, full: 2 527 bytes), and of the hot
/// state (391 bytes, with room for the optional fields it may hold).
const RECORD_MAX: usize = 2560;
const HOT_MAX: usize = 512;

const fn persist_layout() -> [AreaLayout; 5] {
    // As `meter::persist::layout(0, 1024, [768, 2048, 2560, 512, 128])` computes it (that
    // function is not `const`): two pages per area, a page the record rounded up to sectors.
    const fn area(base: u32, pages_of: u32, max_payload: u16) -> AreaLayout {
        AreaLayout {
            base,
            len: 2 * pages_of * 1024,
            max_payload,
        }
    }
    [
        area(0, 1, 768),
        area(2048, 3, 2048),
        area(8192, 3, 2560),
        area(14336, 1, 512),
        area(16384, 1, 128),
    ]
}

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
    /// The head-end rewrites tariff 1's price to `price` (1/10 000 yuan per kWh): a sealed
    /// `SetPrice` in a DL/T 645 14H write of `04050101` at password level 98H.
    SetPrice { price: u32 },
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
pub const SCRIPT: [(Action, Expect); 13] = {
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
        // The head-end writes tariff 1's price, sealed: the same price, so nothing else moves.
        (
            SetPrice { price: PRICE },
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

/// The scratch buffers of the store: one area's stored form (read at start-up, one area at a
/// time, and written at each save) and the hot state (at each save). Statics, so that they
/// are not on the stack.
static mut RECORD: [u8; RECORD_MAX] = [0; RECORD_MAX];
static mut HOT: [u8; HOT_MAX] = [0; HOT_MAX];

/// The meter application, in a static: started in place ([`persist::start`]), never
/// moved. In `.uninit` (set to `None` at the start of [`run`]), so that its initial value
/// takes no room in the flash image: an empty `Option` of it is not all zeros and would go to
/// `.data`, copied from flash at reset.
#[unsafe(link_section = ".uninit.APP")]
static mut APP: MaybeUninit<Option<SmallMeter>> = MaybeUninit::uninit();

/// The store on the board's flash, in a static like [`APP`] (opened in place at each boot, so
/// that it is not moved through the boot's stack frame). In `.uninit`, set to `None` at the
/// start of [`run`].
#[unsafe(link_section = ".uninit.STORE")]
static mut STORE: MaybeUninit<Option<Store>> = MaybeUninit::uninit();

/// The firmware: the crate's `Meter` with its store and pulse input.
struct Meter {
    app: &'static mut SmallMeter,
    store: &'static mut Store,
    input: PulseInput<PulsePin>,
    commits: u32,
    /// Random bytes for identity authentication: a test source, never for production (a
    /// firmware reads its TRNG).
    rng: TestRng,
}

/// The crate's test random source (xorshift64): the scenario runs no identity
/// authentication, so `receive` draws from it only for a challenge it never sends.
#[path = "../../../tests/support/rng.rs"]
mod rng;
use rng::TestRng;

fn address() -> Res<Address> {
    Address::from_number(ADDRESS).map_err(|_| "address")
}

fn money(minor: i64) -> Money {
    Money::from_minor(minor)
}

#[inline(never)]
fn config() -> Res<MeterConfig> {
    let limits = Limits {
        alarm1: money(yuan(20)),
        alarm2: money(yuan(10)),
        overdraft: money(yuan(5)),
        hoarding: money(yuan(500)),
        reconnect: money(yuan(1)),
    };
    let constant = MeterConstant::new(METER_CONSTANT).map_err(|_| "meter constant")?;
    Ok(MeterConfig::new(
        address()?,
        constant,
        Config::local(limits),
    ))
}

#[inline(never)]
fn flat_tariff() -> Res<SmallTariff> {
    let day = DayTable::<8>::new_sized(&[SwitchPoint::new(0, 0, 1)]).map_err(|_| "day table")?;
    let season = Season {
        start: MonthDay::new(1, 1),
        week: WeekRule::uniform(1),
    };
    let calendar = Calendar::<4, 4, 8>::new_sized(&[season], &[day]).map_err(|_| "calendar")?;
    let prices = [Price::from_minor_per_kwh(PRICE)];
    let set = TariffSet::new_sized(calendar, &prices, Tiers::none()).map_err(|_| "tariff set")?;
    SmallTariff::new_sized(UtcOffset::CHINA, &[], set).map_err(|_| "tariff")
}

#[inline(never)]
fn provisioned() -> Res<KeyRecord> {
    // Provisioning: a real meter is given its derived keys at the factory; here the head-end's
    // test master key derives them at boot.
    let keys = MasterKey::new(&MASTER, SecurityConfig::DEFAULT.tag_len())
        .meter_keys(address()?, KEY_VERSION);
    Ok(KeyRecord::new(KEY_VERSION, &keys))
}

impl Meter {
    /// Starts the meter into `slot` from what the store on `flash` holds.
    #[inline(never)]
    fn boot(slot: &mut Option<Meter>, flash: &'static mut Flash, now: Timestamp) -> Res<Started> {
        // SAFETY: STORE was initialised (to `None`) at the start of `run`; this is the only
        // reference to it: the previous one went with the last power cut.
        let store_slot = unsafe { (*core::ptr::addr_of_mut!(STORE)).assume_init_mut() };
        let found = open_store(store_slot, flash)?;
        let store = store_slot.as_mut().ok_or("store open")?;
        // SAFETY: the scratch buffer is used by one call at a time, on one thread.
        let record = unsafe { &mut *core::ptr::addr_of_mut!(RECORD) };
        // SAFETY: APP was initialised (to `None`) at the start of `run`; this is the only
        // reference to it: the previous one went with the last power cut.
        let app_slot = unsafe { (*core::ptr::addr_of_mut!(APP)).assume_init_mut() };
        // The configuration and the tariff are borrowed where their builders left them.
        let (config, tariff) = (config(), flat_tariff());
        let started = persist::start(
            app_slot,
            store,
            found,
            record,
            config.as_ref().map_err(|e| *e)?,
            provisioned()?,
            tariff.as_ref().map_err(|e| *e)?,
            now,
        )
        .map_err(|_| "meter start")?;
        let app = app_slot.as_mut().ok_or("meter start")?;
        let constant = MeterConstant::new(METER_CONSTANT).map_err(|_| "meter constant")?;
        let filter = GlitchFilter::from_max_power(constant, 13_200).map_err(|_| "filter")?;
        let m = slot.insert(Meter {
            app,
            store,
            input: PulseInput::new(PulsePin, ActiveLevel::Low, filter),
            commits: 0,
            rng: TestRng(0x2545_F491_4F6C_DD1D),
        });
        // The first sample learns the idle level of the line, so the first pulse counts.
        let Ok(_) = m.input.poll(Instant::from_micros(0), &PULSES);
        Ok(started)
    }

    /// Acts on what the meter decided: the relay coil, then the store (before any answer).
    #[inline(never)]
    fn act(&mut self, board: &mut Board, actions: &Actions) -> Res<()> {
        if let Some(contacts) = actions.drive {
            board.relay.drive(contacts == Contacts::Closed);
        }
        if !actions.save.is_empty() {
            // SAFETY: as in `boot`.
            let record = unsafe { &mut *core::ptr::addr_of_mut!(RECORD) };
            let hot = unsafe { &mut *core::ptr::addr_of_mut!(HOT) };
            persist::save(self.app, self.store, record, hot).map_err(|_| "store commit")?;
            self.commits = self.commits.saturating_add(1);
            // In idle time: make the next slot writable, so the power-fail save only writes.
            self.store.ready().map_err(|_| "store ready")?;
        }
        Ok(())
    }

    /// One pass of the main loop.
    #[inline(never)]
    fn tick(&mut self, board: &mut Board, now: Timestamp) -> Res<Actions> {
        let actions = self.app.tick(now, PULSES.drain().accepted);
        self.act(board, &actions)?;
        Ok(actions)
    }

    /// A DL/T 645 frame from the RS485 line; returns the length of the answer sent.
    #[inline(never)]
    fn receive(&mut self, board: &mut Board, frame: &[u8], now: Timestamp) -> Res<usize> {
        let actions = self.app.receive(now, frame, &mut self.rng);
        if actions.answer == Answer::AfterSave && self.app.transmit().is_some() {
            return Err("an answer before its save");
        }
        self.act(board, &actions)?;
        let answer = self.app.transmit().ok_or("no answer")?;
        accepted(answer)?;
        Ok(answer.len())
    }
}

/// Checks that `answer` is a normal answer, not an error. A function of its own, so that the
/// parsed answer is not in the frame of [`Meter::receive`], under the meter's own.
#[inline(never)]
fn accepted(answer: &[u8]) -> Res<()> {
    Client::new(address()?)
        .parse_answer(answer)
        .map(|_| ())
        .map_err(|_| "the command was refused")
}

/// Opens the store on `flash` into `slot`; says what it found. A function of its own, so that
/// its temporaries are off the stack when the meter starts.
#[inline(never)]
fn open_store(slot: &mut Option<Store>, flash: &'static mut Flash) -> Res<Found> {
    let (store, found) = MeterStore::open(Nor(flash), &LAYOUT).map_err(|_| "store open")?;
    *slot = Some(store);
    Ok(found)
}

/// The head-end: it holds the master key ([`MASTER`], expanded for each sale, so that its
/// key schedule is not on the stack while the meter runs) and its own command counter for the
/// meter.
struct HeadEnd {
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
        let master = MasterKey::new(&MASTER, SecurityConfig::DEFAULT.tag_len());
        let s = master
            .meter(address()?, KEY_VERSION)
            .seal(&mut self.counter, &command, valid_until, &mut sealed)
            .map_err(|_| "seal")?;
        let sealed = sealed.get(..s.len).ok_or("seal")?;
        Client::new(address()?)
            .security(di, sealed, frame)
            .map_err(|_| "03H frame")
    }

    /// A sealed write of tariff 1's price, in a DL/T 645 14H frame; returns the frame's length.
    #[inline(never)]
    fn write_price(&mut self, price: u32, now: Timestamp, frame: &mut [u8]) -> Res<usize> {
        let command = Command::SetPrice {
            index: 1,
            price: Price::from_minor_per_kwh(price),
        };
        let mut sealed = [0u8; 128];
        let valid_until = now.checked_add_secs(3_600).ok_or("time")?;
        let master = MasterKey::new(&MASTER, SecurityConfig::DEFAULT.tag_len());
        let s = master
            .meter(address()?, KEY_VERSION)
            .seal(&mut self.counter, &command, valid_until, &mut sealed)
            .map_err(|_| "seal")?;
        let sealed = sealed.get(..s.len).ok_or("seal")?;
        let request = Request::Write {
            di: Di(0x0405_0101),
            password: Password {
                level: Password::LEVEL_SEALED,
                code: [0; 3],
            },
            operator: OperatorCode([0; 4]),
            value: Data::plain(sealed),
        };
        Client::new(address()?)
            .request(&request, frame)
            .map_err(|_| "14H frame")
    }
}

/// Prints what changed on the display (alarms, relay) since `before`.
#[inline(never)]
fn timeline(board: &mut Board, m: &Meter, before: (AlarmFlags, RelayState), clock: u64) {
    let d = m.app.display();
    if d.alarms != before.0 {
        say!(board.console, "  {} alarms: {}", Clock(clock), d.alarms);
    }
    if d.relay != before.1 {
        say!(board.console, "  {} relay {:?}", Clock(clock), d.relay);
    }
}

fn shown(m: &Meter) -> (AlarmFlags, RelayState) {
    let d = m.app.display();
    (d.alarms, d.relay)
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
        counter: CommandCounter::new(KEY_VERSION),
    };
    // SAFETY: nothing refers to APP yet; `run` is called once.
    unsafe { (*core::ptr::addr_of_mut!(APP)).write(None) };
    // SAFETY: as for APP.
    unsafe { (*core::ptr::addr_of_mut!(STORE)).write(None) };
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
        say!(
            board.console,
            "  stack so far: {} bytes",
            crate::stack_peak()
        );
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
        Action::Boot(start) => boot(board, meter, *clock, start),
        Action::Purchase { count, yuan } => {
            let m = meter.as_mut().ok_or("the meter is off")?;
            purchase(board, m, head_end, *clock, count, yuan)
        }
        Action::SetPrice { price } => {
            let m = meter.as_mut().ok_or("the meter is off")?;
            set_price(board, m, head_end, *clock, price)
        }
        Action::Load { watts, minutes } => {
            let m = meter.as_mut().ok_or("the meter is off")?;
            load(board, m, clock, watts, minutes)
        }
        Action::PowerCut => power_cut(board, meter, clock),
        Action::Button => {
            let m = meter.as_mut().ok_or("the meter is off")?;
            button(board, m, *clock)
        }
    }
}

#[inline(never)]
fn button(board: &mut Board, m: &mut Meter, clock: u64) -> Res<()> {
    let before = shown(m);
    let actions = m.app.button(timestamp(clock));
    m.act(board, &actions)?;
    timeline(board, m, before, clock);
    Ok(())
}

#[inline(never)]
fn power_cut(board: &mut Board, meter: &mut Option<Meter>, clock: &mut u64) -> Res<()> {
    let m = meter.as_mut().ok_or("the meter is off")?;
    // The power-fail interrupt: the unsaved state, written into a ready slot.
    let actions = m.app.power_fail(timestamp(*clock));
    m.act(board, &actions)?;
    // Everything in RAM is lost; the flash is given back to the board.
    *meter = None;
    // SAFETY: the meter that referred to STORE was just dropped; STORE was initialised at
    // the start of `run`.
    let store_slot = unsafe { (*core::ptr::addr_of_mut!(STORE)).assume_init_mut() };
    board.flash = store_slot.take().map(|s| s.release().0);
    *clock = clock.saturating_add(10 * 60 * 1_000_000); // 10 minutes off
    say!(board.console, "  power off for 10 minutes");
    Ok(())
}

#[inline(never)]
fn boot(board: &mut Board, meter: &mut Option<Meter>, clock: u64, start: Start) -> Res<()> {
    let flash = board.flash.take().ok_or("the flash is in use")?;
    let started = Meter::boot(meter, flash, timestamp(clock))?;
    say!(board.console, "  meter started: {:?}", started);
    let found = match started {
        Started::Fresh => Start::Fresh,
        Started::Restored => Start::Restored,
        Started::FellBack(_) => return Err("the store fell back"),
    };
    if found != start {
        return Err("the store did not find what the script expects");
    }
    // The relay is latching: it stayed where it was. A meter drives it to where it was last
    // driven.
    let closed = meter
        .as_ref()
        .is_some_and(|m| m.app.contacts() == Contacts::Closed);
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
    let before = shown(m);
    let answered = m.receive(board, frame, now)?;
    say!(
        board.console,
        "  answered with {} bytes after the save ({} commits)",
        answered,
        m.commits
    );
    timeline(board, m, before, clock);
    Ok(())
}

#[inline(never)]
fn set_price(
    board: &mut Board,
    m: &mut Meter,
    head_end: &mut HeadEnd,
    clock: u64,
    price: u32,
) -> Res<()> {
    let now = timestamp(clock);
    let mut frame = [0u8; 220];
    let n = head_end.write_price(price, now, &mut frame)?;
    let frame = frame.get(..n).ok_or("14H frame")?;
    say!(board.console, "  14H frame of {} bytes on the line", n);
    let answered = m.receive(board, frame, now)?;
    say!(
        board.console,
        "  answered with {} bytes after the save ({} commits); price in force {}",
        answered,
        m.commits,
        m.app.display().price
    );
    if m.app.display().price != Price::from_minor_per_kwh(price) {
        return Err("the price in force is not the one written");
    }
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
        let before = shown(m);
        let _ = m.tick(board, timestamp(*clock))?;
        timeline(board, m, before, *clock);
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
        let account = m.app.account();
        (
            m.app.registers().total(Flow::Import).wh(),
            account.balance().minor(),
            account.alarms(),
            account.relay(),
            account.purchase_count(),
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
