//! One ACL user: its flags, password hashes and selectors; rules in (`ACL SETUSER` words),
//! permission checks, and the canonical text `ACL LIST` / `ACL GETUSER` print.

use std::collections::HashMap;
use std::fmt;
use std::sync::LazyLock;

use common::command_table::{self, AclCategory, CommandSpec, Flag, KeyFlag};

use super::sha256;

/// Key pattern permissions.
const READ: u8 = 1;
const WRITE: u8 = 2;
const READ_WRITE: u8 = READ | WRITE;

/// Every command and subcommand, each with its bit in a selector's command bitmap. Top-level
/// commands come in name order, each followed by its subcommands: the order `ACL CAT` and
/// the per-command rules of `ACL LIST` use (Redis's own order is a hash table's).
struct CommandIds {
    specs: Vec<&'static CommandSpec>,
    by_address: HashMap<usize, usize>,
}

static IDS: LazyLock<CommandIds> = LazyLock::new(|| {
    let mut top: Vec<&'static CommandSpec> = command_table::commands().collect();
    top.sort_unstable_by_key(|spec| spec.name);
    let mut specs = Vec::new();
    for spec in top {
        specs.push(spec);
        specs.extend(command_table::subcommands(spec));
    }
    let by_address = specs
        .iter()
        .enumerate()
        .map(|(i, spec)| (address(spec), i))
        .collect();
    CommandIds { specs, by_address }
});

fn address(spec: &CommandSpec) -> usize {
    spec as *const CommandSpec as usize
}

fn id_of(spec: &CommandSpec) -> Option<usize> {
    IDS.by_address.get(&address(spec)).copied()
}

/// The bit `+@all` sets beyond every command: the selector also allows commands added later,
/// so its description starts from `+@all`.
fn future_bit() -> usize {
    IDS.specs.len()
}

/// Every command and subcommand in `category`, in `ACL CAT` order.
pub(crate) fn commands_in(category: AclCategory) -> impl Iterator<Item = &'static CommandSpec> {
    IDS.specs
        .iter()
        .copied()
        .filter(move |spec| spec.acl_categories.contains(&category))
}

pub(crate) fn category_by_name(name: &[u8]) -> Option<AclCategory> {
    AclCategory::ALL
        .into_iter()
        .find(|c| c.name().as_bytes().eq_ignore_ascii_case(name))
}

/// Why a rule was refused (`Error in ACL SETUSER modifier '...': <this>`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum RuleError {
    Syntax,
    UnknownCommand,
    KeysAfterAll,
    ChannelsAfterAll,
    NoSuchPassword,
    BadHash,
    FirstArgOfSubcommand,
}

impl fmt::Display for RuleError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            RuleError::Syntax => "Syntax error",
            RuleError::UnknownCommand => "Unknown command or category name in ACL",
            RuleError::KeysAfterAll => {
                "Adding a pattern after the * pattern (or the 'allkeys' flag) is not valid and does not have any effect. Try 'resetkeys' to start with an empty list of patterns"
            }
            RuleError::ChannelsAfterAll => {
                "Adding a pattern after the * pattern (or the 'allchannels' flag) is not valid and does not have any effect. Try 'resetchannels' to start with an empty list of channels"
            }
            RuleError::NoSuchPassword => {
                "The password you are trying to remove from the user does not exist"
            }
            RuleError::BadHash => {
                "The password hash must be exactly 64 characters and contain only lowercase hexadecimal characters"
            }
            RuleError::FirstArgOfSubcommand => "Allowing first-arg of a subcommand is not supported",
        })
    }
}

/// Why a command was refused, with the argument index of the key or channel at fault.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub(crate) enum Denied {
    Command,
    Key(usize),
    Channel(usize),
}

impl Denied {
    fn rank(self) -> (u8, usize) {
        match self {
            Denied::Command => (0, 0),
            Denied::Key(i) => (1, i),
            Denied::Channel(i) => (2, i),
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
struct KeyPattern {
    pattern: Vec<u8>,
    flags: u8,
}

impl KeyPattern {
    fn describe(&self, out: &mut Vec<u8>) {
        out.extend_from_slice(match self.flags {
            READ => b"%R~".as_slice(),
            WRITE => b"%W~",
            _ => b"~",
        });
        out.extend_from_slice(&self.pattern);
    }
}

/// One set of permissions: a user may run a command when any of its selectors allows it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Selector {
    all_keys: bool,
    all_channels: bool,
    all_commands: bool,
    /// One bit per command id, plus [`future_bit`].
    allowed: Vec<u64>,
    /// Allowed first arguments of otherwise refused commands (`+select|0`), by command id.
    first_args: Vec<(usize, Vec<Vec<u8>>)>,
    patterns: Vec<KeyPattern>,
    channels: Vec<Vec<u8>>,
}

fn has_space(s: &[u8]) -> bool {
    s.iter()
        .any(|&b| b == 0 || b.is_ascii_whitespace() || b == 0x0b)
}

impl Selector {
    pub(crate) fn new(all_channels: bool) -> Selector {
        Selector {
            all_keys: false,
            all_channels,
            all_commands: false,
            allowed: vec![0; future_bit() / 64 + 1],
            first_args: Vec::new(),
            patterns: Vec::new(),
            channels: Vec::new(),
        }
    }

    fn bit(&self, id: usize) -> bool {
        self.allowed[id / 64] & (1 << (id % 64)) != 0
    }

    fn set_bit(&mut self, id: usize, on: bool) {
        if on {
            self.allowed[id / 64] |= 1 << (id % 64);
        } else {
            self.allowed[id / 64] &= !(1 << (id % 64));
            self.all_commands = false;
        }
    }

    fn set_all(&mut self, on: bool) {
        let fill = if on { u64::MAX } else { 0 };
        self.allowed.iter_mut().for_each(|w| *w = fill);
        self.all_commands = on;
        self.first_args.clear();
    }

    /// Allows or refuses a command, and with a container every subcommand.
    fn change(&mut self, spec: &CommandSpec, allow: bool) {
        let Some(id) = id_of(spec) else { return };
        self.set_bit(id, allow);
        self.first_args.retain(|(i, _)| *i != id);
        for sub in command_table::subcommands(spec) {
            if let Some(sub_id) = id_of(sub) {
                self.set_bit(sub_id, allow);
            }
        }
    }

    fn change_category(&mut self, category: AclCategory, allow: bool) {
        for spec in commands_in(category) {
            self.change(spec, allow);
        }
    }

    fn add_first_arg(&mut self, id: usize, arg: &[u8]) {
        let pos = match self.first_args.iter().position(|(i, _)| *i == id) {
            Some(pos) => pos,
            None => {
                self.first_args.push((id, Vec::new()));
                self.first_args.len() - 1
            }
        };
        let list = &mut self.first_args[pos].1;
        if !list.iter().any(|a| a.eq_ignore_ascii_case(arg)) {
            list.push(arg.to_vec());
        }
    }

    fn first_args_of(&self, id: usize) -> Option<&[Vec<u8>]> {
        self.first_args
            .iter()
            .find(|(i, _)| *i == id)
            .map(|(_, args)| args.as_slice())
    }

    /// Applies one selector rule (keys, channels, commands).
    pub(crate) fn apply(&mut self, op: &[u8]) -> Result<(), RuleError> {
        let is = |word: &str| op.eq_ignore_ascii_case(word.as_bytes());
        if is("allkeys") || op == b"~*" {
            self.all_keys = true;
            self.patterns.clear();
        } else if is("resetkeys") {
            self.all_keys = false;
            self.patterns.clear();
        } else if is("allchannels") || op == b"&*" {
            self.all_channels = true;
            self.channels.clear();
        } else if is("resetchannels") {
            self.all_channels = false;
            self.channels.clear();
        } else if is("allcommands") || is("+@all") {
            self.set_all(true);
        } else if is("nocommands") || is("-@all") {
            self.set_all(false);
        } else if op[0] == b'~' || op[0] == b'%' {
            self.add_key_pattern(op)?;
        } else if op[0] == b'&' {
            if self.all_channels {
                return Err(RuleError::ChannelsAfterAll);
            }
            let pattern = &op[1..];
            if has_space(pattern) {
                return Err(RuleError::Syntax);
            }
            if !self.channels.iter().any(|c| c == pattern) {
                self.channels.push(pattern.to_vec());
            }
        } else if op.len() > 1 && (op[0] == b'+' || op[0] == b'-') && op[1] == b'@' {
            let category = category_by_name(&op[2..]).ok_or(RuleError::UnknownCommand)?;
            self.change_category(category, op[0] == b'+');
        } else if op[0] == b'+' {
            self.allow_command(&op[1..])?;
        } else if op[0] == b'-' {
            let spec = lookup_path(&op[1..]).ok_or(RuleError::UnknownCommand)?;
            self.change(spec, false);
        } else {
            return Err(RuleError::Syntax);
        }
        Ok(())
    }

    fn add_key_pattern(&mut self, op: &[u8]) -> Result<(), RuleError> {
        if self.all_keys {
            return Err(RuleError::KeysAfterAll);
        }
        let (flags, offset) = if op[0] == b'%' {
            let mut flags = 0;
            let mut offset = 1;
            loop {
                match op.get(offset).map(u8::to_ascii_uppercase) {
                    Some(b'R') if flags & READ == 0 => flags |= READ,
                    Some(b'W') if flags & WRITE == 0 => flags |= WRITE,
                    Some(b'~') => {
                        offset += 1;
                        break;
                    }
                    None => break,
                    Some(_) => return Err(RuleError::Syntax),
                }
                offset += 1;
            }
            (flags, offset)
        } else {
            (READ_WRITE, 1)
        };
        let pattern = &op[offset.min(op.len())..];
        if has_space(pattern) {
            return Err(RuleError::Syntax);
        }
        match self.patterns.iter_mut().find(|p| p.pattern == pattern) {
            Some(existing) => existing.flags |= flags,
            None => self.patterns.push(KeyPattern {
                pattern: pattern.to_vec(),
                flags,
            }),
        }
        self.all_keys = false;
        Ok(())
    }

    /// `+name`, `+container|sub` or `+command|first-arg`.
    fn allow_command(&mut self, name: &[u8]) -> Result<(), RuleError> {
        let Some(bar) = name.iter().rposition(|&b| b == b'|') else {
            let spec = lookup_path(name).ok_or(RuleError::UnknownCommand)?;
            self.change(spec, true);
            return Ok(());
        };
        let (head, sub) = (&name[..bar], &name[bar + 1..]);
        let spec = lookup_path(head).ok_or(RuleError::UnknownCommand)?;
        if spec.container.is_some() {
            return Err(RuleError::FirstArgOfSubcommand);
        }
        if sub.is_empty() {
            return Err(RuleError::Syntax);
        }
        if command_table::has_subcommands(spec) {
            let sub =
                command_table::lookup_subcommand(spec, sub).ok_or(RuleError::UnknownCommand)?;
            self.change(sub, true);
        } else if let Some(id) = id_of(spec) {
            self.add_first_arg(id, sub);
        }
        Ok(())
    }

    fn can_run_future_commands(&self) -> bool {
        self.bit(future_bit())
    }

    /// The command rules: `+@all`/`-@all`, the categories that fit best, then single commands.
    pub(crate) fn describe_commands(&self) -> Vec<u8> {
        let additive = !self.can_run_future_commands();
        let mut out: Vec<u8> = Vec::new();
        let mut fake = Selector::new(false);
        if additive {
            out.extend_from_slice(b"-@all ");
        } else {
            out.extend_from_slice(b"+@all ");
            fake.set_all(true);
        }
        // Categories are chosen greedily on a scratch copy from which each chosen category is
        // taken out, so that the next choice looks at what is left to explain.
        let mut rest = self.clone();
        let mut applied = [false; AclCategory::ALL.len()];
        loop {
            let mut best: Option<(usize, usize, usize)> = None;
            for (j, category) in AclCategory::ALL.into_iter().enumerate() {
                if applied[j] {
                    continue;
                }
                let (mut on, mut off) = (0usize, 0usize);
                for spec in commands_in(category) {
                    if id_of(spec).is_some_and(|id| rest.bit(id)) {
                        on += 1;
                    } else {
                        off += 1;
                    }
                }
                let (diff, same) = if additive { (off, on) } else { (on, off) };
                let better = match best {
                    None => true,
                    Some((_, min_diff, max_same)) => {
                        diff < min_diff || (diff == min_diff && same > max_same)
                    }
                };
                if same > diff && better {
                    best = Some((j, diff, same));
                }
            }
            let Some((j, _, _)) = best else { break };
            let category = AclCategory::ALL[j];
            fake.change_category(category, additive);
            rest.change_category(category, !additive);
            out.push(if additive { b'+' } else { b'-' });
            out.push(b'@');
            out.extend_from_slice(category.name().as_bytes());
            out.push(b' ');
            applied[j] = true;
        }
        let mut top: Vec<&'static CommandSpec> = command_table::commands().collect();
        top.sort_unstable_by_key(|spec| spec.name);
        for spec in top {
            self.describe_single(&mut fake, spec, &mut out);
        }
        out.pop();
        out
    }

    fn describe_single(&self, fake: &mut Selector, spec: &'static CommandSpec, out: &mut Vec<u8>) {
        let Some(id) = id_of(spec) else { return };
        let mine = self.bit(id);
        if mine != fake.bit(id) {
            out.push(if mine { b'+' } else { b'-' });
            out.extend_from_slice(command_table::full_name(spec).as_bytes());
            out.push(b' ');
            fake.change(spec, mine);
        }
        for sub in command_table::subcommands(spec) {
            self.describe_single(fake, sub, out);
        }
        if !mine && let Some(args) = self.first_args_of(id) {
            for arg in args {
                out.push(b'+');
                out.extend_from_slice(command_table::full_name(spec).as_bytes());
                out.push(b'|');
                out.extend_from_slice(arg);
                out.push(b' ');
            }
        }
    }

    /// `ACL GETUSER`'s `keys`: the patterns separated by spaces.
    pub(crate) fn describe_keys(&self) -> Vec<u8> {
        if self.all_keys {
            return b"~*".to_vec();
        }
        let mut out = Vec::new();
        for (i, pattern) in self.patterns.iter().enumerate() {
            if i > 0 {
                out.push(b' ');
            }
            pattern.describe(&mut out);
        }
        out
    }

    /// `ACL GETUSER`'s `channels`.
    pub(crate) fn describe_channels(&self) -> Vec<u8> {
        if self.all_channels {
            return b"&*".to_vec();
        }
        let mut out = Vec::new();
        for (i, channel) in self.channels.iter().enumerate() {
            if i > 0 {
                out.push(b' ');
            }
            out.push(b'&');
            out.extend_from_slice(channel);
        }
        out
    }

    /// The selector as `ACL LIST` writes it: keys, channels, commands.
    fn describe(&self) -> Vec<u8> {
        let mut out = Vec::new();
        if self.all_keys {
            out.extend_from_slice(b"~* ");
        } else {
            for pattern in &self.patterns {
                pattern.describe(&mut out);
                out.push(b' ');
            }
        }
        if self.all_channels {
            out.extend_from_slice(b"&* ");
        } else {
            out.extend_from_slice(b"resetchannels ");
            for channel in &self.channels {
                out.push(b'&');
                out.extend_from_slice(channel);
                out.push(b' ');
            }
        }
        out.extend_from_slice(&self.describe_commands());
        out
    }

    fn key_allowed(&self, key: &[u8], key_flags: &[KeyFlag]) -> bool {
        if self.all_keys {
            return true;
        }
        let needed = needed_permission(key_flags);
        self.patterns
            .iter()
            .any(|p| p.flags & needed == needed && common::glob::glob_match(&p.pattern, key, false))
    }

    fn channel_allowed(&self, channel: &[u8], is_pattern: bool) -> bool {
        self.all_channels || channel_in(&self.channels, channel, is_pattern)
    }

    /// Whether this selector lets the command run with these arguments.
    fn check(
        &self,
        spec: &CommandSpec,
        args: &[&[u8]],
        keys: &mut Option<Vec<(usize, &'static [KeyFlag])>>,
    ) -> Result<(), Denied> {
        if !self.all_commands && !spec.flags.contains(&Flag::NoAuth) {
            let id = id_of(spec).ok_or(Denied::Command)?;
            if !self.bit(id) {
                let index = if spec.container.is_some() { 2 } else { 1 };
                let allowed = match (self.first_args_of(id), args.get(index)) {
                    (Some(list), Some(arg)) => list.iter().any(|a| a.eq_ignore_ascii_case(arg)),
                    _ => false,
                };
                if !allowed {
                    return Err(Denied::Command);
                }
            }
        }
        if !self.all_keys && command_table::has_key_arguments(spec) {
            let keys = keys.get_or_insert_with(|| {
                command_table::key_positions_with_flags(spec, args)
                    .map(|k| k.as_slice().iter().map(|r| (r.pos, r.flags)).collect())
                    .unwrap_or_default()
            });
            for &(pos, flags) in keys.iter() {
                if let Some(key) = args.get(pos)
                    && !self.key_allowed(key, flags)
                {
                    return Err(Denied::Key(pos));
                }
            }
        }
        if !self.all_channels {
            for (pos, is_pattern) in channel_args(spec, args.len()) {
                if !self.channel_allowed(args[pos], is_pattern) {
                    return Err(Denied::Channel(pos));
                }
            }
        }
        Ok(())
    }

    /// Whether every key is open to this selector for `needed` (SORT's BY and GET).
    fn all_keys_for(&self, needed: u8) -> bool {
        self.all_keys
            || self
                .patterns
                .iter()
                .any(|p| p.flags & needed == needed && p.pattern == b"*")
    }

    fn is_unrestricted(&self) -> bool {
        self.all_commands && self.all_keys && self.all_channels
    }
}

fn needed_permission(flags: &[KeyFlag]) -> u8 {
    let mut needed = 0;
    for flag in flags {
        match flag {
            KeyFlag::Access => needed |= READ,
            KeyFlag::Insert | KeyFlag::Delete | KeyFlag::Update => needed |= WRITE,
            _ => {}
        }
    }
    needed
}

/// A channel against a list of channel patterns; a PSUBSCRIBE pattern only matches itself.
fn channel_in(list: &[Vec<u8>], channel: &[u8], is_pattern: bool) -> bool {
    list.iter().any(|p| {
        if is_pattern {
            p.as_slice() == channel
        } else {
            common::glob::glob_match(p, channel, false)
        }
    })
}

/// The channel arguments ACL checks: what PUBLISH/SPUBLISH publish to and what
/// (P|S)SUBSCRIBE subscribe to, with whether each is a pattern.
fn channel_args(spec: &CommandSpec, argc: usize) -> Vec<(usize, bool)> {
    if spec.container.is_some() {
        return Vec::new();
    }
    match spec.name {
        "publish" | "spublish" if argc > 1 => vec![(1, false)],
        "subscribe" | "ssubscribe" => (1..argc).map(|i| (i, false)).collect(),
        "psubscribe" => (1..argc).map(|i| (i, true)).collect(),
        _ => Vec::new(),
    }
}

/// `name` or `container|sub` in the command table.
pub(crate) fn lookup_path(name: &[u8]) -> Option<&'static CommandSpec> {
    match name.iter().position(|&b| b == b'|') {
        None => command_table::lookup(name),
        Some(bar) => {
            let parent = command_table::lookup(&name[..bar])?;
            let sub = &name[bar + 1..];
            if sub.contains(&b'|') {
                return None;
            }
            command_table::lookup_subcommand(parent, sub)
        }
    }
}

fn valid_hash(hash: &[u8]) -> bool {
    hash.len() == 64
        && hash
            .iter()
            .all(|&c| c.is_ascii_digit() || (b'a'..=b'f').contains(&c))
}

/// One user.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct User {
    pub name: Vec<u8>,
    enabled: bool,
    nopass: bool,
    /// `sanitize-payload` (true) or `skip-sanitize-payload` (false), when either was given.
    sanitize_payload: Option<bool>,
    /// SHA-256 hex digests.
    passwords: Vec<String>,
    /// The root selector first, then the ones added with `(...)`.
    selectors: Vec<Selector>,
}

impl User {
    /// A new user: off, no passwords, no permissions (channels as `acl-pubsub-default`).
    pub(crate) fn new(name: &[u8], all_channels: bool) -> User {
        User {
            name: name.to_vec(),
            enabled: false,
            nopass: false,
            sanitize_payload: None,
            passwords: Vec::new(),
            selectors: vec![Selector::new(all_channels)],
        }
    }

    /// `default` as Redis creates it: on, nopass, every command, key and channel.
    pub(crate) fn default_user() -> User {
        let mut user = User::new(b"default", false);
        for rule in ["+@all", "~*", "&*", "on", "nopass"] {
            let applied = user.apply(rule.as_bytes(), false);
            debug_assert!(applied.is_ok());
        }
        user
    }

    pub(crate) fn enabled(&self) -> bool {
        self.enabled
    }

    pub(crate) fn nopass(&self) -> bool {
        self.nopass
    }

    /// True when the user may do anything (the check can be skipped).
    pub(crate) fn is_unrestricted(&self) -> bool {
        self.selectors[0].is_unrestricted()
    }

    /// Applies one `ACL SETUSER` rule. `all_channels` is `acl-pubsub-default` (for `reset` and
    /// new selectors).
    pub(crate) fn apply(&mut self, op: &[u8], all_channels: bool) -> Result<(), RuleError> {
        let is = |word: &str| op.eq_ignore_ascii_case(word.as_bytes());
        if op.is_empty() {
            return Ok(());
        }
        if is("on") {
            self.enabled = true;
        } else if is("off") {
            self.enabled = false;
        } else if is("skip-sanitize-payload") {
            self.sanitize_payload = Some(false);
        } else if is("sanitize-payload") {
            self.sanitize_payload = Some(true);
        } else if is("nopass") {
            self.nopass = true;
            self.passwords.clear();
        } else if is("resetpass") {
            self.nopass = false;
            self.passwords.clear();
        } else if op[0] == b'>' || op[0] == b'#' {
            let hash = if op[0] == b'>' {
                sha256::hex_digest(&op[1..])
            } else if valid_hash(&op[1..]) {
                String::from_utf8_lossy(&op[1..]).into_owned()
            } else {
                return Err(RuleError::BadHash);
            };
            if !self.passwords.contains(&hash) {
                self.passwords.push(hash);
            }
            self.nopass = false;
        } else if op[0] == b'<' || op[0] == b'!' {
            let hash = if op[0] == b'<' {
                sha256::hex_digest(&op[1..])
            } else if valid_hash(&op[1..]) {
                String::from_utf8_lossy(&op[1..]).into_owned()
            } else {
                return Err(RuleError::BadHash);
            };
            let pos = self
                .passwords
                .iter()
                .position(|p| *p == hash)
                .ok_or(RuleError::NoSuchPassword)?;
            self.passwords.remove(pos);
        } else if op[0] == b'(' && op[op.len() - 1] == b')' {
            let mut selector = Selector::new(all_channels);
            for word in op[1..op.len() - 1]
                .split(|b| b.is_ascii_whitespace())
                .filter(|w| !w.is_empty())
            {
                selector.apply(word)?;
            }
            self.selectors.push(selector);
        } else if is("clearselectors") {
            self.selectors.truncate(1);
        } else if is("reset") {
            self.passwords.clear();
            self.nopass = false;
            self.selectors.truncate(1);
            let root = &mut self.selectors[0];
            root.all_keys = false;
            root.patterns.clear();
            root.all_channels = all_channels;
            root.channels.clear();
            root.set_all(false);
            self.enabled = false;
            self.sanitize_payload = Some(true);
        } else {
            self.selectors[0].apply(op)?;
        }
        Ok(())
    }

    /// Whether `pass` logs in as this user (the user must also be on).
    pub(crate) fn password_matches(&self, pass: &[u8]) -> bool {
        if self.nopass {
            return true;
        }
        let hash = sha256::hex_digest(pass);
        self.passwords.iter().fold(false, |found, p| {
            found | same_secret(p.as_bytes(), hash.as_bytes())
        })
    }

    /// Whether the user may run the command; otherwise the most relevant refusal: the command
    /// when no selector allows it, else the last key or channel no selector allows.
    pub(crate) fn check(&self, spec: &CommandSpec, args: &[&[u8]]) -> Result<(), Denied> {
        let mut keys = None;
        let mut worst = Denied::Command;
        for selector in &self.selectors {
            match selector.check(spec, args, &mut keys) {
                Ok(()) => return Ok(()),
                Err(denied) => {
                    if denied.rank() > worst.rank() {
                        worst = denied;
                    }
                }
            }
        }
        Err(worst)
    }

    /// Whether some selector allows the command and every key for reading (SORT BY/GET).
    pub(crate) fn can_read_any_key(&self, spec: &CommandSpec, args: &[&[u8]]) -> bool {
        let mut keys = None;
        self.selectors
            .iter()
            .any(|s| s.check(spec, args, &mut keys).is_ok() && s.all_keys_for(READ))
    }

    /// Whether a subscriber may keep `channel` (or `pattern`).
    pub(crate) fn channel_allowed(&self, channel: &[u8], is_pattern: bool) -> bool {
        self.selectors
            .iter()
            .any(|s| s.channel_allowed(channel, is_pattern))
    }

    /// True when `self` (the rules before a change) allowed channels `new` may not: its
    /// subscribers must then be checked.
    pub(crate) fn channels_narrowed_in(&self, new: &User) -> bool {
        if new.selectors.iter().any(|s| s.all_channels) {
            return false;
        }
        let upcoming: Vec<&Vec<u8>> = new.selectors.iter().flat_map(|s| &s.channels).collect();
        self.selectors
            .iter()
            .any(|s| s.all_channels || s.channels.iter().any(|c| !upcoming.contains(&c)))
    }

    /// The user as `ACL LIST` prints it, without `user <name> `.
    pub(crate) fn describe(&self) -> Vec<u8> {
        let mut out = Vec::new();
        for flag in self.flag_names() {
            out.extend_from_slice(flag.as_bytes());
            out.push(b' ');
        }
        for pass in &self.passwords {
            out.push(b'#');
            out.extend_from_slice(pass.as_bytes());
            out.push(b' ');
        }
        for (i, selector) in self.selectors.iter().enumerate() {
            if i == 0 {
                out.extend_from_slice(&selector.describe());
            } else {
                out.extend_from_slice(b" (");
                out.extend_from_slice(&selector.describe());
                out.push(b')');
            }
        }
        out
    }

    /// `ACL GETUSER`'s flags, in Redis's order.
    pub(crate) fn flag_names(&self) -> Vec<&'static str> {
        let mut flags = Vec::new();
        flags.push(if self.enabled { "on" } else { "off" });
        if self.nopass {
            flags.push("nopass");
        }
        match self.sanitize_payload {
            Some(false) => flags.push("skip-sanitize-payload"),
            Some(true) => flags.push("sanitize-payload"),
            None => {}
        }
        flags
    }

    pub(crate) fn passwords(&self) -> &[String] {
        &self.passwords
    }

    pub(crate) fn selectors(&self) -> &[Selector] {
        &self.selectors
    }
}

/// Compares without stopping at the first difference.
pub(crate) fn same_secret(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

/// Joins selector rules split over several arguments (`(~a` `+get)`) into one; `Err` names the
/// argument whose parenthesis is never closed.
pub(crate) fn merge_selector_args(args: &[&[u8]]) -> Result<Vec<Vec<u8>>, usize> {
    let mut out = Vec::with_capacity(args.len());
    let mut open: Option<(usize, Vec<u8>)> = None;
    for (i, arg) in args.iter().enumerate() {
        if let Some((_, selector)) = &mut open {
            selector.push(b' ');
            selector.extend_from_slice(arg);
            if arg.last() == Some(&b')') {
                if let Some((_, done)) = open.take() {
                    out.push(done);
                }
            }
            continue;
        }
        if arg.first() == Some(&b'(') && arg.last() != Some(&b')') {
            open = Some((i, arg.to_vec()));
            continue;
        }
        out.push(arg.to_vec());
    }
    match open {
        Some((i, _)) => Err(i),
        None => Ok(out),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn user(rules: &[&str]) -> User {
        let mut u = User::new(b"u", false);
        for rule in rules {
            u.apply(rule.as_bytes(), false).unwrap();
        }
        u
    }

    fn text(bytes: Vec<u8>) -> String {
        String::from_utf8(bytes).unwrap()
    }

    #[test]
    fn new_and_default_users_describe_as_redis() {
        assert_eq!(text(user(&[]).describe()), "off resetchannels -@all");
        assert_eq!(
            text(User::default_user().describe()),
            "on nopass ~* &* +@all"
        );
        assert_eq!(
            text(user(&["reset"]).describe()),
            "off sanitize-payload resetchannels -@all"
        );
    }

    #[test]
    fn single_categories_describe_as_themselves() {
        // A category none of whose commands is built yet has nothing to describe.
        for category in AclCategory::ALL
            .into_iter()
            .filter(|c| commands_in(*c).next().is_some())
        {
            let minus = format!("-@{}", category.name());
            let plus = format!("+@{}", category.name());
            let u = user(&["+@all", &minus]);
            assert_eq!(
                text(u.selectors[0].describe_commands()),
                format!("+@all {minus}")
            );
            let u = user(&["-@all", &plus]);
            assert_eq!(
                text(u.selectors[0].describe_commands()),
                format!("-@all {plus}")
            );
        }
    }

    #[test]
    fn subcommand_rules() {
        let u = user(&["+@all", "-client", "+client|id", "+client|setname"]);
        assert_eq!(
            text(u.selectors[0].describe_commands()),
            "+@all -client +client|id +client|setname"
        );
        let u = user(&["+@all", "-client|kill"]);
        assert_eq!(
            text(u.selectors[0].describe_commands()),
            "+@all -client|kill"
        );
        let u = user(&["-@all", "+select|0"]);
        assert_eq!(text(u.selectors[0].describe_commands()), "-@all +select|0");
        let mut u = user(&[]);
        assert_eq!(
            u.apply(b"+config|get|x", false),
            Err(RuleError::FirstArgOfSubcommand)
        );
        assert_eq!(u.apply(b"+get|a|b", false), Err(RuleError::UnknownCommand));
        assert_eq!(u.apply(b"-get|a", false), Err(RuleError::UnknownCommand));
    }

    #[test]
    fn key_patterns_and_checks() {
        let u = user(&["%R~foo", "%W~foo", "%RW~bar", "+@all"]);
        assert_eq!(text(u.selectors[0].describe_keys()), "~foo ~bar");
        let u = user(&["+@all", "%R~read*"]);
        let get = command_table::lookup(b"get").unwrap();
        let set = command_table::lookup(b"set").unwrap();
        assert_eq!(u.check(get, &[b"get", b"readx"]), Ok(()));
        assert_eq!(u.check(set, &[b"set", b"readx", b"v"]), Err(Denied::Key(1)));
        assert_eq!(u.check(get, &[b"get", b"other"]), Err(Denied::Key(1)));
    }

    #[test]
    fn selectors_merge() {
        let args: Vec<&[u8]> = vec![b"on", b"(~a", b"+get", b")", b"(~b)"];
        assert_eq!(
            merge_selector_args(&args).unwrap(),
            vec![b"on".to_vec(), b"(~a +get )".to_vec(), b"(~b)".to_vec()]
        );
        assert_eq!(merge_selector_args(&[b"(".as_slice()]), Err(0));
    }
}
