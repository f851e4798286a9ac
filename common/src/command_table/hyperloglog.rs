//! Group `hyperloglog`: cardinality estimates kept in string values (PFADD, PFCOUNT, PFMERGE)
//! and the two debugging commands Redis's test suite uses (PFDEBUG, PFSELFTEST).

use super::spec::{AclCategory as A, CommandSpec, Flag as F, Group, KeyFlag as K, KeySpec};
use super::{base, key_range};

const BASE: CommandSpec = base(Group::Hyperloglog);

/// Every top-level command of the group.
pub(super) static COMMANDS: &[CommandSpec] = &[
    CommandSpec {
        name: "pfadd",
        arity: -2,
        flags: &[F::Write, F::Denyoom, F::Fast],
        acl_categories: &[A::Write, A::Hyperloglog, A::Fast],
        key_specs: &[key_range(&[K::Rw, K::Insert], 1, 0, 1, 0)],
        since: "2.8.9",
        complexity: "O(1) to add every element.",
        summary: "Add elements to a HyperLogLog, creating it if needed",
        ..BASE
    },
    CommandSpec {
        name: "pfcount",
        arity: -2,
        flags: &[F::Readonly, F::MayReplicate],
        acl_categories: &[A::Read, A::Hyperloglog, A::Slow],
        key_specs: &[KeySpec {
            notes: Some(
                "RW because it may change the internal representation of the key, and propagate to replicas",
            ),
            ..key_range(&[K::Rw, K::Access], 1, -1, 1, 0)
        }],
        since: "2.8.9",
        complexity: "O(1) with a very small average constant time when called with a single key. O(N) with N being the number of keys, and much bigger constant times, when called with multiple keys.",
        summary: "Estimate how many distinct elements one HyperLogLog, or the union of several, has seen",
        ..BASE
    },
    CommandSpec {
        name: "pfdebug",
        arity: 3,
        flags: &[F::Write, F::Denyoom, F::Admin],
        acl_categories: &[A::Write, A::Hyperloglog, A::Admin, A::Slow, A::Dangerous],
        key_specs: &[key_range(&[K::Rw, K::Access], 2, 0, 1, 0)],
        since: "2.8.9",
        complexity: "N/A",
        summary: "Inspect or convert the internal representation of a HyperLogLog",
        doc_flags: &["syscmd"],
        ..BASE
    },
    CommandSpec {
        name: "pfmerge",
        arity: -2,
        flags: &[F::Write, F::Denyoom],
        acl_categories: &[A::Write, A::Hyperloglog, A::Slow],
        key_specs: &[
            key_range(&[K::Rw, K::Access, K::Insert], 1, 0, 1, 0),
            key_range(&[K::Ro, K::Access], 2, -1, 1, 0),
        ],
        since: "2.8.9",
        complexity: "O(N) to merge N HyperLogLogs, but with high constant times.",
        summary: "Store the union of HyperLogLogs in a destination key",
        ..BASE
    },
    CommandSpec {
        name: "pfselftest",
        arity: 1,
        flags: &[F::Admin],
        acl_categories: &[A::Hyperloglog, A::Admin, A::Slow, A::Dangerous],
        since: "2.8.9",
        complexity: "N/A",
        summary: "Check the HyperLogLog implementation against itself",
        doc_flags: &["syscmd"],
        ..BASE
    },
];
