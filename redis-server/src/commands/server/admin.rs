//! TIME, LASTSAVE, MONITOR and SHUTDOWN.

use std::sync::atomic::Ordering::Relaxed;

use crate::commands::{CommandContext, CommandError, Locking, Registry};
use crate::connection::ClientKind;
use crate::server::unix_us;

pub(super) fn register(r: &mut Registry) {
    r.add("time", time);
    r.add("lastsave", lastsave);
    r.add("monitor", monitor);
    // Exclusive: the final save copies the whole keyspace.
    r.add_with("shutdown", shutdown, Locking::Exclusive);
}

fn time(ctx: &mut CommandContext<'_>) -> Result<(), CommandError> {
    let us = unix_us();
    ctx.reply.array(2);
    ctx.reply.bulk_i64(us / 1_000_000);
    ctx.reply.bulk_i64(us % 1_000_000);
    Ok(())
}

fn lastsave(ctx: &mut CommandContext<'_>) -> Result<(), CommandError> {
    ctx.reply.integer(ctx.server.lastsave_unix.load(Relaxed));
    Ok(())
}

fn monitor(ctx: &mut CommandContext<'_>) -> Result<(), CommandError> {
    // A client already in MONITOR mode gets no reply at all, as in Redis.
    if ctx.client.is_monitor {
        return Ok(());
    }
    ctx.client.is_monitor = true;
    ctx.client.info.details().kind = ClientKind::Monitor;
    ctx.server.add_monitor(ctx.client.info.clone());
    ctx.reply.ok();
    Ok(())
}

/// What SHUTDOWN was asked to do about saving.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum SaveMode {
    /// Save if save points are configured.
    Default,
    Save,
    NoSave,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct ShutdownOptions {
    save: SaveMode,
    /// NOW (skip waiting for replicas) has nothing to skip here: there are no replicas.
    now: bool,
    force: bool,
    abort: bool,
}

impl ShutdownOptions {
    fn parse<'a>(args: impl Iterator<Item = &'a [u8]>) -> Result<Self, CommandError> {
        let mut opts = ShutdownOptions {
            save: SaveMode::Default,
            now: false,
            force: false,
            abort: false,
        };
        let (mut save, mut nosave) = (false, false);
        for arg in args {
            if arg.eq_ignore_ascii_case(b"nosave") {
                nosave = true;
            } else if arg.eq_ignore_ascii_case(b"save") {
                save = true;
            } else if arg.eq_ignore_ascii_case(b"now") {
                opts.now = true;
            } else if arg.eq_ignore_ascii_case(b"force") {
                opts.force = true;
            } else if arg.eq_ignore_ascii_case(b"abort") {
                opts.abort = true;
            } else {
                return Err(CommandError::Syntax);
            }
        }
        let any_flag = save || nosave || opts.now || opts.force;
        if (opts.abort && any_flag) || (save && nosave) {
            return Err(CommandError::Syntax);
        }
        opts.save = match (save, nosave) {
            (true, _) => SaveMode::Save,
            (_, true) => SaveMode::NoSave,
            _ => SaveMode::Default,
        };
        Ok(opts)
    }
}

fn shutdown(ctx: &mut CommandContext<'_>) -> Result<(), CommandError> {
    let opts = ShutdownOptions::parse(ctx.args.rest())?;
    let server = ctx.server;
    if opts.abort {
        // A shutdown here never waits for replicas, so the only one to take back is one a
        // signal asked for and the cron has not carried out yet.
        if !server.shutdown_asap.swap(false, Relaxed) {
            return Err(CommandError::err("No shutdown in progress."));
        }
        server.log.notice("Shutdown manually aborted.");
        ctx.reply.ok();
        return Ok(());
    }
    if server.rdb.loading.load(Relaxed) {
        // Never a save of a half-loaded dataset: out at once, as Redis does.
        crate::persistence::rdb::exit_while_loading(server);
    }
    let save_points = !server.config().save_params().is_empty();
    let wants_save = opts.save == SaveMode::Save || (opts.save == SaveMode::Default && save_points);
    crate::persistence::rdb::kill_bgsave(server);
    if wants_save && opts.save != SaveMode::NoSave {
        server
            .log
            .notice("Saving the final RDB snapshot before exiting.");
        if crate::persistence::rdb::save(server, &mut ctx.db).is_err() {
            if !opts.force {
                server
                    .log
                    .warning("Error trying to save the DB, can't exit.");
                return Err(CommandError::err("Errors trying to SHUTDOWN. Check logs."));
            }
            server
                .log
                .warning("Error trying to save the DB. Exit anyway.");
        }
    }
    server.rdb.final_save_done.store(true, Relaxed);
    // The client gets no reply: its connection closes with the server.
    ctx.client.close_after_reply = true;
    server.request_shutdown();
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::commands::testkit::TestClient;

    #[test]
    fn time_is_seconds_and_microseconds() {
        let mut c = TestClient::new();
        let reply = c.text(&["TIME"]);
        let parts: Vec<&str> = reply.split("\r\n").collect();
        assert_eq!(parts[0], "*2");
        let secs: i64 = parts[2].parse().unwrap();
        let micros: i64 = parts[4].parse().unwrap();
        assert!((secs - crate::server::unix_ms() / 1000).abs() <= 1);
        assert!((0..1_000_000).contains(&micros));
        assert_eq!(
            c.text(&["TIME", "x"]),
            "-ERR wrong number of arguments for 'time' command\r\n"
        );
    }

    #[test]
    fn lastsave_is_the_start_time() {
        let mut c = TestClient::new();
        let started = c.server.started_unix_ms / 1000;
        assert_eq!(c.text(&["LASTSAVE"]), format!(":{started}\r\n"));
    }

    #[test]
    fn monitor_streams_commands_and_ignores_a_second_call() {
        let server = TestClient::new().server;
        let mut watcher = TestClient::connect(&server);
        let (info, mut lines) = crate::connection::ClientInfo::new(
            watcher.client.info.id,
            watcher.client.info.addr.clone(),
            watcher.client.info.laddr.clone(),
            -1,
            false,
        );
        watcher.client.info = info;
        assert_eq!(watcher.text(&["MONITOR"]), "+OK\r\n");
        assert_eq!(watcher.text(&["MONITOR"]), "");
        assert_eq!(watcher.client.info.details().kind, ClientKind::Monitor);
        let mut other = TestClient::connect(&server);
        other.run(&["PING", "a b\"\x01"]);
        other.run(&["CONFIG", "GET", "hz"]);
        other.run(&["ECHO", "x"]);
        let line = String::from_utf8(lines.try_recv().unwrap()).unwrap();
        assert!(line.starts_with('+'));
        assert!(
            line.ends_with(&format!(
                " [0 {}] \"PING\" \"a b\\\"\\x01\"\r\n",
                other.client.info.addr
            )),
            "{line}"
        );
        // CONFIG is an admin command: never shown.
        let echo = String::from_utf8(lines.try_recv().unwrap()).unwrap();
        assert!(echo.ends_with("] \"ECHO\" \"x\"\r\n"), "{echo}");
        assert!(lines.try_recv().is_err());
    }

    #[test]
    fn shutdown_abort_takes_back_a_signalled_shutdown() {
        let mut c = TestClient::new();
        assert_eq!(
            c.text(&["SHUTDOWN", "ABORT"]),
            "-ERR No shutdown in progress.\r\n"
        );
        c.server.shutdown_asap.store(true, Relaxed);
        assert_eq!(c.text(&["SHUTDOWN", "ABORT"]), "+OK\r\n");
        assert!(!c.server.shutdown_asap.load(Relaxed));
        assert!(!c.server.shutting_down.load(Relaxed));
    }

    #[test]
    fn shutdown_options() {
        let parse = |args: &[&str]| ShutdownOptions::parse(args.iter().map(|a| a.as_bytes()));
        assert_eq!(parse(&["nosave", "NOW"]).unwrap().save, SaveMode::NoSave);
        assert_eq!(parse(&["SAVE", "force"]).unwrap().save, SaveMode::Save);
        assert!(parse(&["abort"]).unwrap().abort);
        for bad in [
            &["foo"][..],
            &["save", "nosave"],
            &["abort", "now"],
            &["nosave", "abort"],
        ] {
            assert_eq!(parse(bad), Err(CommandError::Syntax));
        }
    }

    #[test]
    fn shutdown_errors_match_redis() {
        let mut c = TestClient::new();
        assert_eq!(
            c.text(&["SHUTDOWN", "ABORT"]),
            "-ERR No shutdown in progress.\r\n"
        );
        assert_eq!(c.text(&["SHUTDOWN", "foo"]), "-ERR syntax error\r\n");
        assert!(!*c.server.shutdown.borrow());
    }

    #[test]
    fn shutdown_stops_the_server_without_a_reply() {
        let mut c = TestClient::new();
        assert_eq!(c.text(&["SHUTDOWN", "NOSAVE"]), "");
        assert!(*c.server.shutdown.borrow());
        assert!(c.client.close_after_reply);

        // With save points, a plain SHUTDOWN saves first.
        let file = format!("test-shutdown-{}.rdb", std::process::id());
        let mut c = TestClient::with_config(&[("save", "3600 1"), ("dbfilename", &file)]);
        c.run(&["SET", "k", "v"]);
        assert_eq!(c.text(&["SHUTDOWN"]), "");
        assert!(*c.server.shutdown.borrow());
        let saved = std::fs::read(&file).unwrap();
        std::fs::remove_file(&file).unwrap();
        assert_eq!(&saved[..9], b"REDIS0010");
        let mut c = TestClient::with_config(&[("dbfilename", &file)]);
        assert_eq!(c.text(&["SHUTDOWN", "SAVE", "FORCE"]), "");
        assert!(*c.server.shutdown.borrow());
        std::fs::remove_file(&file).unwrap();
    }
}
