//! One test per row of the state tables in the `account` module docs (R = relay, F = alarm
//! flags, E = emergency credit, A = opening and recharging), plus remote cost control.
//!
//! Limits used (yuan): alarm 1 = 20, alarm 2 = 10, overdraft = 5, hoarding = 5000, reconnect = 1.

use crate::account_support;

use account_support::{CUSTOMER, OTHER, after, at, config, fen, opened, purchase, t0, yuan};
use prepaid_meter::account::{
    AccountError, AlarmFlags, CommandError, Config, Contacts, CostControl, EmergencyCredit,
    EmergencyState, FriendlyCalendar, MoneyAccount, RechargeError, ReconnectMode, RelayCommand,
    RelayState, RemoteTrip, Trigger, TripReason,
};
use prepaid_meter::purchase::Purchase;
use prepaid_meter::time::Timestamp;
use prepaid_meter::units::Money;
use prepaid_meter::wire::dlt645::{RelayStatusWord, SecurityErrorWord};

const OPEN_CREDIT: RelayState = RelayState::Open(TripReason::Credit);
const OPEN_REMOTE: RelayState = RelayState::Open(TripReason::Remote);

/// An opened account with 30 yuan whose credit was then exhausted (balance -5), relay open.
fn exhausted(cfg: Config<Money>) -> MoneyAccount {
    let mut a = opened(cfg, 30);
    let fx = a.debit(t0(), yuan(35)).unwrap();
    assert_eq!(fx.drive, Some(Contacts::Open));
    assert_eq!(a.relay(), OPEN_CREDIT);
    a
}

fn restore(delay_secs: u32, then: ReconnectMode) -> RelayCommand {
    RelayCommand::TripRestore { delay_secs, then }
}

// ---- Relay ------------------------------------------------------------------------------

#[test]
fn r1_closed_trips_when_credit_exhausted() {
    let mut a = opened(config(), 30);
    // Down to -4.99: overdraft, not yet exhausted.
    let fx = a.debit(t0(), fen(3499)).unwrap();
    assert_eq!(fx.drive, None);
    assert_eq!(a.relay(), RelayState::Closed);
    // One more cent: -5.00 = the overdraft limit.
    let fx = a.debit(t0(), fen(1)).unwrap();
    assert_eq!(fx.drive, Some(Contacts::Open));
    let ev = fx.relay.unwrap();
    assert_eq!(
        (ev.from, ev.to, ev.trigger),
        (RelayState::Closed, OPEN_CREDIT, Trigger::Debit)
    );
    assert_eq!(ev.balance, yuan(-5));
    assert!(fx.alarms.contains(AlarmFlags::EXHAUSTED));
}

#[test]
fn r1_overdraft_limit_zero_trips_at_zero() {
    let mut cfg = config();
    cfg.limits.overdraft = Money::ZERO;
    let mut a = opened(cfg, 30);
    let _ = a.debit(t0(), yuan(30)).unwrap();
    assert_eq!(a.relay(), OPEN_CREDIT);
}

#[test]
fn r2_friendly_period_holds_the_trip_but_charges_continue() {
    let mut cfg = config();
    cfg.friendly = FriendlyCalendar::new(0x00FF_FFFF, 0, &[]).unwrap();
    let mut a = opened(cfg, 30);
    let fx = a.debit(t0(), yuan(100)).unwrap();
    assert_eq!(fx.drive, None);
    assert_eq!(a.relay(), RelayState::Closed);
    assert_eq!(a.balance(), yuan(-70), "consumption is still charged");
    assert!(a.alarms().contains(AlarmFlags::EXHAUSTED));
    assert_eq!(
        a.overdraft(),
        Some((t0(), yuan(-70))),
        "the overdraft is recorded"
    );
}

#[test]
fn r2_keep_power_holds_the_trip() {
    let mut a = opened(config(), 30);
    let _ = a.command(t0(), RelayCommand::KeepPowerOn).unwrap();
    let fx = a.debit(t0(), yuan(100)).unwrap();
    assert_eq!(fx.drive, None);
    assert_eq!(a.relay(), RelayState::Closed);
    assert_eq!(a.balance(), yuan(-70));
}

#[test]
fn r3_trip_when_friendly_period_ends() {
    let mut cfg = config();
    cfg.friendly = FriendlyCalendar::new(FriendlyCalendar::hours_from_to(20, 8), 0, &[]).unwrap();
    let mut a = opened(cfg, 30);
    let evening = at(2025, 3, 3, 21, 0);
    let _ = a.debit(evening, yuan(40)).unwrap();
    assert_eq!(a.relay(), RelayState::Closed);
    assert!(a.tick(at(2025, 3, 4, 7, 59)).is_quiet());
    let fx = a.tick(at(2025, 3, 4, 8, 0));
    assert_eq!(fx.drive, Some(Contacts::Open));
    assert_eq!(fx.relay.unwrap().trigger, Trigger::Tick);
    assert_eq!(a.relay(), OPEN_CREDIT);
}

#[test]
fn r3_trip_when_keep_power_released() {
    let mut a = opened(config(), 30);
    let _ = a.command(t0(), RelayCommand::KeepPowerOn).unwrap();
    let _ = a.debit(t0(), yuan(40)).unwrap();
    let fx = a.command(t0(), RelayCommand::KeepPowerOff).unwrap();
    assert_eq!(fx.drive, Some(Contacts::Open));
    assert_eq!(
        fx.relay.unwrap().trigger,
        Trigger::Command(RelayCommand::KeepPowerOff)
    );
    assert_eq!(a.relay(), OPEN_CREDIT);
}

#[test]
fn r4_recharge_above_reconnect_threshold_allows_reconnection() {
    let mut a = exhausted(config());
    let r = a.recharge(t0(), purchase(2, fen(601))).unwrap(); // -5.00 + 6.01 = 1.01
    assert_eq!(r.record.balance_after, fen(101));
    assert_eq!(r.effects.drive, None, "button mode: the relay waits");
    assert_eq!(a.relay(), RelayState::Ready(TripReason::Credit));
    assert!(!a.alarms().contains(AlarmFlags::EXHAUSTED));
}

#[test]
fn r5_direct_reconnection_closes_at_once() {
    let mut cfg = config();
    cfg.reconnect = ReconnectMode::Direct;
    let mut a = exhausted(cfg);
    let r = a.recharge(t0(), purchase(2, yuan(50))).unwrap();
    assert_eq!(r.effects.drive, Some(Contacts::Closed));
    assert_eq!(a.relay(), RelayState::Closed);
}

#[test]
fn r6_recharge_not_above_reconnect_threshold_stays_open() {
    let mut a = exhausted(config());
    // -5 + 3 = -2: above the overdraft limit but not above the reconnect threshold.
    let r = a.recharge(t0(), purchase(2, yuan(3))).unwrap();
    assert_eq!(r.effects.relay, None);
    assert_eq!(a.relay(), OPEN_CREDIT);
    assert!(a.alarms().contains(AlarmFlags::EXHAUSTED));
    // Exactly the threshold (1.00) is not enough either.
    let _ = a.recharge(t0(), purchase(3, yuan(3))).unwrap();
    assert_eq!(a.balance(), yuan(1));
    assert_eq!(a.relay(), OPEN_CREDIT);
    // The button does nothing while open.
    assert!(a.press_button(t0()).is_quiet());
    let _ = a.recharge(t0(), purchase(4, fen(1))).unwrap();
    assert_eq!(a.relay(), RelayState::Ready(TripReason::Credit));
}

#[test]
fn r7_button_closes_a_ready_relay() {
    let mut a = exhausted(config());
    let _ = a.recharge(t0(), purchase(2, yuan(50))).unwrap();
    let fx = a.press_button(t0());
    assert_eq!(fx.drive, Some(Contacts::Closed));
    let ev = fx.relay.unwrap();
    assert_eq!(ev.trigger, Trigger::Button);
    assert_eq!(ev.from, RelayState::Ready(TripReason::Credit));
    assert_eq!(a.relay(), RelayState::Closed);
    // Pressing again changes nothing.
    assert!(a.press_button(t0()).is_quiet());
}

#[test]
fn r8_low_credit_trip_at_alarm_2() {
    let mut cfg = config();
    cfg.low_credit_trip = true;
    let mut a = opened(cfg, 30);
    assert_eq!(a.debit(t0(), fen(1999)).unwrap().drive, None); // 10.01
    let fx = a.debit(t0(), fen(1)).unwrap(); // 10.00 = alarm 2
    assert_eq!(fx.drive, Some(Contacts::Open));
    assert_eq!(a.relay(), RelayState::Ready(TripReason::LowCredit));
}

#[test]
fn r8_low_credit_trip_disabled_by_default() {
    let mut a = opened(config(), 30);
    let _ = a.debit(t0(), yuan(25)).unwrap();
    assert_eq!(a.relay(), RelayState::Closed);
    assert!(a.alarms().contains(AlarmFlags::LOW_CREDIT_2));
}

#[test]
fn r9_button_undoes_low_credit_trip_until_credit_rises_again() {
    let mut cfg = config();
    cfg.low_credit_trip = true;
    let mut a = opened(cfg, 30);
    let _ = a.debit(t0(), yuan(20)).unwrap();
    let fx = a.press_button(t0());
    assert_eq!(fx.drive, Some(Contacts::Closed));
    // Acknowledged: more consumption above exhaustion does not trip again.
    let _ = a.debit(t0(), yuan(5)).unwrap();
    assert_eq!(a.relay(), RelayState::Closed);
    // A recharge above alarm 2 clears the acknowledgement; falling back trips again.
    let _ = a.recharge(t0(), purchase(2, yuan(10))).unwrap(); // 15
    let _ = a.debit(t0(), yuan(5)).unwrap(); // 10
    assert_eq!(a.relay(), RelayState::Ready(TripReason::LowCredit));
}

#[test]
fn r9_direct_close_undoes_low_credit_trip() {
    let mut cfg = config();
    cfg.low_credit_trip = true;
    let mut a = opened(cfg, 30);
    let _ = a.debit(t0(), yuan(20)).unwrap();
    let fx = a.command(t0(), RelayCommand::DirectClose).unwrap();
    assert_eq!(fx.drive, Some(Contacts::Closed));
    assert_eq!(a.relay(), RelayState::Closed);
}

#[test]
fn r10_ready_relay_reopens_when_credit_is_exhausted_again() {
    let mut cfg = config();
    cfg.standing_charge = yuan(7);
    let mut a = exhausted(cfg);
    let _ = a.recharge(t0(), purchase(2, yuan(7))).unwrap(); // 2.00
    assert_eq!(a.relay(), RelayState::Ready(TripReason::Credit));
    let fx = a.tick(at(2025, 3, 4, 0, 0)); // standing charge: -5.00
    assert_eq!(fx.standing_charge.unwrap().amount, yuan(7));
    assert_eq!(fx.drive, None, "contacts were already open");
    assert_eq!(a.relay(), OPEN_CREDIT);
    assert!(a.press_button(at(2025, 3, 4, 0, 1)).is_quiet());
}

#[test]
fn r11_remote_trip_from_every_state() {
    // From closed.
    let mut a = opened(config(), 30);
    let fx = a.command(t0(), RelayCommand::Trip).unwrap();
    assert_eq!(fx.drive, Some(Contacts::Open));
    assert_eq!(a.relay(), OPEN_REMOTE);
    assert_eq!(a.remote_trip(), RemoteTrip::Tripped);
    // From open for credit: the reason changes, the contacts stay.
    let mut a = exhausted(config());
    let fx = a.command(t0(), RelayCommand::Trip).unwrap();
    assert_eq!(fx.drive, None);
    assert_eq!(fx.relay.unwrap().to, OPEN_REMOTE);
    // From ready: the button no longer closes it.
    let mut a = exhausted(config());
    let _ = a.recharge(t0(), purchase(2, yuan(50))).unwrap();
    let _ = a.command(t0(), RelayCommand::Trip).unwrap();
    assert_eq!(a.relay(), OPEN_REMOTE);
    assert!(a.press_button(t0()).is_quiet());
}

#[test]
fn r12_trip_refused_with_keep_power() {
    let mut a = opened(config(), 30);
    let _ = a.command(t0(), RelayCommand::KeepPowerOn).unwrap();
    let before = a.clone();
    let e = a.command(t0(), RelayCommand::Trip).unwrap_err();
    assert_eq!(e, CommandError::KeepPower);
    assert_eq!(RelayStatusWord::from(e).0, 0x0020);
    assert_eq!(a, before);
}

#[test]
fn r13_reconnect_allowed_waits_for_the_button() {
    let mut a = opened(config(), 30);
    let _ = a.command(t0(), RelayCommand::Trip).unwrap();
    let fx = a.command(t0(), RelayCommand::ReconnectAllowed).unwrap();
    assert_eq!(fx.drive, None);
    assert_eq!(a.relay(), RelayState::Ready(TripReason::Remote));
    assert_eq!(a.press_button(t0()).drive, Some(Contacts::Closed));
}

#[test]
fn r14_direct_close_closes() {
    let mut a = opened(config(), 30);
    let _ = a.command(t0(), RelayCommand::Trip).unwrap();
    let fx = a.command(t0(), RelayCommand::DirectClose).unwrap();
    assert_eq!(fx.drive, Some(Contacts::Closed));
    assert_eq!(a.relay(), RelayState::Closed);
    assert_eq!(a.remote_trip(), RemoteTrip::None);
}

#[test]
fn r15_reconnect_commands_do_not_override_exhausted_credit() {
    for cmd in [RelayCommand::ReconnectAllowed, RelayCommand::DirectClose] {
        let mut a = exhausted(config());
        let _ = a.command(t0(), RelayCommand::Trip).unwrap();
        let fx = a.command(t0(), cmd).unwrap();
        assert_eq!(fx.drive, None);
        assert_eq!(fx.relay.unwrap().to, OPEN_CREDIT);
        assert_eq!(a.relay(), OPEN_CREDIT);
        // Already open for credit: nothing moves.
        let fx = a.command(t0(), cmd).unwrap();
        assert_eq!((fx.drive, fx.relay), (None, None));
        assert_eq!(a.relay(), OPEN_CREDIT);
    }
}

#[test]
fn r16_to_r18_trip_with_automatic_restore() {
    for (then, end, drive) in [
        (
            ReconnectMode::Button,
            RelayState::Ready(TripReason::Remote),
            None,
        ),
        (
            ReconnectMode::Direct,
            RelayState::Closed,
            Some(Contacts::Closed),
        ),
    ] {
        let mut a = opened(config(), 30);
        let fx = a.command(t0(), restore(600, then)).unwrap();
        assert_eq!(fx.drive, Some(Contacts::Open));
        assert_eq!(a.relay(), OPEN_REMOTE);
        assert_eq!(
            a.remote_trip(),
            RemoteTrip::Until {
                at: after(t0(), 600),
                then
            }
        );
        assert!(a.tick(after(t0(), 599)).is_quiet());
        let fx = a.tick(after(t0(), 600));
        assert_eq!(fx.drive, drive);
        assert_eq!(a.relay(), end);
        assert_eq!(a.remote_trip(), RemoteTrip::None);
    }
}

#[test]
fn r17_restore_with_credit_exhausted_meanwhile_stays_open() {
    let mut a = opened(config(), 30);
    let _ = a
        .command(t0(), restore(600, ReconnectMode::Direct))
        .unwrap();
    let _ = a.debit(after(t0(), 10), yuan(40)).unwrap();
    assert_eq!(a.relay(), OPEN_REMOTE, "remote outranks credit");
    let fx = a.tick(after(t0(), 600));
    assert_eq!(fx.drive, None);
    assert_eq!(a.relay(), OPEN_CREDIT);
}

#[test]
fn r19_restore_refused_while_open() {
    let mut a = exhausted(config());
    let before = a.clone();
    let e = a
        .command(t0(), restore(60, ReconnectMode::Button))
        .unwrap_err();
    assert_eq!(e, CommandError::AlreadyTripped);
    assert_eq!(RelayStatusWord::from(e).0, 0x0100);
    assert_eq!(a, before);
}

#[test]
fn r20_restore_refused_with_keep_power_or_bad_delay() {
    let mut a = opened(config(), 30);
    let before = a.clone();
    assert_eq!(
        a.command(t0(), restore(0, ReconnectMode::Button)),
        Err(CommandError::InvalidRestoreTime)
    );
    let late = Timestamp::from_unix(i64::MAX - 10);
    assert_eq!(
        a.command(late, restore(60, ReconnectMode::Button)),
        Err(CommandError::InvalidRestoreTime)
    );
    assert_eq!(a, before);
    let _ = a.command(t0(), RelayCommand::KeepPowerOn).unwrap();
    let before = a.clone();
    let e = a
        .command(t0(), restore(60, ReconnectMode::Button))
        .unwrap_err();
    assert_eq!(e, CommandError::RestoreKeepPower);
    assert_eq!(RelayStatusWord::from(e).0, 0x0040);
    assert_eq!(a, before);
}

#[test]
fn r21_keep_power_on_reconnects_as_configured() {
    // Button: ready for reconnection.
    let mut a = exhausted(config());
    let fx = a.command(t0(), RelayCommand::KeepPowerOn).unwrap();
    assert_eq!(fx.drive, None);
    assert_eq!(a.relay(), RelayState::Ready(TripReason::Credit));
    assert!(a.keep_power());
    assert_eq!(a.press_button(t0()).drive, Some(Contacts::Closed));
    // Direct: closes, and lifts a remote trip.
    let mut cfg = config();
    cfg.reconnect = ReconnectMode::Direct;
    let mut a = opened(cfg, 30);
    let _ = a.command(t0(), RelayCommand::Trip).unwrap();
    let fx = a.command(t0(), RelayCommand::KeepPowerOn).unwrap();
    assert_eq!(fx.drive, Some(Contacts::Closed));
    assert_eq!(a.remote_trip(), RemoteTrip::None);
    // Releasing keep-power with credit fine changes nothing.
    let fx = a.command(t0(), RelayCommand::KeepPowerOff).unwrap();
    assert_eq!(fx.relay, None);
}

#[test]
fn r22_alarm_on_off_leaves_the_relay() {
    let mut a = opened(config(), 30);
    let fx = a.command(t0(), RelayCommand::AlarmOn).unwrap();
    assert_eq!(fx.relay, None);
    assert_eq!(fx.alarm.unwrap().raised(), AlarmFlags::REMOTE);
    assert!(fx.alarms.output());
    let fx = a.command(t0(), RelayCommand::AlarmOff).unwrap();
    assert_eq!(fx.alarm.unwrap().cleared(), AlarmFlags::REMOTE);
    assert!(!fx.alarms.output());
    assert_eq!(a.relay(), RelayState::Closed);
}

#[test]
fn remote_cost_control_executes_commands_only() {
    let mut a = MoneyAccount::new(Config::remote(), Money::ZERO).unwrap();
    assert_eq!(a.config().cost_control, CostControl::Remote);
    let fx = a.tick(t0());
    assert_eq!(
        fx.alarms,
        AlarmFlags::NONE,
        "no credit alarms without money"
    );
    assert_eq!(a.relay(), RelayState::Closed);
    let before = a.clone();
    assert_eq!(a.debit(t0(), yuan(1)), Err(AccountError::RemoteCostControl));
    assert_eq!(
        a.open(t0(), purchase(1, yuan(1))).unwrap_err(),
        RechargeError::RemoteCostControl
    );
    assert_eq!(
        a.recharge(t0(), purchase(1, yuan(1))).unwrap_err(),
        RechargeError::RemoteCostControl
    );
    assert_eq!(
        a.activate_emergency_credit(t0()),
        Err(AccountError::RemoteCostControl)
    );
    assert_eq!(
        a.set_debt(t0(), yuan(1)),
        Err(AccountError::RemoteCostControl)
    );
    assert_eq!(a, before);
    assert_eq!(
        a.command(t0(), RelayCommand::Trip).unwrap().drive,
        Some(Contacts::Open)
    );
    let _ = a.command(t0(), RelayCommand::ReconnectAllowed).unwrap();
    assert_eq!(a.press_button(t0()).drive, Some(Contacts::Closed));
    let _ = a.command(t0(), restore(30, ReconnectMode::Direct)).unwrap();
    assert_eq!(a.tick(after(t0(), 30)).drive, Some(Contacts::Closed));
    let _ = a.command(t0(), RelayCommand::KeepPowerOn).unwrap();
    assert_eq!(
        a.command(t0(), RelayCommand::Trip),
        Err(CommandError::KeepPower)
    );
}

#[test]
fn switching_to_remote_lifts_credit_control() {
    let mut a = exhausted(config());
    let fx = a.reconfigure(t0(), Config::remote()).unwrap();
    assert_eq!(fx.relay.unwrap().trigger, Trigger::Reconfigure);
    assert_eq!(a.relay(), RelayState::Ready(TripReason::Credit));
    assert_eq!(a.alarms(), AlarmFlags::NONE);
    assert_eq!(a.balance(), yuan(-5), "the balance is kept as it was");
}

// ---- Alarm flags ------------------------------------------------------------------------

#[test]
fn f1_f2_low_credit_flags_at_or_below_thresholds() {
    let mut a = opened(config(), 30);
    assert!(!a.alarms().contains(AlarmFlags::LOW_CREDIT_1));
    let fx = a.debit(t0(), fen(999)).unwrap(); // 20.01
    assert!(fx.alarm.is_none());
    let fx = a.debit(t0(), fen(1)).unwrap(); // 20.00
    assert_eq!(fx.alarm.unwrap().raised(), AlarmFlags::LOW_CREDIT_1);
    let fx = a.debit(t0(), yuan(10)).unwrap(); // 10.00
    assert_eq!(fx.alarm.unwrap().raised(), AlarmFlags::LOW_CREDIT_2);
    let fx = a.recharge(t0(), purchase(2, fen(1))).unwrap().effects; // 10.01
    assert_eq!(fx.alarm.unwrap().cleared(), AlarmFlags::LOW_CREDIT_2);
    let fx = a.recharge(t0(), purchase(3, yuan(10))).unwrap().effects; // 20.01
    assert_eq!(fx.alarm.unwrap().cleared(), AlarmFlags::LOW_CREDIT_1);
    assert_eq!(a.alarms(), AlarmFlags::NONE);
}

#[test]
fn f3_overdraft_flag_and_record() {
    let mut a = opened(config(), 30);
    let t1 = after(t0(), 100);
    let fx = a.debit(t1, fen(3001)).unwrap(); // -0.01
    assert!(fx.alarm.unwrap().raised().contains(AlarmFlags::OVERDRAFT));
    let _ = a.debit(after(t0(), 200), fen(299)).unwrap(); // -3.00
    let _ = a.debit(after(t0(), 300), fen(100)).unwrap(); // -4.00, not yet the limit
    assert_eq!(a.overdraft(), Some((t1, yuan(-4))));
    let t2 = after(t0(), 400);
    let r = a.recharge(t2, purchase(2, yuan(4))).unwrap();
    assert_eq!(r.record.overdraft_repaid, yuan(4));
    let rec = r.effects.overdraft.unwrap();
    assert_eq!((rec.started, rec.ended, rec.deepest), (t1, t2, yuan(-4)));
    assert!(
        r.effects
            .alarm
            .unwrap()
            .cleared()
            .contains(AlarmFlags::OVERDRAFT)
    );
    assert_eq!(a.overdraft(), None);
}

#[test]
fn f4_exhausted_has_hysteresis() {
    let mut a = exhausted(config());
    let _ = a.recharge(t0(), purchase(2, fen(500))).unwrap(); // 0.00
    assert!(a.alarms().contains(AlarmFlags::EXHAUSTED));
    let _ = a.recharge(t0(), purchase(3, fen(101))).unwrap(); // 1.01
    assert!(!a.alarms().contains(AlarmFlags::EXHAUSTED));
    // Back down into the gap (0.00): not exhausted again until the limit.
    let _ = a.debit(t0(), fen(101)).unwrap();
    assert!(!a.alarms().contains(AlarmFlags::EXHAUSTED));
    assert_eq!(a.relay(), RelayState::Ready(TripReason::Credit));
    let _ = a.debit(t0(), yuan(5)).unwrap();
    assert!(a.alarms().contains(AlarmFlags::EXHAUSTED));
}

#[test]
fn f5_remote_alarm_flag() {
    let mut a = opened(config(), 30);
    let _ = a.command(t0(), RelayCommand::AlarmOn).unwrap();
    assert!(a.alarms().contains(AlarmFlags::REMOTE));
    let _ = a.command(t0(), RelayCommand::AlarmOff).unwrap();
    assert!(!a.alarms().contains(AlarmFlags::REMOTE));
}

// ---- Emergency credit -------------------------------------------------------------------

fn with_ec() -> Config<Money> {
    let mut c = config();
    c.emergency = Some(EmergencyCredit {
        amount: yuan(10),
        threshold: yuan(3),
    });
    c
}

#[test]
fn e1_e2_availability_follows_the_threshold() {
    let mut a = opened(with_ec(), 30);
    assert_eq!(a.emergency(), EmergencyState::Unavailable);
    let fx = a.debit(t0(), yuan(27)).unwrap(); // 3.00
    let ev = fx.emergency.unwrap();
    assert_eq!(
        (ev.from, ev.to),
        (EmergencyState::Unavailable, EmergencyState::Available)
    );
    let fx = a.recharge(t0(), purchase(2, fen(1))).unwrap().effects; // 3.01
    assert_eq!(fx.emergency.unwrap().to, EmergencyState::Unavailable);
}

#[test]
fn e3_customer_takes_emergency_credit() {
    let mut a = exhausted(with_ec());
    assert_eq!(a.emergency(), EmergencyState::Available);
    let fx = a.activate_emergency_credit(t0()).unwrap();
    assert_eq!(fx.emergency.unwrap().to, EmergencyState::InUse);
    assert_eq!(a.balance(), yuan(5));
    assert_eq!(a.emergency_outstanding(), yuan(10));
    // 5.00 is above the reconnect threshold: ready for the button (R4 through emergency credit).
    assert_eq!(fx.relay.unwrap().trigger, Trigger::EmergencyCredit);
    assert_eq!(a.relay(), RelayState::Ready(TripReason::Credit));
}

#[test]
fn e4_partial_repayment_keeps_it_in_use() {
    let mut a = exhausted(with_ec());
    let _ = a.activate_emergency_credit(t0()).unwrap(); // 5.00, owing 10
    let r = a.recharge(t0(), purchase(2, yuan(4))).unwrap();
    assert_eq!(r.record.emergency_repaid, yuan(4));
    assert_eq!(r.record.balance_after, yuan(5));
    assert_eq!(a.emergency_outstanding(), yuan(6));
    assert_eq!(a.emergency(), EmergencyState::InUse);
    assert_eq!(r.effects.emergency, None);
}

#[test]
fn e5_full_repayment_ends_it() {
    let mut a = exhausted(with_ec());
    let _ = a.activate_emergency_credit(t0()).unwrap(); // 5.00, owing 10
    let r = a.recharge(t0(), purchase(2, yuan(50))).unwrap();
    assert_eq!(r.record.emergency_repaid, yuan(10));
    assert_eq!(r.record.balance_after, yuan(45));
    assert_eq!(a.emergency(), EmergencyState::Unavailable);
    // Repaid, but the balance still at or below the threshold: available again.
    let mut a = exhausted(with_ec());
    let _ = a.activate_emergency_credit(t0()).unwrap();
    let _ = a.debit(t0(), yuan(5)).unwrap(); // 0.00
    let r = a.recharge(t0(), purchase(2, yuan(12))).unwrap(); // 10 repaid, 2.00 left
    assert_eq!(r.record.balance_after, yuan(2));
    assert_eq!(r.effects.emergency.unwrap().to, EmergencyState::Available);
}

#[test]
fn e6_refused_when_not_available() {
    let mut a = opened(with_ec(), 30);
    let before = a.clone();
    assert_eq!(
        a.activate_emergency_credit(t0()),
        Err(AccountError::EmergencyUnavailable)
    );
    assert_eq!(a, before);
    let mut a = exhausted(with_ec());
    let _ = a.activate_emergency_credit(t0()).unwrap();
    let _ = a.debit(t0(), yuan(10)).unwrap();
    let before = a.clone();
    assert_eq!(
        a.activate_emergency_credit(t0()),
        Err(AccountError::EmergencyUnavailable),
        "in use"
    );
    assert_eq!(a, before);
    let mut a = opened(config(), 0);
    assert_eq!(
        a.activate_emergency_credit(t0()),
        Err(AccountError::EmergencyUnavailable),
        "none configured"
    );
}

// ---- Opening and recharging -------------------------------------------------------------

#[test]
fn a1_open_binds_the_customer() {
    let mut a = MoneyAccount::new(config(), yuan(3)).unwrap();
    assert!(!a.is_open());
    let r = a.open(t0(), purchase(1, yuan(100))).unwrap();
    assert_eq!(r.record.balance_before, yuan(3));
    assert_eq!(r.record.balance_after, yuan(103));
    assert_eq!(r.record.count, 1);
    assert_eq!(a.customer(), Some(CUSTOMER));
    assert_eq!(a.purchase_count(), 1);
    // Opening without money is allowed.
    let mut a = MoneyAccount::new(config(), yuan(3)).unwrap();
    let _ = a.open(t0(), purchase(1, Money::ZERO)).unwrap();
    assert!(a.is_open());
}

#[test]
fn a2_recharge_before_open_refused() {
    let mut a = MoneyAccount::new(config(), yuan(3)).unwrap();
    let before = a.clone();
    assert_eq!(
        a.recharge(t0(), purchase(1, yuan(1))).unwrap_err(),
        RechargeError::NotOpen
    );
    assert_eq!(a, before);
}

#[test]
fn a3_second_open_refused() {
    let mut a = opened(config(), 30);
    let before = a.clone();
    assert_eq!(
        a.open(t0(), purchase(2, yuan(1))).unwrap_err(),
        RechargeError::AlreadyOpen
    );
    assert_eq!(a, before);
}

#[test]
fn a4_recharges_count_up() {
    let mut a = opened(config(), 30);
    for n in 2..=5u32 {
        let r = a.recharge(t0(), purchase(n, yuan(10))).unwrap();
        assert_eq!(r.record.count, n);
        assert_eq!(r.effects.relay, None);
    }
    assert_eq!(a.purchase_count(), 5);
    assert_eq!(a.balance(), yuan(70));
}

#[test]
fn a5_count_rules() {
    let mut a = opened(config(), 30);
    let _ = a.recharge(t0(), purchase(2, yuan(10))).unwrap();
    let before = a.clone();
    let e = a.recharge(t0(), purchase(2, yuan(10))).unwrap_err();
    assert_eq!(e, RechargeError::RepeatedRecharge);
    assert_eq!(SecurityErrorWord::from(e).0, 0x02);
    for bad in [0, 1, 4, 100, u32::MAX] {
        let e = a.recharge(t0(), purchase(bad, yuan(10))).unwrap_err();
        assert_eq!(e, RechargeError::CountError, "count {bad}");
    }
    assert_eq!(a, before);
    // Open follows the same count rule.
    let mut b = MoneyAccount::new(config(), Money::ZERO).unwrap();
    assert_eq!(
        b.open(t0(), purchase(0, yuan(1))).unwrap_err(),
        RechargeError::RepeatedRecharge
    );
    assert_eq!(
        b.open(t0(), purchase(2, yuan(1))).unwrap_err(),
        RechargeError::CountError
    );
}

#[test]
fn a6_customer_amount_hoarding_and_overflow() {
    let mut a = opened(config(), 30);
    let before = a.clone();
    let other = Purchase {
        customer: OTHER,
        count: 2,
        amount: yuan(1),
    };
    let e = a.recharge(t0(), other).unwrap_err();
    assert_eq!(
        (e, SecurityErrorWord::from(e).0),
        (RechargeError::CustomerMismatch, 0x10)
    );
    for amount in [Money::ZERO, fen(-1), Money::MIN] {
        assert_eq!(
            a.recharge(t0(), purchase(2, amount)).unwrap_err(),
            RechargeError::InvalidAmount
        );
    }
    // 30 + 4970 = 5000 is allowed; one cent more is hoarding.
    let e = a.recharge(t0(), purchase(2, fen(497_001))).unwrap_err();
    assert_eq!(
        (e, SecurityErrorWord::from(e).0),
        (RechargeError::HoardingLimit, 0x40)
    );
    assert_eq!(
        a.recharge(t0(), purchase(2, Money::MAX)).unwrap_err(),
        RechargeError::Overflow
    );
    assert_eq!(a, before);
    let _ = a.recharge(t0(), purchase(2, yuan(4970))).unwrap();
    assert_eq!(a.balance(), yuan(5000));
}

#[test]
fn a7_open_and_recharge_refused_under_remote_control() {
    let mut a = MoneyAccount::new(Config::remote(), Money::ZERO).unwrap();
    assert_eq!(
        a.open(t0(), purchase(1, yuan(1))).unwrap_err(),
        RechargeError::RemoteCostControl
    );
    assert!(!a.is_open());
}

#[test]
fn opening_before_any_tick_still_evaluates() {
    let mut cfg = config();
    cfg.limits.overdraft = Money::ZERO;
    let mut a = MoneyAccount::new(cfg, Money::ZERO).unwrap();
    // Credit control runs from construction: with nothing preset and no overdraft, the first
    // tick trips.
    assert_eq!(a.tick(t0()).drive, Some(Contacts::Open));
    let r = a.open(t0(), purchase(1, yuan(50))).unwrap();
    assert_eq!(
        r.effects.relay.unwrap().to,
        RelayState::Ready(TripReason::Credit)
    );
    assert_eq!(r.effects.relay.unwrap().trigger, Trigger::Open);
}
