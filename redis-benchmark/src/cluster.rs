//! Cluster mode (`--cluster`): the masters and their slots from CLUSTER SLOTS, the slot a
//! request goes to, the `{tag}` that puts a key on a given slot, and MOVED/ASK parsing.
//! The engine ([`crate::worker`]) sends each request to the master owning its key and
//! follows redirects; after a MOVED the map is fetched again in the background.

use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, OnceLock, RwLock};

use common::cluster_slot::{SLOTS, crc16, key_slot};
use common::resp::{Frame, encode_command};

use crate::net::{BenchError, Stream, read_frame};
use crate::options::Target;

/// A slot no master serves (yet).
const UNOWNED: u16 = u16::MAX;

/// A master: its address and the id CLUSTER SLOTS names it by.
#[derive(Clone, Debug, PartialEq)]
pub(crate) struct Master {
    pub(crate) id: String,
    pub(crate) host: String,
    pub(crate) port: u16,
}

impl Master {
    pub(crate) fn target(&self) -> Target {
        Target::Tcp {
            host: self.host.clone(),
            port: self.port,
        }
    }
}

/// Which master serves each slot.
#[derive(Clone, Debug)]
pub(crate) struct Topology {
    pub(crate) masters: Vec<Master>,
    owner: Vec<u16>,
    /// Bumped on every fetch, so connections notice a new map.
    pub(crate) version: u64,
}

impl Topology {
    /// The master serving `slot`.
    pub(crate) fn owner(&self, slot: u16) -> Option<usize> {
        match self.owner.get(usize::from(slot)) {
            Some(&UNOWNED) | None => None,
            Some(&m) => Some(usize::from(m)),
        }
    }

    /// The slots of master `m`, ascending.
    pub(crate) fn slots_of(&self, m: usize) -> Vec<u16> {
        (0..SLOTS as u16)
            .filter(|&s| self.owner(s) == Some(m))
            .collect()
    }

    /// The index of the master at `host:port`.
    pub(crate) fn find(&self, host: &str, port: u16) -> Option<usize> {
        self.masters
            .iter()
            .position(|m| m.host == host && m.port == port)
    }

    /// Builds the map from a CLUSTER SLOTS reply; an empty or `?` host means the node we
    /// asked (`seed_host`). Masters are listed in the order of their first slot.
    pub(crate) fn from_slots(reply: &Frame, seed_host: &str) -> Result<Topology, String> {
        let Frame::Array(ranges) = reply else {
            return Err("CLUSTER SLOTS did not reply an array".into());
        };
        let mut masters: Vec<Master> = Vec::new();
        let mut owner = vec![UNOWNED; SLOTS];
        let mut ranges: Vec<&Frame> = ranges.iter().collect();
        ranges.sort_by_key(|r| match r {
            Frame::Array(items) => match items.first() {
                Some(Frame::Integer(start)) => *start,
                _ => 0,
            },
            _ => 0,
        });
        for range in ranges {
            let Frame::Array(items) = range else {
                return Err("invalid CLUSTER SLOTS entry".into());
            };
            let (Some(Frame::Integer(start)), Some(Frame::Integer(end)), Some(Frame::Array(node))) =
                (items.first(), items.get(1), items.get(2))
            else {
                return Err("invalid CLUSTER SLOTS entry".into());
            };
            let host = match node.first() {
                Some(Frame::Bulk(h) | Frame::Simple(h)) if !h.is_empty() && h != b"?" => {
                    String::from_utf8_lossy(h).into_owned()
                }
                _ => seed_host.to_string(),
            };
            let Some(Frame::Integer(port)) = node.get(1) else {
                return Err("invalid CLUSTER SLOTS node".into());
            };
            let id = match node.get(2) {
                Some(Frame::Bulk(id)) => String::from_utf8_lossy(id).into_owned(),
                _ => String::new(),
            };
            let port = u16::try_from(*port).map_err(|_| "invalid CLUSTER SLOTS port")?;
            let index = match masters
                .iter()
                .position(|m| m.host == host && m.port == port)
            {
                Some(i) => i,
                None => {
                    masters.push(Master { id, host, port });
                    masters.len() - 1
                }
            };
            let index = u16::try_from(index).map_err(|_| "too many masters")?;
            let (start, end) = (*start, *end);
            if start < 0 || end < start || end >= SLOTS as i64 {
                return Err("invalid CLUSTER SLOTS range".into());
            }
            for slot in start..=end {
                owner[slot as usize] = index;
            }
        }
        Ok(Topology {
            masters,
            owner,
            version: 0,
        })
    }
}

/// Asks `target` for CLUSTER SLOTS, authenticating first with `auth` (an encoded AUTH).
pub(crate) async fn fetch(target: &Target, auth: &[u8]) -> Result<Topology, BenchError> {
    let mut stream = Stream::connect(target).await?;
    let mut pending = Vec::new();
    let node_error = |message| BenchError::Node {
        target: target.to_string(),
        message,
    };
    if !auth.is_empty() {
        stream.send(auth).await?;
        if let Frame::Error(message) = read_frame(&mut stream, &mut pending).await? {
            return Err(node_error(message));
        }
    }
    let mut out = Vec::new();
    encode_command(&[&b"CLUSTER"[..], b"SLOTS"], &mut out);
    stream.send(&out).await?;
    let reply = read_frame(&mut stream, &mut pending).await?;
    if let Frame::Error(message) = reply {
        return Err(node_error(message));
    }
    let host = match target {
        Target::Tcp { host, .. } => host.as_str(),
        Target::Unix(_) => "127.0.0.1",
    };
    Topology::from_slots(&reply, host).map_err(|e| node_error(e.into_bytes()))
}

/// The map every connection of a run reads, replaced whole when fetched again.
#[derive(Debug)]
pub(crate) struct Cluster {
    topology: RwLock<Arc<Topology>>,
    version: AtomicU64,
    refreshing: AtomicBool,
    /// An encoded AUTH (or nothing) for fetching the map again.
    auth: Vec<u8>,
}

impl Cluster {
    pub(crate) fn new(topology: Topology, auth: Vec<u8>) -> Cluster {
        Cluster {
            topology: RwLock::new(Arc::new(topology)),
            version: AtomicU64::new(0),
            refreshing: AtomicBool::new(false),
            auth,
        }
    }

    pub(crate) fn current(&self) -> Arc<Topology> {
        match self.topology.read() {
            Ok(t) => Arc::clone(&t),
            Err(poisoned) => Arc::clone(&poisoned.into_inner()),
        }
    }

    pub(crate) fn version(&self) -> u64 {
        self.version.load(Ordering::Acquire)
    }

    /// Fetches the map again from `target` unless another connection already is; a failed
    /// fetch keeps the old map (redirects are still followed one by one).
    pub(crate) async fn refresh(&self, target: Target) {
        if self.refreshing.swap(true, Ordering::AcqRel) {
            return;
        }
        if let Ok(mut fresh) = fetch(&target, &self.auth).await {
            let version = self.version() + 1;
            fresh.version = version;
            match self.topology.write() {
                Ok(mut t) => *t = Arc::new(fresh),
                Err(poisoned) => *poisoned.into_inner() = Arc::new(fresh),
            }
            self.version.store(version, Ordering::Release);
        }
        self.refreshing.store(false, Ordering::Release);
    }
}

/// A MOVED or ASK error reply.
#[derive(Clone, Debug, PartialEq)]
pub(crate) struct Redirect {
    pub(crate) ask: bool,
    pub(crate) slot: u16,
    pub(crate) host: String,
    pub(crate) port: u16,
}

impl Redirect {
    /// Parses `-MOVED 3999 127.0.0.1:6381\r\n` (or ASK); `None` for any other error.
    pub(crate) fn parse(error: &[u8]) -> Option<Redirect> {
        let text = std::str::from_utf8(error).ok()?;
        let text = text.strip_prefix('-').unwrap_or(text).trim_end();
        let mut words = text.split(' ');
        let ask = match words.next()? {
            "MOVED" => false,
            "ASK" => true,
            _ => return None,
        };
        let slot = words.next()?.parse().ok()?;
        let (host, port) = words.next()?.rsplit_once(':')?;
        Some(Redirect {
            ask,
            slot,
            host: host.to_string(),
            port: port.parse().ok()?,
        })
    }
}

/// The slot of a multibulk request's first argument after the command name (the key of
/// every default test and of most commands); `None` for inline or keyless requests.
pub(crate) fn request_slot(request: &[u8]) -> Option<u16> {
    let rest = request.strip_prefix(b"*")?;
    let (count, mut rest) = header(rest)?;
    if count < 2 {
        return None;
    }
    for index in 0..2 {
        let (len, after) = header(rest.strip_prefix(b"$")?)?;
        let arg = after.get(..len)?;
        if index == 1 {
            return Some(key_slot(arg));
        }
        rest = after.get(len + 2..)?;
    }
    None
}

/// A RESP length line: the number and what follows its CRLF.
fn header(bytes: &[u8]) -> Option<(usize, &[u8])> {
    let end = bytes.iter().position(|&b| b == b'\r')?;
    let n = std::str::from_utf8(&bytes[..end]).ok()?.parse().ok()?;
    Some((n, bytes.get(end + 2..)?))
}

/// Three bytes to put inside `{…}` so a key hashes to `slot`: the shortest alphanumeric
/// string with that slot, padded with `}` (which ends the tag early).
pub(crate) fn slot_tag(slot: u16) -> [u8; 3] {
    static TAGS: OnceLock<Vec<[u8; 3]>> = OnceLock::new();
    let tags = TAGS.get_or_init(|| {
        const ALPHABET: &[u8] = b"0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";
        let mut tags = vec![[0u8; 3]; SLOTS];
        let mut found = vec![false; SLOTS];
        let mut put = |tag: [u8; 3], len: usize| {
            let slot = usize::from(crc16(&tag[..len]) & (SLOTS as u16 - 1));
            if !found[slot] {
                found[slot] = true;
                tags[slot] = tag;
            }
        };
        for &a in ALPHABET {
            put([a, b'}', b'}'], 1);
        }
        for &a in ALPHABET {
            for &b in ALPHABET {
                put([a, b, b'}'], 2);
            }
        }
        for &a in ALPHABET {
            for &b in ALPHABET {
                for &c in ALPHABET {
                    put([a, b, c], 3);
                }
            }
        }
        tags
    });
    tags.get(usize::from(slot)).copied().unwrap_or(*b"}}}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_slot_has_a_tag_that_hashes_to_it() {
        for slot in 0..SLOTS as u16 {
            let tag = slot_tag(slot);
            let key = [b"k{".as_slice(), &tag, b"}:1"].concat();
            assert_eq!(key_slot(&key), slot, "{:?}", String::from_utf8_lossy(&key));
        }
    }

    #[test]
    fn redirects_parse() {
        assert_eq!(
            Redirect::parse(b"-MOVED 3999 127.0.0.1:6381\r\n"),
            Some(Redirect {
                ask: false,
                slot: 3999,
                host: "127.0.0.1".into(),
                port: 6381
            })
        );
        assert!(Redirect::parse(b"-ASK 1 ::1:7000\r\n").unwrap().ask);
        assert_eq!(Redirect::parse(b"-ERR nope\r\n"), None);
        assert_eq!(Redirect::parse(b"-MOVED x h:1\r\n"), None);
    }

    #[test]
    fn request_slot_reads_the_first_key() {
        let mut out = Vec::new();
        encode_command(&[&b"GET"[..], b"foo"], &mut out);
        assert_eq!(request_slot(&out), Some(12182));
        out.clear();
        encode_command(&[&b"PING"[..]], &mut out);
        assert_eq!(request_slot(&out), None);
        assert_eq!(request_slot(b"PING\r\n"), None);
    }

    #[test]
    fn topology_from_cluster_slots() {
        let node = |port| {
            Frame::Array(vec![
                Frame::Bulk(b"".to_vec()),
                Frame::Integer(port),
                Frame::Bulk(format!("id{port}").into_bytes()),
            ])
        };
        let reply = Frame::Array(vec![
            Frame::Array(vec![
                Frame::Integer(8192),
                Frame::Integer(16383),
                node(7001),
            ]),
            Frame::Array(vec![Frame::Integer(0), Frame::Integer(8191), node(7000)]),
        ]);
        let t = Topology::from_slots(&reply, "10.0.0.1").unwrap();
        assert_eq!(t.masters.len(), 2);
        assert_eq!(
            (t.masters[0].port, t.masters[0].host.as_str()),
            (7000, "10.0.0.1")
        );
        assert_eq!(t.owner(8192), Some(1));
        assert_eq!(t.slots_of(0).len(), 8192);
        assert_eq!(t.find("10.0.0.1", 7001), Some(1));
    }
}
