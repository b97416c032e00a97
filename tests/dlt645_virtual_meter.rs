//! The `virtual-meter` example's meter, served over a real TCP connection on 127.0.0.1:
//! balance, simulated load debiting the account exactly, recharge, relay trip.
#![cfg(all(feature = "std", feature = "io"))]
#![allow(
    clippy::unwrap_used,
    clippy::unwrap_in_result,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)] // test helpers outside #[test] functions

#[path = "../examples/virtual-meter/sim.rs"]
mod sim;

use std::net::{TcpListener, TcpStream};
use std::sync::Arc;
use std::sync::atomic::{AtomicI64, Ordering};

use prepaid_meter::address::Address;
use prepaid_meter::dlt645::Client;
use prepaid_meter::dlt645::client::{self, ClientError};
use prepaid_meter::io::FrameReader;
use prepaid_meter::time::{Date, DateTime, Time, Timestamp, UtcOffset};
use prepaid_meter::units::{Energy, Money};
use prepaid_meter::wire::dlt645::{Di, Password, RelayCommand, Response, SecurityErrorWord};

struct Link {
    client: Client,
    stream: TcpStream,
    reader: FrameReader<sim::StdIo<TcpStream>>,
    answer: Vec<u8>,
}

impl Link {
    fn ask(
        &mut self,
        build: impl FnOnce(&Client, &mut [u8]) -> Result<usize, ClientError>,
    ) -> Result<Response<'_>, ClientError> {
        use std::io::Write;
        let mut req = [0u8; 64];
        let n = build(&self.client, &mut req).unwrap();
        self.stream.write_all(&req[..n]).unwrap();
        let frame = self.reader.read_frame().unwrap();
        self.answer = frame.as_bytes().to_vec();
        self.client.parse_answer(&self.answer)
    }

    fn money(&mut self, di: Di) -> Money {
        let r = self.ask(|c, b| c.read(di, b)).unwrap();
        client::money(&r, di).unwrap()
    }

    fn energy(&mut self, di: Di) -> Energy {
        let r = self.ask(|c, b| c.read(di, b)).unwrap();
        client::energy(&r, di).unwrap()
    }
}

const BALANCE: Di = Di(0x0090_0200);
const FORWARD: Di = Di(0x0001_0000);

#[test]
fn serves_a_prepaid_meter_over_tcp() {
    let address: Address = "000000000123".parse().unwrap();
    let config = sim::Config {
        address,
        ..sim::Config::default()
    };
    let meter = sim::shared(&config);
    // 2024-03-01 02:00 at UTC+8: the valley tariff (0.35 yuan/kWh).
    let start = DateTime::new(Date::new(2024, 3, 1).unwrap(), Time::new(2, 0, 0).unwrap())
        .to_timestamp(UtcOffset::CHINA);
    let clock = Arc::new(AtomicI64::new(start.unix()));

    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    let served = meter.clone();
    let server_clock = clock.clone();
    let server = std::thread::spawn(move || {
        let (stream, _) = listener.accept().unwrap();
        let input = stream.try_clone().unwrap();
        sim::serve(&served, input, stream, move || {
            Timestamp::from_unix(server_clock.load(Ordering::SeqCst))
        })
    });

    let stream = TcpStream::connect(("127.0.0.1", port)).unwrap();
    let mut link = Link {
        client: Client::new(address),
        reader: FrameReader::new(sim::StdIo(stream.try_clone().unwrap())),
        stream,
        answer: Vec::new(),
    };

    assert_eq!(link.money(BALANCE), Money::from_units(100).unwrap());
    assert_eq!(link.energy(FORWARD), Energy::ZERO);

    // One hour at 2 kW: 3200 pulses at 1600 imp/kWh, 2.00 kWh, 0.70 yuan at 0.35.
    clock.fetch_add(3_600, Ordering::SeqCst);
    assert_eq!(link.energy(FORWARD), Energy::from_kwh(2));
    assert_eq!(
        link.energy(Di(0x0001_0400)),
        Energy::from_kwh(2),
        "valley tariff register"
    );
    assert_eq!(link.money(BALANCE), Money::from_cents(9_930).unwrap());

    // Recharge 50.00 yuan, purchase count 2, customer 000000000001.
    let mut payload = [0u8; 22];
    payload[..4].copy_from_slice(&5_000u32.to_le_bytes());
    payload[4..8].copy_from_slice(&2u32.to_le_bytes());
    payload[12] = 0x01;
    link.ask(|c, b| c.security(Di(0x0701_02FF), &payload, b))
        .unwrap();
    assert_eq!(link.money(BALANCE), Money::from_cents(14_930).unwrap());
    assert_eq!(
        link.ask(|c, b| c.security(Di(0x0701_02FF), &payload, b))
            .unwrap_err(),
        ClientError::SecurityRefused(SecurityErrorWord::REPEATED_RECHARGE)
    );
    let r = link.ask(|c, b| c.read(Di(0x0333_0201), b)).unwrap();
    let mut scratch = [0u8; 255];
    assert_eq!(
        client::value(&r, Di(0x0333_0201), &mut scratch)
            .unwrap()
            .to_string(),
        "2"
    );

    // Trip (level 04, valid for five more minutes of meter time): no more consumption.
    let meter_now = Timestamp::from_unix(clock.load(Ordering::SeqCst));
    let until =
        DateTime::from_timestamp(meter_now.checked_add_secs(300).unwrap(), UtcOffset::CHINA)
            .unwrap();
    link.client = link.client.with_password(Password {
        level: 4,
        code: [0; 3],
    });
    link.ask(|c, b| c.relay(RelayCommand::Trip, until, b))
        .unwrap();
    clock.fetch_add(3_600, Ordering::SeqCst);
    assert_eq!(link.energy(FORWARD), Energy::from_kwh(2));
    assert_eq!(link.money(BALANCE), Money::from_cents(14_930).unwrap());
    let r = link.ask(|c, b| c.read(Di(0x1D00_0001), b)).unwrap();
    assert_eq!(
        client::value(&r, Di(0x1D00_0001), &mut scratch)
            .unwrap()
            .to_string(),
        "1"
    );
    // An expired relay command is refused.
    assert!(
        link.ask(|c, b| c.relay(RelayCommand::DirectClose, until, b))
            .is_err()
    );
    assert!(!meter.lock().unwrap().meter().relay_closed());

    drop(link);
    server.join().unwrap().unwrap();
}
