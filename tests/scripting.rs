//! The scripting family: EVAL and FCALL over TCP, where a script's run meets other clients.

use std::time::{Duration, Instant};

use tests::TestServer;

const BUSY: &str =
    "-BUSY Redis is busy running a script. You can only call SCRIPT KILL or SHUTDOWN NOSAVE.\r\n";

/// A script that never ends must not starve the clients that share its connection's worker
/// thread: every client, on every worker, is answered BUSY, and SCRIPT KILL (sent from any of
/// them) ends the script.
#[test]
fn endless_script_leaves_every_worker_answering_busy_until_script_kill() {
    let server = TestServer::with_args(&["--server-threads", "2"]);
    let mut admin = server.connect();
    assert_eq!(
        admin.cmd(&["CONFIG", "SET", "busy-reply-threshold", "50"]),
        "+OK\r\n"
    );
    let mut runner = server.connect();
    runner.send_cmd(&["EVAL", "while true do end", "0"]);
    // Connections are dealt to workers in turn: these cover both, including the runner's.
    let mut others: Vec<_> = (0..4).map(|_| server.connect()).collect();
    let started = Instant::now();
    loop {
        let reply = others[0].cmd(&["PING"]);
        if reply == BUSY {
            break;
        }
        assert_eq!(reply, "+PONG\r\n", "before the script starts");
        assert!(
            started.elapsed() < Duration::from_secs(5),
            "script never ran"
        );
        std::thread::sleep(Duration::from_millis(10));
    }
    for other in &mut others {
        assert_eq!(other.cmd(&["GET", "k"]), BUSY);
        assert_eq!(other.cmd(&["EVAL", "return 1", "0"]), BUSY);
    }
    assert_eq!(admin.cmd(&["SET", "k", "v"]), BUSY);
    runner.assert_silent(Duration::from_millis(100));
    // The killer shares a worker with the runner (two workers, five connections since).
    assert_eq!(others[3].cmd(&["SCRIPT", "KILL"]), "+OK\r\n");
    let killed = runner.read_text();
    assert!(
        killed.starts_with("-ERR Script killed by user with SCRIPT KILL..."),
        "{killed}"
    );
    for other in &mut others {
        assert_eq!(other.cmd(&["PING"]), "+PONG\r\n");
    }
    assert_eq!(runner.cmd(&["EVAL", "return 7", "0"]), ":7\r\n");
}

/// A function called while another runs waits its turn, and is answered BUSY once the
/// running one passes `busy-reply-threshold`, even though it was queued for the script thread
/// before that.
#[test]
fn call_queued_behind_a_long_function_is_answered_busy_at_the_threshold() {
    let server = TestServer::start();
    let mut admin = server.connect();
    assert_eq!(
        admin.cmd(&["CONFIG", "SET", "busy-reply-threshold", "500"]),
        "+OK\r\n"
    );
    let library = "#!lua name=lib\n\
        redis.register_function('spin', function() while true do end end)\n\
        redis.register_function('one', function() return 1 end)";
    assert_eq!(admin.cmd(&["FUNCTION", "LOAD", library]), "$3\r\nlib\r\n");
    let mut runner = server.connect();
    runner.send_cmd(&["FCALL", "spin", "0"]);
    let started = Instant::now();
    // FUNCTION STATS answers while a function runs, and names it.
    while admin
        .cmd(&["FUNCTION", "STATS"])
        .starts_with("*4\r\n$14\r\nrunning_script\r\n$-1")
    {
        assert!(
            started.elapsed() < Duration::from_secs(5),
            "function never ran"
        );
        std::thread::sleep(Duration::from_millis(5));
    }
    let mut queued = server.connect();
    queued.send_cmd(&["FCALL", "one", "0"]);
    queued.set_timeout(Duration::from_secs(5));
    assert_eq!(
        queued.read_text(),
        "-BUSY Redis is busy running a script. You can only call FUNCTION KILL or SHUTDOWN NOSAVE.\r\n"
    );
    assert!(started.elapsed() >= Duration::from_millis(500));
    assert_eq!(admin.cmd(&["FUNCTION", "KILL"]), "+OK\r\n");
    let killed = runner.read_text();
    assert!(
        killed.starts_with("-ERR Script killed by user with SCRIPT KILL..."),
        "{killed}"
    );
    assert_eq!(queued.cmd(&["FCALL", "one", "0"]), ":1\r\n");
}

/// Scripts pipelined behind each other and behind plain commands all run, in order.
#[test]
fn pipelined_scripts_and_commands_reply_in_order() {
    let server = TestServer::start();
    let mut c = server.connect();
    let mut batch = Vec::new();
    for args in [
        &["SET", "n", "1"][..],
        &["EVAL", "return redis.call('INCR', KEYS[1])", "1", "n"],
        &["GET", "n"],
        &["EVAL", "return redis.call('INCRBY', KEYS[1], 10)", "1", "n"],
        &["PING"],
    ] {
        batch.extend_from_slice(format!("*{}\r\n", args.len()).as_bytes());
        for a in args {
            batch.extend_from_slice(format!("${}\r\n{a}\r\n", a.len()).as_bytes());
        }
    }
    c.send(&batch);
    let replies: Vec<String> = (0..5).map(|_| c.read_text()).collect();
    assert_eq!(
        replies,
        ["+OK\r\n", ":2\r\n", "$1\r\n2\r\n", ":12\r\n", "+PONG\r\n"]
    );
}

/// Past `busy-reply-threshold` a script's run is logged once, with Redis's line naming the
/// script (an EVAL's SHA1) and how to kill it.
#[test]
fn a_slow_script_is_logged_once_with_its_name() {
    let server = TestServer::start();
    let mut c = server.connect();
    assert_eq!(
        c.cmd(&["CONFIG", "SET", "busy-reply-threshold", "100"]),
        "+OK\r\n"
    );
    let script = "local t = redis.call('time') while true do local n = redis.call('time') if (n[1] - t[1]) * 1000000 + n[2] - t[2] > 400000 then break end end return 1";
    assert_eq!(c.cmd(&["EVAL", script, "0"]), ":1\r\n");
    let sha = c.cmd(&["SCRIPT", "LOAD", script]);
    let sha = sha.lines().nth(1).unwrap();
    let log = server.log();
    let lines: Vec<_> = log.lines().filter(|l| l.contains("Slow script")).collect();
    assert_eq!(lines.len(), 1, "{log}");
    assert!(
        lines[0].contains(
            "Slow script detected: still in execution after 1"
        ) && lines[0].ends_with(&format!(
            "milliseconds. You can try killing the script using the SCRIPT KILL command. Script name is: {sha}."
        )),
        "{}",
        lines[0]
    );
}

/// A script queued behind a long one is timed from when it runs, not from when it arrived:
/// its wait is not its time (SLOWLOG, INFO commandstats), as in Redis, where it waits unread.
#[test]
fn a_script_queued_behind_a_long_one_is_not_timed_for_its_wait() {
    let server = TestServer::start();
    let mut admin = server.connect();
    assert_eq!(
        admin.cmd(&["CONFIG", "SET", "slowlog-log-slower-than", "100000"]),
        "+OK\r\n"
    );
    assert_eq!(admin.cmd(&["SLOWLOG", "RESET"]), "+OK\r\n");
    let long = "local s = redis.call('TIME') \
        while true do \
          local n = redis.call('TIME') \
          if (n[1] - s[1]) * 1000000 + (n[2] - s[2]) > 300000 then return 1 end \
        end";
    let mut runner = server.connect();
    runner.send_cmd(&["EVAL", long, "0"]);
    std::thread::sleep(Duration::from_millis(50));
    let mut queued = server.connect();
    let started = Instant::now();
    assert_eq!(queued.cmd(&["EVAL", "return 2", "0"]), ":2\r\n");
    assert!(
        started.elapsed() >= Duration::from_millis(150),
        "the quick script did not wait for the long one"
    );
    assert_eq!(runner.read_text(), ":1\r\n");
    // Only the long script is slow.
    assert_eq!(admin.cmd(&["SLOWLOG", "LEN"]), ":1\r\n");
}
