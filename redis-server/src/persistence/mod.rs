//! Persistence jobs: RDB snapshots ([`rdb`]), the AOF ([`aof`]), and the child process
//! their background files are written through ([`child`]). The formats themselves live in `common::rdb`.

pub(crate) mod aof;
pub(crate) mod child;
pub(crate) mod rdb;
