// The "generic" IdP fixtures (tests/fixtures/idp/generic) as the oracle of
// POST /v1/signed-in: re-signed for the current time with sign.mjs, sent with
// their exact headers and bodies, compared as the fixtures README says.
import { describe, test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import crypto from 'node:crypto';
import {
    startGateway, startUpstream, stopAndCheck, makeTempDir, registerToken, registerSensitive,
    sleep, FIXTURES_DIR, SLOW,
} from './lib/harness.mjs';

const IDP_DIR = path.join(FIXTURES_DIR, 'idp');
const API_KEY = `up-key-${crypto.randomBytes(16).toString('hex')}`;
registerSensitive(API_KEY);

let outDir;
let caseDir;
let manifest;
let up;
let gw;

function resign(out) {
    return new Promise((resolve, reject) => {
        execFile(process.execPath, [path.join(IDP_DIR, 'sign.mjs'), 'resign', '--now', '--out', out, 'generic'],
            { timeout: 30000 }, (err, stdout, stderr) => (err ? reject(new Error(`sign.mjs resign failed: ${stderr}`)) : resolve(stdout)));
    });
}

function readHeaders(name) {
    const text = fs.readFileSync(path.join(caseDir, `${name}.headers`), 'utf8');
    const headers = {};
    for (const line of text.split('\n')) {
        if (!line.trim()) {
            continue;
        }
        const i = line.indexOf(':');
        headers[line.slice(0, i).trim().toLowerCase()] = line.slice(i + 1).trim();
    }
    return headers;
}

/* The oracle's six fields, absent ones left out (absent must stay absent). */
function oracleView(ev) {
    const v = { event_name: ev.event_name, user_id: ev.user_id, timestamp: ev.timestamp, properties: {}, context: {} };
    for (const k of ['email', 'user_name']) {
        if (ev.properties && k in ev.properties) {
            v.properties[k] = ev.properties[k];
        }
    }
    if (ev.context && 'group_id' in ev.context) {
        v.context.group_id = ev.context.group_id;
    }
    return v;
}

before(async () => {
    outDir = makeTempDir('idp-now');
    await resign(outDir);
    caseDir = path.join(outDir, 'generic');
    manifest = JSON.parse(fs.readFileSync(path.join(caseDir, 'manifest.json'), 'utf8'));
    const secrets = JSON.parse(fs.readFileSync(path.join(caseDir, 'secrets.json'), 'utf8'));
    const secretFile = path.join(outDir, 'generic-hs256.secret');
    fs.writeFileSync(secretFile, secrets.hs256_secret);
    registerSensitive(secrets.hs256_secret);
    for (const c of manifest.cases) {
        const h = readHeaders(c.name);
        if (h.authorization) {
            registerToken(h.authorization.replace(/^Bearer\s+/i, ''));
        }
        const exp = JSON.parse(fs.readFileSync(path.join(caseDir, `${c.name}.expected.json`), 'utf8'));
        if (exp.properties?.email) {
            registerSensitive(exp.properties.email);
        }
    }
    up = await startUpstream();
    gw = await startGateway({
        name: 'generic',
        env: {
            GW_AUTH_HS_SECRET_FILE: secretFile,
            GW_AUTH_ISS: secrets.issuer,
            GW_AUTH_AUD: secrets.audience,
            GW_AUTH_ALGS: 'HS256',
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

describe('generic IdP fixtures on /v1/signed-in', () => {
    test('the re-signed copy holds every case of the manifest', () => {
        assert.ok(manifest.cases.length >= 10, 'generic manifest lists the cases');
        for (const c of manifest.cases) {
            for (const ext of ['body', 'headers', 'expected.json']) {
                assert.ok(fs.existsSync(path.join(caseDir, `${c.name}.${ext}`)), `${c.name}.${ext} present`);
            }
        }
    });

    test('every case: accepted cases emit exactly the oracle event, rejects their status and nothing', async () => {
        // Cases are independent; run in file order on one instance (README).
        for (const c of manifest.cases) {
            const body = fs.readFileSync(path.join(caseDir, `${c.name}.body`));
            const headers = readHeaders(c.name);
            const expected = JSON.parse(fs.readFileSync(path.join(caseDir, `${c.name}.expected.json`), 'utf8'));
            const before = up.allEvents().length;
            const res = await gw.req('/v1/signed-in', { method: 'POST', headers, body: body.length ? body : undefined });
            if ('reject' in expected) {
                assert.equal(res.status, expected.reject, `${c.name}: status ${expected.reject} (${expected.reason}); got ${res.status} ${res.text}`);
                if (expected.reject === 401) {
                    assert.match(res.headers['www-authenticate'] || '', /^Bearer\b/i, `${c.name}: WWW-Authenticate: Bearer`);
                }
                assert.equal(typeof res.json?.error, 'string', `${c.name}: JSON error body`);
                // An accepted case follows; give a wrongly accepted event the
                // same time to show up as an accepted one needs.
                await sleep(150 * SLOW);
                assert.equal(up.allEvents().length, before, `${c.name}: nothing forwarded`);
                continue;
            }
            if (expected.ignored) {
                assert.ok(res.status >= 200 && res.status < 300, `${c.name}: ignored case answered 2xx (got ${res.status})`);
                await sleep(150 * SLOW);
                assert.equal(up.allEvents().length, before, `${c.name}: ignored case emits nothing`);
                continue;
            }
            const want = Array.isArray(expected) ? expected : [expected];
            assert.equal(res.status, 202, `${c.name}: 202 (got ${res.status} ${res.text})`);
            await up.waitFor(() => up.allEvents().length >= before + want.length, 10000 * SLOW, `${c.name}: event upstream`);
            await sleep(30);
            const got = up.allEvents().slice(before);
            assert.equal(got.length, want.length, `${c.name}: exactly ${want.length} event(s) emitted`);
            for (let i = 0; i < want.length; i++) {
                assert.deepStrictEqual(oracleView(got[i]), want[i], `${c.name}: event ${i} matches the oracle (absent keys absent)`);
                assert.equal(got[i].properties.message_id, res.json?.event_id, `${c.name}: message_id equals the 202 event_id`);
            }
        }
        await sleep(200 * SLOW);
        const accepted = manifest.cases.filter((c) => {
            const e = JSON.parse(fs.readFileSync(path.join(caseDir, `${c.name}.expected.json`), 'utf8'));
            return !('reject' in e) && !e.ignored;
        }).length;
        assert.equal(up.allEvents().length, accepted, `only the ${accepted} accepted cases were forwarded`);
    });

    test('teardown: generic gateway exits 0 with clean logs', async () => {
        await stopAndCheck(gw);
    });
});
