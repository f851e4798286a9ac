//! The wire: pipelining, inline commands, protocol errors, limits, arity, unknown commands.

use std::time::Duration;

use tests::{Conn, TestServer, show};

/// Sends `input`, expects exactly `reply` and then the connection closed.
fn assert_protocol_error(conn: &mut Conn, input: &[u8], reply: &str) {
    let _ = conn.try_send(input);
    let got = conn.read_to_close();
    assert_eq!(show(&got), reply, "input {:?}", show(input));
}

#[test]
fn pipelining_1000_commands_in_one_write_answers_each_in_order() {
    let server = TestServer::start();
    let mut conn = server.connect();
    let mut batch = Vec::new();
    for i in 0..1000 {
        let arg = i.to_string();
        batch.extend_from_slice(
            format!("*2\r\n$4\r\nECHO\r\n${}\r\n{arg}\r\n", arg.len()).as_bytes(),
        );
    }
    conn.send(&batch);
    for i in 0..1000 {
        let arg = i.to_string();
        assert_eq!(conn.read_text(), format!("${}\r\n{arg}\r\n", arg.len()));
    }
}

#[test]
fn pipelined_writes_apply_in_order() {
    let server = TestServer::start();
    let mut conn = server.connect();
    conn.send(&b"INCR counter\r\n".repeat(1000));
    for i in 1..=1000 {
        assert_eq!(conn.read_text(), format!(":{i}\r\n"));
    }
    assert_eq!(conn.cmd(&["GET", "counter"]), "$4\r\n1000\r\n");
}

#[test]
fn inline_commands_split_on_spaces_and_honour_quotes() {
    let server = TestServer::start();
    let mut conn = server.connect();
    conn.send(b"ECHO \"hello world\"\r\nECHO 'a b'\r\nECHO \"\\x41\\n\"\r\nECHO 'a\\'b'\r\n");
    assert_eq!(conn.read_text(), "$11\r\nhello world\r\n");
    assert_eq!(conn.read_text(), "$3\r\na b\r\n");
    assert_eq!(conn.read_text(), "$2\r\nA\n\r\n");
    assert_eq!(conn.read_text(), "$3\r\na'b\r\n");
}

#[test]
fn inline_command_ending_in_bare_newline_and_empty_lines_are_accepted() {
    let server = TestServer::start();
    let mut conn = server.connect();
    conn.send(b"PING\n\r\n\nPING\r\n");
    assert_eq!(conn.read_text(), "+PONG\r\n");
    assert_eq!(conn.read_text(), "+PONG\r\n");
    conn.assert_silent(Duration::from_millis(100));
}

#[test]
fn empty_and_null_multibulk_requests_are_ignored() {
    let server = TestServer::start();
    let mut conn = server.connect();
    conn.send(b"*0\r\n*-1\r\n*1\r\n$4\r\nPING\r\n");
    assert_eq!(conn.read_text(), "+PONG\r\n");
    conn.assert_silent(Duration::from_millis(100));
}

#[test]
fn every_protocol_error_replies_its_text_and_closes_the_connection() {
    let server = TestServer::start();
    let cases: &[(&[u8], &str)] = &[
        (
            b"*a\r\n",
            "-ERR Protocol error: invalid multibulk length\r\n",
        ),
        (
            b"*3000000000\r\n",
            "-ERR Protocol error: invalid multibulk length\r\n",
        ),
        (
            b"*1\r\n$a\r\n",
            "-ERR Protocol error: invalid bulk length\r\n",
        ),
        (
            b"*1\r\n$-1\r\n",
            "-ERR Protocol error: invalid bulk length\r\n",
        ),
        (
            b"*1\r\nfoo\r\n",
            "-ERR Protocol error: expected '$', got 'f'\r\n",
        ),
        (
            b"ECHO \"a\r\n",
            "-ERR Protocol error: unbalanced quotes in request\r\n",
        ),
        (
            b"ECHO \"a\"b\r\n",
            "-ERR Protocol error: unbalanced quotes in request\r\n",
        ),
    ];
    for (input, reply) in cases {
        let mut conn = server.connect();
        assert_protocol_error(&mut conn, input, reply);
    }
    // The server itself is fine.
    assert_eq!(server.connect().cmd(&["PING"]), "+PONG\r\n");
}

#[test]
fn oversized_request_headers_are_protocol_errors() {
    let server = TestServer::start();
    let long = vec![b'1'; 70_000];
    let cases: Vec<(Vec<u8>, &str)> = vec![
        (
            vec![b'a'; 70_000],
            "-ERR Protocol error: too big inline request\r\n",
        ),
        (
            [b"*".as_slice(), &long].concat(),
            "-ERR Protocol error: too big mbulk count string\r\n",
        ),
        (
            [b"*1\r\n$".as_slice(), &long].concat(),
            "-ERR Protocol error: too big bulk count string\r\n",
        ),
    ];
    for (input, reply) in &cases {
        let mut conn = server.connect();
        assert_protocol_error(&mut conn, input, reply);
    }
}

#[test]
fn unauthenticated_clients_are_limited_to_small_requests() {
    let server = TestServer::with_args(&["--requirepass", "secret"]);
    assert_protocol_error(
        &mut server.connect(),
        b"*11\r\n",
        "-ERR Protocol error: unauthenticated multibulk length\r\n",
    );
    assert_protocol_error(
        &mut server.connect(),
        b"*10\r\n$16385\r\n",
        "-ERR Protocol error: unauthenticated bulk length\r\n",
    );
    let mut conn = server.connect();
    assert_eq!(conn.cmd(&["AUTH", "secret"]), "+OK\r\n");
    let big = "x".repeat(20_000);
    assert_eq!(conn.cmd(&["ECHO", &big]), format!("$20000\r\n{big}\r\n"));
}

#[test]
fn big_bulk_arriving_in_pieces_is_reassembled() {
    let server = TestServer::start();
    let mut conn = server.connect();
    let payload: Vec<u8> = (0..300_000u32).map(|i| b'a' + (i % 26) as u8).collect();
    let mut request = Vec::new();
    common::resp::encode_command(&[b"ECHO".as_slice(), &payload], &mut request);
    // Split inside the header's "\r\n" too, with pauses so each piece is its own read.
    let mut cuts = vec![0, 3, 15, 16, 17];
    cuts.extend((1..30).map(|i| 17 + i * 10_000));
    cuts.push(request.len());
    for pair in cuts.windows(2) {
        conn.send(&request[pair[0]..pair[1]]);
        std::thread::sleep(Duration::from_millis(2));
    }
    let reply = conn.read_reply();
    let mut expected = format!("${}\r\n", payload.len()).into_bytes();
    expected.extend_from_slice(&payload);
    expected.extend_from_slice(b"\r\n");
    assert!(reply == expected, "reply {:?}", show(&reply));
}

#[test]
fn bulk_longer_than_proto_max_bulk_len_is_a_protocol_error() {
    let server = TestServer::with_args(&["--proto-max-bulk-len", "1mb"]);
    assert_protocol_error(
        &mut server.connect(),
        b"*2\r\n$4\r\nECHO\r\n$1048577\r\n",
        "-ERR Protocol error: invalid bulk length\r\n",
    );
    // Exactly the limit is accepted.
    let mut conn = server.connect();
    let payload = "y".repeat(1 << 20);
    assert_eq!(conn.cmd(&["ECHO", &payload]).len(), (1 << 20) + 12);
}

#[test]
fn query_buffer_over_client_query_buffer_limit_disconnects_without_reply() {
    let server = TestServer::with_args(&[
        "--proto-max-bulk-len",
        "4mb",
        "--client-query-buffer-limit",
        "1mb",
    ]);
    let mut conn = server.connect();
    let _ = conn.try_send(b"*2\r\n$4\r\nECHO\r\n$2097152\r\n");
    let chunk = vec![b'z'; 64 * 1024];
    for _ in 0..32 {
        if conn.try_send(&chunk).is_err() {
            break;
        }
    }
    assert_eq!(show(&conn.read_to_close()), "");
    assert_eq!(server.connect().cmd(&["PING"]), "+PONG\r\n");
    assert!(
        server.wait_for_log(
            "Closing client that reached max query buffer length",
            Duration::from_secs(5)
        ),
        "no log line about the query buffer"
    );
}

#[test]
fn wrong_arity_replies_the_command_name_and_keeps_the_connection() {
    let server = TestServer::start();
    let mut conn = server.connect();
    assert_eq!(
        conn.cmd(&["ECHO"]),
        "-ERR wrong number of arguments for 'echo' command\r\n"
    );
    assert_eq!(
        conn.cmd(&["PING", "a", "b"]),
        "-ERR wrong number of arguments for 'ping' command\r\n"
    );
    assert_eq!(
        conn.inline("get"),
        "-ERR wrong number of arguments for 'get' command\r\n"
    );
    assert_eq!(
        conn.cmd(&["SET", "k"]),
        "-ERR wrong number of arguments for 'set' command\r\n"
    );
    assert_eq!(conn.cmd(&["PING"]), "+PONG\r\n");
}

#[test]
fn unknown_command_quotes_its_name_and_first_arguments() {
    let server = TestServer::start();
    let mut conn = server.connect();
    assert_eq!(
        conn.inline("FOO bar baz"),
        "-ERR unknown command 'FOO', with args beginning with: 'bar' 'baz' \r\n"
    );
    assert_eq!(
        conn.inline("FOO"),
        "-ERR unknown command 'FOO', with args beginning with: \r\n"
    );
    assert_eq!(conn.cmd(&["PING"]), "+PONG\r\n");
}

#[test]
fn unknown_subcommand_names_the_container_help() {
    let server = TestServer::start();
    let mut conn = server.connect();
    assert_eq!(
        conn.cmd(&["CONFIG", "FOO"]),
        "-ERR unknown subcommand 'FOO'. Try CONFIG HELP.\r\n"
    );
    assert_eq!(
        conn.cmd(&["CLIENT", "nope", "x"]),
        "-ERR unknown subcommand 'nope'. Try CLIENT HELP.\r\n"
    );
}

#[test]
fn unix_socket_serves_the_same_protocol() {
    let dir = tests::TempDir::new();
    let sock = dir.path().join("redis.sock");
    let server = TestServer::with_args(&["--unixsocket", &sock.to_string_lossy()]);
    let mut conn = Conn::unix(&sock).unwrap();
    assert_eq!(conn.cmd(&["ECHO", "over unix"]), "$9\r\nover unix\r\n");
    drop(server);
}
