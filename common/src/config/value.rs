//! Typed values: one parser and one printer per value type, with Redis's error texts.

use std::path::Path;

use super::directives::{Directive, Kind, Num, Special, Unit};
use super::parse::{memtoull, string2ll, strtoll};

/// The value of one directive.
#[derive(Debug, Clone, PartialEq)]
pub enum ConfigValue {
    Bool(bool),
    /// Every numeric directive, memory sizes included; a percentage `N%` is stored as `-N`.
    Int(i64),
    /// A single-choice enum, by its canonical name.
    Enum(&'static str),
    /// A multi-choice enum (`shutdown-on-sigint save now`): the or-ed values.
    Flags(i32),
    Str(String),
    Save(Vec<SaveParam>),
    Bind(Vec<String>),
    /// `normal`, `slave` (replica) and `pubsub` classes, in that order.
    ClientOutputBufferLimit([OutputBufferLimit; 3]),
    /// Scores for master, replica and background child.
    OomScoreAdjValues([i32; 3]),
    /// `NOTIFY_*` bits as Redis numbers them (`K` = 1, `E` = 2, `g` = 4 ...).
    NotifyKeyspaceEvents(u32),
    ReplicaOf(Option<(String, u16)>),
    Percentiles(Vec<f64>),
}

/// One `save <seconds> <changes>` point.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SaveParam {
    pub seconds: i64,
    pub changes: i32,
}

/// One class of `client-output-buffer-limit`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct OutputBufferLimit {
    pub hard_bytes: u64,
    pub soft_bytes: u64,
    pub soft_seconds: i64,
}

/// Client classes of `client-output-buffer-limit`, as [`ConfigValue::ClientOutputBufferLimit`]
/// orders them.
pub const OUTPUT_BUFFER_CLASSES: [&str; 3] = ["normal", "slave", "pubsub"];

/// Keyspace event classes and their bits, in the order Redis prints them.
const EVENT_CLASSES: &[(u8, u32)] = &[
    (b'g', 1 << 2),
    (b'$', 1 << 3),
    (b'l', 1 << 4),
    (b's', 1 << 5),
    (b'h', 1 << 6),
    (b'z', 1 << 7),
    (b'x', 1 << 8),
    (b'e', 1 << 9),
    (b't', 1 << 10),
    (b'd', 1 << 13),
    (b'n', 1 << 14),
];
const NOTIFY_KEYSPACE: u32 = 1;
const NOTIFY_KEYEVENT: u32 = 1 << 1;
const NOTIFY_KEY_MISS: u32 = 1 << 11;
/// `A`: every class but `m` (key misses) and `n` (new keys).
const NOTIFY_ALL: u32 = 0b10_0111_1111_1100;

/// The value of `d` before any configuration.
pub(super) fn default_value(d: &Directive, cwd: &str) -> ConfigValue {
    match &d.kind {
        Kind::Bool { default, .. } => ConfigValue::Bool(*default),
        Kind::Num(n) => ConfigValue::Int(n.default),
        Kind::Enum { default, .. } if d.is_multi_arg() => ConfigValue::Flags(*default),
        Kind::Enum { names, default, .. } => ConfigValue::Enum(
            names
                .iter()
                .find(|(_, v)| v == default)
                .map_or("", |(n, _)| n),
        ),
        Kind::Str { default, .. } => ConfigValue::Str((*default).to_owned()),
        Kind::Special(s) => match s {
            Special::Dir => ConfigValue::Str(cwd.to_owned()),
            Special::Save => ConfigValue::Save(
                [(3600, 1), (300, 100), (60, 10000)]
                    .into_iter()
                    .map(|(seconds, changes)| SaveParam { seconds, changes })
                    .collect(),
            ),
            Special::ClientOutputBufferLimit => ConfigValue::ClientOutputBufferLimit([
                OutputBufferLimit {
                    hard_bytes: 0,
                    soft_bytes: 0,
                    soft_seconds: 0,
                },
                OutputBufferLimit {
                    hard_bytes: 256 << 20,
                    soft_bytes: 64 << 20,
                    soft_seconds: 60,
                },
                OutputBufferLimit {
                    hard_bytes: 32 << 20,
                    soft_bytes: 8 << 20,
                    soft_seconds: 60,
                },
            ]),
            Special::OomScoreAdjValues => ConfigValue::OomScoreAdjValues([0, 200, 800]),
            Special::NotifyKeyspaceEvents => ConfigValue::NotifyKeyspaceEvents(0),
            Special::Bind => ConfigValue::Bind(vec!["*".to_owned(), "-::*".to_owned()]),
            Special::ReplicaOf => ConfigValue::ReplicaOf(None),
            Special::LatencyTrackingInfoPercentiles => {
                ConfigValue::Percentiles(vec![50.0, 99.0, 99.9])
            }
        },
    }
}

/// Parses the arguments of `d` (already split for multi-argument directives). `current` is the
/// value being replaced (client-output-buffer-limit only changes the classes it names); `cwd`
/// resolves a relative `dir`. The error is Redis's text.
pub(super) fn parse(
    d: &Directive,
    args: &[Vec<u8>],
    current: &ConfigValue,
    cwd: &Path,
) -> Result<ConfigValue, String> {
    // Single-argument kinds are only reached with exactly one argument.
    let first = args.first().map_or(&[][..], Vec::as_slice);
    match &d.kind {
        Kind::Bool { check, .. } => {
            let yes = if first.eq_ignore_ascii_case(b"yes") {
                true
            } else if first.eq_ignore_ascii_case(b"no") {
                false
            } else {
                return Err("argument must be 'yes' or 'no'".into());
            };
            if let Some(check) = check {
                check(yes)?;
            }
            Ok(ConfigValue::Bool(yes))
        }
        Kind::Num(n) => parse_num(n, first).map(ConfigValue::Int),
        Kind::Enum { names, check, .. } => {
            let multi = d.is_multi_arg();
            let value = parse_enum(names, args, multi).ok_or_else(|| {
                let list: Vec<&str> = names.iter().map(|(n, _)| *n).collect();
                format!(
                    "argument(s) must be one of the following: {}",
                    list.join(", ")
                )
            })?;
            if let Some(check) = check {
                check(value)?;
            }
            if multi {
                return Ok(ConfigValue::Flags(value));
            }
            Ok(ConfigValue::Enum(
                names
                    .iter()
                    .find(|(_, v)| *v == value)
                    .map_or("", |(n, _)| n),
            ))
        }
        Kind::Str { check, .. } => {
            let s = lossy(first);
            if let Some(check) = check {
                check(&s)?;
            }
            Ok(ConfigValue::Str(s))
        }
        Kind::Special(s) => parse_special(*s, args, current, cwd),
    }
}

fn parse_num(n: &Num, arg: &[u8]) -> Result<i64, String> {
    let parsed = match n.unit {
        Unit::Count => string2ll(arg),
        Unit::Memory => memtoull(arg).map(|v| v as i64),
        Unit::MemoryOrPercent => memtoull(arg).map(|v| v as i64).or_else(|| {
            let digits = arg.strip_suffix(b"%").filter(|d| !d.is_empty())?;
            string2ll(digits).filter(|v| *v >= 0).map(|v| -v)
        }),
        Unit::Octal => match strtoll(arg, 8) {
            (v, true, false) => Some(v),
            _ => None,
        },
    };
    let v = parsed.ok_or(match n.unit {
        Unit::Count => "argument couldn't be parsed into an integer",
        Unit::Memory => "argument must be a memory value",
        Unit::MemoryOrPercent => "argument must be a memory or percent value",
        Unit::Octal => "argument couldn't be parsed as an octal number",
    })?;
    if n.unsigned {
        let u = i128::from(v as u64);
        if u < n.min || u > n.max {
            return Err(if n.unit == Unit::Octal {
                format!(
                    "argument must be between {:o} and {:o} inclusive",
                    n.min, n.max
                )
            } else {
                format!("argument must be between {} and {} inclusive", n.min, n.max)
            });
        }
    } else if n.unit == Unit::MemoryOrPercent && v < 0 {
        if i128::from(v) < n.min {
            return Err(format!(
                "percentage argument must be less or equal to {}",
                -n.min
            ));
        }
    } else if i128::from(v) < n.min || i128::from(v) > n.max {
        return Err(format!(
            "argument must be between {} and {} inclusive",
            n.min, n.max
        ));
    }
    Ok(v)
}

fn parse_enum(names: &[(&str, i32)], args: &[Vec<u8>], multi: bool) -> Option<i32> {
    if args.is_empty() || (!multi && args.len() != 1) {
        return None;
    }
    args.iter().try_fold(0, |acc, arg| {
        let mut hits = names
            .iter()
            .filter(|(n, _)| arg.eq_ignore_ascii_case(n.as_bytes()))
            .peekable();
        hits.peek()?;
        Some(hits.fold(acc, |acc, (_, v)| acc | v))
    })
}

fn parse_special(
    which: Special,
    args: &[Vec<u8>],
    current: &ConfigValue,
    cwd: &Path,
) -> Result<ConfigValue, String> {
    let wrong_args = || "wrong number of arguments".to_owned();
    match which {
        Special::Dir => {
            let [dir] = args else {
                return Err(wrong_args());
            };
            resolve_dir(cwd, &lossy(dir)).map(ConfigValue::Str)
        }
        Special::Save => {
            let args: &[Vec<u8>] = if args.len() == 1 && args[0].is_empty() {
                &[]
            } else {
                args
            };
            let invalid = || "Invalid save parameters".to_owned();
            if args.len() % 2 == 1 {
                return Err(invalid());
            }
            let mut params = Vec::with_capacity(args.len() / 2);
            for pair in args.chunks(2) {
                let (seconds, changes) = match (strtoll(&pair[0], 10), strtoll(&pair[1], 10)) {
                    ((s, true, _), (c, true, _)) if s >= 1 && c >= 0 => (s, c),
                    _ => return Err(invalid()),
                };
                params.push(SaveParam {
                    seconds,
                    changes: changes as i32,
                });
            }
            Ok(ConfigValue::Save(params))
        }
        Special::ClientOutputBufferLimit => {
            if args.len() % 4 != 0 {
                return Err("Wrong number of arguments in buffer limit configuration.".into());
            }
            // Only the classes named change.
            let mut limits = match current {
                ConfigValue::ClientOutputBufferLimit(l) => *l,
                _ => {
                    [OutputBufferLimit {
                        hard_bytes: 0,
                        soft_bytes: 0,
                        soft_seconds: 0,
                    }; 3]
                }
            };
            for group in args.chunks(4) {
                let class = match group[0].to_ascii_lowercase().as_slice() {
                    b"normal" => 0,
                    b"slave" | b"replica" => 1,
                    b"pubsub" => 2,
                    _ => {
                        return Err(
                            "Invalid client class specified in buffer limit configuration.".into(),
                        );
                    }
                };
                let seconds = match strtoll(&group[3], 10) {
                    // Redis keeps the seconds in an `int`.
                    (s, true, _) if s as i32 >= 0 => i64::from(s as i32),
                    _ => -1,
                };
                match (memtoull(&group[1]), memtoull(&group[2])) {
                    (Some(hard_bytes), Some(soft_bytes)) if seconds >= 0 => {
                        limits[class] = OutputBufferLimit { hard_bytes, soft_bytes, soft_seconds: seconds };
                    }
                    _ => return Err("Error in hard, soft or soft_seconds setting in buffer limit configuration.".into()),
                }
            }
            Ok(ConfigValue::ClientOutputBufferLimit(limits))
        }
        Special::OomScoreAdjValues => {
            if args.len() != 3 {
                return Err(wrong_args());
            }
            let mut values = [0; 3];
            for (slot, arg) in values.iter_mut().zip(args) {
                match strtoll(arg, 10) {
                    (v, true, _) if (-2000..=2000).contains(&v) => *slot = v as i32,
                    _ => return Err(
                        "Invalid oom-score-adj-values, elements must be between -2000 and 2000."
                            .into(),
                    ),
                }
            }
            Ok(ConfigValue::OomScoreAdjValues(values))
        }
        Special::NotifyKeyspaceEvents => {
            let [classes] = args else {
                return Err(wrong_args());
            };
            parse_keyspace_events(classes)
                .map(ConfigValue::NotifyKeyspaceEvents)
                .ok_or_else(|| "Invalid event class character. Use 'Ag$lshzxeKEtmdn'.".to_owned())
        }
        Special::Bind => {
            if args.len() > 16 {
                return Err("Too many bind addresses specified.".into());
            }
            let args: &[Vec<u8>] = if args.len() == 1 && args[0].is_empty() {
                &[]
            } else {
                args
            };
            Ok(ConfigValue::Bind(args.iter().map(|a| lossy(a)).collect()))
        }
        Special::ReplicaOf => {
            let [host, port] = args else {
                return Err(wrong_args());
            };
            if host.eq_ignore_ascii_case(b"no") && port.eq_ignore_ascii_case(b"one") {
                return Ok(ConfigValue::ReplicaOf(None));
            }
            match strtoll(port, 10) {
                (p, true, _) if (0..=65535).contains(&p) => {
                    Ok(ConfigValue::ReplicaOf(Some((lossy(host), p as u16))))
                }
                _ => Err("Invalid master port".into()),
            }
        }
        Special::LatencyTrackingInfoPercentiles => {
            let args: &[Vec<u8>] = if args.len() == 1 && args[0].is_empty() {
                &[]
            } else {
                args
            };
            let mut out = Vec::with_capacity(args.len());
            for arg in args {
                let p =
                    string2d(arg).ok_or("Invalid latency-tracking-info-percentiles parameters")?;
                if !(0.0..=100.0).contains(&p) {
                    return Err("latency-tracking-info-percentiles parameters should sit between [0.0,100.0]".into());
                }
                out.push(p);
            }
            Ok(ConfigValue::Percentiles(out))
        }
    }
}

/// `dir`: the absolute, resolved directory the server is to change into, as `getcwd()` would
/// then report it; the error is `chdir()`'s `strerror`.
fn resolve_dir(cwd: &Path, dir: &str) -> Result<String, String> {
    let path = cwd.join(dir);
    let resolved = std::fs::canonicalize(&path).map_err(|e| strerror(&e))?;
    if !resolved.is_dir() {
        return Err("Not a directory".into());
    }
    Ok(resolved.to_string_lossy().into_owned())
}

/// An I/O error as C's `strerror` writes it (Rust appends " (os error N)").
pub(super) fn strerror(e: &std::io::Error) -> String {
    let text = e.to_string();
    match text.rfind(" (os error ") {
        Some(i) => text[..i].to_owned(),
        None => text,
    }
}

fn parse_keyspace_events(classes: &[u8]) -> Option<u32> {
    classes.iter().try_fold(0, |flags, &c| {
        let bit = match c {
            b'A' => NOTIFY_ALL,
            b'K' => NOTIFY_KEYSPACE,
            b'E' => NOTIFY_KEYEVENT,
            b'm' => NOTIFY_KEY_MISS,
            c => EVENT_CLASSES.iter().find(|(ch, _)| *ch == c)?.1,
        };
        Some(flags | bit)
    })
}

fn keyspace_events_string(flags: u32) -> String {
    let mut s = String::new();
    if flags & NOTIFY_ALL == NOTIFY_ALL {
        s.push('A');
    } else {
        s.extend(
            EVENT_CLASSES
                .iter()
                .filter(|(_, bit)| flags & bit != 0)
                .map(|(c, _)| char::from(*c)),
        );
    }
    for (c, bit) in [
        ('K', NOTIFY_KEYSPACE),
        ('E', NOTIFY_KEYEVENT),
        ('m', NOTIFY_KEY_MISS),
    ] {
        if flags & bit != 0 {
            s.push(c);
        }
    }
    s
}

/// Redis's `string2d`: a whole-string float, no leading space, not NaN.
fn string2d(s: &[u8]) -> Option<f64> {
    let s = std::str::from_utf8(s).ok()?;
    if s.is_empty() || s.starts_with(|c: char| c.is_ascii_whitespace()) {
        return None;
    }
    s.parse::<f64>().ok().filter(|v| !v.is_nan())
}

/// `%f` without trailing zeros, as Redis prints percentiles.
fn trimmed_float(v: f64) -> String {
    let s = format!("{v:.6}");
    s.trim_end_matches('0').trim_end_matches('.').to_owned()
}

/// The value as `CONFIG GET` prints it.
pub(super) fn render(d: &Directive, v: &ConfigValue) -> String {
    match v {
        ConfigValue::Bool(b) => if *b { "yes" } else { "no" }.to_owned(),
        ConfigValue::Int(i) => match &d.kind {
            Kind::Num(n) if n.unit == Unit::MemoryOrPercent && *i < 0 => {
                format!("{}%", -i128::from(*i))
            }
            Kind::Num(n) if matches!(n.unit, Unit::Memory | Unit::MemoryOrPercent) => {
                (*i as u64).to_string()
            }
            Kind::Num(n) if n.unit == Unit::Octal => format!("{:o}", *i as u64),
            _ => i.to_string(),
        },
        ConfigValue::Enum(name) => (*name).to_owned(),
        ConfigValue::Flags(flags) => match &d.kind {
            Kind::Enum { names, .. } => flag_names(names, *flags),
            _ => flags.to_string(),
        },
        ConfigValue::Str(s) => s.clone(),
        ConfigValue::Save(params) => {
            let parts: Vec<String> = params
                .iter()
                .map(|p| format!("{} {}", p.seconds, p.changes))
                .collect();
            parts.join(" ")
        }
        ConfigValue::Bind(addrs) => addrs.join(" "),
        ConfigValue::ClientOutputBufferLimit(limits) => {
            let parts: Vec<String> = OUTPUT_BUFFER_CLASSES
                .iter()
                .zip(limits)
                .map(|(class, l)| {
                    format!(
                        "{class} {} {} {}",
                        l.hard_bytes, l.soft_bytes, l.soft_seconds
                    )
                })
                .collect();
            parts.join(" ")
        }
        ConfigValue::OomScoreAdjValues(v) => format!("{} {} {}", v[0], v[1], v[2]),
        ConfigValue::NotifyKeyspaceEvents(flags) => keyspace_events_string(*flags),
        ConfigValue::ReplicaOf(None) => String::new(),
        ConfigValue::ReplicaOf(Some((host, port))) => format!("{host} {port}"),
        ConfigValue::Percentiles(p) => {
            let parts: Vec<String> = p.iter().map(|v| trimmed_float(*v)).collect();
            parts.join(" ")
        }
    }
}

/// Names of or-ed enum flags: an exact match first, else every flag contained, or "unknown".
fn flag_names(names: &[(&str, i32)], flags: i32) -> String {
    if let Some((n, _)) = names.iter().find(|(_, v)| *v == flags) {
        return (*n).to_owned();
    }
    let mut unmatched = flags;
    let mut out: Vec<&str> = Vec::new();
    for (n, v) in names {
        if *v != 0 && *v == unmatched & v {
            out.push(n);
            unmatched &= !v;
        }
    }
    if out.is_empty() || unmatched != 0 {
        return "unknown".to_owned();
    }
    out.join(" ")
}

pub(super) fn lossy(b: &[u8]) -> String {
    String::from_utf8_lossy(b).into_owned()
}
