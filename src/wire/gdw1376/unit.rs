//! Data-unit identifiers: which measurement points (`Pn`, from `DA1 DA2`) and which data items
//! (`Fn`, from `DT1 DT2`) a data unit is about.

use super::{Error, Result};

/// A data-unit identifier `DA1 DA2 DT1 DT2`.
///
/// - `DA1` is a bitmap of eight points and `DA2` the group: bit `b` of `DA1` with `DA2 = g`
///   (1..=255) is point `Pn = 8(g - 1) + b + 1`; `DA1 = DA2 = 0` is `P0`, the terminal
///   itself.
/// - `DT1` is a bitmap of eight items and `DT2` the group: bit `b` with `DT2 = g` (0..=30) is
///   `Fn = 8g + b + 1`.
///
/// One identifier may name several points and items at once (several bits set); the
/// transparent forwarding this crate uses names one of each.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub struct UnitId {
    /// `DA1`, `DA2`.
    pub da: [u8; 2],
    /// `DT1`, `DT2`.
    pub dt: [u8; 2],
}

/// The highest point number an identifier can name.
const MAX_POINT: u16 = 8 * 255;
/// The highest item number (`DT2` up to 30).
const MAX_FN: u16 = 8 * 31;

impl UnitId {
    /// The identifier of point `pn` (0 for the terminal, up to 2040) and item `fn_` (1 to
    /// 248). Error: [`Error::Value`] outside those ranges.
    pub const fn new(pn: u16, fn_: u16) -> Result<UnitId> {
        if pn > MAX_POINT || fn_ == 0 || fn_ > MAX_FN {
            return Err(Error::Value);
        }
        let da = if pn == 0 {
            [0, 0]
        } else {
            [1 << ((pn - 1) % 8), ((pn - 1) / 8 + 1) as u8]
        };
        Ok(UnitId {
            da,
            dt: [1 << ((fn_ - 1) % 8), ((fn_ - 1) / 8) as u8],
        })
    }

    /// The identifier at the start of `bytes`, and the bytes after it.
    /// Error: [`Error::Truncated`] for fewer than 4 bytes.
    pub fn parse(bytes: &[u8]) -> Result<(UnitId, &[u8])> {
        let [da1, da2, dt1, dt2, rest @ ..] = bytes else {
            return Err(Error::Truncated);
        };
        Ok((
            UnitId {
                da: [*da1, *da2],
                dt: [*dt1, *dt2],
            },
            rest,
        ))
    }

    /// The four bytes as on the wire.
    pub const fn to_bytes(self) -> [u8; 4] {
        [self.da[0], self.da[1], self.dt[0], self.dt[1]]
    }

    /// The points named, in increasing order (`P0` alone when `DA1 = DA2 = 0`; none for the
    /// meaningless `DA1 != 0, DA2 = 0`).
    pub fn points(self) -> impl Iterator<Item = u16> {
        let [da1, da2] = self.da;
        let terminal = da1 == 0 && da2 == 0;
        let base = u16::from(da2).saturating_sub(1) * 8;
        let bits = if da2 == 0 { 0 } else { da1 };
        core::iter::once(0).filter(move |_| terminal).chain(
            (0..8u16)
                .filter(move |b| bits >> b & 1 != 0)
                .map(move |b| base + b + 1),
        )
    }

    /// The items named, in increasing order (none when `DT1 = 0` or `DT2` is above 30).
    pub fn fns(self) -> impl Iterator<Item = u16> {
        let [dt1, dt2] = self.dt;
        let bits = if dt2 > 30 { 0 } else { dt1 };
        let base = u16::from(dt2) * 8;
        (0..8u16)
            .filter(move |b| bits >> b & 1 != 0)
            .map(move |b| base + b + 1)
    }

    /// The one point named, if exactly one is.
    pub fn single_point(self) -> Option<u16> {
        single(self.points())
    }

    /// The one item named, if exactly one is.
    pub fn single_fn(self) -> Option<u16> {
        single(self.fns())
    }
}

fn single(mut it: impl Iterator<Item = u16>) -> Option<u16> {
    let first = it.next()?;
    it.next().is_none().then_some(first)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn points_and_items_round_trip() {
        for pn in [0, 1, 2, 8, 9, 64, 2040] {
            for fn_ in [1, 3, 8, 9, 25, 248] {
                let id = UnitId::new(pn, fn_).unwrap();
                assert_eq!(id.single_point(), Some(pn), "P{pn}");
                assert_eq!(id.single_fn(), Some(fn_), "F{fn_}");
                let bytes = id.to_bytes();
                assert_eq!(UnitId::parse(&bytes), Ok((id, &[][..])));
            }
        }
        // P0 F1, P1 F1 and F3 as the standard's examples write them.
        assert_eq!(UnitId::new(0, 1).unwrap().to_bytes(), [0, 0, 1, 0]);
        assert_eq!(UnitId::new(1, 1).unwrap().to_bytes(), [1, 1, 1, 0]);
        assert_eq!(UnitId::new(0, 3).unwrap().to_bytes(), [0, 0, 4, 0]);
        assert_eq!(UnitId::new(0, 0), Err(Error::Value));
        assert_eq!(UnitId::new(2041, 1), Err(Error::Value));
        assert_eq!(UnitId::new(0, 249), Err(Error::Value));
    }

    #[test]
    fn several_points_and_items() {
        let id = UnitId {
            da: [0b1000_0101, 2],
            dt: [0b0000_0011, 1],
        };
        assert!(id.points().eq([9, 11, 16]));
        assert!(id.fns().eq([9, 10]));
        assert_eq!((id.single_point(), id.single_fn()), (None, None));
        // DA1 without a group names nothing; DT2 above 30 names nothing.
        let id = UnitId {
            da: [1, 0],
            dt: [1, 31],
        };
        assert_eq!(id.points().count(), 0);
        assert_eq!(id.fns().count(), 0);
        assert_eq!(UnitId::parse(&[0, 0, 1]), Err(Error::Truncated));
    }
}
