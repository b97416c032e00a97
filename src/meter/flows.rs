//! The sealed flows: the 03H security commands (identity authentication, open account,
//! recharge, key update, status query), sealed relay control and sealed parameter writes.
//!
//! Each flow opens the command, applies it to copies of the engines it changes, commits the
//! command (so the same frame can never be applied again) and only then replaces the engines.
//! The answer it produces is held by the [`Meter`](super::Meter) until the new state is
//! durable.

use core::fmt;

use rand_core::{TryCryptoRng, TryRng};

use super::stored::{Area, KeyRecord};
use super::{
    KEY_UPDATE, OPEN_ACCOUNT, PURCHASE_ANSWER_LEN, Parts, RECHARGE, STATUS_ANSWER_LEN, STATUS_QUERY,
};
use crate::account::{self, CommandError, RechargeError};
use crate::endpoint::dlt645::{Applied, Refusal, apply_value};
use crate::security::{Command, OpenError, Reply, Status, Threshold};
use crate::time::{DateTime, Timestamp};
use crate::wire::dlt645::registry::{self, Item, Limit};
use crate::wire::dlt645::{Data, Di, OperatorCode, Request, SecurityErrorWord};

use super::AUTHENTICATE;

/// The longest sealed payload a flow copies out of a frame.
const MAX_SEALED: usize = 255;

/// Random bytes drawn once per received frame, for the identity authentication that frame may
/// carry. Empty when the caller's source failed: an authentication then fails as a module
/// error, nothing else does.
#[derive(Clone, Debug)]
pub(crate) struct Entropy {
    bytes: [u8; 32],
    left: usize,
}

/// The per-frame random bytes are used up (or the caller's source failed).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct EntropyExhausted;

impl fmt::Display for EntropyExhausted {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("no random bytes left for this frame")
    }
}

impl core::error::Error for EntropyExhausted {}

impl Entropy {
    pub(crate) const EMPTY: Entropy = Entropy {
        bytes: [0; 32],
        left: 0,
    };

    pub(crate) fn from_rng<R: TryCryptoRng + ?Sized>(rng: &mut R) -> Entropy {
        let mut bytes = [0u8; 32];
        match rng.try_fill_bytes(&mut bytes) {
            Ok(()) => Entropy { bytes, left: 32 },
            Err(_) => Entropy::EMPTY,
        }
    }
}

impl Drop for Entropy {
    fn drop(&mut self) {
        zeroize::Zeroize::zeroize(&mut self.bytes);
    }
}

impl TryRng for Entropy {
    type Error = EntropyExhausted;
    fn try_next_u32(&mut self) -> Result<u32, EntropyExhausted> {
        let mut b = [0u8; 4];
        self.try_fill_bytes(&mut b)?;
        Ok(u32::from_le_bytes(b))
    }
    fn try_next_u64(&mut self) -> Result<u64, EntropyExhausted> {
        let mut b = [0u8; 8];
        self.try_fill_bytes(&mut b)?;
        Ok(u64::from_le_bytes(b))
    }
    fn try_fill_bytes(&mut self, dst: &mut [u8]) -> Result<(), EntropyExhausted> {
        let start = self.bytes.len().saturating_sub(self.left);
        let end = start.checked_add(dst.len()).ok_or(EntropyExhausted)?;
        let src = self.bytes.get(start..end).ok_or(EntropyExhausted)?;
        dst.copy_from_slice(src);
        self.left = self.left.saturating_sub(dst.len());
        if let Some(used) = self.bytes.get_mut(start..end) {
            used.fill(0);
        }
        Ok(())
    }
}

impl TryCryptoRng for Entropy {}

/// Copies a sealed payload into `buf` (opening decrypts in place).
fn copy_frame<'b>(data: Data<'_>, buf: &'b mut [u8; MAX_SEALED]) -> Option<&'b mut [u8]> {
    let n = data.len();
    data.copy_to(buf)?;
    buf.get_mut(..n)
}

/// The refusal of a relay command in the terms of the DL/T 645 server.
pub(crate) fn command_refusal(e: CommandError) -> Refusal {
    match e {
        CommandError::KeepPower | CommandError::RestoreKeepPower => Refusal::KeepPower,
        _ => Refusal::Invalid,
    }
}

/// The refusal of a sealed frame that did not open, for 1CH and 14H answers.
fn open_refusal(e: OpenError) -> Refusal {
    match e {
        OpenError::Suspended | OpenError::Locked => Refusal::Suspended,
        OpenError::Expired => Refusal::Expired,
        _ => Refusal::Unauthorized,
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
> Parts<HN, DN, SN, LN, S, D, P, H>
{
    /// A 03H security command.
    // Not inlined into the server's dispatch (and so into `Meter::receive`): the 03H flows'
    // buffers and copies are on the stack only while a 03H command is handled.
    #[inline(never)]
    pub(crate) fn security_command(
        &mut self,
        di: Di,
        operator: OperatorCode,
        payload: Data<'_>,
        now: Timestamp,
        out: &mut [u8],
    ) -> Result<usize, SecurityErrorWord> {
        let mut buf = [0u8; MAX_SEALED];
        match di {
            OPEN_ACCOUNT | RECHARGE => {
                let frame = copy_frame(payload, &mut buf).ok_or(SecurityErrorWord::OTHER)?;
                self.purchase(di, operator, frame, now, out)
            }
            KEY_UPDATE => {
                let frame = copy_frame(payload, &mut buf).ok_or(SecurityErrorWord::OTHER)?;
                self.key_update(frame, now, out)
            }
            AUTHENTICATE => {
                let request = copy_frame(payload, &mut buf).ok_or(SecurityErrorWord::OTHER)?;
                let mut entropy =
                    core::mem::replace(&mut self.entropy, super::flows::Entropy::EMPTY);
                self.security
                    .authenticate(request, now, &mut entropy, out)
                    .map_err(SecurityErrorWord::from)
            }
            STATUS_QUERY => self.status(now, out),
            _ => Err(SecurityErrorWord::OTHER),
        }
    }

    /// 070101FF / 070102FF: open, apply to the account (a refused purchase leaves it
    /// unchanged), commit, answer.
    fn purchase(
        &mut self,
        di: Di,
        operator: OperatorCode,
        frame: &mut [u8],
        now: Timestamp,
        out: &mut [u8],
    ) -> Result<usize, SecurityErrorWord> {
        let pending = self.security.open(frame, now)?;
        let result = match (di, pending.command()) {
            (OPEN_ACCOUNT, Command::OpenAccount(p)) => self.account.open(now, *p),
            (RECHARGE, Command::Recharge(p)) => self.account.recharge(now, *p),
            _ => Err(RechargeError::InvalidAmount),
        };
        // Committed even when the account refuses it, so that the same frame can never be
        // applied later; the meter answers only once this is durable.
        let mut done = pending.commit();
        let receipt = result?;
        let mut answer = [0u8; PURCHASE_ANSWER_LEN];
        let (balance, count) = answer.split_at_mut(8);
        balance.copy_from_slice(&receipt.record.balance_after.minor().to_be_bytes());
        count.copy_from_slice(&receipt.record.count.to_be_bytes());
        let sealed = done.seal_response(
            &Reply {
                status: Status::OK,
                data: &answer,
            },
            out,
        );
        self.logs.record_purchase(&receipt.record);
        self.dirty = self.dirty.with(Area::Logs).with(Area::Hot);
        self.apply(&receipt.effects, operator, now);
        sealed.map_err(|_| SecurityErrorWord::OTHER)
    }

    /// 070201FF: a key update; the new keys are stored with the counter that protects them.
    fn key_update(
        &mut self,
        frame: &mut [u8],
        now: Timestamp,
        out: &mut [u8],
    ) -> Result<usize, SecurityErrorWord> {
        let pending = self.security.open(frame, now)?;
        if !matches!(pending.command(), Command::KeyUpdate(_)) {
            let _ = pending.commit();
            return Err(SecurityErrorWord::OTHER);
        }
        let staged = pending
            .module()
            .and_then(|m| m.staged_keys())
            .map(|(version, keys)| KeyRecord::new(version, keys));
        let mut done = pending.commit();
        let record = staged.ok_or(SecurityErrorWord::OTHER)?;
        self.keys = record;
        self.dirty = self.dirty.with(Area::Keys).with(Area::Hot);
        done.seal_response(
            &Reply {
                status: Status::OK,
                data: &[],
            },
            out,
        )
        .map_err(|_| SecurityErrorWord::OTHER)
    }

    /// 078102FF: remaining credit, purchase count, customer and key version, to a head-end
    /// that holds a live identity-authentication session.
    fn status(&mut self, now: Timestamp, out: &mut [u8]) -> Result<usize, SecurityErrorWord> {
        if !self.security.session().is_some_and(|s| s.is_valid_at(now)) {
            return Err(SecurityErrorWord::AUTH_FAILED);
        }
        let out = out
            .get_mut(..STATUS_ANSWER_LEN)
            .ok_or(SecurityErrorWord::OTHER)?;
        let (balance, rest) = out.split_at_mut(8);
        let (count, rest) = rest.split_at_mut(4);
        let (customer, version) = rest.split_at_mut(6);
        balance.copy_from_slice(&self.account.remaining().minor().to_be_bytes());
        count.copy_from_slice(&self.account.purchase_count().to_be_bytes());
        customer.copy_from_slice(&self.account.customer().map_or([0; 6], |c| c.to_bytes()));
        version.copy_from_slice(&self.security.state().key_version.to_be_bytes());
        Ok(STATUS_ANSWER_LEN)
    }

    /// A sealed 1CH relay command or a sealed 14H write (password level 98H).
    pub(crate) fn sealed_request(
        &mut self,
        request: &Request<'_>,
        now: Timestamp,
    ) -> Result<(), Refusal> {
        let mut buf = [0u8; MAX_SEALED];
        match request {
            Request::RelayControl {
                operator,
                order: crate::wire::dlt645::RelayOrder::Sealed(sealed),
                ..
            } => {
                let frame = copy_frame(*sealed, &mut buf).ok_or(Refusal::Unauthorized)?;
                self.sealed_relay(*operator, frame, now)
            }
            Request::Write { di, value, .. } => {
                let frame = copy_frame(*value, &mut buf).ok_or(Refusal::Unauthorized)?;
                self.sealed_write(*di, frame, now)
            }
            _ => Err(Refusal::Unsupported),
        }
    }

    // Not inlined, as `sealed_write`: each has its own frame, not the sum of both.
    #[inline(never)]
    fn sealed_relay(
        &mut self,
        operator: OperatorCode,
        frame: &mut [u8],
        now: Timestamp,
    ) -> Result<(), Refusal> {
        let pending = self.security.open(frame, now).map_err(open_refusal)?;
        // A refused command leaves the account unchanged.
        let result = match pending.command() {
            Command::RelayControl(rc) => account::RelayCommand::from_code(rc.action, rc.delay)
                .ok_or(Refusal::Unsupported)
                .and_then(|c| self.account.command(now, c).map_err(command_refusal)),
            _ => Err(Refusal::Unsupported),
        };
        // The 1CH answer carries no data, so the response seal is not used.
        let _no_reply_data = pending.commit();
        let fx = result?;
        self.apply(&fx, operator, now);
        Ok(())
    }

    /// A sealed write: `WriteParameter` of the same identifier, `SetPrice` of a price of the
    /// active set (040501xx, the index its DI0), or `SetThreshold` of the limit the identifier
    /// names (04001001 to 04001005). A sealed write of the date (04000101) or the time
    /// (04000102) sets the clock by any step: the authenticated way past the broadcast
    /// policy's 5 minutes (logged by [`Meter::receive`](super::Meter::receive)).
    #[inline(never)]
    fn sealed_write(&mut self, di: Di, frame: &mut [u8], now: Timestamp) -> Result<(), Refusal> {
        let entry = registry::lookup(di).ok_or(Refusal::Unsupported)?;
        if entry.is_block(di) {
            return Err(Refusal::Unsupported);
        }
        let local =
            DateTime::from_timestamp(now, self.tariff.offset()).map_err(|_| Refusal::Invalid)?;
        let pending = self.security.open(frame, now).map_err(open_refusal)?;
        // Decode into owned values before the command is committed (it borrows the frame).
        #[allow(clippy::large_enum_variant)] // one short-lived value on the stack
        enum Write {
            Parameter([u8; MAX_SEALED], usize),
            Price(u8, crate::units::Price),
            Limit(Limit, crate::units::Money),
            Mismatch,
        }
        let write = match *pending.command() {
            Command::WriteParameter { id, data } if id == di.0 => {
                let mut bytes = [0u8; MAX_SEALED];
                match bytes.get_mut(..data.len()) {
                    Some(b) => {
                        b.copy_from_slice(data);
                        Write::Parameter(bytes, data.len())
                    }
                    None => Write::Mismatch,
                }
            }
            Command::SetPrice { index, price }
                if entry.item == Item::Price && di.di1() == 1 && di.di0() == index =>
            {
                Write::Price(index, price)
            }
            Command::SetThreshold { threshold, amount } if entry.item == Item::Limit => {
                let which = match threshold {
                    Threshold::Alarm1 => Limit::Alarm1,
                    Threshold::Alarm2 => Limit::Alarm2,
                    Threshold::OverdraftLimit => Limit::Overdraft,
                    Threshold::HoardingLimit => Limit::Hoarding,
                    Threshold::ReconnectMinimum => Limit::Reconnect,
                };
                if Limit::from_di0(di.di0()) == Some(which) {
                    Write::Limit(which, amount)
                } else {
                    Write::Mismatch
                }
            }
            _ => Write::Mismatch,
        };
        // Committed whatever the outcome: the frame is spent.
        let _no_reply_data = pending.commit();
        use crate::endpoint::dlt645::MeterData;
        match write {
            Write::Parameter(bytes, n) => {
                let bytes = bytes.get(..n).ok_or(Refusal::Invalid)?;
                let value = entry.format.decode(bytes).map_err(|_| Refusal::Invalid)?;
                match apply_value(self, entry, di, value, local)? {
                    Applied::Parameter | Applied::Clock(_) => Ok(()),
                }
            }
            Write::Price(index, price) => self.set_price(1, index, price),
            Write::Limit(which, amount) => self.set_limit(which, amount),
            Write::Mismatch => Err(Refusal::Invalid),
        }
    }
}
