//! SYNC, PSYNC and REPLCONF: a connection asking to become a replica of this server. The
//! streaming itself is `crate::replication::master`'s.

use crate::commands::{CommandContext, CommandError, Locking, Registry};
use crate::replication::master::{self, SyncRequest};

pub(super) fn register(r: &mut Registry) {
    r.add_with("sync", sync, Locking::Exclusive);
    r.add_with("psync", psync, Locking::Exclusive);
    r.add("replconf", replconf);
}

fn sync(ctx: &mut CommandContext<'_>) -> Result<(), CommandError> {
    begin(ctx, SyncRequest::Sync)
}

fn psync(ctx: &mut CommandContext<'_>) -> Result<(), CommandError> {
    let replid = ctx.args.next_bytes()?;
    let offset = ctx.args.next_bytes()?;
    // Redis answers a bad offset as a replica that has nothing (a full resync).
    let offset = common::number::parse_i64(offset).unwrap_or(-1);
    begin(ctx, SyncRequest::Psync { replid, offset })
}

fn begin(ctx: &mut CommandContext<'_>, request: SyncRequest<'_>) -> Result<(), CommandError> {
    if ctx.client.replica_start.is_some() {
        return Ok(());
    }
    if !ctx.reply.is_empty() {
        // Redis refuses a sync while replies are still pending for this connection.
        return Err(CommandError::err(
            "SYNC and PSYNC are invalid with pending output",
        ));
    }
    master::start_sync(ctx.server, ctx.client, &mut ctx.db, request);
    Ok(())
}

fn replconf(ctx: &mut CommandContext<'_>) -> Result<(), CommandError> {
    if ctx.args.remaining() % 2 != 0 {
        return Err(CommandError::Syntax);
    }
    let mut handshake = ctx.client.handshake.clone().unwrap_or_default();
    while let Some(option) = ctx.args.next_opt() {
        let value = ctx.args.next_bytes()?;
        let word = String::from_utf8_lossy(option).to_ascii_lowercase();
        match word.as_str() {
            "listening-port" => {
                handshake.listening_port = common::number::parse_i64(value)
                    .and_then(|p| u16::try_from(p).ok())
                    .ok_or(CommandError::NotInteger)?;
            }
            "ip-address" => {
                handshake.ip = Some(String::from_utf8_lossy(value).into_owned());
            }
            "capa" => {
                if value.eq_ignore_ascii_case(b"psync2") {
                    handshake.psync2 = true;
                }
            }
            // A replica's acknowledgements reach its streaming task, not this handler; from any
            // other client they are ignored without a reply, as Redis ignores them.
            "ack" | "fack" | "getack" => return Ok(()),
            "rdb-only" | "rdb-filter-only" => {}
            _ => {
                return Err(CommandError::err(format!(
                    "Unrecognized REPLCONF option: {}",
                    String::from_utf8_lossy(option)
                )));
            }
        }
    }
    ctx.client.handshake = Some(handshake);
    ctx.reply.ok();
    Ok(())
}
