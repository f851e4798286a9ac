//! One client's task: read what arrived, run every complete command in it (pipelining), and
//! write all their replies in one go.

use std::sync::Arc;
use std::sync::atomic::Ordering::Relaxed;
use std::time::{Duration, Instant};

use common::resp::{Parsed, ReplyBuffer, RequestLimits, RequestParser};
use std::pin::Pin;
use std::task::{Context, Poll};

use tokio::io::{AsyncRead, AsyncWrite, AsyncWriteExt, ReadBuf};
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

/// The client's output buffer: replies and pushed messages not written yet, in order. The
/// connection keeps reading and running commands while it drains, as Redis does, so a client
/// that sends without reading grows it (and meets its output limit or client eviction) rather
/// than stalling the server's reads.
#[derive(Default)]
struct Output {
    /// Blocks of at most [`OUTPUT_BLOCK`] bytes (one bigger reply is a block of its own), so
    /// the memory held stays close to what waits, as Redis's reply list keeps it.
    blocks: std::collections::VecDeque<Vec<u8>>,
    /// How much of the first block is written.
    sent: usize,
    /// Bytes waiting.
    len: usize,
    /// Something was written since the stream was last flushed (TLS keeps a tail otherwise).
    unflushed: bool,
}

/// A reply buffer that grew past this is given back once its replies are queued: what a
/// connection keeps between batches is client memory that neither `tot-mem` nor client
/// eviction sees (20 clients each keeping a 100 KB MGET reply's room made `maxmemory` evict
/// keys before `maxmemory-clients` evicted a client). Redis keeps 16 KB (its reply buffer).
const REPLY_KEEP: usize = 16 * 1024;

/// The size of an output block (Redis's PROTO_REPLY_CHUNK_BYTES).
const OUTPUT_BLOCK: usize = 16 * 1024;

impl Output {
    /// The next bytes to write (the rest of the first block).
    fn pending(&self) -> &[u8] {
        self.blocks.front().map_or(&[], |b| &b[self.sent..])
    }

    fn len(&self) -> usize {
        self.len
    }

    fn is_empty(&self) -> bool {
        self.len == 0
    }

    fn push(&mut self, mut bytes: &[u8]) {
        self.len += bytes.len();
        if let Some(last) = self.blocks.back_mut() {
            let room = last.capacity() - last.len();
            let take = room.min(bytes.len());
            last.extend_from_slice(&bytes[..take]);
            bytes = &bytes[take..];
        }
        if !bytes.is_empty() {
            let mut block = Vec::with_capacity(bytes.len().max(OUTPUT_BLOCK));
            block.extend_from_slice(bytes);
            self.blocks.push_back(block);
        }
    }

    /// `n` more bytes went out.
    fn wrote(&mut self, n: usize) {
        self.unflushed = true;
        self.sent += n;
        self.len -= n;
        if self.blocks.front().is_some_and(|b| self.sent >= b.len()) {
            self.blocks.pop_front();
            self.sent = 0;
        }
    }
}

/// What the socket did.
enum Io {
    Wrote(usize),
    Read(usize),
    Flushed,
    /// The peer is gone (end of stream or an error).
    Closed,
}

/// Writes pending output and, when `read` is some, reads into it, whichever the socket allows
/// first: one task drives both directions of the stream without splitting it.
fn poll_io<S: AsyncRead + AsyncWrite + Unpin>(
    cx: &mut Context<'_>,
    stream: &mut S,
    out: &Output,
    read: Option<&mut [u8]>,
) -> Poll<Io> {
    if !out.is_empty() {
        match Pin::new(&mut *stream).poll_write(cx, out.pending()) {
            Poll::Ready(Ok(0)) | Poll::Ready(Err(_)) => return Poll::Ready(Io::Closed),
            Poll::Ready(Ok(n)) => return Poll::Ready(Io::Wrote(n)),
            Poll::Pending => {}
        }
    } else if out.unflushed {
        match Pin::new(&mut *stream).poll_flush(cx) {
            Poll::Ready(Ok(())) => return Poll::Ready(Io::Flushed),
            Poll::Ready(Err(_)) => return Poll::Ready(Io::Closed),
            Poll::Pending => {}
        }
    }
    if let Some(buf) = read {
        let mut buf = ReadBuf::new(buf);
        match Pin::new(&mut *stream).poll_read(cx, &mut buf) {
            Poll::Ready(Ok(())) if buf.filled().is_empty() => return Poll::Ready(Io::Closed),
            Poll::Ready(Ok(())) => return Poll::Ready(Io::Read(buf.filled().len())),
            Poll::Ready(Err(_)) => return Poll::Ready(Io::Closed),
            Poll::Pending => {}
        }
    }
    Poll::Pending
}

/// A bulk argument this long is a big one: its data is read as fast as it comes, and the
/// query buffer shows only it (Redis's PROTO_MBULK_BIG_ARG).
const BIG_ARG: usize = 32 * 1024;

/// How many more bytes the big argument being received needs, and where its data starts.
fn big_arg_pending(parser: &RequestParser, input: &[u8]) -> Option<(usize, usize)> {
    let (start, len) = parser.pending_bulk().filter(|&(_, len)| len >= BIG_ARG)?;
    let need = start
        .saturating_add(len)
        .saturating_add(2)
        .saturating_sub(input.len());
    Some((need, start))
}

/// The most one read of a big argument asks for: big reads let the kernel reopen the TCP
/// window at once (small ones leave the sender waiting for a delayed ACK).
const BIG_READ: usize = 256 * 1024;

/// A big argument up to this size gets its whole room in the query buffer as soon as its
/// header is read, as Redis makes it (so the client's memory shows what it is sending);
/// beyond it the buffer grows with what arrives, so that no declared length alone makes the
/// server allocate much.
const BIG_ARG_ROOM: usize = 8 << 20;

/// Reads, without waiting, up to `need` bytes the socket already holds (the rest of a big
/// argument, which Redis reads in one go), straight into `input`. Err when the peer is gone.
fn read_available<S: AsyncRead + Unpin>(
    stream: &mut S,
    input: &mut Vec<u8>,
    mut need: usize,
) -> Result<usize, ()> {
    if need <= BIG_ARG_ROOM && input.capacity() - input.len() < need {
        input.reserve_exact(need);
    }
    let mut cx = Context::from_waker(std::task::Waker::noop());
    let mut total = 0;
    while need > 0 {
        let len = input.len();
        let want = need.min(BIG_READ);
        input.resize(len + want, 0);
        let mut buf = ReadBuf::new(&mut input[len..]);
        let read = match Pin::new(&mut *stream).poll_read(&mut cx, &mut buf) {
            Poll::Ready(Ok(())) if buf.filled().is_empty() => Err(()),
            Poll::Ready(Ok(())) => Ok(Some(buf.filled().len())),
            Poll::Ready(Err(_)) => Err(()),
            Poll::Pending => Ok(None),
        };
        let n = read.as_ref().ok().copied().flatten().unwrap_or(0);
        input.truncate(len + n);
        match read? {
            Some(n) => {
                total += n;
                need -= n;
            }
            None => break,
        }
    }
    Ok(total)
}

/// Publishes the query buffer's size: while a big argument arrives, only its bytes (Redis
/// moves the arguments before it out of the buffer).
fn note_query_buffer(info: &ClientInfo, parser: &RequestParser, input: &Vec<u8>) {
    let skip = big_arg_pending(parser, input).map_or(0, |(_, start)| start);
    info.note_query_buffer(input, skip);
}

/// Bookkeeping for `n` bytes of output written.
fn count_written(server: &Server, info: &ClientInfo, n: usize) {
    info.output_memory.fetch_sub(n, Relaxed);
    super::eviction::refresh(server, info);
    server.stats.net_output_bytes.fetch_add(n as u64, Relaxed);
    server.stats.total_writes_processed.fetch_add(1, Relaxed);
}

/// True (and logged) when the client's output buffer plus `more` bytes is over its class's
/// `client-output-buffer-limit`: the hard limit, or the soft one for longer than its time.
/// How much a batch's replies grow between two publications of their size.
const REPLY_NOTE_STEP: usize = 64 * 1024;

/// Publishes the size of the replies a batch has made so far, as Redis counts a reply in the
/// client's memory as soon as it is added: client eviction may then close this client (or
/// another) before `maxmemory` evicts keys, and the output limit stops a pipeline of big
/// replies at the limit rather than at the end of the batch. False when the client must go:
/// its replies are dropped and it is closed without them, as Redis does.
fn note_growing_reply(server: &Server, client: &mut Client, reply: &mut ReplyBuffer) -> bool {
    let info = &client.info;
    // The output limit first, as in Redis: a client it closes is not one to evict for, nor
    // a reason to evict another.
    if over_output_limit(server, info, reply.len()) {
        reply.clear();
        client.close_after_reply = true;
        return false;
    }
    // What the buffer holds from the allocator, as used_memory sees it.
    info.reply_memory.store(reply.capacity(), Relaxed);
    super::eviction::refresh(server, info);
    super::eviction::evict_if_needed(server);
    !info.is_killed()
}

fn over_output_limit(server: &Server, info: &ClientInfo, more: usize) -> bool {
    let class = match info.details().kind {
        ClientKind::Normal => crate::server::OutputClass::Normal,
        ClientKind::Pubsub => crate::server::OutputClass::Pubsub,
        _ => return false,
    };
    let pending = info.output_memory.load(Relaxed) + more;
    if !server.output_limit_exceeded(class, pending as u64, &info.soft_limit_since_ms) {
        return false;
    }
    server.log.warning(&format!(
        "Client id={} addr={} scheduled to be closed ASAP for overcoming of output buffer limits.",
        info.id, info.addr
    ));
    true
}

/// Moves the pending replies into the output buffer, writing what the socket takes at once;
/// false when they take the client over its `client-output-buffer-limit` (then nothing is
/// queued, as Redis closes such a client without sending what it has) or the peer is gone.
fn enqueue<S: AsyncWrite + Unpin>(
    server: &Server,
    info: &ClientInfo,
    stream: &mut S,
    out: &mut Output,
    reply: &mut ReplyBuffer,
) -> bool {
    // The batch's replies are queued (or dropped) now: they count as output from here on.
    info.reply_memory.store(0, Relaxed);
    if reply.is_empty() {
        return true;
    }
    if over_output_limit(server, info, reply.len()) {
        reply.clear();
        return false;
    }
    let bytes = reply.as_bytes();
    let mut written = 0;
    if out.is_empty() {
        // The common case: the socket takes the whole reply now, with no copy.
        let mut cx = Context::from_waker(std::task::Waker::noop());
        while written < bytes.len() {
            match Pin::new(&mut *stream).poll_write(&mut cx, &bytes[written..]) {
                Poll::Ready(Ok(0)) | Poll::Ready(Err(_)) => {
                    reply.clear();
                    return false;
                }
                Poll::Ready(Ok(n)) => written += n,
                Poll::Pending => break,
            }
        }
        if written > 0 {
            out.unflushed = true;
            server
                .stats
                .net_output_bytes
                .fetch_add(written as u64, Relaxed);
            server.stats.total_writes_processed.fetch_add(1, Relaxed);
        }
    }
    if written < bytes.len() {
        out.push(&bytes[written..]);
        info.output_memory.fetch_add(bytes.len() - written, Relaxed);
        super::eviction::refresh(server, info);
        super::eviction::evict_if_needed(server);
    }
    // Do not keep a huge buffer around after one big reply.
    if reply.capacity() > REPLY_KEEP {
        *reply = ReplyBuffer::new(reply.protocol());
    } else {
        reply.clear();
    }
    !info.is_killed()
}

/// Writes the whole output buffer and flushes the stream; false when the peer is gone or the
/// client is killed meanwhile (a client that stops reading blocks here until then).
async fn drain<S: AsyncRead + AsyncWrite + Unpin>(
    server: &Server,
    info: &ClientInfo,
    stream: &mut S,
    out: &mut Output,
) -> bool {
    while !out.is_empty() || out.unflushed {
        let io = tokio::select! {
            biased;
            _ = info.kill.notified() => Io::Closed,
            io = std::future::poll_fn(|cx| poll_io(cx, stream, out, None)) => io,
        };
        match io {
            Io::Wrote(n) => {
                out.wrote(n);
                count_written(server, info, n);
            }
            Io::Flushed => out.unflushed = false,
            Io::Read(_) | Io::Closed => return false,
        }
    }
    !info.is_killed()
}

/// Queues the pending replies and writes everything out (before a blocking wait, a replica
/// stream or closing).
async fn flush<S: AsyncRead + AsyncWrite + Unpin>(
    server: &Server,
    info: &ClientInfo,
    stream: &mut S,
    out: &mut Output,
    reply: &mut ReplyBuffer,
) -> bool {
    enqueue(server, info, stream, out, reply) && drain(server, info, stream, out).await
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
    // Where the socket's bytes land before they join `input`.
    let mut scratch = vec![0u8; READ_CHUNK].into_boxed_slice();
    let mut out = Output::default();
    // The longest `input` since the last query buffer check, and whether an idle check gave
    // the buffer's spare room back (the next read then takes it again).
    let mut peak = 0;
    let mut lean = false;
    // The query buffer check (Redis's clientsCron), armed by a read and off once it went lean.
    let cron = tokio::time::sleep(query_buffer_cron(&server));
    tokio::pin!(cron);
    let mut cron_armed = false;
    // While output waits, its limits are checked with no traffic too (the soft limit's time
    // runs out), as Redis's clientsCron does.
    let output_check = tokio::time::sleep(query_buffer_cron(&server));
    tokio::pin!(output_check);
    let mut output_check_armed = false;
    let mut shutdown = server.shutdown.subscribe();

    // Set once the client is unregistered (before QUIT's reply is written).
    let mut gone = false;
    // The session when the connection ends; `None` if a batch panicked on the script thread
    // and took it along.
    let ended: Option<Box<Session>> = 'serve: loop {
        // A big argument being received has its room already (and takes no more than it).
        let big_need = big_arg_pending(&session.parser, &input).map(|(need, _)| need);
        if !lean && big_need.is_none() && input.capacity() - input.len() < READ_CHUNK {
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
        if !output_check_armed && !out.is_empty() {
            output_check
                .as_mut()
                .reset((Instant::now() + query_buffer_cron(&server)).into());
            output_check_armed = true;
        }
        // A lean buffer takes only a few bytes at first (it is not grown before data comes).
        let read_len = match big_need {
            _ if lean => 64,
            Some(need) => need.clamp(1, READ_CHUNK),
            None => READ_CHUNK,
        };
        // Kills, shutdown and pushes are looked at with plain loads first, and their futures
        // come after the socket's: a busy connection then never registers a waiter with them
        // (registering and unregistering three wakers per request was a twentieth of a
        // worker's time without pipelining).
        if info.is_killed() || shutdown.has_changed().unwrap_or(true) {
            break Some(session);
        }
        // Already counted in the output buffer by whoever pushed them.
        while let Ok(bytes) = pushes.try_recv() {
            out.push(&bytes);
        }
        tokio::select! {
            biased;
            _ = &mut cron, if cron_armed => {
                let idle_ms = unix_ms() - info.last_interaction_ms.load(Relaxed);
                if resize_query_buffer(&mut input, peak, idle_ms) {
                    lean = true;
                    cron_armed = false;
                } else {
                    cron.as_mut().reset((Instant::now() + query_buffer_cron(&server)).into());
                }
                peak = input.len();
                note_query_buffer(&info, &session.parser, &input);
            }
            _ = &mut output_check, if output_check_armed => {
                output_check_armed = false;
                if over_output_limit(&server, &info, 0) {
                    break Some(session);
                }
            }
            io = std::future::poll_fn(|cx| {
                poll_io(cx, &mut stream, &out, Some(&mut scratch[..read_len]))
            }) => {
                let n = match io {
                    Io::Closed => break Some(session),
                    Io::Wrote(n) => {
                        out.wrote(n);
                        count_written(&server, &info, n);
                        continue;
                    }
                    Io::Flushed => {
                        out.unflushed = false;
                        continue;
                    }
                    Io::Read(n) => n,
                };
                if lean {
                    input.reserve(READ_CHUNK);
                }
                input.extend_from_slice(&scratch[..n]);
                let mut n = n;
                if let Some((need, _)) = big_arg_pending(&session.parser, &input) {
                    match read_available(&mut stream, &mut input, need) {
                        Ok(more) => n += more,
                        Err(()) => break Some(session),
                    }
                }
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
                note_query_buffer(&info, &session.parser, &input);
                if !super::eviction::update(&server, &session.client) {
                    break Some(session);
                }
                // Run what arrived; a blocked command waits here (after the replies before it
                // went out), then the commands pipelined after it run without waiting for
                // another read.
                loop {
                    session.client.begin_batch();
                    let Some((back, consumed, blocked)) =
                        run_commands(&server, session, &input).await
                    else {
                        break 'serve None;
                    };
                    session = back;
                    input.drain(..consumed);
                    // A big argument just began: take what already came of it.
                    if blocked.is_none()
                        && let Some((need, _)) = big_arg_pending(&session.parser, &input)
                    {
                        match read_available(&mut stream, &mut input, need) {
                            Ok(0) => {}
                            Ok(more) => {
                                server.stats.net_input_bytes.fetch_add(more as u64, Relaxed);
                                // Run it if it is whole now.
                                continue;
                            }
                            Err(()) => break 'serve Some(session),
                        }
                    }
                    note_query_buffer(&info, &session.parser, &input);
                    if !super::eviction::update(&server, &session.client) {
                        break 'serve Some(session);
                    }
                    let Some(waiter) = blocked else {
                        break;
                    };
                    if !flush(&server, &info, &mut stream, &mut out, &mut session.reply).await {
                        break 'serve Some(session);
                    }
                    match wait_blocked(&server, &info, &waiter, &mut shutdown).await {
                        Some(bytes) => session.reply.extend_raw(&bytes),
                        None => break 'serve Some(session),
                    }
                    if input.is_empty() {
                        break;
                    }
                    if !enqueue(&server, &info, &mut stream, &mut out, &mut session.reply) {
                        break 'serve Some(session);
                    }
                }
                if let Some(start) = session.client.replica_start.take() {
                    // SYNC/PSYNC: from here on this connection carries the replication stream.
                    if !flush(&server, &info, &mut stream, &mut out, &mut session.reply).await {
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
                if client.close_after_reply {
                    flush(&server, &info, &mut stream, &mut out, reply).await;
                    break Some(session);
                }
                // Let every other connection with input ready run its commands before any
                // reply goes out, as Redis writes replies once per event-loop turn: a pipelining
                // peer then wakes once for a burst of replies rather than once per connection
                // (the wake-up in the kernel's send path was a seventh of a worker's time).
                if !reply.is_empty() {
                    tokio::task::yield_now().await;
                }
                if !enqueue(&server, &info, &mut stream, &mut out, reply) {
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
            pushed = pushes.recv() => {
                // Already counted in the output buffer by whoever pushed it.
                let Some(bytes) = pushed else { continue };
                out.push(&bytes);
            }
            _ = info.kill.notified() => break Some(session),
            _ = shutdown.changed() => break Some(session),
            _ = idle => {
                server.log.verbose("Closing idle client");
                break Some(session);
            }
        }
    };
    // What was never written leaves the client's output buffer with it.
    info.output_memory.fetch_sub(out.len(), Relaxed);
    if !gone {
        if let Some(mut session) = ended {
            session.client.disconnect(&server);
        }
        server.unregister_client(info.id);
    }
    let _ = stream.shutdown().await;
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
        // The batch's clock starts here: its wait in the queue behind other scripts is not
        // the commands' time (INFO commandstats, SLOWLOG, latency tracking).
        client.begin_batch();
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
    // The reply size last published (see `note_growing_reply`).
    let mut reply_noted = 0;
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
                        Dispatched::Done => {
                            if reply.len() >= reply_noted + REPLY_NOTE_STEP {
                                reply_noted = reply.len();
                                if !note_growing_reply(server, client, reply) {
                                    return BatchEnd::Done(start + consumed);
                                }
                            }
                        }
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
    fn output_keeps_order_across_blocks_and_partial_writes() {
        let mut out = Output::default();
        assert!(out.is_empty());
        out.push(b"+OK\r\n");
        let big = vec![b'x'; OUTPUT_BLOCK * 2 + 5];
        out.push(&big);
        out.push(b":1\r\n");
        assert_eq!(out.len(), 5 + big.len() + 4);
        let mut written = Vec::new();
        while !out.is_empty() {
            // The socket takes at most 7000 bytes at a time.
            let n = out.pending().len().min(7000);
            written.extend_from_slice(&out.pending()[..n]);
            out.wrote(n);
        }
        let mut expected = b"+OK\r\n".to_vec();
        expected.extend_from_slice(&big);
        expected.extend_from_slice(b":1\r\n");
        assert_eq!(written, expected);
        assert!(out.blocks.is_empty() && out.unflushed);
    }

    #[test]
    fn big_arguments_are_noticed_once_their_header_is_parsed() {
        let mut parser = RequestParser::new();
        let limits = RequestLimits::default();
        let mut input = format!("*2\r\n$3\r\nset\r\n${BIG_ARG}\r\n").into_bytes();
        input.extend_from_slice(&[b'v'; 100]);
        assert!(matches!(
            parser.parse(&input, &limits),
            Ok(Parsed::Incomplete)
        ));
        let start = input.len() - 100;
        assert_eq!(
            big_arg_pending(&parser, &input),
            Some((BIG_ARG + 2 - 100, start))
        );
        // A small argument is not a big one.
        let mut parser = RequestParser::new();
        let input = b"*1\r\n$10\r\nabc".to_vec();
        assert!(matches!(
            parser.parse(&input, &limits),
            Ok(Parsed::Incomplete)
        ));
        assert_eq!(big_arg_pending(&parser, &input), None);
    }

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
