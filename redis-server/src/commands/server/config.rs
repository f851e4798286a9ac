//! CONFIG GET, SET, RESETSTAT, REWRITE and HELP. The directives themselves live in `common::config`;
//! this file applies what a change means to the running server.

use std::sync::atomic::Ordering::Relaxed;

use common::config::{ConfigSetError, RewriteInput, SetContext};

use crate::commands::{CommandContext, CommandError, Registry};
use crate::log::Level;
use crate::server::Server;

pub(super) fn register(r: &mut Registry) {
    r.add_sub("config", "get", config_get);
    r.add_sub("config", "set", config_set);
    r.add_sub("config", "resetstat", config_resetstat);
    r.add_sub("config", "rewrite", config_rewrite);
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
        loading: ctx.server.rdb.loading.load(Relaxed),
    };
    let server = ctx.server;
    let mut config = server.config_mut();
    let mut staged = config.clone();
    let changed = staged.set(&pairs, set_ctx).map_err(set_error)?;
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
    let oom_class = crate::oom::Class::of_server(server.replica.is_replica());
    if changed
        .iter()
        .any(|n| *n == "oom-score-adj" || *n == "oom-score-adj-values")
    {
        if let Err(line) = crate::oom::apply(&staged, oom_class) {
            server.log.warning(&line);
            // Put back the score the old settings give.
            let _ = crate::oom::apply(&config, oom_class);
            let arg = changed
                .iter()
                .find(|n| n.starts_with("oom-score-adj"))
                .copied()
                .unwrap_or("oom-score-adj");
            return Err(set_error(ConfigSetError::Failed {
                arg: arg.to_owned(),
                reason: "Failed to set current oom_score_adj. Check server logs.".into(),
            }));
        }
    }
    if let Err(e) = apply_listeners(server, &config, &staged, &changed) {
        // Undo what already took effect: the oom score the old settings give.
        if changed.iter().any(|n| n.starts_with("oom-score-adj")) {
            let _ = crate::oom::apply(&config, oom_class);
        }
        return Err(e);
    }
    *config = staged;
    server.hot.reload(&config);
    server.evictor.reload(&server.keyspace, &config);
    apply(server, &config, &changed);
    drop(config);
    if changed.contains(&"maxmemory-clients") || changed.contains(&"maxmemory") {
        crate::connection::eviction::recount_and_evict(server);
    }
    ctx.reply.ok();
    Ok(())
}

/// TLS contexts and listening ports, whose change can fail: rebuilt contexts when a
/// directive they read changed and TLS is in use (Redis's `applyTlsCfg`), then the
/// `tls-port` and `port` listeners (`applyTLSPort`, `changeListenPort`), and for `bind`
/// both on their ports again (`applyBind`; on failure the old addresses are bound again).
fn apply_listeners(
    server: &Server,
    current: &common::config::Config,
    staged: &common::config::Config,
    changed: &[&'static str],
) -> Result<(), CommandError> {
    let failed = |arg: &str, reason: &str| {
        set_error(ConfigSetError::Failed {
            arg: arg.to_owned(),
            reason: reason.to_owned(),
        })
    };
    let tls_failed = |arg: &str, e: String| {
        server.log.warning(&e);
        failed(
            arg,
            "Unable to update TLS configuration. Check server logs.",
        )
    };
    let context_change = changed
        .iter()
        .find(|name| crate::tls::CONTEXT_DIRECTIVES.contains(name));
    if let Some(name) = context_change {
        if crate::tls::wanted(staged) {
            server
                .tls
                .configure(staged)
                .map_err(|e| tls_failed(name, e))?;
        }
    }
    for (name, transport) in [
        ("tls-port", crate::server::Transport::Tls),
        ("port", crate::server::Transport::Tcp),
    ] {
        if !changed.contains(&name) {
            continue;
        }
        let port = staged.get_int(name).unwrap_or(0).clamp(0, 65535) as u16;
        if transport == crate::server::Transport::Tls && !server.tls.is_configured() {
            server
                .tls
                .configure(staged)
                .map_err(|e| tls_failed(name, e))?;
        }
        if let Some(rebind) = server.rebind.get() {
            rebind(staged, transport, port).map_err(|reason| failed(name, &reason))?;
        }
        if transport == crate::server::Transport::Tcp {
            server.tcp_port.store(u64::from(port), Relaxed);
        }
    }
    if changed.contains(&"bind")
        && let Some(rebind) = server.rebind.get()
    {
        let ports = [
            ("tls-port", crate::server::Transport::Tls),
            ("port", crate::server::Transport::Tcp),
        ]
        .map(|(name, transport)| {
            (
                transport,
                staged.get_int(name).unwrap_or(0).clamp(0, 65535) as u16,
            )
        });
        for (i, &(transport, port)) in ports.iter().enumerate() {
            if port != 0 && rebind(staged, transport, port).is_err() {
                // Back to the old addresses on every transport rebound so far.
                for &(transport, port) in &ports[..=i] {
                    if port != 0 {
                        let _ = rebind(current, transport, port);
                    }
                }
                return Err(failed("bind", "Failed to bind to specified addresses."));
            }
        }
    }
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
                    crate::persistence::aof::start(server, config);
                } else if !on && server.aof.enabled.load(Relaxed) {
                    crate::persistence::aof::stop(server);
                }
            }
            "lazyfree-lazy-expire" => server
                .keyspace
                .set_lazy_expire(server.hot.lazyfree_lazy_expire.load(Relaxed)),
            "aof-disable-auto-gc" if !config.get_bool("aof-disable-auto-gc").unwrap_or(false) => {
                crate::persistence::aof::auto_gc_enabled(server, config);
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
    server.lazyfree.reset_stats();
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

fn config_rewrite(ctx: &mut CommandContext<'_>) -> Result<(), CommandError> {
    if ctx.server.config_file.is_none() {
        return Err(CommandError::err(
            "The server is running without a config file",
        ));
    }
    match rewrite_config_file(ctx.server, false) {
        Ok(()) => {
            ctx.server
                .log
                .warning("CONFIG REWRITE executed with success.");
            ctx.reply.ok();
            Ok(())
        }
        Err(e) => {
            let reason = strerror(&e);
            ctx.server
                .log
                .warning(&format!("CONFIG REWRITE failed: {reason}"));
            Err(CommandError::err(format!(
                "Rewriting config file: {reason}"
            )))
        }
    }
}

/// Rewrites the config file the server was started with from the current configuration
/// (`force_all`: every directive, even at its default). Without a config file, fails with
/// `ENOENT`.
pub(crate) fn rewrite_config_file(server: &Server, force_all: bool) -> std::io::Result<()> {
    let Some(path) = server.config_file.as_deref() else {
        return Err(std::io::Error::from_raw_os_error(libc::ENOENT));
    };
    let old = match std::fs::read(path) {
        Ok(text) => text,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Vec::new(),
        Err(e) => return Err(e),
    };
    let config = server.config().clone();
    // With an aclfile the users live there; otherwise they are `user` lines, as ACL LIST
    // describes them.
    let users: Option<Vec<Vec<u8>>> =
        config
            .get_str("aclfile")
            .is_none_or(str::is_empty)
            .then(|| {
                server
                    .acl
                    .users()
                    .iter()
                    .map(|u| [&u.name[..], b" ", &u.describe()].concat())
                    .collect()
            });
    let input = RewriteInput {
        users: users.as_deref(),
        sentinel_mode: false,
        force_all,
    };
    let content = common::config::rewrite(&old, &config, &input);
    overwrite_atomically(std::path::Path::new(path), &content)
}

/// Replaces `path` with `content` as Redis does: a temporary file beside it, written and
/// fsynced, renamed over it, then the directory fsynced.
fn overwrite_atomically(path: &std::path::Path, content: &[u8]) -> std::io::Result<()> {
    use std::io::Write;
    use std::os::unix::fs::OpenOptionsExt;
    let mut name = path.as_os_str().to_owned();
    name.push(format!(".{}", random_suffix()));
    let tmp = std::path::PathBuf::from(name);
    let written = (|| {
        let mut file = std::fs::OpenOptions::new()
            .write(true)
            .create_new(true)
            .mode(0o644)
            .open(&tmp)?;
        file.write_all(content)?;
        file.sync_all()?;
        std::fs::rename(&tmp, path)?;
        if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
            std::fs::File::open(dir)?.sync_all()?;
        }
        Ok(())
    })();
    if written.is_err() {
        let _ = std::fs::remove_file(&tmp);
    }
    written
}

/// Six characters for a temporary file name, as `mkstemp`'s `XXXXXX`.
fn random_suffix() -> String {
    const CHARS: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";
    let mut seed = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_nanos() as u64)
        ^ u64::from(std::process::id()) << 32;
    (0..6)
        .map(|_| {
            seed = seed
                .wrapping_mul(6364136223846793005)
                .wrapping_add(1442695040888963407);
            char::from(CHARS[(seed >> 33) as usize % CHARS.len()])
        })
        .collect()
}

/// An I/O error as C's `strerror` writes it (Rust appends " (os error N)").
fn strerror(e: &std::io::Error) -> String {
    let text = e.to_string();
    match text.rfind(" (os error ") {
        Some(i) => text[..i].to_owned(),
        None => text,
    }
}

fn config_help(ctx: &mut CommandContext<'_>) -> Result<(), CommandError> {
    crate::commands::reply_help(
        ctx,
        &[
            "GET <pattern>",
            "    Return parameters matching the glob-like <pattern> and their values.",
            "SET <directive> <value>",
            "    Set the configuration <directive> to <value>.",
            "RESETSTAT",
            "    Reset statistics reported by the INFO command.",
            "REWRITE",
            "    Rewrite the configuration file.",
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
        // The test server has no listeners to rebind: the new addresses are just kept.
        assert_eq!(c.text(&["CONFIG", "SET", "bind", "127.0.0.2"]), "+OK\r\n");
        let info = c.text(&["INFO", "errorstats"]);
        assert!(info.contains("errorstat_ERR:count=7\r\n"), "{info}");
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
    fn rewrite_needs_a_config_file() {
        let mut c = TestClient::new();
        assert_eq!(
            c.text(&["CONFIG", "REWRITE"]),
            "-ERR The server is running without a config file\r\n"
        );
        assert_eq!(
            c.text(&["CONFIG", "REWRITE", "x"]),
            "-ERR wrong number of arguments for 'config|rewrite' command\r\n"
        );
    }

    #[test]
    fn help_lists_the_subcommands() {
        let mut c = TestClient::new();
        let help = c.text(&["CONFIG", "HELP"]);
        assert!(help.starts_with(
            "*11\r\n+CONFIG <subcommand> [<arg> [value] [opt] ...]. Subcommands are:\r\n+GET <pattern>\r\n"
        ));
        assert!(help.ends_with("+HELP\r\n+    Prints this help.\r\n"));
    }

    #[test]
    fn tls_directives_apply_only_when_tls_is_in_use() {
        let mut c = TestClient::new();
        // Without tls-port, tls-replication or tls-cluster nothing is loaded (Redis's
        // applyTlsCfg), so any path is accepted.
        assert_eq!(
            c.text(&["CONFIG", "SET", "tls-cert-file", "/nonexistent.crt"]),
            "+OK\r\n"
        );
        assert_eq!(
            c.text(&["CONFIG", "GET", "tls-cert-file"]),
            "*2\r\n$13\r\ntls-cert-file\r\n$16\r\n/nonexistent.crt\r\n"
        );
        assert_eq!(
            c.text(&["CONFIG", "SET", "tls-port", "6390"]),
            "-ERR CONFIG SET failed (possibly related to argument 'tls-port') - Unable to update TLS configuration. Check server logs.\r\n"
        );
        assert_eq!(
            c.text(&["CONFIG", "GET", "tls-port"]),
            "*2\r\n$8\r\ntls-port\r\n$1\r\n0\r\n"
        );
        assert_eq!(
            c.text(&["CONFIG", "SET", "tls-auth-clients", "optional"]),
            "+OK\r\n"
        );
    }
}
