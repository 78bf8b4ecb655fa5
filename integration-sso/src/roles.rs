//! Host roles from what an identity provider says about a user: per-tenant rules mapping IdP
//! groups and claims to the host's roles, written as data (JSON or TOML) and checked when loaded.
//!
//! ```
//! use integration_sso::roles::RoleRules;
//! use serde_json::json;
//!
//! let rules: RoleRules = serde_json::from_value(json!([
//!     {"group": "Engineering", "role": "developer"},
//!     {"claim": "department", "equals": "Finance", "role": "approver"},
//!     {"claim": "email_verified", "equals": true, "role": "member"},
//! ]))?;
//! rules.check()?;
//! let claims = json!({"groups": ["engineering", "Everyone"], "department": "Finance", "email_verified": true});
//! let roles: Vec<String> = rules.roles(&claims).into_iter().collect();
//! assert_eq!(roles, ["approver", "developer", "member"]);
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

use std::collections::BTreeSet;

use integration_core::{Error, Result};
use serde::{Deserialize, Serialize};
use serde_json::Value;

/// One rule: a condition and the role it grants.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(untagged)]
#[non_exhaustive]
pub enum RoleRule {
    /// Membership of an IdP group (its name, without regard to case) in the `groups` claim.
    Group {
        /// The group's name.
        group: String,
        /// The role granted.
        role: String,
    },
    /// A claim (a dotted path into the claims) equal to a value — or, for a list, holding it.
    Claim {
        /// The claim's path (`department`, `address.country`).
        claim: String,
        /// The value it must have.
        equals: Value,
        /// The role granted.
        role: String,
    },
}

/// A tenant's rules.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(transparent)]
pub struct RoleRules(pub Vec<RoleRule>);

impl RoleRules {
    /// Checks the rules: each names a role (letters, digits, `-`, `_`, `.`, `:`; at most 100) and
    /// a non-empty group or claim; at most 1,000 rules.
    ///
    /// # Errors
    /// A `Validation` error naming the rule (`rules[3].role`).
    pub fn check(&self) -> Result<()> {
        if self.0.len() > 1_000 {
            return Err(Error::validation("rules", "at most 1,000 rules"));
        }
        for (i, rule) in self.0.iter().enumerate() {
            let (role, subject, what) = match rule {
                RoleRule::Group { group, role } => (role, group, "group"),
                RoleRule::Claim { claim, role, .. } => (role, claim, "claim"),
            };
            let fine = |s: &str| {
                !s.is_empty()
                    && s.len() <= 100
                    && s.chars().all(|c| c.is_alphanumeric() || matches!(c, '-' | '_' | '.' | ':'))
            };
            if !fine(role) {
                return Err(Error::validation(
                    format!("rules[{i}].role"),
                    "a role name: letters, digits, - _ . : (at most 100)",
                ));
            }
            if subject.trim().is_empty() {
                return Err(Error::validation(format!("rules[{i}].{what}"), "must not be empty"));
            }
        }
        Ok(())
    }

    /// The roles `claims` (an ID token's or userinfo's) earn.
    pub fn roles(&self, claims: &Value) -> BTreeSet<String> {
        let groups: Vec<&str> =
            claims.get("groups").and_then(Value::as_array).into_iter().flatten().filter_map(Value::as_str).collect();
        self.0
            .iter()
            .filter(|rule| match rule {
                RoleRule::Group { group, .. } => groups.iter().any(|g| g.eq_ignore_ascii_case(group)),
                RoleRule::Claim { claim, equals, .. } => {
                    let found = claim.split('.').try_fold(claims, |at, part| at.get(part));
                    match found {
                        Some(Value::Array(items)) => items.contains(equals),
                        Some(value) => value == equals,
                        None => false,
                    }
                }
            })
            .map(|rule| match rule {
                RoleRule::Group { role, .. } | RoleRule::Claim { role, .. } => role.clone(),
            })
            .collect()
    }
}
