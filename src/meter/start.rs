//! Start-up: the meter assembled from its configuration, then each stored area restored into
//! it in place, one at a time (a Cortex-M0's stack holds one area's temporaries, not a second
//! meter).

use super::flows::Entropy;
use super::stored::{Area, AreaSet, KeyRecord, MeterState};
use super::{Answer, Fallback, Meter, MeterConfig, Parts, StartError, Started, Stored};
use crate::account::{Contacts, Logs, MoneyAccount};
use crate::endpoint::dlt645::Server;
use crate::freeze::{Freezes, FreezesState, Schedule};
use crate::metering::{DemandMeter, EnergyAccumulator, EnergyRegisters};
use crate::ring::Ring;
use crate::security::{MeterSecurity, SoftwareModule};
use crate::snapshot::{Field, Snapshot, parse_fields};
use crate::tariff::{DEFAULT_TARIFFS, Rater, Tariff};
use crate::time::Timestamp;
use crate::units::{Energy, Money};
use crate::wire::dlt645::MAX_FRAME_LEN;

/// The order in which start-up restores the areas: the keys first (the hot state's security
/// engine is rebuilt under them), the tariff before the hot state (the rater's state is
/// checked against it).
pub(super) const RESTORE_ORDER: [Area; 5] = [
    Area::Keys,
    Area::Tariff,
    Area::Hot,
    Area::Logs,
    Area::Freezes,
];

/// What a start-up has found so far, area by area ([`Meter::restore_area`], then
/// [`Meter::restored`]).
#[derive(Clone, Copy, Debug)]
pub(super) struct Restoring {
    /// Areas that held a record (readable or not).
    present: AreaSet,
    /// Areas whose record did not restore.
    lost: AreaSet,
    /// The store reported corruption.
    store_lost: bool,
    /// The store's guard floor ([`Stored::guard_floor`]).
    guard_floor: u64,
}

impl Restoring {
    /// Nothing restored yet, from a store that reported `store_lost` and `guard_floor`.
    pub(super) fn new(store_lost: bool, guard_floor: u64) -> Self {
        Restoring {
            present: AreaSet::EMPTY,
            lost: AreaSet::EMPTY,
            store_lost,
            guard_floor,
        }
    }
}

impl Restoring {
    /// The store found a committed record corrupted when it was read.
    #[cfg(feature = "storage")]
    pub(super) fn note_corrupted(&mut self) {
        self.store_lost = true;
    }
}

/// The engines of a new meter that its configuration can refuse (the security engine, the
/// largest, cannot be refused: [`MeterSecurity::provisioned`]).
type Engines = (MoneyAccount, Server, DemandMeter);

impl<
    const HN: usize,
    const DN: usize,
    const SN: usize,
    const LN: usize,
    const S: usize,
    const D: usize,
    const P: usize,
    const H: usize,
> Meter<HN, DN, SN, LN, S, D, P, H>
{
    /// A new meter of `config` (validated here) at caller time `now`, by value.
    pub(super) fn fresh(
        config: &MeterConfig,
        keys: KeyRecord,
        tariff: Tariff<S, D, P, DEFAULT_TARIFFS, H>,
        now: Timestamp,
    ) -> Result<Self, StartError> {
        let engines = Self::engines(config)?;
        Ok(Self::assembled(config, keys, tariff, now, engines))
    }

    /// A new meter of `config` (validated here) at caller time `now`, built in `slot` (any
    /// meter in it is dropped first; on an error `slot` is empty), with a copy of `tariff`.
    /// Not inlined, so that its temporaries (the copy of the tariff among them) are off the
    /// stack when the areas are restored.
    #[inline(never)]
    pub(super) fn fresh_in<'s>(
        slot: &'s mut Option<Self>,
        config: &MeterConfig,
        keys: KeyRecord,
        tariff: &Tariff<S, D, P, DEFAULT_TARIFFS, H>,
        now: Timestamp,
    ) -> Result<&'s mut Self, StartError> {
        *slot = None;
        let engines = Self::engines(config)?;
        Ok(slot.insert(Self::assembled(config, keys, tariff.clone(), now, engines)))
    }

    /// The engines `config` can refuse.
    #[inline(never)]
    fn engines(config: &MeterConfig) -> Result<Engines, StartError> {
        let account =
            MoneyAccount::new(config.account.clone(), Money::ZERO).map_err(StartError::Account)?;
        let server = Server::new(config.server.clone()).map_err(StartError::Server)?;
        let demand =
            DemandMeter::new(config.constant, config.demand_secs).map_err(StartError::Demand)?;
        Ok((account, server, demand))
    }

    /// The meter, from its checked engines. Inlined into its callers, so that the meter is
    /// written where it goes (the caller's slot) rather than built on the stack and moved.
    #[inline(always)]
    fn assembled(
        config: &MeterConfig,
        keys: KeyRecord,
        tariff: Tariff<S, D, P, DEFAULT_TARIFFS, H>,
        now: Timestamp,
        (account, server, demand): Engines,
    ) -> Self {
        let schedule = Schedule::new(tariff.offset(), config.settlement, config.catch_up);
        // Built here rather than by `MeterSecurity::new`, whose `Result` would be one more
        // copy of the engine on the stack (a fresh engine cannot be refused).
        let security = MeterSecurity::provisioned(
            config.address,
            SoftwareModule::new(keys.version, &keys.meter_keys()),
            config.security,
        );
        Meter {
            parts: Parts {
                address: config.address,
                accumulator: EnergyAccumulator::new(config.constant),
                registers: EnergyRegisters::new(),
                demand,
                tariff,
                rater: Rater::new(),
                account,
                logs: Logs::new_sized(),
                trips: Ring::new(),
                closes: Ring::new(),
                clocks: Ring::new(),
                clock_set: None,
                freezes: Freezes::new_sized(),
                schedule,
                security,
                keys,
                clock_offset: 0,
                last: None,
                now,
                contacts: Contacts::Closed,
                relay_fault: false,
                cover_open: false,
                cover_opened: 0,
                dirty: AreaSet::EMPTY,
                drive: None,
                alarm_raised: false,
                entropy: Entropy::EMPTY,
                instant: super::Instantaneous::default(),
            },
            server,
            policy: config.save,
            tx: [0; MAX_FRAME_LEN],
            tx_len: 0,
            tx_state: Answer::None,
            energy_unsaved: Energy::ZERO,
            saved_at: None,
            buzzer_until: None,
        }
    }

    /// Restores every area of `stored` into this fresh meter; says what it found.
    pub(super) fn restore_stored(&mut self, config: &MeterConfig, stored: &Stored<'_>) -> Started {
        let mut r = Restoring::new(stored.store_lost, stored.guard_floor);
        for area in RESTORE_ORDER {
            self.restore_area(config, area, stored.get(area), &mut r);
        }
        self.restored(r)
    }

    /// Restores one area of this fresh meter from its stored form (`None`: the area holds no
    /// record; an area must be given in [`RESTORE_ORDER`], each once). A form that does not
    /// restore leaves the area as the fresh meter had it and is noted as lost.
    #[inline(never)]
    pub(super) fn restore_area(
        &mut self,
        config: &MeterConfig,
        area: Area,
        bytes: Option<&[u8]>,
        r: &mut Restoring,
    ) {
        let Some(bytes) = bytes else {
            if area == Area::Hot {
                self.fresh_counter(r.guard_floor);
            }
            return;
        };
        r.present = r.present.with(area);
        let ok = match area {
            Area::Keys => self.restore_keys(bytes),
            Area::Tariff => self.restore_tariff(config, bytes),
            Area::Hot => self.restore_hot(config, bytes, r.guard_floor),
            Area::Logs => self.restore_logs(bytes),
            Area::Freezes => self.restore_freezes(bytes),
        };
        if !ok {
            r.lost = r.lost.with(area);
            if area == Area::Hot {
                self.fresh_counter(r.guard_floor);
            }
        }
    }

    /// Ends a start-up: what fell back is to be stored again; says what was found.
    pub(super) fn restored(&mut self, r: Restoring) -> Started {
        if !r.lost.is_empty() {
            self.parts.dirty = r.lost.with(Area::Hot);
        }
        if r.present.is_empty() && !r.store_lost {
            Started::Fresh
        } else if r.lost.is_empty() && !r.store_lost {
            Started::Restored
        } else {
            Started::FellBack(Fallback {
                areas: r.lost,
                store_lost: r.store_lost,
            })
        }
    }

    /// No hot state: fresh engines, but the security counter starts at the floor the store
    /// kept (and under the stored keys), so that no command accepted before is accepted again.
    #[inline(never)]
    fn fresh_counter(&mut self, guard_floor: u64) {
        let security = &mut self.parts.security;
        let mut state = security.state();
        state.last_counter = counter_floor(state.key_version, guard_floor);
        if security.check_restore(&state).is_ok() {
            security.set_checked_state(state);
        }
    }

    /// Restores the hot state's engines in place, all or none; `false` if any refuses. Each
    /// engine's state is checked against the engine already in the meter (its configuration,
    /// and for the security engine the stored keys' module, [`Meter::restore_keys`]) before
    /// any is replaced.
    #[inline(never)]
    fn restore_hot(&mut self, config: &MeterConfig, bytes: &[u8], guard_floor: u64) -> bool {
        let Ok(mut state) = MeterState::parse(bytes) else {
            return false;
        };
        let floor = counter_floor(state.security.key_version, guard_floor);
        if state.security.last_counter < floor {
            state.security.last_counter = floor;
        }
        let p = &mut self.parts;
        if p.account.check_restore(&state.account).is_err()
            || p.security.check_restore(&state.security).is_err()
        {
            return false;
        }
        let Ok(server) = Server::restore(config.server.clone(), state.server) else {
            return false;
        };
        let (Ok(registers), Ok(accumulator), Ok(rater), Ok(demand)) = (
            EnergyRegisters::restore(state.registers),
            EnergyAccumulator::restore(config.constant, state.accumulator),
            Rater::restore(&p.tariff, state.rater),
            DemandMeter::restore(config.constant, config.demand_secs, state.demand),
        ) else {
            return false;
        };
        p.security.set_checked_state(state.security);
        p.account.set_checked_state(state.account);
        self.server = server;
        p.registers = registers;
        p.accumulator = accumulator;
        p.rater = rater;
        p.demand = demand;
        p.clock_offset = state.clock_offset;
        p.last = state.last;
        p.now = p.now.checked_add_secs(state.clock_offset).unwrap_or(p.now);
        // A clock found behind the latest time run to is logged at the first input.
        if let Some(last) = p.last {
            p.now = p.now.max(last);
        }
        p.contacts = if state.closed {
            Contacts::Closed
        } else {
            Contacts::Open
        };
        p.relay_fault = state.relay_fault;
        p.cover_opened = state.cover_opened;
        true
    }

    // Each area is restored in a function of its own, so that their temporaries do not share
    // one stack frame.
    /// The stored keys take the place of the provisioned ones, in the security engine too.
    #[inline(never)]
    fn restore_keys(&mut self, bytes: &[u8]) -> bool {
        match KeyRecord::parse(bytes) {
            Ok(k) => {
                let p = &mut self.parts;
                p.keys = k;
                let module = SoftwareModule::new(p.keys.version, &p.keys.meter_keys());
                p.security.replace_module(module);
                true
            }
            Err(_) => false,
        }
    }

    /// The stored tariff takes the place of the provisioned one, read into it (all or
    /// nothing), and the freeze schedule follows its offset.
    #[inline(never)]
    fn restore_tariff(&mut self, config: &MeterConfig, bytes: &[u8]) -> bool {
        let p = &mut self.parts;
        if p.tariff.parse_replace(bytes).is_err() {
            return false;
        }
        p.schedule = Schedule::new(p.tariff.offset(), config.settlement, config.catch_up);
        true
    }

    /// The freezes, read straight into the meter's rings (the same bytes as a
    /// [`FreezesState`]); emptied again if they do not restore.
    #[inline(never)]
    fn restore_freezes(&mut self, bytes: &[u8]) -> bool {
        let freezes = &mut self.parts.freezes;
        let read =
            parse_fields::<FreezesState<Money, 5, HN, DN, SN>, _>(bytes, |r| freezes.read_into(r));
        if read.is_err() {
            freezes.clear();
        }
        read.is_ok()
    }

    /// The logs, the relay records and the clock changes, read straight into the meter's rings
    /// (the same bytes as a [`MeterLogs`](super::MeterLogs)); emptied again if they do not
    /// restore.
    #[inline(never)]
    fn restore_logs(&mut self, bytes: &[u8]) -> bool {
        let p = &mut self.parts;
        let read = parse_fields::<super::MeterLogs<LN>, _>(bytes, |r| {
            p.logs.read_into(r)?;
            p.trips.read_into(r)?;
            p.closes.read_into(r)?;
            // `ML` version 1 has no clock-change records.
            if r.version() >= 2 {
                p.clocks.read_into(r)
            } else {
                p.clocks.clear();
                Ok(())
            }
        });
        if read.is_err() {
            p.logs.clear();
            p.trips.clear();
            p.closes.clear();
            p.clocks.clear();
        }
        read.is_ok()
    }
}

/// The counter under `version` below which nothing may be accepted, from a guard floor.
fn counter_floor(version: u16, floor: u64) -> u32 {
    let floor_version = floor >> 32;
    match u64::from(version).cmp(&floor_version) {
        core::cmp::Ordering::Greater => 0,
        core::cmp::Ordering::Equal => u32::try_from(floor & u64::from(u32::MAX)).unwrap_or(0),
        // The keys are older than a version already in use: accept nothing under them.
        core::cmp::Ordering::Less => u32::MAX,
    }
}

#[cfg(test)]
mod tests {
    use super::counter_floor;

    #[test]
    fn counter_floors() {
        assert_eq!(counter_floor(1, 0), 0);
        assert_eq!(counter_floor(1, 1 << 32 | 17), 17);
        assert_eq!(counter_floor(2, 1 << 32 | 17), 0);
        assert_eq!(counter_floor(1, 2 << 32 | 3), u32::MAX);
    }
}
