'use strict';
// Webhooks: the SSRF guard (loopback refused unless allow-listed) and kill -9 with a backlog (every event is
// delivered at least once after the restart).
const test = require('node:test');
const assert = require('node:assert/strict');
const http = require('node:http');
const { Herald, request, publish, waitFor, sleep } = require('./lib/herald');

test('without an allow-list, loopback and private destinations are refused at creation', async () => {
  const h = await new Herald().start();
  try {
    for (const url of ['http://127.0.0.1:9/x', 'http://[::1]:9/x', 'http://10.1.2.3/x', 'http://169.254.169.254/latest', 'http://[::ffff:127.0.0.1]:9/x', 'http://localhost:9/x']) {
      const r = await request(`${h.url}/v1/subscriptions`, { method: 'POST', headers: { 'Content-Type': 'application/json' }, body: JSON.stringify({ topic: 'ssrf', url }) });
      assert.equal(r.status, 400, `${url}: ${r.body}`);
      assert.equal(r.json.attribute, 'url');
      assert.match(r.json.detail, /block|refus|not allowed/i, r.body);
    }
  } finally { await h.stop(); h.cleanup(); }
});

test('kill -9 with a backlog: after the restart every event is delivered at least once', async () => {
  const got = new Set();
  let slow = true;
  const server = http.createServer((req, res) => {
    const chunks = [];
    req.on('data', (c) => chunks.push(c));
    req.on('end', () => {
      const ev = JSON.parse(Buffer.concat(chunks).toString('utf8'));
      const answer = () => { got.add(ev.data.seq); res.writeHead(200); res.end(); };
      if (slow) setTimeout(answer, 20); else answer();
    });
  });
  await new Promise((r) => server.listen(0, '127.0.0.1', r));
  const url = `http://127.0.0.1:${server.address().port}/hook`;
  const config = 'webhooks:\n  allow_destinations: ["127.0.0.1/32"]\n  retry_schedule: [50ms]\n';
  const h = await new Herald({ config }).start();
  const dataDir = h.dataDir;
  let h2;
  try {
    const r = await request(`${h.url}/v1/subscriptions`, { method: 'POST', headers: { 'Content-Type': 'application/json' }, body: JSON.stringify({ topic: 'crash', url, retry: { schedule: Array(20).fill('50ms') } }) });
    assert.equal(r.status, 201, r.body);
    const N = 200;
    for (let i = 0; i < N; i++) assert.equal((await publish(h.url, 'crash', { seq: i })).status, 201);
    await waitFor(() => got.size >= 20, { what: 'some deliveries before the crash' });
    await h.kill9();
    const before = got.size;
    assert.ok(before < N, 'the crash happened with a backlog');
    slow = false;
    h2 = await new Herald({ config, dataDir }).start();
    await waitFor(() => got.size >= N, { timeout: 20000, what: `all ${N} events after restart (had ${before})` });
    for (let i = 0; i < N; i++) assert.ok(got.has(i), `event ${i} delivered`);
    const g = await request(`${h2.url}/v1/subscriptions/${r.json.id}`);
    assert.equal(g.status, 200, 'the subscription survived the crash');
  } finally {
    if (h2) { await h2.stop(); h2.cleanup(); }
    h.cleanup();
    server.closeAllConnections();
    server.close();
  }
});
