use super::MeteringError;
use crate::tariff::DEFAULT_TARIFFS;
use crate::units::Energy;

/// The register modulus: 1 000 000 kWh in Wh. A DL/T 645 `XXXXXX.XX` register shows at most
/// 999999.99 kWh and then rolls over to 000000.00; the registers here count watt-hours modulo
/// this value, so the displayed 0.01 kWh digits roll over exactly there.
pub const ROLLOVER: Energy = Energy::from_wh(1_000_000_000);

/// Which way energy flows through the meter.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub enum Direction {
    /// Forward (import) active energy, DL/T 645 `0001xx00`.
    Import,
    /// Reverse (export) active energy, DL/T 645 `0002xx00`.
    Export,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
struct Set<const T: usize> {
    total: u32,
    tariff: [u32; T],
}

/// Active energy registers: total and per tariff, import and export, each rolling over at
/// [`ROLLOVER`] like a DL/T 645 register.
///
/// `T` is the number of tariffs (4 in Chinese meters: 1 sharp, 2 peak, 3 flat, 4 valley).
/// Tariff numbers are 1-based, as DL/T 645 numbers them. The total always equals the sum of the
/// tariff registers modulo [`ROLLOVER`].
///
/// ```
/// use prepaid_meter::metering::{Direction, EnergyRegisters};
/// use prepaid_meter::units::Energy;
/// let mut r: EnergyRegisters<4> = EnergyRegisters::new();
/// r.add(Direction::Import, 4, Energy::from_wh(999_999_995)).unwrap();
/// r.add(Direction::Import, 1, Energy::from_wh(20)).unwrap();
/// assert_eq!(r.total(Direction::Import), Energy::from_wh(15)); // rolled over
/// assert_eq!(r.total_centi_kwh(Direction::Import), 1);
/// assert_eq!(r.tariff(Direction::Import, 4).unwrap().to_centi_kwh().0, 99_999_999);
/// ```
///
/// Under `serde`, the registers serialize as `{ import: [Wh; T], export: [Wh; T] }` (tariff
/// registers only); deserializing recomputes the totals, so they cannot disagree.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub struct EnergyRegisters<const T: usize = DEFAULT_TARIFFS> {
    import: Set<T>,
    export: Set<T>,
}

impl<const T: usize> Default for EnergyRegisters<T> {
    fn default() -> Self {
        Self::new()
    }
}

const MODULUS: u32 = 1_000_000_000;

/// `(value + add) mod MODULUS`, where `value < MODULUS`.
const fn wrap_add(value: u32, add: u32) -> u32 {
    // Both terms are below 2^30, so the sum fits in u32.
    let sum = value + add;
    if sum >= MODULUS { sum - MODULUS } else { sum }
}

impl<const T: usize> EnergyRegisters<T> {
    /// All registers at zero.
    pub const fn new() -> Self {
        let zero = Set {
            total: 0,
            tariff: [0; T],
        };
        EnergyRegisters {
            import: zero,
            export: zero,
        }
    }

    /// Registers restored from saved readings (each reduced modulo [`ROLLOVER`]); the totals
    /// are recomputed from the tariff registers, so they are consistent by construction.
    pub fn from_tariff_readings(import: [Energy; T], export: [Energy; T]) -> Self {
        let mut r = Self::new();
        for (dir, values) in [(Direction::Import, import), (Direction::Export, export)] {
            let set = r.set_mut(dir);
            for (slot, e) in set.tariff.iter_mut().zip(values) {
                *slot = reduce(e);
                set.total = wrap_add(set.total, *slot);
            }
        }
        r
    }

    fn set(&self, dir: Direction) -> &Set<T> {
        match dir {
            Direction::Import => &self.import,
            Direction::Export => &self.export,
        }
    }

    fn set_mut(&mut self, dir: Direction) -> &mut Set<T> {
        match dir {
            Direction::Import => &mut self.import,
            Direction::Export => &mut self.export,
        }
    }

    /// Adds `energy` to the total and to tariff `tariff` (1..=T) of `dir`, rolling over.
    ///
    /// Errors (the registers are unchanged): [`MeteringError::TariffOutOfRange`],
    /// [`MeteringError::NegativeEnergy`].
    pub fn add(&mut self, dir: Direction, tariff: u8, energy: Energy) -> Result<(), MeteringError> {
        if energy.is_negative() {
            return Err(MeteringError::NegativeEnergy);
        }
        let add = reduce(energy);
        let set = self.set_mut(dir);
        let slot = usize::from(tariff)
            .checked_sub(1)
            .and_then(|i| set.tariff.get_mut(i))
            .ok_or(MeteringError::TariffOutOfRange)?;
        *slot = wrap_add(*slot, add);
        set.total = wrap_add(set.total, add);
        Ok(())
    }

    /// The total register of `dir`, `0..ROLLOVER`.
    pub fn total(&self, dir: Direction) -> Energy {
        Energy::from_wh(i64::from(self.set(dir).total))
    }

    /// The register of tariff `tariff` (1..=T) of `dir`.
    pub fn tariff(&self, dir: Direction, tariff: u8) -> Result<Energy, MeteringError> {
        usize::from(tariff)
            .checked_sub(1)
            .and_then(|i| self.set(dir).tariff.get(i))
            .map(|&wh| Energy::from_wh(i64::from(wh)))
            .ok_or(MeteringError::TariffOutOfRange)
    }

    /// All tariff registers of `dir`, tariff 1 first.
    pub fn tariffs(&self, dir: Direction) -> [Energy; T] {
        self.set(dir)
            .tariff
            .map(|wh| Energy::from_wh(i64::from(wh)))
    }

    /// The total of `dir` as DL/T 645 shows it: whole 0.01 kWh, `0..=99_999_999`.
    pub fn total_centi_kwh(&self, dir: Direction) -> u32 {
        self.set(dir).total / 10
    }
}

fn reduce(e: Energy) -> u32 {
    // rem_euclid of a non-negative modulus is in 0..MODULUS, which fits u32.
    e.wh().rem_euclid(i64::from(MODULUS)) as u32
}

#[cfg(feature = "serde")]
mod serde_impl {
    use serde::de::{Deserialize, Deserializer, Error, MapAccess, SeqAccess, Visitor};
    use serde::ser::{Serialize, SerializeStruct, SerializeTuple, Serializer};

    use super::{Direction, EnergyRegisters};
    use crate::units::Energy;

    struct Readings<const T: usize>([Energy; T]);

    impl<const T: usize> Serialize for Readings<T> {
        fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
            let mut t = s.serialize_tuple(T)?;
            for e in &self.0 {
                t.serialize_element(&e.wh())?;
            }
            t.end()
        }
    }

    impl<'de, const T: usize> Deserialize<'de> for Readings<T> {
        fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
            struct V<const T: usize>;
            impl<'de, const T: usize> Visitor<'de> for V<T> {
                type Value = Readings<T>;
                fn expecting(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
                    write!(f, "{T} register readings in Wh")
                }
                fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Readings<T>, A::Error> {
                    let mut out = [Energy::ZERO; T];
                    for (i, slot) in out.iter_mut().enumerate() {
                        let wh: i64 = seq
                            .next_element()?
                            .ok_or_else(|| A::Error::invalid_length(i, &self))?;
                        *slot = Energy::from_wh(wh);
                    }
                    Ok(Readings(out))
                }
            }
            d.deserialize_tuple(T, V::<T>)
        }
    }

    impl<const T: usize> Serialize for EnergyRegisters<T> {
        fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
            let mut st = s.serialize_struct("EnergyRegisters", 2)?;
            st.serialize_field("import", &Readings(self.tariffs(Direction::Import)))?;
            st.serialize_field("export", &Readings(self.tariffs(Direction::Export)))?;
            st.end()
        }
    }

    impl<'de, const T: usize> Deserialize<'de> for EnergyRegisters<T> {
        fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
            struct V<const T: usize>;
            impl<'de, const T: usize> Visitor<'de> for V<T> {
                type Value = EnergyRegisters<T>;
                fn expecting(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
                    f.write_str("energy registers { import, export }")
                }
                fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Self::Value, A::Error> {
                    let (mut import, mut export) = (None, None);
                    while let Some(key) = map.next_key::<&str>()? {
                        match key {
                            "import" => import = Some(map.next_value::<Readings<T>>()?),
                            "export" => export = Some(map.next_value::<Readings<T>>()?),
                            other => {
                                return Err(A::Error::unknown_field(other, &["import", "export"]));
                            }
                        }
                    }
                    let import = import.ok_or_else(|| A::Error::missing_field("import"))?;
                    let export = export.ok_or_else(|| A::Error::missing_field("export"))?;
                    Ok(EnergyRegisters::from_tariff_readings(import.0, export.0))
                }
                fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Self::Value, A::Error> {
                    let import: Readings<T> = seq
                        .next_element()?
                        .ok_or_else(|| A::Error::invalid_length(0, &self))?;
                    let export: Readings<T> = seq
                        .next_element()?
                        .ok_or_else(|| A::Error::invalid_length(1, &self))?;
                    Ok(EnergyRegisters::from_tariff_readings(import.0, export.0))
                }
            }
            d.deserialize_struct("EnergyRegisters", &["import", "export"], V::<T>)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rejected_adds_leave_registers_unchanged() {
        let mut r: EnergyRegisters<4> = EnergyRegisters::new();
        r.add(Direction::Export, 3, Energy::from_wh(7)).unwrap();
        let before = r;
        assert_eq!(
            r.add(Direction::Import, 0, Energy::from_wh(1)),
            Err(MeteringError::TariffOutOfRange)
        );
        assert_eq!(
            r.add(Direction::Import, 5, Energy::from_wh(1)),
            Err(MeteringError::TariffOutOfRange)
        );
        assert_eq!(
            r.add(Direction::Import, 1, Energy::from_wh(-1)),
            Err(MeteringError::NegativeEnergy)
        );
        assert_eq!(r, before);
        assert_eq!(r.tariff(Direction::Export, 3), Ok(Energy::from_wh(7)));
        assert_eq!(
            r.tariff(Direction::Export, 9),
            Err(MeteringError::TariffOutOfRange)
        );
    }

    #[test]
    fn huge_increments_roll_over() {
        let mut r: EnergyRegisters<2> = EnergyRegisters::new();
        r.add(Direction::Import, 2, Energy::MAX).unwrap();
        let expected = i64::MAX % 1_000_000_000;
        assert_eq!(r.total(Direction::Import).wh(), expected);
        let restored =
            EnergyRegisters::from_tariff_readings(r.tariffs(Direction::Import), [Energy::ZERO; 2]);
        assert_eq!(restored, r);
    }
}
