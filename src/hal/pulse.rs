//! Pulse inputs: the pulse output of a metering chip (ADE7755-class), polled or on an interrupt.
//!
//! [`PulseInput`] samples the line and counts transitions into the active level;
//! [`PulseInterrupt`] is the glue for an edge interrupt, which confirms the level before counting.
//! Both feed a [`PulseCounter`], which applies the [`GlitchFilter`].

use embedded_hal::digital::InputPin;

use crate::metering::{GlitchFilter, PulseCounter};
use crate::time::Instant;

/// Which level of a digital line means "active": a pulse on a pulse input, closed contacts on a
/// relay's feedback input, "on" for an indicator output.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub enum ActiveLevel {
    /// Active is a high level (on a pulse input: count rising edges).
    High,
    /// Active is a low level, as with an open-collector output or an LED wired to the supply
    /// (on a pulse input: count falling edges).
    Low,
}

impl ActiveLevel {
    /// Whether `pin` is at the active level now.
    pub(crate) fn is_active<P: InputPin>(self, pin: &mut P) -> Result<bool, P::Error> {
        match self {
            ActiveLevel::High => pin.is_high(),
            ActiveLevel::Low => pin.is_low(),
        }
    }
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
        let active = self.active.is_active(&mut self.pin)?;
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

/// Glue for a pulse line wired to an edge interrupt: the interrupt handler calls
/// [`PulseInterrupt::on_edge`] with the pin and the time of the interrupt.
///
/// Configure the interrupt on the edge into the active level (falling for
/// [`ActiveLevel::Low`]). The handler reads the pin once: if the line is not at the active level
/// any more, the edge was a spike too short to be a pulse (a metering chip's pulses last tens of
/// milliseconds) and is not counted. An edge that is counted goes to
/// [`PulseCounter::on_pulse`], which applies the [`GlitchFilter`]. `PulseInterrupt` holds no
/// state, so it can be a `const` or `static` shared with the handler.
///
/// ```
/// # use core::convert::Infallible;
/// # struct Pin(bool); // a GPIO input of your HAL
/// # impl embedded_hal::digital::ErrorType for Pin { type Error = Infallible; }
/// # impl embedded_hal::digital::InputPin for Pin {
/// #     fn is_high(&mut self) -> Result<bool, Infallible> { Ok(self.0) }
/// #     fn is_low(&mut self) -> Result<bool, Infallible> { Ok(!self.0) }
/// # }
/// # fn now() -> Instant { Instant::from_millis(1_000) } // your monotonic timer
/// use core::cell::RefCell;
/// use critical_section::Mutex;
/// use prepaid_meter::hal::{ActiveLevel, PulseInterrupt};
/// use prepaid_meter::metering::{GlitchFilter, MeterConstant, PulseCounter};
/// use prepaid_meter::time::Instant;
///
/// static PULSES: PulseCounter = PulseCounter::new();
/// // The pin and the glue, handed to the interrupt handler at start-up.
/// static PULSE_PIN: Mutex<RefCell<Option<(Pin, PulseInterrupt)>>> = Mutex::new(RefCell::new(None));
///
/// // The interrupt handler (in firmware: `#[interrupt] fn EXTI0_1()`, after clearing the flag).
/// fn on_pulse_edge() {
///     critical_section::with(|cs| {
///         if let Some((pin, glue)) = PULSE_PIN.borrow_ref_mut(cs).as_mut() {
///             // An `Err` is a pin error: nothing was counted; there is no one to tell in an ISR.
///             let _ = glue.on_edge(pin, now(), &PULSES);
///         }
///     });
/// }
///
/// # fn main() -> Result<(), prepaid_meter::metering::MeteringError> {
/// // Start-up: an open-collector pulse output (active low), interrupt on the falling edge.
/// let filter = GlitchFilter::from_max_power(MeterConstant::new(1600)?, 13_200)?;
/// let glue = PulseInterrupt::new(ActiveLevel::Low, filter);
/// critical_section::with(|cs| PULSE_PIN.borrow_ref_mut(cs).replace((Pin(false), glue)));
/// on_pulse_edge(); // the line is low: a pulse
/// // The main loop drains the counter every 0.5 s.
/// assert_eq!(PULSES.drain().accepted, 1);
/// # Ok(())
/// # }
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub struct PulseInterrupt {
    active: ActiveLevel,
    filter: GlitchFilter,
}

impl PulseInterrupt {
    /// The glue for a line whose pulses are at the `active` level, filtered by `filter`.
    pub const fn new(active: ActiveLevel, filter: GlitchFilter) -> Self {
        PulseInterrupt { active, filter }
    }

    /// Handles one edge interrupt at `now`: reads the pin and, if it is at the active level,
    /// records a pulse in `counter` and returns `true` (the counter may still reject it as a
    /// glitch: see [`PulseCounter::drain`]). Returns `false` for a spurious edge (the line is
    /// not active), and a pin error as it is, in both cases counting nothing. Constant time;
    /// call it from the interrupt handler.
    pub fn on_edge<P: InputPin>(
        &self,
        pin: &mut P,
        now: Instant,
        counter: &PulseCounter,
    ) -> Result<bool, P::Error> {
        let active = self.active.is_active(pin)?;
        if active {
            counter.on_pulse(now, self.filter);
        }
        Ok(active)
    }

    /// The level that marks a pulse.
    pub const fn active(&self) -> ActiveLevel {
        self.active
    }

    /// The glitch filter passed to the counter.
    pub const fn filter(&self) -> GlitchFilter {
        self.filter
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

    #[test]
    fn interrupt_counts_only_edges_that_are_still_active() {
        let f = GlitchFilter::from_min_interval(Duration::from_millis(10)).unwrap();
        let glue = PulseInterrupt::new(ActiveLevel::Low, f);
        let counter = PulseCounter::new();
        // Low: a pulse; high: a spike already gone; low again 5 ms later: the filter rejects it.
        let mut pin = Scripted(&[false, true, false, false], 0);
        assert!(
            glue.on_edge(&mut pin, Instant::from_millis(0), &counter)
                .unwrap()
        );
        assert!(
            !glue
                .on_edge(&mut pin, Instant::from_millis(2), &counter)
                .unwrap()
        );
        assert!(
            glue.on_edge(&mut pin, Instant::from_millis(5), &counter)
                .unwrap()
        );
        assert!(
            glue.on_edge(&mut pin, Instant::from_millis(50), &counter)
                .unwrap()
        );
        let batch = counter.drain();
        assert_eq!((batch.accepted, batch.rejected), (2, 1));
        let high = PulseInterrupt::new(ActiveLevel::High, f);
        let mut pin = Scripted(&[true], 0);
        assert!(
            high.on_edge(&mut pin, Instant::from_millis(0), &counter)
                .unwrap()
        );
        assert_eq!(high.active(), ActiveLevel::High);
        assert_eq!(high.filter(), f);
    }

    #[test]
    fn interrupt_pin_errors_count_nothing() {
        let f = GlitchFilter::from_min_interval(Duration::from_micros(1)).unwrap();
        let counter = PulseCounter::new();
        let glue = PulseInterrupt::new(ActiveLevel::High, f);
        assert!(
            glue.on_edge(&mut Broken, Instant::from_millis(0), &counter)
                .is_err()
        );
        assert_eq!(counter.drain().accepted, 0);
    }
}
