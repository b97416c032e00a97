//! The meter-side server on arbitrary frames never panics: it answers with a valid response
//! from its own address (or the new one after 15H), or stays silent; broadcasts stay silent.
//! Without plaintext compatibility no frame changes a money limit, a price, a tariff table or
//! the relay in plaintext (the test meter's stand-in security layer changes no parameter, so
//! sealed commands leave them too); a frame to the wildcard changes nothing at all. The meter is
//! the tests' fake meter.
#![no_main]

use arbitrary::Arbitrary;
use libfuzzer_sys::fuzz_target;
use prepaid_meter::address::Address;
use prepaid_meter::endpoint::dlt645::{PlaintextPolicy, Server, ServerConfig};
use prepaid_meter::time::Timestamp;
use prepaid_meter::wire::dlt645::{Control, Data, Frame, FrameRepr, Response, skip_preamble};

#[path = "../../tests/support/fake_meter.rs"]
mod fake_meter;
use fake_meter::FakeMeter;

#[derive(Arbitrary, Debug)]
struct Input {
    target: u8,
    control: u8,
    data: Vec<u8>,
    now: u32,
    raw: bool,
}

fuzz_target!(|i: Input| {
    let me = Address::from_number(201_000_000_012).unwrap();
    let initial = FakeMeter::new("201000000012");
    let mut meter = initial.clone();
    let plaintext = if i.target & 0x80 != 0 {
        PlaintextPolicy::ALL
    } else {
        PlaintextPolicy::NONE
    };
    let config = ServerConfig {
        plaintext,
        ..ServerConfig::default()
    };
    let mut server = Server::new(config).unwrap();
    let to = match i.target % 4 {
        0 => me,
        1 => Address::WILDCARD,
        2 => Address::BROADCAST,
        _ => Address::from_number(u64::from(i.target)).unwrap(),
    };
    let mut req = [0u8; 300];
    let request: &[u8] = if i.raw {
        &i.data
    } else {
        let data = &i.data[..i.data.len().min(255)];
        let repr = FrameRepr {
            address: to,
            control: Control::from_byte(i.control),
            data: Data::plain(data),
        };
        let n = repr.emit(&mut req, 0).unwrap();
        &req[..n]
    };
    let mut out = [0u8; 300];
    let now = Timestamp::from_unix(1_600_000_000 + i64::from(i.now));
    let answer = server.handle(&mut meter, request, now, &mut out);
    let m = &meter;
    let protected_unchanged = m.limits == initial.limits
        && m.prices == initial.prices
        && m.tier_prices == initial.tier_prices
        && m.seasons == initial.seasons
        && m.day_tables == initial.day_tables;
    if plaintext == PlaintextPolicy::NONE {
        assert!(
            protected_unchanged,
            "a protected parameter changed in plaintext"
        );
        assert!(m.relay.is_empty(), "plain relay control executed");
    }
    if !i.raw && to == Address::WILDCARD {
        assert!(*m == initial, "a wildcard frame changed the meter");
    }
    if let Some(n) = answer {
        let frame = Frame::new_checked(skip_preamble(&out[..n])).expect("answers are frames");
        let repr = FrameRepr::parse(&frame).expect("answers parse");
        assert!(repr.control.is_response());
        assert!(Response::parse(&repr).is_ok());
        assert!(repr.address == meter.address || repr.address == me);
        if !i.raw {
            assert!(!to.is_broadcast(), "a broadcast was answered");
        }
    }
});
