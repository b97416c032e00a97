//! The concentrator between a head-end and its meters, sans-IO: a table of meters on a few
//! serial channels (RS485 buses or carrier), a polling schedule that reads each meter's
//! energy (total and per tariff), balance, overdraft and purchase count over DL/T 645 with the crate's
//! [`Client`], credit alarms confirmed over consecutive readings, and the transparent
//! forwarding of the head-end's frames (sealed commands) to a meter and of its answer back.
//!
//! It holds no meter keys: a forwarded frame goes out byte for byte and its answer comes back
//! byte for byte, so the concentrator can neither read nor forge a sealed command (a frame
//! altered on the way is refused by the meter, whose answer says so).
//!
//! # Driving it
//!
//! The caller owns the channels and the clock ([`Instant`], monotonic):
//!
//! - call [`Concentrator::poll`] until it returns [`Poll::Idle`]: it hands out frames to
//!   send ([`Poll::Send`], at most one exchange in flight per channel, as a half-duplex bus
//!   allows) and events that time produced ([`Poll::Event`]: a meter gone unreachable, a
//!   forward that failed); call it again by [`Poll::Idle`]'s `next` or when something
//!   arrives;
//! - hand every frame received on a channel to [`Concentrator::receive`] (framed, for
//!   example by [`StreamDecoder`](crate::wire::dlt645::StreamDecoder)): it returns what the
//!   answer completed ([`Event`]);
//! - queue the head-end's frames with [`Concentrator::forward`].
//!
//! # Rules
//!
//! | what | rule |
//! |---|---|
//! | polling | each meter every [`ConcentratorConfig::poll_interval`], four reads in a row: 0060FF00 (precise forward active energy, total and per tariff, `XXXXXX.XXXX` kWh: whole Wh, so a head-end's shadow account rates exactly what the meter rated), 00900200 (balance), 00900201 (overdraft), 03330201 (purchase count, the idempotency key of vending); meters of a channel in table order, round robin |
//! | priority | a queued forward goes before the next poll on its channel; a poll cycle under way is finished first |
//! | timeouts | an exchange not answered within [`ConcentratorConfig::timeout`] is sent again, at most [`ConcentratorConfig::retries`] times; then a poll marks the meter unreachable ([`Event::Unreachable`], once) and a forward fails ([`Event::ForwardFailed`]) |
//! | answers | an answer is taken only on the channel of the exchange in flight, from the meter addressed; anything else is ignored (a neighbour's answer, noise) |
//! | alarms | each completed reading classifies the credit ([`CreditLevel`]); a change is reported only when [`ConcentratorConfig::confirm`] readings in a row show the same new level ([`Event::Read`]'s `alarm`), and cleared the same way |
//!
//! ```
//! use prepaid_meter::concentrator::{Concentrator, ConcentratorConfig, MeterEntry, Poll};
//! use prepaid_meter::time::Instant;
//! use prepaid_meter::units::Money;
//!
//! let mut c: Concentrator = Concentrator::new(ConcentratorConfig::default()).unwrap();
//! c.add_meter(MeterEntry {
//!     address: "201000000012".parse().unwrap(),
//!     channel: 0,
//!     low_credit: Money::from_units(20).unwrap(),
//! })
//! .unwrap();
//! let mut out = [0u8; 300];
//! // The first read goes out on channel 0.
//! let Poll::Send { channel, len } = c.poll(Instant::from_millis(0), &mut out) else {
//!     panic!("a read to send")
//! };
//! assert_eq!((channel, &out[..4]), (0, &[0xFE, 0xFE, 0xFE, 0xFE][..]));
//! # let _ = len;
//! // Nothing else while it waits for the answer.
//! assert!(matches!(c.poll(Instant::from_millis(10), &mut out), Poll::Idle { .. }));
//! ```

mod alarm;

use core::fmt;

use heapless::Vec;

use alarm::AlarmTracker;
pub use alarm::CreditLevel;

use crate::address::Address;
use crate::endpoint::dlt645::{Client, ClientError};
use crate::time::{Duration, Instant};
use crate::units::{Energy, Money};
use crate::wire::dlt645::{Di, ErrorCode, Frame, FrameRepr, MAX_FRAME_LEN, skip_preamble};
use crate::wire::gdw1376;

/// The default number of meters a concentrator holds.
pub const DEFAULT_METERS: usize = 32;
/// The default number of channels.
pub const DEFAULT_CHANNELS: usize = 4;
/// The default number of forwards that may wait.
pub const DEFAULT_FORWARDS: usize = 4;

/// The longest frame a forward may carry: a DL/T 645 frame with a 4-byte preamble.
pub const MAX_FORWARD_LEN: usize = MAX_FRAME_LEN + 4;

/// The reads of one poll cycle, in order.
const POLL_ITEMS: [Di; 4] = [
    Di(0x0060_FF00),
    Di(0x0090_0200),
    Di(0x0090_0201),
    PURCHASE_COUNT,
];

/// The purchase count, the last item of a poll cycle.
const PURCHASE_COUNT: Di = Di(0x0333_0201);

/// The most energy values one read answer can hold (200 data bytes, 5 bytes each).
const MAX_BLOCK_ENERGIES: usize = 40;

/// The tariffs whose registers a reading holds.
pub const READ_TARIFFS: usize = 4;

/// How a concentrator polls, waits and confirms.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub struct ConcentratorConfig {
    /// Readings in a row that confirm (or clear) a credit alarm, at least 1 (default 3).
    pub confirm: u8,
    /// How often each meter is read (default 15 minutes).
    pub poll_interval: Duration,
    /// How long an answer may take (default 2 s: a DL/T 645 answer at 1200 baud, with room).
    pub timeout: Duration,
    /// How many times an unanswered exchange is sent again (default 2).
    pub retries: u8,
}

impl Default for ConcentratorConfig {
    fn default() -> ConcentratorConfig {
        ConcentratorConfig {
            confirm: 3,
            poll_interval: Duration::from_secs(15 * 60),
            timeout: Duration::from_millis(2_000),
            retries: 2,
        }
    }
}

/// Why a configuration or a table change was refused.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
#[non_exhaustive]
pub enum ConcentratorError {
    /// `confirm` is zero, or the poll interval or the timeout is zero.
    Config,
    /// The table is full.
    TableFull,
    /// The meter is in the table already.
    Duplicate,
    /// No such channel.
    Channel,
    /// No such meter in the table.
    UnknownMeter,
    /// The forward queue is full.
    QueueFull,
    /// A forwarded frame longer than [`MAX_FORWARD_LEN`], or empty.
    FrameLength,
}

impl fmt::Display for ConcentratorError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            ConcentratorError::Config => "invalid concentrator configuration",
            ConcentratorError::TableFull => "the meter table is full",
            ConcentratorError::Duplicate => "the meter is in the table already",
            ConcentratorError::Channel => "no such channel",
            ConcentratorError::UnknownMeter => "no such meter in the table",
            ConcentratorError::QueueFull => "the forward queue is full",
            ConcentratorError::FrameLength => "forwarded frame empty or too long",
        })
    }
}

impl core::error::Error for ConcentratorError {}

/// A meter the concentrator serves.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub struct MeterEntry {
    /// Its DL/T 645 address.
    pub address: Address,
    /// The channel it is on, `0..C`.
    pub channel: u8,
    /// The balance at or below which its credit is low (the customer's own alarm threshold).
    pub low_credit: Money,
}

/// One complete reading of a meter.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub struct Readings {
    /// When the last of its reads was answered.
    pub at: Instant,
    /// Forward active energy, total (00600000, whole Wh).
    pub energy: Energy,
    /// Forward active energy of tariffs 1..4 (00600100..00600400; zero for a tariff the
    /// meter does not have).
    pub energy_by_tariff: [Energy; READ_TARIFFS],
    /// The remaining balance (00900200).
    pub balance: Money,
    /// The overdraft in use (00900201).
    pub overdrawn: Money,
    /// The purchase count of the meter's last purchase (03330201).
    pub purchase_count: u32,
}

impl Readings {
    /// These readings as Q/GDW 1376.1 AFN 0CH F129 (forward active energy, total and the
    /// four tariffs, in 0.0001 kWh), read at local `read_at`, for the head-end.
    pub fn forward_energy(&self, read_at: crate::time::DateTime) -> gdw1376::ForwardEnergy {
        let tenths = |e: Energy| u64::try_from(e.wh()).ok().and_then(|wh| wh.checked_mul(10));
        let mut tariffs = Vec::new();
        for e in self.energy_by_tariff {
            // READ_TARIFFS (4) is below MAX_TARIFFS (14): the push cannot fail.
            let _ = tariffs.push(tenths(e));
        }
        gdw1376::ForwardEnergy {
            read_at: Some(read_at),
            total: tenths(self.energy),
            tariffs,
        }
    }

    /// These readings as AFN 0CH F167 (purchase count and balance; the energy-credit fields
    /// absent), read at local `read_at`. A purchase count above 9999 is sent as absent.
    pub fn purchase_info(&self, read_at: crate::time::DateTime) -> gdw1376::PurchaseInfo {
        gdw1376::PurchaseInfo {
            read_at: Some(read_at),
            purchase_count: u16::try_from(self.purchase_count)
                .ok()
                .filter(|c| *c <= 9999),
            balance: Some(self.balance).filter(|b| !b.is_negative()),
            purchased: None,
            remaining_energy: None,
            overdrawn_energy: None,
            purchased_energy: None,
            overdraft_limit_energy: None,
            alarm_energy: None,
            fault_energy: None,
        }
    }

    /// Nothing read yet (the start of a poll cycle).
    const EMPTY: Readings = Readings {
        at: Instant::from_millis(0),
        energy: Energy::ZERO,
        energy_by_tariff: [Energy::ZERO; READ_TARIFFS],
        balance: Money::ZERO,
        overdrawn: Money::ZERO,
        purchase_count: 0,
    };
}

/// A confirmed change of a meter's credit level.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub struct AlarmChange {
    /// The level reported before.
    pub from: CreditLevel,
    /// The level now confirmed.
    pub to: CreditLevel,
}

/// What an answer or the passing of time completed.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Event<'b> {
    /// A meter's reading is complete.
    Read {
        /// The meter.
        address: Address,
        /// Its figures.
        readings: Readings,
        /// A credit level change this reading confirmed, to report upstream once.
        alarm: Option<AlarmChange>,
        /// The meter had been unreachable and answers again.
        recovered: bool,
    },
    /// A meter did not answer a poll, retries included; reported once until it answers.
    Unreachable {
        /// The meter.
        address: Address,
    },
    /// A forwarded frame was answered: the meter's answer, byte for byte.
    Forwarded {
        /// The caller's tag of the forward.
        tag: u32,
        /// The meter.
        address: Address,
        /// The answer frame as received.
        answer: &'b [u8],
    },
    /// A forwarded frame got no answer, retries included.
    ForwardFailed {
        /// The caller's tag of the forward.
        tag: u32,
        /// The meter.
        address: Address,
    },
}

/// What [`Concentrator::poll`] asks of the caller.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Poll {
    /// Send the first `len` bytes of the output buffer on `channel`.
    Send {
        /// The channel.
        channel: u8,
        /// The frame's length.
        len: usize,
    },
    /// Time produced an event.
    Event(Event<'static>),
    /// Nothing to do until `next` (or until a frame arrives or a forward is queued); `None`:
    /// nothing scheduled.
    Idle {
        /// When to poll again.
        next: Option<Instant>,
    },
}

/// A meter's state in the table.
#[derive(Clone, Debug)]
struct Slot {
    entry: MeterEntry,
    /// When the next poll cycle is due (`None`: now).
    next_poll: Option<Instant>,
    /// The reads of the cycle under way: the next item, and the values so far.
    cycle: Option<(usize, Readings)>,
    last: Option<Readings>,
    alarm: AlarmTracker,
    unreachable: bool,
}

/// A queued forward.
#[derive(Clone, Debug)]
struct Forward {
    slot: usize,
    tag: u32,
    frame: Vec<u8, MAX_FORWARD_LEN>,
}

// One per channel, never moved in a loop: the forward's frame stays inline (no allocator).
#[allow(clippy::large_enum_variant)]
#[derive(Clone, Debug)]
enum Job {
    Poll { slot: usize, item: usize },
    Forward(Forward),
}

#[derive(Clone, Debug)]
struct InFlight {
    job: Job,
    sent: Instant,
    /// Sends so far (1 for the first).
    sends: u8,
}

/// The state of a meter as the concentrator sees it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub struct MeterStatus {
    /// The meter.
    pub entry: MeterEntry,
    /// Its last complete reading.
    pub last: Option<Readings>,
    /// Its confirmed credit level.
    pub level: CreditLevel,
    /// It did not answer its last poll.
    pub unreachable: bool,
}

/// A concentrator for up to `M` meters on `C` channels, with up to `F` forwards waiting (see
/// the [module docs](self)).
#[derive(Clone, Debug)]
pub struct Concentrator<
    const M: usize = DEFAULT_METERS,
    const C: usize = DEFAULT_CHANNELS,
    const F: usize = DEFAULT_FORWARDS,
> {
    config: ConcentratorConfig,
    slots: Vec<Slot, M>,
    in_flight: [Option<InFlight>; C],
    /// Forwards waiting, oldest first.
    queue: Vec<Forward, F>,
    /// Per channel, the slot polled last (round robin).
    cursor: [usize; C],
}

impl<const M: usize, const C: usize, const F: usize> Concentrator<M, C, F> {
    /// An empty concentrator. Error: [`ConcentratorError::Config`] for a `confirm` of zero or
    /// a zero poll interval or timeout.
    pub fn new(config: ConcentratorConfig) -> Result<Self, ConcentratorError> {
        if config.confirm == 0 || config.poll_interval.micros() == 0 || config.timeout.micros() == 0
        {
            return Err(ConcentratorError::Config);
        }
        Ok(Concentrator {
            config,
            slots: Vec::new(),
            in_flight: core::array::from_fn(|_| None),
            queue: Vec::new(),
            cursor: [0; C],
        })
    }

    /// Adds a meter; it is polled at the next [`Concentrator::poll`]. Errors:
    /// [`ConcentratorError::Channel`], [`ConcentratorError::Duplicate`],
    /// [`ConcentratorError::TableFull`].
    pub fn add_meter(&mut self, entry: MeterEntry) -> Result<(), ConcentratorError> {
        if usize::from(entry.channel) >= C {
            return Err(ConcentratorError::Channel);
        }
        if self.slot_of(entry.address).is_some() {
            return Err(ConcentratorError::Duplicate);
        }
        self.slots
            .push(Slot {
                entry,
                next_poll: None,
                cycle: None,
                last: None,
                alarm: AlarmTracker::default(),
                unreachable: false,
            })
            .map_err(|_| ConcentratorError::TableFull)
    }

    /// The state of the meter at `address`.
    pub fn meter(&self, address: Address) -> Option<MeterStatus> {
        let s = self.slots.get(self.slot_of(address)?)?;
        Some(MeterStatus {
            entry: s.entry,
            last: s.last,
            level: s.alarm.confirmed,
            unreachable: s.unreachable,
        })
    }

    /// The meters, in table order.
    pub fn meters(&self) -> impl Iterator<Item = MeterStatus> + '_ {
        self.slots.iter().map(|s| MeterStatus {
            entry: s.entry,
            last: s.last,
            level: s.alarm.confirmed,
            unreachable: s.unreachable,
        })
    }

    /// Queues `frame` (sent byte for byte) for the meter at `address`, to go out on its
    /// channel before the next poll there; its answer comes back as [`Event::Forwarded`] with
    /// `tag`. Errors: [`ConcentratorError::UnknownMeter`], [`ConcentratorError::FrameLength`],
    /// [`ConcentratorError::QueueFull`]; nothing is queued on an error.
    pub fn forward(
        &mut self,
        address: Address,
        frame: &[u8],
        tag: u32,
    ) -> Result<(), ConcentratorError> {
        let slot = self
            .slot_of(address)
            .ok_or(ConcentratorError::UnknownMeter)?;
        if frame.is_empty() {
            return Err(ConcentratorError::FrameLength);
        }
        let frame = Vec::from_slice(frame).map_err(|_| ConcentratorError::FrameLength)?;
        self.queue
            .push(Forward { slot, tag, frame })
            .map_err(|_| ConcentratorError::QueueFull)
    }

    /// What to do at `now`: a frame to send (written to the start of `out`, which should hold
    /// [`MAX_FORWARD_LEN`] bytes), an event time produced, or nothing until `next`. Call it
    /// until it returns [`Poll::Idle`].
    pub fn poll(&mut self, now: Instant, out: &mut [u8]) -> Poll {
        // Exchanges that timed out: send again, or give up.
        for channel in 0..C {
            if let Some(p) = self.timed_out(channel, now, out) {
                return p;
            }
        }
        // Free channels: a forward first, then a poll cycle under way, then one due.
        for channel in 0..C {
            if self.in_flight.get(channel).is_some_and(Option::is_some) {
                continue;
            }
            let Some(job) = self.next_job(channel, now) else {
                continue;
            };
            let Some(len) = self.write_job(&job, out) else {
                // `out` too short for the frame: a forward goes back to the head of the queue
                // (a poll cycle simply stays under way), nothing is lost.
                if let Job::Forward(f) = job {
                    let _ = self.queue.insert(0, f);
                }
                continue;
            };
            if let Some(f) = self.in_flight.get_mut(channel) {
                *f = Some(InFlight {
                    job,
                    sent: now,
                    sends: 1,
                });
            }
            return Poll::Send {
                channel: channel as u8,
                len,
            };
        }
        Poll::Idle {
            next: self.next_wake(),
        }
    }

    /// Takes a frame received on `channel` at `now`. An answer to the exchange in flight there
    /// completes it; anything else is ignored (`None`).
    pub fn receive<'b>(&mut self, now: Instant, channel: u8, frame: &'b [u8]) -> Option<Event<'b>> {
        let ch = usize::from(channel);
        let flight = self.in_flight.get(ch)?.as_ref()?;
        match &flight.job {
            Job::Forward(f) => {
                let slot = self.slots.get_mut(f.slot)?;
                // The meter's own answer, whatever it says; not a neighbour's, not an echo.
                let parsed = Frame::new_checked(skip_preamble(frame)).ok()?;
                let repr = FrameRepr::parse(&parsed).ok()?;
                if !repr.control.is_response() || repr.address != slot.entry.address {
                    return None;
                }
                let (tag, address) = (f.tag, slot.entry.address);
                slot.unreachable = false;
                self.clear(ch);
                Some(Event::Forwarded {
                    tag,
                    address,
                    answer: frame,
                })
            }
            Job::Poll { slot, item } => {
                let (slot_index, item) = (*slot, *item);
                let s = self.slots.get_mut(slot_index)?;
                let di = *POLL_ITEMS.get(item)?;
                let client = Client::new(s.entry.address);
                let answer = match client.parse_answer(frame) {
                    Ok(r) => Some(r),
                    // No purchase record yet (an account not opened): purchase count 0.
                    Err(ClientError::Refused(code))
                        if di == PURCHASE_COUNT && code == ErrorCode::NO_DATA =>
                    {
                        None
                    }
                    // A refusal is the meter's answer: this cycle ends without a reading.
                    Err(ClientError::Refused(_)) => {
                        s.cycle = None;
                        s.unreachable = false;
                        s.next_poll = now.checked_add(self.config.poll_interval);
                        self.clear(ch);
                        return None;
                    }
                    Err(_) => return None,
                };
                let mut r = s.cycle.map_or(Readings::EMPTY, |c| c.1);
                let value_ok = match (item, &answer) {
                    (_, None) => {
                        r.purchase_count = 0;
                        true
                    }
                    (0, Some(answer)) => {
                        // Room for every tariff a read answer can carry; tariffs past
                        // the fourth are read and left out of the readings.
                        let mut all = [Energy::ZERO; MAX_BLOCK_ENERGIES];
                        let ok = Client::energies(answer, di, &mut all).is_ok();
                        let mut values = all.into_iter();
                        r.energy = values.next().unwrap_or(Energy::ZERO);
                        for (slot, e) in r.energy_by_tariff.iter_mut().zip(values) {
                            *slot = e;
                        }
                        ok
                    }
                    (1, Some(answer)) => Client::money(answer, di).map(|m| r.balance = m).is_ok(),
                    (2, Some(answer)) => Client::money(answer, di).map(|m| r.overdrawn = m).is_ok(),
                    (_, Some(answer)) => Client::count(answer, di)
                        .map(|c| r.purchase_count = c)
                        .is_ok(),
                };
                if !value_ok {
                    return None;
                }
                self.clear(ch);
                let s = self.slots.get_mut(slot_index)?;
                if item + 1 < POLL_ITEMS.len() {
                    s.cycle = Some((item + 1, r));
                    return None;
                }
                // The cycle is complete: a meter that was unreachable is back.
                let recovered = core::mem::replace(&mut s.unreachable, false);
                s.cycle = None;
                s.next_poll = now.checked_add(self.config.poll_interval);
                let readings = Readings { at: now, ..r };
                let (balance, overdrawn) = (r.balance, r.overdrawn);
                s.last = Some(readings);
                let from = s.alarm.confirmed;
                let level = CreditLevel::of(balance, overdrawn, s.entry.low_credit);
                let alarm = s
                    .alarm
                    .observe(level, self.config.confirm)
                    .map(|to| AlarmChange { from, to });
                Some(Event::Read {
                    address: s.entry.address,
                    readings,
                    alarm,
                    recovered,
                })
            }
        }
    }

    fn slot_of(&self, address: Address) -> Option<usize> {
        self.slots.iter().position(|s| s.entry.address == address)
    }

    fn clear(&mut self, channel: usize) {
        if let Some(f) = self.in_flight.get_mut(channel) {
            *f = None;
        }
    }

    /// The next job for a free `channel`, taken off the queue or the schedule.
    fn next_job(&mut self, channel: usize, now: Instant) -> Option<Job> {
        let on_channel = |slots: &Vec<Slot, M>, i: usize| {
            slots
                .get(i)
                .is_some_and(|s| usize::from(s.entry.channel) == channel)
        };
        // A cycle under way on this channel is finished first (it holds the bus's meter).
        if let Some(i) = (0..self.slots.len()).find(|&i| {
            on_channel(&self.slots, i) && self.slots.get(i).is_some_and(|s| s.cycle.is_some())
        }) {
            let item = self.slots.get(i)?.cycle?.0;
            return Some(Job::Poll { slot: i, item });
        }
        if let Some(q) = self
            .queue
            .iter()
            .position(|f| on_channel(&self.slots, f.slot))
        {
            // The oldest forward for this channel; the others keep their order.
            return (q < self.queue.len()).then(|| Job::Forward(self.queue.remove(q)));
        }
        let n = self.slots.len();
        let start = self.cursor.get(channel).copied().unwrap_or(0);
        for k in 0..n {
            let i = (start + k) % n;
            let due = self.slots.get(i).is_some_and(|s| {
                usize::from(s.entry.channel) == channel && s.next_poll.is_none_or(|t| t <= now)
            });
            if due {
                if let Some(c) = self.cursor.get_mut(channel) {
                    *c = (i + 1) % n;
                }
                if let Some(s) = self.slots.get_mut(i) {
                    s.cycle = Some((0, Readings::EMPTY));
                }
                return Some(Job::Poll { slot: i, item: 0 });
            }
        }
        None
    }

    /// Writes the frame of `job` to `out`.
    fn write_job(&self, job: &Job, out: &mut [u8]) -> Option<usize> {
        match job {
            Job::Poll { slot, item } => {
                let s = self.slots.get(*slot)?;
                Client::new(s.entry.address)
                    .read(*POLL_ITEMS.get(*item)?, out)
                    .ok()
            }
            Job::Forward(f) => {
                out.get_mut(..f.frame.len())?.copy_from_slice(&f.frame);
                Some(f.frame.len())
            }
        }
    }

    /// The exchange in flight on `channel`, if it timed out: sent again, or given up.
    fn timed_out(&mut self, channel: usize, now: Instant, out: &mut [u8]) -> Option<Poll> {
        let flight = self.in_flight.get(channel)?.as_ref()?;
        let deadline = flight.sent.checked_add(self.config.timeout)?;
        if now < deadline {
            return None;
        }
        if flight.sends <= self.config.retries {
            let len = self.write_job(&flight.job, out)?;
            if let Some(Some(f)) = self.in_flight.get_mut(channel) {
                f.sends = f.sends.saturating_add(1);
                f.sent = now;
            }
            return Some(Poll::Send {
                channel: channel as u8,
                len,
            });
        }
        let job = self.in_flight.get_mut(channel)?.take()?.job;
        match job {
            Job::Poll { slot, .. } => {
                let interval = self.config.poll_interval;
                let s = self.slots.get_mut(slot)?;
                s.cycle = None;
                s.next_poll = now.checked_add(interval);
                if core::mem::replace(&mut s.unreachable, true) {
                    // Reported already: nothing to tell; the channel is free again.
                    return None;
                }
                Some(Poll::Event(Event::Unreachable {
                    address: s.entry.address,
                }))
            }
            Job::Forward(f) => {
                let address = self.slots.get(f.slot)?.entry.address;
                Some(Poll::Event(Event::ForwardFailed {
                    tag: f.tag,
                    address,
                }))
            }
        }
    }

    /// The earliest instant at which something becomes due.
    fn next_wake(&self) -> Option<Instant> {
        let deadlines = self
            .in_flight
            .iter()
            .flatten()
            .filter_map(|f| f.sent.checked_add(self.config.timeout));
        let polls = self.slots.iter().filter_map(|s| s.next_poll);
        deadlines.chain(polls).min()
    }
}
