//! Q/GDW 1376.1 frames and their data units from arbitrary bytes never panic; whatever parses
//! emits back to the same bytes (under `cfg(fuzzing)` the checksum is not checked, so the
//! emitted frame's checksum is the computed one and everything else must match).
#![no_main]

use libfuzzer_sys::fuzz_target;
use prepaid_meter::wire::gdw1376::{Current, ForwardAnswer, ForwardRequest, FrameRepr, UnitId};

fuzz_target!(|data: &[u8]| {
    if let Ok(frame) = FrameRepr::parse(data) {
        let mut out = vec![0u8; frame.buffer_len()];
        let n = frame.emit(&mut out).expect("a parsed frame emits");
        assert_eq!(n, frame.buffer_len());
        assert_eq!(FrameRepr::parse(&out[..n]), Ok(frame));
        // Every byte but the checksum is as it was.
        assert_eq!(out[..n - 2], data[..n - 2]);
        assert_eq!(out[n - 1], data[n - 1]);
        for units in [frame.units, data] {
            if let Ok((req, _)) = ForwardRequest::parse(units) {
                let mut buf = vec![0u8; req.buffer_len()];
                let m = req.emit(&mut buf).expect("a parsed request emits");
                assert_eq!(ForwardRequest::parse(&buf[..m]).map(|r| r.0), Ok(req));
            }
        }
    }
    if let Ok((answer, _)) = ForwardAnswer::parse(data) {
        let mut buf = vec![0u8; answer.buffer_len()];
        let m = answer.emit(&mut buf).expect("a parsed answer emits");
        assert_eq!(&buf[..m], &data[..m]);
    }
    // An AFN 0CH answer unit emits back to its own bytes (all-EE fields stay absent).
    if let Ok((point, item, rest)) = Current::parse(data) {
        let used = data.len() - rest.len();
        assert_eq!(item.buffer_len(), used);
        let mut buf = vec![0u8; used];
        let m = item.emit(point, &mut buf).expect("a parsed unit emits");
        assert_eq!(m, used);
        assert_eq!(Current::parse(&buf), Ok((point, item, &[][..])));
    }
    if let Ok((unit, _)) = UnitId::parse(data) {
        assert_eq!(unit.to_bytes()[..], data[..4]);
        let _ = (unit.points().count(), unit.fns().count());
    }
});
