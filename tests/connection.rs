//! The connection family: HELLO, AUTH, CLIENT, QUIT, RESET, SELECT state.

use std::time::Duration;

use common::resp::Frame;
use tests::{TestServer, show};

/// The value of `key` in a HELLO map/array reply.
fn field<'a>(hello: &'a Frame, key: &str) -> &'a Frame {
    let pairs: Vec<(&Frame, &Frame)> = match hello {
        Frame::Map(pairs) => pairs.iter().map(|(k, v)| (k, v)).collect(),
        Frame::Array(items) => items.chunks(2).map(|p| (&p[0], &p[1])).collect(),
        other => panic!("HELLO replied {other:?}"),
    };
    pairs
        .into_iter()
        .find(|(k, _)| matches!(k, Frame::Bulk(b) if b == key.as_bytes()))
        .map(|(_, v)| v)
        .unwrap_or_else(|| panic!("no {key} in {hello:?}"))
}

#[test]
fn hello_3_switches_to_resp3_and_replies_a_map() {
    let server = TestServer::start();
    let mut c = server.connect();
    let raw = c.cmd(&["HELLO", "3"]);
    assert!(raw.starts_with("%7\r\n$6\r\nserver\r\n$5\r\nredis\r\n$7\r\nversion\r\n$6\r\n7.0.15\r\n$5\r\nproto\r\n:3\r\n$2\r\nid\r\n:"), "{raw}");
    assert!(raw.ends_with("$4\r\nmode\r\n$10\r\nstandalone\r\n$4\r\nrole\r\n$6\r\nmaster\r\n$7\r\nmodules\r\n*0\r\n"), "{raw}");
    // RESP3 types from now on.
    assert_eq!(c.cmd(&["GET", "missing"]), "_\r\n");
    let hello2 = c.frame(&["HELLO", "2"]);
    assert!(
        matches!(hello2, Frame::Array(ref a) if a.len() == 14),
        "{hello2:?}"
    );
    assert_eq!(field(&hello2, "proto"), &Frame::Integer(2));
    assert_eq!(c.cmd(&["GET", "missing"]), "$-1\r\n");
    assert_eq!(
        c.cmd(&["HELLO", "4"]),
        "-NOPROTO unsupported protocol version\r\n"
    );
}

#[test]
fn hello_with_setname_names_the_client() {
    let server = TestServer::start();
    let mut c = server.connect();
    let hello = c.frame(&["HELLO", "2", "SETNAME", "worker"]);
    assert_eq!(field(&hello, "server"), &Frame::Bulk(b"redis".to_vec()));
    assert_eq!(c.cmd(&["CLIENT", "GETNAME"]), "$6\r\nworker\r\n");
}

#[test]
fn auth_is_required_when_requirepass_is_set() {
    let server = TestServer::with_args(&["--requirepass", "secret"]);
    let mut c = server.connect();
    assert_eq!(c.cmd(&["GET", "k"]), "-NOAUTH Authentication required.\r\n");
    assert_eq!(
        c.cmd(&["AUTH", "wrong"]),
        "-WRONGPASS invalid username-password pair or user is disabled.\r\n"
    );
    assert_eq!(c.cmd(&["AUTH", "secret"]), "+OK\r\n");
    assert_eq!(c.cmd(&["SET", "k", "v"]), "+OK\r\n");
    let mut other = server.connect();
    assert_eq!(other.cmd(&["AUTH", "default", "secret"]), "+OK\r\n");
    assert_eq!(other.cmd(&["GET", "k"]), "$1\r\nv\r\n");
    let mut third = server.connect();
    assert_eq!(
        third.cmd(&["HELLO", "3", "AUTH", "default", "nope"]),
        "-WRONGPASS invalid username-password pair or user is disabled.\r\n"
    );
}

#[test]
fn auth_without_requirepass_is_an_error() {
    let server = TestServer::start();
    let mut c = server.connect();
    assert_eq!(
        c.cmd(&["AUTH", "x"]),
        "-ERR AUTH <password> called without any password configured for the default user. Are you sure your configuration is correct?\r\n"
    );
}

#[test]
fn client_setname_getname_and_list_show_the_name() {
    let server = TestServer::start();
    let mut c = server.connect();
    assert_eq!(c.cmd(&["CLIENT", "GETNAME"]), "$-1\r\n");
    assert_eq!(c.cmd(&["CLIENT", "SETNAME", "alpha"]), "+OK\r\n");
    assert_eq!(
        c.cmd(&["CLIENT", "SETNAME", "has space"]),
        "-ERR Client names cannot contain spaces, newlines or special characters.\r\n"
    );
    let list = c.cmd(&["CLIENT", "LIST"]);
    assert!(list.starts_with('$'), "{list}");
    assert!(list.contains(" name=alpha "), "{list}");
    assert!(list.contains(" cmd=client|list"), "{list}");
    let info = c.cmd(&["CLIENT", "INFO"]);
    assert!(info.contains(" name=alpha "), "{info}");
}

#[test]
fn client_kill_by_id_closes_that_connection() {
    let server = TestServer::start();
    let mut victim = server.connect();
    let Frame::Integer(id) = victim.frame(&["CLIENT", "ID"]) else {
        panic!("CLIENT ID is not an integer")
    };
    let mut killer = server.connect();
    assert_eq!(
        killer.cmd(&["CLIENT", "KILL", "ID", &id.to_string()]),
        ":1\r\n"
    );
    assert_eq!(
        killer.cmd(&["CLIENT", "KILL", "ID", &id.to_string()]),
        ":0\r\n"
    );
    assert_eq!(show(&victim.read_to_close()), "");
    assert_eq!(
        killer.cmd(&["CLIENT", "KILL", "127.0.0.1:1"]),
        "-ERR No such client\r\n"
    );
}

#[test]
fn quit_replies_ok_then_closes() {
    let server = TestServer::start();
    let mut c = server.connect();
    c.send(b"QUIT\r\nPING\r\n");
    assert_eq!(show(&c.read_to_close()), "+OK\r\n");
}

#[test]
fn reset_restores_the_connection_defaults() {
    let server = TestServer::start();
    let mut c = server.connect();
    c.cmd(&["HELLO", "3"]);
    c.cmd(&["SELECT", "5"]);
    c.cmd(&["CLIENT", "SETNAME", "n"]);
    assert_eq!(c.cmd(&["RESET"]), "+RESET\r\n");
    assert_eq!(c.cmd(&["CLIENT", "GETNAME"]), "$-1\r\n");
    assert_eq!(c.cmd(&["GET", "missing"]), "$-1\r\n");
    let info = c.cmd(&["CLIENT", "INFO"]);
    assert!(info.contains(" db=0 "), "{info}");
}

#[test]
fn ping_and_echo_answer_in_both_protocols() {
    let server = TestServer::start();
    let mut c = server.connect();
    assert_eq!(c.cmd(&["PING"]), "+PONG\r\n");
    assert_eq!(c.cmd(&["PING", "hi"]), "$2\r\nhi\r\n");
    assert_eq!(c.cmd(&["ECHO", ""]), "$0\r\n\r\n");
    c.set_timeout(Duration::from_secs(5));
}

#[test]
fn select_is_per_connection() {
    let server = TestServer::start();
    let mut a = server.connect();
    let mut b = server.connect();
    a.cmd(&["SELECT", "2"]);
    a.cmd(&["SET", "k", "in2"]);
    assert_eq!(b.cmd(&["GET", "k"]), "$-1\r\n");
    b.cmd(&["SELECT", "2"]);
    assert_eq!(b.cmd(&["GET", "k"]), "$3\r\nin2\r\n");
}

#[test]
fn maxmemory_clients_evicts_the_biggest_client_but_not_no_evict_ones() {
    let server = TestServer::start();
    let mut control = server.connect();
    assert_eq!(control.cmd(&["CLIENT", "NO-EVICT", "on"]), "+OK\r\n");
    assert_eq!(
        control.cmd(&["CONFIG", "SET", "maxmemory-clients", "200000"]),
        "+OK\r\n"
    );
    // An unfinished 300 KB argument in the query buffer takes the clients over the limit.
    let mut big = server.connect();
    let _ = big.try_send(b"*1\r\n$300000\r\n");
    let _ = big.try_send(&[b'v'; 300_000]);
    assert_eq!(big.read_to_close(), b"");
    let info = control.cmd(&["INFO", "stats"]);
    assert!(info.contains("evicted_clients:1\r\n"), "{info}");
    // A no-evict client may go over the limit.
    let mut kept = server.connect();
    assert_eq!(kept.cmd(&["CLIENT", "NO-EVICT", "on"]), "+OK\r\n");
    assert_eq!(kept.cmd(&["CLIENT", "SETNAME", "kept"]), "+OK\r\n");
    kept.send(b"*2\r\n$300000\r\n");
    kept.send(&[b'v'; 300_000]);
    let list = (0..100)
        .map(|_| {
            std::thread::sleep(std::time::Duration::from_millis(10));
            control.cmd(&["CLIENT", "LIST"])
        })
        .find(|l| l.contains("qbuf=300000"))
        .unwrap_or_else(|| control.cmd(&["CLIENT", "LIST"]));
    let line = list.lines().find(|l| l.contains("name=kept")).expect(&list);
    // As Redis, a big argument shows alone in the query buffer; the client's total counts
    // the buffer's room too (real Redis: its allocator's size class).
    assert!(line.contains(" qbuf=300000 "), "{line}");
    let total: u64 = line
        .split(" tot-mem=")
        .nth(1)
        .and_then(|rest| rest.split(' ').next())
        .and_then(|n| n.parse().ok())
        .expect(line);
    assert!((300_002..400_000).contains(&total), "{line}");
    // Lowering the limit counts the clients again: still nobody to evict.
    assert_eq!(
        control.cmd(&["CONFIG", "SET", "maxmemory-clients", "150000"]),
        "+OK\r\n"
    );
    assert!(control.cmd(&["CLIENT", "LIST"]).contains("name=kept"));
}

/// `field=value` of the CLIENT LIST line of the client named `name`.
fn client_field(control: &mut tests::Conn, name: &str, field: &str) -> usize {
    let list = control.cmd(&["CLIENT", "LIST"]);
    let line = list
        .lines()
        .find(|l| l.contains(&format!(" name={name} ")))
        .unwrap_or_else(|| panic!("no {name} in {list}"));
    line.split(' ')
        .find_map(|kv| kv.strip_prefix(&format!("{field}=")))
        .and_then(|v| v.parse().ok())
        .unwrap_or_else(|| panic!("no {field} in {line}"))
}

/// As in Redis: a client's query buffer has a 16 KiB read buffer's room, gives it all back
/// after two idle seconds, and a buffer grown by a big command shrinks to its recent peak.
#[test]
fn query_buffer_room_shows_in_client_list_and_is_given_back() {
    let server = TestServer::start();
    let mut control = server.connect();
    let mut idle = server.connect();
    assert_eq!(idle.cmd(&["CLIENT", "SETNAME", "idle"]), "+OK\r\n");
    let room = client_field(&mut control, "idle", "qbuf")
        + client_field(&mut control, "idle", "qbuf-free");
    assert!((16384..32768).contains(&room), "{room}");
    let mut big = server.connect();
    assert_eq!(big.cmd(&["CLIENT", "SETNAME", "big"]), "+OK\r\n");
    let value = "A".repeat(400_000);
    assert_eq!(big.cmd(&["SET", "x", &value]), "+OK\r\n");
    let grown = client_field(&mut control, "big", "qbuf-free");
    assert!(grown > 32768, "{grown}");
    let mut shrunk = grown;
    for _ in 0..300 {
        assert_eq!(big.cmd(&["SET", "x", "small"]), "+OK\r\n");
        shrunk = client_field(&mut control, "big", "qbuf-free");
        if shrunk < grown {
            break;
        }
        std::thread::sleep(Duration::from_millis(10));
    }
    assert!(shrunk > 0 && shrunk < grown, "{grown} -> {shrunk}");
    let mut freed = usize::MAX;
    for _ in 0..100 {
        freed = client_field(&mut control, "idle", "qbuf")
            + client_field(&mut control, "idle", "qbuf-free");
        if freed == 0 {
            break;
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    assert_eq!(freed, 0);
    // The lean client still reads commands of any size.
    assert_eq!(idle.cmd(&["SET", "y", &value]), "+OK\r\n");
    assert_eq!(idle.cmd(&["STRLEN", "y"]), ":400000\r\n");
}

/// Clients held by CLIENT PAUSE count in INFO `blocked_clients`, as in Redis.
#[test]
fn paused_clients_count_as_blocked() {
    let server = TestServer::start();
    let mut control = server.connect();
    assert_eq!(
        control.cmd(&["CLIENT", "PAUSE", "60000", "WRITE"]),
        "+OK\r\n"
    );
    let mut reader = server.connect();
    assert_eq!(reader.cmd(&["GET", "k"]), "$-1\r\n");
    let mut writers: Vec<_> = (0..2).map(|_| server.connect()).collect();
    for w in &mut writers {
        w.send_cmd(&["SET", "k", "v"]);
    }
    let blocked = |c: &mut tests::Conn| {
        let info = c.cmd(&["INFO", "clients"]);
        info.lines()
            .find_map(|l| l.strip_prefix("blocked_clients:"))
            .unwrap_or_default()
            .to_owned()
    };
    let mut seen = String::new();
    for _ in 0..100 {
        seen = blocked(&mut control);
        if seen == "2" {
            break;
        }
        std::thread::sleep(Duration::from_millis(10));
    }
    assert_eq!(seen, "2");
    assert_eq!(control.cmd(&["CLIENT", "UNPAUSE"]), "+OK\r\n");
    for w in &mut writers {
        assert_eq!(w.read_text(), "+OK\r\n");
    }
    assert_eq!(blocked(&mut control), "0");
}

/// A pipeline whose replies pass the output limit closes its client without the replies,
/// and the server goes on (the batch is stopped at the limit as its replies grow; the
/// transient memory that saves is not observable here: used_memory_peak is sampled).
#[test]
fn a_pipeline_of_big_replies_closes_its_client_at_the_output_limit() {
    let server = TestServer::start();
    let mut c = server.connect();
    c.cmd(&[
        "CONFIG",
        "SET",
        "client-output-buffer-limit",
        "normal 1mb 0 0",
    ]);
    c.cmd(&["SETRANGE", "big", "99999", "x"]);
    let mut flood = server.connect();
    let get = b"*2\r\n$3\r\nGET\r\n$3\r\nbig\r\n".repeat(3000);
    let _ = flood.try_send(&get);
    assert!(flood.read_to_close().len() < 2 << 20);
    assert_eq!(c.cmd(&["PING"]), "+PONG\r\n");
}

/// As Redis: HRANDFIELD with a huge negative count produces picks until the client is over
/// its hard output limit, which closes the connection before anything is sent.
#[test]
fn hrandfield_with_a_huge_count_is_cut_by_the_output_limit() {
    let server = TestServer::start();
    let mut c = server.connect();
    assert_eq!(
        c.cmd(&[
            "CONFIG",
            "SET",
            "client-output-buffer-limit",
            "normal 1000000 0 0"
        ]),
        "+OK\r\n"
    );
    assert_eq!(c.cmd(&["HSET", "myhash", "a", "b"]), ":1\r\n");
    c.send_cmd(&["HRANDFIELD", "myhash", "-999999999"]);
    assert_eq!(show(&c.read_to_close()), "");
    let mut control = server.connect();
    assert_eq!(control.cmd(&["HLEN", "myhash"]), ":1\r\n");
    assert!(
        server
            .log()
            .contains("scheduled to be closed ASAP for overcoming of output buffer limits"),
        "{}",
        server.log()
    );
}
