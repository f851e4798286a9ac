//! Support for the integration tests: start the real binaries on free loopback ports and talk
//! RESP to them.
//!
//! - [`TestServer`]: our built `redis-server` (or, as [`RealRedis`], Debian's) on a free port in
//!   its own temporary directory; killed on drop, its log printed when the test failed.
//! - [`Conn`]: a raw connection that sends bytes and reads exactly one reply, as raw bytes, for
//!   byte-exact asserts.
//! - [`tools`]: finding real Redis's binaries under the interop rule (missing is a failure under
//!   `CI=true`, a printed skip otherwise) and running them with a time limit.
//!
//! Set `REDIS_TEST_SERVER=/usr/bin/redis-server` to run the whole suite against another server
//! binary: that is how the expected bytes are checked against real Redis.
#![cfg_attr(test, allow(clippy::unwrap_used))]

pub mod support;

pub use support::conn::{Conn, ReadError, show};
pub use support::server::{
    RealRedis, ServerBuilder, TempDir, TestServer, free_port, our_binary, sibling_binary,
};
pub use support::tools;
