//! The latching relay as the account sees it, and the remote relay commands.

use core::fmt;

use super::config::ReconnectMode;
use crate::time::Timestamp;

/// Why the relay is open. When several reasons hold, the highest wins:
/// [`Remote`](TripReason::Remote), then [`Credit`](TripReason::Credit), then
/// [`LowCredit`](TripReason::LowCredit).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub enum TripReason {
    /// A remote trip command (DL/T 645 `1A`, or `1D`/`1E` until their restore time).
    Remote,
    /// Credit exhausted: the balance reached the overdraft limit.
    Credit,
    /// The balance reached alarm 2 and the low-credit trip is enabled; the customer may undo it
    /// with the button.
    LowCredit,
}

/// The position of the relay contacts.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub enum Contacts {
    /// Supply connected.
    Closed,
    /// Supply disconnected.
    Open,
}

/// The relay state (DLMS disconnect control: connected, disconnected, ready for reconnection).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub enum RelayState {
    /// Contacts closed, supply on.
    Closed,
    /// Contacts open for `reason`; the button does nothing.
    Open(TripReason),
    /// Contacts open, reconnection allowed: the customer's button closes them. The reason is the
    /// trip that was lifted (or, for [`TripReason::LowCredit`], the trip the button undoes).
    Ready(TripReason),
}

impl RelayState {
    /// Where the contacts are.
    pub const fn contacts(self) -> Contacts {
        match self {
            RelayState::Closed => Contacts::Closed,
            RelayState::Open(_) | RelayState::Ready(_) => Contacts::Open,
        }
    }
}

/// A remote relay command: DL/T 645 control code `1CH`, first data byte N1.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub enum RelayCommand {
    /// `1A` trip (拉闸): the relay opens and stays open until a reconnect command. Refused with
    /// keep-power on.
    Trip,
    /// `1B` reconnection allowed (合闸允许): lifts a remote trip; the relay waits for the button.
    ReconnectAllowed,
    /// `1C` direct close (直接合闸): lifts a remote trip and a low-credit trip, closing at once.
    /// It does not override exhausted credit (see the module docs).
    DirectClose,
    /// `1D` / `1E` trip with automatic restore: trip now, and after `delay_secs` lift the trip,
    /// then wait for the button (`1D`, [`ReconnectMode::Button`]) or close (`1E`,
    /// [`ReconnectMode::Direct`]). Refused with keep-power on, with a zero delay, or when the
    /// relay is already open.
    TripRestore {
        /// Seconds until the restore (CHINT meters take N2 x 5 minutes).
        delay_secs: u32,
        /// What the restore does.
        then: ReconnectMode,
    },
    /// `2A` alarm on (报警).
    AlarmOn,
    /// `2B` alarm off (报警解除).
    AlarmOff,
    /// `3A` keep-power on (保电): no trip of any kind until keep-power off; lifts a remote trip,
    /// and an open relay reconnects as [`Config::reconnect`](super::Config::reconnect) says.
    KeepPowerOn,
    /// `3B` keep-power off (保电解除): trips that were held back take effect.
    KeepPowerOff,
}

impl RelayCommand {
    /// Seconds per unit of `N2`, the restore delay of `1D`/`1E` (CHINT meters: 5 minutes).
    pub const RESTORE_DELAY_UNIT_SECS: u32 = 300;

    /// The command for a DL/T 645 `1CH` order: `n1` is the command code (`1A`..`3B`, as
    /// [`crate::wire::dlt645::RelayCommand::code`] and
    /// [`crate::security::RelayAction::code`] give it), `n2` the restore delay of `1D`/`1E` in
    /// units of [`RelayCommand::RESTORE_DELAY_UNIT_SECS`] (ignored by the other codes; a zero
    /// delay is refused by [`Account::command`](super::Account::command)). `None` for an
    /// unknown code.
    ///
    /// ```
    /// use prepaid_meter::account::{ReconnectMode, RelayCommand};
    /// assert_eq!(RelayCommand::from_dlt645(0x1A, 0), Some(RelayCommand::Trip));
    /// assert_eq!(
    ///     RelayCommand::from_dlt645(0x1E, 2),
    ///     Some(RelayCommand::TripRestore { delay_secs: 600, then: ReconnectMode::Direct })
    /// );
    /// assert_eq!(RelayCommand::from_dlt645(0x4C, 0), None);
    /// ```
    pub const fn from_dlt645(n1: u8, n2: u8) -> Option<RelayCommand> {
        // At most 255 × 300 s: no overflow.
        let delay_secs = n2 as u32 * Self::RESTORE_DELAY_UNIT_SECS;
        Some(match n1 {
            0x1A => RelayCommand::Trip,
            0x1B => RelayCommand::ReconnectAllowed,
            0x1C => RelayCommand::DirectClose,
            0x1D => RelayCommand::TripRestore {
                delay_secs,
                then: ReconnectMode::Button,
            },
            0x1E => RelayCommand::TripRestore {
                delay_secs,
                then: ReconnectMode::Direct,
            },
            0x2A => RelayCommand::AlarmOn,
            0x2B => RelayCommand::AlarmOff,
            0x3A => RelayCommand::KeepPowerOn,
            0x3B => RelayCommand::KeepPowerOff,
            _ => return None,
        })
    }
}

/// A remote trip in force.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub enum RemoteTrip {
    /// No remote trip.
    None,
    /// Tripped until a reconnect or keep-power command.
    Tripped,
    /// Tripped until `at`, then restored as `then` says.
    Until {
        /// The restore time.
        at: Timestamp,
        /// Button or direct reconnection at the restore time.
        then: ReconnectMode,
    },
}

/// Why a relay command was refused (the state is unchanged). Each maps to a bit of the DL/T
/// 645 `1CH` execution status word ([`CommandError::dlt645_status`]).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
#[non_exhaustive]
pub enum CommandError {
    /// A trip while keep-power is on (跳闸失败（保电）).
    KeepPower,
    /// A trip with automatic restore while keep-power is on (自动恢复失败（保电）).
    RestoreKeepPower,
    /// A trip with automatic restore and a zero or unrepresentable delay (自动恢复时间无效).
    InvalidRestoreTime,
    /// A trip with automatic restore while the relay is already open (自动恢复失败（跳闸）).
    AlreadyTripped,
}

impl CommandError {
    /// The bit of the DL/T 645 execution status word that reports this error.
    pub const fn dlt645_status(self) -> u16 {
        match self {
            CommandError::KeepPower => 0x0020,
            CommandError::RestoreKeepPower => 0x0040,
            CommandError::InvalidRestoreTime => 0x0080,
            CommandError::AlreadyTripped => 0x0100,
        }
    }
}

impl fmt::Display for CommandError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            CommandError::KeepPower => "trip refused: keep-power is on",
            CommandError::RestoreKeepPower => "trip with restore refused: keep-power is on",
            CommandError::InvalidRestoreTime => "trip with restore refused: invalid restore time",
            CommandError::AlreadyTripped => "trip with restore refused: the relay is already open",
        })
    }
}

impl core::error::Error for CommandError {}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dlt645_codes() {
        use crate::security::RelayAction;
        use crate::wire::dlt645::RelayCommand as Wire;
        let expect = [
            (0x1A, RelayCommand::Trip),
            (0x1B, RelayCommand::ReconnectAllowed),
            (0x1C, RelayCommand::DirectClose),
            (0x2A, RelayCommand::AlarmOn),
            (0x2B, RelayCommand::AlarmOff),
            (0x3A, RelayCommand::KeepPowerOn),
            (0x3B, RelayCommand::KeepPowerOff),
        ];
        for (code, cmd) in expect {
            assert_eq!(RelayCommand::from_dlt645(code, 7), Some(cmd));
            // The wire codec and the sealed relay action agree on the code.
            assert_eq!(Wire::from_code(code).code(), code);
            assert_eq!(
                RelayAction::from_code(code).map(RelayAction::code),
                Some(code)
            );
        }
        assert_eq!(
            RelayCommand::from_dlt645(Wire::TripRestoreAllowed.code(), 1),
            Some(RelayCommand::TripRestore {
                delay_secs: 300,
                then: ReconnectMode::Button
            })
        );
        assert_eq!(
            RelayCommand::from_dlt645(0x1E, 255),
            Some(RelayCommand::TripRestore {
                delay_secs: 76_500,
                then: ReconnectMode::Direct
            })
        );
        assert_eq!(
            RelayCommand::from_dlt645(0x1D, 0),
            Some(RelayCommand::TripRestore {
                delay_secs: 0,
                then: ReconnectMode::Button
            })
        );
        for code in [0x00, 0x19, 0x1F, 0x29, 0x3C, 0xFF] {
            assert_eq!(RelayCommand::from_dlt645(code, 0), None);
        }
    }

    #[test]
    fn contacts_and_status_bits() {
        assert_eq!(RelayState::Closed.contacts(), Contacts::Closed);
        assert_eq!(
            RelayState::Open(TripReason::Remote).contacts(),
            Contacts::Open
        );
        assert_eq!(
            RelayState::Ready(TripReason::Credit).contacts(),
            Contacts::Open
        );
        let all = [
            CommandError::KeepPower,
            CommandError::RestoreKeepPower,
            CommandError::InvalidRestoreTime,
            CommandError::AlreadyTripped,
        ];
        let mut seen = 0u16;
        for e in all {
            assert_eq!(e.dlt645_status().count_ones(), 1);
            assert_eq!(seen & e.dlt645_status(), 0);
            seen |= e.dlt645_status();
            assert!(!e.to_string().is_empty());
        }
    }
}
