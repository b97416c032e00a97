//! A DL/T 645-2007 prepaid meter to test head-end software against, served as raw frames over
//! TCP (as serial-to-Ethernet converters and DTUs carry them) and over a serial device; and a
//! small head-end that recharges it with a sealed command.
//!
//! ```text
//! cargo run --features std,io,storage --example virtual-meter -- [options]
//!   --tcp ADDR:PORT      listen for TCP connections (default 127.0.0.1:8645; port 0 picks one)
//!   --serial PATH        also serve a serial device or pty (opened at --baud, 8E1; e.g. make
//!                        a pty pair with `socat -d -d pty,raw,echo=0 pty,raw,echo=0`)
//!   --baud RATE          serial baud rate (default 2400, the DL/T 645 default)
//!   -v, --verbose        log one line per request (address, function, identifier, outcome);
//!                        RUST_LOG works too
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
//! cargo run --features std,io,storage --example virtual-meter -- recharge [options]
//!   --tcp ADDR:PORT      the meter (default 127.0.0.1:8645; loopback addresses only)
//!   --master HEX         master key (default the test key)
//!   --address DIGITS     meter address (default 000000000001)
//!   --count N            purchase count (default: the meter's count, read at 03330201, + 1)
//!   --amount YUAN        amount, up to 2 decimals (e.g. 50 or 12.34)
//!   --customer DIGITS    customer number (default 000000000001)
//!   --open               open the account (070101FF) instead of recharging (070102FF)
//!   --counter N          command counter (default: the current Unix time, so that successive
//!                        runs increase, and one more while the meter refuses it as repeated;
//!                        a real head-end stores one counter per meter)
//! ```
//!
//! `--help` shows the same; an option it does not know is an error (exit status 2).
//!
//! The meter prints `listening on ADDR:PORT` once ready. It rates consumption with a 4-rate TOU
//! tariff (sharp 0.80, peak 0.65, flat 0.5283, valley 0.35 yuan/kWh; see `node::tariff_plan`)
//! and runs a prepaid account (alarm 1 20.00, alarm 2 10.00, overdraft 50.00, hoarding
//! 10 000.00). Passwords are `000000` at every level. With `--plaintext on` (the default: the
//! example is a test bench for head-end software, much of which speaks only plaintext) plain
//! relay control needs level 04 or better and writes level 02; with `--plaintext off` plain
//! writes of money-affecting parameters and plain relay control are refused (`ERR` 04H,
//! unauthorised). Three wrong passwords in a day lock plain commands out until local midnight.
//! A wildcard address reaches the read functions only.
//!
//! The meter is the crate's `meter::Meter` (see `node.rs` for what the example adds: the load,
//! the customer, the random source, the store). Sealed commands are its: 03H identity
//! authentication, open account, recharge, key update and status query (the identifiers and
//! answers are in `prepaid_meter::meter`'s docs), 1CH relay control and 14H parameter writes at
//! password level 98H. At start-up the example commissions the meter as a head-end would: an
//! identity authentication and a sealed open account (purchase 1, `--balance`), then a power
//! cycle. The meter's state is kept on simulated NOR flash in memory, committed before each
//! answer it affects: restarting the example starts a freshly provisioned meter.
//!
//! `recharge` seals the purchase with `security::MasterKey` (counter mode, valid for an hour),
//! sends it in a 03H frame, and prints the meter's answer as JSON: the opened sealed response
//! (`status`, `balance`, `count`) or the refusal (`serr` and its meaning).

mod node;
#[cfg(test)]
mod tests;

use std::io::Write;
use std::net::{SocketAddr, TcpListener, TcpStream, ToSocketAddrs};
use std::process::ExitCode;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use clap::{Args, Parser, Subcommand, ValueEnum};
use embedded_io_adapters::std::FromStd;

use prepaid_meter::address::Address;
use prepaid_meter::endpoint::dlt645::{Client, ClientError};
use prepaid_meter::io::FrameReader;
use prepaid_meter::meter::{OPEN_ACCOUNT, PURCHASE_ANSWER_LEN, RECHARGE};
use prepaid_meter::purchase::{CustomerNumber, Purchase};
use prepaid_meter::security::{Command, CommandCounter, MasterKey, SecurityConfig};
use prepaid_meter::time::Timestamp;
use prepaid_meter::units::Money;
use prepaid_meter::wire::dlt645::registry::Value;
use prepaid_meter::wire::dlt645::{Di, Response, SecurityErrorWord};

/// A simulated DL/T 645-2007 prepaid meter served over TCP and serial lines, for testing
/// head-end software; `recharge` sells it credit with a sealed command.
#[derive(Parser, Debug)]
#[command(
    name = "virtual-meter",
    version,
    args_conflicts_with_subcommands = true
)]
struct Cli {
    #[command(flatten)]
    serve: ServeArgs,
    #[command(subcommand)]
    command: Option<Cmd>,
    /// Log one line per request (address, function, identifier, outcome); twice for more.
    #[arg(short, long, action = clap::ArgAction::Count, global = true)]
    verbose: u8,
}

#[derive(Subcommand, Debug)]
enum Cmd {
    /// A one-shot head-end: seal a recharge (or account opening), send it, print the answer
    /// as JSON.
    Recharge(RechargeArgs),
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
enum OnOff {
    On,
    Off,
}

#[derive(Args, Debug)]
struct ServeArgs {
    /// Listen for TCP connections here (port 0 picks one).
    #[arg(long, value_name = "ADDR:PORT", default_value = "127.0.0.1:8645")]
    tcp: String,
    /// Also serve a serial device or pty.
    #[arg(long, value_name = "PATH")]
    serial: Option<String>,
    /// Serial baud rate (8 data bits, even parity, 1 stop bit).
    #[arg(long, value_name = "RATE", default_value_t = 2400)]
    baud: u32,
    /// Meter address, 12 digits.
    #[arg(long, value_name = "DIGITS", default_value = "000000000001")]
    address: Address,
    /// Simulated load in watts.
    #[arg(long, value_name = "WATTS", default_value_t = 2000)]
    load: u32,
    /// First purchase at start-up, in yuan (up to 2 decimals).
    #[arg(long, value_name = "YUAN", default_value = "100", value_parser = parse_yuan)]
    balance: Money,
    /// Customer number the account is opened for, 12 digits.
    #[arg(long, value_name = "DIGITS", default_value = "000000000001", value_parser = parse_digits)]
    customer: [u8; 6],
    /// Monthly tiers on top of the TOU prices.
    #[arg(long, default_value = "on")]
    tiers: OnOff,
    /// DL/T 645 plaintext compatibility: plain-password writes of prices, limits, tables and
    /// the clock, and plain relay control (off: only sealed commands change them).
    #[arg(long, default_value = "on")]
    plaintext: OnOff,
    /// Master key the meter's keys are derived from, 32 hex digits (default: the test key
    /// 000102030405060708090A0B0C0D0E0F).
    #[arg(long, value_name = "HEX", value_parser = parse_hex16)]
    master: Option<[u8; 16]>,
}

#[derive(Args, Debug)]
struct RechargeArgs {
    /// The meter (loopback addresses only).
    #[arg(long, value_name = "ADDR:PORT", default_value = "127.0.0.1:8645")]
    tcp: String,
    /// Master key, 32 hex digits (default: the test key).
    #[arg(long, value_name = "HEX", value_parser = parse_hex16)]
    master: Option<[u8; 16]>,
    /// Meter address, 12 digits.
    #[arg(long, value_name = "DIGITS", default_value = "000000000001")]
    address: Address,
    /// Purchase count (default: the meter's count, read at 03330201, + 1).
    #[arg(long, value_name = "N")]
    count: Option<u32>,
    /// Amount in yuan, up to 2 decimals (e.g. 50 or 12.34).
    #[arg(long, value_name = "YUAN", value_parser = parse_yuan)]
    amount: Money,
    /// Customer number, 12 digits.
    #[arg(long, value_name = "DIGITS", default_value = "000000000001", value_parser = parse_digits)]
    customer: [u8; 6],
    /// Open the account (070101FF) instead of recharging (070102FF).
    #[arg(long)]
    open: bool,
    /// Command counter (default: the current Unix time, and one more while the meter refuses
    /// it as repeated).
    #[arg(long, value_name = "N")]
    counter: Option<u32>,
}

fn host_now() -> Timestamp {
    let secs = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_secs());
    Timestamp::from_unix(i64::try_from(secs).unwrap_or(i64::MAX))
}

fn parse_hex16(s: &str) -> Result<[u8; 16], String> {
    let bad = || "a key is 32 hex digits".to_string();
    if s.len() != 32 {
        return Err(bad());
    }
    let mut out = [0u8; 16];
    for (i, b) in out.iter_mut().enumerate() {
        *b = s
            .get(2 * i..2 * i + 2)
            .and_then(|p| u8::from_str_radix(p, 16).ok())
            .ok_or_else(bad)?;
    }
    Ok(out)
}

/// Yuan with up to two decimals ("50", "12.3", "12.34"), without floats.
fn parse_yuan(s: &str) -> Result<Money, String> {
    let bad = || format!("{s}: yuan with up to 2 decimals, e.g. 50 or 12.34");
    let (whole, frac) = s.split_once('.').unwrap_or((s, ""));
    if frac.len() > 2 || !frac.bytes().all(|b| b.is_ascii_digit()) {
        return Err(bad());
    }
    let whole: i64 = whole.parse().map_err(|_| bad())?;
    let frac: i64 = if frac.is_empty() {
        0
    } else {
        format!("{frac:0<2}").parse().map_err(|_| bad())?
    };
    whole
        .checked_mul(100)
        .and_then(|c| c.checked_add(frac))
        .and_then(Money::from_cents)
        .ok_or_else(bad)
}

/// 12 digits to the 6 wire-order bytes DL/T 645 uses for addresses and customer numbers.
fn parse_digits(s: &str) -> Result<[u8; 6], String> {
    s.parse::<Address>()
        .map(Address::to_wire)
        .map_err(|e| e.to_string())
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let level = match cli.verbose {
        0 => log::LevelFilter::Warn,
        1 => log::LevelFilter::Info,
        _ => log::LevelFilter::Debug,
    };
    env_logger::Builder::new()
        .filter_level(level)
        .parse_default_env()
        .init();
    match cli.command {
        Some(Cmd::Recharge(args)) => match recharge(&args) {
            Ok(code) => code,
            Err(e) => {
                eprintln!("{e}");
                ExitCode::from(2)
            }
        },
        None => serve(&cli.serve),
    }
}

fn serve(args: &ServeArgs) -> ExitCode {
    let config = node::Config {
        address: args.address,
        load_watts: args.load,
        balance: args.balance,
        customer: args.customer,
        tiers: args.tiers == OnOff::On,
        plaintext: args.plaintext == OnOff::On,
        master: args.master.unwrap_or(node::TEST_MASTER),
        ..node::Config::default()
    };
    let meter = match node::shared(&config, host_now()) {
        Ok(m) => m,
        Err(e) => {
            eprintln!("cannot start the meter: {e}");
            return ExitCode::from(2);
        }
    };
    let listener = match TcpListener::bind(&args.tcp) {
        Ok(l) => l,
        Err(e) => {
            eprintln!("cannot listen on {}: {e}", args.tcp);
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
    if let Some(path) = args.serial.clone() {
        let meter = meter.clone();
        let baud = args.baud;
        std::thread::spawn(move || {
            // A long read timeout: the line is idle between requests.
            let port = serialport::new(&path, baud)
                .data_bits(serialport::DataBits::Eight)
                .parity(serialport::Parity::Even)
                .stop_bits(serialport::StopBits::One)
                .timeout(Duration::from_secs(3_600))
                .open();
            let port = match port {
                Ok(p) => p,
                Err(e) => {
                    eprintln!("cannot open {path}: {e}");
                    return;
                }
            };
            loop {
                let pair = port
                    .try_clone()
                    .and_then(|input| Ok((input, port.try_clone()?)));
                let (input, output) = match pair {
                    Ok(p) => p,
                    Err(e) => {
                        eprintln!("serial {path}: {e}");
                        return;
                    }
                };
                match node::serve(&meter, input, output, host_now) {
                    Err(e) if e.kind() == std::io::ErrorKind::TimedOut => continue,
                    Err(e) => {
                        eprintln!("serial {path}: {e}");
                        return;
                    }
                    Ok(()) => return,
                }
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
            log::debug!("{peer}: connected");
            match stream.try_clone() {
                Ok(input) => {
                    if let Err(e) = node::serve(&meter, input, stream, host_now) {
                        eprintln!("{peer}: {e}");
                    }
                }
                Err(e) => eprintln!("{peer}: {e}"),
            }
            log::debug!("{peer}: closed");
        });
    }
    ExitCode::SUCCESS
}

/// How many more counters `recharge` tries, without `--counter`, while the meter answers that
/// the command is repeated (an earlier run in the same second used the counter).
const COUNTER_RETRIES: u32 = 16;

/// The `recharge` subcommand: a one-shot head-end.
fn recharge(args: &RechargeArgs) -> Result<ExitCode, String> {
    let peer: SocketAddr = args
        .tcp
        .to_socket_addrs()
        .map_err(|e| format!("{}: {e}", args.tcp))?
        .next()
        .ok_or(format!("{}: no address", args.tcp))?;
    if !peer.ip().is_loopback() {
        return Err(format!(
            "{peer}: the head-end mode is a test tool and talks to loopback addresses only"
        ));
    }
    let mut link = Link::connect(peer, args.address)?;
    let count = match args.count {
        Some(n) => n,
        None => link.purchase_count()?.saturating_add(1),
    };
    let purchase = Purchase {
        amount: args.amount,
        count,
        customer: CustomerNumber::new(args.customer),
    };
    let (mut counter, retries) = match args.counter {
        Some(c) => (c, 0),
        None => (
            u32::try_from(host_now().unix()).map_err(|e| e.to_string())?,
            COUNTER_RETRIES,
        ),
    };
    let mut tries = 0;
    loop {
        match link.purchase(args, purchase, counter)? {
            Outcome::Refused(word)
                if word.contains(SecurityErrorWord::REPEATED_RECHARGE) && tries < retries =>
            {
                log::info!("counter {counter} refused as repeated, trying the next one");
                tries += 1;
                counter = counter.saturating_add(1);
            }
            Outcome::Refused(word) => {
                println!(
                    "{{\"counter\": {counter}, \"serr\": \"{:04X}\", \"error\": \"{word}\"}}",
                    word.0
                );
                return Ok(ExitCode::FAILURE);
            }
            Outcome::Done(line) => {
                println!("{line}");
                return Ok(ExitCode::SUCCESS);
            }
        }
    }
}

/// What the meter made of a sealed purchase.
enum Outcome {
    /// The JSON line of the opened answer.
    Done(String),
    /// The `SERR` word of a refusal.
    Refused(SecurityErrorWord),
}

/// A DL/T 645 connection to the meter.
struct Link {
    client: Client,
    address: Address,
    stream: TcpStream,
    reader: FrameReader<FromStd<TcpStream>>,
}

impl Link {
    fn connect(peer: SocketAddr, address: Address) -> Result<Link, String> {
        let stream = TcpStream::connect(peer).map_err(|e| format!("{peer}: {e}"))?;
        stream
            .set_read_timeout(Some(Duration::from_secs(5)))
            .map_err(|e| e.to_string())?;
        let reader = FrameReader::new(FromStd::new(stream.try_clone().map_err(|e| e.to_string())?));
        Ok(Link {
            client: Client::new(address),
            address,
            stream,
            reader,
        })
    }

    /// Sends a request, returns the answer's bytes.
    fn ask(&mut self, request: &[u8]) -> Result<Vec<u8>, String> {
        self.stream.write_all(request).map_err(|e| e.to_string())?;
        let frame = self.reader.read_frame().map_err(|e| e.to_string())?;
        Ok(frame.as_bytes().to_vec())
    }

    /// The meter's purchase count (03330201; 0 if it has no purchase record).
    fn purchase_count(&mut self) -> Result<u32, String> {
        let di = Di(0x0333_0201);
        let mut request = [0u8; 32];
        let n = self
            .client
            .read(di, &mut request)
            .map_err(|e| e.to_string())?;
        let answer = self.ask(&request[..n])?;
        let response = match self.client.parse_answer(&answer) {
            Ok(r) => r,
            Err(ClientError::Refused(_)) => return Ok(0),
            Err(e) => return Err(format!("reading the purchase count: {e}")),
        };
        let mut scratch = [0u8; 255];
        match Client::value(&response, di, &mut scratch) {
            Ok(Value::Number(d)) => u32::try_from(d.mantissa)
                .map_err(|_| format!("purchase count {} out of range", d.mantissa)),
            Ok(other) => Err(format!("purchase count: unexpected value {other}")),
            Err(e) => Err(format!("reading the purchase count: {e}")),
        }
    }

    /// Seals `purchase` with command counter `counter` (valid for an hour), sends it in a 03H
    /// frame and opens the answer.
    fn purchase(
        &mut self,
        args: &RechargeArgs,
        purchase: Purchase<Money>,
        counter: u32,
    ) -> Result<Outcome, String> {
        let master = args.master.unwrap_or(node::TEST_MASTER);
        let address = self.address;
        let (command, di) = if args.open {
            (Command::OpenAccount(purchase), OPEN_ACCOUNT)
        } else {
            (Command::Recharge(purchase), RECHARGE)
        };
        let head_end = MasterKey::new(&master, SecurityConfig::DEFAULT.tag_len());
        let meter = head_end.meter(address, node::KEY_VERSION);
        let mut counter = CommandCounter {
            key_version: node::KEY_VERSION,
            last: counter.saturating_sub(1),
        };
        let valid_until = host_now()
            .checked_add_secs(3_600)
            .ok_or("clock out of range")?;
        let mut sealed = [0u8; 128];
        let sent = meter
            .seal(&mut counter, &command, valid_until, &mut sealed)
            .map_err(|e| e.to_string())?;

        let mut request = [0u8; 256];
        let n = self
            .client
            .security(di, &sealed[..sent.len], &mut request)
            .map_err(|e| e.to_string())?;
        let answer = self.ask(&request[..n])?;
        match self.client.parse_answer(&answer) {
            Ok(Response::Security { data, .. }) => {
                let mut bytes = [0u8; 255];
                let len = data.len();
                data.copy_to(&mut bytes).ok_or("answer too long")?;
                let response = meter
                    .open_response(&mut bytes[..len], &sent)
                    .map_err(|e| format!("the sealed answer does not open: {e}"))?;
                let d = response.data;
                let (balance, count) = match (d.get(..8), d.get(8..12)) {
                    (Some(b), Some(c)) if d.len() == PURCHASE_ANSWER_LEN => (
                        i64::from_be_bytes(b.try_into().map_err(|_| "bad answer")?),
                        u32::from_be_bytes(c.try_into().map_err(|_| "bad answer")?),
                    ),
                    _ => return Err("unexpected answer data".into()),
                };
                Ok(Outcome::Done(format!(
                    "{{\"counter\": {}, \"status\": \"{:04X}\", \"balance\": \"{}\", \"count\": {}}}",
                    sent.header.counter,
                    response.status.0,
                    Money::from_minor(balance),
                    count
                )))
            }
            Err(ClientError::SecurityRefused(word)) => Ok(Outcome::Refused(word)),
            Ok(_) => Err("unexpected answer".into()),
            Err(e) => Err(e.to_string()),
        }
    }
}
