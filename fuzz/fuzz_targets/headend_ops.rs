//! The head-end on arbitrary sequences of payments, campaigns, answers (arbitrary bytes, or
//! the bytes of a frame it sent, altered), failed forwards and readings never panics, and:
//!
//! - a payment is confirmed at most once, and only with a purchase count;
//! - confirmed payments of a meter have distinct purchase counts;
//! - a refused reading (a register that went back) changes no reconciliation.
#![no_main]

use arbitrary::Arbitrary;
use libfuzzer_sys::fuzz_target;
use prepaid_meter::account::{Config, Limits};
use prepaid_meter::address::Address;
use prepaid_meter::headend::{
    Alerts, HeadEnd, HeadEndConfig, Ledger, MemoryLedger, MeterRecord, Notification, Reading,
};
use prepaid_meter::purchase::CustomerNumber;
use prepaid_meter::security::{MasterKey, SecurityConfig};
use prepaid_meter::tariff::{
    Calendar, DayTable, MonthDay, Season, SwitchPoint, Tariff, TariffSet, Tiers, WeekRule,
};
use prepaid_meter::time::{Timestamp, UtcOffset};
use prepaid_meter::units::{Energy, Money, Price};

#[derive(Arbitrary, Debug)]
enum Op {
    Wait(u16),
    Pay {
        meter: bool,
        amount: i32,
    },
    Campaign {
        after: u16,
        price: u16,
    },
    Outgoing,
    /// An answer to `tag`: the frame sent with it (altered at `flip`), or these bytes.
    Answer {
        tag: u8,
        flip: Option<(u8, u8)>,
        bytes: Vec<u8>,
    },
    Failed {
        tag: u8,
    },
    Read {
        meter: bool,
        wh: [u16; 4],
        balance: i32,
        overdrawn: u16,
        count: u8,
    },
}

fn tariff() -> Tariff {
    let day = DayTable::new(&[SwitchPoint::new(0, 0, 1), SwitchPoint::new(8, 0, 2)]).unwrap();
    let season = Season {
        start: MonthDay::new(1, 1),
        week: WeekRule::uniform(1),
    };
    let prices = [
        Price::from_minor_per_kwh(3_000),
        Price::from_minor_per_kwh(6_000),
    ];
    let set = TariffSet::new(
        Calendar::new(&[season], &[day]).unwrap(),
        &prices,
        Tiers::none(),
    )
    .unwrap();
    Tariff::new(UtcOffset::CHINA, &[], set).unwrap()
}

fuzz_target!(|ops: Vec<Op>| {
    let yuan = |y| Money::from_units(y).unwrap();
    let master = MasterKey::new(&[7; 16], SecurityConfig::DEFAULT.tag_len());
    let addresses = [
        Address::from_number(1).unwrap(),
        Address::from_number(2).unwrap(),
    ];
    let mut head = HeadEnd::new(
        HeadEndConfig::default(),
        MemoryLedger::new(),
        Vec::<Notification>::new(),
    )
    .unwrap();
    let limits = Limits {
        alarm1: yuan(20),
        alarm2: yuan(10),
        overdraft: yuan(5),
        hoarding: yuan(5_000),
        reconnect: yuan(0),
    };
    for a in addresses {
        head.add_meter(MeterRecord {
            address: a,
            customer: CustomerNumber::new([0, 0, 0, 0, 0, 1]),
            sealer: master.meter(a, 1),
            tariff: tariff(),
            account: Config::local(limits),
            alerts: Alerts {
                alarm1: yuan(20),
                alarm2: yuan(10),
                overdraft: yuan(5),
            },
        })
        .unwrap();
    }
    let mut now = Timestamp::from_unix(1_764_518_400);
    let mut sent: Vec<(u32, Vec<u8>)> = Vec::new();
    for op in ops.into_iter().take(256) {
        match op {
            Op::Wait(s) => now = now.checked_add_secs(i64::from(s)).unwrap(),
            Op::Pay { meter, amount } => {
                let _ = head.pay(
                    addresses[usize::from(meter)],
                    Money::from_minor(i64::from(amount)),
                    now,
                );
            }
            Op::Campaign { after, price } => {
                let at = now.checked_add_secs(i64::from(after)).unwrap();
                let _ = head.campaign(
                    at,
                    &[Price::from_minor_per_kwh(u32::from(price))],
                    &addresses,
                );
            }
            Op::Outgoing => {
                if let Ok(out) = head.outgoing(now) {
                    sent.extend(out.into_iter().map(|o| (o.tag, o.frame)));
                }
            }
            Op::Answer { tag, flip, bytes } => {
                let frame = match sent.get(usize::from(tag)) {
                    Some((t, f)) => {
                        let mut f = f.clone();
                        if let Some((i, bit)) = flip {
                            let n = f.len();
                            if n > 0 {
                                f[usize::from(i) % n] ^= 1 << (bit % 8);
                            }
                        }
                        (*t, f)
                    }
                    None => (u32::from(tag), bytes),
                };
                let _ = head.answer(frame.0, &frame.1, now);
            }
            Op::Failed { tag } => head.forward_failed(u32::from(tag)),
            Op::Read {
                meter,
                wh,
                balance,
                overdrawn,
                count,
            } => {
                let i = usize::from(meter);
                let by_tariff = wh.map(|w| Energy::from_wh(i64::from(w)));
                let before = head.reconciliation(addresses[i]);
                let reading = Reading {
                    at: now,
                    energy: Energy::from_wh(wh.iter().map(|&w| i64::from(w)).sum()),
                    energy_by_tariff: by_tariff,
                    balance: Money::from_minor(i64::from(balance)),
                    overdrawn: Money::from_minor(i64::from(overdrawn)),
                    purchase_count: u32::from(count),
                };
                match head.reading(addresses[i], reading) {
                    Ok(_) => {}
                    Err(_) => assert_eq!(head.reconciliation(addresses[i]), before),
                }
            }
        }
        let payments = head.ledger().payments().unwrap();
        for a in addresses {
            let mut counts: Vec<u32> = payments
                .iter()
                .filter(|p| p.meter == a && p.state.is_confirmed())
                .map(|p| p.count.expect("a confirmed payment has its count"))
                .collect();
            let n = counts.len();
            counts.sort_unstable();
            counts.dedup();
            assert_eq!(
                counts.len(),
                n,
                "two confirmed payments share a purchase count"
            );
        }
    }
});
