//! Keyspace notifications: `__keyspace@<db>__:<key>` and `__keyevent@<db>__:<event>` messages
//! published for the event classes `notify-keyspace-events` selects.

use std::sync::atomic::Ordering::Relaxed;

use crate::effects::Event;
use crate::pubsub::{ChannelKind, SelfSink};
use crate::server::Server;
use crate::watch::Touch;

/// `K`: publish on `__keyspace@<db>__:<key>`.
pub(crate) const KEYSPACE: u32 = 1 << 0;
/// `E`: publish on `__keyevent@<db>__:<event>`.
pub(crate) const KEYEVENT: u32 = 1 << 1;

/// True when `notify-keyspace-events` publishes events of `class`.
pub(crate) fn wants(server: &Server, class: Event) -> bool {
    let flags = server.hot.notify_keyspace_events.load(Relaxed);
    flags & class as u32 != 0 && flags & (KEYSPACE | KEYEVENT) != 0
}

/// Publishes `event` for `key` of `db` if the configured classes include `class`: on
/// `__keyspace@<db>__:<key>` (message: the event) for `K`, on `__keyevent@<db>__:<event>`
/// (message: the key) for `E`.
pub(crate) fn keyspace_event(
    server: &Server,
    class: Event,
    event: &str,
    key: &[u8],
    db: usize,
    mut sink: Option<&mut SelfSink<'_>>,
) {
    #[cfg(test)]
    test_log::record(class, event, key);
    if !wants(server, class) {
        return;
    }
    let flags = server.hot.notify_keyspace_events.load(Relaxed);
    if flags & KEYSPACE != 0 {
        let mut channel = format!("__keyspace@{db}__:").into_bytes();
        channel.extend_from_slice(key);
        server.pubsub.publish(
            server,
            ChannelKind::Global,
            &channel,
            event.as_bytes(),
            sink.as_deref_mut(),
        );
    }
    if flags & KEYEVENT != 0 {
        let channel = format!("__keyevent@{db}__:{event}");
        server
            .pubsub
            .publish(server, ChannelKind::Global, channel.as_bytes(), key, sink);
    }
}

/// A key's expiry deleted it: counted in `expired_keys`, WATCHers told (a key already stale
/// when watched does not fail their EXEC), clients caching it told, and the "expired" event
/// published.
pub(crate) fn key_expired(
    server: &Server,
    db: usize,
    key: &[u8],
    mut sink: Option<&mut SelfSink<'_>>,
) {
    server.stats.expired_keys.fetch_add(1, Relaxed);
    server.watches.touch(db, key, Touch::ExpiredDeleted);
    server
        .tracking
        .key_modified(server, key, None, sink.as_deref_mut());
    keyspace_event(server, Event::Expired, "expired", key, db, sink);
}

/// Fields of the hash at `key` expired (Redis 7.4's `hexpired`), and the key went with its
/// last field (`del`): WATCHers and clients caching it told, as Redis's `signalModifiedKey`.
pub(crate) fn hash_fields_expired(
    server: &Server,
    db: usize,
    key: &[u8],
    emptied: bool,
    mut sink: Option<&mut SelfSink<'_>>,
) {
    keyspace_event(
        server,
        Event::Hash,
        "hexpired",
        key,
        db,
        sink.as_deref_mut(),
    );
    if emptied {
        keyspace_event(server, Event::Generic, "del", key, db, sink.as_deref_mut());
    }
    server.watches.touch(db, key, Touch::Modified);
    server.tracking.key_modified(server, key, None, sink);
}

/// Reports keys expired outside any command (the active expiry cycle, the cron's drain).
pub(crate) fn keys_expired(server: &Server, db: usize, keys: impl Iterator<Item = Box<[u8]>>) {
    if !server.watches.active() && !wants(server, Event::Expired) && !server.tracking.live() {
        server
            .stats
            .expired_keys
            .fetch_add(keys.count() as u64, Relaxed);
        return;
    }
    for key in keys {
        key_expired(server, db, &key, None);
    }
}

/// Every event emitted on this thread, whatever the configuration, so that family tests can
/// check which events a command emits (`TestClient` runs commands on the test's thread).
#[cfg(test)]
pub(crate) mod test_log {
    use std::cell::RefCell;

    use crate::effects::Event;

    thread_local! {
        static EVENTS: RefCell<Vec<String>> = const { RefCell::new(Vec::new()) };
    }

    pub(super) fn record(class: Event, event: &str, key: &[u8]) {
        let line = format!(
            "{}:{event}:{}",
            class.letter(),
            String::from_utf8_lossy(key)
        );
        EVENTS.with(|e| e.borrow_mut().push(line));
    }

    /// The events emitted since the last call, as `"<class letter>:<event>:<key>"`.
    pub(crate) fn take() -> Vec<String> {
        EVENTS.with(|e| std::mem::take(&mut *e.borrow_mut()))
    }
}
