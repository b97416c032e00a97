//! embedded-io adapters: DL/T 645 frames over any [`embedded_io::Read`] and
//! [`embedded_io::Write`] (a UART, an RS485 transceiver, a TCP socket).
//!
//! [`FrameReader`] runs the [`StreamDecoder`] over a reader, so it skips preambles and
//! garbage and resynchronises after bad frames; [`FrameWriter`] emits requests and responses.
//! Both keep fixed buffers. On a server, `std` streams plug in through any adapter that
//! implements embedded-io for them (for example `embedded-io-adapters`' `FromStd`).
//!
//! ## Inter-byte timeout
//!
//! A serial line has no framing of its own: a frame cut short by noise or a collision leaves
//! a partial frame in the decoder, which would swallow the start of the next one. DL/T 645
//! devices therefore drop a partial frame when the line has been quiet for a while (about
//! 500 ms at 2400 baud). [`FrameReader::read_frame`] blocks on [`Read`] and cannot see time
//! pass, so it applies no timeout; [`FrameReader::poll_frame`] does. It takes the current time
//! from the caller (the crate reads no clock) and reads only what
//! [`ReadReady`] says is already received, so it never blocks: call it
//! from the main loop. Bytes are stamped with the `now` of the poll that read them, and a poll
//! that finds no new bytes, with a partial frame held for longer than the timeout
//! ([`FrameReader::set_inter_byte_timeout`], default [`DEFAULT_INTER_BYTE_TIMEOUT`]), drops it.
//!
//! This shape was chosen over a blocking `read_frame_until(deadline)`, which would need a
//! clock inside the reader, and over feeding bytes by hand, which the [`StreamDecoder`] already
//! offers: embedded-io 0.7's `ReadReady` is what a HAL's UART implements for "bytes waiting",
//! and it keeps the reader sans-clock.
//!
//! ```
//! # use core::convert::Infallible;
//! # #[derive(Default)] struct Uart { rx: Vec<u8> } // a UART of your HAL with a receive buffer
//! # impl embedded_io::ErrorType for Uart { type Error = Infallible; }
//! # impl embedded_io::Read for Uart {
//! #     fn read(&mut self, buf: &mut [u8]) -> Result<usize, Infallible> {
//! #         let n = buf.len().min(self.rx.len());
//! #         buf[..n].copy_from_slice(&self.rx[..n]);
//! #         self.rx.drain(..n);
//! #         Ok(n)
//! #     }
//! # }
//! # impl embedded_io::ReadReady for Uart {
//! #     fn read_ready(&mut self) -> Result<bool, Infallible> { Ok(!self.rx.is_empty()) }
//! # }
//! use prepaid_meter::address::Address;
//! use prepaid_meter::io::FrameReader;
//! use prepaid_meter::time::{Duration, Instant};
//! use prepaid_meter::wire::dlt645::Request;
//!
//! let mut frame = [0u8; 32];
//! let n = Request::ReadAddress.emit(Address::WILDCARD, &mut frame, 0).unwrap();
//! let mut reader = FrameReader::new(Uart::default());
//! reader.set_inter_byte_timeout(Some(Duration::from_millis(500)));
//! // The first half of a frame, then the line goes quiet for 600 ms: the half is dropped.
//! reader.get_mut().rx.extend_from_slice(&frame[..6]);
//! assert!(reader.poll_frame(Instant::from_millis(0)).unwrap().is_none());
//! assert!(reader.poll_frame(Instant::from_millis(600)).unwrap().is_none());
//! assert_eq!(reader.timeouts(), 1);
//! // A whole frame, in two chunks 100 ms apart: read.
//! reader.get_mut().rx.extend_from_slice(&frame[..6]);
//! assert!(reader.poll_frame(Instant::from_millis(1_000)).unwrap().is_none());
//! reader.get_mut().rx.extend_from_slice(&frame[6..n]);
//! assert!(reader.poll_frame(Instant::from_millis(1_100)).unwrap().is_some());
//! ```
//!
//! ```
//! use prepaid_meter::io::{FrameReader, FrameWriter};
//! use prepaid_meter::wire::dlt645::{FrameRepr, Request};
//! use prepaid_meter::address::Address;
//!
//! // Write a request into a byte buffer (a `&mut [u8]` is an embedded-io writer)...
//! let mut wire = [0u8; 64];
//! let mut writer = FrameWriter::new(&mut wire[..]);
//! let n = writer.send_request(Address::WILDCARD, &Request::ReadAddress, 4).unwrap();
//! // ...and read it back from the bytes (a `&[u8]` is an embedded-io reader).
//! let mut reader = FrameReader::new(&wire[..n]);
//! let frame = reader.read_frame().unwrap();
//! let repr = FrameRepr::parse(&frame).unwrap();
//! assert_eq!(Request::parse(&repr), Ok(Request::ReadAddress));
//! ```

use core::fmt;

use embedded_io::{Read, ReadReady, Write};

use crate::address::Address;
use crate::time::{Duration, Instant};
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

/// The inter-byte timeout a new [`FrameReader`] applies in [`FrameReader::poll_frame`]: 500 ms,
/// the gap after which DL/T 645 devices at 2400 baud drop a partial frame.
pub const DEFAULT_INTER_BYTE_TIMEOUT: Duration = Duration::from_millis(500);

/// Reads DL/T 645 frames from a byte stream, in fixed memory (`N` bytes of frame buffer plus
/// a 64-byte read buffer).
///
/// [`read_frame`](Self::read_frame) blocks until a frame arrives; on a serial line,
/// [`poll_frame`](Self::poll_frame) reads without blocking and drops a partial frame after the
/// inter-byte timeout (see the [module docs](self)).
#[derive(Debug)]
pub struct FrameReader<R, const N: usize = MAX_FRAME_LEN> {
    inner: R,
    decoder: StreamDecoder<N>,
    chunk: [u8; 64],
    pos: usize,
    len: usize,
    timeout: Option<Duration>,
    /// The `now` of the poll that last read bytes.
    last_rx: Option<Instant>,
    timeouts: u32,
}

impl<R: Read> FrameReader<R> {
    /// [`FrameReader::new_sized`] at the default capacities, so that a call needs no type
    /// annotations; see it for the details.
    pub fn new(inner: R) -> Self {
        Self::new_sized(inner)
    }
}

impl<R: Read, const N: usize> FrameReader<R, N> {
    /// A reader over `inner`.
    ///
    /// Generic over the capacities (name them, `FrameReader::<..>::new_sized`, or let them be
    /// inferred from where the result goes); [`FrameReader::new`] is this at the default ones.
    pub fn new_sized(inner: R) -> Self {
        FrameReader {
            inner,
            decoder: StreamDecoder::new_sized(),
            chunk: [0; 64],
            pos: 0,
            len: 0,
            timeout: Some(DEFAULT_INTER_BYTE_TIMEOUT),
            last_rx: None,
            timeouts: 0,
        }
    }

    /// Sets the gap after which [`poll_frame`](Self::poll_frame) drops a partial frame
    /// (`None`: never). A zero timeout drops a partial frame at any poll that finds no new
    /// bytes at a later instant. [`read_frame`](Self::read_frame) ignores it.
    pub fn set_inter_byte_timeout(&mut self, timeout: Option<Duration>) {
        self.timeout = timeout;
    }

    /// The inter-byte timeout ([`DEFAULT_INTER_BYTE_TIMEOUT`] unless set).
    pub fn inter_byte_timeout(&self) -> Option<Duration> {
        self.timeout
    }

    /// Partial frames dropped by the inter-byte timeout so far, saturating. Their bytes are
    /// also counted in the decoder's [`skipped`](StreamDecoder::skipped).
    pub fn timeouts(&self) -> u32 {
        self.timeouts
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

    /// Feeds the buffered bytes to the decoder; `true` if a frame is ready. The buffer is empty
    /// when it returns `false`.
    fn push_buffered(&mut self) -> bool {
        let mut input = self.chunk.get(self.pos..self.len).unwrap_or_default();
        let ready = self.decoder.push(&mut input);
        self.pos = self.len - input.len();
        ready
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

impl<R: Read + ReadReady, const N: usize> FrameReader<R, N> {
    /// Reads what has arrived without blocking, at `now` (the caller's monotonic clock), and
    /// returns a frame with valid framing if one is complete (it stays valid until the next
    /// call), or `None` if none is yet. Call it from the main loop, more often than the
    /// inter-byte timeout (a tenth of it is plenty).
    ///
    /// Bytes read are stamped with `now`. When a poll finds nothing waiting
    /// ([`ReadReady::read_ready`] is `false`) and the last bytes were read longer than the
    /// inter-byte timeout before `now`, a partial frame is dropped (counted in
    /// [`timeouts`](Self::timeouts)), so the next frame is decoded from its first byte. A poll
    /// that finds bytes waiting never drops the partial frame, as they may have arrived in
    /// time. Complete frames already received are returned before anything is dropped. A
    /// `now` earlier than the last stamp counts as no gap.
    ///
    /// Errors: [`ReadError::Eof`] if the reader said bytes were ready but returned none,
    /// [`ReadError::Io`] if reading or `read_ready` failed (the decoder keeps its bytes).
    pub fn poll_frame(
        &mut self,
        now: Instant,
    ) -> Result<Option<Frame<&[u8]>>, ReadError<R::Error>> {
        loop {
            if self.push_buffered() {
                return Ok(self.decoder.frame());
            }
            if !self.inner.read_ready().map_err(ReadError::Io)? {
                self.expire(now);
                return Ok(None);
            }
            let n = self.inner.read(&mut self.chunk).map_err(ReadError::Io)?;
            if n == 0 {
                return Err(ReadError::Eof);
            }
            self.pos = 0;
            self.len = n.min(self.chunk.len());
            self.last_rx = Some(now);
        }
    }

    /// The line is quiet at `now`: drops a partial frame held past the timeout.
    fn expire(&mut self, now: Instant) {
        let (Some(timeout), Some(last)) = (self.timeout, self.last_rx) else {
            return;
        };
        let Some(gap) = now.checked_duration_since(last) else {
            return;
        };
        if gap <= timeout {
            return;
        }
        if self.decoder.buffered() > 0 {
            self.decoder.reset();
            self.timeouts = self.timeouts.saturating_add(1);
        }
        self.last_rx = None;
    }
}

/// Writes DL/T 645 frames to a byte stream through an `N`-byte frame buffer (the default holds
/// the longest frame and a 4-byte preamble).
#[derive(Debug)]
pub struct FrameWriter<W, const N: usize = { MAX_FRAME_LEN + 4 }> {
    inner: W,
    buf: [u8; N],
}

impl<W: Write> FrameWriter<W> {
    /// [`FrameWriter::new_sized`] at the default capacities, so that a call needs no type
    /// annotations; see it for the details.
    pub fn new(inner: W) -> Self {
        Self::new_sized(inner)
    }
}

impl<W: Write, const N: usize> FrameWriter<W, N> {
    /// A writer over `inner`.
    ///
    /// Generic over the capacities (name them, `FrameWriter::<..>::new_sized`, or let them be
    /// inferred from where the result goes); [`FrameWriter::new`] is this at the default ones.
    pub fn new_sized(inner: W) -> Self {
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
        let mut w = FrameWriter::new(&mut wire[..]);
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
        let mut r = FrameReader::new(Trickle {
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
        let mut w = FrameWriter::new(&mut tiny[..]);
        assert!(matches!(
            w.send_request(Address::WILDCARD, &Request::ReadAddress, 0),
            Err(WriteError::Io(_))
        ));
        let mut w = FrameWriter::<&mut [u8], 8>::new_sized(&mut tiny[..]);
        assert_eq!(
            w.send_request(Address::WILDCARD, &Request::ReadAddress, 0),
            Err(WriteError::Frame(dlt645::Error::BufferTooSmall))
        );
    }

    /// A UART receive buffer: what the test pushes is "received"; `read_ready` says whether
    /// anything is waiting.
    #[derive(Default)]
    struct Line {
        rx: std::collections::VecDeque<u8>,
        fail_ready: bool,
        lie: bool,
    }

    impl embedded_io::ErrorType for Line {
        type Error = embedded_io::ErrorKind;
    }

    impl Read for Line {
        fn read(&mut self, buf: &mut [u8]) -> Result<usize, Self::Error> {
            let n = buf.len().min(self.rx.len());
            for (dst, b) in buf.iter_mut().zip(self.rx.drain(..n)) {
                *dst = b;
            }
            Ok(n)
        }
    }

    impl ReadReady for Line {
        fn read_ready(&mut self) -> Result<bool, Self::Error> {
            if self.fail_ready {
                return Err(embedded_io::ErrorKind::Other);
            }
            Ok(self.lie || !self.rx.is_empty())
        }
    }

    fn read_address() -> std::vec::Vec<u8> {
        let mut buf = [0u8; 32];
        let n = Request::ReadAddress
            .emit(Address::WILDCARD, &mut buf, 0)
            .unwrap();
        buf[..n].to_vec()
    }

    /// The header of a frame that announces 200 data bytes and never sends them.
    const CUT: [u8; 10] = [0x68, 0xAA, 0xAA, 0xAA, 0xAA, 0xAA, 0xAA, 0x68, 0x11, 200];

    fn ms(ms: u64) -> Instant {
        Instant::from_millis(ms)
    }

    fn reader() -> FrameReader<Line> {
        FrameReader::new(Line::default())
    }

    fn receive(r: &mut FrameReader<Line>, bytes: &[u8]) {
        r.get_mut().rx.extend(bytes.iter().copied());
    }

    fn poll(r: &mut FrameReader<Line>, at: u64) -> Option<std::vec::Vec<u8>> {
        r.poll_frame(ms(at)).unwrap().map(|f| f.as_bytes().to_vec())
    }

    #[test]
    fn a_gap_longer_than_the_timeout_drops_a_partial_frame() {
        let frame = read_address();
        let mut r = reader();
        assert_eq!(r.inter_byte_timeout(), Some(DEFAULT_INTER_BYTE_TIMEOUT));
        receive(&mut r, &CUT);
        assert_eq!(poll(&mut r, 0), None);
        assert_eq!(
            poll(&mut r, 500),
            None,
            "500 ms is not longer than the timeout"
        );
        assert_eq!(r.timeouts(), 0);
        assert_eq!(poll(&mut r, 501), None);
        assert_eq!(r.timeouts(), 1);
        assert_eq!(r.decoder().buffered(), 0);
        assert_eq!(r.decoder().skipped(), 10);
        // The next frame is decoded from its first byte.
        receive(&mut r, &frame);
        assert_eq!(poll(&mut r, 2_000), Some(frame.clone()));
        // Quiet lines with nothing held count no timeouts.
        assert_eq!(poll(&mut r, 9_000), None);
        assert_eq!(r.timeouts(), 1);

        // Without the timeout the partial frame swallows the next one.
        let mut r = reader();
        r.set_inter_byte_timeout(None);
        receive(&mut r, &CUT);
        assert_eq!(poll(&mut r, 0), None);
        assert_eq!(poll(&mut r, 10_000), None);
        receive(&mut r, &frame);
        assert_eq!(poll(&mut r, 10_001), None);
        assert_eq!(r.timeouts(), 0);
    }

    #[test]
    fn a_frame_in_slow_chunks_within_the_timeout_is_read() {
        let frame = read_address();
        let mut r = reader();
        r.set_inter_byte_timeout(Some(Duration::from_millis(300)));
        let mut t = 0;
        for (i, b) in frame.iter().enumerate() {
            receive(&mut r, &[*b]);
            let got = poll(&mut r, t);
            // Quiet polls between the bytes, within the timeout.
            assert_eq!(poll(&mut r, t + 150), None);
            if i + 1 < frame.len() {
                assert_eq!(got, None, "byte {i}");
                assert_eq!(poll(&mut r, t + 300), None);
            } else {
                assert_eq!(got, Some(frame.clone()));
            }
            t += 300;
        }
        assert_eq!((r.timeouts(), r.decoder().skipped()), (0, 0));
    }

    #[test]
    fn frames_received_before_a_gap_are_not_dropped() {
        let frame = read_address();
        let mut r = reader();
        let mut two = frame.clone();
        two.extend_from_slice(&frame);
        two.extend_from_slice(&frame[..5]);
        receive(&mut r, &two);
        assert_eq!(poll(&mut r, 0), Some(frame.clone()));
        // Polled again only after a long gap: the second frame is still returned, then the
        // partial third is dropped.
        assert_eq!(poll(&mut r, 5_000), Some(frame.clone()));
        assert_eq!(poll(&mut r, 5_000), None);
        assert_eq!(r.timeouts(), 1);
    }

    #[test]
    fn bytes_waiting_after_a_gap_are_kept() {
        // A caller that did not poll during the gap cannot tell when waiting bytes arrived,
        // so they are kept with the partial frame.
        let frame = read_address();
        let mut r = reader();
        receive(&mut r, &frame[..4]);
        assert_eq!(poll(&mut r, 0), None);
        receive(&mut r, &frame[4..]);
        assert_eq!(poll(&mut r, 5_000), Some(frame.clone()));
        // A clock that goes back is no gap.
        receive(&mut r, &frame[..4]);
        assert_eq!(poll(&mut r, 6_000), None);
        assert_eq!(poll(&mut r, 1_000), None);
        receive(&mut r, &frame[4..]);
        assert_eq!(poll(&mut r, 6_100), Some(frame.clone()));
        assert_eq!(r.timeouts(), 0);
    }

    #[test]
    fn a_zero_timeout_drops_at_the_next_quiet_instant() {
        let frame = read_address();
        let mut r = reader();
        r.set_inter_byte_timeout(Some(Duration::ZERO));
        receive(&mut r, &frame[..4]);
        assert_eq!(poll(&mut r, 10), None);
        assert_eq!(poll(&mut r, 10), None, "same instant: no gap");
        assert_eq!(r.timeouts(), 0);
        assert_eq!(poll(&mut r, 11), None);
        assert_eq!(r.timeouts(), 1);
    }

    #[test]
    fn poll_errors() {
        let mut r = reader();
        r.get_mut().fail_ready = true;
        assert!(matches!(r.poll_frame(ms(0)), Err(ReadError::Io(_))));
        let mut r = reader();
        r.get_mut().lie = true;
        assert!(matches!(r.poll_frame(ms(0)), Err(ReadError::Eof)));
        // read_frame is unchanged: it blocks (here: reads to the end) and ignores the timeout.
        let frame = read_address();
        let mut r = reader();
        receive(&mut r, &frame[..3]);
        assert!(matches!(r.read_frame(), Err(ReadError::Eof)));
        receive(&mut r, &frame[3..]);
        assert_eq!(r.read_frame().unwrap().as_bytes(), &frame[..]);
    }
}
