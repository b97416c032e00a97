//! The prepaid account of a local cost-control meter: balance, alarms, overdraft, emergency
//! credit, standing charges and debt recovery, relay decisions and recharge rules.
//!
//! The account is sans-IO. Every call takes the current time and returns what it decided
//! ([`Effects`]: a relay drive pulse, the alarm flags, and records to log) instead of doing it.
//! It receives consumption already rated ([`Account::debit`]); prices only appear where credit in
//! energy must be re-expressed ([`Account::change_price`]). Credit is money by default
//! ([`MoneyAccount`]) or energy ([`EnergyAccount`]); every amount is in that one unit.
//!
//! ```
//! use prepaid_meter::account::{
//!     AlarmFlags, Config, Contacts, Limits, MoneyAccount, RelayState, TripReason,
//! };
//! use prepaid_meter::purchase::{CustomerNumber, Purchase};
//! use prepaid_meter::time::Timestamp;
//! use prepaid_meter::units::Money;
//!
//! let yuan = |y| Money::from_units(y).unwrap();
//! let limits = Limits {
//!     alarm1: yuan(20),    // 04001001
//!     alarm2: yuan(10),    // 04001002
//!     overdraft: yuan(5),  // 04001003: may go down to -5.00
//!     hoarding: yuan(5000), // 04001004
//!     reconnect: yuan(1),  // 04001005
//! };
//! let mut account = MoneyAccount::new(Config::local(limits), yuan(0)).unwrap();
//! let t = Timestamp::from_unix(1_735_689_600);
//! let customer = CustomerNumber::new([0, 0, 0, 0, 0x12, 0x34]);
//! account.open(t, Purchase { customer, count: 1, amount: yuan(30) }).unwrap();
//!
//! // 15.00 of rated consumption: below alarm 1.
//! let fx = account.debit(t, yuan(15)).unwrap();
//! assert!(fx.alarms.contains(AlarmFlags::LOW_CREDIT_1));
//! // 20.00 more: -5.00, the overdraft limit. Credit is exhausted and the relay trips.
//! let fx = account.debit(t, yuan(20)).unwrap();
//! assert_eq!(fx.drive, Some(Contacts::Open));
//! assert_eq!(account.relay(), RelayState::Open(TripReason::Credit));
//!
//! // A recharge repays the overdraft; above the reconnect threshold the customer may reconnect.
//! let receipt = account.recharge(t, Purchase { customer, count: 2, amount: yuan(50) }).unwrap();
//! assert_eq!(receipt.record.balance_before, yuan(-5));
//! assert_eq!(receipt.record.overdraft_repaid, yuan(5));
//! assert_eq!(receipt.record.balance_after, yuan(45));
//! assert_eq!(account.relay(), RelayState::Ready(TripReason::Credit));
//! assert_eq!(account.press_button(t).drive, Some(Contacts::Closed));
//! ```
//!
//! # Credit levels and alarm flags
//!
//! Thresholds are validated at construction: `0 <= alarm2 <= alarm1 < hoarding`,
//! `overdraft >= 0` (a magnitude), `0 <= reconnect < hoarding`. With balance `b`:
//!
//! | row | flag ([`AlarmFlags`]) | set when | cleared when |
//! |---|---|---|---|
//! | F1 | `LOW_CREDIT_1` | `b <= alarm1` | `b > alarm1` |
//! | F2 | `LOW_CREDIT_2` | `b <= alarm2` | `b > alarm2` |
//! | F3 | `OVERDRAFT` | `b < 0` (an overdraft episode starts) | `b >= 0` (an [`OverdraftRecord`] is written) |
//! | F4 | `EXHAUSTED` | `b <= -overdraft` | `b > reconnect` (hysteresis: between the two it keeps its value) |
//! | F5 | `REMOTE` | command `2A` | command `2B` |
//!
//! The alarm output is on while any flag is set. Under remote cost control only `REMOTE` exists.
//!
//! # Relay
//!
//! The relay is latching: [`RelayState::Closed`], [`RelayState::Open`] with a [`TripReason`]
//! (the button does nothing), or [`RelayState::Ready`] (open, reconnection allowed: the
//! customer's button closes it). Each call derives the trip demanded, by priority: none while
//! keep-power is on; else a remote trip ([`TripReason::Remote`]); else exhausted credit
//! ([`TripReason::Credit`], flag F4); else, with [`Config::low_credit_trip`], alarm 2 not yet
//! acknowledged ([`TripReason::LowCredit`]). A friendly period ([`FriendlyCalendar`]) holds back
//! a *new* credit or low-credit trip of a closed relay; it never closes an open one. Consumption
//! is charged throughout, and the overdraft recorded, whatever holds the trip back.
//!
//! | row | from | event | to | drive |
//! |---|---|---|---|---|
//! | R1 | `Closed` | credit exhausted | `Open(Credit)` | open |
//! | R2 | `Closed` | credit exhausted in a friendly period or with keep-power on | `Closed` (trip held back) | – |
//! | R3 | `Closed`, trip held back | the friendly period ends, or `3B` keep-power off, still exhausted | `Open(Credit)` | open |
//! | R4 | `Open(Credit)` | balance above the reconnect threshold (recharge, emergency credit, conversion); [`ReconnectMode::Button`] | `Ready(Credit)` | – |
//! | R5 | `Open(Credit)` | the same with [`ReconnectMode::Direct`] | `Closed` | close |
//! | R6 | `Open(Credit)` | balance rises but stays at or below the reconnect threshold | `Open(Credit)` | – |
//! | R7 | `Ready(_)` | button, no trip demanded | `Closed` | close |
//! | R8 | `Closed` | balance at or below alarm 2, low-credit trip enabled, not acknowledged | `Ready(LowCredit)` | open |
//! | R9 | `Ready(LowCredit)` | button, or `1C` | `Closed`, acknowledged until the balance rises above alarm 2 | close |
//! | R10 | `Ready(_)` | a trip demanded again (for example a standing charge exhausts credit) | `Open(reason)` | – |
//! | R11 | any | `1A` trip | `Open(Remote)` | open if closed |
//! | R12 | any | `1A` with keep-power on | refused, [`CommandError::KeepPower`] (status `0020`) | – |
//! | R13 | `Open(Remote)` | `1B` reconnection allowed, nothing else demanded | `Ready(Remote)` | – |
//! | R14 | `Open(Remote)` | `1C` direct close, nothing else demanded | `Closed` | close |
//! | R15 | `Open(Remote)` or `Open(Credit)` | `1B` or `1C` while credit is exhausted | `Open(Credit)`: a direct close does not override exhausted credit (send `3A` keep-power to force supply) | – |
//! | R16 | `Closed` | `1D`/`1E` trip with automatic restore after a delay | `Open(Remote)` | open |
//! | R17 | `Open(Remote)` from `1D` | the restore time passes | `Ready(Remote)` | – |
//! | R18 | `Open(Remote)` from `1E` | the restore time passes | `Closed` | close |
//! | R19 | not `Closed` | `1D`/`1E` | refused, [`CommandError::AlreadyTripped`] (`0100`) | – |
//! | R20 | any | `1D`/`1E` with keep-power on, or a zero delay | refused, [`CommandError::RestoreKeepPower`] (`0040`), [`CommandError::InvalidRestoreTime`] (`0080`) | – |
//! | R21 | `Open(_)` | `3A` keep-power on: lifts a remote trip, holds back every trip | `Ready(reason)` or `Closed`, as [`Config::reconnect`] says | close if direct |
//! | R22 | any | `2A`/`2B` alarm on/off | unchanged (flag F5 only) | – |
//!
//! Under remote cost control ([`CostControl::Remote`]) the account holds no money: credit rows
//! (R1-R10) never fire, money operations are refused with `RemoteCostControl`, and R11-R22 and
//! the button work as above.
//!
//! # Emergency credit
//!
//! | row | from | event | to |
//! |---|---|---|---|
//! | E1 | `Unavailable` | balance at or below the threshold, nothing owed | `Available` |
//! | E2 | `Available` | balance above the threshold | `Unavailable` |
//! | E3 | `Available` | the customer confirms ([`Account::activate_emergency_credit`]): the amount is added and owed | `InUse` |
//! | E4 | `InUse` | a recharge smaller than the amount owed repays part of it | `InUse` |
//! | E5 | `InUse` | the amount owed is repaid in full | `Unavailable`, or `Available` if the balance is still at or below the threshold |
//! | E6 | `Unavailable` or `InUse` | the customer confirms | refused, [`AccountError::EmergencyUnavailable`] |
//!
//! # Opening and recharging
//!
//! | row | from | event | result |
//! |---|---|---|---|
//! | A1 | not open | [`Account::open`] with count = current + 1, amount >= 0 | open, bound to the customer number; the amount is the first purchase |
//! | A2 | not open | a recharge | refused, [`RechargeError::NotOpen`] |
//! | A3 | open | an open | refused, [`RechargeError::AlreadyOpen`] |
//! | A4 | open | [`Account::recharge`]: same customer, amount > 0, count = current + 1, result within the hoarding limit | applied, count + 1 |
//! | A5 | open | count equal to the current one / any other wrong count | refused, [`RechargeError::RepeatedRecharge`] / [`RechargeError::CountError`] |
//! | A6 | open | another customer number; amount <= 0; balance after above the hoarding limit; overflow | refused: `CustomerMismatch`, `InvalidAmount`, `HoardingLimit`, `Overflow` |
//! | A7 | any | open or recharge under remote cost control | refused, [`RechargeError::RemoteCostControl`] |
//!
//! A purchase's amount repays emergency credit owed first, then gives the debt recovery share
//! ([`DebtRecovery`]: a percentage of the amount, rounded down, at most the cap left in the
//! current period, at most the debt); the rest is credited, filling any overdraft first. The
//! [`PurchaseRecord`] shows each part and the balance before and after. Credit control runs from
//! construction (the opening balance is the preset credit); opening only binds the customer and
//! starts standing charges.
//!
//! # Standing charges
//!
//! A daily standing charge ([`Config::standing_charge`]) is taken from the balance at the first
//! call on or after each local midnight, starting the day after the account was opened, with or
//! without consumption, in friendly periods and with the relay open. After a power cut the
//! missed days are charged in one step (one multiplication; [`ChargeRecord::days`] says how
//! many), at most [`STANDING_CATCH_UP_DAYS`] (31) of them.
//!
//! # Time
//!
//! The account is handed the time and cannot tell a wrong clock from a right one, so every
//! time-based rule is robust to a clock that jumps:
//!
//! - a step forward charges at most [`STANDING_CATCH_UP_DAYS`] days of standing charge; the
//!   days beyond are not charged and are reported ([`Effects::clock`], [`ClockJump`]) for the
//!   head-end to bill if they were real;
//! - a step back is reported the same way and changes nothing: nothing is refunded, and the
//!   standing day never moves back, so no day is charged twice;
//! - an overdraft record never ends before it started.
//!
//! The meter's clock itself is guarded by the DL/T 645 server's clock policy (broadcast
//! corrections of at most 5 minutes, once a day, away from midnight and settlement times;
//! larger steps only through an authenticated write): see
//! [`Server`](crate::endpoint::dlt645::Server).
//!
//! # Conservation and the panic contract
//!
//! [`AccountTotals`] account for every change of the balance, so that
//! `balance == opening + recharges - repayments + emergency credit - charges + conversions`
//! holds exactly after every call ([`AccountTotals::expected_balance`]). All arithmetic is checked.
//! An operation that returns an error leaves the account exactly as it was (it works on a copy
//! of the state and keeps it only on success). No call panics.
//!
//! # Stored state
//!
//! [`Account::state`] returns the account's [`AccountState`] and [`Logs::state`] the logs'
//! [`LogsState`]: plain data with a versioned, CRC-checked binary form
//! ([`Snapshot`](crate::snapshot::Snapshot); layouts on each type), so firmware without serde
//! stores them. [`Account::restore`] takes the configuration back with the state and refuses,
//! with an [`AccountStateError`], a state that configuration could not have produced (totals
//! that do not add up, a balance above the hoarding limit, flags or a relay state that disagree
//! with the balance and the commands in force); [`Logs::restore`] checks each ring. Serde, behind
//! its feature, is an extra on the same types: deserializing an account goes through
//! [`Account::restore`].

mod config;
mod credit;
mod event;
mod log;
mod machine;
mod purchase;
mod relay;
mod stored;

pub use config::{
    AccountConfigError, Config, CostControl, DEFAULT_HOLIDAYS, DebtRecovery, EmergencyCredit,
    FriendlyCalendar, Limits, MAX_STANDING_CHARGE, ReconnectMode, RecoveryPeriod,
};
pub use credit::Credit;
pub use event::{
    AlarmEvent, AlarmFlags, ChargeRecord, ClockJump, Effects, EmergencyEvent, EmergencyState,
    OverdraftRecord, RelayEvent, STANDING_CATCH_UP_DAYS, Trigger,
};
pub use log::{DEFAULT_LOG_DEPTH, Logs, LogsState};
pub use machine::{
    Account, AccountError, AccountState, AccountStateError, AccountTotals, Conversion,
    ConversionRecord, OverdraftEpisode,
};
pub use purchase::{PurchaseRecord, Receipt, RechargeError};
pub use relay::{
    CommandError, Contacts, RESTORE_DELAY_UNIT_SECS, RelayCommand, RelayState, RemoteTrip,
    TripReason,
};

use crate::units::{Energy, Money};

/// An account with credit in money.
pub type MoneyAccount<const H: usize = DEFAULT_HOLIDAYS> = Account<Money, H>;
/// An account with credit in energy (kWh credit).
pub type EnergyAccount<const H: usize = DEFAULT_HOLIDAYS> = Account<Energy, H>;
