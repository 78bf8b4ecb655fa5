// The SAML 2.0 identity provider the SAML tests run against: saml-idp (pinned in
// package-lock.json) on 127.0.0.1 and a free port, signing with a key and self-signed
// certificate kept in a folder the test gives, so that a service provider can pin the
// certificate.
//
//   node server.js --dir DIR --audience SP_ENTITY_ID --acsUrl URL [--issuer URI]
//
// The first line on stdout is the announcement, as JSON:
//   {"url":"http://127.0.0.1:PORT","cert":"DIR/idp-cert.pem","issuer":"..."}
// (saml-idp's own logging goes to stderr). The process exits when its stdin closes, so a test
// harness that dies never leaves it running.
'use strict';

const { execFileSync } = require('child_process');
const fs = require('fs');
const http = require('http');
const path = require('path');

function option(name, fallback) {
  const at = process.argv.indexOf(`--${name}`);
  if (at >= 0 && at + 1 < process.argv.length) return process.argv[at + 1];
  if (fallback !== undefined) return fallback;
  process.stderr.write(`saml-idp peer: --${name} is required\n`);
  process.exit(2);
}

const dir = option('dir');
const audience = option('audience');
const acsUrl = option('acsUrl');
const issuer = option('issuer', 'urn:integrations:test:saml-idp');
const cert = path.join(dir, 'idp-cert.pem');
const key = path.join(dir, 'idp-key.pem');

if (!fs.existsSync(cert) || !fs.existsSync(key)) {
  fs.mkdirSync(dir, { recursive: true });
  execFileSync('openssl', [
    'req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-sha256', '-days', '2',
    '-subj', '/CN=integrations saml-idp test peer', '-keyout', key, '-out', cert,
  ], { stdio: 'ignore' });
}

// stdout carries the announcement only (the harness stops reading after it): everything else
// saml-idp writes — its console logging, express' request log — goes to stderr.
const stdoutWrite = process.stdout.write.bind(process.stdout);
const announce = (line) => stdoutWrite(`${line}\n`);
process.stdout.write = (...args) => process.stderr.write(...args);
process.stdout.on('error', () => {});
process.stderr.on('error', () => {});
console.log = (...args) => console.error(...args);

const createServer = http.createServer;
http.createServer = function (...args) {
  const server = createServer.apply(this, args);
  server.once('listening', () => {
    const { port } = server.address();
    announce(JSON.stringify({ url: `http://127.0.0.1:${port}`, cert, issuer }));
  });
  return server;
};

process.stdin.on('end', () => process.exit(0));
process.stdin.on('close', () => process.exit(0));
process.stdin.on('error', () => process.exit(0));
process.stdin.resume();

require('saml-idp').runServer({
  host: '127.0.0.1',
  port: 0,
  cert,
  key,
  issuer,
  audience,
  acsUrl,
  configFile: 'saml-idp/config.js',
});
