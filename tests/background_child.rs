//! Background saves and AOF rewrites write their file through a child process: killing it
//! fails the job as killing Redis's forked child does, and leaves no temp file behind.

use std::process::Command;
use std::time::{Duration, Instant};

use tests::TestServer;

fn info_field(c: &mut tests::Conn, field: &str) -> String {
    let info = c.cmd(&["INFO", "persistence"]);
    info.lines()
        .find_map(|l| l.strip_prefix(&format!("{field}:")))
        .unwrap_or_default()
        .to_owned()
}

fn child_of(pid: u32) -> u32 {
    let out = Command::new("pgrep")
        .args(["-P", &pid.to_string()])
        .output()
        .unwrap();
    String::from_utf8_lossy(&out.stdout)
        .lines()
        .next()
        .unwrap_or_else(|| panic!("no child of {pid}"))
        .trim()
        .parse()
        .unwrap()
}

/// Kills `pid` as the Redis suite kills a background child (`kill -9`).
fn kill_9(pid: u32) {
    assert!(
        Command::new("kill")
            .args(["-9", &pid.to_string()])
            .status()
            .unwrap()
            .success()
    );
}

fn wait_until(mut done: impl FnMut() -> bool) {
    let deadline = Instant::now() + Duration::from_secs(10);
    while !done() {
        assert!(Instant::now() < deadline, "timed out");
        std::thread::sleep(Duration::from_millis(20));
    }
}

#[test]
fn a_killed_bgsave_child_fails_the_save() {
    let server = TestServer::start();
    let mut c = server.connect();
    // With save points, a failed background save stops writes (MISCONF).
    assert_eq!(c.cmd(&["CONFIG", "SET", "save", "3600 1000"]), "+OK\r\n");
    assert_eq!(
        c.cmd(&["CONFIG", "SET", "rdb-key-save-delay", "10000000"]),
        "+OK\r\n"
    );
    assert_eq!(c.cmd(&["SET", "k", "v"]), "+OK\r\n");
    assert_eq!(c.cmd(&["BGSAVE"]), "+Background saving started\r\n");
    let child = child_of(server.pid().unwrap());
    kill_9(child);
    wait_until(|| info_field(&mut c, "rdb_bgsave_in_progress") == "0");
    assert_eq!(info_field(&mut c, "rdb_last_bgsave_status"), "err");
    assert!(
        !server.dir().join(format!("temp-{child}.rdb")).exists(),
        "temp file left"
    );
    assert!(
        server
            .log()
            .contains("Background saving terminated by signal 9"),
        "{}",
        server.log()
    );
    // Writes are refused until a save succeeds, as with Redis's MISCONF.
    assert!(c.cmd(&["SET", "k", "w"]).starts_with("-MISCONF"));
    assert_eq!(
        c.cmd(&["CONFIG", "SET", "rdb-key-save-delay", "0"]),
        "+OK\r\n"
    );
    c.cmd(&["BGSAVE"]);
    wait_until(|| info_field(&mut c, "rdb_last_bgsave_status") == "ok");
    assert_eq!(c.cmd(&["SET", "k", "w"]), "+OK\r\n");
}

#[test]
fn a_killed_rewrite_child_fails_the_rewrite() {
    let server = TestServer::with_args(&["--appendonly", "yes"]);
    let mut c = server.connect();
    wait_until(|| info_field(&mut c, "aof_rewrite_in_progress") == "0");
    assert_eq!(
        c.cmd(&["CONFIG", "SET", "rdb-key-save-delay", "10000000"]),
        "+OK\r\n"
    );
    assert_eq!(c.cmd(&["SET", "k", "v"]), "+OK\r\n");
    c.cmd(&["BGREWRITEAOF"]);
    let child = child_of(server.pid().unwrap());
    kill_9(child);
    wait_until(|| info_field(&mut c, "aof_rewrite_in_progress") == "0");
    assert_eq!(info_field(&mut c, "aof_last_bgrewrite_status"), "err");
    assert!(
        !server
            .dir()
            .join(format!("appendonlydir/temp-rewriteaof-bg-{child}.aof"))
            .exists()
    );
    assert!(
        server
            .log()
            .contains("Background AOF rewrite terminated by signal 9"),
        "{}",
        server.log()
    );
}

fn oom_score(pid: u32) -> i32 {
    std::fs::read_to_string(format!("/proc/{pid}/oom_score_adj"))
        .unwrap()
        .trim()
        .parse()
        .unwrap()
}

/// As in Redis, `oom-score-adj-values` names the master, replica and background-child
/// classes: REPLICAOF moves the server to the second, the writer child takes the third.
#[test]
fn oom_score_follows_the_role_and_the_child_takes_its_class() {
    let server = TestServer::start();
    let pid = server.pid().unwrap();
    let base = oom_score(pid);
    let mut c = server.connect();
    assert_eq!(
        c.cmd(&["CONFIG", "SET", "oom-score-adj-values", "10 20 30"]),
        "+OK\r\n"
    );
    assert_eq!(c.cmd(&["CONFIG", "SET", "oom-score-adj", "yes"]), "+OK\r\n");
    assert_eq!(oom_score(pid), base + 10);
    assert_eq!(c.cmd(&["REPLICAOF", "localhost", "1"]), "+OK\r\n");
    assert_eq!(oom_score(pid), base + 20);
    // A changed value of the current class applies at once.
    assert_eq!(
        c.cmd(&["CONFIG", "SET", "oom-score-adj-values", "10 25 30"]),
        "+OK\r\n"
    );
    assert_eq!(oom_score(pid), base + 25);
    assert_eq!(c.cmd(&["REPLICAOF", "NO", "ONE"]), "+OK\r\n");
    assert_eq!(oom_score(pid), base + 10);
    assert_eq!(
        c.cmd(&["CONFIG", "SET", "rdb-key-save-delay", "10000000"]),
        "+OK\r\n"
    );
    assert_eq!(c.cmd(&["SET", "k", "v"]), "+OK\r\n");
    assert_eq!(c.cmd(&["BGSAVE"]), "+Background saving started\r\n");
    let child = child_of(pid);
    wait_until(|| oom_score(child) == base + 30);
    assert_eq!(oom_score(pid), base + 10);
    // Off: the original score is back, and REPLICAOF leaves it alone.
    assert_eq!(c.cmd(&["CONFIG", "SET", "oom-score-adj", "no"]), "+OK\r\n");
    assert_eq!(oom_score(pid), base);
    assert_eq!(c.cmd(&["REPLICAOF", "localhost", "1"]), "+OK\r\n");
    assert_eq!(oom_score(pid), base);
}

/// `appendonly yes` at run time: until the first rewrite succeeds, writes go to a temporary
/// incremental file the manifest does not name; a failed rewrite removes it and the next
/// one starts by itself; the one that succeeds turns it into the folder's first incr file.
#[test]
fn appendonly_yes_writes_a_temp_incr_until_the_first_rewrite_succeeds() {
    let server = TestServer::with_args(&["--enable-debug-command", "yes"]);
    let mut c = server.connect();
    let folder = server.dir().join("appendonlydir");
    assert_eq!(c.cmd(&["SET", "k", "1"]), "+OK\r\n");
    assert_eq!(
        c.cmd(&["CONFIG", "SET", "rdb-key-save-delay", "10000000"]),
        "+OK\r\n"
    );
    assert_eq!(c.cmd(&["CONFIG", "SET", "appendonly", "yes"]), "+OK\r\n");
    assert_eq!(info_field(&mut c, "aof_rewrite_in_progress"), "1");
    wait_until(|| folder.join("temp-appendonly.aof.incr").exists());
    assert_eq!(c.cmd(&["INCR", "k"]), ":2\r\n");
    let first = child_of(server.pid().unwrap());
    kill_9(first);
    let removed = "Removing the temp incr aof file temp-appendonly.aof.incr in the background";
    wait_until(|| server.log().matches(removed).count() == 1);
    assert!(!folder.join("appendonly.aof.manifest").exists());
    assert!(!folder.join("appendonly.aof.1.base.rdb").exists());
    // The cron starts the next rewrite; this one succeeds.
    wait_until(|| {
        info_field(&mut c, "aof_rewrite_in_progress") == "1"
            && child_of(server.pid().unwrap()) != first
    });
    assert_eq!(
        c.cmd(&["CONFIG", "SET", "rdb-key-save-delay", "0"]),
        "+OK\r\n"
    );
    kill_9(child_of(server.pid().unwrap()));
    wait_until(|| {
        server
            .log()
            .contains("Background AOF rewrite finished successfully")
    });
    assert_eq!(server.log().matches(removed).count(), 2);
    assert_eq!(
        std::fs::read_to_string(folder.join("appendonly.aof.manifest")).unwrap(),
        "file appendonly.aof.1.base.rdb seq 1 type b\nfile appendonly.aof.1.incr.aof seq 1 type i\n"
    );
    assert!(!folder.join("temp-appendonly.aof.incr").exists());
    assert_eq!(c.cmd(&["INCR", "k"]), ":3\r\n");
    // What the files hold loads back to the same value.
    assert_eq!(c.cmd(&["DEBUG", "LOADAOF"]), "+OK\r\n");
    assert_eq!(c.cmd(&["GET", "k"]), "$1\r\n3\r\n");
}
