//! The golden corpus: each invocation runs with the real redis-cli and with ours against the
//! same real redis-server, from the same dataset, and stdout and the exit code must agree
//! byte for byte.
//!
//! `corpus.txt` holds one invocation a line, split as redis-cli splits input (quotes and
//! `\xHH` escapes). A word `<text` feeds `text` to stdin, `%NAME=value` sets an environment
//! variable, and `{port}`/`{dir}` stand for the server's port and a folder of Lua scripts.
//! `-p <port>` comes first on every line. The DEBUG PROTOCOL matrix below adds every RESP2 and
//! RESP3 reply type under every output style.

use std::path::Path;
use std::time::Duration;

use crate::support::{REAL_CLI, RealServer, our_cli, real_redis_available, run_cli};

const CORPUS: &str = include_str!("corpus.txt");

/// Every reply type `DEBUG PROTOCOL` can produce.
const PROTOCOL_TYPES: &[&str] = &[
    "string", "integer", "double", "bignum", "null", "array", "set", "map", "attrib", "push",
    "verbatim", "true", "false",
];

/// The output styles crossed with the reply types.
const STYLES: &[&str] = &[
    "",
    "--no-raw",
    "--csv",
    "--json",
    "--quoted-json",
    "-3",
    "-3 --no-raw",
    "-3 --csv",
    "-3 --json",
    "-2 --json",
    "%FAKETTY=1 -3",
];

/// The dataset every invocation starts from.
fn fixture() -> Vec<Vec<Vec<u8>>> {
    let mut cmds: Vec<Vec<&[u8]>> = vec![
        vec![b"FLUSHALL"],
        vec![b"SET", b"str", b"hello"],
        vec![b"SET", b"num", b"42"],
        vec![b"SET", b"bin", b"a\x00b\xff\n\"q\"\\"],
        vec![b"SET", b"utf", "h\u{e9}llo \u{2603}".as_bytes()],
        vec![b"SET", b"key with space", b"v"],
        vec![b"RPUSH", b"list", b"a", b"b", b"c"],
        vec![b"HSET", b"hash", b"f1", b"v1", b"f2", b"v2"],
        vec![b"SADD", b"set", b"x"],
        vec![b"ZADD", b"zset", b"1", b"a", b"2.5", b"b"],
        vec![b"SELECT", b"2"],
        vec![b"SET", b"in2", b"two"],
        vec![b"SELECT", b"0"],
        vec![
            b"ACL", b"SETUSER", b"alice", b"on", b">secret", b"~*", b"&*", b"+@all",
        ],
    ];
    let scan_keys: Vec<Vec<u8>> = (0..30).map(|i| format!("scan:{i}").into_bytes()).collect();
    for key in &scan_keys {
        cmds.push(vec![b"SET", key, b"1"]);
    }
    cmds.iter()
        .map(|c| c.iter().map(|a| a.to_vec()).collect())
        .collect()
}

/// One invocation.
#[derive(Debug, Clone)]
struct Case {
    line: String,
    args: Vec<String>,
    stdin: Vec<u8>,
    env: Vec<(String, String)>,
}

fn parse_case(line: &str, port: u16, dir: &Path) -> Case {
    let fill = |s: &[u8]| -> Vec<u8> {
        String::from_utf8_lossy(s)
            .replace("{port}", &port.to_string())
            .replace("{dir}", &dir.display().to_string())
            .into_bytes()
    };
    let words = common::config::split_args(line.as_bytes())
        .unwrap_or_else(|| panic!("corpus line does not split: {line}"));
    let mut case = Case {
        line: line.to_string(),
        args: vec!["-p".to_string(), port.to_string()],
        stdin: Vec::new(),
        env: Vec::new(),
    };
    for word in words {
        if let Some(input) = word.strip_prefix(b"<") {
            case.stdin = fill(input);
        } else if let Some(var) = word.strip_prefix(b"%") {
            let var = String::from_utf8_lossy(var).into_owned();
            let (k, v) = var.split_once('=').unwrap_or((&var, ""));
            case.env.push((k.to_string(), v.to_string()));
        } else {
            // Arguments pass through the OS as they are; non-UTF-8 bytes are not used here.
            case.args
                .push(String::from_utf8_lossy(&fill(&word)).into_owned());
        }
    }
    case
}

fn cases(port: u16, dir: &Path) -> Vec<Case> {
    let mut lines: Vec<String> = CORPUS
        .lines()
        .map(str::trim)
        .filter(|l| !l.is_empty() && !l.starts_with('#'))
        .map(str::to_string)
        .collect();
    for style in STYLES {
        for kind in PROTOCOL_TYPES {
            lines.push(format!("{style} debug protocol {kind}").trim().to_string());
        }
    }
    lines.iter().map(|l| parse_case(l, port, dir)).collect()
}

fn write_scripts(dir: &Path) {
    let scripts = [
        (
            "keys_args.lua",
            "return {KEYS[1], KEYS[2], ARGV[1], ARGV[2]}\n",
        ),
        ("count.lua", "return #KEYS * 100 + #ARGV\n"),
        ("error.lua", "return redis.error_reply('MY failure')\n"),
        ("get.lua", "return redis.call('GET', KEYS[1])\n"),
        ("table.lua", "return {1, 'two', {3, 'four'}, false}\n"),
    ];
    for (name, body) in scripts {
        std::fs::write(dir.join(name), body).expect("write a script");
    }
    let mut pipe = Vec::new();
    for i in 0..100 {
        common::resp::encode_command(&["SET", &format!("pipe:{i}"), "v"], &mut pipe);
    }
    common::resp::encode_command(&["INCR", "str"], &mut pipe);
    std::fs::write(dir.join("pipe.resp"), pipe).expect("write pipe input");
}

fn show(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

#[test]
fn one_shot_output_matches_real_redis_cli() {
    if !real_redis_available("one_shot_output_matches_real_redis_cli") {
        return;
    }
    let server = RealServer::start("golden");
    let dir = server.dir.join("scripts");
    std::fs::create_dir_all(&dir).expect("scripts dir");
    write_scripts(&dir);
    let fixture = fixture();
    let ours = our_cli();
    let all = cases(server.port, &dir);
    let mut failures = Vec::new();
    for case in &all {
        let mut stdin = case.stdin.clone();
        if let Some(file) = case.env.iter().find(|(k, _)| k == "STDIN_FILE") {
            stdin = std::fs::read(dir.join(&file.1)).expect("stdin file");
        }
        let run_both = |settle: Duration| {
            server.raw_bytes(&fixture).expect("load the fixture");
            std::thread::sleep(settle);
            let real = run_cli(Path::new(REAL_CLI), &case.args, &stdin, &case.env);
            server.raw_bytes(&fixture).expect("load the fixture");
            std::thread::sleep(settle);
            (real, run_cli(&ours, &case.args, &stdin, &case.env))
        };
        let (mut real, mut mine) = run_both(Duration::ZERO);
        if real != mine {
            // SCAN order (--scan, --bigkeys) depends on where the server's incremental
            // rehash of the freshly loaded keys stands, which its cron moves on in the
            // background: once it has settled, both clients see the same order.
            (real, mine) = run_both(Duration::from_millis(300));
        }
        if real != mine {
            failures.push(format!(
                "{}\n  real ({:?}): {:?}\n  ours ({:?}): {:?}",
                case.line,
                real.code,
                show(&real.stdout),
                mine.code,
                show(&mine.stdout)
            ));
        }
    }
    println!(
        "golden corpus: {} of {} invocations identical",
        all.len() - failures.len(),
        all.len()
    );
    assert!(all.len() >= 200, "the corpus shrank to {}", all.len());
    assert!(
        failures.is_empty(),
        "{} differ:\n{}",
        failures.len(),
        failures.join("\n")
    );
}
