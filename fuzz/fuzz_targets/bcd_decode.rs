//! BCD decoding of arbitrary bytes in every format never panics, and whatever decodes
//! encodes back to the same bytes.
#![no_main]

use libfuzzer_sys::fuzz_target;
use prepaid_meter::bcd::{self, DateTimeFormat, NumberFormat};

const NUMBER_FORMATS: [NumberFormat; 10] = [
    NumberFormat::XXXXXX_XX,
    NumberFormat::XXXX_XXXX,
    NumberFormat::XXX_X,
    NumberFormat::XXX_XXX,
    NumberFormat::XX_XXXX,
    NumberFormat::X_XXX,
    NumberFormat::XX_XX,
    NumberFormat::NNNN,
    NumberFormat::NNNNNN,
    NumberFormat::NNNNNNNN,
];

fuzz_target!(|data: &[u8]| {
    for fmt in NUMBER_FORMATS {
        let Some(bytes) = data.get(..usize::from(fmt.len)) else {
            continue;
        };
        if let Ok(d) = fmt.decode(bytes) {
            let mut out = [0u8; 4];
            let out = &mut out[..usize::from(fmt.len)];
            fmt.encode(d.mantissa, out)
                .expect("a decoded value encodes");
            // A signed zero ("-0") decodes to 0 and encodes without the sign bit.
            if d.mantissa != 0 {
                assert_eq!(out, bytes);
            }
        }
    }
    for fmt in [
        DateTimeFormat::YYMMDDhhmm,
        DateTimeFormat::YYMMDDhhmmss,
        DateTimeFormat::MMDDhhmm,
    ] {
        let Some(bytes) = data.get(..fmt.len()) else {
            continue;
        };
        if let Ok(dt) = fmt.decode(bytes, 2024) {
            let mut out = [0u8; 6];
            let out = &mut out[..fmt.len()];
            fmt.encode(dt, out).expect("a decoded date encodes");
            assert_eq!(out, bytes);
        }
    }
    let _ = bcd::decode_u64(data);
    let _ = bcd::decode_i64(data);
    if let Some(b) = data.get(..4) {
        let _ = bcd::decode_date_weekday(b);
    }
    if let Some(b) = data.get(..3) {
        let _ = bcd::decode_time(b);
    }
});
