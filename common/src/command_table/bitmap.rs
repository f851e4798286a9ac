//! Group `bitmap`: commands that treat a string value as an array of bits or of small integers.

use super::spec::{AclCategory as A, CommandSpec, Flag as F, Group, KeyFlag as K, KeySpec};
use super::{base, key_range};

const BASE: CommandSpec = base(Group::Bitmap);

const RO_ACCESS: &[KeySpec] = &[key_range(&[K::Ro, K::Access], 1, 0, 1, 0)];

const READ_BITMAP_SLOW: &[A] = &[A::Read, A::Bitmap, A::Slow];
const READ_BITMAP_FAST: &[A] = &[A::Read, A::Bitmap, A::Fast];
const WRITE_BITMAP_SLOW: &[A] = &[A::Write, A::Bitmap, A::Slow];

const BITFIELD_COMPLEXITY: &str = "O(1) for each subcommand specified";

/// Every top-level command of the group.
pub(super) static COMMANDS: &[CommandSpec] = &[
    CommandSpec {
        name: "bitcount",
        arity: -2,
        flags: &[F::Readonly],
        acl_categories: READ_BITMAP_SLOW,
        key_specs: RO_ACCESS,
        since: "2.6.0",
        complexity: "O(N)",
        summary: "Count the bits set to 1 in a string, optionally within a byte or bit range",
        ..BASE
    },
    CommandSpec {
        name: "bitfield",
        arity: -2,
        flags: &[F::Write, F::Denyoom],
        acl_categories: WRITE_BITMAP_SLOW,
        key_specs: &[KeySpec {
            notes: Some("This command allows both access and modification of the key"),
            ..key_range(&[K::Rw, K::Access, K::Update, K::VariableFlags], 1, 0, 1, 0)
        }],
        since: "3.2.0",
        complexity: BITFIELD_COMPLEXITY,
        summary: "Read, write and increment integers of any width stored at bit offsets of a string",
        ..BASE
    },
    CommandSpec {
        name: "bitfield_ro",
        arity: -2,
        flags: &[F::Readonly, F::Fast],
        acl_categories: READ_BITMAP_FAST,
        key_specs: RO_ACCESS,
        since: "6.0.0",
        complexity: BITFIELD_COMPLEXITY,
        summary: "Read integers stored at bit offsets of a string, without writing",
        ..BASE
    },
    CommandSpec {
        name: "bitop",
        arity: -4,
        flags: &[F::Write, F::Denyoom],
        acl_categories: WRITE_BITMAP_SLOW,
        key_specs: &[
            key_range(&[K::Ow, K::Update], 2, 0, 1, 0),
            key_range(&[K::Ro, K::Access], 3, -1, 1, 0),
        ],
        since: "2.6.0",
        complexity: "O(N)",
        summary: "Combine strings bit by bit with AND, OR, XOR or NOT into a destination key",
        ..BASE
    },
    CommandSpec {
        name: "bitpos",
        arity: -3,
        flags: &[F::Readonly],
        acl_categories: READ_BITMAP_SLOW,
        key_specs: RO_ACCESS,
        since: "2.8.7",
        complexity: "O(N)",
        summary: "Find the offset of the first bit set to 1 or 0 in a string, optionally within a range",
        ..BASE
    },
    CommandSpec {
        name: "getbit",
        arity: 3,
        flags: &[F::Readonly, F::Fast],
        acl_categories: READ_BITMAP_FAST,
        key_specs: RO_ACCESS,
        since: "2.2.0",
        complexity: "O(1)",
        summary: "Read the bit at an offset of a string",
        ..BASE
    },
    CommandSpec {
        name: "setbit",
        arity: 4,
        flags: &[F::Write, F::Denyoom],
        acl_categories: WRITE_BITMAP_SLOW,
        key_specs: &[key_range(&[K::Rw, K::Access, K::Update], 1, 0, 1, 0)],
        since: "2.2.0",
        complexity: "O(1)",
        summary: "Set or clear the bit at an offset of a string, growing it as needed",
        ..BASE
    },
];
