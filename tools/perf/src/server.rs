//! The log server in a child process, so its memory is not counted as ours.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::path::Path;
use std::process::{Child, Command, Stdio};

/// A running `sockstatlog-logserver` child process, killed on drop.
pub struct LogServer {
    child: Child,
    /// `http://127.0.0.1:PORT`.
    pub base_url: String,
}

impl LogServer {
    /// Starts the server binary on a free loopback port, in memory.
    pub fn start(bin: &Path) -> Result<LogServer, Box<dyn std::error::Error>> {
        let mut child = Command::new(bin)
            .args(["--listen", "127.0.0.1:0", "--memory", "--quiet"])
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .map_err(|e| format!("cannot start {}: {e}", bin.display()))?;
        let stdout = child.stdout.take().ok_or("no stdout")?;
        let mut first = String::new();
        BufReader::new(stdout).read_line(&mut first)?;
        let base_url = first
            .trim()
            .strip_prefix("listening on ")
            .ok_or_else(|| format!("unexpected first line from the server: {first:?}"))?
            .to_string();
        Ok(LogServer { child, base_url })
    }

    /// How many entries the server has stored since it started (it is
    /// fresh and in memory, so: all of them).
    pub fn entries_stored(&self) -> Result<u64, Box<dyn std::error::Error>> {
        let host = self.base_url.strip_prefix("http://").ok_or("not http")?;
        let mut stream = TcpStream::connect(host)?;
        write!(
            stream,
            "GET /stats HTTP/1.1\r\nHost: {host}\r\nConnection: close\r\n\r\n"
        )?;
        let mut response = String::new();
        stream.read_to_string(&mut response)?;
        let value = response
            .split("\"entries_stored\":")
            .nth(1)
            .ok_or_else(|| format!("no entries_stored in {response:?}"))?;
        let digits: String = value.chars().take_while(char::is_ascii_digit).collect();
        Ok(digits.parse()?)
    }
}

impl Drop for LogServer {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
