//! The SCIM client: the host's users and groups provisioned into an external SCIM 2.0 service
//! (an application the host's customers use), converging like a full sync and safe to run
//! again at any point:
//!
//! - each resource carries the host's id as its `externalId`: what the target holds is read back
//!   first, so a run interrupted after a create finds that resource and makes no second one;
//! - a resource whose attributes differ from the host's is replaced at the version read
//!   (`If-Match`), read again once if someone changed it in between;
//! - a user the host no longer has (an `externalId` the run was not given) is deactivated — or
//!   deleted — so access ends; resources without an `externalId` are someone else's and left
//!   alone;
//! - a userName the target already holds for a resource without an `externalId` is adopted;
//! - one resource failing does not stop the others: the report names it.
//!
//! Every request goes through the core HTTP client (retries, rate limit, breaker, spans).

use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;

use integration_core::auth::Bearer;
use integration_core::http::{Method, ProviderClient};
use integration_core::{Error, ErrorKind, Result};
use secrecy::{ExposeSecret, SecretString};
use serde_json::{Value, json};

use super::patch::PATCH_OP;
use super::schema;

/// A user as the host wants it at the target.
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub struct DesiredUser {
    /// The host's id for the user: the target's `externalId`.
    pub external_id: String,
    /// The user's SCIM attributes (`userName`, `name`, `emails`, `active`…), without `id`.
    pub attributes: Value,
}

impl DesiredUser {
    /// The user `external_id` with `attributes`.
    pub fn new(external_id: impl Into<String>, attributes: Value) -> Self {
        Self { external_id: external_id.into(), attributes }
    }
}

/// A group as the host wants it: its name and its members (the host's user ids).
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct DesiredGroup {
    /// The host's id for the group: the target's `externalId`.
    pub external_id: String,
    /// Its name.
    pub display_name: String,
    /// Its members: the host's ids of users in the same run.
    pub members: BTreeSet<String>,
}

impl DesiredGroup {
    /// The group `external_id` called `display_name` with `members`.
    pub fn new(
        external_id: impl Into<String>,
        display_name: impl Into<String>,
        members: impl IntoIterator<Item = String>,
    ) -> Self {
        Self {
            external_id: external_id.into(),
            display_name: display_name.into(),
            members: members.into_iter().collect(),
        }
    }
}

/// What happens to the target's resources the host no longer has.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
#[non_exhaustive]
pub enum Removal {
    /// Users deactivated (`active: false`), groups deleted.
    #[default]
    Deactivate,
    /// Deleted.
    Delete,
}

/// What a run did.
#[derive(Debug, Default)]
#[non_exhaustive]
pub struct ProvisionReport {
    /// External ids made at the target.
    pub created: Vec<String>,
    /// External ids changed at the target.
    pub updated: Vec<String>,
    /// External ids already as wanted.
    pub unchanged: Vec<String>,
    /// External ids of resources without one that were adopted (matched by userName).
    pub adopted: Vec<String>,
    /// External ids deactivated or deleted.
    pub removed: Vec<String>,
    /// External ids that failed, and why.
    pub failed: Vec<(String, Error)>,
    /// The target's id for each external id it holds after the run.
    pub ids: BTreeMap<String, String>,
}

/// One resource as the target holds it.
#[derive(Debug, Clone)]
struct Held {
    id: String,
    version: Option<String>,
    resource: Value,
}

/// An external SCIM service.
#[derive(Debug, Clone)]
pub struct ScimTarget {
    http: ProviderClient,
    base: String,
}

/// Page size when reading the target.
const PAGE: usize = 100;

impl ScimTarget {
    /// The service at `base_url` (`https://app.example.com/scim/v2`) with bearer `token`.
    /// The token is the client's credential: sent as `Authorization: Bearer`, scrubbed from
    /// errors and traces like every credential of the core client.
    pub fn new(http: ProviderClient, base_url: impl Into<String>, token: &SecretString) -> Self {
        let http = http.with_auth(Arc::new(Bearer::new(token.expose_secret())));
        Self { http, base: base_url.into().trim_end_matches('/').to_owned() }
    }

    async fn call(&self, method: Method, path: &str, body: Option<&Value>, if_match: Option<&str>) -> Result<Value> {
        let mut request = self
            .http
            .request(method, format!("{}{path}", self.base))
            .operation("scim.client")
            .header("Accept", "application/scim+json");
        if let Some(tag) = if_match {
            request = request.header("If-Match", tag);
        }
        if let Some(body) = body {
            request = request.body(body.to_string().into_bytes(), "application/scim+json");
        }
        let response = request.send().await?;
        if response.bytes().is_empty() {
            return Ok(Value::Null);
        }
        response.json::<Value>()
    }

    /// Every resource at `endpoint` with an `externalId`, by it; and those without, by
    /// `userName` (lowercased) for users.
    async fn held(&self, endpoint: &str) -> Result<(BTreeMap<String, Held>, BTreeMap<String, Held>)> {
        let (mut ours, mut others) = (BTreeMap::new(), BTreeMap::new());
        let mut start = 1;
        loop {
            let page =
                self.call(Method::GET, &format!("{endpoint}?startIndex={start}&count={PAGE}"), None, None).await?;
            let resources = page.get("Resources").and_then(Value::as_array).cloned().unwrap_or_default();
            for resource in &resources {
                let Some(id) = resource.get("id").and_then(Value::as_str) else { continue };
                let held = Held {
                    id: id.to_owned(),
                    version: resource.pointer("/meta/version").and_then(Value::as_str).map(str::to_owned),
                    resource: resource.clone(),
                };
                match resource.get("externalId").and_then(Value::as_str) {
                    Some(external) => {
                        ours.insert(external.to_owned(), held);
                    }
                    None => {
                        if let Some(name) = resource.get("userName").and_then(Value::as_str) {
                            others.insert(name.to_lowercase(), held);
                        }
                    }
                }
            }
            let total = page.get("totalResults").and_then(Value::as_u64).unwrap_or(0);
            start += resources.len();
            if resources.is_empty() || start as u64 > total {
                return Ok((ours, others));
            }
        }
    }

    /// Provisions `users`: made, changed or left as they are; the target's other users with an
    /// `externalId` removed as `removal` says.
    ///
    /// # Errors
    /// Reading the target failed (nothing was written); a resource's own failure is in the
    /// report instead.
    pub async fn provision_users(&self, users: &[DesiredUser], removal: Removal) -> Result<ProvisionReport> {
        let (held, others) = self.held("/Users").await?;
        let mut report = ProvisionReport::default();
        for user in users {
            let mut wanted = user.attributes.clone();
            wanted["externalId"] = json!(user.external_id);
            if wanted.get("schemas").is_none() {
                wanted["schemas"] = json!([schema::USER]);
            }
            let adopted = (!held.contains_key(&user.external_id))
                .then(|| wanted.get("userName").and_then(Value::as_str).and_then(|n| others.get(&n.to_lowercase())))
                .flatten();
            let outcome = match held.get(&user.external_id).or(adopted) {
                Some(current) => {
                    self.converge("/Users", current, &wanted).await.map(|changed| (current.id.clone(), changed))
                }
                None => self.create("/Users", &wanted).await.map(|id| (id, true)),
            };
            match outcome {
                Ok((id, changed)) => {
                    let list = if held.contains_key(&user.external_id) {
                        if changed { &mut report.updated } else { &mut report.unchanged }
                    } else if adopted.is_some() {
                        &mut report.adopted
                    } else {
                        &mut report.created
                    };
                    list.push(user.external_id.clone());
                    report.ids.insert(user.external_id.clone(), id);
                }
                Err(e) => report.failed.push((user.external_id.clone(), e)),
            }
        }
        let wanted: BTreeSet<&str> = users.iter().map(|u| u.external_id.as_str()).collect();
        for (external, current) in held.iter().filter(|(e, _)| !wanted.contains(e.as_str())) {
            let done = match removal {
                Removal::Delete => self.delete("/Users", current).await,
                Removal::Deactivate if current.resource.get("active") == Some(&Value::Bool(false)) => Ok(()),
                Removal::Deactivate => {
                    let body = json!({"schemas": [PATCH_OP], "Operations": [{"op": "replace", "path": "active", "value": false}]});
                    self.call(Method::PATCH, &format!("/Users/{}", current.id), Some(&body), current.version.as_deref())
                        .await
                        .map(drop)
                }
            };
            match done {
                Ok(()) => report.removed.push(external.clone()),
                Err(e) => report.failed.push((external.clone(), e)),
            }
        }
        Ok(report)
    }

    /// Provisions `groups`, their members named by the host's user ids (`user_ids`: host id →
    /// the target's, as [`provision_users`](Self::provision_users) reports); the target's other
    /// groups with an `externalId` deleted.
    ///
    /// # Errors
    /// As [`provision_users`](Self::provision_users).
    pub async fn provision_groups(
        &self,
        groups: &[DesiredGroup],
        user_ids: &BTreeMap<String, String>,
    ) -> Result<ProvisionReport> {
        let (held, _) = self.held("/Groups").await?;
        let mut report = ProvisionReport::default();
        for group in groups {
            let members: Result<Vec<Value>> = group
                .members
                .iter()
                .map(|m| {
                    user_ids.get(m).map(|id| json!({"value": id, "type": "User"})).ok_or_else(|| {
                        Error::validation(
                            "members",
                            format!("user {m} of group {} is not at the target", group.external_id),
                        )
                    })
                })
                .collect();
            let members = match members {
                Ok(members) => members,
                Err(e) => {
                    report.failed.push((group.external_id.clone(), e));
                    continue;
                }
            };
            let wanted = json!({"schemas": [schema::GROUP], "externalId": group.external_id,
                                "displayName": group.display_name, "members": members});
            let outcome = match held.get(&group.external_id) {
                Some(current) => {
                    self.converge("/Groups", current, &wanted).await.map(|changed| (current.id.clone(), changed))
                }
                None => self.create("/Groups", &wanted).await.map(|id| (id, true)),
            };
            match outcome {
                Ok((id, changed)) => {
                    let list = match (held.contains_key(&group.external_id), changed) {
                        (false, _) => &mut report.created,
                        (true, true) => &mut report.updated,
                        (true, false) => &mut report.unchanged,
                    };
                    list.push(group.external_id.clone());
                    report.ids.insert(group.external_id.clone(), id);
                }
                Err(e) => report.failed.push((group.external_id.clone(), e)),
            }
        }
        let wanted: BTreeSet<&str> = groups.iter().map(|g| g.external_id.as_str()).collect();
        for (external, current) in held.iter().filter(|(e, _)| !wanted.contains(e.as_str())) {
            match self.delete("/Groups", current).await {
                Ok(()) => report.removed.push(external.clone()),
                Err(e) => report.failed.push((external.clone(), e)),
            }
        }
        Ok(report)
    }

    /// Creates `wanted` at `endpoint`: the target's id for it.
    async fn create(&self, endpoint: &str, wanted: &Value) -> Result<String> {
        let made = self.call(Method::POST, endpoint, Some(wanted), None).await?;
        made.get("id")
            .and_then(Value::as_str)
            .map(str::to_owned)
            .ok_or_else(|| Error::invalid_response("the target answered a create without an id"))
    }

    async fn delete(&self, endpoint: &str, current: &Held) -> Result<()> {
        match self.call(Method::DELETE, &format!("{endpoint}/{}", current.id), None, None).await {
            Ok(_) => Ok(()),
            Err(e) if e.kind() == ErrorKind::NotFound => Ok(()),
            Err(e) => Err(e),
        }
    }

    /// Replaces `current` with `wanted` when an attribute the host manages differs (at the
    /// version read; read again once if it moved); whether it changed anything.
    async fn converge(&self, endpoint: &str, current: &Held, wanted: &Value) -> Result<bool> {
        if same(&current.resource, wanted) {
            return Ok(false);
        }
        let path = format!("{endpoint}/{}", current.id);
        match self.call(Method::PUT, &path, Some(wanted), current.version.as_deref()).await {
            Ok(_) => Ok(true),
            Err(e) if e.status() == Some(412) => {
                let fresh = self.call(Method::GET, &path, None, None).await?;
                if same(&fresh, wanted) {
                    return Ok(false);
                }
                let version = fresh.pointer("/meta/version").and_then(Value::as_str).map(str::to_owned);
                self.call(Method::PUT, &path, Some(wanted), version.as_deref()).await.map(|_| true)
            }
            Err(e) => Err(e),
        }
    }
}

/// Whether `held` has every attribute of `wanted` as `wanted` has it (members compared as sets
/// of ids; `schemas` and the password left out).
fn same(held: &Value, wanted: &Value) -> bool {
    let Some(wanted) = wanted.as_object() else { return false };
    wanted.iter().filter(|(k, _)| !matches!(k.as_str(), "schemas" | "password")).all(|(key, value)| {
        let found = held.as_object().and_then(|o| o.iter().find(|(k, _)| k.eq_ignore_ascii_case(key))).map(|(_, v)| v);
        match (key.as_str(), found) {
            ("members", Some(Value::Array(have))) => {
                let ids = |items: &[Value]| {
                    items
                        .iter()
                        .filter_map(|m| m.get("value").and_then(Value::as_str).map(str::to_owned))
                        .collect::<BTreeSet<_>>()
                };
                value.as_array().is_some_and(|want| ids(want) == ids(have))
            }
            (_, Some(found)) => found == value,
            (_, None) => value.is_null() || value.as_array().is_some_and(Vec::is_empty),
        }
    })
}
