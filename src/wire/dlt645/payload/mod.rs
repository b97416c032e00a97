//! Typed payloads of every function code: the shared [`fields`], [`Request`] and [`Response`].
#![deny(clippy::indexing_slicing)]

mod fields;
mod request;
mod response;

pub use fields::{
    BaudRate, ErrorCode, FreezeTime, MAX_READ_DATA_LEN, OperatorCode, Password, ReadForm,
    RelayOrder, RelayStatusWord, SecurityErrorWord,
};
pub use request::Request;
pub use response::Response;

use super::frame::Data;
use super::{Di, Error, Result};
use crate::bcd::DateTimeFormat;
use crate::time::DateTime;

#[inline]
fn take<const N: usize>(data: Data<'_>) -> Result<([u8; N], Data<'_>)> {
    let (head, rest) = data.split_at(N).ok_or(Error::Length)?;
    let arr = head.array::<N>().ok_or(Error::Length)?;
    Ok((arr, rest))
}

#[inline]
fn exact<const N: usize>(data: Data<'_>) -> Result<[u8; N]> {
    if data.len() != N {
        return Err(Error::Length);
    }
    data.array::<N>().ok_or(Error::Length)
}

#[inline]
fn take_di(data: Data<'_>) -> Result<(Di, Data<'_>)> {
    let (b, rest) = take::<4>(data)?;
    Ok((Di::from_wire(b), rest))
}

#[inline]
fn take_auth(data: Data<'_>) -> Result<(Password, OperatorCode, Data<'_>)> {
    let (p, rest) = take::<4>(data)?;
    let (c, rest) = take::<4>(rest)?;
    Ok((Password::from_wire(p), OperatorCode(c), rest))
}

fn date_time(b: &[u8], fmt: DateTimeFormat) -> Result<DateTime> {
    Ok(fmt.decode(b, 2000)?)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::address::Address;
    use crate::relay::RelayCode;
    use crate::wire::dlt645::{Control, Frame, FrameRepr, Function, skip_preamble};

    fn repr(bytes: &[u8]) -> FrameRepr<'_> {
        FrameRepr::parse(&Frame::new_checked(skip_preamble(bytes)).unwrap()).unwrap()
    }

    #[test]
    fn relay_control_vector_e24() {
        let bytes = [
            0x68, 0x11, 0x11, 0x11, 0x11, 0x11, 0x11, 0x68, 0x1C, 0x10, 0x33, 0x33, 0x33, 0x33,
            0x33, 0x33, 0x33, 0x33, 0x4D, 0x33, 0x57, 0x74, 0x48, 0x45, 0x38, 0x4B, 0x55, 0x16,
        ];
        let r = repr(&bytes);
        let Request::RelayControl {
            password,
            operator,
            order:
                RelayOrder::Plain {
                    command,
                    n2,
                    valid_until,
                },
        } = Request::parse(&r).unwrap()
        else {
            panic!("not a plain relay control");
        };
        assert_eq!(password, Password::from_wire([0; 4]));
        assert_eq!(operator, OperatorCode([0; 4]));
        assert_eq!((command, n2), (RelayCode::Trip, 0));
        assert_eq!(valid_until.to_string(), "2018-05-12 15:41:24");
        let mut out = [0u8; 40];
        let n = Request::parse(&r)
            .unwrap()
            .emit(r.address, &mut out, 0)
            .unwrap();
        assert_eq!(&out[..n], &bytes[..]);
    }

    #[test]
    fn lengths_are_checked() {
        // A read with 3 data bytes.
        let mut buf = [0u8; 32];
        let n = FrameRepr {
            address: Address::from_number(1).unwrap(),
            control: Control::request(Function::Read),
            data: Data::plain(&[0, 0, 1]),
        }
        .emit(&mut buf, 0)
        .unwrap();
        assert_eq!(Request::parse(&repr(&buf[..n])), Err(Error::Length));
        assert_eq!(Response::parse(&repr(&buf[..n])), Err(Error::Direction));
    }

    #[test]
    fn bit_words_display() {
        assert_eq!(ErrorCode::NO_DATA.to_string(), "no requested data");
        assert_eq!(ErrorCode(0x83).to_string(), "other|no requested data|0x80");
        assert_eq!(ErrorCode(0).to_string(), "none");
        assert!(SecurityErrorWord(0x0102).contains(SecurityErrorWord::SUSPENDED));
        assert_eq!(
            RelayStatusWord::TIME_INVALID.union(RelayStatusWord::MAC).0,
            0x12
        );
    }

    #[test]
    fn freeze_time_rules() {
        assert_eq!(FreezeTime::from_wire([0x99; 4]), Ok(FreezeTime::NOW));
        assert!(FreezeTime::NOW.is_now());
        assert_eq!(FreezeTime::from_wire([0x60, 0, 1, 1]), Err(Error::Value));
        assert_eq!(FreezeTime::from_wire([0x0A, 0, 1, 1]), Err(Error::Value));
        let t = FreezeTime::from_wire([0x00, 0x00, 0x99, 0x99]).unwrap();
        assert_eq!((t.minute, t.hour, t.day), (0, 0, 99));
        assert_eq!(t.to_wire(), Ok([0, 0, 0x99, 0x99]));
        assert_eq!(BaudRate::B9600.bps(), Some(9600));
        assert_eq!(BaudRate(0x06).bps(), None);
    }
}
