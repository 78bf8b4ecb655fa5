// Real OpenID Provider peer for the Rust integration tests.
//
// Usage:   node peers/oidc-provider/server.mjs
//
// Listens on 127.0.0.1 on an OS-assigned free port (override with
// OIDC_PEER_PORT=<n>), then prints exactly one line of JSON on stdout:
//
//   {"issuer":"http://127.0.0.1:PORT"}
//
// Nothing else is ever written to stdout; all logs go to stderr.
// The process exits when its stdin reaches EOF / is closed (so a test harness
// that dies does not leave an orphan), and on SIGTERM / SIGINT.
// Set OIDC_PEER_IGNORE_STDIN=1 to keep running with a closed stdin
// (e.g. `node server.mjs </dev/null &` when poking at it by hand).
// Set OIDC_PEER_DEBUG=1 to log every oidc-provider error event to stderr.
// Set OIDC_PEER_KEYS=<file> to sign with the private JWKs kept in that file (made, with one new
// RS256 key, when it does not exist); with OIDC_PEER_ROTATE=1 too, a new key is put first in the
// file before starting: tokens are signed with it, and the older keys are still published, as
// in a signing key rotation.

import http from 'node:http';
import process from 'node:process';

// oidc-provider prints some notices with console.info (i.e. to stdout). The
// stdout contract is "one JSON line", so route every console method that
// would write to stdout to stderr instead, *before* the library is loaded
// (hence the dynamic import below).
for (const method of ['log', 'info', 'debug']) {
  console[method] = (...args) => console.error(...args);
}

const log = (...args) => console.error('[oidc-peer]', ...args);

function exit(code, why) {
  log(`exiting (${why})`);
  process.exit(code);
}

process.on('SIGTERM', () => exit(0, 'SIGTERM'));
process.on('SIGINT', () => exit(0, 'SIGINT'));
if (process.env.OIDC_PEER_IGNORE_STDIN !== '1') {
  process.stdin.on('end', () => exit(0, 'stdin closed'));
  process.stdin.on('close', () => exit(0, 'stdin closed'));
  process.stdin.on('error', () => exit(0, 'stdin error'));
  process.stdin.resume(); // drain whatever the harness writes; we only care about EOF
}

const { default: Provider, errors } = await import('oidc-provider');
const { generateKeyPairSync, randomUUID } = await import('node:crypto');
const fs = await import('node:fs');

// The signing keys: the file's (rotated when asked), or oidc-provider's development keys.
function signingKeys() {
  const file = process.env.OIDC_PEER_KEYS;
  if (!file) return undefined;
  const fresh = () => {
    const { privateKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
    return { ...privateKey.export({ format: 'jwk' }), kid: randomUUID(), alg: 'RS256', use: 'sig' };
  };
  let keys = fs.existsSync(file) ? JSON.parse(fs.readFileSync(file, 'utf8')) : [];
  if (keys.length === 0 || process.env.OIDC_PEER_ROTATE === '1') {
    keys = [fresh(), ...keys];
    fs.writeFileSync(file, JSON.stringify(keys));
  }
  log(`signing with key ${keys[0].kid}; ${keys.length} key(s) published`);
  return { keys };
}
const jwks = signingKeys();

const RESOURCE = 'urn:api';
const RESOURCE_SCOPE = 'api:read';
const HOUR = 60 * 60;
const DAY = 24 * HOUR;

const configuration = {
  clients: [
    {
      client_id: 'confidential',
      client_secret: 'confidential-secret',
      token_endpoint_auth_method: 'client_secret_basic',
      grant_types: ['authorization_code', 'refresh_token', 'client_credentials'],
      response_types: ['code'],
      // application_type defaults to 'web'; web clients may register plain
      // http redirect URIs as long as they don't use the implicit flow.
      // Matching is exact (no loopback port wildcard, that is 'native' only).
      redirect_uris: ['http://127.0.0.1/callback'],
    },
    {
      client_id: 'public',
      token_endpoint_auth_method: 'none',
      grant_types: ['authorization_code', 'refresh_token'],
      response_types: ['code'],
      redirect_uris: ['http://127.0.0.1/callback'],
    },
  ],

  // Any login name is accepted by the dev interaction form; it becomes `sub`.
  async findAccount(_ctx, sub) {
    return {
      accountId: sub,
      async claims() {
        return { sub };
      },
    };
  },

  scopes: ['openid', 'offline_access', RESOURCE_SCOPE],
  claims: { openid: ['sub'] },

  features: {
    devInteractions: { enabled: true },
    clientCredentials: { enabled: true },
    introspection: { enabled: true, allowedPolicy: async () => true },
    revocation: { enabled: true, allowedPolicy: async () => true },
    userinfo: { enabled: true },
    resourceIndicators: {
      enabled: true,
      // No resource parameter => no resource server => opaque access token
      // (the library default; spelled out here for clarity).
      defaultResource: async (_ctx, _client, oneOf) => oneOf ?? undefined,
      // Library default: a token request without `resource` for a grant that
      // includes `openid` gets a userinfo (opaque) token; pass `resource` at
      // the token endpoint to get the JWT for urn:api.
      useGrantedResource: async () => false,
      async getResourceServerInfo(_ctx, resourceIndicator, _client) {
        if (resourceIndicator === RESOURCE) {
          return {
            scope: RESOURCE_SCOPE,
            audience: RESOURCE,
            accessTokenFormat: 'jwt',
            accessTokenTTL: HOUR,
            jwt: { sign: { alg: 'RS256' } },
          };
        }
        throw new errors.InvalidTarget();
      },
    },
  },

  pkce: {
    required: () => true,
  },

  rotateRefreshToken: true,

  ttl: {
    AccessToken: HOUR,
    ClientCredentials: HOUR,
    IdToken: HOUR,
    RefreshToken: DAY,
    Interaction: HOUR,
    Session: DAY,
    Grant: DAY,
  },

  // Fixed keys: cookies are signed, so they stay valid across restarts.
  cookies: {
    keys: ['oidc-peer-cookie-key-1-not-a-secret', 'oidc-peer-cookie-key-2-not-a-secret'],
  },

  // Without OIDC_PEER_KEYS: oidc-provider's built-in development keys (RS256, ES256, EdDSA ...).
  // Fine for tests, logs a warning on stderr.
  ...(jwks ? { jwks } : {}),

  clientBasedCORS: () => true,

  async renderError(ctx, out, _error) {
    ctx.type = 'json';
    ctx.body = out;
  },
};

const server = http.createServer();
await new Promise((resolve, reject) => {
  server.once('error', reject);
  server.listen(Number(process.env.OIDC_PEER_PORT ?? 0), '127.0.0.1', resolve);
});
const { port } = server.address();
const issuer = `http://127.0.0.1:${port}`;

const provider = new Provider(issuer, configuration);

provider.on('server_error', (_ctx, err) => log('server_error', err));
if (process.env.OIDC_PEER_DEBUG === '1') {
  for (const event of [
    'authorization.error',
    'grant.error',
    'introspection.error',
    'revocation.error',
    'userinfo.error',
    'check_session_origin.error',
    'discovery.error',
    'end_session.error',
    'jwks.error',
    'registration_create.error',
  ]) {
    provider.on(event, (_ctx, err) => log(event, err?.error ?? err?.name, err?.error_description ?? err?.message, err?.error_detail ? `(detail: ${err.error_detail})` : ''));
  }
}

server.on('request', provider.callback());

process.stdout.write(`${JSON.stringify({ issuer })}\n`);
log(`listening, issuer ${issuer}`);
