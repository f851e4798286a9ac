//! Per-client state: what only the connection's task touches ([`Client`]) and what other
//! clients may read or signal ([`ClientInfo`]: CLIENT LIST, CLIENT KILL, MONITOR feeds).

use std::sync::atomic::{
    AtomicBool, AtomicI64, AtomicU32, AtomicU64, AtomicUsize, Ordering::Relaxed,
};
use std::sync::{Arc, Mutex, PoisonError};

use common::command_table::CommandSpec;
use common::resp::Protocol;
use tokio::sync::{Notify, mpsc};

use crate::server::unix_ms;

/// CLIENT REPLY mode.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum ReplyMode {
    On,
    Off,
    /// Skip the reply of the next command only.
    Skip,
    /// Set by SKIP: the command being run now has its reply dropped.
    SkipThis,
}

/// Kinds of connection, for CLIENT LIST `flags` and CLIENT KILL TYPE.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum ClientKind {
    Normal,
    Monitor,
    Pubsub,
    Replica,
    Master,
}

/// The mutable fields other clients read, behind one lock.
#[derive(Debug, Clone)]
pub(crate) struct ClientDetails {
    pub name: Option<Vec<u8>>,
    pub kind: ClientKind,
    /// The last command the client sent that named a known command (CLIENT LIST `cmd=`);
    /// `None` before the first one and after an unknown command (`cmd=NULL`).
    pub last_command: Option<&'static CommandSpec>,
    pub protocol: Protocol,
    pub no_evict: bool,
    /// The ACL user the client is logged in as (CLIENT LIST `user=`).
    pub user: Arc<[u8]>,
}

/// The part of a client other connections can see and act on.
pub(crate) struct ClientInfo {
    pub id: u64,
    pub addr: String,
    pub laddr: String,
    /// The socket's file descriptor, as CLIENT LIST prints it (-1 when unknown).
    pub fd: i64,
    pub is_unix: bool,
    pub created_ms: i64,
    pub last_interaction_ms: AtomicI64,
    pub db: AtomicUsize,
    pub query_buffer: AtomicUsize,
    /// The query buffer's spare room (CLIENT LIST `qbuf-free`).
    pub query_buffer_free: AtomicUsize,
    /// Bytes pushed to this client (pub/sub messages, MONITOR lines, invalidations) that its
    /// task has not written yet: its output buffer as `client-output-buffer-limit` sees it.
    pub output_memory: AtomicUsize,
    /// Replies of the batch being run, not moved to the output buffer yet (published as they
    /// grow, so that a pipeline of big replies counts against the client, not the keys).
    pub reply_memory: AtomicUsize,
    /// Memory of the client's own state (MULTI queue, WATCHed keys, subscriptions, tracking
    /// prefixes), as its task last measured it (see `eviction::state_memory`).
    pub state_memory: AtomicUsize,
    /// This client's share of the server's `clients_memory`, as last added there.
    pub accounted_memory: AtomicUsize,
    /// When the output buffer last went over the soft limit (ms), 0 when under it.
    pub soft_limit_since_ms: AtomicI64,
    /// True in RESP3 (HELLO 3), for encoding messages pushed from other clients.
    pub resp3: AtomicBool,
    /// Subscriptions: channels, patterns, shard channels (CLIENT LIST sub/psub/ssub).
    pub subscriptions: [AtomicUsize; 3],
    /// Commands queued since MULTI, -1 outside MULTI (CLIENT LIST `multi`).
    pub multi_queued: AtomicI64,
    pub commands_processed: AtomicU64,
    pub details: Mutex<ClientDetails>,
    /// Set with `kill` when another client runs CLIENT KILL on this one.
    pub killed: AtomicBool,
    pub kill: Notify,
    /// Replies pushed to this client from elsewhere (MONITOR lines, later pub/sub messages).
    pub push: mpsc::UnboundedSender<Vec<u8>>,
    /// CLIENT TRACKING state: [`crate::tracking::flags`] (0: off). Set by the client itself,
    /// except `BROKEN_REDIR`, which whoever finds the redirect client gone sets.
    pub tracking_flags: AtomicU32,
    /// The REDIRECT client id while tracking (0: none).
    pub tracking_redirect: AtomicU64,
}

impl ClientInfo {
    pub(crate) fn new(
        id: u64,
        addr: String,
        laddr: String,
        fd: i64,
        is_unix: bool,
    ) -> (Arc<ClientInfo>, mpsc::UnboundedReceiver<Vec<u8>>) {
        let (push, rx) = mpsc::unbounded_channel();
        let now = unix_ms();
        let info = ClientInfo {
            id,
            addr,
            laddr,
            fd,
            is_unix,
            created_ms: now,
            last_interaction_ms: AtomicI64::new(now),
            db: AtomicUsize::new(0),
            query_buffer: AtomicUsize::new(0),
            query_buffer_free: AtomicUsize::new(0),
            output_memory: AtomicUsize::new(0),
            reply_memory: AtomicUsize::new(0),
            state_memory: AtomicUsize::new(0),
            accounted_memory: AtomicUsize::new(0),
            soft_limit_since_ms: AtomicI64::new(0),
            resp3: AtomicBool::new(false),
            subscriptions: Default::default(),
            multi_queued: AtomicI64::new(-1),
            commands_processed: AtomicU64::new(0),
            details: Mutex::new(ClientDetails {
                name: None,
                kind: ClientKind::Normal,
                last_command: None,
                protocol: Protocol::Resp2,
                no_evict: false,
                user: Arc::from(b"default".as_slice()),
            }),
            killed: AtomicBool::new(false),
            kill: Notify::new(),
            push,
            tracking_flags: AtomicU32::new(0),
            tracking_redirect: AtomicU64::new(0),
        };
        (Arc::new(info), rx)
    }

    pub(crate) fn details(&self) -> std::sync::MutexGuard<'_, ClientDetails> {
        self.details.lock().unwrap_or_else(PoisonError::into_inner)
    }

    pub(crate) fn name(&self) -> Option<Vec<u8>> {
        self.details().name.clone()
    }

    /// The memory this client uses, as CLIENT LIST `tot-mem` and client eviction count it
    /// (without the arguments of a command it is running).
    pub(crate) fn memory(&self) -> usize {
        super::eviction::BASE_MEMORY
            + self.query_buffer.load(Relaxed)
            + self.query_buffer_free.load(Relaxed)
            + self.output_memory.load(Relaxed)
            + self.reply_memory.load(Relaxed)
            + self.state_memory.load(Relaxed)
    }

    /// Publishes the size (less `skip` bytes already parsed into arguments) and spare room of
    /// the client's query buffer.
    pub(crate) fn note_query_buffer(&self, input: &Vec<u8>, skip: usize) {
        self.query_buffer
            .store(input.len().saturating_sub(skip), Relaxed);
        self.query_buffer_free
            .store(input.capacity() - input.len(), Relaxed);
    }

    /// Asks the client's task to close the connection.
    pub(crate) fn request_kill(&self) {
        self.killed.store(true, Relaxed);
        self.kill.notify_one();
    }

    pub(crate) fn is_killed(&self) -> bool {
        self.killed.load(Relaxed)
    }

    pub(crate) fn protocol(&self) -> Protocol {
        if self.resp3.load(Relaxed) {
            Protocol::Resp3
        } else {
            Protocol::Resp2
        }
    }

    /// True while subscribed to anything (the `pubsub` output-buffer class, flag `P`).
    pub(crate) fn is_subscriber(&self) -> bool {
        self.subscriptions.iter().any(|n| n.load(Relaxed) > 0)
    }

    /// Queues `bytes` for this client's task to write, unless that takes its output buffer
    /// past its class's `client-output-buffer-limit`: then the client is disconnected instead
    /// (as Redis does), so a subscriber that stops reading cannot make the server grow.
    pub(crate) fn push_limited(&self, server: &crate::server::Server, bytes: Vec<u8>) -> bool {
        if self.is_killed() {
            return false;
        }
        let pending = self.output_memory.fetch_add(bytes.len(), Relaxed) + bytes.len();
        let class = if self.is_subscriber() {
            crate::server::OutputClass::Pubsub
        } else {
            crate::server::OutputClass::Normal
        };
        if server.output_limit_exceeded(class, pending as u64, &self.soft_limit_since_ms) {
            self.output_memory.fetch_sub(bytes.len(), Relaxed);
            server.log.warning(&format!(
                "Client id={} addr={} scheduled to be closed ASAP for overcoming of output buffer limits.",
                self.id, self.addr
            ));
            self.request_kill();
            return false;
        }
        if self.push.send(bytes).is_err() {
            return false;
        }
        super::eviction::refresh(server, self);
        super::eviction::evict_if_needed(server);
        true
    }

    /// `n` pushed bytes were taken out of the client's output buffer (the test kit's reader;
    /// a connection counts what it writes).
    #[cfg(test)]
    pub(crate) fn pushed_written(&self, server: &crate::server::Server, n: usize) {
        self.output_memory.fetch_sub(n, Relaxed);
        super::eviction::refresh(server, self);
    }
}

/// What only the connection's own task touches.
pub(crate) struct Client {
    pub info: Arc<ClientInfo>,
    pub db: usize,
    pub protocol: Protocol,
    pub authenticated: bool,
    pub reply_mode: ReplyMode,
    /// Close the connection once the pending replies are written (QUIT, a protocol error).
    pub close_after_reply: bool,
    pub is_monitor: bool,
    /// What `info.details().last_command` holds, so dispatch locks only when it changes.
    last_command: Option<&'static CommandSpec>,
    pub clock: CommandClock,
    /// Set by a blocking handler that found nothing to serve (see blocking.rs).
    pub pending_block: Option<crate::blocking::BlockRequest>,
    /// Keys that received data during this command, for blocked clients: (db, key).
    pub ready_keys: Vec<(usize, Box<[u8]>)>,
    /// True while a blocked command is re-run to serve it: it must not block again.
    pub serving_blocked: bool,
    /// Commands queued since MULTI.
    pub multi: Option<Multi>,
    /// True while EXEC runs the queue: blocking commands answer as if they timed out.
    pub in_exec: bool,
    /// Set by others when a key this client WATCHes changes.
    pub watch_state: Arc<crate::watch::WatchState>,
    pub watched: Vec<crate::watch::WatchedKey>,
    /// What this client subscribes to; `None` until its first subscription.
    pub subscriptions: Option<Box<Subscriptions>>,
    /// BCAST tracking prefixes, in byte order; `None` outside BCAST mode.
    pub tracking_prefixes: Option<std::collections::BTreeSet<Box<[u8]>>>,
    /// `Some` for the client a script runs its commands as: becomes true once one of them is
    /// read-only (the script's declared keys are then tracked for its caller).
    pub script_read: Option<bool>,
    /// What REPLCONF told about this connection, should it become a replica.
    pub handshake: Option<crate::replication::master::Handshake>,
    /// Set by SYNC/PSYNC: the connection stops taking commands and streams the feed.
    pub replica_start: Option<Box<crate::replication::master::ReplicaStart>>,
    /// Runs whatever it is given, with no user's ACL rules (the AOF loader, as Redis's fake
    /// client without a user).
    pub unrestricted: bool,
}

/// A client's own record of its subscriptions (the server's registry has the other side).
#[derive(Debug, Default)]
pub(crate) struct Subscriptions {
    pub channels: std::collections::HashSet<Box<[u8]>>,
    /// In subscription order, as Redis keeps them.
    pub patterns: Vec<Box<[u8]>>,
    pub shard_channels: std::collections::HashSet<Box<[u8]>>,
}

/// A transaction being queued.
#[derive(Debug, Default)]
pub(crate) struct Multi {
    pub queued: Vec<common::resp::OwnedCommand>,
    /// A command was refused while queueing: EXEC answers EXECABORT.
    pub aborted: bool,
}

/// Time for the commands of one read batch, from one wall-clock read: each command's start is
/// the previous one's end, so a command costs one monotonic clock read, not three clock calls.
#[derive(Debug, Clone, Copy)]
pub(crate) struct CommandClock {
    batch_unix_ms: i64,
    batch_start: std::time::Instant,
    /// When the next command starts (the end of the previous one).
    pub next_start: std::time::Instant,
}

impl CommandClock {
    pub(crate) fn now() -> CommandClock {
        let now = std::time::Instant::now();
        CommandClock {
            batch_unix_ms: unix_ms(),
            batch_start: now,
            next_start: now,
        }
    }

    /// Unix milliseconds at `at`, an instant of this batch.
    pub(crate) fn unix_ms_at(&self, at: std::time::Instant) -> i64 {
        self.batch_unix_ms + at.duration_since(self.batch_start).as_millis() as i64
    }
}

impl Client {
    pub(crate) fn new(info: Arc<ClientInfo>, authenticated: bool) -> Client {
        Client::new_at(info, authenticated, CommandClock::now())
    }

    fn new_at(info: Arc<ClientInfo>, authenticated: bool, clock: CommandClock) -> Client {
        Client {
            info,
            db: 0,
            protocol: Protocol::Resp2,
            authenticated,
            reply_mode: ReplyMode::On,
            close_after_reply: false,
            is_monitor: false,
            last_command: None,
            clock,
            pending_block: None,
            ready_keys: Vec::new(),
            serving_blocked: false,
            multi: None,
            in_exec: false,
            watch_state: Arc::default(),
            watched: Vec::new(),
            subscriptions: None,
            tracking_prefixes: None,
            script_read: None,
            handshake: None,
            replica_start: None,
            unrestricted: false,
        }
    }

    /// The client a script's `redis.call`s run as, for a script `caller` runs: the caller's
    /// connection and database, its clock (the script's commands see the time it started).
    pub(crate) fn for_script(caller: &Client) -> Client {
        let mut client = Client::new_at(caller.info.clone(), true, caller.clock);
        client.db = caller.db;
        client.in_exec = true;
        client.script_read = Some(false);
        client
    }

    /// Starts the clock for a new batch of commands (one read's worth).
    pub(crate) fn begin_batch(&mut self) {
        self.clock = CommandClock::now();
    }

    pub(crate) fn id(&self) -> u64 {
        self.info.id
    }

    /// True while CLIENT REPLY OFF or SKIP drops this command's reply.
    pub(crate) fn replies_suppressed(&self) -> bool {
        matches!(self.reply_mode, ReplyMode::Off | ReplyMode::SkipThis)
    }

    /// Forgets every WATCHed key and clears the failed-EXEC mark.
    pub(crate) fn unwatch_all(&mut self, server: &crate::server::Server) {
        server.watches.unwatch(&self.watched);
        self.watched.clear();
        self.watch_state.dirty.store(false, Relaxed);
    }

    /// Leaves every channel, pattern and shard channel (RESET, disconnect).
    pub(crate) fn unsubscribe_all(&mut self, server: &crate::server::Server) {
        use crate::pubsub::ChannelKind;
        let Some(subs) = self.subscriptions.take() else {
            return;
        };
        let id = self.info.id;
        for c in &subs.channels {
            server.pubsub.unsubscribe(ChannelKind::Global, c, id);
        }
        for c in &subs.shard_channels {
            server.pubsub.unsubscribe(ChannelKind::Shard, c, id);
        }
        for p in &subs.patterns {
            server.pubsub.punsubscribe(p, id);
        }
        for n in &self.info.subscriptions {
            n.store(0, Relaxed);
        }
        let mut details = self.info.details();
        if details.kind == ClientKind::Pubsub {
            details.kind = ClientKind::Normal;
        }
    }

    /// What a connection leaves behind when it ends.
    pub(crate) fn disconnect(&mut self, server: &crate::server::Server) {
        self.unwatch_all(server);
        self.unsubscribe_all(server);
        server.tracking.disable(self);
    }

    /// Switches the selected database, keeping CLIENT LIST's view in step.
    pub(crate) fn select(&mut self, db: usize) {
        self.db = db;
        self.info.db.store(db, Relaxed);
    }

    pub(crate) fn set_protocol(&mut self, protocol: Protocol) {
        self.protocol = protocol;
        self.info.details().protocol = protocol;
        self.info.resp3.store(protocol == Protocol::Resp3, Relaxed);
    }

    /// Records the command being run for CLIENT LIST (`None`: an unknown command). Locks the
    /// shared details only when the command differs from the previous one.
    pub(crate) fn set_last_command(&mut self, spec: Option<&'static CommandSpec>) {
        let same = match (self.last_command, spec) {
            (Some(a), Some(b)) => std::ptr::eq(a, b),
            (None, None) => true,
            _ => false,
        };
        if !same {
            self.last_command = spec;
            self.info.details().last_command = spec;
        }
    }
}
