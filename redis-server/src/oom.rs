//! `oom-score-adj`: the server's score for the Linux OOM killer, written to
//! `/proc/self/oom_score_adj` from `oom-score-adj-values` (the master class, the first value).
//!
//! `relative` (or `yes`) adds the value to the score the process had before the server first
//! changed it; `absolute` writes it as is; `no` puts that original score back. Scores are
//! clamped to -1000..=1000, as the kernel accepts.

use std::sync::{Mutex, PoisonError};

use common::config::Config;

const PROC_FILE: &str = "/proc/self/oom_score_adj";

/// The score the process had before the server first adjusted it; `None` while the server
/// has not adjusted it (process-wide, like the file).
static BASE: Mutex<Option<i32>> = Mutex::new(None);

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Mode {
    No,
    Relative,
    Absolute,
}

fn mode(config: &Config) -> Mode {
    match config.get_str("oom-score-adj").unwrap_or("no") {
        "no" => Mode::No,
        "absolute" => Mode::Absolute,
        _ => Mode::Relative,
    }
}

/// The score to write for `value` in `mode`, given the original score.
fn target(mode: Mode, value: i32, base: i32) -> i32 {
    let score = match mode {
        Mode::Relative => value.saturating_add(base),
        _ => value,
    };
    score.clamp(-1000, 1000)
}

/// Brings the process's score in line with `config`. The error is the line for the log
/// (Redis's "Unable to read/write oom_score_adj: ..."); the caller decides what to answer.
pub(crate) fn apply(config: &Config) -> Result<(), String> {
    let mut base = BASE.lock().unwrap_or_else(PoisonError::into_inner);
    let score = match (mode(config), *base) {
        (Mode::No, None) => return Ok(()),
        (Mode::No, Some(original)) => {
            *base = None;
            original
        }
        (mode, known) => {
            let original = match known {
                Some(b) => b,
                None => {
                    let text = std::fs::read_to_string(PROC_FILE)
                        .map_err(|e| format!("Unable to read oom_score_adj: {e}"))?;
                    let b = text.trim().parse().unwrap_or(0);
                    *base = Some(b);
                    b
                }
            };
            target(mode, config.oom_score_adj_values()[0], original)
        }
    };
    std::fs::write(PROC_FILE, format!("{score}\n"))
        .map_err(|e| format!("Unable to write oom_score_adj: {e}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn scores_follow_the_mode_and_clamp() {
        assert_eq!(target(Mode::Relative, 10, 22), 32);
        assert_eq!(target(Mode::Absolute, 10, 22), 10);
        assert_eq!(target(Mode::Relative, 2000, 0), 1000);
        assert_eq!(target(Mode::Absolute, -2000, 0), -1000);
    }
}
