//! The meter side: opening sealed commands with anti-replay, sessions and lock-out, in two
//! phases so that counters are durable before a command is acknowledged.

use core::fmt;

use rand_core::TryCryptoRng;

use super::command::{Command, CommandType, PayloadError, Reply};
use super::counter::{FailureRecord, Lockout, LockoutPolicy, SecurityConfigError};
use super::error::{OpenError, SealError};
use super::module::{KeySet, ModuleError, ProofKind, SecurityModule};
use super::seal::{self, FrameError, FrameRole, Header, Mode, TagLength};
use super::session::{
    AUTH_RESPONSE_BODY_LEN, AuthRequest, AuthResponse, CHALLENGE_LEN, SessionInfo,
};
use crate::address::Address;
use crate::snapshot::{Field, Reader, Snapshot, SnapshotError, Writer};
use crate::time::Timestamp;

/// How a meter checks sealed frames; validated at construction.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub struct SecurityConfig {
    tag_len: TagLength,
    session_validity_secs: u32,
    lockout: LockoutPolicy,
}

impl SecurityConfig {
    /// 8-byte tags, 5-minute sessions, DL/T 645 lock-out (15 a day, suspension after 200).
    pub const DEFAULT: SecurityConfig = SecurityConfig {
        tag_len: TagLength::DEFAULT,
        session_validity_secs: 300,
        lockout: LockoutPolicy::DLT645,
    };

    /// A configuration; the session validity must be at least one second.
    pub const fn new(
        tag_len: TagLength,
        session_validity_secs: u32,
        lockout: LockoutPolicy,
    ) -> Result<SecurityConfig, SecurityConfigError> {
        if session_validity_secs == 0 {
            return Err(SecurityConfigError::ZeroValidity);
        }
        Ok(SecurityConfig {
            tag_len,
            session_validity_secs,
            lockout,
        })
    }

    /// The tag (and proof) length every frame must carry.
    pub const fn tag_len(&self) -> TagLength {
        self.tag_len
    }

    /// How long a session lasts.
    pub const fn session_validity_secs(&self) -> u32 {
        self.session_validity_secs
    }

    /// The lock-out policy.
    pub const fn lockout(&self) -> &LockoutPolicy {
        &self.lockout
    }
}

impl Default for SecurityConfig {
    fn default() -> Self {
        SecurityConfig::DEFAULT
    }
}

/// What a meter must keep across restarts: plain data to store and give back to
/// [`MeterSecurity::restore`]. Stored on its own as a [`Snapshot`] (magic `SS`, version 1).
///
/// Sessions are not part of it: a restart ends the session, and with it any chance to replay a
/// session command. The keys are not part of it either: they stay in the security module (a
/// software-only meter stores its [`MeterKeys`](super::MeterKeys) apart, and after a key update
/// the staged ones from [`SoftwareModule::staged_keys`](super::SoftwareModule::staged_keys)).
///
/// # Binary form (version 2)
///
/// | field | bytes |
/// |---|---|
/// | `key_version` (`u16`) | 2 |
/// | `last_counter` (`u32`) | 4 |
/// | `failures`: day (`i64`), today (`u16`), consecutive (`u32`), suspended (0 or 1) | 15 |
/// | `latest` (`i64` Unix seconds), version 2 | 8 |
///
/// 29 bytes of fields, 38 framed. Version 1 (without `latest`) is still read, with the
/// `latest` of a new engine ([`Timestamp::default`]): validity is then judged at the current
/// time until the next accepted command, as version 1 judged it.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub struct SecurityState {
    /// The installed meter key version.
    pub key_version: u16,
    /// The last accepted store-and-forward command counter under that version (0: none).
    pub last_counter: u32,
    /// Verification failures and lock-out.
    pub failures: FailureRecord,
    /// The latest time at which a command was accepted or an identity authentication
    /// verified: validity windows are judged at this time or later, so a clock set back
    /// cannot reopen a command that had expired.
    pub latest: Timestamp,
}

impl Field for SecurityState {
    fn write_to(&self, w: &mut Writer<'_>) -> Result<(), SnapshotError> {
        self.key_version.write_to(w)?;
        self.last_counter.write_to(w)?;
        self.failures.write_to(w)?;
        self.latest.write_to(w)
    }
    fn read_from(r: &mut Reader<'_>) -> Result<Self, SnapshotError> {
        Ok(SecurityState {
            key_version: Field::read_from(r)?,
            last_counter: Field::read_from(r)?,
            failures: Field::read_from(r)?,
            latest: if r.version() >= 2 {
                Field::read_from(r)?
            } else {
                Timestamp::default()
            },
        })
    }
}

impl Snapshot for SecurityState {
    const MAGIC: [u8; 2] = *b"SS";
    const VERSION: u8 = 2;
    const OLDEST_VERSION: u8 = 1;
}

/// A meter's security engine over a [`SecurityModule`].
///
/// ```
/// use prepaid_meter::address::Address;
/// use prepaid_meter::purchase::{CustomerNumber, Purchase};
/// use prepaid_meter::security::{
///     Command, CommandCounter, MasterKey, MeterSecurity, Reply, SecurityConfig, SoftwareModule,
///     Status,
/// };
/// use prepaid_meter::time::Timestamp;
/// use prepaid_meter::units::Money;
///
/// let master = [0x42; 16];
/// let address: Address = "201000000012".parse()?;
/// let head_end = MasterKey::new(&master, SecurityConfig::DEFAULT.tag_len());
///
/// // Provisioning: the meter gets its keys for version 1.
/// let keys = head_end.meter_keys(address, 1);
/// let mut meter = MeterSecurity::new(address, SoftwareModule::new(1, &keys), SecurityConfig::DEFAULT)?;
///
/// // The head-end seals a recharge for the meter from the master key and address alone.
/// let now = Timestamp::from_unix(1_720_000_000);
/// let mut counter = CommandCounter::new(1); // stored per meter by the head-end
/// let recharge = Command::Recharge(Purchase {
///     amount: Money::from_units(100).unwrap(),
///     count: 1,
///     customer: CustomerNumber::new([0, 0, 0, 0, 0x12, 0x34]),
/// });
/// let mut frame = [0u8; 128];
/// let sent = head_end.meter(address, 1).seal(&mut counter, &recharge, now.checked_add_secs(3600).unwrap(), &mut frame)?;
///
/// // The meter opens it: nothing changes until commit.
/// let mut received = frame;
/// let pending = meter.open(&mut received[..sent.len], now)?;
/// assert_eq!(pending.command(), &recharge);
/// let to_store = pending.counter_state(); // store this (and the account) durably, then:
/// let mut done = pending.commit();
/// let mut reply = [0u8; 64];
/// let n = done.seal_response(&Reply { status: Status::OK, data: &[] }, &mut reply)?;
/// assert_eq!(meter.state(), to_store);
///
/// // The same frame again is a replay.
/// let mut again = frame;
/// assert!(meter.open(&mut again[..sent.len], now).is_err());
///
/// // The head-end opens the response.
/// let response = head_end.meter(address, 1).open_response(&mut reply[..n], &sent)?;
/// assert_eq!(response.status, Status::OK);
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub struct MeterSecurity<M: SecurityModule> {
    address: Address,
    module: M,
    config: SecurityConfig,
    state: SecurityState,
    session: Option<SessionInfo>,
}

/// What [`MeterSecurity::restore`] checks: the state's key version is the module's, and its
/// failure record one the lock-out policy lets a meter reach.
fn check_state(
    key_version: u16,
    config: &SecurityConfig,
    state: &SecurityState,
) -> Result<(), SecurityConfigError> {
    if state.key_version != key_version {
        return Err(SecurityConfigError::KeyVersionMismatch);
    }
    if !state.failures.is_possible_under(&config.lockout) {
        return Err(SecurityConfigError::InconsistentFailures);
    }
    Ok(())
}

impl<M: SecurityModule + fmt::Debug> fmt::Debug for MeterSecurity<M> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("MeterSecurity")
            .field("address", &self.address)
            .field("module", &self.module)
            .field("config", &self.config)
            .field("state", &self.state)
            .field("session", &self.session)
            .finish()
    }
}

impl<M: SecurityModule> MeterSecurity<M> {
    /// A freshly provisioned meter: no command accepted yet under the module's key version.
    pub fn new(
        address: Address,
        module: M,
        config: SecurityConfig,
    ) -> Result<MeterSecurity<M>, SecurityConfigError> {
        let security = MeterSecurity::provisioned(address, module, config);
        check_state(
            security.module.key_version(),
            &security.config,
            &security.state,
        )?;
        Ok(security)
    }

    /// [`MeterSecurity::new`] without its check, for a value built where it goes (the meter's
    /// start-up): the fresh state always passes it, since a [`SecurityConfig`]'s lock-out
    /// limits are at least 1 ([`LockoutPolicy::new`]).
    #[inline(always)]
    pub(crate) fn provisioned(address: Address, module: M, config: SecurityConfig) -> Self {
        let state = SecurityState {
            key_version: module.key_version(),
            ..SecurityState::default()
        };
        MeterSecurity {
            address,
            module,
            config,
            state,
            session: None,
        }
    }

    /// A meter restarted from its stored [`SecurityState`], checked against the module and the
    /// configuration:
    ///
    /// - the state's key version must be the module's; if they differ, keys and counters were
    ///   not stored together ([`SecurityConfigError::KeyVersionMismatch`]);
    /// - the failure record must be one the lock-out policy lets a meter reach
    ///   ([`FailureRecord::is_possible_under`],
    ///   [`SecurityConfigError::InconsistentFailures`]).
    ///
    /// The command counter cannot be checked here: any value is one a meter can have accepted.
    /// Store the state before acknowledging a command ([`PendingCommand::counter_state`]), so
    /// that no stored counter is behind an acknowledged one.
    pub fn restore(
        address: Address,
        module: M,
        config: SecurityConfig,
        state: SecurityState,
    ) -> Result<MeterSecurity<M>, SecurityConfigError> {
        check_state(module.key_version(), &config, &state)?;
        Ok(MeterSecurity {
            address,
            module,
            config,
            state,
            session: None,
        })
    }

    /// Checks `state` as [`MeterSecurity::restore`] would against this engine's module and
    /// configuration, without building an engine: the first half of a restore in place
    /// ([`MeterSecurity::set_checked_state`]).
    pub(crate) fn check_restore(&self, state: &SecurityState) -> Result<(), SecurityConfigError> {
        check_state(self.module.key_version(), &self.config, state)
    }

    /// Replaces the state by one that [`MeterSecurity::check_restore`] accepted; any session
    /// ends (as after a restart).
    pub(crate) fn set_checked_state(&mut self, state: SecurityState) {
        self.state = state;
        self.session = None;
        self.module.end_session();
    }

    /// Replaces the module in place (the stored keys taking the place of the provisioned
    /// ones at start-up): the state starts again under the new module's key version, with no
    /// command accepted and no failures, and any session ends.
    pub(crate) fn replace_module(&mut self, module: M) {
        self.module = module;
        self.state = SecurityState {
            key_version: self.module.key_version(),
            ..SecurityState::default()
        };
        self.session = None;
    }

    /// The state to store.
    pub fn state(&self) -> SecurityState {
        self.state
    }

    /// This meter's address.
    pub fn address(&self) -> Address {
        self.address
    }

    /// The configuration.
    pub fn config(&self) -> &SecurityConfig {
        &self.config
    }

    /// The security module.
    pub fn module(&self) -> &M {
        &self.module
    }

    /// The current session, if one is established (it may have expired by now).
    pub fn session(&self) -> Option<&SessionInfo> {
        self.session.as_ref()
    }

    /// Whether sealed frames are accepted at `now`.
    pub fn lockout(&self, now: Timestamp) -> Lockout {
        self.state.failures.lockout(&self.config.lockout, now)
    }

    /// Clears a suspension: a local, physically authorised action (a service tool on the
    /// optical port, a card). Remotely, a verified identity authentication clears it too.
    pub fn clear_suspension(&mut self) {
        self.state.failures.clear_suspension();
    }

    /// Ends the session.
    pub fn end_session(&mut self) {
        self.session = None;
        self.module.end_session();
    }

    /// The time validity windows are judged at: `now`, or the latest time a command was
    /// accepted if the clock was set back before it.
    fn effective_now(&self, now: Timestamp) -> Timestamp {
        now.max(self.state.latest)
    }

    fn check_lockout(&self, now: Timestamp) -> Result<(), OpenError> {
        match self.lockout(now) {
            Lockout::Open => Ok(()),
            Lockout::LockedToday => Err(OpenError::Locked),
            Lockout::Suspended => Err(OpenError::Suspended),
        }
    }

    fn is_locked_today(&self, now: Timestamp) -> bool {
        let unsuspended = FailureRecord {
            suspended: false,
            ..self.state.failures
        };
        unsuspended.lockout(&self.config.lockout, now) == Lockout::LockedToday
    }

    fn verification_failed(&mut self, now: Timestamp) -> OpenError {
        self.state
            .failures
            .record_failure(&self.config.lockout, now);
        OpenError::BadTag
    }

    /// Answers an identity-authentication request: verifies the head-end's proof, draws the
    /// meter's challenge and session id from `rng` (through the module), starts a session
    /// valid from `now`, and writes the response into `out`; returns its length.
    ///
    /// A failed proof counts toward the lock-out; the daily limit refuses authentication as
    /// well, but a suspension does not: a verified proof clears the suspension and the
    /// consecutive-failure count, so the head-end always has a remote way back in (a
    /// replayed request also verifies, and clearing the count gains its sender nothing: the
    /// daily limit still bounds the guesses). Store [`MeterSecurity::state`] afterwards.
    ///
    /// While a session is live, a new authentication is refused before its proof is checked
    /// ([`OpenError::SessionBusy`], nothing counted), so that a replayed request cannot end
    /// it: a head-end that lost its session waits for the session's validity to run out, or
    /// the meter ends it locally ([`MeterSecurity::end_session`]). On any error the previous
    /// session, if any, is kept.
    pub fn authenticate<R: TryCryptoRng + ?Sized>(
        &mut self,
        request: &[u8],
        now: Timestamp,
        rng: &mut R,
        out: &mut [u8],
    ) -> Result<usize, OpenError> {
        if self.is_locked_today(now) {
            return Err(OpenError::Locked);
        }
        if self.session.as_ref().is_some_and(|s| s.is_valid_at(now)) {
            return Err(OpenError::SessionBusy);
        }
        let (req, body, proof) = AuthRequest::parse(request)?;
        if req.address != self.address {
            return Err(OpenError::WrongMeter);
        }
        if req.key_version != self.state.key_version {
            return Err(OpenError::WrongKeyVersion);
        }
        if req.proof_len != self.config.tag_len {
            return Err(OpenError::Frame(FrameError::TagLength));
        }
        let tag_len = self.config.tag_len.as_usize();
        let out = out
            .get_mut(..AUTH_RESPONSE_BODY_LEN + tag_len)
            .ok_or(OpenError::Buffer)?;
        match self
            .module
            .verify_identity_proof(ProofKind::Request, &[body], proof)
        {
            Ok(()) => {}
            Err(ModuleError::TagMismatch) => return Err(self.verification_failed(now)),
            Err(e) => return Err(OpenError::Module(e)),
        }
        let mut random = [0u8; 4 + CHALLENGE_LEN];
        self.module
            .random(rng, &mut random)
            .map_err(OpenError::Module)?;
        let (sid, r_m) = random.split_first_chunk::<4>().ok_or(OpenError::Buffer)?;
        let resp = AuthResponse {
            address: self.address,
            key_version: self.state.key_version,
            proof_len: self.config.tag_len,
            session_id: u32::from_be_bytes(*sid),
            validity_secs: self.config.session_validity_secs,
            challenge: <[u8; CHALLENGE_LEN]>::try_from(r_m).map_err(|_| OpenError::Buffer)?,
        };
        let resp_body = resp.emit_body();
        let (out_body, out_proof) = out
            .split_at_mut_checked(AUTH_RESPONSE_BODY_LEN)
            .ok_or(OpenError::Buffer)?;
        self.module
            .identity_proof(
                ProofKind::Response,
                &[&req.challenge, &resp_body],
                out_proof,
            )
            .map_err(OpenError::Module)?;
        out_body.copy_from_slice(&resp_body);
        if let Err(e) = self.module.start_session(&[&req.challenge, &resp_body]) {
            // The module may have dropped the old session keys: drop ours too.
            self.session = None;
            return Err(OpenError::Module(e));
        }
        self.state.failures.clear_suspension();
        self.state.latest = self.effective_now(now);
        self.session = Some(SessionInfo {
            id: resp.session_id,
            started: now,
            validity_secs: self.config.session_validity_secs,
            last_seq: 0,
        });
        Ok(resp.buffer_len())
    }

    /// Checks, verifies and decrypts a sealed command in place. On success nothing has
    /// changed yet: the returned [`PendingCommand`] holds the decoded command and the state to
    /// store; [`PendingCommand::commit`] applies it.
    ///
    /// Checks, in order: lock-out (before any parsing), frame format and length, tag length,
    /// direction, address, key version, counter (counter mode) or session, id, validity and
    /// sequence (session mode), `valid_until`, then the tag (constant time; a mismatch counts
    /// toward the lock-out and is the only refusal that changes state), then the payload.
    pub fn open<'s, 'f>(
        &'s mut self,
        frame: &'f mut [u8],
        now: Timestamp,
    ) -> Result<PendingCommand<'s, 'f, M>, OpenError> {
        self.check_lockout(now)?;
        let header = Header::parse(frame)?;
        if frame.len() != header.frame_len() {
            return Err(OpenError::Frame(FrameError::Length));
        }
        if header.tag_len != self.config.tag_len {
            return Err(OpenError::Frame(FrameError::TagLength));
        }
        if header.direction != FrameRole::Command {
            return Err(OpenError::WrongDirection);
        }
        if header.address != self.address {
            return Err(OpenError::WrongMeter);
        }
        if header.key_version != self.state.key_version {
            return Err(OpenError::WrongKeyVersion);
        }
        let keys = match header.mode {
            Mode::Counter => {
                if header.counter <= self.state.last_counter {
                    return Err(OpenError::Replay);
                }
                KeySet::Meter
            }
            Mode::Session => {
                let session = self.session.as_ref().ok_or(OpenError::NoSession)?;
                if session.id != header.session_id {
                    return Err(OpenError::NoSession);
                }
                if !session.is_valid_at(now) {
                    return Err(OpenError::SessionExpired);
                }
                if header.counter <= session.last_seq {
                    return Err(OpenError::Replay);
                }
                KeySet::Session
            }
        };
        // Judged at the latest accepted time at least: setting the clock back does not
        // reopen a command whose validity had run out.
        let effective = self.effective_now(now);
        if effective > header.valid_until() {
            return Err(OpenError::Expired);
        }
        let plaintext = match seal::open_with(&self.module, keys, &header, frame) {
            Ok(p) => p,
            Err(ModuleError::TagMismatch) => return Err(self.verification_failed(now)),
            Err(e) => return Err(OpenError::Module(e)),
        };
        let command = Command::parse(header.command, plaintext)?;
        let mut next = self.state;
        next.failures.record_success();
        next.latest = effective;
        if header.mode == Mode::Counter {
            next.last_counter = header.counter;
        }
        if let Command::KeyUpdate(update) = command {
            let Some(new_version) = self.state.key_version.checked_add(1) else {
                return Err(OpenError::WrongKeyVersion);
            };
            if update.new_version != new_version {
                return Err(OpenError::WrongKeyVersion);
            }
            self.module
                .stage_key_update(self.address, new_version, &update.wrapped)
                .map_err(OpenError::Module)?;
            next.key_version = new_version;
            next.last_counter = 0;
        }
        Ok(PendingCommand {
            sec: Some(self),
            header,
            command,
            next,
        })
    }
}

/// A verified command, not yet applied.
///
/// Store [`PendingCommand::counter_state`] (and whatever the command changes in the
/// application, such as the account's purchase count) durably, then call
/// [`PendingCommand::commit`]. Commit even when the application refuses the command (and say
/// so in the response): otherwise the same frame could be replayed later, when it might be
/// accepted. Dropping a pending command leaves everything as it was, so after a power cut
/// before the store completes the same frame opens again.
#[must_use = "store `counter_state` and `commit`, or the command is not applied"]
pub struct PendingCommand<'s, 'f, M: SecurityModule> {
    sec: Option<&'s mut MeterSecurity<M>>,
    header: Header,
    command: Command<'f>,
    next: SecurityState,
}

impl<'s, 'f, M: SecurityModule> PendingCommand<'s, 'f, M> {
    /// The decoded command.
    pub fn command(&self) -> &Command<'f> {
        &self.command
    }

    /// The frame's header (mode, counter, deadline).
    pub fn header(&self) -> &Header {
        &self.header
    }

    /// The security state to store before committing: the new command counter, the failure
    /// record with its consecutive count reset, and after a key update the new key version
    /// with a fresh counter.
    #[must_use = "store this state before committing"]
    pub fn counter_state(&self) -> SecurityState {
        self.next
    }

    /// The security module, e.g. for [`super::SoftwareModule::staged_keys`] during a key
    /// update.
    pub fn module(&self) -> Option<&M> {
        self.sec.as_deref().map(|s| &s.module)
    }

    /// Applies the command to the security state (counter, session sequence, staged keys) and
    /// returns the handle that seals the one response.
    pub fn commit(mut self) -> Committed<'s, M> {
        let header = self.header;
        let next = self.next;
        let mut sec = self.sec.take();
        let mut response = Header {
            direction: FrameRole::Response,
            payload_len: 0,
            ..header
        };
        let mut keys = match header.mode {
            Mode::Counter => KeySet::Meter,
            Mode::Session => KeySet::Session,
        };
        if let Some(sec) = sec.as_deref_mut() {
            sec.state = next;
            if header.mode == Mode::Session
                && let Some(s) = sec.session.as_mut()
            {
                s.last_seq = header.counter;
            }
            if header.command == CommandType::KeyUpdate {
                sec.module.commit_key_update();
                sec.end_session();
                // Answered under the new keys, counter 0 (no command uses it).
                response = Header {
                    mode: Mode::Counter,
                    session_id: 0,
                    counter: 0,
                    key_version: next.key_version,
                    ..response
                };
                keys = KeySet::Meter;
            }
        }
        Committed {
            sec,
            response,
            keys,
            sealed: false,
        }
    }
}

impl<M: SecurityModule> Drop for PendingCommand<'_, '_, M> {
    fn drop(&mut self) {
        if let Some(sec) = self.sec.as_deref_mut()
            && self.header.command == CommandType::KeyUpdate
        {
            sec.module.discard_key_update();
        }
    }
}

impl<M: SecurityModule> fmt::Debug for PendingCommand<'_, '_, M> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("PendingCommand")
            .field("header", &self.header)
            .field("command", &self.command)
            .field("next", &self.next)
            .finish_non_exhaustive()
    }
}

/// A committed command: seals its one response.
#[must_use = "seal the response with `seal_response`"]
pub struct Committed<'s, M: SecurityModule> {
    sec: Option<&'s mut MeterSecurity<M>>,
    response: Header,
    keys: KeySet,
    sealed: bool,
}

impl<M: SecurityModule> fmt::Debug for Committed<'_, M> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Committed")
            .field("response", &self.response)
            .field("sealed", &self.sealed)
            .finish_non_exhaustive()
    }
}

impl<M: SecurityModule> Committed<'_, M> {
    /// Seals the response into `out` and returns its length. At most once: a second successful
    /// seal would reuse the response's keystream, so it is refused
    /// ([`SealError::AlreadySealed`]); keep the bytes to send them again. A failed seal (buffer
    /// too small) may be retried.
    pub fn seal_response(
        &mut self,
        response: &Reply<'_>,
        out: &mut [u8],
    ) -> Result<usize, SealError> {
        if self.sealed {
            return Err(SealError::AlreadySealed);
        }
        let sec = self.sec.as_deref().ok_or(SealError::AlreadySealed)?;
        let payload_len = u16::try_from(response.buffer_len())
            .map_err(|_| SealError::Payload(PayloadError::Length))?;
        let header = Header {
            payload_len,
            ..self.response
        };
        let n = seal::seal_with(&sec.module, self.keys, &header, |p| response.emit(p), out)?;
        self.sealed = true;
        Ok(n)
    }

    /// The header the response gets (with its payload length still 0).
    pub fn response_header(&self) -> &Header {
        &self.response
    }
}

#[cfg(test)]
mod stored_form_tests {
    use super::*;
    use crate::snapshot::{HEADER_LEN, frame_for_tests};

    /// Version 1 (no `latest`) is read with the `latest` of a new engine; version 2 keeps it.
    #[test]
    fn version_1_is_read_without_latest() {
        let state = SecurityState {
            key_version: 3,
            last_counter: 41,
            failures: FailureRecord {
                day: 20_000,
                today: 2,
                consecutive: 5,
                suspended: true,
            },
            latest: Timestamp::from_unix(1_767_225_600),
        };
        let mut v2 = [0u8; 64];
        let n = state.emit(&mut v2).unwrap();
        assert_eq!(n, 38);
        assert_eq!(SecurityState::parse(&v2[..n]), Ok(state));
        // The same fields without the last 8 bytes (`latest`), as version 1 wrote them.
        let mut v1 = [0u8; 64];
        let len = frame_for_tests(*b"SS", 1, &v2[HEADER_LEN..n - 4 - 8], &mut v1);
        let migrated = SecurityState::parse(&v1[..len]).unwrap();
        assert_eq!(
            migrated,
            SecurityState {
                latest: SecurityState::default().latest,
                ..state
            }
        );
        // Version 1 with the version-2 length is refused, not misread.
        let len = frame_for_tests(*b"SS", 1, &v2[HEADER_LEN..n - 4], &mut v1);
        assert_eq!(
            SecurityState::parse(&v1[..len]),
            Err(SnapshotError::LengthMismatch)
        );
        assert_eq!(
            SecurityState::parse(&frame_v3(&v2[HEADER_LEN..n - 4])),
            Err(SnapshotError::UnsupportedVersion(3))
        );
    }

    fn frame_v3(fields: &[u8]) -> std::vec::Vec<u8> {
        let mut out = std::vec![0u8; fields.len() + 9];
        let n = frame_for_tests(*b"SS", 3, fields, &mut out);
        out.truncate(n);
        out
    }
}
