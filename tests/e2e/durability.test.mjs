// The durable spool: events acknowledged 202 survive an upstream outage, a
// SIGKILL and a SIGTERM with work left, and reach the upstream exactly once;
// retries (503, 429 Retry-After, 401/403 hold), dead letters (400, 422) with
// `dlq list` / `dlq replay`, duplicate ids within dedup.window_s, spool_full
// (one at a time and concurrent), the shutdown deadline, a corrupt or
// unwritable spool at start, spool settings, and the three durability levels.
// "Upstream down" means nothing listens on its port: a relay is opened on
// that port later, in front of a harness upstream that records everything.
import { describe, test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import crypto from 'node:crypto';
import fs from 'node:fs';
import http from 'node:http';
import net from 'node:net';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import {
    makeHsSecretFile, makeTempDir, signJwt, request, startGateway, startUpstream, stopAndCheck, assertLogHygiene,
    runBin, nowS, sleep, waitFor, registerSensitive, signinEventId, SLOW,
} from './lib/harness.mjs';

const ISS = 'https://idp.e2e.example/';
const AUD = 'signin-gateway-e2e';
const API_KEY = `up-key-${crypto.randomBytes(16).toString('hex')}`;
registerSensitive(API_KEY);

let users;
let backend;
let seq = 0;
const uid = (p) => `${p}-${++seq}-${crypto.randomBytes(3).toString('hex')}`;

// ---------------------------------------------------------------- helpers

/* A fresh user token (distinct sub and jti); its expected event id. */
function newToken(prefix = 'usr') {
    const now = nowS();
    const c = { iss: ISS, aud: AUD, sub: uid(prefix), jti: crypto.randomUUID(), iat: now - 5, exp: now + 900 };
    const token = signJwt({ alg: 'HS256', typ: 'JWT' }, c, users.secret);
    return { token, sub: c.sub, id: signinEventId(ISS, c.sub, c.jti) };
}

function postSignIn(gw, token, agent) {
    return gw.req('/v1/signed-in', { method: 'POST', headers: { authorization: `Bearer ${token}` }, ...(agent ? { agent } : {}) });
}

/* Signs in with t (default: a new token) and checks the 202 and its id. */
async function signIn(gw, prefix = 'usr', t = newToken(prefix)) {
    const res = await postSignIn(gw, t.token);
    assert.equal(res.status, 202, `sign-in ${t.sub}: 202 (got ${res.status} ${res.text})`);
    assert.equal(res.json?.event_id, t.id, `sign-in ${t.sub}: event_id is the token's id`);
    return t;
}

function svcToken() {
    const now = nowS();
    return signJwt({ alg: 'HS256', typ: 'JWT' }, { sub: 'svc-durability', iat: now - 5, exp: now + 900 }, backend.secret);
}

function postTrack(gw, body) {
    return gw.req('/v1/track', { method: 'POST', headers: { authorization: `Bearer ${svcToken()}` }, body });
}

function gatewayEnv(upUrl, extra = {}) {
    return {
        GW_AUTH_HS_SECRET_FILE: users.file,
        GW_AUTH_ISS: ISS,
        GW_AUTH_AUD: AUD,
        GW_BACKEND_HS_SECRET_FILE: backend.file,
        GW_UPSTREAM_URL: upUrl,
        GW_UPSTREAM_API_KEY: API_KEY,
        GW_UPSTREAM_BATCH_MAX: '10',
        GW_UPSTREAM_BATCH_MS: '20',
        GW_UPSTREAM_RETRY_BASE_MS: '50',
        GW_UPSTREAM_RETRY_MAX_MS: '300',
        GW_UPSTREAM_TIMEOUT_MS: String(5000 * SLOW),
        ...extra,
    };
}

/* A loopback port with nothing listening on it (for now). */
async function freePort() {
    const s = net.createServer();
    await new Promise((resolve, reject) => {
        s.once('error', reject);
        s.listen(0, '127.0.0.1', resolve);
    });
    const { port } = s.address();
    await new Promise((r) => s.close(r));
    return port;
}

/* Starts listening on port and relays every connection to targetPort (a
 * harness upstream): the upstream "comes up" on a port fixed in advance. */
async function openRelay(port, targetPort) {
    const socks = new Set();
    const server = net.createServer((client) => {
        const upstream = net.connect(targetPort, '127.0.0.1');
        socks.add(client);
        socks.add(upstream);
        const end = () => {
            client.destroy();
            upstream.destroy();
            socks.delete(client);
            socks.delete(upstream);
        };
        for (const s of [client, upstream]) {
            s.on('error', end);
            s.on('close', end);
        }
        client.pipe(upstream);
        upstream.pipe(client);
    });
    await new Promise((resolve, reject) => {
        server.once('error', reject);
        server.listen(port, '127.0.0.1', resolve);
    });
    return {
        async close() {
            for (const s of socks) {
                s.destroy();
            }
            await new Promise((r) => server.close(r));
        },
    };
}

const byId = (list, id) => list.filter((e) => e?.properties?.message_id === id).length;
const bySub = (list, sub) => list.filter((e) => e?.user_id === sub).length;

/* Every sent event is in list exactly once (by message_id and by user_id),
 * and list holds nothing else. */
function assertEachOnce(list, sent, label) {
    for (const s of sent) {
        assert.equal(byId(list, s.id), 1, `${label}: message_id ${s.id} (${s.sub}) delivered exactly once (got ${byId(list, s.id)})`);
        assert.equal(bySub(list, s.sub), 1, `${label}: user_id ${s.sub} delivered exactly once (got ${bySub(list, s.sub)})`);
    }
    const ids = new Set(sent.map((s) => s.id));
    const extra = list.filter((e) => !ids.has(e?.properties?.message_id));
    assert.deepStrictEqual(extra, [], `${label}: no event other than the ${sent.length} sent`);
    assert.equal(list.length, sent.length, `${label}: exactly ${sent.length} events delivered`);
}

/* Events the upstream took (2xx) in answers written before exitAt (a
 * performance.now() time): what a gateway that exited then can have seen. */
function answeredBefore(up, latency, exitAt) {
    return up.requests.filter((r) => r.status >= 200 && r.status < 300 && Array.isArray(r.body) && r.t + latency < exitAt)
        .flatMap((r) => r.body);
}

/* Bytes of the events the upstream took (2xx), as the gateway counts them:
 * a batch is "[" + events joined by "," + "]". */
function deliveredBytes(up) {
    return up.requests.filter((r) => r.status >= 200 && r.status < 300 && Array.isArray(r.body))
        .reduce((sum, r) => sum + Buffer.byteLength(r.raw) - 2 - (r.body.length - 1), 0);
}

/* Sign-ins one after another until three are refused (or 60 sent). */
async function fillSpool(gw, prefix) {
    const accepted = [];
    const refused = [];
    for (let i = 0; i < 60 && refused.length < 3; i++) {
        const t = newToken(prefix);
        const res = await postSignIn(gw, t.token);
        if (res.status === 202) {
            assert.equal(refused.length, 0, `${prefix}: no 202 after a spool_full while nothing drains (${t.sub})`);
            assert.equal(res.json?.event_id, t.id, `${prefix}: ${t.sub} event_id`);
            accepted.push(t);
        } else {
            refused.push({ t, res });
        }
    }
    return { accepted, refused };
}

/* Kills gw with SIGKILL and runs the teardown log checks on it. */
async function killHard(gw) {
    gw.proc.kill('SIGKILL');
    await gw.exited;
    const code = await gw.stop();
    assertLogHygiene(gw);
    assert.equal(code, 'signal:SIGKILL', `${gw.name}: ended by SIGKILL`);
}

/* `signin-gateway dlq list` rows: {id, status, failed_ms, answer, event}. */
async function dlqList(args, env = {}) {
    const r = await runBin(['dlq', 'list', ...args], { env });
    assert.equal(r.code, 0, `dlq list ${args.join(' ')}: exit 0 (got ${r.code}; stderr ${r.stderr})`);
    return r.stdout.split('\n').filter((l) => l.length).map((l) => {
        const f = l.split('\t');
        assert.equal(f.length, 5, `dlq list: five tab-separated fields in ${JSON.stringify(l)}`);
        return { id: f[0], status: f[1], failed_ms: f[2], answer: f[3], event: f[4] };
    });
}

/* Runs the gateway binary expecting it to refuse to start; the stderr lines
 * get the same teardown checks as a started gateway's. */
async function runExpectingFailure(name, env, expectErrors) {
    const r = await runBin([], {
        env: { GW_LISTEN_HOST: '127.0.0.1', GW_LISTEN_PORT: '0', ...env },
        timeoutMs: 10000 * SLOW,
    });
    const lines = r.stderr.split('\n').filter((l) => l.length);
    const pseudo = { name, rawLines: () => lines, expectedErrors: () => expectErrors };
    assertLogHygiene(pseudo);
    const errors = lines.map((l) => {
        try {
            return JSON.parse(l);
        } catch {
            return {};
        }
    }).filter((o) => o.level === 'error');
    return { code: r.code, stdout: r.stdout, lines, errors };
}

before(() => {
    users = makeHsSecretFile('users');
    backend = makeHsSecretFile('backend');
});

// ---------------------------------------------------------------- scenarios

describe('durable spool', () => {
    const cleanup = [];
    after(async () => {
        for (const fn of cleanup.reverse()) {
            await fn().catch(() => {});
        }
    });
    const track = (fn) => cleanup.push(fn);
    async function gateway(name, env, opts = {}) {
        const gw = await startGateway({ name, env, ...opts });
        track(async () => {
            if (!gw.exitInfo()) {
                await gw.stop();
            }
        });
        return gw;
    }
    async function upstream(behaviour) {
        const up = await startUpstream(behaviour);
        track(() => up.close());
        return up;
    }

    test('upstream down, SIGKILL, restart on the same data dir: all 50 acknowledged events arrive once', async () => {
        const port = await freePort();
        const upUrl = `http://127.0.0.1:${port}/v1/track`;
        const env = gatewayEnv(upUrl);
        const gw1 = await gateway('crash-1', env);
        const dataDir = gw1.dataDir;
        const sent = await Promise.all(Array.from({ length: 50 }, () => signIn(gw1, 'crash')));
        assert.equal(new Set(sent.map((s) => s.id)).size, 50, 'crash: 50 distinct event ids acknowledged');
        assert.ok(fs.existsSync(path.join(dataDir, 'spool.db')), 'crash: the spool is <data.dir>/spool.db by default');
        await sleep(200);
        await killHard(gw1);

        const gw2 = await gateway('crash-2', env, { dataDir });
        const up = await upstream();
        const relay = await openRelay(port, up.port);
        track(() => relay.close());
        await up.waitForEvents(50, 20000 * SLOW);
        await sleep(500);
        assertEachOnce(up.events(), sent, 'crash: after restart');
        assert.ok(up.events().every((e) => e.event_name === 'signed_in'), 'crash: events are signed_in events');

        // The ids seen before the crash are still recognized after it.
        const again = await postSignIn(gw2, sent[0].token);
        assert.equal(again.status, 202, `crash: a token from before the crash posted again: 202 (got ${again.status} ${again.text})`);
        assert.equal(again.json?.event_id, sent[0].id, 'crash: the same event_id as before the crash');
        await sleep(500);
        assert.equal(byId(up.events(), sent[0].id), 1, 'crash: the repeated token is not forwarded again');
        await stopAndCheck(gw2);
        await relay.close();
    });

    test('upstream 503 for the first 3 requests, then 200: every event arrives, none twice', async () => {
        const up = await upstream((r, n) => (n < 3 ? { status: 503, body: { error: 'unavailable' } } : undefined));
        const gw = await gateway('retry-503', gatewayEnv(up.url, { GW_UPSTREAM_BATCH_MAX: '5' }));
        const sent = [];
        for (let i = 0; i < 12; i++) {
            sent.push(await signIn(gw, 'r503'));
        }
        await up.waitForEvents(12, 15000 * SLOW);
        await sleep(500);
        assert.deepStrictEqual(up.requests.slice(0, 3).map((r) => r.status), [503, 503, 503], '503: the first three attempts were answered 503');
        assertEachOnce(up.events(), sent, '503');
        assert.deepStrictEqual(up.events().map((e) => e.properties.message_id), sent.map((s) => s.id), '503: events arrive in the order accepted');
        await stopAndCheck(gw);
    });

    test('429 with Retry-After: 2: the next attempt comes at least ~2 s later', async () => {
        const up = await upstream((r, n) => (n === 0 ? { status: 429, headers: { 'retry-after': '2' }, body: { error: 'slow down' } } : undefined));
        const gw = await gateway('retry-after', gatewayEnv(up.url));
        const s = await signIn(gw, 'r429');
        await up.waitForEvents(1, 20000 * SLOW);
        assert.equal(up.requests[0].status, 429, '429: first attempt answered 429');
        const gap = up.requests[1].t - up.requests[0].t;
        assert.ok(gap >= 1900, `429: second attempt ${Math.round(gap)} ms after the 429 (>= ~2000 ms; backoff alone would be <= 50 ms)`);
        assert.ok(gap < 2000 + 3000 * SLOW, `429: second attempt not much later than Retry-After (${Math.round(gap)} ms)`);
        assertEachOnce(up.events(), [s], '429');
        await stopAndCheck(gw);
    });

    test('permanent 400 / 422 for single events: they go to the dead-letter table, the rest arrive; dlq replay delivers them', async () => {
        const refuse = new Map(); // user_id -> status, while refusing
        let refusing = true;
        const up = await upstream((r) => {
            const hit = refusing && Array.isArray(r.body) && r.body.find((e) => refuse.has(e.user_id));
            return hit ? { status: refuse.get(hit.user_id), body: { error: 'invalid_event', detail: `poison-refused-${refuse.get(hit.user_id)}` } } : undefined;
        });
        const gw = await gateway('dlq', gatewayEnv(up.url, { GW_UPSTREAM_BATCH_MS: '400' }));
        gw.expectError((o) => o.mod === 'forward' && o.event === 'event_dead_lettered' && (o.status === 400 || o.status === 422));
        const poisonTok = newToken('poison');
        const poison2Tok = newToken('poison2');
        refuse.set(poisonTok.sub, 400);
        refuse.set(poison2Tok.sub, 422);
        const sent = [];
        for (let i = 0; i < 3; i++) {
            sent.push(await signIn(gw, 'pre'));
        }
        const poison = await signIn(gw, 'poison', poisonTok);
        sent.push(poison);
        for (let i = 0; i < 3; i++) {
            sent.push(await signIn(gw, 'post'));
        }
        const poison2 = await signIn(gw, 'poison2', poison2Tok);
        sent.push(poison2);
        sent.push(await signIn(gw, 'last'));
        const good = sent.filter((s) => s !== poison && s !== poison2);
        await up.waitFor(() => good.every((s) => byId(up.events(), s.id) >= 1), 15000 * SLOW, 'the seven good events');
        const first400 = up.requests.find((r) => r.status === 400);
        assert.ok(first400, 'dlq: the upstream refused a batch with 400');
        assert.ok(first400.body.length > 1, `dlq: the refused batch held other events too (size ${first400.body.length}), so it was split`);

        const rows = await waitFor(async () => {
            const l = await dlqList([], { GW_DATA_DIR: gw.dataDir });
            return l.length >= 2 ? l : null;
        }, 10000 * SLOW, 'two rows in dlq list');
        assert.deepStrictEqual(rows.map((r) => [r.id, r.status]), [[poison.id, '400'], [poison2.id, '422']],
            'dlq list: exactly the two refused events, in order, with the upstream status');
        for (const [row, p] of [[rows[0], poison], [rows[1], poison2]]) {
            assert.ok(/^\d+$/.test(row.failed_ms) && Math.abs(Number(row.failed_ms) - Date.now()) < 120000,
                `dlq list ${p.sub}: failed_ms is a recent time in ms (${row.failed_ms})`);
            assert.ok(row.answer.includes(`poison-refused-${row.status}`), `dlq list ${p.sub}: answer holds the upstream's answer (${row.answer})`);
            const ev = JSON.parse(row.event);
            assert.equal(ev.user_id, p.sub, `dlq list ${p.sub}: event is the refused event`);
            assert.equal(ev.properties?.message_id, p.id, `dlq list ${p.sub}: event carries its message_id`);
        }
        assert.equal(gw.logs().filter((o) => o.level === 'error' && o.event === 'event_dead_lettered').length, 2, 'dlq: each dead letter logged at error');
        await sleep(300);
        assertEachOnce(up.events(), good, 'dlq: events before, between and after the refused ones');
        assert.deepStrictEqual(up.events().map((e) => e.properties.message_id), good.map((s) => s.id), 'dlq: the good events arrive in the order accepted');

        // --spool-path finds the same table as GW_DATA_DIR.
        const spoolPath = path.join(gw.dataDir, 'spool.db');
        const viaPath = await dlqList(['--spool-path', spoolPath]);
        assert.deepStrictEqual(viaPath.map((r) => r.id), [poison.id, poison2.id], 'dlq list --spool-path: the same rows');

        refusing = false;
        const rep = await runBin(['dlq', 'replay', '--id', poison.id, '--spool-path', spoolPath]);
        assert.equal(rep.code, 0, `dlq replay --id: exit 0 (got ${rep.code}; ${rep.stderr})`);
        await up.waitForEvent((e) => e.properties?.message_id === poison.id, 10000 * SLOW, 'the replayed event');
        assert.deepStrictEqual((await dlqList(['--spool-path', spoolPath])).map((r) => r.id), [poison2.id], 'dlq replay --id: only that event left the table');
        await sleep(300);
        assert.equal(byId(up.events(), poison2.id), 0, 'dlq replay --id: the other dead letter is not sent');

        const repAll = await runBin(['dlq', 'replay'], { env: { GW_DATA_DIR: gw.dataDir } });
        assert.equal(repAll.code, 0, `dlq replay (all): exit 0 (got ${repAll.code}; ${repAll.stderr})`);
        await up.waitForEvent((e) => e.properties?.message_id === poison2.id, 10000 * SLOW, 'the second replayed event');
        await sleep(300);
        assertEachOnce(up.events(), sent, 'dlq: after both replays');
        assert.deepStrictEqual(await dlqList([], { GW_DATA_DIR: gw.dataDir }), [], 'dlq list: empty after replay');
        await stopAndCheck(gw);

        const missing = await runBin(['dlq', 'list', '--spool-path', path.join(makeTempDir('dlq-none'), 'absent', 'spool.db')]);
        assert.ok(typeof missing.code === 'number' && missing.code !== 0, `dlq list on a missing spool: non-zero exit (got ${missing.code})`);
    });

    test('401 / 403 from upstream: held and retried every retry_max_ms, nothing dropped; all arrive once accepted', async () => {
        let keyRefused = true;
        const up = await upstream((r, n) => (keyRefused ? { status: n % 2 ? 403 : 401, body: { error: 'bad key' } } : undefined));
        const gw = await gateway('hold-401', gatewayEnv(up.url, { GW_UPSTREAM_RETRY_BASE_MS: '20', GW_UPSTREAM_RETRY_MAX_MS: '300' }));
        gw.expectError((o) => o.mod === 'forward' && o.event === 'upstream_refused_key');
        const sent = await Promise.all(Array.from({ length: 5 }, () => signIn(gw, 'r401')));
        await up.waitFor(() => up.requests.length >= 3, 10000 * SLOW, 'three 401/403 answers');
        sent.push(...await Promise.all(Array.from({ length: 3 }, () => signIn(gw, 'r401b'))));
        await up.waitFor(() => up.requests.length >= 5, 10000 * SLOW, 'five 401/403 answers');
        assert.equal(up.events().length, 0, '401: nothing delivered while the key is refused');
        const gaps = up.requests.slice(1, 5).map((r, i) => r.t - up.requests[i].t);
        assert.ok(gaps.every((g) => g >= 250), `401: retried at about retry_max_ms=300 (gaps ${gaps.map(Math.round)} ms)`);
        keyRefused = false;
        await up.waitForEvents(sent.length, 10000 * SLOW);
        await sleep(500);
        assertEachOnce(up.events(), sent, '401');
        const n401 = up.requests.filter((r) => r.status === 401 || r.status === 403).length;
        assert.ok(up.requests.some((r) => r.status === 403), '403: a 403 answer was held too');
        const errLines = gw.logs().filter((o) => o.level === 'error' && o.event === 'upstream_refused_key').length;
        assert.equal(errLines, n401, `401: one error log line per 401/403 answer (${errLines} lines, ${n401} answers)`);
        assert.deepStrictEqual(await dlqList([], { GW_DATA_DIR: gw.dataDir }), [], '401: nothing dead-lettered');
        await stopAndCheck(gw);
    });

    test('duplicates within the window: same answer, one event upstream', async () => {
        const up = await upstream();
        const gw = await gateway('dedup', gatewayEnv(up.url));

        // The same token posted twice, then again after delivery.
        const a = newToken('dup');
        const r1 = await postSignIn(gw, a.token);
        const r2 = await postSignIn(gw, a.token);
        for (const [i, r] of [r1, r2].entries()) {
            assert.equal(r.status, 202, `dedup token, post ${i + 1}: 202 (got ${r.status} ${r.text})`);
            assert.equal(r.json?.event_id, a.id, `dedup token, post ${i + 1}: event_id ${a.id}`);
        }
        // The same token posted twice at once.
        const b = newToken('dup-par');
        const par = await Promise.all([postSignIn(gw, b.token), postSignIn(gw, b.token)]);
        for (const [i, r] of par.entries()) {
            assert.equal(r.status, 202, `dedup concurrent token, post ${i + 1}: 202 (got ${r.status} ${r.text})`);
            assert.equal(r.json?.event_id, b.id, `dedup concurrent token, post ${i + 1}: same event_id`);
        }

        // /v1/track with properties.message_id posted twice.
        const msg = `msg-${crypto.randomBytes(8).toString('hex')}`;
        const tUser = uid('trk');
        const body = [{ event_name: 'signed_in', user_id: tUser, timestamp: '2024-05-01T12:34:56.789Z', properties: { message_id: msg } }];
        const t1 = await postTrack(gw, body);
        const t2 = await postTrack(gw, body);
        for (const [i, r] of [t1, t2].entries()) {
            assert.equal(r.status, 202, `dedup track, post ${i + 1}: 202 (got ${r.status} ${r.text})`);
            assert.deepStrictEqual(r.json?.event_ids, [msg], `dedup track, post ${i + 1}: event_ids [message_id]`);
            assert.equal(r.json?.count, 1, `dedup track, post ${i + 1}: count 1`);
        }
        // A batch repeating one known message_id beside a new one.
        const msg2 = `msg-${crypto.randomBytes(8).toString('hex')}`;
        const tUser2 = uid('trk');
        const t3 = await postTrack(gw, [body[0], { event_name: 'signed_in', user_id: tUser2, properties: { message_id: msg2 } }]);
        assert.equal(t3.status, 202, `dedup track mixed batch: 202 (got ${t3.status} ${t3.text})`);
        assert.deepStrictEqual(t3.json?.event_ids, [msg, msg2], 'dedup track mixed batch: both ids answered');
        // /v1/track without message_id: the hash of the same event is the same id.
        const tUser3 = uid('trk-hash');
        const hashBody = { event_name: 'signed_in', user_id: tUser3, timestamp: '2024-05-02T10:00:00.000Z', properties: { plan: 'pro' } };
        const h1 = await postTrack(gw, hashBody);
        const h2 = await postTrack(gw, hashBody);
        assert.equal(h1.status, 202, `dedup track hash, post 1: 202 (got ${h1.status} ${h1.text})`);
        assert.equal(h2.status, 202, `dedup track hash, post 2: 202 (got ${h2.status} ${h2.text})`);
        assert.deepStrictEqual(h2.json?.event_ids, h1.json?.event_ids, 'dedup track hash: the same event id twice');
        const hashId = h1.json?.event_ids?.[0];

        const expected = [a, b, { id: msg, sub: tUser }, { id: msg2, sub: tUser2 }, { id: hashId, sub: tUser3 }];
        await up.waitFor(() => expected.every((s) => byId(up.events(), s.id) >= 1), 10000 * SLOW, 'the five distinct events');
        const r3 = await postSignIn(gw, a.token);
        assert.equal(r3.status, 202, `dedup token after delivery: 202 (got ${r3.status} ${r3.text})`);
        assert.equal(r3.json?.event_id, a.id, 'dedup token after delivery: same event_id');
        const t4 = await postTrack(gw, body);
        assert.deepStrictEqual([t4.status, t4.json?.event_ids], [202, [msg]], 'dedup track after delivery: 202, same event_ids');
        await sleep(600);
        assertEachOnce(up.events(), expected, 'dedup');
        await stopAndCheck(gw);
    });

    test('spool full: 503 spool_full with Retry-After while the upstream is down; accepted again after draining', async () => {
        const port = await freePort();
        const gw = await gateway('spool-full', gatewayEnv(`http://127.0.0.1:${port}/v1/track`, { GW_SPOOL_MAX_BYTES: '2048' }));
        const { accepted, refused } = await fillSpool(gw, 'sf');
        assert.ok(accepted.length >= 3, `spool full: some sign-ins accepted before the spool filled (${accepted.length})`);
        assert.equal(refused.length, 3, `spool full: sign-ins refused once 2048 bytes are held (accepted ${accepted.length})`);
        for (const { t, res } of refused) {
            assert.equal(res.status, 503, `spool full ${t.sub}: 503 (got ${res.status} ${res.text})`);
            assert.equal(res.json?.error, 'spool_full', `spool full ${t.sub}: error spool_full`);
            assert.match(String(res.headers['retry-after'] ?? ''), /^\d+$/, `spool full ${t.sub}: Retry-After in seconds`);
        }

        const up = await upstream();
        const relay = await openRelay(port, up.port);
        track(() => relay.close());
        await up.waitFor(() => accepted.every((s) => byId(up.events(), s.id) >= 1), 15000 * SLOW, 'every accepted event after the upstream came back');
        await sleep(300);
        const held = deliveredBytes(up);
        const eventSize = Math.max(...up.events().map((e) => Buffer.byteLength(JSON.stringify(e))));
        assert.ok(held <= 2048, `spool full: the accepted events hold at most spool.max_bytes=2048 bytes (${held})`);
        assert.ok(held + 2 * eventSize > 2048, `spool full: refused only once the spool was nearly full (${held} bytes held)`);
        const later = await waitFor(async () => {
            const t = newToken('sf-after');
            const res = await postSignIn(gw, t.token);
            return res.status === 202 && res.json?.event_id === t.id ? t : null;
        }, 5000 * SLOW, 'a sign-in accepted again after draining');
        accepted.push(later);
        await up.waitForEvent((e) => e.properties?.message_id === later.id, 10000 * SLOW, 'the sign-in after draining');
        await sleep(500);
        assertEachOnce(up.events(), accepted, 'spool full: acknowledged events');
        for (const { t } of refused) {
            assert.equal(byId(up.allEvents(), t.id), 0, `spool full: refused ${t.sub} was not stored nor sent`);
        }
        await stopAndCheck(gw);
        await relay.close();
    });

    test('spool full under concurrent sign-ins: spool.max_bytes still holds', async () => {
        // durability power: each commit waits for an fsync, so many requests
        // are between the size check and the commit at once.
        const port = await freePort();
        const gw = await gateway('spool-full-concurrent', gatewayEnv(`http://127.0.0.1:${port}/v1/track`,
            { GW_SPOOL_MAX_BYTES: '2048', GW_SPOOL_DURABILITY: 'power' }));
        const agent = new http.Agent({ keepAlive: true, maxSockets: 32 });
        track(async () => agent.destroy());
        const toks = Array.from({ length: 60 }, () => newToken('sfc'));
        const res = await Promise.all(toks.map((t) => postSignIn(gw, t.token, agent)));
        agent.destroy();
        const accepted = toks.filter((t, i) => res[i].status === 202);
        for (const [i, r] of res.entries()) {
            assert.ok(r.status === 202 || (r.status === 503 && r.json?.error === 'spool_full'),
                `spool full concurrent ${toks[i].sub}: 202 or 503 spool_full (got ${r.status} ${r.text})`);
        }
        assert.ok(accepted.length > 0 && accepted.length < 60, `spool full concurrent: some accepted, some refused (${accepted.length} accepted)`);
        const up = await upstream();
        const relay = await openRelay(port, up.port);
        track(() => relay.close());
        await up.waitFor(() => accepted.every((s) => byId(up.events(), s.id) >= 1), 15000 * SLOW, 'every accepted event');
        await sleep(300);
        assertEachOnce(up.events(), accepted, 'spool full concurrent: acknowledged events');
        const held = deliveredBytes(up);
        assert.ok(held <= 2048, `spool full concurrent: ${accepted.length} acknowledged events held ${held} bytes, over spool.max_bytes=2048`);
        await stopAndCheck(gw);
        await relay.close();
    });

    test('spool full: a duplicate of an acknowledged event still gets the same 202 answer', async () => {
        const port = await freePort();
        const gw = await gateway('spool-full-dup', gatewayEnv(`http://127.0.0.1:${port}/v1/track`, { GW_SPOOL_MAX_BYTES: '2048' }));
        const { accepted, refused } = await fillSpool(gw, 'sfd');
        assert.equal(refused.length, 3, `spool full dup: the spool filled (accepted ${accepted.length})`);
        const again = await postSignIn(gw, accepted[0].token);
        assert.equal(again.status, 202, `spool full dup: an acknowledged token posted again while full: 202 (got ${again.status} ${again.text})`);
        assert.equal(again.json?.event_id, accepted[0].id, 'spool full dup: the same event_id');
        await stopAndCheck(gw);
    });

    test('dedup.window_s=1: a repeat within the window is collapsed, after it the id is new again', async () => {
        const up = await upstream();
        const gw = await gateway('dedup-window', gatewayEnv(up.url, { GW_DEDUP_WINDOW_S: '1' }));
        const t0 = performance.now();
        const a = await signIn(gw, 'win');
        await up.waitForEvents(1, 10000 * SLOW);
        const r2 = await postSignIn(gw, a.token);
        const inWindow = performance.now() - t0 < 900;
        assert.deepStrictEqual([r2.status, r2.json?.event_id], [202, a.id], 'dedup window: a repeat gets 202 and the same event_id');
        await sleep(Math.max(0, 1300 - (performance.now() - t0)));
        const r3 = await postSignIn(gw, a.token);
        assert.deepStrictEqual([r3.status, r3.json?.event_id], [202, a.id], 'dedup window: after the window, 202 and the same event_id');
        await up.waitForEvents(2, 10000 * SLOW);
        await sleep(400);
        if (inWindow) {
            assert.equal(byId(up.events(), a.id), 2, 'dedup window: forwarded once inside the window and once after it');
        }
        assert.ok(up.events().every((e) => e.properties.message_id === a.id), 'dedup window: only that event');
        await stopAndCheck(gw);
    });

    test('SIGTERM with events in flight: exit 0; the rest is sent after restart, each acknowledged event once', async () => {
        const latency = 300;
        const slow = await upstream(async () => {
            await sleep(latency);
            return undefined;
        });
        const env = { GW_UPSTREAM_BATCH_MAX: '2', GW_UPSTREAM_BATCH_MS: '10', GW_UPSTREAM_SHUTDOWN_MS: '400' };
        const gw1 = await gateway('sigterm-1', gatewayEnv(slow.url, env));
        const dataDir = gw1.dataDir;
        const acked = await Promise.all(Array.from({ length: 20 }, () => signIn(gw1, 'term')));
        await slow.waitFor(() => slow.requests.length >= 1, 10000 * SLOW, 'a first (slow) upstream request');
        // More sign-ins race the SIGTERM: each is either acknowledged or not.
        const racing = Array.from({ length: 6 }, () => newToken('term-race'));
        const racePosts = racing.map((t) => postSignIn(gw1, t.token).then((r) => r, (e) => ({ status: 0, error: String(e) })));
        let exitAt = Infinity;
        gw1.exited.then(() => {
            exitAt = performance.now();
        });
        await sleep(5);
        gw1.proc.kill('SIGTERM');
        await waitFor(() => gw1.logs().some((o) => o.event === 'stopping') || gw1.exitInfo(), 5000 * SLOW, 'the "stopping" log line');
        // A new connection after SIGTERM: not accepted (refused, or 503).
        const late = newToken('term-late');
        const lateRes = await request(`${gw1.url}/v1/signed-in`, { method: 'POST', headers: { authorization: `Bearer ${late.token}` }, timeoutMs: 5000 * SLOW })
            .then((r) => r, (e) => ({ status: 0, error: String(e) }));
        const code = await gw1.stop();
        assertLogHygiene(gw1);
        assert.equal(code, 0, 'sigterm: exit code 0 after SIGTERM');
        const raceResults = await Promise.all(racePosts);
        for (const [i, r] of raceResults.entries()) {
            assert.ok([0, 202, 503].includes(r.status), `sigterm: racing sign-in ${i} answered 202 or 503, or not connected (got ${r.status} ${r.text ?? r.error})`);
            if (r.status === 202) {
                assert.equal(r.json?.event_id, racing[i].id, `sigterm: racing sign-in ${i} event_id`);
                acked.push(racing[i]);
            }
            if (r.status === 503) {
                assert.equal(r.json?.error, 'shutting_down', `sigterm: racing sign-in ${i} 503 is shutting_down`);
            }
        }
        // Delivered in run 1: answered 2xx before the gateway exited.
        const run1 = answeredBefore(slow, latency, exitAt);
        assert.ok(lateRes.status === 0 || (lateRes.status === 503 && lateRes.json?.error === 'shutting_down'),
            `sigterm: a sign-in on a new connection after SIGTERM is not accepted (got ${lateRes.status} ${lateRes.text ?? lateRes.error})`);
        assert.ok(run1.length < acked.length, `sigterm: events were left for the next run (${run1.length} of ${acked.length} delivered)`);
        await slow.close();

        const fast = await upstream();
        const gw2 = await gateway('sigterm-2', gatewayEnv(fast.url), { dataDir });
        await fast.waitFor(() => acked.every((s) => byId([...run1, ...fast.events()], s.id) >= 1), 15000 * SLOW, 'every acknowledged event across both runs');
        await sleep(500);
        assertEachOnce([...run1, ...fast.events()], acked, 'sigterm: across both runs');
        assert.equal(byId([...slow.allEvents(), ...fast.allEvents()], late.id), 0, 'sigterm: the sign-in refused after SIGTERM is never sent');
        for (const [i, r] of raceResults.entries()) {
            if (r.status === 503) {
                assert.equal(byId([...run1, ...fast.allEvents()], racing[i].id), 0, `sigterm: refused racing sign-in ${i} never sent`);
            }
        }
        await stopAndCheck(gw2);
    });

    test('SIGTERM while a slow upstream request is under way: it may finish (at most timeout_ms), no more tries; exit 0; nothing lost', async () => {
        const latency = 2500 + 2000 * SLOW;
        const slow = await upstream(async () => {
            await sleep(latency);
            return undefined;
        });
        const env = { GW_UPSTREAM_BATCH_MAX: '2', GW_UPSTREAM_BATCH_MS: '10', GW_UPSTREAM_SHUTDOWN_MS: '300', GW_UPSTREAM_TIMEOUT_MS: '20000' };
        const gw1 = await gateway('sigterm-deadline-1', gatewayEnv(slow.url, env));
        const acked = await Promise.all(Array.from({ length: 6 }, () => signIn(gw1, 'deadline')));
        await slow.waitFor(() => slow.requests.length >= 1, 10000 * SLOW, 'a first (slow) upstream request');
        let exitAt = Infinity;
        gw1.exited.then(() => {
            exitAt = performance.now();
        });
        const t0 = performance.now();
        const code = await gw1.stop();
        const took = exitAt - t0;
        assertLogHygiene(gw1);
        assert.equal(code, 0, 'sigterm deadline: exit code 0 after SIGTERM');
        const run1 = answeredBefore(slow, latency, exitAt);
        await slow.close();

        const fast = await upstream();
        const gw2 = await gateway('sigterm-deadline-2', gatewayEnv(fast.url), { dataDir: gw1.dataDir });
        await fast.waitFor(() => acked.every((s) => byId([...run1, ...fast.events()], s.id) >= 1), 15000 * SLOW, 'every acknowledged event across both runs');
        await sleep(300);
        const ids = new Set(acked.map((s) => s.id));
        assert.ok(fast.events().every((e) => ids.has(e.properties?.message_id)), 'sigterm deadline: nothing but acknowledged events');
        assertEachOnce(fast.events(), acked.filter((s) => byId(run1, s.id) === 0), 'sigterm deadline: what the first run did not deliver, after restart');
        await stopAndCheck(gw2);
        // The request under way finishes (it may have been taken: cutting it
        // short could send its events twice); nothing new starts after it.
        assert.ok(took < latency + 300 + 1500 * SLOW, `sigterm deadline: exited ${Math.round(took)} ms after SIGTERM with upstream.shutdown_ms=300 (upstream answers after ${latency} ms)`);
        assert.ok(slow.requests.length <= 2, `sigterm deadline: no new upstream request after the deadline (${slow.requests.length})`);
    });

    test('spool settings are checked: spool.max_bytes below 1024 or an unknown durability stop the start', async () => {
        const up = await upstream();
        const ok = await gateway('spool-min', gatewayEnv(up.url, { GW_SPOOL_MAX_BYTES: '1024', GW_SPOOL_DURABILITY: 'power' }));
        const s = await signIn(ok, 'min');
        await up.waitForEvents(1, 10000 * SLOW);
        assertEachOnce(up.events(), [s], 'spool.max_bytes=1024 (the minimum) with durability power');
        await stopAndCheck(ok);
        for (const [label, extra] of [['max_bytes 1000', { GW_SPOOL_MAX_BYTES: '1000' }], ['durability sometimes', { GW_SPOOL_DURABILITY: 'sometimes' }]]) {
            const dir = makeTempDir('badcfg');
            const r = await runBin([], { env: { ...gatewayEnv('http://127.0.0.1:9/v1/track'), GW_LISTEN_PORT: '0', GW_DATA_DIR: dir, ...extra }, timeoutMs: 10000 * SLOW });
            assert.equal(r.code, 2, `${label}: exit 2, a configuration error (got ${r.code}; stderr ${r.stderr.slice(0, 300)})`);
            assert.ok(/spool/.test(r.stderr), `${label}: the message names the spool setting (${r.stderr.slice(0, 300)})`);
            assert.doesNotMatch(r.stderr, /Sanitizer|runtime error:/, `${label}: no sanitizer report`);
        }
    });

    test('corrupt spool at start: non-zero exit, an error line naming the spool, the file left as it was', async () => {
        const dir = makeTempDir('corrupt');
        const spool = path.join(dir, 'spool.db');
        const garbage = Buffer.concat([Buffer.from('this is not an SQLite database\n'), crypto.randomBytes(8192)]);
        fs.writeFileSync(spool, garbage);
        const r = await runExpectingFailure('corrupt-garbage', { ...gatewayEnv('http://127.0.0.1:9/v1/track'), GW_DATA_DIR: dir },
            [(o) => o.event === 'start_failed' && /spool/.test(String(o.error))]);
        assert.ok(typeof r.code === 'number' && r.code !== 0, `corrupt spool (garbage): non-zero exit (got ${r.code})`);
        assert.ok(r.errors.some((o) => /spool/.test(JSON.stringify(o)) && JSON.stringify(o).includes(spool)),
            `corrupt spool (garbage): an error log line naming the spool ${spool} (errors: ${JSON.stringify(r.errors)})`);
        assert.ok(!r.lines.some((l) => l.includes('"listening"')), 'corrupt spool (garbage): never listened');
        assert.ok(fs.readFileSync(spool).equals(garbage), 'corrupt spool (garbage): the file is not overwritten');
    });

    test('corrupt spool at start: a real spool with damaged pages is refused too', async () => {
        // Make a real spool holding events (upstream down), stop cleanly,
        // then overwrite everything past the first page.
        const port = await freePort();
        const env = gatewayEnv(`http://127.0.0.1:${port}/v1/track`, { GW_UPSTREAM_SHUTDOWN_MS: '100' });
        const gw = await gateway('corrupt-pages-seed', env);
        await Promise.all(Array.from({ length: 20 }, () => signIn(gw, 'pages')));
        await stopAndCheck(gw);
        const spool = path.join(gw.dataDir, 'spool.db');
        const size = fs.statSync(spool).size;
        assert.ok(size >= 8192, `corrupt pages: the spool has more than one page (${size} bytes)`);
        const fd = fs.openSync(spool, 'r+');
        fs.writeSync(fd, Buffer.alloc(size - 4096, 0xa5), 0, size - 4096, 4096);
        fs.closeSync(fd);
        for (const f of ['spool.db-wal', 'spool.db-shm']) {
            fs.rmSync(path.join(gw.dataDir, f), { force: true });
        }
        const damaged = fs.readFileSync(spool);
        const r = await runExpectingFailure('corrupt-pages', { ...env, GW_DATA_DIR: gw.dataDir },
            [(o) => o.event === 'start_failed' && /spool/.test(String(o.error))]);
        assert.ok(typeof r.code === 'number' && r.code !== 0, `corrupt spool (pages): non-zero exit (got ${r.code}; stderr ${r.lines.join(' | ')})`);
        assert.ok(r.errors.some((o) => JSON.stringify(o).includes(spool)),
            `corrupt spool (pages): an error log line naming the spool (errors: ${JSON.stringify(r.errors)})`);
        assert.ok(fs.readFileSync(spool).equals(damaged), 'corrupt spool (pages): the file is not overwritten');
    });

    test('unwritable spool path (inside a regular file): non-zero exit with an error line', async () => {
        const dir = makeTempDir('unwritable');
        const file = path.join(dir, 'not-a-dir');
        fs.writeFileSync(file, 'a regular file\n');
        const spool = path.join(file, 'spool.db');
        const r = await runExpectingFailure('unwritable', { ...gatewayEnv('http://127.0.0.1:9/v1/track'), GW_DATA_DIR: dir, GW_SPOOL_PATH: spool },
            [(o) => o.event === 'start_failed' && /spool/.test(String(o.error))]);
        assert.ok(typeof r.code === 'number' && r.code !== 0, `unwritable spool: non-zero exit (got ${r.code})`);
        assert.ok(r.errors.some((o) => /spool/.test(JSON.stringify(o))), `unwritable spool: an error log line naming the spool (errors: ${JSON.stringify(r.errors)})`);
        assert.ok(!r.lines.some((l) => l.includes('"listening"')), 'unwritable spool: never listened');
        assert.equal(fs.readFileSync(file, 'utf8'), 'a regular file\n', 'unwritable spool: the regular file is untouched');
    });

    test('durability off: still delivers and deduplicates', async () => {
        const up = await upstream((r, n) => (n === 0 ? { status: 503, body: { error: 'warming up' } } : undefined));
        const gw = await gateway('durability-off', gatewayEnv(up.url, { GW_SPOOL_DURABILITY: 'off' }));
        const sent = await Promise.all(Array.from({ length: 6 }, () => signIn(gw, 'off')));
        const again = await postSignIn(gw, sent[0].token);
        assert.deepStrictEqual([again.status, again.json?.event_id], [202, sent[0].id], 'durability off: a repeated token gets 202 and the same event_id');
        await up.waitForEvents(6, 10000 * SLOW);
        await sleep(500);
        assertEachOnce(up.events(), sent, 'durability off');
        await stopAndCheck(gw);
    });

    test('durability power: delivers, deduplicates and survives SIGKILL with the upstream down', async () => {
        const port = await freePort();
        const env = gatewayEnv(`http://127.0.0.1:${port}/v1/track`, { GW_SPOOL_DURABILITY: 'power' });
        const gw1 = await gateway('power-1', env);
        const sent = await Promise.all(Array.from({ length: 10 }, () => signIn(gw1, 'power')));
        const again = await postSignIn(gw1, sent[0].token);
        assert.deepStrictEqual([again.status, again.json?.event_id], [202, sent[0].id], 'durability power: a repeated token gets 202 and the same event_id');
        await killHard(gw1);
        const gw2 = await gateway('power-2', env, { dataDir: gw1.dataDir });
        const up = await upstream();
        const relay = await openRelay(port, up.port);
        track(() => relay.close());
        await up.waitForEvents(10, 15000 * SLOW);
        await sleep(500);
        assertEachOnce(up.events(), sent, 'durability power: after SIGKILL and restart');
        await stopAndCheck(gw2);
        await relay.close();
    });
});
