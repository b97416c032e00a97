use core::fmt;

use super::{Energy, Money};

/// A price per kWh in 1/10 000 of the currency unit: exactly the DL/T 645 format `XXXX.XXXX`.
///
/// ```
/// use prepaid_meter::units::{Energy, Money, Price};
/// let p = Price::from_minor_per_kwh(5_283); // 0.5283 per kWh
/// let c = p.cost(Energy::from_wh(1_500)).unwrap();
/// // 1.5 kWh x 0.5283 = 0.79245: 7 924 minor units and 500/1000 of a unit left over.
/// assert_eq!(c.money, Money::from_minor(7_924));
/// assert_eq!(c.remainder, 500);
/// ```
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Hash)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
#[cfg_attr(feature = "serde", serde(transparent))]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub struct Price(u32);

/// The exact cost of some energy at a [`Price`]: whole minor units plus a remainder.
///
/// The remainder is in 1/1000 of a minor unit (`0..1000`, with the sign of the energy), because
/// energy is counted in Wh and prices per kWh. Carry it into the next cost so nothing is lost.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub struct Cost {
    /// Whole minor units of money.
    pub money: Money,
    /// Thousandths of a minor unit left over, `-999..=999`.
    pub remainder: i16,
}

impl Price {
    /// A price of zero.
    pub const ZERO: Price = Price(0);
    /// The largest price the DL/T 645 format can carry: 9999.9999 per kWh.
    pub const MAX_DLT645: Price = Price(99_999_999);
    /// Thousandths of a minor unit per minor unit (Wh per kWh).
    pub const REMAINDER_DIVISOR: i64 = 1000;

    /// A price from minor units (1/10 000 of the currency unit) per kWh.
    pub const fn from_minor_per_kwh(minor: u32) -> Price {
        Price(minor)
    }

    /// The price in minor units per kWh.
    pub const fn minor_per_kwh(self) -> u32 {
        self.0
    }

    /// `self + rhs`, or `None` on overflow (tier price plus TOU price).
    pub const fn checked_add(self, rhs: Price) -> Option<Price> {
        match self.0.checked_add(rhs.0) {
            Some(v) => Some(Price(v)),
            None => None,
        }
    }

    /// The exact cost of `energy` at this price, or `None` if it does not fit in [`Money`].
    ///
    /// `money * 1000 + remainder == energy_wh * price`, always.
    pub const fn cost(self, energy: Energy) -> Option<Cost> {
        let product = energy.wh() as i128 * self.0 as i128;
        let div = Self::REMAINDER_DIVISOR as i128;
        let whole = product / div;
        if whole > i64::MAX as i128 || whole < i64::MIN as i128 {
            return None;
        }
        Some(Cost {
            money: Money::from_minor(whole as i64),
            remainder: (product % div) as i16,
        })
    }
}

/// Shown in currency units per kWh with four decimals (`0.5283/kWh`).
impl fmt::Display for Price {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}.{:04}/kWh", self.0 / 10_000, self.0 % 10_000)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cost_is_exact() {
        let p = Price::from_minor_per_kwh(99_999_999);
        for wh in [-7i64, 0, 1, 999, 1000, 123_456_789] {
            let c = p.cost(Energy::from_wh(wh)).unwrap();
            assert_eq!(
                c.money.minor() as i128 * 1000 + c.remainder as i128,
                wh as i128 * 99_999_999
            );
        }
        assert_eq!(p.cost(Energy::MAX), None);
        assert_eq!(Price::MAX_DLT645.to_string(), "9999.9999/kWh");
        assert_eq!(
            Price::from_minor_per_kwh(u32::MAX).checked_add(Price::from_minor_per_kwh(1)),
            None
        );
    }
}
