//! Security hot paths: per-meter key derivation (head-end) and seal plus open of a 32-byte
//! command (head-end seals, meter opens and commits).
//!
//! Run with `cargo bench --bench security`.

use divan::{Bencher, black_box, counter::ItemsCount};
use prepaid_meter::address::Address;
use prepaid_meter::security::kdf::{CounterLocation, Kbkdf, KeyPurpose, kbkdf_cmac_aes128};
use prepaid_meter::security::{
    Command, CommandCounter, MasterKey, MeterSecurity, SecurityConfig, SoftwareModule, TagLength,
};
use prepaid_meter::security::{KeySet, SecurityModule};
use prepaid_meter::time::Timestamp;

fn main() {
    divan::main();
}

const MASTER: [u8; 16] = [0x42; 16];

fn address(n: u64) -> Address {
    Address::from_number(n % 1_000_000_000_000).unwrap_or(Address::WILDCARD)
}

/// One per-meter key (one CMAC call under the kept master schedule), a different meter each
/// time.
#[divan::bench]
fn meter_key(bencher: Bencher) {
    let master = Kbkdf::new(&MASTER);
    let mut n = 0u64;
    bencher.counter(ItemsCount::new(1usize)).bench_local(|| {
        n += 1;
        master.meter_key(black_box(address(n)), 1, KeyPurpose::Encryption)
    });
}

/// A head-end's whole context for a meter: its three keys derived and expanded.
#[divan::bench]
fn meter_context_three_keys(bencher: Bencher) {
    let head_end = MasterKey::new(&MASTER, TagLength::DEFAULT);
    let mut n = 0u64;
    bencher.counter(ItemsCount::new(1usize)).bench_local(|| {
        n += 1;
        head_end.meter(black_box(address(n)), 1)
    });
}

/// The generic KBKDF with a fresh key each call (key expansion included), 16-byte output:
/// the setting of the OpenSSL comparison.
#[divan::bench]
fn kbkdf_fresh_key(bencher: Bencher) {
    let mut key = [0u8; 16];
    let fixed = [0x5Au8; 21];
    let mut out = [0u8; 16];
    let mut n = 0u32;
    bencher.counter(ItemsCount::new(1usize)).bench_local(|| {
        n = n.wrapping_add(1);
        key[..4].copy_from_slice(&n.to_be_bytes());
        let r = kbkdf_cmac_aes128(&key, &fixed, CounterLocation::Before, 32, &mut out);
        black_box((&r, &out));
    });
}

/// Seal (head-end, counter mode) plus open and commit (meter) of a command with a 32-byte
/// payload; the counter advances every iteration, as in service.
#[divan::bench]
fn seal_and_open_32_bytes(bencher: Bencher) {
    let addr = address(201_000_000_012);
    let head_end = MasterKey::new(&MASTER, TagLength::DEFAULT);
    let sealer = head_end.meter(addr, 1);
    let keys = head_end.meter_keys(addr, 1);
    let Ok(mut meter) =
        MeterSecurity::new(addr, SoftwareModule::new(1, &keys), SecurityConfig::DEFAULT)
    else {
        return;
    };
    let data = [0xA5u8; 28]; // 4-byte identifier + 28 bytes = 32-byte payload
    let cmd = Command::WriteParameter {
        id: 0x0400_0101,
        data: &data,
    };
    let mut counter = CommandCounter::new(1);
    let now = Timestamp::from_unix(1_720_000_000);
    let deadline = Timestamp::from_unix(1_720_003_600);
    let mut frame = [0u8; 26 + 32 + 8];
    bencher.counter(ItemsCount::new(1usize)).bench_local(|| {
        let sealed = sealer.seal(&mut counter, &cmd, deadline, &mut frame);
        let opened = meter.open(&mut frame, now).map(|p| {
            let _ = p.commit();
        });
        black_box((sealed.is_ok(), opened.is_ok()));
    });
}

/// The module operations alone: encrypt-then-MAC and verify-then-decrypt of 32 bytes under
/// a 26-byte header.
#[divan::bench]
fn module_seal_and_open_32_bytes(bencher: Bencher) {
    let head_end = MasterKey::new(&MASTER, TagLength::DEFAULT);
    let keys = head_end.meter_keys(address(7), 1);
    let module = SoftwareModule::new(1, &keys);
    let header = [0x11u8; 26];
    let mut payload = [0x22u8; 32];
    let mut tag = [0u8; 8];
    let mut cb = [0u8; 16];
    let mut n = 0u32;
    bencher.counter(ItemsCount::new(1usize)).bench_local(|| {
        n = n.wrapping_add(1);
        cb[6..10].copy_from_slice(&n.to_be_bytes());
        let a = module.seal(KeySet::Meter, &cb, &header, &mut payload, &mut tag);
        let b = module.open(KeySet::Meter, &cb, &header, &mut payload, &tag);
        black_box((a.is_ok(), b.is_ok()));
    });
}
