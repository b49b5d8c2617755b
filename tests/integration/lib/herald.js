'use strict';
// Starts and stops a real herald process on loopback for a test: port 0 for both listeners, a fresh data
// directory, and the ready file to learn the ports. Every helper here is bounded in time.

const { spawn, execFile } = require('node:child_process');
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');
const http = require('node:http');
const https = require('node:https');

const BIN = process.env.HERALD_BIN || path.resolve(__dirname, '../../../build/herald');

function sleep(ms) { return new Promise((r) => setTimeout(r, ms)); }
// Like sleep, but does not keep the process alive: for the losing side of a Promise.race.
function deadline(ms, value = 'timeout') { return new Promise((r) => setTimeout(() => r(value), ms).unref()); }

function tmpDir(prefix = 'herald-it-') {
  return fs.mkdtempSync(path.join(os.tmpdir(), prefix));
}

async function waitFor(pred, { timeout = 10000, interval = 20, what = 'condition' } = {}) {
  const deadline = Date.now() + timeout;
  for (;;) {
    const v = await pred();
    if (v) return v;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(interval);
  }
}

// What AddressSanitizer, LeakSanitizer, UndefinedBehaviorSanitizer and ThreadSanitizer print when they find
// something.
const SANITIZER_REPORT = /ERROR: (AddressSanitizer|LeakSanitizer)|WARNING: ThreadSanitizer|: runtime error: /;

class Herald {
  constructor({ dataDir, config, args = [], env = {} } = {}) {
    this.dir = tmpDir();
    this.dataDir = dataDir || path.join(this.dir, 'data');
    this.configText = config;
    this.extraArgs = args;
    this.env = env;
    this.stderr = '';
  }

  async start() {
    const readyFile = path.join(this.dir, `ready-${Date.now()}.json`);
    const args = ['serve', '--listen', '127.0.0.1:0', '--admin-listen', '127.0.0.1:0',
      '--data-dir', this.dataDir, '--ready-file', readyFile, '--threads', '2', ...this.extraArgs];
    if (this.configText) {
      const cfg = path.join(this.dir, 'herald.yaml');
      fs.writeFileSync(cfg, this.configText);
      args.push('--config', cfg);
    }
    this.proc = spawn(BIN, args, { env: { ...process.env, ...this.env }, stdio: ['ignore', 'pipe', 'pipe'] });
    this.proc.stderr.on('data', (d) => { this.stderr += d.toString(); });
    this.proc.stdout.on('data', (d) => { this.stderr += d.toString(); });
    this.exited = new Promise((resolve) => this.proc.on('exit', (code, signal) => resolve({ code, signal })));
    let exitedEarly = false;
    this.exited.then(() => { exitedEarly = true; });
    await waitFor(() => exitedEarly || fs.existsSync(readyFile), { timeout: 15000, what: 'herald ready file' });
    if (exitedEarly) throw new Error(`herald exited during start:\n${this.stderr}`);
    const ready = JSON.parse(fs.readFileSync(readyFile, 'utf8'));
    this.url = `${ready.scheme || 'http'}://${ready.listen}`;
    this.admin = `${ready.admin_scheme || 'http'}://${ready.admin}`;
    const [host, port] = ready.listen.split(':');
    this.host = host;
    this.port = Number(port);
    return this;
  }

  // SIGTERM and wait; returns the exit status.
  async stop() {
    if (!this.proc || this.proc.exitCode !== null || this.proc.signalCode) {
      this.checkSanitizers();
      return this.exited;
    }
    this.proc.kill('SIGTERM');
    const t = setTimeout(() => this.proc.kill('SIGKILL'), 10000);
    const r = await this.exited;
    clearTimeout(t);
    this.checkSanitizers();
    return r;
  }

  async kill9() {
    this.proc.kill('SIGKILL');
    const r = await this.exited;
    this.checkSanitizers();
    return r;
  }

  // In the sanitizer builds (make test-asan, make test-tsan) a report in the server's output fails the test that
  // ran it, whatever the test itself checks: a leak found at exit only changes the exit status, which few tests
  // look at, and ThreadSanitizer reports a race and carries on.
  checkSanitizers() {
    const at = this.stderr.search(SANITIZER_REPORT);
    if (at < 0 || this.sanitizerReported) return;
    this.sanitizerReported = true;
    throw new Error(`sanitizer report from herald:\n${this.stderr.slice(Math.max(0, at - 200), at + 6000)}`);
  }

  cleanup() {
    if (this.proc && (this.proc.exitCode !== null || this.proc.signalCode)) this.checkSanitizers();
    fs.rmSync(this.dir, { recursive: true, force: true });
  }
}

// An HTTP request (HTTPS for an https: URL, trusting `ca` when given); resolves {status, headers, body, json}.
function request(url, { method = 'GET', headers = {}, body, timeout = 10000, agent, ca } = {}) {
  return new Promise((resolve, reject) => {
    const mod = url.startsWith('https:') ? https : http;
    const req = mod.request(url, { method, headers, agent, ...(ca ? { ca } : {}) }, (res) => {
      const chunks = [];
      res.on('data', (c) => chunks.push(c));
      res.on('end', () => {
        const text = Buffer.concat(chunks).toString('utf8');
        let json;
        try { json = JSON.parse(text); } catch { json = undefined; }
        resolve({ status: res.statusCode, headers: res.headers, body: text, json });
      });
      res.on('error', reject);
    });
    req.setTimeout(timeout, () => req.destroy(new Error(`request timed out: ${method} ${url}`)));
    req.on('error', reject);
    if (body !== undefined) req.write(body);
    req.end();
  });
}

function publish(base, topic, data, { type = 'test.thingHappened.v1', headers = {}, agent, ca, timeout } = {}) {
  return request(`${base}/v1/topics/${topic}/events?type=${encodeURIComponent(type)}`, {
    method: 'POST', headers: { 'Content-Type': 'application/json', ...headers }, body: JSON.stringify(data), agent, ca, timeout,
  });
}

function publishEvent(base, topic, event, { headers = {}, agent } = {}) {
  return request(`${base}/v1/topics/${topic}/events`, {
    method: 'POST', headers: { 'Content-Type': 'application/cloudevents+json', ...headers },
    body: JSON.stringify(event), agent,
  });
}

// A minimal SSE reader on a raw HTTP response, for tests that need to control the socket (pause, destroy).
// onEvent({id, event, data}) per event. Returns {req, res promise, close()}.
function sseConnect(url, { headers = {}, onEvent, onOpen, onClose, ca, agent } = {}) {
  const mod = url.startsWith('https:') ? https : http;
  const req = mod.get(url, { headers: { Accept: 'text/event-stream', ...headers }, agent, ...(ca ? { ca } : {}) });
  let buf = '';
  let cur = { data: [] };
  req.on('response', (res) => {
    if (onOpen) onOpen(res);
    res.setEncoding('utf8');
    res.on('data', (chunk) => {
      buf += chunk;
      let nl;
      while ((nl = buf.indexOf('\n')) >= 0) {
        let line = buf.slice(0, nl);
        buf = buf.slice(nl + 1);
        if (line.endsWith('\r')) line = line.slice(0, -1);
        if (line === '') {
          if (cur.data.length) onEvent({ id: cur.id, event: cur.event || 'message', data: cur.data.join('\n') });
          cur = { data: [], id: cur.id };
          continue;
        }
        if (line.startsWith(':')) continue;
        const i = line.indexOf(':');
        const field = i < 0 ? line : line.slice(0, i);
        let value = i < 0 ? '' : line.slice(i + 1);
        if (value.startsWith(' ')) value = value.slice(1);
        if (field === 'data') cur.data.push(value);
        else if (field === 'event') cur.event = value;
        else if (field === 'id') cur.id = value;
      }
    });
    res.on('close', () => onClose && onClose());
  });
  req.on('error', () => onClose && onClose());
  return { req, close: () => req.destroy() };
}

async function metrics(admin, { headers = {}, ca } = {}) {
  const r = await request(`${admin}/metrics`, { headers, ca });
  const out = {};
  for (const line of r.body.split('\n')) {
    if (!line || line.startsWith('#')) continue;
    const sp = line.lastIndexOf(' ');
    out[line.slice(0, sp)] = Number(line.slice(sp + 1));
  }
  return out;
}

function run(bin, args, { timeout = 30000, input } = {}) {
  return new Promise((resolve) => {
    const child = execFile(bin, args, { timeout, maxBuffer: 64 << 20 }, (err, stdout, stderr) => {
      resolve({ code: err ? (err.code ?? 1) : 0, stdout, stderr });
    });
    if (input !== undefined) { child.stdin.write(input); }
    child.stdin.end();
  });
}

module.exports = { BIN, Herald, deadline, request, publish, publishEvent, sseConnect, metrics, sleep, waitFor, tmpDir, run };
