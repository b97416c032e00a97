//! Typed command and response payloads, and their byte encodings inside a sealed frame. See the [module docs](super).

#![deny(clippy::indexing_slicing)]

use core::fmt;

use super::module::WRAPPED_KEYS_LEN;
use crate::purchase::{CustomerNumber, Purchase};
use crate::relay::RelayCode;
use crate::units::{Money, Price};

/// Why a payload does not encode or decode.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
#[non_exhaustive]
pub enum PayloadError {
    /// Wrong length for the command type (or an output buffer too small to encode into).
    Length,
    /// An amount out of range (negative, or zero for a recharge).
    Amount,
    /// An unknown relay action code.
    RelayAction,
    /// An unknown threshold kind.
    Threshold,
}

impl fmt::Display for PayloadError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            PayloadError::Length => "payload length does not match its command type",
            PayloadError::Amount => "amount out of range",
            PayloadError::RelayAction => "unknown relay action",
            PayloadError::Threshold => "unknown threshold kind",
        })
    }
}

impl core::error::Error for PayloadError {}

/// The command type byte of a sealed frame.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
#[non_exhaustive]
pub enum CommandType {
    /// Open an account (DL/T 645 070101FF).
    OpenAccount,
    /// Recharge (DL/T 645 070102FF).
    Recharge,
    /// Relay control (DL/T 645 1CH, PA 98H).
    RelayControl,
    /// Set a price.
    SetPrice,
    /// Set a money threshold.
    SetThreshold,
    /// Write any parameter by its DL/T 645 data identifier.
    WriteParameter,
    /// Replace the meter keys (DL/T 645 070201FF..).
    KeyUpdate,
    /// Clear the meter.
    MeterClear,
}

impl CommandType {
    /// All command types.
    pub const ALL: [CommandType; 8] = [
        CommandType::OpenAccount,
        CommandType::Recharge,
        CommandType::RelayControl,
        CommandType::SetPrice,
        CommandType::SetThreshold,
        CommandType::WriteParameter,
        CommandType::KeyUpdate,
        CommandType::MeterClear,
    ];

    /// The wire code.
    pub const fn code(self) -> u8 {
        match self {
            CommandType::OpenAccount => 0x01,
            CommandType::Recharge => 0x02,
            CommandType::RelayControl => 0x03,
            CommandType::SetPrice => 0x04,
            CommandType::SetThreshold => 0x05,
            CommandType::WriteParameter => 0x06,
            CommandType::KeyUpdate => 0x07,
            CommandType::MeterClear => 0x08,
        }
    }

    /// The type for a wire code.
    pub const fn from_code(code: u8) -> Option<CommandType> {
        Some(match code {
            0x01 => CommandType::OpenAccount,
            0x02 => CommandType::Recharge,
            0x03 => CommandType::RelayControl,
            0x04 => CommandType::SetPrice,
            0x05 => CommandType::SetThreshold,
            0x06 => CommandType::WriteParameter,
            0x07 => CommandType::KeyUpdate,
            0x08 => CommandType::MeterClear,
            _ => return None,
        })
    }
}

/// A relay-control command. Its deadline is the frame's `valid_until` (DL/T 645 N3..N8).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub struct RelayControl {
    /// What to do.
    pub action: RelayCode,
    /// DL/T 645 N2: delay for the automatic-restore actions, in units the meter defines.
    pub delay: u8,
}

/// The money thresholds of a prepaid account.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub enum Threshold {
    /// Code 1: first alarm level (报警金额1).
    Alarm1,
    /// Code 2: second alarm level (报警金额2).
    Alarm2,
    /// Code 3: overdraft limit (透支金额限值).
    OverdraftLimit,
    /// Code 4: hoarding limit, the most credit a meter may hold (囤积金额限值).
    HoardingLimit,
    /// Code 5: the balance above which reconnection is allowed (合闸允许金额限值).
    ReconnectMinimum,
}

impl Threshold {
    /// The wire code.
    pub const fn code(self) -> u8 {
        match self {
            Threshold::Alarm1 => 1,
            Threshold::Alarm2 => 2,
            Threshold::OverdraftLimit => 3,
            Threshold::HoardingLimit => 4,
            Threshold::ReconnectMinimum => 5,
        }
    }

    /// The kind for a wire code.
    pub const fn from_code(code: u8) -> Option<Threshold> {
        Some(match code {
            1 => Threshold::Alarm1,
            2 => Threshold::Alarm2,
            3 => Threshold::OverdraftLimit,
            4 => Threshold::HoardingLimit,
            5 => Threshold::ReconnectMinimum,
            _ => return None,
        })
    }
}

/// A key update: the meter's keys for `new_version`, wrapped under the current `K_auth`
/// (see [security modules](super#security-modules)).
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
pub struct KeyUpdate {
    /// The new key version: the current one plus one.
    pub new_version: u16,
    /// The wrapped keys (not secret without `K_auth`, but not printed either).
    pub wrapped: [u8; WRAPPED_KEYS_LEN],
}

impl fmt::Debug for KeyUpdate {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("KeyUpdate")
            .field("new_version", &self.new_version)
            .finish_non_exhaustive()
    }
}

#[cfg(feature = "defmt")]
impl defmt::Format for KeyUpdate {
    fn format(&self, f: defmt::Formatter) {
        defmt::write!(f, "KeyUpdate {{ new_version: {} }}", self.new_version)
    }
}

/// A command, decoded from (or to be encoded into) a sealed frame's payload.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
#[non_exhaustive]
pub enum Command<'a> {
    /// Open the account with an initial purchase.
    OpenAccount(Purchase<Money>),
    /// Add credit.
    Recharge(Purchase<Money>),
    /// Switch the relay or its alarm/keep-power states.
    RelayControl(RelayControl),
    /// Set the price at `index` (a rate or step index the tariff defines).
    SetPrice {
        /// Which price.
        index: u8,
        /// The price per kWh.
        price: Price,
    },
    /// Set a money threshold.
    SetThreshold {
        /// Which threshold.
        threshold: Threshold,
        /// Its amount (>= 0).
        amount: Money,
    },
    /// Write a parameter by DL/T 645 data identifier; `data` is its value in the DL/T 645
    /// encoding for that identifier (a tariff table, for instance).
    WriteParameter {
        /// DL/T 645 data identifier, DI3 first (e.g. `0x0400_0108`).
        id: u32,
        /// The value bytes.
        data: &'a [u8],
    },
    /// Replace the meter keys.
    KeyUpdate(KeyUpdate),
    /// Clear the meter's energy, demand and event records.
    MeterClear,
}

const PURCHASE_LEN: usize = 18;

impl<'a> Command<'a> {
    /// The command type.
    pub const fn command_type(&self) -> CommandType {
        match self {
            Command::OpenAccount(_) => CommandType::OpenAccount,
            Command::Recharge(_) => CommandType::Recharge,
            Command::RelayControl(_) => CommandType::RelayControl,
            Command::SetPrice { .. } => CommandType::SetPrice,
            Command::SetThreshold { .. } => CommandType::SetThreshold,
            Command::WriteParameter { .. } => CommandType::WriteParameter,
            Command::KeyUpdate(_) => CommandType::KeyUpdate,
            Command::MeterClear => CommandType::MeterClear,
        }
    }

    /// The encoded payload length.
    pub const fn buffer_len(&self) -> usize {
        match self {
            Command::OpenAccount(_) | Command::Recharge(_) => PURCHASE_LEN,
            Command::RelayControl(_) => 2,
            Command::SetPrice { .. } => 5,
            Command::SetThreshold { .. } => 9,
            Command::WriteParameter { data, .. } => 4 + data.len(),
            Command::KeyUpdate(_) => 2 + WRAPPED_KEYS_LEN,
            Command::MeterClear => 0,
        }
    }

    /// Checks the values a payload cannot carry (amounts out of range).
    pub fn validate(&self) -> Result<(), PayloadError> {
        match self {
            Command::OpenAccount(p) if p.amount.is_negative() => Err(PayloadError::Amount),
            Command::Recharge(p) if !p.amount.is_positive() => Err(PayloadError::Amount),
            Command::SetThreshold { amount, .. } if amount.is_negative() => {
                Err(PayloadError::Amount)
            }
            Command::RelayControl(r) => known_relay(r.action.code()).map(|_| ()),
            _ => Ok(()),
        }
    }

    /// Encodes into exactly `out` (which must be [`Command::buffer_len`] bytes).
    pub fn emit(&self, out: &mut [u8]) -> Result<(), PayloadError> {
        self.validate()?;
        if out.len() != self.buffer_len() {
            return Err(PayloadError::Length);
        }
        let mut w = Cursor { buf: out, pos: 0 };
        match self {
            Command::OpenAccount(p) | Command::Recharge(p) => {
                w.put(&p.amount.minor().to_be_bytes());
                w.put(&p.count.to_be_bytes());
                w.put(&p.customer.to_bytes());
            }
            Command::RelayControl(r) => w.put(&[r.action.code(), r.delay]),
            Command::SetPrice { index, price } => {
                w.put(&[*index]);
                w.put(&price.minor_per_kwh().to_be_bytes());
            }
            Command::SetThreshold { threshold, amount } => {
                w.put(&[threshold.code()]);
                w.put(&amount.minor().to_be_bytes());
            }
            Command::WriteParameter { id, data } => {
                w.put(&id.to_be_bytes());
                w.put(data);
            }
            Command::KeyUpdate(k) => {
                w.put(&k.new_version.to_be_bytes());
                w.put(&k.wrapped);
            }
            Command::MeterClear => {}
        }
        Ok(())
    }

    /// Decodes the payload of a command of type `ty`.
    pub fn parse(ty: CommandType, payload: &'a [u8]) -> Result<Command<'a>, PayloadError> {
        let cmd = match ty {
            CommandType::OpenAccount => Command::OpenAccount(purchase(payload)?),
            CommandType::Recharge => Command::Recharge(purchase(payload)?),
            CommandType::RelayControl => {
                let [action, delay] = exact::<2>(payload)?;
                Command::RelayControl(RelayControl {
                    action: known_relay(action)?,
                    delay,
                })
            }
            CommandType::SetPrice => {
                let [index, p0, p1, p2, p3] = exact::<5>(payload)?;
                Command::SetPrice {
                    index,
                    price: Price::from_minor_per_kwh(u32::from_be_bytes([p0, p1, p2, p3])),
                }
            }
            CommandType::SetThreshold => {
                let (kind, amount) = payload.split_first().ok_or(PayloadError::Length)?;
                Command::SetThreshold {
                    threshold: Threshold::from_code(*kind).ok_or(PayloadError::Threshold)?,
                    amount: Money::from_minor(i64::from_be_bytes(exact::<8>(amount)?)),
                }
            }
            CommandType::WriteParameter => {
                let (id, data) = payload
                    .split_first_chunk::<4>()
                    .ok_or(PayloadError::Length)?;
                Command::WriteParameter {
                    id: u32::from_be_bytes(*id),
                    data,
                }
            }
            CommandType::KeyUpdate => {
                let (v, wrapped) = payload
                    .split_first_chunk::<2>()
                    .ok_or(PayloadError::Length)?;
                Command::KeyUpdate(KeyUpdate {
                    new_version: u16::from_be_bytes(*v),
                    wrapped: exact::<WRAPPED_KEYS_LEN>(wrapped)?,
                })
            }
            CommandType::MeterClear => {
                exact::<0>(payload)?;
                Command::MeterClear
            }
        };
        cmd.validate()?;
        Ok(cmd)
    }
}

fn exact<const N: usize>(b: &[u8]) -> Result<[u8; N], PayloadError> {
    <[u8; N]>::try_from(b).map_err(|_| PayloadError::Length)
}

/// The relay command for an N1 code; an unknown code is refused.
fn known_relay(code: u8) -> Result<RelayCode, PayloadError> {
    match RelayCode::from_code(code) {
        RelayCode::Unknown(_) => Err(PayloadError::RelayAction),
        known => Ok(known),
    }
}

fn purchase(b: &[u8]) -> Result<Purchase<Money>, PayloadError> {
    let all = exact::<PURCHASE_LEN>(b)?;
    let (amount, rest) = all.split_first_chunk::<8>().ok_or(PayloadError::Length)?;
    let (count, customer) = rest.split_first_chunk::<4>().ok_or(PayloadError::Length)?;
    Ok(Purchase {
        amount: Money::from_minor(i64::from_be_bytes(*amount)),
        count: u32::from_be_bytes(*count),
        customer: CustomerNumber::new(exact::<6>(customer)?),
    })
}

struct Cursor<'b> {
    buf: &'b mut [u8],
    pos: usize,
}

impl Cursor<'_> {
    /// Callers check the total length first; anything that does not fit is dropped.
    fn put(&mut self, bytes: &[u8]) {
        let end = self.pos + bytes.len();
        if let Some(dst) = self.buf.get_mut(self.pos..end) {
            dst.copy_from_slice(bytes);
            self.pos = end;
        }
    }
}

/// The application's verdict on a command, carried in a sealed response. 0 is success; the
/// other values are bit flags, numbered like the DL/T 645 03H error word (SERR) where one
/// exists.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub struct Status(pub u16);

impl Status {
    /// Done.
    pub const OK: Status = Status(0);
    /// Any other refusal (SERR bit 0).
    pub const OTHER: Status = Status(0x0001);
    /// The purchase count equals the meter's: this recharge was already applied (SERR bit 1).
    pub const REPEAT_RECHARGE: Status = Status(0x0002);
    /// The customer number does not match (SERR bit 4).
    pub const CUSTOMER_MISMATCH: Status = Status(0x0010);
    /// The purchase count is not the meter's + 1 (SERR bit 5).
    pub const PURCHASE_COUNT: Status = Status(0x0020);
    /// The recharge would exceed the hoarding limit (SERR bit 6).
    pub const HOARDING_LIMIT: Status = Status(0x0040);
    /// The command is not allowed in the account's state (e.g. recharge before opening).
    pub const STATE: Status = Status(0x0200);

    /// `true` for [`Status::OK`].
    pub const fn is_ok(self) -> bool {
        self.0 == 0
    }
}

/// A response payload: the verdict and any data the application returns (a balance, a purchase
/// count), in an encoding the application defines.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub struct Reply<'a> {
    /// The verdict.
    pub status: Status,
    /// Extra data.
    pub data: &'a [u8],
}

impl<'a> Reply<'a> {
    /// The encoded payload length.
    pub const fn buffer_len(&self) -> usize {
        2 + self.data.len()
    }

    /// Encodes into exactly `out`.
    pub fn emit(&self, out: &mut [u8]) -> Result<(), PayloadError> {
        if out.len() != self.buffer_len() {
            return Err(PayloadError::Length);
        }
        let mut w = Cursor { buf: out, pos: 0 };
        w.put(&self.status.0.to_be_bytes());
        w.put(self.data);
        Ok(())
    }

    /// Decodes a response payload.
    pub fn parse(payload: &'a [u8]) -> Result<Reply<'a>, PayloadError> {
        let (status, data) = payload
            .split_first_chunk::<2>()
            .ok_or(PayloadError::Length)?;
        Ok(Reply {
            status: Status(u16::from_be_bytes(*status)),
            data,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn samples() -> [Command<'static>; 8] {
        let p = Purchase {
            amount: Money::from_cents(10_000).unwrap(),
            count: 7,
            customer: CustomerNumber::new([1, 2, 3, 4, 5, 6]),
        };
        [
            Command::OpenAccount(Purchase {
                amount: Money::ZERO,
                ..p
            }),
            Command::Recharge(p),
            Command::RelayControl(RelayControl {
                action: RelayCode::TripRestoreClose,
                delay: 3,
            }),
            Command::SetPrice {
                index: 2,
                price: Price::from_minor_per_kwh(5_283),
            },
            Command::SetThreshold {
                threshold: Threshold::HoardingLimit,
                amount: Money::from_units(2_000).unwrap(),
            },
            Command::WriteParameter {
                id: 0x0400_0108,
                data: &[0x12, 0x34],
            },
            Command::KeyUpdate(KeyUpdate {
                new_version: 3,
                wrapped: [0x5A; 48],
            }),
            Command::MeterClear,
        ]
    }

    #[test]
    fn round_trip_every_type() {
        for (cmd, ty) in samples().iter().zip(CommandType::ALL) {
            assert_eq!(cmd.command_type(), ty);
            assert_eq!(CommandType::from_code(ty.code()), Some(ty));
            let mut buf = [0u8; 64];
            let out = &mut buf[..cmd.buffer_len()];
            cmd.emit(out).unwrap();
            assert_eq!(Command::parse(ty, out), Ok(*cmd));
            // One byte short or long is refused (a trailing byte is data for WriteParameter).
            if cmd.buffer_len() > 0 && ty != CommandType::WriteParameter {
                assert_eq!(
                    Command::parse(ty, &buf[..cmd.buffer_len() - 1]),
                    Err(PayloadError::Length)
                );
            }
            if ty != CommandType::WriteParameter {
                assert_eq!(
                    Command::parse(ty, &buf[..cmd.buffer_len() + 1]),
                    Err(PayloadError::Length)
                );
            }
        }
        assert_eq!(CommandType::from_code(0), None);
        assert_eq!(CommandType::from_code(9), None);
    }

    #[test]
    fn recharge_layout() {
        let cmd = samples()[1];
        let mut buf = [0u8; 18];
        cmd.emit(&mut buf).unwrap();
        // 100.00 = 1 000 000 minor units.
        assert_eq!(
            buf,
            [
                0, 0, 0, 0, 0, 0x0F, 0x42, 0x40, 0, 0, 0, 7, 1, 2, 3, 4, 5, 6
            ]
        );
    }

    #[test]
    fn value_errors() {
        let zero = Purchase {
            amount: Money::ZERO,
            count: 1,
            customer: CustomerNumber::default(),
        };
        let mut buf = [0u8; 18];
        assert_eq!(
            Command::Recharge(zero).emit(&mut buf),
            Err(PayloadError::Amount)
        );
        assert_eq!(
            Command::OpenAccount(Purchase {
                amount: Money::from_minor(-1),
                ..zero
            })
            .emit(&mut buf),
            Err(PayloadError::Amount)
        );
        // A zero recharge on the wire decodes to an error too.
        Command::OpenAccount(zero).emit(&mut buf).unwrap();
        assert_eq!(
            Command::parse(CommandType::Recharge, &buf),
            Err(PayloadError::Amount)
        );
        assert_eq!(
            Command::parse(CommandType::RelayControl, &[0x1F, 0]),
            Err(PayloadError::RelayAction)
        );
        assert_eq!(
            Command::parse(CommandType::SetThreshold, &[9, 0, 0, 0, 0, 0, 0, 0, 0]),
            Err(PayloadError::Threshold)
        );
        assert_eq!(
            Command::parse(CommandType::SetThreshold, &[1, 0x80, 0, 0, 0, 0, 0, 0, 0]),
            Err(PayloadError::Amount)
        );
        assert_eq!(
            Command::MeterClear.emit(&mut [0u8; 1]),
            Err(PayloadError::Length)
        );
        for code in 0..=255u8 {
            assert_eq!(RelayCode::from_code(code).code(), code);
            if let Ok(a) = known_relay(code) {
                assert_eq!(a.code(), code);
                assert!(!matches!(a, RelayCode::Unknown(_)));
            }
            if let Some(t) = Threshold::from_code(code) {
                assert_eq!(t.code(), code);
            }
        }
    }

    #[test]
    fn responses() {
        let r = Reply {
            status: Status::REPEAT_RECHARGE,
            data: &[9, 8, 7],
        };
        let mut buf = [0u8; 5];
        r.emit(&mut buf).unwrap();
        assert_eq!(buf, [0, 2, 9, 8, 7]);
        assert_eq!(Reply::parse(&buf), Ok(r));
        assert_eq!(Reply::parse(&buf[..1]), Err(PayloadError::Length));
        assert!(Status::OK.is_ok() && !r.status.is_ok());
        let s = format!(
            "{:?}",
            Command::KeyUpdate(KeyUpdate {
                new_version: 1,
                wrapped: [0xEE; 48]
            })
        );
        assert!(!s.contains("238"), "{s}");
    }
}
