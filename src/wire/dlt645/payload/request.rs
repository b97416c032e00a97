//! A master's requests.

use super::*;
use crate::address::Address;
use crate::bcd::DateTimeFormat;
use crate::relay::RelayCode;
use crate::time::DateTime;
use crate::wire::dlt645::frame::{
    Control, Data, DataWriter, Direction, FrameRepr, Function, emit_frame,
};
use crate::wire::dlt645::{Di, Di97, Error, Result};

/// A master's command, by function code.
///
/// Parse it from a [`FrameRepr`] with [`Request::parse`]; emit it with [`Request::emit`]. Data
/// that this codec keeps opaque (written values, sealed payloads) stay [`Data`] views of the
/// frame.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
#[non_exhaustive]
pub enum Request<'a> {
    /// 11H: read data. A `DI1` or `DI0` of FFH asks for a block.
    Read {
        /// The identifier.
        di: Di,
        /// Single, with a count, or load records from a time.
        form: ReadForm,
    },
    /// 12H: the follow-up frame `seq` (1, 2, ...) of a long answer.
    ReadFollowUp {
        /// The identifier of the first request.
        di: Di,
        /// The frame sequence number.
        seq: u8,
    },
    /// 13H: read the communication address (sent to the wildcard address).
    ReadAddress,
    /// 14H: write data.
    Write {
        /// The identifier.
        di: Di,
        /// The password and its level.
        password: Password,
        /// Operator code.
        operator: OperatorCode,
        /// The value in the identifier's format (or sealed data for levels 98H/99H).
        value: Data<'a>,
    },
    /// 15H: write the communication address.
    WriteAddress {
        /// The new address.
        address: Address,
    },
    /// 08H: broadcast time.
    BroadcastTime {
        /// The local time to set.
        time: DateTime,
    },
    /// 16H: freeze.
    Freeze {
        /// When (or [`FreezeTime::NOW`]).
        time: FreezeTime,
    },
    /// 17H: change the baud rate.
    ChangeBaud {
        /// The new rate.
        rate: BaudRate,
    },
    /// 18H: change the password of the level the identifier (04000C01..0A) names.
    ChangePassword {
        /// 04000C01 (level 0) .. 04000C0A (level 9).
        di: Di,
        /// A password authorised to change it.
        old: Password,
        /// The new password (its level must be the one `di` names).
        new: Password,
    },
    /// 19H: clear maximum demand.
    ClearMaxDemand {
        /// The password.
        password: Password,
        /// Operator code.
        operator: OperatorCode,
    },
    /// 1AH: meter clear.
    MeterClear {
        /// The password.
        password: Password,
        /// Operator code.
        operator: OperatorCode,
        /// Ciphertext and MAC at level 98H; empty otherwise.
        sealed: Data<'a>,
    },
    /// 1BH: clear events of one kind (FFFFFFFF: all).
    EventClear {
        /// The password.
        password: Password,
        /// Operator code.
        operator: OperatorCode,
        /// The event identifier.
        di: Di,
    },
    /// 1CH: relay control, alarm, keep-power.
    RelayControl {
        /// The password (level 98H: sealed).
        password: Password,
        /// Operator code.
        operator: OperatorCode,
        /// The order.
        order: RelayOrder<'a>,
    },
    /// 03H: security command: the identifier, operator code and opaque sealed payload.
    Security {
        /// 070000FF identity authentication, 070101FF open account, 070102FF recharge, ...
        di: Di,
        /// Operator code.
        operator: OperatorCode,
        /// The sealed payload, for the security layer.
        payload: Data<'a>,
    },
    /// 01H (DL/T 645-1997): read data.
    Read1997 {
        /// The 2-byte identifier.
        di: Di97,
    },
    /// Any other function code, data kept opaque.
    Other {
        /// The function code.
        function: Function,
        /// The data.
        data: Data<'a>,
    },
}

impl<'a> Request<'a> {
    /// The typed request in a frame. Fails with [`Error::Direction`] for a response, and with
    /// [`Error::Length`] or [`Error::Value`] when the data does not fit the function code.
    /// Unknown function codes give [`Request::Other`].
    #[inline]
    pub fn parse(repr: &FrameRepr<'a>) -> Result<Request<'a>> {
        if repr.control.direction != Direction::Request {
            return Err(Error::Direction);
        }
        let data = repr.data;
        Ok(match repr.control.function {
            Function::Read => {
                let (di, rest) = take_di(data)?;
                let form = match rest.len() {
                    0 => ReadForm::Single,
                    1 => ReadForm::Count(rest.get(0).ok_or(Error::Length)?),
                    6 => {
                        let (n, t) = take::<1>(rest)?;
                        let t = exact::<5>(t)?;
                        ReadForm::LoadRecord {
                            count: n[0],
                            from: date_time(&t, DateTimeFormat::YYMMDDhhmm)?,
                        }
                    }
                    _ => return Err(Error::Length),
                };
                Request::Read { di, form }
            }
            Function::ReadFollowUp => {
                let [d0, d1, d2, d3, seq] = exact::<5>(data)?;
                Request::ReadFollowUp {
                    di: Di::from_wire([d0, d1, d2, d3]),
                    seq,
                }
            }
            Function::ReadAddress => {
                exact::<0>(data)?;
                Request::ReadAddress
            }
            Function::Write => {
                let (di, rest) = take_di(data)?;
                let (password, operator, value) = take_auth(rest)?;
                Request::Write {
                    di,
                    password,
                    operator,
                    value,
                }
            }
            Function::WriteAddress => Request::WriteAddress {
                address: Address::from_wire(exact::<6>(data)?).map_err(|_| Error::Value)?,
            },
            Function::BroadcastTime => Request::BroadcastTime {
                time: date_time(&exact::<6>(data)?, DateTimeFormat::YYMMDDhhmmss)?,
            },
            Function::Freeze => Request::Freeze {
                time: FreezeTime::from_wire(exact::<4>(data)?)?,
            },
            Function::ChangeBaud => Request::ChangeBaud {
                rate: BaudRate(exact::<1>(data)?[0]),
            },
            Function::ChangePassword => {
                let (di, rest) = take_di(data)?;
                let (old, new) = take::<4>(rest)?;
                Request::ChangePassword {
                    di,
                    old: Password::from_wire(old),
                    new: Password::from_wire(exact::<4>(new)?),
                }
            }
            Function::ClearMaxDemand => {
                let (password, operator, rest) = take_auth(data)?;
                exact::<0>(rest)?;
                Request::ClearMaxDemand { password, operator }
            }
            Function::MeterClear => {
                let (password, operator, sealed) = take_auth(data)?;
                if !sealed.is_empty() && password.level != Password::LEVEL_SEALED {
                    return Err(Error::Length);
                }
                Request::MeterClear {
                    password,
                    operator,
                    sealed,
                }
            }
            Function::EventClear => {
                let (password, operator, rest) = take_auth(data)?;
                Request::EventClear {
                    password,
                    operator,
                    di: Di::from_wire(exact::<4>(rest)?),
                }
            }
            Function::RelayControl => {
                let (password, operator, rest) = take_auth(data)?;
                let order = if password.level == Password::LEVEL_SEALED {
                    RelayOrder::Sealed(rest)
                } else {
                    let [n1, n2, t @ ..] = exact::<8>(rest)?;
                    RelayOrder::Plain {
                        command: RelayCode::from_code(n1),
                        n2,
                        valid_until: date_time(&t, DateTimeFormat::YYMMDDhhmmss)?,
                    }
                };
                Request::RelayControl {
                    password,
                    operator,
                    order,
                }
            }
            Function::Security => {
                let (di, rest) = take_di(data)?;
                let (c, payload) = take::<4>(rest)?;
                Request::Security {
                    di,
                    operator: OperatorCode(c),
                    payload,
                }
            }
            Function::Read1997 => Request::Read1997 {
                di: Di97::from_wire(exact::<2>(data)?),
            },
            function => Request::Other { function, data },
        })
    }

    /// The function code.
    #[inline]
    pub const fn function(&self) -> Function {
        match self {
            Request::Read { .. } => Function::Read,
            Request::ReadFollowUp { .. } => Function::ReadFollowUp,
            Request::ReadAddress => Function::ReadAddress,
            Request::Write { .. } => Function::Write,
            Request::WriteAddress { .. } => Function::WriteAddress,
            Request::BroadcastTime { .. } => Function::BroadcastTime,
            Request::Freeze { .. } => Function::Freeze,
            Request::ChangeBaud { .. } => Function::ChangeBaud,
            Request::ChangePassword { .. } => Function::ChangePassword,
            Request::ClearMaxDemand { .. } => Function::ClearMaxDemand,
            Request::MeterClear { .. } => Function::MeterClear,
            Request::EventClear { .. } => Function::EventClear,
            Request::RelayControl { .. } => Function::RelayControl,
            Request::Security { .. } => Function::Security,
            Request::Read1997 { .. } => Function::Read1997,
            Request::Other { function, .. } => *function,
        }
    }

    /// The number of data bytes the request emits.
    pub fn data_len(&self) -> usize {
        match self {
            Request::Read { form, .. } => match form {
                ReadForm::Single => 4,
                ReadForm::Count(_) => 5,
                ReadForm::LoadRecord { .. } => 10,
            },
            Request::ReadFollowUp { .. } => 5,
            Request::ReadAddress => 0,
            Request::Write { value, .. } => 12 + value.len(),
            Request::WriteAddress { .. } | Request::BroadcastTime { .. } => 6,
            Request::Freeze { .. } => 4,
            Request::ChangeBaud { .. } => 1,
            Request::ChangePassword { .. } | Request::EventClear { .. } => 12,
            Request::ClearMaxDemand { .. } => 8,
            Request::MeterClear { sealed, .. } => 8 + sealed.len(),
            Request::RelayControl { order, .. } => match order {
                RelayOrder::Plain { .. } => 16,
                RelayOrder::Sealed(d) => 8 + d.len(),
            },
            Request::Security { payload, .. } => 8 + payload.len(),
            Request::Read1997 { .. } => 2,
            Request::Other { data, .. } => data.len(),
        }
    }

    /// The length of the emitted frame, preamble included (saturating: no buffer is that long).
    pub fn buffer_len(&self, preamble: usize) -> usize {
        preamble.saturating_add(crate::wire::dlt645::MIN_FRAME_LEN + self.data_len())
    }

    /// Writes the request's data (plain bytes).
    #[inline]
    pub fn write_data(&self, w: &mut DataWriter<'_>) -> Result<()> {
        match *self {
            Request::Read { di, form } => {
                w.put(&di.to_wire())?;
                match form {
                    ReadForm::Single => Ok(()),
                    ReadForm::Count(n) => w.put_u8(n),
                    ReadForm::LoadRecord { count, from } => {
                        w.put_u8(count)?;
                        DateTimeFormat::YYMMDDhhmm.encode(from, w.slot(5)?)?;
                        Ok(())
                    }
                }
            }
            Request::ReadFollowUp { di, seq } => {
                w.put(&di.to_wire())?;
                w.put_u8(seq)
            }
            Request::ReadAddress => Ok(()),
            Request::Write {
                di,
                password,
                operator,
                value,
            } => {
                w.put(&di.to_wire())?;
                w.put(&password.to_wire())?;
                w.put(&operator.0)?;
                w.put_data(value)
            }
            Request::WriteAddress { address } => w.put(&address.to_wire()),
            Request::BroadcastTime { time } => {
                DateTimeFormat::YYMMDDhhmmss.encode(time, w.slot(6)?)?;
                Ok(())
            }
            Request::Freeze { time } => w.put(&time.to_wire()?),
            Request::ChangeBaud { rate } => w.put_u8(rate.0),
            Request::ChangePassword { di, old, new } => {
                w.put(&di.to_wire())?;
                w.put(&old.to_wire())?;
                w.put(&new.to_wire())
            }
            Request::ClearMaxDemand { password, operator } => {
                w.put(&password.to_wire())?;
                w.put(&operator.0)
            }
            Request::MeterClear {
                password,
                operator,
                sealed,
            } => {
                w.put(&password.to_wire())?;
                w.put(&operator.0)?;
                w.put_data(sealed)
            }
            Request::EventClear {
                password,
                operator,
                di,
            } => {
                w.put(&password.to_wire())?;
                w.put(&operator.0)?;
                w.put(&di.to_wire())
            }
            Request::RelayControl {
                password,
                operator,
                order,
            } => {
                w.put(&password.to_wire())?;
                w.put(&operator.0)?;
                match order {
                    RelayOrder::Plain {
                        command,
                        n2,
                        valid_until,
                    } => {
                        w.put(&[command.code(), n2])?;
                        DateTimeFormat::YYMMDDhhmmss.encode(valid_until, w.slot(6)?)?;
                        Ok(())
                    }
                    RelayOrder::Sealed(d) => w.put_data(d),
                }
            }
            Request::Security {
                di,
                operator,
                payload,
            } => {
                w.put(&di.to_wire())?;
                w.put(&operator.0)?;
                w.put_data(payload)
            }
            Request::Read1997 { di } => w.put(&di.to_wire()),
            Request::Other { data, .. } => w.put_data(data),
        }
    }

    /// Emits the request to `address` after `preamble` bytes `FE`; returns the bytes written.
    #[inline]
    pub fn emit(&self, address: Address, buf: &mut [u8], preamble: usize) -> Result<usize> {
        emit_frame(
            buf,
            preamble,
            address,
            Control::request(self.function()),
            |w| self.write_data(w),
        )
    }
}
