//! A prepaid meter's firmware on the crate, run under QEMU: the Cortex-M4F build on the MPS2
//! AN386 board, the Cortex-M0 build on the BBC micro:bit (nRF51822: 256 KiB of flash, 16 KiB
//! of RAM).
//!
//! This file is the harness, independent of the application it runs: the entry point, the
//! board (the NOR flash that survives a simulated power cut: emulated in RAM on the M4F, the
//! nRF51's own flash on the M0; the metering chip's
//! pulse line and the relay's coils), the timeline printed over semihosting, stack painting,
//! and the exit code (success only if every check of the scenario passed). The application and
//! its scripted day are in `scenario.rs`.
#![no_std]
#![no_main]

#[cfg(target_abi = "eabihf")]
mod flash;
#[cfg(not(target_abi = "eabihf"))]
mod nvmc;
mod pins;
mod scenario;

use core::fmt::{self, Write};

use cortex_m_rt::entry;
use cortex_m_semihosting::debug::{self, EXIT_FAILURE, EXIT_SUCCESS};
use cortex_m_semihosting::hio::{self, HostStream};

/// The meter's NOR flash on the Cortex-M4F: the MPS2 board has no flash controller, so the
/// flash is emulated in RAM: 20 KiB in 1 KiB erase sectors, 4-byte program words (the crate's
/// store writes 32-byte units, so any word size that divides 32 works).
#[cfg(target_abi = "eabihf")]
pub type Flash = flash::EmulatedNor<{ 20 * 1024 }, 1024, 4>;

/// The meter's NOR flash on the Cortex-M0: 20 KiB of the nRF51's own flash above the image
/// (1 KiB pages, 4-byte words), through its flash controller.
#[cfg(not(target_abi = "eabihf"))]
pub type Flash = nvmc::Nvmc;

/// The flash's driver, outside any stack frame: the flash keeps its contents when the
/// application is dropped for a power cut. On the M4F in `.bss` (zeros) and erased at boot,
/// so it costs no flash image.
static mut FLASH: Flash = Flash::unerased();

/// The board the application runs on.
pub struct Board {
    /// The NOR flash, while the application does not hold it.
    pub flash: Option<&'static mut Flash>,
    /// The metering chip, whose pulses arrive on [`pins::PulsePin`].
    pub chip: pins::MeteringChip,
    /// The latching relay.
    pub relay: pins::LatchingRelay,
    /// The timeline.
    pub console: Console,
}

/// Lines to the host's terminal over semihosting (dropped where the host has none).
pub struct Console {
    out: Option<HostStream>,
}

impl Console {
    fn open() -> Self {
        Console {
            out: hio::hstdout().ok(),
        }
    }

    /// Prints one line of the timeline.
    pub fn line(&mut self, args: fmt::Arguments<'_>) {
        if let Some(out) = &mut self.out {
            let _ = out.write_fmt(args);
            let _ = out.write_str("\n");
        }
    }
}

/// Prints a line of the timeline: `say!(console, "format", args...)`.
#[macro_export]
macro_rules! say {
    ($console:expr, $($arg:tt)*) => {
        $console.line(format_args!($($arg)*))
    };
}

/// The painted stack, for [`stack_peak`].
static mut STACK: Option<stack::Painted> = None;

/// The deepest the stack has been so far, in bytes.
pub fn stack_peak() -> usize {
    // SAFETY: set once in `main` before the scenario runs; read only.
    unsafe {
        (*core::ptr::addr_of!(STACK))
            .as_ref()
            .map_or(0, |s| s.peak())
    }
}

#[entry]
fn main() -> ! {
    let stack = stack::paint();
    // SAFETY: written once, before anything reads it.
    unsafe { *core::ptr::addr_of_mut!(STACK) = Some(stack::Painted::copy(&stack)) };
    // SAFETY: the only reference to FLASH ever made; `main` never returns.
    let flash: &'static mut Flash = unsafe { &mut *core::ptr::addr_of_mut!(FLASH) };
    flash.erase_all(); // a new part, as the factory ships it
    let mut board = Board {
        flash: Some(flash),
        chip: pins::MeteringChip::new(scenario::METER_CONSTANT),
        relay: pins::LatchingRelay::new(true),
        console: Console::open(),
    };
    say!(
        board.console,
        "prepaid-meter firmware on {}: stack {} bytes, {} painted",
        TARGET,
        stack.size(),
        stack.painted()
    );
    let outcome = scenario::run(&mut board);
    let peak = stack.peak();
    say!(
        board.console,
        "checks: {} passed, {} failed",
        outcome.checks.saturating_sub(outcome.failed),
        outcome.failed
    );
    // `size-report` reads this line.
    say!(board.console, "peak stack: {} bytes", peak);
    if outcome.failed == 0 && outcome.checks > 0 {
        debug::exit(EXIT_SUCCESS);
    } else {
        debug::exit(EXIT_FAILURE);
    }
    loop {
        cortex_m::asm::wfi();
    }
}

#[cfg(target_arch = "arm")]
const TARGET: &str = if cfg!(target_abi = "eabihf") {
    "Cortex-M4F (thumbv7em-none-eabihf)"
} else {
    "Cortex-M0 (thumbv6m-none-eabi)"
};

mod stack {
    //! Stack painting: the stack below the current stack pointer is filled with a pattern at
    //! start-up; at the end, the deepest word no longer holding it marks the peak.

    const PATTERN: u32 = 0xCAFE_F00D;
    /// Words just below the stack pointer left unpainted: the painting loop's own frame.
    const MARGIN: usize = 64;

    unsafe extern "C" {
        /// The top of the stack (cortex-m-rt: the end of RAM).
        static _stack_start: u32;
        /// The lowest address the stack may grow to (cortex-m-rt: the end of the statics).
        static _stack_end: u32;
    }

    pub struct Painted {
        top: usize,
        bottom: usize,
        painted_to: usize,
    }

    /// Paints `[_stack_end, sp - MARGIN)`.
    #[inline(never)]
    pub fn paint() -> Painted {
        let top = core::ptr::addr_of!(_stack_start) as usize;
        let bottom = core::ptr::addr_of!(_stack_end) as usize;
        let sp = cortex_m::register::msp::read() as usize;
        let painted_to = sp.saturating_sub(MARGIN) & !3;
        let mut p = bottom;
        while p < painted_to {
            // SAFETY: [bottom, painted_to) lies between the statics and the stack pointer:
            // memory no one uses yet.
            unsafe { core::ptr::write_volatile(p as *mut u32, PATTERN) };
            p += 4;
        }
        Painted {
            top,
            bottom,
            painted_to,
        }
    }

    impl Painted {
        /// The same painted region.
        pub fn copy(p: &Painted) -> Painted {
            Painted {
                top: p.top,
                bottom: p.bottom,
                painted_to: p.painted_to,
            }
        }

        /// Bytes between the top of the stack and the lowest word overwritten since painting.
        pub fn peak(&self) -> usize {
            let mut p = self.bottom;
            // SAFETY: reads of the painted region, word-aligned, inside RAM.
            while p < self.painted_to
                && unsafe { core::ptr::read_volatile(p as *const u32) } == PATTERN
            {
                p += 4;
            }
            self.top.saturating_sub(p)
        }

        /// Bytes of RAM the stack may use.
        pub fn size(&self) -> usize {
            self.top.saturating_sub(self.bottom)
        }

        /// Bytes painted.
        pub fn painted(&self) -> usize {
            self.painted_to.saturating_sub(self.bottom)
        }
    }
}

#[cfg(not(feature = "panic-never"))]
#[panic_handler]
fn panic(_info: &core::panic::PanicInfo<'_>) -> ! {
    // Reached only if a panic path remains (the `panic-never` build proves there is none).
    if let Ok(mut out) = hio::hstdout() {
        let _ = out.write_str("panic\n");
    }
    debug::exit(EXIT_FAILURE);
    loop {
        cortex_m::asm::wfi();
    }
}

// The `panic-never` build: a panic handler that cannot be linked, so the link fails if any
// panicking branch is left in the program.
#[cfg(feature = "panic-never")]
use panic_never as _;
