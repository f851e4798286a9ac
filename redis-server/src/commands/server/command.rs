//! COMMAND and its subcommands: the commands this server serves, described from
//! `common::command_table` in the shapes Redis 7.0's `COMMAND INFO`/`DOCS`/`LIST` print.
//!
//! The table carries no argument or history metadata yet, so `COMMAND DOCS` leaves out the
//! `arguments` and `history` fields Redis prints.

use common::command_table::{
    self, AclCategory, BeginSearch, CommandSpec, FindKeys, Flag, KeySpec, full_name,
};
use common::glob::glob_match;
use common::resp::ReplyBuffer;

use crate::commands::{CommandContext, CommandError, Registry, reply_help};

pub(super) fn register(r: &mut Registry) {
    r.add("command", command);
    r.add_sub("command", "count", command_count);
    r.add_sub("command", "docs", command_docs);
    r.add_sub("command", "getkeys", command_getkeys);
    r.add_sub("command", "getkeysandflags", command_getkeysandflags);
    r.add_sub("command", "help", command_help);
    r.add_sub("command", "info", command_info);
    r.add_sub("command", "list", command_list);
}

/// COMMAND: the info of every command served.
fn command(ctx: &mut CommandContext<'_>) -> Result<(), CommandError> {
    info_all(&ctx.server.registry, ctx.reply);
    Ok(())
}

fn command_count(ctx: &mut CommandContext<'_>) -> Result<(), CommandError> {
    ctx.reply
        .integer(served(&ctx.server.registry).count() as i64);
    Ok(())
}

/// COMMAND INFO [name ...]: one entry per name, null for a name that is not served.
fn command_info(ctx: &mut CommandContext<'_>) -> Result<(), CommandError> {
    if ctx.args.is_empty() {
        info_all(&ctx.server.registry, ctx.reply);
        return Ok(());
    }
    ctx.reply.array(ctx.args.remaining());
    for name in ctx.args.rest() {
        match lookup_by_full_name(&ctx.server.registry, name) {
            Some(spec) => write_info(&ctx.server.registry, ctx.reply, spec),
            None => ctx.reply.null(),
        }
    }
    Ok(())
}

/// COMMAND DOCS [name ...]: a map from full name to documentation; unknown names are skipped.
fn command_docs(ctx: &mut CommandContext<'_>) -> Result<(), CommandError> {
    let registry = &ctx.server.registry;
    let reply = &mut *ctx.reply;
    if ctx.args.is_empty() {
        reply.map(served(registry).count());
        for spec in served(registry) {
            reply.bulk(full_name(spec).as_bytes());
            write_docs(registry, reply, spec);
        }
        return Ok(());
    }
    let header = reply.begin_deferred();
    let mut found = 0;
    for name in ctx.args.rest() {
        if let Some(spec) = lookup_by_full_name(registry, name) {
            reply.bulk(full_name(spec).as_bytes());
            write_docs(registry, reply, spec);
            found += 1;
        }
    }
    reply.finish_deferred_map(header, found);
    Ok(())
}

/// Which commands `COMMAND LIST FILTERBY` keeps.
enum ListFilter<'a> {
    /// No modules are loaded, so no command belongs to one.
    Module,
    /// `None`: an unknown category, which matches nothing.
    AclCategory(Option<AclCategory>),
    Pattern(&'a [u8]),
}

impl ListFilter<'_> {
    fn keeps(&self, spec: &CommandSpec) -> bool {
        match self {
            ListFilter::Module => false,
            ListFilter::AclCategory(category) => {
                category.is_some_and(|c| spec.acl_categories.contains(&c))
            }
            ListFilter::Pattern(pattern) => glob_match(pattern, full_name(spec).as_bytes(), true),
        }
    }
}

/// COMMAND LIST [FILTERBY MODULE name | ACLCAT category | PATTERN pattern]: full names,
/// subcommands right after their container.
fn command_list(ctx: &mut CommandContext<'_>) -> Result<(), CommandError> {
    let mut filter = None;
    while let Some(option) = ctx.args.next_opt() {
        // As in Redis, FILTERBY must be followed by exactly its two arguments.
        if !option.eq_ignore_ascii_case(b"filterby") || ctx.args.remaining() != 2 {
            return Err(CommandError::Syntax);
        }
        let kind = ctx.args.next_bytes()?;
        let arg = ctx.args.next_bytes()?;
        filter = Some(if kind.eq_ignore_ascii_case(b"module") {
            ListFilter::Module
        } else if kind.eq_ignore_ascii_case(b"aclcat") {
            ListFilter::AclCategory(
                AclCategory::ALL
                    .into_iter()
                    .find(|c| c.name().as_bytes().eq_ignore_ascii_case(arg)),
            )
        } else if kind.eq_ignore_ascii_case(b"pattern") {
            ListFilter::Pattern(arg)
        } else {
            return Err(CommandError::Syntax);
        });
    }
    let registry = &ctx.server.registry;
    let reply = &mut *ctx.reply;
    let header = reply.begin_deferred();
    let mut listed = 0;
    for spec in served(registry) {
        let subs = served_subcommands(registry, spec);
        for spec in std::iter::once(spec).chain(subs) {
            if filter.as_ref().is_none_or(|f| f.keeps(spec)) {
                reply.bulk(full_name(spec).as_bytes());
                listed += 1;
            }
        }
    }
    reply.finish_deferred_array(header, listed);
    Ok(())
}

/// Whether GETKEYSANDFLAGS also prints each key's flags.
#[derive(Clone, Copy, PartialEq, Eq)]
enum KeyReply {
    Names,
    NamesAndFlags,
}

fn command_getkeys(ctx: &mut CommandContext<'_>) -> Result<(), CommandError> {
    getkeys(ctx, KeyReply::Names)
}

fn command_getkeysandflags(ctx: &mut CommandContext<'_>) -> Result<(), CommandError> {
    getkeys(ctx, KeyReply::NamesAndFlags)
}

/// COMMAND GETKEYS[ANDFLAGS] <full command line>: the keys as the key specs find them.
fn getkeys(ctx: &mut CommandContext<'_>, shape: KeyReply) -> Result<(), CommandError> {
    let line: Vec<&[u8]> = ctx.args.rest().collect();
    let spec = lookup_for_line(&ctx.server.registry, &line)
        .ok_or_else(|| CommandError::err("Invalid command specified"))?;
    if !command_table::has_key_arguments(spec) {
        return Err(CommandError::err("The command has no key arguments"));
    }
    let argc = line.len();
    let arity_ok = if spec.arity >= 0 {
        argc == spec.arity.unsigned_abs() as usize
    } else {
        argc >= spec.arity.unsigned_abs() as usize
    };
    if !arity_ok {
        return Err(CommandError::err(
            "Invalid number of arguments specified for command",
        ));
    }
    let keys = match command_table::key_positions_with_flags(spec, &line) {
        Ok(keys) if !keys.is_empty() => keys,
        _ if spec.flags.contains(&Flag::NoMandatoryKeys) => {
            ctx.reply.empty_array();
            return Ok(());
        }
        _ => {
            return Err(CommandError::err("Invalid arguments specified for command"));
        }
    };
    let reply = &mut *ctx.reply;
    reply.array(keys.len());
    for key in keys.as_slice() {
        let name = line.get(key.pos).copied().unwrap_or_default();
        match shape {
            KeyReply::Names => reply.bulk(name),
            KeyReply::NamesAndFlags => {
                reply.array(2);
                reply.bulk(name);
                reply.set(key.flags.len());
                for flag in key.flags {
                    reply.simple(flag.name().as_bytes());
                }
            }
        }
    }
    Ok(())
}

const COMMAND_HELP: &[&str] = &[
    "(no subcommand)",
    "    Return details about all Redis commands.",
    "COUNT",
    "    Return the total number of commands in this Redis server.",
    "LIST",
    "    Return a list of all commands in this Redis server.",
    "INFO [<command-name> ...]",
    "    Return details about multiple Redis commands.",
    "    If no command names are given, documentation details for all",
    "    commands are returned.",
    "DOCS [<command-name> ...]",
    "    Return documentation details about multiple Redis commands.",
    "    If no command names are given, documentation details for all",
    "    commands are returned.",
    "GETKEYS <full-command>",
    "    Return the keys from a full Redis command.",
    "GETKEYSANDFLAGS <full-command>",
    "    Return the keys and the access flags from a full Redis command.",
];

fn command_help(ctx: &mut CommandContext<'_>) -> Result<(), CommandError> {
    reply_help(ctx, COMMAND_HELP);
    Ok(())
}

/// Every top-level command the server answers to: registered (a container through its
/// subcommands) and not disabled by `rename-command`.
fn served(registry: &Registry) -> impl Iterator<Item = &'static CommandSpec> + '_ {
    command_table::commands().filter(|spec| registry.serves(spec))
}

/// The registered subcommands of a container; empty for a plain command.
fn served_subcommands<'a>(
    registry: &'a Registry,
    spec: &'static CommandSpec,
) -> impl Iterator<Item = &'static CommandSpec> + 'a {
    command_table::subcommands(spec)
        .iter()
        .filter(|sub| registry.entry(sub).is_some())
}

/// A command by the name `COMMAND INFO`/`DOCS` take: `get`, or `config|get` for a subcommand.
/// The top-level part honours `rename-command`.
fn lookup_by_full_name(registry: &Registry, name: &[u8]) -> Option<&'static CommandSpec> {
    let mut parts = name.splitn(3, |&b| b == b'|');
    let first = parts.next().unwrap_or_default();
    let second = parts.next();
    if parts.next().is_some() {
        return None;
    }
    let base = registry.lookup(first)?;
    if !registry.serves(base) {
        return None;
    }
    match second {
        None => Some(base),
        Some(sub) => {
            let spec = command_table::lookup_subcommand(base, sub)?;
            registry.entry(spec).map(|_| spec)
        }
    }
}

/// The command a command line runs, as dispatch would resolve it (GETKEYS).
fn lookup_for_line(registry: &Registry, line: &[&[u8]]) -> Option<&'static CommandSpec> {
    let base = registry.lookup(line.first()?)?;
    if !registry.serves(base) {
        return None;
    }
    if !command_table::has_subcommands(base) || line.len() == 1 {
        return Some(base);
    }
    let spec = command_table::lookup_subcommand(base, line.get(1)?)?;
    registry.entry(spec).map(|_| spec)
}

fn info_all(registry: &Registry, reply: &mut ReplyBuffer) {
    reply.array(served(registry).count());
    for spec in served(registry) {
        write_info(registry, reply, spec);
    }
}

/// One `COMMAND INFO` entry: name, arity, flags, legacy key range, ACL categories, tips, key
/// specs, subcommands.
fn write_info(registry: &Registry, reply: &mut ReplyBuffer, spec: &'static CommandSpec) {
    reply.array(10);
    reply.bulk(full_name(spec).as_bytes());
    reply.integer(i64::from(spec.arity));
    let flags: Vec<&str> = command_table::info_flags(spec).collect();
    reply.set(flags.len());
    for flag in flags {
        reply.simple(flag.as_bytes());
    }
    let (first, last, step) = command_table::legacy_key_range(spec);
    reply.integer(i64::from(first));
    reply.integer(i64::from(last));
    reply.integer(i64::from(step));
    reply.set(spec.acl_categories.len());
    for category in spec.acl_categories {
        reply.simple(format!("@{}", category.name()).as_bytes());
    }
    reply.set(spec.tips.len());
    for tip in spec.tips {
        reply.bulk(tip.as_bytes());
    }
    reply.set(spec.key_specs.len());
    for key_spec in spec.key_specs {
        write_key_spec(reply, key_spec);
    }
    if command_table::has_subcommands(spec) {
        reply.array(served_subcommands(registry, spec).count());
        for sub in served_subcommands(registry, spec) {
            write_info(registry, reply, sub);
        }
    } else {
        reply.set(0);
    }
}

fn write_key_spec(reply: &mut ReplyBuffer, key_spec: &KeySpec) {
    reply.map(3 + usize::from(key_spec.notes.is_some()));
    if let Some(notes) = key_spec.notes {
        reply.bulk(b"notes");
        reply.bulk(notes.as_bytes());
    }
    reply.bulk(b"flags");
    reply.set(key_spec.flags.len());
    for flag in key_spec.flags {
        reply.simple(flag.name().as_bytes());
    }
    reply.bulk(b"begin_search");
    reply.map(2);
    reply.bulk(b"type");
    match key_spec.begin_search {
        BeginSearch::Index(index) => {
            reply.bulk(b"index");
            reply.bulk(b"spec");
            reply.map(1);
            reply.bulk(b"index");
            reply.integer(i64::from(index));
        }
        BeginSearch::Keyword {
            keyword,
            start_from,
        } => {
            reply.bulk(b"keyword");
            reply.bulk(b"spec");
            reply.map(2);
            reply.bulk(b"keyword");
            reply.bulk(keyword.as_bytes());
            reply.bulk(b"startfrom");
            reply.integer(i64::from(start_from));
        }
        BeginSearch::Unknown => {
            reply.bulk(b"unknown");
            reply.bulk(b"spec");
            reply.map(0);
        }
    }
    reply.bulk(b"find_keys");
    reply.map(2);
    reply.bulk(b"type");
    match key_spec.find_keys {
        FindKeys::Range {
            last_key,
            key_step,
            limit,
        } => {
            reply.bulk(b"range");
            reply.bulk(b"spec");
            reply.map(3);
            reply.bulk(b"lastkey");
            reply.integer(i64::from(last_key));
            reply.bulk(b"keystep");
            reply.integer(i64::from(key_step));
            reply.bulk(b"limit");
            reply.integer(i64::from(limit));
        }
        FindKeys::Keynum {
            keynum_index,
            first_key,
            key_step,
        } => {
            reply.bulk(b"keynum");
            reply.bulk(b"spec");
            reply.map(3);
            reply.bulk(b"keynumidx");
            reply.integer(i64::from(keynum_index));
            reply.bulk(b"firstkey");
            reply.integer(i64::from(first_key));
            reply.bulk(b"keystep");
            reply.integer(i64::from(key_step));
        }
        FindKeys::Unknown => {
            reply.bulk(b"unknown");
            reply.bulk(b"spec");
            reply.map(0);
        }
    }
}

/// One `COMMAND DOCS` entry: summary, since, group, complexity, doc flags, deprecation and
/// (for a container) its subcommands' docs.
fn write_docs(registry: &Registry, reply: &mut ReplyBuffer, spec: &'static CommandSpec) {
    let container = command_table::has_subcommands(spec);
    let fields = 1
        + usize::from(!spec.summary.is_empty())
        + usize::from(!spec.since.is_empty())
        + usize::from(!spec.complexity.is_empty())
        + usize::from(!spec.doc_flags.is_empty())
        + usize::from(spec.deprecated_since.is_some())
        + usize::from(spec.replaced_by.is_some())
        + usize::from(container);
    reply.map(fields);
    if !spec.summary.is_empty() {
        reply.bulk(b"summary");
        reply.bulk(spec.summary.as_bytes());
    }
    if !spec.since.is_empty() {
        reply.bulk(b"since");
        reply.bulk(spec.since.as_bytes());
    }
    reply.bulk(b"group");
    reply.bulk(spec.group.name().as_bytes());
    if !spec.complexity.is_empty() {
        reply.bulk(b"complexity");
        reply.bulk(spec.complexity.as_bytes());
    }
    if !spec.doc_flags.is_empty() {
        reply.bulk(b"doc_flags");
        reply.set(spec.doc_flags.len());
        for flag in spec.doc_flags {
            reply.simple(flag.as_bytes());
        }
    }
    if let Some(since) = spec.deprecated_since {
        reply.bulk(b"deprecated_since");
        reply.bulk(since.as_bytes());
    }
    if let Some(replaced_by) = spec.replaced_by {
        reply.bulk(b"replaced_by");
        reply.bulk(replaced_by.as_bytes());
    }
    if container {
        reply.bulk(b"subcommands");
        reply.map(served_subcommands(registry, spec).count());
        for sub in served_subcommands(registry, spec) {
            reply.bulk(full_name(sub).as_bytes());
            write_docs(registry, reply, sub);
        }
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use common::resp::Protocol;

    use super::*;
    use crate::commands::testkit::TestClient;
    use crate::log::{Level, Logger};
    use crate::server::Server;

    /// Stands in for the handlers of other families: COMMAND only reads the registry.
    fn noop(_: &mut CommandContext<'_>) -> Result<(), CommandError> {
        Ok(())
    }

    /// A client of a server that also registers `names` (`get`, `object|encoding`...).
    fn client_serving(names: &[&str], options: &[&str]) -> TestClient {
        let args: Vec<String> = options.iter().map(|s| (*s).to_owned()).collect();
        let loaded = common::config::load(&args).expect("test config loads");
        let log = Logger::open("", Level::Warning, 'M').expect("stdout log");
        let mut server = Server::new(loaded.config, None, "redis-server".into(), log, 1);
        for name in names {
            match name.split_once('|') {
                Some((container, sub)) => server.registry.add_sub(container, sub, noop),
                None => server.registry.add(name, noop),
            }
        }
        for rename in loaded.renames {
            server
                .registry
                .rename(&rename.from, &rename.to)
                .expect("rename applies");
        }
        TestClient::connect(&Arc::new(server))
    }

    const OTHERS: &[&str] = &[
        "get",
        "set",
        "mset",
        "config|get",
        "object|encoding",
        "object|help",
        "object|idletime",
        "object|refcount",
    ];

    fn resp3(mut c: TestClient) -> TestClient {
        c.client.protocol = Protocol::Resp3;
        c
    }

    /// `COMMAND INFO <name>` as real Redis 7.0.15 answers it, captured once from the server.
    const REDIS_RESP2: &[(&str, &str)] = &[
        (
            "get",
            "*1\r\n*10\r\n$3\r\nget\r\n:2\r\n*2\r\n+readonly\r\n+fast\r\n:1\r\n:1\r\n:1\r\n*3\r\n+@read\r\n+@string\r\n+@fast\r\n*0\r\n*1\r\n*6\r\n$5\r\nflags\r\n*2\r\n+RO\r\n+access\r\n$12\r\nbegin_search\r\n*4\r\n$4\r\ntype\r\n$5\r\nindex\r\n$4\r\nspec\r\n*2\r\n$5\r\nindex\r\n:1\r\n$9\r\nfind_keys\r\n*4\r\n$4\r\ntype\r\n$5\r\nrange\r\n$4\r\nspec\r\n*6\r\n$7\r\nlastkey\r\n:0\r\n$7\r\nkeystep\r\n:1\r\n$5\r\nlimit\r\n:0\r\n*0\r\n",
        ),
        (
            "set",
            "*1\r\n*10\r\n$3\r\nset\r\n:-3\r\n*2\r\n+write\r\n+denyoom\r\n:1\r\n:1\r\n:1\r\n*3\r\n+@write\r\n+@string\r\n+@slow\r\n*0\r\n*1\r\n*8\r\n$5\r\nnotes\r\n$48\r\nRW and ACCESS due to the optional `GET` argument\r\n$5\r\nflags\r\n*4\r\n+RW\r\n+access\r\n+update\r\n+variable_flags\r\n$12\r\nbegin_search\r\n*4\r\n$4\r\ntype\r\n$5\r\nindex\r\n$4\r\nspec\r\n*2\r\n$5\r\nindex\r\n:1\r\n$9\r\nfind_keys\r\n*4\r\n$4\r\ntype\r\n$5\r\nrange\r\n$4\r\nspec\r\n*6\r\n$7\r\nlastkey\r\n:0\r\n$7\r\nkeystep\r\n:1\r\n$5\r\nlimit\r\n:0\r\n*0\r\n",
        ),
        (
            "mset",
            "*1\r\n*10\r\n$4\r\nmset\r\n:-3\r\n*2\r\n+write\r\n+denyoom\r\n:1\r\n:-1\r\n:2\r\n*3\r\n+@write\r\n+@string\r\n+@slow\r\n*2\r\n$26\r\nrequest_policy:multi_shard\r\n$29\r\nresponse_policy:all_succeeded\r\n*1\r\n*6\r\n$5\r\nflags\r\n*2\r\n+OW\r\n+update\r\n$12\r\nbegin_search\r\n*4\r\n$4\r\ntype\r\n$5\r\nindex\r\n$4\r\nspec\r\n*2\r\n$5\r\nindex\r\n:1\r\n$9\r\nfind_keys\r\n*4\r\n$4\r\ntype\r\n$5\r\nrange\r\n$4\r\nspec\r\n*6\r\n$7\r\nlastkey\r\n:-1\r\n$7\r\nkeystep\r\n:2\r\n$5\r\nlimit\r\n:0\r\n*0\r\n",
        ),
        (
            "config|get",
            "*1\r\n*10\r\n$10\r\nconfig|get\r\n:-3\r\n*4\r\n+admin\r\n+noscript\r\n+loading\r\n+stale\r\n:0\r\n:0\r\n:0\r\n*3\r\n+@admin\r\n+@slow\r\n+@dangerous\r\n*0\r\n*0\r\n*0\r\n",
        ),
        (
            "object|encoding",
            "*1\r\n*10\r\n$15\r\nobject|encoding\r\n:3\r\n*1\r\n+readonly\r\n:2\r\n:2\r\n:1\r\n*3\r\n+@keyspace\r\n+@read\r\n+@slow\r\n*1\r\n$23\r\nnondeterministic_output\r\n*1\r\n*6\r\n$5\r\nflags\r\n*1\r\n+RO\r\n$12\r\nbegin_search\r\n*4\r\n$4\r\ntype\r\n$5\r\nindex\r\n$4\r\nspec\r\n*2\r\n$5\r\nindex\r\n:2\r\n$9\r\nfind_keys\r\n*4\r\n$4\r\ntype\r\n$5\r\nrange\r\n$4\r\nspec\r\n*6\r\n$7\r\nlastkey\r\n:0\r\n$7\r\nkeystep\r\n:1\r\n$5\r\nlimit\r\n:0\r\n*0\r\n",
        ),
        (
            "object|help",
            "*1\r\n*10\r\n$11\r\nobject|help\r\n:2\r\n*2\r\n+loading\r\n+stale\r\n:0\r\n:0\r\n:0\r\n*2\r\n+@keyspace\r\n+@slow\r\n*0\r\n*0\r\n*0\r\n",
        ),
        (
            "object|freq",
            "*1\r\n*10\r\n$11\r\nobject|freq\r\n:3\r\n*1\r\n+readonly\r\n:2\r\n:2\r\n:1\r\n*3\r\n+@keyspace\r\n+@read\r\n+@slow\r\n*1\r\n$23\r\nnondeterministic_output\r\n*1\r\n*6\r\n$5\r\nflags\r\n*1\r\n+RO\r\n$12\r\nbegin_search\r\n*4\r\n$4\r\ntype\r\n$5\r\nindex\r\n$4\r\nspec\r\n*2\r\n$5\r\nindex\r\n:2\r\n$9\r\nfind_keys\r\n*4\r\n$4\r\ntype\r\n$5\r\nrange\r\n$4\r\nspec\r\n*6\r\n$7\r\nlastkey\r\n:0\r\n$7\r\nkeystep\r\n:1\r\n$5\r\nlimit\r\n:0\r\n*0\r\n",
        ),
        (
            "object|idletime",
            "*1\r\n*10\r\n$15\r\nobject|idletime\r\n:3\r\n*1\r\n+readonly\r\n:2\r\n:2\r\n:1\r\n*3\r\n+@keyspace\r\n+@read\r\n+@slow\r\n*1\r\n$23\r\nnondeterministic_output\r\n*1\r\n*6\r\n$5\r\nflags\r\n*1\r\n+RO\r\n$12\r\nbegin_search\r\n*4\r\n$4\r\ntype\r\n$5\r\nindex\r\n$4\r\nspec\r\n*2\r\n$5\r\nindex\r\n:2\r\n$9\r\nfind_keys\r\n*4\r\n$4\r\ntype\r\n$5\r\nrange\r\n$4\r\nspec\r\n*6\r\n$7\r\nlastkey\r\n:0\r\n$7\r\nkeystep\r\n:1\r\n$5\r\nlimit\r\n:0\r\n*0\r\n",
        ),
        (
            "object|refcount",
            "*1\r\n*10\r\n$15\r\nobject|refcount\r\n:3\r\n*1\r\n+readonly\r\n:2\r\n:2\r\n:1\r\n*3\r\n+@keyspace\r\n+@read\r\n+@slow\r\n*1\r\n$23\r\nnondeterministic_output\r\n*1\r\n*6\r\n$5\r\nflags\r\n*1\r\n+RO\r\n$12\r\nbegin_search\r\n*4\r\n$4\r\ntype\r\n$5\r\nindex\r\n$4\r\nspec\r\n*2\r\n$5\r\nindex\r\n:2\r\n$9\r\nfind_keys\r\n*4\r\n$4\r\ntype\r\n$5\r\nrange\r\n$4\r\nspec\r\n*6\r\n$7\r\nlastkey\r\n:0\r\n$7\r\nkeystep\r\n:1\r\n$5\r\nlimit\r\n:0\r\n*0\r\n",
        ),
    ];

    const REDIS_RESP3: &[(&str, &str)] = &[
        (
            "get",
            "*1\r\n*10\r\n$3\r\nget\r\n:2\r\n~2\r\n+readonly\r\n+fast\r\n:1\r\n:1\r\n:1\r\n~3\r\n+@read\r\n+@string\r\n+@fast\r\n~0\r\n~1\r\n%3\r\n$5\r\nflags\r\n~2\r\n+RO\r\n+access\r\n$12\r\nbegin_search\r\n%2\r\n$4\r\ntype\r\n$5\r\nindex\r\n$4\r\nspec\r\n%1\r\n$5\r\nindex\r\n:1\r\n$9\r\nfind_keys\r\n%2\r\n$4\r\ntype\r\n$5\r\nrange\r\n$4\r\nspec\r\n%3\r\n$7\r\nlastkey\r\n:0\r\n$7\r\nkeystep\r\n:1\r\n$5\r\nlimit\r\n:0\r\n~0\r\n",
        ),
        (
            "set",
            "*1\r\n*10\r\n$3\r\nset\r\n:-3\r\n~2\r\n+write\r\n+denyoom\r\n:1\r\n:1\r\n:1\r\n~3\r\n+@write\r\n+@string\r\n+@slow\r\n~0\r\n~1\r\n%4\r\n$5\r\nnotes\r\n$48\r\nRW and ACCESS due to the optional `GET` argument\r\n$5\r\nflags\r\n~4\r\n+RW\r\n+access\r\n+update\r\n+variable_flags\r\n$12\r\nbegin_search\r\n%2\r\n$4\r\ntype\r\n$5\r\nindex\r\n$4\r\nspec\r\n%1\r\n$5\r\nindex\r\n:1\r\n$9\r\nfind_keys\r\n%2\r\n$4\r\ntype\r\n$5\r\nrange\r\n$4\r\nspec\r\n%3\r\n$7\r\nlastkey\r\n:0\r\n$7\r\nkeystep\r\n:1\r\n$5\r\nlimit\r\n:0\r\n~0\r\n",
        ),
        (
            "mset",
            "*1\r\n*10\r\n$4\r\nmset\r\n:-3\r\n~2\r\n+write\r\n+denyoom\r\n:1\r\n:-1\r\n:2\r\n~3\r\n+@write\r\n+@string\r\n+@slow\r\n~2\r\n$26\r\nrequest_policy:multi_shard\r\n$29\r\nresponse_policy:all_succeeded\r\n~1\r\n%3\r\n$5\r\nflags\r\n~2\r\n+OW\r\n+update\r\n$12\r\nbegin_search\r\n%2\r\n$4\r\ntype\r\n$5\r\nindex\r\n$4\r\nspec\r\n%1\r\n$5\r\nindex\r\n:1\r\n$9\r\nfind_keys\r\n%2\r\n$4\r\ntype\r\n$5\r\nrange\r\n$4\r\nspec\r\n%3\r\n$7\r\nlastkey\r\n:-1\r\n$7\r\nkeystep\r\n:2\r\n$5\r\nlimit\r\n:0\r\n~0\r\n",
        ),
        (
            "config|get",
            "*1\r\n*10\r\n$10\r\nconfig|get\r\n:-3\r\n~4\r\n+admin\r\n+noscript\r\n+loading\r\n+stale\r\n:0\r\n:0\r\n:0\r\n~3\r\n+@admin\r\n+@slow\r\n+@dangerous\r\n~0\r\n~0\r\n~0\r\n",
        ),
        (
            "object|encoding",
            "*1\r\n*10\r\n$15\r\nobject|encoding\r\n:3\r\n~1\r\n+readonly\r\n:2\r\n:2\r\n:1\r\n~3\r\n+@keyspace\r\n+@read\r\n+@slow\r\n~1\r\n$23\r\nnondeterministic_output\r\n~1\r\n%3\r\n$5\r\nflags\r\n~1\r\n+RO\r\n$12\r\nbegin_search\r\n%2\r\n$4\r\ntype\r\n$5\r\nindex\r\n$4\r\nspec\r\n%1\r\n$5\r\nindex\r\n:2\r\n$9\r\nfind_keys\r\n%2\r\n$4\r\ntype\r\n$5\r\nrange\r\n$4\r\nspec\r\n%3\r\n$7\r\nlastkey\r\n:0\r\n$7\r\nkeystep\r\n:1\r\n$5\r\nlimit\r\n:0\r\n~0\r\n",
        ),
        (
            "object|help",
            "*1\r\n*10\r\n$11\r\nobject|help\r\n:2\r\n~2\r\n+loading\r\n+stale\r\n:0\r\n:0\r\n:0\r\n~2\r\n+@keyspace\r\n+@slow\r\n~0\r\n~0\r\n~0\r\n",
        ),
        (
            "object|freq",
            "*1\r\n*10\r\n$11\r\nobject|freq\r\n:3\r\n~1\r\n+readonly\r\n:2\r\n:2\r\n:1\r\n~3\r\n+@keyspace\r\n+@read\r\n+@slow\r\n~1\r\n$23\r\nnondeterministic_output\r\n~1\r\n%3\r\n$5\r\nflags\r\n~1\r\n+RO\r\n$12\r\nbegin_search\r\n%2\r\n$4\r\ntype\r\n$5\r\nindex\r\n$4\r\nspec\r\n%1\r\n$5\r\nindex\r\n:2\r\n$9\r\nfind_keys\r\n%2\r\n$4\r\ntype\r\n$5\r\nrange\r\n$4\r\nspec\r\n%3\r\n$7\r\nlastkey\r\n:0\r\n$7\r\nkeystep\r\n:1\r\n$5\r\nlimit\r\n:0\r\n~0\r\n",
        ),
        (
            "object|idletime",
            "*1\r\n*10\r\n$15\r\nobject|idletime\r\n:3\r\n~1\r\n+readonly\r\n:2\r\n:2\r\n:1\r\n~3\r\n+@keyspace\r\n+@read\r\n+@slow\r\n~1\r\n$23\r\nnondeterministic_output\r\n~1\r\n%3\r\n$5\r\nflags\r\n~1\r\n+RO\r\n$12\r\nbegin_search\r\n%2\r\n$4\r\ntype\r\n$5\r\nindex\r\n$4\r\nspec\r\n%1\r\n$5\r\nindex\r\n:2\r\n$9\r\nfind_keys\r\n%2\r\n$4\r\ntype\r\n$5\r\nrange\r\n$4\r\nspec\r\n%3\r\n$7\r\nlastkey\r\n:0\r\n$7\r\nkeystep\r\n:1\r\n$5\r\nlimit\r\n:0\r\n~0\r\n",
        ),
        (
            "object|refcount",
            "*1\r\n*10\r\n$15\r\nobject|refcount\r\n:3\r\n~1\r\n+readonly\r\n:2\r\n:2\r\n:1\r\n~3\r\n+@keyspace\r\n+@read\r\n+@slow\r\n~1\r\n$23\r\nnondeterministic_output\r\n~1\r\n%3\r\n$5\r\nflags\r\n~1\r\n+RO\r\n$12\r\nbegin_search\r\n%2\r\n$4\r\ntype\r\n$5\r\nindex\r\n$4\r\nspec\r\n%1\r\n$5\r\nindex\r\n:2\r\n$9\r\nfind_keys\r\n%2\r\n$4\r\ntype\r\n$5\r\nrange\r\n$4\r\nspec\r\n%3\r\n$7\r\nlastkey\r\n:0\r\n$7\r\nkeystep\r\n:1\r\n$5\r\nlimit\r\n:0\r\n~0\r\n",
        ),
    ];

    fn captured(table: &[(&str, &'static str)], name: &str) -> &'static str {
        table
            .iter()
            .find(|(n, _)| *n == name)
            .map(|(_, bytes)| *bytes)
            .unwrap()
    }

    #[test]
    fn command_info_matches_redis_byte_for_byte() {
        for (protocol, table) in [(2, REDIS_RESP2), (3, REDIS_RESP3)] {
            let mut c = client_serving(OTHERS, &[]);
            if protocol == 3 {
                c = resp3(c);
            }
            for (name, expected) in table {
                assert_eq!(
                    c.text(&["COMMAND", "INFO", name]),
                    *expected,
                    "RESP{protocol} {name}"
                );
            }
        }
    }

    /// Redis lists a container's subcommands in hash order: the expected reply is Redis's
    /// header, followed by Redis's entry for each subcommand in table order.
    #[test]
    fn command_info_of_a_container_nests_its_subcommands() {
        let headers = [
            "*1\r\n*10\r\n$6\r\nobject\r\n:-2\r\n*0\r\n:0\r\n:0\r\n:0\r\n*1\r\n+@slow\r\n*0\r\n*0\r\n*5\r\n",
            "*1\r\n*10\r\n$6\r\nobject\r\n:-2\r\n~0\r\n:0\r\n:0\r\n:0\r\n~1\r\n+@slow\r\n~0\r\n~0\r\n*5\r\n",
        ];
        for (header, table) in headers.into_iter().zip([REDIS_RESP2, REDIS_RESP3]) {
            let mut expected = header.to_owned();
            for sub in ["encoding", "freq", "help", "idletime", "refcount"] {
                let entry = captured(table, &format!("object|{sub}"));
                expected.push_str(entry.strip_prefix("*1\r\n").unwrap());
            }
            let mut c = client_serving(OTHERS, &[]);
            if table == REDIS_RESP3 {
                c = resp3(c);
            }
            assert_eq!(c.text(&["command", "info", "OBJECT"]), expected);
        }
    }

    #[test]
    fn command_info_of_our_own_commands_matches_redis() {
        let mut c = TestClient::new();
        assert_eq!(
            c.text(&["COMMAND", "INFO", "debug"]),
            "*1\r\n*10\r\n$5\r\ndebug\r\n:-2\r\n*4\r\n+admin\r\n+noscript\r\n+loading\r\n+stale\r\n:0\r\n:0\r\n:0\r\n*3\r\n+@admin\r\n+@slow\r\n+@dangerous\r\n*0\r\n*0\r\n*0\r\n"
        );
        assert_eq!(
            c.text(&["COMMAND", "INFO", "Command|Count"]),
            "*1\r\n*10\r\n$13\r\ncommand|count\r\n:2\r\n*2\r\n+loading\r\n+stale\r\n:0\r\n:0\r\n:0\r\n*2\r\n+@slow\r\n+@connection\r\n*0\r\n*0\r\n*0\r\n"
        );
        let mut c = resp3(TestClient::new());
        assert_eq!(
            c.text(&["COMMAND", "INFO", "command|getkeys"]),
            "*1\r\n*10\r\n$15\r\ncommand|getkeys\r\n:-4\r\n~2\r\n+loading\r\n+stale\r\n:0\r\n:0\r\n:0\r\n~2\r\n+@slow\r\n+@connection\r\n~0\r\n~0\r\n~0\r\n"
        );
    }

    #[test]
    fn command_info_answers_null_for_what_is_not_served() {
        let mut c = client_serving(OTHERS, &[]);
        assert_eq!(
            c.text(&[
                "COMMAND",
                "INFO",
                "nosuch",
                "get|x",
                "config|",
                "|get",
                "config|get|x",
                ""
            ]),
            "*6\r\n$-1\r\n$-1\r\n$-1\r\n$-1\r\n$-1\r\n$-1\r\n"
        );
        // Disabled by rename-command: as unknown as it is to dispatch.
        let mut disabled = client_serving(&[], &["--rename-command", "mset", ""]);
        assert_eq!(disabled.text(&["COMMAND", "INFO", "mset"]), "*1\r\n$-1\r\n");
        let mut c = resp3(c);
        assert_eq!(c.text(&["COMMAND", "INFO", "nosuch"]), "*1\r\n_\r\n");
    }

    #[test]
    fn command_and_command_info_list_every_served_command() {
        let mut c = client_serving(OTHERS, &[]);
        let served = c
            .server
            .registry
            .serves(command_table::lookup(b"get").unwrap());
        assert!(served);
        let all = c.text(&["COMMAND"]);
        assert_eq!(c.text(&["COMMAND", "INFO"]), all);
        let count = command_table::commands()
            .filter(|s| c.server.registry.serves(s))
            .count();
        assert_eq!(c.text(&["COMMAND", "COUNT"]), format!(":{count}\r\n"));
        assert!(all.starts_with(&format!("*{count}\r\n*10\r\n")));
        for name in [
            "$3\r\nget\r\n",
            "$6\r\nobject\r\n",
            "$10\r\nconfig|get\r\n",
            "$5\r\ndebug\r\n",
        ] {
            assert!(all.contains(name), "{name}");
        }
    }

    #[test]
    fn renamed_commands_keep_their_name_and_disabled_ones_vanish() {
        let mut c = client_serving(
            OTHERS,
            &[
                "--rename-command",
                "get",
                "fetch",
                "--rename-command",
                "mset",
                "",
            ],
        );
        let info = c.text(&["COMMAND", "INFO", "fetch", "get", "mset"]);
        assert!(
            info.starts_with("*3\r\n*10\r\n$3\r\nget\r\n:2\r\n"),
            "{info}"
        );
        assert!(info.ends_with("*0\r\n$-1\r\n$-1\r\n"), "{info}");
        let list = c.text(&["COMMAND", "LIST"]);
        assert!(list.contains("$3\r\nget\r\n"));
        assert!(!list.contains("$4\r\nmset\r\n"));
        assert_eq!(
            c.text(&["COMMAND", "GETKEYS", "fetch", "k"]),
            "*1\r\n$1\r\nk\r\n"
        );
        assert_eq!(
            c.text(&["COMMAND", "GETKEYS", "get", "k"]),
            "-ERR Invalid command specified\r\n"
        );
    }

    #[test]
    fn command_docs_prints_the_documentation_map() {
        let mut c = TestClient::new();
        let debug = command_table::lookup(b"debug").unwrap();
        let expected = format!(
            "*2\r\n$5\r\ndebug\r\n*10\r\n$7\r\nsummary\r\n${}\r\n{}\r\n$5\r\nsince\r\n$5\r\n1.0.0\r\n$5\r\ngroup\r\n$6\r\nserver\r\n$10\r\ncomplexity\r\n$22\r\nDepends on subcommand.\r\n$9\r\ndoc_flags\r\n*1\r\n+syscmd\r\n",
            debug.summary.len(),
            debug.summary
        );
        assert_eq!(c.text(&["COMMAND", "DOCS", "debug", "nosuch"]), expected);
        assert_eq!(c.text(&["COMMAND", "DOCS", "nosuch"]), "*0\r\n");
        let mut c = resp3(c);
        assert_eq!(c.text(&["COMMAND", "DOCS", "nosuch"]), "%0\r\n");
        let count = command_table::lookup(b"command").unwrap();
        let sub = command_table::lookup_subcommand(count, b"count").unwrap();
        assert_eq!(
            c.text(&["COMMAND", "DOCS", "command|count"]),
            format!(
                "%1\r\n$13\r\ncommand|count\r\n%4\r\n$7\r\nsummary\r\n${}\r\n{}\r\n$5\r\nsince\r\n$6\r\n2.8.13\r\n$5\r\ngroup\r\n$6\r\nserver\r\n$10\r\ncomplexity\r\n$4\r\nO(1)\r\n",
                sub.summary.len(),
                sub.summary
            )
        );
    }

    #[test]
    fn command_docs_of_a_container_and_a_deprecated_command() {
        let mut c = resp3(client_serving(&["getset"], &[]));
        let docs = c.text(&["COMMAND", "DOCS", "getset"]);
        // Redis's map has an eighth field, `arguments`, which the table cannot give yet.
        assert!(
            docs.starts_with("%1\r\n$6\r\ngetset\r\n%7\r\n$7\r\nsummary\r\n"),
            "{docs}"
        );
        assert!(
            docs.ends_with("$10\r\ncomplexity\r\n$4\r\nO(1)\r\n$9\r\ndoc_flags\r\n~1\r\n+deprecated\r\n$16\r\ndeprecated_since\r\n$5\r\n6.2.0\r\n$11\r\nreplaced_by\r\n$30\r\n`SET` with the `!GET` argument\r\n"),
            "{docs}"
        );
        let docs = c.text(&["COMMAND", "DOCS", "command"]);
        assert!(docs.starts_with("%1\r\n$7\r\ncommand\r\n%5\r\n"), "{docs}");
        assert!(
            docs.contains("$11\r\nsubcommands\r\n%7\r\n$13\r\ncommand|count\r\n%4\r\n"),
            "{docs}"
        );
        let all = c.text(&["COMMAND", "DOCS"]);
        assert!(all.starts_with(&format!(
                "%{}\r\n",
                command_table::commands()
                    .filter(|s| c.server.registry.serves(s))
                    .count()
            )));
    }

    #[test]
    fn command_list_filters_by_pattern_category_and_module() {
        let mut c = client_serving(OTHERS, &[]);
        assert_eq!(
            c.text(&["COMMAND", "LIST", "FILTERBY", "PATTERN", "CONFIG|G*"]),
            "*1\r\n$10\r\nconfig|get\r\n"
        );
        assert_eq!(
            c.text(&["COMMAND", "LIST", "filterby", "pattern", "obj*"]),
            "*6\r\n$6\r\nobject\r\n$15\r\nobject|encoding\r\n$11\r\nobject|freq\r\n$11\r\nobject|help\r\n$15\r\nobject|idletime\r\n$15\r\nobject|refcount\r\n"
        );
        let strings = c.text(&["COMMAND", "LIST", "FILTERBY", "ACLCAT", "STRING"]);
        let expected = command_table::commands()
            .filter(|s| {
                s.acl_categories
                    .contains(&common::command_table::AclCategory::String)
            })
            .count();
        assert!(
            strings.starts_with(&format!("*{expected}\r\n")),
            "{strings}"
        );
        assert!(strings.contains("$4\r\nmset\r\n"));
        assert_eq!(
            c.text(&["COMMAND", "LIST", "FILTERBY", "ACLCAT", "nosuch"]),
            "*0\r\n"
        );
        assert_eq!(
            c.text(&["COMMAND", "LIST", "FILTERBY", "MODULE", "x"]),
            "*0\r\n"
        );
        let list = c.text(&["COMMAND", "LIST"]);
        assert!(list.contains("$13\r\ncommand|count\r\n"));
        for bad in [
            &["COMMAND", "LIST", "FILTERBY", "PATTERN"][..],
            &["COMMAND", "LIST", "FOO"],
            &["COMMAND", "LIST", "FILTERBY", "foo", "bar"],
            &["COMMAND", "LIST", "FILTERBY", "pattern", "x", "y"],
        ] {
            assert_eq!(c.text(bad), "-ERR syntax error\r\n", "{bad:?}");
        }
    }

    #[test]
    fn command_getkeys_finds_keys_and_flags() {
        let mut c = client_serving(OTHERS, &[]);
        assert_eq!(
            c.text(&["COMMAND", "GETKEYS", "get", "a"]),
            "*1\r\n$1\r\na\r\n"
        );
        assert_eq!(
            c.text(&["COMMAND", "GETKEYS", "mset", "a", "1", "b"]),
            "*2\r\n$1\r\na\r\n$1\r\nb\r\n"
        );
        assert_eq!(
            c.text(&["COMMAND", "GETKEYS", "object", "encoding", "k"]),
            "*1\r\n$1\r\nk\r\n"
        );
        assert_eq!(
            c.text(&["COMMAND", "GETKEYSANDFLAGS", "set", "k", "v", "get"]),
            "*1\r\n*2\r\n$1\r\nk\r\n*3\r\n+RW\r\n+access\r\n+update\r\n"
        );
        assert_eq!(
            c.text(&["COMMAND", "GETKEYS", "mset", "a", "1", "b", "2", "c"]),
            "*3\r\n$1\r\na\r\n$1\r\nb\r\n$1\r\nc\r\n"
        );
        assert_eq!(
            c.text(&["COMMAND", "GETKEYSANDFLAGS", "mset", "a", "1", "b", "2"]),
            "*2\r\n*2\r\n$1\r\na\r\n*2\r\n+OW\r\n+update\r\n*2\r\n$1\r\nb\r\n*2\r\n+OW\r\n+update\r\n"
        );
        let mut c = resp3(c);
        assert_eq!(
            c.text(&["COMMAND", "GETKEYSANDFLAGS", "object", "encoding", "k"]),
            "*1\r\n*2\r\n$1\r\nk\r\n~1\r\n+RO\r\n"
        );
    }

    #[test]
    fn command_getkeys_errors_match_redis() {
        let mut c = client_serving(OTHERS, &[]);
        let cases: &[(&[&str], &str)] = &[
            (
                &["COMMAND", "GETKEYS", "get"],
                "-ERR wrong number of arguments for 'command|getkeys' command\r\n",
            ),
            (
                &["COMMAND", "GETKEYS", "nosuch", "a"],
                "-ERR Invalid command specified\r\n",
            ),
            (
                &["COMMAND", "GETKEYS", "object", "nosuch", "k"],
                "-ERR Invalid command specified\r\n",
            ),
            (
                &["COMMAND", "GETKEYS", "command", "info", "x"],
                "-ERR The command has no key arguments\r\n",
            ),
            (
                &["COMMAND", "GETKEYS", "config", "get", "x"],
                "-ERR The command has no key arguments\r\n",
            ),
            (
                &["COMMAND", "GETKEYS", "get", "a", "b"],
                "-ERR Invalid number of arguments specified for command\r\n",
            ),
            (
                &["COMMAND", "GETKEYS", "set", "k"],
                "-ERR Invalid number of arguments specified for command\r\n",
            ),
        ];
        for (args, expected) in cases {
            assert_eq!(c.text(args), *expected, "{args:?}");
        }
    }

    #[test]
    fn command_help_and_subcommand_errors() {
        let mut c = TestClient::new();
        let help = c.text(&["command", "help"]);
        assert!(help.starts_with(
            "*21\r\n+COMMAND <subcommand> [<arg> [value] [opt] ...]. Subcommands are:\r\n+(no subcommand)\r\n"
        ));
        assert!(help.ends_with(
            "+    Return the keys and the access flags from a full Redis command.\r\n+HELP\r\n+    Prints this help.\r\n"
        ));
        assert_eq!(
            c.text(&["COMMAND", "HELP", "x"]),
            "-ERR wrong number of arguments for 'command|help' command\r\n"
        );
        assert_eq!(
            c.text(&["COMMAND", "COUNT", "x"]),
            "-ERR wrong number of arguments for 'command|count' command\r\n"
        );
        assert_eq!(
            c.text(&["COMMAND", "FOO"]),
            "-ERR unknown subcommand 'FOO'. Try COMMAND HELP.\r\n"
        );
    }
}
