//! embedded-hal 1.0 adapters (feature `hal`).
//!
//! [`PulseInput`] samples the pulse output of a metering chip on a GPIO pin and feeds each
//! active edge to a [`PulseCounter`]. Use it where the pulse line is polled (from a timer
//! interrupt at a few kHz, or a busy main loop); where the line raises an interrupt, call
//! [`PulseCounter::on_pulse`] from that interrupt instead.
//!
//! ```
//! # use core::convert::Infallible;
//! # struct Pin(bool); // a GPIO input of your HAL
//! # impl embedded_hal::digital::ErrorType for Pin { type Error = Infallible; }
//! # impl embedded_hal::digital::InputPin for Pin {
//! #     fn is_high(&mut self) -> Result<bool, Infallible> { Ok(self.0) }
//! #     fn is_low(&mut self) -> Result<bool, Infallible> { Ok(!self.0) }
//! # }
//! use prepaid_meter::hal::{ActiveLevel, PulseInput};
//! use prepaid_meter::metering::{GlitchFilter, MeterConstant, PulseCounter};
//! use prepaid_meter::time::Instant;
//!
//! static PULSES: PulseCounter = PulseCounter::new();
//! let filter = GlitchFilter::from_max_power(MeterConstant::new(1600).unwrap(), 13_200).unwrap();
//! let mut input = PulseInput::new(Pin(true), ActiveLevel::Low, filter); // open collector
//! // From a timer interrupt, every few hundred microseconds:
//! input.poll(Instant::from_millis(0), &PULSES).unwrap();
//! input.pin_mut().0 = false; // the line goes low: a pulse
//! input.poll(Instant::from_millis(500), &PULSES).unwrap();
//! // The main loop drains the counter.
//! assert_eq!(PULSES.drain().accepted, 1);
//! ```

use embedded_hal::digital::InputPin;

use crate::metering::{GlitchFilter, PulseCounter};
use crate::time::Instant;

/// Which level of the pulse line marks a pulse.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub enum ActiveLevel {
    /// A pulse is a high level (count rising edges).
    High,
    /// A pulse is a low level, as with an open-collector output (count falling edges).
    Low,
}

/// A polled pulse input: counts one pulse per transition into the active level.
///
/// ```
/// # use core::convert::Infallible;
/// # struct Pin(bool);
/// # impl embedded_hal::digital::ErrorType for Pin { type Error = Infallible; }
/// # impl embedded_hal::digital::InputPin for Pin {
/// #     fn is_high(&mut self) -> Result<bool, Infallible> { Ok(self.0) }
/// #     fn is_low(&mut self) -> Result<bool, Infallible> { Ok(!self.0) }
/// # }
/// use prepaid_meter::hal::{ActiveLevel, PulseInput};
/// use prepaid_meter::metering::{GlitchFilter, PulseCounter};
/// use prepaid_meter::time::{Duration, Instant};
///
/// let counter = PulseCounter::new();
/// let filter = GlitchFilter::from_min_interval(Duration::from_millis(50)).unwrap();
/// let mut input = PulseInput::new(Pin(false), ActiveLevel::High, filter);
/// input.poll(Instant::from_millis(0), &counter).unwrap();
/// input.pin_mut().0 = true;
/// assert!(input.poll(Instant::from_millis(100), &counter).unwrap()); // rising edge
/// assert!(!input.poll(Instant::from_millis(101), &counter).unwrap()); // still high
/// assert_eq!(counter.drain().accepted, 1);
/// ```
#[derive(Debug)]
pub struct PulseInput<P> {
    pin: P,
    active: ActiveLevel,
    filter: GlitchFilter,
    was_active: Option<bool>,
}

impl<P: InputPin> PulseInput<P> {
    /// A pulse input on `pin`. The first poll only learns the line's level.
    pub const fn new(pin: P, active: ActiveLevel, filter: GlitchFilter) -> Self {
        PulseInput {
            pin,
            active,
            filter,
            was_active: None,
        }
    }

    /// Samples the pin at `now`; on a transition into the active level, records a pulse in
    /// `counter` (which applies the glitch filter) and returns `true`. A pin error is returned
    /// as it is, and the edge state is left as it was.
    pub fn poll(&mut self, now: Instant, counter: &PulseCounter) -> Result<bool, P::Error> {
        let active = match self.active {
            ActiveLevel::High => self.pin.is_high()?,
            ActiveLevel::Low => self.pin.is_low()?,
        };
        let edge = active && self.was_active == Some(false);
        self.was_active = Some(active);
        if edge {
            counter.on_pulse(now, self.filter);
        }
        Ok(edge)
    }

    /// The pin, for inspection or reconfiguration.
    pub fn pin_mut(&mut self) -> &mut P {
        &mut self.pin
    }

    /// Gives the pin back.
    pub fn release(self) -> P {
        self.pin
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::time::Duration;
    use core::convert::Infallible;

    struct Scripted<'a>(&'a [bool], usize);
    impl embedded_hal::digital::ErrorType for Scripted<'_> {
        type Error = Infallible;
    }
    impl InputPin for Scripted<'_> {
        fn is_high(&mut self) -> Result<bool, Infallible> {
            let v = self.0.get(self.1).copied().unwrap_or(false);
            self.1 += 1;
            Ok(v)
        }
        fn is_low(&mut self) -> Result<bool, Infallible> {
            self.is_high().map(|h| !h)
        }
    }

    #[test]
    fn counts_edges_into_the_active_level() {
        let levels = [true, true, false, true, false, false, true, true, false];
        for (active, expected) in [(ActiveLevel::High, 2), (ActiveLevel::Low, 3)] {
            let counter = PulseCounter::new();
            let f = GlitchFilter::from_min_interval(Duration::from_micros(1)).unwrap();
            let mut input = PulseInput::new(Scripted(&levels, 0), active, f);
            for i in 0..levels.len() as u64 {
                input.poll(Instant::from_millis(i * 10), &counter).unwrap();
            }
            assert_eq!(counter.drain().accepted, expected, "{active:?}");
        }
    }

    #[derive(Debug)]
    struct Broken;
    impl embedded_hal::digital::ErrorType for Broken {
        type Error = embedded_hal::digital::ErrorKind;
    }
    impl InputPin for Broken {
        fn is_high(&mut self) -> Result<bool, Self::Error> {
            Err(embedded_hal::digital::ErrorKind::Other)
        }
        fn is_low(&mut self) -> Result<bool, Self::Error> {
            Err(embedded_hal::digital::ErrorKind::Other)
        }
    }

    #[test]
    fn pin_errors_are_returned() {
        let counter = PulseCounter::new();
        let f = GlitchFilter::from_min_interval(Duration::from_micros(1)).unwrap();
        let mut input = PulseInput::new(Broken, ActiveLevel::High, f);
        assert!(input.poll(Instant::from_millis(0), &counter).is_err());
    }
}
