//! The replica side of replication: REPLICAOF's state, and the link task that connects to the
//! master, handshakes, synchronizes (a snapshot or a partial resync from our own offset), then
//! applies the master's stream as a client that is obeyed without question.
//!
//! As in Redis, a replica keeps a backlog of the stream it applied, with the master's offsets,
//! and forwards exactly those bytes to its own replicas; its own commands are not propagated
//! to replicas (the AOF still gets them). Keys whose time has come are hidden from the
//! replica's clients but stay until the master's DEL (`common::keyspace::ExpiryMode`).

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering::Relaxed};
use std::sync::{Mutex, MutexGuard, PoisonError};
use std::time::Duration;

use common::resp::{Parsed, ReplyBuffer, RequestLimits, RequestParser};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

use crate::connection::{Client, ClientInfo, ClientKind};
use crate::dispatch::{self, Dispatched};
use crate::server::{Server, unix_ms};

/// A replication id nobody has (INFO `master_replid2` with no previous history).
pub(crate) const NO_REPLID: &str = "0000000000000000000000000000000000000000";

/// Where the link is (Redis's `repl_state`, as ROLE names it).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Status {
    /// Must (re)connect.
    Connect,
    Connecting,
    /// Connected, before the sync starts (ROLE says `handshake`).
    Handshake,
    /// Receiving the snapshot.
    Transfer,
    Connected,
}

/// This server as a replica.
#[derive(Default)]
pub(crate) struct Link {
    /// True while this server is a replica (dispatch's READONLY and MASTERDOWN checks).
    is_replica: AtomicBool,
    /// True while the link is up and synchronized.
    connected: AtomicBool,
    /// Bumped by every REPLICAOF: a link of an older generation stops.
    generation: AtomicU64,
    /// Woken when the master changes.
    pub(crate) changed: tokio::sync::Notify,
    state: Mutex<LinkState>,
}

/// What INFO and ROLE show about the link, and the previous replication id.
pub(crate) struct LinkState {
    pub master: Option<(String, i64)>,
    pub status: Status,
    /// When the master last sent something (Unix ms); `None` without a master client.
    pub last_io_ms: Option<i64>,
    /// When the link went down (Unix ms); 0 if it never was up.
    pub down_since_ms: i64,
    /// Bytes of the master's stream read and applied (`slave_read_repl_offset`,
    /// `slave_repl_offset`); `None` without a master client.
    pub read_offset: Option<u64>,
    pub applied_offset: Option<u64>,
    /// The snapshot transfer: bytes expected (0 for the EOF-marked form) and read.
    pub transfer_size: u64,
    pub transfer_read: u64,
    pub transfer_last_io_ms: i64,
    /// The previous replication id and the first offset it does not cover
    /// (`master_replid2`, `second_repl_offset`).
    pub replid2: String,
    pub second_offset: i64,
    /// The master's client, for CLIENT KILL TYPE master.
    pub master_client: Option<Arc<ClientInfo>>,
}

impl Default for LinkState {
    fn default() -> Self {
        LinkState {
            master: None,
            status: Status::Connect,
            last_io_ms: None,
            down_since_ms: 0,
            read_offset: None,
            applied_offset: None,
            transfer_size: 0,
            transfer_read: 0,
            transfer_last_io_ms: 0,
            replid2: NO_REPLID.to_owned(),
            second_offset: -1,
            master_client: None,
        }
    }
}

impl Link {
    pub(crate) fn is_replica(&self) -> bool {
        self.is_replica.load(Relaxed)
    }

    pub(crate) fn link_up(&self) -> bool {
        self.connected.load(Relaxed)
    }

    pub(crate) fn lock(&self) -> MutexGuard<'_, LinkState> {
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }

    fn current(&self, generation: u64) -> bool {
        self.generation.load(Relaxed) == generation
    }
}

/// Whether a normal client's write is refused on this server (replica-read-only).
pub(crate) fn refuses_writes(server: &Server) -> bool {
    server.replica.is_replica()
        && server
            .config()
            .get_bool("replica-read-only")
            .unwrap_or(true)
}

/// Whether commands without the `stale` flag are refused (link down, stale data not served).
pub(crate) fn serves_no_stale_data(server: &Server) -> bool {
    server.replica.is_replica()
        && !server.replica.link_up()
        && !server
            .config()
            .get_bool("replica-serve-stale-data")
            .unwrap_or(true)
}

/// What REPLICAOF host port did.
pub(crate) enum SetMaster {
    Changed,
    AlreadyConnected,
}

/// REPLICAOF host port: from now on this server is a replica of `host:port`. `who` describes
/// the client asking, for the log.
pub(crate) fn set_master(server: &Server, host: &str, port: i64, who: &str) -> SetMaster {
    let link = &server.replica;
    let mut state = link.lock();
    if state
        .master
        .as_ref()
        .is_some_and(|(h, p)| h == host && *p == port)
    {
        return SetMaster::AlreadyConnected;
    }
    let was_master = state.master.is_none();
    state.master = Some((host.to_owned(), port));
    state.status = Status::Connect;
    state.master_client = None;
    state.last_io_ms = None;
    if was_master {
        // Our own history becomes what we ask the new master to continue (Redis's
        // replicationCacheMasterUsingMyself).
        let offset = server.feed.lock().offset;
        state.read_offset = Some(offset);
        state.applied_offset = Some(offset);
        state.down_since_ms = 0;
    }
    drop(state);
    enter_replica_mode(server, true);
    link.connected.store(false, Relaxed);
    link.generation.fetch_add(1, Relaxed);
    link.changed.notify_waiters();
    server
        .log
        .notice(&format!("Connecting to MASTER {host}:{port}"));
    if !who.is_empty() {
        server.log.notice(&format!(
            "REPLICAOF {host}:{port} enabled (user request from '{who}')"
        ));
    }
    SetMaster::Changed
}

/// REPLICAOF NO ONE: this server becomes a master, under a new replication id; the old one
/// stays valid as `master_replid2` up to our offset, so our replicas can continue.
pub(crate) fn unset_master(server: &Server, who: &str) {
    let link = &server.replica;
    let mut state = link.lock();
    if state.master.is_none() {
        return;
    }
    state.master = None;
    state.status = Status::Connect;
    state.last_io_ms = None;
    state.read_offset = None;
    state.applied_offset = None;
    if let Some(master) = state.master_client.take() {
        master.request_kill();
    }
    let offset = server.feed.lock().offset;
    let mut replid = server.replid.lock().unwrap_or_else(PoisonError::into_inner);
    state.replid2 = std::mem::replace(&mut *replid, crate::server::random_hex(40));
    state.second_offset = offset as i64 + 1;
    drop(replid);
    drop(state);
    enter_replica_mode(server, false);
    link.connected.store(false, Relaxed);
    link.generation.fetch_add(1, Relaxed);
    link.changed.notify_waiters();
    // Our replicas learn the new id when they reconnect (they continue through replid2).
    disconnect_replicas(server);
    server
        .log
        .notice(&format!("MASTER MODE enabled (user request from '{who}')"));
}

fn enter_replica_mode(server: &Server, on: bool) {
    server.replica.is_replica.store(on, Relaxed);
    // The replica class of `oom-score-adj-values` applies while following a master.
    if let Err(line) = crate::oom::apply(&server.config(), crate::oom::Class::of_server(on)) {
        server.log.warning(&line);
    }
    server.keyspace.set_replica(on);
    let mut feed = server.feed.lock();
    feed.is_replica = on;
    // The next write of a new master selects its database.
    feed.forget_selected_db();
}

/// Closes the connections of our replicas (they must sync again).
fn disconnect_replicas(server: &Server) {
    for client in server.client_list() {
        if client.details().kind == ClientKind::Replica {
            client.request_kill();
        }
    }
}

/// The `replicaof` directive at start-up.
pub(crate) fn start_from_config(server: &Server) {
    let target = server
        .config()
        .replicaof()
        .map(|(host, port)| (host.to_owned(), i64::from(port)));
    if let Some((host, port)) = target {
        set_master(server, &host, port, "");
    }
}

/// Runs the link until shutdown: connects to whichever master REPLICAOF names, and again
/// every second after the link is lost.
pub(crate) async fn run(server: Arc<Server>) {
    let mut shutdown = server.shutdown.subscribe();
    loop {
        let changed = server.replica.changed.notified();
        tokio::pin!(changed);
        changed.as_mut().enable();
        let generation = server.replica.generation.load(Relaxed);
        let target = server.replica.lock().master.clone();
        let Some((host, port)) = target else {
            tokio::select! {
                _ = &mut changed => continue,
                _ = shutdown.changed() => return,
            }
        };
        tokio::select! {
            _ = link_once(&server, &host, port, generation) => {}
            _ = &mut changed => {}
            _ = shutdown.changed() => return,
        }
        link_lost(&server, generation);
        if !server.replica.current(generation) {
            continue;
        }
        // Redis's replication cron retries once a second.
        tokio::select! {
            _ = tokio::time::sleep(Duration::from_secs(1)) => {}
            _ = &mut changed => {}
            _ = shutdown.changed() => return,
        }
    }
}

/// After a link ended: the master client goes, the link is down.
fn link_lost(server: &Server, generation: u64) {
    let link = &server.replica;
    let was_up = link.connected.swap(false, Relaxed);
    let mut state = link.lock();
    if let Some(master) = state.master_client.take() {
        server.unregister_client(master.id);
    }
    if !link.current(generation) {
        return;
    }
    state.status = Status::Connect;
    state.last_io_ms = None;
    if was_up {
        state.down_since_ms = unix_ms();
        drop(state);
        server.log.notice("Connection with master lost.");
        server.log.notice("Caching the disconnected master state.");
    }
}

/// Why a link attempt ended.
type LinkResult = Result<(), String>;

/// Socket reads with a buffer and the `repl-timeout`.
struct Conn {
    stream: TcpStream,
    buf: Vec<u8>,
    timeout: Duration,
}

impl Conn {
    async fn fill(&mut self) -> LinkResult {
        if self.buf.capacity() - self.buf.len() < 16 * 1024 {
            self.buf.reserve(16 * 1024);
        }
        match tokio::time::timeout(self.timeout, self.stream.read_buf(&mut self.buf)).await {
            Err(_) => Err("Timeout receiving from MASTER".into()),
            Ok(Err(e)) => Err(e.to_string()),
            Ok(Ok(0)) => Err("connection lost".into()),
            Ok(Ok(_)) => Ok(()),
        }
    }

    /// One `\r\n`-terminated line, without its end.
    async fn line(&mut self) -> Result<Vec<u8>, String> {
        loop {
            if let Some(end) = self.buf.iter().position(|b| *b == b'\n') {
                let mut line: Vec<u8> = self.buf.drain(..=end).collect();
                line.pop();
                if line.last() == Some(&b'\r') {
                    line.pop();
                }
                return Ok(line);
            }
            if self.buf.len() > 64 * 1024 {
                return Err("Protocol error: line too long".into());
            }
            self.fill().await?;
        }
    }

    async fn send(&mut self, args: &[&[u8]]) -> LinkResult {
        let mut out = Vec::new();
        common::resp::encode_command_from(args.iter().copied(), &mut out);
        self.stream.write_all(&out).await.map_err(|e| e.to_string())
    }

    async fn command(&mut self, args: &[&[u8]]) -> Result<Vec<u8>, String> {
        self.send(args).await?;
        self.line().await
    }
}

async fn link_once(server: &Arc<Server>, host: &str, port: i64, generation: u64) {
    if let Err(e) = link_inner(server, host, port, generation).await {
        server
            .log
            .warning(&format!("Error condition on socket for SYNC: {e}"));
    }
}

fn set_status(server: &Server, status: Status) {
    server.replica.lock().status = status;
}

/// Connects to the master, from `bind-source-addr` when it is set.
async fn connect(host: &str, port: u16, source: &str) -> std::io::Result<TcpStream> {
    if source.is_empty() {
        return TcpStream::connect((host, port)).await;
    }
    let source: std::net::IpAddr = source
        .parse()
        .map_err(|_| std::io::Error::other("Invalid bind-source-addr"))?;
    let mut last = std::io::Error::other("no address");
    for addr in tokio::net::lookup_host((host, port)).await? {
        if addr.is_ipv4() != source.is_ipv4() {
            continue;
        }
        let socket = if addr.is_ipv4() {
            tokio::net::TcpSocket::new_v4()?
        } else {
            tokio::net::TcpSocket::new_v6()?
        };
        socket.bind(std::net::SocketAddr::new(source, 0))?;
        match socket.connect(addr).await {
            Ok(stream) => return Ok(stream),
            Err(e) => last = e,
        }
    }
    Err(last)
}

async fn link_inner(server: &Arc<Server>, host: &str, port: i64, generation: u64) -> LinkResult {
    let (timeout, auth, user, announce_ip, announce_port, source_addr) = {
        let config = server.config();
        (
            Duration::from_secs(config.get_int("repl-timeout").unwrap_or(60).max(1) as u64),
            config.get_str("masterauth").unwrap_or("").to_owned(),
            config.get_str("masteruser").unwrap_or("").to_owned(),
            config
                .get_str("replica-announce-ip")
                .unwrap_or("")
                .to_owned(),
            config.get_int("replica-announce-port").unwrap_or(0),
            config.get_str("bind-source-addr").unwrap_or("").to_owned(),
        )
    };
    set_status(server, Status::Connecting);
    server.log.notice("MASTER <-> REPLICA sync started");
    let port16 = u16::try_from(port).map_err(|_| "Invalid master port".to_owned())?;
    let stream = match tokio::time::timeout(timeout, connect(host, port16, &source_addr)).await {
        Err(_) => return Err("Timeout connecting to the MASTER...".into()),
        Ok(Err(e)) => return Err(e.to_string()),
        Ok(Ok(s)) => s,
    };
    let _ = stream.set_nodelay(true);
    let mut conn = Conn {
        stream,
        buf: Vec::with_capacity(16 * 1024),
        timeout,
    };
    server
        .log
        .notice("Non blocking connect for SYNC fired the event.");
    set_status(server, Status::Handshake);
    let pong = conn.command(&[b"PING"]).await?;
    if pong.first() == Some(&b'-')
        && !pong.starts_with(b"-NOAUTH")
        && !pong.starts_with(b"-NOPERM")
        && !pong.starts_with(b"-ERR operation not permitted")
    {
        return Err(format!(
            "Error reply to PING from master: '{}'",
            String::from_utf8_lossy(&pong)
        ));
    }
    server
        .log
        .notice("Master replied to PING, replication can continue...");
    if !auth.is_empty() {
        let reply = if user.is_empty() {
            conn.command(&[b"AUTH", auth.as_bytes()]).await?
        } else {
            conn.command(&[b"AUTH", user.as_bytes(), auth.as_bytes()])
                .await?
        };
        if reply.first() == Some(&b'-') {
            return Err(format!(
                "Unable to AUTH to MASTER: {}",
                String::from_utf8_lossy(&reply)
            ));
        }
    }
    let listening = if announce_port > 0 {
        announce_port
    } else {
        server.tcp_port.load(Relaxed) as i64
    };
    let reply = conn
        .command(&[
            b"REPLCONF",
            b"listening-port",
            listening.to_string().as_bytes(),
        ])
        .await?;
    if reply.first() == Some(&b'-') {
        server.log.notice(&format!(
            "(Non critical) Master does not understand REPLCONF listening-port: {}",
            String::from_utf8_lossy(&reply)
        ));
    }
    if !announce_ip.is_empty() {
        let reply = conn
            .command(&[b"REPLCONF", b"ip-address", announce_ip.as_bytes()])
            .await?;
        if reply.first() == Some(&b'-') {
            server.log.notice(&format!(
                "(Non critical) Master does not understand REPLCONF ip-address: {}",
                String::from_utf8_lossy(&reply)
            ));
        }
    }
    let reply = conn
        .command(&[b"REPLCONF", b"capa", b"eof", b"capa", b"psync2"])
        .await?;
    if reply.first() == Some(&b'-') {
        server.log.notice(&format!(
            "(Non critical) Master does not understand REPLCONF capa: {}",
            String::from_utf8_lossy(&reply)
        ));
    }
    // PSYNC with our history when we have one, `? -1` otherwise.
    let cached = server.replica.lock().applied_offset;
    let (psync_id, psync_offset) = match cached {
        Some(offset) => (server.replid(), (offset + 1).to_string()),
        None => ("?".to_owned(), "-1".to_owned()),
    };
    if cached.is_some() {
        server.log.notice(&format!(
            "Trying a partial resynchronization (request {psync_id}:{psync_offset})."
        ));
    } else {
        server
            .log
            .notice("Partial resynchronization not possible (no cached master)");
    }
    let mut reply = conn
        .command(&[b"PSYNC", psync_id.as_bytes(), psync_offset.as_bytes()])
        .await?;
    // A master preparing the snapshot may send newlines first.
    while reply.is_empty() {
        reply = conn.line().await?;
    }
    let text = String::from_utf8_lossy(&reply).into_owned();
    let start = if let Some(rest) = text.strip_prefix("+FULLRESYNC") {
        let mut words = rest.split_whitespace();
        let replid = words.next().unwrap_or_default().to_owned();
        let offset: u64 = words.next().and_then(|o| o.parse().ok()).unwrap_or(0);
        server
            .log
            .notice(&format!("Full resync from master: {replid}:{offset}"));
        full_sync(server, &mut conn, replid, offset, generation).await?
    } else if let Some(rest) = text.strip_prefix("+CONTINUE") {
        server
            .log
            .notice("Successful partial resynchronization with master.");
        partial_sync(server, rest.trim(), generation)?
    } else if text.starts_with("-NOMASTERLINK") || text.starts_with("-LOADING") {
        server.log.notice(&format!(
            "Master is currently unable to PSYNC but should be in the future: {text}"
        ));
        return Ok(());
    } else {
        return Err(format!("Unexpected reply to PSYNC from master: {text}"));
    };
    stream_from_master(server, conn, start, generation).await
}

/// Receives and loads the snapshot; returns the offset the stream starts from.
async fn full_sync(
    server: &Arc<Server>,
    conn: &mut Conn,
    replid: String,
    offset: u64,
    generation: u64,
) -> Result<u64, String> {
    {
        let mut state = server.replica.lock();
        state.status = Status::Transfer;
        state.transfer_size = 0;
        state.transfer_read = 0;
        state.transfer_last_io_ms = unix_ms();
    }
    let mut header = conn.line().await?;
    while header.is_empty() {
        header = conn.line().await?;
        server.replica.lock().transfer_last_io_ms = unix_ms();
    }
    if header.first() == Some(&b'-') {
        return Err(format!(
            "MASTER aborted replication with an error: {}",
            String::from_utf8_lossy(&header)
        ));
    }
    let Some(spec) = header.strip_prefix(b"$") else {
        return Err(format!(
            "Bad protocol from MASTER, the first byte is not '$' (we received '{}'), are you sure the host and port are right?",
            String::from_utf8_lossy(&header)
        ));
    };
    let payload = if let Some(mark) = spec.strip_prefix(b"EOF:") {
        if mark.len() != 40 {
            return Err("Bad EOF mark from MASTER".into());
        }
        let mark = mark.to_vec();
        server
            .log
            .notice("MASTER <-> REPLICA sync: receiving streamed RDB from master with EOF to disk");
        loop {
            if conn.buf.len() >= 40 && conn.buf.ends_with(&mark) {
                let mut data = std::mem::take(&mut conn.buf);
                data.truncate(data.len() - 40);
                break data;
            }
            conn.fill().await?;
            let mut state = server.replica.lock();
            state.transfer_read = conn.buf.len() as u64;
            state.transfer_last_io_ms = unix_ms();
        }
    } else {
        let size: usize = std::str::from_utf8(spec)
            .ok()
            .and_then(|s| s.parse().ok())
            .ok_or_else(|| "Bad payload length from MASTER".to_owned())?;
        server.log.notice(&format!(
            "MASTER <-> REPLICA sync: receiving {size} bytes from master to disk"
        ));
        server.replica.lock().transfer_size = size as u64;
        while conn.buf.len() < size {
            conn.fill().await?;
            let mut state = server.replica.lock();
            state.transfer_read = conn.buf.len().min(size) as u64;
            state.transfer_last_io_ms = unix_ms();
        }
        let rest = conn.buf.split_off(size);
        std::mem::replace(&mut conn.buf, rest)
    };
    if !server.replica.current(generation) {
        return Err("replication target changed".into());
    }
    // Our replicas must sync again from the new data set.
    disconnect_replicas(server);
    server
        .log
        .notice("MASTER <-> REPLICA sync: Flushing old data");
    let loader = server.clone();
    let loaded = server
        .scripting
        .thread
        .run(move || {
            use crate::persistence::rdb::{Loading, Pacer, load_paced};
            // As at start-up, clients are served while the master's data set loads: they get
            // LOADING but for INFO and the like (Redis's replica is `loading` meanwhile).
            let _loading = Loading::start(&loader.rdb, payload.len() as u64);
            let mut pacer = Pacer::owning(&loader, loader.keyspace.exclusive());
            let Some(mut view) = pacer.view(0) else {
                return Err("Loading the master's data set failed".to_owned());
            };
            crate::persistence::rdb::flush_all(&loader, &mut view);
            loader
                .log
                .notice("MASTER <-> REPLICA sync: Loading DB in memory");
            let loaded = load_paced(&loader, &mut view, &payload, false, &mut pacer);
            if loaded.is_ok() {
                adopt_history(&loader, &replid, offset);
            }
            loaded
        })
        .await
        .ok_or_else(|| "loading panicked".to_owned())?;
    if let Err(e) = loaded {
        server.log.warning(&format!(
            "Failed trying to load the MASTER synchronization DB from socket: {e}"
        ));
        return Err(e);
    }
    server
        .log
        .notice("MASTER <-> REPLICA sync: Finished with success");
    Ok(offset)
}

/// After a snapshot: the master's id and offset are ours, with a fresh backlog from there.
fn adopt_history(server: &Server, replid: &str, offset: u64) {
    *server.replid.lock().unwrap_or_else(PoisonError::into_inner) = replid.to_owned();
    let mut state = server.replica.lock();
    state.replid2 = NO_REPLID.to_owned();
    state.second_offset = -1;
    drop(state);
    let size = backlog_size(server);
    let mut feed = server.feed.lock();
    feed.backlog = None;
    feed.offset = offset;
    feed.replicas.clear();
    feed.ensure_backlog(size, usize::MAX / 4);
    server.feed.refresh_active(&feed);
}

fn backlog_size(server: &Server) -> usize {
    usize::try_from(
        server
            .config()
            .get_int("repl-backlog-size")
            .unwrap_or(1 << 20),
    )
    .unwrap_or(1 << 20)
}

/// `+CONTINUE [replid]`: we carry on from our offset; a new id means the master was promoted
/// (our old id stays valid as `replid2` up to here).
fn partial_sync(server: &Server, new_id: &str, generation: u64) -> Result<u64, String> {
    if !server.replica.current(generation) {
        return Err("replication target changed".into());
    }
    server
        .log
        .notice("MASTER <-> REPLICA sync: Master accepted a Partial Resynchronization.");
    let size = backlog_size(server);
    let mut feed = server.feed.lock();
    if feed.backlog.is_none() {
        feed.ensure_backlog(size, usize::MAX / 4);
        server.feed.refresh_active(&feed);
    }
    let offset = feed.offset;
    drop(feed);
    let old = server.replid();
    if !new_id.is_empty() && new_id != old {
        let mut state = server.replica.lock();
        state.replid2 = old;
        state.second_offset = offset as i64 + 1;
        drop(state);
        *server.replid.lock().unwrap_or_else(PoisonError::into_inner) = new_id.to_owned();
        server
            .log
            .notice(&format!("Master replication ID changed to {new_id}"));
        disconnect_replicas(server);
    }
    Ok(offset)
}

/// The master client's state, moved between the link task and the script thread.
struct Applier {
    client: Client,
    parser: RequestParser,
    reply: ReplyBuffer,
    /// Offset of the last byte applied (and forwarded).
    applied: u64,
    /// Bytes consumed since the last complete unit (a transaction being received).
    pending: Vec<u8>,
    /// REPLCONF GETACK seen: acknowledgements to send.
    acks: Vec<u64>,
}

/// How applying a batch ended.
enum Applied {
    /// Everything complete was applied.
    Done(usize),
    /// The command at this position uses the script engine: go on from there on its thread.
    Offload(usize),
    /// Held by CLIENT PAUSE until then; resume at this position.
    Paused(usize, std::time::Instant),
    /// The link must stop (REPLICAOF changed, protocol error).
    Stop,
}

fn apply(
    server: &Server,
    ap: &mut Applier,
    input: &[u8],
    on_worker: bool,
    generation: u64,
) -> Applied {
    common::keyspace::set_applying_master(true);
    let end = apply_inner(server, ap, input, on_worker, generation);
    common::keyspace::set_applying_master(false);
    end
}

fn apply_inner(
    server: &Server,
    ap: &mut Applier,
    input: &[u8],
    on_worker: bool,
    generation: u64,
) -> Applied {
    let mut held = if on_worker {
        dispatch::HeldGate::on_worker()
    } else {
        dispatch::HeldGate::default()
    };
    let limits = RequestLimits {
        proto_max_bulk_len: server.hot.proto_max_bulk_len.load(Relaxed).max(512 << 20),
        authenticated: true,
    };
    let mut start = 0;
    while start < input.len() {
        if !server.replica.current(generation) {
            return Applied::Stop;
        }
        let frame = &input[start..];
        let consumed = match ap.parser.parse(frame, &limits) {
            Ok(Parsed::Incomplete) => break,
            Ok(Parsed::Command { consumed }) => consumed,
            Err(e) => {
                server.log.warning(&format!(
                    "Protocol error ({}) from the MASTER",
                    e.log_reason()
                ));
                return Applied::Stop;
            }
        };
        let args = ap.parser.args(frame);
        let is = |i: usize, word: &[u8]| args.get(i).is_some_and(|a| a.eq_ignore_ascii_case(word));
        if is(0, b"replconf") && is(1, b"getack") {
            ap.acks.push(ap.applied + ap.pending.len() as u64);
        } else if !args.is_empty() {
            // A unit completes with this command unless it opens or continues a transaction;
            // its bytes are then forwarded while the command still holds its locks.
            let completes = if ap.client.multi.is_some() {
                is(0, b"exec") || is(0, b"discard")
            } else {
                !is(0, b"multi")
            };
            if completes {
                let mut unit = ap.pending.clone();
                unit.extend_from_slice(&frame[..consumed]);
                crate::propagate::forward_at_flush(unit);
            }
            match dispatch::execute(server, &mut ap.client, args, &mut ap.reply, &mut held) {
                Dispatched::Done => {}
                Dispatched::Offload => {
                    crate::propagate::take_forward();
                    return Applied::Offload(start);
                }
                Dispatched::Paused(until) => {
                    crate::propagate::take_forward();
                    ap.parser.reset();
                    return Applied::Paused(start, until);
                }
                Dispatched::Blocked(waiter) => {
                    // The master's stream never waits: as if it timed out.
                    waiter.give_up();
                    server.blocking.remove(&waiter);
                }
            }
            ap.reply.clear();
            // Still staged when the command did not reach the propagation flush.
            let staged = crate::propagate::take_forward();
            if ap.client.multi.is_some() {
                ap.pending.extend_from_slice(&frame[..consumed]);
            } else if completes {
                server.feed.forward(&staged);
                ap.applied += (ap.pending.len() + consumed) as u64;
                ap.pending.clear();
            } else {
                ap.pending.extend_from_slice(&frame[..consumed]);
                server.feed.forward(&ap.pending);
                ap.applied += ap.pending.len() as u64;
                ap.pending.clear();
            }
            start += consumed;
            continue;
        }
        // GETACK (and empty commands) are applied at once.
        if ap.client.multi.is_some() {
            ap.pending.extend_from_slice(&frame[..consumed]);
        } else {
            server.feed.forward(&frame[..consumed]);
            ap.applied += consumed as u64;
        }
        start += consumed;
    }
    Applied::Done(start)
}

/// Applies the stream until the link ends.
async fn stream_from_master(
    server: &Arc<Server>,
    conn: Conn,
    offset: u64,
    generation: u64,
) -> LinkResult {
    let Conn {
        mut stream,
        buf: mut input,
        timeout,
    } = conn;
    let addr = stream
        .peer_addr()
        .map(|a| a.to_string())
        .unwrap_or_default();
    let laddr = stream
        .local_addr()
        .map(|a| a.to_string())
        .unwrap_or_default();
    let id = server.next_client_id.fetch_add(1, Relaxed);
    let (info, _pushes) = ClientInfo::new(id, addr, laddr, -1, false);
    info.details().kind = ClientKind::Master;
    server.register_client(info.clone());
    let mut client = Client::new(info.clone(), true);
    client.unrestricted = true;
    let mut ap = Box::new(Applier {
        client,
        parser: RequestParser::new(),
        reply: ReplyBuffer::new(common::resp::Protocol::Resp2),
        applied: offset,
        pending: Vec::new(),
        acks: Vec::new(),
    });
    {
        let mut state = server.replica.lock();
        if !server.replica.current(generation) {
            server.unregister_client(id);
            return Ok(());
        }
        state.status = Status::Connected;
        state.master_client = Some(info.clone());
        state.last_io_ms = Some(unix_ms());
        state.read_offset = Some(offset + input.len() as u64);
        state.applied_offset = Some(offset);
    }
    server.replica.connected.store(true, Relaxed);
    // Tell the master where we are right away, then every second.
    send_ack(&mut stream, offset).await?;
    let mut tick = tokio::time::interval(Duration::from_secs(1));
    tick.tick().await;
    loop {
        // Apply what arrived.
        let mut used = 0;
        while used < input.len() {
            ap.client.begin_batch();
            match apply(server, &mut ap, &input[used..], true, generation) {
                Applied::Done(n) => {
                    used += n;
                    break;
                }
                Applied::Stop => return Ok(()),
                Applied::Offload(n) => {
                    used += n;
                    ap.parser.reset();
                    let rest = input[used..].to_vec();
                    let moved = server.clone();
                    let (back, end) = server
                        .scripting
                        .thread
                        .run(move || {
                            let mut ap = ap;
                            let end = apply(&moved, &mut ap, &rest, false, generation);
                            (ap, end)
                        })
                        .await
                        .ok_or_else(|| "applying the master's stream panicked".to_owned())?;
                    ap = back;
                    match end {
                        Applied::Done(n) => {
                            used += n;
                            break;
                        }
                        Applied::Offload(n) => used += n,
                        Applied::Paused(n, until) => {
                            used += n;
                            tokio::time::sleep_until(until.into()).await;
                        }
                        Applied::Stop => return Ok(()),
                    }
                }
                Applied::Paused(n, until) => {
                    used += n;
                    tokio::time::sleep_until(until.into()).await;
                }
            }
        }
        input.drain(..used);
        {
            let mut state = server.replica.lock();
            state.applied_offset = Some(ap.applied);
        }
        for ack in std::mem::take(&mut ap.acks) {
            send_ack(&mut stream, ack).await?;
        }
        if input.capacity() - input.len() < 16 * 1024 {
            input.reserve(16 * 1024);
        }
        let last_io = server.replica.lock().last_io_ms.unwrap_or_else(unix_ms);
        let idle = Duration::from_millis((unix_ms() - last_io).max(0) as u64);
        let left = timeout.saturating_sub(idle);
        tokio::select! {
            read = stream.read_buf(&mut input) => {
                let n = match read {
                    Ok(0) => return Err("connection lost".into()),
                    Err(e) => return Err(e.to_string()),
                    Ok(n) => n,
                };
                server.stats.net_input_bytes.fetch_add(n as u64, Relaxed);
                let mut state = server.replica.lock();
                state.last_io_ms = Some(unix_ms());
                state.read_offset = Some(state.read_offset.unwrap_or(offset) + n as u64);
            }
            _ = tick.tick() => {
                send_ack(&mut stream, ap.applied).await?;
            }
            _ = tokio::time::sleep(left) => {
                server.log.warning("MASTER timeout: no data nor PING received...");
                return Ok(());
            }
            _ = info.kill.notified() => return Ok(()),
        }
        if info.is_killed() {
            return Ok(());
        }
    }
}

async fn send_ack(stream: &mut TcpStream, offset: u64) -> LinkResult {
    let mut out = Vec::new();
    let offset = offset.to_string();
    common::resp::encode_command_from(
        [&b"REPLCONF"[..], b"ACK", offset.as_bytes()].into_iter(),
        &mut out,
    );
    stream.write_all(&out).await.map_err(|e| e.to_string())
}

/// ROLE's reply.
pub(crate) fn role(server: &Server, reply: &mut ReplyBuffer) {
    let state = server.replica.lock();
    if let Some((host, port)) = &state.master {
        reply.array(5);
        reply.bulk(b"slave");
        reply.bulk(host.as_bytes());
        reply.integer(*port);
        let status = match state.status {
            Status::Connect => "connect",
            Status::Connecting => "connecting",
            Status::Handshake => "handshake",
            Status::Transfer => "sync",
            Status::Connected => "connected",
        };
        reply.bulk(status.as_bytes());
        let offset = match &state.master_client {
            Some(_) => state.applied_offset.map_or(-1, |o| o as i64),
            None => -1,
        };
        reply.integer(offset);
        return;
    }
    drop(state);
    let feed = server.feed.lock();
    reply.array(3);
    reply.bulk(b"master");
    reply.integer(feed.offset as i64);
    reply.array(feed.replicas.len());
    for replica in feed.replicas.values() {
        reply.array(3);
        reply.bulk(replica.ip.as_bytes());
        reply.bulk_i64(i64::from(replica.listening_port));
        reply.bulk_i64(replica.acked as i64);
    }
}
