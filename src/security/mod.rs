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
//! | module | holds |
//! |---|---|
//! | [`kdf`] | NIST SP 800-108 KBKDF (counter mode, CMAC-AES128, and the r1 `K0` variant); the per-meter key recipe |
//! | [`module`] | the [`SecurityModule`] trait (every key operation) and [`SoftwareModule`], its software AES implementation |
//! | [`seal`] | the sealed-frame wire format: header, AES-CTR payload, truncated CMAC tag; counter blocks |
//! | [`command`] | typed command and response payloads and their encodings |
//! | [`session`] | the identity-authentication messages and the session record |
//! | [`counter`] | the head-end's [`CommandCounter`], the meter's failure record and lock-out policy |
//! | `engine` | [`MeterSecurity`]: opening commands in two phases ([`PendingCommand`], [`Committed`]) |
//! | `headend` | [`HeadEnd`], [`HeadEndMeter`]: sealing for any meter, opening responses |
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
//! - **Session** (interactive): after the identity authentication ([`session`]), commands carry
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
//! accepted before the restart stays a replay after it.
//!
//! # Panics
//!
//! Nothing here panics on any input; every error is a typed value, and the wire modules deny
//! slice indexing.

pub mod command;
pub mod counter;
mod engine;
mod error;
mod headend;
pub mod kdf;
pub mod module;
mod primitive;
pub mod seal;
pub mod session;

pub use command::{
    Command, CommandType, KeyUpdate, PayloadError, RelayControl, Response, Status, Threshold,
};
pub use counter::{CommandCounter, ConfigError, FailureRecord, Lockout, LockoutPolicy};
pub use engine::{Committed, MeterSecurity, PendingCommand, SecurityConfig, SecurityState};
pub use error::{OpenError, SealError};
pub use headend::{HeadEnd, HeadEndMeter, Opened, Sealed};
pub use kdf::{CounterLocation, Kbkdf, KdfError, KeyPurpose, SecretKey};
pub use module::{KeySet, MeterKeys, ModuleError, SecurityModule, SoftwareModule};
pub use seal::{Direction, FrameError, Header, Mode, SealedFrame, TagLength};
pub use session::SessionInfo;
