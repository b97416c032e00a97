//! Simulated storage devices for tests: NOR flash and a byte-writable EEPROM that lose power
//! part-way through a write or an erase, and flip bits on request (feature `_test`).
//!
//! **Internal feature. Anything here is semver exempt**: the `_test` feature exists so that this
//! crate's tests, its fuzz targets and the tests of crates built on it share one simulated
//! flash. Do not enable it in a firmware build.
//!
//! [`MockFlash`] behaves as NOR flash does (and as the `embedded-storage` trait docs say):
//! erased bytes read `FF`, a write can only clear bits (the stored byte becomes `old & new`),
//! and only an erase sets them again, a whole sector at a time. Power can be cut after any
//! number of bytes written or erased: the operation under way stops at that byte (a cut erase
//! leaves the start of the sector erased and the rest as it was, a cut write leaves a word
//! partly written), and every later operation fails until [`MockFlash::restore_power`].
//!
//! ```
//! use embedded_storage::nor_flash::{NorFlash, ReadNorFlash};
//! use prepaid_meter::mock::MockFlash;
//!
//! let mut flash: MockFlash<1024> = MockFlash::new();
//! flash.write(0, &[0x0F, 0xF0, 0x00, 0xFF]).unwrap();
//! flash.write(0, &[0xFF, 0x0F, 0xFF, 0x01]).unwrap(); // bits only clear
//! let mut b = [0u8; 4];
//! flash.read(0, &mut b).unwrap();
//! assert_eq!(b, [0x0F, 0x00, 0x00, 0x01]);
//!
//! flash.cut_power_after(2);                // two more bytes, then the power fails
//! assert!(flash.erase(0, 256).is_err());
//! flash.restore_power();
//! flash.read(0, &mut b).unwrap();
//! assert_eq!(b, [0xFF, 0xFF, 0x00, 0x01]); // the erase stopped after two bytes
//! assert_eq!(flash.stats().bytes_erased, 2);
//! ```
#![allow(clippy::indexing_slicing)]

use embedded_storage::nor_flash::{
    ErrorType, NorFlash, NorFlashError, NorFlashErrorKind, ReadNorFlash, check_erase, check_read,
    check_write,
};
use embedded_storage::{ReadStorage, Storage};

/// Why a [`MockFlash`] operation failed.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum MockFlashError {
    /// The power was cut during or before this operation.
    PowerCut,
    /// Misaligned or out of bounds, as `embedded-storage`'s checks define it.
    Access(NorFlashErrorKind),
}

impl NorFlashError for MockFlashError {
    fn kind(&self) -> NorFlashErrorKind {
        match self {
            MockFlashError::PowerCut => NorFlashErrorKind::Other,
            MockFlashError::Access(k) => *k,
        }
    }
}

/// Counts of what a [`MockFlash`] did, for wear estimates.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Stats {
    /// Bytes written (each byte of each completed or cut write).
    pub bytes_written: u64,
    /// Write calls that completed.
    pub writes: u64,
    /// Bytes erased.
    pub bytes_erased: u64,
    /// Sector erases that completed.
    pub sector_erases: u64,
}

/// The cells of a simulated device and its power budget: what both devices share.
#[derive(Clone, Debug)]
struct Cells<const SIZE: usize> {
    mem: [u8; SIZE],
    budget: Option<u64>,
}

impl<const SIZE: usize> Cells<SIZE> {
    const fn erased() -> Self {
        Cells {
            mem: [0xFF; SIZE],
            budget: None,
        }
    }

    fn with_contents(contents: &[u8]) -> Self {
        let mut c = Self::erased();
        for (m, v) in c.mem.iter_mut().zip(contents) {
            *m = *v;
        }
        c
    }

    fn flip_bit(&mut self, offset: usize, bit: u8) {
        if let Some(b) = self.mem.get_mut(offset) {
            *b ^= 1u8.checked_shl(u32::from(bit)).unwrap_or(0);
        }
    }

    /// Spends one byte of the power budget; `false` once the power is gone.
    fn spend(&mut self) -> bool {
        match &mut self.budget {
            None => true,
            Some(0) => false,
            Some(n) => {
                *n -= 1;
                true
            }
        }
    }
}

/// NOR flash in RAM: `SIZE` bytes, erase sectors of `ERASE` bytes, writes of `WRITE`-byte words,
/// reads of any length. See the [module docs](self).
#[derive(Clone, Debug)]
pub struct MockFlash<const SIZE: usize, const ERASE: usize = 256, const WRITE: usize = 4> {
    cells: Cells<SIZE>,
    stats: Stats,
}

impl<const SIZE: usize, const ERASE: usize, const WRITE: usize> Default
    for MockFlash<SIZE, ERASE, WRITE>
{
    fn default() -> Self {
        Self::new()
    }
}

impl<const SIZE: usize, const ERASE: usize, const WRITE: usize> MockFlash<SIZE, ERASE, WRITE> {
    /// An erased flash with the power on.
    pub const fn new() -> Self {
        MockFlash {
            cells: Cells::erased(),
            stats: Stats {
                bytes_written: 0,
                writes: 0,
                bytes_erased: 0,
                sector_erases: 0,
            },
        }
    }

    /// A flash holding `contents` (the rest erased), e.g. arbitrary bytes from a fuzzer.
    pub fn with_contents(contents: &[u8]) -> Self {
        MockFlash {
            cells: Cells::with_contents(contents),
            ..Self::new()
        }
    }

    /// Cuts the power once `bytes` more bytes have been written or erased.
    pub fn cut_power_after(&mut self, bytes: u64) {
        self.cells.budget = Some(bytes);
    }

    /// Power back on: later operations succeed again.
    pub fn restore_power(&mut self) {
        self.cells.budget = None;
    }

    /// `true` while the power is cut (the budget is spent).
    pub fn is_power_cut(&self) -> bool {
        self.cells.budget == Some(0)
    }

    /// Flips bit `bit` (0..=7) of the byte at `offset`; out-of-range arguments do nothing.
    pub fn flip_bit(&mut self, offset: usize, bit: u8) {
        self.cells.flip_bit(offset, bit);
    }

    /// The raw contents.
    pub fn contents(&self) -> &[u8; SIZE] {
        &self.cells.mem
    }

    /// The raw contents, to corrupt on purpose.
    pub fn contents_mut(&mut self) -> &mut [u8; SIZE] {
        &mut self.cells.mem
    }

    /// What the flash has done so far.
    pub fn stats(&self) -> Stats {
        self.stats
    }
}

impl<const SIZE: usize, const ERASE: usize, const WRITE: usize> ErrorType
    for MockFlash<SIZE, ERASE, WRITE>
{
    type Error = MockFlashError;
}

impl<const SIZE: usize, const ERASE: usize, const WRITE: usize> ReadNorFlash
    for MockFlash<SIZE, ERASE, WRITE>
{
    const READ_SIZE: usize = 1;

    fn read(&mut self, offset: u32, bytes: &mut [u8]) -> Result<(), Self::Error> {
        check_read(self, offset, bytes.len()).map_err(MockFlashError::Access)?;
        let o = offset as usize;
        bytes.copy_from_slice(&self.cells.mem[o..o + bytes.len()]);
        Ok(())
    }

    fn capacity(&self) -> usize {
        SIZE
    }
}

impl<const SIZE: usize, const ERASE: usize, const WRITE: usize> NorFlash
    for MockFlash<SIZE, ERASE, WRITE>
{
    const WRITE_SIZE: usize = WRITE;
    const ERASE_SIZE: usize = ERASE;

    fn erase(&mut self, from: u32, to: u32) -> Result<(), Self::Error> {
        check_erase(self, from, to).map_err(MockFlashError::Access)?;
        for i in from as usize..to as usize {
            if !self.cells.spend() {
                return Err(MockFlashError::PowerCut);
            }
            self.cells.mem[i] = 0xFF;
            self.stats.bytes_erased += 1;
        }
        self.stats.sector_erases += u64::from((to - from).checked_div(ERASE as u32).unwrap_or(0));
        Ok(())
    }

    fn write(&mut self, offset: u32, bytes: &[u8]) -> Result<(), Self::Error> {
        check_write(self, offset, bytes.len()).map_err(MockFlashError::Access)?;
        for (i, b) in bytes.iter().enumerate() {
            if !self.cells.spend() {
                return Err(MockFlashError::PowerCut);
            }
            self.cells.mem[offset as usize + i] &= *b;
            self.stats.bytes_written += 1;
        }
        self.stats.writes += 1;
        Ok(())
    }
}

/// A byte-writable EEPROM in RAM (24Cxx-like): `SIZE` bytes written in pages of `PAGE` bytes
/// (a write that crosses a page boundary is split into page writes, as the part's driver does);
/// any byte can be rewritten without an erase. Power can be cut after any number of bytes
/// written: the page write under way stops at that byte, and every later write fails until
/// [`MockEeprom::restore_power`]. Counts every byte write, for wear estimates.
///
/// ```
/// use embedded_storage::{ReadStorage, Storage};
/// use prepaid_meter::mock::MockEeprom;
///
/// let mut e: MockEeprom<256, 32> = MockEeprom::new();
/// e.write(30, &[1, 2, 3, 4]).unwrap(); // crosses a page boundary: two page writes
/// assert_eq!(e.stats().page_writes, 2);
/// e.cut_power_after(1);
/// assert!(e.write(0, &[9, 9]).is_err());
/// e.restore_power();
/// let mut b = [0u8; 2];
/// e.read(0, &mut b).unwrap();
/// assert_eq!(b, [9, 0xFF]);
/// ```
#[derive(Clone, Debug)]
pub struct MockEeprom<const SIZE: usize, const PAGE: usize = 64> {
    cells: Cells<SIZE>,
    writes: [u32; SIZE],
    stats: EepromStats,
}

/// Counts of what a [`MockEeprom`] did, for wear estimates.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct EepromStats {
    /// Bytes written.
    pub bytes_written: u64,
    /// Page write cycles started (each costs the part's write time, e.g. 5 ms on a 24C256).
    pub page_writes: u64,
}

impl<const SIZE: usize, const PAGE: usize> Default for MockEeprom<SIZE, PAGE> {
    fn default() -> Self {
        Self::new()
    }
}

impl<const SIZE: usize, const PAGE: usize> MockEeprom<SIZE, PAGE> {
    /// A blank EEPROM (every byte `FF`, as delivered) with the power on.
    pub const fn new() -> Self {
        MockEeprom {
            cells: Cells::erased(),
            writes: [0; SIZE],
            stats: EepromStats {
                bytes_written: 0,
                page_writes: 0,
            },
        }
    }

    /// An EEPROM holding `contents` (the rest `FF`).
    pub fn with_contents(contents: &[u8]) -> Self {
        MockEeprom {
            cells: Cells::with_contents(contents),
            ..Self::new()
        }
    }

    /// Cuts the power once `bytes` more bytes have been written.
    pub fn cut_power_after(&mut self, bytes: u64) {
        self.cells.budget = Some(bytes);
    }

    /// Power back on.
    pub fn restore_power(&mut self) {
        self.cells.budget = None;
    }

    /// Flips bit `bit` (0..=7) of the byte at `offset`; out-of-range arguments do nothing.
    pub fn flip_bit(&mut self, offset: usize, bit: u8) {
        self.cells.flip_bit(offset, bit);
    }

    /// The raw contents.
    pub fn contents(&self) -> &[u8; SIZE] {
        &self.cells.mem
    }

    /// The raw contents, to corrupt on purpose.
    pub fn contents_mut(&mut self) -> &mut [u8; SIZE] {
        &mut self.cells.mem
    }

    /// What the EEPROM has done so far.
    pub fn stats(&self) -> EepromStats {
        self.stats
    }

    /// The most times any one byte of `range` was written (the wear that ends an EEPROM's
    /// life); 0 for an empty or out-of-range range.
    pub fn max_writes(&self, range: core::ops::Range<usize>) -> u32 {
        self.writes
            .get(range)
            .and_then(|w| w.iter().copied().max())
            .unwrap_or(0)
    }
}

impl<const SIZE: usize, const PAGE: usize> ReadStorage for MockEeprom<SIZE, PAGE> {
    type Error = MockFlashError;

    fn read(&mut self, offset: u32, bytes: &mut [u8]) -> Result<(), Self::Error> {
        let o = offset as usize;
        let src = o
            .checked_add(bytes.len())
            .and_then(|end| self.cells.mem.get(o..end))
            .ok_or(MockFlashError::Access(NorFlashErrorKind::OutOfBounds))?;
        bytes.copy_from_slice(src);
        Ok(())
    }

    fn capacity(&self) -> usize {
        SIZE
    }
}

impl<const SIZE: usize, const PAGE: usize> Storage for MockEeprom<SIZE, PAGE> {
    fn write(&mut self, offset: u32, bytes: &[u8]) -> Result<(), Self::Error> {
        let o = offset as usize;
        if o.checked_add(bytes.len()).is_none_or(|end| end > SIZE) {
            return Err(MockFlashError::Access(NorFlashErrorKind::OutOfBounds));
        }
        let page = PAGE.max(1);
        let mut at = o;
        let mut rest = bytes;
        while !rest.is_empty() {
            let room = page - at % page;
            let (chunk, tail) = rest.split_at(room.min(rest.len()));
            self.stats.page_writes += 1;
            for (i, b) in chunk.iter().enumerate() {
                if !self.cells.spend() {
                    return Err(MockFlashError::PowerCut);
                }
                self.cells.mem[at + i] = *b;
                self.writes[at + i] = self.writes[at + i].saturating_add(1);
                self.stats.bytes_written += 1;
            }
            at += chunk.len();
            rest = tail;
        }
        Ok(())
    }
}
