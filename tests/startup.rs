//! Start-up and shutdown: config files and `--opt` overrides, fatal config errors, the log,
//! signals, the pid file and the Unix socket.

use std::time::Duration;

use tests::{Conn, TestServer, our_binary};

const EXIT_TIMEOUT: Duration = Duration::from_secs(10);

#[test]
fn command_line_options_override_the_config_file() {
    // The file asks for a privileged port and an unroutable address; the harness's
    // `--port N --bind 127.0.0.1` come after it and win, or the server could not start.
    let server = TestServer::with_config("port 1\nbind 10.255.255.1\nmaxmemory 5mb\n");
    let mut c = server.connect();
    assert_eq!(c.cmd(&["PING"]), "+PONG\r\n");
    assert_eq!(
        c.cmd(&["CONFIG", "GET", "maxmemory"]),
        "*2\r\n$9\r\nmaxmemory\r\n$7\r\n5242880\r\n"
    );
    let overridden = TestServer::builder()
        .config("maxmemory 5mb\n")
        .args(&["--maxmemory", "7mb"])
        .start();
    assert_eq!(
        overridden.connect().cmd(&["CONFIG", "GET", "maxmemory"]),
        "*2\r\n$9\r\nmaxmemory\r\n$7\r\n7340032\r\n"
    );
}

#[test]
fn config_file_requirepass_takes_effect() {
    let server = TestServer::with_config("requirepass s3cret\n");
    let mut c = server.connect();
    assert_eq!(c.cmd(&["PING"]), "-NOAUTH Authentication required.\r\n");
}

#[test]
fn unknown_option_exits_with_code_1() {
    let (_dir, out) = TestServer::builder()
        .without_defaults()
        .args(&["--nosuchopt", "1"])
        .run_to_exit(EXIT_TIMEOUT);
    assert_eq!(out.status.code(), Some(1));
    assert_eq!(
        String::from_utf8_lossy(&out.stderr),
        "\n*** FATAL CONFIG FILE ERROR (Redis 7.0.15) ***\nReading the configuration file, at line 3\n>>> 'nosuchopt \"1\"'\nBad directive or wrong number of arguments\n"
    );
}

#[test]
fn bad_value_in_config_file_names_the_line_and_exits_with_code_1() {
    let (_dir, out) = TestServer::builder()
        .config("# comment\n\nmaxmemory lots\n")
        .run_to_exit(EXIT_TIMEOUT);
    assert_eq!(out.status.code(), Some(1));
    assert_eq!(
        String::from_utf8_lossy(&out.stderr),
        "\n*** FATAL CONFIG FILE ERROR (Redis 7.0.15) ***\nReading the configuration file, at line 3\n>>> 'maxmemory lots'\nargument must be a memory value\n"
    );
}

#[test]
fn version_flag_prints_the_redis_version() {
    let out = tests::tools::run(
        std::process::Command::new(our_binary()).arg("--version"),
        b"",
        EXIT_TIMEOUT,
    );
    assert!(out.status.success());
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(text.starts_with("Redis server v=7.0.15 sha="), "{text}");
}

#[test]
fn log_shows_the_logo_pid_and_ready_line() {
    let server = TestServer::with_args(&["--always-show-logo", "yes"]);
    assert!(
        server.wait_for_log("Ready to accept connections", EXIT_TIMEOUT),
        "no ready line"
    );
    let log = server.log();
    let pid = server.pid().unwrap();
    assert!(log.contains(&format!(" PID: {pid}")), "{log}");
    assert!(log.contains(&format!("Port: {}", server.port())), "{log}");
    assert!(
        log.contains("oO0OoO0OoO0Oo Redis is starting oO0OoO0OoO0Oo"),
        "{log}"
    );
}

#[test]
fn sigterm_exits_gracefully_with_code_0() {
    let mut server = TestServer::start();
    let status = server.terminate(EXIT_TIMEOUT);
    assert_eq!(status.code(), Some(0), "{status}");
    let log = server.log();
    assert!(
        log.contains("Received SIGTERM scheduling shutdown..."),
        "{log}"
    );
    assert!(
        log.contains("Redis is now ready to exit, bye bye..."),
        "{log}"
    );
}

#[test]
fn shutdown_command_exits_with_code_0() {
    let mut server = TestServer::start();
    let mut c = server.connect();
    c.send(b"SHUTDOWN NOSAVE\r\n");
    assert_eq!(String::from_utf8_lossy(&c.read_to_close()), "");
    assert_eq!(server.wait_exit(EXIT_TIMEOUT).code(), Some(0));
    assert!(server.log().contains("ready to exit, bye bye"));
}

#[test]
fn pidfile_is_written_at_start_and_removed_at_exit() {
    let dir = tests::TempDir::new();
    let pidfile = dir.path().join("redis.pid");
    let mut server = TestServer::with_args(&["--pidfile", &pidfile.to_string_lossy()]);
    let pid = server.pid().unwrap();
    let written = std::fs::read_to_string(&pidfile).unwrap();
    assert_eq!(written.trim(), pid.to_string());
    assert_eq!(server.terminate(EXIT_TIMEOUT).code(), Some(0));
    assert!(!pidfile.exists(), "the pid file is still there");
}

#[test]
fn unixsocket_accepts_commands_and_is_removed_at_exit() {
    let dir = tests::TempDir::new();
    let sock = dir.path().join("redis.sock");
    let mut server = TestServer::with_args(&[
        "--unixsocket",
        &sock.to_string_lossy(),
        "--unixsocketperm",
        "700",
    ]);
    let mut c = Conn::unix(&sock).unwrap();
    assert_eq!(c.cmd(&["PING"]), "+PONG\r\n");
    use std::os::unix::fs::PermissionsExt;
    let mode = std::fs::metadata(&sock).unwrap().permissions().mode() & 0o777;
    assert_eq!(mode, 0o700);
    drop(c);
    assert_eq!(server.terminate(EXIT_TIMEOUT).code(), Some(0));
    assert!(!sock.exists(), "the socket file is still there");
}

#[test]
fn logfile_option_writes_the_log_there() {
    let dir = tests::TempDir::new();
    let logfile = dir.path().join("out.log");
    let server = TestServer::with_args(&["--logfile", &logfile.to_string_lossy()]);
    assert_eq!(server.connect().cmd(&["PING"]), "+PONG\r\n");
    let text = std::fs::read_to_string(&logfile).unwrap();
    assert!(text.contains("Ready to accept connections"), "{text}");
}

#[test]
fn config_rewrite_keeps_the_file_and_survives_a_restart() {
    let server = TestServer::with_config(
        "# my settings\nmaxmemory 5mb\ntimeout 5\ntimeout 6\nrename-command flushdb badger\n",
    );
    let mut c = server.connect();
    assert_eq!(
        c.cmd(&[
            "CONFIG",
            "SET",
            "maxmemory",
            "7mb",
            "hz",
            "20",
            "timeout",
            "0"
        ]),
        "+OK\r\n"
    );
    assert_eq!(
        c.cmd(&["CONFIG", "SET", "notify-keyspace-events", "KEA"]),
        "+OK\r\n"
    );
    assert_eq!(c.cmd(&["CONFIG", "REWRITE"]), "+OK\r\n");
    let text = std::fs::read_to_string(server.dir().join("redis.conf")).unwrap();
    assert!(
        text.starts_with(
            "# my settings\nmaxmemory 7mb\ntimeout 0\n\nrename-command flushdb badger\n"
        ),
        "{text}"
    );
    assert!(text.contains("\n# Generated by CONFIG REWRITE\n"), "{text}");
    assert!(text.contains("\nhz 20\n"), "{text}");
    assert!(
        text.contains("\nnotify-keyspace-events \"AKE\"\n"),
        "{text}"
    );
    assert!(text.contains("\nsave \"\"\n"), "{text}");
    // No temporary file is left beside it.
    let leftovers: Vec<_> = std::fs::read_dir(server.dir())
        .unwrap()
        .filter_map(|e| e.ok())
        .filter(|e| e.file_name().to_string_lossy().starts_with("redis.conf."))
        .collect();
    assert!(leftovers.is_empty());

    let restarted = TestServer::with_config(&text);
    let mut c = restarted.connect();
    assert_eq!(
        c.cmd(&["CONFIG", "GET", "maxmemory"]),
        "*2\r\n$9\r\nmaxmemory\r\n$7\r\n7340032\r\n"
    );
    assert_eq!(
        c.cmd(&["CONFIG", "GET", "hz"]),
        "*2\r\n$2\r\nhz\r\n$2\r\n20\r\n"
    );
    assert_eq!(
        c.cmd(&["CONFIG", "GET", "notify-keyspace-events"]),
        "*2\r\n$22\r\nnotify-keyspace-events\r\n$3\r\nAKE\r\n"
    );
    assert!(
        c.cmd(&["FLUSHDB"])
            .starts_with("-ERR unknown command 'FLUSHDB'")
    );
}

#[test]
fn config_rewrite_errors() {
    let server = TestServer::start();
    let mut c = server.connect();
    assert_eq!(
        c.cmd(&["CONFIG", "REWRITE"]),
        "-ERR The server is running without a config file\r\n"
    );
    // A config file in a directory that is gone cannot be replaced.
    let server = TestServer::with_config("timeout 3\n");
    let mut c = server.connect();
    std::fs::remove_dir_all(server.dir()).unwrap();
    assert_eq!(
        c.cmd(&["CONFIG", "REWRITE"]),
        "-ERR Rewriting config file: No such file or directory\r\n"
    );
}
