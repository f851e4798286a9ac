//! SYNC, PSYNC and REPLCONF: a connection asking to become a replica of this server. The
//! streaming itself is `crate::replication::master`'s.

use crate::commands::{CommandContext, CommandError, Locking, Registry};
use crate::replication::master::{self, SyncRequest};
use crate::replication::replica;

pub(super) fn register(r: &mut Registry) {
    r.add_with("sync", sync, Locking::Exclusive);
    r.add_with("psync", psync, Locking::Exclusive);
    r.add("replconf", replconf);
    r.add("replicaof", replicaof);
    r.add("slaveof", replicaof);
    r.add("role", role);
}

/// REPLICAOF host port / REPLICAOF NO ONE (and the older SLAVEOF).
fn replicaof(ctx: &mut CommandContext<'_>) -> Result<(), CommandError> {
    let host = ctx.args.next_bytes()?;
    let port = ctx.args.next_bytes()?;
    if ctx.client.replica_start.is_some() {
        return Err(CommandError::err(
            "Command is not valid when client is a replica.",
        ));
    }
    let who = format!("id={} addr={}", ctx.client.id(), ctx.client.info.addr);
    if host.eq_ignore_ascii_case(b"no") && port.eq_ignore_ascii_case(b"one") {
        replica::unset_master(ctx.server, &who);
        ctx.reply.ok();
        return Ok(());
    }
    let port = common::number::parse_i64(port).ok_or(CommandError::NotInteger)?;
    let host = String::from_utf8_lossy(host);
    match replica::set_master(ctx.server, &host, port, &who) {
        replica::SetMaster::Changed => ctx.reply.ok(),
        replica::SetMaster::AlreadyConnected => {
            ctx.server
                .log
                .notice("REPLICAOF would result into synchronization with the master we are already connected with. No operation performed.");
            ctx.reply
                .simple(b"OK Already connected to specified master");
        }
    }
    Ok(())
}

fn role(ctx: &mut CommandContext<'_>) -> Result<(), CommandError> {
    replica::role(ctx.server, ctx.reply);
    Ok(())
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
    // A replica serves replicas of its own only while its link is up.
    if ctx.server.replica.is_replica() && !ctx.server.replica.link_up() {
        return Err(CommandError::Prefixed(
            "NOMASTERLINK",
            "Can't SYNC while not connected with my master".into(),
        ));
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
                } else if value.eq_ignore_ascii_case(b"eof") {
                    handshake.eof = true;
                }
            }
            // A replica's acknowledgements reach its streaming task, not this handler; from any
            // other client they are ignored without a reply, as Redis ignores them.
            "ack" | "fack" | "getack" => return Ok(()),
            "rdb-only" => match common::number::parse_i64(value) {
                Some(0) => handshake.rdb_only = false,
                Some(1) => handshake.rdb_only = true,
                None => return Err(CommandError::NotInteger),
                Some(_) => {
                    return Err(CommandError::err(
                        "value is out of range, must be between 0 and 1",
                    ));
                }
            },
            // Include filters: none (an empty string) leaves an empty file; only `functions`
            // exists.
            "rdb-filter-only" => {
                let mut functions = false;
                for filter in value
                    .split(u8::is_ascii_whitespace)
                    .filter(|f| !f.is_empty())
                {
                    if filter.eq_ignore_ascii_case(b"functions") {
                        functions = true;
                    } else {
                        return Err(CommandError::err(format!(
                            "Unsupported rdb-filter-only option: {}",
                            String::from_utf8_lossy(filter)
                        )));
                    }
                }
                handshake.without_data = Some(functions);
            }
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

#[cfg(test)]
mod tests {
    use crate::commands::testkit::TestClient;

    #[test]
    fn replicaof_role_and_readonly() {
        let mut c = TestClient::new();
        assert!(
            c.text(&["ROLE"])
                .starts_with("*3\r\n$6\r\nmaster\r\n:0\r\n*0\r\n")
        );
        assert_eq!(
            c.text(&["REPLICAOF", "127.0.0.1", "x"]),
            "-ERR value is not an integer or out of range\r\n"
        );
        assert_eq!(c.text(&["REPLICAOF", "127.0.0.1", "1"]), "+OK\r\n");
        assert_eq!(
            c.text(&["SLAVEOF", "127.0.0.1", "1"]),
            "+OK Already connected to specified master\r\n"
        );
        assert_eq!(
            c.text(&["ROLE"]),
            "*5\r\n$5\r\nslave\r\n$9\r\n127.0.0.1\r\n:1\r\n$7\r\nconnect\r\n:-1\r\n"
        );
        assert_eq!(
            c.text(&["SET", "k", "v"]),
            "-READONLY You can't write against a read only replica.\r\n"
        );
        assert_eq!(c.text(&["GET", "k"]), "$-1\r\n");
        assert_eq!(c.text(&["REPLICAOF", "no", "one"]), "+OK\r\n");
        assert_eq!(c.text(&["SET", "k", "v"]), "+OK\r\n");
    }

    #[test]
    fn a_transaction_that_demotes_is_not_propagated() {
        let mut c = TestClient::new();
        c.start_stream();
        c.run(&["SET", "foo", "bar"]);
        c.run(&["MULTI"]);
        c.run(&["SET", "foo2", "bar"]);
        c.run(&["REPLICAOF", "localhost", "9999"]);
        c.run(&["SET", "foo3", "bar"]);
        c.run(&["EXEC"]);
        assert_eq!(
            c.text(&["SET", "foo4", "bar"]),
            "-READONLY You can't write against a read only replica.\r\n"
        );
        let stream: Vec<String> = c
            .stream()
            .into_iter()
            .filter(|l| !l.starts_with("SELECT"))
            .collect();
        assert_eq!(stream, ["SET foo bar"]);
        assert_eq!(c.text(&["REPLICAOF", "NO", "ONE"]), "+OK\r\n");
    }
}
