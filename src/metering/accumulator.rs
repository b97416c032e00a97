use super::{MeterConstant, MeteringError};
use crate::snapshot::{Snapshot, struct_field};
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
///
/// State: [`EnergyAccumulator::state`] and [`EnergyAccumulator::restore`] with the meter
/// constant (see [`EnergyAccumulatorState`]). Under `serde` the accumulator serializes as
/// `{ constant, remainder }` and deserializing refuses a remainder not below the constant.
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
    type Error = MeteringError;
    fn try_from(f: AccumulatorFields) -> Result<Self, MeteringError> {
        EnergyAccumulator::restore(
            f.constant,
            EnergyAccumulatorState {
                remainder: f.remainder,
            },
        )
    }
}

/// The state of an [`EnergyAccumulator`] as plain data: the energy not yet returned, in units
/// of `1/C` Wh (`0..C` for the meter constant `C` it is restored with).
///
/// Binary form ([`Field`](crate::snapshot::Field); stored on its own as a [`Snapshot`], magic `"EA"`, version 1): the
/// remainder as a `u32`. The stored form is 13 bytes.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub struct EnergyAccumulatorState {
    /// The energy carried to the next pulses, in units of `1/C` Wh.
    pub remainder: u32,
}

struct_field!(EnergyAccumulatorState { remainder });

impl Snapshot for EnergyAccumulatorState {
    const MAGIC: [u8; 2] = *b"EA";
    const VERSION: u8 = 1;
}

impl EnergyAccumulator {
    /// An accumulator with no remainder.
    pub const fn new(constant: MeterConstant) -> EnergyAccumulator {
        EnergyAccumulator {
            constant,
            remainder: 0,
        }
    }

    /// The accumulator's state as plain data.
    pub const fn state(&self) -> EnergyAccumulatorState {
        EnergyAccumulatorState {
            remainder: self.remainder,
        }
    }

    /// An accumulator for `constant` in `state`.
    ///
    /// Error: [`MeteringError::RemainderOutOfRange`] if the remainder is not below the
    /// constant (an accumulator of that constant never holds it).
    pub const fn restore(
        constant: MeterConstant,
        state: EnergyAccumulatorState,
    ) -> Result<EnergyAccumulator, MeteringError> {
        if state.remainder >= constant.imp_per_kwh() {
            return Err(MeteringError::RemainderOutOfRange);
        }
        Ok(EnergyAccumulator {
            constant,
            remainder: state.remainder,
        })
    }

    /// An accumulator from any remainder in units of `1/C` Wh (one counted under another
    /// constant, say): a remainder that is not below `C` is reduced modulo `C` and its whole
    /// watt-hours are returned with it.
    pub const fn from_remainder(
        constant: MeterConstant,
        remainder: u32,
    ) -> (EnergyAccumulator, Energy) {
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

    /// Adds `pulses` and returns the whole watt-hours they complete (add them to the registers:
    /// they are not returned again).
    ///
    /// Never overflows: `pulses × 1000 + remainder` is computed in 128 bits and the result is at
    /// most `u64::MAX × 1000 / 1` Wh, which is clamped to [`Energy::MAX`] (more than 10^15 kWh,
    /// which no meter reaches).
    #[must_use = "the energy returned is not carried: add it to the registers"]
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
    fn restore_checks_and_from_remainder_reduces() {
        let c = MeterConstant::new(1600).unwrap();
        let (acc, e) = EnergyAccumulator::from_remainder(c, 3300);
        assert_eq!((acc.remainder(), e.wh()), (100, 2));
        assert_eq!(EnergyAccumulator::restore(c, acc.state()), Ok(acc));
        assert_eq!(
            EnergyAccumulator::restore(c, EnergyAccumulatorState { remainder: 1600 }),
            Err(MeteringError::RemainderOutOfRange)
        );
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
