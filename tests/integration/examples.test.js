'use strict';
// examples/orders on the real binary (examples/README.md): Herald starts with the example's herald.yaml (ports and
// data directory from the test), the route reaches upstream.js, the `orders` topic validates events against the
// example's schema, setup.sh creates the webhook subscription and webhook-receiver.js verifies the deliveries.
const test = require('node:test');
const assert = require('node:assert/strict');
const fs = require('node:fs');
const net = require('node:net');
const path = require('node:path');
const { spawn, execFile } = require('node:child_process');
const { Herald, request, waitFor } = require('./lib/herald');

const ROOT = path.resolve(__dirname, '../..');
const EXAMPLE = path.join(ROOT, 'examples/orders');
// The demo keys printed in examples/README.md (their hashes are in herald.yaml).
const CLIENT_KEY = 'hk_demo_client_key_0000000000000000000000000';
const ADMIN = { Authorization: 'Bearer demo-admin-token' };
const CLIENT = { Authorization: `Bearer ${CLIENT_KEY}` };

function freePort() {
  return new Promise((resolve, reject) => {
    const s = net.createServer();
    s.listen(0, '127.0.0.1', () => { const { port } = s.address(); s.close(() => resolve(port)); });
    s.on('error', reject);
  });
}

// Starts one of the example's Node programs; resolves once it printed its address.
function startScript(file, env) {
  const proc = spawn(process.execPath, [path.join(EXAMPLE, file)], { env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  proc.stdout.on('data', (d) => { out += d; });
  proc.stderr.on('data', (d) => { out += d; });
  const ready = waitFor(() => /http:\/\/127\.0\.0\.1:(\d+)/.exec(out), { timeout: 10000, what: `${file} to listen` });
  return ready.then((m) => ({ proc, port: Number(m[1]), output: () => out }));
}

function sh(script, env) {
  return new Promise((resolve) => {
    execFile('bash', [script], { env: { ...process.env, ...env }, timeout: 30000 }, (err, stdout, stderr) =>
      resolve({ code: err ? (err.code ?? 1) : 0, stdout, stderr }));
  });
}

let h, upstream, receiver;
test.before(async () => {
  const upstreamPort = await freePort();
  const config = fs.readFileSync(path.join(EXAMPLE, 'herald.yaml'), 'utf8');
  assert.match(config, /127\.0\.0\.1:9000/, 'the example routes to the orders service on 127.0.0.1:9000');
  h = await new Herald({
    config: config.replace('127.0.0.1:9000', `127.0.0.1:${upstreamPort}`),
    env: { HERALD_EXAMPLE_DIR: EXAMPLE },
  }).start();
  upstream = await startScript('upstream.js', { PORT: String(upstreamPort), HERALD_URL: h.url });
  receiver = await startScript('webhook-receiver.js', { PORT: '0' });
});
test.after(async () => {
  for (const p of [upstream, receiver]) if (p) p.proc.kill('SIGTERM');
  if (h) { await h.stop(); h.cleanup(); }
});

test('Herald loads the example: the orders topic, its schema, the keys and the route', async () => {
  assert.equal((await request(`${h.admin}/readyz`)).status, 200);
  const topic = await request(`${h.admin}/admin/topics/orders`, { headers: ADMIN });
  assert.equal(topic.status, 200, topic.body);
  assert.equal(topic.json.source, 'config');
  assert.equal(topic.json.settings.fsync, 'always');
  assert.deepEqual(topic.json.settings.accepted_types, ['shop.order*']);
  assert.equal(topic.json.settings.allow_unknown_types, false);
  const schema = await request(`${h.admin}/schemas/shop.orderPlaced.v1`, { headers: ADMIN });
  assert.equal(schema.status, 200, schema.body);
  const route = await request(`${h.admin}/admin/routes/orders-api`, { headers: ADMIN });
  assert.equal(route.status, 200, route.body);
  assert.equal(route.json.source, 'config');
  const config = await request(`${h.admin}/config`, { headers: ADMIN });
  assert.deepEqual(config.json.api_keys.map((k) => k.name), ['demo-client', 'orders-service']);
  // auto_create is off: only the declared topic exists; the demo key may publish to it only.
  const topics = await request(`${h.admin}/admin/topics`, { headers: ADMIN });
  assert.deepEqual(topics.json.topics.map((t) => t.name), ['orders']);
  const other = await request(`${h.url}/v1/topics/nope/events`, {
    method: 'POST', headers: { 'Content-Type': 'application/json', ...CLIENT }, body: '{}',
  });
  assert.equal(other.status, 403, other.body);
});

test('an order placed through the route becomes an event, delivered to the webhook receiver', async () => {
  const setup = await sh(path.join(EXAMPLE, 'setup.sh'), {
    HERALD_URL: h.url, RECEIVER_URL: `http://127.0.0.1:${receiver.port}/hooks/orders`,
  });
  assert.equal(setup.code, 0, setup.stdout + setup.stderr);
  assert.match(setup.stdout, /"topic":"orders"/);
  const again = await sh(path.join(EXAMPLE, 'setup.sh'), {
    HERALD_URL: h.url, RECEIVER_URL: `http://127.0.0.1:${receiver.port}/hooks/orders`,
  });
  assert.equal(again.code, 0, again.stderr);
  assert.match(again.stdout, /exists already/);

  const order = { customerId: 'c_42', currency: 'EUR', lines: [{ sku: 'MUG-1', quantity: 2, unitPrice: 9.5 }] };
  const anonymous = await request(`${h.url}/api/orders/`, {
    method: 'POST', headers: { 'Content-Type': 'application/json' }, body: JSON.stringify(order),
  });
  assert.equal(anonymous.status, 401, 'the route requires a key');
  const placed = await request(`${h.url}/api/orders/`, {
    method: 'POST', headers: { 'Content-Type': 'application/json', ...CLIENT }, body: JSON.stringify(order),
  });
  assert.equal(placed.status, 201, placed.body + upstream.output());
  assert.equal(placed.json.order.total, 19);
  const id = placed.json.order.orderId;
  const fetched = await request(`${h.url}/api/orders/${id}`, { headers: CLIENT });
  assert.equal(fetched.status, 200, fetched.body);
  assert.equal(fetched.json.orderId, id);

  const page = await request(`${h.url}/v1/topics/orders/events?from=earliest`, { headers: CLIENT });
  assert.equal(page.status, 200, page.body);
  const event = page.json.events.find((e) => e.subject === id);
  assert.ok(event, page.body);
  assert.equal(event.type, 'shop.orderPlaced.v1');
  assert.match(event.dataschema, /shop\.orderPlaced\.v1/);

  const deliveries = await waitFor(async () => {
    const r = await request(`http://127.0.0.1:${receiver.port}/deliveries`);
    return r.json.deliveries.find((d) => d.subject === id);
  }, { timeout: 10000, what: 'the webhook delivery' });
  assert.equal(deliveries.type, 'shop.orderPlaced.v1');
  assert.doesNotMatch(receiver.output(), /refused a delivery/);
});

test('the topic refuses events that break the example schema', async () => {
  const bad = await request(`${h.url}/v1/topics/orders/events`, {
    method: 'POST', headers: { 'Content-Type': 'application/json', ...CLIENT },
    body: JSON.stringify({ orderId: 'not-an-order-id', customerId: 'c', lines: [], total: -1, currency: 'eu' }),
  });
  assert.equal(bad.status, 422, bad.body);
  assert.equal(bad.json.attribute, 'data');
  const otherType = await request(`${h.url}/v1/topics/orders/events?type=billing.invoicePaid.v1`, {
    method: 'POST', headers: { 'Content-Type': 'application/json', ...CLIENT }, body: '{}',
  });
  assert.equal(otherType.status, 422, otherType.body);
});

test('make run EXAMPLE=orders starts Herald with the example configuration', async () => {
  const out = await new Promise((resolve) => {
    execFile('make', ['-n', '-C', ROOT, 'run', 'EXAMPLE=orders'], { timeout: 30000 }, (err, stdout, stderr) =>
      resolve({ code: err ? (err.code ?? 1) : 0, stdout, stderr }));
  });
  assert.equal(out.code, 0, out.stderr);
  assert.match(out.stdout, /herald serve --config examples\/orders\/herald\.yaml/);
});
