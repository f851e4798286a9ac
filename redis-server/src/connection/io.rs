//! One client's task: read what arrived, run every complete command in it (pipelining), and
//! write all their replies in one go.

use std::sync::Arc;
use std::sync::atomic::Ordering::Relaxed;
use std::time::Duration;

use common::resp::{Parsed, ReplyBuffer, RequestLimits, RequestParser};
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};
use tokio::sync::mpsc;

use super::client::{Client, ClientInfo};
use crate::blocking::Waiter;
use crate::dispatch::{self, Dispatched};
use crate::server::{Server, unix_ms};

/// Bytes asked of the socket per read; Redis's PROTO_IOBUF_LEN, so that protocol limits
/// trip at the same points as in Redis.
const READ_CHUNK: usize = 16 * 1024;

/// Why a connection ended.
enum Close {
    /// The peer closed, or a write failed.
    Peer,
    /// QUIT, a protocol error, CLIENT KILL, SHUTDOWN, idle timeout, limits.
    Server,
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
    let mut client = Client::new(info.clone(), authenticated);
    let mut input: Vec<u8> = Vec::with_capacity(READ_CHUNK);
    let mut parser = RequestParser::new();
    let mut reply = ReplyBuffer::new(client.protocol);
    let mut shutdown = server.shutdown.subscribe();

    // Set once the client is unregistered (before QUIT's reply is written).
    let mut gone = false;
    let _why = loop {
        if input.capacity() - input.len() < READ_CHUNK {
            input.reserve(READ_CHUNK);
        }
        let idle_secs = server.hot.timeout_secs.load(Relaxed);
        let idle_limit =
            (idle_secs > 0 && !client.is_monitor).then(|| Duration::from_secs(idle_secs as u64));
        let idle = async move {
            match idle_limit {
                Some(limit) => tokio::time::sleep(limit).await,
                None => std::future::pending().await,
            }
        };
        tokio::select! {
            biased;
            _ = info.kill.notified() => break Close::Server,
            _ = shutdown.changed() => break Close::Server,
            pushed = pushes.recv() => {
                let Some(bytes) = pushed else { continue };
                // A subscriber that stops reading blocks this write; the publisher that takes
                // it over its output limit kills it, which must end the wait.
                tokio::select! {
                    biased;
                    _ = info.kill.notified() => break Close::Server,
                    written = stream.write_all(&bytes) => {
                        if written.is_err() {
                            break Close::Peer;
                        }
                    }
                }
                info.pushed_written(bytes.len());
                server.stats.net_output_bytes.fetch_add(bytes.len() as u64, Relaxed);
                server.stats.total_writes_processed.fetch_add(1, Relaxed);
            }
            read = stream.read_buf(&mut input) => {
                let n = match read {
                    Ok(0) | Err(_) => break Close::Peer,
                    Ok(n) => n,
                };
                server.stats.net_input_bytes.fetch_add(n as u64, Relaxed);
                server.stats.total_reads_processed.fetch_add(1, Relaxed);
                info.last_interaction_ms.store(unix_ms(), Relaxed);
                // Run what arrived; a blocked command waits here, then the commands pipelined
                // after it run without waiting for another read.
                let mut closed = None;
                loop {
                    client.begin_batch();
                    let (consumed, blocked) =
                        run_commands(&server, &mut client, &mut parser, &input, &mut reply).await;
                    input.drain(..consumed);
                    info.query_buffer.store(input.len(), Relaxed);
                    if let Some(waiter) = blocked {
                        let unblocked = wait_blocked(&server, &info, &waiter, &mut shutdown).await;
                        match unblocked {
                            Some(bytes) => reply.extend_raw(&bytes),
                            None => {
                                closed = Some(Close::Server);
                                break;
                            }
                        }
                        if !input.is_empty() {
                            if !flush(&server, &mut stream, &mut reply).await {
                                closed = Some(Close::Peer);
                                break;
                            }
                            continue;
                        }
                    }
                    break;
                }
                if let Some(why) = closed {
                    break why;
                }
                reply.set_protocol(client.protocol);
                if client.close_after_reply && !gone {
                    // Like Redis, which frees a QUIT client as its reply goes out: whoever
                    // reads that reply and acts next (a REDIRECT target's tracking client)
                    // must already find it gone.
                    client.disconnect(&server);
                    server.unregister_client(info.id);
                    gone = true;
                }
                if !flush(&server, &mut stream, &mut reply).await {
                    break Close::Peer;
                }
                // Do not keep a huge buffer around after one big reply.
                if reply.capacity() > 1 << 20 {
                    reply = ReplyBuffer::new(client.protocol);
                }
                if client.close_after_reply || info.is_killed() {
                    break Close::Server;
                }
                let limit = server.hot.client_query_buffer_limit.load(Relaxed) as usize;
                if input.len() > limit {
                    server.stats.client_query_buffer_limit_disconnections.fetch_add(1, Relaxed);
                    server.log.warning(&format!(
                        "Closing client that reached max query buffer length: id={} addr={} qbuf={}",
                        info.id, info.addr, input.len()
                    ));
                    break Close::Server;
                }
            }
            _ = idle => {
                server.log.verbose("Closing idle client");
                break Close::Server;
            }
        }
    };
    if !gone {
        client.disconnect(&server);
        server.unregister_client(info.id);
    }
    let _ = stream.shutdown().await;
}

/// Writes and clears the pending replies; false when the peer is gone.
async fn flush<S: AsyncWrite + Unpin>(
    server: &Server,
    stream: &mut S,
    reply: &mut ReplyBuffer,
) -> bool {
    if reply.is_empty() {
        return true;
    }
    if stream.write_all(reply.as_bytes()).await.is_err() {
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

/// Runs every complete command at the front of `input`; returns how many bytes they used.
/// Stops early when the client must be closed (the reply explains why). A command held by
/// CLIENT PAUSE is waited for here, outside the synchronous batch that holds the keyspace gate.
async fn run_commands(
    server: &Arc<Server>,
    client: &mut Client,
    parser: &mut RequestParser,
    input: &[u8],
    reply: &mut ReplyBuffer,
) -> (usize, Option<Arc<Waiter>>) {
    let mut offset = 0;
    loop {
        let end = match run_batch(
            server,
            client,
            parser,
            &input[offset..],
            reply,
            Place::Worker,
        ) {
            BatchEnd::Offload { used } => {
                offset += used;
                // The parser starts afresh on the script thread, at the script command.
                parser.reset();
                match on_script_thread(server, client, parser, &input[offset..], reply).await {
                    Some(end) => end,
                    None => {
                        client.close_after_reply = true;
                        return (input.len(), None);
                    }
                }
            }
            end => end,
        };
        match end {
            BatchEnd::Done(used) => return (offset + used, None),
            BatchEnd::Blocked { used, waiter } => return (offset + used, Some(waiter)),
            BatchEnd::Offload { used } => offset += used,
            BatchEnd::Paused { used, until } => {
                offset += used;
                let unpaused = server.pause.changed.notified();
                tokio::select! {
                    _ = tokio::time::sleep_until(until.into()) => {}
                    _ = unpaused => {}
                    _ = client.info.kill.notified() => {}
                }
                client.begin_batch();
                // CLIENT KILL reaches held clients too; the caller closes.
                if client.info.is_killed() {
                    return (offset, None);
                }
            }
        }
    }
}

/// Runs the rest of a batch, from a command that runs a script, on the script thread: the
/// client's state and buffers move there and back. `None` if the batch panicked there.
async fn on_script_thread(
    server: &Arc<Server>,
    client: &mut Client,
    parser: &mut RequestParser,
    input: &[u8],
    reply: &mut ReplyBuffer,
) -> Option<BatchEnd> {
    let placeholder = Client::new(client.info.clone(), client.authenticated);
    let mut moved_client = std::mem::replace(client, placeholder);
    let mut moved_parser = std::mem::replace(parser, RequestParser::new());
    let mut moved_reply = std::mem::replace(reply, ReplyBuffer::new(moved_client.protocol));
    let input = input.to_vec();
    let server_ref = server.clone();
    let (end, back_client, back_parser, back_reply) = server
        .scripting
        .thread
        .run(move || {
            let end = run_batch(
                &server_ref,
                &mut moved_client,
                &mut moved_parser,
                &input,
                &mut moved_reply,
                Place::ScriptThread,
            );
            (end, moved_client, moved_parser, moved_reply)
        })
        .await?;
    *client = back_client;
    *parser = back_parser;
    *reply = back_reply;
    Some(end)
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
    /// thread.
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
    input: &[u8],
    reply: &mut ReplyBuffer,
    place: Place,
) -> BatchEnd {
    let mut held = match place {
        Place::Worker => dispatch::HeldGate::on_worker(),
        Place::ScriptThread => dispatch::HeldGate::default(),
    };
    let mut start = 0;
    while start < input.len() && !client.close_after_reply {
        let limits = RequestLimits {
            proto_max_bulk_len: server.hot.proto_max_bulk_len.load(Relaxed),
            authenticated: client.authenticated,
        };
        let frame = &input[start..];
        match parser.parse(frame, &limits) {
            Ok(Parsed::Incomplete) => break,
            Ok(Parsed::Command { consumed }) => {
                let args = parser.args(frame);
                if !args.is_empty() {
                    reply.set_protocol(client.protocol);
                    match dispatch::execute(server, client, args, reply, &mut held) {
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
