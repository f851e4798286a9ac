//! Group `pubsub`: channels, patterns and shard channels.

use super::spec::{AclCategory as A, CommandSpec, Flag as F, Group, KeyFlag as K, KeySpec};
use super::{base, key_range};

const BASE: CommandSpec = base(Group::Pubsub);

const SUBSCRIBE_FLAGS: &[F] = &[F::Pubsub, F::Noscript, F::Loading, F::Stale, F::Sentinel];
const PUBSUB_SLOW: &[A] = &[A::Pubsub, A::Slow];
const PUBSUB_FAST: &[A] = &[A::Pubsub, A::Fast];
/// Shard channels are hashed like keys (cluster slots) but are not keys.
const SHARD_CHANNELS: &[KeySpec] = &[key_range(&[K::NotKey], 1, -1, 1, 0)];
const SHARD_CHANNEL: &[KeySpec] = &[key_range(&[K::NotKey], 1, 0, 1, 0)];

/// Every top-level command of the group.
pub(super) static COMMANDS: &[CommandSpec] = &[
    CommandSpec {
        name: "psubscribe",
        arity: -2,
        flags: SUBSCRIBE_FLAGS,
        acl_categories: PUBSUB_SLOW,
        since: "2.0.0",
        complexity: "O(N) where N is the number of patterns the client is already subscribed to.",
        summary: "Receive the messages of every channel matching the given patterns",
        ..BASE
    },
    CommandSpec {
        name: "publish",
        arity: 3,
        flags: &[
            F::Pubsub,
            F::Loading,
            F::Stale,
            F::Fast,
            F::MayReplicate,
            F::Sentinel,
        ],
        acl_categories: PUBSUB_FAST,
        since: "2.0.0",
        complexity: "O(N+M) where N is the number of clients subscribed to the receiving channel and M is the total number of subscribed patterns (by any client).",
        summary: "Send a message to the subscribers of a channel",
        ..BASE
    },
    CommandSpec {
        name: "pubsub",
        arity: -2,
        acl_categories: &[A::Slow],
        since: "2.8.0",
        complexity: "Depends on subcommand.",
        summary: "Inspect the channels and patterns clients subscribe to",
        ..BASE
    },
    CommandSpec {
        name: "punsubscribe",
        arity: -1,
        flags: SUBSCRIBE_FLAGS,
        acl_categories: PUBSUB_SLOW,
        since: "2.0.0",
        complexity: "O(N+M) where N is the number of patterns the client is already subscribed and M is the number of total patterns subscribed in the system (by any client).",
        summary: "Stop receiving the messages of the given patterns (all when none is given)",
        ..BASE
    },
    CommandSpec {
        name: "spublish",
        arity: 3,
        flags: &[F::Pubsub, F::Loading, F::Stale, F::Fast, F::MayReplicate],
        acl_categories: PUBSUB_FAST,
        key_specs: SHARD_CHANNEL,
        since: "7.0.0",
        complexity: "O(N) where N is the number of clients subscribed to the receiving shard channel.",
        summary: "Send a message to the subscribers of a shard channel",
        ..BASE
    },
    CommandSpec {
        name: "ssubscribe",
        arity: -2,
        flags: &[F::Pubsub, F::Noscript, F::Loading, F::Stale],
        acl_categories: PUBSUB_SLOW,
        key_specs: SHARD_CHANNELS,
        since: "7.0.0",
        complexity: "O(N) where N is the number of shard channels to subscribe to.",
        summary: "Receive the messages of the given shard channels",
        ..BASE
    },
    CommandSpec {
        name: "subscribe",
        arity: -2,
        flags: SUBSCRIBE_FLAGS,
        acl_categories: PUBSUB_SLOW,
        since: "2.0.0",
        complexity: "O(N) where N is the number of channels to subscribe to.",
        summary: "Receive the messages of the given channels",
        ..BASE
    },
    CommandSpec {
        name: "sunsubscribe",
        arity: -1,
        flags: &[F::Pubsub, F::Noscript, F::Loading, F::Stale],
        acl_categories: PUBSUB_SLOW,
        key_specs: SHARD_CHANNELS,
        since: "7.0.0",
        complexity: "O(N) where N is the number of clients already subscribed to a shard channel.",
        summary: "Stop receiving the messages of the given shard channels (all when none is given)",
        ..BASE
    },
    CommandSpec {
        name: "unsubscribe",
        arity: -1,
        flags: SUBSCRIBE_FLAGS,
        acl_categories: PUBSUB_SLOW,
        since: "2.0.0",
        complexity: "O(N) where N is the number of clients already subscribed to a channel.",
        summary: "Stop receiving the messages of the given channels (all when none is given)",
        ..BASE
    },
];

const PUBSUB_SUB: CommandSpec = CommandSpec {
    container: Some("pubsub"),
    arity: -2,
    flags: &[F::Pubsub, F::Loading, F::Stale],
    acl_categories: PUBSUB_SLOW,
    since: "2.8.0",
    ..BASE
};

/// The subcommands of PUBSUB.
pub(super) static PUBSUB: &[CommandSpec] = &[
    CommandSpec {
        name: "channels",
        complexity: "O(N) where N is the number of active channels, and assuming constant time pattern matching (relatively short channels and patterns)",
        summary: "List the channels with subscribers, optionally those matching a pattern",
        ..PUBSUB_SUB
    },
    CommandSpec {
        name: "help",
        arity: 2,
        flags: &[F::Loading, F::Stale],
        acl_categories: &[A::Slow],
        since: "6.2.0",
        complexity: "O(1)",
        summary: "Explain the PUBSUB subcommands",
        ..PUBSUB_SUB
    },
    CommandSpec {
        name: "numpat",
        arity: 2,
        complexity: "O(1)",
        summary: "Count the pattern subscriptions of every client",
        ..PUBSUB_SUB
    },
    CommandSpec {
        name: "numsub",
        complexity: "O(N) for the NUMSUB subcommand, where N is the number of requested channels",
        summary: "Count the subscribers of each given channel (patterns not included)",
        ..PUBSUB_SUB
    },
    CommandSpec {
        name: "shardchannels",
        since: "7.0.0",
        complexity: "O(N) where N is the number of active shard channels, and assuming constant time pattern matching (relatively short shard channels).",
        summary: "List the shard channels with subscribers, optionally those matching a pattern",
        ..PUBSUB_SUB
    },
    CommandSpec {
        name: "shardnumsub",
        since: "7.0.0",
        complexity: "O(N) for the SHARDNUMSUB subcommand, where N is the number of requested shard channels",
        summary: "Count the subscribers of each given shard channel",
        ..PUBSUB_SUB
    },
];
