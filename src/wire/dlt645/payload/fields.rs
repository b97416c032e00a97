//! The fields that requests and answers share: passwords, operator codes, freeze times, baud
//! rates, relay orders and the error words.

use core::fmt;

use crate::bcd;
use crate::relay::RelayCode;
use crate::time::DateTime;
use crate::wire::dlt645::frame::Data;
use crate::wire::dlt645::{Error, Result};

/// The most data bytes a meter puts in one read answer; longer answers continue in follow-up
/// frames (D5 set, read with 12H). The standard's limit for read data (from secondary sources).
pub const MAX_READ_DATA_LEN: usize = 200;

/// A password with its level: `PA P0 P1 P2`.
///
/// Level 0 is the highest of the plain levels 00..09; levels 98H (ciphertext + MAC) and 99H
/// (plaintext + MAC) say that the command is sealed by a security module and the password bytes
/// are not used. `code` is in wire order (`P0` first).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub struct Password {
    /// `PA`.
    pub level: u8,
    /// `P0 P1 P2`.
    pub code: [u8; 3],
}

impl Password {
    /// Level 98H: ciphertext and MAC follow (class-2 parameters, remote control).
    pub const LEVEL_SEALED: u8 = 0x98;
    /// Level 99H: plaintext and MAC (class-1 parameters).
    pub const LEVEL_MAC: u8 = 0x99;

    /// From the four plain wire bytes.
    #[inline]
    pub const fn from_wire(b: [u8; 4]) -> Password {
        Password {
            level: b[0],
            code: [b[1], b[2], b[3]],
        }
    }

    /// The four plain wire bytes.
    #[inline]
    pub const fn to_wire(self) -> [u8; 4] {
        [self.level, self.code[0], self.code[1], self.code[2]]
    }

    /// `true` for the sealed levels 98H and 99H.
    pub const fn is_sealed(self) -> bool {
        self.level == Self::LEVEL_SEALED || self.level == Self::LEVEL_MAC
    }
}

/// The operator code `C0 C1 C2 C3` a master sends with writes and controls, for the meter's
/// logs; wire order.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub struct OperatorCode(pub [u8; 4]);

/// Logical order (`C3` first), hex.
impl fmt::Display for OperatorCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let [c0, c1, c2, c3] = self.0;
        write!(f, "{c3:02X}{c2:02X}{c1:02X}{c0:02X}")
    }
}

/// The forms of a read request (11H).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub enum ReadForm {
    /// `DI` alone (L = 4).
    Single,
    /// `DI N`: a number of records or blocks (L = 5).
    Count(u8),
    /// `DI N mmhhDDMMYY`: load records from a start time (L = 10).
    LoadRecord {
        /// `N`.
        count: u8,
        /// The start time (`YYMMDDhhmm`).
        from: DateTime,
    },
}

/// The freeze time of 16H, `mmhhDDMM`: each field BCD, 99 meaning "every". All four 99 means
/// "freeze now".
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub struct FreezeTime {
    /// Minute 0..=59, or 99.
    pub minute: u8,
    /// Hour 0..=23, or 99.
    pub hour: u8,
    /// Day of month 1..=31, or 99.
    pub day: u8,
    /// Month 1..=12, or 99.
    pub month: u8,
}

impl FreezeTime {
    /// "Freeze now": `99999999`.
    pub const NOW: FreezeTime = FreezeTime {
        minute: 99,
        hour: 99,
        day: 99,
        month: 99,
    };

    /// `true` for [`FreezeTime::NOW`].
    pub const fn is_now(self) -> bool {
        self.minute == 99 && self.hour == 99 && self.day == 99 && self.month == 99
    }

    #[inline]
    pub(super) fn from_wire(b: [u8; 4]) -> Result<FreezeTime> {
        let [m, h, d, mo] = b;
        let t = FreezeTime {
            minute: bcd::decode_byte(m)?,
            hour: bcd::decode_byte(h)?,
            day: bcd::decode_byte(d)?,
            month: bcd::decode_byte(mo)?,
        };
        let ok = |v: u8, lo: u8, hi: u8| v == 99 || (lo..=hi).contains(&v);
        if ok(t.minute, 0, 59) && ok(t.hour, 0, 23) && ok(t.day, 1, 31) && ok(t.month, 1, 12) {
            Ok(t)
        } else {
            Err(Error::Value)
        }
    }

    #[inline]
    pub(super) fn to_wire(self) -> Result<[u8; 4]> {
        Ok([
            bcd::encode_byte(self.minute)?,
            bcd::encode_byte(self.hour)?,
            bcd::encode_byte(self.day)?,
            bcd::encode_byte(self.month)?,
        ])
    }
}

/// The baud-rate byte `Z` of 17H: one bit set (bit 1 = 600 ... bit 6 = 19 200 bit/s; from
/// secondary sources).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub struct BaudRate(pub u8);

impl BaudRate {
    /// 600 bit/s.
    pub const B600: BaudRate = BaudRate(0x02);
    /// 1 200 bit/s.
    pub const B1200: BaudRate = BaudRate(0x04);
    /// 2 400 bit/s, the DL/T 645-2007 default.
    pub const B2400: BaudRate = BaudRate(0x08);
    /// 4 800 bit/s.
    pub const B4800: BaudRate = BaudRate(0x10);
    /// 9 600 bit/s.
    pub const B9600: BaudRate = BaudRate(0x20);
    /// 19 200 bit/s.
    pub const B19200: BaudRate = BaudRate(0x40);

    /// The rate in bit/s, or `None` unless exactly one of bits 1..=6 is set.
    pub const fn bps(self) -> Option<u32> {
        match self.0 {
            0x02 => Some(600),
            0x04 => Some(1_200),
            0x08 => Some(2_400),
            0x10 => Some(4_800),
            0x20 => Some(9_600),
            0x40 => Some(19_200),
            _ => None,
        }
    }
}

/// What follows the operator code in a relay-control request.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub enum RelayOrder<'a> {
    /// The plaintext form: `N1 N2 ssmmhhDDMMYY`.
    Plain {
        /// `N1`.
        command: RelayCode,
        /// `N2` (usually 00; some meters read it as a delay in units of 5 minutes).
        n2: u8,
        /// `N3..N8`: the command is valid until this local time (BCD). The meter refuses it
        /// once the time has passed.
        valid_until: DateTime,
    },
    /// Password level 98H: ciphertext and MAC, opened by a security module.
    Sealed(Data<'a>),
}

macro_rules! bit_word {
    ($(#[$doc:meta])* $name:ident($ty:ty) { $( $(#[$bdoc:meta])* $bit:ident = $val:literal => $text:literal, )* }) => {
        $(#[$doc])*
        #[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
        #[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
        #[cfg_attr(feature = "defmt", derive(defmt::Format))]
        pub struct $name(pub $ty);

        impl $name {
            $( $(#[$bdoc])* pub const $bit: $name = $name($val); )*

            /// `true` if every bit of `other` is set.
            pub const fn contains(self, other: $name) -> bool {
                self.0 & other.0 == other.0
            }

            /// Both sets of bits.
            pub const fn union(self, other: $name) -> $name {
                $name(self.0 | other.0)
            }
        }

        /// The names of the set bits, separated by `|`, or `none`.
        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                let mut first = true;
                $(
                    if self.0 & $val != 0 {
                        if !first { f.write_str("|")?; }
                        f.write_str($text)?;
                        first = false;
                    }
                )*
                let known: $ty = 0 $( | $val )*;
                if self.0 & !known != 0 {
                    if !first { f.write_str("|")?; }
                    write!(f, "0x{:X}", self.0 & !known)?;
                    first = false;
                }
                if first { f.write_str("none")?; }
                Ok(())
            }
        }
    };
}

bit_word! {
    /// The `ERR` byte of an error answer.
    ErrorCode(u8) {
        /// Bit 0: other error.
        OTHER = 0x01 => "other",
        /// Bit 1: no requested data (unknown identifier).
        NO_DATA = 0x02 => "no requested data",
        /// Bit 2: wrong password or unauthorised.
        UNAUTHORIZED = 0x04 => "unauthorised",
        /// Bit 3: the baud rate cannot be changed.
        BAUD_RATE = 0x08 => "baud rate cannot be changed",
        /// Bit 4: too many yearly time zones.
        TOO_MANY_ZONES = 0x10 => "too many time zones",
        /// Bit 5: too many daily periods.
        TOO_MANY_PERIODS = 0x20 => "too many daily periods",
        /// Bit 6: too many tariffs.
        TOO_MANY_TARIFFS = 0x40 => "too many tariffs",
    }
}

bit_word! {
    /// The 2-byte `SERR` word of a security (03H) error answer, low byte first on the wire.
    SecurityErrorWord(u16) {
        /// Other error.
        OTHER = 0x0001 => "other",
        /// Repeated recharge.
        REPEATED_RECHARGE = 0x0002 => "repeated recharge",
        /// Security module (ESAM) verification failed.
        VERIFICATION_FAILED = 0x0004 => "verification failed",
        /// Identity authentication failed.
        AUTH_FAILED = 0x0008 => "identity authentication failed",
        /// Customer number mismatch.
        CUSTOMER_MISMATCH = 0x0010 => "customer number mismatch",
        /// Purchase-count error.
        PURCHASE_COUNT = 0x0020 => "purchase count error",
        /// Recharge over the hoarding limit.
        HOARDING_LIMIT = 0x0040 => "over hoarding limit",
        /// Address error.
        ADDRESS = 0x0080 => "address error",
        /// Meter suspended.
        SUSPENDED = 0x0100 => "meter suspended",
    }
}

bit_word! {
    /// The 2-byte execution status word of a relay-control (1CH) error answer, low byte first.
    RelayStatusWord(u16) {
        /// Meter suspended.
        SUSPENDED = 0x0001 => "meter suspended",
        /// MAC error.
        MAC = 0x0002 => "MAC error",
        /// Wrong password or unauthorised.
        UNAUTHORIZED = 0x0004 => "unauthorised",
        /// Identity authentication expired.
        AUTH_EXPIRED = 0x0008 => "identity authentication expired",
        /// The valid-until time has passed or is invalid.
        TIME_INVALID = 0x0010 => "execution time invalid",
        /// Trip refused: keep-power is on.
        TRIP_KEEP_POWER = 0x0020 => "trip failed (keep-power)",
        /// Automatic restore refused: keep-power is on.
        RESTORE_KEEP_POWER = 0x0040 => "auto-restore failed (keep-power)",
        /// Automatic restore time invalid.
        RESTORE_TIME = 0x0080 => "auto-restore time invalid",
        /// Automatic restore refused: tripped.
        RESTORE_TRIPPED = 0x0100 => "auto-restore failed (tripped)",
    }
}
