use core::cell::Cell;

use critical_section::Mutex;

use super::{MeterConstant, MeteringError};
use crate::time::{Duration, Instant};

/// The shortest plausible interval between two energy pulses, below which a pulse is a glitch.
///
/// Derive it from the meter's maximum power ([`GlitchFilter::from_max_power`]) or give it
/// directly ([`GlitchFilter::from_min_interval`]).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
#[cfg_attr(feature = "serde", serde(try_from = "GlitchFilterFields"))]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub struct GlitchFilter {
    min_interval: Duration,
}

impl GlitchFilter {
    /// The shortest accepted glitch interval: 1 µs.
    pub const MIN_INTERVAL: Duration = Duration::from_micros(1);
    /// The longest accepted glitch interval: 60 s. A longer one would reject the pulses of a
    /// meter running at a few watts, which no real filter intends.
    pub const MAX_INTERVAL: Duration = Duration::from_secs(60);

    /// A filter that rejects pulses closer together than `min_interval`.
    pub const fn from_min_interval(min_interval: Duration) -> Result<GlitchFilter, MeteringError> {
        let us = min_interval.micros();
        if us < Self::MIN_INTERVAL.micros() || us > Self::MAX_INTERVAL.micros() {
            return Err(MeteringError::GlitchIntervalOutOfRange);
        }
        Ok(GlitchFilter { min_interval })
    }

    /// A filter for a meter whose power cannot exceed `max_power_w` watts: pulses closer than
    /// `3.6e12 / (C × P)` µs (the interval at that power) are glitches. The interval is rounded
    /// down, so a pulse train at exactly the maximum power is accepted.
    ///
    /// ```
    /// use prepaid_meter::metering::{GlitchFilter, MeterConstant};
    /// use prepaid_meter::time::Duration;
    /// let c = MeterConstant::new(1600).unwrap();
    /// let f = GlitchFilter::from_max_power(c, 13_200).unwrap(); // 60 A at 220 V
    /// assert_eq!(f.min_interval(), Duration::from_micros(170_454));
    /// assert!(GlitchFilter::from_max_power(c, 0).is_err());
    /// ```
    pub const fn from_max_power(
        constant: MeterConstant,
        max_power_w: u32,
    ) -> Result<GlitchFilter, MeteringError> {
        if max_power_w == 0 {
            return Err(MeteringError::MaxPowerOutOfRange);
        }
        let denom = constant.imp_per_kwh() as u128 * max_power_w as u128;
        let us = super::power::MICROSECOND_WATTS_PER_KWH / denom;
        match GlitchFilter::from_min_interval(Duration::from_micros(us as u64)) {
            Ok(f) => Ok(f),
            Err(_) => Err(MeteringError::MaxPowerOutOfRange),
        }
    }

    /// The shortest accepted interval between pulses.
    pub const fn min_interval(self) -> Duration {
        self.min_interval
    }
}

#[cfg(feature = "serde")]
#[derive(serde::Deserialize)]
struct GlitchFilterFields {
    min_interval: Duration,
}

#[cfg(feature = "serde")]
impl TryFrom<GlitchFilterFields> for GlitchFilter {
    type Error = MeteringError;
    fn try_from(f: GlitchFilterFields) -> Result<Self, MeteringError> {
        GlitchFilter::from_min_interval(f.min_interval)
    }
}

/// What the main loop gets from [`PulseCounter::drain`]: the pulses since the previous drain.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub struct PulseBatch {
    /// Pulses accepted as energy.
    pub accepted: u32,
    /// Pulses rejected by the glitch filter (or stamped earlier than the last accepted pulse).
    pub rejected: u32,
    /// The time of the last accepted pulse ever seen, if any.
    pub last_pulse: Option<Instant>,
    /// The interval between the last two accepted pulses ever seen, if there were two.
    pub last_interval: Option<Duration>,
}

#[derive(Clone, Copy)]
struct State {
    accepted: u32,
    rejected: u32,
    last_pulse: Option<Instant>,
    last_interval: Option<Duration>,
}

/// A pulse counter that an interrupt handler bumps and the main loop drains.
///
/// Works on every Cortex-M, the M0 included (which has no compare-and-swap): the state is
/// guarded by a [`critical_section::Mutex`]. The firmware provides a critical-section
/// implementation (for a single-core Cortex-M, `cortex-m`'s `critical-section-single-core`
/// feature); on a host the `std` implementation of the `critical-section` crate does.
///
/// Counts saturate at `u32::MAX` between two drains (about 31 days of pulses at 1 kHz); drain
/// at least that often.
pub struct PulseCounter {
    state: Mutex<Cell<State>>,
}

impl Default for PulseCounter {
    fn default() -> Self {
        Self::new()
    }
}

impl PulseCounter {
    /// A counter with nothing counted; `const`, so it can be a `static`.
    pub const fn new() -> PulseCounter {
        PulseCounter {
            state: Mutex::new(Cell::new(State {
                accepted: 0,
                rejected: 0,
                last_pulse: None,
                last_interval: None,
            })),
        }
    }

    /// Records one pulse at `now` (call from the pulse interrupt). Constant time.
    ///
    /// The pulse is rejected if it comes less than the filter's interval after the last accepted
    /// pulse, or before it (a monotonic clock never goes back, so that is a glitch too).
    pub fn on_pulse(&self, now: Instant, filter: GlitchFilter) {
        critical_section::with(|cs| {
            let cell = self.state.borrow(cs);
            let mut s = cell.get();
            let interval = match s.last_pulse {
                None => None,
                Some(last) => match now.checked_duration_since(last) {
                    Some(d) if d >= filter.min_interval => Some(d),
                    _ => {
                        s.rejected = s.rejected.saturating_add(1);
                        cell.set(s);
                        return;
                    }
                },
            };
            s.accepted = s.accepted.saturating_add(1);
            s.last_pulse = Some(now);
            if interval.is_some() {
                s.last_interval = interval;
            }
            cell.set(s);
        });
    }

    /// Takes the counts since the previous drain (call from the main loop). The last pulse time
    /// and interval are kept for the filter and the power estimate.
    #[must_use = "drained pulses are not counted again: turn them into energy"]
    pub fn drain(&self) -> PulseBatch {
        critical_section::with(|cs| {
            let cell = self.state.borrow(cs);
            let s = cell.get();
            cell.set(State {
                accepted: 0,
                rejected: 0,
                ..s
            });
            PulseBatch {
                accepted: s.accepted,
                rejected: s.rejected,
                last_pulse: s.last_pulse,
                last_interval: s.last_interval,
            }
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn glitches_are_counted_apart() {
        let c = PulseCounter::new();
        let f = GlitchFilter::from_min_interval(Duration::from_millis(100)).unwrap();
        for ms in [0u64, 50, 100, 150, 199, 200, 1000] {
            c.on_pulse(Instant::from_millis(ms), f);
        }
        // accepted: 0, 100, 200, 1000; rejected: 50, 150, 199
        let b = c.drain();
        assert_eq!((b.accepted, b.rejected), (4, 3));
        assert_eq!(b.last_pulse, Some(Instant::from_millis(1000)));
        assert_eq!(b.last_interval, Some(Duration::from_millis(800)));
        let again = c.drain();
        assert_eq!((again.accepted, again.rejected), (0, 0));
        assert_eq!(again.last_pulse, Some(Instant::from_millis(1000)));
        // A pulse stamped before the last accepted one is a glitch.
        c.on_pulse(Instant::from_millis(900), f);
        assert_eq!(c.drain().rejected, 1);
    }

    #[test]
    fn implausible_intervals_are_refused() {
        assert_eq!(
            GlitchFilter::from_min_interval(Duration::ZERO),
            Err(MeteringError::GlitchIntervalOutOfRange)
        );
        assert_eq!(
            GlitchFilter::from_min_interval(Duration::from_secs(61)),
            Err(MeteringError::GlitchIntervalOutOfRange)
        );
        let c = MeterConstant::new(1).unwrap();
        // 1 imp/kWh at 1 W: one pulse per 1000 h, far beyond any glitch interval.
        assert_eq!(
            GlitchFilter::from_max_power(c, 1),
            Err(MeteringError::MaxPowerOutOfRange)
        );
        let fast = MeterConstant::new(MeterConstant::MAX).unwrap();
        assert_eq!(
            GlitchFilter::from_max_power(fast, u32::MAX),
            Err(MeteringError::MaxPowerOutOfRange)
        );
    }
}
