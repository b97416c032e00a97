//! Data identifiers.

use core::fmt;
use core::str::FromStr;

use super::Error;

/// A DL/T 645-2007 data identifier `DI3 DI2 DI1 DI0`.
///
/// The value is the logical, big-endian reading (`0x0001_FF00` is "0001FF00"); the wire carries
/// it low byte first (`DI0` first), each byte +33H like all data.
///
/// ```
/// use prepaid_meter::wire::dlt645::Di;
/// let di: Di = "00900200".parse().unwrap();
/// assert_eq!(di, Di(0x0090_0200));
/// assert_eq!(di.to_wire(), [0x00, 0x02, 0x90, 0x00]);
/// assert_eq!(Di::from_wire([0x00, 0xFF, 0x01, 0x00]), Di(0x0001_FF00));
/// assert_eq!(Di(0x0001_FF00).di1(), 0xFF);
/// assert_eq!(di.to_string(), "00900200");
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub struct Di(pub u32);

impl Di {
    /// From the four bytes in logical order.
    #[inline]
    pub const fn new(di3: u8, di2: u8, di1: u8, di0: u8) -> Di {
        Di(u32::from_be_bytes([di3, di2, di1, di0]))
    }

    /// From the four plain wire bytes (after -33H), `DI0` first.
    #[inline]
    pub const fn from_wire(bytes: [u8; 4]) -> Di {
        Di(u32::from_le_bytes(bytes))
    }

    /// The four plain wire bytes, `DI0` first.
    #[inline]
    pub const fn to_wire(self) -> [u8; 4] {
        self.0.to_le_bytes()
    }

    /// `DI3`, the most significant byte (the data class: 00 energy, 02 variables, 04
    /// parameters, ...).
    pub const fn di3(self) -> u8 {
        self.0.to_be_bytes()[0]
    }

    /// `DI2`.
    pub const fn di2(self) -> u8 {
        self.0.to_be_bytes()[1]
    }

    /// `DI1`.
    pub const fn di1(self) -> u8 {
        self.0.to_be_bytes()[2]
    }

    /// `DI0`, the least significant byte.
    pub const fn di0(self) -> u8 {
        self.0.to_be_bytes()[3]
    }
}

/// Eight hex digits, logical order.
impl fmt::Display for Di {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:08X}", self.0)
    }
}

/// Eight hex digits, logical order.
impl FromStr for Di {
    type Err = Error;

    fn from_str(s: &str) -> Result<Di, Error> {
        if s.len() != 8 || !s.bytes().all(|b| b.is_ascii_hexdigit()) {
            return Err(Error::Value);
        }
        u32::from_str_radix(s, 16).map(Di).map_err(|_| Error::Value)
    }
}

/// A DL/T 645-1997 data identifier `DI1 DI0` (two bytes, for example `9010` forward active
/// energy), carried low byte first like the 2007 identifiers.
///
/// ```
/// use prepaid_meter::wire::dlt645::Di97;
/// assert_eq!(Di97::from_wire([0x11, 0xB6]), Di97(0xB611));
/// assert_eq!(Di97(0xB611).to_string(), "B611");
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub struct Di97(pub u16);

impl Di97 {
    /// From the two plain wire bytes (after -33H), `DI0` first.
    #[inline]
    pub const fn from_wire(bytes: [u8; 2]) -> Di97 {
        Di97(u16::from_le_bytes(bytes))
    }

    /// The two plain wire bytes, `DI0` first.
    #[inline]
    pub const fn to_wire(self) -> [u8; 2] {
        self.0.to_le_bytes()
    }
}

/// Four hex digits, logical order.
impl fmt::Display for Di97 {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:04X}", self.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parts_and_text() {
        let di = Di::new(0x04, 0x00, 0x10, 0x05);
        assert_eq!(di, Di(0x0400_1005));
        assert_eq!((di.di3(), di.di2(), di.di1(), di.di0()), (4, 0, 0x10, 5));
        assert_eq!(Di::from_wire(di.to_wire()), di);
        assert_eq!("0400100".parse::<Di>(), Err(Error::Value));
        assert_eq!("+4001005".parse::<Di>(), Err(Error::Value));
        assert_eq!("0001ff00".parse::<Di>(), Ok(Di(0x0001_FF00)));
    }
}
