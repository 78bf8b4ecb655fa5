//! SSO and identity for the host application's own users: a library of flows and routers
//! rather than a sync of records.
//!
//! - [`scim`]: SCIM 2.0 — the service provider as an axum router the host mounts
//!   ([`scim::server::ScimServer`]: Users, Groups, filters, PATCH, ETags, discovery; a bearer
//!   token per tenant; provisioning changes reported to the host), the schemas as data, a host
//!   store ([`scim::store::ScimStore`]), the filter grammar ([`scim::filter`]) and SCIM's errors.
//! - [`mfa`]: TOTP enrolment and verification (RFC 6238, one step of drift either side, a code
//!   never taken twice), recovery codes stored as digests, lockout after repeated failures, all
//!   through a host store with compare-and-swap.
//! - [`oidc`]: OpenID Connect login (the relying party) on `openidconnect`: discovery, the
//!   authorization code flow with PKCE, state and nonce, the ID token checked (signature through
//!   the provider's keys, read again on rotation; issuer, audience, expiry, nonce), userinfo,
//!   RP-initiated logout; each refusal with its reason.
//! - [`saml`]: SAML 2.0 login (the service provider): AuthnRequest out, the signed response
//!   checked (issuer, age, audience, recipient, `InResponseTo`, `NotOnOrAfter`) and its assertion
//!   never taken twice; the XML signature work done by the opt-in `integration-saml` crate.
//! - [`roles`]: per-tenant rules mapping IdP groups and claims to host roles.
//! - Security analytics: every flow can record its events (sign-ins and refusals, second factors,
//!   lockouts, sessions ended early, provisioning) in the host's `AuditSink` (`with_audit`).
//! - [`session`]: sessions with idle and absolute timeouts, tokens stored as digests, revoked on
//!   logout, by the host, and on SCIM deactivation.
//!
//! ```
//! use integration_sso::scim::filter::Filter;
//! use serde_json::json;
//!
//! let filter = Filter::parse(r#"emails[type eq "work"] and not (active eq false)"#)?;
//! let ada = json!({"userName": "ada", "active": true, "emails": [{"type": "work", "value": "ada@acme.example"}]});
//! assert!(filter.matches(&ada)?);
//! # Ok::<(), integration_sso::scim::ScimError>(())
//! ```

#![cfg_attr(docsrs, feature(doc_cfg))]

mod audit;
pub mod mfa;
pub mod oidc;
pub mod roles;
pub mod saml;
pub mod scim;
pub mod session;
