//! Property tests of the DL/T 645 codec: parse(emit(x)) = x at every level, and the stream
//! decoder finds the same frames whatever the chunking.

use prepaid_meter::address::Address;
use prepaid_meter::relay::RelayCode;
use prepaid_meter::time::{Date, DateTime, Time};
use prepaid_meter::wire::dlt645::{
    BaudRate, Control, Data, Di, Di97, ErrorCode, Frame, FrameRepr, FreezeTime, Function,
    OperatorCode, Password, ReadForm, RelayOrder, RelayStatusWord, Request, Response,
    SecurityErrorWord, StreamDecoder, skip_preamble,
};
use proptest::prelude::*;

fn address() -> impl Strategy<Value = Address> {
    prop_oneof![
        (0u64..=999_999_999_999).prop_map(|n| Address::from_number(n).unwrap()),
        Just(Address::WILDCARD),
        Just(Address::BROADCAST),
    ]
}

fn date_time(with_seconds: bool) -> impl Strategy<Value = DateTime> {
    (
        2000u16..=2099,
        1u8..=12,
        1u8..=28,
        0u8..24,
        0u8..60,
        0u8..60,
    )
        .prop_map(move |(y, mo, d, h, mi, s)| {
            DateTime::new(
                Date::new(y, mo, d).unwrap(),
                Time::new(h, mi, if with_seconds { s } else { 0 }).unwrap(),
            )
        })
}

fn freeze_field(lo: u8, hi: u8) -> impl Strategy<Value = u8> {
    prop_oneof![lo..=hi, Just(99u8)]
}

/// Everything a request or response may hold, owned, so typed values can borrow from it.
#[derive(Debug, Clone)]
struct Spec {
    kind: u8,
    di: u32,
    password: [u8; 4],
    operator: [u8; 4],
    bytes: Vec<u8>,
    address: Address,
    time: DateTime,
    time_min: DateTime,
    freeze: FreezeTime,
    byte: u8,
    word: u16,
}

fn spec(max_bytes: usize) -> impl Strategy<Value = Spec> {
    (
        (
            any::<u8>(),
            any::<u32>(),
            any::<[u8; 4]>(),
            any::<[u8; 4]>(),
        ),
        proptest::collection::vec(any::<u8>(), 0..=max_bytes),
        address(),
        date_time(true),
        date_time(false),
        (
            freeze_field(0, 59),
            freeze_field(0, 23),
            freeze_field(1, 31),
            freeze_field(1, 12),
        ),
        any::<u8>(),
        any::<u16>(),
    )
        .prop_map(
            |((kind, di, password, operator), bytes, address, time, time_min, f, byte, word)| {
                Spec {
                    kind,
                    di,
                    password,
                    operator,
                    bytes,
                    address,
                    time,
                    time_min,
                    freeze: FreezeTime {
                        minute: f.0,
                        hour: f.1,
                        day: f.2,
                        month: f.3,
                    },
                    byte,
                    word,
                }
            },
        )
}

/// Function codes that parse to `Other` (no typed payload).
const OTHER_CODES: [u8; 12] = [
    0x00, 0x02, 0x04, 0x05, 0x06, 0x07, 0x09, 0x0A, 0x0C, 0x0F, 0x10, 0x1D,
];

fn request(s: &Spec) -> Request<'_> {
    let di = Di(s.di);
    let mut password = Password::from_wire(s.password);
    let operator = OperatorCode(s.operator);
    let data = Data::plain(&s.bytes);
    match s.kind % 16 {
        0 => Request::Read {
            di,
            form: match s.byte % 3 {
                0 => ReadForm::Single,
                1 => ReadForm::Count(s.byte),
                _ => ReadForm::LoadRecord {
                    count: s.byte,
                    from: s.time_min,
                },
            },
        },
        1 => Request::ReadFollowUp { di, seq: s.byte },
        2 => Request::ReadAddress,
        3 => Request::Write {
            di,
            password,
            operator,
            value: data,
        },
        4 => Request::WriteAddress { address: s.address },
        5 => Request::BroadcastTime { time: s.time },
        6 => Request::Freeze { time: s.freeze },
        7 => Request::ChangeBaud {
            rate: BaudRate(s.byte),
        },
        8 => Request::ChangePassword {
            di,
            old: password,
            new: Password::from_wire(s.operator),
        },
        9 => Request::ClearMaxDemand { password, operator },
        10 => {
            if !s.bytes.is_empty() {
                password.level = Password::LEVEL_SEALED;
            }
            Request::MeterClear {
                password,
                operator,
                sealed: data,
            }
        }
        11 => Request::EventClear {
            password,
            operator,
            di,
        },
        12 => Request::RelayControl {
            password: Password {
                level: if password.level == Password::LEVEL_SEALED {
                    0
                } else {
                    password.level
                },
                ..password
            },
            operator,
            order: RelayOrder::Plain {
                command: RelayCode::from_code(s.byte),
                n2: s.password[1],
                valid_until: s.time,
            },
        },
        13 => Request::RelayControl {
            password: Password {
                level: Password::LEVEL_SEALED,
                ..password
            },
            operator,
            order: RelayOrder::Sealed(data),
        },
        14 => Request::Security {
            di,
            operator,
            payload: data,
        },
        _ => {
            if s.byte.is_multiple_of(2) {
                Request::Read1997 { di: Di97(s.word) }
            } else {
                Request::Other {
                    function: Function::from_code(
                        OTHER_CODES[usize::from(s.byte / 2) % OTHER_CODES.len()],
                    ),
                    data,
                }
            }
        }
    }
}

fn response(s: &Spec) -> Response<'_> {
    let di = Di(s.di);
    let data = Data::plain(&s.bytes);
    let more = s.byte & 1 == 1;
    match s.kind % 12 {
        0 => Response::Read { di, data, more },
        1 => Response::ReadFollowUp {
            di,
            data,
            seq: s.byte,
            more,
        },
        2 => Response::ReadAddress { address: s.address },
        3 => Response::Ack {
            function: [
                Function::Write,
                Function::WriteAddress,
                Function::Freeze,
                Function::ClearMaxDemand,
                Function::MeterClear,
                Function::EventClear,
                Function::RelayControl,
            ][usize::from(s.byte) % 7],
        },
        4 => Response::ChangeBaud {
            rate: BaudRate(s.byte),
        },
        5 => Response::ChangePassword {
            new: Password::from_wire(s.password),
        },
        6 => Response::Security { di, data },
        7 => Response::Error {
            function: Function::from_code(s.byte),
            code: ErrorCode(s.password[0]),
        },
        8 => Response::SecurityError {
            word: SecurityErrorWord(s.word),
        },
        9 => Response::RelayError {
            word: RelayStatusWord(s.word),
        },
        10 => Response::Read1997 {
            di: Di97(s.word),
            data,
            more,
        },
        _ => Response::Other {
            control: Control::response(
                Function::from_code(OTHER_CODES[usize::from(s.byte) % OTHER_CODES.len()]),
                false,
            ),
            data,
        },
    }
}

fn parse(bytes: &[u8]) -> FrameRepr<'_> {
    FrameRepr::parse(&Frame::new_checked(skip_preamble(bytes)).unwrap()).unwrap()
}

proptest! {
    #[test]
    fn frame_repr_round_trips(
        address in address(),
        control in any::<u8>(),
        data in proptest::collection::vec(any::<u8>(), 0..=255),
        preamble in 0usize..=4,
    ) {
        let repr = FrameRepr { address, control: Control::from_byte(control), data: Data::plain(&data) };
        let mut buf = [0u8; 300];
        let n = repr.emit(&mut buf, preamble).unwrap();
        prop_assert_eq!(n, preamble + repr.buffer_len());
        prop_assert_eq!(parse(&buf[..n]), repr);
        // One byte short of room is an error, never a panic.
        prop_assert!(repr.emit(&mut buf[..n - 1], preamble).is_err());
    }

    #[test]
    fn requests_round_trip(s in spec(200), preamble in 0usize..=4) {
        let req = request(&s);
        let mut buf = [0u8; 300];
        let n = req.emit(s.address, &mut buf, preamble).unwrap();
        prop_assert_eq!(n, req.buffer_len(preamble));
        let repr = parse(&buf[..n]);
        prop_assert_eq!(repr.address, s.address);
        prop_assert_eq!(Request::parse(&repr).unwrap(), req);
        prop_assert!(Response::parse(&repr).is_err());
    }

    #[test]
    fn responses_round_trip(s in spec(200), preamble in 0usize..=4) {
        let resp = response(&s);
        let mut buf = [0u8; 300];
        let n = resp.emit(s.address, &mut buf, preamble).unwrap();
        prop_assert_eq!(n, resp.buffer_len(preamble));
        let repr = parse(&buf[..n]);
        prop_assert_eq!(Response::parse(&repr).unwrap(), resp);
        prop_assert!(Request::parse(&repr).is_err());
    }

    #[test]
    fn parsing_arbitrary_bytes_never_panics(bytes in proptest::collection::vec(any::<u8>(), 0..300)) {
        if let Ok(frame) = Frame::new_checked(skip_preamble(&bytes))
            && let Ok(repr) = FrameRepr::parse(&frame)
        {
            let _ = Request::parse(&repr);
            let _ = Response::parse(&repr);
        }
    }

    /// Frames separated by garbage without 68H are all found, whatever the chunking.
    #[test]
    fn stream_finds_every_frame(
        frames in proptest::collection::vec(
            (address(), any::<u8>(), proptest::collection::vec(any::<u8>(), 0..40), 0usize..=4,
             proptest::collection::vec(any::<u8>().prop_filter("no start byte", |b| *b != 0x68), 0..8)),
            1..8),
        chunk in 1usize..50,
    ) {
        let mut stream = Vec::new();
        let mut want = Vec::new();
        for (address, control, data, preamble, garbage) in &frames {
            stream.extend_from_slice(garbage);
            let repr = FrameRepr { address: *address, control: Control::from_byte(*control), data: Data::plain(data) };
            let mut buf = [0u8; 300];
            let n = repr.emit(&mut buf, *preamble).unwrap();
            stream.extend_from_slice(&buf[..n]);
            want.push(buf[*preamble..n].to_vec());
        }
        let mut d = StreamDecoder::new();
        let mut got = Vec::new();
        for c in stream.chunks(chunk) {
            let mut input = c;
            while let Some(f) = d.decode(&mut input) {
                got.push(f.as_bytes().to_vec());
            }
            prop_assert!(input.is_empty());
        }
        prop_assert_eq!(got, want);
        prop_assert_eq!(d.bad_frames(), 0);
    }

    /// Any byte stream, any two chunkings: the same frames.
    #[test]
    fn stream_is_chunking_invariant(
        stream in proptest::collection::vec(prop_oneof![any::<u8>(), Just(0x68u8), Just(0x16u8)], 0..600),
        cuts_a in proptest::collection::vec(1usize..40, 1..60),
        cuts_b in proptest::collection::vec(1usize..40, 1..60),
    ) {
        let run = |cuts: &[usize]| {
            let mut d = StreamDecoder::<64>::new_sized();
            let mut got = Vec::new();
            let mut rest: &[u8] = &stream;
            let mut i = 0;
            while !rest.is_empty() {
                let n = cuts[i % cuts.len()].min(rest.len());
                let (mut input, tail) = rest.split_at(n);
                rest = tail;
                i += 1;
                while let Some(f) = d.decode(&mut input) {
                    got.push(f.as_bytes().to_vec());
                }
            }
            (got, d.buffered())
        };
        prop_assert_eq!(run(&cuts_a), run(&cuts_b));
    }
}
