use core::fmt;

use fixed::types::I32F32;

/// An estimate of active power (or demand) in watts, as a binary fixed-point number.
///
/// Power is a physical estimate (from pulse intervals or averaged over a demand window), so a
/// binary fraction is fine here; it is never used for money or for energy registers.
///
/// ```
/// use prepaid_meter::units::Power;
/// let p = Power::from_watts(1500);
/// assert_eq!(p.whole_watts(), 1500);
/// assert_eq!(p.to_string(), "1500.000 W");
/// ```
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Hash)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
#[cfg_attr(feature = "serde", serde(transparent))]
pub struct Power(I32F32);

impl Power {
    /// No power.
    pub const ZERO: Power = Power(I32F32::ZERO);

    /// Power from whole watts (clamped to the range of the type, about ±2.1 GW).
    pub fn from_watts(watts: i64) -> Power {
        Power(I32F32::saturating_from_num(watts))
    }

    /// Power from a `fixed` value in watts.
    pub const fn from_fixed(watts: I32F32) -> Power {
        Power(watts)
    }

    /// The power in watts as a `fixed` value.
    pub const fn to_fixed(self) -> I32F32 {
        self.0
    }

    /// Whole watts, rounded toward negative infinity.
    pub fn whole_watts(self) -> i64 {
        self.0.to_bits() >> 32
    }

    /// Thousandths of a watt, rounded toward negative infinity (DL/T 645 `XX.XXXX` kW is
    /// 0.1 W, which this gives exactly after a division by 100).
    pub fn milliwatts(self) -> i64 {
        ((i128::from(self.0.to_bits()) * 1000) >> 32) as i64
    }
}

/// Shown in watts with three decimals (rounded toward negative infinity).
impl fmt::Display for Power {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mw = self.milliwatts();
        let sign = if mw < 0 { "-" } else { "" };
        let abs = mw.unsigned_abs();
        write!(f, "{sign}{}.{:03} W", abs / 1000, abs % 1000)
    }
}

#[cfg(feature = "defmt")]
impl defmt::Format for Power {
    fn format(&self, f: defmt::Formatter<'_>) {
        defmt::write!(f, "{=i64} mW", self.milliwatts());
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn conversions() {
        assert_eq!(Power::from_watts(-3).whole_watts(), -3);
        assert_eq!(
            Power::from_fixed(I32F32::from_bits(1 << 31)).milliwatts(),
            500
        );
        assert_eq!(
            Power::from_watts(i64::MAX).whole_watts(),
            i64::from(i32::MAX)
        );
        assert_eq!(
            Power::from_fixed(I32F32::from_bits(-(1 << 31))).to_string(),
            "-0.500 W"
        );
    }
}
