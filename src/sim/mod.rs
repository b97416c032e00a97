//! The whole system in simulated time: scenario files run on a head-end, a concentrator and
//! the crate's meters, exchanging real DL/T 645 frames (feature `sim`).
//!
//! A [`Scenario`] is read from a TOML file ([`Scenario::parse`]) and run by a
//! [`Simulation`]: the crate's [`HeadEnd`](crate::headend::HeadEnd) (with a
//! [`MemoryLedger`](crate::headend::MemoryLedger) and shadow accounts) sells the purchases and
//! campaigns the prices; a [`Concentrator`](crate::concentrator::Concentrator) with four
//! RS485 channels polls every meter each 15 minutes, confirms credit alarms over two readings
//! and forwards the head-end's sealed frames; each [`Meter`](crate::meter::Meter) is the one
//! a firmware runs, fed the pulses of its load. Frames go through an in-memory bus, byte for
//! byte. The closing state ([`Simulation::outcome`]), the timeline ([`Simulation::timeline`])
//! and the hourly samples ([`Simulation::samples`]) are what the `simulate` example prints
//! and plots.
//!
//! # Scenario format, version 1
//!
//! TOML. Amounts and prices are decimal strings (money at most four decimals, kWh at most
//! three); instants are RFC 3339 with seconds and an offset. An unknown key, a missing key, a
//! value of the wrong type or out of range is refused with a [`ScenarioError`] naming the line
//! and the key.
//!
//! ```toml
//! format = 1
//! start = "2027-03-01T00:00:00+08:00"   # its offset is every meter's local time
//! days = 31                              # 1..=3660
//!
//! [tariff]
//! # TOU prices of tariffs 1..4 (sharp, peak, flat, valley) per kWh, all four
//! prices = ["1.2000", "0.9000", "0.6000", "0.3000"]
//! # The daily switch table, every day the same: local "HH:MM" and the tariff number (1..=4)
//! # that starts then; the first is "00:00", each after the one before.
//! day = [["00:00", 4], ["08:00", 2], ["11:00", 1], ["13:00", 3], ["17:00", 2], ["22:00", 4]]
//!
//! [tariff.tiers]                 # optional; settled monthly on the 1st at 00:00 local
//! thresholds = ["200", "400"]    # kWh in the month (from `start` in the first month), > 0, increasing
//! surcharges = ["0.0500", "0.3000"]  # added to the TOU price above each threshold (the 2nd
//!                                # replaces the 1st), one per threshold
//!
//! [[meter]]                      # 1..=64 of them
//! address = "202700000001"       # 12 digits, each meter its own
//! constant = 1600                # imp/kWh, 1..=100000
//! opening_credit = "50.00"       # bought when the account is opened, at `start`
//! alarm1 = "20.00"               # low-credit thresholds, 0 <= alarm2 <= alarm1
//! alarm2 = "10.00"
//! overdraft = "5.00"             # the supply is cut off when the balance reaches -overdraft
//! load = 500                     # watts, every hour; or 24 numbers, one per local hour
//!
//! [[purchase]]                   # any number
//! at = "2027-03-10T09:00:00+08:00"   # within the run
//! meter = "202700000001"         # one of the meters
//! amount = "100.00"              # above zero
//!
//! [[price_change]]               # a campaign: these prices, for every meter, from `at` on
//! at = "2027-03-16T00:00:00+08:00"
//! prices = ["1.3000", "1.0000", "0.7000", "0.3500"]
//! ```
//!
//! # What the simulation does
//!
//! - **Load and pulses.** A meter's load is constant within each local hour. Its metering
//!   chip sees exactly that energy while the relay is closed and none while it is open: a
//!   pulse completes when `1/constant` kWh has accumulated, and the part of a pulse under way
//!   is kept across a cut-off. The pulses that complete in a second are counted at its end
//!   ([`LoadedMeter`]).
//! - **Money.** The meter's own engines rate and debit the energy ([`Meter::tick`]); nothing
//!   of the simulation computes money.
//! - **Stepping.** A firmware ticks every 0.5 s; a simulation of a month cannot. With
//!   [`Stepping::Horizon`] (the default) each meter is ticked as far as
//!   [`Meter::horizon`] allows: one tick carries every pulse up to the next instant at which
//!   a decision can change (a tariff switch, a freeze, the end of a demand period) or up to
//!   the pulse that could take the balance across its next threshold, and near a threshold
//!   it is ticked at each pulse. [`Stepping::Pulses`] ticks in each second in which a pulse
//!   completes, [`Stepping::EverySecond`] every second; all three leave the meters in the same
//!   state (tested on the scenarios of `tests/sim`).
//! - **The system** runs every 15 minutes (the concentrator's polls) and at each purchase or
//!   campaign instant, after ticking every meter at that instant: purchases are paid at the
//!   head-end, campaigns started, the head-end's frames forwarded and the concentrator's
//!   polls answered, all within the same instant (the bus takes no simulated time). Then each
//!   customer whose supply is off presses the button: the meter closes the relay only where
//!   its account allows it, that is once a recharge has lifted the balance above zero.
//!
//! No trip delay, friendly period, standing charge or low-credit trip is set.
//!
//! [`Meter::tick`]: crate::meter::Meter::tick
//! [`Meter::horizon`]: crate::meter::Meter::horizon

mod load;
mod run;
mod scenario;

pub use load::{LoadedMeter, Stepping};
pub use run::{
    CHANNELS, Happening, MeterOutcome, Outcome, POLL_MINUTES, Sample, SimError, Simulation, What,
};
pub use scenario::{
    BUILTIN, MAX_DAYS, MAX_METERS, MAX_WATTS, MeterSpec, PriceChangeSpec, PurchaseSpec, Scenario,
    ScenarioError, TARIFFS, format_rfc3339, parse_rfc3339,
};
