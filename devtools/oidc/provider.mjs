// OpenID provider for the tests and the dev stack: the certified `oidc-provider` package, configured for the
// thuiszitters clients and a fixed set of test accounts. Never for production: accounts, passwords and the
// in-memory store are for development only.
//
//   node devtools/oidc/provider.mjs [--host 127.0.0.1] [--port 0] [--issuer URL]
//        [--web-redirect-uri URI ...] [--web-logout-uri URI ...] [--ui-redirect-uri URI ...] [--test-clients]
//
// It prints "OpenID-provider klaar: <issuer>" once it listens (port 0: a free port chosen by the system).
//
// Clients
//   thuiszitters-web   the web application: authorization code + PKCE (S256), confidential (client_secret_basic);
//                      access tokens for https://thuiszitters.example/web unless it asks for another resource
//   temporal-ui        the Temporal Web UI (confidential, PKCE optional: not every UI version sends it); its
//                      access tokens are for the codec server (urn:thuiszitters:codec), which the UI passes on
//   thuiszitters-test-kort  (only with --test-clients) public client, PKCE, access tokens that live one second
//   koers-vo           a service of the API (the demo client of examples/api_clients.csv): client credentials
//                      only, confidential (client_secret_basic); access tokens for the API (urn:thuiszitters:api)
//                      and for nothing else. No person behind them: `sub` and `client_id` are the client's id, and
//                      they carry no role (the API has the client's role and scope in its own register)
//   dienst-onbekend    (only with --test-clients) like koers-vo, but a client the API does not know
//                      (client_secret_post, secret "dienst-onbekend-testgeheim")
//   koers-vo-kort      (only with --test-clients) like koers-vo, access tokens that live one second
//                      (client_secret_basic, secret "koers-vo-kort-testgeheim")
//
// The clients of people (the first three) get no token for the API, the services no token for anything else.
//
// Accounts: see ACCOUNTS below. Every account logs in with its `sub` and the development password
// (OIDC_DEV_PASSWORD, default "ontwikkeling"). Access tokens are JWTs (RFC 9068, typ at+jwt) with `sub` (the
// pseudonymous persoon_id), `rol` and `roles`; the ID token and userinfo carry the claims of the scopes asked for:
// openid (sub), profile (name), email (email, email_verified), rol (rol, roles).
//
// Environment (secrets stay out of the command line):
//   OIDC_WEB_CLIENT_SECRET         secret of thuiszitters-web      (default: web-geheim-ontwikkeling)
//   OIDC_TEMPORAL_UI_CLIENT_SECRET secret of temporal-ui           (default: temporal-ui-geheim-ontwikkeling)
//   OIDC_API_CLIENT_SECRET         secret of koers-vo              (default: koers-vo-geheim-ontwikkeling)
//   OIDC_DEV_PASSWORD              password of every test account  (default: ontwikkeling)
//   OIDC_JWKS_FILE                 private signing keys (JWKS); created on first start, reused afterwards, so
//                                  tokens survive a restart and several instances can share keys

import { generateKeyPairSync, randomBytes, randomUUID, timingSafeEqual, createHash } from 'node:crypto';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:http';
import { parseArgs } from 'node:util';

import Provider, { errors } from 'oidc-provider';

const WEB_CLIENT_ID = 'thuiszitters-web';
const UI_CLIENT_ID = 'temporal-ui';
const SHORT_CLIENT_ID = 'thuiszitters-test-kort';
const API_CLIENT_ID = 'koers-vo';
const UNKNOWN_API_CLIENT_ID = 'dienst-onbekend';
const SHORT_API_CLIENT_ID = 'koers-vo-kort';
const CODEC_AUDIENCE = 'urn:thuiszitters:codec';
const WEB_AUDIENCE = 'https://thuiszitters.example/web';
const API_AUDIENCE = 'urn:thuiszitters:api';
const PEOPLES_RESOURCES = new Set([CODEC_AUDIENCE, WEB_AUDIENCE]);
const SERVICES_RESOURCES = new Set([API_AUDIENCE]);
const SERVICES = new Set([API_CLIENT_ID, UNKNOWN_API_CLIENT_ID, SHORT_API_CLIENT_ID]);
const DEFAULT_RESOURCE = {
  [WEB_CLIENT_ID]: WEB_AUDIENCE,
  [UI_CLIENT_ID]: CODEC_AUDIENCE,
  [SHORT_CLIENT_ID]: CODEC_AUDIENCE,
  [API_CLIENT_ID]: API_AUDIENCE,
  [UNKNOWN_API_CLIENT_ID]: API_AUDIENCE,
  [SHORT_API_CLIENT_ID]: API_AUDIENCE,
};
const SHORT_LIVED = new Set([SHORT_CLIENT_ID, SHORT_API_CLIENT_ID]);
const ACCESS_TOKEN_SECONDS = 10 * 60;
const SHORT_ACCESS_TOKEN_SECONDS = 1;

// The test accounts: `sub` is a pseudonymous persoon_id (no name in it); names and addresses are invented.
const ACCOUNTS = {
  'prs-coordinator-noord': {
    name: 'Coördinator Noord (test)', email: 'coordinator.noord@thuiszitters.test', roles: ['coordinator'],
  },
  'prs-taskforce-1': { name: 'Taskforce (test)', email: 'taskforce@thuiszitters.test', roles: ['taskforce'] },
  'prs-school-mentor-7': { name: 'Mentor (test)', email: 'mentor7@school.test', roles: ['school'] },
  'prs-scp-1': { name: 'Schoolcontactpersoon (test)', email: 'scp@ppo.test', roles: ['scp'] },
  'prs-koersloket-1': { name: 'Koersloket (test)', email: 'koersloket@koersvo.test', roles: ['koersloket'] },
  'prs-leerplicht-1': {
    name: 'Leerplichtambtenaar (test)', email: 'leerplicht@rotterdam.test',
    roles: ['leerplicht', 'leerplicht_absoluut_verzuim'],
  },
  'prs-wijkteam-1': { name: 'Wijkteam (test)', email: 'wijkteam@rotterdam.test', roles: ['wijkteam'] },
  'prs-zonder-rol': { name: 'Zonder rol (test)', email: 'zonder.rol@thuiszitters.test', roles: [] },
};

function options() {
  const { values } = parseArgs({
    options: {
      host: { type: 'string', default: '127.0.0.1' },
      port: { type: 'string', default: '0' },
      issuer: { type: 'string' },
      'web-redirect-uri': { type: 'string', multiple: true },
      'web-logout-uri': { type: 'string', multiple: true },
      'ui-redirect-uri': { type: 'string', multiple: true },
      'test-clients': { type: 'boolean', default: false },
    },
  });
  return values;
}

function signingKeys(path) {
  if (path && existsSync(path)) {
    return JSON.parse(readFileSync(path, 'utf8'));
  }
  const { privateKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
  const jwk = { ...privateKey.export({ format: 'jwk' }), kid: randomUUID(), use: 'sig', alg: 'RS256' };
  const jwks = { keys: [jwk] };
  if (path) {
    writeFileSync(path, JSON.stringify(jwks), { mode: 0o600 });
  }
  return jwks;
}

function clients(args) {
  const webRedirects = args['web-redirect-uri'] ?? ['http://localhost:8000/auth/callback'];
  const webLogouts = args['web-logout-uri'] ?? webRedirects.map((uri) => `${new URL(uri).origin}/`);
  const list = [
    {
      client_id: WEB_CLIENT_ID,
      client_name: 'Thuiszitters',
      client_secret: process.env.OIDC_WEB_CLIENT_SECRET || 'web-geheim-ontwikkeling',
      token_endpoint_auth_method: 'client_secret_basic',
      grant_types: ['authorization_code', 'refresh_token'],
      response_types: ['code'],
      redirect_uris: webRedirects,
      post_logout_redirect_uris: webLogouts,
      scope: 'openid profile email rol offline_access',
    },
    {
      client_id: UI_CLIENT_ID,
      client_name: 'Temporal Web UI',
      client_secret: process.env.OIDC_TEMPORAL_UI_CLIENT_SECRET || 'temporal-ui-geheim-ontwikkeling',
      token_endpoint_auth_method: 'client_secret_basic',
      grant_types: ['authorization_code', 'refresh_token'],
      response_types: ['code'],
      redirect_uris: args['ui-redirect-uri'] ?? ['http://localhost:8080/auth/sso/callback'],
      scope: 'openid profile email rol offline_access',
    },
    service(API_CLIENT_ID, 'Koersloket (Koers VO)',
      process.env.OIDC_API_CLIENT_SECRET || 'koers-vo-geheim-ontwikkeling'),
  ];
  if (args['test-clients']) {
    list.push(
      service(UNKNOWN_API_CLIENT_ID, 'Test: dienst die de API niet kent', 'dienst-onbekend-testgeheim',
        'client_secret_post'),
      service(SHORT_API_CLIENT_ID, 'Test: dienst met kortlevende tokens', 'koers-vo-kort-testgeheim'),
    );
    list.push({
      client_id: SHORT_CLIENT_ID,
      client_name: 'Test: kortlevende tokens',
      token_endpoint_auth_method: 'none',
      grant_types: ['authorization_code'],
      response_types: ['code'],
      redirect_uris: ['http://127.0.0.1/terug'],
      scope: 'openid rol',
    });
  }
  return list;
}

// A service: another system that calls the API in its own name, with the client credentials grant only.
function service(clientId, name, secret, authMethod = 'client_secret_basic') {
  return {
    client_id: clientId,
    client_name: name,
    client_secret: secret,
    token_endpoint_auth_method: authMethod,
    grant_types: ['client_credentials'],
    response_types: [],
    redirect_uris: [],
  };
}

const escape = (value) => String(value).replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);

function page(title, body) {
  return `<!DOCTYPE html>
<html lang="nl">
<head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>${escape(title)}</title>
<style>body{font-family:sans-serif;max-width:30rem;margin:2rem auto;padding:0 1rem}label{display:block;margin-top:1rem}
input{display:block;width:100%;padding:.4rem;font-size:1rem}button{margin-top:1rem;padding:.5rem 1rem;font-size:1rem}
.fout{color:#b00020;font-weight:bold}</style></head>
<body><p><strong>Ontwikkelomgeving</strong>: alleen testaccounts.</p><h1>${escape(title)}</h1>${body}</body></html>`;
}

function loginPage(uid, clientName, error, login) {
  const fout = error ? `<p class="fout" role="alert">${escape(error)}</p>` : '';
  return page('Inloggen', `${fout}
<p>Inloggen bij ${escape(clientName)}.</p>
<form method="post" action="/interaction/${escape(uid)}/login">
<label for="gebruiker">Gebruikersnaam</label><input id="gebruiker" name="gebruiker" autocomplete="username" value="${escape(login ?? '')}" required>
<label for="wachtwoord">Wachtwoord</label><input id="wachtwoord" name="wachtwoord" type="password" autocomplete="current-password" required>
<button type="submit">Inloggen</button>
</form>
<p><a href="/interaction/${escape(uid)}/abort">Annuleren</a></p>`);
}

function consentPage(uid, clientName, scopes) {
  const items = scopes.map((scope) => `<li>${escape(scope)}</li>`).join('');
  return page('Toestemming', `<p>${escape(clientName)} vraagt om:</p><ul>${items}</ul>
<form method="post" action="/interaction/${escape(uid)}/confirm"><button type="submit">Toestaan</button></form>
<p><a href="/interaction/${escape(uid)}/abort">Weigeren</a></p>`);
}

function samePassword(given, expected) {
  const digest = (value) => createHash('sha256').update(String(value)).digest();
  return timingSafeEqual(digest(given), digest(expected));
}

async function readForm(req) {
  const chunks = [];
  let size = 0;
  for await (const chunk of req) {
    size += chunk.length;
    if (size > 16 * 1024) {
      throw new Error('formulier te groot');
    }
    chunks.push(chunk);
  }
  return new URLSearchParams(Buffer.concat(chunks).toString('utf8'));
}

function send(res, status, html) {
  res.writeHead(status, {
    'content-type': 'text/html; charset=utf-8',
    'cache-control': 'no-store',
    'x-frame-options': 'DENY',
    'content-security-policy': "default-src 'none'; style-src 'unsafe-inline'; form-action 'self'",
  });
  res.end(html);
}

// The interaction pages (login and consent) of this provider; everything else is oidc-provider's own routes.
function interactions(provider, password) {
  return async (req, res, uid, action) => {
    const details = await provider.interactionDetails(req, res);
    if (details.uid !== uid) {
      send(res, 400, page('Fout', '<p>Deze inlogpoging hoort niet bij deze pagina. Begin opnieuw.</p>'));
      return;
    }
    const { prompt, params, session } = details;
    const client = await provider.Client.find(params.client_id);
    const clientName = client?.clientName ?? params.client_id;

    if (req.method === 'GET' && action === '') {
      if (prompt.name === 'login') {
        send(res, 200, loginPage(uid, clientName));
      } else {
        send(res, 200, consentPage(uid, clientName, String(params.scope ?? '').split(' ').filter(Boolean)));
      }
      return;
    }
    if (req.method === 'GET' && action === 'abort') {
      await provider.interactionFinished(req, res, {
        error: 'access_denied', error_description: 'de gebruiker heeft het inloggen afgebroken',
      }, { mergeWithLastSubmission: false });
      return;
    }
    if (req.method === 'POST' && action === 'login' && prompt.name === 'login') {
      const form = await readForm(req);
      const login = form.get('gebruiker') ?? '';
      if (!Object.hasOwn(ACCOUNTS, login) || !samePassword(form.get('wachtwoord') ?? '', password)) {
        send(res, 401, loginPage(uid, clientName, 'Onbekende gebruikersnaam of verkeerd wachtwoord.', login));
        return;
      }
      await provider.interactionFinished(req, res, { login: { accountId: login } }, {
        mergeWithLastSubmission: false,
      });
      return;
    }
    if (req.method === 'POST' && action === 'confirm' && prompt.name === 'consent') {
      const grant = details.grantId
        ? await provider.Grant.find(details.grantId)
        : new provider.Grant({ accountId: session.accountId, clientId: params.client_id });
      const missing = prompt.details;
      if (missing.missingOIDCScope) {
        grant.addOIDCScope(missing.missingOIDCScope.join(' '));
      }
      if (missing.missingOIDCClaims) {
        grant.addOIDCClaims(missing.missingOIDCClaims);
      }
      for (const [indicator, scopes] of Object.entries(missing.missingResourceScopes ?? {})) {
        grant.addResourceScope(indicator, scopes.join(' '));
      }
      const grantId = await grant.save();
      await provider.interactionFinished(req, res, { consent: { grantId } }, { mergeWithLastSubmission: true });
      return;
    }
    send(res, 400, page('Fout', '<p>Dit verzoek past niet bij deze stap van het inloggen. Begin opnieuw.</p>'));
  };
}

function configuration(args, jwks) {
  return {
    clients: clients(args),
    jwks,
    cookies: { keys: [randomBytes(32).toString('base64url')] },
    async findAccount(_ctx, id) {
      if (!Object.hasOwn(ACCOUNTS, id)) {
        return undefined;
      }
      const account = ACCOUNTS[id];
      return {
        accountId: id,
        async claims() {
          return {
            sub: id,
            name: account.name,
            email: account.email,
            email_verified: true,
            rol: account.roles[0],
            roles: account.roles,
          };
        },
      };
    },
    claims: {
      openid: ['sub'],
      profile: ['name'],
      email: ['email', 'email_verified'],
      rol: ['rol', 'roles'],
    },
    scopes: ['openid', 'offline_access', 'profile', 'email', 'rol'],
    responseTypes: ['code'],
    // Access tokens go to a resource server, not to userinfo: the ID token carries the profile claims.
    conformIdTokenClaims: false,
    async extraTokenClaims(_ctx, token) {
      if (token.kind !== 'AccessToken' || !Object.hasOwn(ACCOUNTS, token.accountId ?? '')) {
        return undefined;
      }
      const { roles } = ACCOUNTS[token.accountId];
      return roles.length ? { rol: roles[0], roles } : {};
    },
    features: {
      devInteractions: { enabled: false },
      clientCredentials: { enabled: true },
      resourceIndicators: {
        enabled: true,
        defaultResource: (_ctx, client) => DEFAULT_RESOURCE[client?.clientId] ?? WEB_AUDIENCE,
        useGrantedResource: () => true,
        getResourceServerInfo(_ctx, resource, client) {
          const allowed = SERVICES.has(client?.clientId) ? SERVICES_RESOURCES : PEOPLES_RESOURCES;
          if (!allowed.has(resource)) {
            throw new errors.InvalidTarget('onbekende resource, of niet voor deze client');
          }
          return {
            audience: resource,
            // The role claims decide what a token may do; no resource scopes of their own.
            scope: '',
            accessTokenFormat: 'jwt',
            accessTokenTTL: SHORT_LIVED.has(client?.clientId) ? SHORT_ACCESS_TOKEN_SECONDS : ACCESS_TOKEN_SECONDS,
            jwt: { sign: { alg: 'RS256' } },
          };
        },
      },
      rpInitiatedLogout: {
        enabled: true,
        logoutSource: async (ctx, form) => {
          ctx.body = page('Uitloggen', `${form}<p>Wilt u uitloggen?</p>
<button type="submit" form="op.logoutForm" value="yes" name="logout">Ja, uitloggen</button>
<button type="submit" form="op.logoutForm">Nee, ingelogd blijven</button>`);
        },
        postLogoutSuccessSource: async (ctx) => {
          ctx.body = page('Uitgelogd', '<p>U bent uitgelogd.</p>');
        },
      },
    },
    pkce: { required: (_ctx, client) => client.clientId !== UI_CLIENT_ID },
    interactions: { url: (_ctx, interaction) => `/interaction/${interaction.uid}` },
    clientBasedCORS: () => false,
    ttl: {
      AccessToken: (_ctx, token) => token.resourceServer?.accessTokenTTL ?? ACCESS_TOKEN_SECONDS,
      ClientCredentials: (_ctx, token) => token.resourceServer?.accessTokenTTL ?? ACCESS_TOKEN_SECONDS,
      AuthorizationCode: 60,
      IdToken: 60 * 60,
      Interaction: 10 * 60,
      Session: 8 * 60 * 60,
      Grant: 8 * 60 * 60,
      RefreshToken: 8 * 60 * 60,
    },
    async renderError(ctx, out) {
      ctx.type = 'html';
      const lines = Object.entries(out).map(([key, value]) => `<p><strong>${escape(key)}</strong>: ${escape(value)}</p>`);
      ctx.body = page('Er ging iets mis', lines.join(''));
    },
  };
}

async function main() {
  const args = options();
  const password = process.env.OIDC_DEV_PASSWORD || 'ontwikkeling';
  const jwks = signingKeys(process.env.OIDC_JWKS_FILE);
  let handle = (_req, res) => {
    res.writeHead(503);
    res.end();
  };
  const server = createServer((req, res) => handle(req, res));
  await new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(Number(args.port), args.host, resolve);
  });
  const { port } = server.address();
  const host = args.host.includes(':') ? `[${args.host}]` : args.host;
  const issuer = args.issuer ?? `http://${host}:${port}`;
  const provider = new Provider(issuer, configuration(args, jwks));
  provider.on('server_error', (_ctx, error) => console.error('server_error', error));
  const callback = provider.callback();
  const interaction = interactions(provider, password);
  handle = (req, res) => {
    const match = /^\/interaction\/([A-Za-z0-9_-]+)(?:\/(login|confirm|abort))?\/?$/.exec(
      new URL(req.url, 'http://localhost').pathname,
    );
    if (!match) {
      callback(req, res);
      return;
    }
    interaction(req, res, match[1], match[2] ?? '').catch((error) => {
      if (!res.headersSent) {
        const expired = error instanceof errors.SessionNotFound;
        send(res, expired ? 400 : 500, page('Fout', expired
          ? '<p>Deze inlogpoging is verlopen of onbekend. Begin opnieuw.</p>'
          : '<p>Interne fout in de OpenID-provider.</p>'));
      }
      if (!(error instanceof errors.SessionNotFound)) {
        console.error('interaction_error', error);
      }
    });
  };
  const stop = () => server.close(() => process.exit(0));
  process.on('SIGTERM', stop);
  process.on('SIGINT', stop);
  console.log(`OpenID-provider klaar: ${issuer}`);
}

main().catch((error) => {
  console.error(`OpenID-provider start niet: ${error?.message ?? error}`);
  process.exit(1);
});
