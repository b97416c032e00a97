use super::MeterConstant;
use crate::units::Energy;

/// Turns pulses into whole watt-hours exactly, carrying the remainder to the next pulses.
///
/// After any sequence of calls whose pulses add up to `n` (up to 2^40 and far beyond), the
/// energies returned add up to exactly `n × 1000 / C` Wh rounded down, and
/// [`remainder`](Self::remainder) holds the rest, `(n × 1000) mod C`, in units of `1/C` Wh.
///
/// ```
/// use prepaid_meter::metering::{EnergyAccumulator, MeterConstant};
/// let mut acc = EnergyAccumulator::new(MeterConstant::new(1600).unwrap());
/// assert_eq!(acc.add_pulses(1).wh(), 0); // 0.625 Wh so far
/// assert_eq!(acc.add_pulses(1).wh(), 1); // 1.25 Wh
/// assert_eq!(acc.remainder(), 400); // 0.25 Wh = 400/1600 Wh
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
#[cfg_attr(feature = "serde", serde(try_from = "AccumulatorFields"))]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub struct EnergyAccumulator {
    constant: MeterConstant,
    remainder: u32,
}

#[cfg(feature = "serde")]
#[derive(serde::Deserialize)]
struct AccumulatorFields {
    constant: MeterConstant,
    remainder: u32,
}

/// A snapshot whose remainder is not below the meter constant cannot have been saved by an
/// accumulator.
#[cfg(feature = "serde")]
impl TryFrom<AccumulatorFields> for EnergyAccumulator {
    type Error = &'static str;
    fn try_from(f: AccumulatorFields) -> Result<Self, &'static str> {
        if f.remainder >= f.constant.imp_per_kwh() {
            return Err("accumulator remainder not below the meter constant");
        }
        Ok(EnergyAccumulator {
            constant: f.constant,
            remainder: f.remainder,
        })
    }
}

impl EnergyAccumulator {
    /// An accumulator with no remainder.
    pub const fn new(constant: MeterConstant) -> EnergyAccumulator {
        EnergyAccumulator {
            constant,
            remainder: 0,
        }
    }

    /// An accumulator restored from a saved [`remainder`](Self::remainder); a remainder that is
    /// not below `C` is reduced modulo `C` and its whole watt-hours are returned with it.
    pub const fn restore(constant: MeterConstant, remainder: u32) -> (EnergyAccumulator, Energy) {
        let c = constant.imp_per_kwh();
        let acc = EnergyAccumulator {
            constant,
            remainder: remainder % c,
        };
        (acc, Energy::from_wh((remainder / c) as i64))
    }

    /// The meter constant.
    pub const fn constant(&self) -> MeterConstant {
        self.constant
    }

    /// The energy not yet returned, in units of `1/C` Wh (`0..C`).
    pub const fn remainder(&self) -> u32 {
        self.remainder
    }

    /// Adds `pulses` and returns the whole watt-hours they complete.
    ///
    /// Never overflows: `pulses × 1000 + remainder` is computed in 128 bits and the result is at
    /// most `u64::MAX × 1000 / 1` Wh, which is clamped to [`Energy::MAX`] (more than 10^15 kWh,
    /// which no meter reaches).
    pub const fn add_pulses(&mut self, pulses: u64) -> Energy {
        let c = self.constant.imp_per_kwh();
        // The common case stays in 64 bits (software division on a Cortex-M0 is far cheaper
        // for u64 than for u128): pulses × 1000 + remainder fits while pulses < 2^53.
        if pulses < 1 << 53 {
            let total = pulses * 1000 + self.remainder as u64;
            self.remainder = (total % c as u64) as u32;
            return Energy::from_wh((total / c as u64) as i64);
        }
        let total = pulses as u128 * 1000 + self.remainder as u128;
        self.remainder = (total % c as u128) as u32;
        let wh = total / c as u128;
        if wh > i64::MAX as u128 {
            Energy::MAX
        } else {
            Energy::from_wh(wh as i64)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_common_constant_is_exact_over_one_kwh() {
        for c in [1200u32, 1600, 3200, 6400, 7] {
            let mut acc = EnergyAccumulator::new(MeterConstant::new(c).unwrap());
            let mut total = 0i64;
            for _ in 0..c {
                total += acc.add_pulses(1).wh();
            }
            assert_eq!(total, 1000, "C = {c}");
            assert_eq!(acc.remainder(), 0);
        }
    }

    #[test]
    fn restore_reduces_the_remainder() {
        let c = MeterConstant::new(1600).unwrap();
        let (acc, e) = EnergyAccumulator::restore(c, 3300);
        assert_eq!((acc.remainder(), e.wh()), (100, 2));
        let mut big = EnergyAccumulator::new(MeterConstant::new(1).unwrap());
        assert_eq!(big.add_pulses(u64::MAX), Energy::MAX);
        // Both sides of the 64-bit fast path agree.
        let c3 = MeterConstant::new(3).unwrap();
        let (mut a, mut b) = (EnergyAccumulator::new(c3), EnergyAccumulator::new(c3));
        let n = (1u64 << 53) - 1;
        let wa = a.add_pulses(n).wh() + a.add_pulses(2).wh();
        let wb = b.add_pulses(n + 2).wh();
        assert_eq!((wa, a.remainder()), (wb, b.remainder()));
        assert_eq!(wb as u128, (u128::from(n) + 2) * 1000 / 3);
    }
}
