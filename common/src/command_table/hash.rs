//! Group `hash`: commands on hashes (field → value maps).

use super::spec::{AclCategory as A, CommandSpec, Flag as F, Group, KeyFlag as K, KeySpec};
use super::{base, key_range};

const BASE: CommandSpec = base(Group::Hash);

const RO: &[KeySpec] = &[key_range(&[K::Ro], 1, 0, 1, 0)];
const RO_ACCESS: &[KeySpec] = &[key_range(&[K::Ro, K::Access], 1, 0, 1, 0)];
const RW_UPDATE: &[KeySpec] = &[key_range(&[K::Rw, K::Update], 1, 0, 1, 0)];
const RW_ACCESS_UPDATE: &[KeySpec] = &[key_range(&[K::Rw, K::Access, K::Update], 1, 0, 1, 0)];

const WRITE_DENYOOM_FAST: &[F] = &[F::Write, F::Denyoom, F::Fast];
const READONLY_FAST: &[F] = &[F::Readonly, F::Fast];
const WRITE_HASH_FAST: &[A] = &[A::Write, A::Hash, A::Fast];
const READ_HASH_FAST: &[A] = &[A::Read, A::Hash, A::Fast];
const READ_HASH_SLOW: &[A] = &[A::Read, A::Hash, A::Slow];

const WHOLE_HASH: &str = "O(N) where N is the size of the hash.";
/// The field-expiry commands of Redis 7.4.
const PER_FIELD: &str = "O(N) where N is the number of specified fields";

/// Every top-level command of the group.
pub(super) static COMMANDS: &[CommandSpec] = &[
    CommandSpec {
        name: "hdel",
        arity: -3,
        flags: &[F::Write, F::Fast],
        acl_categories: WRITE_HASH_FAST,
        key_specs: &[key_range(&[K::Rw, K::Delete], 1, 0, 1, 0)],
        since: "2.0.0",
        complexity: "O(N) where N is the number of fields to be removed.",
        summary: "Remove fields from a hash, deleting the key when none are left",
        ..BASE
    },
    CommandSpec {
        name: "hexists",
        arity: 3,
        flags: READONLY_FAST,
        acl_categories: READ_HASH_FAST,
        key_specs: RO,
        since: "2.0.0",
        complexity: "O(1)",
        summary: "Tell whether a hash has a given field",
        ..BASE
    },
    CommandSpec {
        name: "hexpire",
        arity: -6,
        flags: WRITE_DENYOOM_FAST,
        acl_categories: WRITE_HASH_FAST,
        key_specs: RW_UPDATE,
        since: "7.4.0",
        complexity: PER_FIELD,
        summary: "Give hash fields a time to live in seconds",
        ..BASE
    },
    CommandSpec {
        name: "hexpireat",
        arity: -6,
        flags: WRITE_DENYOOM_FAST,
        acl_categories: WRITE_HASH_FAST,
        key_specs: RW_UPDATE,
        since: "7.4.0",
        complexity: PER_FIELD,
        summary: "Make hash fields expire at a Unix time in seconds",
        ..BASE
    },
    CommandSpec {
        name: "hexpiretime",
        arity: -5,
        flags: READONLY_FAST,
        acl_categories: READ_HASH_FAST,
        key_specs: RO_ACCESS,
        since: "7.4.0",
        complexity: PER_FIELD,
        summary: "Unix time in seconds at which hash fields expire",
        ..BASE
    },
    CommandSpec {
        name: "hget",
        arity: 3,
        flags: READONLY_FAST,
        acl_categories: READ_HASH_FAST,
        key_specs: RO_ACCESS,
        since: "2.0.0",
        complexity: "O(1)",
        summary: "Read the value of one field of a hash",
        ..BASE
    },
    CommandSpec {
        name: "hgetall",
        arity: 2,
        flags: &[F::Readonly],
        acl_categories: READ_HASH_SLOW,
        key_specs: RO_ACCESS,
        tips: &["nondeterministic_output_order"],
        since: "2.0.0",
        complexity: WHOLE_HASH,
        summary: "Read every field of a hash with its value",
        ..BASE
    },
    CommandSpec {
        name: "hincrby",
        arity: 4,
        flags: WRITE_DENYOOM_FAST,
        acl_categories: WRITE_HASH_FAST,
        key_specs: RW_ACCESS_UPDATE,
        since: "2.0.0",
        complexity: "O(1)",
        summary: "Add an integer to the integer held in a hash field",
        ..BASE
    },
    CommandSpec {
        name: "hincrbyfloat",
        arity: 4,
        flags: WRITE_DENYOOM_FAST,
        acl_categories: WRITE_HASH_FAST,
        key_specs: RW_ACCESS_UPDATE,
        since: "2.6.0",
        complexity: "O(1)",
        summary: "Add a floating point number to the number held in a hash field",
        ..BASE
    },
    CommandSpec {
        name: "hkeys",
        arity: 2,
        flags: &[F::Readonly],
        acl_categories: READ_HASH_SLOW,
        key_specs: RO_ACCESS,
        tips: &["nondeterministic_output_order"],
        since: "2.0.0",
        complexity: WHOLE_HASH,
        summary: "List the fields of a hash",
        ..BASE
    },
    CommandSpec {
        name: "hlen",
        arity: 2,
        flags: READONLY_FAST,
        acl_categories: READ_HASH_FAST,
        key_specs: RO,
        since: "2.0.0",
        complexity: "O(1)",
        summary: "Count the fields of a hash",
        ..BASE
    },
    CommandSpec {
        name: "hmget",
        arity: -3,
        flags: READONLY_FAST,
        acl_categories: READ_HASH_FAST,
        key_specs: RO_ACCESS,
        since: "2.0.0",
        complexity: "O(N) where N is the number of fields being requested.",
        summary: "Read the values of several fields of a hash",
        ..BASE
    },
    CommandSpec {
        name: "hmset",
        arity: -4,
        flags: WRITE_DENYOOM_FAST,
        acl_categories: WRITE_HASH_FAST,
        key_specs: RW_UPDATE,
        since: "2.0.0",
        complexity: "O(N) where N is the number of fields being set.",
        summary: "Set several fields of a hash, replying OK",
        doc_flags: &["deprecated"],
        deprecated_since: Some("4.0.0"),
        replaced_by: Some("`HSET` with multiple field-value pairs"),
        ..BASE
    },
    CommandSpec {
        name: "hpersist",
        arity: -5,
        flags: &[F::Write, F::Fast],
        acl_categories: WRITE_HASH_FAST,
        key_specs: RW_UPDATE,
        since: "7.4.0",
        complexity: PER_FIELD,
        summary: "Remove the time to live of hash fields",
        ..BASE
    },
    CommandSpec {
        name: "hpexpire",
        arity: -6,
        flags: WRITE_DENYOOM_FAST,
        acl_categories: WRITE_HASH_FAST,
        key_specs: RW_UPDATE,
        since: "7.4.0",
        complexity: PER_FIELD,
        summary: "Give hash fields a time to live in milliseconds",
        ..BASE
    },
    CommandSpec {
        name: "hpexpireat",
        arity: -6,
        flags: WRITE_DENYOOM_FAST,
        acl_categories: WRITE_HASH_FAST,
        key_specs: RW_UPDATE,
        since: "7.4.0",
        complexity: PER_FIELD,
        summary: "Make hash fields expire at a Unix time in milliseconds",
        ..BASE
    },
    CommandSpec {
        name: "hpexpiretime",
        arity: -5,
        flags: READONLY_FAST,
        acl_categories: READ_HASH_FAST,
        key_specs: RO_ACCESS,
        since: "7.4.0",
        complexity: PER_FIELD,
        summary: "Unix time in milliseconds at which hash fields expire",
        ..BASE
    },
    CommandSpec {
        name: "hpttl",
        arity: -5,
        flags: READONLY_FAST,
        acl_categories: READ_HASH_FAST,
        key_specs: RO_ACCESS,
        since: "7.4.0",
        complexity: PER_FIELD,
        summary: "Remaining time to live of hash fields in milliseconds",
        ..BASE
    },
    CommandSpec {
        name: "hrandfield",
        arity: -2,
        flags: &[F::Readonly],
        acl_categories: READ_HASH_SLOW,
        key_specs: RO_ACCESS,
        tips: &["nondeterministic_output"],
        since: "6.2.0",
        complexity: "O(N) where N is the number of fields returned",
        summary: "Pick random fields of a hash, optionally with their values",
        ..BASE
    },
    CommandSpec {
        name: "hscan",
        arity: -3,
        flags: &[F::Readonly],
        acl_categories: READ_HASH_SLOW,
        key_specs: RO_ACCESS,
        tips: &["nondeterministic_output"],
        since: "2.8.0",
        complexity: "O(1) for every call. O(N) for a complete iteration, including enough command calls for the cursor to return back to 0. N is the number of elements inside the collection..",
        summary: "Walk the fields and values of a hash with a cursor",
        ..BASE
    },
    CommandSpec {
        name: "hset",
        arity: -4,
        flags: WRITE_DENYOOM_FAST,
        acl_categories: WRITE_HASH_FAST,
        key_specs: RW_UPDATE,
        since: "2.0.0",
        complexity: "O(1) for each field/value pair added, so O(N) to add N field/value pairs when the command is called with multiple field/value pairs.",
        summary: "Set one or more fields of a hash, counting the new ones",
        ..BASE
    },
    CommandSpec {
        name: "hsetnx",
        arity: 4,
        flags: WRITE_DENYOOM_FAST,
        acl_categories: WRITE_HASH_FAST,
        key_specs: &[key_range(&[K::Rw, K::Insert], 1, 0, 1, 0)],
        since: "2.0.0",
        complexity: "O(1)",
        summary: "Set a hash field only when the hash lacks it",
        ..BASE
    },
    CommandSpec {
        name: "hstrlen",
        arity: 3,
        flags: READONLY_FAST,
        acl_categories: READ_HASH_FAST,
        key_specs: RO,
        since: "3.2.0",
        complexity: "O(1)",
        summary: "Length in bytes of the value of a hash field",
        ..BASE
    },
    CommandSpec {
        name: "httl",
        arity: -5,
        flags: READONLY_FAST,
        acl_categories: READ_HASH_FAST,
        key_specs: RO_ACCESS,
        since: "7.4.0",
        complexity: PER_FIELD,
        summary: "Remaining time to live of hash fields in seconds",
        ..BASE
    },
    CommandSpec {
        name: "hvals",
        arity: 2,
        flags: &[F::Readonly],
        acl_categories: READ_HASH_SLOW,
        key_specs: RO_ACCESS,
        tips: &["nondeterministic_output_order"],
        since: "2.0.0",
        complexity: WHOLE_HASH,
        summary: "List the values of a hash",
        ..BASE
    },
];
