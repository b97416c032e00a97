//! Frame parsing of arbitrary bytes never panics; whatever parses emits back to a frame that
//! parses to the same thing.
#![no_main]

use libfuzzer_sys::fuzz_target;
use prepaid_meter::wire::dlt645::{Direction, Frame, FrameRepr, Request, Response, skip_preamble};

fuzz_target!(|data: &[u8]| {
    let Ok(frame) = Frame::new_checked(skip_preamble(data)) else {
        return;
    };
    let _ = frame.check_framing();
    let Ok(repr) = FrameRepr::parse(&frame) else {
        return;
    };
    let mut out = [0u8; 300];
    let n = repr.emit(&mut out, 2).expect("a parsed frame emits");
    let again = FrameRepr::parse(&Frame::new_checked(skip_preamble(&out[..n])).unwrap()).unwrap();
    assert_eq!(again, repr);
    match repr.control.direction {
        Direction::Request => {
            if let Ok(req) = Request::parse(&repr) {
                let n = req
                    .emit(repr.address, &mut out, 0)
                    .expect("a parsed request emits");
                let r = FrameRepr::parse(&Frame::new_checked(&out[..n]).unwrap()).unwrap();
                assert_eq!(Request::parse(&r), Ok(req));
            }
        }
        Direction::Response => {
            if let Ok(resp) = Response::parse(&repr) {
                let n = resp
                    .emit(repr.address, &mut out, 0)
                    .expect("a parsed response emits");
                let r = FrameRepr::parse(&Frame::new_checked(&out[..n]).unwrap()).unwrap();
                assert_eq!(Response::parse(&r), Ok(resp));
            }
        }
    }
});
