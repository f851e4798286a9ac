//! Group `connection`: commands about the calling connection itself (handshake, database, clients).

use super::base;
use super::spec::{AclCategory as A, CommandSpec, Flag as F, Group};

const BASE: CommandSpec = base(Group::Connection);

/// Commands a client may send before it has authenticated.
const HANDSHAKE: &[F] = &[
    F::Noscript,
    F::Loading,
    F::Stale,
    F::Fast,
    F::NoAuth,
    F::Sentinel,
    F::AllowBusy,
];
const FAST_CONNECTION: &[A] = &[A::Fast, A::Connection];

/// Every top-level command of the group.
pub(super) static COMMANDS: &[CommandSpec] = &[
    CommandSpec {
        name: "auth",
        arity: -2,
        flags: HANDSHAKE,
        acl_categories: FAST_CONNECTION,
        since: "1.0.0",
        complexity: "O(N) where N is the number of passwords defined for the user",
        summary: "Log the connection in as a user, with a password",
        ..BASE
    },
    CommandSpec {
        name: "client",
        arity: -2,
        flags: &[F::Sentinel],
        acl_categories: &[A::Slow],
        since: "2.4.0",
        complexity: "Depends on subcommand.",
        summary: "Inspect and manage client connections",
        ..BASE
    },
    CommandSpec {
        name: "echo",
        arity: 2,
        flags: &[F::Loading, F::Stale, F::Fast],
        acl_categories: FAST_CONNECTION,
        since: "1.0.0",
        complexity: "O(1)",
        summary: "Reply with the argument unchanged",
        ..BASE
    },
    CommandSpec {
        name: "hello",
        arity: -1,
        flags: HANDSHAKE,
        acl_categories: FAST_CONNECTION,
        since: "6.0.0",
        complexity: "O(1)",
        summary: "Pick the protocol version, optionally log in and name the connection, and describe the server",
        ..BASE
    },
    CommandSpec {
        name: "ping",
        arity: -1,
        flags: &[F::Fast, F::Sentinel],
        acl_categories: FAST_CONNECTION,
        tips: &["request_policy:all_shards", "response_policy:all_succeeded"],
        since: "1.0.0",
        complexity: "O(1)",
        summary: "Check that the server answers, echoing an optional message",
        ..BASE
    },
    CommandSpec {
        name: "quit",
        arity: -1,
        flags: &[
            F::Noscript,
            F::Loading,
            F::Stale,
            F::Fast,
            F::NoAuth,
            F::AllowBusy,
        ],
        acl_categories: FAST_CONNECTION,
        since: "1.0.0",
        complexity: "O(1)",
        summary: "Ask the server to close this connection",
        ..BASE
    },
    CommandSpec {
        name: "reset",
        arity: 1,
        flags: &[
            F::Noscript,
            F::Loading,
            F::Stale,
            F::Fast,
            F::NoAuth,
            F::AllowBusy,
        ],
        acl_categories: FAST_CONNECTION,
        since: "6.2.0",
        complexity: "O(1)",
        summary: "Return the connection to the state of a fresh one",
        ..BASE
    },
    CommandSpec {
        name: "select",
        arity: 2,
        flags: &[F::Loading, F::Stale, F::Fast],
        acl_categories: FAST_CONNECTION,
        since: "1.0.0",
        complexity: "O(1)",
        summary: "Switch the connection to the database with the given number",
        ..BASE
    },
];

const CLIENT_SUB: CommandSpec = CommandSpec {
    container: Some("client"),
    arity: 2,
    flags: &[F::Noscript, F::Loading, F::Stale, F::Sentinel],
    acl_categories: &[A::Slow, A::Connection],
    complexity: "O(1)",
    ..BASE
};

const CLIENT_ADMIN: CommandSpec = CommandSpec {
    flags: &[F::Admin, F::Noscript, F::Loading, F::Stale, F::Sentinel],
    acl_categories: &[A::Admin, A::Slow, A::Dangerous, A::Connection],
    ..CLIENT_SUB
};

/// The subcommands of CLIENT.
pub(super) static CLIENT: &[CommandSpec] = &[
    CommandSpec {
        name: "caching",
        arity: 3,
        since: "6.0.0",
        summary: "Say whether the next command's keys are tracked (OPTIN/OPTOUT tracking)",
        ..CLIENT_SUB
    },
    CommandSpec {
        name: "getname",
        since: "2.6.9",
        summary: "Tell the name this connection was given",
        ..CLIENT_SUB
    },
    CommandSpec {
        name: "getredir",
        since: "6.0.0",
        summary: "Tell the ID of the client tracking invalidations are redirected to",
        ..CLIENT_SUB
    },
    CommandSpec {
        name: "help",
        flags: &[F::Loading, F::Stale, F::Sentinel],
        since: "5.0.0",
        summary: "Explain the CLIENT subcommands",
        ..CLIENT_SUB
    },
    CommandSpec {
        name: "id",
        since: "5.0.0",
        summary: "Tell the unique number of this connection",
        ..CLIENT_SUB
    },
    CommandSpec {
        name: "info",
        tips: &["nondeterministic_output"],
        since: "6.2.0",
        summary: "Describe this connection in one CLIENT LIST line",
        ..CLIENT_SUB
    },
    CommandSpec {
        name: "kill",
        arity: -3,
        since: "2.4.0",
        complexity: "O(N) where N is the number of client connections",
        summary: "Close the connections that match an address, id, type, user or other filter",
        ..CLIENT_ADMIN
    },
    CommandSpec {
        name: "list",
        arity: -2,
        tips: &["nondeterministic_output"],
        since: "2.4.0",
        complexity: "O(N) where N is the number of client connections",
        summary: "Describe every connection, one line each, optionally filtered by type or id",
        ..CLIENT_ADMIN
    },
    CommandSpec {
        name: "no-evict",
        arity: 3,
        since: "7.0.0",
        summary: "Exempt this connection from client eviction, or stop exempting it",
        ..CLIENT_ADMIN
    },
    CommandSpec {
        name: "pause",
        arity: -3,
        since: "2.9.50",
        summary: "Hold the commands of all clients, or only writes, for some milliseconds",
        ..CLIENT_ADMIN
    },
    CommandSpec {
        name: "reply",
        arity: 3,
        since: "3.2.0",
        summary: "Turn the replies to this connection off, on, or off for the next command",
        ..CLIENT_SUB
    },
    CommandSpec {
        name: "setname",
        arity: 3,
        since: "2.6.9",
        summary: "Give this connection a name",
        ..CLIENT_SUB
    },
    CommandSpec {
        name: "tracking",
        arity: -3,
        since: "6.0.0",
        complexity: "O(1). Some options may introduce additional complexity.",
        summary: "Turn server-assisted client-side caching on or off for this connection",
        ..CLIENT_SUB
    },
    CommandSpec {
        name: "trackinginfo",
        since: "6.2.0",
        summary: "Describe this connection's client-side caching state",
        ..CLIENT_SUB
    },
    CommandSpec {
        name: "unblock",
        arity: -3,
        since: "5.0.0",
        complexity: "O(log N) where N is the number of client connections",
        summary: "Wake a client blocked on keys as if it had timed out, or with an error",
        ..CLIENT_ADMIN
    },
    CommandSpec {
        name: "unpause",
        since: "6.2.0",
        complexity: "O(N) Where N is the number of paused clients",
        summary: "Let paused clients run their commands again",
        ..CLIENT_ADMIN
    },
];
