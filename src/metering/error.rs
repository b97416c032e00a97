use core::fmt;

/// Why a metering configuration or operation was refused.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
#[non_exhaustive]
pub enum MeteringError {
    /// A meter constant of 0 imp/kWh.
    ZeroMeterConstant,
    /// A meter constant above [`MeterConstant::MAX`](super::MeterConstant::MAX).
    MeterConstantTooLarge,
    /// A glitch interval outside [`GlitchFilter::MIN_INTERVAL`](super::GlitchFilter::MIN_INTERVAL)
    /// ..= [`GlitchFilter::MAX_INTERVAL`](super::GlitchFilter::MAX_INTERVAL).
    GlitchIntervalOutOfRange,
    /// A maximum power of 0 W, or one so low or high that the glitch interval leaves its range.
    MaxPowerOutOfRange,
    /// A tariff number outside `1..=T`.
    TariffOutOfRange,
    /// A negative energy increment for a register.
    NegativeEnergy,
    /// A demand subperiod that is zero or does not divide a day, or a window of no subperiods.
    InvalidDemandPeriod,
    /// A restored accumulator remainder that is not below the meter constant.
    RemainderOutOfRange,
    /// A restored register reading that is negative or not below [`ROLLOVER`](super::ROLLOVER).
    RegisterOutOfRange,
    /// A restored demand state that no demand meter of this configuration can be in.
    InvalidDemandState,
}

impl fmt::Display for MeteringError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            MeteringError::ZeroMeterConstant => "meter constant must not be zero",
            MeteringError::MeterConstantTooLarge => "meter constant above 1000000 imp/kWh",
            MeteringError::GlitchIntervalOutOfRange => "glitch interval outside 1 us ..= 60 s",
            MeteringError::MaxPowerOutOfRange => "maximum power gives no plausible glitch interval",
            MeteringError::TariffOutOfRange => "tariff number outside 1..=T",
            MeteringError::NegativeEnergy => "registers only accumulate non-negative energy",
            MeteringError::InvalidDemandPeriod => {
                "demand subperiod must divide a day and the window must have subperiods"
            }
            MeteringError::RemainderOutOfRange => {
                "accumulator remainder not below the meter constant"
            }
            MeteringError::RegisterOutOfRange => "register reading outside 0..999999.999 kWh",
            MeteringError::InvalidDemandState => "not a state a demand meter can be in",
        })
    }
}

impl core::error::Error for MeteringError {}
