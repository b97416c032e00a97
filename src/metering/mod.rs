//! Pulses to energy.
