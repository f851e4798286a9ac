//! Client eviction (`maxmemory-clients`): when the clients together use more memory than the
//! limit, the ones using the most are closed until the rest fit, as Redis 7.0 does.
//!
//! A client's memory is what Redis's `getClientMemoryUsage` counts: its query buffer, its
//! pending output, the command being run, its MULTI queue and WATCHed keys, its subscriptions
//! and tracking prefixes, plus a fixed per-client overhead ([`BASE_MEMORY`]). Each client
//! keeps its figure in [`ClientInfo`]; the server keeps the sum, so the check after every read
//! costs one comparison.

use std::sync::atomic::Ordering::Relaxed;

use super::client::{Client, ClientInfo, ClientKind};
use crate::server::Server;

/// What an idle client costs: Redis's client struct and its 16 KB reply buffer, as its
/// `CLIENT LIST` `tot-mem` shows for an idle connection.
pub(crate) const BASE_MEMORY: usize = 1800;

/// Redis never evicts down to less than this, so a misconfiguration cannot lock everyone out.
const MIN_LIMIT: u64 = 128 * 1024;

// Sizes of Redis's per-client bookkeeping on 64-bit builds.
const LIST_NODE: usize = 24;
const WATCHED_KEY: usize = 32;
const MULTI_CMD: usize = 32;
const DICT_ENTRY: usize = 24;
const POINTER: usize = 8;
/// `sizeof(raxNode) * sizeof(raxNode*)`, Redis's (under)estimate per tracking-prefix node.
const RAX_NODE: usize = 4 * 8;

/// The bytes `maxmemory-clients` allows (0: no limit), from its value (`-N` for `N%` of
/// `maxmemory`) and `maxmemory`.
pub(crate) fn limit(maxmemory_clients: i64, maxmemory: u64) -> u64 {
    let bytes = if maxmemory_clients < 0 && maxmemory > 0 {
        (maxmemory as f64 * -(maxmemory_clients as f64) / 100.0) as u64
    } else if maxmemory_clients > 0 {
        maxmemory_clients as u64
    } else {
        return 0;
    };
    bytes.max(MIN_LIMIT)
}

/// The memory a client's own state holds beyond its buffers: MULTI queue, WATCHed keys,
/// subscriptions, tracking prefixes.
pub(crate) fn state_memory(client: &Client) -> usize {
    let mut mem = client.watched.len() * (LIST_NODE + WATCHED_KEY);
    if let Some(multi) = &client.multi {
        let queued: usize = multi
            .queued
            .iter()
            .map(|c| c.args().iter().map(<[u8]>::len).sum::<usize>())
            .sum();
        mem += queued + multi.queued.capacity() * MULTI_CMD;
    }
    if let Some(subs) = &client.subscriptions {
        mem += subs.patterns.len() * LIST_NODE;
        for set in [&subs.channels, &subs.shard_channels] {
            mem += set.len() * DICT_ENTRY + set.capacity().next_power_of_two() * POINTER;
        }
    }
    if let Some(prefixes) = &client.tracking_prefixes {
        // A rax holds about two nodes per key (the key's node and a split).
        mem += prefixes.len() * 2 * RAX_NODE;
    }
    mem
}

/// Records `client`'s current memory, then evicts clients if the total is over the limit.
/// Returns false when `client` itself was evicted.
pub(crate) fn update(server: &Server, client: &Client) -> bool {
    client
        .info
        .state_memory
        .store(state_memory(client), Relaxed);
    // Without a limit the total is not kept up to date: CONFIG SET, which sets one, counts
    // every client afresh.
    if server.hot.client_eviction_limit.load(Relaxed) == 0 {
        return true;
    }
    refresh(server, &client.info);
    evict_if_needed(server);
    !client.info.is_killed()
}

/// Brings the server's total in step with `info`'s current memory.
pub(crate) fn refresh(server: &Server, info: &ClientInfo) {
    if server.hot.client_eviction_limit.load(Relaxed) == 0 {
        return;
    }
    if info.is_killed() {
        forget(server, info);
        return;
    }
    let now = info.memory();
    let before = info.accounted_memory.swap(now, Relaxed);
    if now >= before {
        server.clients_memory.fetch_add(now - before, Relaxed);
    } else {
        server.clients_memory.fetch_sub(before - now, Relaxed);
    }
}

/// Takes a closed client out of the total.
pub(crate) fn forget(server: &Server, info: &ClientInfo) {
    let before = info.accounted_memory.swap(0, Relaxed);
    server.clients_memory.fetch_sub(before, Relaxed);
}

/// Recounts every client (when a limit is set or changed) and evicts as needed.
pub(crate) fn recount_and_evict(server: &Server) {
    for info in server.client_list() {
        refresh(server, &info);
    }
    evict(server);
}

/// Evicts if the clients' total is at or over the limit (cheap when it is not).
pub(crate) fn evict_if_needed(server: &Server) {
    let limit = server.hot.client_eviction_limit.load(Relaxed);
    if limit > 0 && server.clients_memory.load(Relaxed) as u64 >= limit {
        evict(server);
    }
}

/// Closes the evictable clients using the most memory until the normal and pub/sub clients
/// together use less than the limit.
pub(crate) fn evict(server: &Server) {
    let limit = server.hot.client_eviction_limit.load(Relaxed);
    if limit == 0 {
        return;
    }
    let mut total: u64 = 0;
    let mut candidates: Vec<(usize, std::sync::Arc<ClientInfo>)> = Vec::new();
    for info in server.client_list() {
        if info.is_killed() {
            continue;
        }
        let (kind, no_evict) = {
            let d = info.details();
            (d.kind, d.no_evict)
        };
        if !matches!(kind, ClientKind::Normal | ClientKind::Pubsub) {
            continue;
        }
        let mem = info.memory();
        total += mem as u64;
        if !no_evict {
            candidates.push((mem, info));
        }
    }
    candidates.sort_by_key(|c| std::cmp::Reverse(c.0));
    let mut candidates = candidates.into_iter();
    while total >= limit {
        let Some((mem, info)) = candidates.next() else {
            server
                .log
                .warning("Over client maxmemory after evicting all evictable clients");
            break;
        };
        server.log.notice(&format!(
            "Evicting client: {}",
            crate::commands::client_info_line(server, &info)
        ));
        info.request_kill();
        server.stats.evicted_clients.fetch_add(1, Relaxed);
        total -= mem as u64;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn limit_in_bytes_or_percent_with_a_floor() {
        assert_eq!(limit(0, 1 << 30), 0);
        assert_eq!(limit(3_000_000, 0), 3_000_000);
        assert_eq!(limit(1000, 0), MIN_LIMIT);
        assert_eq!(limit(-7, 6 << 20), (6u64 << 20) * 7 / 100);
        // A percentage of no maxmemory is no limit.
        assert_eq!(limit(-7, 0), 0);
    }
}
