// A real browser signs in: Debian's chromium, driven by playwright-core,
// loads a page of the test's app, is sent through the test provider's
// /authorize (implicit flow) and back with an ID token, and the page calls
// the gateway with web/signin-gateway.js. The upstream must receive exactly
// the expected event; a page on an origin the gateway does not allow is
// stopped by CORS and nothing is forwarded. A screenshot goes to
// GW_TEST_OUT. Install: scripts/install-deps.sh --test (chromium, npm ci).
import { describe, test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import crypto from 'node:crypto';
import fs from 'node:fs';
import http from 'node:http';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import {
    startGateway, startUpstream, stopAndCheck, registerSensitive, signinEventId, makeTempDir,
    sleep, REPO_ROOT, SLOW,
} from '../e2e/lib/harness.mjs';
import { makeTestCa, startIdpUp } from '../e2e/lib/idp.mjs';

const HERE = path.dirname(fileURLToPath(import.meta.url));
const CHROMIUM = '/usr/bin/chromium';
/* The flags every launch uses: no sandbox (root in a container), and none
 * of Chromium's own connections to outside hosts. */
const CHROMIUM_ARGS = ['--no-sandbox', '--disable-gpu', '--disable-background-networking',
    '--disable-component-update', '--disable-sync', '--no-first-run'];
const AUD = 'browser-app';
const API_KEY = `up-key-${crypto.randomBytes(16).toString('hex')}`;
registerSensitive(API_KEY);
const OUT_DIR = process.env.GW_TEST_OUT ? path.join(process.env.GW_TEST_OUT, 'oidc_browser') : null;
const SNIPPET = fs.readFileSync(path.join(REPO_ROOT, 'web', 'signin-gateway.js'), 'utf8');

/* The app's sign-in page. Without a fragment it goes to the provider's
 * /authorize; back with #id_token it reports the sign-in. mode "await"
 * shows the outcome; mode "leave" navigates away at once (keepalive). */
function loginPage(idpUrl, gwUrl) {
    return `<!doctype html><html><head><meta charset="utf-8"><title>Sign-in test app</title>
<style>body{font:16px sans-serif;margin:2em}#result{padding:1em;border:2px solid #888}</style></head>
<body><h1>Test app</h1><p id="who"></p><pre id="result">working...</pre>
<script type="module">
import { reportSignIn } from '/signin-gateway.js';
const q = new URLSearchParams(location.search);
const frag = new URLSearchParams(location.hash.slice(1));
const token = frag.get('id_token');
const out = document.getElementById('result');
if (!token) {
  const a = new URL('${idpUrl}/authorize');
  a.searchParams.set('client_id', '${AUD}');
  a.searchParams.set('redirect_uri', location.origin + location.pathname + location.search);
  a.searchParams.set('response_type', 'id_token');
  a.searchParams.set('nonce', crypto.randomUUID());
  a.searchParams.set('state', 's-' + Date.now());
  a.searchParams.set('login_hint', q.get('claims') || '{}');
  location.replace(a.toString());
} else {
  history.replaceState(null, '', location.pathname + location.search);
  document.getElementById('who').textContent = 'signed in as ' + JSON.parse(q.get('claims')).sub;
  const call = reportSignIn({ gatewayUrl: '${gwUrl}', idToken: token, retries: 0,
                              properties: { page: 'login' } });
  if (q.get('mode') === 'leave') {
    call.catch(() => {});
    location.href = '/done';
  } else {
    call.then((r) => { window.__result = { ok: true, ...r }; out.textContent = 'accepted ' + r.eventId; },
              (e) => { window.__result = { ok: false, code: e.code, status: e.status };
                       out.textContent = 'failed: ' + e.code + ' (' + e.status + ')'; });
  }
}
</script></body></html>`;
}

/* One origin of the app: serves the page, the snippet and /done. */
async function startApp(idp, gwUrlFn) {
    const server = http.createServer((req, res) => {
        const u = new URL(req.url, 'http://127.0.0.1');
        if (u.pathname === '/signin-gateway.js') {
            res.writeHead(200, { 'content-type': 'text/javascript; charset=utf-8' });
            res.end(SNIPPET);
        } else if (u.pathname === '/login') {
            res.writeHead(200, { 'content-type': 'text/html; charset=utf-8' });
            res.end(loginPage(idp.issuer, gwUrlFn()));
        } else {
            res.writeHead(200, { 'content-type': 'text/html; charset=utf-8' });
            res.end('<!doctype html><title>done</title><p>bye</p>');
        }
    });
    await new Promise((r) => server.listen(0, '127.0.0.1', r));
    const origin = `http://127.0.0.1:${server.address().port}`;
    return { origin, close: () => new Promise((r) => { server.closeAllConnections?.(); server.close(r); }) };
}

let chromium;
let ca;
let idp;
let up;
let gw;
let app;
let evilApp;
let context;
let seq = 0;

const sub = () => `web-${++seq}-${crypto.randomBytes(3).toString('hex')}`;

function postsToSignin() {
    return gw.logs().filter((l) => l.event === 'access' && l.route === '/v1/signed-in' && l.method === 'POST').length;
}

async function openLogin(origin, claims, mode = 'await') {
    const page = await context.newPage();
    const messages = [];
    page.on('console', (m) => messages.push(m.text()));
    const url = `${origin}/login?mode=${mode}&claims=${encodeURIComponent(JSON.stringify(claims))}`;
    await page.goto(url, { waitUntil: 'load', timeout: 20000 * SLOW });
    return { page, messages };
}

before(async () => {
    try {
        ({ chromium } = await import('playwright-core'));
    } catch (e) {
        throw new Error(`playwright-core is not installed in ${HERE}: run scripts/install-deps.sh --test ` +
            `(or npm ci there): ${e.message}`);
    }
    assert.ok(fs.existsSync(CHROMIUM), `${CHROMIUM} exists (Debian package chromium)`);
    ca = makeTestCa('browser-ca');
    idp = await startIdpUp({ tls: ca, name: 'webidp' });
    up = await startUpstream();
    app = await startApp(idp, () => gw.url);
    evilApp = await startApp(idp, () => gw.url);
    gw = await startGateway({
        name: 'oidc-browser',
        env: {
            GW_OIDC_CA_FILE: ca.caFile,
            GW_ISSUERS_WEB_URL: idp.issuer,
            GW_ISSUERS_WEB_AUD: AUD,
            GW_CORS_ALLOWED_ORIGINS: app.origin,
            GW_UPSTREAM_URL: up.url,
            GW_UPSTREAM_API_KEY: API_KEY,
            GW_UPSTREAM_BATCH_MS: '10',
        },
    });
    // A new, empty profile for every run. The test provider's certificate
    // comes from the test's own CA, which this profile does not know, and
    // the flag list is fixed: playwright tells the browser to accept it.
    // The gateway, whose TLS check is under test, verifies it with the CA.
    context = await chromium.launchPersistentContext(makeTempDir('chromium-profile'), {
        executablePath: CHROMIUM, headless: true, args: CHROMIUM_ARGS, ignoreHTTPSErrors: true,
        viewport: { width: 900, height: 500 },
    });
});

after(async () => {
    await context?.close();
    if (gw) {
        await stopAndCheck(gw);
    }
    await app?.close();
    await evilApp?.close();
    await idp?.stop();
    await up?.close();
});

describe('a browser signs in through the snippet', () => {
    test('allowed origin: provider login, the sign-in call, exactly the expected event upstream', async () => {
        const s = sub();
        const claims = { sub: s, email: 'wendy.web@example.com', name: 'Wendy Web', org_id: 'org-web', jti: `jti-${s}`, amr: ['pwd'] };
        registerSensitive(claims.email);
        const { page, messages } = await openLogin(app.origin, claims);
        const result = await page.waitForFunction(() => window.__result, null, { timeout: 20000 * SLOW })
            .then((h) => h.jsonValue());
        const id = signinEventId(idp.issuer, s, claims.jti);
        assert.deepStrictEqual(result, { ok: true, eventId: id, status: 202 },
            `page: accepted with the event id (console: ${messages.join(' | ')})`);
        if (OUT_DIR) {
            fs.mkdirSync(OUT_DIR, { recursive: true });
            await page.screenshot({ path: path.join(OUT_DIR, 'signin-accepted.png') });
        }
        const ev = await up.waitForEvent((e) => e.user_id === s, 10000 * SLOW, 'the browser sign-in upstream');
        assert.deepStrictEqual(ev, {
            event_name: 'signed_in', user_id: s, timestamp: ev.timestamp,
            properties: { email: claims.email, user_name: 'Wendy Web', auth_method: 'password', mfa: false, page: 'login', message_id: id },
            context: { group_id: 'org-web' },
        }, 'upstream: the exact event');
        await sleep(50);
        assert.equal(up.allEvents().filter((e) => e.user_id === s).length, 1, 'upstream: exactly one event');
        await page.close();
    });

    test('the page navigates away right after the call: keepalive delivers it', async () => {
        const s = sub();
        const { page } = await openLogin(app.origin, { sub: s }, 'leave');
        await page.waitForURL(/\/done$/, { timeout: 20000 * SLOW });
        await up.waitForEvent((e) => e.user_id === s, 10000 * SLOW, 'the keepalive sign-in upstream');
        await page.close();
    });

    test('a disallowed origin: CORS stops the call, the page is told, nothing is forwarded', async () => {
        const s = sub();
        const postsBefore = postsToSignin();
        const { page, messages } = await openLogin(evilApp.origin, { sub: s });
        const result = await page.waitForFunction(() => window.__result, null, { timeout: 20000 * SLOW })
            .then((h) => h.jsonValue());
        assert.deepStrictEqual(result, { ok: false, code: 'network_error', status: 0 }, 'page: the failure reported');
        assert.ok(messages.some((m) => /CORS|Access-Control-Allow-Origin/i.test(m)),
            `console names CORS (${messages.join(' | ')})`);
        if (OUT_DIR) {
            await page.screenshot({ path: path.join(OUT_DIR, 'signin-blocked.png') });
        }
        await page.close();
        const marker = sub();
        const { page: p2 } = await openLogin(app.origin, { sub: marker });
        await p2.waitForFunction(() => window.__result, null, { timeout: 20000 * SLOW });
        await up.waitForEvent((e) => e.user_id === marker, 10000 * SLOW, 'the marker sign-in upstream');
        await p2.close();
        await sleep(50);
        assert.equal(up.allEvents().filter((e) => e.user_id === s).length, 0, 'upstream: nothing from the blocked page');
        assert.equal(postsToSignin() - postsBefore, 1, 'gateway: only the marker POST arrived (the blocked one never left)');
    });
});
