//! Opening arbitrary bytes as a store-and-forward (counter-mode) command never panics, and
//! never accepts anything but a frame the head-end sealed. Also feeds the bytes to the
//! head-end's response opener and inspector.
#![no_main]

use libfuzzer_sys::fuzz_target;
use prepaid_meter::address::Address;
use prepaid_meter::security::LockoutPolicy;
use prepaid_meter::security::{
    Command, CommandCounter, MasterKey, MeterSecurity, SecurityConfig, SoftwareModule, TagLength,
};
use prepaid_meter::time::{Timestamp, UtcOffset};

const MASTER: [u8; 16] = [0x3C; 16];

fuzz_target!(|data: &[u8]| {
    let address = Address::from_number(201_000_000_012).expect("valid address");
    let head_end = MasterKey::new(&MASTER, TagLength::DEFAULT);
    let config = SecurityConfig::new(
        TagLength::DEFAULT,
        300,
        LockoutPolicy::new(u16::MAX, u32::MAX, UtcOffset::UTC).expect("valid policy"),
    )
    .expect("valid config");
    let keys = head_end.meter_keys(address, 1);
    let mut meter =
        MeterSecurity::new(address, SoftwareModule::new(1, &keys), config).expect("meter");
    let now = Timestamp::from_unix(1_720_000_000);

    // A genuine frame to mutate: the first input byte chooses raw bytes or a XOR mask over it.
    let mut counter = CommandCounter::new(1);
    let mut genuine = [0u8; 26 + 18 + 8];
    let sent = head_end
        .meter(address, 1)
        .seal(
            &mut counter,
            &Command::MeterClear,
            Timestamp::from_unix(1_720_003_600),
            &mut genuine,
        )
        .expect("seal");
    let genuine = &genuine[..sent.len];

    let mut frame: Vec<u8> = match data.split_first() {
        Some((mode, rest)) if mode & 1 == 1 => {
            let mut f = genuine.to_vec();
            for (b, m) in f.iter_mut().zip(rest) {
                *b ^= m;
            }
            if rest.len() < f.len() && mode & 2 == 2 {
                f.truncate(rest.len());
            }
            f
        }
        Some((_, rest)) => rest.to_vec(),
        None => Vec::new(),
    };
    let original = frame.clone();
    let accepted = meter.open(&mut frame, now).map(|p| *p.command()).ok();
    if let Some(cmd) = accepted {
        assert_eq!(
            original, genuine,
            "accepted a frame the head-end did not seal"
        );
        assert_eq!(cmd, Command::MeterClear);
    }

    let he_meter = head_end.meter(address, 1);
    let mut f = original.clone();
    let _ = he_meter.open_response(&mut f, &sent);
    let mut f = original;
    let _ = he_meter.inspect(&mut f);
});
