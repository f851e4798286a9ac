//! `redis-cli --cluster <command>`: Redis 7.0.15's cluster manager.
//!
//! - `mod.rs`: the `--cluster*` options, the subcommand table, `help`, logging and prompts.
//! - `node`: one node (connection, CLUSTER NODES parsing) and the loaded cluster.
//! - `check`: `check` and `fix` (open slots, coverage, multiple owners).
//! - `create`: `create`, with the slot allocation and replica placement.
//! - `migrate`: moving slots and keys; `reshard` and `rebalance`.
//! - `admin`: `info`, `add-node`, `del-node`, `call`, `set-timeout`, `import`, `backup`.
//!
//! Output lines, colours (when `TERM` names an xterm) and exit codes follow the real tool;
//! slot moves show an indicatif bar instead of dots when stdout is a terminal.

mod admin;
mod check;
mod create;
mod migrate;
mod node;

use std::io::{IsTerminal, Read, Write};
use std::process::ExitCode;
use std::sync::atomic::{AtomicBool, Ordering};

use crate::options::{Options, Stop, c_int};

/// `--cluster-yes`.
pub(crate) const FLAG_YES: u32 = 1 << 2;
const FLAG_FIX: u32 = 1 << 0;
const FLAG_SLAVE: u32 = 1 << 1;
const FLAG_EMPTYMASTER: u32 = 1 << 4;
const FLAG_SIMULATE: u32 = 1 << 5;
const FLAG_REPLACE: u32 = 1 << 6;
const FLAG_COPY: u32 = 1 << 7;
const FLAG_CHECK_OWNERS: u32 = 1 << 9;
const FLAG_FIX_WITH_UNREACHABLE_MASTERS: u32 = 1 << 10;
const FLAG_MASTERS_ONLY: u32 = 1 << 11;
const FLAG_SLAVES_ONLY: u32 = 1 << 12;

/// The invalid host message most subcommands print.
const INVALID_HOST_ARG: &str = "[ERR] Invalid arguments: you need to pass either a valid address (ie. 120.0.0.1:7000) or space separated IP and port (ie. 120.0.0.1 7000)";

/// The `--cluster` command and its `--cluster-*` options.
#[derive(Debug)]
pub(crate) struct ClusterOptions {
    pub(crate) name: Option<String>,
    pub(crate) args: Vec<String>,
    pub(crate) flags: u32,
    replicas: i64,
    master_id: Option<String>,
    from: Option<String>,
    to: Option<String>,
    from_user: Option<String>,
    from_pass: Option<String>,
    from_askpass: bool,
    weights: Option<Vec<String>>,
    slots: i64,
    timeout: i64,
    pipeline: i64,
    threshold: f32,
}

impl Default for ClusterOptions {
    fn default() -> ClusterOptions {
        ClusterOptions {
            name: None,
            args: Vec::new(),
            flags: 0,
            replicas: 0,
            master_id: None,
            from: None,
            to: None,
            from_user: None,
            from_pass: None,
            from_askpass: false,
            weights: None,
            slots: 0,
            timeout: 60000,
            pipeline: 10,
            threshold: 2.0,
        }
    }
}

/// C's `atof`: the longest numeric prefix.
fn c_float(s: &str) -> f64 {
    let s = s.trim_start();
    let mut end = 0;
    let b = s.as_bytes();
    if end < b.len() && (b[end] == b'-' || b[end] == b'+') {
        end += 1;
    }
    while end < b.len() && (b[end].is_ascii_digit() || b[end] == b'.') {
        end += 1;
    }
    if end < b.len() && (b[end] == b'e' || b[end] == b'E') {
        let mut e = end + 1;
        if e < b.len() && (b[e] == b'-' || b[e] == b'+') {
            e += 1;
        }
        if e < b.len() && b[e].is_ascii_digit() {
            while e < b.len() && b[e].is_ascii_digit() {
                e += 1;
            }
            end = e;
        }
    }
    let mut text = &s[..end];
    while !text.is_empty() {
        if let Ok(v) = text.parse() {
            return v;
        }
        text = &text[..text.len() - 1];
    }
    0.0
}

impl ClusterOptions {
    /// True once `--cluster <command>` was given.
    pub(crate) fn active(&self) -> bool {
        self.name.is_some()
    }

    /// Takes `args[*i]` when it is a cluster option (or, in cluster mode, a bare word),
    /// leaving `*i` on the last word it used. `Ok(false)`: not ours.
    pub(crate) fn parse_option(&mut self, args: &[String], i: &mut usize) -> Result<bool, Stop> {
        let arg = args[*i].as_str();
        let lastarg = *i + 1 >= args.len();
        let mut value = || {
            *i += 1;
            args[*i].clone()
        };
        match arg {
            "--cluster" if !lastarg => {
                if self.active() {
                    return Err(usage_error());
                }
                let cmd = value();
                let start = *i;
                let mut j = start;
                while j < args.len() && !args[j].starts_with('-') {
                    j += 1;
                }
                if j > start {
                    j -= 1;
                }
                self.name = Some(cmd);
                self.args = args[start + 1..=j.max(start)].to_vec();
                if j == start {
                    self.args.clear();
                }
                *i = j;
            }
            "--cluster" => return Err(usage_error()),
            "--cluster-only-masters" => self.flags |= FLAG_MASTERS_ONLY,
            "--cluster-only-replicas" => self.flags |= FLAG_SLAVES_ONLY,
            "--cluster-replicas" if !lastarg => self.replicas = i64::from(c_int(&value()) as i32),
            "--cluster-master-id" if !lastarg => self.master_id = Some(value()),
            "--cluster-from" if !lastarg => self.from = Some(value()),
            "--cluster-to" if !lastarg => self.to = Some(value()),
            "--cluster-from-user" if !lastarg => self.from_user = Some(value()),
            "--cluster-from-pass" if !lastarg => self.from_pass = Some(value()),
            "--cluster-from-askpass" => self.from_askpass = true,
            "--cluster-weight" if !lastarg => {
                if self.weights.is_some() {
                    return Err(Stop::Fail(
                        "WARNING: you cannot use --cluster-weight more than once.\n\
                         You can set more weights by adding them as a space-separated list, ie:\n\
                         --cluster-weight n1=w n2=w"
                            .to_string(),
                    ));
                }
                let weights: Vec<String> = args[*i + 1..]
                    .iter()
                    .take_while(|w| !w.starts_with("--") && w.contains('='))
                    .cloned()
                    .collect();
                if !weights.is_empty() {
                    *i += weights.len();
                    self.weights = Some(weights);
                }
            }
            "--cluster-slots" if !lastarg => self.slots = i64::from(c_int(&value()) as i32),
            "--cluster-timeout" if !lastarg => self.timeout = i64::from(c_int(&value()) as i32),
            "--cluster-pipeline" if !lastarg => self.pipeline = i64::from(c_int(&value()) as i32),
            "--cluster-threshold" if !lastarg => self.threshold = c_float(&value()) as f32,
            "--cluster-yes" => self.flags |= FLAG_YES,
            "--cluster-simulate" => self.flags |= FLAG_SIMULATE,
            "--cluster-replace" => self.flags |= FLAG_REPLACE,
            "--cluster-copy" => self.flags |= FLAG_COPY,
            "--cluster-slave" => self.flags |= FLAG_SLAVE,
            "--cluster-use-empty-masters" => self.flags |= FLAG_EMPTYMASTER,
            "--cluster-search-multiple-owners" => self.flags |= FLAG_CHECK_OWNERS,
            "--cluster-fix-with-unreachable-masters" => {
                self.flags |= FLAG_FIX_WITH_UNREACHABLE_MASTERS
            }
            _ if self.active() && !arg.starts_with('-') => {
                // Words after the options are the command's arguments, if it has none yet.
                if self.args.is_empty() {
                    let mut j = *i + 1;
                    while j < args.len() && !args[j].starts_with('-') {
                        j += 1;
                    }
                    self.args = args[*i..j].to_vec();
                    if j - *i > 1 {
                        *i = j - 1;
                    }
                }
            }
            _ => return Ok(false),
        }
        Ok(true)
    }
}

/// `usage(1)`: the usage text on stderr, exit 1.
fn usage_error() -> Stop {
    let text = crate::usage();
    Stop::Fail(text.strip_suffix('\n').unwrap_or(&text).to_string())
}

/// One subcommand: name, arity (negative: at least), arguments and options for `help`.
struct Subcommand {
    name: &'static str,
    run: fn(&mut Ctx, &[String]) -> bool,
    arity: i32,
    args: Option<&'static str>,
    options: Option<&'static str>,
}

const ANY_NODE: &str = "<host:port> or <host> <port> - separated by either colon or space";

const SUBCOMMANDS: &[Subcommand] = &[
    Subcommand {
        name: "create",
        run: create::create,
        arity: -2,
        args: Some("host1:port1 ... hostN:portN"),
        options: Some("replicas <arg>"),
    },
    Subcommand {
        name: "check",
        run: check::check,
        arity: -1,
        args: Some(ANY_NODE),
        options: Some("search-multiple-owners"),
    },
    Subcommand {
        name: "info",
        run: admin::info,
        arity: -1,
        args: Some(ANY_NODE),
        options: None,
    },
    Subcommand {
        name: "fix",
        run: check::fix,
        arity: -1,
        args: Some(ANY_NODE),
        options: Some("search-multiple-owners,fix-with-unreachable-masters"),
    },
    Subcommand {
        name: "reshard",
        run: migrate::reshard,
        arity: -1,
        args: Some(ANY_NODE),
        options: Some("from <arg>,to <arg>,slots <arg>,yes,timeout <arg>,pipeline <arg>,replace"),
    },
    Subcommand {
        name: "rebalance",
        run: migrate::rebalance,
        arity: -1,
        args: Some(ANY_NODE),
        options: Some(
            "weight <node1=w1...nodeN=wN>,use-empty-masters,timeout <arg>,simulate,pipeline <arg>,threshold <arg>,replace",
        ),
    },
    Subcommand {
        name: "add-node",
        run: admin::add_node,
        arity: 2,
        args: Some("new_host:new_port existing_host:existing_port"),
        options: Some("slave,master-id <arg>"),
    },
    Subcommand {
        name: "del-node",
        run: admin::del_node,
        arity: 2,
        args: Some("host:port node_id"),
        options: None,
    },
    Subcommand {
        name: "call",
        run: admin::call,
        arity: -2,
        args: Some("host:port command arg arg .. arg"),
        options: Some("only-masters,only-replicas"),
    },
    Subcommand {
        name: "set-timeout",
        run: admin::set_timeout,
        arity: 2,
        args: Some("host:port milliseconds"),
        options: None,
    },
    Subcommand {
        name: "import",
        run: admin::import,
        arity: 1,
        args: Some("host:port"),
        options: Some("from <arg>,from-user <arg>,from-pass <arg>,from-askpass,copy,replace"),
    },
    Subcommand {
        name: "backup",
        run: admin::backup,
        arity: 2,
        args: Some("host:port backup_directory"),
        options: None,
    },
    Subcommand {
        name: "help",
        run: help,
        arity: 0,
        args: None,
        options: None,
    },
];

/// What every subcommand reads: the options, and the cluster once loaded.
struct Ctx {
    opts: ClusterOptions,
    auth: Auth,
    verbose: bool,
    mb_delim: Vec<u8>,
    cluster: node::Cluster,
    /// The bar of the slot moves under way, on a terminal.
    bar: Option<indicatif::ProgressBar>,
}

/// The credentials every node connection sends (`-a`, `--user`).
#[derive(Clone, Debug, Default)]
struct Auth {
    user: Option<Vec<u8>>,
    pass: Option<Vec<u8>>,
}

static COLOR: AtomicBool = AtomicBool::new(false);

/// Runs `--cluster`: exit 0 when the subcommand succeeded, else 1.
pub(crate) fn main(mut opts: Options) -> ExitCode {
    let mut copts = std::mem::take(&mut opts.cluster);
    let name = copts.name.clone().unwrap_or_default();
    if std::env::var("TERM").is_ok_and(|t| t.contains("xterm")) {
        COLOR.store(true, Ordering::Relaxed);
    }
    if std::env::var("REDISCLI_CLUSTER_YES").as_deref() == Ok("1") {
        copts.flags |= FLAG_YES;
    }
    if copts.from_askpass {
        copts.from_pass = Some(crate::repl::ask_password(
            "Please input import source node password: ",
        ));
    }
    if opts.stdin_lastarg || opts.stdin_tag.is_some() {
        let mut input = Vec::new();
        let _ = std::io::stdin().lock().read_to_end(&mut input);
        let input = String::from_utf8_lossy(&input).into_owned();
        if opts.stdin_lastarg {
            copts.args.push(input);
        } else if let Some(tag) = &opts.stdin_tag {
            match copts
                .args
                .iter()
                .position(|a| a.as_bytes() == tag.as_slice())
            {
                Some(i) => copts.args[i] = input,
                None => {
                    eprintln!("Using -X option but stdin tag not match.");
                    return ExitCode::FAILURE;
                }
            }
        }
    }
    let mut found = None;
    for sub in SUBCOMMANDS {
        if sub.name == name {
            let argc = copts.args.len() as i32;
            if (sub.arity > 0 && argc != sub.arity) || (sub.arity < 0 && argc < -sub.arity) {
                eprintln!("[ERR] Wrong number of arguments for specified --cluster sub command");
                return ExitCode::FAILURE;
            }
            found = Some(sub);
        }
    }
    let Some(sub) = found else {
        eprintln!("Unknown --cluster subcommand");
        return ExitCode::FAILURE;
    };
    let args = copts.args.clone();
    let mut ctx = Ctx {
        opts: copts,
        auth: Auth {
            user: opts.user.clone(),
            pass: opts.auth.clone(),
        },
        verbose: opts.verbose,
        mb_delim: opts.mb_delim.clone(),
        cluster: node::Cluster::default(),
        bar: None,
    };
    let ok = (sub.run)(&mut ctx, &args);
    let _ = std::io::stdout().flush();
    if ok {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    }
}

/// `--cluster help`; like the real tool it exits 1.
fn help(_ctx: &mut Ctx, _args: &[String]) -> bool {
    let padding = 15;
    let mut out = String::from("Cluster Manager Commands:\n");
    for sub in SUBCOMMANDS {
        out.push_str(&format!(
            "  {:<width$}{}\n",
            sub.name,
            sub.args.unwrap_or(""),
            width = padding.max(sub.name.len())
        ));
        if let Some(options) = sub.options {
            for opt in options.split(',').filter(|o| !o.is_empty()) {
                out.push_str(&format!("{:padding$}  --cluster-{opt}\n", ""));
            }
        }
    }
    out.push_str(
        "\nFor check, fix, reshard, del-node, set-timeout, info, rebalance, call, import, backup you can specify the host and port of any working node in the cluster.\n",
    );
    out.push_str("\nCluster Manager Options:\n");
    out.push_str(&format!(
        "  {:<padding$}{}\n",
        "--cluster-yes", "Automatic yes to cluster commands prompts"
    ));
    out.push('\n');
    print!("{out}");
    false
}

/// The colour of a cluster manager message.
#[derive(Clone, Copy)]
enum Level {
    Info,
    Warn,
    Err,
    Ok,
}

/// Prints `text` to stdout, coloured when `TERM` names an xterm.
fn log(level: Level, text: &str) {
    let mut out = std::io::stdout().lock();
    if COLOR.load(Ordering::Relaxed) {
        let code = match level {
            Level::Info => "29;1m",
            Level::Warn => "33;1m",
            Level::Err => "31;1m",
            Level::Ok => "32;1m",
        };
        let _ = write!(out, "\x1b[{code}{text}\x1b[0m");
    } else {
        let _ = out.write_all(text.as_bytes());
    }
}

macro_rules! log_info { ($($t:tt)*) => { $crate::cluster::log($crate::cluster::Level::Info, &format!($($t)*)) } }
macro_rules! log_warn { ($($t:tt)*) => { $crate::cluster::log($crate::cluster::Level::Warn, &format!($($t)*)) } }
macro_rules! log_err { ($($t:tt)*) => { $crate::cluster::log($crate::cluster::Level::Err, &format!($($t)*)) } }
macro_rules! log_ok { ($($t:tt)*) => { $crate::cluster::log($crate::cluster::Level::Ok, &format!($($t)*)) } }
use {log_err, log_info, log_ok, log_warn};

fn flush() {
    let _ = std::io::stdout().flush();
}

/// Reads at most `max` bytes of one answer from stdin, as redis-cli's `read(2)` does;
/// `None` at end of input.
fn read_answer(max: usize) -> Option<Vec<u8>> {
    let mut buf = vec![0u8; max];
    let n = std::io::stdin().lock().read(&mut buf).ok()?;
    if n == 0 {
        return None;
    }
    buf.truncate(n);
    Some(buf)
}

/// `confirmWithYes`: `--cluster-yes` answers unless `ignore_force`.
fn confirm(ctx: &Ctx, msg: &str, ignore_force: bool) -> bool {
    if !ignore_force && ctx.opts.flags & FLAG_YES != 0 {
        return true;
    }
    print!("{msg} (type 'yes' to accept): ");
    flush();
    match read_answer(4) {
        Some(answer) => answer.get(..3) == Some(b"yes"),
        None => false,
    }
}

/// glibc's `srand(time(NULL))` then `rand()`, the generator the real tool shuffles with.
fn seed_time() {
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0);
    // SAFETY: srand only sets the C library's generator state; nothing else uses it here.
    unsafe { libc::srand(now as libc::c_uint) };
}

fn rand() -> usize {
    // SAFETY: rand reads and advances the C library's generator state.
    let r = unsafe { libc::rand() };
    r.max(0) as usize
}

/// True when stdout is a terminal: progress bars instead of Redis's dots.
fn stdout_tty() -> bool {
    std::io::stdout().is_terminal()
}

/// `ip:port[@bus_port]`: the address, port and bus port (0 when absent).
fn parse_address(addr: &str) -> Option<(String, i64, i64)> {
    let (addr, bus) = match addr.rfind('@') {
        Some(at) => (&addr[..at], c_int(&addr[at + 1..])),
        None => (addr, 0),
    };
    let colon = addr.rfind(':')?;
    Some((
        addr[..colon].to_string(),
        i64::from(c_int(&addr[colon + 1..]) as i32),
        bus,
    ))
}

/// `<host:port>` or `<host> <port>`.
fn host_from_args(args: &[String]) -> Option<(String, i64)> {
    let (ip, port) = match args {
        [one] => {
            let (ip, port, _) = parse_address(one)?;
            (ip, port)
        }
        [ip, port, ..] => (ip.clone(), i64::from(c_int(port) as i32)),
        [] => return None,
    };
    if port == 0 { None } else { Some((ip, port)) }
}

fn invalid_host() -> bool {
    eprintln!("{INVALID_HOST_ARG}");
    false
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(args: &[&str]) -> Result<(Options, usize), Stop> {
        let args: Vec<String> = args.iter().map(|s| s.to_string()).collect();
        Options::parse(&args, &mut |_| {})
    }

    #[test]
    fn cluster_words_and_options_are_split_as_redis_cli_does() {
        let (o, _) = parse(&[
            "--cluster",
            "create",
            "a:1",
            "b:2",
            "--cluster-replicas",
            "1",
            "--cluster-yes",
        ])
        .unwrap();
        assert_eq!(o.cluster.name.as_deref(), Some("create"));
        assert_eq!(o.cluster.args, ["a:1", "b:2"]);
        assert_eq!(o.cluster.replicas, 1);
        assert_ne!(o.cluster.flags & FLAG_YES, 0);
        let (o, _) = parse(&["--cluster", "check", "--cluster-yes", "h", "7000"]).unwrap();
        assert_eq!(o.cluster.args, ["h", "7000"]);
        let (o, _) = parse(&["--cluster", "help"]).unwrap();
        assert!(o.cluster.args.is_empty());
        let (o, _) = parse(&[
            "--cluster",
            "rebalance",
            "h:1",
            "--cluster-weight",
            "a=1",
            "b=2",
        ])
        .unwrap();
        assert_eq!(o.cluster.weights.unwrap(), ["a=1", "b=2"]);
    }

    #[test]
    fn addresses_parse_like_the_real_tool() {
        assert_eq!(
            parse_address("127.0.0.1:7000@17000"),
            Some(("127.0.0.1".into(), 7000, 17000))
        );
        assert_eq!(
            host_from_args(&["h".into(), "7".into()]),
            Some(("h".into(), 7))
        );
        assert_eq!(host_from_args(&["h:0".into()]), None);
        assert_eq!(host_from_args(&["nocolon".into()]), None);
        assert_eq!(c_float("2.5x"), 2.5);
    }

    #[test]
    fn help_lists_every_subcommand() {
        assert_eq!(SUBCOMMANDS.len(), 13);
    }
}
