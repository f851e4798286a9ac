//! redis-cli's tests against real Redis: the golden corpus and the REPL through a pty.

#![allow(clippy::unwrap_used)]

mod cluster;
mod golden;
mod modes;
mod repl;
mod support;
