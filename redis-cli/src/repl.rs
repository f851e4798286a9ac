//! The interactive prompt (rustyline: history, completion, hints) and, when stdin is not a
//! terminal, the same loop over the lines of stdin without a prompt.

use std::borrow::Cow;
use std::io::{self, BufRead, Write};
use std::path::PathBuf;
use std::sync::atomic::Ordering;
use std::time::Instant;

use rustyline::completion::Completer;
use rustyline::highlight::Highlighter;
use rustyline::hint::Hinter;
use rustyline::history::DefaultHistory;
use rustyline::validate::Validator;
use rustyline::{Context, Editor, Helper};

use crate::format::Output;
use crate::hints::HelpTable;
use crate::session::{Exit, INTERRUPTED, STREAMING, Session};

/// The history file: `$REDISCLI_HISTFILE` (`/dev/null` for none), else `~/.rediscli_history`.
fn dotfile(env: &str, name: &str) -> Option<PathBuf> {
    match std::env::var_os(env) {
        Some(path) if !path.is_empty() => {
            if path == "/dev/null" {
                None
            } else {
                Some(PathBuf::from(path))
            }
        }
        _ => {
            let home = std::env::var_os("HOME").filter(|h| !h.is_empty())?;
            Some(PathBuf::from(home).join(name))
        }
    }
}

/// Commands kept out of the history because they carry secrets.
fn is_sensitive(argv: &[Vec<u8>]) -> bool {
    let is = |i: usize, name: &str| {
        argv.get(i)
            .is_some_and(|a| a.eq_ignore_ascii_case(name.as_bytes()))
    };
    if is(0, "auth") {
        return true;
    }
    if argv.len() > 1 && is(0, "acl") && is(1, "setuser") {
        return true;
    }
    if argv.len() > 2
        && is(0, "config")
        && is(1, "set")
        && (is(2, "masterauth") || is(2, "masteruser") || is(2, "requirepass"))
    {
        return true;
    }
    if argv.len() > 4 && is(0, "hello") {
        let mut j = 2;
        while j < argv.len() {
            let more = argv.len() - 1 - j;
            if is(j, "auth") && more >= 2 {
                return true;
            } else if is(j, "setname") && more > 0 {
                j += 1;
            } else {
                return false;
            }
            j += 1;
        }
    }
    if argv.len() > 7 && is(0, "migrate") {
        for j in 6..argv.len() {
            let more = argv.len() - 1 - j;
            if (is(j, "auth") && more > 0) || (is(j, "auth2") && more >= 2) {
                return true;
            }
            if is(j, "keys") && more > 0 {
                return false;
            }
        }
    }
    false
}

/// A leading repeat count (`5 INCR x`): `Some(Ok(n))`, `Some(Err(()))` for a bad count, `None`
/// when the first word is not a number (C's `strtol` over the whole word).
fn repeat_count(word: &[u8]) -> Option<Result<i64, ()>> {
    let s = std::str::from_utf8(word).ok()?;
    let t = s.trim_start_matches([' ', '\t', '\n', '\r', '\x0b', '\x0c']);
    let digits = t.strip_prefix(['+', '-']).unwrap_or(t);
    if s.is_empty() {
        return Some(Err(()));
    }
    if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    match t.parse::<i64>() {
        Ok(n) if n > 0 => Some(Ok(n)),
        _ => Some(Err(())),
    }
}

/// `:set hints` / `:set nohints`.
fn set_preference(argv: &[Vec<u8>], hints: &mut bool, interactive: bool) -> String {
    let origin = if interactive { "" } else { ".redisclirc: " };
    if argv[0].eq_ignore_ascii_case(b":set") && argv.len() >= 2 {
        if argv[1].eq_ignore_ascii_case(b"hints") {
            *hints = true;
        } else if argv[1].eq_ignore_ascii_case(b"nohints") {
            *hints = false;
        } else {
            return format!(
                "{origin}unknown redis-cli preference '{}'\n",
                String::from_utf8_lossy(&argv[1])
            );
        }
        return String::new();
    }
    format!(
        "{origin}unknown redis-cli internal command '{}'\n",
        String::from_utf8_lossy(&argv[0])
    )
}

/// rustyline's view of the help topics.
struct CliHelper {
    table: HelpTable,
    hints: bool,
}

impl Completer for CliHelper {
    type Candidate = String;

    fn complete(
        &self,
        line: &str,
        _pos: usize,
        _ctx: &Context<'_>,
    ) -> rustyline::Result<(usize, Vec<String>)> {
        Ok((0, self.table.complete(line)))
    }
}

impl Hinter for CliHelper {
    type Hint = String;

    fn hint(&self, line: &str, pos: usize, _ctx: &Context<'_>) -> Option<String> {
        if !self.hints || pos < line.len() {
            return None;
        }
        self.table.hint(line).filter(|h| !h.is_empty())
    }
}

impl Highlighter for CliHelper {
    fn highlight_hint<'h>(&self, hint: &'h str) -> Cow<'h, str> {
        Cow::Owned(format!("\x1b[0;90;49m{hint}\x1b[0m"))
    }
}

impl Validator for CliHelper {}
impl Helper for CliHelper {}

extern "C" fn on_sigint(_: libc::c_int) {
    if STREAMING.load(Ordering::SeqCst) {
        INTERRUPTED.store(true, Ordering::SeqCst);
    } else {
        // SAFETY: `_exit` is async-signal-safe; redis-cli ends on Ctrl-C outside a stream.
        unsafe { libc::_exit(1) };
    }
}

fn install_signal_handlers() {
    let handler = on_sigint as extern "C" fn(libc::c_int);
    // SAFETY: the handler only touches atomics and calls `_exit`; ignoring SIGPIPE makes a
    // write to a dropped connection an error we reconnect from, as redis-cli does.
    unsafe {
        libc::signal(libc::SIGINT, handler as libc::sighandler_t);
        libc::signal(libc::SIGPIPE, libc::SIG_IGN);
    }
}

/// What the loop does after a line.
enum Flow {
    Continue,
    Quit,
}

/// Runs one line typed at the prompt (or read from stdin).
fn handle_line(
    session: &mut Session,
    line: &str,
    history: &mut dyn FnMut(&str),
    hints: &mut bool,
) -> Result<Flow, Exit> {
    let mut stdout = io::stdout();
    let Some(argv) = crate::split_args(line.as_bytes()) else {
        let _ = stdout.write_all(b"Invalid argument(s)\n");
        let _ = stdout.flush();
        history(line);
        return Ok(Flow::Continue);
    };
    if argv.is_empty() {
        return Ok(Flow::Continue);
    }
    let (repeat, skip) = match (argv.len() > 1).then(|| repeat_count(&argv[0])).flatten() {
        Some(Ok(n)) => (n, 1),
        Some(Err(())) => {
            let _ = stdout.write_all(b"Invalid redis-cli repeat command option value.\n");
            let _ = stdout.flush();
            return Ok(Flow::Continue);
        }
        None => (1, 0),
    };
    let args = &argv[skip..];
    if !is_sensitive(args) {
        history(line);
    }
    let first = &argv[0];
    if first.eq_ignore_ascii_case(b"quit") || first.eq_ignore_ascii_case(b"exit") {
        return Ok(Flow::Quit);
    }
    if first.first() == Some(&b':') {
        let msg = set_preference(&argv, hints, true);
        let _ = stdout.write_all(msg.as_bytes());
        let _ = stdout.flush();
        return Ok(Flow::Continue);
    }
    if first.eq_ignore_ascii_case(b"restart") {
        let _ = stdout.write_all(b"Use 'restart' only in Lua debugging mode.\n");
        let _ = stdout.flush();
        return Ok(Flow::Continue);
    }
    if argv.len() == 3 && first.eq_ignore_ascii_case(b"connect") {
        session.opts.host = String::from_utf8_lossy(&argv[1]).into_owned();
        session.opts.port = crate::options::c_int(&String::from_utf8_lossy(&argv[2])) as i32;
        session.connect(true, false);
        return Ok(Flow::Continue);
    }
    if argv.len() == 1 && first.eq_ignore_ascii_case(b"clear") {
        let _ = stdout.write_all(b"\x1b[H\x1b[2J");
        let _ = stdout.flush();
        return Ok(Flow::Continue);
    }
    let start = Instant::now();
    session.issue(args, repeat)?;
    let elapsed = start.elapsed();
    if elapsed.as_millis() >= 500 && session.opts.output == Output::Standard {
        let _ = writeln!(stdout, "({:.2}s)", elapsed.as_secs_f64());
        let _ = stdout.flush();
    }
    Ok(Flow::Continue)
}

/// Reads `~/.redisclirc` (or `$REDISCLI_RCFILE`): `:set` lines.
fn load_preferences(hints: &mut bool) {
    let Some(path) = dotfile("REDISCLI_RCFILE", ".redisclirc") else {
        return;
    };
    let Ok(text) = std::fs::read(path) else {
        return;
    };
    for line in text.split(|&b| b == b'\n') {
        if let Some(argv) = crate::split_args(line) {
            if !argv.is_empty() {
                print!("{}", set_preference(&argv, hints, false));
            }
        }
    }
}

/// The REPL, or commands read line by line when stdin is not a terminal. Ends with exit 0 on
/// `quit`/`exit` or end of input.
pub(crate) fn run(session: &mut Session) -> Result<(), Exit> {
    install_signal_handlers();
    session.interactive = true;
    let table = session.help_table().clone();
    let mut hints = true;
    if !crate::stdin_is_tty() {
        let stdin = io::stdin();
        let mut input = stdin.lock();
        let mut line = Vec::new();
        loop {
            line.clear();
            match input.read_until(b'\n', &mut line) {
                Ok(0) | Err(_) => return Ok(()),
                Ok(_) => {}
            }
            if line.last() == Some(&b'\n') {
                line.pop();
            }
            let text = String::from_utf8_lossy(&line).into_owned();
            if text.is_empty() {
                continue;
            }
            if let Flow::Quit = handle_line(session, &text, &mut |_| {}, &mut hints)? {
                return Ok(());
            }
        }
    }
    let history_file = dotfile("REDISCLI_HISTFILE", ".rediscli_history");
    load_preferences(&mut hints);
    let mut editor: Editor<CliHelper, DefaultHistory> = match Editor::new() {
        Ok(editor) => editor,
        Err(e) => {
            eprintln!("Could not start the line editor: {e}");
            return Err(Exit(1));
        }
    };
    // rustyline takes SIGINT over for the editor's life; while a command runs the terminal is
    // in cooked mode and Ctrl-C must reach our handler (to end MONITOR/SUBSCRIBE).
    install_signal_handlers();
    editor.set_helper(Some(CliHelper { table, hints }));
    if let Some(path) = &history_file {
        let _ = editor.load_history(path);
    }
    loop {
        let prompt = if session.connected() {
            session.prompt()
        } else {
            "not connected> ".to_string()
        };
        let line = match editor.readline(&prompt) {
            Ok(line) => line,
            // Ctrl-C or Ctrl-D at the prompt ends redis-cli, as linenoise does.
            Err(_) => return Ok(()),
        };
        if line.is_empty() {
            continue;
        }
        let mut added = Vec::new();
        let flow = handle_line(
            session,
            &line,
            &mut |l| added.push(l.to_string()),
            &mut hints,
        )?;
        for entry in added {
            let _ = editor.add_history_entry(entry);
            if let Some(path) = &history_file {
                let _ = editor.save_history(path);
            }
        }
        if let Some(helper) = editor.helper_mut() {
            helper.hints = hints;
            if let Some(fresh) = session.loaded_help() {
                if fresh.entries.len() != helper.table.entries.len() {
                    helper.table = fresh.clone();
                }
            }
        }
        if let Flow::Quit = flow {
            return Ok(());
        }
    }
}

/// `--askpass`: reads a password without echoing it when stdin is a terminal.
pub(crate) fn ask_password(prompt: &str) -> String {
    let stdin = io::stdin();
    if !crate::stdin_is_tty() {
        let mut line = String::new();
        let _ = stdin.lock().read_line(&mut line);
        return line.trim_end_matches(['\n', '\r']).to_string();
    }
    let mut out = io::stdout();
    let _ = out.write_all(prompt.as_bytes());
    let _ = out.flush();
    // SAFETY: a zeroed termios is a valid value for tcgetattr to fill in.
    let mut saved: libc::termios = unsafe { std::mem::zeroed() };
    // SAFETY: fd 0 is our stdin and `saved` is a valid termios to write into.
    let have_termios = unsafe { libc::tcgetattr(0, &mut saved) } == 0;
    if have_termios {
        let mut quiet = saved;
        quiet.c_lflag &= !libc::ECHO;
        // SAFETY: `quiet` is a termios obtained from tcgetattr with ECHO cleared.
        unsafe { libc::tcsetattr(0, libc::TCSANOW, &quiet) };
    }
    let mut line = String::new();
    let _ = stdin.lock().read_line(&mut line);
    if have_termios {
        // SAFETY: restores the settings read above.
        unsafe { libc::tcsetattr(0, libc::TCSANOW, &saved) };
    }
    let _ = out.write_all(b"\n");
    line.trim_end_matches(['\n', '\r']).to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn repeat_counts_follow_strtol() {
        assert_eq!(repeat_count(b"3"), Some(Ok(3)));
        assert_eq!(repeat_count(b"0"), Some(Err(())));
        assert_eq!(repeat_count(b"-2"), Some(Err(())));
        assert_eq!(repeat_count(b"99999999999999999999"), Some(Err(())));
        assert_eq!(repeat_count(b"get"), None);
        assert_eq!(repeat_count(b"3x"), None);
    }

    #[test]
    fn secrets_stay_out_of_the_history() {
        let argv =
            |s: &str| -> Vec<Vec<u8>> { s.split(' ').map(|w| w.as_bytes().to_vec()).collect() };
        assert!(is_sensitive(&argv("AUTH pw")));
        assert!(is_sensitive(&argv("config set requirepass x")));
        assert!(is_sensitive(&argv("HELLO 3 AUTH u p")));
        assert!(!is_sensitive(&argv("HELLO 3 SETNAME n")));
        assert!(!is_sensitive(&argv("GET k")));
    }
}
