//! The meter-side server against a test meter that implements every `MeterData` method:
//! every supported identifier is answered, writes and commands check passwords and leave the
//! meter unchanged when refused, broadcasts are never answered, long reads continue in
//! follow-up frames, and the vector frames get the answers real meters gave.

use crate::fake_meter;
use fake_meter::{FakeMeter, Served};

use prepaid_meter::address::Address;
use prepaid_meter::endpoint::dlt645::{
    Client, ClientError, Passwords, PlaintextPolicy, Progress, Reassembler, Server, ServerConfig,
    ServerConfigError,
};
use prepaid_meter::relay::RelayCode;
use prepaid_meter::time::{Date, DateTime, Time, Timestamp, UtcOffset};
use prepaid_meter::units::{Energy, Money, Price};
use prepaid_meter::wire::dlt645::registry::{self, Access, CountParam, FreezeKind, Value};
use prepaid_meter::wire::dlt645::{
    BaudRate, Data, Di, Di97, ErrorCode, Frame, FrameRepr, FreezeTime, OperatorCode, Password,
    Request, Response, SecurityErrorWord, skip_preamble,
};

fn dt(y: u16, mo: u8, d: u8, h: u8, mi: u8, s: u8) -> DateTime {
    DateTime::new(Date::new(y, mo, d).unwrap(), Time::new(h, mi, s).unwrap())
}

const METER: &str = "201000000012";
/// 2024-03-01 12:00:00 at UTC+8.
fn now() -> Timestamp {
    dt(2024, 3, 1, 12, 0, 0).to_timestamp(UtcOffset::CHINA)
}

/// A server for a legacy master: plaintext parameter writes and relay control allowed.
fn server() -> Served {
    let passwords = Passwords::new([0x11, 0x11, 0x11])
        .with(2, [0x56, 0x34, 0x12])
        .unwrap()
        .with(4, [0x44, 0x44, 0x44])
        .unwrap();
    Served::new(
        FakeMeter::new(METER),
        ServerConfig {
            passwords,
            plaintext: PlaintextPolicy::ALL,
            ..ServerConfig::default()
        },
    )
    .unwrap()
}

fn client() -> Client {
    Client::new(METER.parse().unwrap()).with_password(Password {
        level: 2,
        code: [0x56, 0x34, 0x12],
    })
}

fn exchange(server: &mut Served, request: &[u8]) -> Option<Vec<u8>> {
    let mut out = [0u8; 300];
    server
        .handle(request, now(), &mut out)
        .map(|n| out[..n].to_vec())
}

fn read(server: &mut Served, di: Di) -> Result<Vec<u8>, ClientError> {
    let c = client();
    let mut req = [0u8; 64];
    let n = c.read(di, &mut req).unwrap();
    let answer = exchange(server, &req[..n]).expect("an answer");
    let response = c.parse_answer(&answer)?;
    let data = Client::read_data(&response, di)?;
    Ok(data.iter().collect())
}

fn hex(s: &str) -> Vec<u8> {
    (0..s.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(&s[i..i + 2], 16).unwrap())
        .collect()
}

#[test]
fn answers_every_supported_identifier() {
    let mut s = server();
    let mut checked = 0;
    for entry in registry::REGISTRY {
        let (d3, d2) = (entry.di.di3(), entry.di.di2());
        let mut dis = Vec::new();
        for di1 in [entry.di.di1(), entry.di1_max] {
            for di0 in [entry.di.di0(), entry.di0_max] {
                dis.push(Di::new(d3, d2, di1, di0));
            }
        }
        if entry.block_di1 {
            dis.push(Di::new(d3, d2, 0xFF, entry.di.di0()));
        }
        if entry.block_di0 {
            dis.push(Di::new(d3, d2, entry.di.di1(), 0xFF));
        }
        for di in dis {
            // The test meter has 4 tariffs, two price sets of 8, 2 relay records, 2 clock
            // settings.
            let beyond = (matches!(
                entry.item,
                registry::Item::Energy(_) | registry::Item::PreciseEnergy(_)
            ) && di.di1() > 4
                && di.di1() != 0xFF)
                || (entry.item == registry::Item::Price && di.di0() > 8 && di.di0() != 0xFF)
                || (matches!(
                    entry.item,
                    registry::Item::TripRecord
                        | registry::Item::CloseRecord
                        | registry::Item::ClockSetRecord
                ) && di.di0() > 2);
            let result = read(&mut s, di);
            if entry.access == Access::WriteOnly {
                assert_eq!(
                    result,
                    Err(ClientError::Refused(ErrorCode::UNAUTHORIZED)),
                    "{di}"
                );
                continue;
            }
            if beyond {
                assert_eq!(
                    result,
                    Err(ClientError::Refused(ErrorCode::NO_DATA)),
                    "{di}"
                );
                continue;
            }
            let data = result.unwrap_or_else(|e| panic!("{di} ({}): {e}", entry.name));
            let mut values = 0;
            let decoded = if entry.is_block(di)
                || matches!(
                    entry.item,
                    registry::Item::FrozenForward(FreezeKind::Daily)
                        | registry::Item::FrozenReverse(FreezeKind::Daily)
                ) {
                entry
                    .format
                    .decode_block(&data, |_| values += 1)
                    .map(|_| ())
            } else {
                entry.format.decode(&data).map(|_| values += 1)
            };
            assert_eq!(decoded, Ok(()), "{di} ({}) data {data:02X?}", entry.name);
            assert!(values >= 1);
            checked += 1;
        }
    }
    assert!(checked > 200, "only {checked} identifiers answered");
}

#[test]
fn values_are_the_meters() {
    let mut s = server();
    // E14b: balance 198.56 yuan is 56 98 01 00.
    assert_eq!(
        read(&mut s, Di(0x0090_0200)).unwrap(),
        [0x56, 0x98, 0x01, 0x00]
    );
    // E12b: the forward block, total and 4 tariffs.
    assert_eq!(
        read(&mut s, Di(0x0001_FF00)).unwrap(),
        hex("2901000062000000600000000300000002000000")
    );
    // Combined reactive 1 is negative: sign bit.
    assert_eq!(
        read(&mut s, Di(0x0003_0000)).unwrap(),
        [0x29, 0x01, 0x00, 0x80]
    );
    // Date and time from `now`: Friday 2024-03-01 12:00:00.
    assert_eq!(
        read(&mut s, Di(0x0400_0101)).unwrap(),
        [0x05, 0x01, 0x03, 0x24]
    );
    assert_eq!(read(&mut s, Di(0x0400_0102)).unwrap(), [0x00, 0x00, 0x12]);
    // Communication address.
    assert_eq!(
        read(&mut s, Di(0x0400_0401)).unwrap(),
        [0x12, 0, 0, 0, 0x10, 0x20]
    );
    // Price set 1, tariff 2: 0.6283.
    assert_eq!(
        read(&mut s, Di(0x0405_0102)).unwrap(),
        [0x83, 0x62, 0x00, 0x00]
    );
    // The day table holds 4 entries of 3 bytes: hhmmNN as NN mm hh.
    assert_eq!(
        read(&mut s, Di(0x0401_0001)).unwrap(),
        hex("040000020008010018030022")
    );
    // Voltage phase A 220.1 V, current -1.000 A.
    assert_eq!(read(&mut s, Di(0x0201_0100)).unwrap(), [0x01, 0x22]);
    assert_eq!(read(&mut s, Di(0x0202_0100)).unwrap(), [0x00, 0x10, 0x80]);
    // Daily frozen forward energy: total + 4 tariffs.
    assert_eq!(read(&mut s, Di(0x0506_0101)).unwrap().len(), 20);
    // Hourly frozen: the total alone.
    assert_eq!(read(&mut s, Di(0x0504_0101)).unwrap().len(), 4);
}

#[test]
fn vector_frames_get_the_answers_real_meters_gave() {
    let mut s = server();
    // E14a -> E14b.
    assert_eq!(
        exchange(&mut s, &hex("681200000010206811043335C3338516")).unwrap(),
        hex("681200000010206891083335C33389CB3433C416")
    );
    // E12a -> E12b.
    assert_eq!(
        exchange(&mut s, &hex("6812000000102068110433323433F316")).unwrap(),
        hex("68120000001020689118333234335C343333953333339333333336333333353333337416")
    );
    // E15 (DI offset twice) -> the "no requested data" answer of E17b.
    assert_eq!(
        exchange(&mut s, &hex("6812000000102068110466656766BF16")).unwrap(),
        hex("6812000000102068D101351916")
    );
    // E8 (read address, wildcard) -> E9.
    assert_eq!(
        exchange(&mut s, &hex("68AAAAAAAAAAAA681300DF16")).unwrap(),
        hex("681200000010206893064533333343531F16")
    );
    // E16 (bad checksum) -> silence.
    assert_eq!(
        exchange(
            &mut s,
            &hex("6812000000102068911833323433675C3333993A333348393333B3373333A44333335D16")
        ),
        None
    );
    // E1 and E22 are for other meters -> silence.
    assert_eq!(
        exchange(&mut s, &hex("FEFEFEFE68610100000000681104333334331416")),
        None
    );
    assert_eq!(
        exchange(&mut s, &hex("FEFEFEFE6878563412000068110433333433C616")),
        None
    );
    // E25 (broadcast time) -> silence. Seven years from the meter's clock, beyond the
    // broadcast correction policy: not set, and counted as refused.
    let e25 = hex("6899999999999968080684554338394A4B16");
    assert_eq!(exchange(&mut s, &e25), None);
    assert_eq!(s.meter().clock, None);
    assert_eq!(s.clock_log().refused, 1);
    // Received two minutes before that time: a correction within the policy, clock set.
    let mut out = [0u8; 300];
    let near = dt(2017, 6, 5, 10, 20, 51).to_timestamp(UtcOffset::CHINA);
    assert_eq!(s.handle(&e25, near, &mut out), None);
    assert_eq!(s.meter().clock, Some(dt(2017, 6, 5, 10, 22, 51)));
    // E1 to a meter with that address -> its forward total.
    let mut other = Served::new(FakeMeter::new("000000000161"), ServerConfig::default()).unwrap();
    let mut out = [0u8; 64];
    let n = other
        .handle(
            &hex("FEFEFEFE68610100000000681104333334331416"),
            now(),
            &mut out,
        )
        .unwrap();
    let r = FrameRepr::parse(&Frame::new_checked(&out[..n]).unwrap()).unwrap();
    assert_eq!(
        Client::energy(&Response::parse(&r).unwrap(), Di(0x0001_0000)),
        Ok(Energy::from_centi_kwh(129).unwrap())
    );
}

#[test]
fn broadcasts_are_never_answered() {
    let mut s = server();
    let broadcast = Client::new(Address::BROADCAST);
    let mut req = [0u8; 64];
    let n = broadcast.freeze(FreezeTime::NOW, &mut req).unwrap();
    assert_eq!(exchange(&mut s, &req[..n]), None);
    assert_eq!(s.meter().freezes, vec![FreezeTime::NOW]);
    let n = broadcast
        .relay(RelayCode::Trip, dt(2030, 1, 1, 0, 0, 0), &mut req)
        .unwrap();
    assert_eq!(exchange(&mut s, &req[..n]), None);
    assert!(
        s.meter().relay.is_empty(),
        "a broadcast relay command is ignored"
    );
    let n = broadcast.read(Di(0x0090_0200), &mut req).unwrap();
    assert_eq!(exchange(&mut s, &req[..n]), None);
    // A response frame is never answered either.
    let mut resp = [0u8; 64];
    let n = Response::Read {
        di: Di(0x0090_0200),
        data: Data::plain(&[0; 4]),
        more: false,
    }
    .emit(METER.parse().unwrap(), &mut resp, 0)
    .unwrap();
    assert_eq!(exchange(&mut s, &resp[..n]), None);
}

fn answer(s: &mut Served, c: &Client, request: &[u8]) -> Result<Vec<u8>, ClientError> {
    let bytes = exchange(s, request).expect("an answer");
    let r = c.parse_answer(&bytes)?;
    let repr = FrameRepr::parse(&Frame::new_checked(skip_preamble(&bytes)).unwrap()).unwrap();
    assert_eq!(Response::parse(&repr).unwrap(), r);
    Ok(repr.data.iter().collect())
}

#[test]
fn writes_check_passwords_and_leave_the_meter_unchanged_when_refused() {
    let mut s = server();
    let c = client();
    let mut req = [0u8; 64];
    let alarm1 = Di(0x0400_1001);

    // Right password (level 2): alarm 1 becomes 30.00 yuan.
    let n = c.write_number(alarm1, 3_000, &mut req).unwrap();
    assert_eq!(answer(&mut s, &c, &req[..n]), Ok(vec![]));
    assert_eq!(
        Client::money(&parse_read(&mut s, alarm1), alarm1),
        Ok(Money::from_units(30).unwrap())
    );

    let before = s.meter().clone();
    let refused = |s: &mut Served, c: &Client, req: &[u8], code: ErrorCode| {
        assert_eq!(answer(s, c, req), Err(ClientError::Refused(code)));
    };
    // Wrong password.
    let wrong = c.with_password(Password {
        level: 2,
        code: [0, 0, 0],
    });
    let n = wrong.write_number(alarm1, 1_000, &mut req).unwrap();
    refused(&mut s, &c, &req[..n], ErrorCode::UNAUTHORIZED);
    // Right password of a level too low for parameters (level 4 writes nothing at level 2).
    let low = c.with_password(Password {
        level: 4,
        code: [0x44; 3],
    });
    let n = low.write_number(alarm1, 1_000, &mut req).unwrap();
    refused(&mut s, &c, &req[..n], ErrorCode::UNAUTHORIZED);
    // Read-only identifier.
    let n = c.write(Di(0x0090_0200), &[0, 0, 0, 0], &mut req).unwrap();
    refused(&mut s, &c, &req[..n], ErrorCode::UNAUTHORIZED);
    // Unknown identifier.
    let n = c.write(Di(0x0400_1009), &[0, 0, 0, 0], &mut req).unwrap();
    refused(&mut s, &c, &req[..n], ErrorCode::NO_DATA);
    // Not BCD, and wrong length.
    let n = c.write(alarm1, &[0x0A, 0, 0, 0], &mut req).unwrap();
    refused(&mut s, &c, &req[..n], ErrorCode::OTHER);
    let n = c.write(alarm1, &[0, 0, 0], &mut req).unwrap();
    refused(&mut s, &c, &req[..n], ErrorCode::OTHER);
    // The meter's own rule: hoarding limit below alarm 1.
    let n = c.write_number(Di(0x0400_1004), 100, &mut req).unwrap();
    refused(&mut s, &c, &req[..n], ErrorCode::OTHER);
    // Too many tariffs.
    let n = c.write_number(Di(0x0400_0204), 64, &mut req).unwrap();
    refused(&mut s, &c, &req[..n], ErrorCode::TOO_MANY_TARIFFS);
    // Passwords are write-only through 14H.
    let n = c.write(Di(0x0400_0C03), &[2, 0, 0, 0], &mut req).unwrap();
    refused(&mut s, &c, &req[..n], ErrorCode::UNAUTHORIZED);
    // A sealed level whose seal does not verify.
    let sealed = c.with_password(Password {
        level: 0x99,
        code: [0; 3],
    });
    let n = sealed.write_number(alarm1, 1_000, &mut req).unwrap();
    refused(&mut s, &c, &req[..n], ErrorCode::UNAUTHORIZED);
    assert_eq!(*s.meter(), before, "refused writes change nothing");

    // Every writable kind of value.
    let writes: Vec<(Di, Vec<u8>)> = vec![
        (Di(0x0400_0101), vec![0x06, 0x02, 0x03, 0x24]), // Saturday 2024-03-02
        (Di(0x0400_0102), vec![0x30, 0x15, 0x08]),
        (Di(0x0400_0106), vec![0x00, 0x00, 0x01, 0x07, 0x25]),
        (Di(0x0400_0201), vec![0x03]),
        (Di(0x0400_0402), vec![0x99, 0, 0, 0, 0, 0]),
        (Di(0x0400_040E), vec![0x77, 0, 0, 0, 0, 0]),
        (Di(0x0400_0B02), vec![0x00, 0x15]),
        (Di(0x0400_1401), vec![0x45, 0x00]),
        (
            Di(0x0401_0000),
            vec![0x01, 0x01, 0x01, 0x02, 0x01, 0x04, 0x01, 0x01, 0x10],
        ),
        (Di(0x0402_0003), vec![0x01, 0x00, 0x00, 0x02, 0x30, 0x12]),
        (Di(0x0405_0203), vec![0x00, 0x60, 0x00, 0x00]),
        (Di(0x0406_0002), vec![0x00, 0x00, 0x03, 0x00]),
        (Di(0x0406_0303), vec![0x00, 0x10, 0x00, 0x00]),
    ];
    for (di, value) in &writes {
        let n = c.write(*di, value, &mut req).unwrap();
        assert_eq!(answer(&mut s, &c, &req[..n]), Ok(vec![]), "{di}");
    }
    let m = s.meter();
    assert_eq!(
        m.clock,
        Some(dt(2024, 3, 1, 8, 15, 30)),
        "time write keeps today's date"
    );
    assert_eq!(m.switch_times[0], dt(2025, 7, 1, 0, 0, 0));
    assert_eq!(m.counts[CountParam::Zones as usize], 3);
    assert_eq!(m.meter_number[0], 0x99);
    assert_eq!(m.customer_number[0], 0x77);
    assert_eq!(m.settlement[1], (15, 0));
    assert_eq!(m.trip_delay, 45);
    assert_eq!(m.seasons[0], vec![(1, 1, 1), (4, 1, 2), (10, 1, 1)]);
    assert_eq!(m.day_tables[1][2], vec![(0, 0, 1), (12, 30, 2)]);
    assert_eq!(m.prices[1][2], Price::from_minor_per_kwh(6_000));
    assert_eq!(m.tier_thresholds[0][1], Energy::from_kwh(300));
    assert_eq!(m.tier_prices[1][2], Price::from_minor_per_kwh(1_000));
    // And the date write (applied first) kept the time of `now`.
    let mut s2 = server();
    let n = c
        .write(Di(0x0400_0101), &[0x06, 0x02, 0x03, 0x24], &mut req)
        .unwrap();
    answer(&mut s2, &c, &req[..n]).unwrap();
    assert_eq!(s2.meter().clock, Some(dt(2024, 3, 2, 12, 0, 0)));
    // A date whose weekday is wrong is refused.
    let n = c
        .write(Di(0x0400_0101), &[0x01, 0x02, 0x03, 0x24], &mut req)
        .unwrap();
    assert_eq!(
        answer(&mut s2, &c, &req[..n]),
        Err(ClientError::Refused(ErrorCode::OTHER))
    );
}

fn parse_read(s: &mut Served, di: Di) -> Response<'static> {
    let c = client();
    let mut req = [0u8; 64];
    let n = c.read(di, &mut req).unwrap();
    let bytes: &'static [u8] = Box::leak(exchange(s, &req[..n]).unwrap().into_boxed_slice());
    c.parse_answer(bytes).unwrap()
}

#[test]
fn relay_control_checks_password_level_and_validity() {
    // E24: trip 111111111111 with level 00 password 000000, valid until 2018-05-12 15:41:24.
    let e24 = hex("68111111111111681C1033333333333333334D3357744845384B5516");
    let legacy = ServerConfig {
        plaintext: PlaintextPolicy::ALL,
        ..ServerConfig::default()
    };
    let mut s = Served::new(FakeMeter::new("111111111111"), legacy).unwrap();
    let mut out = [0u8; 64];
    let before = dt(2018, 5, 12, 15, 41, 23).to_timestamp(UtcOffset::CHINA);
    let n = s.handle(&e24, before, &mut out).unwrap();
    assert_eq!(&out[..n], &hex("68111111111111689C00D216")[..]);
    assert_eq!(s.meter().relay, vec![(RelayCode::Trip, 0)]);
    // One second later the command has expired: refused, nothing done.
    let at = dt(2018, 5, 12, 15, 41, 24).to_timestamp(UtcOffset::CHINA);
    let n = s.handle(&e24, at, &mut out).unwrap();
    assert_eq!(&out[..n], &hex("6811111111111168DC01344716")[..]);
    assert_eq!(s.meter().relay.len(), 1);

    let mut s = server();
    let until = dt(2024, 3, 1, 12, 5, 0);
    let mut req = [0u8; 64];
    // Level 4 is enough for relay control.
    let c4 = client().with_password(Password {
        level: 4,
        code: [0x44; 3],
    });
    let n = c4
        .relay(RelayCode::ReconnectAllowed, until, &mut req)
        .unwrap();
    assert_eq!(answer(&mut s, &c4, &req[..n]), Ok(vec![]));
    // Level 5 is not, even with its right password.
    let c5 = client().with_password(Password {
        level: 5,
        code: [0x11; 3],
    });
    let n = c5.relay(RelayCode::Trip, until, &mut req).unwrap();
    assert_eq!(
        answer(&mut s, &c5, &req[..n]),
        Err(ClientError::Refused(ErrorCode::UNAUTHORIZED))
    );
    // Unknown N1.
    let n = c4.relay(RelayCode::Unknown(0x4F), until, &mut req).unwrap();
    assert_eq!(
        answer(&mut s, &c4, &req[..n]),
        Err(ClientError::Refused(ErrorCode::OTHER))
    );
    // Sealed form whose seal does not verify: status word.
    let sealed = Request::RelayControl {
        password: Password {
            level: 0x98,
            code: [0; 3],
        },
        operator: OperatorCode([0; 4]),
        order: prepaid_meter::wire::dlt645::RelayOrder::Sealed(Data::plain(&[
            1, 2, 3, 4, 5, 6, 7, 8,
        ])),
    };
    let n = client().request(&sealed, &mut req).unwrap();
    assert!(matches!(
        answer(&mut s, &c4, &req[..n]),
        Err(ClientError::RelayRefused(_))
    ));
    assert_eq!(s.meter().relay, vec![(RelayCode::ReconnectAllowed, 0)]);
}

#[test]
fn change_password_then_old_password_fails() {
    let mut s = server();
    let c = client();
    let mut req = [0u8; 64];
    let n = c.change_password(2, [0x99, 0x88, 0x77], &mut req).unwrap();
    assert_eq!(answer(&mut s, &c, &req[..n]), Ok(vec![2, 0x99, 0x88, 0x77]));
    assert_eq!(s.passwords().get(2), Some([0x99, 0x88, 0x77]));
    let n = c.write_number(Di(0x0400_1001), 100, &mut req).unwrap();
    assert_eq!(
        answer(&mut s, &c, &req[..n]),
        Err(ClientError::Refused(ErrorCode::UNAUTHORIZED))
    );
    // Level 4 cannot change level 2's password.
    let c4 = c.with_password(Password {
        level: 4,
        code: [0x44; 3],
    });
    let n = c4.change_password(2, [0; 3], &mut req).unwrap();
    assert_eq!(
        answer(&mut s, &c4, &req[..n]),
        Err(ClientError::Refused(ErrorCode::UNAUTHORIZED))
    );
    assert_eq!(s.passwords().get(2), Some([0x99, 0x88, 0x77]));
}

#[test]
fn long_reads_continue_in_follow_up_frames() {
    let mut s = server();
    let c = client();
    // Forward energy, every tariff of every settlement period: 13 x 5 x 4 = 260 bytes.
    let di = Di(0x0001_FFFF);
    let mut req = [0u8; 64];
    let mut r = Reassembler::new(di);
    let n = c.read(di, &mut req).unwrap();
    let mut bytes = exchange(&mut s, &req[..n]).unwrap();
    assert_eq!(bytes[8], 0xB1, "first part flags more");
    loop {
        let resp = c.parse_answer(&bytes).unwrap();
        match r.push(&resp).unwrap() {
            Progress::Done => break,
            Progress::FollowUp(seq) => {
                let n = c.read_follow_up(di, seq, &mut req).unwrap();
                bytes = exchange(&mut s, &req[..n]).unwrap();
            }
        }
    }
    assert_eq!(r.data().len(), 260);
    // The same bytes as reading each element on its own, in DI order (DI1 outer, DI0 inner).
    let mut want = Vec::new();
    for tariff in 0..=4u8 {
        for period in 0..=12u8 {
            want.extend(read(&mut s, Di::new(0, 1, tariff, period)).unwrap());
        }
    }
    assert_eq!(r.data(), &want[..]);
    // A follow-up past the end is refused.
    let n = c.read_follow_up(di, 5, &mut req).unwrap();
    assert_eq!(
        answer(&mut s, &c, &req[..n]),
        Err(ClientError::Refused(ErrorCode::NO_DATA))
    );
}

#[test]
fn commands() {
    let mut s = server();
    let c = client();
    let mut req = [0u8; 64];
    // 13H from the wildcard: the address.
    let n = c.read_address(&mut req).unwrap();
    assert_eq!(
        answer(&mut s, &Client::new(Address::WILDCARD), &req[..n]),
        Ok(vec![0x12, 0, 0, 0, 0x10, 0x20])
    );
    // 16H freeze now.
    let n = c.freeze(FreezeTime::NOW, &mut req).unwrap();
    assert_eq!(answer(&mut s, &c, &req[..n]), Ok(vec![]));
    assert_eq!(s.meter().freezes, vec![FreezeTime::NOW]);
    // 17H: 9600 accepted, 19200 refused by the meter, a two-bit rate refused by the server.
    let n = c.change_baud(BaudRate::B9600, &mut req).unwrap();
    assert_eq!(answer(&mut s, &c, &req[..n]), Ok(vec![0x20]));
    let n = c.change_baud(BaudRate::B19200, &mut req).unwrap();
    assert_eq!(
        answer(&mut s, &c, &req[..n]),
        Err(ClientError::Refused(ErrorCode::BAUD_RATE))
    );
    let n = c.change_baud(BaudRate(0x06), &mut req).unwrap();
    assert_eq!(
        answer(&mut s, &c, &req[..n]),
        Err(ClientError::Refused(ErrorCode::BAUD_RATE))
    );
    assert_eq!(s.meter().baud, Some(BaudRate::B9600));
    // 19H, 1AH, 1BH with the level-2 password; level 4 refused.
    for (i, build) in [Client::clear_max_demand, Client::meter_clear]
        .into_iter()
        .enumerate()
    {
        let n = build(&c, &mut req).unwrap();
        assert_eq!(answer(&mut s, &c, &req[..n]), Ok(vec![]), "{i}");
    }
    let n = c.event_clear(Di(0xFFFF_FFFF), &mut req).unwrap();
    assert_eq!(answer(&mut s, &c, &req[..n]), Ok(vec![]));
    let c4 = c.with_password(Password {
        level: 4,
        code: [0x44; 3],
    });
    let n = c4.meter_clear(&mut req).unwrap();
    assert_eq!(
        answer(&mut s, &c, &req[..n]),
        Err(ClientError::Refused(ErrorCode::UNAUTHORIZED))
    );
    assert_eq!(s.meter().cleared, vec!["demand", "meter", "events"]);
    // 03H: the meter's security layer answers.
    let n = c.security(Di(0x0700_00FF), &[1, 2, 3], &mut req).unwrap();
    assert_eq!(
        answer(&mut s, &c, &req[..n]),
        Ok(vec![0xFF, 0x00, 0x00, 0x07, 3, 2, 1])
    );
    let n = c.security(Di(0x0701_02FF), &[1, 2, 3], &mut req).unwrap();
    assert_eq!(
        answer(&mut s, &c, &req[..n]),
        Err(ClientError::SecurityRefused(SecurityErrorWord::AUTH_FAILED))
    );
    // 01H (1997): forward total, same format as 2007.
    let n = Request::Read1997 { di: Di97(0x9010) }
        .emit(METER.parse().unwrap(), &mut req, 0)
        .unwrap();
    assert_eq!(
        answer(&mut s, &c, &req[..n]),
        Ok(vec![0x10, 0x90, 0x29, 0x01, 0, 0])
    );
    // An unknown function code: error answer "other".
    let n = Request::Other {
        function: 0x1D.into(),
        data: Data::EMPTY,
    }
    .emit(METER.parse().unwrap(), &mut req, 0)
    .unwrap();
    assert_eq!(
        answer(&mut s, &c, &req[..n]),
        Err(ClientError::Refused(ErrorCode::OTHER))
    );
    // 15H last: the answer comes from the new address.
    let new: Address = "000000000777".parse().unwrap();
    let n = c.write_address(new, &mut req).unwrap();
    assert_eq!(answer(&mut s, &Client::new(new), &req[..n]), Ok(vec![]));
    assert_eq!(s.meter().address, new);
    // A wildcard as the new address is refused.
    let n = Client::new(new)
        .write_address(Address::WILDCARD, &mut req)
        .unwrap();
    assert_eq!(
        answer(&mut s, &Client::new(new), &req[..n]),
        Err(ClientError::Refused(ErrorCode::OTHER))
    );
}

#[test]
fn configuration_is_validated_and_preamble_applied() {
    let bad = |c: ServerConfig| Server::new(c).err();
    assert_eq!(
        bad(ServerConfig {
            preamble: 5,
            ..ServerConfig::default()
        }),
        Some(ServerConfigError::Preamble)
    );
    assert_eq!(
        bad(ServerConfig {
            max_read_len: 201,
            ..ServerConfig::default()
        }),
        Some(ServerConfigError::ReadLength)
    );
    assert_eq!(
        bad(ServerConfig {
            relay_level: 10,
            ..ServerConfig::default()
        }),
        Some(ServerConfigError::Level)
    );
    assert_eq!(
        Passwords::default().with(10, [0; 3]),
        Err(ServerConfigError::Level)
    );
    let mut s = Served::new(
        FakeMeter::new(METER),
        ServerConfig {
            preamble: 4,
            ..ServerConfig::default()
        },
    )
    .unwrap();
    let answer = exchange(&mut s, &hex("681200000010206811043335C3338516")).unwrap();
    assert_eq!(
        answer,
        hex("FEFEFEFE681200000010206891083335C33389CB3433C416")
    );
    // A short output buffer: silence, not a panic.
    let mut out = [0u8; 10];
    assert_eq!(
        s.handle(&hex("681200000010206811043335C3338516"), now(), &mut out),
        None
    );
}

#[test]
fn decoded_values_through_the_registry() {
    let mut s = server();
    let mut scratch = [0u8; 255];
    let resp = parse_read(&mut s, Di(0x1D00_0101));
    let v = Client::value(&resp, Di(0x1D00_0101), &mut scratch).unwrap();
    assert_eq!(
        v.to_string(),
        "time=2024-02-01 01:02:03 operator=04030201 forward_active=1.29 reverse_active=0.00"
    );
    let resp = parse_read(&mut s, Di(0x0333_0201));
    assert!(
        matches!(Client::value(&resp, Di(0x0333_0201), &mut scratch), Ok(Value::Number(d)) if d.mantissa == 10)
    );
    let resp = parse_read(&mut s, Di(0x0405_0101));
    assert_eq!(
        Client::price(&resp, Di(0x0405_0101)),
        Ok(Price::from_minor_per_kwh(5_283))
    );
    assert_eq!(
        Client::money(&resp, Di(0x0405_0101)),
        Err(ClientError::UnknownFormat)
    );
    assert_eq!(
        Client::price(&resp, Di(0x0405_0102)),
        Err(ClientError::Unexpected)
    );
}
