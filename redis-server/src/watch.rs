//! WATCH: which clients watch which keys, and marking them when a key they watch is modified,
//! so that their EXEC fails.
//!
//! Redis's subtlety about stale keys is kept: a key that was already logically expired when
//! watched does not fail the EXEC when its expiry deletes it (no logical change), but a key
//! that expires after WATCH does.

use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering::Relaxed};
use std::sync::{Arc, Mutex, PoisonError};

/// A client's side of WATCH, shared with whoever modifies a key it watches.
#[derive(Debug, Default)]
pub(crate) struct WatchState {
    /// A watched key was modified since WATCH: the next EXEC fails.
    pub dirty: AtomicBool,
}

/// One client watching one key.
#[derive(Debug)]
pub(crate) struct Watcher {
    pub client: Arc<WatchState>,
    /// The key was logically expired (but still stored) when watched.
    pub expired_at_watch: AtomicBool,
}

/// A key a client watches, as the client keeps it (to unwatch, and for EXEC's expiry check).
#[derive(Debug)]
pub(crate) struct WatchedKey {
    pub db: usize,
    pub key: Box<[u8]>,
    pub watcher: Arc<Watcher>,
}

/// How a key changed, for [`Watches::touch`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Touch {
    /// A command modified it.
    Modified,
    /// Its expiry deleted it.
    ExpiredDeleted,
}

/// Database to watched key to its watchers: keyed per database so that a write looks its
/// key up by reference, without building an owned key.
type KeyMap = HashMap<usize, HashMap<Box<[u8]>, Vec<Arc<Watcher>>>>;

/// Every watched key of every database, and who watches it.
#[derive(Default)]
pub(crate) struct Watches {
    /// Number of (client, key) registrations, so writes skip the lock when nobody watches.
    registrations: AtomicUsize,
    keys: Mutex<KeyMap>,
}

impl Watches {
    fn keys(&self) -> std::sync::MutexGuard<'_, KeyMap> {
        self.keys.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// True when some client watches some key.
    pub(crate) fn active(&self) -> bool {
        self.registrations.load(Relaxed) > 0
    }

    /// Registers `client` as watching `key` of `db`; `None` when it already does.
    pub(crate) fn watch(
        &self,
        db: usize,
        key: &[u8],
        client: &Arc<WatchState>,
        expired: bool,
    ) -> Option<WatchedKey> {
        let mut keys = self.keys();
        let watchers = keys.entry(db).or_default().entry(key.into()).or_default();
        if watchers.iter().any(|w| Arc::ptr_eq(&w.client, client)) {
            return None;
        }
        let watcher = Arc::new(Watcher {
            client: client.clone(),
            expired_at_watch: AtomicBool::new(expired),
        });
        watchers.push(watcher.clone());
        self.registrations.fetch_add(1, Relaxed);
        Some(WatchedKey {
            db,
            key: key.into(),
            watcher,
        })
    }

    /// Removes every registration in `watched`.
    pub(crate) fn unwatch(&self, watched: &[WatchedKey]) {
        if watched.is_empty() {
            return;
        }
        let mut map = self.keys();
        for w in watched {
            let Some(db_keys) = map.get_mut(&w.db) else {
                continue;
            };
            let Some(watchers) = db_keys.get_mut(&w.key) else {
                continue;
            };
            let before = watchers.len();
            watchers.retain(|x| !Arc::ptr_eq(x, &w.watcher));
            self.registrations
                .fetch_sub(before - watchers.len(), Relaxed);
            if watchers.is_empty() {
                db_keys.remove(&w.key);
            }
        }
    }

    /// `key` of `db` changed: every client watching it fails its EXEC.
    pub(crate) fn touch(&self, db: usize, key: &[u8], how: Touch) {
        if !self.active() {
            return;
        }
        let map = self.keys();
        let Some(watchers) = map.get(&db).and_then(|keys| keys.get(key)) else {
            return;
        };
        for w in watchers {
            if how == Touch::ExpiredDeleted && w.expired_at_watch.swap(false, Relaxed) {
                // It was stale already when watched: deleting it changes nothing logically.
                continue;
            }
            w.expired_at_watch.store(false, Relaxed);
            w.client.dirty.store(true, Relaxed);
        }
    }

    /// Touches the watched keys of a database whose contents are replaced (FLUSHDB, FLUSHALL,
    /// SWAPDB). `state(key)` says whether the key was stored there before (expired or not)
    /// and what is stored there after: `None`, or `Some(expired)`.
    pub(crate) fn touch_db(&self, db: usize, mut state: impl FnMut(&[u8]) -> (bool, Option<bool>)) {
        if !self.active() {
            return;
        }
        let map = self.keys();
        let Some(db_keys) = map.get(&db) else {
            return;
        };
        for (key, watchers) in db_keys {
            let (existed, now) = state(key);
            if !existed && now.is_none() {
                continue;
            }
            for w in watchers {
                if w.expired_at_watch.load(Relaxed) {
                    match now {
                        // The stale key is gone: no logical change.
                        None => {
                            w.expired_at_watch.store(false, Relaxed);
                            continue;
                        }
                        // Replaced by another stale key: still no logical change.
                        Some(true) => continue,
                        Some(false) => {}
                    }
                } else if !existed && now == Some(true) {
                    // Nothing replaced with something already expired: as good as nothing.
                    w.expired_at_watch.store(true, Relaxed);
                    continue;
                }
                w.client.dirty.store(true, Relaxed);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn touching_a_watched_key_marks_only_its_watchers() {
        let watches = Watches::default();
        let a = Arc::new(WatchState::default());
        let b = Arc::new(WatchState::default());
        let wa = watches.watch(0, b"k", &a, false).unwrap();
        assert!(watches.watch(0, b"k", &a, false).is_none());
        let wb = watches.watch(1, b"k", &b, false).unwrap();
        watches.touch(0, b"k", Touch::Modified);
        assert!(a.dirty.load(Relaxed));
        assert!(!b.dirty.load(Relaxed));
        watches.unwatch(&[wb]);
        watches.touch(1, b"k", Touch::Modified);
        assert!(!b.dirty.load(Relaxed));
        watches.unwatch(&[wa]);
        assert!(!watches.active());
    }

    #[test]
    fn a_key_stale_at_watch_time_may_expire_without_failing_exec() {
        let watches = Watches::default();
        let a = Arc::new(WatchState::default());
        let _w = watches.watch(0, b"k", &a, true).unwrap();
        watches.touch(0, b"k", Touch::ExpiredDeleted);
        assert!(!a.dirty.load(Relaxed));
        watches.touch(0, b"k", Touch::Modified);
        assert!(a.dirty.load(Relaxed));
    }
}
