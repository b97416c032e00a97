//! One area of the meter store: a ring of fixed-size record slots, written in turn, each record
//! committed by a header written after its payload and a tail written after the header.
//!
//! The layout and the guarantees are documented in the [`storage`](super) module.
#![deny(clippy::indexing_slicing)]

use core::num::NonZeroU32;

use super::medium::Medium;
use super::{AreaLayout, StoreError};
use crate::snapshot::CRC;

/// Bytes of a record head, a record tail and a page header; also the alignment of everything
/// the store writes.
pub(crate) const UNIT: u32 = 32;
const HEAD_MAGIC: [u8; 2] = *b"PH";
const TAIL_MAGIC: [u8; 2] = *b"PT";
const PAGE_MAGIC: [u8; 2] = *b"PP";
const FORMAT_VERSION: u8 = 1;
const BLANK: [u8; UNIT as usize] = [0xFF; UNIT as usize];

/// What a record's head (and its tail, a copy) says.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Mark {
    pub seq: u32,
    pub len: u16,
    pub payload_crc: u32,
    pub guard: u64,
}

impl Mark {
    fn emit(&self, magic: [u8; 2], area: u8) -> [u8; UNIT as usize] {
        let mut b = [0u8; UNIT as usize];
        let fields: [(usize, &[u8]); 6] = [
            (0, &magic),
            (2, &[FORMAT_VERSION, area]),
            (4, &self.seq.to_le_bytes()),
            (8, &self.len.to_le_bytes()),
            (12, &self.payload_crc.to_le_bytes()),
            (16, &self.guard.to_le_bytes()),
        ];
        for (at, bytes) in fields {
            if let Some(dst) = b.get_mut(at..at + bytes.len()) {
                dst.copy_from_slice(bytes);
            }
        }
        seal(&mut b);
        b
    }

    fn parse(b: &[u8; UNIT as usize], magic: [u8; 2], area: u8) -> Option<Mark> {
        if !sealed(b) || b.get(..2)? != magic || b.get(2..4)? != [FORMAT_VERSION, area] {
            return None;
        }
        Some(Mark {
            seq: u32::from_le_bytes(b.get(4..8)?.try_into().ok()?),
            len: u16::from_le_bytes(b.get(8..10)?.try_into().ok()?),
            payload_crc: u32::from_le_bytes(b.get(12..16)?.try_into().ok()?),
            guard: u64::from_le_bytes(b.get(16..24)?.try_into().ok()?),
        })
    }
}

/// Writes the CRC of bytes 0..28 into 28..32.
fn seal(b: &mut [u8; UNIT as usize]) {
    let crc = CRC.checksum(b.get(..28).unwrap_or(&[]));
    if let Some(dst) = b.get_mut(28..32) {
        dst.copy_from_slice(&crc.to_le_bytes());
    }
}

fn sealed(b: &[u8; UNIT as usize]) -> bool {
    match (b.get(..28), b.get(28..32)) {
        (Some(body), Some(crc)) => crc == CRC.checksum(body).to_le_bytes(),
        _ => false,
    }
}

/// What a slot holds.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Slot {
    /// Head and tail erased: never written, or a write cut before its head was complete.
    Empty,
    /// A complete record: its head and payload check out.
    Valid(Mark),
    /// A complete record whose head is damaged but whose tail and payload check out: usable,
    /// and reported.
    Damaged(Mark),
    /// Corrupted after it was written: a complete head or tail whose payload does not match, or
    /// a written tail beside a broken head. The mark, where one survives, says which record.
    Corrupt(Option<Mark>),
}

/// Where the area's slots lie.
///
/// The counts that slot numbers are divided by are `NonZeroU32`: construction guarantees them,
/// and the type lets the compiler see it, so no division by zero (nor its panic) is linked.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Geometry {
    base: u32,
    pages: NonZeroU32,
    page_size: u32,
    page_header: u32,
    slot_size: u32,
    slots_per_page: NonZeroU32,
    /// `pages * slots_per_page`.
    slots: NonZeroU32,
    pub max_payload: u32,
}

impl Default for Geometry {
    /// A placeholder for the store's unused areas (never read): one page of one slot.
    fn default() -> Geometry {
        Geometry {
            base: 0,
            pages: NonZeroU32::MIN,
            page_size: 0,
            page_header: 0,
            slot_size: 0,
            slots_per_page: NonZeroU32::MIN,
            slots: NonZeroU32::MIN,
            max_payload: 0,
        }
    }
}

fn round_up(n: u32, to: u32) -> Option<u32> {
    n.checked_add(to.checked_sub(1)?)?
        .checked_div(to)?
        .checked_mul(to)
}

impl Geometry {
    pub fn new<E>(
        layout: &AreaLayout,
        erase_size: u32,
        write_size: u32,
        needs_erase: bool,
        capacity: u32,
    ) -> Result<Geometry, StoreError<E>> {
        let bad = StoreError::Layout;
        if write_size == 0 || !UNIT.is_multiple_of(write_size) || !layout.base.is_multiple_of(UNIT)
        {
            return Err(bad);
        }
        let max_payload = u32::from(layout.max_payload);
        let slot_size = round_up(max_payload, UNIT)
            .and_then(|p| p.checked_add(2 * UNIT))
            .ok_or(StoreError::Layout)?;
        let (page_header, page_size) = if needs_erase {
            if erase_size == 0 || !layout.base.is_multiple_of(erase_size) {
                return Err(bad);
            }
            (
                UNIT,
                round_up(UNIT + slot_size, erase_size.max(UNIT)).ok_or(StoreError::Layout)?,
            )
        } else {
            (0, slot_size)
        };
        let pages = layout.len / page_size;
        let end = layout
            .base
            .checked_add(layout.len)
            .ok_or(StoreError::Layout)?;
        if pages < 2 || end > capacity || !page_size.is_multiple_of(UNIT) {
            return Err(bad);
        }
        // At least one slot per page: a page holds its header and one slot (NOR), or is one
        // slot (no erase). Zero cannot occur, and is rejected rather than divided by.
        let pages = NonZeroU32::new(pages).ok_or(StoreError::Layout)?;
        let slots_per_page =
            NonZeroU32::new((page_size - page_header) / slot_size).ok_or(StoreError::Layout)?;
        let slots = pages
            .checked_mul(slots_per_page)
            .ok_or(StoreError::Layout)?;
        Ok(Geometry {
            base: layout.base,
            pages,
            page_size,
            page_header,
            slot_size,
            slots_per_page,
            slots,
            max_payload,
        })
    }

    pub fn slots(&self) -> u32 {
        self.slots.get()
    }

    /// The page `slot` lies in.
    pub fn page_of(&self, slot: u32) -> u32 {
        slot / self.slots_per_page
    }

    fn page_offset(&self, page: u32) -> u32 {
        self.base + page * self.page_size
    }

    fn slot_offset(&self, slot: u32) -> u32 {
        self.page_offset(self.page_of(slot))
            + self.page_header
            + (slot % self.slots_per_page) * self.slot_size
    }

    /// The bytes one record of the area occupies on the medium (head, padded payload, tail).
    pub fn slot_size(&self) -> u32 {
        self.slot_size
    }

    /// The bytes of one page (one slot on a medium that needs no erase).
    pub fn page_size(&self) -> u32 {
        self.page_size
    }
}

/// One area: its geometry, and what opening found in it.
#[derive(Clone, Copy, Debug, Default)]
pub(crate) struct Area {
    pub id: u8,
    pub geometry: Geometry,
    /// The slot and mark of the area's committed record.
    pub current: Option<(u32, Mark)>,
    /// The slot written last (the ring continues after it).
    pub last_written: Option<u32>,
    /// The highest page erase count seen or made (NOR).
    pub erase_count: u32,
    /// The highest page erase count found when the store was opened: the count given to a
    /// page whose header was lost (so wear is never under-counted).
    pub erase_floor: u32,
    /// A slot made writable ahead of time ([`Area::prepare`]).
    pub prepared: Option<u32>,
}

fn read_unit<M: Medium>(m: &mut M, at: u32) -> Result<[u8; UNIT as usize], StoreError<M::Error>> {
    let mut b = [0u8; UNIT as usize];
    m.read(at, &mut b).map_err(StoreError::Medium)?;
    Ok(b)
}

impl Area {
    fn head_at(&self, slot: u32) -> u32 {
        self.geometry.slot_offset(slot)
    }

    fn tail_at(&self, slot: u32) -> u32 {
        self.geometry.slot_offset(slot) + self.geometry.slot_size - UNIT
    }

    fn payload_at(&self, slot: u32) -> u32 {
        self.geometry.slot_offset(slot) + UNIT
    }

    /// `true` if the page's header is intact (NOR); always on a medium that needs no erase.
    pub fn page_live<M: Medium>(&self, m: &mut M, page: u32) -> Result<bool, StoreError<M::Error>> {
        if self.geometry.page_header == 0 {
            return Ok(true);
        }
        Ok(self.page_header(m, page)?.is_some())
    }

    fn page_header<M: Medium>(
        &self,
        m: &mut M,
        page: u32,
    ) -> Result<Option<u32>, StoreError<M::Error>> {
        let b = read_unit(m, self.geometry.page_offset(page))?;
        if !sealed(&b) || b.get(..2) != Some(&PAGE_MAGIC[..]) {
            return Ok(None);
        }
        if b.get(2..4) != Some(&[FORMAT_VERSION, self.id][..]) {
            return Ok(None);
        }
        Ok(b.get(4..8)
            .and_then(|c| c.try_into().ok())
            .map(u32::from_le_bytes))
    }

    /// The CRC of `len` payload bytes of `slot`.
    fn payload_crc<M: Medium>(
        &self,
        m: &mut M,
        slot: u32,
        len: u32,
    ) -> Result<u32, StoreError<M::Error>> {
        let mut digest = CRC.digest();
        let mut at = self.payload_at(slot);
        let mut left = len;
        let mut b = [0u8; UNIT as usize];
        while left > 0 {
            let n = left.min(UNIT);
            let chunk = b.get_mut(..n as usize).ok_or(StoreError::Layout)?;
            m.read(at, chunk).map_err(StoreError::Medium)?;
            digest.update(chunk);
            at += n;
            left -= n;
        }
        Ok(digest.finalize())
    }

    /// What `slot` holds.
    pub fn inspect<M: Medium>(&self, m: &mut M, slot: u32) -> Result<Slot, StoreError<M::Error>> {
        let head = read_unit(m, self.head_at(slot))?;
        let tail = read_unit(m, self.tail_at(slot))?;
        let checked = |m: &mut M, mark: Mark, head: bool| -> Result<Slot, StoreError<M::Error>> {
            if u32::from(mark.len) > self.geometry.max_payload
                || self.payload_crc(m, slot, u32::from(mark.len))? != mark.payload_crc
            {
                return Ok(Slot::Corrupt(Some(mark)));
            }
            Ok(if head {
                Slot::Valid(mark)
            } else {
                Slot::Damaged(mark)
            })
        };
        match (
            Mark::parse(&head, HEAD_MAGIC, self.id),
            Mark::parse(&tail, TAIL_MAGIC, self.id),
        ) {
            // The head is written only once the payload is complete.
            (Some(mark), _) => checked(m, mark, true),
            // The tail is written only after the head: the head broke later.
            (None, Some(mark)) => checked(m, mark, false),
            (None, None) if tail == BLANK => Ok(Slot::Empty),
            (None, None) => Ok(Slot::Corrupt(None)),
        }
    }

    /// Reads the payload of the committed record into `buf`, checking it again.
    pub fn read<M: Medium>(
        &self,
        m: &mut M,
        buf: &mut [u8],
    ) -> Result<Option<usize>, StoreError<M::Error>> {
        let Some((slot, mark)) = self.current else {
            return Ok(None);
        };
        let len = usize::from(mark.len);
        let out = buf.get_mut(..len).ok_or(StoreError::BufferTooSmall)?;
        m.read(self.payload_at(slot), out)
            .map_err(StoreError::Medium)?;
        if CRC.checksum(out) != mark.payload_crc {
            return Err(StoreError::Corrupted);
        }
        Ok(Some(len))
    }

    /// Reads the bytes of the committed record from `skip` on into `buf` (exactly its length).
    pub fn read_part<M: Medium>(
        &self,
        m: &mut M,
        skip: u32,
        buf: &mut [u8],
    ) -> Result<(), StoreError<M::Error>> {
        let (slot, _) = self.current.ok_or(StoreError::Corrupted)?;
        m.read(self.payload_at(slot) + skip, buf)
            .map_err(StoreError::Medium)
    }

    /// `true` if every byte of `slot` is erased (NOR: the slot can be written).
    fn slot_blank<M: Medium>(&self, m: &mut M, slot: u32) -> Result<bool, StoreError<M::Error>> {
        let mut at = self.geometry.slot_offset(slot);
        let end = at + self.geometry.slot_size;
        while at < end {
            if read_unit(m, at)? != BLANK {
                return Ok(false);
            }
            at += UNIT;
        }
        Ok(true)
    }

    /// Erases `page` and writes its header (NOR).
    fn renew_page<M: Medium>(&mut self, m: &mut M, page: u32) -> Result<(), StoreError<M::Error>> {
        let from = self.geometry.page_offset(page);
        let previous = self.page_header(m, page)?.unwrap_or(self.erase_floor);
        let count = previous.saturating_add(1);
        m.erase(from, from + self.geometry.page_size)
            .map_err(StoreError::Medium)?;
        let mut h = [0u8; UNIT as usize];
        if let Some(dst) = h.get_mut(..8) {
            dst.copy_from_slice(&[
                PAGE_MAGIC[0],
                PAGE_MAGIC[1],
                FORMAT_VERSION,
                self.id,
                0,
                0,
                0,
                0,
            ]);
        }
        if let Some(dst) = h.get_mut(4..8) {
            dst.copy_from_slice(&count.to_le_bytes());
        }
        seal(&mut h);
        m.write(from, &h).map_err(StoreError::Medium)?;
        self.erase_count = self.erase_count.max(count);
        Ok(())
    }

    /// Picks the next slot to write and makes it writable, never touching the committed
    /// record's slot (nor, on NOR, its page).
    fn prepare_slot<M: Medium>(&mut self, m: &mut M) -> Result<u32, StoreError<M::Error>> {
        let slots = self.geometry.slots;
        let protected = self.current.map(|(s, _)| s);
        let start = self.last_written.map_or(0, |s| (s + 1) % slots);
        if self.geometry.page_header == 0 {
            // EEPROM: any slot but the committed one; invalidate tail, then head.
            let slot = if Some(start) == protected {
                (start + 1) % slots
            } else {
                start
            };
            m.write(self.tail_at(slot), &BLANK)
                .map_err(StoreError::Medium)?;
            m.write(self.head_at(slot), &BLANK)
                .map_err(StoreError::Medium)?;
            return Ok(slot);
        }
        // NOR: the next blank slot of a live page, in ring order.
        let protected_page = protected.map(|s| self.geometry.page_of(s));
        let mut slot = start;
        for _ in 0..slots.get() {
            if Some(slot) != protected
                && self.page_live(m, self.geometry.page_of(slot))?
                && self.slot_blank(m, slot)?
            {
                return Ok(slot);
            }
            slot = (slot + 1) % slots;
        }
        // None left: erase the oldest page in ring order (the one the ring continues into) that
        // does not hold the committed record.
        let mut page = self.geometry.page_of(start);
        for _ in 0..self.geometry.pages.get() {
            if Some(page) != protected_page {
                self.renew_page(m, page)?;
                return Ok(page * self.geometry.slots_per_page.get());
            }
            page = (page + 1) % self.geometry.pages;
        }
        Err(StoreError::Layout)
    }

    /// Makes the next slot writable now (erasing or invalidating as needed), so that the next
    /// [`Area::write`] only writes.
    pub fn prepare<M: Medium>(&mut self, m: &mut M) -> Result<(), StoreError<M::Error>> {
        if self.prepared.is_none() {
            self.prepared = Some(self.prepare_slot(m)?);
        }
        Ok(())
    }

    /// Writes a record whose payload is the concatenation of `parts`, and returns its mark.
    /// The record is complete once this returns.
    pub fn write<M: Medium>(
        &mut self,
        m: &mut M,
        seq: u32,
        guard: u64,
        parts: &[&[u8]],
    ) -> Result<(u32, Mark), StoreError<M::Error>> {
        let len: usize = parts.iter().map(|p| p.len()).sum();
        if len > self.geometry.max_payload as usize {
            return Err(StoreError::TooLarge);
        }
        let slot = match self.prepared.take() {
            Some(slot) => slot,
            None => self.prepare_slot(m)?,
        };
        self.last_written = Some(slot);
        // Payload first, in aligned units padded with FF.
        let mut digest = CRC.digest();
        let mut unit = BLANK;
        let mut fill = 0usize;
        let mut at = self.payload_at(slot);
        for part in parts {
            digest.update(part);
            for &byte in *part {
                if let Some(b) = unit.get_mut(fill) {
                    *b = byte;
                }
                fill += 1;
                if fill == UNIT as usize {
                    m.write(at, &unit).map_err(StoreError::Medium)?;
                    at += UNIT;
                    unit = BLANK;
                    fill = 0;
                }
            }
        }
        if fill > 0 {
            m.write(at, &unit).map_err(StoreError::Medium)?;
        }
        let mark = Mark {
            seq,
            len: u16::try_from(len).map_err(|_| StoreError::TooLarge)?,
            payload_crc: digest.finalize(),
            guard,
        };
        // Then the head, then the tail: the record is committed.
        m.write(self.head_at(slot), &mark.emit(HEAD_MAGIC, self.id))
            .map_err(StoreError::Medium)?;
        m.write(self.tail_at(slot), &mark.emit(TAIL_MAGIC, self.id))
            .map_err(StoreError::Medium)?;
        Ok((slot, mark))
    }

    /// Reads the erase counts of the live pages (NOR), for wear levelling.
    pub fn scan_pages<M: Medium>(&mut self, m: &mut M) -> Result<(), StoreError<M::Error>> {
        if self.geometry.page_header == 0 {
            return Ok(());
        }
        for page in 0..self.geometry.pages.get() {
            if let Some(c) = self.page_header(m, page)? {
                self.erase_count = self.erase_count.max(c);
            }
        }
        self.erase_floor = self.erase_count;
        Ok(())
    }
}
