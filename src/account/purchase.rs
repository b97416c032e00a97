//! Opening the account and recharging it: requests, records and the rules' errors.

use core::fmt;

use super::event::Effects;
use crate::time::Timestamp;

#[cfg(test)]
use crate::purchase::CustomerNumber;

/// A purchase applied: DL/T 645 purchase records (`03330101..0601`) and the breakdown of where
/// the money went.
///
/// `balance_after == balance_before + amount - emergency_repaid - debt_recovered`, exactly.
/// The balance at the start of the call was `balance_before + standing_charge`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub struct PurchaseRecord<U> {
    /// When.
    pub time: Timestamp,
    /// The purchase count after this purchase.
    pub count: u32,
    /// The amount bought.
    pub amount: U,
    /// The balance just before the purchase was applied.
    pub balance_before: U,
    /// The balance after it.
    pub balance_after: U,
    /// Emergency credit repaid from the amount (first).
    pub emergency_repaid: U,
    /// Debt recovered from the amount (second).
    pub debt_recovered: U,
    /// Overdraft cleared by what remained (the negative part of the balance that it filled).
    pub overdraft_repaid: U,
    /// Standing charge taken by this call before the purchase (days that began since the last
    /// call).
    pub standing_charge: U,
}

/// The result of an accepted open or recharge.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
#[must_use = "a receipt holds the purchase record to log and the effects to carry out"]
pub struct Receipt<U> {
    /// The purchase record (log it in [`Logs`](super::Logs) with `record_purchase`).
    pub record: PurchaseRecord<U>,
    /// What else the call decided (relay, alarms, records).
    pub effects: Effects<U>,
}

/// Why an open or recharge was refused. The account is left exactly as it was.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
#[non_exhaustive]
pub enum RechargeError {
    /// The account is under remote cost control and holds no money.
    RemoteCostControl,
    /// A recharge before the account was opened.
    NotOpen,
    /// An open request for an account already open.
    AlreadyOpen,
    /// The amount is negative, or zero for a recharge.
    InvalidAmount,
    /// The customer number differs from the one the account was opened with (客户编号不匹配).
    CustomerMismatch,
    /// The purchase count equals the current count: this purchase was already applied (重复充值).
    RepeatedRecharge,
    /// The purchase count is neither the current count nor the next one (充值次数错).
    CountError,
    /// The balance would exceed the hoarding limit (购电超囤积).
    HoardingLimit,
    /// A balance or running total would overflow.
    Overflow,
}

impl fmt::Display for RechargeError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            RechargeError::RemoteCostControl => "the account is under remote cost control",
            RechargeError::NotOpen => "the account is not open",
            RechargeError::AlreadyOpen => "the account is already open",
            RechargeError::InvalidAmount => "the amount must be above zero",
            RechargeError::CustomerMismatch => "the customer number does not match",
            RechargeError::RepeatedRecharge => "repeated recharge: this purchase count was applied",
            RechargeError::CountError => "purchase count error",
            RechargeError::HoardingLimit => "the recharge would exceed the hoarding limit",
            RechargeError::Overflow => "the recharge would overflow the balance",
        })
    }
}

impl core::error::Error for RechargeError {}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn display_and_customer_bytes() {
        assert!(RechargeError::Overflow.to_string().contains("overflow"));
        let c = CustomerNumber::new([1, 2, 3, 4, 5, 6]);
        assert_eq!(c.to_bytes(), [1, 2, 3, 4, 5, 6]);
    }
}
