//! An RS485 half-duplex transceiver: a UART plus a direction pin (features `hal` and `io`).
//!
//! A meter shares its RS485 pair with every other meter on the bus, so its transmitter may
//! only be enabled while it answers. [`Rs485`] wraps the UART's [`embedded_io::Write`] and the
//! transceiver's DE/RE pin (tied together: high transmits, low receives), and is itself an
//! [`embedded_io::Write`], so an [`io::FrameWriter`](crate::io::FrameWriter) writes through it.
//!
//! ```
//! # use core::convert::Infallible;
//! # struct Out(bool); // a GPIO output of your HAL
//! # impl embedded_hal::digital::ErrorType for Out { type Error = Infallible; }
//! # impl embedded_hal::digital::OutputPin for Out {
//! #     fn set_low(&mut self) -> Result<(), Infallible> { self.0 = false; Ok(()) }
//! #     fn set_high(&mut self) -> Result<(), Infallible> { self.0 = true; Ok(()) }
//! # }
//! # struct Delay; // your HAL's timer
//! # impl embedded_hal::delay::DelayNs for Delay { fn delay_ns(&mut self, _: u32) {} }
//! use core::num::NonZeroU32;
//! use prepaid_meter::address::Address;
//! use prepaid_meter::hal::{Rs485, Rs485Timing};
//! use prepaid_meter::io::FrameWriter;
//! use prepaid_meter::wire::dlt645::Response;
//!
//! # fn main() -> Result<(), Box<dyn std::error::Error>> {
//! # let mut buf = [0u8; 64]; let uart = &mut buf[..]; // your HAL's UART
//! // 2400 baud 8E1: the tail is one 11-bit character, 4.59 ms.
//! let timing = Rs485Timing::from_baud(NonZeroU32::new(2400).ok_or("baud")?);
//! assert_eq!(timing.tail_us, 4_584);
//! let line = Rs485::new(uart, Out(false), Delay, timing);
//! let mut writer = FrameWriter::new(line);
//! let address: Address = "201000000012".parse()?;
//! writer.send_response(address, &Response::ReadAddress { address }, 4)?;
//! // DE is released once the frame is flushed and has left the shift register.
//! assert!(!writer.get_mut().is_transmitting());
//! # Ok(())
//! # }
//! ```

use core::fmt;
use core::num::NonZeroU32;

use embedded_hal::delay::DelayNs;
use embedded_hal::digital::OutputPin;
use embedded_io::{ErrorKind, Write};

/// The direction-switch timing of an [`Rs485`] line, in microseconds.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub struct Rs485Timing {
    /// Wait between asserting DE and the first byte (the transceiver's enable time, and the
    /// time the bus needs to settle into the driven idle state).
    pub turnaround_us: u32,
    /// Wait between the UART's flush and releasing DE: the time the last byte needs to leave
    /// the shift register, for a UART whose flush returns once the data register is empty.
    /// Zero for a UART whose flush waits for transmission complete.
    pub tail_us: u32,
}

impl Rs485Timing {
    /// Bits per character on a DL/T 645 line: 8E1 is a start bit, 8 data bits, a parity bit
    /// and a stop bit.
    pub const BITS_PER_CHAR_8E1: u32 = 11;

    /// The timing for `baud` 8E1: a turnaround of one bit time and a tail of one character
    /// time ([`BITS_PER_CHAR_8E1`](Self::BITS_PER_CHAR_8E1) bit times), both rounded up.
    pub const fn from_baud(baud: NonZeroU32) -> Self {
        Rs485Timing {
            turnaround_us: 1_000_000u32.div_ceil(baud.get()),
            tail_us: (Self::BITS_PER_CHAR_8E1 * 1_000_000).div_ceil(baud.get()),
        }
    }
}

/// Why an [`Rs485`] write failed. DE has been released (set low, as far as the pin allows)
/// whenever this is returned.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub enum Rs485Error<PE, IE> {
    /// The direction pin failed.
    Pin(PE),
    /// The UART failed.
    Io(IE),
}

impl<PE: fmt::Debug, IE: fmt::Debug> fmt::Display for Rs485Error<PE, IE> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Rs485Error::Pin(e) => write!(f, "RS485 direction pin failed: {e:?}"),
            Rs485Error::Io(e) => write!(f, "RS485 UART failed: {e:?}"),
        }
    }
}

impl<PE: fmt::Debug, IE: fmt::Debug> core::error::Error for Rs485Error<PE, IE> {}

impl<PE: fmt::Debug, IE: embedded_io::Error> embedded_io::Error for Rs485Error<PE, IE> {
    /// The UART's kind for a UART error; [`ErrorKind::Other`] for a pin error.
    fn kind(&self) -> ErrorKind {
        match self {
            Rs485Error::Pin(_) => ErrorKind::Other,
            Rs485Error::Io(e) => e.kind(),
        }
    }
}

/// A half-duplex RS485 transmitter: the UART `W`, the direction pin `DE` (DE and /RE tied:
/// high transmits) and a delay `D` for the turnaround and tail.
///
/// As an [`embedded_io::Write`], a transmission is one or more `write`s ended by a `flush`:
/// the first `write` asserts DE and waits the turnaround; `flush` flushes the UART, waits the
/// tail and releases DE. If a `write` or the `flush` fails, DE is released (after the tail)
/// before the error is returned. [`send`](Self::send) does one whole transmission. A `write`
/// of no bytes does nothing. Dropping the line in the middle of a transmission (after a
/// `write`, before the `flush`) leaves DE asserted.
#[derive(Debug)]
pub struct Rs485<W, DE, D> {
    uart: W,
    de: DE,
    delay: D,
    timing: Rs485Timing,
    transmitting: bool,
}

impl<W, DE, D> Rs485<W, DE, D>
where
    W: Write,
    DE: OutputPin,
    D: DelayNs,
{
    /// A line on `uart` with direction pin `de`. The pin is not touched until the first
    /// write; set it low at start-up (or call [`release`](Self::release)) so the meter listens.
    pub const fn new(uart: W, de: DE, delay: D, timing: Rs485Timing) -> Self {
        Rs485 {
            uart,
            de,
            delay,
            timing,
            transmitting: false,
        }
    }

    /// Transmits `bytes` in one go: DE high, turnaround, all bytes, flush, tail, DE low.
    pub fn send(&mut self, bytes: &[u8]) -> Result<(), Rs485Error<DE::Error, W::Error>> {
        self.write_all(bytes)?;
        self.flush()
    }

    /// Whether DE is asserted (a transmission was started and not yet flushed).
    pub const fn is_transmitting(&self) -> bool {
        self.transmitting
    }

    /// Sets DE low (receive), ending any transmission without waiting for the tail.
    pub fn release(&mut self) -> Result<(), DE::Error> {
        self.de.set_low()?;
        self.transmitting = false;
        Ok(())
    }

    /// The timing.
    pub const fn timing(&self) -> Rs485Timing {
        self.timing
    }

    /// The UART, for reading (the receive side is not wrapped).
    pub fn uart_mut(&mut self) -> &mut W {
        &mut self.uart
    }

    /// The UART, the pin and the delay back.
    pub fn into_parts(self) -> (W, DE, D) {
        (self.uart, self.de, self.delay)
    }

    /// Waits the tail and releases DE; for the error paths (a pin error here is dropped: the
    /// UART's error is the one reported).
    fn abort(&mut self) {
        self.delay.delay_us(self.timing.tail_us);
        let _ = self.release();
    }
}

impl<W, DE, D> embedded_io::ErrorType for Rs485<W, DE, D>
where
    W: Write,
    DE: OutputPin,
{
    type Error = Rs485Error<DE::Error, W::Error>;
}

impl<W, DE, D> Write for Rs485<W, DE, D>
where
    W: Write,
    DE: OutputPin,
    D: DelayNs,
{
    /// Asserts DE and waits the turnaround if this starts a transmission, then writes to the
    /// UART. On a UART error DE is released.
    fn write(&mut self, buf: &[u8]) -> Result<usize, Self::Error> {
        if buf.is_empty() {
            return Ok(0);
        }
        if !self.transmitting {
            if let Err(e) = self.de.set_high() {
                let _ = self.de.set_low();
                return Err(Rs485Error::Pin(e));
            }
            self.transmitting = true;
            self.delay.delay_us(self.timing.turnaround_us);
        }
        match self.uart.write(buf) {
            Ok(n) => Ok(n),
            Err(e) => {
                self.abort();
                Err(Rs485Error::Io(e))
            }
        }
    }

    /// Flushes the UART, waits the tail and releases DE (if a transmission was started).
    fn flush(&mut self) -> Result<(), Self::Error> {
        let flushed = self.uart.flush();
        if !self.transmitting {
            return flushed.map_err(Rs485Error::Io);
        }
        self.delay.delay_us(self.timing.tail_us);
        let released = self.release();
        flushed.map_err(Rs485Error::Io)?;
        released.map_err(Rs485Error::Pin)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::address::Address;
    use crate::hal::testing::{Ev, Log, Pin};
    use crate::io::FrameWriter;
    use crate::wire::dlt645::Request;
    use Ev::{Delay as D, Flush, Set as S, Write as W};
    use std::vec;
    use std::vec::Vec;

    /// A UART that records writes (taking at most 8 bytes a call) and can fail.
    struct Uart {
        log: Log,
        fail_write: Option<usize>,
        fail_flush: bool,
        writes: usize,
    }

    impl Uart {
        fn new(log: &Log) -> Self {
            Uart {
                log: log.clone(),
                fail_write: None,
                fail_flush: false,
                writes: 0,
            }
        }
    }

    impl embedded_io::ErrorType for Uart {
        type Error = ErrorKind;
    }

    impl Write for Uart {
        fn write(&mut self, buf: &[u8]) -> Result<usize, ErrorKind> {
            self.writes += 1;
            if self.fail_write == Some(self.writes - 1) {
                return Err(ErrorKind::BrokenPipe);
            }
            let n = buf.len().min(8);
            self.log.push(W(buf[..n].to_vec()));
            Ok(n)
        }
        fn flush(&mut self) -> Result<(), ErrorKind> {
            self.log.push(Flush);
            if self.fail_flush {
                Err(ErrorKind::TimedOut)
            } else {
                Ok(())
            }
        }
    }

    const TIMING: Rs485Timing = Rs485Timing {
        turnaround_us: 50,
        tail_us: 4_584,
    };

    fn line(log: &Log, uart: Uart) -> (Rs485<Uart, Pin, crate::hal::testing::Delay>, Pin) {
        let de = log.pin("de");
        (Rs485::new(uart, de.clone(), log.delay(), TIMING), de)
    }

    #[test]
    fn timing_from_baud() {
        let t = |b| Rs485Timing::from_baud(NonZeroU32::new(b).unwrap());
        assert_eq!(
            t(2400),
            Rs485Timing {
                turnaround_us: 417,
                tail_us: 4_584
            }
        );
        assert_eq!(t(9600).tail_us, 1_146);
        assert_eq!(t(1).tail_us, 11_000_000);
        assert_eq!(
            t(u32::MAX),
            Rs485Timing {
                turnaround_us: 1,
                tail_us: 1
            }
        );
    }

    #[test]
    fn de_is_high_before_the_first_byte_and_low_after_flush_and_tail() {
        let log = Log::default();
        let (mut rs, de) = line(&log, Uart::new(&log));
        let bytes: Vec<u8> = (0..20).collect();
        rs.send(&bytes).unwrap();
        assert_eq!(
            log.take(),
            vec![
                S("de", true),
                D(50_000),
                W(bytes[..8].to_vec()),
                W(bytes[8..16].to_vec()),
                W(bytes[16..].to_vec()),
                Flush,
                D(4_584_000),
                S("de", false),
            ]
        );
        assert!(!de.level.get() && !rs.is_transmitting());
        // An empty write does nothing; a flush outside a transmission only flushes.
        assert_eq!(rs.write(&[]), Ok(0));
        rs.flush().unwrap();
        assert_eq!(log.take(), vec![Flush]);
    }

    #[test]
    fn frame_writer_writes_through_it() {
        let log = Log::default();
        let (rs, de) = line(&log, Uart::new(&log));
        let mut w = FrameWriter::new(rs);
        let n = w
            .send_request(Address::WILDCARD, &Request::ReadAddress, 4)
            .unwrap();
        let events = log.take();
        assert_eq!(events[..2], [S("de", true), D(50_000)]);
        assert_eq!(
            events[events.len() - 3..],
            [Flush, D(4_584_000), S("de", false)]
        );
        let written: usize = events
            .iter()
            .map(|e| if let W(b) = e { b.len() } else { 0 })
            .sum();
        assert_eq!(written, n);
        assert!(!de.level.get());
    }

    #[test]
    fn de_is_released_after_a_failed_write() {
        let log = Log::default();
        let mut uart = Uart::new(&log);
        uart.fail_write = Some(1);
        let (mut rs, de) = line(&log, uart);
        let r = rs.send(&[0x68; 20]);
        assert_eq!(r, Err(Rs485Error::Io(ErrorKind::BrokenPipe)));
        assert_eq!(
            embedded_io::Error::kind(&r.unwrap_err()),
            ErrorKind::BrokenPipe
        );
        assert_eq!(
            log.take(),
            vec![
                S("de", true),
                D(50_000),
                W(vec![0x68; 8]),
                D(4_584_000),
                S("de", false)
            ]
        );
        assert!(!de.level.get() && !rs.is_transmitting());
        // The next transmission starts afresh.
        rs.send(&[1]).unwrap();
        assert_eq!(log.take()[..2], [S("de", true), D(50_000)]);
    }

    #[test]
    fn de_is_released_after_a_failed_flush() {
        let log = Log::default();
        let mut uart = Uart::new(&log);
        uart.fail_flush = true;
        let (mut rs, de) = line(&log, uart);
        assert_eq!(rs.send(&[1, 2]), Err(Rs485Error::Io(ErrorKind::TimedOut)));
        assert_eq!(
            log.take(),
            vec![
                S("de", true),
                D(50_000),
                W(vec![1, 2]),
                Flush,
                D(4_584_000),
                S("de", false)
            ]
        );
        assert!(!de.level.get());
    }

    #[test]
    fn pin_errors() {
        let log = Log::default();
        let de = log.pin("de").fail_at(0);
        let mut rs = Rs485::new(Uart::new(&log), de.clone(), log.delay(), TIMING);
        let e = rs.send(&[1]).unwrap_err();
        assert!(matches!(e, Rs485Error::Pin(_)));
        assert_eq!(embedded_io::Error::kind(&e), ErrorKind::Other);
        assert!(!e.to_string().is_empty());
        // Nothing was written; the pin was set low again.
        assert_eq!(log.take(), vec![S("de", false)]);
        // DE fails to go low after a transmission: reported, after the bytes went out.
        de.fail_at.set(Some(3));
        let e = rs.send(&[1]).unwrap_err();
        assert!(matches!(e, Rs485Error::Pin(_)));
        assert!(rs.is_transmitting());
        rs.release().unwrap();
        assert!(!rs.is_transmitting() && !de.level.get());
        let (_, _, _) = rs.into_parts();
    }
}
