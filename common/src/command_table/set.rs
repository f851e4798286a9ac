//! Group `set`: commands on unordered collections of distinct strings.

use super::spec::{
    AclCategory as A, BeginSearch, CommandSpec, FindKeys, Flag as F, Group, KeyFlag as K, KeySpec,
};
use super::{base, key_range};

const BASE: CommandSpec = base(Group::Set);

const RO: &[KeySpec] = &[key_range(&[K::Ro], 1, 0, 1, 0)];
const RO_ACCESS: &[KeySpec] = &[key_range(&[K::Ro, K::Access], 1, 0, 1, 0)];
const RO_ACCESS_ALL: &[KeySpec] = &[key_range(&[K::Ro, K::Access], 1, -1, 1, 0)];
const RW_ACCESS_DELETE: &[KeySpec] = &[key_range(&[K::Rw, K::Access, K::Delete], 1, 0, 1, 0)];
/// SUNIONSTORE and SDIFFSTORE: the destination is overwritten, the sources are read.
const STORE_OVERWRITE: &[KeySpec] = &[
    key_range(&[K::Ow, K::Update], 1, 0, 1, 0),
    key_range(&[K::Ro, K::Access], 2, -1, 1, 0),
];

const READ_SET_FAST: &[A] = &[A::Read, A::Set, A::Fast];
const READ_SET_SLOW: &[A] = &[A::Read, A::Set, A::Slow];
const WRITE_SET_FAST: &[A] = &[A::Write, A::Set, A::Fast];
const WRITE_SET_SLOW: &[A] = &[A::Write, A::Set, A::Slow];

const ORDER_TIP: &[&str] = &["nondeterministic_output_order"];
const OUTPUT_TIP: &[&str] = &["nondeterministic_output"];

const SINTER_COMPLEXITY: &str =
    "O(N*M) worst case where N is the cardinality of the smallest set and M is the number of sets.";
const TOTAL_COMPLEXITY: &str = "O(N) where N is the total number of elements in all given sets.";

/// Every top-level command of the group.
pub(super) static COMMANDS: &[CommandSpec] = &[
    CommandSpec {
        name: "sadd",
        arity: -3,
        flags: &[F::Write, F::Denyoom, F::Fast],
        acl_categories: WRITE_SET_FAST,
        key_specs: &[key_range(&[K::Rw, K::Insert], 1, 0, 1, 0)],
        since: "1.0.0",
        complexity: "O(1) for each element added, so O(N) to add N elements when the command is called with multiple arguments.",
        summary: "Put one or more members into a set, creating it when absent",
        ..BASE
    },
    CommandSpec {
        name: "scard",
        arity: 2,
        flags: &[F::Readonly, F::Fast],
        acl_categories: READ_SET_FAST,
        key_specs: RO,
        since: "1.0.0",
        complexity: "O(1)",
        summary: "Count the members of a set",
        ..BASE
    },
    CommandSpec {
        name: "sdiff",
        arity: -2,
        flags: &[F::Readonly],
        acl_categories: READ_SET_SLOW,
        key_specs: RO_ACCESS_ALL,
        tips: ORDER_TIP,
        since: "1.0.0",
        complexity: TOTAL_COMPLEXITY,
        summary: "List the members of the first set found in none of the others",
        ..BASE
    },
    CommandSpec {
        name: "sdiffstore",
        arity: -3,
        flags: &[F::Write, F::Denyoom],
        acl_categories: WRITE_SET_SLOW,
        key_specs: STORE_OVERWRITE,
        since: "1.0.0",
        complexity: TOTAL_COMPLEXITY,
        summary: "Save the difference of sets under a destination key",
        ..BASE
    },
    CommandSpec {
        name: "sinter",
        arity: -2,
        flags: &[F::Readonly],
        acl_categories: READ_SET_SLOW,
        key_specs: RO_ACCESS_ALL,
        tips: ORDER_TIP,
        since: "1.0.0",
        complexity: SINTER_COMPLEXITY,
        summary: "List the members every given set has in common",
        ..BASE
    },
    CommandSpec {
        name: "sintercard",
        arity: -3,
        flags: &[F::Readonly],
        acl_categories: READ_SET_SLOW,
        key_specs: &[KeySpec {
            notes: None,
            flags: &[K::Ro, K::Access],
            begin_search: BeginSearch::Index(1),
            find_keys: FindKeys::Keynum {
                keynum_index: 0,
                first_key: 1,
                key_step: 1,
            },
        }],
        since: "7.0.0",
        complexity: SINTER_COMPLEXITY,
        summary: "Count the members shared by every given set, optionally stopping at a limit",
        ..BASE
    },
    CommandSpec {
        name: "sinterstore",
        arity: -3,
        flags: &[F::Write, F::Denyoom],
        acl_categories: WRITE_SET_SLOW,
        key_specs: &[
            key_range(&[K::Rw, K::Update], 1, 0, 1, 0),
            key_range(&[K::Ro, K::Access], 2, -1, 1, 0),
        ],
        since: "1.0.0",
        complexity: SINTER_COMPLEXITY,
        summary: "Save the intersection of sets under a destination key",
        ..BASE
    },
    CommandSpec {
        name: "sismember",
        arity: 3,
        flags: &[F::Readonly, F::Fast],
        acl_categories: READ_SET_FAST,
        key_specs: RO,
        since: "1.0.0",
        complexity: "O(1)",
        summary: "Tell whether a value is a member of a set",
        ..BASE
    },
    CommandSpec {
        name: "smembers",
        arity: 2,
        flags: &[F::Readonly],
        acl_categories: READ_SET_SLOW,
        key_specs: RO_ACCESS,
        tips: ORDER_TIP,
        since: "1.0.0",
        complexity: "O(N) where N is the set cardinality.",
        summary: "List every member of a set",
        ..BASE
    },
    CommandSpec {
        name: "smismember",
        arity: -3,
        flags: &[F::Readonly, F::Fast],
        acl_categories: READ_SET_FAST,
        key_specs: RO_ACCESS,
        since: "6.2.0",
        complexity: "O(N) where N is the number of elements being checked for membership",
        summary: "Tell for each of several values whether it is a member of a set",
        ..BASE
    },
    CommandSpec {
        name: "smove",
        arity: 4,
        flags: &[F::Write, F::Fast],
        acl_categories: WRITE_SET_FAST,
        key_specs: &[
            key_range(&[K::Rw, K::Access, K::Delete], 1, 0, 1, 0),
            key_range(&[K::Rw, K::Insert], 2, 0, 1, 0),
        ],
        since: "1.0.0",
        complexity: "O(1)",
        summary: "Take a member out of one set and put it into another",
        ..BASE
    },
    CommandSpec {
        name: "spop",
        arity: -2,
        flags: &[F::Write, F::Fast],
        acl_categories: WRITE_SET_FAST,
        key_specs: RW_ACCESS_DELETE,
        tips: OUTPUT_TIP,
        since: "1.0.0",
        complexity: "Without the count argument O(1), otherwise O(N) where N is the value of the passed count.",
        summary: "Remove and hand back one or more random members of a set",
        ..BASE
    },
    CommandSpec {
        name: "srandmember",
        arity: -2,
        flags: &[F::Readonly],
        acl_categories: READ_SET_SLOW,
        key_specs: RO_ACCESS,
        tips: OUTPUT_TIP,
        since: "1.0.0",
        complexity: "Without the count argument O(1), otherwise O(N) where N is the absolute value of the passed count.",
        summary: "Pick random members of a set without removing them",
        ..BASE
    },
    CommandSpec {
        name: "srem",
        arity: -3,
        flags: &[F::Write, F::Fast],
        acl_categories: WRITE_SET_FAST,
        key_specs: &[key_range(&[K::Rw, K::Delete], 1, 0, 1, 0)],
        since: "1.0.0",
        complexity: "O(N) where N is the number of members to be removed.",
        summary: "Take one or more members out of a set",
        ..BASE
    },
    CommandSpec {
        name: "sscan",
        arity: -3,
        flags: &[F::Readonly],
        acl_categories: READ_SET_SLOW,
        key_specs: RO_ACCESS,
        tips: OUTPUT_TIP,
        since: "2.8.0",
        complexity: "O(1) for every call. O(N) for a complete iteration, including enough command calls for the cursor to return back to 0. N is the number of elements inside the collection..",
        summary: "Walk the members of a set a few at a time with a cursor",
        ..BASE
    },
    CommandSpec {
        name: "sunion",
        arity: -2,
        flags: &[F::Readonly],
        acl_categories: READ_SET_SLOW,
        key_specs: RO_ACCESS_ALL,
        tips: ORDER_TIP,
        since: "1.0.0",
        complexity: TOTAL_COMPLEXITY,
        summary: "List the members found in any of the given sets",
        ..BASE
    },
    CommandSpec {
        name: "sunionstore",
        arity: -3,
        flags: &[F::Write, F::Denyoom],
        acl_categories: WRITE_SET_SLOW,
        key_specs: STORE_OVERWRITE,
        since: "1.0.0",
        complexity: TOTAL_COMPLEXITY,
        summary: "Save the union of sets under a destination key",
        ..BASE
    },
];
