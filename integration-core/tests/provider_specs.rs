//! Provider specs are read from TOML a host may write: every refusal names the line and the key,
//! any text is read without a panic, and the catalog's specs load.

use integration_core::ErrorKind;
use integration_core::spec::{Auth, Grant, Paging, ProviderSpec, catalog, catalog_spec};
use proptest::prelude::*;

const HEAD: &str = "id = \"acme\"\nname = \"Acme\"\ndomains = [\"crm\"]\ndocs = \"https://acme.example.com/docs\"\n";

fn spec(rest: &str) -> String {
    format!(
        "{HEAD}base_url = \"https://{{subdomain}}.acme.example.com/api\"\n\n[[settings]]\nkey = \"subdomain\"\ndescription = \"the subdomain\"\n{rest}\n[check]\npath = \"/me\"\n"
    )
}

#[test]
fn a_good_spec_reads_every_table() {
    let text = spec(
        "\n[auth]\nkind = \"oauth2\"\ngrants = [\"authorization_code\", \"refresh_token\"]\nauthorization_url = \"https://{subdomain}.acme.example.com/oauth/authorize\"\ntoken_url = \"https://{subdomain}.acme.example.com/oauth/token\"\nscopes = [\"read\"]\npkce = true\nrotating_refresh_tokens = true\n\n[pagination]\nstyle = \"delta\"\nrecords = \"/value\"\nlimit_param = \"$top\"\nmax_limit = 999\nnext_link = \"/@odata.nextLink\"\ndelta_link = \"/@odata.deltaLink\"\n",
    );
    let spec = ProviderSpec::parse(&text).expect("a good spec");
    let Auth::Oauth2 { grants, pkce, rotating_refresh_tokens, scope_separator, .. } = &spec.auth else {
        panic!("oauth2: {:?}", spec.auth);
    };
    assert_eq!(grants, &[Grant::AuthorizationCode, Grant::RefreshToken]);
    assert!(*pkce && *rotating_refresh_tokens && scope_separator == " ");
    assert_eq!(spec.pagination.style, Paging::Delta);
    assert_eq!(spec.config_keys().collect::<Vec<_>>(), ["subdomain"]);
}

#[test]
fn each_refusal_names_the_line_and_the_key() {
    let cases: Vec<(String, &str, Option<&str>)> = vec![
        (
            spec("\n[auth]\nkind = \"oauth2\"\ngrants = [\"client_credentials\"]\ntoken_url = \"\"\n"),
            "token_url = ",
            Some("auth.token_url"),
        ),
        (spec("\n[auth]\nkind = \"bearer\"\ntoken = \"{api_token}\"\n"), "token = ", Some("auth.token")),
        (spec("\n[auth]\nkind = \"none\"\ncolour = \"blue\"\n"), "colour", Some("auth")),
        (
            spec(
                "\n[auth]\nkind = \"basic\"\nusername = \"u\"\npassword = \"p\"\n\n[pagination]\nstyle = \"cursor\"\nrecords = \"data\"\nlimit_param = \"limit\"\nmax_limit = 10\ncursor_param = \"c\"\nnext_cursor = \"/next\"\n",
            ),
            "records = ",
            Some("pagination.records"),
        ),
        (
            spec(
                "\n[auth]\nkind = \"none\"\n\n[pagination]\nstyle = \"offset\"\nrecords = \"/data\"\nlimit_param = \"limit\"\nmax_limit = 10\n",
            ),
            "[pagination]",
            Some("pagination.offset_param"),
        ),
        (
            spec("\n[auth]\nkind = \"none\"\n[headers]\nAuthorization = \"Bearer x\"\n"),
            "Authorization = ",
            Some("headers.Authorization"),
        ),
        (
            format!("{HEAD}base_url = \"http://acme.example.com\"\n[auth]\nkind = \"none\"\n[check]\npath = \"/\"\n"),
            "base_url = ",
            Some("base_url"),
        ),
        ("id = \"acme\"\nname = [\n".to_owned(), "name = [", None),
    ];
    for (text, needle, key) in cases {
        let at = text.lines().position(|l| l.starts_with(needle)).expect("the needle") + 1;
        let line = format!("line {at}:");
        let refused = ProviderSpec::parse(&text).expect_err("refused");
        assert_eq!(refused.kind(), ErrorKind::Config, "{refused}");
        assert!(refused.to_string().contains(&line), "{line} named in: {refused}");
        if let Some(key) = key {
            assert!(
                refused.field().is_some_and(|f| f.starts_with(key)),
                "{key} named in: {refused} ({:?})",
                refused.field()
            );
        }
    }
}

#[test]
fn a_timestamped_hmac_needs_both_its_header_and_what_is_signed() {
    let hook = |extra: &str| {
        spec(&format!(
            "\n[auth]\nkind = \"none\"\n\n[webhooks]\nscheme = \"hmac\"\nheader = \"X-Sig\"\nencoding = \"hex\"\n{extra}"
        ))
    };
    let good =
        ProviderSpec::parse(&hook("timestamp_header = \"X-Ts\"\nsigned = \"{timestamp}.{body}\"\n")).expect("good");
    assert!(good.webhook_scheme().is_some());
    for (extra, field) in [
        ("timestamp_header = \"X-Ts\"\n", "webhooks.signed"),
        ("signed = \"{body}\"\n", "webhooks.timestamp_header"),
        ("timestamp_header = \"X-Ts\"\nsigned = \"{body}{nonce}\"\n", "webhooks.signed"),
    ] {
        let refused = ProviderSpec::parse(&hook(extra)).expect_err("refused");
        assert_eq!(refused.field(), Some(field), "{refused}");
    }
}

#[test]
fn the_catalog_lists_forty_apis_or_more_each_loadable() {
    let entries = catalog();
    assert!(entries.len() >= 40, "{} APIs", entries.len());
    for entry in &entries {
        let spec = catalog_spec(&entry.id).expect("its spec");
        assert_eq!(spec.name, entry.name);
        assert!(["none", "api_key", "basic", "bearer", "oauth2"].contains(&entry.auth));
    }
    for id in [
        "workday",
        "bamboohr",
        "adp",
        "quickbooks",
        "xero",
        "stripe",
        "adyen",
        "google_calendar",
        "microsoft_outlook",
        "slack",
        "github",
        "okta",
        "entra_id",
    ] {
        assert!(entries.iter().any(|e| e.id == id), "{id} is in the catalog");
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    #[test]
    fn any_text_is_read_or_refused_without_a_panic(text in ".{0,400}") {
        if let Err(refused) = ProviderSpec::parse(&text) {
            prop_assert_eq!(refused.kind(), ErrorKind::Config);
        }
    }

    #[test]
    fn a_spec_with_any_values_is_read_or_refused(id in ".{0,12}", url in ".{0,30}", path in ".{0,10}", pointer in ".{0,8}") {
        let text = format!("id = {id:?}\nname = \"n\"\ndomains = [\"crm\"]\ndocs = {url:?}\nbase_url = {url:?}\n[auth]\nkind = \"none\"\n[pagination]\nstyle = \"page\"\nrecords = {pointer:?}\nlimit_param = \"l\"\nmax_limit = 5\npage_param = \"p\"\n[check]\npath = {path:?}\n");
        match ProviderSpec::parse(&text) {
            Ok(spec) => prop_assert!(spec.base_url.starts_with("https://")),
            Err(refused) => prop_assert!(refused.to_string().starts_with("config") || refused.kind() == ErrorKind::Config),
        }
    }
}

#[test]
fn a_rate_limit_may_set_its_burst_and_the_policy_follows() {
    let quickbooks = catalog_spec("quickbooks").expect("QuickBooks is in the catalog");
    let limit = quickbooks.http_policy().rate_limit.expect("a rate limit");
    assert_eq!((limit.requests.get(), limit.burst.get()), (500, 2), "500 a minute, never more than 10 in a second");
    let zero = spec("[auth]\nkind = \"none\"\n\n[rate_limit]\nrequests = 10\nper_seconds = 1\nburst = 0\n");
    let error = ProviderSpec::parse(&zero).expect_err("a burst of nothing");
    assert_eq!(error.field(), Some("rate_limit.burst"));
}
