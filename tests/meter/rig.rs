//! The test rig: a [`SmallMeter`] in a store on the crate's simulated NOR flash, driven the
//! way a firmware drives it (every save committed before an answer goes out), and a head-end
//! that seals commands for it and reads its answers.

use prepaid_meter::account::{Config, Contacts, Limits};
use prepaid_meter::address::Address;
use prepaid_meter::endpoint::dlt645::Client;
use prepaid_meter::meter::{
    Actions, Answer, KeyRecord, MeterConfig, SmallMeter, SmallTariff, Started, persist,
};
use prepaid_meter::metering::MeterConstant;
use prepaid_meter::mock::MockFlash;
use prepaid_meter::purchase::{CustomerNumber, Purchase};
use prepaid_meter::security::{
    Command, CommandCounter, MasterKey, MeterSealer, Reply, SecurityConfig,
};
use prepaid_meter::storage::{AreaLayout, MeterStore, Nor};
use prepaid_meter::tariff::{
    Calendar, DayTable, MonthDay, Season, SwitchPoint, TariffSet, Tiers, WeekRule,
};
use prepaid_meter::time::{Timestamp, UtcOffset};
use prepaid_meter::units::{Money, Price};
use prepaid_meter::wire::dlt645::{Di, Response};

#[path = "../support/rng.rs"]
mod rng;
pub use rng::TestRng;

pub type Flash = MockFlash<{ 64 * 1024 }, 4096, 4>;
pub type Store = MeterStore<Nor<Flash>>;

/// 2025-01-01 08:00 at UTC+8.
pub const T0: i64 = 1_735_689_600;
pub const MASTER: [u8; 16] = [0x5A; 16];
pub const CUSTOMER: CustomerNumber = CustomerNumber::new([0x34, 0x12, 0, 0, 0, 0]);
/// Meter constant: 1 000 imp/kWh, one pulse a watt-hour.
pub const CONSTANT: u32 = 1_000;

pub fn layout() -> [AreaLayout; 5] {
    persist::layout(0, 4096, [1024, 2048, 3072, 1024, 128])
}

pub fn yuan(y: i64) -> Money {
    Money::from_units(y).unwrap()
}

pub fn at(secs: i64) -> Timestamp {
    Timestamp::from_unix(T0 + secs)
}

pub fn address() -> Address {
    "201000000012".parse().unwrap()
}

pub fn limits() -> Limits<Money> {
    Limits {
        alarm1: yuan(20),
        alarm2: yuan(10),
        overdraft: yuan(5),
        hoarding: yuan(500),
        reconnect: yuan(0),
    }
}

pub fn config() -> MeterConfig {
    MeterConfig::new(
        address(),
        MeterConstant::new(CONSTANT).unwrap(),
        Config::local(limits()),
    )
}

/// 0.5000 yuan/kWh all day, every day.
pub fn tariff() -> SmallTariff {
    let day = DayTable::<8>::new_sized(&[SwitchPoint::new(0, 0, 1)]).unwrap();
    let season = Season {
        start: MonthDay::new(1, 1),
        week: WeekRule::uniform(1),
    };
    let calendar = Calendar::<4, 4, 8>::new_sized(&[season], &[day]).unwrap();
    let set =
        TariffSet::new_sized(calendar, &[Price::from_minor_per_kwh(5_000)], Tiers::none()).unwrap();
    SmallTariff::new_sized(UtcOffset::CHINA, &[], set).unwrap()
}

pub fn head_end() -> MasterKey {
    MasterKey::new(&MASTER, SecurityConfig::DEFAULT.tag_len())
}

pub fn provisioned() -> KeyRecord {
    KeyRecord::new(1, &head_end().meter_keys(address(), 1))
}

pub fn sealer(version: u16) -> MeterSealer {
    head_end().meter(address(), version)
}

/// A meter in its store, and what the firmware did on its behalf.
pub struct Rig {
    pub meter: SmallMeter,
    pub store: Store,
    /// Caller time, seconds since [`T0`].
    pub secs: i64,
    pub rng: TestRng,
    /// Where the relay was last driven (the firmware's latching relay).
    pub relay: Contacts,
    /// Every save committed (one per `persist::save` call that wrote something).
    pub saves: u32,
}

impl Rig {
    /// A new meter on blank flash.
    pub fn new() -> Rig {
        let (rig, started) = Rig::boot(Flash::new(), 0);
        assert_eq!(started, Started::Fresh);
        rig
    }

    /// Starts a meter from `flash` at caller time `secs`.
    pub fn boot(flash: Flash, secs: i64) -> (Rig, Started) {
        let (mut store, found) = MeterStore::open(Nor(flash), &layout()).unwrap();
        // Room for the largest record of the layout: the areas are read one at a time.
        let mut buf = vec![0u8; 3072];
        let mut slot: Option<SmallMeter> = None;
        let started = persist::start(
            &mut slot,
            &mut store,
            found,
            &mut buf,
            &config(),
            provisioned(),
            &tariff(),
            at(secs),
        )
        .unwrap();
        let meter = slot.unwrap();
        let relay = meter.contacts();
        let rig = Rig {
            meter,
            store,
            secs,
            rng: TestRng(0x9E37_79B9_7F4A_7C15),
            relay,
            saves: 0,
        };
        (rig, started)
    }

    /// Power cycle: the flash as it is now, a new meter started from it.
    pub fn restart(self) -> (Rig, Started) {
        let secs = self.secs;
        Rig::boot(self.store.release().0, secs)
    }

    /// Acts on `actions` as a firmware does: drives the relay, commits what is to be saved.
    /// `Err(())` when the commit failed (the power was cut).
    pub fn act(&mut self, actions: Actions) -> Result<(), ()> {
        if let Some(c) = actions.drive {
            self.relay = c;
        }
        if !actions.save.is_empty() {
            let mut record = vec![0u8; 4096];
            let mut hot = vec![0u8; 1024];
            match persist::save(&mut self.meter, &mut self.store, &mut record, &mut hot) {
                Ok(_) => self.saves += 1,
                Err(_) => return Err(()),
            }
        }
        Ok(())
    }

    /// One 0.5 s tick at the current time with `pulses`.
    pub fn tick(&mut self, pulses: u32) -> Actions {
        let a = self.meter.tick(at(self.secs), pulses);
        self.act(a).unwrap();
        a
    }

    /// Runs a constant load of `watts` for `secs` seconds in ticks of 1 s (the pulses of each
    /// second, with the remainder carried); no pulses while the relay is open. Returns every
    /// tick's actions.
    pub fn run(&mut self, watts: u64, secs: i64, carry: &mut u64) -> Vec<Actions> {
        let mut all = Vec::new();
        for _ in 0..secs {
            self.secs += 1;
            let pulses = if self.relay == Contacts::Closed {
                *carry += watts * u64::from(CONSTANT);
                let p = *carry / 3_600_000;
                *carry %= 3_600_000;
                p as u32
            } else {
                0
            };
            all.push(self.tick(pulses));
        }
        all
    }

    /// Sends `frame` as a firmware would: an answer that waits for a save is sent only once
    /// the save is durable. `Err(())`: the save failed, nothing was sent.
    pub fn exchange(&mut self, frame: &[u8]) -> Result<Option<Vec<u8>>, ()> {
        let a = self.meter.receive(at(self.secs), frame, &mut self.rng);
        if a.answer == Answer::AfterSave {
            assert!(
                self.meter.transmit().is_none(),
                "an answer went out before its save"
            );
        }
        self.act(a)?;
        Ok(match a.answer {
            Answer::None => None,
            Answer::Ready | Answer::AfterSave => Some(self.meter.transmit().unwrap().to_vec()),
        })
    }

    /// [`Rig::exchange`] that must succeed and be answered.
    pub fn send(&mut self, frame: &[u8]) -> Vec<u8> {
        self.exchange(frame).unwrap().expect("an answer")
    }
}

pub fn client() -> Client {
    Client::new(address())
}

/// A 03H frame carrying `command` sealed with `counter` (advanced), valid for a day.
pub fn sealed_03h(
    di: Di,
    command: &Command<'_>,
    counter: &mut CommandCounter,
    now: i64,
) -> (Vec<u8>, prepaid_meter::security::Sealed) {
    let mut sealed = [0u8; 160];
    let s = sealer(counter.key_version)
        .seal(counter, command, at(now + 86_400), &mut sealed)
        .unwrap();
    let mut frame = [0u8; 300];
    let n = client().security(di, &sealed[..s.len], &mut frame).unwrap();
    (frame[..n].to_vec(), s)
}

pub fn purchase(count: u32, amount: i64) -> Purchase<Money> {
    Purchase {
        customer: CUSTOMER,
        count,
        amount: yuan(amount),
    }
}

/// The head-end's reading of a purchase answer: the balance after and the purchase count, from
/// the sealed reply it opens with its keys.
pub fn purchase_reply(answer: &[u8], sent: &prepaid_meter::security::Sealed) -> (Money, u32) {
    let response = client().parse_answer(answer).unwrap();
    let Response::Security { data, .. } = response else {
        panic!("not a security answer: {response:?}");
    };
    let mut bytes = [0u8; 255];
    let n = data.len();
    data.copy_to(&mut bytes).unwrap();
    let reply: Reply<'_> = sealer(sent.expected_response().key_version)
        .open_response(&mut bytes[..n], sent)
        .unwrap();
    let d = reply.data;
    (
        Money::from_minor(i64::from_be_bytes(d[..8].try_into().unwrap())),
        u32::from_be_bytes(d[8..12].try_into().unwrap()),
    )
}

/// Runs `f` on a thread with a large stack: the rig moves a 64 KiB simulated flash and a
/// meter by value, which a debug build's default test stack does not hold.
pub fn big_stack(f: impl FnOnce() + Send + 'static) {
    std::thread::Builder::new()
        .stack_size(256 << 20)
        .spawn(f)
        .unwrap()
        .join()
        .unwrap();
}
