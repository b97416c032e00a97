//! The value formats of the identifiers: BCD numbers, dates and times, tables, records and
//! binary words, decoded into [`Value`]s and encoded back.

use core::fmt;

use super::Unit;
use crate::bcd::{self, DateTimeFormat, Decimal, NumberFormat};
use crate::time::{Date, DateTime, Time};
use crate::wire::dlt645::{Error, Password, Result};

/// The 3-byte entries of a table.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub enum TableKind {
    /// Yearly time zones, `MMDDNN` (start month, start day, day-table number).
    Seasons,
    /// Daily periods, `hhmmNN` (start hour, start minute, tariff number).
    DayPeriods,
}

/// One field of a [`Format::Record`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct RecordField {
    /// Field name (JSON key).
    pub name: &'static str,
    /// Field format.
    pub format: Format,
    /// Field unit.
    pub unit: Unit,
}

// Written by hand: a derived impl would recurse through `Format::Record`.
#[cfg(feature = "defmt")]
impl defmt::Format for RecordField {
    fn format(&self, f: defmt::Formatter<'_>) {
        defmt::write!(f, "Field({=str})", self.name)
    }
}

/// The format of a value.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
#[non_exhaustive]
pub enum Format {
    /// A BCD number.
    Number(NumberFormat),
    /// A BCD date and time.
    DateTime(DateTimeFormat),
    /// `YYMMDDWW`: a date with its weekday (0 = Sunday).
    DateWeekday,
    /// `hhmmss`.
    Time,
    /// `DDhh`: a settlement day and hour.
    DayHour,
    /// BCD digits, shown as a string (address, meter number, customer number); the byte count.
    Digits(u8),
    /// Binary, low byte first, shown in hex (status words); the byte count.
    Hex(u8),
    /// `PA P0 P1 P2`.
    Password,
    /// Up to `max` 3-byte entries.
    Table {
        /// What the entries are.
        kind: TableKind,
        /// Most entries.
        max: u8,
    },
    /// Fields one after the other.
    Record(&'static [RecordField]),
}

impl Format {
    /// The length in bytes, or `None` for tables (any whole number of entries up to `max`).
    pub const fn fixed_len(&self) -> Option<usize> {
        match *self {
            Format::Number(n) => Some(n.len as usize),
            Format::DateTime(d) => Some(d.len()),
            Format::DateWeekday => Some(4),
            Format::Time => Some(3),
            Format::DayHour => Some(2),
            Format::Digits(n) | Format::Hex(n) => Some(n as usize),
            Format::Password => Some(4),
            Format::Table { .. } => None,
            Format::Record(fields) => {
                let mut total = 0;
                let mut rest = fields;
                while let [first, tail @ ..] = rest {
                    match first.format.fixed_len() {
                        Some(n) => total += n,
                        None => return None,
                    }
                    rest = tail;
                }
                Some(total)
            }
        }
    }

    /// Decodes the plain bytes of one value. Fails with [`Error::Length`] or [`Error::Value`].
    pub fn decode<'a>(&self, b: &'a [u8]) -> Result<Value<'a>> {
        if let Some(n) = self.fixed_len()
            && b.len() != n
        {
            return Err(Error::Length);
        }
        Ok(match *self {
            Format::Number(n) => Value::Number(n.decode(b)?),
            Format::DateTime(d) => Value::DateTime(d.decode(b, 2000)?),
            Format::DateWeekday => Value::Date(bcd::decode_date_weekday(b)?),
            Format::Time => Value::Time(bcd::decode_time(b)?),
            Format::DayHour => {
                let [hh, dd] = b else {
                    return Err(Error::Length);
                };
                let (day, hour) = (bcd::decode_byte(*dd)?, bcd::decode_byte(*hh)?);
                if !(1..=28).contains(&day) && day != 99 || hour > 23 && hour != 99 {
                    return Err(Error::Value);
                }
                Value::DayHour { day, hour }
            }
            Format::Digits(_) => {
                bcd::decode_u64(b)?;
                Value::Digits(b)
            }
            Format::Hex(_) => Value::Hex(b),
            Format::Password => {
                let [l, p0, p1, p2] = b else {
                    return Err(Error::Length);
                };
                Value::Password(Password::from_wire([*l, *p0, *p1, *p2]))
            }
            Format::Table { kind, max } => {
                if !b.len().is_multiple_of(3) || b.len() / 3 > usize::from(max) {
                    return Err(Error::Length);
                }
                for e in b.chunks_exact(3) {
                    decode_table_entry(kind, e)?;
                }
                Value::Table { kind, bytes: b }
            }
            Format::Record(fields) => {
                let mut rest = b;
                for f in fields {
                    let n = f.format.fixed_len().ok_or(Error::Length)?;
                    let (head, tail) = rest.split_at_checked(n).ok_or(Error::Length)?;
                    f.format.decode(head)?;
                    rest = tail;
                }
                Value::Record { fields, bytes: b }
            }
        })
    }

    /// Decodes a block: `bytes` holds one or more values back to back. Calls `each` for every
    /// value in order; fails (after calling `each` for the values before) if the length is not a
    /// whole number of values or a value does not decode.
    pub fn decode_block<'a>(
        &self,
        bytes: &'a [u8],
        mut each: impl FnMut(Value<'a>),
    ) -> Result<usize> {
        let n = match self.fixed_len() {
            Some(n) if n > 0 => n,
            _ => {
                each(self.decode(bytes)?);
                return Ok(1);
            }
        };
        if bytes.is_empty() || !bytes.len().is_multiple_of(n) {
            return Err(Error::Length);
        }
        let mut count = 0;
        for chunk in bytes.chunks_exact(n) {
            each(self.decode(chunk)?);
            count += 1;
        }
        Ok(count)
    }
}

/// One decoded entry of a table: `(month, day, day table)` for seasons or
/// `(hour, minute, tariff)` for day periods, in logical order.
pub fn decode_table_entry(kind: TableKind, wire: &[u8]) -> Result<(u8, u8, u8)> {
    let [nn, b1, b2] = wire else {
        return Err(Error::Length);
    };
    let (a, b, n) = (
        bcd::decode_byte(*b2)?,
        bcd::decode_byte(*b1)?,
        bcd::decode_byte(*nn)?,
    );
    let ok = match kind {
        TableKind::Seasons => (1..=12).contains(&a) && (1..=31).contains(&b),
        TableKind::DayPeriods => a <= 23 && b <= 59,
    };
    if !ok {
        return Err(Error::Value);
    }
    Ok((a, b, n))
}

/// Encodes one table entry given in logical order (see [`decode_table_entry`]).
pub fn encode_table_entry(entry: (u8, u8, u8)) -> Result<[u8; 3]> {
    let (a, b, n) = entry;
    Ok([
        bcd::encode_byte(n)?,
        bcd::encode_byte(b)?,
        bcd::encode_byte(a)?,
    ])
}

/// A decoded value, borrowing the plain bytes where it keeps them.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
#[non_exhaustive]
pub enum Value<'a> {
    /// A number.
    Number(Decimal),
    /// A date and time.
    DateTime(DateTime),
    /// A date.
    Date(Date),
    /// A time of day.
    Time(Time),
    /// A day of month and hour (99: unused).
    DayHour {
        /// Day 1..=28.
        day: u8,
        /// Hour 0..=23.
        hour: u8,
    },
    /// BCD digits, low byte first.
    Digits(&'a [u8]),
    /// Binary, low byte first.
    Hex(&'a [u8]),
    /// A password.
    Password(Password),
    /// A table of 3-byte entries (see [`decode_table_entry`]).
    Table {
        /// Entry kind.
        kind: TableKind,
        /// The entries' bytes.
        bytes: &'a [u8],
    },
    /// A record (fields validated; decode them with their formats).
    Record {
        /// The fields.
        fields: &'static [RecordField],
        /// The bytes.
        bytes: &'a [u8],
    },
}

impl Value<'_> {
    /// The fields of a record with their decoded values, in order; empty for other values.
    pub fn record_fields(&self) -> impl Iterator<Item = (&'static RecordField, Value<'_>)> {
        let (fields, mut bytes): (&'static [RecordField], &[u8]) = match *self {
            Value::Record { fields, bytes } => (fields, bytes),
            _ => (&[], &[]),
        };
        fields.iter().filter_map(move |f| {
            let n = f.format.fixed_len()?;
            let (head, tail) = bytes.split_at_checked(n)?;
            bytes = tail;
            Some((f, f.format.decode(head).ok()?))
        })
    }

    /// The entries of a table in logical order; empty for other values.
    pub fn table_entries(&self) -> impl Iterator<Item = (u8, u8, u8)> + '_ {
        let (kind, bytes) = match *self {
            Value::Table { kind, bytes } => (kind, bytes),
            _ => (TableKind::Seasons, &[][..]),
        };
        bytes
            .chunks_exact(3)
            .filter_map(move |e| decode_table_entry(kind, e).ok())
    }
}

/// Human-readable: numbers with their decimals, dates `YYYY-MM-DD`, digits in logical order,
/// hex in logical order, tables as `MM-DD:NN` or `hh:mm:NN` lists, records as `name=value`.
impl fmt::Display for Value<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Value::Number(d) => write!(f, "{d}"),
            Value::DateTime(dt) => write!(f, "{dt}"),
            Value::Date(d) => write!(f, "{d}"),
            Value::Time(t) => write!(f, "{t}"),
            Value::DayHour { day, hour } => write!(f, "day {day:02} {hour:02}h"),
            Value::Digits(b) | Value::Hex(b) => {
                for x in b.iter().rev() {
                    write!(f, "{x:02X}")?;
                }
                Ok(())
            }
            Value::Password(p) => write!(
                f,
                "level {:02X} {:02X}{:02X}{:02X}",
                p.level, p.code[2], p.code[1], p.code[0]
            ),
            Value::Table { kind, .. } => {
                for (i, (a, b, n)) in self.table_entries().enumerate() {
                    if i > 0 {
                        f.write_str(" ")?;
                    }
                    match kind {
                        TableKind::Seasons => write!(f, "{a:02}-{b:02}:{n}")?,
                        TableKind::DayPeriods => write!(f, "{a:02}:{b:02}:{n}")?,
                    }
                }
                Ok(())
            }
            Value::Record { .. } => {
                for (i, (field, v)) in self.record_fields().enumerate() {
                    if i > 0 {
                        f.write_str(" ")?;
                    }
                    write!(f, "{}={v}", field.name)?;
                }
                Ok(())
            }
        }
    }
}
