//! [`HttpClient`] (the process's pool and shared policy state), [`ProviderClient`] (one
//! provider's policy, tenant and credentials) and [`Request`] / [`Response`].

use std::sync::Arc;
use std::task::Poll;
use std::time::Duration;

use bytes::Bytes;
use http::header::{CONTENT_TYPE, HeaderMap, HeaderName, HeaderValue};
use reqwest::{Method, StatusCode, Url};
use serde::Serialize;
use serde::de::DeserializeOwned;
use tokio::time::Instant;
use tower::retry::budget::{Budget as _, TpsBudget};
use tracing::Instrument as _;

use super::circuit::{Circuits, LastBreaker, Outcome};
use super::policy::HttpPolicy;
use super::rate_limit::{KeyLimiter, RateLimiters};
use super::retry::{RetryBudgets, Verdict, decide, is_idempotent};
use super::template::path_template;
use super::transport;
use crate::auth::{AuthStamp, Authenticator};
use crate::descriptor::Descriptor;
use crate::error::{Delivery, Error, ErrorKind, Result, truncate_body};
use crate::ids::{ProviderId, TenantId};
use crate::redact::Redactor;

/// The process's HTTP client: one connection pool (reqwest, rustls) and the state every
/// provider's policy shares — circuit breakers per host, rate limiters per provider × tenant,
/// retry budgets per provider. Cheap to clone; clones share everything.
#[derive(Debug, Clone)]
pub struct HttpClient {
    inner: reqwest::Client,
    shared: Arc<Shared>,
}

#[derive(Debug, Default)]
struct Shared {
    circuits: Circuits,
    limiters: RateLimiters,
    budgets: RetryBudgets,
}

/// Builds an [`HttpClient`]; see [`HttpClient::builder`].
#[derive(Debug, Clone)]
#[must_use]
pub struct HttpClientBuilder {
    connect_timeout: Option<Duration>,
    pool_idle_timeout: Option<Duration>,
    user_agent: String,
    pub(super) identity: Option<(reqwest::Identity, super::mutual_tls::Blame)>,
    pub(super) roots: Vec<reqwest::Certificate>,
}

impl HttpClientBuilder {
    /// The connect timeout (TCP and TLS) for the whole pool; default 10 s.
    pub fn connect_timeout(mut self, timeout: Option<Duration>) -> Self {
        self.connect_timeout = timeout;
        self
    }

    /// How long an idle pooled connection is kept; default 90 s.
    pub fn pool_idle_timeout(mut self, timeout: Option<Duration>) -> Self {
        self.pool_idle_timeout = timeout;
        self
    }

    /// The `User-Agent` sent with every request.
    pub fn user_agent(mut self, user_agent: impl Into<String>) -> Self {
        self.user_agent = user_agent.into();
        self
    }

    /// Builds the client. Fails if the TLS backend cannot start or, with a
    /// [`client_certificate`](Self::client_certificate), if an extra root or the key is not
    /// usable: a [`Config`](crate::ErrorKind::Config) error naming that field.
    pub fn build(self) -> Result<HttpClient> {
        let mut builder = self.reqwest_builder();
        if let Some((identity, _)) = &self.identity {
            builder = builder.identity(identity.clone());
        }
        match builder.build() {
            Ok(inner) => Ok(HttpClient::from_reqwest(inner)),
            Err(e) => Err(match &self.identity {
                Some((_, blame)) => blame.failed_build(self.reqwest_builder().build().is_err()),
                None => Error::config("could not start the HTTP client").with_source(e),
            }),
        }
    }

    /// The reqwest builder for these settings (rustls, extra roots), without the identity.
    pub(super) fn reqwest_builder(&self) -> reqwest::ClientBuilder {
        let builder = reqwest::Client::builder()
            .use_rustls_tls()
            .user_agent(self.user_agent.clone())
            .pool_idle_timeout(self.pool_idle_timeout)
            .redirect(same_origin_redirects());
        let builder = match self.connect_timeout {
            Some(timeout) => builder.connect_timeout(timeout),
            None => builder,
        };
        self.roots.iter().fold(builder, |b, root| b.add_root_certificate(root.clone()))
    }
}

/// The most redirects one request follows.
pub const MAX_REDIRECTS: usize = 10;

/// Redirects are followed only within the origin (scheme, host and port) the request was sent
/// to, at most [`MAX_REDIRECTS`]: credentials travel in headers and query parameters an
/// `Authorization`-stripping redirect would still carry (`X-API-Key`, `?api_key=`), so a redirect
/// to another origin is not followed — the caller gets the redirect answer itself.
pub(crate) fn same_origin_redirects() -> reqwest::redirect::Policy {
    reqwest::redirect::Policy::custom(|attempt| {
        let same_origin = attempt.previous().first().is_some_and(|first| first.origin() == attempt.url().origin());
        if !same_origin {
            attempt.stop()
        } else if attempt.previous().len() > MAX_REDIRECTS {
            attempt.error("more redirects than a request follows")
        } else {
            attempt.follow()
        }
    })
}

impl HttpClient {
    /// A client with the default pool settings.
    pub fn new() -> Result<Self> {
        Self::builder().build()
    }

    /// Starts a builder (connect timeout, pool idle timeout, user agent).
    pub fn builder() -> HttpClientBuilder {
        HttpClientBuilder {
            connect_timeout: Some(Duration::from_secs(10)),
            pool_idle_timeout: Some(Duration::from_secs(90)),
            user_agent: concat!("integrations-rs/", env!("CARGO_PKG_VERSION")).to_owned(),
            identity: None,
            roots: Vec::new(),
        }
    }

    /// Wraps a reqwest client the host application already has, sharing its pool.
    pub fn from_reqwest(client: reqwest::Client) -> Self {
        Self { inner: client, shared: Arc::default() }
    }

    /// The underlying reqwest client.
    pub fn reqwest(&self) -> &reqwest::Client {
        &self.inner
    }

    /// A client for the provider `descriptor` describes, with its declared policy.
    pub fn provider(&self, descriptor: &Descriptor) -> ProviderClient {
        self.provider_with(descriptor.provider.clone(), descriptor.http.clone())
    }

    /// A client for `provider` with an explicit policy.
    pub fn provider_with(&self, provider: ProviderId, policy: HttpPolicy) -> ProviderClient {
        let budget = self.shared.budgets.budget(&provider, &policy.retry);
        let mut client = ProviderClient {
            http: self.clone(),
            provider,
            policy: Arc::new(policy),
            tenant: None,
            auth: None,
            budget,
            limiter: None,
            breaker: LastBreaker::default(),
        };
        client.limiter = client.resolve_limiter();
        client
    }
}

/// One provider's client: its policy, optionally a tenant (rate limits are per tenant) and
/// credentials. Cheap to clone.
#[derive(Debug, Clone)]
pub struct ProviderClient {
    http: HttpClient,
    provider: ProviderId,
    policy: Arc<HttpPolicy>,
    tenant: Option<TenantId>,
    auth: Option<Arc<dyn Authenticator>>,
    budget: Arc<TpsBudget>,
    limiter: Option<Arc<KeyLimiter>>,
    breaker: LastBreaker,
}

impl ProviderClient {
    /// The same client, rate limited under `tenant`'s quota.
    #[must_use]
    pub fn for_tenant(mut self, tenant: TenantId) -> Self {
        self.tenant = Some(tenant);
        self.limiter = self.resolve_limiter();
        self
    }

    /// The same client, with credentials added to every attempt.
    #[must_use]
    pub fn with_auth(mut self, auth: Arc<dyn Authenticator>) -> Self {
        self.auth = Some(auth);
        self
    }

    /// The provider.
    pub fn provider(&self) -> &ProviderId {
        &self.provider
    }

    /// The policy applied.
    pub fn policy(&self) -> &HttpPolicy {
        &self.policy
    }

    fn resolve_limiter(&self) -> Option<Arc<KeyLimiter>> {
        let limit = self.policy.rate_limit?;
        Some(self.http.shared.limiters.limiter(&self.provider, self.tenant.as_ref(), limit))
    }

    /// A request; `url` is parsed when it is sent (a bad URL is then a `Validation` error).
    pub fn request(&self, method: Method, url: impl AsRef<str>) -> Request<'_> {
        let url = Url::parse(url.as_ref()).map_err(|e| {
            Error::validation("url", format!("not an absolute URL: {e}")).with_provider(self.provider.as_str())
        });
        Request {
            client: self,
            method,
            url,
            headers: HeaderMap::new(),
            body: None,
            template: None,
            operation: None,
            idempotency_key: false,
            read_only: false,
            idempotent: false,
            any_status: AnyStatus::No,
            max_body: None,
            streaming: false,
            error: None,
        }
    }

    /// A `GET` request.
    pub fn get(&self, url: impl AsRef<str>) -> Request<'_> {
        self.request(Method::GET, url)
    }

    /// A `POST` request.
    pub fn post(&self, url: impl AsRef<str>) -> Request<'_> {
        self.request(Method::POST, url)
    }

    /// A `PUT` request.
    pub fn put(&self, url: impl AsRef<str>) -> Request<'_> {
        self.request(Method::PUT, url)
    }

    /// A `PATCH` request.
    pub fn patch(&self, url: impl AsRef<str>) -> Request<'_> {
        self.request(Method::PATCH, url)
    }

    /// A `DELETE` request.
    pub fn delete(&self, url: impl AsRef<str>) -> Request<'_> {
        self.request(Method::DELETE, url)
    }
}

/// A request being built; [`Request::send`] runs it through the policy.
#[derive(Debug)]
#[must_use = "a request does nothing until sent"]
pub struct Request<'a> {
    client: &'a ProviderClient,
    method: Method,
    url: Result<Url>,
    headers: HeaderMap,
    body: Option<Bytes>,
    template: Option<String>,
    operation: Option<String>,
    idempotency_key: bool,
    read_only: bool,
    idempotent: bool,
    any_status: AnyStatus,
    max_body: Option<usize>,
    streaming: bool,
    error: Option<Error>,
}

/// Which refused responses a request returns instead of an error.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum AnyStatus {
    No,
    /// 4xx but 429: what a protocol reads error bodies of (OAuth2).
    ClientErrors,
    All,
}

impl Request<'_> {
    fn fail(&mut self, error: Error) {
        if self.error.is_none() {
            self.error = Some(error);
        }
    }

    /// Adds a header (an invalid name or value fails the request when sent).
    pub fn header(mut self, name: &str, value: &str) -> Self {
        match (HeaderName::from_bytes(name.as_bytes()), HeaderValue::from_str(value)) {
            (Ok(name), Ok(value)) => {
                self.headers.append(name, value);
            }
            _ => self.fail(Error::validation("header", format!("header {name:?} or its value is not valid HTTP"))),
        }
        self
    }

    /// Appends query parameters.
    pub fn query<K: AsRef<str>, V: AsRef<str>>(mut self, pairs: &[(K, V)]) -> Self {
        if let Ok(url) = &mut self.url {
            let mut query = url.query_pairs_mut();
            for (k, v) in pairs {
                query.append_pair(k.as_ref(), v.as_ref());
            }
        }
        self
    }

    /// A JSON body.
    pub fn json<T: Serialize + ?Sized>(self, body: &T) -> Self {
        match serde_json::to_vec(body) {
            Ok(bytes) => self.body(bytes, "application/json"),
            Err(e) => {
                let mut this = self;
                this.fail(Error::validation("body", format!("the body does not serialize to JSON: {e}")));
                this
            }
        }
    }

    /// A form body (`application/x-www-form-urlencoded`).
    pub fn form<K: AsRef<str>, V: AsRef<str>>(self, pairs: &[(K, V)]) -> Self {
        let encoded = url::form_urlencoded::Serializer::new(String::new())
            .extend_pairs(pairs.iter().map(|(k, v)| (k.as_ref(), v.as_ref())))
            .finish();
        self.body(encoded, "application/x-www-form-urlencoded")
    }

    /// A raw body with its content type.
    pub fn body(mut self, body: impl Into<Bytes>, content_type: &str) -> Self {
        self.body = Some(body.into());
        match HeaderValue::from_str(content_type) {
            Ok(value) => {
                self.headers.insert(CONTENT_TYPE, value);
            }
            Err(_) => {
                self.fail(Error::validation("content_type", format!("{content_type:?} is not a valid header value")))
            }
        }
        self
    }

    /// Sends `key` in the policy's idempotency header. The provider then applies the request at
    /// most once, so it is retried like an idempotent one.
    pub fn idempotency_key(mut self, key: &str) -> Self {
        let header = self.client.policy.idempotency_header.clone();
        self = self.header(&header, key);
        self.idempotency_key = true;
        self
    }

    /// Declares that the request changes nothing at the provider although its method is not
    /// idempotent — a report or search sent as `POST` — so it is retried like a `GET`.
    pub fn read_only(mut self) -> Self {
        self.read_only = true;
        self
    }

    /// Declares that the request changes the provider's data but that applying it twice leaves
    /// the same result as applying it once, although its method is not idempotent — a `POST`
    /// that sets fields to given values — so it is retried like a `PUT`. A retry after a lost
    /// answer may apply it again (the provider may record a second, identical change); a request
    /// that adds or increments something is not idempotent and needs
    /// [`idempotency_key`](Self::idempotency_key) instead.
    pub fn idempotent(mut self) -> Self {
        self.idempotent = true;
        self
    }

    /// The path with its variable parts named (`/v1/employees/{id}`), for traces and errors.
    /// Without it the path is guessed: segments holding digits become `{id}`.
    pub fn path_template(mut self, template: impl Into<String>) -> Self {
        self.template = Some(template.into());
        self
    }

    /// The operation's name in errors (`"list_employees"`); default `"<METHOD> <path template>"`.
    pub fn operation(mut self, name: impl Into<String>) -> Self {
        self.operation = Some(name.into());
        self
    }

    /// Returns the final response whatever its status, instead of an error for a non-success
    /// one (retries still happen as for any request). For protocols that read error bodies
    /// themselves, such as OAuth2 token endpoints.
    pub fn accept_any_status(mut self) -> Self {
        self.any_status = AnyStatus::All;
        self
    }

    /// Allows this request's answer up to `bytes`, over the policy's
    /// [`max_body_bytes`](HttpPolicy::max_body_bytes): for the one call known to return a whole
    /// dataset at once (BambooHR's custom report of every employee), sized from what it returns
    /// per record rather than raising the limit of every call.
    pub fn max_body_bytes(mut self, bytes: usize) -> Self {
        self.max_body = Some(bytes);
        self
    }

    /// Returns the final response for a client error (4xx but 429) instead of an error, for
    /// protocols that read such error bodies themselves (OAuth2's `invalid_grant`); a 5xx, a
    /// 429 or a transport failure is still an [`Error`], classified and retried as usual — so
    /// it keeps its status and says whether retrying may help.
    pub fn accept_client_errors(mut self) -> Self {
        self.any_status = AnyStatus::ClientErrors;
        self
    }

    /// Sends the request through the policy and returns the 2xx (or 304) response, its body
    /// read. Any other status is an [`Error`] classified by [`crate::status`], with the body kept.
    pub async fn send(self) -> Result<Response> {
        self.run(Ok).await
    }

    /// Sends the request and parses the JSON response. A complete answer whose body does not
    /// parse (a provider's glitch: half a body with a matching length) is asked for again, like
    /// a transient failure, when the request is safe to repeat — up to [`UNPARSABLE_REREADS`]
    /// times, each noted in a running sync's log ([`RunCounts::retried_reads`]).
    ///
    /// [`RunCounts::retried_reads`]: crate::store::RunCounts::retried_reads
    pub async fn send_json<T: DeserializeOwned>(self) -> Result<T> {
        self.send_with(|response| response.json()).await
    }

    /// Sends the request and turns the response into `T` with `parse` (for an answer read
    /// differently by status, say `204` for nothing): an answer `parse` finds unparsable (an
    /// [`InvalidResponse`](ErrorKind::InvalidResponse) error with a 2xx status, as
    /// [`Response::json`] gives) is asked for again as [`send_json`](Self::send_json) does.
    pub async fn send_with<T>(self, parse: impl Fn(Response) -> Result<T>) -> Result<T> {
        self.run(parse).await
    }

    /// Sends the request through the policy and returns the 2xx (or 304) response as soon as its
    /// head is in, the body left to read chunk by chunk ([`StreamingResponse::chunk`]) in bounded
    /// memory — a download of any size. Retries, the rate limit, the circuit breaker, the
    /// credentials and the span apply up to the head; each chunk after it must come within the
    /// policy's attempt timeout (an idle limit), and a body broken half-way is an error the caller
    /// resumes from (a `Range` request), never a silent short read. Any other status is an error,
    /// as for [`send`](Self::send).
    pub async fn send_streaming(mut self) -> Result<StreamingResponse> {
        self.streaming = true;
        let idle = self.client.policy.timeouts.attempt;
        self.run(move |response| {
            // A refused answer let through (`accept_any_status`) was read whole: its body is
            // given as one chunk.
            let body = match response.live.take() {
                Some(live) => StreamedBody::Live(live),
                None => StreamedBody::Read(Some(response.body.clone()).filter(|b| !b.is_empty())),
            };
            Ok(StreamingResponse {
                status: response.status,
                headers: response.headers,
                attempts: response.attempts,
                body,
                idle,
            })
        })
        .await
    }

    /// Sends the request and turns the response into `T` with `parse`.
    async fn run<T>(self, parse: impl Fn(Response) -> Result<T>) -> Result<T> {
        let client = self.client;
        let url = self.url?;
        let missing_host = url.host_str().is_none() || url.port_or_known_default().is_none();
        let prepared = Prepared {
            safe_to_repeat: self.idempotency_key || self.read_only || self.idempotent || is_idempotent(&self.method),
            any_status: self.any_status,
            max_body: self.max_body,
            streaming: self.streaming,
            method: self.method,
            url,
            headers: self.headers,
            body: self.body,
        };
        // The template is worked out only when something will read it: a trace or an error.
        let given = self.template;
        let template = || given.clone().unwrap_or_else(|| path_template(prepared.url.path()));
        let operation = self.operation;
        let annotate = |e: Error| {
            let operation = operation.clone().unwrap_or_else(|| format!("{} {}", prepared.method, template()));
            e.with_provider(client.provider.as_str()).with_operation(operation)
        };
        if let Some(error) = self.error {
            return Err(annotate(error));
        }
        if missing_host {
            return Err(annotate(Error::validation("url", "the URL has no host")));
        }
        let span = tracing::info_span!(
            "http.request",
            provider = %client.provider,
            tenant = client.tenant.as_ref().map(TenantId::as_str),
            method = %prepared.method,
            host = %HostPort(&prepared.url),
            path = tracing::field::Empty,
            status = tracing::field::Empty,
            attempts = tracing::field::Empty,
            latency_ms = tracing::field::Empty,
        );
        let exchange = client.execute_parsed(&prepared, parse);
        // No subscriber wants the span: no span entered on every poll, nothing recorded.
        if span.is_disabled() {
            return exchange.await.map(|(value, ..)| value).map_err(annotate);
        }
        span.record("path", template().as_str());
        let started = Instant::now();
        let result = exchange.instrument(span.clone()).await;
        span.record("latency_ms", started.elapsed().as_secs_f64() * 1000.0);
        match &result {
            Ok((_, status, attempts)) => {
                span.record("status", status.as_u16());
                span.record("attempts", attempts);
            }
            Err(error) => {
                if let Some(status) = error.status() {
                    span.record("status", status);
                }
            }
        }
        result.map(|(value, ..)| value).map_err(annotate)
    }
}

/// `host:port` of a URL, for traces.
struct HostPort<'a>(&'a Url);

impl std::fmt::Display for HostPort<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let host = self.0.host_str().unwrap_or_default();
        match self.0.port_or_known_default() {
            Some(port) => write!(f, "{host}:{port}"),
            None => f.write_str(host),
        }
    }
}

/// A request ready to go: what every attempt is rebuilt from.
#[derive(Debug)]
struct Prepared {
    method: Method,
    url: Url,
    headers: HeaderMap,
    body: Option<Bytes>,
    safe_to_repeat: bool,
    any_status: AnyStatus,
    max_body: Option<usize>,
    /// A 2xx answer's body is left to read ([`Request::send_streaming`]).
    streaming: bool,
}

impl Prepared {
    /// A form body, whose credential fields must not come back in an error.
    fn form(&self) -> Option<&Bytes> {
        let form = self
            .headers
            .get(CONTENT_TYPE)
            .is_some_and(|v| v.as_bytes().starts_with(b"application/x-www-form-urlencoded"));
        self.body.as_ref().filter(|_| form)
    }
}

/// What one attempt sent that must not come back in an error: its credential headers, the
/// query parameters its authenticator added and a form body. Cheap to keep (header values and
/// bodies are reference-counted); made into a [`Redactor`] only when an error needs one.
#[derive(Debug, Clone, Default)]
struct Sent {
    headers: HeaderMap,
    added_query: Option<String>,
    form: Option<Bytes>,
}

impl Sent {
    /// What `request` (built from `prepared`, then authorized) carries; `None` when nothing.
    fn of(request: &reqwest::Request, prepared: &Prepared) -> Option<Self> {
        let mut headers = HeaderMap::new();
        for (name, value) in request.headers() {
            if value.is_sensitive() || name == http::header::AUTHORIZATION || name == http::header::PROXY_AUTHORIZATION
            {
                headers.append(name.clone(), value.clone());
            }
        }
        let (sent, built) = (request.url().query().unwrap_or_default(), prepared.url.query().unwrap_or_default());
        let added_query = (sent.len() != built.len()).then(|| sent.strip_prefix(built).unwrap_or(sent).to_owned());
        let form = prepared.form().cloned();
        (!headers.is_empty() || added_query.is_some() || form.is_some()).then_some(Self { headers, added_query, form })
    }

    fn redactor(&self) -> Redactor {
        let mut redactor = Redactor::new();
        redactor.add_headers(&self.headers);
        if let Some(query) = &self.added_query {
            redactor.add_query(query);
        }
        if let Some(form) = &self.form {
            redactor.add_form(form);
        }
        redactor
    }
}

impl Prepared {
    fn attempt(&self) -> reqwest::Request {
        let mut request = reqwest::Request::new(self.method.clone(), self.url.clone());
        *request.headers_mut() = self.headers.clone();
        if let Some(body) = &self.body {
            *request.body_mut() = Some(body.clone().into());
        }
        request
    }
}

/// The whole operation's deadline. It is checked where the operation waits (the rate limit, a
/// token renewal, the exchange itself) rather than by a timer around the whole retry loop, so an
/// attempt runs under one timer: the nearer of its own deadline and this one.
#[derive(Debug, Clone, Copy)]
struct Deadline {
    at: Instant,
    limit: Duration,
}

impl Deadline {
    /// The error of an operation that ran out of time after `tried` attempts.
    fn expired(self, tried: u32) -> Error {
        let delivery = if tried == 0 { Delivery::NotSent } else { Delivery::MaybeSent };
        Error::new(ErrorKind::Transient, format!("the operation timed out after {:?} ({tried} attempts)", self.limit))
            .with_delivery(delivery)
    }
}

/// `wait` bounded by `deadline`, if any. Most waits are over at once (a token in hand, a free
/// rate-limit slot): those are polled once and never set a timer.
async fn bounded<T>(deadline: Option<Deadline>, tried: u32, wait: impl Future<Output = T>) -> Result<T> {
    let mut wait = std::pin::pin!(wait);
    if let Poll::Ready(done) = std::future::poll_fn(|cx| Poll::Ready(wait.as_mut().poll(cx))).await {
        return Ok(done);
    }
    match deadline {
        Some(deadline) => tokio::time::timeout_at(deadline.at, wait).await.map_err(|_| deadline.expired(tried)),
        None => Ok(wait.await),
    }
}

/// How many times a request safe to repeat is sent again after a complete answer whose body
/// did not parse: enough that a provider garbling 30 % of its answers still gets through a
/// page of a hundred requests (0.3⁶ a request).
pub const UNPARSABLE_REREADS: u32 = 5;

impl ProviderClient {
    /// The whole operation, its response turned into `T` by `parse`; an answer that does not
    /// parse is asked for again when that is safe. With the final status and attempt count.
    async fn execute_parsed<T>(
        &self,
        prepared: &Prepared,
        parse: impl Fn(Response) -> Result<T>,
    ) -> Result<(T, StatusCode, u32)> {
        let mut rereads = 0;
        loop {
            let response = self.execute(prepared).await?;
            let (status, attempts) = (response.status, response.attempts);
            match parse(response) {
                Ok(value) => return Ok((value, status, attempts)),
                Err(e)
                    if prepared.safe_to_repeat
                        && rereads < UNPARSABLE_REREADS
                        && crate::sync::is_unparsable_answer(&e) =>
                {
                    rereads += 1;
                    crate::sync::note_retried_read();
                    // A glitch, not an overloaded provider: a short wait will do.
                    let wait =
                        crate::backoff::full_jitter(Duration::from_millis(20), Duration::from_millis(500), rereads);
                    tracing::warn!(error = %e, reread = rereads, wait_ms = wait.as_millis() as u64, "the answer did not parse; asking again");
                    tokio::time::sleep(wait).await;
                }
                Err(e) => return Err(e),
            }
        }
    }

    /// The whole operation: the retry loop under the operation's deadline.
    async fn execute(&self, prepared: &Prepared) -> Result<Response> {
        self.budget.deposit();
        let deadline = self.policy.timeouts.operation.map(|limit| Deadline { at: Instant::now() + limit, limit });
        self.retry_loop(prepared, deadline).await
    }

    /// Attempts until success, a final error, the deadline, or the retry policy says stop.
    async fn retry_loop(&self, prepared: &Prepared, deadline: Option<Deadline>) -> Result<Response> {
        let policy = &self.policy;
        let host = prepared.url.host_str().unwrap_or_default();
        let port = prepared.url.port_or_known_default().unwrap_or_default();
        let breaker = self.breaker.get(&self.http.shared.circuits, host, port, &policy.circuit);
        let mut reauthorized = false;
        let (mut attempt, mut tried) = (0u32, 0u32);
        loop {
            attempt += 1;
            let permit = breaker.acquire()?;
            if let Some(limiter) = &self.limiter {
                let waited = bounded(deadline, tried, limiter.until_ready()).await?;
                if !waited.is_zero() {
                    tracing::debug!(waited_ms = waited.as_millis() as u64, "waited for the rate limit");
                    crate::telemetry::rate_limit_wait(&self.provider, waited);
                }
            }
            tried += 1;
            let started = Instant::now();
            let outcome = self.attempt(prepared, attempt, deadline, tried).await;
            let status = match &outcome {
                Ok(Attempt::Done(response) | Attempt::Refused(_, _, response)) => Some(response.status.as_u16()),
                Ok(Attempt::OutOfTime(_)) => None,
                Err(error) => error.status(),
            };
            crate::telemetry::http_attempt(&self.provider, status, started.elapsed());
            let (stamp, error, refused) = match outcome {
                Ok(Attempt::Done(response)) => {
                    permit.record(Outcome::Healthy);
                    return Ok(response);
                }
                Ok(Attempt::Refused(stamp, error, response)) => (stamp, error, Some(response)),
                // Out of time: the permit is dropped unrecorded, as a cancelled probe.
                Ok(Attempt::OutOfTime(error)) => return Err(error),
                Err(error) => (None, error, None),
            };
            permit.record(if is_host_failure(&error) { Outcome::Failure } else { Outcome::Healthy });
            if error.status() == Some(401)
                && !reauthorized
                && let (Some(auth), Some(stamp)) = (&self.auth, stamp)
            {
                reauthorized = true;
                if bounded(deadline, tried, auth.unauthorized(stamp)).await?? {
                    tracing::info!(attempt, "the provider refused the credentials; retrying once with renewed ones");
                    attempt -= 1;
                    continue;
                }
            }
            let remaining = deadline.map(|d| d.at.saturating_duration_since(Instant::now()));
            match decide(&policy.retry, &self.budget, &error, attempt, prepared.safe_to_repeat, remaining) {
                Verdict::RetryAfter(wait) => {
                    crate::telemetry::http_retry(&self.provider, error.kind().as_str());
                    tracing::info!(
                        attempt,
                        reason = %error.kind(),
                        status = error.status(),
                        wait_ms = wait.as_millis() as u64,
                        "retrying"
                    );
                    // `decide` keeps the wait within the deadline.
                    tokio::time::sleep(wait).await;
                }
                verdict => {
                    if let Some(response) = refused {
                        let status = response.status;
                        let pass = match prepared.any_status {
                            AnyStatus::All => true,
                            AnyStatus::ClientErrors => {
                                status.is_client_error() && status != StatusCode::TOO_MANY_REQUESTS
                            }
                            AnyStatus::No => false,
                        };
                        if pass {
                            return Ok(response);
                        }
                    }
                    let error = match verdict.explanation(attempt) {
                        Some(note) => error.with_note(&note),
                        None => error,
                    };
                    // Retryable says what the retries said: not when repeating it could apply
                    // it twice.
                    return Err(if verdict == Verdict::Unsafe { error.with_retryable(false) } else { error });
                }
            }
        }
    }

    /// One attempt under one timer, the nearer of the attempt's and the operation's deadlines:
    /// authorize, send, read the body.
    async fn attempt(
        &self,
        prepared: &Prepared,
        attempt: u32,
        deadline: Option<Deadline>,
        tried: u32,
    ) -> Result<Attempt> {
        let mut request = prepared.attempt();
        let stamp = match &self.auth {
            Some(auth) => match bounded(deadline, tried, auth.authorize(&mut request)).await {
                Ok(stamp) => Some(stamp?),
                Err(expired) => return Ok(Attempt::OutOfTime(expired)),
            },
            None => None,
        };
        let sent = Sent::of(&request, prepared).map(Arc::new);
        let span = tracing::debug_span!("http.attempt", attempt, status = tracing::field::Empty);
        let max_body = prepared.max_body.unwrap_or(self.policy.max_body_bytes);
        let exchange = async {
            if prepared.streaming {
                let (status, headers, answer) =
                    transport::exchange_streaming(&self.http.inner, request, max_body).await?;
                Ok(match answer {
                    transport::Answer::Read(body) => (status, headers, body, None),
                    transport::Answer::Live(live) => (status, headers, Bytes::new(), Some(live)),
                })
            } else {
                let (status, headers, body) = transport::exchange(&self.http.inner, request, max_body).await?;
                Ok((status, headers, body, None))
            }
        };
        let own = self.policy.timeouts.attempt.map(|limit| (Instant::now() + limit, limit));
        let cut = [own.map(|(at, _)| at), deadline.map(|d| d.at)].into_iter().flatten().min();
        let traced = !span.is_disabled();
        let exchange = async { if traced { exchange.instrument(span.clone()).await } else { exchange.await } };
        let exchanged = match cut {
            Some(at) => match tokio::time::timeout_at(at, exchange).await {
                Ok(result) => result,
                // The cut was the operation's deadline: stop. Otherwise the attempt's own.
                Err(_) => match deadline {
                    Some(deadline) if deadline.at <= at => return Ok(Attempt::OutOfTime(deadline.expired(tried))),
                    _ => {
                        let limit = own.map_or(Duration::ZERO, |(_, limit)| limit);
                        Err(Error::new(ErrorKind::Transient, format!("attempt {attempt} timed out after {limit:?}"))
                            .with_delivery(Delivery::MaybeSent))
                    }
                },
            },
            None => exchange.await,
        };
        let (status, headers, body, live) = exchanged?;
        if traced {
            span.record("status", status.as_u16());
        }
        if status.is_success() || status == StatusCode::NOT_MODIFIED {
            let live = Live::holding(live);
            return Ok(Attempt::Done(Response { status, headers, body, attempts: attempt, sent, live }));
        }
        // The provider may echo what it was sent: every form of it is scrubbed from the whole
        // body before the error keeps a message or a truncated copy of it.
        let redactor = sent.as_deref().map(Sent::redactor).unwrap_or_default();
        let scrubbed = redactor.scrub_bytes(&body);
        let mut error = Error::from_response(status, &headers, &scrubbed);
        if let Some(explained) = self.policy.error_message_header.as_deref().and_then(|name| headers.get(name))
            && let Ok(text) = explained.to_str()
            && !text.trim().is_empty()
        {
            error = error.with_note(text.trim());
        }
        if let Some(pointer) = self.policy.error_message_pointer.as_deref()
            && let Ok(json) = serde_json::from_slice::<serde_json::Value>(&scrubbed)
            && let Some(explained) = json.pointer(pointer)
        {
            let text = explained.as_str().map_or_else(|| explained.to_string(), str::to_owned);
            let text: String = text.trim().chars().take(500).collect();
            if !text.is_empty() && !error.message().contains(&text) {
                error = error.with_note(&text);
            }
        }
        let error = error.redact_with(&redactor);
        Ok(Attempt::Refused(
            stamp,
            error,
            Response { status, headers, body, attempts: attempt, sent, live: Live::default() },
        ))
    }
}

/// What one attempt came to.
enum Attempt {
    Done(Response),
    Refused(Option<AuthStamp>, Error, Response),
    /// The operation's deadline passed: stop, whatever the retry policy says.
    OutOfTime(Error),
}

/// Whether an error says the host is unwell (what the circuit breaker counts).
fn is_host_failure(error: &Error) -> bool {
    match error.status() {
        Some(status) => status >= 500 || status == 408,
        None => error.kind() == ErrorKind::Transient,
    }
}

/// A successful response, its body read.
#[derive(Debug, Clone)]
pub struct Response {
    status: StatusCode,
    headers: HeaderMap,
    body: Bytes,
    attempts: u32,
    sent: Option<Arc<Sent>>,
    /// A streamed response's unread body, taken once by [`Request::send_streaming`].
    live: Live,
}

/// The unread body of a streamed response (shared so that [`Response`] stays `Clone`; taken once).
#[derive(Clone, Default)]
struct Live(Option<Arc<std::sync::Mutex<Option<reqwest::Response>>>>);

impl Live {
    fn holding(response: Option<reqwest::Response>) -> Self {
        Self(response.map(|r| Arc::new(std::sync::Mutex::new(Some(r)))))
    }

    fn take(&self) -> Option<reqwest::Response> {
        self.0.as_ref().and_then(|shared| shared.lock().unwrap_or_else(|p| p.into_inner()).take())
    }
}

impl std::fmt::Debug for Live {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(if self.0.is_some() { "Live(unread body)" } else { "Live(none)" })
    }
}

/// A successful response whose body is read chunk by chunk ([`Request::send_streaming`]).
#[derive(Debug)]
pub struct StreamingResponse {
    status: StatusCode,
    headers: HeaderMap,
    attempts: u32,
    body: StreamedBody,
    idle: Option<Duration>,
}

/// A streamed response's body: still on the wire, or (a refused answer let through) read
/// already and not yet given.
#[derive(Debug)]
enum StreamedBody {
    Live(reqwest::Response),
    Read(Option<Bytes>),
}

impl StreamingResponse {
    /// The status (2xx or 304, or any with [`Request::accept_any_status`]: a refused answer's
    /// body, read whole under the policy's size limit, is then its one chunk).
    pub fn status(&self) -> StatusCode {
        self.status
    }

    /// The headers.
    pub fn headers(&self) -> &HeaderMap {
        &self.headers
    }

    /// A header's value as text, if present and printable.
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).and_then(|v| v.to_str().ok())
    }

    /// How many attempts it took to get the head (1 = no retry).
    pub fn attempts(&self) -> u32 {
        self.attempts
    }

    /// The body's length, if the provider said.
    pub fn content_length(&self) -> Option<u64> {
        match &self.body {
            StreamedBody::Live(live) => live.content_length(),
            StreamedBody::Read(read) => Some(read.as_ref().map_or(0, |b| b.len() as u64)),
        }
    }

    /// The next chunk of the body; `None` at its end.
    ///
    /// # Errors
    /// A `Transient` error (delivery `Responded`) when the connection breaks or no chunk comes
    /// within the policy's attempt timeout: resume from the bytes received.
    pub async fn chunk(&mut self) -> Result<Option<Bytes>> {
        let live = match &mut self.body {
            StreamedBody::Live(live) => live,
            StreamedBody::Read(read) => return Ok(read.take()),
        };
        let next = live.chunk();
        let next = match self.idle {
            Some(idle) => tokio::time::timeout(idle, next).await.map_err(|_| {
                Error::new(ErrorKind::Transient, format!("no part of the response body came within {idle:?}"))
                    .with_delivery(Delivery::Responded)
            })?,
            None => next.await,
        };
        next.map_err(|e| transport::from_reqwest(e, true))
    }
}

impl Response {
    /// The status (2xx or 304, or any with [`Request::accept_any_status`]).
    pub fn status(&self) -> StatusCode {
        self.status
    }

    /// The headers.
    pub fn headers(&self) -> &HeaderMap {
        &self.headers
    }

    /// A header's value as text, if present and printable.
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).and_then(|v| v.to_str().ok())
    }

    /// The body.
    pub fn bytes(&self) -> &Bytes {
        &self.body
    }

    /// How many attempts it took (1 = no retry).
    pub fn attempts(&self) -> u32 {
        self.attempts
    }

    /// The body parsed as JSON; an [`InvalidResponse`](ErrorKind::InvalidResponse) error keeping
    /// the (truncated) body when it does not parse into `T`, with what the request sent
    /// scrubbed from it.
    ///
    /// A number too large for any float (`1e400`) does not fail the whole body: it is read as
    /// `{"$unrepresentable_number": "1e400"}` ([`mark_unrepresentable_numbers`]), so only the
    /// record whose field is read as a number is rejected.
    ///
    /// [`mark_unrepresentable_numbers`]: crate::decode::mark_unrepresentable_numbers
    pub fn json<T: DeserializeOwned>(&self) -> Result<T> {
        let parsed =
            serde_json::from_slice(&self.body).or_else(|e| {
                match crate::decode::mark_unrepresentable_numbers(&self.body) {
                    Some(marked) => serde_json::from_slice(&marked),
                    None => Err(e),
                }
            });
        parsed.map_err(|e| {
            let redactor = self.redactor();
            Error::invalid_response(format!("the response body is not the JSON expected: {e}"))
                .with_status(self.status.as_u16())
                .with_body(truncate_body(&redactor.scrub_bytes(&self.body)).as_bytes())
                .with_delivery(Delivery::Responded)
                .redact_with(&redactor)
        })
    }

    /// Every form of the credentials the request carried (its credential headers, the query
    /// parameters its authenticator added, a form body's credential fields): scrub them from
    /// anything of this response that goes into an error or a log.
    pub fn redactor(&self) -> Redactor {
        self.sent.as_deref().map(Sent::redactor).unwrap_or_default()
    }
}
