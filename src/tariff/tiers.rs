//! Tiered ("ladder", 阶梯) prices on cumulative consumption.

use heapless::Vec;

use super::{Settlement, SettlementDay, TariffError};
use crate::units::{Energy, Price};

/// The most tier thresholds (DL/T 645 tiered tables: 6 thresholds).
pub const MAX_THRESHOLDS: usize = 6;
/// The most tiers, and so tier prices (DL/T 645 tiered tables: 7 prices).
pub const MAX_TIERS: usize = MAX_THRESHOLDS + 1;
/// A tier table: thresholds on the consumption since the last settlement, a price per tier,
/// and the settlement rule.
///
/// With thresholds `t1 < t2 < ... < tn` (Wh), consumption from 0 up to `t1` is in tier 0,
/// from `t1` up to `t2` in tier 1, ..., above `tn` in tier `n`. The effective price of a
/// watt-hour is its tier price plus the TOU price in effect. An increment that crosses a
/// threshold is split there exactly.
///
/// ```
/// use prepaid_meter::tariff::{Settlement, Tiers};
/// use prepaid_meter::units::{Energy, Price};
/// let tiers = Tiers::new(
///     &[Energy::from_kwh(200), Energy::from_kwh(400)],
///     &[Price::ZERO, Price::from_minor_per_kwh(500), Price::from_minor_per_kwh(3_000)],
///     Settlement::monthly(1, 0).unwrap(),
/// ).unwrap();
/// assert_eq!(tiers.tier_of(Energy::from_kwh(200)), 1);
/// assert_eq!(tiers.price(2), Price::from_minor_per_kwh(3_000));
/// ```
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
#[cfg_attr(feature = "serde", serde(try_from = "serde_raw::TiersRaw"))]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub struct Tiers {
    thresholds: Vec<Energy, MAX_THRESHOLDS>,
    prices: Vec<Price, MAX_TIERS>,
    settlement: Settlement,
}

impl Tiers {
    /// A validated tier table.
    ///
    /// Errors: [`TariffError::CapacityExceeded`] (more than six thresholds),
    /// [`TariffError::ThresholdsNotIncreasing`], [`TariffError::TierPriceCount`] (prices must
    /// number thresholds + 1), [`TariffError::InvalidSettlement`],
    /// [`TariffError::NoSettlementDates`], [`TariffError::UnsortedSettlementDates`],
    /// [`TariffError::DuplicateSettlementDate`].
    pub fn new(
        thresholds: &[Energy],
        prices: &[Price],
        settlement: Settlement,
    ) -> Result<Tiers, TariffError> {
        let thresholds: Vec<Energy, MAX_THRESHOLDS> =
            Vec::from_slice(thresholds).map_err(|_| TariffError::CapacityExceeded)?;
        let mut prev = Energy::ZERO;
        for &t in &thresholds {
            if t <= prev {
                return Err(TariffError::ThresholdsNotIncreasing);
            }
            prev = t;
        }
        if prices.len() != thresholds.len() + 1 {
            return Err(TariffError::TierPriceCount);
        }
        let prices = Vec::from_slice(prices).map_err(|_| TariffError::TierPriceCount)?;
        settlement.validate()?;
        Ok(Tiers {
            thresholds,
            prices,
            settlement,
        })
    }

    /// No tiers: one tier at price zero, so only TOU prices apply. The settlement rule (the
    /// first of each month at 00:00) then changes nothing but the rater's tier total.
    pub fn none() -> Tiers {
        let mut prices = Vec::new();
        // Capacity 7 holds one price; the push cannot fail.
        let _ = prices.push(Price::ZERO);
        Tiers {
            thresholds: Vec::new(),
            prices,
            settlement: Settlement::Monthly(SettlementDay::FIRST_OF_MONTH),
        }
    }

    /// The thresholds in Wh, strictly increasing and positive (possibly empty).
    pub fn thresholds(&self) -> &[Energy] {
        &self.thresholds
    }

    /// The tier prices, one more than the thresholds.
    pub fn prices(&self) -> &[Price] {
        &self.prices
    }

    /// The settlement rule.
    pub fn settlement(&self) -> &Settlement {
        &self.settlement
    }

    /// The tier of the watt-hour that follows `cumulative` Wh since the last settlement.
    pub fn tier_of(&self, cumulative: Energy) -> u8 {
        self.thresholds.partition_point(|&t| t <= cumulative) as u8
    }

    /// The price of tier `tier` (zero for a tier that does not exist).
    pub fn price(&self, tier: u8) -> Price {
        self.prices
            .get(usize::from(tier))
            .copied()
            .unwrap_or(Price::ZERO)
    }

    /// The highest tier price.
    pub fn max_price(&self) -> Price {
        self.prices.iter().copied().max().unwrap_or(Price::ZERO)
    }

    /// The lower bound (Wh, inclusive) and upper bound (exclusive, `None` = unbounded) of `tier`.
    pub(crate) fn bounds(&self, tier: usize) -> (i128, Option<i128>) {
        let lo = match tier.checked_sub(1) {
            None => 0,
            Some(i) => self.thresholds.get(i).map_or(0, |t| i128::from(t.wh())),
        };
        let hi = self.thresholds.get(tier).map(|t| i128::from(t.wh()));
        (lo, hi)
    }
}

#[cfg(feature = "serde")]
mod serde_raw {
    use super::*;

    #[derive(serde::Deserialize)]
    pub struct TiersRaw {
        thresholds: Vec<Energy, MAX_THRESHOLDS>,
        prices: Vec<Price, MAX_TIERS>,
        settlement: Settlement,
    }

    impl TryFrom<TiersRaw> for Tiers {
        type Error = TariffError;
        fn try_from(r: TiersRaw) -> Result<Self, TariffError> {
            Tiers::new(&r.thresholds, &r.prices, r.settlement)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::tariff::SettlementDate;

    fn kwh(k: i64) -> Energy {
        Energy::from_kwh(k)
    }
    fn p(m: u32) -> Price {
        Price::from_minor_per_kwh(m)
    }
    const MONTHLY: Settlement = Settlement::Monthly(SettlementDay::FIRST_OF_MONTH);

    #[test]
    fn validation() {
        assert_eq!(
            Tiers::new(&[kwh(0)], &[p(0), p(1)], MONTHLY),
            Err(TariffError::ThresholdsNotIncreasing)
        );
        assert_eq!(
            Tiers::new(&[kwh(2), kwh(2)], &[p(0), p(1), p(2)], MONTHLY),
            Err(TariffError::ThresholdsNotIncreasing)
        );
        assert_eq!(
            Tiers::new(&[kwh(2)], &[p(0)], MONTHLY),
            Err(TariffError::TierPriceCount)
        );
        assert_eq!(
            Tiers::new(&[kwh(1); 7], &[p(0); 8], MONTHLY),
            Err(TariffError::CapacityExceeded)
        );
        let sd = |month, day, hour| SettlementDate { month, day, hour };
        let y = |d: &[SettlementDate]| Tiers::new(&[], &[p(0)], Settlement::yearly(d).unwrap());
        assert_eq!(y(&[]), Err(TariffError::NoSettlementDates));
        assert_eq!(y(&[sd(2, 29, 0)]), Err(TariffError::InvalidSettlement));
        assert_eq!(y(&[sd(4, 31, 0)]), Err(TariffError::InvalidSettlement));
        assert!(y(&[sd(1, 31, 23), sd(12, 31, 0)]).is_ok());
        assert_eq!(
            y(&[sd(6, 1, 0), sd(1, 1, 0)]),
            Err(TariffError::UnsortedSettlementDates)
        );
        assert_eq!(
            y(&[sd(6, 1, 0), sd(6, 1, 0)]),
            Err(TariffError::DuplicateSettlementDate)
        );
        assert_eq!(
            Settlement::yearly(&[sd(1, 1, 0); 7]),
            Err(TariffError::CapacityExceeded)
        );
    }

    #[test]
    fn tiers_and_bounds() {
        let t = Tiers::new(&[kwh(10), kwh(20)], &[p(1), p(2), p(3)], MONTHLY).unwrap();
        assert_eq!(t.tier_of(Energy::from_wh(9_999)), 0);
        assert_eq!(t.tier_of(kwh(10)), 1);
        assert_eq!(t.tier_of(kwh(1_000)), 2);
        assert_eq!(t.bounds(0), (0, Some(10_000)));
        assert_eq!(t.bounds(2), (20_000, None));
        assert_eq!(t.price(9), Price::ZERO);
        assert_eq!(t.max_price(), p(3));
        assert_eq!(Tiers::none().tier_of(Energy::MAX), 0);
    }
}
