//! DL/T 645 codec throughput: parse and emit of a read request (20 bytes with its 4-byte FE
//! preamble) and of a 20-byte read answer, the stream decoder in bytes per second, and the
//! meter-side server end to end.
//!
//! Run with `cargo bench --bench dlt645`.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use divan::counter::{BytesCount, ItemsCount};
use divan::{Bencher, black_box};
use prepaid_meter::address::Address;
use prepaid_meter::endpoint::dlt645::{Server, ServerConfig};
use prepaid_meter::time::Timestamp;
use prepaid_meter::wire::dlt645::{
    Data, Di, Frame, FrameRepr, ReadForm, Request, Response, StreamDecoder, skip_preamble,
};

#[path = "../tests/support/fake_meter.rs"]
mod fake_meter;
use fake_meter::FakeMeter;

fn main() {
    divan::main();
}

/// E1: read 00010000 from 000000000161, with 4 FE.
const READ_REQUEST: [u8; 20] = [
    0xFE, 0xFE, 0xFE, 0xFE, 0x68, 0x61, 0x01, 0x00, 0x00, 0x00, 0x00, 0x68, 0x11, 0x04, 0x33, 0x33,
    0x34, 0x33, 0x14, 0x16,
];
/// E14b: balance answer 000198.56, 20 bytes.
const READ_ANSWER: [u8; 20] = [
    0x68, 0x12, 0x00, 0x00, 0x00, 0x10, 0x20, 0x68, 0x91, 0x08, 0x33, 0x35, 0xC3, 0x33, 0x89, 0xCB,
    0x34, 0x33, 0xC4, 0x16,
];

const BATCH: usize = 1024;

/// Validate (length, start and end bytes, checksum, address) and parse a read request into a
/// typed `Request`, per frame.
#[divan::bench]
fn parse_read_request(bencher: Bencher) {
    let frames = [READ_REQUEST; BATCH];
    bencher.counter(ItemsCount::new(BATCH)).bench_local(|| {
        let mut acc = 0u32;
        for f in black_box(&frames) {
            let frame = Frame::new_checked(skip_preamble(f)).unwrap();
            let repr = FrameRepr::parse(&frame).unwrap();
            if let Ok(Request::Read { di, .. }) = Request::parse(&repr) {
                acc = acc.wrapping_add(di.0);
            }
        }
        acc
    });
}

/// Validate and parse a 20-byte read answer into a typed `Response`, per frame.
#[divan::bench]
fn parse_read_answer(bencher: Bencher) {
    let frames = [READ_ANSWER; BATCH];
    bencher.counter(ItemsCount::new(BATCH)).bench_local(|| {
        let mut acc = 0u32;
        for f in black_box(&frames) {
            let frame = Frame::new_checked(skip_preamble(f)).unwrap();
            let repr = FrameRepr::parse(&frame).unwrap();
            if let Ok(Response::Read { di, data, .. }) = Response::parse(&repr) {
                acc = acc
                    .wrapping_add(di.0)
                    .wrapping_add(u32::from(data.get(0).unwrap_or(0)));
            }
        }
        acc
    });
}

/// Emit a read request with its 4-byte preamble (offset and checksum applied), per frame.
#[divan::bench]
fn emit_read_request(bencher: Bencher) {
    let address = Address::from_number(161).unwrap();
    let mut out = [[0u8; 20]; BATCH];
    bencher.counter(ItemsCount::new(BATCH)).bench_local(|| {
        for (i, o) in out.iter_mut().enumerate() {
            let req = Request::Read {
                di: Di(0x0001_0000 + i as u32 % 4),
                form: ReadForm::Single,
            };
            black_box(req.emit(black_box(address), o, 4).unwrap());
        }
    });
}

/// Emit a 20-byte read answer, per frame.
#[divan::bench]
fn emit_read_answer(bencher: Bencher) {
    let address = Address::from_number(201_000_000_012).unwrap();
    let value = [0x56, 0x98, 0x01, 0x00];
    let mut out = [[0u8; 20]; BATCH];
    bencher.counter(ItemsCount::new(BATCH)).bench_local(|| {
        for o in out.iter_mut() {
            let resp = Response::Read {
                di: Di(0x0090_0200),
                data: Data::plain(black_box(&value)),
                more: false,
            };
            black_box(resp.emit(black_box(address), o, 0).unwrap());
        }
    });
}

/// The stream decoder over a stream of requests and answers with preambles and some garbage,
/// fed in 64-byte chunks, in bytes per second.
#[divan::bench]
fn stream_decode(bencher: Bencher) {
    let mut stream = Vec::new();
    for i in 0..512 {
        stream.extend_from_slice(&READ_REQUEST);
        stream.extend_from_slice(&READ_ANSWER);
        if i % 8 == 0 {
            stream.extend_from_slice(&[0x00, 0x68, 0x16, 0xFF]);
        }
    }
    let mut decoder = StreamDecoder::new();
    bencher
        .counter(BytesCount::new(stream.len()))
        .bench_local(|| {
            let mut frames = 0usize;
            for chunk in black_box(&stream).chunks(64) {
                let mut input = chunk;
                while decoder.decode(&mut input).is_some() {
                    frames += 1;
                }
            }
            assert_eq!(frames, 1024);
            frames
        });
}

/// The server answering a balance read (E14a), request bytes to answer bytes.
#[divan::bench]
fn server_read_balance(bencher: Bencher) {
    let request = [
        0x68, 0x12, 0x00, 0x00, 0x00, 0x10, 0x20, 0x68, 0x11, 0x04, 0x33, 0x35, 0xC3, 0x33, 0x85,
        0x16,
    ];
    let mut meter = FakeMeter::new("201000000012");
    let mut server = Server::new(ServerConfig::default()).unwrap();
    let mut out = [0u8; 64];
    let now = Timestamp::from_unix(1_700_000_000);
    bencher.counter(ItemsCount::new(1usize)).bench_local(|| {
        let n = server
            .handle(&mut meter, black_box(&request), now, &mut out)
            .unwrap();
        black_box(&out[..n]);
    });
}
