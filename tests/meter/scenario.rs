//! A prepaid meter's day through `Meter`, checking the outputs at each step: an account opened
//! by a sealed 03H frame, a load that runs the credit down through alarm 1, alarm 2 and the
//! overdraft to the cut-off, a power cut and restart, a second recharge that arms the
//! reconnection, the button, a replayed recharge, and the registers read over DL/T 645.

use prepaid_meter::account::{AlarmFlags, Contacts, RelayState};
use prepaid_meter::endpoint::dlt645::ClientError;
use prepaid_meter::meter::{
    Answer, Area, MeterLogs, OPEN_ACCOUNT, RECHARGE, SmallMeter, Started, Stored, TICK, persist,
};
use prepaid_meter::security::{Command, CommandCounter};
use prepaid_meter::snapshot::Snapshot;
use prepaid_meter::storage::Found;
use prepaid_meter::units::{Energy, Money};
use prepaid_meter::wire::dlt645::{Di, SecurityErrorWord};

use crate::rig::*;

/// 20 kW: 10 yuan an hour at 0.5 yuan/kWh.
const LOAD: u64 = 20_000;

#[test]
fn a_day_of_a_prepaid_meter() {
    big_stack(a_day_of_a_prepaid_meter_body);
}

fn a_day_of_a_prepaid_meter_body() {
    let mut rig = Rig::new();
    let mut counter = CommandCounter::new(1);
    let d = rig.meter.display();
    assert_eq!((d.balance, d.energy), (Money::ZERO, Energy::ZERO));
    assert!(!rig.meter.account().is_open());

    // Commissioning: the head-end opens the account with 30 yuan.
    rig.secs = 60;
    let (frame, sent) = sealed_03h(
        OPEN_ACCOUNT,
        &Command::OpenAccount(purchase(1, 30)),
        &mut counter,
        rig.secs,
    );
    let a = rig.meter.receive(at(rig.secs), &frame, &mut rig.rng);
    assert_eq!(a.answer, Answer::AfterSave);
    assert!(!a.save.is_empty());
    assert!(rig.meter.transmit().is_none(), "no answer before the save");
    rig.act(a).unwrap();
    let answer = rig.meter.transmit().unwrap().to_vec();
    assert_eq!(purchase_reply(&answer, &sent), (yuan(30), 1));
    assert!(rig.meter.transmit().is_none(), "each answer is given once");
    assert_eq!(rig.meter.display().balance, yuan(30));
    assert_eq!(rig.meter.account().purchase_count(), 1);

    // The load runs the credit down.
    let mut carry = 0;
    let first_hour = rig.run(LOAD, 3_600, &mut carry);
    assert!(first_hour.iter().all(|a| a.drive.is_none()));
    assert!(first_hour.iter().all(|a| a.next <= TICK));
    let d = rig.meter.display();
    assert_eq!(d.energy, Energy::from_wh(20_000));
    assert!(d.alarms.contains(AlarmFlags::LOW_CREDIT_1), "{d:?}");
    assert!(!d.alarms.contains(AlarmFlags::LOW_CREDIT_2));
    assert!(rig.meter.indicators().alarm_led);
    // Exactly 10 yuan for 20 kWh at 0.5 yuan/kWh: nothing lost to rounding. The alarm was
    // raised by the last watt-hour, so the buzzer sounds...
    assert_eq!(d.balance, yuan(20));
    assert!(rig.meter.indicators().buzzer);
    let mut second = rig.run(LOAD, 6, &mut carry);
    // ...for a few seconds.
    assert!(!rig.meter.indicators().buzzer);
    assert!(rig.meter.indicators().alarm_led);
    second.extend(rig.run(LOAD, 3_594, &mut carry));
    assert!(second.iter().all(|a| a.drive.is_none()));
    let d = rig.meter.display();
    assert!(d.alarms.contains(AlarmFlags::LOW_CREDIT_2), "{d:?}");
    assert_eq!(d.balance, yuan(10));

    // Zero, then the overdraft, then the cut-off at -5 yuan.
    let rest = rig.run(LOAD, 7_200, &mut carry);
    let trips: Vec<usize> = rest
        .iter()
        .enumerate()
        .filter(|(_, a)| a.drive == Some(Contacts::Open))
        .map(|(i, _)| i)
        .collect();
    assert_eq!(trips.len(), 1, "one trip");
    // 3.5 hours in: 35 yuan used of 30 + 5 of overdraft.
    assert_eq!(
        trips[0] as i64 + 1,
        5_400,
        "the trip comes when the overdraft is used up"
    );
    assert_eq!(rig.relay, Contacts::Open);
    let d = rig.meter.display();
    assert!(matches!(d.relay, RelayState::Open(_)), "{d:?}");
    assert_eq!(d.balance, Money::ZERO);
    assert_eq!(d.overdrawn, yuan(5));
    assert!(d.alarms.contains(AlarmFlags::OVERDRAFT) || d.alarms.contains(AlarmFlags::EXHAUSTED));
    assert_eq!(
        d.energy,
        Energy::from_wh(70_000),
        "no energy after the cut-off"
    );
    assert_eq!(rig.meter.trips().len(), 1);
    assert_eq!(
        rig.meter.trips().last(1).unwrap().forward,
        Energy::from_wh(70_000)
    );
    // The button does nothing while no credit is left.
    let a = rig.meter.button(at(rig.secs));
    assert_eq!(a.drive, None);
    // Hourly freezes were taken (4 hours crossed from 08:01 to 12:01).
    assert_eq!(rig.meter.freezes().hourly().len(), 4);

    // A power cut: the power-fail signal saves everything; the restart restores it.
    let a = rig.meter.power_fail(at(rig.secs));
    assert!(!a.save.is_empty());
    rig.act(a).unwrap();
    let before = rig.meter.hot_state();
    let (logs_before, freezes_before) = (rig.meter.logs().clone(), rig.meter.freezes().clone());
    let (mut rig, started) = rig.restart();
    assert_eq!(started, Started::Restored);
    assert_eq!(rig.meter.hot_state(), before);
    assert_eq!(rig.meter.logs(), &logs_before);
    assert_eq!(rig.meter.freezes(), &freezes_before);
    assert_eq!(
        rig.relay,
        Contacts::Open,
        "the relay is still open after the restart"
    );

    // The second recharge arms the reconnection; the button closes the relay.
    rig.secs += 600;
    let (frame, sent) = sealed_03h(
        RECHARGE,
        &Command::Recharge(purchase(2, 50)),
        &mut counter,
        rig.secs,
    );
    let answer = rig.send(&frame);
    assert_eq!(purchase_reply(&answer, &sent), (yuan(45), 2));
    assert_eq!(
        rig.relay,
        Contacts::Open,
        "the recharge alone does not close the relay"
    );
    assert!(matches!(rig.meter.display().relay, RelayState::Ready(_)));
    let a = rig.meter.button(at(rig.secs));
    assert_eq!(a.drive, Some(Contacts::Closed));
    rig.act(a).unwrap();
    assert_eq!(rig.meter.display().relay, RelayState::Closed);
    assert_eq!(rig.meter.closes().len(), 1);

    // The head-end resends the recharge (its answer was lost): refused, credited once.
    let answer = rig.send(&frame);
    assert!(matches!(
        client().parse_answer(&answer),
        Err(ClientError::SecurityRefused(w)) if w == SecurityErrorWord::REPEATED_RECHARGE
    ));
    assert_eq!(rig.meter.display().balance, yuan(45));
    assert_eq!(rig.meter.account().purchase_count(), 2);

    // A concentrator reads the balance and the energy over DL/T 645.
    let mut req = [0u8; 32];
    let n = client().read(Di(0x0090_0200), &mut req).unwrap();
    let answer = rig.send(&req[..n]);
    let r = client().parse_answer(&answer).unwrap();
    assert_eq!(
        prepaid_meter::endpoint::dlt645::Client::money(&r, Di(0x0090_0200)).unwrap(),
        yuan(45)
    );
    let n = client().read(Di(0x0001_0000), &mut req).unwrap();
    let answer = rig.send(&req[..n]);
    let r = client().parse_answer(&answer).unwrap();
    assert_eq!(
        prepaid_meter::endpoint::dlt645::Client::energy(&r, Di(0x0001_0000)).unwrap(),
        Energy::from_wh(70_000)
    );
}

#[test]
fn a_read_is_answered_at_once_and_changes_nothing() {
    big_stack(a_read_is_answered_at_once_and_changes_nothing_body);
}

fn a_read_is_answered_at_once_and_changes_nothing_body() {
    let mut rig = Rig::new();
    let mut req = [0u8; 32];
    let n = client().read(Di(0x0090_0200), &mut req).unwrap();
    let a = rig.meter.receive(at(0), &req[..n], &mut rig.rng);
    assert_eq!(a.answer, Answer::Ready);
    assert!(a.save.is_empty());
    assert!(rig.meter.transmit().is_some());
    // A frame for another meter is not answered.
    let other = prepaid_meter::endpoint::dlt645::Client::new("201000000013".parse().unwrap());
    let n = other.read(Di(0x0090_0200), &mut req).unwrap();
    let a = rig.meter.receive(at(0), &req[..n], &mut rig.rng);
    assert_eq!(a.answer, Answer::None);
    assert!(rig.meter.transmit().is_none());
}

#[test]
fn frames_wait_while_an_answer_waits_for_its_save() {
    big_stack(frames_wait_while_an_answer_waits_for_its_save_body);
}

fn frames_wait_while_an_answer_waits_for_its_save_body() {
    let mut rig = Rig::new();
    let mut counter = CommandCounter::new(1);
    let (frame, _) = sealed_03h(
        OPEN_ACCOUNT,
        &Command::OpenAccount(purchase(1, 30)),
        &mut counter,
        0,
    );
    let a = rig.meter.receive(at(0), &frame, &mut rig.rng);
    assert_eq!(a.answer, Answer::AfterSave);
    let mut req = [0u8; 32];
    let n = client().read(Di(0x0090_0200), &mut req).unwrap();
    let b = rig.meter.receive(at(0), &req[..n], &mut rig.rng);
    assert_eq!(b.answer, Answer::None, "busy until the save");
    // The save failed: the answer is never sent; the head-end will ask again.
    rig.meter.save_failed();
    assert!(rig.meter.transmit().is_none());
    let b = rig.meter.receive(at(0), &req[..n], &mut rig.rng);
    assert_eq!(
        b.answer,
        Answer::AfterSave,
        "the unsaved state must be saved first"
    );
    rig.act(b).unwrap();
    assert!(rig.meter.transmit().is_some());
    assert!(rig.meter.unsaved().is_empty());
}

/// The M0 budget is 16 KiB of RAM for the whole firmware: the meter itself must leave room for
/// the stack and the drivers (the firmware's size report measures the rest).
#[test]
fn a_small_meter_fits_a_cortex_m0() {
    use prepaid_meter::meter::SmallMeter;
    let size = core::mem::size_of::<SmallMeter>();
    assert!(size <= 10 * 1024, "SmallMeter takes {size} bytes");
}

#[test]
fn start_from_the_store_restores_what_start_restores() {
    big_stack(|| {
        let mut rig = Rig::new();
        let mut counter = prepaid_meter::security::CommandCounter::new(1);
        let (frame, _) = sealed_03h(
            OPEN_ACCOUNT,
            &Command::OpenAccount(purchase(1, 30)),
            &mut counter,
            0,
        );
        rig.send(&frame);
        let mut carry = 0;
        let _ = rig.run(LOAD, 4_000, &mut carry);
        let a = rig.meter.power_fail(at(rig.secs));
        rig.act(a).unwrap();
        let expected = rig.meter.hot_state();
        let mut store = rig.store;
        // `Meter::start_sized` from every record read by hand, one buffer each ...
        let mut bufs = vec![vec![0u8; 3072]; Area::ALL.len()];
        let mut records = Vec::new();
        for (area, buf) in Area::ALL.iter().zip(bufs.iter_mut()) {
            let n = store.read(area.index(), buf).unwrap();
            records.push(n.map(|n| &buf[..n]));
        }
        let stored = Stored {
            hot: records[Area::Hot.index()],
            logs: records[Area::Logs.index()],
            freezes: records[Area::Freezes.index()],
            tariff: records[Area::Tariff.index()],
            keys: records[Area::Keys.index()],
            store_lost: false,
            guard_floor: 0,
        };
        let (by_value, started) =
            SmallMeter::start_sized(config(), provisioned(), tariff(), stored, at(rig.secs))
                .unwrap();
        assert_eq!(started, Started::Restored);
        // ... `Meter::start_in` from the same records ...
        let mut in_slot = None;
        let started = SmallMeter::start_in(
            &mut in_slot,
            config(),
            provisioned(),
            tariff(),
            stored,
            at(rig.secs),
        )
        .unwrap();
        assert_eq!(started, Started::Restored);
        assert_eq!(in_slot.unwrap().hot_state(), expected);
        // ... and `persist::start` in place, area by area through one buffer, into a slot
        // holding another meter (it is replaced).
        let mut slot = Some(Rig::new().meter);
        let mut buf = vec![0u8; 3072];
        let started = persist::start(
            &mut slot,
            &mut store,
            Found::Restored,
            &mut buf,
            &config(),
            provisioned(),
            &tariff(),
            at(rig.secs),
        )
        .unwrap();
        assert_eq!(started, Started::Restored);
        let meter = slot.unwrap();
        assert_eq!(meter.hot_state(), expected);
        assert_eq!(by_value.hot_state(), expected);
        for area in Area::ALL {
            let (mut a, mut b) = ([0u8; 3072], [0u8; 3072]);
            let n = meter.stored_form(area, &mut a).unwrap();
            assert_eq!(by_value.stored_form(area, &mut b), Ok(n), "{area:?}");
            assert_eq!(a[..n], b[..n], "{area:?}");
            assert_eq!(meter.stored_len(area), n, "{area:?}");
        }
        // The stored forms, written from the engines in place, are those of their states.
        let form = |area| {
            let mut out = vec![0u8; 3072];
            let n = meter.stored_form(area, &mut out).unwrap();
            out.truncate(n);
            out
        };
        let emitted = |s: &dyn Fn(&mut [u8]) -> usize| {
            let mut out = vec![0u8; 3072];
            let n = s(&mut out);
            out.truncate(n);
            out
        };
        assert_eq!(
            form(Area::Hot),
            emitted(&|o| meter.hot_state().emit(o).unwrap())
        );
        assert_eq!(
            form(Area::Freezes),
            emitted(&|o| meter.freezes().state().emit(o).unwrap())
        );
        let logs = MeterLogs {
            account: meter.logs().state(),
            trips: meter.trips().state(),
            closes: meter.closes().state(),
            clocks: meter.clock_changes().state(),
        };
        assert!(!meter.logs().purchases().is_empty());
        assert_eq!(form(Area::Logs), emitted(&|o| logs.emit(o).unwrap()));
        assert_eq!(meter.freezes().hourly().len(), 1);
    });
}
