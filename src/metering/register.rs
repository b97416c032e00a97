use super::MeteringError;
use crate::snapshot::{Snapshot, struct_field};
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
pub enum Flow {
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
/// use prepaid_meter::metering::{Flow, EnergyRegisters};
/// use prepaid_meter::units::Energy;
/// let mut r = EnergyRegisters::new();
/// r.add(Flow::Import, 4, Energy::from_wh(999_999_995)).unwrap();
/// r.add(Flow::Import, 1, Energy::from_wh(20)).unwrap();
/// assert_eq!(r.total(Flow::Import), Energy::from_wh(15)); // rolled over
/// assert_eq!(r.total_centi_kwh(Flow::Import), 1);
/// assert_eq!(r.tariff(Flow::Import, 4).unwrap().to_centi_kwh().0, 99_999_999);
/// ```
///
/// State: [`EnergyRegisters::state`] and [`EnergyRegisters::restore`] (see
/// [`EnergyRegistersState`]). Under `serde`, the registers serialize as their state,
/// `{ import: [Wh; T], export: [Wh; T] }` (tariff registers only); deserializing reduces each
/// reading modulo [`ROLLOVER`] (where `restore` refuses it) and recomputes the totals, so they
/// cannot disagree.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub struct EnergyRegisters<const T: usize = DEFAULT_TARIFFS> {
    import: Set<T>,
    export: Set<T>,
}

/// The state of [`EnergyRegisters`] as plain data: the tariff registers of each flow, tariff 1
/// first, in Wh (the totals are their sum modulo [`ROLLOVER`], so they are not stored).
///
/// Binary form ([`Field`](crate::snapshot::Field); stored on its own as a [`Snapshot`], magic `"ER"`, version 1): the
/// `T` import readings, then the `T` export readings, each an `i64` of Wh. With 4 tariffs the
/// fields take 64 bytes and the stored form 73. A form written for another `T` does not parse
/// (its length does not match).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub struct EnergyRegistersState<const T: usize = DEFAULT_TARIFFS> {
    /// Import (forward) tariff registers, `0..ROLLOVER` each.
    pub import: [Energy; T],
    /// Export (reverse) tariff registers, `0..ROLLOVER` each.
    pub export: [Energy; T],
}

struct_field!(EnergyRegistersState[const T: usize] { import, export });

impl<const T: usize> Snapshot for EnergyRegistersState<T> {
    const MAGIC: [u8; 2] = *b"ER";
    const VERSION: u8 = 1;
}

impl<const T: usize> Default for EnergyRegisters<T> {
    fn default() -> Self {
        Self::new_sized()
    }
}

const MODULUS: u32 = 1_000_000_000;

/// `(value + add) mod MODULUS`, where `value < MODULUS`.
const fn wrap_add(value: u32, add: u32) -> u32 {
    // Both terms are below 2^30, so the sum fits in u32.
    let sum = value + add;
    if sum >= MODULUS { sum - MODULUS } else { sum }
}

impl EnergyRegisters {
    /// [`EnergyRegisters::new_sized`] at the default capacities, so that a call needs no type
    /// annotations; see it for the details.
    pub const fn new() -> Self {
        Self::new_sized()
    }
}

impl<const T: usize> EnergyRegisters<T> {
    /// All registers at zero.
    ///
    /// Generic over the capacities (name them, `EnergyRegisters::<..>::new_sized`, or let them be
    /// inferred from where the result goes); [`EnergyRegisters::new`] is this at the default ones.
    pub const fn new_sized() -> Self {
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
        let mut r = Self::new_sized();
        for (dir, values) in [(Flow::Import, import), (Flow::Export, export)] {
            let set = r.set_mut(dir);
            for (slot, e) in set.tariff.iter_mut().zip(values) {
                *slot = reduce(e);
                set.total = wrap_add(set.total, *slot);
            }
        }
        r
    }

    /// The registers' state as plain data.
    pub fn state(&self) -> EnergyRegistersState<T> {
        EnergyRegistersState {
            import: self.tariffs(Flow::Import),
            export: self.tariffs(Flow::Export),
        }
    }

    /// Registers in `state`; the totals are recomputed from the tariff registers.
    ///
    /// Error: [`MeteringError::RegisterOutOfRange`] if a reading is negative or not below
    /// [`ROLLOVER`] (no register can hold it). Use [`EnergyRegisters::from_tariff_readings`] to
    /// reduce readings instead.
    pub fn restore(state: EnergyRegistersState<T>) -> Result<Self, MeteringError> {
        let in_range = |e: &Energy| !e.is_negative() && *e < ROLLOVER;
        if !state.import.iter().chain(&state.export).all(in_range) {
            return Err(MeteringError::RegisterOutOfRange);
        }
        Ok(Self::from_tariff_readings(state.import, state.export))
    }

    fn set(&self, dir: Flow) -> &Set<T> {
        match dir {
            Flow::Import => &self.import,
            Flow::Export => &self.export,
        }
    }

    fn set_mut(&mut self, dir: Flow) -> &mut Set<T> {
        match dir {
            Flow::Import => &mut self.import,
            Flow::Export => &mut self.export,
        }
    }

    /// Adds `energy` to the total and to tariff `tariff` (1..=T) of `dir`, rolling over.
    ///
    /// Errors (the registers are unchanged): [`MeteringError::TariffOutOfRange`],
    /// [`MeteringError::NegativeEnergy`].
    pub fn add(&mut self, dir: Flow, tariff: u8, energy: Energy) -> Result<(), MeteringError> {
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
    pub fn total(&self, dir: Flow) -> Energy {
        Energy::from_wh(i64::from(self.set(dir).total))
    }

    /// The register of tariff `tariff` (1..=T) of `dir`.
    pub fn tariff(&self, dir: Flow, tariff: u8) -> Result<Energy, MeteringError> {
        usize::from(tariff)
            .checked_sub(1)
            .and_then(|i| self.set(dir).tariff.get(i))
            .map(|&wh| Energy::from_wh(i64::from(wh)))
            .ok_or(MeteringError::TariffOutOfRange)
    }

    /// All tariff registers of `dir`, tariff 1 first.
    pub fn tariffs(&self, dir: Flow) -> [Energy; T] {
        self.set(dir)
            .tariff
            .map(|wh| Energy::from_wh(i64::from(wh)))
    }

    /// The total of `dir` as DL/T 645 shows it: whole 0.01 kWh, `0..=99_999_999`.
    pub fn total_centi_kwh(&self, dir: Flow) -> u32 {
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

    use super::{EnergyRegisters, EnergyRegistersState};
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

    impl<const T: usize> Serialize for EnergyRegistersState<T> {
        fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
            let mut st = s.serialize_struct("EnergyRegisters", 2)?;
            st.serialize_field("import", &Readings(self.import))?;
            st.serialize_field("export", &Readings(self.export))?;
            st.end()
        }
    }

    /// The readings as given (not reduced: [`EnergyRegisters::restore`] checks them).
    impl<'de, const T: usize> Deserialize<'de> for EnergyRegistersState<T> {
        fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
            struct V<const T: usize>;
            impl<'de, const T: usize> Visitor<'de> for V<T> {
                type Value = EnergyRegistersState<T>;
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
                    Ok(EnergyRegistersState {
                        import: import.0,
                        export: export.0,
                    })
                }
                fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Self::Value, A::Error> {
                    let import: Readings<T> = seq
                        .next_element()?
                        .ok_or_else(|| A::Error::invalid_length(0, &self))?;
                    let export: Readings<T> = seq
                        .next_element()?
                        .ok_or_else(|| A::Error::invalid_length(1, &self))?;
                    Ok(EnergyRegistersState {
                        import: import.0,
                        export: export.0,
                    })
                }
            }
            d.deserialize_struct("EnergyRegisters", &["import", "export"], V::<T>)
        }
    }

    impl<const T: usize> Serialize for EnergyRegisters<T> {
        fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
            self.state().serialize(s)
        }
    }

    /// Readings out of range are reduced modulo the rollover (as they always were).
    impl<'de, const T: usize> Deserialize<'de> for EnergyRegisters<T> {
        fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
            let st = EnergyRegistersState::<T>::deserialize(d)?;
            Ok(EnergyRegisters::from_tariff_readings(st.import, st.export))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rejected_adds_leave_registers_unchanged() {
        let mut r = EnergyRegisters::<4>::new_sized();
        r.add(Flow::Export, 3, Energy::from_wh(7)).unwrap();
        let before = r;
        assert_eq!(
            r.add(Flow::Import, 0, Energy::from_wh(1)),
            Err(MeteringError::TariffOutOfRange)
        );
        assert_eq!(
            r.add(Flow::Import, 5, Energy::from_wh(1)),
            Err(MeteringError::TariffOutOfRange)
        );
        assert_eq!(
            r.add(Flow::Import, 1, Energy::from_wh(-1)),
            Err(MeteringError::NegativeEnergy)
        );
        assert_eq!(r, before);
        assert_eq!(r.tariff(Flow::Export, 3), Ok(Energy::from_wh(7)));
        assert_eq!(
            r.tariff(Flow::Export, 9),
            Err(MeteringError::TariffOutOfRange)
        );
    }

    #[test]
    fn huge_increments_roll_over() {
        let mut r = EnergyRegisters::<2>::new_sized();
        r.add(Flow::Import, 2, Energy::MAX).unwrap();
        let expected = i64::MAX % 1_000_000_000;
        assert_eq!(r.total(Flow::Import).wh(), expected);
        let restored =
            EnergyRegisters::from_tariff_readings(r.tariffs(Flow::Import), [Energy::ZERO; 2]);
        assert_eq!(restored, r);
    }

    #[test]
    fn state_round_trips_and_out_of_range_readings_are_refused() {
        let mut r = EnergyRegisters::<2>::new_sized();
        r.add(Flow::Import, 1, Energy::from_wh(999_999_999))
            .unwrap();
        r.add(Flow::Import, 2, Energy::from_wh(3)).unwrap();
        r.add(Flow::Export, 2, Energy::from_wh(5)).unwrap();
        let state = r.state();
        assert_eq!(EnergyRegisters::restore(state), Ok(r));
        let mut buf = [0u8; 64];
        let n = state.emit(&mut buf).unwrap();
        assert_eq!(n, 5 + 4 * 8 + 4);
        assert_eq!(&buf[..2], b"ER");
        assert_eq!(EnergyRegistersState::<2>::parse(&buf[..n]), Ok(state));
        for bad in [ROLLOVER, Energy::from_wh(-1)] {
            let mut s = state;
            s.export[0] = bad;
            assert_eq!(
                EnergyRegisters::restore(s),
                Err(MeteringError::RegisterOutOfRange)
            );
        }
    }
}
