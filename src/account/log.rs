//! The account's event logs: fixed-capacity rings read back as "last 1, last 2, ...".

use super::event::{
    AlarmEvent, ChargeRecord, Effects, EmergencyEvent, OverdraftRecord, RelayEvent,
};
use super::machine::AccountStateError;
use super::purchase::PurchaseRecord;
use crate::ring::{Ring, RingState};
use crate::snapshot::struct_field;

/// Default depth of each log: 10 records, as DL/T 645 keeps the last 10 purchase, trip and
/// close records.
pub const DEFAULT_LOG_DEPTH: usize = 10;

/// The account's logs, `N` records deep each: purchases, overdraft episodes, relay events with
/// their reasons, alarm changes, standing charges and emergency credit changes.
///
/// Feed it every [`Effects`] with [`Logs::record`] and every purchase with
/// [`Logs::record_purchase`]. [`Ring::pushed`] gives the DL/T 645 totals (for example the trip
/// count).
///
/// ```
/// use prepaid_meter::account::{Account, Config, Limits, Logs};
/// use prepaid_meter::purchase::{CustomerNumber, Purchase};
/// use prepaid_meter::time::Timestamp;
/// use prepaid_meter::units::Money;
///
/// let yuan = |y| Money::from_units(y).unwrap();
/// let limits = Limits { alarm1: yuan(20), alarm2: yuan(10), overdraft: yuan(0),
///                       hoarding: yuan(5000), reconnect: yuan(0) };
/// let mut account = Account::new(Config::local(limits), yuan(0)).unwrap();
/// let mut logs = Logs::new();
/// let now = Timestamp::from_unix(1_735_689_600);
/// logs.record(&account.tick(now)); // balance 0: credit exhausted, relay trips
/// let customer = CustomerNumber::new([0, 0, 0, 0, 0x12, 0x34]);
/// let receipt = account.open(now, Purchase { customer, count: 1, amount: yuan(100) }).unwrap();
/// logs.record_purchase(&receipt.record);
/// logs.record(&receipt.effects);
/// assert_eq!(logs.purchases().last(1).unwrap().balance_after, yuan(100));
/// assert_eq!(logs.relay().pushed(), 2); // tripped, then ready for the button
/// ```
#[derive(Clone, Debug, PartialEq, Eq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub struct Logs<U, const N: usize = DEFAULT_LOG_DEPTH> {
    purchases: Ring<PurchaseRecord<U>, N>,
    overdrafts: Ring<OverdraftRecord<U>, N>,
    relay: Ring<RelayEvent<U>, N>,
    alarms: Ring<AlarmEvent<U>, N>,
    charges: Ring<ChargeRecord<U>, N>,
    emergency: Ring<EmergencyEvent<U>, N>,
}

/// The state of [`Logs`] as plain data, for [`Logs::state`] and [`Logs::restore`]. Stored on
/// its own as a [`Snapshot`](crate::snapshot::Snapshot) (magic `LM` for money credit, `LE` for
/// energy, version 1).
///
/// # Binary form (version 1)
///
/// The six rings in the order of the fields, each as a ring's binary form (a `u16` record
/// count, the records in storage order, the index of the oldest as a `u16`, the count ever
/// pushed as a `u32`). Amounts are `i64`, times `i64` Unix seconds; the records:
///
/// | record | fields | bytes |
/// |---|---|---|
/// | [`PurchaseRecord`] | time, count (`u32`), amount, balance before, balance after, emergency repaid, debt recovered, overdraft repaid, standing charge | 68 |
/// | [`OverdraftRecord`] | started, ended, deepest | 24 |
/// | [`RelayEvent`] | time, from, to (relay states, 1 or 2 bytes each), trigger (1 byte; a command adds its `N1` code and for `1D`/`1E` a `u32` delay), balance | 19 to 27 |
/// | [`AlarmEvent`] | time, from, to (flag bytes), balance | 18 |
/// | [`ChargeRecord`] | time, days (`u32`), amount | 20 |
/// | [`EmergencyEvent`] | time, from, to (1 byte each), outstanding | 18 |
///
/// Empty logs take 48 bytes of fields (57 framed); full logs of the default depth 10 about
/// 1.9 KiB.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct LogsState<U, const N: usize = DEFAULT_LOG_DEPTH> {
    /// Purchase records.
    pub purchases: RingState<PurchaseRecord<U>, N>,
    /// Completed overdraft episodes.
    pub overdrafts: RingState<OverdraftRecord<U>, N>,
    /// Relay events.
    pub relay: RingState<RelayEvent<U>, N>,
    /// Alarm flag changes.
    pub alarms: RingState<AlarmEvent<U>, N>,
    /// Standing charges taken.
    pub charges: RingState<ChargeRecord<U>, N>,
    /// Emergency credit state changes.
    pub emergency: RingState<EmergencyEvent<U>, N>,
}

// The same bytes as the logs' `LogsState` (six rings in turn), written and read in place from
// the logs themselves (`Field` for `Ring`): a ring whose state is impossible is refused with
// `SnapshotError::InvalidField`.
struct_field!(Logs<U>[const N: usize] {
    purchases,
    overdrafts,
    relay,
    alarms,
    charges,
    emergency,
});

impl<U: Copy, const N: usize> Default for Logs<U, N> {
    fn default() -> Self {
        Logs::new_sized()
    }
}

impl<U: Copy> Logs<U> {
    /// [`Logs::new_sized`] at the default capacities, so that a call needs no type
    /// annotations; see it for the details.
    pub const fn new() -> Self {
        Self::new_sized()
    }
}

impl<U: Copy, const N: usize> Logs<U, N> {
    /// Empty logs.
    ///
    /// Generic over the capacities (name them, `Logs::<..>::new_sized`, or let them be
    /// inferred from where the result goes); [`Logs::new`] is this at the default ones.
    pub const fn new_sized() -> Self {
        Logs {
            purchases: Ring::new(),
            overdrafts: Ring::new(),
            relay: Ring::new(),
            alarms: Ring::new(),
            charges: Ring::new(),
            emergency: Ring::new(),
        }
    }

    /// The logs' state as plain data, to store and give back to [`Logs::restore`].
    pub fn state(&self) -> LogsState<U, N> {
        LogsState {
            purchases: self.purchases.state(),
            overdrafts: self.overdrafts.state(),
            relay: self.relay.state(),
            alarms: self.alarms.state(),
            charges: self.charges.state(),
            emergency: self.emergency.state(),
        }
    }

    /// Logs from a stored state. Logs have no configuration beyond their depth `N`; each ring
    /// must be in a state a ring can be in (see [`Ring::restore`]).
    ///
    /// Error: [`AccountStateError::Log`].
    pub fn restore(state: LogsState<U, N>) -> Result<Self, AccountStateError> {
        let e = |_| AccountStateError::Log;
        Ok(Logs {
            purchases: Ring::restore(state.purchases).map_err(e)?,
            overdrafts: Ring::restore(state.overdrafts).map_err(e)?,
            relay: Ring::restore(state.relay).map_err(e)?,
            alarms: Ring::restore(state.alarms).map_err(e)?,
            charges: Ring::restore(state.charges).map_err(e)?,
            emergency: Ring::restore(state.emergency).map_err(e)?,
        })
    }

    /// Forgets every record (and the counts): empty logs, as [`Logs::new_sized`].
    pub fn clear(&mut self) {
        self.purchases.clear();
        self.overdrafts.clear();
        self.relay.clear();
        self.alarms.clear();
        self.charges.clear();
        self.emergency.clear();
    }

    /// Stores every record in `effects`.
    pub fn record(&mut self, effects: &Effects<U>) {
        if let Some(e) = effects.relay {
            self.relay.push(e);
        }
        if let Some(e) = effects.alarm {
            self.alarms.push(e);
        }
        if let Some(e) = effects.overdraft {
            self.overdrafts.push(e);
        }
        if let Some(e) = effects.standing_charge {
            self.charges.push(e);
        }
        if let Some(e) = effects.emergency {
            self.emergency.push(e);
        }
    }

    /// Stores a purchase record.
    pub fn record_purchase(&mut self, record: &PurchaseRecord<U>) {
        self.purchases.push(*record);
    }

    /// Purchase records (DL/T 645 `0333xxxx`).
    pub fn purchases(&self) -> &Ring<PurchaseRecord<U>, N> {
        &self.purchases
    }

    /// Completed overdraft episodes.
    pub fn overdrafts(&self) -> &Ring<OverdraftRecord<U>, N> {
        &self.overdrafts
    }

    /// Relay events with their reasons (DL/T 645 trip and close records).
    pub fn relay(&self) -> &Ring<RelayEvent<U>, N> {
        &self.relay
    }

    /// Alarm flag changes.
    pub fn alarms(&self) -> &Ring<AlarmEvent<U>, N> {
        &self.alarms
    }

    /// Standing charges taken.
    pub fn charges(&self) -> &Ring<ChargeRecord<U>, N> {
        &self.charges
    }

    /// Emergency credit state changes.
    pub fn emergency(&self) -> &Ring<EmergencyEvent<U>, N> {
        &self.emergency
    }
}
