//! Mock pins, delays and a UART that record what the drivers do, in order (tests only).

use std::cell::{Cell, RefCell};
use std::rc::Rc;
use std::vec::Vec;

use embedded_hal::delay::DelayNs;
use embedded_hal::digital::{ErrorKind, ErrorType, InputPin, OutputPin};

/// One thing a driver did.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Ev {
    /// A pin was set (name, high).
    Set(&'static str, bool),
    /// A pin was read (name).
    Read(&'static str),
    /// A delay of this many nanoseconds.
    Delay(u64),
    /// Bytes went to the UART.
    Write(Vec<u8>),
    /// The UART was flushed.
    Flush,
}

/// The shared record of events.
#[derive(Clone, Debug, Default)]
pub struct Log(Rc<RefCell<Vec<Ev>>>);

impl Log {
    pub fn push(&self, ev: Ev) {
        self.0.borrow_mut().push(ev);
    }

    pub fn take(&self) -> Vec<Ev> {
        core::mem::take(&mut *self.0.borrow_mut())
    }

    pub fn pin(&self, name: &'static str) -> Pin {
        Pin {
            name,
            log: self.clone(),
            level: Rc::new(Cell::new(false)),
            calls: Rc::new(Cell::new(0)),
            fail_at: Rc::new(Cell::new(None)),
            script: Rc::new(RefCell::new(Vec::new())),
        }
    }

    pub fn delay(&self) -> Delay {
        Delay(self.clone())
    }
}

/// An output or input pin. Output: records each set and keeps the level. Input: reads the
/// next scripted level (the last one repeats), or the output level when there is no script.
/// Call number `fail_at` (0-based, counting sets and reads) fails, once.
#[derive(Clone, Debug)]
pub struct Pin {
    name: &'static str,
    log: Log,
    pub level: Rc<Cell<bool>>,
    calls: Rc<Cell<usize>>,
    pub fail_at: Rc<Cell<Option<usize>>>,
    pub script: Rc<RefCell<Vec<bool>>>,
}

impl Pin {
    pub fn fail_at(self, call: usize) -> Self {
        self.fail_at.set(Some(call));
        self
    }

    pub fn script(self, levels: &[bool]) -> Self {
        *self.script.borrow_mut() = levels.to_vec();
        self
    }

    fn call(&self) -> Result<(), ErrorKind> {
        let n = self.calls.get();
        self.calls.set(n + 1);
        if self.fail_at.get() == Some(n) {
            Err(ErrorKind::Other)
        } else {
            Ok(())
        }
    }

    fn set(&mut self, high: bool) -> Result<(), ErrorKind> {
        self.call()?;
        self.log.push(Ev::Set(self.name, high));
        self.level.set(high);
        Ok(())
    }

    fn read(&mut self) -> Result<bool, ErrorKind> {
        self.call()?;
        self.log.push(Ev::Read(self.name));
        let mut script = self.script.borrow_mut();
        Ok(match script.len() {
            0 => self.level.get(),
            1 => script[0],
            _ => script.remove(0),
        })
    }
}

impl ErrorType for Pin {
    type Error = ErrorKind;
}

impl OutputPin for Pin {
    fn set_low(&mut self) -> Result<(), ErrorKind> {
        self.set(false)
    }
    fn set_high(&mut self) -> Result<(), ErrorKind> {
        self.set(true)
    }
}

impl InputPin for Pin {
    fn is_high(&mut self) -> Result<bool, ErrorKind> {
        self.read()
    }
    fn is_low(&mut self) -> Result<bool, ErrorKind> {
        self.read().map(|h| !h)
    }
}

/// A delay that records how long it was asked to wait, in nanoseconds.
#[derive(Clone, Debug)]
pub struct Delay(Log);

impl DelayNs for Delay {
    fn delay_ns(&mut self, ns: u32) {
        self.0.push(Ev::Delay(u64::from(ns)));
    }
    fn delay_us(&mut self, us: u32) {
        self.0.push(Ev::Delay(u64::from(us) * 1_000));
    }
    fn delay_ms(&mut self, ms: u32) {
        self.0.push(Ev::Delay(u64::from(ms) * 1_000_000));
    }
}
