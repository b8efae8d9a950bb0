// The embedded default: no keys and no upstream configured. Development keys
// appear under <data.dir>/dev-keys, `mint-token` signs with them, and events
// are appended to <data.dir>/events.ndjson.
import { describe, test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import {
    startGateway, stopAndCheck, runBin, makeTempDir, decodeJwt, registerToken, registerSensitive,
    signinEventId, isoFromS, waitFor, SLOW,
} from './lib/harness.mjs';

const DEV_ISS = 'signin-gateway-dev';
const DEV_AUD = 'signin-gateway-dev';
const EVENT_KEYS = ['event_name', 'user_id', 'timestamp', 'properties', 'context'];

let dataDir;
let gw;

async function mint(args, label) {
    const r = await runBin(['mint-token', '--data-dir', dataDir, ...args]);
    assert.equal(r.code, 0, `${label}: mint-token exits 0 (stderr ${r.stderr.slice(0, 300)})`);
    const token = r.stdout.trim();
    assert.match(token, /^[\w-]+\.[\w-]+\.[\w-]+$/, `${label}: mint-token prints one compact JWS`);
    registerToken(token);
    return token;
}

function ndjsonLines() {
    const f = path.join(dataDir, 'events.ndjson');
    if (!fs.existsSync(f)) {
        return [];
    }
    const text = fs.readFileSync(f, 'utf8');
    return text.split('\n').filter((l) => l.length > 0);
}

async function waitLines(n, label) {
    await waitFor(() => ndjsonLines().length >= n, 10000 * SLOW, `${label}: ${n} line(s) in events.ndjson`);
    const lines = ndjsonLines();
    assert.equal(lines.length, n, `${label}: exactly ${n} line(s) in events.ndjson`);
    const text = fs.readFileSync(path.join(dataDir, 'events.ndjson'), 'utf8');
    assert.ok(text.endsWith('\n'), `${label}: every line ends with a newline`);
    return lines;
}

function parseLine(line, label) {
    let ev;
    assert.doesNotThrow(() => {
        ev = JSON.parse(line);
    }, `${label}: line is JSON`);
    assert.deepStrictEqual(Object.keys(ev), EVENT_KEYS, `${label}: event keys in spec order`);
    return ev;
}

before(async () => {
    dataDir = makeTempDir('devdata');
    gw = await startGateway({ name: 'dev-default', env: { GW_DATA_DIR: dataDir }, dataDir });
});

after(async () => {
    if (gw && !gw.exitInfo()) {
        await gw.stop();
    }
});

describe('development default with file output', () => {
    test('development keys are created under <data.dir>/dev-keys and a warn line says so', async () => {
        const dk = path.join(dataDir, 'dev-keys');
        for (const f of ['hs256.secret', 'rsa-private.pem', 'rsa-public.pem', 'jwks.json', 'backend-hs256.secret']) {
            assert.ok(fs.existsSync(path.join(dk, f)), `dev-keys/${f} exists`);
        }
        const hs = fs.readFileSync(path.join(dk, 'hs256.secret'), 'utf8').trim();
        const bk = fs.readFileSync(path.join(dk, 'backend-hs256.secret'), 'utf8').trim();
        assert.ok(hs.length >= 16 && bk.length >= 16, 'dev secrets are not trivially short');
        assert.notEqual(hs, bk, 'users and backend dev secrets differ');
        registerSensitive(hs, bk);
        const priv = fs.readFileSync(path.join(dk, 'rsa-private.pem'), 'utf8');
        const body = priv.split('\n').filter((l) => l && !l.startsWith('-----')).join('');
        registerSensitive(body.slice(100, 164));
        const jwks = JSON.parse(fs.readFileSync(path.join(dk, 'jwks.json'), 'utf8'));
        assert.ok(jwks.keys.some((k) => k.kid === 'dev-rs256' && k.kty === 'RSA'), 'jwks.json holds kid dev-rs256');
        assert.ok(jwks.keys.every((k) => !('d' in k)), 'jwks.json holds no private member');
        const warn = gw.logs().filter((o) => o.level === 'warn' && /dev/i.test(JSON.stringify(o)));
        assert.ok(warn.length >= 1, 'a warn line says development keys are in use');
    });

    test('mint-token HS256 user token: POST /v1/signed-in writes exactly the expected event line', async () => {
        const token = await mint(['--sub', 'u-1', '--email', 'a@example.com', '--name', 'A B', '--org', 'o-1'], 'HS256 user');
        registerSensitive('a@example.com');
        const { header, claims } = decodeJwt(token);
        assert.equal(header.alg, 'HS256', 'minted token alg HS256 by default');
        assert.equal(claims.iss, DEV_ISS, 'minted token iss');
        const aud = Array.isArray(claims.aud) ? claims.aud : [claims.aud];
        assert.ok(aud.includes(DEV_AUD), 'minted token aud');
        assert.equal(claims.sub, 'u-1', 'minted token sub');
        assert.ok(Number.isInteger(claims.exp), 'minted token has exp');
        const res = await gw.req('/v1/signed-in', { method: 'POST', headers: { authorization: `Bearer ${token}` } });
        assert.equal(res.status, 202, `dev token: 202 (got ${res.status} ${res.text})`);
        const id = signinEventId(DEV_ISS, 'u-1', claims.jti ?? String(claims.iat));
        assert.deepStrictEqual(res.json, { status: 'accepted', event_id: id }, 'dev token: answer body');
        const [line] = await waitLines(1, 'first sign-in');
        const ev = parseLine(line, 'first sign-in');
        assert.deepStrictEqual(ev, {
            event_name: 'signed_in',
            user_id: 'u-1',
            timestamp: isoFromS(claims.iat),
            properties: { email: 'a@example.com', user_name: 'A B', message_id: id },
            context: { group_id: 'o-1' },
        }, 'first sign-in: exact event line');
    });

    test('mint-token --alg RS256 user token is accepted and appended', async () => {
        const token = await mint(['--alg', 'RS256', '--sub', 'u-2', '--email', 'b@example.org', '--name', 'B C', '--org', 'o-2'], 'RS256 user');
        registerSensitive('b@example.org');
        const { header, claims } = decodeJwt(token);
        assert.equal(header.alg, 'RS256', 'minted token alg RS256');
        assert.equal(header.kid, 'dev-rs256', 'minted RS256 token kid dev-rs256');
        const res = await gw.req('/v1/signed-in', {
            method: 'POST', headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
            body: { timestamp: '2024-05-01T12:34:56.789Z' },
        });
        assert.equal(res.status, 202, `RS256 dev token: 202 (got ${res.status} ${res.text})`);
        const id = signinEventId(DEV_ISS, 'u-2', claims.jti ?? String(claims.iat));
        const lines = await waitLines(2, 'RS256 sign-in');
        assert.deepStrictEqual(parseLine(lines[1], 'RS256 sign-in'), {
            event_name: 'signed_in', user_id: 'u-2', timestamp: '2024-05-01T12:34:56.789Z',
            properties: { email: 'b@example.org', user_name: 'B C', message_id: id }, context: { group_id: 'o-2' },
        }, 'RS256 sign-in: exact event line');
    });

    test('a --backend token works on /v1/track; the user dev token does not', async () => {
        const svc = await mint(['--backend', '--sub', 'svc-dev'], 'backend');
        const user = await mint(['--sub', 'u-3'], 'user for track');
        const body = [{ event: 'signed_in', user_id: 'u-track', timestamp: '2024-05-01T00:00:00Z', properties: { User_name: 'T R' } }];
        const refused = await gw.req('/v1/track', { method: 'POST', headers: { authorization: `Bearer ${user}` }, body });
        assert.equal(refused.status, 401, `user dev token on /v1/track: 401 (got ${refused.status} ${refused.text})`);
        const res = await gw.req('/v1/track', { method: 'POST', headers: { authorization: `Bearer ${svc}` }, body });
        assert.equal(res.status, 202, `backend dev token on /v1/track: 202 (got ${res.status} ${res.text})`);
        const lines = await waitLines(3, 'track event');
        assert.deepStrictEqual(parseLine(lines[2], 'track event'), {
            event_name: 'signed_in', user_id: 'u-track', timestamp: '2024-05-01T00:00:00.000Z',
            properties: { user_name: 'T R', message_id: res.json.event_ids[0] }, context: {},
        }, 'track event: exact line');
        const svcOnSignin = await gw.req('/v1/signed-in', { method: 'POST', headers: { authorization: `Bearer ${svc}` } });
        assert.equal(svcOnSignin.status, 401, `backend dev token on /v1/signed-in: 401 (got ${svcOnSignin.status})`);
        assert.equal(ndjsonLines().length, 3, 'refused requests appended nothing');
    });

    test('teardown: dev gateway exits 0 with clean logs', async () => {
        await stopAndCheck(gw);
    });

    test('a restart reuses the development keys: an earlier token still verifies', async () => {
        const token = await mint(['--sub', 'u-4'], 'before restart');
        const before = fs.readFileSync(path.join(dataDir, 'dev-keys', 'hs256.secret'));
        const gw2 = await startGateway({ name: 'dev-restart', env: { GW_DATA_DIR: dataDir }, dataDir });
        try {
            assert.ok(before.equals(fs.readFileSync(path.join(dataDir, 'dev-keys', 'hs256.secret'))), 'hs256.secret unchanged');
            const res = await gw2.req('/v1/signed-in', { method: 'POST', headers: { authorization: `Bearer ${token}` } });
            assert.equal(res.status, 202, `token minted before the restart: 202 (got ${res.status} ${res.text})`);
            await waitLines(4, 'after restart');
        } finally {
            await stopAndCheck(gw2);
        }
    });
});
