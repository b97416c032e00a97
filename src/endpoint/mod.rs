//! Endpoints: the protocol state machines between the wire and the domain.
//!
//! An endpoint turns wire representations ([`crate::wire`]) into calls on the domain (a meter's
//! registers, account and security layer) and the domain's answers back into representations.
//! It holds only protocol state (passwords, a wrong-password record, configuration), never the
//! domain itself: the caller owns the meter and hands it to the endpoint for each request, as
//! smoltcp keeps its `socket` module beside `wire` and hands sockets their buffers.
//!
//! Endpoints are sans-IO: bytes and the current time in, bytes and decisions out.
//!
//! | protocol | endpoints |
//! |---|---|
//! | DL/T 645-2007 | [`dlt645::Server`] (meter side), [`dlt645::Client`] (master side) |
//!
//! A master station builds a request with the [`dlt645::Client`]; the meter's
//! [`dlt645::Server`] answers it from the meter's data, handed to it for this one request:
//!
//! ```
//! use prepaid_meter::address::Address;
//! use prepaid_meter::endpoint::dlt645::{Client, MeterData, Server, ServerConfig};
//! use prepaid_meter::time::Timestamp;
//! use prepaid_meter::units::Money;
//! use prepaid_meter::wire::dlt645::Di;
//!
//! struct Meter(Address);
//! impl MeterData for Meter {
//!     fn address(&self) -> Address { self.0 }
//!     fn balance(&self) -> Option<Money> { Money::from_cents(19_856) }
//! }
//!
//! let mut meter = Meter("201000000012".parse().unwrap());
//! let client = Client::new(meter.0);
//! let mut request = [0u8; 32];
//! let n = client.read(Di(0x0090_0200), &mut request).unwrap(); // the balance
//! let mut server = Server::new(ServerConfig::default()).unwrap();
//! let mut answer = [0u8; 300];
//! let len = server.handle(&mut meter, &request[..n], Timestamp::from_unix(0), &mut answer).unwrap();
//! let response = client.parse_answer(&answer[..len]).unwrap();
//! assert_eq!(Client::money(&response, Di(0x0090_0200)), Ok(Money::from_cents(19_856).unwrap()));
//! ```

pub mod dlt645;
