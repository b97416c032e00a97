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
//! The firmware calls one [`meter::Meter`]. The pulse interrupt records edges in a
//! [`metering::PulseCounter`]; every 0.5 s the main loop drains it into [`meter::Meter::tick`],
//! which turns pulses into exact watt-hours, rates them with the tariff, adds them to the
//! energy registers, debits the prepaid account, takes the freezes due and decides the relay.
//! Each DL/T 645 frame received on the RS485 line goes to [`meter::Meter::receive`]. Every
//! call returns [`meter::Actions`]: drive the latching relay, commit these store areas, send
//! the answer now or once the commit is durable. Nothing here touches hardware: the caller
//! passes time, pulses and bytes in and acts on what comes back.
//!
//! ```
//! use prepaid_meter::account::{Config, Limits};
//! use prepaid_meter::endpoint::dlt645::Client;
//! use prepaid_meter::meter::{Answer, KeyRecord, Meter, MeterConfig, Stored, OPEN_ACCOUNT};
//! use prepaid_meter::metering::{GlitchFilter, MeterConstant, PulseCounter};
//! use prepaid_meter::purchase::{CustomerNumber, Purchase};
//! use prepaid_meter::security::{Command, CommandCounter, MasterKey, SecurityConfig};
//! use prepaid_meter::tariff::{
//!     Calendar, DayTable, MonthDay, Season, SwitchPoint, Tariff, TariffSet, Tiers, WeekRule,
//! };
//! use prepaid_meter::time::{Instant, Timestamp, UtcOffset};
//! use prepaid_meter::units::{Money, Price};
//! use prepaid_meter::wire::dlt645::Di;
//!
//! /// A flat tariff: tariff 1 at 0.5283 yuan/kWh all day, every day.
//! fn flat_tariff() -> Result<Tariff, Box<dyn std::error::Error>> {
//!     let day = DayTable::new(&[SwitchPoint::new(0, 0, 1)])?;
//!     let season = Season { start: MonthDay::new(1, 1), week: WeekRule::uniform(1) };
//!     let calendar = Calendar::new(&[season], &[day])?;
//!     let prices = [Price::from_minor_per_kwh(5_283)];
//!     Ok(Tariff::new(UtcOffset::CHINA, &[], TariffSet::new(calendar, &prices, Tiers::none())?)?)
//! }
//! # /// A deterministic random source for the example (a firmware uses its TRNG).
//! # struct Rng(u64);
//! # impl rand_core::TryRng for Rng {
//! #     type Error = core::convert::Infallible;
//! #     fn try_next_u32(&mut self) -> Result<u32, Self::Error> { Ok(self.try_next_u64()? as u32) }
//! #     fn try_next_u64(&mut self) -> Result<u64, Self::Error> { self.0 = self.0.wrapping_mul(6364136223846793005).wrapping_add(1); Ok(self.0) }
//! #     fn try_fill_bytes(&mut self, d: &mut [u8]) -> Result<(), Self::Error> { for b in d { *b = self.try_next_u64()? as u8; } Ok(()) }
//! # }
//! # impl rand_core::TryCryptoRng for Rng {}
//!
//! # fn main() -> Result<(), Box<dyn std::error::Error>> {
//! // Start-up: configuration is validated once, here; `Stored::NONE` for a new meter (a
//! // firmware reads its store first, see `meter::persist`).
//! let constant = MeterConstant::new(1600)?; // imp/kWh
//! let filter = GlitchFilter::from_max_power(constant, 13_200)?; // 60 A at 220 V
//! static PULSES: PulseCounter = PulseCounter::new(); // shared with the pulse interrupt
//! let yuan = |y| Money::from_units(y).ok_or("range");
//! let limits = Limits { alarm1: yuan(20)?, alarm2: yuan(10)?, overdraft: yuan(5)?, hoarding: yuan(5_000)?, reconnect: yuan(1)? };
//! let address = "201000000012".parse()?;
//! let master = MasterKey::new(&[0x42; 16], SecurityConfig::DEFAULT.tag_len()); // the head-end's
//! let keys = KeyRecord::new(1, &master.meter_keys(address, 1)); // provisioned at the factory
//! let start = Timestamp::from_unix(1_764_554_400); // 2025-12-01 10:00 at UTC+8
//! let config = MeterConfig::new(address, constant, Config::local(limits));
//! let (mut meter, _found) = Meter::start(config, keys, flat_tariff()?, Stored::NONE, start)?;
//! let mut rng = Rng(7);
//!
//! // The head-end opens the account with 100 yuan: a sealed 03H frame on the line.
//! let purchase = Purchase { customer: CustomerNumber::new([1, 0, 0, 0, 0, 0]), count: 1, amount: yuan(100)? };
//! let mut sealed = [0u8; 128];
//! let s = master.meter(address, 1).seal(&mut CommandCounter::new(1), &Command::OpenAccount(purchase), start.checked_add_secs(600).ok_or("range")?, &mut sealed)?;
//! let mut rx = [0u8; 300];
//! let n = Client::new(address).security(OPEN_ACCOUNT, &sealed[..s.len], &mut rx)?;
//! let actions = meter.receive(start, &rx[..n], &mut rng);
//! // A recharge is answered only once it is durable: commit `actions.save`, then `saved`.
//! assert_eq!(actions.answer, Answer::AfterSave);
//! meter.saved(actions.save); // (here, no store)
//! let _answer = meter.transmit().ok_or("answer")?; // send it on the line
//!
//! // The main loop, every 0.5 s, here for one minute of a 2 kW load (0.89 pulses a second).
//! let mut relay_closed = true;
//! for step in 1..=120u32 {
//!     let now = start.checked_add_secs(i64::from(step / 2)).ok_or("range")?;
//!     // What the pulse interrupt did meanwhile (in firmware: `PULSES.on_pulse` in the ISR).
//!     if relay_closed && step % 9 == 0 {
//!         PULSES.on_pulse(Instant::from_micros(u64::from(step) * 500_000), filter);
//!     }
//!     let actions = meter.tick(now, PULSES.drain().accepted);
//!     // Outputs: drive the latching relay's coils, store what is due, light the alarm LED.
//!     if let Some(contacts) = actions.drive {
//!         relay_closed = matches!(contacts, prepaid_meter::account::Contacts::Closed);
//!     }
//!     if !actions.save.is_empty() {
//!         meter.saved(actions.save); // after `persist::save` commits it
//!     }
//!     let _alarm_led = meter.indicators().alarm_led;
//! }
//! let shown = meter.display(); // balance, energy, relay and alarms, for the LCD
//! assert!(shown.balance < yuan(100)?);
//!
//! // A concentrator reads the balance (00900200).
//! let n = Client::new(address).read(Di(0x0090_0200), &mut rx)?;
//! let now = start.checked_add_secs(60).ok_or("range")?;
//! let actions = meter.receive(now, &rx[..n], &mut rng);
//! assert_eq!(actions.answer, Answer::Ready);
//! let answer = Client::new(address).parse_answer(meter.transmit().ok_or("answer")?)?;
//! let (cents, _) = shown.balance.to_cents(); // XXXXXX.XX on the wire
//! assert_eq!(Client::money(&answer, Di(0x0090_0200))?, Money::from_cents(cents).ok_or("range")?);
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
//! # let day = DayTable::new(&[SwitchPoint::new(0, 0, 1)])?;
//! # let season = Season { start: MonthDay::new(1, 1), week: WeekRule::uniform(1) };
//! # let calendar = Calendar::new(&[season], &[day])?;
//! # let prices = [Price::from_minor_per_kwh(5_283)];
//! # let tariff = Tariff::new(UtcOffset::CHINA, &[], TariffSet::new(calendar, &prices, Tiers::none())?)?;
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
//! | application | [`meter`] (the firmware core: one sans-IO `Meter` joining everything below) |
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
//!   `freeze::DEFAULT_DAILY`, ...), never cargo features. As with `HashMap::new` and
//!   `HashMap::with_hasher`, a constructor whose arguments do not fix the capacities (`new`,
//!   `Config::local`, `Config::remote`, `Tariff::parse`, `Meter::start`) is defined at the
//!   default capacities only, so that it needs no type annotations; its twin with the suffix
//!   `_sized` (`new_sized`, `local_sized`, ..., `start_sized`) takes any capacities, named in
//!   the type (`DayTable::<12>::new_sized(..)`, `SmallMeter::start_sized(..)`) or inferred from
//!   where the value goes. Constructors whose arguments carry the capacities (`Account::new`
//!   from its `Config`, `restore` from a state, `BatchPlan::new` from its tariff) are generic
//!   and infer them.
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
//! | `alloc` | `tariff::BatchPlan`: batch rating of interval series for servers; `headend`: vending, ledger, shadow accounts, campaigns, notifications |
//! | `std` | implies `alloc`; the `std` critical-section implementation and `std` support in serde and embedded-io |
//! | `serde` | `Serialize`/`Deserialize` for the value types; works without `std` |
//! | `defmt` | `defmt::Format` for the value and error types |
//! | `hal` | [`hal`]: embedded-hal 1.0 drivers: polled and interrupt pulse inputs feeding [`metering::PulseCounter`], a latching relay driver (dual coil or H-bridge, pulse width, feedback with bounded retries), alarm LED and buzzer outputs (active high or low); with `io` too, an RS485 half-duplex transmitter (DE turnaround and tail) |
//! | `io` | [`io`]: DL/T 645 frame reader and writer over embedded-io 0.7; a non-blocking `poll_frame` (with `ReadReady`) that drops a partial frame after the inter-byte timeout |
//! | `storage` | [`storage`]: a power-fail-safe store of a meter's state on embedded-storage NOR flash or EEPROM; [`meter::persist`]: a [`meter::Meter`] loaded from and saved to it |
//! | `sim` | implies `std`; `sim`: scenario files (TOML) run on the whole system, a head-end, a concentrator and the crate's meters exchanging DL/T 645 frames in simulated time |
//! | `sqlite` | implies `std`; `headend::SqliteLedger`, the head-end's payment ledger in a SQLite database (SQLite bundled) |
//! | `_test` | internal, semver exempt: `mock`, a simulated NOR flash and EEPROM with power cuts and bit flips for tests |
#![cfg_attr(not(any(test, feature = "std")), no_std)]
#![cfg_attr(docsrs, feature(doc_cfg))]

#[cfg(feature = "alloc")]
extern crate alloc;

pub mod account;
pub mod address;
pub mod bcd;
pub mod concentrator;
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

#[cfg(feature = "alloc")]
#[cfg_attr(docsrs, doc(cfg(feature = "alloc")))]
pub mod headend;

#[cfg(feature = "sim")]
#[cfg_attr(docsrs, doc(cfg(feature = "sim")))]
pub mod sim;

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
