// tests/e2e/lib/ops.mjs: helpers for the operations tests: reading the
// Prometheus exposition, finding Debian tools, running promtool.
import { execFileSync, spawnSync } from 'node:child_process';
import fs from 'node:fs';

/* Parses Prometheus text exposition into [{name, labels, value}]. */
export function parseExposition(text) {
    const out = [];
    for (const line of text.split('\n')) {
        if (line === '' || line.startsWith('#')) {
            continue;
        }
        const m = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(\{(.*)\})? (\S+)$/.exec(line);
        if (!m) {
            throw new Error(`not an exposition sample line: ${line}`);
        }
        const labels = {};
        for (const l of (m[3] || '').matchAll(/([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"/g)) {
            labels[l[1]] = l[2];
        }
        out.push({ name: m[1], labels, value: Number(m[4]) });
    }
    return out;
}

/* The value of the series name{labels...} (labels must all match; others
 * may exist only when partial is true); 0 when absent. */
export function metric(samples, name, labels = {}, { sum = false } = {}) {
    const hits = samples.filter((s) => s.name === name &&
        Object.entries(labels).every(([k, v]) => s.labels[k] === v) &&
        (sum || Object.keys(s.labels).length === Object.keys(labels).length));
    return hits.reduce((a, s) => a + s.value, 0);
}

export async function scrape(gw) {
    const res = await gw.req('/metrics');
    if (res.status !== 200) {
        throw new Error(`/metrics answered ${res.status}`);
    }
    return { text: res.text, samples: parseExposition(res.text), headers: res.headers };
}

/* A Debian tool's path, or null (PATH plus the sbin folders). */
export function findTool(name) {
    for (const dir of [...(process.env.PATH || '').split(':'), '/usr/sbin', '/sbin', '/usr/bin']) {
        const p = `${dir}/${name}`;
        try {
            fs.accessSync(p, fs.constants.X_OK);
            return p;
        } catch {
            /* next */
        }
    }
    return null;
}

/* Runs `promtool check metrics` on text; returns {code, output}. */
export function promtoolCheck(text) {
    const promtool = findTool('promtool');
    if (!promtool) {
        throw new Error('promtool not found: scripts/install-deps.sh --test installs Debian\'s prometheus');
    }
    const r = spawnSync(promtool, ['check', 'metrics'], { input: text, encoding: 'utf8', timeout: 30000 });
    return { code: r.status, output: `${r.stdout}${r.stderr}` };
}

export function sh(cmd, args, opts = {}) {
    return execFileSync(cmd, args, { encoding: 'utf8', ...opts });
}
