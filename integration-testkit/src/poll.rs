//! Waiting for a condition without fixed sleeps: poll it until it holds or a deadline passes.

use std::future::Future;
use std::time::Duration;

use tokio::time::Instant;

/// How long [`eventually`] waits between attempts.
const INTERVAL: Duration = Duration::from_millis(5);

/// Calls `attempt` until it returns `Some`, or `deadline` passes (then `None`).
///
/// ```
/// # tokio::runtime::Builder::new_current_thread().enable_time().build().unwrap().block_on(async {
/// use integration_testkit::poll::eventually;
/// use std::time::Duration;
///
/// let mut tries = 0;
/// let found = eventually(Duration::from_secs(1), || {
///     tries += 1;
///     let ready = tries == 3;
///     async move { ready.then_some("ready") }
/// })
/// .await;
/// assert_eq!(found, Some("ready"));
/// # });
/// ```
pub async fn eventually<T, F, Fut>(deadline: Duration, mut attempt: F) -> Option<T>
where
    F: FnMut() -> Fut,
    Fut: Future<Output = Option<T>>,
{
    let until = Instant::now() + deadline;
    loop {
        if let Some(value) = attempt().await {
            return Some(value);
        }
        if Instant::now() >= until {
            return None;
        }
        tokio::time::sleep(INTERVAL).await;
    }
}
