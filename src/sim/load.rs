//! A meter driven by a load: the pulses its metering chip would see, and when to tick it.

use alloc::boxed::Box;

use crate::account::Contacts;
use crate::meter::{Actions, Meter};
use crate::time::{Timestamp, UtcOffset};

/// Energy of one pulse, in units of W·s × imp/kWh.
const PULSE: u64 = 3_600_000;

/// How simulated time advances for a meter.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum Stepping {
    /// As far as [`Meter::horizon`] allows: one tick carries every pulse up to the next
    /// instant at which a decision can change, or up to the pulse that could take the
    /// balance across its next threshold; near a threshold, a tick at each pulse.
    #[default]
    Horizon,
    /// A tick in each second in which a pulse completes.
    Pulses,
    /// A tick every second (the reference the others are checked against; slow).
    EverySecond,
}

/// The crate's [`Meter`] fed by a load that is constant within each local hour: while the
/// relay is closed the metering chip sees exactly that energy, and a pulse completes when
/// `1/constant` kWh has accumulated (the part of a pulse under way is kept across a cut-off).
/// The pulses that complete in a second are counted at its end.
///
/// ```
/// # use prepaid_meter::account::{Config, Limits};
/// # use prepaid_meter::address::Address;
/// # use prepaid_meter::meter::{KeyRecord, Meter, MeterConfig, Stored};
/// # use prepaid_meter::metering::MeterConstant;
/// # use prepaid_meter::security::{MasterKey, SecurityConfig};
/// # use prepaid_meter::sim::{LoadedMeter, Stepping};
/// # use prepaid_meter::tariff::{Calendar, DayTable, MonthDay, Season, SwitchPoint, Tariff, TariffSet, Tiers, WeekRule};
/// # use prepaid_meter::time::{Timestamp, UtcOffset};
/// # use prepaid_meter::units::{Money, Price};
/// # let limits = Limits { alarm1: Money::ZERO, alarm2: Money::ZERO, overdraft: Money::ZERO,
/// #     hoarding: Money::from_units(1_000).unwrap(), reconnect: Money::ZERO };
/// # let address = Address::from_number(1).unwrap();
/// # let config = MeterConfig::new(address, MeterConstant::new(1000).unwrap(), Config::remote());
/// # let day = DayTable::new(&[SwitchPoint::new(0, 0, 1)]).unwrap();
/// # let season = Season { start: MonthDay::new(1, 1), week: WeekRule::uniform(1) };
/// # let set = TariffSet::new(Calendar::new(&[season], &[day]).unwrap(), &[Price::from_minor_per_kwh(6_000)], Tiers::none()).unwrap();
/// # let tariff = Tariff::new(UtcOffset::CHINA, &[], set).unwrap();
/// let start = Timestamp::from_unix(1_803_830_400); // 2027-03-01T00:00:00+08:00
/// # let (meter, _) = Meter::start(config, KeyRecord::new(1, &MasterKey::new(&[7; 16], SecurityConfig::DEFAULT.tag_len()).meter_keys(address, 1)), tariff, Stored::NONE, start).unwrap();
/// let mut m = LoadedMeter::new(meter, [500; 24], UtcOffset::CHINA, start);
/// let end = start.checked_add_secs(86_400).unwrap();
/// let mut ticks = 0;
/// while let Some(t) = m.next_tick(Stepping::Horizon).filter(|t| *t <= end) {
///     let _ = m.tick(t);
///     ticks += 1;
/// }
/// let _ = m.tick(end);
/// assert_eq!(m.meter().registers().total(prepaid_meter::metering::Flow::Import).wh(), 12_000);
/// assert!(ticks < 200, "a day of 12 000 pulses in {ticks} ticks");
/// ```
pub struct LoadedMeter {
    meter: Box<Meter>,
    load: [u32; 24],
    offset: UtcOffset,
    imp_per_kwh: u64,
    /// Energy in the pulse under way, in W·s × imp/kWh (a pulse is [`PULSE`]).
    partial: u64,
    /// The instant up to which the load has been metered (the last tick).
    metered_to: Timestamp,
}

impl LoadedMeter {
    /// `meter`, last ticked (or started) at `now`, with `load` watts in each local hour at
    /// `offset`.
    pub fn new(meter: Meter, load: [u32; 24], offset: UtcOffset, now: Timestamp) -> LoadedMeter {
        let imp_per_kwh = u64::from(meter.constant().imp_per_kwh());
        LoadedMeter {
            meter: Box::new(meter),
            load,
            offset,
            imp_per_kwh,
            partial: 0,
            metered_to: now,
        }
    }

    /// The meter.
    pub fn meter(&self) -> &Meter {
        &self.meter
    }

    /// The meter, to hand it frames and button presses (between ticks).
    pub fn meter_mut(&mut self) -> &mut Meter {
        &mut self.meter
    }

    /// The instant of the last tick.
    pub fn metered_to(&self) -> Timestamp {
        self.metered_to
    }

    /// Ticks the meter at `now` (not before the last tick) with the pulses of its load since
    /// the last tick, and gives its actions; the caller commits what they ask to save.
    pub fn tick(&mut self, now: Timestamp) -> Actions {
        let pulses = self.meter_to(now.max(self.metered_to));
        self.meter.tick(now.max(self.metered_to), pulses)
    }

    /// When to tick next under `stepping`; `None`: no pulse is coming (the supply is off or
    /// the load is zero for a whole day) and nothing needs a tick.
    pub fn next_tick(&self, stepping: Stepping) -> Option<Timestamp> {
        let first = self.pulse_second(1, None);
        match stepping {
            Stepping::EverySecond => self.metered_to.checked_add_secs(1),
            Stepping::Pulses => first,
            Stepping::Horizon => {
                let h = self.meter.horizon(self.metered_to);
                if h.pulses == 0 {
                    return first;
                }
                match self.pulse_second(h.pulses.saturating_add(1), Some(h.until)) {
                    // Up to the second before the pulse too many; if that is no later than
                    // now, the pulses all fall in the next second and go in one tick, as a
                    // tick every second would give them.
                    Some(t) => {
                        let before = t.checked_add_secs(-1)?;
                        Some(if before > self.metered_to { before } else { t })
                    }
                    None if first.is_some_and(|f| f <= h.until) => Some(h.until),
                    None => first,
                }
            }
        }
    }

    fn watts_at(&self, second_start: Timestamp) -> u64 {
        let hour = second_start.local_seconds_of_day(self.offset) / 3600;
        self.load.get(hour as usize).copied().map_or(0, u64::from)
    }

    /// The end of the local hour that contains the second starting at `t`.
    fn hour_end(&self, t: Timestamp) -> Timestamp {
        let into = i64::from(t.local_seconds_of_day(self.offset) % 3600);
        t.checked_add_secs(3600 - into).unwrap_or(t)
    }

    /// Meters the load up to `now` (while the supply is on) and gives the pulses completed.
    fn meter_to(&mut self, now: Timestamp) -> u32 {
        let mut pulses: u64 = 0;
        if self.meter.contacts() == Contacts::Closed {
            let mut t = self.metered_to;
            while t < now {
                let end = self.hour_end(t).min(now);
                let secs = u64::try_from(end.unix() - t.unix()).unwrap_or(0);
                let rate = self.watts_at(t) * self.imp_per_kwh;
                let total = self.partial.saturating_add(rate.saturating_mul(secs));
                pulses = pulses.saturating_add(total / PULSE);
                self.partial = total % PULSE;
                t = end;
            }
        }
        self.metered_to = now;
        u32::try_from(pulses).unwrap_or(u32::MAX)
    }

    /// The second in which the `k`-th pulse from now completes, while the supply is on; at
    /// most a day ahead, and not after `limit`.
    fn pulse_second(&self, k: u64, limit: Option<Timestamp>) -> Option<Timestamp> {
        if self.meter.contacts() != Contacts::Closed || k == 0 {
            return None;
        }
        // The energy still needed, in W·s × imp/kWh.
        let mut need = k.checked_mul(PULSE)?.checked_sub(self.partial)?;
        let mut t = self.metered_to;
        for _ in 0..25 {
            if limit.is_some_and(|l| t >= l) {
                return None;
            }
            let end = self.hour_end(t);
            let rate = self.watts_at(t) * self.imp_per_kwh;
            let secs = u64::try_from(end.unix() - t.unix()).unwrap_or(0);
            if rate > 0 {
                let n = need.div_ceil(rate);
                if n <= secs {
                    let at = t.checked_add_secs(i64::try_from(n).ok()?)?;
                    return if limit.is_some_and(|l| at > l) {
                        None
                    } else {
                        Some(at)
                    };
                }
                need = need.saturating_sub(rate.saturating_mul(secs));
            }
            t = end;
        }
        None
    }
}
