//! The head-end side: seal commands for any meter from the master key and the meter address
//! alone, run the identity authentication, and open sealed responses.
//!
//! The head-end keeps no per-meter keys: [`MasterKey::meter`] derives a meter's keys (three
//! CMAC calls) whenever it needs them. What it does keep per meter is plain data the caller
//! stores: the [`CommandCounter`] of each meter (store it before sending what it sealed) and,
//! during an interactive exchange, the [`MeterSealer`] holding the session.

use core::fmt;

use rand_core::TryCryptoRng;

use super::command::{Command, CommandType, KeyUpdate, PayloadError, Reply};
use super::counter::CommandCounter;
use super::error::{OpenError, SealError};
use super::kdf::{Kbkdf, KeyPurpose};
use super::module::{
    KeySet, MeterKeys, ModuleError, ProofKind, SecurityModule, SoftwareModule, key_update_xor,
};
use super::seal::{self, FrameError, FrameRole, Header, Mode, SealedFrame, TagLength};
use super::session::{
    AUTH_REQUEST_BODY_LEN, AuthRequest, AuthResponse, CHALLENGE_LEN, SessionInfo,
};
use crate::address::Address;
use crate::time::Timestamp;

/// The head-end's key holder: the master key (its AES schedule, zeroized on drop).
pub struct MasterKey {
    master: Kbkdf,
    tag_len: TagLength,
}

impl fmt::Debug for MasterKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("MasterKey")
            .field("tag_len", &self.tag_len)
            .finish_non_exhaustive()
    }
}

impl MasterKey {
    /// A head-end with master key `master`, sealing with `tag_len`-byte tags (the meters'
    /// configured length).
    pub fn new(master: &[u8; 16], tag_len: TagLength) -> MasterKey {
        MasterKey {
            master: Kbkdf::new(master),
            tag_len,
        }
    }

    /// The tag length.
    pub fn tag_len(&self) -> TagLength {
        self.tag_len
    }

    /// A meter's sealing context for `key_version`, its keys derived from the master key.
    pub fn meter(&self, address: Address, key_version: u16) -> MeterSealer<SoftwareModule> {
        MeterSealer::new(
            address,
            SoftwareModule::derive(&self.master, address, key_version),
            self.tag_len,
        )
    }

    /// A meter's keys as bytes, for provisioning it.
    pub fn meter_keys(&self, address: Address, key_version: u16) -> MeterKeys {
        MeterKeys::derive(&self.master, address, key_version)
    }

    /// A key-update command taking meter `address` from `current_version` to the next: the
    /// new keys wrapped under the current `K_auth`. Seal it like any other command; the meter
    /// answers under the new keys ([`Sealed::expected_response`]).
    pub fn key_update(
        &self,
        address: Address,
        current_version: u16,
    ) -> Result<Command<'static>, SealError> {
        let new_version = current_version
            .checked_add(1)
            .ok_or(SealError::KeyVersion)?;
        let auth = Kbkdf::from_cipher(self.master.meter_cipher(
            address,
            current_version,
            KeyPurpose::Identity,
        ));
        let mut wrapped = MeterKeys::derive(&self.master, address, new_version).to_bytes();
        key_update_xor(&auth, address, new_version, &mut wrapped);
        Ok(Command::KeyUpdate(KeyUpdate {
            new_version,
            wrapped,
        }))
    }
}

/// What [`MeterSealer::seal`] produced: the frame length and header. Keep it to open the
/// response.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
#[must_use = "keep the sealed header to open the response"]
pub struct Sealed {
    /// Frame length in bytes.
    pub len: usize,
    /// The frame's header.
    pub header: Header,
}

impl Sealed {
    /// The header a matching response carries (its payload length aside): the same fields in
    /// the response direction, except that a key update is answered under the new key version
    /// in counter mode with counter 0.
    pub fn expected_response(&self) -> Header {
        let h = Header {
            direction: FrameRole::Response,
            ..self.header
        };
        if self.header.command == CommandType::KeyUpdate {
            Header {
                mode: Mode::Counter,
                session_id: 0,
                counter: 0,
                key_version: self.header.key_version.saturating_add(1),
                ..h
            }
        } else {
            h
        }
    }
}

/// A frame opened by [`MeterSealer::inspect`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Opened<'f> {
    /// A command.
    Command(Header, Command<'f>),
    /// A response.
    Response(Header, Reply<'f>),
}

/// One meter, as the head-end sees it: its keys (in a [`SecurityModule`]), and the session
/// while one runs.
pub struct MeterSealer<M: SecurityModule = SoftwareModule> {
    address: Address,
    module: M,
    tag_len: TagLength,
    challenge: Option<[u8; CHALLENGE_LEN]>,
    session: Option<SessionInfo>,
}

impl<M: SecurityModule + fmt::Debug> fmt::Debug for MeterSealer<M> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("MeterSealer")
            .field("address", &self.address)
            .field("module", &self.module)
            .field("tag_len", &self.tag_len)
            .field("session", &self.session)
            .finish_non_exhaustive()
    }
}

fn deadline(t: Timestamp) -> Result<u32, SealError> {
    u32::try_from(t.unix()).map_err(|_| SealError::Deadline)
}

impl<M: SecurityModule> MeterSealer<M> {
    /// A meter context over any module holding the meter's keys (an HSM, for instance).
    pub fn new(address: Address, module: M, tag_len: TagLength) -> MeterSealer<M> {
        MeterSealer {
            address,
            module,
            tag_len,
            challenge: None,
            session: None,
        }
    }

    /// The meter's address.
    pub fn address(&self) -> Address {
        self.address
    }

    /// The key version of the keys held.
    pub fn key_version(&self) -> u16 {
        self.module.key_version()
    }

    /// The session, once [`MeterSealer::accept_auth_response`] established one.
    pub fn session(&self) -> Option<&SessionInfo> {
        self.session.as_ref()
    }

    fn seal_header(
        &self,
        mode: Mode,
        session_id: u32,
        counter: u32,
        command: &Command<'_>,
        valid_until: Timestamp,
        out: &mut [u8],
    ) -> Result<Sealed, SealError> {
        let payload_len = u16::try_from(command.buffer_len())
            .map_err(|_| SealError::Payload(PayloadError::Length))?;
        let header = Header {
            direction: FrameRole::Command,
            mode,
            address: self.address,
            key_version: self.module.key_version(),
            command: command.command_type(),
            tag_len: self.tag_len,
            session_id,
            counter,
            valid_until: deadline(valid_until)?,
            payload_len,
        };
        let keys = match mode {
            Mode::Counter => KeySet::Meter,
            Mode::Session => KeySet::Session,
        };
        let len = seal::seal_with(&self.module, keys, &header, |p| command.emit(p), out)?;
        Ok(Sealed { len, header })
    }

    /// Seals a store-and-forward command with the next value of `counter`, which advances only
    /// on success. Store `counter` before sending the frame.
    pub fn seal(
        &self,
        counter: &mut CommandCounter,
        command: &Command<'_>,
        valid_until: Timestamp,
        out: &mut [u8],
    ) -> Result<Sealed, SealError> {
        if counter.key_version != self.module.key_version() {
            return Err(SealError::KeyVersion);
        }
        let next = counter.peek_next().ok_or(SealError::CounterExhausted)?;
        let sealed = self.seal_header(Mode::Counter, 0, next, command, valid_until, out)?;
        counter.last = next;
        Ok(sealed)
    }

    /// Starts an identity authentication: draws `R_H` from `rng` and writes the request into
    /// `out`; returns its length. Replaces any session.
    pub fn auth_request<R: TryCryptoRng + ?Sized>(
        &mut self,
        rng: &mut R,
        out: &mut [u8],
    ) -> Result<usize, SealError> {
        let mut challenge = [0u8; CHALLENGE_LEN];
        self.module.random(rng, &mut challenge)?;
        let req = AuthRequest {
            address: self.address,
            key_version: self.module.key_version(),
            proof_len: self.tag_len,
            challenge,
        };
        let out = out.get_mut(..req.buffer_len()).ok_or(SealError::Buffer)?;
        let (body, proof) = out
            .split_at_mut_checked(AUTH_REQUEST_BODY_LEN)
            .ok_or(SealError::Buffer)?;
        body.copy_from_slice(&req.emit_body());
        self.module
            .identity_proof(ProofKind::Request, &[body], proof)?;
        self.session = None;
        self.module.end_session();
        self.challenge = Some(challenge);
        Ok(req.buffer_len())
    }

    /// Checks the meter's answer to the last [`MeterSealer::auth_request`] and establishes
    /// the session from `now`.
    pub fn accept_auth_response(
        &mut self,
        response: &[u8],
        now: Timestamp,
    ) -> Result<SessionInfo, OpenError> {
        let challenge = self.challenge.ok_or(OpenError::NoSession)?;
        let (resp, body, proof) = AuthResponse::parse(response)?;
        if resp.address != self.address {
            return Err(OpenError::WrongMeter);
        }
        if resp.key_version != self.module.key_version() {
            return Err(OpenError::WrongKeyVersion);
        }
        if resp.proof_len != self.tag_len {
            return Err(OpenError::Frame(FrameError::TagLength));
        }
        if resp.validity_secs == 0 {
            return Err(OpenError::SessionExpired);
        }
        match self
            .module
            .verify_identity_proof(ProofKind::Response, &[&challenge, body], proof)
        {
            Ok(()) => {}
            Err(ModuleError::TagMismatch) => return Err(OpenError::BadTag),
            Err(e) => return Err(OpenError::Module(e)),
        }
        self.module
            .start_session(&[&challenge, body])
            .map_err(OpenError::Module)?;
        let info = SessionInfo {
            id: resp.session_id,
            started: now,
            validity_secs: resp.validity_secs,
            last_seq: 0,
        };
        self.challenge = None;
        self.session = Some(info);
        Ok(info)
    }

    /// Seals a command in the session with the next sequence number.
    pub fn seal_in_session(
        &mut self,
        command: &Command<'_>,
        valid_until: Timestamp,
        now: Timestamp,
        out: &mut [u8],
    ) -> Result<Sealed, SealError> {
        let session = self.session.ok_or(SealError::NoSession)?;
        if !session.is_valid_at(now) {
            return Err(SealError::SessionExpired);
        }
        let seq = session
            .last_seq
            .checked_add(1)
            .ok_or(SealError::CounterExhausted)?;
        let sealed = self.seal_header(Mode::Session, session.id, seq, command, valid_until, out)?;
        if let Some(s) = self.session.as_mut() {
            s.last_seq = seq;
        }
        if command.command_type() == CommandType::KeyUpdate {
            // The meter ends its session when it installs the new keys.
            self.session = None;
        }
        Ok(sealed)
    }

    /// Opens the response to the frame `sent`, in place. The response must carry exactly
    /// the expected header ([`Sealed::expected_response`]); for a key update, open it with the
    /// context of the new key version.
    pub fn open_response<'f>(
        &self,
        frame: &'f mut [u8],
        sent: &Sealed,
    ) -> Result<Reply<'f>, OpenError> {
        let expect = sent.expected_response();
        let checked = SealedFrame::new_checked(&*frame)?;
        let header = *checked.header();
        if header.direction != FrameRole::Response {
            return Err(OpenError::WrongDirection);
        }
        if header.address != self.address {
            return Err(OpenError::WrongMeter);
        }
        if header.key_version != self.module.key_version() {
            return Err(OpenError::WrongKeyVersion);
        }
        let comparable = Header {
            payload_len: expect.payload_len,
            ..header
        };
        if header.tag_len != self.tag_len || comparable != expect {
            return Err(OpenError::UnexpectedResponse);
        }
        let keys = match header.mode {
            Mode::Counter => KeySet::Meter,
            Mode::Session => KeySet::Session,
        };
        let plain = match seal::open_with(&self.module, keys, &header, frame) {
            Ok(p) => p,
            Err(ModuleError::TagMismatch) => return Err(OpenError::BadTag),
            Err(ModuleError::NoSession) => return Err(OpenError::NoSession),
            Err(e) => return Err(OpenError::Module(e)),
        };
        Ok(Reply::parse(plain)?)
    }

    /// Opens any counter-mode frame for this meter and key version, command or response,
    /// without replay or deadline checks: for debugging and the `keytool` example, never for
    /// acting on a command.
    pub fn inspect<'f>(&self, frame: &'f mut [u8]) -> Result<Opened<'f>, OpenError> {
        let checked = SealedFrame::new_checked(&*frame)?;
        let header = *checked.header();
        if header.address != self.address {
            return Err(OpenError::WrongMeter);
        }
        if header.key_version != self.module.key_version() {
            return Err(OpenError::WrongKeyVersion);
        }
        if header.mode != Mode::Counter {
            return Err(OpenError::NoSession);
        }
        let plain = match seal::open_with(&self.module, KeySet::Meter, &header, frame) {
            Ok(p) => p,
            Err(ModuleError::TagMismatch) => return Err(OpenError::BadTag),
            Err(e) => return Err(OpenError::Module(e)),
        };
        Ok(match header.direction {
            FrameRole::Command => Opened::Command(header, Command::parse(header.command, plain)?),
            FrameRole::Response => Opened::Response(header, Reply::parse(plain)?),
        })
    }
}
