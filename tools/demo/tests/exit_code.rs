//! The demo's verdict: it exits 0 only when the server holds every line.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpListener;
use std::process::{Command, Output};

fn demo(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_sockstatlog-demo"))
        .args(args)
        .output()
        .expect("the demo binary runs")
}

/// A server that answers every request with 400 and a reason, so every batch is
/// refused and reading the log back fails.
fn refusing_server() -> String {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap();
    std::thread::spawn(move || {
        for stream in listener.incoming() {
            let Ok(mut stream) = stream else { continue };
            let mut reader = BufReader::new(stream.try_clone().unwrap());
            let mut length = 0usize;
            let mut line = String::new();
            while reader.read_line(&mut line).is_ok_and(|n| n > 0) && line != "\r\n" {
                if let Some(value) = line.to_ascii_lowercase().strip_prefix("content-length:") {
                    length = value.trim().parse().unwrap_or(0);
                }
                line.clear();
            }
            let mut body = vec![0; length];
            let _ = reader.read_exact(&mut body);
            let _ = stream.write_all(
                b"HTTP/1.1 400 Bad Request\r\nContent-Length: 8\r\nConnection: close\r\n\r\nrefused\n",
            );
        }
    });
    format!("http://{addr}")
}

#[test]
fn the_demo_fails_when_the_server_refused_every_batch_and_cannot_be_read_back() {
    let copy = tempfile::tempdir().unwrap();
    let server = refusing_server();
    let copy_dir = copy.path().join("buffer").display().to_string();

    let output = demo(&[
        "--seconds",
        "1",
        "--server",
        &server,
        "--buffer-copy",
        &copy_dir,
    ]);

    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(stdout.contains("cannot tell"), "{stdout}");
    assert_eq!(output.status.code(), Some(1), "{stdout}");
}

#[test]
fn the_demo_succeeds_and_ends_with_the_url_of_its_session_page() {
    let copy = tempfile::tempdir().unwrap();
    let copy_dir = copy.path().join("buffer").display().to_string();

    let output = demo(&["--seconds", "1", "--buffer-copy", &copy_dir]);

    let stdout = String::from_utf8_lossy(&output.stdout);
    assert_eq!(output.status.code(), Some(0), "{stdout}");
    assert!(
        stdout.contains("server holds every line exactly, in order: yes"),
        "{stdout}"
    );
    let last = stdout.lines().last().unwrap_or("");
    assert!(
        last.starts_with("traffic view of this session: http://127.0.0.1:")
            && last.contains("/logs/sockstats.log.tailscale.io/"),
        "{stdout}"
    );
    assert!(
        copy.path().join("buffer").read_dir().unwrap().count() > 0,
        "the buffer copy is kept"
    );
}
