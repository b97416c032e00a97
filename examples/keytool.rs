//! `keytool`: key derivation and sealed frames from the command line, for provisioning and
//! field debugging. All keys and frames are hex.
//!
//! ```text
//! cargo run --example keytool -- kbkdf --key HEX --fixed HEX --r BITS --location before|after --bits L
//! cargo run --example keytool -- meter-key --master HEX --address 12DIGITS --version N [--purpose enc|mac|auth]
//! cargo run --example keytool -- seal --master HEX --address 12DIGITS --version N --counter C
//!         --valid-until UNIX_SECS [--tag-len 8..16] COMMAND...
//! cargo run --example keytool -- open --master HEX --frame HEX [--tag-len 8..16]
//! ```
//!
//! `COMMAND` for `seal` is one of:
//!
//! ```text
//! recharge     --amount MINOR --count N --customer 12HEX     (MINOR = 1/10 000 currency unit)
//! open-account --amount MINOR --count N --customer 12HEX
//! relay        --action trip|reconnect|close|trip-restore-allowed|trip-restore-close|
//!                       alarm|alarm-release|keep-power|keep-power-release [--delay N]
//! price        --index I --price MINOR_PER_KWH
//! threshold    --kind alarm1|alarm2|overdraft|hoarding|reconnect --amount MINOR
//! param        --id 8HEX --data HEX
//! key-update   (the keys of version N + 1, wrapped under version N)
//! clear
//! ```
//!
//! `seal` prints the frame; `open` prints the header and the command or response as JSON.
//! `--help` (also after a subcommand) describes every option; an option it does not know is an
//! error (exit status 2).
//! `open` takes counter-mode frames (session frames need the session keys, which only the two
//! parties of the session ever hold).

use std::process::ExitCode;

use clap::{Args, Parser, Subcommand, ValueEnum};

use prepaid_meter::address::Address;
use prepaid_meter::purchase::{CustomerNumber, Purchase};
use prepaid_meter::relay::RelayCode;
use prepaid_meter::security::kdf::{CounterLocation, kbkdf_cmac_aes128};
use prepaid_meter::security::{
    Command, CommandCounter, FrameRole, Header, MasterKey, Mode, Opened, RelayControl, TagLength,
    Threshold,
};
use prepaid_meter::time::Timestamp;
use prepaid_meter::units::{Money, Price};

/// Key derivation and sealed frames for provisioning and field debugging. All keys and frames
/// are hex.
#[derive(Parser, Debug)]
#[command(name = "keytool", version)]
struct Cli {
    #[command(subcommand)]
    command: Cmd,
}

#[derive(Subcommand, Debug)]
enum Cmd {
    /// NIST SP 800-108 KDF in counter mode with AES-128-CMAC (any CAVP vector).
    Kbkdf {
        /// The key derivation key, 32 hex digits.
        #[arg(long, value_parser = key16)]
        key: [u8; 16],
        /// The fixed input data, hex.
        #[arg(long, value_parser = hex_decode)]
        fixed: Bytes,
        /// Bits of the counter: 8, 16, 24 or 32.
        #[arg(long = "r", value_name = "BITS")]
        r: u8,
        /// Where the counter goes.
        #[arg(long)]
        location: Location,
        /// Bits of key material to derive (a multiple of 8).
        #[arg(long, value_name = "L")]
        bits: usize,
    },
    /// A meter's keys, derived from the master key.
    MeterKey {
        /// The master key, 32 hex digits.
        #[arg(long, value_parser = key16)]
        master: [u8; 16],
        /// The meter's 12-digit address.
        #[arg(long)]
        address: Address,
        /// The key version.
        #[arg(long)]
        version: u16,
        /// Print only this key (default: all three).
        #[arg(long)]
        purpose: Option<Purpose>,
    },
    /// Seal a command frame for a meter (counter mode).
    Seal(SealArgs),
    /// Open a counter-mode command or response frame and print it as JSON.
    Open {
        /// The master key, 32 hex digits.
        #[arg(long, value_parser = key16)]
        master: [u8; 16],
        /// The sealed frame, hex.
        #[arg(long, value_parser = hex_decode)]
        frame: Bytes,
        /// Tag length in bytes, 8..=16.
        #[arg(long, value_name = "8..16")]
        tag_len: Option<u8>,
    },
}

/// Bytes parsed from hex (a type of its own, so that clap takes the whole value at once).
#[derive(Clone, Debug)]
struct Bytes(Vec<u8>);

#[derive(Clone, Copy, Debug, ValueEnum)]
enum Location {
    Before,
    After,
}

#[derive(Clone, Copy, Debug, ValueEnum)]
enum Purpose {
    Enc,
    Mac,
    Auth,
}

#[derive(Clone, Copy, Debug, ValueEnum)]
enum SealKind {
    /// --amount MINOR --count N --customer 12HEX
    Recharge,
    /// --amount MINOR --count N --customer 12HEX
    OpenAccount,
    /// --action ACTION [--delay N]
    Relay,
    /// --index I --price MINOR_PER_KWH
    Price,
    /// --kind KIND --amount MINOR
    Threshold,
    /// --id 8HEX --data HEX
    Param,
    /// the keys of version N + 1, wrapped under version N
    KeyUpdate,
    /// meter clear
    Clear,
}

#[derive(Clone, Copy, Debug, ValueEnum)]
enum RelayAction {
    Trip,
    Reconnect,
    Close,
    TripRestoreAllowed,
    TripRestoreClose,
    Alarm,
    AlarmRelease,
    KeepPower,
    KeepPowerRelease,
}

#[derive(Clone, Copy, Debug, ValueEnum)]
enum ThresholdKind {
    Alarm1,
    Alarm2,
    Overdraft,
    Hoarding,
    Reconnect,
}

#[derive(Args, Debug)]
struct SealArgs {
    /// The command to seal; its options follow (or precede) it.
    #[arg(value_name = "COMMAND")]
    command: SealKind,
    /// The master key, 32 hex digits.
    #[arg(long, value_parser = key16)]
    master: [u8; 16],
    /// The meter's 12-digit address.
    #[arg(long)]
    address: Address,
    /// The key version.
    #[arg(long)]
    version: u16,
    /// The command counter (from 1; the meter accepts only counters above its last).
    #[arg(long, value_name = "C")]
    counter: u32,
    /// Unix seconds after which the meter refuses the frame.
    #[arg(long, value_name = "UNIX_SECS")]
    valid_until: i64,
    /// Tag length in bytes, 8..=16.
    #[arg(long, value_name = "8..16")]
    tag_len: Option<u8>,
    /// recharge, open-account, threshold: the amount in 1/10 000 of the currency unit.
    #[arg(long, value_name = "MINOR", help_heading = "Command options")]
    amount: Option<i64>,
    /// recharge, open-account: the purchase count.
    #[arg(long, value_name = "N", help_heading = "Command options")]
    count: Option<u32>,
    /// recharge, open-account: the customer number, 12 hex digits (6 bytes).
    #[arg(long, value_name = "12HEX", value_parser = hex_decode, help_heading = "Command options")]
    customer: Option<Bytes>,
    /// relay: what the relay does.
    #[arg(long, help_heading = "Command options")]
    action: Option<RelayAction>,
    /// relay: the delay (N2).
    #[arg(long, value_name = "N", help_heading = "Command options")]
    delay: Option<u8>,
    /// price: the price index.
    #[arg(long, value_name = "I", help_heading = "Command options")]
    index: Option<u8>,
    /// price: the price, 1/10 000 of the currency unit per kWh.
    #[arg(long, value_name = "MINOR_PER_KWH", help_heading = "Command options")]
    price: Option<u32>,
    /// threshold: which threshold.
    #[arg(long, help_heading = "Command options")]
    kind: Option<ThresholdKind>,
    /// param: the parameter identifier, 8 hex digits.
    #[arg(long, value_name = "8HEX", help_heading = "Command options")]
    id: Option<String>,
    /// param: the parameter's data, hex.
    #[arg(long, value_parser = hex_decode, help_heading = "Command options")]
    data: Option<Bytes>,
}

fn main() -> ExitCode {
    let result = match Cli::parse().command {
        Cmd::Kbkdf {
            key,
            fixed,
            r,
            location,
            bits,
        } => kbkdf(&key, &fixed.0, r, location, bits),
        Cmd::MeterKey {
            master,
            address,
            version,
            purpose,
        } => Ok(meter_key(&master, address, version, purpose)),
        Cmd::Seal(a) => seal(&a),
        Cmd::Open {
            master,
            frame,
            tag_len: t,
        } => open(&master, frame.0, t),
    };
    match result {
        Ok(out) => {
            println!("{out}");
            ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("keytool: {e}");
            ExitCode::FAILURE
        }
    }
}

type Result<T> = std::result::Result<T, String>;

/// A command option that `seal` needs for this command.
fn need<T: Clone>(v: &Option<T>, name: &str) -> Result<T> {
    v.clone().ok_or(format!("missing --{name}"))
}

fn hex_decode(s: &str) -> Result<Bytes> {
    hex_bytes(s).map(Bytes)
}

fn hex_bytes(s: &str) -> Result<Vec<u8>> {
    let s = s.trim();
    if !s.len().is_multiple_of(2) {
        return Err("odd number of hex digits".into());
    }
    (0..s.len())
        .step_by(2)
        .map(|i| {
            s.get(i..i + 2)
                .and_then(|p| u8::from_str_radix(p, 16).ok())
                .ok_or_else(|| format!("bad hex at {i}"))
        })
        .collect()
}

fn hex(b: &[u8]) -> String {
    b.iter().map(|x| format!("{x:02x}")).collect()
}

fn key16(s: &str) -> Result<[u8; 16]> {
    hex_bytes(s)?
        .try_into()
        .map_err(|_| "a key is 16 bytes (32 hex digits)".to_string())
}

fn tag_len(n: Option<u8>) -> Result<TagLength> {
    match n {
        None => Ok(TagLength::DEFAULT),
        Some(n) => TagLength::new(n).map_err(|e| e.to_string()),
    }
}

fn kbkdf(key: &[u8; 16], fixed: &[u8], r: u8, location: Location, bits: usize) -> Result<String> {
    let location = match location {
        Location::Before => CounterLocation::Before,
        Location::After => CounterLocation::After,
    };
    if !bits.is_multiple_of(8) {
        return Err("--bits must be a multiple of 8".into());
    }
    let mut out = vec![0u8; bits / 8];
    kbkdf_cmac_aes128(key, fixed, location, r, &mut out).map_err(|e| e.to_string())?;
    Ok(hex(&out))
}

fn meter_key(
    master: &[u8; 16],
    address: Address,
    version: u16,
    purpose: Option<Purpose>,
) -> String {
    let keys = MasterKey::new(master, TagLength::DEFAULT).meter_keys(address, version);
    match purpose {
        Some(Purpose::Enc) => hex(keys.enc.as_bytes()),
        Some(Purpose::Mac) => hex(keys.mac.as_bytes()),
        Some(Purpose::Auth) => hex(keys.auth.as_bytes()),
        None => format!(
            "enc  {}\nmac  {}\nauth {}",
            hex(keys.enc.as_bytes()),
            hex(keys.mac.as_bytes()),
            hex(keys.auth.as_bytes())
        ),
    }
}

fn purchase(a: &SealArgs) -> Result<Purchase<Money>> {
    let customer: [u8; 6] = need(&a.customer, "customer")?
        .0
        .try_into()
        .map_err(|_| "--customer is 6 bytes (12 hex digits)")?;
    Ok(Purchase {
        amount: Money::from_minor(need(&a.amount, "amount")?),
        count: need(&a.count, "count")?,
        customer: CustomerNumber::new(customer),
    })
}

fn relay_action(a: RelayAction) -> RelayCode {
    match a {
        RelayAction::Trip => RelayCode::Trip,
        RelayAction::Reconnect => RelayCode::ReconnectAllowed,
        RelayAction::Close => RelayCode::DirectClose,
        RelayAction::TripRestoreAllowed => RelayCode::TripRestoreAllowed,
        RelayAction::TripRestoreClose => RelayCode::TripRestoreClose,
        RelayAction::Alarm => RelayCode::AlarmOn,
        RelayAction::AlarmRelease => RelayCode::AlarmOff,
        RelayAction::KeepPower => RelayCode::KeepPowerOn,
        RelayAction::KeepPowerRelease => RelayCode::KeepPowerOff,
    }
}

fn threshold(k: ThresholdKind) -> Threshold {
    match k {
        ThresholdKind::Alarm1 => Threshold::Alarm1,
        ThresholdKind::Alarm2 => Threshold::Alarm2,
        ThresholdKind::Overdraft => Threshold::OverdraftLimit,
        ThresholdKind::Hoarding => Threshold::HoardingLimit,
        ThresholdKind::Reconnect => Threshold::ReconnectMinimum,
    }
}

fn seal(a: &SealArgs) -> Result<String> {
    let (address, version) = (a.address, a.version);
    if a.counter == 0 {
        return Err("--counter starts at 1".into());
    }
    let valid_until = Timestamp::from_unix(a.valid_until);
    let head_end = MasterKey::new(&a.master, tag_len(a.tag_len)?);
    let data;
    let command = match a.command {
        SealKind::Recharge => Command::Recharge(purchase(a)?),
        SealKind::OpenAccount => Command::OpenAccount(purchase(a)?),
        SealKind::Relay => Command::RelayControl(RelayControl {
            action: relay_action(need(&a.action, "action")?),
            delay: a.delay.unwrap_or(0),
        }),
        SealKind::Price => Command::SetPrice {
            index: need(&a.index, "index")?,
            price: Price::from_minor_per_kwh(need(&a.price, "price")?),
        },
        SealKind::Threshold => Command::SetThreshold {
            threshold: threshold(need(&a.kind, "kind")?),
            amount: Money::from_minor(need(&a.amount, "amount")?),
        },
        SealKind::Param => {
            data = need(&a.data, "data")?.0;
            Command::WriteParameter {
                id: u32::from_str_radix(&need(&a.id, "id")?, 16)
                    .map_err(|_| "--id: 8 hex digits")?,
                data: &data,
            }
        }
        SealKind::KeyUpdate => head_end
            .key_update(address, version)
            .map_err(|e| e.to_string())?,
        SealKind::Clear => Command::MeterClear,
    };
    let mut ctr = CommandCounter {
        key_version: version,
        last: a.counter - 1,
    };
    let mut out = vec![0u8; 26 + command.buffer_len() + 16];
    let sealed = head_end
        .meter(address, version)
        .seal(&mut ctr, &command, valid_until, &mut out)
        .map_err(|e| e.to_string())?;
    Ok(hex(&out[..sealed.len]))
}

fn header_json(h: &Header) -> String {
    format!(
        "{{\"direction\": \"{}\", \"mode\": \"{}\", \"address\": \"{}\", \"key_version\": {}, \
         \"command_type\": \"{:?}\", \"tag_len\": {}, \"session_id\": {}, \"counter\": {}, \
         \"valid_until\": {}, \"payload_len\": {}}}",
        match h.direction {
            FrameRole::Command => "command",
            FrameRole::Response => "response",
        },
        match h.mode {
            Mode::Counter => "counter",
            Mode::Session => "session",
        },
        h.address,
        h.key_version,
        h.command,
        h.tag_len.get(),
        h.session_id,
        h.counter,
        h.valid_until,
        h.payload_len
    )
}

fn command_json(c: &Command<'_>) -> String {
    let purchase = |p: &Purchase<Money>| {
        format!(
            "\"amount_minor\": {}, \"amount\": \"{}\", \"purchase_count\": {}, \"customer\": \"{}\"",
            p.amount.minor(),
            p.amount,
            p.count,
            hex(&p.customer.to_bytes())
        )
    };
    match c {
        Command::OpenAccount(p) => format!("{{\"type\": \"open-account\", {}}}", purchase(p)),
        Command::Recharge(p) => format!("{{\"type\": \"recharge\", {}}}", purchase(p)),
        Command::RelayControl(r) => format!(
            "{{\"type\": \"relay\", \"action\": \"{:?}\", \"n1\": \"{:02X}\", \"delay\": {}}}",
            r.action,
            r.action.code(),
            r.delay
        ),
        Command::SetPrice { index, price } => format!(
            "{{\"type\": \"price\", \"index\": {index}, \"price_minor_per_kwh\": {}}}",
            price.minor_per_kwh()
        ),
        Command::SetThreshold { threshold, amount } => format!(
            "{{\"type\": \"threshold\", \"kind\": \"{threshold:?}\", \"amount_minor\": {}}}",
            amount.minor()
        ),
        Command::WriteParameter { id, data } => format!(
            "{{\"type\": \"param\", \"id\": \"{id:08X}\", \"data\": \"{}\"}}",
            hex(data)
        ),
        Command::KeyUpdate(k) => format!(
            "{{\"type\": \"key-update\", \"new_version\": {}}}",
            k.new_version
        ),
        Command::MeterClear => "{\"type\": \"clear\"}".to_string(),
        other => format!("{{\"type\": \"{other:?}\"}}"),
    }
}

fn open(master: &[u8; 16], mut frame: Vec<u8>, tag: Option<u8>) -> Result<String> {
    let header = Header::parse(&frame).map_err(|e| e.to_string())?;
    let head_end = MasterKey::new(master, tag_len(tag)?);
    let meter = head_end.meter(header.address, header.key_version);
    match meter.inspect(&mut frame).map_err(|e| e.to_string())? {
        Opened::Command(h, c) => Ok(format!(
            "{{\"header\": {}, \"command\": {}}}",
            header_json(&h),
            command_json(&c)
        )),
        Opened::Response(h, r) => Ok(format!(
            "{{\"header\": {}, \"response\": {{\"status\": {}, \"data\": \"{}\"}}}}",
            header_json(&h),
            r.status.0,
            hex(r.data)
        )),
    }
}
