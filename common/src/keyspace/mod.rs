//! The keyspace: 16 (or `databases`) databases of keys, sharded by hash slot.
//!
//! - [`access`]: the per-entry access clock (LRU seconds or LFU counter).
//! - [`dict`]: the hash table (incremental rehash, SCAN cursor).
//! - [`entry`]: one key and its value.
//! - [`shard`]: the keys of a slot range, with expiries and the active expiry step.
//! - [`snapshot`]: fork-free point-in-time snapshots, captured shard by shard.
//! - [`db`]: the databases, the gate, and the [`db::Locked`] view commands work through.

pub mod access;
pub mod db;
pub mod dict;
pub mod entry;
pub mod shard;
pub mod snapshot;

pub use access::AccessPolicy;
pub use db::{
    ExpiryMode, Gate, Intent, Keyspace, Locked, loading, set_applying_master, set_loading,
};
pub use entry::Entry;
pub use shard::{ExpireCycleStats, FieldsExpired, Shard, lru_clock};
pub use snapshot::{EvictionInfo, SnapshotJob, SnapshotOptions};
