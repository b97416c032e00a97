//! The meter's stored forms: the hot state (one [`Snapshot`] holding every engine's state),
//! the logs, the key record, and the areas they are kept in.
//!
//! Layouts (see [`crate::snapshot`] for the primitive forms):
//!
//! | area | form | magic | fields |
//! |---|---|---|---|
//! | [`Area::Hot`] (0, the store's root) | [`MeterState`] | `MT` | account, security, server, registers, accumulator, rater, demand, `clock_offset` (`i64`), `last` (`Option<Timestamp>`), `closed` (`bool`), `relay_fault` (`bool`), `cover_opened` (`u32`) |
//! | [`Area::Logs`] (1) | [`MeterLogs`] | `ML` | the account's logs, the trip records, the close records, the clock-change records ([`ClockChange`], version 2) |
//! | [`Area::Freezes`] (2) | [`FreezesState`](crate::freeze::FreezesState) | `FZ` | as in [`crate::freeze`] |
//! | [`Area::Tariff`] (3) | [`Tariff`](crate::tariff::Tariff) | `TF` | as in [`crate::tariff`] |
//! | [`Area::Keys`] (4) | [`KeyRecord`] | `MK` | `version` (`u16`), `keys` (48 bytes, [`MeterKeys::to_bytes`]) |
//!
//! Each sub-state inside [`MeterState`] is written in its own field form (not framed), in the
//! order above. `MT` version 1 holds the account as `AM` version 1, the security state as `SS`
//! version 2 and the server's as `SV` version 2; `ML` is version 2 and still reads version 1
//! (no clock-change records); `MK` is version 1.

use zeroize::{Zeroize, ZeroizeOnDrop};

use crate::account::{AccountState, LogsState};
use crate::endpoint::dlt645::{ClockRecord, ServerState};
use crate::metering::{DemandMeterState, EnergyAccumulatorState, EnergyRegistersState};
use crate::ring::{Ring, RingState};
use crate::security::{MeterKeys, SecurityState, WRAPPED_KEYS_LEN};
use crate::snapshot::{Field, Reader, Snapshot, SnapshotError, Writer, struct_field};
use crate::tariff::RaterState;
use crate::time::Timestamp;
use crate::units::{Energy, Money};

/// The areas of the meter's store, in the order of the store's layout
/// ([`MeterStore::open`](crate::storage::MeterStore::open) takes one
/// [`AreaLayout`](crate::storage::AreaLayout) per area, in this order).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub enum Area {
    /// The hot state ([`MeterState`]): written with every commit, as the store's root.
    Hot,
    /// The account's logs and the relay records ([`MeterLogs`]).
    Logs,
    /// The frozen records.
    Freezes,
    /// The tariff (both sets).
    Tariff,
    /// The meter keys after a key update ([`KeyRecord`]). The medium must be read-protected,
    /// as an MCU's internal flash is.
    Keys,
}

impl Area {
    /// Every area, in store order.
    pub const ALL: [Area; 5] = [
        Area::Hot,
        Area::Logs,
        Area::Freezes,
        Area::Tariff,
        Area::Keys,
    ];

    /// The area's index in the store's layout.
    pub const fn index(self) -> usize {
        match self {
            Area::Hot => 0,
            Area::Logs => 1,
            Area::Freezes => 2,
            Area::Tariff => 3,
            Area::Keys => 4,
        }
    }

    const fn bit(self) -> u8 {
        1 << self.index()
    }
}

/// A set of [`Area`]s: the ones whose stored form is out of date.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub struct AreaSet(u8);

impl AreaSet {
    /// No area.
    pub const EMPTY: AreaSet = AreaSet(0);
    /// Every area.
    pub const ALL: AreaSet = AreaSet(0b1_1111);

    /// `true` if `area` is in the set.
    pub const fn contains(self, area: Area) -> bool {
        self.0 & area.bit() != 0
    }

    /// `true` for the empty set.
    pub const fn is_empty(self) -> bool {
        self.0 == 0
    }

    /// The set with `area` added.
    pub const fn with(self, area: Area) -> AreaSet {
        AreaSet(self.0 | area.bit())
    }

    /// The set without the areas of `other`.
    pub const fn without(self, other: AreaSet) -> AreaSet {
        AreaSet(self.0 & !other.0)
    }

    /// The areas of both sets.
    pub const fn union(self, other: AreaSet) -> AreaSet {
        AreaSet(self.0 | other.0)
    }

    /// The areas in the set, in store order.
    pub fn iter(self) -> impl Iterator<Item = Area> {
        Area::ALL.into_iter().filter(move |a| self.contains(*a))
    }
}

/// The hot state: everything that changes with consumption or with a command, written with
/// every commit ([`Area::Hot`]). Plain data; [`Meter::restore`](super::Meter) checks it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct MeterState {
    /// The prepaid account.
    pub account: AccountState<Money>,
    /// The security counters, lock-out and key version.
    pub security: SecurityState,
    /// The DL/T 645 server's passwords, failure record and clock log.
    pub server: ServerState,
    /// The energy registers (4 tariffs).
    pub registers: EnergyRegistersState<4>,
    /// The pulse remainder below one watt-hour.
    pub accumulator: EnergyAccumulatorState,
    /// The rater's carry and tier energy.
    pub rater: RaterState,
    /// The demand meter.
    pub demand: DemandMeterState<1>,
    /// Seconds between the meter's clock and the caller's (set by time commands).
    pub clock_offset: i64,
    /// The latest meter time the meter ran to, if any (freezes and catch-up start from it); a
    /// clock set back does not move it back, so no boundary is frozen twice.
    pub last: Option<Timestamp>,
    /// Where the relay was last driven: `true` for closed.
    pub closed: bool,
    /// The relay did not follow the last drive (feedback disagreed).
    pub relay_fault: bool,
    /// How many times the terminal cover was opened.
    pub cover_opened: u32,
}

/// The fields in their documented order. Version 1 holds the account as `AM` version 1, the
/// security state as `SS` version 2 and the server's as `SV` version 2 (their parsers are told
/// so, [`Reader::nested`]).
impl Field for MeterState {
    fn write_to(&self, w: &mut Writer<'_>) -> Result<(), SnapshotError> {
        self.account.write_to(w)?;
        self.security.write_to(w)?;
        self.server.write_to(w)?;
        self.registers.write_to(w)?;
        self.accumulator.write_to(w)?;
        self.rater.write_to(w)?;
        self.demand.write_to(w)?;
        self.clock_offset.write_to(w)?;
        self.last.write_to(w)?;
        self.closed.write_to(w)?;
        self.relay_fault.write_to(w)?;
        self.cover_opened.write_to(w)
    }
    fn read_from(r: &mut Reader<'_>) -> Result<Self, SnapshotError> {
        Ok(MeterState {
            account: r.nested(1, Field::read_from)?,
            security: r.nested(2, Field::read_from)?,
            server: r.nested(2, Field::read_from)?,
            registers: Field::read_from(r)?,
            accumulator: Field::read_from(r)?,
            rater: Field::read_from(r)?,
            demand: Field::read_from(r)?,
            clock_offset: Field::read_from(r)?,
            last: Field::read_from(r)?,
            closed: Field::read_from(r)?,
            relay_fault: Field::read_from(r)?,
            cover_opened: Field::read_from(r)?,
        })
    }
}

impl Snapshot for MeterState {
    const MAGIC: [u8; 2] = *b"MT";
    const VERSION: u8 = 1;
}

/// A DL/T 645 relay trip or close record as the meter keeps it: when, who ordered it (the
/// operator code, `FFFFFFFF` for the meter's own decisions), and the energy registers then.
///
/// Binary form ([`Field`]): `time` (`i64`), `operator` (4 bytes), `forward`, `reverse`
/// (`i64` Wh each); 28 bytes.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub struct RelayRecord {
    /// When.
    pub time: Timestamp,
    /// The operator code of the command, wire order.
    pub operator: [u8; 4],
    /// Forward active energy, total.
    pub forward: Energy,
    /// Reverse active energy, total.
    pub reverse: Energy,
}

struct_field!(RelayRecord {
    time,
    operator,
    forward,
    reverse,
});

/// A clock change as the meter keeps it: the change, and who ordered it (the operator code of
/// a 14H write; `FFFFFFFF`, [`METER_OPERATOR`](super::METER_OPERATOR), for a broadcast
/// correction and a step of the caller's clock, which have none). DL/T 645 reads them as the
/// clock-setting records (03300400, 03300401..0A).
///
/// Binary form ([`Field`]): `record` ([`ClockRecord`], 17 bytes), `operator` (4 bytes); 21
/// bytes.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub struct ClockChange {
    /// What changed, when and how.
    pub record: ClockRecord,
    /// The operator code of the command, wire order.
    pub operator: [u8; 4],
}

struct_field!(ClockChange { record, operator });

/// The meter's logs ([`Area::Logs`]): the account's records and the relay trip and close
/// records, `N` deep each.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct MeterLogs<const N: usize> {
    /// The account's logs.
    pub account: LogsState<Money, N>,
    /// Relay trips.
    pub trips: RingState<RelayRecord, N>,
    /// Relay closes.
    pub closes: RingState<RelayRecord, N>,
    /// Clock changes: 08H broadcast corrections, 14H writes of the date or time (plain or
    /// sealed) and steps back of the caller's clock (from version 2).
    pub clocks: RingState<ClockChange, N>,
}

/// The fields in their documented order; version 1 has no `clocks` and is read with an empty
/// ring.
impl<const N: usize> Field for MeterLogs<N> {
    fn write_to(&self, w: &mut Writer<'_>) -> Result<(), SnapshotError> {
        self.account.write_to(w)?;
        self.trips.write_to(w)?;
        self.closes.write_to(w)?;
        self.clocks.write_to(w)
    }
    fn read_from(r: &mut Reader<'_>) -> Result<Self, SnapshotError> {
        Ok(MeterLogs {
            account: Field::read_from(r)?,
            trips: Field::read_from(r)?,
            closes: Field::read_from(r)?,
            clocks: if r.version() >= 2 {
                Field::read_from(r)?
            } else {
                Ring::new().state()
            },
        })
    }
}

impl<const N: usize> Snapshot for MeterLogs<N> {
    const MAGIC: [u8; 2] = *b"ML";
    const VERSION: u8 = 2;
    const OLDEST_VERSION: u8 = 1;
}

/// The meter keys in force after a key update ([`Area::Keys`]). Zeroized on drop.
#[derive(Clone, PartialEq, Eq, Zeroize, ZeroizeOnDrop)]
pub struct KeyRecord {
    /// The key version.
    pub version: u16,
    /// The keys, as [`MeterKeys::to_bytes`] gives them.
    pub keys: [u8; WRAPPED_KEYS_LEN],
}

impl core::fmt::Debug for KeyRecord {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("KeyRecord")
            .field("version", &self.version)
            .finish_non_exhaustive()
    }
}

impl KeyRecord {
    /// The record of `keys` at `version`.
    pub fn new(version: u16, keys: &MeterKeys) -> KeyRecord {
        KeyRecord {
            version,
            keys: keys.to_bytes(),
        }
    }

    /// The keys.
    pub fn meter_keys(&self) -> MeterKeys {
        MeterKeys::from_bytes(&self.keys)
    }
}

impl Field for KeyRecord {
    fn write_to(&self, w: &mut Writer<'_>) -> Result<(), SnapshotError> {
        self.version.write_to(w)?;
        w.put(&self.keys)
    }
    fn read_from(r: &mut Reader<'_>) -> Result<Self, SnapshotError> {
        Ok(KeyRecord {
            version: u16::read_from(r)?,
            keys: r.array()?,
        })
    }
}

impl Snapshot for KeyRecord {
    const MAGIC: [u8; 2] = *b"MK";
    const VERSION: u8 = 1;
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn area_sets() {
        let s = AreaSet::EMPTY.with(Area::Logs).with(Area::Keys);
        assert!(s.contains(Area::Logs) && s.contains(Area::Keys) && !s.contains(Area::Hot));
        assert_eq!(
            s.iter().collect::<std::vec::Vec<_>>(),
            [Area::Logs, Area::Keys]
        );
        assert!(s.without(s).is_empty());
        assert_eq!(AreaSet::ALL.iter().count(), Area::ALL.len());
        for (i, a) in Area::ALL.iter().enumerate() {
            assert_eq!(a.index(), i);
        }
    }

    #[test]
    fn key_record_round_trip_and_hides_keys() {
        let r = KeyRecord {
            version: 7,
            keys: [0x5A; WRAPPED_KEYS_LEN],
        };
        let mut buf = [0u8; 64];
        let n = r.emit(&mut buf).unwrap();
        assert_eq!(n, 5 + 2 + WRAPPED_KEYS_LEN + 4);
        assert_eq!(KeyRecord::parse(&buf[..n]).unwrap(), r);
        assert!(!std::format!("{r:?}").contains("5a"));
        buf[9] ^= 1;
        assert_eq!(KeyRecord::parse(&buf[..n]), Err(SnapshotError::BadChecksum));
    }
}
