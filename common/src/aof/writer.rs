//! Encoding: commands as the AOF stores them (`catAppendOnlyGenericCommand`) and the
//! timestamp annotation `aof-timestamp-enabled` writes before them.

use crate::number::format_i64;

fn push_header(out: &mut Vec<u8>, prefix: u8, n: usize) {
    let mut buf = [0u8; 20];
    out.push(prefix);
    // A slice length always fits i64 on the platforms we build for.
    out.extend_from_slice(format_i64(i64::try_from(n).unwrap_or(i64::MAX), &mut buf));
    out.extend_from_slice(b"\r\n");
}

/// Appends one command, `*N\r\n` then `$len\r\narg\r\n` for each argument.
pub fn push_command<A: AsRef<[u8]>>(out: &mut Vec<u8>, args: &[A]) {
    let payload: usize = args.iter().map(|a| a.as_ref().len() + 16).sum();
    out.reserve(payload + 16);
    push_header(out, b'*', args.len());
    for arg in args {
        let arg = arg.as_ref();
        push_header(out, b'$', arg.len());
        out.extend_from_slice(arg);
        out.extend_from_slice(b"\r\n");
    }
}

/// One command as a new buffer.
pub fn command<A: AsRef<[u8]>>(args: &[A]) -> Vec<u8> {
    let mut out = Vec::new();
    push_command(&mut out, args);
    out
}

/// Appends the annotation `#TS:<unix seconds>\r\n`.
pub fn push_timestamp(out: &mut Vec<u8>, unix_secs: i64) {
    let mut buf = [0u8; 20];
    out.extend_from_slice(b"#TS:");
    out.extend_from_slice(format_i64(unix_secs, &mut buf));
    out.extend_from_slice(b"\r\n");
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn command_is_a_resp_multibulk() {
        assert_eq!(
            command(&["SET", "k", ""]),
            b"*3\r\n$3\r\nSET\r\n$1\r\nk\r\n$0\r\n\r\n".to_vec()
        );
        let binary: [&[u8]; 2] = [b"a\r\nb", b"\x00"];
        assert_eq!(
            command(&binary),
            b"*2\r\n$4\r\na\r\nb\r\n$1\r\n\x00\r\n".to_vec()
        );
    }

    #[test]
    fn timestamp_annotation() {
        let mut out = Vec::new();
        push_timestamp(&mut out, 1_700_000_000);
        assert_eq!(out, b"#TS:1700000000\r\n".to_vec());
    }
}
