//! Group `connection`: PING, ECHO, HELLO, AUTH, CLIENT, QUIT, RESET, SELECT.

use super::{CommandContext, CommandError, Registry};

pub(super) fn register(r: &mut Registry) {
    r.add("ping", ping);
    r.add("echo", echo);
}

fn ping(ctx: &mut CommandContext<'_>) -> Result<(), CommandError> {
    if ctx.args.remaining() > 1 {
        return Err(CommandError::WrongArity("ping".into()));
    }
    match ctx.args.next_opt() {
        None => ctx.reply.simple(b"PONG"),
        Some(msg) => ctx.reply.bulk(msg),
    }
    Ok(())
}

fn echo(ctx: &mut CommandContext<'_>) -> Result<(), CommandError> {
    let msg = ctx.args.next_bytes()?;
    ctx.reply.bulk(msg);
    Ok(())
}
