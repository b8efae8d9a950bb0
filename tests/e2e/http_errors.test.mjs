// HTTP-level answers: /healthz, 404, 405 with Allow, 415, 413 (Content-Length
// and chunked), invalid JSON, HEAD/OPTIONS, not_configured, and the config
// errors that stop the binary at start.
import { describe, test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import crypto from 'node:crypto';
import fs from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import {
    makeHsSecretFile, signJwt, startGateway, startUpstream, stopAndCheck, runBin, makeTempDir,
    nowS, registerSensitive, SLOW,
} from './lib/harness.mjs';

const ISS = 'https://idp.e2e.example/';
const AUD = 'signin-gateway-e2e';
const BODY_MAX = 4096;
const API_KEY = `up-key-${crypto.randomBytes(16).toString('hex')}`;
registerSensitive(API_KEY);

let users;
let backend;
let up;

const userToken = () => signJwt({ alg: 'HS256', typ: 'JWT' },
    { iss: ISS, aud: AUD, sub: `usr-${crypto.randomBytes(4).toString('hex')}`, iat: nowS() - 5, exp: nowS() + 600 }, users.secret);
const svcToken = () => signJwt({ alg: 'HS256', typ: 'JWT' }, { sub: 'svc-http', iat: nowS() - 5, exp: nowS() + 600 }, backend.secret);

function assertError(res, status, code, label) {
    assert.equal(res.status, status, `${label}: status ${status} (got ${res.status} ${res.text})`);
    assert.match(res.headers['content-type'] || '', /^application\/json/i, `${label}: Content-Type application/json`);
    assert.equal(res.json?.error, code, `${label}: error ${code}`);
    assert.equal(typeof res.json?.message, 'string', `${label}: message present`);
}

/* A JSON object {"timestamp":..., "properties":{"pad":"xxx..."}} of exactly n bytes. */
function paddedSigninBody(n) {
    const head = '{"timestamp":"2024-05-01T12:34:56.789Z","properties":{"pad":"';
    const tail = '"}}';
    assert.ok(n > head.length + tail.length, 'padded body size is large enough');
    const s = head + 'x'.repeat(n - head.length - tail.length) + tail;
    assert.equal(Buffer.byteLength(s), n, `padded body is ${n} bytes`);
    return s;
}

before(async () => {
    users = makeHsSecretFile('users');
    backend = makeHsSecretFile('backend');
    up = await startUpstream();
});

after(async () => {
    await up?.close();
});

describe('HTTP answers of a fully configured gateway', () => {
    let gw;
    before(async () => {
        gw = await startGateway({
            name: 'http',
            env: {
                GW_AUTH_HS_SECRET_FILE: users.file,
                GW_AUTH_ISS: ISS,
                GW_AUTH_AUD: AUD,
                GW_BACKEND_HS_SECRET_FILE: backend.file,
                GW_LIMITS_BODY_MAX_BYTES: String(BODY_MAX),
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

    test('GET /healthz: 200 {"status":"ok"}', async () => {
        const res = await gw.req('/healthz');
        assert.equal(res.status, 200, 'healthz: 200');
        assert.match(res.headers['content-type'] || '', /^application\/json/i, 'healthz: JSON');
        assert.deepStrictEqual(res.json, { status: 'ok' }, 'healthz: body');
    });

    test('unknown paths: 404 not_found with a JSON body', async () => {
        for (const [method, p] of [['GET', '/'], ['GET', '/nope'], ['POST', '/v1/unknown'], ['POST', '/v2/track'],
            ['GET', '/healthz/extra'], ['POST', '/v1/signed-in/extra']]) {
            const res = await gw.req(p, { method, headers: { authorization: `Bearer ${userToken()}` } });
            assertError(res, 404, 'not_found', `${method} ${p}`);
        }
    });

    test('wrong method: 405 method_not_allowed with Allow', async () => {
        for (const [method, p, allow] of [['GET', '/v1/signed-in', 'POST'], ['PUT', '/v1/track', 'POST'],
            ['DELETE', '/v1/signed-in', 'POST'], ['POST', '/healthz', 'GET'], ['GET', '/v1/track', 'POST']]) {
            const res = await gw.req(p, { method });
            assertError(res, 405, 'method_not_allowed', `${method} ${p}`);
            const allowed = (res.headers.allow || '').split(',').map((s) => s.trim().toUpperCase());
            assert.ok(allowed.includes(allow), `${method} ${p}: Allow lists ${allow} (got "${res.headers.allow}")`);
            assert.ok(!allowed.includes(method), `${method} ${p}: Allow does not list ${method}`);
        }
    });

    test('HEAD and OPTIONS get a sensible non-5xx answer', async () => {
        const head = await gw.req('/healthz', { method: 'HEAD' });
        assert.ok(head.status < 500, `HEAD /healthz: not 5xx (got ${head.status})`);
        assert.equal(head.text, '', 'HEAD /healthz: no body');
        for (const p of ['/v1/signed-in', '/v1/track', '/healthz', '/nope']) {
            const res = await gw.req(p, { method: 'OPTIONS' });
            assert.ok(res.status < 500, `OPTIONS ${p}: not 5xx (got ${res.status} ${res.text})`);
        }
        const after = await gw.req('/healthz');
        assert.equal(after.status, 200, 'healthz still 200 after HEAD/OPTIONS');
    });

    test('415 unsupported_media_type for a body that is not application/json', async () => {
        const body = '{"timestamp":"2024-05-01T12:34:56.789Z"}';
        for (const ct of ['text/plain', 'application/x-www-form-urlencoded', 'application/jsonx', 'multipart/form-data; boundary=x']) {
            const res = await gw.req('/v1/signed-in', {
                method: 'POST', headers: { authorization: `Bearer ${userToken()}`, 'content-type': ct }, body,
            });
            assertError(res, 415, 'unsupported_media_type', `signed-in with ${ct}`);
        }
        const noCt = await gw.req('/v1/signed-in', { method: 'POST', headers: { authorization: `Bearer ${userToken()}` }, body });
        assertError(noCt, 415, 'unsupported_media_type', 'signed-in body without Content-Type');
        const tr = await gw.req('/v1/track', {
            method: 'POST', headers: { authorization: `Bearer ${svcToken()}`, 'content-type': 'text/plain' },
            body: '[{"event":"signed_in","user_id":"u-415"}]',
        });
        assertError(tr, 415, 'unsupported_media_type', 'track with text/plain');
        // Beside them: application/json with parameters is accepted.
        const ok = await gw.req('/v1/signed-in', {
            method: 'POST', headers: { authorization: `Bearer ${userToken()}`, 'content-type': 'application/json; charset=utf-8' }, body,
        });
        assert.equal(ok.status, 202, `signed-in with application/json; charset=utf-8: 202 (got ${ok.status} ${ok.text})`);
        const okTr = await gw.req('/v1/track', {
            method: 'POST', headers: { authorization: `Bearer ${svcToken()}`, 'content-type': 'application/json;charset=UTF-8' },
            body: '[{"event":"signed_in","user_id":"u-415-ok"}]',
        });
        assert.equal(okTr.status, 202, `track with application/json;charset=UTF-8: 202 (got ${okTr.status} ${okTr.text})`);
    });

    test('media type names are case-insensitive (RFC 9110 8.3.1)', async () => {
        const ok = await gw.req('/v1/signed-in', {
            method: 'POST', headers: { authorization: `Bearer ${userToken()}`, 'content-type': 'Application/JSON' },
            body: '{"timestamp":"2024-05-01T12:34:56.789Z"}',
        });
        assert.equal(ok.status, 202, `Application/JSON: 202 (got ${ok.status} ${ok.text})`);
    });

    test(`413 body_too_large over ${BODY_MAX} bytes with Content-Length; exactly ${BODY_MAX} accepted`, async () => {
        const atLimit = await gw.req('/v1/signed-in', {
            method: 'POST', headers: { authorization: `Bearer ${userToken()}`, 'content-type': 'application/json' },
            body: paddedSigninBody(BODY_MAX),
        });
        assert.equal(atLimit.status, 202, `${BODY_MAX} bytes: 202 (got ${atLimit.status} ${atLimit.text.slice(0, 200)})`);
        const over = await gw.req('/v1/signed-in', {
            method: 'POST', headers: { authorization: `Bearer ${userToken()}`, 'content-type': 'application/json' },
            body: paddedSigninBody(BODY_MAX + 1),
        });
        assertError(over, 413, 'body_too_large', `${BODY_MAX + 1} bytes with Content-Length`);
        const big = await gw.req('/v1/track', {
            method: 'POST', headers: { authorization: `Bearer ${svcToken()}`, 'content-type': 'application/json' },
            body: Buffer.alloc(1 << 20, 0x20), expectContinue: true,
        });
        assertError(big, 413, 'body_too_large', '1 MiB to /v1/track with Expect: 100-continue (answered before the body)');
    });

    test('1 MiB sent at once with Content-Length: 413 or an early close, never a crash', async (t) => {
        let outcome;
        try {
            const res = await gw.req('/v1/track', {
                method: 'POST', headers: { authorization: `Bearer ${svcToken()}`, 'content-type': 'application/json' },
                body: Buffer.alloc(1 << 20, 0x20),
            });
            assertError(res, 413, 'body_too_large', '1 MiB of spaces to /v1/track');
            outcome = '413';
        } catch (e) {
            if (e.code === 'ERR_ASSERTION') {
                throw e;
            }
            // RFC 9112 9.6 asks servers to linger so that the client can
            // read the 413; a reset instead is reported, not failed.
            outcome = `connection error before the answer: ${e.code || e.message}`;
        }
        t.diagnostic(`1 MiB body without Expect: ${outcome}`);
        const h = await gw.req('/healthz');
        assert.equal(h.status, 200, 'healthz 200 after the oversized body');
    });

    test('413 body_too_large over the limit with chunked transfer encoding; small chunked body accepted', async () => {
        const small = Buffer.from('{"timestamp":"2024-05-01T12:34:56.789Z"}');
        const okRes = await gw.req('/v1/signed-in', {
            method: 'POST', headers: { authorization: `Bearer ${userToken()}`, 'content-type': 'application/json' },
            chunks: [small.subarray(0, 10), small.subarray(10)],
        });
        assert.equal(okRes.status, 202, `small chunked body: 202 (got ${okRes.status} ${okRes.text})`);
        const big = Buffer.from(paddedSigninBody(BODY_MAX * 3));
        const chunks = [];
        for (let i = 0; i < big.length; i += 1000) {
            chunks.push(big.subarray(i, i + 1000));
        }
        const res = await gw.req('/v1/signed-in', {
            method: 'POST', headers: { authorization: `Bearer ${userToken()}`, 'content-type': 'application/json' }, chunks,
        });
        assertError(res, 413, 'body_too_large', `${big.length} bytes chunked`);
        const tr = await gw.req('/v1/track', {
            method: 'POST', headers: { authorization: `Bearer ${svcToken()}`, 'content-type': 'application/json' },
            chunks: [Buffer.from('['), ...Array.from({ length: 10 }, () => Buffer.alloc(1000, 0x20)), Buffer.from(']')],
        });
        assertError(tr, 413, 'body_too_large', 'chunked track body over the limit');
        const h = await gw.req('/healthz');
        assert.equal(h.status, 200, 'healthz 200 after the 413s');
    });

    test('bad JSON: 400 invalid_json on both endpoints', async () => {
        for (const body of ['{', '{"timestamp":"2024-05-01T12:34:56.789Z",}', "{'timestamp':1}", '{"a":1} x', '\u0000']) {
            const res = await gw.req('/v1/signed-in', {
                method: 'POST', headers: { authorization: `Bearer ${userToken()}`, 'content-type': 'application/json' }, body,
            });
            assertError(res, 400, 'invalid_json', `signed-in body ${JSON.stringify(body)}`);
            const tr = await gw.req('/v1/track', {
                method: 'POST', headers: { authorization: `Bearer ${svcToken()}`, 'content-type': 'application/json' }, body,
            });
            assertError(tr, 400, 'invalid_json', `track body ${JSON.stringify(body)}`);
        }
        const ok = await gw.req('/v1/track', {
            method: 'POST', headers: { authorization: `Bearer ${svcToken()}` }, body: [{ event: 'signed_in', user_id: 'u-json-ok' }],
        });
        assert.equal(ok.status, 202, `valid track beside them: 202 (got ${ok.status} ${ok.text})`);
    });

    test('garbage request lines and clients vanishing mid-body do not hurt the gateway', async () => {
        const raw = (bytes, { waitClose = true } = {}) => new Promise((resolve) => {
            const sock = net.connect(gw.port, '127.0.0.1');
            const parts = [];
            const timer = setTimeout(() => sock.destroy(), 3000 * SLOW);
            sock.on('data', (c) => parts.push(c));
            sock.on('error', () => {});
            sock.on('close', () => {
                clearTimeout(timer);
                resolve(Buffer.concat(parts).toString('latin1'));
            });
            sock.on('connect', () => {
                sock.write(bytes);
                if (!waitClose) {
                    setTimeout(() => sock.destroy(), 50);
                }
            });
        });
        const garbage = await raw('GARBAGE\r\n\r\n');
        assert.ok(!/^HTTP\/1\.\d 5\d\d/.test(garbage), `garbage request line: no 5xx (got ${JSON.stringify(garbage.slice(0, 40))})`);
        await raw(`POST /v1/signed-in HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer ${userToken()}\r\n`
            + 'Content-Type: application/json\r\nContent-Length: 1000\r\n\r\n{"timestamp":', { waitClose: false });
        await raw('POST /v1/track HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\nContent-Type: application/json\r\n\r\n5\r\n[{"ev', { waitClose: false });
        const twoAtOnce = await raw('GET /healthz HTTP/1.1\r\nHost: x\r\n\r\nGET /healthz HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n');
        assert.equal((twoAtOnce.match(/HTTP\/1\.1 200/g) || []).length, 2, 'two pipelined GET /healthz both answered 200');
        const h = await gw.req('/healthz');
        assert.equal(h.status, 200, 'healthz 200 afterwards');
    });

    test('401 answers carry WWW-Authenticate and never echo the token', async () => {
        const tok = signJwt({ alg: 'HS256', typ: 'JWT' }, { iss: ISS, aud: AUD, sub: 'x', iat: nowS(), exp: nowS() + 60 }, 'wrong-secret-wrong-secret-wrong-secret');
        for (const p of ['/v1/signed-in', '/v1/track']) {
            const res = await gw.req(p, { method: 'POST', headers: { authorization: `Bearer ${tok}` } });
            assert.equal(res.status, 401, `${p} with a bad token: 401 (got ${res.status})`);
            assert.match(res.headers['www-authenticate'] || '', /^Bearer\b/i, `${p}: WWW-Authenticate: Bearer`);
            assert.ok(!res.text.includes(tok) && !res.text.includes(tok.split('.')[2]), `${p}: body does not echo the token`);
        }
    });

    test('teardown: http gateway exits 0 with clean logs', async () => {
        await up.waitFor(() => up.events().some((e) => e.user_id === 'u-json-ok'), 10000 * SLOW, 'accepted events flushed');
        await stopAndCheck(gw);
    });
});

describe('one endpoint not configured', () => {
    test('users keys only: /v1/track is 404 not_configured naming the backend keys', async () => {
        const gw = await startGateway({
            name: 'users-only',
            env: { GW_AUTH_HS_SECRET_FILE: users.file, GW_AUTH_ISS: ISS, GW_AUTH_AUD: AUD, GW_UPSTREAM_URL: up.url },
        });
        try {
            const res = await gw.req('/v1/track', {
                method: 'POST', headers: { authorization: `Bearer ${svcToken()}` }, body: [{ event: 'signed_in', user_id: 'u-nc' }],
            });
            assertError(res, 404, 'not_configured', 'track without backend keys');
            assert.match(res.json.message, /backend\.(hs_secret_file|jwks_file)/, 'message names backend.hs_secret_file / backend.jwks_file');
            const ok = await gw.req('/v1/signed-in', { method: 'POST', headers: { authorization: `Bearer ${userToken()}` } });
            assert.equal(ok.status, 202, `signed-in beside it: 202 (got ${ok.status} ${ok.text})`);
            assert.ok(!fs.existsSync(path.join(gw.dataDir, 'dev-keys')), 'no development keys created when keys are configured');
        } finally {
            await stopAndCheck(gw);
        }
    });

    test('backend keys only: /v1/signed-in is 404 not_configured naming the users keys', async () => {
        const gw = await startGateway({
            name: 'backend-only',
            env: { GW_BACKEND_HS_SECRET_FILE: backend.file, GW_UPSTREAM_URL: up.url },
        });
        try {
            const res = await gw.req('/v1/signed-in', { method: 'POST', headers: { authorization: `Bearer ${userToken()}` } });
            assertError(res, 404, 'not_configured', 'signed-in without users keys');
            assert.match(res.json.message, /auth\.(hs_secret_file|jwks_file)/, 'message names auth.hs_secret_file / auth.jwks_file');
            const ok = await gw.req('/v1/track', {
                method: 'POST', headers: { authorization: `Bearer ${svcToken()}` }, body: [{ event: 'signed_in', user_id: 'u-nc-ok' }],
            });
            assert.equal(ok.status, 202, `track beside it: 202 (got ${ok.status} ${ok.text})`);
            await up.waitFor(() => up.events().some((e) => e.user_id === 'u-nc-ok'), 10000 * SLOW, 'track event flushed');
        } finally {
            await stopAndCheck(gw);
        }
    });
});

describe('configuration precedence: flag > env > file > default', () => {
    test('limits.body_max_bytes from flag beats env, env beats file', async () => {
        const dir = makeTempDir('prec');
        const conf = path.join(dir, 'gw.conf');
        fs.writeFileSync(conf, `limits.body_max_bytes = 200\nbackend.hs_secret_file = ${backend.file}\nupstream.url = ${up.url}\n`);
        const body = JSON.stringify([{ event: 'signed_in', user_id: 'u-prec', properties: { pad: 'x'.repeat(600) } }]);
        const send = (gw) => gw.req('/v1/track', {
            method: 'POST', headers: { authorization: `Bearer ${svcToken()}`, 'content-type': 'application/json' }, body,
        });
        const fileOnly = await startGateway({ name: 'prec-file', args: ['--config', conf], env: { GW_DATA_DIR: dir } });
        try {
            assertError(await send(fileOnly), 413, 'body_too_large', 'file limit 200 applies');
        } finally {
            await stopAndCheck(fileOnly);
        }
        const envWins = await startGateway({ name: 'prec-env', args: ['--config', conf], env: { GW_DATA_DIR: dir, GW_LIMITS_BODY_MAX_BYTES: '5000' } });
        try {
            const r = await send(envWins);
            assert.equal(r.status, 202, `env limit 5000 beats file 200 (got ${r.status} ${r.text})`);
        } finally {
            await stopAndCheck(envWins);
        }
        const flagWins = await startGateway({
            name: 'prec-flag', args: ['--config', conf, '--limits-body-max-bytes', '300'], env: { GW_DATA_DIR: dir, GW_LIMITS_BODY_MAX_BYTES: '5000' },
        });
        try {
            assertError(await send(flagWins), 413, 'body_too_large', 'flag limit 300 beats env 5000');
        } finally {
            await stopAndCheck(flagWins);
        }
    });
});

describe('configuration errors stop the binary with exit 2', () => {
    test('an unknown flag exits 2', async () => {
        const dir = makeTempDir('cfg');
        const r = await runBin(['--no-such-option', '1'], { env: { GW_DATA_DIR: dir, GW_LISTEN_PORT: '0', GW_BACKEND_HS_SECRET_FILE: backend.file } });
        assert.equal(r.code, 2, `unknown flag: exit 2 (got ${r.code}; stderr ${r.stderr.slice(0, 300)})`);
    });

    test('an unknown key in --config FILE exits 2; a known key is fine', async () => {
        const dir = makeTempDir('cfg');
        const bad = path.join(dir, 'bad.conf');
        fs.writeFileSync(bad, 'listen.port = 0\nno.such_key = 1\n');
        const r = await runBin(['--config', bad], { env: { GW_DATA_DIR: dir, GW_BACKEND_HS_SECRET_FILE: backend.file } });
        assert.equal(r.code, 2, `unknown config key: exit 2 (got ${r.code}; stderr ${r.stderr.slice(0, 300)})`);
        const good = path.join(dir, 'good.conf');
        fs.writeFileSync(good, `listen.port = 0\nbackend.hs_secret_file = ${backend.file}\nupstream.url = ${up.url}\n`);
        const gw = await startGateway({ name: 'config-file', args: ['--config', good], env: { GW_DATA_DIR: dir } });
        try {
            const ok = await gw.req('/v1/track', {
                method: 'POST', headers: { authorization: `Bearer ${svcToken()}` }, body: [{ event: 'signed_in', user_id: 'u-cfg' }],
            });
            assert.equal(ok.status, 202, `gateway configured by file: track 202 (got ${ok.status} ${ok.text})`);
            await up.waitFor(() => up.events().some((e) => e.user_id === 'u-cfg'), 10000 * SLOW, 'u-cfg flushed');
        } finally {
            await stopAndCheck(gw);
        }
    });
});
