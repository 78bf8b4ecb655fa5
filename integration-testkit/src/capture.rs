//! Captures everything `tracing` emits while a future runs — every event and every span with its
//! fields, at TRACE — so a test can assert that no secret ever reaches the logs.
//!
//! ```
//! # tokio::runtime::Builder::new_current_thread().build().unwrap().block_on(async {
//! use integration_testkit::capture::capture_tracing;
//!
//! let ((), logs) = capture_tracing(async {
//!     tracing::info!(tenant = "acme", "hello");
//! })
//! .await;
//! assert!(logs.contains("hello") && logs.contains("acme"));
//! # });
//! ```

use std::future::Future;
use std::io;
use std::sync::{Arc, Mutex};

use tracing::instrument::WithSubscriber as _;
use tracing_subscriber::fmt::MakeWriter;
use tracing_subscriber::fmt::format::FmtSpan;

#[derive(Clone, Default)]
struct Buffer(Arc<Mutex<Vec<u8>>>);

impl io::Write for Buffer {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        self.0.lock().unwrap_or_else(|p| p.into_inner()).extend_from_slice(buf);
        Ok(buf.len())
    }

    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

impl<'a> MakeWriter<'a> for Buffer {
    type Writer = Buffer;
    fn make_writer(&'a self) -> Self::Writer {
        self.clone()
    }
}

/// Runs `future` with a TRACE-level subscriber that records every event and span (with their
/// fields) as text; returns the future's output and the text.
///
/// Only what the future itself polls is captured: tasks it spawns run under the global
/// subscriber.
pub async fn capture_tracing<F: Future>(future: F) -> (F::Output, String) {
    let buffer = Buffer::default();
    let subscriber = tracing_subscriber::fmt()
        .with_max_level(tracing::Level::TRACE)
        .with_span_events(FmtSpan::FULL)
        .with_ansi(false)
        .with_writer(buffer.clone())
        .finish();
    let output = future.with_subscriber(subscriber).await;
    let text = String::from_utf8_lossy(&buffer.0.lock().unwrap_or_else(|p| p.into_inner())).into_owned();
    (output, text)
}
