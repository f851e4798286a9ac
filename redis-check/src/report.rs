//! `redis-check-rdb`'s additions to Redis: one JSON object per key, and a memory report
//! per type and per key prefix (schemas in the crate documentation).

use std::collections::HashMap;
use std::io::{self, Write};

use crate::rdb_check::KeyInfo;

/// Appends `s` as a JSON string; bytes outside printable ASCII become `\u00XX`.
pub fn push_json_string(out: &mut Vec<u8>, s: &[u8]) {
    out.push(b'"');
    for &b in s {
        match b {
            b'"' => out.extend_from_slice(b"\\\""),
            b'\\' => out.extend_from_slice(b"\\\\"),
            b'\n' => out.extend_from_slice(b"\\n"),
            b'\r' => out.extend_from_slice(b"\\r"),
            b'\t' => out.extend_from_slice(b"\\t"),
            0x20..=0x7e => out.push(b),
            _ => out.extend_from_slice(format!("\\u{:04x}", b).as_bytes()),
        }
    }
    out.push(b'"');
}

fn opt(n: Option<i64>) -> String {
    n.map_or_else(|| "null".to_string(), |n| n.to_string())
}

/// One key as a JSON line.
pub fn json_line(k: &KeyInfo, now_ms: i64) -> Vec<u8> {
    let mut out = Vec::with_capacity(k.key.len() + 160);
    out.extend_from_slice(format!("{{\"db\":{},\"key\":", k.db).as_bytes());
    push_json_string(&mut out, &k.key);
    out.extend_from_slice(
        format!(
            ",\"type\":\"{}\",\"rdb_type\":{},\"serialized_bytes\":{},\"elements\":{},\"expire_ms\":{},\"ttl_ms\":{}}}\n",
            k.value_type,
            k.rdb_type,
            k.serialized_bytes,
            k.elements,
            opt(k.expire_ms),
            opt(k.expire_ms.map(|e| e.saturating_sub(now_ms))),
        )
        .as_bytes(),
    );
    out
}

#[derive(Debug, Default, Clone, Copy)]
struct Totals {
    keys: u64,
    bytes: u64,
    elements: u64,
}

impl Totals {
    fn add(&mut self, k: &KeyInfo) {
        self.keys += 1;
        self.bytes += u64::try_from(k.serialized_bytes).unwrap_or(u64::MAX);
        self.elements = self.elements.saturating_add(k.elements);
    }
}

/// Sums keys by type and by prefix.
#[derive(Debug)]
pub struct MemoryReport {
    delimiter: u8,
    all: Totals,
    by_type: HashMap<&'static str, Totals>,
    by_prefix: HashMap<Vec<u8>, Totals>,
}

/// The group of keys with no delimiter.
const NO_PREFIX: &[u8] = b"(no prefix)";

impl MemoryReport {
    pub fn new(delimiter: u8) -> MemoryReport {
        MemoryReport {
            delimiter,
            all: Totals::default(),
            by_type: HashMap::new(),
            by_prefix: HashMap::new(),
        }
    }

    pub fn add(&mut self, k: &KeyInfo) {
        self.all.add(k);
        self.by_type.entry(k.value_type).or_default().add(k);
        let prefix = match k.key.iter().position(|&b| b == self.delimiter) {
            Some(n) => &k.key[..n],
            None => NO_PREFIX,
        };
        match self.by_prefix.get_mut(prefix) {
            Some(t) => t.add(k),
            None => {
                let mut t = Totals::default();
                t.add(k);
                self.by_prefix.insert(prefix.to_vec(), t);
            }
        }
    }

    /// Prints the report: totals, then types and prefixes by bytes, largest first.
    pub fn write(&self, out: &mut dyn Write) -> io::Result<()> {
        writeln!(
            out,
            "# Memory report (bytes as serialized in the RDB file)\n\
             keys: {}  bytes: {}  elements: {}",
            self.all.keys, self.all.bytes, self.all.elements
        )?;
        writeln!(out, "\n# By type")?;
        writeln!(
            out,
            "{:<12} {:>12} {:>16} {:>16}",
            "type", "keys", "bytes", "elements"
        )?;
        let mut types: Vec<_> = self.by_type.iter().collect();
        types.sort_by(|a, b| b.1.bytes.cmp(&a.1.bytes).then(a.0.cmp(b.0)));
        for (name, t) in types {
            writeln!(
                out,
                "{name:<12} {:>12} {:>16} {:>16}",
                t.keys, t.bytes, t.elements
            )?;
        }
        writeln!(
            out,
            "\n# By prefix (up to the first '{}')",
            char::from(self.delimiter).escape_default()
        )?;
        writeln!(out, "{:<32} {:>12} {:>16}", "prefix", "keys", "bytes")?;
        let mut prefixes: Vec<_> = self.by_prefix.iter().collect();
        prefixes.sort_by(|a, b| b.1.bytes.cmp(&a.1.bytes).then(a.0.cmp(b.0)));
        for (prefix, t) in prefixes {
            let mut name = Vec::new();
            if prefix.as_slice() == NO_PREFIX {
                name.extend_from_slice(NO_PREFIX);
            } else {
                push_json_string(&mut name, prefix);
            }
            writeln!(
                out,
                "{:<32} {:>12} {:>16}",
                String::from_utf8_lossy(&name),
                t.keys,
                t.bytes
            )?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key(name: &[u8], ty: &'static str, bytes: usize, expire: Option<i64>) -> KeyInfo {
        KeyInfo {
            db: 0,
            key: name.to_vec(),
            rdb_type: 0,
            value_type: ty,
            serialized_bytes: bytes,
            elements: 1,
            expire_ms: expire,
        }
    }

    #[test]
    fn json_escapes_every_non_printable_byte() {
        let line = json_line(&key(b"a\"\\\x00\xff", "string", 9, Some(2000)), 500);
        assert_eq!(
            String::from_utf8(line).unwrap(),
            "{\"db\":0,\"key\":\"a\\\"\\\\\\u0000\\u00ff\",\"type\":\"string\",\"rdb_type\":0,\
             \"serialized_bytes\":9,\"elements\":1,\"expire_ms\":2000,\"ttl_ms\":1500}\n"
        );
    }

    #[test]
    fn memory_report_groups_by_type_and_prefix() {
        let mut r = MemoryReport::new(b':');
        r.add(&key(b"user:1", "hash", 100, None));
        r.add(&key(b"user:2", "hash", 50, None));
        r.add(&key(b"plain", "string", 10, None));
        let mut out = Vec::new();
        r.write(&mut out).unwrap();
        let text = String::from_utf8(out).unwrap();
        assert!(text.contains("keys: 3  bytes: 160"), "{text}");
        let user = text.find("\"user\"").unwrap();
        let none = text.find("(no prefix)").unwrap();
        assert!(user < none, "{text}");
        assert!(
            text.contains(&format!("{:<12} {:>12} {:>16}", "hash", 2, 150)),
            "{text}"
        );
    }
}
