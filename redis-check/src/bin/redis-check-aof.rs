//! `redis-check-aof [--fix|--truncate-to-timestamp TS] FILE|MANIFEST`: Redis 7.0.15's AOF
//! checker. Beyond Redis: `-y` answers the `--fix` prompt, a directory stands for the
//! manifest inside it, and `--help`.

use std::io::{self, Write};
use std::path::Path;
use std::process::ExitCode;

use redis_check::aof_check::{self, Confirm, Options, Stop};

const HELP: &str = "\
Usage: redis-check-aof [--fix|--truncate-to-timestamp $timestamp] <file.manifest|file.aof>

Checks an AOF as Redis 7.0.15's redis-check-aof does: an old-style AOF, an AOF with an RDB
preamble, or a multi-part AOF given by its manifest.
  --fix                          cut the file after its last valid command (asks first)
  --truncate-to-timestamp <unix> cut the last file at the first #TS: annotation after <unix>

Beyond Redis:
  -y, --yes    with --fix, answer yes to 'Continue? [y/N]:'
  <directory>  a directory holding one *.manifest is checked through that manifest
  -h, --help   print this help
";

/// C's `strtol(s, &end, 10)` with the checks Redis makes: all of `s` used, no overflow.
fn parse_timestamp(s: &str) -> Option<i64> {
    let t = s.trim_start_matches([' ', '\t', '\n', '\r', '\x0b', '\x0c']);
    if t.is_empty() || t == "+" || t == "-" {
        // No digits: strtol leaves the end at the start; Redis accepts it only when empty.
        return s.is_empty().then_some(0);
    }
    let digits = t.strip_prefix(['+', '-']).unwrap_or(t);
    if !digits.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    t.strip_prefix('+').unwrap_or(t).parse().ok()
}

fn main() -> ExitCode {
    let mut args: Vec<String> = std::env::args().collect();
    let argv0 = args
        .first()
        .cloned()
        .unwrap_or_else(|| "redis-check-aof".into());
    let mut stdout = io::stdout();
    if args.len() == 2 && matches!(args[1].as_str(), "-h" | "--help") {
        print!("{HELP}");
        return ExitCode::SUCCESS;
    }
    let mut confirm = Confirm::Ask;
    if args.iter().any(|a| a == "--fix") {
        let before = args.len();
        args.retain(|a| a != "-y" && a != "--yes");
        if args.len() < before {
            confirm = Confirm::Yes;
        }
    }
    let invalid = |out: &mut io::Stdout| {
        let _ = writeln!(
            out,
            "Usage: {argv0} [--fix|--truncate-to-timestamp $timestamp] <file.manifest|file.aof>"
        );
        ExitCode::from(1)
    };
    let mut opts = Options {
        fix: false,
        confirm,
        to_timestamp: 0,
        now_ms: redis_check::now_ms(),
    };
    let file = match args.len() {
        2 => args[1].clone(),
        3 if args[1] == "--fix" => {
            opts.fix = true;
            args[2].clone()
        }
        4 if args[1] == "--truncate-to-timestamp" => {
            let Some(ts) = parse_timestamp(&args[2]) else {
                let _ = writeln!(stdout, "Invalid timestamp, aborting...");
                return ExitCode::from(1);
            };
            opts.to_timestamp = ts;
            args[3].clone()
        }
        _ => return invalid(&mut stdout),
    };
    let mut out = io::BufWriter::new(stdout.lock());
    let result = aof_check::run(&mut out, Path::new(&file), opts);
    let _ = out.flush();
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(Stop::Abort) => ExitCode::from(1),
        Err(Stop::Io(e)) => {
            if e.kind() != io::ErrorKind::BrokenPipe {
                eprintln!("redis-check-aof: {e}");
            }
            ExitCode::from(1)
        }
    }
}
