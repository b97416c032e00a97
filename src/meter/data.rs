//! The meter's registers, records and parameters as the DL/T 645 server reads and writes them.

use heapless::Vec;

use super::stored::{Area, RelayRecord};
use super::{METER_OPERATOR, Parts};
use crate::account::{self, Limits};
use crate::address::Address;
use crate::endpoint::dlt645::{
    ClockRecord, ClockSetEntry, ClockSource, Measurement, MeterData, PriceNow, PurchaseLogEntry,
    Refusal, RelayLogEntry, RelayLogKind, TableEntry,
};
use crate::metering::Flow;
use crate::relay::RelayCode;
use crate::ring::Ring;
use crate::tariff::{
    Calendar, DEFAULT_TARIFFS, DayTable, MonthDay, Season, SwitchPoint, TariffSet, WeekRule,
};
use crate::time::{Date, DateTime, Time, Timestamp};
use crate::units::{Energy, Money, Price};
use crate::wire::dlt645::registry::{CountParam, EnergyKind, FreezeKind, Limit, Switch};
use crate::wire::dlt645::{Data, Di, FreezeTime, OperatorCode, Request, SecurityErrorWord};

impl<
    const HN: usize,
    const DN: usize,
    const SN: usize,
    const LN: usize,
    const S: usize,
    const D: usize,
    const P: usize,
    const H: usize,
> Parts<HN, DN, SN, LN, S, D, P, H>
{
    fn local(&self, at: Timestamp) -> DateTime {
        DateTime::from_timestamp(at, self.tariff.offset())
            .unwrap_or(DateTime::new(Date::MIN, Time::MIDNIGHT))
    }

    fn relay_entry(&self, r: &RelayRecord) -> RelayLogEntry {
        RelayLogEntry {
            time: self.local(r.time),
            operator: OperatorCode(r.operator),
            forward: r.forward,
            reverse: r.reverse,
        }
    }

    /// Price set 1 = the active set, 2 = the passive one (if any).
    fn price_set(&self, set: u8) -> Option<&TariffSet<S, D, P, DEFAULT_TARIFFS>> {
        match set {
            1 => Some(self.tariff.active()),
            2 => self.tariff.passive().map(|p| &p.set),
            _ => None,
        }
    }

    /// Replaces the active set through the tariff's validating constructors, in place (the
    /// special days and the passive set stay); a refused change leaves the tariff as it was.
    #[inline(never)]
    fn rebuild_active(
        &mut self,
        change: impl FnOnce(
            &mut Vec<Season, S>,
            &mut Vec<DayTable<P>, D>,
            &mut Vec<Price, DEFAULT_TARIFFS>,
        ) -> Result<(), Refusal>,
    ) -> Result<(), Refusal> {
        let active = self.tariff.active();
        let mut seasons =
            Vec::from_slice(active.calendar().seasons()).map_err(|_| Refusal::Invalid)?;
        let mut tables =
            Vec::from_slice(active.calendar().day_tables()).map_err(|_| Refusal::Invalid)?;
        let mut prices = Vec::from_slice(active.prices()).map_err(|_| Refusal::Invalid)?;
        change(&mut seasons, &mut tables, &mut prices)?;
        let calendar =
            Calendar::<S, D, P>::new_sized(&seasons, &tables).map_err(|_| Refusal::Invalid)?;
        let set = TariffSet::new_sized(calendar, &prices, active.tiers().clone())
            .map_err(|_| Refusal::Invalid)?;
        self.tariff
            .replace_active(set)
            .map_err(|_| Refusal::Invalid)?;
        self.dirty = self.dirty.with(Area::Tariff).with(Area::Hot);
        Ok(())
    }
}

fn nth<T, const N: usize>(ring: &Ring<T, N>, n: u8) -> Option<&T> {
    ring.last(usize::from(n))
}

fn limit_mut(l: &mut Limits<Money>, which: Limit) -> &mut Money {
    match which {
        Limit::Alarm1 => &mut l.alarm1,
        Limit::Alarm2 => &mut l.alarm2,
        Limit::Overdraft => &mut l.overdraft,
        Limit::Hoarding => &mut l.hoarding,
        Limit::Reconnect => &mut l.reconnect,
    }
}

impl<
    const HN: usize,
    const DN: usize,
    const SN: usize,
    const LN: usize,
    const S: usize,
    const D: usize,
    const P: usize,
    const H: usize,
> MeterData for Parts<HN, DN, SN, LN, S, D, P, H>
{
    fn address(&self) -> Address {
        self.address
    }

    fn tariff_count(&self) -> u8 {
        u8::try_from(self.tariff.active().prices().len()).unwrap_or(u8::MAX)
    }

    fn energy(&self, kind: EnergyKind, tariff: u8, period: u8) -> Option<Energy> {
        let dir = match kind {
            EnergyKind::CombinedActive | EnergyKind::ForwardActive => Flow::Import,
            EnergyKind::ReverseActive => Flow::Export,
            _ => return None,
        };
        (period == 0).then_some(())?;
        match tariff {
            0 => Some(self.registers.total(dir)),
            t => self.registers.tariff(dir, t).ok(),
        }
    }

    fn balance(&self) -> Option<Money> {
        Some(self.account.remaining())
    }

    fn overdraft(&self) -> Option<Money> {
        Some(self.account.overdrawn())
    }

    fn measurement(&self, m: Measurement) -> Option<i64> {
        // What the firmware last read from the metering chip (`Meter::instantaneous`);
        // a single-phase meter: phase 1, and the total for power and power factor.
        let i = &self.instant;
        match m {
            Measurement::Voltage(1) => i.voltage,
            Measurement::Current(1) => i.current,
            Measurement::ActivePower(0 | 1) => i.active_power,
            Measurement::PowerFactor(0 | 1) => i.power_factor,
            Measurement::Frequency => i.frequency,
            _ => None,
        }
    }

    fn price_now(&self, which: PriceNow) -> Option<Price> {
        let slot = self.tariff.slot_at(self.now).ok()?;
        let tiers = self.tariff.set(slot.set).tiers();
        let tier = tiers.price(tiers.tier_of(self.rater.tier_energy()));
        match which {
            PriceNow::Tier => Some(tier),
            PriceNow::Tariff => Some(slot.price),
            PriceNow::Total => slot.price.checked_add(tier),
        }
    }

    fn auth_remaining(&self) -> Option<u16> {
        let s = self
            .security
            .session()
            .filter(|s| s.is_valid_at(self.now))?;
        let end = s.started.checked_add_secs(i64::from(s.validity_secs))?;
        u16::try_from(end.checked_secs_since(self.now)? / 60).ok()
    }

    fn purchase(&self, n: u8) -> Option<PurchaseLogEntry> {
        let purchases = self.logs.purchases();
        let r = purchases.last(usize::from(n))?;
        // Cumulative at record n: everything bought so far less the purchases after it.
        // (`iter` runs newest first.)
        let later = purchases
            .iter()
            .take(usize::from(n).checked_sub(1)?)
            .try_fold(Money::ZERO, |sum, p| sum.checked_add(p.amount))?;
        Some(PurchaseLogEntry {
            time: self.local(r.time),
            count: u16::try_from(r.count).ok()?,
            amount: r.amount,
            balance_before: r.balance_before.max(Money::ZERO),
            balance_after: r.balance_after.max(Money::ZERO),
            cumulative: self.account.totals().recharged.checked_sub(later)?,
        })
    }

    fn clock_set_count(&self) -> Option<u32> {
        Some(self.clocks.pushed())
    }

    fn clock_set(&self, n: u8) -> Option<ClockSetEntry> {
        nth(&self.clocks, n).map(|c| ClockSetEntry {
            operator: OperatorCode(c.operator),
            before: self.local(c.record.before),
            after: self.local(c.record.after),
        })
    }

    fn relay_event_count(&self, kind: RelayLogKind) -> Option<u32> {
        Some(match kind {
            RelayLogKind::Trip => self.trips.pushed(),
            RelayLogKind::Close => self.closes.pushed(),
        })
    }

    fn relay_event(&self, kind: RelayLogKind, n: u8) -> Option<RelayLogEntry> {
        let ring = match kind {
            RelayLogKind::Trip => &self.trips,
            RelayLogKind::Close => &self.closes,
        };
        nth(ring, n).map(|r| self.relay_entry(r))
    }

    fn customer_number(&self) -> Option<[u8; 6]> {
        self.account
            .customer()
            .map(crate::purchase::CustomerNumber::to_bytes)
    }

    fn meter_number(&self) -> Option<[u8; 6]> {
        Some(self.address.to_wire())
    }

    fn status_word(&self, n: u8) -> Option<u16> {
        // Word 3: bit 4 relay open, bit 6 keep-power, bit 7 alarm. The State Grid layout of
        // the status words is not implemented yet; the other words read as zero.
        (n == 3)
            .then_some(
                u16::from(self.contacts == account::Contacts::Open) << 4
                    | u16::from(self.account.keep_power()) << 6
                    | u16::from(self.account.alarms().output()) << 7,
            )
            .or((1..=7).contains(&n).then_some(0))
    }

    fn limit(&self, which: Limit) -> Option<Money> {
        let mut l = self.account.config().limits;
        Some(*limit_mut(&mut l, which))
    }

    fn set_limit(&mut self, which: Limit, value: Money) -> Result<(), Refusal> {
        let now = self.now;
        let mut config = self.account.config().clone();
        *limit_mut(&mut config.limits, which) = value;
        let fx = self
            .account
            .reconfigure(now, config)
            .map_err(|_| Refusal::Invalid)?;
        self.dirty = self.dirty.with(Area::Hot);
        self.apply(&fx, METER_OPERATOR, now);
        Ok(())
    }

    fn count(&self, which: CountParam) -> Option<u16> {
        let set = self.tariff.active();
        let cal = set.calendar();
        let n = match which {
            CountParam::Zones => cal.seasons().len(),
            CountParam::DayTables => cal.day_tables().len(),
            CountParam::Periods => cal
                .day_tables()
                .iter()
                .map(|t| t.points().len())
                .max()
                .unwrap_or(0),
            CountParam::Tariffs => set.prices().len(),
            CountParam::Holidays => self.tariff.special_days().len(),
            CountParam::Tiers => set.tiers().thresholds().len(),
        };
        u16::try_from(n).ok()
    }

    fn switch_time(&self, _: Switch) -> Option<DateTime> {
        // The engine switches whole sets: every switch time is the passive set's.
        self.tariff.passive().map(|p| self.local(p.switch_at))
    }

    fn season(&self, set: u8, index: u8) -> Option<TableEntry> {
        // DL/T 645 time zones name one day table; a week rule with rest days reads as its
        // Monday table.
        let s = self
            .price_set(set)?
            .calendar()
            .seasons()
            .get(usize::from(index))?;
        Some((s.start.month, s.start.day, s.week.0[0]))
    }

    fn set_seasons(&mut self, set: u8, entries: &[TableEntry]) -> Result<(), Refusal> {
        if set != 1 {
            return Err(Refusal::Unsupported);
        }
        self.rebuild_active(|seasons, _, _| {
            seasons.clear();
            for &(month, day, table) in entries {
                seasons
                    .push(Season {
                        start: MonthDay::new(month, day),
                        week: WeekRule::uniform(table),
                    })
                    .map_err(|_| Refusal::TooManyZones)?;
            }
            Ok(())
        })
    }

    fn day_period(&self, set: u8, table: u8, index: u8) -> Option<TableEntry> {
        let t = self
            .price_set(set)?
            .calendar()
            .day_tables()
            .get(usize::from(table).checked_sub(1)?)?;
        let p = t.points().get(usize::from(index))?;
        Some((p.hour, p.minute, p.tariff))
    }

    fn set_day_table(&mut self, set: u8, table: u8, entries: &[TableEntry]) -> Result<(), Refusal> {
        if set != 1 {
            return Err(Refusal::Unsupported);
        }
        let mut points: Vec<SwitchPoint, 14> = Vec::new();
        for &(h, m, t) in entries {
            points
                .push(SwitchPoint::new(h, m, t))
                .map_err(|_| Refusal::TooManyPeriods)?;
        }
        let new = DayTable::<P>::new_sized(&points).map_err(|_| Refusal::Invalid)?;
        let index = usize::from(table).checked_sub(1).ok_or(Refusal::Invalid)?;
        self.rebuild_active(|_, tables, _| {
            let t = tables.get_mut(index).ok_or(Refusal::Invalid)?;
            *t = new;
            Ok(())
        })
    }

    fn price(&self, set: u8, index: u8) -> Option<Price> {
        let prices = self.price_set(set)?.prices();
        prices.get(usize::from(index).checked_sub(1)?).copied()
    }

    fn set_price(&mut self, set: u8, index: u8, price: Price) -> Result<(), Refusal> {
        if set != 1 {
            return Err(Refusal::Unsupported);
        }
        let i = usize::from(index).checked_sub(1).ok_or(Refusal::Invalid)?;
        self.rebuild_active(|_, _, prices| {
            let p = prices.get_mut(i).ok_or(Refusal::Invalid)?;
            *p = price;
            Ok(())
        })
    }

    fn tier_threshold(&self, set: u8, index: u8) -> Option<Energy> {
        let tiers = self.price_set(set)?.tiers();
        tiers
            .thresholds()
            .get(usize::from(index).checked_sub(1)?)
            .copied()
    }

    fn tier_price(&self, set: u8, index: u8) -> Option<Price> {
        let tiers = self.price_set(set)?.tiers();
        tiers
            .prices()
            .get(usize::from(index).checked_sub(1)?)
            .copied()
    }

    fn freeze_time(&self, kind: FreezeKind, n: u8) -> Option<DateTime> {
        let t = match kind {
            FreezeKind::Hourly => nth(self.freezes.hourly(), n)?.time(),
            FreezeKind::Daily => nth(self.freezes.daily(), n)?.time(),
        };
        Some(self.local(t))
    }

    fn frozen_energy(
        &self,
        kind: FreezeKind,
        n: u8,
        register: EnergyKind,
        tariff: u8,
    ) -> Option<Energy> {
        (register == EnergyKind::ForwardActive).then_some(())?;
        let record = match kind {
            FreezeKind::Hourly => nth(self.freezes.hourly(), n)?,
            FreezeKind::Daily => nth(self.freezes.daily(), n)?,
        };
        record.energy().get(usize::from(tariff)).copied()
    }

    fn set_clock(&mut self, local: DateTime) -> Result<(), Refusal> {
        // The server has applied its clock policy; the meter keeps the correction as an offset
        // to the caller's clock.
        let caller = self
            .now
            .checked_add_secs(self.clock_offset.checked_neg().ok_or(Refusal::Invalid)?)
            .ok_or(Refusal::Invalid)?;
        let target = local.to_timestamp(self.tariff.offset());
        self.clock_offset = target.checked_secs_since(caller).ok_or(Refusal::Invalid)?;
        // Logged by `Meter::receive` once the request is handled, which knows who made it.
        self.clock_set = Some(ClockRecord {
            before: self.now,
            after: target,
            source: ClockSource::Write,
        });
        self.now = target;
        self.dirty = self.dirty.with(Area::Hot);
        Ok(())
    }

    fn freeze(&mut self, _time: FreezeTime) -> Result<(), Refusal> {
        // Freezes are taken on the hour, at midnight and on the settlement day; the meter
        // keeps no instant-freeze record.
        Err(Refusal::Unsupported)
    }

    fn relay(
        &mut self,
        command: RelayCode,
        n2: u8,
        operator: OperatorCode,
        now: Timestamp,
    ) -> Result<(), Refusal> {
        // The server has checked the password and the valid-until time.
        let command = account::RelayCommand::from_code(command, n2).ok_or(Refusal::Unsupported)?;
        let fx = self
            .account
            .command(now, command)
            .map_err(super::flows::command_refusal)?;
        self.dirty = self.dirty.with(Area::Hot);
        self.apply(&fx, operator, now);
        Ok(())
    }

    fn sealed(&mut self, request: &Request<'_>, now: Timestamp) -> Result<(), Refusal> {
        self.sealed_request(request, now)
    }

    fn security(
        &mut self,
        di: Di,
        operator: OperatorCode,
        payload: Data<'_>,
        now: Timestamp,
        out: &mut [u8],
    ) -> Result<usize, SecurityErrorWord> {
        self.security_command(di, operator, payload, now, out)
    }
}

#[cfg(test)]
mod tests {
    use crate::account::{Config, Limits};
    use crate::endpoint::dlt645::MeterData;
    use crate::meter::{KeyRecord, Meter, MeterConfig, OPEN_ACCOUNT, RECHARGE, Stored};
    use crate::metering::MeterConstant;
    use crate::purchase::{CustomerNumber, Purchase};
    use crate::security::{Command, CommandCounter, MasterKey, SecurityConfig};
    use crate::tariff::{Calendar, DayTable, MonthDay, Season, SwitchPoint, Tariff, TariffSet};
    use crate::tariff::{Tiers, WeekRule};
    use crate::time::{Timestamp, UtcOffset};
    use crate::units::{Money, Price};
    use crate::wire::dlt645::{Data, OperatorCode};

    /// A small meter at `now` with a one-rate tariff, its address and its master key.
    fn meter_at(now: Timestamp) -> (Meter<24, 7, 12, 4>, crate::address::Address, MasterKey) {
        meter_with(now, tariff(&[SwitchPoint::new(0, 0, 1)], &[5_000]))
    }

    /// A tariff of one day table, every day.
    fn tariff(points: &[SwitchPoint], prices: &[u32]) -> Tariff {
        let day = DayTable::new(points).unwrap();
        let season = Season {
            start: MonthDay::new(1, 1),
            week: WeekRule::uniform(1),
        };
        let prices: std::vec::Vec<Price> = prices
            .iter()
            .map(|&p| Price::from_minor_per_kwh(p))
            .collect();
        let set = TariffSet::new(
            Calendar::new(&[season], &[day]).unwrap(),
            &prices,
            Tiers::none(),
        )
        .unwrap();
        Tariff::new(UtcOffset::CHINA, &[], set).unwrap()
    }

    fn meter_with(
        now: Timestamp,
        tariff: Tariff,
    ) -> (Meter<24, 7, 12, 4>, crate::address::Address, MasterKey) {
        let yuan = |y| Money::from_units(y).unwrap();
        let limits = Limits {
            alarm1: yuan(20),
            alarm2: yuan(10),
            overdraft: yuan(5),
            hoarding: yuan(5_000),
            reconnect: yuan(0),
        };
        let address = "201000000012".parse().unwrap();
        let config = MeterConfig::new(
            address,
            MeterConstant::new(1_000).unwrap(),
            Config::local(limits),
        );
        let master = MasterKey::new(&[0x42; 16], SecurityConfig::DEFAULT.tag_len());
        let keys = KeyRecord::new(1, &master.meter_keys(address, 1));
        let (meter, _) = Meter::start_sized(config, keys, tariff, Stored::NONE, now).unwrap();
        (meter, address, master)
    }

    #[test]
    fn a_tick_on_a_switch_rates_its_pulses_in_the_period_they_were_counted_in() {
        use crate::metering::Flow;
        // Tariff 2 from 00:00, tariff 1 from 08:00 (UTC+8), 1 000 imp/kWh.
        let t = |h: u8, s: i64| {
            crate::time::DateTime::new(
                crate::time::Date::new(2025, 12, 1).unwrap(),
                crate::time::Time::new(h, 0, 0).unwrap(),
            )
            .to_timestamp(UtcOffset::CHINA)
            .checked_add_secs(s)
            .unwrap()
        };
        let points = [SwitchPoint::new(0, 0, 2), SwitchPoint::new(8, 0, 1)];
        let (mut meter, _, _) = meter_with(t(7, 0), tariff(&points, &[1_000, 2_000]));
        let _ = meter.tick(t(7, -1), 0);
        // Counted in the second before 08:00: tariff 2.
        let _ = meter.tick(t(8, 0), 1_000);
        assert_eq!(
            meter.registers().tariff(Flow::Import, 2).unwrap().wh(),
            1_000
        );
        assert_eq!(meter.registers().tariff(Flow::Import, 1).unwrap().wh(), 0);
        // A second tick in the same second, and the next second: tariff 1.
        let _ = meter.tick(t(8, 0), 1_000);
        let _ = meter.tick(t(8, 1), 1_000);
        assert_eq!(
            meter.registers().tariff(Flow::Import, 1).unwrap().wh(),
            2_000
        );
        assert_eq!(
            meter.registers().tariff(Flow::Import, 2).unwrap().wh(),
            1_000
        );
    }

    #[test]
    fn demand_is_read_through_the_meter() {
        // 15-minute windows from a quarter hour: 250 imp of 1 000 imp/kWh in 15 minutes.
        let now = Timestamp::from_unix(1_764_554_400);
        let (mut meter, _, _) = meter_at(now);
        assert_eq!(meter.demand().max_demand(), None);
        let _ = meter.tick(now.checked_add_secs(450).unwrap(), 250);
        let _ = meter.tick(now.checked_add_secs(900).unwrap(), 0);
        let max = meter.demand().max_demand().unwrap();
        assert_eq!(max.window_end, now.checked_add_secs(900).unwrap());
        assert_eq!(max.demand.whole_watts(), 1_000);
    }

    #[test]
    fn purchase_records_read_cumulative_amounts_at_each_record() {
        let yuan = |y| Money::from_units(y).unwrap();
        let now = Timestamp::from_unix(1_764_554_400);
        let (mut meter, address, master) = meter_at(now);
        let sealer = master.meter(address, 1);
        let mut counter = CommandCounter::new(1);
        let customer = CustomerNumber::new([1, 0, 0, 0, 0, 0]);
        for (di, count, amount) in [(OPEN_ACCOUNT, 1, 100), (RECHARGE, 2, 50), (RECHARGE, 3, 20)] {
            let purchase = Purchase {
                amount: yuan(amount),
                count,
                customer,
            };
            let command = if di == OPEN_ACCOUNT {
                Command::OpenAccount(purchase)
            } else {
                Command::Recharge(purchase)
            };
            let mut frame = [0u8; 128];
            let sent = sealer
                .seal(
                    &mut counter,
                    &command,
                    now.checked_add_secs(60).unwrap(),
                    &mut frame,
                )
                .unwrap();
            let mut out = [0u8; 64];
            meter
                .parts
                .security_command(
                    di,
                    OperatorCode([0; 4]),
                    Data::plain(&frame[..sent.len]),
                    now,
                    &mut out,
                )
                .unwrap();
        }
        // Record n (1 = last): the amount bought up to and including it.
        let cumulative = |n| meter.parts.purchase(n).unwrap().cumulative;
        assert_eq!(cumulative(1), yuan(170));
        assert_eq!(cumulative(2), yuan(150));
        assert_eq!(cumulative(3), yuan(100));
        assert_eq!(meter.parts.purchase(2).unwrap().amount, yuan(50));
        assert!(meter.parts.purchase(4).is_none());
    }
}
