//! Loading a record from arbitrary flash contents never panics, and whatever loads is exactly
//! what a save of the same record would have stored; after any contents, a save followed by a
//! load gives the saved record back.
#![no_main]

use libfuzzer_sys::fuzz_target;
use prepaid_meter::mock::MockFlash;
use prepaid_meter::storage::RecordStore;

const SECTOR: usize = 128;

fuzz_target!(|data: &[u8]| {
    let flash = MockFlash::<{ 2 * SECTOR }, SECTOR, 4>::with_contents(data);
    let mut store = RecordStore::new(flash, 0).expect("geometry is valid");
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
