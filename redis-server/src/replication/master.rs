//! The master side of a replication link: how a connection becomes a replica (SYNC, PSYNC)
//! and the task that then streams the feed to it and reads its acknowledgements.

use std::sync::atomic::Ordering::Relaxed;
use std::time::Duration;

use common::keyspace::Locked;
use common::resp::{Parsed, RequestLimits, RequestParser};
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};

use super::{Read, Replica};
use crate::connection::{Client, ClientInfo};
use crate::server::{Server, unix_ms};

/// Most bytes handed to one replica's socket per write.
const CHUNK: usize = 1 << 20;

/// What a replica connection says about itself before it syncs (REPLCONF).
#[derive(Debug, Default, Clone)]
pub(crate) struct Handshake {
    pub listening_port: u16,
    pub ip: Option<String>,
    /// `capa psync2`: the replica understands `+CONTINUE <replid>`.
    pub psync2: bool,
    /// `capa eof`: the replica reads a payload ended by a marker instead of a length.
    pub eof: bool,
    /// `rdb-only 1`: the snapshot alone, then the link closes (redis-cli --rdb).
    pub rdb_only: bool,
    /// `rdb-filter-only`: the snapshot holds no keys; functions only if this is true.
    pub without_data: Option<bool>,
}

/// A connection that just became a replica: what to send before the stream.
#[derive(Debug)]
pub(crate) struct ReplicaStart {
    /// `+FULLRESYNC ...` (before the snapshot), or `+CONTINUE ...`, or nothing (SYNC).
    pub preamble: Vec<u8>,
    /// A full sync's snapshot, begun at the instant the stream starts from; its shards are
    /// captured (and the payload sent) on the replica's own task, so clients do not wait.
    pub snapshot: Option<Payload>,
    /// Close the link once the snapshot is sent (`REPLCONF rdb-only 1`).
    pub rdb_only: bool,
    /// The replica as the log names it.
    pub name: String,
    /// How the snapshot is framed on the wire.
    pub transfer: Transfer,
}

/// A full sync's payload: a snapshot being captured, or a file made at once (no keys).
#[derive(Debug)]
pub(crate) enum Payload {
    Capturing(crate::persistence::rdb::PendingSnapshot),
    Ready(Vec<u8>),
}

/// How a full sync's payload is framed, as `repl-diskless-sync` chooses.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Transfer {
    /// `$<length>`, as a disk-backed sync sends its file (`repl-diskless-sync no`, or a
    /// replica without `capa eof`).
    Length,
    /// `$EOF:<40 random bytes>`, the payload, the same 40 bytes: what a diskless sync sends
    /// (`repl-diskless-sync yes`), after `repl-diskless-sync-delay` seconds.
    EofMark { delay: Duration },
}

/// The length of the marker that ends a diskless payload.
const EOF_MARK_SIZE: usize = 40;

/// Frames `rdb` as `transfer` says.
fn framed_payload(rdb: &[u8], transfer: Transfer) -> (Vec<u8>, Vec<u8>) {
    match transfer {
        Transfer::Length => (format!("${}\r\n", rdb.len()).into_bytes(), Vec::new()),
        Transfer::EofMark { .. } => {
            use rand::Rng;
            const HEX: &[u8] = b"0123456789abcdef";
            let mut rng = rand::rng();
            let mark: Vec<u8> = (0..EOF_MARK_SIZE)
                .map(|_| HEX[rng.random_range(0..HEX.len())])
                .collect();
            let mut header = b"$EOF:".to_vec();
            header.extend_from_slice(&mark);
            header.extend_from_slice(b"\r\n");
            (header, mark)
        }
    }
}

/// How a replica asked to sync.
pub(crate) enum SyncRequest<'a> {
    /// The old SYNC: a snapshot, no offsets.
    Sync,
    /// PSYNC with the replication id and offset the replica has (`?` and -1 for none).
    Psync { replid: &'a [u8], offset: i64 },
}

/// Turns the connection into a replica: a partial resync when PSYNC names our history and
/// the backlog still holds it, a snapshot otherwise. `view` must sit under the exclusive
/// gate, so the snapshot and the stream offset it starts from are one instant.
pub(crate) fn start_sync(
    server: &Server,
    client: &mut Client,
    view: &mut Locked<'_>,
    request: SyncRequest<'_>,
) {
    let addr = replica_name(client);
    server
        .log
        .notice(&format!("Replica {addr} asks for synchronization"));
    let replid = server.replid();
    if let SyncRequest::Psync {
        replid: asked,
        offset,
    } = request
    {
        if let Some(preamble) = try_partial(server, client, &replid, asked, offset) {
            server.log.notice(&format!(
                "Partial resynchronization request from {addr} accepted. Sending {} bytes of backlog starting from offset {offset}.",
                server.feed.lock().offset.saturating_sub(offset.max(1) as u64 - 1)
            ));
            client.replica_start = Some(Box::new(ReplicaStart {
                preamble,
                snapshot: None,
                rdb_only: false,
                name: addr,
                transfer: Transfer::Length,
            }));
            return;
        }
        if asked != b"?" {
            server.log.notice(&format!(
                "Partial resynchronization not accepted: Replication ID mismatch (Replica asked for '{}', my replication IDs are '{replid}' and '{}')",
                String::from_utf8_lossy(asked),
                server.replica.lock().replid2
            ));
        }
        server
            .log
            .notice(&format!("Full resync requested by replica {addr}"));
    }
    crate::propagate::forget_unheard_expiries(server, view);
    let opts = crate::persistence::rdb::SaveOptions::from_server(server);
    let config = server.config();
    let diskless = config.get_bool("repl-diskless-sync").unwrap_or(true);
    let delay = config
        .get_int("repl-diskless-sync-delay")
        .unwrap_or(5)
        .max(0) as u64;
    drop(config);
    let capable = client.handshake.as_ref().is_some_and(|h| h.eof);
    let transfer = if diskless && capable {
        Transfer::EofMark {
            delay: Duration::from_secs(delay),
        }
    } else {
        Transfer::Length
    };
    server.log.notice(match transfer {
        Transfer::EofMark { .. } => "Starting BGSAVE for SYNC with target: replicas sockets",
        Transfer::Length => "Starting BGSAVE for SYNC with target: disk",
    });
    let handshake = client.handshake.clone().unwrap_or_default();
    let snapshot = match handshake.without_data {
        Some(functions) => Payload::Ready(crate::persistence::rdb::without_data(
            server, &opts, functions,
        )),
        None => Payload::Capturing(crate::persistence::rdb::begin_snapshot(server, view, &opts)),
    };
    let offset = register(server, client);
    let mut preamble = Vec::new();
    if matches!(request, SyncRequest::Psync { .. }) {
        preamble.extend_from_slice(format!("+FULLRESYNC {replid} {offset}\r\n").as_bytes());
    }
    client.replica_start = Some(Box::new(ReplicaStart {
        preamble,
        snapshot: Some(snapshot),
        rdb_only: handshake.rdb_only,
        name: addr,
        transfer,
    }));
}

/// `+CONTINUE` when the replica's history is ours and still in the backlog.
fn try_partial(
    server: &Server,
    client: &mut Client,
    replid: &str,
    asked: &[u8],
    offset: i64,
) -> Option<Vec<u8>> {
    if offset < 1 {
        return None;
    }
    if asked != replid.as_bytes() {
        // Our previous id still names our history up to where it changed.
        let state = server.replica.lock();
        if asked != state.replid2.as_bytes() || offset > state.second_offset {
            return None;
        }
    }
    let from = offset as u64 - 1;
    let mut state = server.feed.lock();
    let backlog = state.backlog.as_ref()?;
    if from < backlog.start || from > state.offset {
        return None;
    }
    let handshake = client.handshake.clone().unwrap_or_default();
    state
        .replicas
        .insert(client.id(), replica_record(client, &handshake, from));
    state.no_replicas_since_ms = None;
    Some(if handshake.psync2 {
        format!("+CONTINUE {replid}\r\n").into_bytes()
    } else {
        b"+CONTINUE\r\n".to_vec()
    })
}

/// Adds the client to the feed's readers at the current offset; returns that offset.
fn register(server: &Server, client: &Client) -> u64 {
    let config = server.config();
    let size =
        usize::try_from(config.get_int("repl-backlog-size").unwrap_or(1 << 20)).unwrap_or(1 << 20);
    // Index 1 is the replica class (`OUTPUT_BUFFER_CLASSES`); 0 means no limit.
    let hard = config.client_output_buffer_limits()[1].hard_bytes;
    let limit = if hard == 0 {
        usize::MAX / 4
    } else {
        usize::try_from(hard).unwrap_or(usize::MAX / 4)
    };
    drop(config);
    // CLIENT LIST shows it with flag `S`; CLIENT KILL TYPE replica ends it.
    client.info.details().kind = crate::connection::ClientKind::Replica;
    let handshake = client.handshake.clone().unwrap_or_default();
    let mut state = server.feed.lock();
    state.ensure_backlog(size, limit);
    let offset = state.offset;
    state
        .replicas
        .insert(client.id(), replica_record(client, &handshake, offset));
    state.no_replicas_since_ms = None;
    server.feed.refresh_active(&state);
    // The first PING comes a whole period after the snapshot, as in Redis.
    server.feed.last_ping_ms.store(unix_ms(), Relaxed);
    offset
}

fn replica_record(client: &Client, handshake: &Handshake, sent: u64) -> Replica {
    let ip = handshake.ip.clone().unwrap_or_else(|| peer_ip(client));
    Replica {
        ip,
        listening_port: handshake.listening_port,
        sent,
        acked: 0,
        last_ack_ms: unix_ms(),
    }
}

/// The address the connection comes from, without its port.
fn peer_ip(client: &Client) -> String {
    client
        .info
        .addr
        .rsplit_once(':')
        .map(|(ip, _)| ip.trim_matches(['[', ']']).to_owned())
        .unwrap_or_default()
}

/// `ip:port` as Redis names a replica in its log.
fn replica_name(client: &Client) -> String {
    match &client.handshake {
        Some(h) if h.listening_port > 0 => format!(
            "{}:{}",
            h.ip.clone().unwrap_or_else(|| peer_ip(client)),
            h.listening_port
        ),
        _ => client.info.addr.clone(),
    }
}

/// Streams the feed to a replica until it disconnects, falls too far behind, is killed, or the
/// server shuts down.
pub(crate) async fn stream_to_replica<S>(
    server: &Server,
    stream: &mut S,
    info: &ClientInfo,
    start: ReplicaStart,
    shutdown: &mut tokio::sync::watch::Receiver<bool>,
) where
    S: AsyncRead + AsyncWrite + Unpin,
{
    let id = info.id;
    let rdb_only = start.rdb_only;
    if send_start(server, stream, start).await {
        if rdb_only {
            server.log.notice(&format!(
                "RDB transfer completed, rdb only replica ({}) should be disconnected asap",
                info.addr
            ));
        } else {
            pump(server, stream, info, shutdown).await;
        }
    }
    let mut state = server.feed.lock();
    state.replicas.remove(&id);
    if state.replicas.is_empty() {
        state.no_replicas_since_ms = Some(unix_ms());
    }
    drop(state);
    server
        .log
        .notice(&format!("Connection with replica {} lost.", info.addr));
}

/// Sends the preamble and, for a full sync, `$<len>` and the snapshot once its capture is
/// complete; false if the connection failed.
async fn send_start<S>(server: &Server, stream: &mut S, start: ReplicaStart) -> bool
where
    S: AsyncRead + AsyncWrite + Unpin,
{
    let ReplicaStart {
        preamble,
        snapshot,
        name,
        transfer,
        ..
    } = start;
    if crate::connection::write_and_flush(stream, &preamble)
        .await
        .is_err()
    {
        return false;
    }
    let Some(pending) = snapshot else {
        return true;
    };
    if let Transfer::EofMark { delay } = transfer {
        if !delay.is_zero() {
            tokio::time::sleep(delay).await;
        }
    }
    let bytes = match pending {
        Payload::Ready(bytes) => bytes,
        Payload::Capturing(pending) => {
            let Ok(Some(snapshot)) =
                tokio::task::spawn_blocking(move || pending.complete(None)).await
            else {
                return false;
            };
            snapshot.into_bytes()
        }
    };
    let rdb = &bytes[..];
    let (header, trailer) = framed_payload(rdb, transfer);
    let sent = async {
        stream.write_all(&header).await?;
        stream.write_all(rdb).await?;
        crate::connection::write_and_flush(stream, &trailer).await
    };
    if sent.await.is_err() {
        return false;
    }
    server
        .log
        .notice(&format!("Synchronization with replica {name} succeeded"));
    true
}

async fn pump<S>(
    server: &Server,
    stream: &mut S,
    info: &ClientInfo,
    shutdown: &mut tokio::sync::watch::Receiver<bool>,
) where
    S: AsyncRead + AsyncWrite + Unpin,
{
    let id = info.id;
    let mut input = Vec::with_capacity(1024);
    let mut parser = RequestParser::new();
    loop {
        let appended = server.feed.appended.notified();
        tokio::pin!(appended);
        appended.as_mut().enable();
        match server.feed.read_for(id, CHUNK) {
            Read::Bytes(bytes) => {
                if crate::connection::write_and_flush(stream, &bytes)
                    .await
                    .is_err()
                {
                    return;
                }
                server
                    .stats
                    .net_repl_output_bytes
                    .fetch_add(bytes.len() as u64, Relaxed);
                continue;
            }
            Read::TooFarBehind => {
                server.log.warning(&format!(
                    "Client id={id} addr={} scheduled to be closed ASAP for overcoming of output buffer limits.",
                    info.addr
                ));
                return;
            }
            Read::Nothing => {}
        }
        if input.capacity() - input.len() < 512 {
            input.reserve(1024);
        }
        tokio::select! {
            _ = &mut appended => {}
            read = stream.read_buf(&mut input) => {
                match read {
                    Ok(0) | Err(_) => return,
                    Ok(_) => {}
                }
                if !take_acks(server, id, &mut parser, &mut input) {
                    return;
                }
            }
            _ = info.kill.notified() => return,
            _ = shutdown.changed() => return,
            // Re-check now and then even if a wake-up were missed.
            _ = tokio::time::sleep(Duration::from_millis(100)) => {}
        }
    }
}

/// Reads what the replica sent (REPLCONF ACK, PING); false on a protocol error.
fn take_acks(server: &Server, id: u64, parser: &mut RequestParser, input: &mut Vec<u8>) -> bool {
    let limits = RequestLimits {
        proto_max_bulk_len: 512,
        authenticated: true,
    };
    let mut used = 0;
    loop {
        match parser.parse(&input[used..], &limits) {
            Ok(Parsed::Incomplete) => break,
            Ok(Parsed::Command { consumed }) => {
                let args = parser.args(&input[used..]);
                let is = |i: usize, word: &str| {
                    args.get(i)
                        .is_some_and(|a| a.eq_ignore_ascii_case(word.as_bytes()))
                };
                if is(0, "replconf")
                    && is(1, "ack")
                    && let Some(offset) = args.get(2).and_then(common::number::parse_i64)
                {
                    let mut state = server.feed.lock();
                    if let Some(replica) = state.replicas.get_mut(&id) {
                        replica.acked = replica.acked.max(offset.max(0) as u64);
                        replica.last_ack_ms = unix_ms();
                    }
                }
                used += consumed;
            }
            Err(_) => return false,
        }
    }
    input.drain(..used);
    input.len() <= 64 * 1024
}

/// Once a second: PING replicas every `repl-ping-replica-period`, and drop the backlog
/// `repl-backlog-ttl` seconds after the last replica left.
pub(crate) fn cron(server: &Server) {
    if !server.feed.is_active() {
        return;
    }
    let config = server.config();
    let period_ms = config.get_int("repl-ping-replica-period").unwrap_or(10) * 1000;
    let ttl_ms = config.get_int("repl-backlog-ttl").unwrap_or(3600) * 1000;
    drop(config);
    let now = unix_ms();
    let mut state = server.feed.lock();
    if state.replicas.is_empty() {
        // A replica keeps its backlog: it is what a promotion continues from.
        if let Some(since) = state.no_replicas_since_ms
            && ttl_ms > 0
            && !state.is_replica
            && now - since >= ttl_ms
            && state.backlog.is_some()
        {
            state.backlog = None;
            state.no_replicas_since_ms = None;
            server.feed.refresh_active(&state);
            drop(state);
            server.log.notice(&format!(
                "Replication backlog freed after {} seconds without connected replicas.",
                ttl_ms / 1000
            ));
        }
        return;
    }
    drop(state);
    let last_ping = &server.feed.last_ping_ms;
    if now - last_ping.load(Relaxed) >= period_ms {
        last_ping.store(now, Relaxed);
        server.feed.ping_replicas();
    }
}
