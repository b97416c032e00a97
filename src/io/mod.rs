//! embedded-io adapters: DL/T 645 frames over any [`embedded_io::Read`] and
//! [`embedded_io::Write`] (a UART, an RS485 transceiver, a TCP socket).
//!
//! [`FrameReader`] runs the [`StreamDecoder`] over a reader, so it skips preambles and
//! garbage and resynchronises after bad frames; [`FrameWriter`] emits requests and responses.
//! Both keep fixed buffers. On a server, `std` streams plug in through any adapter that
//! implements embedded-io for them (for example `embedded-io-adapters`' `FromStd`).
//!
//! ```
//! use prepaid_meter::io::{FrameReader, FrameWriter};
//! use prepaid_meter::wire::dlt645::{FrameRepr, Request};
//! use prepaid_meter::address::Address;
//!
//! // Write a request into a byte buffer (a `&mut [u8]` is an embedded-io writer)...
//! let mut wire = [0u8; 64];
//! let mut writer: FrameWriter<&mut [u8]> = FrameWriter::new(&mut wire[..]);
//! let n = writer.send_request(Address::WILDCARD, &Request::ReadAddress, 4).unwrap();
//! // ...and read it back from the bytes (a `&[u8]` is an embedded-io reader).
//! let mut reader: FrameReader<&[u8]> = FrameReader::new(&wire[..n]);
//! let frame = reader.read_frame().unwrap();
//! let repr = FrameRepr::parse(&frame).unwrap();
//! assert_eq!(Request::parse(&repr), Ok(Request::ReadAddress));
//! ```

use core::fmt;

use embedded_io::{Read, Write};

use crate::address::Address;
use crate::wire::dlt645::{self, Frame, MAX_FRAME_LEN, Request, Response, StreamDecoder};

/// Why no frame could be read.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub enum ReadError<E> {
    /// The reader reached its end (read returned 0).
    Eof,
    /// The reader failed.
    Io(E),
}

impl<E: fmt::Debug> fmt::Display for ReadError<E> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ReadError::Eof => f.write_str("end of stream"),
            ReadError::Io(e) => write!(f, "read failed: {e:?}"),
        }
    }
}

impl<E: fmt::Debug> core::error::Error for ReadError<E> {}

/// Why a frame could not be written.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub enum WriteError<E> {
    /// The frame could not be emitted (too long for the buffer).
    Frame(dlt645::Error),
    /// The writer failed.
    Io(E),
}

impl<E: fmt::Debug> fmt::Display for WriteError<E> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            WriteError::Frame(e) => write!(f, "cannot emit frame: {e}"),
            WriteError::Io(e) => write!(f, "write failed: {e:?}"),
        }
    }
}

impl<E: fmt::Debug> core::error::Error for WriteError<E> {}

/// Reads DL/T 645 frames from a byte stream, in fixed memory (`N` bytes of frame buffer plus
/// a 64-byte read buffer).
#[derive(Debug)]
pub struct FrameReader<R, const N: usize = MAX_FRAME_LEN> {
    inner: R,
    decoder: StreamDecoder<N>,
    chunk: [u8; 64],
    pos: usize,
    len: usize,
}

impl<R: Read, const N: usize> FrameReader<R, N> {
    /// A reader over `inner`.
    pub fn new(inner: R) -> Self {
        FrameReader {
            inner,
            decoder: StreamDecoder::new(),
            chunk: [0; 64],
            pos: 0,
            len: 0,
        }
    }

    /// Blocks until a frame with valid framing arrives and returns it (without preamble); it
    /// stays valid until the next call. Bytes after it stay buffered for the next call.
    pub fn read_frame(&mut self) -> Result<Frame<&[u8]>, ReadError<R::Error>> {
        loop {
            let mut input = self.chunk.get(self.pos..self.len).unwrap_or_default();
            let ready = self.decoder.push(&mut input);
            self.pos = self.len - input.len();
            if ready {
                break;
            }
            let n = self.inner.read(&mut self.chunk).map_err(ReadError::Io)?;
            if n == 0 {
                return Err(ReadError::Eof);
            }
            self.pos = 0;
            self.len = n.min(self.chunk.len());
        }
        self.decoder.frame().ok_or(ReadError::Eof)
    }

    /// Drops a partial frame (after an inter-frame timeout).
    pub fn reset(&mut self) {
        self.decoder.reset();
    }

    /// The decoder (for its counters).
    pub fn decoder(&self) -> &StreamDecoder<N> {
        &self.decoder
    }

    /// The reader.
    pub fn get_mut(&mut self) -> &mut R {
        &mut self.inner
    }

    /// The reader back.
    pub fn into_inner(self) -> R {
        self.inner
    }
}

/// Writes DL/T 645 frames to a byte stream through an `N`-byte frame buffer (the default holds
/// the longest frame and a 4-byte preamble).
#[derive(Debug)]
pub struct FrameWriter<W, const N: usize = { MAX_FRAME_LEN + 4 }> {
    inner: W,
    buf: [u8; N],
}

impl<W: Write, const N: usize> FrameWriter<W, N> {
    /// A writer over `inner`.
    pub fn new(inner: W) -> Self {
        FrameWriter { inner, buf: [0; N] }
    }

    /// Sends a request to `address` after `preamble` bytes `FE`; returns the bytes written.
    pub fn send_request(
        &mut self,
        address: Address,
        request: &Request<'_>,
        preamble: usize,
    ) -> Result<usize, WriteError<W::Error>> {
        let n = request
            .emit(address, &mut self.buf, preamble)
            .map_err(WriteError::Frame)?;
        self.send_raw_buffered(n)
    }

    /// Sends a response from `address` after `preamble` bytes `FE`; returns the bytes written.
    pub fn send_response(
        &mut self,
        address: Address,
        response: &Response<'_>,
        preamble: usize,
    ) -> Result<usize, WriteError<W::Error>> {
        let n = response
            .emit(address, &mut self.buf, preamble)
            .map_err(WriteError::Frame)?;
        self.send_raw_buffered(n)
    }

    /// Sends bytes already framed (a server's answer), then flushes.
    pub fn send_raw(&mut self, frame: &[u8]) -> Result<usize, WriteError<W::Error>> {
        self.inner.write_all(frame).map_err(WriteError::Io)?;
        self.inner.flush().map_err(WriteError::Io)?;
        Ok(frame.len())
    }

    fn send_raw_buffered(&mut self, n: usize) -> Result<usize, WriteError<W::Error>> {
        let bytes = self.buf.get(..n).unwrap_or_default();
        self.inner.write_all(bytes).map_err(WriteError::Io)?;
        self.inner.flush().map_err(WriteError::Io)?;
        Ok(n)
    }

    /// The writer.
    pub fn get_mut(&mut self) -> &mut W {
        &mut self.inner
    }

    /// The writer back.
    pub fn into_inner(self) -> W {
        self.inner
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::wire::dlt645::{Di, FrameRepr, ReadForm};

    /// A reader that hands out its bytes in small, uneven pieces.
    struct Trickle<'a> {
        bytes: &'a [u8],
        step: usize,
    }

    impl embedded_io::ErrorType for Trickle<'_> {
        type Error = core::convert::Infallible;
    }

    impl Read for Trickle<'_> {
        fn read(&mut self, buf: &mut [u8]) -> Result<usize, Self::Error> {
            self.step = self.step % 5 + 1;
            let n = self.step.min(buf.len()).min(self.bytes.len());
            let (head, rest) = self.bytes.split_at(n);
            buf[..n].copy_from_slice(head);
            self.bytes = rest;
            Ok(n)
        }
    }

    #[test]
    fn frames_through_a_trickling_reader() {
        let mut wire = [0u8; 256];
        let mut w: FrameWriter<&mut [u8]> = FrameWriter::new(&mut wire[..]);
        let mut total = 0;
        for di in [0x0001_0000, 0x0090_0200, 0x0400_0101] {
            let req = Request::Read {
                di: Di(di),
                form: ReadForm::Single,
            };
            total += w
                .send_request(Address::from_number(161).unwrap(), &req, 4)
                .unwrap();
        }
        let mut r: FrameReader<Trickle<'_>> = FrameReader::new(Trickle {
            bytes: &wire[..total],
            step: 0,
        });
        for di in [0x0001_0000, 0x0090_0200, 0x0400_0101] {
            let frame = r.read_frame().unwrap();
            let repr = FrameRepr::parse(&frame).unwrap();
            assert_eq!(
                Request::parse(&repr).unwrap(),
                Request::Read {
                    di: Di(di),
                    form: ReadForm::Single
                }
            );
        }
        assert!(matches!(r.read_frame(), Err(ReadError::Eof)));
        assert_eq!(r.decoder().skipped(), 12, "three 4-byte preambles");
    }

    #[test]
    fn writer_errors() {
        let mut tiny = [0u8; 8];
        let mut w: FrameWriter<&mut [u8]> = FrameWriter::new(&mut tiny[..]);
        assert!(matches!(
            w.send_request(Address::WILDCARD, &Request::ReadAddress, 0),
            Err(WriteError::Io(_))
        ));
        let mut w: FrameWriter<&mut [u8], 8> = FrameWriter::new(&mut tiny[..]);
        assert_eq!(
            w.send_request(Address::WILDCARD, &Request::ReadAddress, 0),
            Err(WriteError::Frame(dlt645::Error::BufferTooSmall))
        );
    }
}
