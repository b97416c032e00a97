//! The batch path for servers: rate interval series (5-, 15-, 30- or 60-minute energy) of many
//! meters against one precomputed plan, exactly as [`Rater::rate_interval`] would.
//!
//! # How it is fast and still exact
//!
//! A [`BatchPlan`] is built once per tariff, start instant, interval length and number of
//! intervals, and shared by every meter with readings on that grid. It holds, per interval,
//! the *code* (set and tariff number) in effect for the whole interval, or a list of pro-rata
//! pieces for the rare interval with a change inside (a switch point off the grid, the passive
//! switch, a settlement); and the tier periods (segments between settlements and the switch).
//!
//! Days of the plan (blocks of one day's intervals, counted from the plan start) that lie in one
//! tier period and have no split interval are grouped by their sequence of codes (a weekday, a
//! Saturday, a holiday, ...: a handful of *patterns*). Rating a meter then adds each day's
//! readings element-wise into its pattern's accumulator row, a loop of plain vertical `u64`
//! additions the compiler vectorises, while summing the day into its tier period. At the end the
//! rows are folded into energy per code. Money is linear in energy, so
//! `Σ energy_code × price_code + Σ energy_tier × price_tier` (tier energies from each period's
//! total by the thresholds) is exactly the sum of all the per-piece products the incremental
//! path would form; the division by 1000 with the carried remainder happens once.

use alloc::vec;
use alloc::vec::Vec;

use super::rater::pro_rata;
use super::{
    DEFAULT_DAY_TABLES, DEFAULT_SEASONS, DEFAULT_SPECIAL_DAYS, DEFAULT_SWITCH_POINTS,
    DEFAULT_TARIFFS,
};
use super::{MAX_TIERS, RateError, Rater, SetId, Slot, Tariff, Totals};
use crate::time::Timestamp;
use crate::units::{Energy, Money};

#[cfg_attr(docsrs, doc(cfg(feature = "alloc")))]
/// The most intervals one [`BatchPlan`] covers (2²², about 40 years of 5-minute intervals).
pub const MAX_PLAN_SLOTS: usize = 1 << 22;

/// The length of the intervals of a series.
#[cfg_attr(docsrs, doc(cfg(feature = "alloc")))]
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub enum IntervalLength {
    /// 5 minutes.
    FiveMinutes,
    /// 15 minutes (the usual load-profile period).
    FifteenMinutes,
    /// 30 minutes.
    ThirtyMinutes,
    /// 60 minutes.
    Hour,
}

impl IntervalLength {
    /// The length in seconds.
    pub const fn secs(self) -> i64 {
        match self {
            IntervalLength::FiveMinutes => 300,
            IntervalLength::FifteenMinutes => 900,
            IntervalLength::ThirtyMinutes => 1800,
            IntervalLength::Hour => 3600,
        }
    }

    /// Intervals per day.
    pub const fn per_day(self) -> usize {
        (86_400 / self.secs()) as usize
    }
}

/// A code: bit 6 is the set (1 = passive), bits 0..=5 the tariff number minus one.
const MIXED: u8 = 0xFF;
/// A block that is not rated through a pattern.
const IRREGULAR: u32 = u32::MAX;
/// The most day patterns a plan keeps (a block seen after that is rated interval by interval).
/// Real tariffs have a handful; the cap bounds the work and memory of a pathological one.
const MAX_PATTERNS: usize = 512;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
struct Segment {
    start: Timestamp,
    set: SetId,
    reset: bool,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
struct Piece {
    /// Seconds from the interval start.
    offset: u32,
    code: u8,
    segment: u16,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
struct MixedSlot {
    slot: u32,
    first: u32,
    count: u32,
}

fn code_of(slot: &Slot) -> u8 {
    let set = match slot.set {
        SetId::Active => 0,
        SetId::Passive => 0x40,
    };
    set | (slot.tariff.wrapping_sub(1) & 0x3F)
}

/// A tariff precomputed for one grid of intervals: the batch path.
#[cfg_attr(docsrs, doc(cfg(feature = "alloc")))]
///
/// Build it once (it costs about one calendar lookup per interval) and rate any number of
/// meters with [`BatchPlan::rate`]; it is `Sync`, so threads can share it.
///
/// ```
/// use prepaid_meter::tariff::*;
/// use prepaid_meter::time::{Timestamp, UtcOffset};
/// use prepaid_meter::units::{Energy, Price};
/// let day = DayTable::new(&[SwitchPoint::new(8, 0, 1), SwitchPoint::new(22, 0, 2)]).unwrap();
/// let cal = Calendar::new(&[Season { start: MonthDay::new(1, 1), week: WeekRule::uniform(1) }], &[day]).unwrap();
/// let prices = [Price::from_minor_per_kwh(6_000), Price::from_minor_per_kwh(3_000)];
/// let tariff = Tariff::new(UtcOffset::CHINA, &[], TariffSet::new(cal, &prices, Tiers::none()).unwrap()).unwrap();
/// let start = Timestamp::from_unix(1_704_038_400); // 2024-01-01 00:00 UTC+8
/// let plan = BatchPlan::new(&tariff, start, IntervalLength::Hour, 24).unwrap();
/// let mut rater = Rater::new();
/// let totals = plan.rate(&mut rater, &[1_000; 24]).unwrap(); // 1 kWh every hour
/// assert_eq!(totals.energy_by_tariff, [Energy::from_kwh(14), Energy::from_kwh(10), Energy::ZERO, Energy::ZERO]);
/// assert_eq!(totals.money.minor(), 14 * 6_000 + 10 * 3_000);
/// ```
#[derive(Clone, Debug)]
pub struct BatchPlan<
    const S: usize = DEFAULT_SEASONS,
    const D: usize = DEFAULT_DAY_TABLES,
    const P: usize = DEFAULT_SWITCH_POINTS,
    const T: usize = DEFAULT_TARIFFS,
    const H: usize = DEFAULT_SPECIAL_DAYS,
> {
    tariff: Tariff<S, D, P, T, H>,
    start: Timestamp,
    interval: IntervalLength,
    codes: Vec<u8>,
    slot_segment: Vec<u16>,
    mixed: Vec<MixedSlot>,
    pieces: Vec<Piece>,
    segments: Vec<Segment>,
    blocks: Vec<u32>,
    patterns: Vec<u8>,
    price_by_code: [u32; 256],
}

impl<const S: usize, const D: usize, const P: usize, const T: usize, const H: usize>
    BatchPlan<S, D, P, T, H>
{
    /// A plan for `slots` intervals of length `interval` starting at `start`.
    ///
    /// Errors: [`RateError::PlanTooLong`] (more than [`MAX_PLAN_SLOTS`] intervals),
    /// [`RateError::TimeOutOfRange`] (an interval outside the supported calendar).
    pub fn new(
        tariff: &Tariff<S, D, P, T, H>,
        start: Timestamp,
        interval: IntervalLength,
        slots: usize,
    ) -> Result<Self, RateError> {
        if slots > MAX_PLAN_SLOTS {
            return Err(RateError::PlanTooLong);
        }
        let len = interval.secs();
        let mut plan = BatchPlan {
            tariff: tariff.clone(),
            start,
            interval,
            codes: Vec::with_capacity(slots),
            slot_segment: Vec::with_capacity(slots),
            mixed: Vec::new(),
            pieces: Vec::new(),
            segments: vec![Segment {
                start,
                set: tariff.set_at(start).0,
                reset: false,
            }],
            blocks: Vec::new(),
            patterns: Vec::new(),
            price_by_code: [0; 256],
        };
        for (set, bit) in [(SetId::Active, 0usize), (SetId::Passive, 0x40)] {
            for (i, p) in tariff.set(set).prices().iter().enumerate() {
                if let Some(slot) = plan.price_by_code.get_mut(bit | i) {
                    *slot = p.minor_per_kwh();
                }
            }
        }
        let mut cur_set = tariff.set_at(start).0;
        let mut prev_x = start;
        let mut tmp: Vec<Piece> = Vec::new();
        for i in 0..slots {
            let t = start
                .checked_add_secs(len * i as i64)
                .ok_or(RateError::TimeOutOfRange)?;
            let t_end = t.checked_add_secs(len).ok_or(RateError::TimeOutOfRange)?;
            tmp.clear();
            let mut x = t;
            loop {
                let slot = tariff.slot_at(x)?;
                if x != start {
                    // The same decision `Rater::rate_interval` makes: the previous piece, or
                    // the last second of the previous interval.
                    let before = if x == t {
                        t.checked_add_secs(-1).ok_or(RateError::TimeOutOfRange)?
                    } else {
                        prev_x
                    };
                    let settled = tariff.settles_between(before, x);
                    if settled || slot.set != cur_set {
                        if plan.segments.len() > usize::from(u16::MAX) {
                            return Err(RateError::PlanTooLong);
                        }
                        plan.segments.push(Segment {
                            start: x,
                            set: slot.set,
                            reset: settled,
                        });
                        cur_set = slot.set;
                    }
                }
                let piece = Piece {
                    offset: x.unix().wrapping_sub(t.unix()) as u32,
                    code: code_of(&slot),
                    segment: (plan.segments.len() - 1) as u16,
                };
                match tmp.last() {
                    Some(last) if last.code == piece.code && last.segment == piece.segment => {}
                    _ => tmp.push(piece),
                }
                prev_x = x;
                let next = slot.valid_until.min(t_end);
                if next >= t_end {
                    break;
                }
                x = next;
            }
            match tmp.as_slice() {
                [one] => {
                    plan.codes.push(one.code);
                    plan.slot_segment.push(one.segment);
                }
                many => {
                    plan.codes.push(MIXED);
                    plan.slot_segment
                        .push(many.first().map_or(0, |p: &Piece| p.segment));
                    plan.mixed.push(MixedSlot {
                        slot: i as u32,
                        first: plan.pieces.len() as u32,
                        count: many.len() as u32,
                    });
                    plan.pieces.extend_from_slice(many);
                }
            }
        }
        plan.build_patterns();
        Ok(plan)
    }

    fn build_patterns(&mut self) {
        let n = self.interval.per_day();
        let mut blocks = Vec::with_capacity(self.codes.len() / n);
        for (codes, segs) in self
            .codes
            .chunks_exact(n)
            .zip(self.slot_segment.chunks_exact(n))
        {
            let regular = !codes.contains(&MIXED) && segs.iter().all(|&s| Some(&s) == segs.first());
            let id = if !regular {
                IRREGULAR
            } else if let Some(p) = self.patterns.chunks_exact(n).position(|p| p == codes) {
                p as u32
            } else if self.patterns.len() / n >= MAX_PATTERNS {
                IRREGULAR
            } else {
                self.patterns.extend_from_slice(codes);
                (self.patterns.len() / n - 1) as u32
            };
            blocks.push(id);
        }
        self.blocks = blocks;
    }

    /// The tariff the plan was built from.
    pub fn tariff(&self) -> &Tariff<S, D, P, T, H> {
        &self.tariff
    }

    /// The start of the first interval.
    pub fn start(&self) -> Timestamp {
        self.start
    }

    /// The interval length.
    pub fn interval(&self) -> IntervalLength {
        self.interval
    }

    /// The number of intervals covered.
    pub fn len(&self) -> usize {
        self.codes.len()
    }

    /// `true` if the plan covers no interval.
    pub fn is_empty(&self) -> bool {
        self.codes.is_empty()
    }

    /// The number of distinct day patterns (a measure of how regular the tariff is).
    pub fn pattern_count(&self) -> usize {
        self.patterns.len() / self.interval.per_day()
    }

    /// Rates one meter's readings: `readings[i]` Wh consumed over interval `i` of the plan
    /// (a prefix of the plan may be rated). The result and the new `rater` state are exactly
    /// those of calling [`Rater::rate_interval`] for every reading in order.
    ///
    /// Errors (rater unchanged): [`RateError::TooManyReadings`], [`RateError::OutOfOrder`]
    /// (the rater has already rated an instant at or after the plan start),
    /// [`RateError::MoneyOverflow`].
    pub fn rate(&self, rater: &mut Rater, readings: &[u32]) -> Result<Totals<T>, RateError> {
        let n = readings.len();
        if n > self.codes.len() {
            return Err(RateError::TooManyReadings);
        }
        if n == 0 {
            return Ok(Totals::new_sized());
        }
        if rater.latest().is_some_and(|l| l >= self.start) {
            return Err(RateError::OutOfOrder);
        }
        let reset0 = rater
            .latest()
            .is_some_and(|l| self.tariff.settles_between(l, self.start));
        // n <= MAX_PLAN_SLOTS and the plan was built, so the end instant exists.
        let end = self
            .start
            .checked_add_secs(self.interval.secs() * n as i64)
            .ok_or(RateError::TimeOutOfRange)?;

        let mut acc = Accumulators {
            rows: vec![0; self.patterns.len()],
            segment: vec![0; self.segments.len()],
            code: [0; 256],
        };
        match self.interval {
            IntervalLength::FiveMinutes => self.accumulate::<288>(readings, &mut acc),
            IntervalLength::FifteenMinutes => self.accumulate::<96>(readings, &mut acc),
            IntervalLength::ThirtyMinutes => self.accumulate::<48>(readings, &mut acc),
            IntervalLength::Hour => self.accumulate::<24>(readings, &mut acc),
        }
        for (&code, &e) in self.patterns.iter().zip(&acc.rows) {
            if let Some(sum) = acc.code.get_mut(usize::from(code)) {
                *sum = sum.wrapping_add(e);
            }
        }

        // Money: TOU part per code, tier part per tier period.
        let mut num = i128::from(rater.carry());
        for (&e, &p) in acc.code.iter().zip(&self.price_by_code) {
            num += i128::from(e) * i128::from(p);
        }
        let mut by_tier = [0i128; MAX_TIERS];
        let mut c: i128 = if reset0 {
            0
        } else {
            i128::from(rater.tier_energy().wh())
        };
        for (k, (seg, &s)) in self.segments.iter().zip(&acc.segment).enumerate() {
            if seg.start >= end {
                break;
            }
            if k > 0 && seg.reset {
                c = 0;
            }
            let tiers = self.tariff.set(seg.set).tiers();
            let s = i128::from(s);
            for (j, (price, sum)) in tiers.prices().iter().zip(&mut by_tier).enumerate() {
                let (lo, hi) = tiers.bounds(j);
                let top = hi.map_or(c + s, |h| h.min(c + s));
                let overlap = (top - lo.max(c)).max(0);
                *sum += overlap;
                num += overlap * i128::from(price.minor_per_kwh());
            }
            c = (c + s).min(i128::from(i64::MAX));
        }
        let money = i64::try_from(num / 1000).map_err(|_| RateError::MoneyOverflow)?;

        let mut totals = Totals::new_sized();
        totals.money = Money::from_minor(money);
        for (t, sum) in totals.energy_by_tariff.iter_mut().enumerate() {
            let e = acc.code.get(t).copied().unwrap_or(0)
                + acc.code.get(0x40 | t).copied().unwrap_or(0);
            *sum = Energy::from_wh(e as i64);
        }
        for (sum, &e) in totals.energy_by_tier.iter_mut().zip(&by_tier) {
            *sum = Energy::from_wh(e as i64);
        }
        let latest = end.checked_add_secs(-1).unwrap_or(end);
        // carry is num % 1000 in 0..1000 and c in 0..=i64::MAX: from_parts cannot refuse.
        *rater = Rater::from_parts((num % 1000) as u16, Energy::from_wh(c as i64), Some(latest))
            .unwrap_or(*rater);
        Ok(totals)
    }

    /// Rates one series per rater: `readings` holds `raters.len()` series of `len` readings,
    /// meter after meter, and each is rated as [`BatchPlan::rate`] rates it with its rater;
    /// the results come back in rater order, each rater updated as `rate` updates it.
    ///
    /// With the `rayon` feature the meters are spread over rayon's thread pool (the global
    /// one, or the caller's through `ThreadPool::install`), with the same results bit for
    /// bit; without it they are rated one after another.
    ///
    /// Error: [`RateError::SeriesLength`] (nothing rated) when `readings.len()` is not
    /// `raters.len() * len`.
    ///
    /// ```
    /// # use prepaid_meter::tariff::*;
    /// # use prepaid_meter::time::{Timestamp, UtcOffset};
    /// # use prepaid_meter::units::{Energy, Price};
    /// # let day = DayTable::new(&[SwitchPoint::new(0, 0, 1)]).unwrap();
    /// # let cal = Calendar::new(&[Season { start: MonthDay::new(1, 1), week: WeekRule::uniform(1) }], &[day]).unwrap();
    /// # let tariff = Tariff::new(UtcOffset::CHINA, &[], TariffSet::new(cal, &[Price::from_minor_per_kwh(5_000)], Tiers::none()).unwrap()).unwrap();
    /// let plan = BatchPlan::new(&tariff, Timestamp::from_unix(1_704_038_400), IntervalLength::Hour, 24).unwrap();
    /// // Three meters, a day of hourly readings each: 1, 2 and 3 kWh an hour.
    /// let readings: Vec<u32> = [1_000, 2_000, 3_000].iter().flat_map(|&r| [r; 24]).collect();
    /// let mut raters = [Rater::new(); 3];
    /// let totals = plan.rate_meters(&mut raters, 24, &readings).unwrap();
    /// let kwh: Vec<_> = totals.iter().map(|t| t.as_ref().unwrap().energy_by_tariff[0]).collect();
    /// assert_eq!(kwh, [Energy::from_kwh(24), Energy::from_kwh(48), Energy::from_kwh(72)]);
    /// ```
    pub fn rate_meters(
        &self,
        raters: &mut [Rater],
        len: usize,
        readings: &[u32],
    ) -> Result<Vec<Result<Totals<T>, RateError>>, RateError> {
        if raters.len().checked_mul(len) != Some(readings.len()) {
            return Err(RateError::SeriesLength);
        }
        if len == 0 {
            return Ok(raters.iter_mut().map(|r| self.rate(r, &[])).collect());
        }
        #[cfg(feature = "rayon")]
        {
            use rayon::prelude::*;
            Ok(raters
                .par_iter_mut()
                .zip(readings.par_chunks_exact(len))
                .map(|(rater, series)| self.rate(rater, series))
                .collect())
        }
        #[cfg(not(feature = "rayon"))]
        {
            Ok(raters
                .iter_mut()
                .zip(readings.chunks_exact(len))
                .map(|(rater, series)| self.rate(rater, series))
                .collect())
        }
    }

    fn accumulate<const N: usize>(&self, readings: &[u32], acc: &mut Accumulators) {
        let mut chunks = readings.chunks_exact(N);
        for (b, chunk) in (&mut chunks).enumerate() {
            let first = b * N;
            let pattern = self.blocks.get(b).copied().unwrap_or(IRREGULAR);
            let row = (pattern != IRREGULAR)
                .then(|| {
                    let p = pattern as usize * N;
                    acc.rows.get_mut(p..p + N)
                })
                .flatten()
                .and_then(|r| <&mut [u64; N]>::try_from(r).ok());
            let block = <&[u32; N]>::try_from(chunk).ok();
            let seg = self.slot_segment.get(first).copied().unwrap_or(0);
            match (row, block, acc.segment.get_mut(usize::from(seg))) {
                (Some(row), Some(block), Some(seg_sum)) => {
                    *seg_sum = seg_sum.wrapping_add(add_block(row, block));
                }
                _ => self.scalar(first, chunk, acc),
            }
        }
        let rest = chunks.remainder();
        self.scalar(readings.len() - rest.len(), rest, acc);
    }

    /// Rates intervals one by one (split intervals, irregular days, the tail).
    fn scalar(&self, first: usize, readings: &[u32], acc: &mut Accumulators) {
        let len = self.interval.secs();
        for (i, &r) in readings.iter().enumerate() {
            let slot = first + i;
            let code = self.codes.get(slot).copied().unwrap_or(MIXED);
            if code != MIXED {
                let seg = self.slot_segment.get(slot).copied().unwrap_or(0);
                add(&mut acc.code, usize::from(code), u64::from(r));
                add(&mut acc.segment, usize::from(seg), u64::from(r));
                continue;
            }
            let Ok(m) = self.mixed.binary_search_by_key(&(slot as u32), |m| m.slot) else {
                continue;
            };
            let Some(m) = self.mixed.get(m) else { continue };
            let (a, b) = (m.first as usize, (m.first + m.count) as usize);
            let pieces = self.pieces.get(a..b).unwrap_or(&[]);
            let e = Energy::from_wh(i64::from(r));
            for (j, piece) in pieces.iter().enumerate() {
                let end = pieces.get(j + 1).map_or(len, |p| i64::from(p.offset));
                let part = pro_rata(e, end, len) - pro_rata(e, i64::from(piece.offset), len);
                add(&mut acc.code, usize::from(piece.code), part as u64);
                add(&mut acc.segment, usize::from(piece.segment), part as u64);
            }
        }
    }
}

struct Accumulators {
    /// One row of `per_day` sums per pattern.
    rows: Vec<u64>,
    /// Energy per tier period.
    segment: Vec<u64>,
    /// Energy per code.
    code: [u64; 256],
}

fn add(sums: &mut [u64], i: usize, v: u64) {
    if let Some(s) = sums.get_mut(i) {
        *s = s.wrapping_add(v);
    }
}

/// `row[j] += block[j]` for every `j`, and the sum of the block. Vectorised by the compiler.
///
/// Wrapping adds cannot wrap: a plan has at most 2²² intervals of at most 2³² Wh.
#[inline]
fn add_block<const N: usize>(row: &mut [u64; N], block: &[u32; N]) -> u64 {
    let mut sum = 0u64;
    for (r, &x) in row.iter_mut().zip(block) {
        *r = r.wrapping_add(u64::from(x));
        sum = sum.wrapping_add(u64::from(x));
    }
    sum
}
