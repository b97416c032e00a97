//! When the meter saves its hot state during consumption.

use crate::units::Energy;

/// When the hot state is due to be saved: after `energy_step` of energy, or `max_secs`
/// seconds, since the last save, whichever comes first. The energy a power cut can lose is
/// at most `energy_step` (or what `max_secs` of load draws), and nothing when the power-fail
/// signal triggers a save.
///
/// ```
/// use prepaid_meter::meter::SavePolicy;
/// use prepaid_meter::units::Energy;
/// let p = SavePolicy { energy_step: Energy::from_wh(10), max_secs: 900 };
/// assert!(!p.due(Energy::from_wh(9), 899));
/// assert!(p.due(Energy::from_wh(10), 0));
/// assert!(p.due(Energy::ZERO, 900));
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub struct SavePolicy {
    /// Energy since the last save that makes a save due (DL/T 645 registers count 0.01 kWh).
    pub energy_step: Energy,
    /// Seconds since the last save that make a save due.
    pub max_secs: u32,
}

impl SavePolicy {
    /// A save every 0.01 kWh or 15 minutes.
    pub const TYPICAL: SavePolicy = SavePolicy {
        energy_step: Energy::from_wh(10),
        max_secs: 900,
    };

    /// `true` when a save is due.
    #[must_use]
    pub fn due(&self, energy_since: Energy, secs_since: u32) -> bool {
        energy_since.wh() >= self.energy_step.wh() || secs_since >= self.max_secs
    }
}
