//! Group `server`, split by topic:
//! - `keyspace`: DBSIZE, FLUSHDB, FLUSHALL, SWAPDB.
//! - `info`: INFO and its sections.
//! - `config`: CONFIG GET/SET/RESETSTAT/HELP.
//! - `command`: COMMAND and its subcommands, read from the command table.
//! - `debug`: the DEBUG subcommands Redis's test suite leans on.
//! - `slowlog`: SLOWLOG.
//! - `acl`: ACL and its subcommands.
//! - `memory`: MEMORY USAGE, STATS, DOCTOR, MALLOC-STATS, PURGE.
//! - `latency`: LATENCY (the latency monitor and the per-command histograms).
//! - `admin`: TIME, LASTSAVE, MONITOR, SHUTDOWN.

mod acl;
mod admin;
mod command;
pub(crate) mod config;
mod debug;
mod info;
mod keyspace;
mod latency;
mod memory;
mod persistence;
mod replication;
mod slowlog;

use super::Registry;

pub(super) fn register(r: &mut Registry) {
    keyspace::register(r);
    acl::register(r);
    info::register(r);
    config::register(r);
    command::register(r);
    debug::register(r);
    slowlog::register(r);
    admin::register(r);
    persistence::register(r);
    memory::register(r);
    latency::register(r);
    replication::register(r);
}
