//! `redis-cli`: a drop-in for Redis 7.0.15's command-line client.
//!
//! - `options`: the flags, parsed as redis-cli parses them.
//! - `connection`: one blocking TCP or Unix-socket connection speaking `common::resp`, over
//!   TLS (`common::tls`, rustls) with `--tls`.
//! - `session`: connect/AUTH/SELECT/HELLO, send, read, print, redirections, MULTI state.
//! - `format`: the tty, raw, CSV and JSON printing (no I/O).
//! - `hints`: help topics, completion and argument hints (COMMAND DOCS, else our table).
//! - `repl`: the interactive prompt (rustyline) and commands read from a non-tty stdin.
//! - `modes`: `--pipe`, `--scan`, `--eval`, `--rdb`, `--functions-rdb` and `--replica`.
//! - `stats`: `--stat`, `--latency`, `--latency-history`, `--latency-dist`,
//!   `--intrinsic-latency` and `--lru-test`.
//! - `keys`: the keyspace samplers `--bigkeys`, `--memkeys` and `--hotkeys`.
//! - `cluster`: `--cluster <command>`, the cluster manager.

#![cfg_attr(test, allow(clippy::unwrap_used))]

mod cluster;
mod connection;
mod format;
mod hints;
mod keys;
mod modes;
mod options;
mod repl;
mod session;
mod stats;

use std::io::{IsTerminal, Read, Write};
use std::process::ExitCode;

use options::{Options, Stop};
use session::{Exit, Session};

/// The Redis version this client stands in for.
pub(crate) const REDIS_VERSION: &str = "7.0.15";

/// Redis's `sdssplitargs`: `None` for unbalanced quotes.
pub(crate) fn split_args(line: &[u8]) -> Option<Vec<Vec<u8>>> {
    common::config::split_args(line)
}

/// redis-cli's `unquoteCString`: a quoted string that is exactly one argument.
pub(crate) fn unquote(s: &[u8]) -> Option<Vec<u8>> {
    let mut args = split_args(s)?;
    if args.len() == 1 { args.pop() } else { None }
}

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let mut warn = |line: &str| eprintln!("{line}");
    let (mut opts, first) = match Options::parse(&args, &mut warn) {
        Ok(parsed) => parsed,
        Err(Stop::Help) => {
            print!("{}", usage());
            return ExitCode::SUCCESS;
        }
        Err(Stop::Version) => {
            println!("redis-cli {REDIS_VERSION}");
            return ExitCode::SUCCESS;
        }
        Err(Stop::Fail(line)) => {
            eprintln!("{line}");
            return ExitCode::FAILURE;
        }
    };
    if opts.auth.is_none() {
        if let Some(auth) = std::env::var_os("REDISCLI_AUTH") {
            opts.auth = Some(auth.into_encoded_bytes());
        }
    }
    if opts.askpass {
        opts.auth = Some(repl::ask_password("Please input password: ").into_bytes());
    }
    if opts.cluster.active() {
        return cluster::main(opts);
    }
    let command = &args[first..];
    let result = run(opts, command);
    let _ = std::io::stdout().flush();
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(Exit(code)) => ExitCode::from(code),
    }
}

fn run(opts: Options, command: &[String]) -> Result<(), Exit> {
    if opts.tls {
        connection::enable_tls(opts.tls_options.clone());
    }
    let mut session = Session::new(opts);
    if let Some(history) = session.opts.latency {
        if !session.connect(false, false) {
            return Err(Exit(1));
        }
        return stats::latency(&mut session, history);
    }
    if session.opts.latency_dist {
        if !session.connect(false, false) {
            return Err(Exit(1));
        }
        return stats::latency_dist(&mut session);
    }
    if session.opts.pipe {
        if !session.connect(false, false) {
            return Err(Exit(1));
        }
        return modes::pipe(&mut session);
    }
    if let Some((file, functions_only)) = session.opts.rdb.clone() {
        if !session.connect(false, false) {
            return Err(Exit(1));
        }
        return modes::rdb(&mut session, &file, functions_only);
    }
    if session.opts.replica {
        if !session.connect(false, false) {
            return Err(Exit(1));
        }
        return modes::replica(&mut session);
    }
    let sampler = session.opts.bigkeys || session.opts.memkeys.is_some() || session.opts.hotkeys;
    if sampler || session.opts.stat {
        if !session.connect(false, false) {
            return Err(Exit(1));
        }
        if session.opts.bigkeys {
            return keys::big_keys(&mut session, false, 0);
        }
        if let Some(samples) = session.opts.memkeys {
            return keys::big_keys(&mut session, true, samples);
        }
        if session.opts.hotkeys {
            return keys::hot_keys(&mut session);
        }
        return stats::stat(&mut session);
    }
    if session.opts.scan {
        if !session.connect(false, false) {
            return Err(Exit(1));
        }
        return modes::scan(&mut session);
    }
    if let Some(keys) = session.opts.lru_test {
        if !session.connect(false, false) {
            return Err(Exit(1));
        }
        return stats::lru_test(&mut session, keys);
    }
    if let Some(seconds) = session.opts.intrinsic_latency {
        return stats::intrinsic_latency(seconds);
    }
    if command.is_empty() && session.opts.eval.is_none() {
        session.connect(false, false);
        return repl::run(&mut session);
    }
    if let Some(file) = session.opts.eval.clone() {
        if !session.connect(false, false) {
            return Err(Exit(1));
        }
        return modes::eval(&mut session, &file, command);
    }
    session.connect(false, true);
    one_shot(&mut session, command)
}

/// `redis-cli [opts] cmd args...`, with `-x`/`-X` taking an argument from stdin.
fn one_shot(session: &mut Session, command: &[String]) -> Result<(), Exit> {
    let mut argv = Vec::with_capacity(command.len() + 1);
    for arg in command {
        if session.opts.quoted_input {
            match unquote(arg.as_bytes()) {
                Some(a) => argv.push(a),
                None => {
                    println!("Invalid quoted string");
                    return Err(Exit(1));
                }
            }
        } else {
            argv.push(arg.as_bytes().to_vec());
        }
    }
    if session.opts.stdin_lastarg {
        argv.push(read_stdin()?);
    } else if let Some(tag) = session.opts.stdin_tag.clone() {
        match argv.iter().position(|a| *a == tag) {
            Some(i) => argv[i] = read_stdin()?,
            None => {
                eprintln!("Using -X option but stdin tag not match.");
                return Err(Exit(1));
            }
        }
    }
    let repeat = session.opts.repeat;
    if session.issue(&argv, repeat)? {
        Ok(())
    } else {
        Err(Exit(1))
    }
}

fn read_stdin() -> Result<Vec<u8>, Exit> {
    let mut arg = Vec::new();
    match std::io::stdin().lock().read_to_end(&mut arg) {
        Ok(_) => Ok(arg),
        Err(e) => {
            eprintln!("Reading from standard input: {}", connection::describe(&e));
            Err(Exit(1))
        }
    }
}

/// True when stdin is a terminal (the REPL) rather than a pipe of commands.
pub(crate) fn stdin_is_tty() -> bool {
    std::io::stdin().is_terminal()
}

/// `--help`: redis-cli's text, listing only the options this client has.
fn usage() -> String {
    format!(
        "redis-cli {REDIS_VERSION}\n\
\n\
Usage: redis-cli [OPTIONS] [cmd [arg [arg ...]]]\n\
\x20 -h <hostname>      Server hostname (default: 127.0.0.1).\n\
\x20 -p <port>          Server port (default: 6379).\n\
\x20 -s <socket>        Server socket (overrides hostname and port).\n\
\x20 -a <password>      Password to use when connecting to the server.\n\
\x20                    You can also use the REDISCLI_AUTH environment\n\
\x20                    variable to pass this password more safely\n\
\x20                    (if both are used, this argument takes precedence).\n\
\x20 --user <username>  Used to send ACL style 'AUTH username pass'. Needs -a.\n\
\x20 --pass <password>  Alias of -a for consistency with the new --user option.\n\
\x20 --askpass          Force user to input password with mask from STDIN.\n\
\x20                    If this argument is used, '-a' and REDISCLI_AUTH\n\
\x20                    environment variable will be ignored.\n\
\x20 -u <uri>           Server URI.\n\
\x20 -r <repeat>        Execute specified command N times.\n\
\x20 -i <interval>      When -r is used, waits <interval> seconds per command.\n\
\x20                    It is possible to specify sub-second times like -i 0.1.\n\
\x20                    This interval is also used in --scan and --stat per cycle.\n\
\x20                    and in --bigkeys, --memkeys, and --hotkeys per 100 cycles.\n\
\x20 -n <db>            Database number.\n\
\x20 -2                 Start session in RESP2 protocol mode.\n\
\x20 -3                 Start session in RESP3 protocol mode.\n\
\x20 -x                 Read last argument from STDIN (see example below).\n\
\x20 -X                 Read <tag> argument from STDIN (see example below).\n\
\x20 -d <delimiter>     Delimiter between response bulks for raw formatting (default: \\n).\n\
\x20 -D <delimiter>     Delimiter between responses for raw formatting (default: \\n).\n\
\x20 -c                 Enable cluster mode (follow -ASK and -MOVED redirections).\n\
\x20 -e                 Return exit error code when command execution fails.\n\
\x20 --tls              Establish a secure TLS connection.\n\
\x20 --sni <host>       Server name indication for TLS.\n\
\x20 --cacert <file>    CA Certificate file to verify with.\n\
\x20 --cacertdir <dir>  Directory where trusted CA certificates are stored.\n\
\x20                    If neither cacert nor cacertdir are specified, the default\n\
\x20                    system-wide trusted root certs configuration will apply.\n\
\x20 --insecure         Allow insecure TLS connection by skipping cert validation.\n\
\x20 --cert <file>      Client certificate to authenticate with.\n\
\x20 --key <file>       Private key file to authenticate with.\n\
\x20 --tls-ciphers <list> Sets the list of preferred ciphers (TLSv1.2 and below)\n\
\x20                    in order of preference from highest to lowest separated by colon (\":\").\n\
\x20                    See the ciphers(1ssl) manpage for more information about the syntax of this string.\n\
\x20 --tls-ciphersuites <list> Sets the list of preferred ciphersuites (TLSv1.3)\n\
\x20                    in order of preference from highest to lowest separated by colon (\":\").\n\
\x20                    See the ciphers(1ssl) manpage for more information about the syntax of this string,\n\
\x20                    and specifically for TLSv1.3 ciphersuites.\n\
\x20 --raw              Use raw formatting for replies (default when STDOUT is\n\
\x20                    not a tty).\n\
\x20 --no-raw           Force formatted output even when STDOUT is not a tty.\n\
\x20 --quoted-input     Force input to be handled as quoted strings.\n\
\x20 --csv              Output in CSV format.\n\
\x20 --json             Output in JSON format (default RESP3, use -2 if you want to use with RESP2).\n\
\x20 --quoted-json      Same as --json, but produce ASCII-safe quoted strings, not Unicode.\n\
\x20 --show-pushes <yn> Whether to print RESP3 PUSH messages.  Enabled by default when\n\
\x20                    STDOUT is a tty but can be overridden with --show-pushes no.\n\
\x20 --stat             Print rolling stats about server: mem, clients, ...\n\
\x20 --latency          Enter a special mode continuously sampling latency.\n\
\x20                    If you use this mode in an interactive session it runs\n\
\x20                    forever displaying real-time stats. Otherwise if --raw or\n\
\x20                    --csv is specified, or if you redirect the output to a non\n\
\x20                    TTY, it samples the latency for 1 second (you can use\n\
\x20                    -i to change the interval), then produces a single output\n\
\x20                    and exits.\n\
\x20 --latency-history  Like --latency but tracking latency changes over time.\n\
\x20                    Default time interval is 15 sec. Change it using -i.\n\
\x20 --latency-dist     Shows latency as a spectrum, requires xterm 256 colors.\n\
\x20                    Default time interval is 1 sec. Change it using -i.\n\
\x20 --lru-test <keys>  Simulate a cache workload with an 80-20 distribution.\n\
\x20 --replica          Simulate a replica showing commands received from the master.\n\
\x20 --rdb <filename>   Transfer an RDB dump from remote server to local file.\n\
\x20                    Use filename of \"-\" to write to stdout.\n\
\x20--functions-rdb <filename> Like --rdb but only get the functions (not the keys)\n\
\x20                    when getting the RDB dump file.\n\
\x20 --pipe             Transfer raw Redis protocol from stdin to server.\n\
\x20 --pipe-timeout <n> In --pipe mode, abort with error if after sending all data.\n\
\x20                    no reply is received within <n> seconds.\n\
\x20                    Default timeout: {timeout}. Use 0 to wait forever.\n\
\x20 --bigkeys          Sample Redis keys looking for keys with many elements (complexity).\n\
\x20 --memkeys          Sample Redis keys looking for keys consuming a lot of memory.\n\
\x20 --memkeys-samples <n> Sample Redis keys looking for keys consuming a lot of memory.\n\
\x20                    And define number of key elements to sample\n\
\x20 --hotkeys          Sample Redis keys looking for hot keys.\n\
\x20                    only works when maxmemory-policy is *lfu.\n\
\x20 --scan             List all keys using the SCAN command.\n\
\x20 --pattern <pat>    Keys pattern when using the --scan, --bigkeys or --hotkeys\n\
\x20                    options (default: *).\n\
\x20 --quoted-pattern <pat> Same as --pattern, but the specified string can be\n\
\x20                        quoted, in order to pass an otherwise non binary-safe string.\n\
\x20 --intrinsic-latency <sec> Run a test to measure intrinsic system latency.\n\
\x20                    The test will run for the specified amount of seconds.\n\
\x20 --eval <file>      Send an EVAL command using the Lua script at <file>.\n\
\x20 --verbose          Verbose mode.\n\
\x20 --no-auth-warning  Don't show warning message when using password on command\n\
\x20                    line interface.\n\
\x20 --help             Output this help and exit.\n\
\x20 --version          Output version and exit.\n\
\n\
Examples:\n\
\x20 cat /etc/passwd | redis-cli -x set mypasswd\n\
\x20 redis-cli -D \"\" --raw dump key > key.dump && redis-cli -X dump_tag restore key2 0 dump_tag replace < key.dump\n\
\x20 redis-cli -r 100 lpush mylist x\n\
\x20 redis-cli -r 100 -i 1 info | grep used_memory_human:\n\
\x20 redis-cli --quoted-input set '\"null-\\x00-separated\"' value\n\
\x20 redis-cli --eval myscript.lua key1 key2 , arg1 arg2 arg3\n\
\x20 redis-cli --scan --pattern '*:12345*'\n\
\n\
\x20 (Note: when using --eval the comma separates KEYS[] from ARGV[] items)\n\
\n\
When no command is given, redis-cli starts in interactive mode.\n\
Type \"help\" in interactive mode for information on available commands\n\
and settings.\n\
\n",
        timeout = options::DEFAULT_PIPE_TIMEOUT
    )
}
