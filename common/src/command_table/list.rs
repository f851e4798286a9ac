//! Group `list`: commands on list values (a quicklist of listpack nodes).

use super::spec::{
    AclCategory as A, BeginSearch, CommandSpec, FindKeys, Flag as F, Group, KeyFlag as K, KeySpec,
};
use super::{base, key_range};

const BASE: CommandSpec = base(Group::List);

const RO_ACCESS: &[KeySpec] = &[key_range(&[K::Ro, K::Access], 1, 0, 1, 0)];
const RW_INSERT: &[KeySpec] = &[key_range(&[K::Rw, K::Insert], 1, 0, 1, 0)];
const RW_DELETE: &[KeySpec] = &[key_range(&[K::Rw, K::Delete], 1, 0, 1, 0)];
const POP_ONE: &[KeySpec] = &[key_range(&[K::Rw, K::Access, K::Delete], 1, 0, 1, 0)];
const POP_MANY: &[KeySpec] = &[key_range(&[K::Rw, K::Access, K::Delete], 1, -2, 1, 0)];
/// Source then destination (LMOVE and its relatives).
const MOVE: &[KeySpec] = &[
    key_range(&[K::Rw, K::Access, K::Delete], 1, 0, 1, 0),
    key_range(&[K::Rw, K::Insert], 2, 0, 1, 0),
];

/// `numkeys key [key ...]` starting at argument `index`.
const fn numkeys_at(index: i32) -> KeySpec {
    KeySpec {
        notes: None,
        flags: &[K::Rw, K::Access, K::Delete],
        begin_search: BeginSearch::Index(index),
        find_keys: FindKeys::Keynum {
            keynum_index: 0,
            first_key: 1,
            key_step: 1,
        },
    }
}

const WRITE_LIST_FAST: &[A] = &[A::Write, A::List, A::Fast];
const WRITE_LIST_SLOW: &[A] = &[A::Write, A::List, A::Slow];
const READ_LIST_SLOW: &[A] = &[A::Read, A::List, A::Slow];
const WRITE_LIST_BLOCKING: &[A] = &[A::Write, A::List, A::Slow, A::Blocking];
const PUSH_FLAGS: &[F] = &[F::Write, F::Denyoom, F::Fast];
const PUSH_COMPLEXITY: &str = "O(1) for each element added, so O(N) to add N elements when the command is called with multiple arguments.";
const POP_COMPLEXITY: &str = "O(N) where N is the number of elements returned";
const MPOP_COMPLEXITY: &str =
    "O(N+M) where N is the number of provided keys and M is the number of elements returned.";
const BPOP_COMPLEXITY: &str = "O(N) where N is the number of provided keys.";

/// Every top-level command of the group.
pub(super) static COMMANDS: &[CommandSpec] = &[
    CommandSpec {
        name: "blmove",
        arity: 6,
        flags: &[F::Write, F::Denyoom, F::Noscript, F::Blocking],
        acl_categories: WRITE_LIST_BLOCKING,
        key_specs: MOVE,
        since: "6.2.0",
        complexity: "O(1)",
        summary: "Move an element between lists, waiting until the source has one",
        ..BASE
    },
    CommandSpec {
        name: "blmpop",
        arity: -5,
        flags: &[F::Write, F::Blocking],
        acl_categories: WRITE_LIST_BLOCKING,
        key_specs: &[numkeys_at(2)],
        since: "7.0.0",
        complexity: MPOP_COMPLEXITY,
        summary: "Pop elements from the first non-empty of several lists, waiting for one",
        ..BASE
    },
    CommandSpec {
        name: "blpop",
        arity: -3,
        flags: &[F::Write, F::Noscript, F::Blocking],
        acl_categories: WRITE_LIST_BLOCKING,
        key_specs: POP_MANY,
        since: "2.0.0",
        complexity: BPOP_COMPLEXITY,
        summary: "Pop the head of the first non-empty list, waiting for one",
        ..BASE
    },
    CommandSpec {
        name: "brpop",
        arity: -3,
        flags: &[F::Write, F::Noscript, F::Blocking],
        acl_categories: WRITE_LIST_BLOCKING,
        key_specs: POP_MANY,
        since: "2.0.0",
        complexity: BPOP_COMPLEXITY,
        summary: "Pop the tail of the first non-empty list, waiting for one",
        ..BASE
    },
    CommandSpec {
        name: "brpoplpush",
        arity: 4,
        flags: &[F::Write, F::Denyoom, F::Noscript, F::Blocking],
        acl_categories: WRITE_LIST_BLOCKING,
        key_specs: MOVE,
        since: "2.2.0",
        complexity: "O(1)",
        summary: "Move the tail of a list to the head of another, waiting for one",
        doc_flags: &["deprecated"],
        deprecated_since: Some("6.2.0"),
        replaced_by: Some("`BLMOVE` with the `RIGHT` and `LEFT` arguments"),
        ..BASE
    },
    CommandSpec {
        name: "lindex",
        arity: 3,
        flags: &[F::Readonly],
        acl_categories: READ_LIST_SLOW,
        key_specs: RO_ACCESS,
        since: "1.0.0",
        complexity: "O(N) where N is the number of elements to traverse to get to the element at index. This makes asking for the first or the last element of the list O(1).",
        summary: "Read the element at a position of a list",
        ..BASE
    },
    CommandSpec {
        name: "linsert",
        arity: 5,
        flags: &[F::Write, F::Denyoom],
        acl_categories: WRITE_LIST_SLOW,
        key_specs: RW_INSERT,
        since: "2.2.0",
        complexity: "O(N) where N is the number of elements to traverse before seeing the value pivot. This means that inserting somewhere on the left end on the list (head) can be considered O(1) and inserting somewhere on the right end (tail) is O(N).",
        summary: "Insert an element before or after the first occurrence of a pivot",
        ..BASE
    },
    CommandSpec {
        name: "llen",
        arity: 2,
        flags: &[F::Readonly, F::Fast],
        acl_categories: &[A::Read, A::List, A::Fast],
        key_specs: &[key_range(&[K::Ro], 1, 0, 1, 0)],
        since: "1.0.0",
        complexity: "O(1)",
        summary: "Count the elements of a list",
        ..BASE
    },
    CommandSpec {
        name: "lmove",
        arity: 5,
        flags: &[F::Write, F::Denyoom],
        acl_categories: WRITE_LIST_SLOW,
        key_specs: MOVE,
        since: "6.2.0",
        complexity: "O(1)",
        summary: "Move an element from one end of a list to an end of another",
        ..BASE
    },
    CommandSpec {
        name: "lmpop",
        arity: -4,
        flags: &[F::Write],
        acl_categories: WRITE_LIST_SLOW,
        key_specs: &[numkeys_at(1)],
        since: "7.0.0",
        complexity: MPOP_COMPLEXITY,
        summary: "Pop elements from the first non-empty of several lists",
        ..BASE
    },
    CommandSpec {
        name: "lpop",
        arity: -2,
        flags: &[F::Write, F::Fast],
        acl_categories: WRITE_LIST_FAST,
        key_specs: POP_ONE,
        since: "1.0.0",
        complexity: POP_COMPLEXITY,
        summary: "Remove and return elements from the head of a list",
        ..BASE
    },
    CommandSpec {
        name: "lpos",
        arity: -3,
        flags: &[F::Readonly],
        acl_categories: READ_LIST_SLOW,
        key_specs: RO_ACCESS,
        since: "6.0.6",
        complexity: "O(N) where N is the number of elements in the list, for the average case. When searching for elements near the head or the tail of the list, or when the MAXLEN option is provided, the command may run in constant time.",
        summary: "Find the positions of elements equal to a value",
        ..BASE
    },
    CommandSpec {
        name: "lpush",
        arity: -3,
        flags: PUSH_FLAGS,
        acl_categories: WRITE_LIST_FAST,
        key_specs: RW_INSERT,
        since: "1.0.0",
        complexity: PUSH_COMPLEXITY,
        summary: "Add elements at the head of a list, creating it when absent",
        ..BASE
    },
    CommandSpec {
        name: "lpushx",
        arity: -3,
        flags: PUSH_FLAGS,
        acl_categories: WRITE_LIST_FAST,
        key_specs: RW_INSERT,
        since: "2.2.0",
        complexity: PUSH_COMPLEXITY,
        summary: "Add elements at the head of a list only if it exists",
        ..BASE
    },
    CommandSpec {
        name: "lrange",
        arity: 4,
        flags: &[F::Readonly],
        acl_categories: READ_LIST_SLOW,
        key_specs: RO_ACCESS,
        since: "1.0.0",
        complexity: "O(S+N) where S is the distance of start offset from HEAD for small lists, from nearest end (HEAD or TAIL) for large lists; and N is the number of elements in the specified range.",
        summary: "Read the elements of a list between two positions",
        ..BASE
    },
    CommandSpec {
        name: "lrem",
        arity: 4,
        flags: &[F::Write],
        acl_categories: WRITE_LIST_SLOW,
        key_specs: RW_DELETE,
        since: "1.0.0",
        complexity: "O(N+M) where N is the length of the list and M is the number of elements removed.",
        summary: "Remove occurrences of a value from a list",
        ..BASE
    },
    CommandSpec {
        name: "lset",
        arity: 4,
        flags: &[F::Write, F::Denyoom],
        acl_categories: WRITE_LIST_SLOW,
        key_specs: &[key_range(&[K::Rw, K::Update], 1, 0, 1, 0)],
        since: "1.0.0",
        complexity: "O(N) where N is the length of the list. Setting either the first or the last element of the list is O(1).",
        summary: "Overwrite the element at a position of a list",
        ..BASE
    },
    CommandSpec {
        name: "ltrim",
        arity: 4,
        flags: &[F::Write],
        acl_categories: WRITE_LIST_SLOW,
        key_specs: RW_DELETE,
        since: "1.0.0",
        complexity: "O(N) where N is the number of elements to be removed by the operation.",
        summary: "Keep only the elements of a list between two positions",
        ..BASE
    },
    CommandSpec {
        name: "rpop",
        arity: -2,
        flags: &[F::Write, F::Fast],
        acl_categories: WRITE_LIST_FAST,
        key_specs: POP_ONE,
        since: "1.0.0",
        complexity: POP_COMPLEXITY,
        summary: "Remove and return elements from the tail of a list",
        ..BASE
    },
    CommandSpec {
        name: "rpoplpush",
        arity: 3,
        flags: &[F::Write, F::Denyoom],
        acl_categories: WRITE_LIST_SLOW,
        key_specs: MOVE,
        since: "1.2.0",
        complexity: "O(1)",
        summary: "Move the tail of a list to the head of another",
        doc_flags: &["deprecated"],
        deprecated_since: Some("6.2.0"),
        replaced_by: Some("`LMOVE` with the `RIGHT` and `LEFT` arguments"),
        ..BASE
    },
    CommandSpec {
        name: "rpush",
        arity: -3,
        flags: PUSH_FLAGS,
        acl_categories: WRITE_LIST_FAST,
        key_specs: RW_INSERT,
        since: "1.0.0",
        complexity: PUSH_COMPLEXITY,
        summary: "Add elements at the tail of a list, creating it when absent",
        ..BASE
    },
    CommandSpec {
        name: "rpushx",
        arity: -3,
        flags: PUSH_FLAGS,
        acl_categories: WRITE_LIST_FAST,
        key_specs: RW_INSERT,
        since: "2.2.0",
        complexity: PUSH_COMPLEXITY,
        summary: "Add elements at the tail of a list only if it exists",
        ..BASE
    },
];
