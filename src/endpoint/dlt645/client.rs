//! The master side: request builders and answer parsers.

use core::fmt;

use crate::address::Address;
use crate::relay::RelayCode;
use crate::time::DateTime;
use crate::units::{Energy, Money, Price};
use crate::wire::dlt645::registry::{self, Format, Item, Value};
use crate::wire::dlt645::{
    BaudRate, Data, Di, Error, ErrorCode, Frame, FrameRepr, FreezeTime, OperatorCode, Password,
    ReadForm, RelayOrder, RelayStatusWord, Request, Response, SecurityErrorWord, skip_preamble,
};

/// Why an answer was not what the client asked for.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
#[non_exhaustive]
pub enum ClientError {
    /// The frame is not valid, or the request could not be emitted.
    Frame(Error),
    /// The answer comes from another meter, or is a request.
    WrongSource,
    /// The meter answered with an error.
    Refused(ErrorCode),
    /// The meter refused a security command.
    SecurityRefused(SecurityErrorWord),
    /// The meter refused a relay command.
    RelayRefused(RelayStatusWord),
    /// A valid answer, but not to this request (another function or identifier).
    Unexpected,
    /// The identifier is not in the registry, or its value is not a number.
    UnknownFormat,
    /// The value does not decode, or does not fit the target type.
    Value,
}

impl fmt::Display for ClientError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ClientError::Frame(e) => write!(f, "bad frame: {e}"),
            ClientError::WrongSource => f.write_str("answer from another meter"),
            ClientError::Refused(c) => write!(f, "meter refused: {c}"),
            ClientError::SecurityRefused(w) => write!(f, "meter refused security command: {w}"),
            ClientError::RelayRefused(w) => write!(f, "meter refused relay command: {w}"),
            ClientError::Unexpected => f.write_str("answer does not match the request"),
            ClientError::UnknownFormat => f.write_str("identifier format unknown"),
            ClientError::Value => f.write_str("value does not decode"),
        }
    }
}

impl core::error::Error for ClientError {}

impl From<Error> for ClientError {
    fn from(e: Error) -> ClientError {
        ClientError::Frame(e)
    }
}

/// A master's view of one meter: request builders and answer parsers.
///
/// A client talks to one meter address with one password and operator code. Its builders
/// emit request frames into a buffer; [`Client::parse_answer`] checks an answer frame (framing,
/// direction, source address) and turns error answers into [`ClientError`]s;
/// [`Client::value`], [`Client::money`], [`Client::energy`] and [`Client::price`] decode a read
/// answer with the identifier's registry format. [`Reassembler`] joins the follow-up frames of
/// a long answer.
///
/// ```
/// use prepaid_meter::address::Address;
/// use prepaid_meter::endpoint::dlt645::Client;
/// use prepaid_meter::wire::dlt645::Di;
/// let client = Client::new("000000000161".parse().unwrap());
/// let mut buf = [0u8; 32];
/// let n = client.read(Di(0x0001_0000), &mut buf).unwrap();
/// assert_eq!(&buf[..n], &[0xFE, 0xFE, 0xFE, 0xFE, 0x68, 0x61, 0x01, 0, 0, 0, 0, 0x68,
///                         0x11, 0x04, 0x33, 0x33, 0x34, 0x33, 0x14, 0x16]);
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Client {
    address: Address,
    preamble: usize,
    password: Password,
    operator: OperatorCode,
}

impl Client {
    /// A client for `address` (the wildcard `AAAAAAAAAAAA` on a point-to-point link), sending
    /// four preamble bytes, password level 02 `000000` and operator code `00000000`.
    pub const fn new(address: Address) -> Client {
        Client {
            address,
            preamble: 4,
            password: Password {
                level: 2,
                code: [0; 3],
            },
            operator: OperatorCode([0; 4]),
        }
    }

    /// With `n` preamble bytes (0..=4 usual).
    pub const fn with_preamble(mut self, n: usize) -> Client {
        self.preamble = n;
        self
    }

    /// With another password.
    pub const fn with_password(mut self, password: Password) -> Client {
        self.password = password;
        self
    }

    /// With another operator code.
    pub const fn with_operator(mut self, operator: OperatorCode) -> Client {
        self.operator = operator;
        self
    }

    /// The meter address.
    pub const fn address(&self) -> Address {
        self.address
    }

    /// Emits any request to the meter.
    pub fn request(&self, request: &Request<'_>, buf: &mut [u8]) -> Result<usize, ClientError> {
        Ok(request.emit(self.address, buf, self.preamble)?)
    }

    /// 11H: read `di` (FFH in `DI1` or `DI0` for a block).
    pub fn read(&self, di: Di, buf: &mut [u8]) -> Result<usize, ClientError> {
        self.request(
            &Request::Read {
                di,
                form: ReadForm::Single,
            },
            buf,
        )
    }

    /// 12H: follow-up part `seq` (1, 2, ...) of a long answer to `di`.
    pub fn read_follow_up(&self, di: Di, seq: u8, buf: &mut [u8]) -> Result<usize, ClientError> {
        self.request(&Request::ReadFollowUp { di, seq }, buf)
    }

    /// 13H: read the address of the one meter on the line (sent to the wildcard address).
    pub fn read_address(&self, buf: &mut [u8]) -> Result<usize, ClientError> {
        Ok(Request::ReadAddress.emit(Address::WILDCARD, buf, self.preamble)?)
    }

    /// 14H: write `value` (plain bytes in the identifier's format).
    pub fn write(&self, di: Di, value: &[u8], buf: &mut [u8]) -> Result<usize, ClientError> {
        self.request(
            &Request::Write {
                di,
                password: self.password,
                operator: self.operator,
                value: Data::plain(value),
            },
            buf,
        )
    }

    /// 14H: write a number (`mantissa` = value × 10^decimals) in the registry format of `di`.
    pub fn write_number(
        &self,
        di: Di,
        mantissa: i64,
        buf: &mut [u8],
    ) -> Result<usize, ClientError> {
        let entry = registry::lookup(di).ok_or(ClientError::UnknownFormat)?;
        let Format::Number(f) = entry.format else {
            return Err(ClientError::UnknownFormat);
        };
        let mut tmp = [0u8; 9];
        let slot = tmp
            .get_mut(..usize::from(f.len))
            .ok_or(ClientError::Value)?;
        f.encode(mantissa, slot).map_err(|_| ClientError::Value)?;
        self.write(di, slot, buf)
    }

    /// 15H: give the meter a new address.
    pub fn write_address(&self, new: Address, buf: &mut [u8]) -> Result<usize, ClientError> {
        self.request(&Request::WriteAddress { address: new }, buf)
    }

    /// 08H: broadcast the local time to every meter on the line (never answered).
    pub fn broadcast_time(&self, time: DateTime, buf: &mut [u8]) -> Result<usize, ClientError> {
        Ok(Request::BroadcastTime { time }.emit(Address::BROADCAST, buf, self.preamble)?)
    }

    /// 16H: freeze (to this meter).
    pub fn freeze(&self, time: FreezeTime, buf: &mut [u8]) -> Result<usize, ClientError> {
        self.request(&Request::Freeze { time }, buf)
    }

    /// 17H: change the baud rate.
    pub fn change_baud(&self, rate: BaudRate, buf: &mut [u8]) -> Result<usize, ClientError> {
        self.request(&Request::ChangeBaud { rate }, buf)
    }

    /// 18H: set the password of `level` to `code`, authorised by the client's password.
    pub fn change_password(
        &self,
        level: u8,
        code: [u8; 3],
        buf: &mut [u8],
    ) -> Result<usize, ClientError> {
        self.request(
            &Request::ChangePassword {
                di: Di::new(0x04, 0x00, 0x0C, level.saturating_add(1)),
                old: self.password,
                new: Password { level, code },
            },
            buf,
        )
    }

    /// 19H: clear maximum demand.
    pub fn clear_max_demand(&self, buf: &mut [u8]) -> Result<usize, ClientError> {
        self.request(
            &Request::ClearMaxDemand {
                password: self.password,
                operator: self.operator,
            },
            buf,
        )
    }

    /// 1AH: meter clear (plaintext password).
    pub fn meter_clear(&self, buf: &mut [u8]) -> Result<usize, ClientError> {
        self.request(
            &Request::MeterClear {
                password: self.password,
                operator: self.operator,
                sealed: Data::EMPTY,
            },
            buf,
        )
    }

    /// 1BH: clear events `di` (`Di(0xFFFF_FFFF)`: all).
    pub fn event_clear(&self, di: Di, buf: &mut [u8]) -> Result<usize, ClientError> {
        self.request(
            &Request::EventClear {
                password: self.password,
                operator: self.operator,
                di,
            },
            buf,
        )
    }

    /// 1CH: a plaintext relay command valid until a local time.
    pub fn relay(
        &self,
        command: RelayCode,
        valid_until: DateTime,
        buf: &mut [u8],
    ) -> Result<usize, ClientError> {
        self.request(
            &Request::RelayControl {
                password: self.password,
                operator: self.operator,
                order: RelayOrder::Plain {
                    command,
                    n2: 0,
                    valid_until,
                },
            },
            buf,
        )
    }

    /// 03H: a security command with an opaque sealed payload.
    pub fn security(&self, di: Di, payload: &[u8], buf: &mut [u8]) -> Result<usize, ClientError> {
        self.request(
            &Request::Security {
                di,
                operator: self.operator,
                payload: Data::plain(payload),
            },
            buf,
        )
    }

    /// Checks an answer frame (preamble allowed): framing, direction, and that it comes from
    /// this meter (any meter if the client's address has wildcards). Error answers become
    /// [`ClientError::Refused`], [`ClientError::SecurityRefused`] or
    /// [`ClientError::RelayRefused`].
    #[must_use = "an answer may be a refusal"]
    pub fn parse_answer<'a>(&self, bytes: &'a [u8]) -> Result<Response<'a>, ClientError> {
        let frame = Frame::new_checked(skip_preamble(bytes))?;
        let repr = FrameRepr::parse(&frame)?;
        if !repr.control.is_response() || !self.address.matches(repr.address) {
            return Err(ClientError::WrongSource);
        }
        match Response::parse(&repr)? {
            Response::Error { code, .. } => Err(ClientError::Refused(code)),
            Response::SecurityError { word } => Err(ClientError::SecurityRefused(word)),
            Response::RelayError { word } => Err(ClientError::RelayRefused(word)),
            other => Ok(other),
        }
    }

    /// The data of a read answer to `di` (normal or follow-up).
    pub fn read_data<'a>(response: &Response<'a>, di: Di) -> Result<Data<'a>, ClientError> {
        match *response {
            Response::Read { di: d, data, .. } | Response::ReadFollowUp { di: d, data, .. }
                if d == di =>
            {
                Ok(data)
            }
            _ => Err(ClientError::Unexpected),
        }
    }

    /// Decodes a (complete) read answer to `di` with its registry format; the plain bytes are
    /// copied into `scratch`.
    pub fn value<'s>(
        response: &Response<'_>,
        di: Di,
        scratch: &'s mut [u8; 255],
    ) -> Result<Value<'s>, ClientError> {
        let data = Client::read_data(response, di)?;
        let entry = registry::lookup(di).ok_or(ClientError::UnknownFormat)?;
        let bytes = data.copy_to(scratch).ok_or(ClientError::Value)?;
        entry.format.decode(bytes).map_err(|_| ClientError::Value)
    }

    fn mantissa(response: &Response<'_>, di: Di, decimals: u8) -> Result<i64, ClientError> {
        let mut scratch = [0u8; 255];
        match Client::value(response, di, &mut scratch)? {
            Value::Number(d) if d.decimals == decimals => Ok(d.mantissa),
            _ => Err(ClientError::UnknownFormat),
        }
    }

    /// A money value (`XXXXXX.XX` yuan: balance, overdraft, limits) from a read answer to `di`.
    pub fn money(response: &Response<'_>, di: Di) -> Result<Money, ClientError> {
        Money::from_cents(Client::mantissa(response, di, 2)?).ok_or(ClientError::Value)
    }

    /// An energy value (`XXXXXX.XX` kWh) from a read answer to `di`.
    pub fn energy(response: &Response<'_>, di: Di) -> Result<Energy, ClientError> {
        Energy::from_centi_kwh(Client::mantissa(response, di, 2)?).ok_or(ClientError::Value)
    }

    /// The energies of a read answer to `di`, one value or a block (`0001FF00`, `0060FF00`),
    /// into `out` in order; returns how many there were. `XXXXXX.XX` values are exact;
    /// precise `XXXXXX.XXXX` values are truncated to whole Wh (the unit the crate's meter
    /// counts in, so a meter of this crate loses nothing). Errors: [`ClientError::Value`] for
    /// a value that does not decode (an absent block element, `FF` bytes, among them) or more
    /// values than `out` holds, [`ClientError::UnknownFormat`] for an identifier that is not
    /// energy.
    pub fn energies(
        response: &Response<'_>,
        di: Di,
        out: &mut [Energy],
    ) -> Result<usize, ClientError> {
        let data = Client::read_data(response, di)?;
        let entry = registry::lookup(di).ok_or(ClientError::UnknownFormat)?;
        if !matches!(entry.item, Item::Energy(_) | Item::PreciseEnergy(_)) {
            return Err(ClientError::UnknownFormat);
        }
        let mut scratch = [0u8; 255];
        let bytes = data.copy_to(&mut scratch).ok_or(ClientError::Value)?;
        let mut n = 0;
        let mut bad = false;
        entry
            .format
            .decode_block(bytes, |v| {
                let e = match v {
                    Value::Number(d) if d.decimals == 2 => Energy::from_centi_kwh(d.mantissa),
                    Value::Number(d) if d.decimals == 4 => Some(Energy::from_wh(d.mantissa / 10)),
                    _ => None,
                };
                match (e, out.get_mut(n)) {
                    (Some(e), Some(slot)) => *slot = e,
                    _ => bad = true,
                }
                n += 1;
            })
            .map_err(|_| ClientError::Value)?;
        if bad {
            return Err(ClientError::Value);
        }
        Ok(n)
    }

    /// A count (`NNNN`..., the purchase count `03330201` among them) from a read answer to `di`.
    pub fn count(response: &Response<'_>, di: Di) -> Result<u32, ClientError> {
        u32::try_from(Client::mantissa(response, di, 0)?).map_err(|_| ClientError::Value)
    }

    /// A price (`XXXX.XXXX` yuan/kWh) from a read answer to `di`.
    pub fn price(response: &Response<'_>, di: Di) -> Result<Price, ClientError> {
        u32::try_from(Client::mantissa(response, di, 4)?)
            .map(Price::from_minor_per_kwh)
            .map_err(|_| ClientError::Value)
    }
}

/// What to do after [`Reassembler::push`].
#[must_use = "a long answer needs its follow-up parts"]
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub enum Progress {
    /// All parts are in; [`Reassembler::data`] holds the answer.
    Done,
    /// Ask for follow-up part `seq` ([`Client::read_follow_up`]).
    FollowUp(u8),
}

/// Joins the parts of a long read answer (91H/B1H, then 92H/B2H with `SEQ` 1, 2, ...) in fixed
/// memory: at most `N` bytes of data.
#[derive(Clone, Debug)]
pub struct Reassembler<const N: usize = 1024> {
    di: Di,
    buf: [u8; N],
    len: usize,
    next_seq: u8,
    done: bool,
}

impl Reassembler {
    /// [`Reassembler::new_sized`] at the default capacities, so that a call needs no type
    /// annotations; see it for the details.
    pub const fn new(di: Di) -> Self {
        Self::new_sized(di)
    }
}

impl<const N: usize> Reassembler<N> {
    /// Expects the answer to a read of `di`.
    ///
    /// Generic over the capacities (name them, `Reassembler::<..>::new_sized`, or let them be
    /// inferred from where the result goes); [`Reassembler::new`] is this at the default ones.
    pub const fn new_sized(di: Di) -> Self {
        Reassembler {
            di,
            buf: [0; N],
            len: 0,
            next_seq: 0,
            done: false,
        }
    }

    /// Adds the next part. Fails with [`ClientError::Unexpected`] for a part out of order or
    /// for another identifier, and with [`ClientError::Value`] if the data would exceed `N`
    /// bytes; the reassembler is unchanged then.
    pub fn push(&mut self, response: &Response<'_>) -> Result<Progress, ClientError> {
        let (data, more) = match *response {
            Response::Read { di, data, more } if di == self.di && self.next_seq == 0 => {
                (data, more)
            }
            Response::ReadFollowUp {
                di,
                data,
                seq,
                more,
            } if di == self.di && seq == self.next_seq && seq > 0 => (data, more),
            _ => return Err(ClientError::Unexpected),
        };
        if self.done {
            return Err(ClientError::Unexpected);
        }
        let dst = self
            .buf
            .get_mut(self.len..self.len + data.len())
            .ok_or(ClientError::Value)?;
        for (d, s) in dst.iter_mut().zip(data.iter()) {
            *d = s;
        }
        self.len += data.len();
        if more {
            self.next_seq = self.next_seq.checked_add(1).ok_or(ClientError::Value)?;
            Ok(Progress::FollowUp(self.next_seq))
        } else {
            self.done = true;
            Ok(Progress::Done)
        }
    }

    /// The plain data gathered so far.
    pub fn data(&self) -> &[u8] {
        self.buf.get(..self.len).unwrap_or_default()
    }

    /// `true` once the last part is in.
    pub fn is_done(&self) -> bool {
        self.done
    }
}
