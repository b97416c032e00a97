//! The meter store: areas of records on one medium, committed together through the root area.
//!
//! The layout and the guarantees are documented in the [`storage`](super) module.

use super::journal::{Area, Geometry, Mark, Slot};
use super::medium::Medium;
use super::{AreaLayout, StoreError};

/// The most areas a store has: the root and up to seven others.
pub const MAX_AREAS: usize = 8;

/// What opening a store found.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
#[must_use = "start-up must act on what the store found (a loss is to be reported)"]
pub enum Found {
    /// Nothing was ever committed, and nothing is corrupted: a new device.
    Fresh,
    /// The last committed state, intact.
    Restored,
    /// Something was lost to corruption; the store holds the last good state where one exists.
    FellBack(Loss),
}

/// What was lost, found when a store was opened.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub struct Loss {
    /// Records found corrupted (in any area, committed or not).
    pub corrupt_records: u16,
    /// The newest root record is corrupted: the state restored is older than the last one
    /// committed (or there is none).
    pub newest_lost: bool,
    /// Bit `n` set: area `n`'s committed record is corrupted or missing, and the area holds an
    /// older record or none.
    pub areas_lost: u8,
    /// No root record is readable at all: there is no state to restore.
    pub no_state: bool,
    /// The highest guard value of any root record whose head or tail survives (see
    /// [`MeterStore::commit`]): the floor for counters that must never go back.
    pub guard_floor: u64,
}

/// Proof that a commit is durable: only after it may the command that caused it be
/// acknowledged.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
#[must_use = "acknowledge the command only once the commit is durable"]
pub struct Durable {
    /// The sequence number of the root record written.
    pub seq: u32,
}

/// A power-fail-safe store of a meter's state on one medium (see the [module docs](super)).
#[derive(Debug)]
pub struct MeterStore<M> {
    medium: M,
    areas: [Area; MAX_AREAS],
    count: usize,
    next_seq: u32,
}

/// Bytes of the root payload before the hot state: the sequence number of each other area's
/// committed record (`u32` each, 0 for none), for areas 1 to `MAX_AREAS - 1`.
const REFS_LEN: usize = 4 * (MAX_AREAS - 1);

impl<M: Medium> MeterStore<M> {
    /// Opens a store: `layouts[0]` is the root area (the hot state and the commit record),
    /// `layouts[1..]` the other areas, in an order that must not change between builds.
    ///
    /// Reads every slot once and reports what it found: [`Found::Fresh`],
    /// [`Found::Restored`], or [`Found::FellBack`] with what was lost. A corruption is never
    /// taken for an empty device.
    ///
    /// Errors: [`StoreError::Layout`] for no areas, more than [`MAX_AREAS`], overlapping areas,
    /// or an area that does not suit the medium (fewer than two pages or slots, not aligned,
    /// outside the medium, a root payload too small for its references);
    /// [`StoreError::Medium`].
    pub fn open(
        medium: M,
        layouts: &[AreaLayout],
    ) -> Result<(MeterStore<M>, Found), StoreError<M::Error>> {
        if layouts.is_empty() || layouts.len() > MAX_AREAS {
            return Err(StoreError::Layout);
        }
        let mut areas = [Area::default(); MAX_AREAS];
        for (i, (layout, area)) in layouts.iter().zip(areas.iter_mut()).enumerate() {
            for other in layouts.get(..i).unwrap_or(&[]) {
                let end = |l: &AreaLayout| l.base.saturating_add(l.len);
                if layout.base < end(other) && other.base < end(layout) {
                    return Err(StoreError::Layout);
                }
            }
            area.id = u8::try_from(i).map_err(|_| StoreError::Layout)?;
            area.geometry = Geometry::new(
                layout,
                medium.erase_size(),
                medium.write_size(),
                medium.needs_erase(),
                medium.capacity(),
            )?;
        }
        if areas[0].geometry.max_payload < REFS_LEN as u32 {
            return Err(StoreError::Layout);
        }
        let mut store = MeterStore {
            medium,
            areas,
            count: layouts.len(),
            next_seq: 1,
        };
        let found = store.scan()?;
        Ok((store, found))
    }

    fn scan(&mut self) -> Result<Found, StoreError<M::Error>> {
        let mut loss = Loss::default();
        let mut max_seq = 0u32;
        // The newest valid root, and the newest root of any kind whose mark survives.
        let mut root: Option<(u32, Mark)> = None;
        let mut newest_marked = 0u32;
        let count = self.count;
        for a in 0..count {
            let Some(area) = self.areas.get_mut(a) else {
                continue;
            };
            area.scan_pages(&mut self.medium)?;
            let mut last: Option<(u32, u32)> = None;
            for slot in 0..area.geometry.slots() {
                if !area.page_live(&mut self.medium, area.geometry.page_of(slot))? {
                    continue;
                }
                let state = area.inspect(&mut self.medium, slot)?;
                let mark = match state {
                    Slot::Empty => continue,
                    Slot::Valid(m) => Some(m),
                    Slot::Damaged(m) => {
                        loss.corrupt_records = loss.corrupt_records.saturating_add(1);
                        Some(m)
                    }
                    Slot::Corrupt(m) => {
                        loss.corrupt_records = loss.corrupt_records.saturating_add(1);
                        m
                    }
                };
                let Some(mark) = mark else { continue };
                max_seq = max_seq.max(mark.seq);
                if last.is_none_or(|(_, s)| mark.seq > s) {
                    last = Some((slot, mark.seq));
                }
                if a == 0 {
                    loss.guard_floor = loss.guard_floor.max(mark.guard);
                    newest_marked = newest_marked.max(mark.seq);
                    if let Slot::Valid(m) | Slot::Damaged(m) = state {
                        // A root too short for its references was not written by a store.
                        if usize::from(m.len) < REFS_LEN {
                            loss.corrupt_records = loss.corrupt_records.saturating_add(1);
                            continue;
                        }
                        if root.is_none_or(|(_, r)| m.seq > r.seq) {
                            root = Some((slot, m));
                        }
                    }
                }
            }
            area.last_written = last.map(|(slot, _)| slot);
        }
        self.next_seq = max_seq.checked_add(1).ok_or(StoreError::Exhausted)?;
        let Some((root_slot, root_mark)) = root else {
            // Records of other areas without a root are a first commit cut short.
            if loss.corrupt_records == 0 && newest_marked == 0 {
                return Ok(Found::Fresh);
            }
            loss.no_state = true;
            loss.newest_lost = newest_marked > 0;
            return Ok(Found::FellBack(loss));
        };
        loss.newest_lost = newest_marked > root_mark.seq;
        if let Some(area) = self.areas.get_mut(0) {
            area.current = Some((root_slot, root_mark));
        }
        // Each other area's committed record is the one the root names.
        let mut refs = [0u8; REFS_LEN];
        if let Some(area) = self.areas.first() {
            area.read_part(&mut self.medium, 0, &mut refs)?;
        }
        for a in 1..count {
            let want = reference(&refs, a);
            if want == 0 {
                continue;
            }
            let Some(area) = self.areas.get_mut(a) else {
                continue;
            };
            let mut exact = None;
            let mut older: Option<(u32, Mark)> = None;
            for slot in 0..area.geometry.slots() {
                if !area.page_live(&mut self.medium, area.geometry.page_of(slot))? {
                    continue;
                }
                if let Slot::Valid(m) | Slot::Damaged(m) = area.inspect(&mut self.medium, slot)? {
                    if m.seq == want {
                        exact = Some((slot, m));
                    } else if m.seq < want && older.is_none_or(|(_, o)| m.seq > o.seq) {
                        older = Some((slot, m));
                    }
                }
            }
            area.current = match exact {
                Some(c) => Some(c),
                None => {
                    loss.areas_lost |= 1u8.checked_shl(a as u32).unwrap_or(0);
                    older
                }
            };
        }
        if loss
            == (Loss {
                guard_floor: loss.guard_floor,
                ..Loss::default()
            })
        {
            Ok(Found::Restored)
        } else {
            Ok(Found::FellBack(loss))
        }
    }

    /// Reads the committed record of `area` into the start of `buf` and returns its length,
    /// or `None` if the area holds none. For the root area (0) this is the hot state given
    /// to the last [`commit`](MeterStore::commit).
    ///
    /// Errors: [`StoreError::NoArea`], [`StoreError::BufferTooSmall`],
    /// [`StoreError::Corrupted`] (the record no longer matches its CRC), [`StoreError::Medium`].
    pub fn read(
        &mut self,
        area: usize,
        buf: &mut [u8],
    ) -> Result<Option<usize>, StoreError<M::Error>> {
        if area >= self.count {
            return Err(StoreError::NoArea);
        }
        let a = self.areas.get(area).ok_or(StoreError::NoArea)?;
        if area != 0 {
            return a.read(&mut self.medium, buf);
        }
        let Some((_, mark)) = a.current else {
            return Ok(None);
        };
        let len = usize::from(mark.len).saturating_sub(REFS_LEN);
        let out = buf.get_mut(..len).ok_or(StoreError::BufferTooSmall)?;
        // Check the whole record's CRC, then hand out the hot part.
        a.read_part(&mut self.medium, REFS_LEN as u32, out)?;
        let mut refs = [0u8; REFS_LEN];
        a.read_part(&mut self.medium, 0, &mut refs)?;
        let mut digest = crate::snapshot::CRC.digest();
        digest.update(&refs);
        digest.update(out);
        if digest.finalize() != mark.payload_crc {
            return Err(StoreError::Corrupted);
        }
        Ok(Some(len))
    }

    /// Commits a new state: each `(area, bytes)` of `records` becomes that area's record, then
    /// `hot` becomes the root's. The new state is durable, all of it, once this returns
    /// [`Durable`]; a power cut before leaves the previous state, all of it. Areas not named
    /// keep their records.
    ///
    /// `guard` is stored in the root record's head and tail, where it survives a corrupted
    /// payload: give the values that must never go back (a security counter, a purchase count)
    /// and read the floor back from [`Loss::guard_floor`].
    ///
    /// Errors, before anything is written: [`StoreError::NoArea`] (area 0 or beyond the
    /// layout in `records`), [`StoreError::TooLarge`] (a record longer than its area's
    /// `max_payload`), [`StoreError::Exhausted`] (sequence numbers used up). During the
    /// writes: [`StoreError::Medium`]; the previous state stays committed.
    pub fn commit(
        &mut self,
        records: &[(usize, &[u8])],
        hot: &[u8],
        guard: u64,
    ) -> Result<Durable, StoreError<M::Error>> {
        for (area, bytes) in records {
            let a = self
                .areas
                .get(*area)
                .filter(|_| *area != 0 && *area < self.count)
                .ok_or(StoreError::NoArea)?;
            if bytes.len() > a.geometry.max_payload as usize {
                return Err(StoreError::TooLarge);
            }
        }
        let root_max = self.areas.first().map_or(0, |a| a.geometry.max_payload) as usize;
        if hot.len().saturating_add(REFS_LEN) > root_max {
            return Err(StoreError::TooLarge);
        }
        let needed = u32::try_from(records.len().saturating_add(1)).unwrap_or(u32::MAX);
        if self.next_seq.checked_add(needed).is_none() {
            return Err(StoreError::Exhausted);
        }
        // The references the new root will hold: the committed ones, replaced as written.
        let mut refs = [0u8; REFS_LEN];
        for a in 1..self.count {
            if let Some((_, m)) = self.areas.get(a).and_then(|x| x.current) {
                set_reference(&mut refs, a, m.seq);
            }
        }
        let mut written = [None; MAX_AREAS];
        for (area, bytes) in records {
            let seq = self.take_seq();
            let a = self.areas.get_mut(*area).ok_or(StoreError::NoArea)?;
            let done = a.write(&mut self.medium, seq, 0, &[bytes])?;
            set_reference(&mut refs, *area, seq);
            if let Some(w) = written.get_mut(*area) {
                *w = Some(done);
            }
        }
        let seq = self.take_seq();
        let root = self.areas.get_mut(0).ok_or(StoreError::NoArea)?;
        let done = root.write(&mut self.medium, seq, guard, &[&refs, hot])?;
        // Durable: the new records are the committed ones.
        root.current = Some(done);
        for (a, w) in written.iter().enumerate() {
            if let (Some(done), Some(area)) = (w, self.areas.get_mut(a)) {
                area.current = Some(*done);
            }
        }
        Ok(Durable { seq })
    }

    /// Makes the root area's next slot writable now (on NOR erasing a page if the ring needs
    /// one, on EEPROM invalidating the slot), so that the next commit of the root alone, the
    /// power-fail fast path, only writes. Call it in idle time after a commit.
    ///
    /// Errors: [`StoreError::Medium`]; nothing committed is touched.
    pub fn ready(&mut self) -> Result<(), StoreError<M::Error>> {
        match self.areas.first_mut() {
            Some(root) => root.prepare(&mut self.medium),
            None => Err(StoreError::NoArea),
        }
    }

    fn take_seq(&mut self) -> u32 {
        let seq = self.next_seq;
        self.next_seq = self.next_seq.saturating_add(1);
        seq
    }

    /// The bytes one record of `area` occupies on the medium (head, padded payload, tail), and
    /// the bytes of one of its pages: for the wear and hold-up figures.
    pub fn footprint(&self, area: usize) -> Option<(u32, u32)> {
        self.areas
            .get(area)
            .filter(|_| area < self.count)
            .map(|a| (a.geometry.slot_size(), a.geometry.page_size()))
    }

    /// The highest erase count of `area`'s pages seen or made since opening (NOR; 0 on a
    /// medium that needs no erase): watch it against the part's rated cycles.
    pub fn erase_count(&self, area: usize) -> Option<u32> {
        self.areas
            .get(area)
            .filter(|_| area < self.count)
            .map(|a| a.erase_count)
    }

    /// The medium, to inspect (its driver's statistics, say).
    pub fn medium(&self) -> &M {
        &self.medium
    }

    /// The medium, back.
    pub fn release(self) -> M {
        self.medium
    }
}

fn reference(refs: &[u8; REFS_LEN], area: usize) -> u32 {
    let at = (area - 1) * 4;
    refs.get(at..at + 4)
        .and_then(|b| b.try_into().ok())
        .map_or(0, u32::from_le_bytes)
}

fn set_reference(refs: &mut [u8; REFS_LEN], area: usize, seq: u32) {
    let at = (area - 1) * 4;
    if let Some(dst) = refs.get_mut(at..at + 4) {
        dst.copy_from_slice(&seq.to_le_bytes());
    }
}
