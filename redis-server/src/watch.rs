//! WATCH: which clients watch which keys, and marking them when a key they watch is modified,
//! so that their EXEC fails.

use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering::Relaxed};
use std::sync::{Arc, Mutex, PoisonError};

/// A client's side of WATCH, shared with whoever modifies a key it watches.
#[derive(Debug, Default)]
pub(crate) struct WatchState {
    /// A watched key was modified since WATCH: the next EXEC fails.
    pub dirty: AtomicBool,
}

/// Every watched key of every database, and who watches it.
#[derive(Default)]
pub(crate) struct Watches {
    /// Number of (client, key) registrations, so writes skip the lock when nobody watches.
    registrations: AtomicUsize,
    keys: Mutex<HashMap<(usize, Box<[u8]>), Vec<Arc<WatchState>>>>,
}

impl Watches {
    fn keys(&self) -> std::sync::MutexGuard<'_, HashMap<(usize, Box<[u8]>), Vec<Arc<WatchState>>>> {
        self.keys.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Registers `state` as watching `key` of `db`; false when it already did.
    pub(crate) fn watch(&self, db: usize, key: &[u8], state: &Arc<WatchState>) -> bool {
        let mut keys = self.keys();
        let watchers = keys.entry((db, key.into())).or_default();
        if watchers.iter().any(|w| Arc::ptr_eq(w, state)) {
            return false;
        }
        watchers.push(state.clone());
        self.registrations.fetch_add(1, Relaxed);
        true
    }

    /// Removes `state` from the watchers of each of `keys`.
    pub(crate) fn unwatch(&self, keys: &[(usize, Box<[u8]>)], state: &Arc<WatchState>) {
        if keys.is_empty() {
            return;
        }
        let mut map = self.keys();
        for key in keys {
            let Some(watchers) = map.get_mut(key) else {
                continue;
            };
            let before = watchers.len();
            watchers.retain(|w| !Arc::ptr_eq(w, state));
            self.registrations
                .fetch_sub(before - watchers.len(), Relaxed);
            if watchers.is_empty() {
                map.remove(key);
            }
        }
    }

    /// `key` of `db` was modified: every client watching it fails its EXEC.
    pub(crate) fn touch(&self, db: usize, key: &[u8]) {
        if self.registrations.load(Relaxed) == 0 {
            return;
        }
        // The map is keyed by owned keys; building one costs an allocation, paid only while
        // somebody watches something.
        let map = self.keys();
        if let Some(watchers) = map.get(&(db, Box::<[u8]>::from(key))) {
            for w in watchers {
                w.dirty.store(true, Relaxed);
            }
        }
    }

    /// Touches every watched key of `db` for which `affected(key)` holds (FLUSHDB, FLUSHALL,
    /// SWAPDB: Redis touches only keys that existed, or exist after the swap).
    pub(crate) fn touch_db(&self, db: usize, mut affected: impl FnMut(&[u8]) -> bool) {
        if self.registrations.load(Relaxed) == 0 {
            return;
        }
        let map = self.keys();
        for ((key_db, key), watchers) in map.iter() {
            if *key_db == db && affected(key) {
                for w in watchers {
                    w.dirty.store(true, Relaxed);
                }
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
        assert!(watches.watch(0, b"k", &a));
        assert!(!watches.watch(0, b"k", &a));
        assert!(watches.watch(1, b"k", &b));
        watches.touch(0, b"k");
        assert!(a.dirty.load(Relaxed));
        assert!(!b.dirty.load(Relaxed));
        watches.unwatch(&[(1, b"k".as_slice().into())], &b);
        watches.touch(1, b"k");
        assert!(!b.dirty.load(Relaxed));
    }
}
