//! A NOR flash emulated in RAM, with the semantics the crate's store expects of a real part
//! (and of the crate's own test flash): erased bytes read `FF`, a write only clears bits (the
//! stored byte becomes `old & new`), and only an erase of whole sectors sets them again.
//!
//! It lives in a `static` of the harness, outside the application's state, so it keeps its
//! contents across a simulated power cut: the application is dropped and started again, the
//! flash is not.

use embedded_storage::nor_flash::{
    ErrorType, NorFlash, NorFlashError, NorFlashErrorKind, ReadNorFlash, check_erase, check_read,
    check_write,
};

/// Misaligned or out of bounds, as `embedded-storage`'s checks define it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct FlashError(pub NorFlashErrorKind);

impl NorFlashError for FlashError {
    fn kind(&self) -> NorFlashErrorKind {
        self.0
    }
}

/// `SIZE` bytes of NOR flash in erase sectors of `ERASE` bytes, programmed in `WRITE`-byte
/// words.
pub struct EmulatedNor<const SIZE: usize, const ERASE: usize, const WRITE: usize> {
    cells: [u8; SIZE],
    /// Sector erases done, for the timeline.
    pub erases: u32,
    /// Words programmed.
    pub writes: u32,
}

impl<const SIZE: usize, const ERASE: usize, const WRITE: usize> EmulatedNor<SIZE, ERASE, WRITE> {
    /// A part that has never been erased (all zeros, as RAM comes up zeroed in `.bss`):
    /// call [`EmulatedNor::erase_all`] once, as a factory erases a new part.
    pub const fn unerased() -> Self {
        EmulatedNor {
            cells: [0; SIZE],
            erases: 0,
            writes: 0,
        }
    }

    /// Erases the whole part (the factory's chip erase).
    pub fn erase_all(&mut self) {
        self.cells.fill(0xFF);
    }
}

impl<const SIZE: usize, const ERASE: usize, const WRITE: usize> ErrorType
    for EmulatedNor<SIZE, ERASE, WRITE>
{
    type Error = FlashError;
}

impl<const SIZE: usize, const ERASE: usize, const WRITE: usize> ReadNorFlash
    for EmulatedNor<SIZE, ERASE, WRITE>
{
    const READ_SIZE: usize = 1;

    fn read(&mut self, offset: u32, bytes: &mut [u8]) -> Result<(), FlashError> {
        check_read(self, offset, bytes.len()).map_err(FlashError)?;
        let start = offset as usize;
        let src = self
            .cells
            .get(start..start.saturating_add(bytes.len()))
            .ok_or(FlashError(NorFlashErrorKind::OutOfBounds))?;
        bytes.copy_from_slice(src);
        Ok(())
    }

    fn capacity(&self) -> usize {
        SIZE
    }
}

impl<const SIZE: usize, const ERASE: usize, const WRITE: usize> NorFlash
    for EmulatedNor<SIZE, ERASE, WRITE>
{
    const WRITE_SIZE: usize = WRITE;
    const ERASE_SIZE: usize = ERASE;

    fn erase(&mut self, from: u32, to: u32) -> Result<(), FlashError> {
        check_erase(self, from, to).map_err(FlashError)?;
        let cells = self
            .cells
            .get_mut(from as usize..to as usize)
            .ok_or(FlashError(NorFlashErrorKind::OutOfBounds))?;
        cells.fill(0xFF);
        self.erases = self
            .erases
            .saturating_add(((to - from) as usize / ERASE) as u32);
        Ok(())
    }

    fn write(&mut self, offset: u32, bytes: &[u8]) -> Result<(), FlashError> {
        check_write(self, offset, bytes.len()).map_err(FlashError)?;
        let start = offset as usize;
        let cells = self
            .cells
            .get_mut(start..start.saturating_add(bytes.len()))
            .ok_or(FlashError(NorFlashErrorKind::OutOfBounds))?;
        // Programming can only clear bits.
        for (cell, new) in cells.iter_mut().zip(bytes) {
            *cell &= *new;
        }
        self.writes = self
            .writes
            .saturating_add((bytes.len() / WRITE.max(1)) as u32);
        Ok(())
    }
}
