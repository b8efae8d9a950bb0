// Scale-out: three gateways (each its own data dir and spool, the same
// users' keys, one real upstream) behind Debian's HAProxy (roundrobin,
// health checks on /healthz, no retries: HAProxy never replays a POST).
// Four clients send sign-ins for ~9 s, each request with a fresh token, and
// retry a request whose answer was lost (connection error / 502 / 503) once
// with the same token. Mid-run one gateway gets SIGKILL and comes back on
// the same data dir and port. Afterwards: every 202 arrives upstream, every
// request that failed on all attempts lost its answer, and the only
// duplicates are the ones the README names (a retry that landed on another
// replica; a batch the killed gateway had delivered but not yet removed).
// Skipped, with the reason printed, only when the haproxy binary is absent.
import { describe, test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, execFile } from 'node:child_process';
import { createInterface } from 'node:readline';
import crypto from 'node:crypto';
import fs from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import {
    makeHsSecretFile, makeTempDir, signJwt, request, startGateway, startUpstream, stopAndCheck, assertLogHygiene,
    nowS, sleep, waitFor, withTimeout, registerSensitive, signinEventId, SLOW,
} from './lib/harness.mjs';

const ISS = 'https://idp.e2e.example/';
const AUD = 'signin-gateway-e2e';
const API_KEY = `up-key-${crypto.randomBytes(16).toString('hex')}`;
registerSensitive(API_KEY);

const CLIENTS = 4;
const LOAD_MS = 9000;
const KILL_AT_MS = 3500;         // after the load starts
const DOWN_MS = 1500;            // SIGKILL to restart
const RETRY_DELAY_MS = 50;       // before the one retry of a lost answer
const REPLICAS = ['gw1', 'gw2', 'gw3'];
const VICTIM = 'gw2';

/* The haproxy binary: PATH, then Debian's /usr/sbin (not on every user's PATH). */
function findHaproxy() {
    const dirs = [...(process.env.PATH || '').split(':'), '/usr/sbin', '/usr/local/sbin'];
    for (const d of dirs) {
        if (!d) {
            continue;
        }
        const p = path.join(d, 'haproxy');
        try {
            fs.accessSync(p, fs.constants.X_OK);
            return p;
        } catch {
            /* next */
        }
    }
    return null;
}
const HAPROXY = findHaproxy();
const SKIP = HAPROXY ? false : 'haproxy binary not found (PATH, /usr/sbin): install it with `apt-get install haproxy` (scripts/install-deps.sh --test)';
if (SKIP) {
    console.log(`# scale_out: SKIPPED: ${SKIP}`);
}

let users;
let seq = 0;

/* A fresh user token (distinct sub and jti) and its expected event id. */
function newToken() {
    const now = nowS();
    const c = { iss: ISS, aud: AUD, sub: `so-${++seq}-${crypto.randomBytes(3).toString('hex')}`, jti: crypto.randomUUID(), iat: now - 5, exp: now + 900 };
    const token = signJwt({ alg: 'HS256', typ: 'JWT' }, c, users.secret);
    return { token, sub: c.sub, id: signinEventId(ISS, c.sub, c.jti) };
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

function gatewayEnv(upPort, replica, listenPort) {
    return {
        GW_LISTEN_PORT: String(listenPort),
        GW_AUTH_HS_SECRET_FILE: users.file,
        GW_AUTH_ISS: ISS,
        GW_AUTH_AUD: AUD,
        // One upstream; the query names the sending replica in its records.
        GW_UPSTREAM_URL: `http://127.0.0.1:${upPort}/v1/track?replica=${replica}`,
        GW_UPSTREAM_API_KEY: API_KEY,
        GW_UPSTREAM_BATCH_MAX: '50',
        GW_UPSTREAM_BATCH_MS: '20',
        GW_UPSTREAM_RETRY_BASE_MS: '50',
        GW_UPSTREAM_RETRY_MAX_MS: '300',
        GW_UPSTREAM_TIMEOUT_MS: String(5000 * SLOW),
    };
}

/* HAProxy's configuration: one frontend, roundrobin over the replicas with
 * health checks on /healthz, `retries 0` (a POST is never sent twice by the
 * balancer), a response header naming the server, and one log line per
 * request on stderr with the server, status, termination state and the
 * client's X-Attempt header. */
function haproxyConfig(frontPort, servers) {
    const s = (n) => `${n * SLOW}s`;
    return [
        'global',
        '    maxconn 512',
        '    log stderr format raw local0 info',
        '',
        'defaults',
        '    mode http',
        '    log global',
        '    retries 0',
        '    option http-server-close',
        `    timeout connect ${s(2)}`,
        `    timeout client ${s(5)}`,
        `    timeout server ${s(5)}`,
        `    timeout http-request ${s(5)}`,
        `    timeout check ${s(1)}`,
        '',
        'frontend fe',
        `    bind 127.0.0.1:${frontPort}`,
        '    capture request header X-Attempt len 80',
        '    log-format "SO %b/%s %ST %ts %hr"',
        '    default_backend gws',
        '',
        'backend gws',
        '    balance roundrobin',
        '    option httpchk GET /healthz',
        '    http-check expect status 200',
        '    http-response set-header X-Served-By %s',
        '    default-server check inter 200ms fall 2 rise 2',
        ...servers.map(({ name, port }) => `    server ${name} 127.0.0.1:${port}`),
        '',
    ].join('\n');
}

function execHaproxyCheck(cfgFile) {
    return new Promise((resolve) => {
        execFile(HAPROXY, ['-c', '-f', cfgFile], { timeout: 10000 * SLOW }, (err, stdout, stderr) => {
            resolve({ code: err ? (err.code ?? err.signal) : 0, out: `${stdout}${stderr}` });
        });
    });
}

/* Starts HAProxy in the foreground (-db) with cfg; its stderr lines are kept. */
async function startHaproxy(cfg) {
    const dir = makeTempDir('haproxy');
    const cfgFile = path.join(dir, 'haproxy.cfg');
    fs.writeFileSync(cfgFile, cfg);
    const chk = await execHaproxyCheck(cfgFile);
    assert.equal(chk.code, 0, `haproxy: configuration is valid (haproxy -c): ${chk.out}`);
    const proc = spawn(HAPROXY, ['-db', '-f', cfgFile], { cwd: dir, stdio: ['ignore', 'pipe', 'pipe'] });
    const lines = [];
    let exitInfo = null;
    const exited = new Promise((r) => proc.on('exit', (code, signal) => {
        exitInfo = { code, signal };
        r(exitInfo);
    }));
    proc.on('error', () => {});
    for (const s of [proc.stdout, proc.stderr]) {
        createInterface({ input: s }).on('line', (l) => lines.push(l));
    }
    const stopOnExit = () => {
        try {
            proc.kill('SIGKILL');
        } catch {
            /* gone */
        }
    };
    process.on('exit', stopOnExit);
    return {
        proc, lines, cfgFile, exited, exitInfo: () => exitInfo,
        async stop() {
            if (!exitInfo) {
                proc.kill('SIGTERM');
                if (!await withTimeout(exited, 5000 * SLOW, null)) {
                    proc.kill('SIGKILL');
                    await exited;
                    exitInfo.timedOut = true;
                }
            }
            process.off('exit', stopOnExit);
            return exitInfo;
        },
    };
}

/* HAProxy's request log lines: attempt tag -> {server, status, term}. */
function haproxyRequestLog(lines) {
    const byAttempt = new Map();
    for (const l of lines) {
        const m = /SO gws\/(\S+) (-?\d+) (\S+) \{([^}]*)\}/.exec(l);
        if (m && m[4]) {
            byAttempt.set(m[4], { server: m[1], status: Number(m[2]), term: m[3] });
        }
    }
    return byAttempt;
}

/* Kills gw with SIGKILL and runs the teardown log checks on it. */
async function killHard(gw) {
    gw.proc.kill('SIGKILL');
    await gw.exited;
    const code = await gw.stop();
    assertLogHygiene(gw);
    assert.equal(code, 'signal:SIGKILL', `${gw.name}: ended by SIGKILL`);
}

const LOST = new Set([0, 502, 503]);

describe('scale-out: three replicas behind HAProxy, one killed mid-run', { skip: SKIP }, () => {
    const cleanup = [];
    after(async () => {
        for (const fn of cleanup.reverse()) {
            await fn().catch(() => {});
        }
    });
    before(() => {
        users = makeHsSecretFile('users');
    });

    test('every 202 arrives upstream; failures are lost answers only; duplicates only from a retry on another replica or the killed replica re-sending a delivered batch', async () => {
        const up = await startUpstream();
        cleanup.push(() => up.close());

        // ---- three replicas on fixed free ports (the victim comes back on its own)
        const ports = {};
        for (const r of REPLICAS) {
            ports[r] = await freePort();
        }
        const gws = {};
        for (const r of REPLICAS) {
            gws[r] = await startGateway({ name: `so-${r}`, env: gatewayEnv(up.port, r, ports[r]) });
            const g = gws[r];
            cleanup.push(async () => {
                if (!g.exitInfo()) {
                    await g.stop();
                }
            });
            assert.equal(g.port, ports[r], `${r}: listens on its fixed port ${ports[r]}`);
        }

        // ---- HAProxy in front
        const frontPort = await freePort();
        const ha = await startHaproxy(haproxyConfig(frontPort, REPLICAS.map((name) => ({ name, port: ports[name] }))));
        cleanup.push(async () => {
            await ha.stop();
        });
        const front = `http://127.0.0.1:${frontPort}`;
        const seenUp = new Set();
        await waitFor(async () => {
            try {
                const r = await request(`${front}/healthz`, { timeoutMs: 2000 * SLOW });
                if (r.status === 200 && r.headers['x-served-by']) {
                    seenUp.add(r.headers['x-served-by']);
                }
            } catch {
                /* not yet */
            }
            return seenUp.size === REPLICAS.length;
        }, 15000 * SLOW, `haproxy: GET /healthz answered by all three replicas (seen ${[...seenUp]}; haproxy log: ${ha.lines.slice(-5).join(' | ')})`);

        // ---- the load
        const records = [];
        const tLoad = performance.now();
        const loadEnd = tLoad + LOAD_MS;
        let attemptSerial = 0;

        async function attempt(t, n) {
            const tag = `a${++attemptSerial}-${n}`;
            const a = { tag, n, start: performance.now(), end: null, status: 0, eventId: null, servedBy: null, error: null, body: null };
            try {
                const res = await request(`${front}/v1/signed-in`, {
                    method: 'POST',
                    headers: { authorization: `Bearer ${t.token}`, 'x-attempt': tag },
                    timeoutMs: 8000 * SLOW,
                });
                a.status = res.status;
                a.eventId = res.json?.event_id ?? null;
                a.servedBy = res.headers['x-served-by'] ?? null;
                a.body = res.text.slice(0, 200);
            } catch (e) {
                a.error = `${e.code ?? ''} ${e.message}`.trim();
            }
            a.end = performance.now();
            return a;
        }

        async function client() {
            while (performance.now() < loadEnd) {
                const t = newToken();
                const rec = { t, attempts: [] };
                records.push(rec);
                const first = await attempt(t, 1);
                rec.attempts.push(first);
                if (LOST.has(first.status)) {
                    await sleep(RETRY_DELAY_MS);
                    rec.attempts.push(await attempt(t, 2));
                }
            }
        }

        let killAt = null;
        let restartAt = null;
        let victim2 = null;
        const chaos = (async () => {
            await sleep(KILL_AT_MS);
            killAt = performance.now();
            await killHard(gws[VICTIM]);
            await sleep(DOWN_MS);
            restartAt = performance.now();
            victim2 = await startGateway({ name: `so-${VICTIM}-restarted`, env: gatewayEnv(up.port, VICTIM, ports[VICTIM]), dataDir: gws[VICTIM].dataDir });
            cleanup.push(async () => {
                if (!victim2.exitInfo()) {
                    await victim2.stop();
                }
            });
        })();

        const clientsDone = Promise.all(Array.from({ length: CLIENTS }, () => client()));
        await chaos;
        await clientsDone;
        const loadTook = performance.now() - tLoad;
        assert.ok(victim2, `${VICTIM}: restarted on the same data dir and port`);
        assert.equal(victim2.port, ports[VICTIM], `${VICTIM}: restarted on the same port ${ports[VICTIM]}`);

        // ---- the client side's view
        const attempts = records.flatMap((r) => r.attempts);
        const acked = records.filter((r) => r.attempts.some((a) => a.status === 202));
        const failedAll = records.filter((r) => !r.attempts.some((a) => a.status === 202));
        const lostFirst = records.filter((r) => LOST.has(r.attempts[0].status));
        const retried = records.filter((r) => r.attempts.length === 2);
        const retriedOk = retried.filter((r) => r.attempts[1].status === 202);
        const served = {};
        for (const a of attempts) {
            if (a.status === 202) {
                served[a.servedBy] = (served[a.servedBy] || 0) + 1;
            }
        }
        const statusCount = {};
        for (const a of attempts) {
            const k = a.status === 0 ? `0 (${(a.error || '').split(' ')[0] || 'error'})` : String(a.status);
            statusCount[k] = (statusCount[k] || 0) + 1;
        }
        console.log(`# scale_out: ${records.length} sign-ins, ${attempts.length} attempts in ${Math.round(loadTook)} ms; `
            + `statuses ${JSON.stringify(statusCount)}; 202 by replica ${JSON.stringify(served)}; `
            + `first attempt lost ${lostFirst.length}, retried ${retried.length}, retry 202 ${retriedOk.length}, failed on both ${failedAll.length}`);

        assert.ok(records.length >= 200, `load: at least 200 sign-ins sent (${records.length})`);
        assert.ok(killAt !== null && killAt - tLoad < LOAD_MS - 2000, 'load: the kill happened well inside the load');
        for (const r of REPLICAS) {
            assert.ok((served[r] || 0) > 0, `roundrobin: replica ${r} answered 202s (${JSON.stringify(served)})`);
        }
        const afterRestart = attempts.filter((a) => a.servedBy === VICTIM && a.status === 202 && a.start > restartAt);
        assert.ok(afterRestart.length > 0, `${VICTIM}: answered 202s again after its restart through HAProxy (${afterRestart.length})`);

        for (const r of records) {
            for (const a of r.attempts) {
                assert.ok(a.status === 202 || LOST.has(a.status),
                    `attempt ${a.tag} (${r.t.sub}): 202 or a lost answer (0 / 502 / 503), got ${a.status} ${a.error ?? a.body}`);
                if (a.status === 202) {
                    assert.equal(a.eventId, r.t.id, `attempt ${a.tag} (${r.t.sub}): 202 event_id is the token's id`);
                }
            }
            assert.ok(r.attempts.length === 1 || LOST.has(r.attempts[0].status), `${r.t.sub}: retried only after a lost answer`);
        }

        // Lost answers come only from the kill: none ended before it, none
        // started long after the victim was back.
        const lostAttempts = attempts.filter((a) => LOST.has(a.status));
        const hlog = haproxyRequestLog(ha.lines);
        const lostDesc = (a) => {
            const h = hlog.get(a.tag);
            return `${a.tag}: status ${a.status}${a.error ? ` (${a.error})` : ''}, ${Math.round(a.start - killAt)}..${Math.round(a.end - killAt)} ms after the kill, haproxy: ${h ? `${h.server} ${h.status} ${h.term}` : 'no log line'}`;
        };
        if (lostAttempts.length) {
            console.log(`# scale_out: lost answers:\n#   ${lostAttempts.slice(0, 40).map(lostDesc).join('\n#   ')}`);
        }
        for (const a of lostAttempts) {
            assert.ok(a.end >= killAt, `lost answer ${lostDesc(a)}: ended after the kill`);
            assert.ok(a.start <= restartAt + 5000 * SLOW, `lost answer ${lostDesc(a)}: started at most 5 s after the restart`);
            const h = hlog.get(a.tag);
            if (h && h.server !== '<NOSRV>') {
                assert.equal(h.server, VICTIM, `lost answer ${lostDesc(a)}: HAProxy had sent it to the killed replica ${VICTIM}`);
            }
        }
        for (const r of failedAll) {
            assert.ok(r.attempts.every((a) => LOST.has(a.status)), `failed on all attempts ${r.t.sub}: every attempt lost its answer`);
        }

        // ---- the upstream drains
        const sentIds = new Map(records.map((r) => [r.t.id, r]));
        const ackedIds = new Set(acked.map((r) => r.t.id));
        const arrivals = () => {
            const m = new Map();
            for (const req of up.requests) {
                if (!(req.status >= 200 && req.status < 300 && Array.isArray(req.body))) {
                    continue;
                }
                const replica = new URL(req.path, 'http://x').searchParams.get('replica');
                for (const e of req.body) {
                    const id = e?.properties?.message_id;
                    if (!m.has(id)) {
                        m.set(id, []);
                    }
                    m.get(id).push({ replica, t: req.t, e });
                }
            }
            return m;
        };
        await up.waitFor(() => {
            const m = arrivals();
            return [...ackedIds].every((id) => m.has(id));
        }, 30000 * SLOW, `every acknowledged event upstream (${ackedIds.size})`).catch(() => {});
        // Quiet: no upstream request for 1 s, and every spool empty.
        await waitFor(async () => {
            const last = up.requests.length ? up.requests[up.requests.length - 1].t : 0;
            return performance.now() - last > 1000;
        }, 30000 * SLOW, 'upstream quiet for 1 s');
        const live = [gws.gw1, victim2, gws.gw3];
        for (const g of live) {
            const m = await g.req('/metrics');
            const v = /^signin_gateway_spool_events(?:\{[^}]*\})? (\S+)$/m.exec(m.text);
            assert.ok(v, `${g.name}: /metrics has signin_gateway_spool_events`);
            assert.equal(Number(v[1]), 0, `${g.name}: spool drained (signin_gateway_spool_events 0)`);
        }

        const got = arrivals();
        const missing = [...ackedIds].filter((id) => !got.has(id));
        assert.deepStrictEqual(missing.map((id) => `${id} (${sentIds.get(id).t.sub}, ${sentIds.get(id).attempts.map((a) => `${a.status}@${a.servedBy}`).join(',')})`), [],
            `upstream: every event acknowledged 202 on any attempt arrived (${ackedIds.size} acknowledged)`);
        const unknown = [...got.keys()].filter((id) => !sentIds.has(id));
        assert.deepStrictEqual(unknown, [], 'upstream: no event arrived that was never sent');
        for (const [id, list] of got) {
            for (const x of list) {
                assert.equal(x.e.user_id, sentIds.get(id).t.sub, `upstream: event ${id} carries its token's sub`);
                assert.ok(REPLICAS.includes(x.replica), `upstream: event ${id} was sent by a known replica (${x.replica})`);
            }
        }
        const fromFailed = failedAll.filter((r) => got.has(r.t.id));

        // ---- duplicates
        // (a) a lost answer retried through another replica: each replica
        //     forwarded it once (the dedup window is per replica);
        // (b) a batch the killed replica delivered but had not removed from
        //     its spool when killed: sent again by it after the restart
        //     (README, "Delivery guarantees").
        const dups = [...got].filter(([, list]) => list.length > 1);
        const retriedElsewhere = new Set(retriedOk.filter((r) => {
            const h1 = hlog.get(r.attempts[0].tag);
            return r.attempts[1].servedBy !== (h1?.server ?? VICTIM);
        }).map((r) => r.t.id));
        let viaRetry = 0;
        let viaRedelivery = 0;
        const redeliveryLead = []; // ms between the first delivery and the kill
        for (const [id, list] of dups) {
            const r = sentIds.get(id);
            const desc = `duplicate ${id} (${r.t.sub}; attempts ${r.attempts.map((a) => `${a.status}@${a.servedBy ?? hlog.get(a.tag)?.server ?? '?'}`).join(', ')}; `
                + `arrivals ${list.map((x) => `${x.replica}@${Math.round(x.t - killAt)}ms`).join(', ')})`;
            const byReplica = {};
            for (const x of list) {
                byReplica[x.replica] = (byReplica[x.replica] || 0) + 1;
            }
            for (const [rep, n] of Object.entries(byReplica)) {
                if (rep !== VICTIM) {
                    assert.equal(n, 1, `${desc}: the surviving replica ${rep} sent it once`);
                }
            }
            if (Object.keys(byReplica).length > 1) {
                viaRetry++;
                assert.ok(retriedElsewhere.has(id), `${desc}: sent by two replicas only because its first attempt lost its answer and its retry was accepted by another replica`);
                assert.ok(byReplica[VICTIM] >= 1, `${desc}: one of the two replicas is the killed ${VICTIM}`);
            }
            if ((byReplica[VICTIM] || 0) > 1) {
                viaRedelivery++;
                const v = list.filter((x) => x.replica === VICTIM);
                assert.ok(v[0].t < killAt + 50, `${desc}: the killed replica's first delivery was before the kill`);
                assert.ok(v.slice(1).every((x) => x.t > restartAt), `${desc}: its repeat came after the restart (a batch delivered but not yet removed)`);
                assert.equal(v.length, 2, `${desc}: the killed replica sent it at most twice`);
                assert.ok(r.attempts.some((a) => a.start < killAt && (a.servedBy ?? hlog.get(a.tag)?.server) === VICTIM),
                    `${desc}: an attempt before the kill went to ${VICTIM}`);
                redeliveryLead.push(Math.round(killAt - v[0].t));
            }
        }
        console.log(`# scale_out: upstream: ${got.size} distinct events in ${up.requests.length} requests; `
            + `duplicates ${dups.length} (retried through another replica: ${viaRetry}; redelivered by ${VICTIM} after its restart: ${viaRedelivery}`
            + `${redeliveryLead.length ? `, first delivered ${Math.min(...redeliveryLead)}..${Math.max(...redeliveryLead)} ms before the kill` : ''}); `
            + `events of sign-ins that failed on both attempts that still arrived: ${fromFailed.length}`);

        // ---- teardown
        const haExit = await ha.stop();
        assert.ok(haExit && !haExit.timedOut, `haproxy: stopped on SIGTERM (${JSON.stringify(haExit)})`);
        for (const g of live) {
            await stopAndCheck(g);
        }
    });
});
