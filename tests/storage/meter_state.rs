//! Power-cut sweeps over a meter's real state in the store: a sealed recharge, periodic saves
//! of the registers, a relay command, a daily freeze, a tariff update, a second recharge, a
//! sealed key update and a recharge under the new keys (the purchase log, freezes, tariff and
//! keys each in an area of their own), each cut after every byte it writes, on NOR flash and
//! on EEPROM. After every restart the engines restore from what the store holds (every stored
//! form validates); no acknowledged recharge is lost; a recharge is never credited twice, even
//! when the head-end resends it; and the security counter never goes back.

use prepaid_meter::account::{Config, Limits, Logs, LogsState, MoneyAccount};
use prepaid_meter::address::Address;
use prepaid_meter::freeze::{CatchUp, Freezes, FreezesState, Schedule};
use prepaid_meter::metering::{EnergyRegisters, EnergyRegistersState, Flow};
use prepaid_meter::purchase::{CustomerNumber, Purchase};
use prepaid_meter::security::{
    Command, CommandCounter, LockoutPolicy, MasterKey, MeterKeys, MeterSecurity, OpenError,
    SecurityConfig, SecurityState, SoftwareModule, TagLength, WRAPPED_KEYS_LEN,
};
use prepaid_meter::snapshot::Snapshot;
use prepaid_meter::storage::{AreaLayout, Found, Medium, MeterStore, Nor};
use prepaid_meter::tariff::{
    Calendar, DayTable, MonthDay, Season, SettlementDay, Tariff, TariffSet, Tiers, WeekRule,
};
use prepaid_meter::time::{Timestamp, UtcOffset};
use prepaid_meter::units::{Energy, Money, Price};
use prepaid_meter::{account::AccountState, mock::MockFlash};

use crate::power_cut::Cuttable;

type Small = Freezes<Money, 5, 2, 3, 2>;
type SmallState = FreezesState<Money, 5, 2, 3, 2>;
type SmallLogs = Logs<Money, 3>;

const LAYOUT: [AreaLayout; 5] = [
    AreaLayout {
        base: 0,
        len: 8 * 1024,
        max_payload: 448,
    },
    AreaLayout {
        base: 8 * 1024,
        len: 4 * 1024,
        max_payload: 600,
    },
    AreaLayout {
        base: 12 * 1024,
        len: 2 * 1024,
        max_payload: 400,
    },
    // The meter keys after a key update: version (`u16`) and the three keys. A software-only
    // meter keeps them here; the medium must be read-protected as the MCU's flash is.
    AreaLayout {
        base: 14 * 1024,
        len: 2 * 1024,
        max_payload: 64,
    },
    // The account's logs (purchases, overdrafts, relay, alarms, charges, emergency credit).
    AreaLayout {
        base: 16 * 1024,
        len: 4 * 1024,
        max_payload: 900,
    },
];
const T0: i64 = 1_735_689_600; // 2025-01-01 08:00 at UTC+8
const MASTER: [u8; 16] = [0x5A; 16];
const CUSTOMER: CustomerNumber = CustomerNumber::new([0, 0, 0, 0, 0x12, 0x34]);

fn at(secs: i64) -> Timestamp {
    Timestamp::from_unix(T0 + secs)
}

fn yuan(y: i64) -> Money {
    Money::from_units(y).unwrap()
}

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

fn head_end() -> MasterKey {
    MasterKey::new(&MASTER, TagLength::DEFAULT)
}

fn account_config() -> Config<Money> {
    Config::local(Limits {
        alarm1: yuan(20),
        alarm2: yuan(10),
        overdraft: yuan(5),
        hoarding: yuan(500),
        reconnect: yuan(1),
    })
}

fn tariff(price: u32) -> Vec<u8> {
    let day = DayTable::new(&[prepaid_meter::tariff::SwitchPoint::new(0, 0, 1)]).unwrap();
    let cal = Calendar::new(
        &[Season {
            start: MonthDay::new(1, 1),
            week: WeekRule::uniform(1),
        }],
        &[day],
    )
    .unwrap();
    let set = TariffSet::new(cal, &[Price::from_minor_per_kwh(price)], Tiers::none()).unwrap();
    let t = Tariff::new(UtcOffset::CHINA, &[], set).unwrap();
    let mut buf = vec![0u8; t.buffer_len()];
    t.emit(&mut buf).unwrap();
    buf
}

/// The meter's state as the application keeps it.
struct Meter {
    account: MoneyAccount,
    security: MeterSecurity<SoftwareModule>,
    registers: EnergyRegisters,
    freezes: Small,
    logs: SmallLogs,
}

fn emit<S: Snapshot>(s: &S, out: &mut Vec<u8>) {
    let start = out.len();
    out.resize(start + s.buffer_len(), 0);
    s.emit(&mut out[start..]).unwrap();
}

/// The hot state: the account, security and register states, one stored form after another.
fn hot(
    account: &AccountState<Money>,
    security: &SecurityState,
    registers: &EnergyRegisters,
) -> Vec<u8> {
    let mut out = Vec::new();
    emit(account, &mut out);
    emit(security, &mut out);
    emit(&registers.state(), &mut out);
    out
}

/// Splits the hot state back into its stored forms (each says its own length).
fn split(mut hot: &[u8]) -> Vec<&[u8]> {
    let mut parts = Vec::new();
    while hot.len() >= 5 {
        let n = usize::from(u16::from_le_bytes([hot[3], hot[4]]));
        parts.push(&hot[..n]);
        hot = &hot[n..];
    }
    parts
}

/// Starts the meter from the store: every stored form must parse and restore.
fn start<M: Medium>(store: &mut MeterStore<M>) -> Meter {
    let mut buf = [0u8; 1024];
    let Some(n) = store.read(0, &mut buf).unwrap() else {
        return Meter {
            account: MoneyAccount::new(account_config(), Money::ZERO).unwrap(),
            security: MeterSecurity::new(addr(), module(), sec_config()).unwrap(),
            registers: EnergyRegisters::new(),
            freezes: Small::new_sized(),
            logs: SmallLogs::new_sized(),
        };
    };
    let parts = split(&buf[..n]);
    assert_eq!(parts.len(), 3);
    let account =
        MoneyAccount::restore(account_config(), AccountState::parse(parts[0]).unwrap()).unwrap();
    let mut kb = [0u8; 64];
    let module = match store.read(3, &mut kb).unwrap() {
        Some(n) => {
            assert_eq!(n, 2 + WRAPPED_KEYS_LEN);
            let keys: &[u8; WRAPPED_KEYS_LEN] = kb[2..n].try_into().unwrap();
            SoftwareModule::new(
                u16::from_le_bytes([kb[0], kb[1]]),
                &MeterKeys::from_bytes(keys),
            )
        }
        None => module(),
    };
    // The keys and the security state are always of one version.
    let security = MeterSecurity::restore(
        addr(),
        module,
        sec_config(),
        SecurityState::parse(parts[1]).unwrap(),
    )
    .unwrap();
    let registers =
        EnergyRegisters::restore(EnergyRegistersState::parse(parts[2]).unwrap()).unwrap();
    let mut buf = [0u8; 1024];
    let freezes = match store.read(1, &mut buf).unwrap() {
        Some(n) => Small::restore(SmallState::parse(&buf[..n]).unwrap()).unwrap(),
        None => Small::new_sized(),
    };
    if let Some(n) = store.read(2, &mut buf).unwrap() {
        let _ = Tariff::parse(&buf[..n]).unwrap();
    }
    let logs = match store.read(4, &mut buf).unwrap() {
        Some(n) => SmallLogs::restore(LogsState::parse(&buf[..n]).unwrap()).unwrap(),
        None => SmallLogs::new_sized(),
    };
    Meter {
        account,
        security,
        registers,
        freezes,
        logs,
    }
}

/// The steps of the scenario.
#[derive(Clone, Copy, Debug)]
enum Step {
    /// Purchase count, yuan, key version, command counter.
    Recharge(u32, i64, u16, u32),
    /// From key version 1 to 2, with command counter 3.
    KeyUpdate,
    Save(i64),
    Trip,
    DailyFreeze,
    TariffUpdate(u32),
}

const STEPS: [Step; 9] = [
    Step::Recharge(1, 100, 1, 1),
    Step::Save(1_500),
    Step::Trip,
    Step::DailyFreeze,
    Step::TariffUpdate(6_000),
    Step::Recharge(2, 50, 1, 2),
    Step::KeyUpdate,
    Step::Recharge(3, 20, 2, 1),
    Step::Save(800),
];

/// `command` sealed under key version `version` with command counter `counter` (the same
/// bytes each time: the head-end resends).
fn sealed(command: &Command<'_>, version: u16, counter: u32) -> Vec<u8> {
    let mut c = CommandCounter {
        key_version: version,
        last: counter - 1,
    };
    let mut frame = [0u8; 128];
    let sent = head_end()
        .meter(addr(), version)
        .seal(&mut c, command, at(30 * 86_400), &mut frame)
        .unwrap();
    frame[..sent.len].to_vec()
}

fn recharge(count: u32, amount: i64) -> Command<'static> {
    Command::Recharge(Purchase {
        customer: CUSTOMER,
        count,
        amount: yuan(amount),
    })
}

/// Runs `step` on `meter` and commits it; the meter changes only once the commit is durable.
/// `Err(())` when the medium failed (the power was cut): nothing was acknowledged.
fn run<M: Medium>(
    meter: &mut Meter,
    store: &mut MeterStore<M>,
    k: usize,
    step: Step,
) -> Result<(), ()> {
    let now = at(k as i64 * 3_600 + 60);
    let mut account = meter.account.clone();
    let mut registers = meter.registers;
    let mut freezes = meter.freezes.clone();
    let mut logs = meter.logs.clone();
    let mut cold: Vec<(usize, Vec<u8>)> = Vec::new();
    match step {
        Step::KeyUpdate => {
            let update = head_end().key_update(addr(), 1).unwrap();
            let mut frame = sealed(&update, 1, 3);
            let pending = match meter.security.open(&mut frame, now) {
                Ok(p) => p,
                // Already applied: the meter holds version 2 and refuses a version-1 frame.
                Err(OpenError::WrongKeyVersion) => return Ok(()),
                Err(e) => panic!("{e:?}"),
            };
            let (version, keys) = pending
                .module()
                .and_then(|m| m.staged_keys())
                .map(|(v, k)| (v, k.to_bytes()))
                .unwrap();
            let mut stored = version.to_le_bytes().to_vec();
            stored.extend_from_slice(&keys);
            let security = pending.counter_state();
            assert_eq!(security.key_version, 2);
            let bytes = hot(&account.state(), &security, &registers);
            let _durable = store
                .commit(&[(3, &stored)], &bytes, u64::from(security.last_counter))
                .map_err(|_| ())?;
            let _ = pending.commit();
            return Ok(());
        }
        Step::Recharge(count, amount, version, counter) => {
            let mut frame = sealed(&recharge(count, amount), version, counter);
            let pending = match meter.security.open(&mut frame, now) {
                Ok(p) => p,
                // Already applied: the head-end's resend is refused, nothing changes.
                Err(OpenError::Replay) => return Ok(()),
                Err(e) => panic!("{e:?}"),
            };
            let Command::Recharge(purchase) = *pending.command() else {
                panic!("not a recharge");
            };
            let receipt = if purchase.count == 1 {
                account.open(now, purchase)
            } else {
                account.recharge(now, purchase)
            };
            let receipt = receipt.unwrap();
            logs.record_purchase(&receipt.record);
            logs.record(&receipt.effects);
            let mut logged = Vec::new();
            emit(&logs.state(), &mut logged);
            let security = pending.counter_state();
            let bytes = hot(&account.state(), &security, &registers);
            let _durable = store
                .commit(&[(4, &logged)], &bytes, u64::from(security.last_counter))
                .map_err(|_| ())?;
            // Durable: now the command may be acknowledged.
            let _ = pending.commit();
        }
        Step::Save(wh) => {
            registers.add(Flow::Import, 1, Energy::from_wh(wh)).unwrap();
            let _ = account
                .debit(now, Money::from_minor(wh * 5_283 / 1_000))
                .unwrap();
        }
        Step::Trip => {
            let _ = account
                .command(now, prepaid_meter::account::RelayCommand::Trip)
                .unwrap();
        }
        Step::DailyFreeze => {
            let schedule = Schedule::new(
                UtcOffset::CHINA,
                SettlementDay::FIRST_OF_MONTH,
                CatchUp::default(),
            );
            let due = schedule.due(at(0), at(86_400));
            let energy = [
                registers.total(Flow::Import),
                Energy::ZERO,
                Energy::ZERO,
                Energy::ZERO,
                Energy::ZERO,
            ];
            let _ = freezes.record(&due, energy, account.balance());
            let mut b = Vec::new();
            emit(&freezes.state(), &mut b);
            cold.push((1, b));
        }
        Step::TariffUpdate(price) => cold.push((2, tariff(price))),
    }
    if !matches!(step, Step::Recharge(..) | Step::KeyUpdate) {
        let bytes = hot(&account.state(), &meter.security.state(), &registers);
        let records: Vec<(usize, &[u8])> = cold.iter().map(|(a, b)| (*a, b.as_slice())).collect();
        let last = u64::from(meter.security.state().last_counter);
        let _durable = store.commit(&records, &bytes, last).map_err(|_| ())?;
    }
    meter.account = account;
    meter.registers = registers;
    meter.freezes = freezes;
    meter.logs = logs;
    Ok(())
}

/// What a restarted meter must agree on with the reference run.
fn summary(m: &Meter) -> (Money, u32, (u16, u32), Energy, usize, u32) {
    (
        m.account.balance(),
        m.account.state().purchases,
        (
            m.security.state().key_version,
            m.security.state().last_counter,
        ),
        m.registers.total(Flow::Import),
        m.freezes.daily().len(),
        // Every recharge credited is in the purchase log, once.
        m.logs.purchases().pushed(),
    )
}

fn sweep<M: Cuttable>(fresh: M) {
    // The reference: the scenario without cuts, and the summary after each step.
    let mut after = Vec::new();
    {
        let (mut store, _) = MeterStore::open(fresh.clone(), &LAYOUT).unwrap();
        let mut m = start(&mut store);
        after.push(summary(&m));
        for (k, step) in STEPS.iter().enumerate() {
            run(&mut m, &mut store, k, *step).unwrap();
            after.push(summary(&m));
        }
    }
    let mut device = fresh;
    for (k, step) in STEPS.iter().enumerate() {
        let cost = {
            let before = device.bytes_touched();
            let (mut s, _) = MeterStore::open(device.clone(), &LAYOUT).unwrap();
            let mut m = start(&mut s);
            run(&mut m, &mut s, k, *step).unwrap();
            s.release().bytes_touched() - before
        };
        for budget in 0..=cost {
            let mut d = device.clone();
            d.cut_after(budget);
            let (mut s, _) = MeterStore::open(d, &LAYOUT).unwrap();
            let mut m = start(&mut s);
            let acknowledged = run(&mut m, &mut s, k, *step).is_ok();
            let mut d = s.release();
            d.power_on();
            let (mut s, found) = MeterStore::open(d, &LAYOUT).unwrap();
            assert!(
                !matches!(found, Found::FellBack(_)),
                "step {k} budget {budget}: {found:?}"
            );
            let mut m = start(&mut s);
            let got = summary(&m);
            assert!(
                got == after[k] || got == after[k + 1],
                "step {k} ({step:?}), budget {budget}: {got:?}"
            );
            if acknowledged {
                assert_eq!(got, after[k + 1], "step {k}: acknowledged, so durable");
            }
            assert!(got.2 >= after[k].2, "the security counter never goes back");
            // The head-end, not knowing, runs the step again (a recharge is resent as the
            // same sealed frame): the meter ends exactly where the uncut run did, so a
            // recharge is credited once.
            run(&mut m, &mut s, k, *step).unwrap();
            if matches!(step, Step::Recharge(..) | Step::KeyUpdate) || got == after[k] {
                assert_eq!(summary(&m), after[k + 1], "step {k}, budget {budget}");
            }
        }
        let (mut s, _) = MeterStore::open(device, &LAYOUT).unwrap();
        let mut m = start(&mut s);
        run(&mut m, &mut s, k, *step).unwrap();
        device = s.release();
    }
}

#[test]
fn a_meter_survives_a_cut_at_any_byte_on_nor_flash() {
    crate::wear::with_stack(|| sweep(Nor(MockFlash::<{ 20 * 1024 }, 1024, 4>::new())));
}

#[test]
fn a_meter_survives_a_cut_at_any_byte_on_eeprom() {
    crate::wear::with_stack(|| {
        sweep(prepaid_meter::storage::Eeprom(
            prepaid_meter::mock::MockEeprom::<{ 20 * 1024 }, 64>::new(),
        ))
    });
}
