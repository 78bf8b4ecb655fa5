//! What each adapter declares: about reading ahead (the HRIS listings change nothing at the
//! provider, so the sync engine may read the next page while it writes one — except ADP's
//! employees, whose next page of changes deletes the queue message before it), and the same
//! configuration and HTTP policy as the catalog spec it is built on.

use integration_core::spec::{Auth, Template, catalog_spec};
use integration_core::{Descriptor, schema};
use integration_hris::Adapter;
use integration_hris::adp::Adp;
use integration_hris::bamboohr::BambooHr;
use integration_hris::workday::Workday;

fn read_ahead<A: Adapter>() -> Vec<(String, bool)> {
    let descriptor = A::describe().expect("a valid descriptor");
    descriptor.streams.iter().map(|s| (s.name.clone(), s.read_ahead)).collect()
}

#[test]
fn every_hris_stream_reads_ahead_but_adp_employees() {
    for (adapter, streams) in [("bamboohr", read_ahead::<BambooHr>()), ("workday", read_ahead::<Workday>())] {
        assert!(!streams.is_empty(), "{adapter}");
        assert!(streams.iter().all(|(_, ahead)| *ahead), "{adapter}: {streams:?}");
    }
    let adp = read_ahead::<Adp>();
    for (name, ahead) in &adp {
        assert_eq!(*ahead, name != "employees", "adp {name}: {adp:?}");
    }
    assert!(adp.iter().any(|(name, _)| name == "employees"), "{adp:?}");
}

/// The keys a URL template names in its origin (`https://{host}`), which a configured
/// `base_url` replaces.
fn origin_keys(url: &str) -> Vec<String> {
    let after = url.find("://").map_or(0, |i| i + 3);
    let origin = &url[..url[after..].find('/').map_or(url.len(), |i| after + i)];
    Template::parse(origin).expect("a template").keys().map(str::to_owned).collect()
}

/// `adapter` takes every configuration key of its spec — but the base URL's origin keys, when
/// it asks for `base_url` itself — and declares the spec's HTTP policy.
fn agrees_with_its_spec(id: &str, adapter: &Descriptor) {
    let spec = catalog_spec(id).unwrap_or_else(|| panic!("{id} is in the catalog"));
    let replaced = if adapter.config.field(schema::BASE_URL).is_some_and(|f| f.required) {
        origin_keys(&spec.base_url)
    } else {
        Vec::new()
    };
    for key in spec.config_keys().filter(|k| !replaced.iter().any(|r| r == k)) {
        assert!(adapter.config.field(key).is_some(), "{id}: the adapter takes {key} too");
    }
    let from_spec = spec.descriptor().expect("the spec's descriptor");
    for field in from_spec.config.fields().iter().filter(|f| f.required && !replaced.contains(&f.key)) {
        assert!(adapter.config.field(&field.key).is_some(), "{id}: the adapter takes {} too", field.key);
    }
    if let Auth::Oauth2 { token_url, .. } = &spec.auth {
        assert!(
            adapter.config.field(schema::BASE_URL).is_some(),
            "{id}: a test or a sandbox points it elsewhere ({token_url})"
        );
    }
    assert_eq!(from_spec.http.error_message_header, adapter.http.error_message_header, "{id}: the error header");
    assert_eq!(
        format!("{:?}", from_spec.http.rate_limit),
        format!("{:?}", adapter.http.rate_limit),
        "{id}: the rate limit"
    );
}

#[test]
fn each_adapter_takes_its_catalog_spec_s_configuration_and_policy() {
    agrees_with_its_spec("bamboohr", &BambooHr::describe().expect("BambooHR"));
    agrees_with_its_spec("workday", &Workday::describe().expect("Workday"));
    agrees_with_its_spec("adp", &Adp::describe().expect("ADP"));
    assert_eq!(origin_keys("https://{host}/ccx/api/{tenant}"), ["host"]);
}
