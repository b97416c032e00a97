//! Bad input gives a typed error, never a panic.

use prepaid_meter::address::{Address, AddressError};
use prepaid_meter::bcd::{self, BcdError, DateTimeFormat, NumberFormat};
use prepaid_meter::metering::{DemandMeter, GlitchFilter, MeterConstant, MeteringError};
use prepaid_meter::time::Duration;
use prepaid_meter::time::{Date, DateTime, Time, TimeError, Timestamp, UtcOffset};

#[test]
fn meter_constant_of_zero() {
    assert_eq!(MeterConstant::new(0), Err(MeteringError::ZeroMeterConstant));
    assert_eq!(
        MeterConstant::new(1_000_001),
        Err(MeteringError::MeterConstantTooLarge)
    );
}

#[test]
fn glitch_interval_beyond_any_plausible_value() {
    for d in [
        Duration::ZERO,
        Duration::from_secs(61),
        Duration::from_micros(u64::MAX),
    ] {
        assert_eq!(
            GlitchFilter::from_min_interval(d),
            Err(MeteringError::GlitchIntervalOutOfRange)
        );
    }
    let c = MeterConstant::new(1600).unwrap();
    assert_eq!(
        GlitchFilter::from_max_power(c, 0),
        Err(MeteringError::MaxPowerOutOfRange)
    );
    assert_eq!(
        DemandMeter::<4>::new_sized(c, 13),
        Err(MeteringError::InvalidDemandPeriod)
    );
}

#[test]
fn malformed_bcd_digits() {
    assert_eq!(bcd::decode_u64(&[0x12, 0x3F]), Err(BcdError::InvalidDigit));
    assert_eq!(bcd::decode_i64(&[0x12, 0xFA]), Err(BcdError::InvalidDigit));
    assert_eq!(
        NumberFormat::XXXXXX_XX.decode(&[0x00, 0x00, 0xB0, 0x00]),
        Err(BcdError::InvalidDigit)
    );
    assert_eq!(
        NumberFormat::XXXXXX_XX.decode(&[0x00, 0x00]),
        Err(BcdError::Length)
    );
    assert_eq!(bcd::decode_byte(0x9A), Err(BcdError::InvalidDigit));
    assert_eq!(bcd::encode_byte(100), Err(BcdError::Overflow));
    assert_eq!(
        Address::from_wire([0x1B, 0, 0, 0, 0, 0]),
        Err(AddressError::InvalidDigit)
    );
}

#[test]
fn out_of_range_dates() {
    assert_eq!(Date::new(2023, 2, 29), Err(TimeError::InvalidDay));
    assert_eq!(Date::new(10_000, 1, 1), Err(TimeError::YearOutOfRange));
    assert_eq!(Time::new(12, 0, 60), Err(TimeError::InvalidTime));
    assert_eq!(
        Timestamp::from_unix(i64::MIN).to_datetime(UtcOffset::UTC),
        Err(TimeError::TimestampOutOfRange)
    );
    assert_eq!(
        Timestamp::from_unix(i64::MAX).to_datetime(UtcOffset::UTC),
        Err(TimeError::TimestampOutOfRange)
    );
    // 2023-02-30 10:00 as YYMMDDhhmm, wire order mm hh DD MM YY.
    assert_eq!(
        DateTimeFormat::YYMMDDhhmm.decode(&[0x00, 0x10, 0x30, 0x02, 0x23], 0),
        Err(BcdError::InvalidDateTime(TimeError::InvalidDay))
    );
    // Month 13.
    assert_eq!(
        DateTimeFormat::YYMMDDhhmmss.decode(&[0, 0, 0, 0x01, 0x13, 0x24], 0),
        Err(BcdError::InvalidDateTime(TimeError::InvalidMonth))
    );
    let y2100 = DateTime::new(Date::new(2100, 1, 1).unwrap(), Time::MIDNIGHT);
    let mut out = [0u8; 6];
    assert_eq!(
        DateTimeFormat::YYMMDDhhmmss.encode(y2100, &mut out),
        Err(BcdError::YearOutOfRange)
    );
}
