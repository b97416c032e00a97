use core::num::NonZeroU32;

use fixed::types::I32F32;
use heapless::Vec;

use super::power::power_from_pulses;
use super::{MeterConstant, MeteringError};
use crate::snapshot::{Field, Reader, Snapshot, SnapshotError, Writer, struct_field};
use crate::time::Timestamp;
use crate::units::Power;

/// A demand value: the average power over the window that ended at `window_end`.
///
/// Binary form ([`Field`]): `window_end` (`i64` Unix seconds), then `demand` as the `i64` bits
/// of its `I32F32` watts.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub struct DemandReading {
    /// The end of the demand window (a subperiod boundary).
    pub window_end: Timestamp,
    /// The average power over the window.
    pub demand: Power,
}

impl Field for DemandReading {
    fn write_to(&self, w: &mut Writer<'_>) -> Result<(), SnapshotError> {
        self.window_end.write_to(w)?;
        self.demand.to_fixed().to_bits().write_to(w)
    }
    fn read_from(r: &mut Reader<'_>) -> Result<Self, SnapshotError> {
        Ok(DemandReading {
            window_end: Timestamp::read_from(r)?,
            demand: Power::from_fixed(I32F32::from_bits(i64::read_from(r)?)),
        })
    }
}

/// The state of a [`DemandMeter`] as plain data (its configuration, the meter constant and the
/// subperiod, is given to [`DemandMeter::restore`] apart).
///
/// Binary form ([`Field`]; stored on its own as a [`Snapshot`], magic `"DM"`, version 1):
/// `current` (`Option<i64>`: a tag byte, then the index), `window` (a `u16` count, then a `u64`
/// per subperiod), `pulses_now` (`u64`), `max` (`Option<DemandReading>`: a tag byte, then 16
/// bytes). For block demand (`N = 1`) with a maximum the stored form is 53 bytes; each further
/// subperiod of the window adds 8.
#[derive(Clone, Debug, PartialEq, Eq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub struct DemandMeterState<const N: usize = 1> {
    /// Index (since the epoch, in subperiods) of the subperiod being filled; `None` before the
    /// first pulse or tick.
    pub current: Option<i64>,
    /// Pulses of the closed subperiods in the window, oldest first (at most `N`).
    pub window: Vec<u64, N>,
    /// Pulses counted in the subperiod being filled.
    pub pulses_now: u64,
    /// The largest demand seen since construction or the last clear.
    pub max: Option<DemandReading>,
}

struct_field!(DemandMeterState[const N: usize] { current, window, pulses_now, max });

impl<const N: usize> Snapshot for DemandMeterState<N> {
    const MAGIC: [u8; 2] = *b"DM";
    const VERSION: u8 = 1;
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
/// let mut d = DemandMeter::new(c, 900).unwrap(); // 15-minute block demand
/// assert_eq!(d.add(Timestamp::from_unix(0), 500), None); // 0.5 kWh in the first block
/// let r = d.add(Timestamp::from_unix(900), 0).unwrap(); // the block closes
/// assert_eq!(r.demand.whole_watts(), 2000); // 0.5 kWh in 15 min = 2 kW
/// assert_eq!(d.max_demand(), Some(r));
/// ```
///
/// State: [`DemandMeter::state`] and [`DemandMeter::restore`] (see [`DemandMeterState`]). Two
/// demand meters are equal when their configuration and state are.
#[derive(Clone, Copy, Debug)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub struct DemandMeter<const N: usize = 1> {
    constant: MeterConstant,
    /// Non-zero by type, so the divisions by it cannot panic.
    subperiod_secs: NonZeroU32,
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

impl<const N: usize> PartialEq for DemandMeter<N> {
    fn eq(&self, other: &Self) -> bool {
        self.constant == other.constant
            && self.subperiod_secs == other.subperiod_secs
            && self.state() == other.state()
    }
}

impl<const N: usize> Eq for DemandMeter<N> {}

impl DemandMeter {
    /// [`DemandMeter::new_sized`] at the default capacities, so that a call needs no type
    /// annotations; see it for the details and the errors.
    pub const fn new(constant: MeterConstant, subperiod_secs: u32) -> Result<Self, MeteringError> {
        Self::new_sized(constant, subperiod_secs)
    }
}

impl<const N: usize> DemandMeter<N> {
    /// The length of a subperiod (a block's length, for a block demand), in seconds.
    pub const fn subperiod_secs(&self) -> u32 {
        self.subperiod_secs.get()
    }

    /// A demand meter with `N` subperiods of `subperiod_secs` seconds.
    ///
    /// Errors: [`MeteringError::InvalidDemandPeriod`] if `N == 0`, the subperiod is zero, or it
    /// does not divide a day (86 400 s).
    ///
    /// Generic over the capacities (name them, `DemandMeter::<..>::new_sized`, or let them be
    /// inferred from where the result goes); [`DemandMeter::new`] is this at the default ones.
    pub const fn new_sized(
        constant: MeterConstant,
        subperiod_secs: u32,
    ) -> Result<Self, MeteringError> {
        let Some(subperiod_secs) = NonZeroU32::new(subperiod_secs) else {
            return Err(MeteringError::InvalidDemandPeriod);
        };
        if N == 0 || 86_400 % subperiod_secs.get() != 0 {
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

    /// The demand meter's state as plain data.
    pub fn state(&self) -> DemandMeterState<N> {
        // Before the window fills, the closed subperiods are `ring[..filled]`; after, the oldest
        // is at `head` (the next to be overwritten).
        let (older, newer): (&[u64], &[u64]) = if self.filled < N {
            (self.ring.get(..self.filled).unwrap_or(&[]), &[])
        } else {
            let (newer, older) = self.ring.split_at(self.head.min(N));
            (older, newer)
        };
        let mut window = Vec::new();
        for &p in older.iter().chain(newer) {
            // At most N values: the push cannot fail.
            let _ = window.push(p);
        }
        DemandMeterState {
            current: self.current,
            window,
            pulses_now: self.pulses_now,
            max: self.max,
        }
    }

    /// A demand meter of `N` subperiods of `subperiod_secs` seconds for `constant`, in `state`.
    ///
    /// Errors: [`MeteringError::InvalidDemandPeriod`] as for [`DemandMeter::new`];
    /// [`MeteringError::InvalidDemandState`] if the state has pulses or a maximum before any
    /// subperiod began (`current` is `None`), or a maximum whose window does not end on a
    /// subperiod boundary or whose demand is negative.
    pub fn restore(
        constant: MeterConstant,
        subperiod_secs: u32,
        state: DemandMeterState<N>,
    ) -> Result<Self, MeteringError> {
        let mut d = Self::new_sized(constant, subperiod_secs)?;
        let untouched = state.window.is_empty() && state.pulses_now == 0 && state.max.is_none();
        let max_ok = state.max.is_none_or(|m| {
            m.window_end
                .unix()
                .rem_euclid(i64::from(d.subperiod_secs.get()))
                == 0
                && m.demand >= Power::ZERO
        });
        if (state.current.is_none() && !untouched) || !max_ok {
            return Err(MeteringError::InvalidDemandState);
        }
        let filled = state.window.len();
        for (slot, p) in d.ring.iter_mut().zip(&state.window) {
            *slot = *p;
        }
        d.filled = filled;
        d.head = filled % N;
        d.current = state.current;
        d.pulses_now = state.pulses_now;
        d.max = state.max;
        Ok(d)
    }

    /// Counts `pulses` at `now` (call with 0 pulses to let time pass). Returns the reading of
    /// the window that closed, if a subperiod boundary was crossed and the window is full.
    /// When several boundaries were crossed at once, the latest window is returned (and the
    /// maximum takes every one of them into account).
    pub fn add(&mut self, now: Timestamp, pulses: u32) -> Option<DemandReading> {
        let index = now.unix().div_euclid(i64::from(self.subperiod_secs.get()));
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
        let span_us = u64::from(self.subperiod_secs.get()) * N as u64 * 1_000_000;
        let reading = DemandReading {
            window_end: Timestamp::from_unix(
                end_index.saturating_mul(i64::from(self.subperiod_secs.get())),
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
        let mut d = DemandMeter::<3>::new_sized(c1000(), 60).unwrap();
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
        let mut d = DemandMeter::<2>::new_sized(c1000(), 60).unwrap();
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
    fn state_round_trips_mid_window_and_refuses_impossible_states() {
        let c = c1000();
        let mut d = DemandMeter::<3>::new_sized(c, 60).unwrap();
        let mut t = 0;
        for pulses in [60u32, 120, 0, 30, 45] {
            let _ = d.add(Timestamp::from_unix(t), pulses);
            t += 60;
        }
        let state = d.state();
        assert_eq!(state.window.len(), 3);
        let mut back = DemandMeter::restore(c, 60, state.clone()).unwrap();
        assert_eq!(back, d);
        for pulses in [10u32, 0, 500, 7] {
            assert_eq!(
                back.add(Timestamp::from_unix(t), pulses),
                d.add(Timestamp::from_unix(t), pulses)
            );
            t += 60;
        }
        assert_eq!(back.max_demand(), d.max_demand());
        let mut buf = [0u8; 96];
        let n = state.emit(&mut buf).unwrap();
        assert_eq!(n, 5 + 9 + (2 + 24) + 8 + 17 + 4);
        assert_eq!(DemandMeterState::<3>::parse(&buf[..n]), Ok(state.clone()));

        let fresh = DemandMeter::<3>::new_sized(c, 60).unwrap().state();
        assert_eq!(
            DemandMeter::restore(c, 60, fresh.clone()).unwrap().state(),
            fresh
        );
        let mut bad = fresh;
        bad.pulses_now = 1;
        assert_eq!(
            DemandMeter::restore(c, 60, bad),
            Err(MeteringError::InvalidDemandState)
        );
        let mut bad = state.clone();
        if let Some(m) = bad.max.as_mut() {
            m.window_end = Timestamp::from_unix(m.window_end.unix() + 1);
        }
        assert_eq!(
            DemandMeter::restore(c, 60, bad),
            Err(MeteringError::InvalidDemandState)
        );
        assert_eq!(
            DemandMeter::restore(c, 7, state),
            Err(MeteringError::InvalidDemandPeriod)
        );
    }

    #[test]
    fn invalid_periods() {
        assert_eq!(
            DemandMeter::<0>::new_sized(c1000(), 60),
            Err(MeteringError::InvalidDemandPeriod)
        );
        assert_eq!(
            DemandMeter::<1>::new_sized(c1000(), 0),
            Err(MeteringError::InvalidDemandPeriod)
        );
        assert_eq!(
            DemandMeter::<1>::new_sized(c1000(), 7),
            Err(MeteringError::InvalidDemandPeriod)
        );
    }
}
