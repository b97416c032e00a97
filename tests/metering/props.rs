//! Property tests for exact pulse-to-energy conversion and register rollover.

use prepaid_meter::metering::{EnergyAccumulator, EnergyRegisters, Flow, MeterConstant, ROLLOVER};
use prepaid_meter::units::Energy;
use proptest::prelude::*;

fn constant() -> impl Strategy<Value = u32> {
    prop_oneof![
        prop::sample::select(vec![1200u32, 1600, 3200, 6400, 800, 400]),
        1u32..=MeterConstant::MAX,
    ]
}

proptest! {
    /// After any split of n pulses (n up to 2^40 in total), the register holds exactly
    /// floor(n × 1000 / C) Wh and the remainder is (n × 1000) mod C.
    #[test]
    fn conversion_is_exact_for_any_split(
        c in constant(),
        chunks in prop::collection::vec(0u64..(1u64 << 36), 1..17),
    ) {
        let constant = MeterConstant::new(c).unwrap();
        let mut acc = EnergyAccumulator::new(constant);
        let mut total_wh: i64 = 0;
        let mut pulses: u64 = 0;
        for &n in &chunks {
            total_wh += acc.add_pulses(n).wh();
            pulses += n;
        }
        prop_assert!(pulses <= 1u64 << 40);
        let exact = u128::from(pulses) * 1000;
        prop_assert_eq!(total_wh as u128, exact / u128::from(c));
        prop_assert_eq!(u128::from(acc.remainder()), exact % u128::from(c));
    }

    /// One pulse at a time gives the same as all pulses at once.
    #[test]
    fn pulse_by_pulse_equals_bulk(c in constant(), n in 0u64..5_000) {
        let constant = MeterConstant::new(c).unwrap();
        let mut one = EnergyAccumulator::new(constant);
        let mut sum = 0i64;
        for _ in 0..n {
            sum += one.add_pulses(1).wh();
        }
        let mut bulk = EnergyAccumulator::new(constant);
        prop_assert_eq!(bulk.add_pulses(n).wh(), sum);
        prop_assert_eq!(bulk, one);
    }

    /// Registers count modulo 1 000 000 kWh, the total is the sum of the tariffs modulo the same,
    /// and the DL/T 645 reading is the register in whole 0.01 kWh.
    #[test]
    fn registers_roll_over_like_dlt645(
        adds in prop::collection::vec((1u8..=4, 0i64..400_000_000_000, any::<bool>()), 0..40),
    ) {
        let mut regs = EnergyRegisters::<4>::new_sized();
        let m = ROLLOVER.wh();
        let mut sums = [[0i128; 4]; 2];
        for &(tariff, wh, export) in &adds {
            let dir = if export { Flow::Export } else { Flow::Import };
            regs.add(dir, tariff, Energy::from_wh(wh)).unwrap();
            sums[usize::from(export)][usize::from(tariff - 1)] += i128::from(wh);
        }
        for (k, dir) in [Flow::Import, Flow::Export].into_iter().enumerate() {
            let mut total = 0i128;
            for t in 1..=4u8 {
                let expect = sums[k][usize::from(t - 1)] % i128::from(m);
                prop_assert_eq!(i128::from(regs.tariff(dir, t).unwrap().wh()), expect);
                total += sums[k][usize::from(t - 1)];
            }
            let total_mod = (total % i128::from(m)) as i64;
            prop_assert_eq!(regs.total(dir).wh(), total_mod);
            prop_assert!(regs.total_centi_kwh(dir) <= 99_999_999);
            prop_assert_eq!(i64::from(regs.total_centi_kwh(dir)), total_mod / 10);
        }
    }
}

#[test]
fn rollover_at_999999_99_kwh() {
    let mut regs = EnergyRegisters::<4>::new_sized();
    regs.add(Flow::Import, 3, Energy::from_wh(999_999_990))
        .unwrap();
    assert_eq!(regs.total_centi_kwh(Flow::Import), 99_999_999); // 999999.99 kWh
    regs.add(Flow::Import, 3, Energy::from_wh(9)).unwrap();
    assert_eq!(regs.total_centi_kwh(Flow::Import), 99_999_999);
    regs.add(Flow::Import, 3, Energy::from_wh(1)).unwrap();
    assert_eq!(regs.total_centi_kwh(Flow::Import), 0); // 000000.00 kWh
}
