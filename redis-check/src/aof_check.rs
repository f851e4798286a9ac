//! `redis-check-aof`: Redis 7.0.15's checks, messages and exit codes for old-style AOFs,
//! RDB-preamble AOFs and multi-part AOFs (a manifest, or a directory holding one).
//!
//! Redis's checker reads with `fgets`/`fread` and `strtol`, and its messages show what those
//! saw (`Expected \r\n, got: 0d00`, line counts, `ok_up_to`), so the scan here follows those
//! reads byte for byte rather than using [`common::aof::reader`], whose stricter rules are
//! the loader's. Manifests are parsed with [`common::aof::manifest`].

use std::fs::{self, OpenOptions};
use std::io::{self, BufRead, Write};
use std::path::{Path, PathBuf};

use common::aof::manifest::{Manifest, ManifestErrorKind};

use crate::rdb_check::{self, Outcome};

/// `exit(1)` in Redis: the messages are printed, the process must fail.
#[derive(Debug)]
pub struct Abort;

/// An I/O failure writing our own output, or an abort.
#[derive(Debug)]
pub enum Stop {
    Abort,
    Io(io::Error),
}

impl From<io::Error> for Stop {
    fn from(e: io::Error) -> Stop {
        Stop::Io(e)
    }
}

type Res<T> = Result<T, Stop>;

/// How one file's check ended (`AOF_CHECK_*`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Status {
    Ok,
    Empty,
    Truncated,
    TimestampTruncated,
}

/// What `--fix` does when it asks `Continue? [y/N]:`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Confirm {
    /// Read the answer from standard input (Redis's behaviour).
    Ask,
    /// `-y`: answer yes.
    Yes,
}

/// The options of one run.
#[derive(Debug, Clone)]
pub struct Options {
    pub fix: bool,
    pub confirm: Confirm,
    /// `--truncate-to-timestamp`; 0 is off, as in Redis.
    pub to_timestamp: i64,
    pub now_ms: i64,
}

/// An `strerror` text from an I/O error (Rust appends ` (os error N)`).
pub fn strerror(e: &io::Error) -> String {
    let s = e.to_string();
    match s.rfind(" (os error ") {
        Some(n) => s[..n].to_string(),
        None => s,
    }
}

/// A byte cursor standing in for the `FILE *` Redis reads with.
struct Cursor<'a> {
    data: &'a [u8],
    pos: usize,
    eof: bool,
}

impl Cursor<'_> {
    /// `fgets(buf, n)`: up to `n - 1` bytes, stopping after a newline; `None` at end of input.
    fn fgets(&mut self, n: usize) -> Option<&[u8]> {
        let rest = &self.data[self.pos..];
        if rest.is_empty() {
            self.eof = true;
            return None;
        }
        let max = n.saturating_sub(1).min(rest.len());
        let take = match rest[..max].iter().position(|&b| b == b'\n') {
            Some(nl) => nl + 1,
            None => {
                if max == rest.len() {
                    self.eof = true;
                }
                max
            }
        };
        self.pos += take;
        Some(&rest[..take])
    }

    /// `fread(len)`: what is there, up to `len` bytes.
    fn fread(&mut self, len: usize) -> &[u8] {
        let rest = &self.data[self.pos..];
        let take = len.min(rest.len());
        if take < len {
            self.eof = true;
        }
        self.pos += take;
        &rest[..take]
    }
}

/// Redis's per-run globals: the error text, its offset, and the line count (which runs on
/// across the files of a multi-part AOF).
struct Checker<'o> {
    out: &'o mut dyn Write,
    opts: Options,
    error: Vec<u8>,
    line: i64,
    /// Where the last line or string read started (`epos`): errors name it.
    epos: usize,
    /// The stack buffer `readLong` reads lines into: a C string, so after a short line the
    /// message may show bytes left over from an earlier line.
    line_buf: [u8; 128],
}

fn c_char_hex(b: u8) -> String {
    // `%02x` of a (signed) `char`: bytes from 0x80 print sign-extended.
    if b >= 0x80 {
        format!("ffffff{b:02x}")
    } else {
        format!("{b:02x}")
    }
}

/// C's `strtol(s, &end, 10)` on a NUL-terminated buffer: the value (clamped) and the index
/// where parsing stopped.
fn strtol(buf: &[u8], start: usize) -> (i64, usize) {
    let at = |i: usize| buf.get(i).copied().unwrap_or(0);
    let mut i = start;
    while matches!(at(i), b' ' | b'\t' | b'\n' | b'\r' | 0x0b | 0x0c) {
        i += 1;
    }
    let neg = at(i) == b'-';
    if matches!(at(i), b'-' | b'+') {
        i += 1;
    }
    if !at(i).is_ascii_digit() {
        return (0, start);
    }
    let mut n: i64 = 0;
    while at(i).is_ascii_digit() {
        let d = i64::from(at(i) - b'0');
        n = if neg {
            n.saturating_mul(10).saturating_sub(d)
        } else {
            n.saturating_mul(10).saturating_add(d)
        };
        i += 1;
    }
    (n, i)
}

impl Checker<'_> {
    fn set_error(&mut self, msg: &[u8]) {
        let mut e = format!("0x{:16x}: ", self.epos).into_bytes();
        e.extend_from_slice(msg);
        self.error = e;
    }

    /// `consumeNewline` on the two bytes at `two` (a C string: a NUL ends the comparison).
    fn consume_newline(&mut self, two: [u8; 2]) -> bool {
        if two != *b"\r\n" {
            let msg = format!(
                "Expected \\r\\n, got: {}{}",
                c_char_hex(two[0]),
                c_char_hex(two[1])
            );
            self.set_error(msg.as_bytes());
            return false;
        }
        self.line += 1;
        true
    }

    /// `readLong`: a `<prefix><number>\r\n` line.
    fn read_long(&mut self, f: &mut Cursor<'_>, prefix: u8) -> Option<i64> {
        self.epos = f.pos;
        let got = f.fgets(128)?;
        let n = got.len();
        self.line_buf[..n].copy_from_slice(got);
        self.line_buf[n] = 0;
        let buf = self.line_buf;
        if buf[0] != prefix {
            let mut msg = b"Expected prefix '".to_vec();
            msg.push(prefix);
            msg.extend_from_slice(b"', got: '");
            // `%c` of a NUL ends the C string the message is copied through.
            if buf[0] != 0 {
                msg.push(buf[0]);
                msg.push(b'\'');
            }
            self.set_error(&msg);
            return None;
        }
        let (value, end) = strtol(&buf[..=n], 1);
        let two = [buf[end], buf.get(end + 1).copied().unwrap_or(0)];
        self.consume_newline(two).then_some(value)
    }

    /// `readString`: a `$len` line, then `len` bytes and `\r\n`; returns the bytes.
    fn read_string<'a>(&mut self, f: &mut Cursor<'a>) -> Option<&'a [u8]> {
        let len = self.read_long(f, b'$')?;
        if !(0..=i64::MAX - 2).contains(&len) {
            let msg = format!(
                "Expected to read string of {len} bytes, which is not in the suitable range"
            );
            self.set_error(msg.as_bytes());
            return None;
        }
        let want = len + 2;
        self.epos = f.pos;
        let data = f.data;
        let start = f.pos;
        let got = f.fread(usize::try_from(want).unwrap_or(usize::MAX)).len();
        if i64::try_from(got).ok() != Some(want) {
            let msg = format!("Expected to read {want} bytes, got {got} bytes");
            self.set_error(msg.as_bytes());
            return None;
        }
        let s = &data[start..start + got];
        let two = [s[got - 2], s[got - 1]];
        if !self.consume_newline(two) {
            return None;
        }
        Some(&s[..got - 2])
    }

    /// `processRESP`: one command, tracking MULTI/EXEC nesting.
    fn process_resp(&mut self, f: &mut Cursor<'_>, path: &[u8], multi: &mut i64) -> bool {
        let Some(argc) = self.read_long(f, b'*') else {
            return false;
        };
        let mut i = 0;
        while i < argc {
            let Some(arg) = self.read_string(f) else {
                return false;
            };
            if i == 0 {
                let name = match arg.iter().position(|&b| b == 0) {
                    Some(n) => &arg[..n],
                    None => arg,
                };
                if name.eq_ignore_ascii_case(b"multi") {
                    let was = *multi;
                    *multi += 1;
                    if was != 0 {
                        let mut msg = b"Unexpected MULTI in AOF ".to_vec();
                        msg.extend_from_slice(path);
                        self.set_error(&msg);
                        return false;
                    }
                } else if name.eq_ignore_ascii_case(b"exec") {
                    *multi -= 1;
                    if *multi != 0 {
                        let mut msg = b"Unexpected EXEC in AOF ".to_vec();
                        msg.extend_from_slice(path);
                        self.set_error(&msg);
                        return false;
                    }
                }
            }
            i += 1;
        }
        true
    }

    /// `processAnnotations`: `Ok(false)` when the file was cut at a `#TS:` past the limit.
    fn process_annotation(
        &mut self,
        f: &mut Cursor<'_>,
        path: &Path,
        last_file: bool,
    ) -> Res<bool> {
        let epos = f.pos;
        self.epos = epos;
        let Some(line) = f.fgets(1024) else {
            writeln!(
                self.out,
                "Failed to read annotations from AOF {}, aborting...",
                path.display()
            )?;
            return Err(Stop::Abort);
        };
        let to = self.opts.to_timestamp;
        if to == 0 || !line.starts_with(b"#TS:") {
            return Ok(true);
        }
        let mut buf = line.to_vec();
        buf.push(0);
        let (ts, end) = strtol(&buf, 4);
        let overflow = ts == i64::MAX || ts == i64::MIN;
        if overflow || buf[end] != b'\r' {
            writeln!(self.out, "Invalid timestamp annotation")?;
            return Err(Stop::Abort);
        }
        if ts <= to {
            return Ok(true);
        }
        if epos == 0 {
            writeln!(
                self.out,
                "AOF {} has nothing before timestamp {to}, aborting...",
                path.display()
            )?;
            return Err(Stop::Abort);
        }
        if !last_file {
            writeln!(
                self.out,
                "Failed to truncate AOF {} to timestamp {to} to offset {epos} because it is not the last file.",
                path.display()
            )?;
            writeln!(
                self.out,
                "If you insist, please delete all files after this file according to the manifest file and delete the corresponding records in manifest file manually. Then re-run redis-check-aof."
            )?;
            return Err(Stop::Abort);
        }
        if truncate(path, epos).is_err() {
            writeln!(
                self.out,
                "Failed to truncate AOF {} to timestamp {to}",
                path.display()
            )?;
            return Err(Stop::Abort);
        }
        Ok(false)
    }

    /// `checkSingleAof`.
    fn check_single(
        &mut self,
        name: &str,
        path: &Path,
        last_file: bool,
        preamble: bool,
    ) -> Res<Status> {
        // Redis opens the file read-write ("r+").
        if let Err(e) = OpenOptions::new().read(true).write(true).open(path) {
            writeln!(
                self.out,
                "Cannot open file {}: {}, aborting...",
                path.display(),
                strerror(&e)
            )?;
            return Err(Stop::Abort);
        }
        let data = match fs::read(path) {
            Ok(d) => d,
            Err(_) => {
                writeln!(self.out, "Cannot stat file: {name}, aborting...")?;
                return Err(Stop::Abort);
            }
        };
        let size = data.len();
        if size == 0 {
            return Ok(Status::Empty);
        }
        let mut f = Cursor {
            data: &data,
            pos: 0,
            eof: false,
        };
        if preamble {
            let outcome = rdb_check::check(
                &data,
                name.as_bytes(),
                self.opts.now_ms,
                &mut *self.out,
                &mut |_| Ok(()),
            )?;
            match outcome {
                Outcome::Ok { end } => {
                    writeln!(self.out, "RDB preamble is OK, proceeding with AOF tail...")?;
                    f.pos = end;
                }
                Outcome::Error => {
                    writeln!(self.out, "RDB preamble of AOF file is not sane, aborting.")?;
                    return Err(Stop::Abort);
                }
            }
        }
        let path_bytes = path.as_os_str().as_encoded_bytes().to_vec();
        let mut multi = 0i64;
        let mut pos = 0usize;
        loop {
            if multi == 0 {
                pos = f.pos;
            }
            let Some(&first) = f.data.get(f.pos) else {
                f.eof = true;
                break;
            };
            // Redis peeks one byte and seeks back, which clears the EOF flag.
            f.eof = false;
            if first == b'#' {
                if !self.process_annotation(&mut f, path, last_file)? {
                    return Ok(Status::TimestampTruncated);
                }
            } else if first == b'*' {
                if !self.process_resp(&mut f, &path_bytes, &mut multi) {
                    break;
                }
            } else {
                writeln!(self.out, "AOF {name} format error")?;
                break;
            }
        }
        if f.eof && multi != 0 && self.error.is_empty() {
            self.set_error(b"Reached EOF before reading EXEC for MULTI");
        }
        if !self.error.is_empty() {
            self.out.write_all(&self.error)?;
            self.out.write_all(b"\n")?;
        }
        let diff = size - pos;
        let to = self.opts.to_timestamp;
        if diff == 0 && to != 0 {
            writeln!(self.out, "Truncate nothing in AOF {name} to timestamp {to}")?;
            return Ok(Status::Ok);
        }
        writeln!(
            self.out,
            "AOF analyzed: filename={name}, size={size}, ok_up_to={pos}, ok_up_to_line={}, diff={diff}",
            self.line
        )?;
        if diff == 0 {
            return Ok(Status::Ok);
        }
        if !self.opts.fix {
            writeln!(
                self.out,
                "AOF {name} is not valid. Use the --fix option to try fixing it."
            )?;
            return Err(Stop::Abort);
        }
        if !last_file {
            writeln!(
                self.out,
                "Failed to truncate AOF {name} because it is not the last file"
            )?;
            return Err(Stop::Abort);
        }
        writeln!(
            self.out,
            "This will shrink the AOF {name} from {size} bytes, with {diff} bytes, to {pos} bytes"
        )?;
        write!(self.out, "Continue? [y/N]: ")?;
        self.out.flush()?;
        let yes = match self.opts.confirm {
            Confirm::Yes => true,
            Confirm::Ask => {
                let mut answer = Vec::new();
                let _ = io::stdin().lock().read_until(b'\n', &mut answer);
                answer
                    .first()
                    .is_some_and(|b| b.eq_ignore_ascii_case(&b'y'))
            }
        };
        if !yes {
            writeln!(self.out, "Aborting...")?;
            return Err(Stop::Abort);
        }
        if truncate(path, pos).is_err() {
            writeln!(self.out, "Failed to truncate AOF {name}")?;
            return Err(Stop::Abort);
        }
        Ok(Status::Truncated)
    }

    fn report(&mut self, kind: &str, name: &str, status: Status) -> io::Result<()> {
        let to = self.opts.to_timestamp;
        match status {
            Status::Ok => writeln!(self.out, "{kind}{name} is valid"),
            Status::Empty => writeln!(self.out, "{kind}{name} is empty"),
            Status::TimestampTruncated => writeln!(
                self.out,
                "Successfully truncated AOF {name} to timestamp {to}"
            ),
            Status::Truncated => writeln!(self.out, "Successfully truncated AOF {name}"),
        }
    }
}

fn truncate(path: &Path, len: usize) -> io::Result<()> {
    let f = OpenOptions::new().write(true).open(path)?;
    f.set_len(u64::try_from(len).unwrap_or(u64::MAX))
}

/// `fileIsRDB`: at least 8 bytes, starting with `REDIS`.
fn file_is_rdb(out: &mut dyn Write, path: &Path) -> Res<bool> {
    match fs::read(path) {
        Ok(d) => Ok(d.len() >= 8 && d.starts_with(b"REDIS")),
        Err(e) => {
            writeln!(out, "Cannot open file {}: {}", path.display(), strerror(&e))?;
            Err(Stop::Abort)
        }
    }
}

/// `fileIsManifest`: some line (in 1024-byte `fgets` pieces) that is not a comment starts
/// with `file`.
fn file_is_manifest(out: &mut dyn Write, path: &Path) -> Res<bool> {
    let data = match fs::read(path) {
        Ok(d) => d,
        Err(e) if e.kind() == io::ErrorKind::IsADirectory => {
            writeln!(out, "Cannot read file: {}", path.display())?;
            return Err(Stop::Abort);
        }
        Err(e) => {
            writeln!(out, "Cannot open file {}: {}", path.display(), strerror(&e))?;
            return Err(Stop::Abort);
        }
    };
    let mut f = Cursor {
        data: &data,
        pos: 0,
        eof: false,
    };
    let mut found = false;
    while let Some(piece) = f.fgets(1025) {
        if piece[0] != b'#' && piece.starts_with(b"file") {
            found = true;
        }
    }
    Ok(found)
}

/// A `serverLog` line as the checker prints it (`pid:C date # message`).
fn server_log(out: &mut dyn Write, msg: &str) -> io::Result<()> {
    writeln!(
        out,
        "{}:C {} # {msg}",
        std::process::id(),
        crate::log_time()
    )
}

/// Prints Redis's manifest-error block and aborts.
fn manifest_failure(out: &mut dyn Write, line: Option<(usize, Vec<u8>)>, err: &str) -> Res<()> {
    server_log(out, "\n*** FATAL AOF MANIFEST FILE ERROR ***\n")?;
    if let Some((n, text)) = line {
        server_log(out, &format!("Reading the manifest file, at line {n}\n"))?;
        server_log(out, &format!(">>> '{}'\n", String::from_utf8_lossy(&text)))?;
    }
    server_log(out, &format!("{err}\n"))?;
    Err(Stop::Abort)
}

fn check_multi_part(ck: &mut Checker<'_>, dir: &Path, manifest_path: &Path) -> Res<()> {
    writeln!(ck.out, "Start checking Multi Part AOF")?;
    let text = match fs::read(manifest_path) {
        Ok(t) => t,
        Err(e) => {
            server_log(
                ck.out,
                &format!(
                    "Fatal error: can't open the AOF manifest file {} for reading: {}",
                    manifest_path.display(),
                    strerror(&e)
                ),
            )?;
            return Err(Stop::Abort);
        }
    };
    let manifest = match Manifest::parse(&text) {
        Ok(m) => m,
        Err(e) => {
            let line = if e.kind == ManifestErrorKind::Empty {
                None
            } else {
                e.line
            };
            return manifest_failure(ck.out, line, &e.kind.to_string());
        }
    };
    let total = usize::from(manifest.base.is_some()) + manifest.incr.len();
    let mut seen = 0;
    if let Some(base) = &manifest.base {
        let name = String::from_utf8_lossy(&base.file_name).into_owned();
        let path = make_path(dir, &name);
        seen += 1;
        let last = seen == total;
        let preamble = file_is_rdb(ck.out, &path)?;
        writeln!(
            ck.out,
            "Start to check BASE AOF ({} format).",
            if preamble { "RDB" } else { "RESP" }
        )?;
        let status = ck.check_single(&name, &path, last, preamble)?;
        ck.report("BASE AOF ", &name, status)?;
    }
    if !manifest.incr.is_empty() {
        writeln!(ck.out, "Start to check INCR files.")?;
        for incr in &manifest.incr {
            let name = String::from_utf8_lossy(&incr.file_name).into_owned();
            let path = make_path(dir, &name);
            seen += 1;
            let last = seen == total;
            let status = ck.check_single(&name, &path, last, false)?;
            ck.report("INCR AOF ", &name, status)?;
        }
    }
    writeln!(ck.out, "All AOF files and manifest are valid")?;
    Ok(())
}

/// `makePath`: `dir/name`, spelled as Redis spells it in messages.
fn make_path(dir: &Path, name: &str) -> PathBuf {
    let mut p = dir.as_os_str().to_os_string();
    p.push("/");
    p.push(name);
    PathBuf::from(p)
}

/// The one `*.manifest` file in a directory (our addition: Redis takes only a file).
fn manifest_in_dir(dir: &Path) -> Option<PathBuf> {
    let mut found: Vec<PathBuf> = fs::read_dir(dir)
        .ok()?
        .filter_map(Result::ok)
        .map(|e| e.path())
        .filter(|p| {
            p.is_file()
                && p.file_name()
                    .and_then(|n| n.to_str())
                    .is_some_and(|n| n.ends_with(".manifest") && !n.starts_with("temp-"))
        })
        .collect();
    if found.len() == 1 { found.pop() } else { None }
}

/// Checks `path` (an AOF, an RDB-preamble AOF, a manifest, or a directory with a manifest).
pub fn run(out: &mut dyn Write, path: &Path, opts: Options) -> Res<()> {
    let mut ck = Checker {
        out,
        opts,
        error: Vec::new(),
        line: 1,
        epos: 0,
        line_buf: [0; 128],
    };
    let path = if path.is_dir() {
        manifest_in_dir(path).unwrap_or_else(|| path.to_path_buf())
    } else {
        path.to_path_buf()
    };
    // `dirname`: the manifest's directory, "." for a bare name.
    let dir = match path.parent() {
        Some(p) if !p.as_os_str().is_empty() => p.to_path_buf(),
        _ => PathBuf::from("."),
    };
    if file_is_manifest(ck.out, &path)? {
        return check_multi_part(&mut ck, &dir, &path);
    }
    let preamble = file_is_rdb(ck.out, &path)?;
    writeln!(ck.out, "Start checking Old-Style AOF")?;
    let name = path.display().to_string();
    let status = ck.check_single(&name, &path, true, preamble)?;
    ck.report("AOF ", &name, status)?;
    Ok(())
}
