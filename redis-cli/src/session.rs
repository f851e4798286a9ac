//! The connection state and the command loop shared by one-shot mode, `--eval`, lines read
//! from stdin and the REPL: connect (AUTH, SELECT, HELLO 3), send, read, print, follow
//! `MOVED`/`ASK`, and track SELECT/MULTI for the prompt.

use std::io::{self, Write};
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use common::resp::Frame;

use crate::connection::{Connection, Target, describe};
use crate::format::{self, Output};
use crate::hints::{self, HelpTable};
use crate::options::Options;

/// Set by Ctrl-C while MONITOR or SUBSCRIBE output streams in the REPL.
pub(crate) static INTERRUPTED: AtomicBool = AtomicBool::new(false);
/// True while such a stream runs; Ctrl-C at any other time ends redis-cli.
pub(crate) static STREAMING: AtomicBool = AtomicBool::new(false);

/// How long a streaming read waits before looking at [`INTERRUPTED`].
const STREAM_POLL: Duration = Duration::from_millis(100);

/// redis-cli ends with this exit status.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Exit(pub(crate) u8);

/// The kind of the last reply, for the MULTI/EXEC bookkeeping and `-e`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    Error,
    Nil,
    Other,
}

pub(crate) struct Session {
    pub(crate) opts: Options,
    conn: Option<Connection>,
    /// The database selected on the connection.
    pub(crate) dbnum: i64,
    pub(crate) in_multi: bool,
    pre_multi_dbnum: i64,
    pub(crate) interactive: bool,
    shutdown: bool,
    monitor_mode: bool,
    pubsub_mode: bool,
    last: Kind,
    reissue: bool,
    send_asking: bool,
    help: Option<HelpTable>,
    stdout: io::Stdout,
}

fn is(arg: &[u8], name: &str) -> bool {
    arg.eq_ignore_ascii_case(name.as_bytes())
}

/// Commands whose replies redis-cli prints raw whatever the mode (INFO and friends).
fn prints_raw(argv: &[Vec<u8>]) -> bool {
    let cmd = &argv[0];
    let sub = |name: &str| argv.len() >= 2 && is(&argv[1], name);
    is(cmd, "info")
        || is(cmd, "lolwut")
        || (is(cmd, "debug") && (sub("htstats") || sub("htstats-key") || sub("client-eviction")))
        || (is(cmd, "memory") && (sub("malloc-stats") || sub("doctor")))
        || (argv.len() == 2 && is(cmd, "cluster") && (sub("nodes") || sub("info")))
        || (is(cmd, "client") && (sub("list") || sub("info")))
        || (argv.len() == 3 && is(cmd, "latency") && sub("graph"))
        || (argv.len() == 2 && is(cmd, "latency") && sub("doctor"))
        || (is(cmd, "proxy") && sub("info"))
}

impl Session {
    pub(crate) fn new(opts: Options) -> Session {
        Session {
            opts,
            conn: None,
            dbnum: 0,
            in_multi: false,
            pre_multi_dbnum: 0,
            interactive: false,
            shutdown: false,
            monitor_mode: false,
            pubsub_mode: false,
            last: Kind::Other,
            reissue: false,
            send_asking: false,
            help: None,
            stdout: io::stdout(),
        }
    }

    pub(crate) fn connected(&self) -> bool {
        self.conn.is_some()
    }

    fn out(&mut self, bytes: &[u8]) {
        let mut lock = self.stdout.lock();
        let _ = lock.write_all(bytes);
        let _ = lock.flush();
    }

    /// The REPL prompt: `127.0.0.1:6379[2](TX)> `.
    pub(crate) fn prompt(&self) -> String {
        let mut prompt = match &self.opts.socket {
            Some(path) => format!("redis {path}"),
            None => self.opts.address(),
        };
        if self.dbnum != 0 {
            prompt.push_str(&format!("[{}]", self.dbnum));
        }
        if self.in_multi {
            prompt.push_str("(TX)");
        }
        prompt.push_str("> ");
        prompt
    }

    fn target(&self) -> Target {
        // A redirection goes over TCP even when we started on a Unix socket.
        if self.opts.cluster_mode && self.reissue {
            Target::Tcp {
                host: self.opts.host.clone(),
                port: self.opts.port as u16,
            }
        } else {
            self.opts.target()
        }
    }

    /// Connects (again with `force`), then AUTH, SELECT and HELLO 3 as asked. `quiet` keeps a
    /// failed connection quiet; failures of the commands that follow are always reported.
    pub(crate) fn connect(&mut self, force: bool, quiet: bool) -> bool {
        if self.conn.is_some() && !force {
            return true;
        }
        if self.conn.take().is_some() {
            self.dbnum = 0;
            self.in_multi = false;
        }
        let target = self.target();
        let conn = match Connection::connect(&target) {
            Ok(conn) => conn,
            Err(e) => {
                if let Some(reason) = crate::connection::tls_failure(&e) {
                    eprintln!("Could not negotiate a TLS connection: {reason}");
                    return false;
                }
                if !quiet {
                    let place = match &target {
                        Target::Tcp { host, port } => format!("{host}:{port}"),
                        Target::Unix(path) => path.clone(),
                    };
                    eprintln!("Could not connect to Redis at {place}: {}", describe(&e));
                }
                return false;
            }
        };
        self.conn = Some(conn);
        self.auth() && self.select() && self.switch_protocol()
    }

    /// A setup command: `Some(reply)`, or `None` after reporting an I/O error.
    fn setup_command(&mut self, args: &[Vec<u8>]) -> Option<Frame> {
        let conn = self.conn.as_mut()?;
        match conn.command(args) {
            Ok(frame) => Some(frame),
            Err(_) => {
                eprintln!("\nI/O error");
                None
            }
        }
    }

    fn auth(&mut self) -> bool {
        let Some(pass) = self.opts.auth.clone() else {
            return true;
        };
        let mut args = vec![b"AUTH".to_vec()];
        if let Some(user) = &self.opts.user {
            args.push(user.clone());
        }
        args.push(pass);
        match self.setup_command(&args) {
            None => false,
            Some(Frame::Error(e)) => {
                eprintln!("AUTH failed: {}", String::from_utf8_lossy(&e));
                false
            }
            Some(_) => true,
        }
    }

    pub(crate) fn select(&mut self) -> bool {
        if self.opts.db == self.dbnum {
            return true;
        }
        let db = self.opts.db;
        match self.setup_command(&[b"SELECT".to_vec(), db.to_string().into_bytes()]) {
            None => false,
            Some(Frame::Error(e)) => {
                eprintln!("SELECT {db} failed: {}", String::from_utf8_lossy(&e));
                false
            }
            Some(_) => {
                self.dbnum = db;
                true
            }
        }
    }

    fn switch_protocol(&mut self) -> bool {
        if self.opts.resp3 == 0 || self.opts.resp2 {
            return true;
        }
        match self.setup_command(&[b"HELLO".to_vec(), b"3".to_vec()]) {
            None => false,
            Some(Frame::Error(e)) => {
                eprintln!("HELLO 3 failed: {}", String::from_utf8_lossy(&e));
                self.opts.resp3 == 2
            }
            Some(_) => true,
        }
    }

    /// `help ...` without a connection of its own: topics from the server or our table.
    pub(crate) fn help_table(&mut self) -> &HelpTable {
        if self.help.is_none() {
            let table = if self.connect(false, true) {
                match self.conn.as_mut().map(|c| c.command(&["COMMAND", "DOCS"])) {
                    Some(Ok(docs @ (Frame::Map(_) | Frame::Array(_)))) => {
                        HelpTable::from_docs(&docs)
                    }
                    _ => HelpTable::from_table(),
                }
            } else {
                HelpTable::from_table()
            };
            self.help = Some(table);
        }
        self.help.get_or_insert_with(HelpTable::default)
    }

    /// The loaded help topics, if any.
    pub(crate) fn loaded_help(&self) -> Option<&HelpTable> {
        self.help.as_ref()
    }

    fn print_context_error(&self, err: Option<&io::Error>) {
        if self.conn.is_some() {
            eprintln!("Error: {}", err.map(describe).unwrap_or_default());
        }
    }

    /// Runs a command `repeat` times (redis-cli's `issueCommandRepeat`): `Ok(false)` when
    /// it could not be sent or its connection was lost.
    pub(crate) fn issue(&mut self, argv: &[Vec<u8>], repeat: i64) -> Result<bool, Exit> {
        if is(&argv[0], "help") || is(&argv[0], "?") {
            let out = if argv.len() == 1 {
                hints::generic_help().into_bytes()
            } else {
                self.help_table().output(&argv[1..])
            };
            self.out(&out);
            return Ok(true);
        }
        loop {
            if (self.reissue || self.conn.is_none()) && !self.connect(true, false) {
                self.print_context_error(None);
                self.reissue = false;
                return Ok(false);
            }
            self.reissue = false;
            if self.send_asking {
                self.send_asking = false;
                match self.setup_command(&[b"ASKING".to_vec()]) {
                    None => return Ok(false),
                    Some(Frame::Error(e)) => {
                        eprintln!("ASKING failed: {}", String::from_utf8_lossy(&e));
                        return Ok(false);
                    }
                    Some(_) => {}
                }
            }
            if !self.send_command(argv, repeat)? {
                self.conn = None;
                return Ok(false);
            }
            if self.opts.cluster_mode && self.reissue {
                continue;
            }
            return Ok(true);
        }
    }

    /// Sends and prints, `repeat` times (negative: forever).
    fn send_command(&mut self, argv: &[Vec<u8>], mut repeat: i64) -> Result<bool, Exit> {
        let raw = prints_raw(argv);
        let cmd = &argv[0];
        if is(cmd, "shutdown") {
            self.shutdown = true;
        }
        if is(cmd, "monitor") {
            self.monitor_mode = true;
        }
        if is(cmd, "subscribe") || is(cmd, "psubscribe") || is(cmd, "ssubscribe") {
            self.pubsub_mode = true;
        }
        while repeat != 0 {
            if repeat > 0 {
                repeat -= 1;
            }
            let Some(conn) = self.conn.as_mut() else {
                return Ok(false);
            };
            if let Err(e) = conn.send(argv) {
                if self.interactive {
                    self.print_context_error(Some(&e));
                    return Ok(false);
                }
                eprintln!("Error: {}", describe(&e));
                return Err(Exit(1));
            }
            if self.monitor_mode || self.pubsub_mode {
                let pubsub = self.pubsub_mode;
                if pubsub && self.opts.output != Output::Raw {
                    self.out(b"Reading messages... (press Ctrl-C to quit)\n");
                }
                self.stream(raw)?;
                if pubsub {
                    continue;
                }
                return Ok(true);
            }
            if !self.read_reply(raw, false)? {
                return Ok(false);
            }
            self.track_state(argv);
            if self.reissue {
                break;
            }
            if self.opts.interval_us > 0 {
                std::thread::sleep(Duration::from_micros(self.opts.interval_us));
            }
        }
        Ok(true)
    }

    /// MONITOR or SUBSCRIBE: prints replies until an error, the connection ends, or Ctrl-C
    /// (then reconnects).
    fn stream(&mut self, raw: bool) -> Result<(), Exit> {
        STREAMING.store(true, Ordering::SeqCst);
        if let Some(conn) = self.conn.as_ref() {
            let _ = conn.set_read_timeout(Some(STREAM_POLL));
        }
        let result = loop {
            match self.read_reply(raw, true) {
                Ok(true) => {}
                Ok(false) => {
                    eprintln!("Error: Server closed the connection");
                    break Err(Exit(1));
                }
                Err(exit) => break Err(exit),
            }
            if !self.monitor_mode && !self.pubsub_mode {
                break Ok(());
            }
            if self.last == Kind::Error {
                break Ok(());
            }
        };
        self.monitor_mode = false;
        self.pubsub_mode = false;
        STREAMING.store(false, Ordering::SeqCst);
        if let Some(conn) = self.conn.as_ref() {
            let _ = conn.set_read_timeout(None);
        }
        result
    }

    /// Reads one reply and prints it (redis-cli's `cliReadReply`). `Ok(false)`: the connection
    /// is gone in a way the REPL recovers from.
    fn read_reply(&mut self, raw: bool, streaming: bool) -> Result<bool, Exit> {
        let frame = loop {
            let Some(conn) = self.conn.as_mut() else {
                return Ok(false);
            };
            let read = conn.read_reply();
            match read {
                Ok(Frame::Push(items)) if !streaming => {
                    // Out-of-band pushes are shown only when stdout is a terminal.
                    if self.opts.push_output {
                        let frame = Frame::Push(items);
                        let shown = format::push(
                            &frame,
                            self.opts.output,
                            &self.opts.mb_delim,
                            &self.opts.cmd_delim,
                        );
                        self.print_or_die(shown)?;
                    }
                }
                Ok(frame) => break frame,
                Err(e)
                    if streaming
                        && matches!(
                            e.kind(),
                            io::ErrorKind::WouldBlock | io::ErrorKind::TimedOut
                        ) =>
                {
                    if INTERRUPTED.swap(false, Ordering::SeqCst) {
                        self.monitor_mode = false;
                        self.pubsub_mode = false;
                        self.connect(true, false);
                        return Ok(true);
                    }
                }
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                Err(e) => {
                    if self.shutdown {
                        self.conn = None;
                        return Ok(true);
                    }
                    if self.interactive
                        && matches!(
                            e.kind(),
                            io::ErrorKind::UnexpectedEof
                                | io::ErrorKind::ConnectionReset
                                | io::ErrorKind::BrokenPipe
                        )
                    {
                        return Ok(false);
                    }
                    eprintln!("Error: {}", describe(&e));
                    return Err(Exit(1));
                }
            }
        };
        self.last = match frame {
            Frame::Error(_) => Kind::Error,
            Frame::Null => Kind::Nil,
            _ => Kind::Other,
        };
        if let Frame::Error(e) = &frame {
            if self.opts.cluster_mode && (e.starts_with(b"MOVED ") || e.starts_with(b"ASK ")) {
                self.redirect(e);
                return Ok(true);
            }
            if !self.interactive && self.opts.set_errcode {
                eprintln!("{}", String::from_utf8_lossy(e));
                return Err(Exit(1));
            }
        }
        let shown = format::reply(
            &frame,
            self.opts.output,
            raw,
            &self.opts.mb_delim,
            &self.opts.cmd_delim,
        );
        self.print_or_die(shown)?;
        Ok(true)
    }

    fn print_or_die(&mut self, shown: Result<Vec<u8>, format::UnknownType>) -> Result<(), Exit> {
        match shown {
            Ok(bytes) => {
                self.out(&bytes);
                Ok(())
            }
            // hiredis as vendored in 7.0.15 does not read attributes at all.
            Err(format::UnknownType(11)) => {
                eprintln!("Error: Protocol error, got \"|\" as reply type byte");
                Err(Exit(1))
            }
            Err(format::UnknownType(kind)) => {
                eprintln!("Unknown reply type: {kind}");
                Err(Exit(1))
            }
        }
    }

    /// `MOVED 3999 127.0.0.1:6381` or `ASK ...`: the next attempt goes there.
    fn redirect(&mut self, error: &[u8]) {
        let text = String::from_utf8_lossy(error);
        let mut words = text.split(' ');
        let kind = words.next().unwrap_or_default();
        let slot = crate::options::c_int(words.next().unwrap_or_default());
        let addr = words.next().unwrap_or_default();
        let (host, port) = addr.rsplit_once(':').unwrap_or((addr, "0"));
        self.opts.host = host.to_string();
        self.opts.port = crate::options::c_int(port) as i32;
        if self.interactive {
            let line = format!(
                "-> Redirected to slot [{slot}] located at {}:{}\n",
                self.opts.host, self.opts.port
            );
            self.out(line.as_bytes());
        }
        self.reissue = true;
        if kind == "ASK" {
            self.send_asking = true;
        }
    }

    /// SELECT, AUTH, MULTI, EXEC, DISCARD and RESET change what the prompt shows.
    fn track_state(&mut self, argv: &[Vec<u8>]) {
        let cmd = &argv[0];
        let ok = self.last != Kind::Error;
        if is(cmd, "select") && argv.len() == 2 && ok {
            let db = i64::from(crate::options::c_int(&String::from_utf8_lossy(&argv[1])) as i32);
            self.opts.db = db;
            self.dbnum = db;
        } else if is(cmd, "auth") && (argv.len() == 2 || argv.len() == 3) {
            self.select();
        } else if is(cmd, "multi") && argv.len() == 1 && ok {
            self.in_multi = true;
            self.pre_multi_dbnum = self.dbnum;
        } else if is(cmd, "exec") && argv.len() == 1 && self.in_multi {
            self.in_multi = false;
            if matches!(self.last, Kind::Error | Kind::Nil) {
                self.opts.db = self.pre_multi_dbnum;
                self.dbnum = self.pre_multi_dbnum;
            }
        } else if is(cmd, "discard") && argv.len() == 1 && ok {
            self.in_multi = false;
            self.opts.db = self.pre_multi_dbnum;
            self.dbnum = self.pre_multi_dbnum;
        } else if is(cmd, "reset") && argv.len() == 1 && ok {
            self.in_multi = false;
            self.dbnum = 0;
            self.opts.db = 0;
            self.opts.resp3 = 0;
        }
    }

    /// redis-cli's `reconnectingRedisCommand`: one command and its reply; while the server
    /// cannot be reached, `Reconnecting... N` is shown and a new connection tried every second.
    pub(crate) fn reconnecting_command(&mut self, args: &[Vec<u8>]) -> Result<Frame, Exit> {
        let mut tries = 0u64;
        loop {
            while self.conn.is_none() {
                tries += 1;
                self.out(format!("\r\x1b[0KReconnecting... {tries}\r").as_bytes());
                self.connect(true, true);
                std::thread::sleep(Duration::from_secs(1));
            }
            match self.conn.as_mut().map(|c| c.command(args)) {
                Some(Ok(frame)) => return Ok(frame),
                _ => self.conn = None,
            }
        }
    }

    /// The raw connection, for `--pipe` and `--scan`.
    pub(crate) fn connection(&mut self) -> Option<&mut Connection> {
        self.conn.as_mut()
    }
}
