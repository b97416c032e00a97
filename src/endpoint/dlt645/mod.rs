//! DL/T 645-2007 endpoints: the meter-side [`Server`] and the master-side [`Client`].
//!
//! The wire layer ([`crate::wire::dlt645`]) holds no state and makes no decisions; this module
//! does. The server answers request frames against a meter's registers and account, reached
//! through the [`MeterData`] trait (so it is testable without a full meter); the meter is the
//! caller's and is handed to [`Server::handle`] with each request. The client builds requests
//! and reads answers. Both are sans-IO: bytes and the current time in, bytes out.
//!
//! The domain's refusals become DL/T 645 error words here: `From` turns an
//! [`account::RechargeError`](crate::account::RechargeError) or a
//! [`security::OpenError`](crate::security::OpenError) into a
//! [`SecurityErrorWord`](crate::wire::dlt645::SecurityErrorWord), and an
//! [`account::CommandError`](crate::account::CommandError) into a
//! [`RelayStatusWord`](crate::wire::dlt645::RelayStatusWord).
//!
//! ```
//! use prepaid_meter::address::Address;
//! use prepaid_meter::endpoint::dlt645::{Client, MeterData, Server, ServerConfig};
//! use prepaid_meter::time::Timestamp;
//! use prepaid_meter::units::Money;
//! use prepaid_meter::wire::dlt645::Di;
//!
//! struct Meter;
//! impl MeterData for Meter {
//!     fn address(&self) -> Address { Address::from_number(201_000_000_012).unwrap() }
//!     fn balance(&self) -> Option<Money> { Money::from_cents(19_856) }
//! }
//!
//! let mut meter = Meter;
//! let mut server = Server::new(ServerConfig::default()).unwrap();
//! let client = Client::new(Address::from_number(201_000_000_012).unwrap());
//! let (mut req, mut resp) = ([0u8; 64], [0u8; 64]);
//! let n = client.read(Di(0x0090_0200), &mut req).unwrap();
//! let now = Timestamp::from_unix(1_700_000_000);
//! let m = server.handle(&mut meter, &req[..n], now, &mut resp).unwrap();
//! let answer = client.parse_answer(&resp[..m]).unwrap();
//! assert_eq!(Client::money(&answer, Di(0x0090_0200)), Ok(Money::from_cents(19_856).unwrap()));
//! ```

mod client;
mod data;
mod server;
mod words;

pub(crate) use server::{Applied, apply_value};

pub use client::{Client, ClientError, Progress, Reassembler};
pub use data::{
    ClockSetEntry, Measurement, MeterData, PriceNow, PurchaseLogEntry, Refusal, RelayLogEntry,
    RelayLogKind, TableEntry,
};
pub use server::{
    BROADCAST_GUARD_SECS, BROADCAST_MAX_STEP_SECS, ClockLog, ClockRecord, ClockSource, Passwords,
    PlaintextPolicy, Server, ServerConfig, ServerConfigError, ServerState,
};
