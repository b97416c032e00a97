//! A DL/T 645 command-line tool.
//!
//! ```text
//! cargo run --example dlt645 -- decode HEX...      one JSON object per frame
//! cargo run --example dlt645 -- decode -           frames from stdin, one hex frame per line
//! cargo run --example dlt645 -- read ADDRESS DI    the hex of a read request (4 FE preamble)
//! ```
//!
//! `decode` exits with status 1 if any frame does not parse or has a wrong checksum, and a
//! command line it does not understand exits with status 2. Hex may contain spaces, `:` or `-`
//! between bytes. `--help` describes every subcommand.

mod json;

use std::io::BufRead;

use clap::{Parser, Subcommand};
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

/// DL/T 645-2007 frames from the command line: decode them to JSON, or build read requests.
#[derive(Parser, Debug)]
#[command(name = "dlt645", version)]
struct Cli {
    #[command(subcommand)]
    command: Cmd,
}

#[derive(Subcommand, Debug)]
enum Cmd {
    /// Print one JSON object per frame; exit status 1 if any frame does not parse or has a
    /// wrong checksum.
    Decode {
        /// Frames in hex (spaces, `:` or `-` may separate bytes), or `-` to read one frame a
        /// line from standard input.
        #[arg(required = true, value_name = "HEX")]
        frames: Vec<String>,
    },
    /// Print the hex of a read request (with 4 FE preamble bytes).
    Read {
        /// The meter's 12-digit address.
        address: Address,
        /// The data identifier, 8 hex digits (e.g. 00900200, the balance).
        di: Di,
    },
}

fn main() -> ExitCode {
    match Cli::parse().command {
        Cmd::Decode { frames } if frames.len() == 1 && frames[0] == "-" => decode(
            std::io::stdin()
                .lock()
                .lines()
                .map_while(Result::ok)
                .filter(|l| !l.trim().is_empty()),
        ),
        Cmd::Decode { frames } => decode(frames.into_iter()),
        Cmd::Read { address, di } => {
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
    }
}
