//! The built-in `http.request` action: calls an HTTP endpoint the host application allows.
//!
//! Guard rails, all checked before a connection is opened:
//! - the URL's host must be on the [`HostPolicy`]'s list (exact names, or `*.example.com`);
//! - `https` only, unless plain `http` is allowed;
//! - every address the host name resolves to — and an address written in the URL — must be
//!   public: loopback, private, link-local, shared (CGNAT), unique-local, site-local, multicast,
//!   documentation, reserved and unspecified addresses are refused unless
//!   [`HostPolicy::allow_private_addresses`], and so are IPv6 forms that reach them (IPv4-mapped,
//!   IPv4-translated, IPv4-compatible, NAT64, 6to4, Teredo). The check
//!   is made on the addresses actually connected to (a resolver of our own), so a name that
//!   resolves to a private address later (DNS rebinding) is refused too;
//! - redirects are followed only to the same host (at most 5), never from `https` to `http`; a
//!   redirect elsewhere is an error;
//! - no proxy from the environment.
//!
//! Each request carries the step's idempotency key in `Idempotency-Key`. A 5xx or 429 answer is
//! retryable (with the provider's `Retry-After`); other 4xx answers are not. The output is
//! `{ "status", "body" }`, the body parsed as JSON when it is JSON, text otherwise, truncated at
//! 64 KiB — reading stops there, so a huge answer is never held in memory.
//!
//! ```
//! # tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap().block_on(async {
//! use integration_automation::action::{Action, ActionCall};
//! use integration_automation::http_request::{HostPolicy, HttpRequest};
//! use integration_core::{AutomationRunId, ErrorKind, TenantId};
//! use serde_json::json;
//!
//! let http = HttpRequest::new(HostPolicy::new().allow_host("hooks.example.com"));
//! let tenant = TenantId::new("acme").unwrap();
//! let call = |url: &str| ActionCall::new(tenant.clone(), AutomationRunId::new(), "0", json!({"url": url}));
//! let err = http.run(call("https://evil.example.net/")).await.unwrap_err();
//! assert_eq!(err.kind(), ErrorKind::Forbidden);
//! // Allowed by name, but an address in the URL must still be public.
//! let http = HttpRequest::new(HostPolicy::new().allow_host("127.0.0.1").allow_plain_http());
//! let err = http.run(call("http://127.0.0.1:9/")).await.unwrap_err();
//! assert!(err.message().contains("loopback"), "{err}");
//! # });
//! ```

use std::collections::BTreeSet;
use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use integration_core::{Delivery, Error, ErrorKind, Result};
use reqwest::dns::{Addrs, Name, Resolve, Resolving};
use reqwest::{Method, redirect};
use serde_json::{Value, json};
use url::{Host, Url};

use crate::action::{Action, ActionCall, ActionSchema, InputField, InputKind};

/// The largest response body kept in the output.
pub const MAX_BODY: usize = 64 * 1024;

/// Where `http.request` may go.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct HostPolicy {
    hosts: BTreeSet<String>,
    plain_http: bool,
    private_addresses: bool,
}

impl HostPolicy {
    /// Nowhere yet.
    pub fn new() -> Self {
        Self::default()
    }

    /// Allows `host`: an exact name (`hooks.example.com`, `127.0.0.1`) or every subdomain of a
    /// name (`*.example.com`, which does not include `example.com` itself).
    pub fn allow_host(mut self, host: impl Into<String>) -> Self {
        self.hosts.insert(host.into().to_ascii_lowercase());
        self
    }

    /// Allows plain `http` URLs (for loopback test receivers; never for real traffic).
    pub fn allow_plain_http(mut self) -> Self {
        self.plain_http = true;
        self
    }

    /// Allows loopback, private and link-local addresses (a receiver on 127.0.0.1 in tests, or
    /// a service on the host's own network).
    pub fn allow_private_addresses(mut self) -> Self {
        self.private_addresses = true;
        self
    }

    fn host_allowed(&self, host: &str) -> bool {
        let host = host.trim_end_matches('.').to_ascii_lowercase();
        self.hosts.iter().any(|allowed| match allowed.strip_prefix("*.") {
            Some(parent) => host.len() > parent.len() + 1 && host.ends_with(&format!(".{parent}")),
            None => *allowed == host,
        })
    }

    /// Why `ip` may not be connected to, if it may not.
    fn refuse_address(&self, ip: IpAddr) -> Option<&'static str> {
        if self.private_addresses {
            return None;
        }
        refused_address(ip)
    }

    /// Checks a URL before anything is sent.
    fn check_url(&self, url: &Url) -> Result<()> {
        match url.scheme() {
            "https" => {}
            "http" if self.plain_http => {}
            other => {
                return Err(forbidden(format!("http.request refuses the {other:?} scheme; use https")));
            }
        }
        let host = url.host_str().ok_or_else(|| Error::validation("url", "the URL has no host"))?;
        if !self.host_allowed(host) {
            return Err(forbidden(format!(
                "http.request may not call {host}: it is not among the hosts the application allows"
            )));
        }
        let literal = match url.host() {
            Some(Host::Ipv4(v4)) => Some(IpAddr::V4(v4)),
            Some(Host::Ipv6(v6)) => Some(IpAddr::V6(v6)),
            _ => None,
        };
        if let Some(ip) = literal
            && let Some(why) = self.refuse_address(ip)
        {
            return Err(forbidden(format!("http.request refuses {ip}: {why}")));
        }
        Ok(())
    }
}

fn forbidden(message: String) -> Error {
    Error::new(ErrorKind::Forbidden, message).with_delivery(Delivery::NotSent)
}

/// Why `ip` is not a public address, if it is not. IPv6 forms that carry an IPv4 address —
/// mapped (`::ffff:a.b.c.d`), translated (`::ffff:0:a.b.c.d`), NAT64 (`64:ff9b::/96`) and 6to4
/// (`2002::/16`) — are judged by that address; IPv4-compatible (`::a.b.c.d`, deprecated),
/// local-use NAT64 (`64:ff9b:1::/48`), site-local (`fec0::/10`), Teredo (`2001::/32`),
/// documentation and discard prefixes are refused outright.
fn refused_address(ip: IpAddr) -> Option<&'static str> {
    match ip {
        IpAddr::V4(v4) => refused_v4(v4),
        IpAddr::V6(v6) => {
            let s = v6.segments();
            let embedded = |hi: u16, lo: u16| Ipv4Addr::from((u32::from(hi) << 16) | u32::from(lo));
            if let Some(v4) = v6.to_ipv4_mapped() {
                refused_v4(v4)
            } else if v6.is_loopback() {
                Some("a loopback address")
            } else if v6.is_unspecified() || v6.is_multicast() {
                Some("a non-routable address")
            } else if s[..6] == [0, 0, 0, 0, 0xffff, 0] {
                // ::ffff:0:a.b.c.d, the IPv4-translated form.
                refused_v4(embedded(s[6], s[7]))
            } else if s[..6] == [0; 6] {
                Some("an IPv4-compatible address (deprecated)")
            } else if s[..6] == [0x64, 0xff9b, 0, 0, 0, 0] {
                refused_v4(embedded(s[6], s[7]))
            } else if s[0] == 0x64 && s[1] == 0xff9b {
                Some("a local-use NAT64 address")
            } else if s[0] == 0x2002 {
                refused_v4(embedded(s[1], s[2]))
            } else if s[0] == 0x2001 && s[1] == 0 {
                Some("a Teredo tunnel address")
            } else if s[0] == 0x2001 && s[1] == 0x0db8 {
                Some("a documentation address")
            } else if s[..4] == [0x0100, 0, 0, 0] {
                Some("a discard-only address")
            } else if s[0] & 0xfe00 == 0xfc00 {
                Some("a unique-local (private) address")
            } else if s[0] & 0xffc0 == 0xfe80 {
                Some("a link-local address")
            } else if s[0] & 0xffc0 == 0xfec0 {
                Some("a site-local (private) address")
            } else {
                None
            }
        }
    }
}

fn refused_v4(v4: Ipv4Addr) -> Option<&'static str> {
    let [a, b, c, _] = v4.octets();
    if v4.is_loopback() {
        Some("a loopback address")
    } else if v4.is_private() {
        Some("a private address")
    } else if v4.is_link_local() {
        Some("a link-local address")
    } else if a == 100 && (64..128).contains(&b) {
        Some("a shared (CGNAT) address")
    } else if (a, b, c) == (192, 0, 0) {
        Some("an IETF protocol address")
    } else if matches!((a, b, c), (192, 0, 2) | (198, 51, 100) | (203, 0, 113)) {
        Some("a documentation address")
    } else if a == 198 && (b == 18 || b == 19) {
        Some("a benchmarking address")
    } else if v4.is_unspecified() || v4.is_broadcast() || v4.is_multicast() || a == 0 || a >= 240 {
        Some("a non-routable address")
    } else {
        None
    }
}

/// What to do with a redirect from `previous` (the first URL of the request) to `next`, after
/// `hops` redirects: follow one to the same host, not to another host (the answer is then the
/// redirect itself, refused as such), and never from https to http.
#[derive(Debug, PartialEq, Eq)]
enum Redirect {
    Follow,
    Stop,
    Refuse(String),
}

fn redirect(first: &Url, previous: &Url, next: &Url, hops: usize, plain_http: bool) -> Redirect {
    if hops > 5 {
        return Redirect::Refuse("more than 5 redirects".to_owned());
    }
    if previous.scheme() == "https" && next.scheme() != "https" {
        return Redirect::Refuse(format!("a redirect from https to {} is not followed", next.scheme()));
    }
    if next.scheme() != "https" && !(next.scheme() == "http" && plain_http) {
        return Redirect::Refuse(format!("a redirect to the {:?} scheme is not followed", next.scheme()));
    }
    if first.host_str() == next.host_str() { Redirect::Follow } else { Redirect::Stop }
}

/// Resolves names, then drops every address the policy refuses; none left is an error, and no
/// connection is attempted.
#[derive(Debug)]
struct GuardedResolver {
    policy: HostPolicy,
}

impl Resolve for GuardedResolver {
    fn resolve(&self, name: Name) -> Resolving {
        let policy = self.policy.clone();
        Box::pin(async move {
            let host = name.as_str().to_owned();
            let found: Vec<SocketAddr> = tokio::net::lookup_host((host.as_str(), 0)).await?.collect();
            let mut refused = None;
            let allowed: Vec<SocketAddr> = found
                .into_iter()
                .filter(|addr| match policy.refuse_address(addr.ip()) {
                    Some(why) => {
                        refused = Some(format!("{host} resolves to {}: {why}", addr.ip()));
                        false
                    }
                    None => true,
                })
                .collect();
            if allowed.is_empty() {
                let message = refused.unwrap_or_else(|| format!("{host} resolves to no address"));
                return Err(Box::new(Refused(message)) as Box<dyn std::error::Error + Send + Sync>);
            }
            Ok(Box::new(allowed.into_iter()) as Addrs)
        })
    }
}

#[derive(Debug)]
struct Refused(String);

impl std::fmt::Display for Refused {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for Refused {}

/// The `http.request` action.
#[derive(Debug, Clone)]
pub struct HttpRequest {
    policy: HostPolicy,
    client: reqwest::Client,
}

impl HttpRequest {
    /// The action, allowed to reach what `policy` allows.
    pub fn new(policy: HostPolicy) -> Self {
        let plain_http = policy.plain_http;
        let same_host = redirect::Policy::custom(move |attempt| {
            let (Some(first), Some(previous)) = (attempt.previous().first(), attempt.previous().last()) else {
                return attempt.stop();
            };
            match redirect(first, previous, attempt.url(), attempt.previous().len(), plain_http) {
                Redirect::Follow => attempt.follow(),
                Redirect::Stop => attempt.stop(),
                Redirect::Refuse(why) => attempt.error(Refused(why)),
            }
        });
        let client = reqwest::Client::builder()
            .no_proxy()
            .redirect(same_host)
            .dns_resolver(Arc::new(GuardedResolver { policy: policy.clone() }))
            .connect_timeout(Duration::from_secs(10))
            .build()
            .unwrap_or_default();
        Self { policy, client }
    }

    fn refused_redirect(status: u16, location: Option<&str>) -> Error {
        Error::new(
            ErrorKind::Forbidden,
            format!(
                "http.request got a {status} redirect to {} and does not follow redirects to another host",
                location.unwrap_or("an unnamed location")
            ),
        )
        .with_delivery(Delivery::Responded)
    }
}

#[async_trait]
impl Action for HttpRequest {
    fn schema(&self) -> ActionSchema {
        ActionSchema::new("http.request", "Calls an HTTP endpoint among the hosts the application allows.")
            .field(InputField::required("url", InputKind::String).describe("An absolute URL on an allowed host."))
            .field(
                InputField::optional("method", InputKind::String)
                    .describe("GET, POST (default), PUT, PATCH or DELETE."),
            )
            .field(InputField::optional("headers", InputKind::Object).secret().describe("Header names to text values."))
            .field(InputField::optional("body", InputKind::Any).describe("Sent as JSON."))
    }

    async fn run(&self, call: ActionCall) -> Result<Value> {
        let input = &call.input;
        let url_text = input["url"].as_str().unwrap_or_default();
        let url =
            Url::parse(url_text).map_err(|e| Error::validation("url", format!("{url_text:?} is not a URL: {e}")))?;
        self.policy.check_url(&url)?;
        let method_text = input["method"].as_str().unwrap_or("POST").to_ascii_uppercase();
        let method = match method_text.as_str() {
            "GET" | "POST" | "PUT" | "PATCH" | "DELETE" => Method::from_bytes(method_text.as_bytes())
                .map_err(|_| Error::validation("method", format!("unknown method {method_text:?}")))?,
            other => return Err(Error::validation("method", format!("http.request does not send {other:?}"))),
        };
        let mut request = self.client.request(method, url).header("Idempotency-Key", &call.idempotency_key);
        if let Some(headers) = input["headers"].as_object() {
            for (name, value) in headers {
                let value = value
                    .as_str()
                    .ok_or_else(|| Error::validation(format!("headers.{name}"), "header values must be text"))?;
                request = request.header(name.as_str(), value);
            }
        }
        if !input["body"].is_null() {
            request = request.json(&input["body"]);
        }
        let response = request.send().await.map_err(|e| {
            let refused = std::error::Error::source(&e)
                .into_iter()
                .chain(std::iter::successors(std::error::Error::source(&e), |s| s.source()))
                .find_map(|s| s.downcast_ref::<Refused>().map(|r| r.0.clone()));
            match refused {
                Some(why) => forbidden(format!("http.request refused to connect: {why}")),
                None => {
                    let delivery = if e.is_connect() { Delivery::NotSent } else { Delivery::MaybeSent };
                    Error::new(ErrorKind::Transient, format!("http.request failed: {}", e.without_url()))
                        .with_delivery(delivery)
                }
            }
        })?;
        let status = response.status();
        if status.is_redirection() {
            let location = response.headers().get("location").and_then(|v| v.to_str().ok()).map(str::to_owned);
            return Err(Self::refused_redirect(status.as_u16(), location.as_deref()));
        }
        let retry_after = response
            .headers()
            .get("retry-after")
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.trim().parse::<u64>().ok())
            .map(Duration::from_secs);
        let (bytes, total) = read_at_most(response, MAX_BODY).await?;
        let body = body_value(&bytes, total);
        if status.is_success() {
            return Ok(json!({ "status": status.as_u16(), "body": body }));
        }
        let summary = format!("http.request got {status}: {}", truncate(&String::from_utf8_lossy(&bytes), 512, total));
        let error = match status.as_u16() {
            429 => Error::new(ErrorKind::RateLimited, summary),
            500..=599 => Error::new(ErrorKind::Transient, summary),
            _ => Error::new(ErrorKind::Provider, summary),
        }
        .with_delivery(Delivery::Responded)
        .with_status(status.as_u16());
        Err(match retry_after {
            Some(wait) => error.with_retry_after(wait),
            None => error,
        })
    }
}

/// How much of a body there was: all of it, as read, or more than was read.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Total {
    /// The whole body was read.
    Read,
    /// The body was longer; its length when the answer announced it.
    MoreThanRead(Option<u64>),
}

/// Reads at most `limit` bytes of the body, then stops reading (the connection is dropped
/// rather than drained): a provider's 200 MiB answer costs `limit` bytes, not 200 MiB.
async fn read_at_most(mut response: reqwest::Response, limit: usize) -> Result<(Vec<u8>, Total)> {
    let announced = response.content_length();
    let mut bytes = Vec::with_capacity(announced.map_or(8 * 1024, |n| n.min(limit as u64) as usize));
    while let Some(chunk) = response.chunk().await.map_err(|e| {
        Error::new(ErrorKind::Transient, format!("http.request could not read the answer: {}", e.without_url()))
            .with_delivery(Delivery::MaybeSent)
    })? {
        let room = limit - bytes.len();
        if chunk.len() > room {
            bytes.extend_from_slice(&chunk[..room]);
            return Ok((bytes, Total::MoreThanRead(announced)));
        }
        bytes.extend_from_slice(&chunk);
    }
    Ok((bytes, Total::Read))
}

fn body_value(bytes: &[u8], total: Total) -> Value {
    if bytes.is_empty() {
        return Value::Null;
    }
    if total == Total::Read
        && let Ok(value) = serde_json::from_slice::<Value>(bytes)
    {
        return value;
    }
    Value::String(truncate(&String::from_utf8_lossy(bytes), MAX_BODY, total).into_owned())
}

/// `text` cut at `max` bytes (on a character boundary), saying how long the whole was.
fn truncate(text: &str, max: usize, total: Total) -> std::borrow::Cow<'_, str> {
    let rest = match total {
        Total::MoreThanRead(Some(len)) => format!("{len} bytes in all"),
        Total::MoreThanRead(None) => format!("more than {max} bytes"),
        Total::Read => format!("{} bytes in all", text.len()),
    };
    if text.len() <= max && total == Total::Read {
        return text.into();
    }
    let mut end = max.min(text.len());
    while !text.is_char_boundary(end) {
        end -= 1;
    }
    format!("{}… ({rest})", &text[..end]).into()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn host_patterns_match_exactly_or_by_subdomain() {
        let p = HostPolicy::new().allow_host("hooks.example.com").allow_host("*.corp.example");
        assert!(p.host_allowed("hooks.example.com"));
        assert!(p.host_allowed("HOOKS.example.com."));
        assert!(!p.host_allowed("evilhooks.example.com"));
        assert!(p.host_allowed("a.corp.example"));
        assert!(!p.host_allowed("corp.example"));
        assert!(!p.host_allowed("acorp.example"));
    }

    #[test]
    fn private_and_special_addresses_are_refused() {
        let p = HostPolicy::new();
        for ip in [
            "127.0.0.1",
            "10.1.2.3",
            "172.16.0.1",
            "192.168.1.1",
            "169.254.169.254",
            "100.64.0.1",
            "0.0.0.0",
            "192.0.2.1",
            "198.18.0.1",
            "240.0.0.1",
            "255.255.255.255",
            "::1",
            "::",
            "fc00::1",
            "fe80::1",
            "fec0::1",
            "::ffff:127.0.0.1",
            "::ffff:10.0.0.1",
            // IPv4-compatible, IPv4-translated, NAT64 (the cloud metadata address), 6to4, local-use
            // NAT64, Teredo, documentation.
            "::127.0.0.1",
            "::8.8.8.8",
            "::ffff:0:127.0.0.1",
            "::ffff:0:169.254.169.254",
            "64:ff9b::169.254.169.254",
            "64:ff9b::10.0.0.1",
            "2002:7f00:1::",
            "2002:a9fe:a9fe::1",
            "64:ff9b:1::8.8.8.8",
            "2001:0:4136:e378:8000:63bf:3fff:fdd2",
            "2001:db8::1",
        ] {
            let ip: IpAddr = ip.parse().unwrap_or(IpAddr::V4(std::net::Ipv4Addr::LOCALHOST));
            assert!(p.refuse_address(ip).is_some(), "{ip}");
        }
        for public in ["93.184.215.14", "2606:2800:21f:cb07:6820:80da:af6b:8b2c", "64:ff9b::8.8.8.8", "2002:808:808::1"]
        {
            let ip: IpAddr = public.parse().unwrap_or(IpAddr::V4(std::net::Ipv4Addr::LOCALHOST));
            assert_eq!(p.refuse_address(ip), None, "{public}");
        }
        assert!(
            HostPolicy::new()
                .allow_private_addresses()
                .refuse_address(IpAddr::V4(std::net::Ipv4Addr::LOCALHOST))
                .is_none()
        );
    }

    #[test]
    fn redirects_stay_on_the_host_and_never_downgrade() {
        let url = |s: &str| {
            Url::parse(s).unwrap_or_else(|_| Url::parse("https://invalid.example/").unwrap_or_else(|_| unreachable!()))
        };
        let first = url("https://hooks.example.com/a");
        let same = url("https://hooks.example.com/b");
        assert_eq!(redirect(&first, &first, &same, 1, false), Redirect::Follow);
        assert_eq!(redirect(&first, &first, &url("https://other.example.com/"), 1, false), Redirect::Stop);
        let downgrade = url("http://hooks.example.com/b");
        assert!(
            matches!(redirect(&first, &first, &downgrade, 1, true), Redirect::Refuse(why) if why.contains("https to http"))
        );
        let plain = url("http://127.0.0.1:8080/a");
        assert_eq!(redirect(&plain, &plain, &url("http://127.0.0.1:8080/b"), 1, true), Redirect::Follow);
        assert!(matches!(redirect(&plain, &plain, &url("http://127.0.0.1:8080/b"), 1, false), Redirect::Refuse(_)));
        assert!(
            matches!(redirect(&first, &same, &same, 6, false), Redirect::Refuse(why) if why.contains("more than 5"))
        );
        assert!(matches!(redirect(&first, &first, &url("ftp://hooks.example.com/"), 1, true), Redirect::Refuse(_)));
    }
}
