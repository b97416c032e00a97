//! Exact rating: the incremental rater a meter (or an account) keeps, and the totals it adds up.

use super::{DEFAULT_TARIFFS, MAX_ENERGY_PER_YEAR, MAX_TIERS, RateError, Slot, Tariff};
use crate::snapshot::{Snapshot, struct_field};
use crate::time::Timestamp;
use crate::units::{Energy, Money, Price};

/// The state of incremental rating: the sub-unit remainder carried between charges, the
/// consumption since the last tier settlement, and the latest instant rated.
///
/// Plain data: clone it to snapshot, store it, restore it. It holds nothing derived from the
/// tariff, so the tariff may be replaced (a new passive set, an activation) between calls.
///
/// # Instant or interval
///
/// - [`Rater::rate`] rates energy *at an instant*: everything given is priced by the set,
///   tariff number and tier period in effect then. The returned [`Slot::valid_until`] says when
///   that stops holding. A meter that flushes its measured energy every few seconds can call
///   `rate` with each flush's instant and schedule one flush exactly at `valid_until`, so no
///   flush straddles a switch point, the passive switch or a settlement.
/// - [`Rater::rate_interval`] rates energy *over an interval* `[from, to)` and splits it pro
///   rata at every such instant inside: use it when a flush does straddle one (a meter that
///   missed the boundary, a server with interval data). The batch path reproduces it.
///
/// Tier thresholds need no care from the caller: an increment that crosses one is split at
/// the threshold exactly, in both.
///
/// # Exactness
///
/// Every call charges `floor((carry + Σ energy_Wh × price) / 1000)` minor units and keeps the
/// rest as the new carry (`0..1000` thousandths of a minor unit). For any split of the same
/// consumption the charges therefore add up to the charge for the whole, to the last unit.
///
/// ```
/// use prepaid_meter::tariff::*;
/// use prepaid_meter::time::{Timestamp, UtcOffset};
/// use prepaid_meter::units::{Energy, Money, Price};
/// let day = DayTable::new(&[SwitchPoint::new(0, 0, 1)]).unwrap();
/// let cal = Calendar::new(&[Season { start: MonthDay::new(1, 1), week: WeekRule::uniform(1) }], &[day]).unwrap();
/// let set = TariffSet::new(cal, &[Price::from_minor_per_kwh(5_283)], Tiers::none()).unwrap();
/// let tariff = Tariff::new(UtcOffset::CHINA, &[], set).unwrap();
/// let t = Timestamp::from_unix(1_704_067_200);
/// let mut rater = Rater::new();
/// // 1 Wh at 0.5283/kWh is 5.283 minor units: 5 charged, 283/1000 carried.
/// assert_eq!(rater.rate(&tariff, Energy::from_wh(1), t).unwrap().money, Money::from_minor(5));
/// assert_eq!(rater.carry(), 283);
/// // 999 Wh more: (283 + 999 × 5283) / 1000 = 5278.0 → the two charges make 5283 = 1 kWh.
/// assert_eq!(rater.rate(&tariff, Energy::from_wh(999), t).unwrap().money, Money::from_minor(5_278));
/// assert_eq!(rater.carry(), 0);
/// ```
///
/// State: [`Rater::state`] and [`Rater::restore`] with the tariff (see [`RaterState`]). Under
/// `serde` a rater serializes as its state, `{ carry, tier_energy, latest }`.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
#[cfg_attr(feature = "serde", serde(try_from = "RaterState", into = "RaterState"))]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub struct Rater {
    carry: u16,
    tier_energy: Energy,
    latest: Option<Timestamp>,
}

/// The state of a [`Rater`] as plain data.
///
/// Binary form ([`Field`](crate::snapshot::Field); stored on its own as a [`Snapshot`], magic `"RT"`, version 1):
/// `carry` (`u16`), `tier_energy` (`i64` Wh), `latest` (`Option<Timestamp>`: a tag byte, then
/// `i64` Unix seconds). The stored form is 28 bytes with a latest instant, 20 without.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub struct RaterState {
    /// The carried remainder, in thousandths of a minor unit (`0..1000`).
    pub carry: u16,
    /// Consumption since the last tier settlement (not negative).
    pub tier_energy: Energy,
    /// The latest instant rated, if any (inside the tariff's calendar).
    pub latest: Option<Timestamp>,
}

struct_field!(RaterState {
    carry,
    tier_energy,
    latest
});

impl Snapshot for RaterState {
    const MAGIC: [u8; 2] = *b"RT";
    const VERSION: u8 = 1;
}

impl From<Rater> for RaterState {
    fn from(r: Rater) -> RaterState {
        r.state()
    }
}

/// Checks the tariff-free part (serde has no tariff to check `latest` against).
impl TryFrom<RaterState> for Rater {
    type Error = RateError;
    fn try_from(s: RaterState) -> Result<Rater, RateError> {
        Rater::from_parts(s.carry, s.tier_energy, s.latest).ok_or(RateError::InvalidState)
    }
}

/// The outcome of one [`Rater::rate`] call: the money to debit.
#[must_use = "the money rated must be charged"]
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub struct Rated {
    /// The charge for this increment in whole minor units (the remainder is carried).
    pub money: Money,
    /// Set, day table, tariff number and TOU price at the instant, and until when they hold.
    pub slot: Slot,
    /// The increment split by tier (it sums to the increment).
    pub energy_by_tier: [Energy; MAX_TIERS],
    /// `true` if a tier settlement instant passed since the latest instant rated, so the tier
    /// total was reset to zero before this increment (a meter freezes its tier data then).
    pub settled: bool,
    /// The tier the next watt-hour falls in (the current tier, for display).
    pub tier: u8,
    /// The price of that tier.
    pub tier_price: Price,
}

impl Rated {
    /// The effective price for the next watt-hour at this instant: TOU price plus tier price.
    pub fn price(&self) -> Price {
        // Validated at construction: the sum is at most MAX_EFFECTIVE_PRICE.
        self.slot
            .price
            .checked_add(self.tier_price)
            .unwrap_or(Price::from_minor_per_kwh(u32::MAX))
    }

    /// The energy rated (the sum over tiers).
    pub fn energy(&self) -> Energy {
        self.energy_by_tier
            .iter()
            .fold(Energy::ZERO, |a, &e| a.saturating_add(e))
    }
}

impl Rater {
    /// A fresh rater: no carry, no consumption since settlement, nothing rated yet.
    pub const fn new() -> Rater {
        Rater {
            carry: 0,
            tier_energy: Energy::ZERO,
            latest: None,
        }
    }

    /// A rater restored from its parts (a snapshot, or an account opened mid-period with
    /// `tier_energy` already consumed). `None` if `carry >= 1000` or `tier_energy < 0`.
    pub const fn from_parts(
        carry: u16,
        tier_energy: Energy,
        latest: Option<Timestamp>,
    ) -> Option<Rater> {
        if carry >= 1000 || tier_energy.is_negative() {
            return None;
        }
        Some(Rater {
            carry,
            tier_energy,
            latest,
        })
    }

    /// The rater's state as plain data.
    pub const fn state(&self) -> RaterState {
        RaterState {
            carry: self.carry,
            tier_energy: self.tier_energy,
            latest: self.latest,
        }
    }

    /// A rater in `state`, for rating with `tariff`.
    ///
    /// Error: [`RateError::InvalidState`] if the carry is not below 1000, the tier energy is
    /// negative, or the latest instant lies outside the tariff's calendar (no rater of this
    /// tariff can have rated it).
    pub fn restore<
        const S: usize,
        const D: usize,
        const P: usize,
        const T: usize,
        const H: usize,
    >(
        tariff: &Tariff<S, D, P, T, H>,
        state: RaterState,
    ) -> Result<Rater, RateError> {
        let rater = Rater::try_from(state)?;
        if let Some(latest) = state.latest {
            tariff
                .slot_at(latest)
                .map_err(|_| RateError::InvalidState)?;
        }
        Ok(rater)
    }

    /// The carried remainder, in thousandths of a minor unit (`0..1000`).
    pub const fn carry(&self) -> u16 {
        self.carry
    }

    /// Consumption since the last tier settlement.
    pub const fn tier_energy(&self) -> Energy {
        self.tier_energy
    }

    /// The latest instant rated (for an interval, its last second), if any.
    pub const fn latest(&self) -> Option<Timestamp> {
        self.latest
    }

    /// Rates `energy` consumed at the instant `at`.
    ///
    /// The increment is rated at the set, tariff number and tier period in effect at `at`; if
    /// it crosses tier thresholds it is split there exactly. A tier settlement instant in
    /// `(latest, at]` first resets the tier total. [`Rated::slot`]`.valid_until` tells when
    /// that stops holding: a meter that calls every few seconds should rate the energy it
    /// measured before that instant with an instant before it, so consumption that straddles a
    /// switch point, the passive switch or a settlement is split there. (Or use
    /// [`Rater::rate_interval`], which splits an interval pro rata.)
    ///
    /// Instants may go backwards (a clock set back): consumption is then rated at the tariff
    /// of the instant given, and settlements are never undone or repeated.
    ///
    /// Errors (state unchanged): [`RateError::NegativeEnergy`], [`RateError::EnergyTooLarge`]
    /// (above [`MAX_ENERGY_PER_YEAR`]), [`RateError::TimeOutOfRange`].
    pub fn rate<const S: usize, const D: usize, const P: usize, const T: usize, const H: usize>(
        &mut self,
        tariff: &Tariff<S, D, P, T, H>,
        energy: Energy,
        at: Timestamp,
    ) -> Result<Rated, RateError> {
        check_energy(energy)?;
        let slot = tariff.slot_at(at)?;
        Ok(self.apply(tariff, slot, energy, at))
    }

    /// Rates `energy` consumed evenly over `[from, to)`, splitting it pro rata at every instant
    /// in between where rating may change (switch points, midnight, the passive switch, tier
    /// settlements).
    ///
    /// The part before an instant `x` is `floor(energy × (x - from) / (to - from))` Wh, so the
    /// parts add up to `energy` exactly; each part is rated as by [`Rater::rate`] at its first
    /// second. Afterwards [`Rater::latest`] is `to - 1`. This is the reference the batch path
    /// (`BatchPlan`, feature `alloc`) reproduces bit for bit.
    ///
    /// Errors (state unchanged): those of [`Rater::rate`], [`RateError::EmptyInterval`] if
    /// `to <= from`, [`RateError::MoneyOverflow`].
    pub fn rate_interval<
        const S: usize,
        const D: usize,
        const P: usize,
        const T: usize,
        const H: usize,
    >(
        &mut self,
        tariff: &Tariff<S, D, P, T, H>,
        energy: Energy,
        from: Timestamp,
        to: Timestamp,
    ) -> Result<Totals<T>, RateError> {
        check_energy(energy)?;
        let len = match to.checked_secs_since(from) {
            Some(len) if len > 0 => len,
            _ => return Err(RateError::EmptyInterval),
        };
        let mut state = *self;
        let mut totals = Totals::new_sized();
        let mut x = from;
        let mut assigned: i64 = 0;
        loop {
            let slot = tariff.slot_at(x)?;
            let next = slot.valid_until.min(to);
            let part = pro_rata(energy, next.unix().wrapping_sub(from.unix()), len);
            let piece = Energy::from_wh(part - assigned);
            assigned = part;
            let rated = state.apply(tariff, slot, piece, x);
            totals.add(&rated)?;
            if next >= to {
                break;
            }
            x = next;
        }
        let last = to.checked_add_secs(-1).unwrap_or(to);
        state.latest = Some(state.latest.map_or(last, |l| l.max(last)));
        *self = state;
        Ok(totals)
    }

    /// Rates one piece; `energy` is in range and `slot` is the slot at `at`.
    fn apply<const S: usize, const D: usize, const P: usize, const T: usize, const H: usize>(
        &mut self,
        tariff: &Tariff<S, D, P, T, H>,
        slot: Slot,
        energy: Energy,
        at: Timestamp,
    ) -> Rated {
        let settled = self.latest.is_some_and(|l| tariff.settles_between(l, at));
        let mut cumulative = if settled {
            Energy::ZERO
        } else {
            self.tier_energy
        };
        let tiers = tariff.set(slot.set).tiers();
        let mut tier = tiers.tier_of(cumulative);
        let mut remaining = energy.wh();
        let mut by_tier = [Energy::ZERO; MAX_TIERS];
        let mut sum = i128::from(self.carry);
        let tou = i128::from(slot.price.minor_per_kwh());
        while remaining > 0 {
            let (_, hi) = tiers.bounds(usize::from(tier));
            let room = hi.map_or(i128::from(remaining), |h| h - i128::from(cumulative.wh()));
            let take = room.clamp(0, i128::from(remaining)) as i64;
            if let Some(slot) = by_tier.get_mut(usize::from(tier)) {
                *slot = Energy::from_wh(slot.wh().saturating_add(take));
            }
            sum += i128::from(take) * (tou + i128::from(tiers.price(tier).minor_per_kwh()));
            cumulative = cumulative.saturating_add(Energy::from_wh(take));
            remaining -= take;
            if remaining > 0 {
                tier = tier.saturating_add(1);
            }
        }
        let tier = tiers.tier_of(cumulative);
        // |sum| <= 999 + MAX_ENERGY_PER_YEAR × MAX_EFFECTIVE_PRICE, so money fits an i64.
        let money = (sum / 1000) as i64;
        self.carry = (sum % 1000) as u16;
        self.tier_energy = cumulative;
        self.latest = Some(self.latest.map_or(at, |l| l.max(at)));
        Rated {
            money: Money::from_minor(money),
            slot,
            energy_by_tier: by_tier,
            settled,
            tier,
            tier_price: tiers.price(tier),
        }
    }
}

/// `floor(energy × num / den)` for `0 <= num <= den`, `den > 0`.
pub(crate) fn pro_rata(energy: Energy, num: i64, den: i64) -> i64 {
    let v = i128::from(energy.wh()) * i128::from(num) / i128::from(den.max(1));
    v as i64
}

fn check_energy(energy: Energy) -> Result<(), RateError> {
    if energy.is_negative() {
        Err(RateError::NegativeEnergy)
    } else if energy > MAX_ENERGY_PER_YEAR {
        Err(RateError::EnergyTooLarge)
    } else {
        Ok(())
    }
}

/// Energy per tariff, energy per tier, and money: what a series of ratings adds up to.
///
/// `T` is the tariff capacity of the tariff rated; energy per tariff adds up both sets.
#[must_use = "the money rated must be charged"]
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub struct Totals<const T: usize = DEFAULT_TARIFFS> {
    /// Energy per tariff, tariff 1 first (both sets together).
    pub energy_by_tariff: [Energy; T],
    /// Energy per tier.
    pub energy_by_tier: [Energy; MAX_TIERS],
    /// Money charged, in whole minor units.
    pub money: Money,
}

impl<const T: usize> Default for Totals<T> {
    fn default() -> Self {
        Totals::new_sized()
    }
}

impl Totals {
    /// [`Totals::new_sized`] at the default capacities, so that a call needs no type
    /// annotations; see it for the details.
    pub const fn new() -> Self {
        Self::new_sized()
    }
}

impl<const T: usize> Totals<T> {
    /// All zero.
    ///
    /// Generic over the capacities (name them, `Totals::<..>::new_sized`, or let them be
    /// inferred from where the result goes); [`Totals::new`] is this at the default ones.
    pub const fn new_sized() -> Self {
        Totals {
            energy_by_tariff: [Energy::ZERO; T],
            energy_by_tier: [Energy::ZERO; MAX_TIERS],
            money: Money::ZERO,
        }
    }

    /// Adds one rating. Error [`RateError::MoneyOverflow`] (totals unchanged) on overflow.
    pub fn add(&mut self, rated: &Rated) -> Result<(), RateError> {
        let mut next = *self;
        next.money = next
            .money
            .checked_add(rated.money)
            .ok_or(RateError::MoneyOverflow)?;
        let mut energy = Energy::ZERO;
        for (sum, &e) in next.energy_by_tier.iter_mut().zip(&rated.energy_by_tier) {
            *sum = sum.checked_add(e).ok_or(RateError::MoneyOverflow)?;
            energy = energy.checked_add(e).ok_or(RateError::MoneyOverflow)?;
        }
        let index = rated.slot.tariff.checked_sub(1).map(usize::from);
        if let Some(sum) = index.and_then(|i| next.energy_by_tariff.get_mut(i)) {
            *sum = sum.checked_add(energy).ok_or(RateError::MoneyOverflow)?;
        }
        *self = next;
        Ok(())
    }

    /// Adds other totals. Error [`RateError::MoneyOverflow`] (totals unchanged) on overflow.
    pub fn merge(&mut self, other: &Totals<T>) -> Result<(), RateError> {
        let mut next = *self;
        next.money = next
            .money
            .checked_add(other.money)
            .ok_or(RateError::MoneyOverflow)?;
        for (a, &b) in next.energy_by_tier.iter_mut().zip(&other.energy_by_tier) {
            *a = a.checked_add(b).ok_or(RateError::MoneyOverflow)?;
        }
        for (a, &b) in next
            .energy_by_tariff
            .iter_mut()
            .zip(&other.energy_by_tariff)
        {
            *a = a.checked_add(b).ok_or(RateError::MoneyOverflow)?;
        }
        *self = next;
        Ok(())
    }
}
