//! A [`Meter`] kept in a [`MeterStore`]: start-up from what the store holds, and the commits
//! [`Actions::save`](super::Actions::save) asks for (feature `storage`).
//!
//! The store's areas are the meter's [`Area`]s, in their order: give
//! [`MeterStore::open`] one [`AreaLayout`] per area, the root
//! (hot state) first, each with a `max_payload` at least the largest
//! [`Meter::stored_len`] of its area at the meter's capacities.
//!
//! ```
//! use prepaid_meter::account::{Config, Limits};
//! use prepaid_meter::meter::{persist, Area, KeyRecord, MeterConfig, SmallMeter, Started};
//! use prepaid_meter::metering::MeterConstant;
//! use prepaid_meter::mock::MockFlash;
//! use prepaid_meter::security::{MasterKey, SecurityConfig};
//! use prepaid_meter::storage::{MeterStore, Nor};
//! use prepaid_meter::tariff::{Calendar, DayTable, MonthDay, Season, SwitchPoint, TariffSet, Tiers, WeekRule};
//! use prepaid_meter::time::{Timestamp, UtcOffset};
//! use prepaid_meter::units::{Money, Price};
//!
//! # fn main() -> Result<(), Box<dyn std::error::Error>> {
//! let tariff = || -> Result<_, Box<dyn std::error::Error>> {
//!     let day = DayTable::<8>::new_sized(&[SwitchPoint::new(0, 0, 1)])?;
//!     let season = Season { start: MonthDay::new(1, 1), week: WeekRule::uniform(1) };
//!     let calendar = Calendar::<4, 4, 8>::new_sized(&[season], &[day])?;
//!     let set = TariffSet::new_sized(calendar, &[Price::from_minor_per_kwh(5_000)], Tiers::none())?;
//!     Ok(prepaid_meter::meter::SmallTariff::new_sized(UtcOffset::CHINA, &[], set)?)
//! };
//! let yuan = |y| Money::from_units(y).ok_or("range");
//! let limits = Limits { alarm1: yuan(20)?, alarm2: yuan(10)?, overdraft: yuan(5)?, hoarding: yuan(5_000)?, reconnect: yuan(0)? };
//! let address = "201000000012".parse()?;
//! let config = MeterConfig::new(address, MeterConstant::new(1_000)?, Config::local(limits));
//! let keys = MasterKey::new(&[0x42; 16], SecurityConfig::DEFAULT.tag_len()).meter_keys(address, 1);
//! let now = Timestamp::from_unix(1_764_554_400);
//!
//! let layout = persist::layout(0, 4096, [1024, 1024, 4096, 1024, 128]);
//! assert_eq!(layout.len(), Area::ALL.len());
//! let (mut store, found) = MeterStore::open(Nor(MockFlash::<{ 64 * 1024 }, 4096>::new()), &layout)?;
//! // One buffer for the largest record: start-up reads the areas through it one at a time,
//! // and a save writes one area's stored form into it (`hot` holds the hot state's).
//! let (mut record, mut hot) = ([0u8; 4096], [0u8; 1024]);
//! let mut slot: Option<SmallMeter> = None;
//! let started = persist::start(&mut slot, &mut store, found, &mut record, &config, KeyRecord::new(1, &keys), &tariff()?, now)?;
//! assert_eq!(started, Started::Fresh);
//! let meter = slot.as_mut().ok_or("no meter")?;
//! let actions = meter.tick(now, 1_000); // 1 kWh
//! let _ = meter.power_fail(now); // the supply fails: save now
//! persist::save(meter, &mut store, &mut record, &mut hot)?;
//! # let _ = actions;
//!
//! // The restart: the store is opened again and the meter restored from it.
//! let (mut store, found) = MeterStore::open(store.release(), &layout)?;
//! let started = persist::start(&mut slot, &mut store, found, &mut record, &config, KeyRecord::new(1, &keys), &tariff()?, now)?;
//! assert_eq!(started, Started::Restored);
//! assert_eq!(slot.as_ref().map(|m| m.display().energy.wh()), Some(1_000));
//! # Ok(())
//! # }
//! ```

use core::fmt;

use super::start::{RESTORE_ORDER, Restoring};
use super::stored::{Area, AreaSet, KeyRecord};
use super::{Meter, MeterConfig, StartError, Started};
use crate::snapshot::SnapshotError;
use crate::storage::{AreaLayout, Durable, Found, Medium, MeterStore, StoreError};
use crate::tariff::{DEFAULT_TARIFFS, Tariff};
use crate::time::Timestamp;

/// Why a save did not complete.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub enum PersistError<E> {
    /// A stored form did not fit the caller's buffer.
    Buffer(SnapshotError),
    /// The store refused or the medium failed; on a save the previous state stays committed.
    Store(StoreError<E>),
    /// The meter's configuration is invalid ([`start`]).
    Start(StartError),
}

impl<E: fmt::Debug> fmt::Display for PersistError<E> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            PersistError::Buffer(e) => write!(f, "stored form: {e}"),
            PersistError::Store(e) => write!(f, "store: {e}"),
            PersistError::Start(e) => write!(f, "start: {e}"),
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

/// Starts the meter into `slot` from what `store` holds ([`Meter::start_in`] with the store
/// as its source): validates `config`, builds a fresh meter in `slot` (with a copy of
/// `tariff`: the configuration and the provisioned tariff are borrowed, so that a caller on a
/// small stack need not move them), then reads each area's
/// record into `buf` and restores it, one area at a time, so that `buf` needs to hold only the
/// largest record (the largest `max_payload` of the layout), not all of them. `found` is what
/// [`MeterStore::open`] reported; an area whose record is corrupted is reported as lost in
/// [`Started::FellBack`], as is a store that found corruption.
///
/// Errors: [`PersistError::Start`] for an invalid configuration; [`PersistError::Store`] with
/// [`StoreError::BufferTooSmall`] when `buf` does not hold a record, [`StoreError::Medium`],
/// or [`StoreError::NoArea`] for a store with fewer than five areas. `slot` is empty after an
/// error.
// The arguments of `Meter::start_in`, with the store and its buffer in place of `Stored`.
#[allow(clippy::too_many_arguments)]
pub fn start<
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
    slot: &mut Option<Meter<HN, DN, SN, LN, S, D, P, H>>,
    store: &mut MeterStore<M>,
    found: Found,
    buf: &mut [u8],
    config: &MeterConfig,
    keys: KeyRecord,
    tariff: &Tariff<S, D, P, DEFAULT_TARIFFS, H>,
    now: Timestamp,
) -> Result<Started, PersistError<M::Error>> {
    let restoring = match found {
        Found::FellBack(loss) => Restoring::new(true, loss.guard_floor),
        Found::Fresh | Found::Restored => Restoring::new(false, 0),
    };
    let meter = Meter::fresh_in(slot, config, keys, tariff, now).map_err(PersistError::Start)?;
    match restore(meter, config, store, buf, restoring) {
        Ok(started) => Ok(started),
        Err(e) => {
            *slot = None;
            Err(PersistError::Store(e))
        }
    }
}

/// Restores each area of `store` into the fresh `meter`, through `buf`. Not inlined, so that
/// it runs on a stack without [`start`]'s temporaries.
#[inline(never)]
fn restore<
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
    config: &MeterConfig,
    store: &mut MeterStore<M>,
    buf: &mut [u8],
    mut restoring: Restoring,
) -> Result<Started, StoreError<M::Error>> {
    for area in RESTORE_ORDER {
        let bytes: Option<&[u8]> = match store.read(area.index(), buf) {
            Ok(None) => None,
            Ok(Some(n)) => Some(buf.get(..n).ok_or(StoreError::BufferTooSmall)?),
            Err(StoreError::Corrupted) => {
                restoring.note_corrupted();
                Some(&[])
            }
            Err(e) => return Err(e),
        };
        meter.restore_area(config, area, bytes, &mut restoring);
    }
    Ok(meter.restored(restoring))
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
