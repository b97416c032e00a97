//! The head-end with real meters behind a concentrator: vending through sealed frames, a lost
//! answer retried without crediting twice, a lossy concentrator that loses no payment, shadow
//! accounts that agree with the meters to the minor unit, a price campaign, notifications,
//! and the SQLite ledger carrying a head-end across a restart.
#![cfg(feature = "std")]
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
#![allow(clippy::indexing_slicing)] // test code: a failed expectation fails

#[path = "../support/rng.rs"]
mod rng_support;

use prepaid_meter::account::Contacts;
use prepaid_meter::account::{Config, Limits};
use prepaid_meter::address::Address;
use prepaid_meter::concentrator::{
    Concentrator, ConcentratorConfig, Event, MAX_FORWARD_LEN, MeterEntry, Poll,
};
use prepaid_meter::headend::{
    self, Alerts, HeadEnd, HeadEndConfig, Ledger, MemoryLedger, MeterRecord, Notification,
    NotificationKind, PaymentState, Reading,
};
use prepaid_meter::meter::{KeyRecord, Meter, MeterConfig, Stored};
use prepaid_meter::metering::MeterConstant;
use prepaid_meter::purchase::CustomerNumber;
use prepaid_meter::security::{MasterKey, SecurityConfig};
use prepaid_meter::tariff::{
    Calendar, DayTable, MonthDay, Season, SwitchPoint, Tariff, TariffSet, Tiers, WeekRule,
};
use prepaid_meter::time::{Duration, Instant, Timestamp, UtcOffset};
use prepaid_meter::units::{Money, Price};
use prepaid_meter::wire::dlt645::skip_preamble;

use rng_support::TestRng;

/// 2026-12-01T00:00:00+08:00.
const START: i64 = 1_764_518_400;
const MINUTE: i64 = 60;

fn yuan(y: i64) -> Money {
    Money::from_units(y).unwrap()
}

/// Two rates: valley (tariff 4) 22:00-08:00 at 0.30, flat (tariff 3) 08:00-22:00 at 0.60.
fn tou() -> Tariff {
    let day = DayTable::new(&[
        SwitchPoint::new(0, 0, 4),
        SwitchPoint::new(8, 0, 3),
        SwitchPoint::new(22, 0, 4),
    ])
    .unwrap();
    let season = Season {
        start: MonthDay::new(1, 1),
        week: WeekRule::uniform(1),
    };
    let prices = [1_2000, 9_000, 6_000, 3_000].map(Price::from_minor_per_kwh);
    let set = TariffSet::new(
        Calendar::new(&[season], &[day]).unwrap(),
        &prices,
        Tiers::none(),
    )
    .unwrap();
    Tariff::new(UtcOffset::CHINA, &[], set).unwrap()
}

fn limits() -> Limits<Money> {
    Limits {
        alarm1: yuan(20),
        alarm2: yuan(10),
        overdraft: yuan(5),
        hoarding: yuan(5_000),
        reconnect: yuan(0),
    }
}

fn alerts() -> Alerts {
    Alerts {
        alarm1: yuan(20),
        alarm2: yuan(10),
        overdraft: yuan(5),
    }
}

/// What the concentrator's channel does to frames.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Fault {
    None,
    /// Drop the meter's answers to the first `n` forwards.
    DropAnswers(u32),
    /// Drop or corrupt one frame in `n`, either way, at random.
    Lossy(u64),
}

/// A head-end, a concentrator and real meters, run minute by minute.
struct System<L: Ledger> {
    head: HeadEnd<L, Vec<Notification>>,
    conc: Concentrator,
    meters: Vec<(Address, Meter, u32)>,
    master: MasterKey,
    rng: TestRng,
    now: Timestamp,
    fault: Fault,
    forwards_answered: u32,
    events: Vec<headend::Event>,
}

const METER_CONSTANT: u32 = 1_000; // one pulse per Wh

impl<L: Ledger> System<L>
where
    L::Error: core::fmt::Debug,
{
    /// Meters with constant loads in watts (a multiple of 60 W: whole Wh each minute).
    fn new(ledger: L, loads: &[u32], fault: Fault) -> System<L> {
        System::with(ledger, loads, fault, HeadEndConfig::default(), 2)
    }

    fn with(
        ledger: L,
        loads: &[u32],
        fault: Fault,
        config: HeadEndConfig,
        retries: u8,
    ) -> System<L> {
        let master = MasterKey::new(&[0x42; 16], SecurityConfig::DEFAULT.tag_len());
        let now = Timestamp::from_unix(START);
        let head = HeadEnd::new(config, ledger, Vec::new()).unwrap();
        let conc = Concentrator::new(ConcentratorConfig {
            confirm: 2,
            poll_interval: Duration::from_secs(15 * 60),
            timeout: Duration::from_millis(2_000),
            retries,
        })
        .unwrap();
        let mut s = System {
            head,
            conc,
            meters: Vec::new(),
            master,
            rng: TestRng(0x9E37_79B9),
            now,
            fault,
            forwards_answered: 0,
            events: Vec::new(),
        };
        for (i, &watts) in loads.iter().enumerate() {
            let address = Address::from_number(202_700_000_001 + i as u64).unwrap();
            s.add(address, watts);
        }
        // The commissioning reading: every shadow starts from the meter's registers at zero.
        s.exchange();
        s
    }

    fn add(&mut self, address: Address, watts: u32) {
        let keys = KeyRecord::new(1, &self.master.meter_keys(address, 1));
        let config = MeterConfig::new(
            address,
            MeterConstant::new(METER_CONSTANT).unwrap(),
            Config::local(limits()),
        );
        let (meter, _) = Meter::start(config, keys, tou(), Stored::NONE, self.now).unwrap();
        self.head
            .add_meter(MeterRecord {
                address,
                customer: CustomerNumber::new([0, 0, 0, 0, 0x12, 0x34]),
                sealer: self.master.meter(address, 1),
                tariff: tou(),
                account: Config::local(limits()),
                alerts: alerts(),
            })
            .unwrap();
        self.conc
            .add_meter(MeterEntry {
                address,
                channel: 0,
                low_credit: yuan(20),
            })
            .unwrap();
        self.meters.push((address, meter, watts));
    }

    fn instant(&self) -> Instant {
        Instant::from_millis(u64::try_from(self.now.unix() - START).unwrap() * 1_000)
    }

    fn meter(&self, address: Address) -> &Meter {
        &self.meters.iter().find(|m| m.0 == address).unwrap().1
    }

    /// A frame through the lossy channel: `None` if it was lost, maybe altered.
    fn channel(&mut self, frame: &[u8]) -> Option<Vec<u8>> {
        let Fault::Lossy(n) = self.fault else {
            return Some(frame.to_vec());
        };
        let r = {
            use rand_core::TryRng;
            self.rng.try_next_u64().unwrap()
        };
        match r % n {
            0 => None,
            1 => {
                let mut f = frame.to_vec();
                let k = (r >> 16) as usize % f.len();
                f[k] ^= 1 << ((r >> 8) % 8);
                Some(f)
            }
            _ => Some(frame.to_vec()),
        }
    }

    /// One minute of load on every meter, then the head-end's and the concentrator's traffic.
    fn minute(&mut self) {
        self.now = self.now.checked_add_secs(MINUTE).unwrap();
        for (_, meter, watts) in &mut self.meters {
            // Wh in a minute at one pulse per Wh, while the supply is connected.
            let pulses = if meter.contacts() == Contacts::Closed {
                *watts / 60
            } else {
                0
            };
            let a = meter.tick(self.now, pulses);
            meter.saved(a.save);
        }
        self.exchange();
    }

    /// The head-end's frames and the concentrator's traffic at this instant, until the
    /// head-end has nothing more to send now (a command answered at once lets the next go).
    fn exchange(&mut self) {
        for _ in 0..16 {
            let outgoing = self.head.outgoing(self.now).unwrap();
            let more = !outgoing.is_empty();
            for o in outgoing {
                self.conc.forward(o.meter, &o.frame, o.tag).unwrap();
            }
            self.traffic();
            if !more {
                return;
            }
        }
    }

    fn traffic(&mut self) {
        let now = self.now;
        let instant = self.instant();
        let mut out = [0u8; MAX_FORWARD_LEN];
        loop {
            match self.conc.poll(instant, &mut out) {
                Poll::Send { channel, len } => {
                    let sent = out[..len].to_vec();
                    let Some(frame) = self.channel(&sent) else {
                        continue;
                    };
                    let mut answer = None;
                    for (_, meter, _) in &mut self.meters {
                        let a = meter.receive(now, &frame, &mut self.rng);
                        meter.saved(a.save);
                        if let Some(t) = meter.transmit() {
                            answer = Some(t.to_vec());
                        }
                    }
                    let Some(answer) = answer else { continue };
                    // The concentrator's own reads are 11H; anything else is a forward.
                    let control = skip_preamble(&sent).get(8).copied();
                    if control != Some(0x11) {
                        self.forwards_answered += 1;
                        if let Fault::DropAnswers(n) = self.fault
                            && self.forwards_answered <= n
                        {
                            continue;
                        }
                    }
                    let Some(answer) = self.channel(&answer) else {
                        continue;
                    };
                    let event = self
                        .conc
                        .receive(instant, channel, &answer)
                        .map(|e| owned(&e));
                    self.take(event);
                }
                Poll::Event(e) => {
                    let e = owned(&e);
                    self.take(Some(e));
                }
                Poll::Idle { .. } => break,
            }
        }
    }

    fn take(&mut self, event: Option<Owned>) {
        let now = self.now;
        match event {
            Some(Owned::Read(address, r)) => {
                let events = self
                    .head
                    .reading(address, Reading::from_concentrator(&r, now))
                    .unwrap();
                self.events.extend(events);
            }
            Some(Owned::Forwarded(tag, answer)) => {
                let events = self.head.answer(tag, &answer, now).unwrap();
                self.events.extend(events);
            }
            Some(Owned::Failed(tag)) => self.head.forward_failed(tag),
            Some(Owned::Other) | None => {}
        }
    }

    fn run_minutes(&mut self, n: i64) {
        for _ in 0..n {
            self.minute();
        }
    }

    /// Every meter's balance equals its shadow account's, to the minor unit.
    fn assert_shadows_agree(&self) {
        for (address, meter, _) in &self.meters {
            let read = self.head.last_reading(*address).map(|r| r.at);
            assert_eq!(read, Some(self.now), "{address} was read at the last tick");
            let shadow = self.head.shadow(*address).unwrap();
            assert_eq!(
                shadow.balance(),
                meter.account().balance(),
                "meter {address}"
            );
            let r = self.head.reconciliation(*address).unwrap();
            assert!(r.agrees(), "{address}: {r:?}");
            assert_eq!(r.bound, Money::ZERO, "{address}: every interval was exact");
        }
    }
}

enum Owned {
    Read(Address, prepaid_meter::concentrator::Readings),
    Forwarded(u32, Vec<u8>),
    Failed(u32),
    Other,
}

fn owned(e: &Event<'_>) -> Owned {
    match e {
        Event::Read {
            address, readings, ..
        } => Owned::Read(*address, *readings),
        Event::Forwarded { tag, answer, .. } => Owned::Forwarded(*tag, answer.to_vec()),
        Event::ForwardFailed { tag, .. } => Owned::Failed(*tag),
        _ => Owned::Other,
    }
}

fn confirmed_total<L: Ledger>(head: &HeadEnd<L, Vec<Notification>>, meter: Address) -> Money
where
    L::Error: core::fmt::Debug,
{
    head.ledger()
        .payments()
        .unwrap()
        .iter()
        .filter(|p| p.meter == meter && p.state.is_confirmed())
        .fold(Money::ZERO, |s, p| s.checked_add(p.amount).unwrap())
}

#[test]
fn payments_are_vended_through_the_concentrator_and_confirmed_by_the_meters_answer() {
    let mut s = System::new(MemoryLedger::new(), &[600, 1_200], Fault::None);
    let [a, b] = [s.meters[0].0, s.meters[1].0];
    // The commissioning reading of a meter with no account open: no purchase record, count 0.
    let first = s.head.last_reading(a).unwrap();
    assert_eq!((first.at, first.purchase_count), (s.now, 0));
    let pa = s.head.pay(a, yuan(50), s.now).unwrap();
    let pb = s.head.pay(b, yuan(80), s.now).unwrap();
    s.exchange();
    for (p, m, amount) in [(pa, a, 50), (pb, b, 80)] {
        let p = s.head.payment(p).unwrap().unwrap();
        assert_eq!(p.count, Some(1));
        assert_eq!(
            p.state,
            PaymentState::ConfirmedByAnswer {
                balance_after: yuan(amount)
            }
        );
        assert_eq!(s.meter(m).account().balance(), yuan(amount));
    }
    // A second payment is a recharge with the next purchase count.
    let pa2 = s.head.pay(a, yuan(30), s.now).unwrap();
    s.run_minutes(1);
    let p = s.head.payment(pa2).unwrap().unwrap();
    assert_eq!(
        (p.count, p.state.is_confirmed(), p.attempts),
        (Some(2), true, 1)
    );
    let notified = s
        .head
        .notifier()
        .iter()
        .filter(|n| matches!(n.kind, NotificationKind::RechargeConfirmed { .. }))
        .count();
    assert_eq!(
        notified, 3,
        "one recharge-confirmed notification per payment"
    );
}

/// Issue 13: a lost recharge answer retried three times credits once.
#[test]
fn a_lost_answer_retried_three_times_credits_once() {
    // Retried each minute it is unanswered; the concentrator itself does not retry, so every
    // send is the head-end's, freshly sealed with the same purchase count.
    let config = HeadEndConfig {
        retry_after_secs: 60,
        ..HeadEndConfig::default()
    };
    let mut s = System::with(MemoryLedger::new(), &[600], Fault::None, config, 0);
    let a = s.meters[0].0;
    let open = s.head.pay(a, yuan(50), s.now).unwrap();
    s.exchange();
    assert!(s.head.payment(open).unwrap().unwrap().state.is_confirmed());
    // The answers to the recharge and to its first three retries are lost. The meter applies
    // the first; the retries it refuses as repeated, crediting nothing; the fifth send's
    // refusal arrives, and the next reading's purchase count confirms the payment.
    s.fault = Fault::DropAnswers(4);
    s.run_minutes(1);
    let recharge = s.head.pay(a, yuan(100), s.now).unwrap();
    s.run_minutes(10);
    let p = s.head.payment(recharge).unwrap().unwrap();
    assert_eq!(p.count, Some(2));
    assert_eq!(
        p.state,
        PaymentState::Sent,
        "not confirmed by a repeated-recharge refusal"
    );
    assert!(
        p.attempts >= 4,
        "sent, then retried three times: {}",
        p.attempts
    );
    assert!(
        s.events
            .iter()
            .any(|e| matches!(e, headend::Event::Refused { .. }))
    );
    assert_eq!(
        s.meter(a).logs().purchases().iter().count(),
        2,
        "credited once"
    );
    s.run_minutes(5);
    let p = s.head.payment(recharge).unwrap().unwrap();
    assert_eq!(p.state, PaymentState::ConfirmedByReading);
    // The meter has 150 less what it used, once: the shadow, credited once, agrees (at the
    // half hour's reading).
    s.run_minutes(14);
    s.assert_shadows_agree();
    assert_eq!(confirmed_total(&s.head, a), yuan(150));
    let used = s.head.shadow(a).unwrap().balance();
    assert!(used > yuan(140) && used < yuan(150), "{used}");
}

/// Issue 13: a concentrator that drops or corrupts frames loses no payment and credits none
/// twice.
#[test]
fn a_lossy_concentrator_loses_no_payment() {
    let mut s = System::new(MemoryLedger::new(), &[300, 600, 900], Fault::Lossy(10));
    let meters: Vec<Address> = s.meters.iter().map(|m| m.0).collect();
    let mut paid = vec![Money::ZERO; meters.len()];
    for round in 0..4 {
        for (i, &m) in meters.iter().enumerate() {
            let amount = yuan(20 + 10 * i as i64 + round);
            s.head.pay(m, amount, s.now).unwrap();
            paid[i] = paid[i].checked_add(amount).unwrap();
        }
        s.run_minutes(60);
    }
    s.run_minutes(6 * 60);
    for (i, &m) in meters.iter().enumerate() {
        let payments = s.head.ledger().payments().unwrap();
        let mine: Vec<_> = payments.iter().filter(|p| p.meter == m).collect();
        assert!(mine.iter().all(|p| p.state.is_confirmed()), "{mine:?}");
        let counts: Vec<_> = mine.iter().map(|p| p.count.unwrap()).collect();
        assert_eq!(counts, [1, 2, 3, 4], "one purchase count per payment");
        assert_eq!(confirmed_total(&s.head, m), paid[i]);
        // Credited exactly once each: the meter's purchase log has the four amounts.
        let log: Money = s
            .meter(m)
            .logs()
            .purchases()
            .iter()
            .fold(Money::ZERO, |sum, p| sum.checked_add(p.amount).unwrap());
        assert_eq!(log, paid[i], "meter {m}");
    }
}

/// Issue 13: meter and shadow agree exactly over a simulated stretch with TOU switches every
/// day, recharges and a campaigned price change.
#[test]
fn shadow_accounts_agree_to_the_minor_unit_through_a_price_campaign() {
    let mut s = System::new(MemoryLedger::new(), &[420, 780, 1_320, 2_100], Fault::None);
    let meters: Vec<Address> = s.meters.iter().map(|m| m.0).collect();
    for &m in &meters {
        s.head.pay(m, yuan(100), s.now).unwrap();
    }
    s.run_minutes(3 * 24 * 60);
    s.assert_shadows_agree();
    let at = s.now.checked_add_secs(24 * 3600).unwrap();
    let prices = [1_3000, 10_000, 7_000, 3_500].map(Price::from_minor_per_kwh);
    let campaign = s.head.campaign(at, &prices, &meters).unwrap();
    for &m in &meters {
        s.head.pay(m, yuan(60), s.now).unwrap();
    }
    s.run_minutes(4 * 24 * 60);
    let status = s.head.campaign_status(campaign).unwrap();
    assert!(status.is_complete(), "{status:?}");
    for m in &status.meters {
        assert_eq!(
            m.confirmed_at,
            Some(at),
            "written at the campaign's instant"
        );
        let meter = s.meter(m.address);
        assert_eq!(meter.tariff().active().prices(), prices);
    }
    s.assert_shadows_agree();
    // The heaviest load ran out of credit: alarms went out once each, then the cut-off.
    let heavy = meters[3];
    let kinds: Vec<_> = s
        .head
        .notifier()
        .iter()
        .filter(|n| n.meter == heavy)
        .map(|n| n.kind)
        .collect();
    let low = kinds
        .iter()
        .filter(|k| matches!(k, NotificationKind::LowCredit { .. }))
        .count();
    assert!(low >= 2, "{kinds:?}");
}

#[cfg(feature = "sqlite")]
#[test]
fn a_head_end_restarted_on_its_sqlite_ledger_goes_on_where_it_was() {
    use prepaid_meter::headend::SqliteLedger;
    let dir = std::env::temp_dir().join(format!("headend-restart-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join("ledger.sqlite");
    let _ = std::fs::remove_file(&path);
    let mut s = System::new(SqliteLedger::open(&path).unwrap(), &[600], Fault::None);
    let a = s.meters[0].0;
    s.head.pay(a, yuan(50), s.now).unwrap();
    s.run_minutes(1);
    s.head.pay(a, yuan(20), s.now).unwrap();
    s.run_minutes(1);
    // A new head-end on the same database: the counter goes on, so the meter takes the next
    // command instead of refusing it as a replay; the payment ids go on too.
    let mut head = HeadEnd::new(
        HeadEndConfig::default(),
        SqliteLedger::open(&path).unwrap(),
        Vec::new(),
    )
    .unwrap();
    head.add_meter(MeterRecord {
        address: a,
        customer: CustomerNumber::new([0, 0, 0, 0, 0x12, 0x34]),
        sealer: s.master.meter(a, 1),
        tariff: tou(),
        account: Config::local(limits()),
        alerts: alerts(),
    })
    .unwrap();
    s.head = head;
    let p = s.head.pay(a, yuan(30), s.now).unwrap();
    assert_eq!(p.0, 3);
    s.run_minutes(1);
    let p = s.head.payment(p).unwrap().unwrap();
    assert_eq!((p.count, p.state.is_confirmed()), (Some(3), true), "{p:?}");
    assert_eq!(confirmed_total(&s.head, a), yuan(100));
    // The restarted head-end's shadow had no account open: it says it is out of step.
    assert!(
        s.events
            .iter()
            .any(|e| matches!(e, headend::Event::ShadowOutOfStep { meter, .. } if *meter == a)),
        "{:?}",
        s.events
    );
    std::fs::remove_dir_all(&dir).unwrap();
}

/// What every [`Ledger`] must do: inserts refuse a taken id, updates an unknown one, and
/// nothing changes on a refusal; payments come back in id order, as written.
fn ledger_contract<L: Ledger>(mut ledger: L)
where
    L::Error: core::fmt::Debug,
{
    use prepaid_meter::headend::{FailReason, Payment, PaymentId};
    let meter: Address = "202700000001".parse().unwrap();
    assert_eq!(ledger.last_id().unwrap(), None);
    assert_eq!(ledger.counter(meter).unwrap(), 0);
    let mut p = Payment {
        id: PaymentId(2),
        meter,
        amount: yuan(50),
        taken_at: Timestamp::from_unix(START),
        count: None,
        state: PaymentState::Queued,
        attempts: 0,
        sent_at: None,
        expires_at: None,
    };
    ledger.insert(&p).unwrap();
    let first = Payment {
        id: PaymentId(1),
        state: PaymentState::Failed(FailReason::HoardingLimit),
        count: Some(1),
        ..p
    };
    ledger.insert(&first).unwrap();
    assert!(
        ledger
            .insert(&Payment {
                amount: yuan(1),
                ..p
            })
            .is_err(),
        "id taken"
    );
    assert_eq!(
        ledger.get(PaymentId(2)).unwrap(),
        Some(p),
        "unchanged by the refusal"
    );
    assert!(
        ledger
            .update(&Payment {
                id: PaymentId(9),
                ..p
            })
            .is_err()
    );
    assert_eq!(ledger.get(PaymentId(9)).unwrap(), None);
    for state in [
        PaymentState::Sent,
        PaymentState::ConfirmedByAnswer {
            balance_after: Money::from_minor(-1_234),
        },
        PaymentState::ConfirmedByReading,
        PaymentState::Failed(FailReason::CustomerMismatch),
    ] {
        p = Payment {
            state,
            count: Some(2),
            attempts: p.attempts + 1,
            sent_at: Some(Timestamp::from_unix(START + 60)),
            expires_at: Some(Timestamp::from_unix(START + 3_660)),
            ..p
        };
        ledger.update(&p).unwrap();
        assert_eq!(ledger.get(p.id).unwrap(), Some(p));
    }
    assert_eq!(ledger.payments().unwrap(), [first, p]);
    let other: Address = "202700000002".parse().unwrap();
    ledger
        .insert(&Payment {
            id: PaymentId(3),
            meter: other,
            ..p
        })
        .unwrap();
    assert_eq!(ledger.payments_of(meter).unwrap(), [first, p]);
    assert_eq!(ledger.payments_of(other).unwrap().len(), 1);
    assert_eq!(ledger.last_id().unwrap(), Some(PaymentId(3)));
    ledger.set_counter(meter, 41).unwrap();
    ledger.set_counter(meter, 42).unwrap();
    assert_eq!(ledger.counter(meter).unwrap(), 42);
}

#[test]
fn the_memory_ledger_keeps_the_contract() {
    ledger_contract(MemoryLedger::new());
}

#[cfg(feature = "sqlite")]
#[test]
fn the_sqlite_ledger_keeps_the_contract_and_refuses_what_it_cannot_read() {
    use prepaid_meter::headend::{SqliteLedger, SqliteLedgerError};
    ledger_contract(SqliteLedger::in_memory().unwrap());
    // A database of a newer schema is refused, not guessed at.
    let db = rusqlite::Connection::open_in_memory().unwrap();
    db.pragma_update(None, "user_version", 2).unwrap();
    assert!(matches!(
        SqliteLedger::from_connection(db),
        Err(SqliteLedgerError::Corrupt(_))
    ));
    // A row that does not decode is named, not guessed at.
    let dir = std::env::temp_dir().join(format!("ledger-corrupt-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join("ledger.sqlite");
    let _ = std::fs::remove_file(&path);
    drop(SqliteLedger::open(&path).unwrap());
    rusqlite::Connection::open(&path)
        .unwrap()
        .execute(
            "INSERT INTO payments (id, meter, amount, taken_at, state, attempts)
             VALUES (7, '202700000001', 1, 0, 'lost', 0)",
            [],
        )
        .unwrap();
    let ledger = SqliteLedger::open(&path).unwrap();
    match ledger.payments() {
        Err(SqliteLedgerError::Corrupt(what)) => assert!(what.contains("payment 7"), "{what}"),
        other => panic!("{other:?}"),
    }
    std::fs::remove_dir_all(&dir).unwrap();
}
