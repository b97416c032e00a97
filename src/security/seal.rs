//! The sealed-frame wire format, version 1: a header, the AES-CTR ciphertext of a typed
//! payload, and a truncated AES-CMAC tag. No state and no decisions: the engines decide what
//! to accept. See the [module docs](super).

#![deny(clippy::indexing_slicing)]

use core::fmt;

use super::command::{CommandType, PayloadError};
use super::error::SealError;
use super::module::{KeySet, ModuleError, SecurityModule};
use crate::address::Address;
use crate::time::Timestamp;

/// The format version this module reads and writes.
pub const FORMAT_VERSION: u8 = 1;
/// Header length in bytes.
pub const HEADER_LEN: usize = 26;
/// The largest payload a frame can carry.
pub const MAX_PAYLOAD_LEN: usize = u16::MAX as usize;

const DIRECTION_BIT: u8 = 0x80;
const MODE_MASK: u8 = 0x03;

/// Why bytes are not a well-formed sealed frame (checked before any cryptography).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
#[non_exhaustive]
pub enum FrameError {
    /// Shorter than a header.
    Truncated,
    /// Unknown format version.
    Version,
    /// Reserved flag bits set, or an unknown mode.
    Flags,
    /// The address is not 12 BCD digits.
    Address,
    /// Unknown command type.
    CommandType,
    /// Tag length outside 8..=16.
    TagLength,
    /// The frame is not exactly header + payload length + tag length bytes long.
    Length,
    /// A nonzero session id in counter mode.
    SessionId,
    /// An authentication message of another type than expected.
    MessageType,
}

impl fmt::Display for FrameError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            FrameError::Truncated => "sealed frame shorter than its header",
            FrameError::Version => "unknown sealed-frame format version",
            FrameError::Flags => "reserved flag bits set or unknown mode",
            FrameError::Address => "meter address is not 12 BCD digits",
            FrameError::CommandType => "unknown command type",
            FrameError::TagLength => "tag length outside 8..=16 bytes",
            FrameError::Length => "frame length does not match its header",
            FrameError::SessionId => "nonzero session id in counter mode",
            FrameError::MessageType => "unexpected authentication message type",
        })
    }
}

impl core::error::Error for FrameError {}

/// Who sent a frame.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub enum FrameRole {
    /// Head-end to meter.
    Command,
    /// Meter to head-end.
    Response,
}

/// How a frame is protected against replay.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub enum Mode {
    /// Store-and-forward: meter keys and the per-meter monotonic command counter.
    Counter,
    /// Interactive: session keys and a sequence number within the session.
    Session,
}

/// A tag length, validated to 8..=16 bytes.
///
/// The default, 8 bytes (64 bits), is what SP 800-38B allows with a bound on verification
/// failures; the meter's lock-out ([`super::SecurityConfig`]) gives that bound (15 guesses a day
/// by default: about 10^-14 chance of a forgery in 20 years).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
#[cfg_attr(feature = "serde", serde(try_from = "u8", into = "u8"))]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub struct TagLength(u8);

impl TagLength {
    /// 8 bytes.
    pub const DEFAULT: TagLength = TagLength(8);
    /// 16 bytes, the full CMAC.
    pub const FULL: TagLength = TagLength(16);

    /// A tag length of `bytes`, which must lie in 8..=16.
    pub const fn new(bytes: u8) -> Result<TagLength, FrameError> {
        if bytes >= 8 && bytes <= 16 {
            Ok(TagLength(bytes))
        } else {
            Err(FrameError::TagLength)
        }
    }

    /// The length in bytes.
    pub const fn get(self) -> u8 {
        self.0
    }

    /// The length in bytes as `usize`.
    pub const fn as_usize(self) -> usize {
        self.0 as usize
    }
}

impl Default for TagLength {
    fn default() -> Self {
        TagLength::DEFAULT
    }
}

impl TryFrom<u8> for TagLength {
    type Error = FrameError;
    fn try_from(v: u8) -> Result<Self, FrameError> {
        TagLength::new(v)
    }
}

impl From<TagLength> for u8 {
    fn from(t: TagLength) -> u8 {
        t.0
    }
}

/// The parsed header of a sealed frame.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub struct Header {
    /// Command or response.
    pub direction: FrameRole,
    /// Counter or session mode.
    pub mode: Mode,
    /// The meter.
    pub address: Address,
    /// Version of the meter keys.
    pub key_version: u16,
    /// The command (or, in a response, the command answered).
    pub command: CommandType,
    /// Length of the tag at the end.
    pub tag_len: TagLength,
    /// Session id; 0 in counter mode.
    pub session_id: u32,
    /// Command counter or session sequence number.
    pub counter: u32,
    /// Unix seconds after which the meter refuses the command.
    pub valid_until: u32,
    /// Payload length in bytes.
    pub payload_len: u16,
}

impl Header {
    /// Parses the first [`HEADER_LEN`] bytes of `bytes` (more may follow).
    pub fn parse(bytes: &[u8]) -> Result<Header, FrameError> {
        let Some((h, _)) = bytes.split_first_chunk::<HEADER_LEN>() else {
            return Err(FrameError::Truncated);
        };
        let [
            version,
            flags,
            a0,
            a1,
            a2,
            a3,
            a4,
            a5,
            kv0,
            kv1,
            command,
            tag_len,
            s0,
            s1,
            s2,
            s3,
            c0,
            c1,
            c2,
            c3,
            v0,
            v1,
            v2,
            v3,
            l0,
            l1,
        ] = *h;
        if version != FORMAT_VERSION {
            return Err(FrameError::Version);
        }
        if flags & !(DIRECTION_BIT | MODE_MASK) != 0 {
            return Err(FrameError::Flags);
        }
        let direction = if flags & DIRECTION_BIT == 0 {
            FrameRole::Command
        } else {
            FrameRole::Response
        };
        let mode = match flags & MODE_MASK {
            0 => Mode::Counter,
            1 => Mode::Session,
            _ => return Err(FrameError::Flags),
        };
        let address =
            Address::from_wire([a5, a4, a3, a2, a1, a0]).map_err(|_| FrameError::Address)?;
        let command = CommandType::from_code(command).ok_or(FrameError::CommandType)?;
        let tag_len = TagLength::new(tag_len)?;
        let session_id = u32::from_be_bytes([s0, s1, s2, s3]);
        if mode == Mode::Counter && session_id != 0 {
            return Err(FrameError::SessionId);
        }
        Ok(Header {
            direction,
            mode,
            address,
            key_version: u16::from_be_bytes([kv0, kv1]),
            command,
            tag_len,
            session_id,
            counter: u32::from_be_bytes([c0, c1, c2, c3]),
            valid_until: u32::from_be_bytes([v0, v1, v2, v3]),
            payload_len: u16::from_be_bytes([l0, l1]),
        })
    }

    fn flags(&self) -> u8 {
        let d = match self.direction {
            FrameRole::Command => 0,
            FrameRole::Response => DIRECTION_BIT,
        };
        let m = match self.mode {
            Mode::Counter => 0,
            Mode::Session => 1,
        };
        d | m
    }

    /// The header bytes.
    pub fn emit(&self) -> [u8; HEADER_LEN] {
        let a = self.address.to_be_bytes();
        let kv = self.key_version.to_be_bytes();
        let s = self.session_id.to_be_bytes();
        let c = self.counter.to_be_bytes();
        let v = self.valid_until.to_be_bytes();
        let l = self.payload_len.to_be_bytes();
        [
            FORMAT_VERSION,
            self.flags(),
            a[0],
            a[1],
            a[2],
            a[3],
            a[4],
            a[5],
            kv[0],
            kv[1],
            self.command.code(),
            self.tag_len.get(),
            s[0],
            s[1],
            s[2],
            s[3],
            c[0],
            c[1],
            c[2],
            c[3],
            v[0],
            v[1],
            v[2],
            v[3],
            l[0],
            l[1],
        ]
    }

    /// The AES-CTR counter block for this header (see the module docs).
    pub fn counter_block(&self) -> [u8; 16] {
        let s = self.session_id.to_be_bytes();
        let c = self.counter.to_be_bytes();
        let kv = self.key_version.to_be_bytes();
        [
            FORMAT_VERSION,
            self.flags(),
            s[0],
            s[1],
            s[2],
            s[3],
            c[0],
            c[1],
            c[2],
            c[3],
            kv[0],
            kv[1],
            0,
            0,
            0,
            0,
        ]
    }

    /// The deadline as a timestamp.
    pub fn valid_until(&self) -> Timestamp {
        Timestamp::from_unix(i64::from(self.valid_until))
    }

    /// The length of the whole frame this header describes.
    pub const fn frame_len(&self) -> usize {
        HEADER_LEN + self.payload_len as usize + self.tag_len.as_usize()
    }
}

/// The length of a sealed frame with a payload of `payload_len` bytes (saturating: no frame is
/// that long, and sealing refuses payloads above the format's limit).
pub const fn frame_len(payload_len: usize, tag_len: TagLength) -> usize {
    payload_len.saturating_add(HEADER_LEN + tag_len.as_usize())
}

/// A checked view of a sealed frame in a buffer (header, ciphertext, tag), smoltcp style.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct SealedFrame<T: AsRef<[u8]>> {
    buffer: T,
    header: Header,
}

impl<T: AsRef<[u8]>> SealedFrame<T> {
    /// Checks that `buffer` holds exactly one well-formed frame.
    pub fn new_checked(buffer: T) -> Result<SealedFrame<T>, FrameError> {
        let header = Header::parse(buffer.as_ref())?;
        if buffer.as_ref().len() != header.frame_len() {
            return Err(FrameError::Length);
        }
        Ok(SealedFrame { buffer, header })
    }

    /// The parsed header.
    pub fn header(&self) -> &Header {
        &self.header
    }

    fn split(&self) -> (&[u8], &[u8], &[u8]) {
        let b = self.buffer.as_ref();
        let (h, rest) = b.split_at_checked(HEADER_LEN).unwrap_or((b, &[]));
        let (p, t) = rest
            .split_at_checked(usize::from(self.header.payload_len))
            .unwrap_or((rest, &[]));
        (h, p, t)
    }

    /// The header bytes.
    pub fn header_bytes(&self) -> &[u8] {
        self.split().0
    }

    /// The payload (ciphertext until opened).
    pub fn payload(&self) -> &[u8] {
        self.split().1
    }

    /// The tag.
    pub fn tag(&self) -> &[u8] {
        self.split().2
    }

    /// The buffer back.
    pub fn into_inner(self) -> T {
        self.buffer
    }
}

impl<T: AsRef<[u8]> + AsMut<[u8]>> SealedFrame<T> {
    /// Header bytes, mutable payload and tag, for opening in place.
    pub fn split_mut(&mut self) -> (&[u8], &mut [u8], &[u8]) {
        let payload_len = usize::from(self.header.payload_len);
        let b = self.buffer.as_mut();
        let (h, rest) = split_mut_or_all(b, HEADER_LEN);
        let (p, t) = split_mut_or_all(rest, payload_len);
        (h, p, t)
    }
}

fn split_mut_or_all(b: &mut [u8], at: usize) -> (&mut [u8], &mut [u8]) {
    let at = at.min(b.len());
    b.split_at_mut(at)
}

/// Writes `header`, the payload (by `encode`, into exactly `header.payload_len` bytes) and the
/// tag into `out`; returns the frame length.
pub(crate) fn seal_with<M: SecurityModule>(
    module: &M,
    keys: KeySet,
    header: &Header,
    encode: impl FnOnce(&mut [u8]) -> Result<(), PayloadError>,
    out: &mut [u8],
) -> Result<usize, SealError> {
    let n = header.frame_len();
    let buf = out.get_mut(..n).ok_or(SealError::Buffer)?;
    let (h, rest) = buf
        .split_at_mut_checked(HEADER_LEN)
        .ok_or(SealError::Buffer)?;
    h.copy_from_slice(&header.emit());
    let (p, t) = rest
        .split_at_mut_checked(usize::from(header.payload_len))
        .ok_or(SealError::Buffer)?;
    encode(p)?;
    module.seal(keys, &header.counter_block(), h, p, t)?;
    Ok(n)
}

/// Verifies and decrypts a frame already checked against `header` (exact length); returns the
/// plaintext payload.
pub(crate) fn open_with<'f, M: SecurityModule>(
    module: &M,
    keys: KeySet,
    header: &Header,
    frame: &'f mut [u8],
) -> Result<&'f [u8], ModuleError> {
    let (h, rest) = frame
        .split_at_mut_checked(HEADER_LEN)
        .ok_or(ModuleError::TagMismatch)?;
    let (p, t) = rest
        .split_at_mut_checked(usize::from(header.payload_len))
        .ok_or(ModuleError::TagMismatch)?;
    module.open(keys, &header.counter_block(), h, p, t)?;
    Ok(p)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn header() -> Header {
        Header {
            direction: FrameRole::Command,
            mode: Mode::Counter,
            address: "201000000012".parse().unwrap(),
            key_version: 0x0102,
            command: CommandType::Recharge,
            tag_len: TagLength::new(12).unwrap(),
            session_id: 0,
            counter: 0x0A0B0C0D,
            valid_until: 1_700_000_000,
            payload_len: 18,
        }
    }

    #[test]
    fn layout() {
        let h = header();
        let b = h.emit();
        assert_eq!(
            b,
            [
                0x01, 0x00, 0x20, 0x10, 0x00, 0x00, 0x00, 0x12, 0x01, 0x02, 0x02, 12, 0, 0, 0, 0,
                0x0A, 0x0B, 0x0C, 0x0D, 0x65, 0x53, 0xF1, 0x00, 0x00, 18
            ]
        );
        assert_eq!(Header::parse(&b), Ok(h));
        assert_eq!(
            h.counter_block(),
            [
                1, 0, 0, 0, 0, 0, 0x0A, 0x0B, 0x0C, 0x0D, 0x01, 0x02, 0, 0, 0, 0
            ]
        );
        let r = Header {
            direction: FrameRole::Response,
            mode: Mode::Session,
            session_id: 0xDEADBEEF,
            ..h
        };
        let rb = r.emit();
        assert_eq!(rb[1], 0x81);
        assert_eq!(Header::parse(&rb), Ok(r));
        // The role changes the counter block: a response never reuses a command's keystream.
        assert_ne!(
            r.counter_block(),
            Header {
                direction: FrameRole::Command,
                ..r
            }
            .counter_block()
        );
        assert_eq!(h.frame_len(), 26 + 18 + 12);
        assert_eq!(h.valid_until(), Timestamp::from_unix(1_700_000_000));
    }

    #[test]
    fn malformed_headers() {
        let good = header().emit();
        assert_eq!(Header::parse(&good[..25]), Err(FrameError::Truncated));
        let cases: [(usize, u8, FrameError); 8] = [
            (0, 2, FrameError::Version),
            (1, 0x04, FrameError::Flags),
            (1, 0x02, FrameError::Flags),
            (1, 0x03, FrameError::Flags),
            (2, 0x2B, FrameError::Address),
            (10, 0xEE, FrameError::CommandType),
            (11, 7, FrameError::TagLength),
            (15, 1, FrameError::SessionId),
        ];
        for (i, v, e) in cases {
            let mut b = good;
            b[i] = v;
            assert_eq!(Header::parse(&b), Err(e), "byte {i} = {v:#x}");
        }
        assert_eq!(TagLength::new(17), Err(FrameError::TagLength));
        assert_eq!(TagLength::new(16), Ok(TagLength::FULL));
    }

    #[test]
    fn frame_view() {
        let h = header();
        let mut buf = [0u8; 26 + 18 + 12];
        buf[..26].copy_from_slice(&h.emit());
        buf[26..44].fill(0xAA);
        buf[44..].fill(0x55);
        let mut f = SealedFrame::new_checked(&mut buf[..]).unwrap();
        assert_eq!(f.header(), &h);
        assert_eq!(f.payload(), &[0xAA; 18]);
        assert_eq!(f.tag(), &[0x55; 12]);
        let (hb, p, t) = f.split_mut();
        assert_eq!(hb.len(), 26);
        p[0] = 1;
        assert_eq!(t.len(), 12);
        assert_eq!(
            SealedFrame::new_checked(&buf[..buf.len() - 1]).map(|_| ()),
            Err(FrameError::Length)
        );
        let mut long = [0u8; 57];
        long[..56].copy_from_slice(&buf);
        assert_eq!(
            SealedFrame::new_checked(&long[..]).map(|_| ()),
            Err(FrameError::Length)
        );
    }
}
