// Delivery to the Track API: auth header, body shape, batching, retries
// (503, 429 with Retry-After, 401), refused 4xx batches, spool_full, and the
// flush on SIGTERM. Each scenario has its own gateway and upstream.
import { describe, test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import {
    makeHsSecretFile, signJwt, startGateway, startUpstream, stopAndCheck, assertLogHygiene,
    nowS, sleep, waitFor, registerSensitive, signinEventId, makeTempDir, SLOW,
} from './lib/harness.mjs';

const ISS = 'https://idp.e2e.example/';
const AUD = 'signin-gateway-e2e';
const API_KEY = `up-key-${crypto.randomBytes(16).toString('hex')}`;
registerSensitive(API_KEY);

let users;
let seq = 0;

function newClaims(prefix = 'usr') {
    seq += 1;
    return { iss: ISS, aud: AUD, sub: `${prefix}-${seq}-${crypto.randomBytes(3).toString('hex')}`, iat: nowS() - 5, exp: nowS() + 600 };
}

/* Signs in once; returns the sub and the event id after checking the 202. */
async function signIn(gw, prefix = 'usr') {
    const c = newClaims(prefix);
    const tok = signJwt({ alg: 'HS256', typ: 'JWT' }, c, users.secret);
    const res = await gw.req('/v1/signed-in', { method: 'POST', headers: { authorization: `Bearer ${tok}` } });
    assert.equal(res.status, 202, `sign-in ${c.sub}: 202 (got ${res.status} ${res.text})`);
    assert.equal(res.json.event_id, signinEventId(ISS, c.sub, String(c.iat)), `sign-in ${c.sub}: event id`);
    return { sub: c.sub, id: res.json.event_id };
}

function gatewayEnv(up, extra = {}) {
    return {
        GW_AUTH_HS_SECRET_FILE: users.file,
        GW_AUTH_ISS: ISS,
        GW_AUTH_AUD: AUD,
        GW_UPSTREAM_URL: up.url,
        GW_UPSTREAM_API_KEY: API_KEY,
        ...extra,
    };
}

const count = (list, sub) => list.filter((e) => e.user_id === sub).length;

before(() => {
    users = makeHsSecretFile('users');
});

describe('upstream delivery', () => {
    const cleanup = [];
    after(async () => {
        for (const fn of cleanup.reverse()) {
            await fn().catch(() => {});
        }
    });
    async function scenario(name, behaviour, env = {}) {
        const up = await startUpstream(behaviour);
        cleanup.push(() => up.close());
        const gw = await startGateway({ name, env: gatewayEnv(up, env) });
        cleanup.push(async () => {
            if (!gw.exitInfo()) {
                await gw.stop();
            }
        });
        return { up, gw };
    }

    test('default auth header is x-api-key; POST of a JSON array with Content-Type application/json over keep-alive', async () => {
        const { up, gw } = await scenario('x-api-key');
        const a = await signIn(gw);
        await up.waitForEvents(1);
        const b = await signIn(gw);
        await up.waitForEvents(2);
        const [r0, r1] = up.requests;
        assert.equal(r0.method, 'POST', 'upstream request is a POST');
        assert.equal(r0.path, '/v1/track', 'upstream request goes to the configured path');
        assert.equal(r0.headers['x-api-key'], API_KEY, 'x-api-key carries the API key');
        assert.equal(r0.headers.authorization, undefined, 'no Authorization header in x-api-key mode');
        assert.match(r0.headers['content-type'] || '', /^application\/json\b/i, 'Content-Type application/json');
        assert.ok(Array.isArray(r0.body), 'body is a JSON array');
        assert.deepStrictEqual(up.events().map((e) => e.user_id), [a.sub, b.sub], 'both events delivered once, in order');
        assert.deepStrictEqual(up.events().map((e) => e.properties.message_id), [a.id, b.id], 'message ids travel in properties');
        assert.equal(r1.remotePort, r0.remotePort, 'second batch reuses the keep-alive connection');
        await stopAndCheck(gw);
    });

    test('upstream.auth_header=bearer sends Authorization: Bearer KEY', async () => {
        const { up, gw } = await scenario('bearer', undefined, { GW_UPSTREAM_AUTH_HEADER: 'bearer' });
        const a = await signIn(gw);
        await up.waitForEvents(1);
        const r0 = up.requests[0];
        assert.equal(r0.headers.authorization, `Bearer ${API_KEY}`, 'Authorization: Bearer KEY');
        assert.equal(r0.headers['x-api-key'], undefined, 'no x-api-key in bearer mode');
        assert.match(r0.headers['content-type'] || '', /^application\/json\b/i, 'Content-Type application/json');
        assert.deepStrictEqual(up.events().map((e) => e.user_id), [a.sub], 'event delivered');
        await stopAndCheck(gw);
    });

    test('the API key may come from GW_UPSTREAM_API_KEY_FILE (one trailing newline stripped)', async () => {
        const dir = makeTempDir('apikey');
        const file = path.join(dir, 'api-key');
        const key = `file-key-${crypto.randomBytes(16).toString('hex')}`;
        registerSensitive(key);
        fs.writeFileSync(file, `${key}\n`);
        const up = await startUpstream();
        cleanup.push(() => up.close());
        const env = gatewayEnv(up);
        delete env.GW_UPSTREAM_API_KEY;
        const gw = await startGateway({ name: 'api-key-file', env: { ...env, GW_UPSTREAM_API_KEY_FILE: file } });
        const a = await signIn(gw);
        await up.waitForEvents(1);
        assert.equal(up.requests[0].headers['x-api-key'], key, 'x-api-key is the file content without its newline');
        assert.equal(up.events()[0].user_id, a.sub, 'event delivered');
        await stopAndCheck(gw);
    });

    test('event.id_field empty: no message_id travels upstream, the 202 still names the id', async () => {
        const up = await startUpstream();
        cleanup.push(() => up.close());
        const gw = await startGateway({ name: 'no-id-field', env: gatewayEnv(up), args: ['--event-id-field', ''] });
        const a = await signIn(gw);
        const ev = await up.waitForEvent((e) => e.user_id === a.sub, 10000 * SLOW, 'event upstream');
        assert.deepStrictEqual(ev.properties, {}, 'no message_id in properties');
        await stopAndCheck(gw);
    });

    test('batch_max=5: 12 quick sign-ins arrive once each in batches of at most 5', async () => {
        const { up, gw } = await scenario('batching', undefined, { GW_UPSTREAM_BATCH_MAX: '5', GW_UPSTREAM_BATCH_MS: '300' });
        const sent = await Promise.all(Array.from({ length: 12 }, () => signIn(gw, 'batch')));
        await up.waitForEvents(12);
        await sleep(300);
        const sizes = up.requests.map((r) => r.body.length);
        assert.ok(sizes.every((n) => n >= 1 && n <= 5), `every batch holds 1..5 events (sizes ${sizes})`);
        assert.ok(Math.max(...sizes) >= 2, `events were batched (sizes ${sizes})`);
        const got = up.events();
        assert.equal(got.length, 12, 'exactly 12 events delivered');
        for (const s of sent) {
            assert.equal(count(got, s.sub), 1, `${s.sub} delivered exactly once`);
        }
        await stopAndCheck(gw);
    });

    test('upstream 503 twice then 200: every event arrives exactly once', async () => {
        const { up, gw } = await scenario('retry-503', (r, n) => (n < 2 ? { status: 503, body: { error: 'unavailable' } } : undefined),
            { GW_UPSTREAM_RETRY_BASE_MS: '50', GW_UPSTREAM_RETRY_MAX_MS: '400' });
        const sent = await Promise.all(Array.from({ length: 3 }, () => signIn(gw, 'r503')));
        await up.waitForEvents(3, 15000 * SLOW);
        await sleep(700);
        assert.deepStrictEqual(up.requests.slice(0, 2).map((r) => r.status), [503, 503], 'first two attempts answered 503');
        const got = up.events();
        for (const s of sent) {
            assert.equal(count(got, s.sub), 1, `${s.sub} delivered (2xx) exactly once`);
        }
        assert.equal(got.length, 3, 'no extra delivered events');
        const refused = up.requests.filter((r) => r.status === 503).flatMap((r) => r.body);
        assert.ok(refused.every((e) => count(got, e.user_id) === 1), 'every event of a refused batch was delivered later');
        await stopAndCheck(gw);
    });

    test('429 with Retry-After: 2: the next attempt waits at least ~2 s', async () => {
        const { up, gw } = await scenario('retry-after',
            (r, n) => (n === 0 ? { status: 429, headers: { 'retry-after': '2' }, body: { error: 'slow down' } } : undefined),
            { GW_UPSTREAM_RETRY_BASE_MS: '50', GW_UPSTREAM_RETRY_MAX_MS: '400' });
        const s = await signIn(gw, 'r429');
        await up.waitForEvents(1, 20000 * SLOW);
        assert.equal(up.requests[0].status, 429, 'first attempt answered 429');
        const gap = up.requests[1].t - up.requests[0].t;
        assert.ok(gap >= 1900, `second attempt ${Math.round(gap)} ms after the 429 (>= ~2000 ms)`);
        assert.equal(count(up.events(), s.sub), 1, 'event delivered exactly once');
        await stopAndCheck(gw);
    });

    test('Retry-After as an HTTP-date is a minimum wait too', async () => {
        const { up, gw } = await scenario('retry-after-date',
            (r, n) => (n === 0 ? { status: 503, headers: { 'retry-after': new Date(Date.now() + 3000).toUTCString() } } : undefined),
            { GW_UPSTREAM_RETRY_BASE_MS: '50', GW_UPSTREAM_RETRY_MAX_MS: '400' });
        const s = await signIn(gw, 'rdate');
        await up.waitForEvents(1, 20000 * SLOW);
        const gap = up.requests[1].t - up.requests[0].t;
        // HTTP-dates have whole seconds: 3 s ahead is at least ~2 s ahead.
        assert.ok(gap >= 1900, `second attempt ${Math.round(gap)} ms after the 503 with an HTTP-date 3 s ahead`);
        assert.equal(count(up.events(), s.sub), 1, 'event delivered exactly once');
        await stopAndCheck(gw);
    });

    test('an upstream slower than timeout_ms is retried', async () => {
        const { up, gw } = await scenario('timeout',
            async (r, n) => {
                if (n === 0) {
                    await sleep(2500);
                    return { status: 503 };
                }
                return undefined;
            },
            { GW_UPSTREAM_TIMEOUT_MS: '400', GW_UPSTREAM_RETRY_BASE_MS: '50', GW_UPSTREAM_RETRY_MAX_MS: '200' });
        const s = await signIn(gw, 'tmo');
        await up.waitFor(() => up.events().some((e) => e.user_id === s.sub), 10000 * SLOW, 'delivery after the timeout');
        const gap = up.requests[1].t - up.requests[0].t;
        assert.ok(gap >= 350 && gap < 2500, `retry after about timeout_ms=400 (${Math.round(gap)} ms), before the slow answer`);
        await sleep(2500);
        assert.equal(count(up.events(), s.sub), 1, 'delivered exactly once');
        await stopAndCheck(gw);
    });

    test('connection refused is retried until the upstream comes up', async () => {
        const probe = await startUpstream();
        const port = probe.port;
        await probe.close();
        const url = `http://127.0.0.1:${port}/v1/track`;
        const gw = await startGateway({
            name: 'conn-refused',
            env: { ...gatewayEnv({ url }), GW_UPSTREAM_RETRY_BASE_MS: '50', GW_UPSTREAM_RETRY_MAX_MS: '300' },
        });
        cleanup.push(async () => {
            if (!gw.exitInfo()) {
                await gw.stop();
            }
        });
        const s = await signIn(gw, 'refused');
        await sleep(800);
        const up = await startUpstream(undefined, { port });
        cleanup.push(() => up.close());
        await up.waitForEvent((e) => e.user_id === s.sub, 10000 * SLOW, 'delivery once the upstream listens');
        await sleep(300);
        assert.equal(count(up.events(), s.sub), 1, 'delivered exactly once');
        await stopAndCheck(gw);
    });

    test('upstream 400: the batch is dropped, logged at error; the gateway keeps serving', async () => {
        const { up, gw } = await scenario('drop-400',
            (r) => (Array.isArray(r.body) && r.body.some((e) => String(e.user_id).startsWith('poison')) ? { status: 400, body: { error: 'bad event' } } : undefined),
            { GW_UPSTREAM_RETRY_BASE_MS: '50', GW_UPSTREAM_RETRY_MAX_MS: '200' });
        gw.expectError((o) => o.level === 'error');
        const p = await signIn(gw, 'poison');
        await up.waitFor(() => up.requests.some((r) => r.status === 400), 10000 * SLOW, 'the 400 answer');
        await waitFor(() => gw.logs().some((o) => o.level === 'error'), 5000 * SLOW, 'an error log line about the dropped batch');
        const ok = await signIn(gw, 'after');
        await up.waitForEvent((e) => e.user_id === ok.sub, 10000 * SLOW, 'event after the drop');
        await sleep(800);
        assert.equal(count(up.allEvents(), p.sub), 1, 'the refused batch was sent once, not retried');
        assert.equal(count(up.events(), p.sub), 0, 'the refused event was not delivered');
        assert.equal(count(up.events(), ok.sub), 1, 'the next event was delivered once');
        const h = await gw.req('/healthz');
        assert.equal(h.status, 200, 'gateway still healthy');
        await stopAndCheck(gw);
    });

    test('upstream 401: retried at retry_max_ms, logged at error, never dropped', async () => {
        const { up, gw } = await scenario('retry-401',
            (r, n) => (n < 2 ? { status: 401, body: { error: 'bad key' } } : undefined),
            { GW_UPSTREAM_RETRY_BASE_MS: '20', GW_UPSTREAM_RETRY_MAX_MS: '600' });
        gw.expectError((o) => o.level === 'error');
        const s = await signIn(gw, 'r401');
        await up.waitForEvents(1, 15000 * SLOW);
        assert.deepStrictEqual(up.requests.slice(0, 2).map((r) => r.status), [401, 401], 'two 401 answers');
        const gap1 = up.requests[1].t - up.requests[0].t;
        const gap2 = up.requests[2].t - up.requests[1].t;
        assert.ok(gap1 >= 500 && gap2 >= 500, `401 retried slowly, at about retry_max_ms=600 (gaps ${Math.round(gap1)}, ${Math.round(gap2)} ms)`);
        assert.equal(count(up.events(), s.sub), 1, 'event delivered once after the 401s');
        assert.ok(gw.logs().some((o) => o.level === 'error'), '401 from upstream logged at error');
        await stopAndCheck(gw);
    });

    test('spool full: 503 spool_full with Retry-After, then recovery delivers every accepted event once', async () => {
        let healthy = false;
        const { up, gw } = await scenario('queue-full',
            () => (healthy ? undefined : { status: 503, body: { error: 'down' } }),
            { GW_SPOOL_MAX_BYTES: '1024', GW_UPSTREAM_RETRY_BASE_MS: '50', GW_UPSTREAM_RETRY_MAX_MS: '200' });
        const accepted = [];
        const full = [];
        for (let i = 0; i < 10; i++) {
            const c = newClaims('qf');
            const tok = signJwt({ alg: 'HS256', typ: 'JWT' }, c, users.secret);
            const res = await gw.req('/v1/signed-in', { method: 'POST', headers: { authorization: `Bearer ${tok}` } });
            if (res.status === 202) {
                accepted.push(c.sub);
            } else {
                full.push(res);
            }
        }
        assert.ok(full.length > 0, `some sign-ins refused once the spool is full (accepted ${accepted.length})`);
        assert.ok(accepted.length >= 1 && accepted.length <= 6, `about 1 KiB of events accepted (${accepted.length})`);
        for (const res of full) {
            assert.equal(res.status, 503, `spool full: 503 (got ${res.status} ${res.text})`);
            assert.equal(res.json?.error, 'spool_full', 'spool full: error spool_full');
            assert.ok(res.headers['retry-after'], 'spool full: Retry-After header');
        }
        healthy = true;
        await up.waitFor(() => accepted.every((s) => count(up.events(), s) >= 1), 15000 * SLOW, 'accepted events delivered');
        await sleep(500);
        for (const s of accepted) {
            assert.equal(count(up.events(), s), 1, `${s} delivered exactly once`);
        }
        const again = await signIn(gw, 'qf-after');
        await up.waitForEvent((e) => e.user_id === again.sub, 10000 * SLOW, 'sign-in after recovery');
        await stopAndCheck(gw);
    });

    test('SIGTERM flushes queued events to a live upstream before exit 0', async () => {
        const { up, gw } = await scenario('sigterm-flush', undefined, { GW_UPSTREAM_BATCH_MS: '5000', GW_UPSTREAM_BATCH_MAX: '100' });
        const sent = await Promise.all(Array.from({ length: 3 }, () => signIn(gw, 'flush')));
        const code = await gw.stop();
        assertLogHygiene(gw);
        assert.equal(code, 0, 'exit code 0 after SIGTERM');
        const got = up.events();
        for (const s of sent) {
            assert.equal(count(got, s.sub), 1, `${s.sub} flushed exactly once before exit`);
        }
    });

    test('SIGTERM flushes a partly filled batch at once, even when batch_ms exceeds shutdown_ms', async () => {
        const { up, gw } = await scenario('sigterm-batch-window', undefined,
            { GW_UPSTREAM_BATCH_MS: '8000', GW_UPSTREAM_BATCH_MAX: '100', GW_UPSTREAM_SHUTDOWN_MS: '2000' });
        gw.expectError((o) => o.level === 'error' && /lost/.test(o.event));
        const sent = await Promise.all(Array.from({ length: 2 }, () => signIn(gw, 'window')));
        const t0 = performance.now();
        const code = await gw.stop();
        const took = performance.now() - t0;
        const got = up.events();
        for (const s of sent) {
            assert.equal(count(got, s.sub), 1, `${s.sub} flushed before exit (the upstream takes it at once)`);
        }
        assert.ok(took < 2000 + 1500 * SLOW, `exit within shutdown_ms (${Math.round(took)} ms)`);
        gw.expectedErrors().length = 0;
        assertLogHygiene(gw);
        assert.equal(code, 0, 'exit code 0 after SIGTERM');
    });

    test('SIGTERM with a failing upstream gives up after shutdown_ms and exits 0', async () => {
        const { up, gw } = await scenario('sigterm-deadline', () => ({ status: 503, body: { error: 'down' } }),
            { GW_UPSTREAM_SHUTDOWN_MS: '1000', GW_UPSTREAM_RETRY_BASE_MS: '50', GW_UPSTREAM_RETRY_MAX_MS: '200' });
        // Undelivered events at exit may be reported at error: that is the point.
        gw.expectError((o) => o.level === 'error');
        await signIn(gw, 'lost');
        await up.waitFor(() => up.requests.length >= 1, 10000 * SLOW, 'a first attempt');
        const t0 = performance.now();
        const code = await gw.stop();
        const took = performance.now() - t0;
        assertLogHygiene(gw);
        assert.equal(code, 0, 'exit code 0 after SIGTERM');
        assert.ok(took < 1000 + 4000 * SLOW, `exited within about shutdown_ms (${Math.round(took)} ms)`);
        assert.equal(up.events().length, 0, 'nothing was delivered');
    });
});
