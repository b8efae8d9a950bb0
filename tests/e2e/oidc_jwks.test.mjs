// Remote key sets of OIDC issuers, against a test provider over HTTPS with
// a test CA: key rotation, an unknown-kid flood (fetches counted),
// Cache-Control within bounds, a provider down after start (stale keys keep
// working) and at start (503 until it answers), an untrusted certificate.
import { describe, test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import crypto from 'node:crypto';
import {
    startGateway, startUpstream, stopAndCheck, runBin, signJwt, registerSensitive,
    sleep, waitFor, nowS, SLOW,
} from './lib/harness.mjs';
import { makeTestCa, startIdp, startIdpUp } from './lib/idp.mjs';

const AUD = 'gw-oidc-e2e';
const API_KEY = `up-key-${crypto.randomBytes(16).toString('hex')}`;
registerSensitive(API_KEY);

let ca;
let up;
let seq = 0;

const sub = () => `oidc-${++seq}-${crypto.randomBytes(3).toString('hex')}`;

function signIn(gw, token) {
    return gw.req('/v1/signed-in', { method: 'POST', headers: { authorization: `Bearer ${token}` } });
}

function gatewayEnv(issuers, extra = {}) {
    const env = {
        GW_OIDC_CA_FILE: ca.caFile,
        GW_UPSTREAM_URL: up.url,
        GW_UPSTREAM_API_KEY: API_KEY,
        GW_UPSTREAM_BATCH_MS: '10',
        ...extra,
    };
    for (const [name, idp] of Object.entries(issuers)) {
        const N = name.toUpperCase();
        env[`GW_ISSUERS_${N}_URL`] = idp.issuer;
        env[`GW_ISSUERS_${N}_AUD`] = AUD;
    }
    return env;
}

async function ready(gw) {
    const r = await gw.req('/readyz');
    return { status: r.status, body: r.json };
}

async function metric(gw, re) {
    const r = await gw.req('/metrics');
    const m = re.exec(r.text);
    return m ? Number(m[1]) : 0;
}

async function assertAccepted(gw, token, label) {
    const r = await signIn(gw, token);
    assert.equal(r.status, 202, `${label}: 202 (got ${r.status} ${r.text})`);
    return r;
}

async function assertRefused(gw, token, status, code, label) {
    const r = await signIn(gw, token);
    assert.equal(r.status, status, `${label}: ${status} (got ${r.status} ${r.text})`);
    assert.equal(r.json?.error, code, `${label}: error ${code}`);
    return r;
}

before(async () => {
    ca = makeTestCa('oidc-ca');
    up = await startUpstream();
});

after(async () => {
    await up?.close();
});

describe('key rotation and an unknown-kid flood (refetch at most once per second)', () => {
    let acme;
    let flood;
    let gw;
    before(async () => {
        acme = await startIdpUp({ tls: ca, name: 'acme' });
        flood = await startIdpUp({ tls: ca, name: 'flood' });
        gw = await startGateway({
            name: 'oidc-rotation',
            env: gatewayEnv({ acme, flood }, { GW_OIDC_REFETCH_INTERVAL_S: '1' }),
        });
    });
    after(async () => {
        await stopAndCheck(gw);
        await acme.stop();
        await flood.stop();
    });

    test('discovery then JWKS: one fetch each at start, token of the first key accepted', async () => {
        assert.equal(acme.hits('/.well-known/openid-configuration'), 1, 'discovery fetched once');
        assert.equal(acme.hits('/keys'), 1, 'JWKS fetched once');
        const r = await ready(gw);
        assert.equal(r.status, 200, `readyz 200 (got ${JSON.stringify(r.body)})`);
        assert.equal(r.body.keys['issuer.acme'], 'loaded', 'readyz: issuer.acme loaded');
        const s = sub();
        await assertAccepted(gw, acme.token({ sub: s, aud: AUD }, { kid: 'acme-k1' }), 'k1 token');
        await up.waitForEvent((e) => e.user_id === s, 10000 * SLOW, 'k1 event upstream');
    });

    test('a new kid appears and the old one is removed: new accepted, old refused', async () => {
        const old = acme.token({ sub: sub(), aud: AUD }, { kid: 'acme-k1' });
        acme.rotate('acme-k2', { keepOld: false });
        const s = sub();
        await assertAccepted(gw, acme.token({ sub: s, aud: AUD }, { kid: 'acme-k2' }), 'k2 token after rotation');
        assert.equal(acme.hits('/keys'), 2, 'the unknown kid k2 caused exactly one refetch');
        await up.waitForEvent((e) => e.user_id === s, 10000 * SLOW, 'k2 event upstream');
        await sleep(1100); // past the refetch interval
        await assertRefused(gw, old, 401, 'unknown_kid', 'k1 (removed) token');
        assert.equal(acme.hits('/keys'), 3, 'the removed kid refetched once, and stays unknown');
    });

    test('random kids: at most one fetch per interval, every token refused', async () => {
        const attacker = crypto.generateKeyPairSync('rsa', { modulusLength: 2048 }).privateKey;
        const before0 = flood.hits('/keys');
        const t0 = Date.now();
        const tokens = Array.from({ length: 60 }, (_, i) => signJwt(
            { alg: 'RS256', typ: 'JWT', kid: `rnd-${i}-${crypto.randomBytes(4).toString('hex')}` },
            { iss: flood.issuer, aud: AUD, sub: sub(), iat: nowS(), exp: nowS() + 600 }, attacker));
        for (let i = 0; i < tokens.length; i += 10) {
            const rs = await Promise.all(tokens.slice(i, i + 10).map((t) => signIn(gw, t)));
            for (const r of rs) {
                assert.equal(r.status, 401, `random kid: 401 (got ${r.status})`);
                assert.equal(r.json?.error, 'unknown_kid', 'random kid: unknown_kid');
            }
        }
        const elapsed = Date.now() - t0;
        const fetched = flood.hits('/keys') - before0;
        assert.ok(fetched >= 1, `at least one refetch (got ${fetched})`);
        assert.ok(fetched <= 1 + Math.floor(elapsed / 1000),
            `at most one refetch per second: ${fetched} fetches in ${elapsed} ms for 60 tokens`);
        assert.ok(await metric(gw, /signin_gateway_jwks_refetch_total\{issuer="flood",outcome="rate_limited"\} (\d+)/) > 0,
            'rate-limited refetches are counted');
    });
});

describe('Cache-Control max-age within oidc.cache_min_s=1 and oidc.cache_max_s=6', () => {
    let short;
    let long;
    let gw;
    before(async () => {
        short = await startIdpUp({ tls: ca, name: 'short', cacheControl: 'public, max-age=2' });
        long = await startIdpUp({ tls: ca, name: 'long', cacheControl: 'public, max-age=86400, must-revalidate' });
        gw = await startGateway({
            name: 'oidc-cache',
            env: gatewayEnv({ short, long }, { GW_OIDC_CACHE_MIN_S: '1', GW_OIDC_CACHE_MAX_S: '6' }),
        });
    });
    after(async () => {
        await stopAndCheck(gw);
        await short.stop();
        await long.stop();
    });

    test('max-age=2 is refreshed in the background before it expires; max-age=86400 is capped at 6 s', async () => {
        const t0 = Date.now();
        await sleep(4000);
        const shortHits = short.hits('/keys');
        const longHits = long.hits('/keys');
        assert.ok(shortHits >= 3 && shortHits <= 5,
            `max-age=2: refreshed about every 1.6 s (${shortHits} fetches in ${Date.now() - t0} ms)`);
        assert.equal(longHits, 1, 'max-age=86400: not fetched again within 4 s');
        await waitFor(() => long.hits('/keys') >= 2, 6000, 'max-age=86400 capped at cache_max_s=6: a refresh');
        const s = sub();
        await assertAccepted(gw, short.token({ sub: s, aud: AUD }), 'token of the often-refreshed issuer');
        const r = await ready(gw);
        assert.equal(r.status, 200, 'readyz 200');
        assert.equal(r.body.stale_keys, false, 'no stale keys while the providers answer');
    });
});

describe('provider down after start: the last good keys keep working', () => {
    let idp;
    let gw;
    before(async () => {
        idp = await startIdpUp({ tls: ca, name: 'downer', cacheControl: 'max-age=1' });
        gw = await startGateway({
            name: 'oidc-stale',
            env: gatewayEnv({ downer: idp }, {
                GW_OIDC_CACHE_MIN_S: '1', GW_OIDC_RETRY_MAX_S: '1', GW_OIDC_FETCH_TIMEOUT_MS: '1000',
            }),
        });
    });
    after(async () => {
        await stopAndCheck(gw);
        await idp.stop();
    });

    test('keys past their lifetime serve while fetches fail; readyz and counters say so; recovery', async () => {
        await assertAccepted(gw, idp.token({ sub: sub(), aud: AUD }), 'before the outage');
        await idp.stop();
        await sleep(2500);
        const s = sub();
        await assertAccepted(gw, idp.token({ sub: s, aud: AUD }), 'during the outage, with stale keys');
        await up.waitForEvent((e) => e.user_id === s, 10000 * SLOW, 'stale-keys event upstream');
        const r = await ready(gw);
        assert.equal(r.status, 200, 'readyz stays 200 with stale keys');
        assert.equal(r.body.keys['issuer.downer'], 'stale', 'readyz: issuer.downer stale');
        assert.equal(r.body.stale_keys, true, 'readyz: stale_keys true');
        assert.ok(await metric(gw, /signin_gateway_jwks_fetches_total\{issuer="downer",outcome="connect_failed"\} (\d+)/) >= 1,
            'failed fetches counted by reason');
        assert.equal(await metric(gw, /signin_gateway_jwks_sources_stale (\d+)/), 1, 'stale sources gauge');
        assert.ok(await metric(gw, /signin_gateway_jwks_stale_verifications_total\{issuer="downer"\} (\d+)/) >= 1,
            'verifications with stale keys counted');
        const warns = gw.logs().filter((l) => l.event === 'jwks_refresh_failed');
        assert.ok(warns.length >= 1 && warns.every((l) => l.level === 'warn'), 'failed refreshes logged at warn');
        await idp.start();
        await waitFor(async () => (await ready(gw)).body?.keys?.['issuer.downer'] === 'loaded',
            5000 * SLOW, 'readyz: loaded again once the provider answers');
        assert.equal((await ready(gw)).body.stale_keys, false, 'readyz: no stale keys after recovery');
    });
});

describe('provider down at start, and a provider whose certificate is not trusted', () => {
    let late;
    let rogue;
    let gw;
    before(async () => {
        late = await startIdp({ tls: ca, name: 'late' });
        await late.reservePortDown();
        rogue = await startIdpUp({ tls: makeTestCa('rogue-ca'), name: 'rogue' });
        gw = await startGateway({
            name: 'oidc-startup-down',
            env: gatewayEnv({ late, rogue }, {
                GW_OIDC_STARTUP_WAIT_MS: '300', GW_OIDC_RETRY_MAX_S: '1', GW_OIDC_FETCH_TIMEOUT_MS: '1000',
            }),
            expectErrors: [{ event: 'jwks_unavailable' }],
        });
    });
    after(async () => {
        await stopAndCheck(gw);
        await late.stop();
        await rogue.stop();
    });

    test('the gateway starts; readyz 503; sign-ins 503 keys_unavailable; 202 once the provider is up', async () => {
        const r0 = await ready(gw);
        assert.equal(r0.status, 503, 'readyz 503 while an issuer has no keys');
        assert.equal(r0.body.keys['issuer.late'], 'missing', 'readyz: issuer.late missing');
        assert.ok(gw.logs().some((l) => l.event === 'issuer_keys_missing' && l.issuer === 'late'),
            'start-up says it serves without the issuer\'s keys');
        const res = await signIn(gw, late.token({ sub: sub(), aud: AUD }));
        assert.equal(res.status, 503, `503 without keys (got ${res.status} ${res.text})`);
        assert.equal(res.json?.error, 'keys_unavailable', 'keys_unavailable');
        assert.ok(res.headers['retry-after'], 'Retry-After given');
        await late.start();
        await waitFor(async () => (await ready(gw)).body?.keys?.['issuer.late'] === 'loaded',
            6000 * SLOW, 'issuer.late loaded after the provider came up');
        await assertAccepted(gw, late.token({ sub: sub(), aud: AUD }), 'after the provider came up');
    });

    test('a certificate from another CA is refused: no keys, tls_failed', async () => {
        const r = await ready(gw);
        assert.equal(r.body.keys['issuer.rogue'], 'missing', 'readyz: issuer.rogue missing');
        assert.ok(r.body.problems.some((p) => p.includes('issuer.rogue') && p.includes('tls_failed')),
            `readyz names tls_failed (${JSON.stringify(r.body.problems)})`);
        assert.equal(rogue.hits('/keys'), 0, 'the untrusted provider never served its keys');
        await assertRefused(gw, rogue.token({ sub: sub(), aud: AUD }), 503, 'keys_unavailable', 'untrusted issuer token');
    });
});

describe('issuer settings that do not start', () => {
    const cases = [
        { name: 'http issuer URL', env: { GW_ISSUERS_A_URL: 'http://127.0.0.1:9/', GW_ISSUERS_A_AUD: AUD }, msg: /https/ },
        { name: 'missing aud', env: { GW_ISSUERS_A_URL: 'https://127.0.0.1:9/' }, msg: /aud: required/ },
        { name: 'HS256 for a remote key set', env: { GW_ISSUERS_A_URL: 'https://127.0.0.1:9/', GW_ISSUERS_A_AUD: AUD, GW_ISSUERS_A_ALGS: 'HS256' }, msg: /shared secret/ },
        { name: 'unknown issuer field', env: { GW_ISSUERS_A_URL: 'https://127.0.0.1:9/', GW_ISSUERS_A_AUDIENCE: AUD }, msg: /unknown issuer setting/ },
        { name: 'bad issuer name', env: { 'GW_ISSUERS_A-B_URL': 'https://127.0.0.1:9/' }, msg: /issuer name/ },
    ];
    for (const c of cases) {
        test(`${c.name}: exit 2 with a reason`, async () => {
            const r = await runBin([], { env: { GW_LISTEN_PORT: '0', GW_OIDC_STARTUP_WAIT_MS: '0', ...c.env } });
            assert.equal(r.code, 2, `${c.name}: exit 2 (got ${r.code}; ${r.stderr})`);
            assert.match(r.stderr, c.msg, `${c.name}: the reason is named`);
        });
    }
});
