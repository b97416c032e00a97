use core::fmt;

/// Why a tariff (or one of its parts) was refused at construction or decoding.
///
/// A tariff that was built without error cannot fail while rating for any reason listed here.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
#[non_exhaustive]
pub enum TariffError {
    /// A switch point's hour is above 23 or its minute above 59.
    InvalidTimeOfDay,
    /// A month/day pair (season start, special day, settlement date) does not exist.
    InvalidDate,
    /// A day table has no switch points.
    EmptyDayTable,
    /// A day table's switch points are not in increasing order of time.
    UnsortedSwitchPoints,
    /// Two switch points of one day table have the same time.
    DuplicateSwitchPoint,
    /// A calendar has no seasons.
    NoSeasons,
    /// A calendar has no day tables.
    NoDayTables,
    /// Season start dates are not in increasing order.
    UnsortedSeasons,
    /// Two seasons start on the same date.
    DuplicateSeason,
    /// Special days are not in increasing order (see [`super::SpecialDate`]'s ordering).
    UnsortedSpecialDays,
    /// Two special days have the same date.
    DuplicateSpecialDay,
    /// A switch point selects tariff number 0 or a number that has no price.
    TariffNumberOutOfRange,
    /// A season or a special day selects day table 0 or a number that does not exist.
    DayTableOutOfRange,
    /// A tariff set has no TOU prices.
    NoPrices,
    /// More than [`super::MAX_TARIFFS`] TOU prices.
    TooManyTariffs,
    /// More entries than the fixed capacity (a const generic) can hold.
    CapacityExceeded,
    /// Tier thresholds are not positive and strictly increasing.
    ThresholdsNotIncreasing,
    /// The number of tier prices is not the number of thresholds plus one.
    TierPriceCount,
    /// A settlement day or hour is out of range (days 1..=28 monthly; yearly dates must exist
    /// in every year; hours 0..=23).
    InvalidSettlement,
    /// A yearly settlement has no dates.
    NoSettlementDates,
    /// Yearly settlement dates are not in increasing order.
    UnsortedSettlementDates,
    /// Two yearly settlement dates are equal.
    DuplicateSettlementDate,
    /// The highest TOU price plus the highest tier price exceeds
    /// [`super::MAX_EFFECTIVE_PRICE`], so a year of consumption could overflow the money type.
    PriceOverflow,
    /// The UTC offset is not strictly between -24 h and +24 h (in encoded bytes).
    InvalidOffset,
}

impl fmt::Display for TariffError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            TariffError::InvalidTimeOfDay => "switch point time outside 00:00..=23:59",
            TariffError::InvalidDate => "month and day do not form a date",
            TariffError::EmptyDayTable => "day table has no switch points",
            TariffError::UnsortedSwitchPoints => "switch points not in increasing time order",
            TariffError::DuplicateSwitchPoint => "two switch points at the same time",
            TariffError::NoSeasons => "calendar has no seasons",
            TariffError::NoDayTables => "calendar has no day tables",
            TariffError::UnsortedSeasons => "season start dates not in increasing order",
            TariffError::DuplicateSeason => "two seasons start on the same date",
            TariffError::UnsortedSpecialDays => "special days not in increasing order",
            TariffError::DuplicateSpecialDay => "two special days on the same date",
            TariffError::TariffNumberOutOfRange => "switch point selects a tariff without a price",
            TariffError::DayTableOutOfRange => "season or special day selects a missing day table",
            TariffError::NoPrices => "tariff set has no TOU prices",
            TariffError::TooManyTariffs => "more than 63 TOU prices",
            TariffError::CapacityExceeded => "more entries than the fixed capacity",
            TariffError::ThresholdsNotIncreasing => {
                "tier thresholds not positive and strictly increasing"
            }
            TariffError::TierPriceCount => "tier prices must number thresholds + 1",
            TariffError::InvalidSettlement => "settlement day or hour out of range",
            TariffError::NoSettlementDates => "yearly settlement without dates",
            TariffError::UnsortedSettlementDates => "settlement dates not in increasing order",
            TariffError::DuplicateSettlementDate => "two equal settlement dates",
            TariffError::PriceOverflow => {
                "TOU price plus tier price could overflow the money type over a year"
            }
            TariffError::InvalidOffset => "UTC offset must lie strictly between -24 h and +24 h",
        })
    }
}

impl core::error::Error for TariffError {}

/// Why a rating call was refused. The rater state is unchanged when this is returned.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
#[non_exhaustive]
pub enum RateError {
    /// The energy is negative: consumption only counts up.
    NegativeEnergy,
    /// The energy exceeds [`super::MAX_ENERGY_PER_YEAR`] in one call.
    EnergyTooLarge,
    /// The instant lies outside the supported calendar (local years 1970..=9999).
    TimeOutOfRange,
    /// The interval is empty or reversed (`to <= from`).
    EmptyInterval,
    /// The charge does not fit the money type.
    MoneyOverflow,
    /// A batch starts at or before the last instant the rater has already rated.
    OutOfOrder,
    /// A batch has more readings than its plan covers.
    TooManyReadings,
    /// The readings of a batch of meters are not one series of the given length per meter.
    SeriesLength,
    /// A batch plan would cover more than `MAX_PLAN_SLOTS` intervals, or change
    /// tier period more than 65 535 times.
    PlanTooLong,
    /// A restored rater state that no rater of the tariff can be in (carry not below 1000,
    /// negative tier energy, latest instant outside the calendar).
    InvalidState,
}

impl fmt::Display for RateError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            RateError::NegativeEnergy => "negative energy",
            RateError::EnergyTooLarge => "energy above the per-call limit",
            RateError::TimeOutOfRange => "instant outside the supported calendar",
            RateError::EmptyInterval => "interval is empty or reversed",
            RateError::MoneyOverflow => "charge does not fit the money type",
            RateError::OutOfOrder => "batch does not start after the last rated instant",
            RateError::TooManyReadings => "more readings than the plan covers",
            RateError::SeriesLength => "readings are not one series of the given length per meter",
            RateError::PlanTooLong => "batch plan too long",
            RateError::InvalidState => "not a state a rater of this tariff can be in",
        })
    }
}

impl core::error::Error for RateError {}
