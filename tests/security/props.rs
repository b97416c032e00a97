//! Property tests for sealing and opening: random payloads round-trip; the wrong key, meter,
//! key version or tag length never opens; random bytes never open and never panic.

use prepaid_meter::address::Address;
use prepaid_meter::purchase::{CustomerNumber, Purchase};
use prepaid_meter::security::LockoutPolicy;
use prepaid_meter::security::kdf::{CounterLocation, Kbkdf};
use prepaid_meter::security::{
    Command, CommandCounter, MasterKey, MeterSecurity, OpenError, SecurityConfig, SoftwareModule,
    TagLength,
};
use prepaid_meter::time::{Timestamp, UtcOffset};
use prepaid_meter::units::Money;
use proptest::prelude::*;

const NOW: i64 = 1_720_000_000;

fn cfg(tag: u8) -> SecurityConfig {
    SecurityConfig::new(
        TagLength::new(tag).unwrap(),
        300,
        // No lock-out in the way of many attempts.
        LockoutPolicy::new(u16::MAX, u32::MAX, UtcOffset::UTC).unwrap(),
    )
    .unwrap()
}

fn address() -> impl Strategy<Value = Address> {
    (0u64..=999_999_999_999).prop_map(|n| Address::from_number(n).unwrap())
}

fn meter(master: &[u8; 16], a: Address, v: u16, tag: u8) -> MeterSecurity<SoftwareModule> {
    let keys = MasterKey::new(master, TagLength::new(tag).unwrap()).meter_keys(a, v);
    MeterSecurity::new(a, SoftwareModule::new(v, &keys), cfg(tag)).unwrap()
}

fn seal(master: &[u8; 16], a: Address, v: u16, tag: u8, last: u32, cmd: &Command<'_>) -> Vec<u8> {
    let he = MasterKey::new(master, TagLength::new(tag).unwrap());
    let mut counter = CommandCounter {
        key_version: v,
        last,
    };
    let mut out = vec![0u8; 26 + cmd.buffer_len() + 16];
    let s = he
        .meter(a, v)
        .seal(&mut counter, cmd, Timestamp::from_unix(NOW + 60), &mut out)
        .unwrap();
    out.truncate(s.len);
    out
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(200))]

    /// Any parameter blob and any recharge seal and open back to the same command.
    #[test]
    fn seal_open_round_trip(
        master in any::<[u8; 16]>(),
        a in address(),
        v in any::<u16>(),
        tag in 8u8..=16,
        last in 0u32..u32::MAX,
        id in any::<u32>(),
        data in prop::collection::vec(any::<u8>(), 0..300),
        amount in 1i64..=i64::MAX,
        count in any::<u32>(),
        customer in any::<[u8; 6]>(),
    ) {
        let cmds = [
            Command::WriteParameter { id, data: &data },
            Command::Recharge(Purchase {
                amount: Money::from_minor(amount),
                count,
                customer: CustomerNumber::new(customer),
            }),
        ];
        for cmd in cmds {
            let mut m = meter(&master, a, v, tag);
            let mut frame = seal(&master, a, v, tag, last, &cmd);
            prop_assert_eq!(frame.len(), 26 + cmd.buffer_len() + usize::from(tag));
            let pending = m.open(&mut frame, Timestamp::from_unix(NOW)).unwrap();
            prop_assert_eq!(pending.command(), &cmd);
            prop_assert_eq!(pending.counter_state().last_counter, last + 1);
        }
    }

    /// A frame sealed under another master key, for another meter or key version, or with
    /// another tag length, never opens.
    #[test]
    fn wrong_key_meter_version_or_tag_is_refused(
        master in any::<[u8; 16]>(),
        other_master in any::<[u8; 16]>(),
        a in address(),
        b in address(),
        v in 0u16..u16::MAX,
        tag in 8u8..=16,
        data in prop::collection::vec(any::<u8>(), 0..64),
    ) {
        let cmd = Command::WriteParameter { id: 1, data: &data };
        let now = Timestamp::from_unix(NOW);
        if other_master != master {
            let mut m = meter(&master, a, v, tag);
            let mut f = seal(&other_master, a, v, tag, 0, &cmd);
            prop_assert_eq!(m.open(&mut f, now).map(|_| ()), Err(OpenError::BadTag));
        }
        if a != b {
            let mut m = meter(&master, a, v, tag);
            let mut f = seal(&master, b, v, tag, 0, &cmd);
            prop_assert_eq!(m.open(&mut f, now).map(|_| ()), Err(OpenError::WrongMeter));
        }
        let mut m = meter(&master, a, v, tag);
        let mut f = seal(&master, a, v + 1, tag, 0, &cmd);
        prop_assert_eq!(m.open(&mut f, now).map(|_| ()), Err(OpenError::WrongKeyVersion));
        let other_tag = if tag == 16 { 8 } else { tag + 1 };
        let mut f = seal(&master, a, v, other_tag, 0, &cmd);
        prop_assert!(m.open(&mut f, now).is_err());
        // Nothing above was accepted.
        prop_assert_eq!(m.state().last_counter, 0);
    }

    /// Random bytes, or a random header prefix on random bytes, never open and never panic.
    #[test]
    fn random_bytes_never_open(
        junk in prop::collection::vec(any::<u8>(), 0..120),
        prefix_len in 0usize..26,
    ) {
        let master = [7u8; 16];
        let a = Address::from_number(42).unwrap();
        let mut m = meter(&master, a, 1, 8);
        let mut f = junk.clone();
        prop_assert!(m.open(&mut f, Timestamp::from_unix(NOW)).is_err());
        // A genuine header prefix followed by junk.
        let real = seal(&master, a, 1, 8, 0, &Command::MeterClear);
        let mut g = real[..prefix_len].to_vec();
        g.extend_from_slice(&junk);
        if g != real {
            prop_assert!(m.open(&mut g, Timestamp::from_unix(NOW)).is_err());
        }
        let mut resp = [0u8; 64];
        prop_assert!(m
            .authenticate(&junk, Timestamp::from_unix(NOW), &mut NeverRng, &mut resp)
            .is_err());
        prop_assert_eq!(m.state().last_counter, 0);
    }

    /// Without [L] in the fixed input, a KDF output is a prefix of any longer output, for
    /// every counter width and location.
    #[test]
    fn kdf_prefix_property(
        key in any::<[u8; 16]>(),
        fixed in prop::collection::vec(any::<u8>(), 0..80),
        short in 1usize..40,
        extra in 0usize..40,
        r in prop::sample::select(vec![8u8, 16, 24, 32]),
        after in any::<bool>(),
    ) {
        let loc = if after { CounterLocation::After } else { CounterLocation::Before };
        let k = Kbkdf::new(&key);
        let mut a = vec![0u8; short];
        let mut b = vec![0u8; short + extra];
        k.derive(&fixed, loc, r, &mut a).unwrap();
        k.derive(&fixed, loc, r, &mut b).unwrap();
        prop_assert_eq!(&b[..short], &a[..]);
    }
}

/// Authentication of junk never reaches the generator; this one proves it by failing.
struct NeverRng;

#[derive(Debug)]
struct Unused;
impl core::fmt::Display for Unused {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.write_str("unused")
    }
}
impl core::error::Error for Unused {}

impl rand_core::TryRng for NeverRng {
    type Error = Unused;
    fn try_next_u32(&mut self) -> Result<u32, Unused> {
        Err(Unused)
    }
    fn try_next_u64(&mut self) -> Result<u64, Unused> {
        Err(Unused)
    }
    fn try_fill_bytes(&mut self, _: &mut [u8]) -> Result<(), Unused> {
        Err(Unused)
    }
}
impl rand_core::TryCryptoRng for NeverRng {}
