use core::fmt;

/// An amount of electrical energy in whole watt-hours.
///
/// Signed, so that an energy-type prepaid balance can go below zero; meter registers hold
/// non-negative values. One DL/T 645 register unit (0.01 kWh) is 10 Wh.
///
/// ```
/// use prepaid_meter::units::Energy;
/// let e = Energy::from_kwh(12).checked_add(Energy::from_wh(345)).unwrap();
/// assert_eq!(e.wh(), 12_345);
/// assert_eq!(e.to_centi_kwh(), (1234, Energy::from_wh(5)));
/// assert_eq!(e.to_string(), "12.345 kWh");
/// ```
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Hash)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
#[cfg_attr(feature = "serde", serde(transparent))]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub struct Energy(i64);

impl Energy {
    /// No energy.
    pub const ZERO: Energy = Energy(0);
    /// The largest representable energy.
    pub const MAX: Energy = Energy(i64::MAX);
    /// Watt-hours in one DL/T 645 register unit (0.01 kWh).
    pub const WH_PER_CENTI_KWH: i64 = 10;

    /// Energy from watt-hours.
    pub const fn from_wh(wh: i64) -> Energy {
        Energy(wh)
    }

    /// Energy from whole kilowatt-hours; saturates at the limits of `i64` Wh.
    pub const fn from_kwh(kwh: i64) -> Energy {
        Energy(kwh.saturating_mul(1000))
    }

    /// Energy from DL/T 645 register units of 0.01 kWh; `None` if it does not fit.
    pub const fn from_centi_kwh(centi: i64) -> Option<Energy> {
        match centi.checked_mul(Self::WH_PER_CENTI_KWH) {
            Some(wh) => Some(Energy(wh)),
            None => None,
        }
    }

    /// The energy in watt-hours.
    pub const fn wh(self) -> i64 {
        self.0
    }

    /// Whole 0.01 kWh units (rounded toward zero) and the watt-hours left over.
    ///
    /// `units * 10 Wh + remainder == self`, always; the remainder has the sign of `self`.
    pub const fn to_centi_kwh(self) -> (i64, Energy) {
        (
            self.0 / Self::WH_PER_CENTI_KWH,
            Energy(self.0 % Self::WH_PER_CENTI_KWH),
        )
    }

    /// `self + rhs`, or `None` on overflow.
    pub const fn checked_add(self, rhs: Energy) -> Option<Energy> {
        match self.0.checked_add(rhs.0) {
            Some(v) => Some(Energy(v)),
            None => None,
        }
    }

    /// `self - rhs`, or `None` on overflow.
    pub const fn checked_sub(self, rhs: Energy) -> Option<Energy> {
        match self.0.checked_sub(rhs.0) {
            Some(v) => Some(Energy(v)),
            None => None,
        }
    }

    /// `self + rhs`, clamped to the limits of the type.
    pub const fn saturating_add(self, rhs: Energy) -> Energy {
        Energy(self.0.saturating_add(rhs.0))
    }

    /// `self - rhs`, clamped to the limits of the type.
    pub const fn saturating_sub(self, rhs: Energy) -> Energy {
        Energy(self.0.saturating_sub(rhs.0))
    }

    /// `true` if the energy is below zero.
    pub const fn is_negative(self) -> bool {
        self.0 < 0
    }
}

/// Shown in kWh with three decimals, exactly (`-1.005 kWh`).
impl fmt::Display for Energy {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let sign = if self.0 < 0 { "-" } else { "" };
        let abs = self.0.unsigned_abs();
        write!(f, "{sign}{}.{:03} kWh", abs / 1000, abs % 1000)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn centi_kwh_keeps_remainder() {
        for wh in [-1_000_007i64, -9, -1, 0, 1, 9, 10, 11, 999_999_999] {
            let (units, rem) = Energy::from_wh(wh).to_centi_kwh();
            assert_eq!(units * 10 + rem.wh(), wh);
            assert!(rem.wh().abs() < 10);
        }
        assert_eq!(Energy::from_centi_kwh(i64::MAX), None);
        assert_eq!(Energy::from_centi_kwh(-3), Some(Energy::from_wh(-30)));
    }

    #[test]
    fn checked_ops_detect_overflow() {
        assert_eq!(Energy::MAX.checked_add(Energy::from_wh(1)), None);
        assert_eq!(
            Energy::from_wh(i64::MIN).checked_sub(Energy::from_wh(1)),
            None
        );
        assert_eq!(Energy::MAX.saturating_add(Energy::from_wh(1)), Energy::MAX);
        assert_eq!(Energy::from_kwh(i64::MAX), Energy::MAX);
    }

    #[test]
    fn display_is_exact() {
        assert_eq!(Energy::from_wh(-1005).to_string(), "-1.005 kWh");
        assert_eq!(Energy::from_wh(7).to_string(), "0.007 kWh");
    }
}
