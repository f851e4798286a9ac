//! Group `geo`: positions stored as geohash scores of sorted-set members.

use super::spec::{
    AclCategory as A, BeginSearch, CommandSpec, FindKeys, Flag as F, Group, KeyFlag as K, KeySpec,
};
use super::{base, key_range};

const BASE: CommandSpec = base(Group::Geo);

const READ_GEO: &[A] = &[A::Read, A::Geo, A::Slow];
const WRITE_GEO: &[A] = &[A::Write, A::Geo, A::Slow];
const SOURCE: KeySpec = key_range(&[K::Ro, K::Access], 1, 0, 1, 0);
const READ_SOURCE: &[KeySpec] = &[SOURCE];

/// The key after the `keyword` option of GEORADIUS and GEORADIUSBYMEMBER, searched from the
/// first optional argument.
const fn store_key(keyword: &'static str, start_from: i32) -> KeySpec {
    KeySpec {
        notes: None,
        flags: &[K::Ow, K::Update],
        begin_search: BeginSearch::Keyword {
            keyword,
            start_from,
        },
        find_keys: FindKeys::Range {
            last_key: 0,
            key_step: 1,
            limit: 0,
        },
    }
}

const RADIUS_COMPLEXITY: &str = "O(N+log(M)) where N is the number of elements inside the bounding box of the circular area delimited by center and radius and M is the number of items inside the index.";
const SEARCH_COMPLEXITY: &str = "O(N+log(M)) where N is the number of elements in the grid-aligned bounding box area around the shape provided as the filter and M is the number of items inside the shape";

/// Every top-level command of the group.
pub(super) static COMMANDS: &[CommandSpec] = &[
    CommandSpec {
        name: "geoadd",
        arity: -5,
        flags: &[F::Write, F::Denyoom],
        acl_categories: WRITE_GEO,
        key_specs: &[key_range(&[K::Rw, K::Update], 1, 0, 1, 0)],
        since: "3.2.0",
        complexity: "O(log(N)) for each item added, where N is the number of elements in the sorted set.",
        summary: "Store members at longitude/latitude positions in a geo index, creating the key when absent",
        ..BASE
    },
    CommandSpec {
        name: "geodist",
        arity: -4,
        flags: &[F::Readonly],
        acl_categories: READ_GEO,
        key_specs: READ_SOURCE,
        since: "3.2.0",
        complexity: "O(log(N))",
        summary: "Measure the distance between two members of a geo index",
        ..BASE
    },
    CommandSpec {
        name: "geohash",
        arity: -2,
        flags: &[F::Readonly],
        acl_categories: READ_GEO,
        key_specs: READ_SOURCE,
        since: "3.2.0",
        complexity: "O(log(N)) for each member requested, where N is the number of elements in the sorted set.",
        summary: "Give the standard geohash string of members of a geo index",
        ..BASE
    },
    CommandSpec {
        name: "geopos",
        arity: -2,
        flags: &[F::Readonly],
        acl_categories: READ_GEO,
        key_specs: READ_SOURCE,
        since: "3.2.0",
        complexity: "O(N) where N is the number of members requested.",
        summary: "Give the longitude and latitude of members of a geo index",
        ..BASE
    },
    CommandSpec {
        name: "georadius",
        arity: -6,
        flags: &[F::Write, F::Denyoom],
        acl_categories: WRITE_GEO,
        key_specs: &[SOURCE, store_key("STORE", 6), store_key("STOREDIST", 6)],
        since: "3.2.0",
        complexity: RADIUS_COMPLEXITY,
        summary: "Find the members of a geo index within a radius of a position, or store them",
        doc_flags: &["deprecated"],
        deprecated_since: Some("6.2.0"),
        replaced_by: Some("`GEOSEARCH` and `GEOSEARCHSTORE` with the `BYRADIUS` argument"),
        ..BASE
    },
    CommandSpec {
        name: "georadius_ro",
        arity: -6,
        flags: &[F::Readonly],
        acl_categories: READ_GEO,
        key_specs: READ_SOURCE,
        since: "3.2.10",
        complexity: RADIUS_COMPLEXITY,
        summary: "Find the members of a geo index within a radius of a position, read-only",
        doc_flags: &["deprecated"],
        deprecated_since: Some("6.2.0"),
        replaced_by: Some("`GEOSEARCH` with the `BYRADIUS` argument"),
        ..BASE
    },
    CommandSpec {
        name: "georadiusbymember",
        arity: -5,
        flags: &[F::Write, F::Denyoom],
        acl_categories: WRITE_GEO,
        key_specs: &[SOURCE, store_key("STORE", 5), store_key("STOREDIST", 5)],
        since: "3.2.0",
        complexity: RADIUS_COMPLEXITY,
        summary: "Find the members of a geo index within a radius of one of them, or store them",
        doc_flags: &["deprecated"],
        deprecated_since: Some("6.2.0"),
        replaced_by: Some(
            "`GEOSEARCH` and `GEOSEARCHSTORE` with the `BYRADIUS` and `FROMMEMBER` arguments",
        ),
        ..BASE
    },
    CommandSpec {
        name: "georadiusbymember_ro",
        arity: -5,
        flags: &[F::Readonly],
        acl_categories: READ_GEO,
        key_specs: READ_SOURCE,
        since: "3.2.10",
        complexity: RADIUS_COMPLEXITY,
        summary: "Find the members of a geo index within a radius of one of them, read-only",
        doc_flags: &["deprecated"],
        deprecated_since: Some("6.2.0"),
        replaced_by: Some("`GEOSEARCH` with the `BYRADIUS` and `FROMMEMBER` arguments"),
        ..BASE
    },
    CommandSpec {
        name: "geosearch",
        arity: -7,
        flags: &[F::Readonly],
        acl_categories: READ_GEO,
        key_specs: READ_SOURCE,
        since: "6.2.0",
        complexity: SEARCH_COMPLEXITY,
        summary: "Find the members of a geo index inside a circle or a box around a position or a member",
        ..BASE
    },
    CommandSpec {
        name: "geosearchstore",
        arity: -8,
        flags: &[F::Write, F::Denyoom],
        acl_categories: WRITE_GEO,
        key_specs: &[
            key_range(&[K::Ow, K::Update], 1, 0, 1, 0),
            key_range(&[K::Ro, K::Access], 2, 0, 1, 0),
        ],
        since: "6.2.0",
        complexity: SEARCH_COMPLEXITY,
        summary: "Store the members of a geo index inside a circle or a box in another sorted set",
        ..BASE
    },
];
