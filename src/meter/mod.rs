//! The meter application: one sans-IO [`Meter`] that a firmware calls from its main loop.
//!
//! A [`Meter`] joins the engines of the crate into a prepaid meter: pulse accounting
//! ([`EnergyAccumulator`]), energy registers, demand, tariff rating ([`Rater`]), the prepaid
//! account with its logs, the hourly, daily and settlement freezes, the DL/T 645 server, the
//! 03H security flows and the stored forms of all of it. It reads no clock, touches no pin and
//! does no I/O: the firmware passes in what happened and acts on what comes back.
//!
//! | the firmware calls | when |
//! |---|---|
//! | [`Meter::tick`] | every 0.5 s ([`TICK`]), with the pulses drained from the interrupt counter |
//! | [`Meter::receive`] | for each frame received on RS485 or the carrier (with a random source for identity authentication) |
//! | [`Meter::button`] | the customer pressed the reconnect button |
//! | [`Meter::power_fail`] | the power-fail comparator fired: save now |
//! | [`Meter::relay_feedback`] | the relay's auxiliary contact was read after a drive |
//! | [`Meter::cover`] | the terminal-cover switch changed |
//!
//! Every call returns [`Actions`]: drive the relay, write these store areas (and then call
//! [`Meter::saved`]), send the answer ([`Meter::transmit`]) now or only once the write is
//! durable, and call again within [`Actions::next`]. What the display shows and the state of
//! the alarm LED and buzzer are read with [`Meter::display`] and [`Meter::indicators`].
//!
//! # Durability
//!
//! A request that changes the meter's state (a recharge, a relay command, a parameter write,
//! a key update, even a refused command that counts a failure) is answered only after that
//! state is durable: its [`Actions::answer`] is [`Answer::AfterSave`], and
//! [`Meter::transmit`] gives nothing until [`Meter::saved`] says the areas were committed. If
//! the power fails before, the meter restarts from the state before the request and the
//! head-end, having had no answer, sends it again. While an answer waits, further frames are
//! not answered (the bus master retries). With the `storage` feature, [`persist`] commits
//! the areas to a [`MeterStore`](crate::storage::MeterStore) and restores them at start-up.
//!
//! # Start-up
//!
//! [`Meter::start`] takes the configuration, the provisioned keys, the tariff and what the
//! store holds ([`Stored`]), and says what it found: [`Started::Fresh`],
//! [`Started::Restored`], or [`Started::FellBack`] with the areas that could not be restored.
//!
//! # 03H flows
//!
//! | identifier | flow | data after the operator code | answer data |
//! |---|---|---|---|
//! | [`AUTHENTICATE`] `070000FF` | identity authentication | an `AuthRequest` | an `AuthResponse` |
//! | [`OPEN_ACCOUNT`] `070101FF` | open account | a sealed `OpenAccount` | sealed reply: balance after (`i64`, minor units) and purchase count (`u32`), big-endian ([`PURCHASE_ANSWER_LEN`] bytes) |
//! | [`RECHARGE`] `070102FF` | recharge | a sealed `Recharge` | as open account |
//! | [`KEY_UPDATE`] `070201FF` | key update | a sealed `KeyUpdate` | sealed reply with no data |
//! | [`STATUS_QUERY`] `078102FF` | status query (within an identity-authentication session) | nothing | remaining credit (`i64`), purchase count (`u32`), customer number (6 bytes, wire order), key version (`u16`), big-endian ([`STATUS_ANSWER_LEN`] bytes) |
//!
//! Sealed relay control (1CH at password level 98H) carries a sealed `RelayControl`; sealed
//! parameter writes (14H at level 98H) carry a sealed `WriteParameter` naming the same
//! identifier, `SetPrice` (a price of the active set, 040501xx) or `SetThreshold` (04001001 to
//! 04001005). A refusal is the error word of its cause (`SERR` for 03H, the execution status
//! word for 1CH, `ERR` for 14H).
//!
//! # Example
//!
//! ```
//! use prepaid_meter::account::{Config, Limits};
//! use prepaid_meter::meter::{Answer, KeyRecord, Meter, MeterConfig, Stored, Started};
//! use prepaid_meter::metering::MeterConstant;
//! use prepaid_meter::security::{MasterKey, SecurityConfig};
//! use prepaid_meter::tariff::{Calendar, DayTable, MonthDay, Season, SwitchPoint, Tariff, TariffSet, Tiers, WeekRule};
//! use prepaid_meter::time::{Timestamp, UtcOffset};
//! use prepaid_meter::units::{Money, Price};
//!
//! # fn main() -> Result<(), Box<dyn std::error::Error>> {
//! let day = DayTable::new(&[SwitchPoint::new(0, 0, 1)])?;
//! let season = Season { start: MonthDay::new(1, 1), week: WeekRule::uniform(1) };
//! let set = TariffSet::new(Calendar::new(&[season], &[day])?, &[Price::from_minor_per_kwh(5_000)], Tiers::none())?;
//! let tariff = Tariff::new(UtcOffset::CHINA, &[], set)?;
//! let yuan = |y| Money::from_units(y).ok_or("range");
//! let limits = Limits { alarm1: yuan(20)?, alarm2: yuan(10)?, overdraft: yuan(5)?, hoarding: yuan(5_000)?, reconnect: yuan(0)? };
//! let address = "201000000012".parse()?;
//! let config = MeterConfig::new(address, MeterConstant::new(1_000)?, Config::local(limits));
//! let keys = MasterKey::new(&[0x42; 16], SecurityConfig::DEFAULT.tag_len()).meter_keys(address, 1);
//! let now = Timestamp::from_unix(1_764_554_400);
//! let (mut meter, started) = Meter::<24, 7, 12, 4>::start_sized(config, KeyRecord::new(1, &keys), tariff, Stored::NONE, now)?;
//! assert_eq!(started, Started::Fresh);
//! // The main loop: every 0.5 s, the pulses the interrupt counted (here 1 000 imp = 1 kWh).
//! let actions = meter.tick(now, 1_000);
//! assert_eq!(actions.answer, Answer::None);
//! assert_eq!(meter.display().energy.wh(), 1_000);
//! # Ok(())
//! # }
//! ```

mod data;
mod flows;
#[cfg(feature = "storage")]
#[cfg_attr(docsrs, doc(cfg(feature = "storage")))]
pub mod persist;
mod save;
mod start;
mod stored;

use core::fmt;

use rand_core::TryCryptoRng;

use crate::account::{
    self, AlarmFlags, Config as AccountConfig, Contacts, DEFAULT_LOG_DEPTH, Effects, Logs,
    MoneyAccount, RelayState,
};
use crate::address::Address;
use crate::endpoint::dlt645::{ClockRecord, ClockSource, Server, ServerConfig, ServerConfigError};
use crate::freeze::{
    CatchUp, DEFAULT_DAILY, DEFAULT_HOURLY, DEFAULT_SETTLEMENT, Freezes, FreezesState, Schedule,
};
use crate::metering::{DemandMeter, EnergyAccumulator, EnergyRegisters, Flow, MeterConstant};
use crate::ring::Ring;
use crate::security::{MeterSecurity, SecurityConfig, SoftwareModule};
use crate::snapshot::{Field, Snapshot, SnapshotError, Writer, emit_fields, fields_len};
use crate::tariff::{
    DEFAULT_DAY_TABLES, DEFAULT_SEASONS, DEFAULT_SPECIAL_DAYS, DEFAULT_SWITCH_POINTS,
    DEFAULT_TARIFFS, Rater, SettlementDay, Tariff,
};
use crate::time::{Duration, Timestamp};
use crate::units::{Energy, Money, Price};
use crate::wire::dlt645::{
    Di, Frame, FrameRepr, Function, MAX_FRAME_LEN, OperatorCode, skip_preamble,
};

pub use save::SavePolicy;
pub use stored::{Area, AreaSet, ClockChange, KeyRecord, MeterLogs, MeterState, RelayRecord};

/// How often the firmware calls [`Meter::tick`]: every 0.5 s, as the remaining credit is
/// checked.
pub const TICK: Duration = Duration::from_millis(500);

/// 03H identity authentication.
pub const AUTHENTICATE: Di = Di(0x0700_00FF);
/// 03H open account.
pub const OPEN_ACCOUNT: Di = Di(0x0701_01FF);
/// 03H recharge.
pub const RECHARGE: Di = Di(0x0701_02FF);
/// 03H key update.
pub const KEY_UPDATE: Di = Di(0x0702_01FF);
/// 03H status query.
pub const STATUS_QUERY: Di = Di(0x0781_02FF);
/// Length of the data in the sealed reply to an open account or a recharge.
pub const PURCHASE_ANSWER_LEN: usize = 12;
/// Length of the answer data of a status query.
pub const STATUS_ANSWER_LEN: usize = 20;
/// How far an input's time may trail the previous input's without being logged as a step
/// back of the clock ([`ClockSource::Local`]), in seconds: a frame stamped on arrival may
/// trail the tick handled before it by a second.
pub const CLOCK_STEP_TOLERANCE_SECS: i64 = 1;

/// The operator code of the meter's own actions (credit trips, the customer's button).
pub const METER_OPERATOR: OperatorCode = OperatorCode([0xFF; 4]);

/// How long the buzzer sounds after an alarm is raised, unless the button silences it.
pub const BUZZER_SECS: i64 = 5;

/// A meter's configuration, validated by [`Meter::start`].
#[derive(Clone, Debug)]
pub struct MeterConfig {
    /// The communication address (keys are derived from it).
    pub address: Address,
    /// The meter constant of the metering chip's pulse output.
    pub constant: MeterConstant,
    /// The prepaid account's configuration.
    pub account: AccountConfig<Money>,
    /// The security layer's configuration.
    pub security: SecurityConfig,
    /// The DL/T 645 server's configuration.
    pub server: ServerConfig,
    /// The settlement day of the settlement freezes.
    pub settlement: SettlementDay,
    /// How many missed freezes a restart catches up.
    pub catch_up: CatchUp,
    /// When the hot state is saved during consumption.
    pub save: SavePolicy,
    /// The demand sub-period in seconds (a divisor of 3 600).
    pub demand_secs: u32,
}

impl MeterConfig {
    /// A configuration with the defaults for everything but the address, the meter constant
    /// and the account: [`SecurityConfig::DEFAULT`], [`ServerConfig::default`], settlement on
    /// the 1st at 00:00, [`CatchUp::default`], [`SavePolicy::TYPICAL`], 15-minute demand.
    pub fn new(address: Address, constant: MeterConstant, account: AccountConfig<Money>) -> Self {
        MeterConfig {
            address,
            constant,
            account,
            security: SecurityConfig::DEFAULT,
            server: ServerConfig::default(),
            settlement: SettlementDay::FIRST_OF_MONTH,
            catch_up: CatchUp::default(),
            save: SavePolicy::TYPICAL,
            demand_secs: 900,
        }
    }
}

/// Why a meter could not start.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
#[non_exhaustive]
pub enum StartError {
    /// The account configuration is invalid.
    Account(account::AccountConfigError),
    /// The server configuration is invalid.
    Server(ServerConfigError),
    /// The demand sub-period is invalid.
    Demand(crate::metering::MeteringError),
}

impl fmt::Display for StartError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            StartError::Account(e) => write!(f, "account configuration: {e}"),
            StartError::Server(e) => write!(f, "server configuration: {e}"),
            StartError::Demand(e) => write!(f, "demand period: {e}"),
        }
    }
}

impl core::error::Error for StartError {}

/// What the store held, as [`Meter::start`] reads it: each area's stored form (`None`: the
/// area holds no record), and what the store itself reported.
#[derive(Clone, Copy, Debug, Default)]
pub struct Stored<'a> {
    /// [`Area::Hot`].
    pub hot: Option<&'a [u8]>,
    /// [`Area::Logs`].
    pub logs: Option<&'a [u8]>,
    /// [`Area::Freezes`].
    pub freezes: Option<&'a [u8]>,
    /// [`Area::Tariff`].
    pub tariff: Option<&'a [u8]>,
    /// [`Area::Keys`].
    pub keys: Option<&'a [u8]>,
    /// The store found corruption (the state may be older than the last one committed).
    pub store_lost: bool,
    /// The lowest [`Meter::guard`] the meter may restart with (the store's guard floor, which
    /// survives a corrupted hot state): a security counter never goes back below it.
    pub guard_floor: u64,
}

impl Stored<'_> {
    /// Nothing stored: a new meter.
    pub const NONE: Stored<'static> = Stored {
        hot: None,
        logs: None,
        freezes: None,
        tariff: None,
        keys: None,
        store_lost: false,
        guard_floor: 0,
    };

    fn get(&self, area: Area) -> Option<&[u8]> {
        match area {
            Area::Hot => self.hot,
            Area::Logs => self.logs,
            Area::Freezes => self.freezes,
            Area::Tariff => self.tariff,
            Area::Keys => self.keys,
        }
    }
}

/// What [`Meter::start`] found.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
#[must_use = "start-up must report a fall-back"]
pub enum Started {
    /// Nothing was stored: a new meter, started from its configuration.
    Fresh,
    /// Every stored area was restored.
    Restored,
    /// Something could not be restored.
    FellBack(Fallback),
}

/// What a start-up could not restore.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub struct Fallback {
    /// The areas whose stored form was unreadable or refused, and that started from the
    /// configuration instead (for [`Area::Hot`]: a closed account, empty registers, and a
    /// security counter at the guard floor).
    pub areas: AreaSet,
    /// The store reported corruption ([`Stored::store_lost`]).
    pub store_lost: bool,
}

/// When to send the answer to a received frame.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub enum Answer {
    /// Nothing to send (not for this meter, unreadable, broadcast, or busy).
    None,
    /// Send [`Meter::transmit`] now.
    Ready,
    /// Commit [`Actions::save`] first; after [`Meter::saved`], send [`Meter::transmit`].
    AfterSave,
}

/// How far a meter can be advanced in one tick ([`Meter::horizon`]).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Horizon {
    /// The latest instant of that tick.
    pub until: Timestamp,
    /// The most pulses it may carry.
    pub pulses: u64,
}

/// What the firmware must do after a call.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
#[must_use = "the actions say how to drive the relay, what to store and what to send"]
pub struct Actions {
    /// Pulse the latching relay to this position.
    pub drive: Option<Contacts>,
    /// The areas to commit now (each with the hot state), then call [`Meter::saved`].
    pub save: AreaSet,
    /// Whether and when to send an answer.
    pub answer: Answer,
    /// Call [`Meter::tick`] again within this time.
    pub next: Duration,
}

/// What the display shows, as data (the firmware draws it).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub struct Display {
    /// The remaining credit (zero when overdrawn).
    pub balance: Money,
    /// The overdraft used (zero when in credit).
    pub overdrawn: Money,
    /// Forward active energy, total.
    pub energy: Energy,
    /// The tariff number in force.
    pub tariff: u8,
    /// The price in force (TOU plus tier).
    pub price: Price,
    /// The relay state.
    pub relay: RelayState,
    /// The alarms.
    pub alarms: AlarmFlags,
    /// The relay did not follow its last drive.
    pub relay_fault: bool,
    /// The terminal cover is open.
    pub cover_open: bool,
}

/// The alarm outputs.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub struct Indicators {
    /// The alarm LED: on while any alarm is set or the relay is faulty.
    pub alarm_led: bool,
    /// The buzzer: for [`BUZZER_SECS`] after an alarm is raised, until the button is pressed.
    pub buzzer: bool,
}

/// Instantaneous readings of a single-phase metering chip, in the units DL/T 645 reads them
/// in (`None`: not measured). The firmware passes them in with [`Meter::instantaneous`].
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub struct Instantaneous {
    /// Voltage, 0.1 V.
    pub voltage: Option<i64>,
    /// Current, mA, signed.
    pub current: Option<i64>,
    /// Active power, 0.1 W, signed.
    pub active_power: Option<i64>,
    /// Power factor, 0.001, signed.
    pub power_factor: Option<i64>,
    /// Grid frequency, 0.01 Hz.
    pub frequency: Option<i64>,
}

/// The meter's engines and records, as the DL/T 645 server sees them.
#[derive(Debug)]
pub(crate) struct Parts<
    const HN: usize,
    const DN: usize,
    const SN: usize,
    const LN: usize,
    const S: usize,
    const D: usize,
    const P: usize,
    const H: usize,
> {
    address: Address,
    accumulator: EnergyAccumulator,
    registers: EnergyRegisters,
    demand: DemandMeter,
    tariff: Tariff<S, D, P, DEFAULT_TARIFFS, H>,
    rater: Rater,
    account: MoneyAccount,
    logs: Logs<Money, LN>,
    trips: Ring<RelayRecord, LN>,
    closes: Ring<RelayRecord, LN>,
    clocks: Ring<ClockChange, LN>,
    /// A clock change made while handling the request (by [`MeterData::set_clock`]), to log.
    clock_set: Option<ClockRecord>,
    freezes: Freezes<Money, 5, HN, DN, SN>,
    schedule: Schedule,
    security: MeterSecurity<SoftwareModule>,
    keys: KeyRecord,
    /// Meter time minus caller time, seconds.
    clock_offset: i64,
    /// The latest meter time the meter ran to (a clock set back does not move it back).
    last: Option<Timestamp>,
    /// The meter time of the request being handled.
    now: Timestamp,
    contacts: Contacts,
    relay_fault: bool,
    cover_open: bool,
    cover_opened: u32,
    /// Areas changed and not yet saved.
    dirty: AreaSet,
    /// A relay drive decided while handling a request.
    drive: Option<Contacts>,
    /// An alarm was raised while handling a call.
    alarm_raised: bool,
    /// Random bytes for the request being handled (identity authentication).
    entropy: flows::Entropy,
    /// The metering chip's last readings.
    instant: Instantaneous,
}

/// The sans-IO meter application (see the [module docs](self)).
///
/// Capacities: `HN` hourly, `DN` daily and `SN` settlement freezes, `LN` records in each log;
/// the tariff's `S` seasons (time zones), `D` day tables of `P` switch points and `H` special
/// days (4 tariffs, as the energy registers hold). The defaults are DL/T 645's; [`SmallMeter`]
/// is the small meter of cheap MCUs.
#[derive(Debug)]
pub struct Meter<
    const HN: usize = DEFAULT_HOURLY,
    const DN: usize = DEFAULT_DAILY,
    const SN: usize = DEFAULT_SETTLEMENT,
    const LN: usize = DEFAULT_LOG_DEPTH,
    const S: usize = DEFAULT_SEASONS,
    const D: usize = DEFAULT_DAY_TABLES,
    const P: usize = DEFAULT_SWITCH_POINTS,
    const H: usize = DEFAULT_SPECIAL_DAYS,
> {
    parts: Parts<HN, DN, SN, LN, S, D, P, H>,
    server: Server,
    policy: SavePolicy,
    tx: [u8; MAX_FRAME_LEN],
    tx_len: usize,
    tx_state: Answer,
    /// Energy since the hot state was last saved, and when that was (meter time).
    energy_unsaved: Energy,
    saved_at: Option<Timestamp>,
    buzzer_until: Option<Timestamp>,
}

/// A meter with a day of hourly freezes, a week of daily ones, a year of settlement ones, logs
/// 4 deep, and a tariff of 4 time zones, 4 day tables of 8 switch points and 16 special days:
/// the meter of a cheap Cortex-M0. Start one with
/// [`SmallMeter::start_sized`](Meter::start_sized) or [`Meter::start_in`] ([`Meter::start`] is
/// for the default capacities).
pub type SmallMeter = Meter<24, 7, 12, 4, 4, 4, 8, 16>;

/// The tariff of a [`SmallMeter`]: 4 time zones, 4 day tables of 8 switch points, 4 tariffs,
/// 16 special days.
pub type SmallTariff = Tariff<4, 4, 8, DEFAULT_TARIFFS, 16>;

impl Meter {
    /// [`Meter::start_sized`] at the default capacities, so that a call needs no type
    /// annotations; see it for the details and the errors.
    pub fn start(
        config: MeterConfig,
        keys: KeyRecord,
        tariff: Tariff,
        stored: Stored<'_>,
        now: Timestamp,
    ) -> Result<(Self, Started), StartError> {
        Self::start_sized(config, keys, tariff, stored, now)
    }
}

impl<
    const HN: usize,
    const DN: usize,
    const SN: usize,
    const LN: usize,
    const S: usize,
    const D: usize,
    const P: usize,
    const H: usize,
> Meter<HN, DN, SN, LN, S, D, P, H>
{
    /// Starts the meter at caller time `now`: validates `config`, then restores each area of
    /// `stored` (the tariff and keys stored after an update take the place of `tariff` and
    /// `keys`, the provisioned ones). An area that is missing or does not restore starts from
    /// the configuration and is reported in [`Started::FellBack`]; a hot state that does not
    /// restore leaves the security counter at [`Stored::guard_floor`], so no command accepted
    /// before can be accepted again.
    ///
    /// Errors: [`StartError`] for an invalid configuration.
    ///
    /// Generic over the capacities (name them, `Meter::<..>::start_sized`, or let them be
    /// inferred from where the result goes); [`Meter::start`] is this at the default ones.
    pub fn start_sized(
        config: MeterConfig,
        keys: KeyRecord,
        tariff: Tariff<S, D, P, DEFAULT_TARIFFS, H>,
        stored: Stored<'_>,
        now: Timestamp,
    ) -> Result<(Self, Started), StartError> {
        let mut meter = Self::fresh(&config, keys, tariff, now)?;
        let started = meter.restore_stored(&config, &stored);
        Ok((meter, started))
    }

    /// [`Meter::start`] into `slot` (any meter in it is dropped first), restoring each area in
    /// place: for an MCU whose stack cannot hold a second meter while the first is moved.
    ///
    /// Errors: [`StartError`] for an invalid configuration; `slot` is then empty.
    pub fn start_in(
        slot: &mut Option<Self>,
        config: MeterConfig,
        keys: KeyRecord,
        tariff: Tariff<S, D, P, DEFAULT_TARIFFS, H>,
        stored: Stored<'_>,
        now: Timestamp,
    ) -> Result<Started, StartError> {
        let meter = Self::fresh_in(slot, &config, keys, &tariff, now)?;
        Ok(meter.restore_stored(&config, &stored))
    }

    /// The meter's time for caller time `now` (the caller's clock corrected by time commands).
    pub fn time(&self, now: Timestamp) -> Timestamp {
        now.checked_add_secs(self.parts.clock_offset).unwrap_or(now)
    }

    /// The meter time for caller time `now`, made the time of the input being handled. A
    /// time more than [`CLOCK_STEP_TOLERANCE_SECS`] earlier than the previous input's (or,
    /// after a restart, than the latest time the meter had run to) is a clock step back that
    /// no command made: it is logged ([`ClockSource::Local`]).
    fn enter(&mut self, now: Timestamp) -> Timestamp {
        let at = self.time(now);
        // A frame stamped when it arrived may trail the tick before it by a second; that is
        // not a clock step.
        let stepped_back = at
            .checked_add_secs(CLOCK_STEP_TOLERANCE_SECS)
            .is_some_and(|t| t < self.parts.now);
        if stepped_back {
            let _ = self.parts.clocks.push(ClockChange {
                record: ClockRecord {
                    before: self.parts.now,
                    after: at,
                    source: ClockSource::Local,
                },
                operator: METER_OPERATOR.0,
            });
            self.parts.dirty = self.parts.dirty.with(Area::Logs);
        }
        self.parts.now = at;
        at
    }

    /// The 0.5 s tick: turns `pulses` (drained from the pulse interrupt's counter since the
    /// last tick) into energy, rates and debits it, checks the credit, takes the freezes due,
    /// switches a passive tariff that is due, and decides the relay.
    ///
    /// The pulses are rated at the last second before `now` (or at the last tick, if that is
    /// later): a tick at 08:00:00 rates what was counted up to then at the tariff before
    /// 08:00, and the freezes taken at `now` include it.
    pub fn tick(&mut self, now: Timestamp, pulses: u32) -> Actions {
        let at = self.enter(now);
        let energy = self.parts.consume(at, pulses);
        self.energy_unsaved = self.energy_unsaved.saturating_add(energy);
        let fx = self.parts.account.tick(at);
        self.parts.apply(&fx, METER_OPERATOR, at);
        self.parts.freeze_due(at);
        if self.parts.tariff.activate_due(at) {
            self.parts.dirty = self.parts.dirty.with(Area::Tariff);
        }
        // Never back: after a clock set back, nothing is frozen again until the clock passes
        // the latest time the meter ran to (no boundary is frozen twice).
        self.parts.last = Some(self.parts.last.map_or(at, |last| last.max(at)));
        let secs = self
            .saved_at
            .and_then(|s| at.checked_secs_since(s))
            .map_or(u32::MAX, |s| u32::try_from(s.max(0)).unwrap_or(u32::MAX));
        if self.policy.due(self.energy_unsaved, secs) {
            self.parts.dirty = self.parts.dirty.with(Area::Hot);
        }
        self.finish(at, Answer::None)
    }

    /// How far this meter can be advanced in one [`Meter::tick`] from `now` (its last tick)
    /// without any decision coming out differently from ticking it at every pulse: a
    /// simulation's (or a head-end's what-if run's) event stepping.
    ///
    /// The contract: one tick at any instant up to [`Horizon::until`], carrying at most
    /// [`Horizon::pulses`] pulses counted since `now`, leaves the meter in the state that
    /// ticks at each of those pulses would (registers, money to the minor unit, alarms, relay,
    /// freezes, demand, logs), save requests aside and the instant the rater last rated (the
    /// batched tick's last second, in the same tier period). `until` is the first of: the end of the
    /// tariff slot (a switch point, local midnight, the passive switch, a tier settlement),
    /// the next local hour (the freezes), the end of the demand period and the end of the
    /// buzzer. `pulses` keeps the balance above the next of alarm 1, alarm 2 and the overdraft
    /// limit, and not below zero, even at the slot's price plus the highest tier price. A meter whose
    /// relay is not closed, or whose account has friendly periods, keep-power, emergency
    /// credit or debt recovery (decisions this bound does not follow), gets `until` one
    /// second on and `pulses` 0: tick it at each pulse, as before.
    ///
    /// ```
    /// # use prepaid_meter::account::{Config, Limits};
    /// # use prepaid_meter::address::Address;
    /// # use prepaid_meter::meter::{KeyRecord, Meter, MeterConfig, Stored};
    /// # use prepaid_meter::metering::MeterConstant;
    /// # use prepaid_meter::security::{MasterKey, SecurityConfig};
    /// # use prepaid_meter::tariff::{Calendar, DayTable, MonthDay, Season, SwitchPoint, Tariff, TariffSet, Tiers, WeekRule};
    /// # use prepaid_meter::time::{Timestamp, UtcOffset};
    /// # use prepaid_meter::units::{Money, Price};
    /// # let limits = Limits { alarm1: Money::ZERO, alarm2: Money::ZERO, overdraft: Money::ZERO,
    /// #     hoarding: Money::from_units(1_000).unwrap(), reconnect: Money::ZERO };
    /// # let address = Address::from_number(1).unwrap();
    /// # let config = MeterConfig::new(address, MeterConstant::new(1000).unwrap(), Config::local(limits));
    /// # let day = DayTable::new(&[SwitchPoint::new(0, 0, 1)]).unwrap();
    /// # let season = Season { start: MonthDay::new(1, 1), week: WeekRule::uniform(1) };
    /// # let set = TariffSet::new(Calendar::new(&[season], &[day]).unwrap(),
    /// #     &[Price::from_minor_per_kwh(6_000)], Tiers::none()).unwrap();
    /// # let tariff = Tariff::new(UtcOffset::CHINA, &[], set).unwrap();
    /// let now = Timestamp::from_unix(1_803_830_400); // 2027-03-01T00:00:00+08:00
    /// # let (meter, _) = Meter::start(config, KeyRecord::new(1, &MasterKey::new(&[7; 16], SecurityConfig::DEFAULT.tag_len()).meter_keys(address, 1)), tariff, Stored::NONE, now).unwrap();
    /// let h = meter.horizon(now);
    /// // No credit yet, nothing above the trip threshold: tick at every pulse.
    /// assert_eq!(h.pulses, 0);
    /// ```
    pub fn horizon(&self, now: Timestamp) -> Horizon {
        let at = self.time(now);
        let one = Horizon {
            until: at.checked_add_secs(1).unwrap_or(at),
            pulses: 0,
        };
        let account = &self.parts.account;
        let config = account.config();
        if self.parts.contacts != Contacts::Closed
            || account.relay() != crate::account::RelayState::Closed
            || account.keep_power()
            || config.friendly != crate::account::FriendlyCalendar::NONE
            || config.emergency.is_some()
            || config.debt_recovery.is_some()
        {
            return one;
        }
        let Ok(slot) = self.parts.tariff.slot_at(at) else {
            return one;
        };
        let local = i64::from(self.parts.schedule.offset().seconds());
        let next_multiple = |period: i64, shift: i64| {
            let t = at.unix().saturating_add(shift);
            at.checked_add_secs(period - t.rem_euclid(period))
        };
        let demand = i64::from(self.parts.demand.subperiod_secs());
        let mut until = slot.valid_until;
        for t in [
            next_multiple(3_600, local),
            next_multiple(demand.max(1), 0),
            self.buzzer_until.filter(|b| *b > at),
        ]
        .into_iter()
        .flatten()
        {
            until = until.min(t);
        }
        let price = i64::from(slot.price.minor_per_kwh()).saturating_add(i64::from(
            self.parts
                .tariff
                .set(slot.set)
                .tiers()
                .max_price()
                .minor_per_kwh(),
        ));
        let balance = account.balance().minor();
        let limits = config.limits;
        // Each flips when the balance falls to or below it; "below zero" is "at or below -1".
        let next_threshold = [
            limits.alarm1.minor(),
            limits.alarm2.minor(),
            -1,
            limits.overdraft.minor().saturating_neg(),
        ]
        .into_iter()
        .filter(|t| *t < balance)
        .max();
        let pulses = match next_threshold {
            _ if config.cost_control == crate::account::CostControl::Remote => u64::MAX,
            None => u64::MAX,
            // Debit of E Wh at `price` is at most (999 + E * price) / 1000 minor units with
            // the carry; it must stay below `balance - t`.
            Some(t) if price > 0 => {
                let room = i128::from(balance) - i128::from(t) - 1;
                let wh = (room * 1000 - 999).max(0) / i128::from(price);
                let c = i128::from(self.parts.accumulator.constant().imp_per_kwh());
                // One pulse short, for the part of a Wh the accumulator holds.
                u64::try_from((wh * c / 1000 - 1).max(0)).unwrap_or(u64::MAX)
            }
            Some(_) => u64::MAX,
        };
        Horizon { until, pulses }
    }

    /// Handles one received frame (preamble allowed) at caller time `now`. `rng` supplies the
    /// challenge of an identity authentication; it is read once per call.
    ///
    /// While an earlier answer waits for its save, the frame is not handled and
    /// [`Answer::None`] comes back.
    pub fn receive<R: TryCryptoRng + ?Sized>(
        &mut self,
        now: Timestamp,
        frame: &[u8],
        rng: &mut R,
    ) -> Actions {
        let at = self.enter(now);
        if self.tx_state == Answer::AfterSave {
            return self.finish(at, Answer::None);
        }
        self.parts.entropy = flows::Entropy::from_rng(rng);
        let before = self.hot_state();
        let changes = self.server.clock_log().changes;
        let answered = self.server.handle(&mut self.parts, frame, at, &mut self.tx);
        self.parts.entropy = flows::Entropy::EMPTY;
        if let Some(mut record) = self.parts.clock_set.take() {
            match self.server.clock_log().last {
                // The server made the change (an 08H broadcast or a plain 14H write): its
                // record says which.
                Some(last) if self.server.clock_log().changes != changes => record = last,
                // A sealed write, which the meter applied itself.
                _ => self.server.clock_changed(record),
            }
            let operator = match record.source {
                ClockSource::Write => write_operator(frame).unwrap_or(METER_OPERATOR),
                ClockSource::Broadcast | ClockSource::Local => METER_OPERATOR,
            };
            let _ = self.parts.clocks.push(ClockChange {
                record,
                operator: operator.0,
            });
            self.parts.dirty = self.parts.dirty.with(Area::Logs);
        }
        if !self.hot_state_is(&before) {
            self.parts.dirty = self.parts.dirty.with(Area::Hot);
        }
        let answer = match answered {
            Some(n) => {
                self.tx_len = n;
                if self.parts.dirty.is_empty() {
                    Answer::Ready
                } else {
                    Answer::AfterSave
                }
            }
            None => Answer::None,
        };
        self.tx_state = answer;
        self.finish(at, answer)
    }

    /// The customer pressed the reconnect button: closes the relay where the account allows
    /// it, and silences the buzzer.
    pub fn button(&mut self, now: Timestamp) -> Actions {
        let at = self.time(now);
        self.buzzer_until = None;
        let fx = self.parts.account.press_button(at);
        self.parts.apply(&fx, METER_OPERATOR, at);
        self.parts.alarm_raised = false;
        self.finish(at, Answer::None)
    }

    /// The supply is failing: every area not yet saved, and the hot state, must be written
    /// now (on the store's fast path, prepared by
    /// [`MeterStore::ready`](crate::storage::MeterStore::ready)).
    pub fn power_fail(&mut self, now: Timestamp) -> Actions {
        let at = self.time(now);
        self.parts.dirty = self.parts.dirty.with(Area::Hot);
        self.finish(at, Answer::None)
    }

    /// The relay's feedback contact, read after a drive, shows `observed`. A relay that did not
    /// follow its drive is flagged (display, alarm LED) and driven once more; one that follows
    /// clears the flag.
    pub fn relay_feedback(&mut self, now: Timestamp, observed: Contacts) -> Actions {
        let at = self.time(now);
        let fault = observed != self.parts.contacts;
        if fault != self.parts.relay_fault {
            self.parts.relay_fault = fault;
            self.parts.dirty = self.parts.dirty.with(Area::Hot);
        }
        if fault {
            self.parts.drive = Some(self.parts.contacts);
        }
        self.finish(at, Answer::None)
    }

    /// The terminal-cover switch reads `open`; each opening is counted.
    pub fn cover(&mut self, now: Timestamp, open: bool) -> Actions {
        let at = self.time(now);
        if open && !self.parts.cover_open {
            self.parts.cover_opened = self.parts.cover_opened.saturating_add(1);
            self.parts.dirty = self.parts.dirty.with(Area::Hot);
        }
        self.parts.cover_open = open;
        self.finish(at, Answer::None)
    }

    /// The metering chip's instantaneous readings, for DL/T 645 reads of voltage, current,
    /// power, power factor and frequency (no effect on energy or money).
    pub fn instantaneous(&mut self, readings: Instantaneous) {
        self.parts.instant = readings;
    }

    /// The areas `areas` (as [`Actions::save`] gave them) were committed with the hot state:
    /// an answer that waited for them may now be sent.
    pub fn saved(&mut self, areas: AreaSet) {
        self.parts.dirty = self.parts.dirty.without(areas.with(Area::Hot));
        self.energy_unsaved = Energy::ZERO;
        self.saved_at = Some(self.parts.now);
        if self.tx_state == Answer::AfterSave && self.parts.dirty.is_empty() {
            self.tx_state = Answer::Ready;
        }
    }

    /// The commit of [`Actions::save`] failed: the answer that waited for it is never sent
    /// (the head-end will ask again); the areas stay to be saved.
    pub fn save_failed(&mut self) {
        if self.tx_state == Answer::AfterSave {
            self.tx_state = Answer::None;
            self.tx_len = 0;
        }
    }

    /// The answer to send, once it may be sent (see [`Answer`]); each answer is given once.
    pub fn transmit(&mut self) -> Option<&[u8]> {
        if self.tx_state != Answer::Ready {
            return None;
        }
        self.tx_state = Answer::None;
        let n = core::mem::take(&mut self.tx_len);
        self.tx.get(..n)
    }

    /// The areas changed and not yet saved.
    pub fn unsaved(&self) -> AreaSet {
        self.parts.dirty
    }

    /// What the display shows.
    pub fn display(&self) -> Display {
        let p = &self.parts;
        let (tariff, price) = p.price_in_force();
        Display {
            balance: p.account.remaining(),
            overdrawn: p.account.overdrawn(),
            energy: p.registers.total(Flow::Import),
            tariff,
            price,
            relay: p.account.relay(),
            alarms: p.account.alarms(),
            relay_fault: p.relay_fault,
            cover_open: p.cover_open,
        }
    }

    /// The alarm LED and the buzzer.
    pub fn indicators(&self) -> Indicators {
        let p = &self.parts;
        Indicators {
            alarm_led: p.account.alarms().output() || p.relay_fault,
            buzzer: self.buzzer_until.is_some_and(|t| p.now < t),
        }
    }

    /// The stored form of `area` written into `out`; returns its length. Written from the
    /// meter's engines where they are, without a copy of their state.
    ///
    /// Error: [`SnapshotError::BufferTooSmall`] if `out` is shorter than
    /// [`Meter::stored_len`].
    pub fn stored_form(&self, area: Area, out: &mut [u8]) -> Result<usize, SnapshotError> {
        let p = &self.parts;
        match area {
            Area::Hot => emit_fields::<MeterState>(out, |w| self.write_hot(w)),
            Area::Logs => emit_fields::<MeterLogs<LN>>(out, |w| p.write_logs(w)),
            Area::Freezes => {
                emit_fields::<FreezesState<Money, 5, HN, DN, SN>>(out, |w| p.freezes.write_to(w))
            }
            Area::Tariff => p.tariff.emit(out),
            Area::Keys => p.keys.emit(out),
        }
    }

    /// The length of [`Meter::stored_form`] of `area` now.
    pub fn stored_len(&self, area: Area) -> usize {
        let p = &self.parts;
        match area {
            Area::Hot => fields_len(|w| self.write_hot(w)),
            Area::Logs => fields_len(|w| p.write_logs(w)),
            Area::Freezes => fields_len(|w| p.freezes.write_to(w)),
            Area::Tariff => p.tariff.buffer_len(),
            Area::Keys => p.keys.buffer_len(),
        }
    }

    /// The fields of [`Meter::hot_state`], in its order, each engine's state taken in turn
    /// (never the whole hot state at once).
    fn write_hot(&self, w: &mut Writer<'_>) -> Result<(), SnapshotError> {
        let p = &self.parts;
        p.account.state().write_to(w)?;
        p.security.state().write_to(w)?;
        self.server.state().write_to(w)?;
        p.registers.state().write_to(w)?;
        p.accumulator.state().write_to(w)?;
        p.rater.state().write_to(w)?;
        p.demand.state().write_to(w)?;
        p.clock_offset.write_to(w)?;
        p.last.write_to(w)?;
        (p.contacts == Contacts::Closed).write_to(w)?;
        p.relay_fault.write_to(w)?;
        p.cover_opened.write_to(w)
    }

    /// The value that must never go back (the store keeps it where a corrupted hot state
    /// cannot take it, [`Stored::guard_floor`]): the key version in the high 32 bits, the last
    /// accepted command counter in the low ones.
    pub fn guard(&self) -> u64 {
        let s = self.parts.security.state();
        u64::from(s.key_version) << 32 | u64::from(s.last_counter)
    }

    /// The hot state as plain data.
    pub fn hot_state(&self) -> MeterState {
        let p = &self.parts;
        MeterState {
            account: p.account.state(),
            security: p.security.state(),
            server: self.server.state(),
            registers: p.registers.state(),
            accumulator: p.accumulator.state(),
            rater: p.rater.state(),
            demand: p.demand.state(),
            clock_offset: p.clock_offset,
            last: p.last,
            closed: p.contacts == Contacts::Closed,
            relay_fault: p.relay_fault,
            cover_opened: p.cover_opened,
        }
    }

    /// Whether the hot state is `state`: [`Meter::hot_state`] `== state`, compared engine by
    /// engine, without a second copy of the whole state on the stack (nor in the caller's
    /// frame: not inlined).
    #[inline(never)]
    fn hot_state_is(&self, state: &MeterState) -> bool {
        let p = &self.parts;
        p.account.state() == state.account
            && p.security.state() == state.security
            && self.server.state() == state.server
            && p.registers.state() == state.registers
            && p.accumulator.state() == state.accumulator
            && p.rater.state() == state.rater
            && p.demand.state() == state.demand
            && p.clock_offset == state.clock_offset
            && p.last == state.last
            && (p.contacts == Contacts::Closed) == state.closed
            && p.relay_fault == state.relay_fault
            && p.cover_opened == state.cover_opened
    }

    /// The prepaid account.
    pub fn account(&self) -> &MoneyAccount {
        &self.parts.account
    }

    /// The account's logs.
    pub fn logs(&self) -> &Logs<Money, LN> {
        &self.parts.logs
    }

    /// The energy registers.
    pub fn registers(&self) -> &EnergyRegisters {
        &self.parts.registers
    }

    /// The demand meter: the maximum demand over [`MeterConfig::demand_secs`] windows.
    pub fn demand(&self) -> &DemandMeter {
        &self.parts.demand
    }

    /// The tariff.
    pub fn tariff(&self) -> &Tariff<S, D, P, DEFAULT_TARIFFS, H> {
        &self.parts.tariff
    }

    /// The last `LN` clock changes: 08H broadcast corrections, 14H writes of the date or time
    /// (plain or sealed), and steps back of the caller's clock that no command made
    /// ([`ClockSource::Local`], seen at a tick or a received frame, or at the first one after a
    /// restart). [`Ring::pushed`] counts them all. The server's
    /// [`clock_log`](Server::clock_log) counts the commands' changes too, and the refused
    /// broadcasts.
    pub fn clock_changes(&self) -> &Ring<ClockChange, LN> {
        &self.parts.clocks
    }

    /// The frozen records.
    pub fn freezes(&self) -> &Freezes<Money, 5, HN, DN, SN> {
        &self.parts.freezes
    }

    /// The security engine.
    pub fn security(&self) -> &MeterSecurity<SoftwareModule> {
        &self.parts.security
    }

    /// The DL/T 645 server.
    pub fn server(&self) -> &Server {
        &self.server
    }

    /// The relay trip records (DL/T 645 1D00xxxx), newest last.
    pub fn trips(&self) -> &Ring<RelayRecord, LN> {
        &self.parts.trips
    }

    /// The relay close records (DL/T 645 1E00xxxx), newest last.
    pub fn closes(&self) -> &Ring<RelayRecord, LN> {
        &self.parts.closes
    }

    /// The meter constant it counts pulses with.
    pub fn constant(&self) -> MeterConstant {
        self.parts.accumulator.constant()
    }

    /// Where the relay was last driven.
    pub fn contacts(&self) -> Contacts {
        self.parts.contacts
    }

    /// How many times the terminal cover was opened.
    pub fn cover_openings(&self) -> u32 {
        self.parts.cover_opened
    }

    /// Collects the actions after a call at meter time `at`.
    fn finish(&mut self, at: Timestamp, answer: Answer) -> Actions {
        if core::mem::take(&mut self.parts.alarm_raised) {
            self.buzzer_until = at.checked_add_secs(BUZZER_SECS);
        }
        Actions {
            drive: self.parts.drive.take(),
            save: self.parts.dirty,
            answer,
            next: if self.parts.dirty.is_empty() {
                TICK
            } else {
                Duration::ZERO
            },
        }
    }
}

impl<
    const HN: usize,
    const DN: usize,
    const SN: usize,
    const LN: usize,
    const S: usize,
    const D: usize,
    const P: usize,
    const H: usize,
> Parts<HN, DN, SN, LN, S, D, P, H>
{
    /// Counts `pulses` at meter time `at`: energy, demand, rating, registers, debit. Returns
    /// the energy added.
    fn consume(&mut self, at: Timestamp, pulses: u32) -> Energy {
        // The pulses were counted since the last tick, before `at`: they are rated and added to
        // the demand at the last second before `at` (not before the last tick), so that a tick
        // on a tariff switch, a tier settlement or a demand boundary puts them in the period
        // they were counted in. The demand windows are then closed up to `at`.
        let counted = at
            .checked_add_secs(-1)
            .map_or(at, |t| self.last.map_or(t, |last| t.max(last)))
            .min(at);
        let _ = self.demand.add(counted, pulses);
        let _ = self.demand.add(at, 0);
        let energy = self.accumulator.add_pulses(u64::from(pulses));
        if energy == Energy::ZERO {
            return energy;
        }
        match self.rater.rate(&self.tariff, energy, counted) {
            Ok(rated) => {
                let _ = self.registers.add(Flow::Import, rated.slot.tariff, energy);
                // A remote cost-control account holds no money and refuses debits: the
                // head-end rates the registers instead. (The only other refusal is an i64
                // overflow of the balance.)
                if let Ok(fx) = self.account.debit(at, rated.money) {
                    self.apply(&fx, METER_OPERATOR, at);
                }
            }
            // The tariff could not rate the instant (a clock outside the calendar's years):
            // the energy is still registered, under tariff 1, and nothing is charged.
            Err(_) => {
                let _ = self.registers.add(Flow::Import, 1, energy);
            }
        }
        energy
    }

    /// Takes the freezes due between the last call and `at`.
    fn freeze_due(&mut self, at: Timestamp) {
        let Some(last) = self.last else {
            return;
        };
        let due = self.schedule.due(last, at);
        if due.is_empty() {
            return;
        }
        let t = self.registers.tariffs(Flow::Import);
        let energy = [self.registers.total(Flow::Import), t[0], t[1], t[2], t[3]];
        if self.freezes.record(&due, energy, self.account.balance()) > 0 {
            self.dirty = self.dirty.with(Area::Freezes).with(Area::Hot);
        }
    }

    /// Acts on what the account decided: logs it, decides the relay drive and writes the
    /// DL/T 645 trip or close record.
    fn apply(&mut self, fx: &Effects<Money>, operator: OperatorCode, at: Timestamp) {
        if fx.is_quiet() {
            return;
        }
        self.logs.record(fx);
        self.dirty = self.dirty.with(Area::Logs).with(Area::Hot);
        if fx.alarm.is_some_and(|a| !a.raised().is_empty()) {
            self.alarm_raised = true;
        }
        if let Some(contacts) = fx.drive {
            self.contacts = contacts;
            self.drive = Some(contacts);
            let record = RelayRecord {
                time: at,
                operator: operator.0,
                forward: self.registers.total(Flow::Import),
                reverse: self.registers.total(Flow::Export),
            };
            let _ = match contacts {
                Contacts::Open => self.trips.push(record),
                Contacts::Closed => self.closes.push(record),
            };
        }
    }

    /// The fields of a [`MeterLogs`], from the logs and rings themselves.
    fn write_logs(&self, w: &mut Writer<'_>) -> Result<(), SnapshotError> {
        self.logs.write_to(w)?;
        self.trips.write_to(w)?;
        self.closes.write_to(w)?;
        self.clocks.write_to(w)
    }

    /// The tariff number and the price (TOU plus tier) in force now.
    fn price_in_force(&self) -> (u8, Price) {
        let Ok(slot) = self.tariff.slot_at(self.now) else {
            return (0, Price::ZERO);
        };
        let tiers = self.tariff.set(slot.set).tiers();
        let tier = tiers.price(tiers.tier_of(self.rater.tier_energy()));
        (
            slot.tariff,
            slot.price.checked_add(tier).unwrap_or(slot.price),
        )
    }
}

/// The operator code of a 14H write frame (after its identifier and password), if `frame` is
/// one.
fn write_operator(frame: &[u8]) -> Option<OperatorCode> {
    let frame = Frame::new_checked(skip_preamble(frame)).ok()?;
    let repr = FrameRepr::parse(&frame).ok()?;
    if repr.control.function != Function::Write {
        return None;
    }
    let (_, rest) = repr.data.split_at(8)?;
    let (operator, _) = rest.split_at(4)?;
    operator.array().map(OperatorCode)
}
