//! The stream family beside real Redis: entries, ranges, trimming, consumer groups, pending
//! lists and XINFO, byte for byte in RESP2 and RESP3. Every ID is explicit, so replies do not
//! depend on the clock (idle and seen times, as in XPENDING extended, are left out).

/// One command per line, split on spaces.
const CORPUS: &str = "
XADD s 1-1 f1 v1
XADD s 1-2 f1 v2 f2 x
XADD s 2-0 f1 v3
XADD s 2-* f1 v4
XADD s 3 f1 v5
XADD s 1-1 f v
XADD s 0-0 f v
XADD s abc f v
XADD s 5-0 f
XADD nokey NOMKSTREAM 1-1 f v
EXISTS nokey
XLEN s
XLEN nokey
TYPE s
OBJECT ENCODING s
XRANGE s - +
XRANGE s - + COUNT 2
XRANGE s (1-1 +
XRANGE s 1 1
XRANGE s 2 (3
XRANGE s + -
XRANGE s - + COUNT 0
XRANGE s x +
XREVRANGE s + -
XREVRANGE s + - COUNT 1
XREVRANGE s (3 -
XDEL s 1-2 9-9
XLEN s
XRANGE s - +
XADD s MAXLEN 3 4-0 f1 v6
XLEN s
XTRIM s MAXLEN = 2
XTRIM s MINID 4
XTRIM s MAXLEN ~ 0 LIMIT 10
XTRIM s MAXLEN 1 LIMIT 10
XTRIM s BADOPT 1
XRANGE s - +
XADD g 1-0 a 1
XADD g 2-0 b 2
XADD g 3-0 c 3
XGROUP CREATE g grp 0
XGROUP CREATE g grp 0
XGROUP CREATE nokey grp $
XGROUP CREATE nokey grp $ MKSTREAM
XGROUP CREATE g late $ ENTRIESREAD 3
XGROUP CREATECONSUMER g grp alice
XGROUP CREATECONSUMER g grp alice
XGROUP CREATECONSUMER g nogrp alice
XREADGROUP GROUP grp alice COUNT 2 STREAMS g >
XREADGROUP GROUP grp bob STREAMS g >
XREADGROUP GROUP grp alice STREAMS g 0
XREADGROUP GROUP nogrp alice STREAMS g >
XREADGROUP GROUP grp alice NOACK STREAMS g >
XPENDING g grp
XPENDING g nogrp
XACK g grp 1-0 9-0
XACK g grp 1-0
XPENDING g grp
XCLAIM g grp bob 0 2-0 JUSTID
XCLAIM g grp bob 0 9-0
XAUTOCLAIM g grp carol 0 0-0 COUNT 10 JUSTID
XGROUP SETID g grp 0 ENTRIESREAD 0
XGROUP SETID g nogrp 0
XGROUP DELCONSUMER g grp carol
XGROUP DESTROY g late
XGROUP DESTROY g late
XINFO GROUPS g
XINFO STREAM g
XINFO STREAM nokey
XREAD COUNT 1 STREAMS g s 0 0
XREAD STREAMS g 9-0
XSETID g 3-0
XSETID g 1-0
XSETID g 10-0 ENTRIESADDED 3 MAXDELETEDID 5-0
XINFO STREAM g
SET str x
XADD str 1-1 f v
XRANGE str - +
XGROUP HELP
XINFO HELP
";

#[test]
fn stream_corpus_matches_real_redis_byte_for_byte_in_both_protocols() {
    super::assert_corpus_matches(CORPUS);
}
