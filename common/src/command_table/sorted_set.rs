//! Group `sorted-set`: commands on sorted sets (members ordered by score, then bytewise).

use super::spec::{
    AclCategory as A, BeginSearch, CommandSpec, FindKeys, Flag as F, Group, KeyFlag as K, KeySpec,
};
use super::{base, key_range};

const BASE: CommandSpec = base(Group::SortedSet);

/// A key spec that begins at a fixed index and reads the number of keys from an argument.
const fn key_keynum(
    flags: &'static [K],
    index: i32,
    keynum_index: i32,
    first_key: i32,
    key_step: i32,
) -> KeySpec {
    KeySpec {
        notes: None,
        flags,
        begin_search: BeginSearch::Index(index),
        find_keys: FindKeys::Keynum {
            keynum_index,
            first_key,
            key_step,
        },
    }
}

/// Every top-level command of the group.
pub(super) static COMMANDS: &[CommandSpec] = &[
    CommandSpec {
        name: "bzmpop",
        arity: -5,
        flags: &[F::Write, F::Blocking],
        acl_categories: &[A::Write, A::SortedSet, A::Slow, A::Blocking],
        key_specs: &[key_keynum(&[K::Rw, K::Access, K::Delete], 2, 0, 1, 1)],
        since: "7.0.0",
        complexity: "O(K) + O(M*log(N)) where K is the number of provided keys, N being the number of elements in the sorted set, and M being the number of elements popped.",
        summary: "Pop members with the lowest or highest scores from the first non-empty of several sorted sets, waiting until one has some",
        ..BASE
    },
    CommandSpec {
        name: "bzpopmax",
        arity: -3,
        flags: &[F::Write, F::Noscript, F::Blocking, F::Fast],
        acl_categories: &[A::Write, A::SortedSet, A::Fast, A::Blocking],
        key_specs: &[key_range(&[K::Rw, K::Access, K::Delete], 1, -2, 1, 0)],
        since: "5.0.0",
        complexity: "O(log(N)) with N being the number of elements in the sorted set.",
        summary: "Pop the member with the highest score from the first non-empty sorted set, waiting until one has some",
        ..BASE
    },
    CommandSpec {
        name: "bzpopmin",
        arity: -3,
        flags: &[F::Write, F::Noscript, F::Blocking, F::Fast],
        acl_categories: &[A::Write, A::SortedSet, A::Fast, A::Blocking],
        key_specs: &[key_range(&[K::Rw, K::Access, K::Delete], 1, -2, 1, 0)],
        since: "5.0.0",
        complexity: "O(log(N)) with N being the number of elements in the sorted set.",
        summary: "Pop the member with the lowest score from the first non-empty sorted set, waiting until one has some",
        ..BASE
    },
    CommandSpec {
        name: "zadd",
        arity: -4,
        flags: &[F::Write, F::Denyoom, F::Fast],
        acl_categories: &[A::Write, A::SortedSet, A::Fast],
        key_specs: &[key_range(&[K::Rw, K::Update], 1, 0, 1, 0)],
        since: "1.2.0",
        complexity: "O(log(N)) for each item added, where N is the number of elements in the sorted set.",
        summary: "Add members with scores to a sorted set, or change their scores, creating the key when absent",
        ..BASE
    },
    CommandSpec {
        name: "zcard",
        arity: 2,
        flags: &[F::Readonly, F::Fast],
        acl_categories: &[A::Read, A::SortedSet, A::Fast],
        key_specs: &[key_range(&[K::Ro], 1, 0, 1, 0)],
        since: "1.2.0",
        complexity: "O(1)",
        summary: "Count the members of a sorted set",
        ..BASE
    },
    CommandSpec {
        name: "zcount",
        arity: 4,
        flags: &[F::Readonly, F::Fast],
        acl_categories: &[A::Read, A::SortedSet, A::Fast],
        key_specs: &[key_range(&[K::Ro, K::Access], 1, 0, 1, 0)],
        since: "2.0.0",
        complexity: "O(log(N)) with N being the number of elements in the sorted set.",
        summary: "Count the members whose scores lie in a range",
        ..BASE
    },
    CommandSpec {
        name: "zdiff",
        arity: -3,
        flags: &[F::Readonly],
        acl_categories: &[A::Read, A::SortedSet, A::Slow],
        key_specs: &[key_keynum(&[K::Ro, K::Access], 1, 0, 1, 1)],
        since: "6.2.0",
        complexity: "O(L + (N-K)log(N)) worst case where L is the total number of elements in all the sets, N is the size of the first set, and K is the size of the result set.",
        summary: "List the members of the first sorted set that no other given set holds",
        ..BASE
    },
    CommandSpec {
        name: "zdiffstore",
        arity: -4,
        flags: &[F::Write, F::Denyoom],
        acl_categories: &[A::Write, A::SortedSet, A::Slow],
        key_specs: &[
            key_range(&[K::Ow, K::Update], 1, 0, 1, 0),
            key_keynum(&[K::Ro, K::Access], 2, 0, 1, 1),
        ],
        since: "6.2.0",
        complexity: "O(L + (N-K)log(N)) worst case where L is the total number of elements in all the sets, N is the size of the first set, and K is the size of the result set.",
        summary: "Store the members of the first sorted set that no other given set holds",
        ..BASE
    },
    CommandSpec {
        name: "zincrby",
        arity: 4,
        flags: &[F::Write, F::Denyoom, F::Fast],
        acl_categories: &[A::Write, A::SortedSet, A::Fast],
        key_specs: &[key_range(&[K::Rw, K::Access, K::Update], 1, 0, 1, 0)],
        since: "1.2.0",
        complexity: "O(log(N)) where N is the number of elements in the sorted set.",
        summary: "Add an amount to the score of a member of a sorted set",
        ..BASE
    },
    CommandSpec {
        name: "zinter",
        arity: -3,
        flags: &[F::Readonly],
        acl_categories: &[A::Read, A::SortedSet, A::Slow],
        key_specs: &[key_keynum(&[K::Ro, K::Access], 1, 0, 1, 1)],
        since: "6.2.0",
        complexity: "O(N*K)+O(M*log(M)) worst case with N being the smallest input sorted set, K being the number of input sorted sets and M being the number of elements in the resulting sorted set.",
        summary: "List the members every given set holds, with combined scores",
        ..BASE
    },
    CommandSpec {
        name: "zintercard",
        arity: -3,
        flags: &[F::Readonly],
        acl_categories: &[A::Read, A::SortedSet, A::Slow],
        key_specs: &[key_keynum(&[K::Ro, K::Access], 1, 0, 1, 1)],
        since: "7.0.0",
        complexity: "O(N*K) worst case with N being the smallest input sorted set, K being the number of input sorted sets.",
        summary: "Count the members every given set holds, optionally stopping at a limit",
        ..BASE
    },
    CommandSpec {
        name: "zinterstore",
        arity: -4,
        flags: &[F::Write, F::Denyoom],
        acl_categories: &[A::Write, A::SortedSet, A::Slow],
        key_specs: &[
            key_range(&[K::Ow, K::Update], 1, 0, 1, 0),
            key_keynum(&[K::Ro, K::Access], 2, 0, 1, 1),
        ],
        since: "2.0.0",
        complexity: "O(N*K)+O(M*log(M)) worst case with N being the smallest input sorted set, K being the number of input sorted sets and M being the number of elements in the resulting sorted set.",
        summary: "Store the members every given set holds, with combined scores",
        ..BASE
    },
    CommandSpec {
        name: "zlexcount",
        arity: 4,
        flags: &[F::Readonly, F::Fast],
        acl_categories: &[A::Read, A::SortedSet, A::Fast],
        key_specs: &[key_range(&[K::Ro, K::Access], 1, 0, 1, 0)],
        since: "2.8.9",
        complexity: "O(log(N)) with N being the number of elements in the sorted set.",
        summary: "Count the members that lie in a lexicographical range",
        ..BASE
    },
    CommandSpec {
        name: "zmpop",
        arity: -4,
        flags: &[F::Write],
        acl_categories: &[A::Write, A::SortedSet, A::Slow],
        key_specs: &[key_keynum(&[K::Rw, K::Access, K::Delete], 1, 0, 1, 1)],
        since: "7.0.0",
        complexity: "O(K) + O(M*log(N)) where K is the number of provided keys, N being the number of elements in the sorted set, and M being the number of elements popped.",
        summary: "Pop members with the lowest or highest scores from the first non-empty of several sorted sets",
        ..BASE
    },
    CommandSpec {
        name: "zmscore",
        arity: -3,
        flags: &[F::Readonly, F::Fast],
        acl_categories: &[A::Read, A::SortedSet, A::Fast],
        key_specs: &[key_range(&[K::Ro, K::Access], 1, 0, 1, 0)],
        since: "6.2.0",
        complexity: "O(N) where N is the number of members being requested.",
        summary: "Read the scores of several members",
        ..BASE
    },
    CommandSpec {
        name: "zpopmax",
        arity: -2,
        flags: &[F::Write, F::Fast],
        acl_categories: &[A::Write, A::SortedSet, A::Fast],
        key_specs: &[key_range(&[K::Rw, K::Access, K::Delete], 1, 0, 1, 0)],
        since: "5.0.0",
        complexity: "O(log(N)*M) with N being the number of elements in the sorted set, and M being the number of elements popped.",
        summary: "Remove and return the members with the highest scores",
        ..BASE
    },
    CommandSpec {
        name: "zpopmin",
        arity: -2,
        flags: &[F::Write, F::Fast],
        acl_categories: &[A::Write, A::SortedSet, A::Fast],
        key_specs: &[key_range(&[K::Rw, K::Access, K::Delete], 1, 0, 1, 0)],
        since: "5.0.0",
        complexity: "O(log(N)*M) with N being the number of elements in the sorted set, and M being the number of elements popped.",
        summary: "Remove and return the members with the lowest scores",
        ..BASE
    },
    CommandSpec {
        name: "zrandmember",
        arity: -2,
        flags: &[F::Readonly],
        acl_categories: &[A::Read, A::SortedSet, A::Slow],
        key_specs: &[key_range(&[K::Ro, K::Access], 1, 0, 1, 0)],
        tips: &["nondeterministic_output"],
        since: "6.2.0",
        complexity: "O(N) where N is the number of elements returned",
        summary: "Pick random members of a sorted set, with or without repetition",
        ..BASE
    },
    CommandSpec {
        name: "zrange",
        arity: -4,
        flags: &[F::Readonly],
        acl_categories: &[A::Read, A::SortedSet, A::Slow],
        key_specs: &[key_range(&[K::Ro, K::Access], 1, 0, 1, 0)],
        since: "1.2.0",
        complexity: "O(log(N)+M) with N being the number of elements in the sorted set and M the number of elements returned.",
        summary: "List the members in a range of ranks, scores or lexicographical order",
        ..BASE
    },
    CommandSpec {
        name: "zrangebylex",
        arity: -4,
        flags: &[F::Readonly],
        acl_categories: &[A::Read, A::SortedSet, A::Slow],
        key_specs: &[key_range(&[K::Ro, K::Access], 1, 0, 1, 0)],
        since: "2.8.9",
        complexity: "O(log(N)+M) with N being the number of elements in the sorted set and M the number of elements being returned. If M is constant (e.g. always asking for the first 10 elements with LIMIT), you can consider it O(log(N)).",
        summary: "List the members in a lexicographical range",
        doc_flags: &["deprecated"],
        deprecated_since: Some("6.2.0"),
        replaced_by: Some("`ZRANGE` with the `BYLEX` argument"),
        ..BASE
    },
    CommandSpec {
        name: "zrangebyscore",
        arity: -4,
        flags: &[F::Readonly],
        acl_categories: &[A::Read, A::SortedSet, A::Slow],
        key_specs: &[key_range(&[K::Ro, K::Access], 1, 0, 1, 0)],
        since: "1.0.5",
        complexity: "O(log(N)+M) with N being the number of elements in the sorted set and M the number of elements being returned. If M is constant (e.g. always asking for the first 10 elements with LIMIT), you can consider it O(log(N)).",
        summary: "List the members whose scores lie in a range",
        doc_flags: &["deprecated"],
        deprecated_since: Some("6.2.0"),
        replaced_by: Some("`ZRANGE` with the `BYSCORE` argument"),
        ..BASE
    },
    CommandSpec {
        name: "zrangestore",
        arity: -5,
        flags: &[F::Write, F::Denyoom],
        acl_categories: &[A::Write, A::SortedSet, A::Slow],
        key_specs: &[
            key_range(&[K::Ow, K::Update], 1, 0, 1, 0),
            key_range(&[K::Ro, K::Access], 2, 0, 1, 0),
        ],
        since: "6.2.0",
        complexity: "O(log(N)+M) with N being the number of elements in the sorted set and M the number of elements stored into the destination key.",
        summary: "Store a range of a sorted set into another key",
        ..BASE
    },
    CommandSpec {
        name: "zrank",
        arity: 3,
        flags: &[F::Readonly, F::Fast],
        acl_categories: &[A::Read, A::SortedSet, A::Fast],
        key_specs: &[key_range(&[K::Ro, K::Access], 1, 0, 1, 0)],
        since: "2.0.0",
        complexity: "O(log(N))",
        summary: "Position of a member, by ascending score",
        ..BASE
    },
    CommandSpec {
        name: "zrem",
        arity: -3,
        flags: &[F::Write, F::Fast],
        acl_categories: &[A::Write, A::SortedSet, A::Fast],
        key_specs: &[key_range(&[K::Rw, K::Delete], 1, 0, 1, 0)],
        since: "1.2.0",
        complexity: "O(M*log(N)) with N being the number of elements in the sorted set and M the number of elements to be removed.",
        summary: "Remove members from a sorted set",
        ..BASE
    },
    CommandSpec {
        name: "zremrangebylex",
        arity: 4,
        flags: &[F::Write],
        acl_categories: &[A::Write, A::SortedSet, A::Slow],
        key_specs: &[key_range(&[K::Rw, K::Delete], 1, 0, 1, 0)],
        since: "2.8.9",
        complexity: "O(log(N)+M) with N being the number of elements in the sorted set and M the number of elements removed by the operation.",
        summary: "Remove the members in a lexicographical range",
        ..BASE
    },
    CommandSpec {
        name: "zremrangebyrank",
        arity: 4,
        flags: &[F::Write],
        acl_categories: &[A::Write, A::SortedSet, A::Slow],
        key_specs: &[key_range(&[K::Rw, K::Delete], 1, 0, 1, 0)],
        since: "2.0.0",
        complexity: "O(log(N)+M) with N being the number of elements in the sorted set and M the number of elements removed by the operation.",
        summary: "Remove the members in a range of ranks",
        ..BASE
    },
    CommandSpec {
        name: "zremrangebyscore",
        arity: 4,
        flags: &[F::Write],
        acl_categories: &[A::Write, A::SortedSet, A::Slow],
        key_specs: &[key_range(&[K::Rw, K::Delete], 1, 0, 1, 0)],
        since: "1.2.0",
        complexity: "O(log(N)+M) with N being the number of elements in the sorted set and M the number of elements removed by the operation.",
        summary: "Remove the members whose scores lie in a range",
        ..BASE
    },
    CommandSpec {
        name: "zrevrange",
        arity: -4,
        flags: &[F::Readonly],
        acl_categories: &[A::Read, A::SortedSet, A::Slow],
        key_specs: &[key_range(&[K::Ro, K::Access], 1, 0, 1, 0)],
        since: "1.2.0",
        complexity: "O(log(N)+M) with N being the number of elements in the sorted set and M the number of elements returned.",
        summary: "List the members in a range of ranks, highest score first",
        doc_flags: &["deprecated"],
        deprecated_since: Some("6.2.0"),
        replaced_by: Some("`ZRANGE` with the `REV` argument"),
        ..BASE
    },
    CommandSpec {
        name: "zrevrangebylex",
        arity: -4,
        flags: &[F::Readonly],
        acl_categories: &[A::Read, A::SortedSet, A::Slow],
        key_specs: &[key_range(&[K::Ro, K::Access], 1, 0, 1, 0)],
        since: "2.8.9",
        complexity: "O(log(N)+M) with N being the number of elements in the sorted set and M the number of elements being returned. If M is constant (e.g. always asking for the first 10 elements with LIMIT), you can consider it O(log(N)).",
        summary: "List the members in a lexicographical range, in reverse order",
        doc_flags: &["deprecated"],
        deprecated_since: Some("6.2.0"),
        replaced_by: Some("`ZRANGE` with the `REV` and `BYLEX` arguments"),
        ..BASE
    },
    CommandSpec {
        name: "zrevrangebyscore",
        arity: -4,
        flags: &[F::Readonly],
        acl_categories: &[A::Read, A::SortedSet, A::Slow],
        key_specs: &[key_range(&[K::Ro, K::Access], 1, 0, 1, 0)],
        since: "2.2.0",
        complexity: "O(log(N)+M) with N being the number of elements in the sorted set and M the number of elements being returned. If M is constant (e.g. always asking for the first 10 elements with LIMIT), you can consider it O(log(N)).",
        summary: "List the members whose scores lie in a range, highest first",
        doc_flags: &["deprecated"],
        deprecated_since: Some("6.2.0"),
        replaced_by: Some("`ZRANGE` with the `REV` and `BYSCORE` arguments"),
        ..BASE
    },
    CommandSpec {
        name: "zrevrank",
        arity: 3,
        flags: &[F::Readonly, F::Fast],
        acl_categories: &[A::Read, A::SortedSet, A::Fast],
        key_specs: &[key_range(&[K::Ro, K::Access], 1, 0, 1, 0)],
        since: "2.0.0",
        complexity: "O(log(N))",
        summary: "Position of a member, by descending score",
        ..BASE
    },
    CommandSpec {
        name: "zscan",
        arity: -3,
        flags: &[F::Readonly],
        acl_categories: &[A::Read, A::SortedSet, A::Slow],
        key_specs: &[key_range(&[K::Ro, K::Access], 1, 0, 1, 0)],
        tips: &["nondeterministic_output"],
        since: "2.8.0",
        complexity: "O(1) for every call. O(N) for a complete iteration, including enough command calls for the cursor to return back to 0. N is the number of elements inside the collection..",
        summary: "Iterate over the members and scores of a sorted set",
        ..BASE
    },
    CommandSpec {
        name: "zscore",
        arity: 3,
        flags: &[F::Readonly, F::Fast],
        acl_categories: &[A::Read, A::SortedSet, A::Fast],
        key_specs: &[key_range(&[K::Ro, K::Access], 1, 0, 1, 0)],
        since: "1.2.0",
        complexity: "O(1)",
        summary: "Read the score of a member",
        ..BASE
    },
    CommandSpec {
        name: "zunion",
        arity: -3,
        flags: &[F::Readonly],
        acl_categories: &[A::Read, A::SortedSet, A::Slow],
        key_specs: &[key_keynum(&[K::Ro, K::Access], 1, 0, 1, 1)],
        since: "6.2.0",
        complexity: "O(N)+O(M*log(M)) with N being the sum of the sizes of the input sorted sets, and M being the number of elements in the resulting sorted set.",
        summary: "List the members any given set holds, with combined scores",
        ..BASE
    },
    CommandSpec {
        name: "zunionstore",
        arity: -4,
        flags: &[F::Write, F::Denyoom],
        acl_categories: &[A::Write, A::SortedSet, A::Slow],
        key_specs: &[
            key_range(&[K::Ow, K::Update], 1, 0, 1, 0),
            key_keynum(&[K::Ro, K::Access], 2, 0, 1, 1),
        ],
        since: "2.0.0",
        complexity: "O(N)+O(M log(M)) with N being the sum of the sizes of the input sorted sets, and M being the number of elements in the resulting sorted set.",
        summary: "Store the members any given set holds, with combined scores",
        ..BASE
    },
];
