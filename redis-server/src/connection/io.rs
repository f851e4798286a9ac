//! One client's task: read what arrived, run every complete command in it (pipelining), and
//! write all their replies in one go.

use std::sync::Arc;
use std::sync::atomic::Ordering::Relaxed;
use std::time::{Duration, Instant};

use common::resp::{Parsed, ReplyBuffer, RequestLimits, RequestParser};
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};
use tokio::sync::mpsc;

use super::client::{Client, ClientInfo, ClientKind};
use crate::blocking::Waiter;
use crate::dispatch::{self, Dispatched};
use crate::server::{Server, unix_ms};

/// Bytes asked of the socket per read; Redis's PROTO_IOBUF_LEN, so that protocol limits
/// trip at the same points as in Redis.
const READ_CHUNK: usize = 16 * 1024;

/// How often an active client's query buffer is checked for room to give back: every server
/// cron tick (`hz`), as Redis's clientsCron visits each client while there are few.
fn query_buffer_cron(server: &Server) -> Duration {
    Duration::from_millis(1000 / server.hot.hz.load(Relaxed).max(1))
}

/// Spare room worth giving back (Redis: more than 4 KiB).
const QUERY_BUFFER_WASTE: usize = 4 * 1024;

/// A query buffer over this is trimmed when it is more than twice its recent peak (Redis's
/// PROTO_RESIZE_THRESHOLD).
const QUERY_BUFFER_RESIZE_THRESHOLD: usize = 32 * 1024;

/// Redis's query buffer policy (clientsCronResizeQueryBuffer): a client idle for over two
/// seconds keeps no spare room; a buffer over the threshold and twice its recent `peak` is
/// cut down to that peak (or to what it holds). True when the client was idle: its buffer is
/// lean until the next read.
fn resize_query_buffer(input: &mut Vec<u8>, peak: usize, idle_ms: i64) -> bool {
    let idle = idle_ms > 2000;
    let capacity = input.capacity();
    if capacity - input.len() > QUERY_BUFFER_WASTE {
        if idle {
            input.shrink_to_fit();
        } else if capacity > QUERY_BUFFER_RESIZE_THRESHOLD && capacity / 2 > peak {
            input.shrink_to(peak.max(input.len()));
        }
    }
    idle
}

/// Reads what arrived into `input`. A `lean` buffer is not grown before data arrives: the
/// first bytes land in a small scratch array.
async fn read_query<S: AsyncRead + Unpin>(
    stream: &mut S,
    input: &mut Vec<u8>,
    lean: bool,
) -> std::io::Result<usize> {
    if !lean {
        return stream.read_buf(input).await;
    }
    let mut first = [0u8; 64];
    let n = stream.read(&mut first).await?;
    input.reserve(READ_CHUNK);
    input.extend_from_slice(&first[..n]);
    Ok(n)
}

/// What one connection's task owns besides the socket: the client's state, the request
/// parser and the pending replies. It moves as a whole to the script thread and back.
struct Session {
    client: Client,
    parser: RequestParser,
    /// Parses ahead of `parser` to warm the cache for the next commands' keys.
    lookahead: RequestParser,
    reply: ReplyBuffer,
}

/// Serves one client until it disconnects or is closed.
pub(crate) async fn serve<S>(
    server: Arc<Server>,
    mut stream: S,
    info: Arc<ClientInfo>,
    mut pushes: mpsc::UnboundedReceiver<Vec<u8>>,
) where
    S: AsyncRead + AsyncWrite + Unpin,
{
    let authenticated = server.acl.default_logs_in();
    let client = Client::new(info.clone(), authenticated);
    let reply = ReplyBuffer::new(client.protocol);
    let mut session = Box::new(Session {
        client,
        parser: RequestParser::new(),
        lookahead: RequestParser::new(),
        reply,
    });
    let mut input: Vec<u8> = Vec::with_capacity(READ_CHUNK);
    // The longest `input` since the last query buffer check, and whether an idle check gave
    // the buffer's spare room back (the next read then takes it again).
    let mut peak = 0;
    let mut lean = false;
    // The query buffer check (Redis's clientsCron), armed by a read and off once it went lean.
    let cron = tokio::time::sleep(query_buffer_cron(&server));
    tokio::pin!(cron);
    let mut cron_armed = false;
    let mut shutdown = server.shutdown.subscribe();

    // Set once the client is unregistered (before QUIT's reply is written).
    let mut gone = false;
    // The session when the connection ends; `None` if a batch panicked on the script thread
    // and took it along.
    let ended: Option<Box<Session>> = 'serve: loop {
        if !lean && input.capacity() - input.len() < READ_CHUNK {
            input.reserve(READ_CHUNK);
        }
        let idle_secs = server.hot.timeout_secs.load(Relaxed);
        let idle_limit = (idle_secs > 0 && !session.client.is_monitor)
            .then(|| Duration::from_secs(idle_secs as u64));
        let idle = async move {
            match idle_limit {
                Some(limit) => tokio::time::sleep(limit).await,
                None => std::future::pending().await,
            }
        };
        tokio::select! {
            biased;
            _ = info.kill.notified() => break Some(session),
            _ = shutdown.changed() => break Some(session),
            pushed = pushes.recv() => {
                let Some(bytes) = pushed else { continue };
                // A subscriber that stops reading blocks this write; the publisher that takes
                // it over its output limit kills it, which must end the wait.
                tokio::select! {
                    biased;
                    _ = info.kill.notified() => break Some(session),
                    written = write_and_flush(&mut stream, &bytes) => {
                        if written.is_err() {
                            break Some(session);
                        }
                    }
                }
                info.pushed_written(&server, bytes.len());
                server.stats.net_output_bytes.fetch_add(bytes.len() as u64, Relaxed);
                server.stats.total_writes_processed.fetch_add(1, Relaxed);
            }
            read = read_query(&mut stream, &mut input, lean) => {
                let n = match read {
                    Ok(0) | Err(_) => break Some(session),
                    Ok(n) => n,
                };
                lean = false;
                peak = peak.max(input.len());
                if !cron_armed {
                    cron.as_mut().reset((Instant::now() + query_buffer_cron(&server)).into());
                    cron_armed = true;
                }
                server.stats.net_input_bytes.fetch_add(n as u64, Relaxed);
                server.stats.total_reads_processed.fetch_add(1, Relaxed);
                info.last_interaction_ms.store(unix_ms(), Relaxed);
                // A client whose query buffer takes the clients over maxmemory-clients goes
                // before it runs anything.
                info.note_query_buffer(&input);
                if !super::eviction::update(&server, &session.client) {
                    break Some(session);
                }
                // Run what arrived; a blocked command waits here, then the commands pipelined
                // after it run without waiting for another read.
                loop {
                    session.client.begin_batch();
                    let Some((back, consumed, blocked)) =
                        run_commands(&server, session, &input).await
                    else {
                        break 'serve None;
                    };
                    session = back;
                    input.drain(..consumed);
                    info.note_query_buffer(&input);
                    if !super::eviction::update(&server, &session.client) {
                        break 'serve Some(session);
                    }
                    let Some(waiter) = blocked else {
                        break;
                    };
                    match wait_blocked(&server, &info, &waiter, &mut shutdown).await {
                        Some(bytes) => session.reply.extend_raw(&bytes),
                        None => break 'serve Some(session),
                    }
                    if input.is_empty() {
                        break;
                    }
                    if !flush(&server, &info, &mut stream, &mut session.reply).await {
                        break 'serve Some(session);
                    }
                }
                if let Some(start) = session.client.replica_start.take() {
                    // SYNC/PSYNC: from here on this connection carries the replication stream.
                    if !flush(&server, &info, &mut stream, &mut session.reply).await {
                        break Some(session);
                    }
                    crate::replication::master::stream_to_replica(
                        &server, &mut stream, &info, *start, &mut shutdown,
                    )
                    .await;
                    break Some(session);
                }
                // Writes reach the AOF before their replies reach the client.
                if server.feed.is_active() {
                    server.aof.flush(&server);
                }
                let Session { client, reply, .. } = &mut *session;
                reply.set_protocol(client.protocol);
                if client.close_after_reply && !gone {
                    // Like Redis, which frees a QUIT client as its reply goes out: whoever
                    // reads that reply and acts next (a REDIRECT target's tracking client)
                    // must already find it gone.
                    client.disconnect(&server);
                    server.unregister_client(info.id);
                    gone = true;
                }
                // Let every other connection with input ready run its commands before any
                // reply goes out, as Redis writes replies once per event-loop turn: a pipelining
                // peer then wakes once for a burst of replies rather than once per connection
                // (the wake-up in the kernel's send path was a seventh of a worker's time).
                if !reply.is_empty() {
                    tokio::task::yield_now().await;
                }
                if !flush(&server, &info, &mut stream, reply).await {
                    break Some(session);
                }
                // Do not keep a huge buffer around after one big reply.
                if reply.capacity() > 1 << 20 {
                    *reply = ReplyBuffer::new(client.protocol);
                }
                if client.close_after_reply || info.is_killed() {
                    break Some(session);
                }
                let limit = server.hot.client_query_buffer_limit.load(Relaxed) as usize;
                if input.len() > limit {
                    server.stats.client_query_buffer_limit_disconnections.fetch_add(1, Relaxed);
                    server.log.warning(&format!(
                        "Closing client that reached max query buffer length: id={} addr={} qbuf={}",
                        info.id, info.addr, input.len()
                    ));
                    break Some(session);
                }
            }
            _ = &mut cron, if cron_armed => {
                let idle_ms = unix_ms() - info.last_interaction_ms.load(Relaxed);
                if resize_query_buffer(&mut input, peak, idle_ms) {
                    lean = true;
                    cron_armed = false;
                } else {
                    cron.as_mut().reset((Instant::now() + query_buffer_cron(&server)).into());
                }
                peak = input.len();
                info.note_query_buffer(&input);
            }
            _ = idle => {
                server.log.verbose("Closing idle client");
                break Some(session);
            }
        }
    };
    if !gone {
        if let Some(mut session) = ended {
            session.client.disconnect(&server);
        }
        server.unregister_client(info.id);
    }
    let _ = stream.shutdown().await;
}

/// Writes and clears the pending replies; false when the peer is gone, or when the replies
/// take the client over its `client-output-buffer-limit` (then nothing is written, as Redis
/// closes such a client without sending what it has).
async fn flush<S: AsyncWrite + Unpin>(
    server: &Server,
    info: &ClientInfo,
    stream: &mut S,
    reply: &mut ReplyBuffer,
) -> bool {
    if reply.is_empty() {
        return true;
    }
    let kind = info.details().kind;
    let class = match kind {
        ClientKind::Normal => Some(crate::server::OutputClass::Normal),
        ClientKind::Pubsub => Some(crate::server::OutputClass::Pubsub),
        _ => None,
    };
    let pending = info.output_memory.load(Relaxed) + reply.len();
    if let Some(class) = class
        && server.output_limit_exceeded(class, pending as u64, &info.soft_limit_since_ms)
    {
        server.log.warning(&format!(
            "Client id={} addr={} scheduled to be closed ASAP for overcoming of output buffer limits.",
            info.id, info.addr
        ));
        reply.clear();
        return false;
    }
    // While it is being written, the reply is the client's output buffer.
    info.output_memory.fetch_add(reply.len(), Relaxed);
    super::eviction::refresh(server, info);
    super::eviction::evict_if_needed(server);
    // A client that stops reading blocks the write; CLIENT KILL or eviction must end it.
    let written = tokio::select! {
        biased;
        _ = info.kill.notified() => Err(std::io::ErrorKind::ConnectionAborted.into()),
        written = write_and_flush(stream, reply.as_bytes()) => written,
    };
    info.output_memory.fetch_sub(reply.len(), Relaxed);
    super::eviction::refresh(server, info);
    if written.is_err() || info.is_killed() {
        return false;
    }
    server
        .stats
        .net_output_bytes
        .fetch_add(reply.len() as u64, Relaxed);
    server.stats.total_writes_processed.fetch_add(1, Relaxed);
    reply.clear();
    true
}

/// Writes all of `bytes` and pushes them out: a TLS stream may keep the tail of a write
/// encrypted but unsent until flushed (a plain socket's flush does nothing).
pub(crate) async fn write_and_flush<S: AsyncWrite + Unpin>(
    stream: &mut S,
    bytes: &[u8],
) -> std::io::Result<()> {
    stream.write_all(bytes).await?;
    stream.flush().await
}

/// Sleeps until a blocked command is served, times out, or the client goes away. Returns the
/// reply to send, or `None` when the connection must close.
async fn wait_blocked(
    server: &Server,
    info: &ClientInfo,
    waiter: &Arc<Waiter>,
    shutdown: &mut tokio::sync::watch::Receiver<bool>,
) -> Option<Vec<u8>> {
    let deadline = async {
        match waiter.deadline {
            Some(at) => tokio::time::sleep_until(at.into()).await,
            None => std::future::pending().await,
        }
    };
    let closing = tokio::select! {
        _ = waiter.done.notified() => false,
        _ = deadline => false,
        _ = info.kill.notified() => true,
        _ = shutdown.changed() => true,
    };
    let served = waiter.give_up();
    server.blocking.remove(waiter);
    if closing {
        return None;
    }
    if served.is_none() {
        crate::dispatch::count_unblocked(server, &waiter.command, None);
    }
    Some(served.unwrap_or_else(|| waiter.timeout_reply.clone()))
}

/// Runs every complete command at the front of `input`; returns the session with how many
/// bytes they used and the waiter of a command that blocked. Stops early when the client must
/// be closed (the reply explains why). A command held by CLIENT PAUSE is waited for here,
/// outside the synchronous batch that holds the keyspace gate. `None` if a batch panicked on
/// the script thread (the session went with it).
async fn run_commands(
    server: &Arc<Server>,
    mut session: Box<Session>,
    input: &[u8],
) -> Option<(Box<Session>, usize, Option<Arc<Waiter>>)> {
    let mut offset = 0;
    loop {
        let Session {
            client,
            parser,
            lookahead,
            reply,
        } = &mut *session;
        let end = match run_batch(
            server,
            client,
            parser,
            Some(lookahead),
            &input[offset..],
            reply,
            Place::Worker,
        ) {
            BatchEnd::Offload { used } => {
                offset += used;
                // The parser starts afresh on the script thread, at the script command.
                session.parser.reset();
                let (back, end) = on_script_thread(server, session, &input[offset..]).await?;
                session = back;
                end
            }
            end => end,
        };
        match end {
            BatchEnd::Done(used) => return Some((session, offset + used, None)),
            BatchEnd::Blocked { used, waiter } => {
                return Some((session, offset + used, Some(waiter)));
            }
            BatchEnd::Offload { used } => offset += used,
            BatchEnd::Paused { used, until } => {
                offset += used;
                let client = &mut session.client;
                let unpaused = server.pause.changed.notified();
                // Held by CLIENT PAUSE (not by a busy script): counted as blocked meanwhile.
                let postponed = server
                    .pause
                    .current()
                    .is_some()
                    .then(|| Postponed::new(server));
                tokio::select! {
                    _ = tokio::time::sleep_until(until.into()) => {}
                    _ = unpaused => {}
                    _ = client.info.kill.notified() => {}
                }
                drop(postponed);
                client.begin_batch();
                // CLIENT KILL reaches held clients too; the caller closes.
                if client.info.is_killed() {
                    return Some((session, offset, None));
                }
            }
        }
    }
}

/// One client counted in `Pause::postponed` while it lives.
struct Postponed<'a>(&'a Server);

impl<'a> Postponed<'a> {
    fn new(server: &'a Server) -> Self {
        server.pause.postponed.fetch_add(1, Relaxed);
        Postponed(server)
    }
}

impl Drop for Postponed<'_> {
    fn drop(&mut self) {
        self.0.pause.postponed.fetch_sub(1, Relaxed);
    }
}

/// How often a batch queued on the script thread checks whether the script running there has
/// passed `busy-reply-threshold`.
const QUEUED_BUSY_CHECK: Duration = Duration::from_millis(100);

/// Runs the rest of a batch, from a command that runs a script, on the script thread: the
/// session moves there and comes back with how the batch ended. `None` if it panicked there.
///
/// A batch still queued when the script running ahead of it passes `busy-reply-threshold`
/// comes back unrun, as `Offload { used: 0 }`: the worker then runs it, and dispatch answers
/// its script command BUSY as Redis would.
async fn on_script_thread(
    server: &Arc<Server>,
    session: Box<Session>,
    input: &[u8],
) -> Option<(Box<Session>, BatchEnd)> {
    let input = input.to_vec();
    let server_ref = server.clone();
    // Whoever takes the session out runs the batch: the script thread when the job starts,
    // or this worker when it gives up waiting.
    let slot = Arc::new(std::sync::Mutex::new(Some(session)));
    let queued = slot.clone();
    let job = server.scripting.thread.run(move || {
        let mut session = take_session(&queued)?;
        let Session {
            client,
            parser,
            reply,
            ..
        } = &mut *session;
        let end = run_batch(
            &server_ref,
            client,
            parser,
            None,
            &input,
            reply,
            Place::ScriptThread,
        );
        Some((session, end))
    });
    tokio::pin!(job);
    loop {
        tokio::select! {
            done = &mut job => return done.flatten(),
            _ = tokio::time::sleep(QUEUED_BUSY_CHECK) => {
                let threshold = crate::commands::scripting::Scripting::threshold(&server.config());
                if server.scripting.busy.timed_out(threshold)
                    && let Some(session) = take_session(&slot)
                {
                    return Some((session, BatchEnd::Offload { used: 0 }));
                }
            }
        }
    }
}

fn take_session(slot: &std::sync::Mutex<Option<Box<Session>>>) -> Option<Box<Session>> {
    slot.lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner)
        .take()
}

/// Where a batch runs.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Place {
    /// A connection worker: a command that runs a script ends the batch there.
    Worker,
    ScriptThread,
}

/// How a synchronous batch of commands ended.
enum BatchEnd {
    /// The command starting at `used` runs a script: run it (and what follows) on the script
    /// thread. From the script thread, `used: 0`: the batch was not run (see
    /// [`on_script_thread`]); the worker runs it.
    Offload { used: usize },
    /// Every complete command ran; this many bytes were used.
    Done(usize),
    /// The command ending at `used` blocked; its reply comes through `waiter`.
    Blocked { used: usize, waiter: Arc<Waiter> },
    /// The command starting at `used` is held by CLIENT PAUSE until `until`.
    Paused {
        used: usize,
        until: std::time::Instant,
    },
}

fn run_batch(
    server: &Server,
    client: &mut Client,
    parser: &mut RequestParser,
    mut lookahead: Option<&mut RequestParser>,
    input: &[u8],
    reply: &mut ReplyBuffer,
    place: Place,
) -> BatchEnd {
    let mut held = match place {
        Place::Worker => dispatch::HeldGate::on_worker(),
        Place::ScriptThread => dispatch::HeldGate::default(),
    };
    let mut start = 0;
    // Where the commands whose keys were last warmed end (see `dispatch::prefetch_ahead`).
    let mut warmed_until = 0;
    while start < input.len() && !client.close_after_reply {
        let limits = RequestLimits {
            proto_max_bulk_len: server.hot.proto_max_bulk_len.load(Relaxed),
            authenticated: client.authenticated,
        };
        if let Some(lookahead) = lookahead.as_deref_mut()
            && start >= warmed_until
        {
            warmed_until = start
                + dispatch::prefetch_ahead(
                    server,
                    &mut held,
                    client.db,
                    lookahead,
                    &input[start..],
                    &limits,
                );
        }
        let frame = &input[start..];
        match parser.parse(frame, &limits) {
            Ok(Parsed::Incomplete) => break,
            Ok(Parsed::Command { consumed }) => {
                let args = parser.args(frame);
                if !args.is_empty() {
                    reply.set_protocol(client.protocol);
                    match dispatch::execute(server, client, args, reply, &mut held) {
                        // What follows SYNC/PSYNC is the replica's, not commands.
                        Dispatched::Done if client.replica_start.is_some() => {
                            return BatchEnd::Done(start + consumed);
                        }
                        Dispatched::Done => {}
                        Dispatched::Paused(until) => {
                            // The parser starts afresh on the same bytes when the pause ends.
                            parser.reset();
                            return BatchEnd::Paused { used: start, until };
                        }
                        Dispatched::Blocked(waiter) => {
                            return BatchEnd::Blocked {
                                used: start + consumed,
                                waiter,
                            };
                        }
                        Dispatched::Offload => return BatchEnd::Offload { used: start },
                    }
                }
                start += consumed;
            }
            Err(e) => {
                server.log.verbose(&format!(
                    "Protocol error ({}) from client: id={} addr={}",
                    e.log_reason(),
                    client.id(),
                    client.info.addr
                ));
                reply.error(&e.reply_text());
                client.close_after_reply = true;
                return BatchEnd::Done(input.len());
            }
        }
    }
    BatchEnd::Done(start)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn idle_query_buffer_gives_all_spare_room_back() {
        let mut input = Vec::with_capacity(READ_CHUNK);
        assert!(!resize_query_buffer(&mut input, 0, 2000));
        assert_eq!(input.capacity(), READ_CHUNK);
        assert!(resize_query_buffer(&mut input, 0, 2001));
        assert_eq!(input.capacity(), 0);
        // A partial command stays, without room around it.
        let mut input = Vec::with_capacity(READ_CHUNK);
        input.extend_from_slice(b"*1\r\n$4\r\nPI");
        assert!(resize_query_buffer(&mut input, 10, 5000));
        assert_eq!(input, b"*1\r\n$4\r\nPI");
        assert!(input.capacity() < READ_CHUNK);
    }

    #[test]
    fn big_query_buffer_shrinks_to_its_recent_peak() {
        let mut input: Vec<u8> = Vec::with_capacity(400_000);
        input.extend_from_slice(&[b'x'; 100]);
        // Still at its peak: kept.
        assert!(!resize_query_buffer(&mut input, 300_000, 0));
        assert!(input.capacity() >= 400_000);
        // The peak fell under half the buffer: cut down to it.
        assert!(!resize_query_buffer(&mut input, 1000, 0));
        assert!(input.capacity() >= 1000 && input.capacity() < 400_000);
        // At or under the 32 KiB threshold nothing is trimmed.
        let mut input: Vec<u8> = Vec::with_capacity(32 * 1024);
        assert!(!resize_query_buffer(&mut input, 0, 0));
        assert_eq!(input.capacity(), 32 * 1024);
    }
}
