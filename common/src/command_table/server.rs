//! Group `server`: commands about the server as a whole (introspection, configuration,
//! databases, diagnostics). Replication commands of this group live with replication.

use super::spec::{AclCategory as A, CommandSpec, Flag as F, Group, KeyFlag as K};
use super::{base, key_range};

const BASE: CommandSpec = base(Group::Server);

const ADMIN: &[F] = &[F::Admin, F::Noscript, F::Loading, F::Stale];
const ADMIN_SLOW: &[A] = &[A::Admin, A::Slow, A::Dangerous];
const KEYSPACE_FLUSH: &[A] = &[A::Keyspace, A::Write, A::Slow, A::Dangerous];
const ALL_SHARDS_SUCCEED: &[&str] = &["request_policy:all_shards", "response_policy:all_succeeded"];

/// Every top-level command of the group.
pub(super) static COMMANDS: &[CommandSpec] = &[
    CommandSpec {
        name: "acl",
        arity: -2,
        flags: &[F::Sentinel],
        acl_categories: &[A::Slow],
        since: "6.0.0",
        complexity: "Depends on subcommand.",
        summary: "Manage users and their permissions",
        ..BASE
    },
    CommandSpec {
        name: "bgrewriteaof",
        arity: 1,
        flags: &[F::Admin, F::Noscript, F::NoAsyncLoading],
        acl_categories: ADMIN_SLOW,
        since: "1.0.0",
        complexity: "O(1)",
        summary: "Rewrite the append-only file in the background from a snapshot",
        ..BASE
    },
    CommandSpec {
        name: "bgsave",
        arity: -1,
        flags: &[F::Admin, F::Noscript, F::NoAsyncLoading],
        acl_categories: ADMIN_SLOW,
        since: "1.0.0",
        complexity: "O(1)",
        summary: "Write an RDB snapshot to disk in the background",
        ..BASE
    },
    CommandSpec {
        name: "command",
        arity: -1,
        flags: &[F::Loading, F::Stale, F::Sentinel],
        acl_categories: &[A::Slow, A::Connection],
        tips: &["nondeterministic_output_order"],
        since: "2.8.13",
        complexity: "O(N) where N is the total number of Redis commands",
        summary: "Describe every command the server knows",
        ..BASE
    },
    CommandSpec {
        name: "config",
        arity: -2,
        acl_categories: &[A::Slow],
        since: "2.0.0",
        complexity: "Depends on subcommand.",
        summary: "Read and change the server configuration at run time",
        ..BASE
    },
    CommandSpec {
        name: "dbsize",
        arity: 1,
        flags: &[F::Readonly, F::Fast],
        acl_categories: &[A::Keyspace, A::Read, A::Fast],
        tips: &["request_policy:all_shards", "response_policy:agg_sum"],
        since: "1.0.0",
        complexity: "O(1)",
        summary: "Count the keys of the selected database",
        ..BASE
    },
    CommandSpec {
        name: "debug",
        arity: -2,
        flags: &[F::Admin, F::Noscript, F::Loading, F::Stale, F::Protected],
        acl_categories: ADMIN_SLOW,
        since: "1.0.0",
        complexity: "Depends on subcommand.",
        summary: "Developer tools for testing and inspecting the server",
        doc_flags: &["syscmd"],
        ..BASE
    },
    CommandSpec {
        name: "flushall",
        arity: -1,
        flags: &[F::Write],
        acl_categories: KEYSPACE_FLUSH,
        tips: ALL_SHARDS_SUCCEED,
        since: "1.0.0",
        complexity: "O(N) where N is the total number of keys in all databases",
        summary: "Delete the keys of every database",
        ..BASE
    },
    CommandSpec {
        name: "flushdb",
        arity: -1,
        flags: &[F::Write],
        acl_categories: KEYSPACE_FLUSH,
        tips: ALL_SHARDS_SUCCEED,
        since: "1.0.0",
        complexity: "O(N) where N is the number of keys in the selected database",
        summary: "Delete the keys of the selected database",
        ..BASE
    },
    CommandSpec {
        name: "info",
        arity: -1,
        flags: &[F::Loading, F::Stale, F::Sentinel],
        acl_categories: &[A::Slow, A::Dangerous],
        tips: &[
            "nondeterministic_output",
            "request_policy:all_shards",
            "response_policy:special",
        ],
        since: "1.0.0",
        complexity: "O(1)",
        summary: "Report server state and statistics, section by section",
        ..BASE
    },
    CommandSpec {
        name: "lastsave",
        arity: 1,
        flags: &[F::Loading, F::Stale, F::Fast],
        acl_categories: &[A::Admin, A::Fast, A::Dangerous],
        tips: &["nondeterministic_output"],
        since: "1.0.0",
        complexity: "O(1)",
        summary: "Tell the Unix time of the last successful save to disk",
        ..BASE
    },
    CommandSpec {
        name: "latency",
        arity: -2,
        acl_categories: &[A::Slow],
        since: "2.8.13",
        complexity: "Depends on subcommand.",
        summary: "Inspect the latency monitor and the per-command latency histograms",
        ..BASE
    },
    CommandSpec {
        name: "memory",
        arity: -2,
        acl_categories: &[A::Slow],
        since: "4.0.0",
        complexity: "Depends on subcommand.",
        summary: "Inspect the memory the server holds",
        ..BASE
    },
    CommandSpec {
        name: "monitor",
        arity: 1,
        flags: ADMIN,
        acl_categories: ADMIN_SLOW,
        since: "1.0.0",
        summary: "Stream every command the server runs to this connection",
        ..BASE
    },
    CommandSpec {
        name: "psync",
        arity: -3,
        flags: &[F::Admin, F::Noscript, F::NoAsyncLoading, F::NoMulti],
        acl_categories: ADMIN_SLOW,
        since: "2.8.0",
        summary: "Start streaming the replication feed from an offset, or from a snapshot",
        ..BASE
    },
    CommandSpec {
        name: "replconf",
        arity: -1,
        flags: &[F::Admin, F::Noscript, F::Loading, F::Stale, F::AllowBusy],
        acl_categories: ADMIN_SLOW,
        doc_flags: &["syscmd"],
        since: "3.0.0",
        complexity: "O(1)",
        summary: "Tell the master what a replica can do, or acknowledge what it processed",
        ..BASE
    },
    CommandSpec {
        name: "replicaof",
        arity: 3,
        flags: &[F::Admin, F::Noscript, F::Stale, F::NoAsyncLoading],
        acl_categories: ADMIN_SLOW,
        since: "5.0.0",
        complexity: "O(1)",
        summary: "Make the server a replica of another instance, or promote it as master.",
        ..BASE
    },
    CommandSpec {
        name: "role",
        arity: 1,
        flags: &[F::Noscript, F::Loading, F::Stale, F::Fast, F::Sentinel],
        acl_categories: &[A::Admin, A::Fast, A::Dangerous],
        since: "2.8.12",
        complexity: "O(1)",
        summary: "Return the role of the instance in the context of replication",
        ..BASE
    },
    CommandSpec {
        name: "save",
        arity: 1,
        flags: &[F::Admin, F::Noscript, F::NoAsyncLoading, F::NoMulti],
        acl_categories: ADMIN_SLOW,
        since: "1.0.0",
        complexity: "O(N) where N is the total number of keys in all databases",
        summary: "Write an RDB snapshot to disk, blocking until done",
        ..BASE
    },
    CommandSpec {
        name: "shutdown",
        arity: -1,
        flags: &[
            F::Admin,
            F::Noscript,
            F::Loading,
            F::Stale,
            F::Sentinel,
            F::NoMulti,
            F::AllowBusy,
        ],
        acl_categories: ADMIN_SLOW,
        since: "1.0.0",
        complexity: "O(N) when saving, where N is the total number of keys in all databases when saving data, otherwise O(1)",
        summary: "Stop the server, saving first unless told otherwise",
        ..BASE
    },
    CommandSpec {
        name: "slaveof",
        arity: 3,
        flags: &[F::Admin, F::Noscript, F::Stale, F::NoAsyncLoading],
        acl_categories: ADMIN_SLOW,
        doc_flags: &["deprecated"],
        since: "1.0.0",
        deprecated_since: Some("5.0.0"),
        replaced_by: Some("`REPLICAOF`"),
        complexity: "O(1)",
        summary: "Make the server a replica of another instance, or promote it as master.",
        ..BASE
    },
    CommandSpec {
        name: "slowlog",
        arity: -2,
        acl_categories: &[A::Slow],
        since: "2.2.12",
        complexity: "Depends on subcommand.",
        summary: "Inspect and clear the log of slow commands",
        ..BASE
    },
    CommandSpec {
        name: "swapdb",
        arity: 3,
        flags: &[F::Write, F::Fast],
        acl_categories: &[A::Keyspace, A::Write, A::Fast, A::Dangerous],
        since: "4.0.0",
        complexity: "O(N) where N is the count of clients watching or blocking on keys from both databases.",
        summary: "Exchange the contents of two databases",
        ..BASE
    },
    CommandSpec {
        name: "sync",
        arity: 1,
        flags: &[F::Admin, F::Noscript, F::NoAsyncLoading, F::NoMulti],
        acl_categories: ADMIN_SLOW,
        since: "1.0.0",
        summary: "Receive a snapshot, then the stream of writes (the replication protocol before PSYNC)",
        ..BASE
    },
    CommandSpec {
        name: "time",
        arity: 1,
        flags: &[F::Loading, F::Stale, F::Fast],
        acl_categories: &[A::Fast],
        tips: &["nondeterministic_output"],
        since: "2.6.0",
        complexity: "O(1)",
        summary: "Tell the server clock as seconds and microseconds",
        ..BASE
    },
];

const ACL_SUB: CommandSpec = CommandSpec {
    container: Some("acl"),
    arity: 2,
    flags: &[F::Admin, F::Noscript, F::Loading, F::Stale, F::Sentinel],
    acl_categories: ADMIN_SLOW,
    since: "6.0.0",
    complexity: "O(N). Where N is the number of configured users.",
    ..BASE
};

/// The subcommands of ACL.
pub(super) static ACL: &[CommandSpec] = &[
    CommandSpec {
        name: "cat",
        arity: -2,
        flags: &[F::Noscript, F::Loading, F::Stale, F::Sentinel],
        acl_categories: &[A::Slow],
        complexity: "O(1) since the categories and commands are a fixed set.",
        summary: "List the categories, or the commands of one",
        ..ACL_SUB
    },
    CommandSpec {
        name: "deluser",
        arity: -3,
        complexity: "O(1) amortized time considering the typical user.",
        summary: "Delete users",
        ..ACL_SUB
    },
    CommandSpec {
        name: "dryrun",
        arity: -4,
        since: "7.0.0",
        complexity: "O(1).",
        summary: "Tell whether a user could run a command, without running it",
        ..ACL_SUB
    },
    CommandSpec {
        name: "genpass",
        arity: -2,
        flags: &[F::Noscript, F::Loading, F::Stale, F::Sentinel],
        acl_categories: &[A::Slow],
        complexity: "O(1)",
        summary: "Make a random password",
        ..ACL_SUB
    },
    CommandSpec {
        name: "getuser",
        arity: 3,
        complexity: "O(N). Where N is the number of password, command and pattern rules that the user has.",
        summary: "Show one user's rules",
        ..ACL_SUB
    },
    CommandSpec {
        name: "help",
        flags: &[F::Loading, F::Stale, F::Sentinel],
        acl_categories: &[A::Slow],
        complexity: "O(1)",
        summary: "Explain the ACL subcommands",
        ..ACL_SUB
    },
    CommandSpec {
        name: "list",
        summary: "Show every user's rules in ACL file form",
        ..ACL_SUB
    },
    CommandSpec {
        name: "load",
        summary: "Read the users again from the ACL file",
        ..ACL_SUB
    },
    CommandSpec {
        name: "log",
        arity: -2,
        complexity: "O(N) with N being the number of entries shown.",
        summary: "Show the recent refusals",
        ..ACL_SUB
    },
    CommandSpec {
        name: "save",
        summary: "Write the users to the ACL file",
        ..ACL_SUB
    },
    CommandSpec {
        name: "setuser",
        arity: -3,
        complexity: "O(N). Where N is the number of rules provided.",
        summary: "Create a user or change its rules",
        ..ACL_SUB
    },
    CommandSpec {
        name: "users",
        summary: "List the user names",
        ..ACL_SUB
    },
    CommandSpec {
        name: "whoami",
        flags: &[F::Noscript, F::Loading, F::Stale, F::Sentinel],
        acl_categories: &[A::Slow],
        complexity: "O(1)",
        summary: "Tell which user this connection is logged in as",
        ..ACL_SUB
    },
];

const COMMAND_SUB: CommandSpec = CommandSpec {
    container: Some("command"),
    arity: 2,
    flags: &[F::Loading, F::Stale, F::Sentinel],
    acl_categories: &[A::Slow, A::Connection],
    complexity: "O(1)",
    ..BASE
};

/// The subcommands of COMMAND.
pub(super) static COMMAND: &[CommandSpec] = &[
    CommandSpec {
        name: "count",
        since: "2.8.13",
        summary: "Tell how many commands the server knows",
        ..COMMAND_SUB
    },
    CommandSpec {
        name: "docs",
        arity: -2,
        tips: &["nondeterministic_output_order"],
        since: "7.0.0",
        complexity: "O(N) where N is the number of commands to look up",
        summary: "Give the documentation of some or all commands",
        ..COMMAND_SUB
    },
    CommandSpec {
        name: "getkeys",
        arity: -4,
        since: "2.8.13",
        complexity: "O(N) where N is the number of arguments to the command",
        summary: "Name the keys a full command line would touch",
        ..COMMAND_SUB
    },
    CommandSpec {
        name: "getkeysandflags",
        arity: -4,
        since: "7.0.0",
        complexity: "O(N) where N is the number of arguments to the command",
        summary: "Name the keys a full command line would touch, with how it uses each",
        ..COMMAND_SUB
    },
    CommandSpec {
        name: "help",
        since: "5.0.0",
        summary: "Explain the COMMAND subcommands",
        ..COMMAND_SUB
    },
    CommandSpec {
        name: "info",
        arity: -2,
        tips: &["nondeterministic_output_order"],
        since: "2.8.13",
        complexity: "O(N) where N is the number of commands to look up",
        summary: "Describe some or all commands: arity, flags, keys, categories",
        ..COMMAND_SUB
    },
    CommandSpec {
        name: "list",
        arity: -2,
        tips: &["nondeterministic_output_order"],
        since: "7.0.0",
        complexity: "O(N) where N is the total number of Redis commands",
        summary: "Name every command, optionally only those matching a filter",
        ..COMMAND_SUB
    },
];

const CONFIG_SUB: CommandSpec = CommandSpec {
    container: Some("config"),
    flags: ADMIN,
    acl_categories: ADMIN_SLOW,
    since: "2.0.0",
    complexity: "O(N) when N is the number of configuration parameters provided",
    ..BASE
};

/// The subcommands of CONFIG.
pub(super) static CONFIG: &[CommandSpec] = &[
    CommandSpec {
        name: "get",
        arity: -3,
        summary: "Read the configuration parameters whose names match the patterns",
        ..CONFIG_SUB
    },
    CommandSpec {
        name: "help",
        arity: 2,
        flags: &[F::Loading, F::Stale],
        acl_categories: &[A::Slow],
        since: "5.0.0",
        complexity: "O(1)",
        summary: "Explain the CONFIG subcommands",
        ..CONFIG_SUB
    },
    CommandSpec {
        name: "resetstat",
        arity: 2,
        complexity: "O(1)",
        summary: "Zero the statistics that INFO reports",
        ..CONFIG_SUB
    },
    CommandSpec {
        name: "rewrite",
        arity: 2,
        since: "2.8.0",
        complexity: "O(1)",
        summary: "Rewrite the configuration file with the in memory configuration",
        ..CONFIG_SUB
    },
    CommandSpec {
        name: "set",
        arity: -4,
        tips: &["request_policy:all_nodes", "response_policy:all_succeeded"],
        summary: "Change configuration parameters at run time, all or none",
        ..CONFIG_SUB
    },
];

const LATENCY_SUB: CommandSpec = CommandSpec {
    container: Some("latency"),
    arity: 2,
    flags: ADMIN,
    acl_categories: ADMIN_SLOW,
    tips: &[
        "nondeterministic_output",
        "request_policy:all_nodes",
        "response_policy:special",
    ],
    since: "2.8.13",
    complexity: "O(1)",
    ..BASE
};

/// The subcommands of LATENCY.
pub(super) static LATENCY: &[CommandSpec] = &[
    CommandSpec {
        name: "doctor",
        summary: "Explain the latency monitor's events in plain words",
        ..LATENCY_SUB
    },
    CommandSpec {
        name: "graph",
        arity: 3,
        summary: "Draw an event's latency samples as an ASCII graph",
        ..LATENCY_SUB
    },
    CommandSpec {
        name: "help",
        flags: &[F::Loading, F::Stale],
        acl_categories: &[A::Slow],
        tips: &[],
        summary: "Explain the LATENCY subcommands",
        ..LATENCY_SUB
    },
    CommandSpec {
        name: "histogram",
        arity: -2,
        since: "7.0.0",
        complexity: "O(N) where N is the number of commands with latency information being retrieved.",
        summary: "Show the latency distribution of some commands, or of all",
        ..LATENCY_SUB
    },
    CommandSpec {
        name: "history",
        arity: 3,
        summary: "List an event's time and latency samples",
        ..LATENCY_SUB
    },
    CommandSpec {
        name: "latest",
        summary: "Show the latest sample of every event",
        ..LATENCY_SUB
    },
    CommandSpec {
        name: "reset",
        arity: -2,
        tips: &["request_policy:all_nodes", "response_policy:all_succeeded"],
        summary: "Forget the samples of some events, or of all",
        ..LATENCY_SUB
    },
];

const SLOWLOG_SUB: CommandSpec = CommandSpec {
    container: Some("slowlog"),
    arity: 2,
    flags: &[F::Admin, F::Loading, F::Stale],
    acl_categories: ADMIN_SLOW,
    since: "2.2.12",
    ..BASE
};

const MEMORY_SUB: CommandSpec = CommandSpec {
    container: Some("memory"),
    arity: 2,
    acl_categories: &[A::Slow],
    since: "4.0.0",
    ..BASE
};

const SPECIAL_ALL_SHARDS: &[&str] = &[
    "nondeterministic_output",
    "request_policy:all_shards",
    "response_policy:special",
];

/// The subcommands of MEMORY.
pub(super) static MEMORY: &[CommandSpec] = &[
    CommandSpec {
        name: "doctor",
        tips: SPECIAL_ALL_SHARDS,
        complexity: "O(1)",
        summary: "Report memory problems in plain words",
        ..MEMORY_SUB
    },
    CommandSpec {
        name: "help",
        container: Some("memory"),
        arity: 2,
        flags: &[F::Loading, F::Stale],
        acl_categories: &[A::Slow],
        since: "4.0.0",
        complexity: "O(1)",
        summary: "Explain the MEMORY subcommands",
        ..BASE
    },
    CommandSpec {
        name: "malloc-stats",
        tips: SPECIAL_ALL_SHARDS,
        complexity: "Depends on how much memory is allocated, could be slow",
        summary: "Print the allocator's own statistics",
        ..MEMORY_SUB
    },
    CommandSpec {
        name: "purge",
        tips: ALL_SHARDS_SUCCEED,
        complexity: "Depends on how much memory is allocated, could be slow",
        summary: "Ask the allocator to return free memory to the system",
        ..MEMORY_SUB
    },
    CommandSpec {
        name: "stats",
        tips: SPECIAL_ALL_SHARDS,
        complexity: "O(1)",
        summary: "Break down where the server's memory goes",
        ..MEMORY_SUB
    },
    CommandSpec {
        name: "usage",
        container: Some("memory"),
        arity: -3,
        flags: &[F::Readonly],
        acl_categories: &[A::Read, A::Slow],
        key_specs: &[key_range(&[K::Ro], 2, 0, 1, 0)],
        since: "4.0.0",
        complexity: "O(N) where N is the number of samples.",
        summary: "Estimate the bytes a key and its value hold",
        ..BASE
    },
];

/// The subcommands of SLOWLOG.
pub(super) static SLOWLOG: &[CommandSpec] = &[
    CommandSpec {
        name: "get",
        arity: -2,
        tips: &["request_policy:all_nodes", "nondeterministic_output"],
        complexity: "O(N) where N is the number of entries returned",
        summary: "Show the newest slow log entries",
        ..SLOWLOG_SUB
    },
    CommandSpec {
        name: "help",
        flags: &[F::Loading, F::Stale],
        acl_categories: &[A::Slow],
        since: "6.2.0",
        complexity: "O(1)",
        summary: "Explain the SLOWLOG subcommands",
        ..SLOWLOG_SUB
    },
    CommandSpec {
        name: "len",
        tips: &[
            "request_policy:all_nodes",
            "response_policy:agg_sum",
            "nondeterministic_output",
        ],
        complexity: "O(1)",
        summary: "Count the entries in the slow log",
        ..SLOWLOG_SUB
    },
    CommandSpec {
        name: "reset",
        tips: &["request_policy:all_nodes", "response_policy:all_succeeded"],
        complexity: "O(N) where N is the number of entries in the slowlog",
        summary: "Empty the slow log",
        ..SLOWLOG_SUB
    },
];
