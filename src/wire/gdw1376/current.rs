//! AFN 0CH (request class 1 data): the current readings a prepaid head-end asks a
//! concentrator for, per measurement point.
//!
//! The downlink names the points and items with data-unit identifiers alone (no data); the
//! uplink answers each with the identifier and the item's data:
//!
//! | item | data (each field low byte first) |
//! |---|---|
//! | F129 current forward active energy, total and tariffs 1..M | `Td` A.15 (5: mm hh DD MM YY), `M` (1, binary), total A.14 (5: XXXXXX.XXXX kWh), M × A.14 |
//! | F167 the meter's purchase and consumption | `Td` A.15, purchase count A.8 (2: NNNN), balance A.14 (5: XXXXXX.XXXX), total purchased A.14, remaining energy, overdrawn energy, total purchased energy, overdraft-limit energy, alarm energy, fault energy: A.11 each (4: XXXXXX.XX kWh) |
//!
//! A field that is not available is sent as `EEH` bytes (here: `None`).
//!
//! Sources: Q/GDW 376.1-2009 §5.12.2.4.82 (F129) and §5.12.2.4.117 (F167) as two public codecs
//! lay them out, a Kaitai Struct description of 376.1 and a Java head-end decoder (which also
//! treats all-`EE` fields as absent); the standard's text was not available.

use heapless::Vec;

use super::{Error, Result, UnitId};
use crate::bcd::{self, DateTimeFormat};
use crate::time::DateTime;
use crate::units::{Energy, Money};

/// F129: current forward active energy.
pub const F129: u16 = 129;
/// F167: the meter's purchase and consumption information.
pub const F167: u16 = 167;
/// The most tariffs an F129 answer carries here (DL/T 645 meters have at most 14; 376.1
/// answers in the field carry 4).
pub const MAX_TARIFFS: usize = 14;

/// An A.14 field (XXXXXX.XXXX, 5 bytes): energy in 0.0001 kWh, or money in 0.0001 units.
const A14: usize = 5;
/// An A.11 field (XXXXXX.XX kWh, 4 bytes).
const A11: usize = 4;
/// The length of an F167 data unit's data.
const F167_LEN: usize = 5 + 2 + 2 * A14 + 6 * A11;

/// F129's data: when the concentrator read the meter, and its forward active energy.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ForwardEnergy {
    /// When the concentrator read the meter (to the minute).
    pub read_at: Option<DateTime>,
    /// The total, in 0.0001 kWh (a tenth of a Wh).
    pub total: Option<u64>,
    /// Tariffs 1..M, in 0.0001 kWh.
    pub tariffs: Vec<Option<u64>, MAX_TARIFFS>,
}

/// F167's data: the meter's purchase count, money and energy credit.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct PurchaseInfo {
    /// When the concentrator read the meter (to the minute).
    pub read_at: Option<DateTime>,
    /// The purchase count (0..=9999).
    pub purchase_count: Option<u16>,
    /// The remaining balance (not negative; an overdraft is not in this item).
    pub balance: Option<Money>,
    /// Every purchase so far, in total.
    pub purchased: Option<Money>,
    /// Energy credit remaining (energy-credit meters).
    pub remaining_energy: Option<Energy>,
    /// Energy overdrawn.
    pub overdrawn_energy: Option<Energy>,
    /// Energy purchased in total.
    pub purchased_energy: Option<Energy>,
    /// The overdraft limit, in energy.
    pub overdraft_limit_energy: Option<Energy>,
    /// The alarm threshold, in energy.
    pub alarm_energy: Option<Energy>,
    /// The energy consumed while the meter was faulty.
    pub fault_energy: Option<Energy>,
}

/// One answered item of an AFN 0CH uplink.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Current {
    /// F129.
    ForwardEnergy(ForwardEnergy),
    /// F167.
    PurchaseInfo(PurchaseInfo),
}

impl Current {
    /// The item number.
    pub fn fn_number(&self) -> u16 {
        match self {
            Current::ForwardEnergy(_) => F129,
            Current::PurchaseInfo(_) => F167,
        }
    }

    /// Reads one uplink data unit (identifier included) at the start of `units`: its point,
    /// the item, and the bytes after it.
    ///
    /// Errors: [`Error::Value`] for an identifier naming more than one point or item, an item
    /// other than F129 or F167, a field that is neither BCD nor all `EEH`, more than
    /// [`MAX_TARIFFS`] tariffs; [`Error::Truncated`].
    pub fn parse(units: &[u8]) -> Result<(u16, Current, &[u8])> {
        let (id, rest) = UnitId::parse(units)?;
        let (Some(point), Some(item)) = (id.single_point(), id.single_fn()) else {
            return Err(Error::Value);
        };
        let (read_at, rest) = take_time(rest)?;
        match item {
            F129 => {
                let [m, rest @ ..] = rest else {
                    return Err(Error::Truncated);
                };
                let m = usize::from(*m);
                if m > MAX_TARIFFS {
                    return Err(Error::Value);
                }
                let (total, mut rest) = take_number(rest, A14)?;
                let mut tariffs = Vec::new();
                for _ in 0..m {
                    let (t, r) = take_number(rest, A14)?;
                    tariffs.push(t).map_err(|_| Error::Value)?;
                    rest = r;
                }
                let item = ForwardEnergy {
                    read_at,
                    total,
                    tariffs,
                };
                Ok((point, Current::ForwardEnergy(item), rest))
            }
            F167 => {
                let (count, rest) = take_number(rest, 2)?;
                let (balance, rest) = take_number(rest, A14)?;
                let (purchased, mut rest) = take_number(rest, A14)?;
                let mut energies = [None; 6];
                for e in &mut energies {
                    let (v, r) = take_number(rest, A11)?;
                    *e = v.map(centi_kwh).transpose()?;
                    rest = r;
                }
                let money = |v: Option<u64>| {
                    v.map(|m| {
                        i64::try_from(m)
                            .map(Money::from_minor)
                            .map_err(|_| Error::Value)
                    })
                    .transpose()
                };
                let [remaining, overdrawn, purchased_energy, limit, alarm, fault] = energies;
                let item = PurchaseInfo {
                    read_at,
                    purchase_count: count
                        .map(|c| u16::try_from(c).map_err(|_| Error::Value))
                        .transpose()?,
                    balance: money(balance)?,
                    purchased: money(purchased)?,
                    remaining_energy: remaining,
                    overdrawn_energy: overdrawn,
                    purchased_energy,
                    overdraft_limit_energy: limit,
                    alarm_energy: alarm,
                    fault_energy: fault,
                };
                Ok((point, Current::PurchaseInfo(item), rest))
            }
            _ => Err(Error::Value),
        }
    }

    /// The length of the data unit, identifier included.
    pub fn buffer_len(&self) -> usize {
        match self {
            Current::ForwardEnergy(f) => 4 + 5 + 1 + A14 * (1 + f.tariffs.len()),
            Current::PurchaseInfo(_) => 4 + F167_LEN,
        }
    }

    /// Writes the data unit for `point` (identifier included) to the start of `out`; returns
    /// its length.
    ///
    /// Errors: [`Error::Value`] (a point out of range, a read time outside 2000..=2099, a
    /// value that does not fit its field, a negative balance or energy, energy not a whole
    /// 10 Wh in an A.11 field), [`Error::BufferTooSmall`].
    pub fn emit(&self, point: u16, out: &mut [u8]) -> Result<usize> {
        let len = self.buffer_len();
        let out = out.get_mut(..len).ok_or(Error::BufferTooSmall)?;
        let mut w = Writer { out, pos: 0 };
        w.put(&UnitId::new(point, self.fn_number())?.to_bytes())?;
        match self {
            Current::ForwardEnergy(f) => {
                w.time(f.read_at)?;
                w.put(&[u8::try_from(f.tariffs.len()).map_err(|_| Error::Value)?])?;
                w.number(f.total, A14)?;
                for t in &f.tariffs {
                    w.number(*t, A14)?;
                }
            }
            Current::PurchaseInfo(p) => {
                w.time(p.read_at)?;
                w.number(p.purchase_count.map(u64::from), 2)?;
                for m in [p.balance, p.purchased] {
                    let v = m.map(|m| u64::try_from(m.minor()).map_err(|_| Error::Value));
                    w.number(v.transpose()?, A14)?;
                }
                for e in [
                    p.remaining_energy,
                    p.overdrawn_energy,
                    p.purchased_energy,
                    p.overdraft_limit_energy,
                    p.alarm_energy,
                    p.fault_energy,
                ] {
                    let v = e.map(|e| match e.to_centi_kwh() {
                        (c, rest) if rest == Energy::ZERO => {
                            u64::try_from(c).map_err(|_| Error::Value)
                        }
                        _ => Err(Error::Value),
                    });
                    w.number(v.transpose()?, A11)?;
                }
            }
        }
        Ok(w.pos)
    }
}

/// The downlink AFN 0CH data units asking for `items` of every point in `points`, one unit
/// per point and item, written to `out`; returns the length.
///
/// Errors: [`Error::Value`] (a point or item out of range), [`Error::BufferTooSmall`].
pub fn emit_request(points: &[u16], items: &[u16], out: &mut [u8]) -> Result<usize> {
    let mut pos = 0;
    for &p in points {
        for &f in items {
            let slot = out.get_mut(pos..pos + 4).ok_or(Error::BufferTooSmall)?;
            slot.copy_from_slice(&UnitId::new(p, f)?.to_bytes());
            pos += 4;
        }
    }
    Ok(pos)
}

fn centi_kwh(c: u64) -> Result<Energy> {
    i64::try_from(c)
        .ok()
        .and_then(Energy::from_centi_kwh)
        .ok_or(Error::Value)
}

fn is_absent(field: &[u8]) -> bool {
    field.iter().all(|&b| b == 0xEE)
}

fn take_time(bytes: &[u8]) -> Result<(Option<DateTime>, &[u8])> {
    let (field, rest) = bytes.split_at_checked(5).ok_or(Error::Truncated)?;
    if is_absent(field) {
        return Ok((None, rest));
    }
    let t = DateTimeFormat::YYMMDDhhmm
        .decode(field, 2000)
        .map_err(|_| Error::Value)?;
    Ok((Some(t), rest))
}

fn take_number(bytes: &[u8], len: usize) -> Result<(Option<u64>, &[u8])> {
    let (field, rest) = bytes.split_at_checked(len).ok_or(Error::Truncated)?;
    if is_absent(field) {
        return Ok((None, rest));
    }
    Ok((
        Some(bcd::decode_u64(field).map_err(|_| Error::Value)?),
        rest,
    ))
}

struct Writer<'a> {
    out: &'a mut [u8],
    pos: usize,
}

impl Writer<'_> {
    fn slot(&mut self, len: usize) -> Result<&mut [u8]> {
        let slot = self
            .out
            .get_mut(self.pos..self.pos + len)
            .ok_or(Error::BufferTooSmall)?;
        self.pos += len;
        Ok(slot)
    }

    fn put(&mut self, bytes: &[u8]) -> Result<()> {
        self.slot(bytes.len())?.copy_from_slice(bytes);
        Ok(())
    }

    fn time(&mut self, t: Option<DateTime>) -> Result<()> {
        let slot = self.slot(5)?;
        match t {
            None => slot.fill(0xEE),
            Some(t) => DateTimeFormat::YYMMDDhhmm
                .encode(t, slot)
                .map_err(|_| Error::Value)?,
        }
        Ok(())
    }

    fn number(&mut self, v: Option<u64>, len: usize) -> Result<()> {
        let slot = self.slot(len)?;
        match v {
            None => slot.fill(0xEE),
            Some(v) => bcd::encode_u64(v, slot).map_err(|_| Error::Value)?,
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::indexing_slicing)]
    use super::*;
    use crate::time::{Date, Time};

    /// An F129 unit of point 1 laid out field by field as the public codecs read it:
    /// DA 01 01, DT 01 10; Td 2027-03-16 08:30; M = 4; total 1234.5678 kWh; tariffs.
    const F129_UNIT: [u8; 4 + 5 + 1 + 25] = [
        0x01, 0x01, 0x01, 0x10, // P1 F129
        0x30, 0x08, 0x16, 0x03, 0x27, // mm hh DD MM YY
        0x04, // M
        0x78, 0x56, 0x34, 0x12, 0x00, // total 001234.5678
        0x00, 0x00, 0x10, 0x00, 0x00, // 10.0000
        0x78, 0x56, 0x24, 0x12, 0x00, // 1224.5678
        0x00, 0x00, 0x00, 0x00, 0x00, // 0
        0xEE, 0xEE, 0xEE, 0xEE, 0xEE, // not available
    ];

    #[test]
    fn f129_decodes_and_emits_the_public_layout() {
        let (point, item, rest) = Current::parse(&F129_UNIT).unwrap();
        assert!(rest.is_empty());
        assert_eq!(point, 1);
        let Current::ForwardEnergy(f) = &item else {
            panic!("{item:?}")
        };
        assert_eq!(
            f.read_at,
            Some(DateTime::new(
                Date::new(2027, 3, 16).unwrap(),
                Time::new(8, 30, 0).unwrap()
            ))
        );
        assert_eq!(f.total, Some(12_345_678));
        assert_eq!(
            &f.tariffs[..],
            &[Some(100_000), Some(12_245_678), Some(0), None]
        );
        let mut out = [0u8; 64];
        let n = item.emit(point, &mut out).unwrap();
        assert_eq!(&out[..n], &F129_UNIT[..]);
        assert_eq!(n, item.buffer_len());
    }

    #[test]
    fn f167_round_trips_and_refuses_what_does_not_fit() {
        let info = PurchaseInfo {
            read_at: Some(DateTime::new(
                Date::new(2027, 3, 16).unwrap(),
                Time::new(8, 30, 0).unwrap(),
            )),
            purchase_count: Some(3),
            balance: Some(Money::from_minor(1_234_500)),
            purchased: Some(Money::from_minor(3_000_000)),
            remaining_energy: None,
            overdrawn_energy: None,
            purchased_energy: None,
            overdraft_limit_energy: None,
            alarm_energy: None,
            fault_energy: Some(Energy::from_wh(20)),
        };
        let item = Current::PurchaseInfo(info);
        let mut out = [0u8; 64];
        let n = item.emit(2040, &mut out).unwrap();
        assert_eq!(n, 4 + 41);
        // P2040 is DA1 bit 7 of group 255; F167 is DT1 bit 6 of group 20.
        assert_eq!(&out[..4], &[0x80, 0xFF, 0x40, 0x14]);
        assert_eq!(&out[9..11], &[0x03, 0x00]);
        assert_eq!(&out[11..16], &[0x00, 0x45, 0x23, 0x01, 0x00]);
        assert_eq!(&out[n - 4..n], &[0x02, 0x00, 0x00, 0x00]);
        assert_eq!(Current::parse(&out[..n]).unwrap(), (2040, item, &[][..]));
        // A negative balance, a sub-10 Wh energy, a short buffer: refused.
        let mut bad = info;
        bad.balance = Some(Money::from_minor(-1));
        assert_eq!(
            Current::PurchaseInfo(bad).emit(1, &mut out),
            Err(Error::Value)
        );
        let mut bad = info;
        bad.fault_energy = Some(Energy::from_wh(5));
        assert_eq!(
            Current::PurchaseInfo(bad).emit(1, &mut out),
            Err(Error::Value)
        );
        assert_eq!(
            Current::PurchaseInfo(info).emit(1, &mut out[..44]),
            Err(Error::BufferTooSmall)
        );
    }

    #[test]
    fn bad_units_are_refused() {
        // Truncated at every length.
        for n in 0..F129_UNIT.len() {
            assert!(Current::parse(&F129_UNIT[..n]).is_err(), "{n}");
        }
        // Not BCD.
        let mut u = F129_UNIT;
        u[10] = 0xAB;
        assert_eq!(Current::parse(&u), Err(Error::Value));
        // Another item, two items at once, too many tariffs.
        let mut u = F129_UNIT;
        u[2] = 0x02;
        assert_eq!(Current::parse(&u), Err(Error::Value));
        u[2] = 0x03;
        assert_eq!(Current::parse(&u), Err(Error::Value));
        let mut u = F129_UNIT;
        u[9] = 15;
        assert_eq!(Current::parse(&u), Err(Error::Value));
    }

    #[test]
    fn requests_are_identifiers_only() {
        let mut out = [0u8; 16];
        let n = emit_request(&[1, 9], &[F129, F167], &mut out).unwrap();
        assert_eq!(
            &out[..n],
            &[
                0x01, 0x01, 0x01, 0x10, 0x01, 0x01, 0x40, 0x14, 0x01, 0x02, 0x01, 0x10, 0x01, 0x02,
                0x40, 0x14
            ]
        );
        assert_eq!(
            emit_request(&[1, 9], &[F129, F167], &mut out[..15]),
            Err(Error::BufferTooSmall)
        );
        assert_eq!(emit_request(&[1], &[0], &mut out), Err(Error::Value));
    }
}
