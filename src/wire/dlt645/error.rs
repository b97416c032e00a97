use core::fmt;

/// Why a DL/T 645 frame or payload was refused, or could not be emitted.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
#[non_exhaustive]
pub enum Error {
    /// The buffer is shorter than the fixed header and trailer, or than its length byte says.
    Truncated,
    /// No `68H` at the start of the frame or after the address.
    StartByte,
    /// No `16H` after the checksum.
    EndByte,
    /// The checksum byte is not the sum of the frame bytes.
    Checksum,
    /// An address byte holds a nibble that is neither a BCD digit nor the wildcard `A`.
    Address,
    /// The data length does not fit the function code (for example a read with 3 data bytes).
    Length,
    /// A field holds a value its format does not allow (a BCD nibble above 9, a date that does
    /// not exist, a reserved code).
    Value,
    /// The frame goes the wrong way: a response where a request was expected, or the reverse.
    Direction,
    /// More data than the length byte can count (255).
    TooLong,
    /// The output buffer is too short for the frame.
    BufferTooSmall,
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Error::Truncated => "frame shorter than its header or length byte says",
            Error::StartByte => "missing 68H start byte",
            Error::EndByte => "missing 16H end byte",
            Error::Checksum => "checksum mismatch",
            Error::Address => "address is not BCD",
            Error::Length => "data length does not fit the function code",
            Error::Value => "field value not allowed by its format",
            Error::Direction => "frame direction not the one expected",
            Error::TooLong => "data longer than 255 bytes",
            Error::BufferTooSmall => "output buffer too small",
        })
    }
}

impl core::error::Error for Error {}

impl From<crate::bcd::BcdError> for Error {
    fn from(_: crate::bcd::BcdError) -> Error {
        Error::Value
    }
}
