//! A DL/T 645-2007 prepaid meter to test head-end software against, served as raw frames over
//! TCP (as serial-to-Ethernet converters and DTUs carry them) and over a serial device; and a
//! small head-end that recharges it with a sealed command.
//!
//! ```text
//! cargo run --features std,io --example virtual-meter -- [options]
//!   --tcp ADDR:PORT      listen for TCP connections (default 127.0.0.1:8645; port 0 picks one)
//!   --serial PATH        also serve a serial device or pty (set it to raw mode first, e.g. make
//!                        a pty pair with `socat -d -d pty,raw,echo=0 pty,raw,echo=0`)
//!   --address DIGITS     meter address, 12 digits (default 000000000001)
//!   --load WATTS         simulated load (default 2000)
//!   --balance YUAN       first purchase at start-up, in yuan (default 100)
//!   --customer DIGITS    customer number the account is opened for (default 000000000001)
//!   --tiers on|off       monthly tiers on top of the TOU prices (default on)
//!   --plaintext on|off   DL/T 645 plaintext compatibility: plain-password writes of prices,
//!                        limits, tables and the clock, and plain relay control (default on;
//!                        off: only sealed commands change them, as on a deployed meter)
//!   --master HEX         master key, 32 hex digits, the meter's keys are derived from
//!                        (default the test key 000102030405060708090A0B0C0D0E0F)
//!
//! cargo run --features std,io --example virtual-meter -- recharge [options]
//!   --tcp ADDR:PORT      the meter (default 127.0.0.1:8645; loopback addresses only)
//!   --master HEX         master key (default the test key)
//!   --address DIGITS     meter address (default 000000000001)
//!   --count N            purchase count: the meter's count + 1 (read it at 03330201)
//!   --amount YUAN        amount, up to 2 decimals (e.g. 50 or 12.34)
//!   --customer DIGITS    customer number (default 000000000001)
//!   --open               open the account (070101FF) instead of recharging (070102FF)
//!   --counter N          command counter (default: the current Unix time, so that successive
//!                        runs increase; a real head-end stores one counter per meter)
//! ```
//!
//! The meter prints `listening on ADDR:PORT` once ready. It rates consumption with a 4-rate TOU
//! tariff (sharp 0.80, peak 0.65, flat 0.5283, valley 0.35 yuan/kWh; see `sim::tariff_plan`)
//! and runs a prepaid account (alarm 1 20.00, alarm 2 10.00, overdraft 50.00, hoarding
//! 10 000.00). Passwords are `000000` at every level. With `--plaintext on` (the default: the
//! example is a test bench for head-end software, much of which speaks only plaintext) plain
//! relay control needs level 04 or better and writes level 02; with `--plaintext off` plain
//! writes of money-affecting parameters and plain relay control are refused (`ERR` 04H,
//! unauthorised). Three wrong passwords in a day lock plain commands out until local midnight.
//! A wildcard address reaches the read functions only. Sealed commands (03H open account, recharge and identity
//! authentication; 1CH at level 98H) are described in `sim.rs`. The security counter state
//! that a real meter stores in non-volatile memory is kept in memory: restarting the example
//! starts a freshly provisioned meter.
//!
//! `recharge` seals the purchase with `security::MasterKey` (counter mode, valid for an hour),
//! sends it in a 03H frame, and prints the meter's answer as JSON: the opened sealed response
//! (`status`, `balance`, `count`) or the refusal (`serr` and its meaning).

mod sim;
#[cfg(test)]
mod tests;

use std::io::Write;
use std::net::{SocketAddr, TcpListener, TcpStream, ToSocketAddrs};
use std::process::ExitCode;
use std::time::{SystemTime, UNIX_EPOCH};

use prepaid_meter::address::Address;
use prepaid_meter::endpoint::dlt645::{Client, ClientError};
use prepaid_meter::io::FrameReader;
use prepaid_meter::purchase::{CustomerNumber, Purchase};
use prepaid_meter::security::{Command, CommandCounter, MasterKey, SecurityConfig};
use prepaid_meter::time::Timestamp;
use prepaid_meter::units::Money;
use prepaid_meter::wire::dlt645::Response;

fn host_now() -> Timestamp {
    let secs = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_secs());
    Timestamp::from_unix(i64::try_from(secs).unwrap_or(i64::MAX))
}

fn parse_hex16(s: &str) -> Option<[u8; 16]> {
    if s.len() != 32 {
        return None;
    }
    let mut out = [0u8; 16];
    for (i, b) in out.iter_mut().enumerate() {
        *b = u8::from_str_radix(s.get(2 * i..2 * i + 2)?, 16).ok()?;
    }
    Some(out)
}

/// Yuan with up to two decimals ("50", "12.3", "12.34"), without floats.
fn parse_yuan(s: &str) -> Option<Money> {
    let (whole, frac) = s.split_once('.').unwrap_or((s, ""));
    if frac.len() > 2 || !frac.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let whole: i64 = whole.parse().ok()?;
    let frac: i64 = if frac.is_empty() {
        0
    } else {
        format!("{frac:0<2}").parse().ok()?
    };
    Money::from_cents(whole.checked_mul(100)?.checked_add(frac)?)
}

/// 12 digits to the 6 wire-order bytes DL/T 645 uses for addresses and customer numbers.
fn parse_digits(s: &str) -> Option<[u8; 6]> {
    s.parse::<Address>().ok().map(Address::to_wire)
}

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    match args.split_first() {
        Some((cmd, rest)) if cmd == "recharge" => match recharge(rest) {
            Ok(code) => code,
            Err(e) => {
                eprintln!("{e}");
                ExitCode::from(2)
            }
        },
        _ => serve(&args),
    }
}

fn serve(args: &[String]) -> ExitCode {
    let mut config = sim::Config::default();
    let mut tcp = String::from("127.0.0.1:8645");
    let mut serial = None;
    let mut args = args.iter();
    while let Some(flag) = args.next() {
        let Some(value) = args.next() else {
            eprintln!("{flag} needs a value");
            return ExitCode::from(2);
        };
        let ok = match flag.as_str() {
            "--tcp" => {
                tcp.clone_from(value);
                true
            }
            "--serial" => {
                serial = Some(value.clone());
                true
            }
            "--address" => value.parse().map(|a| config.address = a).is_ok(),
            "--load" => value.parse().map(|w| config.load_watts = w).is_ok(),
            "--balance" => parse_yuan(value).map(|m| config.balance = m).is_some(),
            "--customer" => parse_digits(value).map(|c| config.customer = c).is_some(),
            "--tiers" => match value.as_str() {
                "on" | "off" => {
                    config.tiers = value == "on";
                    true
                }
                _ => false,
            },
            "--plaintext" => match value.as_str() {
                "on" | "off" => {
                    config.plaintext = value == "on";
                    true
                }
                _ => false,
            },
            "--master" => parse_hex16(value).map(|k| config.master = k).is_some(),
            _ => false,
        };
        if !ok {
            eprintln!("bad option {flag} {value}");
            return ExitCode::from(2);
        }
    }
    let meter = match sim::shared(&config, host_now()) {
        Ok(m) => m,
        Err(e) => {
            eprintln!("cannot start the meter: {e}");
            return ExitCode::from(2);
        }
    };
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
        "meter {} with a {} W load, plaintext compatibility {}",
        config.address,
        config.load_watts,
        if config.plaintext { "on" } else { "off" }
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

/// The `recharge` subcommand: a one-shot head-end.
fn recharge(args: &[String]) -> Result<ExitCode, String> {
    let mut tcp = String::from("127.0.0.1:8645");
    let mut master = sim::TEST_MASTER;
    let mut address = Address::from_number(1).map_err(|e| e.to_string())?;
    let mut count = None;
    let mut amount = None;
    let mut customer = [0x01, 0, 0, 0, 0, 0];
    let mut open = false;
    let mut counter = u32::try_from(host_now().unix()).map_err(|e| e.to_string())?;
    let mut args = args.iter();
    while let Some(flag) = args.next() {
        if flag == "--open" {
            open = true;
            continue;
        }
        let value = args.next().ok_or(format!("{flag} needs a value"))?;
        let bad = || format!("bad option {flag} {value}");
        match flag.as_str() {
            "--tcp" => tcp.clone_from(value),
            "--master" => master = parse_hex16(value).ok_or_else(bad)?,
            "--address" => address = value.parse().map_err(|_| bad())?,
            "--count" => count = Some(value.parse::<u32>().map_err(|_| bad())?),
            "--amount" => amount = Some(parse_yuan(value).ok_or_else(bad)?),
            "--customer" => customer = parse_digits(value).ok_or_else(bad)?,
            "--counter" => counter = value.parse().map_err(|_| bad())?,
            _ => return Err(bad()),
        }
    }
    let purchase = Purchase {
        amount: amount.ok_or("--amount is required")?,
        count: count.ok_or("--count is required")?,
        customer: CustomerNumber::new(customer),
    };
    let (command, di) = if open {
        (Command::OpenAccount(purchase), sim::OPEN_ACCOUNT)
    } else {
        (Command::Recharge(purchase), sim::RECHARGE)
    };
    let peer: SocketAddr = tcp
        .to_socket_addrs()
        .map_err(|e| format!("{tcp}: {e}"))?
        .next()
        .ok_or(format!("{tcp}: no address"))?;
    if !peer.ip().is_loopback() {
        return Err(format!(
            "{peer}: the head-end mode is a test tool and talks to loopback addresses only"
        ));
    }

    // Seal: counter mode, valid for an hour.
    let head_end = MasterKey::new(&master, SecurityConfig::DEFAULT.tag_len());
    let meter = head_end.meter(address, sim::KEY_VERSION);
    let mut counter = CommandCounter {
        key_version: sim::KEY_VERSION,
        last: counter.saturating_sub(1),
    };
    let valid_until = host_now()
        .checked_add_secs(3_600)
        .ok_or("clock out of range")?;
    let mut sealed = [0u8; 128];
    let sent = meter
        .seal(&mut counter, &command, valid_until, &mut sealed)
        .map_err(|e| e.to_string())?;

    // Wrap in 03H, send, read the answer.
    let client = Client::new(address);
    let mut request = [0u8; 256];
    let n = client
        .security(di, &sealed[..sent.len], &mut request)
        .map_err(|e| e.to_string())?;
    let mut stream = TcpStream::connect(peer).map_err(|e| format!("{peer}: {e}"))?;
    stream
        .set_read_timeout(Some(std::time::Duration::from_secs(5)))
        .map_err(|e| e.to_string())?;
    stream.write_all(&request[..n]).map_err(|e| e.to_string())?;
    let mut reader: FrameReader<sim::StdIo<TcpStream>> = FrameReader::new(sim::StdIo(stream));
    let frame = reader.read_frame().map_err(|e| e.to_string())?;
    let answer = frame.as_bytes().to_vec();
    match client.parse_answer(&answer) {
        Ok(Response::Security { data, .. }) => {
            let mut bytes = [0u8; 255];
            let len = data.len();
            data.copy_to(&mut bytes).ok_or("answer too long")?;
            let response = meter
                .open_response(&mut bytes[..len], &sent)
                .map_err(|e| format!("the sealed answer does not open: {e}"))?;
            let d = response.data;
            let (balance, count) = match (d.get(..8), d.get(8..12)) {
                (Some(b), Some(c)) if d.len() == sim::PURCHASE_ANSWER_LEN => (
                    i64::from_be_bytes(b.try_into().map_err(|_| "bad answer")?),
                    u32::from_be_bytes(c.try_into().map_err(|_| "bad answer")?),
                ),
                _ => return Err("unexpected answer data".into()),
            };
            println!(
                "{{\"counter\": {}, \"status\": \"{:04X}\", \"balance\": \"{}\", \"count\": {}}}",
                sent.header.counter,
                response.status.0,
                Money::from_minor(balance),
                count
            );
            Ok(ExitCode::SUCCESS)
        }
        Err(ClientError::SecurityRefused(word)) => {
            println!(
                "{{\"counter\": {}, \"serr\": \"{:04X}\", \"error\": \"{}\"}}",
                sent.header.counter, word.0, word
            );
            Ok(ExitCode::FAILURE)
        }
        Ok(_) => Err("unexpected answer".into()),
        Err(e) => Err(e.to_string()),
    }
}
