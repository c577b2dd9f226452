// A real OpenID Connect provider (oidc-provider) on loopback, for the console's sign-in tests.
// Env: OIDC_CLIENT_ID, OIDC_CLIENT_SECRET, OIDC_REDIRECT_URI, and optionally
// OIDC_GROUPS=login=group1,group2;login2=group3. Its own login and consent pages let anyone in
// under any login name. Prints `issuer http://127.0.0.1:PORT` once it listens, then runs until
// killed.
import { createServer } from 'node:http';
import { generateKeyPairSync, randomBytes } from 'node:crypto';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const env = (name) => {
  const value = process.env[name];
  if (!value) {
    console.error(`provider: ${name} is not set`);
    process.exit(2);
  }
  return value;
};
const clientId = env('OIDC_CLIENT_ID');
const clientSecret = env('OIDC_CLIENT_SECRET');
const redirectUri = env('OIDC_REDIRECT_URI');

// The packages live outside the tree (see .ci/run); OIDC_NODE_MODULES names another node_modules.
const here = dirname(fileURLToPath(import.meta.url));
const modules = process.env.OIDC_NODE_MODULES || join(here, '../../../target/oidc-node/node_modules');
const load = (name) => import(pathToFileURL(createRequire(join(modules, 'load.js')).resolve(name)));
const { default: Provider } = await load('oidc-provider');

// oidc-provider prints its notices with console.info; stdout is kept for the issuer line.
console.info = console.error;

// login=group1,group2;login2=group3
const groups = new Map();
for (const entry of (process.env.OIDC_GROUPS || '').split(';')) {
  const [login, list] = entry.split('=');
  if (login && list !== undefined) {
    groups.set(login.trim(), list.split(',').map((g) => g.trim()).filter(Boolean));
  }
}

// A fresh RSA key each run, so the ID tokens are RS256 and no shared test key is needed.
const { privateKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
const signingKey = { ...privateKey.export({ format: 'jwk' }), kid: 'test-rs256', alg: 'RS256', use: 'sig' };

// The port comes first: the issuer names it.
let handle;
const server = createServer((req, res) => handle(req, res));
await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
const issuer = `http://127.0.0.1:${server.address().port}`;

const provider = new Provider(issuer, {
  clients: [{
    client_id: clientId,
    client_secret: clientSecret,
    redirect_uris: [redirectUri],
    grant_types: ['authorization_code'],
    response_types: ['code'],
    token_endpoint_auth_method: 'client_secret_basic',
  }],
  jwks: { keys: [signingKey] },
  // Short lives fit a test run (and spare the notices about the defaults).
  ttl: {
    AccessToken: 600, AuthorizationCode: 60, IdToken: 600, Interaction: 600, Session: 3600, Grant: 3600,
  },
  // Browsers share cookies across the ports of one host: names of its own, apart from the portal's.
  cookies: {
    names: { session: 'op_session', interaction: 'op_interaction', resume: 'op_interaction_resume' },
    keys: [randomBytes(32).toString('base64url')],
  },
  // The relying party must always send an S256 challenge.
  pkce: { required: () => true },
  features: { devInteractions: { enabled: true } },
  // Each scope with its claims; `groups` is a scope of its own.
  claims: {
    openid: ['sub'],
    email: ['email', 'email_verified'],
    profile: ['name'],
    groups: ['groups'],
  },
  // The scopes' claims go into the ID token too, not only to the userinfo endpoint.
  conformIdTokenClaims: false,
  async findAccount(_ctx, login) {
    return {
      accountId: login,
      async claims() {
        return {
          sub: login,
          email: login.includes('@') ? login : `${login}@example.org`,
          email_verified: true,
          name: login,
          groups: groups.get(login) || [],
        };
      },
    };
  },
});

// Its pages import a web font from the internet: dropped, a browser under test stays on loopback.
provider.use(async (ctx, next) => {
  await next();
  if (typeof ctx.body === 'string' && ctx.response.is('html')) {
    ctx.body = ctx.body.replace(/@import url\(https?:[^)]*\);?/g, '');
  }
});

handle = provider.callback();
process.stdout.write(`issuer ${issuer}\n`);
