// tests/e2e/lib/webhooks.mjs: the identity-provider fixtures
// (tests/fixtures/idp) re-signed for now, the gateway settings that turn
// every provider on, and signers for requests the fixtures do not hold.
import { execFile } from 'node:child_process';
import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { FIXTURES_DIR, registerSensitive, registerToken, b64url } from './harness.mjs';

export const IDP_DIR = path.join(FIXTURES_DIR, 'idp');
export const PROVIDERS = ['auth0', 'okta', 'clerk', 'workos', 'supabase', 'firebase',
    'keycloak', 'logto', 'fusionauth'];

/* The event members the gateway documents for webhook events; anything
 * else would be a leak of the provider's payload. */
export const PROPERTY_KEYS = new Set(['email', 'user_name', 'auth_method', 'identity_provider',
    'mfa', 'message_id']);
export const CONTEXT_KEYS = new Set(['group_id', 'session_id']);

/* Re-signs every provider's fixtures for the current time into out. */
export function resignNow(out) {
    return new Promise((resolve, reject) => {
        execFile(process.execPath, [path.join(IDP_DIR, 'sign.mjs'), 'resign', '--now', '--out', out],
            { timeout: 60000 }, (err, stdout, stderr) => (err
                ? reject(new Error(`sign.mjs resign failed: ${stderr}`)) : resolve(stdout)));
    });
}

export function readJson(p) {
    return JSON.parse(fs.readFileSync(p, 'utf8'));
}

export function readSecrets(dir, provider) {
    const pdir = path.join(dir, provider);
    const s = readJson(path.join(pdir, 'secrets.json'));
    for (const [k, v] of Object.entries(s)) {
        if (typeof v === 'string' && v.startsWith('@')) {
            s[k] = fs.readFileSync(path.join(pdir, v.slice(1)), 'utf8');
        }
    }
    return s;
}

/* Headers of a .headers file, names lower-cased (case-insensitive). */
export function readHeaders(file) {
    const headers = {};
    for (const line of fs.readFileSync(file, 'utf8').split('\n')) {
        if (!line.trim()) {
            continue;
        }
        const i = line.indexOf(':');
        headers[line.slice(0, i).trim().toLowerCase()] = line.slice(i + 1).trim();
    }
    return headers;
}

/* One case of a provider folder: method, headers, body, oracle, answer. */
export function readCase(dir, provider, c) {
    const base = path.join(dir, provider, c.name);
    const response = fs.existsSync(`${base}.response.json`) ? readJson(`${base}.response.json`) : undefined;
    return {
        name: `${provider}/${c.name}`,
        method: c.method || 'POST',
        headers: readHeaders(`${base}.headers`),
        body: fs.readFileSync(`${base}.body`),
        expected: readJson(`${base}.expected.json`),
        response,
    };
}

/* Settings that turn every shipped provider on with the fixtures' test
 * secrets; the Clerk secret goes through the <VAR>_FILE form. */
export function gatewayEnv(dir, scratch) {
    const s = Object.fromEntries(PROVIDERS.map((p) => [p, readSecrets(dir, p)]));
    const clerkFile = path.join(scratch, 'clerk.secret');
    fs.writeFileSync(clerkFile, `${s.clerk.signing_secret}\n`);
    for (const p of PROVIDERS) {
        for (const [k, v] of Object.entries(s[p])) {
            if (k !== '_comment' && typeof v === 'string' && /secret|authorization|key/.test(k)
                && !/kid|pem|public/.test(k) && !v.includes('PUBLIC KEY')) {
                registerSensitive(v);
                registerSensitive(v.replace(/^Bearer /, ''));
            }
        }
    }
    return {
        GW_WEBHOOKS_AUTH0_AUTHORIZATION: s.auth0.authorization,
        GW_WEBHOOKS_OKTA_AUTHORIZATION: s.okta.authorization,
        GW_WEBHOOKS_CLERK_SECRET_FILE: clerkFile,
        GW_WEBHOOKS_WORKOS_SECRET: s.workos.webhook_secret,
        GW_WEBHOOKS_SUPABASE_SECRET: s.supabase.hook_secret,
        GW_WEBHOOKS_FIREBASE_JWKS_FILE: path.join(dir, 'firebase', 'jwks.json'),
        GW_WEBHOOKS_FIREBASE_PROJECT_ID: s.firebase.project_id,
        GW_WEBHOOKS_FIREBASE_AUDIENCE: s.firebase.audience,
        GW_WEBHOOKS_KEYCLOAK_SECRET: s.keycloak.shared_secret,
        GW_WEBHOOKS_LOGTO_SECRET: s.logto.signing_key,
        GW_WEBHOOKS_FUSIONAUTH_JWKS_FILE: path.join(dir, 'fusionauth', 'jwks.json'),
        GW_WEBHOOKS_FUSIONAUTH_HMAC_SECRET: s.fusionauth.hmac_secret,
        GW_WEBHOOKS_FUSIONAUTH_HMAC_KID: s.fusionauth.hmac_kid,
    };
}

/* Registers every token and email of the fixtures as must-not-log. */
export function registerFixtureSensitive(dir) {
    for (const p of PROVIDERS) {
        const m = readJson(path.join(dir, p, 'manifest.json'));
        for (const c of m.cases) {
            const k = readCase(dir, p, c);
            const exp = Array.isArray(k.expected) ? k.expected : [k.expected];
            for (const e of exp) {
                if (e.properties?.email) {
                    registerSensitive(e.properties.email);
                }
            }
            const jws = k.headers['x-fusionauth-signature-jwt'];
            if (jws) {
                registerToken(jws);
            }
            const sig = k.headers['svix-signature'] || k.headers['webhook-signature']
                || k.headers['x-keycloak-signature'] || k.headers['logto-signature-sha-256'];
            if (sig) {
                registerSensitive(sig);
            }
            if (p === 'firebase') {
                registerToken(JSON.parse(k.body.toString('utf8')).data.jwt);
            }
        }
    }
}

/* The oracle's six fields, absent ones left out (absent must stay absent). */
export function oracleView(ev) {
    const v = { event_name: ev.event_name, user_id: ev.user_id, timestamp: ev.timestamp, properties: {}, context: {} };
    for (const k of ['email', 'user_name']) {
        if (ev.properties && k in ev.properties) {
            v.properties[k] = ev.properties[k];
        }
    }
    if (ev.context && 'group_id' in ev.context) {
        v.context.group_id = ev.context.group_id;
    }
    return v;
}

// ---------------------------------------------------------------- signers

const hmac = (key, data, enc) => crypto.createHmac('sha256', key).update(data).digest(enc);

export function standardKey(secret) {
    return Buffer.from(secret.replace(/^v1,/, '').replace(/^whsec_/, ''), 'base64');
}

/* Svix / Standard Webhooks: "v1,<base64>" over "<id>.<ts>.<body>". */
export function standardSig(secret, id, ts, body) {
    return `v1,${hmac(standardKey(secret), Buffer.concat([Buffer.from(`${id}.${ts}.`), Buffer.from(body)]), 'base64')}`;
}

export function workosSig(secret, tMs, body) {
    const v1 = hmac(Buffer.from(secret, 'utf8'), Buffer.concat([Buffer.from(`${tMs}.`), Buffer.from(body)]), 'hex');
    return `t=${tMs}, v1=${v1}`;
}

export function hexSig(secret, body) {
    return hmac(Buffer.from(secret, 'utf8'), Buffer.from(body), 'hex');
}

/* FusionAuth's JWS over the body hash, HS256 with the HMAC key. */
export function fusionauthSig(secret, kid, body) {
    const h = b64url(JSON.stringify({ alg: 'HS256', typ: 'JWT', kid }));
    const p = b64url(JSON.stringify({
        request_body_sha256: crypto.createHash('sha256').update(Buffer.from(body)).digest('base64'),
    }));
    const token = `${h}.${p}.${b64url(hmac(Buffer.from(secret, 'utf8'), `${h}.${p}`))}`;
    registerToken(token);
    return token;
}

/* A Firebase blocking token signed with the fixtures' published key. */
export function firebaseBody(secrets, claims) {
    const h = b64url(JSON.stringify({ alg: 'RS256', kid: secrets.kid, typ: 'JWT' }));
    const p = b64url(JSON.stringify(claims));
    const sig = crypto.sign('sha256', Buffer.from(`${h}.${p}`), crypto.createPrivateKey(secrets.private_key));
    const token = `${h}.${p}.${b64url(sig)}`;
    registerToken(token);
    return JSON.stringify({ data: { jwt: token } });
}
