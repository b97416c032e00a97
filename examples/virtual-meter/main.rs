//! A DL/T 645-2007 meter to test head-end software against, served as raw frames over TCP
//! (as serial-to-Ethernet converters and DTUs carry them) and over a serial device.
//!
//! ```text
//! cargo run --features std,io --example virtual-meter -- [options]
//!   --tcp ADDR:PORT      listen for TCP connections (default 127.0.0.1:8645; port 0 picks one)
//!   --serial PATH        also serve a serial device or pty (set it to raw mode first, e.g. make
//!                        a pty pair with `socat -d -d pty,raw,echo=0 pty,raw,echo=0`)
//!   --address DIGITS     meter address, 12 digits (default 000000000001)
//!   --load WATTS         simulated load (default 2000)
//!   --balance YUAN       starting balance in whole yuan (default 100)
//! ```
//!
//! It prints `listening on ADDR:PORT` once ready. Passwords are `000000` at every level; relay
//! control needs level 04 or better, writes level 02. Recharge with 03H 070102FF (22-byte
//! payload: amount in fen, purchase count, MAC1, customer number 000000000001, MAC2; binary, low
//! byte first; the MACs are not checked by the simulation).

mod sim;

use std::net::TcpListener;
use std::process::ExitCode;
use std::time::{SystemTime, UNIX_EPOCH};

use prepaid_meter::time::Timestamp;
use prepaid_meter::units::Money;

fn host_now() -> Timestamp {
    let secs = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_secs());
    Timestamp::from_unix(i64::try_from(secs).unwrap_or(i64::MAX))
}

fn main() -> ExitCode {
    let mut config = sim::Config::default();
    let mut tcp = String::from("127.0.0.1:8645");
    let mut serial = None;
    let mut args = std::env::args().skip(1);
    while let Some(flag) = args.next() {
        let Some(value) = args.next() else {
            eprintln!("{flag} needs a value");
            return ExitCode::from(2);
        };
        let ok = match flag.as_str() {
            "--tcp" => {
                tcp.clone_from(&value);
                true
            }
            "--serial" => {
                serial = Some(value.clone());
                true
            }
            "--address" => value.parse().map(|a| config.address = a).is_ok(),
            "--load" => value.parse().map(|w| config.load_watts = w).is_ok(),
            "--balance" => value
                .parse::<i64>()
                .ok()
                .and_then(Money::from_units)
                .map(|m| config.balance = m)
                .is_some(),
            _ => false,
        };
        if !ok {
            eprintln!("bad option {flag} {value}");
            return ExitCode::from(2);
        }
    }
    let meter = sim::shared(&config);
    let listener = match TcpListener::bind(&tcp) {
        Ok(l) => l,
        Err(e) => {
            eprintln!("cannot listen on {tcp}: {e}");
            return ExitCode::FAILURE;
        }
    };
    match listener.local_addr() {
        Ok(a) => println!("listening on {a}"),
        Err(e) => eprintln!("{e}"),
    }
    println!(
        "meter {} with a {} W load",
        config.address, config.load_watts
    );
    if let Some(path) = serial {
        let meter = meter.clone();
        std::thread::spawn(move || {
            let device = std::fs::OpenOptions::new()
                .read(true)
                .write(true)
                .open(&path);
            match device.and_then(|d| Ok((d.try_clone()?, d))) {
                Ok((input, output)) => {
                    if let Err(e) = sim::serve(&meter, input, output, host_now) {
                        eprintln!("serial {path}: {e}");
                    }
                }
                Err(e) => eprintln!("cannot open {path}: {e}"),
            }
        });
    }
    for stream in listener.incoming() {
        let Ok(stream) = stream else { continue };
        let meter = meter.clone();
        std::thread::spawn(move || {
            let peer = stream
                .peer_addr()
                .map(|a| a.to_string())
                .unwrap_or_default();
            match stream.try_clone() {
                Ok(input) => {
                    if let Err(e) = sim::serve(&meter, input, stream, host_now) {
                        eprintln!("{peer}: {e}");
                    }
                }
                Err(e) => eprintln!("{peer}: {e}"),
            }
        });
    }
    ExitCode::SUCCESS
}
