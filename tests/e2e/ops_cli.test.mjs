// Command line for operators: check-config (good and bad configurations,
// with their exact messages), verify (a token explained step by step; each
// refusal beside an acceptance) and healthcheck against a running gateway.
import { describe, test, before } from 'node:test';
import assert from 'node:assert/strict';
import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import {
    makeTempDir, signJwt, startGateway, stopAndCheck, runBin, nowS, registerSensitive,
} from './lib/harness.mjs';

const ISS = 'https://idp.cli.example/';
const AUD = 'signin-gateway-cli';

let dir;
let secret;
let secretFile;
let env;

before(() => {
    dir = makeTempDir('cli');
    secret = crypto.randomBytes(48).toString('base64url');
    registerSensitive(secret);
    secretFile = path.join(dir, 'users.secret');
    fs.writeFileSync(secretFile, secret);
    env = {
        GW_DATA_DIR: path.join(dir, 'data'), GW_AUTH_HS_SECRET_FILE: secretFile, GW_AUTH_HS_KID: 'hs-1',
        GW_AUTH_ISS: ISS, GW_AUTH_AUD: AUD,
    };
});

function tok(over = {}, { key = secret, kid = 'hs-1' } = {}) {
    const c = { iss: ISS, aud: AUD, sub: 'user-7', iat: nowS() - 10, exp: nowS() + 600, ...over };
    return signJwt({ alg: 'HS256', typ: 'JWT', kid }, c, key);
}

describe('check-config', () => {
    test('a good configuration: exit 0 and a summary without secrets', async () => {
        const r = await runBin(['check-config'], { env: { ...env, GW_UPSTREAM_URL: 'http://127.0.0.1:9/t', GW_UPSTREAM_API_KEY: 'k-secret-123456' } });
        assert.equal(r.code, 0, `exit 0 (stderr: ${r.stderr})`);
        assert.equal(r.stdout, [
            'check-config: ok',
            '  listen: 127.0.0.1:8080',
            `  users' keys (auth.*): 1, iss ${ISS}, aud ${AUD}`,
            '  backend keys (backend.*): 0, iss any, aud any',
            '  webhooks: none',
            '  upstream: http://127.0.0.1:9/t (api key set, x-api-key)',
            `  spool: ${env.GW_DATA_DIR}/spool.db (durability crash)`,
            '',
        ].join('\n'), 'summary lines');
        assert.ok(!r.stdout.includes('k-secret-123456') && !r.stdout.includes(secret), 'no secret printed');
        assert.ok(!fs.existsSync(env.GW_DATA_DIR), 'check-config creates nothing');
    });

    test('no key at all: still valid, with a warning about development keys', async () => {
        const r = await runBin(['check-config'], { env: { GW_DATA_DIR: env.GW_DATA_DIR } });
        assert.equal(r.code, 0, 'exit 0');
        assert.match(r.stdout, /^warning: no key is configured: a start would create development keys under .*\/data\/dev-keys; never in production$/m,
            'development keys warning');
    });

    const bad = [
        { name: 'a port that is not a number', env: { GW_LISTEN_PORT: 'abc' },
          message: "listen.port: 'abc' is not a whole number from 0 to 65535" },
        { name: 'a key file that does not exist', env: { GW_AUTH_JWKS_FILE: '/nonexistent/jwks.json' },
          message: '/nonexistent/jwks.json: No such file or directory' },
        { name: 'an HMAC secret that is too short', file: 'short',
          message: (d) => `${d}/short.secret: HMAC secret of 5 bytes: at least 32 needed` },
        { name: 'an unknown algorithm', env: { GW_AUTH_ALGS: 'RS256,XX999' },
          message: "auth.algs: unknown algorithm 'XX999'" },
        { name: 'an unknown durability', env: { GW_SPOOL_DURABILITY: 'sometimes' },
          message: 'spool.durability: off, crash or power' },
        { name: 'an upstream URL that is not HTTP', env: { GW_UPSTREAM_URL: 'ftp://x/' },
          message: 'upstream.url: must start with http:// or https://' },
        { name: 'a log level that does not exist', env: { GW_LOG_LEVEL: 'loud' },
          message: "log.level: 'loud' is not error, warn, info or debug" },
        { name: 'a spool under a file', spoolUnderFile: true,
          message: (d) => `spool.path: cannot create ${d}/afile/x/spool.db: ${d}/afile is not a folder` },
    ];
    for (const c of bad) {
        test(`refused with its exact message: ${c.name}`, async () => {
            const e = { ...env, ...(c.env || {}) };
            if (c.file) {
                fs.writeFileSync(path.join(dir, 'short.secret'), 'short');
                e.GW_AUTH_HS_SECRET_FILE = path.join(dir, 'short.secret');
            }
            if (c.spoolUnderFile) {
                fs.writeFileSync(path.join(dir, 'afile'), '');
                e.GW_SPOOL_PATH = path.join(dir, 'afile/x/spool.db');
            }
            const r = await runBin(['check-config'], { env: e });
            const want = typeof c.message === 'function' ? c.message(dir) : c.message;
            assert.equal(r.code, 2, `${c.name}: exit 2`);
            assert.equal(r.stderr, `check-config: ${want}\n`, `${c.name}: message`);
            assert.equal(r.stdout, '', `${c.name}: nothing on stdout`);
        });
    }

    test('an unknown key in the --config file is named with the file', async () => {
        const f = path.join(dir, 'gw.conf');
        fs.writeFileSync(f, 'listen.port = 9000\nauth.jwks_fil = x\n');
        const r = await runBin(['check-config', '--config', f], { env });
        assert.equal(r.code, 2, 'exit 2');
        assert.equal(r.stderr, `check-config: ${f}: unknown key 'auth.jwks_fil'\n`, 'message');
    });
});

describe('verify', () => {
    async function verify(token, extra = [], e = env) {
        const r = await runBin(['verify', '--token', token, ...extra], { env: e });
        assert.ok(!r.stdout.includes(token) && !r.stderr.includes(token), 'the token is never printed');
        return r;
    }
    const lines = (r) => r.stdout.trimEnd().split('\n');

    test('an accepted token: every step explained, exit 0', async () => {
        const now = nowS();
        const t = tok({ iat: now - 10, exp: now + 600 });
        const r = await verify(t);
        assert.equal(r.code, 0, `exit 0 (${r.stdout}${r.stderr})`);
        const l = lines(r);
        assert.match(l[0], /^token: \d+ bytes, fingerprint [0-9a-f]{8}$/, 'size and fingerprint');
        assert.deepEqual(l.slice(1, 5), [
            "checked with: the users' keys (auth.*), 1 key(s)",
            'header: alg "HS256", kid "hs-1", typ "JWT"',
            "key: \"hs-1\", HMAC secret from the users' keys (auth.*), may verify HS256,HS384,HS512",
            'signature: valid',
        ], 'header, key, signature');
        assert.match(l[5], /^claim exp: \d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ \(\+(599|600|601) s from now, leeway 60 s\): ok$/, 'exp');
        assert.equal(l[6], 'claim nbf: absent', 'nbf');
        assert.match(l[7], /^claim iat: .* \(-(9|10|11) s from now, leeway 60 s\): ok$/, 'iat');
        assert.deepEqual(l.slice(8), [
            `claim iss: "${ISS}": ok, equals auth.iss`,
            `claim aud: "${AUD}": ok, names auth.aud`,
            'claim sub: "user-7": ok',
            'result: accepted',
        ], 'claims and verdict');
    });

    test('an expired token: the exp step says so, exit 1', async () => {
        const r = await verify(tok({ exp: nowS() - 3600 }));
        assert.equal(r.code, 1, 'exit 1');
        assert.match(r.stdout, /^claim exp: .*: expired, refused$/m, 'exp line');
        assert.match(r.stdout, /^result: refused: token_expired \(401\)$/m, 'verdict');
    });

    test('a wrong signature, a wrong issuer and audience, an unknown kid', async () => {
        const other = crypto.randomBytes(48).toString('base64url');
        let r = await verify(tok({}, { key: other }));
        assert.equal(r.code, 1, 'bad signature: exit 1');
        assert.match(r.stdout, /^signature: does not verify with that key$/m, 'bad signature step');
        assert.match(r.stdout, /^result: refused: bad_signature \(401\)$/m, 'bad signature verdict');

        r = await verify(tok({ iss: 'https://evil.example/', aud: ['x', 'y'] }));
        assert.equal(r.code, 1, 'wrong issuer: exit 1');
        assert.match(r.stdout, /^claim iss: "https:\/\/evil\.example\/": refused, differs from auth\.iss$/m, 'iss step');
        assert.match(r.stdout, /^claim aud: \["x", "y"\]: refused, does not name auth\.aud$/m, 'aud step');
        assert.match(r.stdout, /^result: refused: wrong_issuer \(401\)$/m, 'verdict names the first failure');

        r = await verify(tok({}, { kid: 'rotated-away' }));
        assert.equal(r.code, 1, 'unknown kid: exit 1');
        assert.match(r.stdout, /^key: no configured key has that kid; kids are listed below\n {2}- "hs-1" HMAC secret, may verify HS256,HS384,HS512$/m,
            'the known kids are listed');
        assert.match(r.stdout, /^result: refused: unknown_kid \(401\)$/m, 'verdict');
    });

    test('--backend checks with the backend keys; --token-file and a pasted Bearer prefix work', async () => {
        const t = tok();
        let r = await verify(t, ['--backend']);
        assert.equal(r.code, 1, 'a user token is no service token');
        assert.match(r.stdout, /^result: refused: not_configured \(404\)$/m, 'no backend keys configured');

        const f = path.join(dir, 'token.txt');
        fs.writeFileSync(f, `Bearer ${t}\n`);
        r = await runBin(['verify', '--token-file', f], { env });
        assert.equal(r.code, 0, 'token from a file with a Bearer prefix and newline');
        assert.match(r.stdout, /^result: accepted$/m, 'accepted');
    });

    test('usage errors: exit 2 with a message', async () => {
        let r = await runBin(['verify'], { env });
        assert.equal(r.code, 2, 'no token: exit 2');
        assert.match(r.stderr, /^verify: give exactly one of --token and --token-file$/m, 'message');
        r = await runBin(['verify', '--token', ''], { env });
        assert.equal(r.code, 2, 'empty token: exit 2');
        assert.equal(r.stderr, 'verify: the token is empty\n', 'message');
    });
});

describe('healthcheck', () => {
    test('0 against a running gateway, 1 when nothing listens there', async () => {
        const gw = await startGateway({ name: 'cli-health', env });
        let r = await runBin(['healthcheck'], { env: { ...env, GW_LISTEN_PORT: String(gw.port) } });
        assert.equal(r.code, 0, `healthcheck exit 0 (${r.stderr})`);
        assert.equal(r.stdout, `healthcheck: http://127.0.0.1:${gw.port}/healthz answered 200\n`, 'healthcheck output');
        r = await runBin(['healthcheck', '--path', '/readyz', '--listen-host', '0.0.0.0', '--listen-port', String(gw.port)], { env });
        assert.equal(r.code, 0, 'a wildcard host is probed on loopback; /readyz 200');
        await stopAndCheck(gw);
        r = await runBin(['healthcheck'], { env: { ...env, GW_LISTEN_PORT: String(gw.port) } });
        assert.equal(r.code, 1, 'exit 1 once the gateway is gone');
        assert.match(r.stderr, /^healthcheck: http:\/\/127\.0\.0\.1:\d+\/healthz: Couldn't connect to server$/m, 'names the failure');
    });
});
