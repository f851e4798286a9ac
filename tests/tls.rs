//! TLS: `tls-port` beside `port`, `tls-auth-clients`, CONFIG SET of the TLS directives, and
//! our redis-cli and redis-benchmark (and real redis-cli) over TLS. Certificates are made at
//! test time with the `openssl` tool, as the Redis suite's `utils/gen-test-certs.sh` makes
//! them: a CA, a server certificate and a client certificate.

use std::path::Path;
use std::process::{Command, Output, Stdio};
use std::time::{Duration, Instant};

use tests::{TempDir, TestServer, free_port, sibling_binary, tools};

/// A CA and the certificates it signed, in a temporary folder.
struct Certs {
    dir: TempDir,
}

impl Certs {
    /// Makes them with `openssl`; `None` (a printed skip) when it is missing outside CI.
    fn generate() -> Option<Certs> {
        if Command::new("openssl").arg("version").output().is_err() {
            assert!(!tools::in_ci(), "openssl is not installed and CI=true");
            eprintln!("skipped: openssl is not installed");
            return None;
        }
        let certs = Certs {
            dir: TempDir::new(),
        };
        let openssl = |args: &[&str]| {
            let out = Command::new("openssl")
                .args(args)
                .current_dir(certs.dir.path())
                .stdin(Stdio::null())
                .output()
                .unwrap();
            assert!(
                out.status.success(),
                "openssl {args:?}: {}",
                String::from_utf8_lossy(&out.stderr)
            );
        };
        openssl(&["genrsa", "-out", "ca.key", "2048"]);
        openssl(&[
            "req",
            "-x509",
            "-new",
            "-nodes",
            "-sha256",
            "-key",
            "ca.key",
            "-days",
            "30",
            "-subj",
            "/O=Redis Test/CN=Certificate Authority",
            "-out",
            "ca.crt",
        ]);
        std::fs::write(
            certs.dir.path().join("ext.cnf"),
            "[ server_cert ]\nkeyUsage = digitalSignature, keyEncipherment\nnsCertType = server\n\
             [ client_cert ]\nkeyUsage = digitalSignature, keyEncipherment\nnsCertType = client\n",
        )
        .unwrap();
        for (name, cn, ext) in [
            ("server", "Server-only", "server_cert"),
            ("client", "Client-only", "client_cert"),
        ] {
            let key = format!("{name}.key");
            let csr = format!("{name}.csr");
            let crt = format!("{name}.crt");
            openssl(&["genrsa", "-out", &key, "2048"]);
            openssl(&[
                "req",
                "-new",
                "-sha256",
                "-subj",
                &format!("/O=Redis Test/CN={cn}"),
                "-key",
                &key,
                "-out",
                &csr,
            ]);
            openssl(&[
                "x509",
                "-req",
                "-sha256",
                "-in",
                &csr,
                "-CA",
                "ca.crt",
                "-CAkey",
                "ca.key",
                "-CAcreateserial",
                "-days",
                "30",
                "-extfile",
                "ext.cnf",
                "-extensions",
                ext,
                "-out",
                &crt,
            ]);
        }
        Some(certs)
    }

    fn path(&self, file: &str) -> String {
        self.dir.path().join(file).to_string_lossy().into_owned()
    }

    /// The server's TLS arguments for `tls_port`.
    fn server_args(&self, tls_port: u16) -> Vec<String> {
        vec![
            "--tls-port".into(),
            tls_port.to_string(),
            "--tls-cert-file".into(),
            self.path("server.crt"),
            "--tls-key-file".into(),
            self.path("server.key"),
            "--tls-ca-cert-file".into(),
            self.path("ca.crt"),
        ]
    }

    /// A client's TLS flags, with or without its certificate.
    fn client_args(&self, with_cert: bool) -> Vec<String> {
        let mut args = vec!["--tls".into(), "--cacert".into(), self.path("ca.crt")];
        if with_cert {
            args.extend([
                "--cert".into(),
                self.path("client.crt"),
                "--key".into(),
                self.path("client.key"),
            ]);
        }
        args
    }
}

/// Runs `bin` with `args` (15 s at most).
fn run(bin: &Path, args: &[String]) -> Output {
    tools::run(Command::new(bin).args(args), b"", Duration::from_secs(15))
}

fn stdout(out: &Output) -> String {
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// Our redis-cli, one command over TLS to `port`.
fn cli(certs: &Certs, port: u16, with_cert: bool, command: &[&str]) -> Output {
    let mut args = vec!["-p".to_string(), port.to_string()];
    args.extend(certs.client_args(with_cert));
    args.extend(command.iter().map(|s| s.to_string()));
    run(&sibling_binary("redis-cli"), &args)
}

/// Our server with `port` and a `tls-port`; returns it and the TLS port.
fn start(certs: &Certs) -> (TestServer, u16) {
    let tls_port = free_port();
    let server = TestServer::builder()
        .args(&certs.server_args(tls_port))
        .start();
    (server, tls_port)
}

#[test]
fn plain_and_tls_ports_serve_side_by_side() {
    let Some(certs) = Certs::generate() else {
        return;
    };
    let (server, tls_port) = start(&certs);
    let out = cli(&certs, tls_port, true, &["SET", "k", "over-tls"]);
    assert_eq!(stdout(&out), "OK\n", "{out:?}");
    let mut plain = server.connect();
    assert_eq!(plain.cmd(&["GET", "k"]), "$8\r\nover-tls\r\n");
    // A plain client on the TLS port gets no reply, only a closed connection.
    let mut wrong = tests::Conn::tcp(tls_port).unwrap();
    wrong.send(b"PING\r\n");
    assert!(!wrong.read_to_close().starts_with(b"+PONG"));
    // The one-shot client and the multi-command input over the same TLS connection.
    let piped = tools::run(
        Command::new(sibling_binary("redis-cli"))
            .args(["-p", &tls_port.to_string()])
            .args(certs.client_args(true)),
        b"INCR n\nINCR n\nGET n\n",
        Duration::from_secs(15),
    );
    assert_eq!(stdout(&piped), "1\n2\n2\n", "{piped:?}");
    let url = format!("rediss://127.0.0.1:{tls_port}");
    let mut args = vec!["-u".to_string(), url];
    args.extend(certs.client_args(true).into_iter().skip(1));
    args.extend(["GET".to_string(), "k".to_string()]);
    let out = run(&sibling_binary("redis-cli"), &args);
    assert_eq!(stdout(&out), "over-tls\n", "{out:?}");
}

#[test]
fn tls_auth_clients_yes_needs_a_certificate_and_optional_does_not() {
    let Some(certs) = Certs::generate() else {
        return;
    };
    let (server, tls_port) = start(&certs);
    let refused = cli(&certs, tls_port, false, &["PING"]);
    assert!(!refused.status.success(), "{refused:?}");
    assert_eq!(stdout(&refused), "");
    assert!(
        String::from_utf8_lossy(&refused.stderr).contains("Server closed the connection"),
        "{refused:?}"
    );
    let mut admin = server.connect();
    assert_eq!(
        admin.cmd(&["CONFIG", "SET", "tls-auth-clients", "optional"]),
        "+OK\r\n"
    );
    assert_eq!(stdout(&cli(&certs, tls_port, false, &["PING"])), "PONG\n");
    assert_eq!(stdout(&cli(&certs, tls_port, true, &["PING"])), "PONG\n");
    assert_eq!(
        admin.cmd(&["CONFIG", "SET", "tls-auth-clients", "no"]),
        "+OK\r\n"
    );
    assert_eq!(stdout(&cli(&certs, tls_port, false, &["PING"])), "PONG\n");
    assert_eq!(
        admin.cmd(&["CONFIG", "GET", "tls-auth-clients"]),
        "*2\r\n$16\r\ntls-auth-clients\r\n$2\r\nno\r\n"
    );
}

#[test]
fn config_set_moves_the_tls_listener_and_reloads_certificates() {
    let Some(certs) = Certs::generate() else {
        return;
    };
    let (server, tls_port) = start(&certs);
    let mut admin = server.connect();
    let moved = free_port();
    assert_eq!(
        admin.cmd(&["CONFIG", "SET", "tls-port", &moved.to_string()]),
        "+OK\r\n"
    );
    assert_eq!(stdout(&cli(&certs, moved, true, &["PING"])), "PONG\n");
    assert!(!cli(&certs, tls_port, true, &["PING"]).status.success());
    // A failed reload changes nothing.
    assert_eq!(
        admin.cmd(&["CONFIG", "SET", "tls-key-file", "/nonexistent/key.pem"]),
        "-ERR CONFIG SET failed (possibly related to argument 'tls-key-file') - Unable to update TLS configuration. Check server logs.\r\n"
    );
    assert!(server.wait_for_log("Failed to load private key", Duration::from_secs(5)));
    assert_eq!(stdout(&cli(&certs, moved, true, &["PING"])), "PONG\n");
    // The same files again: reloaded.
    assert_eq!(
        admin.cmd(&["CONFIG", "SET", "tls-cert-file", &certs.path("server.crt")]),
        "+OK\r\n"
    );
    assert_eq!(stdout(&cli(&certs, moved, true, &["PING"])), "PONG\n");
    // Refused cipher lists name what rustls cannot do.
    assert_eq!(
        admin.cmd(&["CONFIG", "SET", "tls-ciphers", "AES128-SHA256"]),
        "-ERR CONFIG SET failed (possibly related to argument 'tls-ciphers') - Unable to update TLS configuration. Check server logs.\r\n"
    );
    assert_eq!(
        admin.cmd(&["CONFIG", "SET", "tls-protocols", "TLSv1.2"]),
        "+OK\r\n"
    );
    assert_eq!(stdout(&cli(&certs, moved, true, &["PING"])), "PONG\n");
    assert_eq!(admin.cmd(&["CONFIG", "SET", "tls-port", "0"]), "+OK\r\n");
    assert!(!cli(&certs, moved, true, &["PING"]).status.success());
}

#[test]
fn tls_port_alone_with_port_zero() {
    let Some(certs) = Certs::generate() else {
        return;
    };
    let dir = TempDir::new();
    let tls_port = free_port();
    let mut args = vec![
        "--port".to_string(),
        "0".into(),
        "--save".into(),
        String::new(),
        "--bind".into(),
        "127.0.0.1".into(),
        "--dir".into(),
        dir.path().to_string_lossy().into_owned(),
    ];
    args.extend(certs.server_args(tls_port));
    let mut child = Command::new(tests::our_binary())
        .args(&args)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let deadline = Instant::now() + Duration::from_secs(20);
    let mut answered = String::new();
    while Instant::now() < deadline {
        answered = stdout(&cli(&certs, tls_port, true, &["PING"]));
        if answered == "PONG\n" {
            break;
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    let info = stdout(&cli(&certs, tls_port, true, &["CONFIG", "GET", "port"]));
    let _ = child.kill();
    let _ = child.wait();
    assert_eq!(answered, "PONG\n");
    assert_eq!(info, "port\n0\n");
}

#[test]
fn sync_streams_the_snapshot_over_tls() {
    let Some(certs) = Certs::generate() else {
        return;
    };
    let (server, tls_port) = start(&certs);
    let mut plain = server.connect();
    assert_eq!(plain.cmd(&["SET", "k", "v"]), "+OK\r\n");
    let rdb = certs.dir.path().join("dump.rdb");
    let mut args = vec!["-p".to_string(), tls_port.to_string()];
    args.extend(certs.client_args(true));
    args.extend(["--rdb".to_string(), rdb.to_string_lossy().into_owned()]);
    let out = run(&sibling_binary("redis-cli"), &args);
    assert!(
        // `with success.` after a `$<len>` payload, `with success after N bytes` after a
        // diskless one (the default, `repl-diskless-sync yes`).
        String::from_utf8_lossy(&out.stderr).contains("Transfer finished with success"),
        "{out:?}"
    );
    let bytes = std::fs::read(&rdb).unwrap();
    assert!(bytes.starts_with(b"REDIS"));
}

#[test]
fn our_benchmark_runs_over_tls() {
    let Some(certs) = Certs::generate() else {
        return;
    };
    let (server, tls_port) = start(&certs);
    let mut args = vec!["-p".to_string(), tls_port.to_string()];
    args.extend(certs.client_args(true));
    args.extend(
        ["-t", "set,get", "-n", "2000", "-c", "4", "-q"]
            .iter()
            .map(|s| s.to_string()),
    );
    let out = run(&sibling_binary("redis-benchmark"), &args);
    let text = stdout(&out);
    assert!(text.contains("SET:") && text.contains("GET:"), "{out:?}");
    let mut plain = server.connect();
    assert_eq!(plain.cmd(&["EXISTS", "key:__rand_int__"]), ":1\r\n");
}

#[test]
fn real_redis_cli_speaks_tls_to_ours() {
    let Some(certs) = Certs::generate() else {
        return;
    };
    let Some(real_cli) = tools::real_binary("redis-cli") else {
        return;
    };
    let (_server, tls_port) = start(&certs);
    let mut args = vec!["-p".to_string(), tls_port.to_string()];
    args.extend(certs.client_args(true));
    let mut set = args.clone();
    set.extend(["SET", "k", "from-real-cli"].iter().map(|s| s.to_string()));
    assert_eq!(stdout(&run(&real_cli, &set)), "OK\n");
    let mut get = args.clone();
    get.extend(["GET", "k"].iter().map(|s| s.to_string()));
    assert_eq!(stdout(&run(&real_cli, &get)), "from-real-cli\n");
    // And ours against real Redis, when it was built with TLS (Debian's is).
    let Some(real_server) = tools::real_binary("redis-server") else {
        return;
    };
    let real_tls = free_port();
    let real = tests::ServerBuilder::new(real_server, "real")
        .args(&certs.server_args(real_tls))
        .start();
    let _ = real;
    assert_eq!(stdout(&cli(&certs, real_tls, true, &["PING"])), "PONG\n");
}

#[test]
fn real_replica_follows_our_master_over_tls() {
    let Some(certs) = Certs::generate() else {
        return;
    };
    let Some(real_server) = tools::real_binary("redis-server") else {
        return;
    };
    let (master, tls_port) = start(&certs);
    let mut args = certs.server_args(0);
    args.extend([
        "--tls-replication".to_string(),
        "yes".into(),
        "--tls-client-cert-file".into(),
        certs.path("client.crt"),
        "--tls-client-key-file".into(),
        certs.path("client.key"),
        "--replicaof".into(),
        "127.0.0.1".into(),
        tls_port.to_string(),
    ]);
    let replica = tests::ServerBuilder::new(real_server, "real")
        .args(&args)
        .start();
    let mut writer = master.connect();
    assert_eq!(writer.cmd(&["SET", "n", "1"]), "+OK\r\n");
    assert_eq!(writer.cmd(&["INCR", "n"]), ":2\r\n");
    let mut reader = replica.connect();
    let deadline = Instant::now() + Duration::from_secs(15);
    let mut seen = String::new();
    while Instant::now() < deadline {
        seen = reader.cmd(&["GET", "n"]);
        if seen == "$1\r\n2\r\n" {
            break;
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    assert_eq!(seen, "$1\r\n2\r\n");
}
