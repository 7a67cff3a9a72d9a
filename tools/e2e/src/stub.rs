//! A scripted HTTP server on loopback: answers each upload with the next
//! canned response, the way a proxy, a captive portal or a misconfigured
//! server would. For the statuses the log server never sends.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;

/// One canned response. `{path}` in the body is replaced with the
/// request's path (which holds the private log ID), as error pages do.
#[derive(Clone, Debug)]
pub struct Answer {
    /// The status, e.g. 404.
    pub status: u16,
    /// Extra headers, e.g. `Retry-After`.
    pub headers: Vec<(String, String)>,
    /// The body; `{path}` is the request path.
    pub body: String,
}

impl Answer {
    /// `status` with `body` and no extra headers.
    pub fn new(status: u16, body: &str) -> Answer {
        Answer {
            status,
            headers: Vec::new(),
            body: body.to_string(),
        }
    }
}

/// The running stub; stops when dropped.
pub struct StubServer {
    addr: SocketAddr,
    paths: Arc<Mutex<Vec<String>>>,
    stop: Arc<AtomicBool>,
    thread: Option<JoinHandle<()>>,
}

impl StubServer {
    /// Starts answering on a free loopback port: the n-th request gets
    /// `answers[n]`, later ones the last answer.
    pub fn start(answers: Vec<Answer>) -> StubServer {
        assert!(!answers.is_empty(), "give the stub at least one answer");
        let listener = TcpListener::bind("127.0.0.1:0").expect("a loopback port");
        let addr = listener.local_addr().expect("its address");
        let paths = Arc::new(Mutex::new(Vec::new()));
        let stop = Arc::new(AtomicBool::new(false));
        let thread = {
            let (paths, stop) = (paths.clone(), stop.clone());
            std::thread::spawn(move || {
                for stream in listener.incoming() {
                    if stop.load(Ordering::SeqCst) {
                        break;
                    }
                    let Ok(stream) = stream else { continue };
                    let _ = serve(stream, &answers, &paths);
                }
            })
        };
        StubServer {
            addr,
            paths,
            stop,
            thread: Some(thread),
        }
    }

    /// `http://127.0.0.1:PORT`.
    pub fn base_url(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// The paths of the requests answered so far.
    pub fn paths(&self) -> Vec<String> {
        self.paths.lock().unwrap().clone()
    }
}

impl Drop for StubServer {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::SeqCst);
        // Wake the accept loop.
        let _ = TcpStream::connect(self.addr);
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

/// Reads one request, notes its path, writes the answer due, closes.
fn serve(stream: TcpStream, answers: &[Answer], paths: &Mutex<Vec<String>>) -> Option<()> {
    let mut reader = BufReader::new(stream.try_clone().ok()?);
    let mut request_line = String::new();
    reader.read_line(&mut request_line).ok()?;
    let path = request_line.split(' ').nth(1)?.to_string();
    let mut length = 0usize;
    loop {
        let mut header = String::new();
        reader.read_line(&mut header).ok()?;
        let header = header.trim_end();
        if header.is_empty() {
            break;
        }
        if let Some((name, value)) = header.split_once(':') {
            if name.eq_ignore_ascii_case("content-length") {
                length = value.trim().parse().ok()?;
            }
        }
    }
    let mut body = vec![0; length];
    reader.read_exact(&mut body).ok()?;
    let answer = {
        let mut paths = paths.lock().unwrap();
        paths.push(path.clone());
        &answers[(paths.len() - 1).min(answers.len() - 1)]
    };
    let text = answer.body.replace("{path}", &path);
    let mut response = format!(
        "HTTP/1.1 {} Stub\r\nContent-Type: text/html\r\nContent-Length: {}\r\nConnection: close\r\n",
        answer.status,
        text.len()
    );
    for (name, value) in &answer.headers {
        response.push_str(&format!("{name}: {value}\r\n"));
    }
    response.push_str("\r\n");
    response.push_str(&text);
    let mut stream = stream;
    stream.write_all(response.as_bytes()).ok()?;
    stream.flush().ok()
}
