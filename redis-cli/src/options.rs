//! Command-line options, parsed as redis-cli 7.0.15 parses them: options come first, and the
//! first word not starting with `-` begins the command.

use std::io::IsTerminal;

use crate::format::Output;

/// `--pipe-timeout`'s default, in seconds.
pub(crate) const DEFAULT_PIPE_TIMEOUT: i64 = 30;

/// What the options ask for.
#[derive(Debug)]
pub(crate) struct Options {
    pub(crate) host: String,
    pub(crate) port: i32,
    pub(crate) socket: Option<String>,
    pub(crate) user: Option<Vec<u8>>,
    pub(crate) auth: Option<Vec<u8>>,
    pub(crate) askpass: bool,
    /// `-n`, or the database of `-u`.
    pub(crate) db: i64,
    pub(crate) repeat: i64,
    pub(crate) interval_us: u64,
    pub(crate) stdin_lastarg: bool,
    pub(crate) stdin_tag: Option<Vec<u8>>,
    pub(crate) quoted_input: bool,
    pub(crate) output: Output,
    pub(crate) push_output: bool,
    pub(crate) mb_delim: Vec<u8>,
    pub(crate) cmd_delim: Vec<u8>,
    pub(crate) eval: Option<String>,
    pub(crate) set_errcode: bool,
    pub(crate) no_auth_warning: bool,
    pub(crate) resp2: bool,
    /// 1 for `-3`, 2 when `--json` asked for RESP3 (then a server without HELLO is fine).
    pub(crate) resp3: u8,
    pub(crate) cluster_mode: bool,
    pub(crate) pipe: bool,
    pub(crate) pipe_timeout: i64,
    pub(crate) scan: bool,
    pub(crate) pattern: Option<Vec<u8>>,
    pub(crate) verbose: bool,
    /// `--rdb FILE` / `--functions-rdb FILE`: the file, and whether only functions are wanted.
    pub(crate) rdb: Option<(String, bool)>,
    pub(crate) replica: bool,
    /// `--cluster <command>` and the `--cluster-*` options.
    pub(crate) cluster: crate::cluster::ClusterOptions,
    /// `--latency` / `--latency-history`: `Some(history)`.
    pub(crate) latency: Option<bool>,
    pub(crate) latency_dist: bool,
    /// `--mono`: `--latency-dist` in greys.
    pub(crate) mono: bool,
    pub(crate) stat: bool,
    /// `--intrinsic-latency SECONDS`.
    pub(crate) intrinsic_latency: Option<i64>,
    pub(crate) bigkeys: bool,
    /// `--memkeys` (`Some(0)`: the server's default samples) or `--memkeys-samples N`.
    pub(crate) memkeys: Option<u32>,
    pub(crate) hotkeys: bool,
    /// `--lru-test N`: the number of keys of the simulated LRU workload.
    pub(crate) lru_test: Option<i64>,
    /// `--tls` or a `rediss://` URI.
    pub(crate) tls: bool,
    /// `--sni`, `--cacert`, `--cacertdir`, `--insecure`, `--cert`, `--key`, `--tls-ciphers`,
    /// `--tls-ciphersuites`.
    pub(crate) tls_options: common::tls::ClientOptions,
}

/// How parsing ended when it does not go on to connect.
#[derive(Debug, PartialEq, Eq)]
pub(crate) enum Stop {
    /// Print the usage text to stdout and exit 0.
    Help,
    /// Print the version and exit 0.
    Version,
    /// Print this line to stderr and exit 1.
    Fail(String),
}

/// C's `atoi`/`strtoll`: leading blanks, a sign, digits; anything else ends the number.
pub(crate) fn c_int(s: &str) -> i64 {
    let s = s.trim_start_matches([' ', '\t', '\n', '\r', '\x0b', '\x0c']);
    let (neg, digits) = match s.as_bytes().first() {
        Some(b'-') => (true, &s[1..]),
        Some(b'+') => (false, &s[1..]),
        _ => (false, s),
    };
    let mut n: i64 = 0;
    for b in digits.bytes().take_while(u8::is_ascii_digit) {
        n = n.saturating_mul(10).saturating_add(i64::from(b - b'0'));
    }
    if neg { -n } else { n }
}

/// C's `strtoull` on a SCAN cursor: the leading digits, 0 when there are none.
pub(crate) fn c_uint(s: &str) -> u64 {
    let digits = s.trim_start().trim_start_matches('+');
    let mut n: u64 = 0;
    for b in digits.bytes().take_while(u8::is_ascii_digit) {
        n = n.wrapping_mul(10).wrapping_add(u64::from(b - b'0'));
    }
    n
}

/// C's `atof`, for `-i`.
fn c_float(s: &str) -> f64 {
    let s = s.trim_start();
    let end = s
        .char_indices()
        .take_while(|&(i, c)| c.is_ascii_digit() || c == '.' || (i == 0 && (c == '-' || c == '+')))
        .count();
    s[..end].parse().unwrap_or(0.0)
}

impl Options {
    fn defaults() -> Options {
        let tty = std::io::stdout().is_terminal() || std::env::var_os("FAKETTY").is_some();
        Options {
            host: "127.0.0.1".to_string(),
            port: 6379,
            socket: None,
            user: None,
            auth: None,
            askpass: false,
            db: 0,
            repeat: 1,
            interval_us: 0,
            stdin_lastarg: false,
            stdin_tag: None,
            quoted_input: false,
            output: if tty { Output::Standard } else { Output::Raw },
            push_output: tty,
            mb_delim: b"\n".to_vec(),
            cmd_delim: b"\n".to_vec(),
            eval: None,
            set_errcode: false,
            no_auth_warning: false,
            resp2: false,
            resp3: 0,
            cluster_mode: false,
            pipe: false,
            pipe_timeout: DEFAULT_PIPE_TIMEOUT,
            scan: false,
            pattern: None,
            verbose: false,
            rdb: None,
            replica: false,
            cluster: crate::cluster::ClusterOptions::default(),
            latency: None,
            latency_dist: false,
            mono: false,
            stat: false,
            intrinsic_latency: None,
            bigkeys: false,
            memkeys: None,
            hotkeys: false,
            lru_test: None,
            tls: false,
            tls_options: common::tls::ClientOptions::default(),
        }
    }

    /// Parses `args` (without the program name): the options and the index of the first
    /// command word. `warn` receives the lines redis-cli prints to stderr and goes on after.
    pub(crate) fn parse(
        args: &[String],
        warn: &mut dyn FnMut(&str),
    ) -> Result<(Options, usize), Stop> {
        let mut o = Options::defaults();
        let mut i = 0;
        while i < args.len() {
            let arg = args[i].as_str();
            let has_value = i + 1 < args.len();
            let value = || args.get(i + 1).cloned().unwrap_or_default();
            match arg {
                "-h" if has_value => {
                    o.host = value();
                    i += 1;
                }
                "-h" | "--help" => return Err(Stop::Help),
                "-x" => o.stdin_lastarg = true,
                "-X" if has_value => {
                    o.stdin_tag = Some(value().into_bytes());
                    i += 1;
                }
                "-p" if has_value => {
                    o.port = c_int(&value()) as i32;
                    i += 1;
                }
                "-s" if has_value => {
                    o.socket = Some(value());
                    i += 1;
                }
                "-r" if has_value => {
                    o.repeat = c_int(&value());
                    i += 1;
                }
                "-i" if has_value => {
                    let seconds = c_float(&value());
                    o.interval_us = (seconds * 1_000_000.0).max(0.0) as u64;
                    i += 1;
                }
                "-n" if has_value => {
                    o.db = i64::from(c_int(&value()) as i32);
                    i += 1;
                }
                "--no-auth-warning" => o.no_auth_warning = true,
                "--askpass" => o.askpass = true,
                "-a" | "--pass" if has_value => {
                    o.auth = Some(value().into_bytes());
                    i += 1;
                }
                "--user" if has_value => {
                    o.user = Some(value().into_bytes());
                    i += 1;
                }
                "-u" if has_value => {
                    o.parse_uri(&value())?;
                    i += 1;
                }
                "--raw" => o.output = Output::Raw,
                "--no-raw" => o.output = Output::Standard,
                "--quoted-input" => o.quoted_input = true,
                "--csv" => o.output = Output::Csv,
                "--json" | "--quoted-json" => {
                    if o.resp3 == 0 {
                        o.resp3 = 2;
                    }
                    o.output = if arg == "--json" {
                        Output::Json
                    } else {
                        Output::QuotedJson
                    };
                }
                "--scan" => o.scan = true,
                "--pattern" if has_value => {
                    o.pattern = Some(value().into_bytes());
                    i += 1;
                }
                "--quoted-pattern" if has_value => {
                    match crate::unquote(value().as_bytes()) {
                        Some(p) => o.pattern = Some(p),
                        None => {
                            return Err(Stop::Fail(
                                "Invalid quoted string specified for --quoted-pattern.".to_string(),
                            ));
                        }
                    }
                    i += 1;
                }
                "--pipe" => o.pipe = true,
                "--replica" | "--slave" => o.replica = true,
                "--latency" => o.latency = Some(o.latency == Some(true)),
                "--latency-history" => o.latency = Some(true),
                "--latency-dist" => o.latency_dist = true,
                "--mono" => o.mono = true,
                "--stat" => o.stat = true,
                "--intrinsic-latency" if has_value => {
                    o.intrinsic_latency = Some(i64::from(c_int(&value()) as i32));
                    i += 1;
                }
                "--lru-test" if has_value => {
                    o.lru_test = Some(c_int(&value()));
                    i += 1;
                }
                "--bigkeys" => o.bigkeys = true,
                "--memkeys" => o.memkeys = Some(0),
                "--memkeys-samples" if has_value => {
                    o.memkeys = Some(c_int(&value()) as u32);
                    i += 1;
                }
                "--hotkeys" => o.hotkeys = true,
                "--rdb" | "--functions-rdb" if has_value => {
                    o.rdb = Some((value(), arg == "--functions-rdb"));
                    i += 1;
                }
                "--pipe-timeout" if has_value => {
                    o.pipe_timeout = i64::from(c_int(&value()) as i32);
                    i += 1;
                }
                "--eval" if has_value => {
                    o.eval = Some(value());
                    i += 1;
                }
                "--tls" => o.tls = true,
                "--insecure" => o.tls_options.insecure = true,
                "--sni" | "--cacert" | "--cacertdir" | "--cert" | "--key" | "--tls-ciphers"
                | "--tls-ciphersuites"
                    if has_value =>
                {
                    let v = value();
                    let t = &mut o.tls_options;
                    match arg {
                        "--sni" => t.sni = Some(v),
                        "--cacert" => t.cacert = Some(v.into()),
                        "--cacertdir" => t.cacertdir = Some(v.into()),
                        "--cert" => t.cert = Some(v.into()),
                        "--key" => t.key = Some(v.into()),
                        "--tls-ciphers" => t.ciphers = Some(v),
                        _ => t.ciphersuites = Some(v),
                    }
                    i += 1;
                }
                "-c" => o.cluster_mode = true,
                "-d" if has_value => {
                    o.mb_delim = value().into_bytes();
                    i += 1;
                }
                "-D" if has_value => {
                    o.cmd_delim = value().into_bytes();
                    i += 1;
                }
                "-e" => o.set_errcode = true,
                "--verbose" => o.verbose = true,
                "-v" | "--version" => return Err(Stop::Version),
                "-2" => o.resp2 = true,
                "-3" => o.resp3 = 1,
                "--show-pushes" if has_value => {
                    let v = value();
                    match v.bytes().next().map(|b| b.to_ascii_lowercase()) {
                        Some(b'n') => o.push_output = false,
                        Some(b'y') => o.push_output = true,
                        _ => warn(&format!(
                            "Unknown --show-pushes value '{v}' (valid: '[y]es', '[n]o')"
                        )),
                    }
                    i += 1;
                }
                _ if o.cluster.parse_option(args, &mut i)? => {}
                _ if arg.starts_with('-') => {
                    return Err(Stop::Fail(format!(
                        "Unrecognized option or bad number of args for: '{arg}'"
                    )));
                }
                // The command's name: options end here.
                _ => break,
            }
            i += 1;
        }
        if o.socket.is_some() && o.cluster_mode {
            return Err(Stop::Fail(
                "Options -c and -s are mutually exclusive.".to_string(),
            ));
        }
        if o.resp2 && o.resp3 == 1 {
            return Err(Stop::Fail(
                "Options -2 and -3 are mutually exclusive.".to_string(),
            ));
        }
        if !o.no_auth_warning && o.auth.is_some() {
            warn(
                "Warning: Using a password with '-a' or '-u' option on the command line interface may not be safe.",
            );
        }
        if o.stdin_lastarg && o.stdin_tag.is_some() {
            return Err(Stop::Fail(
                "Options -x and -X are mutually exclusive.".to_string(),
            ));
        }
        Ok((o, i))
    }

    /// `redis://[[user:]pass@][host[:port]][/db]` (`rediss://` for TLS), percent-decoding
    /// the user and password.
    fn parse_uri(&mut self, uri: &str) -> Result<(), Stop> {
        let bytes = uri.as_bytes();
        let scheme_len = if bytes.len() >= 9 && bytes[..9].eq_ignore_ascii_case(b"rediss://") {
            self.tls = true;
            9
        } else if bytes.len() >= 8 && bytes[..8].eq_ignore_ascii_case(b"redis://") {
            8
        } else {
            return Err(Stop::Fail("Invalid URI scheme".to_string()));
        };
        let mut rest = &uri[scheme_len..];
        if rest.is_empty() {
            return Ok(());
        }
        if let Some(at) = rest.find('@') {
            let info = &rest[..at];
            let pass = match info.find(':') {
                Some(colon) => {
                    self.user = Some(percent_decode(&info[..colon])?);
                    &info[colon + 1..]
                }
                None => info,
            };
            self.auth = Some(percent_decode(pass)?);
            rest = &rest[at + 1..];
        }
        if rest.is_empty() {
            return Ok(());
        }
        let path = rest.find('/');
        if !rest.starts_with('/') {
            let authority = &rest[..path.unwrap_or(rest.len())];
            // The port is found in the whole remainder, as redis-cli does.
            match rest.find(':') {
                Some(colon) => {
                    self.port = c_int(&rest[colon + 1..]) as i32;
                    self.host = rest[..colon].to_string();
                }
                None => self.host = authority.to_string(),
            }
        }
        let Some(path) = path else {
            return Ok(());
        };
        let db = &rest[path + 1..];
        if !db.is_empty() {
            self.db = i64::from(c_int(db) as i32);
        }
        Ok(())
    }

    /// Where to connect.
    pub(crate) fn target(&self) -> crate::connection::Target {
        match &self.socket {
            Some(path) => crate::connection::Target::Unix(path.clone()),
            None => crate::connection::Target::Tcp {
                host: self.host.clone(),
                port: self.port as u16,
            },
        }
    }

    /// `host:port` as redis-cli shows it (IPv6 addresses in brackets).
    pub(crate) fn address(&self) -> String {
        if self.host.contains(':') {
            format!("[{}]:{}", self.host, self.port)
        } else {
            format!("{}:{}", self.host, self.port)
        }
    }
}

fn percent_decode(s: &str) -> Result<Vec<u8>, Stop> {
    let mut out = Vec::with_capacity(s.len());
    let bytes = s.as_bytes();
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%' {
            if bytes.len() - i < 3 {
                return Err(Stop::Fail("Incomplete URI encoding".to_string()));
            }
            let hex = |b: u8| match b.to_ascii_lowercase() {
                d @ b'0'..=b'9' => Some(d - b'0'),
                h @ b'a'..=b'f' => Some(h - b'a' + 10),
                _ => None,
            };
            match (hex(bytes[i + 1]), hex(bytes[i + 2])) {
                (Some(h), Some(l)) => out.push(h << 4 | l),
                _ => {
                    return Err(Stop::Fail("Illegal character in URI encoding".to_string()));
                }
            }
            i += 3;
        } else {
            out.push(bytes[i]);
            i += 1;
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(args: &[&str]) -> Result<(Options, usize), Stop> {
        let args: Vec<String> = args.iter().map(|s| s.to_string()).collect();
        Options::parse(&args, &mut |_| {})
    }

    #[test]
    fn options_stop_at_the_command() {
        let (o, first) = parse(&["-p", "7000", "-n", "2", "--raw", "get", "-x"]).unwrap();
        assert_eq!((o.port, o.db, o.output, first), (7000, 2, Output::Raw, 5));
        assert_eq!(
            parse(&["--nosuch"]).unwrap_err(),
            Stop::Fail("Unrecognized option or bad number of args for: '--nosuch'".to_string())
        );
        let (o, _) = parse(&["--latency-history", "--memkeys-samples", "7", "--mono"]).unwrap();
        assert_eq!((o.latency, o.memkeys, o.mono), (Some(true), Some(7), true));
        assert_eq!(parse(&["-h"]).unwrap_err(), Stop::Help);
    }

    #[test]
    fn uris_fill_user_password_host_port_and_db() {
        let (o, _) = parse(&["-u", "redis://bob:p%40ss@example.com:7001/3"]).unwrap();
        assert_eq!(o.user.as_deref(), Some(&b"bob"[..]));
        assert_eq!(o.auth.as_deref(), Some(&b"p@ss"[..]));
        assert_eq!((o.host.as_str(), o.port, o.db), ("example.com", 7001, 3));
        assert_eq!(
            parse(&["-u", "http://x"]).unwrap_err(),
            Stop::Fail("Invalid URI scheme".to_string())
        );
        let (o, _) = parse(&["-u", "rediss://h:7002"]).unwrap();
        assert!(o.tls);
        assert_eq!((o.host.as_str(), o.port), ("h", 7002));
    }

    #[test]
    fn tls_flags_fill_the_client_options() {
        let (o, first) = parse(&[
            "--tls",
            "--sni",
            "name",
            "--cacert",
            "ca.crt",
            "--cacertdir",
            "cas",
            "--cert",
            "c.crt",
            "--key",
            "c.key",
            "--insecure",
            "--tls-ciphers",
            "HIGH",
            "--tls-ciphersuites",
            "TLS_AES_128_GCM_SHA256",
            "ping",
        ])
        .unwrap();
        assert!(o.tls && o.tls_options.insecure);
        assert_eq!(first, 16);
        let t = &o.tls_options;
        assert_eq!(t.sni.as_deref(), Some("name"));
        assert_eq!(t.cacert.as_deref(), Some(std::path::Path::new("ca.crt")));
        assert_eq!(t.cacertdir.as_deref(), Some(std::path::Path::new("cas")));
        assert_eq!(t.cert.as_deref(), Some(std::path::Path::new("c.crt")));
        assert_eq!(t.key.as_deref(), Some(std::path::Path::new("c.key")));
        assert_eq!(t.ciphers.as_deref(), Some("HIGH"));
        assert_eq!(t.ciphersuites.as_deref(), Some("TLS_AES_128_GCM_SHA256"));
        assert_eq!(
            parse(&["--cacert"]).unwrap_err(),
            Stop::Fail("Unrecognized option or bad number of args for: '--cacert'".to_string())
        );
    }

    #[test]
    fn c_numbers_parse_a_prefix() {
        assert_eq!(c_int("12abc"), 12);
        assert_eq!(c_int(" -3"), -3);
        assert_eq!(c_int("x"), 0);
        assert_eq!(c_float("0.5s"), 0.5);
    }
}
