//! The command line: Redis 7.0's redis-benchmark flags with its lenient number parsing
//! (`atoi`: "abc" is 0), its clamps, and the flags this tool adds (`--rps`, `--duration`,
//! `--warmup`, `--json`, `--seed`).

use std::fmt;
use std::path::PathBuf;
use std::time::Duration;

/// Upper bound of `--threads`, as Redis.
const MAX_THREADS: i64 = 500;
/// Default and upper bound of `--precision` (significant figures of the histogram).
const DEFAULT_PRECISION: i64 = 3;
const MAX_PRECISION: i64 = 4;
/// Upper bound of `-d`, as Redis.
const MAX_DATA_SIZE: i64 = 1024 * 1024 * 1024;

/// Where the server listens.
#[derive(Clone, Debug, PartialEq)]
pub(crate) enum Target {
    Tcp { host: String, port: u16 },
    Unix(PathBuf),
}

impl fmt::Display for Target {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Target::Tcp { host, port } => write!(f, "{host}:{port}"),
            Target::Unix(path) => write!(f, "{}", path.display()),
        }
    }
}

/// Everything the command line sets.
#[derive(Clone, Debug, PartialEq)]
pub(crate) struct Options {
    pub(crate) host: String,
    pub(crate) port: u16,
    pub(crate) socket: Option<PathBuf>,
    pub(crate) password: Option<Vec<u8>>,
    pub(crate) user: Option<Vec<u8>>,
    pub(crate) dbnum: i64,
    pub(crate) resp3: bool,
    pub(crate) threads: usize,
    pub(crate) enable_tracking: bool,
    pub(crate) clients: usize,
    pub(crate) requests: u64,
    pub(crate) data_size: usize,
    pub(crate) keepalive: bool,
    /// `-r`: the keyspace length; `Some(0)` still replaces `__rand_int__` (with zeros).
    pub(crate) keyspace: Option<u64>,
    pub(crate) pipeline: usize,
    pub(crate) quiet: bool,
    pub(crate) csv: bool,
    pub(crate) loop_forever: bool,
    /// `-t`, lowercased and wrapped in commas: `",set,get,"`.
    pub(crate) tests: Option<String>,
    pub(crate) idle: bool,
    pub(crate) stdin_arg: bool,
    pub(crate) precision: u32,
    pub(crate) seed: Option<u64>,
    pub(crate) rps: Option<f64>,
    pub(crate) duration: Option<Duration>,
    pub(crate) warmup: Option<Duration>,
    pub(crate) json: Option<PathBuf>,
    /// Warnings to print on stderr before running (Redis prints them while parsing).
    pub(crate) warnings: Vec<&'static str>,
    /// The command after the options, if any.
    pub(crate) command: Vec<Vec<u8>>,
    /// `--tls` and its flags.
    pub(crate) tls: crate::tls::TlsOptions,
    /// `--cluster`: discover the masters and send each key to its own.
    pub(crate) cluster: bool,
    /// `--mix`, once per flag: weighted test names run as one test.
    pub(crate) mixes: Vec<Mix>,
}

/// One `--mix`: test names of the default suite with their weights.
#[derive(Clone, Debug, PartialEq)]
pub(crate) struct Mix {
    pub(crate) entries: Vec<(String, u64)>,
}

impl Mix {
    /// Parses `set:3,get:7` (a missing weight is 1); `None` when a name is not a test of the
    /// suite or a weight is not a positive integer.
    pub(crate) fn parse(spec: &[u8]) -> Option<Mix> {
        let text = std::str::from_utf8(spec).ok()?.to_ascii_lowercase();
        let mut entries = Vec::new();
        for item in text.split(',') {
            let (name, weight) = match item.split_once(':') {
                Some((name, weight)) => (name.trim(), weight.trim().parse().ok()?),
                None => (item.trim(), 1),
            };
            if weight == 0 || crate::suite::by_name(name).is_none() {
                return None;
            }
            entries.push((name.to_string(), weight));
        }
        Some(Mix { entries })
    }

    /// The title reports show: `MIX (SET:3 GET:7)` (no comma, so CSV columns stay put).
    pub(crate) fn title(&self) -> String {
        let parts: Vec<String> = self
            .entries
            .iter()
            .map(|(name, weight)| format!("{}:{weight}", name.to_ascii_uppercase()))
            .collect();
        format!("MIX ({})", parts.join(" "))
    }
}

impl Default for Options {
    fn default() -> Options {
        Options {
            host: "127.0.0.1".to_string(),
            port: 6379,
            socket: None,
            password: None,
            user: None,
            dbnum: 0,
            resp3: false,
            threads: 0,
            enable_tracking: false,
            clients: 50,
            requests: 100_000,
            data_size: 3,
            keepalive: true,
            keyspace: None,
            pipeline: 1,
            quiet: false,
            csv: false,
            loop_forever: false,
            tests: None,
            idle: false,
            stdin_arg: false,
            precision: DEFAULT_PRECISION as u32,
            seed: None,
            rps: None,
            duration: None,
            warmup: None,
            json: None,
            warnings: Vec::new(),
            command: Vec::new(),
            cluster: false,
            mixes: Vec::new(),
            tls: crate::tls::TlsOptions::default(),
        }
    }
}

impl Options {
    /// The server address (`-s` wins over `-h`/`-p`).
    pub(crate) fn target(&self) -> Target {
        match &self.socket {
            Some(path) => Target::Unix(path.clone()),
            None => Target::Tcp {
                host: self.host.clone(),
                port: self.port,
            },
        }
    }

    /// Whether `-t` selects the test named `name` (everything is selected without `-t`).
    pub(crate) fn selects(&self, name: &str) -> bool {
        match &self.tests {
            None => true,
            Some(list) => list.contains(&format!(",{name},")),
        }
    }
}

/// What the command line asks for.
#[derive(Debug, PartialEq)]
pub(crate) enum Parsed {
    Run(Box<Options>),
    Help,
    Version,
}

/// A command line that cannot run.
#[derive(Debug, PartialEq)]
pub(crate) enum OptionsError {
    /// An unknown flag or a flag missing its argument: Redis prints the usage after it.
    Invalid(String),
    /// A `-u` URI Redis rejects; the text is Redis's.
    Uri(&'static str),
}

impl fmt::Display for OptionsError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            OptionsError::Invalid(arg) => {
                write!(f, "Invalid option \"{arg}\" or option argument missing")
            }
            OptionsError::Uri(msg) => f.write_str(msg),
        }
    }
}

impl std::error::Error for OptionsError {}

/// Parses the arguments after the program name.
pub(crate) fn parse(args: &[Vec<u8>]) -> Result<Parsed, OptionsError> {
    let mut o = Options::default();
    let mut i = 0;
    while i < args.len() {
        let arg = args[i].as_slice();
        let invalid = || OptionsError::Invalid(String::from_utf8_lossy(arg).into_owned());
        // The argument of a flag; a flag that is the last argument is invalid.
        let value = |i: &mut usize| -> Result<&[u8], OptionsError> {
            *i += 1;
            args.get(*i).map(Vec::as_slice).ok_or_else(invalid)
        };
        match arg {
            b"-c" => o.clients = atoi(value(&mut i)?).max(1) as usize,
            b"-v" | b"--version" => return Ok(Parsed::Version),
            b"-n" => o.requests = atoi(value(&mut i)?).max(0) as u64,
            b"-k" => o.keepalive = atoi(value(&mut i)?) != 0,
            b"-h" => o.host = String::from_utf8_lossy(value(&mut i)?).into_owned(),
            b"-p" => o.port = atoi(value(&mut i)?) as u16,
            b"-s" => o.socket = Some(PathBuf::from(lossy(value(&mut i)?))),
            b"-x" => o.stdin_arg = true,
            b"-a" => o.password = Some(value(&mut i)?.to_vec()),
            b"--user" => o.user = Some(value(&mut i)?.to_vec()),
            b"-u" if i + 1 < args.len() => parse_uri(value(&mut i)?, &mut o)?,
            b"-3" => o.resp3 = true,
            b"-d" => o.data_size = atoi(value(&mut i)?).clamp(1, MAX_DATA_SIZE) as usize,
            b"-P" => o.pipeline = atoi(value(&mut i)?).max(1) as usize,
            b"-r" => {
                let v = value(&mut i)?;
                if let Some(rest) = v.strip_prefix(b"-") {
                    if !rest.first().is_some_and(u8::is_ascii_digit) {
                        return Err(invalid());
                    }
                }
                o.keyspace = Some(atoi(v).max(0) as u64);
            }
            b"-q" => o.quiet = true,
            b"--csv" => o.csv = true,
            b"-l" => o.loop_forever = true,
            b"-I" => o.idle = true,
            b"-e" => o.warnings.push(
                "WARNING: -e option has no effect. We now immediately exit on error to avoid false results.",
            ),
            b"-t" => {
                let list = String::from_utf8_lossy(value(&mut i)?).to_ascii_lowercase();
                o.tests = Some(format!(",{list},"));
            }
            b"--dbnum" => o.dbnum = atoi(value(&mut i)?),
            b"--precision" => {
                let p = atoi(value(&mut i)?);
                let p = if p < 0 { DEFAULT_PRECISION } else { p };
                // Redis crashes on 0 (no histogram); one significant figure is the least.
                o.precision = p.clamp(1, MAX_PRECISION) as u32;
            }
            b"--threads" => {
                let t = atoi(value(&mut i)?);
                if t > MAX_THREADS {
                    o.warnings
                        .push("WARNING: Too many threads, limiting threads to 500.");
                }
                o.threads = t.clamp(0, MAX_THREADS) as usize;
            }
            b"--enable-tracking" => o.enable_tracking = true,
            b"--cluster" => o.cluster = true,
            b"--tls" => o.tls.enabled = true,
            b"--sni" => o.tls.client.sni = Some(lossy(value(&mut i)?)),
            b"--cacertdir" => o.tls.client.cacertdir = Some(PathBuf::from(lossy(value(&mut i)?))),
            b"--cacert" => o.tls.client.cacert = Some(PathBuf::from(lossy(value(&mut i)?))),
            b"--insecure" => o.tls.client.insecure = true,
            b"--cert" => o.tls.client.cert = Some(PathBuf::from(lossy(value(&mut i)?))),
            b"--key" => o.tls.client.key = Some(PathBuf::from(lossy(value(&mut i)?))),
            b"--tls-ciphers" => o.tls.client.ciphers = Some(lossy(value(&mut i)?)),
            b"--tls-ciphersuites" => o.tls.client.ciphersuites = Some(lossy(value(&mut i)?)),
            b"--mix" => o.mixes.push(Mix::parse(value(&mut i)?).ok_or_else(invalid)?),
            b"--help" => return Ok(Parsed::Help),
            b"--seed" => o.seed = Some(strict_number(value(&mut i)?).ok_or_else(invalid)?),
            b"--rps" => o.rps = Some(positive_float(value(&mut i)?).ok_or_else(invalid)?),
            b"--duration" => o.duration = Some(seconds(value(&mut i)?).ok_or_else(invalid)?),
            b"--warmup" => o.warmup = Some(seconds(value(&mut i)?).ok_or_else(invalid)?),
            b"--json" => o.json = Some(PathBuf::from(lossy(value(&mut i)?))),
            _ if arg.first() == Some(&b'-') => return Err(invalid()),
            _ => {
                o.command = args[i..].to_vec();
                break;
            }
        }
        i += 1;
    }
    Ok(Parsed::Run(Box::new(o)))
}

/// C's `atoi`: optional blanks and sign, then digits; anything else ends the number.
fn atoi(s: &[u8]) -> i64 {
    let mut rest = s.trim_ascii_start();
    let negative = rest.first() == Some(&b'-');
    if matches!(rest.first(), Some(b'-' | b'+')) {
        rest = &rest[1..];
    }
    let mut n: i64 = 0;
    for &b in rest.iter().take_while(|b| b.is_ascii_digit()) {
        n = n.saturating_mul(10).saturating_add(i64::from(b - b'0'));
    }
    if negative { -n } else { n }
}

fn lossy(s: &[u8]) -> String {
    String::from_utf8_lossy(s).into_owned()
}

fn strict_number(s: &[u8]) -> Option<u64> {
    std::str::from_utf8(s).ok()?.parse().ok()
}

fn positive_float(s: &[u8]) -> Option<f64> {
    let v: f64 = std::str::from_utf8(s).ok()?.parse().ok()?;
    (v.is_finite() && v > 0.0).then_some(v)
}

fn seconds(s: &[u8]) -> Option<Duration> {
    let v: f64 = std::str::from_utf8(s).ok()?.parse().ok()?;
    Duration::try_from_secs_f64(v).ok()
}

/// `redis://[[user:]password@][host[:port]][/db]`, percent-decoding the user and password.
fn parse_uri(uri: &[u8], o: &mut Options) -> Result<(), OptionsError> {
    const SCHEME: &[u8] = b"redis://";
    let has_prefix = |p: &[u8]| uri.len() >= p.len() && uri[..p.len()].eq_ignore_ascii_case(p);
    const TLS_SCHEME: &[u8] = b"rediss://";
    let mut rest = if has_prefix(TLS_SCHEME) {
        o.tls.enabled = true;
        &uri[TLS_SCHEME.len()..]
    } else if has_prefix(SCHEME) {
        &uri[SCHEME.len()..]
    } else {
        return Err(OptionsError::Uri("Invalid URI scheme"));
    };
    if let Some(at) = rest.iter().position(|&b| b == b'@') {
        let userinfo = &rest[..at];
        match userinfo.iter().position(|&b| b == b':') {
            Some(colon) => {
                o.user = Some(percent_decode(&userinfo[..colon])?);
                o.password = Some(percent_decode(&userinfo[colon + 1..])?);
            }
            None => o.password = Some(percent_decode(userinfo)?),
        }
        rest = &rest[at + 1..];
    }
    if rest.is_empty() {
        return Ok(());
    }
    let (authority, path) = match rest.iter().position(|&b| b == b'/') {
        Some(slash) => (&rest[..slash], Some(&rest[slash + 1..])),
        None => (rest, None),
    };
    if !authority.is_empty() {
        let host = match authority.iter().position(|&b| b == b':') {
            Some(colon) => {
                o.port = atoi(&authority[colon + 1..]) as u16;
                &authority[..colon]
            }
            None => authority,
        };
        o.host = lossy(host);
    }
    if let Some(db) = path.filter(|p| !p.is_empty()) {
        o.dbnum = atoi(db);
    }
    Ok(())
}

fn percent_decode(s: &[u8]) -> Result<Vec<u8>, OptionsError> {
    let mut out = Vec::with_capacity(s.len());
    let mut i = 0;
    while i < s.len() {
        if s[i] == b'%' {
            let (Some(&h), Some(&l)) = (s.get(i + 1), s.get(i + 2)) else {
                return Err(OptionsError::Uri("Incomplete URI encoding"));
            };
            let digit = |c: u8| (c as char).to_digit(16);
            let (Some(h), Some(l)) = (digit(h), digit(l)) else {
                return Err(OptionsError::Uri("Illegal character in URI encoding"));
            };
            out.push((h * 16 + l) as u8);
            i += 3;
        } else {
            out.push(s[i]);
            i += 1;
        }
    }
    Ok(out)
}

/// The `--help` text.
pub(crate) const USAGE: &str = "\
Usage: redis-benchmark [OPTIONS] [COMMAND ARGS...]

Options:
 -h <hostname>      Server hostname (default 127.0.0.1)
 -p <port>          Server port (default 6379)
 -s <socket>        Server socket (overrides host and port)
 -a <password>      Password for Redis Auth
 --user <username>  Used to send ACL style 'AUTH username pass'. Needs -a.
 -u <uri>           Server URI.
 -c <clients>       Number of parallel connections (default 50)
 -n <requests>      Total number of requests (default 100000)
 -d <size>          Data size of SET/GET value in bytes (default 3)
 --dbnum <db>       SELECT the specified db number (default 0)
 -3                 Start session in RESP3 protocol mode.
 --threads <num>    Enable multi-thread mode.
 --cluster          Enable cluster mode.
                    If the command is supplied on the command line in cluster
                    mode, the key must contain \"{tag}\". Otherwise, the
                    command will not be sent to the right cluster node.
                    (Here a key without \"{tag}\" is sent to the master serving
                    it: the key is the first argument after the command name.)
 --enable-tracking  Send CLIENT TRACKING on before starting benchmark.
 -k <boolean>       1=keep alive 0=reconnect (default 1)
 -r <keyspacelen>   Use random keys for SET/GET/INCR, random values for SADD,
                    random members and scores for ZADD.
                    Using this option the benchmark will expand the string
                    __rand_int__ inside an argument with a 12 digits number in
                    the specified range from 0 to keyspacelen-1. The
                    substitution changes every time a command is executed.
                    Default tests use this to hit random keys in the specified
                    range.
                    Note: If -r is omitted, all commands in a benchmark will
                    use the same key.
 -P <numreq>        Pipeline <numreq> requests. Default 1 (no pipeline).
 -q                 Quiet. Just show query/sec values
 --precision        Number of decimal places to display in latency output (default 0)
 --csv              Output in CSV format
 -l                 Loop. Run the tests forever
 -t <tests>         Only run the comma separated list of tests. The test
                    names are the same as the ones produced as output.
                    The -t option is ignored if a specific command is supplied
                    on the command line.
 -I                 Idle mode. Just open N idle connections and wait.
 -x                 Read last argument from STDIN.
 --tls              Establish a secure TLS connection.
 --sni <host>       Server name indication for TLS.
 --cacert <file>    CA Certificate file to verify with.
 --cacertdir <dir>  Directory where trusted CA certificates are stored.
                    If neither cacert nor cacertdir are specified, the default
                    system-wide trusted root certs configuration will apply.
 --insecure         Allow insecure TLS connection by skipping cert validation.
 --cert <file>      Client certificate to authenticate with.
 --key <file>       Private key file to authenticate with.
 --tls-ciphers <list> Sets the list of preferred ciphers (TLSv1.2 and below)
                    in order of preference from highest to lowest separated by colon (\":\").
                    See the ciphers(1ssl) manpage for more information about the syntax of this string.
 --tls-ciphersuites <list> Sets the list of preferred ciphersuites (TLSv1.3)
                    in order of preference from highest to lowest separated by colon (\":\").
                    See the ciphers(1ssl) manpage for more information about the syntax of this string,
                    and specifically for TLSv1.3 ciphersuites.
 --seed <num>       Seed the random keys, so runs repeat the same keys.
 --rps <num>        Open loop: send <num> requests per second in all, and
                    measure latency from when each request was due, so a
                    stalled server is not hidden (coordinated omission).
 --duration <sec>   Run each test for <sec> seconds instead of -n requests.
 --warmup <sec>     Run each test <sec> seconds unmeasured first.
 --json <file>      Also write the results to <file> as JSON.
 --mix <name:weight,...> Run the named tests of the default suite as one test,
                    each request drawn by weight, e.g. --mix set:3,get:7
                    (a missing weight is 1). Repeat --mix for several mixes;
                    with -t the selected tests run first, without it only
                    the mixes run. Reported as \"MIX (SET:3 GET:7)\".
 --help             Output this help and exit.
 --version          Output version and exit.

Examples:

 Run the benchmark with the default configuration against 127.0.0.1:6379:
   $ redis-benchmark

 Use 20 parallel clients, for a total of 100k requests, against 192.168.1.1:
   $ redis-benchmark -h 192.168.1.1 -p 6379 -n 100000 -c 20

 Fill 127.0.0.1:6379 with about 1 million keys only using the SET test:
   $ redis-benchmark -t set -n 1000000 -r 100000000

 Benchmark 127.0.0.1:6379 for a few commands producing CSV output:
   $ redis-benchmark -t ping,set,get -n 100000 --csv

 Benchmark a specific command line:
   $ redis-benchmark -r 10000 -n 10000 eval 'return redis.call(\"ping\")' 0

 Fill a list with 10000 random elements:
   $ redis-benchmark -r 10000 -n 10000 lpush mylist __rand_int__

 Benchmark 30% writes and 70% reads over 100k random keys:
   $ redis-benchmark -r 100000 --mix set:3,get:7

 Hold 20000 requests per second for 30 seconds and report corrected latencies:
   $ redis-benchmark -t get --rps 20000 --duration 30 --warmup 5

 On user specified command lines __rand_int__ is replaced with a random integer
 with a range of values selected by the -r option.
";

#[cfg(test)]
mod tests {
    use super::*;

    fn run(args: &[&str]) -> Result<Options, OptionsError> {
        let args: Vec<Vec<u8>> = args.iter().map(|a| a.as_bytes().to_vec()).collect();
        match parse(&args)? {
            Parsed::Run(o) => Ok(*o),
            other => panic!("not a run: {other:?}"),
        }
    }

    #[test]
    fn defaults_match_redis() {
        let o = run(&[]).unwrap();
        assert_eq!(
            (o.clients, o.requests, o.data_size, o.pipeline),
            (50, 100_000, 3, 1)
        );
        assert_eq!(
            o.target(),
            Target::Tcp {
                host: "127.0.0.1".into(),
                port: 6379
            }
        );
        assert!(o.keepalive && o.keyspace.is_none() && o.command.is_empty());
    }

    #[test]
    fn numbers_parse_like_atoi_and_clamp() {
        let o = run(&[
            "-c",
            "0",
            "-n",
            "12abc",
            "-d",
            "0",
            "-P",
            "-3",
            "--threads",
            "x",
        ])
        .unwrap();
        assert_eq!(
            (o.clients, o.requests, o.data_size, o.pipeline, o.threads),
            (1, 12, 1, 1, 0)
        );
        let o = run(&["--threads", "900", "--precision", "-1", "-d", "99999999999"]).unwrap();
        assert_eq!((o.threads, o.precision, o.data_size), (500, 3, 1 << 30));
        assert_eq!(o.warnings.len(), 1);
    }

    #[test]
    fn random_keyspace_accepts_negative_numbers_only() {
        assert_eq!(run(&["-r", "-5"]).unwrap().keyspace, Some(0));
        assert_eq!(run(&["-r", "1000"]).unwrap().keyspace, Some(1000));
        assert_eq!(
            run(&["-r", "-x"]).unwrap_err(),
            OptionsError::Invalid("-r".into())
        );
    }

    #[test]
    fn tests_are_lowercased_and_wrapped() {
        let o = run(&["-t", "SET,Get"]).unwrap();
        assert!(o.selects("set") && o.selects("get") && !o.selects("se"));
        assert!(run(&[]).unwrap().selects("anything"));
    }

    #[test]
    fn the_command_starts_at_the_first_non_flag() {
        let o = run(&["-q", "lpush", "mylist", "-x"]).unwrap();
        assert!(o.quiet && !o.stdin_arg);
        assert_eq!(
            o.command,
            vec![b"lpush".to_vec(), b"mylist".to_vec(), b"-x".to_vec()]
        );
    }

    #[test]
    fn bad_flags_and_missing_arguments_are_invalid() {
        let err = run(&["--nope"]).unwrap_err();
        assert_eq!(
            err.to_string(),
            "Invalid option \"--nope\" or option argument missing"
        );
        assert_eq!(
            run(&["-c"]).unwrap_err(),
            OptionsError::Invalid("-c".into())
        );
        assert_eq!(
            run(&["-u"]).unwrap_err(),
            OptionsError::Invalid("-u".into())
        );
        assert_eq!(
            run(&["--rps", "0"]).unwrap_err(),
            OptionsError::Invalid("--rps".into())
        );
    }

    #[test]
    fn help_and_version() {
        assert_eq!(parse(&[b"--help".to_vec()]).unwrap(), Parsed::Help);
        assert_eq!(parse(&[b"-v".to_vec()]).unwrap(), Parsed::Version);
    }

    #[test]
    fn uri_sets_host_port_credentials_and_db() {
        let o = run(&["-u", "redis://default:p%41ss@10.0.0.1:7000/3"]).unwrap();
        assert_eq!(o.user.as_deref(), Some(&b"default"[..]));
        assert_eq!(o.password.as_deref(), Some(&b"p\x41ss"[..]));
        assert_eq!((o.host.as_str(), o.port, o.dbnum), ("10.0.0.1", 7000, 3));
        let o = run(&["-u", "REDIS://h"]).unwrap();
        assert_eq!((o.host.as_str(), o.port), ("h", 6379));
        assert_eq!(
            run(&["-u", "http://h"]).unwrap_err(),
            OptionsError::Uri("Invalid URI scheme")
        );
        assert_eq!(
            run(&["-u", "redis://a%zz@h"]).unwrap_err(),
            OptionsError::Uri("Illegal character in URI encoding")
        );
    }

    #[test]
    fn extensions_parse_strictly() {
        let o = run(&[
            "--rps",
            "2500",
            "--duration",
            "1.5",
            "--warmup",
            "0",
            "--seed",
            "7",
        ])
        .unwrap();
        assert_eq!(o.rps, Some(2500.0));
        assert_eq!(o.duration, Some(Duration::from_millis(1500)));
        assert_eq!((o.warmup, o.seed), (Some(Duration::ZERO), Some(7)));
        assert!(run(&["--duration", "soon"]).is_err());
    }

    #[test]
    fn cluster_and_mixes_parse() {
        let o = run(&["--cluster", "--mix", "SET:3,get", "--mix", "lrange_100:2"]).unwrap();
        assert!(o.cluster);
        assert_eq!(o.mixes.len(), 2);
        assert_eq!(
            o.mixes[0].entries,
            vec![("set".to_string(), 3), ("get".to_string(), 1)]
        );
        assert_eq!(o.mixes[0].title(), "MIX (SET:3 GET:1)");
        for bad in ["set:0", "nope:1", "set:x", ""] {
            assert_eq!(
                run(&["--mix", bad]).unwrap_err(),
                OptionsError::Invalid("--mix".into()),
                "{bad}"
            );
        }
    }

    #[test]
    fn tls_flags_parse_and_rediss_enables_tls() {
        let o = run(&[
            "--tls",
            "--sni",
            "h",
            "--cacert",
            "ca",
            "--cacertdir",
            "d",
            "--insecure",
            "--cert",
            "c",
            "--key",
            "k",
            "--tls-ciphers",
            "x",
            "--tls-ciphersuites",
            "y",
        ])
        .unwrap();
        assert!(o.tls.enabled && o.tls.client.insecure);
        assert_eq!(o.tls.client.sni.as_deref(), Some("h"));
        assert_eq!(o.tls.client.cacert, Some(PathBuf::from("ca")));
        assert_eq!(o.tls.client.cacertdir, Some(PathBuf::from("d")));
        assert_eq!(o.tls.client.cert, Some(PathBuf::from("c")));
        assert_eq!(o.tls.client.key, Some(PathBuf::from("k")));
        assert_eq!(
            (
                o.tls.client.ciphers.as_deref(),
                o.tls.client.ciphersuites.as_deref()
            ),
            (Some("x"), Some("y"))
        );
        let o = run(&["-u", "rediss://h:7000"]).unwrap();
        assert!(o.tls.enabled);
        assert_eq!((o.host.as_str(), o.port), ("h", 7000));
        assert!(!run(&[]).unwrap().tls.enabled);
    }
}
