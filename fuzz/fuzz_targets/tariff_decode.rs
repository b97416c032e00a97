//! Tariff parsing of arbitrary bytes never panics, and whatever parses emits back to the same
//! bytes (so `parse(emit(t)) == t`). The input is tried as it is and, so the fuzzer reaches
//! the field parser, with its length field and CRC fixed up; every parsed tariff is
//! also rated once, which must not panic either.
#![no_main]

use libfuzzer_sys::fuzz_target;
use prepaid_meter::tariff::{
    DEFAULT_DAY_TABLES, DEFAULT_SEASONS, DEFAULT_SPECIAL_DAYS, DEFAULT_SWITCH_POINTS, MAX_TARIFFS,
    Rater, Tariff,
};
use prepaid_meter::time::Timestamp;
use prepaid_meter::units::Energy;

const CRC: crc::Crc<u32> = crc::Crc::<u32>::new(&crc::CRC_32_ISO_HDLC);

fn check(bytes: &[u8]) {
    let Ok(tariff) = Tariff::<
        DEFAULT_SEASONS,
        DEFAULT_DAY_TABLES,
        DEFAULT_SWITCH_POINTS,
        MAX_TARIFFS,
        DEFAULT_SPECIAL_DAYS,
    >::parse_sized(bytes) else {
        return;
    };
    let mut out = vec![0u8; tariff.buffer_len()];
    let n = tariff.emit(&mut out).expect("a parsed tariff emits");
    assert_eq!(&out[..n], bytes);
    assert_eq!(Tariff::parse_sized(&out[..n]).as_ref(), Ok(&tariff));
    let at = Timestamp::from_unix(i64::from(u32::from_le_bytes([
        bytes[bytes.len() - 1],
        bytes[bytes.len() - 2],
        bytes[bytes.len() - 3],
        bytes[bytes.len() - 4],
    ])));
    let mut rater = Rater::new();
    let _ = rater.rate(&tariff, Energy::from_wh(1_000), at);
    let _ = rater.rate_interval(
        &tariff,
        Energy::from_wh(1_000),
        at,
        Timestamp::from_unix(at.unix() + 86_400),
    );
}

fuzz_target!(|data: &[u8]| {
    check(data);
    // The same bytes with a correct length field and CRC appended.
    if data.len() >= 5 && data.len() + 4 <= usize::from(u16::MAX) {
        let mut sealed = data.to_vec();
        let total = (data.len() + 4) as u16;
        sealed[3..5].copy_from_slice(&total.to_le_bytes());
        let crc = CRC.checksum(&sealed);
        sealed.extend_from_slice(&crc.to_le_bytes());
        check(&sealed);
    }
});
