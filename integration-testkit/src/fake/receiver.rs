//! [`Receiver`]: a loopback HTTP endpoint for outbound calls under test (webhooks an
//! application sends, automation HTTP actions). It answers every request with one canned raw
//! response and keeps each request, and counts connections, so a test can prove that nothing
//! was sent.
//!
//! ```
//! # tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap().block_on(async {
//! use integration_testkit::fake::receiver::Receiver;
//!
//! let rx = Receiver::start("HTTP/1.1 204 No Content\r\nconnection: close\r\n\r\n").await;
//! let answer = reqwest::Client::new().post(format!("{}/hook", rx.base_url())).body("hi").send().await.unwrap();
//! assert_eq!(answer.status(), 204);
//! let requests = rx.requests();
//! assert!(requests[0].head.starts_with("POST /hook HTTP/1.1"));
//! assert_eq!(requests[0].body, "hi");
//! assert_eq!(rx.connections(), 1);
//! # });
//! ```

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpListener;

/// The most of one request kept.
const MAX_REQUEST: usize = 64 * 1024;

/// One request as received.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReceivedRequest {
    /// The request line and headers, without the blank line.
    pub head: String,
    /// The body (by `content-length`), as text.
    pub body: String,
}

impl ReceivedRequest {
    /// The value of header `name` (case-insensitive), if present.
    pub fn header(&self, name: &str) -> Option<&str> {
        self.head.lines().skip(1).find_map(|line| {
            let (n, v) = line.split_once(':')?;
            n.trim().eq_ignore_ascii_case(name).then(|| v.trim())
        })
    }
}

/// A loopback HTTP receiver; stops when dropped.
#[derive(Debug)]
pub struct Receiver {
    port: u16,
    connections: Arc<AtomicUsize>,
    requests: Arc<Mutex<Vec<ReceivedRequest>>>,
    task: tokio::task::JoinHandle<()>,
}

impl Receiver {
    /// Starts on 127.0.0.1 with an ephemeral port, answering every request with `response`
    /// (raw HTTP; `{port}` in it is replaced by the receiver's port, for redirects).
    pub async fn start(response: &str) -> Self {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap_or_else(|e| panic!("bind 127.0.0.1:0: {e}"));
        let port = listener.local_addr().map(|a| a.port()).unwrap_or_else(|e| panic!("local address: {e}"));
        let response = Arc::new(response.replace("{port}", &port.to_string()));
        let connections = Arc::new(AtomicUsize::new(0));
        let requests = Arc::new(Mutex::new(Vec::new()));
        let (c, r) = (connections.clone(), requests.clone());
        let task = tokio::spawn(async move {
            while let Ok((mut stream, _)) = listener.accept().await {
                c.fetch_add(1, Ordering::SeqCst);
                let (r, response) = (r.clone(), response.clone());
                tokio::spawn(async move {
                    if let Some(request) = read_request(&mut stream).await {
                        r.lock().unwrap_or_else(|p| p.into_inner()).push(request);
                    }
                    let _ = stream.write_all(response.as_bytes()).await;
                });
            }
        });
        Self { port, connections, requests, task }
    }

    /// The port it listens on.
    pub fn port(&self) -> u16 {
        self.port
    }

    /// `http://127.0.0.1:<port>`.
    pub fn base_url(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }

    /// Connections accepted so far.
    pub fn connections(&self) -> usize {
        self.connections.load(Ordering::SeqCst)
    }

    /// The requests received so far, in order.
    pub fn requests(&self) -> Vec<ReceivedRequest> {
        self.requests.lock().unwrap_or_else(|p| p.into_inner()).clone()
    }
}

impl Drop for Receiver {
    fn drop(&mut self) {
        self.task.abort();
    }
}

/// Reads the head, then the body by `content-length`; `None` when the peer sent nothing.
async fn read_request(stream: &mut tokio::net::TcpStream) -> Option<ReceivedRequest> {
    let mut buf = vec![0u8; MAX_REQUEST];
    let mut read = 0;
    loop {
        let n = stream.read(&mut buf[read..]).await.unwrap_or(0);
        read += n;
        let text = String::from_utf8_lossy(&buf[..read]);
        if let Some(end) = text.find("\r\n\r\n") {
            let head = &text[..end];
            let length = head
                .lines()
                .find_map(|l| {
                    l.to_ascii_lowercase().strip_prefix("content-length:").map(|v| v.trim().parse().unwrap_or(0))
                })
                .unwrap_or(0usize);
            if read >= end + 4 + length || n == 0 || read == buf.len() {
                return Some(ReceivedRequest { head: head.to_owned(), body: text[end + 4..].to_owned() });
            }
        }
        if n == 0 || read == buf.len() {
            return (read > 0).then(|| ReceivedRequest { head: text.into_owned(), body: String::new() });
        }
    }
}
