// /v1/webhooks/<provider> beyond the fixture rows, for every signature
// scheme: an accepted delivery beside a tampered body, a wrong secret, a
// stale and a future timestamp, a redelivery and an oversize delivery;
// rotation lists, the custom provider, unknown and unconfigured providers.
import { describe, test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import {
    startGateway, startUpstream, stopAndCheck, makeTempDir, registerSensitive, sleep, nowS, runBin, SLOW,
} from './lib/harness.mjs';
import {
    resignNow, readJson, readSecrets, gatewayEnv, registerFixtureSensitive, standardSig, workosSig,
    hexSig, fusionauthSig, firebaseBody,
} from './lib/webhooks.mjs';

const API_KEY = `up-key-${crypto.randomBytes(16).toString('hex')}`;
const CUSTOM_SECRET = `custom-${crypto.randomBytes(18).toString('hex')}`;
registerSensitive(API_KEY, CUSTOM_SECRET);
const MAX_EVENTS = 5;
const BODY_MAX = 65536;

let dir;
let up;
let gw;
let sec;

/* A fixture body, as the provider sent it. */
function body(provider, name) {
    return fs.readFileSync(path.join(dir, provider, `${name}.body`), 'utf8');
}

/* Each scheme: a fixture body that is a sign-in, and how to sign a body.
 * opts: secret (another key), skewS (signing time moved), id. */
function schemes() {
    const now = nowS();
    return {
        auth0: {
            body: body('auth0', '01_success_login_with_org'),
            sign: (b, o = {}) => ({ 'content-type': 'application/json',
                authorization: o.secret ?? sec.auth0.authorization }),
        },
        okta: {
            body: body('okta', '01_session_start_success'),
            sign: (b, o = {}) => ({ 'content-type': 'application/json',
                authorization: o.secret ?? sec.okta.authorization }),
        },
        clerk: {
            timed: true,
            body: body('clerk', '01_session_created'),
            sign: (b, o = {}) => {
                const ts = now + (o.skewS ?? 0);
                const id = o.id ?? 'msg_security0000000000000001';
                return { 'content-type': 'application/json', 'svix-id': id, 'svix-timestamp': String(ts),
                    'svix-signature': standardSig(o.secret ?? sec.clerk.signing_secret, id, ts, b) };
            },
        },
        supabase: {
            timed: true,
            body: body('supabase', '01_password_signin'),
            sign: (b, o = {}) => {
                const ts = now + (o.skewS ?? 0);
                const id = o.id ?? '0a9d51c8-5c3e-4d7e-9b1a-3f2e1d0c9b8a';
                return { 'content-type': 'application/json', 'webhook-id': id, 'webhook-timestamp': String(ts),
                    'webhook-signature': standardSig(o.secret ?? sec.supabase.hook_secret, id, ts, b) };
            },
        },
        workos: {
            timed: true,
            body: body('workos', '01_session_created'),
            sign: (b, o = {}) => ({ 'content-type': 'application/json',
                'workos-signature': workosSig(o.secret ?? sec.workos.webhook_secret,
                    Date.now() + (o.skewS ?? 0) * 1000, b) }),
        },
        keycloak: {
            body: body('keycloak', '01_login_with_email_as_username'),
            sign: (b, o = {}) => ({ 'content-type': 'application/json',
                'x-keycloak-signature': hexSig(o.secret ?? sec.keycloak.shared_secret, b) }),
        },
        logto: {
            body: body('logto', '01_post_sign_in'),
            sign: (b, o = {}) => ({ 'content-type': 'application/json',
                'logto-signature-sha-256': hexSig(o.secret ?? sec.logto.signing_key, b) }),
        },
        fusionauth: {
            body: body('fusionauth', '01_login_success'),
            sign: (b, o = {}) => ({ 'content-type': 'application/json',
                'x-fusionauth-signature-jwt': fusionauthSig(o.secret ?? sec.fusionauth.hmac_secret,
                    sec.fusionauth.hmac_kid, b) }),
        },
        custom: {
            body: JSON.stringify({ id: 'dlv_0001', type: 'login.succeeded', occurred_at: '2024-05-01T12:34:56.5Z',
                user: { id: 'u_custom_1', email: 'custom.user@example.com', name: 'Custom User', extra: 'x' },
                account: { id: 'acct_9' }, session: { id: 'sess_77' } }),
            sign: (b, o = {}) => ({ 'content-type': 'application/json',
                'x-acme-signature': `sha256=${crypto.createHmac('sha256', o.secret ?? CUSTOM_SECRET)
                    .update(b).digest('base64')}` }),
        },
    };
}

function post(provider, b, headers) {
    return gw.req(`/v1/webhooks/${provider}`, { method: 'POST', headers, body: b });
}

async function expectNothingForwarded(before, label) {
    await sleep(150 * SLOW);
    assert.equal(up.allEvents().length, before, `${label}: nothing forwarded`);
}

/* A body of about size bytes: the sign-in with a long extra member. */
function padded(b, size) {
    const o = JSON.parse(b);
    const filler = 'x'.repeat(size);
    if (Array.isArray(o)) {
        o[0].padding = filler;
    } else {
        o.padding = filler;
    }
    return JSON.stringify(o);
}

before(async () => {
    dir = makeTempDir('idp-now');
    await resignNow(dir);
    registerFixtureSensitive(dir);
    sec = Object.fromEntries(['auth0', 'okta', 'clerk', 'supabase', 'workos', 'keycloak', 'logto',
        'fusionauth', 'firebase'].map((p) => [p, readSecrets(dir, p)]));
    registerSensitive('custom.user@example.com');
    up = await startUpstream();
    gw = await startGateway({
        name: 'webhooks-security',
        env: {
            ...gatewayEnv(dir, makeTempDir('secrets')),
            GW_WEBHOOKS_CUSTOM_SECRET: CUSTOM_SECRET,
            GW_WEBHOOKS_CUSTOM_SIGNATURE_HEADER: 'X-Acme-Signature',
            GW_WEBHOOKS_CUSTOM_SIGNATURE_ENCODING: 'base64',
            GW_WEBHOOKS_CUSTOM_SIGNATURE_PREFIX: 'sha256=',
            GW_WEBHOOKS_CUSTOM_EVENT_TYPE_PATH: 'type',
            GW_WEBHOOKS_CUSTOM_EVENT_TYPES: 'login.succeeded,sso.login.succeeded',
            GW_WEBHOOKS_CUSTOM_USER_ID_PATH: 'user.id',
            GW_WEBHOOKS_CUSTOM_EMAIL_PATH: 'user.email',
            GW_WEBHOOKS_CUSTOM_USER_NAME_PATH: 'user.name',
            GW_WEBHOOKS_CUSTOM_GROUP_ID_PATH: 'account.id',
            GW_WEBHOOKS_CUSTOM_TIMESTAMP_PATH: 'occurred_at',
            GW_WEBHOOKS_CUSTOM_DELIVERY_ID_PATH: 'id',
            GW_WEBHOOKS_CUSTOM_SESSION_ID_PATH: 'session.id',
            GW_WEBHOOKS_MAX_EVENTS: String(MAX_EVENTS),
            GW_WEBHOOKS_WORKOS_TOLERANCE_S: '60',
            GW_LIMITS_BODY_MAX_BYTES: String(BODY_MAX),
            GW_UPSTREAM_URL: up.url,
            GW_UPSTREAM_API_KEY: API_KEY,
            GW_UPSTREAM_BATCH_MS: '10',
        },
    });
});

after(async () => {
    if (gw && !gw.exitInfo()) {
        await gw.stop();
    }
    await up?.close();
});

describe('every signature scheme: accept, then refuse what is not authentic', () => {
    for (const provider of ['auth0', 'okta', 'clerk', 'supabase', 'workos', 'keycloak', 'logto',
        'fusionauth', 'custom']) {
        test(`${provider}: accepted, tampered, wrong secret, stale, future, redelivered, oversize`, async () => {
            const s = schemes()[provider];
            let before = up.allEvents().length;

            let res = await post(provider, s.body, s.sign(s.body));
            assert.equal(res.status, 200, `${provider}: a signed delivery is accepted (${res.text})`);
            await up.waitFor(() => up.allEvents().length === before + 1, 10000 * SLOW, `${provider}: one event`);
            const first = up.allEvents()[before];

            // Auth0 and Okta sign nothing: the header value is the whole check,
            // so the wrong-value case below stands for both.
            if (provider !== 'auth0' && provider !== 'okta') {
                before = up.allEvents().length;
                const tampered = s.body.replace(/"(user_?[iI]d|id)":"/, '"$1":"x');
                assert.notEqual(tampered, s.body, `${provider}: the tamper changed the body`);
                res = await post(provider, tampered, s.sign(s.body));
                assert.equal(res.status, 401, `${provider}: tampered body refused (${res.text})`);
                assert.equal(res.json.error, 'bad_signature', `${provider}: bad_signature`);
                await expectNothingForwarded(before, `${provider}: tampered`);
            }

            before = up.allEvents().length;
            const wrong = provider === 'auth0' || provider === 'okta' ? 'not-the-configured-value'
                : (['clerk', 'supabase'].includes(provider)
                    ? `whsec_${crypto.randomBytes(24).toString('base64')}`
                    : `wrong-${crypto.randomBytes(24).toString('hex')}`);
            res = await post(provider, s.body, s.sign(s.body, { secret: wrong }));
            assert.equal(res.status, 401, `${provider}: wrong secret refused (${res.text})`);
            assert.match(res.json.error, /^(bad_signature|unknown_kid)$/, `${provider}: reason ${res.json.error}`);

            if (s.timed) {
                const tol = provider === 'workos' ? 60 : 300;
                res = await post(provider, s.body, s.sign(s.body, { skewS: -(tol + 30), id: `${provider}_stale` }));
                assert.equal(res.status, 401, `${provider}: stale timestamp refused (${res.text})`);
                assert.equal(res.json.error, 'stale_timestamp', `${provider}: stale_timestamp`);
                res = await post(provider, s.body, s.sign(s.body, { skewS: tol + 30, id: `${provider}_future` }));
                assert.equal(res.status, 401, `${provider}: future timestamp refused (${res.text})`);
                assert.equal(res.json.error, 'stale_timestamp', `${provider}: future is stale_timestamp`);
                res = await post(provider, s.body, s.sign(s.body, { skewS: -(tol - 20), id: `${provider}_old_ok` }));
                assert.equal(res.status, 200, `${provider}: inside the window is accepted (${res.text})`);
                before = up.allEvents().length + (provider === 'workos' ? 0 : 1);
                await up.waitFor(() => up.allEvents().length >= before, 10000 * SLOW, 'in-window event');
            }

            before = up.allEvents().length;
            // A redelivery: same delivery id; Svix and Standard Webhooks re-sign with a new time.
            res = await post(provider, s.body, s.sign(s.body, { skewS: 2 }));
            assert.equal(res.status, 200, `${provider}: a redelivery is acknowledged (${res.text})`);
            if (provider !== 'supabase') {
                assert.equal(res.json.duplicates, 1, `${provider}: reported as a duplicate`);
            }
            await expectNothingForwarded(before, `${provider}: redelivery`);

            const big = padded(s.body, BODY_MAX + 100);
            res = await post(provider, big, s.sign(big));
            assert.equal(res.status, 413, `${provider}: a body over limits.body_max_bytes is refused`);
            await expectNothingForwarded(before, `${provider}: oversize`);
            assert.equal(first.properties.message_id.length > 0, true, `${provider}: the event has an id`);
        });
    }

    test('firebase: an accepted token beside expired, future, wrong-key and oversize ones', async () => {
        const claims = JSON.parse(Buffer.from(JSON.parse(body('firebase', '01_password_signin_tenant'))
            .data.jwt.split('.')[1], 'base64url').toString('utf8'));
        const now = nowS();
        const post1 = (c) => post('firebase', firebaseBody(sec.firebase, c), { 'content-type': 'application/json' });
        let before = up.allEvents().length;
        let res = await post1({ ...claims, iat: now - 5, exp: now + 3600, event_id: 'fb-sec-1' });
        assert.equal(res.status, 200, `accepted (${res.text})`);
        assert.deepStrictEqual(res.json, {}, 'the blocking function answer lets the sign-in proceed');
        await up.waitFor(() => up.allEvents().length === before + 1, 10000 * SLOW, 'firebase event');
        const ev = up.allEvents()[before];
        assert.equal(ev.properties.auth_method, 'password', 'sign_in_method password');
        assert.equal(ev.properties.message_id, 'fb-sec-1', 'event_id is the event id');

        before = up.allEvents().length;
        res = await post1({ ...claims, iat: now - 7200, exp: now - 3600 });
        assert.equal(res.status, 401, 'expired token refused');
        res = await post1({ ...claims, iat: now + 3600, exp: now + 7200 });
        assert.equal(res.status, 401, 'token from the future refused');
        assert.equal(res.json.error, 'token_not_yet_valid', 'token_not_yet_valid');
        res = await post1({ ...claims, iss: 'https://securetoken.google.com/another-project', iat: now, exp: now + 60 });
        assert.equal(res.json.error, 'wrong_issuer', 'another project refused');
        res = await post('firebase', padded(firebaseBody(sec.firebase, { ...claims, iat: now, exp: now + 60 }),
            BODY_MAX + 10), { 'content-type': 'application/json' });
        assert.equal(res.status, 413, 'oversize body refused');
        await expectNothingForwarded(before, 'firebase refusals');
    });
});

describe('batches, rotation and the richer fields', () => {
    test('auth0 and okta: a batch over webhooks.max_events is refused whole', async () => {
        const before = up.allEvents().length;
        const a0 = JSON.parse(body('auth0', '01_success_login_with_org'))[0];
        const batch = Array.from({ length: MAX_EVENTS + 1 }, (_, i) => ({ ...a0, log_id: `over-${i}` }));
        let res = await post('auth0', JSON.stringify(batch), schemes().auth0.sign(''));
        assert.equal(res.status, 413, `auth0: too many logs (${res.text})`);
        assert.equal(res.json.error, 'too_many_events', 'auth0: too_many_events');
        const ok = JSON.parse(body('okta', '01_session_start_success'));
        ok.data.events = Array.from({ length: MAX_EVENTS + 1 }, (_, i) => ({ ...ok.data.events[0], uuid: `u-${i}` }));
        res = await post('okta', JSON.stringify(ok), schemes().okta.sign(''));
        assert.equal(res.status, 413, 'okta: too many events');
        await expectNothingForwarded(before, 'oversize batches');
    });

    test('auth0: a batch mixing sign-ins and other logs counts the ignored ones', async () => {
        const before = up.allEvents().length;
        const s = JSON.parse(body('auth0', '06_batch_two_logins'));
        const slo = JSON.parse(body('auth0', '04_logout_ignored'))[0];
        const mixed = JSON.stringify([s[0], slo, s[1]].map((e, i) => ({ ...e, log_id: `mix-${i}` })));
        const res = await post('auth0', mixed, schemes().auth0.sign(''));
        assert.equal(res.status, 200, res.text);
        assert.equal(res.json.events, 2, 'two sign-ins');
        assert.equal(res.json.ignored, 1, 'one log ignored and counted');
        assert.deepEqual(res.json.event_ids, ['mix-0', 'mix-2'], 'log_id is each event id');
        await up.waitFor(() => up.allEvents().length === before + 2, 10000 * SLOW, 'two events');
        const evs = up.allEvents().slice(before);
        assert.equal(evs[0].properties.auth_method, 'password', 'database connection: password');
        assert.equal(evs[0].context.session_id, 'BVxwChbzUq8OuzwDaWaowy7TVoBzwu6l', 'session id kept');
    });

    test('standard webhooks: any listed v1 signature verifies (rotation), other versions skipped', async () => {
        const s = schemes().supabase;
        const id = 'rot-0001-4000-8000-000000000001';
        const h = s.sign(s.body, { id });
        const oldKey = `whsec_${crypto.randomBytes(32).toString('base64')}`;
        const ts = h['webhook-timestamp'];
        h['webhook-signature'] = `v2,abc, ${standardSig(oldKey, id, ts, s.body)}, ${h['webhook-signature']}`;
        const before = up.allEvents().length;
        const res = await post('supabase', s.body, h);
        assert.equal(res.status, 200, `rotation list accepted (${res.text})`);
        assert.deepStrictEqual(Object.keys(res.json), ['claims'], 'Supabase gets its claims back');
        await up.waitFor(() => up.allEvents().length === before + 1, 10000 * SLOW, 'supabase event');
        const ev = up.allEvents()[before];
        assert.equal(ev.properties.auth_method, 'password', 'auth_method');
        assert.equal(ev.properties.mfa, false, 'aal1: no MFA');
        assert.equal(ev.context.session_id, 'cbb9de53-639f-4f10-b67e-e2aa9a56eae2', 'session id');
        assert.equal(ev.properties.message_id, id, 'webhook-id is the event id');
        const c = schemes().clerk;
        const ch = c.sign(c.body, { id: 'msg_rotation_1' });
        ch['svix-signature'] = `v1,${crypto.randomBytes(32).toString('base64')} ${ch['svix-signature']}`;
        assert.equal((await post('clerk', c.body, ch)).status, 200, 'svix: second entry matches');
        ch['svix-signature'] = `v1,${crypto.randomBytes(32).toString('base64')}`;
        assert.equal((await post('clerk', c.body, ch)).status, 401, 'svix: no entry matches');
    });

    test('custom: the configured paths, and nothing else of the payload', async () => {
        const s = schemes().custom;
        const other = JSON.stringify({ ...JSON.parse(s.body), id: 'dlv_0002', type: 'logout' });
        const res = await post('custom', other, s.sign(other));
        assert.equal(res.status, 200, res.text);
        assert.equal(res.json.ignored, 1, 'an event type outside webhooks.custom.event_types is ignored');
        const ev = up.allEvents().find((e) => e.user_id === 'u_custom_1');
        assert.deepStrictEqual(ev, {
            event_name: 'signed_in', user_id: 'u_custom_1', timestamp: '2024-05-01T12:34:56.500Z',
            properties: { email: 'custom.user@example.com', user_name: 'Custom User', message_id: 'dlv_0001' },
            context: { group_id: 'acct_9', session_id: 'sess_77' },
        }, 'custom event from the configured paths only');
    });

    test('okta: the verification GET needs the hook secret; GET elsewhere is 405', async () => {
        const ch = 'challenge-value-0123456789';
        let res = await gw.req('/v1/webhooks/okta', { headers: {
            authorization: sec.okta.authorization, 'x-okta-verification-challenge': ch } });
        assert.deepStrictEqual([res.status, res.json], [200, { verification: ch }], 'challenge answered');
        res = await gw.req('/v1/webhooks/okta', { headers: {
            authorization: 'wrong', 'x-okta-verification-challenge': ch } });
        assert.equal(res.status, 401, 'without the secret: 401');
        res = await gw.req('/v1/webhooks/clerk');
        assert.equal(res.status, 405, 'GET on clerk: 405');
        assert.equal(res.headers.allow, 'POST', 'Allow: POST');
    });

    test('a delivery that verifies but has a bad time is 400 invalid_timestamp', async () => {
        const s = schemes().keycloak;
        const b = s.body.replace(/"time":\d+/, '"time":"yesterday"');
        const res = await post('keycloak', b, s.sign(b));
        assert.equal(res.status, 400, res.text);
        assert.equal(res.json.error, 'invalid_timestamp', 'invalid_timestamp');
        assert.equal(res.json.field, 'time', 'field');
    });

    test('teardown: exits 0 with clean logs', async () => {
        await stopAndCheck(gw);
    });
});

describe('providers that are not there', () => {
    test('unknown: 404 not_found; not configured: 404 not_configured naming the setting', async () => {
        const clerkOnly = await startGateway({
            name: 'webhooks-clerk-only',
            env: { GW_WEBHOOKS_CLERK_SECRET: sec.clerk.signing_secret, GW_UPSTREAM_URL: up.url },
        });
        let res = await clerkOnly.req('/v1/webhooks/nope', { method: 'POST', body: {} });
        assert.deepStrictEqual([res.status, res.json.error], [404, 'not_found'], 'unknown provider');
        for (const [p, setting] of [['okta', 'webhooks.okta.authorization'], ['firebase', 'webhooks.firebase.jwks_file'],
            ['custom', 'webhooks.custom.secret'], ['fusionauth', 'webhooks.fusionauth.jwks_file']]) {
            res = await clerkOnly.req(`/v1/webhooks/${p}`, { method: 'POST', body: {} });
            assert.deepStrictEqual([res.status, res.json.error], [404, 'not_configured'], `${p}: not_configured`);
            assert.ok(res.json.message.includes(setting), `${p}: the message names ${setting}`);
        }
        res = await clerkOnly.req('/v1/webhooks/clerk/extra', { method: 'POST', body: {} });
        assert.equal(res.status, 404, 'one path segment only');
        res = await clerkOnly.req('/v1/signed-in', { method: 'POST' });
        assert.equal(res.json?.error, 'not_configured', 'a webhook secret is a configured key: no development keys');
        assert.ok(!fs.existsSync(path.join(clerkOnly.dataDir, 'dev-keys')), 'no development keys created');
        await stopAndCheck(clerkOnly);
    });

    test('a secret that is not whsec_ base64 stops the start with exit 2, unnamed in the log', async () => {
        const bad = 'not-a-svix-secret-0123456789';
        const r = await runBin([], { env: { GW_WEBHOOKS_CLERK_SECRET: bad, GW_LISTEN_PORT: '0',
            GW_DATA_DIR: makeTempDir('bad-secret') } });
        assert.equal(r.code, 2, 'exit code 2: bad configuration');
        assert.match(r.stderr, /webhooks\.clerk\.secret/, 'the error names the setting');
        assert.ok(!r.stderr.includes(bad), 'the secret is not in the log');
    });
});

test('fixtures folder of this suite exists', () => {
    assert.ok(readJson(path.join(dir, 'clerk', 'manifest.json')).cases.length > 0);
});
