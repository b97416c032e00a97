//! # prepaid-meter
//!
//! The portable core of a remote prepaid electricity metering system: the same code runs in
//! meter firmware (`no_std`, no allocator, Cortex-M0 and up), in concentrators and in head-end
//! servers (`std`), so that a head-end's shadow account reproduces a meter's balance bit for bit.
//!
//! ## Getting started
//!
//! Two programs use the crate: the firmware of a meter, and the head-end that sells its
//! customer credit. Both are built from the same engines, so they agree to the last unit.
//!
//! ### A meter's main loop
//!
//! The pulse interrupt records edges in a [`metering::PulseCounter`]; every 0.5 s the main
//! loop drains it, turns pulses into exact watt-hours ([`metering::EnergyAccumulator`]), rates
//! them with the tariff ([`tariff::Rater`]), adds them to the energy registers
//! ([`metering::EnergyRegisters`]) and debits the prepaid account ([`account::MoneyAccount`]),
//! whose [`account::Effects`] say what to do with the relay and the alarm outputs. A DL/T 645
//! frame received on the RS485 line goes to an [`endpoint::dlt645::Server`], which is handed
//! the meter's data ([`endpoint::dlt645::MeterData`]) with each request and returns the answer
//! to send. Nothing here touches hardware: the caller passes time, pulses and bytes in.
//!
//! ```
//! use prepaid_meter::account::{Config, Limits, MoneyAccount};
//! use prepaid_meter::address::Address;
//! use prepaid_meter::endpoint::dlt645::{Client, MeterData, Server, ServerConfig};
//! use prepaid_meter::metering::{
//!     Flow, EnergyAccumulator, EnergyRegisters, GlitchFilter, MeterConstant, PulseCounter,
//! };
//! use prepaid_meter::purchase::{CustomerNumber, Purchase};
//! use prepaid_meter::tariff::{
//!     Calendar, DayTable, MonthDay, Rater, Season, SwitchPoint, Tariff, TariffSet, Tiers, WeekRule,
//! };
//! use prepaid_meter::time::{Instant, Timestamp, UtcOffset};
//! use prepaid_meter::units::{Energy, Money, Price};
//! use prepaid_meter::wire::dlt645::{registry::EnergyKind, Di};
//!
//! /// A flat tariff: tariff 1 at 0.5283 yuan/kWh all day, every day.
//! fn flat_tariff() -> Result<Tariff, Box<dyn std::error::Error>> {
//!     let day: DayTable = DayTable::new(&[SwitchPoint::new(0, 0, 1)])?;
//!     let season = Season { start: MonthDay::new(1, 1), week: WeekRule::uniform(1) };
//!     let calendar: Calendar = Calendar::new(&[season], &[day])?;
//!     let prices = [Price::from_minor_per_kwh(5_283)];
//!     Ok(Tariff::new(UtcOffset::CHINA, &[], TariffSet::new(calendar, &prices, Tiers::none())?)?)
//! }
//!
//! /// What the DL/T 645 server reads: the registers and the account (every other
//! /// `MeterData` item has a default that answers "no such data").
//! struct Meter {
//!     address: Address,
//!     registers: EnergyRegisters<4>,
//!     account: MoneyAccount,
//! }
//!
//! impl MeterData for Meter {
//!     fn address(&self) -> Address {
//!         self.address
//!     }
//!     fn energy(&self, kind: EnergyKind, tariff: u8, period: u8) -> Option<Energy> {
//!         match (kind, tariff, period) {
//!             (EnergyKind::ForwardActive, 0, 0) => Some(self.registers.total(Flow::Import)),
//!             (EnergyKind::ForwardActive, t, 0) => self.registers.tariff(Flow::Import, t).ok(),
//!             _ => None,
//!         }
//!     }
//!     fn balance(&self) -> Option<Money> {
//!         Some(self.account.remaining())
//!     }
//! }
//!
//! # fn main() -> Result<(), Box<dyn std::error::Error>> {
//! // Start-up: configuration is validated once, here.
//! let constant = MeterConstant::new(1600)?; // imp/kWh
//! let filter = GlitchFilter::from_max_power(constant, 13_200)?; // 60 A at 220 V
//! static PULSES: PulseCounter = PulseCounter::new(); // shared with the pulse interrupt
//! let mut accumulator = EnergyAccumulator::new(constant);
//! let tariff = flat_tariff()?;
//! let mut rater = Rater::new();
//! let limits = Limits {
//!     alarm1: Money::from_units(20).ok_or("range")?,
//!     alarm2: Money::from_units(10).ok_or("range")?,
//!     overdraft: Money::from_units(5).ok_or("range")?,
//!     hoarding: Money::from_units(5_000).ok_or("range")?,
//!     reconnect: Money::from_units(1).ok_or("range")?,
//! };
//! let mut meter = Meter {
//!     address: "201000000012".parse()?,
//!     registers: EnergyRegisters::new(),
//!     account: MoneyAccount::new(Config::local(limits), Money::ZERO)?,
//! };
//! let start = Timestamp::from_unix(1_764_554_400); // 2025-12-01 10:00 at UTC+8
//! let customer = CustomerNumber::new([0x01, 0, 0, 0, 0, 0]);
//! let amount = Money::from_units(100).ok_or("range")?;
//! meter.account.open(start, Purchase { customer, count: 1, amount })?;
//! let mut server = Server::new(ServerConfig::default())?;
//!
//! // The main loop, every 0.5 s, here for one minute of a 2 kW load (0.89 pulses a second).
//! let mut relay_closed = true;
//! for step in 1..=120u32 {
//!     let now = start.checked_add_secs(i64::from(step / 2)).ok_or("range")?;
//!     // What the pulse interrupt did meanwhile (in firmware: `PULSES.on_pulse` in the ISR).
//!     if relay_closed && step % 9 == 0 {
//!         PULSES.on_pulse(Instant::from_micros(u64::from(step) * 500_000), filter);
//!     }
//!     let pulses = PULSES.drain();
//!     let wh = accumulator.add_pulses(u64::from(pulses.accepted));
//!     let effects = if wh == Energy::ZERO {
//!         meter.account.tick(now)
//!     } else {
//!         let rated = rater.rate(&tariff, wh, now)?;
//!         meter.registers.add(Flow::Import, rated.slot.tariff, wh)?;
//!         meter.account.debit(now, rated.money)?
//!     };
//!     // Outputs: drive the latching relay's coils, show the alarms.
//!     if let Some(contacts) = effects.drive {
//!         relay_closed = matches!(contacts, prepaid_meter::account::Contacts::Closed);
//!     }
//!     let _alarm_led = !effects.alarms.is_empty();
//! }
//!
//! // A frame from the RS485 line (here: a concentrator reading the balance, 00900200).
//! let mut rx = [0u8; 32];
//! let n = Client::new(meter.address).read(Di(0x0090_0200), &mut rx)?;
//! let mut tx = [0u8; 300];
//! let len = server.handle(&mut meter, &rx[..n], start, &mut tx).ok_or("no answer")?;
//! // Send tx[..len] on the line; here, read it as the concentrator would:
//! let answer = Client::new(meter.address).parse_answer(&tx[..len])?;
//! let (cents, _) = meter.account.remaining().to_cents(); // XXXXXX.XX on the wire
//! assert_eq!(Client::money(&answer, Di(0x0090_0200))?, Money::from_cents(cents).ok_or("range")?);
//! assert!(meter.account.remaining() < amount);
//! # Ok(())
//! # }
//! ```
//!
//! ### A head-end
//!
//! The head-end holds the master key. It derives each meter's keys
//! ([`security::MasterKey`]), seals a recharge that only that meter can open, and keeps a shadow
//! account: it rates the meter's register readings with the same tariff and the same
//! [`tariff::Rater`], so its balance is the meter's, exactly.
//!
//! ```
//! use prepaid_meter::address::Address;
//! use prepaid_meter::purchase::{CustomerNumber, Purchase};
//! use prepaid_meter::security::{Command, CommandCounter, MasterKey, MeterSecurity, SecurityConfig, SoftwareModule};
//! use prepaid_meter::tariff::{
//!     Calendar, DayTable, MonthDay, Rater, Season, SwitchPoint, Tariff, TariffSet, Tiers, WeekRule,
//! };
//! use prepaid_meter::time::{Timestamp, UtcOffset};
//! use prepaid_meter::units::{Energy, Money, Price};
//!
//! # fn main() -> Result<(), Box<dyn std::error::Error>> {
//! # let day: DayTable = DayTable::new(&[SwitchPoint::new(0, 0, 1)])?;
//! # let season = Season { start: MonthDay::new(1, 1), week: WeekRule::uniform(1) };
//! # let calendar: Calendar = Calendar::new(&[season], &[day])?;
//! # let prices = [Price::from_minor_per_kwh(5_283)];
//! # let tariff: Tariff = Tariff::new(UtcOffset::CHINA, &[], TariffSet::new(calendar, &prices, Tiers::none())?)?;
//! let master = [0x42; 16]; // in a real head-end: in an HSM, never in code
//! let head_end = MasterKey::new(&master, SecurityConfig::DEFAULT.tag_len());
//! let address: Address = "201000000012".parse()?;
//! let now = Timestamp::from_unix(1_764_554_400);
//!
//! // Provisioning: the meter gets its own keys, derived from the master key.
//! let keys = head_end.meter_keys(address, 1);
//! let mut meter = MeterSecurity::new(address, SoftwareModule::new(1, &keys), SecurityConfig::DEFAULT)?;
//!
//! // Sell 50 yuan: a recharge sealed for this meter (the head-end stores its counter).
//! let purchase = Purchase {
//!     customer: CustomerNumber::new([0x01, 0, 0, 0, 0, 0]),
//!     count: 2,
//!     amount: Money::from_units(50).ok_or("range")?,
//! };
//! let mut counter = CommandCounter::new(1);
//! let mut frame = [0u8; 128];
//! let valid_until = now.checked_add_secs(3_600).ok_or("range")?;
//! let sealed = head_end.meter(address, 1).seal(&mut counter, &Command::Recharge(purchase), valid_until, &mut frame)?;
//! // ... sent in a DL/T 645 03H frame (`endpoint::dlt645::Client::security`); the meter opens it:
//! let pending = meter.open(&mut frame[..sealed.len], now)?;
//! assert_eq!(*pending.command(), Command::Recharge(purchase));
//!
//! // The shadow account: the meter rated 0.5 s increments of 1 Wh; the head-end rates the
//! // register reading once. The carried remainders make both the same to the last unit.
//! let mut on_meter = Rater::new();
//! let mut meter_money = Money::ZERO;
//! for _ in 0..733 {
//!     meter_money = meter_money.checked_add(on_meter.rate(&tariff, Energy::from_wh(1), now)?.money).ok_or("range")?;
//! }
//! let mut shadow = Rater::new();
//! let shadow_money = shadow.rate(&tariff, Energy::from_wh(733), now)?.money;
//! assert_eq!(shadow_money, meter_money);
//! # Ok(())
//! # }
//! ```
//!
//! The `simulate` example runs a whole day of this, and `virtual-meter` serves such a meter over
//! TCP and serial lines (see the README).
//!
//! ## Layers
//!
//! | layer | modules |
//! |---|---|
//! | endpoints | [`endpoint::dlt645`] (meter-side server, master-side client) |
//! | domain core | [`metering`] (pulses to energy, power, demand), [`tariff`] (TOU calendar, tiers, rating), [`account`] (credit, alarms, overdraft, relay decisions, recharge rules), [`freeze`] (hourly, daily and settlement-day frozen records) |
//! | wire and security | [`wire::dlt645`] (DL/T 645-2007 frames), [`security`] (key derivation, sealed commands, anti-replay) |
//! | foundations | [`units`] (energy, money, price, power), [`time`] (timestamps, civil calendar), [`bcd`], [`address`], [`purchase`] (customer number, purchase), [`relay`] (DL/T 645 relay codes), [`ring`] (record rings read back as "last n"), [`snapshot`] (stored forms of state) |
//! | adapters (features) | `hal` (embedded-hal 1.0 pulse inputs, latching relay, alarm LED and buzzer, RS485 direction), `io` (DL/T 645 frames over embedded-io, with the inter-byte timeout), `storage` (power-fail-safe meter store on NOR flash or EEPROM), `mock` (simulated flash for tests, internal) |
//!
//! Dependencies point downward only: the domain core never sees bytes or wire codes (the
//! endpoints map its errors to DL/T 645 error words), and the wire layer holds no state.
//!
//! The core is sans-IO: nothing in it reads a clock, touches a pin or does I/O. Callers pass the
//! current time, pulses and received bytes in and get decisions back. A value that carries a
//! decision the caller must act on (effects of an account operation, a pending sealed command,
//! the freezes due, a server's answer) is `#[must_use]`.
//!
//! ## Conventions
//!
//! - **Binary forms** (frames, payloads, stored state) have the same three operations
//!   everywhere: `buffer_len`, `emit` into a caller's buffer, and `parse` from bytes, which
//!   validates everything and never panics. `encode`/`decode` name value encodings inside a
//!   form (BCD digits, register formats).
//! - **State**: every stateful engine has a plain-data state type (`XState`), `state(&self)`
//!   and a validating `restore(config, state)` that refuses, with the module's typed error, a
//!   state the engine could not have reached. Its stored form is a [`snapshot::Snapshot`]:
//!   versioned and CRC-checked, without serde, so firmware built without serde persists
//!   everything; serde is an optional extra on the same types.
//! - **Capacities** are const generics with named defaults (`tariff::DEFAULT_TARIFFS`,
//!   `freeze::DEFAULT_DAILY`, ...), never cargo features.
//!
//! ## Numbers
//!
//! There are no floats anywhere in the crate. Energy is an integer count of watt-hours, money an
//! integer count of 1/10 000 of the currency unit ([`units::Money`]), prices an integer count of
//! 1/10 000 of the currency unit per kWh. Conversions that do not divide evenly return or carry
//! their remainder. Physical estimates (instantaneous power, demand) use the `fixed` crate.
//!
//! ## Panic contract
//!
//! No function reachable from the public API panics, on any input. Every fallible operation
//! returns a small `Copy` error enum, and an operation that returns an error leaves the state it
//! was called on unchanged. The crate denies `unwrap`, `expect` and `panic!` through clippy, and
//! its decoders are fuzzed (see `fuzz/`).
//!
//! ## Features
//!
//! | feature | what it adds |
//! |---|---|
//! | *(none)* | the whole core: `no_std`, no allocator |
//! | `alloc` | `tariff::BatchPlan`: batch rating of interval series for servers |
//! | `std` | implies `alloc`; the `std` critical-section implementation and `std` support in serde and embedded-io |
//! | `serde` | `Serialize`/`Deserialize` for the value types; works without `std` |
//! | `defmt` | `defmt::Format` for the value and error types |
//! | `hal` | [`hal`]: embedded-hal 1.0 drivers: polled and interrupt pulse inputs feeding [`metering::PulseCounter`], a latching relay driver (dual coil or H-bridge, pulse width, feedback with bounded retries), alarm LED and buzzer outputs (active high or low); with `io` too, an RS485 half-duplex transmitter (DE turnaround and tail) |
//! | `io` | [`io`]: DL/T 645 frame reader and writer over embedded-io 0.7; a non-blocking `poll_frame` (with `ReadReady`) that drops a partial frame after the inter-byte timeout |
//! | `storage` | [`storage`]: a power-fail-safe store of a meter's state on embedded-storage NOR flash or EEPROM |
//! | `_test` | internal, semver exempt: `mock`, a simulated NOR flash and EEPROM with power cuts and bit flips for tests |
#![cfg_attr(not(any(test, feature = "std")), no_std)]
#![cfg_attr(docsrs, feature(doc_cfg))]

#[cfg(feature = "alloc")]
extern crate alloc;

pub mod account;
pub mod address;
pub mod bcd;
pub mod endpoint;
pub mod freeze;
pub mod meter;
pub mod metering;
pub mod purchase;
pub mod relay;
pub mod ring;
pub mod security;
pub mod snapshot;
pub mod tariff;
pub mod time;
pub mod units;
pub mod wire;

#[cfg(feature = "hal")]
#[cfg_attr(docsrs, doc(cfg(feature = "hal")))]
pub mod hal;

#[cfg(feature = "io")]
#[cfg_attr(docsrs, doc(cfg(feature = "io")))]
pub mod io;

#[cfg(feature = "storage")]
#[cfg_attr(docsrs, doc(cfg(feature = "storage")))]
pub mod storage;

#[cfg(feature = "_test")]
pub mod mock;
