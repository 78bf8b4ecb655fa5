//! The web page: server-rendered HTML and a little JavaScript (no build step). Every value is
//! escaped; the actions post to the JSON API with the session's CSRF token.

use std::collections::BTreeMap;
use std::fmt::Write as _;

use axum::Extension;
use axum::extract::{Query, State};
use axum::response::{Html, IntoResponse, Response};
use integration_core::schema::{ConfigField, FieldFormat};
use integration_core::{Descriptor, TenantId};
use serde::Deserialize;
use serde_json::Value;

use crate::Console;
use crate::access::Access;
use crate::api::{self, Shared, tenant_of};
use crate::views::{ConnectionView, Standing};

/// Escapes text for HTML content and attribute values.
pub(crate) fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

const STYLE: &str = "body{font-family:system-ui,sans-serif;margin:2rem;color:#222}table{border-collapse:collapse;margin:.5rem 0 1.5rem}td,th{border:1px solid #ddd;padding:.3rem .5rem;text-align:left;vertical-align:top}th{background:#f4f4f4}.badge{padding:.1rem .4rem;border-radius:.3rem;font-size:.85em}.healthy,.succeeded,.processed{background:#d7f5dd}.degraded,.failed,.dead_lettered,.rejected,.reauthorization_required{background:#fbd9d9}.paused,.pending,.retrying,.partially_succeeded{background:#fdf1c7}pre{max-width:60rem;overflow:auto;background:#f8f8f8;padding:.4rem}nav a{margin-right:1rem}";

const SCRIPT: &str = r#"
document.addEventListener('click', async (event) => {
  const button = event.target.closest('button[data-action]');
  if (!button) return;
  if (button.dataset.confirm && !confirm(button.dataset.confirm)) return;
  button.disabled = true;
  const token = document.querySelector('meta[name="csrf-token"]').content;
  try {
    const answer = await fetch(button.dataset.action, { method: 'POST', headers: { 'x-csrf-token': token } });
    if (!answer.ok) {
      const body = await answer.json().catch(() => ({}));
      alert((body.error && body.error.message) || ('the action failed: ' + answer.status));
    }
  } finally {
    location.reload();
  }
});
"#;

fn layout(console: &Console, title: &str, csrf_token: Option<&str>, body: &str) -> String {
    let meta = csrf_token.map(|t| format!(r#"<meta name="csrf-token" content="{}">"#, escape(t))).unwrap_or_default();
    let base = escape(console.public_url.path());
    format!(
        r#"<!doctype html><html lang="en"><head><meta charset="utf-8"><title>{title}</title>{meta}<base href="{base}"><style>{STYLE}</style></head><body>{body}<script>{SCRIPT}</script></body></html>"#,
        title = escape(title),
    )
}

/// A page with one message (the connect flow's errors).
pub(crate) fn message(console: &Console, title: &str, text: &str) -> String {
    let body = format!(
        r#"<h1>{}</h1><p id="message">{}</p><p><a href="./">Back to the console</a></p>"#,
        escape(title),
        escape(text)
    );
    layout(console, title, None, &body)
}

#[derive(Debug, Deserialize)]
pub(crate) struct PageQuery {
    tenant: Option<String>,
    connected: Option<String>,
}

/// `GET /`: the console of one tenant.
pub(crate) async fn console(
    State(console): State<Shared>,
    Extension(access): Extension<Access>,
    Query(query): Query<PageQuery>,
) -> Response {
    let tenant = match query.tenant.as_deref() {
        Some(t) => tenant_of(&access, t),
        None => access
            .visible_tenants()
            .next()
            .cloned()
            .ok_or_else(|| api::ApiError::forbidden("this session sees no tenant")),
    };
    let tenant = match tenant {
        Ok(t) => t,
        Err(e) => return (e.status(), Html(message(&console, "Not allowed", e.message()))).into_response(),
    };
    match render(&console, &access, &tenant, query.connected.as_deref()).await {
        Ok(html) => Html(html).into_response(),
        Err(e) => {
            (e.status(), Html(message(&console, "The console could not read its stores", e.message()))).into_response()
        }
    }
}

fn badge(class: &str) -> String {
    format!(r#"<span class="badge {0}">{0}</span>"#, escape(class))
}

fn button(action: &str, label: &str, confirm: Option<&str>, may_act: bool) -> String {
    if !may_act {
        return String::new();
    }
    let confirm = confirm.map(|c| format!(r#" data-confirm="{}""#, escape(c))).unwrap_or_default();
    format!(r#"<button data-action="{}"{confirm}>{}</button> "#, escape(action), escape(label))
}

fn connections_table(out: &mut String, tenant: &TenantId, views: &[ConnectionView], may_act: bool) {
    let t = escape(tenant.as_str());
    out.push_str(r#"<h2>Connections</h2><table id="connections"><tr><th>connection</th><th>provider</th><th>health</th><th>last sync</th><th>streams</th><th></th></tr>"#);
    if views.is_empty() {
        out.push_str(r#"<tr><td colspan="6">No connection yet: connect one below.</td></tr>"#);
    }
    for view in views {
        let c = escape(&view.connection);
        let reason = view.reason.as_deref().map(|r| format!("<br><small>{}</small>", escape(r))).unwrap_or_default();
        let last = view.last_sync_at.map(|t| t.to_rfc3339()).unwrap_or_else(|| "never".into());
        let mut streams = String::new();
        for s in &view.streams {
            let n = escape(&s.name);
            let status = s.last_status.map(|st| badge(st.as_str())).unwrap_or_default();
            let paused = if s.paused { badge("paused") } else { String::new() };
            let base = format!("api/tenants/{t}/connections/{c}/streams/{n}");
            let toggle = if s.paused {
                button(&format!("{base}/resume"), "Resume", None, may_act)
            } else {
                button(&format!("{base}/pause"), "Pause", None, may_act)
            };
            let sync = button(&format!("{base}/sync"), "Sync now", None, may_act && !s.paused);
            let _ =
                write!(streams, r#"<div class="stream" data-stream="{n}">{n} {status}{paused} {toggle}{sync}</div>"#);
        }
        let disconnect = if view.standing == Standing::Disconnected {
            String::new()
        } else {
            button(
                &format!("api/tenants/{t}/connections/{c}/disconnect"),
                "Disconnect",
                Some("Disconnect this connection?"),
                may_act,
            )
        };
        let _ = write!(
            out,
            r#"<tr class="connection" data-connection="{c}" data-standing="{standing}"><td>{c}</td><td>{provider}</td><td>{badge}{reason}</td><td>{last}</td><td>{streams}</td><td>{disconnect}</td></tr>"#,
            standing = view.standing.as_str(),
            provider = escape(&view.provider_name),
            badge = badge(view.standing.as_str()),
            last = escape(&last),
        );
    }
    out.push_str("</table>");
}

async fn render(
    console: &Console,
    access: &Access,
    tenant: &TenantId,
    connected: Option<&str>,
) -> api::ApiResult<String> {
    let token = console.csrf.token(access.session());
    let may_act = access.may_act();
    let t = escape(tenant.as_str());
    let mut out = String::new();
    let _ = write!(
        out,
        r#"<h1>Integrations</h1><p>Signed in as {} · tenant <strong id="tenant">{t}</strong></p>"#,
        escape(access.subject())
    );
    let others: Vec<&TenantId> = access.visible_tenants().filter(|o| *o != tenant).collect();
    if !others.is_empty() {
        out.push_str("<nav>Other tenants: ");
        for other in others {
            let o = escape(other.as_str());
            let _ = write!(out, r#"<a href="?tenant={o}">{o}</a>"#);
        }
        out.push_str("</nav>");
    }
    if let Some(connected) = connected {
        let _ = write!(out, r#"<p id="connected" class="badge healthy">Connected {}.</p>"#, escape(connected));
    }

    if let Err(e) = api::raise_due(console, tenant).await {
        tracing::warn!(error = %e.message(), "the console could not check for notifications");
    }
    let notifications = api::recent_notifications(console, tenant);
    out.push_str(r#"<h2>Notifications</h2><ul id="notifications">"#);
    if notifications.is_empty() {
        out.push_str("<li>None.</li>");
    }
    for n in notifications.iter().take(20) {
        let kind = n["kind"].as_str().unwrap_or_default();
        let _ = write!(
            out,
            r#"<li class="notification" data-kind="{}">{}</li>"#,
            escape(kind),
            escape(n["message"].as_str().unwrap_or_default())
        );
    }
    out.push_str("</ul>");

    let views = api::connection_views(console, tenant).await?;
    connections_table(&mut out, tenant, &views, may_act);

    out.push_str(r#"<h2>Connect</h2><ul id="catalog">"#);
    let mut providers: Vec<&Descriptor> = console.registry.providers().collect();
    providers.sort_by(|a, b| a.display_name.cmp(&b.display_name));
    for d in providers {
        let p = escape(d.provider.as_str());
        let how = if console.oauth_apps.contains_key(d.provider.as_str()) { "OAuth" } else { "form" };
        let link = if may_act {
            format!(
                r#" <a class="connect" data-provider="{p}" href="connect/{p}?tenant={t}&amp;csrf={}">Connect</a>"#,
                escape(&token)
            )
        } else {
            String::new()
        };
        let _ = write!(
            out,
            r#"<li>{} <small>({}, {how})</small>{link}</li>"#,
            escape(&d.display_name),
            escape(&d.domain.to_string())
        );
    }
    out.push_str("</ul>");

    let runs = api::recent_runs(console, tenant, None, 50).await?;
    out.push_str(r#"<h2>Sync runs</h2><table id="runs"><tr><th>connection</th><th>stream</th><th>status</th><th>added / updated / deleted / failed</th><th>started</th><th>error</th></tr>"#);
    if runs.is_empty() {
        out.push_str(r#"<tr><td colspan="6">None yet.</td></tr>"#);
    }
    for run in &runs {
        let status = run.status.as_str();
        let error = run.error.as_ref().map(|e| escape(&e.message)).unwrap_or_default();
        let mut rejected = String::new();
        if !run.rejected.is_empty() {
            let _ = write!(rejected, "<details><summary>{} rejected records</summary>", run.rejected.len());
            for r in &run.rejected {
                let raw = serde_json::to_string_pretty(&r.raw).unwrap_or_default();
                let _ = write!(
                    rejected,
                    "<p>{}: {}</p><pre>{}</pre>",
                    escape(&r.remote_id.clone().unwrap_or_default()),
                    escape(&r.message),
                    escape(&raw)
                );
            }
            rejected.push_str("</details>");
        }
        let c = &run.counts;
        let _ = write!(
            out,
            r#"<tr class="run" data-status="{status}"><td>{}</td><td>{}</td><td>{}</td><td>{} / {} / {} / {}</td><td>{}</td><td>{error}{rejected}</td></tr>"#,
            escape(run.connection.as_str()),
            escape(&run.stream),
            badge(status),
            c.added,
            c.updated,
            c.deleted,
            c.failed,
            run.started_at.to_rfc3339(),
        );
    }
    out.push_str("</table>");

    let deliveries =
        console.deliveries.list_deliveries(tenant, &integration_core::store::DeliveryQuery::new().limit(50)).await?;
    out.push_str(r#"<h2>Webhook deliveries</h2><table id="deliveries"><tr><th>received</th><th>connection</th><th>status</th><th>attempts</th><th>why</th><th></th></tr>"#);
    if deliveries.is_empty() {
        out.push_str(r#"<tr><td colspan="6">None yet.</td></tr>"#);
    }
    for d in &deliveries {
        let why = d.rejection.as_deref().or(d.last_error.as_deref()).unwrap_or_default();
        let replay = if matches!(
            d.status,
            integration_core::store::DeliveryStatus::DeadLettered | integration_core::store::DeliveryStatus::Retrying
        ) {
            button(&format!("api/tenants/{t}/deliveries/{}/replay", d.id), "Replay", None, may_act)
        } else {
            String::new()
        };
        let _ = write!(
            out,
            r#"<tr class="delivery" data-status="{status}" data-delivery="{id}"><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{replay}</td></tr>"#,
            d.received_at.to_rfc3339(),
            escape(d.connection.as_str()),
            badge(d.status.as_str()),
            d.attempts,
            escape(why),
            status = d.status.as_str(),
            id = d.id,
        );
    }
    out.push_str("</table>");

    if console.automations.is_some() {
        let runs = api::automation_run_views(console, tenant, 30).await?;
        out.push_str(r#"<h2>Automation runs</h2><table id="automation-runs"><tr><th>automation</th><th>status</th><th>created</th><th>steps</th></tr>"#);
        for run in &runs {
            let status = run["status"].as_str().unwrap_or_default();
            let mut steps = String::from("<details><summary>step log</summary><ol>");
            for s in run["steps"].as_array().into_iter().flatten() {
                let error = s["error"].as_str().map(|e| format!(": {}", escape(e))).unwrap_or_default();
                let _ = write!(
                    steps,
                    "<li>{} ({}) {}{error}</li>",
                    escape(s["step"].as_str().unwrap_or_default()),
                    escape(s["action"].as_str().unwrap_or_default()),
                    escape(&status_value(&s["status"])),
                );
            }
            steps.push_str("</ol></details>");
            let error = run["error"].as_str().map(|e| format!("<br><small>{}</small>", escape(e))).unwrap_or_default();
            let _ = write!(
                out,
                r#"<tr class="automation-run" data-status="{s}"><td>{}</td><td>{}{error}</td><td>{}</td><td>{steps}</td></tr>"#,
                escape(run["automation"].as_str().unwrap_or_default()),
                badge(status),
                escape(run["created_at"].as_str().unwrap_or_default()),
                s = escape(status),
            );
        }
        out.push_str("</table>");
    }
    Ok(layout(console, &format!("Integrations · {}", tenant.as_str()), Some(&token), &out))
}

fn status_value(value: &Value) -> String {
    value.as_str().map(str::to_owned).unwrap_or_else(|| value.to_string())
}

fn input(field: &ConfigField, value: Option<&str>) -> String {
    let name = format!("field.{}", field.key);
    let required = if field.required { " required" } else { "" };
    match &field.format {
        _ if field.secret => format!(
            r#"<input type="password" name="{}" id="{}" autocomplete="off"{required}>"#,
            escape(&name),
            escape(&name)
        ),
        FieldFormat::OneOf { values } => {
            let mut select = format!(r#"<select name="{}" id="{}">"#, escape(&name), escape(&name));
            if !field.required {
                select.push_str(r#"<option value=""></option>"#);
            }
            for v in values {
                let selected = if value == Some(v.as_str()) { " selected" } else { "" };
                let _ = write!(select, r#"<option value="{0}"{selected}>{0}</option>"#, escape(v));
            }
            select.push_str("</select>");
            select
        }
        FieldFormat::Boolean => {
            let checked = if value == Some("true") || value == Some("on") { " checked" } else { "" };
            format!(r#"<input type="checkbox" name="{}" id="{}" value="true"{checked}>"#, escape(&name), escape(&name))
        }
        format => {
            let kind = match format {
                FieldFormat::Integer { .. } => "number",
                FieldFormat::Email => "email",
                FieldFormat::Url | FieldFormat::HttpsUrl => "url",
                _ => "text",
            };
            let value = value.map(|v| format!(r#" value="{}""#, escape(v))).unwrap_or_default();
            if matches!(format, FieldFormat::Pem) {
                return format!(
                    r#"<textarea name="{}" id="{}" rows="4"{required}></textarea>"#,
                    escape(&name),
                    escape(&name)
                );
            }
            format!(r#"<input type="{kind}" name="{}" id="{}"{value}{required}>"#, escape(&name), escape(&name))
        }
    }
}

/// The form connecting `descriptor`'s provider: one input per field (secrets masked, never
/// filled in), `errors` next to their fields, `problem` above them.
#[allow(clippy::too_many_arguments)]
pub(crate) fn connect_form(
    console: &Console,
    access: &Access,
    tenant: &TenantId,
    descriptor: &Descriptor,
    fields: &[ConfigField],
    connection: &str,
    values: &BTreeMap<String, String>,
    errors: &BTreeMap<String, String>,
    problem: Option<&str>,
) -> String {
    let token = console.csrf.token(access.session());
    let p = escape(descriptor.provider.as_str());
    let mut out = format!(r#"<h1>Connect {}</h1>"#, escape(&descriptor.display_name));
    if let Some(docs) = &descriptor.documentation {
        let _ = write!(out, r#"<p><a href="{}" rel="noreferrer">The provider's documentation</a></p>"#, escape(docs));
    }
    if let Some(problem) = problem {
        let _ = write!(out, r#"<p class="badge failed" id="problem">{}</p>"#, escape(problem));
    }
    let error_of = |key: &str| {
        errors
            .get(key)
            .map(|e| format!(r#" <span class="error badge failed" id="error.{}">{}</span>"#, escape(key), escape(e)))
            .unwrap_or_default()
    };
    let _ = write!(
        out,
        r#"<form method="post" action="connect/{p}" id="connect"><input type="hidden" name="csrf" value="{}"><input type="hidden" name="tenant" value="{}"><table>"#,
        escape(&token),
        escape(tenant.as_str()),
    );
    let _ = write!(
        out,
        r#"<tr><th><label for="connection">connection name</label></th><td><input type="text" name="connection" id="connection" value="{}" required>{}</td></tr>"#,
        escape(connection),
        error_of("connection"),
    );
    for field in fields {
        let label = if field.required {
            escape(&field.key)
        } else {
            format!("{} <small>(optional)</small>", escape(&field.key))
        };
        let description = if field.description.is_empty() {
            String::new()
        } else {
            format!("<br><small>{}</small>", escape(&field.description))
        };
        let _ = write!(
            out,
            r#"<tr><th><label for="field.{key}">{label}</label></th><td>{input}{error}{description}</td></tr>"#,
            key = escape(&field.key),
            input = input(field, values.get(&field.key).map(String::as_str)),
            error = error_of(&field.key),
        );
    }
    out.push_str(r#"</table><button type="submit">Connect</button></form><p><a href="./">Back to the console</a></p>"#);
    layout(console, &format!("Connect {}", descriptor.display_name), Some(&token), &out)
}
