// JSONTestSuite against POST /v1/track: every n_ file is 400 invalid_json,
// no y_ file is invalid_json, nothing is 5xx, and the gateway survives all of
// it (i_ files: any non-5xx answer).
import { describe, test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import {
    makeHsSecretFile, signJwt, startGateway, startUpstream, stopAndCheck, nowS, VECTORS_DIR, registerSensitive,
} from './lib/harness.mjs';

const SUITE_DIR = path.join(VECTORS_DIR, 'jsontestsuite');
const CONCURRENCY = 4;
const API_KEY = `up-key-${crypto.randomBytes(16).toString('hex')}`;
registerSensitive(API_KEY);

const files = fs.readdirSync(SUITE_DIR).filter((f) => f.endsWith('.json')).sort();
const byPrefix = (p) => files.filter((f) => f.startsWith(p));

let backend;
let up;
let gw;
let token;

/* Sends every file of the list with at most CONCURRENCY requests in flight
 * over the gateway's keep-alive agent; returns [{file, res|error}]. */
async function sendAll(list) {
    const out = new Array(list.length);
    let next = 0;
    async function worker() {
        while (next < list.length) {
            const i = next++;
            const body = fs.readFileSync(path.join(SUITE_DIR, list[i]));
            try {
                const res = await gw.req('/v1/track', {
                    method: 'POST',
                    headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
                    body,
                });
                out[i] = { file: list[i], res };
            } catch (e) {
                out[i] = { file: list[i], error: String(e) };
            }
        }
    }
    await Promise.all(Array.from({ length: CONCURRENCY }, worker));
    return out;
}

async function assertAlive(label) {
    const h = await gw.req('/healthz');
    assert.equal(h.status, 200, `${label}: gateway still answers /healthz`);
    assert.equal(gw.exitInfo(), null, `${label}: gateway process still running`);
}

before(async () => {
    assert.ok(files.length > 300, `JSONTestSuite present in ${SUITE_DIR}`);
    backend = makeHsSecretFile('backend');
    up = await startUpstream();
    gw = await startGateway({
        name: 'json-suite',
        env: {
            GW_BACKEND_HS_SECRET_FILE: backend.file,
            GW_UPSTREAM_URL: up.url,
            GW_UPSTREAM_API_KEY: API_KEY,
        },
    });
    token = signJwt({ alg: 'HS256', typ: 'JWT' }, { sub: 'svc-json', iat: nowS(), exp: nowS() + 3600 }, backend.secret);
});

after(async () => {
    if (gw && !gw.exitInfo()) {
        await gw.stop();
    }
    await up?.close();
});

describe('JSONTestSuite on /v1/track', () => {
    test('a valid event beside the suite is accepted', async () => {
        const res = await gw.req('/v1/track', {
            method: 'POST', headers: { authorization: `Bearer ${token}` }, body: [{ event: 'signed_in', user_id: 'json-ok' }],
        });
        assert.equal(res.status, 202, `valid event: 202 (got ${res.status} ${res.text})`);
    });

    test(`every n_ file (${byPrefix('n_').length}) is refused with 400 invalid_json`, { timeout: 300000 }, async () => {
        const results = await sendAll(byPrefix('n_'));
        const wrong = results.filter((r) => r.error || r.res.status !== 400 || r.res.json?.error !== 'invalid_json')
            .map((r) => `${r.file}: ${r.error ?? `${r.res.status} ${r.res.text.slice(0, 120)}`}`);
        assert.deepStrictEqual(wrong, [], 'n_ files: all 400 invalid_json');
        await assertAlive('after n_ files');
    });

    test(`no y_ file (${byPrefix('y_').length}) is invalid_json or 5xx`, { timeout: 300000 }, async () => {
        const results = await sendAll(byPrefix('y_'));
        const wrong = results.filter((r) => r.error || r.res.status >= 500 || r.res.json?.error === 'invalid_json'
            || typeof r.res.json !== 'object')
            .map((r) => `${r.file}: ${r.error ?? `${r.res.status} ${r.res.text.slice(0, 120)}`}`);
        assert.deepStrictEqual(wrong, [], 'y_ files: parsed (any non-5xx answer except invalid_json, JSON body)');
        await assertAlive('after y_ files');
    });

    test(`i_ files (${byPrefix('i_').length}) get a JSON answer below 500`, { timeout: 300000 }, async () => {
        const results = await sendAll(byPrefix('i_'));
        const wrong = results.filter((r) => r.error || r.res.status >= 500 || typeof r.res.json !== 'object')
            .map((r) => `${r.file}: ${r.error ?? `${r.res.status} ${r.res.text.slice(0, 120)}`}`);
        assert.deepStrictEqual(wrong, [], 'i_ files: no 5xx, no dropped connection');
        await assertAlive('after i_ files');
    });

    test('a valid event after the suite is still accepted and forwarded', async () => {
        const res = await gw.req('/v1/track', {
            method: 'POST', headers: { authorization: `Bearer ${token}` }, body: [{ event: 'signed_in', user_id: 'json-after' }],
        });
        assert.equal(res.status, 202, `valid event after the suite: 202 (got ${res.status} ${res.text})`);
        await up.waitForEvent((e) => e.user_id === 'json-after', undefined, 'json-after upstream');
    });

    test('teardown: json-suite gateway exits 0 with clean logs', async () => {
        await stopAndCheck(gw);
    });
});
