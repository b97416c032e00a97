//! The meter side: request frames in, answer frames out.
//!
//! [`Server::handle`] takes the bytes of one request frame (as the
//! [`StreamDecoder`](crate::wire::dlt645::StreamDecoder) yields them, with or without preamble)
//! and the current time, and writes the answer into a buffer, or stays silent:
//!
//! | request | answer |
//! |---|---|
//! | not a valid frame, or a response | silence |
//! | addressed to another meter | silence |
//! | wildcard address (`A` nibbles) and a function other than 11H, 12H, 13H, 01H | silence, nothing done |
//! | broadcast address (08H time, 16H freeze act; others ignored) | silence, always |
//! | data that do not fit the function code | error answer, `ERR` = other |
//! | 11H read of an unknown identifier | error answer, `ERR` = no requested data |
//! | 11H read longer than `max_read_len` | first part with D5 set; 12H follow-ups with `SEQ` 1, 2, ... |
//! | 14H of a read-only identifier | `ERR` = unauthorised |
//! | plain 14H (levels 00..09) of a [protected](Access::Protected) identifier (prices, tiers, money limits, customer number, tariff tables, clock, ...) without [`PlaintextPolicy::parameters`] | `ERR` = unauthorised, password not compared |
//! | plain 1CH (levels 00..09) without [`PlaintextPolicy::relay`] | `ERR` = unauthorised, password not compared |
//! | 14H, 18H, 19H, 1AH, 1BH, plain 1CH once [`password_daily_limit`](ServerConfig::password_daily_limit) wrong passwords were sent this local day | `ERR` = unauthorised, password not compared, until the next local midnight |
//! | the same with a wrong password (counted), or a level above the one required (not counted) | `ERR` = unauthorised |
//! | 1CH whose valid-until time has passed | `ERR` = other |
//! | password level 98H/99H (sealed) | [`MeterData::sealed`] decides |
//! | 03H | [`MeterData::security`] decides; errors as `SERR` |
//! | a refusal by the meter | the [`Refusal`]'s `ERR` bits |
//!
//! Every refused command leaves the meter unchanged. By default money, the tariff and the relay
//! change only through sealed commands, whose counter the security layer behind
//! [`MeterData::sealed`] and [`MeterData::security`] keeps (DESIGN.md, Security); plain
//! passwords still guard the meter number and the clears (19H, 1AH, 1BH).
//! [`PlaintextPolicy`] re-opens the plain paths for legacy masters.
//!
//! Follow-up frames are stateless: the server regenerates the answer and sends part `SEQ`, so
//! a value that changes between two follow-ups may be torn; masters read long blocks quickly.
//!
//! The server's own state is the passwords (changed by 18H) and the wrong-password record;
//! [`Server::state`] gives them for storage and [`Server::restore`] takes them back.

use core::fmt;

use subtle::ConstantTimeEq;

use super::data::{Measurement, MeterData, PriceNow, Refusal, RelayEvent, TableEntry};
use crate::address::Address;
use crate::bcd::{self, DateTimeFormat, NumberFormat};
use crate::security::{FailureRecord, Lockout, LockoutPolicy};
use crate::time::{DateTime, Timestamp, UtcOffset};
use crate::units::{Energy, Money, Price};
use crate::wire::dlt645::registry::{
    self, Access, CountParam, DiEntry, EnergyKind, Format, FreezeKind, Item, Limit, PurchaseField,
    Value,
};
use crate::wire::dlt645::{
    Data, Di, ErrorCode, Frame, FrameRepr, Function, MAX_READ_DATA_LEN, Password, RelayCommand,
    RelayOrder, Request, Response, skip_preamble,
};

/// A server configuration that [`Server::new`] refused.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
#[non_exhaustive]
pub enum ConfigError {
    /// More than 4 preamble bytes.
    Preamble,
    /// `max_read_len` outside 16..=200.
    ReadLength,
    /// A password level above 9.
    Level,
    /// A daily wrong-password limit of zero (it would lock plaintext commands out for good).
    FailureLimit,
}

impl fmt::Display for ConfigError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            ConfigError::Preamble => "at most 4 preamble bytes",
            ConfigError::ReadLength => "max_read_len must lie in 16..=200",
            ConfigError::Level => "password levels are 0..=9",
            ConfigError::FailureLimit => "the daily wrong-password limit must be at least 1",
        })
    }
}

impl core::error::Error for ConfigError {}

/// The passwords of levels 0 (highest) to 9, three bytes each in wire order (`P0 P1 P2`).
#[derive(Clone, Debug, PartialEq, Eq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
pub struct Passwords {
    codes: [[u8; 3]; 10],
}

impl Passwords {
    /// Every level with the same password (factory state; set real ones before deployment).
    pub const fn new(all: [u8; 3]) -> Passwords {
        Passwords { codes: [all; 10] }
    }

    /// With the password of `level` replaced, or [`ConfigError::Level`] above 9.
    pub fn with(mut self, level: u8, code: [u8; 3]) -> Result<Passwords, ConfigError> {
        *self
            .codes
            .get_mut(usize::from(level))
            .ok_or(ConfigError::Level)? = code;
        Ok(self)
    }

    /// The password of `level`.
    pub fn get(&self, level: u8) -> Option<[u8; 3]> {
        self.codes.get(usize::from(level)).copied()
    }

    /// `true` if `password` is right for its level and its level is `required` or higher (a
    /// number at most `required`). Compares in constant time.
    pub fn verify(&self, password: Password, required: u8) -> bool {
        if password.level > required {
            return false;
        }
        match self.codes.get(usize::from(password.level)) {
            Some(stored) => stored.ct_eq(&password.code).into(),
            None => false,
        }
    }
}

impl Default for Passwords {
    fn default() -> Passwords {
        Passwords::new([0; 3])
    }
}

/// DL/T 645 plaintext compatibility: which protected operations a [`Server`] also accepts with
/// a plain password (levels 00..09) instead of a sealed command (98H/99H). Everything is off by
/// default.
///
/// A plain password travels in clear in every frame and a plain command carries no counter:
/// anyone who hears one frame can send it again, and a plain relay command stays valid until
/// its own valid-until time. Turn these on only for legacy masters and test benches, on links
/// nobody else can reach.
///
/// ```
/// use prepaid_meter::endpoint::dlt645::{PlaintextPolicy, ServerConfig};
/// // A test bench for head-end software that writes prices and trips relays in plaintext.
/// let config = ServerConfig {
///     plaintext: PlaintextPolicy::ALL,
///     ..ServerConfig::default()
/// };
/// assert_eq!(ServerConfig::default().plaintext, PlaintextPolicy::NONE);
/// # let _ = config;
/// ```
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub struct PlaintextPolicy {
    /// 14H writes of [protected](Access::Protected) identifiers (prices, tiers, money limits,
    /// customer number, tariff tables and switch times, clock, settlement days, trip delay)
    /// with a plain password of the entry's level, and 1AH meter clear with a plain password of
    /// [`ServerConfig::clear_level`].
    pub parameters: bool,
    /// 1CH relay control with a plain password of [`ServerConfig::relay_level`].
    pub relay: bool,
}

impl PlaintextPolicy {
    /// Sealed commands only (the default).
    pub const NONE: PlaintextPolicy = PlaintextPolicy {
        parameters: false,
        relay: false,
    };
    /// Plain parameter writes and plain relay control both accepted (legacy masters).
    pub const ALL: PlaintextPolicy = PlaintextPolicy {
        parameters: true,
        relay: true,
    };
}

/// How a [`Server`] behaves.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ServerConfig {
    /// The meter's local time zone (UTC+8 by default).
    pub offset: UtcOffset,
    /// The passwords (all `000000` by default).
    pub passwords: Passwords,
    /// `FE` bytes before each answer, 0..=4 (default 0).
    pub preamble: u8,
    /// Data bytes per read answer, identifier and sequence number included, 16..=200
    /// (default 200).
    pub max_read_len: u8,
    /// The lowest password level allowed to clear demand, events or the meter (default 2).
    pub clear_level: u8,
    /// The lowest password level allowed to send plaintext relay commands (default 4), when
    /// [`PlaintextPolicy::relay`] allows them at all.
    pub relay_level: u8,
    /// Plaintext compatibility (default: none; sealed commands only).
    pub plaintext: PlaintextPolicy,
    /// Wrong plain passwords accepted per local day (at [`offset`](Self::offset)), at least 1
    /// (default 3). When the limit is reached, every command checked by a plain password (14H,
    /// 18H, 19H, 1AH, 1BH, plain 1CH) is refused, right password or not, until the next local
    /// midnight. Sealed commands are not affected (the security layer counts its own failures).
    pub password_daily_limit: u16,
}

impl Default for ServerConfig {
    fn default() -> ServerConfig {
        ServerConfig {
            offset: UtcOffset::CHINA,
            passwords: Passwords::default(),
            preamble: 0,
            max_read_len: MAX_READ_DATA_LEN as u8,
            clear_level: 2,
            relay_level: 4,
            plaintext: PlaintextPolicy::NONE,
            password_daily_limit: 3,
        }
    }
}

/// The server's own state, for storage in non-volatile memory: the passwords (changed by 18H)
/// and the wrong-password record.
///
/// Plain data. Store it whenever it changed ([`Server::state`] after [`Server::handle`]) and
/// before sending the answer: a meter that forgets its failure count on a power cycle gives
/// an attacker a fresh day of guesses per cycle.
#[derive(Clone, Debug, PartialEq, Eq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
pub struct ServerState {
    /// The passwords.
    pub passwords: Passwords,
    /// Wrong plain passwords: today's count (local day at [`ServerConfig::offset`]) and the
    /// count since the last right one.
    pub failures: FailureRecord,
}

/// The meter side of DL/T 645-2007, over a [`MeterData`].
#[derive(Clone, Debug)]
pub struct Server<M> {
    meter: M,
    config: ServerConfig,
    lockout: LockoutPolicy,
    failures: FailureRecord,
}

/// Collects the part of an answer that belongs in one frame.
struct Sink<'o> {
    out: &'o mut [u8],
    skip: usize,
    total: usize,
}

impl Sink<'_> {
    fn put(&mut self, bytes: &[u8]) {
        for &b in bytes {
            if let Some(i) = self.total.checked_sub(self.skip)
                && let Some(slot) = self.out.get_mut(i)
            {
                *slot = b;
            }
            self.total += 1;
        }
    }

    fn written(&self) -> usize {
        self.total.saturating_sub(self.skip).min(self.out.len())
    }
}

type Reply = Result<(), ErrorCode>;

const NO_DATA: ErrorCode = ErrorCode::NO_DATA;
const OTHER: ErrorCode = ErrorCode::OTHER;

fn put_number(sink: &mut Sink<'_>, format: NumberFormat, mantissa: i64) -> Reply {
    let mut tmp = [0u8; 9];
    let slot = tmp.get_mut(..usize::from(format.len)).ok_or(OTHER)?;
    format.encode(mantissa, slot).map_err(|_| OTHER)?;
    sink.put(slot);
    Ok(())
}

fn put_date_time(sink: &mut Sink<'_>, format: DateTimeFormat, dt: DateTime) -> Reply {
    let mut tmp = [0u8; 6];
    let slot = tmp.get_mut(..format.len()).ok_or(OTHER)?;
    format.encode(dt, slot).map_err(|_| OTHER)?;
    sink.put(slot);
    Ok(())
}

fn energy_mantissa(e: Energy) -> i64 {
    e.to_centi_kwh().0
}

fn money_mantissa(m: Money) -> i64 {
    m.to_cents().0
}

fn price_mantissa(p: Price) -> i64 {
    i64::from(p.minor_per_kwh())
}

/// The functions a frame to a wildcard address may carry: those that change nothing (11H,
/// 12H, 13H, and the DL/T 645-1997 read 01H).
const fn wildcard_allowed(function: Function) -> bool {
    matches!(
        function,
        Function::Read | Function::ReadFollowUp | Function::ReadAddress | Function::Read1997
    )
}

fn number_format(entry: &DiEntry) -> Result<NumberFormat, ErrorCode> {
    match entry.format {
        Format::Number(f) => Ok(f),
        _ => Err(OTHER),
    }
}

impl<M: MeterData> Server<M> {
    /// A server over `meter`; checks the configuration once.
    pub fn new(meter: M, config: ServerConfig) -> Result<Server<M>, ConfigError> {
        if config.preamble > 4 {
            return Err(ConfigError::Preamble);
        }
        if !(16..=MAX_READ_DATA_LEN as u8).contains(&config.max_read_len) {
            return Err(ConfigError::ReadLength);
        }
        if config.clear_level > 9 || config.relay_level > 9 {
            return Err(ConfigError::Level);
        }
        // Wrong passwords lock out for the rest of the local day; they never suspend the meter
        // (a suspension needs a local action, which the protocol has no way to ask for).
        let lockout = LockoutPolicy::new(config.password_daily_limit, u32::MAX, config.offset)
            .map_err(|_| ConfigError::FailureLimit)?;
        Ok(Server {
            meter,
            config,
            lockout,
            failures: FailureRecord::default(),
        })
    }

    /// A server over `meter` with stored state (after a restart): the passwords of `state`
    /// replace those of `config`, and the wrong-password record carries on.
    pub fn restore(
        meter: M,
        config: ServerConfig,
        state: ServerState,
    ) -> Result<Server<M>, ConfigError> {
        let mut server = Server::new(meter, config)?;
        server.config.passwords = state.passwords;
        server.failures = state.failures;
        Ok(server)
    }

    /// The server's state, for storage (see [`ServerState`]).
    pub fn state(&self) -> ServerState {
        ServerState {
            passwords: self.config.passwords.clone(),
            failures: self.failures,
        }
    }

    /// `true` while wrong passwords lock plaintext commands out (until the local midnight after
    /// the daily limit was reached).
    pub fn is_locked(&self, now: Timestamp) -> bool {
        self.failures.lockout(&self.lockout, now) != Lockout::Open
    }

    /// The meter.
    pub fn meter(&self) -> &M {
        &self.meter
    }

    /// The meter, mutable.
    pub fn meter_mut(&mut self) -> &mut M {
        &mut self.meter
    }

    /// The meter back.
    pub fn into_meter(self) -> M {
        self.meter
    }

    /// The configuration.
    pub fn config(&self) -> &ServerConfig {
        &self.config
    }

    /// The current passwords (changed by 18H), for storage.
    pub fn passwords(&self) -> &Passwords {
        &self.config.passwords
    }

    /// Answers one request frame (preamble allowed) received at `now`. Returns the length of
    /// the answer written into `out`, or `None` for silence (see the module docs). An `out`
    /// shorter than the answer also gives `None`; 300 bytes always suffice.
    pub fn handle(&mut self, request: &[u8], now: Timestamp, out: &mut [u8]) -> Option<usize> {
        let frame = Frame::new_checked(skip_preamble(request)).ok()?;
        let repr = FrameRepr::parse(&frame).ok()?;
        self.handle_repr(&repr, now, out)
    }

    /// Answers a parsed request frame; see [`Server::handle`].
    pub fn handle_repr(
        &mut self,
        repr: &FrameRepr<'_>,
        now: Timestamp,
        out: &mut [u8],
    ) -> Option<usize> {
        if repr.control.is_response() {
            return None;
        }
        let me = self.meter.address();
        if repr.address.is_broadcast() {
            if let Ok(request) = Request::parse(repr) {
                match request {
                    Request::BroadcastTime { time } => {
                        let _ = self.meter.set_clock(time);
                    }
                    Request::Freeze { time } => {
                        let _ = self.meter.freeze(time);
                    }
                    _ => {}
                }
            }
            return None;
        }
        let function = repr.control.function;
        // A wildcard reaches every meter on the bus: only reads may be sent to one.
        if repr.address.has_wildcard() && !wildcard_allowed(function) {
            return None;
        }
        if !repr.address.matches(me) {
            return None;
        }
        let mut scratch = [0u8; MAX_READ_DATA_LEN];
        let (from, response) = match Request::parse(repr) {
            Err(_) => (
                me,
                Response::Error {
                    function,
                    code: OTHER,
                },
            ),
            Ok(request) => match self.answer(&request, now, &mut scratch) {
                Ok(Some((from, response))) => (from.unwrap_or(me), response),
                Ok(None) => return None,
                Err(code) => (me, Response::Error { function, code }),
            },
        };
        response
            .emit(from, out, usize::from(self.config.preamble))
            .ok()
    }

    fn local_now(&self, now: Timestamp) -> Result<DateTime, ErrorCode> {
        DateTime::from_timestamp(now, self.config.offset).map_err(|_| OTHER)
    }

    /// The answer to a request addressed to this meter: `Ok(None)` for silence, the source
    /// address if it is not the meter's (after 15H).
    #[allow(clippy::type_complexity)]
    fn answer<'s>(
        &mut self,
        request: &Request<'_>,
        now: Timestamp,
        scratch: &'s mut [u8; MAX_READ_DATA_LEN],
    ) -> Result<Option<(Option<Address>, Response<'s>)>, ErrorCode> {
        let ack = |function| Ok(Some((None, Response::Ack { function })));
        match *request {
            Request::Read { di, .. } => {
                let (n, more) = self.read(di, 0, now, scratch)?;
                let data = Data::plain(scratch.get(..n).unwrap_or_default());
                Ok(Some((None, Response::Read { di, data, more })))
            }
            Request::ReadFollowUp { di, seq } => {
                if seq == 0 {
                    return Err(OTHER);
                }
                let (n, more) = self.read(di, seq, now, scratch)?;
                let data = Data::plain(scratch.get(..n).unwrap_or_default());
                Ok(Some((
                    None,
                    Response::ReadFollowUp {
                        di,
                        data,
                        seq,
                        more,
                    },
                )))
            }
            Request::Read1997 { di } => {
                let e97 = registry::lookup_1997(di).ok_or(NO_DATA)?;
                let e07 = registry::lookup(e97.di2007).ok_or(NO_DATA)?;
                if e07.format != e97.format {
                    return Err(NO_DATA);
                }
                let (n, more) = self.read(e97.di2007, 0, now, scratch)?;
                if more {
                    return Err(OTHER);
                }
                let data = Data::plain(scratch.get(..n).unwrap_or_default());
                Ok(Some((
                    None,
                    Response::Read1997 {
                        di,
                        data,
                        more: false,
                    },
                )))
            }
            Request::ReadAddress => Ok(Some((
                None,
                Response::ReadAddress {
                    address: self.meter.address(),
                },
            ))),
            Request::Write {
                di,
                password,
                value,
                ..
            } => {
                self.write(request, di, password, value, now)?;
                ack(Function::Write)
            }
            Request::WriteAddress { address } => {
                if address.has_wildcard() || address.is_broadcast() {
                    return Err(OTHER);
                }
                self.meter
                    .set_address(address)
                    .map_err(Refusal::error_code)?;
                Ok(Some((
                    Some(address),
                    Response::Ack {
                        function: Function::WriteAddress,
                    },
                )))
            }
            Request::BroadcastTime { time } => {
                // Never answered, even when addressed to this meter alone.
                let _ = self.meter.set_clock(time);
                Ok(None)
            }
            Request::Freeze { time } => {
                self.meter.freeze(time).map_err(Refusal::error_code)?;
                ack(Function::Freeze)
            }
            Request::ChangeBaud { rate } => {
                if rate.bps().is_none() {
                    return Err(ErrorCode::BAUD_RATE);
                }
                self.meter.change_baud(rate).map_err(Refusal::error_code)?;
                Ok(Some((None, Response::ChangeBaud { rate })))
            }
            Request::ChangePassword { di, old, new } => {
                let target = match (di.di3(), di.di2(), di.di1(), di.di0()) {
                    (0x04, 0x00, 0x0C, n @ 1..=10) => n - 1,
                    _ => return Err(OTHER),
                };
                if new.level != target {
                    return Err(ErrorCode::UNAUTHORIZED);
                }
                self.check_password(old, target, now)?;
                self.config.passwords = self
                    .config
                    .passwords
                    .clone()
                    .with(target, new.code)
                    .map_err(|_| OTHER)?;
                Ok(Some((None, Response::ChangePassword { new })))
            }
            Request::ClearMaxDemand { password, operator } => {
                self.authorize_clear(request, password, now)?;
                self.meter
                    .clear_max_demand(operator)
                    .map_err(Refusal::error_code)?;
                ack(Function::ClearMaxDemand)
            }
            Request::MeterClear {
                password, operator, ..
            } => {
                if password.is_sealed() {
                    self.meter
                        .sealed(request, now)
                        .map_err(Refusal::error_code)?;
                } else {
                    // Clearing the meter resets the energy (and the tier consumption) that
                    // money depends on: a plain password does not suffice unless opted in.
                    if !self.config.plaintext.parameters {
                        return Err(ErrorCode::UNAUTHORIZED);
                    }
                    self.authorize_clear(request, password, now)?;
                    self.meter
                        .meter_clear(operator)
                        .map_err(Refusal::error_code)?;
                }
                ack(Function::MeterClear)
            }
            Request::EventClear {
                password,
                operator,
                di,
            } => {
                self.authorize_clear(request, password, now)?;
                self.meter
                    .event_clear(di, operator)
                    .map_err(Refusal::error_code)?;
                ack(Function::EventClear)
            }
            Request::RelayControl {
                password,
                operator,
                order,
            } => match order {
                RelayOrder::Sealed(_) => match self.meter.sealed(request, now) {
                    Ok(()) => ack(Function::RelayControl),
                    Err(r) => Ok(Some((
                        None,
                        Response::RelayError {
                            word: r.relay_status(),
                        },
                    ))),
                },
                RelayOrder::Plain {
                    command,
                    n2,
                    valid_until,
                } => {
                    // Plain relay control carries no counter: refused unless opted in.
                    if !self.config.plaintext.relay || password.is_sealed() {
                        return Err(ErrorCode::UNAUTHORIZED);
                    }
                    self.check_password(password, self.config.relay_level, now)?;
                    if matches!(command, RelayCommand::Unknown(_)) {
                        return Err(OTHER);
                    }
                    if valid_until.to_timestamp(self.config.offset) <= now {
                        return Err(Refusal::Expired.error_code());
                    }
                    self.meter
                        .relay(command, n2, operator, now)
                        .map_err(Refusal::error_code)?;
                    ack(Function::RelayControl)
                }
            },
            Request::Security {
                di,
                operator,
                payload,
            } => {
                let room = scratch.len().saturating_sub(4);
                let out = scratch.get_mut(..room).unwrap_or_default();
                match self.meter.security(di, operator, payload, now, out) {
                    Ok(n) => {
                        let data = Data::plain(scratch.get(..n).ok_or(OTHER)?);
                        Ok(Some((None, Response::Security { di, data })))
                    }
                    Err(word) => Ok(Some((None, Response::SecurityError { word }))),
                }
            }
            _ => Err(OTHER),
        }
    }

    fn authorize_clear(
        &mut self,
        request: &Request<'_>,
        password: Password,
        now: Timestamp,
    ) -> Result<(), ErrorCode> {
        if password.is_sealed() {
            return self.meter.sealed(request, now).map_err(Refusal::error_code);
        }
        self.check_password(password, self.config.clear_level, now)
    }

    /// Checks a plain password for a command that needs level `required` or higher. While the
    /// daily failure limit is reached, every password is refused without being compared. A
    /// password of a level too low is refused without counting (it is no guess at a higher
    /// level's code); a wrong code counts one failure.
    fn check_password(
        &mut self,
        password: Password,
        required: u8,
        now: Timestamp,
    ) -> Result<(), ErrorCode> {
        if self.is_locked(now) || password.level > required {
            return Err(ErrorCode::UNAUTHORIZED);
        }
        if self.config.passwords.verify(password, required) {
            self.failures.record_success();
            Ok(())
        } else {
            self.failures.record_failure(&self.lockout, now);
            Err(ErrorCode::UNAUTHORIZED)
        }
    }

    /// Part `seq` of the answer to a read of `di`: bytes written into `scratch` and whether
    /// more parts follow.
    fn read(
        &self,
        di: Di,
        seq: u8,
        now: Timestamp,
        scratch: &mut [u8],
    ) -> Result<(usize, bool), ErrorCode> {
        let entry = registry::lookup(di).ok_or(NO_DATA)?;
        if entry.access == Access::WriteOnly {
            return Err(ErrorCode::UNAUTHORIZED);
        }
        // Every frame carries the identifier and (in follow-ups) the sequence number.
        let chunk = usize::from(self.config.max_read_len) - 5;
        let skip = usize::from(seq) * chunk;
        let mut sink = Sink {
            out: scratch.get_mut(..chunk).ok_or(OTHER)?,
            skip,
            total: 0,
        };
        let tariffs = self.meter.tariff_count();
        let block = entry.is_block(di);
        let (lo1, hi1) = if entry.block_di1 && di.di1() == 0xFF {
            let hi = match entry.item {
                Item::Energy(_) => entry.di1_max.min(tariffs),
                _ => entry.di1_max,
            };
            (entry.di.di1(), hi)
        } else {
            (di.di1(), di.di1())
        };
        let (lo0, hi0) = if entry.block_di0 && di.di0() == 0xFF {
            let hi = match entry.item {
                Item::Price => entry.di0_max.min(tariffs),
                _ => entry.di0_max,
            };
            (entry.di.di0(), hi)
        } else {
            (di.di0(), di.di0())
        };
        for di1 in lo1..=hi1 {
            for di0 in lo0..=hi0 {
                let element = Di::new(di.di3(), di.di2(), di1, di0);
                match self.element(entry, element, now, &mut sink) {
                    Ok(()) => {}
                    Err(e) if block && e == NO_DATA => {
                        // "Not present" inside a block: FF bytes.
                        let n = entry.format.fixed_len().ok_or(NO_DATA)?;
                        for _ in 0..n {
                            sink.put(&[0xFF]);
                        }
                    }
                    Err(e) => return Err(e),
                }
            }
        }
        if seq > 0 && sink.total <= skip {
            return Err(NO_DATA);
        }
        Ok((sink.written(), sink.total > skip + chunk))
    }

    /// One value (or record) of `entry` at the concrete identifier `di`.
    fn element(&self, entry: &DiEntry, di: Di, now: Timestamp, sink: &mut Sink<'_>) -> Reply {
        let m = &self.meter;
        let (di1, di0) = (di.di1(), di.di0());
        let number = |sink: &mut Sink<'_>, v: Option<i64>| -> Reply {
            put_number(sink, number_format(entry)?, v.ok_or(NO_DATA)?)
        };
        match entry.item {
            Item::Energy(kind) => number(sink, m.energy(kind, di1, di0).map(energy_mantissa)),
            Item::RemainingEnergy => number(sink, m.remaining_energy().map(energy_mantissa)),
            Item::OverdrawnEnergy => number(sink, m.overdrawn_energy().map(energy_mantissa)),
            Item::Balance => number(sink, m.balance().map(money_mantissa)),
            Item::Overdraft => number(sink, m.overdraft().map(money_mantissa)),
            Item::Voltage => number(sink, m.measurement(Measurement::Voltage(di1))),
            Item::Current => number(sink, m.measurement(Measurement::Current(di1))),
            Item::ActivePower => number(sink, m.measurement(Measurement::ActivePower(di1))),
            Item::PowerFactor => number(sink, m.measurement(Measurement::PowerFactor(di1))),
            Item::Frequency => number(sink, m.measurement(Measurement::Frequency)),
            Item::CurrentTierPrice => number(sink, m.price_now(PriceNow::Tier).map(price_mantissa)),
            Item::CurrentPrice => number(sink, m.price_now(PriceNow::Total).map(price_mantissa)),
            Item::CurrentTariffPrice => {
                number(sink, m.price_now(PriceNow::Tariff).map(price_mantissa))
            }
            Item::AuthRemaining => number(sink, m.auth_remaining().map(i64::from)),
            Item::Purchase(field) => {
                let p = m.purchase(di0).ok_or(NO_DATA)?;
                match field {
                    PurchaseField::Time => put_date_time(sink, DateTimeFormat::YYMMDDhhmm, p.time),
                    PurchaseField::Count => number(sink, Some(i64::from(p.count))),
                    PurchaseField::Amount => number(sink, Some(money_mantissa(p.amount))),
                    PurchaseField::BalanceBefore => {
                        number(sink, Some(money_mantissa(p.balance_before)))
                    }
                    PurchaseField::BalanceAfter => {
                        number(sink, Some(money_mantissa(p.balance_after)))
                    }
                    PurchaseField::Cumulative => number(sink, Some(money_mantissa(p.cumulative))),
                }
            }
            Item::TripCount => number(sink, m.relay_event_count(RelayEvent::Trip).map(i64::from)),
            Item::CloseCount => number(sink, m.relay_event_count(RelayEvent::Close).map(i64::from)),
            Item::TripRecord | Item::CloseRecord => {
                let kind = if entry.item == Item::TripRecord {
                    RelayEvent::Trip
                } else {
                    RelayEvent::Close
                };
                let r = m.relay_event(kind, di0).ok_or(NO_DATA)?;
                put_date_time(sink, DateTimeFormat::YYMMDDhhmmss, r.time)?;
                sink.put(&r.operator.0);
                put_number(sink, NumberFormat::XXXXXX_XX, energy_mantissa(r.forward))?;
                put_number(sink, NumberFormat::XXXXXX_XX, energy_mantissa(r.reverse))
            }
            Item::Date => {
                let mut b = [0u8; 4];
                bcd::encode_date_weekday(self.local_now(now)?.date, &mut b).map_err(|_| OTHER)?;
                sink.put(&b);
                Ok(())
            }
            Item::Time => {
                let mut b = [0u8; 3];
                bcd::encode_time(self.local_now(now)?.time, &mut b).map_err(|_| OTHER)?;
                sink.put(&b);
                Ok(())
            }
            Item::SwitchTime(s) => put_date_time(
                sink,
                DateTimeFormat::YYMMDDhhmm,
                m.switch_time(s).ok_or(NO_DATA)?,
            ),
            Item::Count(c) => number(sink, m.count(c).map(i64::from)),
            Item::Address => {
                sink.put(&m.address().to_wire());
                Ok(())
            }
            Item::MeterNumber => {
                sink.put(&m.meter_number().ok_or(NO_DATA)?);
                Ok(())
            }
            Item::CustomerNumber => {
                sink.put(&m.customer_number().ok_or(NO_DATA)?);
                Ok(())
            }
            Item::StatusWord => {
                sink.put(&m.status_word(di0).ok_or(NO_DATA)?.to_le_bytes());
                Ok(())
            }
            Item::SettlementDay => {
                let (day, hour) = m.settlement_day(di0).ok_or(NO_DATA)?;
                let b = [
                    bcd::encode_byte(hour).map_err(|_| OTHER)?,
                    bcd::encode_byte(day).map_err(|_| OTHER)?,
                ];
                sink.put(&b);
                Ok(())
            }
            Item::Password => Err(ErrorCode::UNAUTHORIZED),
            Item::Limit => {
                let which = Limit::from_di0(di0).ok_or(NO_DATA)?;
                number(sink, m.limit(which).map(money_mantissa))
            }
            Item::TripDelay => number(sink, m.trip_delay().map(i64::from)),
            Item::Seasons | Item::DayTable => {
                let set = di.di2();
                let mut any = false;
                for index in 0..14 {
                    let entry = if entry.item == Item::Seasons {
                        m.season(set, index)
                    } else {
                        m.day_period(set, di0, index)
                    };
                    let Some(e) = entry else { break };
                    sink.put(&registry::encode_table_entry(e).map_err(|_| OTHER)?);
                    any = true;
                }
                if any { Ok(()) } else { Err(NO_DATA) }
            }
            Item::Price => number(sink, m.price(di1, di0).map(price_mantissa)),
            Item::TierThreshold => {
                let set = if di1 == 0 { 1 } else { 2 };
                number(sink, m.tier_threshold(set, di0).map(energy_mantissa))
            }
            Item::TierPrice => {
                let set = if di1 == 1 { 1 } else { 2 };
                number(sink, m.tier_price(set, di0).map(price_mantissa))
            }
            Item::FreezeTime(kind) => put_date_time(
                sink,
                DateTimeFormat::YYMMDDhhmm,
                m.freeze_time(kind, di0).ok_or(NO_DATA)?,
            ),
            Item::FrozenForward(kind) | Item::FrozenReverse(kind) => {
                let register = if matches!(entry.item, Item::FrozenForward(_)) {
                    EnergyKind::ForwardActive
                } else {
                    EnergyKind::ReverseActive
                };
                let last = match kind {
                    FreezeKind::Hourly => 0,
                    FreezeKind::Daily => m.tariff_count(),
                };
                for tariff in 0..=last {
                    let e = m
                        .frozen_energy(kind, di0, register, tariff)
                        .ok_or(NO_DATA)?;
                    put_number(sink, NumberFormat::XXXXXX_XX, energy_mantissa(e))?;
                }
                Ok(())
            }
        }
    }

    fn write(
        &mut self,
        request: &Request<'_>,
        di: Di,
        password: Password,
        value: Data<'_>,
        now: Timestamp,
    ) -> Reply {
        let entry = registry::lookup(di).ok_or(NO_DATA)?;
        if entry.is_block(di) {
            return Err(OTHER);
        }
        let (level, protected) = match entry.access {
            Access::ReadWrite { level } => (level, false),
            Access::Protected { level } => (level, true),
            Access::Read | Access::WriteOnly => return Err(ErrorCode::UNAUTHORIZED),
        };
        if password.is_sealed() {
            return self.meter.sealed(request, now).map_err(Refusal::error_code);
        }
        // A plain password is no protection for money: refused before it is even checked.
        if protected && !self.config.plaintext.parameters {
            return Err(ErrorCode::UNAUTHORIZED);
        }
        self.check_password(password, level, now)?;
        let mut buf = [0u8; 255];
        let bytes = value.copy_to(&mut buf).ok_or(OTHER)?;
        let v = entry.format.decode(bytes).map_err(|_| OTHER)?;
        self.apply(entry, di, v, now).map_err(Refusal::error_code)
    }

    fn apply(
        &mut self,
        entry: &DiEntry,
        di: Di,
        v: Value<'_>,
        now: Timestamp,
    ) -> Result<(), Refusal> {
        let (di1, di0) = (di.di1(), di.di0());
        let m = &mut self.meter;
        let mantissa = match v {
            Value::Number(d) => Some(d.mantissa),
            _ => None,
        };
        let int = |x: Option<i64>| x.ok_or(Refusal::Invalid);
        let u16_of = |x: Option<i64>| u16::try_from(int(x)?).map_err(|_| Refusal::Invalid);
        let price_of = |x: Option<i64>| {
            u32::try_from(int(x)?)
                .map(Price::from_minor_per_kwh)
                .map_err(|_| Refusal::Invalid)
        };
        let local =
            DateTime::from_timestamp(now, self.config.offset).map_err(|_| Refusal::Invalid)?;
        match (entry.item, v) {
            (Item::Date, Value::Date(d)) => m.set_clock(DateTime::new(d, local.time)),
            (Item::Time, Value::Time(t)) => m.set_clock(DateTime::new(local.date, t)),
            (Item::SwitchTime(s), Value::DateTime(t)) => m.set_switch_time(s, t),
            (Item::Count(c), _) => {
                let n = u16_of(mantissa)?;
                match c {
                    CountParam::Tariffs if n > 63 => Err(Refusal::TooManyTariffs),
                    CountParam::Zones if n > 14 => Err(Refusal::TooManyZones),
                    CountParam::Periods if n > 14 => Err(Refusal::TooManyPeriods),
                    _ => m.set_count(c, n),
                }
            }
            (Item::MeterNumber | Item::CustomerNumber, Value::Digits(b)) => {
                let arr: [u8; 6] = b.try_into().map_err(|_| Refusal::Invalid)?;
                if entry.item == Item::MeterNumber {
                    m.set_meter_number(arr)
                } else {
                    m.set_customer_number(arr)
                }
            }
            (Item::SettlementDay, Value::DayHour { day, hour }) => {
                m.set_settlement_day(di0, day, hour)
            }
            (Item::Limit, _) => {
                let which = Limit::from_di0(di0).ok_or(Refusal::Unsupported)?;
                let value = Money::from_cents(int(mantissa)?).ok_or(Refusal::Invalid)?;
                m.set_limit(which, value)
            }
            (Item::TripDelay, _) => m.set_trip_delay(u16_of(mantissa)?),
            (Item::Seasons | Item::DayTable, Value::Table { kind, bytes }) => {
                let mut entries: [TableEntry; 14] = [(0, 0, 0); 14];
                let mut n = 0;
                for (slot, e) in entries.iter_mut().zip(bytes.chunks_exact(3)) {
                    *slot = registry::decode_table_entry(kind, e).map_err(|_| Refusal::Invalid)?;
                    n += 1;
                }
                let entries = entries.get(..n).unwrap_or_default();
                if entry.item == Item::Seasons {
                    m.set_seasons(di.di2(), entries)
                } else {
                    m.set_day_table(di.di2(), di0, entries)
                }
            }
            (Item::Price, _) => m.set_price(di1, di0, price_of(mantissa)?),
            (Item::TierThreshold, _) => {
                let set = if di1 == 0 { 1 } else { 2 };
                let e = Energy::from_centi_kwh(int(mantissa)?).ok_or(Refusal::Invalid)?;
                m.set_tier_threshold(set, di0, e)
            }
            (Item::TierPrice, _) => {
                let set = if di1 == 1 { 1 } else { 2 };
                m.set_tier_price(set, di0, price_of(mantissa)?)
            }
            _ => Err(Refusal::Unsupported),
        }
    }
}
