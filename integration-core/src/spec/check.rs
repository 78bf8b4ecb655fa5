//! What a [`ProviderSpec`] must hold beyond its shape: ids, https URLs, declared template keys,
//! the keys each auth kind and paging style needs, JSON pointers.

use std::collections::BTreeSet;

use super::template::Template;
use super::{Auth, CATEGORIES, Grant, Location, Paging, ProviderSpec};

/// The key that is wrong and why.
pub(super) type Refusal = (String, String);

fn refuse<T>(key: impl Into<String>, message: impl Into<String>) -> Result<T, Refusal> {
    Err((key.into(), message.into()))
}

fn is_key(text: &str, max: usize) -> bool {
    let mut chars = text.chars();
    text.len() <= max
        && chars.next().is_some_and(|c| c.is_ascii_lowercase())
        && chars.all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_')
}

fn pointer(key: &str, value: Option<&String>) -> Result<(), Refusal> {
    match value {
        Some(p) if !p.is_empty() && !p.starts_with('/') => {
            refuse(key, format!("{p:?} is not a JSON pointer (like \"/data\"; \"\" for the whole body)"))
        }
        _ => Ok(()),
    }
}

fn need<'v>(key: &str, value: Option<&'v String>, why: &str) -> Result<&'v String, Refusal> {
    match value {
        Some(v) if !v.is_empty() => Ok(v),
        _ => refuse(key, why),
    }
}

struct Declared(BTreeSet<String>);

impl Declared {
    fn template(&self, key: &str, text: &str) -> Result<(), Refusal> {
        let template = Template::parse(text).or_else(|why| refuse(key, why))?;
        for name in template.keys() {
            if !self.0.contains(name) {
                return refuse(key, format!("{{{name}}} is not declared in [[settings]] or [[secrets]]"));
            }
        }
        Ok(())
    }

    fn https(&self, key: &str, text: &str) -> Result<(), Refusal> {
        self.template(key, text)?;
        if !text.starts_with("https://") || text.len() <= "https://".len() {
            return refuse(key, format!("{text:?} is not an https URL"));
        }
        // The host itself must parse once templates are filled in.
        let sample = text.replace(['{', '}'], "");
        if url::Url::parse(&sample).map_or(true, |u| u.host_str().is_none_or(str::is_empty)) {
            return refuse(key, format!("{text:?} is not a URL"));
        }
        Ok(())
    }
}

/// Checks `spec`; the first key that is wrong and why.
pub(super) fn check(spec: &ProviderSpec) -> Result<(), Refusal> {
    if !is_key(&spec.id, 40) {
        return refuse("id", "lowercase letters, digits and _, starting with a letter, at most 40");
    }
    if spec.name.trim().is_empty() {
        return refuse("name", "the provider's display name");
    }
    if spec.domains.is_empty() {
        return refuse("domains", format!("one or more of {}", CATEGORIES.join(", ")));
    }
    for (i, domain) in spec.domains.iter().enumerate() {
        if !CATEGORIES.contains(&domain.as_str()) {
            return refuse(format!("domains[{i}]"), format!("{domain:?} is not one of {}", CATEGORIES.join(", ")));
        }
    }
    let mut declared = Declared(BTreeSet::new());
    for (table, fields) in [("settings", &spec.settings), ("secrets", &spec.secrets)] {
        for (i, field) in fields.iter().enumerate() {
            if !is_key(&field.key, 64) {
                return refuse(format!("{table}[{i}].key"), "lowercase letters, digits and _, starting with a letter");
            }
            if field.description.trim().is_empty() {
                return refuse(format!("{table}[{i}].description"), "say what it is and where the customer finds it");
            }
            if table == "secrets" && field.default.is_some() {
                return refuse(format!("{table}[{i}].default"), "a secret has no default");
            }
            if !declared.0.insert(field.key.clone()) {
                return refuse(format!("{table}[{i}].key"), format!("{:?} is declared twice", field.key));
            }
        }
    }
    declared.https("docs", &spec.docs)?;
    declared.https("base_url", &spec.base_url)?;
    check_auth(&spec.auth, &declared)?;
    for (name, value) in &spec.headers {
        if name.eq_ignore_ascii_case("authorization") {
            return refuse(format!("headers.{name}"), "credentials belong in [auth]");
        }
        if http::HeaderName::from_bytes(name.as_bytes()).is_err() {
            return refuse(format!("headers.{name}"), "not a header name");
        }
        declared.template(&format!("headers.{name}"), value)?;
    }
    if let Some(version) = &spec.version
        && (version.name.trim().is_empty() || version.value.trim().is_empty())
    {
        return refuse("version.name", "the version's header or parameter name, and its value");
    }
    check_paging(spec)?;
    if let Some(limit) = &spec.rate_limit {
        match (limit.requests, limit.per_seconds) {
            _ if limit.burst == Some(0) => return refuse("rate_limit.burst", "at least one request"),
            (Some(0), _) => return refuse("rate_limit.requests", "at least one request"),
            (_, Some(0)) => return refuse("rate_limit.per_seconds", "at least one second"),
            (Some(_), None) => return refuse("rate_limit.per_seconds", "requests per how many seconds"),
            (None, Some(_)) => return refuse("rate_limit.requests", "how many requests per per_seconds"),
            _ => {}
        }
    }
    if let Some(errors) = &spec.errors {
        pointer("errors.message", errors.message.as_ref())?;
        if errors.message.is_none() && errors.message_header.is_none() {
            return refuse("errors.message", "a JSON pointer, a message_header, or both");
        }
    }
    if let Some(webhooks) = &spec.webhooks {
        let schemes = [
            "standard_webhooks",
            "stripe",
            "github",
            "slack",
            "xero",
            "intuit",
            "adyen",
            "google_channel",
            "graph_client_state",
            "hmac",
        ];
        if !schemes.contains(&webhooks.scheme.as_str()) {
            return refuse("webhooks.scheme", format!("one of {}", schemes.join(", ")));
        }
        if webhooks.scheme == "hmac" {
            need("webhooks.header", webhooks.header.as_ref(), "the header carrying the signature")?;
            if !matches!(webhooks.encoding.as_deref(), Some("hex" | "base64")) {
                return refuse("webhooks.encoding", "hex or base64");
            }
            match (&webhooks.timestamp_header, &webhooks.signed) {
                (None, None) => {}
                (Some(_), Some(signed)) => {
                    let rest = signed.replace("{body}", "").replace("{timestamp}", "");
                    if !signed.contains("{body}") || !signed.contains("{timestamp}") || rest.contains(['{', '}']) {
                        return refuse("webhooks.signed", "what is signed, from {body} and {timestamp}");
                    }
                }
                (None, Some(_)) => return refuse("webhooks.timestamp_header", "the header the timestamp comes in"),
                (Some(_), None) => return refuse("webhooks.signed", "what is signed, like \"{timestamp}.{body}\""),
            }
        } else if webhooks.timestamp_header.is_some() || webhooks.signed.is_some() {
            return refuse("webhooks.signed", "only an hmac scheme takes a timestamp header and signed content");
        }
    }
    if !spec.check.path.starts_with('/') {
        return refuse("check.path", "a path starting with /, joined to base_url");
    }
    declared.template("check.path", &spec.check.path)?;
    if !["GET", "POST", "HEAD"].contains(&spec.check.method.as_str()) {
        return refuse("check.method", "GET, POST or HEAD");
    }
    let mut names = BTreeSet::new();
    for (i, stream) in spec.streams.iter().enumerate() {
        let at = |key: &str| format!("streams[{i}].{key}");
        if !is_key(&stream.name, 64) || !names.insert(stream.name.as_str()) {
            return refuse(at("name"), "a unique name: lowercase letters, digits and _");
        }
        if !stream.path.starts_with('/') {
            return refuse(at("path"), "a path starting with /, joined to base_url");
        }
        declared.template(&at("path"), &stream.path)?;
        if stream.primary_key.is_empty() {
            return refuse(at("primary_key"), "a JSON pointer to each record's id, like \"/id\"");
        }
        for (key, value) in [
            ("primary_key", Some(&stream.primary_key)),
            ("records", stream.records.as_ref()),
            ("cursor_field", stream.cursor_field.as_ref()),
            ("deleted", stream.deleted.as_ref()),
        ] {
            pointer(&at(key), value)?;
        }
        if stream.records.is_none() && spec.pagination.records.is_none() {
            return refuse(at("records"), "where the records are (or pagination.records for every stream)");
        }
        if stream.cursor_field.is_some() && stream.cursor_param.as_deref().is_none_or(str::is_empty) {
            return refuse(at("cursor_param"), "the query parameter the greatest cursor value seen is sent in");
        }
    }
    Ok(())
}

fn check_auth(auth: &Auth, declared: &Declared) -> Result<(), Refusal> {
    match auth {
        Auth::None {} => Ok(()),
        Auth::ApiKey { location, name, value } => {
            if name.trim().is_empty() {
                return refuse("auth.name", "the header or query parameter the key goes in");
            }
            if *location == Location::Header && http::HeaderName::from_bytes(name.as_bytes()).is_err() {
                return refuse("auth.name", "not a header name");
            }
            need("auth.value", Some(value), "the key's value, a template like \"{api_key}\"")?;
            declared.template("auth.value", value)
        }
        Auth::Basic { username, password } => {
            need("auth.username", Some(username), "the user name, a template")?;
            declared.template("auth.username", username)?;
            declared.template("auth.password", password)
        }
        Auth::Bearer { token } => {
            need("auth.token", Some(token), "the token, a template like \"{api_token}\"")?;
            declared.template("auth.token", token)
        }
        Auth::Oauth2 {
            grants,
            token_url,
            authorization_url,
            revocation_url,
            scope_separator,
            authorization_params,
            token_params,
            ..
        } => {
            if grants.is_empty() {
                return refuse(
                    "auth.grants",
                    "one or more of authorization_code, client_credentials, jwt_bearer, refresh_token",
                );
            }
            if token_url.is_empty() {
                return refuse("auth.token_url", "an OAuth2 spec needs the token endpoint");
            }
            declared.https("auth.token_url", token_url)?;
            match authorization_url {
                Some(url) => declared.https("auth.authorization_url", url)?,
                None if grants.contains(&Grant::AuthorizationCode) => {
                    return refuse(
                        "auth.authorization_url",
                        "the authorization code grant needs the authorization endpoint",
                    );
                }
                None => {}
            }
            if let Some(url) = revocation_url {
                declared.https("auth.revocation_url", url)?;
            }
            if scope_separator.is_empty() {
                return refuse("auth.scope_separator", "the text between scopes (\" \" or \",\")");
            }
            for (table, params) in [("authorization_params", authorization_params), ("token_params", token_params)] {
                for (name, value) in params {
                    declared.template(&format!("auth.{table}.{name}"), value)?;
                }
            }
            Ok(())
        }
    }
}

fn check_paging(spec: &ProviderSpec) -> Result<(), Refusal> {
    let p = &spec.pagination;
    for (key, value) in [
        ("pagination.records", &p.records),
        ("pagination.next_cursor", &p.next_cursor),
        ("pagination.cursor_field", &p.cursor_field),
        ("pagination.has_more", &p.has_more),
        ("pagination.total", &p.total),
        ("pagination.next_link", &p.next_link),
        ("pagination.delta_link", &p.delta_link),
        ("pagination.sync_token", &p.sync_token),
    ] {
        pointer(key, value.as_ref())?;
    }
    if p.style == Paging::None {
        return Ok(());
    }
    if p.records.is_none() {
        return refuse("pagination.records", "where the records are: a JSON pointer (\"\" for the whole body)");
    }
    if p.limit_prefer.is_none() {
        need("pagination.limit_param", p.limit_param.as_ref(), "the page-size parameter (or limit_prefer)")?;
    }
    if p.max_limit.is_none_or(|m| m == 0) {
        return refuse("pagination.max_limit", "the largest page the provider allows");
    }
    match p.style {
        Paging::None => Ok(()),
        Paging::Cursor => {
            need("pagination.cursor_param", p.cursor_param.as_ref(), "the parameter the next cursor is sent in")?;
            if p.next_cursor.is_none() && p.cursor_field.is_none() {
                return refuse(
                    "pagination.next_cursor",
                    "next_cursor (in the answer) or cursor_field (of the last record)",
                );
            }
            Ok(())
        }
        Paging::Offset => need("pagination.offset_param", p.offset_param.as_ref(), "the offset parameter").map(drop),
        Paging::Page => need("pagination.page_param", p.page_param.as_ref(), "the page-number parameter").map(drop),
        Paging::LinkHeader => Ok(()),
        Paging::Odata => need("pagination.next_link", p.next_link.as_ref(), "where the next page's URL is").map(drop),
        Paging::Delta => {
            if p.next_link.is_none() && (p.next_cursor.is_none() || p.cursor_param.is_none()) {
                return refuse("pagination.next_link", "next_link, or next_cursor with cursor_param");
            }
            if p.delta_link.is_none() && (p.sync_token.is_none() || p.sync_param.is_none()) {
                return refuse("pagination.delta_link", "delta_link, or sync_token with sync_param");
            }
            Ok(())
        }
    }
}
