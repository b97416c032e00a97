use core::fmt;

/// An amount of money in 1/10 000 of the currency unit (for yuan: 0.01 fen).
///
/// Fine enough to hold a DL/T 645 price (`XXXX.XXXX` per kWh) exactly. Balances on the wire
/// (`XXXXXX.XX`) are whole cents: [`Money::to_cents`] converts and returns the remainder.
///
/// ```
/// use prepaid_meter::units::Money;
/// let m = Money::from_cents(19856).unwrap();
/// assert_eq!(m.minor(), 1_985_600);
/// assert_eq!(m.to_string(), "198.5600");
/// assert_eq!(Money::from_minor(-12_345).to_cents(), (-123, Money::from_minor(-45)));
/// ```
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Hash)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
#[cfg_attr(feature = "serde", serde(transparent))]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub struct Money(i64);

impl Money {
    /// No money.
    pub const ZERO: Money = Money(0);
    /// The largest representable amount.
    pub const MAX: Money = Money(i64::MAX);
    /// The smallest (most negative) representable amount.
    pub const MIN: Money = Money(i64::MIN);
    /// Minor units in one currency unit.
    pub const MINOR_PER_UNIT: i64 = 10_000;
    /// Minor units in one cent (0.01 of the currency unit).
    pub const MINOR_PER_CENT: i64 = 100;

    /// Money from minor units (1/10 000 of the currency unit).
    pub const fn from_minor(minor: i64) -> Money {
        Money(minor)
    }

    /// Money from cents; `None` if it does not fit.
    pub const fn from_cents(cents: i64) -> Option<Money> {
        match cents.checked_mul(Self::MINOR_PER_CENT) {
            Some(v) => Some(Money(v)),
            None => None,
        }
    }

    /// Money from whole currency units; `None` if it does not fit.
    pub const fn from_units(units: i64) -> Option<Money> {
        match units.checked_mul(Self::MINOR_PER_UNIT) {
            Some(v) => Some(Money(v)),
            None => None,
        }
    }

    /// The amount in minor units.
    pub const fn minor(self) -> i64 {
        self.0
    }

    /// Whole cents (rounded toward zero) and the minor units left over.
    ///
    /// `cents * 100 + remainder == self`, always; the remainder has the sign of `self`.
    pub const fn to_cents(self) -> (i64, Money) {
        (
            self.0 / Self::MINOR_PER_CENT,
            Money(self.0 % Self::MINOR_PER_CENT),
        )
    }

    /// `self + rhs`, or `None` on overflow.
    pub const fn checked_add(self, rhs: Money) -> Option<Money> {
        match self.0.checked_add(rhs.0) {
            Some(v) => Some(Money(v)),
            None => None,
        }
    }

    /// `self - rhs`, or `None` on overflow.
    pub const fn checked_sub(self, rhs: Money) -> Option<Money> {
        match self.0.checked_sub(rhs.0) {
            Some(v) => Some(Money(v)),
            None => None,
        }
    }

    /// `-self`, or `None` for [`Money::MIN`].
    pub const fn checked_neg(self) -> Option<Money> {
        match self.0.checked_neg() {
            Some(v) => Some(Money(v)),
            None => None,
        }
    }

    /// `self + rhs`, clamped to the limits of the type.
    pub const fn saturating_add(self, rhs: Money) -> Money {
        Money(self.0.saturating_add(rhs.0))
    }

    /// `self - rhs`, clamped to the limits of the type.
    pub const fn saturating_sub(self, rhs: Money) -> Money {
        Money(self.0.saturating_sub(rhs.0))
    }

    /// `true` if the amount is below zero.
    pub const fn is_negative(self) -> bool {
        self.0 < 0
    }

    /// `true` if the amount is above zero.
    pub const fn is_positive(self) -> bool {
        self.0 > 0
    }
}

/// Shown in currency units with all four decimals, exactly (`-0.0125`).
impl fmt::Display for Money {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let sign = if self.0 < 0 { "-" } else { "" };
        let abs = self.0.unsigned_abs();
        let per = Self::MINOR_PER_UNIT.unsigned_abs();
        write!(f, "{sign}{}.{:04}", abs / per, abs % per)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cents_round_trip_with_remainder() {
        for minor in [-1_000_001i64, -99, -1, 0, 1, 99, 100, 12_345_678] {
            let (c, r) = Money::from_minor(minor).to_cents();
            assert_eq!(c * 100 + r.minor(), minor);
        }
        assert_eq!(Money::from_cents(i64::MAX), None);
        assert_eq!(Money::from_units(3), Some(Money::from_minor(30_000)));
    }

    #[test]
    fn overflow_is_reported() {
        assert_eq!(Money::MAX.checked_add(Money::from_minor(1)), None);
        assert_eq!(Money::MIN.checked_neg(), None);
        assert_eq!(Money::MIN.saturating_sub(Money::from_minor(1)), Money::MIN);
        assert!(Money::from_minor(-1).is_negative());
        assert!(Money::from_minor(1).is_positive());
    }

    #[test]
    fn display() {
        assert_eq!(Money::from_minor(-125).to_string(), "-0.0125");
        assert_eq!(Money::MIN.to_string(), "-922337203685477.5808");
    }
}
