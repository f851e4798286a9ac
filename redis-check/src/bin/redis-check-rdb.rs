//! `redis-check-rdb FILE`: Redis 7.0.15's RDB checker, plus `--format json` and
//! `--memory-report` (see the `redis_check` crate documentation).

use std::io::{self, BufWriter, Write};
use std::process::ExitCode;

use redis_check::rdb_check::{self, KeyInfo, Outcome};
use redis_check::report::{MemoryReport, json_line};

const HELP: &str = "\
Usage: redis-check-rdb <rdb-file-name>
       redis-check-rdb --format json <rdb-file-name>
       redis-check-rdb --memory-report [--delimiter <char>] <rdb-file-name>
       redis-check-rdb -v | --version

Checks an RDB file as Redis 7.0.15's redis-check-rdb does: exit code 0 when it is sane,
1 after reporting the first error.

Beyond Redis:
  --format json      print one JSON object per key (db, key, type, rdb_type,
                     serialized_bytes, elements, expire_ms, ttl_ms) instead of the report
  --memory-report    print serialized bytes per type and per key prefix instead of the report
  --delimiter <char> the character ending a key prefix for --memory-report (default ':')
  -h, --help         print this help
";

enum Mode {
    Check,
    Json,
    Memory(u8),
}

fn usage(argv0: &str) -> ExitCode {
    eprintln!("Usage: {argv0} <rdb-file-name>");
    ExitCode::from(1)
}

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().collect();
    let argv0 = args.first().map_or("redis-check-rdb", String::as_str);
    let rest = args.get(1..).unwrap_or_default();
    match rest.first().map(String::as_str) {
        Some("-v" | "--version") if rest.len() == 1 => {
            println!("redis-check-rdb 7.0.15");
            return ExitCode::SUCCESS;
        }
        Some("-h" | "--help") if rest.len() == 1 => {
            print!("{HELP}");
            return ExitCode::SUCCESS;
        }
        _ => {}
    }
    let mut mode = Mode::Check;
    let mut delimiter = b':';
    let mut file = None;
    let mut i = 0;
    // Options are ours; with none, this is Redis's single-argument form.
    while i < rest.len() {
        match rest[i].as_str() {
            "--format" if rest.len() > 2 => {
                if rest.get(i + 1).map(String::as_str) != Some("json") {
                    eprintln!("--format takes 'json'");
                    return ExitCode::from(1);
                }
                mode = Mode::Json;
                i += 1;
            }
            "--memory-report" if rest.len() > 1 => mode = Mode::Memory(delimiter),
            "--delimiter" if rest.len() > 2 => {
                match rest.get(i + 1).map(|s| s.as_bytes()) {
                    Some([c]) => delimiter = *c,
                    _ => {
                        eprintln!("--delimiter takes one character");
                        return ExitCode::from(1);
                    }
                }
                i += 1;
            }
            other => {
                if file.is_some() {
                    return usage(argv0);
                }
                file = Some(other.to_string());
            }
        }
        i += 1;
    }
    if let Mode::Memory(_) = mode {
        mode = Mode::Memory(delimiter);
    }
    let Some(file) = file else {
        return usage(argv0);
    };
    match run(&file, mode) {
        Ok(true) => ExitCode::SUCCESS,
        Ok(false) => ExitCode::from(1),
        Err(e) if e.kind() == io::ErrorKind::BrokenPipe => ExitCode::from(1),
        Err(e) => {
            eprintln!("redis-check-rdb: {e}");
            ExitCode::from(1)
        }
    }
}

fn run(file: &str, mode: Mode) -> io::Result<bool> {
    let stdout = io::stdout();
    let mut out = BufWriter::new(stdout.lock());
    let now = redis_check::now_ms();
    let Ok(data) = std::fs::read(file) else {
        // Redis prints its first line, then gives up without a word.
        writeln!(out, "[offset 0] Checking RDB file {file}")?;
        out.flush()?;
        return Ok(false);
    };
    let outcome = match mode {
        Mode::Check => rdb_check::check(&data, file.as_bytes(), now, &mut out, &mut |_| Ok(()))?,
        Mode::Json | Mode::Memory(_) => {
            let mut log = Vec::new();
            let mut memory = match mode {
                Mode::Memory(d) => Some(MemoryReport::new(d)),
                _ => None,
            };
            let mut sink = |k: &KeyInfo| -> io::Result<()> {
                match memory.as_mut() {
                    Some(m) => {
                        m.add(k);
                        Ok(())
                    }
                    None => out.write_all(&json_line(k, now)),
                }
            };
            let outcome = rdb_check::check(&data, file.as_bytes(), now, &mut log, &mut sink)?;
            if let Some(m) = &memory {
                if outcome != Outcome::Error {
                    m.write(&mut out)?;
                }
            }
            if outcome == Outcome::Error {
                out.flush()?;
                io::stderr().write_all(&log)?;
            }
            outcome
        }
    };
    out.flush()?;
    Ok(outcome != Outcome::Error)
}
