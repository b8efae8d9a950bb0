// Every identity-provider fixture row (tests/fixtures/idp/<provider>),
// re-signed for now with sign.mjs, sent with its exact method, headers and
// body to /v1/webhooks/<provider> of the real binary, with a real upstream:
// exact events out, ignored rows answered 2xx and counted, rejected rows
// with their status and nothing forwarded.
import { describe, test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import {
    startGateway, startUpstream, stopAndCheck, makeTempDir, registerSensitive, sleep, SLOW,
} from './lib/harness.mjs';
import {
    PROVIDERS, PROPERTY_KEYS, CONTEXT_KEYS, resignNow, readJson, readCase, gatewayEnv,
    registerFixtureSensitive, oracleView,
} from './lib/webhooks.mjs';

const API_KEY = `up-key-${crypto.randomBytes(16).toString('hex')}`;
registerSensitive(API_KEY);

let dir;
let up;
let gw;
const tally = { accepted: 0, ignored: 0, ignoredItems: 0, rejected: 0, events: 0 };

before(async () => {
    dir = makeTempDir('idp-now');
    await resignNow(dir);
    registerFixtureSensitive(dir);
    up = await startUpstream();
    gw = await startGateway({
        name: 'webhooks',
        env: {
            ...gatewayEnv(dir, makeTempDir('secrets')),
            GW_UPSTREAM_URL: up.url,
            GW_UPSTREAM_API_KEY: API_KEY,
            GW_UPSTREAM_BATCH_MS: '10',
            GW_LOG_LEVEL: 'debug',
        },
    });
});

after(async () => {
    if (gw && !gw.exitInfo()) {
        await gw.stop();
    }
    await up?.close();
});

function checkDocumentedOnly(name, ev) {
    for (const k of Object.keys(ev.properties)) {
        assert.ok(PROPERTY_KEYS.has(k), `${name}: properties.${k} is a documented field`);
    }
    for (const k of Object.keys(ev.context)) {
        assert.ok(CONTEXT_KEYS.has(k), `${name}: context.${k} is a documented field`);
    }
    assert.deepEqual(Object.keys(ev), ['event_name', 'user_id', 'timestamp', 'properties', 'context'],
        `${name}: event keys in the schema's order`);
}

async function runCase(provider, k) {
    const before = up.allEvents().length;
    const res = await gw.req(`/v1/webhooks/${provider}`, {
        method: k.method, headers: k.headers, body: k.body.length ? k.body : undefined,
    });
    const e = k.expected;
    if ('reject' in e) {
        tally.rejected++;
        assert.equal(res.status, e.reject, `${k.name}: status ${e.reject} (${e.reason}); got ${res.status} ${res.text}`);
        assert.equal(typeof res.json?.error, 'string', `${k.name}: JSON error body`);
        await sleep(150 * SLOW);
        assert.equal(up.allEvents().length, before, `${k.name}: nothing forwarded`);
        return;
    }
    assert.equal(res.status, 200, `${k.name}: 200 (got ${res.status} ${res.text})`);
    if (k.response !== undefined) {
        assert.deepStrictEqual(res.json, k.response, `${k.name}: the answer the provider expects`);
    }
    if (e.ignored) {
        tally.ignored++;
        // A POST that is not a redelivery holds one element the provider
        // unit ignored; the GET and the redelivery hold none.
        if (k.method === 'POST' && !/^duplicate/.test(e.reason)) {
            tally.ignoredItems++;
        }
        if (k.method === 'POST' && k.response === undefined) {
            assert.ok(res.json.ignored + res.json.duplicates >= 1,
                `${k.name}: counted as ignored or duplicate (${res.text})`);
        }
        await sleep(150 * SLOW);
        assert.equal(up.allEvents().length, before, `${k.name}: ignored row emits nothing`);
        return;
    }
    tally.accepted++;
    const want = Array.isArray(e) ? e : [e];
    tally.events += want.length;
    await up.waitFor(() => up.allEvents().length >= before + want.length, 10000 * SLOW,
        `${k.name}: ${want.length} event(s) upstream`);
    await sleep(30);
    const got = up.allEvents().slice(before);
    assert.equal(got.length, want.length, `${k.name}: exactly ${want.length} event(s)`);
    for (let i = 0; i < want.length; i++) {
        assert.deepStrictEqual(oracleView(got[i]), want[i], `${k.name}: event ${i} matches the oracle`);
        checkDocumentedOnly(`${k.name}[${i}]`, got[i]);
        assert.equal(typeof got[i].properties.message_id, 'string', `${k.name}: event id set`);
        if (res.json?.event_ids) {
            assert.equal(got[i].properties.message_id, res.json.event_ids[i], `${k.name}: id answered`);
        }
    }
}

describe('identity-provider fixtures on /v1/webhooks/<provider>', () => {
    test('the re-signed copy holds every provider and every case file', () => {
        for (const p of PROVIDERS) {
            const m = readJson(path.join(dir, p, 'manifest.json'));
            assert.ok(m.cases.length >= 6, `${p}: manifest lists its cases`);
            for (const c of m.cases) {
                for (const ext of ['body', 'headers', 'expected.json']) {
                    assert.ok(fs.existsSync(path.join(dir, p, `${c.name}.${ext}`)), `${p}/${c.name}.${ext}`);
                }
            }
        }
    });

    for (const p of PROVIDERS) {
        test(`${p}: every row, in file order on one gateway`, async () => {
            const m = readJson(path.join(dir, p, 'manifest.json'));
            for (const c of m.cases) {
                await runCase(p, readCase(dir, p, c));
            }
        });
    }

    test('redelivered clerk message: the same id, forwarded at most once', async () => {
        const events = up.allEvents().filter((e) => e.user_id === 'user_2fHedyLamarr3Fx7Ks1Nw8Ye');
        assert.equal(events.length, 1, 'the second delivery of one svix-id is not forwarded again');
        assert.equal(events[0].properties.message_id, 'msg_jyJ6SpNADv7BABgGRuegkacyqGI',
            'the event id is the svix-id');
    });

    test('the whole run: only accepted rows reached the upstream; ignored ones were counted', async () => {
        await sleep(200 * SLOW);
        assert.equal(up.allEvents().length, tally.events, `${tally.events} events forwarded in all`);
        const metrics = await gw.req('/metrics');
        const ignored = [...metrics.text.matchAll(
            /signin_gateway_webhook_items_total\{[^}]*outcome="ignored"[^}]*\} (\d+)/g)]
            .reduce((n, m) => n + Number(m[1]), 0);
        assert.equal(ignored, tally.ignoredItems, 'every ignored element counted, once');
        assert.ok(tally.rejected > 20 && tally.accepted > 25, 'the rows ran');
    });

    test('teardown: the gateway exits 0 with clean logs', async () => {
        await stopAndCheck(gw);
    });
});
