//! Expiry over time: lazily on access, and actively by the cron without any access.

use std::time::{Duration, Instant};

use tests::TestServer;

#[test]
fn expired_key_is_gone_on_access() {
    let server = TestServer::start();
    let mut c = server.connect();
    assert_eq!(c.cmd(&["SET", "k", "v", "PX", "50"]), "+OK\r\n");
    std::thread::sleep(Duration::from_millis(120));
    assert_eq!(c.cmd(&["GET", "k"]), "$-1\r\n");
    assert_eq!(c.cmd(&["EXISTS", "k"]), ":0\r\n");
    assert_eq!(c.cmd(&["TTL", "k"]), ":-2\r\n");
}

#[test]
fn active_expiry_removes_keys_nobody_touches() {
    let server = TestServer::start();
    let mut c = server.connect();
    for i in 0..100 {
        assert_eq!(
            c.cmd(&["SET", &format!("k{i}"), "v", "PX", "100"]),
            "+OK\r\n"
        );
    }
    c.cmd(&["SET", "forever", "v"]);
    let start = Instant::now();
    std::thread::sleep(Duration::from_millis(1000));
    // DBSIZE does not expire keys itself: only the active cycle can have removed them.
    loop {
        let size = c.cmd(&["DBSIZE"]);
        if size == ":1\r\n" {
            break;
        }
        assert!(
            start.elapsed() < Duration::from_secs(3),
            "DBSIZE still {size:?} 3 s after the keys expired"
        );
        std::thread::sleep(Duration::from_millis(50));
    }
    assert_eq!(c.cmd(&["GET", "forever"]), "$1\r\nv\r\n");
}

#[test]
fn set_without_ttl_clears_an_existing_expiry() {
    let server = TestServer::start();
    let mut c = server.connect();
    c.cmd(&["SET", "k", "v", "PX", "100"]);
    c.cmd(&["SET", "k", "w"]);
    std::thread::sleep(Duration::from_millis(200));
    assert_eq!(c.cmd(&["GET", "k"]), "$1\r\nw\r\n");
}
