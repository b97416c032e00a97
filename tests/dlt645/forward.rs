//! Q/GDW 1376.1 upstream frames: frames quoted in public 376.1 implementations decode to what
//! they say, every emitted frame parses back, and a DL/T 645 read travels to a meter inside an
//! AFN 10H F1 transparent forward and its answer comes back the same way.

use prepaid_meter::endpoint::dlt645::{Client, MeterData, PlaintextPolicy, ServerConfig};
use prepaid_meter::time::Timestamp;
use prepaid_meter::wire::dlt645::Di;
use prepaid_meter::wire::gdw1376::{
    Address, Control, Direction, Error, ForwardAnswer, ForwardRequest, FrameRepr, PROTOCOL_1376_1,
    Seq, SerialControl, TimeLabel, Timeout, UnitId, afn,
};
use proptest::prelude::*;

use crate::fake_meter::{FakeMeter, Served};

fn hex(s: &str) -> Vec<u8> {
    s.split_whitespace()
        .map(|b| u8::from_str_radix(b, 16).unwrap())
        .collect()
}

/// Frames quoted in public 376.1 codecs (comments and test strings of Java, JavaScript,
/// Erlang and C++ sources), with what they carry: (frame, C, region, terminal, AFN, SEQ, Fn).
const PUBLIC: &[(&str, u8, u16, u16, u8, u8, u16)] = &[
    // A terminal's login (AFN 02H F1) and the master's confirmation (AFN 00H F1).
    (
        "68 32 00 32 00 68 C9 00 02 34 12 00 02 71 00 00 01 00 85 16",
        0xC9,
        200,
        0x1234,
        0x02,
        0x71,
        1,
    ),
    (
        "68 32 00 32 00 68 0B 00 02 34 12 00 00 61 00 00 01 00 B5 16",
        0x0B,
        200,
        0x1234,
        0x00,
        0x61,
        1,
    ),
    // Heartbeats (AFN 02H F3) from other terminals.
    (
        "68 32 00 32 00 68 C9 00 02 34 12 00 02 71 00 00 04 00 88 16",
        0xC9,
        200,
        0x1234,
        0x02,
        0x71,
        3,
    ),
    (
        "68 32 00 32 00 68 C9 03 41 A9 F9 00 02 7F 00 00 04 00 34 16",
        0xC9,
        4103,
        0xF9A9,
        0x02,
        0x7F,
        3,
    ),
    (
        "68 32 00 32 00 68 C9 03 44 04 00 00 02 72 00 00 04 00 8C 16",
        0xC9,
        4403,
        0x0004,
        0x02,
        0x72,
        3,
    ),
    (
        "68 32 00 32 00 68 C9 21 05 AA AA 00 02 79 00 00 01 00 BF 16",
        0xC9,
        521,
        0xAAAA,
        0x02,
        0x79,
        1,
    ),
    // A confirmation by data unit (AFN 00H F3) of a heartbeat: AFN 02, P0 F3, result 0.
    (
        "68 4A 00 4A 00 68 0B 20 21 07 00 00 00 61 00 00 04 00 02 00 00 04 00 00 BE 16",
        0x0B,
        2120,
        0x0007,
        0x00,
        0x61,
        3,
    ),
];

#[test]
fn public_frames_decode_to_what_they_carry_and_emit_back() {
    for &(text, c, region, terminal, afn_code, seq, fn_) in PUBLIC {
        let bytes = hex(text);
        let f = FrameRepr::parse(&bytes).unwrap_or_else(|e| panic!("{text}: {e}"));
        assert_eq!(f.protocol, PROTOCOL_1376_1, "{text}");
        assert_eq!(f.control, Control::from_byte(c), "{text}");
        assert_eq!(
            (f.address.region, f.address.terminal),
            (region, terminal),
            "{text}"
        );
        assert_eq!((f.afn, f.seq.to_byte()), (afn_code, seq), "{text}");
        assert_eq!((f.pw, f.ec, f.tp), (None, None, None), "{text}");
        let (unit, _) = UnitId::parse(f.units).unwrap();
        assert_eq!(
            (unit.single_point(), unit.single_fn()),
            (Some(0), Some(fn_)),
            "{text}"
        );
        let mut out = [0u8; 64];
        let n = f.emit(&mut out).unwrap();
        assert_eq!(&out[..n], &bytes[..], "{text}");
    }
}

/// The region code and terminal as the login's address field carries them.
#[test]
fn the_address_of_a_login_reads_as_its_digits() {
    let bytes = hex(PUBLIC[0].0);
    let f = FrameRepr::parse(&bytes).unwrap();
    assert_eq!(f.address.to_string(), "0200-1234");
    assert_eq!((f.address.master, f.address.group), (0, false));
    assert_eq!(f.control.direction, Direction::Uplink);
}

const METER: &str = "201000000012";

fn master_address() -> Address {
    Address {
        region: 4403,
        terminal: 0x0004,
        master: 1,
        group: false,
    }
}

/// The head-end reads a meter's balance through a concentrator: the DL/T 645 read rides in an
/// AFN 10H F1 frame (with its PW field), the concentrator hands the content to the meter and
/// wraps the answer in the uplink F1 data unit; the head-end gets the meter's own answer.
#[test]
fn a_dlt645_read_travels_through_a_transparent_forward_and_back() {
    let mut meter = Served::new(
        FakeMeter::new(METER),
        ServerConfig {
            plaintext: PlaintextPolicy::ALL,
            ..ServerConfig::default()
        },
    )
    .unwrap();
    let now = Timestamp::from_unix(1_709_265_600);
    let client = Client::new(METER.parse().unwrap());
    let mut read = [0u8; 64];
    let n = client.read(Di(0x0090_0200), &mut read).unwrap();

    // Head-end: the forward request, as a downlink frame.
    let request = ForwardRequest {
        port: 2,
        control: SerialControl::DLT645_2400,
        frame_timeout: Timeout::Seconds(10),
        byte_timeout_10ms: 10,
        content: &read[..n],
    };
    let mut units = [0u8; 128];
    let u = request.emit(&mut units).unwrap();
    let down = FrameRepr {
        protocol: PROTOCOL_1376_1,
        control: Control {
            direction: Direction::Downlink,
            prm: true,
            d5: false,
            fcv: false,
            function: 10,
        },
        address: master_address(),
        afn: afn::FORWARD,
        seq: Seq {
            tpv: true,
            first: true,
            last: true,
            confirm: false,
            number: 3,
        },
        units: &units[..u],
        pw: Some([0xA5; 16]),
        ec: None,
        tp: Some(TimeLabel {
            pfc: 9,
            sent: [30, 0, 12, 1],
            delay_minutes: 5,
        }),
    };
    let mut wire = [0u8; 256];
    let w = down.emit(&mut wire).unwrap();

    // Concentrator: parse, forward the content, wrap the meter's answer.
    let got = FrameRepr::parse(&wire[..w]).unwrap();
    assert_eq!(got, down);
    let (fwd, rest) = ForwardRequest::parse(got.units).unwrap();
    assert!(rest.is_empty());
    assert_eq!(fwd.control.baud, 2400);
    let mut meter_out = [0u8; 300];
    let m = meter
        .handle(fwd.content, now, &mut meter_out)
        .expect("the meter answers");
    let answer = ForwardAnswer {
        port: fwd.port,
        content: &meter_out[..m],
    };
    let mut up_units = [0u8; 128];
    let a = answer.emit(&mut up_units).unwrap();
    let up = FrameRepr {
        control: Control {
            direction: Direction::Uplink,
            prm: false,
            d5: false,
            fcv: false,
            function: 8,
        },
        seq: Seq {
            tpv: false,
            ..got.seq
        },
        units: &up_units[..a],
        pw: None,
        tp: None,
        ..got
    };
    let mut up_wire = [0u8; 256];
    let uw = up.emit(&mut up_wire).unwrap();

    // Head-end: the meter's own answer, byte for byte, decodes to its balance.
    let back = FrameRepr::parse(&up_wire[..uw]).unwrap();
    let (answer, _) = ForwardAnswer::parse(back.units).unwrap();
    let response = client.parse_answer(answer.content).unwrap();
    let balance = Client::money(&response, Di(0x0090_0200)).unwrap();
    assert_eq!(Some(balance), meter.meter().balance());
}

/// The raw fields of a frame: C, A, AFN, SEQ, data units, PW, EC, Tp.
type RawFrame = (u8, [u8; 5], u8, u8, Vec<u8>, [u8; 16], [u8; 2], [u8; 6]);

fn arb_frame() -> impl Strategy<Value = RawFrame> {
    (
        any::<u8>(),
        any::<[u8; 5]>(),
        any::<u8>(),
        any::<u8>(),
        proptest::collection::vec(any::<u8>(), 0..64),
        any::<[u8; 16]>(),
        any::<[u8; 2]>(),
        any::<[u8; 6]>(),
    )
}

proptest! {
    /// Any frame this module can emit parses back to itself; any bytes parse or are refused
    /// without a panic.
    #[test]
    fn emitted_frames_parse_back((c, a, afn_code, seq, units, pw, ec, tp) in arb_frame()) {
        let control = Control::from_byte(c);
        let seq = Seq::from_byte(seq);
        let address = Address {
            region: u16::from_le_bytes([a[0], a[1]]) % 10_000,
            terminal: u16::from_le_bytes([a[2], a[3]]),
            master: a[4] >> 1,
            group: a[4] & 1 != 0,
        };
        let tp = TimeLabel {
            pfc: tp[0],
            sent: [tp[1] % 60, tp[2] % 60, tp[3] % 24, tp[4] % 32],
            delay_minutes: tp[5],
        };
        let frame = FrameRepr {
            protocol: PROTOCOL_1376_1,
            control,
            address,
            afn: afn_code,
            seq,
            units: &units,
            pw: (control.direction == Direction::Downlink && afn::carries_pw(afn_code)).then_some(pw),
            ec: control.has_event_counters().then_some(ec),
            tp: seq.tpv.then_some(tp),
        };
        let mut out = [0u8; 128];
        let n = frame.emit(&mut out).unwrap();
        prop_assert_eq!(n, frame.buffer_len());
        prop_assert_eq!(FrameRepr::parse(&out[..n]), Ok(frame));
        // Every truncation is refused.
        for cut in 0..n {
            prop_assert!(FrameRepr::parse(&out[..cut]).is_err());
        }
    }

    #[test]
    fn arbitrary_bytes_never_panic(bytes in proptest::collection::vec(any::<u8>(), 0..80)) {
        if let Ok(f) = FrameRepr::parse(&bytes) {
            let mut out = [0u8; 128];
            // What parses emits back to the same bytes (up to the frame's end).
            let n = f.emit(&mut out).unwrap();
            prop_assert_eq!(&out[..n], &bytes[..n]);
        }
        let _ = ForwardRequest::parse(&bytes);
        let _ = ForwardAnswer::parse(&bytes);
        let _ = UnitId::parse(&bytes);
    }
}

#[test]
fn a_forward_for_another_unit_is_refused() {
    let mut units = UnitId::new(1, 1).unwrap().to_bytes().to_vec();
    units.extend_from_slice(&[2, 0x6B, 0x8A, 10, 0, 0]);
    assert_eq!(ForwardRequest::parse(&units), Err(Error::Value));
}
