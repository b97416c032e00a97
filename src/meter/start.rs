//! Start-up: the meter assembled from its configuration and what the store holds.

use super::flows::Entropy;
use super::stored::{Area, AreaSet, KeyRecord, MeterLogs, MeterState};
use super::{Answer, Meter, MeterConfig, Parts, StartError, Stored};
use crate::account::{Contacts, Logs, MoneyAccount};
use crate::endpoint::dlt645::Server;
use crate::freeze::{Freezes, FreezesState, Schedule};
use crate::metering::{DemandMeter, EnergyAccumulator, EnergyRegisters};
use crate::ring::Ring;
use crate::security::{MeterSecurity, SoftwareModule};
use crate::snapshot::Snapshot;
use crate::tariff::{DEFAULT_TARIFFS, Rater, Tariff};
use crate::time::Timestamp;
use crate::units::{Energy, Money};
use crate::wire::dlt645::MAX_FRAME_LEN;

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
    /// Builds the meter; returns it with the areas that did not restore. The meter is built
    /// once, fresh, and each area is then restored into it in place, so that no more than one
    /// area's temporaries are alive at a time (a Cortex-M's stack is small).
    pub(super) fn assemble(
        config: MeterConfig,
        provisioned: KeyRecord,
        tariff: Tariff<S, D, P, DEFAULT_TARIFFS, H>,
        stored: &Stored<'_>,
        now: Timestamp,
    ) -> Result<(Self, AreaSet), StartError> {
        let mut meter = Self::fresh(&config, provisioned, tariff, now)?;
        let lost = meter.restore_areas(&config, stored);
        Ok((meter, lost))
    }

    /// A new meter of `config` (validated here) at caller time `now`.
    pub(super) fn fresh(
        config: &MeterConfig,
        keys: KeyRecord,
        tariff: Tariff<S, D, P, DEFAULT_TARIFFS, H>,
        now: Timestamp,
    ) -> Result<Self, StartError> {
        let account =
            MoneyAccount::new(config.account.clone(), Money::ZERO).map_err(StartError::Account)?;
        let server = Server::new(config.server.clone()).map_err(StartError::Server)?;
        let demand =
            DemandMeter::new(config.constant, config.demand_secs).map_err(StartError::Demand)?;
        let module = SoftwareModule::new(keys.version, &keys.meter_keys());
        let security = MeterSecurity::new(config.address, module, config.security)
            .map_err(StartError::Security)?;
        let schedule = Schedule::new(tariff.offset(), config.settlement, config.catch_up);
        Ok(Meter {
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
        })
    }

    /// Restores every stored area into this fresh meter; returns the areas that did not.
    #[inline(never)]
    pub(super) fn restore_areas(&mut self, config: &MeterConfig, stored: &Stored<'_>) -> AreaSet {
        let mut lost = AreaSet::EMPTY;
        if let Some(bytes) = stored.keys
            && !self.restore_keys(bytes)
        {
            lost = lost.with(Area::Keys);
        }
        if let Some(bytes) = stored.tariff
            && !self.restore_tariff(config, bytes)
        {
            lost = lost.with(Area::Tariff);
        }
        let restored = match stored.hot {
            None => false,
            Some(bytes) => {
                let ok = self.restore_hot(config, bytes, stored.guard_floor);
                if !ok {
                    lost = lost.with(Area::Hot);
                }
                ok
            }
        };
        if !restored {
            // No hot state: fresh engines, but the security counter starts at the floor the
            // store kept (and under the stored keys), so that no command accepted before is
            // accepted again.
            let keys = &self.parts.keys;
            let module = SoftwareModule::new(keys.version, &keys.meter_keys());
            let mut state = self.parts.security.state();
            state.key_version = keys.version;
            state.last_counter = counter_floor(keys.version, stored.guard_floor);
            if let Ok(s) = MeterSecurity::restore(config.address, module, config.security, state) {
                self.parts.security = s;
            }
        }
        if let Some(bytes) = stored.logs
            && !self.restore_logs(bytes)
        {
            lost = lost.with(Area::Logs);
        }
        if let Some(bytes) = stored.freezes
            && !self.restore_freezes(bytes)
        {
            lost = lost.with(Area::Freezes);
        }
        if !lost.is_empty() {
            // What fell back is to be stored again.
            self.parts.dirty = lost.with(Area::Hot);
        }
        lost
    }

    /// Restores the hot state's engines in place, all or none; `false` if any refuses.
    #[inline(never)]
    fn restore_hot(&mut self, config: &MeterConfig, bytes: &[u8], guard_floor: u64) -> bool {
        let Ok(mut state) = MeterState::parse(bytes) else {
            return false;
        };
        let floor = counter_floor(state.security.key_version, guard_floor);
        if state.security.last_counter < floor {
            state.security.last_counter = floor;
        }
        let keys = &self.parts.keys;
        let module = SoftwareModule::new(keys.version, &keys.meter_keys());
        let (Ok(account), Ok(security), Ok(server)) = (
            MoneyAccount::restore(config.account.clone(), state.account),
            MeterSecurity::restore(config.address, module, config.security, state.security),
            Server::restore(config.server.clone(), state.server),
        ) else {
            return false;
        };
        let (Ok(registers), Ok(accumulator), Ok(rater), Ok(demand)) = (
            EnergyRegisters::restore(state.registers),
            EnergyAccumulator::restore(config.constant, state.accumulator),
            Rater::restore(&self.parts.tariff, state.rater),
            DemandMeter::restore(config.constant, config.demand_secs, state.demand),
        ) else {
            return false;
        };
        let p = &mut self.parts;
        p.account = account;
        p.security = security;
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
    #[inline(never)]
    fn restore_keys(&mut self, bytes: &[u8]) -> bool {
        match KeyRecord::parse(bytes) {
            Ok(k) => {
                self.parts.keys = k;
                true
            }
            Err(_) => false,
        }
    }

    #[inline(never)]
    fn restore_tariff(&mut self, config: &MeterConfig, bytes: &[u8]) -> bool {
        match Tariff::<S, D, P, DEFAULT_TARIFFS, H>::parse_sized(bytes) {
            Ok(t) => {
                self.parts.schedule = Schedule::new(t.offset(), config.settlement, config.catch_up);
                self.parts.tariff = t;
                true
            }
            Err(_) => false,
        }
    }

    #[inline(never)]
    fn restore_freezes(&mut self, bytes: &[u8]) -> bool {
        match FreezesState::<Money, 5, HN, DN, SN>::parse(bytes)
            .ok()
            .and_then(|s| Freezes::restore(s).ok())
        {
            Some(f) => {
                self.parts.freezes = f;
                true
            }
            None => false,
        }
    }

    #[inline(never)]
    fn restore_logs(&mut self, bytes: &[u8]) -> bool {
        let Ok(s) = MeterLogs::<LN>::parse(bytes) else {
            return false;
        };
        let (Ok(logs), Ok(trips), Ok(closes), Ok(clocks)) = (
            Logs::restore(s.account),
            Ring::restore(s.trips),
            Ring::restore(s.closes),
            Ring::restore(s.clocks),
        ) else {
            return false;
        };
        self.parts.logs = logs;
        self.parts.trips = trips;
        self.parts.closes = closes;
        self.parts.clocks = clocks;
        true
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
