//! Group `scripting`: EVAL and friends, SCRIPT, FCALL and FUNCTION. (FUNCTION DUMP and RESTORE
//! are not built: their payload is an RDB encoding this server does not write yet.)

use super::base;
use super::spec::{
    AclCategory as A, BeginSearch, CommandSpec, FindKeys, Flag as F, Group, KeyFlag as K, KeySpec,
};

const BASE: CommandSpec = base(Group::Scripting);

const RW_NOTE: &str =
    "We cannot tell how the keys will be used so we assume the worst, RW and UPDATE";
const RO_NOTE: &str =
    "We cannot tell how the keys will be used so we assume the worst, RO and ACCESS";

/// The keys of a script call: `numkeys` at index 2, then that many keys.
const fn script_keys(flags: &'static [K], notes: Option<&'static str>) -> KeySpec {
    KeySpec {
        notes,
        flags,
        begin_search: BeginSearch::Index(2),
        find_keys: FindKeys::Keynum {
            keynum_index: 0,
            first_key: 1,
            key_step: 1,
        },
    }
}

const RW_KEYS: &[KeySpec] = &[script_keys(&[K::Rw, K::Access, K::Update], Some(RW_NOTE))];
const RW_KEYS_NO_NOTE: &[KeySpec] = &[script_keys(&[K::Rw, K::Access, K::Update], None)];
const RO_KEYS: &[KeySpec] = &[script_keys(&[K::Ro, K::Access], Some(RO_NOTE))];
const RO_KEYS_NO_NOTE: &[KeySpec] = &[script_keys(&[K::Ro, K::Access], None)];

const RUN_FLAGS: &[F] = &[
    F::Noscript,
    F::Stale,
    F::SkipMonitor,
    F::MayReplicate,
    F::NoMandatoryKeys,
];
const RUN_RO_FLAGS: &[F] = &[
    F::Readonly,
    F::Noscript,
    F::Stale,
    F::SkipMonitor,
    F::NoMandatoryKeys,
];

/// Every top-level command of the group.
pub(super) static COMMANDS: &[CommandSpec] = &[
    CommandSpec {
        name: "eval",
        arity: -3,
        flags: RUN_FLAGS,
        acl_categories: &[A::Slow, A::Scripting],
        key_specs: RW_KEYS,
        since: "2.6.0",
        complexity: "Depends on the script that is executed.",
        summary: "Run a Lua script on the server",
        ..BASE
    },
    CommandSpec {
        name: "eval_ro",
        arity: -3,
        flags: RUN_RO_FLAGS,
        acl_categories: &[A::Slow, A::Scripting],
        key_specs: RO_KEYS,
        since: "7.0.0",
        complexity: "Depends on the script that is executed.",
        summary: "Run a read-only Lua script on the server",
        ..BASE
    },
    CommandSpec {
        name: "evalsha",
        arity: -3,
        flags: RUN_FLAGS,
        acl_categories: &[A::Slow, A::Scripting],
        key_specs: RW_KEYS_NO_NOTE,
        since: "2.6.0",
        complexity: "Depends on the script that is executed.",
        summary: "Run a cached Lua script, named by its SHA1 digest",
        ..BASE
    },
    CommandSpec {
        name: "evalsha_ro",
        arity: -3,
        flags: RUN_RO_FLAGS,
        acl_categories: &[A::Slow, A::Scripting],
        key_specs: RO_KEYS_NO_NOTE,
        since: "7.0.0",
        complexity: "Depends on the script that is executed.",
        summary: "Run a cached read-only Lua script, named by its SHA1 digest",
        ..BASE
    },
    CommandSpec {
        name: "fcall",
        arity: -3,
        flags: RUN_FLAGS,
        acl_categories: &[A::Slow, A::Scripting],
        key_specs: RW_KEYS,
        since: "7.0.0",
        complexity: "Depends on the function that is executed.",
        summary: "Call a function of a loaded library",
        ..BASE
    },
    CommandSpec {
        name: "fcall_ro",
        arity: -3,
        flags: RUN_RO_FLAGS,
        acl_categories: &[A::Slow, A::Scripting],
        key_specs: RO_KEYS,
        since: "7.0.0",
        complexity: "Depends on the function that is executed.",
        summary: "Call a read-only function of a loaded library",
        ..BASE
    },
    CommandSpec {
        name: "function",
        arity: -2,
        acl_categories: &[A::Slow],
        since: "7.0.0",
        complexity: "Depends on subcommand.",
        summary: "Manage the libraries of functions",
        ..BASE
    },
    CommandSpec {
        name: "script",
        arity: -2,
        acl_categories: &[A::Slow],
        since: "2.6.0",
        complexity: "Depends on subcommand.",
        summary: "Manage the Lua script cache",
        ..BASE
    },
];

const SCRIPT_SUB: CommandSpec = CommandSpec {
    container: Some("script"),
    flags: &[F::Noscript],
    acl_categories: &[A::Slow, A::Scripting],
    since: "2.6.0",
    ..BASE
};

/// The subcommands of SCRIPT.
pub(super) static SCRIPT: &[CommandSpec] = &[
    CommandSpec {
        name: "exists",
        arity: -3,
        tips: &[
            "request_policy:all_shards",
            "response_policy:agg_logical_and",
        ],
        complexity: "O(N) with N being the number of scripts to check (so checking a single script is an O(1) operation).",
        summary: "Tell which SHA1 digests name cached scripts",
        ..SCRIPT_SUB
    },
    CommandSpec {
        name: "flush",
        arity: -2,
        tips: &["request_policy:all_nodes", "response_policy:all_succeeded"],
        complexity: "O(N) with N being the number of scripts in cache",
        summary: "Empty the script cache",
        ..SCRIPT_SUB
    },
    CommandSpec {
        name: "help",
        arity: 2,
        flags: &[F::Loading, F::Stale],
        since: "5.0.0",
        complexity: "O(1)",
        summary: "Explain the SCRIPT subcommands",
        ..SCRIPT_SUB
    },
    CommandSpec {
        name: "kill",
        arity: 2,
        flags: &[F::Noscript, F::AllowBusy],
        tips: &["request_policy:all_shards", "response_policy:one_succeeded"],
        complexity: "O(1)",
        summary: "Stop the script that is running, if it has not written",
        ..SCRIPT_SUB
    },
    CommandSpec {
        name: "load",
        arity: 3,
        flags: &[F::Noscript, F::Stale],
        tips: &["request_policy:all_nodes", "response_policy:all_succeeded"],
        complexity: "O(N) with N being the length in bytes of the script body.",
        summary: "Compile a script into the cache without running it",
        ..SCRIPT_SUB
    },
];

const FUNCTION_SUB: CommandSpec = CommandSpec {
    container: Some("function"),
    arity: 2,
    flags: &[F::Noscript],
    acl_categories: &[A::Slow, A::Scripting],
    since: "7.0.0",
    ..BASE
};

/// The subcommands of FUNCTION.
pub(super) static FUNCTION: &[CommandSpec] = &[
    CommandSpec {
        name: "delete",
        arity: 3,
        flags: &[F::Write, F::Noscript],
        acl_categories: &[A::Write, A::Slow, A::Scripting],
        tips: &["request_policy:all_shards", "response_policy:all_succeeded"],
        complexity: "O(1)",
        summary: "Delete a library and its functions",
        ..FUNCTION_SUB
    },
    CommandSpec {
        name: "dump",
        complexity: "O(N) where N is the number of functions",
        summary: "Serialize every library into one payload for FUNCTION RESTORE",
        ..FUNCTION_SUB
    },
    CommandSpec {
        name: "flush",
        arity: -2,
        flags: &[F::Write, F::Noscript],
        acl_categories: &[A::Write, A::Slow, A::Scripting],
        tips: &["request_policy:all_shards", "response_policy:all_succeeded"],
        complexity: "O(N) where N is the number of functions deleted",
        summary: "Delete every library",
        ..FUNCTION_SUB
    },
    CommandSpec {
        name: "help",
        flags: &[F::Loading, F::Stale],
        complexity: "O(1)",
        summary: "Explain the FUNCTION subcommands",
        ..FUNCTION_SUB
    },
    CommandSpec {
        name: "kill",
        flags: &[F::Noscript, F::AllowBusy],
        tips: &["request_policy:all_shards", "response_policy:one_succeeded"],
        complexity: "O(1)",
        summary: "Stop the function that is running, if it has not written",
        ..FUNCTION_SUB
    },
    CommandSpec {
        name: "list",
        arity: -2,
        tips: &["nondeterministic_output_order"],
        complexity: "O(N) where N is the number of functions",
        summary: "List the libraries and their functions",
        ..FUNCTION_SUB
    },
    CommandSpec {
        name: "load",
        arity: -3,
        flags: &[F::Write, F::Denyoom, F::Noscript],
        acl_categories: &[A::Write, A::Slow, A::Scripting],
        tips: &["request_policy:all_shards", "response_policy:all_succeeded"],
        complexity: "O(1) (considering compilation time is redundant)",
        summary: "Load a library of functions",
        ..FUNCTION_SUB
    },
    CommandSpec {
        name: "restore",
        arity: -3,
        flags: &[F::Write, F::Denyoom, F::Noscript],
        acl_categories: &[A::Write, A::Slow, A::Scripting],
        tips: &["request_policy:all_shards", "response_policy:all_succeeded"],
        complexity: "O(N) where N is the number of functions on the payload",
        summary: "Load the libraries of a FUNCTION DUMP payload",
        ..FUNCTION_SUB
    },
    CommandSpec {
        name: "stats",
        flags: &[F::Noscript, F::AllowBusy],
        tips: &[
            "nondeterministic_output",
            "request_policy:all_shards",
            "response_policy:special",
        ],
        complexity: "O(1)",
        summary: "Show the function that is running and the libraries per engine",
        ..FUNCTION_SUB
    },
];
