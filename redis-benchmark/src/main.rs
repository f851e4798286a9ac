//! `redis-benchmark`: a drop-in for Redis 7.0's load generator (same flags, tests, titles and
//! output), built to cost less CPU than the server it measures, plus an open-loop mode
//! (`--rps`), timed runs (`--duration`, `--warmup`) and a JSON report (`--json`).
//!
//! Layout:
//! - [`options`]: the command line and `--help`.
//! - [`suite`]: the default suite (the `-t` tests), in Redis's order.
//! - [`request`]: a connection's pre-encoded batch with `__rand_int__` slots patched in place.
//! - [`net`]: TCP/Unix streams, the scanning reply reader, CONFIG GET for the report header.
//! - [`worker`]: the engine: per-thread single-threaded runtimes sharing two counters.
//! - [`histogram`]: an HdrHistogram_c-compatible histogram, so reports list the same rows.
//! - [`report`]: the full report, `-q`, `--csv`, the progress line and `--json`.
//!
//! - [`cluster`]: `--cluster`: CLUSTER SLOTS, key routing, MOVED/ASK.
//!
//! - [`tls`]: `--tls` and its flags, on rustls.
//!
//! Depends on `common` (RESP encoding and scanning, the key slot), tokio and rustls.
#![cfg_attr(test, allow(clippy::unwrap_used))]

mod cluster;
mod histogram;
mod net;
mod options;
mod report;
mod request;
mod suite;
mod tls;
mod worker;

use std::io::{IsTerminal, Read, Write};
use std::os::unix::ffi::OsStringExt;
use std::process::ExitCode;
use std::sync::Arc;
use std::time::Duration;

use common::resp::encode_command;

use crate::cluster::Cluster;
use crate::net::{BenchError, ServerConfig};
use crate::options::{Options, OptionsError, Parsed, USAGE};
use crate::report::{JsonSetup, Progress, Setup, TestResult};
use crate::request::Batch;
use crate::suite::{Payload, PayloadGenerator, SUITE};
use crate::worker::Plan;

/// The Redis version this tool stands in for.
const VERSION: &str = "7.0.15";

fn main() -> ExitCode {
    let args: Vec<Vec<u8>> = std::env::args_os()
        .skip(1)
        .map(OsStringExt::into_vec)
        .collect();
    let options = match options::parse(&args) {
        Ok(Parsed::Run(o)) => *o,
        Ok(Parsed::Help) => {
            print_out(USAGE);
            return ExitCode::SUCCESS;
        }
        Ok(Parsed::Version) => {
            print_out(&format!("redis-benchmark {VERSION}\n"));
            return ExitCode::SUCCESS;
        }
        Err(e @ OptionsError::Invalid(_)) => {
            print_out(&format!("{e}\n\n{USAGE}"));
            return ExitCode::FAILURE;
        }
        Err(e) => {
            eprintln!("{e}");
            return ExitCode::FAILURE;
        }
    };
    for warning in &options.warnings {
        eprintln!("{warning}");
    }
    if options.tls.enabled {
        if let Err(e) = tls::init(&options.tls) {
            eprintln!("{e}");
            return ExitCode::FAILURE;
        }
    }
    match Benchmark::new(options).and_then(Benchmark::run) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("{e}");
            ExitCode::FAILURE
        }
    }
}

/// Writes to stdout and flushes; a closed stdout (`| head`) is not an error worth a panic.
fn print_out(text: &str) {
    let mut out = std::io::stdout().lock();
    let _ = out.write_all(text.as_bytes());
    let _ = out.flush();
}

/// A whole invocation: the options, what the server told us, and the results so far.
struct Benchmark {
    options: Options,
    server: Option<ServerConfig>,
    handshake: Vec<u8>,
    handshake_replies: usize,
    tty: bool,
    results: Vec<TestResult>,
    /// `--cluster`: the masters, and each one's settings for the report.
    cluster: Option<Arc<Cluster>>,
    node_configs: Vec<Option<ServerConfig>>,
}

impl Benchmark {
    fn new(mut options: Options) -> Result<Benchmark, BenchError> {
        let auth = options.password.as_ref().map(|password| {
            let mut out = Vec::new();
            match &options.user {
                Some(user) => encode_command(&[&b"AUTH"[..], user, password], &mut out),
                None => encode_command(&[&b"AUTH"[..], password], &mut out),
            }
            out
        });
        let (server, cluster, node_configs) = if options.cluster {
            let (cluster, configs) = discover_cluster(&options, auth.clone().unwrap_or_default())?;
            if options.threads == 0 {
                // As Redis: one thread per master unless told otherwise.
                options.threads = cluster.current().masters.len();
            }
            (None, Some(Arc::new(cluster)), configs)
        } else {
            (
                fetch_server_config(&options, auth.clone())?,
                None,
                Vec::new(),
            )
        };
        let mut handshake = auth.unwrap_or_default();
        let mut handshake_replies = usize::from(!handshake.is_empty());
        if options.enable_tracking {
            encode_command(&[&b"CLIENT"[..], b"TRACKING", b"on"], &mut handshake);
            handshake_replies += 1;
        }
        if options.dbnum != 0 {
            let db = options.dbnum.to_string();
            encode_command(&[&b"SELECT"[..], db.as_bytes()], &mut handshake);
            handshake_replies += 1;
        }
        if options.resp3 {
            encode_command(&[&b"HELLO"[..], b"3"], &mut handshake);
            handshake_replies += 1;
        }
        Ok(Benchmark {
            tty: std::io::stdout().is_terminal(),
            options,
            server,
            handshake,
            handshake_replies,
            results: Vec::new(),
            cluster,
            node_configs,
        })
    }

    fn run(mut self) -> Result<(), BenchError> {
        let o = &self.options;
        if !o.keepalive {
            eprintln!(
                "WARNING: Keepalive disabled. You probably need 'echo 1 > /proc/sys/net/ipv4/tcp_tw_reuse' for Linux and 'sudo sysctl -w net.inet.tcp.msl=1000' for Mac OS X in order to use a lot of clients/requests"
            );
        }
        if !o.command.is_empty() && o.tests.is_some() {
            eprintln!("WARNING: Option -t is ignored.");
        }
        if o.idle {
            print_out(&format!(
                "Creating {} idle connections and waiting forever (Ctrl+C when done)\n",
                o.clients
            ));
            let tty = self.tty;
            return Err(worker::idle(&o.target(), o.clients, |live| {
                if tty {
                    print_out(&format!("clients: {live}\r"));
                }
            }));
        }
        if o.csv {
            print_out(report::CSV_HEADER);
        }
        if !o.command.is_empty() {
            self.run_command()
        } else {
            self.run_suite()
        }
    }

    /// Benchmarks the command given after the options.
    fn run_command(&mut self) -> Result<(), BenchError> {
        let title = self
            .options
            .command
            .iter()
            .map(|a| String::from_utf8_lossy(a))
            .collect::<Vec<_>>()
            .join(" ");
        let mut args = self.options.command.clone();
        if self.options.stdin_arg {
            let mut last = Vec::new();
            std::io::stdin()
                .read_to_end(&mut last)
                .map_err(BenchError::Io)?;
            args.push(last);
        }
        let mut request = Vec::new();
        encode_command(&args, &mut request);
        // Redis reports the whole request's size as the payload of a custom command.
        self.options.data_size = request.len();
        loop {
            let batch = self.batch(&[(1, request.clone())]);
            self.bench(&title, batch)?;
            self.write_json()?;
            if !self.options.loop_forever {
                return Ok(());
            }
        }
    }

    /// Runs the default suite (the tests `-t` selects; none with `--mix` and no `-t`), then
    /// each `--mix`.
    fn run_suite(&mut self) -> Result<(), BenchError> {
        let mut generator = PayloadGenerator::new();
        let suite = self.options.mixes.is_empty() || self.options.tests.is_some();
        loop {
            let payload = Payload {
                data: generator.fill(self.options.data_size),
                random: self.options.keyspace.is_some(),
                cluster: self.options.cluster,
            };
            for test in SUITE.iter().filter(|_| suite) {
                if test
                    .selected_by
                    .iter()
                    .any(|name| self.options.selects(name))
                {
                    let batch = self.batch(&[(1, (test.request)(&payload))]);
                    self.bench(test.title, batch)?;
                }
            }
            for mix in self.options.mixes.clone() {
                let requests: Vec<(u64, Vec<u8>)> = mix
                    .entries
                    .iter()
                    .filter_map(|(name, weight)| {
                        suite::by_name(name).map(|t| (*weight, (t.request)(&payload)))
                    })
                    .collect();
                let batch = self.batch(&requests);
                self.bench(&mix.title(), batch)?;
            }
            if !self.options.csv {
                print_out("\n");
            }
            self.write_json()?;
            if !self.options.loop_forever {
                return Ok(());
            }
        }
    }

    /// The batch a connection sends: the weighted requests, `-P` of them.
    fn batch(&self, requests: &[(u64, Vec<u8>)]) -> Batch {
        let o = &self.options;
        Batch::mix(requests, o.pipeline, o.keyspace, o.cluster)
    }

    /// Runs one test and prints its report.
    fn bench(&mut self, title: &str, batch: Batch) -> Result<(), BenchError> {
        let o = &self.options;
        let plan = Arc::new(Plan {
            target: o.target(),
            handshake: self.handshake.clone(),
            handshake_replies: self.handshake_replies,
            batch,
            pipeline: o.pipeline,
            clients: o.clients,
            threads: o.threads,
            requests: o.requests,
            duration: o.duration,
            warmup: o.warmup.unwrap_or(Duration::ZERO),
            rps: o.rps,
            keepalive: o.keepalive,
            seed: o.seed,
            precision: o.precision,
            track_latency: self.tty && !o.csv,
            cluster: self.cluster.clone(),
            keyspace_random: o.keyspace.is_some(),
        });
        let mut progress = Progress::default();
        let show_progress = self.tty && !o.csv;
        let outcome = worker::run(plan, |snapshot| {
            if show_progress {
                print_out(&progress.line(title, snapshot));
            }
        })?;
        let result = TestResult {
            title: title.to_string(),
            finished: outcome.finished,
            elapsed: outcome.elapsed,
            histogram: outcome.histogram,
        };
        let mut text = progress.clear();
        text.push_str(&if o.csv {
            report::csv(&result)
        } else if o.quiet {
            report::quiet(&result)
        } else {
            report::full(&result, &self.setup())
        });
        print_out(&text);
        if o.json.is_some() {
            self.results.push(result);
        }
        Ok(())
    }

    fn setup(&self) -> Setup<'_> {
        let o = &self.options;
        Setup {
            clients: o.clients,
            data_size: o.data_size,
            keepalive: o.keepalive,
            server: self.server.as_ref(),
            threads: o.threads,
            rps: o.rps,
            cluster: self.cluster.as_ref().map(|_| &self.node_configs[..]),
        }
    }

    fn write_json(&self) -> Result<(), BenchError> {
        let Some(path) = &self.options.json else {
            return Ok(());
        };
        let doc = report::json(
            &self.results,
            &JsonSetup {
                target: self.options.target().to_string(),
                setup: self.setup(),
                pipeline: self.options.pipeline,
                duration: self.options.duration,
                warmup: self.options.warmup,
            },
        );
        std::fs::write(path, doc).map_err(BenchError::Io)
    }
}

/// `--cluster`: fetches the masters from the node given, prints them as Redis does, and
/// fetches each one's settings for the report. Fewer than two masters is an error, as in
/// Redis.
fn discover_cluster(
    options: &Options,
    auth: Vec<u8>,
) -> Result<(Cluster, Vec<Option<ServerConfig>>), BenchError> {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(BenchError::Io)?;
    let target = options.target();
    let topology = runtime.block_on(async {
        tokio::time::timeout(Duration::from_secs(10), cluster::fetch(&target, &auth)).await
    });
    let topology = match topology {
        Ok(Ok(t)) => t,
        Ok(Err(e)) => {
            eprintln!("{e}");
            return Err(BenchError::Fatal(format!(
                "Failed to fetch cluster configuration from {target}"
            )));
        }
        Err(_) => {
            return Err(BenchError::Fatal(format!(
                "Failed to fetch cluster configuration from {target}"
            )));
        }
    };
    if topology.masters.len() <= 1 {
        return Err(BenchError::Fatal(format!(
            "Invalid cluster: {} node(s).",
            topology.masters.len()
        )));
    }
    let mut text = format!("Cluster has {} master nodes:\n\n", topology.masters.len());
    let mut configs = Vec::new();
    for (i, master) in topology.masters.iter().enumerate() {
        let id = if master.id.is_empty() {
            String::new()
        } else {
            format!("{} ", master.id)
        };
        text.push_str(&format!(
            "Master {i}: {id}{}:{}\n",
            master.host, master.port
        ));
        let auth = (!auth.is_empty()).then(|| auth.clone());
        let config = runtime
            .block_on(async {
                tokio::time::timeout(
                    Duration::from_secs(10),
                    net::server_config(&master.target(), auth),
                )
                .await
            })
            .ok()
            .and_then(Result::ok)
            .flatten();
        if config.is_none() {
            eprintln!(
                "WARNING: Could not fetch node CONFIG {}:{}",
                master.host, master.port
            );
        }
        configs.push(config);
    }
    text.push('\n');
    print_out(&text);
    Ok((Cluster::new(topology, auth), configs))
}

/// CONFIG GET save/appendonly for the report header. A server that cannot be reached or does
/// not answer only costs a warning (the benchmark's own connections then fail loudly); an
/// authentication error is fatal, as in Redis.
fn fetch_server_config(
    options: &Options,
    auth: Option<Vec<u8>>,
) -> Result<Option<ServerConfig>, BenchError> {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(BenchError::Io)?;
    let target = options.target();
    let fetched = runtime.block_on(async {
        tokio::time::timeout(Duration::from_secs(10), net::server_config(&target, auth)).await
    });
    let config = match fetched {
        Ok(Ok(config)) => config,
        Ok(Err(e @ BenchError::Node { .. })) => return Err(e),
        Ok(Err(e @ BenchError::Connect { .. })) => {
            eprintln!("{e}");
            None
        }
        Ok(Err(_)) | Err(_) => None,
    };
    if config.is_none() {
        eprintln!("WARNING: Could not fetch server CONFIG");
    }
    Ok(config)
}
