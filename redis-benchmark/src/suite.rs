//! The default suite: Redis 7.0's tests in its order and with its titles, plus XADD as
//! Redis 7.2 added it. Each test names the `-t` words that select it.

use common::resp::encode_command;

/// The value every test writes: `-d` bytes, and whether `-r` randomizes the ZADD score.
#[derive(Debug)]
pub(crate) struct Payload {
    pub(crate) data: Vec<u8>,
    pub(crate) random: bool,
    /// Cluster mode: every key carries a `{tag}` the engine fills with a slot of the
    /// connection's node, as Redis's tool does.
    pub(crate) cluster: bool,
}

impl Payload {
    /// A key: `name`, then `:{tag}` in cluster mode, then `rest`.
    fn key(&self, name: &str, rest: &str) -> Vec<u8> {
        let tag = if self.cluster { ":{tag}" } else { "" };
        format!("{name}{tag}{rest}").into_bytes()
    }
}

/// One test of the suite.
pub(crate) struct Test {
    /// The title printed in reports (`-q`, `--csv`, the full report).
    pub(crate) title: &'static str,
    /// The lowercase `-t` words that select it.
    pub(crate) selected_by: &'static [&'static str],
    /// Builds the request sent again and again.
    pub(crate) request: fn(&Payload) -> Vec<u8>,
}

const LRANGE: &[&str] = &[
    "lrange",
    "lrange_100",
    "lrange_300",
    "lrange_500",
    "lrange_600",
];

/// The suite in running order.
pub(crate) const SUITE: &[Test] = &[
    Test {
        title: "PING_INLINE",
        selected_by: &["ping_inline", "ping"],
        request: |_| b"PING\r\n".to_vec(),
    },
    Test {
        title: "PING_MBULK",
        selected_by: &["ping_mbulk", "ping"],
        request: |_| command(&[b"PING"]),
    },
    Test {
        title: "SET",
        selected_by: &["set"],
        request: |p| command(&[b"SET", &p.key("key", ":__rand_int__"), &p.data]),
    },
    Test {
        title: "GET",
        selected_by: &["get"],
        request: |p| command(&[b"GET", &p.key("key", ":__rand_int__")]),
    },
    Test {
        title: "INCR",
        selected_by: &["incr"],
        request: |p| command(&[b"INCR", &p.key("counter", ":__rand_int__")]),
    },
    Test {
        title: "LPUSH",
        selected_by: &["lpush"],
        request: |p| command(&[b"LPUSH", &p.key("mylist", ""), &p.data]),
    },
    Test {
        title: "RPUSH",
        selected_by: &["rpush"],
        request: |p| command(&[b"RPUSH", &p.key("mylist", ""), &p.data]),
    },
    Test {
        title: "LPOP",
        selected_by: &["lpop"],
        request: |p| command(&[b"LPOP", &p.key("mylist", "")]),
    },
    Test {
        title: "RPOP",
        selected_by: &["rpop"],
        request: |p| command(&[b"RPOP", &p.key("mylist", "")]),
    },
    Test {
        title: "SADD",
        selected_by: &["sadd"],
        request: |p| command(&[b"SADD", &p.key("myset", ""), b"element:__rand_int__"]),
    },
    Test {
        title: "HSET",
        selected_by: &["hset"],
        request: |p| {
            command(&[
                b"HSET",
                &p.key("myhash", ""),
                b"element:__rand_int__",
                &p.data,
            ])
        },
    },
    Test {
        title: "SPOP",
        selected_by: &["spop"],
        request: |p| command(&[b"SPOP", &p.key("myset", "")]),
    },
    Test {
        title: "ZADD",
        selected_by: &["zadd"],
        request: |p| {
            let score: &[u8] = if p.random { b"__rand_int__" } else { b"0" };
            command(&[
                b"ZADD",
                &p.key("myzset", ""),
                score,
                b"element:__rand_int__",
            ])
        },
    },
    Test {
        title: "ZPOPMIN",
        selected_by: &["zpopmin"],
        request: |p| command(&[b"ZPOPMIN", &p.key("myzset", "")]),
    },
    Test {
        title: "LPUSH (needed to benchmark LRANGE)",
        selected_by: LRANGE,
        request: |p| command(&[b"LPUSH", &p.key("mylist", ""), &p.data]),
    },
    Test {
        title: "LRANGE_100 (first 100 elements)",
        selected_by: &["lrange", "lrange_100"],
        request: |p| command(&[b"LRANGE", &p.key("mylist", ""), b"0", b"99"]),
    },
    Test {
        title: "LRANGE_300 (first 300 elements)",
        selected_by: &["lrange", "lrange_300"],
        request: |p| command(&[b"LRANGE", &p.key("mylist", ""), b"0", b"299"]),
    },
    Test {
        title: "LRANGE_500 (first 500 elements)",
        selected_by: &["lrange", "lrange_500"],
        request: |p| command(&[b"LRANGE", &p.key("mylist", ""), b"0", b"499"]),
    },
    Test {
        title: "LRANGE_600 (first 600 elements)",
        selected_by: &["lrange", "lrange_600"],
        request: |p| command(&[b"LRANGE", &p.key("mylist", ""), b"0", b"599"]),
    },
    Test {
        title: "MSET (10 keys)",
        selected_by: &["mset"],
        request: |p| {
            let key = p.key("key", ":__rand_int__");
            let mut args: Vec<&[u8]> = vec![b"MSET"];
            for _ in 0..10 {
                args.push(&key);
                args.push(&p.data);
            }
            command(&args)
        },
    },
    Test {
        title: "XADD",
        selected_by: &["xadd"],
        request: |p| command(&[b"XADD", &p.key("mystream", ""), b"*", b"myfield", &p.data]),
    },
];

impl Test {
    /// The test's `--mix` name: its title's first word, lowercased (`lrange_100`, `mset`).
    pub(crate) fn name(&self) -> String {
        self.title
            .split(' ')
            .next()
            .unwrap_or(self.title)
            .to_ascii_lowercase()
    }
}

/// The test a `--mix` entry names (the first with that name: `lpush` is LPUSH itself).
pub(crate) fn by_name(name: &str) -> Option<&'static Test> {
    SUITE.iter().find(|t| t.name() == name)
}

fn command(args: &[&[u8]]) -> Vec<u8> {
    let mut out = Vec::new();
    encode_command(args, &mut out);
    out
}

/// The payload bytes: printable characters from a small linear congruential generator, as
/// Redis fills them (not a constant byte, so compression-friendly servers gain nothing).
/// The generator's state runs on across `-l` loops, as in Redis.
#[derive(Debug)]
pub(crate) struct PayloadGenerator {
    state: u32,
}

impl PayloadGenerator {
    pub(crate) fn new() -> PayloadGenerator {
        PayloadGenerator { state: 1234 }
    }

    pub(crate) fn fill(&mut self, len: usize) -> Vec<u8> {
        (0..len)
            .map(|_| {
                self.state = self.state.wrapping_mul(1_103_515_245).wrapping_add(12345);
                b'0' + ((self.state >> 16) & 63) as u8
            })
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn request(title: &str, random: bool) -> Vec<u8> {
        let test = SUITE.iter().find(|t| t.title == title).unwrap();
        (test.request)(&Payload {
            data: b"xyz".to_vec(),
            random,
            cluster: false,
        })
    }

    #[test]
    fn suite_order_and_titles() {
        let titles: Vec<&str> = SUITE.iter().map(|t| t.title).collect();
        assert_eq!(titles.len(), 21);
        assert_eq!(titles[0], "PING_INLINE");
        assert_eq!(titles[13], "ZPOPMIN");
        assert_eq!(titles[19], "MSET (10 keys)");
        assert_eq!(titles[20], "XADD");
    }

    #[test]
    fn requests_are_encoded_as_redis_sends_them() {
        assert_eq!(request("PING_INLINE", false), b"PING\r\n");
        assert_eq!(
            request("SET", false),
            b"*3\r\n$3\r\nSET\r\n$16\r\nkey:__rand_int__\r\n$3\r\nxyz\r\n"
        );
        assert_eq!(
            request("ZADD", false),
            b"*4\r\n$4\r\nZADD\r\n$6\r\nmyzset\r\n$1\r\n0\r\n$20\r\nelement:__rand_int__\r\n"
        );
        assert!(
            request("ZADD", true)
                .starts_with(b"*4\r\n$4\r\nZADD\r\n$6\r\nmyzset\r\n$12\r\n__rand_int__")
        );
        assert!(request("MSET (10 keys)", false).starts_with(b"*21\r\n$4\r\nMSET\r\n"));
    }

    #[test]
    fn payload_is_redis_lcg_output() {
        let mut g = PayloadGenerator::new();
        let first = g.fill(3);
        assert_eq!(first.len(), 3);
        assert!(first.iter().all(|b| (b'0'..b'0' + 64).contains(b)));
        // The state carries on: a second fill differs from a fresh one.
        assert_ne!(g.fill(3), PayloadGenerator::new().fill(3));
    }

    #[test]
    fn cluster_keys_carry_a_tag_and_names_resolve() {
        let test = by_name("set").unwrap();
        let set = (test.request)(&Payload {
            data: b"v".to_vec(),
            random: false,
            cluster: true,
        });
        assert_eq!(
            set,
            b"*3\r\n$3\r\nSET\r\n$22\r\nkey:{tag}:__rand_int__\r\n$1\r\nv\r\n"
        );
        assert_eq!(by_name("lpush").unwrap().title, "LPUSH");
        assert_eq!(
            by_name("lrange_300").unwrap().title,
            "LRANGE_300 (first 300 elements)"
        );
        assert!(by_name("nope").is_none());
    }
}
