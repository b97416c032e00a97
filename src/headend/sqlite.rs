//! A [`Ledger`] in a SQLite database (feature `sqlite`), for servers.
//!
//! rusqlite rather than sqlx: the head-end is synchronous and sans-IO, and a ledger write must
//! be durable before the frame it concerns leaves, which a blocking call on an embedded
//! database gives directly, with no async runtime; the `bundled` SQLite needs no system
//! library.

use alloc::string::{String, ToString};
use alloc::vec::Vec;
use core::fmt;
use std::path::Path;

use rusqlite::{Connection, OptionalExtension, Row, params};

use super::ledger::{FailReason, Ledger, Payment, PaymentId, PaymentState};
use crate::address::Address;
use crate::time::Timestamp;
use crate::units::Money;

const SCHEMA_VERSION: i64 = 1;

const SCHEMA: &str = "
CREATE TABLE IF NOT EXISTS payments (
    id INTEGER PRIMARY KEY,
    meter TEXT NOT NULL,
    amount INTEGER NOT NULL,
    taken_at INTEGER NOT NULL,
    count INTEGER,
    state TEXT NOT NULL,
    balance_after INTEGER,
    attempts INTEGER NOT NULL,
    sent_at INTEGER,
    expires_at INTEGER
);
CREATE TABLE IF NOT EXISTS counters (meter TEXT PRIMARY KEY, last INTEGER NOT NULL);
CREATE INDEX IF NOT EXISTS payments_by_meter ON payments (meter, id);
";

const COLUMNS: &str =
    "id, meter, amount, taken_at, count, state, balance_after, attempts, sent_at, expires_at";

/// Why the SQLite ledger refused an operation; nothing was changed.
#[derive(Debug)]
#[non_exhaustive]
pub enum SqliteLedgerError {
    /// SQLite's error.
    Sqlite(rusqlite::Error),
    /// A payment with this id is in the ledger already.
    Duplicate(PaymentId),
    /// No payment with this id.
    Unknown(PaymentId),
    /// The database holds something this version cannot read: a newer schema, or a row
    /// (named) that does not decode.
    Corrupt(String),
}

impl fmt::Display for SqliteLedgerError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            SqliteLedgerError::Sqlite(e) => write!(f, "sqlite: {e}"),
            SqliteLedgerError::Duplicate(id) => write!(f, "payment {id} is in the ledger already"),
            SqliteLedgerError::Unknown(id) => write!(f, "no payment {id} in the ledger"),
            SqliteLedgerError::Corrupt(what) => {
                write!(f, "the ledger database is not readable: {what}")
            }
        }
    }
}

impl std::error::Error for SqliteLedgerError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            SqliteLedgerError::Sqlite(e) => Some(e),
            _ => None,
        }
    }
}

impl From<rusqlite::Error> for SqliteLedgerError {
    fn from(e: rusqlite::Error) -> SqliteLedgerError {
        SqliteLedgerError::Sqlite(e)
    }
}

/// A ledger in a SQLite database.
///
/// # Stored format (version 1)
///
/// ```sql
/// CREATE TABLE payments (
///     id INTEGER PRIMARY KEY,     -- PaymentId
///     meter TEXT NOT NULL,        -- 12 digits
///     amount INTEGER NOT NULL,    -- minor units (1/10000 of the currency unit)
///     taken_at INTEGER NOT NULL,  -- Unix seconds
///     count INTEGER,              -- purchase count, NULL until first sent
///     state TEXT NOT NULL,        -- queued | sent | confirmed_by_answer | confirmed_by_reading
///                                 -- | failed_hoarding_limit | failed_customer_mismatch
///     balance_after INTEGER,      -- minor units, for confirmed_by_answer
///     attempts INTEGER NOT NULL,
///     sent_at INTEGER,            -- Unix seconds
///     expires_at INTEGER          -- Unix seconds
/// );
/// CREATE TABLE counters (meter TEXT PRIMARY KEY, last INTEGER NOT NULL);
/// CREATE INDEX payments_by_meter ON payments (meter, id);
/// ```
///
/// `PRAGMA user_version` is 1. Every write is one statement, so SQLite's own transaction
/// makes it atomic; a row that does not decode is reported as
/// [`SqliteLedgerError::Corrupt`], never guessed at.
///
/// # Example
///
/// ```
/// use prepaid_meter::headend::{Ledger, SqliteLedger};
///
/// let dir = std::env::temp_dir().join(format!("ledger-doc-{}", std::process::id()));
/// std::fs::create_dir_all(&dir)?;
/// let path = dir.join("ledger.sqlite");
/// let meter = "201000000012".parse()?;
/// {
///     let mut ledger = SqliteLedger::open(&path)?;
///     ledger.set_counter(meter, 7)?;
/// }
/// // Reopened, it has what was written.
/// assert_eq!(SqliteLedger::open(&path)?.counter(meter)?, 7);
/// # std::fs::remove_dir_all(&dir)?;
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Debug)]
pub struct SqliteLedger {
    db: Connection,
}

impl SqliteLedger {
    /// Opens (or creates) the ledger database at `path`, with synchronous, journalled writes.
    pub fn open(path: impl AsRef<Path>) -> Result<SqliteLedger, SqliteLedgerError> {
        SqliteLedger::from_connection(Connection::open(path)?)
    }

    /// A ledger in a database in memory (tests).
    pub fn in_memory() -> Result<SqliteLedger, SqliteLedgerError> {
        SqliteLedger::from_connection(Connection::open_in_memory()?)
    }

    /// A ledger in an open connection; creates the tables if the database is new. Error:
    /// [`SqliteLedgerError::Corrupt`] for a database of a newer schema version.
    pub fn from_connection(db: Connection) -> Result<SqliteLedger, SqliteLedgerError> {
        let version: i64 = db.query_row("PRAGMA user_version", [], |r| r.get(0))?;
        if version > SCHEMA_VERSION {
            return Err(SqliteLedgerError::Corrupt(alloc::format!(
                "schema version {version}, this library reads {SCHEMA_VERSION}"
            )));
        }
        // Durable before a frame leaves: full sync on every commit.
        db.pragma_update(None, "synchronous", "FULL")?;
        db.execute_batch(SCHEMA)?;
        db.pragma_update(None, "user_version", SCHEMA_VERSION)?;
        Ok(SqliteLedger { db })
    }
}

fn state_columns(state: PaymentState) -> (&'static str, Option<i64>) {
    match state {
        PaymentState::Queued => ("queued", None),
        PaymentState::Sent => ("sent", None),
        PaymentState::ConfirmedByAnswer { balance_after } => {
            ("confirmed_by_answer", Some(balance_after.minor()))
        }
        PaymentState::ConfirmedByReading => ("confirmed_by_reading", None),
        PaymentState::Failed(FailReason::HoardingLimit) => ("failed_hoarding_limit", None),
        PaymentState::Failed(FailReason::CustomerMismatch) => ("failed_customer_mismatch", None),
    }
}

/// A row, as stored.
struct Stored {
    id: i64,
    meter: String,
    amount: i64,
    taken_at: i64,
    count: Option<i64>,
    state: String,
    balance_after: Option<i64>,
    attempts: i64,
    sent_at: Option<i64>,
    expires_at: Option<i64>,
}

impl Stored {
    fn read(r: &Row<'_>) -> rusqlite::Result<Stored> {
        Ok(Stored {
            id: r.get(0)?,
            meter: r.get(1)?,
            amount: r.get(2)?,
            taken_at: r.get(3)?,
            count: r.get(4)?,
            state: r.get(5)?,
            balance_after: r.get(6)?,
            attempts: r.get(7)?,
            sent_at: r.get(8)?,
            expires_at: r.get(9)?,
        })
    }

    fn decode(self) -> Result<Payment, SqliteLedgerError> {
        let id = self.id;
        let bad = |what: &str| SqliteLedgerError::Corrupt(alloc::format!("payment {id}: {what}"));
        let state = match (self.state.as_str(), self.balance_after) {
            ("queued", None) => PaymentState::Queued,
            ("sent", None) => PaymentState::Sent,
            ("confirmed_by_answer", Some(b)) => PaymentState::ConfirmedByAnswer {
                balance_after: Money::from_minor(b),
            },
            ("confirmed_by_reading", None) => PaymentState::ConfirmedByReading,
            ("failed_hoarding_limit", None) => PaymentState::Failed(FailReason::HoardingLimit),
            ("failed_customer_mismatch", None) => {
                PaymentState::Failed(FailReason::CustomerMismatch)
            }
            _ => return Err(bad("state")),
        };
        Ok(Payment {
            id: PaymentId(u64::try_from(id).map_err(|_| bad("id"))?),
            meter: self.meter.parse::<Address>().map_err(|_| bad("meter"))?,
            amount: Money::from_minor(self.amount),
            taken_at: Timestamp::from_unix(self.taken_at),
            count: self
                .count
                .map(u32::try_from)
                .transpose()
                .map_err(|_| bad("count"))?,
            state,
            attempts: u32::try_from(self.attempts).map_err(|_| bad("attempts"))?,
            sent_at: self.sent_at.map(Timestamp::from_unix),
            expires_at: self.expires_at.map(Timestamp::from_unix),
        })
    }
}

fn id_of(id: PaymentId) -> Result<i64, SqliteLedgerError> {
    i64::try_from(id.0).map_err(|_| SqliteLedgerError::Unknown(id))
}

impl Ledger for SqliteLedger {
    type Error = SqliteLedgerError;

    fn insert(&mut self, p: &Payment) -> Result<(), SqliteLedgerError> {
        let id = i64::try_from(p.id.0)
            .map_err(|_| SqliteLedgerError::Corrupt("payment id beyond i64".to_string()))?;
        let (state, balance_after) = state_columns(p.state);
        let n = self.db.execute(
            "INSERT OR IGNORE INTO payments (id, meter, amount, taken_at, count, state, balance_after, attempts, sent_at, expires_at)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10)",
            params![
                id,
                p.meter.to_string(),
                p.amount.minor(),
                p.taken_at.unix(),
                p.count,
                state,
                balance_after,
                p.attempts,
                p.sent_at.map(Timestamp::unix),
                p.expires_at.map(Timestamp::unix),
            ],
        )?;
        if n == 0 {
            return Err(SqliteLedgerError::Duplicate(p.id));
        }
        Ok(())
    }

    fn update(&mut self, p: &Payment) -> Result<(), SqliteLedgerError> {
        let (state, balance_after) = state_columns(p.state);
        let n = self.db.execute(
            "UPDATE payments SET meter = ?2, amount = ?3, taken_at = ?4, count = ?5, state = ?6,
             balance_after = ?7, attempts = ?8, sent_at = ?9, expires_at = ?10 WHERE id = ?1",
            params![
                id_of(p.id)?,
                p.meter.to_string(),
                p.amount.minor(),
                p.taken_at.unix(),
                p.count,
                state,
                balance_after,
                p.attempts,
                p.sent_at.map(Timestamp::unix),
                p.expires_at.map(Timestamp::unix),
            ],
        )?;
        if n == 0 {
            return Err(SqliteLedgerError::Unknown(p.id));
        }
        Ok(())
    }

    fn get(&self, id: PaymentId) -> Result<Option<Payment>, SqliteLedgerError> {
        let Ok(key) = i64::try_from(id.0) else {
            return Ok(None);
        };
        self.db
            .query_row(
                &alloc::format!("SELECT {COLUMNS} FROM payments WHERE id = ?1"),
                [key],
                Stored::read,
            )
            .optional()?
            .map(Stored::decode)
            .transpose()
    }

    fn payments(&self) -> Result<Vec<Payment>, SqliteLedgerError> {
        let mut stmt = self.db.prepare(&alloc::format!(
            "SELECT {COLUMNS} FROM payments ORDER BY id"
        ))?;
        let rows = stmt.query_map([], Stored::read)?;
        let mut out = Vec::new();
        for row in rows {
            out.push(row?.decode()?);
        }
        Ok(out)
    }

    fn payments_of(&self, meter: Address) -> Result<Vec<Payment>, SqliteLedgerError> {
        let mut stmt = self.db.prepare(&alloc::format!(
            "SELECT {COLUMNS} FROM payments WHERE meter = ?1 ORDER BY id"
        ))?;
        let rows = stmt.query_map([meter.to_string()], Stored::read)?;
        let mut out = Vec::new();
        for row in rows {
            out.push(row?.decode()?);
        }
        Ok(out)
    }

    fn counter(&self, meter: Address) -> Result<u32, SqliteLedgerError> {
        let last: Option<i64> = self
            .db
            .query_row(
                "SELECT last FROM counters WHERE meter = ?1",
                [meter.to_string()],
                |r| r.get(0),
            )
            .optional()?;
        last.map_or(Ok(0), |l| {
            u32::try_from(l)
                .map_err(|_| SqliteLedgerError::Corrupt(alloc::format!("counter of {meter}")))
        })
    }

    fn set_counter(&mut self, meter: Address, last: u32) -> Result<(), SqliteLedgerError> {
        self.db.execute(
            "INSERT INTO counters (meter, last) VALUES (?1, ?2)
             ON CONFLICT(meter) DO UPDATE SET last = excluded.last",
            params![meter.to_string(), last],
        )?;
        Ok(())
    }

    fn last_id(&self) -> Result<Option<PaymentId>, SqliteLedgerError> {
        let max: Option<i64> = self
            .db
            .query_row("SELECT MAX(id) FROM payments", [], |r| r.get(0))?;
        max.map(|m| {
            u64::try_from(m)
                .map(PaymentId)
                .map_err(|_| SqliteLedgerError::Corrupt("payment id".to_string()))
        })
        .transpose()
    }
}
