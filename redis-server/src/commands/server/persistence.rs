//! SAVE and BGSAVE: RDB snapshots on demand (the jobs live in `crate::persistence::rdb`).
//!
//! Both run under the exclusive gate: the snapshot is copied while nothing else runs. SAVE
//! then writes the file before replying, as Redis's SAVE blocks; BGSAVE writes it on its own
//! thread.

use std::sync::atomic::Ordering::Relaxed;

use crate::commands::{CommandContext, CommandError, Locking, Registry};
use crate::persistence::rdb;

pub(super) fn register(r: &mut Registry) {
    r.add_with("save", save, Locking::Exclusive);
    r.add_with("bgsave", bgsave, Locking::Exclusive);
    r.add_with("bgrewriteaof", bgrewriteaof, Locking::Exclusive);
}

const IN_PROGRESS: &str = "Background save already in progress";

fn save(ctx: &mut CommandContext<'_>) -> Result<(), CommandError> {
    if ctx.server.rdb.bgsave_in_progress.load(Relaxed) {
        return Err(CommandError::err(IN_PROGRESS));
    }
    match rdb::save(ctx.server, &mut ctx.db) {
        Ok(()) => ctx.reply.ok(),
        // Redis answers a failed SAVE with a bare "-ERR".
        Err(_) => ctx.reply.error(b"ERR"),
    }
    Ok(())
}

fn bgsave(ctx: &mut CommandContext<'_>) -> Result<(), CommandError> {
    // SCHEDULE defers the save while another child (an AOF rewrite) runs; this server runs
    // no other, so it starts at once either way.
    match ctx.args.remaining() {
        0 => {}
        1 if ctx.args.eat("schedule") => {}
        _ => return Err(CommandError::Syntax),
    }
    let status = &ctx.server.rdb;
    if status.bgsave_in_progress.load(Relaxed) {
        return Err(CommandError::err(IN_PROGRESS));
    }
    // Inside MULTI the save starts after the transaction, from the cron (as Redis does).
    if ctx.client.in_exec {
        status.bgsave_scheduled.store(true, Relaxed);
        ctx.reply.simple(b"Background saving scheduled");
        return Ok(());
    }
    match rdb::start_bgsave(ctx.server, &mut ctx.db) {
        Ok(()) => {
            ctx.reply.simple(b"Background saving started");
            Ok(())
        }
        Err(e) => Err(CommandError::err(e)),
    }
}

fn bgrewriteaof(ctx: &mut CommandContext<'_>) -> Result<(), CommandError> {
    let server = ctx.server;
    if server.aof.rewrite_in_progress.load(Relaxed) {
        return Err(CommandError::err(
            "Background append only file rewriting already in progress",
        ));
    }
    // After a running BGSAVE, or after the transaction: the cron starts it.
    if server.rdb.bgsave_in_progress.load(Relaxed) || ctx.client.in_exec {
        server.aof.rewrite_scheduled.store(true, Relaxed);
        ctx.reply
            .simple(b"Background append only file rewriting scheduled");
        return Ok(());
    }
    match crate::persistence::aof::start_rewrite(server, &mut ctx.db) {
        Ok(()) => {
            ctx.reply
                .simple(b"Background append only file rewriting started");
            Ok(())
        }
        Err(e) => {
            server.log.warning(&e);
            Err(CommandError::err(
                "Can't execute an AOF background rewriting. Please check the server logs for more information.",
            ))
        }
    }
}

#[cfg(test)]
mod tests {
    use crate::commands::testkit::TestClient;

    #[test]
    fn bgsave_rejects_unknown_arguments() {
        let mut c = TestClient::new();
        assert_eq!(c.text(&["BGSAVE", "foo"]), "-ERR syntax error\r\n");
        assert_eq!(
            c.text(&["BGSAVE", "SCHEDULE", "x"]),
            "-ERR syntax error\r\n"
        );
    }
}
