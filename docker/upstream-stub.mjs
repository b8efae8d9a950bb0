// docker/upstream-stub.mjs: a stand-in Track API for trying the gateway
// locally (compose.yaml): answers 200 to POST /api/track and prints each
// batch on stdout. Node's standard library only.
import http from 'node:http';

const port = Number(process.env.PORT || 9000);
http.createServer((req, res) => {
    const parts = [];
    req.on('data', (c) => parts.push(c));
    req.on('end', () => {
        const ok = req.method === 'POST' && req.url === '/api/track' &&
            Boolean(req.headers['x-api-key']);
        console.log(JSON.stringify({ at: new Date().toISOString(), ok, body: Buffer.concat(parts).toString('utf8') }));
        res.writeHead(ok ? 200 : 401, { 'content-type': 'application/json' });
        res.end(ok ? '{"status":"ok"}' : '{"error":"unauthorized"}');
    });
}).listen(port, '0.0.0.0');
