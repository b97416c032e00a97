//! What a customer buys: the customer number and the purchase that open-account and recharge
//! commands carry, shared by the security layer (which seals and opens them) and the account
//! (which applies them).
//!
//! ```
//! use prepaid_meter::purchase::{CustomerNumber, Purchase};
//! use prepaid_meter::units::Money;
//!
//! // The customer's second purchase: 50 yuan.
//! let purchase = Purchase {
//!     customer: CustomerNumber::new([0x01, 0, 0, 0, 0, 0]),
//!     count: 2,
//!     amount: Money::from_units(50).unwrap(),
//! };
//! assert_eq!(purchase.customer.to_bytes(), [0x01, 0, 0, 0, 0, 0]);
//! ```

/// The customer number an account is bound to when opened (DL/T 645 `0400040E`, six bytes).
///
/// Kept as the six bytes the command carried, in the order the wire layer hands them over; it is
/// only ever compared.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub struct CustomerNumber([u8; 6]);

impl CustomerNumber {
    /// A customer number from its six bytes.
    pub const fn new(bytes: [u8; 6]) -> CustomerNumber {
        CustomerNumber(bytes)
    }

    /// The six bytes.
    pub const fn to_bytes(self) -> [u8; 6] {
        self.0
    }
}

/// An open-account or recharge request, as DL/T 645 `070101FF` / `070102FF` carry it: the
/// payload of a sealed [`Command`](crate::security::Command) once the security layer has checked
/// its MAC, and what [`Account::open`](crate::account::Account::open) and
/// [`Account::recharge`](crate::account::Account::recharge) apply. `U` is the unit of credit
/// ([`Money`](crate::units::Money), or [`Energy`](crate::units::Energy) for kWh credit).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub struct Purchase<U> {
    /// The customer the money is for.
    pub customer: CustomerNumber,
    /// The purchase count after this purchase: the previous count plus one.
    pub count: u32,
    /// The amount bought.
    pub amount: U,
}
