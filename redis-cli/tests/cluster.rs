//! `--cluster` against real Redis 7.0.15 nodes: the same steps run by our redis-cli on one
//! cluster and by the real one on an identical cluster must leave the same slot layout and
//! roles, print the same lines and exit with the same codes.

use std::collections::{BTreeMap, BTreeSet};
use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use common::resp::Frame;

use crate::support::{REAL_CLI, REAL_SERVER, our_cli, real_redis_available};

/// Nodes per cluster: six for `create`, one added as a master, one added then deleted.
const NODES: usize = 8;

/// Real cluster nodes, killed (with their files removed) on drop.
struct Cluster {
    children: Vec<Child>,
    ports: Vec<u16>,
    dir: PathBuf,
}

impl Drop for Cluster {
    fn drop(&mut self) {
        for child in &mut self.children {
            let _ = child.kill();
            let _ = child.wait();
        }
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

fn port_free(port: u32) -> bool {
    u16::try_from(port).is_ok_and(|p| TcpListener::bind(("127.0.0.1", p)).is_ok())
}

/// Ports below 55535 whose cluster bus port (+10000) is free too; never 6379.
fn free_ports(count: usize, start: u32) -> Vec<u16> {
    let mut ports = Vec::new();
    let mut p = start;
    while ports.len() < count && p < 55535 {
        if p != 6379 && port_free(p) && port_free(p + 10000) {
            ports.push(p as u16);
        }
        p += 1;
    }
    assert_eq!(ports.len(), count, "not enough free ports");
    ports
}

impl Cluster {
    fn start(name: &str, start_port: u32) -> Cluster {
        let dir =
            std::env::temp_dir().join(format!("redis-cli-cluster-{name}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).expect("temp dir");
        let ports = free_ports(NODES, start_port);
        let mut cluster = Cluster {
            children: Vec::new(),
            ports: ports.clone(),
            dir: dir.clone(),
        };
        for port in &ports {
            let child = Command::new(REAL_SERVER)
                .args(["--port", &port.to_string(), "--bind", "127.0.0.1"])
                .args(["--cluster-enabled", "yes"])
                .args(["--cluster-config-file", &format!("nodes-{port}.conf")])
                .args(["--save", "", "--appendonly", "no", "--daemonize", "no"])
                .arg("--dir")
                .arg(&dir)
                .stdout(Stdio::null())
                .stderr(Stdio::null())
                .spawn()
                .expect("start redis-server");
            cluster.children.push(child);
        }
        for &port in &ports {
            let deadline = Instant::now() + Duration::from_secs(10);
            while command(port, &["PING"]).is_none() {
                assert!(Instant::now() < deadline, "node {port} did not start");
                std::thread::sleep(Duration::from_millis(20));
            }
        }
        cluster
    }

    fn addr(&self, i: usize) -> String {
        format!("127.0.0.1:{}", self.ports[i])
    }

    fn id(&self, i: usize) -> String {
        match command(self.ports[i], &["CLUSTER", "MYID"]) {
            Some(Frame::Bulk(id)) => String::from_utf8(id).unwrap(),
            other => panic!("CLUSTER MYID: {other:?}"),
        }
    }

    /// The layout as node 0 sees it, by node index: "i master - slots" / "i slave m".
    fn layout(&self, via: usize) -> BTreeSet<String> {
        let text = match command(self.ports[via], &["CLUSTER", "NODES"]) {
            Some(Frame::Bulk(t)) => String::from_utf8(t).unwrap(),
            other => panic!("CLUSTER NODES: {other:?}"),
        };
        let lines: Vec<Vec<&str>> = text.lines().map(|l| l.split(' ').collect()).collect();
        let index: BTreeMap<&str, usize> = lines
            .iter()
            .map(|f| {
                let port: u16 = f[1].split([':', '@']).nth(1).unwrap().parse().unwrap();
                (f[0], self.ports.iter().position(|&p| p == port).unwrap())
            })
            .collect();
        lines
            .iter()
            .map(|f| {
                let role = if f[2].contains("master") {
                    "master"
                } else {
                    "slave"
                };
                let master = index.get(f[3]).map(|m| m.to_string()).unwrap_or("-".into());
                format!("{} {role} {master} {}", index[f[0]], f[8..].join(" "))
            })
            .collect()
    }

    /// Waits until the first `members` nodes all see the same layout of `members` nodes and
    /// the cluster state is ok.
    fn wait_stable(&self, members: &[usize]) {
        let deadline = Instant::now() + Duration::from_secs(60);
        loop {
            let views: Vec<BTreeSet<String>> = members.iter().map(|&i| self.layout(i)).collect();
            let ok = members.iter().all(|&i| {
                matches!(command(self.ports[i], &["CLUSTER", "INFO"]),
                    Some(Frame::Bulk(t)) if String::from_utf8_lossy(&t).contains("cluster_state:ok"))
            });
            if ok
                && views
                    .iter()
                    .all(|v| v.len() == members.len() && *v == views[0])
            {
                return;
            }
            assert!(
                Instant::now() < deadline,
                "cluster did not settle: {views:?}"
            );
            std::thread::sleep(Duration::from_millis(200));
        }
    }

    /// Replaces node ids and addresses with indexes, so two clusters' outputs compare.
    fn normalize(&self, text: &str) -> String {
        let mut out = text.to_string();
        for i in 0..NODES {
            if let Some(Frame::Bulk(id)) = command(self.ports[i], &["CLUSTER", "MYID"]) {
                let id = String::from_utf8(id).unwrap();
                out = out.replace(&id, &format!("<id{i}>"));
                out = out.replace(&format!("({}...)", &id[..8]), &format!("(<id{i}>...)"));
            }
            out = out.replace(&self.addr(i), &format!("<node{i}>"));
        }
        out
    }
}

/// One command on a fresh connection; `None` when the node does not answer.
fn command(port: u16, args: &[&str]) -> Option<Frame> {
    let mut stream = TcpStream::connect(("127.0.0.1", port)).ok()?;
    stream.set_read_timeout(Some(Duration::from_secs(5))).ok()?;
    let mut out = Vec::new();
    common::resp::encode_command(args, &mut out);
    stream.write_all(&out).ok()?;
    let mut got = Vec::new();
    let mut buf = [0u8; 16384];
    loop {
        if let Ok(Some((frame, _))) = Frame::parse(&got) {
            return Some(frame);
        }
        let n = stream.read(&mut buf).ok()?;
        if n == 0 {
            return None;
        }
        got.extend_from_slice(&buf[..n]);
    }
}

/// What a client run printed, with its exit code.
struct Output {
    stdout: String,
    stderr: String,
    code: Option<i32>,
}

fn run(bin: &Path, args: &[String]) -> Output {
    let mut child = Command::new(bin)
        .args(args)
        .env("TERM", "dumb")
        .env_remove("REDISCLI_CLUSTER_YES")
        .env_remove("REDISCLI_AUTH")
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn a client");
    let pid = child.id() as libc::pid_t;
    let done = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
    let watched = std::sync::Arc::clone(&done);
    std::thread::spawn(move || {
        std::thread::sleep(Duration::from_secs(180));
        if !watched.load(std::sync::atomic::Ordering::SeqCst) {
            // SAFETY: kill(2) on the pid of a child we have not reaped yet.
            unsafe { libc::kill(pid, libc::SIGKILL) };
        }
    });
    let mut stdout = String::new();
    let mut stderr = String::new();
    if let Some(mut s) = child.stdout.take() {
        let _ = s.read_to_string(&mut stdout);
    }
    if let Some(mut s) = child.stderr.take() {
        let _ = s.read_to_string(&mut stderr);
    }
    let status = child.wait().expect("client status");
    done.store(true, std::sync::atomic::Ordering::SeqCst);
    Output {
        stdout,
        stderr,
        code: status.code(),
    }
}

/// Runs one step with our client on `ours` and the real one on `real`; `args` may name
/// `{N}` (node N's address) and `{idN}` (node N's id).
fn step(ours: &Cluster, real: &Cluster, args: &[&str]) -> (Output, Output) {
    let expand = |c: &Cluster| -> Vec<String> {
        args.iter()
            .map(|a| {
                let mut a = a.to_string();
                for i in (0..NODES).rev() {
                    a = a.replace(&format!("{{id{i}}}"), &c.id(i));
                    a = a.replace(&format!("{{{i}}}"), &c.addr(i));
                }
                a
            })
            .collect()
    };
    let o = run(&our_cli(), &expand(ours));
    let r = run(Path::new(REAL_CLI), &expand(real));
    assert_eq!(
        o.code, r.code,
        "exit codes of {args:?}\nours: {}{}\nreal: {}{}",
        o.stdout, o.stderr, r.stdout, r.stderr
    );
    (o, r)
}

/// The lines of both outputs agree once ids and ports are replaced (the order of nodes
/// follows each cluster's CLUSTER NODES, which is not the same in both).
fn same_lines(ours: &Cluster, real: &Cluster, (o, r): &(Output, Output), what: &str) {
    let lines = |c: &Cluster, text: &str| -> Vec<String> {
        let mut l: Vec<String> = c.normalize(text).lines().map(str::to_string).collect();
        l.sort();
        l
    };
    assert_eq!(
        lines(ours, &o.stdout),
        lines(real, &r.stdout),
        "stdout of {what}"
    );
    assert_eq!(
        lines(ours, &o.stderr),
        lines(real, &r.stderr),
        "stderr of {what}"
    );
}

#[test]
fn cluster_manager_steps_match_real_redis_cli() {
    if !real_redis_available("cluster_manager_steps_match_real_redis_cli") {
        return;
    }
    let base = 20000 + (std::process::id() % 1000) * 10;
    let ours = Cluster::start("ours", base);
    let real = Cluster::start("real", u32::from(ours.ports[NODES - 1]) + 1);
    let six: Vec<String> = (0..6).map(|i| format!("{{{i}}}")).collect();
    let mut create = vec!["--cluster", "create"];
    create.extend(six.iter().map(String::as_str));
    create.extend(["--cluster-replicas", "1", "--cluster-yes"]);
    let created = step(&ours, &real, &create);
    assert_eq!(
        created.0.code,
        Some(0),
        "{}{}",
        created.0.stdout,
        created.0.stderr
    );
    // The anti-affinity shuffle is random: the plan's lines match, the final replicas may not.
    let plan = |o: &Output| {
        o.stdout
            .lines()
            .take(7)
            .map(str::to_string)
            .collect::<Vec<_>>()
    };
    assert_eq!(
        plan(&created.0)
            .iter()
            .map(|l| ours.normalize(l))
            .collect::<Vec<_>>(),
        plan(&created.1)
            .iter()
            .map(|l| real.normalize(l))
            .collect::<Vec<_>>()
    );
    let members: Vec<usize> = (0..6).collect();
    ours.wait_stable(&members);
    real.wait_stable(&members);
    let masters = |c: &Cluster| -> BTreeSet<String> {
        c.layout(0)
            .into_iter()
            .filter(|l| l.contains("master"))
            .collect()
    };
    assert_eq!(masters(&ours), masters(&real));

    for c in [&ours, &real] {
        for i in 0..200 {
            let key = format!("key:{i}");
            let slot = common::cluster_slot::key_slot(key.as_bytes());
            let owner = (0..3)
                .find(|&m| {
                    c.layout(0).iter().any(|l| {
                        l.starts_with(&format!("{m} master"))
                            && l.split(' ').skip(3).any(|r| {
                                let (a, b) = r.split_once('-').unwrap_or((r, r));
                                (a.parse::<u16>().unwrap()..=b.parse::<u16>().unwrap())
                                    .contains(&slot)
                            })
                    })
                })
                .unwrap();
            assert!(matches!(
                command(c.ports[owner], &["SET", &key, "v"]),
                Some(Frame::Simple(_))
            ));
        }
    }

    let resharded = step(
        &ours,
        &real,
        &[
            "--cluster",
            "reshard",
            "{0}",
            "--cluster-from",
            "all",
            "--cluster-to",
            "{id1}",
            "--cluster-slots",
            "1000",
            "--cluster-yes",
        ],
    );
    assert_eq!(resharded.0.code, Some(0));
    same_lines(&ours, &real, &resharded, "reshard");
    ours.wait_stable(&members);
    real.wait_stable(&members);
    assert_eq!(masters(&ours), masters(&real));

    let checked = step(&ours, &real, &["--cluster", "check", "{0}"]);
    assert_eq!(checked.0.code, Some(0));
    same_lines(&ours, &real, &checked, "check");
    same_lines(
        &ours,
        &real,
        &step(&ours, &real, &["--cluster", "info", "{0}"]),
        "info",
    );
    same_lines(
        &ours,
        &real,
        &step(
            &ours,
            &real,
            &[
                "--cluster",
                "call",
                "{0}",
                "DBSIZE",
                "--cluster-only-masters",
            ],
        ),
        "call",
    );

    let added = step(&ours, &real, &["--cluster", "add-node", "{6}", "{0}"]);
    assert_eq!(added.0.code, Some(0));
    same_lines(&ours, &real, &added, "add-node");
    let members: Vec<usize> = (0..7).collect();
    ours.wait_stable(&members);
    real.wait_stable(&members);

    let rebalanced = step(
        &ours,
        &real,
        &[
            "--cluster",
            "rebalance",
            "{0}",
            "--cluster-use-empty-masters",
        ],
    );
    assert_eq!(rebalanced.0.code, Some(0));
    same_lines(&ours, &real, &rebalanced, "rebalance");
    ours.wait_stable(&members);
    real.wait_stable(&members);
    assert_eq!(masters(&ours), masters(&real));

    let added = step(&ours, &real, &["--cluster", "add-node", "{7}", "{0}"]);
    assert_eq!(added.0.code, Some(0));
    let members: Vec<usize> = (0..8).collect();
    ours.wait_stable(&members);
    real.wait_stable(&members);
    let deleted = step(&ours, &real, &["--cluster", "del-node", "{0}", "{id7}"]);
    assert_eq!(deleted.0.code, Some(0));
    same_lines(&ours, &real, &deleted, "del-node");
    let members: Vec<usize> = (0..7).collect();
    ours.wait_stable(&members);
    real.wait_stable(&members);
    assert_eq!(masters(&ours), masters(&real));
    let checked = step(&ours, &real, &["--cluster", "check", "{0}"]);
    assert_eq!(checked.0.code, Some(0));
    same_lines(&ours, &real, &checked, "final check");
}

#[test]
fn cluster_manager_usage_errors_match_real_redis_cli() {
    if !real_redis_available("cluster_manager_usage_errors_match_real_redis_cli") {
        return;
    }
    let dead = free_ports(1, 40000 + (std::process::id() % 1000) * 10)[0].to_string();
    for args in [
        vec!["--cluster", "help"],
        vec!["--cluster", "nosuch", "127.0.0.1:1"],
        vec!["--cluster", "check"],
        vec!["--cluster", "check", "127.0.0.1"],
        vec!["--cluster", "add-node", "127.0.0.1:1"],
        vec!["--cluster", "set-timeout", "127.0.0.1:1", "50"],
        vec!["--cluster", "import", "127.0.0.1:1"],
        vec!["--cluster", "check", "127.0.0.1", &dead],
        vec![
            "--cluster",
            "create",
            "127.0.0.1:1",
            "--cluster-replicas",
            "1",
        ],
    ] {
        let args: Vec<String> = args.iter().map(|s| s.to_string()).collect();
        let o = run(&our_cli(), &args);
        let r = run(Path::new(REAL_CLI), &args);
        assert_eq!(
            (o.code, &o.stdout, &o.stderr),
            (r.code, &r.stdout, &r.stderr),
            "{args:?}"
        );
    }
}
