//! Group `generic`: commands on keys of any type (existence, expiry, renaming, iteration).

use super::spec::{
    AclCategory as A, BeginSearch, CommandSpec, FindKeys, Flag as F, Group, KeyFlag as K, KeySpec,
};
use super::{base, key_range};

const BASE: CommandSpec = base(Group::Generic);

const RO: &[KeySpec] = &[key_range(&[K::Ro], 1, 0, 1, 0)];
const RO_ACCESS: &[KeySpec] = &[key_range(&[K::Ro, K::Access], 1, 0, 1, 0)];
const RW_UPDATE: &[KeySpec] = &[key_range(&[K::Rw, K::Update], 1, 0, 1, 0)];
const RM_DELETE_ALL: &[KeySpec] = &[key_range(&[K::Rm, K::Delete], 1, -1, 1, 0)];
const RO_ALL: &[KeySpec] = &[key_range(&[K::Ro], 1, -1, 1, 0)];

/// SORT's own key: always argument 1.
const SORT_KEY: KeySpec = key_range(&[K::Ro, K::Access], 1, 0, 1, 0);

/// The keys BY and GET patterns name, which depend on the sorted elements.
const SORT_PATTERN_KEYS: KeySpec = KeySpec {
    notes: Some(
        "For the optional BY/GET keyword. It is marked 'unknown' because the key names derive from the content of the key we sort",
    ),
    flags: &[K::Ro, K::Access],
    begin_search: BeginSearch::Unknown,
    find_keys: FindKeys::Unknown,
};

/// The STORE destination, which may follow any option.
const SORT_STORE_KEY: KeySpec = KeySpec {
    notes: Some(
        "For the optional STORE keyword. It is marked 'unknown' because the keyword can appear anywhere in the argument array",
    ),
    flags: &[K::Ow, K::Update],
    begin_search: BeginSearch::Unknown,
    find_keys: FindKeys::Unknown,
};

const WRITE_FAST: &[F] = &[F::Write, F::Fast];
const READONLY_FAST: &[F] = &[F::Readonly, F::Fast];
const KEYSPACE_WRITE_FAST: &[A] = &[A::Keyspace, A::Write, A::Fast];
const KEYSPACE_WRITE_SLOW: &[A] = &[A::Keyspace, A::Write, A::Slow];
const KEYSPACE_READ_FAST: &[A] = &[A::Keyspace, A::Read, A::Fast];
const KEYSPACE_READ_SLOW: &[A] = &[A::Keyspace, A::Read, A::Slow];

const MULTI_SHARD_SUM: &[&str] = &["request_policy:multi_shard", "response_policy:agg_sum"];

/// Every top-level command of the group.
pub(super) static COMMANDS: &[CommandSpec] = &[
    CommandSpec {
        name: "copy",
        arity: -3,
        flags: &[F::Write, F::Denyoom],
        acl_categories: KEYSPACE_WRITE_SLOW,
        key_specs: &[
            key_range(&[K::Ro, K::Access], 1, 0, 1, 0),
            key_range(&[K::Ow, K::Update], 2, 0, 1, 0),
        ],
        since: "6.2.0",
        complexity: "O(N) worst case for collections, where N is the number of nested items. O(1) for string values.",
        summary: "Duplicate the value of a key under another name, possibly in another database",
        ..BASE
    },
    CommandSpec {
        name: "del",
        arity: -2,
        flags: &[F::Write],
        acl_categories: KEYSPACE_WRITE_SLOW,
        key_specs: RM_DELETE_ALL,
        tips: MULTI_SHARD_SUM,
        since: "1.0.0",
        complexity: "O(N) where N is the number of keys that will be removed. When a key to remove holds a value other than a string, the individual complexity for this key is O(M) where M is the number of elements in the list, set, sorted set or hash. Removing a single key that holds a string value is O(1).",
        summary: "Remove keys and free their values right away",
        ..BASE
    },
    CommandSpec {
        name: "dump",
        arity: 2,
        flags: &[F::Readonly],
        acl_categories: KEYSPACE_READ_SLOW,
        key_specs: RO_ACCESS,
        tips: &["nondeterministic_output"],
        since: "2.6.0",
        complexity: "O(1) to access the key and additional O(N*M) to serialize it, where N is the number of Redis objects composing the value and M their average size. For small string values the time complexity is thus O(1)+O(1*M) where M is small, so simply O(1).",
        summary: "Serialize a key's value in Redis's RDB format, for RESTORE",
        ..BASE
    },
    CommandSpec {
        name: "exists",
        arity: -2,
        flags: READONLY_FAST,
        acl_categories: KEYSPACE_READ_FAST,
        key_specs: RO_ALL,
        tips: MULTI_SHARD_SUM,
        since: "1.0.0",
        complexity: "O(N) where N is the number of keys to check.",
        summary: "Count how many of the named keys are present",
        ..BASE
    },
    CommandSpec {
        name: "expire",
        arity: -3,
        flags: WRITE_FAST,
        acl_categories: KEYSPACE_WRITE_FAST,
        key_specs: RW_UPDATE,
        since: "1.0.0",
        complexity: "O(1)",
        summary: "Give a key a time to live in seconds",
        ..BASE
    },
    CommandSpec {
        name: "expireat",
        arity: -3,
        flags: WRITE_FAST,
        acl_categories: KEYSPACE_WRITE_FAST,
        key_specs: RW_UPDATE,
        since: "1.2.0",
        complexity: "O(1)",
        summary: "Make a key expire at a Unix time given in seconds",
        ..BASE
    },
    CommandSpec {
        name: "expiretime",
        arity: 2,
        flags: READONLY_FAST,
        acl_categories: KEYSPACE_READ_FAST,
        key_specs: RO_ACCESS,
        since: "7.0.0",
        complexity: "O(1)",
        summary: "Tell the Unix time in seconds at which a key expires",
        ..BASE
    },
    CommandSpec {
        name: "keys",
        arity: 2,
        flags: &[F::Readonly],
        acl_categories: &[A::Keyspace, A::Read, A::Slow, A::Dangerous],
        tips: &["request_policy:all_shards", "nondeterministic_output_order"],
        since: "1.0.0",
        complexity: "O(N) with N being the number of keys in the database, under the assumption that the key names in the database and the given pattern have limited length.",
        summary: "List every key name that matches a glob pattern",
        ..BASE
    },
    CommandSpec {
        name: "move",
        arity: 3,
        flags: WRITE_FAST,
        acl_categories: KEYSPACE_WRITE_FAST,
        key_specs: &[key_range(&[K::Rw, K::Access, K::Update], 1, 0, 1, 0)],
        since: "1.0.0",
        complexity: "O(1)",
        summary: "Transfer a key to another database of this server",
        ..BASE
    },
    CommandSpec {
        name: "object",
        arity: -2,
        acl_categories: &[A::Slow],
        since: "2.2.3",
        complexity: "Depends on subcommand.",
        summary: "Look inside the value of a key (encoding, idle time, references)",
        ..BASE
    },
    CommandSpec {
        name: "persist",
        arity: 2,
        flags: WRITE_FAST,
        acl_categories: KEYSPACE_WRITE_FAST,
        key_specs: RW_UPDATE,
        since: "2.2.0",
        complexity: "O(1)",
        summary: "Clear the time to live of a key so it never expires",
        ..BASE
    },
    CommandSpec {
        name: "pexpire",
        arity: -3,
        flags: WRITE_FAST,
        acl_categories: KEYSPACE_WRITE_FAST,
        key_specs: RW_UPDATE,
        since: "2.6.0",
        complexity: "O(1)",
        summary: "Give a key a time to live in milliseconds",
        ..BASE
    },
    CommandSpec {
        name: "pexpireat",
        arity: -3,
        flags: WRITE_FAST,
        acl_categories: KEYSPACE_WRITE_FAST,
        key_specs: RW_UPDATE,
        since: "2.6.0",
        complexity: "O(1)",
        summary: "Make a key expire at a Unix time given in milliseconds",
        ..BASE
    },
    CommandSpec {
        name: "pexpiretime",
        arity: 2,
        flags: READONLY_FAST,
        acl_categories: KEYSPACE_READ_FAST,
        key_specs: RO_ACCESS,
        since: "7.0.0",
        complexity: "O(1)",
        summary: "Tell the Unix time in milliseconds at which a key expires",
        ..BASE
    },
    CommandSpec {
        name: "pttl",
        arity: 2,
        flags: READONLY_FAST,
        acl_categories: KEYSPACE_READ_FAST,
        key_specs: RO_ACCESS,
        tips: &["nondeterministic_output"],
        since: "2.6.0",
        complexity: "O(1)",
        summary: "Tell how many milliseconds a key has left to live",
        ..BASE
    },
    CommandSpec {
        name: "randomkey",
        arity: 1,
        flags: &[F::Readonly, F::TouchesArbitraryKeys],
        acl_categories: KEYSPACE_READ_SLOW,
        tips: &["request_policy:all_shards", "nondeterministic_output"],
        since: "1.0.0",
        complexity: "O(1)",
        summary: "Pick the name of some key of the database at random",
        ..BASE
    },
    CommandSpec {
        name: "rename",
        arity: 3,
        flags: &[F::Write],
        acl_categories: KEYSPACE_WRITE_SLOW,
        key_specs: &[
            key_range(&[K::Rw, K::Access, K::Delete], 1, 0, 1, 0),
            key_range(&[K::Ow, K::Update], 2, 0, 1, 0),
        ],
        since: "1.0.0",
        complexity: "O(1)",
        summary: "Give a key a new name, replacing any key already called that",
        ..BASE
    },
    CommandSpec {
        name: "renamenx",
        arity: 3,
        flags: WRITE_FAST,
        acl_categories: KEYSPACE_WRITE_FAST,
        key_specs: &[
            key_range(&[K::Rw, K::Access, K::Delete], 1, 0, 1, 0),
            key_range(&[K::Ow, K::Insert], 2, 0, 1, 0),
        ],
        since: "1.0.0",
        complexity: "O(1)",
        summary: "Give a key a new name only when that name is still free",
        ..BASE
    },
    CommandSpec {
        name: "restore",
        arity: -4,
        flags: &[F::Write, F::Denyoom],
        acl_categories: &[A::Keyspace, A::Write, A::Slow, A::Dangerous],
        key_specs: &[key_range(&[K::Ow, K::Update], 1, 0, 1, 0)],
        since: "2.6.0",
        complexity: "O(1) to create the new key and additional O(N*M) to reconstruct the serialized value, where N is the number of Redis objects composing the value and M their average size. For small string values the time complexity is thus O(1)+O(1*M) where M is small, so simply O(1). However for sorted set values the complexity is O(N*M*log(N)) because inserting values into sorted sets is O(log(N)).",
        summary: "Create a key from a DUMP payload",
        ..BASE
    },
    CommandSpec {
        name: "scan",
        arity: -2,
        flags: &[F::Readonly, F::TouchesArbitraryKeys],
        acl_categories: KEYSPACE_READ_SLOW,
        tips: &["nondeterministic_output", "request_policy:special"],
        since: "2.8.0",
        complexity: "O(1) for every call. O(N) for a complete iteration, including enough command calls for the cursor to return back to 0. N is the number of elements inside the collection.",
        summary: "Walk the key names of the database a batch at a time with a cursor",
        ..BASE
    },
    CommandSpec {
        name: "sort",
        arity: -2,
        flags: &[F::Write, F::Denyoom],
        acl_categories: &[
            A::Write,
            A::Set,
            A::SortedSet,
            A::List,
            A::Slow,
            A::Dangerous,
        ],
        key_specs: &[SORT_KEY, SORT_PATTERN_KEYS, SORT_STORE_KEY],
        since: "1.0.0",
        complexity: "O(N+M*log(M)) where N is the number of elements in the list or set to sort, and M the number of returned elements. When the elements are not sorted, complexity is O(N).",
        summary: "Order the elements of a list, set or sorted set, optionally by other keys, and return or store them",
        ..BASE
    },
    CommandSpec {
        name: "sort_ro",
        arity: -2,
        flags: &[F::Readonly],
        acl_categories: &[
            A::Read,
            A::Set,
            A::SortedSet,
            A::List,
            A::Slow,
            A::Dangerous,
        ],
        key_specs: &[SORT_KEY, SORT_PATTERN_KEYS],
        since: "7.0.0",
        complexity: "O(N+M*log(M)) where N is the number of elements in the list or set to sort, and M the number of returned elements. When the elements are not sorted, complexity is O(N).",
        summary: "Order the elements of a list, set or sorted set without the option to store them",
        ..BASE
    },
    CommandSpec {
        name: "touch",
        arity: -2,
        flags: READONLY_FAST,
        acl_categories: KEYSPACE_READ_FAST,
        key_specs: RO_ALL,
        tips: MULTI_SHARD_SUM,
        since: "3.2.1",
        complexity: "O(N) where N is the number of keys that will be touched.",
        summary: "Mark keys as just used and count those present",
        ..BASE
    },
    CommandSpec {
        name: "ttl",
        arity: 2,
        flags: READONLY_FAST,
        acl_categories: KEYSPACE_READ_FAST,
        key_specs: RO_ACCESS,
        tips: &["nondeterministic_output"],
        since: "1.0.0",
        complexity: "O(1)",
        summary: "Tell how many seconds a key has left to live",
        ..BASE
    },
    CommandSpec {
        name: "type",
        arity: 2,
        flags: READONLY_FAST,
        acl_categories: KEYSPACE_READ_FAST,
        key_specs: RO,
        since: "1.0.0",
        complexity: "O(1)",
        summary: "Name the data type of the value held in a key",
        ..BASE
    },
    CommandSpec {
        name: "unlink",
        arity: -2,
        flags: WRITE_FAST,
        acl_categories: KEYSPACE_WRITE_FAST,
        key_specs: RM_DELETE_ALL,
        tips: MULTI_SHARD_SUM,
        since: "4.0.0",
        complexity: "O(1) for each key removed regardless of its size. Then the command does O(N) work in a different thread in order to reclaim memory, where N is the number of allocations the deleted objects where composed of.",
        summary: "Remove keys now and free their values in the background",
        ..BASE
    },
];

const OBJECT_SUB: CommandSpec = CommandSpec {
    container: Some("object"),
    arity: 3,
    flags: &[F::Readonly],
    acl_categories: KEYSPACE_READ_SLOW,
    key_specs: &[key_range(&[K::Ro], 2, 0, 1, 0)],
    tips: &["nondeterministic_output"],
    since: "2.2.3",
    complexity: "O(1)",
    ..BASE
};

/// The subcommands of OBJECT.
pub(super) static OBJECT: &[CommandSpec] = &[
    CommandSpec {
        name: "encoding",
        summary: "Name the internal encoding used for the value of a key",
        ..OBJECT_SUB
    },
    CommandSpec {
        name: "freq",
        since: "4.0.0",
        summary: "Get the logarithmic access frequency counter of a Redis object",
        ..OBJECT_SUB
    },
    CommandSpec {
        name: "help",
        arity: 2,
        flags: &[F::Loading, F::Stale],
        acl_categories: &[A::Keyspace, A::Slow],
        key_specs: &[],
        tips: &[],
        since: "6.2.0",
        summary: "Explain the OBJECT subcommands",
        ..OBJECT_SUB
    },
    CommandSpec {
        name: "idletime",
        summary: "Tell how many seconds have passed since a key was last used",
        ..OBJECT_SUB
    },
    CommandSpec {
        name: "refcount",
        summary: "Tell how many references point at the value of a key",
        ..OBJECT_SUB
    },
];
