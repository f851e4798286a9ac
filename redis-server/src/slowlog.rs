//! The slow log: commands that ran longer than `slowlog-log-slower-than`.

use std::collections::VecDeque;
use std::sync::atomic::{AtomicU64, Ordering::Relaxed};
use std::sync::{Mutex, PoisonError};

/// Redis truncates logged commands to 32 arguments and each argument to 128 bytes.
const MAX_ARGS: usize = 32;
const MAX_ARG_LEN: usize = 128;

/// One logged command.
#[derive(Debug, Clone)]
pub(crate) struct SlowLogEntry {
    pub id: u64,
    pub unix_time: i64,
    pub duration_us: u64,
    pub args: Vec<Vec<u8>>,
    pub client_addr: String,
    pub client_name: String,
}

#[derive(Default)]
pub(crate) struct SlowLog {
    entries: Mutex<VecDeque<SlowLogEntry>>,
    next_id: AtomicU64,
}

impl SlowLog {
    /// Records a command, keeping at most `max_len` entries (newest first).
    pub(crate) fn push<'a>(
        &self,
        args: impl ExactSizeIterator<Item = &'a [u8]>,
        duration_us: u64,
        unix_time: i64,
        client_addr: String,
        client_name: String,
        max_len: usize,
    ) {
        let argc = args.len();
        let mut logged: Vec<Vec<u8>> = Vec::with_capacity(argc.min(MAX_ARGS));
        for (i, arg) in args.enumerate() {
            if argc > MAX_ARGS && i == MAX_ARGS - 1 {
                logged.push(format!("... ({} more arguments)", argc - MAX_ARGS + 1).into_bytes());
                break;
            }
            if arg.len() > MAX_ARG_LEN {
                let mut a = arg[..MAX_ARG_LEN].to_vec();
                a.extend_from_slice(
                    format!("... ({} more bytes)", arg.len() - MAX_ARG_LEN).as_bytes(),
                );
                logged.push(a);
            } else {
                logged.push(arg.to_vec());
            }
        }
        let entry = SlowLogEntry {
            id: self.next_id.fetch_add(1, Relaxed),
            unix_time,
            duration_us,
            args: logged,
            client_addr,
            client_name,
        };
        let mut entries = self.entries.lock().unwrap_or_else(PoisonError::into_inner);
        entries.push_front(entry);
        entries.truncate(max_len);
    }

    /// The newest `count` entries (all when `None`).
    pub(crate) fn newest(&self, count: Option<usize>) -> Vec<SlowLogEntry> {
        let entries = self.entries.lock().unwrap_or_else(PoisonError::into_inner);
        entries
            .iter()
            .take(count.unwrap_or(usize::MAX))
            .cloned()
            .collect()
    }

    pub(crate) fn len(&self) -> usize {
        self.entries
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .len()
    }

    pub(crate) fn reset(&self) {
        self.entries
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .clear();
    }

    /// Applies a lowered `slowlog-max-len`.
    pub(crate) fn truncate(&self, max_len: usize) {
        self.entries
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .truncate(max_len);
    }
}
