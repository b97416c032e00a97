//! Scenario files: any text is read into a checked scenario or refused with a line and a key,
//! never a panic; a short scenario that is accepted also runs to its end.
#![no_main]

use libfuzzer_sys::fuzz_target;
use prepaid_meter::sim::{Scenario, Simulation};

fuzz_target!(|data: &[u8]| {
    let Ok(text) = core::str::from_utf8(data) else {
        return;
    };
    match Scenario::parse(text) {
        Ok(s) => {
            // A day of at most two meters runs in milliseconds; longer ones only parse.
            if s.days == 1 && s.meters.len() <= 2 {
                let mut sim = Simulation::new(&s).expect("a checked scenario builds");
                sim.run().expect("a checked scenario runs");
                assert!(sim.is_done());
            }
        }
        Err(e) => {
            assert!(!e.message.is_empty());
        }
    }
});
