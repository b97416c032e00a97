//! The DL/T 645 relay-control codes (`N1` of function 1CH), shared by the wire layer, the
//! security layer's sealed relay commands and the account, which turns a code into its
//! decision ([`account::RelayCommand::from_code`](crate::account::RelayCommand::from_code)).
//!
//! ```
//! use prepaid_meter::relay::RelayCode;
//!
//! assert_eq!(RelayCode::from_code(0x1A), RelayCode::Trip);
//! assert_eq!(RelayCode::Trip.code(), 0x1A);
//! // Codes without a name are kept, so they round-trip.
//! assert_eq!(RelayCode::from_code(0x7F).code(), 0x7F);
//! ```

/// A DL/T 645 relay-control code: the `N1` byte of function 1CH, also carried by sealed
/// relay commands. Unknown codes are kept, so they round-trip.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
#[non_exhaustive]
pub enum RelayCode {
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

impl RelayCode {
    /// The code for a byte.
    pub const fn from_code(code: u8) -> RelayCode {
        match code {
            0x1A => RelayCode::Trip,
            0x1B => RelayCode::ReconnectAllowed,
            0x1C => RelayCode::DirectClose,
            0x1D => RelayCode::TripRestoreAllowed,
            0x1E => RelayCode::TripRestoreClose,
            0x2A => RelayCode::AlarmOn,
            0x2B => RelayCode::AlarmOff,
            0x3A => RelayCode::KeepPowerOn,
            0x3B => RelayCode::KeepPowerOff,
            other => RelayCode::Unknown(other),
        }
    }

    /// The byte.
    pub const fn code(self) -> u8 {
        match self {
            RelayCode::Trip => 0x1A,
            RelayCode::ReconnectAllowed => 0x1B,
            RelayCode::DirectClose => 0x1C,
            RelayCode::TripRestoreAllowed => 0x1D,
            RelayCode::TripRestoreClose => 0x1E,
            RelayCode::AlarmOn => 0x2A,
            RelayCode::AlarmOff => 0x2B,
            RelayCode::KeepPowerOn => 0x3A,
            RelayCode::KeepPowerOff => 0x3B,
            RelayCode::Unknown(c) => c,
        }
    }
}
