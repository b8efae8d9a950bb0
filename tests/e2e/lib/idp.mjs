// tests/e2e/lib/idp.mjs: a test OpenID provider on 127.0.0.1 over HTTPS,
// with a test CA made here by the openssl CLI: discovery, JWKS (with the
// Cache-Control it is told), key rotation, an implicit-flow /authorize for
// browsers, request counters, and stop / restart on the same port.
import https from 'node:https';
import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { execFileSync } from 'node:child_process';
import { makeTempDir, signJwt, nowS } from './harness.mjs';

function openssl(args, cwd) {
    execFileSync('openssl', args, { cwd, stdio: ['ignore', 'ignore', 'pipe'], timeout: 30000 });
}

/* A CA and a server certificate for 127.0.0.1 / localhost signed by it.
 * Returns file paths and PEM texts. */
export function makeTestCa(label = 'ca') {
    const dir = makeTempDir(label);
    openssl(['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes',
        '-keyout', 'ca.key', '-out', 'ca.pem', '-days', '2', '-subj', `/CN=gw e2e ${label}`,
        '-addext', 'basicConstraints=critical,CA:TRUE',
        '-addext', 'keyUsage=critical,keyCertSign,cRLSign'], dir);
    openssl(['req', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes',
        '-keyout', 'server.key', '-out', 'server.csr', '-subj', '/CN=127.0.0.1'], dir);
    fs.writeFileSync(path.join(dir, 'ext.cnf'),
        'subjectAltName=IP:127.0.0.1,DNS:localhost\nextendedKeyUsage=serverAuth\n' +
        'basicConstraints=critical,CA:FALSE\nkeyUsage=critical,digitalSignature\n');
    openssl(['x509', '-req', '-in', 'server.csr', '-CA', 'ca.pem', '-CAkey', 'ca.key',
        '-CAcreateserial', '-out', 'server.pem', '-days', '2', '-extfile', 'ext.cnf'], dir);
    const read = (f) => fs.readFileSync(path.join(dir, f), 'utf8');
    return {
        dir, caFile: path.join(dir, 'ca.pem'), caPem: read('ca.pem'),
        key: read('server.key'), cert: read('server.pem'),
    };
}

function newKey(kid, alg) {
    const pair = alg === 'ES256'
        ? crypto.generateKeyPairSync('ec', { namedCurve: 'P-256' })
        : crypto.generateKeyPairSync('rsa', { modulusLength: 2048 });
    const jwk = { ...pair.publicKey.export({ format: 'jwk' }), kid, alg, use: 'sig' };
    return { kid, alg, privateKey: pair.privateKey, jwk };
}

/* Starts the provider. Options: tls (from makeTestCa), cacheControl (the
 * JWKS answer's header; null sends none), alg of the first key (RS256),
 * discovery (false: 404 there; the gateway must use jwks_url), name. */
export async function startIdp({ tls, cacheControl = 'public, max-age=3600', alg = 'RS256',
    discovery = true, name = 'idp' } = {}) {
    const hits = new Map();
    const log = [];
    let keys = [newKey(`${name}-k1`, alg)];
    let server = null;
    let port = 0;
    const sockets = new Set();

    const idp = {
        name,
        cacheControl,
        get port() {
            return port;
        },
        get issuer() {
            return `https://127.0.0.1:${port}`;
        },
        get jwksUrl() {
            return `https://127.0.0.1:${port}/keys`;
        },
        /* Requests served so far on a path ("/keys", discovery, ...). */
        hits: (p) => hits.get(p) || 0,
        requests: () => log.slice(),
        kids: () => keys.map((k) => k.kid),
        /* A new key; the old ones stay unless keepOld is false. */
        rotate(kid, { keepOld = true, keyAlg = alg } = {}) {
            const k = newKey(kid, keyAlg);
            keys = keepOld ? [...keys, k] : [k];
            return k;
        },
        removeKey(kid) {
            keys = keys.filter((k) => k.kid !== kid);
        },
        key: (kid) => keys.find((k) => k.kid === kid),
        /* An ID token of this provider, signed with kid (default: the
         * newest key); claims override the defaults. */
        token(claims = {}, { kid, header = {}, key } = {}) {
            const k = key ?? (kid ? keys.find((x) => x.kid === kid) : keys[keys.length - 1]);
            const now = nowS();
            return signJwt({ alg: k.alg, typ: 'JWT', kid: k.kid, ...header },
                { iss: idp.issuer, iat: now - 5, exp: now + 600, ...claims }, k.privateKey);
        },
        handler: null, // optional (req, res) => bool, for extra routes
    };

    function answer(req, res) {
        const u = new URL(req.url, idp.issuer);
        hits.set(u.pathname, (hits.get(u.pathname) || 0) + 1);
        log.push({ path: u.pathname, at: Date.now() });
        if (idp.handler && idp.handler(req, res, u)) {
            return;
        }
        if (u.pathname === '/.well-known/openid-configuration' && discovery) {
            res.writeHead(200, { 'content-type': 'application/json' });
            res.end(JSON.stringify({
                issuer: idp.issuer, jwks_uri: idp.jwksUrl,
                authorization_endpoint: `${idp.issuer}/authorize`,
                response_types_supported: ['id_token'],
                subject_types_supported: ['public'],
                id_token_signing_alg_values_supported: ['RS256', 'ES256'],
            }));
            return;
        }
        if (u.pathname === '/keys') {
            const headers = { 'content-type': 'application/json' };
            if (idp.cacheControl) {
                headers['cache-control'] = idp.cacheControl;
            }
            res.writeHead(200, headers);
            res.end(JSON.stringify({ keys: keys.map((k) => k.jwk) }));
            return;
        }
        if (u.pathname === '/authorize') {
            // Implicit flow (response_type=id_token, response_mode
            // fragment): the user is taken as signed in at once.
            const p = u.searchParams;
            const claims = JSON.parse(p.get('login_hint') || '{}');
            const token = idp.token({ aud: p.get('client_id'), nonce: p.get('nonce'), ...claims });
            const to = `${p.get('redirect_uri')}#id_token=${encodeURIComponent(token)}` +
                `&state=${encodeURIComponent(p.get('state') || '')}`;
            res.writeHead(302, { location: to });
            res.end();
            return;
        }
        res.writeHead(404, { 'content-type': 'application/json' });
        res.end('{"error":"not_found"}');
    }

    async function listen(p) {
        server = https.createServer({ key: tls.key, cert: tls.cert }, answer);
        server.on('connection', (s) => {
            sockets.add(s);
            s.on('close', () => sockets.delete(s));
        });
        server.on('tlsClientError', () => {});
        await new Promise((resolve, reject) => {
            server.once('error', reject);
            server.listen(p, '127.0.0.1', resolve);
        });
        port = server.address().port;
    }

    /* Closes the listener and every connection: the provider is down. */
    idp.stop = async () => {
        if (!server) {
            return;
        }
        const s = server;
        server = null;
        for (const c of sockets) {
            c.destroy();
        }
        await new Promise((r) => s.close(r));
    };
    /* Listens again on the same port. */
    idp.start = async () => {
        if (!server) {
            await listen(port);
        }
    };
    /* Reserves a port, then goes down: a provider that was never up. */
    idp.reservePortDown = async () => {
        await listen(0);
        await idp.stop();
    };
    idp._listen = listen;
    return idp;
}

/* The provider, up. */
export async function startIdpUp(opts) {
    const idp = await startIdp(opts);
    await idp._listen(0);
    return idp;
}
