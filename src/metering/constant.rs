use core::num::NonZeroU32;

use super::MeteringError;

/// The meter constant `C`: pulses per kWh (1200, 1600, 3200, 6400 imp/kWh, ...).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
#[cfg_attr(feature = "serde", serde(try_from = "u32", into = "u32"))]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub struct MeterConstant(NonZeroU32);

impl MeterConstant {
    /// The largest accepted constant, 1 000 000 imp/kWh (1 mWh per pulse).
    pub const MAX: u32 = 1_000_000;

    /// A validated meter constant in imp/kWh.
    ///
    /// ```
    /// use prepaid_meter::metering::{MeterConstant, MeteringError};
    /// assert_eq!(MeterConstant::new(1600).unwrap().imp_per_kwh(), 1600);
    /// assert_eq!(MeterConstant::new(0), Err(MeteringError::ZeroMeterConstant));
    /// ```
    pub const fn new(imp_per_kwh: u32) -> Result<MeterConstant, MeteringError> {
        if imp_per_kwh > Self::MAX {
            return Err(MeteringError::MeterConstantTooLarge);
        }
        match NonZeroU32::new(imp_per_kwh) {
            Some(c) => Ok(MeterConstant(c)),
            None => Err(MeteringError::ZeroMeterConstant),
        }
    }

    /// Pulses per kWh.
    pub const fn imp_per_kwh(self) -> u32 {
        self.0.get()
    }
}

impl TryFrom<u32> for MeterConstant {
    type Error = MeteringError;
    fn try_from(imp_per_kwh: u32) -> Result<Self, MeteringError> {
        MeterConstant::new(imp_per_kwh)
    }
}

impl From<MeterConstant> for u32 {
    fn from(c: MeterConstant) -> u32 {
        c.imp_per_kwh()
    }
}
