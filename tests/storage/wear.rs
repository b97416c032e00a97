//! Wear of a simulated day on the crate's simulated NOR flash and EEPROM, for the figures in
//! the `storage` module docs: a save every 0.01 kWh of 10 kWh a day or every 15 minutes
//! (about 1 100 root records), 24 hourly freezes, 3 purchases.
//! `cargo test --features storage --test storage wear -- --nocapture` prints them.

use prepaid_meter::mock::{MockEeprom, MockFlash};
use prepaid_meter::storage::{AreaLayout, Eeprom, Found, Medium, MeterStore, Nor};

const HOT: usize = 420;
const FREEZES: usize = 5_717;
const ROOT_SAVES: u32 = 1_000 + 96 + 3;
const DAYS: u32 = 3;

fn day<M: Medium>(store: &mut MeterStore<M>) {
    let hot = [0x5Au8; HOT];
    let freezes = [0xA5u8; FREEZES];
    for n in 0..ROOT_SAVES {
        // The hourly freezes come with their own root record.
        let frozen = n % (ROOT_SAVES / 24) == 0;
        let records: &[(usize, &[u8])] = if frozen { &[(1, &freezes)] } else { &[] };
        let _ = store.commit(records, &hot, u64::from(n)).unwrap();
        store.ready().unwrap();
    }
}

/// Runs `f` on a thread with room for the simulated devices, which live on the stack.
pub fn with_stack(f: fn()) {
    std::thread::Builder::new()
        .stack_size(64 << 20)
        .spawn(f)
        .unwrap()
        .join()
        .unwrap();
}

#[test]
fn wear_on_nor_flash_of_a_simulated_day() {
    with_stack(nor_day);
}

#[test]
fn wear_on_eeprom_of_a_simulated_day() {
    with_stack(eeprom_day);
}

fn nor_day() {
    // 64 KiB root area (16 sectors of 4 KiB, 7 slots each), 16 KiB of freezes (2 pages).
    let layout = [
        AreaLayout {
            base: 0,
            len: 64 * 1024,
            max_payload: 448,
        },
        AreaLayout {
            base: 64 * 1024,
            len: 32 * 1024,
            max_payload: 5_760,
        },
    ];
    let flash: MockFlash<{ 96 * 1024 }, 4096, 4> = MockFlash::new();
    let (mut store, found) = MeterStore::open(Nor(flash), &layout).unwrap();
    assert_eq!(found, Found::Fresh);
    assert_eq!(store.footprint(0), Some((512, 4096)));
    for _ in 0..DAYS {
        day(&mut store);
    }
    let root = store.erase_count(0).unwrap();
    let freezes = store.erase_count(1).unwrap();
    let years = 100_000 * DAYS / root / 365;
    eprintln!(
        "NOR: root sectors erased at most {root} times in {DAYS} days ({} a day: {years} years \
         at 100 000 cycles); freeze pages at most {freezes} times",
        root / DAYS
    );
    assert!(years >= 25, "{years} years");
    assert!(100_000 * DAYS / freezes.max(1) / 365 >= 25);
    let (_, found) = MeterStore::open(store.release(), &layout).unwrap();
    assert_eq!(found, Found::Restored);
}

fn eeprom_day() {
    // A 24C256: 16 KiB root area (32 slots of 512 bytes), 12 KiB of freezes (2 slots).
    let layout = [
        AreaLayout {
            base: 0,
            len: 16 * 1024,
            max_payload: 448,
        },
        AreaLayout {
            base: 16 * 1024,
            len: 12 * 1024,
            max_payload: 5_760,
        },
    ];
    let rom: MockEeprom<32_768, 64> = MockEeprom::new();
    let (mut store, found) = MeterStore::open(Eeprom(rom), &layout).unwrap();
    assert_eq!(found, Found::Fresh);
    for _ in 0..DAYS {
        day(&mut store);
    }
    let rom = store.release();
    let root = rom.0.max_writes(0..16 * 1024);
    let freezes = rom.0.max_writes(16 * 1024..28 * 1024);
    let years = 1_000_000 * DAYS / root / 365;
    let cycles = rom.0.stats().page_writes / u64::from(DAYS);
    eprintln!(
        "EEPROM: a root byte written at most {root} times in {DAYS} days ({} a day: {years} \
         years at 1 000 000 cycles); a freeze byte at most {freezes} times; {cycles} write \
         cycles a day",
        root / DAYS
    );
    assert!(years >= 35, "{years} years");
    let (_, found) = MeterStore::open(rom, &layout).unwrap();
    assert_eq!(found, Found::Restored);
}

/// The power-fail fast path after `ready`: one root record of a 420-byte hot state is 16
/// writes of 32 bytes and no erase on NOR, 16 write cycles on EEPROM (the hold-up figures in
/// the module docs), whichever slot of the ring comes next.
#[test]
fn the_fast_path_only_writes() {
    with_stack(|| {
        let layout = [AreaLayout {
            base: 0,
            len: 16 * 1024,
            max_payload: 448,
        }];
        let flash: MockFlash<{ 16 * 1024 }, 4096, 4> = MockFlash::new();
        let (mut nor, _) = MeterStore::open(Nor(flash), &layout).unwrap();
        let rom: MockEeprom<{ 16 * 1024 }, 64> = MockEeprom::new();
        let (mut eeprom, _) = MeterStore::open(Eeprom(rom), &layout).unwrap();
        for n in 0..40 {
            nor.ready().unwrap();
            eeprom.ready().unwrap();
            let (f, e) = (nor.medium().0.stats(), eeprom.medium().0.stats());
            let _ = nor.commit(&[], &[7; HOT], n).unwrap();
            let _ = eeprom.commit(&[], &[7; HOT], n).unwrap();
            let (f2, e2) = (nor.medium().0.stats(), eeprom.medium().0.stats());
            assert_eq!(f2.writes - f.writes, 16, "commit {n}");
            assert_eq!(f2.bytes_erased, f.bytes_erased, "commit {n}");
            assert_eq!(e2.page_writes - e.page_writes, 16, "commit {n}");
        }
    });
}
