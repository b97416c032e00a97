//! Wire formats: zero-copy frame views and representations, no state and no decisions.
//!
//! The layout follows smoltcp's `wire` module. Each protocol has two levels:
//!
//! - a **frame view** (`Frame<T: AsRef<[u8]>>`) that reads and writes fields in place in any
//!   byte buffer, without copying;
//! - a **representation** (`Repr`) of the fields' meaning, with `parse` (from a view, validating
//!   everything) and `buffer_len`/`emit` (into a buffer).
//!
//! Logic (the meter-side server, the master-side client) lives outside `wire` and only sees
//! representations.
//!
//! ```
//! use prepaid_meter::wire::dlt645::{Frame, FrameRepr, Function};
//!
//! // A read answer from meter 201000000012 (balance 00900200), as it arrives on the line.
//! let bytes = [
//!     0x68, 0x12, 0x00, 0x00, 0x00, 0x10, 0x20, 0x68, 0x91, 0x08, 0x33, 0x35, 0xC3, 0x33, 0x89,
//!     0xCB, 0x34, 0x33, 0xC4, 0x16,
//! ];
//! let frame = Frame::new_checked(&bytes[..]).unwrap(); // a view: nothing copied
//! let repr = FrameRepr::parse(&frame).unwrap(); // every field checked
//! assert_eq!(repr.address.to_string(), "201000000012");
//! assert_eq!(repr.control.function, Function::Read);
//! ```
//!
//! # Panic contract
//!
//! Nothing in this module panics, on any input, whatever the buffer length: accessors of a view
//! over a buffer that is too short return zeroes or empty slices instead of panicking, and every
//! operation that can fail returns a typed error. In addition, as in smoltcp:
//!
//! - when parsing **untrusted input** use `Frame::new_checked` (or the stream decoder), then
//!   `Repr::parse`; a frame that passes `new_checked` has every field its length byte promises;
//! - `Frame::new_unchecked` is for buffers the caller is building;
//! - `Repr::emit` fails with a typed error (never panics) when the buffer is shorter than
//!   `buffer_len`.
//!
//! The modules deny `clippy::indexing_slicing`, so no slice index can sneak in.
//!
//! # Fuzzing
//!
//! Under `cfg(fuzzing)` checksum verification always succeeds, so that a fuzzer reaches the
//! payload parsers.

pub mod dlt645;
pub mod gdw1376;
