//! Feeds arbitrary bytes, split at fuzzer-chosen points, to the request parser, and the same
//! bytes to the client-side frame parser and scanner. Run with
//! `cd common/fuzz && cargo +nightly fuzz run resp_parser`.
#![no_main]

use common::resp::{Frame, FrameScanner, Parsed, RequestLimits, RequestParser};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    // The first byte picks the limits and the read size; the rest is the stream.
    let Some((&control, input)) = data.split_first() else { return };
    let limits = RequestLimits {
        proto_max_bulk_len: if control & 1 == 0 { 512 << 20 } else { 64 },
        authenticated: control & 2 == 0,
    };
    let step = usize::from(control >> 2) + 1;

    let mut parser = RequestParser::new();
    let mut start = 0;
    let mut end = 0;
    'reads: while end < input.len() {
        end = (end + step).min(input.len());
        loop {
            let available = &input[start..end];
            let result = parser.parse(available, &limits);
            // Memory grows with the bytes received, never with a declared length.
            assert!(parser.heap_size() <= 64 * available.len() + 64 * 1024);
            match result {
                Ok(Parsed::Command { consumed }) => {
                    assert!(consumed <= available.len());
                    for arg in parser.args(available).iter() {
                        std::hint::black_box(arg);
                    }
                    start += consumed;
                }
                Ok(Parsed::Incomplete) => break,
                Err(_) => break 'reads,
            }
        }
    }

    let parsed = Frame::parse(input);
    let scanned = FrameScanner::new().scan(input);
    match (parsed, scanned) {
        (Ok(Some((frame, len))), Ok(Some(scan_len))) => {
            assert_eq!(len, scan_len);
            let mut again = Vec::new();
            frame.write(&mut again);
            std::hint::black_box(again);
        }
        (Ok(None), Ok(None)) | (Err(_), Err(_)) => {}
        (p, s) => panic!("parser {p:?} and scanner {s:?} disagree"),
    }
});
