//! The sealed flows through `Meter`, end to end over DL/T 645: identity authentication and the
//! status query, sealed relay control, sealed parameter writes, and a key update that
//! survives a restart.

use prepaid_meter::account::{Contacts, RelayState};
use prepaid_meter::endpoint::dlt645::{ClientError, ClockSource};
use prepaid_meter::meter::{
    AUTHENTICATE, KEY_UPDATE, OPEN_ACCOUNT, RECHARGE, STATUS_ANSWER_LEN, STATUS_QUERY, Started,
};
use prepaid_meter::relay::RelayCode;
use prepaid_meter::security::{Command, CommandCounter, RelayControl, Threshold};
use prepaid_meter::units::Price;
use prepaid_meter::wire::dlt645::{
    Data, Di, ErrorCode, OperatorCode, Password, ReadForm, RelayOrder, Request, Response,
    SecurityErrorWord,
};

use crate::rig::*;

const SEALED: Password = Password {
    level: Password::LEVEL_SEALED,
    code: [0; 3],
};
const OPERATOR: OperatorCode = OperatorCode([0x11, 0x22, 0x33, 0x44]);

/// A rig with an account opened with 100 yuan (command counter 1 used).
fn opened() -> (Rig, CommandCounter) {
    let mut rig = Rig::new();
    let mut counter = CommandCounter::new(1);
    let (frame, _) = sealed_03h(
        OPEN_ACCOUNT,
        &Command::OpenAccount(purchase(1, 100)),
        &mut counter,
        0,
    );
    rig.send(&frame);
    (rig, counter)
}

fn seal(command: &Command<'_>, counter: &mut CommandCounter, now: i64) -> Vec<u8> {
    let mut sealed = [0u8; 160];
    let s = sealer(counter.key_version)
        .seal(counter, command, at(now + 600), &mut sealed)
        .unwrap();
    sealed[..s.len].to_vec()
}

fn request(r: &Request<'_>) -> Vec<u8> {
    let mut frame = [0u8; 300];
    let n = client().request(r, &mut frame).unwrap();
    frame[..n].to_vec()
}

fn sealed_relay(sealed: &[u8]) -> Vec<u8> {
    request(&Request::RelayControl {
        password: SEALED,
        operator: OPERATOR,
        order: RelayOrder::Sealed(Data::plain(sealed)),
    })
}

fn sealed_write(di: Di, sealed: &[u8]) -> Vec<u8> {
    request(&Request::Write {
        di,
        password: SEALED,
        operator: OPERATOR,
        value: Data::plain(sealed),
    })
}

#[test]
fn identity_authentication_opens_the_status_query() {
    big_stack(|| {
        let (mut rig, _) = opened();
        let mut status = [0u8; 32];
        let n = client().security(STATUS_QUERY, &[], &mut status).unwrap();
        let status = status[..n].to_vec();
        // Without a session: refused, truthfully.
        let answer = rig.send(&status);
        assert_eq!(
            client().parse_answer(&answer),
            Err(ClientError::SecurityRefused(SecurityErrorWord::AUTH_FAILED))
        );
        // Authenticate (the head-end's challenge, the meter's answer), then ask.
        let mut he = sealer(1);
        let mut req = [0u8; 64];
        let n = he.auth_request(&mut TestRng(99), &mut req).unwrap();
        let mut frame = [0u8; 300];
        let m = client()
            .security(AUTHENTICATE, &req[..n], &mut frame)
            .unwrap();
        let answer = rig.send(&frame[..m]);
        let Response::Security { data, .. } = client().parse_answer(&answer).unwrap() else {
            panic!("not a security answer");
        };
        let mut body = [0u8; 64];
        let len = data.len();
        data.copy_to(&mut body).unwrap();
        let session = he.accept_auth_response(&body[..len], at(rig.secs)).unwrap();
        assert!(session.validity_secs > 0);
        let answer = rig.send(&status);
        let Response::Security { data, .. } = client().parse_answer(&answer).unwrap() else {
            panic!("not a security answer");
        };
        let mut d = [0u8; 32];
        assert_eq!(data.len(), STATUS_ANSWER_LEN);
        data.copy_to(&mut d).unwrap();
        assert_eq!(
            i64::from_be_bytes(d[..8].try_into().unwrap()),
            yuan(100).minor()
        );
        assert_eq!(u32::from_be_bytes(d[8..12].try_into().unwrap()), 1);
        assert_eq!(&d[12..18], &CUSTOMER.to_bytes());
        assert_eq!(u16::from_be_bytes([d[18], d[19]]), 1);
    });
}

#[test]
fn sealed_relay_control_trips_and_a_replay_is_refused() {
    big_stack(|| {
        let (mut rig, mut counter) = opened();
        let trip = Command::RelayControl(RelayControl {
            action: RelayCode::Trip,
            delay: 0,
        });
        let frame = sealed_relay(&seal(&trip, &mut counter, rig.secs));
        let a = rig.meter.receive(at(rig.secs), &frame, &mut rig.rng);
        assert_eq!(a.drive, Some(Contacts::Open));
        rig.act(a).unwrap();
        let answer = rig.meter.transmit().unwrap().to_vec();
        assert!(client().parse_answer(&answer).is_ok());
        assert!(matches!(rig.meter.display().relay, RelayState::Open(_)));
        let record = rig.meter.trips().last(1).copied().unwrap();
        assert_eq!(
            record.operator, OPERATOR.0,
            "the trip record names the operator"
        );
        // The same frame again: refused, nothing moves.
        let a = rig.meter.receive(at(rig.secs), &frame, &mut rig.rng);
        assert_eq!(a.drive, None);
        rig.act(a).unwrap();
        let answer = rig.meter.transmit().unwrap().to_vec();
        assert!(matches!(
            client().parse_answer(&answer),
            Err(ClientError::RelayRefused(_))
        ));
        assert_eq!(rig.meter.trips().len(), 1);
        // A flipped bit: refused too.
        let allow = Command::RelayControl(RelayControl {
            action: RelayCode::ReconnectAllowed,
            delay: 0,
        });
        let mut sealed = seal(&allow, &mut counter, rig.secs);
        let last = sealed.len() - 1;
        sealed[last] ^= 1;
        let answer = rig.send(&sealed_relay(&sealed));
        assert!(matches!(
            client().parse_answer(&answer),
            Err(ClientError::RelayRefused(_))
        ));
        assert!(matches!(rig.meter.display().relay, RelayState::Open(_)));
    });
}

#[test]
fn sealed_writes_change_limits_and_prices_only_for_the_identifier_they_name() {
    big_stack(|| {
        let (mut rig, mut counter) = opened();
        let alarm1 = Di(0x0400_1001);
        let set = Command::SetThreshold {
            threshold: Threshold::Alarm1,
            amount: yuan(30),
        };
        let answer = rig.send(&sealed_write(alarm1, &seal(&set, &mut counter, rig.secs)));
        assert!(client().parse_answer(&answer).is_ok());
        assert_eq!(rig.meter.account().config().limits.alarm1, yuan(30));
        // The same command sent for another limit's identifier: refused, spent.
        let set = Command::SetThreshold {
            threshold: Threshold::Alarm1,
            amount: yuan(40),
        };
        let answer = rig.send(&sealed_write(
            Di(0x0400_1002),
            &seal(&set, &mut counter, rig.secs),
        ));
        assert_eq!(
            client().parse_answer(&answer),
            Err(ClientError::Refused(ErrorCode::OTHER))
        );
        assert_eq!(rig.meter.account().config().limits.alarm1, yuan(30));
        assert_eq!(rig.meter.account().config().limits.alarm2, yuan(10));
        // A price of the active set, by its identifier, in the DL/T 645 encoding.
        let price = Di(0x0405_0101);
        let write = Command::WriteParameter {
            id: price.0,
            data: &[0x00, 0x60, 0x00, 0x00], // 0.6000 yuan/kWh, BCD low byte first
        };
        let answer = rig.send(&sealed_write(price, &seal(&write, &mut counter, rig.secs)));
        assert!(client().parse_answer(&answer).is_ok(), "{answer:02X?}");
        assert_eq!(
            rig.meter.tariff().active().prices()[0],
            Price::from_minor_per_kwh(6_000)
        );
        // The tariff is stored with it: a restart keeps the new price.
        let (rig, started) = rig.restart();
        assert_eq!(started, Started::Restored);
        assert_eq!(
            rig.meter.tariff().active().prices()[0],
            Price::from_minor_per_kwh(6_000)
        );
    });
}

#[test]
fn a_key_update_is_stored_and_old_keys_stop_working() {
    big_stack(|| {
        let (mut rig, mut counter) = opened();
        let update = head_end().key_update(address(), 1).unwrap();
        let (frame, sent) = sealed_03h(KEY_UPDATE, &update, &mut counter, rig.secs);
        let a = rig.meter.receive(at(rig.secs), &frame, &mut rig.rng);
        assert!(a.save.contains(prepaid_meter::meter::Area::Keys));
        rig.act(a).unwrap();
        let answer = rig.meter.transmit().unwrap().to_vec();
        assert!(client().parse_answer(&answer).is_ok());
        assert_eq!(sent.expected_response().key_version, 2);
        assert_eq!(rig.meter.security().state().key_version, 2);
        // Across a power cycle the meter keeps version 2.
        let (mut rig, started) = rig.restart();
        assert_eq!(started, Started::Restored);
        assert_eq!(rig.meter.security().state().key_version, 2);
        // A recharge under the old keys is refused; under the new ones it is credited.
        let (old, _) = sealed_03h(
            RECHARGE,
            &Command::Recharge(purchase(2, 10)),
            &mut counter,
            rig.secs,
        );
        let answer = rig.send(&old);
        assert_eq!(
            client().parse_answer(&answer),
            Err(ClientError::SecurityRefused(
                SecurityErrorWord::VERIFICATION_FAILED
            ))
        );
        let mut v2 = CommandCounter::new(2);
        let (new, sent) = sealed_03h(
            RECHARGE,
            &Command::Recharge(purchase(2, 10)),
            &mut v2,
            rig.secs,
        );
        let answer = rig.send(&new);
        assert_eq!(purchase_reply(&answer, &sent), (yuan(110), 2));
    });
}

/// The meter's clock moves by an 08H broadcast within the policy (5 minutes, once a day) and
/// by any step through a sealed 14H write of the time; every change is logged with who made
/// it, and the log and the clock survive a restart. A replayed sealed write is refused.
#[test]
fn the_clock_moves_by_broadcast_within_policy_and_by_sealed_writes_beyond() {
    use prepaid_meter::time::{Date, DateTime, Time, UtcOffset};
    big_stack(|| {
        let (mut rig, mut counter) = opened();
        let local = |t: prepaid_meter::time::Timestamp| {
            DateTime::from_timestamp(t, UtcOffset::CHINA).unwrap()
        };
        let day = Date::new(2025, 1, 1).unwrap();
        let start = rig.meter.time(at(rig.secs));
        assert_eq!(local(start).date, day); // 08:00 local, far from midnight
        // +2 minutes by broadcast: applied.
        let plus2 = start.checked_add_secs(120).unwrap();
        let frame = request(&Request::BroadcastTime { time: local(plus2) });
        assert_eq!(rig.exchange(&frame).unwrap(), None, "08H is never answered");
        assert_eq!(rig.meter.time(at(rig.secs)), plus2);
        // A second broadcast the same day, and one of six hours: refused, counted.
        let frame = request(&Request::BroadcastTime {
            time: local(plus2.checked_add_secs(60).unwrap()),
        });
        assert_eq!(rig.exchange(&frame).unwrap(), None);
        assert_eq!(rig.meter.time(at(rig.secs)), plus2);
        assert_eq!(rig.meter.server().clock_log().refused, 1);
        // 13:00:00 by a sealed write of the time (04000102, hhmmss): five hours at once.
        let time = Di(0x0400_0102);
        let write = Command::WriteParameter {
            id: time.0,
            data: &[0x00, 0x00, 0x13], // ss mm hh, low byte first
        };
        let sealed = seal(&write, &mut counter, rig.secs);
        let answer = rig.send(&sealed_write(time, &sealed));
        assert!(client().parse_answer(&answer).is_ok(), "{answer:02X?}");
        let one_pm =
            DateTime::new(day, Time::new(13, 0, 0).unwrap()).to_timestamp(UtcOffset::CHINA);
        assert_eq!(rig.meter.time(at(rig.secs)), one_pm);
        // Replayed: refused, the clock stays.
        rig.secs += 10;
        let answer = rig.send(&sealed_write(time, &sealed));
        assert!(client().parse_answer(&answer).is_err());
        assert_eq!(
            rig.meter.time(at(rig.secs)),
            one_pm.checked_add_secs(10).unwrap()
        );
        // Both changes are logged (newest first), with the write's operator, and the server
        // counts both.
        let log: Vec<_> = rig.meter.clock_changes().iter().copied().collect();
        assert_eq!(log.len(), 2);
        let r = |i: usize| log[i].record;
        assert_eq!(
            (r(0).before, r(0).after, r(0).source),
            (plus2, one_pm, ClockSource::Write)
        );
        assert_eq!(log[0].operator, OPERATOR.0);
        assert_eq!(
            (r(1).before, r(1).after, r(1).source),
            (start, plus2, ClockSource::Broadcast)
        );
        assert_eq!(log[1].operator, [0xFF; 4]);
        assert_eq!(rig.meter.server().clock_log().changes, 2);
        assert_eq!(rig.meter.server().clock_log().last, Some(r(0)));
        // Read over DL/T 645: the count (03300400) and the last record (03300401: operator,
        // time before, time after, YYMMDDhhmmss each, low byte first).
        let mut read = |di: u32| {
            let answer = rig.send(&request(&Request::Read {
                di: Di(di),
                form: ReadForm::Single,
            }));
            match client().parse_answer(&answer).unwrap() {
                Response::Read { di: d, data, .. } if d == Di(di) => {
                    data.iter().collect::<Vec<_>>()
                }
                other => panic!("{other:?}"),
            }
        };
        assert_eq!(read(0x0330_0400), [0x02, 0x00, 0x00]);
        let mut want = OPERATOR.0.to_vec();
        want.extend_from_slice(&[0x00, 0x02, 0x08, 0x01, 0x01, 0x25]); // 25-01-01 08:02:00
        want.extend_from_slice(&[0x00, 0x00, 0x13, 0x01, 0x01, 0x25]); // 25-01-01 13:00:00
        assert_eq!(read(0x0330_0401), want);
        // A restart keeps the clock and the log.
        let (rig, started) = rig.restart();
        assert_eq!(started, Started::Restored);
        assert_eq!(
            rig.meter.time(at(rig.secs)),
            one_pm.checked_add_secs(10).unwrap()
        );
        assert_eq!(
            rig.meter
                .clock_changes()
                .iter()
                .copied()
                .collect::<Vec<_>>(),
            log
        );
        assert_eq!(rig.meter.clock_changes().pushed(), 2);
    });
}

/// A clock set back (here by a sealed write of the time) freezes no hour twice: the hours
/// already frozen are skipped until the clock passes them again.
#[test]
fn a_clock_set_back_freezes_no_boundary_twice() {
    use prepaid_meter::time::{Date, DateTime, Time, UtcOffset};
    big_stack(|| {
        let (mut rig, mut counter) = opened();
        let time = Di(0x0400_0102);
        let mut set_time = |rig: &mut Rig, hh: u8| {
            let data = [0x00, 0x00, ((hh / 10) << 4) | (hh % 10)];
            let write = Command::WriteParameter {
                id: time.0,
                data: &data,
            };
            // Valid for ten minutes of the meter's clock, which runs ahead of the caller's.
            let meter_secs = rig.meter.time(at(rig.secs)).unix() - T0;
            let sealed = seal(&write, &mut counter, meter_secs);
            let answer = rig.send(&sealed_write(time, &sealed));
            assert!(client().parse_answer(&answer).is_ok(), "{answer:02X?}");
        };
        let hour = |hh| {
            DateTime::new(Date::new(2025, 1, 1).unwrap(), Time::new(hh, 0, 0).unwrap())
                .to_timestamp(UtcOffset::CHINA)
        };
        let _ = rig.tick(0);
        // 08:00 -> 13:00: the hours 09:00 to 13:00 are frozen at the next tick.
        set_time(&mut rig, 13);
        rig.secs += 1;
        let _ = rig.tick(0);
        let frozen = |rig: &Rig| {
            let mut t: Vec<_> = rig
                .meter
                .freezes()
                .hourly()
                .iter()
                .map(|f| f.time())
                .collect();
            t.reverse();
            t
        };
        assert_eq!(frozen(&rig), [9, 10, 11, 12, 13].map(hour));
        // Back to 10:00, then on to 14:00:30: only 14:00 is new.
        set_time(&mut rig, 10);
        rig.secs += 1;
        let _ = rig.tick(0);
        assert_eq!(frozen(&rig), [9, 10, 11, 12, 13].map(hour));
        rig.secs += 4 * 3600 + 30;
        let _ = rig.tick(0);
        assert_eq!(frozen(&rig), [9, 10, 11, 12, 13, 14].map(hour));
    });
}

/// A step back of the caller's clock that no command made (a real-time clock reset) is
/// logged as a local change, at the tick that sees it and at the first tick after a restart
/// that finds the clock behind; the freezes are not taken twice.
#[test]
fn a_clock_stepped_back_without_a_command_is_logged() {
    big_stack(|| {
        let (mut rig, _) = opened();
        rig.secs = 2 * 3600;
        let _ = rig.tick(0);
        let latest = rig.meter.time(at(rig.secs));
        // The firmware's clock steps back an hour.
        rig.secs -= 3600;
        let _ = rig.tick(0);
        let log: Vec<_> = rig.meter.clock_changes().iter().copied().collect();
        assert_eq!(log.len(), 1);
        assert_eq!(log[0].record.source, ClockSource::Local);
        assert_eq!(
            (log[0].record.before, log[0].record.after),
            (latest, at(rig.secs))
        );
        assert_eq!(log[0].operator, [0xFF; 4]);
        // Seen once: the next ticks run on from the new time.
        rig.secs += 1;
        let _ = rig.tick(0);
        assert_eq!(rig.meter.clock_changes().pushed(), 1);
        // The server made no change.
        assert_eq!(rig.meter.server().clock_log().changes, 0);
        // Forward past the latest time, then a restart with the clock two hours behind it.
        rig.secs += 2 * 3600;
        let _ = rig.tick(0);
        let latest = rig.meter.time(at(rig.secs));
        let (mut rig, started) = Rig::boot(rig.store.release().0, rig.secs - 7200);
        assert_eq!(started, Started::Restored);
        let _ = rig.tick(0);
        let newest = *rig.meter.clock_changes().last(1).unwrap();
        assert_eq!(rig.meter.clock_changes().pushed(), 2);
        assert_eq!(newest.record.source, ClockSource::Local);
        assert_eq!(
            (newest.record.before, newest.record.after),
            (latest, at(rig.secs))
        );
    });
}

/// 15H write address carries no password: the meter refuses it, even where the server would
/// pass it on (`PlaintextPolicy::link`), so the address its keys were derived from stays its
/// address and the head-end keeps reaching it.
#[test]
fn the_meter_keeps_the_address_its_keys_come_from() {
    use prepaid_meter::endpoint::dlt645::PlaintextPolicy;
    use prepaid_meter::meter::{SmallMeter, Stored};
    big_stack(|| {
        for plaintext in [PlaintextPolicy::NONE, PlaintextPolicy::ALL] {
            let mut cfg = config();
            cfg.server.plaintext = plaintext;
            let (mut meter, _) =
                SmallMeter::start_sized(cfg, provisioned(), tariff(), Stored::NONE, at(0)).unwrap();
            let mut frame = [0u8; 64];
            let n = client()
                .write_address("201000000099".parse().unwrap(), &mut frame)
                .unwrap();
            let mut rng = TestRng(0x9E37_79B9_7F4A_7C15);
            let actions = meter.receive(at(1), &frame[..n], &mut rng);
            let answer = meter.transmit().map(<[u8]>::to_vec);
            assert!(actions.save.is_empty(), "{plaintext:?}: nothing to store");
            let answer = answer.expect("an error answer");
            assert!(client().parse_answer(&answer).is_err(), "{plaintext:?}");
            // Still answering at its own address.
            let mut read = [0u8; 64];
            let n = client().read_address(&mut read).unwrap();
            let _ = meter.receive(at(2), &read[..n], &mut rng);
            let answer = meter.transmit().expect("its address").to_vec();
            assert!(client().parse_answer(&answer).is_ok(), "{plaintext:?}");
        }
    });
}
