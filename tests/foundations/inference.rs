//! The constructors at the default capacities infer their types: none of the bindings below
//! has a type annotation, a turbofish or a use that would fix its capacities, so each line
//! stops compiling (E0284) if its constructor becomes generic over the capacities again.

use prepaid_meter::account::{Config, FriendlyCalendar, Limits, Logs, MoneyAccount};
use prepaid_meter::endpoint::dlt645::Reassembler;
use prepaid_meter::freeze::Freezes;
use prepaid_meter::meter::{KeyRecord, Meter, MeterConfig, Started, Stored};
use prepaid_meter::metering::{DemandMeter, EnergyRegisters, Flow, MeterConstant};
use prepaid_meter::security::{MasterKey, SecurityConfig};
use prepaid_meter::tariff::{
    Calendar, DayTable, MonthDay, Season, SwitchPoint, Tariff, TariffSet, Tiers, Totals, WeekRule,
};
use prepaid_meter::time::{Timestamp, UtcOffset};
use prepaid_meter::units::{Energy, Money, Price};
use prepaid_meter::wire::dlt645::{Di, StreamDecoder};

type Result = core::result::Result<(), Box<dyn std::error::Error>>;

fn limits() -> Limits<Money> {
    let yuan = |y| Money::from_minor(y * 10_000_i64);
    Limits {
        alarm1: yuan(20),
        alarm2: yuan(10),
        overdraft: yuan(5),
        hoarding: yuan(5_000),
        reconnect: yuan(1),
    }
}

fn of_money_config<const H: usize>(_: &Config<Money, H>) {}

fn of_money_logs<const N: usize>(_: &Logs<Money, N>) {}

fn of_money_freezes<const T: usize, const HN: usize, const DN: usize, const SN: usize>(
    _: &Freezes<Money, T, HN, DN, SN>,
) {
}

#[test]
fn getting_started_constructors_need_no_annotations() -> Result {
    // The tariff.
    let day = DayTable::new(&[SwitchPoint::new(0, 0, 1)])?;
    let season = Season {
        start: MonthDay::new(1, 1),
        week: WeekRule::uniform(1),
    };
    let cal = Calendar::new(&[season], &[day])?;
    let set = TariffSet::new(cal, &[Price::from_minor_per_kwh(5_283)], Tiers::none())?;
    let tariff = Tariff::new(UtcOffset::CHINA, &[], set)?;
    let mut buf = [0u8; 1024];
    let n = tariff.emit(&mut buf)?;
    let parsed = Tariff::parse(&buf[..n])?;
    assert_eq!(parsed.offset(), UtcOffset::CHINA);
    let now = Timestamp::from_unix(1_764_554_400);
    #[cfg(feature = "alloc")]
    {
        use prepaid_meter::tariff::{BatchPlan, IntervalLength};
        let plan = BatchPlan::new(&tariff, now, IntervalLength::Hour, 2)?;
        assert_eq!(plan.len(), 2);
    }
    let totals = Totals::new();
    assert_eq!(totals.money, Money::ZERO);

    // The account: `Config::local` infers in argument position and alone.
    let a = MoneyAccount::new(Config::local(limits()), Money::ZERO)?;
    assert_eq!(a.balance(), Money::ZERO);
    let config = Config::local(limits());
    assert!(config.validate().is_ok());
    let remote = Config::remote();
    of_money_config(&remote); // fixes the unit, not the holidays
    remote.validate()?;
    let friendly = FriendlyCalendar::new(FriendlyCalendar::hours_from_to(20, 8), 0, &[])?;
    assert!(friendly.holidays().is_empty());
    let logs = Logs::new();
    of_money_logs(&logs); // fixes the unit, not the depth
    let freezes = Freezes::new();
    of_money_freezes(&freezes); // fixes the balance type, not the capacities

    // Metering and the wire.
    let constant = MeterConstant::new(1_000)?;
    let demand = DemandMeter::new(constant, 900)?;
    assert_eq!(demand.max_demand(), None);
    let registers = EnergyRegisters::new();
    assert_eq!(registers.total(Flow::Import), Energy::ZERO);
    let decoder = StreamDecoder::new();
    assert_eq!(decoder.buffered(), 0);
    let reassembler = Reassembler::new(Di(0x0090_0200));
    assert!(!reassembler.is_done());

    // The meter.
    let address = "201000000012".parse()?;
    let master = MasterKey::new(&[0x42; 16], SecurityConfig::DEFAULT.tag_len());
    let keys = KeyRecord::new(1, &master.meter_keys(address, 1));
    let config = MeterConfig::new(address, constant, Config::local(limits()));
    let (meter, started) = Meter::start(config, keys, tariff, Stored::NONE, now)?;
    assert_eq!(started, Started::Fresh);
    assert_eq!(meter.display().balance, Money::ZERO);
    Ok(())
}

#[cfg(feature = "io")]
#[test]
fn io_constructors_need_no_annotations() {
    use prepaid_meter::io::{FrameReader, FrameWriter};
    let mut wire = [0u8; 64];
    let writer = FrameWriter::new(&mut wire[..]);
    assert_eq!(writer.into_inner().len(), 64);
    let reader = FrameReader::new(&[][..]);
    assert_eq!(reader.timeouts(), 0);
}
