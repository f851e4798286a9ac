//! Group `transactions`: MULTI, EXEC, DISCARD.
//!
//! Dispatch queues every command a client sends between MULTI and EXEC (checking existence and
//! arity first; a refused command makes EXEC answer EXECABORT). EXEC runs under the exclusive
//! gate, so no other client runs while the queue does, on any core. WATCH is not built yet.

use crate::connection::Multi;
use crate::dispatch::{self, Ran};

use super::{CommandContext, CommandError, Locking, Registry};

pub(super) fn register(r: &mut Registry) {
    r.add("multi", multi);
    r.add_with("exec", exec, Locking::Exclusive);
    r.add("discard", discard);
}

fn multi(ctx: &mut CommandContext<'_>) -> Result<(), CommandError> {
    if ctx.client.multi.is_some() {
        return Err(CommandError::err("MULTI calls can not be nested"));
    }
    ctx.client.multi = Some(Multi::default());
    ctx.reply.ok();
    Ok(())
}

fn discard(ctx: &mut CommandContext<'_>) -> Result<(), CommandError> {
    if ctx.client.multi.take().is_none() {
        return Err(CommandError::err("DISCARD without MULTI"));
    }
    ctx.reply.ok();
    Ok(())
}

fn exec(ctx: &mut CommandContext<'_>) -> Result<(), CommandError> {
    let Some(multi) = ctx.client.multi.take() else {
        return Err(CommandError::err("EXEC without MULTI"));
    };
    if multi.aborted {
        return Err(CommandError::Prefixed(
            "EXECABORT",
            "Transaction discarded because of previous errors.".into(),
        ));
    }
    ctx.reply.array(multi.queued.len());
    ctx.client.in_exec = true;
    for command in &multi.queued {
        // Each command gets a fresh view of the database it runs in (SELECT may change it);
        // the exclusive gate this EXEC holds keeps the whole queue atomic.
        let Some(view) = ctx.db.sibling(ctx.client.db) else {
            break;
        };
        let ran = dispatch::run_with_view(ctx.server, ctx.client, command.args(), ctx.reply, view);
        debug_assert!(
            matches!(ran, Ran::Done),
            "blocking is answered at once inside EXEC"
        );
    }
    ctx.client.in_exec = false;
    Ok(())
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
