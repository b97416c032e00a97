//! A meter's answers.

use super::*;
use crate::address::Address;
use crate::wire::dlt645::frame::{
    Control, Data, DataWriter, Direction, FrameRepr, Function, emit_frame,
};
use crate::wire::dlt645::{Di, Di97, Error, Result};

/// A meter's answer, by function code.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
#[non_exhaustive]
pub enum Response<'a> {
    /// 91H/B1H: read answer.
    Read {
        /// The identifier.
        di: Di,
        /// The value bytes (after the identifier).
        data: Data<'a>,
        /// B1H: follow-up frames follow.
        more: bool,
    },
    /// 92H/B2H: follow-up answer.
    ReadFollowUp {
        /// The identifier.
        di: Di,
        /// The value bytes (between the identifier and the sequence number).
        data: Data<'a>,
        /// The frame sequence number.
        seq: u8,
        /// B2H: more frames follow.
        more: bool,
    },
    /// 93H: the meter's address.
    ReadAddress {
        /// The address in the data.
        address: Address,
    },
    /// A normal answer without data: 94H write, 95H write address, 96H freeze, 99H clear
    /// demand, 9AH meter clear, 9BH event clear, 9CH relay control.
    Ack {
        /// The function acknowledged.
        function: Function,
    },
    /// 97H: the new baud rate (it applies after this answer).
    ChangeBaud {
        /// The rate.
        rate: BaudRate,
    },
    /// 98H: the new password.
    ChangePassword {
        /// The new password and level.
        new: Password,
    },
    /// 83H: security answer.
    Security {
        /// The identifier.
        di: Di,
        /// The (sealed) answer bytes.
        data: Data<'a>,
    },
    /// An error answer (D6 set) with an `ERR` byte.
    Error {
        /// The function refused.
        function: Function,
        /// The error bits.
        code: ErrorCode,
    },
    /// C3H with the 2-byte `SERR` word.
    SecurityError {
        /// The error bits.
        word: SecurityErrorWord,
    },
    /// DCH with the 2-byte execution status word.
    RelayError {
        /// The error bits.
        word: RelayStatusWord,
    },
    /// 81H/A1H (DL/T 645-1997): read answer.
    Read1997 {
        /// The 2-byte identifier.
        di: Di97,
        /// The value bytes.
        data: Data<'a>,
        /// A1H: follow-up frames follow.
        more: bool,
    },
    /// Any other answer, data kept opaque.
    Other {
        /// The control byte.
        control: Control,
        /// The data.
        data: Data<'a>,
    },
}

impl<'a> Response<'a> {
    /// The typed answer in a frame. Fails with [`Error::Direction`] for a request, and with
    /// [`Error::Length`] when the data does not fit the function code.
    #[inline]
    pub fn parse(repr: &FrameRepr<'a>) -> Result<Response<'a>> {
        let c = repr.control;
        if c.direction != Direction::Response {
            return Err(Error::Direction);
        }
        let data = repr.data;
        if c.error {
            return Ok(match (c.function, data.len()) {
                (Function::Security, 2) => Response::SecurityError {
                    word: SecurityErrorWord(u16::from_le_bytes(exact::<2>(data)?)),
                },
                (Function::RelayControl, 2) => Response::RelayError {
                    word: RelayStatusWord(u16::from_le_bytes(exact::<2>(data)?)),
                },
                (function, 1) => Response::Error {
                    function,
                    code: ErrorCode(exact::<1>(data)?[0]),
                },
                _ => return Err(Error::Length),
            });
        }
        Ok(match c.function {
            Function::Read => {
                let (di, data) = take_di(data)?;
                Response::Read {
                    di,
                    data,
                    more: c.follow_up,
                }
            }
            Function::ReadFollowUp => {
                let (di, rest) = take_di(data)?;
                let n = rest.len().checked_sub(1).ok_or(Error::Length)?;
                let (data, seq) = rest.split_at(n).ok_or(Error::Length)?;
                Response::ReadFollowUp {
                    di,
                    data,
                    seq: seq.get(0).ok_or(Error::Length)?,
                    more: c.follow_up,
                }
            }
            Function::ReadAddress => Response::ReadAddress {
                address: Address::from_wire(exact::<6>(data)?).map_err(|_| Error::Value)?,
            },
            function @ (Function::Write
            | Function::WriteAddress
            | Function::Freeze
            | Function::ClearMaxDemand
            | Function::MeterClear
            | Function::EventClear
            | Function::RelayControl) => {
                exact::<0>(data)?;
                Response::Ack { function }
            }
            Function::ChangeBaud => Response::ChangeBaud {
                rate: BaudRate(exact::<1>(data)?[0]),
            },
            Function::ChangePassword => Response::ChangePassword {
                new: Password::from_wire(exact::<4>(data)?),
            },
            Function::Security => {
                let (di, data) = take_di(data)?;
                Response::Security { di, data }
            }
            Function::Read1997 => {
                let (di, data) = take::<2>(data)?;
                Response::Read1997 {
                    di: Di97::from_wire(di),
                    data,
                    more: c.follow_up,
                }
            }
            _ => Response::Other { control: c, data },
        })
    }

    /// The control byte of the answer.
    #[inline]
    pub fn control(&self) -> Control {
        match *self {
            Response::Read { more, .. } => Control::response(Function::Read, more),
            Response::ReadFollowUp { more, .. } => Control::response(Function::ReadFollowUp, more),
            Response::ReadAddress { .. } => Control::response(Function::ReadAddress, false),
            Response::Ack { function } => Control::response(function, false),
            Response::ChangeBaud { .. } => Control::response(Function::ChangeBaud, false),
            Response::ChangePassword { .. } => Control::response(Function::ChangePassword, false),
            Response::Security { .. } => Control::response(Function::Security, false),
            Response::Error { function, .. } => Control::error_response(function),
            Response::SecurityError { .. } => Control::error_response(Function::Security),
            Response::RelayError { .. } => Control::error_response(Function::RelayControl),
            Response::Read1997 { more, .. } => Control::response(Function::Read1997, more),
            Response::Other { control, .. } => control,
        }
    }

    /// The number of data bytes the answer emits.
    pub fn data_len(&self) -> usize {
        match self {
            Response::Read { data, .. } => 4 + data.len(),
            Response::ReadFollowUp { data, .. } => 5 + data.len(),
            Response::ReadAddress { .. } => 6,
            Response::Ack { .. } => 0,
            Response::ChangeBaud { .. } | Response::Error { .. } => 1,
            Response::ChangePassword { .. } => 4,
            Response::Security { data, .. } => 4 + data.len(),
            Response::SecurityError { .. } | Response::RelayError { .. } => 2,
            Response::Read1997 { data, .. } => 2 + data.len(),
            Response::Other { data, .. } => data.len(),
        }
    }

    /// The length of the emitted frame, preamble included (saturating: no buffer is that long).
    pub fn buffer_len(&self, preamble: usize) -> usize {
        preamble.saturating_add(crate::wire::dlt645::MIN_FRAME_LEN + self.data_len())
    }

    /// Writes the answer's data (plain bytes).
    #[inline]
    pub fn write_data(&self, w: &mut DataWriter<'_>) -> Result<()> {
        match *self {
            Response::Read { di, data, .. } => {
                w.put(&di.to_wire())?;
                w.put_data(data)
            }
            Response::ReadFollowUp { di, data, seq, .. } => {
                w.put(&di.to_wire())?;
                w.put_data(data)?;
                w.put_u8(seq)
            }
            Response::ReadAddress { address } => w.put(&address.to_wire()),
            Response::Ack { .. } => Ok(()),
            Response::ChangeBaud { rate } => w.put_u8(rate.0),
            Response::ChangePassword { new } => w.put(&new.to_wire()),
            Response::Security { di, data } => {
                w.put(&di.to_wire())?;
                w.put_data(data)
            }
            Response::Error { code, .. } => w.put_u8(code.0),
            Response::SecurityError { word } => w.put(&word.0.to_le_bytes()),
            Response::RelayError { word } => w.put(&word.0.to_le_bytes()),
            Response::Read1997 { di, data, .. } => {
                w.put(&di.to_wire())?;
                w.put_data(data)
            }
            Response::Other { data, .. } => w.put_data(data),
        }
    }

    /// Emits the answer from `address` after `preamble` bytes `FE`; returns the bytes written.
    #[inline]
    pub fn emit(&self, address: Address, buf: &mut [u8], preamble: usize) -> Result<usize> {
        emit_frame(buf, preamble, address, self.control(), |w| {
            self.write_data(w)
        })
    }
}
