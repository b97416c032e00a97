//! Indicator outputs: the alarm LED and the buzzer, and a blink pattern for the LED.
//!
//! The meter application decides "alarm LED on, buzzer off"; [`AlarmOutputs`] turns those
//! booleans into pin levels, for pins that are active high or active low ([`Indicator`]).
//! [`Blink`] turns a steady "alarm" into an on/off pattern counted in main-loop ticks.

use embedded_hal::digital::OutputPin;

use super::ActiveLevel;

/// One on/off output (an LED, a buzzer, a relay status lamp) on a pin that is active at
/// `active` ([`ActiveLevel::Low`] for an LED wired from the supply to the pin).
#[derive(Debug)]
pub struct Indicator<P> {
    pin: P,
    active: ActiveLevel,
    on: Option<bool>,
}

impl<P: OutputPin> Indicator<P> {
    /// An indicator on `pin`. The pin is not touched until the first [`set`](Self::set).
    pub const fn new(pin: P, active: ActiveLevel) -> Self {
        Indicator {
            pin,
            active,
            on: None,
        }
    }

    /// Turns the output on or off (sets the pin to the active level, or the other one). A pin
    /// error is returned as it is, and [`is_on`](Self::is_on) keeps its previous answer.
    pub fn set(&mut self, on: bool) -> Result<(), P::Error> {
        match (self.active, on) {
            (ActiveLevel::High, true) | (ActiveLevel::Low, false) => self.pin.set_high()?,
            (ActiveLevel::High, false) | (ActiveLevel::Low, true) => self.pin.set_low()?,
        }
        self.on = Some(on);
        Ok(())
    }

    /// What the output was last set to, or `None` before the first successful `set`.
    pub const fn is_on(&self) -> Option<bool> {
        self.on
    }

    /// The pin back.
    pub fn release(self) -> P {
        self.pin
    }
}

/// The alarm LED and the buzzer of a meter, driven together from the application's booleans.
///
/// ```
/// # use core::convert::Infallible;
/// # struct Out(bool); // a GPIO output of your HAL
/// # impl embedded_hal::digital::ErrorType for Out { type Error = Infallible; }
/// # impl embedded_hal::digital::OutputPin for Out {
/// #     fn set_low(&mut self) -> Result<(), Infallible> { self.0 = false; Ok(()) }
/// #     fn set_high(&mut self) -> Result<(), Infallible> { self.0 = true; Ok(()) }
/// # }
/// use prepaid_meter::hal::{ActiveLevel, AlarmOutputs, Blink};
///
/// // The LED sinks into the pin (active low); the buzzer's transistor is active high.
/// let mut alarm = AlarmOutputs::new(Out(true), ActiveLevel::Low, Out(false), ActiveLevel::High);
/// let mut blink = Blink::new(1, 1); // 0.5 s on, 0.5 s off from a 0.5 s tick
/// // Every 0.5 s, from what the account says:
/// let (low_credit, sound) = (true, false);
/// let led = low_credit && blink.tick();
/// alarm.set(led, sound).unwrap();
/// assert_eq!(alarm.led().is_on(), Some(true));
/// ```
#[derive(Debug)]
pub struct AlarmOutputs<L, Z> {
    led: Indicator<L>,
    buzzer: Indicator<Z>,
}

impl<L, Z> AlarmOutputs<L, Z>
where
    L: OutputPin,
    Z: OutputPin<Error = L::Error>,
{
    /// The LED on `led` (active at `led_active`) and the buzzer on `buzzer` (active at
    /// `buzzer_active`). The pins are not touched until the first `set`.
    pub const fn new(
        led: L,
        led_active: ActiveLevel,
        buzzer: Z,
        buzzer_active: ActiveLevel,
    ) -> Self {
        AlarmOutputs {
            led: Indicator::new(led, led_active),
            buzzer: Indicator::new(buzzer, buzzer_active),
        }
    }

    /// Sets the LED and the buzzer. Both are set even if the LED fails; the first error is
    /// returned.
    pub fn set(&mut self, led: bool, buzzer: bool) -> Result<(), L::Error> {
        let l = self.led.set(led);
        let z = self.buzzer.set(buzzer);
        l.and(z)
    }

    /// Both off (the same as `set(false, false)`).
    pub fn off(&mut self) -> Result<(), L::Error> {
        self.set(false, false)
    }

    /// The LED.
    pub fn led(&self) -> &Indicator<L> {
        &self.led
    }

    /// The buzzer.
    pub fn buzzer(&self) -> &Indicator<Z> {
        &self.buzzer
    }

    /// The LED, to set it alone.
    pub fn led_mut(&mut self) -> &mut Indicator<L> {
        &mut self.led
    }

    /// The buzzer, to set it alone.
    pub fn buzzer_mut(&mut self) -> &mut Indicator<Z> {
        &mut self.buzzer
    }

    /// The LED and buzzer pins back.
    pub fn release(self) -> (L, Z) {
        (self.led.release(), self.buzzer.release())
    }
}

/// An on/off pattern counted in ticks: `on` ticks on, then `off` ticks off, repeating, starting
/// with the first tick on. `on == 0` is always off; `off == 0` (with `on > 0`) is always on.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub struct Blink {
    on: u8,
    off: u8,
    phase: u16,
}

impl Blink {
    /// A pattern of `on` ticks on and `off` ticks off.
    pub const fn new(on: u8, off: u8) -> Self {
        Blink { on, off, phase: 0 }
    }

    /// Advances one tick and returns whether the output is on during it.
    pub fn tick(&mut self) -> bool {
        let period = u16::from(self.on) + u16::from(self.off);
        if period == 0 {
            return false;
        }
        let lit = self.phase < u16::from(self.on);
        self.phase = (self.phase + 1) % period;
        lit
    }

    /// Starts the pattern again at its first tick (when the alarm starts).
    pub fn restart(&mut self) {
        self.phase = 0;
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::hal::testing::{Ev::Set as S, Log};
    use std::vec;
    use std::vec::Vec;

    #[test]
    fn active_high_and_active_low() {
        let log = Log::default();
        let mut alarm = AlarmOutputs::new(
            log.pin("led"),
            ActiveLevel::Low,
            log.pin("buzzer"),
            ActiveLevel::High,
        );
        assert_eq!((alarm.led().is_on(), alarm.buzzer().is_on()), (None, None));
        alarm.set(true, true).unwrap();
        alarm.set(true, false).unwrap();
        alarm.off().unwrap();
        alarm.buzzer_mut().set(true).unwrap();
        alarm.led_mut().set(true).unwrap();
        assert_eq!(
            log.take(),
            vec![
                S("led", false),
                S("buzzer", true),
                S("led", false),
                S("buzzer", false),
                S("led", true),
                S("buzzer", false),
                S("buzzer", true),
                S("led", false),
            ]
        );
        assert_eq!(
            (alarm.led().is_on(), alarm.buzzer().is_on()),
            (Some(true), Some(true))
        );
        let (led, buzzer) = alarm.release();
        assert!(!led.level.get() && buzzer.level.get());
    }

    #[test]
    fn a_failing_led_still_sets_the_buzzer() {
        let log = Log::default();
        let mut alarm = AlarmOutputs::new(
            log.pin("led").fail_at(0),
            ActiveLevel::High,
            log.pin("buzzer"),
            ActiveLevel::High,
        );
        assert!(alarm.set(true, true).is_err());
        assert_eq!(log.take(), vec![S("buzzer", true)]);
        assert_eq!(
            (alarm.led().is_on(), alarm.buzzer().is_on()),
            (None, Some(true))
        );
    }

    #[test]
    fn blink_patterns() {
        let run = |mut b: Blink, n: usize| (0..n).map(|_| b.tick()).collect::<Vec<_>>();
        let (t, f) = (true, false);
        assert_eq!(run(Blink::new(1, 1), 5), [t, f, t, f, t]);
        assert_eq!(run(Blink::new(1, 3), 8), [t, f, f, f, t, f, f, f]);
        assert_eq!(run(Blink::new(2, 1), 6), [t, t, f, t, t, f]);
        assert_eq!(run(Blink::new(0, 0), 3), [f, f, f]);
        assert_eq!(run(Blink::new(0, 2), 3), [f, f, f]);
        assert_eq!(run(Blink::new(3, 0), 4), [t, t, t, t]);
        assert_eq!(run(Blink::new(255, 255), 511)[255..257], [f, f]);
        let mut b = Blink::new(1, 2);
        assert!(b.tick());
        assert!(!b.tick());
        b.restart();
        assert!(b.tick());
    }
}
