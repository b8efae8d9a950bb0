// Operations: /metrics values after a known sequence of requests (parsed and
// compared, and checked by promtool), the spool gauges, /readyz, one JSON
// access line per request with its request id, and the once-a-period line
// that sums rejections. Log hygiene (no token, secret or full email, even
// at debug) is asserted by every teardown.
import { describe, test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import crypto from 'node:crypto';
import fs from 'node:fs';
import {
    makeHsSecretFile, signJwt, startGateway, startUpstream, stopAndCheck, nowS, sleep, waitFor,
    registerSensitive, SLOW,
} from './lib/harness.mjs';
import { scrape, metric, promtoolCheck } from './lib/ops.mjs';

const ISS = 'https://idp.ops.example/';
const AUD = 'signin-gateway-ops';
const API_KEY = `up-key-${crypto.randomBytes(16).toString('hex')}`;
registerSensitive(API_KEY);

let users;
let seq = 0;

function token(over = {}, key = users.secret) {
    seq += 1;
    const c = {
        iss: ISS, aud: AUD, sub: `ops-${seq}-${crypto.randomBytes(3).toString('hex')}`,
        email: `person${seq}.${crypto.randomBytes(3).toString('hex')}@ops.example`,
        iat: nowS() - 5, exp: nowS() + 600, ...over,
    };
    return signJwt({ alg: 'HS256', typ: 'JWT' }, c, key);
}

function env(up, extra = {}) {
    return {
        GW_AUTH_HS_SECRET_FILE: users.file, GW_AUTH_ISS: ISS, GW_AUTH_AUD: AUD,
        GW_UPSTREAM_URL: up.url, GW_UPSTREAM_API_KEY: API_KEY,
        GW_UPSTREAM_RETRY_BASE_MS: '50', GW_UPSTREAM_RETRY_MAX_MS: '200',
        GW_UPSTREAM_SHUTDOWN_MS: '300', ...extra,
    };
}

before(() => {
    users = makeHsSecretFile('ops-users');
});

describe('metrics, request ids, access lines and the rejection summary', () => {
    let up;
    let gw;
    const sent = []; // {id, route, status, reason}

    before(async () => {
        up = await startUpstream((r, n) => (n === 0 ? { status: 503, body: { error: 'busy' } } : undefined));
        gw = await startGateway({ name: 'ops-metrics', env: env(up, { GW_LOG_LEVEL: 'debug', GW_LOG_SUMMARY_S: '1' }) });
    });
    after(async () => {
        await up?.close();
    });

    async function send(path, { id, method = 'POST', tok, route = path, status, reason }) {
        const headers = { 'x-request-id': id };
        if (tok !== undefined) {
            headers.authorization = `Bearer ${tok}`;
        }
        const res = await gw.req(path, { method, headers });
        assert.equal(res.status, status, `${id}: ${method} ${path} answers ${status} (got ${res.status} ${res.text})`);
        assert.equal(res.headers['x-request-id'], id, `${id}: X-Request-Id echoed`);
        sent.push({ id, route, status, reason });
        return res;
    }

    test('counters move by exactly what a known sequence of requests does', async () => {
        const before0 = await scrape(gw);
        const good = [token(), token(), token()];
        for (const [i, t] of good.entries()) {
            await send('/v1/signed-in', { id: `ops-good-${i}`, tok: t, status: 202 });
        }
        await send('/v1/signed-in', { id: 'ops-dup', tok: good[0], status: 202 });
        const wrongKey = crypto.randomBytes(40).toString('base64url');
        await send('/v1/signed-in', { id: 'ops-badsig-1', tok: token({}, wrongKey), status: 401, reason: 'bad_signature' });
        await send('/v1/signed-in', { id: 'ops-badsig-2', tok: token({}, wrongKey), status: 401, reason: 'bad_signature' });
        await send('/v1/signed-in', { id: 'ops-expired', tok: token({ exp: nowS() - 3600, iat: nowS() - 7200 }), status: 401, reason: 'token_expired' });
        await send('/v1/signed-in', { id: 'ops-notoken', status: 401, reason: 'missing_token' });
        await send('/nowhere', { id: 'ops-404', method: 'GET', route: 'unknown', status: 404, reason: 'not_found' });
        await send('/v1/signed-in', { id: 'ops-405', method: 'DELETE', status: 405, reason: 'method_not_allowed' });
        await up.waitForEvents(3, 15000 * SLOW);
        // The spool forgets delivered rows in its writer's next commit.
        await waitFor(async () => metric((await scrape(gw)).samples, 'signin_gateway_spool_events') === 0,
            5000 * SLOW, 'spool_events back to 0');

        const after1 = await scrape(gw);
        const d = (name, labels = {}) => metric(after1.samples, name, labels) - metric(before0.samples, name, labels);
        const req = (route, status) => d('signin_gateway_http_requests_total', { route, status });
        assert.equal(req('/v1/signed-in', '202'), 4, 'http_requests_total{/v1/signed-in,202} +4');
        assert.equal(req('/v1/signed-in', '401'), 4, 'http_requests_total{/v1/signed-in,401} +4');
        assert.equal(req('/v1/signed-in', '405'), 1, 'http_requests_total{/v1/signed-in,405} +1');
        assert.equal(req('unknown', '404'), 1, 'http_requests_total{unknown,404} +1');
        const rej = (reason) => d('signin_gateway_rejections_total', { reason });
        assert.equal(rej('bad_signature'), 2, 'rejections_total{bad_signature} +2');
        assert.equal(rej('token_expired'), 1, 'rejections_total{token_expired} +1');
        assert.equal(rej('missing_token'), 1, 'rejections_total{missing_token} +1');
        assert.equal(d('signin_gateway_events_accepted_total'), 3, 'events_accepted_total +3');
        assert.equal(d('signin_gateway_events_deduplicated_total'), 1, 'events_deduplicated_total +1');
        assert.equal(d('signin_gateway_events_forwarded_total'), 3, 'events_forwarded_total +3');
        assert.equal(d('signin_gateway_upstream_errors_total', { status: '503' }), 1, 'upstream_errors_total{503} +1');
        const failed = d('signin_gateway_upstream_requests_total', { outcome: 'failed' });
        const delivered = d('signin_gateway_upstream_requests_total', { outcome: 'delivered' });
        assert.equal(failed, 1, 'upstream_requests_total{failed} +1');
        assert.equal(failed + delivered, up.requests.length, 'every upstream request counted once');

        const h = 'signin_gateway_upstream_request_duration_seconds';
        const buckets = after1.samples.filter((s) => s.name === `${h}_bucket`);
        assert.ok(buckets.length >= 2, 'latency histogram has buckets');
        for (let i = 1; i < buckets.length; i++) {
            assert.ok(buckets[i].value >= buckets[i - 1].value, `bucket le=${buckets[i].labels.le} is cumulative`);
        }
        assert.equal(buckets.at(-1).labels.le, '+Inf', 'last bucket is +Inf');
        assert.equal(metric(after1.samples, `${h}_count`), up.requests.length, 'histogram count = upstream requests');
        assert.equal(buckets.at(-1).value, up.requests.length, '+Inf bucket = count');

        assert.equal(metric(after1.samples, 'signin_gateway_keyset_refreshes_total', { set: 'auth', outcome: 'ok' }), 1,
            'keyset_refreshes_total{auth,ok} is 1 after start');
        const info = after1.samples.find((s) => s.name === 'signin_gateway_build_info');
        assert.ok(info && info.value === 1 && /^\d+\.\d+\.\d+/.test(info.labels.version), 'build_info{version} 1');
        assert.equal(metric(after1.samples, 'signin_gateway_spool_events'), 0, 'spool_events 0 once delivered');
        assert.equal(metric(after1.samples, 'signin_gateway_spool_oldest_event_age_seconds'), 0, 'oldest age 0 when empty');
        assert.match(after1.headers['content-type'], /^text\/plain; version=0\.0\.4/, '/metrics content type');

        const check = promtoolCheck(after1.text);
        assert.equal(check.code, 0, `promtool check metrics passes:\n${check.output}`);
    });

    test('a request id is taken from X-Request-Id when sane, else made, and always returned', async () => {
        const mine = await gw.req('/healthz', { headers: { 'x-request-id': 'abc-123_x.y' } });
        assert.equal(mine.headers['x-request-id'], 'abc-123_x.y', 'sane id echoed');
        sent.push({ id: 'abc-123_x.y', route: '/healthz', status: 200 });
        const made = await gw.req('/healthz');
        assert.match(made.headers['x-request-id'] || '', /^[0-9a-f]{8}[0-9a-f]{12}$/, 'an id is made when none is sent');
        sent.push({ id: made.headers['x-request-id'], route: '/healthz', status: 200 });
        const bad = await gw.req('/healthz', { headers: { 'x-request-id': 'has space"quote' } });
        assert.notEqual(bad.headers['x-request-id'], 'has space"quote', 'an unsafe id is replaced');
        sent.push({ id: bad.headers['x-request-id'], route: '/healthz', status: 200 });
    });

    test('one JSON access line per request, with id, route, status, latency and reason', async () => {
        await sleep(200); // access lines are written when the request completes
        const access = gw.logs().filter((o) => o.event === 'access');
        for (const s of sent) {
            const lines = access.filter((o) => o.req === s.id);
            assert.equal(lines.length, 1, `${s.id}: exactly one access line`);
            const [l] = lines;
            assert.equal(l.level, 'info', `${s.id}: access line at info`);
            assert.equal(l.route, s.route, `${s.id}: route ${s.route}`);
            assert.equal(l.status, s.status, `${s.id}: status ${s.status}`);
            assert.ok(Number.isInteger(l.ms) && l.ms >= 0, `${s.id}: latency in ms`);
            assert.equal(l.reason, s.reason, `${s.id}: reason ${s.reason}`);
        }
    });

    test('an info line sums the rejections of each period by reason', async () => {
        await waitFor(() => gw.logs().some((o) => o.event === 'rejections'), 5000 * SLOW, 'a rejections line');
        await sleep(1300);
        const lines = gw.logs().filter((o) => o.event === 'rejections');
        assert.ok(lines.every((o) => o.level === 'info'), 'rejection summaries are info lines');
        const total = lines.reduce((a, o) => a + o.total, 0);
        assert.equal(total, 4, 'the summaries add up to the 4 refused sign-ins');
        const byReason = {};
        for (const o of lines) {
            for (const part of o.reasons.split(',')) {
                const [k, v] = part.split('=');
                byReason[k] = (byReason[k] || 0) + Number(v);
            }
        }
        assert.deepEqual(byReason, { bad_signature: 2, token_expired: 1, missing_token: 1 }, 'by reason');
        await stopAndCheck(gw);
        const stops = gw.logs().filter((o) => ['stopping', 'stopped'].includes(o.event));
        assert.equal(stops.length, 2, 'shutdown is logged (stopping, stopped)');
    });
});

describe('spool gauges and /readyz', () => {
    test('waiting events and the oldest one\'s age show while the upstream refuses', async () => {
        const up = await startUpstream(() => ({ status: 503 }));
        const gw = await startGateway({ name: 'ops-spool', env: env(up) });
        try {
            const ready = await gw.req('/readyz');
            assert.equal(ready.status, 200, '/readyz 200 when spool and keys are fine');
            assert.deepEqual(ready.json, { status: 'ready', spool: 'ok', keys: { auth: 'loaded' }, stale_keys: false, problems: [] },
                '/readyz body names each check');
            for (let i = 0; i < 2; i++) {
                const r = await gw.req('/v1/signed-in', { method: 'POST', headers: { authorization: `Bearer ${token()}` } });
                assert.equal(r.status, 202, `sign-in ${i} accepted while the upstream refuses`);
            }
            await sleep(2200);
            const s = await scrape(gw);
            assert.equal(metric(s.samples, 'signin_gateway_spool_events'), 2, 'spool_events 2');
            assert.ok(metric(s.samples, 'signin_gateway_spool_oldest_event_age_seconds') >= 2, 'oldest event is >= 2 s old');
            assert.ok(metric(s.samples, 'signin_gateway_upstream_errors_total', { status: '503' }) >= 1, 'upstream 503s counted');

            // The spool's folder disappears (a volume unmounted): not ready.
            fs.rmSync(gw.dataDir, { recursive: true, force: true });
            const gone = await gw.req('/readyz');
            assert.equal(gone.status, 503, '/readyz 503 once the spool folder is gone');
            assert.equal(gone.json.status, 'not_ready', 'status not_ready');
            assert.equal(gone.json.spool, 'missing', 'spool missing');
            assert.match(gone.json.problems.join('\n'), /^spool: .*spool\.db is missing/m, 'the problem names the spool file');
            const health = await gw.req('/healthz');
            assert.equal(health.status, 200, '/healthz stays 200: the process serves');
        } finally {
            gw.expectError(() => true); // the spool vanished under it
            await stopAndCheck(gw);
            await up.close();
        }
    });
});
