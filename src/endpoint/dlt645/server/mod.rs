//! The meter-side server: dispatch of requests to the meter, and the plain-password checks.

use crate::address::Address;
use crate::endpoint::dlt645::data::{MeterData, Refusal};
use crate::relay::RelayCode;
use crate::security::{FailureRecord, Lockout, LockoutPolicy};
use crate::time::{DateTime, Timestamp};
use crate::wire::dlt645::registry;
use crate::wire::dlt645::{
    Data, ErrorCode, Frame, FrameRepr, Function, MAX_READ_DATA_LEN, Password, RelayOrder, Request,
    Response, skip_preamble,
};

mod clock;
mod config;
mod read;
mod write;

pub(crate) use write::{Applied, apply_value};

pub use clock::{
    BROADCAST_GUARD_SECS, BROADCAST_MAX_STEP_SECS, ClockLog, ClockRecord, ClockSource,
};
pub use config::{Passwords, PlaintextPolicy, ServerConfig, ServerConfigError, ServerState};

/// The meter side of DL/T 645-2007: request frames in, answer frames out.
///
/// The server holds only its own protocol state (the configuration with the passwords, and
/// the wrong-password record); the meter it answers for is the caller's, handed to
/// [`Server::handle`] with every request as a [`MeterData`].
///
///  The meter side: request frames in, answer frames out.
///
///  [`Server::handle`] takes the bytes of one request frame (as the
///  [`StreamDecoder`](crate::wire::dlt645::StreamDecoder) yields them, with or without preamble)
///  and the current time, and writes the answer into a buffer, or stays silent:
///
///  | request | answer |
///  |---|---|
///  | not a valid frame, or a response | silence |
///  | addressed to another meter | silence |
///  | wildcard address (`A` nibbles) and a function other than 11H, 12H, 13H, 01H | silence, nothing done |
///  | broadcast address (08H time within the [clock policy](#clock-policy), 16H freeze act; others ignored) | silence, always |
///  | a command (not a read) with an `out` shorter than [`Server::answer_capacity`] | silence, nothing done |
///  | data that do not fit the function code | error answer, `ERR` = other |
///  | 11H read of an unknown identifier | error answer, `ERR` = no requested data |
///  | 11H read longer than `max_read_len` | first part with D5 set; 12H follow-ups with `SEQ` 1, 2, ... |
///  | 14H of a read-only identifier | `ERR` = unauthorised |
///  | plain 14H (levels 00..09) of a [protected](registry::Access::Protected) identifier (prices, tiers, money limits, customer number, tariff tables, clock, ...) without [`PlaintextPolicy::parameters`] | `ERR` = unauthorised, password not compared |
///  | plain 1CH (levels 00..09) without [`PlaintextPolicy::relay`] | `ERR` = unauthorised, password not compared |
///  | 14H, 18H, 19H, 1AH, 1BH, plain 1CH once [`password_daily_limit`](ServerConfig::password_daily_limit) wrong passwords were sent this local day | `ERR` = unauthorised, password not compared, until the next local midnight |
///  | the same with a wrong password (counted), or a level above the one required (not counted) | `ERR` = unauthorised |
///  | 1CH whose valid-until time has passed | `ERR` = other |
///  | 15H, 17H without [`PlaintextPolicy::link`] (they carry no password) | `ERR` = unauthorised |
///  | password level 98H/99H (sealed) | [`MeterData::sealed`] decides |
///  | 03H | [`MeterData::security`] decides; errors as `SERR` |
///  | a refusal by the meter | the [`Refusal`]'s `ERR` bits |
///
///  Every refused command leaves the meter unchanged. By default money, the tariff and the relay
///  change only through sealed commands, whose counter the security layer behind
///  [`MeterData::sealed`] and [`MeterData::security`] keeps; plain
///  passwords still guard the meter number and the clears (19H, 1AH, 1BH).
///  [`PlaintextPolicy`] re-opens the plain paths for legacy masters.
///
///  # Authorisation of state-changing commands
///
///  | command | authorised by (default [`ServerConfig`]) |
///  |---|---|
///  | 08H broadcast time | nobody: applied only within the [clock policy](#clock-policy) |
///  | 14H write, [read-write](registry::Access::ReadWrite) identifier | plain password of the entry's level, or sealed (98H/99H) |
///  | 14H write, [protected](registry::Access::Protected) identifier (clock included) | sealed; plain password of the entry's level only with [`PlaintextPolicy::parameters`] |
///  | 15H write address | refused; accepted without a password only with [`PlaintextPolicy::link`] |
///  | 16H freeze | nobody (the standard's): it only adds a freeze record |
///  | 17H baud rate | refused; accepted without a password only with [`PlaintextPolicy::link`] |
///  | 18H password change | the old password of the level being changed (a level-n password changes level n only) |
///  | 19H demand clear, 1BH event clear | plain password of [`clear_level`](ServerConfig::clear_level) (2) or higher, or sealed |
///  | 1AH meter clear | sealed; plain password of `clear_level` only with [`PlaintextPolicy::parameters`] |
///  | 1CH relay | sealed; plain password of [`relay_level`](ServerConfig::relay_level) (4) only with [`PlaintextPolicy::relay`] |
///  | 03H security | the security layer (identity authentication, sealed commands) |
///
///  Plain passwords are 3 bytes; at most [`password_daily_limit`](ServerConfig::password_daily_limit)
///  (3) wrong ones are compared per local day, and the day never moves backwards (a clock set
///  back across midnight does not restore the allowance): 3 guesses a day, 1 098 a year.
///
///  # Clock policy
///
///  The clock is an input: `now` is the meter's clock, and only these change it.
///
///  - **08H broadcast time** (to the broadcast address or this meter's): applied only if the
///    step is at most [`BROADCAST_MAX_STEP_SECS`] (5 minutes) either way, at most once per
///    local day, and neither the current time nor the new one lies within
///    [`BROADCAST_GUARD_SECS`] (5 minutes) of local midnight or of a settlement time (the
///    04000B01..03 settlement days, `DDhh`), nor on different local days (no correction
///    crosses midnight). These are the State Grid limits on broadcast time correction (the
///    Q/GDW smart-meter function specifications that accompany DL/T 645-2007; the reference
///    notes of this project record only the 08H frame layout, not these limits). Anything
///    else is refused silently and counted in [`ClockLog::refused`].
///  - **14H write of the date (04000101) or time (04000102)**: a protected identifier, so
///    sealed, or a plain password with [`PlaintextPolicy::parameters`]; any step.
///
///  Every change the server makes is counted and the last one kept ([`Server::clock_log`],
///  stored in [`ServerState`]). A sealed write is applied by the meter behind
///  [`MeterData::sealed`], which tells the server ([`Server::clock_changed`]) so that the
///  log counts it too; [`Meter`](crate::meter::Meter) does, and keeps the last changes in a
///  log of its own ([`Meter::clock_changes`](crate::meter::Meter::clock_changes)).
///
///  Sources: the 08H limits are those a State Grid conformance test applies (a public meter
///  test tool, `iMeter`'s broadcast-time panel, lists them: once a day, by the meter's date;
///  at most 5 minutes; a date changed by an encrypted clock setting allows another broadcast
///  that day; none within 5 minutes of the settlement freeze; none within 5 minutes of
///  midnight). The project's reference notes record only the 08H frame layout; the text of
///  DL/T 645-2007 and Q/GDW 1354 was not available to check against.
///
///  Follow-up frames are stateless: the server regenerates the answer and sends part `SEQ`, so
///  a value that changes between two follow-ups may be torn; masters read long blocks quickly.
///
///  The server's own state is the passwords (changed by 18H), the wrong-password record and
///  the clock log;
///  [`Server::state`] gives them for storage and [`Server::restore`] takes them back.
#[derive(Clone, Debug)]
pub struct Server {
    config: ServerConfig,
    lockout: LockoutPolicy,
    failures: FailureRecord,
    clock: ClockLog,
}

type Reply = Result<(), ErrorCode>;

const NO_DATA: ErrorCode = ErrorCode::NO_DATA;
const OTHER: ErrorCode = ErrorCode::OTHER;

/// The functions a frame to a wildcard address may carry: those that change nothing (11H,
/// 12H, 13H, and the DL/T 645-1997 read 01H).
const fn wildcard_allowed(function: Function) -> bool {
    matches!(
        function,
        Function::Read | Function::ReadFollowUp | Function::ReadAddress | Function::Read1997
    )
}

impl Server {
    /// A server with `config`, checked once.
    pub fn new(config: ServerConfig) -> Result<Server, ServerConfigError> {
        if config.preamble > 4 {
            return Err(ServerConfigError::Preamble);
        }
        if !(16..=MAX_READ_DATA_LEN as u8).contains(&config.max_read_len) {
            return Err(ServerConfigError::ReadLength);
        }
        if config.clear_level > 9 || config.relay_level > 9 {
            return Err(ServerConfigError::Level);
        }
        // Wrong passwords lock out for the rest of the local day; they never suspend the meter
        // (a suspension needs a local action, which the protocol has no way to ask for).
        let lockout = LockoutPolicy::new(config.password_daily_limit, u32::MAX, config.offset)
            .map_err(|_| ServerConfigError::FailureLimit)?;
        Ok(Server {
            config,
            lockout,
            failures: FailureRecord::default(),
            clock: ClockLog::default(),
        })
    }

    /// A server with stored state (after a restart): the passwords of `state` replace those of
    /// `config`, and the wrong-password record carries on.
    ///
    /// Errors: those of [`Server::new`], and [`ServerConfigError::InconsistentFailures`] for a
    /// wrong-password record that the configured daily limit could not have produced.
    pub fn restore(config: ServerConfig, state: ServerState) -> Result<Server, ServerConfigError> {
        let mut server = Server::new(config)?;
        if !state.failures.is_possible_under(&server.lockout) {
            return Err(ServerConfigError::InconsistentFailures);
        }
        if !state.clock.is_consistent() {
            return Err(ServerConfigError::InconsistentClockLog);
        }
        server.config.passwords = state.passwords;
        server.failures = state.failures;
        server.clock = state.clock;
        Ok(server)
    }

    /// The server's state, for storage (see [`ServerState`]).
    #[must_use = "the state is to be stored before the answer is sent"]
    pub fn state(&self) -> ServerState {
        ServerState {
            passwords: self.config.passwords.clone(),
            failures: self.failures,
            clock: self.clock,
        }
    }

    /// `true` while wrong passwords lock plaintext commands out (until the local midnight after
    /// the daily limit was reached).
    #[must_use]
    pub fn is_locked(&self, now: Timestamp) -> bool {
        self.failures.lockout(&self.lockout, now) != Lockout::Open
    }

    /// The configuration.
    pub fn config(&self) -> &ServerConfig {
        &self.config
    }

    /// The current passwords (changed by 18H), for storage.
    pub fn passwords(&self) -> &Passwords {
        &self.config.passwords
    }

    /// Answers one request frame (preamble allowed) received at `now`, for `meter`. Returns the
    /// length of the answer written into `out`, or `None` for silence (see [`Server`]); send
    /// the answer, after storing [`Server::state`] and the meter's state if they changed. A
    /// command with an `out` shorter than [`Server::answer_capacity`] is not executed and gives
    /// `None`; a read whose answer does not fit gives `None`; 300 bytes always suffice.
    #[must_use = "the answer must be sent (or silence kept)"]
    pub fn handle<M: MeterData + ?Sized>(
        &mut self,
        meter: &mut M,
        request: &[u8],
        now: Timestamp,
        out: &mut [u8],
    ) -> Option<usize> {
        let frame = Frame::new_checked(skip_preamble(request)).ok()?;
        let repr = FrameRepr::parse(&frame).ok()?;
        self.handle_repr(meter, &repr, now, out)
    }

    /// Answers a parsed request frame for `meter`; see [`Server::handle`].
    #[must_use = "the answer must be sent (or silence kept)"]
    pub fn handle_repr<M: MeterData + ?Sized>(
        &mut self,
        meter: &mut M,
        repr: &FrameRepr<'_>,
        now: Timestamp,
        out: &mut [u8],
    ) -> Option<usize> {
        if repr.control.is_response() {
            return None;
        }
        let me = meter.address();
        if repr.address.is_broadcast() {
            if let Ok(request) = Request::parse(repr) {
                match request {
                    Request::BroadcastTime { time } => self.broadcast_time(meter, time, now),
                    Request::Freeze { time } => {
                        let _ = meter.freeze(time);
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
        // Execute only what can be answered: a command whose answer might not fit is refused
        // before anything changes (reads change nothing; their answer is emitted if it fits).
        if !wildcard_allowed(function) && out.len() < self.answer_capacity(function) {
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
            Ok(request) => match self.answer(meter, &request, now, &mut scratch) {
                Ok(Some((from, response))) => (from.unwrap_or(me), response),
                Ok(None) => return None,
                Err(code) => (me, Response::Error { function, code }),
            },
        };
        response
            .emit(from, out, usize::from(self.config.preamble))
            .ok()
    }

    /// The output buffer a request with `function` needs: the preamble, the 12 bytes of frame
    /// around the data, and the longest data its answer (or an error answer) can carry. A
    /// command (anything but the reads 11H, 12H, 13H and 01H) handed a shorter buffer is not
    /// executed and gets silence.
    #[must_use]
    pub fn answer_capacity(&self, function: Function) -> usize {
        let data = match function {
            Function::Read | Function::ReadFollowUp | Function::Read1997 => {
                usize::from(self.config.max_read_len)
            }
            Function::Security => MAX_READ_DATA_LEN,
            Function::ReadAddress => 6,
            Function::ChangePassword => 4,
            // An error answer carries at most 2 bytes (SERR, the relay status word).
            _ => 2,
        };
        usize::from(self.config.preamble) + 12 + data.max(2)
    }

    fn local_now(&self, now: Timestamp) -> Result<DateTime, ErrorCode> {
        DateTime::from_timestamp(now, self.config.offset).map_err(|_| OTHER)
    }

    /// The answer to a request addressed to this meter: `Ok(None)` for silence, the source
    /// address if it is not the meter's (after 15H).
    #[allow(clippy::type_complexity)]
    fn answer<'s, M: MeterData + ?Sized>(
        &mut self,
        meter: &mut M,
        request: &Request<'_>,
        now: Timestamp,
        scratch: &'s mut [u8; MAX_READ_DATA_LEN],
    ) -> Result<Option<(Option<Address>, Response<'s>)>, ErrorCode> {
        let ack = |function| Ok(Some((None, Response::Ack { function })));
        match *request {
            Request::Read { di, .. } => {
                let (n, more) = self.read(meter, di, 0, now, scratch)?;
                let data = Data::plain(scratch.get(..n).unwrap_or_default());
                Ok(Some((None, Response::Read { di, data, more })))
            }
            Request::ReadFollowUp { di, seq } => {
                if seq == 0 {
                    return Err(OTHER);
                }
                let (n, more) = self.read(meter, di, seq, now, scratch)?;
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
                let (n, more) = self.read(meter, e97.di2007, 0, now, scratch)?;
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
                    address: meter.address(),
                },
            ))),
            Request::Write {
                di,
                password,
                value,
                ..
            } => {
                self.write(meter, request, di, password, value, now)?;
                ack(Function::Write)
            }
            Request::WriteAddress { address } => {
                // No password in the frame: refused unless opted in.
                if !self.config.plaintext.link {
                    return Err(ErrorCode::UNAUTHORIZED);
                }
                if address.has_wildcard() || address.is_broadcast() {
                    return Err(OTHER);
                }
                meter.set_address(address).map_err(Refusal::error_code)?;
                Ok(Some((
                    Some(address),
                    Response::Ack {
                        function: Function::WriteAddress,
                    },
                )))
            }
            Request::BroadcastTime { time } => {
                // Never answered, even when addressed to this meter alone.
                self.broadcast_time(meter, time, now);
                Ok(None)
            }
            Request::Freeze { time } => {
                meter.freeze(time).map_err(Refusal::error_code)?;
                ack(Function::Freeze)
            }
            Request::ChangeBaud { rate } => {
                if !self.config.plaintext.link {
                    return Err(ErrorCode::UNAUTHORIZED);
                }
                if rate.bps().is_none() {
                    return Err(ErrorCode::BAUD_RATE);
                }
                meter.change_baud(rate).map_err(Refusal::error_code)?;
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
                self.authorize_clear(meter, request, password, now)?;
                meter
                    .clear_max_demand(operator)
                    .map_err(Refusal::error_code)?;
                ack(Function::ClearMaxDemand)
            }
            Request::MeterClear {
                password, operator, ..
            } => {
                if password.is_sealed() {
                    meter.sealed(request, now).map_err(Refusal::error_code)?;
                } else {
                    // Clearing the meter resets the energy (and the tier consumption) that
                    // money depends on: a plain password does not suffice unless opted in.
                    if !self.config.plaintext.parameters {
                        return Err(ErrorCode::UNAUTHORIZED);
                    }
                    self.authorize_clear(meter, request, password, now)?;
                    meter.meter_clear(operator).map_err(Refusal::error_code)?;
                }
                ack(Function::MeterClear)
            }
            Request::EventClear {
                password,
                operator,
                di,
            } => {
                self.authorize_clear(meter, request, password, now)?;
                meter
                    .event_clear(di, operator)
                    .map_err(Refusal::error_code)?;
                ack(Function::EventClear)
            }
            Request::RelayControl {
                password,
                operator,
                order,
            } => match order {
                RelayOrder::Sealed(_) => match meter.sealed(request, now) {
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
                    if matches!(command, RelayCode::Unknown(_)) {
                        return Err(OTHER);
                    }
                    if valid_until.to_timestamp(self.config.offset) <= now {
                        return Err(Refusal::Expired.error_code());
                    }
                    meter
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
                match meter.security(di, operator, payload, now, out) {
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

    fn authorize_clear<M: MeterData + ?Sized>(
        &mut self,
        meter: &mut M,
        request: &Request<'_>,
        password: Password,
        now: Timestamp,
    ) -> Result<(), ErrorCode> {
        if password.is_sealed() {
            return meter.sealed(request, now).map_err(Refusal::error_code);
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
}
