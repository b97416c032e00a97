//! Power-fail-safe persistence of a meter's state on NOR flash or EEPROM (feature `storage`).
//!
//! A [`MeterStore`] keeps a meter's state in *areas* of one medium: the **root** area (area 0)
//! holds the hot state that changes all the time (energy registers and remainders, the account,
//! the security counters, the relay, the server's lock-out record) and the commit record of the
//! whole store; the other areas hold state that changes now and then (frozen records, logs,
//! tariffs, parameters), one kind per area. Each area's bytes are the caller's: normally the
//! [stored forms](crate::snapshot) of the engines' states.
//!
//! ```
//! use prepaid_meter::mock::MockFlash; // the crate's simulated NOR flash (feature `_test`)
//! use prepaid_meter::storage::{AreaLayout, Found, MeterStore, Nor};
//!
//! let layout = [
//!     AreaLayout { base: 0, len: 4 * 1024, max_payload: 480 },        // root: the hot state
//!     AreaLayout { base: 4 * 1024, len: 4 * 1024, max_payload: 900 }, // freezes, say
//! ];
//! let (mut store, found) = MeterStore::open(Nor(MockFlash::<8192, 1024>::new()), &layout)?;
//! assert_eq!(found, Found::Fresh);
//! let durable = store.commit(&[(1, b"daily freeze 1")], b"balance 198.56", 7)?;
//! // ... only now may the command that caused the change be acknowledged.
//! # let _ = durable;
//! let flash = store.release(); // power cycle
//! let (mut store, found) = MeterStore::open(flash, &layout)?;
//! assert_eq!(found, Found::Restored);
//! let mut buf = [0u8; 64];
//! assert_eq!(store.read(0, &mut buf)?, Some(14));
//! assert_eq!(&buf[..14], b"balance 198.56");
//! assert_eq!(store.read(1, &mut buf)?, Some(14));
//! # Ok::<(), prepaid_meter::storage::StoreError<prepaid_meter::mock::MockFlashError>>(())
//! ```
//!
//! # Guarantees
//!
//! - **Before or after, never a mix.** [`MeterStore::commit`] writes the changed areas'
//!   records, then the root record, which names the sequence number of every area's current
//!   record. Opening takes the newest intact root and, in every other area, exactly the record
//!   it names. A power cut at any moment therefore leaves the state of the commit before or,
//!   once the root record is complete, the new one, across all areas: a daily freeze and the
//!   registers it froze, a recharge and the purchase log, are never split.
//! - **A clear "now durable" point.** `commit` returns [`Durable`] only once the root record is
//!   complete on the medium. A recharge, a security counter, a key update, a relay command
//!   must be acknowledged only after that; the security layer's two-phase open/commit
//!   (`PendingCommand::counter_state`, then `commit`) is where it goes.
//! - **Corruption is reported, never taken for an empty device.** Every record is checked by
//!   CRC-32, and its head and tail (written after the payload, in that order) tell a write cut
//!   short (benign: that commit never completed) from a record damaged after it was written
//!   ([`Found::FellBack`] with a [`Loss`]). A device with damaged records and no intact one is
//!   `FellBack` with [`Loss::no_state`], not [`Found::Fresh`].
//! - **The fallback is safe.** With the newest root damaged, opening restores the newest intact
//!   one and says so ([`Loss::newest_lost`]); [`Loss::guard_floor`] still gives the highest
//!   guard value (security counter, purchase count: see `commit`) of any root whose head or
//!   tail survives, so a meter never accepts a counter lower than one it acknowledged. The
//!   state restored is one that was committed, never one made up: an older root is the commit
//!   before, so at worst it undoes one save interval of consumption (registers and balance
//!   together, so they still agree) or one recharge, which the guard's
//!   purchase count then shows as applied-but-lost for the head-end to reconcile. Which relay
//!   state to start from after a loss is the application's policy (a meter should start with
//!   its configured safe state); the store reports, the application decides.
//! - **Keys.** A software-only meter keeps its keys after a key update in an area of its own,
//!   committed together with the security state of the new key version, so keys and counters
//!   are never of different versions (tested). The medium must then be read-protected as the
//!   MCU's own flash is; a secure element keeps its keys itself.
//! - **Energy lost in a cut** is bounded by the save interval ([`SavePolicy`](crate::meter::SavePolicy): an energy step
//!   or a time, whichever comes first), and by nothing at all when the power-fail signal
//!   triggers a commit of the root alone (the fast path below).
//!
//! Two residual cases are documented rather than hidden: a NOR erase cut part-way leaves its
//! sector "undefined" (embedded-storage's words); a page whose header survived such a cut can
//! be reported as corrupted (conservative: the record is not used). And damage that turns both
//! a record's head and tail back into erased bytes looks like a write that never happened.
//!
//! # Layout (format version 1)
//!
//! An area is a ring of fixed-size **slots**, one record each, written in turn; the committed
//! record's slot (on NOR, its whole page) is never touched by a later write. A slot is
//! `32 + max_payload rounded up to 32 + 32` bytes:
//!
//! | offset | bytes | field |
//! |---|---|---|
//! | 0 | 32 | head: `"PH"`, version `1`, area number, sequence number (`u32`), payload length (`u16`), 2 reserved, payload CRC-32 (`u32`), guard (`u64`), 4 reserved, CRC-32 of bytes 0..28 |
//! | 32 | … | payload, padded with `FF` to a multiple of 32 |
//! | slot − 32 | 32 | tail: the head again with magic `"PT"` |
//!
//! All integers are little-endian; every CRC is CRC-32/ISO-HDLC. A write puts the payload
//! first, then the head, then the tail. The root payload starts with seven `u32` sequence
//! numbers, the committed records of areas 1 to 7 (0 for none), followed by the hot state.
//! Sequence numbers count up across the whole store.
//!
//! On NOR flash ([`Nor`]) an area is divided into pages of whole erase sectors, each large
//! enough for a 32-byte page header (`"PP"`, version, area number, erase count `u32`, CRC-32 of
//! bytes 0..28) and at least one slot; a page is erased when the ring comes back to it, and
//! pages are used in turn, so erases spread over the area. Writes are 32-byte units, so any
//! `WRITE_SIZE` that divides 32 works, and no unit is written twice between erases. On EEPROM
//! ([`Eeprom`]) a slot is rewritten in place: its tail, then its head, are first set back to
//! `FF`, so a cut during the rewrite reads as a write that never happened.
//!
//! This layout is API: a change is a new format version, read by later builds (the test
//! `tests/storage` keeps an image of version 1 and proves it still loads).
//!
//! # Why not sequential-storage
//!
//! sequential-storage's map would give wear levelling and power-fail safety on NOR flash, and
//! was the first candidate. It is not used because: it silently skips a corrupted item and
//! returns the previous value, which is exactly the rollback a prepaid meter must report (an
//! acknowledged recharge and its counter going back); it has no transaction across keys, and a
//! daily freeze or a recharge changes several kinds of data that must move together; it is
//! async-only, so a blocking firmware needs an executor and an adapter, which costs code size
//! in the 64 KiB flash budget; and it has no EEPROM back end, which half of all meters carry.
//! The format here is the smallest thing that has those properties; the rings of logs and
//! freezes are stored as whole [stored forms](crate::snapshot) per area.
//!
//! # Hold-up budget, wear
//!
//! The power-fail fast path is `commit(&[], hot, guard)`: one root record. For a typical hot
//! state of 420 bytes (the stored forms of the account, the security, server, register,
//! accumulator, rater and demand states, plus the 28 bytes of references) the slot is 512
//! bytes, written as 16 units of 32 bytes. Call [`MeterStore::ready`] after each commit, in
//! idle time, so that the fast path never has to erase or invalidate:
//!
//! - NOR (a W25Q-class part: page program 0.4 ms typical, 3 ms maximum): 16 programs, about
//!   6.4 ms typical and 48 ms at worst.
//! - EEPROM (24C256: 64-byte pages, 5 ms write cycle at most): 16 write cycles of 32 bytes,
//!   at most 80 ms.
//!
//! Wear, for a save every 0.01 kWh (10 kWh a day: 1 000 saves) or every 15 minutes (96), so
//! about 1 100 root records a day, 24 hourly freezes and a few purchases:
//!
//! - NOR with 4 KiB sectors: 7 root slots a page, so about 157 erases a day; spread over a
//!   16-sector (64 KiB) root area, about 10 erases per sector a day: 100 000 cycles last
//!   about 27 years.
//! - EEPROM: a root slot's head and tail bytes are written twice each time the slot is used
//!   (set back to `FF`, then written); over a 32-slot (16 KiB) root area that is about 69
//!   writes a day for the most-written byte: 1 000 000 cycles last about 39 years (a 16-slot
//!   area halves that).
//!
//! `tests/storage` measures the erases and writes of simulated days on the crate's simulated
//! flash and EEPROM and checks these figures
//! (`cargo test --features storage --test storage wear -- --nocapture` prints them).

mod journal;
mod medium;
mod store;

use core::fmt;

pub use medium::{Eeprom, Medium, Nor};
pub use store::{Durable, Found, Loss, MAX_AREAS, MeterStore};

/// Where one area of a [`MeterStore`] lies on the medium, and the largest record it takes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub struct AreaLayout {
    /// First byte; a multiple of 32, and on NOR of the erase size.
    pub base: u32,
    /// Bytes; at least two pages (NOR) or two slots (EEPROM).
    pub len: u32,
    /// The longest record the area takes (for the root: the hot state plus 28 bytes of
    /// references).
    pub max_payload: u16,
}

/// Why the store could not be opened, read or written.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
#[non_exhaustive]
pub enum StoreError<E> {
    /// The medium's driver failed (a power cut shows up here too).
    Medium(E),
    /// The layout does not suit the medium (see [`MeterStore::open`]).
    Layout,
    /// A record is longer than its area's `max_payload`.
    TooLarge,
    /// The caller's buffer is shorter than the record.
    BufferTooSmall,
    /// No such area in this store's layout (or area 0 named as one of a commit's records).
    NoArea,
    /// A committed record no longer matches its CRC (damaged since the store was opened).
    Corrupted,
    /// The sequence numbers are used up (after 4 billion commits).
    Exhausted,
}

impl<E: fmt::Debug> fmt::Display for StoreError<E> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            StoreError::Medium(e) => write!(f, "storage medium error: {e:?}"),
            StoreError::Layout => f.write_str("store layout unsuitable for the medium"),
            StoreError::TooLarge => f.write_str("record larger than its area takes"),
            StoreError::BufferTooSmall => f.write_str("buffer smaller than the stored record"),
            StoreError::NoArea => f.write_str("no such store area"),
            StoreError::Corrupted => f.write_str("stored record corrupted"),
            StoreError::Exhausted => f.write_str("store sequence numbers used up"),
        }
    }
}

impl<E: fmt::Debug> core::error::Error for StoreError<E> {}
