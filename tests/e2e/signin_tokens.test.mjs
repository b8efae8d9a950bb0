// POST /v1/signed-in: ID tokens signed with RS256, ES256 and HS256 are turned
// into the exact upstream event; every refusal has its status and code, and
// forwards nothing. Each refusal stands beside an accepted sign-in.
import { describe, test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import crypto from 'node:crypto';
import {
    makeKeys, makeHsSecretFile, signJwt, startGateway, startUpstream, stopAndCheck,
    signinEventId, nowS, isoFromS, sleep, b64url, registerSensitive, SLOW,
} from './lib/harness.mjs';

const ISS = 'https://idp.e2e.example/';
const AUD = 'signin-gateway-e2e';
const API_KEY = `up-key-${crypto.randomBytes(16).toString('hex')}`;
registerSensitive(API_KEY);

let keys;
let backend;
let up;
let seq = 0;

function claims(over = {}) {
    const now = nowS();
    seq += 1;
    return { iss: ISS, sub: `usr-${seq}-${crypto.randomBytes(3).toString('hex')}`, aud: AUD, iat: now - 10, exp: now + 600, ...over };
}
const hs = (c, h = {}) => signJwt({ alg: 'HS256', typ: 'JWT', kid: 'hs-1', ...h }, c, keys.hsSecret);
const rs = (c, h = {}) => signJwt({ alg: 'RS256', typ: 'JWT', kid: 'rs-1', ...h }, c, keys.rsa.privateKey);
const es = (c, h = {}) => signJwt({ alg: 'ES256', typ: 'JWT', kid: 'ec-1', ...h }, c, keys.ec.privateKey);

function signIn(gw, token, body, headers = {}) {
    const h = { ...headers };
    if (token !== undefined) {
        h.authorization = `Bearer ${token}`;
    }
    return gw.req('/v1/signed-in', { method: 'POST', headers: h, body });
}

/* Flips one byte in the middle of the signature (not the last base64url
 * character, whose low bits may be padding). */
function tamperSignature(token) {
    const [h, p, s] = token.split('.');
    const sig = Buffer.from(s, 'base64url');
    sig[Math.floor(sig.length / 2)] ^= 0x5a;
    return `${h}.${p}.${b64url(sig)}`;
}

function assertAccepted(res, id, label) {
    assert.equal(res.status, 202, `${label}: 202 (got ${res.status} ${res.text})`);
    assert.match(res.headers['content-type'] || '', /^application\/json/i, `${label}: JSON answer`);
    assert.deepStrictEqual(res.json, { status: 'accepted', event_id: id }, `${label}: answer body`);
}

function assertRefused(res, status, code, label, { field, token } = {}) {
    assert.equal(res.status, status, `${label}: status ${status} (got ${res.status} ${res.text})`);
    assert.match(res.headers['content-type'] || '', /^application\/json/i, `${label}: JSON error body`);
    if (Array.isArray(code)) {
        assert.ok(code.includes(res.json?.error), `${label}: error code one of ${code.join('|')} (got ${res.json?.error})`);
    } else {
        assert.equal(res.json?.error, code, `${label}: error code ${code}`);
    }
    assert.equal(typeof res.json?.message, 'string', `${label}: error has a message`);
    if (status === 401) {
        assert.match(res.headers['www-authenticate'] || '', /^Bearer\b/i, `${label}: WWW-Authenticate: Bearer`);
    }
    if (field !== undefined) {
        assert.equal(res.json?.field, field, `${label}: field ${field}`);
    }
    if (token) {
        assert.ok(!res.text.includes(token), `${label}: error body does not echo the token`);
        const [, p, s] = token.split('.');
        for (const part of [p, s]) {
            if (part && part.length >= 16) {
                assert.ok(!res.text.includes(part), `${label}: error body does not echo a token segment`);
            }
        }
    }
}

/* Runs fn (which sends refused requests), then sends an accepted sign-in to
 * the same gateway and waits for it upstream: since the gateway forwards in
 * order, anything fn let through would have arrived by then. */
async function nothingForwarded(gw, fn, sign = hs) {
    const mark = up.allEvents().length;
    await fn();
    const c = claims({ email: undefined });
    const r = await signIn(gw, sign(c));
    assert.equal(r.status, 202, `accept beside the refusal: 202 (got ${r.status} ${r.text})`);
    await up.waitForEvent((e) => e.user_id === c.sub, 10000 * SLOW, 'the accepted marker event upstream');
    await sleep(60);
    const since = up.allEvents().slice(mark).map((e) => e.user_id);
    assert.deepStrictEqual(since, [c.sub], 'nothing but the accepted sign-in was forwarded');
}

async function forwarded(sub, label) {
    const ev = await up.waitForEvent((e) => e.user_id === sub, 10000 * SLOW, `${label}: event upstream`);
    assert.deepStrictEqual(Object.keys(ev), ['event_name', 'user_id', 'timestamp', 'properties', 'context'],
        `${label}: event keys in spec order`);
    return ev;
}

before(async () => {
    keys = makeKeys('users');
    backend = makeHsSecretFile('backend');
    up = await startUpstream();
});

after(async () => {
    await up?.close();
});

describe('signin gateway with JWKS (rs-1, ec-1) and HS secret (hs-1)', () => {
    let gw;
    before(async () => {
        gw = await startGateway({
            name: 'signin',
            env: {
                GW_AUTH_JWKS_FILE: keys.files.jwks,
                GW_AUTH_HS_SECRET_FILE: keys.files.hsSecret,
                GW_AUTH_HS_KID: 'hs-1',
                GW_AUTH_ISS: ISS,
                GW_AUTH_AUD: AUD,
                GW_BACKEND_HS_SECRET_FILE: backend.file,
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
    });

    test('RS256 token with body timestamp forwards the exact event', async () => {
        const c = claims({ email: 'rita.sanchez@example.com', name: 'Rita Sanchez', org_id: 'org-rs', jti: 'jti-rs-0001' });
        const id = signinEventId(ISS, c.sub, 'jti-rs-0001');
        const res = await signIn(gw, rs(c), { timestamp: '2024-05-01T12:34:56.789Z' });
        assertAccepted(res, id, 'RS256');
        const ev = await forwarded(c.sub, 'RS256');
        assert.deepStrictEqual(ev, {
            event_name: 'signed_in',
            user_id: c.sub,
            timestamp: '2024-05-01T12:34:56.789Z',
            properties: { email: 'rita.sanchez@example.com', user_name: 'Rita Sanchez', message_id: id },
            context: { group_id: 'org-rs' },
        }, 'RS256: forwarded event');
        assert.equal(ev.properties.message_id, res.json.event_id, 'RS256: message_id equals the 202 event_id');
    });

    test('ES256 token, id from iat, offset timestamp converted to UTC and truncated', async () => {
        const c = claims({ email: 'eli.chen@example.org', name: 'Eli Chen', org_id: 'org-ec' });
        const id = signinEventId(ISS, c.sub, String(c.iat));
        const res = await signIn(gw, es(c), { timestamp: '2024-05-01T14:34:56.123999+02:00' });
        assertAccepted(res, id, 'ES256');
        const ev = await forwarded(c.sub, 'ES256');
        assert.deepStrictEqual(ev, {
            event_name: 'signed_in',
            user_id: c.sub,
            timestamp: '2024-05-01T12:34:56.123Z',
            properties: { email: 'eli.chen@example.org', user_name: 'Eli Chen', message_id: id },
            context: { group_id: 'org-ec' },
        }, 'ES256: forwarded event');
        assert.equal(ev.properties.message_id, res.json.event_id, 'ES256: message_id equals the 202 event_id');
    });

    test('HS256 token with empty body takes the timestamp from iat', async () => {
        const c = claims({ email: 'hana.sato@example.com', name: 'Hana Sato', org_id: 'org-hs', iat: nowS() - 42 });
        const id = signinEventId(ISS, c.sub, String(c.iat));
        const res = await signIn(gw, hs(c));
        assertAccepted(res, id, 'HS256 empty body');
        const ev = await forwarded(c.sub, 'HS256 empty body');
        assert.deepStrictEqual(ev, {
            event_name: 'signed_in',
            user_id: c.sub,
            timestamp: isoFromS(c.iat),
            properties: { email: 'hana.sato@example.com', user_name: 'Hana Sato', message_id: id },
            context: { group_id: 'org-hs' },
        }, 'HS256 empty body: forwarded event');
    });

    test('HS256 token without kid uses the only key allowing HS256; {} body uses iat', async () => {
        const c = claims({ name: 'No Kid', jti: 'nokid-1' });
        const id = signinEventId(ISS, c.sub, 'nokid-1');
        const tok = signJwt({ alg: 'HS256', typ: 'JWT' }, c, keys.hsSecret);
        const res = await signIn(gw, tok, {});
        assertAccepted(res, id, 'HS256 without kid');
        const ev = await forwarded(c.sub, 'HS256 without kid');
        assert.deepStrictEqual(ev, {
            event_name: 'signed_in', user_id: c.sub, timestamp: isoFromS(c.iat),
            properties: { user_name: 'No Kid', message_id: id }, context: {},
        }, 'HS256 without kid: forwarded event (absent email and group absent)');
    });

    test('body timestamp wins over iat; fraction padded to 3 digits; lower-case t and z', async () => {
        const c = claims();
        const cases = [
            ['2023-11-20T22:28:55Z', '2023-11-20T22:28:55.000Z'],
            ['2023-11-20t22:28:55.5z', '2023-11-20T22:28:55.500Z'],
            ['2023-11-20T22:28:55.111Z', '2023-11-20T22:28:55.111Z'],
            ['2023-11-20T20:28:55.9999-02:00', '2023-11-20T22:28:55.999Z'],
        ];
        for (const [input, want] of cases) {
            const cc = { ...c, sub: `${c.sub}-${want}` };
            const res = await signIn(gw, hs(cc), { timestamp: input });
            assert.equal(res.status, 202, `timestamp ${input}: 202 (got ${res.status} ${res.text})`);
            const ev = await forwarded(cc.sub, `timestamp ${input}`);
            assert.equal(ev.timestamp, want, `timestamp ${input} normalized to ${want}`);
        }
    });

    test('user_name falls back to preferred_username; empty name skipped; absent claims are absent', async () => {
        const a = claims({ preferred_username: 'pref.only' });
        const b = claims({ name: '', preferred_username: 'pref.after.empty', email: '', org_id: '' });
        const n = claims({});
        for (const c of [a, b, n]) {
            const res = await signIn(gw, hs(c));
            assert.equal(res.status, 202, `${c.sub}: 202 (got ${res.status} ${res.text})`);
        }
        const ea = await forwarded(a.sub, 'preferred_username only');
        assert.deepStrictEqual(ea.properties, { user_name: 'pref.only', message_id: signinEventId(ISS, a.sub, String(a.iat)) },
            'preferred_username only: user_name from preferred_username');
        assert.deepStrictEqual(ea.context, {}, 'preferred_username only: empty context');
        const eb = await forwarded(b.sub, 'empty name');
        assert.deepStrictEqual(eb.properties, { user_name: 'pref.after.empty', message_id: signinEventId(ISS, b.sub, String(b.iat)) },
            'empty name: falls back; empty email absent');
        assert.deepStrictEqual(eb.context, {}, 'empty org_id: group_id absent');
        const en = await forwarded(n.sub, 'no optional claims');
        assert.deepStrictEqual(en, {
            event_name: 'signed_in', user_id: n.sub, timestamp: isoFromS(n.iat),
            properties: { message_id: signinEventId(ISS, n.sub, String(n.iat)) }, context: {},
        }, 'no optional claims: only message_id in properties');
    });

    test('body properties are merged but never override email, user_name or message_id', async () => {
        const c = claims({ email: 'mia.berg@example.com', name: 'Mia Berg', org_id: 'org-m' });
        const id = signinEventId(ISS, c.sub, String(c.iat));
        registerSensitive('evil.override@example.net');
        const res = await signIn(gw, hs(c), {
            timestamp: '2024-02-29T23:59:59.001Z',
            properties: {
                plan: 'pro', seats: 3, trial: false, tags: ['a', 'b'], nested: { k: [1, 'x', true, null] },
                email: 'evil.override@example.net', user_name: 'Evil', message_id: 'forged-id',
            },
        });
        assertAccepted(res, id, 'merged properties');
        const ev = await forwarded(c.sub, 'merged properties');
        assert.deepStrictEqual(ev, {
            event_name: 'signed_in', user_id: c.sub, timestamp: '2024-02-29T23:59:59.001Z',
            properties: {
                email: 'mia.berg@example.com', user_name: 'Mia Berg', message_id: id,
                plan: 'pro', seats: 3, trial: false, tags: ['a', 'b'], nested: { k: [1, 'x', true, null] },
            },
            context: { group_id: 'org-m' },
        }, 'merged properties: token identity kept, other properties passed through');
    });

    test('body email/user_name are ignored when the token has none', async () => {
        const c = claims({});
        registerSensitive('body.only@example.net');
        const res = await signIn(gw, hs(c), { properties: { email: 'body.only@example.net', user_name: 'Body Name', x: 1 } });
        assert.equal(res.status, 202, `202 (got ${res.status} ${res.text})`);
        const ev = await forwarded(c.sub, 'body identity ignored');
        assert.deepStrictEqual(ev.properties, { x: 1, message_id: signinEventId(ISS, c.sub, String(c.iat)) },
            'identity from the token only: no email/user_name from the body');
    });

    test('scheme is case-insensitive; charset parameter allowed; aud array containing ours', async () => {
        const variants = [
            ['bearer', {}, {}],
            ['BEARER', {}, {}],
            ['Bearer', { 'content-type': 'application/json; charset=utf-8' }, {}],
            ['Bearer', {}, { aud: ['other-service', AUD] }],
            ['Bearer', {}, { iat: nowS() - 100, exp: nowS() - 20 }],
            ['Bearer', {}, { nbf: nowS() + 20 }],
        ];
        for (const [scheme, headers, over] of variants) {
            const c = claims(over);
            const tok = hs(c);
            const label = `scheme ${scheme} ${JSON.stringify(headers)} ${JSON.stringify(over)}`;
            const res = await gw.req('/v1/signed-in', {
                method: 'POST', headers: { authorization: `${scheme} ${tok}`, ...headers }, body: { timestamp: '2024-05-01T00:00:00Z' },
            });
            assert.equal(res.status, 202, `${label}: 202 (got ${res.status} ${res.text})`);
            await forwarded(c.sub, label);
        }
    });

    test('non-string name and org_id claims are skipped', async () => {
        const c = claims({ name: 123, preferred_username: 'pref.string', org_id: 42 });
        const res = await signIn(gw, hs(c));
        assert.equal(res.status, 202, `non-string claims: 202 (got ${res.status} ${res.text})`);
        const ev = await forwarded(c.sub, 'non-string claims');
        assert.deepStrictEqual(ev.properties, { user_name: 'pref.string', message_id: signinEventId(ISS, c.sub, String(c.iat)) },
            'numeric name skipped for the next name claim');
        assert.deepStrictEqual(ev.context, {}, 'numeric org_id: group_id absent');
    });

    // ------------------------------------------------------------ refusals

    test('alg none in any case is refused (alg_not_allowed)', async () => {
        await nothingForwarded(gw, async () => {
            for (const alg of ['none', 'None', 'NONE', 'nOnE']) {
                const tok = signJwt({ alg, typ: 'JWT' }, claims(), null);
                assertRefused(await signIn(gw, tok), 401, 'alg_not_allowed', `alg ${alg}`, { token: tok });
                const withSig = `${tok}${b64url(crypto.randomBytes(32))}`;
                assertRefused(await signIn(gw, withSig), 401, 'alg_not_allowed', `alg ${alg} with a signature`, { token: withSig });
                const kid = signJwt({ alg, typ: 'JWT', kid: 'hs-1' }, claims(), null);
                assertRefused(await signIn(gw, kid), 401, 'alg_not_allowed', `alg ${alg} kid hs-1`, { token: kid });
            }
        });
    });

    test('key confusion: HS256 keyed with the RSA public PEM (kid rs-1) is refused', async () => {
        const pem = keys.rsaPublicPem;
        assert.ok(pem.endsWith('\n'), 'PEM text ends with a newline');
        await nothingForwarded(gw, async () => {
            for (const [label, key] of [['PEM with trailing newline', pem], ['PEM without trailing newline', pem.trimEnd()]]) {
                const tok = signJwt({ alg: 'HS256', typ: 'JWT', kid: 'rs-1' }, claims(), key);
                assertRefused(await signIn(gw, tok), 401, 'alg_not_allowed', `HS256 kid rs-1, ${label}`, { token: tok });
            }
        }, rs);
    });

    test('a JWK alg member and the key type narrow the algs of that key', async () => {
        await nothingForwarded(gw, async () => {
            const ps = signJwt({ alg: 'PS256', typ: 'JWT', kid: 'rs-1' }, claims(), keys.rsa.privateKey);
            assertRefused(await signIn(gw, ps), 401, 'alg_not_allowed', 'PS256 with kid rs-1 (JWK alg RS256)', { token: ps });
            const esOnRsa = signJwt({ alg: 'ES256', typ: 'JWT', kid: 'rs-1' }, claims(), keys.ec.privateKey);
            assertRefused(await signIn(gw, esOnRsa), 401, 'alg_not_allowed', 'ES256 with kid rs-1', { token: esOnRsa });
            const rsOnEc = signJwt({ alg: 'RS256', typ: 'JWT', kid: 'ec-1' }, claims(), keys.rsa.privateKey);
            assertRefused(await signIn(gw, rsOnEc), 401, 'alg_not_allowed', 'RS256 with kid ec-1', { token: rsOnEc });
            const hsOnEc = signJwt({ alg: 'HS256', typ: 'JWT', kid: 'ec-1' }, claims(), keys.hsSecret);
            assertRefused(await signIn(gw, hsOnEc), 401, 'alg_not_allowed', 'HS256 with kid ec-1', { token: hsOnEc });
            const rsOnHs = signJwt({ alg: 'RS256', typ: 'JWT', kid: 'hs-1' }, claims(), keys.rsa.privateKey);
            assertRefused(await signIn(gw, rsOnHs), 401, 'alg_not_allowed', 'RS256 with kid hs-1', { token: rsOnHs });
        }, es);
    });

    test('expired token (exp beyond leeway) is refused (token_expired)', async () => {
        await nothingForwarded(gw, async () => {
            const tok = rs(claims({ iat: nowS() - 3600, exp: nowS() - 120 }));
            assertRefused(await signIn(gw, tok), 401, 'token_expired', 'expired RS256', { token: tok });
            const tok2 = hs(claims({ iat: nowS() - 7200, exp: nowS() - 3600 }));
            assertRefused(await signIn(gw, tok2), 401, 'token_expired', 'expired HS256', { token: tok2 });
        }, rs);
    });

    test('nbf or iat in the future (beyond leeway) is refused (token_not_yet_valid)', async () => {
        await nothingForwarded(gw, async () => {
            const tok = hs(claims({ nbf: nowS() + 600 }));
            assertRefused(await signIn(gw, tok), 401, 'token_not_yet_valid', 'nbf in the future', { token: tok });
            const tok2 = hs(claims({ iat: nowS() + 600 }));
            assertRefused(await signIn(gw, tok2), 401, 'token_not_yet_valid', 'iat in the future', { token: tok2 });
        });
    });

    test('wrong issuer is refused (wrong_issuer)', async () => {
        await nothingForwarded(gw, async () => {
            const tok = es(claims({ iss: 'https://evil.e2e.example/' }));
            assertRefused(await signIn(gw, tok), 401, 'wrong_issuer', 'wrong iss', { token: tok });
            const tok2 = es(claims({ iss: ISS.slice(0, -1) }));
            assertRefused(await signIn(gw, tok2), 401, 'wrong_issuer', 'iss without trailing slash', { token: tok2 });
        }, es);
    });

    test('wrong audience is refused (wrong_audience)', async () => {
        await nothingForwarded(gw, async () => {
            const tok = hs(claims({ aud: 'billing-service' }));
            assertRefused(await signIn(gw, tok), 401, 'wrong_audience', 'aud string of another service', { token: tok });
            const tok2 = hs(claims({ aud: ['billing-service', 'crm'] }));
            assertRefused(await signIn(gw, tok2), 401, 'wrong_audience', 'aud array without ours', { token: tok2 });
            const tok3 = hs(claims({ aud: undefined }));
            assertRefused(await signIn(gw, tok3), 401, ['wrong_audience', 'missing_claim'], 'aud missing', { token: tok3 });
        });
    });

    test('bad signatures are refused (bad_signature)', async () => {
        await nothingForwarded(gw, async () => {
            const r = tamperSignature(rs(claims()));
            assertRefused(await signIn(gw, r), 401, 'bad_signature', 'RS256 signature altered', { token: r });
            const e = tamperSignature(es(claims()));
            assertRefused(await signIn(gw, e), 401, 'bad_signature', 'ES256 signature altered', { token: e });
            const h = signJwt({ alg: 'HS256', typ: 'JWT', kid: 'hs-1' }, claims(), crypto.randomBytes(48).toString('base64url'));
            assertRefused(await signIn(gw, h), 401, 'bad_signature', 'HS256 with another secret', { token: h });
            const good = hs(claims());
            const [hh, , ss] = good.split('.');
            const forged = `${hh}.${b64url(JSON.stringify(claims({ sub: 'usr-mallory' })))}.${ss}`;
            assertRefused(await signIn(gw, forged), 401, 'bad_signature', 'HS256 payload edited', { token: forged });
            const otherEc = crypto.generateKeyPairSync('ec', { namedCurve: 'P-256' });
            const e2 = signJwt({ alg: 'ES256', typ: 'JWT', kid: 'ec-1' }, claims(), otherEc.privateKey);
            assertRefused(await signIn(gw, e2), 401, 'bad_signature', 'ES256 by another key', { token: e2 });
        }, rs);
    });

    test('jwk / jku / x5u headers are never used to find a key', async () => {
        const attacker = crypto.generateKeyPairSync('rsa', { modulusLength: 2048 });
        const jwk = attacker.publicKey.export({ format: 'jwk' });
        await nothingForwarded(gw, async () => {
            const embedded = signJwt({ alg: 'RS256', typ: 'JWT', jwk }, claims(), attacker.privateKey);
            assertRefused(await signIn(gw, embedded), 401, 'bad_signature', 'attacker key embedded as jwk, no kid', { token: embedded });
            const embeddedKid = signJwt({ alg: 'RS256', typ: 'JWT', kid: 'evil-1', jwk: { ...jwk, kid: 'evil-1' } }, claims(), attacker.privateKey);
            assertRefused(await signIn(gw, embeddedKid), 401, 'unknown_kid', 'attacker jwk with its own kid', { token: embeddedKid });
            const jku = signJwt({ alg: 'RS256', typ: 'JWT', kid: 'evil-2', jku: 'http://127.0.0.1:9/jwks.json' }, claims(), attacker.privateKey);
            assertRefused(await signIn(gw, jku), 401, 'unknown_kid', 'jku pointing elsewhere', { token: jku });
            const x5u = signJwt({ alg: 'RS256', typ: 'JWT', kid: 'rs-1', x5u: 'http://127.0.0.1:9/cert.pem' }, claims(), attacker.privateKey);
            assertRefused(await signIn(gw, x5u), 401, 'bad_signature', 'x5u with the kid of a real key', { token: x5u });
        }, rs);
    });

    test('unknown kid is refused (unknown_kid)', async () => {
        await nothingForwarded(gw, async () => {
            const tok = rs(claims(), { kid: 'rs-404' });
            assertRefused(await signIn(gw, tok), 401, 'unknown_kid', 'kid rs-404', { token: tok });
            const tok2 = hs(claims(), { kid: 'HS-1' });
            assertRefused(await signIn(gw, tok2), 401, 'unknown_kid', 'kid differing in case', { token: tok2 });
        });
    });

    test('malformed tokens are refused (malformed_token)', async () => {
        const c = claims();
        const validHeader = b64url(JSON.stringify({ alg: 'HS256', typ: 'JWT', kid: 'hs-1' }));
        const shapes = [
            ['one part', 'abcdef'],
            ['two parts', 'eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJ4In0'],
            ['four parts', `${hs(c)}.extra`],
            ['only dots', '..'],
            ['not base64url', '!!!.###.$$$'],
            ['header not JSON', `${b64url('not json')}.${b64url(JSON.stringify(c))}.${b64url('sig')}`],
            ['header a JSON array', `${b64url('[1,2]')}.${b64url(JSON.stringify(c))}.${b64url('sig')}`],
            ['payload not JSON (valid HMAC)', signJwt({ alg: 'HS256', typ: 'JWT', kid: 'hs-1' }, null, keys.hsSecret,
                { rawHeader: validHeader, rawClaims: b64url('{"sub":') })],
        ];
        await nothingForwarded(gw, async () => {
            for (const [label, tok] of shapes) {
                assertRefused(await signIn(gw, tok), 401, 'malformed_token', `malformed: ${label}`);
            }
        });
    });

    test('missing Authorization, empty bearer and non-Bearer schemes are refused', async () => {
        await nothingForwarded(gw, async () => {
            assertRefused(await signIn(gw, undefined, { timestamp: '2024-05-01T00:00:00Z' }), 401, 'missing_token', 'no Authorization');
            const tok = hs(claims());
            const basic = await gw.req('/v1/signed-in', { method: 'POST', headers: { authorization: `Basic ${Buffer.from('u:p').toString('base64')}` } });
            assertRefused(basic, 401, ['missing_token', 'malformed_token'], 'Basic scheme');
            const other = await gw.req('/v1/signed-in', { method: 'POST', headers: { authorization: `Token ${tok}` } });
            assertRefused(other, 401, ['missing_token', 'malformed_token'], 'Token scheme carrying a valid JWT', { token: tok });
            const bare = await gw.req('/v1/signed-in', { method: 'POST', headers: { authorization: tok } });
            assertRefused(bare, 401, ['missing_token', 'malformed_token'], 'JWT without a scheme', { token: tok });
            const empty = await gw.req('/v1/signed-in', { method: 'POST', headers: { authorization: 'Bearer ' } });
            assertRefused(empty, 401, ['missing_token', 'malformed_token'], 'Bearer with no token');
        });
    });

    test('exp or sub missing is refused (missing_claim naming the claim)', async () => {
        await nothingForwarded(gw, async () => {
            const noExp = rs(claims({ exp: undefined }));
            assertRefused(await signIn(gw, noExp), 401, 'missing_claim', 'exp missing', { field: 'exp', token: noExp });
            const noSub = rs(claims({ sub: undefined }));
            assertRefused(await signIn(gw, noSub), 401, 'missing_claim', 'sub missing', { field: 'sub', token: noSub });
            const emptySub = rs(claims({ sub: '' }));
            assertRefused(await signIn(gw, emptySub), 401, 'missing_claim', 'sub empty', { field: 'sub', token: emptySub });
        }, rs);
    });

    test('a backend service token is refused on /v1/signed-in', async () => {
        await nothingForwarded(gw, async () => {
            const tok = signJwt({ alg: 'HS256', typ: 'JWT' }, { sub: 'svc-billing', iat: nowS(), exp: nowS() + 300 }, backend.secret);
            const res = await signIn(gw, tok);
            assert.equal(res.status, 401, `backend token: 401 (got ${res.status} ${res.text})`);
            assertRefused(res, 401, res.json?.error, 'backend token', { token: tok });
        });
    });

    test('bad body with a valid token: unknown field, invalid timestamp, invalid JSON', async () => {
        await nothingForwarded(gw, async () => {
            const tok = hs(claims());
            assertRefused(await signIn(gw, tok, { timestamp: '2024-05-01T00:00:00Z', user_id: 'x' }), 400, 'unknown_field', 'unknown top-level member',
                { field: 'user_id', token: tok });
            const ts = await signIn(gw, tok, { timestamp: '2024-05-01T00:00:00' });
            assertRefused(ts, 400, 'invalid_timestamp', 'timestamp without offset', { field: 'timestamp', token: tok });
            assert.equal(ts.json.value, '2024-05-01T00:00:00', 'invalid_timestamp names the value');
            assert.equal(ts.json.example, '2024-05-01T12:34:56.789Z', 'invalid_timestamp gives the example');
            assertRefused(await signIn(gw, tok, '{"timestamp":', { 'content-type': 'application/json' }), 400, 'invalid_json', 'truncated JSON');
            assertRefused(await signIn(gw, tok, [{ timestamp: '2024-05-01T00:00:00Z' }]), 400, 'invalid_body', 'array body');
        });
    });

    test('invalid body timestamps: 400 invalid_timestamp with the value cut at 64 bytes', async () => {
        const long = `2024-05-01T12:34:56.${'1'.repeat(40)}Zjunk${'x'.repeat(60)}`;
        const bad = ['2024-02-30T00:00:00Z', '2023-02-29T00:00:00Z', '2024-05-01T24:00:00Z', '2024-05-01T23:59:60Z',
            '2024-13-01T00:00:00Z', '2024-05-01', '2024-05-01T12:34:56.789Z ', '2024-05-01 12:34:56Z',
            '20-11-23T22:28:55.111Z', '', 'yesterday', '2024-05-01T12:34:56.789+2:00', long];
        await nothingForwarded(gw, async () => {
            for (const ts of bad) {
                const tok = hs(claims());
                const res = await signIn(gw, tok, { timestamp: ts });
                assertRefused(res, 400, 'invalid_timestamp', `timestamp ${JSON.stringify(ts)}`, { field: 'timestamp', token: tok });
                const want = Buffer.from(ts).subarray(0, 64).toString();
                assert.equal(res.json.value, want, `timestamp ${JSON.stringify(ts).slice(0, 40)}: value (cut at 64 bytes)`);
                assert.equal(res.json.example, '2024-05-01T12:34:56.789Z', `timestamp ${JSON.stringify(ts).slice(0, 40)}: example`);
            }
        });
    });

    test('teardown: signin gateway exits 0 with clean logs', async () => {
        await stopAndCheck(gw);
    });
});

describe('gateway holding only an RSA public key PEM (pem-1)', () => {
    let gw;
    before(async () => {
        gw = await startGateway({
            name: 'pem-only',
            env: {
                GW_AUTH_PEM_FILE: keys.files.rsaPublicPem,
                GW_AUTH_PEM_KID: 'pem-1',
                GW_AUTH_ISS: ISS,
                GW_AUTH_AUD: AUD,
                GW_BACKEND_HS_SECRET_FILE: backend.file,
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
    });
    const rsPem = (c, h = {}) => signJwt({ alg: 'RS256', typ: 'JWT', kid: 'pem-1', ...h }, c, keys.rsa.privateKey);

    test('RS256 with kid pem-1 and without kid are accepted', async () => {
        const a = claims({ name: 'Pem User' });
        assertAccepted(await signIn(gw, rsPem(a)), signinEventId(ISS, a.sub, String(a.iat)), 'RS256 kid pem-1');
        const b = claims();
        const nokid = signJwt({ alg: 'RS256', typ: 'JWT' }, b, keys.rsa.privateKey);
        assertAccepted(await signIn(gw, nokid), signinEventId(ISS, b.sub, String(b.iat)), 'RS256 without kid');
        await forwarded(a.sub, 'RS256 kid pem-1');
        await forwarded(b.sub, 'RS256 without kid');
    });

    test('key confusion: HS256 keyed with the PEM text is refused, with and without kid', async () => {
        const pem = keys.rsaPublicPem;
        await nothingForwarded(gw, async () => {
            for (const [label, key] of [['with trailing newline', pem], ['without trailing newline', pem.trimEnd()]]) {
                const k = signJwt({ alg: 'HS256', typ: 'JWT', kid: 'pem-1' }, claims(), key);
                assertRefused(await signIn(gw, k), 401, 'alg_not_allowed', `HS256 kid pem-1, PEM ${label}`, { token: k });
                const nk = signJwt({ alg: 'HS256', typ: 'JWT' }, claims(), key);
                assertRefused(await signIn(gw, nk), 401, 'alg_not_allowed', `HS256 no kid, PEM ${label}`, { token: nk });
                const h384 = signJwt({ alg: 'HS384', typ: 'JWT' }, claims(), key);
                assertRefused(await signIn(gw, h384), 401, 'alg_not_allowed', `HS384 no kid, PEM ${label}`, { token: h384 });
            }
        }, rsPem);
    });

    test('PS256 by the same RSA key is accepted (a PEM has no alg member)', async () => {
        const c = claims();
        const tok = signJwt({ alg: 'PS256', typ: 'JWT', kid: 'pem-1' }, c, keys.rsa.privateKey);
        assertAccepted(await signIn(gw, tok), signinEventId(ISS, c.sub, String(c.iat)), 'PS256 kid pem-1');
        await forwarded(c.sub, 'PS256 kid pem-1');
    });

    test('teardown: pem-only gateway exits 0 with clean logs', async () => {
        await stopAndCheck(gw);
    });
});

describe('HS secret file with one trailing newline', () => {
    let gw;
    before(async () => {
        gw = await startGateway({
            name: 'hs-newline',
            env: {
                GW_AUTH_HS_SECRET_FILE: keys.files.hsSecretNl,
                GW_AUTH_ISS: ISS,
                GW_AUTH_AUD: AUD,
                GW_AUTH_ALGS: 'HS256',
                GW_BACKEND_HS_SECRET_FILE: backend.file,
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
    });
    const hsPlain = (c) => signJwt({ alg: 'HS256', typ: 'JWT' }, c, keys.hsSecret);

    test('the newline is stripped: the bare secret verifies, secret+newline does not', async () => {
        const c = claims();
        assertAccepted(await signIn(gw, hsPlain(c)), signinEventId(ISS, c.sub, String(c.iat)), 'bare secret');
        await forwarded(c.sub, 'bare secret');
        await nothingForwarded(gw, async () => {
            const nl = signJwt({ alg: 'HS256', typ: 'JWT' }, claims(), `${keys.hsSecret}\n`);
            assertRefused(await signIn(gw, nl), 401, 'bad_signature', 'secret with newline', { token: nl });
        }, hsPlain);
    });

    test('auth.algs=HS256 refuses HS384 and RS256', async () => {
        await nothingForwarded(gw, async () => {
            const h384 = signJwt({ alg: 'HS384', typ: 'JWT' }, claims(), keys.hsSecret);
            assertRefused(await signIn(gw, h384), 401, 'alg_not_allowed', 'HS384 outside auth.algs', { token: h384 });
            const r = signJwt({ alg: 'RS256', typ: 'JWT' }, claims(), keys.rsa.privateKey);
            assertRefused(await signIn(gw, r), 401, 'alg_not_allowed', 'RS256 outside auth.algs', { token: r });
        }, hsPlain);
    });

    test('teardown: hs-newline gateway exits 0 with clean logs', async () => {
        await stopAndCheck(gw);
    });
});
