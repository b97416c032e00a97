//! Customer notifications (the SMS platform): low credit, arrears, cut-off, reconnection and
//! confirmed recharges, each sent once per event, against the customer's own thresholds.

use alloc::vec::Vec;
use core::convert::Infallible;
use core::fmt;

use super::ledger::PaymentId;
use crate::address::Address;
use crate::time::Timestamp;
use crate::units::{Energy, Money};

/// What a notification tells the customer.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
#[non_exhaustive]
pub enum NotificationKind {
    /// The balance fell to or below the customer's low-credit threshold `alarm` (1 or 2).
    LowCredit {
        /// Which threshold: 1 (the higher) or 2.
        alarm: u8,
        /// Its amount.
        threshold: Money,
    },
    /// The balance fell below zero: the meter runs on its overdraft.
    Arrears,
    /// The overdraft is used up: the meter has cut the supply off.
    CutOff,
    /// After a cut-off the meter supplies energy again.
    Reconnected,
    /// A payment was credited by the meter.
    RechargeConfirmed {
        /// The payment.
        payment: PaymentId,
        /// Its amount.
        amount: Money,
    },
}

/// One notification.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
pub struct Notification {
    /// The meter (the customer is found by it).
    pub meter: Address,
    /// When the head-end learnt of the event.
    pub at: Timestamp,
    /// What happened.
    pub kind: NotificationKind,
    /// The meter's balance as last read (or as its answer gave it).
    pub balance: Money,
}

/// Where notifications go: an SMS gateway, a message queue, a list in a test.
///
/// A notification the notifier refuses is kept by the head-end and offered again with the
/// next call that produces notifications, in order, so none is lost and none is sent twice.
pub trait Notifier {
    /// The notifier's error.
    type Error: fmt::Debug + fmt::Display;
    /// Sends one notification.
    fn notify(&mut self, notification: &Notification) -> Result<(), Self::Error>;
}

/// Collects notifications (tests, simulations).
impl Notifier for Vec<Notification> {
    type Error = Infallible;
    fn notify(&mut self, notification: &Notification) -> Result<(), Infallible> {
        self.push(*notification);
        Ok(())
    }
}

/// A customer's own notification thresholds, and the meter's overdraft limit by which a
/// cut-off is recognised in readings.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
pub struct Alerts {
    /// The first (higher) low-credit threshold.
    pub alarm1: Money,
    /// The second low-credit threshold.
    pub alarm2: Money,
    /// The meter's overdraft limit: a balance at or below `-overdraft` is a cut-off.
    pub overdraft: Money,
}

/// The events already notified for one meter.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub(super) struct AlertState {
    below: [bool; 2],
    arrears: bool,
    /// Cut off, and the energy register then.
    cut_off: Option<Energy>,
    seen: bool,
}

impl AlertState {
    /// The notifications a reading (`balance`, total `energy`) gives.
    pub(super) fn observe(
        &mut self,
        alerts: &Alerts,
        balance: Money,
        energy: Energy,
        mut emit: impl FnMut(NotificationKind),
    ) {
        let thresholds = [alerts.alarm1, alerts.alarm2];
        for (i, (below, &threshold)) in self.below.iter_mut().zip(&thresholds).enumerate() {
            let now_below = balance <= threshold;
            // The first reading sets the state without notifying what was already so.
            if now_below && !*below && self.seen {
                emit(NotificationKind::LowCredit {
                    alarm: if i == 0 { 1 } else { 2 },
                    threshold,
                });
            }
            *below = now_below;
        }
        let arrears = balance.is_negative();
        if arrears && !self.arrears && self.seen {
            emit(NotificationKind::Arrears);
        }
        self.arrears = arrears;
        let limit = alerts.overdraft.checked_neg().unwrap_or(Money::ZERO);
        match self.cut_off {
            None if balance <= limit => {
                if self.seen {
                    emit(NotificationKind::CutOff);
                }
                self.cut_off = Some(energy);
            }
            Some(at_cut) if energy > at_cut => {
                emit(NotificationKind::Reconnected);
                self.cut_off = None;
            }
            _ => {}
        }
        self.seen = true;
    }
}
