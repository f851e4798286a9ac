//! The crash report Redis writes to its log before dying: on a fatal signal (SIGSEGV, SIGBUS,
//! SIGFPE, SIGILL, SIGABRT, including `DEBUG SEGFAULT` and `kill -ABRT`) the
//! `=== REDIS BUG REPORT START` block with `crashed by signal`, the sender or faulting address,
//! and a `------ STACK TRACE ------` of the thread that took the signal; on a Rust panic the
//! same block with Redis's `Guru Meditation` lines (what `serverPanic` logs).
//!
//! The signal handler does only async-signal-safe work: it formats into buffers on its own
//! stack, writes them with write(2) to a descriptor it owns (a duplicate of the log's), lets
//! glibc's `backtrace_symbols_fd` write the frames to it, then restores the default action and
//! raises the signal again, so the process ends as it would have without the handler (core
//! dump and exit status included).

use std::fmt::Write as _;
use std::os::fd::RawFd;
use std::sync::atomic::{AtomicI32, AtomicU32, Ordering::Relaxed};

use crate::log::{Level, Logger};

/// The signals Redis reports (`setupSigSegvHandlers`).
const FATAL_SIGNALS: [libc::c_int; 5] = [
    libc::SIGSEGV,
    libc::SIGBUS,
    libc::SIGFPE,
    libc::SIGILL,
    libc::SIGABRT,
];

/// Frames printed at most.
const MAX_FRAMES: usize = 100;

/// The descriptor the report goes to (owned: a duplicate of the log's), -1 before `install`.
static REPORT_FD: AtomicI32 = AtomicI32::new(-1);
/// The role character of the log lines (`M`), as a `char`'s code.
static ROLE: AtomicU32 = AtomicU32::new('M' as u32);

const REPORT_START: &str = "\n\n=== REDIS BUG REPORT START: Cut & paste starting from here ===\n";
const REPORT_END: &str = "\n=== REDIS BUG REPORT END. Make sure to include from START to END. ===\n\n       Please report the crash by opening an issue on github:\n\n           http://github.com/redis/redis/issues\n\n  Suspect RAM error? Use redis-server --test-memory to verify it.\n\n";

/// Installs the fatal-signal handlers and the panic hook; the report goes where `log` writes.
pub(crate) fn install(log: &Logger, role: char) {
    ROLE.store(u32::from(role), Relaxed);
    // SAFETY: dup(2) takes any integer and returns a new descriptor or -1; no memory is
    // touched. The duplicate stays open for the life of the process, so the handler never
    // writes to a descriptor that was closed and reused.
    let fd = unsafe { libc::dup(log.raw_fd()) };
    REPORT_FD.store(fd, Relaxed);
    // glibc loads its unwinder on the first backtrace(3), which allocates: do it now, outside
    // any handler.
    let mut frames = [std::ptr::null_mut::<libc::c_void>(); 1];
    // SAFETY: the buffer is valid for the one frame asked for.
    unsafe { libc::backtrace(frames.as_mut_ptr(), 1) };
    for sig in FATAL_SIGNALS {
        // SAFETY: a zeroed sigaction is a valid value (empty mask, no flags); the handler has
        // the three-argument signature SA_SIGINFO calls for, and only does async-signal-safe
        // work (see on_fatal_signal). The old action is not needed.
        unsafe {
            let mut action: libc::sigaction = std::mem::zeroed();
            let handler: extern "C" fn(libc::c_int, *mut libc::siginfo_t, *mut libc::c_void) =
                on_fatal_signal;
            action.sa_sigaction = handler as usize;
            action.sa_flags = libc::SA_SIGINFO | libc::SA_NODEFER | libc::SA_ONSTACK;
            libc::sigemptyset(&mut action.sa_mask);
            libc::sigaction(sig, &action, std::ptr::null_mut());
        }
    }
    let previous = std::panic::take_hook();
    std::panic::set_hook(Box::new(move |info| {
        let message = info
            .payload()
            .downcast_ref::<&str>()
            .copied()
            .or_else(|| info.payload().downcast_ref::<String>().map(String::as_str))
            .unwrap_or("Box<dyn Any>");
        let (file, line) = info.location().map_or(("?", 0), |l| (l.file(), l.line()));
        let thread = std::thread::current();
        let report = panic_report(
            message,
            file,
            line,
            thread.name().unwrap_or("<unnamed>"),
            &std::backtrace::Backtrace::force_capture().to_string(),
        );
        write_all(REPORT_FD.load(Relaxed), report.as_bytes());
        previous(info);
    }));
}

/// The report of a panic, as Redis's `serverPanic` words it.
fn panic_report(message: &str, file: &str, line: u32, thread: &str, trace: &str) -> String {
    let mut out = String::from(REPORT_START);
    let role = role();
    for text in [
        "------------------------------------------------".to_owned(),
        "!!! Software Failure. Press left mouse button to continue".to_owned(),
        format!("Guru Meditation: {message} #{file}:{line}"),
        format!("Panicked in thread '{thread}'"),
    ] {
        out.push_str(&log_line(role, &text));
    }
    out.push_str("\n------ STACK TRACE ------\n\nBacktrace:\n");
    out.push_str(trace);
    out.push_str(REPORT_END);
    out
}

fn role() -> char {
    char::from_u32(ROLE.load(Relaxed)).unwrap_or('M')
}

fn log_line(role: char, text: &str) -> String {
    format!(
        "{}:{role} {} {} {text}\n",
        std::process::id(),
        crate::log::timestamp(),
        Level::Warning.mark()
    )
}

/// A line built on the stack (no allocation: safe inside a signal handler); text past its
/// capacity is dropped.
struct StackLine {
    buf: [u8; 256],
    len: usize,
}

impl StackLine {
    fn new() -> StackLine {
        StackLine {
            buf: [0; 256],
            len: 0,
        }
    }

    fn bytes(&self) -> &[u8] {
        &self.buf[..self.len]
    }
}

impl std::fmt::Write for StackLine {
    fn write_str(&mut self, s: &str) -> std::fmt::Result {
        let n = s.len().min(self.buf.len() - self.len);
        self.buf[self.len..self.len + n].copy_from_slice(&s.as_bytes()[..n]);
        self.len += n;
        Ok(())
    }
}

/// The `pid:M dd Mon yyyy hh:mm:ss.mmm # ` prefix, from clock_gettime(2) (async-signal-safe)
/// and integer arithmetic only.
fn signal_safe_prefix(out: &mut StackLine) {
    let mut ts = libc::timespec {
        tv_sec: 0,
        tv_nsec: 0,
    };
    // SAFETY: `ts` is a valid, writable timespec.
    unsafe { libc::clock_gettime(libc::CLOCK_REALTIME, &mut ts) };
    let secs = ts.tv_sec;
    let (year, month, day) = crate::log::civil_from_days(secs.div_euclid(86_400));
    let rem = secs.rem_euclid(86_400);
    // SAFETY: getpid(2) has no preconditions.
    let pid = unsafe { libc::getpid() };
    let month = crate::log::MONTHS
        .get(usize::try_from(month - 1).unwrap_or(0))
        .copied()
        .unwrap_or("Jan");
    let _ = write!(
        out,
        "{pid}:{} {day:02} {month} {year} {:02}:{:02}:{:02}.{:03} # ",
        role(),
        rem / 3600,
        rem % 3600 / 60,
        rem % 60,
        ts.tv_nsec / 1_000_000
    );
}

/// write(2) until done or failed. Async-signal-safe.
fn write_all(fd: RawFd, mut bytes: &[u8]) {
    if fd < 0 {
        return;
    }
    while !bytes.is_empty() {
        // SAFETY: the pointer and length describe the live slice `bytes`.
        let n = unsafe { libc::write(fd, bytes.as_ptr().cast(), bytes.len()) };
        if n <= 0 {
            return;
        }
        bytes = &bytes[n.unsigned_abs().min(bytes.len())..];
    }
}

fn signal_line(fd: RawFd, args: std::fmt::Arguments<'_>) {
    let mut line = StackLine::new();
    signal_safe_prefix(&mut line);
    let _ = line.write_fmt(args);
    let _ = line.write_str("\n");
    write_all(fd, line.bytes());
}

/// The fatal-signal handler: the report, then the default action.
extern "C" fn on_fatal_signal(sig: libc::c_int, info: *mut libc::siginfo_t, _: *mut libc::c_void) {
    let fd = REPORT_FD.load(Relaxed);
    write_all(fd, REPORT_START.as_bytes());
    let code = if info.is_null() {
        0
    } else {
        // SAFETY: the kernel passes a valid siginfo_t to an SA_SIGINFO handler.
        unsafe { (*info).si_code }
    };
    signal_line(
        fd,
        format_args!(
            "Redis {} crashed by signal: {sig}, si_code: {code}",
            crate::REDIS_VERSION
        ),
    );
    if !info.is_null() {
        // SAFETY: as above; si_addr is meaningful for the faults, si_pid/si_uid for a signal
        // sent by a process (SI_USER, SI_TKILL), and reading them is plain memory access.
        unsafe {
            if matches!(
                sig,
                libc::SIGSEGV | libc::SIGBUS | libc::SIGFPE | libc::SIGILL
            ) {
                signal_line(
                    fd,
                    format_args!("Accessing address: {:p}", (*info).si_addr()),
                );
            }
            if code == libc::SI_USER || code == libc::SI_TKILL {
                signal_line(
                    fd,
                    format_args!(
                        "Killed by PID: {}, UID: {}",
                        (*info).si_pid(),
                        (*info).si_uid()
                    ),
                );
            }
        }
    }
    write_all(fd, b"\n------ STACK TRACE ------\n\nBacktrace:\n");
    let mut frames = [std::ptr::null_mut::<libc::c_void>(); MAX_FRAMES];
    // SAFETY: the buffer holds MAX_FRAMES pointers; backtrace_symbols_fd reads the `n` filled
    // ones and writes to `fd` without allocating (glibc's unwinder was loaded by `install`).
    unsafe {
        let n = libc::backtrace(frames.as_mut_ptr(), MAX_FRAMES as libc::c_int);
        if fd >= 0 && n > 0 {
            libc::backtrace_symbols_fd(frames.as_ptr(), n, fd);
        }
    }
    write_all(fd, REPORT_END.as_bytes());
    // SAFETY: resetting a disposition to SIG_DFL and raising a signal are async-signal-safe;
    // with the default action the signal ends the process as it would have.
    unsafe {
        libc::signal(sig, libc::SIG_DFL);
        libc::raise(sig);
    }
}

/// DEBUG SEGFAULT: a write to a read-only page, as Redis does it.
pub(crate) fn segfault() {
    // SAFETY: mmap with a null hint and an anonymous private mapping has no preconditions.
    // The write to the read-only page is the point: it faults (SIGSEGV, reported and fatal
    // through on_fatal_signal) before any memory is changed; a failed mapping raises SIGSEGV
    // directly instead of writing.
    unsafe {
        let page = libc::mmap(
            std::ptr::null_mut(),
            4096,
            libc::PROT_READ,
            libc::MAP_PRIVATE | libc::MAP_ANONYMOUS,
            -1,
            0,
        );
        if page == libc::MAP_FAILED {
            libc::raise(libc::SIGSEGV);
        } else {
            std::ptr::write_volatile(page.cast::<u8>(), b'x');
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stack_lines_truncate_instead_of_growing() {
        let mut line = StackLine::new();
        signal_safe_prefix(&mut line);
        let text = String::from_utf8_lossy(line.bytes()).into_owned();
        assert!(
            text.starts_with(&format!("{}:M ", std::process::id())),
            "{text}"
        );
        assert!(text.ends_with(" # "), "{text}");
        for _ in 0..100 {
            let _ = line.write_str("0123456789");
        }
        assert_eq!(line.bytes().len(), 256);
    }

    #[test]
    fn panic_reports_read_as_redis_bug_reports() {
        let report = panic_report("boom", "src/x.rs", 7, "worker", "frames\n");
        assert!(report.starts_with(REPORT_START));
        assert!(report.contains("# Guru Meditation: boom #src/x.rs:7\n"));
        assert!(report.contains("------ STACK TRACE ------\n\nBacktrace:\nframes\n"));
        assert!(report.ends_with(REPORT_END));
    }

    #[test]
    fn write_all_ignores_a_missing_descriptor() {
        write_all(-1, b"nothing");
    }
}
