//! The two block-cipher modes everything here is built from, over a borrowed, already expanded
//! AES-128 key schedule: AES-CMAC (RFC 4493 / SP 800-38B) and AES-CTR (SP 800-38A) with a 32-bit
//! big-endian block counter in the last four bytes of the counter block.
//!
//! Both come from the RustCrypto `cmac` and `ctr` crates; this module only fixes the types and
//! lets callers pass a message in several parts without copying it together.

use aes::Aes128Enc;
use aes::cipher::{InnerIvInit, KeyInit, StreamCipher, StreamCipherError};
use cmac::block_api::CmacCore;
use cmac::digest::InnerInit;
use cmac::digest::block_api::{Buffer, FixedOutputCore, UpdateCore};
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

/// A CMAC computation under a borrowed key schedule.
///
/// The block function and the final step are the `cmac` crate's (`CmacCore`); the buffering of
/// a message that arrives in parts is done here, with checked slicing only. (The buffered
/// `cmac::Cmac` goes through `block_buffer`'s `Lazy::split_blocks`, whose `expect` on a case
/// that cannot occur the compiler does not remove: a panic path linked into firmware.) The
/// buffered bytes are zeroized on drop, as the core's chaining state is.
pub(crate) struct CmacState<'k> {
    core: CmacCore<&'k Aes128Enc>,
    /// The message bytes not yet given to the core: `buf[..pos]`. A full block stays here
    /// until more bytes arrive, since the last block is processed differently.
    buf: [u8; 16],
    pos: usize,
}

impl CmacState<'_> {
    /// Feeds the next bytes of the message.
    #[inline]
    pub(crate) fn update(&mut self, mut data: &[u8]) {
        while !data.is_empty() {
            if self.pos >= self.buf.len() {
                self.core
                    .update_blocks(core::slice::from_ref((&self.buf).into()));
                self.pos = 0;
            }
            let Some(free) = self.buf.get_mut(self.pos..) else {
                return;
            };
            let n = free.len().min(data.len());
            let (Some(dst), Some((src, rest))) = (free.get_mut(..n), data.split_at_checked(n))
            else {
                return;
            };
            dst.copy_from_slice(src);
            self.pos += n;
            data = rest;
        }
    }

    /// The full 16-byte CMAC of the bytes fed.
    #[inline]
    pub(crate) fn finalize(mut self) -> [u8; 16] {
        let mut out = Default::default();
        // `pos` never exceeds the block size, so `try_new` cannot fail; were it to, the
        // buffer would be empty and the result a CMAC that verifies nothing sent.
        let mut last =
            Buffer::<CmacCore<&Aes128Enc>>::try_new(self.buf.get(..self.pos).unwrap_or(&[]))
                .unwrap_or_default();
        self.core.finalize_fixed_core(&mut last, &mut out);
        out.into()
    }
}

impl Drop for CmacState<'_> {
    fn drop(&mut self) {
        self.buf.zeroize();
    }
}

/// Starts a CMAC computation under `key`.
#[inline]
pub(crate) fn cmac_start(key: &Cipher) -> CmacState<'_> {
    CmacState {
        core: CmacCore::inner_init(key),
        buf: [0; 16],
        pos: 0,
    }
}

/// The full 16-byte CMAC of the concatenation of `parts`.
#[inline]
pub(crate) fn cmac(key: &Cipher, parts: &[&[u8]]) -> [u8; 16] {
    let mut mac = cmac_start(key);
    for part in parts {
        mac.update(part);
    }
    mac.finalize()
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

    /// The crate's buffering gives the `cmac` crate's result for every length and every way
    /// of splitting the message in two or three parts.
    #[test]
    fn cmac_matches_the_cmac_crate() {
        use cmac::{Cmac, Mac};
        let k = expand(&[7; 16]);
        let msg: [u8; 50] = core::array::from_fn(|i| (i * 37 + 11) as u8);
        for len in 0..=msg.len() {
            let m = &msg[..len];
            let mut reference = Cmac::<&Aes128Enc>::inner_init(&k);
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
