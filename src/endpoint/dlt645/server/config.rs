//! What a [`Server`](super::Server) is built from and what it stores: the configuration, the
//! passwords, the plaintext policy and the stored state.

use core::fmt;

use subtle::ConstantTimeEq;

use super::clock::ClockLog;
use crate::security::FailureRecord;
use crate::snapshot::{Field, Reader, Snapshot, SnapshotError, Writer, struct_field};
use crate::time::UtcOffset;
use crate::wire::dlt645::{MAX_READ_DATA_LEN, Password};

/// A server configuration that [`Server::new`](super::Server::new) refused.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
#[non_exhaustive]
pub enum ServerConfigError {
    /// More than 4 preamble bytes.
    Preamble,
    /// `max_read_len` outside 16..=200.
    ReadLength,
    /// A password level above 9.
    Level,
    /// A daily wrong-password limit of zero (it would lock plaintext commands out for good).
    FailureLimit,
    /// A restored [`ServerState`] whose wrong-password record the configured daily limit
    /// could not have produced (more failures in a day than the limit).
    InconsistentFailures,
    /// A restored [`ServerState`] whose clock log no server can have written (a last record
    /// without a change counted, or the reverse).
    InconsistentClockLog,
}

impl fmt::Display for ServerConfigError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            ServerConfigError::Preamble => "at most 4 preamble bytes",
            ServerConfigError::ReadLength => "max_read_len must lie in 16..=200",
            ServerConfigError::Level => "password levels are 0..=9",
            ServerConfigError::FailureLimit => "the daily wrong-password limit must be at least 1",
            ServerConfigError::InconsistentFailures => {
                "stored wrong-password record is not possible under the daily limit"
            }
            ServerConfigError::InconsistentClockLog => "stored clock log is not consistent",
        })
    }
}

impl core::error::Error for ServerConfigError {}

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

    /// With the password of `level` replaced, or [`ServerConfigError::Level`] above 9.
    pub fn with(mut self, level: u8, code: [u8; 3]) -> Result<Passwords, ServerConfigError> {
        *self
            .codes
            .get_mut(usize::from(level))
            .ok_or(ServerConfigError::Level)? = code;
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

/// DL/T 645 plaintext compatibility: which protected operations a [`Server`](super::Server) also accepts with
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
    /// 14H writes of [protected](crate::wire::dlt645::registry::Access::Protected) identifiers (prices, tiers, money limits,
    /// customer number, tariff tables and switch times, clock, settlement days, trip delay)
    /// with a plain password of the entry's level, and 1AH meter clear with a plain password of
    /// [`ServerConfig::clear_level`].
    pub parameters: bool,
    /// 1CH relay control with a plain password of [`ServerConfig::relay_level`].
    pub relay: bool,
    /// 15H write address and 17H baud-rate change, which carry no password at all: a 15H
    /// makes the meter vanish from the head-end (whose keys were derived from the address) and
    /// a 17H makes it deaf at the bus's rate.
    pub link: bool,
}

impl PlaintextPolicy {
    /// Sealed commands only (the default).
    pub const NONE: PlaintextPolicy = PlaintextPolicy {
        parameters: false,
        relay: false,
        link: false,
    };
    /// Plain parameter writes, plain relay control and the password-less link commands all
    /// accepted (legacy masters).
    pub const ALL: PlaintextPolicy = PlaintextPolicy {
        parameters: true,
        relay: true,
        link: true,
    };
}

/// How a [`Server`](super::Server) behaves.
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

/// The server's own state, for storage in non-volatile memory: the passwords (changed by 18H),
/// the wrong-password record and the clock log.
///
/// Stored form ([`Snapshot`], magic `SV`, version 2): the ten passwords of levels 0 to 9,
/// three bytes each in wire order, then the [`FailureRecord`] (its `day` as `i64`, `today` as
/// `u16`, `consecutive` as `u32`, `suspended` as one byte 0 or 1), then the [`ClockLog`]
/// (`changes` and `refused` as `u32`, `broadcast_day` as `Option<i64>`, `last` as
/// `Option<ClockRecord>`: tag byte 0 or 1, then `before` and `after` as `i64`, `source` as
/// one byte). 55 to 80 bytes of fields. Version 1 (without the clock log) is still read, with
/// an empty clock log.
///
/// Plain data. Store it whenever it changed ([`Server::state`](super::Server::state) after [`Server::handle`](super::Server::handle)) and
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
    /// The clock changes made and refused.
    pub clock: ClockLog,
}

struct_field!(Passwords { codes });
impl Field for ServerState {
    fn write_to(&self, w: &mut Writer<'_>) -> Result<(), SnapshotError> {
        self.passwords.write_to(w)?;
        self.failures.write_to(w)?;
        self.clock.write_to(w)
    }
    fn read_from(r: &mut Reader<'_>) -> Result<Self, SnapshotError> {
        Ok(ServerState {
            passwords: Field::read_from(r)?,
            failures: Field::read_from(r)?,
            clock: if r.version() >= 2 {
                Field::read_from(r)?
            } else {
                ClockLog::default()
            },
        })
    }
}

impl Snapshot for ServerState {
    const MAGIC: [u8; 2] = *b"SV";
    const VERSION: u8 = 2;
    const OLDEST_VERSION: u8 = 1;
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::endpoint::dlt645::{ClockRecord, ClockSource};
    use crate::snapshot::{HEADER_LEN, frame_for_tests};
    use crate::time::Timestamp;

    /// Version 1 (no clock log) is read with an empty clock log; version 2 keeps it.
    #[test]
    fn version_1_is_read_with_an_empty_clock_log() {
        let mut state = ServerState {
            passwords: Passwords::default(),
            failures: FailureRecord {
                day: 20_000,
                today: 1,
                consecutive: 1,
                suspended: false,
            },
            clock: ClockLog::default(),
        };
        let mut buf = [0u8; 128];
        let n = state.emit(&mut buf).unwrap();
        // An empty clock log is 4 + 4 + 1 + 1 bytes; version 1 had none.
        let mut v1 = [0u8; 128];
        let len = frame_for_tests(*b"SV", 1, &buf[HEADER_LEN..n - 4 - 10], &mut v1);
        assert_eq!(ServerState::parse(&v1[..len]), Ok(state.clone()));
        state.clock.changes = 1;
        state.clock.last = Some(ClockRecord {
            before: Timestamp::from_unix(1_767_225_600),
            after: Timestamp::from_unix(1_767_225_660),
            source: ClockSource::Broadcast,
        });
        let n = state.emit(&mut buf).unwrap();
        assert_eq!(ServerState::parse(&buf[..n]), Ok(state));
    }
}
