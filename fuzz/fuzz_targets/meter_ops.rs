//! The meter application on arbitrary sequences of inputs (ticks with the clock moving either
//! way, received frames, sealed recharges with bits flipped, the button, power failures, relay
//! feedback, the cover, saves that succeed or fail) never panics, and:
//!
//! - the guard (key version and command counter) never goes back, and over a restart not
//!   below what was saved;
//! - the account's totals always add up to its balance;
//! - every clock change is logged: each command's change in the server's clock log and the
//!   meter's clock-change log alike, each step back of the caller's clock in the meter's as a
//!   local change, and the meter's clock moves against the caller's only by a logged change;
//! - an answer that waits for a save is never given before the save;
//! - the hot state's stored form always parses back to the same state, and a meter started
//!   from the stored forms holds that state.
#![no_main]

use arbitrary::Arbitrary;
use libfuzzer_sys::fuzz_target;
use prepaid_meter::account::{Config, Contacts, Limits};
use prepaid_meter::address::Address;
use prepaid_meter::endpoint::dlt645::{Client, ClockSource};
use prepaid_meter::meter::{
    Answer, Area, KeyRecord, MeterConfig, MeterState, RECHARGE, SmallMeter, SmallTariff, Stored,
};
use prepaid_meter::metering::MeterConstant;
use prepaid_meter::purchase::{CustomerNumber, Purchase};
use prepaid_meter::security::{Command, CommandCounter, MasterKey, SecurityConfig};
use prepaid_meter::snapshot::Snapshot;
use prepaid_meter::tariff::{
    Calendar, DayTable, MonthDay, Season, SwitchPoint, TariffSet, Tiers, WeekRule,
};
use prepaid_meter::time::{Timestamp, UtcOffset};
use prepaid_meter::units::{Money, Price};
use prepaid_meter::wire::dlt645::{Data, Di, OperatorCode, Password, Request};

#[path = "../../tests/support/rng.rs"]
mod rng;

#[derive(Arbitrary, Debug)]
enum Op {
    Tick {
        dt: i16,
        pulses: u16,
    },
    Frame(Vec<u8>),
    Recharge {
        count: u8,
        yuan: u16,
        flip: Option<(u8, u8)>,
    },
    /// A sealed 14H write of the time (04000102) to `hh:mm:ss`, bits possibly flipped.
    SealedTime {
        hh: u8,
        mm: u8,
        ss: u8,
        flip: Option<(u8, u8)>,
    },
    Button,
    PowerFail,
    Feedback(bool),
    Cover(bool),
    Save(bool),
    Restart,
}

fn tariff() -> SmallTariff {
    let day =
        DayTable::<8>::new_sized(&[SwitchPoint::new(0, 0, 1), SwitchPoint::new(8, 0, 2)]).unwrap();
    let season = Season {
        start: MonthDay::new(1, 1),
        week: WeekRule::uniform(1),
    };
    let prices = [5_000, 8_000].map(Price::from_minor_per_kwh);
    let set = TariffSet::new_sized(
        Calendar::<4, 4, 8>::new_sized(&[season], &[day]).unwrap(),
        &prices,
        Tiers::none(),
    )
    .unwrap();
    SmallTariff::new_sized(UtcOffset::CHINA, &[], set).unwrap()
}

fn config(address: Address) -> MeterConfig {
    let y = |v| Money::from_units(v).unwrap();
    let limits = Limits {
        alarm1: y(20),
        alarm2: y(10),
        overdraft: y(5),
        hoarding: y(1_000),
        reconnect: y(0),
    };
    MeterConfig::new(
        address,
        MeterConstant::new(1_000).unwrap(),
        Config::local(limits),
    )
}

/// `command` sealed for the meter with `counter` (advanced), valid for an hour from `now`.
fn seal(
    master: &MasterKey,
    address: Address,
    counter: &mut CommandCounter,
    command: &Command<'_>,
    now: i64,
) -> Option<Vec<u8>> {
    let mut sealed = [0u8; 160];
    let s = master
        .meter(address, 1)
        .seal(
            counter,
            command,
            Timestamp::from_unix(now + 3_600),
            &mut sealed,
        )
        .ok()?;
    Some(sealed[..s.len].to_vec())
}

/// Flips bit `bit % 8` of byte `at % len`, if asked.
fn flip_bit(frame: &mut [u8], flip: Option<(u8, u8)>) {
    if let Some((at, bit)) = flip
        && !frame.is_empty()
    {
        let i = usize::from(at) % frame.len();
        frame[i] ^= 1 << (bit % 8);
    }
}

/// The stored forms of every area.
fn stored_forms(meter: &SmallMeter) -> Vec<Vec<u8>> {
    Area::ALL
        .iter()
        .map(|a| {
            let mut buf = vec![0u8; meter.stored_len(*a)];
            let n = meter.stored_form(*a, &mut buf).unwrap();
            buf.truncate(n);
            buf
        })
        .collect()
}

fn start(address: Address, keys: &KeyRecord, forms: Option<&[Vec<u8>]>, now: i64) -> SmallMeter {
    let stored = match forms {
        None => Stored::NONE,
        Some(f) => Stored {
            hot: Some(&f[0]),
            logs: Some(&f[1]),
            freezes: Some(&f[2]),
            tariff: Some(&f[3]),
            keys: Some(&f[4]),
            ..Stored::NONE
        },
    };
    let (meter, _) = SmallMeter::start_sized(
        config(address),
        keys.clone(),
        tariff(),
        stored,
        Timestamp::from_unix(now),
    )
    .unwrap();
    meter
}

fuzz_target!(|ops: Vec<Op>| {
    let address: Address = "201000000012".parse().unwrap();
    let master = MasterKey::new(&[0x5A; 16], SecurityConfig::DEFAULT.tag_len());
    let keys = KeyRecord::new(1, &master.meter_keys(address, 1));
    let mut now = 1_735_689_600i64;
    let mut meter = start(address, &keys, None, now);
    let mut rng = rng::TestRng(0x1234_5678_9ABC_DEF1);
    let mut counter = CommandCounter::new(1);
    // What the store would hold: the forms as of the last successful save.
    let mut saved: Option<Vec<Vec<u8>>> = None;
    let mut guard = meter.guard();
    let mut saved_guard = guard;
    for op in ops.into_iter().take(64) {
        let t = Timestamp::from_unix(now);
        let (clock_before, changes_before) = (meter.time(t), meter.clock_changes().pushed());
        let server_before = meter.server().clock_log().changes;
        let restart = matches!(op, Op::Restart);
        let actions = match op {
            Op::Tick { dt, pulses } => {
                // The horizon never lies in the past.
                let h = meter.horizon(t);
                assert!(h.until > meter.time(t), "{h:?}");
                now += i64::from(dt);
                Some(meter.tick(Timestamp::from_unix(now), u32::from(pulses)))
            }
            Op::Frame(bytes) => Some(meter.receive(t, &bytes, &mut rng)),
            Op::Recharge { count, yuan, flip } => {
                let purchase = Purchase {
                    customer: CustomerNumber::new([1, 0, 0, 0, 0, 0]),
                    count: u32::from(count),
                    amount: Money::from_units(i64::from(yuan)).unwrap(),
                };
                let command = if count <= 1 {
                    Command::OpenAccount(purchase)
                } else {
                    Command::Recharge(purchase)
                };
                let di = if count <= 1 {
                    prepaid_meter::meter::OPEN_ACCOUNT
                } else {
                    RECHARGE
                };
                let Some(sealed) = seal(&master, address, &mut counter, &command, now) else {
                    continue;
                };
                let mut frame = [0u8; 300];
                let n = Client::new(address)
                    .security(di, &sealed, &mut frame)
                    .unwrap();
                flip_bit(&mut frame[..n], flip);
                Some(meter.receive(t, &frame[..n], &mut rng))
            }
            Op::SealedTime { hh, mm, ss, flip } => {
                let bcd = |v: u8| prepaid_meter::bcd::encode_byte(v % 100).unwrap();
                let data = [bcd(ss), bcd(mm), bcd(hh)];
                let command = Command::WriteParameter {
                    id: 0x0400_0102,
                    data: &data,
                };
                let Some(sealed) = seal(&master, address, &mut counter, &command, now) else {
                    continue;
                };
                let request = Request::Write {
                    di: Di(0x0400_0102),
                    password: Password {
                        level: Password::LEVEL_SEALED,
                        code: [0; 3],
                    },
                    operator: OperatorCode([0; 4]),
                    value: Data::plain(&sealed),
                };
                let mut frame = [0u8; 300];
                let n = Client::new(address).request(&request, &mut frame).unwrap();
                flip_bit(&mut frame[..n], flip);
                Some(meter.receive(t, &frame[..n], &mut rng))
            }
            Op::Button => Some(meter.button(t)),
            Op::PowerFail => Some(meter.power_fail(t)),
            Op::Feedback(closed) => Some(meter.relay_feedback(
                t,
                if closed {
                    Contacts::Closed
                } else {
                    Contacts::Open
                },
            )),
            Op::Cover(open) => Some(meter.cover(t, open)),
            Op::Save(ok) => {
                let areas = meter.unsaved();
                if ok {
                    saved = Some(stored_forms(&meter));
                    saved_guard = meter.guard();
                    meter.saved(areas);
                    // An answer that waited may go now (the firmware sends it).
                    let _ = meter.transmit();
                } else {
                    meter.save_failed();
                    assert!(meter.transmit().is_none(), "an answer after a failed save");
                }
                None
            }
            Op::Restart => {
                // Power cycle: back to what was last saved.
                meter = start(address, &keys, saved.as_deref(), now);
                assert!(
                    meter.guard() >= saved_guard,
                    "the guard went back over a restart"
                );
                guard = meter.guard();
                None
            }
        };
        if let Some(a) = actions {
            match a.answer {
                Answer::AfterSave => {
                    assert!(meter.transmit().is_none(), "an answer before its save")
                }
                Answer::Ready => assert!(meter.transmit().is_some()),
                Answer::None => {}
            }
        }
        if !restart {
            let changes = meter.clock_changes().pushed();
            let by_commands = meter.server().clock_log().changes - server_before;
            let locals = meter
                .clock_changes()
                .iter()
                .take((changes - changes_before) as usize)
                .filter(|c| c.record.source == ClockSource::Local)
                .count() as u32;
            assert!(locals <= 1, "one input logs one local step at most");
            assert_eq!(changes - changes_before, by_commands + locals);
            if changes == changes_before {
                // No change logged: the meter's clock is the caller's plus the same offset.
                let offset = |c: Timestamp, at: Timestamp| c.checked_secs_since(at);
                assert_eq!(
                    offset(
                        meter.time(Timestamp::from_unix(now)),
                        Timestamp::from_unix(now)
                    ),
                    offset(clock_before, t),
                    "the clock moved without a logged change"
                );
            }
        }
        let g = meter.guard();
        assert!(g >= guard, "the guard went back");
        guard = g;
        let account = meter.account();
        assert_eq!(account.totals().expected_balance(), Some(account.balance()));
        let hot = meter.hot_state();
        let mut buf = vec![0u8; hot.buffer_len()];
        let n = hot.emit(&mut buf).unwrap();
        assert_eq!(MeterState::parse(&buf[..n]).unwrap(), hot);
    }
    // A meter started from the stored forms holds the same state.
    let forms = stored_forms(&meter);
    let restarted = start(address, &keys, Some(&forms), now);
    assert_eq!(restarted.hot_state(), meter.hot_state());
    assert_eq!(restarted.logs(), meter.logs());
    assert_eq!(restarted.freezes(), meter.freezes());
});
