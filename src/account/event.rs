//! What an account call decides: relay drive, alarm outputs, and the records to log.

use core::fmt;

use super::relay::{Contacts, RelayCommand, RelayState};
use crate::time::Timestamp;

/// The account's alarm flags (a small bit set). The alarm output is on while any flag is set.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
#[cfg_attr(feature = "serde", serde(transparent))]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub struct AlarmFlags(u8);

impl AlarmFlags {
    /// No alarm.
    pub const NONE: AlarmFlags = AlarmFlags(0);
    /// Balance at or below alarm threshold 1.
    pub const LOW_CREDIT_1: AlarmFlags = AlarmFlags(1 << 0);
    /// Balance at or below alarm threshold 2.
    pub const LOW_CREDIT_2: AlarmFlags = AlarmFlags(1 << 1);
    /// Balance below zero: in overdraft (arrears).
    pub const OVERDRAFT: AlarmFlags = AlarmFlags(1 << 2);
    /// Credit exhausted: the balance reached the overdraft limit and has not yet risen above the
    /// reconnect threshold. While set, the account demands a trip.
    pub const EXHAUSTED: AlarmFlags = AlarmFlags(1 << 3);
    /// Alarm switched on by a remote command (`2A`).
    pub const REMOTE: AlarmFlags = AlarmFlags(1 << 4);

    /// The raw bits.
    pub const fn bits(self) -> u8 {
        self.0
    }

    /// Flags from raw bits; bits 5 to 7 are dropped.
    pub const fn from_bits_truncate(bits: u8) -> AlarmFlags {
        AlarmFlags(bits & 0x1F)
    }

    /// `true` if every flag of `other` is set.
    pub const fn contains(self, other: AlarmFlags) -> bool {
        self.0 & other.0 == other.0
    }

    /// The union.
    #[must_use]
    pub const fn union(self, other: AlarmFlags) -> AlarmFlags {
        AlarmFlags(self.0 | other.0)
    }

    /// The flags of `self` that are not in `other`.
    #[must_use]
    pub const fn difference(self, other: AlarmFlags) -> AlarmFlags {
        AlarmFlags(self.0 & !other.0)
    }

    /// `true` if no flag is set.
    pub const fn is_empty(self) -> bool {
        self.0 == 0
    }

    /// `true` if the alarm output should be on.
    pub const fn output(self) -> bool {
        self.0 != 0
    }

    pub(crate) const fn set_if(self, flag: AlarmFlags, on: bool) -> AlarmFlags {
        if on { self.union(flag) } else { self }
    }
}

impl fmt::Display for AlarmFlags {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let names = [
            (AlarmFlags::LOW_CREDIT_1, "low-credit-1"),
            (AlarmFlags::LOW_CREDIT_2, "low-credit-2"),
            (AlarmFlags::OVERDRAFT, "overdraft"),
            (AlarmFlags::EXHAUSTED, "exhausted"),
            (AlarmFlags::REMOTE, "remote"),
        ];
        let mut first = true;
        for (flag, name) in names {
            if self.contains(flag) {
                if !first {
                    f.write_str("|")?;
                }
                f.write_str(name)?;
                first = false;
            }
        }
        if first {
            f.write_str("none")?;
        }
        Ok(())
    }
}

/// The emergency credit state (DLMS Credit status, reduced to what a single emergency credit
/// needs).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub enum EmergencyState {
    /// Not offered now: the balance is above the threshold, or none is configured.
    Unavailable,
    /// The balance is at or below the threshold: the customer may take it.
    Available,
    /// Taken and not yet fully repaid.
    InUse,
}

/// The call that produced an event.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub enum Trigger {
    /// The periodic evaluation ([`Account::tick`](super::Account::tick)).
    Tick,
    /// Consumption charged.
    Debit,
    /// The account opened.
    Open,
    /// A recharge.
    Recharge,
    /// A remote relay command.
    Command(RelayCommand),
    /// The customer's button.
    Button,
    /// Emergency credit taken.
    EmergencyCredit,
    /// The debt to recover was set.
    Debt,
    /// The configuration changed.
    Reconfigure,
    /// Energy credit converted to a new price.
    PriceChange,
}

/// The relay changed state (DL/T 645 trip and close records, `1D`/`1E`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub struct RelayEvent<U> {
    /// When.
    pub time: Timestamp,
    /// The state before the call.
    pub from: RelayState,
    /// The state after it, with the reason when open.
    pub to: RelayState,
    /// The call that caused it.
    pub trigger: Trigger,
    /// The balance after the call.
    pub balance: U,
}

/// The alarm flags changed.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub struct AlarmEvent<U> {
    /// When.
    pub time: Timestamp,
    /// The flags before the call.
    pub from: AlarmFlags,
    /// The flags after it.
    pub to: AlarmFlags,
    /// The balance after the call.
    pub balance: U,
}

impl<U> AlarmEvent<U> {
    /// Flags that came on.
    pub fn raised(&self) -> AlarmFlags {
        self.to.difference(self.from)
    }

    /// Flags that went off.
    pub fn cleared(&self) -> AlarmFlags {
        self.from.difference(self.to)
    }
}

/// The emergency credit state changed.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub struct EmergencyEvent<U> {
    /// When.
    pub time: Timestamp,
    /// The state before the call.
    pub from: EmergencyState,
    /// The state after it.
    pub to: EmergencyState,
    /// Emergency credit still to repay after the call.
    pub outstanding: U,
}

/// One overdraft episode, written when the balance returns to zero or above.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub struct OverdraftRecord<U> {
    /// When the balance went below zero.
    pub started: Timestamp,
    /// When it came back to zero or above.
    pub ended: Timestamp,
    /// The lowest balance reached.
    pub deepest: U,
}

/// A time-based charge collected: the daily standing charge for `days` days.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub struct ChargeRecord<U> {
    /// When it was taken.
    pub time: Timestamp,
    /// How many local days it covers (more than one after a power cut).
    pub days: u32,
    /// The amount taken from the balance.
    pub amount: U,
}

/// Everything one account call decided, for the caller to carry out and log.
///
/// Each event field holds at most one event because each compares the state at the end of the
/// call with the state at its start (a relay that opened and closed again within one call did
/// not move). [`Logs::record`](super::Logs::record) stores them all.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
#[must_use = "the effects say how to drive the relay and what to log"]
pub struct Effects<U> {
    /// Drive the latching relay to this position (a pulse), if its contacts must move.
    pub drive: Option<Contacts>,
    /// The alarm flags after the call; the alarm output is on while any is set.
    pub alarms: AlarmFlags,
    /// The relay changed state.
    pub relay: Option<RelayEvent<U>>,
    /// The alarm flags changed.
    pub alarm: Option<AlarmEvent<U>>,
    /// The emergency credit state changed.
    pub emergency: Option<EmergencyEvent<U>>,
    /// An overdraft episode ended.
    pub overdraft: Option<OverdraftRecord<U>>,
    /// A standing charge was taken.
    pub standing_charge: Option<ChargeRecord<U>>,
    /// The clock moved back, or forward by more days than a standing charge is taken for.
    pub clock: Option<ClockJump>,
}

/// A clock step the account noticed through the time it is handed: backwards (nothing is
/// refunded, and the days already charged are not charged again), or forwards by more than
/// [`STANDING_CATCH_UP_DAYS`] (the standing charge is taken for that many days only).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub struct ClockJump {
    /// When (the time handed in).
    pub time: Timestamp,
    /// The last local day whose standing charge was taken.
    pub from_day: i64,
    /// The local day of `time`.
    pub to_day: i64,
    /// Days a forward step skipped without a standing charge (0 for a step back).
    pub uncharged_days: u32,
}

/// The most days one standing charge covers. A clock that jumps further forward at once (a
/// wrong clock, a meter stored for a year) is charged for this many days; the rest are
/// recorded ([`ClockJump::uncharged_days`]) for the head-end to bill if they were real.
pub const STANDING_CATCH_UP_DAYS: u32 = 31;

impl<U> Effects<U> {
    pub(crate) const fn new(alarms: AlarmFlags) -> Effects<U> {
        Effects {
            drive: None,
            alarms,
            relay: None,
            alarm: None,
            emergency: None,
            overdraft: None,
            standing_charge: None,
            clock: None,
        }
    }

    /// `true` if the call moved nothing and produced no record.
    pub fn is_quiet(&self) -> bool {
        self.drive.is_none()
            && self.relay.is_none()
            && self.alarm.is_none()
            && self.emergency.is_none()
            && self.overdraft.is_none()
            && self.standing_charge.is_none()
            && self.clock.is_none()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn flags() {
        let f = AlarmFlags::LOW_CREDIT_1.union(AlarmFlags::REMOTE);
        assert!(f.contains(AlarmFlags::REMOTE));
        assert!(!f.contains(AlarmFlags::OVERDRAFT));
        assert!(f.output());
        assert!(!AlarmFlags::NONE.output());
        assert_eq!(f.to_string(), "low-credit-1|remote");
        assert_eq!(AlarmFlags::NONE.to_string(), "none");
        assert_eq!(AlarmFlags::from_bits_truncate(0xFF).bits(), 0x1F);
        let e = AlarmEvent {
            time: Timestamp::UNIX_EPOCH,
            from: AlarmFlags::LOW_CREDIT_1,
            to: AlarmFlags::LOW_CREDIT_2,
            balance: 0i64,
        };
        assert_eq!(e.raised(), AlarmFlags::LOW_CREDIT_2);
        assert_eq!(e.cleared(), AlarmFlags::LOW_CREDIT_1);
        assert!(Effects::<i64>::new(AlarmFlags::REMOTE).is_quiet());
    }
}
