//! Client connections: per-client state and the read → parse → dispatch → write loop.

mod client;
mod io;

pub use client::{Client, ClientDetails, ClientInfo, ClientKind, ReplyMode};
pub use io::serve;
