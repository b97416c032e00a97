//! The domain's refusals as DL/T 645 error words: the account's and the security layer's
//! errors know nothing of the wire, so the endpoint translates them.

use crate::account::{CommandError, RechargeError};
use crate::security::OpenError;
use crate::wire::dlt645::{RelayStatusWord, SecurityErrorWord};

/// The bit of the security error word (SERR) that reports a refused purchase; errors without
/// a bit of their own report "other error" (`0x0001`).
impl From<RechargeError> for SecurityErrorWord {
    fn from(e: RechargeError) -> SecurityErrorWord {
        match e {
            RechargeError::RepeatedRecharge => SecurityErrorWord::REPEATED_RECHARGE,
            RechargeError::CustomerMismatch => SecurityErrorWord::CUSTOMER_MISMATCH,
            RechargeError::CountError => SecurityErrorWord::PURCHASE_COUNT,
            RechargeError::HoardingLimit => SecurityErrorWord::HOARDING_LIMIT,
            RechargeError::RemoteCostControl
            | RechargeError::NotOpen
            | RechargeError::AlreadyOpen
            | RechargeError::InvalidAmount
            | RechargeError::Overflow => SecurityErrorWord::OTHER,
        }
    }
}

/// The security error word (SERR) bits that best describe a sealed frame's refusal, for a
/// plain error answer: `0x0100` suspended, `0x0080` address, `0x0008` identity authentication
/// (no, expired or still live session, locked), `0x0004` verification (tag, key version), `0x0002`
/// repeated (a replayed or overtaken counter or sequence number: for a recharge, the frame was
/// already applied), `0x0001` other.
impl From<OpenError> for SecurityErrorWord {
    fn from(e: OpenError) -> SecurityErrorWord {
        match e {
            OpenError::Suspended => SecurityErrorWord::SUSPENDED,
            OpenError::WrongMeter => SecurityErrorWord::ADDRESS,
            OpenError::NoSession
            | OpenError::SessionExpired
            | OpenError::SessionBusy
            | OpenError::Locked => SecurityErrorWord::AUTH_FAILED,
            OpenError::BadTag | OpenError::WrongKeyVersion => {
                SecurityErrorWord::VERIFICATION_FAILED
            }
            OpenError::Replay => SecurityErrorWord::REPEATED_RECHARGE,
            _ => SecurityErrorWord::OTHER,
        }
    }
}

/// The bit of the relay-control (1CH) execution status word that reports a refused relay
/// command.
impl From<CommandError> for RelayStatusWord {
    fn from(e: CommandError) -> RelayStatusWord {
        match e {
            CommandError::KeepPower => RelayStatusWord::TRIP_KEEP_POWER,
            CommandError::RestoreKeepPower => RelayStatusWord::RESTORE_KEEP_POWER,
            CommandError::InvalidRestoreTime => RelayStatusWord::RESTORE_TIME,
            CommandError::AlreadyTripped => RelayStatusWord::RESTORE_TRIPPED,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::security::FrameError;

    fn serr(e: impl Into<SecurityErrorWord>) -> u16 {
        e.into().0
    }

    #[test]
    fn recharge_serr_bits() {
        assert_eq!(serr(RechargeError::RepeatedRecharge), 0x02);
        assert_eq!(serr(RechargeError::CustomerMismatch), 0x10);
        assert_eq!(serr(RechargeError::CountError), 0x20);
        assert_eq!(serr(RechargeError::HoardingLimit), 0x40);
        assert_eq!(serr(RechargeError::NotOpen), 0x01);
    }

    #[test]
    fn open_serr_bits() {
        assert_eq!(serr(OpenError::Suspended), 0x0100);
        assert_eq!(serr(OpenError::WrongMeter), 0x0080);
        assert_eq!(serr(OpenError::NoSession), 0x0008);
        assert_eq!(serr(OpenError::Locked), 0x0008);
        assert_eq!(serr(OpenError::BadTag), 0x0004);
        assert_eq!(serr(OpenError::WrongKeyVersion), 0x0004);
        // A replayed recharge is a repeated recharge (SERR bit 1).
        assert_eq!(serr(OpenError::Replay), 0x0002);
        assert_eq!(serr(OpenError::Expired), 0x0001);
        assert_eq!(serr(OpenError::Frame(FrameError::Length)), 0x0001);
    }

    #[test]
    fn command_status_bits() {
        let all = [
            CommandError::KeepPower,
            CommandError::RestoreKeepPower,
            CommandError::InvalidRestoreTime,
            CommandError::AlreadyTripped,
        ];
        let mut seen = 0u16;
        for e in all {
            let bit = RelayStatusWord::from(e).0;
            assert_eq!(bit.count_ones(), 1);
            assert_eq!(seen & bit, 0);
            seen |= bit;
        }
    }
}
