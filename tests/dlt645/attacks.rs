//! Attacks by someone without keys, on the RS485 bus or the optical port: only public header
//! fields and the standard's plain commands. Each test reproduces one attack through the public
//! API (through DL/T 645 frames where it shows on the line) and shows it refused or bounded.

use crate::fake_meter;
use crate::rng_support::TestRng;
use crate::server_security::send_at;
use fake_meter::{FakeMeter, Served};

use prepaid_meter::address::Address;
use prepaid_meter::endpoint::dlt645::{
    BROADCAST_MAX_STEP_SECS, Client, ClientError, ClockLog, ClockRecord, ClockSource, Passwords,
    PlaintextPolicy, ServerConfig, ServerConfigError, ServerState,
};
use prepaid_meter::purchase::{CustomerNumber, Purchase};
use prepaid_meter::relay::RelayCode;
use prepaid_meter::security::{
    Command, CommandCounter, FailureRecord, Lockout, MasterKey, MeterSecurity, OpenError,
    SecurityConfig, SecurityConfigError, SecurityState, SoftwareModule,
};
use prepaid_meter::time::{Date, DateTime, Time, Timestamp, UtcOffset};
use prepaid_meter::units::Money;
use prepaid_meter::wire::dlt645::{
    BaudRate, Data, Di, ErrorCode, OperatorCode, Password, RelayOrder, Request,
};

fn dt(y: u16, mo: u8, d: u8, h: u8, mi: u8, s: u8) -> DateTime {
    DateTime::new(Date::new(y, mo, d).unwrap(), Time::new(h, mi, s).unwrap())
}

fn ts(t: DateTime) -> Timestamp {
    t.to_timestamp(UtcOffset::CHINA)
}

const METER: &str = "201000000012";
const LEVEL2: Password = Password {
    level: 2,
    code: [0x56, 0x34, 0x12],
};
const WRONG2: Password = Password {
    level: 2,
    code: [0, 0, 1],
};

/// 2024-03-01 12:00:00 at UTC+8.
fn now() -> Timestamp {
    ts(dt(2024, 3, 1, 12, 0, 0))
}

fn server() -> Served {
    let config = ServerConfig {
        passwords: Passwords::new([0x11; 3]).with(2, LEVEL2.code).unwrap(),
        ..ServerConfig::default()
    };
    Served::new(FakeMeter::new(METER), config).unwrap()
}

fn client(address: Address) -> Client {
    Client::new(address).with_password(LEVEL2)
}

fn me() -> Address {
    METER.parse().unwrap()
}

const UNAUTHORIZED: Option<Result<Vec<u8>, ClientError>> =
    Some(Err(ClientError::Refused(ErrorCode::UNAUTHORIZED)));
const ACK: Option<Result<Vec<u8>, ClientError>> = Some(Ok(Vec::new()));

fn broadcast(s: &mut Served, to: Address, time: DateTime, at: Timestamp) {
    let none = send_at(s, &client(to), &Request::BroadcastTime { time }, at);
    assert_eq!(none, None, "08H is never answered");
}

/// Attack: "the clock is open": 08H broadcast time, to the broadcast address or the meter's
/// own, sets the clock to any value with no password.
#[test]
fn broadcast_time_is_bounded_by_the_clock_policy() {
    for to in [Address::BROADCAST, me()] {
        let mut s = server();
        // Twenty years back, a day back, six minutes forward: refused, counted.
        for time in [
            dt(2004, 3, 1, 12, 0, 0),
            dt(2024, 2, 29, 12, 0, 0),
            dt(2024, 3, 1, 12, 6, 0),
        ] {
            broadcast(&mut s, to, time, now());
        }
        assert_eq!(s.meter().clock, None);
        assert_eq!(s.clock_log().refused, 3);
        // Five minutes back: a correction, applied and recorded.
        broadcast(&mut s, to, dt(2024, 3, 1, 11, 55, 0), now());
        assert_eq!(s.meter().clock, Some(dt(2024, 3, 1, 11, 55, 0)));
        let record = ClockRecord {
            before: now(),
            after: ts(dt(2024, 3, 1, 11, 55, 0)),
            source: ClockSource::Broadcast,
        };
        assert_eq!(s.clock_log().last, Some(record));
        assert_eq!(s.clock_log().changes, 1);
        // Only once a day: a second correction the same local day is refused.
        broadcast(
            &mut s,
            to,
            dt(2024, 3, 1, 14, 1, 0),
            ts(dt(2024, 3, 1, 14, 0, 0)),
        );
        assert_eq!(s.meter().clock, Some(dt(2024, 3, 1, 11, 55, 0)));
        // Never across or near midnight: 23:58 -> 00:01 and 00:02 -> 00:04 are refused, even
        // on a new day.
        broadcast(
            &mut s,
            to,
            dt(2024, 3, 3, 0, 1, 0),
            ts(dt(2024, 3, 2, 23, 58, 0)),
        );
        broadcast(
            &mut s,
            to,
            dt(2024, 3, 3, 0, 4, 0),
            ts(dt(2024, 3, 3, 0, 2, 0)),
        );
        // Never near a settlement time (the fake meter settles on day 1 at 00:00; day 5 at
        // 10:00 added here).
        s.meter.settlement[1] = (5, 10);
        broadcast(
            &mut s,
            to,
            dt(2024, 3, 5, 10, 1, 0),
            ts(dt(2024, 3, 5, 9, 58, 0)),
        );
        assert_eq!(s.meter().clock, Some(dt(2024, 3, 1, 11, 55, 0)));
        assert_eq!(s.clock_log().refused, 7);
        // The next day, within the rules, a correction is applied again.
        let t = ts(dt(2024, 3, 2, 9, 0, 0));
        broadcast(&mut s, to, dt(2024, 3, 2, 9, 4, 0), t);
        assert_eq!(s.meter().clock, Some(dt(2024, 3, 2, 9, 4, 0)));
        assert_eq!(s.clock_log().changes, 2);
    }
    assert_eq!(BROADCAST_MAX_STEP_SECS, 300);
}

/// Attack: a larger step only through an authenticated command: a plain 14H write of the
/// date is refused (protected), unlike the broadcast it used to be a cheaper twin of.
#[test]
fn a_plain_clock_write_is_refused_and_a_permitted_one_is_recorded() {
    let mut s = server();
    let date = Request::Write {
        di: Di(0x0400_0101),
        password: LEVEL2,
        operator: OperatorCode([1, 2, 3, 4]),
        value: Data::plain(&[0x05, 0x01, 0x03, 0x24]),
    };
    assert_eq!(send_at(&mut s, &client(me()), &date, now()), UNAUTHORIZED);
    assert_eq!(s.meter().clock, None);
    let config = ServerConfig {
        passwords: Passwords::new([0x11; 3]).with(2, LEVEL2.code).unwrap(),
        plaintext: PlaintextPolicy {
            parameters: true,
            ..PlaintextPolicy::NONE
        },
        ..ServerConfig::default()
    };
    let mut legacy = Served::new(FakeMeter::new(METER), config).unwrap();
    let level = Request::Write {
        di: Di(0x0400_0101),
        password: Password {
            level: 0,
            code: [0x11; 3],
        },
        operator: OperatorCode([1, 2, 3, 4]),
        value: Data::plain(&[0x05, 0x01, 0x03, 0x24]),
    };
    assert_eq!(send_at(&mut legacy, &client(me()), &level, now()), ACK);
    assert_eq!(legacy.clock_log().changes, 1);
    assert_eq!(
        legacy.clock_log().last.map(|r| r.source),
        Some(ClockSource::Write)
    );
}

fn head_end() -> MasterKey {
    MasterKey::new(&[0x42; 16], SecurityConfig::DEFAULT.tag_len())
}

fn security() -> MeterSecurity<SoftwareModule> {
    let keys = head_end().meter_keys(me(), 1);
    MeterSecurity::new(me(), SoftwareModule::new(1, &keys), SecurityConfig::DEFAULT).unwrap()
}

fn recharge(count: u32) -> Command<'static> {
    Command::Recharge(Purchase {
        amount: Money::from_units(100).unwrap(),
        count,
        customer: CustomerNumber::new([0, 0, 0, 0, 0x12, 0x34]),
    })
}

fn authenticate(m: &mut MeterSecurity<SoftwareModule>, seed: u64, at: Timestamp) -> Vec<u8> {
    let mut req = [0u8; 64];
    let n = head_end()
        .meter(me(), 1)
        .auth_request(&mut TestRng(seed), &mut req)
        .unwrap();
    m.authenticate(&req[..n], at, &mut TestRng(seed + 1), &mut [0u8; 64])
        .unwrap();
    req[..n].to_vec()
}

/// Attack: a sealed recharge withheld past its validity, then delivered after the clock was
/// moved back.
#[test]
fn a_withheld_command_stays_expired_when_the_clock_goes_back() {
    let mut m = security();
    let mut counter = CommandCounter::new(1);
    let valid_until = now().checked_add_secs(600).unwrap();
    let mut out = [0u8; 128];
    let sent = head_end()
        .meter(me(), 1)
        .seal(&mut counter, &recharge(1), valid_until, &mut out)
        .unwrap();
    let withheld = out[..sent.len].to_vec();
    // The head-end talks to the meter after the deadline (an authentication).
    authenticate(&mut m, 7, now().checked_add_secs(900).unwrap());
    // The attacker moves the clock back (by any means) and delivers the frame.
    let mut f = withheld.clone();
    assert_eq!(m.open(&mut f, now()).unwrap_err(), OpenError::Expired);
    // Through the line the clock moves back by five minutes a day at most.
    let mut s = server();
    broadcast(&mut s, Address::BROADCAST, dt(2024, 3, 1, 11, 40, 0), now());
    assert_eq!(s.meter().clock, None);
}

/// Attack: the lock-out resets when the day changes either way: a clock moved back and forth
/// across midnight gives a fresh daily allowance each time (3-byte passwords).
#[test]
fn the_password_allowance_does_not_come_back_with_the_clock() {
    let mut s = server();
    let c = client(me());
    let clear = |password| Request::ClearMaxDemand {
        password,
        operator: OperatorCode([1, 2, 3, 4]),
    };
    for _ in 0..3 {
        assert_eq!(send_at(&mut s, &c, &clear(WRONG2), now()), UNAUTHORIZED);
    }
    // Locked: the right password is not even compared.
    assert_eq!(send_at(&mut s, &c, &clear(LEVEL2), now()), UNAUTHORIZED);
    // Back across midnight, and back and forth again: still locked, no new guesses.
    for at in [
        ts(dt(2024, 2, 29, 23, 59, 0)),
        ts(dt(2024, 2, 1, 12, 0, 0)),
        ts(dt(2024, 3, 1, 23, 59, 59)),
    ] {
        assert!(s.is_locked(at));
        assert_eq!(send_at(&mut s, &c, &clear(WRONG2), at), UNAUTHORIZED);
    }
    assert_eq!(s.state().failures.today, 3);
    // The real next day opens it.
    assert_eq!(
        send_at(&mut s, &c, &clear(LEVEL2), ts(dt(2024, 3, 2, 0, 0, 1))),
        ACK
    );
    // The same holds for tag guesses in the security layer.
    let mut m = security();
    let mut junk = [0u8; 64];
    let mut counter = CommandCounter::new(1);
    let sent = head_end()
        .meter(me(), 1)
        .seal(
            &mut counter,
            &recharge(1),
            now().checked_add_secs(86_400).unwrap(),
            &mut junk,
        )
        .unwrap();
    let mut bad = junk[..sent.len].to_vec();
    *bad.last_mut().unwrap() ^= 1;
    for _ in 0..15 {
        assert_eq!(
            m.open(&mut bad.clone(), now()).unwrap_err(),
            OpenError::BadTag
        );
    }
    let yesterday = now().checked_add_secs(-86_400).unwrap();
    assert_eq!(m.lockout(yesterday), Lockout::LockedToday);
    assert_eq!(
        m.open(&mut bad.clone(), yesterday).unwrap_err(),
        OpenError::Locked
    );
}

/// Attack: anyone can suspend a meter: junk 03H frames with only public fields count as
/// failures, and only a local action cleared a suspension.
#[test]
fn junk_frames_cannot_keep_the_head_end_out() {
    let mut m = security();
    let mut counter = CommandCounter::new(1);
    let mut junk = [0u8; 128];
    let sent = head_end()
        .meter(me(), 1)
        .seal(
            &mut counter,
            &recharge(1),
            now().checked_add_secs(40 * 86_400).unwrap(),
            &mut junk,
        )
        .unwrap();
    let genuine = junk[..sent.len].to_vec();
    let mut bad = genuine.clone();
    *bad.last_mut().unwrap() ^= 1;
    // Fifteen junk frames after each midnight, for fourteen days: 210 failures.
    let mut day = now();
    for _ in 0..14 {
        for _ in 0..15 {
            let _ = m.open(&mut bad.clone(), day);
        }
        assert_ne!(
            m.open(&mut bad.clone(), day).unwrap_err(),
            OpenError::BadTag,
            "at most 15 guesses a day"
        );
        assert!(m.state().failures.today <= 15);
        day = day.checked_add_secs(86_400).unwrap();
    }
    assert_eq!(m.lockout(day), Lockout::Suspended);
    assert_eq!(
        m.open(&mut genuine.clone(), day).unwrap_err(),
        OpenError::Suspended
    );
    // The head-end's remote way back in: an identity authentication clears the suspension,
    // and the genuine recharge is accepted.
    authenticate(&mut m, 11, day);
    assert_eq!(m.lockout(day), Lockout::Open);
    let mut frame = genuine.clone();
    let pending = m.open(&mut frame, day).unwrap();
    let _ = pending.commit();
}

/// Attack: a replayed identity-authentication request ends the live session.
#[test]
fn a_replayed_authentication_does_not_end_the_session() {
    let mut m = security();
    let request = authenticate(&mut m, 21, now());
    let id = m.session().unwrap().id;
    let later = now().checked_add_secs(60).unwrap();
    assert_eq!(
        m.authenticate(&request, later, &mut TestRng(5), &mut [0u8; 64]),
        Err(OpenError::SessionBusy)
    );
    assert_eq!(m.session().unwrap().id, id);
    assert_eq!(m.state().failures.today, 0);
    // After the session's validity (5 minutes) the head-end authenticates again.
    authenticate(&mut m, 23, now().checked_add_secs(300).unwrap());
    assert_ne!(m.session().unwrap().id, id);
}

/// Attack: 15H write address needs no password: the meter disappears from the head-end (its
/// keys were derived from that address). And 17H changes the baud rate without one.
#[test]
fn write_address_and_baud_rate_need_the_link_opt_in() {
    let mut s = server();
    let c = client(me());
    let new: Address = "000000000777".parse().unwrap();
    assert_eq!(
        send_at(&mut s, &c, &Request::WriteAddress { address: new }, now()),
        UNAUTHORIZED
    );
    assert_eq!(s.meter().address, me());
    let baud = Request::ChangeBaud {
        rate: BaudRate::B9600,
    };
    assert_eq!(send_at(&mut s, &c, &baud, now()), UNAUTHORIZED);
    assert_eq!(s.meter().baud, None);
}

/// The authorisation table of the server docs, row by row, under the default configuration
/// (sealed commands only): which plain command is refused and which a password authorises.
#[test]
fn every_state_changing_plain_command_is_authorised_or_refused() {
    let op = OperatorCode([1, 2, 3, 4]);
    let rows: Vec<(&str, Request<'static>, bool)> = vec![
        (
            "14H protected (price) with the right password",
            Request::Write {
                di: Di(0x0405_0101),
                password: LEVEL2,
                operator: op,
                value: Data::plain(&[0, 0x50, 0, 0]),
            },
            false,
        ),
        (
            "15H write address",
            Request::WriteAddress {
                address: "000000000777".parse().unwrap(),
            },
            false,
        ),
        (
            "17H baud rate",
            Request::ChangeBaud {
                rate: BaudRate::B9600,
            },
            false,
        ),
        (
            "18H with a wrong old password",
            Request::ChangePassword {
                di: Di(0x0400_0C03),
                old: WRONG2,
                new: Password {
                    level: 2,
                    code: [9; 3],
                },
            },
            false,
        ),
        (
            "18H with the old password",
            Request::ChangePassword {
                di: Di(0x0400_0C03),
                old: LEVEL2,
                new: Password {
                    level: 2,
                    code: [9; 3],
                },
            },
            true,
        ),
        (
            "19H with a wrong password",
            Request::ClearMaxDemand {
                password: WRONG2,
                operator: op,
            },
            false,
        ),
        (
            "19H with the level-2 password",
            Request::ClearMaxDemand {
                password: LEVEL2,
                operator: op,
            },
            true,
        ),
        (
            "1AH plain",
            Request::MeterClear {
                password: LEVEL2,
                operator: op,
                sealed: Data::EMPTY,
            },
            false,
        ),
        (
            "1BH with the level-2 password",
            Request::EventClear {
                password: LEVEL2,
                operator: op,
                di: Di(0xFFFF_FFFF),
            },
            true,
        ),
        (
            "1CH plain",
            Request::RelayControl {
                password: LEVEL2,
                operator: op,
                order: RelayOrder::Plain {
                    command: RelayCode::Trip,
                    n2: 0,
                    valid_until: dt(2024, 3, 1, 12, 5, 0),
                },
            },
            false,
        ),
    ];
    for (name, request, allowed) in rows {
        let mut s = server();
        let before = s.meter().clone();
        let answer = send_at(&mut s, &client(me()), &request, now());
        if allowed {
            assert_eq!(answer.map(|a| a.is_ok()), Some(true), "{name}");
        } else {
            assert_eq!(answer, UNAUTHORIZED, "{name}");
            assert_eq!(*s.meter(), before, "{name}");
            assert_eq!(s.passwords().get(2), Some(LEVEL2.code), "{name}");
        }
    }
}

/// Attack: a request whose answer does not fit the output buffer was still executed,
/// silently.
#[test]
fn a_command_whose_answer_cannot_be_sent_is_not_executed() {
    let mut s = server();
    let c = client(me());
    let clear = Request::ClearMaxDemand {
        password: LEVEL2,
        operator: OperatorCode([1, 2, 3, 4]),
    };
    let security = Request::Security {
        di: Di(0x0700_00FF),
        operator: OperatorCode([0; 4]),
        payload: Data::plain(&[1, 2, 3]),
    };
    for request in [&clear, &security] {
        let mut req = [0u8; 128];
        let n = c.request(request, &mut req).unwrap();
        let before = s.meter().clone();
        let mut small = [0u8; 13];
        assert_eq!(s.handle(&req[..n], now(), &mut small), None);
        assert_eq!(*s.meter(), before);
        let mut out = vec![0u8; s.answer_capacity(request.function())];
        assert!(s.handle(&req[..n], now(), &mut out).is_some());
        assert_ne!(*s.meter(), before);
    }
}

/// Attack: a deserialised state that validates its configuration but not its state. (The
/// account side is in the account tests.)
#[test]
fn impossible_restored_states_are_refused() {
    let keys = head_end().meter_keys(me(), 1);
    let too_many = SecurityState {
        key_version: 1,
        failures: FailureRecord {
            today: 16,
            ..FailureRecord::default()
        },
        ..SecurityState::default()
    };
    assert_eq!(
        MeterSecurity::restore(
            me(),
            SoftwareModule::new(1, &keys),
            SecurityConfig::DEFAULT,
            too_many
        )
        .unwrap_err(),
        SecurityConfigError::InconsistentFailures
    );
    let mut state: ServerState = server().state();
    state.failures.today = 4;
    assert_eq!(
        Served::restore(
            FakeMeter::new(METER),
            ServerConfig::default(),
            state.clone()
        )
        .unwrap_err(),
        ServerConfigError::InconsistentFailures
    );
    state.failures.today = 0;
    state.clock = ClockLog {
        changes: 0,
        last: Some(ClockRecord::default()),
        ..ClockLog::default()
    };
    assert_eq!(
        Served::restore(FakeMeter::new(METER), ServerConfig::default(), state).unwrap_err(),
        ServerConfigError::InconsistentClockLog
    );
}
