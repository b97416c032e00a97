//! Writes (14H): access and password checks, then the decoded value applied to the meter.

use super::{NO_DATA, OTHER, Reply, Server};
use crate::endpoint::dlt645::data::{MeterData, Refusal, TableEntry};
use crate::time::{DateTime, Timestamp};
use crate::units::{Energy, Money, Price};
use crate::wire::dlt645::registry::{self, Access, CountParam, DiEntry, Item, Limit, Value};
use crate::wire::dlt645::{Data, Di, ErrorCode, Password, Request};

impl Server {
    pub(super) fn write<M: MeterData + ?Sized>(
        &mut self,
        meter: &mut M,
        request: &Request<'_>,
        di: Di,
        password: Password,
        value: Data<'_>,
        now: Timestamp,
    ) -> Reply {
        let entry = registry::lookup(di).ok_or(NO_DATA)?;
        if entry.is_block(di) {
            return Err(OTHER);
        }
        let (level, protected) = match entry.access {
            Access::ReadWrite { level } => (level, false),
            Access::Protected { level } => (level, true),
            Access::Read | Access::WriteOnly => return Err(ErrorCode::UNAUTHORIZED),
        };
        if password.is_sealed() {
            return meter.sealed(request, now).map_err(Refusal::error_code);
        }
        // A plain password is no protection for money: refused before it is even checked.
        if protected && !self.config.plaintext.parameters {
            return Err(ErrorCode::UNAUTHORIZED);
        }
        self.check_password(password, level, now)?;
        let mut buf = [0u8; 255];
        let bytes = value.copy_to(&mut buf).ok_or(OTHER)?;
        let v = entry.format.decode(bytes).map_err(|_| OTHER)?;
        self.apply(meter, entry, di, v, now)
            .map_err(Refusal::error_code)
    }

    fn apply<M: MeterData + ?Sized>(
        &mut self,
        m: &mut M,
        entry: &DiEntry,
        di: Di,
        v: Value<'_>,
        now: Timestamp,
    ) -> Result<(), Refusal> {
        let local =
            DateTime::from_timestamp(now, self.config.offset).map_err(|_| Refusal::Invalid)?;
        if let Applied::Clock(time) = apply_value(m, entry, di, v, local)? {
            self.clock_written(time, now);
        }
        Ok(())
    }
}

/// What [`apply_value`] did.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Applied {
    /// A parameter was written.
    Parameter,
    /// The clock was set to this local time.
    Clock(DateTime),
}

/// Applies a decoded value of `entry` (identifier `di`) to `m`, at local time `local`: the
/// one mapping of DL/T 645 parameters onto [`MeterData`] setters, for plain writes (after the
/// server's password checks) and for sealed ones (after the meter opened them).
pub(crate) fn apply_value<M: MeterData + ?Sized>(
    m: &mut M,
    entry: &DiEntry,
    di: Di,
    v: Value<'_>,
    local: DateTime,
) -> Result<Applied, Refusal> {
    let (di1, di0) = (di.di1(), di.di0());
    let mantissa = match v {
        Value::Number(d) => Some(d.mantissa),
        _ => None,
    };
    let int = |x: Option<i64>| x.ok_or(Refusal::Invalid);
    let u16_of = |x: Option<i64>| u16::try_from(int(x)?).map_err(|_| Refusal::Invalid);
    let price_of = |x: Option<i64>| {
        u32::try_from(int(x)?)
            .map(Price::from_minor_per_kwh)
            .map_err(|_| Refusal::Invalid)
    };
    let done = |r: Result<(), Refusal>| r.map(|()| Applied::Parameter);
    match (entry.item, v) {
        (Item::Date, Value::Date(d)) => {
            let time = DateTime::new(d, local.time);
            m.set_clock(time)?;
            Ok(Applied::Clock(time))
        }
        (Item::Time, Value::Time(t)) => {
            let time = DateTime::new(local.date, t);
            m.set_clock(time)?;
            Ok(Applied::Clock(time))
        }
        (Item::SwitchTime(s), Value::DateTime(t)) => done(m.set_switch_time(s, t)),
        (Item::Count(c), _) => {
            let n = u16_of(mantissa)?;
            done(match c {
                CountParam::Tariffs if n > 63 => Err(Refusal::TooManyTariffs),
                CountParam::Zones if n > 14 => Err(Refusal::TooManyZones),
                CountParam::Periods if n > 14 => Err(Refusal::TooManyPeriods),
                _ => m.set_count(c, n),
            })
        }
        (Item::MeterNumber | Item::CustomerNumber, Value::Digits(b)) => {
            let arr: [u8; 6] = b.try_into().map_err(|_| Refusal::Invalid)?;
            done(if entry.item == Item::MeterNumber {
                m.set_meter_number(arr)
            } else {
                m.set_customer_number(arr)
            })
        }
        (Item::SettlementDay, Value::DayHour { day, hour }) => {
            done(m.set_settlement_day(di0, day, hour))
        }
        (Item::Limit, _) => {
            let which = Limit::from_di0(di0).ok_or(Refusal::Unsupported)?;
            let value = Money::from_cents(int(mantissa)?).ok_or(Refusal::Invalid)?;
            done(m.set_limit(which, value))
        }
        (Item::TripDelay, _) => done(m.set_trip_delay(u16_of(mantissa)?)),
        (Item::Seasons | Item::DayTable, Value::Table { kind, bytes }) => {
            let mut entries: [TableEntry; 14] = [(0, 0, 0); 14];
            let mut n = 0;
            for (slot, e) in entries.iter_mut().zip(bytes.chunks_exact(3)) {
                *slot = registry::decode_table_entry(kind, e).map_err(|_| Refusal::Invalid)?;
                n += 1;
            }
            let entries = entries.get(..n).unwrap_or_default();
            done(if entry.item == Item::Seasons {
                m.set_seasons(di.di2(), entries)
            } else {
                m.set_day_table(di.di2(), di0, entries)
            })
        }
        (Item::Price, _) => done(m.set_price(di1, di0, price_of(mantissa)?)),
        (Item::TierThreshold, _) => {
            let set = if di1 == 0 { 1 } else { 2 };
            let e = Energy::from_centi_kwh(int(mantissa)?).ok_or(Refusal::Invalid)?;
            done(m.set_tier_threshold(set, di0, e))
        }
        (Item::TierPrice, _) => {
            let set = if di1 == 1 { 1 } else { 2 };
            done(m.set_tier_price(set, di0, price_of(mantissa)?))
        }
        _ => Err(Refusal::Unsupported),
    }
}
