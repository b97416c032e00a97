//! Property test: random operation sequences on a money account agree with a small reference
//! model (tests/account_support/model.rs): balance, counts, debts, outcomes (every refusal
//! predicted, and leaving the account byte-for-byte unchanged), conservation of money, alarm
//! flags and relay invariants.

use crate::account_support;

use account_support::model::{Model, Op, Params, step};
use prepaid_meter::account::MoneyAccount;
use prepaid_meter::time::Timestamp;
use prepaid_meter::units::Money;
use proptest::prelude::*;

fn params() -> impl Strategy<Value = Params> {
    (
        (
            any::<i64>(),
            any::<i64>(),
            any::<i64>(),
            any::<i64>(),
            any::<i64>(),
        ),
        (
            any::<i64>(),
            any::<i64>(),
            any::<i64>(),
            any::<u8>(),
            any::<i64>(),
        ),
        (any::<bool>(), any::<bool>(), any::<u32>()),
    )
        .prop_map(
            |((a1, a2, od, h, rc), (ea, et, st, pct, cap), (lt, d, fh))| {
                Params {
                    alarm1: a1,
                    alarm2: a2,
                    overdraft: od,
                    hoarding: h,
                    reconnect: rc,
                    ec_amount: ea,
                    ec_threshold: et,
                    standing: st,
                    debt_percent: pct,
                    debt_cap: cap,
                    low_credit_trip: lt,
                    direct: d,
                    // Mostly no friendly hours, sometimes some.
                    friendly_hours: if fh % 3 == 0 { fh } else { 0 },
                }
                .sanitize()
            },
        )
}

fn op() -> impl Strategy<Value = Op> {
    let amount = prop_oneof![
        4 => 0i64..2_000_000,
        1 => -1_000i64..=0,
        1 => 0i64..2_000_000_000,
    ];
    prop_oneof![
        4 => Just(Op::Tick),
        6 => (0i64..400_000).prop_map(Op::Debit),
        1 => (-10i64..0).prop_map(Op::Debit),
        2 => (prop::bool::weighted(0.1), prop_oneof![6 => Just(1u32), 1 => 0u32..3], amount.clone())
            .prop_map(|(o, c, a)| Op::Open { other: o, count: c, amount: a }),
        5 => (prop::bool::weighted(0.05), prop_oneof![8 => Just(1i8), 1 => Just(0i8), 1 => -2i8..4], amount)
            .prop_map(|(o, d, a)| Op::Recharge { other: o, count_delta: d, amount: a }),
        2 => Just(Op::Emergency),
        1 => (-100i64..5_000_000).prop_map(Op::SetDebt),
        4 => (any::<u8>(), any::<u16>()).prop_map(|(c, d)| Op::Command(c, d)),
        2 => Just(Op::Button),
    ]
}

fn wait() -> impl Strategy<Value = i64> {
    prop_oneof![
        6 => 0i64..2,
        4 => 0i64..4_000,
        2 => 0i64..200_000,
        1 => 0i64..20_000_000,
    ]
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 400, ..ProptestConfig::default() })]

    #[test]
    fn account_agrees_with_model(
        p in params(),
        opening in -100_000i64..1_000_000,
        start in 1_600_000_000i64..1_900_000_000,
        ops in prop::collection::vec((wait(), op()), 1..120),
    ) {
        let mut account = MoneyAccount::new(p.config(), Money::from_minor(opening)).unwrap();
        let mut model = Model::new(p, opening);
        let mut now = start;
        for (w, op) in ops {
            now += w;
            step(&mut model, &mut account, Timestamp::from_unix(now), op);
        }
    }
}
