//! Lazy freeing: big values (UNLINK, the `lazyfree-lazy-*` options) and flushed databases
//! (FLUSHALL/FLUSHDB ASYNC) are dropped on one background thread, as Redis's lazyfree bio
//! thread does, so that the command's client does not wait for millions of frees.
//!
//! INFO `lazyfree_pending_objects` counts what was handed over and not yet freed;
//! `lazyfreed_objects` what the thread freed (CONFIG RESETSTAT zeroes it).

use std::sync::atomic::{AtomicU64, Ordering::Relaxed};
use std::sync::mpsc::{Sender, channel};
use std::sync::{Arc, Mutex, PoisonError};

use common::keyspace::{Entry, Shard};

/// Something to drop off the command path, and how many objects it counts for.
struct Job {
    garbage: Box<dyn Send>,
    objects: u64,
}

#[derive(Default)]
struct Counts {
    pending: AtomicU64,
    freed: AtomicU64,
}

/// The lazyfree thread (started on first use) and its counters.
#[derive(Default)]
pub(crate) struct LazyFree {
    queue: Mutex<Option<Sender<Job>>>,
    counts: Arc<Counts>,
}

impl LazyFree {
    /// Frees a deleted key's value in the background when it is big enough to be worth it
    /// (Redis's `freeObjAsync`), else here.
    pub(crate) fn free_entry(&self, entry: Entry) {
        if entry.value().is_worth_lazy_free() {
            self.submit(Box::new(entry), 1);
        }
    }

    /// Frees the old contents of flushed databases in the background (Redis's
    /// `emptyDbAsync`), counting one object per key.
    pub(crate) fn free_shards(&self, shards: Vec<Shard>) {
        if shards.is_empty() {
            return;
        }
        let keys = shards.iter().map(|s| s.len() as u64).sum();
        self.submit(Box::new(shards), keys);
    }

    fn submit(&self, garbage: Box<dyn Send>, objects: u64) {
        self.counts.pending.fetch_add(objects, Relaxed);
        let mut queue = self.queue.lock().unwrap_or_else(PoisonError::into_inner);
        if queue.is_none() {
            *queue = self.start();
        }
        let job = Job { garbage, objects };
        let job = match queue.as_ref() {
            Some(tx) => match tx.send(job) {
                Ok(()) => return,
                Err(back) => back.0,
            },
            None => job,
        };
        // No thread (it could not be started): free here, still counted as lazily freed.
        drop(queue);
        finish(&self.counts, job);
    }

    fn start(&self) -> Option<Sender<Job>> {
        let (tx, rx) = channel::<Job>();
        let counts = Arc::clone(&self.counts);
        std::thread::Builder::new()
            .name("lazyfree".into())
            .spawn(move || {
                for job in rx {
                    finish(&counts, job);
                }
            })
            .ok()?;
        Some(tx)
    }

    /// Objects handed over and not freed yet (INFO `lazyfree_pending_objects`).
    pub(crate) fn pending(&self) -> u64 {
        self.counts.pending.load(Relaxed)
    }

    /// Objects freed in the background (INFO `lazyfreed_objects`).
    pub(crate) fn freed(&self) -> u64 {
        self.counts.freed.load(Relaxed)
    }

    /// CONFIG RESETSTAT.
    pub(crate) fn reset_stats(&self) {
        self.counts.freed.store(0, Relaxed);
    }
}

fn finish(counts: &Counts, job: Job) {
    drop(job.garbage);
    counts.pending.fetch_sub(job.objects, Relaxed);
    counts.freed.fetch_add(job.objects, Relaxed);
}

#[cfg(test)]
mod tests {
    use super::*;
    use common::value::Value;

    fn wait_done(lf: &LazyFree) {
        for _ in 0..1000 {
            if lf.pending() == 0 {
                return;
            }
            std::thread::sleep(std::time::Duration::from_millis(1));
        }
        panic!("lazyfree never finished");
    }

    #[test]
    fn small_values_are_freed_here_big_ones_in_the_background() {
        let lf = LazyFree::default();
        lf.free_entry(Entry::string(b"k", b"v", 0));
        assert_eq!((lf.pending(), lf.freed()), (0, 0));
        let mut set = common::value::set::SetValue::for_member(b"member");
        for i in 0..100 {
            set.add(format!("member-{i}").as_bytes(), 0);
        }
        let entry = Entry::collection(b"s", Value::Set(Box::new(set)), 0);
        assert!(entry.value().is_worth_lazy_free());
        lf.free_entry(entry);
        wait_done(&lf);
        assert_eq!(lf.freed(), 1);
        lf.free_shards(Vec::new());
        lf.reset_stats();
        assert_eq!(lf.freed(), 0);
    }
}
