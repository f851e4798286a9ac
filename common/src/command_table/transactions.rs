//! Group `transactions`: MULTI, EXEC, DISCARD, WATCH, UNWATCH.

use super::spec::{AclCategory as A, CommandSpec, Flag as F, Group, KeyFlag as K};
use super::{base, key_range};

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
    CommandSpec {
        name: "unwatch",
        arity: 1,
        flags: &[F::Noscript, F::Loading, F::Stale, F::Fast, F::AllowBusy],
        acl_categories: &[A::Fast, A::Transaction],
        since: "2.2.0",
        complexity: "O(1)",
        summary: "Forget every key WATCHed by this connection",
        ..BASE
    },
    CommandSpec {
        name: "watch",
        arity: -2,
        flags: &[F::Noscript, F::Loading, F::Stale, F::Fast, F::AllowBusy],
        acl_categories: &[A::Fast, A::Transaction],
        key_specs: &[key_range(&[K::Ro], 1, -1, 1, 0)],
        since: "2.2.0",
        complexity: "O(1) for every key.",
        summary: "Make the next EXEC fail if any of these keys changes before it",
        ..BASE
    },
];
