//! embedded-hal 1.0 drivers for the hardware around the core (feature `hal`): the pulse input,
//! the latching relay, the alarm LED and buzzer, and (with feature `io` too) the RS485 line.
//!
//! The core decides, these drivers act: a [`PulseCounter`](crate::metering::PulseCounter)
//! is fed from [`PulseInput`] (polled) or [`PulseInterrupt`] (from an edge interrupt); the
//! account's [`Contacts`](crate::account::Contacts) go to [`LatchingRelay::drive`]; the
//! application's alarm booleans go to [`AlarmOutputs::set`]; frames go out through [`Rs485`].
//! All of them use only the embedded-hal 1.0 blocking traits (`InputPin`, `OutputPin`,
//! `DelayNs`), so they work with any HAL, and none of them panics.
//!
//! | driver | pins | what it guarantees |
//! |---|---|---|
//! | [`PulseInput`] | one `InputPin`, polled | one pulse per transition into the active level |
//! | [`PulseInterrupt`] | one `InputPin`, read in the ISR | an edge counts only if the line is still active |
//! | [`LatchingRelay`] | two `OutputPin`s ([`Coils`]), a `DelayNs`, an optional feedback `InputPin` | coils idle on every return; stuck or welded contacts reported after bounded retries |
//! | [`AlarmOutputs`], [`Indicator`] | `OutputPin`s, active high or low | the pin follows the boolean |
//! | [`Rs485`] (with `io`) | a UART (`embedded_io::Write`), a DE `OutputPin`, a `DelayNs` | DE high before the first byte, low after the last has left, also on errors |
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

mod indicator;
mod pulse;
mod relay;
#[cfg(feature = "io")]
mod rs485;
#[cfg(test)]
mod testing;

pub use indicator::{AlarmOutputs, Blink, Indicator};
pub use pulse::{ActiveLevel, PulseInput, PulseInterrupt};
pub use relay::{
    Coils, Driven, LatchingRelay, NoFeedback, RelayConfig, RelayConfigError, RelayFault,
};
#[cfg(feature = "io")]
#[cfg_attr(docsrs, doc(cfg(feature = "io")))]
pub use rs485::{Rs485, Rs485Error, Rs485Timing};
