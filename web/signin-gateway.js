// web/signin-gateway.js: tells the signin-gateway that the user signed in.
// An ES module with no dependencies. Call it right after the identity
// provider gave the page the user's ID token:
//
//   import { reportSignIn } from './signin-gateway.js';
//   await reportSignIn({ gatewayUrl: 'https://gw.example.com', idToken });
//
// The request is sent with keepalive, so navigating away right after the
// call does not cancel it. The page holds no secret: the gateway verifies
// the token against the provider's published keys, and the identity comes
// from the token alone. Sending the same token again is safe: the gateway
// answers the same and forwards one event.

/* A refusal or failure, for the caller to show or log. status is the HTTP
 * status (0: no answer: network, CORS or timeout); code is the gateway's
 * error code ("token_expired", "wrong_audience", ...) or "network_error". */
export class SignInGatewayError extends Error {
    constructor(message, { status = 0, code = 'network_error', retryAfterS = null, requestId = null } = {}) {
        super(message);
        this.name = 'SignInGatewayError';
        this.status = status;
        this.code = code;
        this.retryAfterS = retryAfterS;
        this.requestId = requestId;
    }
}

/* keepalive bodies are capped by browsers at 64 KiB in total. */
const KEEPALIVE_MAX_BYTES = 64 * 1024;

function bodyFor(properties, timestamp) {
    if (properties === undefined && timestamp === undefined) {
        return undefined;
    }
    const body = {};
    if (timestamp !== undefined) {
        body.timestamp = timestamp instanceof Date ? timestamp.toISOString() : String(timestamp);
    }
    if (properties !== undefined) {
        body.properties = properties;
    }
    return JSON.stringify(body);
}

async function readError(res) {
    let code = `http_${res.status}`;
    let message = `the gateway answered ${res.status}`;
    try {
        const j = await res.json();
        if (j && typeof j.error === 'string') {
            code = j.error;
            message = typeof j.message === 'string' ? j.message : message;
        }
    } catch {
        /* not JSON: keep the status */
    }
    const ra = Number(res.headers.get('Retry-After'));
    return new SignInGatewayError(message, {
        status: res.status, code,
        retryAfterS: Number.isFinite(ra) && ra >= 0 ? ra : null,
        requestId: res.headers.get('X-Request-Id'),
    });
}

const wait = (ms) => new Promise((r) => setTimeout(r, ms));

/* Sends POST <gatewayUrl>/v1/signed-in with the ID token.
 * Options: gatewayUrl (required), idToken (required), properties (an
 * object added to the event), timestamp (Date or RFC 3339 string), retries
 * (503 and network failures are retried this many times, default 2,
 * waiting Retry-After or 1 s), timeoutMs (per attempt, default 10000),
 * onError (called with each SignInGatewayError before it is thrown).
 * Resolves {eventId, status}; rejects with a SignInGatewayError. */
export async function reportSignIn({
    gatewayUrl, idToken, properties, timestamp, retries = 2, timeoutMs = 10000, onError,
} = {}) {
    if (typeof gatewayUrl !== 'string' || gatewayUrl === '') {
        throw new TypeError('reportSignIn: gatewayUrl is required');
    }
    if (typeof idToken !== 'string' || idToken === '') {
        throw new TypeError('reportSignIn: idToken is required');
    }
    const body = bodyFor(properties, timestamp);
    const headers = { Authorization: `Bearer ${idToken}` };
    if (body !== undefined) {
        headers['Content-Type'] = 'application/json';
    }
    const keepalive = (body ? body.length : 0) + idToken.length < KEEPALIVE_MAX_BYTES;
    const url = `${gatewayUrl.replace(/\/+$/, '')}/v1/signed-in`;
    let failure;

    for (let attempt = 0; attempt <= retries; attempt++) {
        const ctl = typeof AbortController === 'function' ? new AbortController() : null;
        const timer = ctl ? setTimeout(() => ctl.abort(), timeoutMs) : null;
        try {
            const res = await fetch(url, {
                method: 'POST', headers, body, keepalive, mode: 'cors',
                credentials: 'omit', cache: 'no-store', signal: ctl?.signal,
            });
            if (res.status === 202 || res.ok) {
                const j = await res.json().catch(() => ({}));
                return { eventId: j.event_id ?? null, status: res.status };
            }
            failure = await readError(res);
        } catch (e) {
            // A CORS refusal, an unreachable gateway and a timeout all end
            // here: the browser does not say which.
            failure = new SignInGatewayError(`the sign-in call failed: ${e?.message ?? e}`);
        } finally {
            if (timer) {
                clearTimeout(timer);
            }
        }
        if (onError) {
            try {
                onError(failure);
            } catch {
                /* the caller's hook must not stop the retries */
            }
        }
        const retryable = failure.status === 0 || failure.status === 503;
        if (!retryable || attempt === retries) {
            break;
        }
        await wait(1000 * (failure.retryAfterS ?? 1));
    }
    throw failure;
}
