//! Security: per-meter key derivation, sealed commands and responses, interactive sessions,
//! anti-replay and lock-out.
//!
//! Shaped like the DL/T 645 security flows (identity authentication 070000FF, open account
//! 070101FF, recharge 070102FF, key update, relay control with PA 98H) but built on AES-128:
//! State Grid meters run these inside an ESAM chip with the unpublished SM1 cipher, which no
//! software can reproduce. This layer therefore interoperates with meters and head-ends that
//! use it, not with ESAM-based meters.
//!
//! # Pieces
//!
//! | piece | holds |
//! |---|---|
//! | [`kdf`] (public module) | NIST SP 800-108 KBKDF (counter mode, CMAC-AES128, and the r1 `K0` variant); the per-meter key recipe |
//! | [security modules](#security-modules) | the [`SecurityModule`] trait (every key operation) and [`SoftwareModule`], its software AES implementation |
//! | [sealed frames](#sealed-frames) | the sealed-frame wire format: [`Header`], AES-CTR payload, truncated CMAC tag; counter blocks |
//! | [payloads](#command-and-response-payloads) | typed [`Command`] and [`Reply`] payloads and their encodings |
//! | [sessions](#sessions) | the identity-authentication messages ([`AuthRequest`], [`AuthResponse`]) and the [`SessionInfo`] record |
//! | [counters](#counters-and-lock-out) | the head-end's [`CommandCounter`], the meter's [`FailureRecord`] and [`LockoutPolicy`] |
//! | the meter engine | [`MeterSecurity`]: opening commands in two phases ([`PendingCommand`], [`Committed`]) |
//! | the head-end side | [`MasterKey`], [`MeterSealer`]: sealing for any meter, opening responses |
//!
//! Everything but [`kdf`] is re-exported here, and this is its only path.
//!
//! # Keys
//!
//! ```text
//! master key KM (head-end or its HSM only)
//!   └─ per meter and key version (SP 800-108, CMAC-AES128; see kdf):
//!        K_enc  AES-CTR of payloads        K_mac  CMAC tags        K_auth  identity proofs,
//!                                                                          session keys,
//!                                                                          key-update wrapping
//!        └─ per session: S_enc, S_mac = KDF(K_auth, both challenges, ...)
//! ```
//!
//! # Delivery
//!
//! - **Store-and-forward** (counter mode), for slow paths through concentrators: the head-end
//!   seals under the meter keys with the next value of the meter's [`CommandCounter`]; the
//!   meter accepts only counters above the last one it accepted, and only until the frame's
//!   `valid_until`.
//! - **Session** (interactive): after the identity authentication ([sessions](#sessions)), commands carry
//!   the session id and a sequence number and are sealed under the session keys; the session
//!   lasts 5 minutes by default.
//!
//! Both refuse replays, frames past their deadline or their session, any altered or truncated
//! byte, other meters' frames and other key versions. Responses are sealed too, in the other
//! direction, so a response can never pass for a command.
//!
//! # Durability
//!
//! [`MeterSecurity::open`] changes nothing. It returns a [`PendingCommand`] with the state to
//! store ([`PendingCommand::counter_state`]); the caller stores it (together with the account
//! state the command changes, such as the purchase count) and then calls
//! [`PendingCommand::commit`], which applies it and hands out the one response seal. After a
//! restart, [`MeterSecurity::restore`] takes the stored [`SecurityState`] back, so a command
//! accepted before the restart stays a replay after it. The state has a versioned, CRC-checked
//! binary form ([`Snapshot`](crate::snapshot::Snapshot), magic `SS`) that needs no serde, and
//! the head-end's [`CommandCounter`] has one too (magic `SC`). Sessions are never stored: a
//! restart ends them. Keys are not part of the state: they stay in the security module.
//!
//! # Panics
//!
//! Nothing here panics on any input; every error is a typed value, and the wire modules deny
//! slice indexing.
//!
//! # Sealed frames
//!
//! The sealed-frame wire format, version 1: a header, the AES-CTR ciphertext of a typed
//! payload, and a truncated AES-CMAC tag. No state and no decisions: the engines decide what
//! to accept.
//!
//! ## Layout
//!
//! All integers are big-endian.
//!
//! ```text
//! offset size field
//!  0      1   format version, 0x01
//!  1      1   flags: bit 7 direction (0 = command, head-end to meter; 1 = response,
//!                    meter to head-end); bits 0-1 mode (0 = counter, store-and-forward;
//!                    1 = session); bits 2-6 zero
//!  2      6   meter address, 12 BCD digits, most significant first
//!  8      2   key version of the meter keys
//! 10      1   command type (see command::CommandType); a response carries the type of the
//!             command it answers
//! 11      1   tag length in bytes, 8..=16
//! 12      4   session id (0 in counter mode)
//! 16      4   counter: the per-meter command counter (counter mode) or the sequence number
//!             within the session (session mode); a response repeats its command's value
//! 20      4   valid until, Unix seconds (UTC); the meter refuses the command after this
//! 24      2   payload length P in bytes
//! 26      P   payload, AES-128-CTR encrypted under K_enc (or S_enc)
//! 26+P    T   tag: leftmost T bytes of CMAC(K_mac (or S_mac), bytes 0 .. 26+P)
//! ```
//!
//! A frame is exactly `26 + P + T` bytes; anything shorter or longer is refused before any
//! cryptography runs. The tag covers every header byte, so direction, meter, key version,
//! command type, tag length, session, counter, deadline and length are all authenticated.
//!
//! ## Counter blocks
//!
//! The AES-CTR counter block of a frame is a function of its header:
//!
//! ```text
//!  0  1  0x01 (format version)
//!  1  1  flags byte of the header (direction and mode)
//!  2  4  session id
//!  6  4  counter
//! 10  2  key version
//! 12  4  block index, starting at 0 and incremented per 16-byte block (big-endian)
//! ```
//!
//! A payload is at most 65 535 bytes, 4096 blocks, so the block index never wraps into the
//! other fields. Under one key a counter block is never used twice because:
//!
//! - **meter keys** (counter mode): the head-end uses each counter value once per key version
//!   (it keeps a [`CommandCounter`] and stores it before sending), the meter accepts each
//!   value once and seals exactly one response per accepted command, in the other direction;
//! - **session keys**: every session has fresh keys (derived from both parties' random
//!   challenges), and sequence numbers strictly increase within it;
//! - **key update**: the response to a key update is sealed under the *new* meter keys with
//!   counter 0, which no command uses (command counters start at 1).
//!
//! # Command and response payloads
//!
//! Typed command and response payloads, and their byte encodings inside a sealed frame.
//!
//! These are plain data for the account engine and the meter core: amounts are
//! [`Money`](crate::units::Money), prices [`Price`](crate::units::Price), and opaque parameter values borrow the opened frame.
//!
//! ## Payload layouts (format version 1, integers big-endian)
//!
//! | type | code | payload |
//! |---|---|---|
//! | [`Command::OpenAccount`] | `0x01` | amount (i64, minor units, >= 0) 8, purchase count (u32) 4, customer number 6 |
//! | [`Command::Recharge`] | `0x02` | amount (i64, minor units, > 0) 8, purchase count (u32) 4, customer number 6 |
//! | [`Command::RelayControl`] | `0x03` | action (DL/T 645 N1 code) 1, N2 1 |
//! | [`Command::SetPrice`] | `0x04` | price index 1, price (u32, 1/10 000 per kWh) 4 |
//! | [`Command::SetThreshold`] | `0x05` | threshold kind 1, amount (i64, minor units, >= 0) 8 |
//! | [`Command::WriteParameter`] | `0x06` | DL/T 645 data identifier (u32) 4, value bytes (any length) |
//! | [`Command::KeyUpdate`] | `0x07` | new key version (u16) 2, wrapped keys 48 |
//! | [`Command::MeterClear`] | `0x08` | empty |
//!
//! A response carries the command type of the command it answers and the payload
//! `status (u16) 2 || data (any length)` ([`Reply`]).
//!
//! Decoding is exact: a payload one byte short or long is refused.
//!
//! # Sessions
//!
//! Interactive sessions: the identity-authentication messages (shaped like DL/T 645 070000FF)
//! and the session record.
//!
//! ## Handshake
//!
//! ```text
//! head-end                                             meter
//!   R_H <- 16 random bytes
//!   AuthRequest { address, key version, R_H, proof_H }  ---->
//!                                       verify proof_H (a failure counts toward lock-out)
//!                                       R_M <- 16 random bytes, session id <- 4 random bytes
//!                                       S_enc || S_mac = KDF(K_auth, "PMv1-session",
//!                                                            R_H || response bytes 0..35)
//!   <----  AuthResponse { address, key version, session id, validity, R_M, proof_M }
//!   verify proof_M, derive the same session keys
//!   sealed commands in session mode, sequence 1, 2, 3, ...  ---->
//! ```
//!
//! `proof_H` shows the head-end holds `K_auth` (a replayed request gains nothing: the session
//! keys depend on the meter's fresh `R_M`); `proof_M` shows the meter holds it and answers this
//! request (it covers `R_H`). The first sealed command completes mutual authentication: its tag
//! needs keys that depend on `R_M`. A session ends after its validity (default 5 minutes, as
//! DL/T 645), on a new authentication, on a key update, or when the meter restarts: session
//! keys are never stored.
//!
//! ## Layouts (integers big-endian)
//!
//! ```text
//! AuthRequest                         AuthResponse
//!  0  1  format version 0x01           0  1  format version 0x01
//!  1  1  message type 0xA1             1  1  message type 0xA2
//!  2  6  meter address (BCD, MSB first) 2  6  meter address
//!  8  2  key version                   8  2  key version
//! 10  1  proof length T (8..=16)      10  1  proof length T
//! 11 16  R_H                          11  4  session id
//! 27  T  proof_H                      15  4  validity in seconds
//!                                     19 16  R_M
//!                                     35  T  proof_M
//!
//! proof_H = leftmost T bytes of KDF(K_auth, "PMv1-auth-req",  request bytes 0..27)
//! proof_M = leftmost T bytes of KDF(K_auth, "PMv1-auth-resp", R_H || response bytes 0..35)
//! ```
//!
//! The KDF is [`kdf::Kbkdf::derive_labelled`] with `L = 8 T`.
//!
//! # Security modules
//!
//! The security-module trait: every operation that touches a key, so that a hardware secure
//! element (or a head-end HSM) can stand in for the software implementation.
//!
//! The engines ([`MeterSecurity`], [`MeterSealer`]) decide *what* to seal or
//! open and check counters, sessions and lock-outs; a [`SecurityModule`] holds the keys and does
//! the cryptography. Keys never cross the trait: callers pass counter blocks, headers, payloads
//! and tags, and get tags, plaintext or a yes/no back.
//!
//! ## Keys a module holds
//!
//! | name | what for | where it comes from |
//! |---|---|---|
//! | `K_enc`, `K_mac`, `K_auth` | the meter's keys for [`SecurityModule::key_version`] | provisioning, then key updates ([`kdf`] recipe) |
//! | `S_enc`, `S_mac` | the current session | [`SecurityModule::start_session`] |
//! | staged `K_*'` | a key update waiting for commit | [`SecurityModule::stage_key_update`] |
//!
//! ## Exact recipes (what a hardware module must reproduce)
//!
//! All KDF calls are [`Kbkdf::derive_labelled`](kdf::Kbkdf::derive_labelled) under `K_auth`: SP 800-108 counter mode,
//! CMAC-AES128, counter before, `r = 32`, fixed input `Label || 00 || Context || [L]_32`.
//!
//! - **seal** (`keys` = meter or session): `payload ^= AES-CTR(K_enc, counter_block)` with a
//!   32-bit big-endian block counter in the last four bytes of the block, then
//!   `tag = leftmost(CMAC(K_mac, header || payload), tag.len())`.
//! - **open**: recompute the tag over `header || payload` (still ciphertext), compare in
//!   constant time, and decrypt only if it matches.
//! - **identity proof**: `leftmost(KDF(K_auth, label, context, L = 8 * len))` with label
//!   `PMv1-auth-req` or `PMv1-auth-resp` ([`ProofKind`]); verified in constant time.
//! - **session keys**: `S_enc || S_mac = KDF(K_auth, "PMv1-session", context, L = 256)`.
//! - **key update**: the 48-byte blob is `(K_enc' || K_mac' || K_auth') XOR KDF(K_auth,
//!   "PMv1-key-update", address (6 bytes, most significant first) || new version (2 bytes BE),
//!   L = 384)`. The blob travels inside a sealed command, which authenticates it.
//!
//! # Counters and lock-out
//!
//! Counters: the head-end's per-meter command counter and the meter's MAC-failure record with
//! its lock-out policy.
//!
//! ## Lock-out
//!
//! Every tag or identity proof that fails to verify on a frame addressed to the meter, with
//! its key version, counts as one failure (frames refused earlier, as malformed, replayed or
//! for another meter, do not: they cost no cryptography and teach an attacker nothing).
//!
//! - After `daily_limit` failures in one local day (DL/T 645 meters: 15) the meter refuses
//!   every sealed frame and authentication until the day ends. The day is the latest local
//!   day a failure was counted on and never moves backwards: a clock set back across midnight
//!   keeps counting against it, so only real time (or an authenticated clock step forwards)
//!   opens the meter again.
//! - After `suspend_after` failures with no success in between (DL/T 645: 200) the meter is
//!   suspended (挂起): sealed commands are refused before their tag is computed. Identity
//!   authentication is still checked (within the daily limit), and a verified one clears the
//!   suspension, so the head-end always has a remote way back in; a local action
//!   ([`MeterSecurity::clear_suspension`]) clears it too.
//!
//! While locked, frames are refused before their tag is computed, so an attacker without keys
//! gets at most `daily_limit` tag or proof guesses a day: 15 a day, 5 490 a year (366 days)
//! with the DL/T 645 policy, each with odds of 2^-64 against an 8-byte tag. The same attacker
//! can keep genuine commands out only while sending: 15 bad frames lock the meter until the
//! next local midnight, so a genuine recharge is delayed at most until the first midnight after
//! the attacker's last frame (under 24 hours); a suspension costs the head-end one
//! authentication, never a site visit.
//!
//! # Time
//!
//! The engine is handed `now` by the caller. Validity windows (`valid_until`) are judged at
//! `max(now, latest)`, where [`SecurityState::latest`] is the latest time a command was
//! accepted or an authentication verified: setting the clock back does not reopen a command
//! that had expired. A session is valid only from its start to the end of its validity, so a
//! clock set back before its start ends it.

mod command;
mod counter;
mod engine;
mod error;
pub mod kdf;
mod master;
mod module;
mod primitive;
mod seal;
mod session;

pub use command::{
    Command, CommandType, KeyUpdate, PayloadError, RelayControl, Reply, Status, Threshold,
};
pub use counter::{CommandCounter, FailureRecord, Lockout, LockoutPolicy, SecurityConfigError};
pub use engine::{Committed, MeterSecurity, PendingCommand, SecurityConfig, SecurityState};
pub use error::{OpenError, SealError};
pub use master::{MasterKey, MeterSealer, Opened, Sealed};
pub use module::{
    KEY_UPDATE_LABEL, KeySet, MAX_SEAL_LEN, MeterKeys, ModuleError, ProofKind, SESSION_LABEL,
    SecurityModule, SoftwareModule, WRAPPED_KEYS_LEN,
};
pub use seal::{
    FORMAT_VERSION, FrameError, FrameRole, HEADER_LEN, Header, MAX_PAYLOAD_LEN, Mode, SealedFrame,
    TagLength, frame_len,
};
pub use session::{
    AUTH_REQUEST_BODY_LEN, AUTH_REQUEST_TYPE, AUTH_RESPONSE_BODY_LEN, AUTH_RESPONSE_TYPE,
    AuthRequest, AuthResponse, CHALLENGE_LEN, SessionInfo,
};
