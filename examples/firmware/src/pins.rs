//! The meter's hardware around the MCU, emulated: the metering chip's pulse output on a GPIO
//! input, and the latching relay's two coils on GPIO outputs.

use core::convert::Infallible;
use core::sync::atomic::{AtomicBool, Ordering};

use embedded_hal::digital::{ErrorType, InputPin, OutputPin};

/// The level of the pulse line (open collector: high when idle, low during a pulse). An
/// `AtomicBool`'s load and store are single instructions on every Cortex-M, the M0 included.
static PULSE_LINE: AtomicBool = AtomicBool::new(true);

/// The GPIO input the pulse line is wired to: what the crate's `hal::PulseInput` samples.
pub struct PulsePin;

impl ErrorType for PulsePin {
    type Error = Infallible;
}

impl InputPin for PulsePin {
    fn is_high(&mut self) -> Result<bool, Infallible> {
        Ok(PULSE_LINE.load(Ordering::Relaxed))
    }
    fn is_low(&mut self) -> Result<bool, Infallible> {
        Ok(!PULSE_LINE.load(Ordering::Relaxed))
    }
}

/// W·µs in a kWh.
const WUS_PER_KWH: u64 = 3_600_000_000_000;
/// How long the line stays low for one pulse (an ADE7755 at high loads: about 90 ms).
pub const PULSE_WIDTH_US: u64 = 90_000;

/// A metering chip (ADE7755 class): one pulse on the pulse line for each 1/`constant` kWh
/// drawn by the load, at the exact instant it is due. No current flows, and so no pulse comes,
/// while the relay's contacts are open.
pub struct MeteringChip {
    imp_per_kwh: u64,
    /// W·µs·imp/kWh drawn since the last pulse.
    residue: u64,
}

impl MeteringChip {
    /// A chip with meter constant `imp_per_kwh`.
    pub const fn new(imp_per_kwh: u32) -> Self {
        MeteringChip {
            imp_per_kwh: imp_per_kwh as u64,
            residue: 0,
        }
    }

    /// Draws `watts` from `start` (µs) for `micros` µs. At each pulse the line goes low, then
    /// high again `PULSE_WIDTH_US` later (or at the end of the interval, whichever is first),
    /// and `line_changed(at_us)` is called after each change: the firmware samples the pin
    /// then, as its timer interrupt would.
    pub fn draw(
        &mut self,
        watts: u32,
        supplied: bool,
        start: u64,
        micros: u64,
        mut line_changed: impl FnMut(u64),
    ) {
        if !supplied || watts == 0 {
            return;
        }
        let rate = u64::from(watts).saturating_mul(self.imp_per_kwh); // per µs
        let mut t = 0u64;
        while t < micros {
            // µs until the next pulse is due (at least 1).
            let owed = WUS_PER_KWH.saturating_sub(self.residue);
            let wait = owed.div_ceil(rate.max(1)).max(1);
            if t.saturating_add(wait) > micros {
                self.residue = self
                    .residue
                    .saturating_add(rate.saturating_mul(micros.saturating_sub(t)));
                return;
            }
            t = t.saturating_add(wait);
            self.residue = self
                .residue
                .saturating_add(rate.saturating_mul(wait))
                .saturating_sub(WUS_PER_KWH);
            PULSE_LINE.store(false, Ordering::Relaxed);
            line_changed(start.saturating_add(t));
            PULSE_LINE.store(true, Ordering::Relaxed);
            line_changed(start.saturating_add(t).saturating_add(PULSE_WIDTH_US));
        }
    }
}

/// A latching relay: a pulse on the close coil or on the open coil moves the contacts, which
/// then stay where they are without power.
pub struct LatchingRelay {
    close_coil: Coil,
    open_coil: Coil,
    closed: bool,
    /// Coil pulses so far.
    pub pulses: u32,
}

/// One coil's GPIO output.
pub struct Coil {
    energised: bool,
}

impl ErrorType for Coil {
    type Error = Infallible;
}

impl OutputPin for Coil {
    fn set_high(&mut self) -> Result<(), Infallible> {
        self.energised = true;
        Ok(())
    }
    fn set_low(&mut self) -> Result<(), Infallible> {
        self.energised = false;
        Ok(())
    }
}

impl LatchingRelay {
    /// A relay whose contacts are `closed` (as the factory left them).
    pub const fn new(closed: bool) -> Self {
        LatchingRelay {
            close_coil: Coil { energised: false },
            open_coil: Coil { energised: false },
            closed,
            pulses: 0,
        }
    }

    /// Pulses the coil that moves the contacts to `closed` (in firmware: 50 to 100 ms).
    pub fn drive(&mut self, closed: bool) {
        let coil = if closed {
            &mut self.close_coil
        } else {
            &mut self.open_coil
        };
        let Ok(()) = coil.set_high();
        // The armature moves while the coil is energised.
        if self.close_coil.energised {
            self.closed = true;
        }
        if self.open_coil.energised {
            self.closed = false;
        }
        let Ok(()) = self.close_coil.set_low();
        let Ok(()) = self.open_coil.set_low();
        self.pulses = self.pulses.saturating_add(1);
    }

    /// `true` while the contacts are closed (the load is supplied).
    pub fn closed(&self) -> bool {
        self.closed
    }
}
