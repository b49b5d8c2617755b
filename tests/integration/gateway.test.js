'use strict';
// The REST gateway (docs/gateway.md) on the real binary: routes to small upstream servers on loopback, balancing,
// passive ejection, retries only for idempotent methods, streaming both ways (chunked, SSE), WebSocket tunnels,
// policies, and the problem answers for what cannot be relayed.

const test = require('node:test');
const assert = require('node:assert/strict');
const http = require('node:http');
const net = require('node:net');
const { WebSocketServer, WebSocket } = require('ws');
const { Herald, request, sleep, waitFor, deadline } = require('./lib/herald');

// An upstream: answers with its name, the path and headers it saw, unless `handler` says otherwise.
function upstream(name, handler) {
  const seen = [];
  const server = http.createServer((req, res) => {
    seen.push({ method: req.method, url: req.url, headers: req.headers });
    if (handler && handler(req, res, seen.length) !== undefined) return;
    let body = '';
    req.on('data', (d) => { body += d; });
    req.on('end', () => {
      res.writeHead(200, { 'content-type': 'application/json', 'x-upstream': name });
      res.end(JSON.stringify({ name, method: req.method, url: req.url, headers: req.headers, body }));
    });
  });
  return new Promise((resolve) => server.listen(0, '127.0.0.1', () => {
    resolve({ name, server, seen, port: server.address().port,
      close: () => new Promise((r) => { server.closeAllConnections(); server.close(() => r()); }) });
  }));
}

// A GET whose request-target goes on the wire exactly as given.
function rawGet(base, target) {
  const u = new URL(base);
  return new Promise((resolve, reject) => {
    const req = http.request({ host: u.hostname, port: u.port, path: target, method: 'GET' }, (res) => {
      let body = '';
      res.on('data', (d) => { body += d; });
      res.on('end', () => resolve({ status: res.statusCode, headers: res.headers, body }));
    });
    req.on('error', reject);
    req.end();
  });
}

function config(upstreams, routes, extra = '') {
  let y = 'upstreams:\n';
  for (const [name, u] of Object.entries(upstreams)) {
    y += `  ${name}:\n    targets: [${u.targets.map((p) => `"127.0.0.1:${p}"`).join(', ')}]\n`;
    for (const line of u.extra || []) y += `    ${line}\n`;
  }
  y += 'routes:\n';
  for (const r of routes) y += `  - ${r.split('\n').join('\n    ')}\n`;
  return y + extra;
}

test('routes reach the right pool, rewrite the path and set the forwarding headers', async () => {
  const users = await upstream('users');
  const orders = await upstream('orders');
  const h = new Herald({ config: config(
    { users: { targets: [users.port] }, orders: { targets: [orders.port] } },
    [
      'name: user\nmatch: {path: "/api/users/{id}", methods: [GET, PUT]}\nupstream: users\nrewrite: {path: "/v2/users/{id}"}\nresponse_headers: {add: {Cache-Control: no-store}}',
      'name: orders\nmatch: {prefix: /api/orders/}\nupstream: orders\nrewrite: {strip_prefix: /api}',
    ]) });
  await h.start();
  try {
    const r = await request(`${h.url}/api/users/42?expand=1`, { headers: { 'X-Request-Id': 'req-abc' } });
    assert.equal(r.status, 200);
    const b = JSON.parse(r.body);
    assert.equal(b.name, 'users');
    assert.equal(b.url, '/v2/users/42?expand=1');
    assert.equal(b.headers['x-forwarded-for'], '127.0.0.1');
    assert.equal(b.headers['x-forwarded-proto'], 'http');
    assert.match(b.headers.forwarded, /for=127\.0\.0\.1/);
    assert.equal(b.headers['x-request-id'], 'req-abc');
    assert.match(b.headers.traceparent, /^00-[0-9a-f]{32}-[0-9a-f]{16}-0[01]$/);
    assert.equal(r.headers['cache-control'], 'no-store');
    assert.equal(r.headers['x-request-id'], 'req-abc');

    const o = await request(`${h.url}/api/orders/7`, { method: 'POST', body: '{"qty":1}',
      headers: { 'content-type': 'application/json' } });
    assert.equal(o.status, 200);
    const ob = JSON.parse(o.body);
    assert.equal(ob.name, 'orders');
    assert.equal(ob.url, '/orders/7');
    assert.equal(ob.body, '{"qty":1}');
    assert.match(o.headers['x-request-id'], /^[0-9a-f-]{36}$/);  // generated when absent

    // Method not allowed on the template route; no route at all; Herald's own API is never proxied.
    const m = await request(`${h.url}/api/users/42`, { method: 'DELETE' });
    assert.equal(m.status, 405);
    assert.equal(m.headers.allow, 'GET, HEAD, PUT');
    assert.match(m.headers['content-type'], /problem\+json/);
    const n = await request(`${h.url}/nothing/here`);
    assert.equal(n.status, 404);
    assert.match(n.headers['content-type'], /problem\+json/);
    const t = await request(`${h.url}/v1/topics`);
    assert.equal(t.status, 200);
    // A dot-segment spelling does not escape the route's prefix.
    // (Sent raw: a URL parser would resolve the dots before sending.)
    const esc = await rawGet(h.url, '/api/orders/../../v1/topics');
    assert.equal(esc.status, 404);
    const esc2 = await rawGet(h.url, '/api/orders/%2e%2e/%2e%2e/v1/topics');
    assert.equal(esc2.status, 404);
    // An encoded slash stays inside its segment and is forwarded as such.
    const enc = await rawGet(h.url, '/api/orders/a%2Fb');
    assert.equal(JSON.parse(enc.body).url, '/orders/a%2Fb');
  } finally {
    await h.stop();
    await users.close();
    await orders.close();
  }
});

test('round robin spreads requests and a dead target is ejected while traffic continues', async () => {
  const a = await upstream('a');
  const b = await upstream('b');
  const h = new Herald({ config: config(
    { pool: { targets: [a.port, b.port],
      extra: ['passive_health: {consecutive_failures: 1, base_ejection: 30s}', 'retries: {attempts: 2}'] } },
    ['name: all\nmatch: {prefix: /}\nupstream: pool']) });
  await h.start();
  try {
    const names = [];
    for (let i = 0; i < 10; i++) names.push(JSON.parse((await request(`${h.url}/x`)).body).name);
    assert.equal(names.filter((n) => n === 'a').length, 5);
    assert.equal(names.filter((n) => n === 'b').length, 5);
    await b.close();
    // Every request still succeeds: a connect failure is retried on the other target (GET is idempotent), and b
    // is ejected after its first failure.
    for (let i = 0; i < 10; i++) {
      const r = await request(`${h.url}/y`);
      assert.equal(r.status, 200);
      assert.equal(JSON.parse(r.body).name, 'a');
    }
  } finally {
    await h.stop();
    await a.close();
  }
});

test('retries happen for idempotent methods only; upstream errors are relayed; dead pools answer 502/503', async () => {
  let calls = 0;
  const flaky = await upstream('flaky', (req, res) => {
    calls++;
    if (calls % 2 === 1) { res.writeHead(503, { 'content-type': 'text/plain' }); res.end('busy'); return true; }
    return undefined;
  });
  const h = new Herald({ config: config(
    { flaky: { targets: [flaky.port], extra: ['passive_health: {consecutive_failures: 0}', 'retries: {attempts: 1}'] },
      dead: { targets: [1], extra: ['passive_health: {consecutive_failures: 0}', 'retries: {attempts: 0}'] } },
    ['name: flaky\nmatch: {prefix: /f/}\nupstream: flaky', 'name: dead\nmatch: {prefix: /d/}\nupstream: dead']) });
  await h.start();
  try {
    calls = 0;
    const g = await request(`${h.url}/f/1`);
    assert.equal(g.status, 200);  // 503 then a retry that succeeds
    assert.equal(calls, 2);
    calls = 0;
    const p = await request(`${h.url}/f/2`, { method: 'POST', body: 'x' });
    assert.equal(p.status, 503);  // POST is not retried: the upstream's own 503 comes back as it is
    assert.equal(p.body, 'busy');
    assert.equal(calls, 1);
    const d = await request(`${h.url}/d/1`);
    assert.equal(d.status, 502);
    assert.match(d.headers['content-type'], /problem\+json/);
    assert.match(JSON.parse(d.body).detail, /upstream dead/);
  } finally {
    await h.stop();
    await flaky.close();
  }
});

test('a slow upstream gets 504 after the read timeout', async () => {
  const slow = await upstream('slow', () => true);  // never answers
  const h = new Herald({ config: config(
    { slow: { targets: [slow.port], extra: ['timeouts: {read: 300ms}', 'retries: {attempts: 0}'] } },
    ['name: slow\nmatch: {prefix: /}\nupstream: slow']) });
  await h.start();
  try {
    const t0 = Date.now();
    const r = await request(`${h.url}/s`);
    assert.equal(r.status, 504);
    assert.ok(Date.now() - t0 < 3000);
    assert.equal(JSON.parse(r.body).type, 'urn:herald:problem:upstream-timeout');
  } finally {
    await h.stop();
    await slow.close();
  }
});

test('chunked and SSE responses stream through unbuffered; a large upload streams up', async () => {
  let release;
  const gate = new Promise((r) => { release = r; });
  const up = await upstream('s', (req, res) => {
    if (req.url === '/sse') {
      res.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-cache' });
      res.write('data: one\n\n');
      gate.then(() => { res.write('data: two\n\n'); res.end(); });
      return true;
    }
    if (req.url === '/upload') {
      let n = 0;
      req.on('data', (d) => { n += d.length; });
      req.on('end', () => { res.writeHead(200); res.end(String(n)); });
      return true;
    }
    return undefined;
  });
  const h = new Herald({ config: config({ s: { targets: [up.port] } }, [
    'name: up\nmatch: {prefix: /upload}\nupstream: s\npolicy: {body_limit: 8MiB}',
    'name: s\nmatch: {prefix: /}\nupstream: s']) });
  await h.start();
  try {
    const first = await new Promise((resolve, reject) => {
      const req = http.get(`${h.url}/sse`, (res) => {
        assert.equal(res.headers['content-type'], 'text/event-stream');
        let text = '';
        res.on('data', (d) => {
          text += d;
          if (text.includes('data: one')) resolve({ res, get: () => text });
        });
        res.on('error', reject);
      });
      req.on('error', reject);
    });
    // "one" arrived while the upstream still holds the stream open: nothing waited for the end.
    release();
    await waitFor(() => first.get().includes('data: two'), { what: 'second event' });

    // 5 MiB chunked upload: past the replay buffer and past http.body_limit (4 MiB), within the route's limit.
    const size = 5 * 1024 * 1024;
    const got = await new Promise((resolve, reject) => {
      const req = http.request(`${h.url}/upload`, { method: 'PUT', headers: { 'transfer-encoding': 'chunked' } }, (res) => {
        let b = '';
        res.on('data', (d) => { b += d; });
        res.on('end', () => resolve({ status: res.statusCode, body: b }));
      });
      req.on('error', reject);
      const chunk = Buffer.alloc(64 * 1024, 'x');
      for (let i = 0; i < size / chunk.length; i++) req.write(chunk);
      req.end();
    });
    assert.equal(got.status, 200);
    assert.equal(Number(got.body), size);
    // Past the route's limit: 413, mid-stream.
    const over = await new Promise((resolve) => {
      const req = http.request(`${h.url}/upload`, { method: 'PUT', headers: { 'transfer-encoding': 'chunked' } }, (res) => {
        res.resume();
        res.on('end', () => resolve(res.statusCode));
      });
      req.on('error', () => resolve('reset'));
      const chunk = Buffer.alloc(64 * 1024, 'x');
      let i = 0;
      const pump = () => { while (i < 160 && req.write(chunk)) i++; if (i < 160) req.once('drain', () => { i++; pump(); }); else req.end(); };
      pump();
    });
    assert.ok(over === 413 || over === 'reset', `got ${over}`);
  } finally {
    await h.stop();
    await up.close();
  }
});

test('a WebSocket upgrade is tunnelled to the upstream and echoes', async () => {
  const server = http.createServer();
  const wss = new WebSocketServer({ server });
  wss.on('connection', (ws) => ws.on('message', (m) => ws.send(`echo:${m}`)));
  await new Promise((r) => server.listen(0, '127.0.0.1', r));
  const port = server.address().port;
  const h = new Herald({ config: config({ ws: { targets: [port] } }, ['name: ws\nmatch: {prefix: /chat}\nupstream: ws']) });
  await h.start();
  try {
    const ws = new WebSocket(`${h.url.replace('http', 'ws')}/chat`);
    await new Promise((resolve, reject) => { ws.on('open', resolve); ws.on('error', reject); });
    const reply = new Promise((resolve) => ws.once('message', (m) => resolve(m.toString())));
    ws.send('hello');
    assert.equal(await Promise.race([reply, deadline(5000)]), 'echo:hello');
    ws.close();
  } finally {
    await h.stop();
    wss.close();
    server.closeAllConnections();
    server.close();
  }
});

test('route policies: auth required, scopes, rate limit, public routes', async () => {
  const up = await upstream('p');
  const key = 'k_test_0123456789abcdef';
  const h = new Herald({ config: config({ p: { targets: [up.port] } }, [
    'name: private\nmatch: {prefix: /private/}\nupstream: p\npolicy: {auth: required, scopes: ["subscribe:users"], rate_limit: {rate: 1, burst: 2}}',
    'name: public\nmatch: {prefix: /public/}\nupstream: p\npolicy: {auth: none}',
  ], `auth:\n  enabled: true\n  api_keys:\n    - {name: reader, key: ${key}, scopes: ["subscribe:users"]}\n    - {name: other, key: ${key}x, scopes: ["publish:orders"]}\n`) });
  await h.start();
  try {
    assert.equal((await request(`${h.url}/public/a`)).status, 200);
    const anon = await request(`${h.url}/private/a`);
    assert.equal(anon.status, 401);
    assert.match(anon.headers['www-authenticate'], /Bearer/);
    const other = await request(`${h.url}/private/a`, { headers: { 'X-API-Key': `${key}x` } });
    assert.equal(other.status, 403);
    const statuses = [];
    for (let i = 0; i < 4; i++)
      statuses.push((await request(`${h.url}/private/a`, { headers: { 'X-API-Key': key } })).status);
    assert.deepEqual(statuses.slice(0, 2), [200, 200]);
    assert.ok(statuses.slice(2).includes(429));
    // The credential never reaches the upstream's logs through Herald's own access decisions; it is forwarded
    // as the client sent it (the upstream may need it), so only check the request arrived.
    assert.ok(up.seen.some((s) => s.url === '/private/a'));
  } finally {
    await h.stop();
    await up.close();
  }
});

test('active health checks take a failing target out and re-admit it when it recovers', async () => {
  let healthy = { a: true, b: true };
  const mk = (name) => upstream(name, (req, res) => {
    if (req.url === '/healthz') { res.writeHead(healthy[name] ? 200 : 503); res.end(); return true; }
    return undefined;
  });
  const a = await mk('a');
  const b = await mk('b');
  const h = new Herald({ config: config(
    { pool: { targets: [a.port, b.port], extra: [
      'health_check: {path: /healthz, interval: 100ms, timeout: 80ms, healthy_threshold: 2, unhealthy_threshold: 2}',
      'passive_health: {consecutive_failures: 0}'] } },
    ['name: all\nmatch: {prefix: /}\nupstream: pool']) });
  await h.start();
  const served = async (n) => {
    const names = [];
    for (let i = 0; i < n; i++) names.push(JSON.parse((await request(`${h.url}/x`)).body).name);
    return names;
  };
  try {
    healthy.b = false;
    await waitFor(async () => (await served(6)).every((n) => n === 'a'), { timeout: 5000, what: 'b taken out' });
    const m = await request(`${h.admin}/metrics`);
    assert.match(m.body, /herald_proxy_upstream_targets\{upstream="pool",state="unhealthy"\} 1/);
    healthy.b = true;
    await waitFor(async () => (await served(6)).includes('b'), { timeout: 5000, what: 'b re-admitted' });
    // The probes went to the health path, not to the clients' paths.
    assert.ok(b.seen.some((s) => s.url === '/healthz' && s.headers['user-agent'] === 'Herald-HealthCheck/1'));
  } finally {
    await h.stop();
    await a.close();
    await b.close();
  }
});

test('admin API: routes and upstreams created, changed and deleted without restart; the file wins; they persist', async () => {
  const one = await upstream('one');
  const two = await upstream('two');
  const h = new Herald({ config: config({ one: { targets: [one.port] } }, ['name: base\nmatch: {prefix: /base/}\nupstream: one']) });
  await h.start();
  const put = (path, body) => request(`${h.admin}${path}`, { method: 'PUT', body: JSON.stringify(body),
    headers: { 'content-type': 'application/json' } });
  try {
    assert.equal((await request(`${h.url}/extra/1`)).status, 404);
    let r = await put('/admin/upstreams/two', { targets: [`127.0.0.1:${two.port}`] });
    assert.equal(r.status, 201, r.body);
    r = await put('/admin/routes/extra', { match: { prefix: '/extra/' }, upstream: 'two', rewrite: { strip_prefix: '/extra' } });
    assert.equal(r.status, 201, r.body);
    const via = await request(`${h.url}/extra/1`);
    assert.equal(via.status, 200);
    assert.equal(JSON.parse(via.body).name, 'two');
    assert.equal(JSON.parse(via.body).url, '/1');
    // Replace: now to upstream one.
    r = await put('/admin/routes/extra', { match: { prefix: '/extra/' }, upstream: 'one' });
    assert.equal(r.status, 200);
    assert.equal(JSON.parse((await request(`${h.url}/extra/1`)).body).name, 'one');
    // Validation is the file's, with the key path.
    r = await put('/admin/routes/bad', { match: { prefix: '/bad/' }, upstream: 'nowhere' });
    assert.equal(r.status, 400);
    assert.match(JSON.parse(r.body).detail, /route\.upstream.*no upstream named "nowhere"/);
    r = await put('/admin/upstreams/broken', { targets: ['127.0.0.1:0'] });
    assert.equal(r.status, 400);
    // The file's entries are not the API's to change.
    r = await put('/admin/routes/base', { match: { prefix: '/x/' }, upstream: 'one' });
    assert.equal(r.status, 409);
    r = await request(`${h.admin}/admin/upstreams/one`, { method: 'DELETE' });
    assert.equal(r.status, 409);
    // An upstream in use cannot go.
    r = await put('/admin/routes/extra', { match: { prefix: '/extra/' }, upstream: 'two' });
    r = await request(`${h.admin}/admin/upstreams/two`, { method: 'DELETE' });
    assert.equal(r.status, 409);
    // Listed with their sources, and in the config dump.
    const list = JSON.parse((await request(`${h.admin}/admin/routes`)).body).routes;
    assert.deepEqual(list.map((x) => [x.name, x.source]), [['base', 'config'], ['extra', 'admin']]);
    const dump = JSON.parse((await request(`${h.admin}/config`)).body);
    assert.ok(dump.gateway.upstreams.some((u) => u.name === 'two' && u.source === 'admin'));
    const ups = JSON.parse((await request(`${h.admin}/admin/upstreams/two`)).body);
    assert.equal(ups.targets[0].target, `127.0.0.1:${two.port}`);
    // They survive a restart.
    await h.stop();
    await h.start();
    assert.equal(JSON.parse((await request(`${h.url}/extra/9`)).body).name, 'two');
    r = await request(`${h.admin}/admin/routes/extra`, { method: 'DELETE' });
    assert.equal(r.status, 204);
    assert.equal((await request(`${h.url}/extra/9`)).status, 404);
    r = await request(`${h.admin}/admin/upstreams/two`, { method: 'DELETE' });
    assert.equal(r.status, 204);
  } finally {
    await h.stop();
    await one.close();
    await two.close();
  }
});

test('SIGHUP swaps a changed route while a proxied SSE stream and a long upload stay connected; a broken file is refused', async () => {
  const one = await upstream('one', (req, res) => {
    if (req.url === '/stream') {
      res.writeHead(200, { 'content-type': 'text/event-stream' });
      res.write('data: hello\n\n');
      const t = setInterval(() => res.write('data: tick\n\n'), 100);
      res.on('close', () => clearInterval(t));
      return true;
    }
    if (req.url === '/upload') {
      let n = 0;
      req.on('data', (d) => { n += d.length; });
      req.on('end', () => { res.writeHead(200); res.end(String(n)); });
      return true;
    }
    return undefined;
  });
  const two = await upstream('two');
  const ups = { one: { targets: [one.port] }, two: { targets: [two.port] } };
  const h = new Herald({ config: config(ups, ['name: api\nmatch: {prefix: /api/}\nupstream: one\nrewrite: {strip_prefix: /api}']) });
  await h.start();
  const fs = require('node:fs');
  const path = require('node:path');
  try {
    assert.equal(JSON.parse((await request(`${h.url}/api/x`)).body).name, 'one');
    // An SSE stream through the gateway, and an upload that is still sending.
    let ticks = 0;
    const stream = http.get(`${h.url}/api/stream`, (res) => res.on('data', () => { ticks++; }));
    const upload = http.request(`${h.url}/api/upload`, { method: 'PUT', headers: { 'transfer-encoding': 'chunked' } });
    const uploaded = new Promise((resolve, reject) => {
      upload.on('response', (res) => { let b = ''; res.on('data', (d) => { b += d; }); res.on('end', () => resolve(b)); });
      upload.on('error', reject);
    });
    upload.write(Buffer.alloc(1000, 'a'));
    await waitFor(() => ticks > 2, { what: 'stream ticks' });

    fs.writeFileSync(path.join(h.dir, 'herald.yaml'),
      config(ups, ['name: api\nmatch: {prefix: /api/}\nupstream: two\nrewrite: {strip_prefix: /api}']));
    h.proc.kill('SIGHUP');
    await waitFor(async () => JSON.parse((await request(`${h.url}/api/x`)).body).name === 'two', { what: 'new route' });
    const before = ticks;
    await waitFor(() => ticks > before + 2, { what: 'the stream kept flowing' });
    upload.end(Buffer.alloc(1000, 'b'));
    assert.equal(await uploaded, '2000');
    stream.destroy();

    // A broken file: refused, with the reason, and the running routes are unchanged.
    fs.writeFileSync(path.join(h.dir, 'herald.yaml'), config(ups, ['name: api\nmatch: {prefix: /api/}\nupstream: nowhere']));
    const r = await request(`${h.admin}/admin/reload`, { method: 'POST' });
    assert.equal(r.status, 400);
    assert.match(JSON.parse(r.body).detail, /no upstream named "nowhere".*unchanged/);
    h.proc.kill('SIGHUP');
    await waitFor(() => /configuration reload refused/.test(h.stderr), { what: 'refusal logged' });
    assert.equal(JSON.parse((await request(`${h.url}/api/x`)).body).name, 'two');
  } finally {
    await h.stop();
    await one.close();
    await two.close();
  }
});

// An upstream that closes idle keep-alive connections quickly (100 ms, where servers usually take seconds): the
// pool's check before reuse finds each one closed, and every request goes on a fresh connection — once, and
// never answered 502.
test('connections the upstream closed while pooled are replaced without an error or a repeated request', async () => {
  // A raw upstream that answers keep-alive and closes each connection 100 ms after its answer.
  const seen = [];
  const server = net.createServer((sock) => {
    let buf = Buffer.alloc(0);
    sock.on('data', (d) => {
      buf = Buffer.concat([buf, d]);
      for (;;) {
        const end = buf.indexOf('\r\n\r\n');
        if (end < 0) return;
        const head = buf.subarray(0, end).toString();
        const len = Number((/content-length: *(\d+)/i.exec(head) || [0, 0])[1]);
        if (buf.length < end + 4 + len) return;
        const body = buf.subarray(end + 4, end + 4 + len).toString();
        buf = buf.subarray(end + 4 + len);
        const url = head.split(' ')[1];
        seen.push(url);
        const out = JSON.stringify({ url, body });
        sock.write(`HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: ${Buffer.byteLength(out)}\r\n\r\n${out}`);
        setTimeout(() => sock.destroy(), 100);  // a full close, as servers do on their keep-alive timer
      }
    });
    sock.on('error', () => {});
  });
  await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
  const h = new Herald({ config: config({ k: { targets: [server.address().port] } }, ['name: k\nmatch: {prefix: /k/}\nupstream: k']) });
  await h.start();
  try {
    for (let i = 0; i < 6; i++) {
      const method = i % 2 ? 'POST' : 'GET';
      const r = await request(`${h.url}/k/${i}`, method === 'POST'
        ? { method, headers: { 'content-type': 'application/json', 'content-length': String(JSON.stringify({ i }).length) },
          body: JSON.stringify({ i }) }
        : { method });
      assert.equal(r.status, 200, r.body);
      assert.equal(JSON.parse(r.body).url, `/k/${i}`);
      if (method === 'POST') assert.equal(JSON.parse(r.body).body, JSON.stringify({ i }));
      await sleep(300);  // the upstream has closed the connection by now
    }
    assert.deepEqual(seen, [0, 1, 2, 3, 4, 5].map((i) => `/k/${i}`), 'each request reached the upstream once');
    const m = (await request(`${h.admin}/metrics`)).body;
    const proxy = m.split('\n').filter((l) => l.startsWith('herald_proxy')).join('\n');
    assert.match(m, /^herald_proxy_responses_total\{class="2xx"\} 6$/m, proxy);
    assert.doesNotMatch(m, /^herald_proxy_errors_total\{[^}]*\} [1-9]/m, proxy);
    // None of the closed connections was used: each request opened its own.
    assert.match(m, /^herald_proxy_upstream_connections_reused_total 0$/m, proxy);
    assert.match(m, /^herald_proxy_upstream_connections_opened_total 6$/m, proxy);
  } finally {
    await h.stop();
    await new Promise((r) => server.close(() => r()));
  }
});

test('proxy metrics count requests, answers, errors and latency', async () => {
  const up = await upstream('m');
  const h = new Herald({ config: config({ m: { targets: [up.port] }, dead: { targets: [1], extra: ['retries: {attempts: 0}'] } },
    ['name: m\nmatch: {prefix: /m/}\nupstream: m', 'name: d\nmatch: {prefix: /d/}\nupstream: dead']) });
  await h.start();
  try {
    for (let i = 0; i < 3; i++) assert.equal((await request(`${h.url}/m/${i}`)).status, 200);
    assert.equal((await request(`${h.url}/d/1`)).status, 502);
    const m = (await request(`${h.admin}/metrics`)).body;
    assert.match(m, /^herald_proxy_requests_total 4$/m);
    assert.match(m, /^herald_proxy_responses_total\{class="2xx"\} 3$/m);
    assert.match(m, /^herald_proxy_responses_total\{class="5xx"\} 1$/m);
    assert.match(m, /^herald_proxy_errors_total\{kind="upstream-unreachable"\} 1$/m);
    assert.match(m, /^herald_proxy_upstream_latency_seconds_count 3$/m);
    assert.match(m, /^herald_proxy_upstream_connections_reused_total 2$/m);
  } finally {
    await h.stop();
    await up.close();
  }
});

test('the OpenAPI document lists the REST routes next to the event API', async () => {
  const up = await upstream('u');
  const h = new Herald({ config: config({ u: { targets: [up.port] } }, [
    'name: user\ndescription: Read or replace a user\nmatch: {path: "/api/users/{id}", methods: [GET, PUT]}\nupstream: u',
    'name: orders\nmatch: {prefix: /api/orders/}\nupstream: u\npolicy: {rate_limit: {rate: 5}}',
  ]) });
  await h.start();
  try {
    const doc = JSON.parse((await request(`${h.url}/openapi.json`)).body);
    const user = doc.paths['/api/users/{id}'];
    assert.deepEqual(Object.keys(user).filter((k) => k !== 'parameters').sort(), ['get', 'put']);
    assert.equal(user.get.summary, 'Read or replace a user');
    assert.deepEqual(user.get.tags, ['routes']);
    assert.equal(user.parameters[0].name, 'id');
    const orders = doc.paths['/api/orders/{path}'];
    assert.ok(orders.post && orders.delete);
    assert.ok(orders.get.responses['429'] && orders.get.responses['502'] && orders.get.responses['504']);
    assert.ok(doc.paths['/v1/topics/{topic}/events']);  // Herald's own API is still there
    // The official validator accepts it, routes included.
    const OpenAPIParser = require('@readme/openapi-parser');
    const file = require('node:path').join(h.dir, 'openapi.json');
    require('node:fs').writeFileSync(file, JSON.stringify(doc));
    const v = await OpenAPIParser.validate(file);
    assert.notEqual(v.valid, false, JSON.stringify(v.errors));
    // Every operationId is unique.
    const ids = Object.values(doc.paths).flatMap((p) => Object.values(p).filter((o) => o.operationId).map((o) => o.operationId));
    assert.equal(new Set(ids).size, ids.length);
  } finally {
    await h.stop();
    await up.close();
  }
});

// A test CA and a server certificate for "localhost" and 127.0.0.1, made with the openssl CLI.
function makeCertificates(dir) {
  const { execFileSync } = require('node:child_process');
  const p = (f) => require('node:path').join(dir, f);
  const run = (args) => execFileSync('openssl', args, { stdio: 'pipe' });
  run(['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes', '-days', '2',
    '-subj', '/CN=Herald test CA', '-keyout', p('ca.key'), '-out', p('ca.pem')]);
  run(['req', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes', '-subj', '/CN=localhost',
    '-keyout', p('server.key'), '-out', p('server.csr')]);
  require('node:fs').writeFileSync(p('ext.cnf'), 'subjectAltName=DNS:localhost,IP:127.0.0.1\n');
  run(['x509', '-req', '-in', p('server.csr'), '-CA', p('ca.pem'), '-CAkey', p('ca.key'), '-CAcreateserial',
    '-days', '2', '-extfile', p('ext.cnf'), '-out', p('server.pem')]);
  return { ca: p('ca.pem'), cert: p('server.pem'), key: p('server.key') };
}

test('upstream TLS: verified against the configured CA and host name; a wrong name or CA is refused', async () => {
  const fs = require('node:fs');
  const https = require('node:https');
  const dir = fs.mkdtempSync(require('node:path').join(require('node:os').tmpdir(), 'herald-tls-'));
  const certs = makeCertificates(dir);
  const server = https.createServer({ cert: fs.readFileSync(certs.cert), key: fs.readFileSync(certs.key) }, (req, res) => {
    res.writeHead(200, { 'content-type': 'application/json' });
    res.end(JSON.stringify({ tls: true, url: req.url }));
  });
  await new Promise((r) => server.listen(0, '127.0.0.1', r));
  const port = server.address().port;
  // The system store does not know the test CA: that upstream must be refused.
  const h = new Herald({ config: config({
    good: { targets: [port], extra: [`tls: {server_name: localhost, ca_file: "${certs.ca}"}`, 'retries: {attempts: 0}'] },
    badname: { targets: [port], extra: [`tls: {server_name: elsewhere.example, ca_file: "${certs.ca}"}`, 'retries: {attempts: 0}'] },
    noca: { targets: [port], extra: ['tls: {server_name: localhost}', 'retries: {attempts: 0}'] },
  }, ['name: good\nmatch: {prefix: /good/}\nupstream: good',
      'name: badname\nmatch: {prefix: /badname/}\nupstream: badname',
      'name: noca\nmatch: {prefix: /noca/}\nupstream: noca']) });
  await h.start();
  try {
    const ok = await request(`${h.url}/good/1`);
    assert.equal(ok.status, 200);
    assert.deepEqual(JSON.parse(ok.body), { tls: true, url: '/good/1' });
    // Kept alive: a second request reuses the TLS connection.
    assert.equal((await request(`${h.url}/good/2`)).status, 200);
    const wrongName = await request(`${h.url}/badname/1`);
    assert.equal(wrongName.status, 502);
    assert.match(JSON.parse(wrongName.body).detail, /TLS handshake/);
    const unknownCa = await request(`${h.url}/noca/1`);
    assert.equal(unknownCa.status, 502);
  } finally {
    await h.stop();
    server.close();
  }
});
