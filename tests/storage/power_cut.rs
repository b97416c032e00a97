//! Power-cut sweep for the NOR flash record store: cut the power after every possible number of
//! flash operations, and at every byte within the operation that is cut, then "reboot" and
//! check that the store holds the previous or the new record, never anything else.
#![cfg(feature = "storage")]

use prepaid_meter::mock::{MockFlash, MockFlashError};
use prepaid_meter::storage::{RecordStore, StorageError};

const SECTOR: usize = 256;
const CAPACITY: usize = 4 * SECTOR;

/// NOR flash in RAM whose power fails after a budget of bytes written or erased.
type CutFlash = MockFlash<CAPACITY, SECTOR, 4>;

fn record(n: u32) -> Vec<u8> {
    // Records of varying length, so partial chunks and padding are exercised.
    (0..(40 + n as usize * 7) % 200)
        .map(|i| (i as u32 * 31 + n) as u8)
        .collect()
}

#[test]
fn every_cut_leaves_the_old_or_the_new_record() {
    for history in 0..3u32 {
        // Build a flash that has seen `history` saves.
        let mut flash = CutFlash::new();
        {
            let mut store = RecordStore::new(&mut flash, SECTOR as u32).unwrap();
            for n in 0..history {
                store.save(3, &record(n)).unwrap();
            }
        }
        let new = record(history);
        let old = history.checked_sub(1).map(record);
        // The bytes one save touches: one sector erased, header and padded data written.
        let full_cost = SECTOR + 32 + new.len().div_ceil(32) * 32;
        let mut outcomes = [0usize; 2];
        for budget in 0..=full_cost {
            let mut f = flash.clone();
            f.cut_power_after(budget as u64);
            let result = RecordStore::new(&mut f, SECTOR as u32)
                .unwrap()
                .save(3, &new);
            if budget < full_cost {
                assert_eq!(
                    result,
                    Err(StorageError::Flash(MockFlashError::PowerCut)),
                    "budget {budget}"
                );
            } else {
                assert_eq!(result, Ok(()));
            }
            // Power back: a fresh store over what the flash now holds.
            f.restore_power();
            let mut store = RecordStore::new(&mut f, SECTOR as u32).unwrap();
            let mut buf = [0u8; 256];
            let loaded = store.load(&mut buf).unwrap().map(|r| r.data.to_vec());
            if loaded.as_deref() == Some(&new[..]) {
                outcomes[1] += 1;
            } else {
                assert_eq!(
                    loaded, old,
                    "history {history}, budget {budget}: neither old nor new"
                );
                outcomes[0] += 1;
            }
            // And the store still works after the cut.
            store.save(3, b"after").unwrap();
            assert_eq!(store.load(&mut buf).unwrap().unwrap().data, b"after");
        }
        assert!(
            outcomes[0] > 0 && outcomes[1] > 0,
            "both outcomes occur: {outcomes:?}"
        );
    }
}

#[test]
fn sequence_alternates_slots_and_survives_many_saves() {
    let mut flash = CutFlash::new();
    let mut store = RecordStore::new(&mut flash, 0).unwrap();
    let mut buf = [0u8; 256];
    for n in 0..50u32 {
        store.save(1, &record(n)).unwrap();
        let r = store.load(&mut buf).unwrap().unwrap();
        assert_eq!(
            (r.data, r.sequence, r.schema_version),
            (&record(n)[..], n, 1)
        );
    }
}

#[test]
fn errors_are_typed() {
    let mut flash = CutFlash::new();
    assert!(matches!(
        RecordStore::new(&mut flash, 100),
        Err(StorageError::Geometry)
    ));
    assert!(matches!(
        RecordStore::new(&mut flash, 3 * SECTOR as u32),
        Err(StorageError::Geometry)
    ));
    let mut store = RecordStore::new(&mut flash, 0).unwrap();
    assert_eq!(
        store.save(1, &[0u8; SECTOR - 31]),
        Err(StorageError::TooLarge)
    );
    store.save(1, &[7u8; 100]).unwrap();
    let mut small = [0u8; 99];
    assert_eq!(store.load(&mut small), Err(StorageError::BufferTooSmall));
    // A corrupted data byte in the newest slot falls back to the older record.
    store.save(1, &[8u8; 100]).unwrap();
    let _ = store.release();
    flash.contents_mut()[SECTOR + 32 + 5] = 0; // slot 1 holds the newest record
    let mut store = RecordStore::new(&mut flash, 0).unwrap();
    let mut buf = [0u8; 128];
    assert_eq!(store.load(&mut buf).unwrap().unwrap().data, &[7u8; 100][..]);
}
