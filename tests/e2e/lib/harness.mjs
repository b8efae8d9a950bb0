// tests/e2e/lib/harness.mjs: drives the real gateway binary on a loopback
// port, a real upstream sink, really signed tokens, and the teardown checks
// every e2e file runs on every gateway it started (node: modules only).
import { spawn, execFile } from 'node:child_process';
import { createInterface } from 'node:readline';
import http from 'node:http';
import crypto from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import assert from 'node:assert/strict';
import { performance } from 'node:perf_hooks';
import { fileURLToPath } from 'node:url';

export const E2E_DIR = path.dirname(path.dirname(fileURLToPath(import.meta.url)));
export const TESTS_DIR = path.dirname(E2E_DIR);
export const REPO_ROOT = path.dirname(TESTS_DIR);
export const FIXTURES_DIR = path.join(TESTS_DIR, 'fixtures');
export const VECTORS_DIR = path.join(TESTS_DIR, 'vectors');

export const GW_BIN = process.env.GW_BIN || path.join(REPO_ROOT, 'build', 'signin-gateway');
export const SANITIZED = /^(1|on|true|yes)$/i.test(process.env.GW_SANITIZED || '');
/* Sanitized builds run several times slower: every wait scales with this. */
export const SLOW = SANITIZED ? 4 : 1;

const SUITE = path.basename(process.argv[1] || 'e2e').replace(/\.test\.mjs$/, '');
const OUT_DIR = process.env.GW_TEST_OUT ? path.join(process.env.GW_TEST_OUT, SUITE) : null;

// ---------------------------------------------------------------- small helpers

export const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

/* Resolves with p's value, or with onTimeout after ms; the timer is cleared
 * either way so that no pending wait keeps the test process alive. */
export function withTimeout(p, ms, onTimeout) {
    let timer;
    const t = new Promise((r) => {
        timer = setTimeout(() => r(onTimeout), ms);
    });
    return Promise.race([p, t]).finally(() => clearTimeout(timer));
}
export const nowS = () => Math.floor(Date.now() / 1000);
export const b64url = (buf) => Buffer.from(buf).toString('base64url');
export const isoFromS = (s) => new Date(s * 1000).toISOString();

const tempDirs = [];
/* A fresh private directory, removed when the test process exits (kept with
 * GW_KEEP_TMP=1 for debugging). */
export function makeTempDir(prefix = 'tmp') {
    const d = fs.mkdtempSync(path.join(os.tmpdir(), `gw-e2e-${SUITE}-${prefix}-`));
    tempDirs.push(d);
    return d;
}

/* Polls cond() every 20 ms until it returns a truthy value; throws a labelled
 * error after timeoutMs. Always bounded. */
export async function waitFor(cond, timeoutMs, label) {
    const deadline = performance.now() + timeoutMs;
    for (;;) {
        const v = await cond();
        if (v) {
            return v;
        }
        if (performance.now() > deadline) {
            throw new Error(`timed out after ${timeoutMs} ms waiting for: ${label}`);
        }
        await sleep(20);
    }
}

/* First 32 hex characters of SHA-256(iss "\n" sub "\n" (jti else iat)). */
export function signinEventId(iss, sub, jtiOrIat) {
    return crypto.createHash('sha256').update(`${iss}\n${sub}\n${jtiOrIat}`).digest('hex').slice(0, 32);
}

// ---------------------------------------------------------------- sensitive strings

const sensitive = new Set();
/* Strings that must never appear in any gateway log of this test file. */
export function registerSensitive(...values) {
    for (const v of values) {
        if (typeof v === 'string' && v.length >= 6) {
            sensitive.add(v);
        }
    }
}
export function registerToken(token) {
    registerSensitive(token);
    const parts = token.split('.');
    // The payload and the signature identify the token; the header alone
    // ("eyJhbGciOi...") is shared by many tokens and is no leak.
    for (const p of parts.slice(1)) {
        if (p.length >= 16) {
            registerSensitive(p);
        }
    }
}

// ---------------------------------------------------------------- keys and tokens

/* Per-run keys: RSA-2048, EC P-256 and a 48-byte random HS secret (its
 * base64url text is the key), written to a temp dir as JWKS, PEM and secret
 * files. */
export function makeKeys(label = 'keys') {
    const dir = makeTempDir(label);
    const rsa = crypto.generateKeyPairSync('rsa', { modulusLength: 2048 });
    const ec = crypto.generateKeyPairSync('ec', { namedCurve: 'P-256' });
    const hsSecret = crypto.randomBytes(48).toString('base64url');
    registerSensitive(hsSecret);

    const rsaJwk = { ...rsa.publicKey.export({ format: 'jwk' }), kid: 'rs-1', alg: 'RS256', use: 'sig' };
    const ecJwk = { ...ec.publicKey.export({ format: 'jwk' }), kid: 'ec-1', alg: 'ES256', use: 'sig' };
    const files = {
        jwks: path.join(dir, 'jwks.json'),
        rsaPublicPem: path.join(dir, 'rsa-public.pem'),
        ecPublicPem: path.join(dir, 'ec-public.pem'),
        hsSecret: path.join(dir, 'hs.secret'),
        hsSecretNl: path.join(dir, 'hs-newline.secret'),
    };
    const rsaPublicPem = rsa.publicKey.export({ type: 'spki', format: 'pem' });
    fs.writeFileSync(files.jwks, JSON.stringify({ keys: [rsaJwk, ecJwk] }, null, 2));
    fs.writeFileSync(files.rsaPublicPem, rsaPublicPem);
    fs.writeFileSync(files.ecPublicPem, ec.publicKey.export({ type: 'spki', format: 'pem' }));
    fs.writeFileSync(files.hsSecret, hsSecret);
    fs.writeFileSync(files.hsSecretNl, `${hsSecret}\n`);
    return { dir, files, rsa, ec, hsSecret, rsaPublicPem };
}

/* A random HS secret written to its own file (no trailing newline). */
export function makeHsSecretFile(label = 'hs') {
    const dir = makeTempDir(label);
    const secret = crypto.randomBytes(40).toString('base64url');
    registerSensitive(secret);
    const file = path.join(dir, 'secret');
    fs.writeFileSync(file, secret);
    return { secret, file };
}

/* Compact JWS over header and claims. key: string/Buffer for HS*, a private
 * KeyObject for RS*, PS*, ES256; ignored for alg none (any case). Options:
 * rawHeader / rawClaims give the encoded text verbatim. */
export function signJwt(header, claims, key, { rawHeader, rawClaims } = {}) {
    const h = rawHeader ?? b64url(JSON.stringify(header));
    const p = rawClaims ?? b64url(JSON.stringify(claims));
    const input = Buffer.from(`${h}.${p}`);
    const alg = String(header.alg);
    let sig;
    let m;
    if ((m = /^HS(256|384|512)$/.exec(alg))) {
        sig = crypto.createHmac(`sha${m[1]}`, key).update(input).digest();
    } else if ((m = /^RS(256|384|512)$/.exec(alg))) {
        sig = crypto.sign(`sha${m[1]}`, input, key);
    } else if ((m = /^PS(256|384|512)$/.exec(alg))) {
        sig = crypto.sign(`sha${m[1]}`, input, {
            key, padding: crypto.constants.RSA_PKCS1_PSS_PADDING, saltLength: Number(m[1]) / 8,
        });
    } else if (alg === 'ES256') {
        sig = crypto.sign('sha256', input, { key, dsaEncoding: 'ieee-p1363' });
    } else if (alg.toLowerCase() === 'none') {
        sig = Buffer.alloc(0);
    } else {
        throw new Error(`signJwt: unsupported alg ${alg}`);
    }
    const token = `${h}.${p}.${b64url(sig)}`;
    registerToken(token);
    if (claims && typeof claims.email === 'string') {
        registerSensitive(claims.email);
    }
    return token;
}

export function decodeJwt(token) {
    const [h, p] = token.split('.');
    return {
        header: JSON.parse(Buffer.from(h, 'base64url').toString('utf8')),
        claims: JSON.parse(Buffer.from(p, 'base64url').toString('utf8')),
    };
}

// ---------------------------------------------------------------- HTTP client

/* One HTTP/1.1 request. body: string | Buffer | plain object/array (sent as
 * JSON with Content-Type application/json unless a content-type header is
 * given; a header value of null removes it). chunks: array of Buffers sent
 * with Transfer-Encoding: chunked. Resolves {status, headers, text, json}. */
export function request(url, opts = {}) {
    const { method = 'GET', agent, chunks, expectContinue = false, timeoutMs = 15000 * SLOW } = opts;
    const headers = {};
    for (const [k, v] of Object.entries(opts.headers || {})) {
        headers[k.toLowerCase()] = v;
    }
    let body = opts.body;
    if (body !== undefined && !Buffer.isBuffer(body) && typeof body !== 'string') {
        body = JSON.stringify(body);
        if (!('content-type' in headers)) {
            headers['content-type'] = 'application/json';
        }
    }
    if (typeof body === 'string') {
        body = Buffer.from(body, 'utf8');
    }
    if (chunks) {
        headers['transfer-encoding'] = 'chunked';
    } else if (body !== undefined && !('content-length' in headers)) {
        headers['content-length'] = String(body.length);
    } else if (body === undefined && !/^(GET|HEAD|OPTIONS|DELETE)$/.test(method) && !('content-length' in headers)) {
        headers['content-length'] = '0';
    }
    if (expectContinue) {
        headers.expect = '100-continue';
    }
    for (const k of Object.keys(headers)) {
        if (headers[k] === null || headers[k] === undefined) {
            delete headers[k];
        }
    }
    const u = new URL(url);
    return new Promise((resolve, reject) => {
        let settled = false;
        let gotResponse = false;
        const done = (fn, v) => {
            if (!settled) {
                settled = true;
                clearTimeout(timer);
                fn(v);
            }
        };
        const req = http.request({
            host: u.hostname, port: u.port, path: u.pathname + u.search, method, headers,
            agent: agent ?? false,
        }, (res) => {
            gotResponse = true;
            const parts = [];
            res.on('data', (c) => parts.push(c));
            res.on('error', (e) => done(reject, e));
            res.on('end', () => {
                const text = Buffer.concat(parts).toString('utf8');
                let json;
                try {
                    json = text.length ? JSON.parse(text) : undefined;
                } catch {
                    json = undefined;
                }
                done(resolve, { status: res.statusCode, headers: res.headers, text, json });
            });
        });
        const timer = setTimeout(() => {
            req.destroy(new Error(`request timeout after ${timeoutMs} ms: ${method} ${url}`));
        }, timeoutMs);
        req.on('error', (e) => {
            // A server may answer (413) and close before the client has sent
            // the whole body: the response counts, the write error does not.
            if (!gotResponse) {
                done(reject, e);
            }
        });
        if (expectContinue) {
            // The body goes only after "100 Continue"; a final answer
            // (e.g. 413) before it means the body is never sent.
            req.on('continue', () => {
                if (!gotResponse) {
                    req.end(body);
                }
            });
            req.flushHeaders();
        } else if (chunks) {
            (async () => {
                for (const c of chunks) {
                    if (gotResponse || req.destroyed) {
                        break;
                    }
                    if (!req.write(c)) {
                        await new Promise((r) => {
                            const go = () => {
                                req.off('drain', go);
                                req.off('close', go);
                                r();
                            };
                            req.on('drain', go);
                            req.on('close', go);
                        });
                    }
                }
                if (!req.destroyed) {
                    req.end();
                }
            })().catch(() => {});
        } else {
            req.end(body);
        }
    });
}

// ---------------------------------------------------------------- gateway process

const running = new Set();
process.on('exit', () => {
    for (const p of running) {
        try {
            p.kill('SIGKILL');
        } catch {
            /* already gone */
        }
    }
    if (process.env.GW_KEEP_TMP !== '1') {
        for (const d of tempDirs) {
            try {
                fs.rmSync(d, { recursive: true, force: true });
            } catch {
                /* best effort */
            }
        }
    }
});

function cleanEnv(env) {
    const out = { PATH: process.env.PATH || '/usr/bin:/bin' };
    // Sanitizer runtime options are the CI's to choose, not the gateway's.
    for (const k of ['ASAN_OPTIONS', 'UBSAN_OPTIONS', 'LSAN_OPTIONS']) {
        if (process.env[k]) {
            out[k] = process.env[k];
        }
    }
    for (const [k, v] of Object.entries(env)) {
        if (v !== undefined && v !== null) {
            out[k] = String(v);
        }
    }
    return out;
}

let gwSerial = 0;

/* Spawns GW_BIN with a clean environment (PATH plus the given GW_* vars,
 * GW_LISTEN_PORT=0), learns the port from the "listening" log line and waits
 * for GET /healthz 200. */
export async function startGateway({ name = 'gw', env = {}, args = [], dataDir, expectErrors = [] } = {}) {
    assert.ok(fs.existsSync(GW_BIN), `gateway binary exists at GW_BIN=${GW_BIN}`);
    const dir = dataDir ?? makeTempDir(`${name}-data`);
    const fullEnv = cleanEnv({
        GW_LISTEN_HOST: '127.0.0.1',
        GW_LISTEN_PORT: '0',
        GW_DATA_DIR: dir,
        ...env,
    });
    const serial = ++gwSerial;
    const proc = spawn(GW_BIN, args, { env: fullEnv, cwd: dir, stdio: ['ignore', 'pipe', 'pipe'] });
    running.add(proc);
    const raw = [];
    const stdout = [];
    const expected = [...expectErrors];
    let exitInfo = null;
    const exited = new Promise((resolve) => {
        proc.on('exit', (code, signal) => {
            exitInfo = { code, signal };
            running.delete(proc);
            resolve(exitInfo);
        });
    });
    proc.on('error', () => {});
    proc.stdout.on('data', (c) => stdout.push(c));
    const rl = createInterface({ input: proc.stderr });
    let onListening;
    const listening = new Promise((r) => {
        onListening = r;
    });
    rl.on('line', (line) => {
        raw.push(line);
        if (line.includes('"listening"')) {
            try {
                const o = JSON.parse(line);
                if (o.event === 'listening' && Number.isInteger(o.port)) {
                    onListening(o);
                }
            } catch {
                /* reported by the teardown check */
            }
        }
    });
    const stderrClosed = new Promise((r) => rl.on('close', r));

    const agent = new http.Agent({ keepAlive: true, maxSockets: 8 });
    const gw = {
        name: `${name}#${serial}`,
        proc,
        dataDir: dir,
        env: fullEnv,
        agent,
        url: null,
        port: null,
        listenLine: null,
        rawLines: () => raw.slice(),
        stderrText: () => raw.join('\n'),
        stdoutText: () => Buffer.concat(stdout).toString('utf8'),
        logs: () => raw.map((l) => {
            try {
                return JSON.parse(l);
            } catch {
                return { unparsed: l };
            }
        }),
        /* Declares that error lines matching m are expected: m is a
         * function(line) -> bool, a RegExp over the raw line, or an object
         * whose members must all equal the line's. */
        expectError: (m) => expected.push(m),
        expectedErrors: () => expected,
        exitInfo: () => exitInfo,
        exited,
        /* Sends SIGTERM and awaits exit; returns the exit code (or
         * "signal:<name>" / "timeout"). */
        async stop(timeoutMs = 20000 * SLOW) {
            if (!exitInfo) {
                proc.kill('SIGTERM');
                const t = await withTimeout(exited, timeoutMs, null);
                if (!t) {
                    proc.kill('SIGKILL');
                    await exited;
                    exitInfo.timedOut = true;
                }
            }
            await withTimeout(stderrClosed, 2000, null);
            agent.destroy();
            writeArtifact(gw);
            if (exitInfo.timedOut) {
                return 'timeout';
            }
            return exitInfo.code ?? `signal:${exitInfo.signal}`;
        },
        req: (p, o = {}) => request(gw.url + p, { agent, ...o }),
    };

    const started = await withTimeout(
        Promise.race([listening, exited.then((e) => ({ exitedEarly: e }))]),
        15000 * SLOW, { timeout: true });
    if (!started || started.exitedEarly || started.timeout) {
        if (!exitInfo) {
            proc.kill('SIGKILL');
            await exited;
        }
        writeArtifact(gw);
        const why = started.timeout ? 'no "listening" line in time' : `exited early ${JSON.stringify(started.exitedEarly)}`;
        throw new Error(`${gw.name}: gateway did not start (${why}); stderr:\n${raw.join('\n')}`);
    }
    gw.listenLine = started;
    gw.port = started.port;
    gw.url = `http://127.0.0.1:${started.port}`;
    assert.equal(started.host, '127.0.0.1', `${gw.name}: listening line names host 127.0.0.1`);
    await waitFor(async () => {
        try {
            const r = await request(`${gw.url}/healthz`, { timeoutMs: 2000 * SLOW });
            return r.status === 200;
        } catch {
            return false;
        }
    }, 10000 * SLOW, `${gw.name}: GET /healthz 200`);
    return gw;
}

function writeArtifact(gw) {
    if (!OUT_DIR) {
        return;
    }
    try {
        fs.mkdirSync(OUT_DIR, { recursive: true });
        const base = path.join(OUT_DIR, gw.name.replace(/[^\w.-]+/g, '_'));
        fs.writeFileSync(`${base}.stderr.log`, gw.stderrText() + '\n');
        const so = gw.stdoutText();
        if (so) {
            fs.writeFileSync(`${base}.stdout.log`, so);
        }
    } catch {
        /* artifacts are a convenience */
    }
}

function matchesExpectation(m, line, obj) {
    if (typeof m === 'function') {
        return Boolean(m(obj, line));
    }
    if (m instanceof RegExp) {
        return m.test(line);
    }
    return Object.entries(m).every(([k, v]) => obj[k] === v);
}

const SANITIZER_RE = /ERROR: AddressSanitizer|runtime error:|LeakSanitizer|ERROR: \w*Sanitizer|SUMMARY: \w*Sanitizer/;
const LEVELS = new Set(['error', 'warn', 'info', 'debug']);

/* The checks every e2e file runs on every gateway it started: no sanitizer
 * report, every stderr line a JSON log object, no undeclared error line, no
 * registered token/secret/API key/email in the log. */
export function assertLogHygiene(gw, { extraSensitive = [] } = {}) {
    const lines = gw.rawLines();
    const text = lines.join('\n');
    const san = lines.filter((l) => SANITIZER_RE.test(l));
    assert.deepEqual(san, [], `${gw.name}: no sanitizer report in stderr`);

    const bad = [];
    const errors = [];
    for (const l of lines) {
        let o;
        try {
            o = JSON.parse(l);
        } catch {
            bad.push(l);
            continue;
        }
        if (o === null || typeof o !== 'object' || Array.isArray(o)) {
            bad.push(l);
            continue;
        }
        if (!LEVELS.has(o.level) || typeof o.event !== 'string' || typeof o.ts !== 'string' || typeof o.mod !== 'string') {
            bad.push(l);
        }
        if (o.level === 'error' && !gw.expectedErrors().some((m) => matchesExpectation(m, l, o))) {
            errors.push(l);
        }
    }
    assert.deepEqual(bad.slice(0, 5), [], `${gw.name}: every stderr line is a JSON log object with ts, level, mod, event`);
    assert.deepEqual(errors, [], `${gw.name}: no unexpected level "error" log line`);

    const leaks = [];
    for (const s of [...sensitive, ...extraSensitive]) {
        if (s && leaks_in(text, s)) {
            leaks.push(s.length > 24 ? `${s.slice(0, 12)}...${s.slice(-8)} (len ${s.length})` : s.replace(/^(.{3}).*(@.*)?$/, '$1***$2'));
        }
    }
    assert.deepEqual(leaks, [], `${gw.name}: no token, secret, API key or full email of this test in the log`);
}

/* An email counts only as a whole address: "a@example.com" inside
 * "ada@example.com" is another address, not a leak. */
function leaks_in(text, s) {
    if (!s.includes('@')) {
        return text.includes(s);
    }
    const esc = s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
    return new RegExp(`(?<![\\w.%+-])${esc}(?![\\w-]|\\.\\w)`).test(text);
}

/* Stops gw with SIGTERM and runs the teardown checks; exit code must be 0. */
export async function stopAndCheck(gw, opts = {}) {
    const code = await gw.stop();
    assertLogHygiene(gw, opts);
    assert.equal(code, 0, `${gw.name}: exit code 0 after SIGTERM`);
}

/* Runs the binary as a one-shot command (e.g. mint-token); bounded. */
export function runBin(args, { env = {}, timeoutMs = 20000 * SLOW } = {}) {
    return new Promise((resolve) => {
        execFile(GW_BIN, args, { env: cleanEnv(env), timeout: timeoutMs, maxBuffer: 1 << 20 }, (err, stdout, stderr) => {
            resolve({ code: err ? (typeof err.code === 'number' ? err.code : err.code || err.signal || -1) : 0, stdout, stderr });
        });
    });
}

// ---------------------------------------------------------------- upstream sink

/* A real HTTP server on 127.0.0.1:0 playing the Track API. behaviour(req, n)
 * -> {status, headers, body} (may be async) scripts the answer to the n-th
 * request (0-based); default 200. Every request is recorded with method,
 * path, headers, parsed JSON body, arrival time and the status answered. */
export async function startUpstream(behaviour, { port: listenPort = 0 } = {}) {
    const requests = [];
    const waiters = new Set();
    const notify = () => {
        for (const w of waiters) {
            w();
        }
    };
    const server = http.createServer((req, res) => {
        const parts = [];
        const t = performance.now();
        req.on('data', (c) => parts.push(c));
        req.on('end', async () => {
            const raw = Buffer.concat(parts).toString('utf8');
            let body;
            try {
                body = JSON.parse(raw);
            } catch {
                body = undefined;
            }
            const rec = {
                n: requests.length, method: req.method, path: req.url, headers: req.headers,
                raw, body, t, at: Date.now(), status: null, remotePort: req.socket.remotePort,
            };
            requests.push(rec);
            let reply = { status: 200, headers: {}, body: { status: 'ok' } };
            try {
                if (behaviour) {
                    const r = await behaviour(rec, rec.n);
                    if (r) {
                        reply = { ...reply, ...r };
                    }
                }
            } catch (e) {
                reply = { status: 500, headers: {}, body: { error: String(e) } };
            }
            rec.status = reply.status;
            const payload = typeof reply.body === 'string' ? reply.body : JSON.stringify(reply.body ?? {});
            res.writeHead(reply.status, { 'content-type': 'application/json', ...(reply.headers || {}) });
            res.end(payload);
            notify();
        });
    });
    await new Promise((resolve, reject) => {
        server.once('error', reject);
        server.listen(listenPort, '127.0.0.1', resolve);
    });
    const port = server.address().port;
    const up = {
        port,
        url: `http://127.0.0.1:${port}/v1/track`,
        requests,
        /* Events of requests answered 2xx (delivered), in arrival order. */
        events: () => requests.filter((r) => r.status >= 200 && r.status < 300 && Array.isArray(r.body)).flatMap((r) => r.body),
        /* Events of every request, whatever was answered. */
        allEvents: () => requests.filter((r) => Array.isArray(r.body)).flatMap((r) => r.body),
        async waitFor(pred, timeoutMs, label) {
            if (pred()) {
                return;
            }
            await new Promise((resolve, reject) => {
                const w = () => {
                    if (pred()) {
                        clearTimeout(timer);
                        waiters.delete(w);
                        resolve();
                    }
                };
                const timer = setTimeout(() => {
                    waiters.delete(w);
                    reject(new Error(`upstream: timed out after ${timeoutMs} ms waiting for ${label}`));
                }, timeoutMs);
                waiters.add(w);
            });
        },
        /* Resolves once at least count events were delivered (2xx). */
        waitForEvents(count, timeoutMs = 10000 * SLOW) {
            return up.waitFor(() => up.events().length >= count, timeoutMs, `${count} delivered events (have ${up.events().length})`);
        },
        waitForEvent(pred, timeoutMs = 10000 * SLOW, label = 'an event') {
            return up.waitFor(() => up.events().some(pred), timeoutMs, label).then(() => up.events().find(pred));
        },
        async close() {
            server.closeAllConnections?.();
            await new Promise((r) => server.close(r));
        },
    };
    return up;
}
