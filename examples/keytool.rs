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
//! `open` takes counter-mode frames (session frames need the session keys, which only the two
//! parties of the session ever hold).

use std::collections::HashMap;
use std::process::ExitCode;

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

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    match run(&args) {
        Ok(out) => {
            println!("{out}");
            ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("keytool: {e}");
            eprintln!("usage: keytool kbkdf|meter-key|seal|open --help (see the example's docs)");
            ExitCode::FAILURE
        }
    }
}

type Result<T> = std::result::Result<T, String>;

/// `--name value` pairs, and the bare words in order.
struct Args {
    flags: HashMap<String, String>,
    words: Vec<String>,
}

impl Args {
    fn parse(args: &[String]) -> Result<Args> {
        let mut flags = HashMap::new();
        let mut words = Vec::new();
        let mut it = args.iter();
        while let Some(a) = it.next() {
            if let Some(name) = a.strip_prefix("--") {
                let v = it.next().ok_or(format!("--{name} needs a value"))?;
                flags.insert(name.to_string(), v.clone());
            } else {
                words.push(a.clone());
            }
        }
        Ok(Args { flags, words })
    }

    fn get(&self, name: &str) -> Result<&str> {
        self.flags
            .get(name)
            .map(String::as_str)
            .ok_or(format!("missing --{name}"))
    }

    fn opt(&self, name: &str) -> Option<&str> {
        self.flags.get(name).map(String::as_str)
    }

    fn num<T: std::str::FromStr>(&self, name: &str) -> Result<T> {
        self.get(name)?
            .parse()
            .map_err(|_| format!("--{name}: not a number"))
    }
}

fn hex_decode(s: &str) -> Result<Vec<u8>> {
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
    hex_decode(s)?
        .try_into()
        .map_err(|_| "a key is 16 bytes (32 hex digits)".to_string())
}

fn tag_len(a: &Args) -> Result<TagLength> {
    match a.opt("tag-len") {
        None => Ok(TagLength::DEFAULT),
        Some(v) => {
            let n: u8 = v.parse().map_err(|_| "--tag-len: not a number")?;
            TagLength::new(n).map_err(|e| e.to_string())
        }
    }
}

fn run(args: &[String]) -> Result<String> {
    let (cmd, rest) = args.split_first().ok_or("no subcommand")?;
    let a = Args::parse(rest)?;
    match cmd.as_str() {
        "kbkdf" => kbkdf(&a),
        "meter-key" => meter_key(&a),
        "seal" => seal(&a),
        "open" => open(&a),
        other => Err(format!("unknown subcommand {other}")),
    }
}

fn kbkdf(a: &Args) -> Result<String> {
    let key = key16(a.get("key")?)?;
    let fixed = hex_decode(a.get("fixed")?)?;
    let r: u8 = a.num("r")?;
    let location = match a.get("location")? {
        "before" => CounterLocation::Before,
        "after" => CounterLocation::After,
        other => return Err(format!("--location before|after, not {other}")),
    };
    let bits: usize = a.num("bits")?;
    if !bits.is_multiple_of(8) {
        return Err("--bits must be a multiple of 8".into());
    }
    let mut out = vec![0u8; bits / 8];
    kbkdf_cmac_aes128(&key, &fixed, location, r, &mut out).map_err(|e| e.to_string())?;
    Ok(hex(&out))
}

fn meter_key(a: &Args) -> Result<String> {
    let master = key16(a.get("master")?)?;
    let address: Address = a.get("address")?.parse().map_err(|e| format!("{e}"))?;
    let version: u16 = a.num("version")?;
    let keys = MasterKey::new(&master, TagLength::DEFAULT).meter_keys(address, version);
    Ok(match a.opt("purpose") {
        Some("enc") => hex(keys.enc.as_bytes()),
        Some("mac") => hex(keys.mac.as_bytes()),
        Some("auth") => hex(keys.auth.as_bytes()),
        None => format!(
            "enc  {}\nmac  {}\nauth {}",
            hex(keys.enc.as_bytes()),
            hex(keys.mac.as_bytes()),
            hex(keys.auth.as_bytes())
        ),
        Some(other) => return Err(format!("--purpose enc|mac|auth, not {other}")),
    })
}

fn purchase(a: &Args) -> Result<Purchase<Money>> {
    let customer: [u8; 6] = hex_decode(a.get("customer")?)?
        .try_into()
        .map_err(|_| "--customer is 6 bytes (12 hex digits)")?;
    Ok(Purchase {
        amount: Money::from_minor(a.num("amount")?),
        count: a.num("count")?,
        customer: CustomerNumber::new(customer),
    })
}

fn relay_action(s: &str) -> Result<RelayCode> {
    Ok(match s {
        "trip" => RelayCode::Trip,
        "reconnect" => RelayCode::ReconnectAllowed,
        "close" => RelayCode::DirectClose,
        "trip-restore-allowed" => RelayCode::TripRestoreAllowed,
        "trip-restore-close" => RelayCode::TripRestoreClose,
        "alarm" => RelayCode::AlarmOn,
        "alarm-release" => RelayCode::AlarmOff,
        "keep-power" => RelayCode::KeepPowerOn,
        "keep-power-release" => RelayCode::KeepPowerOff,
        other => return Err(format!("unknown relay action {other}")),
    })
}

fn threshold(s: &str) -> Result<Threshold> {
    Ok(match s {
        "alarm1" => Threshold::Alarm1,
        "alarm2" => Threshold::Alarm2,
        "overdraft" => Threshold::OverdraftLimit,
        "hoarding" => Threshold::HoardingLimit,
        "reconnect" => Threshold::ReconnectMinimum,
        other => return Err(format!("unknown threshold {other}")),
    })
}

fn seal(a: &Args) -> Result<String> {
    let master = key16(a.get("master")?)?;
    let address: Address = a.get("address")?.parse().map_err(|e| format!("{e}"))?;
    let version: u16 = a.num("version")?;
    let counter: u32 = a.num("counter")?;
    if counter == 0 {
        return Err("--counter starts at 1".into());
    }
    let valid_until = Timestamp::from_unix(a.num("valid-until")?);
    let head_end = MasterKey::new(&master, tag_len(a)?);
    let kind = a.words.first().ok_or("which command?")?;
    let data;
    let command = match kind.as_str() {
        "recharge" => Command::Recharge(purchase(a)?),
        "open-account" => Command::OpenAccount(purchase(a)?),
        "relay" => Command::RelayControl(RelayControl {
            action: relay_action(a.get("action")?)?,
            delay: a.opt("delay").map_or(Ok(0), |d| {
                d.parse().map_err(|_| "--delay: not a number".to_string())
            })?,
        }),
        "price" => Command::SetPrice {
            index: a.num("index")?,
            price: Price::from_minor_per_kwh(a.num("price")?),
        },
        "threshold" => Command::SetThreshold {
            threshold: threshold(a.get("kind")?)?,
            amount: Money::from_minor(a.num("amount")?),
        },
        "param" => {
            data = hex_decode(a.get("data")?)?;
            Command::WriteParameter {
                id: u32::from_str_radix(a.get("id")?, 16).map_err(|_| "--id: 8 hex digits")?,
                data: &data,
            }
        }
        "key-update" => head_end
            .key_update(address, version)
            .map_err(|e| e.to_string())?,
        "clear" => Command::MeterClear,
        other => return Err(format!("unknown command {other}")),
    };
    let mut ctr = CommandCounter {
        key_version: version,
        last: counter - 1,
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

fn open(a: &Args) -> Result<String> {
    let master = key16(a.get("master")?)?;
    let mut frame = hex_decode(a.get("frame")?)?;
    let header = Header::parse(&frame).map_err(|e| e.to_string())?;
    let head_end = MasterKey::new(&master, tag_len(a)?);
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
