//! The server log, in Redis's line format: `pid:role dd Mon yyyy hh:mm:ss.mmm <level> message`.

use std::io::Write;
use std::sync::{Mutex, PoisonError};

/// Log levels, lowest first, with the mark Redis prints for each.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub(crate) enum Level {
    Debug,
    Verbose,
    Notice,
    Warning,
}

impl Level {
    pub(crate) fn mark(self) -> char {
        match self {
            Level::Debug => '.',
            Level::Verbose => '-',
            Level::Notice => '*',
            Level::Warning => '#',
        }
    }

    /// The `loglevel` directive's value.
    pub(crate) fn from_name(name: &str) -> Level {
        match name {
            "debug" => Level::Debug,
            "verbose" => Level::Verbose,
            "warning" | "nothing" => Level::Warning,
            _ => Level::Notice,
        }
    }
}

enum Sink {
    Stdout,
    File(std::fs::File),
}

/// Where log lines go, and from which level on.
pub(crate) struct Logger {
    sink: Mutex<Sink>,
    level: Mutex<Level>,
    role: char,
}

impl Logger {
    /// `logfile` empty means standard output, as in Redis.
    pub(crate) fn open(logfile: &str, level: Level, role: char) -> std::io::Result<Logger> {
        let sink = if logfile.is_empty() {
            Sink::Stdout
        } else {
            Sink::File(
                std::fs::OpenOptions::new()
                    .create(true)
                    .append(true)
                    .open(logfile)?,
            )
        };
        Ok(Logger {
            sink: Mutex::new(sink),
            level: Mutex::new(level),
            role,
        })
    }

    /// The descriptor lines go to (standard output's, or the log file's).
    pub(crate) fn raw_fd(&self) -> std::os::fd::RawFd {
        use std::os::fd::AsRawFd;
        match &*self.sink.lock().unwrap_or_else(PoisonError::into_inner) {
            Sink::Stdout => std::io::stdout().as_raw_fd(),
            Sink::File(f) => f.as_raw_fd(),
        }
    }

    pub(crate) fn set_level(&self, level: Level) {
        *self.level.lock().unwrap_or_else(PoisonError::into_inner) = level;
    }

    pub(crate) fn enabled(&self, level: Level) -> bool {
        level >= *self.level.lock().unwrap_or_else(PoisonError::into_inner)
    }

    pub(crate) fn log(&self, level: Level, msg: &str) {
        if !self.enabled(level) {
            return;
        }
        let line = format!(
            "{}:{} {} {} {}\n",
            std::process::id(),
            self.role,
            timestamp(),
            level.mark(),
            msg
        );
        self.raw(line.as_bytes());
    }

    /// Writes bytes as they are (the start-up logo).
    pub(crate) fn raw(&self, bytes: &[u8]) {
        let mut sink = self.sink.lock().unwrap_or_else(PoisonError::into_inner);
        // A log that cannot be written must not stop the server; Redis ignores it too.
        let _ = match &mut *sink {
            Sink::Stdout => {
                let mut out = std::io::stdout().lock();
                out.write_all(bytes).and_then(|()| out.flush())
            }
            Sink::File(f) => f.write_all(bytes),
        };
    }

    pub(crate) fn warning(&self, msg: &str) {
        self.log(Level::Warning, msg);
    }

    pub(crate) fn notice(&self, msg: &str) {
        self.log(Level::Notice, msg);
    }

    pub(crate) fn verbose(&self, msg: &str) {
        self.log(Level::Verbose, msg);
    }
}

pub(crate) const MONTHS: [&str; 12] = [
    "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
];

/// `23 Nov 2026 23:29:00.123`, in UTC (Redis prints local time; servers run in UTC).
pub(crate) fn timestamp() -> String {
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap_or_default();
    let secs = now.as_secs() as i64;
    let (year, month, day) = civil_from_days(secs.div_euclid(86_400));
    let rem = secs.rem_euclid(86_400);
    format!(
        "{:02} {} {} {:02}:{:02}:{:02}.{:03}",
        day,
        MONTHS[(month - 1) as usize],
        year,
        rem / 3600,
        rem % 3600 / 60,
        rem % 60,
        now.subsec_millis()
    )
}

/// Days since 1970-01-01 to (year, month, day), Howard Hinnant's civil calendar algorithm.
pub(crate) fn civil_from_days(days: i64) -> (i64, i64, i64) {
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i64::from(month <= 2);
    (year, month, day)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn civil_dates() {
        assert_eq!(civil_from_days(0), (1970, 1, 1));
        assert_eq!(civil_from_days(20_416), (2025, 11, 24));
        assert_eq!(civil_from_days(11_016), (2000, 2, 29));
    }
}
