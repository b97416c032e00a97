use fixed::types::I32F32;

use super::{MeterConstant, PulseBatch};
use crate::time::{Duration, Instant};
use crate::units::Power;

/// µs·W in one kWh: 3.6 × 10^12.
pub(crate) const MICROSECOND_WATTS_PER_KWH: u128 = 3_600_000_000_000;

/// `pulses / C` kWh spread over `span_us` µs, in watts, as an `I32F32` (saturating).
pub(crate) fn power_from_pulses(constant: MeterConstant, pulses: u64, span_us: u64) -> Power {
    let denom = u128::from(constant.imp_per_kwh()) * u128::from(span_us);
    if denom == 0 {
        return Power::ZERO;
    }
    // Watts with 32 fractional bits: (pulses × 3.6e12 << 32) / (C × span). pulses < 2^64 and
    // 3.6e12 < 2^42, so the numerator is below 2^106 + 32 = 2^138: split the shift to stay in
    // 128 bits.
    let num = u128::from(pulses) * MICROSECOND_WATTS_PER_KWH;
    let whole = num / denom;
    let frac = ((num % denom) << 32) / denom;
    let bits = whole.checked_shl(32).map(|w| w | frac);
    match bits.and_then(|b| i64::try_from(b).ok()) {
        Some(b) if whole <= u128::from(i32::MAX as u32) => Power::from_fixed(I32F32::from_bits(b)),
        _ => Power::from_fixed(I32F32::MAX),
    }
}

/// Instantaneous power from the interval between pulses.
///
/// The estimate is the power of the last complete pulse interval, except that when no pulse has
/// come for longer than that interval, the power cannot be more than one pulse over the time
/// since the last pulse, and the estimate falls accordingly (so a load switched off reads close
/// to zero after a few seconds rather than keeping its last value). Before two pulses have been
/// seen the estimate is zero.
///
/// ```
/// use prepaid_meter::metering::{MeterConstant, PowerEstimator, PulseBatch};
/// use prepaid_meter::time::{Duration, Instant};
/// let mut p = PowerEstimator::new(MeterConstant::new(1600).unwrap());
/// p.update(&PulseBatch {
///     accepted: 2,
///     rejected: 0,
///     last_pulse: Some(Instant::from_millis(10_000)),
///     last_interval: Some(Duration::from_micros(2_250_000)), // 1 W·h/1600 each 2.25 s
/// });
/// assert_eq!(p.power(Instant::from_millis(10_500)).whole_watts(), 1000);
/// // 9 s without a pulse: at most 1/1600 kWh in 9 s = 250 W.
/// assert_eq!(p.power(Instant::from_millis(19_000)).whole_watts(), 250);
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub struct PowerEstimator {
    constant: MeterConstant,
    last_pulse: Option<Instant>,
    last_interval: Option<Duration>,
}

impl PowerEstimator {
    /// An estimator that has seen no pulse.
    pub const fn new(constant: MeterConstant) -> PowerEstimator {
        PowerEstimator {
            constant,
            last_pulse: None,
            last_interval: None,
        }
    }

    /// Takes the pulse timing from a drained batch.
    pub fn update(&mut self, batch: &PulseBatch) {
        if batch.last_pulse.is_some() {
            self.last_pulse = batch.last_pulse;
        }
        if batch.last_interval.is_some() {
            self.last_interval = batch.last_interval;
        }
    }

    /// The power estimate at `now`.
    pub fn power(&self, now: Instant) -> Power {
        let (Some(last), Some(interval)) = (self.last_pulse, self.last_interval) else {
            return Power::ZERO;
        };
        let since = now.checked_duration_since(last).unwrap_or(Duration::ZERO);
        let span = if since > interval { since } else { interval };
        power_from_pulses(self.constant, 1, span.micros())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn power_is_exact_where_it_divides() {
        let c = MeterConstant::new(1000).unwrap();
        // 1 Wh in 1 s = 3600 W.
        assert_eq!(power_from_pulses(c, 1, 1_000_000), Power::from_watts(3600));
        // 1 Wh in 3 s = 1200 W; 1 Wh in 7 s = 514.2857... W.
        assert_eq!(power_from_pulses(c, 1, 7_000_000).milliwatts(), 514_285);
        assert_eq!(power_from_pulses(c, 1, 0), Power::ZERO);
        assert_eq!(power_from_pulses(c, u64::MAX, 1).to_fixed(), I32F32::MAX);
    }

    #[test]
    fn no_pulses_means_no_power() {
        let p = PowerEstimator::new(MeterConstant::new(1600).unwrap());
        assert_eq!(p.power(Instant::from_millis(5)), Power::ZERO);
    }
}
