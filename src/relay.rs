//! The DL/T 645 relay-control codes (`N1` of function 1CH), shared by the wire layer, the
//! security layer's sealed relay commands and the account, which interprets them
//! ([`account::RelayCommand::from_code`](crate::account::RelayCommand::from_code)).

/// A DL/T 645 relay-control command: the `N1` byte of function 1CH, also carried by sealed
/// relay commands. Unknown codes are kept, so they round-trip.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
#[non_exhaustive]
pub enum RelayCommand {
    /// 1AH: trip (disconnect).
    Trip,
    /// 1BH: reconnect allowed: the customer presses the button to close.
    ReconnectAllowed,
    /// 1CH: direct close.
    DirectClose,
    /// 1DH: trip, then automatically restore to "reconnect allowed" (2020 extension).
    TripRestoreAllowed,
    /// 1EH: trip, then automatically restore by direct close (2020 extension).
    TripRestoreClose,
    /// 2AH: alarm on.
    AlarmOn,
    /// 2BH: alarm off.
    AlarmOff,
    /// 3AH: keep-power (no disconnection) on.
    KeepPowerOn,
    /// 3BH: keep-power off.
    KeepPowerOff,
    /// Any other code; round-trips unchanged.
    Unknown(u8),
}

impl RelayCommand {
    /// The command for a code.
    pub const fn from_code(code: u8) -> RelayCommand {
        match code {
            0x1A => RelayCommand::Trip,
            0x1B => RelayCommand::ReconnectAllowed,
            0x1C => RelayCommand::DirectClose,
            0x1D => RelayCommand::TripRestoreAllowed,
            0x1E => RelayCommand::TripRestoreClose,
            0x2A => RelayCommand::AlarmOn,
            0x2B => RelayCommand::AlarmOff,
            0x3A => RelayCommand::KeepPowerOn,
            0x3B => RelayCommand::KeepPowerOff,
            other => RelayCommand::Unknown(other),
        }
    }

    /// The code.
    pub const fn code(self) -> u8 {
        match self {
            RelayCommand::Trip => 0x1A,
            RelayCommand::ReconnectAllowed => 0x1B,
            RelayCommand::DirectClose => 0x1C,
            RelayCommand::TripRestoreAllowed => 0x1D,
            RelayCommand::TripRestoreClose => 0x1E,
            RelayCommand::AlarmOn => 0x2A,
            RelayCommand::AlarmOff => 0x2B,
            RelayCommand::KeepPowerOn => 0x3A,
            RelayCommand::KeepPowerOff => 0x3B,
            RelayCommand::Unknown(c) => c,
        }
    }
}
