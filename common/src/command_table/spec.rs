//! The shape of one command's metadata, mirroring the fields of Redis 7.0's command JSON files.

/// Command flags, as `COMMAND INFO` names them (lowercase there).
///
/// Declared in the order `COMMAND INFO` prints them (Redis's `addReplyFlagsForCommand`, hidden
/// ones where it lists them in comments); the table lists each command's flags in this order too.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Flag {
    Write,
    Readonly,
    Denyoom,
    Module,
    Admin,
    Pubsub,
    Noscript,
    Blocking,
    Loading,
    Stale,
    SkipMonitor,
    SkipSlowlog,
    Asking,
    Fast,
    NoAuth,
    MayReplicate,
    Sentinel,
    OnlySentinel,
    NoMandatoryKeys,
    /// Refused unless its `enable-*-command` option allows it (DEBUG, MODULE).
    Protected,
    NoAsyncLoading,
    NoMulti,
    AllowBusy,
    /// May lazily expire keys it was not given (RANDOMKEY, SCAN); its propagation is not wrapped
    /// in MULTI.
    TouchesArbitraryKeys,
}

impl Flag {
    /// The name `COMMAND INFO` prints.
    pub fn name(self) -> &'static str {
        match self {
            Flag::Write => "write",
            Flag::Readonly => "readonly",
            Flag::Denyoom => "denyoom",
            Flag::Module => "module",
            Flag::Admin => "admin",
            Flag::Pubsub => "pubsub",
            Flag::Noscript => "noscript",
            Flag::Blocking => "blocking",
            Flag::Loading => "loading",
            Flag::Stale => "stale",
            Flag::SkipMonitor => "skip_monitor",
            Flag::SkipSlowlog => "skip_slowlog",
            Flag::Asking => "asking",
            Flag::Fast => "fast",
            Flag::NoAuth => "no_auth",
            Flag::MayReplicate => "may_replicate",
            Flag::Sentinel => "sentinel",
            Flag::OnlySentinel => "only_sentinel",
            Flag::NoMandatoryKeys => "no_mandatory_keys",
            Flag::Protected => "protected",
            Flag::NoAsyncLoading => "no_async_loading",
            Flag::NoMulti => "no_multi",
            Flag::AllowBusy => "allow_busy",
            Flag::TouchesArbitraryKeys => "touches_arbitrary_keys",
        }
    }

    /// Whether `COMMAND INFO` prints this flag; Redis hides a few on purpose.
    pub fn shown_in_info(self) -> bool {
        !matches!(
            self,
            Flag::MayReplicate
                | Flag::Sentinel
                | Flag::OnlySentinel
                | Flag::Protected
                | Flag::TouchesArbitraryKeys
        )
    }
}

/// ACL categories, without the leading `@`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AclCategory {
    Keyspace,
    Read,
    Write,
    Set,
    SortedSet,
    List,
    Hash,
    String,
    Bitmap,
    Hyperloglog,
    Geo,
    Stream,
    Pubsub,
    Admin,
    Fast,
    Slow,
    Blocking,
    Dangerous,
    Connection,
    Transaction,
    Scripting,
}

impl AclCategory {
    /// Every category, in the order `ACL CAT` lists them.
    pub const ALL: [AclCategory; 21] = [
        AclCategory::Keyspace,
        AclCategory::Read,
        AclCategory::Write,
        AclCategory::Set,
        AclCategory::SortedSet,
        AclCategory::List,
        AclCategory::Hash,
        AclCategory::String,
        AclCategory::Bitmap,
        AclCategory::Hyperloglog,
        AclCategory::Geo,
        AclCategory::Stream,
        AclCategory::Pubsub,
        AclCategory::Admin,
        AclCategory::Fast,
        AclCategory::Slow,
        AclCategory::Blocking,
        AclCategory::Dangerous,
        AclCategory::Connection,
        AclCategory::Transaction,
        AclCategory::Scripting,
    ];

    /// The category's name without `@`.
    pub fn name(self) -> &'static str {
        match self {
            AclCategory::Keyspace => "keyspace",
            AclCategory::Read => "read",
            AclCategory::Write => "write",
            AclCategory::Set => "set",
            AclCategory::SortedSet => "sortedset",
            AclCategory::List => "list",
            AclCategory::Hash => "hash",
            AclCategory::String => "string",
            AclCategory::Bitmap => "bitmap",
            AclCategory::Hyperloglog => "hyperloglog",
            AclCategory::Geo => "geo",
            AclCategory::Stream => "stream",
            AclCategory::Pubsub => "pubsub",
            AclCategory::Admin => "admin",
            AclCategory::Fast => "fast",
            AclCategory::Slow => "slow",
            AclCategory::Blocking => "blocking",
            AclCategory::Dangerous => "dangerous",
            AclCategory::Connection => "connection",
            AclCategory::Transaction => "transaction",
            AclCategory::Scripting => "scripting",
        }
    }
}

/// The command groups of Redis 7.0 (`COMMAND DOCS` field `group`); each is one family file.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Group {
    Generic,
    String,
    List,
    Set,
    SortedSet,
    Hash,
    Pubsub,
    Transactions,
    Connection,
    Server,
    Scripting,
    Hyperloglog,
    Cluster,
    Sentinel,
    Geo,
    Stream,
    Bitmap,
}

impl Group {
    /// The name `COMMAND DOCS` prints and `COMMAND LIST FILTERBY` matches.
    pub fn name(self) -> &'static str {
        match self {
            Group::Generic => "generic",
            Group::String => "string",
            Group::List => "list",
            Group::Set => "set",
            Group::SortedSet => "sorted-set",
            Group::Hash => "hash",
            Group::Pubsub => "pubsub",
            Group::Transactions => "transactions",
            Group::Connection => "connection",
            Group::Server => "server",
            Group::Scripting => "scripting",
            Group::Hyperloglog => "hyperloglog",
            Group::Cluster => "cluster",
            Group::Sentinel => "sentinel",
            Group::Geo => "geo",
            Group::Stream => "stream",
            Group::Bitmap => "bitmap",
        }
    }
}

/// Key-spec flags (`COMMAND INFO` key specifications).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum KeyFlag {
    Ro,
    Rw,
    Ow,
    Rm,
    Access,
    Update,
    Insert,
    Delete,
    NotKey,
    Incomplete,
    VariableFlags,
}

impl KeyFlag {
    /// The name `COMMAND INFO` prints (`RW`, `OW`...).
    pub fn name(self) -> &'static str {
        match self {
            KeyFlag::Ro => "RO",
            KeyFlag::Rw => "RW",
            KeyFlag::Ow => "OW",
            KeyFlag::Rm => "RM",
            KeyFlag::Access => "access",
            KeyFlag::Update => "update",
            KeyFlag::Insert => "insert",
            KeyFlag::Delete => "delete",
            KeyFlag::NotKey => "not_key",
            KeyFlag::Incomplete => "incomplete",
            KeyFlag::VariableFlags => "variable_flags",
        }
    }
}

/// Where the search for keys starts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BeginSearch {
    /// Keys start at this argument index (the command name is index 0).
    Index(i32),
    /// Keys start after this keyword, searched from `start_from` (negative: from the end).
    Keyword {
        keyword: &'static str,
        start_from: i32,
    },
    /// The command cannot say (a module or an unknown shape).
    Unknown,
}

/// How keys are found once the search has begun.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FindKeys {
    /// `last_key` is relative to the begin index (negative: from the end); `limit` splits the
    /// remaining arguments when `last_key` is -1.
    Range {
        last_key: i32,
        key_step: i32,
        limit: i32,
    },
    /// The number of keys is an argument at `keynum_index` (relative to the begin index).
    Keynum {
        keynum_index: i32,
        first_key: i32,
        key_step: i32,
    },
    Unknown,
}

/// One key specification.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct KeySpec {
    /// A remark `COMMAND INFO` prints with the spec (why the flags are what they are).
    pub notes: Option<&'static str>,
    pub flags: &'static [KeyFlag],
    pub begin_search: BeginSearch,
    pub find_keys: FindKeys,
}

/// Everything the server and the tools know about one command or subcommand.
#[derive(Debug, Clone, Copy)]
pub struct CommandSpec {
    /// Lowercase name; for a subcommand only the subcommand part (`"get"` of `config|get`).
    pub name: &'static str,
    /// The parent's name for a subcommand (`"config"`), `None` for a top-level command.
    pub container: Option<&'static str>,
    pub group: Group,
    /// Redis's arity: positive is exact, negative is a minimum; counts the command name (and the
    /// subcommand name for a subcommand).
    pub arity: i32,
    pub flags: &'static [Flag],
    pub acl_categories: &'static [AclCategory],
    pub key_specs: &'static [KeySpec],
    /// Request/response policy tips (`nondeterministic_output`, `request_policy:all_shards`...).
    pub tips: &'static [&'static str],
    pub since: &'static str,
    /// Empty when Redis documents none (MONITOR).
    pub complexity: &'static str,
    /// One line of our own words.
    pub summary: &'static str,
    /// Documentation flags for `COMMAND DOCS` (`deprecated`, `syscmd`).
    pub doc_flags: &'static [&'static str],
    /// For a deprecated command, the version and the replacement text `COMMAND DOCS` prints.
    pub deprecated_since: Option<&'static str>,
    pub replaced_by: Option<&'static str>,
}
