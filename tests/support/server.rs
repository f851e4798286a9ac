//! Starting server binaries on free loopback ports.

use std::fs::{self, File};
use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitStatus, Output, Stdio};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use super::conn::Conn;
use super::tools;

/// The command that builds what these tests need.
const BUILD_COMMAND: &str = "cargo build --workspace --bins && cargo test --workspace";

/// How long a server may take to answer its first PING.
const START_TIMEOUT: Duration = Duration::from_secs(20);

/// Attempts at finding a port nobody else grabbed in the meantime.
const PORT_ATTEMPTS: usize = 8;

/// A directory under the system's temp folder, removed on drop.
pub struct TempDir {
    path: PathBuf,
}

impl TempDir {
    /// Creates a fresh, empty directory.
    pub fn new() -> TempDir {
        static NEXT: AtomicUsize = AtomicUsize::new(0);
        let nanos = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.subsec_nanos());
        let path = std::env::temp_dir().join(format!(
            "rr-test-{}-{}-{nanos}",
            std::process::id(),
            NEXT.fetch_add(1, Ordering::Relaxed)
        ));
        fs::create_dir_all(&path).unwrap_or_else(|e| panic!("creating {}: {e}", path.display()));
        TempDir { path }
    }

    /// The directory.
    pub fn path(&self) -> &Path {
        &self.path
    }
}

impl Default for TempDir {
    fn default() -> Self {
        TempDir::new()
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = fs::remove_dir_all(&self.path);
    }
}

/// Our `redis-server`, next to the test binary's folder (`target/<profile>/`), or the binary
/// named by `REDIS_TEST_SERVER`.
pub fn our_binary() -> PathBuf {
    if let Some(path) = std::env::var_os("REDIS_TEST_SERVER") {
        return PathBuf::from(path);
    }
    sibling_binary("redis-server")
}

/// A workspace binary built beside the test executable; panics naming the build command when
/// it is missing.
pub fn sibling_binary(name: &str) -> PathBuf {
    let exe = std::env::current_exe().unwrap_or_else(|e| panic!("current_exe: {e}"));
    // target/<profile>/deps/integration-<hash> → target/<profile>/<name>
    let dir = exe
        .parent()
        .and_then(Path::parent)
        .unwrap_or_else(|| panic!("{} has no grandparent folder", exe.display()));
    let path = dir.join(name);
    assert!(
        path.is_file(),
        "{} is missing: `cargo test --workspace` does not build other packages' binaries; run `{BUILD_COMMAND}`",
        path.display()
    );
    path
}

/// How to start a server: binary, config file text, extra arguments.
pub struct ServerBuilder {
    binary: PathBuf,
    label: &'static str,
    config: Option<String>,
    args: Vec<String>,
    defaults: bool,
}

impl ServerBuilder {
    /// A builder for `binary`; `label` names it in messages ("ours", "real").
    pub fn new(binary: PathBuf, label: &'static str) -> ServerBuilder {
        ServerBuilder {
            binary,
            label,
            config: None,
            args: Vec::new(),
            defaults: true,
        }
    }

    /// Starts from a config file with this text (written into the server's folder).
    pub fn config(mut self, text: &str) -> Self {
        self.config = Some(text.to_owned());
        self
    }

    /// Adds `--opt value` style arguments after the harness's own.
    pub fn args<S: AsRef<str>>(mut self, args: &[S]) -> Self {
        self.args.extend(args.iter().map(|a| a.as_ref().to_owned()));
        self
    }

    /// Leaves out the harness's `--save '' --bind 127.0.0.1 --dir <tmp>
    /// --repl-diskless-sync-delay 0` (the port stays).
    pub fn without_defaults(mut self) -> Self {
        self.defaults = false;
        self
    }

    /// Starts the server and waits until it answers PING (its dataset loaded).
    pub fn start(self) -> TestServer {
        self.start_until(false)
    }

    /// Starts the server and returns once it answers at all, `-LOADING` included (the
    /// dataset may still be loading).
    pub fn start_loading(self) -> TestServer {
        self.start_until(true)
    }

    fn start_until(self, loading_ok: bool) -> TestServer {
        let mut last_log = String::new();
        for _ in 0..PORT_ATTEMPTS {
            let port = free_port();
            let dir = TempDir::new();
            match self.spawn_on(port, dir, loading_ok) {
                Ok(server) => return server,
                Err(Retry(log)) => last_log = log,
            }
        }
        panic!(
            "{} server never started on a free port; last log:\n{last_log}",
            self.label
        );
    }

    /// The argument list for `port` in `dir` (the config file, when any, is written there).
    fn command_line(&self, port: u16, dir: &Path) -> Vec<String> {
        let mut argv = Vec::new();
        if let Some(text) = &self.config {
            let path = dir.join("redis.conf");
            fs::write(&path, text).unwrap_or_else(|e| panic!("writing {}: {e}", path.display()));
            argv.push(path.to_string_lossy().into_owned());
        }
        argv.extend(["--port".into(), port.to_string()]);
        if self.defaults {
            argv.extend([
                "--save".into(),
                String::new(),
                "--bind".into(),
                "127.0.0.1".into(),
                "--dir".into(),
                dir.to_string_lossy().into_owned(),
                // As the Redis suite's own default.conf: replicas get their snapshot at once,
                // not after the 5 s a diskless sync waits for more replicas by default.
                "--repl-diskless-sync-delay".into(),
                "0".into(),
            ]);
        }
        argv.extend(self.args.iter().cloned());
        argv
    }

    fn spawn_on(&self, port: u16, dir: TempDir, loading_ok: bool) -> Result<TestServer, Retry> {
        let argv = self.command_line(port, dir.path());
        let log_path = dir.path().join("server.log");
        let log = File::create(&log_path).unwrap_or_else(|e| panic!("creating the log: {e}"));
        let log_err = log
            .try_clone()
            .unwrap_or_else(|e| panic!("cloning the log handle: {e}"));
        let child = Command::new(&self.binary)
            .args(&argv)
            .current_dir(dir.path())
            .stdin(Stdio::null())
            .stdout(log)
            .stderr(log_err)
            .spawn()
            .unwrap_or_else(|e| panic!("starting {}: {e}", self.binary.display()));
        let mut server = TestServer {
            child: Some(child),
            port,
            dir,
            log_path,
            label: self.label,
            argv,
        };
        let deadline = Instant::now() + START_TIMEOUT;
        loop {
            if let Some(status) = server.try_exit_status() {
                let log = server.log();
                server.child = None;
                if log.contains("Failed listening on port")
                    || log.contains("Address already in use")
                {
                    return Err(Retry(log));
                }
                panic!(
                    "{} server exited with {status} at start-up ({:?}); log:\n{log}",
                    self.label, server.argv
                );
            }
            if let Ok(mut conn) = Conn::tcp(port) {
                conn.send(b"*1\r\n$4\r\nPING\r\n");
                // Any reply will do (`-NOAUTH` means it is up too), but `-LOADING` unless
                // asked for: the dataset is still loading.
                match conn.try_read_reply(Duration::from_secs(2)) {
                    Ok(reply) if loading_ok || !reply.starts_with(b"-LOADING") => {
                        return Ok(server);
                    }
                    _ => {}
                }
            }
            assert!(
                Instant::now() < deadline,
                "{} server did not answer PING within {START_TIMEOUT:?}; log:\n{}",
                self.label,
                server.log()
            );
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    /// Runs the binary to its exit (for start-up failures), with a port from the harness.
    pub fn run_to_exit(self, timeout: Duration) -> (TempDir, Output) {
        let dir = TempDir::new();
        let argv = self.command_line(free_port(), dir.path());
        let child = Command::new(&self.binary)
            .args(&argv)
            .current_dir(dir.path())
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap_or_else(|e| panic!("starting {}: {e}", self.binary.display()));
        let output = tools::wait_with_timeout(child, timeout, &self.binary.to_string_lossy());
        (dir, output)
    }
}

/// The port was taken between finding it and binding it.
struct Retry(String);

/// A loopback port that was free a moment ago.
pub fn free_port() -> u16 {
    let listener =
        TcpListener::bind(("127.0.0.1", 0)).unwrap_or_else(|e| panic!("binding 127.0.0.1:0: {e}"));
    listener
        .local_addr()
        .unwrap_or_else(|e| panic!("local_addr: {e}"))
        .port()
}

/// A running server; killed on drop, its log printed when the test is failing.
pub struct TestServer {
    child: Option<Child>,
    port: u16,
    dir: TempDir,
    log_path: PathBuf,
    label: &'static str,
    argv: Vec<String>,
}

impl TestServer {
    /// Our server with the harness's defaults.
    pub fn start() -> TestServer {
        TestServer::builder().start()
    }

    /// Our server with extra `--opt value` arguments.
    pub fn with_args<S: AsRef<str>>(args: &[S]) -> TestServer {
        TestServer::builder().args(args).start()
    }

    /// Our server from a config file with this text.
    pub fn with_config(text: &str) -> TestServer {
        TestServer::builder().config(text).start()
    }

    /// A builder for our server.
    pub fn builder() -> ServerBuilder {
        ServerBuilder::new(our_binary(), "ours")
    }

    /// The TCP port.
    pub fn port(&self) -> u16 {
        self.port
    }

    /// The server's working directory (`--dir`).
    pub fn dir(&self) -> &Path {
        self.dir.path()
    }

    /// The child's pid while it runs.
    pub fn pid(&self) -> Option<u32> {
        self.child.as_ref().map(Child::id)
    }

    /// A new TCP connection.
    pub fn connect(&self) -> Conn {
        Conn::tcp(self.port)
            .unwrap_or_else(|e| panic!("connecting to {} server on {}: {e}", self.label, self.port))
    }

    /// Everything the server wrote to stdout and stderr so far.
    pub fn log(&self) -> String {
        fs::read(&self.log_path)
            .map(|b| String::from_utf8_lossy(&b).into_owned())
            .unwrap_or_default()
    }

    /// Waits until the log contains `needle`; false on timeout.
    pub fn wait_for_log(&self, needle: &str, timeout: Duration) -> bool {
        let deadline = Instant::now() + timeout;
        loop {
            if self.log().contains(needle) {
                return true;
            }
            if Instant::now() >= deadline {
                return false;
            }
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    fn try_exit_status(&mut self) -> Option<ExitStatus> {
        let child = self.child.as_mut()?;
        child.try_wait().ok().flatten()
    }

    /// Sends SIGTERM and waits for the exit; returns its status.
    pub fn terminate(&mut self, timeout: Duration) -> ExitStatus {
        let pid = self
            .pid()
            .unwrap_or_else(|| panic!("the server is not running"));
        let status = Command::new("kill")
            .args(["-TERM", &pid.to_string()])
            .status()
            .unwrap_or_else(|e| panic!("running kill: {e}"));
        assert!(status.success(), "kill -TERM {pid} failed");
        self.wait_exit(timeout)
    }

    /// Waits for the server to exit by itself (after SHUTDOWN, say).
    pub fn wait_exit(&mut self, timeout: Duration) -> ExitStatus {
        let deadline = Instant::now() + timeout;
        loop {
            if let Some(status) = self.try_exit_status() {
                self.child = None;
                return status;
            }
            assert!(
                Instant::now() < deadline,
                "{} server still running {timeout:?} later; log:\n{}",
                self.label,
                self.log()
            );
            std::thread::sleep(Duration::from_millis(20));
        }
    }
}

impl Drop for TestServer {
    fn drop(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
        if std::thread::panicking() {
            eprintln!(
                "---- {} server log ({} {}) ----\n{}---- end of log ----",
                self.label,
                self.argv.join(" "),
                self.log_path.display(),
                self.log()
            );
        }
    }
}

/// Real Redis (Debian's `/usr/bin/redis-server`) started the same way, for interop tests.
pub struct RealRedis;

impl RealRedis {
    /// A builder for real Redis, or `None` (after printing a skip line) when it is not
    /// installed; under `CI=true` a missing binary fails the test instead.
    pub fn builder() -> Option<ServerBuilder> {
        tools::real_binary("redis-server").map(|bin| ServerBuilder::new(bin, "real"))
    }

    /// Real Redis with the harness's defaults (see [`RealRedis::builder`]).
    pub fn start() -> Option<TestServer> {
        RealRedis::builder().map(ServerBuilder::start)
    }
}
