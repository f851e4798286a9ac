//! The crash report: a fatal signal (DEBUG SEGFAULT, kill -ABRT) writes Redis's bug report to
//! the log, then the process dies of that signal as it would have without the handler.

use std::os::unix::process::ExitStatusExt;
use std::process::Command;
use std::time::Duration;

use tests::TestServer;

const WAIT: Duration = Duration::from_secs(10);

fn assert_report(log: &str, signal: i32) {
    assert!(
        log.contains("=== REDIS BUG REPORT START: Cut & paste starting from here ==="),
        "{log}"
    );
    assert!(
        log.contains(&format!("crashed by signal: {signal}, si_code: ")),
        "{log}"
    );
    assert!(log.contains("------ STACK TRACE ------"), "{log}");
    assert!(log.contains("=== REDIS BUG REPORT END."), "{log}");
}

#[test]
fn debug_segfault_writes_the_report_and_dies_of_sigsegv() {
    let mut server = TestServer::with_args(&["--enable-debug-command", "yes"]);
    let mut c = server.connect();
    c.send_cmd(&["DEBUG", "SEGFAULT"]);
    let status = server.wait_exit(WAIT);
    assert_eq!(status.signal(), Some(11), "{status:?}");
    let log = server.log();
    assert_report(&log, 11);
    assert!(log.contains("# Accessing address: 0x"), "{log}");
}

#[test]
fn sigabrt_writes_the_report_with_the_sender() {
    let mut server = TestServer::start();
    let pid = server.pid().unwrap();
    let status = Command::new("kill")
        .args(["-ABRT", &pid.to_string()])
        .status()
        .unwrap();
    assert!(status.success());
    let status = server.wait_exit(WAIT);
    assert_eq!(status.signal(), Some(6), "{status:?}");
    let log = server.log();
    assert_report(&log, 6);
    assert!(log.contains("# Killed by PID: "), "{log}");
}
