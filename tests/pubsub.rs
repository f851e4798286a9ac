//! The pub/sub family over TCP: what a subscriber that stops reading costs the server.

use std::time::{Duration, Instant};

use tests::TestServer;

fn used_memory(conn: &mut tests::Conn) -> u64 {
    let info = conn.cmd(&["INFO", "memory"]);
    info.lines()
        .find_map(|l| l.strip_prefix("used_memory:"))
        .and_then(|v| v.trim().parse().ok())
        .unwrap()
}

/// A subscriber that never reads while a publisher floods its channel is disconnected once its
/// pending output passes the `pubsub` hard limit; the server's memory never grows by much more
/// than that limit, however much is published.
#[test]
fn a_stalled_subscriber_is_cut_off_at_its_output_limit() {
    let server = TestServer::with_args(&["--client-output-buffer-limit", "pubsub 1mb 0 0"]);
    let mut publisher = server.connect();
    let mut subscriber = server.connect();
    subscriber.send_cmd(&["SUBSCRIBE", "flood"]);
    assert!(subscriber.read_text().contains("subscribe"));
    let before = used_memory(&mut publisher);
    let message = "x".repeat(64 * 1024);
    let mut peak = before;
    let started = Instant::now();
    // 64 MB published in all: 64 times the limit.
    for i in 0..1024 {
        let receivers = publisher.cmd(&["PUBLISH", "flood", &message]);
        if i % 8 == 0 {
            peak = peak.max(used_memory(&mut publisher));
        }
        if receivers == ":0\r\n" {
            break;
        }
        assert!(
            started.elapsed() < Duration::from_secs(60),
            "flood too slow"
        );
    }
    // The subscriber was dropped: nobody receives any more.
    assert_eq!(publisher.cmd(&["PUBLISH", "flood", "x"]), ":0\r\n");
    assert_eq!(
        publisher.cmd(&["PUBSUB", "NUMSUB", "flood"]),
        "*2\r\n$5\r\nflood\r\n:0\r\n"
    );
    // The limit plus socket buffers and one message in flight, never the 64 MB sent.
    let growth = peak.saturating_sub(before);
    assert!(growth < 8 << 20, "memory grew by {growth} bytes");
}
