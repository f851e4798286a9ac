//! Access control lists, as Redis's `acl.c`: the users (`user`), the check dispatch runs on
//! every command ([`check`]), the ACL log, and the ACL file.
//!
//! While `default` is the only user and may do anything (the common case), [`check`] is one
//! atomic load.

mod sha256;
mod user;

use std::collections::{BTreeMap, VecDeque};
use std::sync::atomic::{AtomicBool, Ordering::Relaxed};
use std::sync::{Arc, Mutex, PoisonError, RwLock};

use common::command_table::CommandSpec;
use common::resp::ArgList;

use crate::commands::CommandError;
use crate::connection::Client;
use crate::server::{Server, unix_ms};

pub(crate) use user::{Denied, Selector, User, category_by_name, commands_in};

/// Where a refused command came from (ACL LOG `context`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Context {
    Toplevel,
    Multi,
    Lua,
}

impl Context {
    fn name(self) -> &'static str {
        match self {
            Context::Toplevel => "toplevel",
            Context::Multi => "multi",
            Context::Lua => "lua",
        }
    }
}

/// Why an ACL LOG entry was written.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Reason {
    Command,
    Key,
    Channel,
    Auth,
}

impl Reason {
    fn name(self) -> &'static str {
        match self {
            Reason::Command => "command",
            Reason::Key => "key",
            Reason::Channel => "channel",
            Reason::Auth => "auth",
        }
    }
}

/// One ACL LOG entry.
#[derive(Debug, Clone)]
pub(crate) struct LogEntry {
    pub count: u64,
    pub reason: Reason,
    pub context: Context,
    pub object: Vec<u8>,
    pub username: Vec<u8>,
    pub ctime_ms: i64,
    pub client_info: String,
}

impl LogEntry {
    pub(crate) fn reason_name(&self) -> &'static str {
        self.reason.name()
    }

    pub(crate) fn context_name(&self) -> &'static str {
        self.context.name()
    }
}

/// Entries this close in time (ms), alike otherwise, are counted as one.
const LOG_GROUPING_MS: i64 = 60_000;

/// The server's users and ACL log.
pub(crate) struct Acl {
    /// `default` is the only user and has every permission: nothing to check.
    open: AtomicBool,
    users: RwLock<BTreeMap<Vec<u8>, Arc<User>>>,
    log: Mutex<VecDeque<LogEntry>>,
    /// The `requirepass` last applied to `default`, so that other config changes leave its
    /// passwords alone.
    requirepass: Mutex<Option<String>>,
}

impl Default for Acl {
    fn default() -> Self {
        let mut users = BTreeMap::new();
        users.insert(b"default".to_vec(), Arc::new(User::default_user()));
        Acl {
            open: AtomicBool::new(true),
            users: RwLock::new(users),
            log: Mutex::new(VecDeque::new()),
            requirepass: Mutex::new(None),
        }
    }
}

impl Acl {
    fn read(&self) -> std::sync::RwLockReadGuard<'_, BTreeMap<Vec<u8>, Arc<User>>> {
        self.users.read().unwrap_or_else(PoisonError::into_inner)
    }

    fn write(&self) -> std::sync::RwLockWriteGuard<'_, BTreeMap<Vec<u8>, Arc<User>>> {
        self.users.write().unwrap_or_else(PoisonError::into_inner)
    }

    fn refresh_open(&self, users: &BTreeMap<Vec<u8>, Arc<User>>) {
        let open = users.len() == 1
            && users
                .get(b"default".as_slice())
                .is_some_and(|u| u.is_unrestricted());
        self.open.store(open, Relaxed);
    }

    pub(crate) fn user(&self, name: &[u8]) -> Option<Arc<User>> {
        self.read().get(name).cloned()
    }

    /// Every user, by name.
    pub(crate) fn users(&self) -> Vec<Arc<User>> {
        self.read().values().cloned().collect()
    }

    /// Whether a new connection starts logged in (as `default`).
    /// True while the default user has `nopass` (protected mode then applies).
    pub(crate) fn default_has_nopass(&self) -> bool {
        self.user(b"default").is_some_and(|u| u.nopass())
    }

    pub(crate) fn default_logs_in(&self) -> bool {
        self.user(b"default")
            .is_some_and(|u| u.nopass() && u.enabled())
    }

    /// Creates or changes a user with `ACL SETUSER` rules, all or nothing. Returns the rules
    /// before (`None` for a new user) and after.
    pub(crate) fn set_user(
        &self,
        name: &[u8],
        rules: &[&[u8]],
        all_channels: bool,
    ) -> Result<(Option<Arc<User>>, Arc<User>), String> {
        let merged = user::merge_selector_args(rules).map_err(|i| {
            format!(
                "Unmatched parenthesis in acl selector starting at '{}'.",
                String::from_utf8_lossy(rules[i])
            )
        })?;
        let mut users = self.write();
        let old = users.get(name).cloned();
        let mut new = match &old {
            Some(u) => (**u).clone(),
            None => User::new(name, all_channels),
        };
        for rule in &merged {
            new.apply(rule, all_channels).map_err(|e| {
                format!(
                    "Error in ACL SETUSER modifier '{}': {e}",
                    String::from_utf8_lossy(rule)
                )
            })?;
        }
        let new = Arc::new(new);
        users.insert(name.to_vec(), new.clone());
        self.refresh_open(&users);
        Ok((old, new))
    }

    /// Removes a user; false when there was none.
    pub(crate) fn delete_user(&self, name: &[u8]) -> bool {
        let mut users = self.write();
        let removed = users.remove(name).is_some();
        self.refresh_open(&users);
        removed
    }

    /// Replaces every user (ACL LOAD, startup); `default` is created when missing.
    pub(crate) fn replace_all(&self, mut new: BTreeMap<Vec<u8>, Arc<User>>) {
        new.entry(b"default".to_vec())
            .or_insert_with(|| Arc::new(User::default_user()));
        let mut users = self.write();
        *users = new;
        self.refresh_open(&users);
    }

    /// Whether `name`/`pass` log in: the user exists, is on, and the password matches.
    pub(crate) fn credentials_ok(&self, name: &[u8], pass: &[u8]) -> bool {
        self.user(name)
            .is_some_and(|u| u.enabled() && u.password_matches(pass))
    }

    /// Gives `default` the `requirepass` password (or `nopass` when empty), when it changed.
    pub(crate) fn sync_requirepass(&self, config: &common::config::Config) {
        let pass = config
            .get_str("requirepass")
            .filter(|p| !p.is_empty())
            .map(str::to_owned);
        {
            let mut last = self
                .requirepass
                .lock()
                .unwrap_or_else(PoisonError::into_inner);
            if *last == pass {
                return;
            }
            last.clone_from(&pass);
        }
        let mut users = self.write();
        let mut default = users
            .get(b"default".as_slice())
            .map_or_else(User::default_user, |u| (**u).clone());
        let _ = default.apply(b"resetpass", false);
        let rule = match &pass {
            Some(p) => [b">".as_slice(), p.as_bytes()].concat(),
            None => b"nopass".to_vec(),
        };
        let _ = default.apply(&rule, false);
        users.insert(b"default".to_vec(), Arc::new(default));
        self.refresh_open(&users);
    }

    /// Adds an entry, or bumps a recent one alike, keeping at most `max_len`.
    pub(crate) fn add_log(&self, entry: LogEntry, max_len: usize) {
        let mut log = self.log.lock().unwrap_or_else(PoisonError::into_inner);
        let similar = log.iter().take(10).position(|e| {
            e.reason == entry.reason
                && e.context == entry.context
                && (e.ctime_ms - entry.ctime_ms).abs() <= LOG_GROUPING_MS
                && e.object == entry.object
                && e.username == entry.username
        });
        if let Some(pos) = similar
            && let Some(mut found) = log.remove(pos)
        {
            found.count += 1;
            found.ctime_ms = entry.ctime_ms;
            found.client_info = entry.client_info;
            log.push_front(found);
            return;
        }
        log.push_front(entry);
        log.truncate(max_len);
    }

    /// The newest `count` entries.
    pub(crate) fn log_entries(&self, count: usize) -> Vec<LogEntry> {
        let log = self.log.lock().unwrap_or_else(PoisonError::into_inner);
        log.iter().take(count).cloned().collect()
    }

    pub(crate) fn reset_log(&self) {
        self.log
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .clear();
    }

    /// Applies `acllog-max-len` after CONFIG SET.
    pub(crate) fn trim_log(&self, max_len: usize) {
        self.log
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .truncate(max_len);
    }
}

/// The user a client is logged in as.
pub(crate) fn client_user(client: &Client) -> Arc<[u8]> {
    client.info.details().user.clone()
}

/// Whether `acl-pubsub-default` gives new users every channel.
pub(crate) fn pubsub_default_all(server: &Server) -> bool {
    server.config().get_str("acl-pubsub-default") == Some("allchannels")
}

fn log_max_len(server: &Server) -> usize {
    usize::try_from(server.config().get_int("acllog-max-len").unwrap_or(128)).unwrap_or(0)
}

/// Records a refused command or login in the ACL log.
pub(crate) fn log(
    server: &Server,
    client: &Client,
    reason: Reason,
    context: Context,
    object: &[u8],
    username: Option<&[u8]>,
) {
    let username = match username {
        Some(name) => name.to_vec(),
        None => client_user(client).to_vec(),
    };
    let entry = LogEntry {
        count: 1,
        reason,
        context,
        object: object.to_vec(),
        username,
        ctime_ms: unix_ms(),
        client_info: crate::commands::client_info_line(server, &client.info),
    };
    server.acl.add_log(entry, log_max_len(server));
}

/// Whether the client's user may run `spec` with these arguments, without logging a refusal
/// (`redis.acl_check_cmd`).
pub(crate) fn permitted(
    server: &Server,
    client: &Client,
    spec: &CommandSpec,
    args: ArgList<'_>,
) -> bool {
    user_allows(server, client, args, |user, argv| {
        user.check(spec, argv).is_ok()
    })
}

/// The permission check of every command path: whether the client's user may run `spec`
/// with these arguments. A refusal is logged (in `context`) before it is returned.
pub(crate) fn check(
    server: &Server,
    client: &Client,
    spec: &CommandSpec,
    args: ArgList<'_>,
    context: Context,
) -> Result<(), Denied> {
    if server.acl.open.load(Relaxed) || client.unrestricted {
        return Ok(());
    }
    // Redis answers QUIT before any check.
    if spec.container.is_none() && spec.name == "quit" {
        return Ok(());
    }
    let argv: Vec<&[u8]> = args.iter().collect();
    let name = client_user(client);
    let result = match server.acl.user(&name) {
        Some(user) => user.check(spec, &argv),
        None => Err(Denied::Command),
    };
    if let Err(denied) = result {
        let (reason, object) = match denied {
            Denied::Command => (
                Reason::Command,
                common::command_table::full_name(spec).as_bytes().to_vec(),
            ),
            Denied::Key(i) => (
                Reason::Key,
                argv.get(i).copied().unwrap_or_default().to_vec(),
            ),
            Denied::Channel(i) => (
                Reason::Channel,
                argv.get(i).copied().unwrap_or_default().to_vec(),
            ),
        };
        log(server, client, reason, context, &object, Some(&name));
    }
    result
}

/// Whether the client's user may read every key with this command (SORT's BY and GET).
pub(crate) fn can_read_any_key(
    server: &Server,
    client: &Client,
    spec: &CommandSpec,
    args: ArgList<'_>,
) -> bool {
    user_allows(server, client, args, |user, argv| {
        user.can_read_any_key(spec, argv)
    })
}

/// `test` of the client's user with these arguments; true without asking while every user
/// may do everything.
fn user_allows(
    server: &Server,
    client: &Client,
    args: ArgList<'_>,
    test: impl FnOnce(&User, &[&[u8]]) -> bool,
) -> bool {
    if server.acl.open.load(Relaxed) {
        return true;
    }
    let argv: Vec<&[u8]> = args.iter().collect();
    server
        .acl
        .user(&client_user(client))
        .is_some_and(|user| test(&user, &argv))
}

/// The error a client gets for a refused command (Redis's `processCommand` texts).
pub(crate) fn noperm_error(spec: &CommandSpec, denied: Denied) -> CommandError {
    let msg = match denied {
        Denied::Command => format!(
            "this user has no permissions to run the '{}' command",
            common::command_table::full_name(spec)
        ),
        Denied::Key(_) => {
            "this user has no permissions to access one of the keys used as arguments".into()
        }
        Denied::Channel(_) => {
            "this user has no permissions to access one of the channels used as arguments".into()
        }
    };
    CommandError::Prefixed("NOPERM", msg)
}

/// EXEC's error for a queued command the rules no longer allow.
pub(crate) fn exec_error(denied: Denied) -> CommandError {
    let reason = match denied {
        Denied::Command => "no permission to execute the command or subcommand",
        Denied::Key(_) => "no permission to touch the specified keys",
        Denied::Channel(_) => "no permission to access one of the channels used as arguments",
    };
    CommandError::Prefixed(
        "NOPERM",
        format!(
            "ACLs rules changed between the moment the transaction was accumulated and the EXEC call. This command is no longer allowed for the following reason: {reason}"
        ),
    )
}

/// A script's error for a refused `redis.call`.
pub(crate) fn script_error(denied: Denied) -> String {
    let what = match denied {
        Denied::Command => "can't run this command or subcommand",
        Denied::Key(_) => {
            "can't access at least one of the keys mentioned in the command arguments"
        }
        Denied::Channel(_) => "can't publish to the channel mentioned in the command",
    };
    format!("The user executing the script {what}")
}

/// Closes the connections logged in as `name` (its rules were deleted or replaced); the
/// running client, if one of them, closes after this reply.
pub(crate) fn disconnect_user(server: &Server, client: &mut Client, name: &[u8]) {
    for info in server.client_list() {
        if *info.details().user != *name {
            continue;
        }
        if info.id == client.info.id {
            client.close_after_reply = true;
        } else {
            info.request_kill();
        }
    }
}

/// Closes the subscribers of `new` that hold a channel its new rules refuse.
pub(crate) fn disconnect_revoked_subscribers(server: &Server, old: &User, new: &User) {
    if !old.channels_narrowed_in(new) {
        return;
    }
    for info in server.client_list() {
        if *info.details().user != *new.name || !info.is_subscriber() {
            continue;
        }
        let keeps_all = server
            .pubsub
            .subscriptions_of(info.id)
            .iter()
            .all(|(channel, is_pattern)| new.channel_allowed(channel, *is_pattern));
        if !keeps_all {
            info.request_kill();
        }
    }
}

/// Reads an ACL file: every line `user <name> <rules...>`, blank lines allowed. All or
/// nothing: the error lists every problem, as Redis's `ACLLoadFromFile` does.
pub(crate) fn load_file(
    path: &str,
    shown_name: &str,
    all_channels: bool,
) -> Result<BTreeMap<Vec<u8>, Arc<User>>, String> {
    let text = std::fs::read(path).map_err(|e| {
        format!(
            "Error loading ACLs, opening file '{path}': {}",
            strerror(&e)
        )
    })?;
    let mut errors = String::new();
    let mut users: BTreeMap<Vec<u8>, Arc<User>> = BTreeMap::new();
    for (i, line) in text.split(|&b| b == b'\n').enumerate() {
        let linenum = i + 1;
        let line = line.trim_ascii();
        if line.is_empty() {
            continue;
        }
        let argv: Vec<&[u8]> = line.split(|&b| b == b' ').collect();
        if argv[0] != b"user" || argv.len() < 2 {
            errors.push_str(&format!(
                "{shown_name}:{linenum} should start with user keyword followed by the username. "
            ));
            continue;
        }
        let name = argv[1];
        if name.iter().any(|b| b.is_ascii_whitespace() || *b == 0) {
            errors.push_str(&format!(
                "'{shown_name}:{linenum}: username '{}' contains invalid characters. ",
                String::from_utf8_lossy(name)
            ));
            continue;
        }
        if users.contains_key(name) {
            errors.push_str(&format!(
                "WARNING: Duplicate user '{}' found on line {linenum}. ",
                String::from_utf8_lossy(name)
            ));
            continue;
        }
        let mut user = User::new(name, all_channels);
        let rules = match user::merge_selector_args(&argv[2..]) {
            Ok(rules) => rules,
            Err(_) => {
                errors.push_str(&format!(
                    "{shown_name}:{linenum}: Unmatched parenthesis in selector definition."
                ));
                Vec::new()
            }
        };
        let mut syntax_error = false;
        for rule in &rules {
            let rule = rule.trim_ascii();
            if let Err(e) = user.apply(rule, all_channels) {
                if e == user::RuleError::UnknownCommand {
                    errors.push_str(&format!(
                        "{shown_name}:{linenum}: Error in applying operation '{}': {e}. ",
                        String::from_utf8_lossy(rule)
                    ));
                } else if !syntax_error {
                    errors.push_str(&format!("{shown_name}:{linenum}: {e}. "));
                    syntax_error = true;
                }
            }
        }
        users.insert(name.to_vec(), Arc::new(user));
    }
    if errors.is_empty() {
        Ok(users)
    } else {
        errors.push_str(
            "WARNING: ACL errors detected, no change to the previously active ACL rules was performed",
        );
        Err(errors)
    }
}

/// An I/O error as C's `strerror` words it (without Rust's " (os error N)").
fn strerror(e: &std::io::Error) -> String {
    let text = e.to_string();
    match text.rfind(" (os error ") {
        Some(i) => text[..i].to_owned(),
        None => text,
    }
}

/// Writes every user to `path` (through a temporary file renamed over it).
pub(crate) fn save_file(server: &Server, path: &str) -> std::io::Result<()> {
    let mut text = Vec::new();
    for user in server.acl.users() {
        text.extend_from_slice(b"user ");
        text.extend_from_slice(&user.name);
        text.push(b' ');
        text.extend_from_slice(&user.describe());
        text.push(b'\n');
    }
    let tmp = format!("{path}.tmp-{}-{}", std::process::id(), unix_ms());
    if let Err(e) = std::fs::write(&tmp, &text).and_then(|()| std::fs::rename(&tmp, path)) {
        let _ = std::fs::remove_file(&tmp);
        return Err(e);
    }
    Ok(())
}

/// Loads the users of the config file's `user` lines, then the `aclfile`, at startup; the
/// error is what Redis logs before exiting.
pub(crate) fn load_at_startup(server: &Server, config_users: &[Vec<String>]) -> Result<(), String> {
    let (aclfile, all_channels) = {
        let config = server.config();
        (
            config.get_str("aclfile").unwrap_or_default().to_owned(),
            config.get_str("acl-pubsub-default") == Some("allchannels"),
        )
    };
    if !aclfile.is_empty() && !config_users.is_empty() {
        return Err("Configuring Redis with users defined in redis.conf and at the same setting an ACL file path is invalid. This setup is very likely to lead to configuration errors and security holes, please define either an ACL file or declare users directly in your redis.conf, but not both.".into());
    }
    if !config_users.is_empty() {
        let mut users: BTreeMap<Vec<u8>, Arc<User>> = BTreeMap::new();
        for line in config_users {
            let Some((name, rules)) = line.split_first() else {
                continue;
            };
            let name = name.as_bytes();
            if users.contains_key(name) {
                return Err(format!(
                    "Error in user declaration '{}': Duplicate user found. A user can only be defined once in config files",
                    String::from_utf8_lossy(name)
                ));
            }
            let mut user = match server.acl.user(name) {
                Some(existing) if name == b"default" => {
                    let mut u = (*existing).clone();
                    let _ = u.apply(b"reset", all_channels);
                    u
                }
                _ => User::new(name, all_channels),
            };
            let rules: Vec<&[u8]> = rules.iter().map(|r| r.as_bytes()).collect();
            let merged = user::merge_selector_args(&rules)
                .map_err(|_| "Unmatched parenthesis in acl selector".to_owned())?;
            for rule in &merged {
                user.apply(rule, all_channels).map_err(|e| {
                    format!(
                        "Error loading ACL rule '{}' for the user named '{}': {e}",
                        String::from_utf8_lossy(rule),
                        String::from_utf8_lossy(name)
                    )
                })?;
            }
            users.insert(name.to_vec(), Arc::new(user));
        }
        if let Some(default) = server.acl.user(b"default") {
            users.entry(b"default".to_vec()).or_insert(default);
        }
        server.acl.replace_all(users);
    }
    if !aclfile.is_empty() {
        let users = load_file(&aclfile, &aclfile, all_channels)
            .map_err(|e| format!("Aborting Redis startup because of ACL errors: {e}"))?;
        server.acl.replace_all(users);
    }
    Ok(())
}
