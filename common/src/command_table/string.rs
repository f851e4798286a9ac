//! Group `string`: commands on string values, including the integers and floats stored in them.

use super::spec::{AclCategory as A, CommandSpec, Flag as F, Group, KeyFlag as K, KeySpec};
use super::{base, key_range};

const BASE: CommandSpec = base(Group::String);

const RO_ACCESS: &[KeySpec] = &[key_range(&[K::Ro, K::Access], 1, 0, 1, 0)];
const RW_ACCESS_UPDATE: &[KeySpec] = &[key_range(&[K::Rw, K::Access, K::Update], 1, 0, 1, 0)];
const OW_UPDATE: &[KeySpec] = &[key_range(&[K::Ow, K::Update], 1, 0, 1, 0)];

const WRITE_DENYOOM_FAST: &[F] = &[F::Write, F::Denyoom, F::Fast];
const WRITE_STRING_FAST: &[A] = &[A::Write, A::String, A::Fast];
const WRITE_STRING_SLOW: &[A] = &[A::Write, A::String, A::Slow];
const READ_STRING_SLOW: &[A] = &[A::Read, A::String, A::Slow];

const GETRANGE_COMPLEXITY: &str = "O(N) where N is the length of the returned string. The complexity is ultimately determined by the returned length, but because creating a substring from an existing string is very cheap, it can be considered O(1) for small strings.";

/// Every top-level command of the group.
pub(super) static COMMANDS: &[CommandSpec] = &[
    CommandSpec {
        name: "append",
        arity: 3,
        flags: WRITE_DENYOOM_FAST,
        acl_categories: WRITE_STRING_FAST,
        key_specs: &[key_range(&[K::Rw, K::Insert], 1, 0, 1, 0)],
        since: "2.0.0",
        complexity: "O(1). The amortized time complexity is O(1) assuming the appended value is small and the already present value is of any size, since the dynamic string library used by Redis will double the free space available on every reallocation.",
        summary: "Add bytes to the end of a string, creating it when absent",
        ..BASE
    },
    CommandSpec {
        name: "decr",
        arity: 2,
        flags: WRITE_DENYOOM_FAST,
        acl_categories: WRITE_STRING_FAST,
        key_specs: RW_ACCESS_UPDATE,
        since: "1.0.0",
        complexity: "O(1)",
        summary: "Subtract one from the integer held in a key",
        ..BASE
    },
    CommandSpec {
        name: "decrby",
        arity: 3,
        flags: WRITE_DENYOOM_FAST,
        acl_categories: WRITE_STRING_FAST,
        key_specs: RW_ACCESS_UPDATE,
        since: "1.0.0",
        complexity: "O(1)",
        summary: "Subtract an amount from the integer held in a key",
        ..BASE
    },
    CommandSpec {
        name: "get",
        arity: 2,
        flags: &[F::Readonly, F::Fast],
        acl_categories: &[A::Read, A::String, A::Fast],
        key_specs: RO_ACCESS,
        since: "1.0.0",
        complexity: "O(1)",
        summary: "Read the string stored in a key",
        ..BASE
    },
    CommandSpec {
        name: "getdel",
        arity: 2,
        flags: &[F::Write, F::Fast],
        acl_categories: WRITE_STRING_FAST,
        key_specs: &[key_range(&[K::Rw, K::Access, K::Delete], 1, 0, 1, 0)],
        since: "6.2.0",
        complexity: "O(1)",
        summary: "Read a string and remove its key in one step",
        ..BASE
    },
    CommandSpec {
        name: "getex",
        arity: -2,
        flags: &[F::Write, F::Fast],
        acl_categories: WRITE_STRING_FAST,
        key_specs: &[KeySpec {
            notes: Some("RW and UPDATE because it changes the TTL"),
            ..key_range(&[K::Rw, K::Access, K::Update], 1, 0, 1, 0)
        }],
        since: "6.2.0",
        complexity: "O(1)",
        summary: "Read a string and optionally change or clear its time to live",
        ..BASE
    },
    CommandSpec {
        name: "getrange",
        arity: 4,
        flags: &[F::Readonly],
        acl_categories: READ_STRING_SLOW,
        key_specs: RO_ACCESS,
        since: "2.4.0",
        complexity: GETRANGE_COMPLEXITY,
        summary: "Read the bytes of a string between two offsets",
        ..BASE
    },
    CommandSpec {
        name: "getset",
        arity: 3,
        flags: WRITE_DENYOOM_FAST,
        acl_categories: WRITE_STRING_FAST,
        key_specs: RW_ACCESS_UPDATE,
        since: "1.0.0",
        complexity: "O(1)",
        summary: "Store a new string and hand back the one it replaced",
        doc_flags: &["deprecated"],
        deprecated_since: Some("6.2.0"),
        replaced_by: Some("`SET` with the `!GET` argument"),
        ..BASE
    },
    CommandSpec {
        name: "incr",
        arity: 2,
        flags: WRITE_DENYOOM_FAST,
        acl_categories: WRITE_STRING_FAST,
        key_specs: RW_ACCESS_UPDATE,
        since: "1.0.0",
        complexity: "O(1)",
        summary: "Add one to the integer held in a key",
        ..BASE
    },
    CommandSpec {
        name: "incrby",
        arity: 3,
        flags: WRITE_DENYOOM_FAST,
        acl_categories: WRITE_STRING_FAST,
        key_specs: RW_ACCESS_UPDATE,
        since: "1.0.0",
        complexity: "O(1)",
        summary: "Add an integer amount to the integer held in a key",
        ..BASE
    },
    CommandSpec {
        name: "incrbyfloat",
        arity: 3,
        flags: WRITE_DENYOOM_FAST,
        acl_categories: WRITE_STRING_FAST,
        key_specs: RW_ACCESS_UPDATE,
        since: "2.6.0",
        complexity: "O(1)",
        summary: "Add a floating point amount to the number held in a key",
        ..BASE
    },
    CommandSpec {
        name: "lcs",
        arity: -3,
        flags: &[F::Readonly],
        acl_categories: READ_STRING_SLOW,
        key_specs: &[key_range(&[K::Ro, K::Access], 1, 1, 1, 0)],
        since: "7.0.0",
        complexity: "O(N*M) where N and M are the lengths of s1 and s2, respectively",
        summary: "Compute the longest common subsequence of two strings",
        ..BASE
    },
    CommandSpec {
        name: "mget",
        arity: -2,
        flags: &[F::Readonly, F::Fast],
        acl_categories: &[A::Read, A::String, A::Fast],
        key_specs: &[key_range(&[K::Ro, K::Access], 1, -1, 1, 0)],
        tips: &["request_policy:multi_shard"],
        since: "1.0.0",
        complexity: "O(N) where N is the number of keys to retrieve.",
        summary: "Read the strings of several keys at once",
        ..BASE
    },
    CommandSpec {
        name: "mset",
        arity: -3,
        flags: &[F::Write, F::Denyoom],
        acl_categories: WRITE_STRING_SLOW,
        key_specs: &[key_range(&[K::Ow, K::Update], 1, -1, 2, 0)],
        tips: &[
            "request_policy:multi_shard",
            "response_policy:all_succeeded",
        ],
        since: "1.0.1",
        complexity: "O(N) where N is the number of keys to set.",
        summary: "Store several key/value pairs at once",
        ..BASE
    },
    CommandSpec {
        name: "msetnx",
        arity: -3,
        flags: &[F::Write, F::Denyoom],
        acl_categories: WRITE_STRING_SLOW,
        key_specs: &[key_range(&[K::Ow, K::Insert], 1, -1, 2, 0)],
        tips: &["request_policy:multi_shard", "response_policy:agg_min"],
        since: "1.0.1",
        complexity: "O(N) where N is the number of keys to set.",
        summary: "Store several key/value pairs only if none of the keys exists yet",
        ..BASE
    },
    CommandSpec {
        name: "psetex",
        arity: 4,
        flags: &[F::Write, F::Denyoom],
        acl_categories: WRITE_STRING_SLOW,
        key_specs: OW_UPDATE,
        since: "2.6.0",
        complexity: "O(1)",
        summary: "Store a string with a time to live given in milliseconds",
        ..BASE
    },
    CommandSpec {
        name: "set",
        arity: -3,
        flags: &[F::Write, F::Denyoom],
        acl_categories: WRITE_STRING_SLOW,
        key_specs: &[KeySpec {
            notes: Some("RW and ACCESS due to the optional `GET` argument"),
            ..key_range(&[K::Rw, K::Access, K::Update, K::VariableFlags], 1, 0, 1, 0)
        }],
        since: "1.0.0",
        complexity: "O(1)",
        summary: "Store a string in a key, with optional expiry and existence conditions",
        ..BASE
    },
    CommandSpec {
        name: "setex",
        arity: 4,
        flags: &[F::Write, F::Denyoom],
        acl_categories: WRITE_STRING_SLOW,
        key_specs: OW_UPDATE,
        since: "2.0.0",
        complexity: "O(1)",
        summary: "Store a string with a time to live given in seconds",
        ..BASE
    },
    CommandSpec {
        name: "setnx",
        arity: 3,
        flags: WRITE_DENYOOM_FAST,
        acl_categories: WRITE_STRING_FAST,
        key_specs: &[key_range(&[K::Ow, K::Insert], 1, 0, 1, 0)],
        since: "1.0.0",
        complexity: "O(1)",
        summary: "Store a string only when the key does not exist yet",
        ..BASE
    },
    CommandSpec {
        name: "setrange",
        arity: 4,
        flags: &[F::Write, F::Denyoom],
        acl_categories: WRITE_STRING_SLOW,
        key_specs: &[key_range(&[K::Rw, K::Update], 1, 0, 1, 0)],
        since: "2.2.0",
        complexity: "O(1), not counting the time taken to copy the new string in place. Usually, this string is very small so the amortized complexity is O(1). Otherwise, complexity is O(M) with M being the length of the value argument.",
        summary: "Overwrite part of a string from an offset, padding with zero bytes",
        ..BASE
    },
    CommandSpec {
        name: "strlen",
        arity: 2,
        flags: &[F::Readonly, F::Fast],
        acl_categories: &[A::Read, A::String, A::Fast],
        key_specs: &[key_range(&[K::Ro], 1, 0, 1, 0)],
        since: "2.2.0",
        complexity: "O(1)",
        summary: "Count the bytes of the string held in a key",
        ..BASE
    },
    CommandSpec {
        name: "substr",
        arity: 4,
        flags: &[F::Readonly],
        acl_categories: READ_STRING_SLOW,
        key_specs: RO_ACCESS,
        since: "1.0.0",
        complexity: GETRANGE_COMPLEXITY,
        summary: "Old name of GETRANGE: read the bytes between two offsets",
        doc_flags: &["deprecated"],
        deprecated_since: Some("2.0.0"),
        replaced_by: Some("`GETRANGE`"),
        ..BASE
    },
];
