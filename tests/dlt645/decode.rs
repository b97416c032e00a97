//! The `dlt645 decode` example's JSON, on every vector frame: the example is run as a binary,
//! one frame per run, and its output line and exit status checked.

use crate::example_support;

/// What `dlt645 decode HEX` prints for `input`, and whether it exits with success (the frame
/// parses and its checksum is right).
fn describe(input: &[u8]) -> (String, bool) {
    let hex: String = input.iter().map(|b| format!("{b:02X}")).collect();
    let output = std::process::Command::new(example_support::example("dlt645"))
        .args(["decode", &hex])
        .output()
        .unwrap();
    let code = output.status.code();
    assert!(
        matches!(code, Some(0 | 1)),
        "exit status {code:?} for {hex}"
    );
    let stdout = String::from_utf8(output.stdout).unwrap();
    let line = stdout.strip_suffix('\n').unwrap_or(&stdout);
    assert!(!line.contains('\n'), "one line per frame: {stdout}");
    (line.to_owned(), code == Some(0))
}

const VECTORS: &str = include_str!("../vectors/dlt645-frames.tsv");

fn hex(s: &str) -> Vec<u8> {
    (0..s.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(&s[i..i + 2], 16).unwrap())
        .collect()
}

fn frame(id: &str) -> Vec<u8> {
    let line = VECTORS
        .lines()
        .find(|l| l.split('\t').next() == Some(id))
        .unwrap_or_else(|| panic!("vector {id} missing"));
    hex(line.split('\t').nth(2).unwrap())
}

/// Asserts that the JSON object has each `"key":value` pair.
fn has(json: &str, pairs: &[&str]) {
    assert!(json.starts_with('{') && json.ends_with('}'), "{json}");
    for p in pairs {
        assert!(json.contains(p), "{p} not in {json}");
    }
}

#[test]
fn every_vector_has_the_required_keys() {
    for line in VECTORS
        .lines()
        .filter(|l| !l.starts_with('#') && !l.trim().is_empty())
    {
        let cols: Vec<&str> = line.split('\t').collect();
        let (out, ok) = describe(&hex(cols[2]));
        for key in [
            "\"address\":",
            "\"control\":",
            "\"function\":",
            "\"response\":",
            "\"error\":",
            "\"di\":",
            "\"data\":",
            "\"value\":",
            "\"checksum_ok\":",
        ] {
            assert!(out.contains(key), "{}: {key} missing in {out}", cols[0]);
        }
        assert_eq!(ok, cols[0] != "E16", "{}: {out}", cols[0]);
        // Balanced braces and quotes: a crude well-formedness check.
        assert_eq!(out.matches('{').count(), out.matches('}').count(), "{out}");
        assert_eq!(out.matches('"').count() % 2, 0, "{out}");
    }
}

#[test]
fn meanings() {
    let (o, _) = describe(&frame("E14b"));
    assert_eq!(
        o,
        r#"{"address":"201000000012","control":"91","function":"11","response":true,"error":false,"follow_up":false,"preamble":0,"di":"00900200","name":"remaining balance","data":"56980100","value":{"number":198.56,"unit":"yuan"},"checksum_ok":true}"#
    );
    let (o, _) = describe(&frame("E1"));
    has(
        &o,
        &[
            r#""address":"000000000161""#,
            r#""control":"11""#,
            r#""response":false"#,
            r#""di":"00010000""#,
            r#""preamble":4"#,
            r#""value":null"#,
        ],
    );
    let (o, _) = describe(&frame("E7b"));
    has(
        &o,
        &[r#""data":"0110""#, r#""value":{"number":100.1,"unit":"V"}"#],
    );
    let (o, _) = describe(&frame("E12b"));
    has(
        &o,
        &[
            r#""value":[{"number":1.29,"unit":"kWh"},{"number":0.62,"unit":"kWh"},{"number":0.60,"unit":"kWh"},{"number":0.03,"unit":"kWh"},{"number":0.02,"unit":"kWh"}]"#,
        ],
    );
    let (o, _) = describe(&frame("E9"));
    has(
        &o,
        &[
            r#""control":"93""#,
            r#""value":"201000000012""#,
            r#""data":"120000001020""#,
        ],
    );
    let (o, _) = describe(&frame("E15"));
    has(
        &o,
        &[
            r#""di":"33343233""#,
            r#""name":null"#,
            r#""checksum_ok":true"#,
        ],
    );
    let (o, ok) = describe(&frame("E16"));
    has(&o, &[r#""checksum_ok":false"#]);
    assert!(!ok);
    let (o, _) = describe(&frame("E17b"));
    has(
        &o,
        &[
            r#""control":"D1""#,
            r#""error":true"#,
            r#""err":{"code":"02","meaning":"no requested data"}"#,
        ],
    );
    let (o, _) = describe(&frame("E24"));
    has(
        &o,
        &[
            r#""function":"1C""#,
            r#""valid_until":"2018-05-12 15:41:24""#,
            r#""command":"1A""#,
        ],
    );
    let (o, _) = describe(&frame("E25"));
    has(
        &o,
        &[
            r#""address":"999999999999""#,
            r#""value":"2017-06-05 10:22:51""#,
            r#""data":"512210050617""#,
        ],
    );
    let (o, _) = describe(&frame("E27"));
    has(
        &o,
        &[
            r#""function":"01""#,
            r#""di":"B611""#,
            r#""name":"phase A voltage""#,
        ],
    );
}

#[test]
fn non_frames_give_parse_errors() {
    for bad in [
        &[][..],
        &[0xFE, 0xFE][..],
        &hex("68AAAAAAAAAAAA681300DF")[..],         // truncated
        &hex("68AAAAAAAAAAAA681300DF1600")[..],     // trailing byte
        &hex("69AAAAAAAAAAAA681300E016")[..],       // start byte
        &hex("68AAAAAAAAAAAA681300DF17")[..],       // end byte
        &hex("68AAAAAAAAAAAB681300E016")[..],       // address not BCD
        &hex("68111111111111681103333433D416")[..], // read with 3 data bytes
    ] {
        let (o, ok) = describe(bad);
        assert!(o.starts_with("{\"parse_error\":\""), "{o}");
        assert!(!ok);
    }
}
