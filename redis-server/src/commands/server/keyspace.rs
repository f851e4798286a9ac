//! Group `server`, keyspace-wide commands: DBSIZE, FLUSHDB, FLUSHALL, SWAPDB.

use common::keyspace::{Locked, Shard};

use crate::commands::args::is;
use crate::commands::{CommandContext, CommandError, Locking, Registry};

pub(super) fn register(r: &mut Registry) {
    r.add("dbsize", dbsize);
    r.add_with("flushdb", flushdb, Locking::Exclusive);
    r.add_with("flushall", flushall, Locking::Exclusive);
    r.add_with("swapdb", swapdb, Locking::Exclusive);
}

/// DBSIZE counts keys whose time has come but that no lookup has removed yet, as Redis does.
fn dbsize(ctx: &mut CommandContext<'_>) -> Result<(), CommandError> {
    let db = ctx.db.db();
    let n = ctx.db.dbsize(db);
    ctx.reply.integer(i64::try_from(n).unwrap_or(i64::MAX));
    Ok(())
}

/// How a flush frees the old contents.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Free {
    /// Before the reply.
    Sync,
    /// On a background thread, after the reply.
    Async,
}

impl Free {
    /// `[ASYNC|SYNC]`; without either, `lazyfree-lazy-user-flush` decides.
    fn parse(ctx: &CommandContext<'_>) -> Result<Free, CommandError> {
        let mut args = ctx.args;
        match (args.next_opt(), args.is_empty()) {
            (None, _) => {
                let lazy = ctx
                    .server
                    .hot
                    .lazyfree_lazy_user_flush
                    .load(std::sync::atomic::Ordering::Relaxed);
                Ok(if lazy { Free::Async } else { Free::Sync })
            }
            (Some(arg), true) if is(arg, "sync") => Ok(Free::Sync),
            (Some(arg), true) if is(arg, "async") => Ok(Free::Async),
            _ => Err(CommandError::Syntax),
        }
    }
}

/// Empties every shard of `db`, moving the old contents into `old`. Keys expired lazily but
/// not yet counted by the cron are counted now, before their record goes with the shard.
/// Returns how many keys it held.
fn empty_db(ctx: &mut CommandContext<'_>, db: usize, old: &mut Vec<Shard>) -> u64 {
    let server = ctx.server;
    let view: &mut Locked<'_> = &mut ctx.db;
    server.watches.touch_db(db, |key| {
        let stored = view.shard_in(db, key).peek_stored(key).is_some();
        (stored, None)
    });
    let mut removed = 0;
    view.for_each_shard(db, |shard| {
        crate::notify::keys_expired(server, db, shard.drain_expired());
        if !shard.is_empty() {
            removed += shard.len() as u64;
            old.push(shard.clear());
        }
    });
    removed
}

fn release(ctx: &CommandContext<'_>, old: Vec<Shard>, free: Free) {
    match free {
        Free::Sync => drop(old),
        // Dropping millions of keys takes a while; do it off the command path.
        Free::Async => ctx.server.lazyfree.free_shards(old),
    }
}

fn flushdb(ctx: &mut CommandContext<'_>) -> Result<(), CommandError> {
    let free = Free::parse(ctx)?;
    let db = ctx.db.db();
    let mut old = Vec::new();
    let removed = empty_db(ctx, db, &mut old);
    ctx.flushed();
    ctx.dirty(removed);
    // Replicas and the AOF see it even when there was nothing to remove, as in Redis.
    ctx.force_propagation(crate::propagate::Targets::ALL);
    release(ctx, old, free);
    ctx.reply.ok();
    Ok(())
}

fn flushall(ctx: &mut CommandContext<'_>) -> Result<(), CommandError> {
    let free = Free::parse(ctx)?;
    // A running BGSAVE would write what is about to be flushed: it is stopped (and with save
    // points an empty RDB is written instead, Redis's flushAllDataAndResetRDB). Stopped
    // before any shard is locked here: its thread may be waiting to capture one.
    crate::persistence::rdb::kill_bgsave(ctx.server);
    let mut old = Vec::new();
    let mut removed = 0;
    for db in 0..ctx.server.keyspace.databases() {
        removed += empty_db(ctx, db, &mut old);
    }
    ctx.flushed();
    // One more, so that even an empty FLUSHALL is propagated and counted, as in Redis.
    ctx.dirty(removed + 1);
    ctx.force_propagation(crate::propagate::Targets::ALL);
    let save_points = !ctx.server.config().save_params().is_empty();
    if save_points {
        let _ = crate::persistence::rdb::save(ctx.server, &mut ctx.db);
    }
    release(ctx, old, free);
    ctx.reply.ok();
    Ok(())
}

/// A SWAPDB index: `error` when it is no integer that fits Redis's `int`.
fn swap_index(arg: &[u8], error: &str) -> Result<i64, CommandError> {
    common::number::parse_i64(arg)
        .filter(|n| i32::try_from(*n).is_ok())
        .ok_or_else(|| CommandError::err(error))
}

fn swapdb(ctx: &mut CommandContext<'_>) -> Result<(), CommandError> {
    let a = swap_index(ctx.args.next_bytes()?, "invalid first DB index")?;
    let b = swap_index(ctx.args.next_bytes()?, "invalid second DB index")?;
    let databases = ctx.server.keyspace.databases();
    let in_range = |n: i64| usize::try_from(n).ok().filter(|&n| n < databases);
    let (Some(a), Some(b)) = (in_range(a), in_range(b)) else {
        return Err(CommandError::DbIndexOutOfRange);
    };
    if ctx.server.watches.active() {
        let now = ctx.now_ms;
        let view = &mut ctx.db;
        let mut state = |key: &[u8], from: usize, to: usize| {
            let existed = view.shard_in(from, key).peek_stored(key).is_some();
            let replacement = view.shard_in(to, key);
            let after = replacement
                .peek_stored(key)
                .map(|_| replacement.expire_at(key).is_some_and(|at| at <= now));
            (existed, after)
        };
        ctx.server.watches.touch_db(a, |key| state(key, a, b));
        ctx.server.watches.touch_db(b, |key| state(key, b, a));
    }
    ctx.db.swap_dbs(a, b);
    ctx.dirty(1);
    // Clients blocked on a key of either database may find it there now, as in Redis.
    if ctx.server.blocking.has_waiters() {
        for db in [a, b] {
            for key in ctx.server.blocking.keys_in(db) {
                ctx.client.ready_keys.push((db, key));
            }
        }
    }
    ctx.reply.ok();
    Ok(())
}

#[cfg(test)]
mod tests {
    use crate::commands::testkit::TestClient;
    use common::keyspace::{Entry, lru_clock};

    fn set_in(c: &TestClient, db: usize, key: &str) {
        let gate = c.server.keyspace.shared();
        let mut view = c.server.keyspace.lock_keys(&gate, db, [key.as_bytes()]);
        let now = crate::server::unix_ms();
        view.shard(key.as_bytes())
            .insert(Entry::string(key.as_bytes(), b"v", lru_clock(now)));
    }

    fn size_of(c: &TestClient, db: usize) -> usize {
        let gate = c.server.keyspace.shared();
        let mut view = c.server.keyspace.lock_keys(&gate, db, std::iter::empty());
        view.dbsize(db)
    }

    #[test]
    fn dbsize_counts_the_selected_database() {
        let mut c = TestClient::new();
        assert_eq!(c.text(&["DBSIZE"]), ":0\r\n");
        for k in ["a", "b", "c"] {
            set_in(&c, 0, k);
        }
        set_in(&c, 1, "a");
        assert_eq!(c.text(&["DBSIZE"]), ":3\r\n");
        c.client.select(1);
        assert_eq!(c.text(&["DBSIZE"]), ":1\r\n");
        assert_eq!(
            c.text(&["DBSIZE", "x"]),
            "-ERR wrong number of arguments for 'dbsize' command\r\n"
        );
    }

    #[test]
    fn flushdb_and_flushall() {
        let mut c = TestClient::new();
        for db in [0, 1, 2] {
            for k in ["a", "b", "c", "d"] {
                set_in(&c, db, k);
            }
        }
        assert_eq!(c.text(&["FLUSHDB", "foo"]), "-ERR syntax error\r\n");
        assert_eq!(
            c.text(&["FLUSHDB", "async", "sync"]),
            "-ERR syntax error\r\n"
        );
        assert_eq!(c.text(&["FLUSHDB", "a", "b"]), "-ERR syntax error\r\n");
        assert_eq!(c.text(&["FLUSHALL", "foo"]), "-ERR syntax error\r\n");
        assert_eq!(size_of(&c, 0), 4);
        assert_eq!(c.text(&["FLUSHDB", "sync"]), "+OK\r\n");
        assert_eq!(size_of(&c, 0), 0);
        assert_eq!(size_of(&c, 1), 4);
        c.client.select(1);
        assert_eq!(c.text(&["FLUSHDB", "ASYNC"]), "+OK\r\n");
        assert_eq!(size_of(&c, 1), 0);
        assert_eq!(size_of(&c, 2), 4);
        assert_eq!(c.text(&["FLUSHDB"]), "+OK\r\n");
        assert_eq!(c.text(&["FLUSHALL"]), "+OK\r\n");
        assert_eq!(size_of(&c, 2), 0);
        set_in(&c, 5, "x");
        assert_eq!(c.text(&["FLUSHALL", "async"]), "+OK\r\n");
        assert_eq!(size_of(&c, 5), 0);
        set_in(&c, 5, "x");
        assert_eq!(c.text(&["FLUSHALL", "SYNC"]), "+OK\r\n");
        assert_eq!(size_of(&c, 5), 0);
    }

    #[test]
    fn swapdb_wakes_clients_blocked_on_keys_the_other_database_has() {
        let mut a = TestClient::new();
        let mut b = TestClient::connect(&a.server);
        b.run(&["SELECT", "1"]);
        b.run(&["RPUSH", "q", "x"]);
        assert_eq!(a.text(&["BLPOP", "q", "0"]), "(blocked)");
        assert_eq!(b.text(&["SWAPDB", "0", "1"]), "+OK\r\n");
        assert_eq!(a.served().as_deref(), Some("*2\r\n$1\r\nq\r\n$1\r\nx\r\n"));
    }

    #[test]
    fn swapdb_swaps_and_checks_indexes() {
        let mut c = TestClient::new();
        set_in(&c, 0, "a");
        set_in(&c, 0, "b");
        set_in(&c, 1, "c");
        assert_eq!(c.text(&["SWAPDB", "0", "1"]), "+OK\r\n");
        assert_eq!(size_of(&c, 0), 1);
        assert_eq!(size_of(&c, 1), 2);
        assert_eq!(c.text(&["DBSIZE"]), ":1\r\n");
        assert_eq!(c.text(&["SWAPDB", "0", "0"]), "+OK\r\n");
        assert_eq!(size_of(&c, 0), 1);
        assert_eq!(
            c.text(&["SWAPDB", "a", "1"]),
            "-ERR invalid first DB index\r\n"
        );
        assert_eq!(
            c.text(&["SWAPDB", "1", "a"]),
            "-ERR invalid second DB index\r\n"
        );
        assert_eq!(
            c.text(&["SWAPDB", "4294967296", "0"]),
            "-ERR invalid first DB index\r\n"
        );
        assert_eq!(
            c.text(&["SWAPDB", "0", "16"]),
            "-ERR DB index is out of range\r\n"
        );
        assert_eq!(
            c.text(&["SWAPDB", "-1", "0"]),
            "-ERR DB index is out of range\r\n"
        );
        assert_eq!(
            c.text(&["SWAPDB", "0"]),
            "-ERR wrong number of arguments for 'swapdb' command\r\n"
        );
    }
}
