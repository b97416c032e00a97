//! Frames out of a byte stream.

use super::frame::{Frame, MAX_FRAME_LEN, MIN_FRAME_LEN, START};

/// Finds DL/T 645 frames in a serial or TCP byte stream, in fixed memory.
///
/// Feed it bytes in chunks of any size; it yields every frame whose framing (both start bytes,
/// length, checksum, end byte) is valid, without the preamble. It
///
/// - skips preambles (`FE`) and any other bytes before a `68`;
/// - finds the end of a frame from its length byte, never by scanning for `16` (the checksum
///   may be 16H);
/// - after a bad candidate (second start byte missing, checksum or end byte wrong, frame longer
///   than the buffer) restarts scanning one byte after the bad start, so a duplicated `68` or a
///   frame that begins inside garbage is still found;
/// - yields the same frames whatever the chunking of the same bytes.
///
/// `N` is the buffer capacity; the default, [`MAX_FRAME_LEN`] (267), holds the longest frame.
/// With a smaller `N`, frames longer than `N` are skipped as bad.
///
/// A false start whose length byte announces a long frame holds back the frames after it until
/// enough bytes have arrived to reject it; on a quiet line call [`StreamDecoder::reset`] after an
/// inter-frame timeout.
///
/// ```
/// use prepaid_meter::wire::dlt645::{StreamDecoder, FrameRepr};
/// let stream = [
///     0x00, 0xFE, 0xFE, // garbage and preamble
///     0x68, 0xAA, 0xAA, 0xAA, 0xAA, 0xAA, 0xAA, 0x68, 0x13, 0x00, 0xDF, 0x16, // read address
/// ];
/// let mut decoder = StreamDecoder::new();
/// let mut frames = 0;
/// for chunk in stream.chunks(4) {
///     let mut input = chunk;
///     while let Some(frame) = decoder.decode(&mut input) {
///         assert!(FrameRepr::parse(&frame).is_ok());
///         frames += 1;
///     }
/// }
/// assert_eq!(frames, 1);
/// assert_eq!(decoder.skipped(), 3);
/// ```
#[derive(Clone, Debug)]
pub struct StreamDecoder<const N: usize = MAX_FRAME_LEN> {
    buf: [u8; N],
    len: usize,
    /// Bytes of the frame yielded last, removed at the next call.
    pending: usize,
    skipped: u32,
    bad_frames: u32,
}

impl<const N: usize> Default for StreamDecoder<N> {
    fn default() -> Self {
        Self::new_sized()
    }
}

enum Scan {
    /// A valid frame of this many bytes starts the buffer.
    Frame(usize),
    /// The buffer holds the start of a candidate; more bytes are needed.
    NeedMore,
}

impl StreamDecoder {
    /// [`StreamDecoder::new_sized`] at the default capacities, so that a call needs no type
    /// annotations; see it for the details.
    pub const fn new() -> Self {
        Self::new_sized()
    }
}

impl<const N: usize> StreamDecoder<N> {
    /// An empty decoder.
    ///
    /// Generic over the capacities (name them, `StreamDecoder::<..>::new_sized`, or let them be
    /// inferred from where the result goes); [`StreamDecoder::new`] is this at the default ones.
    pub const fn new_sized() -> Self {
        const {
            assert!(
                N >= MIN_FRAME_LEN,
                "a StreamDecoder holds at least 12 bytes"
            )
        };
        StreamDecoder {
            buf: [0; N],
            len: 0,
            pending: 0,
            skipped: 0,
            bad_frames: 0,
        }
    }

    /// Drops any partial frame (after an inter-frame timeout, or a line reset).
    pub fn reset(&mut self) {
        self.skipped = self.skipped.saturating_add(self.buffered() as u32);
        self.len = 0;
        self.pending = 0;
    }

    /// Bytes held that do not (yet) belong to a yielded frame.
    pub fn buffered(&self) -> usize {
        self.len - self.pending
    }

    /// Bytes discarded so far (preambles, garbage, bad candidates), saturating.
    pub fn skipped(&self) -> u32 {
        self.skipped
    }

    /// Candidates rejected so far (start bytes at 0 and 7 but a bad length, checksum or end),
    /// saturating.
    pub fn bad_frames(&self) -> u32 {
        self.bad_frames
    }

    /// Moves bytes from the front of `input` into the buffer and returns the next frame, if one
    /// is complete. Call it until it returns `None`; `input` is then empty.
    ///
    /// The frame borrows the decoder's buffer and is removed at the next call. The same as
    /// [`StreamDecoder::push`] followed by [`StreamDecoder::frame`].
    #[must_use = "a decoded frame is dropped unless handled"]
    pub fn decode(&mut self, input: &mut &[u8]) -> Option<Frame<&[u8]>> {
        if self.push(input) { self.frame() } else { None }
    }

    /// Moves bytes from the front of `input` into the buffer until a frame is complete; returns
    /// `true` if one is ([`StreamDecoder::frame`] gives it until the next `push`). When it
    /// returns `false`, `input` is empty.
    #[must_use = "`true` means a frame is ready"]
    pub fn push(&mut self, input: &mut &[u8]) -> bool {
        self.consume_pending();
        loop {
            match self.scan() {
                Scan::Frame(n) => {
                    self.pending = n;
                    return true;
                }
                Scan::NeedMore => {
                    if input.is_empty() {
                        return false;
                    }
                    let room = N - self.len;
                    if room == 0 {
                        // Only reachable when N is below the header length.
                        self.reject();
                        continue;
                    }
                    let take = room.min(input.len());
                    let (head, rest) = input.split_at(take);
                    if let Some(dst) = self.buf.get_mut(self.len..self.len + take) {
                        dst.copy_from_slice(head);
                    }
                    self.len += take;
                    *input = rest;
                }
            }
        }
    }

    /// The frame the last [`StreamDecoder::push`] completed, without preamble, if any.
    pub fn frame(&self) -> Option<Frame<&[u8]>> {
        if self.pending == 0 {
            return None;
        }
        self.buf.get(..self.pending).map(Frame::new_unchecked)
    }

    fn consume_pending(&mut self) {
        if self.pending > 0 {
            self.drop_front(self.pending);
            self.pending = 0;
        }
    }

    fn drop_front(&mut self, n: usize) {
        let n = n.min(self.len);
        self.buf.copy_within(n..self.len, 0);
        self.len -= n;
    }

    fn skip(&mut self, n: usize) {
        self.skipped = self.skipped.saturating_add(n as u32);
        self.drop_front(n);
    }

    fn reject(&mut self) {
        self.bad_frames = self.bad_frames.saturating_add(1);
        self.skip(1);
    }

    fn scan(&mut self) -> Scan {
        loop {
            let held = self.buf.get(..self.len).unwrap_or_default();
            // Drop everything before the first start byte.
            let start = held.iter().position(|&b| b == START).unwrap_or(held.len());
            if start > 0 {
                self.skip(start);
                continue;
            }
            if self.len < 8 {
                return Scan::NeedMore;
            }
            if held.get(7) != Some(&START) {
                // The first 68 starts no frame (garbage, or a duplicated 68).
                self.reject();
                continue;
            }
            let Some(&l) = held.get(9) else {
                return Scan::NeedMore;
            };
            let total = MIN_FRAME_LEN + usize::from(l);
            if total > N {
                self.reject();
                continue;
            }
            if self.len < total {
                return Scan::NeedMore;
            }
            let frame = Frame::new_unchecked(held.get(..total).unwrap_or_default());
            if frame.check_framing().is_err() {
                self.reject();
                continue;
            }
            return Scan::Frame(total);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const E8: [u8; 12] = [
        0x68, 0xAA, 0xAA, 0xAA, 0xAA, 0xAA, 0xAA, 0x68, 0x13, 0x00, 0xDF, 0x16,
    ];

    fn collect<const N: usize>(d: &mut StreamDecoder<N>, chunks: &[&[u8]]) -> Vec<Vec<u8>> {
        let mut out = Vec::new();
        for c in chunks {
            let mut input = *c;
            while let Some(f) = d.decode(&mut input) {
                out.push(f.as_bytes().to_vec());
            }
            assert!(input.is_empty());
        }
        out
    }

    #[test]
    fn duplicated_start_byte() {
        let mut stream = vec![0x68];
        stream.extend_from_slice(&E8);
        let mut d = StreamDecoder::new();
        assert_eq!(collect(&mut d, &[&stream]), vec![E8.to_vec()]);
        assert_eq!(d.bad_frames(), 1);
        assert_eq!(d.skipped(), 1);
    }

    #[test]
    fn garbage_tail_and_bad_checksum_resync() {
        let mut bad = E8;
        bad[10] = 0x00;
        let mut stream = bad.to_vec();
        stream.extend_from_slice(&E8);
        stream.extend_from_slice(&[0x16, 0x00, 0x68]);
        let mut d = StreamDecoder::new();
        assert_eq!(collect(&mut d, &[&stream]), vec![E8.to_vec()]);
        assert_eq!(d.buffered(), 1);
        d.reset();
        assert_eq!(d.buffered(), 0);
    }

    #[test]
    fn long_frames_and_small_buffers() {
        // A frame with L = 4 needs 16 bytes: a 15-byte decoder skips it.
        let e1 = [
            0x68, 0x61, 0x01, 0x00, 0x00, 0x00, 0x00, 0x68, 0x11, 0x04, 0x33, 0x33, 0x34, 0x33,
            0x14, 0x16,
        ];
        let mut small = StreamDecoder::<15>::new_sized();
        assert!(collect(&mut small, &[&e1, &E8]).len() == 1);
        let mut exact = StreamDecoder::<16>::new_sized();
        assert_eq!(
            collect(&mut exact, &[&e1, &E8]),
            vec![e1.to_vec(), E8.to_vec()]
        );
    }
}
