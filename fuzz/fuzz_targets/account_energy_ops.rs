//! Random operation sequences on an energy-credit account, with the clock moving both ways and
//! price changes among them. Checked after every step:
//!
//! - nothing panics; a refused operation leaves the account unchanged;
//! - the totals add up to the balance, and the state restores (`Account::restore`) to the
//!   same account, through its stored form `AE`;
//! - a price change converts from the price the account holds (never another), leaves it
//!   holding the new price, and never raises the balance above both the hoarding limit and
//!   the balance before it.
#![no_main]

use arbitrary::Arbitrary;
use libfuzzer_sys::fuzz_target;
use prepaid_meter::account::{AccountState, Config, EnergyAccount, Limits};
use prepaid_meter::purchase::{CustomerNumber, Purchase};
use prepaid_meter::snapshot::Snapshot;
use prepaid_meter::time::Timestamp;
use prepaid_meter::units::{Energy, Price};

#[derive(Arbitrary, Debug)]
enum Op {
    Tick,
    Debit(u32),
    Open { count: u8, wh: u32 },
    Recharge { count: u8, wh: u32 },
    ChangePrice(u32),
    Button,
}

#[derive(Arbitrary, Debug)]
struct Input {
    hoarding_kwh: u16,
    opening_wh: i32,
    ops: Vec<(i16, Op)>,
}

fuzz_target!(|input: Input| {
    let hoarding = Energy::from_kwh(i64::from(input.hoarding_kwh).max(31));
    let config = Config::local(Limits {
        alarm1: Energy::from_kwh(20),
        alarm2: Energy::from_kwh(10),
        overdraft: Energy::from_kwh(5),
        hoarding,
        reconnect: Energy::from_kwh(1),
    });
    let opening = Energy::from_wh(i64::from(input.opening_wh)).min(hoarding);
    let Ok(mut a) = EnergyAccount::new(config, opening) else {
        panic!("a valid configuration is refused");
    };
    let customer = CustomerNumber::new([1, 2, 3, 4, 5, 6]);
    let mut now = 1_735_689_600i64;
    for (step, op) in input.ops.into_iter().take(128) {
        // Steps of up to about 4.5 days either way.
        now += i64::from(step) * 12;
        let t = Timestamp::from_unix(now);
        let before = a.clone();
        let refused = match op {
            Op::Tick => {
                let _ = a.tick(t);
                false
            }
            Op::Debit(wh) => a.debit(t, Energy::from_wh(i64::from(wh))).is_err(),
            Op::Open { count, wh } => a
                .open(
                    t,
                    Purchase {
                        customer,
                        count: u32::from(count % 4),
                        amount: Energy::from_wh(i64::from(wh)),
                    },
                )
                .is_err(),
            Op::Recharge { count, wh } => a
                .recharge(
                    t,
                    Purchase {
                        customer,
                        count: u32::from(count),
                        amount: Energy::from_wh(i64::from(wh)),
                    },
                )
                .is_err(),
            Op::ChangePrice(p) => {
                let new = Price::from_minor_per_kwh(p);
                match a.change_price(t, new) {
                    Ok(c) => {
                        assert_eq!(c.record.old, before.price().unwrap_or(new));
                        assert_eq!(c.record.new, new);
                        assert_eq!(a.price(), Some(new));
                        assert!(c.record.balance_after <= hoarding.max(before.balance()));
                        false
                    }
                    Err(_) => true,
                }
            }
            Op::Button => {
                let _ = a.press_button(t);
                false
            }
        };
        if refused {
            assert_eq!(a, before, "a refused operation changed the account");
        }
        assert_eq!(a.totals().expected_balance(), Some(a.balance()));
        let state = a.state();
        let mut buf = [0u8; 256];
        let n = state.emit(&mut buf).unwrap();
        let parsed = AccountState::<Energy>::parse(&buf[..n]).unwrap();
        let back = EnergyAccount::restore(a.config().clone(), parsed).unwrap();
        assert_eq!(back, a);
    }
});
