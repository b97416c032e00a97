//! The concentrator on arbitrary sequences of time steps, polls, received frames (noise, or
//! the answers of fake meters to what it sent) and forwards never panics, and:
//!
//! - every `Read` event's figures are the meter's last readings as the table shows them;
//! - a refused forward leaves the table as it was;
//! - the fake meters never see two meters answer one frame (one exchange per channel).
#![no_main]

use arbitrary::Arbitrary;
use libfuzzer_sys::fuzz_target;
use prepaid_meter::address::Address;
use prepaid_meter::concentrator::{
    Concentrator, ConcentratorConfig, Event, MAX_FORWARD_LEN, MeterEntry, Poll,
};
use prepaid_meter::endpoint::dlt645::ServerConfig;
use prepaid_meter::time::{Duration, Instant, Timestamp};
use prepaid_meter::units::Money;

#[path = "../../tests/support/fake_meter.rs"]
mod fake_meter;

use fake_meter::{FakeMeter, Served};

#[derive(Arbitrary, Debug)]
enum Op {
    /// Milliseconds pass.
    Wait(u16),
    /// Poll once; a frame sent is answered by the fake meters unless `drop`.
    Poll { drop: bool },
    /// Noise on a channel.
    Noise(u8, Vec<u8>),
    /// A forward for meter `m % 3`.
    Forward(u8, Vec<u8>, u32),
    /// A meter's balance changes.
    Balance(u8, i16),
}

const METERS: [&str; 3] = ["201000000012", "201000000013", "201000000014"];

fuzz_target!(|input: (u8, Vec<Op>)| {
    let (confirm, ops) = input;
    let config = ConcentratorConfig {
        confirm: confirm % 4 + 1,
        poll_interval: Duration::from_secs(30),
        timeout: Duration::from_millis(200),
        retries: 1,
    };
    let mut c: Concentrator<4, 2, 2> = Concentrator::new(config).unwrap();
    let mut meters: Vec<(u8, Served)> = Vec::new();
    for (i, a) in METERS.iter().enumerate() {
        let address: Address = a.parse().unwrap();
        let channel = (i % 2) as u8;
        c.add_meter(MeterEntry {
            address,
            channel,
            low_credit: Money::from_units(20).unwrap(),
        })
        .unwrap();
        meters.push((
            channel,
            Served::new(FakeMeter::new(a), ServerConfig::default()).unwrap(),
        ));
    }
    let mut now = Instant::from_millis(0);
    let wall = Timestamp::from_unix(1_709_265_600);
    let mut out = [0u8; MAX_FORWARD_LEN];
    let mut answer = [0u8; 300];
    for op in ops.into_iter().take(200) {
        match op {
            Op::Wait(ms) => {
                now = now
                    .checked_add(Duration::from_millis(u64::from(ms)))
                    .unwrap_or(now);
            }
            Op::Poll { drop } => match c.poll(now, &mut out) {
                Poll::Send { channel, len } => {
                    let frame = out[..len].to_vec();
                    let mut replies = meters
                        .iter_mut()
                        .filter(|(ch, _)| *ch == channel)
                        .filter_map(|(_, m)| {
                            m.handle(&frame, wall, &mut answer)
                                .map(|n| answer[..n].to_vec())
                        })
                        .collect::<Vec<_>>();
                    assert!(replies.len() <= 1, "two meters answered one frame");
                    let reply = replies.pop();
                    if let Some(bytes) = reply.filter(|_| !drop)
                        && let Some(e) = c.receive(now, channel, &bytes)
                    {
                        check(&c, &e);
                    }
                }
                Poll::Event(e) => check(&c, &e),
                Poll::Idle { .. } => {}
            },
            Op::Noise(channel, bytes) => {
                if let Some(e) = c.receive(now, channel % 3, &bytes) {
                    check(&c, &e);
                }
            }
            Op::Forward(m, bytes, tag) => {
                let address: Address = METERS[usize::from(m) % 3].parse().unwrap();
                let before: Vec<_> = c.meters().collect();
                if c.forward(address, &bytes, tag).is_err() {
                    assert!(
                        c.meters().eq(before.into_iter()),
                        "a refused forward changed the table"
                    );
                }
            }
            Op::Balance(m, y) => {
                let i = usize::from(m) % 3;
                meters[i].1.meter.balance = Money::from_units(i64::from(y)).unwrap();
            }
        }
    }
});

/// Checks an event against the table.
fn check(c: &Concentrator<4, 2, 2>, e: &Event<'_>) {
    if let Event::Read {
        address, readings, ..
    } = e
    {
        let status = c.meter(*address).expect("a read meter is in the table");
        assert_eq!(status.last, Some(*readings));
        assert!(!status.unreachable);
    }
}
