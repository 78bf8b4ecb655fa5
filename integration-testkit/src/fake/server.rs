//! [`FakeServer`]: an axum application served on `127.0.0.1:0` for as long as the handle lives.

use std::net::SocketAddr;

use tokio::task::JoinHandle;

/// A running fake; dropping it stops the server.
#[derive(Debug)]
pub struct FakeServer {
    addr: SocketAddr,
    task: JoinHandle<()>,
}

impl FakeServer {
    /// Serves `app` on a free loopback port.
    ///
    /// # Panics
    /// When no loopback port can be bound — the test cannot run at all then.
    pub async fn start(app: axum::Router) -> Self {
        Self::start_with(|_| app).await
    }

    /// Serves the application `make` builds for its own base URL (`http://127.0.0.1:<port>`),
    /// for apps that must know where they are served (absolute locations in answers).
    ///
    /// # Panics
    /// When no loopback port can be bound — the test cannot run at all then.
    pub async fn start_with(make: impl FnOnce(String) -> axum::Router) -> Self {
        #[allow(clippy::expect_used)]
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("bind a loopback port for a fake");
        #[allow(clippy::expect_used)]
        let addr = listener.local_addr().expect("the fake's address");
        let app = make(format!("http://{addr}"));
        let task = tokio::spawn(async move {
            if let Err(e) = axum::serve(listener, app).await {
                tracing::error!(error = %e, "a fake server stopped");
            }
        });
        Self { addr, task }
    }

    /// Serves `app` with the state `make` builds for the server's base URL, and gives that state
    /// back (a fake keeps it to reach its books and its own URL).
    ///
    /// # Panics
    /// When no loopback port can be bound — the test cannot run at all then.
    pub async fn start_with_state<S: Clone + Send + Sync + 'static>(
        app: axum::Router<S>,
        make: impl FnOnce(String) -> S,
    ) -> (Self, S) {
        let mut kept = None;
        let server = Self::start_with(|base| {
            let state = make(base);
            kept = Some(state.clone());
            app.with_state(state)
        })
        .await;
        #[allow(clippy::expect_used)]
        let state = kept.expect("start_with builds the app before it returns");
        (server, state)
    }

    /// `http://127.0.0.1:<port>`.
    pub fn base_url(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// The socket address.
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }
}

impl Drop for FakeServer {
    fn drop(&mut self) {
        self.task.abort();
    }
}
