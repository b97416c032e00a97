//! The head-end (master station) of a prepaid system: vending with a ledger, a shadow
//! account per meter, tariff campaigns and customer notifications (feature `alloc`).
//!
//! The head-end is sans-IO like the rest of the crate: it produces the DL/T 645 frames to
//! forward to meters ([`HeadEnd::outgoing`], each with a tag), takes back the meter's answers
//! ([`HeadEnd::answer`]) or the news that a forward failed ([`HeadEnd::forward_failed`]), and
//! takes the readings a concentrator polls ([`HeadEnd::reading`]). The frames travel through
//! a [`Concentrator`](crate::concentrator::Concentrator) (or any transparent channel); the
//! head-end holds the master key and seals every command for one meter alone.
//!
//! # Vending
//!
//! A payment ([`HeadEnd::pay`]) is recorded in the [`Ledger`] first, as
//! [`PaymentState::Queued`]. When no earlier payment of that meter is unsettled it gets the
//! meter's next purchase count, and the head-end writes the payment and its command counter
//! to the ledger *before* it hands out the sealed open-account (`070101FF`, the first
//! purchase) or recharge (`070102FF`) frame ([`PaymentState::Sent`]). The purchase count is
//! the idempotency key: the meter applies a count once and refuses it after, so
//!
//! - an answer lost on the way leaves the payment `Sent`; after
//!   [`HeadEndConfig::retry_after_secs`] it is sealed again with the *same* count and a fresh
//!   command counter and sent again. If the first one was applied, the meter refuses the
//!   second as a repeated recharge and credits nothing;
//! - the payment is confirmed by the meter's sealed answer carrying its count
//!   ([`PaymentState::ConfirmedByAnswer`]) or by a later reading whose purchase count
//!   (`03330201`) is at or past it ([`PaymentState::ConfirmedByReading`]); a "repeated
//!   recharge" refusal is not taken as proof (the same word answers a replayed frame), the
//!   reading settles it;
//! - only a definitive refusal (hoarding limit, another customer's account), which the meter
//!   checks after the purchase count, fails a payment ([`PaymentState::Failed`]); its count
//!   is given to the next payment once every frame sealed for it has expired, so no stale
//!   frame can be applied in its place.
//!
//! # Shadow accounts and reconciliation
//!
//! Each meter has a [`ShadowAccount`] rating the per-tariff registers of every reading; each
//! reading is reconciled ([`Reconciliation`]) and a difference beyond the shadow's bound is
//! reported as [`Event::Discrepancy`] with both figures.
//!
//! # Tariff campaigns
//!
//! [`HeadEnd::campaign`] schedules new TOU prices for a set of meters from an instant: from
//! then on each meter is sent sealed `SetPrice` writes (DL/T 645 14H of `040501TT` at
//! password level 98H), one per price, and the campaign tracks which meters confirmed all of
//! them ([`CampaignStatus`]). The shadow account takes each price from the instant its meter
//! accepted it.
//!
//! # Notifications
//!
//! Readings and confirmations become [`Notification`]s through the [`Notifier`], each once
//! per event against the customer's own [`Alerts`] thresholds.
//!
//! ```
//! use prepaid_meter::account::{Config, Limits};
//! use prepaid_meter::headend::{Alerts, HeadEnd, HeadEndConfig, MemoryLedger, MeterRecord, Notification};
//! use prepaid_meter::purchase::CustomerNumber;
//! use prepaid_meter::security::{MasterKey, SecurityConfig};
//! use prepaid_meter::tariff::{Calendar, DayTable, MonthDay, Season, SwitchPoint, Tariff, TariffSet, Tiers, WeekRule};
//! use prepaid_meter::time::{Timestamp, UtcOffset};
//! use prepaid_meter::units::{Money, Price};
//!
//! # fn main() -> Result<(), Box<dyn std::error::Error>> {
//! let day = DayTable::new(&[SwitchPoint::new(0, 0, 1)])?;
//! let season = Season { start: MonthDay::new(1, 1), week: WeekRule::uniform(1) };
//! let set = TariffSet::new(Calendar::new(&[season], &[day])?, &[Price::from_minor_per_kwh(5_000)], Tiers::none())?;
//! let tariff = Tariff::new(UtcOffset::CHINA, &[], set)?;
//! let yuan = |y| Money::from_units(y).ok_or("range");
//! let limits = Limits { alarm1: yuan(20)?, alarm2: yuan(10)?, overdraft: yuan(5)?, hoarding: yuan(5_000)?, reconnect: yuan(0)? };
//! let master = MasterKey::new(&[0x42; 16], SecurityConfig::DEFAULT.tag_len());
//! let address = "201000000012".parse()?;
//! let mut head_end = HeadEnd::new(HeadEndConfig::default(), MemoryLedger::new(), Vec::<Notification>::new())?;
//! head_end.add_meter(MeterRecord {
//!     address,
//!     customer: CustomerNumber::new([0, 0, 0, 0, 0x12, 0x34]),
//!     sealer: master.meter(address, 1),
//!     tariff,
//!     account: Config::local(limits),
//!     alerts: Alerts { alarm1: yuan(20)?, alarm2: yuan(10)?, overdraft: yuan(5)? },
//! })?;
//! let now = Timestamp::from_unix(1_764_554_400);
//! let payment = head_end.pay(address, yuan(50)?, now)?;
//! // The sealed open-account frame, to forward to the meter; the ledger has it as sent.
//! let out = head_end.outgoing(now)?;
//! assert_eq!(out.len(), 1);
//! assert_eq!(head_end.payment(payment)?.map(|p| p.count), Some(Some(1)));
//! # Ok(())
//! # }
//! ```

mod campaign;
mod ledger;
mod notify;
mod shadow;
#[cfg(feature = "sqlite")]
mod sqlite;

use alloc::collections::BTreeMap;
use alloc::vec::Vec;
use core::fmt;

pub use campaign::{CampaignId, CampaignMeter, CampaignStatus};
pub use ledger::{
    FailReason, Ledger, MemoryLedger, MemoryLedgerError, Payment, PaymentId, PaymentState,
};
pub use notify::{Alerts, Notification, NotificationKind, Notifier};
pub use shadow::{Reconciliation, SHADOW_TARIFFS, ShadowAccount, ShadowError};
#[cfg(feature = "sqlite")]
pub use sqlite::{SqliteLedger, SqliteLedgerError};

use campaign::Campaign;
use notify::AlertState;

use crate::account::Config;
use crate::address::Address;
use crate::endpoint::dlt645::{Client, ClientError};
use crate::meter::{OPEN_ACCOUNT, PURCHASE_ANSWER_LEN, RECHARGE};
use crate::purchase::{CustomerNumber, Purchase};
use crate::security::{Command, CommandCounter, MeterSealer, SealError, Sealed};
use crate::tariff::Tariff;
use crate::time::Timestamp;
use crate::units::{Energy, Money, Price};
use crate::wire::dlt645::{Data, Di, OperatorCode, Password, Request, Response, SecurityErrorWord};

/// The longest sealed command the head-end sends.
const MAX_SEALED: usize = 128;

/// How the head-end seals and retries.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct HeadEndConfig {
    /// How long a sealed command stays valid, in seconds (default 3600).
    pub valid_for_secs: i64,
    /// How long an unconfirmed payment or write waits before it is sent again, in seconds
    /// (default 300).
    pub retry_after_secs: i64,
}

impl Default for HeadEndConfig {
    fn default() -> HeadEndConfig {
        HeadEndConfig {
            valid_for_secs: 3_600,
            retry_after_secs: 300,
        }
    }
}

/// A meter the head-end serves (not `Clone`: it holds the meter's keys).
#[derive(Debug)]
pub struct MeterRecord {
    /// Its address.
    pub address: Address,
    /// The customer whose account it holds.
    pub customer: CustomerNumber,
    /// Its sealer (its keys, derived from the master key).
    pub sealer: MeterSealer,
    /// The tariff it was provisioned with (the shadow rates with it).
    pub tariff: Tariff,
    /// Its account configuration (the shadow runs the same).
    pub account: Config<Money>,
    /// The customer's notification thresholds.
    pub alerts: Alerts,
}

/// One reading of a meter, as the head-end takes it (from a concentrator's
/// [`Readings`](crate::concentrator::Readings), with the wall-clock instant).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Reading {
    /// When the meter was read.
    pub at: Timestamp,
    /// Forward active energy, total.
    pub energy: Energy,
    /// Forward active energy of tariffs 1..4.
    pub energy_by_tariff: [Energy; SHADOW_TARIFFS],
    /// The remaining balance (00900200).
    pub balance: Money,
    /// The overdraft in use (00900201).
    pub overdrawn: Money,
    /// The purchase count (03330201).
    pub purchase_count: u32,
}

impl Reading {
    /// The head-end's reading of a concentrator's readings taken at wall-clock `at`.
    pub fn from_concentrator(r: &crate::concentrator::Readings, at: Timestamp) -> Reading {
        Reading {
            at,
            energy: r.energy,
            energy_by_tariff: r.energy_by_tariff,
            balance: r.balance,
            overdrawn: r.overdrawn,
            purchase_count: r.purchase_count,
        }
    }
}

/// A frame for the concentrator to forward to `meter`; its answer comes back with `tag`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Outgoing {
    /// The meter.
    pub meter: Address,
    /// The tag to give the forward and its answer.
    pub tag: u32,
    /// The DL/T 645 frame.
    pub frame: Vec<u8>,
}

/// What an answer or a reading settled.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum Event {
    /// A payment was confirmed.
    PaymentConfirmed {
        /// The payment.
        payment: PaymentId,
        /// The meter.
        meter: Address,
        /// How: `true` by the meter's answer, `false` by a reading.
        by_answer: bool,
    },
    /// A payment failed definitively.
    PaymentFailed {
        /// The payment.
        payment: PaymentId,
        /// The meter.
        meter: Address,
        /// Why.
        reason: FailReason,
    },
    /// The meter refused a command for a reason that a retry may overcome (a frame altered
    /// on the way, a repeated-recharge answer to be settled by a reading).
    Refused {
        /// The meter.
        meter: Address,
        /// Its security error word.
        word: SecurityErrorWord,
    },
    /// A meter accepted all the prices of a campaign.
    CampaignConfirmed {
        /// The campaign.
        campaign: CampaignId,
        /// The meter.
        meter: Address,
    },
    /// The shadow account could not take a confirmed payment (the payment is confirmed in
    /// the ledger all the same): its balance no longer follows the meter's.
    ShadowOutOfStep {
        /// The meter.
        meter: Address,
        /// What the shadow refused.
        error: ShadowError,
    },
    /// A reading did not reconcile with the shadow account.
    Discrepancy {
        /// The meter.
        meter: Address,
        /// Both figures and the bound.
        reconciliation: Reconciliation,
    },
}

/// Why the head-end refused an operation; nothing was changed.
#[derive(Debug)]
#[non_exhaustive]
pub enum HeadEndError<E> {
    /// The ledger's error.
    Ledger(E),
    /// No such meter.
    UnknownMeter(Address),
    /// The meter is served already.
    DuplicateMeter(Address),
    /// A payment of zero or less.
    InvalidAmount,
    /// No such payment or campaign.
    Unknown,
    /// A price index outside the meter's tariff, or no prices.
    InvalidPrices,
    /// The command could not be sealed.
    Seal(SealError),
    /// A frame could not be built.
    Frame(ClientError),
    /// The shadow account refused a reading or a purchase.
    Shadow(ShadowError),
}

impl<E: fmt::Display> fmt::Display for HeadEndError<E> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            HeadEndError::Ledger(e) => write!(f, "ledger: {e}"),
            HeadEndError::UnknownMeter(a) => write!(f, "no meter {a}"),
            HeadEndError::DuplicateMeter(a) => write!(f, "meter {a} is served already"),
            HeadEndError::InvalidAmount => f.write_str("a payment must be above zero"),
            HeadEndError::Unknown => f.write_str("no such payment or campaign"),
            HeadEndError::InvalidPrices => f.write_str("prices do not fit the meter's tariff"),
            HeadEndError::Seal(e) => write!(f, "sealing: {e}"),
            HeadEndError::Frame(e) => write!(f, "frame: {e}"),
            HeadEndError::Shadow(e) => write!(f, "shadow account: {e}"),
        }
    }
}

impl<E: fmt::Debug + fmt::Display> core::error::Error for HeadEndError<E> {}

/// What a tag in flight stands for.
#[derive(Clone, Debug)]
enum Flight {
    Payment {
        id: PaymentId,
        meter: Address,
        sent: Sealed,
    },
    Price {
        campaign: usize,
        meter: Address,
        index: u8,
    },
}

/// The head-end's book of one meter.
#[derive(Debug)]
struct Book {
    record: MeterRecord,
    counter: CommandCounter,
    shadow: ShadowAccount,
    alerts: AlertState,
    /// The highest purchase count the meter has confirmed.
    confirmed_count: u32,
    /// A tag in flight to this meter (one command at a time per meter).
    busy: Option<u32>,
    last: Option<Reading>,
    reconciliation: Option<Reconciliation>,
}

/// The head-end (see the [module docs](self)).
pub struct HeadEnd<L: Ledger, N: Notifier> {
    config: HeadEndConfig,
    ledger: L,
    notifier: N,
    books: BTreeMap<Address, Book>,
    flights: BTreeMap<u32, Flight>,
    next_tag: u32,
    next_payment: u64,
    campaigns: Vec<Campaign>,
    undelivered: Vec<Notification>,
}

type Res<T, L> = Result<T, HeadEndError<<L as Ledger>::Error>>;

impl<L: Ledger, N: Notifier> HeadEnd<L, N> {
    /// A head-end keeping its books in `ledger` (payments taken before, from a ledger that
    /// persisted them, go on where they were) and notifying through `notifier`.
    pub fn new(config: HeadEndConfig, ledger: L, notifier: N) -> Res<Self, L> {
        let next_payment = ledger
            .last_id()
            .map_err(HeadEndError::Ledger)?
            .map_or(1, |id| id.0.saturating_add(1));
        Ok(HeadEnd {
            config,
            ledger,
            notifier,
            books: BTreeMap::new(),
            flights: BTreeMap::new(),
            next_tag: 1,
            next_payment,
            campaigns: Vec::new(),
            undelivered: Vec::new(),
        })
    }

    /// Serves a meter. Its command counter and confirmed purchase count come from the ledger.
    /// Errors: [`HeadEndError::DuplicateMeter`], [`HeadEndError::Shadow`] for an account
    /// configuration the engine refuses, the ledger's.
    pub fn add_meter(&mut self, record: MeterRecord) -> Res<(), L> {
        let address = record.address;
        if self.books.contains_key(&address) {
            return Err(HeadEndError::DuplicateMeter(address));
        }
        let last = self.ledger.counter(address).map_err(HeadEndError::Ledger)?;
        let confirmed_count = self
            .ledger
            .payments_of(address)
            .map_err(HeadEndError::Ledger)?
            .iter()
            .filter(|p| p.state.is_confirmed())
            .filter_map(|p| p.count)
            .max()
            .unwrap_or(0);
        let shadow = ShadowAccount::new(record.tariff.clone(), record.account.clone())
            .map_err(HeadEndError::Shadow)?;
        let counter = CommandCounter {
            key_version: record.sealer.key_version(),
            last,
        };
        self.books.insert(
            address,
            Book {
                record,
                counter,
                shadow,
                alerts: AlertState::default(),
                confirmed_count,
                busy: None,
                last: None,
                reconciliation: None,
            },
        );
        Ok(())
    }

    /// Takes a payment of `amount` for `meter` at `now`; it is in the ledger when this
    /// returns. Errors: [`HeadEndError::UnknownMeter`], [`HeadEndError::InvalidAmount`], the
    /// ledger's.
    pub fn pay(&mut self, meter: Address, amount: Money, now: Timestamp) -> Res<PaymentId, L> {
        if !self.books.contains_key(&meter) {
            return Err(HeadEndError::UnknownMeter(meter));
        }
        if !amount.is_positive() {
            return Err(HeadEndError::InvalidAmount);
        }
        let id = PaymentId(self.next_payment);
        let payment = Payment {
            id,
            meter,
            amount,
            taken_at: now,
            count: None,
            state: PaymentState::Queued,
            attempts: 0,
            sent_at: None,
            expires_at: None,
        };
        self.ledger.insert(&payment).map_err(HeadEndError::Ledger)?;
        self.next_payment = self.next_payment.saturating_add(1);
        Ok(id)
    }

    /// Schedules `prices` (tariffs 1, 2, ...) for `meters` from `at` on. Errors:
    /// [`HeadEndError::UnknownMeter`], [`HeadEndError::InvalidPrices`] (no prices, or more
    /// than a meter's tariff has).
    pub fn campaign(
        &mut self,
        at: Timestamp,
        prices: &[Price],
        meters: &[Address],
    ) -> Res<CampaignId, L> {
        for m in meters {
            let book = self.books.get(m).ok_or(HeadEndError::UnknownMeter(*m))?;
            if prices.is_empty() || prices.len() > book.shadow.tariff().active().prices().len() {
                return Err(HeadEndError::InvalidPrices);
            }
        }
        let id = CampaignId(u32::try_from(self.campaigns.len()).unwrap_or(u32::MAX));
        self.campaigns.push(Campaign::new(id, at, prices, meters));
        Ok(id)
    }

    /// Where campaign `id` stands.
    pub fn campaign_status(&self, id: CampaignId) -> Option<CampaignStatus> {
        self.campaigns
            .get(usize::try_from(id.0).ok()?)
            .map(Campaign::status)
    }

    /// The payment `id`, from the ledger.
    pub fn payment(&self, id: PaymentId) -> Res<Option<Payment>, L> {
        self.ledger.get(id).map_err(HeadEndError::Ledger)
    }

    /// The ledger.
    pub fn ledger(&self) -> &L {
        &self.ledger
    }

    /// The notifier.
    pub fn notifier(&self) -> &N {
        &self.notifier
    }

    /// Notifications the notifier refused so far, to be offered again.
    pub fn undelivered(&self) -> &[Notification] {
        &self.undelivered
    }

    /// The shadow account of `meter`.
    pub fn shadow(&self, meter: Address) -> Option<&ShadowAccount> {
        self.books.get(&meter).map(|b| &b.shadow)
    }

    /// The last reconciliation of `meter`.
    pub fn reconciliation(&self, meter: Address) -> Option<Reconciliation> {
        self.books.get(&meter).and_then(|b| b.reconciliation)
    }

    /// The last reading of `meter`.
    pub fn last_reading(&self, meter: Address) -> Option<Reading> {
        self.books.get(&meter).and_then(|b| b.last)
    }

    /// The frames to forward now: for each meter without a command in flight, a payment due
    /// to be sent (or sent again), else a campaign write due. The ledger has every payment
    /// and counter change before this returns.
    pub fn outgoing(&mut self, now: Timestamp) -> Res<Vec<Outgoing>, L> {
        let addresses: Vec<Address> = self.books.keys().copied().collect();
        let mut out = Vec::new();
        for address in addresses {
            if self.books.get(&address).is_some_and(|b| b.busy.is_some()) {
                continue;
            }
            let payments = self
                .ledger
                .payments_of(address)
                .map_err(HeadEndError::Ledger)?;
            if let Some(o) = self.next_payment_frame(address, &payments, now)? {
                out.push(o);
                continue;
            }
            if let Some(o) = self.next_campaign_frame(address, now)? {
                out.push(o);
            }
        }
        Ok(out)
    }

    fn next_payment_frame(
        &mut self,
        address: Address,
        payments: &[Payment],
        now: Timestamp,
    ) -> Res<Option<Outgoing>, L> {
        let mine = || payments.iter();
        let retry = self.config.retry_after_secs;
        // An unconfirmed payment goes first: sent again once its wait is over.
        let mut payment = match mine().find(|p| p.state == PaymentState::Sent) {
            Some(p) => {
                let due = p
                    .sent_at
                    .and_then(|t| t.checked_add_secs(retry))
                    .is_none_or(|t| t <= now);
                if !due {
                    return Ok(None);
                }
                *p
            }
            None => {
                let Some(p) = mine().find(|p| p.state == PaymentState::Queued) else {
                    return Ok(None);
                };
                let book = self
                    .books
                    .get(&address)
                    .ok_or(HeadEndError::UnknownMeter(address))?;
                // A failed payment's count is reused only once its frames have expired.
                let blocked = mine().any(|f| {
                    matches!(f.state, PaymentState::Failed(_))
                        && f.count == book.confirmed_count.checked_add(1)
                        && f.expires_at.is_some_and(|e| e >= now)
                });
                if blocked {
                    return Ok(None);
                }
                let mut p = *p;
                p.count = book.confirmed_count.checked_add(1);
                p
            }
        };
        let count = payment.count.ok_or(HeadEndError::InvalidAmount)?;
        let valid_until = now
            .checked_add_secs(self.config.valid_for_secs)
            .ok_or(HeadEndError::InvalidAmount)?;
        let book = self
            .books
            .get_mut(&address)
            .ok_or(HeadEndError::UnknownMeter(address))?;
        let purchase = Purchase {
            customer: book.record.customer,
            count,
            amount: payment.amount,
        };
        let (di, command) = if count == 1 {
            (OPEN_ACCOUNT, Command::OpenAccount(purchase))
        } else {
            (RECHARGE, Command::Recharge(purchase))
        };
        let mut counter = book.counter;
        let mut sealed = [0u8; MAX_SEALED];
        let sent = book
            .record
            .sealer
            .seal(&mut counter, &command, valid_until, &mut sealed)
            .map_err(HeadEndError::Seal)?;
        let mut frame = [0u8; 256];
        let n = Client::new(address)
            .security(di, sealed.get(..sent.len).unwrap_or(&[]), &mut frame)
            .map_err(HeadEndError::Frame)?;
        payment.state = PaymentState::Sent;
        payment.attempts = payment.attempts.saturating_add(1);
        payment.sent_at = Some(now);
        payment.expires_at = Some(
            payment
                .expires_at
                .map_or(valid_until, |e| e.max(valid_until)),
        );
        // Durable before the frame leaves: the counter, then the payment.
        self.ledger
            .set_counter(address, counter.last)
            .map_err(HeadEndError::Ledger)?;
        self.ledger.update(&payment).map_err(HeadEndError::Ledger)?;
        book.counter = counter;
        let tag = self.take_tag();
        if let Some(book) = self.books.get_mut(&address) {
            book.busy = Some(tag);
        }
        self.flights.insert(
            tag,
            Flight::Payment {
                id: payment.id,
                meter: address,
                sent,
            },
        );
        Ok(Some(Outgoing {
            meter: address,
            tag,
            frame: frame.get(..n).unwrap_or(&[]).to_vec(),
        }))
    }

    fn next_campaign_frame(
        &mut self,
        address: Address,
        now: Timestamp,
    ) -> Res<Option<Outgoing>, L> {
        let retry = self.config.retry_after_secs;
        let Some((ci, index, price)) = self.campaigns.iter().enumerate().find_map(|(i, c)| {
            c.next_write(address, now, retry)
                .map(|(index, price)| (i, index, price))
        }) else {
            return Ok(None);
        };
        let valid_until = now
            .checked_add_secs(self.config.valid_for_secs)
            .ok_or(HeadEndError::InvalidPrices)?;
        let book = self
            .books
            .get_mut(&address)
            .ok_or(HeadEndError::UnknownMeter(address))?;
        let mut counter = book.counter;
        let mut sealed = [0u8; MAX_SEALED];
        let sent = book
            .record
            .sealer
            .seal(
                &mut counter,
                &Command::SetPrice { index, price },
                valid_until,
                &mut sealed,
            )
            .map_err(HeadEndError::Seal)?;
        let request = Request::Write {
            di: Di(0x0405_0100 | u32::from(index)),
            password: Password {
                level: Password::LEVEL_SEALED,
                code: [0; 3],
            },
            operator: OperatorCode([0; 4]),
            value: Data::plain(sealed.get(..sent.len).unwrap_or(&[])),
        };
        let mut frame = [0u8; 256];
        let n = Client::new(address)
            .request(&request, &mut frame)
            .map_err(HeadEndError::Frame)?;
        self.ledger
            .set_counter(address, counter.last)
            .map_err(HeadEndError::Ledger)?;
        book.counter = counter;
        if let Some(c) = self.campaigns.get_mut(ci) {
            c.sent(address, now);
        }
        let tag = self.take_tag();
        if let Some(book) = self.books.get_mut(&address) {
            book.busy = Some(tag);
        }
        self.flights.insert(
            tag,
            Flight::Price {
                campaign: ci,
                meter: address,
                index,
            },
        );
        Ok(Some(Outgoing {
            meter: address,
            tag,
            frame: frame.get(..n).unwrap_or(&[]).to_vec(),
        }))
    }

    fn take_tag(&mut self) -> u32 {
        let tag = self.next_tag;
        self.next_tag = self.next_tag.checked_add(1).unwrap_or(1);
        tag
    }

    /// The forward `tag` got no answer: the command stays unconfirmed and is sent again after
    /// [`HeadEndConfig::retry_after_secs`]. An unknown tag is ignored.
    pub fn forward_failed(&mut self, tag: u32) {
        if let Some(flight) = self.flights.remove(&tag) {
            self.release(tag, &flight);
        }
    }

    /// The meter of `flight` is free for its next command.
    fn release(&mut self, tag: u32, flight: &Flight) {
        let (Flight::Payment { meter, .. } | Flight::Price { meter, .. }) = flight;
        if let Some(book) = self.books.get_mut(meter)
            && book.busy == Some(tag)
        {
            book.busy = None;
        }
    }

    /// Takes the meter's answer (`frame`, as forwarded back) to the command `tag`, at `now`.
    /// An answer that does not open (altered, or from another meter) confirms nothing: the
    /// command is sent again later. An unknown tag is ignored.
    pub fn answer(&mut self, tag: u32, frame: &[u8], now: Timestamp) -> Res<Vec<Event>, L> {
        let Some(flight) = self.flights.remove(&tag) else {
            return Ok(Vec::new());
        };
        self.release(tag, &flight);
        let mut events = Vec::new();
        match flight {
            Flight::Payment { id, sent, .. } => {
                self.payment_answer(id, &sent, frame, now, &mut events)?
            }
            Flight::Price {
                campaign,
                meter,
                index,
            } => self.price_answer(campaign, meter, index, frame, now, &mut events)?,
        }
        self.deliver();
        Ok(events)
    }

    fn payment_answer(
        &mut self,
        id: PaymentId,
        sent: &Sealed,
        frame: &[u8],
        now: Timestamp,
        events: &mut Vec<Event>,
    ) -> Res<(), L> {
        let Some(mut payment) = self.ledger.get(id).map_err(HeadEndError::Ledger)? else {
            return Ok(());
        };
        if payment.state != PaymentState::Sent {
            return Ok(());
        }
        let address = payment.meter;
        let Some(book) = self.books.get(&address) else {
            return Ok(());
        };
        let client = Client::new(address);
        match client.parse_answer(frame) {
            Ok(Response::Security { data, .. }) => {
                let mut bytes = [0u8; 255];
                let Some(opened) = data.copy_to(&mut bytes) else {
                    return Ok(());
                };
                let len = opened.len();
                let Some(reply) = bytes.get_mut(..len) else {
                    return Ok(());
                };
                let Ok(reply) = book.record.sealer.open_response(reply, sent) else {
                    return Ok(());
                };
                let d = reply.data;
                let (Some(b), Some(c)) = (d.get(..8), d.get(8..PURCHASE_ANSWER_LEN)) else {
                    return Ok(());
                };
                let (Ok(b), Ok(c)) = (<[u8; 8]>::try_from(b), <[u8; 4]>::try_from(c)) else {
                    return Ok(());
                };
                let balance_after = Money::from_minor(i64::from_be_bytes(b));
                if Some(u32::from_be_bytes(c)) != payment.count {
                    return Ok(());
                }
                payment.state = PaymentState::ConfirmedByAnswer { balance_after };
                self.confirm(payment, now, balance_after, true, events)?;
            }
            Err(ClientError::SecurityRefused(word)) => {
                let reason = if word.contains(SecurityErrorWord::HOARDING_LIMIT) {
                    Some(FailReason::HoardingLimit)
                } else if word.contains(SecurityErrorWord::CUSTOMER_MISMATCH) {
                    Some(FailReason::CustomerMismatch)
                } else {
                    None
                };
                match reason {
                    Some(reason) => {
                        payment.state = PaymentState::Failed(reason);
                        self.ledger.update(&payment).map_err(HeadEndError::Ledger)?;
                        events.push(Event::PaymentFailed {
                            payment: id,
                            meter: address,
                            reason,
                        });
                    }
                    None => events.push(Event::Refused {
                        meter: address,
                        word,
                    }),
                }
            }
            _ => {}
        }
        Ok(())
    }

    /// Records a confirmed payment: ledger, purchase count, shadow credit, notification.
    fn confirm(
        &mut self,
        payment: Payment,
        now: Timestamp,
        balance: Money,
        by_answer: bool,
        events: &mut Vec<Event>,
    ) -> Res<(), L> {
        let count = payment.count.ok_or(HeadEndError::Unknown)?;
        let book = self
            .books
            .get_mut(&payment.meter)
            .ok_or(HeadEndError::UnknownMeter(payment.meter))?;
        let purchase = Purchase {
            customer: book.record.customer,
            count,
            amount: payment.amount,
        };
        let mut shadow = book.shadow.clone();
        // The ledger is the money's truth: the payment is confirmed whatever the shadow says.
        // A shadow that cannot take it (a head-end restarted on its ledger: the shadow starts
        // afresh, with no account open) is out of step, and says so.
        let credited = shadow.credit(now, purchase, count == 1);
        self.ledger.update(&payment).map_err(HeadEndError::Ledger)?;
        match credited {
            Ok(()) => book.shadow = shadow,
            Err(error) => events.push(Event::ShadowOutOfStep {
                meter: payment.meter,
                error,
            }),
        }
        book.confirmed_count = book.confirmed_count.max(count);
        events.push(Event::PaymentConfirmed {
            payment: payment.id,
            meter: payment.meter,
            by_answer,
        });
        self.undelivered.push(Notification {
            meter: payment.meter,
            at: now,
            kind: NotificationKind::RechargeConfirmed {
                payment: payment.id,
                amount: payment.amount,
            },
            balance,
        });
        Ok(())
    }

    fn price_answer(
        &mut self,
        ci: usize,
        address: Address,
        index: u8,
        frame: &[u8],
        now: Timestamp,
        events: &mut Vec<Event>,
    ) -> Res<(), L> {
        let Some(campaign) = self.campaigns.get_mut(ci) else {
            return Ok(());
        };
        let accepted = matches!(
            Client::new(address).parse_answer(frame),
            Ok(Response::Ack { .. })
        );
        if !accepted {
            // Refused or altered: sent again after the wait.
            return Ok(());
        }
        let price = campaign.accepted(address, index, now);
        let done = campaign.is_confirmed(address);
        let id = campaign.id();
        if let (Some(price), Some(book)) = (price, self.books.get_mut(&address)) {
            book.shadow
                .set_price(now, index, price)
                .map_err(HeadEndError::Shadow)?;
        }
        if done {
            events.push(Event::CampaignConfirmed {
                campaign: id,
                meter: address,
            });
        }
        Ok(())
    }

    /// Takes a reading of `meter`: the shadow rates it and reconciles, payments its purchase
    /// count reaches are confirmed, and notifications go out. Errors:
    /// [`HeadEndError::UnknownMeter`], [`HeadEndError::Shadow`] (a register that went back:
    /// the reading is not taken), the ledger's.
    pub fn reading(&mut self, meter: Address, reading: Reading) -> Res<Vec<Event>, L> {
        let mut events = Vec::new();
        if !self.books.contains_key(&meter) {
            return Err(HeadEndError::UnknownMeter(meter));
        }
        // Payments the meter's purchase count shows applied (read before anything changes).
        let confirmed: Vec<Payment> = self
            .ledger
            .payments_of(meter)
            .map_err(HeadEndError::Ledger)?
            .into_iter()
            .filter(|p| {
                p.state == PaymentState::Sent
                    && p.count.is_some_and(|c| c <= reading.purchase_count)
            })
            .collect();
        let book = self
            .books
            .get_mut(&meter)
            .ok_or(HeadEndError::UnknownMeter(meter))?;
        // Refused, it leaves the shadow as it was.
        book.shadow
            .observe(reading.at, reading.energy_by_tariff)
            .map_err(HeadEndError::Shadow)?;
        let balance = reading.balance.saturating_sub(reading.overdrawn);
        for mut p in confirmed {
            p.state = PaymentState::ConfirmedByReading;
            self.confirm(p, reading.at, balance, false, &mut events)?;
        }
        let Some(book) = self.books.get_mut(&meter) else {
            return Ok(events);
        };
        let r = book
            .shadow
            .reconcile(reading.at, reading.balance, reading.overdrawn);
        if !r.agrees() {
            events.push(Event::Discrepancy {
                meter,
                reconciliation: r,
            });
        }
        book.reconciliation = Some(r);
        book.last = Some(reading);
        let alerts = book.record.alerts;
        let mut kinds = Vec::new();
        book.alerts
            .observe(&alerts, balance, reading.energy, |k| kinds.push(k));
        self.undelivered
            .extend(kinds.into_iter().map(|kind| Notification {
                meter,
                at: reading.at,
                kind,
                balance,
            }));
        self.deliver();
        Ok(events)
    }

    /// Offers the undelivered notifications to the notifier, in order, until one is refused.
    fn deliver(&mut self) {
        let mut sent = 0;
        for n in &self.undelivered {
            if self.notifier.notify(n).is_err() {
                break;
            }
            sent += 1;
        }
        self.undelivered.drain(..sent);
    }
}
