//! The modes that replace the command loop: `--pipe` (mass insertion), `--scan` and `--eval`.

use std::collections::hash_map::RandomState;
use std::hash::{BuildHasher, Hasher};
use std::io::{self, Read, Write};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use common::resp::Frame;

use crate::connection::{Connection, describe, strerror};
use crate::format::{Output, repr};
use crate::session::{Exit, Session};

/// Bytes of stdin sent per write in `--pipe`.
const PIPE_CHUNK: usize = 16 * 1024;

/// 20 unpredictable bytes: the final ECHO's argument, so its reply cannot be confused with
/// data the user sent.
fn magic() -> [u8; 20] {
    let state = RandomState::new();
    let mut out = [0u8; 20];
    for (i, chunk) in out.chunks_mut(8).enumerate() {
        let mut h = state.build_hasher();
        h.write_usize(i);
        h.write_u128(
            std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .map_or(0, |d| d.as_nanos()),
        );
        h.write_u32(std::process::id());
        let bytes = h.finish().to_le_bytes();
        chunk.copy_from_slice(&bytes[..chunk.len()]);
    }
    out
}

/// `--pipe`: sends stdin (raw protocol) as it is while counting the replies; after EOF an
/// `ECHO <magic>` marks the last reply. Prints redis-cli's summary and exits 1 on any error.
pub(crate) fn pipe(session: &mut Session) -> Result<(), Exit> {
    let timeout = session.opts.pipe_timeout;
    let Some(conn) = session.connection() else {
        return Err(Exit(1));
    };
    let mut writer = match conn.writer() {
        Ok(w) => w,
        Err(e) => {
            eprintln!("Error writing to the server: {}", describe(&e));
            return Err(Exit(1));
        }
    };
    let magic = magic();
    let eof = Arc::new(AtomicBool::new(false));
    let eof_seen = Arc::clone(&eof);
    // The writer: stdin to the socket, then the marker. It exits the process on a failure,
    // as redis-cli does, since the reader may be waiting for replies that will never come.
    std::thread::spawn(move || {
        let mut stdin = io::stdin().lock();
        let mut buf = vec![0u8; PIPE_CHUNK];
        loop {
            let n = match stdin.read(&mut buf) {
                Ok(n) => n,
                Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                Err(e) => {
                    eprintln!("Error reading from stdin: {}", describe(&e));
                    std::process::exit(1);
                }
            };
            let chunk: &[u8] = if n == 0 {
                eof_seen.store(true, Ordering::SeqCst);
                let mut out = io::stdout().lock();
                let _ = out.write_all(b"All data transferred. Waiting for the last reply...\n");
                let _ = out.flush();
                // The leading CRLF keeps the ECHO well-formed after garbage input.
                let mut echo = b"\r\n*2\r\n$4\r\nECHO\r\n$20\r\n".to_vec();
                echo.extend_from_slice(&magic);
                echo.extend_from_slice(b"\r\n");
                buf = echo;
                &buf
            } else {
                &buf[..n]
            };
            if let Err(e) = writer.write_all(chunk) {
                eprintln!("Error writing to the server: {}", describe(&e));
                std::process::exit(1);
            }
            if n == 0 {
                return;
            }
        }
    });
    let _ = conn.set_read_timeout(Some(Duration::from_secs(1)));
    let (mut errors, mut replies) = (0u64, 0u64);
    let mut last_read = Instant::now();
    loop {
        match conn.read_reply() {
            Ok(frame) => {
                last_read = Instant::now();
                replies += 1;
                match &frame {
                    Frame::Error(e) => {
                        eprintln!("{}", String::from_utf8_lossy(e));
                        errors += 1;
                    }
                    Frame::Bulk(s) if eof.load(Ordering::SeqCst) && s[..] == magic[..] => {
                        println!("Last reply received from server.");
                        replies -= 1;
                        break;
                    }
                    _ => {}
                }
            }
            Err(e)
                if matches!(
                    e.kind(),
                    io::ErrorKind::WouldBlock | io::ErrorKind::TimedOut
                ) => {}
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(e) if e.kind() == io::ErrorKind::InvalidData => {
                eprintln!("Error reading replies from server");
                return Err(Exit(1));
            }
            Err(_) => return Err(Exit(1)),
        }
        if eof.load(Ordering::SeqCst)
            && timeout > 0
            && last_read.elapsed() > Duration::from_secs(timeout as u64)
        {
            eprintln!("No replies for {timeout} seconds: exiting.");
            errors += 1;
            break;
        }
    }
    println!("errors: {errors}, replies: {replies}");
    if errors > 0 { Err(Exit(1)) } else { Ok(()) }
}

/// `--scan [--pattern P]`: every key, one a line (quoted in the tty style).
pub(crate) fn scan(session: &mut Session) -> Result<(), Exit> {
    let pattern = session.opts.pattern.clone();
    let quoted = session.opts.output == Output::Standard;
    let interval = session.opts.interval_us;
    let Some(conn) = session.connection() else {
        return Err(Exit(1));
    };
    let mut cursor = b"0".to_vec();
    crate::keys::catch_sigint();
    let mut stdout = io::stdout().lock();
    loop {
        let mut args = vec![b"SCAN".to_vec(), cursor.clone()];
        if let Some(p) = &pattern {
            args.push(b"MATCH".to_vec());
            args.push(p.clone());
        }
        let reply = match conn.command(&args) {
            Ok(reply) => reply,
            Err(_) => {
                eprintln!("\nI/O error");
                return Err(Exit(1));
            }
        };
        let (next, keys) = match reply {
            Frame::Error(e) => {
                eprintln!("SCAN error: {}", String::from_utf8_lossy(&e));
                return Err(Exit(1));
            }
            Frame::Array(items) => match <[Frame; 2]>::try_from(items) {
                Ok([Frame::Bulk(next), Frame::Array(keys)]) => (next, keys),
                Ok(_) => {
                    eprintln!("Non ARRAY response from SCAN!");
                    return Err(Exit(1));
                }
                Err(_) => {
                    eprintln!("Invalid element count from SCAN!");
                    return Err(Exit(1));
                }
            },
            _ => {
                eprintln!("Non ARRAY response from SCAN!");
                return Err(Exit(1));
            }
        };
        let mut out = Vec::new();
        for key in keys {
            let Frame::Bulk(key) = key else { continue };
            if quoted {
                repr(&key, &mut out);
            } else {
                // printf("%s"): the key up to a NUL.
                let end = key.iter().position(|&b| b == 0).unwrap_or(key.len());
                out.extend_from_slice(&key[..end]);
            }
            out.push(b'\n');
        }
        let _ = stdout.write_all(&out);
        let _ = stdout.flush();
        if interval > 0 {
            std::thread::sleep(Duration::from_micros(interval));
        }
        if crate::options::c_int(&String::from_utf8_lossy(&next)) == 0 || crate::keys::cancelled() {
            return Ok(());
        }
        cursor = next;
    }
}

/// `--eval file keys... , args...`: one EVAL of the file's script.
pub(crate) fn eval(session: &mut Session, file: &str, args: &[String]) -> Result<(), Exit> {
    let script = match std::fs::read(file) {
        Ok(s) => s,
        Err(e) => {
            let why = e.raw_os_error().map_or_else(|| e.to_string(), strerror);
            eprintln!("Can't open file '{file}': {why}");
            return Err(Exit(1));
        }
    };
    let mut keys = Vec::new();
    let mut rest = Vec::new();
    let mut got_comma = false;
    for arg in args {
        if !got_comma && arg == "," {
            got_comma = true;
        } else if got_comma {
            rest.push(arg.as_bytes().to_vec());
        } else {
            keys.push(arg.as_bytes().to_vec());
        }
    }
    let mut argv = vec![
        b"EVAL".to_vec(),
        script,
        keys.len().to_string().into_bytes(),
    ];
    argv.extend(keys);
    argv.extend(rest);
    let repeat = session.opts.repeat;
    if session.issue(&argv, repeat)? {
        Ok(())
    } else {
        Err(Exit(1))
    }
}

/// What a replica handshake is for.
pub(crate) enum Sync<'a> {
    /// `--rdb FILE` / `--functions-rdb FILE`: save the snapshot (functions only if asked).
    Snapshot { file: &'a str, functions_only: bool },
    /// `--replica`: skip the snapshot, then print every command the master propagates.
    Replica,
}

/// `--replica`: a replica handshake, then the master's command stream, one CSV line each.
pub(crate) fn replica(session: &mut Session) -> Result<(), Exit> {
    sync(session, Sync::Replica)
}

/// `--rdb FILE` and `--functions-rdb FILE`: a replica handshake that saves the snapshot the
/// server sends (only its functions with `--functions-rdb`), with redis-cli's progress lines.
pub(crate) fn rdb(session: &mut Session, file: &str, functions_only: bool) -> Result<(), Exit> {
    sync(
        session,
        Sync::Snapshot {
            file,
            functions_only,
        },
    )
}

/// The length of the marker that ends a diskless payload.
const EOF_MARK_SIZE: usize = 40;

/// `REPLCONF name value`: `Ok(false)` when the server refuses it (older servers lack some).
fn replconf(conn: &mut Connection, name: &str, value: &str) -> Result<bool, Exit> {
    eprintln!("sending REPLCONF {name} {value}");
    match conn.command(&["REPLCONF", name, value]) {
        Ok(Frame::Error(e)) => {
            eprintln!("REPLCONF {name} error: {}", String::from_utf8_lossy(&e));
            Ok(false)
        }
        Ok(_) => Ok(true),
        Err(_) => {
            eprintln!("\nI/O error");
            Err(Exit(1))
        }
    }
}

fn sync(session: &mut Session, mode: Sync<'_>) -> Result<(), Exit> {
    let Some(conn) = session.connection() else {
        return Err(Exit(1));
    };
    replconf(conn, "capa", "eof")?;
    match mode {
        Sync::Snapshot {
            file,
            functions_only,
        } => {
            replconf(conn, "rdb-only", "1")?;
            if functions_only && !replconf(conn, "rdb-filter-only", "functions")? {
                eprintln!("Failed requesting functions only RDB from server, aborting");
                return Err(Exit(1));
            }
            save_snapshot(conn, file)
        }
        // A replica wants no snapshot contents: an empty filter keeps the payload small.
        Sync::Replica => {
            replconf(conn, "rdb-filter-only", "")?;
            log_replication_stream(conn)
        }
    }
}

/// What a master announces after SYNC: the payload's length, or the marker that ends it.
struct Payload {
    length: u64,
    mark: Option<Vec<u8>>,
}

/// Sends SYNC and reads the payload's header (redis-cli's `sendSync`).
fn send_sync(conn: &mut Connection) -> Result<Payload, Exit> {
    if conn
        .writer()
        .and_then(|mut w| w.write_all(b"SYNC\r\n"))
        .is_err()
    {
        eprintln!("Error writing to master");
        return Err(Exit(1));
    }
    // `$<length>` or `$EOF:<mark>`; the master sends bare newlines while it prepares.
    let header = loop {
        match conn.read_line() {
            Ok(line) if line.is_empty() => {}
            Ok(line) => break line,
            Err(_) => {
                eprintln!("Error reading bulk length while SYNCing");
                return Err(Exit(1));
            }
        }
    };
    if header.first() == Some(&b'-') {
        eprintln!(
            "SYNC with master failed: {}",
            String::from_utf8_lossy(&header)
        );
        return Err(Exit(1));
    }
    let mark = match header.get(1..5) {
        Some(b"EOF:") if header.len() >= 5 + EOF_MARK_SIZE => {
            Some(header[5..5 + EOF_MARK_SIZE].to_vec())
        }
        _ => None,
    };
    let length = match mark {
        Some(_) => u64::MAX,
        None => crate::options::c_uint(&String::from_utf8_lossy(
            header.get(1..).unwrap_or_default(),
        )),
    };
    Ok(Payload { length, mark })
}

/// Copies the payload announced by `payload` to `out`, without the end marker (held back
/// until it can be told apart); returns the bytes written. `read_error` is the message for a
/// failed read.
fn copy_payload(
    conn: &mut Connection,
    payload: &Payload,
    out: &mut dyn Write,
    read_error: &str,
) -> Result<u64, Exit> {
    let write_error = |e: io::Error| {
        let why = e.raw_os_error().map_or_else(|| e.to_string(), strerror);
        eprintln!("Error writing data to file: {why}");
        Exit(1)
    };
    let mut left = payload.length;
    let mut written = 0u64;
    let mut tail: Vec<u8> = Vec::new();
    while left > 0 {
        let want = usize::try_from(left).unwrap_or(usize::MAX).min(16 * 1024);
        let Ok(chunk) = conn.read_raw(want) else {
            eprintln!("{read_error}");
            return Err(Exit(1));
        };
        left -= chunk.len() as u64;
        match &payload.mark {
            None => {
                out.write_all(&chunk).map_err(write_error)?;
                written += chunk.len() as u64;
            }
            Some(mark) => {
                tail.extend_from_slice(&chunk);
                if tail.ends_with(mark) {
                    let body = tail.len() - EOF_MARK_SIZE;
                    out.write_all(&tail[..body]).map_err(write_error)?;
                    written += body as u64;
                    break;
                }
                let flush = tail.len().saturating_sub(EOF_MARK_SIZE);
                out.write_all(&tail[..flush]).map_err(write_error)?;
                written += flush as u64;
                tail.drain(..flush);
            }
        }
    }
    out.flush().map_err(write_error)?;
    Ok(written)
}

/// SYNC, then the snapshot saved to `file` (`-`: standard output) with redis-cli's lines and
/// exit codes (its `getRDB`): `--rdb`, `--functions-rdb` and `--cluster backup`.
pub(crate) fn save_snapshot(conn: &mut Connection, file: &str) -> Result<(), Exit> {
    let payload = send_sync(conn)?;
    match payload.mark {
        Some(_) => eprintln!(
            "SYNC sent to master, writing bytes of bulk transfer until EOF marker to '{file}'"
        ),
        None => eprintln!(
            "SYNC sent to master, writing {} bytes to '{file}'",
            payload.length
        ),
    }
    let read_error = "I/O Error reading RDB payload from socket";
    if file == "-" {
        copy_payload(conn, &payload, &mut io::stdout().lock(), read_error)?;
        eprintln!("Transfer finished with success.");
        return Ok(());
    }
    let mut out = match std::fs::OpenOptions::new()
        .write(true)
        .create(true)
        .truncate(true)
        .open(file)
    {
        Ok(f) => f,
        Err(e) => {
            let why = e.raw_os_error().map_or_else(|| e.to_string(), strerror);
            eprintln!("Error opening '{file}': {why}");
            return Err(Exit(1));
        }
    };
    let written = copy_payload(conn, &payload, &mut out, read_error)?;
    if payload.mark.is_some() {
        eprintln!("Transfer finished with success after {written} bytes");
    } else {
        eprintln!("Transfer finished with success.");
    }
    if let Err(e) = out.sync_all() {
        let why = e.raw_os_error().map_or_else(|| e.to_string(), strerror);
        eprintln!("Fail to fsync '{file}': {why}");
        return Err(Exit(1));
    }
    Ok(())
}

/// `--replica`: SYNC, the snapshot discarded, then every command the master streams printed
/// as a CSV line until the link ends.
fn log_replication_stream(conn: &mut Connection) -> Result<(), Exit> {
    let payload = send_sync(conn)?;
    match payload.mark {
        Some(_) => {
            eprintln!("SYNC with master, discarding bytes of bulk transfer until EOF marker...")
        }
        None => eprintln!(
            "SYNC with master, discarding {} bytes of bulk transfer...",
            payload.length
        ),
    }
    let written = copy_payload(
        conn,
        &payload,
        &mut io::sink(),
        "Error reading RDB payload while SYNCing",
    )?;
    if payload.mark.is_some() {
        eprintln!("SYNC done after {written} bytes. Logging commands from master.");
        // A diskless master streams commands only once the replica acknowledges the payload.
        std::thread::sleep(std::time::Duration::from_secs(1));
        // Sent without waiting: a master does not answer ACKs (redis-cli's wait for one eats
        // the first command streamed).
        eprintln!("sending REPLCONF ACK 0");
        if conn.send(&["REPLCONF", "ACK", "0"]).is_err() {
            eprintln!("\nI/O error");
            return Err(Exit(1));
        }
    } else {
        eprintln!("SYNC done. Logging commands from master.");
    }
    let mut stdout = io::stdout().lock();
    loop {
        let frame = match conn.read_reply() {
            Ok(frame) => frame,
            Err(e) => {
                eprintln!("{}", crate::connection::describe(&e));
                return Err(Exit(1));
            }
        };
        let Ok(line) = crate::format::reply(&frame, Output::Csv, false, b"\n", b"\n") else {
            continue;
        };
        if stdout
            .write_all(&line)
            .and_then(|()| stdout.flush())
            .is_err()
        {
            return Err(Exit(1));
        }
    }
}
