//! Reading a configuration as `redis-server` does: argv into config lines, files, `include`,
//! stdin, line splitting with `sdssplitargs` quoting, and Redis's number syntaxes.

use std::io::Read;
use std::path::{Path, PathBuf};

use super::directives::{DIRECTIVES, Special, position};
use super::error::{ConfigError, ConfigErrorKind};
use super::value::{self, ConfigValue, lossy};
use super::{Config, Loaded, Rename, SentinelDirective};

/// Directives Redis 7.0 still accepts (with exactly one argument) and ignores.
const DEPRECATED: &[&str] = &[
    "list-max-ziplist-entries",
    "list-max-ziplist-value",
    "lua-replicate-commands",
];

/// Loads the configuration from `redis-server`'s arguments (without the program name), reading
/// stdin when they say `-`.
pub(super) fn load(args: &[String], stdin: &mut dyn Read) -> Result<Loaded, ConfigError> {
    let sentinel = args.iter().any(|a| a == "--sentinel");
    let mut loader = Loader::new(sentinel);
    if args.is_empty() {
        return Ok(loader.finish(None));
    }
    let argv = ArgvConfig::parse(args);
    let mut text = Vec::new();
    let config_file = match &argv.config_file {
        Some(file) => {
            let path = std::path::absolute(file).unwrap_or_else(|_| PathBuf::from(file));
            text = loader.read_file(&path)?;
            Some(path)
        }
        None => None,
    };
    if argv.stdin {
        // A read error leaves what was read, as fgets() would.
        let _ = stdin.read_to_end(&mut text);
    }
    text.push(b'\n');
    text.extend_from_slice(&argv.options);
    loader.load_text(&text)?;
    Ok(loader.finish(config_file))
}

/// Loads configuration text (the content of a file) over the defaults.
pub(super) fn load_text(text: &str, sentinel: bool) -> Result<Loaded, ConfigError> {
    let mut loader = Loader::new(sentinel);
    loader.load_text(text.as_bytes())?;
    Ok(loader.finish(None))
}

/// The command line split as Redis splits it.
struct ArgvConfig {
    config_file: Option<String>,
    stdin: bool,
    /// `--name value ...` turned into config lines.
    options: Vec<u8>,
}

impl ArgvConfig {
    fn parse(args: &[String]) -> ArgvConfig {
        let mut out = ArgvConfig {
            config_file: None,
            stdin: false,
            options: Vec::new(),
        };
        let mut j = 0;
        if let Some(first) = args.first().filter(|a| !a.starts_with('-')) {
            out.config_file = Some(first.clone());
            j = 1;
        }
        let last = args.len() - 1;
        // Whether the previous option has received at least one value.
        let mut handled_last = true;
        while j < args.len() {
            let arg = &args[j];
            if arg == "-" && (j == 0 || j == last) {
                out.stdin = true;
            } else if handled_last && arg.starts_with("--") {
                if !out.options.is_empty() {
                    out.options.push(b'\n');
                }
                out.options.extend_from_slice(&arg.as_bytes()[2..]);
                out.options.push(b' ');
                let tokens = split_args(arg.as_bytes()).map_or(0, |t| t.len());
                if tokens == 1 {
                    handled_last = false;
                    let next_is_option = j != last && args[j + 1].starts_with("--");
                    // `--save` with no value means `save ""`; `--sentinel` takes none.
                    if arg.eq_ignore_ascii_case("--save") && (next_is_option || j == last) {
                        out.options.extend_from_slice(b"\"\"");
                        handled_last = next_is_option || handled_last;
                    } else if arg.eq_ignore_ascii_case("--sentinel") && next_is_option {
                        handled_last = true;
                    }
                } else {
                    // `"--port 6380"` as one argument carries its value.
                    handled_last = true;
                }
            } else {
                out.options.extend_from_slice(&repr(arg.as_bytes()));
                out.options.push(b' ');
                handled_last = true;
            }
            j += 1;
        }
        out
    }
}

/// Why a line failed: its own fault, or an error inside the file it includes (reported with
/// that file's line, as Redis does).
enum LineError {
    Here(ConfigErrorKind),
    Nested(ConfigError),
}

struct Loader {
    config: Config,
    warnings: Vec<String>,
    renames: Vec<Rename>,
    users: Vec<Vec<String>>,
    sentinel: bool,
    sentinel_directives: Vec<SentinelDirective>,
    /// Where relative paths resolve: Redis `chdir()`s at each `dir` line.
    cwd: PathBuf,
    /// Redis's `reading_config_file`: true while a text is read, cleared when any text (an
    /// included file too) ends, after which `save` lines replace instead of adding up.
    reading: bool,
    /// The first `save` line read from a file replaces the defaults; later ones add points.
    save_loaded: bool,
    module_configs: bool,
}

impl Loader {
    fn new(sentinel: bool) -> Loader {
        let config = Config::default();
        let cwd = PathBuf::from(config.dir());
        Loader {
            config,
            warnings: Vec::new(),
            renames: Vec::new(),
            users: Vec::new(),
            sentinel,
            sentinel_directives: Vec::new(),
            cwd,
            reading: false,
            save_loaded: false,
            module_configs: false,
        }
    }

    fn finish(self, config_file: Option<PathBuf>) -> Loaded {
        Loaded {
            config: self.config,
            warnings: self.warnings,
            sentinel: self.sentinel,
            renames: self.renames,
            users: self.users,
            sentinel_directives: self.sentinel_directives,
            config_file,
        }
    }

    fn read_file(&self, path: &Path) -> Result<Vec<u8>, ConfigError> {
        std::fs::read(self.cwd.join(path)).map_err(|e| {
            ConfigError::global(ConfigErrorKind::CantOpen {
                path: path.to_string_lossy().into_owned(),
                reason: value::strerror(&e),
            })
        })
    }

    fn load_text(&mut self, text: &[u8]) -> Result<(), ConfigError> {
        self.reading = true;
        for (i, raw) in text.split(|&b| b == b'\n').enumerate() {
            let line = trim(raw);
            // A C string ends at NUL.
            let line = &line[..line.iter().position(|&b| b == 0).unwrap_or(line.len())];
            if line.is_empty() || line[0] == b'#' {
                continue;
            }
            let at = |kind| ConfigError::at(i + 1, lossy(line), kind);
            let argv = split_args(line).ok_or_else(|| at(ConfigErrorKind::UnbalancedQuotes))?;
            if argv.is_empty() {
                continue;
            }
            match self.line(i + 1, line, argv) {
                Ok(()) => {}
                Err(LineError::Here(kind)) => return Err(at(kind)),
                Err(LineError::Nested(e)) => return Err(e),
            }
        }
        self.after_text()
    }

    /// One non-empty line.
    fn line(
        &mut self,
        linenum: usize,
        line: &[u8],
        mut argv: Vec<Vec<u8>>,
    ) -> Result<(), LineError> {
        argv[0].make_ascii_lowercase();
        let name = argv[0].as_slice();
        if let Some((index, _)) = position(name) {
            let d = &DIRECTIVES[index];
            if !d.is_multi_arg() && argv.len() != 2 {
                return Err(LineError::Here(ConfigErrorKind::Invalid(
                    "wrong number of arguments".into(),
                )));
            }
            // `--save "900 1"` arrives as one argument: split it, unless empty (`--save ""`).
            let args = if d.is_multi_arg() && argv.len() == 2 && !argv[1].is_empty() {
                split_args(&argv[1]).unwrap_or_default()
            } else {
                argv.split_off(1)
            };
            return self
                .set(index, &args)
                .map_err(|e| LineError::Here(ConfigErrorKind::Invalid(e)));
        }
        if argv.len() == 2 && DEPRECATED.iter().any(|d| name == d.as_bytes()) {
            return Ok(());
        }
        match (name, argv.len()) {
            (b"include", 2) => self.include(&lossy(&argv[1])),
            (b"rename-command", 3) => {
                let text = lossy(line);
                self.renames.push(Rename {
                    line: linenum,
                    text,
                    from: lossy(&argv[1]),
                    to: lossy(&argv[2]),
                });
                Ok(())
            }
            (b"user", n) if n >= 2 => {
                self.users
                    .push(argv[1..].iter().map(|a| lossy(a)).collect());
                Ok(())
            }
            (b"loadmodule", n) if n >= 2 => {
                self.warnings.push(format!(
                    "loadmodule '{}' has no effect: modules is not supported by this server yet",
                    lossy(&argv[1])
                ));
                Ok(())
            }
            (name, n) if name.contains(&b'.') => {
                if n < 2 {
                    return Err(LineError::Here(ConfigErrorKind::ModuleConfigWithoutValue));
                }
                self.module_configs = true;
                Ok(())
            }
            (b"sentinel", 1) => Ok(()),
            (b"sentinel", _) if !self.sentinel => Err(LineError::Here(
                ConfigErrorKind::SentinelDirectiveOutsideSentinel,
            )),
            (b"sentinel", _) => {
                let args = argv[1..].iter().map(|a| lossy(a)).collect();
                self.sentinel_directives.push(SentinelDirective {
                    line: linenum,
                    text: lossy(line),
                    args,
                });
                Ok(())
            }
            _ => Err(LineError::Here(ConfigErrorKind::BadDirective)),
        }
    }

    /// Sets directive `index` from a config line.
    fn set(&mut self, index: usize, args: &[Vec<u8>]) -> Result<(), String> {
        let d = &DIRECTIVES[index];
        let current = &self.config.values[index];
        let mut new = value::parse(d, args, current, &self.cwd)?;
        if let (ConfigValue::Save(points), ConfigValue::Save(old)) = (&mut new, current) {
            if self.reading && self.save_loaded {
                let cleared = args.len() == 1 && args[0].is_empty();
                if !cleared {
                    let mut all = old.clone();
                    all.append(points);
                    *points = all;
                }
            }
            self.save_loaded |= self.reading;
        }
        if let Some(feature) = d.feature {
            if new != value::default_value(d, self.config.dir()) {
                let shown: Vec<String> = args.iter().map(|a| lossy(a)).collect();
                self.warnings.push(format!(
                    "{} '{}' has no effect: {feature} is not supported by this server yet",
                    d.name,
                    shown.join(" ")
                ));
            }
        }
        if let (super::directives::Kind::Special(Special::Dir), ConfigValue::Str(dir)) =
            (&d.kind, &new)
        {
            self.cwd = PathBuf::from(dir);
        }
        self.config.values[index] = new;
        Ok(())
    }

    fn include(&mut self, pattern: &str) -> Result<(), LineError> {
        let files = if pattern.contains(['*', '?', '[']) {
            expand_glob(&self.cwd, pattern)
        } else {
            vec![PathBuf::from(pattern)]
        };
        let mut text = Vec::new();
        for file in files {
            text.extend(self.read_file(&file).map_err(LineError::Nested)?);
        }
        self.load_text(&text).map_err(LineError::Nested)
    }

    /// Checks Redis makes when a text (file, include or options) has been read.
    fn after_text(&mut self) -> Result<(), ConfigError> {
        let logfile = self.config.get_str("logfile").unwrap_or("").to_owned();
        if !logfile.is_empty() {
            let opened = std::fs::OpenOptions::new()
                .append(true)
                .create(true)
                .open(self.cwd.join(&logfile));
            if let Err(e) = opened {
                return Err(ConfigError::global(ConfigErrorKind::LogFile(
                    value::strerror(&e),
                )));
            }
        }
        if self.config.get_bool("cluster-enabled") == Some(true)
            && self.config.replicaof().is_some()
        {
            return Err(ConfigError::global(ConfigErrorKind::ReplicaOfInClusterMode));
        }
        if self.module_configs {
            return Err(ConfigError::global(
                ConfigErrorKind::ModuleConfigWithoutModule,
            ));
        }
        self.config.clamp_hz();
        self.reading = false;
        Ok(())
    }
}

fn trim(mut s: &[u8]) -> &[u8] {
    while let [b' ' | b'\t' | b'\r' | b'\n', rest @ ..] = s {
        s = rest;
    }
    while let [rest @ .., b' ' | b'\t' | b'\r' | b'\n'] = s {
        s = rest;
    }
    s
}

/// Files matching a wildcard `include`, sorted; none is not an error.
fn expand_glob(cwd: &Path, pattern: &str) -> Vec<PathBuf> {
    let absolute = pattern.starts_with('/');
    let mut paths = vec![if absolute {
        PathBuf::from("/")
    } else {
        PathBuf::new()
    }];
    for part in pattern.split('/').filter(|p| !p.is_empty()) {
        let mut next = Vec::new();
        for base in &paths {
            if !part.contains(['*', '?', '[']) {
                next.push(base.join(part));
                continue;
            }
            let Ok(entries) = std::fs::read_dir(cwd.join(base)) else {
                continue;
            };
            let mut names: Vec<String> = entries
                .filter_map(|e| e.ok())
                .map(|e| e.file_name().to_string_lossy().into_owned())
                .filter(|n| (!n.starts_with('.') || part.starts_with('.')) && glob_match(part, n))
                .collect();
            names.sort();
            next.extend(names.into_iter().map(|n| base.join(n)));
        }
        paths = next;
    }
    paths.retain(|p| cwd.join(p).is_file());
    paths
}

fn glob_match(pattern: &str, name: &str) -> bool {
    crate::glob::glob_match(pattern.as_bytes(), name.as_bytes(), false)
}

/// Redis's `sdssplitargs`: splits a line into arguments, honouring `"..."` (with `\n`, `\xHH`
/// ... escapes) and `'...'` quoting. `None` for unbalanced quotes, or a closing quote not
/// followed by a space.
pub fn split_args(line: &[u8]) -> Option<Vec<Vec<u8>>> {
    let mut args = Vec::new();
    let mut i = 0;
    let at = |i: usize| line.get(i).copied().unwrap_or(0);
    loop {
        while at(i) != 0 && is_c_space(at(i)) {
            i += 1;
        }
        if at(i) == 0 {
            return Some(args);
        }
        let mut current = Vec::new();
        let (mut in_double, mut in_single) = (false, false);
        loop {
            let c = at(i);
            if in_double {
                if c == b'\\'
                    && at(i + 1) == b'x'
                    && at(i + 2).is_ascii_hexdigit()
                    && at(i + 3).is_ascii_hexdigit()
                {
                    current.push(hex(at(i + 2)) * 16 + hex(at(i + 3)));
                    i += 3;
                } else if c == b'\\' && at(i + 1) != 0 {
                    i += 1;
                    current.push(match at(i) {
                        b'n' => b'\n',
                        b'r' => b'\r',
                        b't' => b'\t',
                        b'b' => 8,
                        b'a' => 7,
                        other => other,
                    });
                } else if c == b'"' {
                    if at(i + 1) != 0 && !is_c_space(at(i + 1)) {
                        return None;
                    }
                    i += 1;
                    break;
                } else if c == 0 {
                    return None;
                } else {
                    current.push(c);
                }
            } else if in_single {
                if c == b'\\' && at(i + 1) == b'\'' {
                    i += 1;
                    current.push(b'\'');
                } else if c == b'\'' {
                    if at(i + 1) != 0 && !is_c_space(at(i + 1)) {
                        return None;
                    }
                    i += 1;
                    break;
                } else if c == 0 {
                    return None;
                } else {
                    current.push(c);
                }
            } else {
                match c {
                    b' ' | b'\n' | b'\r' | b'\t' | 0 => {
                        if c != 0 {
                            i += 1;
                        }
                        break;
                    }
                    b'"' => in_double = true,
                    b'\'' => in_single = true,
                    _ => current.push(c),
                }
            }
            i += 1;
        }
        args.push(current);
    }
}

fn is_c_space(c: u8) -> bool {
    matches!(c, b' ' | b'\t' | b'\n' | 0x0b | 0x0c | b'\r')
}

fn hex(c: u8) -> u8 {
    match c {
        b'0'..=b'9' => c - b'0',
        b'a'..=b'f' => c - b'a' + 10,
        _ => c - b'A' + 10,
    }
}

/// Redis's `sdscatrepr`: `arg` in double quotes with escapes, as `split_args` reads it back.
pub fn repr(arg: &[u8]) -> Vec<u8> {
    let mut out = vec![b'"'];
    for &c in arg {
        match c {
            b'\\' | b'"' => out.extend_from_slice(&[b'\\', c]),
            b'\n' => out.extend_from_slice(b"\\n"),
            b'\r' => out.extend_from_slice(b"\\r"),
            b'\t' => out.extend_from_slice(b"\\t"),
            7 => out.extend_from_slice(b"\\a"),
            8 => out.extend_from_slice(b"\\b"),
            c if c.is_ascii_graphic() || c == b' ' => out.push(c),
            c => out.extend_from_slice(format!("\\x{c:02x}").as_bytes()),
        }
    }
    out.push(b'"');
    out
}

/// Redis's `string2ll`: a canonical decimal `long long` (no `+`, no leading zeros, no spaces).
pub(super) fn string2ll(s: &[u8]) -> Option<i64> {
    if s.is_empty() || s.len() >= 21 {
        return None;
    }
    if s == b"0" {
        return Some(0);
    }
    let (negative, digits) = match s {
        [b'-', rest @ ..] => (true, rest),
        _ => (false, s),
    };
    match digits {
        [b'1'..=b'9', rest @ ..] if rest.iter().all(u8::is_ascii_digit) => {}
        _ => return None,
    }
    let v = digits.iter().try_fold(0u64, |v, d| {
        v.checked_mul(10)?.checked_add(u64::from(d - b'0'))
    })?;
    if negative {
        if v > 1 << 63 {
            None
        } else {
            Some((v as i64).wrapping_neg())
        }
    } else {
        i64::try_from(v).ok()
    }
}

/// Redis's `memtoull`: digits and an optional unit (`b`, `k`, `kb`, `m`, `mb`, `g`, `gb`, any
/// case). Like Redis, no digits reads as 0, too many digits saturate, and the product wraps.
pub(super) fn memtoull(s: &[u8]) -> Option<u64> {
    if s.first() == Some(&b'-') {
        return None;
    }
    let digits = s.iter().take_while(|c| c.is_ascii_digit()).count();
    let unit = s[digits..].to_ascii_lowercase();
    let mul: u64 = match unit.as_slice() {
        b"" | b"b" => 1,
        b"k" => 1000,
        b"kb" => 1024,
        b"m" => 1000 * 1000,
        b"mb" => 1024 * 1024,
        b"g" => 1000 * 1000 * 1000,
        b"gb" => 1024 * 1024 * 1024,
        _ => return None,
    };
    if digits >= 128 {
        return None;
    }
    let v = s[..digits].iter().fold(0u64, |v, d| {
        v.saturating_mul(10).saturating_add(u64::from(d - b'0'))
    });
    Some(v.wrapping_mul(mul))
}

/// C's `strtoll(s, &end, radix)`: returns the value, whether `*end == '\0'` (everything was
/// consumed; true for an empty string, as in C), and whether it overflowed.
pub(super) fn strtoll(s: &[u8], radix: u32) -> (i64, bool, bool) {
    let mut i = s.iter().take_while(|c| is_c_space(**c)).count();
    let negative = match s.get(i) {
        Some(b'-') => {
            i += 1;
            true
        }
        Some(b'+') => {
            i += 1;
            false
        }
        _ => false,
    };
    let digits = s[i..]
        .iter()
        .take_while(|c| char::from(**c).is_digit(radix))
        .count();
    if digits == 0 {
        return (0, s.is_empty(), false);
    }
    let mut overflow = false;
    let magnitude = s[i..i + digits].iter().fold(0u64, |v, c| {
        let d = u64::from(char::from(*c).to_digit(radix).unwrap_or(0));
        v.checked_mul(u64::from(radix))
            .and_then(|v| v.checked_add(d))
            .unwrap_or_else(|| {
                overflow = true;
                u64::MAX
            })
    });
    let value = if negative {
        if magnitude > 1 << 63 {
            overflow = true;
            i64::MIN
        } else {
            (magnitude as i64).wrapping_neg()
        }
    } else if magnitude > i64::MAX as u64 {
        overflow = true;
        i64::MAX
    } else {
        magnitude as i64
    };
    (value, i + digits == s.len(), overflow)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn split(s: &str) -> Option<Vec<String>> {
        split_args(s.as_bytes()).map(|v| v.iter().map(|a| lossy(a)).collect())
    }

    #[test]
    fn split_args_quoting() {
        assert_eq!(
            split("  port   6379 "),
            Some(vec!["port".into(), "6379".into()])
        );
        assert_eq!(
            split("a \"b c\" 'd e'"),
            Some(vec!["a".into(), "b c".into(), "d e".into()])
        );
        assert_eq!(split("\"\\x41\\n\\t\\\"\""), Some(vec!["A\n\t\"".into()]));
        assert_eq!(split("'it\\'s'"), Some(vec!["it's".into()]));
        assert_eq!(split("'a\\nb'"), Some(vec!["a\\nb".into()]));
        assert_eq!(split("save \"\""), Some(vec!["save".into(), String::new()]));
        assert_eq!(split("x\"y z\""), Some(vec!["xy z".into()]));
        assert_eq!(split("\"unbalanced"), None);
        assert_eq!(split("\"closed\"x"), None);
        assert_eq!(split("'closed'x"), None);
        assert_eq!(split(""), Some(vec![]));
    }

    #[test]
    fn repr_round_trips() {
        for arg in [
            &b"plain"[..],
            b"with space",
            b"q\"uo\\te",
            b"\n\r\t\x07\x08\x00\xff",
            b"",
        ] {
            let quoted = repr(arg);
            assert_eq!(split_args(&quoted), Some(vec![arg.to_vec()]));
        }
        assert_eq!(repr(b"a\x01"), b"\"a\\x01\"");
    }

    #[test]
    fn argv_becomes_config_lines() {
        let argv = |list: &[&str]| {
            let args: Vec<String> = list.iter().map(|s| (*s).to_owned()).collect();
            let parsed = ArgvConfig::parse(&args);
            (
                parsed.config_file,
                parsed.stdin,
                String::from_utf8(parsed.options).unwrap(),
            )
        };
        assert_eq!(
            argv(&["redis.conf", "--port", "1"]),
            (Some("redis.conf".into()), false, "port \"1\" ".into())
        );
        assert_eq!(
            argv(&["--save", "900 1", "--bind", "a", "b"]).2,
            "save \"900 1\" \nbind \"a\" \"b\" "
        );
        assert_eq!(argv(&["--save"]).2, "save \"\"");
        assert_eq!(argv(&["--save", "--port", "1"]).2, "save \"\"\nport \"1\" ");
        assert_eq!(argv(&["--port", "--save"]).2, "port \"--save\" ");
        assert_eq!(
            argv(&["--sentinel", "--port", "1"]).2,
            "sentinel \nport \"1\" "
        );
        assert_eq!(argv(&["--port 1", "--hz", "5"]).2, "port 1 \nhz \"5\" ");
        assert!(argv(&["-", "--port", "1"]).1);
        assert!(argv(&["--port", "1", "-"]).1);
        assert_eq!(
            argv(&["--port", "-", "--hz", "1"]),
            (None, false, "port \"-\" \nhz \"1\" ".into())
        );
    }

    #[test]
    fn string2ll_is_strict() {
        assert_eq!(string2ll(b"0"), Some(0));
        assert_eq!(string2ll(b"-9223372036854775808"), Some(i64::MIN));
        assert_eq!(string2ll(b"9223372036854775807"), Some(i64::MAX));
        for bad in [
            &b""[..],
            b"-",
            b"+1",
            b"01",
            b" 1",
            b"1 ",
            b"9223372036854775808",
            b"-0",
            b"1a",
        ] {
            assert_eq!(string2ll(bad), None, "{:?}", lossy(bad));
        }
    }

    #[test]
    fn memtoull_units() {
        assert_eq!(memtoull(b"1k"), Some(1000));
        assert_eq!(memtoull(b"1KB"), Some(1024));
        assert_eq!(memtoull(b"2mb"), Some(2 << 20));
        assert_eq!(memtoull(b"1G"), Some(1_000_000_000));
        assert_eq!(memtoull(b"1gB"), Some(1 << 30));
        assert_eq!(memtoull(b"7b"), Some(7));
        // Redis quirks: no digits is 0, overflow saturates.
        assert_eq!(memtoull(b""), Some(0));
        assert_eq!(memtoull(b"kb"), Some(0));
        assert_eq!(memtoull(b"99999999999999999999"), Some(u64::MAX));
        for bad in [&b"-1"[..], b"1.5gb", b" 1", b"1x", b"1 kb"] {
            assert_eq!(memtoull(bad), None, "{:?}", lossy(bad));
        }
    }

    #[test]
    fn strtoll_like_c() {
        assert_eq!(strtoll(b"42", 10), (42, true, false));
        assert_eq!(strtoll(b" +42", 10), (42, true, false));
        assert_eq!(strtoll(b"-42x", 10), (-42, false, false));
        assert_eq!(strtoll(b"", 10), (0, true, false));
        assert_eq!(strtoll(b" ", 10), (0, false, false));
        assert_eq!(strtoll(b"777", 8), (511, true, false));
        assert_eq!(strtoll(b"8", 8), (0, false, false));
        assert_eq!(strtoll(b"99999999999999999999", 10), (i64::MAX, true, true));
    }
}
