//! MEMORY USAGE and MEMORY HELP. DOCTOR, STATS, MALLOC-STATS and PURGE are not built: they
//! are absent from the table and answer Redis's unknown-subcommand error.

use common::number::parse_i64;

use crate::commands::args::is;
use crate::commands::{CommandContext, CommandError, Registry, reply_help};

pub(super) fn register(r: &mut Registry) {
    r.add_sub("memory", "usage", usage);
    r.add_sub("memory", "help", help);
}

/// Redis samples five elements of a collection unless told otherwise.
const DEFAULT_SAMPLES: usize = 5;

/// `MEMORY USAGE key [SAMPLES count]`: the bytes the key, its value and its bookkeeping hold;
/// collections are measured on `count` elements (0: all) and scaled, as Redis estimates.
fn usage(ctx: &mut CommandContext<'_>) -> Result<(), CommandError> {
    let key = ctx.args.next_key()?;
    let mut samples = DEFAULT_SAMPLES;
    while let Some(word) = ctx.args.next_opt() {
        if is(word, "samples") && !ctx.args.is_empty() {
            let n = parse_i64(ctx.args.next_bytes()?).ok_or(CommandError::NotInteger)?;
            samples = usize::try_from(n).map_err(|_| CommandError::Syntax)?;
        } else {
            return Err(CommandError::Syntax);
        }
    }
    let now = ctx.now_ms;
    match ctx.db.shard(key).memory_usage(key, now, samples) {
        Some(bytes) => ctx.reply.integer(i64::try_from(bytes).unwrap_or(i64::MAX)),
        None => ctx.reply.null(),
    }
    Ok(())
}

const MEMORY_HELP: &[&str] = &[
    "USAGE <key> [SAMPLES <count>]",
    "    Return memory in bytes used by <key> and its value. Nested values are",
    "    sampled up to <count> times (default: 5, 0 means sample all).",
];

fn help(ctx: &mut CommandContext<'_>) -> Result<(), CommandError> {
    reply_help(ctx, MEMORY_HELP);
    Ok(())
}

#[cfg(test)]
mod tests {
    use crate::commands::testkit::TestClient;

    fn bytes(c: &mut TestClient, args: &[&str]) -> i64 {
        let reply = c.text(args);
        reply
            .strip_prefix(':')
            .and_then(|r| r.trim_end().parse().ok())
            .unwrap_or_else(|| panic!("not an integer: {reply:?}"))
    }

    #[test]
    fn usage_grows_with_the_value_and_follows_redis_errors() {
        let mut c = TestClient::new();
        assert_eq!(c.text(&["MEMORY", "USAGE", "missing"]), "$-1\r\n");
        c.run(&["SET", "small", "v"]);
        c.run(&["SET", "big", &"x".repeat(10_000)]);
        let small = bytes(&mut c, &["MEMORY", "USAGE", "small"]);
        let big = bytes(&mut c, &["MEMORY", "USAGE", "big"]);
        assert!(small > 0 && big > small + 10_000 - 64, "{small} {big}");
        for i in 0..200 {
            c.run(&["HSET", "h", &format!("field{i}"), &"v".repeat(100)]);
        }
        let all = bytes(&mut c, &["MEMORY", "USAGE", "h", "SAMPLES", "0"]);
        assert!(all > 200 * 100, "{all}");
        assert_eq!(
            c.text(&["MEMORY", "USAGE", "h", "SAMPLES"]),
            "-ERR syntax error\r\n"
        );
        assert_eq!(
            c.text(&["MEMORY", "USAGE", "h", "SAMPLES", "-1"]),
            "-ERR syntax error\r\n"
        );
        assert_eq!(
            c.text(&["MEMORY", "USAGE", "h", "SAMPLES", "x"]),
            "-ERR value is not an integer or out of range\r\n"
        );
        assert!(
            c.text(&["MEMORY", "STATS"])
                .starts_with("-ERR unknown subcommand")
        );
    }
}
