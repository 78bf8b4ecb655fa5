#!/usr/bin/env python3
"""Smoke test for the oidc-provider peer (peers/oidc-provider/server.mjs).

Standard library only.  Starts the peer itself (node server.mjs, stdin piped so
it dies with us) unless OIDC_ISSUER=http://127.0.0.1:PORT points at a running
one, then exercises discovery, client credentials, authorization code + PKCE
through the dev interaction forms, refresh-token rotation/reuse and
authorization-code replay.

    python3 peers/oidc-provider/smoke.py        # concise PASS lines
    python3 peers/oidc-provider/smoke.py -v     # full HTTP trace

Exits 0 when every expectation holds, 1 (with FAIL: ...) otherwise.
"""

import base64
import hashlib
import http.client
import http.cookiejar
import json
import os
import secrets
import subprocess
import sys
import time
import urllib.error
import urllib.parse
import urllib.request
from html.parser import HTMLParser

HERE = os.path.dirname(os.path.abspath(__file__))
VERBOSE = "-v" in sys.argv or "--verbose" in sys.argv
REDIRECT_URI = "http://127.0.0.1/callback"
CONFIDENTIAL = ("confidential", "confidential-secret")
PUBLIC = "public"

checks = 0


class Failed(Exception):
    pass


def expect(cond, what, detail=None):
    global checks
    checks += 1
    if not cond:
        raise Failed(what + (f"\n  got: {detail!r}" if detail is not None else ""))
    if VERBOSE:
        print(f"    ok: {what}")


def trace(msg):
    if VERBOSE:
        print(msg)


def step(msg):
    print(f"PASS: {msg}" if not VERBOSE else f"=== {msg}")


# --------------------------------------------------------------------------- HTTP


class NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args, **kwargs):
        return None


class Client:
    """urllib opener with a cookie jar that never follows redirects."""

    def __init__(self):
        self.jar = http.cookiejar.CookieJar()
        self.opener = urllib.request.build_opener(
            urllib.request.HTTPCookieProcessor(self.jar), NoRedirect()
        )

    def request(self, method, url, form=None, headers=None, auth=None):
        data = None
        hdrs = dict(headers or {})
        hdrs.update(self.extra_cookie_header())
        if form is not None:
            data = urllib.parse.urlencode(form).encode()
            hdrs["Content-Type"] = "application/x-www-form-urlencoded"
        if auth is not None:
            hdrs["Authorization"] = "Basic " + base64.b64encode(
                f"{urllib.parse.quote(auth[0], safe='')}:{urllib.parse.quote(auth[1], safe='')}".encode()
            ).decode()
        req = urllib.request.Request(url, data=data, method=method, headers=hdrs)
        try:
            resp = self.opener.open(req, timeout=10)
        except urllib.error.HTTPError as e:  # 3xx (not followed) and 4xx/5xx
            resp = e
        body = resp.read()
        status = resp.status if hasattr(resp, "status") else resp.code
        rhdrs = resp.headers
        self.store_cookies(rhdrs)
        if VERBOSE:
            sent_cookie = req.get_header("Cookie") or req.unredirected_hdrs.get("Cookie")
            print(f"  > {method} {url}")
            if form is not None:
                print(f"    form: {form}")
            if auth is not None:
                print(f"    Authorization: Basic <{auth[0]}:{auth[1]}>")
            print(f"    Cookie: {cookie_names(sent_cookie)}")
            print(f"  < {status} {rhdrs.get('Content-Type', '')}")
            if rhdrs.get("Location"):
                print(f"    Location: {rhdrs['Location']}")
            for sc in rhdrs.get_all("Set-Cookie") or []:
                print(f"    Set-Cookie: {summarize_set_cookie(sc)}")
            if "json" in (rhdrs.get("Content-Type") or ""):
                print(f"    body: {body.decode()}")
        return status, rhdrs, body

    def extra_cookie_header(self):
        return {}

    def store_cookies(self, rhdrs):
        pass


class NaiveClient(Client):
    """Hand-rolled jar, as a minimal Rust test would do it: keep ONE value per
    cookie name (later Set-Cookie wins, empty value = delete), ignore Path /
    Expires, and send every stored cookie on every request to the issuer."""

    def __init__(self):
        self.cookies = {}
        self.opener = urllib.request.build_opener(NoRedirect())

    def extra_cookie_header(self):
        if not self.cookies:
            return {}
        return {"Cookie": "; ".join(f"{k}={v}" for k, v in self.cookies.items())}

    def store_cookies(self, rhdrs):
        for sc in rhdrs.get_all("Set-Cookie") or []:
            name, _, value = sc.split(";", 1)[0].partition("=")
            if value == "":
                self.cookies.pop(name.strip(), None)
            else:
                self.cookies[name.strip()] = value


def cookie_names(header):
    if not header:
        return "(none)"
    return ", ".join(c.split("=", 1)[0].strip() for c in header.split(";"))


def summarize_set_cookie(sc):
    parts = [p.strip() for p in sc.split(";")]
    name, _, value = parts[0].partition("=")
    value = value if len(value) < 20 else value[:12] + "..."
    return f"{name}={value}; " + "; ".join(parts[1:])


def json_body(body):
    try:
        return json.loads(body)
    except ValueError:
        raise Failed(f"expected a JSON body, got {body[:300]!r}")


def b64url_json(segment):
    return json.loads(base64.urlsafe_b64decode(segment + "=" * (-len(segment) % 4)))


def is_jwt(token):
    return token.count(".") == 2


# --------------------------------------------------------------------------- HTML forms


class FormParser(HTMLParser):
    def __init__(self):
        super().__init__()
        self.forms = []

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if tag == "form":
            self.forms.append(
                {"action": a.get("action"), "method": (a.get("method") or "get").upper(), "inputs": []}
            )
        elif tag == "input" and self.forms:
            self.forms[-1]["inputs"].append(
                {"name": a.get("name"), "type": a.get("type", "text"), "value": a.get("value")}
            )


def parse_forms(html):
    p = FormParser()
    p.feed(html)
    return p.forms


# --------------------------------------------------------------------------- flows


def token(c, form, auth=None):
    return c.request("POST", META["token_endpoint"], form=form, auth=auth)


def pkce_pair():
    verifier = secrets.token_urlsafe(48)  # 64 chars, within 43..128
    challenge = base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest()).rstrip(b"=").decode()
    return verifier, challenge


def authorize(client_id, scope, prompt="consent", resource=None, login="alice", c=None):
    """Drive the dev interactions: returns (code, verifier, client, final_location_params)."""
    c = c or Client()
    verifier, challenge = pkce_pair()
    state = secrets.token_urlsafe(16)
    nonce = secrets.token_urlsafe(16)
    params = {
        "client_id": client_id,
        "response_type": "code",
        "redirect_uri": REDIRECT_URI,
        "scope": scope,
        "state": state,
        "nonce": nonce,
        "code_challenge": challenge,
        "code_challenge_method": "S256",
    }
    if prompt is not None:
        params["prompt"] = prompt
    if resource is not None:
        params["resource"] = resource
    url = META["authorization_endpoint"] + "?" + urllib.parse.urlencode(params)

    seen_prompts = []
    for _ in range(10):
        status, hdrs, body = c.request("GET", url)
        expect(status == 303, "authorization / resume GET answers 303", status)
        loc = urllib.parse.urljoin(url, hdrs["Location"])
        if loc.startswith(REDIRECT_URI):
            q = dict(urllib.parse.parse_qsl(urllib.parse.urlsplit(loc).query))
            expect(q.get("state") == state, "final redirect carries our state", q)
            expect(q.get("iss") == ISSUER, "final redirect carries iss = issuer", q)
            if "error" in q:
                return None, verifier, c, q
            expect("code" in q, "final redirect carries code", q)
            return q["code"], verifier, c, q
        expect(loc.startswith(ISSUER + "/interaction/"), "redirected to /interaction/<uid>", loc)
        status, hdrs, body = c.request("GET", loc)
        expect(status == 200, "interaction page is 200 HTML", status)
        forms = parse_forms(body.decode())
        submit = [f for f in forms if any(i["name"] == "prompt" for i in f["inputs"])]
        expect(len(submit) == 1, "interaction page has one form with a 'prompt' input", forms)
        f = submit[0]
        trace(f"    form: {f['method']} {f['action']} inputs={f['inputs']}")
        prompt_name = next(i["value"] for i in f["inputs"] if i["name"] == "prompt")
        seen_prompts.append(prompt_name)
        if prompt_name == "login":
            fields = {"prompt": "login", "login": login, "password": "anything"}
        elif prompt_name == "consent":
            fields = {"prompt": "consent"}
        else:
            raise Failed(f"unexpected prompt {prompt_name}")
        status, hdrs, body = c.request(f["method"], urllib.parse.urljoin(loc, f["action"]), form=fields)
        expect(status == 303, f"{prompt_name} form POST answers 303", (status, body[:200]))
        url = urllib.parse.urljoin(loc, hdrs["Location"])
        expect(url.startswith(META["authorization_endpoint"] + "/"), "POST redirects to /auth/<uid> (resume)", url)
    raise Failed("too many interaction rounds")


def code_grant(code, verifier, client_id, resource=None):
    form = {"grant_type": "authorization_code", "code": code, "redirect_uri": REDIRECT_URI, "code_verifier": verifier}
    if resource:
        form["resource"] = resource
    if client_id == "confidential":
        return token(Client(), form, auth=CONFIDENTIAL)
    form["client_id"] = client_id
    return token(Client(), form)


def refresh_grant(rt, client_id):
    form = {"grant_type": "refresh_token", "refresh_token": rt}
    if client_id == "confidential":
        return token(Client(), form, auth=CONFIDENTIAL)
    form["client_id"] = client_id
    return token(Client(), form)


def introspect(tok):
    s, _, b = Client().request("POST", META["introspection_endpoint"], form={"token": tok}, auth=CONFIDENTIAL)
    expect(s == 200, "introspection answers 200", s)
    return json_body(b)


def expect_error(status, body, code, what, want_status=400):
    j = json_body(body)
    expect(status == want_status and j.get("error") == code, f"{what}: {want_status} {code}", (status, j))
    return j


# --------------------------------------------------------------------------- scenarios


def scenario_discovery():
    s, h, b = Client().request("GET", ISSUER + "/.well-known/openid-configuration")
    expect(s == 200, "discovery 200", s)
    meta = json_body(b)
    expect(meta["issuer"] == ISSUER, "discovery issuer matches", meta["issuer"])
    for k, path in [
        ("authorization_endpoint", "/auth"),
        ("token_endpoint", "/token"),
        ("userinfo_endpoint", "/me"),
        ("jwks_uri", "/jwks"),
        ("introspection_endpoint", "/token/introspection"),
        ("revocation_endpoint", "/token/revocation"),
    ]:
        expect(meta.get(k) == ISSUER + path, f"{k} is {path}", meta.get(k))
    expect(meta["code_challenge_methods_supported"] == ["S256"], "only S256 PKCE", meta["code_challenge_methods_supported"])
    expect("client_credentials" in meta["grant_types_supported"], "client_credentials advertised")
    expect(meta.get("authorization_response_iss_parameter_supported") is True, "iss in authz response advertised")
    s, h, b = Client().request("GET", meta["jwks_uri"])
    expect(s == 200 and json_body(b)["keys"], "jwks has keys")
    step("discovery + jwks")
    return meta


def scenario_client_credentials():
    c = Client()
    # scope api:read, no resource -> opaque token
    s, h, b = token(c, {"grant_type": "client_credentials", "scope": "api:read"}, auth=CONFIDENTIAL)
    j = json_body(b)
    expect(s == 200, "cc scope=api:read (no resource) -> 200", (s, j))
    expect(set(j) == {"access_token", "expires_in", "scope", "token_type"}, "cc response fields", j)
    expect(j["token_type"] == "Bearer" and j["scope"] == "api:read" and j["expires_in"] == 3600, "cc Bearer/api:read/3600", j)
    expect(not is_jwt(j["access_token"]), "cc without resource -> opaque token", j["access_token"])
    intro = introspect(j["access_token"])
    expect(intro.get("active") is True and intro.get("client_id") == "confidential", "opaque cc token introspects active", intro)
    step("client_credentials scope=api:read without resource -> opaque token")

    # no scope at all
    s, h, b = token(c, {"grant_type": "client_credentials"}, auth=CONFIDENTIAL)
    j = json_body(b)
    expect(s == 200 and "access_token" in j and "scope" not in j, "cc with no scope -> 200, no scope field", (s, j))
    step("client_credentials without scope -> opaque token, no scope field")

    # resource=urn:api -> JWT
    s, h, b = token(c, {"grant_type": "client_credentials", "scope": "api:read", "resource": "urn:api"}, auth=CONFIDENTIAL)
    j = json_body(b)
    expect(s == 200 and is_jwt(j["access_token"]), "cc with resource=urn:api -> JWT", (s, j))
    expect(j["scope"] == "api:read" and j["expires_in"] == 3600, "JWT cc scope/expires_in", j)
    hdr, claims = b64url_json(j["access_token"].split(".")[0]), b64url_json(j["access_token"].split(".")[1])
    trace(f"    JWT header={hdr} claims={claims}")
    expect(hdr.get("typ") == "at+jwt" and hdr.get("alg") == "RS256" and "kid" in hdr, "JWT header typ at+jwt, RS256, kid", hdr)
    expect(claims.get("aud") == "urn:api" and claims.get("iss") == ISSUER and claims.get("client_id") == "confidential"
           and claims.get("sub") == "confidential" and claims.get("scope") == "api:read", "JWT claims aud/iss/client_id/sub/scope", claims)

    # resource without scope
    s, h, b = token(c, {"grant_type": "client_credentials", "resource": "urn:api"}, auth=CONFIDENTIAL)
    j = json_body(b)
    expect(s == 200 and is_jwt(j["access_token"]) and "scope" not in j, "cc resource only -> JWT without scope", (s, j))
    step("client_credentials resource=urn:api -> JWT (typ at+jwt, aud urn:api)")

    # unknown resource
    s, h, b = token(c, {"grant_type": "client_credentials", "resource": "urn:other"}, auth=CONFIDENTIAL)
    expect_error(s, b, "invalid_target", "cc unknown resource")
    # wrong secret
    s, h, b = token(c, {"grant_type": "client_credentials"}, auth=("confidential", "nope"))
    expect_error(s, b, "invalid_client", "cc wrong secret", 401)
    # public client may not use cc
    s, h, b = token(c, {"grant_type": "client_credentials", "client_id": "public"})
    j = expect_error(s, b, "invalid_request", "cc by public client")
    expect(j.get("error_description") == "requested grant type is not allowed for this client", "cc by public client description", j)
    step("client_credentials errors: invalid_target / invalid_client 401 / invalid_request (grant not allowed)")


def scenario_code_flow(client_id):
    code, verifier, c, q = authorize(client_id, "openid offline_access api:read")
    s, h, b = code_grant(code, verifier, client_id)
    j = json_body(b)
    expect(s == 200, f"{client_id}: code exchange 200", (s, j))
    expect(set(j) == {"access_token", "expires_in", "id_token", "refresh_token", "scope", "token_type"},
           f"{client_id}: token response fields", sorted(j))
    expect(j["token_type"] == "Bearer" and j["expires_in"] == 3600, f"{client_id}: Bearer, expires_in 3600", j)
    expect(j["scope"] == "openid offline_access api:read", f"{client_id}: scope echoed", j["scope"])
    expect(not is_jwt(j["access_token"]), f"{client_id}: access token opaque (no resource)", j["access_token"])
    idt = b64url_json(j["id_token"].split(".")[1])
    expect(idt["sub"] == "alice" and idt["aud"] == client_id and idt["iss"] == ISSUER, f"{client_id}: id_token sub/aud/iss", idt)
    s, h, b = Client().request("GET", META["userinfo_endpoint"], headers={"Authorization": "Bearer " + j["access_token"]})
    expect(s == 200 and json_body(b) == {"sub": "alice"}, f"{client_id}: userinfo {{sub: alice}}", (s, b))
    step(f"authorization_code + PKCE ({client_id}) -> access_token + refresh_token + id_token")
    return c, j


def scenario_refresh(client_id, first):
    rt0 = first["refresh_token"]
    s, h, b = refresh_grant(rt0, client_id)
    j1 = json_body(b)
    expect(s == 200, f"{client_id}: refresh 200", (s, j1))
    expect(set(j1) == {"access_token", "expires_in", "id_token", "refresh_token", "scope", "token_type"},
           f"{client_id}: refresh response fields", sorted(j1))
    expect(j1["refresh_token"] != rt0, f"{client_id}: refresh token rotated", j1)
    expect(j1["access_token"] != first["access_token"], f"{client_id}: new access token")
    rt1 = j1["refresh_token"]
    step(f"refresh_token ({client_id}) -> new refresh token (rotation)")

    s, h, b = refresh_grant(rt0, client_id)
    err = expect_error(s, b, "invalid_grant", f"{client_id}: reuse of rotated refresh token")
    expect(err.get("error_description") == "grant request is invalid", "reuse error_description", err)
    s, h, b = refresh_grant(rt1, client_id)
    err = expect_error(s, b, "invalid_grant", f"{client_id}: new refresh token after reuse is revoked too")
    intro = introspect(j1["access_token"])
    expect(intro == {"active": False}, f"{client_id}: access token from the family is revoked as well", intro)
    intro = introspect(first["access_token"])
    expect(intro == {"active": False}, f"{client_id}: first access token revoked as well", intro)
    step(f"refresh reuse ({client_id}) -> 400 invalid_grant, whole grant revoked (new RT + ATs dead)")


def scenario_code_replay():
    code, verifier, c, q = authorize("confidential", "openid offline_access")
    s, h, b = code_grant(code, verifier, "confidential")
    j = json_body(b)
    expect(s == 200 and "refresh_token" in j, "first redemption ok", (s, j))
    s, h, b = code_grant(code, verifier, "confidential")
    expect_error(s, b, "invalid_grant", "second redemption of the same code")
    s, h, b = refresh_grant(j["refresh_token"], "confidential")
    expect_error(s, b, "invalid_grant", "refresh token from the replayed code is revoked")
    intro = introspect(j["access_token"])
    expect(intro == {"active": False}, "access token from the replayed code is revoked", intro)
    step("authorization code replay -> 400 invalid_grant, tokens from it revoked")


def scenario_variants():
    # offline_access without prompt=consent is silently dropped -> no refresh token
    code, verifier, c, q = authorize("public", "openid offline_access", prompt=None)
    s, h, b = code_grant(code, verifier, "public")
    j = json_body(b)
    expect(s == 200 and "refresh_token" not in j and j["scope"] == "openid", "no prompt=consent -> offline_access dropped, no RT", j)
    step("without prompt=consent: offline_access dropped, no refresh_token")

    # minimum scope set
    code, verifier, c, q = authorize("public", "openid offline_access")
    s, h, b = code_grant(code, verifier, "public")
    j = json_body(b)
    expect(s == 200 and j["scope"] == "openid offline_access" and "refresh_token" in j and "id_token" in j, "openid offline_access", j)
    step("scope 'openid offline_access' -> AT + RT + id_token")

    # resource at authz + token endpoint -> JWT access token for urn:api, RT still issued
    code, verifier, c, q = authorize("confidential", "openid offline_access api:read", resource="urn:api")
    s, h, b = code_grant(code, verifier, "confidential", resource="urn:api")
    j = json_body(b)
    expect(s == 200 and is_jwt(j["access_token"]) and j["scope"] == "api:read" and "refresh_token" in j,
           "resource=urn:api in both requests -> JWT AT scope api:read + RT", j)
    claims = b64url_json(j["access_token"].split(".")[1])
    expect(claims["aud"] == "urn:api" and claims["sub"] == "alice" and claims["client_id"] == "confidential", "code JWT claims", claims)
    s, h, b = refresh_grant(j["refresh_token"], "confidential")
    j2 = json_body(b)
    expect(s == 200 and not is_jwt(j2["access_token"]) and j2["scope"] == "openid offline_access api:read",
           "refresh without resource -> opaque userinfo AT", j2)
    form = {"grant_type": "refresh_token", "refresh_token": j2["refresh_token"], "resource": "urn:api"}
    s, h, b = token(Client(), form, auth=CONFIDENTIAL)
    j3 = json_body(b)
    expect(s == 200 and is_jwt(j3["access_token"]) and j3["scope"] == "api:read", "refresh with resource=urn:api -> JWT AT", j3)
    step("resource=urn:api in authz + token requests -> JWT access token (refresh: pass resource again)")

    # second authorization in the same browser session: login skipped, consent asked again (prompt=consent)
    code, verifier, c2, q = authorize("public", "openid offline_access", c=c)
    s, h, b = code_grant(code, verifier, "public")
    expect(s == 200, "second authorization with existing session", (s, b))
    step("second authorization reusing the cookie jar (session) works")

    # a naive cookie jar (one value per name, no path matching) is enough
    code, verifier, c, q = authorize("public", "openid offline_access", c=NaiveClient())
    s, h, b = code_grant(code, verifier, "public")
    expect(s == 200 and "refresh_token" in json_body(b), "naive cookie jar flow", (s, b))
    step("authorization flow with a naive cookie jar (name -> value, sent everywhere)")

    # PKCE is required, also for the confidential client
    c = Client()
    url = META["authorization_endpoint"] + "?" + urllib.parse.urlencode({
        "client_id": "confidential", "response_type": "code", "redirect_uri": REDIRECT_URI,
        "scope": "openid", "state": "xyz"})
    s, h, b = c.request("GET", url)
    loc = h.get("Location", "")
    q = dict(urllib.parse.parse_qsl(urllib.parse.urlsplit(loc).query))
    expect(s == 303 and loc.startswith(REDIRECT_URI) and q.get("error") == "invalid_request", "missing PKCE -> error redirect", (s, loc))
    trace(f"    missing PKCE: {q}")
    code, verifier, c, q = authorize("confidential", "openid")
    s, h, b = code_grant(code, "x" * 43, "confidential")
    expect_error(s, b, "invalid_grant", "wrong code_verifier")
    step("PKCE enforced: missing challenge -> invalid_request redirect; bad verifier -> invalid_grant")


# --------------------------------------------------------------------------- main


def start_server():
    node = os.environ.get("NODE", "node")
    proc = subprocess.Popen(
        [node, os.path.join(HERE, "server.mjs")],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=None if VERBOSE else subprocess.DEVNULL,
        text=True,
    )
    t0 = time.monotonic()
    line = proc.stdout.readline()
    if not line:
        raise Failed(f"server exited before printing the issuer line (rc={proc.wait()})")
    issuer = json.loads(line)["issuer"]
    print(f"server ready in {time.monotonic() - t0:.2f}s: {line.strip()}")
    return proc, issuer


def main():
    global ISSUER, META
    proc = None
    try:
        if os.environ.get("OIDC_ISSUER"):
            ISSUER = os.environ["OIDC_ISSUER"].rstrip("/")
        else:
            proc, ISSUER = start_server()
        META = scenario_discovery()
        scenario_client_credentials()
        for client_id in ("confidential", "public"):
            _, first = scenario_code_flow(client_id)
            scenario_refresh(client_id, first)
        scenario_code_replay()
        scenario_variants()
        if proc is not None:
            # stdin EOF must stop the server
            proc.stdin.close()
            try:
                rc = proc.wait(timeout=5)
            except subprocess.TimeoutExpired:
                proc.kill()
                raise Failed("server did not exit after stdin was closed")
            expect(rc == 0, "server exits 0 on stdin EOF", rc)
            step("server exits when its stdin closes")
            proc = None
    except Failed as e:
        print(f"FAIL: {e}")
        return 1
    finally:
        if proc is not None:
            proc.kill()
            proc.wait()
    print(f"{checks} passed, 0 failed")
    return 0


if __name__ == "__main__":
    sys.exit(main())
