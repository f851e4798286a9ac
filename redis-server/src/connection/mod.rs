//! Client connections: per-client state and the read → parse → dispatch → write loop.

mod client;
pub(crate) mod eviction;
mod io;

pub(crate) use client::{Client, ClientInfo, ClientKind, Multi, ReplyMode, Subscriptions};
pub(crate) use io::{serve, write_and_flush};
