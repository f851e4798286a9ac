//! The harness behind [`crate::TestServer`] and [`crate::Conn`].

pub mod conn;
pub mod server;
pub mod tools;
