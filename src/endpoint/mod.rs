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

pub mod dlt645;
