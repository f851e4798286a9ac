//! Clients blocked on keys (BLPOP, BZPOPMIN, XREAD BLOCK...): who waits for which key, in
//! arrival order, and how a write that makes a key ready serves them.
//!
//! A handler that finds nothing to return calls [`CommandContext::block`]; dispatch then files
//! a [`Waiter`] under each key and the connection task sleeps on it. A handler that adds data
//! calls [`CommandContext::signal_ready`]; after that command (or the whole transaction) dispatch
//! takes the exclusive gate and re-runs each ready key's waiters, first blocked first served,
//! with the waiter's own database and protocol. A waiter whose re-run finds nothing stays
//! where it was in the queue. The reply travels to the waiting task through the waiter.
//!
//! [`CommandContext::block`]: crate::commands::CommandContext::block
//! [`CommandContext::signal_ready`]: crate::commands::CommandContext::signal_ready

use std::collections::{HashMap, VecDeque};
use std::sync::atomic::{AtomicBool, Ordering::Relaxed};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Instant;

use common::resp::{OwnedCommand, Protocol};
use tokio::sync::Notify;

use crate::connection::ClientInfo;

/// A blocking command's timeout argument in seconds (a float): the deadline, `None` to wait
/// forever (0), with Redis's error texts.
pub(crate) fn parse_timeout(
    arg: &[u8],
    now: Instant,
) -> Result<Option<Instant>, crate::commands::CommandError> {
    use crate::commands::CommandError;
    let secs = common::number::parse_long_double(arg)
        .filter(|d| !d.is_nan())
        .ok_or_else(|| CommandError::err("timeout is not a float or out of range"))?;
    let ms = (secs * 1000.0).ceil();
    // Redis converts with a C cast; anything beyond i64 ends up negative there.
    if !(0.0..9.223_372_036_854_775e18).contains(&ms) {
        return Err(CommandError::err("timeout is negative"));
    }
    if ms == 0.0 {
        return Ok(None);
    }
    // A deadline past what `Instant` can hold waits forever.
    Ok(now.checked_add(std::time::Duration::from_millis(ms as u64)))
}

/// A key a blocked client waits on, as its re-run sees it: Redis serves a waiter only from a
/// key of the type it waits for, so while serving, a key that now holds another type counts
/// as empty (the client stays blocked) instead of answering WRONGTYPE.
pub(crate) fn waited<T>(
    found: Result<Option<T>, crate::commands::CommandError>,
    serving: bool,
) -> Result<Option<T>, crate::commands::CommandError> {
    match found {
        Err(crate::commands::CommandError::WrongType) if serving => Ok(None),
        other => other,
    }
}

/// What a blocked command answers when it times out: a null array (BLPOP, BZPOPMIN...) or a
/// null bulk (`bulk`: BLMOVE, BRPOPLPUSH), `_` in RESP3.
pub(crate) fn timeout_reply(protocol: Protocol, bulk: bool) -> Vec<u8> {
    match (protocol, bulk) {
        (Protocol::Resp3, _) => b"_\r\n".to_vec(),
        (_, true) => b"$-1\r\n".to_vec(),
        (_, false) => b"*-1\r\n".to_vec(),
    }
}

/// What a blocking handler asks for when it finds nothing to serve.
#[derive(Debug, Clone)]
pub(crate) struct BlockRequest {
    pub keys: Vec<Box<[u8]>>,
    /// `None` blocks forever (timeout 0).
    pub deadline: Option<Instant>,
    /// The reply on timeout, in the client's protocol (`*-1`, `_`, `$-1`...).
    pub timeout_reply: Vec<u8>,
    /// The command to re-run instead of the one sent (XREAD with `$` resolved).
    pub rewritten: Option<OwnedCommand>,
    /// Re-run also when a key stops holding a stream (XREADGROUP, answered with an error).
    pub wake_on_delete: bool,
}

/// Where a waiter stands.
#[derive(Debug)]
pub(crate) enum WaiterState {
    Waiting,
    /// Served: the reply to send.
    Served(Vec<u8>),
    /// Given up (timeout, CLIENT UNBLOCK, disconnect): nobody serves it any more.
    Gone,
}

/// One blocked command.
pub(crate) struct Waiter {
    pub client: Arc<ClientInfo>,
    pub db: usize,
    pub protocol: Protocol,
    pub keys: Vec<Box<[u8]>>,
    pub command: OwnedCommand,
    pub deadline: Option<Instant>,
    pub timeout_reply: Vec<u8>,
    /// See [`BlockRequest::wake_on_delete`].
    pub wake_on_delete: bool,
    pub state: Mutex<WaiterState>,
    /// Woken when the state leaves `Waiting`.
    pub done: Notify,
}

impl Waiter {
    pub(crate) fn state(&self) -> std::sync::MutexGuard<'_, WaiterState> {
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Moves a waiting waiter to `Gone`; returns the reply if it was served in the meantime.
    pub(crate) fn give_up(&self) -> Option<Vec<u8>> {
        let mut state = self.state();
        match std::mem::replace(&mut *state, WaiterState::Gone) {
            WaiterState::Served(reply) => Some(reply),
            WaiterState::Waiting | WaiterState::Gone => None,
        }
    }

    fn is_waiting(&self) -> bool {
        matches!(*self.state(), WaiterState::Waiting)
    }
}

type KeyQueue = VecDeque<Arc<Waiter>>;
/// Queues by (database, key).
type Queues = HashMap<(usize, Box<[u8]>), KeyQueue>;

/// Every blocked client, by the keys it waits on.
#[derive(Default)]
pub(crate) struct Blocking {
    by_key: Mutex<Queues>,
    /// Lets writers skip the lock when nobody is blocked.
    any: AtomicBool,
}

impl Blocking {
    pub(crate) fn has_waiters(&self) -> bool {
        self.any.load(Relaxed)
    }

    fn map(&self) -> std::sync::MutexGuard<'_, Queues> {
        self.by_key.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Files `waiter` at the back of each of its keys' queues.
    pub(crate) fn add(&self, waiter: Arc<Waiter>) {
        let mut map = self.map();
        for key in &waiter.keys {
            map.entry((waiter.db, key.clone()))
                .or_default()
                .push_back(waiter.clone());
        }
        self.any.store(true, Relaxed);
    }

    /// Removes `waiter` from every queue (timeout, unblock, disconnect, or served).
    pub(crate) fn remove(&self, waiter: &Arc<Waiter>) {
        let mut map = self.map();
        for key in &waiter.keys {
            let slot = (waiter.db, key.clone());
            if let Some(queue) = map.get_mut(&slot) {
                queue.retain(|w| !Arc::ptr_eq(w, waiter));
                if queue.is_empty() {
                    map.remove(&slot);
                }
            }
        }
        self.any.store(!map.is_empty(), Relaxed);
    }

    /// The waiters of a key, in arrival order (a snapshot: serving may change the queues).
    pub(crate) fn waiters(&self, db: usize, key: &[u8]) -> Vec<Arc<Waiter>> {
        let map = self.map();
        map.get(&(db, Box::from(key)))
            .map(|q| q.iter().filter(|w| w.is_waiting()).cloned().collect())
            .unwrap_or_default()
    }

    /// Whether some waiter must be re-run when its key stops holding a stream.
    pub(crate) fn has_delete_waiters(&self) -> bool {
        self.has_waiters() && self.map().values().flatten().any(|w| w.wake_on_delete)
    }

    /// The keys of waiters re-run when the key stops holding a stream (see
    /// [`BlockRequest::wake_on_delete`]), once each.
    pub(crate) fn delete_waiter_keys(&self) -> Vec<(usize, Box<[u8]>)> {
        let map = self.map();
        map.iter()
            .filter(|(_, q)| q.iter().any(|w| w.wake_on_delete && w.is_waiting()))
            .map(|(slot, _)| slot.clone())
            .collect()
    }

    /// Every key some client waits on in database `db` (SWAPDB re-checks them).
    pub(crate) fn keys_in(&self, db: usize) -> Vec<Box<[u8]>> {
        let map = self.map();
        map.keys()
            .filter(|(d, _)| *d == db)
            .map(|(_, key)| key.clone())
            .collect()
    }

    /// The waiter of a client, if it is blocked on keys (CLIENT UNBLOCK).
    pub(crate) fn waiter_of(&self, client_id: u64) -> Option<Arc<Waiter>> {
        let map = self.map();
        map.values()
            .flat_map(|q| q.iter())
            .find(|w| w.client.id == client_id && w.is_waiting())
            .cloned()
    }

    /// Number of blocked clients (INFO `blocked_clients`).
    pub(crate) fn blocked_clients(&self) -> usize {
        let map = self.map();
        let mut ids: Vec<u64> = map
            .values()
            .flat_map(|q| q.iter().map(|w| w.client.id))
            .collect();
        ids.sort_unstable();
        ids.dedup();
        ids.len()
    }

    /// Marks a waiter served with `reply` and wakes its task; false if it had given up.
    pub(crate) fn serve(&self, waiter: &Arc<Waiter>, reply: Vec<u8>) -> bool {
        {
            let mut state = waiter.state();
            if !matches!(*state, WaiterState::Waiting) {
                return false;
            }
            *state = WaiterState::Served(reply);
        }
        self.remove(waiter);
        waiter.done.notify_one();
        true
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn waiter(id: u64, keys: &[&str]) -> Arc<Waiter> {
        let (info, _rx) = ClientInfo::new(id, "a".into(), "b".into(), -1, false);
        Arc::new(Waiter {
            client: info,
            db: 0,
            protocol: Protocol::Resp2,
            keys: keys.iter().map(|k| Box::from(k.as_bytes())).collect(),
            command: OwnedCommand::from_args(["BLPOP", "k", "0"]),
            deadline: None,
            timeout_reply: b"*-1\r\n".to_vec(),
            wake_on_delete: false,
            state: Mutex::new(WaiterState::Waiting),
            done: Notify::new(),
        })
    }

    #[test]
    fn waiters_queue_in_arrival_order_and_leave_every_key() {
        let b = Blocking::default();
        let (w1, w2) = (waiter(1, &["a", "b"]), waiter(2, &["a"]));
        b.add(w1.clone());
        b.add(w2.clone());
        assert!(b.has_waiters());
        assert_eq!(b.blocked_clients(), 2);
        let ids: Vec<u64> = b.waiters(0, b"a").iter().map(|w| w.client.id).collect();
        assert_eq!(ids, [1, 2]);
        assert!(b.serve(&w1, b"reply".to_vec()));
        assert!(b.waiters(0, b"b").is_empty());
        assert!(!b.serve(&w1, b"again".to_vec()));
        assert_eq!(w1.give_up(), Some(b"reply".to_vec()));
        assert_eq!(w2.give_up(), None);
        b.remove(&w2);
        assert!(!b.has_waiters());
    }
}
