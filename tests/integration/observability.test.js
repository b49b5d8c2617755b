'use strict';
// Observability end to end on the real binary (docs/observability.md): W3C trace context from a publish to the
// webhook delivery and into the stored event, spans exported over OTLP/HTTP (protobuf and JSON) to a minimal local collector, structured
// access and application logs without secrets, the log level changed at run time, the health endpoints, and /metrics
// checked by promtool after a mixed workload.
const test = require('node:test');
const assert = require('node:assert/strict');
const fs = require('node:fs');
const http = require('node:http');
const crypto = require('node:crypto');
const WebSocket = require('ws');
const { Herald, request, publish, publishEvent, sseConnect, metrics, run, sleep, waitFor } = require('./lib/herald');
const { decodeTraceRequest } = require('./lib/otlp');

const TRACEPARENT = /^00-([0-9a-f]{32})-([0-9a-f]{16})-(0[01])$/;
const hex = (bytes) => crypto.randomBytes(bytes).toString('hex');

// A minimal OTLP/HTTP collector on loopback: keeps every span of every POST /v1/traces, with the request's content type.
class Collector {
  constructor() { this.spans = []; this.requests = []; }
  async start() {
    this.server = http.createServer((req, res) => {
      const chunks = [];
      req.on('data', (c) => chunks.push(c));
      req.on('end', () => {
        const raw = Buffer.concat(chunks);
        const contentType = req.headers['content-type'] || '';
        const entry = { method: req.method, url: req.url, contentType, traceIds: new Set() };
        this.requests.push(entry);
        try {
          const doc = contentType.startsWith('application/x-protobuf') ? decodeTraceRequest(raw) : JSON.parse(raw.toString('utf8'));
          for (const rs of doc.resourceSpans) {
            for (const ss of rs.scopeSpans) {
              for (const s of ss.spans) {
                this.spans.push({ ...s, resource: rs.resource, contentType });
                entry.traceIds.add(s.traceId);
              }
            }
          }
        } catch { /* a body that does not parse fails the test through the assertions below */ }
        res.writeHead(200, { 'Content-Type': 'application/json' });
        res.end('{}');
      });
    });
    await new Promise((r) => this.server.listen(0, '127.0.0.1', r));
    this.port = this.server.address().port;
    return this;
  }
  stop() { this.server.closeAllConnections(); return new Promise((r) => this.server.close(r)); }
  ofTrace(traceId) { return this.spans.filter((s) => s.traceId === traceId); }
}

// A webhook receiver that accepts everything and keeps the requests' headers and bodies.
class Receiver {
  constructor() { this.received = []; }
  async start() {
    this.server = http.createServer((req, res) => {
      const chunks = [];
      req.on('data', (c) => chunks.push(c));
      req.on('end', () => {
        this.received.push({ headers: req.headers, json: JSON.parse(Buffer.concat(chunks).toString('utf8')) });
        res.writeHead(204);
        res.end();
      });
    });
    await new Promise((r) => this.server.listen(0, '127.0.0.1', r));
    this.url = `http://127.0.0.1:${this.server.address().port}/hook`;
    return this;
  }
  stop() { this.server.closeAllConnections(); return new Promise((r) => this.server.close(r)); }
}

// The JSON lines Herald wrote to stderr (the banner's plain lines are skipped).
function logLines(h) {
  const out = [];
  for (const line of h.stderr.split('\n')) {
    if (!line.startsWith('{')) continue;
    out.push(JSON.parse(line));  // every structured line must be valid JSON: a parse error fails the test
  }
  return out;
}

// ---- Tracing: a Herald with webhooks and an OTLP collector -----------------------------------------------

let collector, traced;
test.before(async () => {
  collector = await new Collector().start();
  traced = await new Herald({
    config: `
webhooks:
  allow_destinations: ["127.0.0.1/32"]
  retry_schedule: [50ms]
  retry_jitter: false
  timeout: 2s
tracing:
  otlp_endpoint: http://127.0.0.1:${collector.port}
  service_name: herald-it
  flush_interval: 100ms
`,
  }).start();
});
test.after(async () => {
  await traced.stop();
  traced.cleanup();
  await collector.stop();
});

async function subscribe(h, topic, url) {
  const r = await request(`${h.url}/v1/subscriptions`, {
    method: 'POST', headers: { 'Content-Type': 'application/json' }, body: JSON.stringify({ topic, url }),
  });
  assert.equal(r.status, 201, r.body);
  return r.json;
}

test('the traceparent of a publish arrives on the webhook delivery, with its tracestate', async () => {
  const rx = await new Receiver().start();
  try {
    await subscribe(traced, 'obs-wh', rx.url);
    const traceId = hex(16);
    const parentId = hex(8);
    const r = await publish(traced.url, 'obs-wh', { n: 1 }, {
      headers: { traceparent: `00-${traceId}-${parentId}-01`, tracestate: 'vendor=abc, Invalid=1' },
    });
    assert.equal(r.status, 201, r.body);
    await waitFor(() => rx.received.length >= 1, { what: 'the delivery' });
    const d = rx.received[0];
    const m = TRACEPARENT.exec(d.headers.traceparent);
    assert.ok(m, `a valid traceparent on the delivery: ${d.headers.traceparent}`);
    assert.equal(m[1], traceId, 'same trace-id as the publish');
    assert.notEqual(m[2], parentId, 'the parent is a Herald span, not the publisher');
    assert.equal(m[3], '01', 'the sampled decision travels');
    assert.equal(d.headers.tracestate, 'vendor=abc', 'tracestate forwarded, invalid members dropped');
    // The delivered event carries the distributed-tracing extension too.
    assert.equal(TRACEPARENT.exec(d.json.traceparent)[1], traceId);
    assert.equal(d.json.tracestate, 'vendor=abc');

    // An unsampled caller: the trace-id still travels, unsampled.
    const quiet = hex(16);
    const r2 = await publish(traced.url, 'obs-wh', { n: 2 }, { headers: { traceparent: `00-${quiet}-${hex(8)}-00` } });
    assert.equal(r2.status, 201, r2.body);
    await waitFor(() => rx.received.length >= 2, { what: 'the second delivery' });
    const m2 = TRACEPARENT.exec(rx.received[1].headers.traceparent);
    assert.ok(m2);
    assert.equal(m2[1], quiet);
    assert.equal(m2[3], '00');
    assert.equal(rx.received[1].headers.tracestate, undefined);
  } finally { await rx.stop(); }
});

test('a publish without traceparent stores a generated one; an event with its own keeps it', async () => {
  const r = await publish(traced.url, 'obs-gen', { n: 1 });
  assert.equal(r.status, 201, r.body);
  const own = `00-${hex(16)}-${hex(8)}-01`;
  const r2 = await publishEvent(traced.url, 'obs-gen', {
    specversion: '1.0', id: 'own-trace', source: '/test', type: 'test.thingHappened.v1', traceparent: own, data: {},
  }, { headers: { traceparent: `00-${hex(16)}-${hex(8)}-01` } });
  assert.equal(r2.status, 201, r2.body);
  // An invalid traceparent header is ignored: a new trace starts.
  const r3 = await publish(traced.url, 'obs-gen', { n: 3 }, { headers: { traceparent: `00-${'0'.repeat(32)}-${hex(8)}-01` } });
  assert.equal(r3.status, 201, r3.body);

  const page = await request(`${traced.url}/v1/topics/obs-gen/events?from=earliest`);
  assert.equal(page.status, 200);
  const [first, second, third] = page.json.events;
  const m = TRACEPARENT.exec(first.traceparent);
  assert.ok(m, `generated traceparent: ${first.traceparent}`);
  assert.notEqual(m[1], '0'.repeat(32));
  assert.notEqual(m[2], '0'.repeat(16));
  assert.equal(second.traceparent, own, 'an event that carries a traceparent keeps it');
  const m3 = TRACEPARENT.exec(third.traceparent);
  assert.ok(m3);
  assert.notEqual(m3[1], '0'.repeat(32));
});

test('OTLP: the collector receives the server, producer and webhook client spans of a publish', async () => {
  const rx = await new Receiver().start();
  try {
    await subscribe(traced, 'obs-otlp', rx.url);
    const traceId = hex(16);
    const callerSpan = hex(8);
    const r = await publish(traced.url, 'obs-otlp', { n: 1 }, { headers: { traceparent: `00-${traceId}-${callerSpan}-01` } });
    assert.equal(r.status, 201, r.body);
    await waitFor(() => rx.received.length >= 1, { what: 'the delivery' });
    const kinds = () => new Set(collector.ofTrace(traceId).map((s) => s.kind));
    await waitFor(() => kinds().has(2) && kinds().has(3) && kinds().has(4), { what: 'server, client and producer spans' });

    const spans = collector.ofTrace(traceId);
    const server = spans.find((s) => s.kind === 2);
    const producer = spans.find((s) => s.kind === 4);
    const client = spans.find((s) => s.kind === 3);
    assert.equal(server.name, 'POST /v1/topics/{topic}/events');
    assert.equal(server.parentSpanId, callerSpan, 'the server span continues the caller');
    assert.equal(producer.parentSpanId, server.spanId);
    assert.equal(producer.name, 'send obs-otlp');
    assert.equal(client.parentSpanId, producer.spanId, 'the delivery continues from the publish');
    assert.equal(client.name, 'webhook.deliver');
    for (const s of [server, producer, client]) {
      assert.match(s.spanId, /^[0-9a-f]{16}$/);
      assert.match(s.startTimeUnixNano, /^[1-9][0-9]{18}$/, 'nanoseconds since the epoch');
      assert.match(s.endTimeUnixNano, /^[0-9]+$/);
      assert.ok(BigInt(s.endTimeUnixNano) >= BigInt(s.startTimeUnixNano));
      const svc = s.resource.attributes.find((a) => a.key === 'service.name');
      assert.equal(svc.value.stringValue, 'herald-it');
    }
    const status = server.attributes.find((a) => a.key === 'http.response.status_code');
    assert.equal(status.value.intValue, '201');

    // What was stored and what was delivered name those spans.
    const page = await request(`${traced.url}/v1/topics/obs-otlp/events?from=earliest`);
    assert.equal(TRACEPARENT.exec(page.json.events[0].traceparent)[2], producer.spanId);
    assert.equal(TRACEPARENT.exec(rx.received[0].headers.traceparent)[2], client.spanId);

    const req = collector.requests.find((x) => x.traceIds.has(traceId));
    assert.equal(req.method, 'POST');
    assert.equal(req.url, '/v1/traces');
    assert.match(req.contentType, /^application\/x-protobuf/, 'OTLP/HTTP protobuf, the default');
    const m = await metrics(traced.admin);
    assert.ok(m['herald_trace_spans_total{outcome="exported"}'] >= 3, JSON.stringify(m));
    assert.equal(m['herald_trace_spans_total{outcome="dropped"}'], 0);
  } finally { await rx.stop(); }
});

test('OTLP: tracing.protocol http/json sends the JSON encoding of the same spans', async () => {
  const h = await new Herald({
    config: `
tracing:
  otlp_endpoint: http://127.0.0.1:${collector.port}
  protocol: http/json
  service_name: herald-json
  flush_interval: 100ms
`,
  }).start();
  try {
    const traceId = hex(16);
    const r = await publish(h.url, 'obs-json', { n: 1 }, { headers: { traceparent: `00-${traceId}-${hex(8)}-01` } });
    assert.equal(r.status, 201, r.body);
    await waitFor(() => collector.ofTrace(traceId).length >= 2, { what: 'the server and producer spans' });
    const spans = collector.ofTrace(traceId);
    for (const s of spans) {
      assert.match(s.contentType, /^application\/json/);
      assert.match(s.startTimeUnixNano, /^[0-9]+$/, 'OTLP JSON: 64-bit integers are strings');
      assert.equal(s.resource.attributes.find((a) => a.key === 'service.name').value.stringValue, 'herald-json');
    }
    const server = spans.find((s) => s.kind === 2);
    assert.equal(server.attributes.find((a) => a.key === 'http.response.status_code').value.intValue, '201');
    assert.equal(spans.find((s) => s.kind === 4).parentSpanId, server.spanId);
  } finally {
    await h.stop();
    h.cleanup();
  }
});

// ---- Logs and health: a Herald with auth on ----------------------------------------------------------------

const PUB_KEY = 'hk_publisher_key_aaaaaaaaaaaaaaaaaaaaaaaa';
const ADMIN_TOKEN = 'admin-token-0123456789abcdef0123456789';
const WRONG_TOKEN = 'hk_not_a_valid_key_zzzzzzzzzzzzzzzzzzzzzz';
let secured;
test.before(async () => {
  secured = await new Herald({
    config: `
auth:
  enabled: true
  allow_query_token: true
  admin_token: ${ADMIN_TOKEN}
  api_keys:
    - name: publisher
      key: ${PUB_KEY}
      scopes: ["publish:*", "subscribe:*"]
log:
  level: info
  access: true
`,
  }).start();
});
test.after(async () => {
  await secured.stop();
  secured.cleanup();
});

const bearer = (t) => ({ Authorization: `Bearer ${t}` });
const accessLines = () => logLines(secured).filter((l) => l.log === 'access');

test('access lines are JSON with the required fields and never hold a credential', async () => {
  const p = await publish(secured.url, 'obs-logs', { n: 1 }, { headers: bearer(PUB_KEY) });
  assert.equal(p.status, 201, p.body);
  const g = await request(`${secured.url}/v1/topics/obs-logs/events?from=earliest&access_token=${PUB_KEY}`);
  assert.equal(g.status, 200, g.body);
  const denied = await publish(secured.url, 'obs-logs', { n: 2 }, { headers: bearer(WRONG_TOKEN) });
  assert.equal(denied.status, 401);
  // An SSE stream is logged when it opens (the handshake), marked as a takeover.
  let opened = false;
  const sse = sseConnect(`${secured.url}/v1/topics/obs-logs/events?access_token=${PUB_KEY}`, { onOpen: () => { opened = true; }, onEvent: () => {} });
  await waitFor(() => opened, { what: 'the SSE stream' });
  sse.close();

  await waitFor(() => accessLines().some((l) => l.takeover), { what: 'the SSE access line' });
  const lines = accessLines();
  const pub = lines.find((l) => l.method === 'POST' && l.status === 201 && l.path === '/v1/topics/obs-logs/events');
  assert.ok(pub, JSON.stringify(lines));
  assert.match(pub.time, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}Z$/);
  assert.match(pub.request_id, /^[0-9a-f]{16}$/);
  assert.match(pub.trace_id, /^[0-9a-f]{32}$/);
  assert.equal(pub.plane, 'data');
  assert.equal(pub.principal, 'api_key:publisher');
  assert.equal(pub.route, '/v1/topics/{topic}/events');
  assert.equal(pub.remote, '127.0.0.1');
  assert.ok(pub.bytes_in > 0 && pub.bytes_out > 0, JSON.stringify(pub));
  assert.ok(Number.isInteger(pub.duration_us) && pub.duration_us >= 0);

  const page = lines.find((l) => l.method === 'GET' && l.status === 200 && !l.takeover);
  assert.ok(page);
  assert.match(page.query, /access_token=\[REDACTED\]/);
  assert.match(page.query, /from=earliest/);
  const refused = lines.find((l) => l.status === 401);
  assert.ok(refused, 'a refused request is logged too');
  assert.equal(refused.principal, '');
  const stream = lines.find((l) => l.takeover);
  assert.equal(stream.status, 200);

  // Nothing in the whole output holds a credential, valid or not.
  for (const secret of [PUB_KEY, WRONG_TOKEN, ADMIN_TOKEN]) assert.ok(!secured.stderr.includes(secret), `${secret} leaked`);
});

test('PUT /admin/log/level changes the level at run time', async () => {
  const admin = (path, opts = {}) => request(`${secured.admin}${path}`, { ...opts, headers: { ...bearer(ADMIN_TOKEN), ...(opts.headers || {}) } });
  const noToken = await request(`${secured.admin}/admin/log/level`, { method: 'PUT', body: '{"level":"debug"}' });
  assert.equal(noToken.status, 401);
  const bad = await admin('/admin/log/level', { method: 'PUT', body: '{"level":"loud"}' });
  assert.equal(bad.status, 400);
  const g = await admin('/admin/log/level');
  assert.equal(g.status, 200);
  assert.equal(g.json.level, 'info');

  const debugLines = () => logLines(secured).filter((l) => l.log === 'app' && l.level === 'debug');
  await publish(secured.url, 'obs-level', { n: 0 }, { headers: bearer(PUB_KEY) });
  await sleep(100);
  assert.equal(debugLines().length, 0, 'no debug lines at info');

  const up = await admin('/admin/log/level', { method: 'PUT', body: '{"level":"debug"}' });
  assert.equal(up.status, 200, up.body);
  assert.equal(up.json.level, 'debug');
  const p = await publish(secured.url, 'obs-level', { n: 1 }, { headers: bearer(PUB_KEY) });
  assert.equal(p.status, 201);
  await waitFor(() => debugLines().some((l) => l.module === 'publish' && l.topic === 'obs-level'), { what: 'a debug line' });

  const down = await admin('/admin/log/level', { method: 'PUT', body: '{"level":"info"}' });
  assert.equal(down.status, 200);
  const before = debugLines().length;
  await publish(secured.url, 'obs-level', { n: 2 }, { headers: bearer(PUB_KEY) });
  await sleep(100);
  assert.equal(debugLines().length, before, 'back at info: no more debug lines');
  assert.ok(logLines(secured).some((l) => l.module === 'admin' && l.msg === 'log settings changed'));
});

test('/healthz and /readyz answer on both listeners', async () => {
  for (const base of [secured.url, secured.admin]) {
    const hz = await request(`${base}/healthz`);
    assert.equal(hz.status, 200);
    assert.deepEqual(hz.json, { status: 'ok' });
  }
  const ready = await request(`${secured.admin}/readyz`);
  assert.equal(ready.status, 200, ready.body);
  assert.equal(ready.json.status, 'ready');
  for (const name of ['config', 'storage', 'engine', 'logging', 'webhooks']) assert.equal(ready.json.checks[name].ok, true, name);
  // The data plane with auth on says ready or not, without the reasons.
  const dataReady = await request(`${secured.url}/readyz`);
  assert.equal(dataReady.status, 200);
  assert.deepEqual(dataReady.json, { status: 'ready' });
});

// Waits out the storage probe's one-second cache, then expects `status` from both listeners' /readyz.
async function expectReadiness(status) {
  await sleep(1100);
  const r = await request(`${secured.admin}/readyz`);
  assert.equal(r.status, status, r.body);
  const d = await request(`${secured.url}/readyz`);
  assert.equal(d.status, status, d.body);
  return { admin: r.json, data: d.json };
}

test('/readyz turns 503 with a reason when the data dir is made unwritable', async (t) => {
  if (process.getuid && process.getuid() === 0) {
    // CI runs as root, and permission bits do not stop root: the next test makes the probe fail another way.
    t.skip('running as root: chmod cannot make the data dir unwritable for root');
    return;
  }
  fs.chmodSync(secured.dataDir, 0o500);
  try {
    const { admin, data } = await expectReadiness(503);
    assert.equal(admin.status, 'not-ready');
    assert.equal(admin.checks.storage.ok, false);
    assert.match(admin.checks.storage.reason, /data directory/);
    assert.match(admin.reason, /^storage: /);
    assert.deepEqual(data, { status: 'not-ready' });
  } finally { fs.chmodSync(secured.dataDir, 0o755); }
  await expectReadiness(200);
});

test('/readyz turns 503 with a reason when the storage probe cannot create its file (also as root)', async () => {
  // A directory where the probe creates its file: open(2) fails with EISDIR whoever runs the server.
  const obstacle = `${secured.dataDir}/.herald-ready-probe`;
  fs.mkdirSync(obstacle);
  try {
    const { admin, data } = await expectReadiness(503);
    assert.equal(admin.status, 'not-ready');
    assert.equal(admin.checks.storage.ok, false);
    assert.match(admin.checks.storage.reason, /cannot create a file in the data directory .*: Is a directory/);
    assert.equal(admin.checks.engine.ok, true);
    assert.deepEqual(data, { status: 'not-ready' }, 'no reasons on the data plane with auth on');
  } finally { fs.rmdirSync(obstacle); }
  await expectReadiness(200);
});

// ---- /metrics as Prometheus tooling reads it ------------------------------------------------------------------------

// promtool comes with Debian's `prometheus` package, which scripts/install-deps.sh installs.
function findPromtool() {
  for (const dir of (process.env.PATH || '').split(':').concat(['/usr/bin'])) {
    const p = `${dir}/promtool`;
    if (dir && fs.existsSync(p)) return p;
  }
  return null;
}

test('/metrics after a mixed workload passes `promtool check metrics` without a lint problem', async () => {
  const promtool = findPromtool();
  assert.ok(promtool, 'promtool is missing: run scripts/install-deps.sh (it installs the Debian package prometheus)');

  const KEY = 'hk_promtool_client_key_0123456789abcdef';
  const ADMIN = 'admin-token-for-the-promtool-test-0123456789';
  const rx = await new Receiver().start();
  const upstream = http.createServer((req, res) => { res.writeHead(200, { 'content-type': 'text/plain' }); res.end('ok'); });
  await new Promise((r) => upstream.listen(0, '127.0.0.1', r));
  const h = await new Herald({
    config: `
auth:
  enabled: true
  admin_token: ${ADMIN}
  api_keys:
    - name: client
      key: ${KEY}
      scopes: ["publish:*", "subscribe:*"]
webhooks:
  allow_destinations: ["127.0.0.1/32"]
  retry_schedule: [50ms]
  retry_jitter: false
tracing:
  otlp_endpoint: http://127.0.0.1:${collector.port}
  flush_interval: 100ms
upstreams:
  backend:
    targets: ["127.0.0.1:${upstream.address().port}"]
routes:
  - name: api
    match: {prefix: /api/}
    upstream: backend
`,
  }).start();
  const auth = { Authorization: `Bearer ${KEY}` };
  let sse;
  let ws;
  try {
    const sub = await request(`${h.url}/v1/subscriptions`, {
      method: 'POST', headers: { 'Content-Type': 'application/json', ...auth },
      body: JSON.stringify({ topic: 'prom-a', url: rx.url }),
    });
    assert.equal(sub.status, 201, sub.body);
    let sseEvents = 0;
    sse = sseConnect(`${h.url}/v1/topics/prom-a/events`, { headers: auth, onEvent: () => { sseEvents++; } });
    const wsMessages = [];
    ws = new WebSocket(`${h.url.replace('http', 'ws')}/v1/ws`, ['herald.v1'], { headers: auth });
    ws.on('message', (m) => wsMessages.push(JSON.parse(m.toString())));
    await new Promise((resolve, reject) => { ws.once('open', resolve); ws.once('error', reject); });
    ws.send(JSON.stringify({ op: 'subscribe', id: 's1', topic: 'prom-b', from: 'earliest' }));
    await waitFor(() => wsMessages.some((m) => m.op === 'subscribed'), { what: 'the WebSocket subscription' });
    await waitFor(async () => (await metrics(h.admin, { headers: bearer(ADMIN) })).herald_sse_streams_open === 1,
      { what: 'the SSE stream' });

    for (let i = 0; i < 5; i++) {
      assert.equal((await publish(h.url, 'prom-a', { i }, { headers: auth })).status, 201);
      assert.equal((await publish(h.url, 'prom-b', { i }, { headers: auth })).status, 201);
    }
    // The same CloudEvent twice: the second is a dedup hit.
    const twice = { specversion: '1.0', id: 'prom-dup-1', source: '/promtool-test', type: 'test.thingHappened.v1', data: {} };
    assert.equal((await publishEvent(h.url, 'prom-a', twice, { headers: auth })).status, 201);
    await publishEvent(h.url, 'prom-a', twice, { headers: auth });
    assert.equal((await publish(h.url, 'prom-a', { no: 1 }, { headers: bearer('hk_wrong_key_zzzzzzzzzzzzzzzzzzzzzzzz') })).status, 401);
    const proxied = await request(`${h.url}/api/thing`, { headers: auth });
    assert.equal(proxied.status, 200, proxied.body);

    await waitFor(() => rx.received.length >= 6, { what: 'the webhook deliveries' });
    await waitFor(() => sseEvents >= 6, { what: 'the SSE events' });
    await waitFor(() => wsMessages.filter((m) => m.op === 'event').length >= 5, { what: 'the WebSocket events' });
    const last = wsMessages.filter((m) => m.op === 'event').pop();
    ws.send(JSON.stringify({ op: 'ack', id: 's1', cursor: last.cursor }));

    // Wait until the workload shows in the families that carry labels (webhook gauges are refreshed every 100 ms):
    // a lint run over empty families would prove little.
    const expected = ['herald_topic_end_offset{topic="prom-a"} 6', 'herald_webhook_lag_events{subscription=',
      'herald_security_authn_failures_total{reason=', 'herald_proxy_upstream_targets{upstream="backend"',
      'herald_websocket_acks_total 1', 'herald_publish_duplicates_total 1'];
    let scrape;
    await waitFor(async () => {
      scrape = await request(`${h.admin}/metrics`, { headers: bearer(ADMIN) });
      return scrape.status === 200 && expected.every((series) => scrape.body.includes(series));
    }, { what: `${expected.join(', ')} in /metrics` }).catch((e) => { throw new Error(`${e.message}:\n${scrape.body}`); });

    const checked = await run(promtool, ['check', 'metrics'], { input: scrape.body });
    const said = `${checked.stdout}${checked.stderr}`.trim();
    assert.equal(checked.code, 0, `promtool check metrics exited ${checked.code}:\n${said}\n--- the scrape:\n${scrape.body}`);
    assert.equal(said, '', `promtool reported problems:\n${said}`);
  } finally {
    if (ws) ws.terminate();
    if (sse) sse.close();
    await h.stop();
    h.cleanup();
    await rx.stop();
    upstream.closeAllConnections();
    await new Promise((r) => upstream.close(r));
  }
});

// ---- /metrics values after a scripted workload --------------------------------------------------------------------

test('/metrics counts a scripted workload exactly: per topic, per transport, per route, and the process', async () => {
  const N = 5;
  const h = await new Herald().start();  // two workers
  const series = (name, labels) => `${name}{${labels}}`;
  let sse;
  let ws;
  try {
    // A schema for the type published to metrics-a, so that one publish can break it.
    const schema = { type: 'object', required: ['n'], properties: { n: { type: 'number' } } };
    const put = await request(`${h.admin}/schemas/shop.orderPlaced.v1`, {
      method: 'PUT', headers: { 'Content-Type': 'application/json' }, body: JSON.stringify(schema),
    });
    assert.equal(put.status, 201, put.body);

    // The subscribers first, so every event reaches them on the live path (the one delivery latency measures).
    let sseEvents = 0;
    sse = sseConnect(`${h.url}/v1/topics/metrics-a/events`, { onEvent: () => { sseEvents++; } });
    const wsMessages = [];
    ws = new WebSocket(`${h.url.replace('http', 'ws')}/v1/ws`, ['herald.v1']);
    ws.on('message', (m) => wsMessages.push(JSON.parse(m.toString())));
    await new Promise((resolve, reject) => { ws.once('open', resolve); ws.once('error', reject); });
    ws.send(JSON.stringify({ op: 'subscribe', id: 's1', topic: 'metrics-b' }));
    await waitFor(() => wsMessages.some((m) => m.op === 'subscribed'), { what: 'the WebSocket subscription' });
    await waitFor(async () => (await metrics(h.admin)).herald_sse_streams_open === 1, { what: 'the SSE stream' });

    // metrics-a: N events (the last one a CloudEvent), the same CloudEvent again (a dedup hit), one schema
    // refusal. metrics-b: N events.
    for (let i = 0; i < N - 1; i++) {
      assert.equal((await publish(h.url, 'metrics-a', { n: i }, { type: 'shop.orderPlaced.v1' })).status, 201);
    }
    const twice = { specversion: '1.0', id: 'metrics-dup-1', source: '/metrics-test', type: 'shop.orderPlaced.v1', data: { n: 99 } };
    assert.equal((await publishEvent(h.url, 'metrics-a', twice)).status, 201);
    assert.equal((await publishEvent(h.url, 'metrics-a', twice)).status, 200);
    assert.equal((await publish(h.url, 'metrics-a', { n: 'not a number' }, { type: 'shop.orderPlaced.v1' })).status, 422);
    for (let i = 0; i < N; i++) assert.equal((await publish(h.url, 'metrics-b', { i })).status, 201);
    // A few other data-plane requests, one of them matching no route.
    assert.equal((await request(`${h.url}/healthz`)).status, 200);
    assert.equal((await request(`${h.url}/v1/topics`)).status, 200);
    assert.equal((await request(`${h.url}/no-such-thing`)).status, 404);

    await waitFor(() => sseEvents >= N, { what: 'the SSE events' });
    await waitFor(() => wsMessages.filter((m) => m.op === 'event').length >= N, { what: 'the WebSocket events' });
    const sseDelivery = (suffix) => series(`herald_delivery_latency_seconds_${suffix}`, 'transport="sse"');
    const wsDelivery = (suffix) => series(`herald_delivery_latency_seconds_${suffix}`, 'transport="websocket"');
    const route = (plane, r, cls) => series('herald_http_requests_by_route_total', `plane="${plane}",route="${r}",status_class="${cls}"`);
    // Delivery latency is recorded when the write completes, and a request when its answer has been written:
    // the client may see either a moment before Herald has counted it (a loaded machine shows it).
    let m;
    await waitFor(async () => {
      m = await metrics(h.admin);
      return m[sseDelivery('count')] >= N && m[wsDelivery('count')] >= N &&
        m[route('data', 'unmatched', '4xx')] >= 1 && m[route('data', '/healthz', '2xx')] >= 1;
    }, { what: 'the delivery latencies and the last requests' }).catch((e) => { throw new Error(`${e.message}: ${JSON.stringify(m)}`); });

    // Per topic.
    const a = 'topic="metrics-a"';
    const b = 'topic="metrics-b"';
    assert.equal(m[series('herald_topic_events_published_total', a)], N);
    assert.equal(m[series('herald_topic_events_published_total', b)], N);
    assert.ok(m[series('herald_topic_bytes_published_total', a)] > 0);
    assert.ok(m[series('herald_topic_bytes_published_total', b)] > 0);
    assert.equal(m[series('herald_topic_duplicates_total', a)], 1);
    assert.equal(m[series('herald_topic_duplicates_total', b)], 0);
    assert.equal(m[series('herald_topic_validation_failures_total', a)], 1);
    assert.equal(m[series('herald_topic_validation_failures_total', b)], 0);
    // Publish duration: one observation per acknowledged request (the dedup hit's 200 included, the 422 not).
    assert.equal(m[series('herald_publish_duration_seconds_count', a)], N + 1);
    assert.equal(m[series('herald_publish_duration_seconds_count', b)], N);
    assert.ok(m[series('herald_publish_duration_seconds_sum', a)] > 0);
    assert.equal(m[series('herald_publish_duration_seconds_bucket', `${b},le="+Inf"`)], N);
    assert.equal(m.herald_publish_duplicates_total, 1, 'the aggregate counters are kept');

    // Per transport: every event was delivered live, once per subscriber.
    assert.equal(m[sseDelivery('count')], N);
    assert.equal(m[wsDelivery('count')], N);
    assert.ok(m[sseDelivery('sum')] > 0);
    assert.ok(m[wsDelivery('sum')] > 0);
    assert.equal(m[series('herald_delivery_latency_seconds_bucket', 'transport="sse",le="+Inf"')], N);
    assert.equal(m[series('herald_slow_consumer_disconnects_total', 'transport="websocket"')], 0);
    assert.equal(m[series('herald_slow_consumer_disconnects_total', 'transport="sse"')], undefined,
      'SSE never disconnects a consumer for slowness, so it has no series');
    assert.ok(m.herald_sse_consumer_lag_events >= 0);

    // HTTP by route: the publishes (2N + 1 answered 2xx) and the SSE stream (counted at takeover), the refusal,
    // the WebSocket upgrade, the 404.
    assert.equal(m[route('data', '/v1/topics/{topic}/events', '2xx')], 2 * N + 2);
    assert.equal(m[route('data', '/v1/topics/{topic}/events', '4xx')], 1);
    assert.equal(m[route('data', '/v1/ws', '1xx')], 1);
    assert.equal(m[route('data', 'unmatched', '4xx')], 1);
    assert.equal(m[route('data', '/healthz', '2xx')], 1);
    assert.equal(m[route('admin', '/schemas', '2xx')], 1);
    assert.ok(m[route('admin', '/metrics', '2xx')] >= 1);
    assert.equal(m[series('herald_http_request_duration_seconds_count', 'plane="data",route="/v1/topics/{topic}/events"')], 2 * N + 3);
    assert.equal(m[series('herald_http_request_duration_seconds_count', 'plane="data",route="unmatched"')], 1);

    // The process.
    assert.ok(m.herald_process_open_fds > 0);
    assert.ok(m.herald_process_max_fds >= m.herald_process_open_fds);
    assert.ok(m.herald_process_threads >= 2, 'at least the two workers');
    assert.ok(m.herald_process_cpu_seconds_total > 0);
  } finally {
    if (ws) ws.terminate();
    if (sse) sse.close();
    await h.stop();
    h.cleanup();
  }
});

test('the dead-letter queue size follows dead letters, replays and deletes', async () => {
  let status = 400;
  const rx = http.createServer((req, res) => { req.resume(); req.on('end', () => { res.writeHead(status); res.end(); }); });
  await new Promise((r) => rx.listen(0, '127.0.0.1', r));
  const h = await new Herald({ config: 'webhooks:\n  allow_destinations: ["127.0.0.1/32"]\n' }).start();
  try {
    const sub = await subscribe(h, 'metrics-dlq', `http://127.0.0.1:${rx.address().port}/hook`);
    const gauge = `herald_webhook_dead_letter_queue_size{subscription="${sub.id}",topic="metrics-dlq"}`;
    const total = `herald_webhook_dead_letters_total{subscription="${sub.id}",topic="metrics-dlq"}`;
    for (let i = 0; i < 3; i++) assert.equal((await publish(h.url, 'metrics-dlq', { i })).status, 201);
    await waitFor(async () => (await metrics(h.admin))[gauge] === 3, { what: '3 entries in the DLQ' });
    const dl = await request(`${h.url}/v1/subscriptions/${sub.id}/dead-letters`);
    const [first, second] = dl.json.entries.map((e) => e.id);
    assert.equal((await request(`${h.url}/v1/subscriptions/${sub.id}/dead-letters/${first}`, { method: 'DELETE' })).status, 204);
    status = 200;
    const rp = await request(`${h.url}/v1/subscriptions/${sub.id}/dead-letters/replay`, {
      method: 'POST', headers: { 'Content-Type': 'application/json' }, body: JSON.stringify({ ids: [second] }),
    });
    assert.equal(rp.status, 202, rp.body);
    await waitFor(async () => (await metrics(h.admin))[gauge] === 1, { what: 'one entry left in the DLQ' });
    assert.equal((await metrics(h.admin))[total], 3, 'the counter keeps every dead letter');
  } finally {
    await h.stop();
    h.cleanup();
    rx.closeAllConnections();
    await new Promise((r) => rx.close(r));
  }
});

test('a WebSocket consumer that stops reading is disconnected at the pong timeout and counted as slow', async () => {
  // A ping after 2 s of silence, dropped 500 ms later; the hub ticks every 100 ms (a third of the heartbeat).
  const h = await new Herald({ config: 'sse:\n  heartbeat: 300ms\nwebsocket:\n  ping_interval: 2s\n  pong_timeout: 500ms\n' }).start();
  const slow = 'herald_slow_consumer_disconnects_total{transport="websocket"}';
  const agent = new http.Agent({ keepAlive: true, maxSockets: 4 });
  let ws;
  try {
    // A client that reads but never answers pings is dropped too, and is not a slow consumer.
    const silent = require('node:net').connect(h.port, h.host);
    await new Promise((r) => silent.on('connect', r));
    silent.write('GET /v1/ws HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n' +
      'Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\nSec-WebSocket-Protocol: herald.v1\r\n\r\n');
    silent.on('data', () => {});
    const silentClosed = new Promise((r) => silent.on('close', r));

    ws = new WebSocket(`${h.url.replace('http', 'ws')}/v1/ws`, ['herald.v1']);
    const messages = [];
    ws.on('message', (m) => messages.push(JSON.parse(m.toString())));
    ws.on('error', () => {});
    await new Promise((resolve, reject) => { ws.once('open', resolve); ws.once('error', reject); });
    const wsClosed = new Promise((r) => ws.on('close', r));
    ws.send(JSON.stringify({ op: 'subscribe', id: 's', topic: 'metrics-slow' }));
    await waitFor(() => messages.some((m) => m.op === 'subscribed'), { what: 'the subscription' });
    ws._socket.pause();  // stop reading: the kernel buffers fill and Herald's write stalls

    // 24 MiB, more than loopback's socket buffers hold, well before the ping is due.
    const pad = 'p'.repeat(8 * 1024);
    for (let i = 0; i < 3000; i += 40) {
      const batch = Array.from({ length: 40 }, (_, k) => ({ specversion: '1.0', id: `slow-${i + k}`, source: '/t', type: 'slow.thing.v1', data: { seq: i + k, pad } }));
      const r = await request(`${h.url}/v1/topics/metrics-slow/events`, {
        method: 'POST', headers: { 'Content-Type': 'application/cloudevents-batch+json' }, body: JSON.stringify(batch), agent,
      });
      assert.equal(r.status, 201);
    }
    await Promise.race([silentClosed, sleep(10000).then(() => { throw new Error('the silent client was not dropped'); })]);
    await waitFor(async () => (await metrics(h.admin))[slow] === 1, { timeout: 15000, what: 'one slow-consumer disconnect' });
    await waitFor(async () => (await metrics(h.admin)).herald_websocket_sessions_open === 0, { what: 'both sessions closed' });
    ws._socket.resume();
    await Promise.race([wsClosed, sleep(10000).then(() => { throw new Error('the slow client was not closed'); })]);
    assert.equal((await metrics(h.admin))[slow], 1, 'the silent client that kept reading is not counted');
  } finally {
    if (ws) ws.terminate();
    agent.destroy();
    await h.stop();
    h.cleanup();
  }
});
