//! The errors of the sealing and opening engines.

use core::fmt;

use super::command::PayloadError;
use super::module::ModuleError;
use super::seal::FrameError;

/// Why a sealed frame or an authentication message was refused.
///
/// Every refusal leaves the security state unchanged, except [`OpenError::BadTag`], which
/// counts one verification failure toward the lock-out (persist
/// [`super::MeterSecurity::state`] after it).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
#[non_exhaustive]
pub enum OpenError {
    /// Not a well-formed frame or message.
    Frame(FrameError),
    /// Authenticated, but the payload does not decode (a head-end bug, not an attack).
    Payload(PayloadError),
    /// Addressed to another meter.
    WrongMeter,
    /// A response where a command was expected, or the reverse.
    WrongDirection,
    /// Sealed under another key version than the meter holds.
    WrongKeyVersion,
    /// The counter or sequence number is not above the last accepted: a replay or a command
    /// overtaken by a newer one.
    Replay,
    /// Past its `valid_until`.
    Expired,
    /// Session mode, but no session is established or the session id is another one.
    NoSession,
    /// The session's validity has run out.
    SessionExpired,
    /// The tag or identity proof did not verify (counted toward the lock-out).
    BadTag,
    /// The daily failure limit is reached; refused without checking the tag.
    Locked,
    /// The meter is suspended; refused without checking the tag.
    Suspended,
    /// An identity authentication while a session is live: refused before the proof is
    /// checked, so that a replayed request cannot end the session. The head-end that lost its
    /// session waits until it expires (its validity, 5 minutes by default).
    SessionBusy,
    /// A response that does not answer the command it was opened for.
    UnexpectedResponse,
    /// The output buffer for an authentication response is too small.
    Buffer,
    /// The security module failed.
    Module(ModuleError),
}

impl fmt::Display for OpenError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            OpenError::Frame(e) => write!(f, "malformed: {e}"),
            OpenError::Payload(e) => write!(f, "bad payload: {e}"),
            OpenError::Module(e) => write!(f, "security module: {e}"),
            other => f.write_str(match other {
                OpenError::WrongMeter => "addressed to another meter",
                OpenError::WrongDirection => "wrong direction",
                OpenError::WrongKeyVersion => "wrong key version",
                OpenError::Replay => "counter not above the last accepted (replay)",
                OpenError::Expired => "command expired",
                OpenError::NoSession => "no such session",
                OpenError::SessionExpired => "session expired",
                OpenError::BadTag => "authentication failed",
                OpenError::Locked => "locked: daily failure limit reached",
                OpenError::Suspended => "suspended after too many failures",
                OpenError::SessionBusy => "a session is live",
                OpenError::UnexpectedResponse => "response does not match the command",
                OpenError::Buffer => "output buffer too small",
                _ => "refused",
            }),
        }
    }
}

impl core::error::Error for OpenError {}

impl From<FrameError> for OpenError {
    fn from(e: FrameError) -> Self {
        OpenError::Frame(e)
    }
}

impl From<PayloadError> for OpenError {
    fn from(e: PayloadError) -> Self {
        OpenError::Payload(e)
    }
}

/// Why a frame or message could not be sealed. Nothing is consumed on error: no counter
/// advances and the output buffer's contents are unspecified.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
#[non_exhaustive]
pub enum SealError {
    /// The output buffer is too small.
    Buffer,
    /// The payload does not encode (amount out of range, too long).
    Payload(PayloadError),
    /// The command counter or session sequence is exhausted; a key update (counter mode) or a
    /// new session is needed.
    CounterExhausted,
    /// The counter belongs to another key version than the keys.
    KeyVersion,
    /// No session established.
    NoSession,
    /// The session's validity has run out.
    SessionExpired,
    /// `valid_until` does not fit the frame's 32-bit unsigned Unix seconds.
    Deadline,
    /// This response was already sealed (a second seal would reuse its keystream).
    AlreadySealed,
    /// The security module failed.
    Module(ModuleError),
}

impl fmt::Display for SealError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            SealError::Payload(e) => write!(f, "bad payload: {e}"),
            SealError::Module(e) => write!(f, "security module: {e}"),
            other => f.write_str(match other {
                SealError::Buffer => "output buffer too small",
                SealError::CounterExhausted => "counter exhausted",
                SealError::KeyVersion => "counter and keys have different key versions",
                SealError::NoSession => "no session established",
                SealError::SessionExpired => "session expired",
                SealError::Deadline => "deadline outside 1970..2106",
                SealError::AlreadySealed => "response already sealed",
                _ => "cannot seal",
            }),
        }
    }
}

impl core::error::Error for SealError {}

impl From<PayloadError> for SealError {
    fn from(e: PayloadError) -> Self {
        SealError::Payload(e)
    }
}

impl From<ModuleError> for SealError {
    fn from(e: ModuleError) -> Self {
        SealError::Module(e)
    }
}
