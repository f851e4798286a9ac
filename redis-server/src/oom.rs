//! `oom-score-adj`: the server's score for the Linux OOM killer, written to
//! `/proc/self/oom_score_adj` from `oom-score-adj-values`: the first value while the server is
//! a master, the second while it is a replica, the third for a background writer child.
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

/// Which of the three `oom-score-adj-values` applies.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Class {
    Master,
    Replica,
    BackgroundChild,
}

impl Class {
    /// The class of the server itself: replica while it follows a master.
    pub(crate) fn of_server(is_replica: bool) -> Class {
        if is_replica {
            Class::Replica
        } else {
            Class::Master
        }
    }

    fn index(self) -> usize {
        match self {
            Class::Master => 0,
            Class::Replica => 1,
            Class::BackgroundChild => 2,
        }
    }
}

/// Brings the process's score in line with `config` for `class`. The error is the line for
/// the log (Redis's "Unable to read/write oom_score_adj: ..."); the caller decides what to
/// answer.
pub(crate) fn apply(config: &Config, class: Class) -> Result<(), String> {
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
            target(mode, config.oom_score_adj_values()[class.index()], original)
        }
    };
    write(score)
}

fn write(score: i32) -> Result<(), String> {
    std::fs::write(PROC_FILE, format!("{score}\n"))
        .map_err(|e| format!("Unable to write oom_score_adj: {e}"))
}

/// The score a background writer child takes (the third class, from the same original score),
/// or `None` when the server does not manage scores and the child keeps the one it inherits.
pub(crate) fn child_score(config: &Config) -> Option<i32> {
    let base = *BASE.lock().unwrap_or_else(PoisonError::into_inner);
    match mode(config) {
        Mode::No => None,
        mode => Some(target(
            mode,
            config.oom_score_adj_values()[Class::BackgroundChild.index()],
            base?,
        )),
    }
}

/// In the writer child: takes the score the parent chose (`child_score`).
pub(crate) fn set_own_score(score: i32) -> Result<(), String> {
    write(score.clamp(-1000, 1000))
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

    #[test]
    fn classes_pick_their_value() {
        assert_eq!(Class::of_server(false), Class::Master);
        assert_eq!(Class::of_server(true), Class::Replica);
        let indexes = [Class::Master, Class::Replica, Class::BackgroundChild].map(Class::index);
        assert_eq!(indexes, [0, 1, 2]);
    }
}
