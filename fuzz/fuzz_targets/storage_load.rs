//! Opening a meter store over arbitrary contents of the simulated NOR flash or EEPROM never
//! panics; what it restores reads back with its CRC intact (opening never hands out a record
//! that fails its check); and after any contents, a commit followed by a restart restores
//! exactly what was committed.
#![no_main]

use libfuzzer_sys::fuzz_target;
use prepaid_meter::mock::{MockEeprom, MockFlash};
use prepaid_meter::storage::{AreaLayout, Eeprom, Found, Medium, MeterStore, Nor, StoreError};

const LAYOUT: [AreaLayout; 2] = [
    AreaLayout {
        base: 0,
        len: 1024,
        max_payload: 96,
    },
    AreaLayout {
        base: 1024,
        len: 1024,
        max_payload: 200,
    },
];

fn check<M: Medium>(medium: M, data: &[u8]) {
    let (mut store, found) = MeterStore::open(medium, &LAYOUT).expect("the layout suits");
    let mut buf = [0u8; 256];
    for area in 0..2 {
        match store.read(area, &mut buf) {
            Ok(_) => {}
            Err(e) => panic!("area {area} after {found:?}: {e:?}"),
        }
    }
    if found == Found::Fresh {
        assert_eq!(store.read(0, &mut buf).ok(), Some(None));
    }
    let hot = data.get(..data.len().min(60)).unwrap_or(&[]);
    let cold = data.get(..data.len().min(200)).unwrap_or(&[]);
    match store.commit(&[(1, cold)], hot, 9) {
        Ok(_) => {}
        // Arbitrary contents can hold a sequence number near the end of its range.
        Err(StoreError::Exhausted) => return,
        Err(e) => panic!("commit: {e:?}"),
    }
    let (mut store, found) = MeterStore::open(store.release(), &LAYOUT).expect("the layout suits");
    assert!(found != Found::Fresh);
    let n = store
        .read(0, &mut buf)
        .expect("readable")
        .expect("committed");
    assert_eq!(&buf[..n], hot);
    let n = store
        .read(1, &mut buf)
        .expect("readable")
        .expect("committed");
    assert_eq!(&buf[..n], cold);
}

fuzz_target!(|data: &[u8]| {
    check(Nor(MockFlash::<2048, 256, 4>::with_contents(data)), data);
    check(Eeprom(MockEeprom::<2048, 32>::with_contents(data)), data);
});
