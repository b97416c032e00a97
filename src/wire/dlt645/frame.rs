//! The link layer: frame view, control byte, data view and representation.

use core::fmt;

use super::{Error, Result};
use crate::address::Address;

/// The start byte, at offset 0 and after the address.
pub const START: u8 = 0x68;
/// The end byte, after the checksum.
pub const END: u8 = 0x16;
/// The preamble (wake-up) byte sent before a frame.
pub const PREAMBLE: u8 = 0xFE;
/// The offset added to every data byte on transmit and removed on receive.
pub const DATA_OFFSET: u8 = 0x33;
/// Bytes before the data: `68`, six address bytes, `68`, control, length.
pub const HEADER_LEN: usize = 10;
/// Bytes after the data: checksum and `16`.
pub const TRAILER_LEN: usize = 2;
/// The shortest frame (no data, no preamble).
pub const MIN_FRAME_LEN: usize = HEADER_LEN + TRAILER_LEN;
/// The most data bytes the length byte can count.
pub const MAX_DATA_LEN: usize = 255;
/// The longest frame (255 data bytes, no preamble).
pub const MAX_FRAME_LEN: usize = MIN_FRAME_LEN + MAX_DATA_LEN;

mod field {
    pub const START1: usize = 0;
    pub const ADDRESS: core::ops::Range<usize> = 1..7;
    pub const START2: usize = 7;
    pub const CONTROL: usize = 8;
    pub const LENGTH: usize = 9;
    pub const DATA: usize = 10;
}

/// The bytes after any leading `FE` preamble bytes.
///
/// ```
/// use prepaid_meter::wire::dlt645::skip_preamble;
/// assert_eq!(skip_preamble(&[0xFE, 0xFE, 0x68, 0x01]), &[0x68, 0x01]);
/// assert_eq!(skip_preamble(&[0xFE]), &[] as &[u8]);
/// ```
#[inline]
pub fn skip_preamble(bytes: &[u8]) -> &[u8] {
    let n = bytes.iter().take_while(|&&b| b == PREAMBLE).count();
    bytes.get(n..).unwrap_or_default()
}

/// The DL/T 645 checksum: the sum modulo 256 of `bytes`.
#[inline]
pub fn checksum(bytes: &[u8]) -> u8 {
    bytes.iter().fold(0u8, |acc, &b| acc.wrapping_add(b))
}

/// The sum modulo 256 of the eight bytes of `x`.
#[inline]
const fn sum_bytes(x: u64) -> u8 {
    // Pairwise sums in 16-bit lanes (no lane overflows: 8 x 255 < 65 536), then a horizontal
    // add by multiplication; the top 16 bits hold the total.
    let pairs = (x & 0x00FF_00FF_00FF_00FF) + ((x >> 8) & 0x00FF_00FF_00FF_00FF);
    (pairs.wrapping_mul(0x0001_0001_0001_0001) >> 48) as u8
}

/// Who sent the frame (control bit D7).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub enum Direction {
    /// A command from the master station (D7 = 0).
    Request,
    /// An answer from the meter (D7 = 1).
    Response,
}

macro_rules! function_codes {
    ($( $(#[$doc:meta])* $name:ident = $code:literal, )*) => {
        /// The function code: the low five bits of the control byte.
        ///
        /// DL/T 645-2007 and DL/T 645-1997 share the code space; the 1997 codes that have no 2007
        /// meaning get their own variants (suffix `1997`). Code 03H is the 2007 security command
        /// (in 1997 it was "re-read", which carries no data). Codes without a name are kept as
        /// [`Function::Unknown`] and round-trip unchanged.
        #[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
        #[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
        #[cfg_attr(feature = "defmt", derive(defmt::Format))]
        #[non_exhaustive]
        pub enum Function {
            $( $(#[$doc])* $name, )*
            /// Any other 5-bit code. [`Function::from_code`] never returns this for a named code.
            Unknown(u8),
        }

        impl Function {
            /// The function for a 5-bit code (the upper three bits of `code` are ignored).
            #[inline]
            pub const fn from_code(code: u8) -> Function {
                match code & 0x1F {
                    $( $code => Function::$name, )*
                    other => Function::Unknown(other),
                }
            }

            /// The 5-bit code.
            #[inline]
            pub const fn code(self) -> u8 {
                match self {
                    $( Function::$name => $code, )*
                    Function::Unknown(c) => c & 0x1F,
                }
            }
        }
    };
}

function_codes! {
    /// 03H: security (ESAM) command: identity authentication, open account, recharge, key update.
    Security = 0x03,
    /// 08H: broadcast time.
    BroadcastTime = 0x08,
    /// 11H: read data.
    Read = 0x11,
    /// 12H: read follow-up data.
    ReadFollowUp = 0x12,
    /// 13H: read communication address.
    ReadAddress = 0x13,
    /// 14H: write data.
    Write = 0x14,
    /// 15H: write communication address.
    WriteAddress = 0x15,
    /// 16H: freeze.
    Freeze = 0x16,
    /// 17H: change baud rate.
    ChangeBaud = 0x17,
    /// 18H: change password.
    ChangePassword = 0x18,
    /// 19H: clear maximum demand.
    ClearMaxDemand = 0x19,
    /// 1AH: meter clear.
    MeterClear = 0x1A,
    /// 1BH: event clear.
    EventClear = 0x1B,
    /// 1CH: relay control (trip, reconnect, alarm, keep-power).
    RelayControl = 0x1C,
    /// 01H (DL/T 645-1997): read data, 2-byte identifier.
    Read1997 = 0x01,
    /// 02H (DL/T 645-1997): read follow-up data.
    ReadFollowUp1997 = 0x02,
    /// 04H (DL/T 645-1997): write data.
    Write1997 = 0x04,
    /// 0AH (DL/T 645-1997): write address.
    WriteAddress1997 = 0x0A,
    /// 0CH (DL/T 645-1997): change baud rate.
    ChangeBaud1997 = 0x0C,
    /// 0FH (DL/T 645-1997): change password.
    ChangePassword1997 = 0x0F,
    /// 10H (DL/T 645-1997): clear maximum demand.
    ClearMaxDemand1997 = 0x10,
}

impl From<u8> for Function {
    fn from(code: u8) -> Function {
        Function::from_code(code)
    }
}

impl From<Function> for u8 {
    fn from(f: Function) -> u8 {
        f.code()
    }
}

/// The control byte `C`.
///
/// | bit | meaning |
/// |---|---|
/// | D7 | direction: 0 request, 1 response |
/// | D6 | error answer |
/// | D5 | follow-up: more frames follow |
/// | D4..D0 | [`Function`] |
///
/// ```
/// use prepaid_meter::wire::dlt645::{Control, Direction, Function};
/// let c = Control::from_byte(0xB1);
/// assert_eq!(c.direction, Direction::Response);
/// assert!(c.follow_up && !c.error);
/// assert_eq!(c.function, Function::Read);
/// assert_eq!(c.to_byte(), 0xB1);
/// assert_eq!(Control::error_response(Function::Read).to_byte(), 0xD1);
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub struct Control {
    /// D7.
    pub direction: Direction,
    /// D6: an abnormal (error) answer.
    pub error: bool,
    /// D5: more frames follow.
    pub follow_up: bool,
    /// D4..D0.
    pub function: Function,
}

impl Control {
    /// Decodes a control byte; every byte has a meaning.
    #[inline]
    pub const fn from_byte(b: u8) -> Control {
        Control {
            direction: if b & 0x80 != 0 {
                Direction::Response
            } else {
                Direction::Request
            },
            error: b & 0x40 != 0,
            follow_up: b & 0x20 != 0,
            function: Function::from_code(b),
        }
    }

    /// Encodes the control byte.
    #[inline]
    pub const fn to_byte(self) -> u8 {
        let mut b = self.function.code();
        if matches!(self.direction, Direction::Response) {
            b |= 0x80;
        }
        if self.error {
            b |= 0x40;
        }
        if self.follow_up {
            b |= 0x20;
        }
        b
    }

    /// A request (master command) for `function`.
    pub const fn request(function: Function) -> Control {
        Control {
            direction: Direction::Request,
            error: false,
            follow_up: false,
            function,
        }
    }

    /// A normal answer for `function`; `follow_up` says whether more frames follow.
    pub const fn response(function: Function, follow_up: bool) -> Control {
        Control {
            direction: Direction::Response,
            error: false,
            follow_up,
            function,
        }
    }

    /// An error answer for `function`.
    pub const fn error_response(function: Function) -> Control {
        Control {
            direction: Direction::Response,
            error: true,
            follow_up: false,
            function,
        }
    }

    /// `true` for a response (D7 = 1).
    pub const fn is_response(self) -> bool {
        matches!(self.direction, Direction::Response)
    }
}

impl From<u8> for Control {
    fn from(b: u8) -> Control {
        Control::from_byte(b)
    }
}

impl From<Control> for u8 {
    fn from(c: Control) -> u8 {
        c.to_byte()
    }
}

/// Frame data, seen without the +33H offset.
///
/// A `Data` is either a view of the bytes as they are on the wire (`Data::wire`, each byte
/// +33H), which is what parsing yields, or of plain bytes (`Data::plain`), which is what a
/// caller builds a frame from. Either way the accessors return the plain bytes; equality
/// compares the plain bytes.
///
/// ```
/// use prepaid_meter::wire::dlt645::Data;
/// let wire = Data::wire(&[0x33, 0x34, 0x32]);
/// assert_eq!(wire.get(1), Some(0x01));
/// assert_eq!(wire, Data::plain(&[0x00, 0x01, 0xFF]));
/// let mut out = [0u8; 3];
/// assert_eq!(wire.copy_to(&mut out), Some(&[0x00, 0x01, 0xFF][..]));
/// ```
#[derive(Clone, Copy)]
pub struct Data<'a> {
    bytes: &'a [u8],
    offset: u8,
}

impl<'a> Data<'a> {
    /// No data.
    pub const EMPTY: Data<'static> = Data {
        bytes: &[],
        offset: 0,
    };

    /// Bytes as they are on the wire (each one +33H).
    #[inline]
    pub const fn wire(bytes: &'a [u8]) -> Data<'a> {
        Data {
            bytes,
            offset: DATA_OFFSET,
        }
    }

    /// Plain bytes (the offset is applied when the data is emitted).
    #[inline]
    pub const fn plain(bytes: &'a [u8]) -> Data<'a> {
        Data { bytes, offset: 0 }
    }

    /// Number of bytes.
    #[inline]
    pub const fn len(&self) -> usize {
        self.bytes.len()
    }

    /// `true` if there are no bytes.
    #[inline]
    pub const fn is_empty(&self) -> bool {
        self.bytes.is_empty()
    }

    /// The plain byte at `index`.
    #[inline]
    pub fn get(&self, index: usize) -> Option<u8> {
        self.bytes.get(index).map(|b| b.wrapping_sub(self.offset))
    }

    /// The plain bytes, one by one.
    #[inline]
    pub fn iter(&self) -> impl ExactSizeIterator<Item = u8> + 'a {
        let offset = self.offset;
        self.bytes.iter().map(move |b| b.wrapping_sub(offset))
    }

    /// The underlying bytes: on-the-wire bytes for a [`Data::wire`], plain bytes otherwise.
    #[inline]
    pub const fn raw(&self) -> &'a [u8] {
        self.bytes
    }

    /// `true` if this views on-the-wire bytes.
    pub const fn is_wire(&self) -> bool {
        self.offset != 0
    }

    /// Copies the plain bytes to the start of `out` and returns that part of `out`, or `None`
    /// if `out` is too short.
    #[inline]
    pub fn copy_to<'o>(&self, out: &'o mut [u8]) -> Option<&'o [u8]> {
        let dst = out.get_mut(..self.bytes.len())?;
        for (d, s) in dst.iter_mut().zip(self.bytes) {
            *d = s.wrapping_sub(self.offset);
        }
        Some(dst)
    }

    /// The first `N` plain bytes as an array, or `None` if there are fewer.
    #[inline]
    pub fn array<const N: usize>(&self) -> Option<[u8; N]> {
        let src = self.bytes.get(..N)?;
        let mut out = [0u8; N];
        for (d, s) in out.iter_mut().zip(src) {
            *d = s.wrapping_sub(self.offset);
        }
        Some(out)
    }

    /// Splits into the first `mid` bytes and the rest, or `None` if `mid > len`.
    #[inline]
    pub fn split_at(&self, mid: usize) -> Option<(Data<'a>, Data<'a>)> {
        let (a, b) = self.bytes.split_at_checked(mid)?;
        Some((
            Data {
                bytes: a,
                offset: self.offset,
            },
            Data {
                bytes: b,
                offset: self.offset,
            },
        ))
    }
}

impl PartialEq for Data<'_> {
    fn eq(&self, other: &Data<'_>) -> bool {
        self.len() == other.len() && self.iter().eq(other.iter())
    }
}

impl Eq for Data<'_> {}

/// Shown as the plain bytes in hex.
impl fmt::Debug for Data<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Data(")?;
        for b in self.iter() {
            write!(f, "{b:02X}")?;
        }
        f.write_str(")")
    }
}

/// Shown as the plain bytes in hex, as they are in memory (low byte first).
impl fmt::Display for Data<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for b in self.iter() {
            write!(f, "{b:02X}")?;
        }
        Ok(())
    }
}

#[cfg(feature = "defmt")]
impl defmt::Format for Data<'_> {
    fn format(&self, f: defmt::Formatter<'_>) {
        defmt::write!(
            f,
            "Data({=[u8]:02X}, offset {=u8})",
            self.bytes,
            self.offset
        )
    }
}

/// A zero-copy view of one frame (without preamble) in any byte buffer.
///
/// Use [`Frame::new_checked`] on untrusted bytes; then every accessor returns the field the
/// length byte promises. Accessors never panic, even on an unchecked buffer that is too short:
/// they return zero or an empty slice.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Frame<T: AsRef<[u8]>> {
    buffer: T,
}

impl<T: AsRef<[u8]>> Frame<T> {
    /// Wraps a buffer without checking it.
    pub const fn new_unchecked(buffer: T) -> Frame<T> {
        Frame { buffer }
    }

    /// Wraps a buffer and checks its length ([`Frame::check_len`]).
    pub fn new_checked(buffer: T) -> Result<Frame<T>> {
        let frame = Frame::new_unchecked(buffer);
        frame.check_len()?;
        Ok(frame)
    }

    /// Checks that the buffer holds the header, the `L` data bytes its length byte announces
    /// and the trailer. Bytes after the frame are allowed (see [`Frame::frame_len`]).
    pub fn check_len(&self) -> Result<()> {
        let len = self.buffer.as_ref().len();
        if len < MIN_FRAME_LEN || len < self.frame_len() {
            return Err(Error::Truncated);
        }
        Ok(())
    }

    /// Gives the buffer back.
    pub fn into_inner(self) -> T {
        self.buffer
    }

    fn byte(&self, index: usize) -> u8 {
        self.buffer.as_ref().get(index).copied().unwrap_or(0)
    }

    /// The length of the frame its length byte announces: `12 + L`.
    pub fn frame_len(&self) -> usize {
        MIN_FRAME_LEN + usize::from(self.data_len())
    }

    /// The six address bytes as on the wire (low byte first).
    pub fn address_bytes(&self) -> [u8; 6] {
        let mut out = [0u8; 6];
        if let Some(src) = self.buffer.as_ref().get(field::ADDRESS) {
            out.copy_from_slice(src);
        }
        out
    }

    /// The address, or [`Error::Address`] if a nibble is neither a digit nor `A`.
    pub fn address(&self) -> Result<Address> {
        Address::from_wire(self.address_bytes()).map_err(|_| Error::Address)
    }

    /// The control byte.
    pub fn control(&self) -> Control {
        Control::from_byte(self.byte(field::CONTROL))
    }

    /// The length byte `L`.
    pub fn data_len(&self) -> u8 {
        self.byte(field::LENGTH)
    }

    /// The checksum byte.
    #[inline]
    pub fn checksum(&self) -> u8 {
        self.byte(field::DATA + usize::from(self.data_len()))
    }

    /// The checksum computed over the frame's bytes.
    pub fn compute_checksum(&self) -> u8 {
        let end = field::DATA + usize::from(self.data_len());
        checksum(self.buffer.as_ref().get(..end).unwrap_or_default())
    }

    /// `true` if the checksum byte matches. Always `true` under `cfg(fuzzing)`.
    pub fn verify_checksum(&self) -> bool {
        if cfg!(fuzzing) {
            return true;
        }
        self.checksum() == self.compute_checksum()
    }

    /// Checks the framing: length, both start bytes, the end byte and the checksum.
    pub fn check_framing(&self) -> Result<()> {
        self.check_len()?;
        if self.byte(field::START1) != START || self.byte(field::START2) != START {
            return Err(Error::StartByte);
        }
        if self.byte(self.frame_len() - 1) != END {
            return Err(Error::EndByte);
        }
        if !self.verify_checksum() {
            return Err(Error::Checksum);
        }
        Ok(())
    }
}

impl<'a, T: AsRef<[u8]> + ?Sized> Frame<&'a T> {
    /// The data bytes as on the wire (+33H).
    pub fn data_raw(&self) -> &'a [u8] {
        let end = field::DATA + usize::from(self.data_len());
        self.buffer
            .as_ref()
            .get(field::DATA..end)
            .unwrap_or_default()
    }

    /// The data, seen without the offset.
    pub fn data(&self) -> Data<'a> {
        Data::wire(self.data_raw())
    }

    /// The frame's bytes (`12 + L` of them; fewer if the buffer is short).
    pub fn as_bytes(&self) -> &'a [u8] {
        let buf = self.buffer.as_ref();
        buf.get(..self.frame_len()).unwrap_or(buf)
    }
}

impl<T: AsRef<[u8]> + AsMut<[u8]>> Frame<T> {
    fn set_byte(&mut self, index: usize, value: u8) {
        if let Some(b) = self.buffer.as_mut().get_mut(index) {
            *b = value;
        }
    }

    /// Writes both start bytes.
    pub fn set_start_bytes(&mut self) {
        self.set_byte(field::START1, START);
        self.set_byte(field::START2, START);
    }

    /// Writes the address.
    pub fn set_address(&mut self, address: Address) {
        if let Some(dst) = self.buffer.as_mut().get_mut(field::ADDRESS) {
            dst.copy_from_slice(&address.to_wire());
        }
    }

    /// Writes the control byte.
    pub fn set_control(&mut self, control: Control) {
        self.set_byte(field::CONTROL, control.to_byte());
    }

    /// Writes the length byte.
    pub fn set_data_len(&mut self, len: u8) {
        self.set_byte(field::LENGTH, len);
    }

    /// The data bytes as on the wire, mutable (as far as the buffer reaches).
    pub fn data_raw_mut(&mut self) -> &mut [u8] {
        let end = field::DATA + usize::from(self.data_len());
        let buf = self.buffer.as_mut();
        let end = end.min(buf.len());
        buf.get_mut(field::DATA.min(end)..end).unwrap_or_default()
    }

    /// Computes and writes the checksum, and writes the end byte.
    pub fn fill_checksum(&mut self) {
        let cs = self.compute_checksum();
        let at = field::DATA + usize::from(self.data_len());
        self.set_byte(at, cs);
        self.set_byte(at + 1, END);
    }
}

/// Writes plain data bytes into a frame being emitted; the offset is applied afterwards.
///
/// Handed to the closure of [`emit_frame`]; writes past the 255-byte limit or the end of the
/// output buffer fail with an error instead of panicking.
#[derive(Debug)]
pub struct DataWriter<'b> {
    buf: &'b mut [u8],
    pos: usize,
}

impl<'b> DataWriter<'b> {
    /// A writer over `buf` (at most 255 bytes of it are used).
    pub fn new(buf: &'b mut [u8]) -> DataWriter<'b> {
        DataWriter { buf, pos: 0 }
    }

    /// Bytes written so far.
    #[inline]
    pub fn len(&self) -> usize {
        self.pos
    }

    /// `true` if nothing was written.
    #[inline]
    pub fn is_empty(&self) -> bool {
        self.pos == 0
    }

    /// The bytes written so far.
    pub fn written(&self) -> &[u8] {
        self.buf.get(..self.pos).unwrap_or_default()
    }

    /// Room left: the smaller of the buffer and the 255-byte limit.
    pub fn remaining(&self) -> usize {
        self.buf.len().min(MAX_DATA_LEN).saturating_sub(self.pos)
    }

    /// Reserves the next `n` bytes and returns them for the caller to fill with plain bytes.
    #[inline]
    pub fn slot(&mut self, n: usize) -> Result<&mut [u8]> {
        if n > self.remaining() {
            return Err(if self.pos + n > MAX_DATA_LEN {
                Error::TooLong
            } else {
                Error::BufferTooSmall
            });
        }
        let start = self.pos;
        self.pos += n;
        self.buf
            .get_mut(start..start + n)
            .ok_or(Error::BufferTooSmall)
    }

    /// Appends plain bytes.
    #[inline]
    pub fn put(&mut self, bytes: &[u8]) -> Result<()> {
        self.slot(bytes.len())?.copy_from_slice(bytes);
        Ok(())
    }

    /// Appends one plain byte.
    #[inline]
    pub fn put_u8(&mut self, b: u8) -> Result<()> {
        self.put(&[b])
    }

    /// Appends data (its plain bytes).
    #[inline]
    pub fn put_data(&mut self, data: Data<'_>) -> Result<()> {
        let slot = self.slot(data.len())?;
        if data.is_wire() {
            for (d, s) in slot.iter_mut().zip(data.iter()) {
                *d = s;
            }
        } else {
            slot.copy_from_slice(data.raw());
        }
        Ok(())
    }
}

/// Emits one frame into `buf`: `preamble` bytes `FE`, the header, the data that `fill` writes
/// (plain; the +33H offset is applied afterwards), the checksum and `16`. Returns the number of
/// bytes written.
///
/// Fails with [`Error::BufferTooSmall`] or [`Error::TooLong`] (the data would exceed 255 bytes),
/// or with the error `fill` returns; `buf` may then hold a partial frame.
///
/// ```
/// use prepaid_meter::address::Address;
/// use prepaid_meter::wire::dlt645::{emit_frame, Control, Function};
/// let mut buf = [0u8; 32];
/// let n = emit_frame(&mut buf, 0, Address::WILDCARD, Control::request(Function::ReadAddress),
///                    |_| Ok(())).unwrap();
/// assert_eq!(&buf[..n], &[0x68, 0xAA, 0xAA, 0xAA, 0xAA, 0xAA, 0xAA, 0x68, 0x13, 0x00, 0xDF, 0x16]);
/// ```
#[inline]
pub fn emit_frame(
    buf: &mut [u8],
    preamble: usize,
    address: Address,
    control: Control,
    fill: impl FnOnce(&mut DataWriter<'_>) -> Result<()>,
) -> Result<usize> {
    let (pre, rest) = buf
        .split_at_mut_checked(preamble)
        .ok_or(Error::BufferTooSmall)?;
    pre.fill(PREAMBLE);
    if rest.len() < MIN_FRAME_LEN {
        return Err(Error::BufferTooSmall);
    }
    let (header, body) = rest
        .split_at_mut_checked(HEADER_LEN)
        .ok_or(Error::BufferTooSmall)?;
    let room = body.len().saturating_sub(TRAILER_LEN);
    let data_region = body.get_mut(..room).ok_or(Error::BufferTooSmall)?;
    let mut writer = DataWriter::new(data_region);
    fill(&mut writer)?;
    let len = writer.len();
    for b in body.get_mut(..len).unwrap_or_default() {
        *b = b.wrapping_add(DATA_OFFSET);
    }
    let mut frame = Frame::new_unchecked(header);
    frame.set_start_bytes();
    frame.set_address(address);
    frame.set_control(control);
    frame.set_data_len(u8::try_from(len).map_err(|_| Error::TooLong)?);
    let cs =
        checksum(frame.into_inner()).wrapping_add(checksum(body.get(..len).unwrap_or_default()));
    let trailer = body
        .get_mut(len..len + TRAILER_LEN)
        .ok_or(Error::BufferTooSmall)?;
    trailer.copy_from_slice(&[cs, END]);
    Ok(preamble + MIN_FRAME_LEN + len)
}

/// The meaning of a frame's link-layer fields: address, control and data.
///
/// ```
/// use prepaid_meter::address::Address;
/// use prepaid_meter::wire::dlt645::{Control, Data, Frame, FrameRepr, Function};
/// let repr = FrameRepr {
///     address: "201000000012".parse().unwrap(),
///     control: Control::error_response(Function::Read),
///     data: Data::plain(&[0x02]),
/// };
/// let mut buf = [0u8; 16];
/// let n = repr.emit(&mut buf, 0).unwrap();
/// assert_eq!(n, repr.buffer_len());
/// assert_eq!(&buf[..n], &[0x68, 0x12, 0, 0, 0, 0x10, 0x20, 0x68, 0xD1, 0x01, 0x35, 0x19, 0x16]);
/// let frame = Frame::new_checked(&buf[..n]).unwrap();
/// assert_eq!(FrameRepr::parse(&frame), Ok(repr));
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub struct FrameRepr<'a> {
    /// The meter address (the destination of a request, the source of a response).
    pub address: Address,
    /// The control byte.
    pub control: Control,
    /// The data.
    pub data: Data<'a>,
}

impl<'a> FrameRepr<'a> {
    /// Parses a frame: length, start bytes, end byte, checksum and address are all checked.
    #[inline]
    pub fn parse<T: AsRef<[u8]> + ?Sized>(frame: &Frame<&'a T>) -> Result<FrameRepr<'a>> {
        // The same checks as `Frame::check_framing`, fused into one pass over the bytes.
        let buffer: &'a T = frame.buffer;
        let buf: &'a [u8] = buffer.as_ref();
        let [s1, a0, a1, a2, a3, a4, a5, s2, c, l, rest @ ..] = buf else {
            return Err(Error::Truncated);
        };
        let (data, tail) = rest
            .split_at_checked(usize::from(*l))
            .ok_or(Error::Truncated)?;
        let [cs, end, ..] = tail else {
            return Err(Error::Truncated);
        };
        if *s1 != START || *s2 != START {
            return Err(Error::StartByte);
        }
        if *end != END {
            return Err(Error::EndByte);
        }
        let address = [*a0, *a1, *a2, *a3, *a4, *a5];
        let header = u64::from_le_bytes([*a0, *a1, *a2, *a3, *a4, *a5, *c, *l]);
        let sum = checksum(data)
            .wrapping_add(2 * START)
            .wrapping_add(sum_bytes(header));
        if sum != *cs && !cfg!(fuzzing) {
            return Err(Error::Checksum);
        }
        Ok(FrameRepr {
            address: Address::from_wire(address).map_err(|_| Error::Address)?,
            control: Control::from_byte(*c),
            data: Data::wire(data),
        })
    }

    /// The length of the emitted frame without preamble: `12 + data length`.
    pub const fn buffer_len(&self) -> usize {
        MIN_FRAME_LEN + self.data.len()
    }

    /// Emits the frame after `preamble` bytes `FE`; returns the bytes written
    /// (`preamble + buffer_len()`). See [`emit_frame`] for the errors.
    pub fn emit(&self, buf: &mut [u8], preamble: usize) -> Result<usize> {
        emit_frame(buf, preamble, self.address, self.control, |w| {
            w.put_data(self.data)
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    // E1: read 00010000 from 000000000161, with a 4-byte preamble.
    const E1: [u8; 20] = [
        0xFE, 0xFE, 0xFE, 0xFE, 0x68, 0x61, 0x01, 0x00, 0x00, 0x00, 0x00, 0x68, 0x11, 0x04, 0x33,
        0x33, 0x34, 0x33, 0x14, 0x16,
    ];

    #[test]
    fn deconstruct() {
        let frame = Frame::new_checked(skip_preamble(&E1)).unwrap();
        assert_eq!(frame.address_bytes(), [0x61, 0x01, 0, 0, 0, 0]);
        assert_eq!(frame.control().function, Function::Read);
        assert_eq!(frame.data_len(), 4);
        assert_eq!(frame.data_raw(), &[0x33, 0x33, 0x34, 0x33]);
        assert_eq!(frame.data().array::<4>(), Some([0, 0, 1, 0]));
        assert_eq!(frame.checksum(), 0x14);
        assert!(frame.verify_checksum());
        assert_eq!(frame.frame_len(), 16);
        assert_eq!(frame.check_framing(), Ok(()));
    }

    #[test]
    fn construct() {
        let mut buf = [0u8; 16];
        let mut frame = Frame::new_unchecked(&mut buf[..]);
        frame.set_start_bytes();
        frame.set_address(Address::from_number(161).unwrap());
        frame.set_control(Control::request(Function::Read));
        frame.set_data_len(4);
        frame
            .data_raw_mut()
            .copy_from_slice(&[0x33, 0x33, 0x34, 0x33]);
        frame.fill_checksum();
        assert_eq!(&buf[..], &E1[4..]);
    }

    #[test]
    fn emit_matches_construct() {
        let repr = FrameRepr {
            address: Address::from_number(161).unwrap(),
            control: Control::request(Function::Read),
            data: Data::plain(&[0, 0, 1, 0]),
        };
        let mut buf = [0u8; 20];
        assert_eq!(repr.emit(&mut buf, 4), Ok(20));
        assert_eq!(buf, E1);
        let mut short = [0u8; 19];
        assert_eq!(repr.emit(&mut short, 4), Err(Error::BufferTooSmall));
    }

    #[test]
    fn impossible_lengths() {
        assert_eq!(Frame::new_checked(&[0x68u8; 11][..]), Err(Error::Truncated));
        // L = 5 but only 4 data bytes present.
        let mut bad = E1;
        bad[13] = 5;
        assert_eq!(
            Frame::new_checked(skip_preamble(&bad)).map(|_| ()),
            Err(Error::Truncated)
        );
        // Accessors on short unchecked buffers do not panic.
        let f = Frame::new_unchecked(&[0x68u8, 0x01][..]);
        assert_eq!(f.data_raw(), &[] as &[u8]);
        assert_eq!(f.checksum(), 0);
        assert_eq!(f.check_framing(), Err(Error::Truncated));
    }

    #[test]
    fn framing_errors() {
        let body = &E1[4..];
        let mut b = [0u8; 16];
        b.copy_from_slice(body);
        b[7] = 0x69;
        assert_eq!(
            Frame::new_unchecked(&b[..]).check_framing(),
            Err(Error::StartByte)
        );
        b.copy_from_slice(body);
        b[15] = 0x17;
        assert_eq!(
            Frame::new_unchecked(&b[..]).check_framing(),
            Err(Error::EndByte)
        );
        b.copy_from_slice(body);
        b[14] ^= 1;
        if !cfg!(fuzzing) {
            assert_eq!(
                Frame::new_unchecked(&b[..]).check_framing(),
                Err(Error::Checksum)
            );
        }
        b.copy_from_slice(body);
        b[1] = 0x6B;
        b[14] = b[14].wrapping_add(0x0A);
        let f = Frame::new_unchecked(&b[..]);
        assert_eq!(f.check_framing(), Ok(()));
        assert_eq!(FrameRepr::parse(&f), Err(Error::Address));
    }

    #[test]
    fn sum_bytes_is_the_checksum() {
        for x in [0u64, u64::MAX, 0x0102_0304_0506_0708, 0xFF00_FF00_1234_5678] {
            assert_eq!(sum_bytes(x), checksum(&x.to_le_bytes()));
        }
    }

    #[test]
    fn control_round_trips_every_byte() {
        for b in 0..=255u8 {
            assert_eq!(Control::from_byte(b).to_byte(), b);
        }
        assert_eq!(Function::from_code(0x1D), Function::Unknown(0x1D));
        assert_eq!(Function::Unknown(0x1D).code(), 0x1D);
    }

    #[test]
    fn data_writer_limits() {
        let mut big = [0u8; 300];
        let mut w = DataWriter::new(&mut big);
        assert!(w.put(&[0u8; 255]).is_ok());
        assert_eq!(w.put_u8(1), Err(Error::TooLong));
        let mut small = [0u8; 2];
        let mut w = DataWriter::new(&mut small);
        assert_eq!(w.put(&[1, 2, 3]), Err(Error::BufferTooSmall));
        assert_eq!(w.len(), 0);
    }
}
