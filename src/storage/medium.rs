//! What the meter store needs from a memory, and the two memories meters carry: NOR flash
//! (embedded-storage [`NorFlash`]) and byte-writable EEPROM (embedded-storage [`Storage`], e.g. a
//! 24Cxx on I2C).

use core::fmt;

use embedded_storage::Storage;
use embedded_storage::nor_flash::NorFlash;

/// A memory the [`MeterStore`](super::MeterStore) writes to.
///
/// The store writes only whole, aligned units of [`Medium::write_size`] bytes, never writes a
/// unit twice between two erases of its page on a medium that [needs
/// erasing](Medium::needs_erase), and erases only whole pages of [`Medium::erase_size`] bytes.
pub trait Medium {
    /// The driver's error.
    type Error: fmt::Debug;
    /// Bytes available.
    fn capacity(&self) -> u32;
    /// Writes start on and cover whole multiples of this many bytes.
    fn write_size(&self) -> u32;
    /// Erases cover whole multiples of this many bytes (1 where nothing needs erasing).
    fn erase_size(&self) -> u32;
    /// `true` for NOR flash: bits can only be cleared by a write, and set again by an erase.
    fn needs_erase(&self) -> bool;
    /// Reads `buf.len()` bytes at `offset`.
    fn read(&mut self, offset: u32, buf: &mut [u8]) -> Result<(), Self::Error>;
    /// Writes `data` at `offset`.
    fn write(&mut self, offset: u32, data: &[u8]) -> Result<(), Self::Error>;
    /// Erases `[from, to)` to `FF` (NOR); on a medium that needs no erase, does nothing.
    fn erase(&mut self, from: u32, to: u32) -> Result<(), Self::Error>;
}

/// NOR flash through embedded-storage [`NorFlash`].
#[derive(Clone, Debug)]
pub struct Nor<F>(pub F);

impl<F: NorFlash> Medium for Nor<F> {
    type Error = F::Error;
    fn capacity(&self) -> u32 {
        u32::try_from(self.0.capacity()).unwrap_or(u32::MAX)
    }
    fn write_size(&self) -> u32 {
        u32::try_from(F::WRITE_SIZE).unwrap_or(u32::MAX)
    }
    fn erase_size(&self) -> u32 {
        u32::try_from(F::ERASE_SIZE).unwrap_or(u32::MAX)
    }
    fn needs_erase(&self) -> bool {
        true
    }
    fn read(&mut self, offset: u32, buf: &mut [u8]) -> Result<(), Self::Error> {
        self.0.read(offset, buf)
    }
    fn write(&mut self, offset: u32, data: &[u8]) -> Result<(), Self::Error> {
        self.0.write(offset, data)
    }
    fn erase(&mut self, from: u32, to: u32) -> Result<(), Self::Error> {
        self.0.erase(from, to)
    }
}

/// Byte-writable EEPROM through embedded-storage [`Storage`] (the driver splits page writes).
#[derive(Clone, Debug)]
pub struct Eeprom<S>(pub S);

impl<S: Storage> Medium for Eeprom<S>
where
    S::Error: fmt::Debug,
{
    type Error = S::Error;
    fn capacity(&self) -> u32 {
        u32::try_from(self.0.capacity()).unwrap_or(u32::MAX)
    }
    fn write_size(&self) -> u32 {
        1
    }
    fn erase_size(&self) -> u32 {
        1
    }
    fn needs_erase(&self) -> bool {
        false
    }
    fn read(&mut self, offset: u32, buf: &mut [u8]) -> Result<(), Self::Error> {
        self.0.read(offset, buf)
    }
    fn write(&mut self, offset: u32, data: &[u8]) -> Result<(), Self::Error> {
        self.0.write(offset, data)
    }
    fn erase(&mut self, _from: u32, _to: u32) -> Result<(), Self::Error> {
        Ok(())
    }
}
