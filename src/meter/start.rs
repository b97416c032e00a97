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
use crate::tariff::{Rater, Tariff};
use crate::time::Timestamp;
use crate::units::{Energy, Money};
use crate::wire::dlt645::MAX_FRAME_LEN;

/// The engines restored from a hot state.
struct Hot {
    account: MoneyAccount,
    security: MeterSecurity<SoftwareModule>,
    server: Server,
    registers: EnergyRegisters,
    accumulator: EnergyAccumulator,
    rater: Rater,
    demand: DemandMeter,
    state: MeterState,
}

impl<const HN: usize, const DN: usize, const SN: usize, const LN: usize> Meter<HN, DN, SN, LN> {
    /// Builds the meter; returns it with the areas that did not restore.
    pub(super) fn assemble(
        config: MeterConfig,
        provisioned: KeyRecord,
        tariff: Tariff,
        stored: &Stored<'_>,
        now: Timestamp,
    ) -> Result<(Self, AreaSet), StartError> {
        // The configuration first: a fresh engine of each kind validates it.
        let fresh_account =
            MoneyAccount::new(config.account.clone(), Money::ZERO).map_err(StartError::Account)?;
        let fresh_server = Server::new(config.server.clone()).map_err(StartError::Server)?;
        let fresh_demand =
            DemandMeter::new(config.constant, config.demand_secs).map_err(StartError::Demand)?;
        let module = SoftwareModule::new(provisioned.version, &provisioned.meter_keys());
        let fresh_security = MeterSecurity::new(config.address, module, config.security)
            .map_err(StartError::Security)?;
        let mut lost = AreaSet::EMPTY;

        let keys = match stored.keys.map(KeyRecord::parse) {
            None => provisioned,
            Some(Ok(k)) => k,
            Some(Err(_)) => {
                lost = lost.with(Area::Keys);
                provisioned
            }
        };
        let tariff = match stored.tariff.map(Tariff::parse) {
            None => tariff,
            Some(Ok(t)) => t,
            Some(Err(_)) => {
                lost = lost.with(Area::Tariff);
                tariff
            }
        };
        let hot = stored
            .hot
            .map(|bytes| restore_hot(&config, &keys, &tariff, bytes, stored.guard_floor));
        let hot = match hot {
            None => None,
            Some(Some(h)) => Some(h),
            Some(None) => {
                lost = lost.with(Area::Hot);
                None
            }
        };
        let hot = match hot {
            Some(h) => h,
            None => {
                // No hot state: fresh engines, but the security counter starts at the floor
                // the store kept, so that no command accepted before is accepted again.
                let module = SoftwareModule::new(keys.version, &keys.meter_keys());
                let mut state = fresh_security.state();
                state.key_version = keys.version;
                state.last_counter = counter_floor(keys.version, stored.guard_floor);
                let security =
                    MeterSecurity::restore(config.address, module, config.security, state)
                        .unwrap_or(fresh_security);
                Hot {
                    state: MeterState {
                        account: fresh_account.state(),
                        security: security.state(),
                        server: fresh_server.state(),
                        registers: EnergyRegisters::<4>::new().state(),
                        accumulator: EnergyAccumulator::new(config.constant).state(),
                        rater: Rater::new().state(),
                        demand: fresh_demand.state(),
                        clock_offset: 0,
                        last: None,
                        closed: true,
                        relay_fault: false,
                        cover_opened: 0,
                    },
                    account: fresh_account,
                    security,
                    server: fresh_server,
                    registers: EnergyRegisters::new(),
                    accumulator: EnergyAccumulator::new(config.constant),
                    rater: Rater::new(),
                    demand: fresh_demand,
                }
            }
        };
        let (logs, trips, closes) = match stored.logs.map(restore_logs::<LN>) {
            None => (Logs::new(), Ring::new(), Ring::new()),
            Some(Some(l)) => l,
            Some(None) => {
                lost = lost.with(Area::Logs);
                (Logs::new(), Ring::new(), Ring::new())
            }
        };
        let freezes = match stored.freezes.map(|b| {
            FreezesState::<Money, 5, HN, DN, SN>::parse(b)
                .ok()
                .and_then(|s| Freezes::restore(s).ok())
        }) {
            None => Freezes::new(),
            Some(Some(f)) => f,
            Some(None) => {
                lost = lost.with(Area::Freezes);
                Freezes::new()
            }
        };
        let offset = tariff.offset();
        let state = hot.state;
        let parts = Parts {
            address: config.address,
            accumulator: hot.accumulator,
            registers: hot.registers,
            demand: hot.demand,
            tariff,
            rater: hot.rater,
            account: hot.account,
            logs,
            trips,
            closes,
            freezes,
            schedule: Schedule::new(offset, config.settlement, config.catch_up),
            security: hot.security,
            keys,
            clock_offset: state.clock_offset,
            last: state.last,
            now: now.checked_add_secs(state.clock_offset).unwrap_or(now),
            contacts: if state.closed {
                Contacts::Closed
            } else {
                Contacts::Open
            },
            relay_fault: state.relay_fault,
            cover_open: false,
            cover_opened: state.cover_opened,
            // What fell back is to be stored again.
            dirty: if lost.is_empty() {
                AreaSet::EMPTY
            } else {
                lost.with(Area::Hot)
            },
            drive: None,
            alarm_raised: false,
            entropy: Entropy::EMPTY,
            instant: super::Instantaneous::default(),
        };
        let meter = Meter {
            parts,
            server: hot.server,
            policy: config.save,
            tx: [0; MAX_FRAME_LEN],
            tx_len: 0,
            tx_state: Answer::None,
            energy_unsaved: Energy::ZERO,
            saved_at: None,
            buzzer_until: None,
        };
        Ok((meter, lost))
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

/// Every engine of a stored hot state, or `None` if any of them refuses its state.
fn restore_hot(
    config: &MeterConfig,
    keys: &KeyRecord,
    tariff: &Tariff,
    bytes: &[u8],
    guard_floor: u64,
) -> Option<Hot> {
    let mut state = MeterState::parse(bytes).ok()?;
    let floor = counter_floor(state.security.key_version, guard_floor);
    if state.security.last_counter < floor {
        state.security.last_counter = floor;
    }
    let account = MoneyAccount::restore(config.account.clone(), state.account.clone()).ok()?;
    let module = SoftwareModule::new(keys.version, &keys.meter_keys());
    let security: MeterSecurity<SoftwareModule> =
        MeterSecurity::restore(config.address, module, config.security, state.security).ok()?;
    let server = Server::restore(config.server.clone(), state.server.clone()).ok()?;
    let registers = EnergyRegisters::restore(state.registers).ok()?;
    let accumulator = EnergyAccumulator::restore(config.constant, state.accumulator).ok()?;
    let rater = Rater::restore(tariff, state.rater).ok()?;
    let demand =
        DemandMeter::restore(config.constant, config.demand_secs, state.demand.clone()).ok()?;
    Some(Hot {
        account,
        security,
        server,
        registers,
        accumulator,
        rater,
        demand,
        state,
    })
}

type RestoredLogs<const N: usize> = (
    Logs<Money, N>,
    Ring<super::RelayRecord, N>,
    Ring<super::RelayRecord, N>,
);

fn restore_logs<const N: usize>(bytes: &[u8]) -> Option<RestoredLogs<N>> {
    let s = MeterLogs::<N>::parse(bytes).ok()?;
    Some((
        Logs::restore(s.account).ok()?,
        Ring::restore(s.trips).ok()?,
        Ring::restore(s.closes).ok()?,
    ))
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
