// Container image and Kubernetes manifests, without a container engine
// (none on these machines): the runtime stage's package list covers every
// library the binary links, the Dockerfile has the promised shape, and the
// entrypoint script runs the real binary with the image's environment
// (listen host moved to loopback: tests serve on 127.0.0.1 only).
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { createInterface } from 'node:readline';
import fs from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { GW_BIN, REPO_ROOT, makeTempDir, runBin, withTimeout, SLOW } from './lib/harness.mjs';

const DOCKER = path.join(REPO_ROOT, 'docker');
const K8S = path.join(REPO_ROOT, 'deploy', 'k8s');
const dockerfile = fs.readFileSync(path.join(DOCKER, 'Dockerfile'), 'utf8');

/* Dockerfile instructions per stage, continuation lines joined. */
function stages(text) {
    const joined = text.replace(/\\\n/g, ' ').split('\n').filter((l) => l.trim() && !l.trim().startsWith('#'));
    const out = [];
    for (const l of joined) {
        const [, op, rest] = /^\s*(\w+)\s+(.*)$/.exec(l);
        if (op.toUpperCase() === 'FROM') {
            out.push({ from: rest.trim(), ops: [] });
        }
        out.at(-1).ops.push({ op: op.toUpperCase(), args: rest.trim() });
    }
    return out;
}

function runtimePackages() {
    return fs.readFileSync(path.join(DOCKER, 'runtime-packages.txt'), 'utf8')
        .split('\n').map((l) => l.trim()).filter((l) => l && !l.startsWith('#'));
}

/* The image's ENV defaults, as KEY -> value. */
function imageEnv(runtime) {
    const env = {};
    for (const o of runtime.ops.filter((x) => x.op === 'ENV')) {
        for (const m of o.args.matchAll(/(\w+)=(\S+)/g)) {
            env[m[1]] = m[2];
        }
    }
    return env;
}

function freePort() {
    return new Promise((resolve) => {
        const s = net.createServer().listen(0, '127.0.0.1', () => {
            const { port } = s.address();
            s.close(() => resolve(port));
        });
    });
}

describe('docker/Dockerfile', () => {
    const [build, runtime] = stages(dockerfile);

    test('two stages: the README build on bookworm, a bookworm-slim runtime', () => {
        assert.equal(build.from, 'debian:bookworm AS build', 'build stage on bookworm');
        assert.equal(runtime.from, 'debian:bookworm-slim AS runtime', 'runtime stage on bookworm-slim');
        const runs = build.ops.filter((o) => o.op === 'RUN').map((o) => o.args).join('\n');
        assert.match(runs, /cmake -S \. -B build/, 'build stage configures as the README does');
        assert.match(runs, /cmake --build build/, 'and builds');
        const installs = fs.readFileSync(path.join(REPO_ROOT, 'scripts', 'install-deps.sh'), 'utf8');
        const devPkgs = /packages=\(([^)]*)\)/.exec(installs)[1].split(/\s+/).filter(Boolean);
        for (const p of devPkgs) {
            assert.match(runs, new RegExp(`\\b${p.replace(/[+.]/g, '\\$&')}\\b`), `build stage installs ${p} (as install-deps.sh)`);
        }
    });

    test('runtime: package list only, non-root user, data volume, healthcheck, SIGTERM', () => {
        const ops = Object.fromEntries(runtime.ops.map((o) => [o.op, o.args]));
        const run = runtime.ops.filter((o) => o.op === 'RUN').map((o) => o.args).join('\n');
        assert.match(run, /install -y --no-install-recommends\s+\$\(grep -v '\^#' \/tmp\/runtime-packages\.txt\)/,
            'runtime installs exactly docker/runtime-packages.txt');
        assert.ok(!/\bcurl\b(?!4)/.test(runtimePackages().join(' ')), 'no curl in the runtime image');
        assert.match(ops.USER, /^10001(:10001)?$/, 'runs as a non-root uid');
        const env = imageEnv(runtime);
        assert.equal(ops.VOLUME, `["${env.GW_DATA_DIR}"]`, 'the data folder is the volume');
        assert.match(ops.HEALTHCHECK, /CMD \["\/usr\/local\/bin\/signin-gateway", "healthcheck"\]/, 'HEALTHCHECK uses the healthcheck subcommand');
        assert.equal(ops.STOPSIGNAL, 'SIGTERM', 'STOPSIGNAL SIGTERM');
        assert.equal(ops.ENTRYPOINT, '["/usr/local/bin/entrypoint.sh"]', 'entrypoint script');
        assert.ok(!runtime.ops.some((o) => o.op === 'CMD'), 'no CMD flags: configuration by environment only');
        for (const k of Object.keys(env)) {
            assert.match(k, /^GW_[A-Z0-9_]+$/, `${k} is a gateway setting`);
        }
    });

    test('the runtime packages provide every library the binary links', () => {
        const needed = spawnSync('readelf', ['-d', GW_BIN], { encoding: 'utf8' }).stdout
            .split('\n').map((l) => /\(NEEDED\).*\[(.+)\]/.exec(l)?.[1]).filter(Boolean);
        assert.ok(needed.length >= 6, `NEEDED libraries read (${needed})`);
        const list = new Set(runtimePackages());
        // libc6 is in every Debian image; the rest must be listed.
        const base = new Set(['libc6']);
        // A sanitized test build links the sanitizer runtimes; images never.
        const sanitizer = /^lib(asan|ubsan|lsan|tsan)\.so/;
        const resolved = {};
        for (const l of spawnSync('ldd', [GW_BIN], { encoding: 'utf8' }).stdout.split('\n')) {
            const m = /^\s*(\S+) => (\S+)/.exec(l);
            if (m) {
                resolved[m[1]] = m[2];
            }
        }
        const owner = (file) => {
            // Debian's merged /usr: the library may be recorded under /lib.
            for (const f of [file, fs.realpathSync(file), file.replace(/^\/usr/, ''), `/usr${file}`]) {
                const r = spawnSync('dpkg', ['-S', f], { encoding: 'utf8' });
                if (r.status === 0) {
                    return r.stdout.split(':')[0].trim();
                }
            }
            return '';
        };
        for (const lib of needed.filter((l) => !sanitizer.test(l))) {
            assert.ok(resolved[lib], `${lib} resolves (ldd)`);
            const pkg = owner(resolved[lib]);
            assert.ok(pkg, `${lib} belongs to a Debian package`);
            assert.ok(list.has(pkg) || base.has(pkg), `${lib} (${pkg}) is in docker/runtime-packages.txt`);
        }
        for (const p of list) {
            const r = spawnSync('apt-cache', ['show', '--no-all-versions', p], { encoding: 'utf8' });
            const known = r.status === 0 && /^Package: /m.test(r.stdout);
            const installed = spawnSync('dpkg-query', ['-W', p]).status === 0;
            assert.ok(known || installed, `${p} is a bookworm package`);
        }
    });
});

describe('docker/entrypoint.sh with the image environment', () => {
    const [, runtime] = stages(dockerfile);

    async function runEntrypoint(extraEnv) {
        const dataDir = makeTempDir('entrypoint');
        const port = await freePort();
        const env = {
            PATH: process.env.PATH, ...imageEnv(runtime),
            GW_BIN, GW_DATA_DIR: dataDir, GW_LISTEN_HOST: '127.0.0.1', GW_LISTEN_PORT: String(port), ...extraEnv,
        };
        return { env, port, dataDir };
    }

    test('starts the gateway as the only process, healthcheck 0, SIGTERM exits 0', async () => {
        const { env, port } = await runEntrypoint({});
        const proc = spawn('sh', [path.join(DOCKER, 'entrypoint.sh')], { env, stdio: ['ignore', 'pipe', 'pipe'] });
        const lines = [];
        const listening = new Promise((resolve) => {
            createInterface({ input: proc.stderr }).on('line', (l) => {
                lines.push(l);
                if (l.includes('"listening"')) {
                    resolve(true);
                }
            });
        });
        const exited = new Promise((resolve) => proc.on('exit', (code, signal) => resolve({ code, signal })));
        try {
            assert.ok(await withTimeout(listening, 15000 * SLOW, false), `gateway listening (${lines.join('\n')})`);
            assert.equal(fs.realpathSync(`/proc/${proc.pid}/exe`), fs.realpathSync(GW_BIN),
                'the entrypoint execs the gateway (it receives SIGTERM itself)');
            const hc = await runBin(['healthcheck'], { env });
            assert.equal(hc.code, 0, `healthcheck with the image environment: exit 0 (${hc.stderr})`);
            assert.equal(hc.stdout, `healthcheck: http://127.0.0.1:${port}/healthz answered 200\n`, 'probes /healthz');
            const ready = await runBin(['healthcheck', '--path', '/readyz'], { env });
            assert.equal(ready.code, 0, 'the readiness probe answers 200');
        } finally {
            proc.kill('SIGTERM');
        }
        const end = await withTimeout(exited, 20000 * SLOW, { code: 'timeout' });
        assert.equal(end.code, 0, 'SIGTERM: exit 0');
        for (const l of lines) {
            assert.doesNotThrow(() => JSON.parse(l), `every log line is JSON: ${l}`);
        }
    });

    test('a bad configuration stops the container with the exact reason', async () => {
        const { env } = await runEntrypoint({ GW_SPOOL_DURABILITY: 'sometimes' });
        const r = spawnSync('sh', [path.join(DOCKER, 'entrypoint.sh')], { env, encoding: 'utf8', timeout: 20000 });
        assert.equal(r.status, 2, 'exit 2');
        assert.equal(r.stderr, 'check-config: spool.durability: off, crash or power\n', 'the reason');
    });

    test('a data folder that cannot be written is named', async () => {
        const { env } = await runEntrypoint({ GW_DATA_DIR: '/nonexistent/gw-data' });
        const r = spawnSync('sh', [path.join(DOCKER, 'entrypoint.sh')], { env, encoding: 'utf8', timeout: 20000 });
        assert.equal(r.status, 2, 'exit 2');
        assert.match(r.stderr, /^entrypoint: GW_DATA_DIR \/nonexistent\/gw-data is not writable by uid \d+$/m, 'message');
    });

    test('subcommands pass through (check-config)', async () => {
        const { env } = await runEntrypoint({});
        const r = spawnSync('sh', [path.join(DOCKER, 'entrypoint.sh'), 'check-config'], { env, encoding: 'utf8', timeout: 20000 });
        assert.equal(r.status, 0, 'check-config through the entrypoint');
        assert.match(r.stdout, /^check-config: ok$/m, 'its summary');
    });
});

describe('deploy/k8s', () => {
    const read = (f) => fs.readFileSync(path.join(K8S, f), 'utf8');

    test('StatefulSet with a volume per replica, probes on /readyz and /healthz, sized resources', () => {
        const s = read('statefulset.yaml');
        assert.match(s, /^kind: StatefulSet$/m, 'a StatefulSet');
        assert.match(s, /volumeClaimTemplates:\n\s+- metadata: \{name: data\}/, 'a volume claim per replica');
        assert.match(s, /mountPath: \/var\/lib\/signin-gateway\}/, 'mounted at the image\'s data folder');
        assert.match(s, /readinessProbe:\n\s+httpGet: \{path: \/readyz, port: http\}/, 'readiness on /readyz');
        assert.match(s, /livenessProbe:\n\s+httpGet: \{path: \/healthz, port: http\}/, 'liveness on /healthz');
        assert.match(s, /requests: \{cpu: \d+m, memory: \d+Mi\}/, 'resource requests');
        assert.match(s, /runAsUser: 10001/, 'the image\'s non-root uid');
        const grace = Number(/terminationGracePeriodSeconds: (\d+)/.exec(s)[1]);
        assert.ok(grace >= 5 + 10, 'grace period covers the 5 s drain and the 10 s upstream flush');
    });

    test('a Service, a headless Service and a PodDisruptionBudget', () => {
        const svc = read('service.yaml');
        assert.equal((svc.match(/^kind: Service$/mg) || []).length, 2, 'two Services');
        assert.match(svc, /clusterIP: None/, 'one headless for the StatefulSet');
        assert.match(read('statefulset.yaml'), /serviceName: signin-gateway-headless/, 'the StatefulSet names it');
        const pdb = read('pdb.yaml');
        assert.match(pdb, /^kind: PodDisruptionBudget$/m, 'a PodDisruptionBudget');
        assert.match(pdb, /maxUnavailable: 1/, 'one replica at a time');
    });
});
