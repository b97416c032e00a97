//! Random operation sequences on a money account, checked step by step against the reference
//! model of `tests/account_support/model.rs`: outcomes, balance, counts, debts, conservation,
//! alarm flags, relay invariants, and refusals that leave the account unchanged.
#![no_main]

use arbitrary::Arbitrary;
use libfuzzer_sys::fuzz_target;
use prepaid_meter::account::MoneyAccount;
use prepaid_meter::time::Timestamp;
use prepaid_meter::units::Money;

#[allow(dead_code, clippy::all)]
#[path = "../../tests/account/support/model.rs"]
mod model;

use model::{Model, Op, Params};

#[derive(Arbitrary, Debug)]
enum FuzzOp {
    Tick,
    Debit(u32),
    Refund(i8),
    Open {
        other: bool,
        count: u8,
        amount: u32,
    },
    Recharge {
        other: bool,
        count_delta: i8,
        amount: u32,
    },
    Emergency,
    SetDebt(i32),
    Command(u8, u16),
    Button,
}

#[derive(Arbitrary, Debug)]
struct Input {
    limits: (i64, i64, i64, i64, i64),
    extras: (i64, i64, i64, u8, i64),
    flags: (bool, bool, u32),
    opening: i32,
    start: u32,
    ops: Vec<(u16, FuzzOp)>,
}

fuzz_target!(|input: Input| {
    let (l, e, f) = (input.limits, input.extras, input.flags);
    let params = Params {
        alarm1: l.0,
        alarm2: l.1,
        overdraft: l.2,
        hoarding: l.3,
        reconnect: l.4,
        ec_amount: e.0,
        ec_threshold: e.1,
        standing: e.2,
        debt_percent: e.3,
        debt_cap: e.4,
        low_credit_trip: f.0,
        direct: f.1,
        friendly_hours: f.2,
    }
    .sanitize();
    let opening = i64::from(input.opening);
    let Ok(mut account) = MoneyAccount::<16>::new(params.config(), Money::from_minor(opening))
    else {
        panic!("a sanitized configuration is valid");
    };
    let mut model = Model::new(params, opening);
    // From 2001 onwards; steps of up to about 4.5 days each way (i16 x 12 s): the clock
    // moves backwards as well as forwards.
    let mut now = 1_000_000_000 + i64::from(input.start);
    for (wait, op) in input.ops.into_iter().take(256) {
        now += i64::from(wait.cast_signed()) * 12;
        let op = match op {
            FuzzOp::Tick => Op::Tick,
            FuzzOp::Debit(x) => Op::Debit(i64::from(x)),
            FuzzOp::Refund(x) => Op::Debit(-i64::from(x).abs() - 1),
            FuzzOp::Open {
                other,
                count,
                amount,
            } => Op::Open {
                other,
                count: u32::from(count % 4),
                amount: i64::from(amount),
            },
            FuzzOp::Recharge {
                other,
                count_delta,
                amount,
            } => Op::Recharge {
                other,
                count_delta,
                amount: i64::from(amount),
            },
            FuzzOp::Emergency => Op::Emergency,
            FuzzOp::SetDebt(x) => Op::SetDebt(i64::from(x)),
            FuzzOp::Command(c, d) => Op::Command(c, d),
            FuzzOp::Button => Op::Button,
        };
        model::step(&mut model, &mut account, Timestamp::from_unix(now), op);
    }
});
