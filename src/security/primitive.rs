//! The two block-cipher modes everything here is built from, over a borrowed, already expanded
//! AES-128 key schedule: AES-CMAC (RFC 4493 / SP 800-38B) and AES-CTR (SP 800-38A) with a 32-bit
//! big-endian block counter in the last four bytes of the counter block.
//!
//! Both come from the RustCrypto `cmac` and `ctr` crates; this module only fixes the types and
//! lets callers pass a message in several parts without copying it together.

use aes::Aes128Enc;
use aes::cipher::{InnerIvInit, KeyInit, StreamCipher, StreamCipherError};
use cmac::digest::InnerInit;
use cmac::{Cmac, Mac};

/// An expanded AES-128 encryption key schedule. Zeroized on drop (the `aes` crate's `zeroize`
/// feature); its `Debug` prints no key bytes.
pub(crate) type Cipher = Aes128Enc;

/// Expands a 16-byte key.
#[inline]
pub(crate) fn expand(key: &[u8; 16]) -> Cipher {
    Aes128Enc::new(key.into())
}

/// A CMAC computation under a borrowed key schedule.
pub(crate) type CmacState<'k> = Cmac<&'k Aes128Enc>;

/// Starts a CMAC computation under `key`.
#[inline]
pub(crate) fn cmac_start(key: &Cipher) -> CmacState<'_> {
    Cmac::inner_init(key)
}

/// The full 16-byte CMAC of the concatenation of `parts`.
#[inline]
pub(crate) fn cmac(key: &Cipher, parts: &[&[u8]]) -> [u8; 16] {
    let mut mac = cmac_start(key);
    for part in parts {
        mac.update(part);
    }
    mac.finalize().into_bytes().into()
}

/// `true` if the leftmost `tag.len()` bytes of the CMAC of `parts` equal `tag`, compared in
/// constant time. An empty or over-long tag never verifies.
#[inline]
pub(crate) fn cmac_verify_left(key: &Cipher, parts: &[&[u8]], tag: &[u8]) -> bool {
    let mut mac = cmac_start(key);
    for part in parts {
        mac.update(part);
    }
    mac.verify_truncated_left(tag).is_ok()
}

/// XORs `buf` with the AES-CTR keystream that starts at `counter_block`; the last four bytes of
/// the block are a big-endian block counter. Callers rule out running past the last counter
/// value by bounding the length; should it happen anyway, `buf` is left as it was and the error
/// returned (`try_apply_keystream` rather than `apply_keystream`, which would panic).
#[inline]
pub(crate) fn ctr_apply(
    key: &Cipher,
    counter_block: &[u8; 16],
    buf: &mut [u8],
) -> Result<(), StreamCipherError> {
    let core =
        ctr::CtrCore::<&Aes128Enc, ctr::flavors::Ctr32BE>::inner_iv_init(key, counter_block.into());
    ctr::Ctr32BE::from_core(core).try_apply_keystream(buf)
}

#[cfg(test)]
mod tests {
    use super::*;

    // RFC 4493 example 2 and SP 800-38A F.5.1 block 1; the whole files of vectors run in
    // tests/security_vectors.rs.
    #[test]
    fn known_answers() {
        let k = expand(&[
            0x2b, 0x7e, 0x15, 0x16, 0x28, 0xae, 0xd2, 0xa6, 0xab, 0xf7, 0x15, 0x88, 0x09, 0xcf,
            0x4f, 0x3c,
        ]);
        let m = [
            0x6b, 0xc1, 0xbe, 0xe2, 0x2e, 0x40, 0x9f, 0x96, 0xe9, 0x3d, 0x7e, 0x11, 0x73, 0x93,
            0x17, 0x2a,
        ];
        let t = [
            0x07, 0x0a, 0x16, 0xb4, 0x6b, 0x4d, 0x41, 0x44, 0xf7, 0x9b, 0xdd, 0x9d, 0xd0, 0x4a,
            0x28, 0x7c,
        ];
        assert_eq!(cmac(&k, &[&m]), t);
        assert_eq!(cmac(&k, &[&m[..5], &m[5..]]), t);
        assert!(cmac_verify_left(&k, &[&m], &t[..8]));
        assert!(!cmac_verify_left(&k, &[&m], &t[1..9]));
        assert!(!cmac_verify_left(&k, &[&m], &[]));

        let mut cb = [0u8; 16];
        for (i, b) in cb.iter_mut().enumerate() {
            *b = 0xf0 + i as u8;
        }
        let mut buf = m;
        ctr_apply(&k, &cb, &mut buf).unwrap();
        assert_eq!(
            buf,
            [
                0x87, 0x4d, 0x61, 0x91, 0xb6, 0x20, 0xe3, 0x26, 0x1b, 0xef, 0x68, 0x64, 0x99, 0x0d,
                0xb6, 0xce
            ]
        );
    }
}
