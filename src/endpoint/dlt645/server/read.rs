//! Read answers: registers, records and tables encoded in their registry formats, split into
//! follow-up parts.

use super::{NO_DATA, OTHER, Reply, Server};
use crate::bcd::{self, DateTimeFormat, NumberFormat};
use crate::endpoint::dlt645::data::{Measurement, MeterData, PriceNow, RelayLogKind};
use crate::time::{DateTime, Timestamp};
use crate::units::{Energy, Money, Price};
use crate::wire::dlt645::registry::{
    self, Access, DiEntry, EnergyKind, Format, FreezeKind, Item, Limit, PurchaseField,
};
use crate::wire::dlt645::{Di, ErrorCode};

/// Collects the part of an answer that belongs in one frame.
struct Sink<'o> {
    out: &'o mut [u8],
    skip: usize,
    total: usize,
}

impl Sink<'_> {
    fn put(&mut self, bytes: &[u8]) {
        for &b in bytes {
            if let Some(i) = self.total.checked_sub(self.skip)
                && let Some(slot) = self.out.get_mut(i)
            {
                *slot = b;
            }
            self.total += 1;
        }
    }

    fn written(&self) -> usize {
        self.total.saturating_sub(self.skip).min(self.out.len())
    }
}

fn put_number(sink: &mut Sink<'_>, format: NumberFormat, mantissa: i64) -> Reply {
    let mut tmp = [0u8; 9];
    let slot = tmp.get_mut(..usize::from(format.len)).ok_or(OTHER)?;
    format.encode(mantissa, slot).map_err(|_| OTHER)?;
    sink.put(slot);
    Ok(())
}

fn put_date_time(sink: &mut Sink<'_>, format: DateTimeFormat, dt: DateTime) -> Reply {
    let mut tmp = [0u8; 6];
    let slot = tmp.get_mut(..format.len()).ok_or(OTHER)?;
    format.encode(dt, slot).map_err(|_| OTHER)?;
    sink.put(slot);
    Ok(())
}

fn energy_mantissa(e: Energy) -> i64 {
    e.to_centi_kwh().0
}

fn money_mantissa(m: Money) -> i64 {
    m.to_cents().0
}

fn price_mantissa(p: Price) -> i64 {
    i64::from(p.minor_per_kwh())
}

fn number_format(entry: &DiEntry) -> Result<NumberFormat, ErrorCode> {
    match entry.format {
        Format::Number(f) => Ok(f),
        _ => Err(OTHER),
    }
}

impl Server {
    /// Part `seq` of the answer to a read of `di`: bytes written into `scratch` and whether
    /// more parts follow.
    pub(super) fn read<M: MeterData + ?Sized>(
        &self,
        meter: &M,
        di: Di,
        seq: u8,
        now: Timestamp,
        scratch: &mut [u8],
    ) -> Result<(usize, bool), ErrorCode> {
        let entry = registry::lookup(di).ok_or(NO_DATA)?;
        if entry.access == Access::WriteOnly {
            return Err(ErrorCode::UNAUTHORIZED);
        }
        // Every frame carries the identifier and (in follow-ups) the sequence number.
        let chunk = usize::from(self.config.max_read_len) - 5;
        let skip = usize::from(seq) * chunk;
        let mut sink = Sink {
            out: scratch.get_mut(..chunk).ok_or(OTHER)?,
            skip,
            total: 0,
        };
        let tariffs = meter.tariff_count();
        let block = entry.is_block(di);
        let (lo1, hi1) = if entry.block_di1 && di.di1() == 0xFF {
            let hi = match entry.item {
                Item::Energy(_) | Item::PreciseEnergy(_) => entry.di1_max.min(tariffs),
                _ => entry.di1_max,
            };
            (entry.di.di1(), hi)
        } else {
            (di.di1(), di.di1())
        };
        let (lo0, hi0) = if entry.block_di0 && di.di0() == 0xFF {
            let hi = match entry.item {
                Item::Price => entry.di0_max.min(tariffs),
                _ => entry.di0_max,
            };
            (entry.di.di0(), hi)
        } else {
            (di.di0(), di.di0())
        };
        for di1 in lo1..=hi1 {
            for di0 in lo0..=hi0 {
                let element = Di::new(di.di3(), di.di2(), di1, di0);
                match self.element(meter, entry, element, now, &mut sink) {
                    Ok(()) => {}
                    Err(e) if block && e == NO_DATA => {
                        // "Not present" inside a block: FF bytes.
                        let n = entry.format.fixed_len().ok_or(NO_DATA)?;
                        for _ in 0..n {
                            sink.put(&[0xFF]);
                        }
                    }
                    Err(e) => return Err(e),
                }
            }
        }
        if seq > 0 && sink.total <= skip {
            return Err(NO_DATA);
        }
        Ok((sink.written(), sink.total > skip + chunk))
    }

    /// One value (or record) of `entry` at the concrete identifier `di`.
    fn element<M: MeterData + ?Sized>(
        &self,
        m: &M,
        entry: &DiEntry,
        di: Di,
        now: Timestamp,
        sink: &mut Sink<'_>,
    ) -> Reply {
        let (di1, di0) = (di.di1(), di.di0());
        let number = |sink: &mut Sink<'_>, v: Option<i64>| -> Reply {
            put_number(sink, number_format(entry)?, v.ok_or(NO_DATA)?)
        };
        match entry.item {
            Item::Energy(kind) => number(sink, m.energy(kind, di1, di0).map(energy_mantissa)),
            Item::PreciseEnergy(kind) => number(
                sink,
                m.energy(kind, di1, di0)
                    .and_then(|e| e.wh().checked_mul(10)),
            ),
            Item::RemainingEnergy => number(sink, m.remaining_energy().map(energy_mantissa)),
            Item::OverdrawnEnergy => number(sink, m.overdrawn_energy().map(energy_mantissa)),
            Item::Balance => number(sink, m.balance().map(money_mantissa)),
            Item::Overdraft => number(sink, m.overdraft().map(money_mantissa)),
            Item::Voltage => number(sink, m.measurement(Measurement::Voltage(di1))),
            Item::Current => number(sink, m.measurement(Measurement::Current(di1))),
            Item::ActivePower => number(sink, m.measurement(Measurement::ActivePower(di1))),
            Item::PowerFactor => number(sink, m.measurement(Measurement::PowerFactor(di1))),
            Item::Frequency => number(sink, m.measurement(Measurement::Frequency)),
            Item::CurrentTierPrice => number(sink, m.price_now(PriceNow::Tier).map(price_mantissa)),
            Item::CurrentPrice => number(sink, m.price_now(PriceNow::Total).map(price_mantissa)),
            Item::CurrentTariffPrice => {
                number(sink, m.price_now(PriceNow::Tariff).map(price_mantissa))
            }
            Item::AuthRemaining => number(sink, m.auth_remaining().map(i64::from)),
            Item::Purchase(field) => {
                let p = m.purchase(di0).ok_or(NO_DATA)?;
                match field {
                    PurchaseField::Time => put_date_time(sink, DateTimeFormat::YYMMDDhhmm, p.time),
                    PurchaseField::Count => number(sink, Some(i64::from(p.count))),
                    PurchaseField::Amount => number(sink, Some(money_mantissa(p.amount))),
                    PurchaseField::BalanceBefore => {
                        number(sink, Some(money_mantissa(p.balance_before)))
                    }
                    PurchaseField::BalanceAfter => {
                        number(sink, Some(money_mantissa(p.balance_after)))
                    }
                    PurchaseField::Cumulative => number(sink, Some(money_mantissa(p.cumulative))),
                }
            }
            Item::TripCount => number(sink, m.relay_event_count(RelayLogKind::Trip).map(i64::from)),
            Item::CloseCount => number(
                sink,
                m.relay_event_count(RelayLogKind::Close).map(i64::from),
            ),
            Item::TripRecord | Item::CloseRecord => {
                let kind = if entry.item == Item::TripRecord {
                    RelayLogKind::Trip
                } else {
                    RelayLogKind::Close
                };
                let r = m.relay_event(kind, di0).ok_or(NO_DATA)?;
                put_date_time(sink, DateTimeFormat::YYMMDDhhmmss, r.time)?;
                sink.put(&r.operator.0);
                put_number(sink, NumberFormat::XXXXXX_XX, energy_mantissa(r.forward))?;
                put_number(sink, NumberFormat::XXXXXX_XX, energy_mantissa(r.reverse))
            }
            Item::ClockSetCount => number(sink, m.clock_set_count().map(i64::from)),
            Item::ClockSetRecord => {
                let r = m.clock_set(di0).ok_or(NO_DATA)?;
                sink.put(&r.operator.0);
                put_date_time(sink, DateTimeFormat::YYMMDDhhmmss, r.before)?;
                put_date_time(sink, DateTimeFormat::YYMMDDhhmmss, r.after)
            }
            Item::Date => {
                let mut b = [0u8; 4];
                bcd::encode_date_weekday(self.local_now(now)?.date, &mut b).map_err(|_| OTHER)?;
                sink.put(&b);
                Ok(())
            }
            Item::Time => {
                let mut b = [0u8; 3];
                bcd::encode_time(self.local_now(now)?.time, &mut b).map_err(|_| OTHER)?;
                sink.put(&b);
                Ok(())
            }
            Item::SwitchTime(s) => put_date_time(
                sink,
                DateTimeFormat::YYMMDDhhmm,
                m.switch_time(s).ok_or(NO_DATA)?,
            ),
            Item::Count(c) => number(sink, m.count(c).map(i64::from)),
            Item::Address => {
                sink.put(&m.address().to_wire());
                Ok(())
            }
            Item::MeterNumber => {
                sink.put(&m.meter_number().ok_or(NO_DATA)?);
                Ok(())
            }
            Item::CustomerNumber => {
                sink.put(&m.customer_number().ok_or(NO_DATA)?);
                Ok(())
            }
            Item::StatusWord => {
                sink.put(&m.status_word(di0).ok_or(NO_DATA)?.to_le_bytes());
                Ok(())
            }
            Item::SettlementDay => {
                let (day, hour) = m.settlement_day(di0).ok_or(NO_DATA)?;
                let b = [
                    bcd::encode_byte(hour).map_err(|_| OTHER)?,
                    bcd::encode_byte(day).map_err(|_| OTHER)?,
                ];
                sink.put(&b);
                Ok(())
            }
            Item::Password => Err(ErrorCode::UNAUTHORIZED),
            Item::Limit => {
                let which = Limit::from_di0(di0).ok_or(NO_DATA)?;
                number(sink, m.limit(which).map(money_mantissa))
            }
            Item::TripDelay => number(sink, m.trip_delay().map(i64::from)),
            Item::Seasons | Item::DayTable => {
                let set = di.di2();
                let mut any = false;
                for index in 0..14 {
                    let entry = if entry.item == Item::Seasons {
                        m.season(set, index)
                    } else {
                        m.day_period(set, di0, index)
                    };
                    let Some(e) = entry else { break };
                    sink.put(&registry::encode_table_entry(e).map_err(|_| OTHER)?);
                    any = true;
                }
                if any { Ok(()) } else { Err(NO_DATA) }
            }
            Item::Price => number(sink, m.price(di1, di0).map(price_mantissa)),
            Item::TierThreshold => {
                let set = if di1 == 0 { 1 } else { 2 };
                number(sink, m.tier_threshold(set, di0).map(energy_mantissa))
            }
            Item::TierPrice => {
                let set = if di1 == 1 { 1 } else { 2 };
                number(sink, m.tier_price(set, di0).map(price_mantissa))
            }
            Item::FreezeTime(kind) => put_date_time(
                sink,
                DateTimeFormat::YYMMDDhhmm,
                m.freeze_time(kind, di0).ok_or(NO_DATA)?,
            ),
            Item::FrozenForward(kind) | Item::FrozenReverse(kind) => {
                let register = if matches!(entry.item, Item::FrozenForward(_)) {
                    EnergyKind::ForwardActive
                } else {
                    EnergyKind::ReverseActive
                };
                let last = match kind {
                    FreezeKind::Hourly => 0,
                    FreezeKind::Daily => m.tariff_count(),
                };
                for tariff in 0..=last {
                    let e = m
                        .frozen_energy(kind, di0, register, tariff)
                        .ok_or(NO_DATA)?;
                    put_number(sink, NumberFormat::XXXXXX_XX, energy_mantissa(e))?;
                }
                Ok(())
            }
        }
    }
}
