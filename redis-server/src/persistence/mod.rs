//! Persistence jobs: RDB snapshots ([`rdb`]). The formats themselves live in `common::rdb`.

pub(crate) mod aof;
pub(crate) mod rdb;
