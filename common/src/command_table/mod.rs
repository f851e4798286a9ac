//! The command table: one [`CommandSpec`] per command and subcommand this server implements.
//!
//! Dispatch (arity, flags, ACL), `COMMAND`, cluster key lookup and the tools all read it. The
//! values are Redis 7.0.15's, written by hand one file per Redis group; commands that are not
//! built yet stay out, so `COMMAND COUNT` agrees with "unknown command".
//!
//! - [`spec`]: the types.
//! - `string`, `list`, `set`, `hash`, `bitmap`, `sorted_set`, `geo`, `hyperloglog`, `stream`, `pubsub`, `scripting`, `transactions`, `generic`, `connection`, `server`, `cluster`: the entries, one `static` slice per group and
//!   one per container (ACL, OBJECT, CLIENT, COMMAND, CONFIG, SLOWLOG, LATENCY, MEMORY, PUBSUB, SCRIPT, FUNCTION, XGROUP, XINFO).
//! - `keys`: key positions of a concrete invocation, and the legacy (first, last, step) triple.

pub mod spec;

mod bitmap;
mod cluster;
mod connection;
mod generic;
mod geo;
mod hash;
mod hyperloglog;
mod keys;
mod list;
mod pubsub;
mod scripting;
mod server;
mod set;
mod sorted_set;
mod stream;
mod string;
mod transactions;

#[cfg(test)]
mod redis_json;

use std::borrow::Cow;
use std::cmp::Ordering;
use std::collections::HashMap;
use std::sync::LazyLock;

pub use keys::{
    KeyError, KeyPositions, KeyRef, has_key_arguments, has_movable_keys, key_positions,
    key_positions_by, key_positions_with_flags, legacy_key_range, partial_key_positions_by,
    sole_key_position,
};
pub use spec::*;

/// The top-level entries of every group file.
// Statics, not consts: a command is known by its address (the registry keys on it), and a
// const may be duplicated wherever it is used.
static GROUPS: [&[CommandSpec]; 16] = [
    generic::COMMANDS,
    string::COMMANDS,
    list::COMMANDS,
    set::COMMANDS,
    hash::COMMANDS,
    bitmap::COMMANDS,
    connection::COMMANDS,
    server::COMMANDS,
    sorted_set::COMMANDS,
    transactions::COMMANDS,
    pubsub::COMMANDS,
    geo::COMMANDS,
    scripting::COMMANDS,
    stream::COMMANDS,
    hyperloglog::COMMANDS,
    cluster::COMMANDS,
];

/// Top-level commands by lowercase name.
static BY_NAME: LazyLock<HashMap<&'static [u8], &'static CommandSpec, foldhash::fast::FixedState>> =
    LazyLock::new(|| {
        commands()
            .map(|spec| (spec.name.as_bytes(), spec))
            .collect()
    });

/// Compares a lowercase table name with a client-supplied name, ignoring the latter's case.
fn cmp_name(table_name: &str, name: &[u8]) -> Ordering {
    table_name
        .bytes()
        .cmp(name.iter().map(|b| b.to_ascii_lowercase()))
}

/// Longer than every command name: a longer name is no command.
const MAX_NAME: usize = 32;

/// The top-level command called `name`, ignoring ASCII case.
///
/// Lowercased once into a stack buffer, then one hash probe (every command goes through
/// here, scripts' calls too).
pub fn lookup(name: &[u8]) -> Option<&'static CommandSpec> {
    if name.len() > MAX_NAME {
        return None;
    }
    let mut lower = [0u8; MAX_NAME];
    let lower = &mut lower[..name.len()];
    for (to, from) in lower.iter_mut().zip(name) {
        *to = from.to_ascii_lowercase();
    }
    BY_NAME.get(&*lower).copied()
}

/// The subcommand `name` of `container`, ignoring ASCII case.
pub fn lookup_subcommand(container: &CommandSpec, name: &[u8]) -> Option<&'static CommandSpec> {
    subcommands(container)
        .iter()
        .find(|spec| cmp_name(spec.name, name) == Ordering::Equal)
}

/// What a command line names: the subcommand of `name` called `second` when there is one,
/// else the top-level command (a queued command whose kind is judged before it runs).
pub fn lookup_line(name: &[u8], second: Option<&[u8]>) -> Option<&'static CommandSpec> {
    let spec = lookup(name)?;
    Some(
        second
            .and_then(|sub| lookup_subcommand(spec, sub))
            .unwrap_or(spec),
    )
}

/// True when the command has subcommands.
pub fn has_subcommands(spec: &CommandSpec) -> bool {
    !subcommands(spec).is_empty()
}

/// The subcommands of a container (CONFIG, CLIENT...); empty for any other command.
pub fn subcommands(container: &CommandSpec) -> &'static [CommandSpec] {
    if container.container.is_some() {
        return &[];
    }
    match container.name {
        "object" => generic::OBJECT,
        "client" => connection::CLIENT,
        "acl" => server::ACL,
        "command" => server::COMMAND,
        "config" => server::CONFIG,
        "slowlog" => server::SLOWLOG,
        "memory" => server::MEMORY,
        "latency" => server::LATENCY,
        "pubsub" => pubsub::PUBSUB,
        "script" => scripting::SCRIPT,
        "function" => scripting::FUNCTION,
        "xgroup" => stream::XGROUP,
        "xinfo" => stream::XINFO,
        _ => &[],
    }
}

/// Every top-level command.
pub fn commands() -> impl Iterator<Item = &'static CommandSpec> {
    GROUPS.into_iter().flatten()
}

/// `config|get` for a subcommand, the plain name for a top-level command.
pub fn full_name(spec: &CommandSpec) -> Cow<'static, str> {
    match spec.container {
        Some(container) => Cow::Owned(format!("{container}|{}", spec.name)),
        None => Cow::Borrowed(spec.name),
    }
}

/// The flags exactly as `COMMAND INFO` prints them: hidden flags left out, and `movablekeys`
/// added where Redis derives it from the key specs.
pub fn info_flags(spec: &CommandSpec) -> impl Iterator<Item = &'static str> {
    let split = spec
        .flags
        .iter()
        .position(|flag| *flag == Flag::AllowBusy)
        .unwrap_or(spec.flags.len());
    let (before, after) = spec.flags.split_at(split);
    let shown = |flag: &Flag| flag.shown_in_info().then(|| flag.name());
    before
        .iter()
        .filter_map(shown)
        .chain(has_movable_keys(spec).then_some("movablekeys"))
        .chain(after.iter().filter_map(shown))
}

/// An entry with every field empty, for the group files to fill in with `..base(group)`.
const fn base(group: Group) -> CommandSpec {
    CommandSpec {
        name: "",
        container: None,
        group,
        arity: 0,
        flags: &[],
        acl_categories: &[],
        key_specs: &[],
        tips: &[],
        since: "",
        complexity: "",
        summary: "",
        doc_flags: &[],
        deprecated_since: None,
        replaced_by: None,
    }
}

/// A key spec that begins at a fixed argument index and finds its keys as a range.
const fn key_range(
    flags: &'static [KeyFlag],
    index: i32,
    last_key: i32,
    key_step: i32,
    limit: i32,
) -> KeySpec {
    KeySpec {
        notes: None,
        flags,
        begin_search: BeginSearch::Index(index),
        find_keys: FindKeys::Range {
            last_key,
            key_step,
            limit,
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashSet;

    /// Top-level commands and subcommands alike.
    fn every_spec() -> impl Iterator<Item = &'static CommandSpec> {
        commands().flat_map(|c| std::iter::once(c).chain(subcommands(c)))
    }

    #[test]
    fn names_are_lowercase_and_unique() {
        let mut seen = HashSet::new();
        for spec in every_spec() {
            assert!(!spec.name.is_empty());
            assert_eq!(spec.name, spec.name.to_ascii_lowercase(), "{}", spec.name);
            assert!(
                seen.insert(full_name(spec)),
                "duplicate {}",
                full_name(spec)
            );
        }
    }

    #[test]
    fn subcommands_name_their_container() {
        let containers: Vec<_> = commands().filter(|c| has_subcommands(c)).collect();
        assert_eq!(containers.len(), 13);
        for container in containers {
            assert!(container.key_specs.is_empty());
            for sub in subcommands(container) {
                assert_eq!(sub.container, Some(container.name));
                assert_eq!(sub.group, container.group);
                assert!(!has_subcommands(sub));
                assert!(sub.arity.abs() >= 2, "{}", full_name(sub));
            }
        }
        for spec in commands().filter(|c| !has_subcommands(c)) {
            assert_eq!(spec.container, None, "{}", spec.name);
        }
    }

    #[test]
    fn every_entry_is_filled_in() {
        for spec in every_spec() {
            let name = full_name(spec);
            assert_ne!(spec.arity, 0, "{name}");
            assert!(!spec.since.is_empty(), "{name}");
            assert!(!spec.summary.is_empty(), "{name}");
            assert!(!spec.summary.contains('\n'), "{name}");
            assert!(!spec.acl_categories.is_empty(), "{name}");
            assert_eq!(
                spec.deprecated_since.is_some(),
                spec.replaced_by.is_some(),
                "{name}"
            );
            assert_eq!(
                spec.deprecated_since.is_some(),
                spec.doc_flags.contains(&"deprecated"),
                "{name}"
            );
        }
    }

    /// Position of a flag in `COMMAND INFO` order; the enum is declared in that order.
    fn flag_rank(flag: Flag) -> usize {
        flag as usize
    }

    #[test]
    fn flags_and_categories_are_in_command_info_order() {
        for spec in every_spec() {
            let name = full_name(spec);
            let ranks: Vec<_> = spec.flags.iter().map(|f| flag_rank(*f)).collect();
            assert!(ranks.windows(2).all(|w| w[0] < w[1]), "{name} flags");
            let ranks: Vec<_> = spec
                .acl_categories
                .iter()
                .map(|c| AclCategory::ALL.iter().position(|a| a == c))
                .collect();
            assert!(ranks.windows(2).all(|w| w[0] < w[1]), "{name} categories");
            for key_spec in spec.key_specs {
                let ranks: Vec<_> = key_spec.flags.iter().map(|f| *f as usize).collect();
                assert!(ranks.windows(2).all(|w| w[0] < w[1]), "{name} key flags");
            }
        }
    }

    #[test]
    fn implicit_categories_follow_the_flags() {
        for spec in every_spec() {
            let name = full_name(spec);
            let has = |c| spec.acl_categories.contains(&c);
            let flag = |f| spec.flags.contains(&f);
            assert_eq!(has(AclCategory::Fast), !has(AclCategory::Slow), "{name}");
            assert_eq!(flag(Flag::Fast), has(AclCategory::Fast), "{name}");
            if flag(Flag::Write) {
                assert!(has(AclCategory::Write), "{name}");
            }
            // Redis adds @read to readonly commands, scripting ones (EVAL_RO...) excepted.
            if flag(Flag::Readonly) && !has(AclCategory::Scripting) {
                assert!(has(AclCategory::Read), "{name}");
            }
            if flag(Flag::Admin) {
                assert!(
                    has(AclCategory::Admin) && has(AclCategory::Dangerous),
                    "{name}"
                );
            }
        }
    }

    #[test]
    fn lookup_ignores_case() {
        for name in [&b"get"[..], b"GET", b"gEt"] {
            assert_eq!(lookup(name).map(|s| s.name), Some("get"));
        }
        assert_eq!(lookup(b"INCRBYFLOAT").map(|s| s.name), Some("incrbyfloat"));
        assert!(lookup(b"gett").is_none());
        assert!(lookup(b"ge").is_none());
        assert!(lookup(b"").is_none());
        assert!(
            lookup(b"notacommand").is_none(),
            "not implemented, so not in the table"
        );
        for spec in commands() {
            let upper = spec.name.to_ascii_uppercase();
            assert!(std::ptr::eq(lookup(upper.as_bytes()).unwrap(), spec));
        }
    }

    #[test]
    fn subcommand_lookup_ignores_case() {
        let config = lookup(b"CONFIG").unwrap();
        let get = lookup_subcommand(config, b"GeT").unwrap();
        assert_eq!(full_name(get), "config|get");
        assert!(lookup_subcommand(config, b"rewrite").is_some());
        let client = lookup(b"client").unwrap();
        assert_eq!(
            lookup_subcommand(client, b"NO-EVICT").map(|s| s.name),
            Some("no-evict")
        );
        assert_eq!(
            lookup_subcommand(client, b"TrackingInfo").map(|s| s.name),
            Some("trackinginfo")
        );
        let object = lookup(b"object").unwrap();
        assert_eq!(
            lookup_subcommand(object, b"FREQ").map(|s| s.name),
            Some("freq")
        );
        assert!(lookup_subcommand(object, b"nosuch").is_none());
        assert!(lookup_subcommand(lookup(b"get").unwrap(), b"x").is_none());
        // A subcommand is no container, even when it shares a container's name.
        assert!(!has_subcommands(
            lookup_subcommand(config, b"help").unwrap()
        ));
    }

    #[test]
    fn full_name_joins_container_and_subcommand() {
        assert_eq!(full_name(lookup(b"set").unwrap()), "set");
        let slowlog = lookup(b"slowlog").unwrap();
        let names: Vec<_> = subcommands(slowlog).iter().map(full_name).collect();
        assert_eq!(
            names,
            [
                "slowlog|get",
                "slowlog|help",
                "slowlog|len",
                "slowlog|reset"
            ]
        );
    }

    #[test]
    fn info_flags_hide_what_redis_hides() {
        let flags = |name: &[u8]| info_flags(lookup(name).unwrap()).collect::<Vec<_>>();
        assert_eq!(
            flags(b"auth"),
            [
                "noscript",
                "loading",
                "stale",
                "fast",
                "no_auth",
                "allow_busy"
            ]
        );
        assert_eq!(flags(b"debug"), ["admin", "noscript", "loading", "stale"]);
        assert_eq!(flags(b"randomkey"), ["readonly"]);
        assert_eq!(flags(b"ping"), ["fast"]);
        assert_eq!(flags(b"set"), ["write", "denyoom"]);
        assert!(flags(b"client").is_empty());
    }

    #[test]
    fn every_command_counts() {
        assert_eq!(
            commands().count(),
            // Grows with every command family; the groups' files list them.
            241
        );
        assert_eq!(every_spec().count(), 334);
    }
}
