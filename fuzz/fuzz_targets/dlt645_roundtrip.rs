//! parse(emit(x)) = x for typed requests and responses built from arbitrary fields.
#![no_main]

use arbitrary::Arbitrary;
use libfuzzer_sys::fuzz_target;
use prepaid_meter::address::Address;
use prepaid_meter::relay::RelayCode;
use prepaid_meter::time::{Date, DateTime, Time};
use prepaid_meter::wire::dlt645::{
    BaudRate, Control, Data, Di, Di97, ErrorCode, Frame, FrameRepr, FreezeTime, Function,
    OperatorCode, Password, ReadForm, RelayOrder, Request, Response, skip_preamble,
};

#[derive(Arbitrary, Debug)]
struct Input {
    kind: u8,
    address: u64,
    di: u32,
    password: [u8; 4],
    operator: [u8; 4],
    bytes: Vec<u8>,
    time: (u8, u8, u8, u8, u8, u8),
    byte: u8,
    word: u16,
    preamble: u8,
}

fuzz_target!(|i: Input| {
    let Ok(address) = Address::from_number(i.address % 1_000_000_000_000) else {
        return;
    };
    let bytes = &i.bytes[..i.bytes.len().min(200)];
    let (y, mo, d, h, mi, s) = i.time;
    let Ok(date) = Date::new(2000 + u16::from(y % 100), mo, d) else {
        return;
    };
    let Ok(time) = Time::new(h, mi, s) else {
        return;
    };
    let dt = DateTime::new(date, time);
    let dt_min = DateTime::new(date, Time::new(h, mi, 0).unwrap());
    let data = Data::plain(bytes);
    let mut password = Password::from_wire(i.password);
    let operator = OperatorCode(i.operator);
    let di = Di(i.di);
    let preamble = usize::from(i.preamble % 5);
    let mut buf = [0u8; 300];
    if i.kind & 0x80 == 0 {
        if password.level == Password::LEVEL_SEALED {
            password.level = 0;
        }
        let req = match i.kind % 12 {
            0 => Request::Read {
                di,
                form: ReadForm::LoadRecord {
                    count: i.byte,
                    from: dt_min,
                },
            },
            1 => Request::Read {
                di,
                form: ReadForm::Count(i.byte),
            },
            2 => Request::ReadFollowUp { di, seq: i.byte },
            3 => Request::Write {
                di,
                password,
                operator,
                value: data,
            },
            4 => Request::BroadcastTime { time: dt },
            5 => Request::Freeze {
                time: FreezeTime {
                    minute: mi % 60,
                    hour: h % 24,
                    day: 99,
                    month: 99,
                },
            },
            6 => Request::ChangeBaud {
                rate: BaudRate(i.byte),
            },
            7 => Request::EventClear {
                password,
                operator,
                di,
            },
            8 => Request::RelayControl {
                password,
                operator,
                order: RelayOrder::Plain {
                    command: RelayCode::from_code(i.byte),
                    n2: 0,
                    valid_until: dt,
                },
            },
            9 => Request::RelayControl {
                password: Password {
                    level: Password::LEVEL_SEALED,
                    ..password
                },
                operator,
                order: RelayOrder::Sealed(data),
            },
            10 => Request::Security {
                di,
                operator,
                payload: data,
            },
            _ => Request::Read1997 { di: Di97(i.word) },
        };
        let n = req.emit(address, &mut buf, preamble).unwrap();
        let repr =
            FrameRepr::parse(&Frame::new_checked(skip_preamble(&buf[..n])).unwrap()).unwrap();
        assert_eq!(Request::parse(&repr), Ok(req));
    } else {
        let resp = match i.kind % 6 {
            0 => Response::Read {
                di,
                data,
                more: i.byte & 1 == 1,
            },
            1 => Response::ReadFollowUp {
                di,
                data,
                seq: i.byte,
                more: false,
            },
            2 => Response::Error {
                function: Function::from_code(i.byte),
                code: ErrorCode(i.password[0]),
            },
            3 => Response::Security { di, data },
            4 => Response::Other {
                control: Control::response(Function::from_code(0x1D), false),
                data,
            },
            _ => Response::ReadAddress { address },
        };
        let n = resp.emit(address, &mut buf, preamble).unwrap();
        let repr =
            FrameRepr::parse(&Frame::new_checked(skip_preamble(&buf[..n])).unwrap()).unwrap();
        assert_eq!(Response::parse(&repr), Ok(resp));
    }
});
