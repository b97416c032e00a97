//! embedded-hal adapters.
