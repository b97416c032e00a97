//! The security-module trait: every operation that touches a key, so that a hardware secure
//! element (or a head-end HSM) can stand in for the software implementation. See the [module docs](super).

use core::fmt;

use rand_core::TryCryptoRng;
use zeroize::{Zeroize, ZeroizeOnDrop};

use super::kdf::{Kbkdf, KeyPurpose, SecretKey};
use super::primitive;
use crate::address::Address;

/// The length of a wrapped key set in a key-update command: three 16-byte keys.
pub const WRAPPED_KEYS_LEN: usize = 48;

/// KDF label of the key-update wrapping stream.
pub const KEY_UPDATE_LABEL: &[u8] = b"PMv1-key-update";
/// KDF label of the session keys.
pub const SESSION_LABEL: &[u8] = b"PMv1-session";

/// Why a security module refused an operation.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
#[non_exhaustive]
pub enum ModuleError {
    /// The tag or proof did not verify; nothing was decrypted.
    TagMismatch,
    /// Session keys were asked for but no session is established.
    NoSession,
    /// A tag or proof length outside 8..=16 bytes.
    TagLength,
    /// The payload is too long for one counter block sequence.
    PayloadTooLong,
    /// A key update to a version other than the current one plus one.
    KeyVersion,
    /// The random number generator failed.
    Random,
    /// The module itself failed (a hardware module's transport or internal error).
    Device,
}

impl fmt::Display for ModuleError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            ModuleError::TagMismatch => "authentication tag mismatch",
            ModuleError::NoSession => "no session established",
            ModuleError::TagLength => "tag length outside 8..=16 bytes",
            ModuleError::PayloadTooLong => "payload too long",
            ModuleError::KeyVersion => "key update must go to the current version plus one",
            ModuleError::Random => "random number generator failed",
            ModuleError::Device => "security module failure",
        })
    }
}

impl core::error::Error for ModuleError {}

/// Which keys a seal or open uses.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub enum KeySet {
    /// The meter keys `K_enc`, `K_mac` (store-and-forward commands).
    Meter,
    /// The session keys `S_enc`, `S_mac`.
    Session,
}

/// The two identity-authentication proofs.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub enum ProofKind {
    /// The head-end's proof in an authentication request. Label `PMv1-auth-req`.
    Request,
    /// The meter's proof in an authentication response. Label `PMv1-auth-resp`.
    Response,
}

impl ProofKind {
    /// The KDF label (ASCII).
    pub const fn label(self) -> &'static [u8] {
        match self {
            ProofKind::Request => b"PMv1-auth-req",
            ProofKind::Response => b"PMv1-auth-resp",
        }
    }
}

/// The most payload bytes one seal covers: the 32-bit block counter must not wrap.
pub const MAX_SEAL_LEN: usize = 0xFFFF;

/// The key operations of a meter (or of a head-end acting for one meter).
///
/// Implementations must compare tags in constant time, must not decrypt before the tag has
/// verified, and must keep key material inside. The recipes are in the [module docs](super#security-modules).
pub trait SecurityModule {
    /// The version of the installed meter keys.
    fn key_version(&self) -> u16;

    /// Encrypt-then-MAC: encrypts `payload` in place under `keys`, then writes the leftmost
    /// `tag.len()` bytes of `CMAC(K_mac, header || ciphertext)` into `tag`.
    ///
    /// Errors: [`ModuleError::TagLength`], [`ModuleError::PayloadTooLong`],
    /// [`ModuleError::NoSession`]; on error `payload` and `tag` are unchanged.
    fn seal(
        &self,
        keys: KeySet,
        counter_block: &[u8; 16],
        header: &[u8],
        payload: &mut [u8],
        tag: &mut [u8],
    ) -> Result<(), ModuleError>;

    /// Verify-then-decrypt: checks `tag` against `header || payload` and, only if it
    /// matches, decrypts `payload` in place.
    ///
    /// Errors: [`ModuleError::TagMismatch`] (payload unchanged), and those of
    /// [`SecurityModule::seal`].
    fn open(
        &self,
        keys: KeySet,
        counter_block: &[u8; 16],
        header: &[u8],
        payload: &mut [u8],
        tag: &[u8],
    ) -> Result<(), ModuleError>;

    /// Writes an identity-authentication proof over the concatenated `context` parts into
    /// `out` (8..=16 bytes).
    fn identity_proof(
        &self,
        kind: ProofKind,
        context: &[&[u8]],
        out: &mut [u8],
    ) -> Result<(), ModuleError>;

    /// Checks a proof made by [`SecurityModule::identity_proof`], in constant time.
    fn verify_identity_proof(
        &self,
        kind: ProofKind,
        context: &[&[u8]],
        proof: &[u8],
    ) -> Result<(), ModuleError>;

    /// Derives and holds session keys from the concatenated `context` parts, replacing any
    /// previous session.
    fn start_session(&mut self, context: &[&[u8]]) -> Result<(), ModuleError>;

    /// Forgets the session keys.
    fn end_session(&mut self);

    /// Fills `out` with random bytes for a challenge. The default draws from `rng`; a
    /// hardware module may use its own generator instead.
    fn random<R: TryCryptoRng + ?Sized>(
        &mut self,
        rng: &mut R,
        out: &mut [u8],
    ) -> Result<(), ModuleError> {
        rng.try_fill_bytes(out).map_err(|_| ModuleError::Random)
    }

    /// Unwraps a key-update blob for meter `address` and holds the new keys aside, not yet in
    /// use. `new_version` must be [`SecurityModule::key_version`] + 1. A second call replaces
    /// the staged keys.
    fn stage_key_update(
        &mut self,
        address: Address,
        new_version: u16,
        wrapped: &[u8; WRAPPED_KEYS_LEN],
    ) -> Result<(), ModuleError>;

    /// Installs the staged keys (if any) and ends the session. Must not fail: all fallible
    /// work belongs in [`SecurityModule::stage_key_update`].
    fn commit_key_update(&mut self);

    /// Forgets the staged keys.
    fn discard_key_update(&mut self);
}

/// A meter's three keys as bytes, for provisioning and for a software-only meter's storage.
/// Zeroized on drop; `Debug` shows no key bytes.
#[derive(Clone, Eq, Zeroize, ZeroizeOnDrop)]
pub struct MeterKeys {
    /// `K_enc`.
    pub enc: SecretKey,
    /// `K_mac`.
    pub mac: SecretKey,
    /// `K_auth`.
    pub auth: SecretKey,
}

/// Constant time: all three keys are compared, whichever differs.
impl PartialEq for MeterKeys {
    fn eq(&self, other: &MeterKeys) -> bool {
        let (enc, mac, auth) = (
            self.enc == other.enc,
            self.mac == other.mac,
            self.auth == other.auth,
        );
        enc & mac & auth
    }
}

impl fmt::Debug for MeterKeys {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("MeterKeys { .. }")
    }
}

impl MeterKeys {
    /// Derives a meter's keys from the master key (see [`super::kdf`]).
    pub fn derive(master: &Kbkdf, address: Address, key_version: u16) -> MeterKeys {
        MeterKeys {
            enc: master.meter_key(address, key_version, KeyPurpose::Encryption),
            mac: master.meter_key(address, key_version, KeyPurpose::Authentication),
            auth: master.meter_key(address, key_version, KeyPurpose::Identity),
        }
    }

    /// The 48 bytes `K_enc || K_mac || K_auth`.
    pub fn to_bytes(&self) -> [u8; WRAPPED_KEYS_LEN] {
        let mut out = [0u8; WRAPPED_KEYS_LEN];
        for (dst, key) in out
            .chunks_exact_mut(16)
            .zip([&self.enc, &self.mac, &self.auth])
        {
            dst.copy_from_slice(key.as_bytes());
        }
        out
    }

    /// Keys from 48 bytes `K_enc || K_mac || K_auth`.
    pub fn from_bytes(bytes: &[u8; WRAPPED_KEYS_LEN]) -> MeterKeys {
        let mut k = [[0u8; 16]; 3];
        for (dst, src) in k.iter_mut().zip(bytes.chunks_exact(16)) {
            dst.copy_from_slice(src);
        }
        let keys = MeterKeys {
            enc: SecretKey::from_bytes(k[0]),
            mac: SecretKey::from_bytes(k[1]),
            auth: SecretKey::from_bytes(k[2]),
        };
        k.zeroize();
        keys
    }
}

/// XORs `keys` with the key-update stream of `K_auth` for (`address`, `new_version`): wraps
/// and unwraps alike.
pub(crate) fn key_update_xor(
    auth: &Kbkdf,
    address: Address,
    new_version: u16,
    keys: &mut [u8; WRAPPED_KEYS_LEN],
) {
    let mut stream = [0u8; WRAPPED_KEYS_LEN];
    let ctx = super::kdf::meter_context(address, new_version);
    // 48 bytes with r = 32 cannot fail.
    let _ = auth.derive_labelled(KEY_UPDATE_LABEL, &[&ctx], &mut stream);
    for (k, s) in keys.iter_mut().zip(stream.iter()) {
        *k ^= s;
    }
    stream.zeroize();
}

/// An encryption and a MAC key, as bytes (zeroized on drop): each operation expands the key
/// it uses for its own length.
struct KeyPair {
    enc: SecretKey,
    mac: SecretKey,
}

/// The default [`SecurityModule`]: software AES-128 (the RustCrypto `aes` crate, which uses
/// AES-NI or the ARMv8 crypto extensions when the CPU has them, and a constant-time bitsliced
/// implementation otherwise).
///
/// The module holds its keys as bytes (136 bytes on a 32-bit MCU, where the expanded schedules of
/// its five keys would take several times that: a Cortex-M0 has 16 KiB of RAM); each operation
/// expands the key it uses on the stack, for the length of the operation. Keys and schedules
/// are zeroized on drop, and `Debug` shows no key material.
pub struct SoftwareModule {
    version: u16,
    meter: KeyPair,
    auth: SecretKey,
    session: Option<KeyPair>,
    staged: Option<(u16, MeterKeys)>,
}

impl fmt::Debug for SoftwareModule {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SoftwareModule")
            .field("key_version", &self.version)
            .field("session", &self.session.is_some())
            .field("staged", &self.staged.as_ref().map(|s| s.0))
            .finish_non_exhaustive()
    }
}

impl SoftwareModule {
    /// A module holding `keys` as version `key_version`.
    pub fn new(key_version: u16, keys: &MeterKeys) -> SoftwareModule {
        SoftwareModule {
            version: key_version,
            meter: KeyPair {
                enc: keys.enc.clone(),
                mac: keys.mac.clone(),
            },
            auth: keys.auth.clone(),
            session: None,
            staged: None,
        }
    }

    /// A module for one meter straight from the master KDF (the head-end's path).
    pub(crate) fn derive(master: &Kbkdf, address: Address, key_version: u16) -> SoftwareModule {
        SoftwareModule::new(
            key_version,
            &MeterKeys::derive(master, address, key_version),
        )
    }

    /// The staged key update: its version and keys. A software-only meter must store these,
    /// together with [`super::PendingCommand::counter_state`], before it commits the update (a
    /// hardware module keeps its keys to itself instead).
    pub fn staged_keys(&self) -> Option<(u16, &MeterKeys)> {
        self.staged.as_ref().map(|(v, k)| (*v, k))
    }

    /// `true` while session keys are held.
    pub fn has_session(&self) -> bool {
        self.session.is_some()
    }

    fn pair(&self, keys: KeySet) -> Result<&KeyPair, ModuleError> {
        match keys {
            KeySet::Meter => Ok(&self.meter),
            KeySet::Session => self.session.as_ref().ok_or(ModuleError::NoSession),
        }
    }

    /// The identity key's KDF, expanded for one operation.
    fn auth(&self) -> Kbkdf {
        Kbkdf::new(self.auth.as_bytes())
    }
}

/// AES-CTR over `payload` under `key`, expanded here (a frame of its own, so that one key
/// schedule at a time is on the stack).
#[inline(never)]
fn ctr(key: &SecretKey, counter_block: &[u8; 16], payload: &mut [u8]) -> Result<(), ModuleError> {
    primitive::ctr_apply(&primitive::expand(key.as_bytes()), counter_block, payload)
        .map_err(|_| ModuleError::PayloadTooLong)
}

/// The full CMAC of `parts` under `key`, expanded here.
#[inline(never)]
fn cmac(key: &SecretKey, parts: &[&[u8]]) -> [u8; 16] {
    primitive::cmac(&primitive::expand(key.as_bytes()), parts)
}

/// Whether `tag` is the left part of the CMAC of `parts` under `key`, expanded here.
#[inline(never)]
fn cmac_verify_left(key: &SecretKey, parts: &[&[u8]], tag: &[u8]) -> bool {
    primitive::cmac_verify_left(&primitive::expand(key.as_bytes()), parts, tag)
}

fn check_tag_len(n: usize) -> Result<(), ModuleError> {
    if (8..=16).contains(&n) {
        Ok(())
    } else {
        Err(ModuleError::TagLength)
    }
}

impl SecurityModule for SoftwareModule {
    fn key_version(&self) -> u16 {
        self.version
    }

    fn seal(
        &self,
        keys: KeySet,
        counter_block: &[u8; 16],
        header: &[u8],
        payload: &mut [u8],
        tag: &mut [u8],
    ) -> Result<(), ModuleError> {
        check_tag_len(tag.len())?;
        if payload.len() > MAX_SEAL_LEN {
            return Err(ModuleError::PayloadTooLong);
        }
        let pair = self.pair(keys)?;
        ctr(&pair.enc, counter_block, payload)?;
        let mut full = cmac(&pair.mac, &[header, payload]);
        if let Some(src) = full.get(..tag.len()) {
            tag.copy_from_slice(src);
        }
        full.zeroize();
        Ok(())
    }

    fn open(
        &self,
        keys: KeySet,
        counter_block: &[u8; 16],
        header: &[u8],
        payload: &mut [u8],
        tag: &[u8],
    ) -> Result<(), ModuleError> {
        check_tag_len(tag.len())?;
        if payload.len() > MAX_SEAL_LEN {
            return Err(ModuleError::PayloadTooLong);
        }
        let pair = self.pair(keys)?;
        if !cmac_verify_left(&pair.mac, &[header, payload], tag) {
            return Err(ModuleError::TagMismatch);
        }
        ctr(&pair.enc, counter_block, payload)
    }

    fn identity_proof(
        &self,
        kind: ProofKind,
        context: &[&[u8]],
        out: &mut [u8],
    ) -> Result<(), ModuleError> {
        check_tag_len(out.len())?;
        self.auth()
            .derive_labelled(kind.label(), context, out)
            .map_err(|_| ModuleError::TagLength)
    }

    fn verify_identity_proof(
        &self,
        kind: ProofKind,
        context: &[&[u8]],
        proof: &[u8],
    ) -> Result<(), ModuleError> {
        check_tag_len(proof.len())?;
        let mut expect = [0u8; 16];
        let expect = expect
            .get_mut(..proof.len())
            .ok_or(ModuleError::TagLength)?;
        self.identity_proof(kind, context, expect)?;
        let ok = subtle::ConstantTimeEq::ct_eq(&*expect, proof);
        expect.zeroize();
        if bool::from(ok) {
            Ok(())
        } else {
            Err(ModuleError::TagMismatch)
        }
    }

    fn start_session(&mut self, context: &[&[u8]]) -> Result<(), ModuleError> {
        let mut keys = [0u8; 32];
        self.auth()
            .derive_labelled(SESSION_LABEL, context, &mut keys)
            .map_err(|_| ModuleError::Device)?;
        let (e, m) = keys.split_at(16);
        let mut enc = [0u8; 16];
        let mut mac = [0u8; 16];
        enc.copy_from_slice(e);
        mac.copy_from_slice(m);
        self.session = Some(KeyPair {
            enc: SecretKey::from_bytes(enc),
            mac: SecretKey::from_bytes(mac),
        });
        keys.zeroize();
        enc.zeroize();
        mac.zeroize();
        Ok(())
    }

    fn end_session(&mut self) {
        self.session = None;
    }

    fn stage_key_update(
        &mut self,
        address: Address,
        new_version: u16,
        wrapped: &[u8; WRAPPED_KEYS_LEN],
    ) -> Result<(), ModuleError> {
        if self.version.checked_add(1) != Some(new_version) {
            return Err(ModuleError::KeyVersion);
        }
        let mut plain = *wrapped;
        key_update_xor(&self.auth(), address, new_version, &mut plain);
        self.staged = Some((new_version, MeterKeys::from_bytes(&plain)));
        plain.zeroize();
        Ok(())
    }

    fn commit_key_update(&mut self) {
        if let Some((version, keys)) = self.staged.take() {
            *self = SoftwareModule::new(version, &keys);
        }
    }

    fn discard_key_update(&mut self) {
        self.staged = None;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn keys(seed: u8) -> MeterKeys {
        let mut b = [0u8; 48];
        for (i, x) in b.iter_mut().enumerate() {
            *x = seed.wrapping_add(i as u8);
        }
        MeterKeys::from_bytes(&b)
    }

    #[test]
    fn seal_open_and_tamper() {
        let m = SoftwareModule::new(1, &keys(1));
        let cb = [5u8; 16];
        let mut payload = *b"thirty-two bytes of command data";
        let mut tag = [0u8; 12];
        m.seal(KeySet::Meter, &cb, b"hdr", &mut payload, &mut tag)
            .unwrap();
        assert_ne!(&payload, b"thirty-two bytes of command data");
        let sealed = payload;
        // Wrong header: refused, payload untouched.
        assert_eq!(
            m.open(KeySet::Meter, &cb, b"hdx", &mut payload, &tag),
            Err(ModuleError::TagMismatch)
        );
        assert_eq!(payload, sealed);
        // No session yet.
        assert_eq!(
            m.open(KeySet::Session, &cb, b"hdr", &mut payload, &tag),
            Err(ModuleError::NoSession)
        );
        m.open(KeySet::Meter, &cb, b"hdr", &mut payload, &tag)
            .unwrap();
        assert_eq!(&payload, b"thirty-two bytes of command data");
        assert_eq!(
            m.seal(KeySet::Meter, &cb, b"", &mut payload, &mut [0u8; 7]),
            Err(ModuleError::TagLength)
        );
        assert_eq!(
            m.seal(KeySet::Meter, &cb, b"", &mut payload, &mut [0u8; 17]),
            Err(ModuleError::TagLength)
        );
        assert_eq!(&payload, b"thirty-two bytes of command data");
    }

    #[test]
    fn key_update_round_trip() {
        let master = Kbkdf::new(&[0x11; 16]);
        let addr = Address::from_number(123_456).unwrap();
        let old = MeterKeys::derive(&master, addr, 4);
        let new = MeterKeys::derive(&master, addr, 5);
        let mut wrapped = new.to_bytes();
        key_update_xor(&Kbkdf::new(old.auth.as_bytes()), addr, 5, &mut wrapped);
        assert_ne!(wrapped, new.to_bytes());

        let mut m = SoftwareModule::new(4, &old);
        assert_eq!(
            m.stage_key_update(addr, 6, &wrapped),
            Err(ModuleError::KeyVersion)
        );
        m.stage_key_update(addr, 5, &wrapped).unwrap();
        assert_eq!(m.key_version(), 4);
        assert_eq!(
            m.staged_keys().map(|(v, k)| (v, k.clone())),
            Some((5, new.clone()))
        );
        m.commit_key_update();
        assert_eq!(m.key_version(), 5);
        assert!(m.staged_keys().is_none());
        // The installed keys are the derived ones: a seal under a fresh module of version 5
        // opens.
        let fresh = SoftwareModule::derive(&master, addr, 5);
        let mut p = [1u8; 20];
        let mut t = [0u8; 16];
        fresh
            .seal(KeySet::Meter, &[0; 16], b"h", &mut p, &mut t)
            .unwrap();
        m.open(KeySet::Meter, &[0; 16], b"h", &mut p, &t).unwrap();
        assert_eq!(p, [1u8; 20]);
    }

    #[test]
    fn sessions_and_proofs() {
        let mut a = SoftwareModule::new(1, &keys(9));
        let mut b = SoftwareModule::new(1, &keys(9));
        let mut proof = [0u8; 8];
        a.identity_proof(ProofKind::Request, &[b"ctx"], &mut proof)
            .unwrap();
        b.verify_identity_proof(ProofKind::Request, &[b"c", b"tx"], &proof)
            .unwrap();
        assert_eq!(
            b.verify_identity_proof(ProofKind::Response, &[b"ctx"], &proof),
            Err(ModuleError::TagMismatch)
        );
        a.start_session(&[b"transcript"]).unwrap();
        b.start_session(&[b"transcript"]).unwrap();
        let mut p = [7u8; 5];
        let mut t = [0u8; 8];
        a.seal(KeySet::Session, &[1; 16], b"", &mut p, &mut t)
            .unwrap();
        b.open(KeySet::Session, &[1; 16], b"", &mut p, &t).unwrap();
        assert_eq!(p, [7u8; 5]);
        b.end_session();
        assert!(!b.has_session());
    }
}
