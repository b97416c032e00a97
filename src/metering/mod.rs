//! Pulses to energy: the counter an interrupt bumps, the glitch filter, exact pulse-to-Wh
//! conversion, DL/T 645 energy registers, and power and demand estimates.
//!
//! A metering chip (ADE7755 class) emits one pulse per `1/C` kWh, where `C` is the meter
//! constant ([`MeterConstant`], e.g. 1600 imp/kWh). The path of a pulse:
//!
//! 1. the pulse interrupt calls [`PulseCounter::on_pulse`] with the monotonic time; pulses closer
//!    together than the meter's maximum power allows are counted as rejected, not as energy
//!    ([`GlitchFilter`]);
//! 2. the main loop calls [`PulseCounter::drain`] and gets a [`PulseBatch`];
//! 3. an [`EnergyAccumulator`] turns the accepted pulses into whole watt-hours exactly, carrying
//!    the remainder, so after `n` pulses the total is `n × 1000 / C` Wh rounded down;
//! 4. [`EnergyRegisters`] add the energy to the total and the current tariff's register, with the
//!    DL/T 645 rollover at 999999.99 kWh;
//! 5. [`PowerEstimator`] and [`DemandMeter`] give instantaneous power and demand (`fixed`).
//!
//! # State across a power cut
//!
//! The engines a meter keeps have the crate's state shape ([`crate::snapshot`]): a plain-data
//! state type, `state(&self)`, and a validating `restore(config, state)` that refuses, with a
//! [`MeteringError`], a state no engine of that configuration can be in; each state type has a
//! versioned, CRC-checked stored form without serde.
//!
//! | engine | state | restore from | magic | stored bytes |
//! |---|---|---|---|---|
//! | [`EnergyAccumulator`] | [`EnergyAccumulatorState`] | the [`MeterConstant`] | `EA` | 13 |
//! | [`EnergyRegisters`] | [`EnergyRegistersState`] | — | `ER` | 73 (4 tariffs) |
//! | [`DemandMeter`] | [`DemandMeterState`] | constant and subperiod | `DM` | 53 (block demand) |
//!
//! [`PulseCounter`] holds only the pulses since the last drain (drained every loop) and
//! monotonic instants, and [`PowerEstimator`] only monotonic instants: none of it means
//! anything after a reset, so they have no stored state. [`GlitchFilter`] is configuration.
//!
//! ```
//! use prepaid_meter::metering::{
//!     Flow, EnergyAccumulator, EnergyRegisters, GlitchFilter, MeterConstant, PulseCounter,
//! };
//! use prepaid_meter::time::Instant;
//!
//! let c = MeterConstant::new(1600).unwrap();
//! static COUNTER: PulseCounter = PulseCounter::new();
//! let filter = GlitchFilter::from_max_power(c, 20_000).unwrap(); // 20 kW: 112.5 ms
//! for i in 0..3200u64 {
//!     COUNTER.on_pulse(Instant::from_millis(i * 200), filter); // in the pulse ISR
//! }
//! let batch = COUNTER.drain(); // in the main loop
//! let mut acc = EnergyAccumulator::new(c);
//! let mut regs = EnergyRegisters::new();
//! let wh = acc.add_pulses(batch.accepted.into());
//! regs.add(Flow::Import, 2, wh).unwrap();
//! assert_eq!(regs.total(Flow::Import).to_string(), "2.000 kWh");
//! ```

mod accumulator;
mod constant;
mod demand;
mod error;
mod power;
mod pulse;
mod register;

pub use accumulator::{EnergyAccumulator, EnergyAccumulatorState};
pub use constant::MeterConstant;
pub use demand::{DemandMeter, DemandMeterState, DemandReading};
pub use error::MeteringError;
pub use power::PowerEstimator;
pub use pulse::{GlitchFilter, PulseBatch, PulseCounter};
pub use register::{EnergyRegisters, EnergyRegistersState, Flow, ROLLOVER};
