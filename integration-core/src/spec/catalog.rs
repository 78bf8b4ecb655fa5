//! The catalog: the specs the SDK ships (`integration-core/catalog/*.toml`), each written from the
//! provider's own published documentation, which it cites.

use std::sync::{Arc, OnceLock};

use serde::Serialize;

use super::{Auth, Paging, ProviderSpec};

/// Every spec of the catalog: `(id, TOML)`.
const SPECS: &[(&str, &str)] = &[
    ("adp", include_str!("../../catalog/adp.toml")),
    ("adyen", include_str!("../../catalog/adyen.toml")),
    ("asana", include_str!("../../catalog/asana.toml")),
    ("bamboohr", include_str!("../../catalog/bamboohr.toml")),
    ("box", include_str!("../../catalog/box.toml")),
    ("docusign", include_str!("../../catalog/docusign.toml")),
    ("dropbox", include_str!("../../catalog/dropbox.toml")),
    ("entra_id", include_str!("../../catalog/entra_id.toml")),
    ("freshbooks", include_str!("../../catalog/freshbooks.toml")),
    ("github", include_str!("../../catalog/github.toml")),
    ("gitlab", include_str!("../../catalog/gitlab.toml")),
    ("gmail", include_str!("../../catalog/gmail.toml")),
    ("google_calendar", include_str!("../../catalog/google_calendar.toml")),
    ("google_drive", include_str!("../../catalog/google_drive.toml")),
    ("gusto", include_str!("../../catalog/gusto.toml")),
    ("hibob", include_str!("../../catalog/hibob.toml")),
    ("hubspot", include_str!("../../catalog/hubspot.toml")),
    ("intercom", include_str!("../../catalog/intercom.toml")),
    ("jira", include_str!("../../catalog/jira.toml")),
    ("linkedin_learning", include_str!("../../catalog/linkedin_learning.toml")),
    ("mailchimp", include_str!("../../catalog/mailchimp.toml")),
    ("microsoft_calendar", include_str!("../../catalog/microsoft_calendar.toml")),
    ("microsoft_onedrive", include_str!("../../catalog/microsoft_onedrive.toml")),
    ("microsoft_outlook", include_str!("../../catalog/microsoft_outlook.toml")),
    ("microsoft_sharepoint", include_str!("../../catalog/microsoft_sharepoint.toml")),
    ("microsoft_teams", include_str!("../../catalog/microsoft_teams.toml")),
    ("notion", include_str!("../../catalog/notion.toml")),
    ("okta", include_str!("../../catalog/okta.toml")),
    ("paypal", include_str!("../../catalog/paypal.toml")),
    ("personio", include_str!("../../catalog/personio.toml")),
    ("quickbooks", include_str!("../../catalog/quickbooks.toml")),
    ("rippling", include_str!("../../catalog/rippling.toml")),
    ("sage", include_str!("../../catalog/sage.toml")),
    ("salesforce", include_str!("../../catalog/salesforce.toml")),
    ("sendgrid", include_str!("../../catalog/sendgrid.toml")),
    ("shopify", include_str!("../../catalog/shopify.toml")),
    ("slack", include_str!("../../catalog/slack.toml")),
    ("square", include_str!("../../catalog/square.toml")),
    ("stripe", include_str!("../../catalog/stripe.toml")),
    ("twilio", include_str!("../../catalog/twilio.toml")),
    ("workday", include_str!("../../catalog/workday.toml")),
    ("xero", include_str!("../../catalog/xero.toml")),
    ("zendesk", include_str!("../../catalog/zendesk.toml")),
    ("zoom", include_str!("../../catalog/zoom.toml")),
];

/// One API of the catalog, as `catalog()` lists it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[non_exhaustive]
pub struct CatalogEntry {
    /// The provider id.
    pub id: String,
    /// Display name.
    pub name: String,
    /// Its categories.
    pub domains: Vec<String>,
    /// `none`, `api_key`, `basic`, `bearer` or `oauth2`.
    pub auth: &'static str,
    /// The paging style (`cursor`, `odata`…).
    pub paging: Paging,
    /// The documentation the spec follows.
    pub docs: String,
}

impl CatalogEntry {
    fn of(spec: &ProviderSpec) -> Self {
        let auth = match spec.auth {
            Auth::None {} => "none",
            Auth::ApiKey { .. } => "api_key",
            Auth::Basic { .. } => "basic",
            Auth::Bearer { .. } => "bearer",
            Auth::Oauth2 { .. } => "oauth2",
        };
        Self {
            id: spec.id.clone(),
            name: spec.name.clone(),
            domains: spec.domains.clone(),
            auth,
            paging: spec.pagination.style,
            docs: spec.docs.clone(),
        }
    }
}

/// The APIs the SDK ships a spec for, by id: each can be connected and used through
/// passthrough; a typed adapter adds itself on top.
///
/// ```
/// let catalog = integration_core::spec::catalog();
/// let stripe = catalog.iter().find(|e| e.id == "stripe").expect("Stripe is in the catalog");
/// assert_eq!(stripe.auth, "bearer");
/// assert!(stripe.docs.starts_with("https://"));
/// ```
pub fn catalog() -> Vec<CatalogEntry> {
    parsed().iter().map(|spec| CatalogEntry::of(spec)).collect()
}

/// The catalog's spec for provider `id` (read once per process; a typed adapter asks for its
/// spec with every connection it builds).
pub fn catalog_spec(id: &str) -> Option<ProviderSpec> {
    shared_catalog_spec(id).map(|spec| (*spec).clone())
}

/// [`catalog_spec`] without the copy: the one parsed spec every connection to the provider
/// shares (what adapters hold).
pub fn shared_catalog_spec(id: &str) -> Option<Arc<ProviderSpec>> {
    parsed().iter().find(|spec| spec.id == id).cloned()
}

/// The catalog's specs, parsed on first use (the unit test below proves each parses).
fn parsed() -> &'static [Arc<ProviderSpec>] {
    static PARSED: OnceLock<Vec<Arc<ProviderSpec>>> = OnceLock::new();
    PARSED.get_or_init(|| SPECS.iter().filter_map(|(_, text)| ProviderSpec::parse(text).ok().map(Arc::new)).collect())
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeSet;

    use super::super::template::Template;
    use super::*;

    /// The whole catalog: each spec parses (ids match their files), URLs are https, OAuth2 specs
    /// have a token URL, template keys are declared, paging and record pointers are consistent
    /// (all checked by `parse`); ids are unique; at least 40 APIs.
    #[test]
    fn every_spec_of_the_catalog_holds() {
        let mut ids = BTreeSet::new();
        for (id, text) in SPECS {
            let spec = ProviderSpec::parse(text).unwrap_or_else(|e| panic!("{id}.toml: {e}"));
            assert_eq!(spec.id, *id, "{id}.toml declares its own id");
            assert!(ids.insert(spec.id.clone()), "{id} is in the catalog once");
            assert!(spec.base_url.starts_with("https://") && spec.docs.starts_with("https://"), "{id}");
            if let Auth::Oauth2 { token_url, .. } = &spec.auth {
                assert!(token_url.starts_with("https://"), "{id}: an OAuth2 token URL");
            }
            let declared: BTreeSet<&str> = spec.config_keys().collect();
            let keys = Template::parse(&spec.base_url).expect("a template");
            assert!(keys.keys().all(|k| declared.contains(k)), "{id}: base_url keys declared");
            if spec.pagination.style != Paging::None {
                assert!(spec.pagination.records.is_some() && spec.pagination.max_limit.is_some(), "{id}: paging");
            }
        }
        assert!(ids.len() >= 40, "the catalog has {} APIs", ids.len());
        assert_eq!(catalog().len(), SPECS.len(), "catalog() lists every spec");
    }
}
