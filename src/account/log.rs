//! The account's event logs: fixed-capacity rings read back as "last 1, last 2, ...".

use super::event::{
    AlarmEvent, ChargeRecord, Effects, EmergencyEvent, OverdraftRecord, RelayEvent,
};
use super::purchase::PurchaseRecord;
use crate::ring::Ring;

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
/// let mut account: Account<Money> = Account::new(Config::local(limits), yuan(0)).unwrap();
/// let mut logs: Logs<Money> = Logs::new();
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

impl<U: Copy, const N: usize> Default for Logs<U, N> {
    fn default() -> Self {
        Logs::new()
    }
}

impl<U: Copy, const N: usize> Logs<U, N> {
    /// Empty logs.
    pub const fn new() -> Self {
        Logs {
            purchases: Ring::new(),
            overdrafts: Ring::new(),
            relay: Ring::new(),
            alarms: Ring::new(),
            charges: Ring::new(),
            emergency: Ring::new(),
        }
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
