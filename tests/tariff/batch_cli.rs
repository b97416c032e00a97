//! The `tariff_batch` example as a binary: its JSON lines, and a quiet success when the
//! reader of its output has gone (`tariff_batch | head -1`).

use crate::example_support;
use std::process::{Command, Stdio};

#[test]
fn prints_one_json_line_per_meter() {
    let output = Command::new(example_support::example("tariff_batch"))
        .output()
        .unwrap();
    assert!(output.status.success(), "{output:?}");
    let stdout = String::from_utf8(output.stdout).unwrap();
    let lines: Vec<&str> = stdout.lines().collect();
    assert_eq!(lines.len(), 3, "{stdout}");
    for (line, meter) in lines
        .iter()
        .zip(["000000000001", "000000000002", "000000000003"])
    {
        assert!(
            line.starts_with(&format!("{{\"meter\":\"{meter}\",")),
            "{line}"
        );
        assert!(line.ends_with('}'), "{line}");
    }
}

#[test]
fn ends_quietly_with_success_on_a_broken_pipe() {
    // A pipe whose read end is already closed: the first write fails with EPIPE.
    let (reader, writer) = std::io::pipe().unwrap();
    drop(reader);
    let output = Command::new(example_support::example("tariff_batch"))
        .stdout(writer)
        .stderr(Stdio::piped())
        .output()
        .unwrap();
    assert!(output.status.success(), "{output:?}");
    assert_eq!(String::from_utf8_lossy(&output.stderr), "");
}
