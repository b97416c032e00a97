//! The concentrator over simulated buses: polling and readings, alarms confirmed over
//! consecutive readings and cleared the same way, timeouts, retries and the unreachable state,
//! one exchange per channel at a time, and the head-end's sealed commands forwarded to a real
//! `Meter` and back (a tampered one refused by the meter).
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

#[path = "../support/fake_meter.rs"]
mod fake_meter;
#[path = "../support/rng.rs"]
mod rng_support;

use prepaid_meter::account::{Config, Limits};
use prepaid_meter::address::Address;
use prepaid_meter::concentrator::{
    AlarmChange, Concentrator, ConcentratorConfig, ConcentratorError, CreditLevel, Event,
    MAX_FORWARD_LEN, MeterEntry, Poll,
};
use prepaid_meter::endpoint::dlt645::{Client, ServerConfig};
use prepaid_meter::meter::{Answer, KeyRecord, Meter, MeterConfig, OPEN_ACCOUNT, RECHARGE, Stored};
use prepaid_meter::metering::MeterConstant;
use prepaid_meter::purchase::{CustomerNumber, Purchase};
use prepaid_meter::security::{Command, CommandCounter, MasterKey, SecurityConfig};
use prepaid_meter::tariff::{
    Calendar, DayTable, MonthDay, Season, SwitchPoint, Tariff, TariffSet, Tiers, WeekRule,
};
use prepaid_meter::time::{Duration, Instant, Timestamp, UtcOffset};
use prepaid_meter::units::{Energy, Money, Price};

use fake_meter::{FakeMeter, Served};
use rng_support::TestRng;

fn yuan(y: i64) -> Money {
    Money::from_units(y).unwrap()
}

fn ms(t: u64) -> Instant {
    Instant::from_millis(t)
}

const A: &str = "201000000012";
const B: &str = "201000000013";
const C: &str = "201000000014";

fn addr(s: &str) -> Address {
    s.parse().unwrap()
}

fn config() -> ConcentratorConfig {
    ConcentratorConfig {
        confirm: 2,
        poll_interval: Duration::from_secs(60),
        timeout: Duration::from_millis(500),
        retries: 1,
    }
}

/// Fake meters on buses, answering what the concentrator sends; `silent` ones never answer.
struct Buses {
    meters: Vec<(u8, Served)>,
    silent: Vec<Address>,
    now: Timestamp,
}

impl Buses {
    fn answer(&mut self, channel: u8, frame: &[u8]) -> Option<Vec<u8>> {
        let mut out = [0u8; 300];
        let mut answers = Vec::new();
        for (ch, m) in &mut self.meters {
            if *ch != channel || self.silent.contains(&m.meter.address) {
                continue;
            }
            if let Some(n) = m.handle(frame, self.now, &mut out) {
                answers.push(out[..n].to_vec());
            }
        }
        assert!(answers.len() <= 1, "two meters answered on one bus");
        answers.pop()
    }
}

/// Runs the concentrator and the buses until nothing is due at `now`; returns the events.
fn run(c: &mut Concentrator, buses: &mut Buses, now: Instant) -> Vec<String> {
    let mut events = Vec::new();
    let mut out = [0u8; MAX_FORWARD_LEN];
    loop {
        match c.poll(now, &mut out) {
            Poll::Send { channel, len } => {
                let frame = out[..len].to_vec();
                if let Some(answer) = buses.answer(channel, &frame)
                    && let Some(e) = c.receive(now, channel, &answer)
                {
                    events.push(describe(&e));
                }
            }
            Poll::Event(e) => events.push(describe(&e)),
            Poll::Idle { .. } => return events,
        }
    }
}

fn describe(e: &Event<'_>) -> String {
    match e {
        Event::Read {
            address,
            readings,
            alarm,
            recovered,
        } => format!(
            "read {address} {} {} alarm={alarm:?} recovered={recovered}",
            readings.balance, readings.energy
        ),
        Event::Unreachable { address } => format!("unreachable {address}"),
        Event::Forwarded { tag, address, .. } => format!("forwarded {tag} {address}"),
        Event::ForwardFailed { tag, address } => format!("forward failed {tag} {address}"),
    }
}

fn fake(address: &str, balance: i64) -> Served {
    let mut m = FakeMeter::new(address);
    m.balance = yuan(balance);
    Served::new(m, ServerConfig::default()).unwrap()
}

fn setup() -> (Concentrator, Buses) {
    let mut c: Concentrator = Concentrator::new(config()).unwrap();
    for (a, ch) in [(A, 0), (B, 0), (C, 1)] {
        c.add_meter(MeterEntry {
            address: addr(a),
            channel: ch,
            low_credit: yuan(20),
        })
        .unwrap();
    }
    let buses = Buses {
        meters: vec![(0, fake(A, 100)), (0, fake(B, 15)), (1, fake(C, 50))],
        silent: vec![],
        now: Timestamp::from_unix(1_709_265_600),
    };
    (c, buses)
}

#[test]
fn every_meter_is_read_and_a_low_credit_alarm_needs_two_readings_in_a_row() {
    let (mut c, mut buses) = setup();
    let events = run(&mut c, &mut buses, ms(0));
    assert_eq!(events.len(), 3, "{events:?}");
    assert!(
        events.iter().all(|e| e.contains("alarm=None")),
        "{events:?}"
    );
    let b = c.meter(addr(B)).unwrap();
    assert_eq!(b.last.unwrap().balance, yuan(15));
    // The precise energy block (0060FF00), total and tariffs 1..4, and the purchase count of
    // the last purchase (03330201: the fake meter's last purchase is its tenth).
    let kwh = |c| Energy::from_centi_kwh(c).unwrap();
    assert_eq!(b.last.unwrap().energy, kwh(129));
    assert_eq!(
        b.last.unwrap().energy_by_tariff,
        [kwh(62), kwh(60), kwh(3), kwh(2)]
    );
    assert_eq!(b.last.unwrap().purchase_count, 10);
    assert_eq!(b.level, CreditLevel::Normal);
    // Not due again before the interval.
    assert!(run(&mut c, &mut buses, ms(30_000)).is_empty());
    // The second low reading confirms the alarm, reported once.
    let events = run(&mut c, &mut buses, ms(60_000));
    let alarm = Some(AlarmChange {
        from: CreditLevel::Normal,
        to: CreditLevel::Low,
    });
    assert!(
        events
            .iter()
            .any(|e| e.starts_with(&format!("read {B}")) && e.contains(&format!("alarm={alarm:?}"))),
        "{events:?}"
    );
    assert_eq!(c.meter(addr(B)).unwrap().level, CreditLevel::Low);
    let events = run(&mut c, &mut buses, ms(120_000));
    assert!(
        events.iter().all(|e| e.contains("alarm=None")),
        "{events:?}"
    );
    // A recharge lifts the balance: cleared after two readings in a row.
    buses.meters[1].1.meter.balance = yuan(80);
    assert!(
        run(&mut c, &mut buses, ms(180_000))
            .iter()
            .all(|e| e.contains("alarm=None"))
    );
    let events = run(&mut c, &mut buses, ms(240_000));
    let cleared = Some(AlarmChange {
        from: CreditLevel::Low,
        to: CreditLevel::Normal,
    });
    assert!(
        events
            .iter()
            .any(|e| e.contains(&format!("alarm={cleared:?}"))),
        "{events:?}"
    );
}

#[test]
fn a_silent_meter_is_retried_then_reported_unreachable_once_and_recovers() {
    let (mut c, mut buses) = setup();
    buses.silent.push(addr(C));
    let mut events = run(&mut c, &mut buses, ms(0));
    // Its read goes out again after the timeout, then it is given up.
    events.extend(run(&mut c, &mut buses, ms(500)));
    assert!(
        !events.iter().any(|e| e.starts_with("unreachable")),
        "{events:?}"
    );
    events.extend(run(&mut c, &mut buses, ms(1_000)));
    assert_eq!(
        events
            .iter()
            .filter(|e| e.starts_with("unreachable"))
            .count(),
        1,
        "{events:?}"
    );
    assert!(c.meter(addr(C)).unwrap().unreachable);
    // Still silent at the next poll: not reported again.
    let mut later = run(&mut c, &mut buses, ms(61_000));
    later.extend(run(&mut c, &mut buses, ms(61_500)));
    later.extend(run(&mut c, &mut buses, ms(62_000)));
    assert!(
        !later.iter().any(|e| e.starts_with("unreachable")),
        "{later:?}"
    );
    // It answers again.
    buses.silent.clear();
    let events = run(&mut c, &mut buses, ms(122_000));
    assert!(
        events
            .iter()
            .any(|e| e.starts_with(&format!("read {C}")) && e.contains("recovered=true")),
        "{events:?}"
    );
    assert!(!c.meter(addr(C)).unwrap().unreachable);
}

/// One exchange per channel: while a read waits on channel 0, nothing else goes out there,
/// but channel 1 is served.
#[test]
fn one_exchange_at_a_time_on_each_channel() {
    let (mut c, _) = setup();
    let mut out = [0u8; MAX_FORWARD_LEN];
    let mut channels = Vec::new();
    while let Poll::Send { channel, .. } = c.poll(ms(0), &mut out) {
        channels.push(channel);
    }
    assert_eq!(channels, [0, 1]);
    // A frame on a channel with nothing in flight, or from another meter, is ignored.
    let mut answer = [0u8; 64];
    let n = Client::new(addr(C))
        .read(prepaid_meter::wire::dlt645::Di(0x0001_0000), &mut answer)
        .unwrap();
    assert_eq!(c.receive(ms(1), 3, &answer[..n]), None);
    assert_eq!(c.receive(ms(1), 0, &answer[..n]), None);
}

#[test]
fn table_and_queue_refusals_change_nothing() {
    let mut c: Concentrator<2, 2, 1> = Concentrator::new(config()).unwrap();
    let entry = |a: &str, ch| MeterEntry {
        address: addr(a),
        channel: ch,
        low_credit: yuan(20),
    };
    assert_eq!(c.add_meter(entry(A, 2)), Err(ConcentratorError::Channel));
    c.add_meter(entry(A, 0)).unwrap();
    assert_eq!(c.add_meter(entry(A, 1)), Err(ConcentratorError::Duplicate));
    c.add_meter(entry(B, 1)).unwrap();
    assert_eq!(c.add_meter(entry(C, 1)), Err(ConcentratorError::TableFull));
    assert_eq!(c.meters().count(), 2);
    assert_eq!(
        c.forward(addr(C), &[0x68], 1),
        Err(ConcentratorError::UnknownMeter)
    );
    assert_eq!(
        c.forward(addr(A), &[], 1),
        Err(ConcentratorError::FrameLength)
    );
    assert_eq!(
        c.forward(addr(A), &[0u8; MAX_FORWARD_LEN + 1], 1),
        Err(ConcentratorError::FrameLength)
    );
    c.forward(addr(A), &[0x68], 1).unwrap();
    assert_eq!(
        c.forward(addr(A), &[0x68], 2),
        Err(ConcentratorError::QueueFull)
    );
    assert_eq!(
        Concentrator::<2, 2, 1>::new(ConcentratorConfig {
            confirm: 0,
            ..config()
        })
        .unwrap_err(),
        ConcentratorError::Config
    );
}

// A real meter behind the concentrator, for the sealed forwards.

fn flat_tariff() -> Tariff {
    let day = DayTable::new(&[SwitchPoint::new(0, 0, 1)]).unwrap();
    let season = Season {
        start: MonthDay::new(1, 1),
        week: WeekRule::uniform(1),
    };
    let cal = Calendar::new(&[season], &[day]).unwrap();
    Tariff::new(
        UtcOffset::CHINA,
        &[],
        TariffSet::new(cal, &[Price::from_minor_per_kwh(5_000)], Tiers::none()).unwrap(),
    )
    .unwrap()
}

#[test]
fn a_sealed_recharge_is_forwarded_end_to_end_and_a_tampered_one_is_refused_by_the_meter() {
    let start = Timestamp::from_unix(1_764_554_400);
    let master = MasterKey::new(&[0x42; 16], SecurityConfig::DEFAULT.tag_len());
    let address = addr(A);
    let keys = KeyRecord::new(1, &master.meter_keys(address, 1));
    let limits = Limits {
        alarm1: yuan(20),
        alarm2: yuan(10),
        overdraft: yuan(5),
        hoarding: yuan(5_000),
        reconnect: yuan(1),
    };
    let meter_config = MeterConfig::new(
        address,
        MeterConstant::new(1600).unwrap(),
        Config::local(limits),
    );
    let (meter, _) = Meter::start(meter_config, keys, flat_tariff(), Stored::NONE, start).unwrap();
    let mut meter = Box::new(meter);
    let mut rng = TestRng(7);
    let mut c: Concentrator = Concentrator::new(config()).unwrap();
    c.add_meter(MeterEntry {
        address,
        channel: 0,
        low_credit: yuan(20),
    })
    .unwrap();

    // The head-end seals and sends; the concentrator forwards byte for byte.
    let mut counter = CommandCounter::new(1);
    let mut sealed_frame = |command: &Command<'_>, di| {
        let mut sealed = [0u8; 128];
        let s = master
            .meter(address, 1)
            .seal(
                &mut counter,
                command,
                start.checked_add_secs(600).unwrap(),
                &mut sealed,
            )
            .unwrap();
        let mut frame = [0u8; 300];
        let n = Client::new(address)
            .security(di, &sealed[..s.len], &mut frame)
            .unwrap();
        frame[..n].to_vec()
    };
    let customer = CustomerNumber::new([1, 0, 0, 0, 0, 0]);
    let open = sealed_frame(
        &Command::OpenAccount(Purchase {
            customer,
            count: 1,
            amount: yuan(100),
        }),
        OPEN_ACCOUNT,
    );
    let recharge = sealed_frame(
        &Command::Recharge(Purchase {
            customer,
            count: 2,
            amount: yuan(50),
        }),
        RECHARGE,
    );
    let mut tampered = recharge.clone();
    let k = tampered.len() - 5;
    tampered[k] ^= 0x01; // a byte of the tag, checksum left as it was
    let cs = tampered.len() - 2;
    tampered[cs] = tampered[cs].wrapping_add(0x01); // the frame still checks, the tag does not

    let exchange = |c: &mut Concentrator,
                    meter: &mut Meter,
                    rng: &mut TestRng,
                    frame: &[u8],
                    tag: u32|
     -> Vec<u8> {
        c.forward(address, frame, tag).unwrap();
        let mut out = [0u8; MAX_FORWARD_LEN];
        let Poll::Send { channel, len } = c.poll(ms(0), &mut out) else {
            panic!("the forward goes out first")
        };
        assert_eq!(&out[..len], frame, "forwarded byte for byte");
        let actions = meter.receive(start, &out[..len], rng);
        if actions.answer == Answer::AfterSave {
            meter.saved(actions.save);
        }
        let answer = meter.transmit().expect("the meter answers").to_vec();
        match c.receive(ms(1), channel, &answer) {
            Some(Event::Forwarded {
                tag: t, answer: a, ..
            }) => {
                assert_eq!(t, tag);
                a.to_vec()
            }
            other => panic!("{other:?}"),
        }
    };
    let answer = exchange(&mut c, &mut meter, &mut rng, &open, 1);
    assert!(Client::new(address).parse_answer(&answer).is_ok());
    let answer = exchange(&mut c, &mut meter, &mut rng, &tampered, 2);
    assert!(
        Client::new(address).parse_answer(&answer).is_err(),
        "the meter refuses a tampered forward"
    );
    assert_eq!(meter.account().balance(), yuan(100));
    let answer = exchange(&mut c, &mut meter, &mut rng, &recharge, 3);
    assert!(Client::new(address).parse_answer(&answer).is_ok());
    assert_eq!(meter.account().balance(), yuan(150));
}

/// An output buffer too short for a forward loses nothing: the forward waits for a poll with
/// room for it, still ahead of the channel's reads.
#[test]
fn a_forward_that_does_not_fit_the_output_waits_for_room() {
    let mut c: Concentrator = Concentrator::new(config()).unwrap();
    c.add_meter(MeterEntry {
        address: addr(A),
        channel: 0,
        low_credit: yuan(20),
    })
    .unwrap();
    let frame = [0x68u8; 40];
    c.forward(addr(A), &frame, 7).unwrap();
    let mut small = [0u8; 30];
    assert!(matches!(c.poll(ms(0), &mut small), Poll::Idle { .. }));
    let mut out = [0u8; MAX_FORWARD_LEN];
    match c.poll(ms(0), &mut out) {
        Poll::Send { channel: 0, len } => assert_eq!(&out[..len], &frame[..]),
        other => panic!("{other:?}"),
    }
}

/// Issue 13: the head-end's current-readings query (Q/GDW 1376.1 AFN 0CH F129 and F167)
/// answered from the concentrator's last readings, in a whole uplink frame, and read back by
/// the head-end as the meter reported it.
#[test]
fn current_readings_go_upstream_as_afn_0ch_f129_and_f167() {
    use prepaid_meter::time::{Date, DateTime, Time};
    use prepaid_meter::wire::gdw1376::{
        self, Control, Current, Direction, F129, F167, FrameRepr, Seq, afn,
    };
    let (mut c, mut buses) = setup();
    run(&mut c, &mut buses, ms(0));
    let b = c.meter(addr(B)).unwrap().last.unwrap();
    // The head-end asks for both items of measurement point 2.
    let mut request = [0u8; 8];
    let n = gdw1376::emit_request(&[2], &[F129, F167], &mut request).unwrap();
    assert_eq!(n, 8);
    let read_at = DateTime::new(Date::new(2024, 3, 1).unwrap(), Time::new(12, 0, 0).unwrap());
    let items = [
        Current::ForwardEnergy(b.forward_energy(read_at)),
        Current::PurchaseInfo(b.purchase_info(read_at)),
    ];
    let mut units = vec![0u8; items.iter().map(Current::buffer_len).sum()];
    let mut pos = 0;
    for item in &items {
        pos += item.emit(2, &mut units[pos..]).unwrap();
    }
    let frame = FrameRepr {
        protocol: gdw1376::PROTOCOL_1376_1,
        control: Control {
            direction: Direction::Uplink,
            prm: false,
            d5: false,
            fcv: false,
            function: 8,
        },
        address: gdw1376::Address {
            region: 0x0200,
            terminal: 0x1234,
            master: 1,
            group: false,
        },
        afn: afn::CLASS_1_DATA,
        seq: Seq {
            tpv: false,
            first: true,
            last: true,
            confirm: false,
            number: 1,
        },
        units: &units,
        pw: None,
        ec: None,
        tp: None,
    };
    let mut wire = vec![0u8; frame.buffer_len()];
    let n = frame.emit(&mut wire).unwrap();
    // The head-end's side: parse the frame and its two units.
    let parsed = FrameRepr::parse(&wire[..n]).unwrap();
    assert_eq!(parsed.afn, afn::CLASS_1_DATA);
    let (p1, energy, rest) = Current::parse(parsed.units).unwrap();
    let (p2, purchase, rest) = Current::parse(rest).unwrap();
    assert!(rest.is_empty());
    assert_eq!((p1, p2), (2, 2));
    let Current::ForwardEnergy(e) = energy else {
        panic!("{energy:?}")
    };
    assert_eq!(e.total, Some(u64::try_from(b.energy.wh()).unwrap() * 10));
    assert_eq!(e.tariffs.len(), 4);
    assert_eq!(e.tariffs[0], Some(620 * 10), "tariff 1: 0.62 kWh");
    assert_eq!(e.read_at, Some(read_at));
    let Current::PurchaseInfo(p) = purchase else {
        panic!("{purchase:?}")
    };
    assert_eq!(p.balance, Some(yuan(15)));
    assert_eq!(p.purchase_count, Some(10));
}
