//! The bitmap family beside real Redis: SETBIT/GETBIT, BITCOUNT and BITPOS in byte and bit
//! ranges, BITOP, and BITFIELD with every overflow mode, byte for byte in RESP2 and RESP3.

/// One command per line, split on spaces.
const CORPUS: &str = "
SETBIT b 7 1
SETBIT b 7 0
SETBIT b 100 1
SETBIT b 4294967296 1
SETBIT b -1 1
SETBIT b 1 2
GETBIT b 100
GETBIT b 99999
GETBIT nokey 0
GET b
SET s foobar
BITCOUNT s
BITCOUNT s 0 0
BITCOUNT s 1 1
BITCOUNT s 1 -2
BITCOUNT s 5 30 BIT
BITCOUNT s -10 -1 BIT
BITCOUNT s 0 -1 BYTE
BITCOUNT s 0
BITCOUNT s 0 1 WORD
BITCOUNT nokey
BITPOS s 1
BITPOS s 0
BITPOS s 1 2
BITPOS s 1 2 -1 BYTE
BITPOS s 1 7 15 BIT
BITPOS s 0 0 -1 BIT
BITPOS s 2
BITPOS nokey 0
BITPOS nokey 1
SETRANGE ones 0 zz
BITPOS ones 0
BITPOS ones 0 0 -1
SET a abc
SET c xyzw
BITOP AND dst a c
GET dst
BITOP OR dst a c
GET dst
BITOP XOR dst a c nokey
GET dst
BITOP NOT dst a
GET dst
BITOP NOT dst a c
BITOP AND empty nokey
EXISTS empty
BITOP BAD dst a
BITFIELD f SET u8 0 255 GET u8 0 GET i8 0
BITFIELD f INCRBY u2 100 1 OVERFLOW SAT INCRBY u2 102 1
BITFIELD f OVERFLOW WRAP INCRBY i8 0 200
BITFIELD f OVERFLOW FAIL INCRBY u8 8 300 GET u8 8
BITFIELD f OVERFLOW SAT INCRBY i16 #1 40000 GET i16 #1
BITFIELD f SET i64 0 -1 GET u63 0
BITFIELD f GET u64 0
BITFIELD f GET i65 0
BITFIELD f SET u8 -1 1
BITFIELD f OVERFLOW NOPE INCRBY u8 0 1
BITFIELD_RO f GET u8 0 GET i4 4
BITFIELD_RO f SET u8 0 1
SETBIT s 0 1
LPUSH l x
SETBIT l 0 1
BITCOUNT l
";

#[test]
fn bitmap_corpus_matches_real_redis_byte_for_byte_in_both_protocols() {
    super::assert_corpus_matches(CORPUS);
}
