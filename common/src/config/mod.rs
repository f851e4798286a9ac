//! Every `redis.conf` directive of Redis 7.0.15: the table, typed values, loading from files and
//! the command line, and `CONFIG GET` / `CONFIG SET`.
//!
//! - [`directives`]: one row per directive (name, alias, type and bounds, default, flags, and the
//!   feature this server still lacks, if any).
//! - [`ConfigValue`]: typed values, parsed and printed exactly as Redis does.
//! - [`load`]: `redis-server [file|-] [--name value ...]` as Redis reads it, with its fatal errors
//!   ([`ConfigError`]).
//! - [`rewrite`]: `CONFIG REWRITE`'s new file text from the old one and the current values.
//! - [`Config::get`] / [`Config::set`]: the `CONFIG GET` / `CONFIG SET` semantics, with Redis's
//!   error texts ([`ConfigSetError`]). The server applies the changes `set` reports.
//!
//! Directives of features we lack are parsed, validated, stored and shown like Redis's, but have
//! no effect: a config file may set them (with a warning in [`Loaded::warnings`]), `CONFIG SET`
//! may only set them to their current value.

pub mod directives;
mod error;
mod parse;
mod rewrite;
mod value;

use std::path::PathBuf;

pub use directives::{DIRECTIVES, Directive, Flags, Kind, Special, Unit, lookup};
pub use error::{ConfigError, ConfigErrorKind, ConfigSetError};
pub use parse::{repr, split_args};
pub use rewrite::{RewriteInput, SIGNATURE as REWRITE_SIGNATURE, rewrite};
pub use value::{ConfigValue, OUTPUT_BUFFER_CLASSES, OutputBufferLimit, SaveParam};

use directives::position;

/// Reads the configuration as `redis-server` does from its arguments (argv without the program
/// name): `[configfile] [-] [--name value ...]`. `-` (first or last) reads stdin; options are
/// appended to the file's text as config lines, so they win.
pub fn load(args: &[String]) -> Result<Loaded, ConfigError> {
    parse::load(args, &mut std::io::stdin())
}

/// Like [`load`], with `stdin` standing for the process's standard input.
pub fn load_with_stdin(
    args: &[String],
    stdin: &mut dyn std::io::Read,
) -> Result<Loaded, ConfigError> {
    parse::load(args, stdin)
}

/// Reads configuration text (a config file's content) over the defaults.
pub fn load_text(text: &str) -> Result<Loaded, ConfigError> {
    parse::load_text(text, false)
}

/// The outcome of a successful [`load`].
#[derive(Debug)]
pub struct Loaded {
    pub config: Config,
    /// One line per accepted directive that has no effect here (unbuilt feature); the server
    /// logs them at startup.
    pub warnings: Vec<String>,
    /// `--sentinel` was given: hand over to the sentinel.
    pub sentinel: bool,
    /// `rename-command` lines, in order, for the server to apply (and to refuse with
    /// [`ConfigErrorKind::NoSuchCommandInRename`] / [`ConfigErrorKind::RenameTargetExists`]).
    pub renames: Vec<Rename>,
    /// `user` lines (arguments after `user`), kept for when ACL exists.
    pub users: Vec<Vec<String>>,
    /// `sentinel ...` lines (only accepted in sentinel mode), for the sentinel to interpret.
    pub sentinel_directives: Vec<SentinelDirective>,
    /// The config file, made absolute (for `CONFIG REWRITE` and `INFO`); `None` without one.
    pub config_file: Option<PathBuf>,
}

/// A `rename-command <from> <to>` line; an empty `to` removes the command.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Rename {
    pub line: usize,
    pub text: String,
    pub from: String,
    pub to: String,
}

/// A `sentinel <args...>` line.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SentinelDirective {
    pub line: usize,
    pub text: String,
    pub args: Vec<String>,
}

/// Who asks for a `CONFIG SET`, for the checks that depend on it.
#[derive(Debug, Clone, Copy, Default)]
pub struct SetContext {
    /// The client is on a loopback address or a Unix socket (`enable-protected-configs local`).
    pub local_client: bool,
    /// The server is loading its dataset (`DENY_LOADING` directives are refused).
    pub loading: bool,
}

/// A value for every directive of [`DIRECTIVES`], same order.
#[derive(Debug, Clone, PartialEq)]
pub struct Config {
    values: Vec<ConfigValue>,
}

impl Default for Config {
    /// Redis's defaults; `dir` is the current directory.
    fn default() -> Self {
        let cwd = std::env::current_dir()
            .map(|d| d.to_string_lossy().into_owned())
            .unwrap_or_default();
        Config {
            values: DIRECTIVES
                .iter()
                .map(|d| value::default_value(d, &cwd))
                .collect(),
        }
    }
}

impl Config {
    /// The value of `name` (any case, alias or not).
    pub fn value(&self, name: &str) -> Option<&ConfigValue> {
        position(name.as_bytes()).and_then(|(i, _)| self.values.get(i))
    }

    /// A yes/no directive.
    pub fn get_bool(&self, name: &str) -> Option<bool> {
        match self.value(name)? {
            ConfigValue::Bool(b) => Some(*b),
            _ => None,
        }
    }

    /// A numeric directive (memory sizes in bytes; a percentage `N%` as `-N`).
    pub fn get_int(&self, name: &str) -> Option<i64> {
        match self.value(name)? {
            ConfigValue::Int(i) => Some(*i),
            _ => None,
        }
    }

    /// A string directive (empty when unset), an enum's name, or `dir`.
    pub fn get_str(&self, name: &str) -> Option<&str> {
        match self.value(name)? {
            ConfigValue::Str(s) => Some(s),
            ConfigValue::Enum(e) => Some(e),
            _ => None,
        }
    }

    /// A multi-choice enum (`shutdown-on-sigint`): its or-ed values (`save` = 1, `nosave` = 2,
    /// `now` = 4, `force` = 8).
    pub fn get_flags(&self, name: &str) -> Option<i32> {
        match self.value(name)? {
            ConfigValue::Flags(f) => Some(*f),
            _ => None,
        }
    }

    /// The value as `CONFIG GET` prints it.
    pub fn render(&self, name: &str) -> Option<String> {
        position(name.as_bytes()).map(|(i, _)| value::render(&DIRECTIVES[i], &self.values[i]))
    }

    /// `bind`: addresses to listen on (empty: none).
    pub fn bind(&self) -> &[String] {
        match self.value("bind") {
            Some(ConfigValue::Bind(addrs)) => addrs,
            _ => &[],
        }
    }

    /// `save` points.
    pub fn save_params(&self) -> &[SaveParam] {
        match self.value("save") {
            Some(ConfigValue::Save(points)) => points,
            _ => &[],
        }
    }

    /// `dir`: the absolute directory the server must work in (change into it after [`load`]
    /// and after a `CONFIG SET dir`).
    pub fn dir(&self) -> &str {
        self.get_str("dir").unwrap_or("")
    }

    /// `client-output-buffer-limit`, by [`OUTPUT_BUFFER_CLASSES`].
    pub fn client_output_buffer_limits(&self) -> [OutputBufferLimit; 3] {
        match self.value("client-output-buffer-limit") {
            Some(ConfigValue::ClientOutputBufferLimit(l)) => *l,
            _ => {
                [OutputBufferLimit {
                    hard_bytes: 0,
                    soft_bytes: 0,
                    soft_seconds: 0,
                }; 3]
            }
        }
    }

    /// `notify-keyspace-events` as Redis's `NOTIFY_*` bits.
    pub fn notify_keyspace_events(&self) -> u32 {
        match self.value("notify-keyspace-events") {
            Some(ConfigValue::NotifyKeyspaceEvents(f)) => *f,
            _ => 0,
        }
    }

    /// `replicaof <host> <port>`, if set.
    pub fn replicaof(&self) -> Option<(&str, u16)> {
        match self.value("replicaof") {
            Some(ConfigValue::ReplicaOf(Some((host, port)))) => Some((host, *port)),
            _ => None,
        }
    }

    /// `oom-score-adj-values`: master, replica, background child.
    pub fn oom_score_adj_values(&self) -> [i32; 3] {
        match self.value("oom-score-adj-values") {
            Some(ConfigValue::OomScoreAdjValues(v)) => *v,
            _ => [0, 200, 800],
        }
    }

    /// `latency-tracking-info-percentiles`.
    pub fn latency_tracking_info_percentiles(&self) -> &[f64] {
        match self.value("latency-tracking-info-percentiles") {
            Some(ConfigValue::Percentiles(p)) => p,
            _ => &[],
        }
    }

    /// Whether a `yes`/`no`/`local` directive (`enable-debug-command`, `enable-module-command`,
    /// `enable-protected-configs`) allows a client.
    pub fn allows(&self, name: &str, local_client: bool) -> bool {
        match self.get_str(name) {
            Some("yes") => true,
            Some("local") => local_client,
            _ => false,
        }
    }

    /// `CONFIG GET pattern...`: each directive once, as `(name, value)`. An exact name (no
    /// `*?[`) is answered under the name as given, and may be hidden; patterns match canonical
    /// names and aliases alike, case-insensitively, and skip hidden directives.
    pub fn get(&self, patterns: &[&[u8]]) -> Vec<(String, String)> {
        let mut found: Vec<(String, usize)> = Vec::new();
        let seen = |found: &[(String, usize)], name: &[u8]| {
            found
                .iter()
                .any(|(n, _)| n.as_bytes().eq_ignore_ascii_case(name))
        };
        for pattern in patterns {
            if !pattern.iter().any(|c| matches!(c, b'*' | b'?' | b'[')) {
                if let Some((i, _)) = position(pattern).filter(|_| !seen(&found, pattern)) {
                    found.push((value::lossy(pattern), i));
                }
                continue;
            }
            for (i, d) in DIRECTIVES.iter().enumerate() {
                if d.flags.contains(Flags::HIDDEN) {
                    continue;
                }
                for name in std::iter::once(d.name).chain(d.alias) {
                    if !seen(&found, name.as_bytes())
                        && crate::glob::glob_match(pattern, name.as_bytes(), true)
                    {
                        found.push((name.to_owned(), i));
                    }
                }
            }
        }
        found
            .into_iter()
            .map(|(name, i)| (name, value::render(&DIRECTIVES[i], &self.values[i])))
            .collect()
    }

    /// `CONFIG SET name value [name value ...]`, all or nothing. Returns the canonical names
    /// whose value changed, for the server to apply (`port`, `bind`, `dir`, `maxclients` ...).
    /// Multi-argument values are split on single spaces, as Redis does.
    pub fn set(
        &mut self,
        pairs: &[(&[u8], &[u8])],
        ctx: SetContext,
    ) -> Result<Vec<&'static str>, ConfigSetError> {
        let failed = |arg: &[u8], reason: &str| ConfigSetError::Failed {
            arg: value::lossy(arg),
            reason: reason.to_owned(),
        };
        // Redis checks names and flags first, then values; the first problem is reported.
        let mut targets: Vec<(usize, bool)> = Vec::with_capacity(pairs.len());
        for (name, _) in pairs {
            let Some((i, alias)) = position(name) else {
                return Err(ConfigSetError::Unknown(value::lossy(name)));
            };
            let flags = DIRECTIVES[i].flags;
            if flags.contains(Flags::IMMUTABLE) {
                return Err(failed(name, "can't set immutable config"));
            }
            if flags.contains(Flags::PROTECTED)
                && !self.allows("enable-protected-configs", ctx.local_client)
            {
                return Err(failed(name, "can't set protected config"));
            }
            if ctx.loading && flags.contains(Flags::DENY_LOADING) {
                return Err(ConfigSetError::Loading);
            }
            // An alias and its directive are distinct entries for Redis: both may be set.
            if targets.contains(&(i, alias)) {
                return Err(failed(name, "duplicate parameter"));
            }
            targets.push((i, alias));
        }
        let mut staged = self.values.clone();
        for ((_, raw), &(i, alias)) in pairs.iter().zip(&targets) {
            let d = &DIRECTIVES[i];
            let arg_name = if alias {
                d.alias.unwrap_or(d.name)
            } else {
                d.name
            };
            let args: Vec<Vec<u8>> = if d.is_multi_arg() {
                if raw.is_empty() {
                    Vec::new()
                } else {
                    raw.split(|&c| c == b' ').map(<[u8]>::to_vec).collect()
                }
            } else {
                vec![raw.to_vec()]
            };
            let mut new = value::parse(d, &args, &staged[i], std::path::Path::new(self.dir()))
                .map_err(|reason| failed(arg_name.as_bytes(), &reason))?;
            if d.name == "hz" {
                new = clamped_hz(new);
            }
            if let Some(feature) = d.feature {
                if new != staged[i] {
                    return Err(failed(
                        arg_name.as_bytes(),
                        &format!("{feature} is not supported by this server yet"),
                    ));
                }
            }
            staged[i] = new;
        }
        let mut changed: Vec<&'static str> = Vec::new();
        for &(i, _) in &targets {
            if staged[i] != self.values[i] && !changed.contains(&DIRECTIVES[i].name) {
                changed.push(DIRECTIVES[i].name);
            }
        }
        self.values = staged;
        Ok(changed)
    }

    /// Redis accepts any `hz` but runs with 1..=500, and shows the clamped value.
    fn clamp_hz(&mut self) {
        if let Some((i, _)) = position(b"hz") {
            self.values[i] = clamped_hz(self.values[i].clone());
        }
    }
}

fn clamped_hz(v: ConfigValue) -> ConfigValue {
    match v {
        ConfigValue::Int(hz) => ConfigValue::Int(hz.clamp(1, 500)),
        other => other,
    }
}

/// Expands a `proc-title-template` as Redis does: `{name}` is replaced by `var(name)` (`None`:
/// unknown variable, the template is invalid), `{{` is a literal `{`, and the result is trimmed
/// of spaces. `None` for an invalid template.
pub fn expand_proc_title_template(
    template: &str,
    var: impl Fn(&str) -> Option<String>,
) -> Option<String> {
    let mut out = String::new();
    let mut rest = template;
    while let Some(open) = rest.find('{') {
        out.push_str(&rest[..open]);
        let after = &rest[open + 1..];
        if after.is_empty() {
            return None;
        }
        if let Some(stripped) = after.strip_prefix('{') {
            out.push('{');
            rest = stripped;
            continue;
        }
        let close = after.find('}')?;
        out.push_str(&var(&after[..close])?);
        rest = &after[close + 1..];
    }
    out.push_str(rest);
    Some(out.trim_matches(' ').to_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn args(list: &[&str]) -> Vec<String> {
        list.iter().map(|s| (*s).to_owned()).collect()
    }

    fn load_args(list: &[&str]) -> Result<Loaded, ConfigError> {
        load_with_stdin(&args(list), &mut std::io::empty())
    }

    fn get1(c: &Config, name: &str) -> String {
        c.render(name).unwrap()
    }

    fn set(c: &mut Config, pairs: &[(&str, &str)]) -> Result<Vec<&'static str>, String> {
        let pairs: Vec<(&[u8], &[u8])> = pairs
            .iter()
            .map(|(n, v)| (n.as_bytes(), v.as_bytes()))
            .collect();
        c.set(&pairs, SetContext::default())
            .map_err(|e| e.to_string())
    }

    fn temp_dir(name: &str) -> PathBuf {
        let dir =
            std::env::temp_dir().join(format!("redis-config-test-{}-{name}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        dir
    }

    #[test]
    fn config_get_all_matches_redis_defaults() {
        let real = include_str!("testdata/config-get-all-7.0.15.tsv");
        let ours: std::collections::BTreeMap<String, String> =
            Config::default().get(&[b"*"]).into_iter().collect();
        let mut expected: std::collections::BTreeMap<String, String> = real
            .lines()
            .map(|l| {
                let (k, v) = l.split_once('\t').unwrap();
                (k.to_owned(), v.to_owned())
            })
            .collect();
        // The reference server ran on another port and directory.
        expected.insert("port".into(), "6379".into());
        expected.insert("dir".into(), Config::default().dir().to_owned());
        assert_eq!(ours, expected);
        // Our own directive is hidden from patterns but answers to its name.
        assert_eq!(
            Config::default().get(&[b"server-threads"]),
            [("server-threads".to_owned(), "0".to_owned())]
        );
    }

    #[test]
    fn accessors_resolve_aliases_and_case() {
        let c = Config::default();
        assert_eq!(c.get_int("PORT"), Some(6379));
        assert_eq!(c.get_int("lua-time-limit"), Some(5000));
        assert_eq!(c.get_int("proto-max-bulk-len"), Some(512 << 20));
        assert_eq!(c.get_bool("slave-serve-stale-data"), Some(true));
        assert_eq!(c.get_str("loglevel"), Some("notice"));
        assert_eq!(c.get_str("unixsocket"), Some(""));
        assert_eq!(c.bind(), ["*", "-::*"]);
        assert_eq!(c.save_params().len(), 3);
        assert_eq!(c.get_flags("shutdown-on-sigint"), Some(0));
        assert_eq!(c.get_int("nope"), None);
        assert_eq!(c.get_bool("port"), None);
        assert!(!c.allows("enable-debug-command", true));
    }

    #[test]
    fn config_get_names_patterns_and_duplicates() {
        let c = Config::default();
        assert_eq!(c.get(&[b"PORT"]), [("PORT".to_owned(), "6379".to_owned())]);
        assert_eq!(
            c.get(&[b"port", b"PORT", b"po*"]),
            [("port".to_owned(), "6379".to_owned())]
        );
        assert_eq!(c.get(&[b"Port*"]), [("port".to_owned(), "6379".to_owned())]);
        let both = c.get(&[b"slaveof", b"replicaof"]);
        assert_eq!(both.len(), 2);
        // Hidden directives answer an exact name only.
        assert_eq!(c.get(&[b"rdb-key-save-delay"]).len(), 1);
        assert!(c.get(&[b"rdb-key-save-*"]).is_empty());
        let delays: Vec<String> = c.get(&[b"*delay*"]).into_iter().map(|(n, _)| n).collect();
        assert_eq!(
            delays,
            ["repl-disable-tcp-nodelay", "repl-diskless-sync-delay"]
        );
        assert!(c.get(&[b"nope"]).is_empty());
        let all = c.get(&[b"*"]);
        assert!(all.iter().any(|(n, _)| n == "hash-max-ziplist-entries"));
        assert_eq!(all.len(), 192);
    }

    #[test]
    fn config_set_values_and_rendering() {
        let mut c = Config::default();
        assert_eq!(
            set(&mut c, &[("timeout", "30"), ("loglevel", "WARNING")]),
            Ok(vec!["timeout", "loglevel"])
        );
        assert_eq!(get1(&c, "loglevel"), "warning");
        assert_eq!(set(&mut c, &[("timeout", "30")]), Ok(vec![]));
        assert_eq!(
            set(&mut c, &[("proto-max-bulk-len", "2mb")]),
            Ok(vec!["proto-max-bulk-len"])
        );
        assert_eq!(get1(&c, "proto-max-bulk-len"), "2097152");
        assert_eq!(
            set(&mut c, &[("client-query-buffer-limit", "1G")]),
            Ok(vec!["client-query-buffer-limit"])
        );
        assert_eq!(c.get_int("client-query-buffer-limit"), Some(1_000_000_000));
        assert_eq!(set(&mut c, &[("hz", "1000")]), Ok(vec!["hz"]));
        assert_eq!(get1(&c, "hz"), "500");
        assert_eq!(set(&mut c, &[("hz", "0")]), Ok(vec!["hz"]));
        assert_eq!(get1(&c, "hz"), "1");
        assert_eq!(
            set(&mut c, &[("slowlog-log-slower-than", "-1")]),
            Ok(vec!["slowlog-log-slower-than"])
        );
        assert_eq!(
            set(&mut c, &[("requirepass", "secret")]),
            Ok(vec!["requirepass"])
        );
        assert_eq!(set(&mut c, &[("bind", "127.0.0.1 ::1")]), Ok(vec!["bind"]));
        assert_eq!(c.bind(), ["127.0.0.1", "::1"]);
        assert_eq!(set(&mut c, &[("bind", "")]), Ok(vec!["bind"]));
        assert!(c.bind().is_empty());
        assert_eq!(
            set(&mut c, &[("proc-title-template", "{title} {port}")]),
            Ok(vec!["proc-title-template"])
        );
        // The alias and its directive are distinct entries: both may be set, the last wins.
        let mut c = Config::default();
        assert_eq!(
            set(
                &mut c,
                &[("slowlog-max-len", "1"), ("SLOWLOG-MAX-LEN", "2")]
            )
            .unwrap_err(),
            "ERR CONFIG SET failed (possibly related to argument 'SLOWLOG-MAX-LEN') - duplicate parameter"
        );
    }

    #[test]
    fn config_set_errors_match_redis() {
        let mut c = Config::default();
        let cases: &[(&[(&str, &str)], &str)] = &[
            (
                &[("foo", "bar")],
                "ERR Unknown option or number of arguments for CONFIG SET - 'foo'",
            ),
            (
                &[("port", "80"), ("foo", "1")],
                "ERR Unknown option or number of arguments for CONFIG SET - 'foo'",
            ),
            (
                &[("daemonize", "yes"), ("foo", "1")],
                "ERR CONFIG SET failed (possibly related to argument 'daemonize') - can't set immutable config",
            ),
            (
                &[("maxmemory", "abc")],
                "ERR CONFIG SET failed (possibly related to argument 'maxmemory') - argument must be a memory value",
            ),
            (
                &[("maxmemory", "1.5gb")],
                "ERR CONFIG SET failed (possibly related to argument 'maxmemory') - argument must be a memory value",
            ),
            (
                &[("port", "80"), ("port", "81")],
                "ERR CONFIG SET failed (possibly related to argument 'port') - duplicate parameter",
            ),
            (
                &[("port", "80"), ("PORT", "81")],
                "ERR CONFIG SET failed (possibly related to argument 'PORT') - duplicate parameter",
            ),
            (
                &[("PORT", "abc")],
                "ERR CONFIG SET failed (possibly related to argument 'port') - argument couldn't be parsed into an integer",
            ),
            (
                &[("port", "99999")],
                "ERR CONFIG SET failed (possibly related to argument 'port') - argument must be between 0 and 65535 inclusive",
            ),
            (
                &[("timeout", "-1")],
                "ERR CONFIG SET failed (possibly related to argument 'timeout') - argument must be between 0 and 2147483647 inclusive",
            ),
            (
                &[("timeout", "+5")],
                "ERR CONFIG SET failed (possibly related to argument 'timeout') - argument couldn't be parsed into an integer",
            ),
            (
                &[("timeout", "05")],
                "ERR CONFIG SET failed (possibly related to argument 'timeout') - argument couldn't be parsed into an integer",
            ),
            (
                &[("maxclients", "-1")],
                "ERR CONFIG SET failed (possibly related to argument 'maxclients') - argument must be between 1 and 4294967295 inclusive",
            ),
            (
                &[("set-max-intset-entries", "-1")],
                "ERR CONFIG SET failed (possibly related to argument 'set-max-intset-entries') - argument must be between 0 and 9223372036854775807 inclusive",
            ),
            (
                &[("proto-max-bulk-len", "1000")],
                "ERR CONFIG SET failed (possibly related to argument 'proto-max-bulk-len') - argument must be between 1048576 and 9223372036854775807 inclusive",
            ),
            (
                &[("loglevel", "foo")],
                "ERR CONFIG SET failed (possibly related to argument 'loglevel') - argument(s) must be one of the following: debug, verbose, notice, warning",
            ),
            (
                &[("protected-mode", "maybe")],
                "ERR CONFIG SET failed (possibly related to argument 'protected-mode') - argument must be 'yes' or 'no'",
            ),
            (
                &[("databases", "3")],
                "ERR CONFIG SET failed (possibly related to argument 'databases') - can't set immutable config",
            ),
            (
                &[("dir", "/tmp")],
                "ERR CONFIG SET failed (possibly related to argument 'dir') - can't set protected config",
            ),
            (
                &[("dbfilename", "x")],
                "ERR CONFIG SET failed (possibly related to argument 'dbfilename') - can't set protected config",
            ),
            (
                &[("LUA-TIME-LIMIT", "abc")],
                "ERR CONFIG SET failed (possibly related to argument 'lua-time-limit') - argument couldn't be parsed into an integer",
            ),
            (
                &[("maxmemory-clients", "101%")],
                "ERR CONFIG SET failed (possibly related to argument 'maxmemory-clients') - percentage argument must be less or equal to 100",
            ),
            (
                &[("maxmemory-clients", "-1")],
                "ERR CONFIG SET failed (possibly related to argument 'maxmemory-clients') - argument must be a memory or percent value",
            ),
            (
                &[("save", "100 10 200")],
                "ERR CONFIG SET failed (possibly related to argument 'save') - Invalid save parameters",
            ),
            (
                &[("save", "100 10 ")],
                "ERR CONFIG SET failed (possibly related to argument 'save') - Invalid save parameters",
            ),
            (
                &[("client-output-buffer-limit", "master 0 0 0")],
                "ERR CONFIG SET failed (possibly related to argument 'client-output-buffer-limit') - Invalid client class specified in buffer limit configuration.",
            ),
            (
                &[("client-output-buffer-limit", "normal 1 2")],
                "ERR CONFIG SET failed (possibly related to argument 'client-output-buffer-limit') - Wrong number of arguments in buffer limit configuration.",
            ),
            (
                &[("client-output-buffer-limit", "normal 1 2 -3")],
                "ERR CONFIG SET failed (possibly related to argument 'client-output-buffer-limit') - Error in hard, soft or soft_seconds setting in buffer limit configuration.",
            ),
            (
                &[("notify-keyspace-events", "Q")],
                "ERR CONFIG SET failed (possibly related to argument 'notify-keyspace-events') - Invalid event class character. Use 'Ag$lshzxeKEtmdn'.",
            ),
            (
                &[("shutdown-on-sigint", "save nosave")],
                "ERR CONFIG SET failed (possibly related to argument 'shutdown-on-sigint') - shutdown options SAVE and NOSAVE can't be used simultaneously",
            ),
            (
                &[("shutdown-on-sigterm", "foo")],
                "ERR CONFIG SET failed (possibly related to argument 'shutdown-on-sigterm') - argument(s) must be one of the following: default, save, nosave, now, force",
            ),
            (
                &[("oom-score-adj-values", "1 2")],
                "ERR CONFIG SET failed (possibly related to argument 'oom-score-adj-values') - wrong number of arguments",
            ),
            (
                &[("oom-score-adj-values", "1 2 3000")],
                "ERR CONFIG SET failed (possibly related to argument 'oom-score-adj-values') - Invalid oom-score-adj-values, elements must be between -2000 and 2000.",
            ),
            (
                &[("latency-tracking-info-percentiles", "50 99.99 abc")],
                "ERR CONFIG SET failed (possibly related to argument 'latency-tracking-info-percentiles') - Invalid latency-tracking-info-percentiles parameters",
            ),
            (
                &[("latency-tracking-info-percentiles", "50 101")],
                "ERR CONFIG SET failed (possibly related to argument 'latency-tracking-info-percentiles') - latency-tracking-info-percentiles parameters should sit between [0.0,100.0]",
            ),
            (
                &[("proc-title-template", "{foo}")],
                "ERR CONFIG SET failed (possibly related to argument 'proc-title-template') - template format is invalid or contains unknown variables",
            ),
            (
                &[("proc-title-template", "")],
                "ERR CONFIG SET failed (possibly related to argument 'proc-title-template') - template format is invalid or contains unknown variables",
            ),
            (
                &[("activedefrag", "yes")],
                "ERR CONFIG SET failed (possibly related to argument 'activedefrag') - Active defragmentation cannot be enabled: it requires a Redis server compiled with a modified Jemalloc like the one shipped by default with the Redis source distribution",
            ),
            (
                &[("cluster-announce-hostname", "a_b")],
                "ERR CONFIG SET failed (possibly related to argument 'cluster-announce-hostname') - Hostnames may only contain alphanumeric characters, hyphens or dots",
            ),
            (
                &[("replicaof", "no one")],
                "ERR CONFIG SET failed (possibly related to argument 'replicaof') - can't set immutable config",
            ),
            // Our own text for features this server lacks.
            (
                &[("repl-disable-tcp-nodelay", "yes")],
                "ERR CONFIG SET failed (possibly related to argument 'repl-disable-tcp-nodelay') - replication is not supported by this server yet",
            ),
            (
                &[("timeout", "5"), ("shutdown-on-sigint", "nosave")],
                "ERR CONFIG SET failed (possibly related to argument 'shutdown-on-sigint') - RDB persistence is not supported by this server yet",
            ),
        ];
        for (pairs, expected) in cases {
            assert_eq!(set(&mut c, pairs).unwrap_err(), *expected, "{pairs:?}");
        }
        assert_eq!(c, Config::default(), "failed sets change nothing");
    }

    #[test]
    fn config_set_unbuilt_feature_accepts_its_current_value() {
        let mut c = Config::default();
        assert_eq!(
            set(
                &mut c,
                &[
                    ("maxmemory", "0"),
                    ("save", "3600 1 300 100 60 10000"),
                    ("appendonly", "no")
                ]
            ),
            Ok(vec![])
        );
        assert_eq!(set(&mut c, &[("notify-keyspace-events", "")]), Ok(vec![]));
    }

    #[test]
    fn config_set_context_gates() {
        let mut c = load_text("enable-protected-configs local\n")
            .unwrap()
            .config;
        let dir = temp_dir("gates");
        let pairs: [(&[u8], &[u8]); 1] = [(b"dir", dir.to_str().unwrap().as_bytes())];
        let remote = SetContext {
            local_client: false,
            loading: false,
        };
        assert!(
            c.set(&pairs, remote)
                .unwrap_err()
                .to_string()
                .ends_with("can't set protected config")
        );
        let local = SetContext {
            local_client: true,
            loading: false,
        };
        assert_eq!(c.set(&pairs, local), Ok(vec!["dir"]));
        assert_eq!(
            c.dir(),
            std::fs::canonicalize(&dir).unwrap().to_str().unwrap()
        );
        let missing: [(&[u8], &[u8]); 1] = [(b"dir", b"no-such-subdir")];
        assert_eq!(
            c.set(&missing, local).unwrap_err().to_string(),
            "ERR CONFIG SET failed (possibly related to argument 'dir') - No such file or directory"
        );
        let loading = SetContext {
            local_client: true,
            loading: true,
        };
        assert_eq!(
            c.set(&pairs, loading).unwrap_err().to_string(),
            "LOADING Redis is loading the dataset in memory"
        );
    }

    #[test]
    fn special_values_render_like_redis() {
        let mut c = load_text(
            "enable-protected-configs yes\nclient-output-buffer-limit normal 1mb 2mb 3\nnotify-keyspace-events KEA\n\
             latency-tracking-info-percentiles \"50.0 99.990\"\nshutdown-on-sigint nosave now\noom-score-adj relative\n\
             maxmemory-clients 10%\nunixsocketperm 700\n",
        )
        .unwrap()
        .config;
        assert_eq!(
            get1(&c, "client-output-buffer-limit"),
            "normal 1048576 2097152 3 slave 268435456 67108864 60 pubsub 33554432 8388608 60"
        );
        assert_eq!(get1(&c, "notify-keyspace-events"), "AKE");
        assert_eq!(get1(&c, "latency-tracking-info-percentiles"), "50 99.99");
        assert_eq!(get1(&c, "shutdown-on-sigint"), "nosave now");
        assert_eq!(get1(&c, "oom-score-adj"), "yes");
        assert_eq!(get1(&c, "maxmemory-clients"), "10%");
        assert_eq!(get1(&c, "unixsocketperm"), "700");
        assert_eq!(c.get_int("unixsocketperm"), Some(0o700));
        c = load_text("notify-keyspace-events Kx$\nsave \"\"\n")
            .unwrap()
            .config;
        assert_eq!(get1(&c, "notify-keyspace-events"), "$xK");
        assert_eq!(get1(&c, "save"), "");
    }

    #[test]
    fn loads_the_test_suite_default_conf() {
        let dir = temp_dir("suite");
        let text = format!(
            "# Redis configuration for testing.\n\nalways-show-logo yes\nnotify-keyspace-events KEA\ndaemonize no\n\
             pidfile /var/run/redis.pid\nport 6379\ntimeout 0\nbind 127.0.0.1\nloglevel verbose\nlogfile ''\n\
             databases 16\nlatency-monitor-threshold 1\nrepl-diskless-sync-delay 0\nsave 900 1\nrdbcompression yes\n\
             dbfilename dump.rdb\ndir {}\nslave-serve-stale-data yes\nappendonly no\nappendfsync everysec\n\
             no-appendfsync-on-rewrite no\nactiverehashing yes\nenable-protected-configs yes\nenable-debug-command yes\n\
             enable-module-command yes\npropagation-error-behavior panic\n",
            dir.display()
        );
        let loaded = load_text(&text).unwrap();
        let c = &loaded.config;
        assert_eq!(c.bind(), ["127.0.0.1"]);
        assert_eq!(c.get_str("loglevel"), Some("verbose"));
        assert_eq!(get1(c, "save"), "900 1");
        assert!(c.allows("enable-debug-command", false));
        assert_eq!(
            loaded.warnings,
            [
                "propagation-error-behavior 'panic' has no effect: replication is not supported by this server yet",
            ]
        );
    }

    #[test]
    fn loads_redis_conf_shipped_with_7_0_15() {
        // The stock redis.conf only sets directives to their defaults, except these.
        let path = "/root/.cache/redis-suite-7.0.15/redis.conf";
        let Ok(text) = std::fs::read_to_string(path) else {
            return;
        };
        let loaded = load_text(&text).unwrap();
        assert_eq!(loaded.config.bind(), ["127.0.0.1", "-::1"]);
        assert!(loaded.warnings.is_empty(), "{:?}", loaded.warnings);
    }

    #[test]
    fn save_lines_add_up_within_a_file() {
        let c = load_text("save 900 1\nsave 300 10\n").unwrap().config;
        assert_eq!(get1(&c, "save"), "900 1 300 10");
        let c = load_text("save 900 1\nsave \"\"\nsave 60 5\n")
            .unwrap()
            .config;
        assert_eq!(get1(&c, "save"), "60 5");
        let c = load_text("save 900 1 300 10\n").unwrap().config;
        assert_eq!(
            c.save_params(),
            [
                SaveParam {
                    seconds: 900,
                    changes: 1
                },
                SaveParam {
                    seconds: 300,
                    changes: 10
                }
            ]
        );
    }

    #[test]
    fn argv_options_follow_the_file_and_win() {
        let dir = temp_dir("argv");
        let file = dir.join("a.conf");
        std::fs::write(&file, "port 7000\nmaxclients 50\n").unwrap();
        let loaded = load_args(&[
            file.to_str().unwrap(),
            "--port",
            "7001",
            "--save",
            "900 1",
            "--bind",
            "1.2.3.4",
            "5.6.7.8",
        ])
        .unwrap();
        let c = &loaded.config;
        assert_eq!(c.get_int("port"), Some(7001));
        assert_eq!(c.get_int("maxclients"), Some(50));
        assert_eq!(get1(c, "save"), "900 1");
        assert_eq!(c.bind(), ["1.2.3.4", "5.6.7.8"]);
        assert_eq!(loaded.config_file.as_deref(), Some(file.as_path()));
        assert!(!loaded.sentinel);
    }

    #[test]
    fn argv_save_without_value_clears_save_points() {
        for list in [
            &["--save"][..],
            &["--save", "--port", "7002"],
            &["--save", ""],
        ] {
            let c = load_args(list).unwrap().config;
            assert!(c.save_params().is_empty(), "{list:?}");
        }
        let c = load_args(&["--save", "--port", "7002"]).unwrap().config;
        assert_eq!(c.get_int("port"), Some(7002));
        let c = load_args(&["--port 7003"]).unwrap().config;
        assert_eq!(c.get_int("port"), Some(7003));
    }

    #[test]
    fn argv_sentinel_flag() {
        let loaded = load_args(&["--sentinel", "--port", "26379"]).unwrap();
        assert!(loaded.sentinel);
        assert_eq!(loaded.config.get_int("port"), Some(26379));
        let loaded = load_args(&[
            "--port",
            "26379",
            "--sentinel",
            "monitor",
            "m",
            "127.0.0.1",
            "6379",
            "2",
        ])
        .unwrap();
        assert_eq!(loaded.sentinel_directives.len(), 1);
        assert_eq!(
            loaded.sentinel_directives[0].args,
            ["monitor", "m", "127.0.0.1", "6379", "2"]
        );
    }

    #[test]
    fn stdin_config() {
        let loaded = load_with_stdin(
            &args(&["-", "--port", "7004"]),
            &mut "maxclients 7\nport 1\n".as_bytes(),
        )
        .unwrap();
        assert_eq!(loaded.config.get_int("maxclients"), Some(7));
        assert_eq!(loaded.config.get_int("port"), Some(7004));
        assert!(loaded.config_file.is_none());
    }

    #[test]
    fn fatal_errors_print_like_redis() {
        let err = |list: &[&str]| load_args(list).unwrap_err().to_string();
        let block = |line: usize, text: &str, msg: &str| {
            format!(
                "\n*** FATAL CONFIG FILE ERROR (Redis 7.0.15) ***\nReading the configuration file, at line {line}\n>>> '{text}'\n{msg}\n"
            )
        };
        assert_eq!(
            err(&["--foo", "bar"]),
            block(
                2,
                "foo \"bar\"",
                "Bad directive or wrong number of arguments"
            )
        );
        assert_eq!(
            err(&["--port", "abc"]),
            block(
                2,
                "port \"abc\"",
                "argument couldn't be parsed into an integer"
            )
        );
        assert_eq!(
            err(&["--port"]),
            block(2, "port", "wrong number of arguments")
        );
        assert_eq!(
            err(&["--port", "--port", "0"]),
            block(2, "port \"--port\" \"0\"", "wrong number of arguments")
        );
        assert_eq!(
            err(&["--port", "1", "2"]),
            block(2, "port \"1\" \"2\"", "wrong number of arguments")
        );
        assert_eq!(
            err(&["--hz", "0", "--port", "0", "--foo"]),
            block(4, "foo", "Bad directive or wrong number of arguments")
        );
        assert_eq!(
            err(&["--save", "900 1 300"]),
            block(2, "save \"900 1 300\"", "Invalid save parameters")
        );
        assert_eq!(
            err(&["--maxmemory", "1x"]),
            block(2, "maxmemory \"1x\"", "argument must be a memory value")
        );
        assert_eq!(
            err(&["--loglevel", "foo"]),
            block(
                2,
                "loglevel \"foo\"",
                "argument(s) must be one of the following: debug, verbose, notice, warning"
            )
        );
        assert_eq!(
            err(&["--foo.bar"]),
            block(2, "foo.bar", "Module config specified without value")
        );
        assert_eq!(
            err(&["--slaveof", "127.0.0.1", "1", "--cluster-enabled", "yes"]),
            "\n*** FATAL CONFIG FILE ERROR (Redis 7.0.15) ***\nreplicaof directive not allowed in cluster mode\n"
        );
        assert_eq!(
            err(&["--logfile", "/nonexistent-dir/x.log"]),
            "\n*** FATAL CONFIG FILE ERROR (Redis 7.0.15) ***\nCan't open the log file: No such file or directory\n"
        );
        let e = load_args(&["/nonexistent.conf"]).unwrap_err();
        assert!(e.is_log_line());
        assert_eq!(
            e.to_string(),
            "Fatal error, can't open config file '/nonexistent.conf': No such file or directory"
        );
        let e = load_args(&["--foo.bar", "1"]).unwrap_err();
        assert_eq!(
            e.to_string(),
            "Module Configuration detected without loadmodule directive or no ApplyConfig call: aborting"
        );
    }

    #[test]
    fn option_lines_are_numbered_after_the_file_and_stdin() {
        let dir = temp_dir("numbering");
        let with_newline = dir.join("a.conf");
        std::fs::write(&with_newline, "port 7000\nmaxclients 50\n").unwrap();
        let without = dir.join("b.conf");
        std::fs::write(&without, "port 1").unwrap();
        let line = |e: ConfigError| e.line;
        assert_eq!(
            load_args(&[with_newline.to_str().unwrap(), "--foo", "bar"])
                .map_err(line)
                .unwrap_err(),
            Some(4)
        );
        assert_eq!(
            load_args(&[without.to_str().unwrap(), "--foo", "bar"])
                .map_err(line)
                .unwrap_err(),
            Some(2)
        );
        let from_stdin = load_with_stdin(
            &args(&["-", "--foo", "1"]),
            &mut "maxclients 5\n".as_bytes(),
        );
        assert_eq!(from_stdin.map_err(line).unwrap_err(), Some(3));
    }

    #[test]
    fn save_lines_after_an_include_replace() {
        // Redis stops adding up save points once an included file has been read.
        let dir = temp_dir("save-include");
        std::fs::write(dir.join("a.conf"), "maxclients 50\n").unwrap();
        let text = format!(
            "dir {}\nsave 900 1\ninclude a.conf\nsave 300 10\nsave 60 1\n",
            dir.display()
        );
        assert_eq!(get1(&load_text(&text).unwrap().config, "save"), "60 1");
    }

    #[test]
    fn sentinel_lines_need_sentinel_mode() {
        let e = load_text("sentinel monitor m 127.0.0.1 6379 2\n").unwrap_err();
        assert_eq!(e.line, Some(1));
        assert_eq!(e.kind, ConfigErrorKind::SentinelDirectiveOutsideSentinel);
        assert!(load_text("sentinel\n").is_ok());
    }

    #[test]
    fn file_errors_report_line_and_text() {
        let e = load_text("port 1\n\n  # comment\n  maxclients \"unbalanced  \n").unwrap_err();
        assert_eq!(e.line, Some(4));
        assert_eq!(e.text, "maxclients \"unbalanced");
        assert_eq!(e.kind, ConfigErrorKind::UnbalancedQuotes);
        let e = load_text("port 1\r\nfoo \"bar\"\n").unwrap_err();
        assert_eq!(
            e.to_string(),
            "\n*** FATAL CONFIG FILE ERROR (Redis 7.0.15) ***\nReading the configuration file, at line 2\n>>> 'foo \"bar\"'\nBad directive or wrong number of arguments\n"
        );
    }

    #[test]
    fn includes_resolve_relative_to_dir_and_report_their_own_lines() {
        let dir = temp_dir("include");
        std::fs::write(dir.join("one.conf"), "maxclients 11\n").unwrap();
        std::fs::create_dir_all(dir.join("conf.d")).unwrap();
        std::fs::write(dir.join("conf.d/a.conf"), "timeout 5\n").unwrap();
        std::fs::write(dir.join("conf.d/b.conf"), "timeout 6\n").unwrap();
        std::fs::write(dir.join("bad.conf"), "\n\nport x\n").unwrap();
        let text = format!(
            "dir {}\ninclude one.conf\ninclude conf.d/*.conf\ninclude empty.d/*.conf\n",
            dir.display()
        );
        let c = load_text(&text).unwrap().config;
        assert_eq!(c.get_int("maxclients"), Some(11));
        assert_eq!(c.get_int("timeout"), Some(6));
        let e = load_text(&format!(
            "dir {}\nport 1\ninclude bad.conf\n",
            dir.display()
        ))
        .unwrap_err();
        assert_eq!((e.line, e.text.as_str()), (Some(3), "port x"));
        let e = load_text(&format!("dir {}\ninclude missing.conf\n", dir.display())).unwrap_err();
        assert!(matches!(e.kind, ConfigErrorKind::CantOpen { .. }));
    }

    #[test]
    fn deprecated_and_handled_elsewhere_directives() {
        let loaded = load_text(
            "list-max-ziplist-entries 512\nlua-replicate-commands yes\nrename-command FLUSHALL \"\"\n\
             user alice on >pw ~* +@all\nloadmodule /x.so a b\nhash-max-ziplist-entries 512\nslaveof no one\n",
        )
        .unwrap();
        assert_eq!(
            loaded.renames,
            [Rename {
                line: 3,
                text: "rename-command FLUSHALL \"\"".into(),
                from: "FLUSHALL".into(),
                to: String::new()
            }]
        );
        assert_eq!(loaded.users, [["alice", "on", ">pw", "~*", "+@all"]]);
        assert_eq!(loaded.warnings.len(), 1);
        assert!(load_text("list-max-ziplist-entries 1 2\n").is_err());
    }

    #[test]
    fn hz_is_clamped_after_loading() {
        assert_eq!(
            load_text("hz 1000\n").unwrap().config.get_int("hz"),
            Some(500)
        );
        assert_eq!(load_text("hz 0\n").unwrap().config.get_int("hz"), Some(1));
    }

    #[test]
    fn proc_title_templates() {
        let vars = |v: &str| (v == "title").then(|| "redis-server".to_owned());
        assert_eq!(
            expand_proc_title_template(" {title} {{x ", vars).as_deref(),
            Some("redis-server {x")
        );
        assert_eq!(expand_proc_title_template("{nope}", vars), None);
        assert_eq!(expand_proc_title_template("{title", vars), None);
        assert_eq!(expand_proc_title_template("x{", vars), None);
    }
}
