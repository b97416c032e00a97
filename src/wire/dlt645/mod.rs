//! DL/T 645-2007 (and DL/T 645-1997) frames: views, representations, data identifiers and a
//! stream decoder.
//!
//! ```text
//! FE×n | 68 | A0..A5 | 68 | C | L | DATA (each byte +33H) | CS | 16
//! ```
//!
//! - The preamble (`FE`, usually 4 of them) wakes receivers up; it is not part of the frame.
//!   [`skip_preamble`] drops it, [`FrameRepr::emit`] writes as many as asked.
//! - The address is 12 BCD digits, low byte first ([`Address`](crate::address::Address)); the
//!   broadcast address `999999999999` and wildcard nibbles `A` are allowed.
//! - `C` is the [`Control`] byte: direction, error answer, follow-up and a 5-bit [`Function`].
//! - `L` is the number of data bytes, at most [`MAX_DATA_LEN`] = 255 (the length byte's range).
//!   The standard caps read answers at 200 bytes and written data at 50 (from secondary sources);
//!   this codec parses any `L` and leaves such limits to the meter-side server, which splits
//!   longer answers into follow-up frames of at most
//!   [`MAX_READ_DATA_LEN`] bytes.
//! - Every data byte goes on the wire plus 33H; a [`Data`] view removes the offset on the fly.
//! - `CS` is the sum modulo 256 of the bytes from the first `68` through the last data byte.
//!   The end of a frame is found from `L`, never by scanning for `16`: the checksum itself may be
//!   16H.
//!
//! The levels:
//!
//! | level | types |
//! |---|---|
//! | frame view | [`Frame`]: fields in place, in any `AsRef<[u8]>` buffer |
//! | frame representation | [`FrameRepr`]: address, control, data; `parse`, `buffer_len`, `emit` |
//! | function payloads | [`Request`], [`Response`]: typed data for every function code |
//! | data identifiers | [`Di`], [`Di97`] and the [`registry`] of formats, units and access |
//! | byte streams | [`StreamDecoder`]: frames out of a serial or TCP byte stream, fixed memory |
//!
//! ```
//! use prepaid_meter::wire::dlt645::{skip_preamble, Frame, FrameRepr, Function, Request, Di};
//! let bytes = [0xFE, 0xFE, 0xFE, 0xFE, 0x68, 0x61, 0x01, 0x00, 0x00, 0x00, 0x00, 0x68,
//!              0x11, 0x04, 0x33, 0x33, 0x34, 0x33, 0x14, 0x16];
//! let frame = Frame::new_checked(skip_preamble(&bytes)).unwrap();
//! let repr = FrameRepr::parse(&frame).unwrap();
//! assert_eq!(repr.address.to_string(), "000000000161");
//! assert_eq!(repr.control.function, Function::Read);
//! let request = Request::parse(&repr).unwrap();
//! assert!(matches!(request, Request::Read { di: Di(0x0001_0000), .. }));
//!
//! // And back: the same frame, with its preamble.
//! let mut out = [0u8; 32];
//! let n = request.emit(repr.address, &mut out, 4).unwrap();
//! assert_eq!(&out[..n], &bytes[..]);
//! ```
//!
//! # Panic contract
//!
//! See [the `wire` module](crate::wire): nothing here panics, whatever the input.
#![deny(clippy::indexing_slicing)]

mod di;
mod error;
mod frame;
mod payload;
pub mod registry;
mod stream;

pub use di::{Di, Di97};
pub use error::Error;
pub use frame::{
    Control, DATA_OFFSET, Data, DataWriter, Direction, END, Frame, FrameRepr, Function, HEADER_LEN,
    MAX_DATA_LEN, MAX_FRAME_LEN, MIN_FRAME_LEN, PREAMBLE, START, checksum, emit_frame,
    skip_preamble,
};
pub use payload::{
    BaudRate, ErrorCode, FreezeTime, MAX_READ_DATA_LEN, OperatorCode, Password, ReadForm,
    RelayOrder, RelayStatusWord, Request, Response, SecurityErrorWord,
};
pub use stream::StreamDecoder;

/// Result of the fallible operations of this module.
pub type Result<T> = core::result::Result<T, Error>;
