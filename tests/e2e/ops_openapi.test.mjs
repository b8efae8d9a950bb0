// openapi.yaml against the real binary: real requests to every endpoint,
// and every answer must be one the spec says: a documented path and
// method (else 405 documented on that path, or the NotFound response), a
// documented status, its media type, a body valid against its schema
// (Ajv, JSON Schema 2020-12 as OpenAPI 3.1 uses), its required headers,
// and X-Request-Id. The validator is pinned in tests/openapi/.
import { describe, test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { createRequire } from 'node:module';
import {
    REPO_ROOT, makeHsSecretFile, signJwt, startGateway, startUpstream, stopAndCheck, nowS,
    registerSensitive,
} from './lib/harness.mjs';

const MODULES = process.env.GW_OPENAPI_MODULES || path.join(REPO_ROOT, 'tests', 'openapi', 'node_modules');
const require = createRequire(path.join(MODULES, 'loader.cjs'));
const Ajv2020 = require('ajv/dist/2020').default;
const addFormats = require('ajv-formats').default;
const YAML = require('yaml');

const spec = YAML.parse(fs.readFileSync(path.join(REPO_ROOT, 'openapi.yaml'), 'utf8'));
const ajv = new Ajv2020({ strict: false, allErrors: true });
addFormats(ajv);
ajv.addSchema({ $id: 'openapi.json', components: spec.components });

const ISS = 'https://idp.openapi.example/';
const AUD = 'signin-gateway-openapi';
const KEYCLOAK_SECRET = crypto.randomBytes(32).toString('hex');
registerSensitive(KEYCLOAK_SECRET);

const deref = (obj) => {
    let o = obj;
    while (o && o.$ref) {
        o = o.$ref.slice(2).split('/').map((p) => p.replace(/~1/g, '/').replace(/~0/g, '~'))
            .reduce((a, k) => a[k], spec);
    }
    return o;
};
const escapePtr = (k) => k.replace(/~/g, '~0').replace(/\//g, '~1');

/* The spec's path template matching a request path, or null. */
function findPath(p) {
    for (const tpl of Object.keys(spec.paths)) {
        const re = new RegExp(`^${tpl.replace(/\{[^}]+\}/g, '[^/]+')}$`);
        if (re.test(p)) {
            return tpl;
        }
    }
    return null;
}

/* A pointer to the response object documented for this answer, or the
 * reason none is. */
function documentedResponse(method, reqPath, status) {
    const tpl = findPath(reqPath);
    if (!tpl) {
        return status === 404 ? { ptr: '#/components/responses/NotFound' } : { why: `no path matches ${reqPath}` };
    }
    const item = spec.paths[tpl];
    const m = method.toLowerCase();
    if (!item[m]) {
        if (status !== 405) {
            return { why: `${method} ${tpl} is not documented and the answer is ${status}, not 405` };
        }
        const op = Object.keys(item).find((k) => item[k]?.responses?.['405']);
        return op ? { ptr: `#/paths/${escapePtr(tpl)}/${op}/responses/405` } : { why: `${tpl} documents no 405` };
    }
    const code = String(status);
    if (item[m].responses[code]) {
        return { ptr: `#/paths/${escapePtr(tpl)}/${m}/responses/${code}` };
    }
    return item[m].responses.default
        ? { ptr: `#/paths/${escapePtr(tpl)}/${m}/responses/default` }
        : { why: `${method} ${tpl} does not document status ${status}` };
}

function resolvePtr(ptr) {
    let node = spec;
    let p = ptr;
    for (const k of ptr.slice(2).split('/')) {
        node = node[k.replace(/~1/g, '/').replace(/~0/g, '~')];
    }
    while (node.$ref) {
        p = node.$ref;
        node = deref(node);
    }
    return { node, ptr: p };
}

const checked = [];

/* Validates one real answer against the spec; returns the failures. */
function conformance(method, reqPath, res) {
    const fails = [];
    const doc = documentedResponse(method, reqPath, res.status);
    if (doc.why) {
        return [doc.why];
    }
    const { node, ptr } = resolvePtr(doc.ptr);
    for (const [name, h] of Object.entries(node.headers || {})) {
        if (deref(h).required && res.headers[name.toLowerCase()] === undefined) {
            fails.push(`required header ${name} missing`);
        }
    }
    if (!res.headers['x-request-id']) {
        fails.push('X-Request-Id missing');
    }
    const content = node.content || {};
    const type = (res.headers['content-type'] || '').split(';')[0].trim().toLowerCase();
    if (Object.keys(content).length === 0) {
        if (res.text.length !== 0) {
            fails.push(`a body where none is documented: ${res.text.slice(0, 80)}`);
        }
        return fails;
    }
    if (!content[type]) {
        return [...fails, `media type ${type} not documented (${Object.keys(content)})`];
    }
    const where = `${ptr.startsWith('#/components') ? ptr : doc.ptr}/content/${escapePtr(type)}/schema`;
    let validate;
    if (ptr.startsWith('#/components')) {
        validate = ajv.getSchema(`openapi.json${where}`);
    } else {
        // Path items are not in openapi.json (components only): compile the
        // schema itself, its local $refs pointed into openapi.json.
        validate = ajv.compile({ $id: `inline-${checked.length}-${Date.now()}.json`, ...rewriteRefs(content[type].schema) });
    }
    const body = type === 'application/json' ? res.json : res.text;
    if (!validate(body)) {
        fails.push(`body does not match ${where}: ${ajv.errorsText(validate.errors)}; body ${res.text.slice(0, 200)}`);
    }
    return fails;
}

/* Local refs ("#/components/...") point into openapi.json. */
function rewriteRefs(schema) {
    if (Array.isArray(schema)) {
        return schema.map(rewriteRefs);
    }
    if (schema && typeof schema === 'object') {
        const out = {};
        for (const [k, v] of Object.entries(schema)) {
            out[k] = k === '$ref' && typeof v === 'string' && v.startsWith('#/') ? `openapi.json${v}` : rewriteRefs(v);
        }
        return out;
    }
    return schema;
}

let users;
let backend;
let seq = 0;
const userTok = (over = {}, key = users.secret) => {
    seq += 1;
    return signJwt({ alg: 'HS256', typ: 'JWT' }, { iss: ISS, aud: AUD, sub: `oa-${seq}`, iat: nowS() - 5, exp: nowS() + 600, ...over }, key);
};
const svcTok = (over = {}) => signJwt({ alg: 'HS256', typ: 'JWT' }, { iss: ISS, aud: AUD, sub: 'billing', iat: nowS() - 5, exp: nowS() + 600, ...over }, backend.secret);
const trackEvent = (over = {}) => ({ event: 'signed_in', user_id: `u-${++seq}`, timestamp: '2024-05-01T12:34:56.789Z', properties: { email: 'x@y.example' }, ...over });

describe('every answer is one openapi.yaml documents', () => {
    let up;
    let gw;

    before(async () => {
        users = makeHsSecretFile('oa-users');
        backend = makeHsSecretFile('oa-backend');
        up = await startUpstream();
        gw = await startGateway({
            name: 'openapi',
            env: {
                GW_AUTH_HS_SECRET_FILE: users.file, GW_AUTH_ISS: ISS, GW_AUTH_AUD: AUD,
                GW_BACKEND_HS_SECRET_FILE: backend.file, GW_BACKEND_ISS: ISS, GW_BACKEND_AUD: AUD,
                GW_BACKEND_SUBJECTS: 'billing', GW_LIMITS_TRACK_MAX_EVENTS: '2', GW_LIMITS_BODY_MAX_BYTES: '4096',
                GW_WEBHOOKS_KEYCLOAK_SECRET: KEYCLOAK_SECRET,
                GW_UPSTREAM_URL: up.url, GW_UPSTREAM_API_KEY: 'openapi-test-api-key',
            },
        });
        registerSensitive('openapi-test-api-key');
    });
    after(async () => {
        await stopAndCheck(gw);
        await up.close();
    });

    const bearer = (t) => ({ authorization: `Bearer ${t}` });
    const kcBody = JSON.stringify({ id: 'kc-1', time: Date.now(), type: 'LOGIN', realmId: 'r1', userId: 'kc-user-1', details: { username: 'kc' } });
    const kcSig = (b) => crypto.createHmac('sha256', KEYCLOAK_SECRET).update(b).digest('hex');
    const cases = [
        ['sign-in accepted', 'POST', '/v1/signed-in', () => ({ headers: bearer(userTok()) }), 202],
        ['sign-in with a body', 'POST', '/v1/signed-in', () => ({ headers: bearer(userTok()), body: { timestamp: '2024-05-01T12:00:00Z' } }), 202],
        ['sign-in without token', 'POST', '/v1/signed-in', () => ({}), 401],
        ['sign-in expired', 'POST', '/v1/signed-in', () => ({ headers: bearer(userTok({ exp: nowS() - 3600 })) }), 401],
        ['sign-in bad JSON', 'POST', '/v1/signed-in', () => ({ headers: { ...bearer(userTok()), 'content-type': 'application/json' }, body: '{"a":' }), 400],
        ['sign-in unknown field', 'POST', '/v1/signed-in', () => ({ headers: bearer(userTok()), body: { nope: 1 } }), 400],
        ['sign-in bad timestamp', 'POST', '/v1/signed-in', () => ({ headers: bearer(userTok()), body: { timestamp: '20-11-23T22:28:55.111Z' } }), 400],
        ['sign-in wrong media type', 'POST', '/v1/signed-in', () => ({ headers: { ...bearer(userTok()), 'content-type': 'text/plain' }, body: 'x' }), 415],
        ['sign-in too large', 'POST', '/v1/signed-in', () => ({ headers: bearer(userTok()), body: { properties: { pad: 'x'.repeat(5000) } } }), 413],
        ['sign-in with GET', 'GET', '/v1/signed-in', () => ({}), 405],
        ['track accepted', 'POST', '/v1/track', () => ({ headers: bearer(svcTok()), body: [trackEvent()] }), 202],
        ['track one object', 'POST', '/v1/track', () => ({ headers: bearer(svcTok()), body: trackEvent() }), 202],
        ['track empty batch', 'POST', '/v1/track', () => ({ headers: bearer(svcTok()), body: [] }), 400],
        ['track missing user', 'POST', '/v1/track', () => ({ headers: bearer(svcTok()), body: [{ event: 'signed_in' }] }), 400],
        ['track too many', 'POST', '/v1/track', () => ({ headers: bearer(svcTok()), body: [trackEvent(), trackEvent(), trackEvent()] }), 413],
        ['track event not allowed', 'POST', '/v1/track', () => ({ headers: bearer(svcTok()), body: [trackEvent({ event: 'purchased' })] }), 422],
        ['track subject not allowed', 'POST', '/v1/track', () => ({ headers: bearer(svcTok({ sub: 'intruder' })), body: [trackEvent()] }), 401],
        ['track with a user token', 'POST', '/v1/track', () => ({ headers: bearer(userTok()), body: [trackEvent()] }), 401],
        ['webhook authentic', 'POST', '/v1/webhooks/keycloak', () => ({ headers: { 'x-keycloak-signature': kcSig(kcBody), 'content-type': 'application/json' }, body: kcBody }), 200],
        ['webhook unsigned', 'POST', '/v1/webhooks/keycloak', () => ({ body: { type: 'LOGIN' } }), 401],
        ['webhook not configured', 'POST', '/v1/webhooks/clerk', () => ({ body: {} }), 404],
        ['webhook unknown provider', 'POST', '/v1/webhooks/nosuch', () => ({ body: {} }), 404],
        ['webhook with PUT', 'PUT', '/v1/webhooks/keycloak', () => ({ body: {} }), 405],
        ['healthz', 'GET', '/healthz', () => ({}), 200],
        ['healthz with POST', 'POST', '/healthz', () => ({}), 405],
        ['readyz', 'GET', '/readyz', () => ({}), 200],
        ['metrics', 'GET', '/metrics', () => ({}), 200],
        ['unknown path', 'GET', '/v2/nothing', () => ({}), 404],
    ];

    for (const [name, method, p, make, expected] of cases) {
        test(`${name}: ${method} ${p} -> ${expected}, as documented`, async () => {
            const res = await gw.req(p, { method, ...make() });
            assert.equal(res.status, expected, `${name}: status ${expected} (got ${res.status} ${res.text.slice(0, 200)})`);
            const fails = conformance(method, p, res);
            checked.push(name);
            assert.deepEqual(fails, [], `${name}: the answer conforms to openapi.yaml`);
        });
    }

    test('the checker itself refuses what the spec does not say', () => {
        const fake = (status, headers, text) => ({ status, headers: { 'x-request-id': 'x', ...headers }, text, json: text ? JSON.parse(text) : undefined });
        const ct = { 'content-type': 'application/json' };
        assert.notDeepEqual(conformance('POST', '/v1/signed-in', fake(418, ct, '{}')), [], 'an undocumented status is refused');
        assert.notDeepEqual(conformance('POST', '/v1/signed-in', fake(202, ct, '{"status":"accepted"}')), [], 'a body missing a required member is refused');
        assert.notDeepEqual(conformance('POST', '/v1/signed-in', fake(401, ct, '{"error":"missing_token","message":"m"}')), [],
            'a 401 without WWW-Authenticate is refused');
        assert.notDeepEqual(conformance('GET', '/healthz', fake(200, { 'content-type': 'text/html' }, '')), [], 'an undocumented media type is refused');
        assert.notDeepEqual(conformance('GET', '/v1/signed-in', fake(200, ct, '{}')), [], 'an undocumented method answered 200 is refused');
    });
});
