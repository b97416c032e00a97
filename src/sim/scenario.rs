//! The scenario file (TOML, format 1): what it holds, how it is read and checked.

use alloc::string::{String, ToString};
use alloc::vec::Vec;
use core::fmt;
use core::ops::Range;

use serde::Deserialize;
use toml::Spanned;

use crate::address::Address;
use crate::metering::MeterConstant;
use crate::tariff::{
    Calendar, DayTable, MAX_THRESHOLDS, MonthDay, Season, Settlement, SwitchPoint, Tariff,
    TariffSet, Tiers, WeekRule,
};
use crate::time::{Date, DateTime, Time, Timestamp, UtcOffset};
use crate::units::{Energy, Money, Price};

/// The built-in scenario: a month of four households behind one concentrator (the format's
/// worked example, and what `cargo run --example simulate` runs).
pub const BUILTIN: &str = include_str!("builtin.toml");

/// The most meters in a scenario (the simulated concentrator's table).
pub const MAX_METERS: usize = 64;
/// The longest run, in days (ten years).
pub const MAX_DAYS: u32 = 3_660;
/// The largest load of a meter in any hour, in watts.
pub const MAX_WATTS: u32 = 100_000;
/// The number of TOU tariffs a scenario prices (sharp, peak, flat, valley).
pub const TARIFFS: usize = 4;

/// A checked scenario: every value is in range and every cross-reference resolves.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Scenario {
    /// The first instant of the run.
    pub start: Timestamp,
    /// Every meter's local time (the offset of `start`).
    pub offset: UtcOffset,
    /// The length of the run in days.
    pub days: u32,
    /// The tariff every meter starts with (TOU prices, the daily switch table, the tiers).
    pub tariff: Tariff,
    /// The meters, in the order of the file.
    pub meters: Vec<MeterSpec>,
    /// The purchases, in time order (the file's order among equal times).
    pub purchases: Vec<PurchaseSpec>,
    /// The price campaigns, in time order.
    pub price_changes: Vec<PriceChangeSpec>,
}

/// One meter of a scenario.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct MeterSpec {
    /// Its address.
    pub address: Address,
    /// Its meter constant.
    pub constant: MeterConstant,
    /// The credit bought when its account is opened, at the start.
    pub opening_credit: Money,
    /// Low-credit alarm 1 (the higher threshold).
    pub alarm1: Money,
    /// Low-credit alarm 2.
    pub alarm2: Money,
    /// The overdraft: the supply is cut off when the balance reaches `-overdraft`.
    pub overdraft: Money,
    /// The load in watts in each local hour of every day.
    pub load: [u32; 24],
}

/// A purchase of credit.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct PurchaseSpec {
    /// When the customer pays.
    pub at: Timestamp,
    /// The meter it is for.
    pub meter: Address,
    /// The amount.
    pub amount: Money,
}

/// A price campaign: new TOU prices for every meter from an instant.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PriceChangeSpec {
    /// From when.
    pub at: Timestamp,
    /// The TOU prices of tariffs 1..4.
    pub prices: [Price; TARIFFS],
}

/// Why a scenario was refused: the line and the key where the problem is, and what it is.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ScenarioError {
    /// The 1-based line of the file, where known.
    pub line: Option<usize>,
    /// The key, as a TOML path (`tariff.day[2]`, `meter[1].alarm2`), where known.
    pub key: Option<String>,
    /// What is wrong.
    pub message: String,
}

impl fmt::Display for ScenarioError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match (self.line, &self.key) {
            (Some(line), Some(key)) => write!(f, "line {line}, `{key}`: {}", self.message),
            (Some(line), None) => write!(f, "line {line}: {}", self.message),
            (None, Some(key)) => write!(f, "`{key}`: {}", self.message),
            (None, None) => f.write_str(&self.message),
        }
    }
}

impl core::error::Error for ScenarioError {}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawScenario {
    format: Spanned<i64>,
    start: Spanned<String>,
    days: Spanned<i64>,
    tariff: RawTariff,
    #[serde(default)]
    meter: Vec<Spanned<RawMeter>>,
    #[serde(default)]
    purchase: Vec<Spanned<RawPurchase>>,
    #[serde(default)]
    price_change: Vec<Spanned<RawPriceChange>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawTariff {
    prices: Spanned<Vec<Spanned<String>>>,
    day: Spanned<Vec<Spanned<(String, i64)>>>,
    tiers: Option<Spanned<RawTiers>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawTiers {
    thresholds: Spanned<Vec<Spanned<String>>>,
    surcharges: Spanned<Vec<Spanned<String>>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawMeter {
    address: Spanned<String>,
    constant: Spanned<i64>,
    opening_credit: Spanned<String>,
    alarm1: Spanned<String>,
    alarm2: Spanned<String>,
    overdraft: Spanned<String>,
    load: Spanned<RawLoad>,
}

#[derive(Deserialize)]
#[serde(untagged)]
enum RawLoad {
    Constant(i64),
    Hourly(Vec<i64>),
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawPurchase {
    at: Spanned<String>,
    meter: Spanned<String>,
    amount: Spanned<String>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawPriceChange {
    at: Spanned<String>,
    prices: Spanned<Vec<Spanned<String>>>,
}

/// Reads and checks scenario text; the errors name lines in `src`.
struct Reader<'s> {
    src: &'s str,
}

impl Reader<'_> {
    fn line(&self, span: Range<usize>) -> usize {
        let end = span.start.min(self.src.len());
        self.src
            .get(..end)
            .map_or(0, |s| s.bytes().filter(|&b| b == b'\n').count())
            + 1
    }

    fn err<T>(
        &self,
        span: Range<usize>,
        key: &str,
        message: impl ToString,
    ) -> Result<T, ScenarioError> {
        Err(ScenarioError {
            line: Some(self.line(span)),
            key: Some(key.into()),
            message: message.to_string(),
        })
    }

    fn instant(
        &self,
        v: &Spanned<String>,
        key: &str,
    ) -> Result<(Timestamp, UtcOffset), ScenarioError> {
        parse_rfc3339(v.get_ref()).or_else(|m| self.err(v.span(), key, m))
    }

    fn decimal(&self, v: &Spanned<String>, key: &str, decimals: u32) -> Result<i64, ScenarioError> {
        parse_decimal(v.get_ref(), decimals).or_else(|m| self.err(v.span(), key, m))
    }

    fn money(&self, v: &Spanned<String>, key: &str) -> Result<Money, ScenarioError> {
        self.decimal(v, key, 4).map(Money::from_minor)
    }

    fn price(&self, v: &Spanned<String>, key: &str) -> Result<Price, ScenarioError> {
        let minor = self.decimal(v, key, 4)?;
        match u32::try_from(minor) {
            Ok(m) if Price::from_minor_per_kwh(m) <= Price::MAX_DLT645 => {
                Ok(Price::from_minor_per_kwh(m))
            }
            _ => self.err(v.span(), key, "a price must be at most 9999.9999 per kWh"),
        }
    }

    fn prices(
        &self,
        v: &Spanned<Vec<Spanned<String>>>,
        key: &str,
    ) -> Result<[Price; TARIFFS], ScenarioError> {
        let list = v.get_ref();
        if list.len() != TARIFFS {
            return self.err(
                v.span(),
                key,
                format_args!("four prices are needed (tariffs 1..4), not {}", list.len()),
            );
        }
        let mut prices = [Price::ZERO; TARIFFS];
        for (i, (p, s)) in prices.iter_mut().zip(list).enumerate() {
            *p = self.price(s, &alloc::format!("{key}[{i}]"))?;
        }
        Ok(prices)
    }
}

impl Scenario {
    /// The built-in scenario ([`BUILTIN`]).
    pub fn builtin() -> Result<Scenario, ScenarioError> {
        Scenario::parse(BUILTIN)
    }

    /// Reads a scenario file's text (format 1, described in the [module docs](super)).
    ///
    /// Errors: a [`ScenarioError`] naming the line and the key of the first problem: TOML
    /// syntax, an unknown or missing key, a value of the wrong type or out of range, a day
    /// table that does not start at 00:00 or is out of order, tier thresholds not above zero
    /// and increasing, an address used twice, a purchase for a meter the scenario does not
    /// have, an instant outside the run.
    pub fn parse(src: &str) -> Result<Scenario, ScenarioError> {
        let raw: RawScenario = toml::from_str(src).map_err(|e| ScenarioError {
            line: e.span().map(|s| Reader { src }.line(s)),
            key: None,
            message: e.message().trim_end().into(),
        })?;
        let r = Reader { src };
        if *raw.format.get_ref() != 1 {
            return r.err(raw.format.span(), "format", "only format 1 is known");
        }
        let (start, offset) = r.instant(&raw.start, "start")?;
        let days = match u32::try_from(*raw.days.get_ref()) {
            Ok(d) if (1..=MAX_DAYS).contains(&d) => d,
            _ => {
                return r.err(
                    raw.days.span(),
                    "days",
                    format_args!("must be 1..={MAX_DAYS}"),
                );
            }
        };
        let end = start
            .checked_add_secs(i64::from(days) * 86_400)
            .ok_or_else(|| ScenarioError {
                line: Some(r.line(raw.days.span())),
                key: Some("days".into()),
                message: "the run ends past the supported calendar".into(),
            })?;
        let tariff = tariff(&r, &raw.tariff, offset)?;
        let mut meters: Vec<MeterSpec> = Vec::new();
        if raw.meter.is_empty() {
            return Err(ScenarioError {
                line: None,
                key: Some("meter".into()),
                message: "a scenario needs at least one [[meter]]".into(),
            });
        }
        for (i, m) in raw.meter.iter().enumerate() {
            if i >= MAX_METERS {
                return r.err(
                    m.span(),
                    "meter",
                    format_args!("at most {MAX_METERS} meters"),
                );
            }
            let spec = meter(&r, m.get_ref(), i)?;
            if meters.iter().any(|o| o.address == spec.address) {
                let a = &m.get_ref().address;
                return r.err(
                    a.span(),
                    &alloc::format!("meter[{i}].address"),
                    "a second meter with this address",
                );
            }
            meters.push(spec);
        }
        let within = |at: Timestamp| start <= at && at <= end;
        let mut purchases = Vec::new();
        for (i, p) in raw.purchase.iter().enumerate() {
            let p = p.get_ref();
            let key = |k: &str| alloc::format!("purchase[{i}].{k}");
            let (at, _) = r.instant(&p.at, &key("at"))?;
            if !within(at) {
                return r.err(p.at.span(), &key("at"), "outside the run");
            }
            let meter = match p.meter.get_ref().parse::<Address>() {
                Ok(a) if meters.iter().any(|m| m.address == a) => a,
                Ok(_) => {
                    return r.err(
                        p.meter.span(),
                        &key("meter"),
                        "no [[meter]] has this address",
                    );
                }
                Err(e) => return r.err(p.meter.span(), &key("meter"), e),
            };
            let amount = r.money(&p.amount, &key("amount"))?;
            if !amount.is_positive() {
                return r.err(p.amount.span(), &key("amount"), "must be above zero");
            }
            purchases.push(PurchaseSpec { at, meter, amount });
        }
        purchases.sort_by_key(|p| p.at);
        let mut price_changes = Vec::new();
        for (i, c) in raw.price_change.iter().enumerate() {
            let c = c.get_ref();
            let key = |k: &str| alloc::format!("price_change[{i}].{k}");
            let (at, _) = r.instant(&c.at, &key("at"))?;
            if !within(at) {
                return r.err(c.at.span(), &key("at"), "outside the run");
            }
            let prices = r.prices(&c.prices, &key("prices"))?;
            if prices.contains(&Price::ZERO) {
                return r.err(
                    c.prices.span(),
                    &key("prices"),
                    "a campaign price must be above zero",
                );
            }
            price_changes.push(PriceChangeSpec { at, prices });
        }
        price_changes.sort_by_key(|c| c.at);
        Ok(Scenario {
            start,
            offset,
            days,
            tariff,
            meters,
            purchases,
            price_changes,
        })
    }

    /// The instant the run ends.
    pub fn end(&self) -> Timestamp {
        self.start
            .checked_add_secs(i64::from(self.days) * 86_400)
            .unwrap_or(self.start)
    }
}

fn tariff(r: &Reader<'_>, t: &RawTariff, offset: UtcOffset) -> Result<Tariff, ScenarioError> {
    let prices = r.prices(&t.prices, "tariff.prices")?;
    let mut points: Vec<SwitchPoint> = Vec::new();
    let mut last: Option<u32> = None;
    if t.day.get_ref().is_empty() {
        return r.err(
            t.day.span(),
            "tariff.day",
            "the day table needs at least the 00:00 entry",
        );
    }
    for (i, e) in t.day.get_ref().iter().enumerate() {
        let key = alloc::format!("tariff.day[{i}]");
        let (hhmm, number) = e.get_ref();
        let Some((h, m)) = parse_hhmm(hhmm) else {
            return r.err(
                e.span(),
                &key,
                format_args!("`{hhmm}` is not a local time HH:MM"),
            );
        };
        let minutes = u32::from(h) * 60 + u32::from(m);
        if i == 0 && minutes != 0 {
            return r.err(e.span(), &key, "the first entry must start at 00:00");
        }
        if last.is_some_and(|l| minutes <= l) {
            return r.err(
                e.span(),
                &key,
                "the day table is out of order: each entry must start after the one before",
            );
        }
        last = Some(minutes);
        let number = match u8::try_from(*number) {
            Ok(n) if (1..=4).contains(&n) => n,
            _ => return r.err(e.span(), &key, "the tariff number must be 1..=4"),
        };
        points.push(SwitchPoint::new(h, m, number));
    }
    let day = DayTable::new(&points).or_else(|e| r.err(t.day.span(), "tariff.day", e))?;
    let calendar = Calendar::new(
        &[Season {
            start: MonthDay::new(1, 1),
            week: WeekRule::uniform(1),
        }],
        &[day],
    )
    .or_else(|e| r.err(t.day.span(), "tariff.day", e))?;
    let tiers = match &t.tiers {
        None => Tiers::none(),
        Some(tiers) => {
            let tiers = tiers.get_ref();
            let th = tiers.thresholds.get_ref();
            let su = tiers.surcharges.get_ref();
            if th.is_empty() || th.len() > MAX_THRESHOLDS {
                return r.err(
                    tiers.thresholds.span(),
                    "tariff.tiers.thresholds",
                    format_args!("1..={MAX_THRESHOLDS} thresholds"),
                );
            }
            if su.len() != th.len() {
                return r.err(
                    tiers.surcharges.span(),
                    "tariff.tiers.surcharges",
                    "one surcharge for each threshold",
                );
            }
            let mut thresholds = Vec::new();
            let mut previous = 0;
            for (i, s) in th.iter().enumerate() {
                let key = alloc::format!("tariff.tiers.thresholds[{i}]");
                // kWh to three decimals: whole Wh.
                let wh = r.decimal(s, &key, 3)?;
                if wh <= previous {
                    let what = if i == 0 {
                        "a threshold must be above zero"
                    } else {
                        "thresholds must increase"
                    };
                    return r.err(s.span(), &key, what);
                }
                previous = wh;
                thresholds.push(Energy::from_wh(wh));
            }
            let mut surcharges = alloc::vec![Price::ZERO];
            for (i, s) in su.iter().enumerate() {
                surcharges.push(r.price(s, &alloc::format!("tariff.tiers.surcharges[{i}]"))?);
            }
            let monthly = Settlement::monthly(1, 0)
                .or_else(|e| r.err(tiers.thresholds.span(), "tariff.tiers", e))?;
            Tiers::new(&thresholds, &surcharges, monthly)
                .or_else(|e| r.err(tiers.thresholds.span(), "tariff.tiers", e))?
        }
    };
    let set = TariffSet::new(calendar, &prices, tiers)
        .or_else(|e| r.err(t.prices.span(), "tariff", e))?;
    Tariff::new(offset, &[], set).or_else(|e| r.err(t.prices.span(), "tariff", e))
}

fn meter(r: &Reader<'_>, m: &RawMeter, i: usize) -> Result<MeterSpec, ScenarioError> {
    let key = |k: &str| alloc::format!("meter[{i}].{k}");
    let address = m
        .address
        .get_ref()
        .parse::<Address>()
        .or_else(|e| r.err(m.address.span(), &key("address"), e))?;
    let constant = u32::try_from(*m.constant.get_ref())
        .map_err(|_| "out of range")
        .and_then(|c| MeterConstant::new(c).map_err(|_| "must be 1..=100000 imp/kWh"))
        .or_else(|e| r.err(m.constant.span(), &key("constant"), e))?;
    if constant.imp_per_kwh() > 100_000 {
        return r.err(
            m.constant.span(),
            &key("constant"),
            "must be 1..=100000 imp/kWh",
        );
    }
    let mut amounts = [Money::ZERO; 4];
    let fields = [
        (&m.opening_credit, "opening_credit"),
        (&m.alarm1, "alarm1"),
        (&m.alarm2, "alarm2"),
        (&m.overdraft, "overdraft"),
    ];
    for (slot, (v, name)) in amounts.iter_mut().zip(fields) {
        *slot = r.money(v, &key(name))?;
        if slot.is_negative() {
            return r.err(v.span(), &key(name), "must not be below zero");
        }
    }
    let [opening_credit, alarm1, alarm2, overdraft] = amounts;
    if alarm2 > alarm1 {
        return r.err(
            m.alarm2.span(),
            &key("alarm2"),
            "alarm2 must not be above alarm1",
        );
    }
    if alarm1 >= HOARDING {
        return r.err(m.alarm1.span(), &key("alarm1"), "must be below 999999.99");
    }
    if opening_credit > HOARDING {
        return r.err(
            m.opening_credit.span(),
            &key("opening_credit"),
            "must be at most 999999.99",
        );
    }
    let watts = |w: i64| u32::try_from(w).ok().filter(|w| *w <= MAX_WATTS);
    let bad_load = |why: &str| r.err(m.load.span(), &key("load"), why);
    let load = match m.load.get_ref() {
        RawLoad::Constant(w) => match watts(*w) {
            Some(w) => [w; 24],
            None => return bad_load("watts must be 0..=100000"),
        },
        RawLoad::Hourly(list) => {
            if list.len() != 24 {
                return bad_load("one number, or 24 (one for each local hour)");
            }
            let mut load = [0; 24];
            for (slot, w) in load.iter_mut().zip(list) {
                match watts(*w) {
                    Some(w) => *slot = w,
                    None => return bad_load("watts must be 0..=100000"),
                }
            }
            load
        }
    };
    Ok(MeterSpec {
        address,
        constant,
        opening_credit,
        alarm1,
        alarm2,
        overdraft,
        load,
    })
}

/// Every meter's hoarding limit: the largest balance DL/T 645 shows (XXXXXX.XX).
pub(super) const HOARDING: Money = Money::from_minor(9_999_999_900);

/// `HH:MM`, 00:00 to 23:59.
fn parse_hhmm(s: &str) -> Option<(u8, u8)> {
    let (h, m) = s.split_once(':')?;
    if h.len() != 2 || m.len() != 2 {
        return None;
    }
    let h: u8 = h.parse().ok()?;
    let m: u8 = m.parse().ok()?;
    (h < 24 && m < 60).then_some((h, m))
}

/// A non-negative decimal with at most `decimals` places, scaled by `10^decimals`.
fn parse_decimal(s: &str, decimals: u32) -> Result<i64, String> {
    let bad = || alloc::format!("`{s}` is not a decimal number with at most {decimals} decimals");
    if s.starts_with('-') {
        return Err("must not be below zero".into());
    }
    let (whole, frac) = s.split_once('.').unwrap_or((s, ""));
    let digits = |p: &str| p.bytes().all(|b| b.is_ascii_digit());
    if whole.is_empty() || !digits(whole) || !digits(frac) || frac.len() > decimals as usize {
        return Err(bad());
    }
    if s.contains('.') && frac.is_empty() {
        return Err(bad());
    }
    let scale = 10_i64.pow(decimals);
    let whole: i64 = whole.parse().map_err(|_| bad())?;
    let mut f: i64 = if frac.is_empty() {
        0
    } else {
        frac.parse().map_err(|_| bad())?
    };
    for _ in frac.len()..decimals as usize {
        f *= 10;
    }
    whole
        .checked_mul(scale)
        .and_then(|w| w.checked_add(f))
        .ok_or_else(|| "too large".into())
}

/// An RFC 3339 date-time with seconds and an offset (`Z` or `±HH:MM`), as the scenario's
/// instants are written.
pub fn parse_rfc3339(s: &str) -> Result<(Timestamp, UtcOffset), String> {
    let bad = || alloc::format!("`{s}` is not an RFC 3339 time such as 2027-03-01T00:00:00+08:00");
    let b = s.as_bytes();
    if b.len() < 20
        || b.get(4) != Some(&b'-')
        || b.get(7) != Some(&b'-')
        || !matches!(b.get(10), Some(b'T' | b't'))
        || b.get(13) != Some(&b':')
        || b.get(16) != Some(&b':')
    {
        return Err(bad());
    }
    let num = |r: Range<usize>| -> Result<u16, String> {
        let part = s.get(r).ok_or_else(bad)?;
        if !part.bytes().all(|c| c.is_ascii_digit()) {
            return Err(bad());
        }
        part.parse().map_err(|_| bad())
    };
    let (year, month, day) = (num(0..4)?, num(5..7)?, num(8..10)?);
    let (hour, minute, second) = (num(11..13)?, num(14..16)?, num(17..19)?);
    let zone = s.get(19..).ok_or_else(bad)?;
    let offset_secs: i32 = match zone {
        "Z" | "z" => 0,
        _ => {
            let zb = zone.as_bytes();
            if zb.len() != 6 || zb.get(3) != Some(&b':') {
                return Err(bad());
            }
            let sign = match zb.first() {
                Some(b'+') => 1,
                Some(b'-') => -1,
                _ => return Err(bad()),
            };
            let (oh, om) = (num(20..22)?, num(23..25)?);
            if om >= 60 {
                return Err(bad());
            }
            sign * (i32::from(oh) * 3600 + i32::from(om) * 60)
        }
    };
    let offset = UtcOffset::from_seconds(offset_secs).map_err(|e| alloc::format!("`{s}`: {e}"))?;
    let to_u8 = |v: u16| u8::try_from(v).map_err(|_| bad());
    let date =
        Date::new(year, to_u8(month)?, to_u8(day)?).map_err(|e| alloc::format!("`{s}`: {e}"))?;
    let time = Time::new(to_u8(hour)?, to_u8(minute)?, to_u8(second)?)
        .map_err(|e| alloc::format!("`{s}`: {e}"))?;
    Ok((DateTime::new(date, time).to_timestamp(offset), offset))
}

/// `at` as local RFC 3339 (`2027-03-01T00:00:00+08:00`).
pub fn format_rfc3339(at: Timestamp, offset: UtcOffset) -> String {
    let Ok(dt) = at.to_datetime(offset) else {
        return at.unix().to_string();
    };
    let o = offset.seconds();
    let sign = if o < 0 { '-' } else { '+' };
    let o = o.unsigned_abs();
    alloc::format!(
        "{:04}-{:02}-{:02}T{:02}:{:02}:{:02}{sign}{:02}:{:02}",
        dt.date.year(),
        dt.date.month(),
        dt.date.day(),
        dt.time.hour(),
        dt.time.minute(),
        dt.time.second(),
        o / 3600,
        o % 3600 / 60
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn decimals() {
        assert_eq!(parse_decimal("1.2", 4), Ok(12_000));
        assert_eq!(parse_decimal("50.00", 4), Ok(500_000));
        assert_eq!(parse_decimal("200", 3), Ok(200_000));
        assert!(parse_decimal("1.23456", 4).is_err());
        assert!(parse_decimal("-1", 4).is_err());
        assert!(parse_decimal("1.", 4).is_err());
        assert!(parse_decimal(".5", 4).is_err());
        assert!(parse_decimal("1e3", 4).is_err());
        assert!(parse_decimal("99999999999999999999", 4).is_err());
    }

    #[test]
    fn rfc3339_round_trip() {
        let (t, o) = parse_rfc3339("2027-03-01T00:00:00+08:00").unwrap();
        assert_eq!(t.unix(), 1_803_830_400);
        assert_eq!(o, UtcOffset::CHINA);
        assert_eq!(format_rfc3339(t, o), "2027-03-01T00:00:00+08:00");
        let (t, o) = parse_rfc3339("2027-03-01T00:00:00Z").unwrap();
        assert_eq!(format_rfc3339(t, o), "2027-03-01T00:00:00+00:00");
        assert!(parse_rfc3339("2027-02-30T00:00:00Z").is_err());
        assert!(parse_rfc3339("2027-03-01 00:00:00").is_err());
        assert!(parse_rfc3339("2027-03-01T24:00:00Z").is_err());
    }

    #[test]
    fn builtin_is_valid() {
        let s = Scenario::builtin().unwrap();
        assert!(s.meters.len() >= 4);
        assert!(!s.purchases.is_empty() && !s.price_changes.is_empty());
    }
}
