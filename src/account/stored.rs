//! The binary field forms ([`Field`]) of the account's state and records, and the stored forms
//! ([`Snapshot`]) of [`AccountState`] and [`LogsState`]. Layouts are documented on each state
//! type; the primitive forms in [`crate::snapshot`].

use super::config::ReconnectMode;
use super::credit::Credit;
use super::event::{
    AlarmEvent, AlarmFlags, ChargeRecord, EmergencyEvent, EmergencyState, OverdraftRecord,
    RelayEvent, Trigger,
};
use super::log::LogsState;
use super::machine::{AccountState, AccountTotals, OverdraftEpisode};
use super::purchase::PurchaseRecord;
use super::relay::{RelayCommand, RelayState, RemoteTrip, TripReason};
use crate::purchase::CustomerNumber;
use crate::snapshot::{Field, Reader, Snapshot, SnapshotError, Writer, struct_field};

struct_field!(AccountTotals<U> {
    opening,
    recharged,
    emergency_repaid,
    debt_recovered,
    emergency_granted,
    consumed,
    standing,
    converted,
});
struct_field!(OverdraftEpisode<U> { started, deepest });
/// The fields in their documented order; `price` only for energy credit, and only from `AE`
/// version 2 on (see [`AccountState`]).
impl<U: Credit + Field> Field for AccountState<U> {
    fn write_to(&self, w: &mut Writer<'_>) -> Result<(), SnapshotError> {
        self.customer.write_to(w)?;
        self.purchases.write_to(w)?;
        self.balance.write_to(w)?;
        self.totals.write_to(w)?;
        self.relay.write_to(w)?;
        self.remote.write_to(w)?;
        self.keep_power.write_to(w)?;
        self.remote_alarm.write_to(w)?;
        self.exhausted.write_to(w)?;
        self.low_credit_ack.write_to(w)?;
        self.alarms.write_to(w)?;
        self.emergency.write_to(w)?;
        self.emergency_debt.write_to(w)?;
        self.debt.write_to(w)?;
        self.recovered_in_period.write_to(w)?;
        self.recovery_period.write_to(w)?;
        self.standing_day.write_to(w)?;
        self.overdraft.write_to(w)?;
        self.residue.write_to(w)?;
        if U::HELD_AT_PRICE {
            self.price.write_to(w)?;
        } else if self.price.is_some() {
            // Money credit holds no price: a state that says otherwise has no stored form.
            return Err(SnapshotError::InvalidField);
        }
        Ok(())
    }
    fn read_from(r: &mut Reader<'_>) -> Result<Self, SnapshotError> {
        Ok(AccountState {
            customer: Field::read_from(r)?,
            purchases: Field::read_from(r)?,
            balance: Field::read_from(r)?,
            totals: Field::read_from(r)?,
            relay: Field::read_from(r)?,
            remote: Field::read_from(r)?,
            keep_power: Field::read_from(r)?,
            remote_alarm: Field::read_from(r)?,
            exhausted: Field::read_from(r)?,
            low_credit_ack: Field::read_from(r)?,
            alarms: Field::read_from(r)?,
            emergency: Field::read_from(r)?,
            emergency_debt: Field::read_from(r)?,
            debt: Field::read_from(r)?,
            recovered_in_period: Field::read_from(r)?,
            recovery_period: Field::read_from(r)?,
            standing_day: Field::read_from(r)?,
            overdraft: Field::read_from(r)?,
            residue: Field::read_from(r)?,
            price: if U::HELD_AT_PRICE && r.version() >= 2 {
                Field::read_from(r)?
            } else {
                None
            },
        })
    }
}
struct_field!(PurchaseRecord<U> {
    time,
    count,
    amount,
    balance_before,
    balance_after,
    emergency_repaid,
    debt_recovered,
    overdraft_repaid,
    standing_charge,
});
struct_field!(OverdraftRecord<U> { started, ended, deepest });
struct_field!(RelayEvent<U> { time, from, to, trigger, balance });
struct_field!(AlarmEvent<U> { time, from, to, balance });
struct_field!(ChargeRecord<U> { time, days, amount });
struct_field!(EmergencyEvent<U> { time, from, to, outstanding });

/// Six bytes, as the command carried them.
impl Field for CustomerNumber {
    fn write_to(&self, w: &mut Writer<'_>) -> Result<(), SnapshotError> {
        w.put(&self.to_bytes())
    }
    fn read_from(r: &mut Reader<'_>) -> Result<Self, SnapshotError> {
        Ok(CustomerNumber::new(r.array()?))
    }
}

/// The flag bits as one byte; bits 5 to 7 are refused.
impl Field for AlarmFlags {
    fn write_to(&self, w: &mut Writer<'_>) -> Result<(), SnapshotError> {
        self.bits().write_to(w)
    }
    fn read_from(r: &mut Reader<'_>) -> Result<Self, SnapshotError> {
        let bits = u8::read_from(r)?;
        let flags = AlarmFlags::from_bits_truncate(bits);
        if flags.bits() != bits {
            return Err(SnapshotError::InvalidField);
        }
        Ok(flags)
    }
}

/// One byte: 0 remote, 1 credit, 2 low credit.
impl Field for TripReason {
    fn write_to(&self, w: &mut Writer<'_>) -> Result<(), SnapshotError> {
        let b: u8 = match self {
            TripReason::Remote => 0,
            TripReason::Credit => 1,
            TripReason::LowCredit => 2,
        };
        b.write_to(w)
    }
    fn read_from(r: &mut Reader<'_>) -> Result<Self, SnapshotError> {
        match u8::read_from(r)? {
            0 => Ok(TripReason::Remote),
            1 => Ok(TripReason::Credit),
            2 => Ok(TripReason::LowCredit),
            _ => Err(SnapshotError::InvalidField),
        }
    }
}

/// One byte: 0 closed; 1 open or 2 ready, followed by the [`TripReason`].
impl Field for RelayState {
    fn write_to(&self, w: &mut Writer<'_>) -> Result<(), SnapshotError> {
        match self {
            RelayState::Closed => 0u8.write_to(w),
            RelayState::Open(reason) => {
                1u8.write_to(w)?;
                reason.write_to(w)
            }
            RelayState::Ready(reason) => {
                2u8.write_to(w)?;
                reason.write_to(w)
            }
        }
    }
    fn read_from(r: &mut Reader<'_>) -> Result<Self, SnapshotError> {
        match u8::read_from(r)? {
            0 => Ok(RelayState::Closed),
            1 => Ok(RelayState::Open(TripReason::read_from(r)?)),
            2 => Ok(RelayState::Ready(TripReason::read_from(r)?)),
            _ => Err(SnapshotError::InvalidField),
        }
    }
}

/// One byte: 0 button, 1 direct.
impl Field for ReconnectMode {
    fn write_to(&self, w: &mut Writer<'_>) -> Result<(), SnapshotError> {
        (*self == ReconnectMode::Direct).write_to(w)
    }
    fn read_from(r: &mut Reader<'_>) -> Result<Self, SnapshotError> {
        Ok(if bool::read_from(r)? {
            ReconnectMode::Direct
        } else {
            ReconnectMode::Button
        })
    }
}

/// One byte: 0 none, 1 tripped, 2 until, followed by the restore time (`i64`) and the
/// [`ReconnectMode`].
impl Field for RemoteTrip {
    fn write_to(&self, w: &mut Writer<'_>) -> Result<(), SnapshotError> {
        match self {
            RemoteTrip::None => 0u8.write_to(w),
            RemoteTrip::Tripped => 1u8.write_to(w),
            RemoteTrip::Until { at, then } => {
                2u8.write_to(w)?;
                at.write_to(w)?;
                then.write_to(w)
            }
        }
    }
    fn read_from(r: &mut Reader<'_>) -> Result<Self, SnapshotError> {
        match u8::read_from(r)? {
            0 => Ok(RemoteTrip::None),
            1 => Ok(RemoteTrip::Tripped),
            2 => Ok(RemoteTrip::Until {
                at: Field::read_from(r)?,
                then: Field::read_from(r)?,
            }),
            _ => Err(SnapshotError::InvalidField),
        }
    }
}

/// One byte: 0 unavailable, 1 available, 2 in use.
impl Field for EmergencyState {
    fn write_to(&self, w: &mut Writer<'_>) -> Result<(), SnapshotError> {
        let b: u8 = match self {
            EmergencyState::Unavailable => 0,
            EmergencyState::Available => 1,
            EmergencyState::InUse => 2,
        };
        b.write_to(w)
    }
    fn read_from(r: &mut Reader<'_>) -> Result<Self, SnapshotError> {
        match u8::read_from(r)? {
            0 => Ok(EmergencyState::Unavailable),
            1 => Ok(EmergencyState::Available),
            2 => Ok(EmergencyState::InUse),
            _ => Err(SnapshotError::InvalidField),
        }
    }
}

/// The DL/T 645 `N1` code (`1A`..`3B`; `1D` is a restore to button reconnection, `1E` to a
/// direct close), and for `1D`/`1E` the delay in seconds (`u32`).
impl Field for RelayCommand {
    fn write_to(&self, w: &mut Writer<'_>) -> Result<(), SnapshotError> {
        match self {
            RelayCommand::Trip => 0x1Au8.write_to(w),
            RelayCommand::ReconnectAllowed => 0x1Bu8.write_to(w),
            RelayCommand::DirectClose => 0x1Cu8.write_to(w),
            RelayCommand::TripRestore { delay_secs, then } => {
                let code: u8 = match then {
                    ReconnectMode::Button => 0x1D,
                    ReconnectMode::Direct => 0x1E,
                };
                code.write_to(w)?;
                delay_secs.write_to(w)
            }
            RelayCommand::AlarmOn => 0x2Au8.write_to(w),
            RelayCommand::AlarmOff => 0x2Bu8.write_to(w),
            RelayCommand::KeepPowerOn => 0x3Au8.write_to(w),
            RelayCommand::KeepPowerOff => 0x3Bu8.write_to(w),
        }
    }
    fn read_from(r: &mut Reader<'_>) -> Result<Self, SnapshotError> {
        Ok(match u8::read_from(r)? {
            0x1A => RelayCommand::Trip,
            0x1B => RelayCommand::ReconnectAllowed,
            0x1C => RelayCommand::DirectClose,
            0x1D => RelayCommand::TripRestore {
                delay_secs: Field::read_from(r)?,
                then: ReconnectMode::Button,
            },
            0x1E => RelayCommand::TripRestore {
                delay_secs: Field::read_from(r)?,
                then: ReconnectMode::Direct,
            },
            0x2A => RelayCommand::AlarmOn,
            0x2B => RelayCommand::AlarmOff,
            0x3A => RelayCommand::KeepPowerOn,
            0x3B => RelayCommand::KeepPowerOff,
            _ => return Err(SnapshotError::InvalidField),
        })
    }
}

/// One byte: 0 tick, 1 debit, 2 open, 3 recharge, 4 command (followed by the
/// [`RelayCommand`]), 5 button, 6 emergency credit, 7 debt, 8 reconfigure, 9 price change.
impl Field for Trigger {
    fn write_to(&self, w: &mut Writer<'_>) -> Result<(), SnapshotError> {
        let b: u8 = match self {
            Trigger::Tick => 0,
            Trigger::Debit => 1,
            Trigger::Open => 2,
            Trigger::Recharge => 3,
            Trigger::Command(c) => {
                4u8.write_to(w)?;
                return c.write_to(w);
            }
            Trigger::Button => 5,
            Trigger::EmergencyCredit => 6,
            Trigger::Debt => 7,
            Trigger::Reconfigure => 8,
            Trigger::PriceChange => 9,
        };
        b.write_to(w)
    }
    fn read_from(r: &mut Reader<'_>) -> Result<Self, SnapshotError> {
        Ok(match u8::read_from(r)? {
            0 => Trigger::Tick,
            1 => Trigger::Debit,
            2 => Trigger::Open,
            3 => Trigger::Recharge,
            4 => Trigger::Command(RelayCommand::read_from(r)?),
            5 => Trigger::Button,
            6 => Trigger::EmergencyCredit,
            7 => Trigger::Debt,
            8 => Trigger::Reconfigure,
            9 => Trigger::PriceChange,
            _ => return Err(SnapshotError::InvalidField),
        })
    }
}

impl<U: Credit + Field> Snapshot for AccountState<U> {
    const MAGIC: [u8; 2] = [b'A', U::UNIT_TAG];
    /// `AM` version 1; `AE` version 2 (with the price the credit is held at), which also reads
    /// version 1.
    const VERSION: u8 = if U::HELD_AT_PRICE { 2 } else { 1 };
    const OLDEST_VERSION: u8 = 1;
}

struct_field!(LogsState<U>[const N: usize] {
    purchases,
    overdrafts,
    relay,
    alarms,
    charges,
    emergency,
});

impl<U: Credit + Field, const N: usize> Snapshot for LogsState<U, N> {
    const MAGIC: [u8; 2] = [b'L', U::UNIT_TAG];
    const VERSION: u8 = 1;
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::time::Timestamp;
    use crate::units::Money;

    fn round_trip<T: Field + PartialEq + core::fmt::Debug>(v: &T) -> usize {
        let mut buf = [0u8; 128];
        let mut w = Writer::new(&mut buf);
        v.write_to(&mut w).unwrap();
        let n = w.position();
        let mut r = Reader::new(&buf[..n], 1);
        assert_eq!(&T::read_from(&mut r).unwrap(), v);
        assert_eq!(r.remaining(), 0);
        n
    }

    fn refused<T: Field + core::fmt::Debug>(bytes: &[u8]) {
        assert_eq!(
            T::read_from(&mut Reader::new(bytes, 1)).unwrap_err(),
            SnapshotError::InvalidField
        );
    }

    #[test]
    fn every_variant_round_trips_and_unknown_tags_are_refused() {
        let commands = [
            RelayCommand::Trip,
            RelayCommand::ReconnectAllowed,
            RelayCommand::DirectClose,
            RelayCommand::TripRestore {
                delay_secs: 600,
                then: ReconnectMode::Button,
            },
            RelayCommand::TripRestore {
                delay_secs: u32::MAX,
                then: ReconnectMode::Direct,
            },
            RelayCommand::AlarmOn,
            RelayCommand::AlarmOff,
            RelayCommand::KeepPowerOn,
            RelayCommand::KeepPowerOff,
        ];
        for c in commands {
            round_trip(&c);
            round_trip(&Trigger::Command(c));
        }
        for t in [
            Trigger::Tick,
            Trigger::Debit,
            Trigger::Open,
            Trigger::Recharge,
            Trigger::Button,
            Trigger::EmergencyCredit,
            Trigger::Debt,
            Trigger::Reconfigure,
            Trigger::PriceChange,
        ] {
            assert_eq!(round_trip(&t), 1);
        }
        for reason in [
            TripReason::Remote,
            TripReason::Credit,
            TripReason::LowCredit,
        ] {
            assert_eq!(round_trip(&RelayState::Open(reason)), 2);
            assert_eq!(round_trip(&RelayState::Ready(reason)), 2);
        }
        assert_eq!(round_trip(&RelayState::Closed), 1);
        assert_eq!(
            round_trip(&RemoteTrip::Until {
                at: Timestamp::from_unix(-1),
                then: ReconnectMode::Direct
            }),
            10
        );
        for e in [
            EmergencyState::Unavailable,
            EmergencyState::Available,
            EmergencyState::InUse,
        ] {
            round_trip(&e);
        }
        round_trip(&AlarmFlags::from_bits_truncate(0x1F));
        round_trip(&Some(CustomerNumber::new([1, 2, 3, 4, 5, 6])));
        let record = PurchaseRecord {
            time: Timestamp::from_unix(1),
            count: 2,
            amount: Money::from_minor(3),
            balance_before: Money::from_minor(-4),
            balance_after: Money::from_minor(5),
            emergency_repaid: Money::from_minor(6),
            debt_recovered: Money::from_minor(7),
            overdraft_repaid: Money::from_minor(8),
            standing_charge: Money::from_minor(9),
        };
        assert_eq!(round_trip(&record), 68);
        refused::<RelayCommand>(&[0x4F]);
        refused::<Trigger>(&[10]);
        refused::<RelayState>(&[3]);
        refused::<RelayState>(&[1, 3]);
        refused::<RemoteTrip>(&[3]);
        refused::<EmergencyState>(&[3]);
        refused::<AlarmFlags>(&[0x20]);
        refused::<ReconnectMode>(&[2]);
    }

    /// An `AE` state of version 1 (no price field) is still read, with no price; version 2
    /// keeps the price; `AM` has no price field in any version.
    #[test]
    fn energy_states_of_version_1_are_read_without_a_price() {
        use crate::account::{Config, EnergyAccount, Limits};
        use crate::snapshot::{HEADER_LEN, frame_for_tests};
        use crate::units::{Energy, Price};
        let config = Config::local(Limits {
            alarm1: Energy::from_kwh(20),
            alarm2: Energy::from_kwh(10),
            overdraft: Energy::from_kwh(5),
            hoarding: Energy::from_kwh(9_999),
            reconnect: Energy::from_kwh(1),
        });
        let mut a = EnergyAccount::new(config, Energy::from_kwh(40)).unwrap();
        let state = a.state();
        let mut v2 = [0u8; 256];
        let n = state.emit(&mut v2).unwrap();
        assert_eq!(&v2[..3], &[b'A', b'E', 2]);
        // Version 1: the same fields without the price's tag byte (0, absent), framed anew.
        let fields = &v2[HEADER_LEN..n - 5];
        assert_eq!(v2[n - 5], 0);
        let mut v1 = [0u8; 256];
        let len = frame_for_tests(*b"AE", 1, fields, &mut v1);
        assert_eq!(AccountState::<Energy>::parse(&v1[..len]), Ok(state));
        // Version 2 keeps a price.
        let _ = a
            .change_price(Timestamp::from_unix(0), Price::from_minor_per_kwh(5_000))
            .unwrap();
        let priced = a.state();
        let n = priced.emit(&mut v2).unwrap();
        assert_eq!(AccountState::<Energy>::parse(&v2[..n]), Ok(priced));
        // Money: version 1, no price field, and a price has no stored form.
        let money = Config::local(Limits {
            alarm1: Money::from_minor(2),
            alarm2: Money::from_minor(1),
            overdraft: Money::ZERO,
            hoarding: Money::from_minor(1_000),
            reconnect: Money::ZERO,
        });
        let mut m = crate::account::MoneyAccount::new(money, Money::ZERO)
            .unwrap()
            .state();
        let n = m.emit(&mut v2).unwrap();
        assert_eq!(&v2[..3], &[b'A', b'M', 1]);
        assert_eq!(AccountState::<Money>::parse(&v2[..n]), Ok(m.clone()));
        m.price = Some(Price::from_minor_per_kwh(1));
        assert_eq!(m.emit(&mut v2), Err(SnapshotError::InvalidField));
    }
}
