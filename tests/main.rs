//! Integration tests: the built binaries over TCP, and interop with real Redis.
#![allow(clippy::unwrap_used)]
