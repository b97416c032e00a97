//! The two block-cipher modes everything here is built from, over a borrowed, already expanded
//! AES-128 key schedule: AES-CMAC (RFC 4493 / SP 800-38B) and AES-CTR (SP 800-38A) with a 32-bit
//! big-endian block counter in the last four bytes of the counter block.
//!
//! AES is the RustCrypto `aes` crate's and CTR the `ctr` crate's; CMAC is written here over the
//! `aes` block function, in one pass through the cipher's backend per message (see
//! [`cmac_iter`]), and is checked against the RFC 4493 and SP 800-38B vectors and, for every
//! length and split, against the `cmac` crate. Callers pass a message in several parts without
//! copying it together.

use aes::Aes128Enc;
use aes::cipher::consts::U16;
use aes::cipher::{
    Block, BlockCipherEncBackend, BlockCipherEncClosure, BlockCipherEncrypt, BlockSizeUser,
    InnerIvInit, KeyInit, StreamCipher, StreamCipherError,
};
use subtle::ConstantTimeEq;
use zeroize::Zeroize;

/// An expanded AES-128 encryption key schedule. Zeroized on drop (the `aes` crate's `zeroize`
/// feature); its `Debug` prints no key bytes.
pub(crate) type Cipher = Aes128Enc;

/// Expands a 16-byte key.
#[inline]
pub(crate) fn expand(key: &[u8; 16]) -> Cipher {
    Aes128Enc::new(key.into())
}

/// The subkey step of CMAC (SP 800-38B 6.1): `block` doubled in GF(2^128).
#[inline(always)]
fn double(block: &[u8; 16]) -> [u8; 16] {
    let v = u128::from_be_bytes(*block);
    let carry = (v >> 127) as u8;
    // 0x87 when the top bit was set, in constant time.
    (v << 1 ^ u128::from(carry.wrapping_neg() & 0x87)).to_be_bytes()
}

/// One CMAC (RFC 4493 / SP 800-38B) over the concatenation of the slices `parts` yields, in
/// a single pass through the cipher's backend: the subkeys, the chain and the last block all
/// run inside one [`BlockCipherEncrypt::encrypt_with_backend`] call, so the backend's set-up
/// (CPU feature dispatch, round keys loaded into registers) is paid once per message rather
/// than once per block. The block function is the `aes` crate's.
struct CmacPass<'o, I> {
    parts: I,
    out: &'o mut [u8; 16],
}

impl<I> BlockSizeUser for CmacPass<'_, I> {
    type BlockSize = U16;
}

impl<'a, I: Iterator<Item = &'a [u8]>> BlockCipherEncClosure for CmacPass<'_, I> {
    #[inline(always)]
    fn call<B: BlockCipherEncBackend<BlockSize = U16>>(self, backend: &B) {
        let encrypt = |block: &mut [u8; 16]| {
            let block: &mut Block<B> = block.into();
            backend.encrypt_block(block.into());
        };
        let mut l = [0u8; 16];
        encrypt(&mut l);
        let mut k1 = double(&l);
        let mut k2 = double(&k1);
        // `x` is the chaining value; `pending[..n]` the bytes not yet chained (a full block
        // waits until more bytes arrive: the last one is processed differently).
        let mut x = [0u8; 16];
        let mut pending = [0u8; 16];
        let mut n = 0usize;
        for mut part in self.parts {
            while !part.is_empty() {
                if n == 16 {
                    for (a, b) in x.iter_mut().zip(&pending) {
                        *a ^= b;
                    }
                    encrypt(&mut x);
                    n = 0;
                }
                let take = (16 - n).min(part.len());
                let (Some(dst), Some((src, rest))) =
                    (pending.get_mut(n..n + take), part.split_at_checked(take))
                else {
                    break;
                };
                dst.copy_from_slice(src);
                n += take;
                part = rest;
            }
        }
        let subkey = if n == 16 {
            &k1
        } else {
            // 10* padding of an incomplete (or empty) last block.
            if let Some(rest) = pending.get_mut(n..) {
                rest.fill(0);
            }
            if let Some(b) = pending.get_mut(n) {
                *b = 0x80;
            }
            &k2
        };
        for ((a, b), k) in x.iter_mut().zip(&pending).zip(subkey) {
            *a ^= b ^ k;
        }
        encrypt(&mut x);
        *self.out = x;
        for secret in [&mut l, &mut k1, &mut k2, &mut x, &mut pending] {
            secret.zeroize();
        }
    }
}

/// The full 16-byte CMAC of the concatenation of the slices `parts` yields.
#[inline]
pub(crate) fn cmac_iter<'a>(key: &Cipher, parts: impl Iterator<Item = &'a [u8]>) -> [u8; 16] {
    let mut out = [0u8; 16];
    key.encrypt_with_backend(CmacPass {
        parts,
        out: &mut out,
    });
    out
}

/// The full 16-byte CMAC of the concatenation of `parts`.
#[inline]
pub(crate) fn cmac(key: &Cipher, parts: &[&[u8]]) -> [u8; 16] {
    cmac_iter(key, parts.iter().copied())
}

/// `true` if the leftmost `tag.len()` bytes of the CMAC of `parts` equal `tag`, compared in
/// constant time. An empty or over-long tag never verifies.
#[inline]
pub(crate) fn cmac_verify_left(key: &Cipher, parts: &[&[u8]], tag: &[u8]) -> bool {
    if tag.is_empty() {
        return false;
    }
    let mut full = cmac(key, parts);
    let ok = full
        .get(..tag.len())
        .is_some_and(|left| left.ct_eq(tag).into());
    full.zeroize();
    ok
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
        assert!(!cmac_verify_left(&k, &[&m], &[0; 17]));

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

    /// The crate's CMAC gives the `cmac` crate's result for every length and every way of
    /// splitting the message in two or three parts, under several keys.
    #[test]
    fn cmac_matches_the_cmac_crate() {
        use cmac::{Cmac, KeyInit, Mac};
        for key in [
            [7u8; 16],
            [0; 16],
            [0xFF; 16],
            core::array::from_fn(|i| (i as u8).wrapping_mul(29)),
        ] {
            let k = expand(&key);
            let msg: [u8; 50] = core::array::from_fn(|i| (i * 37 + 11) as u8);
            for len in 0..=msg.len() {
                let m = &msg[..len];
                let mut reference = <Cmac<Aes128Enc> as KeyInit>::new((&key).into());
                reference.update(m);
                let want: [u8; 16] = reference.finalize().into_bytes().into();
                assert_eq!(cmac(&k, &[m]), want, "len {len}");
                for a in 0..=len {
                    for b in a..=len {
                        assert_eq!(cmac(&k, &[&m[..a], &m[a..b], &m[b..]]), want);
                    }
                }
                assert!(cmac_verify_left(&k, &[m], &want));
                assert!(cmac_verify_left(&k, &[m], &want[..4]));
            }
        }
    }

    /// The subkeys of RFC 4493 section 4 (K1, K2 from L = AES-128(K, 0)).
    #[test]
    fn subkeys_of_rfc_4493() {
        let l: [u8; 16] = [
            0x7d, 0xf7, 0x6b, 0x0c, 0x1a, 0xb8, 0x99, 0xb3, 0x3e, 0x42, 0xf0, 0x47, 0xb9, 0x1b,
            0x54, 0x6f,
        ];
        let k1 = [
            0xfb, 0xee, 0xd6, 0x18, 0x35, 0x71, 0x33, 0x66, 0x7c, 0x85, 0xe0, 0x8f, 0x72, 0x36,
            0xa8, 0xde,
        ];
        let k2 = [
            0xf7, 0xdd, 0xac, 0x30, 0x6a, 0xe2, 0x66, 0xcc, 0xf9, 0x0b, 0xc1, 0x1e, 0xe4, 0x6d,
            0x51, 0x3b,
        ];
        assert_eq!(double(&l), k1);
        assert_eq!(double(&k1), k2);
    }
}
