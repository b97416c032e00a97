//! Credit alarms confirmed over consecutive readings: a level is reported only once `N`
//! readings in a row agree on it, and cleared the same way.

use crate::units::Money;

/// What a meter's credit looks like in one reading.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub enum CreditLevel {
    /// Above the meter's low-credit threshold.
    #[default]
    Normal,
    /// At or below the threshold, not overdrawn.
    Low,
    /// Overdrawn (the meter reports an overdraft amount above zero): arrears.
    Arrears,
}

impl CreditLevel {
    /// The level of a reading: `balance` (00900200) and `overdrawn` (00900201) as the meter
    /// reports them, against the low-credit `threshold`.
    pub fn of(balance: Money, overdrawn: Money, threshold: Money) -> CreditLevel {
        if overdrawn > Money::ZERO {
            CreditLevel::Arrears
        } else if balance <= threshold {
            CreditLevel::Low
        } else {
            CreditLevel::Normal
        }
    }
}

/// The confirmed level of one meter and the readings that argue for another.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub(super) struct AlarmTracker {
    /// The level last reported (or the initial `Normal`).
    pub(super) confirmed: CreditLevel,
    /// A different level seen in the last `streak` readings in a row.
    candidate: CreditLevel,
    streak: u8,
}

impl AlarmTracker {
    /// Takes one reading's level; returns the newly confirmed level when `confirm` readings
    /// in a row (at least one) have shown it.
    pub(super) fn observe(&mut self, level: CreditLevel, confirm: u8) -> Option<CreditLevel> {
        if level == self.confirmed {
            self.streak = 0;
            return None;
        }
        if level == self.candidate && self.streak > 0 {
            self.streak = self.streak.saturating_add(1);
        } else {
            self.candidate = level;
            self.streak = 1;
        }
        if self.streak >= confirm.max(1) {
            self.confirmed = level;
            self.streak = 0;
            return Some(level);
        }
        None
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn y(v: i64) -> Money {
        Money::from_units(v).unwrap_or(Money::ZERO)
    }

    #[test]
    fn levels() {
        assert_eq!(CreditLevel::of(y(50), y(0), y(20)), CreditLevel::Normal);
        assert_eq!(CreditLevel::of(y(20), y(0), y(20)), CreditLevel::Low);
        assert_eq!(CreditLevel::of(y(0), y(3), y(20)), CreditLevel::Arrears);
    }

    #[test]
    fn a_level_is_confirmed_by_n_readings_in_a_row_and_cleared_the_same_way() {
        let mut t = AlarmTracker::default();
        assert_eq!(t.observe(CreditLevel::Low, 3), None);
        assert_eq!(t.observe(CreditLevel::Low, 3), None);
        // A normal reading in between starts the count again.
        assert_eq!(t.observe(CreditLevel::Normal, 3), None);
        assert_eq!(t.observe(CreditLevel::Low, 3), None);
        assert_eq!(t.observe(CreditLevel::Low, 3), None);
        assert_eq!(t.observe(CreditLevel::Low, 3), Some(CreditLevel::Low));
        // Reported once.
        assert_eq!(t.observe(CreditLevel::Low, 3), None);
        // A switch of candidate restarts the count.
        assert_eq!(t.observe(CreditLevel::Arrears, 3), None);
        assert_eq!(t.observe(CreditLevel::Normal, 3), None);
        assert_eq!(t.observe(CreditLevel::Normal, 3), None);
        assert_eq!(t.observe(CreditLevel::Normal, 3), Some(CreditLevel::Normal));
        // N = 0 behaves as 1.
        assert_eq!(
            t.observe(CreditLevel::Arrears, 0),
            Some(CreditLevel::Arrears)
        );
    }
}
