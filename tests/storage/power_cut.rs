//! Power-cut sweeps for the meter store, on the crate's simulated NOR flash and EEPROM: cut the
//! power after every possible number of bytes of a commit (inside every erase and every write),
//! restart, and check that the store holds the state before or after that commit, across all
//! areas, never a mix and never a false report of corruption; that the guard never goes back;
//! and that the store keeps working.

use prepaid_meter::mock::{MockEeprom, MockFlash};
use prepaid_meter::storage::{AreaLayout, Eeprom, Found, Medium, MeterStore, Nor, StoreError};

/// Small geometry, so that a few commits go round every ring: NOR sectors of 512 bytes.
pub type Flash = MockFlash<8192, 512, 4>;
pub type Rom = MockEeprom<8192, 64>;

pub const LAYOUT: [AreaLayout; 3] = [
    // root: 3 slots of 160 bytes a page, 4 pages
    AreaLayout {
        base: 0,
        len: 2048,
        max_payload: 96,
    },
    // "freezes": 1 slot a page, 4 pages
    AreaLayout {
        base: 2048,
        len: 2048,
        max_payload: 200,
    },
    // "tariff": 2 pages
    AreaLayout {
        base: 4096,
        len: 1024,
        max_payload: 120,
    },
];

/// The state after `n` commits: the hot bytes, and the freeze and tariff records (a freeze
/// every second commit, a tariff every fifth), all of varying length.
pub fn hot(n: u32) -> Vec<u8> {
    (0..(20 + n * 7) % 60).map(|i| (i * 31 + n) as u8).collect()
}
pub fn freeze(n: u32) -> Option<Vec<u8>> {
    n.is_multiple_of(2)
        .then(|| (0..(50 + n * 13) % 200).map(|i| (i ^ n) as u8).collect())
}
pub fn tariff(n: u32) -> Option<Vec<u8>> {
    n.is_multiple_of(5)
        .then(|| vec![n as u8; 10 + n as usize % 100])
}

/// What the store should read back after commits `0..n` (`n == 0`: nothing).
/// The records of the three areas, as read back.
pub type Contents = (Option<Vec<u8>>, Option<Vec<u8>>, Option<Vec<u8>>);

pub fn expected(n: u32) -> Contents {
    let last = |f: fn(u32) -> Option<Vec<u8>>| (0..n).rev().find_map(f);
    (n.checked_sub(1).map(hot), last(freeze), last(tariff))
}

pub fn commit<M: Medium>(store: &mut MeterStore<M>, n: u32) -> Result<(), StoreError<M::Error>> {
    let f = freeze(n);
    let t = tariff(n);
    let mut records: Vec<(usize, &[u8])> = Vec::new();
    if let Some(f) = &f {
        records.push((1, f));
    }
    if let Some(t) = &t {
        records.push((2, t));
    }
    store
        .commit(&records, &hot(n), u64::from(n) + 1)
        .map(|_| ())
}

pub fn contents<M: Medium>(store: &mut MeterStore<M>) -> Contents {
    let mut buf = [0u8; 256];
    let mut read = |a| store.read(a, &mut buf).unwrap().map(|n| buf[..n].to_vec());
    (read(0), read(1), read(2))
}

/// A medium that can lose power: the two simulated devices.
pub trait Cuttable: Medium + Clone {
    fn cut_after(&mut self, bytes: u64);
    fn power_on(&mut self);
    fn bytes_touched(&self) -> u64;
}

impl<const S: usize, const E: usize, const W: usize> Cuttable for Nor<MockFlash<S, E, W>> {
    fn cut_after(&mut self, bytes: u64) {
        self.0.cut_power_after(bytes);
    }
    fn power_on(&mut self) {
        self.0.restore_power();
    }
    fn bytes_touched(&self) -> u64 {
        let s = self.0.stats();
        s.bytes_written + s.bytes_erased
    }
}

impl<const S: usize, const P: usize> Cuttable for Eeprom<MockEeprom<S, P>> {
    fn cut_after(&mut self, bytes: u64) {
        self.0.cut_power_after(bytes);
    }
    fn power_on(&mut self) {
        self.0.restore_power();
    }
    fn bytes_touched(&self) -> u64 {
        self.0.stats().bytes_written
    }
}

/// For every history of `0..histories` commits, cuts the next commit after every byte it
/// touches, and checks each restart.
fn sweep<M: Cuttable>(fresh: M, histories: u32) {
    let mut device = fresh;
    let mut cuts = 0;
    for n in 0..histories {
        // What commit `n` touches on this device.
        let cost = {
            let before = device.bytes_touched();
            let (mut s, _) = MeterStore::open(device.clone(), &LAYOUT).unwrap();
            commit(&mut s, n).unwrap();
            s.release().bytes_touched() - before
        };
        for budget in 0..=cost {
            let mut d = device.clone();
            d.cut_after(budget);
            let (mut s, _) = MeterStore::open(d, &LAYOUT).unwrap();
            let result = commit(&mut s, n);
            assert_eq!(
                result.is_ok(),
                budget == cost,
                "history {n}, budget {budget}"
            );
            let mut d = s.release();
            d.power_on();
            let (mut s, found) = MeterStore::open(d, &LAYOUT).unwrap();
            let got = contents(&mut s);
            let new = expected(n + 1);
            assert!(
                got == expected(n) || got == new,
                "history {n}, budget {budget}: neither the old nor the new state: {got:?}"
            );
            if result.is_ok() {
                assert_eq!(got, new, "an acknowledged commit is durable");
            }
            // A cut is never reported as corruption, nor a used device as a new one.
            match found {
                Found::Restored => assert!(got.0.is_some()),
                Found::Fresh => assert_eq!(got, expected(0)),
                Found::FellBack(loss) => panic!("history {n}, budget {budget}: {loss:?}"),
            }
            // And the store still works after the cut.
            commit(&mut s, n).unwrap();
            assert_eq!(contents(&mut s), new);
            cuts += 1;
        }
        let (mut s, _) = MeterStore::open(device, &LAYOUT).unwrap();
        commit(&mut s, n).unwrap();
        device = s.release();
    }
    assert!(cuts > 1_000, "the sweep cut {cuts} times");
}

#[test]
fn every_cut_on_nor_flash_leaves_the_old_or_the_new_state() {
    sweep(Nor(Flash::new()), 14);
}

#[test]
fn every_cut_on_eeprom_leaves_the_old_or_the_new_state() {
    sweep(Eeprom(Rom::new()), 14);
}

/// Flips every bit of the newest root slot in turn: the store never hands out damaged bytes,
/// reports what it could not use, and its guard floor never goes below the last commit's.
fn bit_flips<M: Cuttable>(
    fresh: M,
    flip: fn(&mut M, usize, u8),
    root_slot_of_commit: fn(u32) -> usize,
) {
    let mut device = fresh;
    for n in 0..5 {
        let (mut s, _) = MeterStore::open(device, &LAYOUT).unwrap();
        commit(&mut s, n).unwrap();
        device = s.release();
    }
    let slot = root_slot_of_commit(4);
    let (slot_size, _) = MeterStore::open(device.clone(), &LAYOUT)
        .unwrap()
        .0
        .footprint(0)
        .unwrap();
    // The head and the payload (28 bytes of references, then the hot state) are checked; the
    // padding after the payload and the tail (a copy of the head) are not needed when the head
    // is intact.
    let checked = 32 + 28 + hot(4).len();
    for byte in slot..slot + slot_size as usize {
        for bit in 0..8 {
            let mut d = device.clone();
            flip(&mut d, byte, bit);
            let (mut s, found) = MeterStore::open(d, &LAYOUT).unwrap();
            let got = contents(&mut s);
            assert_eq!(
                matches!(found, Found::FellBack(_)),
                byte - slot < checked,
                "byte {byte} bit {bit}: {found:?}"
            );
            match found {
                Found::Restored => assert_eq!(got, expected(5), "byte {byte} bit {bit}"),
                Found::FellBack(loss) => {
                    assert!(loss.corrupt_records >= 1);
                    assert!(
                        loss.guard_floor >= 5,
                        "the guard of the damaged root survives"
                    );
                    if loss.newest_lost {
                        assert_eq!(got, expected(4), "the last good state");
                    } else {
                        assert_eq!(got, expected(5), "a damaged head, repaired from the tail");
                    }
                }
                Found::Fresh => panic!("a damaged device taken for a new one"),
            }
        }
    }
}

#[test]
fn bit_flips_on_nor_flash_are_detected() {
    // Commit `n` writes root slot `n` of the ring: 3 slots a 512-byte page after a 32-byte
    // page header, 160 bytes a slot.
    bit_flips(
        Nor(Flash::new()),
        |d, byte, bit| d.0.flip_bit(byte, bit),
        |n| (n as usize / 3) * 512 + 32 + (n as usize % 3) * 160,
    );
}

#[test]
fn bit_flips_on_eeprom_are_detected() {
    // 160-byte slots, one after the other, written in turn: commit `n` writes slot `n`.
    bit_flips(
        Eeprom(Rom::new()),
        |d, byte, bit| d.0.flip_bit(byte, bit),
        |n| n as usize * 160,
    );
}

#[test]
fn errors_are_typed_and_change_nothing() {
    let bad = |layout: &[AreaLayout]| MeterStore::open(Nor(Flash::new()), layout).err();
    assert_eq!(bad(&[]), Some(StoreError::Layout));
    // Not on a sector boundary; one page only; overlapping; outside the flash; root too small.
    let a = |base, len, max_payload| AreaLayout {
        base,
        len,
        max_payload,
    };
    assert_eq!(bad(&[a(32, 2048, 96)]), Some(StoreError::Layout));
    assert_eq!(bad(&[a(0, 512, 96)]), Some(StoreError::Layout));
    assert_eq!(
        bad(&[a(0, 2048, 96), a(1024, 2048, 96)]),
        Some(StoreError::Layout)
    );
    assert_eq!(bad(&[a(0, 16_384, 96)]), Some(StoreError::Layout));
    assert_eq!(bad(&[a(0, 2048, 20)]), Some(StoreError::Layout));

    let (mut s, found) = MeterStore::open(Nor(Flash::new()), &LAYOUT).unwrap();
    assert_eq!(found, Found::Fresh);
    commit(&mut s, 0).unwrap();
    let before = contents(&mut s);
    let (mut s, _) = MeterStore::open(s.release(), &LAYOUT).unwrap();
    assert_eq!(s.commit(&[], &[0; 69], 9), Err(StoreError::TooLarge));
    assert_eq!(
        s.commit(&[(1, &[0; 201])], b"x", 9),
        Err(StoreError::TooLarge)
    );
    assert_eq!(s.commit(&[(0, b"root")], b"x", 9), Err(StoreError::NoArea));
    assert_eq!(s.commit(&[(3, b"none")], b"x", 9), Err(StoreError::NoArea));
    let mut small = [0u8; 4];
    assert_eq!(s.read(0, &mut small), Err(StoreError::BufferTooSmall));
    assert_eq!(s.read(7, &mut small), Err(StoreError::NoArea));
    let flash = s.release();
    let untouched = flash.0.stats();
    assert!(untouched.bytes_written > 0);
    let (mut s, found) = MeterStore::open(flash, &LAYOUT).unwrap();
    assert_eq!(found, Found::Restored);
    assert_eq!(contents(&mut s), before, "refused commits wrote nothing");
    assert_eq!(s.release().0.stats(), untouched);
}

#[test]
fn a_device_with_only_damaged_records_is_not_new() {
    let (mut s, _) = MeterStore::open(Nor(Flash::new()), &LAYOUT).unwrap();
    commit(&mut s, 0).unwrap();
    let mut flash = s.release();
    // Damage the one root record's payload (after the page header and the record head).
    flash.0.flip_bit(32 + 32 + 3, 0);
    let (mut s, found) = MeterStore::open(flash, &LAYOUT).unwrap();
    let Found::FellBack(loss) = found else {
        panic!("{found:?}");
    };
    assert!(loss.no_state && loss.newest_lost);
    assert_eq!(loss.guard_floor, 1, "the guard survives in the head");
    assert_eq!(contents(&mut s), (None, None, None));
}
