//! The shadow account: the head-end's replica of one meter's prepaid account, rating the
//! meter's own per-tariff registers with the same tariff and account engines.

use alloc::vec::Vec;
use core::fmt;

use crate::account::{AccountConfigError, Config, MoneyAccount, RechargeError};
use crate::purchase::Purchase;
use crate::tariff::{RateError, Rater, Tariff, TariffError, TariffSet};
use crate::time::Timestamp;
use crate::units::{Energy, Money, Price};

/// The number of tariffs a shadow account rates (the meter's registers 1..4).
pub const SHADOW_TARIFFS: usize = 4;

/// Why the shadow account refused an operation; it is left exactly as it was.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum ShadowError {
    /// A register reads less than at the previous reading (the meter was cleared or
    /// replaced), or the reading is older than the previous one.
    RegisterBack,
    /// The tariff could not rate the interval.
    Rate(RateError),
    /// The tariff change is not valid.
    Tariff(TariffError),
    /// The account configuration is not valid.
    Config(AccountConfigError),
    /// The account engine refused the purchase.
    Recharge(RechargeError),
    /// A figure would overflow.
    Overflow,
}

impl fmt::Display for ShadowError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ShadowError::RegisterBack => f.write_str("a register reads less than before"),
            ShadowError::Rate(e) => write!(f, "rating: {e}"),
            ShadowError::Tariff(e) => write!(f, "tariff: {e}"),
            ShadowError::Config(e) => write!(f, "account configuration: {e}"),
            ShadowError::Recharge(e) => write!(f, "purchase: {e}"),
            ShadowError::Overflow => f.write_str("a figure would overflow"),
        }
    }
}

impl core::error::Error for ShadowError {}

/// The shadow balance against the balance the meter reported.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
pub struct Reconciliation {
    /// When the meter was read.
    pub at: Timestamp,
    /// The meter's balance as it reported it (remaining minus overdrawn, whole cents).
    pub meter: Money,
    /// The shadow account's balance.
    pub shadow: Money,
    /// How far the shadow may be from the meter's true balance because readings could not fix
    /// it exactly (see [`ShadowAccount`]); zero when every interval was exact.
    pub bound: Money,
}

impl Reconciliation {
    /// `shadow` minus `meter`, after truncating the shadow to whole cents as the meter's
    /// DL/T 645 balance is (`XXXXXX.XX`, remaining and overdrawn amounts each truncated).
    pub fn difference(&self) -> Money {
        let shadow = Money::from_minor(self.shadow.minor() / 100 * 100);
        shadow.saturating_sub(self.meter)
    }

    /// The meter and the shadow agree: the difference is within the bound.
    pub fn agrees(&self) -> bool {
        let d = self.difference().minor().unsigned_abs();
        d <= self.bound.minor().unsigned_abs()
    }
}

/// A price change scheduled on the shadow: tariff `index`'s price from `at` on.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
struct PriceChange {
    at: Timestamp,
    index: u8,
    price: Price,
}

/// The head-end's replica of one meter's prepaid account.
///
/// It is fed the meter's readings of its per-tariff forward active energy registers (the
/// precise `0060TT00` values, whole Wh) and rates each tariff's increase with the same
/// [`Tariff`] and [`Rater`] the meter uses, then debits the same [`MoneyAccount`] engine;
/// purchases are credited when the head-end has them confirmed. Because the rater carries its
/// remainders, any split of the same consumption costs the same, so the shadow reproduces the
/// meter's balance to the last minor unit whenever it knows how much energy each tariff used
/// in each tier period.
///
/// # When readings cannot fix the meter's figure
///
/// The increase of a tariff's register between two readings is exact, but not when in the
/// interval it was used:
///
/// - if the interval lies within one tariff slot (no switch point, passive-set switch or tier
///   settlement inside: a meter read at least at every switch point), the shadow is exact;
/// - if it spans several slots, a tariff's energy is rated in the first slot of the interval
///   where that tariff is in force. That is exact unless the price of a tariff differs between
///   those slots (a set switch), a tier threshold is crossed in the interval or a tier
///   settlement falls inside it: the split of energy between those prices is unknown, and the
///   shadow adds `energy × price spread` (rounded up) to its [`bound`](Self::bound);
/// - a price change whose instant falls strictly inside an interval likewise adds the energy
///   of that tariff in the interval times the price difference.
///
/// [`Reconciliation::agrees`] compares within that bound.
#[derive(Clone, Debug)]
pub struct ShadowAccount {
    tariff: Tariff,
    rater: Rater,
    account: MoneyAccount,
    last: Option<(Timestamp, [Energy; SHADOW_TARIFFS])>,
    changes: Vec<PriceChange>,
    bound: Money,
}

impl ShadowAccount {
    /// A shadow of a meter with this tariff and account configuration, before its account is
    /// opened (the opening purchase is credited with [`ShadowAccount::credit`]).
    pub fn new(tariff: Tariff, config: Config<Money>) -> Result<ShadowAccount, ShadowError> {
        let account = MoneyAccount::new(config, Money::ZERO).map_err(ShadowError::Config)?;
        Ok(ShadowAccount {
            tariff,
            rater: Rater::new(),
            account,
            last: None,
            changes: Vec::new(),
            bound: Money::ZERO,
        })
    }

    /// The account engine's state (balance, totals, purchase count).
    pub fn account(&self) -> &MoneyAccount {
        &self.account
    }

    /// The balance.
    pub fn balance(&self) -> Money {
        self.account.balance()
    }

    /// The tariff the shadow rates with now.
    pub fn tariff(&self) -> &Tariff {
        &self.tariff
    }

    /// How far the balance may be from the meter's (see the type docs).
    pub fn bound(&self) -> Money {
        self.bound
    }

    /// The energy of each tariff at the last reading, and when.
    pub fn last_reading(&self) -> Option<(Timestamp, [Energy; SHADOW_TARIFFS])> {
        self.last
    }

    /// Credits a confirmed purchase (`open`: the opening purchase of `070101FF`) as the meter
    /// did. Error: the account engine's refusal (nothing changes).
    pub fn credit(
        &mut self,
        at: Timestamp,
        purchase: Purchase<Money>,
        open: bool,
    ) -> Result<(), ShadowError> {
        let receipt = if open {
            self.account.open(at, purchase)
        } else {
            self.account.recharge(at, purchase)
        };
        receipt.map(|_| ()).map_err(ShadowError::Recharge)
    }

    /// Whether the account is open (its opening purchase credited).
    pub fn is_open(&self) -> bool {
        self.account.is_open()
    }

    /// Schedules tariff `index`'s price to be `price` from `at` on (the instant the meter
    /// accepted the write): energy read up to `at` is rated at the old price. Error:
    /// [`ShadowError::Tariff`] if the index is not a tariff of the active set.
    pub fn set_price(&mut self, at: Timestamp, index: u8, price: Price) -> Result<(), ShadowError> {
        let known = usize::from(index)
            .checked_sub(1)
            .is_some_and(|i| i < self.tariff.active().prices().len());
        if !known {
            return Err(ShadowError::Tariff(TariffError::CapacityExceeded));
        }
        self.changes.push(PriceChange { at, index, price });
        Ok(())
    }

    /// Takes a reading at `at`: the meter's energy registers of tariffs 1..4. The first
    /// reading sets the starting point; each later one rates the increase since the previous
    /// one and debits it. Returns the money debited.
    ///
    /// Errors (nothing changes): [`ShadowError::RegisterBack`] for a register or instant
    /// that went back, [`ShadowError::Rate`], [`ShadowError::Overflow`].
    pub fn observe(
        &mut self,
        at: Timestamp,
        by_tariff: [Energy; SHADOW_TARIFFS],
    ) -> Result<Money, ShadowError> {
        let Some((t0, before)) = self.last else {
            self.last = Some((at, by_tariff));
            return Ok(Money::ZERO);
        };
        if at < t0 {
            return Err(ShadowError::RegisterBack);
        }
        let mut delta = [Energy::ZERO; SHADOW_TARIFFS];
        for ((d, new), old) in delta.iter_mut().zip(by_tariff).zip(before) {
            *d = new.checked_sub(old).ok_or(ShadowError::Overflow)?;
            if d.is_negative() {
                return Err(ShadowError::RegisterBack);
            }
        }
        // Work on copies: nothing changes unless everything succeeds.
        let mut tariff = self.tariff.clone();
        let mut changes = self.changes.clone();
        let mut bound = self.bound;
        // Changes in effect from before the interval apply to all of it.
        apply_changes(&mut tariff, &mut changes, |c| c.at <= t0)?;
        let mut rater = self.rater;
        let charged = rate_interval(&tariff, &mut rater, t0, at, &delta, &mut bound)?;
        // A change strictly inside the interval: the split is unknown.
        for c in changes.iter().filter(|c| t0 < c.at && c.at < at) {
            let old = tariff.active().price(c.index);
            let spread = c.price.minor_per_kwh().abs_diff(old.minor_per_kwh());
            let energy = delta
                .get(usize::from(c.index).saturating_sub(1))
                .copied()
                .unwrap_or(Energy::ZERO);
            bound = add_spread(bound, energy, spread)?;
        }
        apply_changes(&mut tariff, &mut changes, |c| c.at < at)?;
        let mut account = self.account.clone();
        // The effects (relay, log) are the meter's business; the shadow keeps the money.
        let _effects = account.tick(at);
        let _effects = account
            .debit(at, charged)
            .map_err(|_| ShadowError::Overflow)?;
        self.tariff = tariff;
        self.changes = changes;
        self.rater = rater;
        self.account = account;
        self.bound = bound;
        self.last = Some((at, by_tariff));
        Ok(charged)
    }

    /// Compares the shadow with the meter's reported `balance` (00900200) and `overdrawn`
    /// (00900201) amounts, read at `at`.
    pub fn reconcile(&self, at: Timestamp, balance: Money, overdrawn: Money) -> Reconciliation {
        Reconciliation {
            at,
            meter: balance.saturating_sub(overdrawn),
            shadow: self.balance(),
            bound: self.bound,
        }
    }
}

/// Applies (and removes) the scheduled changes `due` selects, in time order.
fn apply_changes(
    tariff: &mut Tariff,
    changes: &mut Vec<PriceChange>,
    due: impl Fn(&PriceChange) -> bool,
) -> Result<(), ShadowError> {
    changes.sort_by_key(|c| c.at);
    let (now, later): (Vec<PriceChange>, Vec<PriceChange>) = changes.iter().partition(|c| due(c));
    for c in now {
        let set = tariff.active();
        let mut prices: Vec<Price> = set.prices().to_vec();
        if let Some(p) = prices.get_mut(usize::from(c.index).saturating_sub(1)) {
            *p = c.price;
        }
        let new = TariffSet::new(set.calendar().clone(), &prices, set.tiers().clone())
            .map_err(ShadowError::Tariff)?;
        let mut next = Tariff::new(tariff.offset(), tariff.special_days(), new)
            .map_err(ShadowError::Tariff)?;
        if let Some(p) = tariff.passive() {
            next.set_passive(p.set.clone(), p.switch_at)
                .map_err(ShadowError::Tariff)?;
        }
        *tariff = next;
    }
    *changes = later;
    Ok(())
}

/// `bound + ceil(energy × spread / 1000)` minor units.
fn add_spread(bound: Money, energy: Energy, spread: u32) -> Result<Money, ShadowError> {
    let wh = u64::try_from(energy.wh()).map_err(|_| ShadowError::Overflow)?;
    let extra = wh
        .checked_mul(u64::from(spread))
        .map(|x| x.div_ceil(1000))
        .and_then(|x| i64::try_from(x).ok())
        .ok_or(ShadowError::Overflow)?;
    bound
        .checked_add(Money::from_minor(extra))
        .ok_or(ShadowError::Overflow)
}

/// Rates `delta` (per tariff) used in `[t0, t1)`; adds to `bound` where the split is unknown.
fn rate_interval(
    tariff: &Tariff,
    rater: &mut Rater,
    t0: Timestamp,
    t1: Timestamp,
    delta: &[Energy; SHADOW_TARIFFS],
    bound: &mut Money,
) -> Result<Money, ShadowError> {
    let total: i64 = delta.iter().map(|e| e.wh()).sum();
    if total == 0 {
        return Ok(Money::ZERO);
    }
    // The slots of the interval: (start, tariff number, TOU price). The meter rates a tick's
    // pulses at an instant in [t0, t1 - 1].
    let mut slots: Vec<(Timestamp, u8, Price)> = Vec::new();
    let mut x = t0;
    let end = if t1 > t0 {
        t1
    } else {
        t0.checked_add_secs(1).ok_or(ShadowError::Overflow)?
    };
    loop {
        let slot = tariff.slot_at(x).map_err(ShadowError::Rate)?;
        slots.push((x, slot.tariff, slot.price));
        if slot.valid_until >= end || slots.len() > 10_000 {
            break;
        }
        x = slot.valid_until;
    }
    let multi = slots.len() > 1;
    let tiers = tariff.active().tiers();
    let tier_spread = tiers
        .max_price()
        .minor_per_kwh()
        .saturating_sub(tiers.price(0).minor_per_kwh());
    let mut money = Money::ZERO;
    for (i, &d) in delta.iter().enumerate() {
        if d.wh() == 0 {
            continue;
        }
        let number = u8::try_from(i + 1).map_err(|_| ShadowError::Overflow)?;
        let mine: Vec<&(Timestamp, u8, Price)> = slots.iter().filter(|s| s.1 == number).collect();
        let (at, spread) = match mine.first() {
            Some(first) => {
                let lo = mine.iter().map(|s| s.2.minor_per_kwh()).min().unwrap_or(0);
                let hi = mine.iter().map(|s| s.2.minor_per_kwh()).max().unwrap_or(0);
                (first.0, hi - lo)
            }
            // Energy registered under a tariff not in force in the interval (a clock or
            // tariff that differs from the meter's): rated in the first slot, and the whole
            // of it is uncertain.
            None => (
                t0,
                tariff
                    .active()
                    .prices()
                    .iter()
                    .map(|p| p.minor_per_kwh())
                    .max()
                    .unwrap_or(0),
            ),
        };
        let tier_before = rater.tier_energy();
        let rated = rater.rate(tariff, d, at).map_err(ShadowError::Rate)?;
        let crossed = tiers.tier_of(tier_before) != tiers.tier_of(rater.tier_energy());
        let mut uncertain = spread;
        if multi && (crossed || rated.settled) {
            uncertain = uncertain.saturating_add(tier_spread);
        }
        if uncertain > 0 {
            *bound = add_spread(*bound, d, uncertain)?;
        }
        money = money
            .checked_add(rated.money)
            .ok_or(ShadowError::Overflow)?;
    }
    Ok(money)
}
