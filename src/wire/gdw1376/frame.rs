//! The Q/GDW 1376.1 link frame: length, control, address, AFN, SEQ, data units and the
//! auxiliary fields, with its checksum.

use core::fmt;

use super::{Error, Result, afn};
use crate::bcd;
// The same sum modulo 256 as DL/T 645's, over the user data.
use crate::wire::dlt645::checksum;

const START: u8 = 0x68;
const END: u8 = 0x16;
/// `68 L L L L 68`.
const HEADER_LEN: usize = 6;
/// `C`, `A` (5 bytes), `AFN`, `SEQ`.
const FIXED_LEN: usize = 8;
const PW_LEN: usize = 16;
const EC_LEN: usize = 2;
const TP_LEN: usize = 6;

/// The protocol identifier of Q/GDW 1376.1 in D1..D0 of the length field.
pub const PROTOCOL_1376_1: u8 = 0b10;

/// The longest user data the 14-bit length field can count.
pub const MAX_USER_DATA_LEN: usize = 0x3FFF;

/// The direction bit (D7 of `C`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub enum Direction {
    /// From the master station to the terminal (D7 = 0).
    Downlink,
    /// From the terminal to the master station (D7 = 1).
    Uplink,
}

/// The control field `C`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub struct Control {
    /// D7.
    pub direction: Direction,
    /// D6 PRM: the frame comes from the station that started the exchange.
    pub prm: bool,
    /// D5: FCB (frame count bit) in downlink frames; ACD (events are waiting, and the frame
    /// carries the event counters `EC`) in uplink frames.
    pub d5: bool,
    /// D4: FCV (the FCB is valid) in downlink frames; reserved in uplink frames.
    pub fcv: bool,
    /// D3..D0: the link function (with PRM: 1 reset, 4 user data, 9 link test, 10 and 11
    /// class 1 and class 2 data; without: 0 confirmation, 8 user data, 9 no data, 11 link
    /// status).
    pub function: u8,
}

impl Control {
    /// Decodes a control byte; every byte has a meaning.
    pub const fn from_byte(b: u8) -> Control {
        Control {
            direction: if b & 0x80 != 0 {
                Direction::Uplink
            } else {
                Direction::Downlink
            },
            prm: b & 0x40 != 0,
            d5: b & 0x20 != 0,
            fcv: b & 0x10 != 0,
            function: b & 0x0F,
        }
    }

    /// Encodes the control byte (the function's high bits are dropped).
    pub const fn to_byte(self) -> u8 {
        let mut b = self.function & 0x0F;
        if matches!(self.direction, Direction::Uplink) {
            b |= 0x80;
        }
        if self.prm {
            b |= 0x40;
        }
        if self.d5 {
            b |= 0x20;
        }
        if self.fcv {
            b |= 0x10;
        }
        b
    }

    /// `true` for an uplink frame with ACD set: the frame carries the event counters.
    pub const fn has_event_counters(self) -> bool {
        matches!(self.direction, Direction::Uplink) && self.d5
    }
}

/// The address field `A`: region, terminal, and the master station's address.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub struct Address {
    /// `A1`: the administrative region code, four decimal digits (0..=9999).
    pub region: u16,
    /// `A2`: the terminal address (`FFFF`: every terminal of the region).
    pub terminal: u16,
    /// `A3` D7..D1: the master station address (MSA), 0..=127.
    pub master: u8,
    /// `A3` D0: `terminal` is a group address.
    pub group: bool,
}

impl Address {
    /// The terminal address that reaches every terminal of the region.
    pub const BROADCAST_TERMINAL: u16 = 0xFFFF;

    fn from_wire(bytes: [u8; 5]) -> Result<Address> {
        let [r0, r1, t0, t1, a3] = bytes;
        let region = bcd::decode_u64(&[r0, r1]).map_err(|_| Error::Value)?;
        Ok(Address {
            region: u16::try_from(region).map_err(|_| Error::Value)?,
            terminal: u16::from_le_bytes([t0, t1]),
            master: a3 >> 1,
            group: a3 & 1 != 0,
        })
    }

    fn to_wire(self) -> Result<[u8; 5]> {
        if self.master > 127 {
            return Err(Error::Value);
        }
        let mut region = [0u8; 2];
        bcd::encode_u64(u64::from(self.region), &mut region).map_err(|_| Error::Value)?;
        let [r0, r1] = region;
        let [t0, t1] = self.terminal.to_le_bytes();
        Ok([r0, r1, t0, t1, (self.master << 1) | u8::from(self.group)])
    }
}

/// Shown as the region's four digits and the terminal in hexadecimal: `0200-1234`.
impl fmt::Display for Address {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:04}-{:04X}", self.region, self.terminal)
    }
}

/// The sequence field `SEQ`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub struct Seq {
    /// D7 TpV: a time label `Tp` ends the user data.
    pub tpv: bool,
    /// D6 FIR: the first frame of a message.
    pub first: bool,
    /// D5 FIN: the last frame of a message.
    pub last: bool,
    /// D4 CON: the receiver must confirm.
    pub confirm: bool,
    /// D3..D0: the frame sequence number (PSEQ or RSEQ), 0..=15.
    pub number: u8,
}

impl Seq {
    /// Decodes a sequence byte; every byte has a meaning.
    pub const fn from_byte(b: u8) -> Seq {
        Seq {
            tpv: b & 0x80 != 0,
            first: b & 0x40 != 0,
            last: b & 0x20 != 0,
            confirm: b & 0x10 != 0,
            number: b & 0x0F,
        }
    }

    /// Encodes the sequence byte (the number's high bits are dropped).
    pub const fn to_byte(self) -> u8 {
        (self.tpv as u8) << 7
            | (self.first as u8) << 6
            | (self.last as u8) << 5
            | (self.confirm as u8) << 4
            | (self.number & 0x0F)
    }
}

/// The time label `Tp`: the sender's frame counter, when it sent the frame, and how late it
/// may arrive.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub struct TimeLabel {
    /// PFC: the initiating station's frame counter.
    pub pfc: u8,
    /// The second, minute, hour and day of the month the frame was sent (BCD on the wire).
    pub sent: [u8; 4],
    /// The delay after `sent` beyond which the frame is void, in minutes (0: none).
    pub delay_minutes: u8,
}

impl TimeLabel {
    const LIMITS: [u8; 4] = [59, 59, 23, 31];

    fn from_wire(b: [u8; TP_LEN]) -> Result<TimeLabel> {
        let [pfc, s, m, h, d, delay] = b;
        let mut sent = [0u8; 4];
        for ((out, byte), max) in sent.iter_mut().zip([s, m, h, d]).zip(Self::LIMITS) {
            let v = bcd::decode_byte(byte).map_err(|_| Error::Value)?;
            if v > max {
                return Err(Error::Value);
            }
            *out = v;
        }
        Ok(TimeLabel {
            pfc,
            sent,
            delay_minutes: delay,
        })
    }

    fn to_wire(self) -> Result<[u8; TP_LEN]> {
        let mut out = [self.pfc, 0, 0, 0, 0, self.delay_minutes];
        for ((dst, v), max) in out.iter_mut().skip(1).zip(self.sent).zip(Self::LIMITS) {
            if v > max {
                return Err(Error::Value);
            }
            *dst = bcd::encode_byte(v).map_err(|_| Error::Value)?;
        }
        Ok(out)
    }
}

/// One frame's fields. Parsing checks the framing (start bytes, both length fields, the end
/// byte, the checksum) and the encodings of the address and time label; `units` holds the
/// data units as they are (see [`UnitId`](super::UnitId)).
///
/// Which auxiliary fields a frame carries follows from its other fields: `pw` in downlink
/// frames of the AFNs that require it ([`afn::carries_pw`]), `ec` in uplink frames with ACD
/// set, `tp` when `seq.tpv` is set. [`FrameRepr::emit`] refuses a frame whose auxiliary
/// fields disagree with those rules ([`Error::Value`]), so that every emitted frame parses back
/// to itself.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct FrameRepr<'a> {
    /// The protocol identifier (D1..D0 of `L`): [`PROTOCOL_1376_1`].
    pub protocol: u8,
    /// `C`.
    pub control: Control,
    /// `A`.
    pub address: Address,
    /// `AFN` ([`afn`]).
    pub afn: u8,
    /// `SEQ`.
    pub seq: Seq,
    /// The data units: identifiers and their data.
    pub units: &'a [u8],
    /// `PW`, the message authentication field of a downlink command.
    pub pw: Option<[u8; PW_LEN]>,
    /// `EC`: the important and normal event counters of an uplink frame with ACD set.
    pub ec: Option<[u8; EC_LEN]>,
    /// `Tp`.
    pub tp: Option<TimeLabel>,
}

/// Splits `n` bytes off the end of `bytes`.
fn split_tail<const N: usize>(bytes: &[u8]) -> Result<(&[u8], [u8; N])> {
    let at = bytes.len().checked_sub(N).ok_or(Error::Truncated)?;
    let (head, tail) = bytes.split_at_checked(at).ok_or(Error::Truncated)?;
    let tail: [u8; N] = tail.try_into().map_err(|_| Error::Truncated)?;
    Ok((head, tail))
}

impl<'a> FrameRepr<'a> {
    /// Parses the frame at the start of `bytes` (bytes after its end byte are ignored; see
    /// [`FrameRepr::buffer_len`]).
    ///
    /// Errors: [`Error::Truncated`], [`Error::StartByte`], [`Error::LengthMismatch`],
    /// [`Error::EndByte`], [`Error::Checksum`], [`Error::Value`] (a region code that is not
    /// BCD, a time label out of range).
    pub fn parse(bytes: &'a [u8]) -> Result<FrameRepr<'a>> {
        let [s1, l0, l1, l2, l3, s2, rest @ ..] = bytes else {
            return Err(Error::Truncated);
        };
        if *s1 != START || *s2 != START {
            return Err(Error::StartByte);
        }
        if [l0, l1] != [l2, l3] {
            return Err(Error::LengthMismatch);
        }
        let l = u16::from_le_bytes([*l0, *l1]);
        let protocol = (l & 0b11) as u8;
        let len = usize::from(l >> 2);
        let (user, tail) = rest.split_at_checked(len).ok_or(Error::Truncated)?;
        let [cs, end, ..] = tail else {
            return Err(Error::Truncated);
        };
        if *end != END {
            return Err(Error::EndByte);
        }
        if checksum(user) != *cs && !cfg!(fuzzing) {
            return Err(Error::Checksum);
        }
        let [c, a0, a1, a2, a3, a4, afn, seq, body @ ..] = user else {
            return Err(Error::Truncated);
        };
        let control = Control::from_byte(*c);
        let seq = Seq::from_byte(*seq);
        let address = Address::from_wire([*a0, *a1, *a2, *a3, *a4])?;
        let (body, tp) = if seq.tpv {
            let (body, tp) = split_tail::<TP_LEN>(body)?;
            (body, Some(TimeLabel::from_wire(tp)?))
        } else {
            (body, None)
        };
        let (body, pw) = if control.direction == Direction::Downlink && afn::carries_pw(*afn) {
            let (body, pw) = split_tail::<PW_LEN>(body)?;
            (body, Some(pw))
        } else {
            (body, None)
        };
        let (units, ec) = if control.has_event_counters() {
            let (body, ec) = split_tail::<EC_LEN>(body)?;
            (body, Some(ec))
        } else {
            (body, None)
        };
        Ok(FrameRepr {
            protocol,
            control,
            address,
            afn: *afn,
            seq,
            units,
            pw,
            ec,
            tp,
        })
    }

    /// The length of the user data (`C` through the last auxiliary byte).
    pub fn user_data_len(&self) -> usize {
        FIXED_LEN
            + self.units.len()
            + self.pw.map_or(0, |_| PW_LEN)
            + self.ec.map_or(0, |_| EC_LEN)
            + self.tp.map_or(0, |_| TP_LEN)
    }

    /// The length of the whole frame: `6 + user data + 2`.
    pub fn buffer_len(&self) -> usize {
        HEADER_LEN + self.user_data_len() + 2
    }

    /// Writes the frame to the start of `out`; returns its length.
    ///
    /// Errors: [`Error::Value`] (a region above 9999, a master address above 127, a protocol
    /// identifier above 3, a time label out of range, or auxiliary fields that disagree with
    /// the control, AFN and SEQ fields), [`Error::TooLong`] (user data beyond
    /// [`MAX_USER_DATA_LEN`]), [`Error::BufferTooSmall`].
    pub fn emit(&self, out: &mut [u8]) -> Result<usize> {
        let wants_pw = self.control.direction == Direction::Downlink && afn::carries_pw(self.afn);
        if self.protocol > 0b11
            || self.pw.is_some() != wants_pw
            || self.ec.is_some() != self.control.has_event_counters()
            || self.tp.is_some() != self.seq.tpv
        {
            return Err(Error::Value);
        }
        let len = self.user_data_len();
        if len > MAX_USER_DATA_LEN {
            return Err(Error::TooLong);
        }
        let address = self.address.to_wire()?;
        let tp = self.tp.map(TimeLabel::to_wire).transpose()?;
        let total = self.buffer_len();
        let out = out.get_mut(..total).ok_or(Error::BufferTooSmall)?;
        let l = ((len as u16) << 2 | u16::from(self.protocol)).to_le_bytes();
        let mut w = Cursor { out, pos: 0 };
        w.put(&[START, l[0], l[1], l[0], l[1], START]);
        w.put(&[self.control.to_byte()]);
        w.put(&address);
        w.put(&[self.afn, self.seq.to_byte()]);
        w.put(self.units);
        if let Some(pw) = &self.pw {
            w.put(pw);
        }
        if let Some(ec) = &self.ec {
            w.put(ec);
        }
        if let Some(tp) = &tp {
            w.put(tp);
        }
        let cs = checksum(w.out.get(HEADER_LEN..w.pos).unwrap_or_default());
        w.put(&[cs, END]);
        Ok(total)
    }
}

/// Writes into a buffer already checked to be long enough.
struct Cursor<'b> {
    out: &'b mut [u8],
    pos: usize,
}

impl Cursor<'_> {
    fn put(&mut self, bytes: &[u8]) {
        let end = self.pos + bytes.len();
        if let Some(dst) = self.out.get_mut(self.pos..end) {
            dst.copy_from_slice(bytes);
        }
        self.pos = end;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn hex(s: &str) -> std::vec::Vec<u8> {
        s.split_whitespace()
            .map(|b| u8::from_str_radix(b, 16).unwrap())
            .collect()
    }

    #[test]
    fn control_and_seq_bytes_round_trip() {
        for b in 0..=255u8 {
            assert_eq!(Control::from_byte(b).to_byte(), b);
            assert_eq!(Seq::from_byte(b).to_byte(), b);
        }
        let c = Control::from_byte(0xC9);
        assert_eq!(
            (c.direction, c.prm, c.d5, c.fcv, c.function),
            (Direction::Uplink, true, false, false, 9)
        );
    }

    #[test]
    fn refusals() {
        let login = hex("68 32 00 32 00 68 C9 00 02 34 12 00 02 71 00 00 01 00 85 16");
        assert!(FrameRepr::parse(&login).is_ok());
        let mut bad = login.clone();
        bad[18] ^= 1;
        assert_eq!(FrameRepr::parse(&bad), Err(Error::Checksum));
        let mut bad = login.clone();
        bad[3] = 0x36;
        assert_eq!(FrameRepr::parse(&bad), Err(Error::LengthMismatch));
        let mut bad = login.clone();
        bad[19] = 0x17;
        assert_eq!(FrameRepr::parse(&bad), Err(Error::EndByte));
        let mut bad = login.clone();
        bad[5] = 0x69;
        assert_eq!(FrameRepr::parse(&bad), Err(Error::StartByte));
        for n in 0..login.len() {
            assert_eq!(FrameRepr::parse(&login[..n]), Err(Error::Truncated), "{n}");
        }
        // A region code that is not BCD (fixed checksum).
        let mut bad = login.clone();
        bad[7] = 0x0A;
        bad[18] = bad[18].wrapping_add(0x0A);
        assert_eq!(FrameRepr::parse(&bad), Err(Error::Value));
        // A user data length below the fixed fields.
        let short = hex("68 1E 00 1E 00 68 C9 00 02 34 12 00 02 13 16");
        assert_eq!(FrameRepr::parse(&short), Err(Error::Truncated));
    }

    #[test]
    fn emit_refuses_auxiliary_fields_the_frame_cannot_carry() {
        let login = hex("68 32 00 32 00 68 C9 00 02 34 12 00 02 71 00 00 01 00 85 16");
        let frame = FrameRepr::parse(&login).unwrap();
        let mut out = [0u8; 64];
        for bad in [
            FrameRepr {
                pw: Some([0; 16]),
                ..frame
            },
            FrameRepr {
                ec: Some([0; 2]),
                ..frame
            },
            FrameRepr {
                tp: Some(TimeLabel {
                    pfc: 0,
                    sent: [0; 4],
                    delay_minutes: 0,
                }),
                ..frame
            },
            FrameRepr {
                protocol: 4,
                ..frame
            },
        ] {
            assert_eq!(bad.emit(&mut out), Err(Error::Value));
        }
        assert_eq!(frame.emit(&mut out[..19]), Err(Error::BufferTooSmall));
    }
}
