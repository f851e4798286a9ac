//! Group `cluster`: READONLY and READWRITE. This server has no cluster mode, so, like Redis
//! built without `cluster-enabled`, both exist (ACL rules and COMMAND name them) and refuse.

use super::base;
use super::spec::{AclCategory as A, CommandSpec, Flag as F, Group};

const BASE: CommandSpec = base(Group::Cluster);

/// Every top-level command of the group.
pub(super) static COMMANDS: &[CommandSpec] = &[
    CommandSpec {
        name: "readonly",
        arity: 1,
        flags: &[F::Loading, F::Stale, F::Fast],
        acl_categories: &[A::Fast, A::Connection],
        since: "3.0.0",
        complexity: "O(1)",
        summary: "Let this connection read keys from a cluster replica",
        ..BASE
    },
    CommandSpec {
        name: "readwrite",
        arity: 1,
        flags: &[F::Loading, F::Stale, F::Fast],
        acl_categories: &[A::Fast, A::Connection],
        since: "3.0.0",
        complexity: "O(1)",
        summary: "Stop reading keys from a cluster replica on this connection",
        ..BASE
    },
];
