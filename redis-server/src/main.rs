//! `redis-server`: a Redis 7.0 compatible server.
//!
//! Layout:
//! - `main.rs`: argv and config → [`server::Server`], start-up log, listeners, shutdown.
//! - [`server`]: shared state (keyspace, config, stats, clients).
//! - [`connection`]: per-client state and the read/parse/dispatch/write loop.
//! - [`dispatch`]: lookup, the generic gates, and `call()` bookkeeping.
//! - [`commands`]: the handlers, one file per Redis command group.
//! - [`expire`]: the cron (active expiry, rehashing).
//! - [`tracking`]: client-side caching (CLIENT TRACKING) and its invalidation messages.
//! - [`log`], [`slowlog`].
#![cfg_attr(test, allow(clippy::unwrap_used))]

mod acl;
mod blocking;
mod commands;
mod connection;
mod counters;
mod crash;
mod dispatch;
mod effects;
mod evict;
mod expire;
mod latency;
mod latency_monitor;
mod lazyfree;
mod log;
mod notify;
mod oom;
mod persistence;
mod propagate;
mod pubsub;
mod replication;
mod server;
mod slowlog;
mod tls;
mod tracking;
mod watch;
mod workers;

use std::process::ExitCode;
use std::sync::atomic::Ordering::Relaxed;
use std::sync::{Arc, Mutex, PoisonError, Weak};

use tokio::net::{TcpListener, UnixListener};

use crate::connection::ClientInfo;
use crate::log::{Level, Logger};
use crate::server::{Server, Transport};

#[global_allocator]
static ALLOCATOR: tikv_jemallocator::Jemalloc = tikv_jemallocator::Jemalloc;

/// The Redis version clients check for features; ours is reported apart (INFO `rust_redis_version`).
pub const REDIS_VERSION: &str = "7.0.15";
pub const OUR_VERSION: &str = env!("CARGO_PKG_VERSION");

fn usage() -> ExitCode {
    eprintln!(
        "Usage: ./redis-server [/path/to/redis.conf] [options] [-]\n       \
         ./redis-server - (read config from stdin)\n       \
         ./redis-server -v or --version\n       \
         ./redis-server -h or --help\n\n\
         Examples:\n       \
         ./redis-server (run the server with default conf)\n       \
         ./redis-server /etc/redis/6379.conf\n       \
         ./redis-server --port 7777\n       \
         ./redis-server --port 7777 --replicaof 127.0.0.1 8888\n       \
         ./redis-server /etc/myredis.conf --loglevel verbose -\n       \
         ./redis-server /etc/myredis.conf --loglevel verbose\n"
    );
    ExitCode::from(1)
}

fn main() -> ExitCode {
    let argv: Vec<String> = std::env::args().collect();
    let argv0 = argv.first().map(String::as_str).unwrap_or("redis-server");
    let executable = absolute_path(argv0);
    let args = &argv[1..];
    match args.first().map(String::as_str) {
        Some("-v" | "--version") => {
            println!(
                "Redis server v={REDIS_VERSION} sha=00000000:0 malloc=jemalloc-5.3.0 bits=64 build=0 (rust-redis {OUR_VERSION})"
            );
            return ExitCode::SUCCESS;
        }
        Some("-h" | "--help") => return usage(),
        Some(persistence::child::WRITER_CHILD_FLAG) => {
            return persistence::child::writer_child_main(&args[1..]);
        }
        _ => {}
    }
    let loaded = match common::config::load(args) {
        Ok(loaded) => loaded,
        Err(e) => {
            eprint!("{e}");
            return ExitCode::from(1);
        }
    };
    if loaded.sentinel {
        eprintln!("Sentinel mode is not built yet in this server.");
        return ExitCode::from(1);
    }
    let config = loaded.config;

    let dir = config.dir().to_owned();
    if let Err(e) = std::env::set_current_dir(&dir) {
        eprintln!("Can't chdir to '{dir}': {e}");
        return ExitCode::from(1);
    }
    let daemonize = config.get_bool("daemonize").unwrap_or(false);
    let logfile = config.get_str("logfile").unwrap_or("").to_owned();
    if daemonize {
        if let Err(e) = daemonize_process() {
            eprintln!("Can't daemonize: {e}");
            return ExitCode::from(1);
        }
    }
    let level = Level::from_name(config.get_str("loglevel").unwrap_or("notice"));
    let logger = match Logger::open(&logfile, level, 'M') {
        Ok(l) => l,
        Err(e) => {
            eprintln!("Can't open the log file: {e}");
            return ExitCode::from(1);
        }
    };
    crash::install(&logger, 'M');
    let pid = std::process::id();
    logger.warning("oO0OoO0OoO0Oo Redis is starting oO0OoO0OoO0Oo");
    logger.warning(&format!(
        "Redis version={REDIS_VERSION}, bits=64, commit=00000000, modified=0, pid={pid}, just started"
    ));
    if loaded.config_file.is_some() || args.iter().any(|a| a.starts_with("--")) {
        logger.warning("Configuration loaded");
    } else {
        logger.warning(&format!(
            "Warning: no config file specified, using the default config. In order to specify a config file use {argv0} /path/to/redis.conf"
        ));
    }
    for warning in &loaded.warnings {
        logger.warning(warning);
    }

    // By default one connection worker per core but one: the script thread, the snapshot and
    // lazy-free threads, the kernel's network work and, often, the clients on the same host
    // need a core. Measured on 2 cores under redis-benchmark (perf.sh): 1 worker gives 1.01
    // of Redis's throughput at -P 1 and 0.88 at -P 16, 2 workers 0.95 and 0.75.
    let threads = match config.get_int("server-threads").unwrap_or(0) {
        n if n > 0 => n as usize,
        _ => std::thread::available_parallelism().map_or(1, |n| n.get().saturating_sub(1).max(1)),
    };
    let mut server = Server::new(
        config,
        loaded
            .config_file
            .as_ref()
            .map(|p| p.to_string_lossy().into_owned()),
        executable,
        logger,
        threads,
    );
    for rename in &loaded.renames {
        if let Err(msg) = server.registry.rename(&rename.from, &rename.to) {
            eprint!(
                "\n*** FATAL CONFIG FILE ERROR (Redis {REDIS_VERSION}) ***\nReading the configuration file, at line {}\n>>> '{}'\n{msg}\n",
                rename.line, rename.text
            );
            return ExitCode::from(1);
        }
    }
    if let Err(e) = acl::load_at_startup(&server, &loaded.users) {
        server.log.warning(&e);
        return ExitCode::from(1);
    }
    {
        // A configured `replicaof` makes the server a replica from the start.
        let config = server.config();
        let class = oom::Class::of_server(config.replicaof().is_some());
        if let Err(line) = oom::apply(&config, class) {
            server.log.warning(&line);
        }
    }
    let server = Arc::new(server);

    // The main runtime accepts connections and runs the cron; clients are served by the
    // worker threads (see workers.rs).
    let runtime = match tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("Can't start the runtime: {e}");
            return ExitCode::from(1);
        }
    };
    runtime.block_on(run(server))
}

/// `path` made absolute against the current directory, as Redis records its executable for
/// INFO (`executable`) before changing into `dir`.
/// Like Redis, only leading `../` elements are folded into the directory.
fn absolute_path(path: &str) -> String {
    let mut rel = path.trim_matches([' ', '\r', '\n', '\t']);
    if rel.starts_with('/') {
        return rel.to_owned();
    }
    let Ok(cwd) = std::env::current_dir() else {
        return rel.to_owned();
    };
    let mut base = cwd.to_string_lossy().into_owned();
    while let Some(rest) = rel.strip_prefix("../") {
        rel = rest;
        if let Some(cut) = base.rfind('/') {
            base.truncate(cut.max(1));
        }
    }
    if !base.ends_with('/') {
        base.push('/');
    }
    base + rel
}

/// Forks into the background as `daemonize yes` asks, before any thread exists.
fn daemonize_process() -> std::io::Result<()> {
    // SAFETY: called from main before the tokio runtime or any other thread starts, so the
    // child is a complete copy of a single-threaded process; the parent exits at once.
    let pid = unsafe { libc::fork() };
    if pid < 0 {
        return Err(std::io::Error::last_os_error());
    }
    if pid > 0 {
        std::process::exit(0);
    }
    // SAFETY: setsid has no memory-safety preconditions.
    unsafe { libc::setsid() };
    let devnull = std::fs::OpenOptions::new()
        .read(true)
        .write(true)
        .open("/dev/null")?;
    use std::os::fd::AsRawFd;
    for fd in 0..3 {
        // SAFETY: dup2 onto the standard descriptors of our own process; `devnull` stays open
        // for the duration of the call.
        unsafe { libc::dup2(devnull.as_raw_fd(), fd) };
    }
    Ok(())
}

fn print_logo(server: &Server, port: u16) {
    let pid = std::process::id();
    let logo = format!(
        "\n\
         \x20                 _._\n\
         \x20     Redis {REDIS_VERSION} (rust-redis {OUR_VERSION}) 64 bit\n\
         \x20     Running in standalone mode\n\
         \x20     Port: {port}\n\
         \x20     PID: {pid}\n\n"
    );
    server.log.raw(logo.as_bytes());
}

async fn run(server: Arc<Server>) -> ExitCode {
    let (port, tls_port, unixsocket, unixperm, pidfile, show_logo) = {
        let config = server.config();
        (
            config.get_int("port").unwrap_or(6379) as u16,
            config.get_int("tls-port").unwrap_or(0) as u16,
            config.get_str("unixsocket").unwrap_or("").to_owned(),
            config.get_int("unixsocketperm").unwrap_or(0),
            config.get_str("pidfile").unwrap_or("").to_owned(),
            config.get_bool("always-show-logo").unwrap_or(false),
        )
    };
    let shown_port = if port != 0 { port } else { tls_port };
    if show_logo || std::io::IsTerminal::is_terminal(&std::io::stdout()) {
        print_logo(&server, shown_port);
    } else {
        server
            .log
            .notice(&format!("Running mode=standalone, port={shown_port}."));
    }

    if port == 0 && tls_port == 0 && unixsocket.is_empty() {
        server
            .log
            .warning("Configured to not listen anywhere, exiting.");
        return ExitCode::from(1);
    }
    if tls::wanted(&server.config()) {
        let configured = server.tls.configure(&server.config());
        if let Err(e) = configured {
            server.log.warning(&e);
            server
                .log
                .warning("Failed to configure TLS. Check logs for more info.");
            return ExitCode::from(1);
        }
    }
    let mut listening: [Vec<std::net::TcpListener>; 2] = [Vec::new(), Vec::new()];
    for (transport, port, name) in [
        (Transport::Tcp, port, "TCP"),
        (Transport::Tls, tls_port, "TLS"),
    ] {
        if port == 0 {
            continue;
        }
        let bound = bind_all(&server, &server.config(), port);
        match bound {
            Ok(l) => listening[transport as usize] = l,
            Err(()) => {
                server.log.warning(&format!(
                    "Failed listening on port {port} ({name}), aborting."
                ));
                return ExitCode::from(1);
            }
        }
    }
    let mut unix = None;
    if !unixsocket.is_empty() {
        let _ = std::fs::remove_file(&unixsocket);
        match UnixListener::bind(&unixsocket) {
            Ok(l) => {
                if unixperm != 0 {
                    use std::os::unix::fs::PermissionsExt;
                    let _ = std::fs::set_permissions(
                        &unixsocket,
                        std::fs::Permissions::from_mode(unixperm as u32),
                    );
                }
                unix = Some(l);
            }
            Err(e) => {
                server
                    .log
                    .warning(&format!("Failed opening Unix socket: {e}"));
                return ExitCode::from(1);
            }
        }
    }
    if !pidfile.is_empty() {
        if let Err(e) = std::fs::write(&pidfile, format!("{}\n", std::process::id())) {
            server
                .log
                .warning(&format!("Failed to write PID file: {e}"));
        }
    }
    server.log.notice("Server initialized");
    server
        .log
        .verbose(&format!("Serving with {} worker threads", server.threads));

    // Clients are accepted before the dataset loads, as Redis does: while it loads they get
    // LOADING for everything not flagged `loading` (see persistence::rdb::Pacer). The state
    // is on before the first client can come, so that none sees the dataset half there.
    let loading = persistence::rdb::Loading::start(&server.rdb, 0);
    let workers = match workers::Workers::start(server.threads) {
        Ok(w) => Arc::new(w),
        Err(e) => {
            server
                .log
                .warning(&format!("Can't start the worker threads: {e}"));
            return ExitCode::from(1);
        }
    };
    let listeners = Arc::new(Listeners {
        server: Arc::downgrade(&server),
        workers: workers.clone(),
        runtime: tokio::runtime::Handle::current(),
        running: Mutex::new([(0, Vec::new()), (0, Vec::new())]),
    });
    let [tcp, tls] = listening;
    listeners.start(Transport::Tcp, port, tcp);
    listeners.start(Transport::Tls, tls_port, tls);
    let _ = server.rebind.set(Box::new(move |config, transport, port| {
        listeners.rebind(config, transport, port)
    }));
    if let Some(listener) = unix {
        tokio::spawn(accept_unix(
            server.clone(),
            workers.clone(),
            listener,
            unixsocket.clone(),
        ));
    }
    tokio::spawn(watch_signals(server.clone()));

    let appendonly = server.config().get_bool("appendonly").unwrap_or(false);
    // On the script thread: what is loaded may hold functions (and the AOF, scripts), and
    // the engine lives there. This runtime goes on accepting clients meanwhile.
    let loader = server.clone();
    let loaded = server
        .scripting
        .thread
        .run(move || {
            if appendonly {
                persistence::aof::load_at_startup(&loader)
            } else {
                persistence::rdb::load_at_startup(&loader)
            }
        })
        .await
        .unwrap_or_else(|| Err("Loading the dataset failed".to_owned()));
    drop(loading);
    if let Err(e) = loaded {
        server.log.warning(&e);
        return ExitCode::from(1);
    }
    replication::replica::start_from_config(&server);
    workers.spawn(replication::replica::run(server.clone()));
    tokio::spawn(expire::run_cron(server.clone()));
    server.log.notice("Ready to accept connections");

    let mut shutdown = server.shutdown.subscribe();
    while !*shutdown.borrow_and_update() {
        if shutdown.changed().await.is_err() {
            break;
        }
    }
    server.log.warning("User requested shutdown...");
    if server.aof.enabled.load(Relaxed) {
        server.log.notice("Calling fsync() on the AOF file.");
        server.aof.flush_and_sync(&server);
    }
    persistence::rdb::save_on_exit(&server);
    if !pidfile.is_empty() {
        server.log.notice("Removing the pid file.");
        let _ = std::fs::remove_file(&pidfile);
    }
    if !unixsocket.is_empty() {
        server.log.notice("Removing the unix socket file.");
        let _ = std::fs::remove_file(&unixsocket);
    }
    server.log.warning("Redis is now ready to exit, bye bye...");
    ExitCode::SUCCESS
}

/// Binds `port` on every `bind` address (an optional `-addr` may fail); `Err` once a required
/// one fails, the reason logged as Redis logs it.
fn bind_all(
    server: &Server,
    config: &common::config::Config,
    port: u16,
) -> Result<Vec<std::net::TcpListener>, ()> {
    let backlog = config.get_int("tcp-backlog").unwrap_or(511) as i32;
    let mut bound = Vec::new();
    for addr in config.bind() {
        let optional = addr.starts_with('-');
        let host = match addr.trim_start_matches('-') {
            "*" => "0.0.0.0",
            "::*" => "::",
            other => other,
        };
        let host = if host.contains(':') && !host.starts_with('[') {
            format!("[{host}]")
        } else {
            host.to_owned()
        };
        match listen_tcp(&host, port, backlog) {
            Ok(l) => bound.push(l),
            Err(e) if optional => {
                server
                    .log
                    .notice(&format!("Skipping optional bind {addr}: {e}"));
            }
            Err(e) => {
                server.log.warning(&format!(
                    "Warning: Could not create server TCP listening socket {host}:{port}: bind: {e}"
                ));
                return Err(());
            }
        }
    }
    Ok(bound)
}

/// The accept loops of `port` and `tls-port`, replaceable at run time.
struct Listeners {
    server: Weak<Server>,
    workers: Arc<workers::Workers>,
    runtime: tokio::runtime::Handle,
    /// Per transport: the port listened on and its accept loops.
    running: Mutex<[(u16, Vec<Running>); 2]>,
}

/// One accept loop: its task, and word of its socket being closed.
struct Running {
    task: tokio::task::AbortHandle,
    closed: std::sync::mpsc::Receiver<()>,
}

/// A listening socket owned by its accept loop; `closed` hangs up once the socket is gone
/// (fields drop in order), so a rebind to the same port never finds it still bound.
struct Held {
    std: Option<std::net::TcpListener>,
    tokio: Option<TcpListener>,
    _closed: std::sync::mpsc::Sender<()>,
}

impl Listeners {
    /// Runs accept loops on `bound`, closing the transport's previous ones first.
    fn start(&self, transport: Transport, port: u16, bound: Vec<std::net::TcpListener>) {
        let Some(server) = self.server.upgrade() else {
            return;
        };
        let mut running = self.running.lock().unwrap_or_else(PoisonError::into_inner);
        let tasks = bound
            .into_iter()
            .map(|listener| {
                let (tx, closed) = std::sync::mpsc::channel();
                let held = Held {
                    std: Some(listener),
                    tokio: None,
                    _closed: tx,
                };
                let task = self
                    .runtime
                    .spawn(accept_tcp(
                        server.clone(),
                        self.workers.clone(),
                        held,
                        transport,
                    ))
                    .abort_handle();
                Running { task, closed }
            })
            .collect();
        let (_, old) = std::mem::replace(&mut running[transport as usize], (port, tasks));
        Listeners::stop(old);
    }

    /// Ends accept loops and waits (briefly) until their sockets are closed.
    fn stop(old: Vec<Running>) {
        for r in &old {
            r.task.abort();
        }
        for r in old {
            let _ = r.closed.recv_timeout(std::time::Duration::from_secs(1));
        }
    }

    /// CONFIG SET `port`/`tls-port`: the old listeners close, then the new port's take
    /// their place; if binding fails the old port is listened on again (Redis keeps it).
    fn rebind(
        &self,
        config: &common::config::Config,
        transport: Transport,
        port: u16,
    ) -> Result<(), String> {
        let Some(server) = self.server.upgrade() else {
            return Err("the server is shutting down".into());
        };
        let (old_port, old) = std::mem::take(
            &mut self.running.lock().unwrap_or_else(PoisonError::into_inner)[transport as usize],
        );
        Listeners::stop(old);
        if port == 0 {
            return Ok(());
        }
        match bind_all(&server, config, port) {
            Ok(bound) => {
                self.start(transport, port, bound);
                Ok(())
            }
            Err(()) => {
                if old_port != 0 {
                    if let Ok(bound) = bind_all(&server, config, old_port) {
                        self.start(transport, old_port, bound);
                    }
                }
                Err("Unable to listen on this port. Check server logs.".into())
            }
        }
    }
}

/// A listening socket as Redis makes one: address reuse, and IPv6 sockets limited to IPv6 so
/// that `bind * -::*` can listen on both families on one port.
fn listen_tcp(host: &str, port: u16, backlog: i32) -> std::io::Result<std::net::TcpListener> {
    use std::net::ToSocketAddrs;
    let addr = (host.trim_start_matches('[').trim_end_matches(']'), port)
        .to_socket_addrs()?
        .next()
        .ok_or_else(|| std::io::Error::other("no address"))?;
    let domain = socket2::Domain::for_address(addr);
    let socket = socket2::Socket::new(domain, socket2::Type::STREAM, Some(socket2::Protocol::TCP))?;
    socket.set_reuse_address(true)?;
    if addr.is_ipv6() {
        socket.set_only_v6(true)?;
    }
    socket.bind(&addr.into())?;
    socket.listen(backlog)?;
    socket.set_nonblocking(true)?;
    Ok(socket.into())
}

/// SIGTERM and SIGINT schedule a shutdown, carried out by [`shutdown_when_due`]; a second
/// SIGINT while one is pending exits at once, removing the temporary RDB file of a save in
/// progress (Redis's "You insist").
async fn watch_signals(server: Arc<Server>) {
    use tokio::signal::unix::{SignalKind, signal};
    let (Ok(mut term), Ok(mut int)) = (
        signal(SignalKind::terminate()),
        signal(SignalKind::interrupt()),
    ) else {
        server.log.warning("Could not install signal handlers");
        return;
    };
    loop {
        let interrupt = tokio::select! {
            _ = term.recv() => false,
            _ = int.recv() => true,
        };
        if interrupt && server.shutdown_asap.load(Relaxed) {
            server.log.warning("You insist... exiting now.");
            let _ = std::fs::remove_file(format!("temp-{}.rdb", std::process::id()));
            std::process::exit(1);
        }
        if server.rdb.loading.load(Relaxed) {
            // The loader (at start-up, or a replica's of its master's data set) exits at its
            // next pause without saving (persistence::rdb::Pacer); a load that ends first is
            // followed by the usual shutdown.
            server
                .log
                .warning("Received shutdown signal during loading, scheduling shutdown.");
            if !server.shutdown_asap.swap(true, Relaxed) {
                tokio::spawn(shutdown_after_loading(server.clone()));
            }
            continue;
        }
        server.log.warning(if interrupt {
            "Received SIGINT scheduling shutdown..."
        } else {
            "Received SIGTERM scheduling shutdown..."
        });
        if !server.shutdown_asap.swap(true, Relaxed) {
            tokio::spawn(shutdown_when_due(server.clone()));
        }
    }
}

/// A shutdown a signal asked for while a load ran that finished before it could exit: carried
/// out as usual once the load is over.
async fn shutdown_after_loading(server: Arc<Server>) {
    while server.rdb.loading.load(Relaxed) {
        tokio::time::sleep(std::time::Duration::from_millis(10)).await;
    }
    shutdown_when_due(server).await;
}

/// Carries out a shutdown a signal asked for at the next cron tick (none while DEBUG
/// PAUSE-CRON holds the cron); if the final save fails the server goes on running, as Redis
/// does. Ends early when SHUTDOWN ABORT took the request back.
async fn shutdown_when_due(server: Arc<Server>) {
    loop {
        let hz = server.hot.hz.load(Relaxed).max(1);
        tokio::time::sleep(std::time::Duration::from_micros(1_000_000 / hz)).await;
        if !server.shutdown_asap.load(Relaxed) {
            return;
        }
        if !server.cron_paused.load(Relaxed) {
            break;
        }
    }
    let saving = server.clone();
    let ready = tokio::task::spawn_blocking(move || prepare_signal_shutdown(&saving))
        .await
        .unwrap_or(false);
    if ready {
        server.request_shutdown();
    } else {
        server
            .log
            .warning("Errors trying to shut down the server. Check the logs for more information.");
        server.shutdown_asap.store(false, Relaxed);
    }
}

/// The final save of a signalled shutdown (when save points are configured); false when it
/// failed, so the server must not exit.
fn prepare_signal_shutdown(server: &Server) -> bool {
    persistence::rdb::kill_bgsave(server);
    if server.rdb.final_save_done.load(Relaxed) || server.config().save_params().is_empty() {
        return true;
    }
    server
        .log
        .notice("Saving the final RDB snapshot before exiting.");
    let gate = server.keyspace.exclusive();
    let mut view = server.keyspace.lock_lazily(&gate, 0);
    if persistence::rdb::save(server, &mut view).is_err() {
        server
            .log
            .warning("Error trying to save the DB, can't exit.");
        return false;
    }
    server.rdb.final_save_done.store(true, Relaxed);
    true
}

/// Counts a new connection and admits it, or answers Redis's max-clients error and drops it
/// (a TLS client gets no answer: it has no session yet to read it in).
async fn admit<S: tokio::io::AsyncWrite + Unpin>(
    server: &Server,
    stream: &mut S,
    transport: Transport,
) -> bool {
    server
        .stats
        .total_connections_received
        .fetch_add(1, Relaxed);
    let max = server.hot.maxclients.load(Relaxed) as usize;
    if server.connected_clients.load(Relaxed) < max {
        return true;
    }
    server.stats.rejected_connections.fetch_add(1, Relaxed);
    if transport == Transport::Tls {
        return false;
    }
    use tokio::io::AsyncWriteExt;
    let _ = stream
        .write_all(b"-ERR max number of clients reached\r\n")
        .await;
    false
}

/// Who connected, as CLIENT LIST shows it.
struct Peer {
    addr: String,
    laddr: String,
    fd: i64,
    is_unix: bool,
}

/// Registers a client and hands its socket to the next worker, whose reactor it joins there
/// (`attach` turns the std socket back into a tokio one inside the worker's runtime).
fn hand_over<T, S>(
    server: &Arc<Server>,
    workers: &workers::Workers,
    socket: T,
    attach: fn(T) -> std::io::Result<S>,
    peer: Peer,
) where
    T: Send + 'static,
    S: tokio::io::AsyncRead + tokio::io::AsyncWrite + Unpin + Send + 'static,
{
    let id = server.next_client_id.fetch_add(1, Relaxed);
    let (info, pushes) = ClientInfo::new(id, peer.addr, peer.laddr, peer.fd, peer.is_unix);
    server.register_client(info.clone());
    let server = server.clone();
    workers.spawn(async move {
        match attach(socket) {
            Ok(stream) => connection::serve(server, stream, info, pushes).await,
            Err(_) => server.unregister_client(info.id),
        }
    });
}

async fn accept_tcp(
    server: Arc<Server>,
    workers: Arc<workers::Workers>,
    mut held: Held,
    transport: Transport,
) {
    let Some(std) = held.std.take() else {
        return;
    };
    let listener = match TcpListener::from_std(std) {
        Ok(l) => held.tokio.insert(l),
        Err(e) => {
            server
                .log
                .warning(&format!("Can't accept connections: {e}"));
            return;
        }
    };
    let mut shutdown = server.shutdown.subscribe();
    loop {
        let accepted = tokio::select! {
            a = listener.accept() => a,
            _ = shutdown.changed() => return,
        };
        let Ok((mut stream, peer)) = accepted else {
            continue;
        };
        if !admit(&server, &mut stream, transport).await {
            continue;
        }
        if protected_refusal(&server, peer.ip()) {
            server.stats.rejected_connections.fetch_add(1, Relaxed);
            if transport == Transport::Tcp {
                use tokio::io::AsyncWriteExt;
                let _ = stream.write_all(PROTECTED_MODE_DENIED).await;
            }
            continue;
        }
        let _ = stream.set_nodelay(true);
        let keepalive = server.config().get_int("tcp-keepalive").unwrap_or(300);
        if keepalive > 0 {
            let sock = socket2::SockRef::from(&stream);
            let ka = socket2::TcpKeepalive::new()
                .with_time(std::time::Duration::from_secs(keepalive as u64));
            let _ = sock.set_tcp_keepalive(&ka);
        }
        let laddr = stream
            .local_addr()
            .map(|a| a.to_string())
            .unwrap_or_default();
        use std::os::fd::AsRawFd;
        let fd = i64::from(stream.as_raw_fd());
        let Ok(socket) = stream.into_std() else {
            continue;
        };
        let peer = Peer {
            addr: peer.to_string(),
            laddr,
            fd,
            is_unix: false,
        };
        match transport {
            Transport::Tcp => hand_over(
                &server,
                &workers,
                socket,
                tokio::net::TcpStream::from_std,
                peer,
            ),
            Transport::Tls => {
                let auth = tls::AuthClients::of(&server.config());
                match server.tls.acceptor(auth) {
                    Ok(acceptor) => hand_over_tls(&server, &workers, socket, acceptor, peer),
                    Err(reason) => server
                        .log
                        .warning(&format!("Error accepting a client connection: {reason}")),
                }
            }
        }
    }
}

/// What a client from elsewhere than the loopback interface is told in protected mode.
const PROTECTED_MODE_DENIED: &[u8] =
    b"-DENIED Redis is running in protected mode because protected \
mode is enabled and no password is set for the default user. In this mode connections are only \
accepted from the loopback interface. If you want to connect from external computers to Redis you \
may adopt one of the following solutions: 1) Just disable protected mode sending the command \
'CONFIG SET protected-mode no' from the loopback interface by connecting to Redis from the same \
host the server is running, however MAKE SURE Redis is not publicly accessible from internet if \
you do so. Use CONFIG REWRITE to make this change permanent. 2) Alternatively you can just \
disable the protected mode by editing the Redis configuration file, and setting the protected \
mode option to 'no', and then restarting the server. 3) If you started the server manually just \
for testing, restart it with the '--protected-mode no' option. 4) Setup a an authentication \
password for the default user. NOTE: You only need to do one of the above things in order for \
the server to start accepting connections from the outside.\r\n";

/// Protected mode (on, and the default user has no password) turns away TCP clients that do
/// not come from 127.0.0.1 or ::1.
fn protected_refusal(server: &Server, ip: std::net::IpAddr) -> bool {
    let local = match ip {
        std::net::IpAddr::V4(v4) => v4 == std::net::Ipv4Addr::LOCALHOST,
        std::net::IpAddr::V6(v6) => v6 == std::net::Ipv6Addr::LOCALHOST,
    };
    !local
        && server.config().get_bool("protected-mode").unwrap_or(true)
        && server.acl.default_has_nopass()
}

/// [`hand_over`] for `tls-port`: the handshake runs in the client's own task on its worker,
/// bounded by [`tls::HANDSHAKE_TIMEOUT`], and the client is served once it succeeds.
fn hand_over_tls(
    server: &Arc<Server>,
    workers: &workers::Workers,
    socket: std::net::TcpStream,
    acceptor: tokio_rustls::TlsAcceptor,
    peer: Peer,
) {
    let id = server.next_client_id.fetch_add(1, Relaxed);
    let (info, pushes) = ClientInfo::new(id, peer.addr, peer.laddr, peer.fd, peer.is_unix);
    server.register_client(info.clone());
    let server = server.clone();
    workers.spawn(async move {
        let stream = match tokio::net::TcpStream::from_std(socket) {
            Ok(stream) => stream,
            Err(_) => return server.unregister_client(info.id),
        };
        match tls::accept(acceptor, stream).await {
            Ok(stream) => connection::serve(server, stream, info, pushes).await,
            Err(e) => {
                server
                    .log
                    .warning(&format!("Error accepting a client connection: {e}"));
                server.unregister_client(info.id);
            }
        }
    });
}

async fn accept_unix(
    server: Arc<Server>,
    workers: Arc<workers::Workers>,
    listener: UnixListener,
    path: String,
) {
    let mut shutdown = server.shutdown.subscribe();
    loop {
        let accepted = tokio::select! {
            a = listener.accept() => a,
            _ = shutdown.changed() => return,
        };
        let Ok((mut stream, _)) = accepted else {
            continue;
        };
        if !admit(&server, &mut stream, Transport::Tcp).await {
            continue;
        }
        use std::os::fd::AsRawFd;
        let fd = i64::from(stream.as_raw_fd());
        let Ok(socket) = stream.into_std() else {
            continue;
        };
        hand_over(
            &server,
            &workers,
            socket,
            tokio::net::UnixStream::from_std,
            Peer {
                addr: format!("{path}:0"),
                laddr: path.clone(),
                fd,
                is_unix: true,
            },
        );
    }
}
