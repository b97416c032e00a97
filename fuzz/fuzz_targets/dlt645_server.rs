//! The meter-side server on sequences of arbitrary frames, with the clock moving backwards as
//! well as forwards between them, never panics: it answers with a valid response from its own
//! address (or the new one after 15H), or stays silent; broadcasts stay silent. Without
//! plaintext compatibility no frame changes a money limit, a price, a tariff table, the relay,
//! the address or the baud rate in plaintext (the test meter's stand-in security layer changes
//! no parameter, so sealed commands leave them too); a frame to the wildcard changes nothing at
//! all; a broadcast correction moves the clock by at most 5 minutes, at most once a local day.
//!
//! Checksums: the wire codec skips checksum verification under `cfg(fuzzing)`, so this target
//! checks them itself. Frames it builds (not `raw`) are emitted with their checksum and every
//! answer is checked against a checksum computed here, independently of the codec.
#![no_main]

use arbitrary::Arbitrary;
use libfuzzer_sys::fuzz_target;
use prepaid_meter::address::Address;
use prepaid_meter::endpoint::dlt645::{
    BROADCAST_MAX_STEP_SECS, ClockSource, PlaintextPolicy, Server, ServerConfig,
};
use prepaid_meter::time::Timestamp;
use prepaid_meter::wire::dlt645::{Control, Data, Frame, FrameRepr, Response, skip_preamble};

#[path = "../../tests/support/fake_meter.rs"]
mod fake_meter;
use fake_meter::FakeMeter;

#[derive(Arbitrary, Debug)]
struct Step {
    target: u8,
    control: u8,
    data: Vec<u8>,
    /// Seconds the clock moves before this frame, either way.
    dt: i32,
    raw: bool,
}

#[derive(Arbitrary, Debug)]
struct Input {
    all: bool,
    start: u32,
    steps: Vec<Step>,
}

/// The DL/T 645 checksum: the sum of the bytes from the first 68H to the end of the data.
fn checksum_ok(frame: &[u8]) -> bool {
    match frame {
        [body @ .., cs, 0x16] => body.iter().fold(0u8, |a, b| a.wrapping_add(*b)) == *cs,
        _ => false,
    }
}

fuzz_target!(|i: Input| {
    let me = Address::from_number(201_000_000_012).unwrap();
    let initial = FakeMeter::new("201000000012");
    let mut meter = initial.clone();
    let plaintext = if i.all {
        PlaintextPolicy::ALL
    } else {
        PlaintextPolicy::NONE
    };
    let config = ServerConfig {
        plaintext,
        ..ServerConfig::default()
    };
    let mut server = Server::new(config).unwrap();
    let mut now = 1_600_000_000 + i64::from(i.start);
    for step in i.steps.into_iter().take(16) {
        now += i64::from(step.dt);
        let before = meter.clone();
        let log = *server.clock_log();
        let to = match step.target % 4 {
            0 => me,
            1 => Address::WILDCARD,
            2 => Address::BROADCAST,
            _ => Address::from_number(u64::from(step.target)).unwrap(),
        };
        let mut req = [0u8; 300];
        let request: &[u8] = if step.raw {
            &step.data
        } else {
            let data = &step.data[..step.data.len().min(255)];
            let repr = FrameRepr {
                address: to,
                control: Control::from_byte(step.control),
                data: Data::plain(data),
            };
            let n = repr.emit(&mut req, 0).unwrap();
            assert!(
                checksum_ok(&req[..n]),
                "an emitted frame has a bad checksum"
            );
            &req[..n]
        };
        let mut out = [0u8; 300];
        let t = Timestamp::from_unix(now);
        let answer = server.handle(&mut meter, request, t, &mut out);
        let m = &meter;
        if plaintext == PlaintextPolicy::NONE {
            assert!(
                m.limits == before.limits
                    && m.prices == before.prices
                    && m.tier_prices == before.tier_prices
                    && m.seasons == before.seasons
                    && m.day_tables == before.day_tables,
                "a protected parameter changed in plaintext"
            );
            assert!(m.relay.is_empty(), "plain relay control executed");
            assert!(
                m.address == me,
                "the address changed without the link opt-in"
            );
            assert!(
                m.baud.is_none(),
                "the baud rate changed without the link opt-in"
            );
        }
        if !step.raw && to == Address::WILDCARD {
            assert!(*m == before, "a wildcard frame changed the meter");
        }
        let after = *server.clock_log();
        if after.changes != log.changes
            && let Some(record) = after.last
            && record.source == ClockSource::Broadcast
        {
            let moved = record.after.checked_secs_since(record.before).unwrap();
            assert!(
                moved.abs() <= BROADCAST_MAX_STEP_SECS,
                "broadcast beyond 5 minutes"
            );
            assert!(
                log.broadcast_day.is_none() || log.broadcast_day != after.broadcast_day,
                "two broadcast corrections on one day"
            );
        }
        if let Some(n) = answer {
            let bytes = skip_preamble(&out[..n]);
            assert!(checksum_ok(bytes), "an answer has a bad checksum");
            let frame = Frame::new_checked(bytes).expect("answers are frames");
            let repr = FrameRepr::parse(&frame).expect("answers parse");
            assert!(repr.control.is_response());
            assert!(Response::parse(&repr).is_ok());
            assert!(repr.address == meter.address || repr.address == me);
            if !step.raw {
                assert!(!to.is_broadcast(), "a broadcast was answered");
            }
        }
    }
});
