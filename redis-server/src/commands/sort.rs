//! SORT and SORT_RO (group `generic`): order the elements of a list, set or sorted set,
//! numerically or by bytes, optionally by weights read from other keys (BY), replying with
//! the elements or values looked up for them (GET), or storing the result as a list (STORE).
//!
//! The BY and GET patterns reach keys no key spec names, so both commands run with the
//! exclusive gate and look those keys up through the lazily locking view.

use std::cmp::Ordering;
use std::sync::atomic::Ordering::Relaxed;

use common::keyspace::Entry;
use common::number::{parse_f64, parse_i64};
use common::value::Value;
use common::value::list::ListValue;
use common::value::string::IntBuf;

use super::{CommandContext, CommandError, Locking, Registry};
use crate::commands::args::is;
use crate::effects::Event;

pub(super) fn register(r: &mut Registry) {
    r.add_with("sort", sort, Locking::Exclusive);
    r.add_with("sort_ro", sort_ro, Locking::Exclusive);
}

const NOT_A_DOUBLE: &str = "One or more scores can't be converted into double";

/// The options of one SORT call.
struct Options<'a> {
    desc: bool,
    alpha: bool,
    limit_start: i64,
    limit_count: i64,
    store: Option<&'a [u8]>,
    by: Option<&'a [u8]>,
    /// BY named a pattern without `*` (once seen, it stays set, as in Redis).
    dont_sort: bool,
    gets: Vec<&'a [u8]>,
}

/// Reads the options after the key; STORE is only an option when `may_store`.
fn parse_options<'a>(
    argv: &[&'a [u8]],
    may_store: bool,
    full_key_access: bool,
) -> Result<Options<'a>, CommandError> {
    let mut o = Options {
        desc: false,
        alpha: false,
        limit_start: 0,
        limit_count: -1,
        store: None,
        by: None,
        dont_sort: false,
        gets: Vec::new(),
    };
    let mut i = 0;
    while i < argv.len() {
        let word = argv[i];
        let left = argv.len() - i - 1;
        if is(word, "asc") {
            o.desc = false;
        } else if is(word, "desc") {
            o.desc = true;
        } else if is(word, "alpha") {
            o.alpha = true;
        } else if is(word, "limit") && left >= 2 {
            o.limit_start = parse_i64(argv[i + 1]).ok_or(CommandError::NotInteger)?;
            o.limit_count = parse_i64(argv[i + 2]).ok_or(CommandError::NotInteger)?;
            i += 2;
        } else if may_store && is(word, "store") && left >= 1 {
            o.store = Some(argv[i + 1]);
            i += 1;
        } else if is(word, "by") && left >= 1 {
            let pattern = argv[i + 1];
            o.by = Some(pattern);
            if !pattern.contains(&b'*') {
                o.dont_sort = true;
            } else if !full_key_access {
                return Err(CommandError::err(
                    "BY option of SORT denied due to insufficient ACL permissions.",
                ));
            }
            i += 1;
        } else if is(word, "get") && left >= 1 {
            if !full_key_access {
                return Err(CommandError::err(
                    "GET option of SORT denied due to insufficient ACL permissions.",
                ));
            }
            o.gets.push(argv[i + 1]);
            i += 1;
        } else {
            return Err(CommandError::Syntax);
        }
        i += 1;
    }
    Ok(o)
}

/// SORT key [BY pattern] [LIMIT offset count] [GET pattern ...] [ASC|DESC] [ALPHA]
/// [STORE destination]
fn sort(ctx: &mut CommandContext<'_>) -> Result<(), CommandError> {
    sort_generic(ctx, true)
}

/// SORT_RO: SORT without STORE.
fn sort_ro(ctx: &mut CommandContext<'_>) -> Result<(), CommandError> {
    sort_generic(ctx, false)
}

/// One element to sort with what it is sorted by.
struct Item {
    element: Vec<u8>,
    score: f64,
    /// The BY value for ALPHA sorting; `None` when the weight key is missing.
    weight: Option<Vec<u8>>,
}

/// Which kind of collection is sorted.
#[derive(Clone, Copy, PartialEq)]
enum Kind {
    List,
    Set,
    ZSet,
}

fn sort_generic(ctx: &mut CommandContext<'_>, may_store: bool) -> Result<(), CommandError> {
    let key = ctx.args.next_key()?;
    let argv: Vec<&[u8]> = ctx.args.rest().collect();
    // BY and GET read keys no key spec names: only a user who may read every key uses them.
    let full_key_access =
        crate::acl::can_read_any_key(ctx.server, ctx.client, ctx.command.spec, ctx.args.list());
    let mut o = parse_options(&argv, may_store, full_key_access)?;
    let now = ctx.now_ms;

    let kind = match ctx.db.shard(key).lookup_read(key, now) {
        None => None,
        Some(e) => match e.value() {
            Value::List(_) => Some(Kind::List),
            Value::Set(_) => Some(Kind::Set),
            Value::ZSet(_) => Some(Kind::ZSet),
            _ => return Err(CommandError::WrongType),
        },
    };
    // A set has no order of its own: results stored or seen by a script are sorted by bytes,
    // so that replicas and the AOF get the same ones.
    let in_script = ctx.client.script_read.is_some();
    if o.dont_sort && kind == Some(Kind::Set) && (o.store.is_some() || in_script) {
        o.dont_sort = false;
        o.alpha = true;
        o.by = None;
    }
    let len = match ctx.db.shard(key).get_mut(key, now).map(Entry::value_mut) {
        Some(Value::List(l)) => l.len(),
        Some(Value::Set(s)) => s.len(),
        Some(Value::ZSet(z)) => {
            // Redis converts the sorted set for SORT, and it stays converted.
            z.convert_to_skiplist();
            z.len()
        }
        _ => 0,
    };
    let len = i64::try_from(len).unwrap_or(i64::MAX);

    // Clamp LIMIT to the collection.
    let mut start = o.limit_start.clamp(0, len);
    let count = o.limit_count.clamp(-1, len);
    let mut end = if count < 0 {
        len - 1
    } else {
        start + count - 1
    };
    if start >= len {
        start = len - 1;
        end = len - 2;
    }
    if end >= len {
        end = len - 1;
    }

    let mut items: Vec<Item> = Vec::new();
    let item = |element: Vec<u8>| Item {
        element,
        score: 0.0,
        weight: None,
    };
    let ranged = o.dont_sort && matches!(kind, Some(Kind::List | Kind::ZSet));
    match ctx.db.shard(key).get(key, now).map(Entry::value) {
        Some(Value::List(l)) if ranged && end >= start => {
            let n = (end - start + 1) as usize;
            let from = if o.desc { len - start - 1 } else { start };
            l.for_range(from as usize, n, o.desc, |v| items.push(item(v.to_vec())));
        }
        Some(Value::ZSet(z)) if ranged && end >= start => {
            let (lo, hi) = if o.desc {
                (len - end - 1, len - start - 1)
            } else {
                (start, end)
            };
            z.for_each_in_ranks(lo as usize, hi as usize, o.desc, |m, _| {
                items.push(item(m.to_vec()))
            });
        }
        // An empty range.
        Some(Value::List(_) | Value::ZSet(_)) if ranged => {}
        Some(Value::List(l)) => {
            items.reserve(l.len());
            l.for_range(0, l.len(), false, |v| items.push(item(v.to_vec())));
        }
        Some(Value::Set(s)) => {
            items.reserve(s.len());
            s.for_each(|m| {
                let mut buf = IntBuf::default();
                items.push(item(m.bytes(&mut buf).to_vec()));
            });
        }
        Some(Value::ZSet(z)) => {
            items.reserve(z.len());
            z.for_each(|m, _| items.push(item(m.to_vec())));
        }
        _ => {}
    }
    if ranged {
        // The range is already cut out.
        end -= start;
        start = 0;
    }

    let mut conversion_error = false;
    if !o.dont_sort {
        for it in &mut items {
            let by_value = match o.by {
                Some(pattern) => match lookup_by_pattern(ctx, pattern, &it.element) {
                    Some(v) => v,
                    None => continue,
                },
                None => it.element.clone(),
            };
            if o.alpha {
                if o.by.is_some() {
                    it.weight = Some(by_value);
                }
            } else {
                match sort_score(&by_value) {
                    Some(score) => it.score = score,
                    None => conversion_error = true,
                }
            }
        }
        if !conversion_error {
            let (alpha, by, desc) = (o.alpha, o.by.is_some(), o.desc);
            items.sort_by(|a, b| {
                let ord = compare(a, b, alpha, by);
                if desc { ord.reverse() } else { ord }
            });
        }
    }
    if conversion_error {
        return Err(CommandError::Err(NOT_A_DOUBLE.into()));
    }

    let selected: &[Item] = if end >= start {
        &items[start as usize..=(end as usize).min(items.len().saturating_sub(1))]
    } else {
        &[]
    };
    let per_item = o.gets.len().max(1);
    let output_len = selected.len() * per_item;
    match o.store {
        None => {
            ctx.reply.array(output_len);
            for it in selected {
                if o.gets.is_empty() {
                    ctx.reply.bulk(&it.element);
                }
                for pattern in &o.gets {
                    match lookup_by_pattern(ctx, pattern, &it.element) {
                        Some(v) => ctx.reply.bulk(&v),
                        None => ctx.reply.null(),
                    }
                }
            }
        }
        Some(dst) => {
            let mut list = new_list(ctx);
            for it in selected {
                if o.gets.is_empty() {
                    list.push(common::value::list::End::Tail, &it.element);
                }
                for pattern in &o.gets {
                    let v = lookup_by_pattern(ctx, pattern, &it.element).unwrap_or_default();
                    list.push(common::value::list::End::Tail, &v);
                }
            }
            let lru = ctx.lru();
            if output_len > 0 {
                ctx.set_key(
                    dst,
                    Entry::collection(dst, Value::List(Box::new(list)), lru),
                );
                ctx.signal_ready(dst);
                ctx.modified(dst);
                ctx.notify(Event::List, "sortstore", dst);
                ctx.dirty(output_len as u64);
            } else if ctx.db.shard(dst).remove(dst).is_some() {
                ctx.wrote(Event::Generic, "del", dst);
            }
            ctx.reply.integer(output_len as i64);
        }
    }
    Ok(())
}

/// Redis's order: numeric by score with ties broken by the elements' bytes; ALPHA by the
/// elements' bytes, or with BY by the weights (a missing weight first).
fn compare(a: &Item, b: &Item, alpha: bool, by: bool) -> Ordering {
    if !alpha {
        a.score
            .partial_cmp(&b.score)
            .unwrap_or(Ordering::Equal)
            .then_with(|| a.element.cmp(&b.element))
    } else if by {
        a.weight.cmp(&b.weight)
    } else {
        a.element.cmp(&b.element)
    }
}

/// A weight read as C's `strtod` over the whole (NUL-terminated) string: an empty string is
/// 0; out-of-range values and NaN are errors.
fn sort_score(bytes: &[u8]) -> Option<f64> {
    let bytes = match bytes.iter().position(|&b| b == 0) {
        Some(nul) => &bytes[..nul],
        None => bytes,
    };
    if bytes.is_empty() {
        return Some(0.0);
    }
    let start = bytes
        .iter()
        .position(|b| !matches!(b, b' ' | b'\t' | b'\n' | 0x0B | 0x0C | b'\r'))?;
    parse_f64(&bytes[start..])
}

/// The value a BY or GET pattern names for `element`: `#` is the element itself; otherwise the
/// first `*` is replaced by the element to name a string key, or a hash field when `->field`
/// follows. `None` when the pattern has no `*`, or the key or field is missing or of another
/// type.
fn lookup_by_pattern(
    ctx: &mut CommandContext<'_>,
    pattern: &[u8],
    element: &[u8],
) -> Option<Vec<u8>> {
    if pattern == b"#" {
        return Some(element.to_vec());
    }
    let star = pattern.iter().position(|&b| b == b'*')?;
    let after = &pattern[star + 1..];
    let (suffix, field) = match after.windows(2).position(|w| w == b"->") {
        Some(arrow) if arrow + 2 < after.len() => (&after[..arrow], Some(&after[arrow + 2..])),
        _ => (after, None),
    };
    let mut name = Vec::with_capacity(star + element.len() + suffix.len());
    name.extend_from_slice(&pattern[..star]);
    name.extend_from_slice(element);
    name.extend_from_slice(suffix);
    let now = ctx.now_ms;
    let entry = ctx.db.shard(&name).lookup_read(&name, now)?;
    match field {
        Some(field) => match entry.value() {
            Value::Hash(h) => h.get(field).map(|v| v.to_vec()),
            _ => None,
        },
        None => {
            let s = entry.as_str()?;
            let mut buf = IntBuf::default();
            Some(s.bytes(&mut buf).to_vec())
        }
    }
}

/// A new empty list with the configured node limits.
fn new_list(ctx: &CommandContext<'_>) -> ListValue {
    let fill = ctx.server.hot.list_max_listpack_size.load(Relaxed);
    let depth = ctx.server.hot.list_compress_depth.load(Relaxed);
    ListValue::new(
        fill.clamp(i64::from(i32::MIN), i64::from(i32::MAX)) as i32,
        usize::try_from(depth).unwrap_or(usize::MAX),
    )
}

#[cfg(test)]
mod tests {
    use crate::commands::testkit::TestClient;

    #[test]
    fn sort_store_reports_its_effects() {
        let mut c = TestClient::new();
        c.run(&["RPUSH", "l", "3", "1", "2"]);
        c.assert_effects(&["SORT", "l", "STORE", "dst"], &["l:sortstore:dst"], 3);
        c.assert_effects(&["SORT", "nokey", "STORE", "dst"], &["g:del:dst"], 1);
        c.assert_effects(&["SORT", "nokey", "STORE", "dst"], &[], 0);
        c.assert_effects(&["SORT", "l"], &[], 0);
    }

    /// Replies checked against Redis 7.0.15.
    fn fixture() -> TestClient {
        let mut c = TestClient::new();
        c.text(&["RPUSH", "l", "3", "1", "2", "10"]);
        c.text(&["SADD", "s", "b", "a", "c"]);
        c.text(&["ZADD", "z", "1", "x", "2", "y", "3", "w"]);
        c.text(&[
            "MSET", "w_3", "30", "w_1", "10", "w_2", "20", "w_10", "5", "o_3", "c", "o_1", "a",
        ]);
        c.text(&["HSET", "h_1", "f", "one"]);
        c.text(&["RPUSH", "bad", "1", "x"]);
        c.text(&["SET", "str", "v"]);
        c
    }

    fn bulks(items: &[&str]) -> String {
        let mut out = format!("*{}\r\n", items.len());
        for i in items {
            if *i == "(nil)" {
                out.push_str("$-1\r\n");
            } else {
                out.push_str(&format!("${}\r\n{i}\r\n", i.len()));
            }
        }
        out
    }

    #[test]
    fn numeric_alpha_desc_and_limit() {
        let mut c = fixture();
        assert_eq!(c.text(&["SORT", "l"]), bulks(&["1", "2", "3", "10"]));
        assert_eq!(
            c.text(&["SORT", "l", "desc", "LIMIT", "1", "2"]),
            bulks(&["3", "2"])
        );
        assert_eq!(
            c.text(&["SORT", "l", "ALPHA"]),
            bulks(&["1", "10", "2", "3"])
        );
        assert_eq!(
            c.text(&["SORT", "s", "ALPHA", "DESC"]),
            bulks(&["c", "b", "a"])
        );
        assert_eq!(c.text(&["SORT", "l", "LIMIT", "5", "1"]), "*0\r\n");
        assert_eq!(
            c.text(&["SORT", "l", "LIMIT", "-1", "2"]),
            bulks(&["1", "2"])
        );
        assert_eq!(c.text(&["SORT", "missing"]), "*0\r\n");
    }

    #[test]
    fn by_and_get_patterns() {
        let mut c = fixture();
        assert_eq!(
            c.text(&["SORT", "l", "BY", "w_*"]),
            bulks(&["10", "1", "2", "3"])
        );
        assert_eq!(
            c.text(&[
                "SORT", "l", "BY", "w_*", "GET", "#", "GET", "o_*", "GET", "h_*->f"
            ]),
            bulks(&[
                "10", "(nil)", "(nil)", "1", "a", "one", "2", "(nil)", "(nil)", "3", "c", "(nil)"
            ])
        );
        assert_eq!(
            c.text(&["SORT", "l", "BY", "nosort", "DESC"]),
            bulks(&["10", "2", "1", "3"])
        );
        assert_eq!(
            c.text(&["SORT", "l", "BY", "nosort", "LIMIT", "1", "2"]),
            bulks(&["1", "2"])
        );
        assert_eq!(
            c.text(&["SORT", "z", "BY", "nosort", "DESC", "LIMIT", "0", "2"]),
            bulks(&["w", "y"])
        );
        // Missing ALPHA weights are all equal: the original order stays.
        assert_eq!(
            c.text(&["SORT", "l", "BY", "w_*->f", "ALPHA"]),
            bulks(&["3", "1", "2", "10"])
        );
        assert_eq!(
            c.text(&["SORT", "l", "GET", "nokey"]),
            bulks(&["(nil)", "(nil)", "(nil)", "(nil)"])
        );
        assert_eq!(c.text(&["OBJECT", "ENCODING", "z"]), "$8\r\nskiplist\r\n");
    }

    #[test]
    fn errors() {
        let mut c = fixture();
        assert_eq!(
            c.text(&["SORT", "bad"]),
            "-ERR One or more scores can't be converted into double\r\n"
        );
        assert_eq!(
            c.text(&["SORT", "str"]),
            "-WRONGTYPE Operation against a key holding the wrong kind of value\r\n"
        );
        assert_eq!(
            c.text(&["SORT", "l", "LIMIT", "x", "1"]),
            "-ERR value is not an integer or out of range\r\n"
        );
        assert_eq!(c.text(&["SORT", "l", "foo"]), "-ERR syntax error\r\n");
        assert_eq!(
            c.text(&["SORT_RO", "l", "STORE", "d"]),
            "-ERR syntax error\r\n"
        );
        assert_eq!(
            c.text(&["SORT_RO", "l", "DESC"]),
            bulks(&["10", "3", "2", "1"])
        );
    }

    #[test]
    fn store_writes_a_list_or_deletes() {
        let mut c = fixture();
        assert_eq!(c.text(&["SORT", "l", "STORE", "d"]), ":4\r\n");
        assert_eq!(
            c.text(&["LRANGE", "d", "0", "-1"]),
            bulks(&["1", "2", "3", "10"])
        );
        assert_eq!(c.text(&["SORT", "missing", "STORE", "d"]), ":0\r\n");
        assert_eq!(c.text(&["EXISTS", "d"]), ":0\r\n");
        assert_eq!(
            c.text(&["SORT", "s", "BY", "nosort", "STORE", "d2"]),
            ":3\r\n"
        );
        assert_eq!(
            c.text(&["LRANGE", "d2", "0", "-1"]),
            bulks(&["a", "b", "c"])
        );
        assert_eq!(
            c.text(&["SORT", "l", "GET", "o_*", "STORE", "d3"]),
            ":4\r\n"
        );
        assert_eq!(
            c.text(&["LRANGE", "d3", "0", "-1"]),
            bulks(&["a", "", "c", ""])
        );
    }

    #[test]
    fn weights_read_like_strtod() {
        assert_eq!(super::sort_score(b""), Some(0.0));
        assert_eq!(super::sort_score(b" 1.5"), Some(1.5));
        assert_eq!(super::sort_score(b"1\0x"), Some(1.0));
        assert_eq!(super::sort_score(b" "), None);
        assert_eq!(super::sort_score(b"1e400"), None);
        assert_eq!(super::sort_score(b"nan"), None);
        assert_eq!(super::sort_score(b"-inf"), Some(f64::NEG_INFINITY));
    }

    #[test]
    fn a_set_sorted_by_a_constant_in_a_script_comes_out_in_byte_order() {
        let mut c = TestClient::new();
        c.run(&["SADD", "s", "c", "a", "b", "aa"]);
        assert_eq!(
            c.text(&[
                "EVAL",
                "return redis.call('sort',KEYS[1],'by','_')",
                "1",
                "s"
            ]),
            "*4\r\n$1\r\na\r\n$2\r\naa\r\n$1\r\nb\r\n$1\r\nc\r\n"
        );
    }
}
