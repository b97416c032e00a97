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

/// Seconds of automatic-restore delay per unit of the DL/T 645 `N2` byte: five minutes, as
/// CHINT meters count it (the standard leaves the unit to the meter).
pub const RESTORE_DELAY_UNIT_SECS: u32 = 300;

impl RelayCommand {
    /// The account command for a DL/T 645 relay code `N1` and its `N2` byte, as a plain or a
    /// sealed 1CH command carries them. `N2` is the automatic-restore delay of `1D`/`1E` in
    /// units of [`RESTORE_DELAY_UNIT_SECS`] (a zero delay is refused by
    /// [`Account::command`](super::Account::command)); other codes ignore it. `None` for an
    /// unknown code.
    ///
    /// ```
    /// use prepaid_meter::account::{ReconnectMode, RelayCommand};
    /// use prepaid_meter::relay;
    /// assert_eq!(RelayCommand::from_code(relay::RelayCode::Trip, 0), Some(RelayCommand::Trip));
    /// assert_eq!(
    ///     RelayCommand::from_code(relay::RelayCode::TripRestoreClose, 2),
    ///     Some(RelayCommand::TripRestore { delay_secs: 600, then: ReconnectMode::Direct })
    /// );
    /// assert_eq!(RelayCommand::from_code(relay::RelayCode::Unknown(0x4F), 0), None);
    /// ```
    pub const fn from_code(code: crate::relay::RelayCode, n2: u8) -> Option<RelayCommand> {
        use crate::relay::RelayCode as Code;
        let delay_secs = n2 as u32 * RESTORE_DELAY_UNIT_SECS;
        Some(match code {
            Code::Trip => RelayCommand::Trip,
            Code::ReconnectAllowed => RelayCommand::ReconnectAllowed,
            Code::DirectClose => RelayCommand::DirectClose,
            Code::TripRestoreAllowed => RelayCommand::TripRestore {
                delay_secs,
                then: ReconnectMode::Button,
            },
            Code::TripRestoreClose => RelayCommand::TripRestore {
                delay_secs,
                then: ReconnectMode::Direct,
            },
            Code::AlarmOn => RelayCommand::AlarmOn,
            Code::AlarmOff => RelayCommand::AlarmOff,
            Code::KeepPowerOn => RelayCommand::KeepPowerOn,
            Code::KeepPowerOff => RelayCommand::KeepPowerOff,
            Code::Unknown(_) => return None,
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

/// Why a relay command was refused (the state is unchanged). The DL/T 645 endpoint reports each
/// as a bit of its own in the `1CH` execution status word.
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
    fn every_code_maps_and_unknown_codes_do_not() {
        for byte in 0..=255u8 {
            let code = crate::relay::RelayCode::from_code(byte);
            let mapped = RelayCommand::from_code(code, 1);
            assert_eq!(
                mapped.is_none(),
                matches!(code, crate::relay::RelayCode::Unknown(_))
            );
        }
        assert_eq!(
            RelayCommand::from_code(crate::relay::RelayCode::TripRestoreAllowed, 255),
            Some(RelayCommand::TripRestore {
                delay_secs: 76_500,
                then: ReconnectMode::Button
            })
        );
    }

    #[test]
    fn contacts_and_messages() {
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
        for e in all {
            assert!(!e.to_string().is_empty());
        }
    }
}
