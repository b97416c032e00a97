//! The vending ledger: every payment with its purchase count and state, and the command
//! counter of each meter, kept in a store behind the [`Ledger`] trait.

use alloc::collections::BTreeMap;
use alloc::vec::Vec;
use core::fmt;

use crate::address::Address;
use crate::time::Timestamp;
use crate::units::Money;

/// A payment's identifier, given by the head-end in the order payments are taken.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
pub struct PaymentId(pub u64);

impl fmt::Display for PaymentId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "P{}", self.0)
    }
}

/// Why a payment failed: the meter's definitive refusal, after which the purchase count is
/// free for the next payment (once every frame sealed for it has expired).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
#[non_exhaustive]
pub enum FailReason {
    /// The balance would exceed the meter's hoarding limit (SERR bit 6, 购电超囤积).
    HoardingLimit,
    /// The meter's account belongs to another customer (SERR bit 4, 客户编号不匹配).
    CustomerMismatch,
}

impl fmt::Display for FailReason {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            FailReason::HoardingLimit => "the meter's hoarding limit would be exceeded",
            FailReason::CustomerMismatch => "the meter belongs to another customer",
        })
    }
}

/// Where a payment is. The order of the variants is the order a payment goes through them.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
pub enum PaymentState {
    /// Taken; waits for the meter's earlier payment to settle (no purchase count yet).
    Queued,
    /// Sealed with its purchase count and sent at least once; not yet confirmed. Sent again
    /// (the same count, freshly sealed) until the meter's answer or a reading confirms it.
    Sent,
    /// The meter's sealed answer confirmed it: the purchase count and the balance after.
    ConfirmedByAnswer {
        /// The balance the meter reported after crediting it.
        balance_after: Money,
    },
    /// A later reading showed the meter's purchase count at or past this payment's.
    ConfirmedByReading,
    /// The meter refused it definitively; nothing was credited.
    Failed(FailReason),
}

impl PaymentState {
    /// Confirmed, one way or the other.
    pub fn is_confirmed(self) -> bool {
        matches!(
            self,
            PaymentState::ConfirmedByAnswer { .. } | PaymentState::ConfirmedByReading
        )
    }

    /// Still to be settled (queued or sent).
    pub fn is_open(self) -> bool {
        matches!(self, PaymentState::Queued | PaymentState::Sent)
    }
}

/// One payment.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
pub struct Payment {
    /// Its identifier.
    pub id: PaymentId,
    /// The meter it buys credit for.
    pub meter: Address,
    /// The amount.
    pub amount: Money,
    /// When the head-end took it.
    pub taken_at: Timestamp,
    /// The purchase count it was sealed with (from the first send on): the idempotency key the
    /// meter and the head-end reconcile on.
    pub count: Option<u32>,
    /// Its state.
    pub state: PaymentState,
    /// How many times it was sealed and sent.
    pub attempts: u32,
    /// When it was last sent.
    pub sent_at: Option<Timestamp>,
    /// The latest `valid_until` of the frames sealed for it: after that instant none of them
    /// can be accepted any more.
    pub expires_at: Option<Timestamp>,
}

/// Where payments and command counters are kept. Every change is written before the frame it
/// concerns leaves the head-end, so that a head-end restarted at any point neither credits a
/// payment twice nor loses one.
///
/// [`MemoryLedger`] keeps them in memory; with the `sqlite` feature, `SqliteLedger` keeps
/// them in a SQLite database.
pub trait Ledger {
    /// The store's error.
    type Error: fmt::Debug + fmt::Display;

    /// Adds a new payment. Error if its id is taken (nothing changes).
    fn insert(&mut self, payment: &Payment) -> Result<(), Self::Error>;
    /// Replaces the payment with the same id. Error if there is none (nothing changes).
    fn update(&mut self, payment: &Payment) -> Result<(), Self::Error>;
    /// The payment `id`.
    fn get(&self, id: PaymentId) -> Result<Option<Payment>, Self::Error>;
    /// Every payment, in id order.
    fn payments(&self) -> Result<Vec<Payment>, Self::Error>;
    /// The payments of `meter`, in id order (what the head-end reads per meter: a store
    /// should answer it from an index, not a scan of every payment).
    fn payments_of(&self, meter: Address) -> Result<Vec<Payment>, Self::Error> {
        let mut all = self.payments()?;
        all.retain(|p| p.meter == meter);
        Ok(all)
    }
    /// The last command counter used for `meter` (0 if none).
    fn counter(&self, meter: Address) -> Result<u32, Self::Error>;
    /// Records `last` as the last command counter used for `meter`.
    fn set_counter(&mut self, meter: Address, last: u32) -> Result<(), Self::Error>;
    /// The highest payment id in the ledger.
    fn last_id(&self) -> Result<Option<PaymentId>, Self::Error> {
        Ok(self.payments()?.last().map(|p| p.id))
    }
}

/// Why the in-memory ledger refused a change.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum MemoryLedgerError {
    /// A payment with this id is in the ledger already.
    Duplicate(PaymentId),
    /// No payment with this id.
    Unknown(PaymentId),
}

impl fmt::Display for MemoryLedgerError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            MemoryLedgerError::Duplicate(id) => write!(f, "payment {id} is in the ledger already"),
            MemoryLedgerError::Unknown(id) => write!(f, "no payment {id} in the ledger"),
        }
    }
}

impl core::error::Error for MemoryLedgerError {}

/// A ledger in memory (tests, simulations, a head-end that keeps its books elsewhere).
#[derive(Clone, Debug, Default)]
pub struct MemoryLedger {
    payments: BTreeMap<PaymentId, Payment>,
    counters: BTreeMap<Address, u32>,
}

impl MemoryLedger {
    /// An empty ledger.
    pub fn new() -> MemoryLedger {
        MemoryLedger::default()
    }
}

impl Ledger for MemoryLedger {
    type Error = MemoryLedgerError;

    fn insert(&mut self, payment: &Payment) -> Result<(), MemoryLedgerError> {
        if self.payments.contains_key(&payment.id) {
            return Err(MemoryLedgerError::Duplicate(payment.id));
        }
        self.payments.insert(payment.id, *payment);
        Ok(())
    }

    fn update(&mut self, payment: &Payment) -> Result<(), MemoryLedgerError> {
        match self.payments.get_mut(&payment.id) {
            Some(p) => {
                *p = *payment;
                Ok(())
            }
            None => Err(MemoryLedgerError::Unknown(payment.id)),
        }
    }

    fn get(&self, id: PaymentId) -> Result<Option<Payment>, MemoryLedgerError> {
        Ok(self.payments.get(&id).copied())
    }

    fn payments(&self) -> Result<Vec<Payment>, MemoryLedgerError> {
        Ok(self.payments.values().copied().collect())
    }

    fn counter(&self, meter: Address) -> Result<u32, MemoryLedgerError> {
        Ok(self.counters.get(&meter).copied().unwrap_or(0))
    }

    fn set_counter(&mut self, meter: Address, last: u32) -> Result<(), MemoryLedgerError> {
        self.counters.insert(meter, last);
        Ok(())
    }
}
