//! Stored forms of the account, its logs and the security state, without serde: round trips
//! through `emit`/`parse`/`restore` that behave exactly like an engine that never stopped,
//! corrupted and foreign forms refused, and states that parse but break an invariant refused
//! with the module's typed error.

use prepaid_meter::account::{
    Account, AccountConfigError, AccountState, AccountStateError, AlarmFlags, Config, DebtRecovery,
    EmergencyCredit, EnergyAccount, Limits, Logs, LogsState, MoneyAccount, RecoveryPeriod,
    RelayCommand, RelayState, RemoteTrip, TripReason,
};
use prepaid_meter::address::Address;
use prepaid_meter::purchase::{CustomerNumber, Purchase};
use prepaid_meter::security::{
    Command, CommandCounter, LockoutPolicy, MasterKey, MeterSecurity, OpenError, Reply,
    SecurityConfig, SecurityConfigError, SecurityState, SoftwareModule, Status, TagLength,
};
use prepaid_meter::snapshot::{Snapshot, SnapshotError};
use prepaid_meter::time::{Timestamp, UtcOffset};
use prepaid_meter::units::{Energy, Money, Price};

const T0: i64 = 1_735_689_600; // 2025-01-01 08:00 at UTC+8
const CUSTOMER: CustomerNumber = CustomerNumber::new([0, 0, 0, 0, 0x12, 0x34]);

fn at(secs: i64) -> Timestamp {
    Timestamp::from_unix(T0 + secs)
}

fn yuan(y: i64) -> Money {
    Money::from_units(y).unwrap()
}

fn money_config() -> Config<Money> {
    let mut c = Config::local(Limits {
        alarm1: yuan(20),
        alarm2: yuan(10),
        overdraft: yuan(5),
        hoarding: yuan(500),
        reconnect: yuan(1),
    });
    c.low_credit_trip = true;
    c.emergency = Some(EmergencyCredit {
        amount: yuan(10),
        threshold: yuan(2),
    });
    c.standing_charge = Money::from_minor(3_000);
    c.debt_recovery = Some(DebtRecovery {
        percent: 20,
        cap: yuan(15),
        period: RecoveryPeriod::Week,
    });
    c
}

/// One step of a customer's life; every step is applied to both accounts compared.
#[derive(Clone, Copy, Debug)]
enum Op {
    Tick(i64),
    Debit(i64, i64),
    Open(i64, u32, i64),
    Recharge(i64, u32, i64),
    Button(i64),
    Emergency(i64),
    Debt(i64, i64),
    Command(i64, RelayCommand),
}

const DAY: i64 = 86_400;

fn ops() -> Vec<Op> {
    use Op::*;
    vec![
        Tick(0),
        Open(10, 1, 40),
        Debit(60, 15),
        Debit(120, 12),
        Button(130),
        Debit(200, 12),
        Emergency(210),
        Debit(300, 9),
        Tick(DAY + 5),
        Debt(DAY + 10, 30),
        Command(DAY + 20, RelayCommand::KeepPowerOn),
        Debit(DAY + 30, 20),
        Command(DAY + 40, RelayCommand::KeepPowerOff),
        Tick(DAY + 50),
        Recharge(DAY + 60, 2, 100),
        Button(DAY + 70),
        Command(
            DAY + 80,
            RelayCommand::TripRestore {
                delay_secs: 600,
                then: prepaid_meter::account::ReconnectMode::Direct,
            },
        ),
        Tick(DAY + 500),
        Tick(DAY + 700),
        Command(DAY + 800, RelayCommand::AlarmOn),
        Recharge(3 * DAY, 3, 50),
        Debit(3 * DAY + 10, 70),
        Command(3 * DAY + 20, RelayCommand::Trip),
        Command(3 * DAY + 30, RelayCommand::ReconnectAllowed),
        Recharge(3 * DAY + 40, 4, 200),
        Button(3 * DAY + 50),
        Tick(9 * DAY),
    ]
}

/// Applies `op`, logging what it decided; returns a comparable trace of the outcome.
fn apply(a: &mut MoneyAccount, logs: &mut Logs<Money>, op: Op) -> String {
    let out = match op {
        Op::Tick(t) => Ok(a.tick(at(t))),
        Op::Debit(t, y) => a.debit(at(t), yuan(y)).map_err(|e| e.to_string()),
        Op::Open(t, count, y) | Op::Recharge(t, count, y) => {
            let p = Purchase {
                customer: CUSTOMER,
                count,
                amount: yuan(y),
            };
            let r = if matches!(op, Op::Open(..)) {
                a.open(at(t), p)
            } else {
                a.recharge(at(t), p)
            };
            r.map(|r| {
                logs.record_purchase(&r.record);
                r.effects
            })
            .map_err(|e| e.to_string())
        }
        Op::Button(t) => Ok(a.press_button(at(t))),
        Op::Emergency(t) => a
            .activate_emergency_credit(at(t))
            .map_err(|e| e.to_string()),
        Op::Debt(t, y) => a.set_debt(at(t), yuan(y)).map_err(|e| e.to_string()),
        Op::Command(t, c) => a.command(at(t), c).map_err(|e| e.to_string()),
    };
    if let Ok(fx) = &out {
        logs.record(fx);
    }
    format!("{out:?}")
}

fn save_account<
    U: prepaid_meter::account::Credit + prepaid_meter::snapshot::Field,
    const H: usize,
>(
    a: &Account<U, H>,
) -> Vec<u8> {
    let state = a.state();
    let mut buf = vec![0u8; state.buffer_len()];
    let n = state.emit(&mut buf).unwrap();
    assert_eq!(n, buf.len());
    buf
}

fn save_logs(l: &Logs<Money>) -> Vec<u8> {
    let state = l.state();
    let mut buf = vec![0u8; state.buffer_len()];
    state.emit(&mut buf).unwrap();
    buf
}

/// A power cut after every step: the restored account and logs carry on exactly as the ones
/// that never stopped.
#[test]
fn account_and_logs_restored_after_any_step_behave_identically() {
    let ops = ops();
    for cut in 0..=ops.len() {
        let mut a = MoneyAccount::new(money_config(), yuan(0)).unwrap();
        let mut logs = Logs::new();
        for op in &ops[..cut] {
            apply(&mut a, &mut logs, *op);
        }
        let stored_account = save_account(&a);
        let stored_logs = save_logs(&logs);
        let mut b = MoneyAccount::restore(
            money_config(),
            AccountState::parse(&stored_account).unwrap(),
        )
        .unwrap();
        let mut blogs = Logs::restore(LogsState::parse(&stored_logs).unwrap()).unwrap();
        assert_eq!(b, a, "cut after {cut}");
        assert_eq!(blogs, logs);
        for op in &ops[cut..] {
            let x = apply(&mut a, &mut logs, *op);
            let y = apply(&mut b, &mut blogs, *op);
            assert_eq!(x, y, "cut after {cut}, {op:?}");
            assert_eq!(a.state(), b.state());
        }
        assert_eq!(blogs, logs);
        assert_eq!(a.totals().expected_balance(), Some(a.balance()));
    }
}

#[test]
fn the_scenario_reaches_the_interesting_states() {
    let mut a = MoneyAccount::new(money_config(), yuan(0)).unwrap();
    let mut logs = Logs::new();
    let mut seen_overdraft = false;
    let mut seen_remote = false;
    let mut seen_emergency = false;
    for op in ops() {
        apply(&mut a, &mut logs, op);
        seen_overdraft |= a.overdraft().is_some();
        seen_remote |= matches!(a.remote_trip(), RemoteTrip::Until { .. });
        seen_emergency |= a.emergency_outstanding() > Money::ZERO;
    }
    assert!(seen_overdraft && seen_remote && seen_emergency);
    assert!(logs.purchases().pushed() >= 3);
    assert!(logs.relay().pushed() >= 4);
}

#[test]
fn typical_sizes() {
    let mut a = MoneyAccount::new(money_config(), yuan(0)).unwrap();
    let fresh = a.state().buffer_len();
    let _ = a
        .open(
            at(0),
            Purchase {
                customer: CUSTOMER,
                count: 1,
                amount: yuan(100),
            },
        )
        .unwrap();
    // An open account: customer (7) and standing day (9) present, no overdraft under way.
    assert_eq!(a.state().buffer_len(), 150);
    assert_eq!(fresh, 150 - 6 - 8);
    assert_eq!(Logs::<Money>::new().state().buffer_len(), 57);
    let sec = SecurityState::default();
    assert_eq!(sec.buffer_len(), 38);
    assert_eq!(CommandCounter::new(1).buffer_len(), 15);
}

#[test]
fn energy_account_round_trips_through_a_price_change() {
    let limits = Limits {
        alarm1: Energy::from_wh(20_000),
        alarm2: Energy::from_wh(10_000),
        overdraft: Energy::from_wh(5_000),
        hoarding: Energy::from_wh(800_000),
        reconnect: Energy::from_wh(0),
    };
    let mut a = EnergyAccount::new(Config::local(limits), Energy::ZERO).unwrap();
    let _ = a
        .open(
            at(0),
            Purchase {
                customer: CUSTOMER,
                count: 1,
                amount: Energy::from_wh(400_000),
            },
        )
        .unwrap();
    let _ = a.debit(at(10), Energy::from_wh(1_234)).unwrap();
    // A price drop: the credit is worth more kWh (within the hoarding limit, which applies).
    let _ = a
        .change_price(at(20), Price::from_minor_per_kwh(6_000))
        .unwrap();
    let _ = a
        .change_price(at(20), Price::from_minor_per_kwh(3_333))
        .unwrap();
    assert_eq!(a.price(), Some(Price::from_minor_per_kwh(3_333)));
    assert!(a.balance() > Energy::from_wh(700_000));
    let bytes = save_account(&a);
    assert_eq!(&bytes[..2], b"AE");
    let mut b =
        EnergyAccount::restore(a.config().clone(), AccountState::parse(&bytes).unwrap()).unwrap();
    assert_eq!(b, a);
    for t in [30, 40] {
        assert_eq!(
            a.debit(at(t), Energy::from_wh(777)),
            b.debit(at(t), Energy::from_wh(777))
        );
    }
    assert_eq!(b.conversion_residue(), a.conversion_residue());
    assert_eq!(b.state(), a.state());
    // A money state is not an energy state.
    let money = save_account(&MoneyAccount::new(money_config(), yuan(0)).unwrap());
    assert_eq!(
        AccountState::<Energy>::parse(&money),
        Err(SnapshotError::BadMagic)
    );
}

/// Every single-bit flip of a stored form is refused; flips in the fields or the CRC are
/// reported as a bad checksum.
fn check_corruption<S: Snapshot + core::fmt::Debug>(bytes: &[u8]) {
    for i in 0..bytes.len() {
        for bit in 0..8 {
            let mut b = bytes.to_vec();
            b[i] ^= 1 << bit;
            let r = S::parse(&b);
            assert!(r.is_err(), "byte {i} bit {bit}");
            if i >= 5 {
                assert_eq!(
                    r.unwrap_err(),
                    SnapshotError::BadChecksum,
                    "byte {i} bit {bit}"
                );
            }
        }
    }
    let mut b = bytes.to_vec();
    b[2] = S::VERSION + 1;
    assert_eq!(
        S::parse(&b).unwrap_err(),
        SnapshotError::UnsupportedVersion(S::VERSION + 1)
    );
    let mut b = bytes.to_vec();
    b[0] = b'Z';
    assert_eq!(S::parse(&b).unwrap_err(), SnapshotError::BadMagic);
    assert_eq!(
        S::parse(&bytes[..bytes.len() - 1]).unwrap_err(),
        SnapshotError::Truncated
    );
}

#[test]
fn corrupted_foreign_and_future_forms_are_refused() {
    let mut a = MoneyAccount::new(money_config(), yuan(0)).unwrap();
    let mut logs = Logs::new();
    for op in &ops()[..12] {
        apply(&mut a, &mut logs, *op);
    }
    let account = save_account(&a);
    let logs = save_logs(&logs);
    check_corruption::<AccountState<Money>>(&account);
    check_corruption::<LogsState<Money>>(&logs);
    // Each kind of state has its own magic.
    assert_eq!(
        AccountState::<Money>::parse(&logs),
        Err(SnapshotError::BadMagic)
    );
    assert_eq!(
        LogsState::<Money>::parse(&account),
        Err(SnapshotError::BadMagic)
    );
    let sec = SecurityState {
        key_version: 1,
        last_counter: 7,
        ..SecurityState::default()
    };
    let mut buf = [0u8; 64];
    let n = sec.emit(&mut buf).unwrap();
    check_corruption::<SecurityState>(&buf[..n]);
    assert_eq!(&buf[..2], b"SS");
    assert_eq!(
        AccountState::<Money>::parse(&buf[..n]),
        Err(SnapshotError::BadMagic)
    );
    let n = CommandCounter {
        key_version: 3,
        last: 9,
    }
    .emit(&mut buf)
    .unwrap();
    check_corruption::<CommandCounter>(&buf[..n]);
    assert_eq!(
        SecurityState::parse(&buf[..n]),
        Err(SnapshotError::BadMagic)
    );
}

/// Emits `state` (the binary form does not check meanings), parses it back and restores it.
fn restore_edited(
    edit: impl FnOnce(&mut AccountState<Money>),
) -> Result<MoneyAccount, AccountStateError> {
    let mut a = MoneyAccount::new(money_config(), yuan(0)).unwrap();
    let mut logs = Logs::new();
    for op in &ops()[..8] {
        apply(&mut a, &mut logs, *op);
    }
    let mut state = a.state();
    edit(&mut state);
    let mut buf = vec![0u8; state.buffer_len()];
    state.emit(&mut buf).unwrap();
    let parsed = AccountState::parse(&buf).unwrap();
    assert_eq!(parsed, state);
    MoneyAccount::restore(money_config(), parsed)
}

type Edit = Box<dyn FnOnce(&mut AccountState<Money>)>;

#[test]
fn states_that_break_an_invariant_are_refused_with_a_typed_error() {
    assert!(restore_edited(|_| {}).is_ok());
    let cases: Vec<(&str, Edit, AccountStateError)> = vec![
        (
            "balance of i64::MAX",
            Box::new(|s| s.balance = Money::from_minor(i64::MAX)),
            AccountStateError::Totals,
        ),
        (
            "balance beyond the hoarding limit, totals adjusted",
            Box::new(|s| {
                s.balance = yuan(600);
                s.totals.recharged = s.totals.recharged.checked_add(yuan(600)).unwrap();
                s.totals.consumed = s.totals.consumed.checked_add(s.balance_gap()).unwrap();
            }),
            AccountStateError::AboveHoarding,
        ),
        (
            "totals that no longer add up",
            Box::new(|s| s.totals.consumed = s.totals.consumed.checked_add(yuan(1)).unwrap()),
            AccountStateError::Totals,
        ),
        (
            "negative consumption",
            Box::new(|s| {
                s.totals.consumed = Money::from_minor(-1);
                s.balance = s.totals.expected_balance().unwrap();
            }),
            AccountStateError::Totals,
        ),
        (
            "negative debt",
            Box::new(|s| s.debt = yuan(-1)),
            AccountStateError::NegativeAmount,
        ),
        (
            "open without a purchase",
            Box::new(|s| s.purchases = 0),
            AccountStateError::Purchases,
        ),
        (
            "an overdraft alarm with credit left",
            Box::new(|s| {
                s.balance = yuan(100);
                s.totals.recharged = s.totals.recharged.checked_add(yuan(100)).unwrap();
                s.totals.consumed = s.totals.consumed.checked_add(s.balance_gap()).unwrap();
                s.alarms = AlarmFlags::OVERDRAFT;
            }),
            AccountStateError::Flags,
        ),
        (
            "emergency credit in use with nothing owed",
            Box::new(|s| s.emergency_debt = Money::ZERO),
            AccountStateError::Flags,
        ),
        (
            "closed relay under a remote trip",
            Box::new(|s| {
                s.remote = RemoteTrip::Tripped;
                s.relay = RelayState::Closed;
            }),
            AccountStateError::Relay,
        ),
        (
            "an open relay for low credit",
            Box::new(|s| s.relay = RelayState::Open(TripReason::LowCredit)),
            AccountStateError::Relay,
        ),
    ];
    for (what, edit, want) in cases {
        assert_eq!(restore_edited(edit).unwrap_err(), want, "{what}");
    }
    // An invalid configuration is refused as such.
    let mut cfg = money_config();
    cfg.limits.alarm2 = yuan(30);
    let state = MoneyAccount::new(money_config(), yuan(0)).unwrap().state();
    assert_eq!(
        MoneyAccount::restore(cfg, state).unwrap_err(),
        AccountStateError::Config(AccountConfigError::AlarmsOutOfOrder)
    );
}

/// The gap between a state's balance and what its totals account for (used to make edited
/// totals add up again).
trait Gap {
    fn balance_gap(&self) -> Money;
}

impl Gap for AccountState<Money> {
    fn balance_gap(&self) -> Money {
        self.totals
            .expected_balance()
            .unwrap()
            .checked_sub(self.balance)
            .unwrap()
    }
}

#[test]
fn reconfigure_keeps_the_balance_within_the_hoarding_limit() {
    let mut a = MoneyAccount::new(money_config(), yuan(0)).unwrap();
    let _ = a
        .open(
            at(0),
            Purchase {
                customer: CUSTOMER,
                count: 1,
                amount: yuan(300),
            },
        )
        .unwrap();
    let mut lower = money_config();
    lower.limits.hoarding = yuan(200);
    let before = a.clone();
    assert_eq!(
        a.reconfigure(at(10), lower).unwrap_err(),
        AccountConfigError::HoardingBelowBalance
    );
    assert_eq!(a, before);
    // Under its own configuration the state restores; under the lower limit it does not.
    let mut lower = money_config();
    lower.limits.hoarding = yuan(200);
    assert_eq!(
        MoneyAccount::restore(lower, a.state()).unwrap_err(),
        AccountStateError::AboveHoarding
    );
    assert!(MoneyAccount::restore(money_config(), a.state()).is_ok());
}

#[test]
fn logs_that_no_ring_can_hold_are_refused() {
    let mut a = MoneyAccount::new(money_config(), yuan(0)).unwrap();
    let mut logs = Logs::new();
    for op in ops() {
        apply(&mut a, &mut logs, op);
    }
    let mut state = logs.state();
    state.relay.pushed = 1;
    let mut buf = vec![0u8; state.buffer_len()];
    state.emit(&mut buf).unwrap();
    assert_eq!(
        Logs::<Money>::restore(LogsState::parse(&buf).unwrap()),
        Err(AccountStateError::Log)
    );
    let mut state = logs.state();
    state.purchases.oldest = 3;
    assert_eq!(Logs::<Money>::restore(state), Err(AccountStateError::Log));
}

// Security.

const MASTER: [u8; 16] = [0x5A; 16];

fn addr() -> Address {
    "201000000012".parse().unwrap()
}

fn sec_config() -> SecurityConfig {
    SecurityConfig::new(
        TagLength::DEFAULT,
        300,
        LockoutPolicy::new(5, 8, UtcOffset::CHINA).unwrap(),
    )
    .unwrap()
}

fn module() -> SoftwareModule {
    let keys = MasterKey::new(&MASTER, TagLength::DEFAULT).meter_keys(addr(), 1);
    SoftwareModule::new(1, &keys)
}

fn recharge(count: u32) -> Command<'static> {
    Command::Recharge(Purchase {
        customer: CUSTOMER,
        count,
        amount: yuan(50),
    })
}

/// Seals `command` with the next value of `counter`.
fn seal(counter: &mut CommandCounter, command: &Command<'_>, t: i64) -> Vec<u8> {
    let mut frame = [0u8; 128];
    let sent = MasterKey::new(&MASTER, TagLength::DEFAULT)
        .meter(addr(), 1)
        .seal(counter, command, at(t + 3600), &mut frame)
        .unwrap();
    frame[..sent.len].to_vec()
}

/// Opens and commits `frame`; the trace says what happened.
fn open(
    meter: &mut MeterSecurity<SoftwareModule>,
    frame: &[u8],
    t: i64,
) -> Result<String, OpenError> {
    let mut f = frame.to_vec();
    let pending = meter.open(&mut f, at(t))?;
    let what = format!("{:?}", pending.command());
    let to_store = pending.counter_state();
    let mut done = pending.commit();
    let mut reply = [0u8; 64];
    let n = done
        .seal_response(
            &Reply {
                status: Status::OK,
                data: &[],
            },
            &mut reply,
        )
        .unwrap();
    assert_eq!(meter.state(), to_store);
    Ok(format!("{what} {:?}", &reply[..n]))
}

fn save_security(meter: &MeterSecurity<SoftwareModule>) -> Vec<u8> {
    let mut buf = [0u8; 64];
    let n = meter.state().emit(&mut buf).unwrap();
    buf[..n].to_vec()
}

#[test]
fn security_state_restored_refuses_replays_and_carries_on_identically() {
    let mut counter = CommandCounter::new(1);
    let frames: Vec<Vec<u8>> = (1..=6)
        .map(|n| seal(&mut counter, &recharge(n), 0))
        .collect();
    let mut bad = seal(&mut counter, &recharge(7), 0);
    *bad.last_mut().unwrap() ^= 1;
    for cut in 0..=frames.len() {
        let mut a = MeterSecurity::new(addr(), module(), sec_config()).unwrap();
        for (i, f) in frames[..cut].iter().enumerate() {
            open(&mut a, f, i as i64).unwrap();
        }
        // Two tags that fail count toward the lock-out, and must survive the restart.
        assert_eq!(open(&mut a, &bad, 10), Err(OpenError::BadTag));
        assert_eq!(open(&mut a, &bad, 11), Err(OpenError::BadTag));

        let stored = save_security(&a);
        let mut b = MeterSecurity::restore(
            addr(),
            module(),
            sec_config(),
            SecurityState::parse(&stored).unwrap(),
        )
        .unwrap();
        assert_eq!(b.state(), a.state());
        assert_eq!(b.state().failures.today, 2);
        // Every frame accepted before the restart is still a replay after it.
        for f in &frames[..cut] {
            assert_eq!(open(&mut b, f, 20), Err(OpenError::Replay));
        }
        // The rest are accepted by both alike, with the same responses.
        for (i, f) in frames[cut..].iter().enumerate() {
            let t = 30 + i as i64;
            assert_eq!(open(&mut a, f, t), open(&mut b, f, t));
            assert_eq!(a.state(), b.state());
        }
        assert_eq!(a.lockout(at(40)), b.lockout(at(40)));
    }
}

#[test]
fn head_end_counter_restored_keeps_sealing_where_it_stopped() {
    let mut meter = MeterSecurity::new(addr(), module(), sec_config()).unwrap();
    let mut counter = CommandCounter::new(1);
    let f1 = seal(&mut counter, &recharge(1), 0);
    open(&mut meter, &f1, 1).unwrap();
    let mut buf = [0u8; 32];
    let n = counter.emit(&mut buf).unwrap();
    assert_eq!(&buf[..2], b"SC");
    let mut restored = CommandCounter::parse(&buf[..n]).unwrap();
    assert_eq!(restored, counter);
    let f2 = seal(&mut restored, &recharge(2), 2);
    assert!(open(&mut meter, &f2, 3).is_ok());
    // A counter restored from an older copy seals a value the meter already accepted.
    let mut stale = CommandCounter::new(1);
    let f_stale = seal(&mut stale, &recharge(3), 4);
    assert_eq!(open(&mut meter, &f_stale, 5), Err(OpenError::Replay));
}

#[test]
fn security_states_that_break_an_invariant_are_refused() {
    let restore = |state: SecurityState| {
        let mut buf = [0u8; 64];
        let n = state.emit(&mut buf).unwrap();
        MeterSecurity::restore(
            addr(),
            module(),
            sec_config(),
            SecurityState::parse(&buf[..n]).unwrap(),
        )
        .map(|m| m.state())
    };
    let good = SecurityState {
        key_version: 1,
        ..SecurityState::default()
    };
    assert_eq!(restore(good), Ok(good));
    let mut s = good;
    s.key_version = 2;
    assert_eq!(restore(s), Err(SecurityConfigError::KeyVersionMismatch));
    // More failures today than the daily limit (5): no meter counts past it.
    let mut s = good;
    s.failures.today = 6;
    assert_eq!(restore(s), Err(SecurityConfigError::InconsistentFailures));
    // As many consecutive failures as suspend the meter (8), but not suspended.
    let mut s = good;
    s.failures.consecutive = 8;
    assert_eq!(restore(s), Err(SecurityConfigError::InconsistentFailures));
    s.failures.suspended = true;
    assert_eq!(restore(s), Ok(s));
    // Beyond the suspension count, even suspended.
    s.failures.consecutive = 9;
    assert_eq!(restore(s), Err(SecurityConfigError::InconsistentFailures));
}
