//! Group `stream`: commands on streams and their consumer groups.

use super::spec::{
    AclCategory as A, BeginSearch, CommandSpec, FindKeys, Flag as F, Group, KeyFlag as K, KeySpec,
};
use super::{base, key_range};

const BASE: CommandSpec = base(Group::Stream);

const RO_ACCESS: &[KeySpec] = &[key_range(&[K::Ro, K::Access], 1, 0, 1, 0)];
const RW_UPDATE: &[KeySpec] = &[key_range(&[K::Rw, K::Update], 1, 0, 1, 0)];
const RW_DELETE: &[KeySpec] = &[key_range(&[K::Rw, K::Delete], 1, 0, 1, 0)];
const WRITE_FAST: &[A] = &[A::Write, A::Stream, A::Fast];
const READ_SLOW: &[A] = &[A::Read, A::Stream, A::Slow];
const NONDETERMINISTIC: &[&str] = &["nondeterministic_output"];
const RANGE_COMPLEXITY: &str = "O(N) with N being the number of elements being returned. If N is constant (e.g. always asking for the first 10 elements with COUNT), you can consider it O(1).";

/// The keys after `STREAMS`, half of what follows (the other half are IDs).
const fn after_streams(start_from: i32) -> KeySpec {
    KeySpec {
        notes: None,
        flags: &[K::Ro, K::Access],
        begin_search: BeginSearch::Keyword {
            keyword: "STREAMS",
            start_from,
        },
        find_keys: FindKeys::Range {
            last_key: -1,
            key_step: 1,
            limit: 2,
        },
    }
}

/// Every top-level command of the group.
pub(super) static COMMANDS: &[CommandSpec] = &[
    CommandSpec {
        name: "xack",
        arity: -4,
        flags: &[F::Write, F::Fast],
        acl_categories: WRITE_FAST,
        key_specs: RW_UPDATE,
        since: "5.0.0",
        complexity: "O(1) for each message ID processed.",
        summary: "Acknowledge pending entries of a consumer group, removing them from its pending list",
        ..BASE
    },
    CommandSpec {
        name: "xadd",
        arity: -5,
        flags: &[F::Write, F::Denyoom, F::Fast],
        acl_categories: WRITE_FAST,
        key_specs: &[KeySpec {
            notes: Some("UPDATE instead of INSERT because of the optional trimming feature"),
            ..key_range(&[K::Rw, K::Update], 1, 0, 1, 0)
        }],
        tips: NONDETERMINISTIC,
        since: "5.0.0",
        complexity: "O(1) when adding a new entry, O(N) when trimming where N being the number of entries evicted.",
        summary: "Append an entry to a stream, optionally trimming it",
        ..BASE
    },
    CommandSpec {
        name: "xautoclaim",
        arity: -6,
        flags: &[F::Write, F::Fast],
        acl_categories: WRITE_FAST,
        key_specs: RW_DELETE,
        tips: NONDETERMINISTIC,
        since: "6.2.0",
        complexity: "O(1) if COUNT is small.",
        summary: "Take over pending entries idle long enough, scanning a consumer group's pending list from a cursor",
        ..BASE
    },
    CommandSpec {
        name: "xclaim",
        arity: -6,
        flags: &[F::Write, F::Fast],
        acl_categories: WRITE_FAST,
        key_specs: RW_UPDATE,
        tips: NONDETERMINISTIC,
        since: "5.0.0",
        complexity: "O(log N) with N being the number of messages in the PEL of the consumer group.",
        summary: "Take over the given pending entries of a consumer group for another consumer",
        ..BASE
    },
    CommandSpec {
        name: "xdel",
        arity: -3,
        flags: &[F::Write, F::Fast],
        acl_categories: WRITE_FAST,
        key_specs: RW_DELETE,
        since: "5.0.0",
        complexity: "O(1) for each single item to delete in the stream, regardless of the stream size.",
        summary: "Delete entries from a stream by ID",
        ..BASE
    },
    CommandSpec {
        name: "xgroup",
        arity: -2,
        acl_categories: &[A::Slow],
        since: "5.0.0",
        complexity: "Depends on subcommand.",
        summary: "Manage the consumer groups of a stream",
        ..BASE
    },
    CommandSpec {
        name: "xinfo",
        arity: -2,
        acl_categories: &[A::Slow],
        since: "5.0.0",
        complexity: "Depends on subcommand.",
        summary: "Inspect a stream, its consumer groups and their consumers",
        ..BASE
    },
    CommandSpec {
        name: "xlen",
        arity: 2,
        flags: &[F::Readonly, F::Fast],
        acl_categories: &[A::Read, A::Stream, A::Fast],
        key_specs: &[key_range(&[K::Ro], 1, 0, 1, 0)],
        since: "5.0.0",
        complexity: "O(1)",
        summary: "Count the entries of a stream",
        ..BASE
    },
    CommandSpec {
        name: "xpending",
        arity: -3,
        flags: &[F::Readonly],
        acl_categories: READ_SLOW,
        key_specs: RO_ACCESS,
        tips: NONDETERMINISTIC,
        since: "5.0.0",
        complexity: "O(N) with N being the number of elements returned, so asking for a small fixed number of entries per call is O(1). O(M), where M is the total number of entries scanned when used with the IDLE filter. When the command returns just the summary and the list of consumers is small, it runs in O(1) time; otherwise, an additional O(N) time for iterating every consumer.",
        summary: "Summarize or list the pending entries of a consumer group",
        ..BASE
    },
    CommandSpec {
        name: "xrange",
        arity: -4,
        flags: &[F::Readonly],
        acl_categories: READ_SLOW,
        key_specs: RO_ACCESS,
        since: "5.0.0",
        complexity: RANGE_COMPLEXITY,
        summary: "List the entries of a stream within an ID interval, oldest first",
        ..BASE
    },
    CommandSpec {
        name: "xread",
        arity: -4,
        flags: &[F::Readonly, F::Blocking],
        acl_categories: &[A::Read, A::Stream, A::Slow, A::Blocking],
        key_specs: &[after_streams(1)],
        since: "5.0.0",
        complexity: "For each stream mentioned: O(N) with N being the number of elements being returned, it means that XREAD-ing with a fixed COUNT is O(1). Note that when the BLOCK option is used, XADD will pay O(M) time in order to serve the M clients blocked on the stream getting new data.",
        summary: "Read entries newer than given IDs from streams, optionally waiting for some",
        ..BASE
    },
    CommandSpec {
        name: "xreadgroup",
        arity: -7,
        flags: &[F::Write, F::Blocking],
        acl_categories: &[A::Write, A::Stream, A::Slow, A::Blocking],
        key_specs: &[after_streams(4)],
        since: "5.0.0",
        complexity: "For each stream mentioned: O(M) with M being the number of elements returned. If M is constant (e.g. always asking for the first 10 elements with COUNT), you can consider it O(1). On the other side when XREADGROUP blocks, XADD will pay the O(N) time in order to serve the N clients blocked on the stream getting new data.",
        summary: "Read entries for a consumer of a group (new ones or its pending history), optionally waiting",
        ..BASE
    },
    CommandSpec {
        name: "xrevrange",
        arity: -4,
        flags: &[F::Readonly],
        acl_categories: READ_SLOW,
        key_specs: RO_ACCESS,
        since: "5.0.0",
        complexity: "O(N) with N being the number of elements returned. If N is constant (e.g. always asking for the first 10 elements with COUNT), you can consider it O(1).",
        summary: "List the entries of a stream within an ID interval, newest first",
        ..BASE
    },
    CommandSpec {
        name: "xsetid",
        arity: -3,
        flags: &[F::Write, F::Denyoom, F::Fast],
        acl_categories: WRITE_FAST,
        key_specs: RW_UPDATE,
        since: "5.0.0",
        complexity: "O(1)",
        summary: "Set a stream's last ID and counters (used for replication)",
        ..BASE
    },
    CommandSpec {
        name: "xtrim",
        arity: -4,
        flags: &[F::Write],
        acl_categories: &[A::Write, A::Stream, A::Slow],
        key_specs: RW_DELETE,
        tips: NONDETERMINISTIC,
        since: "5.0.0",
        complexity: "O(N), with N being the number of evicted entries. Constant times are very small however, since entries are organized in macro nodes containing multiple entries that can be released with a single deallocation.",
        summary: "Remove the oldest entries of a stream, by count or minimal ID",
        ..BASE
    },
];

const XGROUP_SUB: CommandSpec = CommandSpec {
    container: Some("xgroup"),
    since: "5.0.0",
    complexity: "O(1)",
    ..BASE
};

const fn group_key(flags: &'static [K]) -> KeySpec {
    key_range(flags, 2, 0, 1, 0)
}

/// The subcommands of XGROUP.
pub(super) static XGROUP: &[CommandSpec] = &[
    CommandSpec {
        name: "create",
        arity: -5,
        flags: &[F::Write, F::Denyoom],
        acl_categories: &[A::Write, A::Stream, A::Slow],
        key_specs: &[group_key(&[K::Rw, K::Insert])],
        summary: "Create a consumer group on a stream",
        ..XGROUP_SUB
    },
    CommandSpec {
        name: "createconsumer",
        arity: 5,
        flags: &[F::Write, F::Denyoom],
        acl_categories: &[A::Write, A::Stream, A::Slow],
        key_specs: &[group_key(&[K::Rw, K::Insert])],
        since: "6.2.0",
        summary: "Add a consumer to a consumer group",
        ..XGROUP_SUB
    },
    CommandSpec {
        name: "delconsumer",
        arity: 5,
        flags: &[F::Write],
        acl_categories: &[A::Write, A::Stream, A::Slow],
        key_specs: &[group_key(&[K::Rw, K::Delete])],
        summary: "Remove a consumer from a consumer group",
        ..XGROUP_SUB
    },
    CommandSpec {
        name: "destroy",
        arity: 4,
        flags: &[F::Write],
        acl_categories: &[A::Write, A::Stream, A::Slow],
        key_specs: &[group_key(&[K::Rw, K::Delete])],
        complexity: "O(N) where N is the number of entries in the group's pending entries list (PEL).",
        summary: "Delete a consumer group",
        ..XGROUP_SUB
    },
    CommandSpec {
        name: "help",
        arity: 2,
        flags: &[F::Loading, F::Stale],
        acl_categories: &[A::Stream, A::Slow],
        summary: "Explain the XGROUP subcommands",
        ..XGROUP_SUB
    },
    CommandSpec {
        name: "setid",
        arity: -5,
        flags: &[F::Write],
        acl_categories: &[A::Write, A::Stream, A::Slow],
        key_specs: &[group_key(&[K::Rw, K::Update])],
        summary: "Move a consumer group's last delivered ID",
        ..XGROUP_SUB
    },
];

const XINFO_SUB: CommandSpec = CommandSpec {
    container: Some("xinfo"),
    flags: &[F::Readonly],
    acl_categories: READ_SLOW,
    key_specs: &[key_range(&[K::Ro, K::Access], 2, 0, 1, 0)],
    since: "5.0.0",
    complexity: "O(1)",
    ..BASE
};

/// The subcommands of XINFO.
pub(super) static XINFO: &[CommandSpec] = &[
    CommandSpec {
        name: "consumers",
        arity: 4,
        tips: NONDETERMINISTIC,
        summary: "List the consumers of a consumer group",
        ..XINFO_SUB
    },
    CommandSpec {
        name: "groups",
        arity: 3,
        summary: "List the consumer groups of a stream",
        ..XINFO_SUB
    },
    CommandSpec {
        name: "help",
        arity: 2,
        flags: &[F::Loading, F::Stale],
        acl_categories: &[A::Stream, A::Slow],
        key_specs: &[],
        summary: "Explain the XINFO subcommands",
        ..XINFO_SUB
    },
    CommandSpec {
        name: "stream",
        arity: -3,
        summary: "Describe a stream, optionally in full with its groups and consumers",
        ..XINFO_SUB
    },
];
