//! Group `transactions`: MULTI, EXEC, DISCARD, WATCH, UNWATCH.
//!
//! Dispatch queues every command a client sends between MULTI and EXEC (checking existence and
//! arity first; a refused command makes EXEC answer EXECABORT). EXEC runs under the exclusive
//! gate, so no other client runs while the queue does, on any core. WATCH registers keys in
//! the server's [`Watches`](crate::watch::Watches); any write to one (see effects.rs) marks
//! the watcher, and its EXEC answers a null array instead of running.

use std::sync::atomic::Ordering::Relaxed;

use crate::connection::Multi;
use crate::dispatch::{self, Ran};

use super::{CommandContext, CommandError, Locking, Registry};

pub(super) fn register(r: &mut Registry) {
    r.add("multi", multi);
    r.add_with("exec", exec, Locking::Exclusive);
    r.add("discard", discard);
    r.add("watch", watch);
    r.add("unwatch", unwatch);
}

fn watch(ctx: &mut CommandContext<'_>) -> Result<(), CommandError> {
    if ctx.client.multi.is_some() {
        return Err(CommandError::err("WATCH inside MULTI is not allowed"));
    }
    // Nothing more can happen to a client whose EXEC will fail anyway.
    if !ctx.client.watch_state.dirty.load(Relaxed) {
        let db = ctx.db.db();
        let now = ctx.now_ms;
        while let Some(key) = ctx.args.next_opt() {
            let shard = ctx.db.shard(key);
            let stale = shard.peek_stored(key).is_some()
                && shard.expire_at(key).is_some_and(|at| at <= now);
            let state = &ctx.client.watch_state;
            if let Some(watched) = ctx.server.watches.watch(db, key, state, stale) {
                ctx.client.watched.push(watched);
            }
        }
    }
    ctx.reply.ok();
    Ok(())
}

fn unwatch(ctx: &mut CommandContext<'_>) -> Result<(), CommandError> {
    ctx.client.unwatch_all(ctx.server);
    ctx.reply.ok();
    Ok(())
}

/// A key watched while alive that has logically expired since fails the EXEC, even if no
/// lookup removed it yet (Redis's `isWatchedKeyExpired`).
fn watched_key_expired(ctx: &mut CommandContext<'_>) -> bool {
    let now = ctx.now_ms;
    // A view of its own, dropped before the queue runs: shards this check locked must not
    // stay held by EXEC's view while the queued commands lock them again.
    let Some(mut view) = ctx.db.sibling(ctx.db.db()) else {
        return false;
    };
    ctx.client.watched.iter().any(|w| {
        if w.watcher.expired_at_watch.load(Relaxed) {
            return false;
        }
        let shard = view.shard_in(w.db, &w.key);
        shard.peek_stored(&w.key).is_some() && shard.expire_at(&w.key).is_some_and(|at| at <= now)
    })
}

fn multi(ctx: &mut CommandContext<'_>) -> Result<(), CommandError> {
    if ctx.client.multi.is_some() {
        return Err(CommandError::err("MULTI calls can not be nested"));
    }
    ctx.client.multi = Some(Multi::default());
    ctx.client.info.multi_queued.store(0, Relaxed);
    ctx.reply.ok();
    Ok(())
}

fn discard(ctx: &mut CommandContext<'_>) -> Result<(), CommandError> {
    if ctx.client.multi.take().is_none() {
        return Err(CommandError::err("DISCARD without MULTI"));
    }
    ctx.client.info.multi_queued.store(-1, Relaxed);
    ctx.client.unwatch_all(ctx.server);
    ctx.reply.ok();
    Ok(())
}

fn exec(ctx: &mut CommandContext<'_>) -> Result<(), CommandError> {
    let Some(multi) = ctx.client.multi.take() else {
        return Err(CommandError::err("EXEC without MULTI"));
    };
    ctx.client.info.multi_queued.store(-1, Relaxed);
    if multi.aborted {
        ctx.client.unwatch_all(ctx.server);
        return Err(CommandError::Prefixed(
            "EXECABORT",
            "Transaction discarded because of previous errors.".into(),
        ));
    }
    let watch_failed = ctx.client.watch_state.dirty.load(Relaxed) || watched_key_expired(ctx);
    ctx.client.unwatch_all(ctx.server);
    if watch_failed {
        ctx.reply.null_array();
        return Ok(());
    }
    ctx.reply.array(multi.queued.len());
    ctx.client.in_exec = true;
    for command in &multi.queued {
        // Each command gets a fresh view of the database it runs in (SELECT may change it);
        // the exclusive gate this EXEC holds keeps the whole queue atomic.
        let Some(view) = ctx.db.sibling(ctx.client.db) else {
            break;
        };
        if let Some(denied) = refused_now(ctx, command.args()) {
            let e = crate::acl::exec_error(denied);
            ctx.server.stats.count_error(e.code());
            ctx.reply.error(e.to_string().as_bytes());
            continue;
        }
        let ran = dispatch::run_with_view(ctx.server, ctx.client, command.args(), ctx.reply, view);
        debug_assert!(
            matches!(ran, Ran::Done),
            "blocking is answered at once inside EXEC"
        );
    }
    ctx.client.in_exec = false;
    Ok(())
}

/// A queued command the ACL rules no longer allow (they may change between MULTI and EXEC).
fn refused_now(
    ctx: &CommandContext<'_>,
    args: common::resp::ArgList<'_>,
) -> Option<crate::acl::Denied> {
    let spec = dispatch::resolve_for_script(ctx.server, args).ok()?;
    crate::acl::check(
        ctx.server,
        ctx.client,
        spec,
        args,
        crate::acl::Context::Multi,
    )
    .err()
}

#[cfg(test)]
mod tests {
    use crate::commands::testkit::TestClient;

    #[test]
    fn exec_runs_the_queue_in_order_and_replies_each() {
        let mut c = TestClient::new();
        assert_eq!(c.text(&["MULTI"]), "+OK\r\n");
        assert_eq!(c.text(&["SET", "a", "1"]), "+QUEUED\r\n");
        assert_eq!(c.text(&["INCR", "a"]), "+QUEUED\r\n");
        assert_eq!(c.text(&["LPUSH", "a", "x"]), "+QUEUED\r\n");
        assert_eq!(c.text(&["GET", "a"]), "+QUEUED\r\n");
        assert_eq!(
            c.text(&["EXEC"]),
            "*4\r\n+OK\r\n:2\r\n-WRONGTYPE Operation against a key holding the wrong kind of value\r\n$1\r\n2\r\n"
        );
        assert_eq!(c.text(&["EXEC"]), "-ERR EXEC without MULTI\r\n");
        assert_eq!(c.text(&["DISCARD"]), "-ERR DISCARD without MULTI\r\n");
    }

    #[test]
    fn queueing_errors_abort_exec_and_discard_drops_the_queue() {
        let mut c = TestClient::new();
        c.run(&["MULTI"]);
        assert_eq!(c.text(&["MULTI"]), "-ERR MULTI calls can not be nested\r\n");
        assert_eq!(
            c.text(&["GET"]),
            "-ERR wrong number of arguments for 'get' command\r\n"
        );
        c.run(&["SET", "k", "v"]);
        assert_eq!(
            c.text(&["EXEC"]),
            "-EXECABORT Transaction discarded because of previous errors.\r\n"
        );
        assert_eq!(c.text(&["GET", "k"]), "$-1\r\n");
        c.run(&["MULTI"]);
        c.run(&["SET", "k", "v"]);
        assert_eq!(c.text(&["DISCARD"]), "+OK\r\n");
        assert_eq!(c.text(&["GET", "k"]), "$-1\r\n");
    }

    #[test]
    fn blocking_pops_inside_exec_answer_at_once() {
        let mut c = TestClient::new();
        c.run(&["MULTI"]);
        c.run(&["BLPOP", "nolist", "0"]);
        c.run(&["SELECT", "1"]);
        c.run(&["SET", "in1", "x"]);
        assert_eq!(c.text(&["EXEC"]), "*3\r\n*-1\r\n+OK\r\n+OK\r\n");
        assert_eq!(c.text(&["GET", "in1"]), "$1\r\nx\r\n");
        c.run(&["SELECT", "0"]);
        assert_eq!(c.text(&["GET", "in1"]), "$-1\r\n");
    }

    #[test]
    fn a_push_inside_exec_wakes_a_blocked_client_after_the_exec() {
        let mut a = TestClient::new();
        let mut b = TestClient::connect(&a.server);
        assert_eq!(a.text(&["BLPOP", "q", "0"]), "(blocked)");
        b.run(&["MULTI"]);
        b.run(&["RPUSH", "q", "1"]);
        b.run(&["RPUSH", "q", "2"]);
        assert_eq!(b.text(&["EXEC"]), "*2\r\n:1\r\n:2\r\n");
        assert_eq!(a.served().as_deref(), Some("*2\r\n$1\r\nq\r\n$1\r\n1\r\n"));
        assert_eq!(b.text(&["LRANGE", "q", "0", "-1"]), "*1\r\n$1\r\n2\r\n");
    }
}

#[cfg(test)]
mod watch_tests {
    use crate::commands::testkit::TestClient;

    #[test]
    fn a_write_by_another_client_fails_the_watchers_exec() {
        let mut a = TestClient::new();
        let mut b = TestClient::connect(&a.server);
        a.run(&["SET", "k", "1"]);
        assert_eq!(a.text(&["WATCH", "k"]), "+OK\r\n");
        b.run(&["SET", "k", "2"]);
        a.run(&["MULTI"]);
        a.run(&["SET", "k", "3"]);
        assert_eq!(a.text(&["EXEC"]), "*-1\r\n");
        assert_eq!(a.text(&["GET", "k"]), "$1\r\n2\r\n");
        // EXEC unwatched everything: the next transaction runs.
        b.run(&["SET", "k", "4"]);
        a.run(&["MULTI"]);
        a.run(&["GET", "k"]);
        assert_eq!(a.text(&["EXEC"]), "*1\r\n$1\r\n4\r\n");
    }

    #[test]
    fn unwatch_and_untouched_keys_let_exec_run() {
        let mut a = TestClient::new();
        let mut b = TestClient::connect(&a.server);
        a.run(&["WATCH", "x", "y"]);
        b.run(&["SET", "other", "1"]);
        a.run(&["MULTI"]);
        a.run(&["PING"]);
        assert_eq!(a.text(&["EXEC"]), "*1\r\n+PONG\r\n");
        a.run(&["WATCH", "x"]);
        b.run(&["SET", "x", "1"]);
        assert_eq!(a.text(&["UNWATCH"]), "+OK\r\n");
        a.run(&["MULTI"]);
        a.run(&["PING"]);
        assert_eq!(a.text(&["EXEC"]), "*1\r\n+PONG\r\n");
        a.run(&["MULTI"]);
        assert_eq!(
            a.text(&["WATCH", "x"]),
            "-ERR WATCH inside MULTI is not allowed\r\n"
        );
    }

    #[test]
    fn flushes_touch_only_keys_that_existed() {
        let mut a = TestClient::new();
        let mut b = TestClient::connect(&a.server);
        a.run(&["WATCH", "missing"]);
        b.run(&["FLUSHALL"]);
        a.run(&["MULTI"]);
        a.run(&["PING"]);
        assert_eq!(a.text(&["EXEC"]), "*1\r\n+PONG\r\n");
        b.run(&["SET", "k", "v"]);
        a.run(&["WATCH", "k"]);
        b.run(&["FLUSHDB"]);
        a.run(&["MULTI"]);
        a.run(&["PING"]);
        assert_eq!(a.text(&["EXEC"]), "*-1\r\n");
    }

    #[test]
    fn a_key_that_expires_after_watch_fails_exec_but_a_stale_one_does_not() {
        let mut a = TestClient::new();
        a.run(&["DEBUG", "SET-ACTIVE-EXPIRE", "0"]);
        a.run(&["SET", "x", "foo", "PX", "1"]);
        std::thread::sleep(std::time::Duration::from_millis(3));
        a.run(&["WATCH", "x"]);
        assert_eq!(a.text(&["EXISTS", "x"]), ":0\r\n");
        a.run(&["MULTI"]);
        a.run(&["PING"]);
        assert_eq!(a.text(&["EXEC"]), "*1\r\n+PONG\r\n");
        a.run(&["SET", "y", "foo", "PX", "5"]);
        a.run(&["WATCH", "y"]);
        std::thread::sleep(std::time::Duration::from_millis(8));
        a.run(&["MULTI"]);
        a.run(&["PING"]);
        assert_eq!(a.text(&["EXEC"]), "*-1\r\n");
    }

    #[test]
    fn over_maxmemory_writes_are_refused_and_abort_a_transaction() {
        let mut c = TestClient::new();
        let mut admin = TestClient::connect(&c.server);
        c.run(&["MULTI"]);
        c.run(&["SET", "a", "1"]);
        admin.run(&["CONFIG", "SET", "maxmemory", "1"]);
        assert_eq!(
            c.text(&["LPUSH", "l", "x"]),
            "-OOM command not allowed when used memory > 'maxmemory'.\r\n"
        );
        c.server
            .hot
            .maxmemory
            .store(0, std::sync::atomic::Ordering::Relaxed);
        assert_eq!(
            c.text(&["EXEC"]),
            "-EXECABORT Transaction discarded because of previous errors.\r\n"
        );
        c.run(&["CONFIG", "SET", "maxmemory", "1"]);
        assert_eq!(c.text(&["GET", "a"]), "$-1\r\n");
        assert!(c.text(&["SET", "a", "1"]).starts_with("-OOM"));
    }

    #[test]
    fn exec_runs_queued_commands_on_the_shard_of_a_watched_key() {
        let mut a = TestClient::new();
        let mut b = TestClient::connect(&a.server);
        a.run(&["SADD", "src", "a", "b"]);
        a.run(&["SADD", "dst", "a"]);
        a.run(&["WATCH", "dst"]);
        a.run(&["MULTI"]);
        a.run(&["SADD", "dst", "c"]);
        // The member is already there: the destination does not change.
        assert_eq!(b.text(&["SMOVE", "src", "dst", "a"]), ":1\r\n");
        assert_eq!(a.text(&["EXEC"]), "*1\r\n:1\r\n");
        assert_eq!(a.text(&["SCARD", "dst"]), ":2\r\n");
    }
}
