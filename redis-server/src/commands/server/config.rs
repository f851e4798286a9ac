//! CONFIG GET, SET, RESETSTAT and HELP. The directives themselves live in `common::config`;
//! this file applies what a change means to the running server.

use std::sync::atomic::Ordering::Relaxed;

use common::config::{ConfigSetError, SetContext};

use crate::commands::{CommandContext, CommandError, Registry};
use crate::log::Level;
use crate::server::Server;

pub(super) fn register(r: &mut Registry) {
    r.add_sub("config", "get", config_get);
    r.add_sub("config", "set", config_set);
    r.add_sub("config", "resetstat", config_resetstat);
    r.add_sub("config", "help", config_help);
}

fn config_get(ctx: &mut CommandContext<'_>) -> Result<(), CommandError> {
    let patterns: Vec<&[u8]> = ctx.args.rest().collect();
    let found = ctx.server.config().get(&patterns);
    ctx.reply.map(found.len());
    for (name, value) in found {
        ctx.reply.bulk(name.as_bytes());
        ctx.reply.bulk(value.as_bytes());
    }
    Ok(())
}

/// Directives whose change needs the server to rebind its listeners, which it cannot do
/// while running yet.
const RESTART_ONLY: &[&str] = &["port", "bind"];

fn is_local(ctx: &CommandContext<'_>) -> bool {
    let info = &ctx.client.info;
    info.is_unix || info.addr.starts_with("127.") || info.addr.starts_with("[::1]:")
}

fn config_set(ctx: &mut CommandContext<'_>) -> Result<(), CommandError> {
    if ctx.args.remaining() % 2 == 1 {
        return Err(CommandError::Syntax);
    }
    let mut pairs: Vec<(&[u8], &[u8])> = Vec::with_capacity(ctx.args.remaining() / 2);
    while let (Some(name), Some(value)) = (ctx.args.next_opt(), ctx.args.next_opt()) {
        pairs.push((name, value));
    }
    let set_ctx = SetContext {
        local_client: is_local(ctx),
        loading: false,
    };
    let server = ctx.server;
    let mut config = server.config_mut();
    let mut staged = config.clone();
    let changed = staged.set(&pairs, set_ctx).map_err(set_error)?;
    for name in &changed {
        if RESTART_ONLY.contains(name) {
            return Err(set_error(ConfigSetError::Failed {
                arg: (*name).to_owned(),
                reason: "changing it at run time is not supported by this server yet".into(),
            }));
        }
    }
    // Changes with a side effect that can fail go first, so that a failure leaves nothing
    // changed.
    if changed.contains(&"maxclients") {
        let wanted = staged.get_int("maxclients").unwrap_or(0).max(0) as u64;
        ensure_open_files(wanted).map_err(|reason| {
            set_error(ConfigSetError::Failed {
                arg: "maxclients".into(),
                reason,
            })
        })?;
    }
    if changed.contains(&"dir") {
        std::env::set_current_dir(staged.dir()).map_err(|e| {
            set_error(ConfigSetError::Failed {
                arg: "dir".into(),
                reason: e.to_string(),
            })
        })?;
    }
    *config = staged;
    server.hot.reload(&config);
    server.evictor.reload(&server.keyspace, &config);
    apply(server, &config, &changed);
    drop(config);
    ctx.reply.ok();
    Ok(())
}

/// What a changed directive means beyond the hot values.
fn apply(server: &Server, config: &common::config::Config, changed: &[&'static str]) {
    for name in changed {
        match *name {
            "loglevel" => server.log.set_level(Level::from_name(
                config.get_str("loglevel").unwrap_or("notice"),
            )),
            "slowlog-max-len" => server
                .slowlog
                .truncate(server.hot.slowlog_max_len.load(Relaxed) as usize),
            "notify-keyspace-events" => server
                .keyspace
                .set_record_created(crate::notify::wants(server, crate::effects::Event::New)),
            "requirepass" => server.acl.sync_requirepass(config),
            "appendonly" => {
                let on = config.get_bool("appendonly").unwrap_or(false);
                if on && !server.aof.enabled.load(Relaxed) {
                    crate::persistence::aof::start(server);
                } else if !on && server.aof.enabled.load(Relaxed) {
                    crate::persistence::aof::stop(server);
                }
            }
            "aof-timestamp-enabled" => crate::persistence::aof::set_timestamps(
                server,
                config.get_bool("aof-timestamp-enabled").unwrap_or(false),
            ),
            "acllog-max-len" => server.acl.trim_log(
                usize::try_from(config.get_int("acllog-max-len").unwrap_or(128)).unwrap_or(0),
            ),
            _ => {}
        }
    }
}

/// Redis keeps 32 descriptors beyond `maxclients` for its own files and sockets.
const RESERVED_FDS: u64 = 32;

/// Raises the open files limit so that `maxclients` clients fit, as Redis does when
/// `maxclients` grows; the error names the most clients the system allows.
fn ensure_open_files(maxclients: u64) -> Result<(), String> {
    let needed = maxclients.saturating_add(RESERVED_FDS);
    let mut limit = libc::rlimit {
        rlim_cur: 0,
        rlim_max: 0,
    };
    // SAFETY: `limit` is a valid, writable rlimit.
    if unsafe { libc::getrlimit(libc::RLIMIT_NOFILE, &mut limit) } != 0 {
        return Ok(());
    }
    if limit.rlim_cur >= needed {
        return Ok(());
    }
    let raised = libc::rlimit {
        rlim_cur: needed as libc::rlim_t,
        rlim_max: limit.rlim_max.max(needed as libc::rlim_t),
    };
    // SAFETY: `raised` is a valid rlimit; setrlimit only reads it.
    if unsafe { libc::setrlimit(libc::RLIMIT_NOFILE, &raised) } == 0 {
        return Ok(());
    }
    Err(format!(
        "The operating system is not able to handle the specified number of clients, try with {}",
        limit.rlim_cur.saturating_sub(RESERVED_FDS)
    ))
}

fn set_error(e: ConfigSetError) -> CommandError {
    // The text carries its own prefix (`ERR ...`, `LOADING ...`).
    let text = e.to_string();
    match text.split_once(' ') {
        Some(("ERR", rest)) => CommandError::err(rest),
        Some(("LOADING", rest)) => CommandError::Prefixed("LOADING", rest.to_owned()),
        _ => CommandError::err(text),
    }
}

fn config_resetstat(ctx: &mut CommandContext<'_>) -> Result<(), CommandError> {
    let server = ctx.server;
    server.stats.reset();
    server.evictor.reset_stats();
    for entry in server.registry.entries() {
        entry.reset_stats();
    }
    for db in 0..server.keyspace.databases() {
        ctx.db
            .for_each_shard(db, |shard| shard.reset_lookup_stats());
    }
    ctx.reply.ok();
    Ok(())
}

fn config_help(ctx: &mut CommandContext<'_>) -> Result<(), CommandError> {
    // Redis also lists REWRITE, which this server does not have yet.
    crate::commands::reply_help(
        ctx,
        &[
            "GET <pattern>",
            "    Return parameters matching the glob-like <pattern> and their values.",
            "SET <directive> <value>",
            "    Set the configuration <directive> to <value>.",
            "RESETSTAT",
            "    Reset statistics reported by the INFO command.",
        ],
    );
    Ok(())
}

#[cfg(test)]
mod tests {
    use crate::commands::testkit::TestClient;

    #[test]
    fn get_one_or_several_patterns() {
        let mut c = TestClient::new();
        assert_eq!(
            c.text(&["CONFIG", "GET", "maxmemory", "hz"]),
            "*4\r\n$9\r\nmaxmemory\r\n$1\r\n0\r\n$2\r\nhz\r\n$2\r\n10\r\n"
        );
        assert_eq!(c.text(&["CONFIG", "GET", "nope", "nope2"]), "*0\r\n");
        assert_eq!(c.text(&["CONFIG", "GET", "max*-ziplist*"]), "*0\r\n");
        assert_eq!(
            c.text(&["CONFIG", "GET"]),
            "-ERR wrong number of arguments for 'config|get' command\r\n"
        );
        let slowlog = c.text(&["CONFIG", "GET", "slowlog-*"]);
        assert!(slowlog.starts_with("*4\r\n"), "{slowlog}");
        c.client.set_protocol(common::resp::Protocol::Resp3);
        assert_eq!(
            c.text(&["CONFIG", "GET", "hz"]),
            "%1\r\n$2\r\nhz\r\n$2\r\n10\r\n"
        );
    }

    #[test]
    fn set_round_trips() {
        let mut c = TestClient::new();
        assert_eq!(
            c.text(&["CONFIG", "SET", "proto-max-bulk-len", "2mb", "hz", "20"]),
            "+OK\r\n"
        );
        assert_eq!(
            c.text(&["CONFIG", "GET", "proto-max-bulk-len"]),
            "*2\r\n$18\r\nproto-max-bulk-len\r\n$7\r\n2097152\r\n"
        );
        assert_eq!(
            c.server.hot.hz.load(std::sync::atomic::Ordering::Relaxed),
            20
        );
        assert_eq!(
            c.text(&["CONFIG", "SET", "slowlog-max-len", "5"]),
            "+OK\r\n"
        );
        assert_eq!(
            c.server
                .hot
                .slowlog_max_len
                .load(std::sync::atomic::Ordering::Relaxed),
            5
        );
        assert_eq!(c.text(&["CONFIG", "SET", "loglevel", "debug"]), "+OK\r\n");
        assert!(c.server.log.enabled(crate::log::Level::Debug));
        assert_eq!(c.text(&["config", "set", "port", "6379"]), "+OK\r\n");
    }

    #[test]
    fn set_errors_match_redis() {
        let mut c = TestClient::new();
        assert_eq!(
            c.text(&["CONFIG", "SET", "a", "b", "c"]),
            "-ERR syntax error\r\n"
        );
        assert_eq!(
            c.text(&["CONFIG", "SET", "port"]),
            "-ERR wrong number of arguments for 'config|set' command\r\n"
        );
        assert_eq!(
            c.text(&["CONFIG", "SET", "foo", "bar"]),
            "-ERR Unknown option or number of arguments for CONFIG SET - 'foo'\r\n"
        );
        assert_eq!(
            c.text(&["CONFIG", "SET", "maxmemory", "abc"]),
            "-ERR CONFIG SET failed (possibly related to argument 'maxmemory') - argument must be a memory value\r\n"
        );
        assert_eq!(
            c.text(&["CONFIG", "SET", "maxmemory", "1", "maxmemory", "2"]),
            "-ERR CONFIG SET failed (possibly related to argument 'maxmemory') - duplicate parameter\r\n"
        );
        assert_eq!(
            c.text(&["CONFIG", "SET", "hz", "20", "loglevel", "bad"]),
            "-ERR CONFIG SET failed (possibly related to argument 'loglevel') - argument(s) must be one of the following: debug, verbose, notice, warning\r\n"
        );
        // All or nothing: the valid hz of the failed call was not applied.
        assert_eq!(
            c.text(&["CONFIG", "GET", "hz"]),
            "*2\r\n$2\r\nhz\r\n$2\r\n10\r\n"
        );
        assert_eq!(
            c.text(&["CONFIG", "SET", "daemonize", "yes"]),
            "-ERR CONFIG SET failed (possibly related to argument 'daemonize') - can't set immutable config\r\n"
        );
        assert_eq!(
            c.text(&["CONFIG", "SET", "port", "1"]),
            "-ERR CONFIG SET failed (possibly related to argument 'port') - changing it at run time is not supported by this server yet\r\n"
        );
        let info = c.text(&["INFO", "errorstats"]);
        assert!(info.contains("errorstat_ERR:count=8\r\n"), "{info}");
    }

    #[test]
    fn resetstat_zeroes_stats_but_not_the_slowlog() {
        let mut c = TestClient::with_config(&[("slowlog-log-slower-than", "0")]);
        c.run(&["PING"]);
        c.run(&["NOSUCH"]);
        assert_eq!(c.text(&["CONFIG", "RESETSTAT"]), "+OK\r\n");
        let info = c.text(&["INFO", "stats", "commandstats", "errorstats"]);
        assert!(info.contains("total_error_replies:0\r\n"));
        // Only CONFIG RESETSTAT itself was counted since.
        assert!(info.contains("total_commands_processed:1\r\n"), "{info}");
        assert!(!info.contains("cmdstat_ping"));
        assert!(info.contains("cmdstat_config|resetstat:calls=1,"));
        assert!(!info.contains("errorstat_ERR"));
        assert_ne!(c.text(&["SLOWLOG", "LEN"]), ":0\r\n");
        assert_eq!(
            c.text(&["CONFIG", "RESETSTAT", "x"]),
            "-ERR wrong number of arguments for 'config|resetstat' command\r\n"
        );
    }

    #[test]
    fn help_lists_the_subcommands() {
        let mut c = TestClient::new();
        let help = c.text(&["CONFIG", "HELP"]);
        assert!(help.starts_with(
            "*9\r\n+CONFIG <subcommand> [<arg> [value] [opt] ...]. Subcommands are:\r\n+GET <pattern>\r\n"
        ));
        assert!(help.ends_with("+HELP\r\n+    Prints this help.\r\n"));
    }
}
