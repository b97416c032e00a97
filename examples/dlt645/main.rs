//! A DL/T 645 command-line tool.
//!
//! ```text
//! cargo run --example dlt645 -- decode HEX...      one JSON object per frame
//! cargo run --example dlt645 -- decode -           frames from stdin, one hex frame per line
//! cargo run --example dlt645 -- read ADDRESS DI    the hex of a read request (4 FE preamble)
//! ```
//!
//! `decode` exits with status 1 if any frame does not parse or has a wrong checksum.
//! Hex may contain spaces, `:` or `-` between bytes.

mod json;

use std::io::BufRead;
use std::process::ExitCode;

use prepaid_meter::address::Address;
use prepaid_meter::endpoint::dlt645::Client;
use prepaid_meter::wire::dlt645::Di;

fn parse_hex(s: &str) -> Result<Vec<u8>, String> {
    let digits: Vec<u8> = s
        .bytes()
        .filter(|b| !matches!(b, b' ' | b':' | b'-' | b'\t'))
        .collect();
    if !digits.len().is_multiple_of(2) {
        return Err("odd number of hex digits".into());
    }
    digits
        .chunks(2)
        .map(|p| {
            std::str::from_utf8(p)
                .ok()
                .and_then(|t| u8::from_str_radix(t, 16).ok())
                .ok_or_else(|| format!("not hex: {}", String::from_utf8_lossy(p)))
        })
        .collect()
}

fn decode(frames: impl Iterator<Item = String>) -> ExitCode {
    let mut ok = true;
    for f in frames {
        let (line, valid) = match parse_hex(&f) {
            Ok(bytes) => json::describe(&bytes),
            Err(e) => (format!("{{\"parse_error\":\"{e}\"}}"), false),
        };
        println!("{line}");
        ok &= valid;
    }
    if ok {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    }
}

fn usage() -> ExitCode {
    eprintln!("usage: dlt645 decode HEX... | dlt645 decode - | dlt645 read ADDRESS DI");
    ExitCode::from(2)
}

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    match args.first().map(String::as_str) {
        Some("decode") if args.len() == 2 && args[1] == "-" => decode(
            std::io::stdin()
                .lock()
                .lines()
                .map_while(Result::ok)
                .filter(|l| !l.trim().is_empty()),
        ),
        Some("decode") if args.len() > 1 => decode(args.into_iter().skip(1)),
        Some("read") if args.len() == 3 => {
            let (Ok(address), Ok(di)) = (args[1].parse::<Address>(), args[2].parse::<Di>()) else {
                return usage();
            };
            let mut buf = [0u8; 32];
            match Client::new(address).read(di, &mut buf) {
                Ok(n) => {
                    println!(
                        "{}",
                        buf[..n]
                            .iter()
                            .map(|b| format!("{b:02X}"))
                            .collect::<String>()
                    );
                    ExitCode::SUCCESS
                }
                Err(e) => {
                    eprintln!("{e}");
                    ExitCode::FAILURE
                }
            }
        }
        _ => usage(),
    }
}
