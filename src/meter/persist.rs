//! A [`Meter`] kept in a [`MeterStore`]: start-up from what the store holds, and the commits
//! [`Actions::save`](super::Actions::save) asks for (feature `storage`).
//!
//! The store's areas are the meter's [`Area`]s, in their order: give
//! [`MeterStore::open`] one [`AreaLayout`] per area, the root
//! (hot state) first, each with a `max_payload` at least the largest
//! [`Meter::stored_len`] of its area at the meter's capacities.
//!
//! ```
//! use prepaid_meter::meter::{persist, Area};
//! use prepaid_meter::mock::MockFlash;
//! use prepaid_meter::storage::{AreaLayout, MeterStore, Nor};
//! let layout = persist::layout(0, 4096, [1024, 1024, 4096, 1024, 128]);
//! assert_eq!(layout.len(), Area::ALL.len());
//! let (mut store, found) = MeterStore::open(Nor(MockFlash::<{ 64 * 1024 }, 4096>::new()), &layout).unwrap();
//! let mut buf = [0u8; 8 * 1024];
//! let stored = persist::load(&mut store, found, &mut buf).unwrap();
//! assert!(stored.hot.is_none());
//! ```

use core::fmt;

use super::stored::{Area, AreaSet};
use super::{Meter, Stored};
use crate::snapshot::SnapshotError;
use crate::storage::{AreaLayout, Durable, Found, Medium, MeterStore, StoreError};

/// Why a save did not complete.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub enum PersistError<E> {
    /// A stored form did not fit the caller's buffer.
    Buffer(SnapshotError),
    /// The store refused or the medium failed; the previous state stays committed.
    Store(StoreError<E>),
}

impl<E: fmt::Debug> fmt::Display for PersistError<E> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            PersistError::Buffer(e) => write!(f, "stored form: {e}"),
            PersistError::Store(e) => write!(f, "store: {e}"),
        }
    }
}

impl<E: fmt::Debug> core::error::Error for PersistError<E> {}

impl<E> From<StoreError<E>> for PersistError<E> {
    fn from(e: StoreError<E>) -> Self {
        PersistError::Store(e)
    }
}

/// A layout of the meter's five areas side by side from `base`, in [`Area`] order, each
/// holding two records of its `max_payloads` entry (a ring of two): on NOR flash a record
/// takes a page of its own, a whole number of `sector`-byte erase sectors. A helper for media
/// where every area starts on an erase boundary (`base` and `sector` multiples of 32); lay the
/// areas out by hand for anything else.
pub fn layout(base: u32, sector: u32, max_payloads: [u16; 5]) -> [AreaLayout; 5] {
    const UNIT: u32 = 32;
    let mut next = base;
    max_payloads.map(|max_payload| {
        // A page: its header unit, the record's head unit, the payload padded to whole units
        // and the tail unit, rounded up to whole sectors; two pages.
        let record = u32::from(max_payload)
            .div_ceil(UNIT)
            .saturating_mul(UNIT)
            .saturating_add(3 * UNIT);
        let sector = sector.max(1);
        let len = record
            .div_ceil(sector)
            .saturating_mul(sector)
            .saturating_mul(2);
        let area = AreaLayout {
            base: next,
            len,
            max_payload,
        };
        next = next.saturating_add(len);
        area
    })
}

/// Reads every area of `store` into `buf` (one after another) for [`Meter::start`], with
/// what opening the store found. An area whose record is corrupted is handed on as an empty
/// record, so that the meter reports it as lost.
///
/// Errors: [`StoreError::BufferTooSmall`] when `buf` does not hold every record,
/// [`StoreError::Medium`], [`StoreError::NoArea`] for a store with fewer than five areas.
pub fn load<'b, M: Medium>(
    store: &mut MeterStore<M>,
    found: Found,
    buf: &'b mut [u8],
) -> Result<Stored<'b>, StoreError<M::Error>> {
    let mut stored = Stored::NONE;
    if let Found::FellBack(loss) = found {
        stored.store_lost = true;
        stored.guard_floor = loss.guard_floor;
    }
    let mut rest = buf;
    for area in Area::ALL {
        let record: Option<&'b [u8]> = match store.read(area.index(), rest) {
            Ok(None) => None,
            Ok(Some(n)) => {
                // The store read `n` bytes into `rest`, so the split cannot fail; checked
                // all the same, so that no panic path is linked.
                let (record, tail) = core::mem::take(&mut rest)
                    .split_at_mut_checked(n)
                    .ok_or(StoreError::BufferTooSmall)?;
                rest = tail;
                Some(record)
            }
            Err(StoreError::Corrupted) => {
                stored.store_lost = true;
                Some(&[])
            }
            Err(e) => return Err(e),
        };
        match area {
            Area::Hot => stored.hot = record,
            Area::Logs => stored.logs = record,
            Area::Freezes => stored.freezes = record,
            Area::Tariff => stored.tariff = record,
            Area::Keys => stored.keys = record,
        }
    }
    Ok(stored)
}

/// Commits what the meter has not saved ([`Meter::unsaved`]): each changed area in a commit
/// of its own, each with the hot state, then tells the meter ([`Meter::saved`]), which
/// releases an answer that waited. `record` holds one area's stored form, `hot` the hot
/// state. Returns the last commit, or `None` when nothing was unsaved.
///
/// On an error the meter is told ([`Meter::save_failed`]): an answer that waited is dropped,
/// and the areas stay unsaved.
pub fn save<
    M: Medium,
    const HN: usize,
    const DN: usize,
    const SN: usize,
    const LN: usize,
    const S: usize,
    const D: usize,
    const P: usize,
    const H: usize,
>(
    meter: &mut Meter<HN, DN, SN, LN, S, D, P, H>,
    store: &mut MeterStore<M>,
    record: &mut [u8],
    hot: &mut [u8],
) -> Result<Option<Durable>, PersistError<M::Error>> {
    let areas = meter.unsaved();
    if areas.is_empty() {
        return Ok(None);
    }
    match commit(meter, store, areas, record, hot) {
        Ok(durable) => {
            meter.saved(areas);
            Ok(Some(durable))
        }
        Err(e) => {
            meter.save_failed();
            Err(e)
        }
    }
}

fn commit<
    M: Medium,
    const HN: usize,
    const DN: usize,
    const SN: usize,
    const LN: usize,
    const S: usize,
    const D: usize,
    const P: usize,
    const H: usize,
>(
    meter: &Meter<HN, DN, SN, LN, S, D, P, H>,
    store: &mut MeterStore<M>,
    areas: AreaSet,
    record: &mut [u8],
    hot: &mut [u8],
) -> Result<Durable, PersistError<M::Error>> {
    let n = meter
        .stored_form(Area::Hot, hot)
        .map_err(PersistError::Buffer)?;
    let hot = hot.get(..n).unwrap_or_default();
    let guard = meter.guard();
    let mut last = None;
    for area in areas.iter().filter(|a| *a != Area::Hot) {
        let len = meter
            .stored_form(area, record)
            .map_err(PersistError::Buffer)?;
        let bytes = record.get(..len).unwrap_or_default();
        last = Some(store.commit(&[(area.index(), bytes)], hot, guard)?);
    }
    match last {
        Some(d) => Ok(d),
        None => Ok(store.commit(&[], hot, guard)?),
    }
}

#[cfg(all(test, feature = "_test"))]
mod tests {
    use super::layout;
    use crate::mock::MockFlash;
    use crate::storage::{Found, MeterStore, Nor};

    #[test]
    fn layouts_open_on_nor_flash() {
        // Payloads just below, at and above a sector's worth, on two sector sizes.
        for payloads in [
            [1024, 1024, 4096, 1024, 128],
            [4000, 4032, 4033, 1, 0],
            [200, 3000, 6000, 900, 60],
        ] {
            let l = layout(0, 4096, payloads);
            let (_, found) = MeterStore::open(Nor(MockFlash::<{ 160 * 1024 }, 4096>::new()), &l)
                .unwrap_or_else(|e| panic!("{payloads:?}: {e}"));
            assert_eq!(found, Found::Fresh);
            let l = layout(1024, 1024, payloads);
            assert!(l.iter().all(|a| a.base % 1024 == 0 && a.len % 1024 == 0));
            let (_, found) = MeterStore::open(Nor(MockFlash::<{ 64 * 1024 }, 1024>::new()), &l)
                .unwrap_or_else(|e| panic!("{payloads:?}: {e}"));
            assert_eq!(found, Found::Fresh);
        }
    }
}
