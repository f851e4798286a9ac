//! The multi-part AOF manifest of Redis 7.0 (`<appendfilename>.manifest` in `appenddirname`).
//!
//! One line per file, `file <name> seq <n> type <b|h|i>`: at most one base (`b`), then the
//! history files (`h`, left over from a rewrite and deleted later), then the incremental files
//! (`i`, in rising sequence). Names that need it are quoted as Redis's `sdscatrepr` quotes
//! them, and parsed back with the rules of `sdssplitargs`. [`Manifest::parse`] gives Redis's
//! own error for a bad manifest, with the line it was found on.

use std::fmt;

pub const BASE_SUFFIX: &str = ".base";
pub const INCR_SUFFIX: &str = ".incr";
pub const RDB_SUFFIX: &str = ".rdb";
pub const AOF_SUFFIX: &str = ".aof";
pub const MANIFEST_SUFFIX: &str = ".manifest";
pub const TEMP_PREFIX: &str = "temp-";
/// Longest manifest line Redis reads (longer lines are an error).
pub const MAX_LINE: usize = 1024;

/// The role of a file in the manifest.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FileType {
    Base,
    History,
    Incr,
}

impl FileType {
    pub fn letter(self) -> u8 {
        match self {
            FileType::Base => b'b',
            FileType::History => b'h',
            FileType::Incr => b'i',
        }
    }
}

/// One line of the manifest.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AofInfo {
    pub file_name: Vec<u8>,
    pub file_seq: i64,
    pub file_type: FileType,
}

/// The files of a multi-part AOF.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Manifest {
    pub base: Option<AofInfo>,
    pub incr: Vec<AofInfo>,
    pub history: Vec<AofInfo>,
    /// The sequence of the current base (0 before the first rewrite).
    pub curr_base_seq: i64,
    /// The sequence of the newest incr file.
    pub curr_incr_seq: i64,
}

/// Why a manifest was refused: Redis's message, and the offending line when there is one.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ManifestError {
    pub kind: ManifestErrorKind,
    /// 1-based line number and the line (trimmed as Redis prints it), when a line is at fault.
    pub line: Option<(usize, Vec<u8>)>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ManifestErrorKind {
    Empty,
    LineTooLong,
    InvalidFormat,
    FileIsPath,
    DuplicateBase,
    NonMonotonicSeq,
    UnknownType,
}

impl fmt::Display for ManifestErrorKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            ManifestErrorKind::Empty => "Found an empty AOF manifest",
            ManifestErrorKind::LineTooLong => "The AOF manifest file contains too long line",
            ManifestErrorKind::InvalidFormat => "Invalid AOF manifest file format",
            ManifestErrorKind::FileIsPath => "File can't be a path, just a filename",
            ManifestErrorKind::DuplicateBase => "Found duplicate base file information",
            ManifestErrorKind::NonMonotonicSeq => "Found a non-monotonic sequence number",
            ManifestErrorKind::UnknownType => "Unknown AOF file type",
        })
    }
}

impl fmt::Display for ManifestError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if let Some((n, line)) = &self.line {
            write!(f, "at line {n} ('{}'): ", String::from_utf8_lossy(line))?;
        }
        write!(f, "{}", self.kind)
    }
}

impl std::error::Error for ManifestError {}

/// `<prefix>.manifest`
pub fn manifest_name(prefix: &str) -> String {
    format!("{prefix}{MANIFEST_SUFFIX}")
}

/// `temp-<prefix>.manifest`, written then renamed over the manifest.
pub fn temp_manifest_name(prefix: &str) -> String {
    format!("{TEMP_PREFIX}{prefix}{MANIFEST_SUFFIX}")
}

/// `<prefix>.<seq>.base.rdb` (with an RDB preamble) or `<prefix>.<seq>.base.aof`.
pub fn base_name(prefix: &str, seq: i64, rdb: bool) -> String {
    let fmt = if rdb { RDB_SUFFIX } else { AOF_SUFFIX };
    format!("{prefix}.{seq}{BASE_SUFFIX}{fmt}")
}

/// `<prefix>.<seq>.incr.aof`
pub fn incr_name(prefix: &str, seq: i64) -> String {
    format!("{prefix}.{seq}{INCR_SUFFIX}{AOF_SUFFIX}")
}

/// `temp-<prefix>.incr`: the incr file opened while a rewrite runs with AOF off.
pub fn temp_incr_name(prefix: &str) -> String {
    format!("{TEMP_PREFIX}{prefix}{INCR_SUFFIX}")
}

/// C's `isspace` in the C locale.
fn is_space(b: u8) -> bool {
    matches!(b, b' ' | b'\t' | b'\n' | b'\r' | 0x0b | 0x0c)
}

fn is_print(b: u8) -> bool {
    (0x20..0x7f).contains(&b)
}

/// Whether a name must be quoted (`sdsneedsrepr`).
pub fn needs_repr(s: &[u8]) -> bool {
    s.iter().any(|&b| {
        matches!(b, b'\\' | b'"' | b'\n' | b'\r' | b'\t' | 0x07 | 0x08)
            || !is_print(b)
            || is_space(b)
    })
}

/// Appends `s` quoted as `sdscatrepr` quotes it.
pub fn push_repr(out: &mut Vec<u8>, s: &[u8]) {
    out.push(b'"');
    for &b in s {
        match b {
            b'\\' | b'"' => out.extend_from_slice(&[b'\\', b]),
            b'\n' => out.extend_from_slice(b"\\n"),
            b'\r' => out.extend_from_slice(b"\\r"),
            b'\t' => out.extend_from_slice(b"\\t"),
            0x07 => out.extend_from_slice(b"\\a"),
            0x08 => out.extend_from_slice(b"\\b"),
            b if is_print(b) => out.push(b),
            b => out.extend_from_slice(format!("\\x{b:02x}").as_bytes()),
        }
    }
    out.push(b'"');
}

fn hex_val(b: u8) -> Option<u8> {
    (b as char).to_digit(16).and_then(|d| u8::try_from(d).ok())
}

/// Splits a line into arguments with the quoting rules of `sdssplitargs`; `None` on
/// unbalanced quotes or a closing quote followed by something other than a space. The line
/// ends at its first NUL, as a C string does.
pub fn split_args(line: &[u8]) -> Option<Vec<Vec<u8>>> {
    let line = match line.iter().position(|&b| b == 0) {
        Some(n) => &line[..n],
        None => line,
    };
    let at = |i: usize| line.get(i).copied().unwrap_or(0);
    let mut out = Vec::new();
    let mut p = 0;
    loop {
        while p < line.len() && is_space(line[p]) {
            p += 1;
        }
        if p >= line.len() {
            return Some(out);
        }
        let mut cur = Vec::new();
        let (mut inq, mut insq, mut done) = (false, false, false);
        while !done {
            let c = at(p);
            if inq {
                if c == b'\\' && at(p + 1) == b'x' {
                    if let (Some(h), Some(l)) = (hex_val(at(p + 2)), hex_val(at(p + 3))) {
                        cur.push(h * 16 + l);
                        p += 3;
                    } else {
                        p += 1;
                        cur.push(b'x');
                    }
                } else if c == b'\\' && at(p + 1) != 0 {
                    p += 1;
                    cur.push(match at(p) {
                        b'n' => b'\n',
                        b'r' => b'\r',
                        b't' => b'\t',
                        b'b' => 0x08,
                        b'a' => 0x07,
                        other => other,
                    });
                } else if c == b'"' {
                    if at(p + 1) != 0 && !is_space(at(p + 1)) {
                        return None;
                    }
                    done = true;
                } else if c == 0 {
                    return None;
                } else {
                    cur.push(c);
                }
            } else if insq {
                if c == b'\\' && at(p + 1) == b'\'' {
                    p += 1;
                    cur.push(b'\'');
                } else if c == b'\'' {
                    if at(p + 1) != 0 && !is_space(at(p + 1)) {
                        return None;
                    }
                    done = true;
                } else if c == 0 {
                    return None;
                } else {
                    cur.push(c);
                }
            } else {
                match c {
                    b' ' | b'\n' | b'\r' | b'\t' | 0 => done = true,
                    b'"' => inq = true,
                    b'\'' => insq = true,
                    _ => cur.push(c),
                }
            }
            if at(p) != 0 {
                p += 1;
            }
        }
        out.push(cur);
    }
}

/// C's `atoll`: optional spaces and sign, then digits; anything else ends the number.
fn atoll(s: &[u8]) -> i64 {
    let mut i = 0;
    while i < s.len() && is_space(s[i]) {
        i += 1;
    }
    let neg = match s.get(i) {
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
    let mut n: i64 = 0;
    while let Some(d) = s.get(i).filter(|b| b.is_ascii_digit()) {
        let d = i64::from(d - b'0');
        n = if neg {
            n.saturating_mul(10).saturating_sub(d)
        } else {
            n.saturating_mul(10).saturating_add(d)
        };
        i += 1;
    }
    n
}

/// `sdstrim(line, " \t\r\n")`.
fn trim(s: &[u8]) -> &[u8] {
    let keep = |b: &u8| !matches!(b, b' ' | b'\t' | b'\r' | b'\n');
    let start = s.iter().position(keep).unwrap_or(s.len());
    let end = s.iter().rposition(keep).map_or(start, |e| e + 1);
    &s[start..end]
}

impl Manifest {
    pub fn new() -> Manifest {
        Manifest::default()
    }

    /// Parses a manifest file's contents as `aofLoadManifestFromFile` does.
    pub fn parse(data: &[u8]) -> Result<Manifest, ManifestError> {
        let mut m = Manifest::new();
        let mut max_seq = 0i64;
        let mut linenum = 0usize;
        let mut rest = data;
        let fail = |kind, line: Option<(usize, &[u8])>| ManifestError {
            kind,
            line: line.map(|(n, l)| (n, l.to_vec())),
        };
        while !rest.is_empty() {
            // fgets reads at most MAX_LINE bytes at a time.
            let take = match rest[..rest.len().min(MAX_LINE)]
                .iter()
                .position(|&b| b == b'\n')
            {
                Some(nl) => nl + 1,
                None => rest.len().min(MAX_LINE),
            };
            let raw = &rest[..take];
            rest = &rest[take..];
            linenum += 1;
            if raw[0] == b'#' {
                continue;
            }
            if raw.last() != Some(&b'\n') {
                return Err(fail(ManifestErrorKind::LineTooLong, None));
            }
            // sdsnew stops at a NUL byte.
            let raw = match raw.iter().position(|&b| b == 0) {
                Some(n) => &raw[..n],
                None => raw,
            };
            let line = trim(raw);
            let at = Some((linenum, line));
            if line.is_empty() {
                return Err(fail(ManifestErrorKind::InvalidFormat, at));
            }
            let args = match split_args(line) {
                Some(a) if a.len() >= 6 && a.len() % 2 == 0 => a,
                _ => return Err(fail(ManifestErrorKind::InvalidFormat, at)),
            };
            let (mut name, mut seq, mut ty) = (None, 0i64, 0u8);
            for pair in args.chunks(2) {
                let (k, v) = (&pair[0], &pair[1]);
                if k.eq_ignore_ascii_case(b"file") {
                    if v.contains(&b'/') || v.contains(&b'\\') {
                        return Err(fail(ManifestErrorKind::FileIsPath, at));
                    }
                    name = Some(v.clone());
                } else if k.eq_ignore_ascii_case(b"seq") {
                    seq = atoll(v);
                } else if k.eq_ignore_ascii_case(b"type") {
                    ty = v.first().copied().unwrap_or(0);
                }
            }
            let Some(file_name) = name.filter(|_| seq != 0 && ty != 0) else {
                return Err(fail(ManifestErrorKind::InvalidFormat, at));
            };
            let mut info = AofInfo {
                file_name,
                file_seq: seq,
                file_type: FileType::Base,
            };
            match ty {
                b'b' => {
                    if m.base.is_some() {
                        return Err(fail(ManifestErrorKind::DuplicateBase, at));
                    }
                    m.curr_base_seq = seq;
                    m.base = Some(info);
                }
                b'h' => {
                    info.file_type = FileType::History;
                    m.history.push(info);
                }
                b'i' => {
                    if seq <= max_seq {
                        return Err(fail(ManifestErrorKind::NonMonotonicSeq, at));
                    }
                    info.file_type = FileType::Incr;
                    m.incr.push(info);
                    m.curr_incr_seq = seq;
                    max_seq = seq;
                }
                _ => return Err(fail(ManifestErrorKind::UnknownType, at)),
            }
        }
        if linenum == 0 {
            return Err(fail(ManifestErrorKind::Empty, None));
        }
        Ok(m)
    }

    /// The manifest as Redis writes it: base, then history, then incr files.
    pub fn to_bytes(&self) -> Vec<u8> {
        let mut out = Vec::new();
        for info in self.base.iter().chain(&self.history).chain(&self.incr) {
            out.extend_from_slice(b"file ");
            if needs_repr(&info.file_name) {
                push_repr(&mut out, &info.file_name);
            } else {
                out.extend_from_slice(&info.file_name);
            }
            out.extend_from_slice(format!(" seq {} type ", info.file_seq).as_bytes());
            out.push(info.file_type.letter());
            out.push(b'\n');
        }
        out
    }

    /// Starts a new base file (`getNewBaseFileNameAndMarkPreAsHistory`): the old base, if
    /// any, becomes the first history file. Returns the new base's name.
    pub fn new_base(&mut self, prefix: &str, rdb: bool) -> String {
        if let Some(mut old) = self.base.take() {
            old.file_type = FileType::History;
            self.history.insert(0, old);
        }
        self.curr_base_seq += 1;
        let name = base_name(prefix, self.curr_base_seq, rdb);
        self.base = Some(AofInfo {
            file_name: name.clone().into_bytes(),
            file_seq: self.curr_base_seq,
            file_type: FileType::Base,
        });
        name
    }

    /// Adds a new incr file at the end (`getNewIncrAofName`) and returns its name.
    pub fn new_incr(&mut self, prefix: &str) -> String {
        self.curr_incr_seq += 1;
        let name = incr_name(prefix, self.curr_incr_seq);
        self.incr.push(AofInfo {
            file_name: name.clone().into_bytes(),
            file_seq: self.curr_incr_seq,
            file_type: FileType::Incr,
        });
        name
    }

    /// After a rewrite, the incr files it covered become history (`markRewrittenIncrAofAsHistory`).
    /// With `keep_last` (AOF is on), the newest incr file stays: it is the one being written.
    pub fn mark_rewritten_incr_as_history(&mut self, keep_last: bool) {
        let keep = usize::from(keep_last && !self.incr.is_empty());
        let moved: Vec<AofInfo> = self.incr.drain(..self.incr.len() - keep).collect();
        // Redis puts them at the head of the history, oldest first.
        self.history.splice(
            0..0,
            moved.into_iter().map(|mut i| {
                i.file_type = FileType::History;
                i
            }),
        );
    }

    /// The newest incr file's name, if any.
    pub fn last_incr(&self) -> Option<&[u8]> {
        self.incr.last().map(|i| i.file_name.as_slice())
    }

    /// Forgets the history files (after deleting them) and returns their names.
    pub fn take_history(&mut self) -> Vec<Vec<u8>> {
        self.history.drain(..).map(|i| i.file_name).collect()
    }

    /// Base then incr files: what loading reads, in order.
    pub fn files_to_load(&self) -> impl Iterator<Item = &AofInfo> {
        self.base.iter().chain(&self.incr)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn kind(data: &[u8]) -> ManifestErrorKind {
        Manifest::parse(data).unwrap_err().kind
    }

    #[test]
    fn parses_what_redis_writes() {
        let text = b"file appendonly.aof.2.base.rdb seq 2 type b\n\
            file appendonly.aof.1.incr.aof seq 1 type h\n\
            file appendonly.aof.3.incr.aof seq 3 type i\n\
            file appendonly.aof.4.incr.aof seq 4 type i\n";
        let m = Manifest::parse(text).unwrap();
        assert_eq!(
            m.base.as_ref().unwrap().file_name,
            b"appendonly.aof.2.base.rdb"
        );
        assert_eq!(m.history.len(), 1);
        assert_eq!(m.incr.len(), 2);
        assert_eq!((m.curr_base_seq, m.curr_incr_seq), (2, 4));
        assert_eq!(m.to_bytes(), text.to_vec());
        assert_eq!(m.last_incr(), Some(&b"appendonly.aof.4.incr.aof"[..]));
    }

    #[test]
    fn names_with_spaces_are_quoted_and_read_back() {
        let mut m = Manifest::new();
        m.new_base("my file\t\"x\"\x01", true);
        m.new_incr("my file\t\"x\"\x01");
        let text = m.to_bytes();
        assert_eq!(
            text,
            b"file \"my file\\t\\\"x\\\"\\x01.1.base.rdb\" seq 1 type b\n\
              file \"my file\\t\\\"x\\\"\\x01.1.incr.aof\" seq 1 type i\n"
                .to_vec()
        );
        assert_eq!(Manifest::parse(&text).unwrap(), m);
    }

    #[test]
    fn split_args_follows_sdssplitargs() {
        assert_eq!(
            split_args(b"  a  'b c' \"\\x41\\n\" ").unwrap(),
            vec![b"a".to_vec(), b"b c".to_vec(), b"A\n".to_vec()]
        );
        assert_eq!(split_args(b"x'y z'").unwrap(), vec![b"xy z".to_vec()]);
        assert_eq!(split_args(b"'it\\'s'").unwrap(), vec![b"it's".to_vec()]);
        assert_eq!(split_args(b"\"a\"b"), None);
        assert_eq!(split_args(b"\"abc"), None);
        assert_eq!(split_args(b"'abc"), None);
        assert_eq!(split_args(b"").unwrap(), Vec::<Vec<u8>>::new());
    }

    #[test]
    fn errors_are_redis_errors() {
        assert_eq!(kind(b""), ManifestErrorKind::Empty);
        // A comment counts as a line: the manifest is valid and lists no file.
        assert_eq!(
            Manifest::parse(b"# only a comment\n").unwrap(),
            Manifest::new()
        );
        assert_eq!(kind(b"\n"), ManifestErrorKind::InvalidFormat);
        assert_eq!(kind(b"file a seq 1\n"), ManifestErrorKind::InvalidFormat);
        assert_eq!(
            kind(b"file a seq 0 type b\n"),
            ManifestErrorKind::InvalidFormat
        );
        assert_eq!(kind(b"file a seq 1 type b"), ManifestErrorKind::LineTooLong);
        assert_eq!(
            kind(b"file a/b seq 1 type b\n"),
            ManifestErrorKind::FileIsPath
        );
        assert_eq!(
            kind(b"file a seq 1 type b\nfile b seq 2 type b\n"),
            ManifestErrorKind::DuplicateBase
        );
        assert_eq!(
            kind(b"file a seq 2 type i\nfile b seq 2 type i\n"),
            ManifestErrorKind::NonMonotonicSeq
        );
        assert_eq!(
            kind(b"file a seq 1 type x\n"),
            ManifestErrorKind::UnknownType
        );
        let long = [
            b"file ".to_vec(),
            vec![b'a'; 1100],
            b" seq 1 type b\n".to_vec(),
        ]
        .concat();
        assert_eq!(kind(&long), ManifestErrorKind::LineTooLong);
        let e = Manifest::parse(b"file a seq 1 type b\n  file b  \n").unwrap_err();
        assert_eq!(e.line, Some((2, b"file b".to_vec())));
        assert_eq!(
            e.to_string(),
            "at line 2 ('file b'): Invalid AOF manifest file format"
        );
    }

    #[test]
    fn rewrite_moves_files_to_history() {
        let mut m = Manifest::new();
        assert_eq!(
            m.new_base("appendonly.aof", true),
            "appendonly.aof.1.base.rdb"
        );
        assert_eq!(m.new_incr("appendonly.aof"), "appendonly.aof.1.incr.aof");
        // A rewrite: a new incr file opens, then the new base lands.
        m.new_incr("appendonly.aof");
        m.new_base("appendonly.aof", false);
        m.mark_rewritten_incr_as_history(true);
        // Redis's order: the rewritten incr files go ahead of the old base in the history.
        assert_eq!(
            String::from_utf8(m.to_bytes()).unwrap(),
            "file appendonly.aof.2.base.aof seq 2 type b\n\
             file appendonly.aof.1.incr.aof seq 1 type h\n\
             file appendonly.aof.1.base.rdb seq 1 type h\n\
             file appendonly.aof.2.incr.aof seq 2 type i\n"
        );
        assert_eq!(m.take_history().len(), 2);
        assert_eq!(m.files_to_load().count(), 2);
        m.mark_rewritten_incr_as_history(false);
        assert!(m.incr.is_empty());
    }

    #[test]
    fn arbitrary_bytes_never_panic() {
        let sample = b"file \"a b\" seq 1 type b\nfile x seq 2 type i\n";
        for i in 0..sample.len() {
            for bit in 0..8 {
                let mut d = sample.to_vec();
                d[i] ^= 1 << bit;
                let _ = Manifest::parse(&d);
                let _ = Manifest::parse(&d[..i]);
            }
        }
    }
}
