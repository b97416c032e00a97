//! Known-answer tests for the security layer.
//!
//! - Every row of `tests/vectors/aes-cmac-ctr.tsv` (RFC 4493 CMAC, SP 800-38A F.5.1 CTR) and
//!   `tests/vectors/kbkdf-cmac-aes128.tsv` (NIST CAVP KBKDF counter mode, CMAC-AES128).
//! - The crate's own recipes (per-meter keys, the SP 800-108r1 K0 variant, a whole sealed
//!   frame) against values computed independently with Python `cryptography` 48.0 by
//!   `tests/kat/security_kat.py`.

use prepaid_meter::address::Address;
use prepaid_meter::purchase::{CustomerNumber, Purchase};
use prepaid_meter::security::kdf::{
    CounterLocation, Kbkdf, KdfError, KeyPurpose, kbkdf_cmac_aes128, kbkdf_cmac_aes128_k0,
};
use prepaid_meter::security::{
    Command, CommandCounter, MasterKey, MeterSecurity, SecurityConfig, TagLength,
};
use prepaid_meter::security::{KeySet, MeterKeys, ModuleError, SecurityModule, SoftwareModule};
use prepaid_meter::time::Timestamp;
use prepaid_meter::units::Money;

const CMAC_CTR: &str = include_str!("../vectors/aes-cmac-ctr.tsv");
const KBKDF: &str = include_str!("../vectors/kbkdf-cmac-aes128.tsv");

fn hex(s: &str) -> Vec<u8> {
    assert!(s.len().is_multiple_of(2), "odd hex length: {s}");
    (0..s.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(&s[i..i + 2], 16).unwrap())
        .collect()
}

fn key16(s: &str) -> [u8; 16] {
    hex(s).try_into().unwrap()
}

fn rows(file: &str) -> impl Iterator<Item = Vec<&str>> {
    file.lines()
        .filter(|l| !l.starts_with('#') && !l.trim().is_empty())
        .map(|l| l.split('\t').collect())
}

/// The CMAC and CTR rows run through the crate's own path, [`SoftwareModule::seal`], with the
/// vector key as both `K_enc` and `K_mac`: an empty payload leaves the tag
/// `CMAC(K_mac, header)` (header = the message, 16-byte tag), and an empty header with the
/// counter block as given leaves the payload encrypted by AES-CTR.
#[test]
fn aes_cmac_ctr_vectors() {
    let mut count = 0;
    for row in rows(CMAC_CTR) {
        let [name, key, input, expected] = row[..] else {
            panic!("bad row {row:?}")
        };
        let k = key16(key);
        let mut both = [0u8; 48];
        both[..16].copy_from_slice(&k);
        both[16..32].copy_from_slice(&k);
        let module = SoftwareModule::new(0, &MeterKeys::from_bytes(&both));
        if name.starts_with("cmac") {
            let mut tag = [0u8; 16];
            module
                .seal(KeySet::Meter, &[0; 16], &hex(input), &mut [], &mut tag)
                .unwrap();
            assert_eq!(tag.to_vec(), hex(expected), "{name}");
            // And the module verifies it (and nothing else).
            module
                .open(KeySet::Meter, &[0; 16], &hex(input), &mut [], &tag)
                .unwrap();
            tag[15] ^= 1;
            assert_eq!(
                module.open(KeySet::Meter, &[0; 16], &hex(input), &mut [], &tag),
                Err(ModuleError::TagMismatch)
            );
        } else if name.starts_with("ctr") {
            let (iv, plain) = input.split_once('|').unwrap();
            let iv: [u8; 16] = hex(iv).try_into().unwrap();
            let mut buf = hex(plain);
            module
                .seal(KeySet::Meter, &iv, &[], &mut buf, &mut [0u8; 16])
                .unwrap();
            assert_eq!(buf, hex(expected), "{name}");
        } else {
            panic!("unknown vector kind {name}");
        }
        count += 1;
    }
    assert_eq!(count, 5);
}

#[test]
fn kbkdf_cavp_vectors() {
    let mut count = 0;
    for row in rows(KBKDF) {
        let [id, location, r, l, ki, fixed, ko] = row[..] else {
            panic!("bad row {row:?}")
        };
        let location = match location {
            "before" => CounterLocation::Before,
            "after" => CounterLocation::After,
            other => panic!("unknown location {other}"),
        };
        let bits: u8 = r.parse().unwrap();
        let l_bits: usize = l.parse().unwrap();
        assert_eq!(l_bits % 8, 0);
        let mut out = vec![0u8; l_bits / 8];
        kbkdf_cmac_aes128(&key16(ki), &hex(fixed), location, bits, &mut out).unwrap();
        assert_eq!(out, hex(ko), "CAVP count {id}");
        // The same through a kept key schedule.
        let mut again = vec![0u8; l_bits / 8];
        Kbkdf::new(&key16(ki))
            .derive(&hex(fixed), location, bits, &mut again)
            .unwrap();
        assert_eq!(again, out);
        count += 1;
    }
    assert!(count >= 4, "only {count} KBKDF vectors");
}

#[test]
fn meter_keys_match_python_cryptography() {
    // KBKDFCMAC(AES, CounterMode, length 16, rlen 4, llen 4, BeforeFixed, label, context).
    let master = Kbkdf::new(&key16("000102030405060708090a0b0c0d0e0f"));
    let addr: Address = "201000000012".parse().unwrap();
    let expect = [
        (KeyPurpose::Encryption, "17f0fa1411c161d7af5ac118809c98e9"),
        (
            KeyPurpose::Authentication,
            "9cf278d513792164ced8fe42cfcf18b9",
        ),
        (KeyPurpose::Identity, "091a127e96eafc2eaa606f006390ade7"),
    ];
    for (purpose, key) in expect {
        assert_eq!(
            master.meter_key(addr, 1, purpose).as_bytes().to_vec(),
            hex(key),
            "{purpose:?}"
        );
    }
}

#[test]
fn k0_variant_matches_hand_composed_cmac() {
    let ki = key16("2b7e151628aed2a6abf7158809cf4f3c");
    let cases = [
        (
            "6b65792d636f6e74726f6c00636f6e7465787400000080",
            "2398846a6fd936ccb77f40f6d014cc9c",
        ),
        (
            "6b65792d636f6e74726f6c00636f6e7465787400000140",
            "d32e5f506990f9466e0784da8553837048c72d2bae8f88e3c4d113ccadf2db80935e51c9f4e80641",
        ),
    ];
    for (fixed, expect) in cases {
        let mut out = vec![0u8; expect.len() / 2];
        kbkdf_cmac_aes128_k0(&ki, &hex(fixed), 32, &mut out).unwrap();
        assert_eq!(out, hex(expect));
        // K0 changes the output compared with the plain construction.
        let mut plain = vec![0u8; out.len()];
        kbkdf_cmac_aes128(&ki, &hex(fixed), CounterLocation::Before, 32, &mut plain).unwrap();
        assert_ne!(plain, out);
    }
    assert_eq!(
        kbkdf_cmac_aes128_k0(&ki, b"", 12, &mut [0u8; 16]),
        Err(KdfError::CounterWidth)
    );
}

/// A whole frame, built by the Python script from the layout documented in `seal.rs` alone.
#[test]
fn sealed_frame_matches_python_cryptography() {
    let expect = hex(
        "01002010000000120001020800000000000000016553f10000126c1ca04f06a84ccc743b903c83672cf22c\
         cb36aeb7b7eab8163e",
    );
    let master = key16("000102030405060708090a0b0c0d0e0f");
    let addr: Address = "201000000012".parse().unwrap();
    let head_end = MasterKey::new(&master, TagLength::DEFAULT);
    let cmd = Command::Recharge(Purchase {
        amount: Money::from_minor(1_000_000),
        count: 1,
        customer: CustomerNumber::new([0, 0, 0, 0, 0x12, 0x34]),
    });
    let mut counter = CommandCounter::new(1);
    let mut out = [0u8; 64];
    let sealed = head_end
        .meter(addr, 1)
        .seal(
            &mut counter,
            &cmd,
            Timestamp::from_unix(1_700_000_000),
            &mut out,
        )
        .unwrap();
    assert_eq!(out[..sealed.len].to_vec(), expect);

    // And a meter provisioned with the Python-derived keys opens it.
    let mut keys = [0u8; 48];
    keys[..16].copy_from_slice(&hex("17f0fa1411c161d7af5ac118809c98e9"));
    keys[16..32].copy_from_slice(&hex("9cf278d513792164ced8fe42cfcf18b9"));
    keys[32..].copy_from_slice(&hex("091a127e96eafc2eaa606f006390ade7"));
    let module = SoftwareModule::new(1, &MeterKeys::from_bytes(&keys));
    let mut meter = MeterSecurity::new(addr, module, SecurityConfig::DEFAULT).unwrap();
    let mut frame = expect.clone();
    let pending = meter
        .open(&mut frame, Timestamp::from_unix(1_699_999_000))
        .unwrap();
    assert_eq!(pending.command(), &cmd);
}
