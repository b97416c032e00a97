//! The meter-side server on arbitrary frames never panics: it answers with a valid response
//! from its own address (or the new one after 15H), or stays silent; broadcasts stay silent.
//! Without plaintext compatibility no frame changes a money limit, a tariff table or the relay
//! (the test meter has no security layer, so nothing is sealed); a frame to the wildcard
//! changes nothing at all.
#![no_main]

use arbitrary::Arbitrary;
use libfuzzer_sys::fuzz_target;
use prepaid_meter::address::Address;
use prepaid_meter::endpoint::dlt645::{
    MeterData, PlaintextPolicy, Refusal, Server, ServerConfig, TableEntry,
};
use prepaid_meter::time::{DateTime, Timestamp};
use prepaid_meter::units::{Energy, Money, Price};
use prepaid_meter::wire::dlt645::registry::{EnergyKind, Limit};
use prepaid_meter::wire::dlt645::{
    Control, Data, Frame, FrameRepr, FreezeTime, OperatorCode, RelayCommand, Response,
    skip_preamble,
};

struct Meter {
    address: Address,
    limits: [Money; 5],
    seasons: Vec<TableEntry>,
    relayed: u32,
}

impl MeterData for Meter {
    fn address(&self) -> Address {
        self.address
    }
    fn set_address(&mut self, a: Address) -> Result<(), Refusal> {
        self.address = a;
        Ok(())
    }
    fn energy(&self, _: EnergyKind, tariff: u8, period: u8) -> Option<Energy> {
        (tariff <= 4 && period <= 12)
            .then(|| Energy::from_wh(i64::from(tariff) * 1_000 + i64::from(period)))
    }
    fn balance(&self) -> Option<Money> {
        Money::from_cents(19_856)
    }
    fn limit(&self, l: Limit) -> Option<Money> {
        Some(self.limits[l as usize])
    }
    fn set_limit(&mut self, l: Limit, v: Money) -> Result<(), Refusal> {
        self.limits[l as usize] = v;
        Ok(())
    }
    fn price(&self, set: u8, index: u8) -> Option<Price> {
        (set <= 2 && index <= 4).then(|| Price::from_minor_per_kwh(u32::from(index) * 1_000))
    }
    fn season(&self, _: u8, index: u8) -> Option<TableEntry> {
        self.seasons.get(usize::from(index)).copied()
    }
    fn set_seasons(&mut self, _: u8, entries: &[TableEntry]) -> Result<(), Refusal> {
        self.seasons = entries.to_vec();
        Ok(())
    }
    fn set_clock(&mut self, _: DateTime) -> Result<(), Refusal> {
        Ok(())
    }
    fn freeze(&mut self, _: FreezeTime) -> Result<(), Refusal> {
        Ok(())
    }
    fn relay(
        &mut self,
        _: RelayCommand,
        _: u8,
        _: OperatorCode,
        _: Timestamp,
    ) -> Result<(), Refusal> {
        self.relayed += 1;
        Ok(())
    }
}

#[derive(Arbitrary, Debug)]
struct Input {
    target: u8,
    control: u8,
    data: Vec<u8>,
    now: u32,
    raw: bool,
}

fuzz_target!(|i: Input| {
    let me = Address::from_number(201_000_000_012).unwrap();
    let meter = Meter {
        address: me,
        limits: [Money::ZERO; 5],
        seasons: vec![(1, 1, 1)],
        relayed: 0,
    };
    let plaintext = if i.target & 0x80 != 0 {
        PlaintextPolicy::ALL
    } else {
        PlaintextPolicy::NONE
    };
    let config = ServerConfig {
        plaintext,
        ..ServerConfig::default()
    };
    let mut server = Server::new(meter, config).unwrap();
    let to = match i.target % 4 {
        0 => me,
        1 => Address::WILDCARD,
        2 => Address::BROADCAST,
        _ => Address::from_number(u64::from(i.target)).unwrap(),
    };
    let mut req = [0u8; 300];
    let request: &[u8] = if i.raw {
        &i.data
    } else {
        let data = &i.data[..i.data.len().min(255)];
        let repr = FrameRepr {
            address: to,
            control: Control::from_byte(i.control),
            data: Data::plain(data),
        };
        let n = repr.emit(&mut req, 0).unwrap();
        &req[..n]
    };
    let mut out = [0u8; 300];
    let now = Timestamp::from_unix(1_600_000_000 + i64::from(i.now));
    let answer = server.handle(request, now, &mut out);
    let m = server.meter();
    let protected_unchanged = m.limits == [Money::ZERO; 5] && m.seasons == [(1, 1, 1)];
    if plaintext == PlaintextPolicy::NONE {
        assert!(
            protected_unchanged,
            "a protected parameter changed in plaintext"
        );
        assert_eq!(m.relayed, 0, "plain relay control executed");
    }
    if !i.raw && to == Address::WILDCARD {
        assert!(
            protected_unchanged && m.relayed == 0 && m.address == me,
            "a wildcard frame changed the meter"
        );
    }
    if let Some(n) = answer {
        let frame = Frame::new_checked(skip_preamble(&out[..n])).expect("answers are frames");
        let repr = FrameRepr::parse(&frame).expect("answers parse");
        assert!(repr.control.is_response());
        assert!(Response::parse(&repr).is_ok());
        assert!(repr.address == server.meter().address || repr.address == me);
        if !i.raw {
            assert!(!to.is_broadcast(), "a broadcast was answered");
        }
    }
});
