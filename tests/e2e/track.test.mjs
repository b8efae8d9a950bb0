// POST /v1/track: backend service tokens only; the seed sample, event
// normalization (event -> event_name, User_name, group_id), batches in order,
// all-or-nothing refusals with index, limits. Each refusal stands beside an
// accepted event.
import { describe, test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import {
    makeKeys, makeHsSecretFile, signJwt, startGateway, startUpstream, stopAndCheck,
    nowS, sleep, registerSensitive, FIXTURES_DIR, SLOW,
} from './lib/harness.mjs';

const USER_ISS = 'https://idp.e2e.example/';
const USER_AUD = 'signin-gateway-e2e';
const SVC_ISS = 'https://backend.e2e.example/';
const SVC_AUD = 'signin-gateway-track';
const MAX_EVENTS = 25;
const API_KEY = `up-key-${crypto.randomBytes(16).toString('hex')}`;
registerSensitive(API_KEY);

const HEX32 = /^[0-9a-f]{32}$/;
const EVENT_KEYS = ['event_name', 'user_id', 'timestamp', 'properties', 'context'];

/* The JSON sample of the seed document, exactly as written there. */
function seedSample() {
    const md = fs.readFileSync(path.join(FIXTURES_DIR, 'seed', 'signed-in-event.md'), 'utf8');
    const m = /```json\n([\s\S]*?)```/.exec(md);
    assert.ok(m, 'seed document holds a ```json sample');
    return JSON.parse(m[1]);
}

let users;
let backend;
let up;
let gw;
let seq = 0;
const uid = (p = 'u') => `${p}-${++seq}-${crypto.randomBytes(3).toString('hex')}`;

function svcToken(over = {}) {
    const now = nowS();
    return signJwt({ alg: 'HS256', typ: 'JWT' },
        { iss: SVC_ISS, aud: SVC_AUD, sub: 'svc-billing', iat: now - 5, exp: now + 600, ...over }, backend.secret);
}
function userToken(over = {}) {
    const now = nowS();
    return signJwt({ alg: 'HS256', typ: 'JWT' },
        { iss: USER_ISS, aud: USER_AUD, sub: uid('usr'), iat: now - 5, exp: now + 600, email: 'user.token@example.com', ...over },
        users.hsSecret);
}
function track(body, token = svcToken(), headers = {}) {
    const h = { ...headers };
    if (token) {
        h.authorization = `Bearer ${token}`;
    }
    return gw.req('/v1/track', { method: 'POST', headers: h, body });
}

function assertAccepted(res, count, label) {
    assert.equal(res.status, 202, `${label}: 202 (got ${res.status} ${res.text})`);
    assert.equal(res.json?.status, 'accepted', `${label}: status accepted`);
    assert.equal(res.json?.count, count, `${label}: count ${count}`);
    assert.ok(Array.isArray(res.json?.event_ids) && res.json.event_ids.length === count, `${label}: ${count} event_ids`);
    return res.json.event_ids;
}

function assertRefused(res, status, code, label, extra = {}) {
    assert.equal(res.status, status, `${label}: status ${status} (got ${res.status} ${res.text})`);
    assert.match(res.headers['content-type'] || '', /^application\/json/i, `${label}: JSON error body`);
    if (Array.isArray(code)) {
        assert.ok(code.includes(res.json?.error), `${label}: error one of ${code.join('|')} (got ${res.json?.error})`);
    } else {
        assert.equal(res.json?.error, code, `${label}: error ${code}`);
    }
    assert.equal(typeof res.json?.message, 'string', `${label}: message present`);
    for (const [k, v] of Object.entries(extra)) {
        if (Array.isArray(v)) {
            assert.ok(v.includes(res.json?.[k]), `${label}: ${k} one of ${v.join('|')} (got ${res.json?.[k]})`);
        } else {
            assert.deepStrictEqual(res.json?.[k], v, `${label}: ${k} = ${JSON.stringify(v)}`);
        }
    }
    if (status === 401) {
        assert.match(res.headers['www-authenticate'] || '', /^Bearer\b/i, `${label}: WWW-Authenticate: Bearer`);
    }
}

async function forwarded(userId, label) {
    const ev = await up.waitForEvent((e) => e.user_id === userId, 10000 * SLOW, `${label}: event upstream`);
    assert.deepStrictEqual(Object.keys(ev), EVENT_KEYS, `${label}: event keys in spec order`);
    return ev;
}

/* fn sends refused requests; then an accepted event must be the only thing
 * forwarded since. */
async function nothingForwarded(fn) {
    const mark = up.allEvents().length;
    await fn();
    const marker = uid('marker');
    const res = await track([{ event_name: 'signed_in', user_id: marker }]);
    assertAccepted(res, 1, 'accept beside the refusal');
    await forwarded(marker, 'marker');
    await sleep(60);
    assert.deepStrictEqual(up.allEvents().slice(mark).map((e) => e.user_id), [marker],
        'nothing but the accepted marker was forwarded');
}

before(async () => {
    users = makeKeys('users');
    backend = makeHsSecretFile('backend');
    up = await startUpstream();
    gw = await startGateway({
        name: 'track',
        env: {
            GW_AUTH_HS_SECRET_FILE: users.files.hsSecret,
            GW_AUTH_ISS: USER_ISS,
            GW_AUTH_AUD: USER_AUD,
            GW_BACKEND_HS_SECRET_FILE: backend.file,
            GW_BACKEND_ISS: SVC_ISS,
            GW_BACKEND_AUD: SVC_AUD,
            GW_BACKEND_SUBJECTS: 'svc-billing,svc-crm',
            GW_LIMITS_TRACK_MAX_EVENTS: String(MAX_EVENTS),
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
    await up?.close();
});

describe('/v1/track', () => {
    test('seed sample as written: 400 invalid_timestamp naming field, index, value and example', async () => {
        const sample = seedSample();
        registerSensitive(sample[0].properties.email);
        await nothingForwarded(async () => {
            const res = await track(sample);
            assertRefused(res, 400, 'invalid_timestamp', 'seed sample', {
                field: 'timestamp', index: 0, value: '20-11-23T22:28:55.111Z', example: '2024-05-01T12:34:56.789Z',
            });
        });
    });

    test('seed sample with timestamp 2023-11-20T22:28:55.111Z forwards the normalized event', async () => {
        const sample = seedSample();
        sample[0].timestamp = '2023-11-20T22:28:55.111Z';
        const ids = assertAccepted(await track(sample), 1, 'fixed seed sample');
        assert.match(ids[0], HEX32, 'event id is 32 hex characters');
        const ev = await forwarded('3e474abe-5943-41fd-8b7b-4c87ad95b0c7', 'fixed seed sample');
        assert.deepStrictEqual(ev, {
            event_name: 'signed_in',
            user_id: '3e474abe-5943-41fd-8b7b-4c87ad95b0c7',
            timestamp: '2023-11-20T22:28:55.111Z',
            properties: { email: 'JohnDoe@acmelabs.com', user_name: 'John Doe', message_id: ids[0] },
            context: { group_id: '55444abe-41fd-5943-d95b-4c87ad95b674' },
        }, 'fixed seed sample: normalized event');
    });

    test('event and event_name are both accepted; both and different: 400 conflicting_field', async () => {
        const a = uid();
        const b = uid();
        const c = uid();
        const ids = assertAccepted(await track([
            { event_name: 'signed_in', user_id: a, timestamp: '2024-05-01T00:00:00.000Z' },
            { event: 'signed_in', user_id: b, timestamp: '2024-05-01T00:00:00.000Z' },
            { event: 'signed_in', event_name: 'signed_in', user_id: c, timestamp: '2024-05-01T00:00:00.000Z' },
        ]), 3, 'event / event_name variants');
        for (const [u, id, label] of [[a, ids[0], 'event_name'], [b, ids[1], 'event'], [c, ids[2], 'both equal']]) {
            const ev = await forwarded(u, label);
            assert.deepStrictEqual(ev, {
                event_name: 'signed_in', user_id: u, timestamp: '2024-05-01T00:00:00.000Z',
                properties: { message_id: id }, context: {},
            }, `${label}: normalized event`);
        }
        await nothingForwarded(async () => {
            const res = await track([{ event_name: 'signed_in', user_id: uid() }, { event: 'signed_up', event_name: 'signed_in', user_id: uid() }]);
            assertRefused(res, 400, 'conflicting_field', 'event differs from event_name', { index: 1, field: ['event', 'event_name'] });
        });
    });

    test('User_name is renamed user_name; both and different: 400 conflicting_field', async () => {
        const a = uid();
        const b = uid();
        const ids = assertAccepted(await track([
            { event: 'signed_in', user_id: a, properties: { User_name: 'John Doe', email: 'JohnDoe@acmelabs.com' } },
            { event: 'signed_in', user_id: b, properties: { User_name: 'Jane Roe', user_name: 'Jane Roe' } },
        ]), 2, 'User_name');
        const ea = await forwarded(a, 'User_name');
        assert.deepStrictEqual(ea.properties, { user_name: 'John Doe', email: 'JohnDoe@acmelabs.com', message_id: ids[0] },
            'User_name renamed to user_name');
        const eb = await forwarded(b, 'User_name equal to user_name');
        assert.deepStrictEqual(eb.properties, { user_name: 'Jane Roe', message_id: ids[1] }, 'equal User_name/user_name merged');
        await nothingForwarded(async () => {
            const fields = ['User_name', 'user_name', 'properties.user_name', 'properties.User_name'];
            const res = await track([{ event: 'signed_in', user_id: uid() }, { event: 'signed_in', user_id: uid(), properties: { User_name: 'A', user_name: 'B' } }]);
            assertRefused(res, 400, 'conflicting_field', 'User_name differs from user_name', { index: 1, field: fields });
            // A single object body is no array: the code and field suffice.
            const one = await track({ event: 'signed_in', user_id: uid(), properties: { User_name: 'A', user_name: 'B' } });
            assertRefused(one, 400, 'conflicting_field', 'single object: User_name differs from user_name', { field: fields });
        });
    });

    test('top-level group_id becomes context.group_id; both and different: 400 conflicting_field', async () => {
        const a = uid();
        const b = uid();
        const ids = assertAccepted(await track([
            { event: 'signed_in', user_id: a, group_id: 'grp-top' },
            { event: 'signed_in', user_id: b, group_id: 'grp-same', context: { group_id: 'grp-same' } },
        ]), 2, 'group_id');
        const ea = await forwarded(a, 'top-level group_id');
        assert.deepStrictEqual(ea.context, { group_id: 'grp-top' }, 'top-level group_id emitted as context.group_id');
        assert.ok(!('group_id' in ea), 'no top-level group_id in the emitted event');
        assert.equal(ea.properties.message_id, ids[0], 'message_id equals event_ids[0]');
        const eb = await forwarded(b, 'equal group ids');
        assert.deepStrictEqual(eb.context, { group_id: 'grp-same' }, 'equal group ids merged');
        await nothingForwarded(async () => {
            const res = await track([{ event: 'signed_in', user_id: uid(), group_id: 'g1', context: { group_id: 'g2' } }]);
            assertRefused(res, 400, 'conflicting_field', 'group_id differs', { index: 0, field: ['group_id', 'context.group_id'] });
        });
    });

    test('other properties and context members pass through unchanged', async () => {
        const u = uid();
        const props = {
            plan: 'enterprise', seats: 250, ratio: 2.5, active: true, none: null, tags: ['sso', 'mfa'],
            nested: { deep: { list: [1, 'two', { three: 3 }] } }, unicode: 'Zoë Ångström-Núñez ✓', empty: '',
        };
        const ids = assertAccepted(await track({
            event_name: 'signed_in', user_id: u, timestamp: '2024-05-01T12:00:00.000+00:00',
            properties: props, context: { group_id: 'grp-ctx', ip: '203.0.113.7', locale: 'de-CH', app: { version: '1.2.3' } },
        }), 1, 'pass-through');
        const ev = await forwarded(u, 'pass-through');
        assert.deepStrictEqual(ev, {
            event_name: 'signed_in', user_id: u, timestamp: '2024-05-01T12:00:00.000Z',
            properties: { ...props, message_id: ids[0] },
            context: { group_id: 'grp-ctx', ip: '203.0.113.7', locale: 'de-CH', app: { version: '1.2.3' } },
        }, 'pass-through: properties and context unchanged');
    });

    test('properties.message_id is the event id when given; otherwise a stable hash', async () => {
        const u = uid();
        const ids = assertAccepted(await track([{ event: 'signed_in', user_id: u, properties: { message_id: 'msg-e2e-0001' } }]), 1, 'given id');
        assert.equal(ids[0], 'msg-e2e-0001', 'event_ids[0] is the given message_id');
        const ev = await forwarded(u, 'given id');
        assert.equal(ev.properties.message_id, 'msg-e2e-0001', 'forwarded message_id kept');

        const v = uid();
        const same = { event: 'signed_in', user_id: v, timestamp: '2024-05-01T00:00:00Z', properties: { a: 1 } };
        const id1 = assertAccepted(await track([same]), 1, 'hash id first')[0];
        const id2 = assertAccepted(await track([same]), 1, 'hash id second')[0];
        assert.match(id1, HEX32, 'hash id is 32 hex characters');
        assert.equal(id1, id2, 'same normalized event gives the same id');
        const w = assertAccepted(await track([{ ...same, properties: { a: 2 } }]), 1, 'hash id other')[0];
        assert.notEqual(w, id1, 'a different event gives a different id');
        // Whether the identical second event is forwarded again is not fixed
        // by the spec; both distinct events must arrive, then let any
        // duplicate land before the next test.
        await up.waitFor(() => new Set(up.events().filter((e) => e.user_id === v).map((e) => e.properties.message_id)).size >= 2,
            10000 * SLOW, 'both distinct hashed events');
        await sleep(300);
    });

    test('missing timestamp takes the receive time', async () => {
        const u = uid();
        const t0 = Date.now();
        assertAccepted(await track({ event: 'signed_in', user_id: u }), 1, 'no timestamp');
        const t1 = Date.now();
        const ev = await forwarded(u, 'no timestamp');
        assert.match(ev.timestamp, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/, 'receive time in canonical form');
        const t = Date.parse(ev.timestamp);
        assert.ok(t >= t0 - 1000 && t <= t1 + 1000, `receive time ${ev.timestamp} within the request window`);
    });

    test('a single event object is accepted', async () => {
        const u = uid();
        const ids = assertAccepted(await track({ event_name: 'signed_in', user_id: u, timestamp: '2024-01-01T00:00:00Z' }), 1, 'single object');
        const ev = await forwarded(u, 'single object');
        assert.deepStrictEqual(ev, {
            event_name: 'signed_in', user_id: u, timestamp: '2024-01-01T00:00:00.000Z', properties: { message_id: ids[0] }, context: {},
        }, 'single object: normalized event');
    });

    test('20 events in one array are accepted and forwarded in order', async () => {
        const us = Array.from({ length: 20 }, () => uid('batch'));
        const ids = assertAccepted(await track(us.map((u, i) => ({
            event: 'signed_in', user_id: u, timestamp: `2024-05-01T12:00:${String(i).padStart(2, '0')}.000Z`, properties: { i },
        }))), 20, '20 events');
        await up.waitFor(() => us.every((u) => up.events().some((e) => e.user_id === u)), 10000 * SLOW, 'all 20 events');
        const got = up.events().filter((e) => us.includes(e.user_id));
        assert.deepStrictEqual(got.map((e) => e.user_id), us, '20 events forwarded once each, in order');
        assert.deepStrictEqual(got.map((e) => e.properties.message_id), ids, 'message ids in the order of event_ids');
        assert.deepStrictEqual(got.map((e) => e.properties.i), us.map((_, i) => i), 'properties kept per event');
    });

    test('all-or-nothing: one bad event refuses the whole body, with its index', async () => {
        const good = () => ({ event: 'signed_in', user_id: uid('aon'), timestamp: '2024-05-01T00:00:00Z' });
        await nothingForwarded(async () => {
            let res = await track([good(), good(), good(), { event: 'signed_in' }, good()]);
            assertRefused(res, 400, 'missing_field', 'user_id missing at 3', { index: 3, field: 'user_id' });
            res = await track([good(), { event: 'signed_in', user_id: 42 }]);
            assertRefused(res, 400, 'invalid_field', 'user_id a number at 1', { index: 1, field: 'user_id' });
            res = await track([good(), good(), { ...good(), timestamp: '2023-11-20T22:28:55' }]);
            assertRefused(res, 400, 'invalid_timestamp', 'timestamp without offset at 2', {
                index: 2, field: 'timestamp', value: '2023-11-20T22:28:55', example: '2024-05-01T12:34:56.789Z',
            });
            res = await track([{ ...good(), colour: 'blue' }, good()]);
            assertRefused(res, 400, 'unknown_field', 'unknown member at 0', { index: 0, field: 'colour' });
            res = await track([good(), { user_id: uid() }]);
            assertRefused(res, 400, 'missing_field', 'event name missing at 1', { index: 1, field: ['event_name', 'event'] });
            res = await track([good(), good(), good(), good(), { event: 'signed_in', user_id: '' }]);
            assertRefused(res, 400, ['invalid_field', 'missing_field'], 'empty user_id at 4', { index: 4, field: 'user_id' });
            res = await track([good(), 'not an event']);
            assertRefused(res, 400, 'invalid_body', 'string element at 1', { index: 1 });
        });
    });

    test('wrong member types: 400 invalid_field naming the member, with index', async () => {
        const good = () => ({ event: 'signed_in', user_id: uid('type') });
        await nothingForwarded(async () => {
            for (const [label, ev, field] of [
                ['user_id an array', { event: 'signed_in', user_id: ['a'] }, 'user_id'],
                ['user_id an object', { event: 'signed_in', user_id: { id: 'a' } }, 'user_id'],
                ['properties a string', { ...good(), properties: 'x' }, 'properties'],
                ['properties an array', { ...good(), properties: [1] }, 'properties'],
                ['context a number', { ...good(), context: 5 }, 'context'],
                ['event_name a number', { event_name: 7, user_id: uid() }, 'event_name'],
            ]) {
                const res = await track([good(), ev]);
                assertRefused(res, 400, 'invalid_field', label, { index: 1, field });
            }
            const ts = await track([good(), { ...good(), timestamp: 1714566896 }]);
            assertRefused(ts, 400, ['invalid_timestamp', 'invalid_field'], 'numeric timestamp', { index: 1, field: 'timestamp' });
            const long = `2023-11-20T22:28:55.${'9'.repeat(80)}`;
            const cut = await track([{ ...good(), timestamp: long }]);
            assertRefused(cut, 400, 'invalid_timestamp', 'long timestamp without offset', { index: 0, field: 'timestamp', value: long.slice(0, 64) });
        });
    });

    test('an event name outside track.event_names: 422 event_not_allowed', async () => {
        await nothingForwarded(async () => {
            const res = await track([{ event: 'signed_in', user_id: uid() }, { event_name: 'signed_up', user_id: uid() }]);
            assertRefused(res, 422, 'event_not_allowed', 'signed_up at 1', { index: 1 });
        });
    });

    test(`more than ${MAX_EVENTS} events: 413 too_many_events; exactly ${MAX_EVENTS} accepted`, async () => {
        await nothingForwarded(async () => {
            const res = await track(Array.from({ length: MAX_EVENTS + 1 }, () => ({ event: 'signed_in', user_id: uid('many') })));
            assertRefused(res, 413, 'too_many_events', `${MAX_EVENTS + 1} events`);
        });
        const us = Array.from({ length: MAX_EVENTS }, () => uid('max'));
        assertAccepted(await track(us.map((u) => ({ event: 'signed_in', user_id: u }))), MAX_EVENTS, `${MAX_EVENTS} events`);
        await up.waitFor(() => us.every((u) => up.events().some((e) => e.user_id === u)), 10000 * SLOW, `all ${MAX_EVENTS} events`);
    });

    test('empty array: 400 empty_batch; non-event JSON: 400 invalid_body', async () => {
        await nothingForwarded(async () => {
            assertRefused(await track([]), 400, 'empty_batch', 'empty array');
            assertRefused(await track('"signed_in"', undefined, { 'content-type': 'application/json' }), 400, 'invalid_body', 'JSON string body');
            assertRefused(await track('42', undefined, { 'content-type': 'application/json' }), 400, 'invalid_body', 'JSON number body');
        });
    });

    test('a user ID token on /v1/track: 401, nothing forwarded', async () => {
        await nothingForwarded(async () => {
            const tok = userToken();
            const res = await track([{ event: 'signed_in', user_id: uid() }], tok);
            assert.equal(res.status, 401, `user token on /v1/track: 401 (got ${res.status} ${res.text})`);
            assert.match(res.headers['www-authenticate'] || '', /^Bearer\b/i, 'user token: WWW-Authenticate: Bearer');
            assert.ok(!res.text.includes(tok), 'user token: not echoed');
            // Same claims as a service token, but signed with the users' key.
            const tok2 = signJwt({ alg: 'HS256', typ: 'JWT' },
                { iss: SVC_ISS, aud: SVC_AUD, sub: 'svc-billing', iat: nowS(), exp: nowS() + 600 }, users.hsSecret);
            const res2 = await track([{ event: 'signed_in', user_id: uid() }], tok2);
            assertRefused(res2, 401, 'bad_signature', 'service claims signed with the users key');
        });
    });

    test('a backend service token on /v1/signed-in: 401', async () => {
        const tok = svcToken();
        const res = await gw.req('/v1/signed-in', { method: 'POST', headers: { authorization: `Bearer ${tok}` } });
        assert.equal(res.status, 401, `backend token on /v1/signed-in: 401 (got ${res.status} ${res.text})`);
        assert.match(res.headers['www-authenticate'] || '', /^Bearer\b/i, 'backend token on signed-in: WWW-Authenticate');
        const okUser = await gw.req('/v1/signed-in', { method: 'POST', headers: { authorization: `Bearer ${userToken()}` } });
        assert.equal(okUser.status, 202, `user token on /v1/signed-in beside it: 202 (got ${okUser.status} ${okUser.text})`);
        await up.waitFor(() => up.events().some((e) => e.properties?.email === 'user.token@example.com'), 10000 * SLOW, 'user sign-in');
    });

    test('service token refusals: missing, wrong audience, subject not allowed, expired', async () => {
        await nothingForwarded(async () => {
            const body = [{ event: 'signed_in', user_id: uid() }];
            assertRefused(await track(body, null), 401, 'missing_token', 'no Authorization');
            assertRefused(await track(body, svcToken({ aud: 'someone-else' })), 401, 'wrong_audience', 'service token wrong aud');
            assertRefused(await track(body, svcToken({ iss: 'https://other.e2e.example/' })), 401, 'wrong_issuer', 'service token wrong iss');
            assertRefused(await track(body, svcToken({ sub: 'svc-intruder' })), 401, 'subject_not_allowed', 'sub outside backend.subjects');
            assertRefused(await track(body, svcToken({ iat: nowS() - 7200, exp: nowS() - 3600 })), 401, 'token_expired', 'expired service token');
        });
        const u = uid();
        assertAccepted(await track([{ event: 'signed_in', user_id: u }], svcToken({ sub: 'svc-crm' })), 1, 'second allowed subject');
        await forwarded(u, 'second allowed subject');
    });

    test('teardown: track gateway exits 0 with clean logs', async () => {
        await stopAndCheck(gw);
    });
});
