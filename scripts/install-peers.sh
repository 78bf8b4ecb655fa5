#!/usr/bin/env bash
# Install the peers used by the integration tests: peers/oidc-provider,
# peers/saml-idp and peers/browser (npm packages pinned in their package-lock.json) and
# peers/localstripe, peers/moto, peers/pyx12, peers/radicale, peers/scim2 and peers/wsgidav (Python virtualenvs pinned by their
# requirements.txt).
#
# Idempotent and fast when already installed: `npm ci` only runs when
# node_modules is missing or package-lock.json is newer than
# node_modules/.package-lock.json (the file npm writes after an install).
set -euo pipefail

repo_root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"

for tool in node npm; do
  if ! command -v "$tool" >/dev/null 2>&1; then
    echo "install-peers: '$tool' not found on PATH." >&2
    echo "install-peers: Node.js >= 20.18 with npm is required for peers/oidc-provider and peers/saml-idp" >&2
    echo "install-peers: (Debian/Ubuntu: apt-get install nodejs npm)." >&2
    exit 1
  fi
done

# oidc-provider 9.x uses URL.parse (Node >= 20.18 / >= 22.1).
if ! node -e 'process.exit(typeof URL.parse === "function" ? 0 : 1)'; then
  echo "install-peers: node $(node --version) is too old for oidc-provider 9.x; need >= 20.18 (22 LTS recommended)." >&2
  exit 1
fi

for npm_peer in oidc-provider saml-idp browser; do
  peer_dir="$repo_root/peers/$npm_peer"
  lock="$peer_dir/package-lock.json"
  marker="$peer_dir/node_modules/.package-lock.json"

  if [[ ! -f "$lock" ]]; then
    echo "install-peers: missing $lock" >&2
    exit 1
  fi

  if [[ ! -d "$peer_dir/node_modules" ]]; then
    reason="node_modules missing"
  elif [[ ! -f "$marker" ]]; then
    reason="node_modules/.package-lock.json missing"
  elif [[ "$lock" -nt "$marker" ]]; then
    reason="package-lock.json newer than node_modules/.package-lock.json"
  else
    reason=""
  fi

  if [[ -z "$reason" ]]; then
    echo "install-peers: peers/$npm_peer up to date (node $(node --version)); nothing to do"
  else
    echo "install-peers: peers/$npm_peer: $reason; running npm ci (node $(node --version))"
    start=$SECONDS
    (cd "$peer_dir" && npm ci --no-audit --no-fund)
    echo "install-peers: peers/$npm_peer installed in $((SECONDS - start))s"
  fi
done

# peers/localstripe, peers/radicale and peers/scim2: Python virtualenvs pinned by requirements.txt (the tests install it on
# first use too, under the same lock; this warms it).
if ! command -v python3 >/dev/null 2>&1; then
  echo "install-peers: 'python3' not found on PATH; peers/localstripe, peers/radicale and peers/scim2 need Python >= 3.9." >&2
  exit 1
fi
for peer in localstripe moto pyx12 radicale scim2 wsgidav; do
  py_dir="$repo_root/peers/$peer"
  if [[ -x "$py_dir/.venv/bin/python" && -f "$py_dir/.venv/.installed" && ! "$py_dir/requirements.txt" -nt "$py_dir/.venv/.installed" ]]; then
    echo "install-peers: peers/$peer up to date; nothing to do"
  else
    echo "install-peers: peers/$peer: creating its virtualenv"
    (cd "$py_dir" && python3 -m venv .venv && .venv/bin/python -m pip install --quiet --disable-pip-version-check -r requirements.txt && touch .venv/.installed)
  fi
done
