// verify --webhook: captured identity-provider deliveries (the fixtures of
// tests/fixtures/idp, re-signed for now) explained step by step through
// the endpoint's own checks. Each refusal stands beside an acceptance;
// exit codes and key lines are exact, and no secret is ever printed.
import { describe, test, before } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { makeTempDir, runBin, registerSensitive } from './lib/harness.mjs';
import { resignNow, readSecrets, readJson } from './lib/webhooks.mjs';

let dir;
let env;
let secrets;

before(async () => {
    dir = makeTempDir('verify-webhook');
    await resignNow(dir);
    const clerk = readSecrets(dir, 'clerk').signing_secret;
    const supabase = readSecrets(dir, 'supabase').hook_secret;
    secrets = [clerk, supabase, clerk.replace(/^whsec_/, ''),
        supabase.replace(/^v1,whsec_/, '')];
    secrets.forEach(registerSensitive);
    env = {
        GW_DATA_DIR: path.join(dir, 'data'),
        GW_WEBHOOKS_CLERK_SECRET: clerk,
        GW_WEBHOOKS_SUPABASE_SECRET: supabase,
    };
});

/* Runs verify on one fixture case; checks that nothing secret is shown:
 * neither a configured secret nor a signature header (only fingerprints). */
async function verify(provider, name, { as = provider, e = env } = {}) {
    const base = path.join(dir, provider, name);
    const r = await runBin(['verify', '--webhook', as, '--body', `${base}.body`,
        '--headers', `${base}.headers`], { env: e });
    const shown = r.stdout + r.stderr;
    for (const s of secrets) {
        assert.ok(!shown.includes(s), `${provider}/${name}: no secret printed`);
    }
    for (const line of fs.readFileSync(`${base}.headers`, 'utf8').split('\n')) {
        const m = /^(svix|webhook)-signature:\s*(.+)$/i.exec(line);
        for (const entry of m ? m[2].split(/[ ,]+/).filter((x) => x.length > 8) : []) {
            assert.ok(!shown.includes(entry), `${provider}/${name}: no signature printed`);
        }
    }
    return { ...r, lines: r.stdout.trimEnd().split('\n') };
}

const entryLine = (verdict) => new RegExp(`^ {2}entry 1: \\d+ bytes, fingerprint [0-9a-f]{8}: ${verdict}$`);
const timeLine = (verdict) => new RegExp(`^timestamp: \\d+ \\([+-]\\d+ s from now, tolerance 300 s\\): ${verdict}$`);

describe('verify --webhook', () => {
    test('an accepted Clerk delivery: every step, the event, exit 0', async () => {
        const r = await verify('clerk', '01_session_created');
        assert.equal(r.code, 0, `exit 0 (${r.stdout}${r.stderr})`);
        const l = r.lines;
        assert.match(l[0], /^webhook: POST \/v1\/webhooks\/clerk, body \d+ bytes, \d+ header\(s\)$/, 'what is checked');
        assert.deepEqual(l.slice(1, 5), [
            'provider: clerk, configured',
            'scheme: Standard Webhooks (Svix): HMAC of id.ts.body',
            'header svix-signature: present, 47 bytes',
            'header svix-id: "msg_KABFCDejGSQTVYVSLM03jBEuAJk"',
        ], 'provider, scheme, headers read');
        assert.match(l[5], /^header svix-timestamp: "\d+"$/, 'timestamp header');
        assert.match(l[6], entryLine('matches'), 'the signature entry');
        assert.match(l[7], timeLine('ok'), 'timestamp within the window');
        assert.deepEqual(l.slice(8, 11), ['signature: valid', `body: ${fs.statSync(path.join(dir, 'clerk', '01_session_created.body')).size} bytes of JSON`, 'item 0: sign-in'], 'signature, body, item');
        const expected = readJson(path.join(dir, 'clerk', '01_session_created.expected.json'));
        const ev = JSON.parse(l[11].replace(/^ {2}event: /, ''));
        assert.equal(ev.user_id, expected.user_id, 'the event: user_id');
        assert.equal(ev.timestamp, expected.timestamp, 'the event: timestamp');
        assert.equal(ev.properties.email, expected.properties.email, 'the event: email, the user\'s own data');
        assert.equal(ev.properties.message_id, 'msg_KABFCDejGSQTVYVSLM03jBEuAJk', 'the event id is the svix-id');
        assert.equal(l[12], 'result: accepted (200): 1 event(s), 0 ignored; duplicates are not looked up', 'verdict');
        assert.equal(l.length, 13, 'nothing more');
    });

    test('an accepted Supabase delivery: exit 0', async () => {
        const r = await verify('supabase', '01_password_signin');
        assert.equal(r.code, 0, `exit 0 (${r.stdout}${r.stderr})`);
        assert.ok(r.lines.includes('provider: supabase, configured'), 'provider line');
        assert.ok(r.lines.some((x) => entryLine('matches').test(x)), 'entry matches');
        assert.ok(r.lines.some((x) => timeLine('ok').test(x)), 'timestamp ok');
        assert.ok(r.lines.includes('item 0: sign-in'), 'a sign-in');
        assert.equal(r.lines.at(-1), 'result: accepted (200): 1 event(s), 0 ignored; duplicates are not looked up', 'verdict');
    });

    test('a tampered body: the entry does not match, bad_signature, exit 1', async () => {
        const r = await verify('clerk', '06_tampered_body');
        assert.equal(r.code, 1, 'exit 1');
        assert.ok(r.lines.some((x) => entryLine('does not match').test(x)), 'entry does not match');
        assert.ok(!r.lines.some((x) => x.startsWith('timestamp:')), 'no time judged for a forgery');
        assert.deepEqual(r.lines.slice(-3), [
            'signature: bad_signature',
            'reason: the svix-signature header does not match this body and the configured secret',
            'result: refused: bad_signature (401)',
        ], 'signature step and verdict');
        assert.ok(!r.lines.some((x) => x.startsWith('body:')), 'the body is not read before the signature holds');
    });

    test('a stale timestamp: authentic but outside the window, exit 1', async () => {
        const r = await verify('supabase', '06_stale_timestamp');
        assert.equal(r.code, 1, 'exit 1');
        assert.ok(r.lines.some((x) => entryLine('matches').test(x)), 'entry matches');
        assert.ok(r.lines.some((x) => timeLine('outside the window').test(x)), 'timestamp line');
        assert.deepEqual(r.lines.slice(-2), [
            'reason: the signature\'s time is more than 300 s away from the gateway\'s clock (webhooks.supabase.tolerance_s)',
            'result: refused: stale_timestamp (401)',
        ], 'verdict');
    });

    test('an ignored event: authentic, answered 200, exit 0', async () => {
        const r = await verify('supabase', '04_token_refresh_ignored');
        assert.equal(r.code, 0, 'exit 0');
        assert.ok(r.lines.includes('item 0: ignored: authentication_method that starts no session'), 'ignored with its reason');
        assert.equal(r.lines.at(-1), 'result: accepted (200): 0 event(s), 1 ignored; duplicates are not looked up', 'verdict');
    });

    test('an unconfigured provider names its setting; an unknown one is not_found', async () => {
        let r = await verify('clerk', '01_session_created', { as: 'workos' });
        assert.equal(r.code, 1, 'exit 1');
        assert.deepEqual(r.lines.slice(1), [
            'provider: workos, not configured: set webhooks.workos.secret',
            'reason: webhooks from workos are off: set webhooks.workos.secret',
            'result: refused: not_configured (404)',
        ], 'not configured');
        r = await verify('clerk', '01_session_created', { as: 'nosuch' });
        assert.equal(r.code, 1, 'exit 1');
        assert.equal(r.lines.at(-1), 'result: refused: not_found (404)', 'not found');
    });

    test('usage and unreadable files: exit 2', async () => {
        let r = await runBin(['verify', '--webhook', 'clerk'], { env });
        assert.equal(r.code, 2, 'no files: exit 2');
        assert.match(r.stderr, /^verify: --webhook needs --body FILE and --headers FILE$/m, 'message');
        const bad = path.join(dir, 'bad.headers');
        fs.writeFileSync(bad, 'svix-id: x\nnot a header\n');
        r = await runBin(['verify', '--webhook', 'clerk', '--body', bad, '--headers', bad], { env });
        assert.equal(r.code, 2, 'bad headers file: exit 2');
        assert.equal(r.stderr, `verify: ${bad}:2: not a "Name: value" line\n`, 'names the line');
        r = await runBin(['verify', '--webhook', 'clerk', '--body', '/nonexistent/b',
            '--headers', path.join(dir, 'clerk', '01_session_created.headers')], { env });
        assert.equal(r.code, 2, 'missing body: exit 2');
        assert.equal(r.stderr, 'verify: /nonexistent/b: No such file or directory\n', 'message');
    });
});
