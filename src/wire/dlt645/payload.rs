//! Typed payloads of every function code.

use core::fmt;

use super::frame::{Control, Data, DataWriter, Direction, FrameRepr, Function, emit_frame};
use super::{Di, Di97, Error, Result};
use crate::address::Address;
use crate::bcd::{self, DateTimeFormat};
use crate::relay::RelayCode;
use crate::time::DateTime;

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
    fn from_wire(b: [u8; 4]) -> Result<FreezeTime> {
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
    fn to_wire(self) -> Result<[u8; 4]> {
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

/// A master's command, by function code.
///
/// Parse it from a [`FrameRepr`] with [`Request::parse`]; emit it with [`Request::emit`]. Data
/// that this codec keeps opaque (written values, sealed payloads) stay [`Data`] views of the
/// frame.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
#[non_exhaustive]
pub enum Request<'a> {
    /// 11H: read data. A `DI1` or `DI0` of FFH asks for a block.
    Read {
        /// The identifier.
        di: Di,
        /// Single, with a count, or load records from a time.
        form: ReadForm,
    },
    /// 12H: the follow-up frame `seq` (1, 2, ...) of a long answer.
    ReadFollowUp {
        /// The identifier of the first request.
        di: Di,
        /// The frame sequence number.
        seq: u8,
    },
    /// 13H: read the communication address (sent to the wildcard address).
    ReadAddress,
    /// 14H: write data.
    Write {
        /// The identifier.
        di: Di,
        /// The password and its level.
        password: Password,
        /// Operator code.
        operator: OperatorCode,
        /// The value in the identifier's format (or sealed data for levels 98H/99H).
        value: Data<'a>,
    },
    /// 15H: write the communication address.
    WriteAddress {
        /// The new address.
        address: Address,
    },
    /// 08H: broadcast time.
    BroadcastTime {
        /// The local time to set.
        time: DateTime,
    },
    /// 16H: freeze.
    Freeze {
        /// When (or [`FreezeTime::NOW`]).
        time: FreezeTime,
    },
    /// 17H: change the baud rate.
    ChangeBaud {
        /// The new rate.
        rate: BaudRate,
    },
    /// 18H: change the password of the level the identifier (04000C01..0A) names.
    ChangePassword {
        /// 04000C01 (level 0) .. 04000C0A (level 9).
        di: Di,
        /// A password authorised to change it.
        old: Password,
        /// The new password (its level must be the one `di` names).
        new: Password,
    },
    /// 19H: clear maximum demand.
    ClearMaxDemand {
        /// The password.
        password: Password,
        /// Operator code.
        operator: OperatorCode,
    },
    /// 1AH: meter clear.
    MeterClear {
        /// The password.
        password: Password,
        /// Operator code.
        operator: OperatorCode,
        /// Ciphertext and MAC at level 98H; empty otherwise.
        sealed: Data<'a>,
    },
    /// 1BH: clear events of one kind (FFFFFFFF: all).
    EventClear {
        /// The password.
        password: Password,
        /// Operator code.
        operator: OperatorCode,
        /// The event identifier.
        di: Di,
    },
    /// 1CH: relay control, alarm, keep-power.
    RelayControl {
        /// The password (level 98H: sealed).
        password: Password,
        /// Operator code.
        operator: OperatorCode,
        /// The order.
        order: RelayOrder<'a>,
    },
    /// 03H: security command: the identifier, operator code and opaque sealed payload.
    Security {
        /// 070000FF identity authentication, 070101FF open account, 070102FF recharge, ...
        di: Di,
        /// Operator code.
        operator: OperatorCode,
        /// The sealed payload, for the security layer.
        payload: Data<'a>,
    },
    /// 01H (DL/T 645-1997): read data.
    Read1997 {
        /// The 2-byte identifier.
        di: Di97,
    },
    /// Any other function code, data kept opaque.
    Other {
        /// The function code.
        function: Function,
        /// The data.
        data: Data<'a>,
    },
}

#[inline]
fn take<const N: usize>(data: Data<'_>) -> Result<([u8; N], Data<'_>)> {
    let (head, rest) = data.split_at(N).ok_or(Error::Length)?;
    let arr = head.array::<N>().ok_or(Error::Length)?;
    Ok((arr, rest))
}

#[inline]
fn exact<const N: usize>(data: Data<'_>) -> Result<[u8; N]> {
    if data.len() != N {
        return Err(Error::Length);
    }
    data.array::<N>().ok_or(Error::Length)
}

#[inline]
fn take_di(data: Data<'_>) -> Result<(Di, Data<'_>)> {
    let (b, rest) = take::<4>(data)?;
    Ok((Di::from_wire(b), rest))
}

#[inline]
fn take_auth(data: Data<'_>) -> Result<(Password, OperatorCode, Data<'_>)> {
    let (p, rest) = take::<4>(data)?;
    let (c, rest) = take::<4>(rest)?;
    Ok((Password::from_wire(p), OperatorCode(c), rest))
}

fn date_time(b: &[u8], fmt: DateTimeFormat) -> Result<DateTime> {
    Ok(fmt.decode(b, 2000)?)
}

impl<'a> Request<'a> {
    /// The typed request in a frame. Fails with [`Error::Direction`] for a response, and with
    /// [`Error::Length`] or [`Error::Value`] when the data does not fit the function code.
    /// Unknown function codes give [`Request::Other`].
    #[inline]
    pub fn parse(repr: &FrameRepr<'a>) -> Result<Request<'a>> {
        if repr.control.direction != Direction::Request {
            return Err(Error::Direction);
        }
        let data = repr.data;
        Ok(match repr.control.function {
            Function::Read => {
                let (di, rest) = take_di(data)?;
                let form = match rest.len() {
                    0 => ReadForm::Single,
                    1 => ReadForm::Count(rest.get(0).ok_or(Error::Length)?),
                    6 => {
                        let (n, t) = take::<1>(rest)?;
                        let t = exact::<5>(t)?;
                        ReadForm::LoadRecord {
                            count: n[0],
                            from: date_time(&t, DateTimeFormat::YYMMDDhhmm)?,
                        }
                    }
                    _ => return Err(Error::Length),
                };
                Request::Read { di, form }
            }
            Function::ReadFollowUp => {
                let [d0, d1, d2, d3, seq] = exact::<5>(data)?;
                Request::ReadFollowUp {
                    di: Di::from_wire([d0, d1, d2, d3]),
                    seq,
                }
            }
            Function::ReadAddress => {
                exact::<0>(data)?;
                Request::ReadAddress
            }
            Function::Write => {
                let (di, rest) = take_di(data)?;
                let (password, operator, value) = take_auth(rest)?;
                Request::Write {
                    di,
                    password,
                    operator,
                    value,
                }
            }
            Function::WriteAddress => Request::WriteAddress {
                address: Address::from_wire(exact::<6>(data)?).map_err(|_| Error::Value)?,
            },
            Function::BroadcastTime => Request::BroadcastTime {
                time: date_time(&exact::<6>(data)?, DateTimeFormat::YYMMDDhhmmss)?,
            },
            Function::Freeze => Request::Freeze {
                time: FreezeTime::from_wire(exact::<4>(data)?)?,
            },
            Function::ChangeBaud => Request::ChangeBaud {
                rate: BaudRate(exact::<1>(data)?[0]),
            },
            Function::ChangePassword => {
                let (di, rest) = take_di(data)?;
                let (old, new) = take::<4>(rest)?;
                Request::ChangePassword {
                    di,
                    old: Password::from_wire(old),
                    new: Password::from_wire(exact::<4>(new)?),
                }
            }
            Function::ClearMaxDemand => {
                let (password, operator, rest) = take_auth(data)?;
                exact::<0>(rest)?;
                Request::ClearMaxDemand { password, operator }
            }
            Function::MeterClear => {
                let (password, operator, sealed) = take_auth(data)?;
                if !sealed.is_empty() && password.level != Password::LEVEL_SEALED {
                    return Err(Error::Length);
                }
                Request::MeterClear {
                    password,
                    operator,
                    sealed,
                }
            }
            Function::EventClear => {
                let (password, operator, rest) = take_auth(data)?;
                Request::EventClear {
                    password,
                    operator,
                    di: Di::from_wire(exact::<4>(rest)?),
                }
            }
            Function::RelayControl => {
                let (password, operator, rest) = take_auth(data)?;
                let order = if password.level == Password::LEVEL_SEALED {
                    RelayOrder::Sealed(rest)
                } else {
                    let [n1, n2, t @ ..] = exact::<8>(rest)?;
                    RelayOrder::Plain {
                        command: RelayCode::from_code(n1),
                        n2,
                        valid_until: date_time(&t, DateTimeFormat::YYMMDDhhmmss)?,
                    }
                };
                Request::RelayControl {
                    password,
                    operator,
                    order,
                }
            }
            Function::Security => {
                let (di, rest) = take_di(data)?;
                let (c, payload) = take::<4>(rest)?;
                Request::Security {
                    di,
                    operator: OperatorCode(c),
                    payload,
                }
            }
            Function::Read1997 => Request::Read1997 {
                di: Di97::from_wire(exact::<2>(data)?),
            },
            function => Request::Other { function, data },
        })
    }

    /// The function code.
    #[inline]
    pub const fn function(&self) -> Function {
        match self {
            Request::Read { .. } => Function::Read,
            Request::ReadFollowUp { .. } => Function::ReadFollowUp,
            Request::ReadAddress => Function::ReadAddress,
            Request::Write { .. } => Function::Write,
            Request::WriteAddress { .. } => Function::WriteAddress,
            Request::BroadcastTime { .. } => Function::BroadcastTime,
            Request::Freeze { .. } => Function::Freeze,
            Request::ChangeBaud { .. } => Function::ChangeBaud,
            Request::ChangePassword { .. } => Function::ChangePassword,
            Request::ClearMaxDemand { .. } => Function::ClearMaxDemand,
            Request::MeterClear { .. } => Function::MeterClear,
            Request::EventClear { .. } => Function::EventClear,
            Request::RelayControl { .. } => Function::RelayControl,
            Request::Security { .. } => Function::Security,
            Request::Read1997 { .. } => Function::Read1997,
            Request::Other { function, .. } => *function,
        }
    }

    /// The number of data bytes the request emits.
    pub fn data_len(&self) -> usize {
        match self {
            Request::Read { form, .. } => match form {
                ReadForm::Single => 4,
                ReadForm::Count(_) => 5,
                ReadForm::LoadRecord { .. } => 10,
            },
            Request::ReadFollowUp { .. } => 5,
            Request::ReadAddress => 0,
            Request::Write { value, .. } => 12 + value.len(),
            Request::WriteAddress { .. } | Request::BroadcastTime { .. } => 6,
            Request::Freeze { .. } => 4,
            Request::ChangeBaud { .. } => 1,
            Request::ChangePassword { .. } | Request::EventClear { .. } => 12,
            Request::ClearMaxDemand { .. } => 8,
            Request::MeterClear { sealed, .. } => 8 + sealed.len(),
            Request::RelayControl { order, .. } => match order {
                RelayOrder::Plain { .. } => 16,
                RelayOrder::Sealed(d) => 8 + d.len(),
            },
            Request::Security { payload, .. } => 8 + payload.len(),
            Request::Read1997 { .. } => 2,
            Request::Other { data, .. } => data.len(),
        }
    }

    /// The length of the emitted frame, preamble included (saturating: no buffer is that long).
    pub fn buffer_len(&self, preamble: usize) -> usize {
        preamble.saturating_add(super::MIN_FRAME_LEN + self.data_len())
    }

    /// Writes the request's data (plain bytes).
    #[inline]
    pub fn write_data(&self, w: &mut DataWriter<'_>) -> Result<()> {
        match *self {
            Request::Read { di, form } => {
                w.put(&di.to_wire())?;
                match form {
                    ReadForm::Single => Ok(()),
                    ReadForm::Count(n) => w.put_u8(n),
                    ReadForm::LoadRecord { count, from } => {
                        w.put_u8(count)?;
                        DateTimeFormat::YYMMDDhhmm.encode(from, w.slot(5)?)?;
                        Ok(())
                    }
                }
            }
            Request::ReadFollowUp { di, seq } => {
                w.put(&di.to_wire())?;
                w.put_u8(seq)
            }
            Request::ReadAddress => Ok(()),
            Request::Write {
                di,
                password,
                operator,
                value,
            } => {
                w.put(&di.to_wire())?;
                w.put(&password.to_wire())?;
                w.put(&operator.0)?;
                w.put_data(value)
            }
            Request::WriteAddress { address } => w.put(&address.to_wire()),
            Request::BroadcastTime { time } => {
                DateTimeFormat::YYMMDDhhmmss.encode(time, w.slot(6)?)?;
                Ok(())
            }
            Request::Freeze { time } => w.put(&time.to_wire()?),
            Request::ChangeBaud { rate } => w.put_u8(rate.0),
            Request::ChangePassword { di, old, new } => {
                w.put(&di.to_wire())?;
                w.put(&old.to_wire())?;
                w.put(&new.to_wire())
            }
            Request::ClearMaxDemand { password, operator } => {
                w.put(&password.to_wire())?;
                w.put(&operator.0)
            }
            Request::MeterClear {
                password,
                operator,
                sealed,
            } => {
                w.put(&password.to_wire())?;
                w.put(&operator.0)?;
                w.put_data(sealed)
            }
            Request::EventClear {
                password,
                operator,
                di,
            } => {
                w.put(&password.to_wire())?;
                w.put(&operator.0)?;
                w.put(&di.to_wire())
            }
            Request::RelayControl {
                password,
                operator,
                order,
            } => {
                w.put(&password.to_wire())?;
                w.put(&operator.0)?;
                match order {
                    RelayOrder::Plain {
                        command,
                        n2,
                        valid_until,
                    } => {
                        w.put(&[command.code(), n2])?;
                        DateTimeFormat::YYMMDDhhmmss.encode(valid_until, w.slot(6)?)?;
                        Ok(())
                    }
                    RelayOrder::Sealed(d) => w.put_data(d),
                }
            }
            Request::Security {
                di,
                operator,
                payload,
            } => {
                w.put(&di.to_wire())?;
                w.put(&operator.0)?;
                w.put_data(payload)
            }
            Request::Read1997 { di } => w.put(&di.to_wire()),
            Request::Other { data, .. } => w.put_data(data),
        }
    }

    /// Emits the request to `address` after `preamble` bytes `FE`; returns the bytes written.
    #[inline]
    pub fn emit(&self, address: Address, buf: &mut [u8], preamble: usize) -> Result<usize> {
        emit_frame(
            buf,
            preamble,
            address,
            Control::request(self.function()),
            |w| self.write_data(w),
        )
    }
}

/// A meter's answer, by function code.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
#[non_exhaustive]
pub enum Response<'a> {
    /// 91H/B1H: read answer.
    Read {
        /// The identifier.
        di: Di,
        /// The value bytes (after the identifier).
        data: Data<'a>,
        /// B1H: follow-up frames follow.
        more: bool,
    },
    /// 92H/B2H: follow-up answer.
    ReadFollowUp {
        /// The identifier.
        di: Di,
        /// The value bytes (between the identifier and the sequence number).
        data: Data<'a>,
        /// The frame sequence number.
        seq: u8,
        /// B2H: more frames follow.
        more: bool,
    },
    /// 93H: the meter's address.
    ReadAddress {
        /// The address in the data.
        address: Address,
    },
    /// A normal answer without data: 94H write, 95H write address, 96H freeze, 99H clear
    /// demand, 9AH meter clear, 9BH event clear, 9CH relay control.
    Ack {
        /// The function acknowledged.
        function: Function,
    },
    /// 97H: the new baud rate (it applies after this answer).
    ChangeBaud {
        /// The rate.
        rate: BaudRate,
    },
    /// 98H: the new password.
    ChangePassword {
        /// The new password and level.
        new: Password,
    },
    /// 83H: security answer.
    Security {
        /// The identifier.
        di: Di,
        /// The (sealed) answer bytes.
        data: Data<'a>,
    },
    /// An error answer (D6 set) with an `ERR` byte.
    Error {
        /// The function refused.
        function: Function,
        /// The error bits.
        code: ErrorCode,
    },
    /// C3H with the 2-byte `SERR` word.
    SecurityError {
        /// The error bits.
        word: SecurityErrorWord,
    },
    /// DCH with the 2-byte execution status word.
    RelayError {
        /// The error bits.
        word: RelayStatusWord,
    },
    /// 81H/A1H (DL/T 645-1997): read answer.
    Read1997 {
        /// The 2-byte identifier.
        di: Di97,
        /// The value bytes.
        data: Data<'a>,
        /// A1H: follow-up frames follow.
        more: bool,
    },
    /// Any other answer, data kept opaque.
    Other {
        /// The control byte.
        control: Control,
        /// The data.
        data: Data<'a>,
    },
}

impl<'a> Response<'a> {
    /// The typed answer in a frame. Fails with [`Error::Direction`] for a request, and with
    /// [`Error::Length`] when the data does not fit the function code.
    #[inline]
    pub fn parse(repr: &FrameRepr<'a>) -> Result<Response<'a>> {
        let c = repr.control;
        if c.direction != Direction::Response {
            return Err(Error::Direction);
        }
        let data = repr.data;
        if c.error {
            return Ok(match (c.function, data.len()) {
                (Function::Security, 2) => Response::SecurityError {
                    word: SecurityErrorWord(u16::from_le_bytes(exact::<2>(data)?)),
                },
                (Function::RelayControl, 2) => Response::RelayError {
                    word: RelayStatusWord(u16::from_le_bytes(exact::<2>(data)?)),
                },
                (function, 1) => Response::Error {
                    function,
                    code: ErrorCode(exact::<1>(data)?[0]),
                },
                _ => return Err(Error::Length),
            });
        }
        Ok(match c.function {
            Function::Read => {
                let (di, data) = take_di(data)?;
                Response::Read {
                    di,
                    data,
                    more: c.follow_up,
                }
            }
            Function::ReadFollowUp => {
                let (di, rest) = take_di(data)?;
                let n = rest.len().checked_sub(1).ok_or(Error::Length)?;
                let (data, seq) = rest.split_at(n).ok_or(Error::Length)?;
                Response::ReadFollowUp {
                    di,
                    data,
                    seq: seq.get(0).ok_or(Error::Length)?,
                    more: c.follow_up,
                }
            }
            Function::ReadAddress => Response::ReadAddress {
                address: Address::from_wire(exact::<6>(data)?).map_err(|_| Error::Value)?,
            },
            function @ (Function::Write
            | Function::WriteAddress
            | Function::Freeze
            | Function::ClearMaxDemand
            | Function::MeterClear
            | Function::EventClear
            | Function::RelayControl) => {
                exact::<0>(data)?;
                Response::Ack { function }
            }
            Function::ChangeBaud => Response::ChangeBaud {
                rate: BaudRate(exact::<1>(data)?[0]),
            },
            Function::ChangePassword => Response::ChangePassword {
                new: Password::from_wire(exact::<4>(data)?),
            },
            Function::Security => {
                let (di, data) = take_di(data)?;
                Response::Security { di, data }
            }
            Function::Read1997 => {
                let (di, data) = take::<2>(data)?;
                Response::Read1997 {
                    di: Di97::from_wire(di),
                    data,
                    more: c.follow_up,
                }
            }
            _ => Response::Other { control: c, data },
        })
    }

    /// The control byte of the answer.
    #[inline]
    pub fn control(&self) -> Control {
        match *self {
            Response::Read { more, .. } => Control::response(Function::Read, more),
            Response::ReadFollowUp { more, .. } => Control::response(Function::ReadFollowUp, more),
            Response::ReadAddress { .. } => Control::response(Function::ReadAddress, false),
            Response::Ack { function } => Control::response(function, false),
            Response::ChangeBaud { .. } => Control::response(Function::ChangeBaud, false),
            Response::ChangePassword { .. } => Control::response(Function::ChangePassword, false),
            Response::Security { .. } => Control::response(Function::Security, false),
            Response::Error { function, .. } => Control::error_response(function),
            Response::SecurityError { .. } => Control::error_response(Function::Security),
            Response::RelayError { .. } => Control::error_response(Function::RelayControl),
            Response::Read1997 { more, .. } => Control::response(Function::Read1997, more),
            Response::Other { control, .. } => control,
        }
    }

    /// The number of data bytes the answer emits.
    pub fn data_len(&self) -> usize {
        match self {
            Response::Read { data, .. } => 4 + data.len(),
            Response::ReadFollowUp { data, .. } => 5 + data.len(),
            Response::ReadAddress { .. } => 6,
            Response::Ack { .. } => 0,
            Response::ChangeBaud { .. } | Response::Error { .. } => 1,
            Response::ChangePassword { .. } => 4,
            Response::Security { data, .. } => 4 + data.len(),
            Response::SecurityError { .. } | Response::RelayError { .. } => 2,
            Response::Read1997 { data, .. } => 2 + data.len(),
            Response::Other { data, .. } => data.len(),
        }
    }

    /// The length of the emitted frame, preamble included (saturating: no buffer is that long).
    pub fn buffer_len(&self, preamble: usize) -> usize {
        preamble.saturating_add(super::MIN_FRAME_LEN + self.data_len())
    }

    /// Writes the answer's data (plain bytes).
    #[inline]
    pub fn write_data(&self, w: &mut DataWriter<'_>) -> Result<()> {
        match *self {
            Response::Read { di, data, .. } => {
                w.put(&di.to_wire())?;
                w.put_data(data)
            }
            Response::ReadFollowUp { di, data, seq, .. } => {
                w.put(&di.to_wire())?;
                w.put_data(data)?;
                w.put_u8(seq)
            }
            Response::ReadAddress { address } => w.put(&address.to_wire()),
            Response::Ack { .. } => Ok(()),
            Response::ChangeBaud { rate } => w.put_u8(rate.0),
            Response::ChangePassword { new } => w.put(&new.to_wire()),
            Response::Security { di, data } => {
                w.put(&di.to_wire())?;
                w.put_data(data)
            }
            Response::Error { code, .. } => w.put_u8(code.0),
            Response::SecurityError { word } => w.put(&word.0.to_le_bytes()),
            Response::RelayError { word } => w.put(&word.0.to_le_bytes()),
            Response::Read1997 { di, data, .. } => {
                w.put(&di.to_wire())?;
                w.put_data(data)
            }
            Response::Other { data, .. } => w.put_data(data),
        }
    }

    /// Emits the answer from `address` after `preamble` bytes `FE`; returns the bytes written.
    #[inline]
    pub fn emit(&self, address: Address, buf: &mut [u8], preamble: usize) -> Result<usize> {
        emit_frame(buf, preamble, address, self.control(), |w| {
            self.write_data(w)
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::wire::dlt645::{Frame, skip_preamble};

    fn repr(bytes: &[u8]) -> FrameRepr<'_> {
        FrameRepr::parse(&Frame::new_checked(skip_preamble(bytes)).unwrap()).unwrap()
    }

    #[test]
    fn relay_control_vector_e24() {
        let bytes = [
            0x68, 0x11, 0x11, 0x11, 0x11, 0x11, 0x11, 0x68, 0x1C, 0x10, 0x33, 0x33, 0x33, 0x33,
            0x33, 0x33, 0x33, 0x33, 0x4D, 0x33, 0x57, 0x74, 0x48, 0x45, 0x38, 0x4B, 0x55, 0x16,
        ];
        let r = repr(&bytes);
        let Request::RelayControl {
            password,
            operator,
            order:
                RelayOrder::Plain {
                    command,
                    n2,
                    valid_until,
                },
        } = Request::parse(&r).unwrap()
        else {
            panic!("not a plain relay control");
        };
        assert_eq!(password, Password::from_wire([0; 4]));
        assert_eq!(operator, OperatorCode([0; 4]));
        assert_eq!((command, n2), (RelayCode::Trip, 0));
        assert_eq!(valid_until.to_string(), "2018-05-12 15:41:24");
        let mut out = [0u8; 40];
        let n = Request::parse(&r)
            .unwrap()
            .emit(r.address, &mut out, 0)
            .unwrap();
        assert_eq!(&out[..n], &bytes[..]);
    }

    #[test]
    fn lengths_are_checked() {
        // A read with 3 data bytes.
        let mut buf = [0u8; 32];
        let n = FrameRepr {
            address: Address::from_number(1).unwrap(),
            control: Control::request(Function::Read),
            data: Data::plain(&[0, 0, 1]),
        }
        .emit(&mut buf, 0)
        .unwrap();
        assert_eq!(Request::parse(&repr(&buf[..n])), Err(Error::Length));
        assert_eq!(Response::parse(&repr(&buf[..n])), Err(Error::Direction));
    }

    #[test]
    fn bit_words_display() {
        assert_eq!(ErrorCode::NO_DATA.to_string(), "no requested data");
        assert_eq!(ErrorCode(0x83).to_string(), "other|no requested data|0x80");
        assert_eq!(ErrorCode(0).to_string(), "none");
        assert!(SecurityErrorWord(0x0102).contains(SecurityErrorWord::SUSPENDED));
        assert_eq!(
            RelayStatusWord::TIME_INVALID.union(RelayStatusWord::MAC).0,
            0x12
        );
    }

    #[test]
    fn freeze_time_rules() {
        assert_eq!(FreezeTime::from_wire([0x99; 4]), Ok(FreezeTime::NOW));
        assert!(FreezeTime::NOW.is_now());
        assert_eq!(FreezeTime::from_wire([0x60, 0, 1, 1]), Err(Error::Value));
        assert_eq!(FreezeTime::from_wire([0x0A, 0, 1, 1]), Err(Error::Value));
        let t = FreezeTime::from_wire([0x00, 0x00, 0x99, 0x99]).unwrap();
        assert_eq!((t.minute, t.hour, t.day), (0, 0, 99));
        assert_eq!(t.to_wire(), Ok([0, 0, 0x99, 0x99]));
        assert_eq!(BaudRate::B9600.bps(), Some(9600));
        assert_eq!(BaudRate(0x06).bps(), None);
    }
}
