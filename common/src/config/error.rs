//! Startup (`ConfigError`) and `CONFIG SET` (`ConfigSetError`) errors, with Redis's texts.

use std::fmt;

/// The Redis version whose config errors we reproduce.
const REDIS_VERSION: &str = "7.0.15";

/// A fatal error while loading the configuration: the server prints it and exits with 1.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConfigError {
    /// 1-based line of the text being read (a file, or the file + stdin + command-line options
    /// Redis concatenates); `None` for checks made after reading (`logfile`, cluster + replicaof).
    pub line: Option<usize>,
    /// The offending line, trimmed.
    pub text: String,
    pub kind: ConfigErrorKind,
}

/// What went wrong.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ConfigErrorKind {
    UnbalancedQuotes,
    BadDirective,
    /// A directive's value was refused; the text is Redis's ("wrong number of arguments",
    /// "argument must be a memory value" ...).
    Invalid(String),
    ModuleConfigWithoutValue,
    SentinelDirectiveOutsideSentinel,
    /// For the server, which checks `rename-command` against its command table.
    NoSuchCommandInRename,
    /// For the server: `rename-command` onto an existing name.
    RenameTargetExists,
    /// `logfile` cannot be opened for appending; the text is `strerror`.
    LogFile(String),
    ReplicaOfInClusterMode,
    /// A config file (or `include`) cannot be read. Redis logs this one as a log line
    /// (see [`ConfigError::is_log_line`]).
    CantOpen {
        path: String,
        reason: String,
    },
    /// A module config (`name.arg`) with no module to take it. Redis logs this one too.
    ModuleConfigWithoutModule,
}

impl ConfigError {
    pub fn at(line: usize, text: impl Into<String>, kind: ConfigErrorKind) -> Self {
        ConfigError {
            line: Some(line),
            text: text.into(),
            kind,
        }
    }

    pub(super) fn global(kind: ConfigErrorKind) -> Self {
        ConfigError {
            line: None,
            text: String::new(),
            kind,
        }
    }

    /// Redis reports this error through its log (`pid:C date # message`), not as a
    /// "FATAL CONFIG FILE ERROR" block; `Display` then writes only the message.
    pub fn is_log_line(&self) -> bool {
        matches!(
            self.kind,
            ConfigErrorKind::CantOpen { .. } | ConfigErrorKind::ModuleConfigWithoutModule
        )
    }
}

impl fmt::Display for ConfigErrorKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ConfigErrorKind::UnbalancedQuotes => f.write_str("Unbalanced quotes in configuration line"),
            ConfigErrorKind::BadDirective => f.write_str("Bad directive or wrong number of arguments"),
            ConfigErrorKind::Invalid(msg) => f.write_str(msg),
            ConfigErrorKind::ModuleConfigWithoutValue => f.write_str("Module config specified without value"),
            ConfigErrorKind::SentinelDirectiveOutsideSentinel => {
                f.write_str("sentinel directive while not in sentinel mode")
            }
            ConfigErrorKind::NoSuchCommandInRename => f.write_str("No such command in rename-command"),
            ConfigErrorKind::RenameTargetExists => f.write_str("Target command name already exists"),
            ConfigErrorKind::LogFile(reason) => write!(f, "Can't open the log file: {reason}"),
            ConfigErrorKind::ReplicaOfInClusterMode => f.write_str("replicaof directive not allowed in cluster mode"),
            ConfigErrorKind::CantOpen { path, reason } => {
                write!(f, "Fatal error, can't open config file '{path}': {reason}")
            }
            ConfigErrorKind::ModuleConfigWithoutModule => {
                f.write_str("Module Configuration detected without loadmodule directive or no ApplyConfig call: aborting")
            }
        }
    }
}

/// Exactly what Redis writes to stderr (for [`ConfigError::is_log_line`] errors: the message).
impl fmt::Display for ConfigError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.is_log_line() {
            return write!(f, "{}", self.kind);
        }
        write!(
            f,
            "\n*** FATAL CONFIG FILE ERROR (Redis {REDIS_VERSION}) ***\n"
        )?;
        if let Some(line) = self.line {
            write!(
                f,
                "Reading the configuration file, at line {line}\n>>> '{}'\n",
                self.text
            )?;
        }
        writeln!(f, "{}", self.kind)
    }
}

impl std::error::Error for ConfigError {}

/// A refused `CONFIG SET`; nothing was changed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ConfigSetError {
    /// No such directive (the name as the client sent it).
    Unknown(String),
    /// Refused because of `arg` (as the client sent it for flag checks, the directive's name
    /// for value errors); `reason` is Redis's text, or ours for unbuilt features.
    Failed { arg: String, reason: String },
    /// A `DENY_LOADING` directive while the dataset loads.
    Loading,
}

/// The error line without the leading `-`, prefix included (`ERR ...`, `LOADING ...`).
impl fmt::Display for ConfigSetError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ConfigSetError::Unknown(name) => {
                write!(
                    f,
                    "ERR Unknown option or number of arguments for CONFIG SET - '{name}'"
                )
            }
            ConfigSetError::Failed { arg, reason } => {
                write!(
                    f,
                    "ERR CONFIG SET failed (possibly related to argument '{arg}') - {reason}"
                )
            }
            ConfigSetError::Loading => {
                f.write_str("LOADING Redis is loading the dataset in memory")
            }
        }
    }
}

impl std::error::Error for ConfigSetError {}
