//! A magnetic latching relay: the load switch of a prepaid meter.
//!
//! A latching relay holds its contacts without power; a pulse on a coil moves them. The
//! [`LatchingRelay`] driver pulses the coils for a configured width, checks an optional
//! feedback contact, retries a bounded number of times and says what happened. It never leaves
//! a coil energised when it returns, on success or on any error.

use core::fmt;

use embedded_hal::delay::DelayNs;
use embedded_hal::digital::{ErrorType, InputPin, OutputPin};

use super::ActiveLevel;
use crate::account::Contacts;
use crate::time::Duration;

/// How the relay's coils are wired to two output pins. A high pin energises its side; both low
/// is idle (no coil current).
#[derive(Debug)]
pub enum Coils<A, B> {
    /// Two coils (or one centre-tapped coil) on two drivers: a pulse on `open` opens the
    /// contacts, a pulse on `close` closes them.
    Dual {
        /// Drives the coil that opens the contacts.
        open: A,
        /// Drives the coil that closes the contacts.
        close: B,
    },
    /// One coil on an H-bridge with two inputs driven in opposite polarity: `in1` high and
    /// `in2` low closes the contacts, `in1` low and `in2` high opens them (swap the pins to
    /// swap the polarity). Both low is idle; both high is never driven.
    HBridge {
        /// Bridge input 1: high to close.
        in1: A,
        /// Bridge input 2: high to open.
        in2: B,
    },
}

/// Why a [`RelayConfig`] was refused.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub enum RelayConfigError {
    /// The coil pulse width is outside [`RelayConfig::MIN_PULSE`]..=[`RelayConfig::MAX_PULSE`].
    PulseWidth,
    /// The number of attempts is outside 1..=[`RelayConfig::MAX_ATTEMPTS`].
    Attempts,
    /// The settling time is longer than [`RelayConfig::MAX_SETTLE`].
    Settle,
}

impl fmt::Display for RelayConfigError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            RelayConfigError::PulseWidth => "relay coil pulse width out of range (1 ms to 1 s)",
            RelayConfigError::Attempts => "relay drive attempts out of range (1 to 10)",
            RelayConfigError::Settle => "relay settling time out of range (at most 1 s)",
        })
    }
}

impl core::error::Error for RelayConfigError {}

/// The validated timing of a [`LatchingRelay`]: coil pulse width, attempts, settling time.
///
/// A value of this type is always in range, so driving the relay cannot fail for a reason of
/// configuration.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub struct RelayConfig {
    pulse_us: u32,
    attempts: u8,
    settle_us: u32,
}

impl Default for RelayConfig {
    fn default() -> Self {
        Self::DEFAULT
    }
}

impl RelayConfig {
    /// The shortest coil pulse accepted: 1 ms.
    pub const MIN_PULSE: Duration = Duration::from_millis(1);
    /// The longest coil pulse accepted: 1 s. Latching relays need tens of milliseconds; a
    /// longer pulse only heats the coil.
    pub const MAX_PULSE: Duration = Duration::from_secs(1);
    /// The most attempts accepted.
    pub const MAX_ATTEMPTS: u8 = 10;
    /// The longest settling time accepted: 1 s.
    pub const MAX_SETTLE: Duration = Duration::from_secs(1);
    /// 100 ms pulses, up to 3 attempts, 20 ms settling before the feedback is read.
    pub const DEFAULT: RelayConfig = RelayConfig {
        pulse_us: 100_000,
        attempts: 3,
        settle_us: 20_000,
    };

    /// Coil pulses of `pulse`, and at most `attempts` pulses per drive when the relay has
    /// feedback (a relay without feedback is pulsed once); settling time as in
    /// [`RelayConfig::DEFAULT`]. Refuses a pulse outside
    /// [`MIN_PULSE`](Self::MIN_PULSE)..=[`MAX_PULSE`](Self::MAX_PULSE) and attempts outside
    /// 1..=[`MAX_ATTEMPTS`](Self::MAX_ATTEMPTS).
    pub const fn new(pulse: Duration, attempts: u8) -> Result<RelayConfig, RelayConfigError> {
        let us = pulse.micros();
        if us < Self::MIN_PULSE.micros() || us > Self::MAX_PULSE.micros() {
            return Err(RelayConfigError::PulseWidth);
        }
        if attempts == 0 || attempts > Self::MAX_ATTEMPTS {
            return Err(RelayConfigError::Attempts);
        }
        Ok(RelayConfig {
            pulse_us: us as u32,
            attempts,
            settle_us: Self::DEFAULT.settle_us,
        })
    }

    /// The same, with `settle` waited after each pulse before the feedback is read (at most
    /// [`MAX_SETTLE`](Self::MAX_SETTLE); zero reads at once).
    pub const fn with_settle(self, settle: Duration) -> Result<RelayConfig, RelayConfigError> {
        let us = settle.micros();
        if us > Self::MAX_SETTLE.micros() {
            return Err(RelayConfigError::Settle);
        }
        Ok(RelayConfig {
            settle_us: us as u32,
            ..self
        })
    }

    /// The coil pulse width.
    pub const fn pulse(&self) -> Duration {
        Duration::from_micros(self.pulse_us as u64)
    }

    /// The most pulses per drive (with feedback).
    pub const fn attempts(&self) -> u8 {
        self.attempts
    }

    /// The settling time before the feedback is read.
    pub const fn settle(&self) -> Duration {
        Duration::from_micros(self.settle_us as u64)
    }
}

/// A relay drive that succeeded: the coils are idle again.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub struct Driven {
    /// Coil pulses given (1 without feedback).
    pub attempts: u8,
    /// `true` if the feedback input confirmed the contacts; `false` for a relay without
    /// feedback, which was pulsed once and is assumed to have moved.
    pub verified: bool,
}

/// Why a relay drive failed. The coils are idle (both pins low) whenever this is returned, as
/// far as the pins allow: after a coil pin error both pins are set low again, each even if the
/// other fails.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub enum RelayFault<E, FE> {
    /// The feedback still showed the other position after `attempts` pulses: the contacts are
    /// stuck, or welded (a relay asked to open that stays closed).
    DidNotMove {
        /// The position asked for.
        wanted: Contacts,
        /// Pulses given.
        attempts: u8,
    },
    /// A coil pin failed.
    Coil(E),
    /// The feedback pin failed (after a complete pulse).
    Feedback(FE),
}

impl<E: fmt::Debug, FE: fmt::Debug> fmt::Display for RelayFault<E, FE> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            RelayFault::DidNotMove { wanted, attempts } => write!(
                f,
                "relay did not move to {wanted:?} after {attempts} pulses (stuck or welded)"
            ),
            RelayFault::Coil(e) => write!(f, "relay coil pin failed: {e:?}"),
            RelayFault::Feedback(e) => write!(f, "relay feedback pin failed: {e:?}"),
        }
    }
}

impl<E: fmt::Debug, FE: fmt::Debug> core::error::Error for RelayFault<E, FE> {}

/// The feedback input of a relay that has none (the default of [`LatchingRelay`]). It is never
/// read.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct NoFeedback;

impl ErrorType for NoFeedback {
    type Error = core::convert::Infallible;
}

impl InputPin for NoFeedback {
    fn is_high(&mut self) -> Result<bool, Self::Error> {
        Ok(false)
    }
    fn is_low(&mut self) -> Result<bool, Self::Error> {
        Ok(true)
    }
}

/// A magnetic latching relay driven through two output pins ([`Coils`]) and a delay, with an
/// optional feedback input.
///
/// [`drive`](Self::drive) takes the position the account decided ([`Contacts`]) and:
/// - sets the idle pin low, the driving pin high, waits the pulse width, sets both low;
/// - without feedback, stops there: `Ok(Driven { attempts: 1, verified: false })`;
/// - with feedback, waits the settling time, reads the contacts, and pulses again until they
///   are in position or the attempts are used up: `Ok(Driven { attempts, verified: true })` or
///   [`RelayFault::DidNotMove`].
///
/// The relay is always pulsed, even if the feedback already shows the wanted position (a
/// latching relay may be pulsed into the position it holds; this re-asserts it).
///
/// ```
/// # use core::convert::Infallible;
/// # #[derive(Default)] struct Out(bool); // a GPIO output of your HAL
/// # impl embedded_hal::digital::ErrorType for Out { type Error = Infallible; }
/// # impl embedded_hal::digital::OutputPin for Out {
/// #     fn set_low(&mut self) -> Result<(), Infallible> { self.0 = false; Ok(()) }
/// #     fn set_high(&mut self) -> Result<(), Infallible> { self.0 = true; Ok(()) }
/// # }
/// # struct In(bool); // the relay's auxiliary contact
/// # impl embedded_hal::digital::ErrorType for In { type Error = Infallible; }
/// # impl embedded_hal::digital::InputPin for In {
/// #     fn is_high(&mut self) -> Result<bool, Infallible> { Ok(self.0) }
/// #     fn is_low(&mut self) -> Result<bool, Infallible> { Ok(!self.0) }
/// # }
/// # struct Delay; // your HAL's timer
/// # impl embedded_hal::delay::DelayNs for Delay { fn delay_ns(&mut self, _: u32) {} }
/// use prepaid_meter::account::Contacts;
/// use prepaid_meter::hal::{ActiveLevel, Coils, Driven, LatchingRelay, RelayConfig, RelayFault};
/// use prepaid_meter::time::Duration;
///
/// # fn main() -> Result<(), Box<dyn std::error::Error>> {
/// let config = RelayConfig::new(Duration::from_millis(80), 3)?;
/// let coils = Coils::HBridge { in1: Out::default(), in2: Out::default() };
/// // The auxiliary contact pulls the input low when the main contacts are closed.
/// let mut relay = LatchingRelay::new(coils, Delay, config).with_feedback(In(true), ActiveLevel::Low);
/// // A relay whose feedback never changes: stuck (or welded), reported after 3 pulses.
/// assert_eq!(
///     relay.drive(Contacts::Closed),
///     Err(RelayFault::DidNotMove { wanted: Contacts::Closed, attempts: 3 })
/// );
/// // Without feedback: one pulse, not verified.
/// let coils = Coils::Dual { open: Out::default(), close: Out::default() };
/// let mut relay = LatchingRelay::new(coils, Delay, RelayConfig::DEFAULT);
/// assert_eq!(relay.drive(Contacts::Open)?, Driven { attempts: 1, verified: false });
/// # Ok(())
/// # }
/// ```
#[derive(Debug)]
pub struct LatchingRelay<A, B, D, F = NoFeedback> {
    coils: Coils<A, B>,
    delay: D,
    feedback: Option<(F, ActiveLevel)>,
    config: RelayConfig,
}

impl<A, B, D> LatchingRelay<A, B, D, NoFeedback>
where
    A: OutputPin,
    B: OutputPin<Error = A::Error>,
    D: DelayNs,
{
    /// A relay on `coils`, timed by `delay`, without feedback. The pins are not touched until
    /// the first [`drive`](Self::drive) or [`release`](Self::release); call `release` at
    /// start-up if the pins may not be low.
    pub fn new(coils: Coils<A, B>, delay: D, config: RelayConfig) -> Self {
        LatchingRelay {
            coils,
            delay,
            feedback: None,
            config,
        }
    }

    /// The same relay with a feedback input: `pin` is at `closed_level` when the contacts are
    /// closed.
    pub fn with_feedback<G: InputPin>(
        self,
        pin: G,
        closed_level: ActiveLevel,
    ) -> LatchingRelay<A, B, D, G> {
        LatchingRelay {
            coils: self.coils,
            delay: self.delay,
            feedback: Some((pin, closed_level)),
            config: self.config,
        }
    }
}

impl<A, B, D, F> LatchingRelay<A, B, D, F>
where
    A: OutputPin,
    B: OutputPin<Error = A::Error>,
    D: DelayNs,
    F: InputPin,
{
    /// Moves the contacts to `wanted` (see the type's docs for the sequence and the result).
    /// On every return, `Ok` or `Err`, both coil pins have been set low.
    pub fn drive(&mut self, wanted: Contacts) -> Result<Driven, RelayFault<A::Error, F::Error>> {
        let mut attempts = 0;
        while attempts < self.config.attempts {
            attempts += 1;
            if let Err(e) = self.pulse(wanted) {
                self.idle();
                return Err(RelayFault::Coil(e));
            }
            if self.feedback.is_none() {
                return Ok(Driven {
                    attempts,
                    verified: false,
                });
            }
            if self.config.settle_us > 0 {
                self.delay.delay_us(self.config.settle_us);
            }
            if self.contacts().map_err(RelayFault::Feedback)? == Some(wanted) {
                return Ok(Driven {
                    attempts,
                    verified: true,
                });
            }
        }
        Err(RelayFault::DidNotMove { wanted, attempts })
    }

    /// The contacts as the feedback input shows them, or `None` for a relay without feedback.
    pub fn contacts(&mut self) -> Result<Option<Contacts>, F::Error> {
        match &mut self.feedback {
            None => Ok(None),
            Some((pin, closed)) => Ok(Some(if closed.is_active(pin)? {
                Contacts::Closed
            } else {
                Contacts::Open
            })),
        }
    }

    /// Sets both coil pins low (idle). Both are set even if the first fails; the first error
    /// is returned.
    pub fn release(&mut self) -> Result<(), A::Error> {
        let (a, b) = self.pins();
        let ra = a.set_low();
        let rb = b.set_low();
        ra.and(rb)
    }

    /// The validated timing.
    pub const fn config(&self) -> RelayConfig {
        self.config
    }

    /// The coils, the delay and the feedback pin back.
    pub fn into_parts(self) -> (Coils<A, B>, D, Option<F>) {
        (self.coils, self.delay, self.feedback.map(|(pin, _)| pin))
    }

    fn pins(&mut self) -> (&mut A, &mut B) {
        match &mut self.coils {
            Coils::Dual { open, close } => (open, close),
            Coils::HBridge { in1, in2 } => (in1, in2),
        }
    }

    /// One pulse: the idle side low, the driving side high, the pulse width, both low.
    fn pulse(&mut self, wanted: Contacts) -> Result<(), A::Error> {
        // The first pin opens a dual-coil relay but closes an H-bridge one (`in1` high).
        let first_drives = matches!(
            (&self.coils, wanted),
            (Coils::Dual { .. }, Contacts::Open) | (Coils::HBridge { .. }, Contacts::Closed)
        );
        let (a, b) = self.pins();
        if first_drives {
            b.set_low()?;
            a.set_high()?;
        } else {
            a.set_low()?;
            b.set_high()?;
        }
        self.delay.delay_us(self.config.pulse_us);
        self.release()
    }

    /// Best effort after an error: both coils off, errors ignored (the first one is reported).
    fn idle(&mut self) {
        let _ = self.release();
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::hal::testing::{Ev, Log, Pin};
    use Ev::{Delay as D, Read as R, Set as S};
    use std::vec;
    use std::vec::Vec;

    const MS: u64 = 1_000_000;

    fn config(pulse_ms: u64, attempts: u8, settle_ms: u64) -> RelayConfig {
        RelayConfig::new(Duration::from_millis(pulse_ms), attempts)
            .unwrap()
            .with_settle(Duration::from_millis(settle_ms))
            .unwrap()
    }

    #[test]
    fn config_is_validated() {
        assert_eq!(RelayConfig::default(), RelayConfig::DEFAULT);
        assert_eq!(RelayConfig::DEFAULT.pulse(), Duration::from_millis(100));
        assert_eq!(RelayConfig::DEFAULT.attempts(), 3);
        assert_eq!(RelayConfig::DEFAULT.settle(), Duration::from_millis(20));
        for bad in [
            Duration::ZERO,
            Duration::from_micros(999),
            Duration::from_micros(1_000_001),
            Duration::from_secs(3_600),
            Duration::from_micros(u64::MAX),
        ] {
            assert_eq!(
                RelayConfig::new(bad, 3),
                Err(RelayConfigError::PulseWidth),
                "{bad:?}"
            );
        }
        assert!(RelayConfig::new(RelayConfig::MIN_PULSE, 1).is_ok());
        assert!(RelayConfig::new(RelayConfig::MAX_PULSE, 10).is_ok());
        assert_eq!(
            RelayConfig::new(Duration::from_millis(100), 0),
            Err(RelayConfigError::Attempts)
        );
        assert_eq!(
            RelayConfig::new(Duration::from_millis(100), 11),
            Err(RelayConfigError::Attempts)
        );
        assert_eq!(
            RelayConfig::DEFAULT.with_settle(Duration::from_micros(1_000_001)),
            Err(RelayConfigError::Settle)
        );
        assert_eq!(
            RelayConfig::DEFAULT
                .with_settle(Duration::ZERO)
                .unwrap()
                .settle(),
            Duration::ZERO
        );
        assert!(!RelayConfigError::Settle.to_string().is_empty());
    }

    fn dual(log: &Log) -> (Coils<Pin, Pin>, Pin, Pin) {
        let (open, close) = (log.pin("open"), log.pin("close"));
        (
            Coils::Dual {
                open: open.clone(),
                close: close.clone(),
            },
            open,
            close,
        )
    }

    fn hbridge(log: &Log) -> (Coils<Pin, Pin>, Pin, Pin) {
        let (in1, in2) = (log.pin("in1"), log.pin("in2"));
        (
            Coils::HBridge {
                in1: in1.clone(),
                in2: in2.clone(),
            },
            in1,
            in2,
        )
    }

    #[test]
    fn dual_coils_pulse_the_coil_for_the_position_for_the_configured_width() {
        let log = Log::default();
        let (coils, _, _) = dual(&log);
        let mut relay = LatchingRelay::new(coils, log.delay(), config(80, 3, 20));
        assert_eq!(
            relay.drive(Contacts::Closed),
            Ok(Driven {
                attempts: 1,
                verified: false
            })
        );
        assert_eq!(
            log.take(),
            vec![
                S("open", false),
                S("close", true),
                D(80 * MS),
                S("open", false),
                S("close", false)
            ]
        );
        assert_eq!(relay.drive(Contacts::Open).unwrap().attempts, 1);
        assert_eq!(
            log.take(),
            vec![
                S("close", false),
                S("open", true),
                D(80 * MS),
                S("open", false),
                S("close", false)
            ]
        );
        assert_eq!(relay.contacts(), Ok(None));
    }

    #[test]
    fn h_bridge_polarity() {
        let log = Log::default();
        let (coils, in1, in2) = hbridge(&log);
        let mut relay = LatchingRelay::new(coils, log.delay(), RelayConfig::DEFAULT);
        relay.drive(Contacts::Closed).unwrap();
        // Closing: in1 high, in2 low, for the default 100 ms.
        assert_eq!(
            log.take(),
            vec![
                S("in2", false),
                S("in1", true),
                D(100 * MS),
                S("in1", false),
                S("in2", false)
            ]
        );
        relay.drive(Contacts::Open).unwrap();
        assert_eq!(
            log.take(),
            vec![
                S("in1", false),
                S("in2", true),
                D(100 * MS),
                S("in1", false),
                S("in2", false)
            ]
        );
        assert!(!in1.level.get() && !in2.level.get());
        assert!(relay.release().is_ok());
        let (coils, _, feedback) = relay.into_parts();
        assert!(matches!(coils, Coils::HBridge { .. }) && feedback.is_none());
    }

    /// A dual-coil relay with 50 ms pulses, 10 ms settling and an active-low feedback that
    /// reads the scripted levels in turn.
    fn with_feedback(
        log: &Log,
        script: &[bool],
        attempts: u8,
    ) -> LatchingRelay<Pin, Pin, crate::hal::testing::Delay, Pin> {
        let (coils, _, _) = dual(log);
        let fb = log.pin("fb").script(script);
        LatchingRelay::new(coils, log.delay(), config(50, attempts, 10))
            .with_feedback(fb, ActiveLevel::Low)
    }

    fn pulse(pin: &'static str, other: &'static str) -> Vec<Ev> {
        vec![
            S(other, false),
            S(pin, true),
            D(50 * MS),
            S("open", false),
            S("close", false),
            D(10 * MS),
            R("fb"),
        ]
    }

    #[test]
    fn feedback_verifies_the_first_pulse() {
        let log = Log::default();
        // Active low: a low feedback means closed.
        let mut relay = with_feedback(&log, &[false], 3);
        assert_eq!(
            relay.drive(Contacts::Closed),
            Ok(Driven {
                attempts: 1,
                verified: true
            })
        );
        assert_eq!(log.take(), pulse("close", "open"));
        assert_eq!(relay.contacts(), Ok(Some(Contacts::Closed)));
    }

    #[test]
    fn feedback_retries_until_the_contacts_move() {
        let log = Log::default();
        // Still closed (low) after the first pulse, open (high) after the second.
        let mut relay = with_feedback(&log, &[false, true], 3);
        assert_eq!(
            relay.drive(Contacts::Open),
            Ok(Driven {
                attempts: 2,
                verified: true
            })
        );
        let mut expected = pulse("open", "close");
        expected.extend(pulse("open", "close"));
        assert_eq!(log.take(), expected);
    }

    #[test]
    fn welded_contacts_are_reported_after_the_configured_attempts() {
        for attempts in [1, 3, 5] {
            let log = Log::default();
            // Asked to open, the contacts stay closed (low): welded.
            let mut relay = with_feedback(&log, &[false], attempts);
            assert_eq!(
                relay.drive(Contacts::Open),
                Err(RelayFault::DidNotMove {
                    wanted: Contacts::Open,
                    attempts
                })
            );
            let events = log.take();
            let pulses = events.iter().filter(|e| **e == S("open", true)).count();
            assert_eq!(pulses, usize::from(attempts));
            // Both coils were off at the end.
            assert_eq!(
                events[events.len() - 4..events.len() - 2],
                [S("open", false), S("close", false)]
            );
        }
        let e: RelayFault<(), ()> = RelayFault::DidNotMove {
            wanted: Contacts::Open,
            attempts: 3,
        };
        assert!(e.to_string().contains("welded"));
    }

    #[test]
    fn both_coils_are_off_after_every_pin_error() {
        // Closing a dual-coil relay: `open` low (open call 0), `close` high (close call 0),
        // the pulse, then `open` low (open call 1) and `close` low (close call 1). Fail each.
        for (fail_open, fail_close) in [
            (Some(0), None), // the idle side cannot be set low
            (None, Some(0)), // the close coil cannot be energised
            (Some(1), None), // the release of the idle side fails
            (None, Some(1)), // the energised coil fails to go low: the clean-up sets it low
        ] {
            let log = Log::default();
            let open = log.pin("open");
            let close = log.pin("close");
            if let Some(n) = fail_open {
                open.fail_at.set(Some(n));
            }
            if let Some(n) = fail_close {
                close.fail_at.set(Some(n));
            }
            let coils = Coils::Dual {
                open: open.clone(),
                close: close.clone(),
            };
            let mut relay = LatchingRelay::new(coils, log.delay(), RelayConfig::DEFAULT)
                .with_feedback(log.pin("fb"), ActiveLevel::High);
            let r = relay.drive(Contacts::Closed);
            assert!(
                matches!(r, Err(RelayFault::Coil(_))),
                "{fail_open:?} {fail_close:?}: {r:?}"
            );
            assert!(
                !open.level.get() && !close.level.get(),
                "{fail_open:?} {fail_close:?}: {:?}",
                log.take()
            );
            let events = log.take();
            assert_eq!(
                events[events.len() - 2..],
                [S("open", false), S("close", false)],
                "{fail_open:?} {fail_close:?}"
            );
            assert!(!events.contains(&R("fb")));
        }
    }

    #[test]
    fn a_feedback_error_leaves_the_coils_off() {
        let log = Log::default();
        let (coils, open, close) = dual(&log);
        let mut relay = LatchingRelay::new(coils, log.delay(), RelayConfig::DEFAULT)
            .with_feedback(log.pin("fb").fail_at(0), ActiveLevel::High);
        assert!(matches!(
            relay.drive(Contacts::Closed),
            Err(RelayFault::Feedback(_))
        ));
        assert!(!open.level.get() && !close.level.get());
        assert!(relay.contacts().is_ok());
    }
}
