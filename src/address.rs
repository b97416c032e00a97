//! Meter addresses: 12 BCD digits, as DL/T 645 carries them and as keys are derived from them.
//!
//! On the wire the six bytes go low byte first: meter `000000000161` is sent `61 01 00 00 00 00`.
//! An address may also be the broadcast address (`999999999999`) or contain wildcard nibbles
//! (`A`), by which a master addresses "any meter" (`AAAAAAAAAAAA`) or shortens the high digits.
//!
//! ```
//! use prepaid_meter::address::Address;
//! let a: Address = "000000000161".parse().unwrap();
//! assert_eq!(a.to_wire(), [0x61, 0x01, 0, 0, 0, 0]);
//! assert_eq!(a.to_string(), "000000000161");
//! assert!(Address::WILDCARD.matches(a));
//! assert!(!Address::BROADCAST.matches(a)); // broadcast is a separate rule
//! ```

use core::fmt;
use core::str::FromStr;

/// Why an address was refused.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
#[non_exhaustive]
pub enum AddressError {
    /// Not exactly 12 digits.
    Length,
    /// A nibble that is neither a decimal digit nor the wildcard `A`.
    InvalidDigit,
    /// The number is larger than 999 999 999 999.
    Overflow,
}

impl fmt::Display for AddressError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            AddressError::Length => "an address has exactly 12 digits",
            AddressError::InvalidDigit => "an address digit must be 0-9 or the wildcard A",
            AddressError::Overflow => "an address is at most 999999999999",
        })
    }
}

impl core::error::Error for AddressError {}

/// A 12-digit meter address, kept in wire order (low byte first).
///
/// Under `serde` an address is its 12-character string (`"000000000161"`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub struct Address([u8; 6]);

const WILDCARD_NIBBLE: u8 = 0xA;

impl Address {
    /// The broadcast address `999999999999` (broadcast time, freeze).
    pub const BROADCAST: Address = Address([0x99; 6]);
    /// The all-wildcard address `AAAAAAAAAAAA` (any single meter on a point-to-point link).
    pub const WILDCARD: Address = Address([0xAA; 6]);

    /// An address from its six wire bytes (low byte first); every nibble must be 0-9 or `A`.
    pub const fn from_wire(bytes: [u8; 6]) -> Result<Address, AddressError> {
        let mut i = 0;
        while i < 6 {
            let b = bytes[i];
            if !nibble_ok(b >> 4) || !nibble_ok(b & 0x0F) {
                return Err(AddressError::InvalidDigit);
            }
            i += 1;
        }
        Ok(Address(bytes))
    }

    /// An address from a number up to 999 999 999 999.
    pub const fn from_number(n: u64) -> Result<Address, AddressError> {
        if n > 999_999_999_999 {
            return Err(AddressError::Overflow);
        }
        let mut out = [0u8; 6];
        let mut v = n;
        let mut i = 0;
        while i < 6 {
            let lo = (v % 10) as u8;
            let hi = (v / 10 % 10) as u8;
            out[i] = (hi << 4) | lo;
            v /= 100;
            i += 1;
        }
        Ok(Address(out))
    }

    /// The six wire bytes, low byte first.
    pub const fn to_wire(self) -> [u8; 6] {
        self.0
    }

    /// The six bytes in logical order (most significant digits first), as key derivation uses them.
    pub const fn to_be_bytes(self) -> [u8; 6] {
        let w = self.0;
        [w[5], w[4], w[3], w[2], w[1], w[0]]
    }

    /// The address as a number, or `None` if it contains wildcard nibbles.
    pub const fn to_number(self) -> Option<u64> {
        let mut n: u64 = 0;
        let mut i = 6;
        while i > 0 {
            i -= 1;
            let b = self.0[i];
            let (hi, lo) = (b >> 4, b & 0x0F);
            if hi > 9 || lo > 9 {
                return None;
            }
            n = n * 100 + (hi as u64) * 10 + lo as u64;
        }
        Some(n)
    }

    /// `true` for [`Address::BROADCAST`].
    pub const fn is_broadcast(self) -> bool {
        let mut i = 0;
        while i < 6 {
            if self.0[i] != 0x99 {
                return false;
            }
            i += 1;
        }
        true
    }

    /// `true` if any nibble is the wildcard `A`.
    pub const fn has_wildcard(self) -> bool {
        let mut i = 0;
        while i < 6 {
            if self.0[i] >> 4 == WILDCARD_NIBBLE || self.0[i] & 0x0F == WILDCARD_NIBBLE {
                return true;
            }
            i += 1;
        }
        false
    }

    /// `true` if this (possibly wildcarded) address selects the concrete address `meter`:
    /// every nibble is equal or a wildcard. The broadcast address is not a pattern; test it with
    /// [`Address::is_broadcast`].
    pub const fn matches(self, meter: Address) -> bool {
        let mut i = 0;
        while i < 6 {
            let (p, m) = (self.0[i], meter.0[i]);
            let hi_ok = p >> 4 == WILDCARD_NIBBLE || p >> 4 == m >> 4;
            let lo_ok = p & 0x0F == WILDCARD_NIBBLE || p & 0x0F == m & 0x0F;
            if !hi_ok || !lo_ok {
                return false;
            }
            i += 1;
        }
        true
    }
}

const fn nibble_ok(n: u8) -> bool {
    n <= 9 || n == WILDCARD_NIBBLE
}

/// Shown as 12 digits in logical order, wildcards as `A`.
impl fmt::Display for Address {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for b in self.0.iter().rev() {
            write!(f, "{:X}{:X}", b >> 4, b & 0x0F)?;
        }
        Ok(())
    }
}

/// Parses 12 characters `0-9`, `A` or `a`, in logical order.
impl FromStr for Address {
    type Err = AddressError;

    fn from_str(s: &str) -> Result<Address, AddressError> {
        let digits = s.as_bytes();
        if digits.len() != 12 {
            return Err(AddressError::Length);
        }
        let mut out = [0u8; 6];
        for (i, pair) in digits.chunks_exact(2).enumerate() {
            let hi = parse_nibble(pair.first().copied())?;
            let lo = parse_nibble(pair.get(1).copied())?;
            // Logical order is high byte first; the wire keeps the low byte first.
            if let Some(slot) = out.get_mut(5 - i) {
                *slot = (hi << 4) | lo;
            }
        }
        Ok(Address(out))
    }
}

fn parse_nibble(c: Option<u8>) -> Result<u8, AddressError> {
    match c {
        Some(c @ b'0'..=b'9') => Ok(c - b'0'),
        Some(b'A' | b'a') => Ok(WILDCARD_NIBBLE),
        _ => Err(AddressError::InvalidDigit),
    }
}

#[cfg(feature = "serde")]
impl serde::Serialize for Address {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let mut digits = [0u8; 12];
        for (pair, b) in digits.chunks_exact_mut(2).zip(self.0.iter().rev()) {
            for (d, n) in pair.iter_mut().zip([b >> 4, b & 0x0F]) {
                *d = if n == WILDCARD_NIBBLE { b'A' } else { b'0' + n };
            }
        }
        s.serialize_str(core::str::from_utf8(&digits).map_err(serde::ser::Error::custom)?)
    }
}

#[cfg(feature = "serde")]
impl<'de> serde::Deserialize<'de> for Address {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl serde::de::Visitor<'_> for V {
            type Value = Address;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a 12-digit meter address")
            }
            fn visit_str<E: serde::de::Error>(self, s: &str) -> Result<Address, E> {
                s.parse().map_err(E::custom)
            }
        }
        d.deserialize_str(V)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parse_display_round_trip() {
        for s in [
            "000000000161",
            "201000000012",
            "999999999999",
            "AAAAAAAAAAAA",
            "0000AAAA1234",
        ] {
            let a: Address = s.parse().unwrap();
            assert_eq!(a.to_string(), s);
            assert_eq!(Address::from_wire(a.to_wire()), Ok(a));
        }
        assert_eq!("12345".parse::<Address>(), Err(AddressError::Length));
        assert_eq!(
            "00000000016B".parse::<Address>(),
            Err(AddressError::InvalidDigit)
        );
        assert_eq!(
            Address::from_wire([0x0F, 0, 0, 0, 0, 0]),
            Err(AddressError::InvalidDigit)
        );
    }

    #[test]
    fn numbers() {
        let a = Address::from_number(201_000_000_012).unwrap();
        assert_eq!(a.to_wire(), [0x12, 0x00, 0x00, 0x00, 0x10, 0x20]);
        assert_eq!(a.to_be_bytes(), [0x20, 0x10, 0x00, 0x00, 0x00, 0x12]);
        assert_eq!(a.to_number(), Some(201_000_000_012));
        assert_eq!(Address::WILDCARD.to_number(), None);
        assert_eq!(
            Address::from_number(1_000_000_000_000),
            Err(AddressError::Overflow)
        );
    }

    #[test]
    fn matching() {
        let m: Address = "000012345678".parse().unwrap();
        assert!("AAAA12345678".parse::<Address>().unwrap().matches(m));
        assert!(!"AAAA12345679".parse::<Address>().unwrap().matches(m));
        assert!(m.matches(m));
        assert!(Address::BROADCAST.is_broadcast());
        assert!(!m.is_broadcast());
        assert!(Address::WILDCARD.has_wildcard() && !m.has_wildcard());
    }
}
