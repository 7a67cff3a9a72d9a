//! The `sockstatlog-logserver` binary: help, refusing non-loopback, serving.

mod common;

use std::io::{BufRead, BufReader};
use std::net::SocketAddr;
use std::process::{Command, Stdio};

use common::{get, post_json, read_path, upload_path};

const BIN: &str = env!("CARGO_BIN_EXE_sockstatlog-logserver");

#[test]
fn help_lists_every_flag_and_exits_successfully() {
    let output = Command::new(BIN).arg("--help").output().unwrap();

    assert!(output.status.success());
    let help = String::from_utf8(output.stdout).unwrap();
    for flag in [
        "--listen",
        "--db",
        "--memory",
        "--fail-500",
        "--fail-429",
        "--retry-after",
        "--fail-reset",
        "--slow",
        "--slow-ms",
        "--seed",
        "--allow-non-loopback",
        "--body-limit",
    ] {
        assert!(help.contains(flag), "help lacks {flag}");
    }
}

#[test]
fn a_non_loopback_listen_address_without_the_flag_exits_with_the_reason() {
    let output = Command::new(BIN)
        .args(["--listen", "0.0.0.0:0", "--memory"])
        .output()
        .unwrap();

    assert_eq!(output.status.code(), Some(1));
    assert_eq!(
        String::from_utf8(output.stderr).unwrap(),
        "sockstatlog-logserver: refusing to listen on non-loopback address 0.0.0.0:0: this server has no authentication; allow it explicitly (--allow-non-loopback) if you really mean to\n"
    );
}

#[test]
fn a_bad_flag_exits_with_usage_error_code_2() {
    let output = Command::new(BIN).arg("--fail-500=2").output().unwrap();

    assert_eq!(output.status.code(), Some(2));
    assert_eq!(
        String::from_utf8(output.stderr).unwrap(),
        "sockstatlog-logserver: invalid value \"2\" for --fail-500: expected a share between 0.0 and 1.0\n"
    );
}

#[test]
fn it_prints_its_url_first_and_serves_uploads_there() {
    let mut child = Command::new(BIN)
        .args(["--listen", "127.0.0.1:0", "--memory", "--quiet"])
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let mut first_line = String::new();
    BufReader::new(child.stdout.take().unwrap())
        .read_line(&mut first_line)
        .unwrap();
    let url = first_line
        .trim_end()
        .strip_prefix("listening on http://")
        .unwrap_or_else(|| panic!("unexpected first line {first_line:?}"))
        .to_owned();
    let addr: SocketAddr = url.parse().unwrap();

    let upload = post_json(addr, &upload_path(), r#"[{"via":"binary"}]"#);
    let read = get(addr, &read_path());
    child.kill().unwrap();
    child.wait().unwrap();

    assert!(addr.ip().is_loopback());
    assert_eq!(upload.status, 200);
    assert_eq!(read.body, r#"[{"via":"binary"}]"#);
}
