//! Group `transactions`: MULTI, EXEC, DISCARD. (WATCH and UNWATCH are not built yet.)

use super::base;
use super::spec::{AclCategory as A, CommandSpec, Flag as F, Group};

const BASE: CommandSpec = base(Group::Transactions);

/// Every top-level command of the group.
pub(super) static COMMANDS: &[CommandSpec] = &[
    CommandSpec {
        name: "discard",
        arity: 1,
        flags: &[F::Noscript, F::Loading, F::Stale, F::Fast, F::AllowBusy],
        acl_categories: &[A::Fast, A::Transaction],
        since: "2.0.0",
        complexity: "O(N), when N is the number of queued commands",
        summary: "Drop every command queued since MULTI and leave the transaction",
        ..BASE
    },
    CommandSpec {
        name: "exec",
        arity: 1,
        flags: &[F::Noscript, F::Loading, F::Stale, F::SkipSlowlog],
        acl_categories: &[A::Slow, A::Transaction],
        since: "1.2.0",
        complexity: "Depends on commands in the transaction",
        summary: "Run every command queued since MULTI, alone and in order",
        ..BASE
    },
    CommandSpec {
        name: "multi",
        arity: 1,
        flags: &[F::Noscript, F::Loading, F::Stale, F::Fast, F::AllowBusy],
        acl_categories: &[A::Fast, A::Transaction],
        since: "1.2.0",
        complexity: "O(1)",
        summary: "Start queueing commands for one atomic EXEC",
        ..BASE
    },
];
