//! Power cuts through a recharge: the meter's save is cut after every few bytes it writes
//! (erases included), the meter restarts from the flash, and the head-end, having had no
//! answer, sends the same frame again. In every case the meter answered only what was
//! durable, the purchase is credited exactly once, and the security counter never goes back.

use prepaid_meter::endpoint::dlt645::ClientError;
use prepaid_meter::meter::{OPEN_ACCOUNT, RECHARGE, Started};
use prepaid_meter::security::{Command, CommandCounter};
use prepaid_meter::wire::dlt645::SecurityErrorWord;

use crate::rig::*;

/// A meter with an open account and some consumption, saved; its flash, and the time.
fn prepared() -> (Flash, i64) {
    let mut rig = Rig::new();
    let mut counter = CommandCounter::new(1);
    rig.secs = 60;
    let (frame, _) = sealed_03h(
        OPEN_ACCOUNT,
        &Command::OpenAccount(purchase(1, 30)),
        &mut counter,
        rig.secs,
    );
    rig.send(&frame);
    let mut carry = 0;
    let _ = rig.run(7_000, 900, &mut carry);
    let a = rig.meter.power_fail(at(rig.secs));
    rig.act(a).unwrap();
    let secs = rig.secs;
    (rig.store.release().0, secs)
}

#[test]
fn a_recharge_cut_at_every_point_of_its_save() {
    big_stack(a_recharge_cut_at_every_point_of_its_save_body);
}

fn a_recharge_cut_at_every_point_of_its_save_body() {
    let (base, secs) = prepared();
    // The recharge the head-end sends (and resends): count 2, 50 yuan, command counter 2.
    let mut counter = CommandCounter::new(1);
    counter.last = 1;
    let (frame, sent) = sealed_03h(
        RECHARGE,
        &Command::Recharge(purchase(2, 50)),
        &mut counter,
        secs,
    );

    // Without a cut: the balance after, the guard, and how many bytes the save touches.
    let (mut rig, started) = Rig::boot(base.clone(), secs);
    assert_eq!(started, Started::Restored);
    let before = rig.meter.display().balance;
    let guard_before = rig.meter.guard();
    let touched_before = rig.store.medium().0.stats();
    let answer = rig.send(&frame);
    let (after, count) = purchase_reply(&answer, &sent);
    assert_eq!(count, 2);
    assert_eq!(after, before.checked_add(yuan(50)).unwrap());
    let s = rig.store.medium().0.stats();
    let total = (s.bytes_written - touched_before.bytes_written)
        + (s.bytes_erased - touched_before.bytes_erased);
    assert!(total > 0);

    let stride = total.div_ceil(1_500).max(1);
    let mut cut_points = 0;
    let mut answered_early = 0;
    for cut in (0..total).step_by(stride as usize) {
        let mut flash = base.clone();
        flash.cut_power_after(cut);
        let (mut rig, _) = Rig::boot(flash, secs);
        let outcome = rig.exchange(&frame);
        assert!(
            outcome.is_err(),
            "cut after {cut} of {total} bytes, yet the save completed"
        );
        cut_points += 1;
        // The power is back; the meter restarts from whatever the flash holds.
        let mut flash = rig.store.release().0;
        flash.restore_power();
        let (mut rig, started) = Rig::boot(flash, secs);
        assert!(
            matches!(started, Started::Restored | Started::FellBack(_)),
            "{started:?}"
        );
        assert!(rig.meter.guard() >= guard_before, "the counter went back");
        let balance = rig.meter.display().balance;
        // Either the recharge is durable (but was never acknowledged), or nothing of it is.
        assert!(
            balance == before || balance == after,
            "cut after {cut}: balance {balance:?}"
        );
        if balance == after {
            answered_early += 1;
        }
        // The head-end resends: credited now if it was not, refused as applied if it was.
        let answer = rig.send(&frame);
        match client().parse_answer(&answer) {
            Ok(_) => {
                assert_eq!(balance, before);
                assert_eq!(purchase_reply(&answer, &sent), (after, 2));
            }
            Err(ClientError::SecurityRefused(w)) => {
                assert_eq!(balance, after);
                assert_eq!(w, SecurityErrorWord::REPEATED_RECHARGE);
            }
            Err(e) => panic!("cut after {cut}: {e:?}"),
        }
        assert_eq!(rig.meter.display().balance, after, "credited exactly once");
        assert_eq!(rig.meter.account().purchase_count(), 2);
        assert_eq!(rig.meter.logs().purchases().pushed(), 2);
    }
    assert!(
        cut_points >= 100.min(total as usize),
        "{cut_points} cut points"
    );
    eprintln!(
        "recharge save: {total} bytes touched, {cut_points} cut points, {answered_early} durable but unanswered"
    );
    // Some cuts come after the record is durable and before the answer.
    assert!(answered_early > 0);
}
