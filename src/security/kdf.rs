//! Key derivation: NIST SP 800-108 in counter mode with AES-CMAC-128 as the PRF, and the
//! SP 800-108r1 key-control variant with `K0`; the crate's per-meter key recipe on top.
//!
//! # The primitive
//!
//! For a key-derivation key `KI`, fixed input data `F`, a counter width of `r` bits (8, 16, 24
//! or 32) and an output of `L` bits (any whole number of bytes, at least one):
//!
//! ```text
//! n    = ceil(L / 128)                        must be at most 2^r - 1
//! K(i) = CMAC(KI, [i]_r || F)                 counter before F   (CounterLocation::Before)
//! K(i) = CMAC(KI, F || [i]_r)                 counter after F    (CounterLocation::After)
//! out  = leftmost L bits of K(1) || K(2) || ... || K(n)
//! ```
//!
//! `[i]_r` is `i` big-endian in `r / 8` bytes. `F` is opaque, exactly as in the NIST CAVP files
//! (`KDFCTR_gen.rsp`), which is why the function takes it whole. The conventional layout
//! `Label || 0x00 || Context || [L]_32` ([`fixed_input_len`] bytes) is streamed into the CMAC
//! by [`Kbkdf::derive_labelled`] without a buffer. Each output block costs exactly one CMAC.
//!
//! The SP 800-108r1 variant ([`Kbkdf::derive_k0`]) first computes `K0 = CMAC(KI, F)` and then
//! `K(i) = CMAC(KI, [i]_r || F || K0)`. It stops a party that knows `KI` from steering the
//! output (a weakness of CMAC as a PRF); it matters only if `KI` is shared with someone less
//! trusted than the holder of the derived keys.
//!
//! ```
//! use prepaid_meter::security::kdf::{kbkdf_cmac_aes128, CounterLocation};
//! // NIST CAVP KDFCTR_gen.rsp, CMAC_AES128, counter before, r = 8, L = 128, COUNT = 1.
//! let ki = hex(b"dff1e50ac0b69dc40f1051d46c2b069c");
//! let fixed = hex(b"c16e6e02c5a3dcc8d78b9ac1306877761310455b4e41469951d9e6c2245a064b\
//!                   33fd8c3b01203a7824485bf0a64060c4648b707d2607935699316ea5");
//! let mut ko = [0u8; 16];
//! kbkdf_cmac_aes128(&ki[..].try_into().unwrap(), &fixed, CounterLocation::Before, 8, &mut ko)?;
//! assert_eq!(&ko[..], &hex(b"8be8f0869b3c0ba97b71863d1b9f7813")[..]);
//! # fn hex(s: &[u8]) -> Vec<u8> {
//! #     s.chunks(2).map(|p| u8::from_str_radix(core::str::from_utf8(p).unwrap(), 16).unwrap()).collect()
//! # }
//! # Ok::<(), prepaid_meter::security::kdf::KdfError>(())
//! ```
//!
//! # Per-meter keys
//!
//! Every meter holds three 128-bit keys for each key version, each derived from the master key
//! `KM` with one CMAC call (counter before, `r = 32`, `L = 128`):
//!
//! ```text
//! K_purpose = CMAC(KM, 00 00 00 01 || Label || 00 || Context || 00 00 00 80)
//! Label     = ASCII "PMv1-enc"  (encryption key K_enc: AES-CTR of sealed payloads)
//!             ASCII "PMv1-mac"  (authentication key K_mac: CMAC tags of sealed frames)
//!             ASCII "PMv1-auth" (identity-authentication key K_auth: challenge-response
//!                                proofs, session keys and key-update wrapping, all through
//!                                this KDF)
//! Context   = the meter address as 6 bytes, most significant digits first
//!             (Address::to_be_bytes, BCD), then the key version as 2 bytes big-endian
//! ```
//!
//! For meter `201000000012`, key version 1 the context is `20 10 00 00 00 12 00 01`.
//! `tests/security_vectors.rs` checks this recipe against values computed independently with
//! Python `cryptography` 48.0 (`KBKDFCMAC`, `rlen = 4`, `llen = 4`, counter before fixed).
//!
//! Because the keys are a function of the master key, the address and the version alone, a
//! head-end needs no per-meter key database ([`MasterKey`](super::MasterKey)).

use core::fmt;

use zeroize::{Zeroize, ZeroizeOnDrop};

use super::primitive::{self, Cipher};
use crate::address::Address;

/// Why a key derivation was refused.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
#[non_exhaustive]
pub enum KdfError {
    /// The counter width is not 8, 16, 24 or 32 bits.
    CounterWidth,
    /// The requested output is empty.
    EmptyOutput,
    /// The output needs more blocks than the counter can number (`2^r - 1`).
    OutputTooLong,
}

impl fmt::Display for KdfError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            KdfError::CounterWidth => "the KDF counter width must be 8, 16, 24 or 32 bits",
            KdfError::EmptyOutput => "the KDF output must be at least one byte",
            KdfError::OutputTooLong => "the KDF output needs more blocks than the counter allows",
        })
    }
}

impl core::error::Error for KdfError {}

/// Where the counter `[i]_r` goes relative to the fixed input data.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub enum CounterLocation {
    /// `[i]_r || F` (CAVP `BEFORE_FIXED`).
    Before,
    /// `F || [i]_r` (CAVP `AFTER_FIXED`).
    After,
}

/// The length in bytes of the conventional fixed input `Label || 0x00 || Context || [L]_32`
/// (saturating: no input is that long).
pub const fn fixed_input_len(label_len: usize, context_len: usize) -> usize {
    label_len.saturating_add(context_len).saturating_add(1 + 4)
}

/// A 128-bit secret key as bytes: zeroized on drop, never printed.
///
/// This is the form in which keys are provisioned into a meter or a [`SecurityModule`](super::SecurityModule); code
/// that only uses keys never sees one. Equality is decided in constant time.
#[derive(Clone, Zeroize, ZeroizeOnDrop)]
pub struct SecretKey([u8; 16]);

impl PartialEq for SecretKey {
    fn eq(&self, other: &SecretKey) -> bool {
        bool::from(subtle::ConstantTimeEq::ct_eq(&self.0[..], &other.0[..]))
    }
}

impl Eq for SecretKey {}

impl SecretKey {
    /// A key from its 16 bytes.
    pub const fn from_bytes(bytes: [u8; 16]) -> SecretKey {
        SecretKey(bytes)
    }

    /// The key bytes, for provisioning and storage. Handle with care.
    pub const fn as_bytes(&self) -> &[u8; 16] {
        &self.0
    }
}

/// Shows no key bytes.
impl fmt::Debug for SecretKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("SecretKey(..)")
    }
}

/// What a per-meter key is for; selects the KDF label.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub enum KeyPurpose {
    /// `K_enc`: AES-CTR encryption of sealed payloads. Label `PMv1-enc`.
    Encryption,
    /// `K_mac`: CMAC tags of sealed frames. Label `PMv1-mac`.
    Authentication,
    /// `K_auth`: identity authentication, session keys and key-update wrapping. Label
    /// `PMv1-auth`.
    Identity,
}

impl KeyPurpose {
    /// All purposes, in the order keys are stored and wrapped.
    pub const ALL: [KeyPurpose; 3] = [
        KeyPurpose::Encryption,
        KeyPurpose::Authentication,
        KeyPurpose::Identity,
    ];

    /// The KDF label for this purpose (ASCII).
    pub const fn label(self) -> &'static [u8] {
        match self {
            KeyPurpose::Encryption => b"PMv1-enc",
            KeyPurpose::Authentication => b"PMv1-mac",
            KeyPurpose::Identity => b"PMv1-auth",
        }
    }
}

/// The KDF context of a meter's keys: address (6 bytes, most significant first) then key
/// version (2 bytes big-endian).
pub const fn meter_context(address: Address, key_version: u16) -> [u8; 8] {
    let a = address.to_be_bytes();
    let v = key_version.to_be_bytes();
    [a[0], a[1], a[2], a[3], a[4], a[5], v[0], v[1]]
}

/// A KBKDF instance: SP 800-108 counter mode with CMAC-AES128 under one key-derivation key,
/// whose AES key schedule is expanded once and kept (zeroized on drop).
pub struct Kbkdf {
    prf: Cipher,
}

/// Shows no key material.
impl fmt::Debug for Kbkdf {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Kbkdf { .. }")
    }
}

impl ZeroizeOnDrop for Kbkdf {}

impl Kbkdf {
    /// A KDF under the key-derivation key `key`.
    pub fn new(key: &[u8; 16]) -> Kbkdf {
        Kbkdf {
            prf: primitive::expand(key),
        }
    }

    pub(crate) fn from_cipher(prf: Cipher) -> Kbkdf {
        Kbkdf { prf }
    }

    /// Fills `out` with key material derived from the opaque fixed input `fixed_input`.
    pub fn derive(
        &self,
        fixed_input: &[u8],
        location: CounterLocation,
        counter_bits: u8,
        out: &mut [u8],
    ) -> Result<(), KdfError> {
        derive_with(&self.prf, location, counter_bits, out, || {
            core::iter::once(fixed_input)
        })
    }

    /// The SP 800-108r1 key-control variant: `K0 = CMAC(KI, F)`, then
    /// `K(i) = CMAC(KI, [i]_r || F || K0)` (counter before the fixed input).
    pub fn derive_k0(
        &self,
        fixed_input: &[u8],
        counter_bits: u8,
        out: &mut [u8],
    ) -> Result<(), KdfError> {
        check_blocks(out.len(), counter_bits)?;
        let mut k0 = primitive::cmac(&self.prf, &[fixed_input]);
        let r = derive_with(
            &self.prf,
            CounterLocation::Before,
            counter_bits,
            out,
            || [fixed_input, &k0[..]].into_iter(),
        );
        k0.zeroize();
        r
    }

    /// Derives with the conventional fixed input `Label || 0x00 || Context || [L]_32`, counter
    /// before, `r = 32`, `L = 8 * out.len()`; `context` may come in several parts, which are
    /// concatenated. Nothing is copied together: the parts go into the CMAC as they are.
    pub fn derive_labelled(
        &self,
        label: &[u8],
        context: &[&[u8]],
        out: &mut [u8],
    ) -> Result<(), KdfError> {
        let l_bits = u32::try_from(out.len())
            .ok()
            .and_then(|n| n.checked_mul(8))
            .ok_or(KdfError::OutputTooLong)?
            .to_be_bytes();
        derive_with(&self.prf, CounterLocation::Before, 32, out, || {
            [label, &[0][..]]
                .into_iter()
                .chain(context.iter().copied())
                .chain(core::iter::once(&l_bits[..]))
        })
    }

    /// One of a meter's keys for `key_version` (see the module docs for the recipe).
    pub fn meter_key(&self, address: Address, key_version: u16, purpose: KeyPurpose) -> SecretKey {
        let mut out = [0u8; 16];
        self.meter_key_into(address, key_version, purpose, &mut out);
        let key = SecretKey(out);
        out.zeroize();
        key
    }

    /// Same as [`Kbkdf::meter_key`], expanded straight into a key schedule.
    pub(crate) fn meter_cipher(
        &self,
        address: Address,
        key_version: u16,
        purpose: KeyPurpose,
    ) -> Cipher {
        let mut out = [0u8; 16];
        self.meter_key_into(address, key_version, purpose, &mut out);
        let c = primitive::expand(&out);
        out.zeroize();
        c
    }

    fn meter_key_into(
        &self,
        address: Address,
        key_version: u16,
        purpose: KeyPurpose,
        out: &mut [u8; 16],
    ) {
        // One CMAC over [1]_32 || label || 00 || context || [128]_32: built in a stack buffer
        // so the CMAC sees one slice (the longest label is 9 bytes: 26 bytes in all).
        const MAX: usize = 4 + 9 + 1 + 8 + 4;
        let label = purpose.label();
        let ctx = meter_context(address, key_version);
        let mut msg = [0u8; MAX];
        let mut w = Writer::new(&mut msg);
        w.put(&1u32.to_be_bytes());
        w.put(label);
        w.put(&[0]);
        w.put(&ctx);
        w.put(&128u32.to_be_bytes());
        let len = w.len();
        *out = primitive::cmac(&self.prf, &[msg.get(..len).unwrap_or(&[])]);
    }
}

/// A tiny cursor that writes what fits and drops the rest (callers size buffers statically).
struct Writer<'a> {
    buf: &'a mut [u8],
    pos: usize,
}

impl<'a> Writer<'a> {
    fn new(buf: &'a mut [u8]) -> Self {
        Writer { buf, pos: 0 }
    }
    fn put(&mut self, bytes: &[u8]) {
        if let Some(dst) = self.buf.get_mut(self.pos..self.pos + bytes.len()) {
            dst.copy_from_slice(bytes);
            self.pos += bytes.len();
        }
    }
    fn len(&self) -> usize {
        self.pos
    }
}

/// KBKDF with the convenience of a one-shot key: expands `key`, derives, and drops the schedule.
///
/// See the [module docs](self) for the construction; the arguments map one to one onto the
/// CAVP file's `CTRLOCATION`, `RLEN`, `L`, `KI` and `FixedInputData`.
pub fn kbkdf_cmac_aes128(
    key: &[u8; 16],
    fixed_input: &[u8],
    location: CounterLocation,
    counter_bits: u8,
    out: &mut [u8],
) -> Result<(), KdfError> {
    Kbkdf::new(key).derive(fixed_input, location, counter_bits, out)
}

/// The SP 800-108r1 key-control variant with a one-shot key; see [`Kbkdf::derive_k0`].
pub fn kbkdf_cmac_aes128_k0(
    key: &[u8; 16],
    fixed_input: &[u8],
    counter_bits: u8,
    out: &mut [u8],
) -> Result<(), KdfError> {
    Kbkdf::new(key).derive_k0(fixed_input, counter_bits, out)
}

/// Validates the parameters; returns the number of blocks `n`.
fn check_blocks(out_len: usize, counter_bits: u8) -> Result<u32, KdfError> {
    if !matches!(counter_bits, 8 | 16 | 24 | 32) {
        return Err(KdfError::CounterWidth);
    }
    if out_len == 0 {
        return Err(KdfError::EmptyOutput);
    }
    let n = (out_len as u64).div_ceil(16);
    let max = (1u64 << counter_bits) - 1;
    if n > max {
        return Err(KdfError::OutputTooLong);
    }
    u32::try_from(n).map_err(|_| KdfError::OutputTooLong)
}

fn copy_prefix(dst: &mut [u8], block: &[u8; 16]) {
    let n = dst.len().min(16);
    if let (Some(d), Some(s)) = (dst.get_mut(..n), block.get(..n)) {
        d.copy_from_slice(s);
    }
}

/// The counter-mode loop: `fixed` yields the parts of the fixed input (everything but the
/// counter) for the CMAC of each block.
fn derive_with<'a, I: Iterator<Item = &'a [u8]>>(
    prf: &Cipher,
    location: CounterLocation,
    counter_bits: u8,
    out: &mut [u8],
    fixed: impl Fn() -> I,
) -> Result<(), KdfError> {
    let n = check_blocks(out.len(), counter_bits)?;
    let width = usize::from(counter_bits / 8);
    for (i, chunk) in (1..=n).zip(out.chunks_mut(16)) {
        let be = i.to_be_bytes();
        let counter = be.get(4 - width..).unwrap_or(&be);
        let (before, after): (&[u8], &[u8]) = match location {
            CounterLocation::Before => (counter, &[]),
            CounterLocation::After => (&[], counter),
        };
        // The counter lives in this loop, the fixed input longer: both as this loop's slices.
        let parts = core::iter::once(before)
            .chain(fixed().map(|part| -> &[u8] { part }))
            .chain(core::iter::once(after));
        let mut block = primitive::cmac_iter(prf, parts);
        copy_prefix(chunk, &block);
        block.zeroize();
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parameter_errors() {
        let k = Kbkdf::new(&[0; 16]);
        let mut out = [0u8; 16];
        for bits in [0, 1, 7, 9, 12, 33, 64, 255] {
            assert_eq!(
                k.derive(b"x", CounterLocation::Before, bits, &mut out),
                Err(KdfError::CounterWidth)
            );
        }
        assert_eq!(
            k.derive(b"x", CounterLocation::After, 8, &mut []),
            Err(KdfError::EmptyOutput)
        );
        // r = 8 numbers at most 255 blocks: 4080 bytes.
        let mut big = [0u8; 4081];
        assert_eq!(
            k.derive(b"x", CounterLocation::Before, 8, &mut big),
            Err(KdfError::OutputTooLong)
        );
        // The output is untouched on error.
        assert!(big.iter().all(|&b| b == 0));
        assert!(
            k.derive(b"x", CounterLocation::Before, 8, &mut big[..4080])
                .is_ok()
        );
        assert_eq!(k.derive_k0(b"x", 24, &mut []), Err(KdfError::EmptyOutput));
    }

    #[test]
    fn output_is_prefix_of_longer_output() {
        // Same fixed input (no [L] in it): a shorter output is a prefix of a longer one.
        let k = Kbkdf::new(&[7; 16]);
        let mut long = [0u8; 40];
        let mut short = [0u8; 20];
        k.derive(b"fixed", CounterLocation::After, 16, &mut long)
            .unwrap();
        k.derive(b"fixed", CounterLocation::After, 16, &mut short)
            .unwrap();
        assert_eq!(&long[..20], &short[..]);
        // And the two blocks differ (the counter is in the input).
        assert_ne!(&long[..16], &long[16..32]);
    }

    #[test]
    fn labelled_matches_opaque_fixed_input() {
        let k = Kbkdf::new(&[3; 16]);
        let mut a = [0u8; 32];
        let mut b = [0u8; 32];
        k.derive_labelled(b"LBL", &[b"ab", b"cd"], &mut a).unwrap();
        let fixed = [b'L', b'B', b'L', 0, b'a', b'b', b'c', b'd', 0, 0, 1, 0];
        k.derive(&fixed, CounterLocation::Before, 32, &mut b)
            .unwrap();
        assert_eq!(a, b);
        k.derive_labelled(b"LBL", &[b"a", b"b", b"c", b"d", b""], &mut a)
            .unwrap();
        assert_eq!(a, b);
    }

    #[test]
    fn meter_key_matches_generic_path() {
        let k = Kbkdf::new(&[9; 16]);
        let addr = Address::from_number(201_000_000_012).unwrap();
        for p in KeyPurpose::ALL {
            let mut generic = [0u8; 16];
            k.derive_labelled(p.label(), &[&meter_context(addr, 1)], &mut generic)
                .unwrap();
            assert_eq!(k.meter_key(addr, 1, p).as_bytes(), &generic);
        }
        assert_eq!(
            meter_context(addr, 1),
            [0x20, 0x10, 0x00, 0x00, 0x00, 0x12, 0x00, 0x01]
        );
        // Purposes, versions and meters all give different keys.
        let a = k.meter_key(addr, 1, KeyPurpose::Encryption);
        assert_ne!(a, k.meter_key(addr, 1, KeyPurpose::Authentication));
        assert_ne!(a, k.meter_key(addr, 2, KeyPurpose::Encryption));
        let other = Address::from_number(201_000_000_013).unwrap();
        assert_ne!(a, k.meter_key(other, 1, KeyPurpose::Encryption));
    }

    #[test]
    fn no_key_bytes_in_debug() {
        extern crate std;
        let s = std::format!(
            "{:?} {:?}",
            SecretKey::from_bytes([0xAB; 16]),
            Kbkdf::new(&[0xAB; 16])
        );
        assert!(
            !s.contains("171") && !s.to_lowercase().contains("ab, "),
            "{s}"
        );
    }
}
