//! Support for the integration tests: start the real binaries on free loopback ports and talk
//! RESP to them.
#![cfg_attr(test, allow(clippy::unwrap_used))]
