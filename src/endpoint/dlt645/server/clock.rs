//! The clock policy: which 08H broadcast corrections the server passes to the meter, and the
//! record of every clock change it made.

use super::Server;
use crate::endpoint::dlt645::data::MeterData;
use crate::snapshot::{Field, Reader, SnapshotError, Writer, struct_field};
use crate::time::{DateTime, Timestamp};

/// The largest step an 08H broadcast correction may make, either way, in seconds (5 minutes).
pub const BROADCAST_MAX_STEP_SECS: i64 = 300;

/// How close to local midnight, or to a settlement time, neither the clock nor a broadcast
/// correction may be, in seconds (5 minutes).
pub const BROADCAST_GUARD_SECS: i64 = 300;

const SECS_PER_DAY: i64 = 86_400;

/// What moved a meter's clock.
///
/// Binary form ([`Field`](crate::snapshot::Field)): one byte, 0 [`Write`](Self::Write), 1
/// [`Broadcast`](Self::Broadcast), 2 [`Local`](Self::Local) (0 and 1 are the `false` and
/// `true` of the `broadcast` flag this replaced, so stored records read the same).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub enum ClockSource {
    /// A 14H write of the date (04000101) or the time (04000102): plain, or sealed and
    /// applied by the meter.
    #[default]
    Write,
    /// An 08H broadcast correction, within the [clock policy](super::Server#clock-policy).
    Broadcast,
    /// No command: the clock the meter is handed (its real-time clock) was found earlier than
    /// the latest time the meter had run to, say after a battery-less power cycle or a
    /// firmware setting it. A meter logs it when it sees it
    /// ([`Meter::clock_changes`](crate::meter::Meter::clock_changes)); the server never does.
    Local,
}

/// One clock change.
///
/// Binary form ([`Field`](crate::snapshot::Field)): `before` and `after` (`i64` Unix
/// seconds each), `source` ([`ClockSource`], one byte); 17 bytes.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub struct ClockRecord {
    /// The meter's time before the change (when the request arrived).
    pub before: Timestamp,
    /// The time the clock was set to.
    pub after: Timestamp,
    /// What moved it.
    pub source: ClockSource,
}

/// The clock changes made and refused: a counter and the last record (a meter keeps earlier
/// ones in a log of its own, as [`Meter::clock_changes`](crate::meter::Meter::clock_changes)
/// does), readable by the caller at any time ([`Server::clock_log`]) and part of the stored
/// [`ServerState`](super::ServerState).
///
/// Binary form ([`Field`](crate::snapshot::Field)): `changes` (`u32`), `refused` (`u32`),
/// `broadcast_day` (`Option<i64>`), `last` (`Option<ClockRecord>`).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub struct ClockLog {
    /// Clock changes made (broadcast corrections and 14H writes), saturating.
    pub changes: u32,
    /// 08H broadcast corrections refused by the policy, saturating.
    pub refused: u32,
    /// The local day of the last accepted broadcast correction (at most one a day).
    pub broadcast_day: Option<i64>,
    /// The last change made.
    pub last: Option<ClockRecord>,
}

impl ClockLog {
    /// `true` if a server can have produced this log: a last record exactly when a change was
    /// made.
    pub fn is_consistent(&self) -> bool {
        self.last.is_some() == (self.changes > 0)
    }

    pub(super) fn record(&mut self, record: ClockRecord) {
        self.changes = self.changes.saturating_add(1);
        self.last = Some(record);
    }
}

/// Seconds since local midnight, and the local day, of `t`.
fn local_parts(server: &Server, t: Timestamp) -> Option<(i64, DateTime)> {
    let dt = DateTime::from_timestamp(t, server.config.offset).ok()?;
    Some((t.local_day(server.config.offset), dt))
}

fn near_boundary<M: MeterData + ?Sized>(meter: &M, dt: DateTime) -> bool {
    let tod = i64::from(dt.time.seconds_since_midnight());
    if !(BROADCAST_GUARD_SECS..=SECS_PER_DAY - BROADCAST_GUARD_SECS).contains(&tod) {
        return true;
    }
    // Settlement days (04000B01..03, `DDhh`): the settlement at hh:00 of day DD.
    (1..=3).any(|n| match meter.settlement_day(n) {
        Some((day, hour)) if day == dt.date.day() => {
            (tod - i64::from(hour) * 3600).abs() <= BROADCAST_GUARD_SECS
        }
        _ => false,
    })
}

impl Server {
    /// The clock changes made and refused so far.
    pub fn clock_log(&self) -> &ClockLog {
        &self.clock
    }

    /// Records a clock change the meter made behind [`MeterData::sealed`] (a sealed 14H
    /// write of the date or time, which the server does not see applied), so that
    /// [`ClockLog::changes`] and [`ClockLog::last`] cover every change. Store
    /// [`Server::state`] afterwards.
    pub fn clock_changed(&mut self, record: ClockRecord) {
        self.clock.record(record);
    }

    /// Whether an 08H correction to `time` (local) at `now` is within the policy.
    fn broadcast_allowed<M: MeterData + ?Sized>(
        &self,
        meter: &M,
        time: DateTime,
        now: Timestamp,
    ) -> Option<Timestamp> {
        let target = time.to_timestamp(self.config.offset);
        let step = target.checked_secs_since(now)?;
        if step.abs() > BROADCAST_MAX_STEP_SECS {
            return None;
        }
        let (day_now, dt_now) = local_parts(self, now)?;
        let (day_target, dt_target) = local_parts(self, target)?;
        if day_now != day_target
            || self.clock.broadcast_day == Some(day_now)
            || near_boundary(meter, dt_now)
            || near_boundary(meter, dt_target)
        {
            return None;
        }
        Some(target)
    }

    /// An 08H broadcast correction (to the broadcast address or this meter's): applied only
    /// within the policy, never answered.
    pub(super) fn broadcast_time<M: MeterData + ?Sized>(
        &mut self,
        meter: &mut M,
        time: DateTime,
        now: Timestamp,
    ) {
        let Some(after) = self.broadcast_allowed(meter, time, now) else {
            self.clock.refused = self.clock.refused.saturating_add(1);
            return;
        };
        if meter.set_clock(time).is_ok() {
            self.clock.broadcast_day = Some(after.local_day(self.config.offset));
            self.clock.record(ClockRecord {
                before: now,
                after,
                source: ClockSource::Broadcast,
            });
        }
    }

    /// Records a 14H write of the date or time that the meter accepted.
    pub(super) fn clock_written(&mut self, time: DateTime, now: Timestamp) {
        self.clock.record(ClockRecord {
            before: now,
            after: time.to_timestamp(self.config.offset),
            source: ClockSource::Write,
        });
    }
}

struct_field!(ClockRecord {
    before,
    after,
    source
});

impl Field for ClockSource {
    fn write_to(&self, w: &mut Writer<'_>) -> Result<(), SnapshotError> {
        let byte: u8 = match self {
            ClockSource::Write => 0,
            ClockSource::Broadcast => 1,
            ClockSource::Local => 2,
        };
        byte.write_to(w)
    }
    fn read_from(r: &mut Reader<'_>) -> Result<Self, SnapshotError> {
        match u8::read_from(r)? {
            0 => Ok(ClockSource::Write),
            1 => Ok(ClockSource::Broadcast),
            2 => Ok(ClockSource::Local),
            _ => Err(SnapshotError::InvalidField),
        }
    }
}
struct_field!(ClockLog {
    changes,
    refused,
    broadcast_day,
    last
});
