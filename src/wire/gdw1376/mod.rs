//! Q/GDW 1376.1-2013 (earlier Q/GDW 376.1) frames: the link between a head-end (master
//! station) and its concentrators over GPRS or Ethernet, for the subset a prepaid system uses:
//! the frame itself, its data-unit identifiers, the AFN 10H F1 transparent forwarding that
//! carries a DL/T 645 frame to a meter and its answer back, and the AFN 0CH current readings
//! a head-end asks for ([`Current`]: F129 forward active energy, F167 purchase information).
//!
//! ```text
//! 68 | L L | L L | 68 | C | A1 A1 | A2 A2 | A3 | AFN | SEQ | { DA DA DT DT data }… | [PW 16 | EC 2] | [Tp 6] | CS | 16
//! ```
//!
//! | field | bytes | encoding |
//! |---|---|---|
//! | `L` | 2, sent twice | little endian: D1..D0 the protocol identifier ([`PROTOCOL_1376_1`] = `10b`), D15..D2 the length of the user data (`C` through the byte before `CS`) |
//! | `C` | 1 | [`Control`]: D7 direction (1 = from the terminal), D6 PRM (1 = from the station that started the exchange), D5 FCB (downlink) or ACD (uplink: events waiting), D4 FCV (downlink), D3..D0 the link function |
//! | `A1` | 2 | the administrative region code, BCD, low byte first |
//! | `A2` | 2 | the terminal address, binary, low byte first (`FFFF`: broadcast) |
//! | `A3` | 1 | D0 group address flag, D7..D1 the master station address (MSA) |
//! | `AFN` | 1 | the application function ([`afn`]) |
//! | `SEQ` | 1 | [`Seq`]: D7 TpV (a time label follows), D6 FIR, D5 FIN, D4 CON (confirm), D3..D0 the frame sequence number |
//! | data units | n × (4 + data) | a [`UnitId`] (`DA1 DA2` points, `DT1 DT2` functions), then the unit's data |
//! | `PW` | 16 | in downlink frames of AFN 01H, 04H, 05H, 06H, 0FH and 10H: the message authentication field |
//! | `EC` | 2 | in uplink frames with ACD set: the event counters (important, normal) |
//! | `Tp` | 6 | when TpV is set: PFC, the send time (`ss mm hh DD`, BCD) and the allowed delay in minutes |
//! | `CS` | 1 | the sum modulo 256 of the user data |
//!
//! [`FrameRepr`] splits the user data into its fixed header, the data units and the auxiliary
//! fields by these rules; the data units' own layout depends on AFN and Fn and is read with
//! [`UnitId`] and, for AFN 10H F1, [`ForwardRequest`] and [`ForwardAnswer`].
//!
//! Sources: the reference notes of this project (layout, L, C and A fields, checksum, the AFN
//! table), checked against public implementations: the login (AFN 02H F1), heartbeat (F3) and
//! confirmation (AFN 00H F1) frames quoted in several independent 376.1 codecs (Java,
//! JavaScript, Erlang and C++ sources found by exact-string search), whose checksums and
//! fields decode as documented here; the AFN 10H F1 data unit (port, control word, the two
//! timeouts, the length and the content) as four independent public codecs lay it out. The
//! standard's text was not available.
//!
//! ```
//! use prepaid_meter::wire::gdw1376::{afn, FrameRepr, UnitId};
//! // A terminal logs in (AFN 02H F1): region 0200, terminal 1234H.
//! let login = [
//!     0x68, 0x32, 0x00, 0x32, 0x00, 0x68, 0xC9, 0x00, 0x02, 0x34, 0x12, 0x00, 0x02, 0x71,
//!     0x00, 0x00, 0x01, 0x00, 0x85, 0x16,
//! ];
//! let frame = FrameRepr::parse(&login).unwrap();
//! assert_eq!(frame.address.terminal, 0x1234);
//! assert_eq!(frame.afn, afn::LINK_CHECK);
//! let (unit, _data) = UnitId::parse(frame.units).unwrap();
//! assert_eq!((unit.single_point(), unit.single_fn()), (Some(0), Some(1)));
//! // And back.
//! let mut out = [0u8; 32];
//! let n = frame.emit(&mut out).unwrap();
//! assert_eq!(&out[..n], &login[..]);
//! ```
//!
//! # Panic contract
//!
//! See [the `wire` module](crate::wire): nothing here panics, whatever the input; under
//! `cfg(fuzzing)` the checksum is not checked.
#![deny(clippy::indexing_slicing)]

mod current;
mod forward;
mod frame;
mod unit;

use core::fmt;

pub use current::{Current, F129, F167, ForwardEnergy, MAX_TARIFFS, PurchaseInfo, emit_request};
pub use forward::{ForwardAnswer, ForwardRequest, Parity, SerialControl, Timeout};
pub use frame::{
    Address, Control, Direction, FrameRepr, MAX_USER_DATA_LEN, PROTOCOL_1376_1, Seq, TimeLabel,
};
pub use unit::UnitId;

/// Application function codes (`AFN`) of the subset this module knows by name; any byte is
/// carried.
pub mod afn {
    /// 00H: confirmation or denial.
    pub const CONFIRM: u8 = 0x00;
    /// 01H: reset.
    pub const RESET: u8 = 0x01;
    /// 02H: link check (F1 login, F2 logout, F3 heartbeat).
    pub const LINK_CHECK: u8 = 0x02;
    /// 04H: set parameters.
    pub const SET_PARAMETERS: u8 = 0x04;
    /// 05H: control.
    pub const CONTROL: u8 = 0x05;
    /// 06H: authentication.
    pub const AUTHENTICATION: u8 = 0x06;
    /// 0CH: class-1 (current) data.
    pub const CLASS_1_DATA: u8 = 0x0C;
    /// 0DH: class-2 (historical, frozen) data.
    pub const CLASS_2_DATA: u8 = 0x0D;
    /// 0EH: class-3 data (events).
    pub const CLASS_3_DATA: u8 = 0x0E;
    /// 0FH: file transfer.
    pub const FILE_TRANSFER: u8 = 0x0F;
    /// 10H: data forwarding (F1: transparent forwarding of a meter frame).
    pub const FORWARD: u8 = 0x10;

    /// `true` for the functions whose downlink frames carry the 16-byte `PW` field.
    pub const fn carries_pw(afn: u8) -> bool {
        matches!(
            afn,
            RESET | SET_PARAMETERS | CONTROL | AUTHENTICATION | FILE_TRANSFER | FORWARD
        )
    }
}

/// Why a Q/GDW 1376.1 frame or data unit was refused, or could not be emitted.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
#[non_exhaustive]
pub enum Error {
    /// Fewer bytes than the fixed fields, or than the length field says.
    Truncated,
    /// No `68H` at either start position.
    StartByte,
    /// No `16H` after the checksum.
    EndByte,
    /// The two length fields differ.
    LengthMismatch,
    /// The checksum byte is not the sum of the user data.
    Checksum,
    /// A field holds a value its encoding does not allow (a region code that is not BCD, a
    /// time label that is not BCD, a point or function number out of range).
    Value,
    /// A frame whose user data would not fit the length field, or a forwarded frame longer
    /// than its 2-byte length can say.
    TooLong,
    /// The output buffer is too short.
    BufferTooSmall,
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Error::Truncated => "frame shorter than its fixed fields or length field says",
            Error::StartByte => "missing 68H start byte",
            Error::EndByte => "missing 16H end byte",
            Error::LengthMismatch => "the two length fields differ",
            Error::Checksum => "checksum mismatch",
            Error::Value => "field value not allowed by its encoding",
            Error::TooLong => "user data too long for the length field",
            Error::BufferTooSmall => "output buffer too small",
        })
    }
}

impl core::error::Error for Error {}

/// The result of this module's operations.
pub type Result<T> = core::result::Result<T, Error>;
