// A defective OpenID Connect provider on loopback, for the console's refusal tests: the flow
// itself is sound (client, redirect, PKCE all checked), the ID token carries the defect FORGE asks.
// Env: OIDC_CLIENT_ID, OIDC_CLIENT_SECRET, OIDC_REDIRECT_URI and FORGE, one of
//   valid  a correct token           aud    meant for another client
//   iss    from another issuer       nonce  with another nonce
//   sig    signed by a key not in the JWKS (same kid)
//   exp    expired an hour ago
// No login page: /auth answers the code at once. Prints `issuer http://127.0.0.1:PORT` once it
// listens, then runs until killed.
import { createServer } from 'node:http';
import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

// The packages live outside the tree (see .ci/run); OIDC_NODE_MODULES names another node_modules.
const here = dirname(fileURLToPath(import.meta.url));
const modules = process.env.OIDC_NODE_MODULES || join(here, '../../../target/oidc-node/node_modules');
const load = (name) => import(pathToFileURL(createRequire(join(modules, 'load.js')).resolve(name)));
const { SignJWT, exportJWK, generateKeyPair } = await load('jose');

const env = (name) => {
  const value = process.env[name];
  if (!value) {
    console.error(`forge: ${name} is not set`);
    process.exit(2);
  }
  return value;
};
const clientId = env('OIDC_CLIENT_ID');
const clientSecret = env('OIDC_CLIENT_SECRET');
const redirectUri = env('OIDC_REDIRECT_URI');
const forge = env('FORGE');
if (!['valid', 'aud', 'iss', 'nonce', 'sig', 'exp'].includes(forge)) {
  console.error(`forge: unknown FORGE=${forge}`);
  process.exit(2);
}

// The published key, and for `sig` an impostor under the same kid.
const kid = 'forge-rs256';
const published = await generateKeyPair('RS256', { extractable: true });
const impostor = await generateKeyPair('RS256');
const jwks = { keys: [{ ...(await exportJWK(published.publicKey)), kid, alg: 'RS256', use: 'sig' }] };

const b64url = (bytes) => Buffer.from(bytes).toString('base64url');
const same = (a, b) => {
  const [x, y] = [Buffer.from(a), Buffer.from(b)];
  return x.length === y.length && timingSafeEqual(x, y);
};
const codes = new Map(); // code -> { nonce, challenge }

function send(res, status, body, headers = {}) {
  const json = typeof body !== 'string';
  res.writeHead(status, {
    'content-type': json ? 'application/json' : 'text/plain',
    'cache-control': 'no-store',
    ...headers,
  });
  res.end(json ? JSON.stringify(body) : body);
}

// The ID token for one code, with the defect asked.
async function idToken(issuer, nonce) {
  const now = Math.floor(Date.now() / 1000);
  const claims = {
    iss: forge === 'iss' ? 'http://127.0.0.1:1' : issuer,
    aud: forge === 'aud' ? 'another-client' : clientId,
    sub: 'forged-user',
    email: 'forged@example.org',
    email_verified: true,
    iat: forge === 'exp' ? now - 7200 : now,
    exp: forge === 'exp' ? now - 3600 : now + 300,
  };
  if (nonce !== undefined) claims.nonce = forge === 'nonce' ? `not-${nonce}` : nonce;
  const key = forge === 'sig' ? impostor.privateKey : published.privateKey;
  return new SignJWT(claims).setProtectedHeader({ alg: 'RS256', kid }).sign(key);
}

function authorize(url, res) {
  const q = url.searchParams;
  if (q.get('client_id') !== clientId || q.get('redirect_uri') !== redirectUri) {
    return send(res, 400, 'unknown client_id or redirect_uri\n');
  }
  if (q.get('response_type') !== 'code' || q.get('code_challenge_method') !== 'S256' || !q.get('code_challenge')) {
    return send(res, 400, 'response_type=code with an S256 code_challenge is required\n');
  }
  const code = b64url(randomBytes(24));
  codes.set(code, { nonce: q.get('nonce') ?? undefined, challenge: q.get('code_challenge') });
  const back = new URL(redirectUri);
  back.searchParams.set('code', code);
  if (q.has('state')) back.searchParams.set('state', q.get('state'));
  send(res, 302, '', { location: back.href });
}

async function token(req, res, issuer) {
  let body = '';
  for await (const chunk of req) body += chunk;
  const form = new URLSearchParams(body);
  // client_secret_basic (form-encoded parts, RFC 6749 2.3.1) or client_secret_post.
  let id = form.get('client_id');
  let secret = form.get('client_secret');
  const basic = /^Basic (.+)$/i.exec(req.headers.authorization || '');
  if (basic) {
    const pair = Buffer.from(basic[1], 'base64').toString();
    const colon = pair.indexOf(':');
    const decode = (s) => decodeURIComponent(s.replace(/\+/g, ' '));
    id = decode(pair.slice(0, colon));
    secret = decode(pair.slice(colon + 1));
  }
  if (id !== clientId || !secret || !same(secret, clientSecret)) {
    return send(res, 401, { error: 'invalid_client' }, { 'www-authenticate': 'Basic realm="forge"' });
  }
  const grant = codes.get(form.get('code') || '');
  codes.delete(form.get('code') || '');
  if (form.get('grant_type') !== 'authorization_code' || !grant || form.get('redirect_uri') !== redirectUri) {
    return send(res, 400, { error: 'invalid_grant' });
  }
  const verifier = form.get('code_verifier') || '';
  if (!same(b64url(createHash('sha256').update(verifier).digest()), grant.challenge)) {
    return send(res, 400, { error: 'invalid_grant', error_description: 'PKCE verification failed' });
  }
  send(res, 200, {
    access_token: b64url(randomBytes(24)),
    token_type: 'Bearer',
    expires_in: 300,
    id_token: await idToken(issuer, grant.nonce),
  });
}

const server = createServer(async (req, res) => {
  const issuer = `http://127.0.0.1:${server.address().port}`;
  const url = new URL(req.url, issuer);
  try {
    if (req.method === 'GET' && url.pathname === '/.well-known/openid-configuration') {
      return send(res, 200, {
        issuer,
        authorization_endpoint: `${issuer}/auth`,
        token_endpoint: `${issuer}/token`,
        jwks_uri: `${issuer}/jwks`,
        response_types_supported: ['code'],
        subject_types_supported: ['public'],
        id_token_signing_alg_values_supported: ['RS256'],
        scopes_supported: ['openid', 'email', 'profile', 'groups'],
        token_endpoint_auth_methods_supported: ['client_secret_basic', 'client_secret_post'],
        code_challenge_methods_supported: ['S256'],
        grant_types_supported: ['authorization_code'],
      });
    }
    if (req.method === 'GET' && url.pathname === '/jwks') return send(res, 200, jwks);
    if (req.method === 'GET' && url.pathname === '/auth') return authorize(url, res);
    if (req.method === 'POST' && url.pathname === '/token') return await token(req, res, issuer);
    send(res, 404, 'not found\n');
  } catch (e) {
    console.error(e);
    send(res, 500, 'internal error\n');
  }
});
server.listen(0, '127.0.0.1', () => {
  process.stdout.write(`issuer http://127.0.0.1:${server.address().port}\n`);
});
