//! embedded-storage adapters (feature `storage`).
//!
//! [`RecordStore`] keeps one record (a few bytes to a few kilobytes of state: registers,
//! balance, counters) in two erase sectors of NOR flash so that a power cut at any moment leaves
//! either the previous or the new record readable, never neither and never a mixture.
//!
//! ```
//! # use prepaid_meter::mock::MockFlash; // the crate's simulated flash (feature `_test`)
//! # fn flash() -> MockFlash<512> { MockFlash::new() } // your HAL's NorFlash driver
//! use prepaid_meter::storage::RecordStore;
//!
//! let mut store = RecordStore::new(flash(), 0).unwrap();
//! store.save(1, b"state after a recharge").unwrap(); // durable when this returns
//! let mut buf = [0u8; 64];
//! let record = store.load(&mut buf).unwrap().unwrap(); // at start-up
//! assert_eq!(record.data, b"state after a recharge");
//! ```
//!
//! # Stored format (version 1)
//!
//! Each of the two slots is one erase sector. A slot holds a 32-byte header followed by the data,
//! padded with `FF` to a multiple of 32 bytes. All integers are little-endian.
//!
//! | offset | size | field |
//! |---|---|---|
//! | 0 | 4 | magic `PMRS` |
//! | 4 | 1 | store format version, `1` |
//! | 5 | 1 | reserved, `0` |
//! | 6 | 2 | schema version of the data (the caller's) |
//! | 8 | 4 | sequence number, one more than the previous save (wrapping) |
//! | 12 | 4 | data length in bytes |
//! | 16 | 4 | CRC-32 (ISO-HDLC) of the data |
//! | 20 | 8 | reserved, `0` |
//! | 28 | 4 | CRC-32 (ISO-HDLC) of bytes 0..28 |
//!
//! A save erases the slot that does not hold the newest valid record, writes the data, and
//! writes the header last: until the header is complete, the slot is invalid and the other slot
//! still holds the previous record. Loading picks the valid slot with the later sequence number.
//! Changing this layout is a breaking change of the crate, with a migration path for stored
//! data.

use core::fmt;

use embedded_storage::nor_flash::NorFlash;

use crate::snapshot::CRC as CRC32;
const MAGIC: [u8; 4] = *b"PMRS";
const FORMAT_VERSION: u8 = 1;
/// Bytes of the slot header, and the granularity of every flash access the store makes.
pub const HEADER_LEN: usize = 32;
const CHUNK: usize = HEADER_LEN;

/// Why the store could not be opened, read or written.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
#[non_exhaustive]
pub enum StorageError<E> {
    /// The flash driver failed.
    Flash(E),
    /// The flash geometry does not suit the store: read or write size not dividing 32 bytes,
    /// an erase sector smaller than 64 bytes, or a base not on a sector boundary, or the two
    /// sectors not inside the flash.
    Geometry,
    /// The record is larger than a slot can hold (sector size minus the header).
    TooLarge,
    /// The caller's buffer is smaller than the stored record.
    BufferTooSmall,
}

impl<E: fmt::Debug> fmt::Display for StorageError<E> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            StorageError::Flash(e) => write!(f, "flash error: {e:?}"),
            StorageError::Geometry => f.write_str("flash geometry unsuitable for the record store"),
            StorageError::TooLarge => f.write_str("record larger than a slot"),
            StorageError::BufferTooSmall => f.write_str("buffer smaller than the stored record"),
        }
    }
}

impl<E: fmt::Debug> core::error::Error for StorageError<E> {}

/// A record read back by [`RecordStore::load`].
#[derive(Debug, PartialEq, Eq)]
pub struct Loaded<'a> {
    /// The record's data.
    pub data: &'a [u8],
    /// The schema version the record was saved with.
    pub schema_version: u16,
    /// The sequence number of the save that wrote it.
    pub sequence: u32,
}

/// A slot number and the valid header found there.
type SlotHeader = (u32, Header);

#[derive(Clone, Copy, Debug)]
struct Header {
    schema_version: u16,
    sequence: u32,
    len: u32,
    data_crc: u32,
}

impl Header {
    fn encode(&self) -> [u8; HEADER_LEN] {
        let mut h = [0u8; HEADER_LEN];
        let fields: [(usize, &[u8]); 6] = [
            (0, &MAGIC),
            (4, &[FORMAT_VERSION, 0]),
            (6, &self.schema_version.to_le_bytes()),
            (8, &self.sequence.to_le_bytes()),
            (12, &self.len.to_le_bytes()),
            (16, &self.data_crc.to_le_bytes()),
        ];
        for (at, bytes) in fields {
            if let Some(dst) = h.get_mut(at..at + bytes.len()) {
                dst.copy_from_slice(bytes);
            }
        }
        let crc = CRC32.checksum(h.get(..28).unwrap_or(&[]));
        if let Some(dst) = h.get_mut(28..32) {
            dst.copy_from_slice(&crc.to_le_bytes());
        }
        h
    }

    fn decode(h: &[u8; HEADER_LEN]) -> Option<Header> {
        let [
            m0,
            m1,
            m2,
            m3,
            ver,
            _,
            s0,
            s1,
            q0,
            q1,
            q2,
            q3,
            l0,
            l1,
            l2,
            l3,
            c0,
            c1,
            c2,
            c3,
            ..,
            k0,
            k1,
            k2,
            k3,
        ] = *h;
        if [m0, m1, m2, m3] != MAGIC || ver != FORMAT_VERSION {
            return None;
        }
        if CRC32.checksum(h.get(..28)?) != u32::from_le_bytes([k0, k1, k2, k3]) {
            return None;
        }
        Some(Header {
            schema_version: u16::from_le_bytes([s0, s1]),
            sequence: u32::from_le_bytes([q0, q1, q2, q3]),
            len: u32::from_le_bytes([l0, l1, l2, l3]),
            data_crc: u32::from_le_bytes([c0, c1, c2, c3]),
        })
    }
}

/// One record kept power-fail safe in two erase sectors of NOR flash, starting at `base`.
///
/// ```
/// # use prepaid_meter::mock::MockFlash; // the crate's simulated flash (feature `_test`)
/// use prepaid_meter::storage::RecordStore;
/// let mut store = RecordStore::new(MockFlash::<512>::new(), 0).unwrap();
/// let mut buf = [0u8; 64];
/// assert!(store.load(&mut buf).unwrap().is_none());
/// store.save(1, b"balance=198.56").unwrap();
/// store.save(1, b"balance=197.02").unwrap();
/// let rec = store.load(&mut buf).unwrap().unwrap();
/// assert_eq!((rec.data, rec.sequence), (&b"balance=197.02"[..], 1));
/// ```
#[derive(Debug)]
pub struct RecordStore<F> {
    flash: F,
    base: u32,
}

impl<F: NorFlash> RecordStore<F> {
    /// A store over the two erase sectors at `base` and `base + ERASE_SIZE`.
    ///
    /// Errors: [`StorageError::Geometry`] if the flash cannot be used (see its documentation).
    pub fn new(flash: F, base: u32) -> Result<Self, StorageError<F::Error>> {
        let geometry_ok = F::READ_SIZE > 0
            && F::WRITE_SIZE > 0
            && CHUNK.is_multiple_of(F::READ_SIZE)
            && CHUNK.is_multiple_of(F::WRITE_SIZE)
            && F::ERASE_SIZE >= 2 * CHUNK
            && F::ERASE_SIZE.is_multiple_of(CHUNK)
            && (base as usize).is_multiple_of(F::ERASE_SIZE)
            && (base as usize)
                .checked_add(2 * F::ERASE_SIZE)
                .is_some_and(|end| end <= flash.capacity() && u32::try_from(end).is_ok());
        if !geometry_ok {
            return Err(StorageError::Geometry);
        }
        Ok(RecordStore { flash, base })
    }

    /// The largest record a slot holds.
    pub const fn max_len() -> usize {
        F::ERASE_SIZE.saturating_sub(HEADER_LEN)
    }

    /// Gives the flash back.
    pub fn release(self) -> F {
        self.flash
    }

    fn slot_offset(&self, slot: u32) -> u32 {
        // Checked at construction: base + 2 × ERASE_SIZE fits u32.
        self.base + slot * F::ERASE_SIZE as u32
    }

    fn read_header(&mut self, slot: u32) -> Result<Option<Header>, StorageError<F::Error>> {
        let mut h = [0u8; HEADER_LEN];
        let at = self.slot_offset(slot);
        self.flash.read(at, &mut h).map_err(StorageError::Flash)?;
        Ok(Header::decode(&h).filter(|h| h.len as usize <= Self::max_len()))
    }

    /// The valid slots' headers, newest first.
    fn scan(&mut self) -> Result<[Option<SlotHeader>; 2], StorageError<F::Error>> {
        let a = self.read_header(0)?.map(|h| (0, h));
        let b = self.read_header(1)?.map(|h| (1, h));
        Ok(match (a, b) {
            (Some(x), Some(y)) if newer(y.1.sequence, x.1.sequence) => [Some(y), Some(x)],
            (Some(x), y) => [Some(x), y],
            (None, y) => [y, None],
        })
    }

    /// Reads the newest valid record into `buf`; `Ok(None)` if no record was ever completely
    /// saved. A slot whose header or data does not check out is passed over.
    ///
    /// Errors: [`StorageError::BufferTooSmall`] if `buf` cannot hold the newest record (nothing
    /// is returned then, even if an older record would fit), or a flash error.
    pub fn load<'b>(
        &mut self,
        buf: &'b mut [u8],
    ) -> Result<Option<Loaded<'b>>, StorageError<F::Error>> {
        for (slot, h) in self.scan()?.into_iter().flatten() {
            if self.check_data(slot, &h, Some(&mut *buf))? {
                let data = buf
                    .get(..h.len as usize)
                    .ok_or(StorageError::BufferTooSmall)?;
                return Ok(Some(Loaded {
                    data,
                    schema_version: h.schema_version,
                    sequence: h.sequence,
                }));
            }
        }
        Ok(None)
    }

    /// Saves `data` as the new record. When this returns `Ok`, the record is durable; if power
    /// fails before, [`load`](Self::load) returns the previous record.
    ///
    /// Errors: [`StorageError::TooLarge`] (nothing written), or a flash error.
    pub fn save(&mut self, schema_version: u16, data: &[u8]) -> Result<(), StorageError<F::Error>> {
        if data.len() > Self::max_len() {
            return Err(StorageError::TooLarge);
        }
        let mut newest = None;
        for (slot, h) in self.scan()?.into_iter().flatten() {
            // A slot holds the newest record only if its data checks out too; otherwise the
            // other slot's record is the one to keep.
            if self.check_data(slot, &h, None)? {
                newest = Some((slot, h.sequence));
                break;
            }
        }
        let (target, sequence) = match newest {
            Some((slot, seq)) => (1 - slot, seq.wrapping_add(1)),
            None => (0, 0),
        };
        let at = self.slot_offset(target);
        self.flash
            .erase(at, at + F::ERASE_SIZE as u32)
            .map_err(StorageError::Flash)?;
        let mut w = at + HEADER_LEN as u32;
        for part in data.chunks(CHUNK) {
            let mut chunk = [0xFFu8; CHUNK];
            if let Some(dst) = chunk.get_mut(..part.len()) {
                dst.copy_from_slice(part);
            }
            self.flash.write(w, &chunk).map_err(StorageError::Flash)?;
            w += CHUNK as u32;
        }
        let header = Header {
            schema_version,
            sequence,
            // data.len() <= max_len() < ERASE_SIZE, which fits u32 (checked at construction).
            len: data.len() as u32,
            data_crc: CRC32.checksum(data),
        };
        self.flash
            .write(at, &header.encode())
            .map_err(StorageError::Flash)
    }

    /// Checks the CRC of `slot`'s data, copying the data into `copy` if one is given (it must
    /// hold the whole record). `Ok(false)` if the CRC does not match.
    fn check_data(
        &mut self,
        slot: u32,
        h: &Header,
        mut copy: Option<&mut [u8]>,
    ) -> Result<bool, StorageError<F::Error>> {
        let len = h.len as usize;
        if copy.as_ref().is_some_and(|b| b.len() < len) {
            return Err(StorageError::BufferTooSmall);
        }
        let mut at = self.slot_offset(slot) + HEADER_LEN as u32;
        let mut digest = CRC32.digest();
        let mut done = 0;
        while done < len {
            let mut chunk = [0u8; CHUNK];
            self.flash
                .read(at, &mut chunk)
                .map_err(StorageError::Flash)?;
            let n = (len - done).min(CHUNK);
            let part = chunk.get(..n).unwrap_or(&[]);
            digest.update(part);
            if let Some(dst) = copy.as_deref_mut().and_then(|b| b.get_mut(done..done + n)) {
                dst.copy_from_slice(part);
            }
            done += n;
            at += CHUNK as u32;
        }
        Ok(digest.finalize() == h.data_crc)
    }
}

/// `a` is later than `b` in wrapping sequence order.
fn newer(a: u32, b: u32) -> bool {
    let d = a.wrapping_sub(b);
    d != 0 && d < 1 << 31
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn header_round_trip_and_corruption() {
        let h = Header {
            schema_version: 7,
            sequence: 0xFFFF_FFFF,
            len: 12,
            data_crc: 0xDEAD_BEEF,
        };
        let bytes = h.encode();
        let back = Header::decode(&bytes).unwrap();
        assert_eq!(
            (back.schema_version, back.sequence, back.len, back.data_crc),
            (7, u32::MAX, 12, 0xDEAD_BEEF)
        );
        for i in 0..HEADER_LEN {
            let mut bad = bytes;
            bad[i] ^= 0x10;
            assert!(Header::decode(&bad).is_none(), "flip in byte {i}");
        }
        assert!(Header::decode(&[0xFF; HEADER_LEN]).is_none());
    }

    #[test]
    fn wrapping_sequence_order() {
        assert!(newer(1, 0));
        assert!(newer(0, u32::MAX));
        assert!(!newer(5, 5));
        assert!(!newer(0, 1));
    }
}
