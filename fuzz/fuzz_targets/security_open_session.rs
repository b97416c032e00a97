//! Inside an established session, opening arbitrary bytes never panics and never accepts a
//! frame the head-end did not seal; arbitrary authentication requests and responses never
//! panic either.
#![no_main]

use libfuzzer_sys::fuzz_target;
use prepaid_meter::address::Address;
use prepaid_meter::security::LockoutPolicy;
use prepaid_meter::security::{
    Command, MasterKey, MeterSecurity, SecurityConfig, SoftwareModule, TagLength,
};
use prepaid_meter::time::{Timestamp, UtcOffset};

const MASTER: [u8; 16] = [0xC3; 16];

/// The crate tests' deterministic generator (xorshift64).
#[path = "../../tests/support/rng.rs"]
mod rng_support;
use rng_support::TestRng;

fuzz_target!(|data: &[u8]| {
    let address = Address::from_number(42).expect("valid address");
    let head_end = MasterKey::new(&MASTER, TagLength::DEFAULT);
    let config = SecurityConfig::new(
        TagLength::DEFAULT,
        300,
        LockoutPolicy::new(u16::MAX, u32::MAX, UtcOffset::UTC).expect("valid policy"),
    )
    .expect("valid config");
    let keys = head_end.meter_keys(address, 1);
    let mut meter =
        MeterSecurity::new(address, SoftwareModule::new(1, &keys), config).expect("meter");
    let now = Timestamp::from_unix(1_720_000_000);

    // Establish a session.
    let mut hm = head_end.meter(address, 1);
    let mut req = [0u8; 64];
    let n = hm.auth_request(&mut TestRng(1), &mut req).expect("request");
    let mut resp = [0u8; 64];
    let r = meter
        .authenticate(&req[..n], now, &mut TestRng(2), &mut resp)
        .expect("authenticate");
    hm.accept_auth_response(&resp[..r], now).expect("session");
    let mut genuine = [0u8; 26 + 8];
    let sent = hm
        .seal_in_session(
            &Command::MeterClear,
            Timestamp::from_unix(1_720_000_060),
            now,
            &mut genuine,
        )
        .expect("seal");
    let genuine = &genuine[..sent.len];

    let mut frame: Vec<u8> = match data.split_first() {
        Some((mode, rest)) if mode & 1 == 1 => {
            let mut f = genuine.to_vec();
            for (b, m) in f.iter_mut().zip(rest) {
                *b ^= m;
            }
            f
        }
        Some((_, rest)) => rest.to_vec(),
        None => Vec::new(),
    };
    let original = frame.clone();
    if meter.open(&mut frame, now).is_ok() {
        assert_eq!(
            original, genuine,
            "accepted a frame the head-end did not seal"
        );
    }
    // Arbitrary handshake messages on both sides.
    let mut out = [0u8; 64];
    let _ = meter.authenticate(&original, now, &mut TestRng(3), &mut out);
    let _ = hm.accept_auth_response(&original, now);
});
