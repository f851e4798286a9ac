//! Encoding: the timestamp annotation `aof-timestamp-enabled` writes before commands. The
//! commands themselves are RESP requests: [`crate::resp::encode_command`].

use crate::number::format_i64;

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

    fn command<A: AsRef<[u8]>>(args: &[A]) -> Vec<u8> {
        let mut out = Vec::new();
        crate::resp::encode_command(args, &mut out);
        out
    }

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
