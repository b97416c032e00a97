//! The nRF51's own flash as the meter's NOR flash, through its non-volatile memory controller
//! (NVMC): the Cortex-M0 build keeps the store in the MCU's flash, above the firmware image, as
//! a cheap meter does (QEMU's micro:bit models the controller, `nrf51_nvm`).
//!
//! The store's region is the linker's `STORE` region (`memory/thumbv6m-none-eabi.x`): whole
//! 1 KiB pages that the image never occupies. Reads are plain memory reads of the flash;
//! writes program one 32-bit word at a time with writing enabled (`CONFIG = 1`), and erases
//! clear one page at a time with erasing enabled (`CONFIG = 2`), each waiting for `READY`.
//! As on any NOR flash, a write only clears bits and an erase sets a page back to `FF`.

use embedded_storage::nor_flash::{
    ErrorType, NorFlash, NorFlashError, NorFlashErrorKind, ReadNorFlash, check_erase, check_read,
    check_write,
};

/// The NVMC's registers (nRF51 reference manual, chapter "NVMC").
const NVMC: usize = 0x4001_E000;
/// `READY`: bit 0 set when no write or erase is in progress.
const READY: usize = NVMC + 0x400;
/// `CONFIG`: 0 read only, 1 write enabled, 2 erase enabled.
const CONFIG: usize = NVMC + 0x504;
/// `ERASEPAGE`: writing a page's address erases it (with erasing enabled).
const ERASEPAGE: usize = NVMC + 0x508;
const CONFIG_READ: u32 = 0;
const CONFIG_WRITE: u32 = 1;
const CONFIG_ERASE: u32 = 2;

/// A flash page: the unit of an erase.
pub const PAGE: usize = 1024;

unsafe extern "C" {
    /// The first byte of the store's region (memory map: `_store_start`).
    static _store_start: u8;
    /// One past its last byte (memory map: `_store_end`).
    static _store_end: u8;
}

/// Misaligned or out of bounds, as `embedded-storage`'s checks define it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct FlashError(pub NorFlashErrorKind);

impl NorFlashError for FlashError {
    fn kind(&self) -> NorFlashErrorKind {
        self.0
    }
}

/// The store's region of the MCU's flash, offsets counted from its start.
pub struct Nvmc {
    /// Page erases done, for the timeline.
    pub erases: u32,
    /// Words programmed.
    pub writes: u32,
}

/// The address of the store's region and its length in bytes.
fn region() -> (usize, usize) {
    let start = core::ptr::addr_of!(_store_start) as usize;
    let end = core::ptr::addr_of!(_store_end) as usize;
    (start, end.saturating_sub(start))
}

/// Waits until the controller is ready.
fn wait_ready() {
    // SAFETY: READY is a read-only register of the NVMC, always mapped on the nRF51.
    while unsafe { core::ptr::read_volatile(READY as *const u32) } & 1 == 0 {}
}

/// Sets `CONFIG`, once the controller is ready.
fn configure(mode: u32) {
    wait_ready();
    // SAFETY: CONFIG is the NVMC's mode register; the values written are the three modes.
    unsafe { core::ptr::write_volatile(CONFIG as *mut u32, mode) };
}

impl Nvmc {
    /// The store's region as it is (its contents are whatever the flash holds): call
    /// [`Nvmc::erase_all`] once for a new part.
    pub const fn unerased() -> Self {
        Nvmc {
            erases: 0,
            writes: 0,
        }
    }

    /// Erases the whole store region (the factory's erase of a new part).
    pub fn erase_all(&mut self) {
        let len = region().1;
        let _ = self.erase(0, u32::try_from(len).unwrap_or(0));
    }
}

impl ErrorType for Nvmc {
    type Error = FlashError;
}

impl ReadNorFlash for Nvmc {
    const READ_SIZE: usize = 1;

    fn read(&mut self, offset: u32, bytes: &mut [u8]) -> Result<(), FlashError> {
        check_read(self, offset, bytes.len()).map_err(FlashError)?;
        let at = region().0.saturating_add(offset as usize);
        for (k, byte) in bytes.iter_mut().enumerate() {
            // SAFETY: `check_read` keeps [at, at + len) inside the store's region of the
            // flash, which is always mapped and readable.
            *byte = unsafe { core::ptr::read_volatile((at + k) as *const u8) };
        }
        Ok(())
    }

    fn capacity(&self) -> usize {
        region().1
    }
}

impl NorFlash for Nvmc {
    const WRITE_SIZE: usize = 4;
    const ERASE_SIZE: usize = PAGE;

    fn erase(&mut self, from: u32, to: u32) -> Result<(), FlashError> {
        check_erase(self, from, to).map_err(FlashError)?;
        let base = region().0;
        configure(CONFIG_ERASE);
        for page in (from as usize..to as usize).step_by(PAGE) {
            // SAFETY: with erasing enabled, writing the address of a page of the store's
            // region (page-aligned: `check_erase`) to ERASEPAGE erases that page only.
            unsafe { core::ptr::write_volatile(ERASEPAGE as *mut u32, (base + page) as u32) };
            wait_ready();
            self.erases = self.erases.saturating_add(1);
        }
        configure(CONFIG_READ);
        Ok(())
    }

    fn write(&mut self, offset: u32, bytes: &[u8]) -> Result<(), FlashError> {
        check_write(self, offset, bytes.len()).map_err(FlashError)?;
        let at = region().0.saturating_add(offset as usize);
        configure(CONFIG_WRITE);
        for (k, word) in bytes.chunks_exact(4).enumerate() {
            let value = u32::from_le_bytes(<[u8; 4]>::try_from(word).unwrap_or([0xFF; 4]));
            // SAFETY: with writing enabled, a word write to the flash programs it; the word is
            // inside the store's region and word-aligned (`check_write`: the region starts on
            // a page, offset and length are multiples of 4).
            unsafe { core::ptr::write_volatile((at + 4 * k) as *mut u32, value) };
            wait_ready();
        }
        configure(CONFIG_READ);
        self.writes = self.writes.saturating_add((bytes.len() / 4) as u32);
        Ok(())
    }
}
