//! Scenarios run on the whole system (`sim`): closing figures against a script that computes
//! them without the crate (figures.py), event stepping against a tick every second, meter and
//! shadow account over a year, the built-in month's story, and the refusals of bad files.
#![cfg(feature = "sim")]
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
#![allow(clippy::indexing_slicing)] // test code: a failed expectation fails

use std::path::Path;

use prepaid_meter::account::Contacts;
use prepaid_meter::headend::NotificationKind;
use prepaid_meter::sim::{Scenario, Simulation, Stepping, What};

fn scenario(name: &str) -> Scenario {
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/sim/scenarios")
        .join(name);
    Scenario::parse(&std::fs::read_to_string(path).unwrap()).unwrap()
}

fn run(s: &Scenario, stepping: Stepping) -> Simulation {
    let mut sim = Simulation::with_stepping(s, stepping).unwrap();
    sim.run().unwrap();
    sim
}

/// Issue 13: three scenarios whose closing figures `tests/sim/figures.py` computed, second
/// by second with exact fractions, from the format's description alone.
#[test]
fn closing_figures_agree_with_the_independent_script() {
    for name in ["two-rate", "month-end-tiers", "cut-off"] {
        let s = scenario(&format!("{name}.toml"));
        let sim = run(&s, Stepping::Horizon);
        let got = serde_json::to_value(sim.outcome()).unwrap();
        let path = Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("tests/sim/scenarios")
            .join(format!("{name}.expected.json"));
        let expected: serde_json::Value =
            serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap();
        let (got, expected) = (
            got["meters"].as_array().unwrap(),
            expected["meters"].as_array().unwrap(),
        );
        assert_eq!(got.len(), expected.len(), "{name}");
        for (g, e) in got.iter().zip(expected) {
            for (key, value) in e.as_object().unwrap() {
                assert_eq!(&g[key], value, "{name}: meter {}, {key}", e["address"]);
            }
            assert_eq!(
                g["balance"], g["shadow_balance"],
                "{name}: shadow of {}",
                e["address"]
            );
        }
    }
}

/// The scenarios exercise what they are for: a month end with both tiers and a campaign, a
/// cut-off left off by a purchase too small and ended by the next.
#[test]
fn the_scenarios_cover_what_they_claim() {
    let s = scenario("cut-off.toml");
    let sim = run(&s, Stepping::Horizon);
    let a = s.meters[0].address;
    let relay: Vec<_> = sim
        .timeline()
        .iter()
        .filter(|h| h.meter == Some(a) && matches!(h.what, What::RelayOpened | What::RelayClosed))
        .map(|h| (h.at, h.what.clone()))
        .collect();
    assert_eq!(relay.len(), 2, "one cut-off, one reconnection: {relay:?}");
    assert_eq!(relay[0].1, What::RelayOpened);
    // The first purchase (2.00) is applied but leaves the balance below zero: still off.
    assert_eq!(
        relay[1].0, s.purchases[1].at,
        "reconnected by the second purchase"
    );

    let s = scenario("month-end-tiers.toml");
    let sim = run(&s, Stepping::Horizon);
    let confirmed = sim
        .timeline()
        .iter()
        .filter(|h| matches!(h.what, What::CampaignConfirmed(_)))
        .count();
    assert_eq!(confirmed, s.meters.len());
    let heavy = &sim.outcome().meters[0];
    assert!(
        heavy.energy.wh() > 180_500,
        "past the second threshold in January"
    );
}

/// Issue 13: stepping by the meter's horizon, and by pulses, leave every meter exactly as
/// a tick every second does: the closing state, the timeline, and the meter's whole state
/// (registers, account, demand, freezes, logs, hot state).
#[test]
fn horizon_and_pulse_stepping_equal_a_tick_every_second() {
    for name in ["cut-off.toml", "month-end-tiers.toml"] {
        let mut s = scenario(name);
        s.days = s.days.min(5);
        let reference = run(&s, Stepping::EverySecond);
        for stepping in [Stepping::Horizon, Stepping::Pulses] {
            let sim = run(&s, stepping);
            assert_eq!(sim.outcome(), reference.outcome(), "{name} {stepping:?}");
            assert_eq!(sim.timeline(), reference.timeline(), "{name} {stepping:?}");
            for m in &s.meters {
                let (a, b) = (
                    sim.meter(m.address).unwrap(),
                    reference.meter(m.address).unwrap(),
                );
                assert_eq!(a.registers(), b.registers(), "{name} {stepping:?}");
                assert_eq!(a.account(), b.account(), "{name} {stepping:?}");
                assert_eq!(a.demand(), b.demand(), "{name} {stepping:?}");
                assert_eq!(a.freezes(), b.freezes(), "{name} {stepping:?}");
                assert_eq!(a.logs(), b.logs(), "{name} {stepping:?}");
                // The one difference allowed: the instant the rater last rated (one batched
                // tick rates at its own last second), always within the same tier period.
                let (mut sa, sb) = (a.hot_state(), b.hot_state());
                let (la, lb) = (sa.rater.latest.unwrap(), sb.rater.latest.unwrap());
                assert!(
                    la >= lb && la.checked_secs_since(lb).unwrap() < 900,
                    "{name} {stepping:?}"
                );
                sa.rater.latest = sb.rater.latest;
                assert_eq!(sa, sb, "{name} {stepping:?}");
            }
        }
    }
}

const YEAR: &str = r#"
format = 1
start = "2027-01-01T00:00:00+08:00"
days = 365

[tariff]
prices = ["1.2000", "0.9000", "0.6000", "0.3000"]
day = [["00:00", 4], ["08:00", 2], ["11:00", 1], ["13:00", 3], ["17:00", 2], ["22:00", 4]]

[tariff.tiers]
thresholds = ["150", "300"]
surcharges = ["0.0500", "0.3000"]

[[meter]]
address = "202700000901"
constant = 100
opening_credit = "400.00"
alarm1 = "50.00"
alarm2 = "20.00"
overdraft = "10.00"
load = [300, 300, 300, 300, 300, 300, 600, 900, 600, 400, 400, 400,
        500, 400, 400, 400, 500, 900, 1200, 1200, 900, 700, 500, 300]

[[meter]]
address = "202700000902"
constant = 50
opening_credit = "100.00"
alarm1 = "30.00"
alarm2 = "10.00"
overdraft = "5.00"
load = 350

[[purchase]]
at = "2027-04-01T10:00:00+08:00"
meter = "202700000901"
amount = "1000.00"

[[purchase]]
at = "2027-06-20T08:20:00+08:00"
meter = "202700000902"
amount = "700.00"

[[purchase]]
at = "2027-09-10T18:00:00+08:00"
meter = "202700000901"
amount = "1500.00"

[[price_change]]
at = "2027-05-01T00:00:00+08:00"
prices = ["1.2500", "0.9300", "0.6200", "0.3100"]

[[price_change]]
at = "2027-10-15T12:00:00+08:00"
prices = ["1.3000", "1.0000", "0.7000", "0.3500"]
"#;

/// Issue 13: meter and shadow account agree exactly over a simulated year (tiers settled each
/// month, two campaigns, cut-offs and purchases), at every day's end.
#[test]
fn meter_and_shadow_agree_over_a_year() {
    let s = Scenario::parse(YEAR).unwrap();
    let mut sim = Simulation::new(&s).unwrap();
    let mut day = s.start;
    for _ in 0..s.days {
        day = day.checked_add_secs(86_400).unwrap();
        sim.run_until(day).unwrap();
        for m in &s.meters {
            let balance = sim.meter(m.address).unwrap().account().balance();
            let shadow = sim.head_end().shadow(m.address).unwrap().balance();
            assert_eq!(balance, shadow, "{} at {day:?}", m.address);
        }
    }
    assert!(sim.is_done());
    assert!(
        !sim.timeline()
            .iter()
            .any(|h| matches!(h.what, What::Discrepancy { .. })),
        "no reading disagreed"
    );
    let cut_offs = sim
        .timeline()
        .iter()
        .filter(|h| h.what == What::RelayOpened)
        .count();
    assert!(cut_offs >= 2, "the year includes cut-offs: {cut_offs}");
    for m in &sim.outcome().meters {
        assert_eq!(m.balance, m.shadow_balance);
        assert_eq!(m.purchased.checked_sub(m.spent), Some(m.balance));
    }
}

/// The README's demo: four meters, alarms as notifications, a meter cut off and reconnected
/// after a purchase, a campaign every meter confirms, shadows equal to the meters.
#[test]
fn the_built_in_month_tells_its_story() {
    let s = Scenario::builtin().unwrap();
    assert!(s.meters.len() >= 4 && s.days >= 28);
    let sim = run(&s, Stepping::Horizon);
    let t = sim.timeline();
    let low = t
        .iter()
        .filter(|h| matches!(h.what, What::Notified(NotificationKind::LowCredit { .. })))
        .count();
    assert!(low >= 4, "low-credit notifications: {low}");
    let reconnected = s.meters.iter().any(|m| {
        let of = |w: What| {
            t.iter()
                .position(|h| h.meter == Some(m.address) && h.what == w)
        };
        matches!((of(What::RelayOpened), of(What::RelayClosed)), (Some(a), Some(b)) if a < b)
    });
    assert!(reconnected, "a meter is cut off and then reconnected");
    let confirmed = t
        .iter()
        .filter(|h| matches!(h.what, What::CampaignConfirmed(_)))
        .count();
    assert_eq!(confirmed, s.meters.len());
    for m in &sim.outcome().meters {
        assert_eq!(m.balance, m.shadow_balance, "{}", m.address);
        assert!(m.energy.wh() > 0);
    }
    assert!(
        sim.outcome()
            .meters
            .iter()
            .all(|m| m.relay == Contacts::Closed || m.cut_off_at.is_some())
    );
}

fn refused(text: &str) -> String {
    Scenario::parse(text).unwrap_err().to_string()
}

const MINIMAL: &str = r#"format = 1
start = "2027-03-01T00:00:00+08:00"
days = 3
[tariff]
prices = ["1.2000", "0.9000", "0.6000", "0.3000"]
day = [["00:00", 4], ["08:00", 3]]
[[meter]]
address = "202700000001"
constant = 1000
opening_credit = "10.00"
alarm1 = "5.00"
alarm2 = "2.00"
overdraft = "1.00"
load = 500
"#;

/// Issue 13: bad input is refused with the line and the key, never a panic.
#[test]
fn bad_scenarios_are_refused_with_the_line_and_the_key() {
    assert!(Scenario::parse(MINIMAL).is_ok());
    let e = refused(&MINIMAL.replace("load = 500", "load = 500\nloud = 3"));
    assert!(
        e.starts_with("line 15") && e.contains("unknown field `loud`"),
        "{e}"
    );
    let e = refused(&MINIMAL.replace(
        r#"[["00:00", 4], ["08:00", 3]]"#,
        r#"[["00:00", 4], ["08:00", 3], ["07:00", 2]]"#,
    ));
    assert!(
        e.starts_with("line 6, `tariff.day[2]`") && e.contains("out of order"),
        "{e}"
    );
    let e = refused(&MINIMAL.replace(
        "[[meter]]",
        "[tariff.tiers]\nthresholds = [\"-5\"]\nsurcharges = [\"0.05\"]\n[[meter]]",
    ));
    assert!(
        e.starts_with("line 8, `tariff.tiers.thresholds[0]`") && e.contains("below zero"),
        "{e}"
    );
    let e = refused(&format!(
        "{MINIMAL}[[purchase]]\nat = \"2027-03-02T00:00:00+08:00\"\nmeter = \"202700000009\"\namount = \"5\"\n"
    ));
    assert!(
        e.starts_with("line 17, `purchase[0].meter`") && e.contains("no [[meter]]"),
        "{e}"
    );
    for (from, to, key) in [
        ("format = 1", "format = 2", "`format`"),
        ("days = 3", "days = 0", "`days`"),
        (
            r#"address = "202700000001""#,
            r#"address = "2027""#,
            "`meter[0].address`",
        ),
        (
            r#"alarm2 = "2.00""#,
            r#"alarm2 = "7.00""#,
            "`meter[0].alarm2`",
        ),
        (
            r#"overdraft = "1.00""#,
            r#"overdraft = "1.00001""#,
            "`meter[0].overdraft`",
        ),
        ("load = 500", "load = [1, 2]", "`meter[0].load`"),
        ("load = 500", "load = -1", "`meter[0].load`"),
        (r#"["08:00", 3]"#, r#"["08:00", 5]"#, "`tariff.day[1]`"),
        (r#"["00:00", 4]"#, r#"["01:00", 4]"#, "`tariff.day[0]`"),
        (r#"["08:00", 3]"#, r#"["8h", 3]"#, "`tariff.day[1]`"),
        (r#""0.3000"]"#, r#""0.3000", "0.1"]"#, "`tariff.prices`"),
        ("+08:00\"\ndays", "+08\"\ndays", "`start`"),
        ("constant = 1000", "constant = 0", "`meter[0].constant`"),
    ] {
        let text = MINIMAL.replacen(from, to, 1);
        assert_ne!(text, MINIMAL, "{from}");
        let e = refused(&text);
        assert!(
            e.starts_with("line ") && e.contains(key),
            "{from} -> {to}: {e}"
        );
    }
    // Not TOML at all, and a missing key.
    assert!(refused("format = = 1").starts_with("line 1"));
    assert!(refused(&MINIMAL.replace("days = 3\n", "")).contains("missing field `days`"));
}

proptest::proptest! {
    #![proptest_config(proptest::prelude::ProptestConfig { cases: 12, ..Default::default() })]

    /// The horizon's contract on random meters: loads, constants, credit, thresholds, prices,
    /// tiers and purchases drawn at random; stepping by horizon leaves every meter as
    /// stepping by pulses does.
    #[test]
    fn horizon_stepping_equals_pulse_stepping(
        load in proptest::collection::vec(0u32..4_000, 24),
        constant in proptest::sample::select(vec![100u32, 800, 1000, 1200, 1600, 3200, 6400]),
        credit in 0u32..6_000,
        alarm2 in 0u32..1_500,
        alarm_gap in 0u32..1_500,
        overdraft in 0u32..1_000,
        prices in proptest::array::uniform4(1u32..20_000),
        threshold in 1u32..200,
        buy_at in 1i64..3 * 86_400,
        buy in 1u32..5_000,
    ) {
        let cents = |c: u32| format!("{}.{:02}", c / 100, c % 100);
        let price = |p: u32| format!("{}.{:04}", p / 10_000, p % 10_000);
        let load: Vec<String> = load.iter().map(|w| w.to_string()).collect();
        let at = prepaid_meter::sim::format_rfc3339(
            prepaid_meter::time::Timestamp::from_unix(1_803_830_400 + buy_at),
            prepaid_meter::time::UtcOffset::CHINA,
        );
        let text = format!(
            r#"format = 1
start = "2027-03-01T00:00:00+08:00"
days = 3
[tariff]
prices = ["{}", "{}", "{}", "{}"]
day = [["00:00", 4], ["07:30", 3], ["10:00", 1], ["12:15", 2], ["22:00", 4]]
[tariff.tiers]
thresholds = ["{threshold}"]
surcharges = ["0.1000"]
[[meter]]
address = "202700000777"
constant = {constant}
opening_credit = "{}"
alarm1 = "{}"
alarm2 = "{}"
overdraft = "{}"
load = [{}]
[[purchase]]
at = "{at}"
meter = "202700000777"
amount = "{}"
"#,
            price(prices[0]), price(prices[1]), price(prices[2]), price(prices[3]),
            cents(credit), cents(alarm2 + alarm_gap), cents(alarm2), cents(overdraft),
            load.join(", "), cents(buy),
        );
        let s = Scenario::parse(&text).unwrap();
        let a = run(&s, Stepping::Horizon);
        let b = run(&s, Stepping::Pulses);
        proptest::prop_assert_eq!(a.outcome(), b.outcome());
        proptest::prop_assert_eq!(a.timeline(), b.timeline());
        let (ma, mb) = (a.meter(s.meters[0].address).unwrap(), b.meter(s.meters[0].address).unwrap());
        proptest::prop_assert_eq!(ma.account(), mb.account());
        proptest::prop_assert_eq!(ma.registers(), mb.registers());
        proptest::prop_assert_eq!(ma.demand(), mb.demand());
        proptest::prop_assert_eq!(ma.freezes(), mb.freezes());
        proptest::prop_assert_eq!(ma.logs(), mb.logs());
    }
}
