//! Security: key derivation, sealed commands, sessions and anti-replay (work in progress).

pub mod kdf;
pub mod module;
mod primitive;
