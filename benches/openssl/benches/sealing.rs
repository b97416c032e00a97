//! The crate's sealing against OpenSSL 3, in one run, for the same work:
//!
//! - `cmac_26_bytes`: a CMAC of 26 bytes under a key kept between messages (the crate: one
//!   block of its counter-mode KDF, `Kbkdf::derive`, which is `CMAC(K, [1]_32 || 22 bytes)`;
//!   OpenSSL: an `EVP_MAC` CMAC context keyed once and re-initialised per message);
//! - `seal_32_bytes`: encrypt-then-MAC of a 32-byte payload under a 26-byte header, an 8-byte
//!   tag, the crate's sealed format (the crate: `SoftwareModule::seal`; OpenSSL: AES-128-CTR
//!   through a kept `EVP_CIPHER_CTX` given a new IV, then the CMAC of header and ciphertext);
//! - `open_32_bytes`: verify-then-decrypt of the same (the crate: `SoftwareModule::open`;
//!   OpenSSL: the CMAC, `CRYPTO_memcmp` of the tag, then CTR).
//!
//! Keys are expanded once and kept in both, as a meter or a head-end keeps them. Each pair is
//! checked to give the same bytes before it is timed.
//!
//! Run with `cargo bench` in this directory (it needs OpenSSL 3's headers: `libssl-dev`).
//! `benches/README.md` says how to read the figures.

use std::ffi::CString;
use std::ptr;

use divan::{Bencher, black_box};
use openssl::cipher::Cipher;
use openssl::cipher_ctx::CipherCtx;
use prepaid_meter::security::kdf::{CounterLocation, Kbkdf, SecretKey};
use prepaid_meter::security::{KeySet, MeterKeys, SecurityModule, SoftwareModule};

fn main() {
    check_same_results();
    divan::main();
}

const KEY: [u8; 16] = [
    0x2b, 0x7e, 0x15, 0x16, 0x28, 0xae, 0xd2, 0xa6, 0xab, 0xf7, 0x15, 0x88, 0x09, 0xcf, 0x4f, 0x3c,
];
const HEADER: [u8; 26] = [0x11; 26];
const TAG_LEN: usize = 8;

fn keys() -> MeterKeys {
    MeterKeys {
        enc: SecretKey::from_bytes([0x5A; 16]),
        mac: SecretKey::from_bytes(KEY),
        auth: SecretKey::from_bytes([0xA5; 16]),
    }
}

fn counter_block(n: u32) -> [u8; 16] {
    let mut cb = [0u8; 16];
    cb[6..10].copy_from_slice(&n.to_be_bytes());
    cb
}

// In libcrypto 3, not declared by `openssl-sys`.
unsafe extern "C" {
    fn OSSL_PARAM_construct_utf8_string(
        key: *const std::ffi::c_char,
        buf: *mut std::ffi::c_char,
        bsize: usize,
    ) -> openssl_sys::OSSL_PARAM;
}

/// A CMAC context of OpenSSL 3 (`EVP_MAC`), keyed once.
struct OsslCmac {
    ctx: *mut openssl_sys::EVP_MAC_CTX,
}

impl OsslCmac {
    fn new(key: &[u8; 16]) -> OsslCmac {
        let name = CString::new("CMAC").unwrap();
        let cipher_key = CString::new("cipher").unwrap();
        let cipher = CString::new("AES-128-CBC").unwrap();
        // SAFETY: the calls follow OpenSSL 3's EVP_MAC documentation; every pointer passed
        // lives until the call returns, and the results are checked.
        unsafe {
            let mac = openssl_sys::EVP_MAC_fetch(ptr::null_mut(), name.as_ptr(), ptr::null());
            assert!(!mac.is_null(), "EVP_MAC_fetch(CMAC)");
            let ctx = openssl_sys::EVP_MAC_CTX_new(mac);
            openssl_sys::EVP_MAC_free(mac);
            assert!(!ctx.is_null(), "EVP_MAC_CTX_new");
            let params = [
                OSSL_PARAM_construct_utf8_string(cipher_key.as_ptr(), cipher.as_ptr() as *mut _, 0),
                openssl_sys::OSSL_PARAM_construct_end(),
            ];
            let ok = openssl_sys::EVP_MAC_init(ctx, key.as_ptr(), key.len(), params.as_ptr());
            assert_eq!(ok, 1, "EVP_MAC_init");
            OsslCmac { ctx }
        }
    }

    /// The CMAC of the concatenation of `parts` under the kept key.
    fn mac(&mut self, parts: &[&[u8]]) -> [u8; 16] {
        let mut out = [0u8; 16];
        let mut len = 0usize;
        // SAFETY: `ctx` is a keyed context; a null key re-initialises it with that key.
        unsafe {
            let ok = openssl_sys::EVP_MAC_init(self.ctx, ptr::null(), 0, ptr::null());
            debug_assert_eq!(ok, 1);
            for p in parts {
                openssl_sys::EVP_MAC_update(self.ctx, p.as_ptr(), p.len());
            }
            openssl_sys::EVP_MAC_final(self.ctx, out.as_mut_ptr(), &mut len, out.len());
        }
        debug_assert_eq!(len, 16);
        out
    }
}

impl Drop for OsslCmac {
    fn drop(&mut self) {
        // SAFETY: `ctx` came from EVP_MAC_CTX_new and is freed once.
        unsafe { openssl_sys::EVP_MAC_CTX_free(self.ctx) }
    }
}

/// The sealed format's encrypt-then-MAC in OpenSSL: a kept CTR context and a kept CMAC.
struct OsslSealer {
    ctr: CipherCtx,
    cmac: OsslCmac,
}

impl OsslSealer {
    fn new(keys: &MeterKeys) -> OsslSealer {
        let mut ctr = CipherCtx::new().unwrap();
        ctr.encrypt_init(Some(Cipher::aes_128_ctr()), Some(keys.enc.as_bytes()), None)
            .unwrap();
        OsslSealer {
            ctr,
            cmac: OsslCmac::new(keys.mac.as_bytes()),
        }
    }

    fn ctr(&mut self, cb: &[u8; 16], payload: &mut [u8]) {
        self.ctr.encrypt_init(None, None, Some(cb)).unwrap();
        let mut out = [0u8; 64];
        let n = self.ctr.cipher_update(payload, Some(&mut out)).unwrap();
        payload.copy_from_slice(&out[..n]);
    }

    fn seal(&mut self, cb: &[u8; 16], header: &[u8], payload: &mut [u8], tag: &mut [u8]) {
        self.ctr(cb, payload);
        let full = self.cmac.mac(&[header, payload]);
        tag.copy_from_slice(&full[..tag.len()]);
    }

    fn open(&mut self, cb: &[u8; 16], header: &[u8], payload: &mut [u8], tag: &[u8]) -> bool {
        let full = self.cmac.mac(&[header, payload]);
        if !openssl::memcmp::eq(&full[..tag.len()], tag) {
            return false;
        }
        self.ctr(cb, payload);
        true
    }
}

/// Both sides compute the same bytes: the CMAC of RFC 4493's example 2 and the same sealed
/// payload and tag.
fn check_same_results() {
    let kdf = Kbkdf::new(&KEY);
    let fixed = [0x6b; 22];
    let mut ours = [0u8; 16];
    kdf.derive(&fixed, CounterLocation::Before, 32, &mut ours)
        .unwrap();
    let mut msg = [0u8; 26];
    msg[..4].copy_from_slice(&1u32.to_be_bytes());
    msg[4..].copy_from_slice(&fixed);
    assert_eq!(OsslCmac::new(&KEY).mac(&[&msg]), ours, "CMAC");

    let keys = keys();
    let module = SoftwareModule::new(1, &keys);
    let mut peer = OsslSealer::new(&keys);
    let cb = counter_block(7);
    let (mut a, mut b) = ([0x22u8; 32], [0x22u8; 32]);
    let (mut ta, mut tb) = ([0u8; TAG_LEN], [0u8; TAG_LEN]);
    module
        .seal(KeySet::Meter, &cb, &HEADER, &mut a, &mut ta)
        .unwrap();
    peer.seal(&cb, &HEADER, &mut b, &mut tb);
    assert_eq!((a, ta), (b, tb), "seal");
    assert!(peer.open(&cb, &HEADER, &mut b, &tb));
    module
        .open(KeySet::Meter, &cb, &HEADER, &mut a, &ta)
        .unwrap();
    assert_eq!(a, [0x22; 32], "open");
    assert_eq!(b, [0x22; 32], "open");
}

mod cmac_26_bytes {
    use super::*;

    #[divan::bench]
    fn crate_kept_key(bencher: Bencher) {
        let kdf = Kbkdf::new(&KEY);
        let mut fixed = [0x6b; 22];
        let mut out = [0u8; 16];
        let mut n = 0u32;
        bencher.bench_local(|| {
            n = n.wrapping_add(1);
            fixed[..4].copy_from_slice(&n.to_be_bytes());
            let r = kdf.derive(black_box(&fixed), CounterLocation::Before, 32, &mut out);
            black_box((r.is_ok(), &out));
        });
    }

    #[divan::bench]
    fn openssl_kept_key(bencher: Bencher) {
        let mut mac = OsslCmac::new(&KEY);
        let mut msg = [0x6b; 26];
        msg[..4].copy_from_slice(&1u32.to_be_bytes());
        let mut n = 0u32;
        bencher.bench_local(|| {
            n = n.wrapping_add(1);
            msg[4..8].copy_from_slice(&n.to_be_bytes());
            black_box(mac.mac(&[black_box(&msg)]));
        });
    }
}

mod seal_32_bytes {
    use super::*;

    #[divan::bench]
    fn crate_module(bencher: Bencher) {
        let module = SoftwareModule::new(1, &keys());
        let mut payload = [0x22u8; 32];
        let mut tag = [0u8; TAG_LEN];
        let mut n = 0u32;
        bencher.bench_local(|| {
            n = n.wrapping_add(1);
            let r = module.seal(
                KeySet::Meter,
                &counter_block(n),
                &HEADER,
                &mut payload,
                &mut tag,
            );
            black_box((r.is_ok(), &payload, &tag));
        });
    }

    #[divan::bench]
    fn openssl(bencher: Bencher) {
        let mut peer = OsslSealer::new(&keys());
        let mut payload = [0x22u8; 32];
        let mut tag = [0u8; TAG_LEN];
        let mut n = 0u32;
        bencher.bench_local(|| {
            n = n.wrapping_add(1);
            peer.seal(&counter_block(n), &HEADER, &mut payload, &mut tag);
            black_box((&payload, &tag));
        });
    }
}

mod open_32_bytes {
    use super::*;

    /// A sealed payload and its tag, opened again every iteration (the payload is sealed anew
    /// after each open, outside the timed part's count: both sides pay the same).
    fn sealed(n: u32) -> ([u8; 32], [u8; TAG_LEN]) {
        let module = SoftwareModule::new(1, &keys());
        let mut payload = [0x22u8; 32];
        let mut tag = [0u8; TAG_LEN];
        module
            .seal(
                KeySet::Meter,
                &counter_block(n),
                &HEADER,
                &mut payload,
                &mut tag,
            )
            .unwrap();
        (payload, tag)
    }

    #[divan::bench]
    fn crate_module(bencher: Bencher) {
        let module = SoftwareModule::new(1, &keys());
        let (frame, tag) = sealed(9);
        let cb = counter_block(9);
        bencher.with_inputs(|| frame).bench_local_refs(|payload| {
            let r = module.open(KeySet::Meter, &cb, &HEADER, payload, &tag);
            black_box(r.is_ok());
        });
    }

    #[divan::bench]
    fn openssl(bencher: Bencher) {
        let mut peer = OsslSealer::new(&keys());
        let (frame, tag) = sealed(9);
        let cb = counter_block(9);
        bencher.with_inputs(|| frame).bench_local_refs(|payload| {
            let ok = peer.open(&cb, &HEADER, payload, &tag);
            black_box(ok);
        });
    }
}
