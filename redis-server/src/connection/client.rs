//! Per-client state: what only the connection's task touches ([`Client`]) and what other
//! clients may read or signal ([`ClientInfo`]: CLIENT LIST, CLIENT KILL, MONITOR feeds).

use std::sync::atomic::{AtomicBool, AtomicI64, AtomicU64, AtomicUsize, Ordering::Relaxed};
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
    pub output_memory: AtomicUsize,
    pub commands_processed: AtomicU64,
    pub details: Mutex<ClientDetails>,
    /// Set with `kill` when another client runs CLIENT KILL on this one.
    pub killed: AtomicBool,
    pub kill: Notify,
    /// Replies pushed to this client from elsewhere (MONITOR lines, later pub/sub messages).
    pub push: mpsc::UnboundedSender<Vec<u8>>,
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
            output_memory: AtomicUsize::new(0),
            commands_processed: AtomicU64::new(0),
            details: Mutex::new(ClientDetails {
                name: None,
                kind: ClientKind::Normal,
                last_command: None,
                protocol: Protocol::Resp2,
                no_evict: false,
            }),
            killed: AtomicBool::new(false),
            kill: Notify::new(),
            push,
        };
        (Arc::new(info), rx)
    }

    pub(crate) fn details(&self) -> std::sync::MutexGuard<'_, ClientDetails> {
        self.details.lock().unwrap_or_else(PoisonError::into_inner)
    }

    pub(crate) fn name(&self) -> Option<Vec<u8>> {
        self.details().name.clone()
    }

    /// Asks the client's task to close the connection.
    pub(crate) fn request_kill(&self) {
        self.killed.store(true, Relaxed);
        self.kill.notify_one();
    }

    pub(crate) fn is_killed(&self) -> bool {
        self.killed.load(Relaxed)
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
        Client {
            info,
            db: 0,
            protocol: Protocol::Resp2,
            authenticated,
            reply_mode: ReplyMode::On,
            close_after_reply: false,
            is_monitor: false,
            last_command: None,
            clock: CommandClock::now(),
            pending_block: None,
            ready_keys: Vec::new(),
            serving_blocked: false,
            multi: None,
            in_exec: false,
        }
    }

    /// Starts the clock for a new batch of commands (one read's worth).
    pub(crate) fn begin_batch(&mut self) {
        self.clock = CommandClock::now();
    }

    pub(crate) fn id(&self) -> u64 {
        self.info.id
    }

    /// Switches the selected database, keeping CLIENT LIST's view in step.
    pub(crate) fn select(&mut self, db: usize) {
        self.db = db;
        self.info.db.store(db, Relaxed);
    }

    pub(crate) fn set_protocol(&mut self, protocol: Protocol) {
        self.protocol = protocol;
        self.info.details().protocol = protocol;
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
