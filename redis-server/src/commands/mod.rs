//! Command implementations, one file per Redis command group, and the registry that binds each
//! entry of `common::command_table` to its handler.
//!
//! A handler reads its arguments from [`CommandContext::args`], reaches keys only through
//! [`CommandContext::db`] (the shards its keys live in, already locked) and writes its reply
//! into [`CommandContext::reply`]. It returns `Err` for an error reply; dispatch writes and
//! counts it.

pub(crate) mod args;
pub(crate) mod error;

mod bitmap;
mod cluster;
mod connection;
mod generic;
mod geo;
mod hash;
mod hyperloglog;
mod list;
mod pubsub;
pub(crate) mod scripting;
pub(crate) mod server;
mod set;
mod sort;
mod sorted_set;
mod stream;
mod string;
mod transactions;

use std::collections::HashMap;

use common::command_table::{self, CommandSpec};
use common::keyspace::Locked;
use common::resp::ReplyBuffer;

pub(crate) use args::Args;
pub(crate) use connection::client_info_line;
pub(crate) use error::CommandError;

use crate::connection::Client;
use crate::counters::Striped;
use crate::latency::LatencyHistogram;
use crate::server::Server;

/// Everything a handler may use while it runs.
pub(crate) struct CommandContext<'a> {
    pub server: &'a Server,
    pub client: &'a mut Client,
    pub reply: &'a mut ReplyBuffer,
    pub args: Args<'a>,
    pub db: Locked<'a>,
    /// The time this command runs at: every key it touches is judged against it.
    pub now_ms: i64,
    pub command: &'a CommandEntry,
    /// How this command is propagated (see `effects.rs`).
    pub propagation: crate::effects::CallPropagation,
}

impl CommandContext<'_> {
    /// The LRU clock value for entries this command creates or touches.
    pub(crate) fn lru(&self) -> u32 {
        self.server.keyspace.access_policy().initial(self.now_ms)
    }

    /// Blocks the client on `keys` (BLPOP and friends found nothing): nothing is replied now;
    /// the command runs again when one of the keys receives data, or `timeout_reply` is sent
    /// at `deadline` (`None`: wait forever).
    pub(crate) fn block(
        &mut self,
        keys: Vec<Box<[u8]>>,
        deadline: Option<std::time::Instant>,
        timeout_reply: Vec<u8>,
    ) {
        self.block_with(keys, deadline, timeout_reply, None, false);
    }

    /// [`CommandContext::block`] with the command to re-run instead of the one the client
    /// sent (XREAD resolves `$` to an ID), and whether the waiter must also be re-run when one
    /// of its keys stops holding a stream (XREADGROUP then answers an error).
    pub(crate) fn block_with(
        &mut self,
        keys: Vec<Box<[u8]>>,
        deadline: Option<std::time::Instant>,
        timeout_reply: Vec<u8>,
        rewritten: Option<common::resp::OwnedCommand>,
        wake_on_delete: bool,
    ) {
        if self.client.in_exec {
            // Inside a transaction nothing can arrive while it runs: Redis answers at once.
            self.reply.extend_raw(&timeout_reply);
            return;
        }
        self.client.pending_block = Some(crate::blocking::BlockRequest {
            keys,
            deadline,
            timeout_reply,
            rewritten,
            wake_on_delete,
        });
    }

    /// How long the reply may grow before this client's output buffer is at its class's hard
    /// `client-output-buffer-limit` (its connection is then closed, as Redis closes it, and
    /// commands that produce replies of a client-chosen size stop there, as Redis's stop on
    /// `CLIENT_CLOSE_ASAP`). `None` when no hard limit applies: none is set, or the client
    /// is no connection's (a script's, the AOF loader's) or a master's or replica's.
    pub(crate) fn reply_room(&self) -> Option<usize> {
        if self.client.script_read.is_some() || self.client.unrestricted {
            return None;
        }
        let class = match self.client.info.details().kind {
            crate::connection::ClientKind::Normal => crate::server::OutputClass::Normal,
            crate::connection::ClientKind::Pubsub => crate::server::OutputClass::Pubsub,
            _ => return None,
        };
        let hard = self
            .server
            .hot
            .output_limits
            .read()
            .unwrap_or_else(std::sync::PoisonError::into_inner)[class as usize]
            .hard_bytes;
        if hard == 0 {
            return None;
        }
        let pending = self
            .client
            .info
            .output_memory
            .load(std::sync::atomic::Ordering::Relaxed);
        Some(
            usize::try_from(hard)
                .unwrap_or(usize::MAX)
                .saturating_sub(pending),
        )
    }

    /// Notes that `key` (in the selected database) received data that blocked clients may want.
    pub(crate) fn signal_ready(&mut self, key: &[u8]) {
        if self.server.blocking.has_waiters() {
            self.client.ready_keys.push((self.db.db(), key.into()));
        }
    }
}

/// A subcommand help reply as Redis's `addReplyHelp` writes it: a header naming the command
/// as the client typed it (upper-cased), the lines, and the HELP entry itself.
pub(crate) fn reply_help(ctx: &mut CommandContext<'_>, lines: &[&str]) {
    let command = ctx.args.get(0).unwrap_or_default();
    let reply = &mut *ctx.reply;
    let mut header = command.to_ascii_uppercase();
    header.extend_from_slice(b" <subcommand> [<arg> [value] [opt] ...]. Subcommands are:");
    reply.array(lines.len() + 3);
    reply.simple(&header);
    for line in lines {
        reply.simple(line.as_bytes());
    }
    reply.simple(b"HELP");
    reply.simple(b"    Prints this help.");
}

pub(crate) type Handler = fn(&mut CommandContext<'_>) -> Result<(), CommandError>;

/// How dispatch locks the keyspace for a command.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Locking {
    /// The shared gate plus the shards of the keys its key specs name.
    Keys,
    /// The exclusive gate: the command runs alone and may touch anything (FLUSHALL, SWAPDB,
    /// MOVE, commands that read keys their specs do not name).
    Exclusive,
}

/// A registered command: its metadata, handler and INFO commandstats counters.
pub(crate) struct CommandEntry {
    pub spec: &'static CommandSpec,
    /// `get`, or `config|get` for a subcommand.
    pub full_name: String,
    pub handler: Handler,
    pub locking: Locking,
    /// calls, nanoseconds, rejected_calls, failed_calls (INFO commandstats).
    stats: Striped<4>,
    /// INFO latencystats.
    pub(crate) latency: LatencyHistogram,
}

impl CommandEntry {
    const CALLS: usize = 0;
    const NSEC: usize = 1;
    const REJECTED: usize = 2;
    const FAILED: usize = 3;

    /// Counts one call that took `duration`. Kept in nanoseconds: a sum of durations each
    /// truncated to whole microseconds reads near zero for commands shorter than one.
    pub(crate) fn record_call(&self, duration: std::time::Duration) {
        self.stats.add(Self::CALLS, 1);
        self.stats.add(
            Self::NSEC,
            u64::try_from(duration.as_nanos()).unwrap_or(u64::MAX),
        );
    }

    pub(crate) fn record_rejected(&self) {
        self.stats.add(Self::REJECTED, 1);
    }

    pub(crate) fn record_failed(&self) {
        self.stats.add(Self::FAILED, 1);
    }

    pub(crate) fn calls(&self) -> u64 {
        self.stats.get(Self::CALLS)
    }

    pub(crate) fn usec(&self) -> u64 {
        self.stats.get(Self::NSEC) / 1000
    }

    pub(crate) fn rejected_calls(&self) -> u64 {
        self.stats.get(Self::REJECTED)
    }

    pub(crate) fn failed_calls(&self) -> u64 {
        self.stats.get(Self::FAILED)
    }

    pub(crate) fn reset_stats(&self) {
        self.stats.reset();
        self.latency.reset();
    }
}

/// Every implemented command, keyed by its table entry.
pub(crate) struct Registry {
    by_spec: HashMap<usize, CommandEntry, foldhash::fast::FixedState>,
    /// `rename-command` from the config: new lowercase name to the original top-level spec,
    /// `None` for a command renamed to "" (disabled). Empty unless the config renames.
    renamed: HashMap<Vec<u8>, Option<&'static CommandSpec>>,
    hidden: Vec<&'static CommandSpec>,
}

fn spec_key(spec: &'static CommandSpec) -> usize {
    spec as *const CommandSpec as usize
}

impl Default for Registry {
    fn default() -> Self {
        Self::new()
    }
}

impl Registry {
    /// The registry with every family's commands.
    pub(crate) fn new() -> Registry {
        let mut r = Registry {
            by_spec: HashMap::default(),
            renamed: HashMap::new(),
            hidden: Vec::new(),
        };
        string::register(&mut r);
        transactions::register(&mut r);
        hash::register(&mut r);
        list::register(&mut r);
        generic::register(&mut r);
        connection::register(&mut r);
        server::register(&mut r);
        set::register(&mut r);
        sort::register(&mut r);
        bitmap::register(&mut r);
        sorted_set::register(&mut r);
        pubsub::register(&mut r);
        geo::register(&mut r);
        scripting::register(&mut r);
        stream::register(&mut r);
        hyperloglog::register(&mut r);
        cluster::register(&mut r);
        r
    }

    fn insert(&mut self, spec: &'static CommandSpec, handler: Handler, locking: Locking) {
        let full_name = command_table::full_name(spec).into_owned();
        self.by_spec.insert(
            spec_key(spec),
            CommandEntry {
                spec,
                full_name,
                handler,
                locking,
                stats: Striped::default(),
                latency: LatencyHistogram::default(),
            },
        );
    }

    /// Registers a top-level command, locked by its keys.
    pub(crate) fn add(&mut self, name: &str, handler: Handler) {
        self.add_with(name, handler, Locking::Keys);
    }

    pub(crate) fn add_with(&mut self, name: &str, handler: Handler, locking: Locking) {
        let spec = command_table::lookup(name.as_bytes())
            .expect("every registered command has an entry in the command table");
        self.insert(spec, handler, locking);
    }

    /// Registers a subcommand (`add_sub("config", "get", config_get)`).
    pub(crate) fn add_sub(&mut self, container: &str, name: &str, handler: Handler) {
        self.add_sub_with(container, name, handler, Locking::Keys);
    }

    pub(crate) fn add_sub_with(
        &mut self,
        container: &str,
        name: &str,
        handler: Handler,
        locking: Locking,
    ) {
        let parent = command_table::lookup(container.as_bytes())
            .expect("every registered container has an entry in the command table");
        let spec = command_table::lookup_subcommand(parent, name.as_bytes())
            .expect("every registered subcommand has an entry in the command table");
        self.insert(spec, handler, locking);
    }

    /// The registered command for a table entry.
    pub(crate) fn entry(&self, spec: &'static CommandSpec) -> Option<&CommandEntry> {
        self.by_spec.get(&spec_key(spec))
    }

    /// Every registered command (INFO commandstats).
    pub(crate) fn entries(&self) -> impl Iterator<Item = &CommandEntry> {
        self.by_spec.values()
    }

    /// Resolves a top-level command name, honouring `rename-command`.
    pub(crate) fn lookup(&self, name: &[u8]) -> Option<&'static CommandSpec> {
        if !self.renamed.is_empty() {
            let lower = name.to_ascii_lowercase();
            if let Some(target) = self.renamed.get(&lower) {
                return *target;
            }
        }
        let spec = command_table::lookup(name)?;
        if self.hidden.iter().any(|h| std::ptr::eq(*h, spec)) {
            return None;
        }
        Some(spec)
    }

    /// Whether a top-level command answers to some name (COMMAND, COMMAND COUNT): it is
    /// registered, or a container with a registered subcommand, and `rename-command` did not
    /// disable it.
    pub(crate) fn serves(&self, spec: &'static CommandSpec) -> bool {
        let registered = self.entry(spec).is_some()
            || command_table::subcommands(spec)
                .iter()
                .any(|sub| self.entry(sub).is_some());
        let hidden = self.hidden.iter().any(|h| std::ptr::eq(*h, spec));
        let renamed = || {
            self.renamed
                .values()
                .any(|target| target.is_some_and(|t| std::ptr::eq(t, spec)))
        };
        registered && (!hidden || renamed())
    }

    /// Applies `rename-command old new` (`new` empty disables the command). Errors name the
    /// problem as Redis's config loader does.
    pub(crate) fn rename(&mut self, old: &str, new: &str) -> Result<(), &'static str> {
        let spec = self
            .lookup(old.as_bytes())
            .ok_or("No such command in rename-command")?;
        if !new.is_empty() && self.lookup(new.as_bytes()).is_some() {
            return Err("Target command name already exists");
        }
        self.hidden.push(spec);
        if !new.is_empty() {
            self.renamed
                .insert(new.to_ascii_lowercase().into_bytes(), Some(spec));
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn command_time_is_summed_before_it_is_rounded_to_microseconds() {
        let r = Registry::new();
        let spec = common::command_table::lookup(b"get").expect("GET");
        let entry = r.entry(spec).expect("GET's entry");
        for _ in 0..10 {
            entry.record_call(std::time::Duration::from_nanos(400));
        }
        assert_eq!((entry.calls(), entry.usec()), (10, 4));
    }

    #[test]
    fn every_table_entry_has_a_handler_and_every_handler_an_entry() {
        let r = Registry::new();
        for spec in command_table::commands() {
            if command_table::has_subcommands(spec) {
                for sub in command_table::subcommands(spec) {
                    assert!(
                        r.entry(sub).is_some(),
                        "no handler for {}",
                        command_table::full_name(sub)
                    );
                }
            } else {
                assert!(r.entry(spec).is_some(), "no handler for {}", spec.name);
            }
        }
    }

    #[test]
    fn renamed_commands_answer_only_to_their_new_name() {
        let mut r = Registry::new();
        r.rename("get", "fetch").unwrap();
        assert!(r.lookup(b"get").is_none());
        assert_eq!(r.lookup(b"FETCH").map(|s| s.name), Some("get"));
        r.rename("set", "").unwrap();
        assert!(r.lookup(b"set").is_none());
    }
}

/// In-process command runner for the family tests: the real registry and dispatcher, no socket.
#[cfg(test)]
pub(crate) mod testkit {
    use std::sync::Arc;

    use common::resp::{OwnedCommand, Protocol, ReplyBuffer};

    use crate::connection::{Client, ClientInfo};
    use crate::dispatch;
    use crate::log::{Level, Logger};
    use crate::server::Server;

    /// A server with one connected client.
    pub(crate) struct TestClient {
        pub server: Arc<Server>,
        pub client: Client,
        /// The command this client last blocked on, if any.
        pub blocked: Option<Arc<crate::blocking::Waiter>>,
        /// What other clients pushed to this one (pub/sub messages, MONITOR lines).
        pushes: tokio::sync::mpsc::UnboundedReceiver<Vec<u8>>,
    }

    impl TestClient {
        pub(crate) fn new() -> TestClient {
            Self::with_config(&[])
        }

        /// A server configured as `redis-server --name value ...` would be.
        pub(crate) fn with_config(options: &[(&str, &str)]) -> TestClient {
            // No save points unless a test asks: FLUSHALL and SHUTDOWN would write dump.rdb
            // into the crate's folder.
            let args: Vec<String> = [("save", "")]
                .iter()
                .chain(options)
                .flat_map(|(k, v)| [format!("--{k}"), (*v).to_owned()])
                .collect();
            let loaded = common::config::load(&args).expect("test config loads");
            let log = Logger::open("", Level::Warning, 'M').expect("stdout log");
            let server = Arc::new(Server::new(
                loaded.config,
                None,
                "redis-server".into(),
                log,
                1,
            ));
            Self::connect(&server)
        }

        /// Another client of the same server.
        pub(crate) fn connect(server: &Arc<Server>) -> TestClient {
            let id = server
                .next_client_id
                .fetch_add(1, std::sync::atomic::Ordering::Relaxed);
            let (info, pushes) = ClientInfo::new(
                id,
                format!("127.0.0.1:{}", 40000 + id),
                "127.0.0.1:6379".into(),
                -1,
                false,
            );
            server.register_client(info.clone());
            let authenticated = server.acl.default_logs_in();
            TestClient {
                server: server.clone(),
                client: Client::new(info, authenticated),
                blocked: None,
                pushes,
            }
        }

        /// Runs one command; returns the raw reply bytes.
        pub(crate) fn run(&mut self, args: &[&str]) -> Vec<u8> {
            self.run_bytes(&args.iter().map(|a| a.as_bytes()).collect::<Vec<_>>())
        }

        pub(crate) fn run_bytes(&mut self, args: &[&[u8]]) -> Vec<u8> {
            let command = OwnedCommand::from_args(args.iter().copied());
            let mut reply = ReplyBuffer::new(self.client.protocol);
            self.client.begin_batch();
            let mut held = dispatch::HeldGate::default();
            match dispatch::execute(
                &self.server,
                &mut self.client,
                command.args(),
                &mut reply,
                &mut held,
            ) {
                dispatch::Dispatched::Done => {}
                dispatch::Dispatched::Paused(_) => reply.extend_raw(b"(paused)"),
                dispatch::Dispatched::Offload => reply.extend_raw(b"(offloaded)"),
                dispatch::Dispatched::Blocked(waiter) => {
                    reply.extend_raw(b"(blocked)");
                    self.blocked = Some(waiter);
                }
            }
            reply.take()
        }

        /// The reply a blocked command got since (`None` while it still waits); a timed-out
        /// wait is not simulated here.
        pub(crate) fn served(&mut self) -> Option<String> {
            let waiter = self.blocked.as_ref()?;
            let reply = match &*waiter.state() {
                crate::blocking::WaiterState::Served(bytes) => {
                    String::from_utf8_lossy(bytes).into_owned()
                }
                _ => return None,
            };
            self.blocked = None;
            Some(reply)
        }

        /// Everything pushed to this client since the last call, as text.
        pub(crate) fn pushed(&mut self) -> String {
            let mut out = Vec::new();
            while let Ok(bytes) = self.pushes.try_recv() {
                self.client.info.pushed_written(&self.server, bytes.len());
                out.extend_from_slice(&bytes);
            }
            String::from_utf8_lossy(&out).into_owned()
        }

        /// Starts recording the replication stream (a backlog without replicas).
        pub(crate) fn start_stream(&mut self) {
            self.server.feed.attach_test_backlog();
        }

        /// The commands propagated since the last call, each as its arguments joined by
        /// spaces (SELECTs included).
        pub(crate) fn stream(&mut self) -> Vec<String> {
            self.server.feed.take_test_stream()
        }

        /// [`TestClient::stream`] without SELECTs, every current Unix time in ms (13 digits,
        /// alone or starting a stream ID) replaced by `T`.
        pub(crate) fn stream_without_times(&mut self) -> Vec<String> {
            self.stream()
                .into_iter()
                .filter(|line| !line.starts_with("SELECT "))
                .map(|line| {
                    line.split(' ')
                        .map(|a| {
                            let digits = a.bytes().take_while(u8::is_ascii_digit).count();
                            if digits == 13 && (a.len() == 13 || a.as_bytes()[13] == b'-') {
                                format!("T{}", &a[13..])
                            } else {
                                a.to_owned()
                            }
                        })
                        .collect::<Vec<_>>()
                        .join(" ")
                })
                .collect()
        }

        /// Runs one command; returns its reply as text for readable asserts.
        pub(crate) fn text(&mut self, args: &[&str]) -> String {
            String::from_utf8_lossy(&self.run(args)).into_owned()
        }

        pub(crate) fn protocol(&self) -> Protocol {
            self.client.protocol
        }

        /// Runs one command; returns the keyspace events it emitted (as
        /// [`crate::notify::test_log::take`] writes them) and how much it added to `dirty`.
        pub(crate) fn effects(&mut self, args: &[&str]) -> (Vec<String>, u64) {
            use std::sync::atomic::Ordering::Relaxed;
            crate::notify::test_log::take();
            let before = self.server.dirty.load(Relaxed);
            self.run(args);
            let events = crate::notify::test_log::take();
            (events, self.server.dirty.load(Relaxed) - before)
        }

        /// Runs one command; asserts the keyspace events it emitted, in order, and the
        /// `dirty` it added.
        #[track_caller]
        pub(crate) fn assert_effects(&mut self, args: &[&str], events: &[&str], dirty: u64) {
            let (got, delta) = self.effects(args);
            let got: Vec<&str> = got.iter().map(String::as_str).collect();
            assert_eq!(
                (got.as_slice(), delta),
                (events, dirty),
                "effects of {args:?}"
            );
        }
    }

    #[test]
    fn ping_through_the_dispatcher() {
        let mut c = TestClient::new();
        assert_eq!(c.text(&["PING"]), "+PONG\r\n");
        assert_eq!(c.text(&["ping", "hi"]), "$2\r\nhi\r\n");
        assert_eq!(
            c.text(&["ping", "a", "b"]),
            "-ERR wrong number of arguments for 'ping' command\r\n"
        );
        assert_eq!(
            c.text(&["nosuch", "x"]),
            "-ERR unknown command 'nosuch', with args beginning with: 'x' \r\n"
        );
    }
}
