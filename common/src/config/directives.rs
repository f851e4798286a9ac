//! The table: one row per `redis.conf` directive of Redis 7.0.15 (its `standardConfig` table,
//! TLS included), plus our own `server-threads`.
//!
//! Directives handled outside the table (`include`, `rename-command`, `user`, `loadmodule`,
//! `sentinel`, module configs `x.y`, and the deprecated no-ops) live in [`super::parse`].

/// One configuration directive.
#[derive(Debug)]
pub struct Directive {
    /// The canonical name, as `CONFIG GET` prints it.
    pub name: &'static str,
    /// The older name Redis also accepts (`slaveof` for `replicaof`).
    pub alias: Option<&'static str>,
    pub flags: Flags,
    pub kind: Kind,
    /// `None` when this server implements the directive; otherwise the missing feature. Such a
    /// directive is parsed and validated as Redis does, but only its default value is honest: a
    /// config file may set another value (with a warning), `CONFIG SET` may not.
    pub feature: Option<&'static str>,
}

/// The Redis `*_CONFIG` flags that matter outside `CONFIG REWRITE`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Flags(u8);

impl Flags {
    pub const NONE: Flags = Flags(0);
    /// Only settable at startup.
    pub const IMMUTABLE: Flags = Flags(1);
    /// CONFIG SET must redact the value from logs, slowlog and MONITOR.
    pub const SENSITIVE: Flags = Flags(1 << 1);
    /// Useful for debugging (Redis prints these in crash reports).
    pub const DEBUG: Flags = Flags(1 << 2);
    /// Takes several arguments (`save 3600 1 300 100`).
    pub const MULTI_ARG: Flags = Flags(1 << 3);
    /// Left out of `CONFIG GET` patterns; an exact name still works.
    pub const HIDDEN: Flags = Flags(1 << 4);
    /// CONFIG SET refuses it unless `enable-protected-configs` allows the client.
    pub const PROTECTED: Flags = Flags(1 << 5);
    /// CONFIG SET refuses it while the dataset is loading.
    pub const DENY_LOADING: Flags = Flags(1 << 6);

    pub const fn contains(self, other: Flags) -> bool {
        self.0 & other.0 == other.0
    }

    const fn with(self, other: Flags) -> Flags {
        Flags(self.0 | other.0)
    }
}

/// A validation beyond the type's syntax and bounds; the error is Redis's text.
pub type Check<T> = fn(T) -> Result<(), &'static str>;
/// [`Check`] for strings.
pub type StrCheck = fn(&str) -> Result<(), &'static str>;

/// How a directive's value is parsed, stored and printed.
#[derive(Debug)]
pub enum Kind {
    /// `yes` / `no`.
    Bool {
        default: bool,
        check: Option<Check<bool>>,
    },
    /// A number; stored as Redis stores it, in a `long long`.
    Num(Num),
    /// One name of `names` (case-insensitive), or with [`Flags::MULTI_ARG`] several names whose
    /// values are or-ed. Names sharing a value are synonyms; the first one is printed.
    Enum {
        names: &'static [(&'static str, i32)],
        default: i32,
        check: Option<Check<i32>>,
    },
    /// A string; Redis's "empty means unset" strings are stored as empty.
    Str {
        default: &'static str,
        check: Option<StrCheck>,
    },
    /// A directive with its own syntax.
    Special(Special),
}

/// Numeric bounds and syntax.
#[derive(Debug)]
pub struct Num {
    pub min: i128,
    pub max: i128,
    pub default: i64,
    /// Redis checks bounds of its unsigned C types on the value cast to unsigned, so `-1` is
    /// "out of bounds", never "negative".
    pub unsigned: bool,
    pub unit: Unit,
}

/// What a numeric value may be written as.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Unit {
    /// A plain decimal integer.
    Count,
    /// Bytes with an optional unit: `1k` = 1000, `1kb` = 1024, up to `gb`.
    Memory,
    /// Bytes, or `N%` (stored as `-N`).
    MemoryOrPercent,
    /// Octal digits (`unixsocketperm 700`).
    Octal,
}

/// The directives whose values are not a single scalar.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Special {
    Dir,
    Save,
    ClientOutputBufferLimit,
    OomScoreAdjValues,
    NotifyKeyspaceEvents,
    Bind,
    ReplicaOf,
    LatencyTrackingInfoPercentiles,
}

impl Directive {
    /// Whether `name` (any case) is this directive's name or alias.
    pub fn is_named(&self, name: &[u8]) -> bool {
        name.eq_ignore_ascii_case(self.name.as_bytes())
            || self
                .alias
                .is_some_and(|a| name.eq_ignore_ascii_case(a.as_bytes()))
    }

    pub fn is_multi_arg(&self) -> bool {
        self.flags.contains(Flags::MULTI_ARG)
    }

    const fn alias(mut self, alias: &'static str) -> Self {
        self.alias = Some(alias);
        self
    }
}

/// The directive called `name` (any case, alias or not).
pub fn lookup(name: &[u8]) -> Option<&'static Directive> {
    DIRECTIVES.iter().find(|d| d.is_named(name))
}

/// Index of `name` in [`DIRECTIVES`], and whether `name` is the alias.
pub(super) fn position(name: &[u8]) -> Option<(usize, bool)> {
    DIRECTIVES.iter().position(|d| d.is_named(name)).map(|i| {
        let is_alias = !name.eq_ignore_ascii_case(DIRECTIVES[i].name.as_bytes());
        (i, is_alias)
    })
}

// Row builders, one per value type.

const fn boolean(
    name: &'static str,
    flags: Flags,
    default: bool,
    feature: Option<&'static str>,
) -> Directive {
    Directive {
        name,
        alias: None,
        flags,
        kind: Kind::Bool {
            default,
            check: None,
        },
        feature,
    }
}

const fn num(name: &'static str, flags: Flags, n: Num, feature: Option<&'static str>) -> Directive {
    Directive {
        name,
        alias: None,
        flags,
        kind: Kind::Num(n),
        feature,
    }
}

/// A signed integer (`int`, `long`, `long long`, `time_t`, `off_t` in Redis).
const fn int(
    name: &'static str,
    flags: Flags,
    min: i128,
    max: i128,
    default: i64,
    feature: Option<&'static str>,
) -> Directive {
    num(
        name,
        flags,
        Num {
            min,
            max,
            default,
            unsigned: false,
            unit: Unit::Count,
        },
        feature,
    )
}

/// An unsigned integer (`unsigned int`, `size_t`, `unsigned long long` in Redis).
const fn uint(
    name: &'static str,
    flags: Flags,
    min: i128,
    max: i128,
    default: i64,
    feature: Option<&'static str>,
) -> Directive {
    num(
        name,
        flags,
        Num {
            min,
            max,
            default,
            unsigned: true,
            unit: Unit::Count,
        },
        feature,
    )
}

const fn mem(
    name: &'static str,
    flags: Flags,
    min: i128,
    max: i128,
    default: i64,
    feature: Option<&'static str>,
) -> Directive {
    num(
        name,
        flags,
        Num {
            min,
            max,
            default,
            unsigned: false,
            unit: Unit::Memory,
        },
        feature,
    )
}

const fn umem(
    name: &'static str,
    flags: Flags,
    min: i128,
    max: i128,
    default: i64,
    feature: Option<&'static str>,
) -> Directive {
    num(
        name,
        flags,
        Num {
            min,
            max,
            default,
            unsigned: true,
            unit: Unit::Memory,
        },
        feature,
    )
}

const fn choice(
    name: &'static str,
    flags: Flags,
    names: &'static [(&'static str, i32)],
    default: i32,
    feature: Option<&'static str>,
) -> Directive {
    Directive {
        name,
        alias: None,
        flags,
        kind: Kind::Enum {
            names,
            default,
            check: None,
        },
        feature,
    }
}

const fn string(
    name: &'static str,
    flags: Flags,
    default: &'static str,
    feature: Option<&'static str>,
) -> Directive {
    Directive {
        name,
        alias: None,
        flags,
        kind: Kind::Str {
            default,
            check: None,
        },
        feature,
    }
}

const fn checked_string(
    name: &'static str,
    flags: Flags,
    default: &'static str,
    check: fn(&str) -> Result<(), &'static str>,
    feature: Option<&'static str>,
) -> Directive {
    Directive {
        name,
        alias: None,
        flags,
        kind: Kind::Str {
            default,
            check: Some(check),
        },
        feature,
    }
}

const fn special(
    name: &'static str,
    flags: Flags,
    which: Special,
    feature: Option<&'static str>,
) -> Directive {
    Directive {
        name,
        alias: None,
        flags,
        kind: Kind::Special(which),
        feature,
    }
}

const N: Flags = Flags::NONE;
const IMM: Flags = Flags::IMMUTABLE;
const DBG: Flags = Flags::DEBUG;
const HID: Flags = Flags::HIDDEN;
const SENS: Flags = Flags::SENSITIVE;
const PROT: Flags = Flags::PROTECTED;
const MULTI: Flags = Flags::MULTI_ARG;
const DENY: Flags = Flags::DENY_LOADING;

const INT_MAX: i128 = i32::MAX as i128;
const INT_MIN: i128 = i32::MIN as i128;
const UINT_MAX: i128 = u32::MAX as i128;
const LONG_MAX: i128 = i64::MAX as i128;
const ULLONG_MAX: i128 = u64::MAX as i128;

// Missing features, as named in warnings and CONFIG SET errors.
const RDB: Option<&str> = Some("RDB persistence");
const REPL: Option<&str> = Some("replication");
const CLUSTER: Option<&str> = Some("cluster");
const TLS: Option<&str> = None;
const LAZYFREE: Option<&str> = None;
const NOTIFY: Option<&str> = None;
const LATENCY_MONITOR: Option<&str> = None;
const LATENCY_TRACKING: Option<&str> = None;
const DEFRAG: Option<&str> = Some("active defragmentation");
const SYSLOG: Option<&str> = Some("syslog");
const SUPERVISED: Option<&str> = Some("supervised mode");
const OOM: Option<&str> = None;
const CPU_AFFINITY: Option<&str> = Some("CPU affinity");
const OBUF: Option<&str> = None;
const WATCHDOG: Option<&str> = Some("software watchdog");
const SOCKET_MARK: Option<&str> = Some("socket marks");
const OURS: Option<&str> = None;

const MAXMEMORY_POLICIES: &[(&str, i32)] = &[
    ("volatile-lru", 0),
    ("volatile-lfu", 1),
    ("volatile-random", 2),
    ("volatile-ttl", 3),
    ("allkeys-lru", 4),
    ("allkeys-lfu", 5),
    ("allkeys-random", 6),
    ("noeviction", 7),
];
const SYSLOG_FACILITIES: &[(&str, i32)] = &[
    ("user", 8),
    ("local0", 128),
    ("local1", 136),
    ("local2", 144),
    ("local3", 152),
    ("local4", 160),
    ("local5", 168),
    ("local6", 176),
    ("local7", 184),
];
const LOGLEVELS: &[(&str, i32)] = &[("debug", 0), ("verbose", 1), ("notice", 2), ("warning", 3)];
const SUPERVISED_MODES: &[(&str, i32)] = &[("upstart", 1), ("systemd", 2), ("auto", 3), ("no", 0)];
const APPENDFSYNC: &[(&str, i32)] = &[("everysec", 2), ("always", 1), ("no", 0)];
/// Bit flags; `default` is 0.
pub(super) const SHUTDOWN_ON_SIG: &[(&str, i32)] = &[
    ("default", 0),
    ("save", 1),
    ("nosave", 2),
    ("now", 4),
    ("force", 8),
];
const REPL_DISKLESS_LOAD: &[(&str, i32)] = &[("disabled", 0), ("on-empty-db", 1), ("swapdb", 2)];
const TLS_AUTH_CLIENTS: &[(&str, i32)] = &[("no", 0), ("yes", 1), ("optional", 2)];
const OOM_SCORE_ADJ: &[(&str, i32)] = &[("no", 0), ("yes", 1), ("relative", 1), ("absolute", 2)];
const ACL_PUBSUB_DEFAULT: &[(&str, i32)] = &[("allchannels", 1), ("resetchannels", 0)];
const SANITIZE_DUMP_PAYLOAD: &[(&str, i32)] = &[("no", 0), ("yes", 1), ("clients", 2)];
/// `no`, `yes`, or `local` (allowed for connections from a loopback or Unix socket).
pub(super) const PROTECTED_ACTION: &[(&str, i32)] = &[("no", 0), ("yes", 1), ("local", 2)];
const CLUSTER_ENDPOINT_TYPE: &[(&str, i32)] =
    &[("ip", 0), ("hostname", 1), ("unknown-endpoint", 2)];
const PROPAGATION_ERROR_BEHAVIOR: &[(&str, i32)] =
    &[("ignore", 0), ("panic", 1), ("panic-on-replicas", 2)];

fn deny_activedefrag(yes: bool) -> Result<(), &'static str> {
    if yes {
        return Err(
            "Active defragmentation cannot be enabled: it requires a Redis server compiled with a modified Jemalloc like the one shipped by default with the Redis source distribution",
        );
    }
    Ok(())
}

fn shutdown_flags_compatible(flags: i32) -> Result<(), &'static str> {
    if flags & 1 != 0 && flags & 2 != 0 {
        return Err("shutdown options SAVE and NOSAVE can't be used simultaneously");
    }
    Ok(())
}

fn is_base_name(path: &str) -> bool {
    !path.contains(['/', '\\'])
}

fn valid_dbfilename(v: &str) -> Result<(), &'static str> {
    if is_base_name(v) {
        Ok(())
    } else {
        Err("dbfilename can't be a path, just a filename")
    }
}

fn valid_appendfilename(v: &str) -> Result<(), &'static str> {
    match v {
        "" => Err("appendfilename can't be empty"),
        v if !is_base_name(v) => Err("appendfilename can't be a path, just a filename"),
        _ => Ok(()),
    }
}

fn valid_appenddirname(v: &str) -> Result<(), &'static str> {
    match v {
        "" => Err("appenddirname can't be empty"),
        v if !is_base_name(v) => Err("appenddirname can't be a path, just a dirname"),
        _ => Ok(()),
    }
}

fn valid_hostname(v: &str) -> Result<(), &'static str> {
    if v.len() >= 256 {
        return Err("Hostnames must be less than 256 characters");
    }
    if !v
        .bytes()
        .all(|c| c.is_ascii_alphanumeric() || c == b'-' || c == b'.')
    {
        return Err("Hostnames may only contain alphanumeric characters, hyphens or dots");
    }
    Ok(())
}

fn valid_proc_title_template(v: &str) -> Result<(), &'static str> {
    // Redis expands the template with an empty title and rejects unknown variables or an empty
    // result; `{title}`, `{server-mode}` and `{unixsocket}` may expand to nothing, the others never.
    let expanded = super::expand_proc_title_template(v, |var| match var {
        "title" | "server-mode" | "unixsocket" => Some(String::new()),
        "listen-addr" | "config-file" | "port" | "tls-port" => Some("x".to_owned()),
        _ => None,
    });
    match expanded {
        Some(s) if !s.is_empty() => Ok(()),
        _ => Err("template format is invalid or contains unknown variables"),
    }
}

/// Every directive, in Redis's table order (bools, strings, enums, numbers, TLS, specials).
pub static DIRECTIVES: &[Directive] = &[
    // yes/no
    boolean("rdbchecksum", IMM, true, None),
    boolean("daemonize", IMM, false, None),
    boolean("io-threads-do-reads", DBG.with(IMM), false, None),
    boolean("always-show-logo", IMM, false, None),
    boolean("protected-mode", N, true, None),
    boolean("rdbcompression", N, true, None),
    boolean("rdb-del-sync-files", N, false, REPL),
    boolean("activerehashing", N, true, None),
    boolean("stop-writes-on-bgsave-error", N, true, None),
    boolean("set-proc-title", IMM, true, None),
    boolean("dynamic-hz", N, true, None),
    boolean("lazyfree-lazy-eviction", DBG, false, LAZYFREE),
    boolean("lazyfree-lazy-expire", DBG, false, LAZYFREE),
    boolean("lazyfree-lazy-server-del", DBG, false, LAZYFREE),
    boolean("lazyfree-lazy-user-del", DBG, false, LAZYFREE),
    boolean("lazyfree-lazy-user-flush", DBG, false, LAZYFREE),
    boolean("repl-disable-tcp-nodelay", N, false, REPL),
    boolean("repl-diskless-sync", DBG, true, None),
    boolean("aof-rewrite-incremental-fsync", N, true, None),
    boolean("no-appendfsync-on-rewrite", N, false, None),
    boolean("cluster-require-full-coverage", N, true, CLUSTER),
    boolean("rdb-save-incremental-fsync", N, true, None),
    boolean("aof-load-truncated", N, true, None),
    boolean("aof-use-rdb-preamble", N, true, None),
    boolean("aof-timestamp-enabled", N, false, None),
    boolean("cluster-replica-no-failover", N, false, CLUSTER).alias("cluster-slave-no-failover"),
    boolean("replica-lazy-flush", N, false, REPL).alias("slave-lazy-flush"),
    boolean("replica-serve-stale-data", N, true, OURS).alias("slave-serve-stale-data"),
    boolean("replica-read-only", DBG, true, OURS).alias("slave-read-only"),
    boolean("replica-ignore-maxmemory", N, true, REPL).alias("slave-ignore-maxmemory"),
    boolean("jemalloc-bg-thread", N, true, None),
    Directive {
        kind: Kind::Bool {
            default: false,
            check: Some(deny_activedefrag),
        },
        ..boolean("activedefrag", DBG, false, DEFRAG)
    },
    boolean("syslog-enabled", IMM, false, SYSLOG),
    boolean("cluster-enabled", IMM, false, CLUSTER),
    boolean("appendonly", DENY, false, None),
    boolean("cluster-allow-reads-when-down", N, false, CLUSTER),
    boolean("cluster-allow-pubsubshard-when-down", N, true, CLUSTER),
    boolean("crash-log-enabled", N, true, None),
    boolean("crash-memcheck-enabled", N, true, None),
    boolean("use-exit-on-panic", HID, false, None),
    boolean("disable-thp", IMM, true, None),
    boolean("cluster-allow-replica-migration", N, true, CLUSTER),
    boolean("replica-announced", N, true, OURS),
    boolean("latency-tracking", N, true, LATENCY_TRACKING),
    boolean("aof-disable-auto-gc", N, false, None),
    boolean("replica-ignore-disk-write-errors", N, false, REPL),
    // strings
    string("aclfile", IMM, "", None),
    string("unixsocket", IMM, "", None),
    string("pidfile", IMM, "", None),
    string("replica-announce-ip", N, "", OURS).alias("slave-announce-ip"),
    string("masteruser", SENS, "", OURS),
    string("cluster-announce-ip", N, "", CLUSTER),
    string("cluster-config-file", IMM, "nodes.conf", CLUSTER),
    checked_string("cluster-announce-hostname", N, "", valid_hostname, CLUSTER),
    string("syslog-ident", IMM, "redis", SYSLOG),
    checked_string("dbfilename", PROT, "dump.rdb", valid_dbfilename, None),
    checked_string(
        "appendfilename",
        IMM,
        "appendonly.aof",
        valid_appendfilename,
        None,
    ),
    checked_string(
        "appenddirname",
        IMM,
        "appendonlydir",
        valid_appenddirname,
        None,
    ),
    string("server_cpulist", IMM, "", CPU_AFFINITY),
    string("bio_cpulist", IMM, "", CPU_AFFINITY),
    string("aof_rewrite_cpulist", IMM, "", CPU_AFFINITY),
    string("bgsave_cpulist", IMM, "", CPU_AFFINITY),
    string("ignore-warnings", N, "", None),
    checked_string(
        "proc-title-template",
        N,
        "{title} {listen-addr} {server-mode}",
        valid_proc_title_template,
        None,
    ),
    string("bind-source-addr", N, "", None),
    string("logfile", IMM, "", None),
    string("masterauth", SENS, "", OURS),
    string("requirepass", SENS, "", None),
    // enums
    choice("supervised", IMM, SUPERVISED_MODES, 0, SUPERVISED),
    choice("syslog-facility", IMM, SYSLOG_FACILITIES, 128, SYSLOG),
    choice(
        "repl-diskless-load",
        DBG.with(DENY),
        REPL_DISKLESS_LOAD,
        0,
        REPL,
    ),
    choice("loglevel", N, LOGLEVELS, 2, None),
    choice("maxmemory-policy", N, MAXMEMORY_POLICIES, 7, None),
    choice("appendfsync", N, APPENDFSYNC, 2, None),
    choice("oom-score-adj", N, OOM_SCORE_ADJ, 0, OOM),
    choice("acl-pubsub-default", N, ACL_PUBSUB_DEFAULT, 0, None),
    choice("sanitize-dump-payload", DBG, SANITIZE_DUMP_PAYLOAD, 0, None),
    choice("enable-protected-configs", IMM, PROTECTED_ACTION, 0, None),
    choice("enable-debug-command", IMM, PROTECTED_ACTION, 0, None),
    choice("enable-module-command", IMM, PROTECTED_ACTION, 0, None),
    choice(
        "cluster-preferred-endpoint-type",
        N,
        CLUSTER_ENDPOINT_TYPE,
        0,
        CLUSTER,
    ),
    choice(
        "propagation-error-behavior",
        N,
        PROPAGATION_ERROR_BEHAVIOR,
        0,
        REPL,
    ),
    Directive {
        kind: Kind::Enum {
            names: SHUTDOWN_ON_SIG,
            default: 0,
            check: Some(shutdown_flags_compatible),
        },
        ..choice("shutdown-on-sigint", MULTI, SHUTDOWN_ON_SIG, 0, RDB)
    },
    Directive {
        kind: Kind::Enum {
            names: SHUTDOWN_ON_SIG,
            default: 0,
            check: Some(shutdown_flags_compatible),
        },
        ..choice("shutdown-on-sigterm", MULTI, SHUTDOWN_ON_SIG, 0, RDB)
    },
    // numbers
    int("databases", IMM, 1, INT_MAX, 16, None),
    int("port", N, 0, 65535, 6379, None),
    // We accept io-threads as Redis validates it and otherwise use our own threads
    // (`server-threads`), so no value of it is unsupported.
    int("io-threads", DBG.with(IMM), 1, 128, 1, None),
    int("auto-aof-rewrite-percentage", N, 0, INT_MAX, 100, None),
    int(
        "cluster-replica-validity-factor",
        N,
        0,
        INT_MAX,
        10,
        CLUSTER,
    )
    .alias("cluster-slave-validity-factor"),
    int("list-max-listpack-size", N, INT_MIN, INT_MAX, -2, None).alias("list-max-ziplist-size"),
    int("tcp-keepalive", N, 0, INT_MAX, 300, None),
    int("cluster-migration-barrier", N, 0, INT_MAX, 1, CLUSTER),
    int("active-defrag-cycle-min", N, 1, 99, 1, None),
    int("active-defrag-cycle-max", N, 1, 99, 25, None),
    int("active-defrag-threshold-lower", N, 0, 1000, 10, None),
    int("active-defrag-threshold-upper", N, 0, 1000, 100, None),
    int("lfu-log-factor", N, 0, INT_MAX, 10, None),
    int("lfu-decay-time", N, 0, INT_MAX, 1, None),
    int("replica-priority", N, 0, INT_MAX, 100, OURS).alias("slave-priority"),
    int("repl-diskless-sync-delay", N, 0, INT_MAX, 5, None),
    int("maxmemory-samples", N, 1, INT_MAX, 5, None),
    int("maxmemory-eviction-tenacity", N, 0, 100, 10, None),
    int("timeout", N, 0, INT_MAX, 0, None),
    int("replica-announce-port", N, 0, 65535, 0, OURS).alias("slave-announce-port"),
    int("tcp-backlog", IMM, 0, INT_MAX, 511, None),
    int("cluster-port", IMM, 0, 65535, 0, CLUSTER),
    int("cluster-announce-bus-port", N, 0, 65535, 0, CLUSTER),
    int("cluster-announce-port", N, 0, 65535, 0, CLUSTER),
    int("cluster-announce-tls-port", N, 0, 65535, 0, CLUSTER),
    int("repl-timeout", N, 1, INT_MAX, 60, OURS),
    int("repl-ping-replica-period", N, 1, INT_MAX, 10, None).alias("repl-ping-slave-period"),
    int("list-compress-depth", DBG, 0, INT_MAX, 0, None),
    int("rdb-key-save-delay", HID, INT_MIN, INT_MAX, 0, None),
    int("key-load-delay", HID, INT_MIN, INT_MAX, 0, None),
    int("active-expire-effort", N, 1, 10, 1, None),
    // Out-of-range values are accepted and clamped to 1..=500 (see `Config::set`).
    int("hz", N, 0, INT_MAX, 10, None),
    // Built: with no replicas, a positive `min-replicas-to-write` refuses writes (NOREPLICAS).
    int("min-replicas-to-write", N, 0, INT_MAX, 0, None).alias("min-slaves-to-write"),
    int("min-replicas-max-lag", N, 0, INT_MAX, 10, None).alias("min-slaves-max-lag"),
    int("watchdog-period", HID, 0, INT_MAX, 0, WATCHDOG),
    int("shutdown-timeout", N, 0, INT_MAX, 10, REPL),
    int("repl-diskless-sync-max-replicas", N, 0, INT_MAX, 0, REPL),
    uint("maxclients", N, 1, UINT_MAX, 10000, None),
    num(
        "unixsocketperm",
        IMM,
        Num {
            min: 0,
            max: 0o777,
            default: 0,
            unsigned: true,
            unit: Unit::Octal,
        },
        None,
    ),
    uint("socket-mark-id", IMM, 0, UINT_MAX, 0, SOCKET_MARK),
    int("active-defrag-max-scan-fields", N, 1, LONG_MAX, 1000, None),
    int("slowlog-max-len", N, 0, LONG_MAX, 128, None),
    int("acllog-max-len", N, 0, LONG_MAX, 128, None),
    int("busy-reply-threshold", N, 0, LONG_MAX, 5000, None).alias("lua-time-limit"),
    int("cluster-node-timeout", N, 0, LONG_MAX, 15000, CLUSTER),
    int("slowlog-log-slower-than", N, -1, LONG_MAX, 10000, None),
    int(
        "latency-monitor-threshold",
        N,
        0,
        LONG_MAX,
        0,
        LATENCY_MONITOR,
    ),
    mem(
        "proto-max-bulk-len",
        DBG,
        1024 * 1024,
        LONG_MAX,
        512 * 1024 * 1024,
        None,
    ),
    int("stream-node-max-entries", N, 0, LONG_MAX, 100, None),
    mem("repl-backlog-size", N, 1, LONG_MAX, 1024 * 1024, None),
    // Built with the default `noeviction` policy: over the limit, writes get OOM errors.
    umem("maxmemory", N, 0, ULLONG_MAX, 0, None),
    umem("cluster-link-sendbuf-limit", N, 0, ULLONG_MAX, 0, CLUSTER),
    uint("hash-max-listpack-entries", N, 0, LONG_MAX, 512, None).alias("hash-max-ziplist-entries"),
    uint("set-max-intset-entries", N, 0, LONG_MAX, 512, None),
    uint("zset-max-listpack-entries", N, 0, LONG_MAX, 128, None).alias("zset-max-ziplist-entries"),
    umem(
        "active-defrag-ignore-bytes",
        N,
        1,
        LONG_MAX,
        100 << 20,
        None,
    ),
    umem("hash-max-listpack-value", N, 0, LONG_MAX, 64, None).alias("hash-max-ziplist-value"),
    umem("stream-node-max-bytes", N, 0, LONG_MAX, 4096, None),
    umem("zset-max-listpack-value", N, 0, LONG_MAX, 64, None).alias("zset-max-ziplist-value"),
    umem("hll-sparse-max-bytes", N, 0, LONG_MAX, 3000, None),
    uint("tracking-table-max-keys", N, 0, LONG_MAX, 1_000_000, None),
    umem(
        "client-query-buffer-limit",
        DBG,
        1024 * 1024,
        LONG_MAX,
        1024 * 1024 * 1024,
        None,
    ),
    num(
        "maxmemory-clients",
        N,
        Num {
            min: -100,
            max: LONG_MAX,
            default: 0,
            unsigned: false,
            unit: Unit::MemoryOrPercent,
        },
        None,
    ),
    int("repl-backlog-ttl", N, 0, LONG_MAX, 3600, None),
    mem(
        "auto-aof-rewrite-min-size",
        N,
        0,
        LONG_MAX,
        64 * 1024 * 1024,
        None,
    ),
    int(
        "loading-process-events-interval-bytes",
        HID,
        1024,
        INT_MAX,
        2 * 1024 * 1024,
        None,
    ),
    // TLS (Redis built with USE_OPENSSL, as distributions ship it)
    int("tls-port", N, 0, 65535, 0, TLS),
    int("tls-session-cache-size", N, 0, INT_MAX, 20 * 1024, TLS),
    int("tls-session-cache-timeout", N, 0, INT_MAX, 300, TLS),
    boolean("tls-cluster", N, false, TLS),
    boolean("tls-replication", N, false, TLS),
    choice("tls-auth-clients", N, TLS_AUTH_CLIENTS, 1, TLS),
    boolean("tls-prefer-server-ciphers", N, false, TLS),
    boolean("tls-session-caching", N, true, TLS),
    string("tls-cert-file", N, "", TLS),
    string("tls-key-file", N, "", TLS),
    string("tls-key-file-pass", N, "", TLS),
    string("tls-client-cert-file", N, "", TLS),
    string("tls-client-key-file", N, "", TLS),
    string("tls-client-key-file-pass", N, "", TLS),
    string("tls-dh-params-file", N, "", TLS),
    string("tls-ca-cert-file", N, "", TLS),
    string("tls-ca-cert-dir", N, "", TLS),
    string("tls-protocols", N, "", TLS),
    string("tls-ciphers", N, "", TLS),
    string("tls-ciphersuites", N, "", TLS),
    // special syntax
    special("dir", PROT.with(DENY), Special::Dir, None),
    special("save", MULTI, Special::Save, None),
    special(
        "client-output-buffer-limit",
        MULTI,
        Special::ClientOutputBufferLimit,
        OBUF,
    ),
    special(
        "oom-score-adj-values",
        MULTI,
        Special::OomScoreAdjValues,
        OOM,
    ),
    special(
        "notify-keyspace-events",
        N,
        Special::NotifyKeyspaceEvents,
        NOTIFY,
    ),
    special("bind", MULTI, Special::Bind, None),
    special("replicaof", IMM.with(MULTI), Special::ReplicaOf, OURS).alias("slaveof"),
    special(
        "latency-tracking-info-percentiles",
        MULTI,
        Special::LatencyTrackingInfoPercentiles,
        LATENCY_TRACKING,
    ),
    // Not Redis's: worker threads of this server; 0 means one per CPU core.
    // Hidden, so that CONFIG GET * lists exactly what Redis lists.
    int("server-threads", IMM.with(HID), 0, 1024, 0, OURS),
];

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_and_aliases_are_unique_and_lowercase() {
        let mut seen = std::collections::HashSet::new();
        for d in DIRECTIVES {
            for name in std::iter::once(d.name).chain(d.alias) {
                assert!(seen.insert(name), "{name} twice");
                assert_eq!(name, name.to_ascii_lowercase());
            }
        }
    }

    #[test]
    fn lookup_ignores_case_and_resolves_aliases() {
        assert_eq!(lookup(b"SLAVEOF").map(|d| d.name), Some("replicaof"));
        assert_eq!(
            lookup(b"hash-max-ziplist-entries").map(|d| d.name),
            Some("hash-max-listpack-entries")
        );
        assert_eq!(lookup(b"Port").map(|d| d.name), Some("port"));
        assert!(lookup(b"nope").is_none());
        assert_eq!(
            position(b"lua-time-limit").map(|(_, alias)| alias),
            Some(true)
        );
    }

    #[test]
    fn defaults_are_within_bounds() {
        for d in DIRECTIVES {
            if let Kind::Num(n) = &d.kind {
                let v = i128::from(n.default);
                assert!(n.min <= v && v <= n.max, "{}", d.name);
            }
        }
    }
}
