use super::power::power_from_pulses;
use super::{MeterConstant, MeteringError};
use crate::time::Timestamp;
use crate::units::Power;

/// A demand value: the average power over the window that ended at `window_end`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub struct DemandReading {
    /// The end of the demand window (a subperiod boundary).
    pub window_end: Timestamp,
    /// The average power over the window.
    pub demand: Power,
}

/// Demand over a block or sliding window, aligned to the wall clock.
///
/// The window is `N` subperiods of `subperiod_secs` seconds each; subperiods start at multiples
/// of `subperiod_secs` since midnight UTC (choose a subperiod that divides an hour to align with
/// local quarter hours in every whole-hour time zone). `N = 1` is block demand (e.g. one 15-minute
/// block); `N = 15` with 60-second subperiods is a 15-minute window sliding every minute.
///
/// Pulses are counted exactly per subperiod; the demand is `pulses / C` kWh over the window,
/// as [`Power`]. A reading is produced at each subperiod boundary once the window has been
/// filled. Subperiods skipped while the meter was off count as zero consumption; if the clock is
/// set back, the window restarts.
///
/// ```
/// use prepaid_meter::metering::{DemandMeter, MeterConstant};
/// use prepaid_meter::time::Timestamp;
/// let c = MeterConstant::new(1000).unwrap();
/// let mut d: DemandMeter<1> = DemandMeter::new(c, 900).unwrap(); // 15-minute block demand
/// assert_eq!(d.add(Timestamp::from_unix(0), 500), None); // 0.5 kWh in the first block
/// let r = d.add(Timestamp::from_unix(900), 0).unwrap(); // the block closes
/// assert_eq!(r.demand.whole_watts(), 2000); // 0.5 kWh in 15 min = 2 kW
/// assert_eq!(d.max_demand(), Some(r));
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub struct DemandMeter<const N: usize = 1> {
    constant: MeterConstant,
    subperiod_secs: u32,
    /// Index (since the epoch) of the subperiod being filled, once a pulse or tick was seen.
    current: Option<i64>,
    /// Pulses of the closed subperiods, oldest first, and the one being filled last.
    ring: [u64; N],
    /// Closed subperiods in the window, up to N.
    filled: usize,
    /// Position in `ring` of the subperiod being filled.
    head: usize,
    pulses_now: u64,
    max: Option<DemandReading>,
}

impl<const N: usize> DemandMeter<N> {
    /// A demand meter with `N` subperiods of `subperiod_secs` seconds.
    ///
    /// Errors: [`MeteringError::InvalidDemandPeriod`] if `N == 0`, the subperiod is zero, or it
    /// does not divide a day (86 400 s).
    pub const fn new(constant: MeterConstant, subperiod_secs: u32) -> Result<Self, MeteringError> {
        if N == 0 || subperiod_secs == 0 || 86_400 % subperiod_secs != 0 {
            return Err(MeteringError::InvalidDemandPeriod);
        }
        Ok(DemandMeter {
            constant,
            subperiod_secs,
            current: None,
            ring: [0; N],
            filled: 0,
            head: 0,
            pulses_now: 0,
            max: None,
        })
    }

    /// Counts `pulses` at `now` (call with 0 pulses to let time pass). Returns the reading of
    /// the window that closed, if a subperiod boundary was crossed and the window is full.
    /// When several boundaries were crossed at once, the latest window is returned (and the
    /// maximum takes every one of them into account).
    pub fn add(&mut self, now: Timestamp, pulses: u32) -> Option<DemandReading> {
        let index = now.unix().div_euclid(i64::from(self.subperiod_secs));
        let mut reading = None;
        match self.current {
            None => self.current = Some(index),
            Some(cur) if index < cur => {
                // The clock was set back: start a fresh window.
                self.ring = [0; N];
                self.filled = 0;
                self.head = 0;
                self.pulses_now = 0;
                self.current = Some(index);
            }
            Some(cur) => {
                // Close each subperiod from `cur` up to `index`; after N empty ones the window
                // is all zeros, so stop early (bounded work after a long power cut).
                let steps = index.saturating_sub(cur);
                let bounded = steps.min(N as i64 + 1);
                for step in 0..bounded {
                    let end_index = if step + 1 == bounded {
                        index
                    } else {
                        cur + step + 1
                    };
                    reading = self.close_subperiod(end_index).or(reading);
                }
                self.current = Some(index);
            }
        }
        self.pulses_now = self.pulses_now.saturating_add(u64::from(pulses));
        reading
    }

    fn close_subperiod(&mut self, end_index: i64) -> Option<DemandReading> {
        if let Some(slot) = self.ring.get_mut(self.head) {
            *slot = self.pulses_now;
        }
        self.pulses_now = 0;
        self.head = (self.head + 1) % N;
        self.filled = (self.filled + 1).min(N);
        if self.filled < N {
            return None;
        }
        let pulses = self.ring.iter().fold(0u64, |a, &p| a.saturating_add(p));
        let span_us = u64::from(self.subperiod_secs) * N as u64 * 1_000_000;
        let reading = DemandReading {
            window_end: Timestamp::from_unix(
                end_index.saturating_mul(i64::from(self.subperiod_secs)),
            ),
            demand: power_from_pulses(self.constant, pulses, span_us),
        };
        if self.max.is_none_or(|m| reading.demand > m.demand) {
            self.max = Some(reading);
        }
        Some(reading)
    }

    /// The largest demand seen since construction or the last [`clear_max`](Self::clear_max).
    pub const fn max_demand(&self) -> Option<DemandReading> {
        self.max
    }

    /// Clears the maximum demand (DL/T 645 function 19H).
    pub fn clear_max(&mut self) {
        self.max = None;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn c1000() -> MeterConstant {
        MeterConstant::new(1000).unwrap()
    }

    #[test]
    fn sliding_window_moves_each_subperiod() {
        // Three 60 s subperiods; 1 Wh per pulse.
        let mut d: DemandMeter<3> = DemandMeter::new(c1000(), 60).unwrap();
        assert_eq!(d.add(Timestamp::from_unix(0), 60), None);
        assert_eq!(d.add(Timestamp::from_unix(60), 120), None);
        assert_eq!(d.add(Timestamp::from_unix(120), 0), None);
        // Window 0..180 s: 180 Wh in 180 s = 3600 W.
        let r = d.add(Timestamp::from_unix(180), 0).unwrap();
        assert_eq!((r.window_end.unix(), r.demand.whole_watts()), (180, 3600));
        // Window 60..240: 120 Wh in 180 s = 2400 W.
        let r = d.add(Timestamp::from_unix(245), 0).unwrap();
        assert_eq!((r.window_end.unix(), r.demand.whole_watts()), (240, 2400));
        assert_eq!(d.max_demand().unwrap().demand.whole_watts(), 3600);
        d.clear_max();
        assert_eq!(d.max_demand(), None);
    }

    #[test]
    fn power_cut_and_clock_set_back() {
        let mut d: DemandMeter<2> = DemandMeter::new(c1000(), 60).unwrap();
        d.add(Timestamp::from_unix(0), 100);
        // A day later: the window is empty, and the work done was bounded.
        let r = d.add(Timestamp::from_unix(86_400), 0).unwrap();
        assert_eq!((r.window_end.unix(), r.demand), (86_400, Power::ZERO));
        // The maximum saw the window holding the 100 pulses: 100 Wh in 120 s = 3000 W.
        assert_eq!(d.max_demand().unwrap().demand.whole_watts(), 3000);
        assert_eq!(d.add(Timestamp::from_unix(10), 5), None);
        assert_eq!(d.add(Timestamp::from_unix(60), 0), None, "window restarted");
    }

    #[test]
    fn invalid_periods() {
        assert_eq!(
            DemandMeter::<0>::new(c1000(), 60),
            Err(MeteringError::InvalidDemandPeriod)
        );
        assert_eq!(
            DemandMeter::<1>::new(c1000(), 0),
            Err(MeteringError::InvalidDemandPeriod)
        );
        assert_eq!(
            DemandMeter::<1>::new(c1000(), 7),
            Err(MeteringError::InvalidDemandPeriod)
        );
    }
}
