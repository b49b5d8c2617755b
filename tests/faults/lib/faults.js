'use strict';
// Shared helpers of the fault-injection suite (tests/faults/README.md): the profile (the bounded CI form or
// the full `make test-faults` form), process figures from /proc, reading a topic back, `herald log verify`,
// percentiles, a seeded random source, a webhook receiver, SSE and WebSocket subscribers that resume from
// their cursor, and the report lines that docs/reliability.md quotes. Everything is bounded in time and
// talks to 127.0.0.1 only.

const fs = require('node:fs');
const path = require('node:path');
const http = require('node:http');
const { createRequire } = require('node:module');
const { fork } = require('node:child_process');
const H = require('../../integration/lib/herald');

// The Node packages live with the integration tests (tests/integration/package.json).
const requireIntegration = createRequire(path.resolve(__dirname, '../../integration/package.json'));
const WebSocket = requireIntegration('ws');

// FAULT_PROFILE=full is what `make test-faults` runs; anything else is the bounded CI form (ctest label
// `faults`). FAULT_CYCLES overrides the number of crash cycles of either.
const FULL = process.env.FAULT_PROFILE === 'full';
function envInt(name, fallback) {
  const v = process.env[name];
  if (v === undefined || v === '') return fallback;
  const n = Number(v);
  if (!Number.isInteger(n) || n < 1) throw new Error(`${name}=${v}: expected a positive integer`);
  return n;
}

// mulberry32: a small seeded generator, so a failing run can be replayed with FAULT_SEED.
function rng(seed) {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6D2B79F5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}
const SEED = envInt('FAULT_SEED', (Date.now() % 1000000007) + 1);

// Resident memory (KiB), open descriptors and threads of a process, from /proc.
function procStats(pid) {
  const status = fs.readFileSync(`/proc/${pid}/status`, 'utf8');
  const field = (name) => Number(new RegExp(`^${name}:\\s+(\\d+)`, 'm').exec(status)[1]);
  return { rssKiB: field('VmRSS'), fds: fs.readdirSync(`/proc/${pid}/fd`).length, threads: field('Threads') };
}

function percentile(values, p) {
  if (values.length === 0) return 0;
  const s = Float64Array.from(values).sort();
  const i = Math.min(s.length - 1, Math.max(0, Math.ceil((p / 100) * s.length) - 1));
  return s[i];
}

function latencySummary(values) {
  const r = (x) => Math.round(x * 10) / 10;
  return {
    n: values.length,
    p50: r(percentile(values, 50)),
    p99: r(percentile(values, 99)),
    max: r(values.reduce((a, b) => Math.max(a, b), 0)),
  };
}

// Every event of a topic, oldest first, through JSON pages.
async function readAll(base, topic, { limit = 1000 } = {}) {
  const out = [];
  let from = 'earliest';
  for (;;) {
    const r = await H.request(`${base}/v1/topics/${topic}/events?from=${encodeURIComponent(from)}&limit=${limit}`);
    if (r.status !== 200) throw new Error(`reading ${topic} from ${from}: ${r.status} ${r.body}`);
    if (r.json.gap) throw new Error(`reading ${topic}: unexpected gap ${JSON.stringify(r.json.gap)}`);
    out.push(...r.json.events);
    if (r.json.events.length === 0) return out;
    from = r.json.next;
  }
}

// `herald log verify DIR`: exit code, output, and per topic {ok, records, start, end}.
async function verifyLog(dataDir) {
  const r = await H.run(H.BIN, ['log', 'verify', dataDir], { timeout: 60000 });
  const topics = {};
  for (const line of r.stdout.split('\n')) {
    const m = /^(\S+): (ok|PROBLEMS) — (\d+) segments, (\d+) batches, (\d+) records, offsets \[(\d+), (\d+)\)/.exec(line);
    if (m) topics[m[1]] = { ok: m[2] === 'ok', segments: +m[3], batches: +m[4], records: +m[5], start: +m[6], end: +m[7] };
  }
  return { code: r.code, out: r.stdout + r.stderr, ok: r.code === 0 && /verify: ok/.test(r.stdout), topics };
}

// A webhook receiver on 127.0.0.1: counts every delivery by webhook-id. `behaviour(req, res, body)` may take
// over the answer; by default it is 200 after `delayMs`.
class Receiver {
  constructor({ delayMs = 0 } = {}) {
    this.delayMs = delayMs;
    this.deliveries = 0;
    this.seen = new Map();   // webhook-id -> times delivered
    this.latencies = [];     // ms from the event's data.t (when present) to arrival
  }

  async start() {
    this.server = http.createServer((req, res) => {
      const chunks = [];
      req.on('data', (c) => chunks.push(c));
      req.on('end', () => {
        const id = req.headers['webhook-id'];
        this.deliveries++;
        this.seen.set(id, (this.seen.get(id) || 0) + 1);
        try {
          const ev = JSON.parse(Buffer.concat(chunks).toString('utf8'));
          if (ev.data && typeof ev.data.t === 'number') this.latencies.push(Date.now() - ev.data.t);
        } catch { /* a body that is not JSON is counted all the same */ }
        const answer = () => { res.writeHead(200); res.end(); };
        if (this.delayMs) setTimeout(answer, this.delayMs); else answer();
      });
    });
    this.server.keepAliveTimeout = 120000;
    await new Promise((r) => this.server.listen(0, '127.0.0.1', r));
    this.url = `http://127.0.0.1:${this.server.address().port}/hook`;
    return this;
  }

  redelivered() {
    let n = 0;
    for (const c of this.seen.values()) n += c - 1;
    return n;
  }

  async close() {
    this.server.closeAllConnections();
    await new Promise((r) => this.server.close(r));
  }
}

async function createSubscription(base, spec) {
  const r = await H.request(`${base}/v1/subscriptions`, {
    method: 'POST', headers: { 'Content-Type': 'application/json' }, body: JSON.stringify(spec),
  });
  if (r.status !== 201) throw new Error(`creating a webhook subscription: ${r.status} ${r.body}`);
  return r.json;
}

// An SSE subscriber that survives server restarts: connect(base) resumes with Last-Event-ID from the last
// event it received. `ids` is every CloudEvent id received, in order, across connections; `controls` every
// control event (herald.reset, herald.shutdown...).
class ResumingSse {
  constructor(topic, { from = 'earliest' } = {}) {
    this.topic = topic;
    this.from = from;
    this.ids = [];
    this.lastCursor = null;
    this.controls = [];
    this.connections = 0;
    this.open = false;
  }

  connect(base) {
    const headers = this.lastCursor ? { 'Last-Event-ID': this.lastCursor } : {};
    this.connections++;
    return new Promise((resolve, reject) => {
      const c = H.sseConnect(`${base}/v1/topics/${this.topic}/events?from=${this.from}`, {
        headers,
        onOpen: (res) => {
          if (res.statusCode !== 200) { reject(new Error(`SSE ${this.topic}: status ${res.statusCode}`)); return; }
          if (this.conn === c) this.open = true;
          resolve();
        },
        onEvent: (e) => {
          if (this.conn !== c) return;  // a connection this subscriber already gave up
          if (e.event.startsWith('herald.')) { this.controls.push(e); return; }
          this.ids.push(JSON.parse(e.data).id);
          this.lastCursor = e.id;
        },
        onClose: () => {
          if (this.conn === c) this.open = false;
          reject(new Error(`SSE ${this.topic}: closed before it opened`));
        },
      });
      this.conn = c;
    });
  }

  close() { if (this.conn) this.conn.close(); }
}

// A one-topic WebSocket subscriber that resumes with ?from=<last cursor>.
class ResumingWs {
  constructor(topic) {
    this.topic = topic;
    this.ids = [];
    this.lastCursor = null;
    this.controls = [];
    this.connections = 0;
  }

  connect(base) {
    const from = this.lastCursor || 'earliest';
    const url = `${base.replace(/^http/, 'ws')}/v1/topics/${this.topic}/events?from=${encodeURIComponent(from)}`;
    this.connections++;
    return new Promise((resolve, reject) => {
      const ws = new WebSocket(url);
      this.ws = ws;
      ws.on('open', resolve);
      ws.on('error', reject);
      ws.on('message', (raw) => {
        if (this.ws !== ws) return;  // a connection this subscriber already gave up
        const m = JSON.parse(raw.toString('utf8'));
        if (!m.event) { this.controls.push(m); return; }
        this.ids.push(m.event.id);
        this.lastCursor = m.cursor;
      });
    });
  }

  close() { if (this.ws) this.ws.terminate(); }
}

// Forks lib/<script>.js and returns it once it answers `first` to the message `msg`.
function forkHelper(script, msg) {
  const child = fork(path.join(__dirname, `${script}.js`), [], { stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
  const first = new Promise((resolve, reject) => {
    child.once('message', (m) => (m.error ? reject(new Error(`${script}: ${m.error}`)) : resolve(m)));
    child.once('exit', (code, signal) => reject(new Error(`${script} exited (${code ?? signal}) before it was ready`)));
  });
  child.send(msg);
  return { child, first: Promise.race([first, H.deadline(60000, null)]).then((m) => {
    if (!m) throw new Error(`${script}: not ready within 60 s`);
    return m;
  }) };
}

// The healthy client (lib/probe.js) in its own process; window() resolves the figures since the previous
// window, stop() the figures of the whole run.
async function startProbe(opts) {
  const { child, first } = forkHelper('probe', { cmd: 'start', ...opts });
  await first;
  const ask = (cmd, key) => new Promise((resolve, reject) => {
    const onMessage = (m) => { if (m[key]) { child.off('message', onMessage); child.off('exit', onExit); resolve(m[key]); } };
    const onExit = (code) => reject(new Error(`the probe exited (${code}) without ${key}`));
    child.on('message', onMessage);
    child.once('exit', onExit);
    child.send({ cmd });
  });
  return { child, window: () => ask('window', 'window'), stop: () => ask('stop', 'stats') };
}

// One report line per scenario: the figures docs/reliability.md quotes. Printed, and appended as JSON to
// $FAULT_REPORT when set.
function report(scenario, figures) {
  const line = JSON.stringify({ scenario, profile: FULL ? 'full' : 'ci', seed: SEED, ...figures });
  console.log(`[faults] ${line}`);
  if (process.env.FAULT_REPORT) fs.appendFileSync(process.env.FAULT_REPORT, `${line}\n`);
}

module.exports = {
  ...H, WebSocket, FULL, SEED, envInt, rng, procStats, percentile, latencySummary, readAll, verifyLog, Receiver,
  createSubscription, ResumingSse, ResumingWs, forkHelper, startProbe, report,
};
