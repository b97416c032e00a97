//! Hand-built scenarios for the security layer: every single-bit flip and truncation refused,
//! replays refused across a restart, sessions, key updates, lock-out, the two-phase commit.

use crate::rng_support;
use rng_support::TestRng;

use prepaid_meter::address::Address;
use prepaid_meter::purchase::{CustomerNumber, Purchase};
use prepaid_meter::relay::RelayCode;
use prepaid_meter::security::LockoutPolicy;
use prepaid_meter::security::{
    Command, CommandCounter, CommandType, FrameError, Lockout, MasterKey, MeterSealer,
    MeterSecurity, OpenError, Opened, RelayControl, Reply, SealError, SecurityConfig,
    SecurityState, SoftwareModule, Status, TagLength, Threshold,
};
use prepaid_meter::time::{Timestamp, UtcOffset};
use prepaid_meter::units::{Money, Price};
use prepaid_meter::wire::dlt645::SecurityErrorWord;
use rand_core::{TryCryptoRng, TryRng};

const MASTER: [u8; 16] = [0x5A; 16];
const NOW: i64 = 1_720_000_000;

fn now() -> Timestamp {
    Timestamp::from_unix(NOW)
}

fn later(secs: i64) -> Timestamp {
    Timestamp::from_unix(NOW + secs)
}

fn addr() -> Address {
    "201000000012".parse().unwrap()
}

/// A generator that always fails.
struct BrokenRng;

#[derive(Debug)]
struct RngDown;
impl core::fmt::Display for RngDown {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.write_str("down")
    }
}
impl core::error::Error for RngDown {}

impl TryRng for BrokenRng {
    type Error = RngDown;
    fn try_next_u32(&mut self) -> Result<u32, RngDown> {
        Err(RngDown)
    }
    fn try_next_u64(&mut self) -> Result<u64, RngDown> {
        Err(RngDown)
    }
    fn try_fill_bytes(&mut self, _: &mut [u8]) -> Result<(), RngDown> {
        Err(RngDown)
    }
}
impl TryCryptoRng for BrokenRng {}

fn config(daily: u16, suspend: u32) -> SecurityConfig {
    SecurityConfig::new(
        TagLength::DEFAULT,
        300,
        LockoutPolicy::new(daily, suspend, UtcOffset::CHINA).unwrap(),
    )
    .unwrap()
}

fn head_end() -> MasterKey {
    MasterKey::new(&MASTER, TagLength::DEFAULT)
}

fn meter_with(cfg: SecurityConfig) -> MeterSecurity<SoftwareModule> {
    let keys = head_end().meter_keys(addr(), 1);
    MeterSecurity::new(addr(), SoftwareModule::new(1, &keys), cfg).unwrap()
}

fn meter() -> MeterSecurity<SoftwareModule> {
    meter_with(SecurityConfig::DEFAULT)
}

fn recharge(count: u32) -> Command<'static> {
    Command::Recharge(Purchase {
        amount: Money::from_units(50).unwrap(),
        count,
        customer: CustomerNumber::new([0, 0, 0, 0, 0x12, 0x34]),
    })
}

/// Seals `cmd` with the next counter; returns the frame.
fn seal(counter: &mut CommandCounter, cmd: &Command<'_>) -> Vec<u8> {
    let mut out = [0u8; 256];
    let s = head_end()
        .meter(addr(), counter.key_version)
        .seal(counter, cmd, later(3600), &mut out)
        .unwrap();
    out[..s.len].to_vec()
}

/// Opens and commits; returns the sealed response.
fn accept(m: &mut MeterSecurity<SoftwareModule>, frame: &[u8], at: Timestamp) -> Vec<u8> {
    let mut f = frame.to_vec();
    let pending = m.open(&mut f, at).unwrap();
    let mut done = pending.commit();
    let mut out = [0u8; 64];
    let n = done
        .seal_response(
            &Reply {
                status: Status::OK,
                data: &[1, 2],
            },
            &mut out,
        )
        .unwrap();
    out[..n].to_vec()
}

fn open_err(m: &mut MeterSecurity<SoftwareModule>, frame: &[u8], at: Timestamp) -> OpenError {
    let mut f = frame.to_vec();
    m.open(&mut f, at).map(|_| ()).unwrap_err()
}

#[test]
fn every_command_type_round_trips_with_its_response() {
    let he = head_end();
    let mut m = meter();
    let mut counter = CommandCounter::new(1);
    let blob = [0x11u8; 40];
    let cmds = [
        Command::OpenAccount(Purchase {
            amount: Money::ZERO,
            count: 0,
            customer: CustomerNumber::new([9; 6]),
        }),
        recharge(1),
        Command::RelayControl(RelayControl {
            action: RelayCode::Trip,
            delay: 0,
        }),
        Command::SetPrice {
            index: 1,
            price: Price::from_minor_per_kwh(5_283),
        },
        Command::SetThreshold {
            threshold: Threshold::Alarm1,
            amount: Money::from_units(20).unwrap(),
        },
        Command::WriteParameter {
            id: 0x0401_0000,
            data: &blob,
        },
        Command::MeterClear,
    ];
    for cmd in cmds {
        let mut out = [0u8; 256];
        let sent = he
            .meter(addr(), 1)
            .seal(&mut counter, &cmd, later(60), &mut out)
            .unwrap();
        let mut frame = out[..sent.len].to_vec();
        let pending = m.open(&mut frame, now()).unwrap();
        assert_eq!(pending.command(), &cmd);
        assert_eq!(pending.header().counter, counter.last);
        let mut done = pending.commit();
        let mut resp = [0u8; 64];
        let n = done
            .seal_response(
                &Reply {
                    status: Status::HOARDING_LIMIT,
                    data: b"x",
                },
                &mut resp,
            )
            .unwrap();
        // One response per command: a second seal would reuse the keystream.
        assert_eq!(
            done.seal_response(
                &Reply {
                    status: Status::OK,
                    data: &[]
                },
                &mut resp
            ),
            Err(SealError::AlreadySealed)
        );
        let r = he
            .meter(addr(), 1)
            .open_response(&mut resp[..n], &sent)
            .unwrap();
        assert_eq!(r.status, Status::HOARDING_LIMIT);
        assert_eq!(r.data, b"x");
    }
    assert_eq!(m.state().last_counter, 7);
}

#[test]
fn every_bit_flip_is_refused_and_the_original_still_opens() {
    let mut counter = CommandCounter::new(1);
    let frame = seal(&mut counter, &recharge(1));
    // Generous limits so that lock-out does not hide what each flip does.
    let mut m = meter_with(config(u16::MAX, u32::MAX));
    for bit in 0..frame.len() * 8 {
        let mut bad = frame.clone();
        bad[bit / 8] ^= 1 << (bit % 8);
        let before = m.state();
        let err = open_err(&mut m, &bad, now());
        // Only a tag failure changes state, and only its failure record.
        if err == OpenError::BadTag {
            assert_eq!(m.state().last_counter, before.last_counter);
            assert_eq!(m.state().failures.today, before.failures.today + 1);
        } else {
            assert_eq!(m.state(), before, "bit {bit}: {err:?}");
        }
    }
    assert_eq!(m.state().last_counter, 0);
    accept(&mut m, &frame, now());
    assert_eq!(m.state().last_counter, 1);
}

#[test]
fn every_truncation_and_extension_is_refused() {
    let mut counter = CommandCounter::new(1);
    let frame = seal(&mut counter, &recharge(1));
    let mut m = meter();
    for len in 0..frame.len() {
        let err = open_err(&mut m, &frame[..len], now());
        assert!(
            matches!(
                err,
                OpenError::Frame(FrameError::Truncated | FrameError::Length)
            ),
            "len {len}: {err:?}"
        );
    }
    let mut longer = frame.clone();
    longer.push(0);
    assert_eq!(
        open_err(&mut m, &longer, now()),
        OpenError::Frame(FrameError::Length)
    );
    // Nothing counted: malformed frames cost no cryptography.
    assert_eq!(m.state(), meter().state());
    accept(&mut m, &frame, now());
}

#[test]
fn replays_are_refused_across_a_restart() {
    let mut counter = CommandCounter::new(1);
    let f1 = seal(&mut counter, &recharge(1));
    let f2 = seal(&mut counter, &recharge(2));
    let f3 = seal(&mut counter, &recharge(3));
    let mut m = meter();
    accept(&mut m, &f2, now());
    // Older than the last accepted: refused (a command overtaken by a newer one).
    assert_eq!(open_err(&mut m, &f1, now()), OpenError::Replay);
    assert_eq!(open_err(&mut m, &f2, now()), OpenError::Replay);

    // Power cut: the meter restarts from its stored state and fresh keys from storage.
    let stored: SecurityState = m.state();
    drop(m);
    let keys = head_end().meter_keys(addr(), 1);
    let mut m = MeterSecurity::restore(
        addr(),
        SoftwareModule::new(1, &keys),
        SecurityConfig::DEFAULT,
        stored,
    )
    .unwrap();
    assert_eq!(open_err(&mut m, &f2, now()), OpenError::Replay);
    assert_eq!(open_err(&mut m, &f1, now()), OpenError::Replay);
    accept(&mut m, &f3, now());

    // A state from another key version is refused at restore.
    let keys2 = head_end().meter_keys(addr(), 2);
    assert!(
        MeterSecurity::restore(
            addr(),
            SoftwareModule::new(2, &keys2),
            SecurityConfig::DEFAULT,
            stored
        )
        .is_err()
    );
}

#[test]
fn uncommitted_commands_change_nothing_and_open_again() {
    let mut counter = CommandCounter::new(1);
    let f = seal(&mut counter, &recharge(1));
    let mut m = meter();
    let before = m.state();
    {
        let mut copy = f.clone();
        let pending = m.open(&mut copy, now()).unwrap();
        assert_eq!(pending.counter_state().last_counter, 1);
        // Power fails before the store completes: pending is dropped.
    }
    assert_eq!(m.state(), before);
    accept(&mut m, &f, now());
}

#[test]
fn deadlines_meters_versions_and_directions() {
    let mut counter = CommandCounter::new(1);
    let f = seal(&mut counter, &recharge(1));
    let mut m = meter();
    // valid_until = NOW + 3600 is still fine; one second later is not.
    assert_eq!(open_err(&mut m, &f, later(3601)), OpenError::Expired);

    // Another meter's frame.
    let other: Address = "201000000013".parse().unwrap();
    let mut c2 = CommandCounter::new(1);
    let mut out = [0u8; 128];
    let s = head_end()
        .meter(other, 1)
        .seal(&mut c2, &recharge(1), later(60), &mut out)
        .unwrap();
    assert_eq!(
        open_err(&mut m, &out[..s.len], now()),
        OpenError::WrongMeter
    );

    // Another key version.
    let mut c3 = CommandCounter::new(2);
    let s = head_end()
        .meter(addr(), 2)
        .seal(&mut c3, &recharge(1), later(60), &mut out)
        .unwrap();
    assert_eq!(
        open_err(&mut m, &out[..s.len], now()),
        OpenError::WrongKeyVersion
    );
    // A counter of another version cannot seal.
    assert_eq!(
        head_end()
            .meter(addr(), 1)
            .seal(&mut c3, &recharge(1), later(60), &mut out),
        Err(SealError::KeyVersion)
    );

    // A response is never taken for a command, and the reverse.
    let resp = accept(&mut m, &f, now());
    assert_eq!(open_err(&mut m, &resp, now()), OpenError::WrongDirection);
    let mut cmd = seal(&mut counter, &recharge(2));
    let fake_sent = prepaid_meter::security::Sealed {
        len: cmd.len(),
        header: prepaid_meter::security::Header::parse(&cmd).unwrap(),
    };
    assert_eq!(
        head_end()
            .meter(addr(), 1)
            .open_response(&mut cmd, &fake_sent),
        Err(OpenError::WrongDirection)
    );
    // A frame sealed with a different master key fails its tag.
    let rogue = MasterKey::new(&[0x99; 16], TagLength::DEFAULT);
    let mut c4 = CommandCounter::new(1);
    c4.last = 10;
    let s = rogue
        .meter(addr(), 1)
        .seal(&mut c4, &recharge(1), later(60), &mut out)
        .unwrap();
    assert_eq!(open_err(&mut m, &out[..s.len], now()), OpenError::BadTag);
    // Deadlines beyond 2106 do not fit the frame.
    assert_eq!(
        head_end().meter(addr(), 1).seal(
            &mut counter,
            &recharge(3),
            Timestamp::from_unix(1 << 33),
            &mut out
        ),
        Err(SealError::Deadline)
    );
    assert_eq!(
        head_end()
            .meter(addr(), 1)
            .seal(&mut counter, &recharge(3), later(60), &mut out[..20]),
        Err(SealError::Buffer)
    );
}

#[test]
fn a_response_does_not_open_for_another_command() {
    let he = head_end();
    let mut counter = CommandCounter::new(1);
    let mut out = [0u8; 128];
    let s1 = he
        .meter(addr(), 1)
        .seal(&mut counter, &recharge(1), later(60), &mut out)
        .unwrap();
    let f1 = out[..s1.len].to_vec();
    let s2 = he
        .meter(addr(), 1)
        .seal(&mut counter, &recharge(2), later(60), &mut out)
        .unwrap();
    let f2 = out[..s2.len].to_vec();
    let mut m = meter();
    let mut r1 = accept(&mut m, &f1, now());
    accept(&mut m, &f2, now());
    assert_eq!(
        he.meter(addr(), 1).open_response(&mut r1.clone(), &s2),
        Err(OpenError::UnexpectedResponse)
    );
    assert!(he.meter(addr(), 1).open_response(&mut r1, &s1).is_ok());
}

fn establish(m: &mut MeterSecurity<SoftwareModule>, rng_seed: u64, at: Timestamp) -> MeterSealer {
    let mut hm = head_end().meter(addr(), m.state().key_version);
    let mut req = [0u8; 64];
    let n = hm.auth_request(&mut TestRng(rng_seed), &mut req).unwrap();
    let mut resp = [0u8; 64];
    let r = m
        .authenticate(&req[..n], at, &mut TestRng(rng_seed ^ 0xFFFF), &mut resp)
        .unwrap();
    let info = hm.accept_auth_response(&resp[..r], at).unwrap();
    assert_eq!(Some(&info.id), m.session().map(|s| &s.id));
    hm
}

#[test]
fn session_commands_and_their_replays() {
    let mut m = meter();
    let mut hm = establish(&mut m, 7, now());
    let mut out = [0u8; 128];
    let s1 = hm
        .seal_in_session(&recharge(1), later(600), now(), &mut out)
        .unwrap();
    let f1 = out[..s1.len].to_vec();
    let s2 = hm
        .seal_in_session(&recharge(2), later(600), now(), &mut out)
        .unwrap();
    let f2 = out[..s2.len].to_vec();
    assert_eq!((s1.header.counter, s2.header.counter), (1, 2));

    let mut r1 = accept(&mut m, &f1, later(10));
    assert_eq!(open_err(&mut m, &f1, later(10)), OpenError::Replay);
    // Session commands do not touch the stored command counter.
    assert_eq!(m.state().last_counter, 0);
    let r = hm.open_response(&mut r1, &s1).unwrap();
    assert!(r.status.is_ok());

    // The session expires after 300 s.
    assert_eq!(open_err(&mut m, &f2, later(300)), OpenError::SessionExpired);
    accept(&mut m, &f2, later(299));

    // A new session: frames of the old one are refused.
    let s3 = hm
        .seal_in_session(&recharge(3), later(600), now(), &mut out)
        .unwrap();
    let f3 = out[..s3.len].to_vec();
    // While the session is live a new authentication is refused unchecked (a replayed
    // request must not end it); once it has run out, a new one starts.
    let mut req = [0u8; 64];
    let n = head_end()
        .meter(addr(), 1)
        .auth_request(&mut TestRng(98), &mut req)
        .unwrap();
    assert_eq!(
        m.authenticate(&req[..n], later(20), &mut TestRng(2), &mut [0u8; 64]),
        Err(OpenError::SessionBusy)
    );
    let _hm2 = establish(&mut m, 99, later(300));
    assert_eq!(open_err(&mut m, &f3, later(301)), OpenError::NoSession);

    // A restart ends the session.
    let stored = m.state();
    let keys = head_end().meter_keys(addr(), 1);
    let mut m2 = MeterSecurity::restore(
        addr(),
        SoftwareModule::new(1, &keys),
        SecurityConfig::DEFAULT,
        stored,
    )
    .unwrap();
    assert_eq!(open_err(&mut m2, &f3, later(21)), OpenError::NoSession);
    // Head-end side: no session sealing after expiry.
    assert_eq!(
        hm.seal_in_session(&recharge(4), later(600), later(400), &mut out),
        Err(SealError::SessionExpired)
    );
}

#[test]
fn authentication_failures_and_rng_failure() {
    let mut m = meter_with(config(100, 1000));
    // A head-end with the wrong master key: its proof fails and counts.
    let mut rogue = MasterKey::new(&[1; 16], TagLength::DEFAULT).meter(addr(), 1);
    let mut req = [0u8; 64];
    let n = rogue.auth_request(&mut TestRng(3), &mut req).unwrap();
    let mut resp = [0u8; 64];
    assert_eq!(
        m.authenticate(&req[..n], now(), &mut TestRng(4), &mut resp),
        Err(OpenError::BadTag)
    );
    assert_eq!(m.state().failures.today, 1);
    assert!(m.session().is_none());

    // A good request with a broken RNG: refused, no session, nothing counted.
    let mut hm = head_end().meter(addr(), 1);
    let n = hm.auth_request(&mut TestRng(5), &mut req).unwrap();
    assert!(matches!(
        m.authenticate(&req[..n], now(), &mut BrokenRng, &mut resp),
        Err(OpenError::Module(_))
    ));
    assert!(m.session().is_none());
    assert_eq!(m.state().failures.today, 1);
    // Too small an output buffer.
    assert_eq!(
        m.authenticate(&req[..n], now(), &mut TestRng(6), &mut resp[..20]),
        Err(OpenError::Buffer)
    );
    // The head-end refuses a response with a flipped bit.
    let r = m
        .authenticate(&req[..n], now(), &mut TestRng(6), &mut resp)
        .unwrap();
    for i in 0..r * 8 {
        let mut bad = resp[..r].to_vec();
        bad[i / 8] ^= 1 << (i % 8);
        assert!(hm.accept_auth_response(&bad, now()).is_err(), "bit {i}");
    }
    assert!(hm.accept_auth_response(&resp[..r], now()).is_ok());
    // Every flipped bit of a request is refused by the meter.
    let mut hm = head_end().meter(addr(), 1);
    let n = hm.auth_request(&mut TestRng(8), &mut req).unwrap();
    for i in 0..n * 8 {
        let mut bad = req[..n].to_vec();
        bad[i / 8] ^= 1 << (i % 8);
        assert!(
            m.authenticate(&bad, now(), &mut TestRng(9), &mut resp)
                .is_err(),
            "bit {i}"
        );
    }
}

#[test]
fn lockout_daily_limit_and_suspension() {
    let mut counter = CommandCounter::new(1);
    let mut out = [0u8; 128];
    let s = head_end()
        .meter(addr(), 1)
        .seal(&mut counter, &recharge(1), later(3 * 86_400), &mut out)
        .unwrap();
    let good = out[..s.len].to_vec();
    let mut bad = good.clone();
    let last = bad.len() - 1;
    bad[last] ^= 1;

    let mut m = meter(); // 15 a day, 200 in all, days in UTC
    for _ in 0..15 {
        assert_eq!(m.lockout(now()), Lockout::Open);
        assert_eq!(open_err(&mut m, &bad, now()), OpenError::BadTag);
    }
    // Locked: even the genuine frame is refused, without computing its tag.
    assert_eq!(m.lockout(now()), Lockout::LockedToday);
    let before = m.state();
    assert_eq!(open_err(&mut m, &good, now()), OpenError::Locked);
    assert_eq!(open_err(&mut m, &bad, now()), OpenError::Locked);
    assert_eq!(m.state(), before);

    // The next UTC day the meter accepts again; a success resets the consecutive count.
    let tomorrow = later(86_400);
    assert_eq!(m.lockout(tomorrow), Lockout::Open);
    assert_eq!(m.state().failures.consecutive, 15);
    accept(&mut m, &good, tomorrow);
    assert_eq!(m.state().failures.consecutive, 0);

    // 200 failures with no success in between suspend the meter until cleared locally.
    let mut m = meter_with(config(1000, 200));
    for i in 0..200 {
        assert_eq!(m.lockout(now()), Lockout::Open, "failure {i}");
        assert_eq!(open_err(&mut m, &bad, now()), OpenError::BadTag);
    }
    assert_eq!(m.lockout(now()), Lockout::Suspended);
    assert_eq!(m.lockout(later(30 * 86_400)), Lockout::Suspended);
    assert_eq!(open_err(&mut m, &good, now()), OpenError::Suspended);
    let mut req = [0u8; 64];
    let n = head_end()
        .meter(addr(), 1)
        .auth_request(&mut TestRng(1), &mut req)
        .unwrap();
    assert_eq!(SecurityErrorWord::from(OpenError::Suspended).0, 0x0100);
    // The head-end's way back in: a verified identity authentication clears the suspension.
    let keys = head_end().meter_keys(addr(), 1);
    let mut remote = MeterSecurity::restore(
        addr(),
        SoftwareModule::new(1, &keys),
        config(1000, 200),
        m.state(),
    )
    .unwrap();
    assert!(
        remote
            .authenticate(&req[..n], now(), &mut TestRng(2), &mut [0u8; 64])
            .is_ok()
    );
    assert_eq!(remote.lockout(now()), Lockout::Open);
    assert_eq!(remote.state().failures.consecutive, 0);
    // A local action clears it too.
    m.clear_suspension();
    accept(&mut m, &good, now());
}

#[test]
fn key_update_in_counter_mode() {
    let he = head_end();
    let mut m = meter();
    let mut counter = CommandCounter::new(1);
    let old = seal(&mut counter, &recharge(1));
    accept(&mut m, &old, now());

    let update = he.key_update(addr(), 1).unwrap();
    let mut out = [0u8; 128];
    let sent = he
        .meter(addr(), 1)
        .seal(&mut counter, &update, later(60), &mut out)
        .unwrap();
    let frame = out[..sent.len].to_vec();

    // Open, but lose power before storing: nothing changes, the keys stay.
    {
        let mut f = frame.clone();
        let p = m.open(&mut f, now()).unwrap();
        let (v, keys) = p.module().unwrap().staged_keys().unwrap();
        assert_eq!(v, 2);
        assert_eq!(keys, &he.meter_keys(addr(), 2));
        assert_eq!(p.counter_state().key_version, 2);
        assert_eq!(p.counter_state().last_counter, 0);
    }
    assert_eq!(m.state().key_version, 1);
    assert!(m.module().staged_keys().is_none());

    // Now for real.
    let mut f = frame.clone();
    let pending = m.open(&mut f, now()).unwrap();
    assert!(matches!(pending.command(), Command::KeyUpdate(k) if k.new_version == 2));
    let mut done = pending.commit();
    assert_eq!(done.response_header().key_version, 2);
    let mut resp = [0u8; 64];
    let n = done
        .seal_response(
            &Reply {
                status: Status::OK,
                data: &[],
            },
            &mut resp,
        )
        .unwrap();
    assert_eq!(m.state().key_version, 2);
    assert_eq!(m.state().last_counter, 0);

    // The head-end opens the confirmation under the new keys only.
    assert_eq!(
        he.meter(addr(), 1)
            .open_response(&mut resp[..n].to_vec(), &sent),
        Err(OpenError::WrongKeyVersion)
    );
    let r = he
        .meter(addr(), 2)
        .open_response(&mut resp[..n], &sent)
        .unwrap();
    assert!(r.status.is_ok());

    // Old-version frames are refused; the new counter starts at 1.
    let stale = seal(&mut counter, &recharge(2));
    assert_eq!(open_err(&mut m, &stale, now()), OpenError::WrongKeyVersion);
    assert_eq!(open_err(&mut m, &frame, now()), OpenError::WrongKeyVersion);
    let mut c2 = CommandCounter::new(2);
    let fresh = seal(&mut c2, &recharge(2));
    accept(&mut m, &fresh, now());
    // A key update that skips a version is refused.
    let mut wrong = he.key_update(addr(), 2).unwrap();
    if let Command::KeyUpdate(k) = &mut wrong {
        k.new_version = 4;
    }
    let skip = seal(&mut c2, &wrong);
    assert_eq!(open_err(&mut m, &skip, now()), OpenError::WrongKeyVersion);
    assert_eq!(m.state().key_version, 2);
}

#[test]
fn key_update_in_a_session() {
    let he = head_end();
    let mut m = meter();
    let mut hm = establish(&mut m, 11, now());
    let update = he.key_update(addr(), 1).unwrap();
    let mut out = [0u8; 128];
    let sent = hm
        .seal_in_session(&update, later(60), now(), &mut out)
        .unwrap();
    assert!(hm.session().is_none());
    let mut resp = accept(&mut m, &out[..sent.len], now());
    assert!(m.session().is_none());
    assert_eq!(m.state().key_version, 2);
    assert_eq!(
        sent.expected_response().mode,
        prepaid_meter::security::Mode::Counter
    );
    assert!(he.meter(addr(), 2).open_response(&mut resp, &sent).is_ok());
    // The new keys work for a new session.
    let mut hm2 = establish(&mut m, 12, now());
    let s = hm2
        .seal_in_session(&recharge(1), later(60), now(), &mut out)
        .unwrap();
    accept(&mut m, &out[..s.len], now());
}

#[test]
fn inspect_opens_both_directions_for_debugging() {
    let he = head_end();
    let mut counter = CommandCounter::new(1);
    let f = seal(&mut counter, &recharge(1));
    let mut m = meter();
    let mut r = accept(&mut m, &f, now());
    let mut f2 = f.clone();
    match he.meter(addr(), 1).inspect(&mut f2).unwrap() {
        Opened::Command(h, c) => {
            assert_eq!(h.command, CommandType::Recharge);
            assert_eq!(c, recharge(1));
        }
        other => panic!("{other:?}"),
    }
    match he.meter(addr(), 1).inspect(&mut r).unwrap() {
        Opened::Response(_, resp) => assert_eq!(resp.data, &[1, 2]),
        other => panic!("{other:?}"),
    }
}

#[test]
fn config_is_validated_once() {
    assert!(SecurityConfig::new(TagLength::DEFAULT, 0, LockoutPolicy::DLT645).is_err());
    assert!(TagLength::new(7).is_err());
    // A meter configured for 12-byte tags refuses 8-byte frames before any cryptography.
    let cfg = SecurityConfig::new(TagLength::new(12).unwrap(), 300, LockoutPolicy::DLT645).unwrap();
    let mut m = meter_with(cfg);
    let mut counter = CommandCounter::new(1);
    let f = seal(&mut counter, &recharge(1));
    assert_eq!(
        open_err(&mut m, &f, now()),
        OpenError::Frame(FrameError::TagLength)
    );
    assert_eq!(m.state().failures.today, 0);
}

#[test]
fn every_bit_flip_of_a_session_command_is_refused() {
    let mut m = meter_with(config(u16::MAX, u32::MAX));
    let mut hm = establish(&mut m, 21, now());
    let mut out = [0u8; 128];
    let s = hm
        .seal_in_session(&recharge(1), later(60), now(), &mut out)
        .unwrap();
    let frame = out[..s.len].to_vec();
    for bit in 0..frame.len() * 8 {
        let mut bad = frame.clone();
        bad[bit / 8] ^= 1 << (bit % 8);
        assert!(m.open(&mut bad, now()).is_err(), "bit {bit}");
    }
    for len in 0..frame.len() {
        assert!(
            m.open(&mut frame[..len].to_vec(), now()).is_err(),
            "len {len}"
        );
    }
    assert_eq!(m.session().map(|s| s.last_seq), Some(0));
    let mut resp = accept(&mut m, &frame, now());
    assert!(hm.open_response(&mut resp, &s).is_ok());
}
