//! Help topics: `help`, `help CMD`, `help @group`, tab completion and the argument hints.
//!
//! The topics come from the server's `COMMAND DOCS` when it answers (so the arguments are
//! known), and otherwise from our own command table (`common::command_table`: summary, since,
//! group, without arguments).

use common::command_table;
use common::resp::Frame;

/// One help topic: a command (`GET`, `CONFIG GET`) or a group (`@string`).
#[derive(Clone, Debug)]
pub(crate) struct Entry {
    /// Upper-case words (`["CONFIG", "GET"]`), or `["@group"]`.
    pub(crate) words: Vec<String>,
    pub(crate) full: String,
    pub(crate) is_group: bool,
    pub(crate) params: String,
    pub(crate) summary: String,
    pub(crate) since: Option<String>,
    pub(crate) group: String,
}

/// Every topic, sorted by name as redis-cli sorts them.
#[derive(Clone, Debug, Default)]
pub(crate) struct HelpTable {
    pub(crate) entries: Vec<Entry>,
}

fn text(frame: &Frame) -> Option<String> {
    match frame {
        Frame::Bulk(s) | Frame::Simple(s) => Some(String::from_utf8_lossy(s).into_owned()),
        Frame::Verbatim { text, .. } => Some(String::from_utf8_lossy(text).into_owned()),
        _ => None,
    }
}

/// The key/value pairs of a RESP3 map or a RESP2 flat array.
fn pairs(frame: &Frame) -> Vec<(&Frame, &Frame)> {
    match frame {
        Frame::Map(pairs) => pairs.iter().map(|(k, v)| (k, v)).collect(),
        Frame::Array(items) => items
            .chunks_exact(2)
            .map(|pair| (&pair[0], &pair[1]))
            .collect(),
        _ => Vec::new(),
    }
}

fn items(frame: &Frame) -> &[Frame] {
    match frame {
        Frame::Array(items) | Frame::Set(items) => items,
        _ => &[],
    }
}

/// An empty token or name shows as `""`.
fn or_empty(s: &str) -> &str {
    if s.is_empty() { "\"\"" } else { s }
}

/// One argument of `COMMAND DOCS` as the usage line writes it: `[token name [name ...]]`.
fn argument(arg: &Frame, params: &mut String) {
    let mut name = String::new();
    let mut kind = String::new();
    let mut token = String::new();
    let (mut optional, mut multiple, mut multiple_token) = (false, false, false);
    let mut nested: &[Frame] = &[];
    for (key, value) in pairs(arg) {
        match text(key).as_deref() {
            Some("name") => name = text(value).unwrap_or_default(),
            Some("token") => token = or_empty(&text(value).unwrap_or_default()).to_string(),
            Some("type") => kind = text(value).unwrap_or_default(),
            Some("arguments") => nested = items(value),
            Some("flags") => {
                for flag in items(value) {
                    match text(flag).as_deref() {
                        Some("optional") => optional = true,
                        Some("multiple") => multiple = true,
                        Some("multiple_token") => multiple_token = true,
                        _ => {}
                    }
                }
            }
            _ => {}
        }
    }
    let repeat = match kind.as_str() {
        "key" | "string" | "integer" | "double" | "pattern" | "unix-time" | "token" => {
            or_empty(&name).to_string()
        }
        "oneof" => join(nested, "|"),
        "block" => join(nested, " "),
        _ => String::new(),
    };
    if !token.is_empty() && kind != "pure-token" {
        token.push(' ');
    }
    if optional {
        params.push('[');
    }
    params.push_str(&token);
    params.push_str(&repeat);
    if multiple {
        params.push_str(" [");
        if multiple_token {
            params.push_str(&token);
        }
        params.push_str(&repeat);
        params.push_str(" ...]");
    }
    if optional {
        params.push(']');
    }
}

fn join(args: &[Frame], separator: &str) -> String {
    let mut out = String::new();
    for (i, arg) in args.iter().enumerate() {
        if i > 0 {
            out.push_str(separator);
        }
        argument(arg, &mut out);
    }
    out
}

impl HelpTable {
    /// Topics from a `COMMAND DOCS` reply.
    pub(crate) fn from_docs(docs: &Frame) -> HelpTable {
        let mut entries = Vec::new();
        for (name, specs) in pairs(docs) {
            let Some(name) = text(name) else { continue };
            add_docs(&name, None, specs, &mut entries);
        }
        HelpTable::finish(entries)
    }

    /// Topics from our own command table, for a server without `COMMAND DOCS`.
    pub(crate) fn from_table() -> HelpTable {
        let mut entries = Vec::new();
        for spec in command_table::commands() {
            entries.push(table_entry(spec, None));
            for sub in command_table::subcommands(spec) {
                entries.push(table_entry(sub, Some(spec.name)));
            }
        }
        HelpTable::finish(entries)
    }

    fn finish(mut entries: Vec<Entry>) -> HelpTable {
        let mut groups: Vec<String> = entries.iter().map(|e| e.group.clone()).collect();
        groups.sort();
        groups.dedup();
        for group in groups {
            let full = format!("@{group}");
            entries.push(Entry {
                words: vec![full.clone()],
                full,
                is_group: true,
                params: String::new(),
                summary: String::new(),
                since: None,
                group: String::new(),
            });
        }
        entries.sort_by(|a, b| a.full.cmp(&b.full));
        HelpTable { entries }
    }

    /// What `help ARGS...` prints.
    pub(crate) fn output(&self, args: &[Vec<u8>]) -> Vec<u8> {
        let mut out = Vec::new();
        let args: Vec<String> = args
            .iter()
            .map(|a| String::from_utf8_lossy(a).into_owned())
            .collect();
        let group = args.first().and_then(|a| a.strip_prefix('@'));
        for entry in self.entries.iter().filter(|e| !e.is_group) {
            match group {
                None => {
                    let matches = args.len() <= entry.words.len()
                        && args
                            .iter()
                            .zip(&entry.words)
                            .all(|(a, w)| a.eq_ignore_ascii_case(w));
                    if matches {
                        command_help(entry, true, &mut out);
                    }
                }
                Some(g) if g.eq_ignore_ascii_case(&entry.group) => {
                    command_help(entry, false, &mut out)
                }
                Some(_) => {}
            }
        }
        out.extend_from_slice(b"\r\n");
        out
    }

    /// Completions of `line`: command names, and after `help ` also group names.
    pub(crate) fn complete(&self, line: &str) -> Vec<String> {
        let (start, groups) = match line.get(..5) {
            Some(head) if head.eq_ignore_ascii_case("help ") => {
                let skip = line[5..].len() - line[5..].trim_start().len();
                (5 + skip, true)
            }
            _ => (0, false),
        };
        let typed = &line[start..];
        self.entries
            .iter()
            .filter(|e| groups || !e.is_group)
            .filter(|e| {
                e.full.len() >= typed.len()
                    && e.full.as_bytes()[..typed.len()].eq_ignore_ascii_case(typed.as_bytes())
            })
            .map(|e| format!("{}{}", &line[..start], e.full))
            .collect()
    }

    /// The grey hint after what is typed: the arguments not typed yet.
    pub(crate) fn hint(&self, line: &str) -> Option<String> {
        let args = crate::split_args(line.as_bytes())?;
        if args.is_empty() {
            return None;
        }
        let mut best: Option<&Entry> = None;
        for entry in self.entries.iter().filter(|e| !e.is_group) {
            let n = entry.words.len();
            if n <= args.len()
                && entry
                    .words
                    .iter()
                    .zip(&args)
                    .all(|(w, a)| w.as_bytes().eq_ignore_ascii_case(a))
                && best.is_none_or(|b| n > b.words.len())
            {
                best = Some(entry);
            }
        }
        let entry = best?;
        let mut hint = entry.params.as_str();
        let mut to_remove = args.len() - entry.words.len();
        while to_remove > 0 && !hint.is_empty() {
            if hint.starts_with('[') {
                break;
            }
            if hint.starts_with(' ') {
                to_remove -= 1;
            }
            hint = &hint[1..];
        }
        let ends_in_space = line.ends_with(|c: char| c.is_ascii_whitespace());
        Some(if ends_in_space {
            hint.to_string()
        } else {
            format!(" {hint}")
        })
    }
}

fn add_docs(name: &str, sub: Option<&str>, specs: &Frame, entries: &mut Vec<Entry>) {
    let mut words = vec![name.to_ascii_uppercase()];
    if let Some(sub) = sub {
        let sub = sub.split_once('|').map_or(sub, |(_, s)| s);
        words.push(sub.to_ascii_uppercase());
    }
    let mut entry = Entry {
        full: words.join(" "),
        words,
        is_group: false,
        params: String::new(),
        summary: String::new(),
        since: None,
        group: String::new(),
    };
    let mut subcommands = Vec::new();
    for (key, value) in pairs(specs) {
        match text(key).as_deref() {
            Some("summary") => entry.summary = text(value).unwrap_or_default(),
            Some("since") => entry.since = text(value),
            Some("group") => entry.group = text(value).unwrap_or_default(),
            Some("arguments") => entry.params = join(items(value), " "),
            Some("subcommands") => subcommands = pairs(value),
            _ => {}
        }
    }
    entries.push(entry);
    for (sub_name, sub_specs) in subcommands {
        if let Some(sub_name) = text(sub_name) {
            add_docs(name, Some(&sub_name), sub_specs, entries);
        }
    }
}

fn table_entry(spec: &command_table::CommandSpec, container: Option<&str>) -> Entry {
    let mut words = Vec::new();
    if let Some(c) = container {
        words.push(c.to_ascii_uppercase());
    }
    words.push(spec.name.to_ascii_uppercase());
    Entry {
        full: words.join(" "),
        words,
        is_group: false,
        params: String::new(),
        summary: spec.summary.to_string(),
        since: Some(spec.since.to_string()),
        group: spec.group.name().to_string(),
    }
}

fn command_help(entry: &Entry, with_group: bool, out: &mut Vec<u8>) {
    out.extend_from_slice(
        format!(
            "\r\n  \x1b[1m{}\x1b[0m \x1b[90m{}\x1b[0m\r\n",
            entry.full, entry.params
        )
        .as_bytes(),
    );
    out.extend_from_slice(format!("  \x1b[33msummary:\x1b[0m {}\r\n", entry.summary).as_bytes());
    if let Some(since) = &entry.since {
        out.extend_from_slice(format!("  \x1b[33msince:\x1b[0m {since}\r\n").as_bytes());
    }
    if with_group {
        out.extend_from_slice(format!("  \x1b[33mgroup:\x1b[0m {}\r\n", entry.group).as_bytes());
    }
}

/// What a bare `help` prints.
pub(crate) fn generic_help() -> String {
    format!(
        "redis-cli {}\n\
         To get help about Redis commands type:\n      \
         \"help @<group>\" to get a list of commands in <group>\n      \
         \"help <command>\" for help on <command>\n      \
         \"help <tab>\" to get a list of possible help topics\n      \
         \"quit\" to exit\n\
         \n\
         To set redis-cli preferences:\n      \
         \":set hints\" enable online hints\n      \
         \":set nohints\" disable online hints\n\
         Set your preferences in ~/.redisclirc\n",
        crate::REDIS_VERSION
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn bulk(s: &str) -> Frame {
        Frame::Bulk(s.as_bytes().to_vec())
    }

    fn docs() -> Frame {
        let arg = |name: &str, kind: &str, flags: &[&str]| {
            Frame::Map(vec![
                (bulk("name"), bulk(name)),
                (bulk("type"), bulk(kind)),
                (
                    bulk("flags"),
                    Frame::Array(
                        flags
                            .iter()
                            .map(|f| Frame::Simple(f.as_bytes().to_vec()))
                            .collect(),
                    ),
                ),
            ])
        };
        Frame::Map(vec![(
            bulk("mget"),
            Frame::Map(vec![
                (bulk("summary"), bulk("Get many")),
                (bulk("since"), bulk("1.0.0")),
                (bulk("group"), bulk("string")),
                (
                    bulk("arguments"),
                    Frame::Array(vec![arg("key", "key", &["multiple"])]),
                ),
            ]),
        )])
    }

    #[test]
    fn docs_give_params_hints_and_completions() {
        let table = HelpTable::from_docs(&docs());
        assert_eq!(table.entries[0].full, "@string");
        assert_eq!(table.entries[1].params, "key [key ...]");
        assert_eq!(table.hint("mget").as_deref(), Some(" key [key ...]"));
        assert_eq!(table.hint("mget a ").as_deref(), Some("[key ...]"));
        assert_eq!(table.complete("mg"), vec!["MGET".to_string()]);
        assert_eq!(table.complete("help @s"), vec!["help @string".to_string()]);
    }

    #[test]
    fn the_local_table_knows_get() {
        let table = HelpTable::from_table();
        let out = String::from_utf8(table.output(&[b"get".to_vec()])).unwrap();
        assert!(out.contains("\x1b[1mGET\x1b[0m"), "{out}");
        assert!(out.contains("group:\x1b[0m string"), "{out}");
    }
}
