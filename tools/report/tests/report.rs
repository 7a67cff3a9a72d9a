//! `sockstatlog-report` on each kind of input, run as the binary a person runs.

use std::collections::BTreeMap;
use std::path::Path;
use std::process::{Command, Output};

use sockstatlog::{FileBuffer, FileBufferOptions, LogBuffer};
use sockstatlog_logserver::store::Store;
use sockstatlog_logserver::{Config, Server};

fn report(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_sockstatlog-report"))
        .args(args)
        .output()
        .expect("the report binary runs")
}

fn stdout(output: &Output) -> String {
    String::from_utf8_lossy(&output.stdout).into_owned()
}

/// `n` events of label 8, 100 ms apart from t = 1,700,000,000,000, the second half cellular.
fn events(n: i64) -> Vec<String> {
    (0..n)
        .map(|i| {
            let c = if i >= n / 2 { r#""c":1,"# } else { "" };
            format!(
                r#"{{"t":{},"d":100,{c}"s":{{"8":[100,1000]}}}}"#,
                1_700_000_000_000 + i * 100
            )
        })
        .collect()
}

fn snapshot(dir: &Path) -> BTreeMap<String, Vec<u8>> {
    std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap())
        .map(|e| {
            (
                e.file_name().to_string_lossy().into_owned(),
                std::fs::read(e.path()).unwrap(),
            )
        })
        .collect()
}

#[test]
fn a_buffer_directory_is_reported_and_left_exactly_as_it_was() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("buffer");
    let buffer = FileBuffer::open(&dir, FileBufferOptions::default()).unwrap();
    buffer.append(&events(10)).unwrap();
    buffer
        .append(&[r#"{"text":"app backgrounded"}"#.to_owned()])
        .unwrap();
    drop(buffer);
    let before = snapshot(&dir);
    let out = tmp.path().join("report.html");

    let output = report(&[dir.to_str().unwrap(), "--out", out.to_str().unwrap()]);

    let text = stdout(&output);
    assert_eq!(output.status.code(), Some(0), "{text}");
    assert!(
        text.contains(
            "    8  MagicsockConnUDP4         1.00 kB    10.0 kB    11.0 kB  100.0 %       50.0 %"
        ),
        "{text}"
    );
    assert!(
        text.contains(
            "11 lines: 10 events (10 in this range), 1 other lines (text, markers), 0 damaged"
        ),
        "{text}"
    );
    let html = std::fs::read_to_string(&out).unwrap();
    assert_eq!(html.matches(r#"<g class="series""#).count(), 1);
    assert_eq!(
        snapshot(&dir),
        before,
        "the phone's buffer directory must not change"
    );
}

#[test]
fn the_go_originals_buffer_files_are_read_without_being_taken_over() {
    let tmp = tempfile::tempdir().unwrap();
    let lines: Vec<String> = events(4)
        .iter()
        .map(|e| {
            e.replacen(
                '{',
                r#"{"logtail":{"client_time":"2023-11-14T22:13:20.1Z"},"#,
                1,
            )
        })
        .collect();
    std::fs::write(
        tmp.path().join("sockstats.log1.txt"),
        lines.join("\n") + "\n",
    )
    .unwrap();
    let before = snapshot(tmp.path());
    let out = tmp
        .path()
        .join("..")
        .join(format!("go-{}.html", std::process::id()));

    let output = report(&[tmp.path().to_str().unwrap(), "--out", out.to_str().unwrap()]);

    let text = stdout(&output);
    assert_eq!(output.status.code(), Some(0), "{text}");
    assert!(text.contains("4 lines: 4 events"), "{text}");
    assert!(
        text.contains("MagicsockConnUDP4           400 B    4.00 kB    4.40 kB"),
        "{text}"
    );
    assert_eq!(snapshot(tmp.path()), before);
    let _ = std::fs::remove_file(out);
}

#[test]
fn bad_lines_in_an_exported_file_are_counted_and_named_and_the_rest_is_reported() {
    let tmp = tempfile::tempdir().unwrap();
    let mut lines = events(4);
    lines.insert(1, "{\"t\":17000".to_owned());
    lines.push(r#"{"t":1700000000000,"d":100,"s":{"999":[1,1],"12":[5,5]}}"#.to_owned());
    let file = tmp.path().join("lines.jsonl");
    std::fs::write(&file, lines.join("\n")).unwrap();
    let out = tmp.path().join("r.html");
    let svg = tmp.path().join("r.svg");

    let output = report(&[
        file.to_str().unwrap(),
        "--out",
        out.to_str().unwrap(),
        "--svg",
        svg.to_str().unwrap(),
    ]);

    let text = stdout(&output);
    assert_eq!(output.status.code(), Some(0), "{text}");
    assert!(
        text.contains(
            "6 lines: 5 events (5 in this range), 0 other lines (text, markers), 1 damaged"
        ),
        "{text}"
    );
    assert!(
        text.contains("damaged: line 2: not a JSON object: EOF while parsing"),
        "{text}"
    );
    assert!(
        text.contains("1 label keys that are not numbers 0-255 were left out: 999"),
        "{text}"
    );
    assert!(
        text.contains("1 events out of order, 0 overlapping the previous one"),
        "{text}"
    );
    assert!(text.contains("   12  DNSForwarderTCP"), "{text}");
    assert!(std::fs::read_to_string(&svg).unwrap().starts_with("<svg "));
}

#[test]
fn an_input_without_events_is_reported_as_such() {
    let tmp = tempfile::tempdir().unwrap();
    let file = tmp.path().join("empty.jsonl");
    std::fs::write(&file, "").unwrap();
    let out = tmp.path().join("r.html");

    let output = report(&[file.to_str().unwrap(), "--out", out.to_str().unwrap()]);

    let text = stdout(&output);
    assert_eq!(output.status.code(), Some(0), "{text}");
    assert!(
        text.contains("no events in this input: nothing to chart"),
        "{text}"
    );
    let html = std::fs::read_to_string(&out).unwrap();
    assert!(html.contains("This log holds no lines at all"), "{html}");
}

#[test]
fn a_log_on_the_server_is_read_by_its_address() {
    let tmp = tempfile::tempdir().unwrap();
    let db = tmp.path().join("log.sqlite3");
    let id = "ab".repeat(32);
    Store::open(&sockstatlog_logserver::Storage::Sqlite(db.clone()))
        .unwrap()
        .append("sockstats.test", &id, &events(6))
        .unwrap();
    let server = Server::start(Config::sqlite(db)).unwrap();
    let out = tmp.path().join("r.html");

    let url = format!("{}/logs/sockstats.test/{id}", server.base_url());
    let output = report(&[&url, "--out", out.to_str().unwrap()]);

    let text = stdout(&output);
    assert_eq!(output.status.code(), Some(0), "{text}");
    assert!(text.contains("6 lines: 6 events"), "{text}");
    let missing = report(&[
        &format!("{}/c/sockstats.test/{}", server.base_url(), "cd".repeat(32)),
        "--out",
        out.to_str().unwrap(),
    ]);
    assert!(
        stdout(&missing).contains("no events in this input"),
        "an unknown log is an empty array"
    );
}

#[test]
fn an_unreadable_input_is_an_error_that_names_it() {
    let output = report(&["/nonexistent/buffer"]);
    assert_eq!(output.status.code(), Some(1));
    assert_eq!(
        String::from_utf8_lossy(&output.stderr),
        "sockstatlog-report: cannot read /nonexistent/buffer: No such file or directory (os error 2)\n"
    );
    let https = report(&["https://log.example/c/x/y"]);
    assert!(String::from_utf8_lossy(&https.stderr).contains("only plain http is supported"));
}
