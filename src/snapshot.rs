//! Stored forms of state: one versioned, CRC-checked binary form for every engine, without serde.
//!
//! Every stateful type in the crate has the same shape:
//!
//! - a **plain-data state type** (`XState`, public fields, no invariants of its own beyond the
//!   field ranges the binary form can hold);
//! - `X::state(&self) -> XState`, which never fails;
//! - `X::restore(config, state) -> Result<X, E>`, which checks the state against the
//!   configuration and the type's invariants and refuses, with the module's own typed error, a
//!   state that breaks them;
//! - for the state types that are stored on their own, an implementation of [`Snapshot`]: the
//!   framed form below, written with [`Snapshot::emit`] and read back with [`Snapshot::parse`]
//!   (the same names as the wire codecs: `buffer_len`, `emit`, `parse`).
//!
//! Parsing checks the frame (magic, version, length, CRC) and the ranges of the fields, and
//! yields a state; `restore` then checks the meaning. So a firmware built without `serde`
//! persists everything, and `serde` stays an optional extra on the same state types.
//!
//! # The frame (all integers little-endian)
//!
//! | bytes | field |
//! |---|---|
//! | 2 | magic: two ASCII bytes naming the kind of state ([`Snapshot::MAGIC`]) |
//! | 1 | version of the fields' layout ([`Snapshot::VERSION`]) |
//! | 2 | total length in bytes, CRC included (`u16`) |
//! | … | the fields, as the type's [`Field`] implementation writes them |
//! | 4 | CRC-32/ISO-HDLC of every byte before it (`u32`) |
//!
//! A frame is at most 65 535 bytes. The fields use these primitive forms: integers as their
//! little-endian bytes; `bool` as one byte 0 or 1 (anything else is refused); `Option<T>` as a
//! tag byte 0 (absent) or 1 followed by `T`; `[T; N]` as its `N` elements; a
//! `heapless::Vec<T, N>` as a `u16` count followed by the elements (a count above `N` is
//! refused); [`Energy`] and [`Money`] as `i64`, [`Price`] as `u32`, [`Timestamp`] as `i64` Unix
//! seconds. Each module documents the field layout of its own state types.
//!
//! Formats are API: a change of layout is a new version, and [`Snapshot::OLDEST_VERSION`] says
//! how far back a build still reads ([`Reader::version`] tells a type's parser which layout it
//! is reading).
//!
//! # Example
//!
//! ```
//! use prepaid_meter::snapshot::{Field, Reader, Snapshot, SnapshotError, Writer};
//!
//! #[derive(Debug, PartialEq)]
//! struct Counter { value: u32, armed: bool }
//!
//! impl Field for Counter {
//!     fn write_to(&self, w: &mut Writer<'_>) -> Result<(), SnapshotError> {
//!         self.value.write_to(w)?;
//!         self.armed.write_to(w)
//!     }
//!     fn read_from(r: &mut Reader<'_>) -> Result<Self, SnapshotError> {
//!         Ok(Counter { value: u32::read_from(r)?, armed: bool::read_from(r)? })
//!     }
//! }
//! impl Snapshot for Counter {
//!     const MAGIC: [u8; 2] = *b"XC";
//!     const VERSION: u8 = 1;
//! }
//!
//! let c = Counter { value: 7, armed: true };
//! let mut buf = [0u8; 32];
//! let n = c.emit(&mut buf).unwrap();
//! assert_eq!(n, c.buffer_len());
//! assert_eq!(Counter::parse(&buf[..n]), Ok(Counter { value: 7, armed: true }));
//! buf[5] ^= 1; // one bit of the fields
//! assert_eq!(Counter::parse(&buf[..n]), Err(SnapshotError::BadChecksum));
//! ```
#![deny(clippy::indexing_slicing)]

use core::fmt;

use crate::time::Timestamp;
use crate::units::{Energy, Money, Price};

/// The CRC of every stored form in the crate: CRC-32/ISO-HDLC (the zlib/Ethernet CRC-32).
pub(crate) const CRC: crc::Crc<u32> = crc::Crc::<u32>::new(&crc::CRC_32_ISO_HDLC);

/// Bytes before the fields: magic, version, total length.
pub const HEADER_LEN: usize = 5;
/// Bytes after the fields: the CRC-32.
pub const CRC_LEN: usize = 4;

/// Why a stored form could not be written or read.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
#[non_exhaustive]
pub enum SnapshotError {
    /// The output buffer is shorter than [`Snapshot::buffer_len`].
    BufferTooSmall,
    /// The form would be longer than 65 535 bytes, or a count does not fit its field.
    TooLarge,
    /// Fewer bytes than the header, or than its length field says.
    Truncated,
    /// The bytes do not start with the magic of the kind of state asked for.
    BadMagic,
    /// A layout version this build does not read.
    UnsupportedVersion(u8),
    /// The CRC does not match: the bytes are corrupted.
    BadChecksum,
    /// More bytes than the length field says, or the fields end before or after the CRC.
    LengthMismatch,
    /// A field holds a value outside its encoding (a flag byte other than 0 or 1, an unknown
    /// tag, a count above the capacity, a value out of its type's range).
    InvalidField,
}

impl fmt::Display for SnapshotError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            SnapshotError::BufferTooSmall => f.write_str("buffer too small for the stored form"),
            SnapshotError::TooLarge => f.write_str("state too large for the stored form"),
            SnapshotError::Truncated => f.write_str("stored form truncated"),
            SnapshotError::BadMagic => f.write_str("not this kind of stored state (bad magic)"),
            SnapshotError::UnsupportedVersion(v) => {
                write!(f, "unsupported stored-form version {v}")
            }
            SnapshotError::BadChecksum => f.write_str("stored form CRC mismatch"),
            SnapshotError::LengthMismatch => f.write_str("stored form length mismatch"),
            SnapshotError::InvalidField => f.write_str("invalid field in stored form"),
        }
    }
}

impl core::error::Error for SnapshotError {}

/// Sequential output of fields into a buffer; counts bytes without writing when made by
/// [`Writer::counter`].
#[derive(Debug)]
pub struct Writer<'a> {
    out: Option<&'a mut [u8]>,
    pos: usize,
}

impl<'a> Writer<'a> {
    /// A writer that fills `out` from its start.
    pub fn new(out: &'a mut [u8]) -> Writer<'a> {
        Writer {
            out: Some(out),
            pos: 0,
        }
    }

    /// A writer that only counts the bytes it would write.
    pub fn counter() -> Writer<'static> {
        Writer { out: None, pos: 0 }
    }

    /// Bytes written (or counted) so far.
    pub fn position(&self) -> usize {
        self.pos
    }

    /// Appends `bytes`. Error: [`SnapshotError::BufferTooSmall`] (nothing is written then).
    pub fn put(&mut self, bytes: &[u8]) -> Result<(), SnapshotError> {
        let end = self
            .pos
            .checked_add(bytes.len())
            .ok_or(SnapshotError::TooLarge)?;
        if let Some(out) = self.out.as_deref_mut() {
            out.get_mut(self.pos..end)
                .ok_or(SnapshotError::BufferTooSmall)?
                .copy_from_slice(bytes);
        }
        self.pos = end;
        Ok(())
    }

    /// Appends a count as a `u16`. Error: [`SnapshotError::TooLarge`] above 65 535.
    pub fn count(&mut self, n: usize) -> Result<(), SnapshotError> {
        u16::try_from(n)
            .map_err(|_| SnapshotError::TooLarge)?
            .write_to(self)
    }
}

/// Sequential input of fields from a stored form.
#[derive(Clone, Debug)]
pub struct Reader<'a> {
    rest: &'a [u8],
    version: u8,
}

impl<'a> Reader<'a> {
    /// A reader over `bytes` holding fields of layout `version`.
    pub fn new(bytes: &'a [u8], version: u8) -> Reader<'a> {
        Reader {
            rest: bytes,
            version,
        }
    }

    /// The layout version of the fields being read.
    pub fn version(&self) -> u8 {
        self.version
    }

    /// Reads a value held inside the one being read whose own layout version is `version`:
    /// the outer state's version fixes the versions of the states it embeds, so its parser
    /// names them (say `MT` version 1 holds `SS` version 2 fields) and each embedded parser
    /// sees its own version through [`Reader::version`]. The reader's version is back to the
    /// outer one afterwards, on success or error.
    pub fn nested<T>(
        &mut self,
        version: u8,
        read: impl FnOnce(&mut Reader<'a>) -> Result<T, SnapshotError>,
    ) -> Result<T, SnapshotError> {
        let outer = core::mem::replace(&mut self.version, version);
        let value = read(self);
        self.version = outer;
        value
    }

    /// The bytes not read yet.
    pub fn remaining(&self) -> usize {
        self.rest.len()
    }

    /// The next `n` bytes. Error: [`SnapshotError::LengthMismatch`] if fewer are left.
    pub fn take(&mut self, n: usize) -> Result<&'a [u8], SnapshotError> {
        let (head, rest) = self
            .rest
            .split_at_checked(n)
            .ok_or(SnapshotError::LengthMismatch)?;
        self.rest = rest;
        Ok(head)
    }

    /// The next `N` bytes as an array.
    pub fn array<const N: usize>(&mut self) -> Result<[u8; N], SnapshotError> {
        let mut a = [0u8; N];
        a.copy_from_slice(self.take(N)?);
        Ok(a)
    }

    /// A `u16` count, refused with [`SnapshotError::InvalidField`] above `max`.
    pub fn count(&mut self, max: usize) -> Result<usize, SnapshotError> {
        let n = usize::from(u16::read_from(self)?);
        if n > max {
            return Err(SnapshotError::InvalidField);
        }
        Ok(n)
    }
}

/// A value with a binary field form: the building block of stored states.
///
/// `read_from` must accept exactly what `write_to` writes and refuse everything else that it
/// cannot represent with [`SnapshotError::InvalidField`]; it never panics.
pub trait Field: Sized {
    /// Appends the value's fields.
    fn write_to(&self, w: &mut Writer<'_>) -> Result<(), SnapshotError>;
    /// Reads a value written by [`Field::write_to`].
    fn read_from(r: &mut Reader<'_>) -> Result<Self, SnapshotError>;

    /// Reads a value written by [`Field::write_to`] into `self`, in place: it accepts and
    /// refuses exactly what [`Field::read_from`] does, and large values (rings of records, the
    /// structs holding them) read element by element instead of building the whole value on
    /// the stack and moving it, which a small MCU's stack cannot afford.
    ///
    /// On an error `self` holds some value of its type that is neither the old one nor
    /// checked: the caller resets it.
    fn read_into(&mut self, r: &mut Reader<'_>) -> Result<(), SnapshotError> {
        *self = Self::read_from(r)?;
        Ok(())
    }
}

/// A state stored on its own: its fields in the crate's frame (see the [module docs](self)).
pub trait Snapshot: Field {
    /// Two ASCII bytes naming the kind of state.
    const MAGIC: [u8; 2];
    /// The layout version this build writes.
    const VERSION: u8;
    /// The oldest layout version this build still reads (migration); by default only the
    /// current one.
    const OLDEST_VERSION: u8 = Self::VERSION;

    /// The length of the stored form in bytes.
    fn buffer_len(&self) -> usize {
        fields_len(|w| self.write_to(w))
    }

    /// Writes the stored form to the start of `out` and returns its length.
    ///
    /// Errors: [`SnapshotError::BufferTooSmall`], [`SnapshotError::TooLarge`].
    fn emit(&self, out: &mut [u8]) -> Result<usize, SnapshotError> {
        emit_fields::<Self>(out, |w| self.write_to(w))
    }

    /// Reads a stored form: checks magic, version, length and CRC, then the fields.
    ///
    /// `bytes` must be exactly one stored form. The result is a plain state: give it to the
    /// type's `restore` to check its meaning.
    fn parse(bytes: &[u8]) -> Result<Self, SnapshotError> {
        parse_fields::<Self, _>(bytes, Self::read_from)
    }

    /// [`Snapshot::parse`] into `self`, in place ([`Field::read_into`]): the same checks,
    /// without a temporary of the whole value. On an error `self` is to be reset (see
    /// [`Field::read_into`]); nothing is read into it unless the frame (magic, version,
    /// length, CRC) is sound.
    fn parse_into(&mut self, bytes: &[u8]) -> Result<(), SnapshotError> {
        parse_fields::<Self, _>(bytes, |r| self.read_into(r))
    }
}

/// The length of the stored form whose fields `fields` writes (see [`emit_fields`]).
pub(crate) fn fields_len(
    fields: impl FnOnce(&mut Writer<'_>) -> Result<(), SnapshotError>,
) -> usize {
    let mut w = Writer::counter();
    // A state whose fields do not fit reports the length they would take; `emit` refuses it.
    let _ = fields(&mut w);
    HEADER_LEN
        .saturating_add(w.position())
        .saturating_add(CRC_LEN)
}

/// Writes the stored form of `S` whose fields `fields` writes, to the start of `out`, and
/// returns its length: for a value kept in another shape than `S` (the live engines rather
/// than their states), written from where it lives without a copy. `fields` is called twice
/// (to count, then to write) and must write the same bytes both times.
///
/// Errors: [`SnapshotError::BufferTooSmall`], [`SnapshotError::TooLarge`].
pub(crate) fn emit_fields<S: Snapshot>(
    out: &mut [u8],
    fields: impl Fn(&mut Writer<'_>) -> Result<(), SnapshotError>,
) -> Result<usize, SnapshotError> {
    let len = fields_len(&fields);
    let total = u16::try_from(len).map_err(|_| SnapshotError::TooLarge)?;
    let out = out.get_mut(..len).ok_or(SnapshotError::BufferTooSmall)?;
    let mut w = Writer::new(out);
    w.put(&S::MAGIC)?;
    w.put(&[S::VERSION])?;
    w.put(&total.to_le_bytes())?;
    fields(&mut w)?;
    let body = w.pos;
    let out = w.out.ok_or(SnapshotError::BufferTooSmall)?;
    let (body_bytes, crc) = out
        .split_at_mut_checked(body)
        .ok_or(SnapshotError::TooLarge)?;
    let crc = crc
        .get_mut(..CRC_LEN)
        .ok_or(SnapshotError::LengthMismatch)?;
    crc.copy_from_slice(&CRC.checksum(body_bytes).to_le_bytes());
    Ok(len)
}

/// Checks the frame of a stored form of `S` (magic, version, length, CRC), then reads its
/// fields with `fields`, which must read them all: the reading half of [`emit_fields`].
///
/// Errors: as [`Snapshot::parse`], and whatever `fields` returns.
pub(crate) fn parse_fields<S: Snapshot, R>(
    bytes: &[u8],
    fields: impl FnOnce(&mut Reader<'_>) -> Result<R, SnapshotError>,
) -> Result<R, SnapshotError> {
    let header = bytes.get(..HEADER_LEN).ok_or(SnapshotError::Truncated)?;
    if header.get(..2) != Some(&S::MAGIC[..]) {
        return Err(SnapshotError::BadMagic);
    }
    let version = header.get(2).copied().ok_or(SnapshotError::Truncated)?;
    if version < S::OLDEST_VERSION || version > S::VERSION {
        return Err(SnapshotError::UnsupportedVersion(version));
    }
    let total = match header.get(3..5) {
        Some(&[lo, hi]) => usize::from(u16::from_le_bytes([lo, hi])),
        _ => return Err(SnapshotError::Truncated),
    };
    if bytes.len() < total {
        return Err(SnapshotError::Truncated);
    }
    if bytes.len() > total || total < HEADER_LEN + CRC_LEN {
        return Err(SnapshotError::LengthMismatch);
    }
    let (body, crc) = bytes
        .split_at_checked(total - CRC_LEN)
        .ok_or(SnapshotError::LengthMismatch)?;
    let crc = u32::from_le_bytes(crc.try_into().map_err(|_| SnapshotError::LengthMismatch)?);
    if CRC.checksum(body) != crc {
        return Err(SnapshotError::BadChecksum);
    }
    let mut r = Reader::new(body.get(HEADER_LEN..).unwrap_or(&[]), version);
    let state = fields(&mut r)?;
    if r.remaining() != 0 {
        return Err(SnapshotError::LengthMismatch);
    }
    Ok(state)
}

/// Frames `fields` as a stored form of `magic` and `version` into `out` (header, fields, CRC),
/// returning its length: for tests of older layouts, which this build no longer writes.
#[cfg(test)]
pub(crate) fn frame_for_tests(magic: [u8; 2], version: u8, fields: &[u8], out: &mut [u8]) -> usize {
    let len = HEADER_LEN + fields.len() + CRC_LEN;
    out[..2].copy_from_slice(&magic);
    out[2] = version;
    out[3..5].copy_from_slice(&u16::try_from(len).unwrap().to_le_bytes());
    out[HEADER_LEN..len - CRC_LEN].copy_from_slice(fields);
    let crc = CRC.checksum(&out[..len - CRC_LEN]);
    out[len - CRC_LEN..len].copy_from_slice(&crc.to_le_bytes());
    len
}

/// Implements [`Field`] for a struct, field by field in the order given (each field's own
/// form, nothing between them). Type parameters listed in `<...>` must implement [`Field`];
/// `const` parameters go in `[...]`.
macro_rules! struct_field {
    ($ty:ident $(< $($g:ident),+ >)? $([ $(const $c:ident : $ct:ty),+ ])? { $($f:ident),* $(,)? }) => {
        impl<$($($g: $crate::snapshot::Field,)+)? $($(const $c: $ct,)+)?> $crate::snapshot::Field
            for $ty<$($($g,)+)? $($($c,)+)?>
        {
            fn write_to(
                &self,
                w: &mut $crate::snapshot::Writer<'_>,
            ) -> Result<(), $crate::snapshot::SnapshotError> {
                $($crate::snapshot::Field::write_to(&self.$f, w)?;)*
                Ok(())
            }
            fn read_from(
                r: &mut $crate::snapshot::Reader<'_>,
            ) -> Result<Self, $crate::snapshot::SnapshotError> {
                Ok($ty { $($f: $crate::snapshot::Field::read_from(r)?,)* })
            }
            fn read_into(
                &mut self,
                r: &mut $crate::snapshot::Reader<'_>,
            ) -> Result<(), $crate::snapshot::SnapshotError> {
                $($crate::snapshot::Field::read_into(&mut self.$f, r)?;)*
                Ok(())
            }
        }
    };
}
pub(crate) use struct_field;

macro_rules! int_fields {
    ($($t:ty),*) => {$(
        impl Field for $t {
            fn write_to(&self, w: &mut Writer<'_>) -> Result<(), SnapshotError> {
                w.put(&self.to_le_bytes())
            }
            fn read_from(r: &mut Reader<'_>) -> Result<Self, SnapshotError> {
                Ok(<$t>::from_le_bytes(r.array()?))
            }
        }
    )*};
}
int_fields!(u8, u16, u32, u64, i8, i16, i32, i64);

impl Field for bool {
    fn write_to(&self, w: &mut Writer<'_>) -> Result<(), SnapshotError> {
        u8::from(*self).write_to(w)
    }
    fn read_from(r: &mut Reader<'_>) -> Result<Self, SnapshotError> {
        match u8::read_from(r)? {
            0 => Ok(false),
            1 => Ok(true),
            _ => Err(SnapshotError::InvalidField),
        }
    }
}

impl<T: Field> Field for Option<T> {
    fn write_to(&self, w: &mut Writer<'_>) -> Result<(), SnapshotError> {
        match self {
            None => false.write_to(w),
            Some(v) => {
                true.write_to(w)?;
                v.write_to(w)
            }
        }
    }
    fn read_from(r: &mut Reader<'_>) -> Result<Self, SnapshotError> {
        if bool::read_from(r)? {
            Ok(Some(T::read_from(r)?))
        } else {
            Ok(None)
        }
    }
}

impl<T: Field + Copy + Default, const N: usize> Field for [T; N] {
    fn write_to(&self, w: &mut Writer<'_>) -> Result<(), SnapshotError> {
        self.iter().try_for_each(|v| v.write_to(w))
    }
    fn read_from(r: &mut Reader<'_>) -> Result<Self, SnapshotError> {
        let mut out = [T::default(); N];
        for slot in out.iter_mut() {
            *slot = T::read_from(r)?;
        }
        Ok(out)
    }
}

impl<T: Field, const N: usize> Field for heapless::Vec<T, N> {
    fn write_to(&self, w: &mut Writer<'_>) -> Result<(), SnapshotError> {
        w.count(self.len())?;
        self.iter().try_for_each(|v| v.write_to(w))
    }
    fn read_from(r: &mut Reader<'_>) -> Result<Self, SnapshotError> {
        let mut out = heapless::Vec::new();
        out.read_into(r)?;
        Ok(out)
    }
    fn read_into(&mut self, r: &mut Reader<'_>) -> Result<(), SnapshotError> {
        let n = r.count(N)?;
        self.clear();
        for _ in 0..n {
            self.push(T::read_from(r)?)
                .map_err(|_| SnapshotError::InvalidField)?;
        }
        Ok(())
    }
}

impl Field for Energy {
    fn write_to(&self, w: &mut Writer<'_>) -> Result<(), SnapshotError> {
        self.wh().write_to(w)
    }
    fn read_from(r: &mut Reader<'_>) -> Result<Self, SnapshotError> {
        Ok(Energy::from_wh(i64::read_from(r)?))
    }
}

impl Field for Money {
    fn write_to(&self, w: &mut Writer<'_>) -> Result<(), SnapshotError> {
        self.minor().write_to(w)
    }
    fn read_from(r: &mut Reader<'_>) -> Result<Self, SnapshotError> {
        Ok(Money::from_minor(i64::read_from(r)?))
    }
}

impl Field for Price {
    fn write_to(&self, w: &mut Writer<'_>) -> Result<(), SnapshotError> {
        self.minor_per_kwh().write_to(w)
    }
    fn read_from(r: &mut Reader<'_>) -> Result<Self, SnapshotError> {
        Ok(Price::from_minor_per_kwh(u32::read_from(r)?))
    }
}

impl Field for Timestamp {
    fn write_to(&self, w: &mut Writer<'_>) -> Result<(), SnapshotError> {
        self.unix().write_to(w)
    }
    fn read_from(r: &mut Reader<'_>) -> Result<Self, SnapshotError> {
        Ok(Timestamp::from_unix(i64::read_from(r)?))
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::indexing_slicing)]
    use super::*;

    #[derive(Debug, PartialEq, Clone)]
    struct Sample {
        a: u32,
        b: Option<Money>,
        c: [Energy; 3],
        d: heapless::Vec<Timestamp, 4>,
        e: bool,
    }

    impl Field for Sample {
        fn write_to(&self, w: &mut Writer<'_>) -> Result<(), SnapshotError> {
            self.a.write_to(w)?;
            self.b.write_to(w)?;
            self.c.write_to(w)?;
            self.d.write_to(w)?;
            self.e.write_to(w)
        }
        fn read_from(r: &mut Reader<'_>) -> Result<Self, SnapshotError> {
            Ok(Sample {
                a: Field::read_from(r)?,
                b: Field::read_from(r)?,
                c: Field::read_from(r)?,
                d: Field::read_from(r)?,
                e: Field::read_from(r)?,
            })
        }
    }

    impl Snapshot for Sample {
        const MAGIC: [u8; 2] = *b"ZZ";
        const VERSION: u8 = 2;
        const OLDEST_VERSION: u8 = 1;
    }

    fn sample() -> Sample {
        let mut d = heapless::Vec::new();
        d.push(Timestamp::from_unix(-5)).unwrap();
        d.push(Timestamp::from_unix(1_700_000_000)).unwrap();
        Sample {
            a: 0xDEAD_BEEF,
            b: Some(Money::from_minor(-42)),
            c: [
                Energy::from_wh(1),
                Energy::from_wh(-2),
                Energy::from_wh(i64::MAX),
            ],
            d,
            e: true,
        }
    }

    #[test]
    fn round_trips_and_layout() {
        let s = sample();
        let mut buf = [0u8; 128];
        let n = s.emit(&mut buf).unwrap();
        // 5 header + 4 + (1+8) + 24 + (2+16) + 1 + 4 CRC
        assert_eq!(n, 65);
        assert_eq!(n, s.buffer_len());
        assert_eq!(&buf[..5], &[b'Z', b'Z', 2, 65, 0]);
        assert_eq!(&buf[5..9], &0xDEAD_BEEFu32.to_le_bytes());
        let crc = CRC.checksum(&buf[..n - 4]);
        assert_eq!(&buf[n - 4..n], &crc.to_le_bytes());
        assert_eq!(Sample::parse(&buf[..n]), Ok(s));
    }

    #[test]
    fn every_bit_flip_and_truncation_is_refused() {
        let s = sample();
        let mut buf = [0u8; 128];
        let n = s.emit(&mut buf).unwrap();
        for i in 0..n {
            for bit in 0..8 {
                let mut b = buf;
                b[i] ^= 1 << bit;
                assert!(Sample::parse(&b[..n]).is_err(), "byte {i} bit {bit}");
            }
        }
        for len in 0..n {
            assert!(Sample::parse(&buf[..len]).is_err(), "length {len}");
        }
        assert_eq!(
            Sample::parse(&buf[..n + 1]),
            Err(SnapshotError::LengthMismatch)
        );
    }

    #[test]
    fn header_errors_are_typed() {
        let s = sample();
        let mut buf = [0u8; 128];
        let n = s.emit(&mut buf).unwrap();
        let mut b = buf;
        b[0] = b'Y';
        assert_eq!(Sample::parse(&b[..n]), Err(SnapshotError::BadMagic));
        for v in [0u8, 3, 255] {
            let mut b = buf;
            b[2] = v;
            assert_eq!(
                Sample::parse(&b[..n]),
                Err(SnapshotError::UnsupportedVersion(v))
            );
        }
        assert_eq!(Sample::parse(&buf[..3]), Err(SnapshotError::Truncated));
        assert_eq!(Sample::parse(&buf[..n - 1]), Err(SnapshotError::Truncated));
        assert_eq!(s.emit(&mut [0u8; 64]), Err(SnapshotError::BufferTooSmall));
    }

    /// A frame whose CRC is right but whose fields are not valid is refused by field checks.
    #[test]
    fn invalid_fields_with_a_good_crc_are_refused() {
        let s = sample();
        let mut buf = [0u8; 128];
        let n = s.emit(&mut buf).unwrap();
        let reseal = |b: &mut [u8]| {
            let crc = CRC.checksum(&b[..n - 4]);
            b[n - 4..n].copy_from_slice(&crc.to_le_bytes());
        };
        // The `Option` tag of `b` (byte 9) set to 2.
        let mut b = buf;
        b[9] = 2;
        reseal(&mut b);
        assert_eq!(Sample::parse(&b[..n]), Err(SnapshotError::InvalidField));
        // The Vec count (bytes 42..44) set above the capacity.
        let mut b = buf;
        b[42] = 5;
        reseal(&mut b);
        assert_eq!(Sample::parse(&b[..n]), Err(SnapshotError::InvalidField));
        // The final bool set to 7.
        let mut b = buf;
        b[n - 5] = 7;
        reseal(&mut b);
        assert_eq!(Sample::parse(&b[..n]), Err(SnapshotError::InvalidField));
    }
}
