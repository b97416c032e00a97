//! The meter-side server's security rules: a command that changes money,
//! keys or the relay needs the sealed path unless plaintext compatibility is opted into; wrong
//! passwords lock plaintext commands out for the rest of the local day; a wildcard address
//! reaches only the read functions. Every refused command leaves the meter unchanged.

use crate::fake_meter;
use fake_meter::{FakeMeter, Served};

use prepaid_meter::address::Address;
use prepaid_meter::endpoint::dlt645::{
    Client, ClientError, Passwords, PlaintextPolicy, Server, ServerConfig, ServerConfigError,
    ServerState,
};
use prepaid_meter::relay::RelayCode;
use prepaid_meter::security::FailureRecord;
use prepaid_meter::time::{Date, DateTime, Time, Timestamp, UtcOffset};
use prepaid_meter::units::{Money, Price};
use prepaid_meter::wire::dlt645::{
    BaudRate, Data, Di, ErrorCode, Frame, FrameRepr, FreezeTime, Function, OperatorCode, Password,
    ReadForm, RelayOrder, Request,
};

fn dt(y: u16, mo: u8, d: u8, h: u8, mi: u8, s: u8) -> DateTime {
    DateTime::new(Date::new(y, mo, d).unwrap(), Time::new(h, mi, s).unwrap())
}

const METER: &str = "201000000012";
const LEVEL2: Password = Password {
    level: 2,
    code: [0x56, 0x34, 0x12],
};
const LEVEL4: Password = Password {
    level: 4,
    code: [0x44; 3],
};
const SEALED_WRITE: Password = Password {
    level: Password::LEVEL_MAC,
    code: [0; 3],
};
const SEALED: Password = Password {
    level: Password::LEVEL_SEALED,
    code: [0; 3],
};

/// 2024-03-01 12:00:00 at UTC+8.
fn now() -> Timestamp {
    dt(2024, 3, 1, 12, 0, 0).to_timestamp(UtcOffset::CHINA)
}

fn config(plaintext: PlaintextPolicy) -> ServerConfig {
    ServerConfig {
        passwords: Passwords::new([0x11; 3])
            .with(2, LEVEL2.code)
            .unwrap()
            .with(4, LEVEL4.code)
            .unwrap(),
        plaintext,
        ..ServerConfig::default()
    }
}

fn server(plaintext: PlaintextPolicy) -> Served {
    Served::new(FakeMeter::new(METER), config(plaintext)).unwrap()
}

fn client(password: Password) -> Client {
    Client::new(METER.parse().unwrap()).with_password(password)
}

/// Sends `request` (built by `c`) at `at`; `None` for silence, else the parsed answer's outcome
/// as `Ok(data)` or the client's error.
pub(crate) fn send_at(
    s: &mut Served,
    c: &Client,
    request: &Request<'_>,
    at: Timestamp,
) -> Option<Result<Vec<u8>, ClientError>> {
    let mut req = [0u8; 128];
    let n = c.request(request, &mut req).unwrap();
    let mut out = [0u8; 300];
    let m = s.handle(&req[..n], at, &mut out)?;
    let bytes = &out[..m];
    Some(c.parse_answer(bytes).map(|_| {
        let repr = FrameRepr::parse(&Frame::new_checked(bytes).unwrap()).unwrap();
        repr.data.iter().collect()
    }))
}

fn send(s: &mut Served, c: &Client, request: &Request<'_>) -> Option<Result<Vec<u8>, ClientError>> {
    send_at(s, c, request, now())
}

fn write(di: u32, password: Password, value: &[u8]) -> Request<'_> {
    Request::Write {
        di: Di(di),
        password,
        operator: OperatorCode([1, 2, 3, 4]),
        value: Data::plain(value),
    }
}

fn plain_relay(password: Password, command: RelayCode) -> Request<'static> {
    Request::RelayControl {
        password,
        operator: OperatorCode([1, 2, 3, 4]),
        order: RelayOrder::Plain {
            command,
            n2: 0,
            valid_until: dt(2024, 3, 1, 12, 5, 0),
        },
    }
}

fn sealed_relay(data: &'static [u8]) -> Request<'static> {
    Request::RelayControl {
        password: SEALED,
        operator: OperatorCode([1, 2, 3, 4]),
        order: RelayOrder::Sealed(Data::plain(data)),
    }
}

const UNAUTHORIZED: Option<Result<Vec<u8>, ClientError>> =
    Some(Err(ClientError::Refused(ErrorCode::UNAUTHORIZED)));
const ACK: Option<Result<Vec<u8>, ClientError>> = Some(Ok(Vec::new()));

// ---------------------------------------------------------------------------------------------
// Rule: a wildcard address reaches the read functions only.

/// Every state-changing request kind, each with credentials the server would accept from the
/// meter's own address (plaintext compatibility on).
fn state_changing() -> Vec<Request<'static>> {
    vec![
        write(0x0405_0101, LEVEL2, &[0x00, 0x60, 0x00, 0x00]),
        write(0x0400_0402, LEVEL2, &[0x99, 0, 0, 0, 0, 0]),
        write(0x0405_0101, SEALED_WRITE, &[0x5A, 1, 2, 3]),
        plain_relay(LEVEL4, RelayCode::Trip),
        sealed_relay(&[0x5A, 1, 2, 3]),
        Request::MeterClear {
            password: LEVEL2,
            operator: OperatorCode([0; 4]),
            sealed: Data::EMPTY,
        },
        Request::ClearMaxDemand {
            password: LEVEL2,
            operator: OperatorCode([0; 4]),
        },
        Request::EventClear {
            password: LEVEL2,
            operator: OperatorCode([0; 4]),
            di: Di(0xFFFF_FFFF),
        },
        Request::ChangePassword {
            di: Di(0x0400_0C03),
            old: LEVEL2,
            new: Password {
                level: 2,
                code: [9, 9, 9],
            },
        },
        Request::WriteAddress {
            address: "000000000777".parse().unwrap(),
        },
        Request::Freeze {
            time: FreezeTime::NOW,
        },
        Request::ChangeBaud {
            rate: BaudRate::B9600,
        },
        Request::BroadcastTime {
            time: dt(2024, 3, 1, 12, 1, 0),
        },
        Request::Security {
            di: Di(0x0701_02FF),
            operator: OperatorCode([0; 4]),
            payload: Data::plain(&[1, 2, 3]),
        },
    ]
}

#[test]
fn state_changing_requests_are_executed_from_the_meters_own_address() {
    // The control for the wildcard test: each request does something when addressed properly.
    for (i, request) in state_changing().iter().enumerate() {
        let mut s = server(PlaintextPolicy::ALL);
        let before = s.meter().clone();
        let _ = send(&mut s, &client(LEVEL2), request);
        let changed = *s.meter() != before || s.passwords().get(2) != Some(LEVEL2.code);
        assert!(changed, "request {i} ({request:?}) did nothing");
    }
}

#[test]
fn a_wildcard_address_reaches_reads_only() {
    let wildcards: [Address; 3] = [
        Address::WILDCARD,
        "AAAAAAAAAA12".parse().unwrap(),
        "2010000000AA".parse().unwrap(),
    ];
    for wildcard in wildcards {
        assert!(wildcard.matches(METER.parse().unwrap()));
        let c = Client::new(wildcard).with_password(LEVEL2);
        let mut s = server(PlaintextPolicy::ALL);
        // Reads are answered (11H, 12H past the end: an error answer, 13H).
        assert_eq!(
            send(
                &mut s,
                &c,
                &Request::Read {
                    di: Di(0x0090_0200),
                    form: ReadForm::Single,
                }
            ),
            Some(Ok(vec![0x00, 0x02, 0x90, 0x00, 0x56, 0x98, 0x01, 0x00]))
        );
        assert_eq!(
            send(
                &mut s,
                &c,
                &Request::ReadFollowUp {
                    di: Di(0x0090_0200),
                    seq: 1,
                }
            ),
            Some(Err(ClientError::Refused(ErrorCode::NO_DATA)))
        );
        assert_eq!(
            send(&mut s, &c, &Request::ReadAddress),
            Some(Ok(vec![0x12, 0, 0, 0, 0x10, 0x20]))
        );
        // Everything else: silence, and nothing done.
        let before = s.meter().clone();
        for request in state_changing() {
            assert_eq!(send(&mut s, &c, &request), None, "{wildcard} {request:?}");
        }
        assert_eq!(*s.meter(), before, "{wildcard}");
        assert_eq!(s.passwords().get(2), Some(LEVEL2.code));
    }
}

// ---------------------------------------------------------------------------------------------
// Rule: plaintext relay control is refused unless opted into; sealed relay control is not.

#[test]
fn plaintext_relay_control_is_refused_by_default() {
    let mut s = server(PlaintextPolicy::NONE);
    let before = s.meter().clone();
    // Even the level-0 password, and a level that would be enough with the opt-in.
    let level0 = Password {
        level: 0,
        code: [0x11; 3],
    };
    for password in [level0, LEVEL4] {
        for command in [RelayCode::Trip, RelayCode::DirectClose] {
            assert_eq!(
                send(&mut s, &client(password), &plain_relay(password, command)),
                UNAUTHORIZED
            );
        }
    }
    assert_eq!(
        *s.meter(),
        before,
        "a refused relay command changes nothing"
    );
    // Sealed relay control goes to the security layer as before.
    assert_eq!(
        send(&mut s, &client(LEVEL4), &sealed_relay(&[0x5A, 1, 2, 3])),
        ACK
    );
    assert_eq!(s.meter().sealed, vec![Function::RelayControl]);
    assert!(matches!(
        send(&mut s, &client(LEVEL4), &sealed_relay(&[0x00, 1, 2, 3])),
        Some(Err(ClientError::RelayRefused(_)))
    ));
    assert!(s.meter().relay.is_empty());

    // Parameters alone do not open the relay.
    let mut s = server(PlaintextPolicy {
        parameters: true,
        relay: false,
        ..PlaintextPolicy::NONE
    });
    assert_eq!(
        send(
            &mut s,
            &client(LEVEL4),
            &plain_relay(LEVEL4, RelayCode::Trip)
        ),
        UNAUTHORIZED
    );
    // With the relay opt-in the same frame is executed.
    let mut s = server(PlaintextPolicy {
        parameters: false,
        relay: true,
        ..PlaintextPolicy::NONE
    });
    assert_eq!(
        send(
            &mut s,
            &client(LEVEL4),
            &plain_relay(LEVEL4, RelayCode::Trip)
        ),
        ACK
    );
    assert_eq!(s.meter().relay, vec![(RelayCode::Trip, 0)]);
}

// ---------------------------------------------------------------------------------------------
// Rule: parameters that change what a customer pays are written through the sealed path.

/// A protected identifier, a valid value, and whether the test meter shows it written.
type ProtectedWrite = (u32, Vec<u8>, fn(&FakeMeter) -> bool);

fn protected_writes() -> Vec<ProtectedWrite> {
    vec![
        (0x0405_0101, vec![0x00, 0x60, 0x00, 0x00], |m| {
            m.prices[0][0] == Price::from_minor_per_kwh(6_000)
        }),
        (0x0406_0102, vec![0x00, 0x10, 0x00, 0x00], |m| {
            m.tier_prices[0][1] == Price::from_minor_per_kwh(1_000)
        }),
        (0x0400_1001, vec![0x00, 0x30, 0x00, 0x00], |m| {
            m.limits[0] == Money::from_units(30).unwrap()
        }),
        (0x0400_1003, vec![0x00, 0x00, 0x01, 0x00], |m| {
            m.limits[2] == Money::from_units(100).unwrap()
        }),
        (0x0400_1004, vec![0x00, 0x00, 0x00, 0x01], |m| {
            m.limits[3] == Money::from_units(10_000).unwrap()
        }),
        (0x0400_040E, vec![0x77, 0, 0, 0, 0, 0], |m| {
            m.customer_number[0] == 0x77
        }),
        (0x0400_0102, vec![0x30, 0x15, 0x08], |m| {
            m.clock == Some(dt(2024, 3, 1, 8, 15, 30))
        }),
    ]
}

#[test]
fn protected_parameters_need_the_sealed_path() {
    let level0 = Password {
        level: 0,
        code: [0x11; 3],
    };
    for relay in [false, true] {
        let mut s = server(PlaintextPolicy {
            parameters: false,
            relay,
            ..PlaintextPolicy::NONE
        });
        let before = s.meter().clone();
        for (di, value, _) in protected_writes() {
            // The right password, even of the highest level: refused.
            for password in [LEVEL2, level0] {
                assert_eq!(
                    send(&mut s, &client(password), &write(di, password, &value)),
                    UNAUTHORIZED,
                    "{di:08X}"
                );
            }
        }
        assert_eq!(*s.meter(), before, "refused writes change nothing");
        // The sealed path: the security layer decides (here: data starting 5AH verify).
        for (di, _, _) in protected_writes() {
            assert_eq!(
                send(
                    &mut s,
                    &client(LEVEL2),
                    &write(di, SEALED_WRITE, &[0x5A, 1])
                ),
                ACK,
                "{di:08X}"
            );
            assert_eq!(
                send(
                    &mut s,
                    &client(LEVEL2),
                    &write(di, SEALED_WRITE, &[0x00, 1])
                ),
                UNAUTHORIZED,
                "{di:08X}"
            );
            assert_eq!(
                send(&mut s, &client(LEVEL2), &write(di, SEALED, &[0x5A, 2])),
                ACK,
                "{di:08X}"
            );
        }
        assert_eq!(s.meter().sealed.len(), 2 * protected_writes().len());
        // An unprotected parameter (the meter number) is still written with a plain password.
        assert_eq!(
            send(
                &mut s,
                &client(LEVEL2),
                &write(0x0400_0402, LEVEL2, &[0x99, 0, 0, 0, 0, 0])
            ),
            ACK
        );
        assert_eq!(s.meter().meter_number[0], 0x99);
    }

    // Plaintext compatibility for parameters: the same plain writes are executed.
    let mut s = server(PlaintextPolicy {
        parameters: true,
        relay: false,
        ..PlaintextPolicy::NONE
    });
    for (di, value, done) in protected_writes() {
        assert!(!done(s.meter()), "{di:08X}");
        assert_eq!(
            send(&mut s, &client(LEVEL2), &write(di, LEVEL2, &value)),
            ACK,
            "{di:08X}"
        );
        assert!(done(s.meter()), "{di:08X}");
    }
    // ...still with the level check: level 4 writes no parameter.
    let n = s.meter().clone();
    assert_eq!(
        send(
            &mut s,
            &client(LEVEL4),
            &write(0x0405_0101, LEVEL4, &[0, 0x70, 0, 0])
        ),
        UNAUTHORIZED
    );
    assert_eq!(*s.meter(), n);
}

// ---------------------------------------------------------------------------------------------
// Rule: wrong passwords are counted; at the daily limit plaintext commands are locked out until
// the next local midnight.

const WRONG: Password = Password {
    level: 2,
    code: [0, 0, 0],
};

fn meter_clear(password: Password) -> Request<'static> {
    Request::MeterClear {
        password,
        operator: OperatorCode([0; 4]),
        sealed: Data::EMPTY,
    }
}

/// Every command a plain password authorises, with the right password.
fn password_checked() -> Vec<Request<'static>> {
    vec![
        write(0x0405_0101, LEVEL2, &[0x00, 0x60, 0x00, 0x00]),
        write(0x0400_0402, LEVEL2, &[0x99, 0, 0, 0, 0, 0]),
        plain_relay(LEVEL4, RelayCode::Trip),
        meter_clear(LEVEL2),
        Request::ClearMaxDemand {
            password: LEVEL2,
            operator: OperatorCode([0; 4]),
        },
        Request::EventClear {
            password: LEVEL2,
            operator: OperatorCode([0; 4]),
            di: Di(0xFFFF_FFFF),
        },
        Request::ChangePassword {
            di: Di(0x0400_0C03),
            old: LEVEL2,
            new: Password {
                level: 2,
                code: [9, 9, 9],
            },
        },
    ]
}

#[test]
fn wrong_passwords_lock_plaintext_commands_out_until_the_next_local_day() {
    // The default limit: 3 wrong passwords a day.
    assert_eq!(ServerConfig::default().password_daily_limit, 3);
    let mut s = server(PlaintextPolicy::ALL);
    let price = |p| write(0x0405_0101, p, &[0x00, 0x60, 0x00, 0x00]);
    // A right password of a level too low is no guess: not counted.
    for _ in 0..5 {
        assert_eq!(send(&mut s, &client(LEVEL4), &price(LEVEL4)), UNAUTHORIZED);
    }
    assert_eq!(s.state().failures.today, 0);
    // Two wrong passwords, then the right one: still open.
    for _ in 0..2 {
        assert_eq!(send(&mut s, &client(WRONG), &price(WRONG)), UNAUTHORIZED);
    }
    assert!(!s.is_locked(now()));
    assert_eq!(send(&mut s, &client(LEVEL2), &price(LEVEL2)), ACK);
    // The third wrong password of the day (any command counts) locks.
    assert_eq!(
        send(&mut s, &client(WRONG), &meter_clear(WRONG)),
        UNAUTHORIZED
    );
    assert!(s.is_locked(now()));
    assert_eq!(s.state().failures.today, 3);

    // Locked: every password-checked command is refused, right password or not, uncounted.
    let before = s.meter().clone();
    for request in password_checked() {
        assert_eq!(
            send(&mut s, &client(LEVEL2), &request),
            UNAUTHORIZED,
            "{request:?}"
        );
    }
    assert_eq!(*s.meter(), before, "nothing done while locked");
    assert_eq!(s.passwords().get(2), Some(LEVEL2.code));
    assert_eq!(s.state().failures.today, 3);
    // Reads, unguarded commands and the sealed path are unaffected.
    assert_eq!(
        send(&mut s, &client(LEVEL2), &Request::ReadAddress),
        Some(Ok(vec![0x12, 0, 0, 0, 0x10, 0x20]))
    );
    assert_eq!(
        send(
            &mut s,
            &client(LEVEL2),
            &write(0x0405_0101, SEALED_WRITE, &[0x5A])
        ),
        ACK
    );
    assert_eq!(
        send(&mut s, &client(LEVEL2), &sealed_relay(&[0x5A, 1])),
        ACK
    );

    // The record is part of the stored state: a restart does not unlock.
    let stored = s.state();
    let mut r = Served::restore(
        FakeMeter::new(METER),
        config(PlaintextPolicy::ALL),
        stored.clone(),
    )
    .unwrap();
    assert!(r.is_locked(now()));
    assert_eq!(send(&mut r, &client(LEVEL2), &price(LEVEL2)), UNAUTHORIZED);
    assert_eq!(r.meter().prices[0][0], FakeMeter::new(METER).prices[0][0]);

    // Still locked in the last second of the local day (UTC+8)...
    let last = dt(2024, 3, 1, 23, 59, 59).to_timestamp(UtcOffset::CHINA);
    assert!(s.is_locked(last));
    assert_eq!(
        send_at(&mut s, &client(LEVEL2), &price(LEVEL2), last),
        UNAUTHORIZED
    );
    // ...and open at local midnight, 16:00 UTC, while the UTC day has 8 hours to go.
    let midnight = dt(2024, 3, 2, 0, 0, 0).to_timestamp(UtcOffset::CHINA);
    assert_eq!(midnight.unix() % 86_400, 16 * 3_600);
    assert!(!s.is_locked(midnight));
    let seventy = write(0x0405_0101, LEVEL2, &[0x00, 0x70, 0x00, 0x00]);
    assert_eq!(send_at(&mut s, &client(LEVEL2), &seventy, midnight), ACK);
    assert_eq!(s.meter().prices[0][0], Price::from_minor_per_kwh(7_000));
    // A new day counts afresh: one wrong password does not lock again.
    assert_eq!(
        send_at(&mut s, &client(WRONG), &price(WRONG), midnight),
        UNAUTHORIZED
    );
    assert!(!s.is_locked(midnight));
    assert_eq!(s.state().failures.today, 1);

    // The day is the configured offset's: at UTC the same lock holds until 00:00 UTC.
    let mut utc = Served::restore(
        FakeMeter::new(METER),
        ServerConfig {
            offset: UtcOffset::UTC,
            ..config(PlaintextPolicy::ALL)
        },
        ServerState {
            failures: FailureRecord::default(),
            ..stored
        },
    )
    .unwrap();
    for _ in 0..3 {
        assert_eq!(send(&mut utc, &client(WRONG), &price(WRONG)), UNAUTHORIZED);
    }
    assert!(utc.is_locked(midnight));
    assert!(!utc.is_locked(Timestamp::from_unix(midnight.unix() + 8 * 3_600)));
}

#[test]
fn a_wrong_old_password_in_18h_counts_and_the_limit_is_configurable() {
    let mut s = Served::new(
        FakeMeter::new(METER),
        ServerConfig {
            password_daily_limit: 1,
            ..config(PlaintextPolicy::NONE)
        },
    )
    .unwrap();
    let change = |old| Request::ChangePassword {
        di: Di(0x0400_0C03),
        old,
        new: Password {
            level: 2,
            code: [9, 9, 9],
        },
    };
    assert_eq!(send(&mut s, &client(WRONG), &change(WRONG)), UNAUTHORIZED);
    assert!(s.is_locked(now()));
    assert_eq!(send(&mut s, &client(LEVEL2), &change(LEVEL2)), UNAUTHORIZED);
    assert_eq!(s.passwords().get(2), Some(LEVEL2.code));
    // Sealed commands do not count against the plain-password limit.
    let mut s = Served::new(
        FakeMeter::new(METER),
        ServerConfig {
            password_daily_limit: 1,
            ..config(PlaintextPolicy::NONE)
        },
    )
    .unwrap();
    for _ in 0..3 {
        assert_eq!(
            send(
                &mut s,
                &client(LEVEL2),
                &write(0x0405_0101, SEALED_WRITE, &[0x00])
            ),
            UNAUTHORIZED
        );
    }
    assert!(!s.is_locked(now()));
    assert_eq!(
        send(&mut s, &client(LEVEL2), &change(LEVEL2)),
        Some(Ok(vec![2, 9, 9, 9]))
    );
    // A limit of zero is refused at construction.
    assert_eq!(
        Server::new(ServerConfig {
            password_daily_limit: 0,
            ..ServerConfig::default()
        })
        .err(),
        Some(ServerConfigError::FailureLimit)
    );
}

#[cfg(feature = "serde")]
#[test]
fn server_state_round_trips_through_serde() {
    let mut s = server(PlaintextPolicy::ALL);
    assert_eq!(
        send(
            &mut s,
            &client(WRONG),
            &write(0x0405_0101, WRONG, &[0, 0, 0, 0])
        ),
        UNAUTHORIZED
    );
    let state = s.state();
    let json = serde_json::to_string(&state).unwrap();
    let back: ServerState = serde_json::from_str(&json).unwrap();
    assert_eq!(back, state);
    assert_eq!(back.failures.today, 1);
}

#[test]
fn plaintext_meter_clear_needs_the_parameters_opt_in() {
    // Clearing the meter resets the energy that money depends on.
    let mut s = server(PlaintextPolicy::NONE);
    let before = s.meter().clone();
    assert_eq!(
        send(&mut s, &client(LEVEL2), &meter_clear(LEVEL2)),
        UNAUTHORIZED
    );
    assert_eq!(*s.meter(), before);
    assert_eq!(
        s.state().failures.today,
        0,
        "refused before the password is compared"
    );
    let relay_only = PlaintextPolicy {
        parameters: false,
        relay: true,
        ..PlaintextPolicy::NONE
    };
    let mut s = server(relay_only);
    assert_eq!(
        send(&mut s, &client(LEVEL2), &meter_clear(LEVEL2)),
        UNAUTHORIZED
    );
    let mut s = server(PlaintextPolicy {
        parameters: true,
        relay: false,
        ..PlaintextPolicy::NONE
    });
    assert_eq!(send(&mut s, &client(LEVEL2), &meter_clear(LEVEL2)), ACK);
    assert_eq!(s.meter().cleared, vec!["meter"]);
}
