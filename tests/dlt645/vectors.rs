//! Every frame of `tests/vectors/dlt645-frames.tsv` (a verbatim copy of the shared vectors), decoded to the meaning given there;
//! negative rows rejected (E16, bad checksum) or refused (E15, unknown identifier).

use prepaid_meter::address::Address;
use prepaid_meter::relay::RelayCode;
use prepaid_meter::wire::dlt645::registry::{self, Value};
use prepaid_meter::wire::dlt645::{
    Di, Di97, Direction, Error, ErrorCode, Frame, FrameRepr, Function, OperatorCode, Password,
    ReadForm, RelayOrder, Request, Response, StreamDecoder, skip_preamble,
};

const VECTORS: &str = include_str!("../vectors/dlt645-frames.tsv");

struct Row {
    id: String,
    kind: String,
    bytes: Vec<u8>,
}

fn hex(s: &str) -> Vec<u8> {
    (0..s.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(&s[i..i + 2], 16).unwrap())
        .collect()
}

fn rows() -> Vec<Row> {
    VECTORS
        .lines()
        .filter(|l| !l.starts_with('#') && !l.trim().is_empty())
        .map(|l| {
            let cols: Vec<&str> = l.split('\t').collect();
            Row {
                id: cols[0].to_string(),
                kind: cols[1].to_string(),
                bytes: hex(cols[2]),
            }
        })
        .collect()
}

fn repr(bytes: &[u8]) -> Result<FrameRepr<'_>, Error> {
    FrameRepr::parse(&Frame::new_checked(skip_preamble(bytes))?)
}

fn addr(s: &str) -> Address {
    s.parse().unwrap()
}

fn number(value: Value<'_>) -> String {
    match value {
        Value::Number(d) => d.to_string(),
        other => panic!("not a number: {other:?}"),
    }
}

/// Decodes a read answer's data with the registry format of its identifier.
fn read_value(di: Di, data: &[u8]) -> Vec<String> {
    let entry = registry::lookup(di).expect("known identifier");
    let mut out = Vec::new();
    entry
        .format
        .decode_block(data, |v| out.push(number(v)))
        .unwrap();
    out
}

fn plain(data: prepaid_meter::wire::dlt645::Data<'_>) -> Vec<u8> {
    data.iter().collect()
}

fn check(row: &Row) {
    let r = repr(&row.bytes);
    match row.id.as_str() {
        "E1" | "E3" | "E7a" | "E12a" | "E14a" | "E17a" | "E22" => {
            let r = r.unwrap();
            let (address, di) = match row.id.as_str() {
                "E1" => ("000000000161", 0x0001_0000),
                "E3" => ("000000000161", 0x0002_0000),
                "E7a" => ("000000000161", 0x0201_0100),
                "E12a" => ("201000000012", 0x0001_FF00),
                "E14a" => ("201000000012", 0x0090_0200),
                "E17a" => ("201000000012", 0x0301_0000),
                _ => ("000012345678", 0x0001_0000),
            };
            assert_eq!(r.address, addr(address));
            assert_eq!(r.control.direction, Direction::Request);
            assert_eq!(
                Request::parse(&r).unwrap(),
                Request::Read {
                    di: Di(di),
                    form: ReadForm::Single
                }
            );
            if row.id == "E12a" {
                assert!(registry::lookup(Di(di)).unwrap().is_block(Di(di)));
            }
        }
        "E2" | "E4" | "E7b" | "E14b" | "E12b" => {
            let r = r.unwrap();
            let Response::Read { di, data, more } = Response::parse(&r).unwrap() else {
                panic!("{}: not a read answer", row.id);
            };
            assert!(!more);
            let values = read_value(di, &plain(data));
            let (want_di, want): (u32, &[&str]) = match row.id.as_str() {
                "E2" => (0x0001_0000, &["0.26"]),
                "E4" => (0x0002_0000, &["1.26"]),
                "E7b" => (0x0201_0100, &["100.1"]),
                "E14b" => (0x0090_0200, &["198.56"]),
                _ => (0x0001_FF00, &["1.29", "0.62", "0.60", "0.03", "0.02"]),
            };
            assert_eq!(di, Di(want_di), "{}", row.id);
            assert_eq!(values, want, "{}", row.id);
            let unit = registry::lookup(di).unwrap().unit.symbol();
            let want_unit = match row.id.as_str() {
                "E7b" => "V",
                "E14b" => "yuan",
                _ => "kWh",
            };
            assert_eq!(unit, want_unit);
            if row.id == "E14b" {
                assert_eq!(plain(data), [0x56, 0x98, 0x01, 0x00]);
            }
        }
        "E8" => {
            let r = r.unwrap();
            assert_eq!(r.address, Address::WILDCARD);
            assert_eq!(r.control.function, Function::ReadAddress);
            assert_eq!(Request::parse(&r).unwrap(), Request::ReadAddress);
        }
        "E9" => {
            let r = r.unwrap();
            assert_eq!(r.control.to_byte(), 0x93);
            assert_eq!(plain(r.data), [0x12, 0x00, 0x00, 0x00, 0x10, 0x20]);
            assert_eq!(
                Response::parse(&r).unwrap(),
                Response::ReadAddress {
                    address: addr("201000000012")
                }
            );
        }
        "E15" => {
            // Checksum valid, DI offset twice: parses, but no meter knows the identifier.
            let r = r.unwrap();
            let Request::Read { di, .. } = Request::parse(&r).unwrap() else {
                panic!("E15: not a read");
            };
            assert_eq!(di.to_wire(), [0x33, 0x32, 0x34, 0x33]);
            assert!(registry::lookup(di).is_none(), "E15 must be refused");
        }
        "E16" => {
            assert_eq!(r, Err(Error::Checksum));
            let body = skip_preamble(&row.bytes);
            let f = Frame::new_checked(body).unwrap();
            assert_eq!((f.checksum(), f.compute_checksum()), (0x5D, 0x6D));
        }
        "E17b" => {
            let r = r.unwrap();
            assert_eq!(r.control.to_byte(), 0xD1);
            assert_eq!(
                Response::parse(&r).unwrap(),
                Response::Error {
                    function: Function::Read,
                    code: ErrorCode::NO_DATA
                }
            );
        }
        "E24" => {
            let r = r.unwrap();
            assert_eq!(r.address, addr("111111111111"));
            let Request::RelayControl {
                password,
                operator,
                order:
                    RelayOrder::Plain {
                        command,
                        n2,
                        valid_until,
                    },
            } = Request::parse(&r).unwrap()
            else {
                panic!("E24: not a plain relay control");
            };
            assert_eq!(password, Password::from_wire([0, 0, 0, 0]));
            assert_eq!(operator, OperatorCode([0; 4]));
            assert_eq!(command, RelayCode::Trip);
            assert_eq!(n2, 0);
            assert_eq!(valid_until.to_string(), "2018-05-12 15:41:24");
        }
        "E25" => {
            let r = r.unwrap();
            assert!(r.address.is_broadcast());
            let Request::BroadcastTime { time } = Request::parse(&r).unwrap() else {
                panic!("E25: not a broadcast time");
            };
            assert_eq!(time.to_string(), "2017-06-05 10:22:51");
            assert_eq!(plain(r.data), [0x51, 0x22, 0x10, 0x05, 0x06, 0x17]);
        }
        "E27" => {
            let r = r.unwrap();
            assert_eq!(r.address, addr("000000000003"));
            assert_eq!(r.control.function, Function::Read1997);
            assert_eq!(
                Request::parse(&r).unwrap(),
                Request::Read1997 { di: Di97(0xB611) }
            );
            assert_eq!(
                registry::lookup_1997(Di97(0xB611)).unwrap().di2007,
                Di(0x0201_0100)
            );
        }
        other => panic!("row {other} has no expectation in this test: add one"),
    }
}

#[test]
fn every_row_decodes_to_its_meaning() {
    let rows = rows();
    let ids: Vec<&str> = rows.iter().map(|r| r.id.as_str()).collect();
    for id in [
        "E1", "E2", "E3", "E4", "E7a", "E7b", "E8", "E9", "E12a", "E12b", "E14a", "E14b", "E15",
        "E16", "E17a", "E17b", "E22", "E24", "E25", "E27",
    ] {
        assert!(ids.contains(&id), "vector {id} missing from the file");
    }
    for row in &rows {
        check(row);
        assert!(matches!(
            row.kind.as_str(),
            "request" | "response" | "negative"
        ));
        if row.kind == "negative" {
            continue;
        }
        // Positive rows: emitting the parsed representation gives the same bytes back, with
        // the same preamble, and the typed payload emits the same frame too.
        let preamble = row.bytes.len() - skip_preamble(&row.bytes).len();
        let r = repr(&row.bytes).unwrap();
        let mut out = [0u8; 300];
        let n = r.emit(&mut out, preamble).unwrap();
        assert_eq!(&out[..n], &row.bytes[..], "{}", row.id);
        let n = match r.control.direction {
            Direction::Request => Request::parse(&r)
                .unwrap()
                .emit(r.address, &mut out, preamble),
            Direction::Response => Response::parse(&r)
                .unwrap()
                .emit(r.address, &mut out, preamble),
        }
        .unwrap();
        assert_eq!(&out[..n], &row.bytes[..], "{} typed", row.id);
    }
}

#[test]
fn kinds_match_directions() {
    for row in rows() {
        let Ok(r) = repr(&row.bytes) else { continue };
        match row.kind.as_str() {
            "request" => assert_eq!(r.control.direction, Direction::Request, "{}", row.id),
            "response" => assert_eq!(r.control.direction, Direction::Response, "{}", row.id),
            _ => {}
        }
    }
}

#[test]
fn stream_of_all_rows_yields_every_valid_frame() {
    let rows = rows();
    let mut stream = Vec::new();
    let mut want = Vec::new();
    for row in &rows {
        stream.extend_from_slice(&row.bytes);
        if row.id != "E16" {
            let body = skip_preamble(&row.bytes);
            want.push(body.to_vec());
        }
    }
    for chunk in [1, 2, 3, 7, 16, 64, stream.len()] {
        let mut d = StreamDecoder::new();
        let mut got = Vec::new();
        for c in stream.chunks(chunk) {
            let mut input = c;
            while let Some(f) = d.decode(&mut input) {
                got.push(f.as_bytes().to_vec());
            }
        }
        assert_eq!(got, want, "chunk size {chunk}");
        assert!(d.bad_frames() >= 1, "E16 rejected");
    }
}
