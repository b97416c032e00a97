//! Counters: the head-end's per-meter command counter and the meter's MAC-failure record with
//! its lock-out policy. See the [module docs](super).

use core::fmt;

use crate::snapshot::{Snapshot, struct_field};
use crate::time::{Timestamp, UtcOffset};

/// The head-end's command counter for one meter and key version. Plain data: the caller
/// stores one per meter and must store it *before* sending a frame sealed with it (a counter
/// value sealed twice under one key would reuse an AES-CTR keystream).
///
/// It is its own state type: every value is one a counter can hold, and
/// [`MeterSealer::seal`](super::MeterSealer::seal) checks its key version against the keys.
/// Stored on its own as a [`Snapshot`] (magic `SC`, version 1): `key_version` (`u16`), `last`
/// (`u32`), little-endian; 6 bytes of fields, 15 framed.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub struct CommandCounter {
    /// The meter key version the counter belongs to.
    pub key_version: u16,
    /// The last counter value used (0: none yet).
    pub last: u32,
}

impl CommandCounter {
    /// A fresh counter for `key_version` (after provisioning or a key update).
    pub const fn new(key_version: u16) -> CommandCounter {
        CommandCounter {
            key_version,
            last: 0,
        }
    }

    /// The value the next command uses, or `None` when the counter is exhausted (a key
    /// update, which starts a new counter, is then the only way forward).
    pub const fn peek_next(&self) -> Option<u32> {
        self.last.checked_add(1)
    }
}

/// How many verification failures the meter tolerates.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub struct LockoutPolicy {
    daily_limit: u16,
    suspend_after: u32,
    day_offset: UtcOffset,
}

/// Why a lock-out policy was refused.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
#[non_exhaustive]
pub enum SecurityConfigError {
    /// A failure limit of zero would lock the meter for good.
    ZeroLimit,
    /// A session validity of zero seconds.
    ZeroValidity,
    /// The restored state belongs to another key version than the module holds.
    KeyVersionMismatch,
    /// The restored failure record is not one the lock-out policy lets a meter reach: more
    /// failures in a day than the daily limit, or more consecutive failures than suspend the
    /// meter without it being suspended.
    InconsistentFailures,
}

impl fmt::Display for SecurityConfigError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            SecurityConfigError::ZeroLimit => "failure limits must be at least 1",
            SecurityConfigError::ZeroValidity => "session validity must be at least 1 second",
            SecurityConfigError::KeyVersionMismatch => {
                "stored security state and security module disagree on the key version"
            }
            SecurityConfigError::InconsistentFailures => {
                "stored failure record is not possible under the lock-out policy"
            }
        })
    }
}

impl core::error::Error for SecurityConfigError {}

impl LockoutPolicy {
    /// DL/T 645 meters: 15 failures a day, suspension after 200; days in UTC.
    pub const DLT645: LockoutPolicy = LockoutPolicy {
        daily_limit: 15,
        suspend_after: 200,
        day_offset: UtcOffset::UTC,
    };

    /// A policy; both limits must be at least 1. Days run from local midnight at `day_offset`.
    pub const fn new(
        daily_limit: u16,
        suspend_after: u32,
        day_offset: UtcOffset,
    ) -> Result<LockoutPolicy, SecurityConfigError> {
        if daily_limit == 0 || suspend_after == 0 {
            return Err(SecurityConfigError::ZeroLimit);
        }
        Ok(LockoutPolicy {
            daily_limit,
            suspend_after,
            day_offset,
        })
    }

    /// Failures allowed per local day.
    pub const fn daily_limit(&self) -> u16 {
        self.daily_limit
    }

    /// Failures without a success in between that suspend the meter.
    pub const fn suspend_after(&self) -> u32 {
        self.suspend_after
    }

    /// The offset that defines the local day.
    pub const fn day_offset(&self) -> UtcOffset {
        self.day_offset
    }

    fn day(&self, now: Timestamp) -> i64 {
        now.local_day(self.day_offset)
    }
}

impl Default for LockoutPolicy {
    fn default() -> Self {
        LockoutPolicy::DLT645
    }
}

/// Whether the meter accepts sealed frames at all.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub enum Lockout {
    /// Accepting.
    Open,
    /// The daily failure limit is reached; open again at the next local midnight.
    LockedToday,
    /// Suspended after too many consecutive failures: sealed commands are refused until a
    /// verified identity authentication (remote) or a local action clears it.
    Suspended,
}

/// The meter's verification-failure record; part of [`super::SecurityState`], which checks it
/// against the lock-out policy on restore.
///
/// Binary form ([`Field`](crate::snapshot::Field)): `day` (`i64`), `today` (`u16`), `consecutive` (`u32`),
/// `suspended` (one byte 0 or 1); 15 bytes.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub struct FailureRecord {
    /// The latest local day (days since 1970-01-01 at the policy's offset) a failure was
    /// counted on; `today` counts that day's failures. It never moves backwards: a clock set
    /// back keeps counting against this day.
    pub day: i64,
    /// Failures on `day`.
    pub today: u16,
    /// Failures since the last successful command.
    pub consecutive: u32,
    /// Suspended (sticky until cleared).
    pub suspended: bool,
}

impl FailureRecord {
    /// The lock-out status at `now`. Pure: a new day is seen here without changing the record.
    pub fn lockout(&self, policy: &LockoutPolicy, now: Timestamp) -> Lockout {
        if self.suspended {
            Lockout::Suspended
        } else if self.today_at(policy, now) >= policy.daily_limit {
            Lockout::LockedToday
        } else {
            Lockout::Open
        }
    }

    /// The failures that count against `now`: a later day than the record's starts afresh; the
    /// record's day or an earlier one (a clock set back) keeps the record's count.
    fn today_at(&self, policy: &LockoutPolicy, now: Timestamp) -> u16 {
        if policy.day(now) > self.day {
            0
        } else {
            self.today
        }
    }

    /// `true` if a meter under `policy` can be in this record: no more failures in a day than
    /// the daily limit (failures are not counted once it is reached), no more consecutive
    /// failures than suspend the meter, and at that many, suspended.
    pub fn is_possible_under(&self, policy: &LockoutPolicy) -> bool {
        self.today <= policy.daily_limit
            && self.consecutive <= policy.suspend_after
            && (self.suspended || self.consecutive < policy.suspend_after)
    }

    /// Counts one failure at `now`.
    pub(crate) fn record_failure(&mut self, policy: &LockoutPolicy, now: Timestamp) {
        let day = policy.day(now).max(self.day);
        self.today = self.today_at(policy, now).saturating_add(1);
        self.day = day;
        self.consecutive = self.consecutive.saturating_add(1);
        if self.consecutive >= policy.suspend_after {
            self.suspended = true;
        }
    }

    /// Records a successful command: the consecutive count restarts (today's count stays).
    pub(crate) fn record_success(&mut self) {
        self.consecutive = 0;
    }

    /// Clears a suspension and the consecutive count (a local action, or a verified identity
    /// authentication).
    pub(crate) fn clear_suspension(&mut self) {
        self.suspended = false;
        self.consecutive = 0;
    }
}

struct_field!(CommandCounter { key_version, last });

impl Snapshot for CommandCounter {
    const MAGIC: [u8; 2] = *b"SC";
    const VERSION: u8 = 1;
}

struct_field!(FailureRecord {
    day,
    today,
    consecutive,
    suspended
});

#[cfg(test)]
mod tests {
    use super::*;

    const SECS_PER_DAY: i64 = 86_400;

    #[test]
    fn daily_limit_and_midnight() {
        let p = LockoutPolicy::new(3, 100, UtcOffset::CHINA).unwrap();
        let mut r = FailureRecord::default();
        // 2024-01-01 23:00 at UTC+8 = 15:00 UTC.
        let t = Timestamp::from_unix(1_704_121_200);
        for _ in 0..2 {
            r.record_failure(&p, t);
            assert_eq!(r.lockout(&p, t), Lockout::Open);
        }
        r.record_failure(&p, t);
        assert_eq!(r.lockout(&p, t), Lockout::LockedToday);
        // 59 min 59 s later it is still the same local day...
        assert_eq!(
            r.lockout(&p, t.checked_add_secs(3599).unwrap()),
            Lockout::LockedToday
        );
        // ...and at local midnight the meter opens again without touching the record.
        let midnight = t.checked_add_secs(3600).unwrap();
        let before = r;
        assert_eq!(r.lockout(&p, midnight), Lockout::Open);
        assert_eq!(r, before);
        r.record_failure(&p, midnight);
        assert_eq!((r.today, r.consecutive), (1, 4));
    }

    #[test]
    fn a_clock_set_back_keeps_the_day_count() {
        let p = LockoutPolicy::new(3, 100, UtcOffset::UTC).unwrap();
        let mut r = FailureRecord::default();
        let day2 = Timestamp::from_unix(2 * SECS_PER_DAY + 10);
        for _ in 0..3 {
            r.record_failure(&p, day2);
        }
        assert_eq!(r.lockout(&p, day2), Lockout::LockedToday);
        // Back across midnight, and further back: still locked, and the day stays.
        let day1 = Timestamp::from_unix(SECS_PER_DAY + 10);
        assert_eq!(r.lockout(&p, day1), Lockout::LockedToday);
        assert_eq!(r.lockout(&p, Timestamp::from_unix(0)), Lockout::LockedToday);
        let mut back = FailureRecord::default();
        back.record_failure(&p, day2);
        back.record_failure(&p, day1);
        assert_eq!((back.day, back.today), (2, 2));
        // The next real midnight opens it.
        assert_eq!(
            r.lockout(&p, Timestamp::from_unix(3 * SECS_PER_DAY)),
            Lockout::Open
        );
    }

    #[test]
    fn suspension_is_sticky_and_success_resets_consecutive() {
        let p = LockoutPolicy::new(1000, 5, UtcOffset::UTC).unwrap();
        let mut r = FailureRecord::default();
        let t = Timestamp::from_unix(0);
        for _ in 0..4 {
            r.record_failure(&p, t);
        }
        r.record_success();
        assert_eq!(r.consecutive, 0);
        for _ in 0..5 {
            r.record_failure(&p, t);
        }
        assert_eq!(r.lockout(&p, t), Lockout::Suspended);
        assert_eq!(
            r.lockout(&p, Timestamp::from_unix(10 * SECS_PER_DAY)),
            Lockout::Suspended
        );
        r.clear_suspension();
        assert_eq!(r.lockout(&p, t), Lockout::Open);
        assert_eq!(
            LockoutPolicy::new(0, 1, UtcOffset::UTC),
            Err(SecurityConfigError::ZeroLimit)
        );
        assert_eq!(
            LockoutPolicy::new(1, 0, UtcOffset::UTC),
            Err(SecurityConfigError::ZeroLimit)
        );
    }

    #[test]
    fn possible_records_under_a_policy() {
        let p = LockoutPolicy::new(3, 5, UtcOffset::UTC).unwrap();
        let mut r = FailureRecord::default();
        let t = Timestamp::from_unix(0);
        for _ in 0..3 {
            assert!(r.is_possible_under(&p));
            r.record_failure(&p, t);
        }
        assert!(r.is_possible_under(&p));
        let too_many = FailureRecord { today: 4, ..r };
        assert!(!too_many.is_possible_under(&p));
        let unsuspended = FailureRecord {
            consecutive: 5,
            ..FailureRecord::default()
        };
        assert!(!unsuspended.is_possible_under(&p));
        assert!(
            FailureRecord {
                suspended: true,
                ..unsuspended
            }
            .is_possible_under(&p)
        );
    }

    #[test]
    fn counters() {
        let c = CommandCounter::new(3);
        assert_eq!(c.peek_next(), Some(1));
        let full = CommandCounter {
            key_version: 3,
            last: u32::MAX,
        };
        assert_eq!(full.peek_next(), None);
        // Days before 1970 floor correctly.
        let p = LockoutPolicy::DLT645;
        assert_eq!(p.day(Timestamp::from_unix(-1)), -1);
        assert_eq!(
            p.day(Timestamp::from_unix(i64::MAX)),
            i64::MAX.div_euclid(SECS_PER_DAY)
        );
    }
}
