//! Decoding: the commands of an AOF, one [`Item`] at a time.
//!
//! [`Commands`] walks a byte slice of RESP multibulks (`*N\r\n$len\r\narg\r\n…`) and `#`
//! annotation lines (`#TS:<unix>\r\n`). Each item carries its start and end offsets, so a
//! loader can remember the last good offset. A failure is an [`AofError`]: `Truncated` when
//! the input ends inside an item (a short write, which `aof-load-truncated yes` cuts at the
//! last good offset) or a bad byte with its offset (which must be refused). Headers must be
//! digits followed by `\r\n`; no declared count or length is trusted beyond the bytes present.
//!
//! A file that starts with `REDIS` has an RDB preamble ([`has_rdb_preamble`]): decode it
//! with [`crate::rdb::reader`] first and start this reader where the RDB ends.

use super::{AofError, AofErrorKind};

/// The signature of an RDB preamble (or of a `.base.rdb` file).
pub const RDB_SIGNATURE: &[u8] = b"REDIS";

/// Whether `data` starts with an RDB (`REDIS`), as Redis checks before loading the tail.
pub fn has_rdb_preamble(data: &[u8]) -> bool {
    data.starts_with(RDB_SIGNATURE)
}

/// One thing found in the AOF.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Item<'a> {
    /// A command; `args[0]` is its name.
    Command {
        start: usize,
        end: usize,
        args: Vec<&'a [u8]>,
    },
    /// A `#` line, without the `#` and the line end (`TS:1700000000`).
    Annotation {
        start: usize,
        end: usize,
        text: &'a [u8],
    },
}

impl Item<'_> {
    pub fn start(&self) -> usize {
        match self {
            Item::Command { start, .. } | Item::Annotation { start, .. } => *start,
        }
    }

    /// The offset just past this item.
    pub fn end(&self) -> usize {
        match self {
            Item::Command { end, .. } | Item::Annotation { end, .. } => *end,
        }
    }

    /// The Unix time of a `#TS:` annotation.
    pub fn timestamp(&self) -> Option<i64> {
        match self {
            Item::Annotation { text, .. } => parse_timestamp(text),
            Item::Command { .. } => None,
        }
    }
}

fn parse_timestamp(text: &[u8]) -> Option<i64> {
    let digits = text.strip_prefix(b"TS:")?;
    crate::number::parse_i64(digits)
}

/// An iterator over the items of an AOF; it stops after the first error.
#[derive(Debug)]
pub struct Commands<'a> {
    data: &'a [u8],
    pos: usize,
    failed: bool,
}

impl<'a> Commands<'a> {
    /// Reads `data` from its start (pass the slice after an RDB preamble, and add the
    /// preamble's length to the offsets, or use [`Commands::at`]).
    pub fn new(data: &'a [u8]) -> Commands<'a> {
        Commands::at(data, 0)
    }

    /// Reads `data` from offset `pos` (where an RDB preamble ended); offsets stay relative to
    /// the whole of `data`.
    pub fn at(data: &'a [u8], pos: usize) -> Commands<'a> {
        Commands {
            data,
            pos: pos.min(data.len()),
            failed: false,
        }
    }

    /// The offset just past the last item returned.
    pub fn offset(&self) -> usize {
        self.pos
    }

    fn byte(&self, at: usize) -> Result<u8, AofError> {
        self.data
            .get(at)
            .copied()
            .ok_or(AofError::new(at, AofErrorKind::Truncated))
    }

    /// `<prefix><digits>\r\n` from `at`; returns the number and the offset after the line.
    fn header(
        &self,
        at: usize,
        prefix: u8,
        what: &'static str,
    ) -> Result<(usize, usize), AofError> {
        let found = self.byte(at)?;
        if found != prefix {
            return Err(AofError::new(
                at,
                AofErrorKind::Unexpected {
                    expected: what,
                    found,
                },
            ));
        }
        let mut p = at + 1;
        let mut n: usize = 0;
        loop {
            let b = self.byte(p)?;
            if b.is_ascii_digit() {
                n = n
                    .checked_mul(10)
                    .and_then(|n| n.checked_add(usize::from(b - b'0')))
                    .ok_or(AofError::new(p, AofErrorKind::BadLength))?;
                p += 1;
            } else if b == b'\r' && p > at + 1 {
                break;
            } else {
                return Err(AofError::new(
                    p,
                    AofErrorKind::Unexpected {
                        expected: "a digit",
                        found: b,
                    },
                ));
            }
        }
        self.crlf(p)?;
        Ok((n, p + 2))
    }

    fn crlf(&self, at: usize) -> Result<(), AofError> {
        for (i, want) in [b'\r', b'\n'].into_iter().enumerate() {
            let found = self.byte(at + i)?;
            if found != want {
                return Err(AofError::new(
                    at + i,
                    AofErrorKind::Unexpected {
                        expected: "\"\\r\\n\"",
                        found,
                    },
                ));
            }
        }
        Ok(())
    }

    fn annotation(&self, start: usize) -> Result<Item<'a>, AofError> {
        let rest = &self.data[start..];
        let nl = rest
            .iter()
            .position(|&b| b == b'\n')
            .ok_or(AofError::new(self.data.len(), AofErrorKind::Truncated))?;
        let mut text = &rest[1..nl];
        if let Some(t) = text.strip_suffix(b"\r") {
            text = t;
        }
        Ok(Item::Annotation {
            start,
            end: start + nl + 1,
            text,
        })
    }

    fn command(&self, start: usize) -> Result<Item<'a>, AofError> {
        let (argc, mut p) = self.header(start, b'*', "'*'")?;
        if argc == 0 {
            return Err(AofError::new(start + 1, AofErrorKind::BadLength));
        }
        // Each argument takes at least `$0\r\n\r\n`: the capacity is bounded by the input.
        let mut args = Vec::with_capacity(argc.min((self.data.len() - p) / 6 + 1));
        for _ in 0..argc {
            let (len, body) = self.header(p, b'$', "'$'")?;
            let end = body
                .checked_add(len)
                .ok_or(AofError::new(p, AofErrorKind::BadLength))?;
            if end > self.data.len() {
                return Err(AofError::new(self.data.len(), AofErrorKind::Truncated));
            }
            self.crlf(end)?;
            args.push(&self.data[body..end]);
            p = end + 2;
        }
        Ok(Item::Command {
            start,
            end: p,
            args,
        })
    }
}

impl<'a> Iterator for Commands<'a> {
    type Item = Result<Item<'a>, AofError>;

    fn next(&mut self) -> Option<Self::Item> {
        if self.failed || self.pos >= self.data.len() {
            return None;
        }
        let start = self.pos;
        let item = if self.data[start] == b'#' {
            self.annotation(start)
        } else {
            self.command(start)
        };
        match &item {
            Ok(it) => self.pos = it.end(),
            Err(_) => self.failed = true,
        }
        Some(item)
    }
}

/// How far an AOF can be loaded, as the server decides it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Scan {
    /// The end of the last complete command outside a transaction (where a truncated file
    /// is cut, and where `MULTI` without `EXEC` is reverted to).
    pub valid_up_to: usize,
    /// Commands read.
    pub commands: usize,
    /// Why the scan stopped before the end, if it did. A [`Scan`] that ends inside
    /// `MULTI … ` without `EXEC` reports `Truncated` at the end of the input.
    pub error: Option<AofError>,
}

/// Walks every item from `pos`, tracking `MULTI`/`EXEC` as the loader does.
pub fn scan(data: &[u8], pos: usize) -> Scan {
    let it = Commands::at(data, pos);
    let mut valid_up_to = it.offset();
    let mut commands = 0;
    let mut in_multi = false;
    for item in it {
        match item {
            Err(e) => {
                return Scan {
                    valid_up_to,
                    commands,
                    error: Some(e),
                };
            }
            Ok(Item::Annotation { end, .. }) => {
                if !in_multi {
                    valid_up_to = end;
                }
            }
            Ok(Item::Command { end, args, .. }) => {
                commands += 1;
                let name = args.first().copied().unwrap_or_default();
                if name.eq_ignore_ascii_case(b"multi") {
                    in_multi = true;
                } else if name.eq_ignore_ascii_case(b"exec") {
                    in_multi = false;
                }
                if !in_multi {
                    valid_up_to = end;
                }
            }
        }
    }
    let error = in_multi.then(|| AofError::new(data.len(), AofErrorKind::Truncated));
    Scan {
        valid_up_to,
        commands,
        error,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::aof::writer;

    fn sample() -> Vec<u8> {
        let mut out = Vec::new();
        writer::push_timestamp(&mut out, 1_700_000_000);
        crate::resp::encode_command(&["SELECT", "0"], &mut out);
        crate::resp::encode_command(&["SET", "key", "va\r\nlue"], &mut out);
        crate::resp::encode_command(&["MULTI"], &mut out);
        crate::resp::encode_command(&["INCR", "n"], &mut out);
        crate::resp::encode_command(&["EXEC"], &mut out);
        crate::resp::encode_command(&["DEL", ""], &mut out);
        out
    }

    fn all(data: &[u8]) -> Result<Vec<Item<'_>>, AofError> {
        Commands::new(data).collect()
    }

    #[test]
    fn round_trip_with_offsets() {
        let data = sample();
        let items = all(&data).unwrap();
        assert_eq!(items.len(), 7);
        assert_eq!(items[0].timestamp(), Some(1_700_000_000));
        assert_eq!(items[0].start(), 0);
        for w in items.windows(2) {
            assert_eq!(w[0].end(), w[1].start());
        }
        assert_eq!(items[6].end(), data.len());
        match &items[2] {
            Item::Command { args, .. } => {
                assert_eq!(args, &[&b"SET"[..], b"key", b"va\r\nlue"]);
            }
            other => panic!("{other:?}"),
        }
        let s = scan(&data, 0);
        assert_eq!(s.valid_up_to, data.len());
        assert_eq!(s.commands, 6);
        assert_eq!(s.error, None);
    }

    #[test]
    fn every_prefix_is_a_truncated_tail() {
        let data = sample();
        let ends: Vec<usize> = all(&data).unwrap().iter().map(Item::end).collect();
        for cut in 0..data.len() {
            let part = &data[..cut];
            let items: Vec<_> = Commands::new(part).collect();
            let good = items.iter().filter(|i| i.is_ok()).count();
            let last_end = if good == 0 { 0 } else { ends[good - 1] };
            if ends.contains(&cut) || cut == 0 {
                assert!(items.iter().all(Result::is_ok), "cut {cut}");
            } else {
                let err = items.last().unwrap().as_ref().unwrap_err();
                assert!(err.is_truncated(), "cut {cut}: {err}");
                assert!(last_end < cut);
            }
            let s = scan(part, 0);
            assert!(s.valid_up_to <= cut);
            // Inside MULTI … EXEC the good offset goes back to before MULTI.
            if cut > ends[2] && cut < ends[5] {
                assert_eq!(s.valid_up_to, ends[2], "cut {cut}");
                assert!(s.error.unwrap().is_truncated());
            }
        }
    }

    #[test]
    fn bit_flips_never_panic_and_are_reported() {
        let data = sample();
        for i in 0..data.len() {
            for bit in 0..8 {
                let mut d = data.clone();
                d[i] ^= 1 << bit;
                let items: Vec<_> = Commands::new(&d).collect();
                if let Some(Err(e)) = items.last() {
                    assert!(e.offset <= d.len());
                }
                let _ = scan(&d, 0);
            }
        }
    }

    #[test]
    fn corruption_in_the_middle_names_its_offset() {
        let data = b"*1\r\n$4\r\nPING\r\nX1\r\n";
        let err = all(data).unwrap_err();
        assert_eq!(
            err,
            AofError::new(
                14,
                AofErrorKind::Unexpected {
                    expected: "'*'",
                    found: b'X'
                }
            )
        );
        let err = all(b"*1\r\n$4\r\nPINGxx").unwrap_err();
        assert_eq!(err.offset, 12);
        assert!(!err.is_truncated());
        assert_eq!(all(b"*0\r\n").unwrap_err().kind, AofErrorKind::BadLength);
        assert_eq!(all(b"*\r\n").unwrap_err().offset, 1);
    }

    #[test]
    fn huge_declared_sizes_allocate_nothing() {
        let err = all(b"*1000000000000\r\n$1\r\na\r\n").unwrap_err();
        assert!(err.is_truncated());
        let err = all(b"*1\r\n$99999999999999\r\nab").unwrap_err();
        assert!(err.is_truncated());
        let err = all(b"*1\r\n$999999999999999999999999999\r\n").unwrap_err();
        assert_eq!(err.kind, AofErrorKind::BadLength);
    }

    #[test]
    fn rdb_preamble_is_detected() {
        assert!(has_rdb_preamble(b"REDIS0010\xfa"));
        assert!(!has_rdb_preamble(b"*1\r\n"));
        let mut data = b"REDIS0010".to_vec();
        let start = data.len();
        crate::resp::encode_command(&["PING"], &mut data);
        let items: Vec<_> = Commands::at(&data, start)
            .collect::<Result<_, _>>()
            .unwrap();
        assert_eq!(items[0].start(), start);
    }
}
