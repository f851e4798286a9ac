//! SLOWLOG GET, LEN, RESET and HELP. Dispatch records the entries (`crate::slowlog`).

use common::number::parse_i64;

use crate::commands::reply_help;
use crate::commands::{CommandContext, CommandError, Registry};

pub(super) fn register(r: &mut Registry) {
    r.add_sub("slowlog", "get", slowlog_get);
    r.add_sub("slowlog", "len", slowlog_len);
    r.add_sub("slowlog", "reset", slowlog_reset);
    r.add_sub("slowlog", "help", slowlog_help);
}

/// Entries SLOWLOG GET returns without a count.
const DEFAULT_COUNT: usize = 10;

fn slowlog_get(ctx: &mut CommandContext<'_>) -> Result<(), CommandError> {
    if ctx.args.remaining() > 1 {
        return Err(CommandError::err(
            "unknown subcommand or wrong number of arguments for 'get'. Try SLOWLOG HELP.",
        ));
    }
    let count = match ctx.args.next_opt() {
        None => Some(DEFAULT_COUNT),
        Some(arg) => match parse_i64(arg) {
            Some(-1) => None,
            Some(n) if n >= 0 => Some(usize::try_from(n).unwrap_or(usize::MAX)),
            _ => {
                return Err(CommandError::err(
                    "count should be greater than or equal to -1",
                ));
            }
        },
    };
    let entries = ctx.server.slowlog.newest(count);
    ctx.reply.array(entries.len());
    for entry in entries {
        ctx.reply.array(6);
        ctx.reply.integer(entry.id as i64);
        ctx.reply.integer(entry.unix_time);
        ctx.reply.integer(entry.duration_us as i64);
        ctx.reply.array(entry.args.len());
        for arg in &entry.args {
            ctx.reply.bulk(arg);
        }
        ctx.reply.bulk(entry.client_addr.as_bytes());
        ctx.reply.bulk(entry.client_name.as_bytes());
    }
    Ok(())
}

fn slowlog_len(ctx: &mut CommandContext<'_>) -> Result<(), CommandError> {
    ctx.reply.integer(ctx.server.slowlog.len() as i64);
    Ok(())
}

fn slowlog_reset(ctx: &mut CommandContext<'_>) -> Result<(), CommandError> {
    ctx.server.slowlog.reset();
    ctx.reply.ok();
    Ok(())
}

fn slowlog_help(ctx: &mut CommandContext<'_>) -> Result<(), CommandError> {
    reply_help(
        ctx,
        &[
            "GET [<count>]",
            "    Return top <count> entries from the slowlog (default: 10, -1 mean all).",
            "    Entries are made of:",
            "    id, timestamp, time in microseconds, arguments array, client IP and port,",
            "    client name",
            "LEN",
            "    Return the length of the slowlog.",
            "RESET",
            "    Reset the slowlog.",
        ],
    );
    Ok(())
}

#[cfg(test)]
mod tests {
    use crate::commands::testkit::TestClient;

    fn logging_everything() -> TestClient {
        TestClient::with_config(&[("slowlog-log-slower-than", "0")])
    }

    #[test]
    fn get_returns_newest_first_in_redis_shape() {
        let mut c = logging_everything();
        c.client.info.details().name = Some(b"me".to_vec());
        c.run(&["PING", "hello"]);
        let reply = c.text(&["SLOWLOG", "GET", "1"]);
        // id, time, duration, args, peer, name.
        let parts: Vec<&str> = reply.split("\r\n").collect();
        assert_eq!(parts[0], "*1");
        assert_eq!(parts[1], "*6");
        assert_eq!(parts[2], ":0");
        assert!(parts[3].starts_with(':') && parts[4].starts_with(':'));
        assert_eq!(
            &parts[5..],
            [
                "*2",
                "$4",
                "PING",
                "$5",
                "hello",
                "$15",
                "127.0.0.1:40001",
                "$2",
                "me",
                ""
            ]
        );
        // The SLOWLOG GET above is entry 1 now; -1 means every entry.
        assert!(
            c.text(&["SLOWLOG", "GET", "-1"])
                .starts_with("*2\r\n*6\r\n:1\r\n")
        );
        assert!(c.text(&["SLOWLOG", "GET"]).starts_with("*3\r\n"));
        assert!(c.text(&["SLOWLOG", "GET", "0"]).starts_with("*0\r\n"));
    }

    #[test]
    fn len_and_reset() {
        let mut c = logging_everything();
        c.run(&["PING"]);
        assert_eq!(c.text(&["SLOWLOG", "LEN"]), ":1\r\n");
        assert_eq!(c.text(&["SLOWLOG", "RESET"]), "+OK\r\n");
        // SLOWLOG RESET itself is logged after it ran.
        assert_eq!(c.text(&["SLOWLOG", "LEN"]), ":1\r\n");
        // Ids keep growing across a reset.
        assert!(
            c.text(&["SLOWLOG", "GET", "1"])
                .starts_with("*1\r\n*6\r\n:3\r\n")
        );
    }

    #[test]
    fn errors_match_redis() {
        let mut c = TestClient::new();
        assert_eq!(
            c.text(&["SLOWLOG", "GET", "1", "2"]),
            "-ERR unknown subcommand or wrong number of arguments for 'get'. Try SLOWLOG HELP.\r\n"
        );
        for bad in ["-2", "abc"] {
            assert_eq!(
                c.text(&["SLOWLOG", "GET", bad]),
                "-ERR count should be greater than or equal to -1\r\n"
            );
        }
        assert_eq!(
            c.text(&["SLOWLOG", "LEN", "x"]),
            "-ERR wrong number of arguments for 'slowlog|len' command\r\n"
        );
        assert_eq!(
            c.text(&["SLOWLOG", "NOPE"]),
            "-ERR unknown subcommand 'NOPE'. Try SLOWLOG HELP.\r\n"
        );
    }

    #[test]
    fn help_text() {
        let mut c = TestClient::new();
        let help = c.text(&["SLOWLOG", "HELP"]);
        assert!(help.starts_with(
            "*12\r\n+SLOWLOG <subcommand> [<arg> [value] [opt] ...]. Subcommands are:\r\n+GET [<count>]\r\n"
        ));
        assert!(help.ends_with("+    Reset the slowlog.\r\n+HELP\r\n+    Prints this help.\r\n"));
    }

    #[test]
    fn max_len_truncates_at_once() {
        let mut c = logging_everything();
        for _ in 0..5 {
            c.run(&["PING"]);
        }
        // Logging stops with the same call, so only the truncation shortens the log.
        assert_eq!(
            c.text(&[
                "CONFIG",
                "SET",
                "slowlog-max-len",
                "2",
                "slowlog-log-slower-than",
                "-1"
            ]),
            "+OK\r\n"
        );
        assert_eq!(c.server.slowlog.len(), 2);
    }
}
