//! The quantity an account holds: money, or energy for a kWh-credit meter.

use core::fmt;

use crate::units::{Energy, Money};

mod sealed {
    pub trait Sealed {}
    impl Sealed for crate::units::Money {}
    impl Sealed for crate::units::Energy {}
}

/// The unit of credit an [`Account`](super::Account) keeps: [`Money`] (minor units, 1/10 000
/// of the currency unit) or [`Energy`] (watt-hours) for meters that hold their credit in kWh.
///
/// Every amount an account takes or reports (balance, thresholds, recharges, charges) is in this
/// one unit. The trait is sealed: the account's exactness rests on both being plain `i64`
/// counts of their smallest unit.
pub trait Credit:
    sealed::Sealed + Copy + Ord + Default + fmt::Debug + fmt::Display + 'static
{
    /// Nothing.
    const ZERO: Self;
    /// The unit's letter in the magic of stored account states: `M` (money) or `E` (energy),
    /// so that a state of one unit is never read as the other.
    const UNIT_TAG: u8;
    /// `true` for credit held in energy, which is bought at a price and re-expressed when the
    /// price changes ([`Account::change_price`](super::Account::change_price)); the account
    /// then keeps that price ([`AccountState::price`](super::AccountState::price)).
    const HELD_AT_PRICE: bool;
    /// The amount as a count of the smallest unit (minor units or Wh).
    fn to_raw(self) -> i64;
    /// An amount from a count of the smallest unit.
    fn from_raw(raw: i64) -> Self;
}

impl Credit for Money {
    const ZERO: Money = Money::ZERO;
    const UNIT_TAG: u8 = b'M';
    const HELD_AT_PRICE: bool = false;
    fn to_raw(self) -> i64 {
        self.minor()
    }
    fn from_raw(raw: i64) -> Money {
        Money::from_minor(raw)
    }
}

impl Credit for Energy {
    const ZERO: Energy = Energy::ZERO;
    const UNIT_TAG: u8 = b'E';
    const HELD_AT_PRICE: bool = true;
    fn to_raw(self) -> i64 {
        self.wh()
    }
    fn from_raw(raw: i64) -> Energy {
        Energy::from_wh(raw)
    }
}

/// `a + b`, or `None` on overflow.
pub(crate) fn add<U: Credit>(a: U, b: U) -> Option<U> {
    a.to_raw().checked_add(b.to_raw()).map(U::from_raw)
}

/// `a - b`, or `None` on overflow.
pub(crate) fn sub<U: Credit>(a: U, b: U) -> Option<U> {
    a.to_raw().checked_sub(b.to_raw()).map(U::from_raw)
}

/// `-a`, or `None` for the most negative value.
pub(crate) fn neg<U: Credit>(a: U) -> Option<U> {
    a.to_raw().checked_neg().map(U::from_raw)
}

/// `a * n`, or `None` on overflow.
pub(crate) fn mul<U: Credit>(a: U, n: i64) -> Option<U> {
    a.to_raw().checked_mul(n).map(U::from_raw)
}

/// `true` if `a < 0`.
pub(crate) fn is_negative<U: Credit>(a: U) -> bool {
    a.to_raw() < 0
}

/// `true` if `a > 0`.
pub(crate) fn is_positive<U: Credit>(a: U) -> bool {
    a.to_raw() > 0
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn helpers_are_checked() {
        let m = Money::from_minor(5);
        assert_eq!(add(m, m), Some(Money::from_minor(10)));
        assert_eq!(sub(Money::MIN, m), None);
        assert_eq!(add(Money::MAX, m), None);
        assert_eq!(neg(Money::MIN), None);
        assert_eq!(neg(m), Some(Money::from_minor(-5)));
        assert_eq!(mul(m, 3), Some(Money::from_minor(15)));
        assert_eq!(mul(Money::MAX, 2), None);
        assert!(is_negative(Energy::from_wh(-1)));
        assert!(is_positive(Energy::from_wh(1)));
        assert!(!is_positive(Energy::ZERO) && !is_negative(Energy::ZERO));
        assert_eq!(Energy::from_raw(7).to_raw(), 7);
    }
}
