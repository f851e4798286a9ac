//! Client-side caching (CLIENT TRACKING): which clients may hold which keys, and the
//! invalidation messages sent when those keys change.
//!
//! Default mode remembers, after each read-only command, the keys it read against the reading
//! client (the tracking table); a write to such a key ([`Tracking::key_modified`], reached from
//! every `ctx.modified`, expiry and the table's own size limit) forgets the key and tells each
//! remembered client. BCAST mode remembers nothing per client: every modified key matching a
//! subscribed prefix is collected and sent to the prefix's clients once the command that
//! changed it (EXEC, a script) has replied. A flush invalidates everything with a null.
//!
//! Messages are RESP3 pushes `invalidate [keys]` to the tracking client, or to its REDIRECT
//! client: a push when that one speaks RESP3, else a pub/sub message on
//! `__redis__:invalidate` if it is subscribed to anything. What a client's own command
//! invalidates for itself is held back until after that command's reply, as Redis 7.0 does.
//!
//! The state is server-wide behind one lock; while no client tracks and the table is empty,
//! every hook returns after one atomic load.

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::sync::atomic::Ordering::Relaxed;
use std::sync::atomic::{AtomicBool, AtomicUsize};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};

use common::command_table::{self, CommandSpec, Flag};
use common::resp::{ArgList, Protocol, ReplyBuffer};

use crate::connection::{Client, ClientInfo};
use crate::pubsub::SelfSink;
use crate::server::Server;

/// Per-client tracking flags, kept in [`ClientInfo::tracking_flags`].
pub(crate) mod flags {
    /// CLIENT TRACKING ON (CLIENT LIST `t`).
    pub(crate) const ON: u32 = 1 << 0;
    /// The REDIRECT client went away (`R`, TRACKINGINFO `broken_redirect`).
    pub(crate) const BROKEN_REDIR: u32 = 1 << 1;
    /// BCAST mode (`B`).
    pub(crate) const BCAST: u32 = 1 << 2;
    pub(crate) const OPTIN: u32 = 1 << 3;
    pub(crate) const OPTOUT: u32 = 1 << 4;
    /// CLIENT CACHING YES (OPTIN) or NO (OPTOUT) was given for the next command.
    pub(crate) const CACHING: u32 = 1 << 5;
    pub(crate) const NOLOOP: u32 = 1 << 6;
}

use flags::*;

/// `>2 $10 invalidate`: the RESP3 push header.
const PUSH_HEADER: &[u8] = b">2\r\n$10\r\ninvalidate\r\n";
/// A pub/sub message on `__redis__:invalidate`, for a RESP2 redirect client.
const MESSAGE_HEADER: &[u8] = b"*3\r\n$7\r\nmessage\r\n$20\r\n__redis__:invalidate\r\n";

/// The server's tracking state.
#[derive(Default)]
pub(crate) struct Tracking {
    /// True while some client tracks or the table still holds keys.
    live: AtomicBool,
    /// Keys in the table, so that the size check before each command takes no lock.
    table_len: AtomicUsize,
    /// True while messages wait for the end of a command (held-back or BCAST ones), so that
    /// commands that made none take no lock.
    outbox: AtomicBool,
    /// The last size-limit run could not get under the limit.
    over_limit: AtomicBool,
    state: Mutex<State>,
}

/// One BCAST prefix: its clients and the keys modified since the last broadcast, each with
/// the id of the client that modified it last (`None`: expiry), for NOLOOP.
#[derive(Default)]
struct Bcast {
    clients: BTreeSet<u64>,
    keys: BTreeMap<Box<[u8]>, Option<u64>>,
}

#[derive(Default)]
struct State {
    /// Clients with tracking on.
    trackers: BTreeMap<u64, Arc<ClientInfo>>,
    /// Key to the ids of the clients that may cache it. Ids of clients that turned tracking
    /// off stay until the key is invalidated (Redis cleans up lazily too).
    keys: HashMap<Box<[u8]>, BTreeSet<u64>>,
    /// Ids across all keys (INFO `tracking_total_items`).
    items: u64,
    prefixes: BTreeMap<Box<[u8]>, Bcast>,
    /// Invalidations a client's command caused for that same client, sent after its reply:
    /// (client id, key; `None` for a flush).
    pending: Vec<(u64, Option<Box<[u8]>>)>,
    /// Consecutive size-limit runs that could not get under the limit (more effort each time).
    over_limit_runs: u32,
}

/// What CLIENT TRACKING ON asks for.
pub(crate) struct Enable<'a> {
    pub redirect: u64,
    /// [`flags::BCAST`], [`flags::OPTIN`], [`flags::OPTOUT`], [`flags::NOLOOP`].
    pub options: u32,
    pub prefixes: Vec<&'a [u8]>,
}

impl Tracking {
    fn state(&self) -> MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// True when any hook has work to do.
    pub(crate) fn live(&self) -> bool {
        self.live.load(Relaxed)
    }

    /// Mirrors what the lock-free checks read; called after every change to the state.
    fn refresh(&self, state: &State) {
        self.live.store(
            !state.trackers.is_empty() || !state.keys.is_empty(),
            Relaxed,
        );
        self.table_len.store(state.keys.len(), Relaxed);
        let waiting =
            !state.pending.is_empty() || state.prefixes.values().any(|b| !b.keys.is_empty());
        self.outbox.store(waiting, Relaxed);
    }

    /// Clients with tracking on (INFO `tracking_clients`).
    pub(crate) fn clients(&self) -> usize {
        if !self.live() {
            return 0;
        }
        self.state().trackers.len()
    }

    /// (keys, items, prefixes) for INFO `tracking_total_*`.
    pub(crate) fn totals(&self) -> (usize, u64, usize) {
        if !self.live() {
            return (0, 0, 0);
        }
        let state = self.state();
        (state.keys.len(), state.items, state.prefixes.len())
    }

    /// Turns tracking on (or changes its options) for `client`; the options were checked.
    pub(crate) fn enable(&self, client: &mut Client, options: Enable<'_>) {
        let info = &client.info;
        let id = info.id;
        let mut state = self.state();
        state.trackers.insert(id, info.clone());
        let kept = info.tracking_flags.load(Relaxed) & CACHING;
        let mode = options.options & (BCAST | OPTIN | OPTOUT | NOLOOP);
        info.tracking_flags.store(ON | kept | mode, Relaxed);
        info.tracking_redirect.store(options.redirect, Relaxed);
        if mode & BCAST != 0 {
            let empty: &[u8] = b"";
            let prefixes = if options.prefixes.is_empty() {
                vec![empty]
            } else {
                options.prefixes
            };
            for prefix in prefixes {
                let bcast = state.prefixes.entry(prefix.into()).or_default();
                if bcast.clients.insert(id) {
                    client
                        .tracking_prefixes
                        .get_or_insert_default()
                        .insert(prefix.into());
                }
            }
        }
        self.refresh(&state);
    }

    /// Turns tracking off for `client` (CLIENT TRACKING OFF, RESET, disconnect). Its keys stay
    /// in the table until invalidated; messages for them are no longer sent.
    pub(crate) fn disable(&self, client: &mut Client) {
        let info = &client.info;
        let current = info.tracking_flags.load(Relaxed);
        if current & ON == 0 {
            return;
        }
        let mut state = self.state();
        if current & BCAST != 0
            && let Some(prefixes) = client.tracking_prefixes.take()
        {
            for prefix in prefixes {
                if let Some(bcast) = state.prefixes.get_mut(&prefix) {
                    bcast.clients.remove(&info.id);
                    if bcast.clients.is_empty() {
                        state.prefixes.remove(&prefix);
                    }
                }
            }
        }
        state.trackers.remove(&info.id);
        info.tracking_flags.store(0, Relaxed);
        self.refresh(&state);
    }

    /// Remembers the keys `args` (a read-only command of `spec`) names against `client`, in
    /// default mode and as OPTIN/OPTOUT with CLIENT CACHING allow.
    pub(crate) fn remember_keys(&self, client: &Client, spec: &CommandSpec, args: ArgList<'_>) {
        let mode = client.info.tracking_flags.load(Relaxed);
        if mode & ON == 0 || mode & BCAST != 0 {
            return;
        }
        let caching = mode & CACHING != 0;
        if (mode & OPTIN != 0 && !caching) || (mode & OPTOUT != 0 && caching) {
            return;
        }
        // Shard channels are keys only for cluster routing.
        if spec.flags.contains(&Flag::Pubsub) {
            return;
        }
        let Ok(positions) =
            command_table::key_positions_by(spec, args.len(), |i| args.get(i).unwrap_or_default())
        else {
            return;
        };
        if positions.is_empty() {
            return;
        }
        let id = client.info.id;
        let mut state = self.state();
        for pos in positions.iter() {
            let Some(key) = args.get(pos) else { continue };
            let ids = match state.keys.get_mut(key) {
                Some(ids) => ids,
                None => state.keys.entry(key.into()).or_default(),
            };
            if ids.insert(id) {
                state.items += 1;
            }
        }
        self.refresh(&state);
    }

    /// `key` changed (Redis's `signalModifiedKey`, and expiry): clients caching it are told,
    /// and it is queued for BCAST clients of a matching prefix. `modifier` is the client that
    /// changed it (`None` for expiry), for NOLOOP in BCAST mode; `sink` is the client running
    /// the command now, if any: its own invalidations wait for its reply, and NOLOOP skips
    /// them.
    pub(crate) fn key_modified(
        &self,
        server: &Server,
        key: &[u8],
        modifier: Option<u64>,
        sink: Option<&mut SelfSink<'_>>,
    ) {
        self.invalidate_key(server, key, modifier, sink, true);
    }

    /// `key` was deleted outside any command (eviction before the command runs): as
    /// [`Tracking::key_modified`], but the current client's own invalidation goes out now,
    /// ahead of its reply.
    pub(crate) fn key_invalidated_now(
        &self,
        server: &Server,
        key: &[u8],
        sink: Option<&mut SelfSink<'_>>,
    ) {
        self.invalidate_key(server, key, None, sink, false);
    }

    /// Files `key` for the BCAST prefixes it matches (with the client that changed it) and
    /// invalidates it for the clients that read it; `defer` holds the current client's own
    /// message until its reply.
    fn invalidate_key(
        &self,
        server: &Server,
        key: &[u8],
        modifier: Option<u64>,
        sink: Option<&mut SelfSink<'_>>,
        defer: bool,
    ) {
        if !self.live() {
            return;
        }
        let mut state = self.state();
        for (prefix, bcast) in state.prefixes.iter_mut() {
            if key.starts_with(prefix) {
                bcast.keys.insert(key.into(), modifier);
            }
        }
        state.invalidate(server, key, sink, defer);
        self.refresh(&state);
    }

    /// A database was flushed: every tracking client is told that all its keys are invalid
    /// (a null), and the table is emptied.
    pub(crate) fn flushed(&self, server: &Server, mut sink: Option<&mut SelfSink<'_>>) {
        if !self.live() {
            return;
        }
        let mut state = self.state();
        let current = sink.as_ref().map(|s| s.id);
        let state = &mut *state;
        for (&id, target) in &state.trackers {
            if Some(id) == current {
                state.pending.push((id, None));
            } else {
                send(server, target, null(target), sink.as_deref_mut());
            }
        }
        state.keys.clear();
        state.items = 0;
        self.refresh(state);
    }

    /// Before a command runs (and from the cron): past `tracking-table-max-keys`, forgets keys
    /// (telling their clients) until under it again, with more effort each time it fails to.
    pub(crate) fn enforce_limit(&self, server: &Server, mut sink: Option<&mut SelfSink<'_>>) {
        if !self.live() {
            return;
        }
        let max = server.hot.tracking_table_max_keys.load(Relaxed) as usize;
        if max == 0 {
            return;
        }
        if self.table_len.load(Relaxed) <= max {
            // Under the limit: nothing to do but forget past failures to get under it.
            if self.over_limit.load(Relaxed) {
                let mut state = self.state();
                state.over_limit_runs = 0;
                self.over_limit.store(false, Relaxed);
            }
            return;
        }
        let mut state = self.state();
        if state.trackers.is_empty() {
            return;
        }
        if state.keys.len() <= max {
            state.over_limit_runs = 0;
            return;
        }
        let mut effort = 100 * (state.over_limit_runs as usize + 1);
        while effort > 0 {
            effort -= 1;
            let Some(key) = state.keys.keys().next().cloned() else {
                break;
            };
            state.invalidate(server, &key, sink.as_deref_mut(), false);
            if state.keys.len() <= max {
                state.over_limit_runs = 0;
                self.refresh(&state);
                return;
            }
        }
        state.over_limit_runs += 1;
        self.over_limit.store(true, Relaxed);
        self.refresh(&state);
    }

    /// After a top-level command of `client` replied into `reply`: its held-back
    /// invalidations of its own keys, then the BCAST messages the command's writes made.
    pub(crate) fn after_command(&self, server: &Server, client: &Client, reply: &mut ReplyBuffer) {
        if !self.outbox.load(Relaxed) {
            return;
        }
        let mut state = self.state();
        let id = client.info.id;
        let mut sink = SelfSink {
            id,
            reply,
            suppressed: false,
        };
        if state.pending.iter().any(|(owner, _)| *owner == id) {
            let mut mine = Vec::new();
            state.pending.retain_mut(|(owner, key)| {
                if *owner == id {
                    mine.push(key.take());
                    false
                } else {
                    true
                }
            });
            for key in mine {
                match key {
                    Some(key) => send(server, &client.info, &key_payload(&key), Some(&mut sink)),
                    None => send(server, &client.info, null(&client.info), Some(&mut sink)),
                }
            }
        }
        state.broadcast(server, Some(&mut sink));
        self.refresh(&state);
    }

    /// The cron's step: the size limit, and BCAST messages for keys that expired.
    pub(crate) fn cron(&self, server: &Server) {
        if !self.live() {
            return;
        }
        self.enforce_limit(server, None);
        if self.outbox.load(Relaxed) {
            let mut state = self.state();
            state.broadcast(server, None);
            self.refresh(&state);
        }
    }
}

impl State {
    /// Forgets `key` and tells the clients that may cache it. `defer`: the current client's
    /// own message waits for its reply (inside a command), else it is sent now.
    fn invalidate(
        &mut self,
        server: &Server,
        key: &[u8],
        mut sink: Option<&mut SelfSink<'_>>,
        defer: bool,
    ) {
        let Some(ids) = self.keys.remove(key) else {
            return;
        };
        self.items -= ids.len() as u64;
        let current = sink.as_ref().map(|s| s.id);
        let mut payload = None;
        for id in ids {
            let Some(target) = self.trackers.get(&id) else {
                continue;
            };
            let mode = target.tracking_flags.load(Relaxed);
            // Keys remembered before the client switched to BCAST are not its concern now.
            if mode & BCAST != 0 {
                continue;
            }
            if Some(id) == current {
                if mode & NOLOOP != 0 {
                    continue;
                }
                if defer {
                    self.pending.push((id, Some(key.into())));
                    continue;
                }
            }
            let payload = payload.get_or_insert_with(|| key_payload(key));
            send(server, target, payload, sink.as_deref_mut());
        }
    }

    /// Sends every prefix's collected keys to its clients and starts collecting afresh.
    fn broadcast(&mut self, server: &Server, mut sink: Option<&mut SelfSink<'_>>) {
        for bcast in self.prefixes.values_mut() {
            if bcast.keys.is_empty() {
                continue;
            }
            let keys = std::mem::take(&mut bcast.keys);
            let mut everyone = None;
            for id in &bcast.clients {
                let Some(target) = self.trackers.get(id) else {
                    continue;
                };
                if target.tracking_flags.load(Relaxed) & NOLOOP != 0 {
                    if let Some(own) = keys_payload(&keys, Some(*id)) {
                        send(server, target, &own, sink.as_deref_mut());
                    }
                } else {
                    let all = everyone.get_or_insert_with(|| {
                        keys_payload(&keys, None).unwrap_or_else(|| b"*0\r\n".to_vec())
                    });
                    send(server, target, all, sink.as_deref_mut());
                }
            }
        }
    }
}

/// `*1 $len key`.
fn key_payload(key: &[u8]) -> Vec<u8> {
    let mut out = ReplyBuffer::new(Protocol::Resp2);
    out.array(1);
    out.bulk(key);
    out.take()
}

/// The keys as an array, without those `skip` modified last (NOLOOP); `None` when that
/// leaves none.
fn keys_payload(keys: &BTreeMap<Box<[u8]>, Option<u64>>, skip: Option<u64>) -> Option<Vec<u8>> {
    let kept = || {
        keys.iter()
            .filter(move |(_, by)| skip.is_none() || **by != skip)
            .map(|(k, _)| k)
    };
    let count = kept().count();
    if count == 0 {
        return None;
    }
    let mut out = ReplyBuffer::new(Protocol::Resp2);
    out.array(count);
    for key in kept() {
        out.bulk(key);
    }
    Some(out.take())
}

/// "All keys": a null in the tracking client's own protocol, as Redis sends it (also to a
/// redirect client speaking the other one).
fn null(target: &ClientInfo) -> &'static [u8] {
    match target.protocol() {
        Protocol::Resp2 => b"$-1\r\n",
        Protocol::Resp3 => b"_\r\n",
    }
}

fn client_by_id(server: &Server, id: u64) -> Option<Arc<ClientInfo>> {
    server
        .clients
        .lock()
        .unwrap_or_else(PoisonError::into_inner)
        .get(&id)
        .cloned()
}

/// Whether a client with this id is connected (CLIENT TRACKING ... REDIRECT checks it).
pub(crate) fn client_exists(server: &Server, id: u64) -> bool {
    client_by_id(server, id).is_some()
}

/// Sends an invalidation (`payload`: the array of keys, or a null) for tracking client
/// `target`: to it, or to its redirect client.
fn send(server: &Server, target: &ClientInfo, payload: &[u8], sink: Option<&mut SelfSink<'_>>) {
    let redirect = target.tracking_redirect.load(Relaxed);
    let redirected;
    let recipient: &ClientInfo = if redirect != 0 {
        match client_by_id(server, redirect) {
            Some(info) => {
                redirected = info;
                &redirected
            }
            None => {
                target.tracking_flags.fetch_or(BROKEN_REDIR, Relaxed);
                if target.protocol() == Protocol::Resp3 {
                    let mut out = ReplyBuffer::new(Protocol::Resp3);
                    out.push(2);
                    out.bulk(b"tracking-redir-broken");
                    out.integer(i64::try_from(redirect).unwrap_or(i64::MAX));
                    deliver(server, target, &out.take(), sink);
                }
                return;
            }
        }
    } else {
        target
    };
    let header = if recipient.protocol() == Protocol::Resp3 {
        PUSH_HEADER
    } else if redirect != 0 && recipient.is_subscriber() {
        MESSAGE_HEADER
    } else {
        // RESP2 has no way to carry it on the tracking connection itself.
        return;
    };
    let mut message = Vec::with_capacity(header.len() + payload.len());
    message.extend_from_slice(header);
    message.extend_from_slice(payload);
    deliver(server, recipient, &message, sink);
}

/// Into the running client's own reply buffer when it is the recipient, else through the
/// recipient's push channel.
fn deliver(server: &Server, recipient: &ClientInfo, bytes: &[u8], sink: Option<&mut SelfSink<'_>>) {
    match sink {
        Some(sink) if sink.id == recipient.id && !sink.suppressed => sink.reply.extend_raw(bytes),
        _ => {
            recipient.push_limited(server, bytes.to_vec());
        }
    }
}

/// After a command flagged `readonly` ran for `client` (top level, in EXEC, or in a script):
/// remembers its keys for the client. In a script, only notes that a read happened: the
/// script's declared keys are remembered once it ends (see [`after_script`]).
pub(crate) fn after_read(
    server: &Server,
    client: &mut Client,
    spec: &CommandSpec,
    args: ArgList<'_>,
) {
    if let Some(read) = &mut client.script_read {
        *read = true;
        return;
    }
    // These read-only script commands track keys only when their script reads.
    if spec.container.is_none() && matches!(spec.name, "eval_ro" | "evalsha_ro" | "fcall_ro") {
        return;
    }
    if client.info.tracking_flags.load(Relaxed) & ON == 0 {
        return;
    }
    server.tracking.remember_keys(client, spec, args);
}

/// A script (`spec`, `args`: EVAL, FCALL...) ended; `read` tells whether it ran a read-only
/// command, in which case its declared keys are remembered, as Redis does.
pub(crate) fn after_script(
    server: &Server,
    client: &Client,
    spec: &CommandSpec,
    args: ArgList<'_>,
    read: bool,
) {
    if read && client.info.tracking_flags.load(Relaxed) & ON != 0 {
        server.tracking.remember_keys(client, spec, args);
    }
}

#[cfg(test)]
mod tests {
    use crate::commands::testkit::TestClient;

    fn hello3(c: &mut TestClient) {
        assert!(c.text(&["HELLO", "3"]).starts_with('%'));
    }

    #[test]
    fn resp3_client_gets_invalidation_of_a_key_it_read() {
        let mut c = TestClient::new();
        let mut other = TestClient::connect(&c.server);
        hello3(&mut c);
        assert_eq!(c.text(&["CLIENT", "TRACKING", "on"]), "+OK\r\n");
        other.run(&["SET", "k", "1"]);
        assert_eq!(c.text(&["GET", "k"]), "$1\r\n1\r\n");
        other.run(&["SET", "k", "2"]);
        assert_eq!(c.pushed(), ">2\r\n$10\r\ninvalidate\r\n*1\r\n$1\r\nk\r\n");
        // Forgotten once invalidated.
        other.run(&["SET", "k", "3"]);
        assert_eq!(c.pushed(), "");
    }

    #[test]
    fn own_write_invalidates_after_the_reply_unless_noloop() {
        let mut c = TestClient::new();
        hello3(&mut c);
        c.run(&["CLIENT", "TRACKING", "on"]);
        c.run(&["HSET", "h", "f", "1"]);
        c.run(&["HGET", "h", "f"]);
        assert_eq!(
            c.text(&["HDEL", "h", "f"]),
            ":1\r\n>2\r\n$10\r\ninvalidate\r\n*1\r\n$1\r\nh\r\n"
        );
        c.run(&["MSET", "a", "1", "b", "2"]);
        c.run(&["GET", "a"]);
        c.run(&["MULTI"]);
        c.run(&["INCR", "a"]);
        c.run(&["GET", "b"]);
        assert_eq!(
            c.text(&["EXEC"]),
            "*2\r\n:2\r\n$1\r\n2\r\n>2\r\n$10\r\ninvalidate\r\n*1\r\n$1\r\na\r\n"
        );
        c.run(&["CLIENT", "TRACKING", "off"]);
        c.run(&["CLIENT", "TRACKING", "on", "NOLOOP"]);
        c.run(&["GET", "a"]);
        assert_eq!(c.text(&["SET", "a", "5"]), "+OK\r\n");
    }

    #[test]
    fn redirect_to_a_resp2_subscriber_uses_the_invalidate_channel() {
        let mut c = TestClient::new();
        let mut redir = TestClient::connect(&c.server);
        let mut other = TestClient::connect(&c.server);
        let id = redir.client.id().to_string();
        redir.run(&["SUBSCRIBE", "__redis__:invalidate"]);
        assert_eq!(
            c.text(&["CLIENT", "TRACKING", "on", "REDIRECT", &id]),
            "+OK\r\n"
        );
        assert_eq!(c.text(&["CLIENT", "GETREDIR"]), format!(":{id}\r\n"));
        c.run(&["MGET", "a", "b"]);
        other.run(&["SET", "a", "1"]);
        assert_eq!(
            redir.pushed(),
            "*3\r\n$7\r\nmessage\r\n$20\r\n__redis__:invalidate\r\n*1\r\n$1\r\na\r\n"
        );
        other.run(&["FLUSHALL"]);
        assert_eq!(
            redir.pushed(),
            "*3\r\n$7\r\nmessage\r\n$20\r\n__redis__:invalidate\r\n$-1\r\n"
        );
        assert!(c.text(&["CLIENT", "LIST"]).contains(" flags=t "));
        assert!(
            c.text(&["CLIENT", "INFO"])
                .contains(&format!(" redir={id} "))
        );
    }

    #[test]
    fn broken_redirect_is_reported_in_resp3() {
        let mut c = TestClient::new();
        let mut other = TestClient::connect(&c.server);
        let redir = TestClient::connect(&c.server);
        let id = redir.client.id();
        hello3(&mut c);
        c.run(&["CLIENT", "TRACKING", "on", "REDIRECT", &id.to_string()]);
        c.run(&["GET", "k"]);
        c.server.unregister_client(id);
        other.run(&["SET", "k", "1"]);
        assert_eq!(
            c.pushed(),
            format!(">2\r\n$21\r\ntracking-redir-broken\r\n:{id}\r\n")
        );
        assert_eq!(
            c.text(&["CLIENT", "TRACKINGINFO"]),
            format!(
                "%3\r\n$5\r\nflags\r\n~2\r\n$2\r\non\r\n$15\r\nbroken_redirect\r\n$8\r\nredirect\r\n:{id}\r\n$8\r\nprefixes\r\n*0\r\n"
            )
        );
    }

    #[test]
    fn bcast_sends_matching_keys_after_the_command() {
        let mut c = TestClient::new();
        let mut other = TestClient::connect(&c.server);
        hello3(&mut c);
        assert_eq!(
            c.text(&[
                "CLIENT", "TRACKING", "on", "BCAST", "PREFIX", "a:", "PREFIX", "b:"
            ]),
            "+OK\r\n"
        );
        other.run(&["MSET", "a:1", "1", "b:1", "1", "c:1", "1", "a:2", "2"]);
        assert_eq!(
            c.pushed(),
            ">2\r\n$10\r\ninvalidate\r\n*2\r\n$3\r\na:1\r\n$3\r\na:2\r\n>2\r\n$10\r\ninvalidate\r\n*1\r\n$3\r\nb:1\r\n"
        );
        // Own writes come after the reply.
        assert_eq!(
            c.text(&["SET", "a:3", "x"]),
            "+OK\r\n>2\r\n$10\r\ninvalidate\r\n*1\r\n$3\r\na:3\r\n"
        );
        assert_eq!(
            c.text(&["CLIENT", "TRACKINGINFO"]),
            "%3\r\n$5\r\nflags\r\n~2\r\n$2\r\non\r\n$5\r\nbcast\r\n$8\r\nredirect\r\n:0\r\n$8\r\nprefixes\r\n*2\r\n$2\r\na:\r\n$2\r\nb:\r\n"
        );
        let info = c.text(&["INFO", "stats"]);
        assert!(info.contains("tracking_total_prefixes:2\r\n"), "{info}");
    }

    #[test]
    fn tracking_errors_match_redis() {
        let mut c = TestClient::new();
        assert_eq!(
            c.text(&["CLIENT", "TRACKING", "on", "PREFIX", "a"]),
            "-ERR PREFIX option requires BCAST mode to be enabled\r\n"
        );
        assert_eq!(
            c.text(&["CLIENT", "TRACKING", "on", "OPTIN", "OPTOUT"]),
            "-ERR You can't specify both OPTIN mode and OPTOUT mode\r\n"
        );
        assert_eq!(
            c.text(&["CLIENT", "TRACKING", "on", "BCAST", "OPTIN"]),
            "-ERR OPTIN and OPTOUT are not compatible with BCAST\r\n"
        );
        assert_eq!(
            c.text(&["CLIENT", "TRACKING", "on", "REDIRECT", "9999"]),
            "-ERR The client ID you want redirect to does not exist\r\n"
        );
        assert_eq!(
            c.text(&["CLIENT", "TRACKING", "maybe"]),
            "-ERR syntax error\r\n"
        );
        assert_eq!(
            c.text(&[
                "CLIENT", "TRACKING", "on", "BCAST", "PREFIX", "FOOBAR", "PREFIX", "FOO"
            ]),
            "-ERR Prefix 'FOOBAR' overlaps with another provided prefix 'FOO'. Prefixes for a single client must not overlap.\r\n"
        );
        c.run(&["CLIENT", "TRACKING", "on", "BCAST", "PREFIX", "FOO"]);
        assert_eq!(
            c.text(&["CLIENT", "TRACKING", "on", "BCAST", "PREFIX", "FO"]),
            "-ERR Prefix 'FO' overlaps with an existing prefix 'FOO'. Prefixes for a single client must not overlap.\r\n"
        );
        assert_eq!(
            c.text(&["CLIENT", "TRACKING", "on"]),
            "-ERR You can't switch BCAST mode on/off before disabling tracking for this client, and then re-enabling it with a different mode.\r\n"
        );
        assert_eq!(
            c.text(&["CLIENT", "CACHING", "yes"]),
            "-ERR CLIENT CACHING YES is only valid when tracking is enabled in OPTIN mode.\r\n"
        );
        c.run(&["CLIENT", "TRACKING", "off"]);
        assert_eq!(
            c.text(&["CLIENT", "CACHING", "no"]),
            "-ERR CLIENT CACHING can be called only when the client is in tracking mode with OPTIN or OPTOUT mode enabled\r\n"
        );
        assert_eq!(c.text(&["CLIENT", "GETREDIR"]), ":-1\r\n");
        assert_eq!(
            c.text(&["CLIENT", "TRACKINGINFO"]),
            "*6\r\n$5\r\nflags\r\n*1\r\n$3\r\noff\r\n$8\r\nredirect\r\n:-1\r\n$8\r\nprefixes\r\n*0\r\n"
        );
    }

    #[test]
    fn optin_tracks_only_after_caching_yes() {
        let mut c = TestClient::new();
        let mut other = TestClient::connect(&c.server);
        hello3(&mut c);
        c.run(&["CLIENT", "TRACKING", "on", "OPTIN"]);
        c.run(&["GET", "a"]);
        assert_eq!(c.text(&["CLIENT", "CACHING", "yes"]), "+OK\r\n");
        assert!(c.text(&["CLIENT", "TRACKINGINFO"]).contains("caching-yes"));
        c.run(&["GET", "b"]);
        // The flag lasts one command.
        assert!(!c.text(&["CLIENT", "TRACKINGINFO"]).contains("caching-yes"));
        c.run(&["GET", "c"]);
        other.run(&["MSET", "a", "1", "b", "1", "c", "1"]);
        assert_eq!(c.pushed(), ">2\r\n$10\r\ninvalidate\r\n*1\r\n$1\r\nb\r\n");
    }

    #[test]
    fn table_limit_evicts_keys_and_tells_their_clients() {
        let mut c = TestClient::new();
        let mut other = TestClient::connect(&c.server);
        hello3(&mut c);
        c.run(&["CLIENT", "TRACKING", "on"]);
        c.run(&["MGET", "a", "b", "c"]);
        assert!(c.text(&["INFO"]).contains("tracking_total_keys:3\r\n"));
        other.run(&["CONFIG", "SET", "tracking-table-max-keys", "1"]);
        other.run(&["PING"]);
        assert_eq!(c.pushed().matches("invalidate").count(), 2);
        let info = c.text(&["INFO"]);
        assert!(info.contains("tracking_total_keys:1\r\n"), "{info}");
        assert!(info.contains("tracking_clients:1\r\n"), "{info}");
    }

    #[test]
    fn scripts_track_their_declared_keys_when_they_read() {
        let mut c = TestClient::new();
        let mut other = TestClient::connect(&c.server);
        hello3(&mut c);
        c.run(&["CLIENT", "TRACKING", "on"]);
        c.run(&["EVAL", "redis.call('set', 'x', 'bar')", "2", "k1", "k2"]);
        other.run(&["MSET", "k1", "1", "k2", "1"]);
        assert_eq!(c.pushed(), "");
        c.run(&["EVAL_RO", "redis.call('get', 'x')", "2", "k1", "k2"]);
        other.run(&["MSET", "k2", "1", "k1", "1"]);
        assert_eq!(
            c.pushed(),
            ">2\r\n$10\r\ninvalidate\r\n*1\r\n$2\r\nk2\r\n>2\r\n$10\r\ninvalidate\r\n*1\r\n$2\r\nk1\r\n"
        );
    }

    #[test]
    fn flush_invalidates_everything_after_the_reply() {
        let mut c = TestClient::new();
        hello3(&mut c);
        c.run(&["CLIENT", "TRACKING", "on"]);
        c.run(&["GET", "a"]);
        assert_eq!(
            c.text(&["FLUSHDB"]),
            "+OK\r\n>2\r\n$10\r\ninvalidate\r\n_\r\n"
        );
        assert!(c.text(&["INFO"]).contains("tracking_total_keys:0\r\n"));
        assert_eq!(c.text(&["RESET"]), "+RESET\r\n");
        assert_eq!(c.text(&["CLIENT", "GETREDIR"]), ":-1\r\n");
    }
}
