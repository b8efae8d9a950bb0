// SIGHUP under a steady load of sign-ins: a good new configuration (a key
// added to the JWKS) takes effect, a bad one (a broken key file, an unknown
// setting) is refused with an error line while the old one keeps serving;
// no request fails and every accepted event reaches the upstream.
import { describe, test, after } from 'node:test';
import assert from 'node:assert/strict';
import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import {
    makeTempDir, signJwt, startGateway, startUpstream, stopAndCheck, nowS, sleep, waitFor,
    registerSensitive, b64url, SLOW,
} from './lib/harness.mjs';
import { scrape, metric } from './lib/ops.mjs';

const ISS = 'https://idp.reload.example/';
const AUD = 'signin-gateway-reload';

function octKey(kid) {
    const bytes = crypto.randomBytes(48);
    registerSensitive(b64url(bytes));
    return { jwk: { kty: 'oct', kid, alg: 'HS256', k: b64url(bytes) }, bytes };
}

let seq = 0;
function tok(key, kid) {
    seq += 1;
    const c = { iss: ISS, aud: AUD, sub: `rl-${seq}-${crypto.randomBytes(3).toString('hex')}`, iat: nowS() - 5, exp: nowS() + 600 };
    return { token: signJwt({ alg: 'HS256', typ: 'JWT', kid }, c, key), sub: c.sub };
}

describe('SIGHUP reload', () => {
    const cleanup = [];
    after(async () => {
        for (const fn of cleanup.reverse()) {
            await fn().catch(() => {});
        }
    });

    test('good and bad configurations under load: no failed request, no lost event', async () => {
        const dir = makeTempDir('reload');
        const k1 = octKey('hs-1');
        const k2 = octKey('hs-2');
        const jwks = path.join(dir, 'jwks.json');
        const conf = path.join(dir, 'gw.conf');
        const writeConf = (extra = '') => fs.writeFileSync(conf,
            `auth.jwks_file = ${jwks}\nauth.iss = ${ISS}\nauth.aud = ${AUD}\n${extra}`);
        fs.writeFileSync(jwks, JSON.stringify({ keys: [k1.jwk] }));
        writeConf();

        const up = await startUpstream();
        cleanup.push(() => up.close());
        const gw = await startGateway({
            name: 'reload', args: ['--config', conf],
            env: { GW_UPSTREAM_URL: up.url, GW_UPSTREAM_API_KEY: 'reload-test-api-key' },
        });
        registerSensitive('reload-test-api-key');

        // Steady load: four clients signing in with the key both configurations hold.
        const accepted = [];
        const failures = [];
        let running = true;
        const client = async () => {
            while (running) {
                const t = tok(k1.bytes, 'hs-1');
                try {
                    const r = await gw.req('/v1/signed-in', { method: 'POST', headers: { authorization: `Bearer ${t.token}` } });
                    if (r.status === 202) {
                        accepted.push(t.sub);
                    } else {
                        failures.push(`${r.status} ${r.text}`);
                    }
                } catch (e) {
                    failures.push(String(e));
                }
            }
        };
        const load = Promise.all([client(), client(), client(), client()]);
        const hs2 = () => gw.req('/v1/signed-in', { method: 'POST', headers: { authorization: `Bearer ${tok(k2.bytes, 'hs-2').token}` } });

        await sleep(300);
        let r = await hs2();
        assert.equal(r.status, 401, 'before the reload, hs-2 is unknown');
        assert.equal(r.json.error, 'unknown_kid', 'unknown_kid before the reload');

        // Good: hs-2 added; spool.max_bytes changed (read at start only).
        fs.writeFileSync(jwks, JSON.stringify({ keys: [k1.jwk, k2.jwk] }));
        writeConf('spool.max_bytes = 2000000\n');
        gw.proc.kill('SIGHUP');
        await waitFor(() => gw.logs().some((o) => o.event === 'reloaded'), 5000 * SLOW, 'reloaded line');
        const reloaded = gw.logs().find((o) => o.event === 'reloaded');
        assert.equal(reloaded.level, 'info', 'reloaded at info');
        assert.equal(reloaded.user_keys, 2, 'reloaded line counts the new keys');
        const restart = gw.logs().find((o) => o.event === 'reload_needs_restart');
        assert.equal(restart?.keys, 'spool.max_bytes', 'a start-only setting is named as waiting for a restart');
        r = await hs2();
        assert.equal(r.status, 202, 'after the reload, hs-2 is accepted');
        accepted.push('hs2-1');

        // Bad: a broken key file. Refused, logged, the old keys keep serving.
        gw.expectError({ event: 'reload_refused' });
        fs.writeFileSync(jwks, '{"keys": [ {"kty": "oct"');
        gw.proc.kill('SIGHUP');
        await waitFor(() => gw.logs().filter((o) => o.event === 'reload_refused').length === 1, 5000 * SLOW, 'first reload_refused');
        const refused = gw.logs().find((o) => o.event === 'reload_refused');
        assert.equal(refused.level, 'error', 'a refused reload is an error line');
        assert.match(refused.error, new RegExp(`^${jwks.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}: `), 'the error names the key file');
        assert.equal(refused.message, 'the previous configuration keeps serving', 'and says the old one serves');
        r = await hs2();
        assert.equal(r.status, 202, 'after a refused reload, hs-2 (from the good one) is still accepted');
        accepted.push('hs2-2');

        // Bad: an unknown setting in the file.
        fs.writeFileSync(jwks, JSON.stringify({ keys: [k1.jwk, k2.jwk] }));
        writeConf('auth.no_such_key = 1\n');
        gw.proc.kill('SIGHUP');
        await waitFor(() => gw.logs().filter((o) => o.event === 'reload_refused').length === 2, 5000 * SLOW, 'second reload_refused');
        const second = gw.logs().filter((o) => o.event === 'reload_refused')[1];
        assert.equal(second.error, `${conf}: unknown key 'auth.no_such_key'`, 'the unknown key is named');

        await sleep(300);
        running = false;
        await load;
        assert.deepEqual(failures, [], 'no request failed during the reloads');
        assert.ok(accepted.length > 20, `the load ran (${accepted.length} accepted)`);
        await up.waitForEvents(accepted.length, 20000 * SLOW);
        const subs = new Set(up.events().map((e) => e.user_id));
        const missing = accepted.filter((s) => s.startsWith('rl-') && !subs.has(s));
        assert.deepEqual(missing, [], 'every accepted event reached the upstream');

        const m = await scrape(gw);
        assert.equal(metric(m.samples, 'signin_gateway_reloads_total', { outcome: 'ok' }), 1, 'reloads_total{ok} 1');
        assert.equal(metric(m.samples, 'signin_gateway_reloads_total', { outcome: 'refused' }), 2, 'reloads_total{refused} 2');
        await stopAndCheck(gw);
    });
});
