// POST /v1/signed-in with ID tokens of two OIDC issuers at once (one found
// by discovery, one by its JWKS URL), each with its own audience,
// algorithms and claim mapping; amr, sid and idp enrichment; replay; the
// jku/x5u/jwk headers ignored; CORS for an exact list of origins.
import { describe, test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import crypto from 'node:crypto';
import {
    startGateway, startUpstream, stopAndCheck, signJwt, registerSensitive, signinEventId,
    sleep, nowS, isoFromS, b64url, SLOW,
} from './lib/harness.mjs';
import { makeTestCa, startIdpUp } from './lib/idp.mjs';

const API_KEY = `up-key-${crypto.randomBytes(16).toString('hex')}`;
registerSensitive(API_KEY);
const ACME_AUD = 'acme-web';
const BETA_AUD = 'beta-spa';
const ALLOWED = 'https://app.example.com';
const ALLOWED_2 = 'http://127.0.0.1:5173';

let ca;
let up;
let acme;
let beta;
let gw;
let seq = 0;
const sub = () => `u-${++seq}-${crypto.randomBytes(3).toString('hex')}`;

function signIn(token, { body, headers = {} } = {}) {
    return gw.req('/v1/signed-in', { method: 'POST', headers: { authorization: `Bearer ${token}`, ...headers }, body });
}

async function accepted(token, label, opts) {
    const r = await signIn(token, opts);
    assert.equal(r.status, 202, `${label}: 202 (got ${r.status} ${r.text})`);
    return r;
}

async function eventOf(s, label) {
    return up.waitForEvent((e) => e.user_id === s, 10000 * SLOW, `${label}: event upstream`);
}

async function refused(token, status, code, label) {
    const r = await signIn(token);
    assert.equal(r.status, status, `${label}: ${status} (got ${r.status} ${r.text})`);
    assert.equal(r.json?.error, code, `${label}: ${code}`);
}

before(async () => {
    ca = makeTestCa('signin-ca');
    up = await startUpstream();
    acme = await startIdpUp({ tls: ca, name: 'acme' });
    beta = await startIdpUp({ tls: ca, name: 'beta', alg: 'ES256', discovery: false });
    gw = await startGateway({
        name: 'oidc-signin',
        env: {
            GW_OIDC_CA_FILE: ca.caFile,
            GW_ISSUERS_ACME_URL: acme.issuer,
            GW_ISSUERS_ACME_AUD: ACME_AUD,
            GW_ISSUERS_ACME_ALGS: 'RS256',
            GW_ISSUERS_ACME_GROUP_CLAIM: 'https://example.com/org_id',
            GW_ISSUERS_ACME_EXTRA_CLAIMS: 'https://example.com/plan=plan, department',
            GW_ISSUERS_BETA_URL: beta.issuer,
            GW_ISSUERS_BETA_JWKS_URL: beta.jwksUrl,
            GW_ISSUERS_BETA_AUD: BETA_AUD,
            GW_ISSUERS_BETA_ALGS: 'ES256',
            GW_ISSUERS_BETA_GROUP_CLAIM: 'org.id',
            GW_ISSUERS_BETA_NAME_CLAIMS: 'nickname,name',
            GW_CORS_ALLOWED_ORIGINS: `${ALLOWED}, ${ALLOWED_2}`,
            GW_CORS_MAX_AGE_S: '900',
            GW_UPSTREAM_URL: up.url,
            GW_UPSTREAM_API_KEY: API_KEY,
            GW_UPSTREAM_BATCH_MS: '10',
        },
    });
});

after(async () => {
    if (gw) {
        await stopAndCheck(gw);
    }
    await acme?.stop();
    await beta?.stop();
    await up?.close();
});

describe('claim mapping per issuer and the standard claims', () => {
    test('acme (discovery, RS256): namespaced group, extra claims, amr pwd+otp, sid, idp', async () => {
        const s = sub();
        const c = {
            sub: s, aud: ACME_AUD, jti: `jti-${s}`, email: 'ada.acme@example.com', name: 'Ada Acme',
            'https://example.com/org_id': 'org-acme-1', 'https://example.com/plan': 'pro', department: 'R&D',
            amr: ['pwd', 'otp'], sid: 'sess-acme-9', idp: 'github', org_id: 'not-this-one',
        };
        const r = await accepted(acme.token(c), 'acme');
        const id = signinEventId(acme.issuer, s, c.jti);
        assert.deepStrictEqual(r.json, { status: 'accepted', event_id: id }, 'acme: answer');
        const ev = await eventOf(s, 'acme');
        assert.deepStrictEqual(ev, {
            event_name: 'signed_in', user_id: s, timestamp: ev.timestamp,
            properties: {
                email: 'ada.acme@example.com', user_name: 'Ada Acme', auth_method: 'password', mfa: true,
                identity_provider: 'github', plan: 'pro', department: 'R&D', message_id: id,
            },
            context: { group_id: 'org-acme-1', session_id: 'sess-acme-9' },
        }, 'acme: forwarded event');
    });

    test('beta (JWKS URL, ES256): nested group path, name fallback, amr hwk is a passkey without mfa', async () => {
        const s = sub();
        const iat = nowS() - 7;
        const c = { sub: s, aud: BETA_AUD, iat, org: { id: 'org-beta-7' }, name: 'Bo Beta', nickname: 'bo', amr: ['hwk', 'user'] };
        await accepted(beta.token(c), 'beta');
        const ev = await eventOf(s, 'beta');
        assert.deepStrictEqual(ev, {
            event_name: 'signed_in', user_id: s, timestamp: isoFromS(iat),
            properties: { user_name: 'bo', auth_method: 'passkey', mfa: false, message_id: signinEventId(beta.issuer, s, String(iat)) },
            context: { group_id: 'org-beta-7' },
        }, 'beta: forwarded event');
        assert.equal(beta.hits('/.well-known/openid-configuration'), 0, 'beta: no discovery with a JWKS URL');
    });

    test('amr cases: ["otp"] alone, ["mfa"] alone, no amr; body cannot claim mfa', async () => {
        const cases = [
            { amr: ['otp'], want: { auth_method: 'otp', mfa: false } },
            { amr: ['mfa'], want: { mfa: true } },
            { amr: undefined, want: {} },
        ];
        for (const [i, k] of cases.entries()) {
            const s = sub();
            await accepted(acme.token({ sub: s, aud: ACME_AUD, amr: k.amr }), `amr case ${i}`,
                { body: { properties: { mfa: true, auth_method: 'sso', page: 'login' } } });
            const ev = await eventOf(s, `amr case ${i}`);
            const { message_id: _m, ...props } = ev.properties;
            assert.deepStrictEqual(props, { ...k.want, page: 'login' }, `amr case ${i} (${JSON.stringify(k.amr)}): properties`);
        }
    });

    test('the same token twice: the same answer, one event', async () => {
        const s = sub();
        const t = acme.token({ sub: s, aud: ACME_AUD, jti: `replay-${s}` });
        const a = await accepted(t, 'first');
        const b = await accepted(t, 'again');
        assert.deepStrictEqual(b.json, a.json, 'replay: same answer');
        await eventOf(s, 'replay');
        const marker = sub();
        await accepted(acme.token({ sub: marker, aud: ACME_AUD }), 'marker');
        await eventOf(marker, 'marker');
        await sleep(50);
        assert.equal(up.allEvents().filter((e) => e.user_id === s).length, 1, 'replay: forwarded once');
    });
});

describe('refusals, each beside an accepted sign-in', () => {
    test('audience, issuer, algorithm and foreign keys', async () => {
        const attacker = crypto.generateKeyPairSync('rsa', { modulusLength: 2048 });
        const attackerJwk = { ...attacker.publicKey.export({ format: 'jwk' }), kid: 'acme-k1' };
        const claims = { iss: acme.issuer, sub: sub(), aud: ACME_AUD, iat: nowS(), exp: nowS() + 600 };
        await refused(acme.token({ sub: sub(), aud: BETA_AUD }), 401, 'wrong_audience', 'acme token for beta\'s audience');
        await refused(beta.token({ sub: sub(), aud: ACME_AUD, iss: acme.issuer }), 401, 'alg_not_allowed',
            'beta\'s ES256 key claiming acme\'s iss');
        await refused(signJwt({ alg: 'RS256', typ: 'JWT', kid: 'acme-k1' }, { ...claims, iss: 'https://evil.example' },
            attacker.privateKey), 401, 'wrong_issuer', 'an issuer nobody configured');
        for (const h of [{ jwk: attackerJwk }, { jku: 'https://127.0.0.1:9/keys' }, { x5u: 'https://127.0.0.1:9/c' }]) {
            await refused(signJwt({ alg: 'RS256', typ: 'JWT', kid: 'acme-k1', ...h }, claims, attacker.privateKey),
                401, 'bad_signature', `attacker key offered in ${Object.keys(h)[0]}`);
        }
        const hsSecret = crypto.randomBytes(32);
        await refused(signJwt({ alg: 'HS256', typ: 'JWT', kid: 'acme-k1' }, claims, hsSecret), 401, 'alg_not_allowed',
            'HS256 with acme\'s kid');
        const none = `${b64url(JSON.stringify({ alg: 'none', kid: 'acme-k1' }))}.${b64url(JSON.stringify(claims))}.`;
        const r = await signIn(none);
        assert.equal(r.status, 401, 'alg none: 401');
        const s = sub();
        await accepted(acme.token({ sub: s, aud: ACME_AUD }), 'accepted beside the refusals');
        await eventOf(s, 'accepted beside the refusals');
    });
});

describe('CORS for cors.allowed_origins', () => {
    function preflight(origin, extra = {}) {
        return gw.req('/v1/signed-in', {
            method: 'OPTIONS',
            headers: {
                origin, 'access-control-request-method': 'POST',
                'access-control-request-headers': 'authorization,content-type', ...extra,
            },
        });
    }

    test('preflight from an allowed origin: exact origin, methods, headers, max-age', async () => {
        for (const origin of [ALLOWED, ALLOWED_2]) {
            const r = await preflight(origin);
            assert.equal(r.status, 204, `${origin}: 204`);
            assert.equal(r.headers['access-control-allow-origin'], origin, `${origin}: the origin echoed exactly`);
            assert.equal(r.headers['access-control-allow-methods'], 'POST', `${origin}: methods`);
            assert.match(r.headers['access-control-allow-headers'] || '', /Authorization/, `${origin}: Authorization allowed`);
            assert.match(r.headers['access-control-allow-headers'] || '', /Content-Type/, `${origin}: Content-Type allowed`);
            assert.equal(r.headers['access-control-max-age'], '900', `${origin}: max-age`);
            assert.equal(r.headers['access-control-allow-credentials'], undefined, `${origin}: no credentials`);
            assert.match(r.headers.vary || '', /Origin/, `${origin}: Vary: Origin`);
        }
    });

    test('other origins, near misses and other routes get no CORS headers', async () => {
        for (const origin of ['https://evil.example', 'https://app.example.com.evil.example', 'http://app.example.com',
            'https://APP.example.com', 'null']) {
            const r = await preflight(origin);
            assert.equal(r.headers['access-control-allow-origin'], undefined, `${origin}: no Allow-Origin`);
            assert.equal(r.headers['access-control-allow-methods'], undefined, `${origin}: no Allow-Methods`);
        }
        const h = await gw.req('/healthz', { headers: { origin: ALLOWED } });
        assert.equal(h.headers['access-control-allow-origin'], undefined, '/healthz: no CORS');
    });

    test('the POST answer, accepted or refused, carries the allowed origin', async () => {
        const s = sub();
        const ok = await accepted(acme.token({ sub: s, aud: ACME_AUD }), 'POST with Origin', { headers: { origin: ALLOWED } });
        assert.equal(ok.headers['access-control-allow-origin'], ALLOWED, '202: Allow-Origin');
        assert.match(ok.headers['access-control-expose-headers'] || '', /Retry-After/, '202: Retry-After exposed');
        const bad = await signIn('x.y.z', { headers: { origin: ALLOWED } });
        assert.equal(bad.status, 401, 'refused POST: 401');
        assert.equal(bad.headers['access-control-allow-origin'], ALLOWED, '401: Allow-Origin, so the page reads the reason');
        const other = await signIn(acme.token({ sub: sub(), aud: ACME_AUD }), { headers: { origin: 'https://evil.example' } });
        assert.equal(other.headers['access-control-allow-origin'], undefined, 'disallowed origin: no Allow-Origin');
    });
});
