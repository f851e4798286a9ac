//! LATENCY: the latency monitor's events (LATEST, HISTORY, GRAPH, DOCTOR, RESET) and the
//! per-command latency histograms (HISTOGRAM).

use std::sync::atomic::Ordering::Relaxed;

use common::command_table;

use crate::commands::{CommandContext, CommandEntry, CommandError, Registry, reply_help};
use crate::latency_monitor::{self, DoctorContext};
use crate::server::unix_ms;

pub(super) fn register(r: &mut Registry) {
    r.add_sub("latency", "latest", latest);
    r.add_sub("latency", "history", history);
    r.add_sub("latency", "graph", graph);
    r.add_sub("latency", "doctor", doctor);
    r.add_sub("latency", "reset", reset);
    r.add_sub("latency", "histogram", histogram);
    r.add_sub("latency", "help", help);
}

/// `LATENCY LATEST`: per event, its name, the newest sample's time and latency, and the worst.
fn latest(ctx: &mut CommandContext<'_>) -> Result<(), CommandError> {
    let events = ctx.server.latency_monitor.snapshot();
    ctx.reply.array(events.len());
    for (name, series) in &events {
        let last = series.latest();
        ctx.reply.array(4);
        ctx.reply.bulk(name.as_bytes());
        ctx.reply.integer(last.time);
        ctx.reply
            .integer(i64::try_from(last.latency).unwrap_or(i64::MAX));
        ctx.reply
            .integer(i64::try_from(series.max).unwrap_or(i64::MAX));
    }
    Ok(())
}

/// `LATENCY HISTORY event`: the event's samples, oldest first; empty for an unknown event.
fn history(ctx: &mut CommandContext<'_>) -> Result<(), CommandError> {
    let event = ctx.args.next_bytes()?;
    let Some((_, series)) = ctx.server.latency_monitor.series(event) else {
        ctx.reply.empty_array();
        return Ok(());
    };
    let samples: Vec<_> = series.samples().collect();
    ctx.reply.array(samples.len());
    for s in samples {
        ctx.reply.array(2);
        ctx.reply.integer(s.time);
        ctx.reply
            .integer(i64::try_from(s.latency).unwrap_or(i64::MAX));
    }
    Ok(())
}

fn graph(ctx: &mut CommandContext<'_>) -> Result<(), CommandError> {
    let event = ctx.args.next_bytes()?;
    let Some((name, series)) = ctx.server.latency_monitor.series(event) else {
        return Err(CommandError::err(format!(
            "No samples available for event '{}'",
            String::from_utf8_lossy(event)
        )));
    };
    let text = latency_monitor::graph(&name, &series, unix_ms() / 1000);
    ctx.reply.verbatim(b"txt", text.as_bytes());
    Ok(())
}

fn doctor(ctx: &mut CommandContext<'_>) -> Result<(), CommandError> {
    let server = ctx.server;
    let doctor_ctx = {
        let config = server.config();
        DoctorContext {
            threshold_ms: server.hot.latency_monitor_threshold.load(Relaxed),
            slowlog_log_slower_than: server.hot.slowlog_log_slower_than.load(Relaxed),
            hz: server.hot.hz.load(Relaxed),
            appendfsync_always: config
                .get_str("appendfsync")
                .is_some_and(|v| v.eq_ignore_ascii_case("always")),
            huge_pages: latency_monitor::anon_huge_pages() > 0,
        }
    };
    let events = server.latency_monitor.snapshot();
    let report = latency_monitor::doctor(&events, &doctor_ctx, unix_ms() / 1000);
    ctx.reply.verbatim(b"txt", report.as_bytes());
    Ok(())
}

/// `LATENCY RESET [event ...]`: how many events were forgotten (names ignore case).
fn reset(ctx: &mut CommandContext<'_>) -> Result<(), CommandError> {
    let monitor = &ctx.server.latency_monitor;
    let resets = if ctx.args.is_empty() {
        monitor.reset(None)
    } else {
        ctx.args.rest().map(|e| monitor.reset(Some(e))).sum()
    };
    ctx.reply.integer(resets as i64);
    Ok(())
}

/// A command's calls and its (microseconds, cumulative count) levels.
type Distribution = (u64, Vec<(u64, u64)>);

/// `LATENCY HISTOGRAM [command ...]`: a map from each named command (a container names its
/// subcommands too; unknown names are skipped) with samples to its calls and distribution.
fn histogram(ctx: &mut CommandContext<'_>) -> Result<(), CommandError> {
    let registry = &ctx.server.registry;
    let mut chosen: Vec<&CommandEntry> = Vec::new();
    if ctx.args.is_empty() {
        chosen.extend(registry.entries());
        chosen.sort_unstable_by(|a, b| a.full_name.cmp(&b.full_name));
    } else {
        for name in ctx.args.rest() {
            let spec = match name.iter().position(|&b| b == b'|') {
                Some(bar) => registry
                    .lookup(&name[..bar])
                    .and_then(|c| command_table::lookup_subcommand(c, &name[bar + 1..])),
                None => registry.lookup(name),
            };
            let Some(spec) = spec else { continue };
            chosen.extend(registry.entry(spec));
            for sub in command_table::subcommands(spec) {
                chosen.extend(registry.entry(sub));
            }
        }
    }
    let rows: Vec<(&str, Distribution)> = chosen
        .into_iter()
        .filter_map(|e| Some((e.full_name.as_str(), e.latency.cumulative_usec()?)))
        .collect();
    let reply = &mut *ctx.reply;
    reply.map(rows.len());
    for (name, (calls, levels)) in rows {
        reply.bulk(name.as_bytes());
        reply.map(2);
        reply.bulk(b"calls");
        reply.integer(i64::try_from(calls).unwrap_or(i64::MAX));
        reply.bulk(b"histogram_usec");
        reply.map(levels.len());
        for (usec, count) in levels {
            reply.integer(i64::try_from(usec).unwrap_or(i64::MAX));
            reply.integer(i64::try_from(count).unwrap_or(i64::MAX));
        }
    }
    Ok(())
}

const LATENCY_HELP: &[&str] = &[
    "DOCTOR",
    "    Return a human readable latency analysis report.",
    "GRAPH <event>",
    "    Return an ASCII latency graph for the <event> class.",
    "HISTORY <event>",
    "    Return time-latency samples for the <event> class.",
    "LATEST",
    "    Return the latest latency samples for all events.",
    "RESET [<event> ...]",
    "    Reset latency data of one or more <event> classes.",
    "    (default: reset all data for all event classes)",
    "HISTOGRAM [COMMAND ...]",
    "    Return a cumulative distribution of latencies in the format of a histogram for the specified command names.",
    "    If no commands are specified then all histograms are replied.",
];

fn help(ctx: &mut CommandContext<'_>) -> Result<(), CommandError> {
    reply_help(ctx, LATENCY_HELP);
    Ok(())
}

#[cfg(test)]
mod tests {
    use crate::commands::testkit::TestClient;

    #[test]
    fn empty_monitor_replies() {
        let mut c = TestClient::new();
        assert_eq!(c.text(&["LATENCY", "LATEST"]), "*0\r\n");
        assert_eq!(c.text(&["LATENCY", "HISTORY", "command"]), "*0\r\n");
        assert_eq!(c.text(&["LATENCY", "RESET"]), ":0\r\n");
        assert_eq!(c.text(&["LATENCY", "RESET", "a", "b"]), ":0\r\n");
        assert_eq!(
            c.text(&["LATENCY", "GRAPH", "command"]),
            "-ERR No samples available for event 'command'\r\n"
        );
        let doctor = c.text(&["LATENCY", "DOCTOR"]);
        assert!(doctor.starts_with("$"), "{doctor}");
        assert!(doctor.contains("I'm sorry, Dave, I can't do that."));
        assert_eq!(
            c.text(&["LATENCY", "HELP", "x"]),
            "-ERR wrong number of arguments for 'latency|help' command\r\n"
        );
        let help = c.text(&["LATENCY", "HELP"]);
        assert!(help.starts_with(
            "*17\r\n+LATENCY <subcommand> [<arg> [value] [opt] ...]. Subcommands are:\r\n+DOCTOR\r\n"
        ));
    }

    #[test]
    fn events_from_slow_commands() {
        let mut c = TestClient::new();
        assert_eq!(
            c.text(&["CONFIG", "SET", "latency-monitor-threshold", "1"]),
            "+OK\r\n"
        );
        // A script that spins for 5 ms (DEBUG is not enabled here).
        let spin = "local t = redis.call('TIME') \
                    local start = t[1] * 1000000 + t[2] \
                    repeat t = redis.call('TIME') until t[1] * 1000000 + t[2] - start >= 5000";
        assert_eq!(c.text(&["EVAL", spin, "0"]), "$-1\r\n");
        let latest = c.text(&["LATENCY", "LATEST"]);
        assert!(
            latest.starts_with("*1\r\n*4\r\n$7\r\ncommand\r\n:"),
            "{latest}"
        );
        let history = c.text(&["LATENCY", "HISTORY", "command"]);
        assert!(history.starts_with("*1\r\n*2\r\n:"), "{history}");
        let graph = c.text(&["LATENCY", "GRAPH", "command"]);
        assert!(graph.contains("command - high "), "{graph}");
        assert_eq!(c.text(&["LATENCY", "RESET", "COMMAND"]), ":1\r\n");
        assert_eq!(c.text(&["LATENCY", "LATEST"]), "*0\r\n");
    }

    #[test]
    fn histogram_lists_commands_with_samples() {
        let mut c = TestClient::new();
        c.run(&["CONFIG", "RESETSTAT"]);
        c.run(&["SET", "a", "b"]);
        c.run(&["SET", "a", "b"]);
        c.run(&["CLIENT", "ID"]);
        let set = c.text(&["LATENCY", "HISTOGRAM", "set", "nosuch"]);
        assert!(
            set.starts_with(
                "*2\r\n$3\r\nset\r\n*4\r\n$5\r\ncalls\r\n:2\r\n$14\r\nhistogram_usec\r\n*"
            ),
            "{set}"
        );
        let client = c.text(&["LATENCY", "HISTOGRAM", "client"]);
        assert!(client.starts_with("*2\r\n$9\r\nclient|id\r\n"), "{client}");
        let one = c.text(&["LATENCY", "HISTOGRAM", "client|id"]);
        assert!(one.starts_with("*2\r\n$9\r\nclient|id\r\n"), "{one}");
        assert_eq!(c.text(&["LATENCY", "HISTOGRAM", "blabla"]), "*0\r\n");
    }
}
