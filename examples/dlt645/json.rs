//! One DL/T 645 frame as one JSON object, written by hand (no serde_json).
//!
//! Keys: `address` (12 digits, logical order), `control` and `function` (two hex digits),
//! `response`, `error`, `follow_up` (booleans), `preamble` (FE count), `di` (8 hex digits, or 4
//! for DL/T 645-1997, logical order; `null` where the frame has none), `name` (the identifier's
//! registry name or `null`), `data` (hex, after -33H, after the identifier), `value` (decoded
//! where the format is known, else `null`), `err` (the error bits of an error answer, else
//! absent), `checksum_ok`. A frame whose structure does not parse gives `{"parse_error": "..."}`.
//!
//! `tests/dlt645_decode.rs` runs the example on the vector frames.

use std::fmt::Write as _;

use prepaid_meter::wire::dlt645::registry::{self, Format, TableKind, Unit, Value};
use prepaid_meter::wire::dlt645::{
    Data, Di, Direction, END, Frame, FrameRepr, RelayOrder, Request, Response, START, skip_preamble,
};

/// A frame's JSON object, and whether the frame is valid (parses, checksum right).
pub fn describe(input: &[u8]) -> (String, bool) {
    match describe_inner(input) {
        Ok(out) => out,
        Err(e) => (format!("{{\"parse_error\":{}}}", string(&e)), false),
    }
}

fn string(s: &str) -> String {
    let mut out = String::from("\"");
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            c if (c as u32) < 0x20 => {
                let _ = write!(out, "\\u{:04x}", c as u32);
            }
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

fn hex(bytes: impl IntoIterator<Item = u8>) -> String {
    bytes.into_iter().fold(String::new(), |mut s, b| {
        let _ = write!(s, "{b:02X}");
        s
    })
}

fn describe_inner(input: &[u8]) -> Result<(String, bool), String> {
    let body = skip_preamble(input);
    let preamble = input.len() - body.len();
    let frame = Frame::new_checked(body).map_err(|e| e.to_string())?;
    if frame.frame_len() != body.len() {
        return Err(format!(
            "{} bytes after the frame's end",
            body.len() - frame.frame_len()
        ));
    }
    let bytes = frame.as_bytes();
    if bytes.first() != Some(&START) || bytes.get(7) != Some(&START) {
        return Err("missing 68H start byte".into());
    }
    if bytes.last() != Some(&END) {
        return Err("missing 16H end byte".into());
    }
    let checksum_ok = frame.verify_checksum();
    // The fields are decoded even when the checksum is wrong, so the frame can be inspected.
    let repr = FrameRepr {
        address: frame.address().map_err(|e| e.to_string())?,
        control: frame.control(),
        data: frame.data(),
    };
    let c = repr.control;
    let mut o = String::from("{");
    let _ = write!(
        o,
        "\"address\":\"{}\",\"control\":\"{:02X}\",\"function\":\"{:02X}\",\"response\":{},\"error\":{},\"follow_up\":{},\"preamble\":{}",
        repr.address,
        c.to_byte(),
        c.function.code(),
        c.direction == Direction::Response,
        c.error,
        c.follow_up,
        preamble
    );
    let payload = describe_payload(&repr)?;
    let _ = write!(
        o,
        ",\"di\":{},\"name\":{},\"data\":\"{}\",\"value\":{}",
        payload.di.map_or("null".into(), |d| string(&d)),
        payload.name.map_or("null".into(), string),
        hex(payload.data.iter()),
        payload.value.unwrap_or_else(|| "null".into())
    );
    if let Some(err) = payload.err {
        let _ = write!(o, ",\"err\":{err}");
    }
    let _ = write!(o, ",\"checksum_ok\":{checksum_ok}}}");
    Ok((o, checksum_ok))
}

struct Payload<'a> {
    di: Option<String>,
    name: Option<&'static str>,
    data: Data<'a>,
    value: Option<String>,
    err: Option<String>,
}

fn describe_payload<'a>(repr: &FrameRepr<'a>) -> Result<Payload<'a>, String> {
    let mut p = Payload {
        di: None,
        name: None,
        data: repr.data,
        value: None,
        err: None,
    };
    let with_di = |p: &mut Payload<'a>, di: Di, data: Data<'a>| {
        p.di = Some(di.to_string());
        p.name = registry::lookup(di).map(|e| e.name);
        p.data = data;
    };
    if repr.control.direction == Direction::Request {
        match Request::parse(repr).map_err(|e| e.to_string())? {
            Request::Read { di, .. } | Request::ReadFollowUp { di, .. } => {
                with_di(&mut p, di, Data::EMPTY)
            }
            Request::Write { di, value, .. } => {
                with_di(&mut p, di, value);
                p.value = registry::lookup(di).and_then(|e| json_value(e.format, e.unit, value));
            }
            Request::Security { di, payload, .. } => with_di(&mut p, di, payload),
            Request::EventClear { di, .. } | Request::ChangePassword { di, .. } => {
                p.di = Some(di.to_string())
            }
            Request::Read1997 { di } => {
                p.di = Some(di.to_string());
                p.name = registry::lookup_1997(di).map(|e| e.name);
                p.data = Data::EMPTY;
            }
            Request::BroadcastTime { time } => p.value = Some(string(&time.to_string())),
            Request::WriteAddress { address } => p.value = Some(string(&address.to_string())),
            Request::RelayControl {
                order:
                    RelayOrder::Plain {
                        command,
                        n2,
                        valid_until,
                    },
                ..
            } => {
                p.value = Some(format!(
                    "{{\"command\":\"{:02X}\",\"n2\":{},\"valid_until\":{}}}",
                    command.code(),
                    n2,
                    string(&valid_until.to_string())
                ))
            }
            _ => {}
        }
    } else {
        match Response::parse(repr).map_err(|e| e.to_string())? {
            Response::Read { di, data, .. } | Response::ReadFollowUp { di, data, .. } => {
                with_di(&mut p, di, data);
                p.value = registry::lookup(di).and_then(|e| json_value(e.format, e.unit, data));
            }
            Response::Security { di, data } => with_di(&mut p, di, data),
            Response::Read1997 { di, data, .. } => {
                p.di = Some(di.to_string());
                let e = registry::lookup_1997(di);
                p.name = e.map(|e| e.name);
                p.data = data;
                p.value = e.and_then(|e| json_value(e.format, e.unit, data));
            }
            Response::ReadAddress { address } => p.value = Some(string(&address.to_string())),
            Response::Error { code, .. } => {
                p.err = Some(format!(
                    "{{\"code\":\"{:02X}\",\"meaning\":{}}}",
                    code.0,
                    string(&code.to_string())
                ))
            }
            Response::SecurityError { word } => {
                p.err = Some(format!(
                    "{{\"code\":\"{:04X}\",\"meaning\":{}}}",
                    word.0,
                    string(&word.to_string())
                ))
            }
            Response::RelayError { word } => {
                p.err = Some(format!(
                    "{{\"code\":\"{:04X}\",\"meaning\":{}}}",
                    word.0,
                    string(&word.to_string())
                ))
            }
            _ => {}
        }
    }
    Ok(p)
}

/// The JSON of a value in `format`: one value, or an array for a block.
fn json_value(format: Format, unit: Unit, data: Data<'_>) -> Option<String> {
    let mut buf = [0u8; 255];
    let bytes = data.copy_to(&mut buf)?;
    if let Ok(v) = format.decode(bytes) {
        return Some(value(&v, unit));
    }
    let mut items = Vec::new();
    format
        .decode_block(bytes, |v| items.push(value(&v, unit)))
        .ok()?;
    Some(format!("[{}]", items.join(",")))
}

fn value(v: &Value<'_>, unit: Unit) -> String {
    match v {
        Value::Number(d) => format!("{{\"number\":{d},\"unit\":{}}}", string(unit.symbol())),
        Value::DateTime(_) | Value::Date(_) | Value::Time(_) | Value::Digits(_) | Value::Hex(_) => {
            string(&v.to_string())
        }
        Value::DayHour { day, hour } => format!("{{\"day\":{day},\"hour\":{hour}}}"),
        Value::Password(p) => format!(
            "{{\"level\":{},\"code\":\"{:02X}{:02X}{:02X}\"}}",
            p.level, p.code[2], p.code[1], p.code[0]
        ),
        Value::Table { kind, .. } => {
            let keys = match kind {
                TableKind::Seasons => ("month", "day", "table"),
                TableKind::DayPeriods => ("hour", "minute", "tariff"),
            };
            let items: Vec<String> = v
                .table_entries()
                .map(|(a, b, n)| {
                    format!(
                        "{{\"{}\":{a},\"{}\":{b},\"{}\":{n}}}",
                        keys.0, keys.1, keys.2
                    )
                })
                .collect();
            format!("[{}]", items.join(","))
        }
        Value::Record { .. } => {
            let items: Vec<String> = v
                .record_fields()
                .map(|(f, fv)| format!("{}:{}", string(f.name), value(&fv, f.unit)))
                .collect();
            format!("{{{}}}", items.join(","))
        }
        _ => "null".into(),
    }
}
