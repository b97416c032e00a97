//! AFN 10H F1, transparent forwarding: the head-end hands the concentrator a meter frame (a
//! DL/T 645 frame, sealed or not) for one of its ports, with the serial settings and how long to
//! wait for the answer; the concentrator answers with what came back.
//!
//! Downlink data unit (after `P0 F1`):
//!
//! | field | bytes | encoding |
//! |---|---|---|
//! | port | 1 | the terminal's communication port number, binary |
//! | control word | 1 | [`SerialControl`]: D7..D5 baud rate, D4 stop bits, D3 parity on, D2 odd, D1..D0 data bits |
//! | frame timeout | 1 | [`Timeout`]: D7 the unit (0: 10 ms, 1: 1 s), D6..D0 the count |
//! | byte timeout | 1 | binary, in 10 ms |
//! | length `k` | 2 | binary, low byte first |
//! | content | `k` | the frame to send |
//!
//! Uplink data unit: the port (1), the length `k` (2) and the answer's `k` bytes (none when
//! the meter did not answer).

use super::{Error, Result, UnitId};

/// The identifier of the forwarding data unit: the terminal (`P0`), `F1`.
const P0_F1: UnitId = UnitId {
    da: [0, 0],
    dt: [1, 0],
};

/// The baud rates of the control word's D7..D5, in order.
const BAUDS: [u32; 8] = [300, 600, 1200, 2400, 4800, 7200, 9600, 19200];

/// Parity of the forwarded frame's serial line.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub enum Parity {
    /// No parity bit.
    None,
    /// Even parity (DL/T 645 meters' default).
    Even,
    /// Odd parity.
    Odd,
}

/// The transparent-forwarding control word: the serial settings for the meter's port.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub struct SerialControl {
    /// Bits per second: 300, 600, 1200, 2400, 4800, 7200, 9600 or 19200.
    pub baud: u32,
    /// 1 or 2.
    pub stop_bits: u8,
    /// The parity.
    pub parity: Parity,
    /// 5 to 8.
    pub data_bits: u8,
}

impl SerialControl {
    /// 2400 baud, 8 data bits, even parity, 1 stop bit: a DL/T 645-2007 meter's RS485 line
    /// (byte `6B`).
    pub const DLT645_2400: SerialControl = SerialControl {
        baud: 2400,
        stop_bits: 1,
        parity: Parity::Even,
        data_bits: 8,
    };

    /// Decodes a control word; every byte has a meaning (D2 is ignored while D3 says no
    /// parity).
    pub const fn from_byte(b: u8) -> SerialControl {
        SerialControl {
            baud: match b >> 5 {
                0 => 300,
                1 => 600,
                2 => 1200,
                3 => 2400,
                4 => 4800,
                5 => 7200,
                6 => 9600,
                _ => 19200,
            },
            stop_bits: if b & 0x10 != 0 { 2 } else { 1 },
            parity: match (b & 0x08 != 0, b & 0x04 != 0) {
                (false, _) => Parity::None,
                (true, false) => Parity::Even,
                (true, true) => Parity::Odd,
            },
            data_bits: 5 + (b & 0x03),
        }
    }

    /// Encodes the control word. Error: [`Error::Value`] for a baud rate, stop bits or data
    /// bits the word cannot say.
    pub fn to_byte(self) -> Result<u8> {
        let baud = BAUDS
            .iter()
            .position(|&b| b == self.baud)
            .ok_or(Error::Value)? as u8;
        let stop = match self.stop_bits {
            1 => 0,
            2 => 1,
            _ => return Err(Error::Value),
        };
        if !(5..=8).contains(&self.data_bits) {
            return Err(Error::Value);
        }
        let parity = match self.parity {
            Parity::None => 0b00,
            Parity::Even => 0b10,
            Parity::Odd => 0b11,
        };
        Ok(baud << 5 | stop << 4 | parity << 2 | (self.data_bits - 5))
    }
}

/// How long the concentrator waits for the meter's answer.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub enum Timeout {
    /// In units of 10 ms, 0..=127.
    Millis10(u8),
    /// In seconds, 0..=127.
    Seconds(u8),
}

impl Timeout {
    /// Decodes the timeout byte; every byte has a meaning.
    pub const fn from_byte(b: u8) -> Timeout {
        if b & 0x80 != 0 {
            Timeout::Seconds(b & 0x7F)
        } else {
            Timeout::Millis10(b)
        }
    }

    /// Encodes the timeout byte. Error: [`Error::Value`] for a count above 127.
    pub const fn to_byte(self) -> Result<u8> {
        match self {
            Timeout::Millis10(n) if n <= 0x7F => Ok(n),
            Timeout::Seconds(n) if n <= 0x7F => Ok(0x80 | n),
            _ => Err(Error::Value),
        }
    }

    /// The timeout in milliseconds.
    pub const fn millis(self) -> u32 {
        match self {
            Timeout::Millis10(n) => n as u32 * 10,
            Timeout::Seconds(n) => n as u32 * 1000,
        }
    }
}

/// The downlink AFN 10H F1 data unit: a frame to forward to a meter.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ForwardRequest<'a> {
    /// The terminal's port the meter is on.
    pub port: u8,
    /// The serial settings for the port.
    pub control: SerialControl,
    /// How long to wait for the meter's answer.
    pub frame_timeout: Timeout,
    /// The longest gap between two bytes of the answer, in 10 ms.
    pub byte_timeout_10ms: u8,
    /// The frame to send (for DL/T 645, with its FE preamble if the meter needs one).
    pub content: &'a [u8],
}

impl<'a> ForwardRequest<'a> {
    /// Reads the data unit (identifier included) at the start of `units`; returns it and the
    /// bytes after it.
    ///
    /// Errors: [`Error::Value`] for an identifier other than `P0 F1`, [`Error::Truncated`].
    pub fn parse(units: &'a [u8]) -> Result<(ForwardRequest<'a>, &'a [u8])> {
        let (id, rest) = UnitId::parse(units)?;
        if id != P0_F1 {
            return Err(Error::Value);
        }
        let [port, control, frame, byte, k0, k1, rest @ ..] = rest else {
            return Err(Error::Truncated);
        };
        let k = usize::from(u16::from_le_bytes([*k0, *k1]));
        let (content, rest) = rest.split_at_checked(k).ok_or(Error::Truncated)?;
        Ok((
            ForwardRequest {
                port: *port,
                control: SerialControl::from_byte(*control),
                frame_timeout: Timeout::from_byte(*frame),
                byte_timeout_10ms: *byte,
                content,
            },
            rest,
        ))
    }

    /// The length of the data unit, identifier included.
    pub fn buffer_len(&self) -> usize {
        4 + 6 + self.content.len()
    }

    /// Writes the data unit (identifier included) to the start of `out`; returns its length.
    ///
    /// Errors: [`Error::Value`] (a control word or timeout that cannot be encoded),
    /// [`Error::TooLong`] (content above 65 535 bytes), [`Error::BufferTooSmall`].
    pub fn emit(&self, out: &mut [u8]) -> Result<usize> {
        let k = u16::try_from(self.content.len()).map_err(|_| Error::TooLong)?;
        let head = [
            self.port,
            self.control.to_byte()?,
            self.frame_timeout.to_byte()?,
            self.byte_timeout_10ms,
        ];
        emit_unit(out, &head, k, self.content)
    }
}

/// The uplink AFN 10H F1 data unit: what came back from the meter.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ForwardAnswer<'a> {
    /// The port the meter is on.
    pub port: u8,
    /// The meter's answer as received (empty: no answer within the timeout).
    pub content: &'a [u8],
}

impl<'a> ForwardAnswer<'a> {
    /// Reads the data unit (identifier included) at the start of `units`; returns it and the
    /// bytes after it.
    ///
    /// Errors: [`Error::Value`] for an identifier other than `P0 F1`, [`Error::Truncated`].
    pub fn parse(units: &'a [u8]) -> Result<(ForwardAnswer<'a>, &'a [u8])> {
        let (id, rest) = UnitId::parse(units)?;
        if id != P0_F1 {
            return Err(Error::Value);
        }
        let [port, k0, k1, rest @ ..] = rest else {
            return Err(Error::Truncated);
        };
        let k = usize::from(u16::from_le_bytes([*k0, *k1]));
        let (content, rest) = rest.split_at_checked(k).ok_or(Error::Truncated)?;
        Ok((
            ForwardAnswer {
                port: *port,
                content,
            },
            rest,
        ))
    }

    /// The length of the data unit, identifier included.
    pub fn buffer_len(&self) -> usize {
        4 + 3 + self.content.len()
    }

    /// Writes the data unit (identifier included) to the start of `out`; returns its length.
    ///
    /// Errors: [`Error::TooLong`] (content above 65 535 bytes), [`Error::BufferTooSmall`].
    pub fn emit(&self, out: &mut [u8]) -> Result<usize> {
        let k = u16::try_from(self.content.len()).map_err(|_| Error::TooLong)?;
        emit_unit(out, &[self.port], k, self.content)
    }
}

/// `P0 F1`, `head`, `k` (2 bytes, low first), `content`.
fn emit_unit(out: &mut [u8], head: &[u8], k: u16, content: &[u8]) -> Result<usize> {
    let len = 4 + head.len() + 2 + content.len();
    let out = out.get_mut(..len).ok_or(Error::BufferTooSmall)?;
    let mut pos = 0;
    for part in [&P0_F1.to_bytes()[..], head, &k.to_le_bytes(), content] {
        let end = pos + part.len();
        if let Some(dst) = out.get_mut(pos..end) {
            dst.copy_from_slice(part);
        }
        pos = end;
    }
    Ok(len)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Control words and timeouts as public head-end code writes them: `63` (2400 8N1), `6B`
    /// (2400 8E1), `4B` (1200 8E1); `BC` (60 s), `85` (5 s).
    #[test]
    fn control_words_and_timeouts_of_public_head_ends() {
        let c = |baud, parity, data_bits| SerialControl {
            baud,
            stop_bits: 1,
            parity,
            data_bits,
        };
        for (byte, want) in [
            (0x63, c(2400, Parity::None, 8)),
            (0x6B, c(2400, Parity::Even, 8)),
            (0x4B, c(1200, Parity::Even, 8)),
        ] {
            assert_eq!(SerialControl::from_byte(byte), want);
            assert_eq!(want.to_byte(), Ok(byte));
        }
        assert_eq!(SerialControl::DLT645_2400.to_byte(), Ok(0x6B));
        for b in 0..=255u8 {
            // D2 (odd) means nothing without D3 (parity on).
            let canonical = if b & 0x08 == 0 { b & !0x04 } else { b };
            assert_eq!(SerialControl::from_byte(b).to_byte(), Ok(canonical));
            assert_eq!(Timeout::from_byte(b).to_byte(), Ok(b));
        }
        assert_eq!(Timeout::from_byte(0xBC), Timeout::Seconds(60));
        assert_eq!(Timeout::from_byte(0x85).millis(), 5_000);
        assert_eq!(Timeout::Seconds(128).to_byte(), Err(Error::Value));
        let bad = SerialControl {
            baud: 115_200,
            ..SerialControl::DLT645_2400
        };
        assert_eq!(bad.to_byte(), Err(Error::Value));
    }

    #[test]
    fn request_and_answer_round_trip_and_refusals() {
        let meter_frame = [
            0x68, 0x61, 0x01, 0x00, 0x00, 0x00, 0x00, 0x68, 0x13, 0x00, 0x56, 0x16,
        ];
        let req = ForwardRequest {
            port: 2,
            control: SerialControl::DLT645_2400,
            frame_timeout: Timeout::Seconds(60),
            byte_timeout_10ms: 1,
            content: &meter_frame,
        };
        let mut out = [0u8; 64];
        let n = req.emit(&mut out).unwrap();
        assert_eq!(n, req.buffer_len());
        assert_eq!(&out[..10], &[0, 0, 1, 0, 2, 0x6B, 0xBC, 1, 12, 0]);
        assert_eq!(ForwardRequest::parse(&out[..n]), Ok((req, &[][..])));
        assert_eq!(ForwardRequest::parse(&out[..n - 1]), Err(Error::Truncated));
        assert_eq!(req.emit(&mut out[..n - 1]), Err(Error::BufferTooSmall));
        let answer = ForwardAnswer {
            port: 2,
            content: &meter_frame,
        };
        let n = answer.emit(&mut out).unwrap();
        assert_eq!(&out[..7], &[0, 0, 1, 0, 2, 12, 0]);
        assert_eq!(ForwardAnswer::parse(&out[..n]), Ok((answer, &[][..])));
        // Another identifier is not a forwarding unit.
        out[2] = 2;
        assert_eq!(ForwardAnswer::parse(&out[..n]), Err(Error::Value));
    }
}
